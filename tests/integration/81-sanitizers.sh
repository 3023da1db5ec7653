#!/usr/bin/env bash
# The runtime library, the unit tests and the four function bootstraps built
# with clang under ASan+UBSan into build/asan/ (the top-level Makefile's own
# rules, with B=build/asan), then:
#  - every unit test run with leak detection and UBSan halting on error;
#  - each responder's sanitized bootstrap run over each events/<name>/*.json
#    against fakeaws seeded with its main scenario's world (tests/fuzz/
#    scenarios.py). The runtime here ends the process after the invocation
#    (second /next answers 500) so LeakSanitizer's exit check runs;
#  - the responders' integration tests that go through fbtest.invoke, with
#    FBTEST_BUILD=build/asan.
# Any sanitizer report fails the test.
# Built at -O1 -g1 (ASan's recommended level, with line tables for the
# reports): a third less compile time than the shipped -O2 -g.
set -uo pipefail
cd "$(dirname "$0")/../.."
B=build/asan
if ! command -v clang >/dev/null; then
	echo "81-sanitizers: clang missing (make deps)"; echo "0 passed, 1 failed"; exit 1
fi
# The Makefile tracks header dependencies for build/native only: start over
# when a header changed since the last sanitizer build.
if [ -f $B/.stamp ] && [ -n "$(find runtime functions tests/unit -name '*.h' -newer $B/.stamp -print -quit)" ]; then
	rm -rf $B
fi
mkdir -p $B
fns=()
for d in functions/*/main.c; do fns+=("$(basename "$(dirname "$d")")"); done
units=()
for u in tests/unit/test_*.c; do units+=("$B/tests/$(basename "$u" .c)"); done
targets=("$B/libfirebreak.a")
for f in "${fns[@]}"; do targets+=("$B/$f/bootstrap"); done
if ! make --no-print-directory -j2 B=$B CC=clang \
	SAN_CFLAGS='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined' \
	CFLAGS='-Wno-error -O1 -g1' "${targets[@]}" "${units[@]}" >$B/build.log 2>&1; then
	tail -40 $B/build.log
	echo "0 passed, 1 failed"
	exit 1
fi
touch $B/.stamp

export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
pass=0 fail=0
for u in "${units[@]}"; do
	if "$u" >$B/$(basename "$u").log 2>&1 && ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' $B/$(basename "$u").log; then
		pass=$((pass + 1)); echo "ok    unit $(basename "$u")"
	else
		fail=$((fail + 1)); echo "FAIL  unit $(basename "$u")"
		grep -E 'ERROR:|runtime error:|SUMMARY|#[0-9] 0x|FAILED|\[  FAILED' $B/$(basename "$u").log | head -30
	fi
done

/usr/bin/python3 - "$B" <<'PY'
import os, re, sys
sys.path.insert(0, "tests/fuzz")
import scenarios
import fbtest
build = sys.argv[1]
REPORT = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: \w+Sanitizer")
bad = total = 0
for sc in scenarios.all_present():
    if not os.path.exists(scenarios.bootstrap(sc.name, build)):
        continue
    with fbtest.Fake(sc.seed) as fake:
        for ev in sc.events():
            fake.seed(sc.seed)
            fake.reset()
            with open(ev, "rb") as f:
                payload = f.read()
            r = scenarios.run_once(sc.name, payload, fake, env=sc.env, account=sc.account, build=build)
            total += 1
            problem = None
            if REPORT.search(r.logs):
                problem = "sanitizer report"
            elif r.timed_out:
                problem = "did not exit"
            elif r.posted is None:
                problem = "no response posted (exit %s)" % r.rc
            if problem:
                bad += 1
                print("FAIL  %s %s: %s" % (sc.name, os.path.basename(ev), problem))
                lines = [l for l in r.logs.splitlines() if REPORT.search(l) or re.match(r"\s+#\d+ 0x", l)]
                print("\n".join("    | " + l for l in lines[:30]))
            else:
                print("ok    %s %s (%s)" % (sc.name, os.path.basename(ev), "error" if r.is_error else "result"))
print("responder runs: %d, with problems: %d" % (total, bad))
sys.exit(1 if bad or total == 0 else 0)
PY
if [ $? -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
# The responders' own integration suites (the tests marked "# runs-in:
# 81-sanitizers"), each run with FBTEST_BUILD=build/asan (honoured by
# tests/lib/fbtest.py and by the suites that name their bootstrap): an
# ASan/UBSan abort shows there as a crashed invocation and fails the test.
# tests/run.sh runs these suites only here, not a second time against the
# native build (which 69, 70, 85 and 86 drive for every responder): their
# assertions run once, under the sanitizers. All at once: they spend their
# time waiting on fakeaws, backoff and deadlines, not on the CPU.
suites=()
declare -A pid=()
for t in tests/integration/*.py; do
	grep -q '^# runs-in: 81-sanitizers' "$t" || continue
	if [ ! -x "$t" ]; then
		fail=$((fail + 1)); echo "FAIL  $(basename "$t"): not executable (chmod +x)"; continue
	fi
	suites+=("$t")
	FBTEST_BUILD=$B "$t" >$B/$(basename "$t").log 2>&1 &
	pid[$t]=$!
done
for t in "${suites[@]}"; do
	if wait "${pid[$t]}"; then
		pass=$((pass + 1)); echo "ok    $(basename "$t") with FBTEST_BUILD=$B"
	else
		fail=$((fail + 1)); echo "FAIL  $(basename "$t") with FBTEST_BUILD=$B"
		tail -30 $B/$(basename "$t").log
	fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
