#!/usr/bin/env bash
# Integration: our Lambda runtime (runtime/lr.c) run by our emulator
# (tests/emulator/emulator.py) and invoked with the REAL AWS CLI
# (/usr/bin/aws lambda invoke --endpoint-url ...), so the Invoke API and the
# function's answers are judged by botocore's Lambda model, not by us.
#
# Covers: success (incl. a published AWS sample event), handler error
# (X-Amz-Function-Error, errorType, ASCII error type), handler failure
# without a result, init error, crash mid-invoke (Runtime.ExitError, then a
# cold start that succeeds), exit mid-invoke, timeout (Sandbox.Timedout, then
# recovery), oversize response (Function.ResponseSizeTooLarge) and the exact
# limit, invocation context and _X_AMZN_TRACE_ID, client context, Lambda
# environment, JSON logs and level filtering, Tail logs carrying the request
# id (and capped at 4 KB), DryRun, Event, unknown function, invalid payload,
# and the emulator's one-shot mode. Then tests/emulator/fake_runtime.py, a
# scripted Runtime API: 500s end the process, POST framing (Content-Length,
# no Expect), ASCII error type header, _X_AMZN_TRACE_ID unset, retry after
# a dropped keep-alive connection, init error.
#
# Environment (so the same script runs the packaged arm64 bootstrap):
#   TESTFN_BOOTSTRAP   bootstrap to run (default build/native/testfn/bootstrap)
#   EMULATOR_WRAPPER   command prefix for the bootstrap, e.g. "qemu-aarch64"
#                      (default: none, run it directly)
#   EMULATOR_TIMEOUT_S timeout of the function used by the timeout case
#                      (default 1; its event sleeps 60 s, so any value well
#                      under 60 works)
# Example: TESTFN_BOOTSTRAP=build/arm64/testfn/bootstrap EMULATOR_WRAPPER=qemu-aarch64 \
#            tests/integration/10-runtime-emulator.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

PY=/usr/bin/python3
AWS=/usr/bin/aws
EMU=tests/emulator/emulator.py
BOOTSTRAP=${TESTFN_BOOTSTRAP:-build/native/testfn/bootstrap}
WRAPPER=${EMULATOR_WRAPPER:-}
TMO=${EMULATOR_TIMEOUT_S:-1}

[ -x "$BOOTSTRAP" ] || { echo "FAIL: '$BOOTSTRAP' not built (make all / make package)"; exit 1; }
[ -x "$AWS" ] || { echo "FAIL: $AWS missing (make deps)"; exit 1; }

tmp=$(mktemp -d)
emu_pid=
cleanup() {
	if [ -n "$emu_pid" ] && kill -0 "$emu_pid" 2>/dev/null; then
		kill -TERM "$emu_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$emu_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$emu_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# The CLI needs a region and some credentials; never read the user's files.
export AWS_ACCESS_KEY_ID=AKIDEMULATOREXAMPLE AWS_SECRET_ACCESS_KEY=emulator-not-a-secret
unset AWS_SESSION_TOKEN AWS_PROFILE
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=
export AWS_CONFIG_FILE=$tmp/no-config AWS_SHARED_CREDENTIALS_FILE=$tmp/no-credentials
export AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1

fails=0
pass() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; fails=$((fails + 1)); }

# jcheck FILE DESCRIPTION PYTHON-EXPR: d is the parsed JSON of FILE.
jcheck() {
	local file=$1 what=$2 expr=$3
	if "$PY" - "$file" "$expr" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1], "rb"))
except Exception as e:
    print("      cannot parse %s: %s" % (sys.argv[1], e)); sys.exit(1)
ok = eval(sys.argv[2], {"d": d, "json": json})
if not ok:
    print("      expected: %s" % sys.argv[2])
    print("      got: %s" % json.dumps(d)[:600])
sys.exit(0 if ok else 1)
EOF
	then pass "$what"; else fail "$what"; fi
}

