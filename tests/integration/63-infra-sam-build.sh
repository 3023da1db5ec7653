#!/usr/bin/env bash
# needs: package (tests/run.sh --package holds this test until make package is done)
# sam build's makefile targets: for every AWS::Serverless::Function of
# infra/template.yaml, `make build-<LogicalId> ARTIFACTS_DIR=<tmp>` (what
# `sam build` runs) must put the function's own aarch64 bootstrap there:
# executable, ELF machine AArch64, byte-identical (sha256) to the bootstrap
# in build/arm64/<name>.zip and different from every other function's.
# Also checks the `aws cloudformation package` route of infra/README.md:
# its sed turns each "CodeUri: ..   # zip: <path>" into that existing zip.
# Prints "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
PY="/usr/bin/python3 -B"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# LogicalId name pairs, from the template (FunctionName "${AWS::StackName}-<name>").
mapfile -t fns < <($PY - <<'PYEOF'
import sys
sys.path.insert(0, "tests/infra")
import cfnyaml, cfnmodel
t = cfnyaml.load("infra/template.yaml")
m = cfnmodel.Model(t)
for lid, r in t["Resources"].items():
    if r["Type"] == "AWS::Serverless::Function":
        print(lid, m.resolve(r["Properties"]["FunctionName"])[len("firebreak-"):])
PYEOF
)
[ ${#fns[@]} -gt 0 ] && ok "template lists ${#fns[@]} functions" || bad "no functions in infra/template.yaml"

zipsha() { unzip -p "build/arm64/$1.zip" bootstrap | sha256sum | cut -d' ' -f1; }
declare -A built
for pair in "${fns[@]}"; do
	lid=${pair% *} name=${pair#* }
	out=$tmp/$lid
	mkdir -p "$out"
	if ! make --no-print-directory "build-$lid" ARTIFACTS_DIR="$out" >"$tmp/$lid.log" 2>&1; then
		bad "make build-$lid failed: $(tail -n 5 "$tmp/$lid.log")"
		continue
	fi
	f=$out/bootstrap
	if [ ! -x "$f" ]; then bad "build-$lid: no executable bootstrap in ARTIFACTS_DIR"; continue; fi
	# e_ident: 7f 45 4c 46, class 2 (64-bit); e_machine (offset 18, LE) 0xb7 = AArch64.
	magic=$(od -An -tx1 -N5 "$f" | tr -d ' \n')
	machine=$(od -An -tx1 -j18 -N2 "$f" | tr -d ' \n')
	[ "$magic" = 7f454c4602 ] && [ "$machine" = b700 ] && ok "build-$lid: ELF64 AArch64" ||
		bad "build-$lid: not an ELF64 AArch64 executable (magic $magic machine $machine)"
	got=$(sha256sum "$f" | cut -d' ' -f1)
	want=$(zipsha "$name")
	[ "$got" = "$want" ] && ok "build-$lid: bootstrap = build/arm64/$name.zip's" ||
		bad "build-$lid: bootstrap differs from build/arm64/$name.zip's"
	[ "$(ls -A "$out")" = bootstrap ] && ok "build-$lid: only bootstrap in ARTIFACTS_DIR" ||
		bad "build-$lid: ARTIFACTS_DIR holds $(ls -A "$out" | tr '\n' ' ')"
	# The function's own code: its name (the report's "function") is in it.
	grep -aqF "$name" "$f" && ok "build-$lid: contains \"$name\"" || bad "build-$lid: \"$name\" not in the binary"
	built[$lid]=$got
done

# The right bootstrap: no two functions share one.
n_unique=$(printf '%s\n' "${built[@]}" | sort -u | wc -l)
[ "$n_unique" -eq "${#built[@]}" ] && ok "every function's bootstrap is distinct" ||
	bad "two functions got the same bootstrap"

# Without ARTIFACTS_DIR the target refuses instead of copying to "/".
if make --no-print-directory "build-${fns[0]%% *}" ARTIFACTS_DIR= >/dev/null 2>&1; then
	bad "build target ran without ARTIFACTS_DIR"
else
	ok "build target refuses an empty ARTIFACTS_DIR"
fi

# The zip route (infra/README.md): same sed as documented there.
sed -E "s#CodeUri: \.\. +\# zip: (.*)#CodeUri: $PWD/\1#" infra/template.yaml >"$tmp/zip-template.yaml"
if $PY - "$tmp/zip-template.yaml" <<'PYEOF'
import os, sys
sys.path.insert(0, "tests/infra")
import cfnyaml, cfnmodel
t = cfnyaml.load(sys.argv[1])
m = cfnmodel.Model(t)
bad = []
for lid, r in t["Resources"].items():
    if r["Type"] == "AWS::Serverless::Function":
        name = m.resolve(r["Properties"]["FunctionName"])[len("firebreak-"):]
        uri = r["Properties"]["CodeUri"]
        if uri != os.path.join(os.getcwd(), "build", "arm64", name + ".zip") or not os.path.isfile(uri):
            bad.append(f"{lid}: {uri}")
if bad:
    print("\n".join(bad))
sys.exit(1 if bad else 0)
PYEOF
then ok "zip route: every CodeUri is its build/arm64/<name>.zip"; else bad "zip route: CodeUri rewrite"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
