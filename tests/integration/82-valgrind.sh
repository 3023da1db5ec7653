#!/usr/bin/env bash
# valgrind memcheck over each responder's native bootstrap for each of its
# sample events (events/<name>/*.json), against fakeaws seeded with the
# responder's main-scenario world: zero errors and zero definite/indirect
# leaks (--errors-for-leak-kinds=definite,indirect --error-exitcode=99).
# "Still reachable" (curl/OpenSSL globals, the process-lifetime handler
# state) does not count. The one-shot runtime in tests/fuzz/scenarios.py
# lets the process exit after the invocation so the leak check runs (the
# emulator's --wrapper would work for errors, but it SIGKILLs sandboxes,
# which skips valgrind's exit-time leak check).
# FB_VALGRIND_EVENTS=N limits the events per responder to N: the main
# scenario's event, and the others spread evenly over the name-sorted list
# (so alarm, invalid and manual cases get a turn): default 5 under
# `make test`, all under `make test-full` (FB_TEST_FULL=1) or with
# FB_VALGRIND_EVENTS=0.
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
default = "0" if os.environ.get("FB_TEST_FULL") == "1" else "5"
limit = int(os.environ.get("FB_VALGRIND_EVENTS", default) or 0)
jobs = []
for sc in scenarios.all_present():
    evs = sc.events()
    if limit and len(evs) > limit:
        # The main scenario's event (the full containment path) always, then
        # the rest spread evenly.
        main = [e for e in evs if os.path.samefile(e, sc.event_file)]
        rest = [e for e in evs if e not in main]
        evs = main + [rest[i * len(rest) // (limit - len(main))] for i in range(limit - len(main))]
    jobs.append((sc, evs))

def run_responder(sc, evs):
    out = []
    with fbtest.Fake(sc.seed) as fake:
        for ev in evs:
            fake.seed(sc.seed)
            fake.reset()
            with open(ev, "rb") as f:
                payload = f.read()
            r = scenarios.run_once(sc.name, payload, fake, env=sc.env, account=sc.account,
                                   wrapper=VG, timeout=180, deadline_s=120)
            problem = None
            m = re.search(r"ERROR SUMMARY: (\d+) errors", r.logs)
            if r.timed_out:
                problem = "did not exit"
            elif r.rc == 99 or (m and int(m.group(1)) > 0) or "definitely lost" in r.logs or "indirectly lost" in r.logs:
                problem = "memcheck errors or leaks"
            elif r.posted is None:
                problem = "no response posted (exit %s)" % r.rc
            out.append((sc.name, os.path.basename(ev), problem, r))
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