# invoke NAME TAG [aws args...]: payload must be given in the args. Writes
# $tmp/TAG.out (payload), $tmp/TAG.meta (CLI output), $tmp/TAG.log (tail).
invoke() {
	local name=$1 tag=$2; shift 2
	if ! "$AWS" lambda invoke --endpoint-url "http://127.0.0.1:$port" \
		--function-name "$name" "$@" "$tmp/$tag.out" >"$tmp/$tag.meta" 2>"$tmp/$tag.err"; then
		echo "      aws lambda invoke failed:"; sed 's/^/      | /' "$tmp/$tag.err"
		return 1
	fi
	"$PY" -c '
import base64, json, sys
m = json.load(open(sys.argv[1]))
open(sys.argv[2], "wb").write(base64.b64decode(m.get("LogResult", "")))
' "$tmp/$tag.meta" "$tmp/$tag.log"
}
event() { printf '%s' "$2" >"$tmp/$1.json"; echo "fileb://$tmp/$1.json"; }

# ---- start the emulator -----------------------------------------------------------
emu_args=(--function testfn="$BOOTSTRAP" --timeout testfn=60
	--env testfn:EXTRA_VAR=extra-value
	--function initfail="$BOOTSTRAP" --env initfail:FIREBREAK_TESTFN_INIT_FAIL=1
	--function tmo="$BOOTSTRAP" --timeout tmo="$TMO"
	--function jsonlog="$BOOTSTRAP" --env jsonlog:AWS_LAMBDA_LOG_FORMAT=JSON
	--env jsonlog:AWS_LAMBDA_LOG_LEVEL=WARN)
[ -n "$WRAPPER" ] && emu_args+=(--wrapper "$WRAPPER")
"$PY" "$EMU" serve "${emu_args[@]}" --port 0 --port-file "$tmp/port" \
	>"$tmp/emu.out" 2>"$tmp/emu.err" &
emu_pid=$!
for _ in $(seq 300); do
	[ -s "$tmp/port" ] && break
	kill -0 "$emu_pid" 2>/dev/null || { echo "FAIL: emulator exited"; cat "$tmp/emu.err"; exit 1; }
	sleep 0.1
done
[ -s "$tmp/port" ] || { echo "FAIL: emulator did not start"; exit 1; }
port=$(cat "$tmp/port")
grep -q "^listening on http://127.0.0.1:$port\$" "$tmp/emu.out" ||
	fail "emulator prints its address"
echo "emulator on port $port; bootstrap $BOOTSTRAP${WRAPPER:+ under $WRAPPER}"
stats() { "$PY" -c 'import json,sys,urllib.request; print(json.dumps(json.load(urllib.request.urlopen(sys.argv[1]))))' \
	"http://127.0.0.1:$port/_emulator/stats" >"$tmp/stats.json"; }

# ---- success ------------------------------------------------------------------------
ev='{"action":"echo","nested":{"list":[1,2.5,null,true],"text":"caf\u00e9 \"q\" \\ \n"},"utf8":"žluť"}'
if invoke testfn echo --payload "$(event echo "$ev")"; then
	jcheck "$tmp/echo.meta" "success: StatusCode 200, no FunctionError, \$LATEST" \
		'd["StatusCode"] == 200 and "FunctionError" not in d and d["ExecutedVersion"] == "$LATEST"'
	jcheck "$tmp/echo.out" "success: payload echoed unchanged" \
		"d == json.loads(open('$tmp/echo.json', 'rb').read())"
else fail "success invoke"; fi

# the same with the CLI's raw-in-base64-out form
if invoke testfn raw --cli-binary-format raw-in-base64-out --payload '{"action":"echo","k":"v"}'; then
	jcheck "$tmp/raw.out" "success via --cli-binary-format raw-in-base64-out" \
		'd == {"action": "echo", "k": "v"}'
