#!/usr/bin/env bash
# Replays every fuzz seed corpus and every regression input once through its
# libFuzzer target under ASan+UBSan (tests/fuzz/replay.sh). A crash, a
# sanitizer report or a failing oracle in a target fails the test.
set -uo pipefail
cd "$(dirname "$0")/../.."
if ! command -v clang >/dev/null; then
	echo "80-fuzz-replay: clang missing (make deps installs clang libclang-rt-14-dev)"
	echo "0 passed, 1 failed"
	exit 1
fi
out=$(tests/fuzz/replay.sh 2>&1)
rc=$?
echo "$out"
pass=$(grep -c ': .* inputs ok$' <<<"$out")
failn=$(grep -c 'FAILED' <<<"$out")
[ $rc -ne 0 ] && [ "$failn" -eq 0 ] && failn=1
echo "$pass passed, $failn failed"
exit $rc
