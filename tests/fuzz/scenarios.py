"""scenarios: each responder's main scenario (seed, env, event, account),
taken from the responder's own integration test module so the fault matrix,
the hostile catalogue and the sanitizer/valgrind runs follow it as it grows;
plus run_once(), a one-shot Runtime API that ends the bootstrap cleanly
(the second GET /next answers 500, so lr_main returns) — the emulator
SIGKILLs its sandboxes, which would skip LeakSanitizer's and valgrind's
exit-time leak checks.

    import scenarios
    sc = scenarios.get("kms-guard")          # None when the responder is absent
    sc.seed, sc.env, sc.event (bytes), sc.account
"""
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import fbtest  # noqa: E402

RESPONDERS = ("root-verify", "kms-guard", "leak-rotate", "task-quarantine", "public-lock", "iam-contain",
              "instance-quarantine")
TEST_FILES = {"kms-guard": "50-kms-guard.py", "root-verify": "51-root-verify.py",
              "leak-rotate": "52-leak-rotate.py", "task-quarantine": "53-task-quarantine.py",
              "public-lock": "56-public-lock.py", "iam-contain": "58-iam-contain.py",
              "instance-quarantine": "55-instance-quarantine.py"}
RESPONDERS += ("net-block",)                 # issue 19
TEST_FILES["net-block"] = "57-net-block.py"
RESPONDERS += ("data-breach",)               # issue 22
TEST_FILES["data-breach"] = "59-data-breach.py"
RESPONDERS += ("access-triage",)             # issue 21
TEST_FILES["access-triage"] = "59-access-triage.py"
RESPONDERS += ("cognito-lockdown",)          # issue 23
TEST_FILES["cognito-lockdown"] = "65-cognito-lockdown.py"
RESPONDERS += ("codeartifact-lock",)         # issue 23
TEST_FILES["codeartifact-lock"] = "66-codeartifact-lock.py"
_mods = {}


def _module(fn):
    if fn in _mods:
        return _mods[fn]
    path = os.path.join(ROOT, "tests", "integration", TEST_FILES[fn])
    m = None
    if os.path.exists(path):
        spec = importlib.util.spec_from_file_location("fbt_" + fn.replace("-", "_"), path)
        m = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(m)
        except Exception as e:  # a test module mid-edit: say so, do not crash the caller
            print("scenarios: cannot load %s: %s" % (path, e), file=sys.stderr)
            m = None
    _mods[fn] = m
    return m


class Scenario:
    def __init__(self, name, seed, env, event_file, account):
        self.name = name
        self.seed = seed
        self.env = dict(env)
        self.event_file = event_file
        with open(event_file, "rb") as f:
            self.event = f.read()
        self.account = account

    def events(self):
        """Every sample event of the responder (events/<name>/*.json)."""
        d = os.path.join(ROOT, "events", self.name)
        return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".json"))


def bootstrap(name, build=None):
    return os.path.join(build or os.path.join(ROOT, "build", "native"), name, "bootstrap")


def get(name):
    """The main scenario of `name`, or None when the responder or its test is absent."""
    if not os.path.exists(bootstrap(name)):
        return None
    m = _module(name)
    if m is None:
        return None
    ev = os.path.join(ROOT, "events", name)
    try:
        if name == "kms-guard":
            return Scenario(name, m.SEED, m.ENV, os.path.join(ev, "schedule-deletion-enabled-key.json"), m.ACCT)
        if name == "root-verify":
            env = {"FIREBREAK_TOPIC_ARN": m.TOPIC, "FIREBREAK_MEMBER_ROLE": "firebreak-member",
                   "FIREBREAK_ROOT_ALLOWED_CIDRS": m.ALLOWED}
            return Scenario(name, m.world(), env, os.path.join(ev, "signin-no-mfa.json"), m.OWN)
        if name == "leak-rotate":
            return Scenario(name, m.SEED, m.ENV, os.path.join(ev, "awslogs-watched-secret.json"), fbtest.ACCOUNT)
        if name == "task-quarantine":
            env = {"FIREBREAK_EVIDENCE_BUCKET": m.BUCKET, "FIREBREAK_EVIDENCE_KMS_KEY": "alias/firebreak-evidence",
                   "FIREBREAK_TOPIC_ARN": m.TOPIC}
            return Scenario(name, m.world(), env, os.path.join(ev, "manual.json"), fbtest.ACCOUNT)
        if name == "public-lock":
            return Scenario(name, m.world(), {"FIREBREAK_TOPIC_ARN": m.TOPIC},
                            os.path.join(ev, "put-bucket-policy.json"), fbtest.ACCOUNT)
        if name == "iam-contain":
            return Scenario(name, m.world(attached=True), {"FIREBREAK_TOPIC_ARN": m.TOPIC},
                            os.path.join(ev, "attach-user-policy-self-escalation.json"), fbtest.ACCOUNT)
        if name == "instance-quarantine":
            return Scenario(name, m.SEED, {"FIREBREAK_TOPIC_ARN": m.TOPIC},
                            os.path.join(ev, "guardduty-ec2-crypto.json"), fbtest.ACCOUNT)
        if name == "net-block":
            return Scenario(name, m.scenario_world(), m.ENV, os.path.join(ev, "authorize-ssh-world.json"),
                            fbtest.ACCOUNT)
        if name == "data-breach":  # issue 22: the alarm sample, in the fake's account
            import tempfile
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                json.dump(m.event("alarm-read-spike.json"), f)
            return Scenario(name, m.world(), {"FIREBREAK_TOPIC_ARN": m.TOPIC}, f.name, fbtest.ACCOUNT)
        if name == "access-triage":
            return Scenario(name, m.scenario_world(), getattr(m, "SCENARIO_ENV", m.ENV),
                            os.path.join(ev, "alarm-unauthorized-api-calls.json"), fbtest.ACCOUNT)
        if name == "cognito-lockdown":  # issue 23: every user of a small pool, the client secret rotated
            import tempfile
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                json.dump(m.manual(), f)
            return Scenario(name, m.world(users=2), m.ENV, f.name, fbtest.ACCOUNT)
        if name == "codeartifact-lock":  # issue 23: a role session: domain, repositories, sessions
            return Scenario(name, m.world(), m.ENV, os.path.join(ev, "manual-role-session.json"), fbtest.ACCOUNT)
    except (AttributeError, OSError) as e:
        print("scenarios: %s: %s" % (name, e), file=sys.stderr)
    return None


