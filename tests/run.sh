#!/usr/bin/env bash
# The test runner behind `make test`.
#   tests/run.sh [--unit-only|--integration-only] [--package] [UNIT_BINARY ...]
# Runs each cmocka unit binary, then each executable in tests/integration/,
# longest first, TEST_JOBS at a time (default 2: most integration tests
# wait on loopback servers and the AWS CLI, not on the CPU). Each test's
# output goes to build/test-logs/<name>.log and is shown when it fails.
# Ends with the line "N passed, N failed".
#
# --package (what `make test` uses): `make package` runs in the background
# from the start, niced, as one more result ("build/package"), and a test
# whose file has a line "# needs: package" waits for it. On a fresh machine
# the arm64 package (OpenSSL and libcurl from source) is minutes of CPU that
# would otherwise come before the first test; this way it fills the time
# the tests spend waiting on servers and subprocesses.
set -uo pipefail
cd "$(dirname "$0")/.."
mode=all
case "${1:-}" in --unit-only|--integration-only) mode=${1#--}; shift ;; esac
package=0
if [ "${1:-}" = --package ]; then package=1; shift; fi
jobs=${TEST_JOBS:-2}

logs=build/test-logs
results=$logs/results
rm -rf "$results"
mkdir -p "$logs" "$results"

# cpu: the CPU time (user + sys, ms) of this subshell's finished children.
# In a test run in the background (its own subshell) that is the test's
# whole process tree, the figure that bounds `make test` on a 2-core
# machine. Empty in the main shell, where earlier tests' children count too.
# Called directly, never in $(...) or a pipe: a forked copy has no children.
cpu_ms() {
	local f="$results/.times.$BASHPID"
	cpu=
	[ "$BASHPID" != "$$" ] || return 0
	times >"$f"
	cpu=$(tail -1 "$f" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60000 + a[2] * 1000 } printf "%d", t }')
	rm -f "$f"
}

# One test: runs it, records "rc ms cpu_ms" in $results/<flat name>, prints a line.
run_one() { # name, command...
	local name=$1; shift
	local log="$logs/$name.log" t0 t1 rc ms cpu
	mkdir -p "$(dirname "$log")"
	t0=$(date +%s%N)
	"$@" >"$log" 2>&1 </dev/null
	rc=$?
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	cpu_ms
	echo "$rc $ms $cpu" >"$results/${name//\//_}"
	if [ $rc -eq 0 ]; then
		printf 'PASS  %-40s %6d ms%s\n' "$name" $ms "${cpu:+  (cpu $cpu ms)}"
	else
		# One write, so parallel tests do not interleave their output.
		{ printf 'FAIL  %-40s %6d ms (exit %d)\n' "$name" $ms $rc
		  sed 's/^/    | /' "$log" | tail -n 60; } | cat
	fi
}

pkg_pid=
if [ $package -eq 1 ]; then
	run_one build/package nice -n 10 make --no-print-directory package &
	pkg_pid=$!
fi
# Running integration tests: background jobs other than the package build.
running_tests() { jobs -rp | grep -vx "${pkg_pid:-none}" | wc -l; }
needs_package() { grep -q '^# needs: package' "$1"; }

if [ "$mode" != integration-only ]; then
	for bin in "$@"; do
		run_one "unit/$(basename "$bin")" "$bin"
	done
fi
if [ "$mode" != unit-only ]; then
	# Longest first, so two long tests do not end up last in line: by the
	# durations of the previous run when there is one, else the ones known
	# to be slow (sanitizers, fault matrix, valgrind, qemu) first.
	order=()
	if [ -f "$logs/durations" ]; then
		while read -r _ t; do order+=("$t"); done < <(
			for t in tests/integration/*; do
				[ -f "$t" ] && [ -x "$t" ] || continue
				ms=$(awk -v n="$(basename "$t")" '$2 == n { print $1 }' "$logs/durations")
				echo "${ms:-999999} $t"
			done | sort -rn)
	else
		for t in tests/integration/{81,85,82,15,25}-* tests/integration/*; do order+=("$t"); done
	fi
	declare -A seen=()
	held=()
	for t in "${order[@]}"; do
		[ -f "$t" ] && [ -z "${seen[$t]:-}" ] || continue
		seen[$t]=1
		# The responders' suites run once, in 81-sanitizers against the
		# ASan build (FB_NATIVE_SUITES=1 runs them natively here too).
		if [ -z "${FB_NATIVE_SUITES:-}" ] && grep -q '^# runs-in: 81-sanitizers' "$t"; then
			continue
		fi
		# A numbered test that lost its x bit must not pass by not running.
		if [ ! -x "$t" ]; then
			case $(basename "$t") in [0-9][0-9]-*)
				echo "FAIL  integration/$(basename "$t"): not executable (chmod +x)"
				echo "1 0" >"$results/integration_$(basename "$t")" ;;
			esac
			continue
		fi
		if [ -n "$pkg_pid" ] && needs_package "$t"; then held+=("$t"); continue; fi
		while [ "$(running_tests)" -ge "$jobs" ]; do wait -n; done
		run_one "integration/$(basename "$t")" "$t" &
	done
	# The package tests, once the package is built (or has failed: then
	# they fail on the missing zips and say so).
	[ -z "$pkg_pid" ] || wait "$pkg_pid"
	for t in "${held[@]}"; do
		while [ "$(running_tests)" -ge "$jobs" ]; do wait -n; done
		run_one "integration/$(basename "$t")" "$t" &
	done
fi
wait

passed=0 failed=0 failures=()
: >"$logs/durations.new"
for f in "$results"/*; do
	[ -f "$f" ] || continue
	read -r rc ms _ <"$f"
	case $(basename "$f") in integration_*) n=$(basename "$f"); echo "$ms ${n#integration_}" >>"$logs/durations.new" ;; esac
	if [ "$rc" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$(basename "$f")"); fi
done
[ "$mode" = unit-only ] || mv "$logs/durations.new" "$logs/durations"
rm -f "$logs/durations.new"
echo
[ ${#failures[@]} -eq 0 ] || echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
