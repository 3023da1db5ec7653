#!/usr/bin/env bash
# Installs what a make target needs, only when missing (idempotent).
#   runtime/mk/deps.sh build|test|all
# "build" is what `make all` and `make package` need; "test" adds the
# test tools (cmocka, botocore, the AWS CLI, qemu).
set -euo pipefail
what=${1:-all}

native=(gcc make libc6-dev libcurl4-openssl-dev libcjson-dev libssl-dev libexpat1-dev zlib1g-dev zip unzip ca-certificates)
arm64=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross perl zlib1g-dev:arm64 libexpat1-dev:arm64 dpkg-dev binutils-aarch64-linux-gnu)
testing=(libcmocka-dev cppcheck openssl python3 python3-botocore python3-yaml python3-boto3 awscli qemu-user valgrind clang libclang-rt-14-dev)

pkgs=()
case "$what" in
build) pkgs=("${native[@]}" "${arm64[@]}") ;;
test|all) pkgs=("${native[@]}" "${arm64[@]}" "${testing[@]}") ;;
*) echo "deps.sh: unknown set '$what'" >&2; exit 2 ;;
esac

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The arm64 packages and `apt-get source` need what a stock Debian 12 lacks.
changed=0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	as_root dpkg --add-architecture arm64
	changed=1
fi
src=/etc/apt/sources.list.d/debian.sources
if [ -f "$src" ] && ! grep -q '^Types:.*deb-src' "$src"; then
	as_root sed -i 's/^Types: deb$/Types: deb deb-src/' "$src"
	changed=1
elif [ ! -f "$src" ] && ! grep -rqs '^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	echo 'deb-src http://deb.debian.org/debian bookworm main' | as_root tee /etc/apt/sources.list.d/firebreak-src.list >/dev/null
	changed=1
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ] && [ $changed -eq 0 ]; then
	exit 0
fi
if [ ${#missing[@]} -gt 0 ] || [ $changed -eq 1 ]; then
	echo "deps: installing ${missing[*]:-(apt sources changed)}"
	as_root apt-get update -qq
	[ ${#missing[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
