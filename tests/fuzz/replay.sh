#!/usr/bin/env bash
# Replays every seed corpus and regression set once through its target
# (libFuzzer -runs=0, or the standalone driver when libFuzzer is missing),
# under ASan+UBSan. tests/fuzz/replay.sh [target...]; exit 1 on any report.
set -uo pipefail
cd "$(dirname "$0")/../.."
export FUZZ_OUT=${FUZZ_OUT:-build/fuzz/replay}
OUT=$FUZZ_OUT
tests/fuzz/build.sh "$@" 2>"/tmp/fuzz-replay-build.$$" || { cat "/tmp/fuzz-replay-build.$$" >&2; exit 1; }
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do t=$(basename "$f" .c); t=${t#fuzz_}; [ -x "$OUT/$t" ] && targets+=("$t"); done
fi
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
mkdir -p "$OUT/logs"
fail=0
for t in "${targets[@]}"; do
	files=()
	for d in tests/fuzz/corpus/$t tests/fuzz/regressions/$t; do
		[ -d "$d" ] && while IFS= read -r f; do files+=("$f"); done < <(find "$d" -type f ! -name '*.md' | sort)
	done
	if [ ${#files[@]} -eq 0 ]; then
		echo "replay $t: no inputs"
		continue
	fi
	# passing files (not directories) runs each exactly once
	if "$OUT/$t" -runs=1 -timeout=20 -rss_limit_mb=2048 "${files[@]}" >"$OUT/logs/replay-$t.log" 2>&1 &&
		! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$OUT/logs/replay-$t.log"; then
		echo "replay $t: ${#files[@]} inputs ok"
	else
		echo "replay $t: FAILED (${#files[@]} inputs), see $OUT/logs/replay-$t.log"
		grep -E 'ERROR:|runtime error:|Running:|SUMMARY' "$OUT/logs/replay-$t.log" | head -20
		fail=1
	fi
done
exit $fail
