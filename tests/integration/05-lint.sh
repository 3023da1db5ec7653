#!/usr/bin/env bash
# `make lint` as part of `make test`: cppcheck (warning, portability) over
# runtime/ and functions/, and none of the banned string functions
# (sprintf, strcpy, strcat, strtok, atoi, gets) in shipped C.
set -uo pipefail
cd "$(dirname "$0")/../.."
if ! command -v cppcheck >/dev/null; then
	echo "05-lint: cppcheck missing (make deps)"; echo "0 passed, 1 failed"; exit 1
fi
if make --no-print-directory lint; then
	echo "1 passed, 0 failed"
else
	echo "0 passed, 1 failed"; exit 1
fi
