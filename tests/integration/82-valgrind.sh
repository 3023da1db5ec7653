#!/usr/bin/env bash
# valgrind memcheck over each responder's native bootstrap for every one of
# its sample events (events/<name>/*.json), against fakeaws seeded with the
# responder's main-scenario world: zero errors and zero definite/indirect
# leaks (--errors-for-leak-kinds=definite,indirect --error-exitcode=99).
# "Still reachable" (curl/OpenSSL globals, the process-lifetime handler
# state) does not count.
# One process per responder serves all its events in a row, as a warm
# sandbox would (tests/fuzz/scenarios.py run_many; the fake is reseeded
# before each), then exits, so valgrind starts once per responder and its
# exit-time leak check still sees what any invocation leaked (unreachable by
# then). The emulator's --wrapper would not do: it SIGKILLs sandboxes, which
# skips that check. Every event must get an answer.
set -uo pipefail
cd "$(dirname "$0")/../.."
if ! command -v valgrind >/dev/null; then
	echo "82-valgrind: valgrind missing (make deps)"; echo "0 passed, 1 failed"; exit 1
fi
make --no-print-directory all >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
exec /usr/bin/python3 - <<'PY'
import concurrent.futures as cf
import os, re, sys
sys.path.insert(0, "tests/fuzz")
import scenarios
import fbtest

VG = ["valgrind", "--tool=memcheck", "--leak-check=full", "--show-leak-kinds=definite,indirect",
      "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99", "--track-origins=no",
      "--num-callers=30", "--quiet"]
jobs = [(sc, sc.events()) for sc in scenarios.all_present()]

def run_responder(sc, evs):
    payloads = []
    for ev in evs:
        with open(ev, "rb") as f:
            payloads.append(f.read())
    with fbtest.Fake(sc.seed) as fake:
        def reseed(_i):
            fake.seed(sc.seed)
            fake.reset()
        r = scenarios.run_many(sc.name, payloads, fake, env=sc.env, account=sc.account,
                               wrapper=VG, timeout=900, deadline_s=120, before_each=reseed)
    m = re.search(r"ERROR SUMMARY: (\d+) errors", r.logs)
    memcheck = None
    if r.timed_out:
        memcheck = "did not exit"
    elif r.rc == 99 or (m and int(m.group(1)) > 0) or "definitely lost" in r.logs or "indirectly lost" in r.logs:
        memcheck = "memcheck errors or leaks"
    elif r.rc not in (0, 1):
        # 1: lr_main's return when /next answers 500, how run_many ends it
        memcheck = "exit %s" % r.rc
    out = [(sc.name, os.path.basename(ev), None if inv["posted"] is not None else "no response posted", r)
           for ev, inv in zip(evs, r.invocations)]
    out.append((sc.name, "(process: %d invocations, exit %s)" % (len(evs), r.rc), memcheck, r))
    return out

results = []
with cf.ThreadPoolExecutor(max_workers=2) as ex:
    for res in ex.map(lambda j: run_responder(*j), jobs):
        results.extend(res)
bad = 0
for name, ev, problem, r in results:
    if problem:
        bad += 1
        print("FAIL  %s %s: %s" % (name, ev, problem))
        lines = [l for l in r.logs.splitlines() if l.startswith("==")]
        print("\n".join("    | " + l for l in lines[:60]))
    else:
        print("ok    %s %s" % (name, ev))
print("%d passed, %d failed" % (len(results) - bad, bad))
sys.exit(1 if bad or not results else 0)
PY