def all_present():
    return [s for s in (get(n) for n in RESPONDERS) if s is not None]


class Run:
    def __init__(self):
        self.rc = None          # the bootstrap's exit code (None: killed at the timeout)
        self.posted = None      # bytes posted as response or error
        self.is_error = None
        self.logs = ""
        self.timed_out = False

    @property
    def body(self):
        try:
            return json.loads(self.posted) if self.posted else None
        except ValueError:
            return None


def run_once(name, payload, fake=None, env=None, account=fbtest.ACCOUNT, build=None,
             wrapper=(), timeout=60, deadline_s=30):
    """Runs the bootstrap (optionally under `wrapper`, e.g. valgrind) for one
    invocation of `payload` (bytes), then lets it exit: returns a Run."""
    return run_many(name, [payload], fake, env=env, account=account, build=build,
                    wrapper=wrapper, timeout=timeout, deadline_s=deadline_s)


def run_many(name, payloads, fake=None, env=None, account=fbtest.ACCOUNT, build=None,
             wrapper=(), timeout=60, deadline_s=30, before_each=None):
    """Runs one bootstrap process for len(payloads) invocations in a row, as a
    warm Lambda sandbox would, then lets it exit (the /next after the last
    answers 500): returns a Run whose .invocations[i] is {"posted",
    "is_error"} for payloads[i] (posted None: the process died first) and
    whose .posted/.is_error are the last answer's. before_each(i) runs before
    payloads[i] is handed out (e.g. to reseed the fake). One process for all
    lets valgrind pay its start-up once and still check every invocation:
    what an invocation leaks is unreachable at exit."""
    rids = [str(uuid.uuid4()) for _ in payloads]
    state = {"next": 0}
    run = Run()
    run.invocations = [{"posted": None, "is_error": None} for _ in payloads]

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            i = state["next"]
            if i >= len(payloads):
                # past the last: tell the runtime to exit (lr_main returns)
                self.send_response(500)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
                return
            state["next"] = i + 1
            if before_each:
                before_each(i)
            self.send_response(200)
            self.send_header("Lambda-Runtime-Aws-Request-Id", rids[i])
            self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + deadline_s * 1000))
            self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                             "arn:aws:lambda:%s:%s:function:%s" % (fbtest.REGION, account, name))
            self.send_header("Content-Length", str(len(payloads[i])))
            self.end_headers()
            self.wfile.write(payloads[i])

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n)
            rid = self.path.split("/invocation/")[-1].split("/")[0]
            if rid in rids:
                inv = run.invocations[rids.index(rid)]
                inv["posted"], inv["is_error"] = body, self.path.endswith("/error")
                run.posted, run.is_error = inv["posted"], inv["is_error"]
            self.send_response(202)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    e = dict(os.environ)
    e.update({"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:%d" % srv.server_address[1],
              "AWS_LAMBDA_FUNCTION_NAME": name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
              "AWS_ACCESS_KEY_ID": "AKIDFAKE", "AWS_SECRET_ACCESS_KEY": "fakesecret",
              "AWS_REGION": fbtest.REGION, "AWS_MAX_ATTEMPTS": "3"})
    if fake is not None:
        e["AWS_ENDPOINT_URL"] = fake.url
    e.update(env or {})
    p = subprocess.Popen(list(wrapper) + [bootstrap(name, build)], env=e,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = p.communicate(timeout=timeout)
        run.rc = p.returncode
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        run.timed_out = True
    finally:
        srv.shutdown()
        srv.server_close()
    run.logs = out.decode("utf-8", "replace")
    return run
