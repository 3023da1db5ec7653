#!/usr/bin/env bash
# The end-to-end check (README quick start): `make demo` non-interactively (tests/demo/demo.py), all
# five P1 scenarios against tests/fakeaws through the Lambda emulator, then the
# same in dry run. Every scenario must PASS (the demo's own checks of the world:
# key enabled, secret rotated and service redeployed, task stopped with egress
# denied and evidence stored, root verdict published; in dry run zero writes).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d /tmp/fb-70-demo.XXXXXX)
trap 'rm -rf "$out"' EXIT

fail=0
check() { # mode, summary.json
	/usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
mode, path = sys.argv[1], sys.argv[2]
doc = json.load(open(path))
want = ["root", "kms", "leak", "task", "bucket", "iam", "instance", "net", "triage", "breach"]
want.append("restore")   # w3-rst2: firebreak-restore, contain then undo
got = {s["scenario"]: s["result"] for s in doc["scenarios"]}
bad = [n for n in want if got.get(n) != "PASS"]
for n in want:
    print("%s %s: %s" % (mode, n, got.get(n, "missing")))
sys.exit(1 if bad or doc.get("dry_run") != (mode == "dry-run") else 0)
PY
}

for mode in live dry-run; do
	args=(--quiet --out "$out/$mode")
	[ "$mode" = dry-run ] && args+=(--dry-run)
	if ! /usr/bin/python3 tests/demo/demo.py "${args[@]}" >"$out/$mode.txt" 2>&1; then
		echo "demo ($mode) exited non-zero:"
		cat "$out/$mode.txt"
		fail=1
	fi
	if [ -f "$out/$mode/summary.json" ]; then
		check "$mode" "$out/$mode/summary.json" || fail=1
	else
		echo "demo ($mode) wrote no summary.json"
		cat "$out/$mode.txt"
		fail=1
	fi
done
[ $fail -eq 0 ] && echo "70-demo: every scenario PASS (live and dry run)"
exit $fail
