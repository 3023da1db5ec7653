#!/usr/bin/env bash
# Fails when an ELF needs a glibc symbol version newer than the ceiling
# (default 2.34: provided.al2023 ships glibc 2.34; we build against 2.36).
#   runtime/mk/glibc-ceiling.sh ELF [CEILING]
# Prints the offending symbols, e.g. arc4random@GLIBC_2.36, on failure.
set -euo pipefail
elf=$1
ceiling=${2:-2.34}
readelf=${READELF:-aarch64-linux-gnu-readelf}
command -v "$readelf" >/dev/null || readelf=readelf

# Version needs (.gnu.version_r) list every GLIBC_x.y the loader will demand.
max=$("$readelf" -V -W "$elf" | sed -n 's/.*Name: GLIBC_\([0-9][0-9.]*\).*/\1/p' | sort -V | tail -n1)
max=${max:-none}
if [ "$max" != none ] && [ "$(printf '%s\n%s\n' "$max" "$ceiling" | sort -V | tail -n1)" != "$ceiling" ]; then
	echo "glibc-ceiling: '$elf' needs GLIBC_$max, above GLIBC_$ceiling; symbols:" >&2
	"$readelf" --dyn-syms -W "$elf" | grep -oE '[A-Za-z0-9_]+@GLIBC_[0-9.]+' | sort -u |
		while IFS=@ read -r sym ver; do
			v=${ver#GLIBC_}
			[ "$(printf '%s\n%s\n' "$v" "$ceiling" | sort -V | tail -n1)" = "$ceiling" ] || echo "  $sym@$ver" >&2
		done
	exit 1
fi
echo "$max"