else fail "raw-in-base64-out invoke"; fi

# a published AWS sample event survives the round trip
sample=$(ls ../shared/reference-events/*.json 2>/dev/null | head -n1 || true)
if [ -n "$sample" ]; then
	"$PY" -c 'import json,sys; print(json.dumps({"action":"echo","event":json.load(open(sys.argv[1]))}))' \
		"$sample" >"$tmp/sample.json"
	if invoke testfn sample --payload "fileb://$tmp/sample.json"; then
		jcheck "$tmp/sample.out" "published sample $(basename "$sample") echoed unchanged" \
			"d == json.load(open('$tmp/sample.json'))"
	else fail "sample invoke"; fi
else
	echo "skip  published sample event (../shared not present)"
fi

# ---- context, trace id, client context, environment, Tail ---------------------------------
cc=$("$PY" -c 'import base64; print(base64.b64encode(b"{\"custom\":{\"k\":\"v\"}}").decode())')
if invoke testfn ctx --payload "$(event ctx '{"action":"context"}')" --log-type Tail --client-context "$cc"; then
	jcheck "$tmp/ctx.out" "context: request id, function ARN, deadline ahead" \
		'len(d["request_id"]) >= 32 and d["function_arn"].startswith("arn:aws:lambda:us-east-1:") and d["function_arn"].endswith(":function:testfn") and 0 < d["remaining_ms"] <= 60000'
	jcheck "$tmp/ctx.out" "context: _X_AMZN_TRACE_ID equals the trace header" \
		'd["trace_id"].startswith("Root=1-") and d["trace_env"] == d["trace_id"]'
	jcheck "$tmp/ctx.out" "context: client context from --client-context" \
		'json.loads(d["client_context"]) == {"custom": {"k": "v"}}'
	rid=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["request_id"])' "$tmp/ctx.out")
	if grep -q "^START RequestId: $rid" "$tmp/ctx.log" &&
		grep -P "^\S+\t$rid\tINFO\ttestfn action 'context'" "$tmp/ctx.log" >/dev/null; then
		pass "Tail log has START and the function's line with the request id"
	else fail "Tail log with request id"; sed 's/^/      | /' "$tmp/ctx.log"; fi
else fail "context invoke"; fi

# the next invoke gets a different trace id and request id
if invoke testfn ctx2 --payload "$(event ctx2 '{"action":"context"}')"; then
	jcheck "$tmp/ctx2.out" "second invoke: new request id and trace id, same process" \
		"d['request_id'] != json.load(open('$tmp/ctx.out'))['request_id'] and d['trace_env'] == d['trace_id'] != json.load(open('$tmp/ctx.out'))['trace_id'] and d['invokes'] == json.load(open('$tmp/ctx.out'))['invokes'] + 1"
else fail "second context invoke"; fi

if invoke testfn env --payload "$(event env '{"action":"env","names":["AWS_LAMBDA_FUNCTION_NAME","AWS_LAMBDA_FUNCTION_VERSION","AWS_LAMBDA_FUNCTION_MEMORY_SIZE","AWS_REGION","AWS_DEFAULT_REGION","AWS_LAMBDA_RUNTIME_API","AWS_LAMBDA_LOG_GROUP_NAME","LAMBDA_TASK_ROOT","_HANDLER","TZ","EXTRA_VAR"]}')"; then
	jcheck "$tmp/env.out" "Lambda environment and --env extras reach the function" \
		'd["AWS_LAMBDA_FUNCTION_NAME"] == "testfn" and d["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST" and d["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"].isdigit() and d["AWS_REGION"] == d["AWS_DEFAULT_REGION"] == "us-east-1" and d["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:") and d["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/testfn" and d["LAMBDA_TASK_ROOT"] and d["_HANDLER"] and d["TZ"] == ":UTC" and d["EXTRA_VAR"] == "extra-value"'
else fail "env invoke"; fi

# ---- errors ---------------------------------------------------------------------------
if invoke testfn err --payload "$(event err '{"action":"error","type":"Firebreak.Bad Typ\u00e9","message":"went \"wrong\" \u00e9\n2nd line"}')"; then
	jcheck "$tmp/err.meta" "handler error: FunctionError Unhandled" \
		'd["StatusCode"] == 200 and d.get("FunctionError") == "Unhandled"'
	jcheck "$tmp/err.out" "handler error: errorType kept ASCII, message intact, stackTrace" \
		'd["errorType"] == "Firebreak.Bad_Typ__" and d["errorMessage"] == "went \"wrong\" \u00e9\n2nd line" and d["stackTrace"] == []'
else fail "handler error invoke"; fi

if invoke testfn hfail --payload "$(event hfail '{"action":"fail","code":"io"}')"; then
	jcheck "$tmp/hfail.out" "handler failure without result: Runtime.HandlerError" \
		'd["errorType"] == "Runtime.HandlerError" and "i/o" in d["errorMessage"]'
else fail "handler failure invoke"; fi

if invoke initfail init --payload "$(event init '{"action":"echo"}')" --log-type Tail; then
	jcheck "$tmp/init.meta" "init error: FunctionError Unhandled" 'd.get("FunctionError") == "Unhandled"'
	jcheck "$tmp/init.out" "init error: the posted init error comes back" \
		'd["errorType"] == "Runtime.InitError" and "FIREBREAK_TESTFN_INIT_FAIL" in d["errorMessage"]'
	grep -q "init failed" "$tmp/init.log" && pass "init error: init logs in the Tail" ||
		fail "init error: init logs in the Tail"
else fail "init error invoke"; fi

stats; cold_before=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["functions"]["testfn"]["cold_starts"])' "$tmp/stats.json")
[ "$cold_before" = 1 ] && pass "warm invokes reused one process (1 cold start)" ||
	fail "expected 1 cold start so far, got $cold_before"

if invoke testfn crash --payload "$(event crash '{"action":"crash"}')"; then
	jcheck "$tmp/crash.meta" "crash: FunctionError Unhandled" 'd.get("FunctionError") == "Unhandled"'
	jcheck "$tmp/crash.out" "crash: Runtime.ExitError naming the signal" \
		'd["errorType"] == "Runtime.ExitError" and "signal: aborted" in d["errorMessage"]'
else fail "crash invoke"; fi
if invoke testfn after --payload "$(event after '{"action":"context"}')"; then
	jcheck "$tmp/after.out" "after crash: next invoke succeeds in a fresh process" 'd["invokes"] == 1'
	stats
	jcheck "$tmp/stats.json" "after crash: the emulator recorded a second cold start" \
		'd["functions"]["testfn"]["cold_starts"] == 2 and all(x > 0 for x in d["functions"]["testfn"]["cold_start_ms"])'
else fail "invoke after crash"; fi

if invoke testfn exit --payload "$(event exit '{"action":"exit","code":3}')"; then
	jcheck "$tmp/exit.out" "exit mid-invoke: Runtime.ExitError with the status" \
		'd["errorType"] == "Runtime.ExitError" and "exit status 3" in d["errorMessage"]'
else fail "exit invoke"; fi

if invoke tmo tmo --payload "$(event tmo '{"action":"sleep","ms":60000}')" --log-type Tail; then
	jcheck "$tmp/tmo.meta" "timeout: FunctionError Unhandled" 'd.get("FunctionError") == "Unhandled"'
	jcheck "$tmp/tmo.out" "timeout: Sandbox.Timedout after the configured seconds" \
		"d['errorType'] == 'Sandbox.Timedout' and 'Task timed out after %.2f seconds' % $TMO in d['errorMessage']"
	grep -q "Task timed out" "$tmp/tmo.log" && pass "timeout: noted in the Tail" || fail "timeout: noted in the Tail"
else fail "timeout invoke"; fi
if invoke tmo tmo2 --payload "$(event tmo2 '{"action":"echo","n":2}')"; then
	jcheck "$tmp/tmo2.out" "after timeout: the function answers again" 'd == {"action": "echo", "n": 2}'
else fail "invoke after timeout"; fi

# ---- size limit -----------------------------------------------------------------------------
if invoke testfn big --payload "$(event big '{"action":"big","bytes":7000000}')"; then
	jcheck "$tmp/big.meta" "oversize: FunctionError Unhandled" 'd.get("FunctionError") == "Unhandled"'
	jcheck "$tmp/big.out" "oversize: Function.ResponseSizeTooLarge" \
		'd["errorType"] == "Function.ResponseSizeTooLarge"'
else fail "oversize invoke"; fi
if invoke testfn limit --payload "$(event limit '{"action":"big","bytes":6291456}')"; then
	size=$(stat -c %s "$tmp/limit.out")
	jcheck "$tmp/limit.meta" "exactly 6 MiB: a normal response" '"FunctionError" not in d'
	[ "$size" = 6291456 ] && pass "exactly 6 MiB: all bytes delivered" || fail "6 MiB response was $size bytes"
else fail "6 MiB invoke"; fi

# ---- logs -----------------------------------------------------------------------------------
if invoke jsonlog jl1 --payload "$(event jl1 '{"action":"log","level":"ERROR","message":"marker-error"}')" --log-type Tail &&
	invoke jsonlog jl2 --payload "$(event jl2 '{"action":"log","level":"INFO","message":"marker-info"}')" --log-type Tail; then
	if "$PY" - "$tmp/jl1.log" "$tmp/jl2.log" <<'EOF'
import json, sys, re
one = open(sys.argv[1]).read()
rid = re.search(r"^START RequestId: (\S+)", one, re.M).group(1)
objs = [json.loads(l) for l in one.splitlines() if l.startswith("{")]
hit = [o for o in objs if o.get("message") == "marker-error"]
assert hit and hit[0]["level"] == "ERROR" and hit[0]["requestId"] == rid, objs
assert all("level" in o and "timestamp" in o for o in objs), objs
assert all(o["level"] in ("WARN", "ERROR", "FATAL") for o in objs), objs
assert "marker-info" not in open(sys.argv[2]).read()
EOF
	then pass "JSON logs: level and requestId keys; AWS_LAMBDA_LOG_LEVEL=WARN drops INFO"
	else fail "JSON logs"; fi
else fail "jsonlog invokes"; fi

long=$("$PY" -c 'print("x" * 10000)')
if invoke testfn tail --payload "$(event tail "{\"action\":\"log\",\"message\":\"$long\"}")" --log-type Tail; then
	size=$(stat -c %s "$tmp/tail.log")
	[ "$size" -gt 0 ] && [ "$size" -le 4096 ] && pass "Tail is capped at 4 KB ($size bytes)" ||
		fail "Tail size $size"
else fail "long log invoke"; fi

# ---- invocation types, unknown function, invalid payload -------------------------------------
if invoke testfn dry --invocation-type DryRun --payload "$(event dry '{"action":"crash"}')"; then
	jcheck "$tmp/dry.meta" "DryRun: 204" 'd["StatusCode"] == 204'
else fail "DryRun invoke"; fi
stats; n0=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["functions"]["testfn"]["invocations"])' "$tmp/stats.json")
if invoke testfn async --invocation-type Event --payload "$(event async '{"action":"echo"}')"; then
	jcheck "$tmp/async.meta" "Event: 202" 'd["StatusCode"] == 202'
	for _ in $(seq 100); do
		stats
		n1=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["functions"]["testfn"]["invocations"])' "$tmp/stats.json")
		[ "$n1" -gt "$n0" ] && break
		sleep 0.1
	done
	[ "$n1" -gt "$n0" ] && pass "Event: the invocation ran in the background" || fail "Event invocation never ran"
else fail "Event invoke"; fi

if "$AWS" lambda invoke --endpoint-url "http://127.0.0.1:$port" --function-name no-such-fn \
	--payload "$(event nf '{}')" "$tmp/nf.out" >"$tmp/nf.meta" 2>"$tmp/nf.err"; then
	fail "unknown function should fail"
else
	grep -q "ResourceNotFoundException" "$tmp/nf.err" && grep -q "function:no-such-fn" "$tmp/nf.err" &&
		pass "unknown function: ResourceNotFoundException" || { fail "unknown function error"; cat "$tmp/nf.err"; }
fi
if "$AWS" lambda invoke --endpoint-url "http://127.0.0.1:$port" --function-name testfn \
	--payload "$(event bad 'not json')" "$tmp/bad.out" >"$tmp/bad.meta" 2>"$tmp/bad.err"; then
	fail "invalid payload should fail"
else
	grep -q "InvalidRequestContentException" "$tmp/bad.err" &&
		pass "invalid JSON payload: InvalidRequestContentException" || { fail "invalid payload"; cat "$tmp/bad.err"; }
fi

# ---- one-shot mode --------------------------------------------------------------------------
oneshot=(--function one="$BOOTSTRAP" --quiet)
[ -n "$WRAPPER" ] && oneshot+=(--wrapper "$WRAPPER")
printf '%s' '{"action":"echo","one":"shot"}' >"$tmp/one.json"
if "$PY" "$EMU" invoke "${oneshot[@]}" "$tmp/one.json" >"$tmp/one.out"; then
	jcheck "$tmp/one.out" "one-shot: prints the response, exit 0" 'd == {"action": "echo", "one": "shot"}'
else fail "one-shot success exited non-zero"; fi
printf '%s' '{"action":"error","type":"One.Err","message":"m"}' >"$tmp/one-err.json"
if "$PY" "$EMU" invoke "${oneshot[@]}" "$tmp/one-err.json" >"$tmp/one-err.out"; then
	fail "one-shot function error should exit non-zero"
else
	jcheck "$tmp/one-err.out" "one-shot: function error exits non-zero with the error" 'd["errorType"] == "One.Err"'
fi

# ---- what only a scripted Runtime API can provoke (500s, stale connections,
# header hygiene, trace id unset) ------------------------------------------------------
fake=(--bootstrap "$BOOTSTRAP")
[ -n "$WRAPPER" ] && fake+=(--wrapper "$WRAPPER")
"$PY" tests/emulator/fake_runtime.py "${fake[@]}" >"$tmp/fake.out" 2>&1 || true
cat "$tmp/fake.out"
n=$(grep -c '^FAIL' "$tmp/fake.out" || true)
fails=$((fails + n))
grep -q '^ok' "$tmp/fake.out" || fail "fake runtime checks did not run"

# ---- nothing left running -----------------------------------------------------------------------
stats
pids=$("$PY" -c 'import json,sys; print(" ".join(str(p) for f in json.load(open(sys.argv[1]))["functions"].values() for p in f["pids"]))' "$tmp/stats.json")
kill -TERM "$emu_pid"
for _ in $(seq 100); do kill -0 "$emu_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$emu_pid" 2>/dev/null; then fail "emulator did not stop on SIGTERM"; else
	emu_pid=
	left=
	for p in $pids; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
	if [ -n "$left" ]; then fail "bootstrap processes left after the emulator stopped:$left"
	else pass "emulator stopped on SIGTERM; none of its $(echo $pids | wc -w) processes left"; fi
fi

echo
if [ "$fails" -gt 0 ]; then
	echo "$fails check(s) failed; emulator log tail:"
	tail -n 40 "$tmp/emu.err" | sed 's/^/    | /'
	exit 1
fi
echo "all checks passed"
