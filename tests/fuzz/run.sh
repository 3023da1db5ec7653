#!/usr/bin/env bash
# make fuzz: tests/fuzz/run.sh SECONDS [target...]
# Builds the targets (build.sh) and runs each for SECONDS with libFuzzer,
# FUZZ_JOBS targets at a time (default 1: one after another). Seeds come
# from tests/fuzz/corpus/<t> and regressions/<t>; new inputs go to
# build/fuzz/work/<t> (not the repo); a crash lands in
# build/fuzz/artifacts/<t>/ (copy it to regressions/<t>/ once fixed).
# Logs: build/fuzz/logs/<t>.log; figures: build/fuzz/summary.txt.
# Exit 1 if any target crashed. -timeout=60: a loaded machine (ASan
# returning memory to the OS on a descheduled process) made 10 s flaky.
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
shift || true
jobs=${FUZZ_JOBS:-1}
OUT=${FUZZ_OUT:-build/fuzz}
tests/fuzz/build.sh "$@" || exit 1
if [ -f "$OUT/.driver" ]; then
	echo "fuzz: libFuzzer runtime missing (install libclang-rt-14-dev); cannot fuzz, only replay" >&2
	exit 2
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do t=$(basename "$f" .c); t=${t#fuzz_}; [ -x "$OUT/$t" ] && targets+=("$t"); done
fi
mkdir -p "$OUT/logs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

run_one() {
	local t=$1 seeds=()
	mkdir -p "$OUT/work/$t" "$OUT/artifacts/$t"
	for d in tests/fuzz/corpus/$t tests/fuzz/regressions/$t; do [ -d "$d" ] && seeds+=("$d"); done
	echo "fuzz: $t for ${secs}s" >&2
	"$OUT/$t" -max_total_time="$secs" -timeout=60 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$OUT/artifacts/$t/" \
		"$OUT/work/$t" "${seeds[@]}" >"$OUT/logs/$t.log" 2>&1
	echo "fuzz: $t exit $?" >&2
}

running=0
for t in "${targets[@]}"; do
	run_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

crashed=0
{
	printf '%-16s %12s %8s %8s %8s %8s %s\n' target execs exec/s cov ft corpus crashes
	for t in "${targets[@]}"; do
		log=$OUT/logs/$t.log
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
		eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
		last=$(grep -E '^#[0-9]+' "$log" | tail -1)
		cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
		ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
		corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
		n=$(find "$OUT/artifacts/$t" -type f | wc -l)
		grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: ' "$log" && [ "$n" -eq 0 ] && n=1
		[ "$n" -gt 0 ] && crashed=1
		printf '%-16s %12s %8s %8s %8s %8s %s\n' "$t" "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$n"
	done
} | tee "$OUT/summary.txt"
exit $crashed
