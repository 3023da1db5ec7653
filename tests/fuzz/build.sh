#!/usr/bin/env bash
# Builds every tests/fuzz/fuzz_<target>.c into build/fuzz/<target> with
# clang -fsanitize=fuzzer,address,undefined (UBSan without recovery, so
# undefined behaviour is a crash). When libFuzzer's runtime is missing the
# targets link with tests/fuzz/driver.c under ASan+UBSan instead (replay
# only) and build/fuzz/.driver says so.
#   tests/fuzz/build.sh [target...]     (default: all)
# A target names its extra sources on a "FUZZ_SOURCES:" line.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${FUZZ_OUT:-build/fuzz}
CC=${FUZZ_CC:-clang}
LIBS=(-lcurl -lcjson -lssl -lcrypto -lexpat -lz -lpthread -lm)
SAN=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
CFLAGS=(-std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Wno-unused-parameter -Wno-unused-function -Iruntime)
mkdir -p "$OUT/obj"

if ! command -v "$CC" >/dev/null; then
	echo "fuzz: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2
	exit 2
fi
# libFuzzer available?
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe/p.c"
if "$CC" -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" 2>/dev/null; then
	MODE=libfuzzer
	COMPILE_SAN=(-fsanitize=fuzzer-no-link "${SAN[@]}")
	LINK_SAN=(-fsanitize=fuzzer "${SAN[@]}")
	rm -f "$OUT/.driver"
else
	MODE=driver
	COMPILE_SAN=("${SAN[@]}")
	LINK_SAN=("${SAN[@]}")
	echo "fuzz: libFuzzer runtime not available; building replay drivers" >&2
	touch "$OUT/.driver"
fi

# runtime/*.c once (a source newer than its object is rebuilt)
objs=()
for src in runtime/*.c; do
	o="$OUT/obj/$MODE/${src//\//_}.o"
	objs+=("$o")
	if [ ! -f "$o" ] || [ "$src" -nt "$o" ] || [ -n "$(find runtime -name '*.h' -newer "$o" -print -quit)" ]; then
		mkdir -p "$(dirname "$o")"
		echo "  CC      $src" >&2
		"$CC" "${CFLAGS[@]}" "${COMPILE_SAN[@]}" -c -o "$o" "$src" &
	fi
done
wait

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do
		t=$(basename "$f" .c)
		targets+=("${t#fuzz_}")
	done
fi
fail=0
for t in "${targets[@]}"; do
	src=tests/fuzz/fuzz_$t.c
	extra=$(sed -n 's/^.*FUZZ_SOURCES:[[:space:]]*//p' "$src" | head -1)
	missing=0
	for e in $extra; do [ -f "$e" ] || missing=1; done
	if [ $missing = 1 ]; then
		echo "fuzz: skipping $t (missing one of: $extra)" >&2
		continue
	fi
	drv=()
	[ "$MODE" = driver ] && drv=(tests/fuzz/driver.c)
	echo "  FUZZ    $OUT/$t ($MODE)" >&2
	# shellcheck disable=SC2086
	if ! "$CC" "${CFLAGS[@]}" "${LINK_SAN[@]}" -o "$OUT/$t" "$src" $extra "${drv[@]}" "${objs[@]}" "${LIBS[@]}"; then
		echo "fuzz: build of $t failed" >&2
		fail=1
	fi
done
exit $fail
