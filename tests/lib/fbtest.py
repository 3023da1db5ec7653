"""fbtest: the shared helper for firebreak's integration tests.

    import sys, os
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
    import fbtest

    with fbtest.Fake(seed) as fake:                 # tests/fakeaws/server.py on 127.0.0.1:0
        res = fbtest.invoke("kms-guard", event, fake, env={"FIREBREAK_TOPIC_ARN": topic})
        res.ok, res.body, res.error_type, res.report  # result / error, parsed
        fake.state()["kms"]["keys"]                  # GET /_fake/state
        fake.calls()                                 # GET /_fake/calls (list of entries)
        fbtest.writes(fake.calls())                  # the calls that change AWS state
        fake.faults({"kind": "throttle", "service": "kms", "operation": "CancelKeyDeletion", "count": 2})

invoke() runs build/native/<name>/bootstrap once through the Lambda
emulator's one-shot mode (tests/emulator/emulator.py invoke) with the fake's
endpoint and credentials (AKIDFAKE / fakesecret, account 111111111111, region
us-east-1) plus `env`. Keep this file small; add functions at the END.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PYTHON = "/usr/bin/python3"
ACCOUNT = "111111111111"
REGION = "us-east-1"
SHARED = os.path.join(ROOT, "..", "shared")
REFERENCE_EVENTS = os.path.join(SHARED, "reference-events")

# Operations that only read. Everything else changes AWS state ("write").
READ_PREFIXES = ("Describe", "List", "Get", "Lookup", "Head", "Filter", "Search")
READ_OPS = {"AssumeRole", "GetCallerIdentity", "TestEventPattern"}
# CloudWatch Logs Insights queries read log data; they change no resource (issue 21)
READ_OPS |= {"StartQuery", "StopQuery"}
# Notifications are writes to SNS but never to the resource a responder guards;
# the contract publishes them under dry run and on skips. writes() leaves them
# out unless include_notify=True.
NOTIFY_OPS = {("sns", "Publish"),
              # issue 24: the report onto EventBridge and into Security Hub (runtime/outlet.h)
              ("events", "PutEvents"), ("securityhub", "BatchUpdateFindings"),
              ("securityhub", "BatchImportFindings")}


class Fake:
    """tests/fakeaws/server.py started on a free port with `seed` (a dict)."""

    def __init__(self, seed=None):
        self.seed_data = seed or {}
        self.proc = None
        self.port = None
        self.tmp = tempfile.TemporaryDirectory(prefix="fbtest-")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def server_args(self):
        """What server.py gets besides --port/--port-file/--seed."""
        return []

    def started(self):
        """Reads what the server wrote once it listens; False until then."""
        port_file = os.path.join(self.tmp.name, "port")
        if not os.path.exists(port_file):
            return False
        self.port = int(open(port_file).read().strip())
        return True

    def start(self):
        seed_path = os.path.join(self.tmp.name, "seed.json")
        port_file = os.path.join(self.tmp.name, "port")
        with open(seed_path, "w") as f:
            json.dump(self.seed_data, f)
        self.log = open(os.path.join(self.tmp.name, "fakeaws.log"), "w")
        self.proc = subprocess.Popen(
            [PYTHON, os.path.join(ROOT, "tests/fakeaws/server.py"), "--port", "0",
             "--port-file", port_file, "--seed", seed_path] + self.server_args(),
            stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.started():
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("fakeaws did not start; see its log")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
            self.log = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def admin_url(self):
        """Where /_fake/ requests go: the AWS endpoint itself, for a plain fake."""
        return self.url

    def _req(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.admin_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"{}")

    def state(self):
        return self._req("GET", "/_fake/state")

    def calls(self):
        return self._req("GET", "/_fake/calls")["calls"]

    def reset_calls(self):
        self._req("POST", "/_fake/calls/reset", {})

    def faults(self, spec):
        return self._req("POST", "/_fake/faults", spec)

    def seed(self, world, merge=False):
        return self._req("POST", "/_fake/seed" + ("?mode=merge" if merge else ""), world)

    def reset(self):
        self._req("POST", "/_fake/reset", {})


def is_write(call, include_notify=False):
    op = call.get("operation") or ""
    if (call.get("service"), op) in NOTIFY_OPS:
        return include_notify
    return not (op.startswith(READ_PREFIXES) or op in READ_OPS)


def writes(calls, include_notify=False):
    """The calls in `calls` that change AWS state (SNS Publish excluded by default)."""
    return [c for c in calls if is_write(c, include_notify)]


def ops(calls):
    """["kms:DescribeKey", ...] in call order."""
    return ["%s:%s" % (c.get("service"), c.get("operation")) for c in calls]


class Result:
    def __init__(self, rc, stdout, stderr):
        self.rc = rc
        self.raw = stdout
        self.logs = stderr
        self.ok = rc == 0
        try:
            self.body = json.loads(stdout) if stdout.strip() else None
        except ValueError:
            self.body = None
        self.error_type = self.body.get("errorType") if (not self.ok and isinstance(self.body, dict)) else None
        self.error_message = self.body.get("errorMessage") if self.error_type else None

    @property
    def report(self):
        """The report: the result on success, the parsed errorMessage on an error."""
        if self.ok:
            return self.body
        try:
            return json.loads(self.error_message or "")
        except ValueError:
            return None

    def __repr__(self):
        return "Result(rc=%d, raw=%r)" % (self.rc, self.raw[:2000])


def _bootstrap(function):
    """build/native/<name>/bootstrap, or $FBTEST_BUILD/<name>/bootstrap (e.g. a sanitizer build)."""
    return os.path.join(os.environ.get("FBTEST_BUILD") or os.path.join(ROOT, "build/native"),
                        function, "bootstrap")


def invoke(function, event, fake=None, env=None, timeout=30, bootstrap=None, account=ACCOUNT,
           wrapper=None):
    """Runs `function` once on `event` (dict/list -> JSON; str/bytes sent as-is).
    `wrapper`: the emulator's --wrapper, e.g. "qemu-aarch64 -L /usr/aarch64-linux-gnu"."""
    bootstrap = bootstrap or _bootstrap(function)
    e = {"AWS_ACCESS_KEY_ID": "AKIDFAKE", "AWS_SECRET_ACCESS_KEY": "fakesecret",
         "AWS_REGION": REGION, "AWS_MAX_ATTEMPTS": "3"}
    if fake is not None:
        e["AWS_ENDPOINT_URL"] = fake.url
    e.update(env or {})
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as f:
        if isinstance(event, (dict, list)):
            f.write(json.dumps(event).encode())
        elif isinstance(event, str):
            f.write(event.encode())
        else:
            f.write(event)
        path = f.name
    argv = [PYTHON, os.path.join(ROOT, "tests/emulator/emulator.py"), "invoke",
            "--function", "%s=%s" % (function, bootstrap), "--account", account,
            "--region", REGION, "--timeout", "%s=%d" % (function, timeout)]
    if wrapper:
        argv += ["--wrapper", wrapper]
    for k, v in e.items():
        argv += ["--env", "%s:%s=%s" % (function, k, v)]
    argv.append(path)
    penv = dict(os.environ)
    penv.update({k: v for k, v in e.items() if k.startswith("AWS_ACCESS") or k.startswith("AWS_SECRET")})
    try:
        p = subprocess.run(argv, capture_output=True, timeout=timeout + 30, cwd=ROOT, env=penv)
    finally:
        os.unlink(path)
    return Result(p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"))


def reference(name):
    """A published sample from ../shared/reference-events as a dict, or None when absent."""
    path = os.path.join(REFERENCE_EVENTS, name)
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8-sig"))


def eventbridge_wrap(record, event_id="00000000-0000-0000-0000-000000000001", source=None,
                     detail_type="AWS API Call via CloudTrail"):
    """A CloudTrail record in the EventBridge envelope, as the reference README shows."""
    src = source or "aws." + (record.get("eventSource") or "unknown.amazonaws.com").split(".")[0]
    return {"version": "0", "id": event_id, "detail-type": detail_type, "source": src,
            "account": record.get("recipientAccountId") or (record.get("userIdentity") or {}).get("accountId") or ACCOUNT,
            "time": record.get("eventTime"), "region": record.get("awsRegion", REGION),
            "resources": [], "detail": record}


def main(test_case_classes):
    """Runs unittest classes, prints "N passed, N failed", exits non-zero on failure."""
    import unittest
    suite = unittest.TestSuite()
    for cls in test_case_classes:
        suite.addTests(unittest.defaultTestLoader.loadTestsFromTestCase(cls))
    res = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(res.failures) + len(res.errors)
    passed = res.testsRun - failed - len(res.skipped)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


def invoke_raw(function, payload, fake=None, env=None, timeout=30, bootstrap=None, account=ACCOUNT):
    """Like invoke(), but hands `payload` (bytes) to the function unchecked, through a
    minimal one-shot Runtime API here: Lambda and the emulator refuse non-JSON
    payloads, yet a function must still survive them (empty, not JSON, binary)."""
    import threading
    import uuid
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    bootstrap = bootstrap or _bootstrap(function)
    rid = str(uuid.uuid4())
    got = {}
    done = threading.Event()

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            if got.get("served"):
                done.wait(timeout)   # the next /next blocks until we stop the process
                return
            got["served"] = True
            self.send_response(200)
            self.send_header("Lambda-Runtime-Aws-Request-Id", rid)
            self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + timeout * 1000))
            self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                             "arn:aws:lambda:%s:%s:function:%s" % (REGION, account, function))
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            got["body"] = self.rfile.read(n)
            got["error"] = self.path.endswith("/error")
            self.send_response(202)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")
            done.set()

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    e = dict(os.environ)
    e.update({"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:%d" % srv.server_address[1],
              "AWS_LAMBDA_FUNCTION_NAME": function, "AWS_ACCESS_KEY_ID": "AKIDFAKE",
              "AWS_SECRET_ACCESS_KEY": "fakesecret", "AWS_REGION": REGION})
    if fake is not None:
        e["AWS_ENDPOINT_URL"] = fake.url
    e.update(env or {})
    p = subprocess.Popen([bootstrap], env=e, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        done.wait(timeout)
    finally:
        p.kill()
        logs = p.communicate()[0].decode("utf-8", "replace")
        srv.shutdown()
        srv.server_close()
    if "body" not in got:
        return Result(2, "", logs)
    return Result(1 if got["error"] else 0, got["body"].decode("utf-8", "replace"), logs)


class TlsFake(Fake):
    """fakeaws over HTTPS (server.py --tls-cert/--tls-key) with `cert`/`key` (PEM
    paths). url is https://HOST:PORT, HOST "localhost" by default (the name the
    certificate must carry); the admin calls (state(), calls(), seed(), ...) go
    to a plain-http admin-only listener, so they work whatever the certificate
    (expired, wrong name, unknown CA). tls() is GET /_fake/tls: the listener's
    connections / handshakes / failures / last_error."""

    def __init__(self, seed=None, cert=None, key=None, host="localhost"):
        super().__init__(seed)
        self.cert, self.key, self.host = cert, key, host
        self.admin_port = None

    def server_args(self):
        return ["--tls-cert", self.cert, "--tls-key", self.key, "--admin-port", "0",
                "--admin-port-file", os.path.join(self.tmp.name, "admin-port")]

    def started(self):
        # server.py writes the admin port file before the port file.
        if not super().started():
            return False
        self.admin_port = int(open(os.path.join(self.tmp.name, "admin-port")).read().strip())
        return True

    @property
    def url(self):
        return "https://%s:%d" % (self.host, self.port)

    @property
    def admin_url(self):
        return "http://127.0.0.1:%d" % self.admin_port

    def tls(self):
        return self._req("GET", "/_fake/tls")
