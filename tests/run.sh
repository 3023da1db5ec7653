#!/usr/bin/env bash
# The test runner behind `make test`.
#   tests/run.sh [--unit-only|--integration-only] [UNIT_BINARY ...]
# Runs each cmocka unit binary, then each executable in tests/integration/
# in name order. Each test's output goes to build/test-logs/<name>.log and is
# shown when it fails. Ends with the line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
mode=all
case "${1:-}" in --unit-only|--integration-only) mode=${1#--}; shift ;; esac

logs=build/test-logs
mkdir -p "$logs"
passed=0 failed=0 failures=()

run_one() { # name, command...
	local name=$1; shift
	local log="$logs/$name.log" t0 t1 rc
	mkdir -p "$(dirname "$log")"
	t0=$(date +%s%N)
	"$@" >"$log" 2>&1 </dev/null
	rc=$?
	t1=$(date +%s%N)
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		printf 'PASS  %-40s %6d ms\n' "$name" $(((t1 - t0) / 1000000))
	else
		failed=$((failed + 1)); failures+=("$name")
		printf 'FAIL  %-40s %6d ms (exit %d)\n' "$name" $(((t1 - t0) / 1000000)) $rc
		sed 's/^/    | /' "$log" | tail -n 60
	fi
}

if [ "$mode" != integration-only ]; then
	for bin in "$@"; do
		run_one "unit/$(basename "$bin")" "$bin"
	done
fi
if [ "$mode" != unit-only ]; then
	for t in tests/integration/*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		run_one "integration/$(basename "$t")" "$t"
	done
fi

echo
[ ${#failures[@]} -eq 0 ] || echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
