#!/usr/bin/env bash
# needs: package (tests/run.sh --package holds this test until make package is done)
# The runtime integration test (10-runtime-emulator.sh: emulator + real AWS
# CLI; success, handler error, init error, crash, timeout, oversize) run
# again on the packaged arm64 test function, under qemu-aarch64.
#
# The bootstrap is taken out of build/arm64/testfn.zip, exactly what would be
# uploaded. qemu-user's -L points the guest's /lib/ld-linux-aarch64.so.1 and
# libc.so.6 at the Debian arm64 cross sysroot (libc6-arm64-cross), glibc
# 2.36, which serves the 2.34-versioned symbols the bootstrap asks for.
set -euo pipefail
cd "$(dirname "$0")/../.."

zip=build/arm64/testfn.zip
sysroot=/usr/aarch64-linux-gnu
runtime_test=tests/integration/10-runtime-emulator.sh

command -v qemu-aarch64 >/dev/null || { echo "FAIL: qemu-aarch64 not installed (make deps)"; exit 1; }
[ -f "$zip" ] || { echo "FAIL: '$zip' missing (run make package)"; exit 1; }
[ -d "$sysroot/lib" ] || { echo "FAIL: '$sysroot' missing (libc6-arm64-cross)"; exit 1; }
[ -x "$runtime_test" ] || { echo "FAIL: '$runtime_test' missing or not executable"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unzip -q "$zip" bootstrap -d "$tmp"
bootstrap=$tmp/bootstrap
wrapper="qemu-aarch64 -L $sysroot"

# The loader under qemu must resolve exactly libc.so.6 from the arm64
# sysroot; anything "not found" would make every invoke below an init crash
# that is harder to read. -E sets the variable for the guest only.
libs=$($wrapper -E LD_TRACE_LOADED_OBJECTS=1 "$bootstrap") || { echo "FAIL: arm64 loader cannot start bootstrap: $libs"; exit 1; }
echo "loader under qemu:"
echo "$libs"
if echo "$libs" | grep -q 'not found'; then echo "FAIL: unresolved libraries under qemu"; exit 1; fi
echo "$libs" | grep -q 'libc\.so\.6 =>' || { echo "FAIL: libc.so.6 not resolved under qemu"; exit 1; }

echo "running $runtime_test on the arm64 bootstrap"
TESTFN_BOOTSTRAP=$bootstrap EMULATOR_WRAPPER=$wrapper "$runtime_test"
