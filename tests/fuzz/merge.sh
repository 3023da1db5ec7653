#!/usr/bin/env bash
# Folds what a fuzz run found (build/fuzz/work/<t>, and <base>/<t> for each
# base in FUZZ_WORK="base ...") into the committed seed corpus, keeping only
# inputs that add coverage (libFuzzer -merge=1), so `make test`'s replay
# covers what the long runs reached.
#   tests/fuzz/merge.sh [target...]
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${FUZZ_OUT:-build/fuzz}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do t=$(basename "$f" .c); targets+=("${t#fuzz_}"); done
fi
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
for t in "${targets[@]}"; do
	[ -x "$OUT/$t" ] || { echo "merge: $OUT/$t not built"; continue; }
	dirs=()
	for base in "$OUT/work" ${FUZZ_WORK:-}; do
		[ -d "$base/$t" ] && dirs+=("$base/$t")
	done
	[ ${#dirs[@]} -gt 0 ] || continue
	before=$(ls tests/fuzz/corpus/$t | wc -l)
	"$OUT/$t" -merge=1 -timeout=60 -rss_limit_mb=2048 tests/fuzz/corpus/$t "${dirs[@]}" >"$OUT/logs/merge-$t.log" 2>&1 ||
		{ echo "merge $t: failed, see $OUT/logs/merge-$t.log"; continue; }
	echo "merge $t: $before -> $(ls tests/fuzz/corpus/$t | wc -l) seeds ($(du -sh tests/fuzz/corpus/$t | cut -f1))"
done
