#!/usr/bin/env bash
# needs: package (tests/run.sh --package holds this test until make package is done)
# Checks every arm64 package (`make package`) the way Lambda will load it:
#   - a zip exists for every functions/*/main.c (and tests/testfn);
#   - `bootstrap` is the zip's only entry and is executable;
#   - it is a 64-bit little-endian aarch64 ELF whose interpreter is
#     /lib/ld-linux-aarch64.so.1 (the AL2023 path) and has no RPATH/RUNPATH;
#   - readelf -d NEEDED is a subset of {libc.so.6, ld-linux-aarch64.so.1};
#   - the highest GLIBC_ symbol version it needs is <= 2.34 (provided.al2023);
#   - the zip is under 3 MB (3,000,000 bytes).
# Prints a table of sizes and glibc versions. Uses binutils' readelf and
# file(1), never our own build scripts, as the judge.
set -uo pipefail
cd "$(dirname "$0")/../.."

ceiling=2.34
max_zip=3000000
allowed_needed="libc.so.6 ld-linux-aarch64.so.1"
dir=build/arm64

if command -v readelf >/dev/null; then readelf=readelf; else readelf=aarch64-linux-gnu-readelf; fi
for tool in "$readelf" unzip file; do
	command -v "$tool" >/dev/null || { echo "FAIL: '$tool' not installed"; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# version_le A B: A <= B as dotted versions.
version_le() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$1" ]; }

# Every function (and the test function) must have been packaged.
expected=()
for m in functions/*/main.c; do
	[ -f "$m" ] && expected+=("$(basename "$(dirname "$m")")")
done
[ -f tests/testfn/main.c ] && expected+=(testfn)
[ ${#expected[@]} -gt 0 ] || bad "no functions/*/main.c nor tests/testfn/main.c: nothing to check"
for name in "${expected[@]}"; do
	[ -f "$dir/$name.zip" ] || bad "'$dir/$name.zip' missing (run make package)"
done

printf '%-24s %10s %10s %-8s %s\n' zip bytes bootstrap glibc needed
shopt -s nullglob
zips=("$dir"/*.zip)
[ ${#zips[@]} -gt 0 ] || bad "no zips in '$dir'"
for zip in "${zips[@]}"; do
	name=$(basename "$zip" .zip)
	zsize=$(stat -c %s "$zip")
	[ "$zsize" -lt "$max_zip" ] || bad "$name: zip is $zsize bytes, limit $max_zip"

	entries=$(unzip -Z1 "$zip" 2>/dev/null) || { bad "$name: not a readable zip"; continue; }
	[ "$entries" = bootstrap ] || { bad "$name: entries are '$(echo $entries)', want only 'bootstrap'"; continue; }
	out=$tmp/$name
	mkdir -p "$out"
	unzip -q -o "$zip" -d "$out" || { bad "$name: unzip failed"; continue; }
	b=$out/bootstrap
	[ -x "$b" ] || bad "$name: bootstrap is not executable (mode $(stat -c %a "$b"))"

	desc=$(file -b "$b")
	case "$desc" in
	"ELF 64-bit LSB"*"ARM aarch64"*) ;;
	*) bad "$name: bootstrap is '$desc', want an ELF 64-bit aarch64 executable" ;;
	esac
	machine=$("$readelf" -h "$b" 2>/dev/null | sed -n 's/^ *Machine: *//p')
	[ "$machine" = AArch64 ] || bad "$name: ELF machine is '$machine', want AArch64"
	interp=$("$readelf" -l -W "$b" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
	[ "$interp" = /lib/ld-linux-aarch64.so.1 ] || bad "$name: interpreter is '$interp', want /lib/ld-linux-aarch64.so.1"

	dyn=$("$readelf" -d -W "$b")
	needed=$(echo "$dyn" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
	[ -n "$needed" ] || bad "$name: no NEEDED entries (glibc must be dynamic)"
	for lib in $needed; do
		case " $allowed_needed " in
		*" $lib "*) ;;
		*) bad "$name: needs '$lib', allowed: $allowed_needed" ;;
		esac
	done
	if echo "$dyn" | grep -qE '\((RPATH|RUNPATH)\)'; then bad "$name: has an RPATH/RUNPATH"; fi

	# .gnu.version_r names every GLIBC_x.y version the loader will demand.
	glibc=$("$readelf" -V -W "$b" | sed -n 's/.*Name: GLIBC_\([0-9][0-9.]*\).*/\1/p' | sort -V | tail -n1)
	if [ -z "$glibc" ]; then
		bad "$name: no GLIBC_ version needs found"
		glibc=none
	elif ! version_le "$glibc" "$ceiling"; then
		syms=$("$readelf" --dyn-syms -W "$b" | grep -oE '[A-Za-z0-9_]+@GLIBC_[0-9.]+' | sort -u |
			while IFS=@ read -r s v; do version_le "${v#GLIBC_}" "$ceiling" || printf '%s@%s ' "$s" "$v"; done)
		bad "$name: needs GLIBC_$glibc > $ceiling: $syms"
	fi
	printf '%-24s %10d %10d %-8s %s\n' "$name.zip" "$zsize" "$(stat -c %s "$b")" "$glibc" "$needed"
done

[ $fail -eq 0 ] && echo "ok: ${#zips[@]} zips checked"
exit $fail
