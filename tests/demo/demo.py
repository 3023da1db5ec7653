#!/usr/bin/python3
"""make demo: a local P1 drill that runs the four responders end to end.

    tests/demo/demo.py [--scenario root|kms|leak|task] [--dry-run] [--quiet]

Starts tests/fakeaws seeded with a production-like account (tests/demo/world.json),
starts the local Lambda emulator (tests/emulator/emulator.py, server mode) with the
four functions, fires each P1 scenario the way AWS would (an EventBridge event, or a
CloudWatch Logs subscription delivery) through the Lambda Invoke API, prints a
timeline per incident from the report's actions[], then checks the world through
the fake's admin state and prints PASS / FAIL / SKIP per scenario.

Reports: build/demo/<scenario>.report.json, build/demo/summary.json; logs of the
fake and the emulator (function logs) in build/demo/. Exit 1 if any scenario FAILs.
Every process started here is stopped on exit, Ctrl-C or failure.
"""
import argparse
import base64
import copy
import datetime
import gzip
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(ROOT, "build", "demo")
PYTHON = "/usr/bin/python3"
AWS_CLI = "/usr/bin/aws"

ACCOUNT = "111111111111"
REGION = "us-east-1"
TOPIC = "arn:aws:sns:us-east-1:111111111111:firebreak-p1"
BUCKET = "acme-prod-firebreak-evidence"
EVIDENCE_KEY = "alias/firebreak-evidence"
KEY_ID = "7f3a9c2e-5b1d-4e8f-a6c0-2d9e8b4f1a37"
SECRET = "prod/trading/exchange-keys"
CLUSTER, SERVICE = "trading", "exchange-gateway"
TASK_ID = "5d1e8c3a9b7f4e21a6c0d2b4f8e9a137"
ENI = "eni-0f3c5a7e9b1d2c4e6"
ATTACKER_KEY = ("AKIAQ3EGRZ7DEMOJDOEX", "demo-contractor-secret-key-0000000000001")
LEAKED_AKIA, OTHER_AKIA = "AKIAQ3EGRZ7DEMOCI2AB", "AKIAQ3EGRZ7DEMOCI3CD"
BOT_KEY = ("AKIAQ3EGRZ7DEMOBOT1X", "demo-build-bot-secret-key-00000000000001")
BOT_OTHER = "AKIAQ3EGRZ7DEMOBOT2Y"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"

ORDER = ["root", "kms", "leak", "task", "bucket", "iam", "instance"]
FUNCTION = {"root": "root-verify", "kms": "kms-guard", "leak": "leak-rotate",
            "task": "task-quarantine", "bucket": "public-lock",
            "iam": "iam-contain", "instance": "instance-quarantine"}
INSTANCE, INSTANCE_ENI = "i-0d4c3b2a1f0e9d8c7", "eni-0a9b8c7d6e5f40312"
TITLE = {"root": "root console sign-in without MFA",
         "kms": "customer managed key scheduled for deletion by an untrusted user",
         "leak": "exchange API keys and an AWS access key id in an application log",
         "task": "GuardDuty runtime finding: reverse shell in a trading ECS task",
         "bucket": "a reports bucket made public by a bucket policy",
         "iam": "self-escalation by a leaked key: AdministratorAccess attached to its own user",
         "instance": "GuardDuty finding: crypto-mining on a risk batch EC2 instance"}

COMMON_ENV = {"AWS_ACCESS_KEY_ID": "AKIDFAKE", "AWS_SECRET_ACCESS_KEY": "fakesecret",
              "AWS_REGION": REGION, "AWS_MAX_ATTEMPTS": "3",
              "AWS_LAMBDA_LOG_FORMAT": "JSON", "FIREBREAK_TOPIC_ARN": TOPIC,
              "FIREBREAK_TRUSTED_PRINCIPALS":
                  "arn:aws:iam::111111111111:role/BreakGlass,arn:aws:iam::111111111111:role/terraform-*"}
FUNCTION_ENV = {
    "root-verify": {"FIREBREAK_ROOT_ALLOWED_CIDRS": "198.51.100.0/24,10.0.0.0/8"},
    "kms-guard": {},
    "leak-rotate": {"FIREBREAK_WATCHED_SECRETS": SECRET},
    "task-quarantine": {"FIREBREAK_EVIDENCE_BUCKET": BUCKET,
                        "FIREBREAK_EVIDENCE_KMS_KEY": EVIDENCE_KEY},
    "public-lock": {},
    "iam-contain": {},
    "instance-quarantine": {"FIREBREAK_EVIDENCE_BUCKET": BUCKET,
                            "FIREBREAK_EVIDENCE_KMS_KEY": EVIDENCE_KEY},
}
PUBLIC_BUCKET = "acme-prod-quarterly-reports"

READ_PREFIXES = ("Describe", "List", "Get", "Lookup", "Head", "Filter", "Search")
READ_OPS = {"AssumeRole", "GetCallerIdentity"}
READ_OPS |= {"StartQuery", "StopQuery"}   # issue 21: Insights queries read logs


# ---- terminal -------------------------------------------------------------------

class Term:
    def __init__(self, stream):
        self.stream = stream
        self.color = stream.isatty() and os.environ.get("NO_COLOR") is None \
            and os.environ.get("TERM") != "dumb"

    def c(self, code, text):
        return "\033[%sm%s\033[0m" % (code, text) if self.color else text

    def bold(self, t):
        return self.c("1", t)

    def dim(self, t):
        return self.c("2", t)

    def green(self, t):
        return self.c("32", t)

    def red(self, t):
        return self.c("31", t)

    def yellow(self, t):
        return self.c("33", t)

    def cyan(self, t):
        return self.c("36", t)

    def out(self, text=""):
        self.stream.write(text + "\n")
        self.stream.flush()

    def progress(self, text):
        self.stream.write(self.dim("  .. ") + text + "\n")
        self.stream.flush()


T = Term(sys.stdout)
STATUS_COLOR = {"done": "32", "already": "36", "planned": "33", "skipped": "2", "failed": "31"}


# ---- processes ------------------------------------------------------------------

class Processes:
    """Every process the demo starts, each in its own process group, stopped
    together (TERM, then KILL) however the demo ends."""

    def __init__(self):
        self.procs = []
        self.extra_pids = []   # bootstraps the emulator spawned (safety net)

    def start(self, argv, log_path, env=None):
        log = open(log_path, "ab")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             cwd=ROOT, env=env, start_new_session=True)
        log.close()
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except OSError:
                    pass
        end = time.time() + 5
        for p in reversed(self.procs):
            try:
                p.wait(max(0.1, end - time.time()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                p.wait()
        self.procs = []
        # The emulator stops its sandboxes itself; kill any it left behind, only
        # when the pid still runs one of our bootstraps.
        for pid in self.extra_pids:
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if b"bootstrap" in cmd and ROOT.encode() in cmd:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        self.extra_pids = []


def wait_port_file(path, proc, what, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path):
            with open(path) as f:
                txt = f.read().strip()
            if txt:
                return int(txt)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError("%s did not start (see its log in build/demo/)" % what)


def http_json(url, method="GET", body=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"{}")


class Fake:
    def __init__(self, port):
        self.url = "http://127.0.0.1:%d" % port

    def state(self):
        return http_json(self.url + "/_fake/state")

    def calls(self):
        return http_json(self.url + "/_fake/calls")["calls"]

    def seed_merge(self, world):
        return http_json(self.url + "/_fake/seed?mode=merge", "POST", world)


def is_write(service, op):
    if (service, op) == ("sns", "Publish"):
        return False
    return not (op.startswith(READ_PREFIXES) or op in READ_OPS)


def api_is_write(api):
    svc, _, op = (api or "").partition(":")
    return bool(op) and is_write(svc, op)


# ---- the world and the events -----------------------------------------------------

REL = re.compile(r"^@now(?:-(\d+)([smh]))?$")


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def resolve(doc, now, ids):
    """Replaces '@now[-Nu]', '@uuid' and '@hex32' placeholders (one fresh id per
    kind per document, so an event's ids agree with each other)."""
    if isinstance(doc, dict):
        return {k: resolve(v, now, ids) for k, v in doc.items() if k != "_comment"}
    if isinstance(doc, list):
        return [resolve(v, now, ids) for v in doc]
    if isinstance(doc, str):
        m = REL.match(doc)
        if m:
            n = int(m.group(1) or 0) * {"s": 1, "m": 60, "h": 3600}.get(m.group(2), 0)
            return iso(now - n)
        if "@uuid" in doc:
            ids.setdefault("uuid", str(uuid.uuid4()))
            doc = doc.replace("@uuid", ids["uuid"])
        if "@hex32" in doc:
            ids.setdefault("hex32", uuid.uuid4().hex)
            doc = doc.replace("@hex32", ids["hex32"])
    return doc


def load(name):
    with open(os.path.join(HERE, name)) as f:
        return json.load(f)


def secret_current_value(state, name):
    for s in state["secretsmanager"]["secrets"]:
        if s["Name"] == name:
            for v in s["versions"]:
                if "AWSCURRENT" in v["VersionStages"]:
                    return v, s
    return None, None


def watched_values(world):
    """Every string of the watched secrets a log line could leak (>= 8 chars)."""
    vals = []
    for s in world["secretsmanager"]["secrets"]:
        raw = s.get("SecretString") or ""
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = raw
        items = doc.values() if isinstance(doc, dict) else [doc]
        vals += [v for v in items if isinstance(v, str) and len(v) >= 8]
    return vals


def awslogs_event(template, state):
    """A CloudWatch Logs subscription delivery: {"awslogs": {"data": b64(gzip(json))}}."""
    now_ms = int(time.time() * 1000)

    def fill(m):
        v, _ = secret_current_value(state, m.group(1))
        return json.loads(v["SecretString"])[m.group(2)]

    def fill_key(m):
        # The secret access key of a seeded IAM key: a usable credential is
        # what leak-rotate deactivates (a key id alone is only reported).
        for u in load("world.json")["iam"]["users"]:
            for k in u.get("access_keys", []):
                if k["AccessKeyId"] == m.group(1):
                    return k["SecretAccessKey"]
        raise KeyError(m.group(1))

    events = []
    for i, msg in enumerate(template["messages"]):
        # Secret values are JSON-escaped here: they become part of a JSON log line.
        text = re.sub(r"@secret:([^:\"]+):([A-Za-z0-9_]+)", fill, msg)
        text = re.sub(r"@accesskey:(AKIA[A-Z0-9]{16})", fill_key, text)
        ts = now_ms - 2000 + i * 100
        events.append({"id": "%056d" % (random.getrandbits(160) % 10 ** 56), "timestamp": ts,
                       "message": text})
    payload = {"messageType": "DATA_MESSAGE", "owner": ACCOUNT, "logGroup": template["logGroup"],
               "logStream": template["logStream"],
               "subscriptionFilters": template["subscriptionFilters"], "logEvents": events}
    data = gzip.compress(json.dumps(payload).encode())
    return {"awslogs": {"data": base64.b64encode(data).decode()}}


# ---- invoking ----------------------------------------------------------------------

def invoke(emu_url, function, event):
    """POST /2015-03-31/functions/NAME/invocations, as `aws lambda invoke` does.
    -> (function_error, body_bytes, round_trip_ms)"""
    data = json.dumps(event).encode()
    req = urllib.request.Request("%s/2015-03-31/functions/%s/invocations" % (emu_url, function),
                                 data=data, method="POST",
                                 headers={"Content-Type": "application/json",
                                          "X-Amz-Invocation-Type": "RequestResponse"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=90) as r:
        body = r.read()
        ferr = r.headers.get("X-Amz-Function-Error")
    return ferr, body, (time.perf_counter() - t0) * 1000


def report_of(ferr, body):
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if ferr and isinstance(doc, dict):
        try:
            return json.loads(doc.get("errorMessage") or "")
        except ValueError:
            return None
    return doc if isinstance(doc, dict) else None


def aws_cli(fake_url, creds, *args):
    tmp = tempfile.mkdtemp(prefix="fbdemo-cli-")
    env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "AWS_ACCESS_KEY_ID": creds[0],
           "AWS_SECRET_ACCESS_KEY": creds[1], "AWS_DEFAULT_REGION": REGION,
           "AWS_CONFIG_FILE": os.path.join(tmp, "config"),
           "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp, "credentials"),
           "AWS_PAGER": "", "AWS_EC2_METADATA_DISABLED": "true"}
    p = subprocess.run([AWS_CLI, "--endpoint-url", fake_url, "--output", "json"] + list(args),
                       capture_output=True, env=env, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("aws %s failed: %s" % (" ".join(args[:2]), p.stderr.decode()[-500:]))
    return json.loads(p.stdout or b"{}")


# ---- scenarios ------------------------------------------------------------------------

class Check:
    def __init__(self):
        self.items = []

    def __call__(self, ok, what):
        self.items.append((bool(ok), what))
        return bool(ok)

    @property
    def ok(self):
        return bool(self.items) and all(ok for ok, _ in self.items)


def find(items, **kv):
    for it in items:
        if all(it.get(k) == v for k, v in kv.items()):
            return it
    return None


def key_of(state, key_id):
    return find(state["kms"]["keys"], KeyId=key_id, region=REGION, account=ACCOUNT)


def service_of(state):
    for s in state["ecs"]["services"]:
        if s["serviceName"] == SERVICE and s["clusterArn"].endswith("/" + CLUSTER):
            return s
    return None


def primary_deployment(svc):
    for d in (svc or {}).get("deployments") or []:
        if d.get("status") == "PRIMARY":
            return d
    return None


def task_of(state):
    for t in state["ecs"]["tasks"]:
        if t["taskArn"].endswith("/" + TASK_ID):
            return t
    return None


def access_key(state, akid):
    for u in state["iam"]["users"]:
        for k in u.get("access_keys") or []:
            if k["AccessKeyId"] == akid:
                return k
    return None


def published_reports(state, function):
    out = []
    for p in state["sns"].get("published") or []:
        if p.get("TopicArn") != TOPIC:
            continue
        try:
            doc = json.loads(p["Message"])
        except (ValueError, TypeError):
            continue
        if isinstance(doc, dict) and doc.get("function") == function:
            out.append(doc)
    return out


class Scenario:
    name = ""

    def __init__(self, ctx):
        self.ctx = ctx
        self.fn = FUNCTION[self.name]

    def prepare(self):
        """What happened in the account before AWS delivered the event."""

    def event(self):
        raise NotImplementedError

    def check(self, c, before, after, report, writes):
        raise NotImplementedError

    def check_dry(self, c, before, after, report, writes):
        c(not writes, "zero write calls (%d made%s)" % (
            len(writes), (": " + ", ".join(writes)) if writes else ""))
        c(report.get("dry_run") is True, "report says dry_run: true")


class RootScenario(Scenario):
    name = "root"

    def prepare(self):
        self.ctx.progress("CloudTrail: root ConsoleLogin without MFA from 185.220.101.34")

    def event(self):
        ev = resolve(load("events/root.json"), time.time(), {})
        # EventBridge gets the record after CloudTrail has it; LookupEvents sees it too.
        self.ctx.fake.seed_merge({"cloudtrail": {"records": [ev["detail"]]}})
        return ev

    def check(self, c, before, after, report, writes):
        c(report.get("severity") == "P1", "verdict severity P1 (%s)" % report.get("verdict"))
        codes = [r.get("code") for r in report.get("reasons") or []]
        c("signin-without-mfa" in codes, "reason signin-without-mfa")
        pubs = [p for p in published_reports(after, self.fn)
                if p.get("incident_id") == report.get("incident_id")]
        c(pubs and pubs[-1].get("severity") == "P1", "P1 verdict published to %s" % TOPIC.split(":")[-1])
        c(not writes, "no write other than the notification")

    def check_dry(self, c, before, after, report, writes):
        Scenario.check_dry(self, c, before, after, report, writes)
        c(report.get("severity") == "P1", "verdict severity P1 (%s)" % report.get("verdict"))


class KmsScenario(Scenario):
    name = "kms"

    def prepare(self):
        self.ctx.progress("attacker (contractor-jdoe): aws kms schedule-key-deletion "
                          "--key-id alias/trading-ledger --pending-window-in-days 7")
        out = aws_cli(self.ctx.fake.url, ATTACKER_KEY, "kms", "schedule-key-deletion",
                      "--key-id", "alias/trading-ledger", "--pending-window-in-days", "7")
        self.ctx.progress("key %s now %s" % (KEY_ID[:8], out.get("KeyState", "PendingDeletion")))

    def event(self):
        ev = resolve(load("events/kms.json"), time.time(), {})
        self.ctx.fake.seed_merge({"cloudtrail": {"records": [ev["detail"]]}})
        return ev

    def check(self, c, before, after, report, writes):
        k = key_of(after, KEY_ID)
        c(k and k.get("KeyState") == "Enabled", "key Enabled (%s)" % (k or {}).get("KeyState"))
        c(k and not k.get("DeletionDate") and not k.get("PendingDeletionWindowInDays"),
          "no deletion pending")
        c(report.get("verdict") == "contained", "report verdict contained")
        c(published_reports(after, self.fn), "report published to SNS")

    def check_dry(self, c, before, after, report, writes):
        Scenario.check_dry(self, c, before, after, report, writes)
        planned = [a["api"] for a in report.get("actions") or [] if a.get("status") == "planned"]
        c(planned, "writes listed as planned (%s)" % ", ".join(planned))
        k = key_of(after, KEY_ID)
        c(k and k.get("KeyState") == "PendingDeletion", "key untouched (%s)" % (k or {}).get("KeyState"))


class LeakScenario(Scenario):
    name = "leak"

    def prepare(self):
        self.ctx.progress("gateway logs its exchange client config and a CI access key with its secret; "
                          "the log group's subscription filter delivers the batch")

    def event(self):
        return awslogs_event(load("events/leak.json"), self.ctx.fake.state())

    def check(self, c, before, after, report, writes):
        v0, _ = secret_current_value(before, SECRET)
        v1, _ = secret_current_value(after, SECRET)
        c(v1 and v0 and v1["VersionId"] != v0["VersionId"],
          "secret rotated: new AWSCURRENT version %s" % ((v1 or {}).get("VersionId", "?")[:8]))
        d0, d1 = primary_deployment(service_of(before)), primary_deployment(service_of(after))
        c(d1 and d0 and d1["id"] != d0["id"],
          "service %s/%s redeployed: new PRIMARY deployment %s" % (CLUSTER, SERVICE, (d1 or {}).get("id")))
        k1, k2 = access_key(after, LEAKED_AKIA), access_key(after, OTHER_AKIA)
        c(k1 and k1.get("Status") == "Inactive", "leaked key %s Inactive" % LEAKED_AKIA)
        c(k2 and k2.get("Status") == "Active", "other key of the user untouched (%s Active)" % OTHER_AKIA)
        c(report.get("verdict") == "contained", "report verdict contained")

    def check_dry(self, c, before, after, report, writes):
        Scenario.check_dry(self, c, before, after, report, writes)
        planned = [a["api"] for a in report.get("actions") or [] if a.get("status") == "planned"]
        c(planned, "writes listed as planned (%s)" % ", ".join(planned))
        v0, _ = secret_current_value(before, SECRET)
        v1, _ = secret_current_value(after, SECRET)
        c(v0 and v1 and v0["VersionId"] == v1["VersionId"], "secret untouched")


class TaskScenario(Scenario):
    name = "task"

    def prepare(self):
        self.ctx.progress("GuardDuty Runtime Monitoring: reverse shell in task %s (%s/%s)"
                          % (TASK_ID[:8], CLUSTER, SERVICE))

    def event(self):
        return resolve(load("events/task.json"), time.time(), {})

    def check(self, c, before, after, report, writes):
        t = task_of(after)
        status = (t or {}).get("lastStatus"), (t or {}).get("desiredStatus")
        c(t and "STOPPED" in status, "task STOPPED (last %s, desired %s)" % status)
        eni = find(after["ec2"]["network_interfaces"], NetworkInterfaceId=ENI)
        gids = [g["GroupId"] if isinstance(g, dict) else g for g in (eni or {}).get("Groups") or []]
        groups = {g["GroupId"]: g for g in after["ec2"]["security_groups"]}
        open_egress = [gid for gid in gids if (groups.get(gid) or {}).get("IpPermissionsEgress")]
        c(eni and gids and not open_egress,
          "egress denied: ENI groups %s have no egress rules" % ",".join(gids))
        c(self.evidence(c, after, report), "evidence stored")
        c(published_reports(after, self.fn), "report published to SNS")
        c(report.get("verdict") == "contained", "report verdict contained")

    def evidence(self, c, after, report):
        b = find(after["s3"]["buckets"], name=BUCKET)
        prefix = (report.get("evidence") or {}).get("prefix") or \
            "incidents/%s/" % report.get("incident_id")
        objs = (b or {}).get("objects") or {}
        man = objs.get(prefix + "manifest.json")
        if not c(man, "manifest.json in s3://%s/%s" % (BUCKET, prefix)):
            return False
        doc = json.loads(base64.b64decode(man["body_b64"]))
        bad = []
        for o in doc.get("objects") or []:
            got = objs.get(o.get("key"))
            if not got or got["sha256_hex"] != o.get("sha256") or got["ContentLength"] != o.get("size"):
                bad.append(o.get("key"))
        n = len(doc.get("objects") or [])
        return c(n and not bad, "%d evidence objects, SHA-256 and size match the manifest%s"
                 % (n, (" (mismatch: %s)" % ", ".join(bad)) if bad else ""))

    def check_dry(self, c, before, after, report, writes):
        Scenario.check_dry(self, c, before, after, report, writes)
        planned = [a["api"] for a in report.get("actions") or [] if a.get("status") == "planned"]
        c(planned, "writes listed as planned (%s)" % ", ".join(sorted(set(planned))))
        t = task_of(after)
        c(t and t.get("lastStatus") == "RUNNING", "task still RUNNING")


class BucketScenario(Scenario):
    """issue 19: a bucket made public -> blocked, its policy kept as evidence."""
    name = "bucket"
    POLICY = {"Version": "2012-10-17", "Statement": [{"Sid": "share", "Effect": "Allow", "Principal": "*",
                                                      "Action": "s3:GetObject",
                                                      "Resource": "arn:aws:s3:::%s/*" % PUBLIC_BUCKET}]}

    def prepare(self):
        self.ctx.progress("attacker (contractor-jdoe): aws s3api put-bucket-policy --bucket %s "
                          "(Principal \"*\", s3:GetObject)" % PUBLIC_BUCKET)
        aws_cli(self.ctx.fake.url, ATTACKER_KEY, "s3api", "put-bucket-policy", "--bucket", PUBLIC_BUCKET,
                "--policy", json.dumps(self.POLICY))

    def event(self):
        ev = resolve(load("events/bucket.json"), time.time(), {})
        ev["detail"]["requestParameters"]["policy"] = json.dumps(self.POLICY)
        self.ctx.fake.seed_merge({"cloudtrail": {"records": [ev["detail"]]}})
        return ev

    def bucket(self, state):
        return find(state["s3"]["buckets"], name=PUBLIC_BUCKET) or {}

    def check(self, c, before, after, report, writes):
        b = self.bucket(after)
        pab = b.get("pab") or {}
        c(pab and all(pab.values()), "Block Public Access: all four settings on (%s)" % pab)
        c(b.get("policy") and json.loads(b["policy"]) == self.POLICY, "bucket policy kept as evidence")
        c(report.get("restore") == [{"api": "s3:DeletePublicAccessBlock", "args": {"Bucket": PUBLIC_BUCKET}}],
          "restore[] says how to undo it")
        c(report.get("verdict") == "contained", "report verdict contained")
        c(published_reports(after, self.fn), "report published to SNS")

    def check_dry(self, c, before, after, report, writes):
        Scenario.check_dry(self, c, before, after, report, writes)
        c(not self.bucket(after).get("pab"), "bucket block untouched")


def iam_user(state, name):
    return find(state["iam"]["users"], UserName=name)


class IamScenario(Scenario):
    name = "iam"

    def prepare(self):
        self.ctx.progress("attacker (leaked build-bot key): aws iam attach-user-policy --user-name build-bot "
                          "--policy-arn %s" % ADMIN)
        aws_cli(self.ctx.fake.url, BOT_KEY, "iam", "attach-user-policy", "--user-name", "build-bot",
                "--policy-arn", ADMIN)
        u = iam_user(self.ctx.fake.state(), "build-bot")
        self.ctx.progress("build-bot now has %s" % ", ".join(a.rsplit("/", 1)[-1] for a in (u or {}).get("attached") or []))

    def event(self):
        ev = resolve(load("events/iam.json"), time.time(), {})
        self.ctx.fake.seed_merge({"cloudtrail": {"records": [ev["detail"]]}})
        return ev

    def check(self, c, before, after, report, writes):
        u = iam_user(after, "build-bot") or {}
        c(ADMIN not in (u.get("attached") or []), "AdministratorAccess detached from build-bot")
        keys = {k["AccessKeyId"]: k["Status"] for k in u.get("access_keys") or []}
        c(keys and all(v == "Inactive" for v in keys.values()),
          "build-bot's keys Inactive, not deleted (%s)" % ", ".join("%s %s" % kv for kv in sorted(keys.items())))
        pol = (u.get("inline_policies") or {}).get("firebreak-quarantine")
        c(pol and '"Deny"' in pol,
          "deny-all inline policy firebreak-quarantine (ends the user's session credentials too)")
        apis = [r.get("api") for r in report.get("restore") or []]
        c("iam:AttachUserPolicy" in apis and "iam:UpdateAccessKey" in apis, "every write has its restore[] entry")
        c(report.get("verdict") == "contained", "report verdict contained")
        c(published_reports(after, self.fn), "report published to SNS")

    def check_dry(self, c, before, after, report, writes):
        Scenario.check_dry(self, c, before, after, report, writes)
        planned = [a["api"] for a in report.get("actions") or [] if a.get("status") == "planned"]
        c(planned, "writes listed as planned (%s)" % ", ".join(sorted(set(planned))))
        u = iam_user(after, "build-bot") or {}
        c(ADMIN in (u.get("attached") or []), "AdministratorAccess still attached")


class InstanceScenario(TaskScenario):
    """issue 20: isolated (tracked connections cut first), protected,
    snapshotted, detached from its Auto Scaling group, still running."""
    name = "instance"

    def prepare(self):
        self.ctx.progress("GuardDuty: instance %s (risk-batch) queries a Bitcoin mining pool" % INSTANCE)

    def event(self):
        return resolve(load("events/instance.json"), time.time(), {})

    def check(self, c, before, after, report, writes):
        inst = find(after["ec2"]["instances"], InstanceId=INSTANCE) or {}
        c((inst.get("State") or {}).get("Name") == "running", "instance still running (memory kept)")
        c(inst.get("DisableApiTermination") is True, "termination protection on")
        dots = [(b.get("Ebs") or {}).get("DeleteOnTermination") for b in inst.get("BlockDeviceMappings") or []]
        c(dots and not any(dots), "DeleteOnTermination off on %d volumes" % len(dots))
        eni = find(after["ec2"]["network_interfaces"], NetworkInterfaceId=INSTANCE_ENI) or {}
        gids = [g["GroupId"] if isinstance(g, dict) else g for g in eni.get("Groups") or []]
        groups = {g["GroupId"]: g for g in after["ec2"]["security_groups"]}
        rules = [r for gid in gids for d in ("ingress", "egress") for r in (groups.get(gid) or {}).get("rules", {}).get(d, [])]
        c(len(gids) == 1 and not rules, "isolated: the ENI carries only %s, a group with no rules" % ",".join(gids))
        seq = [a["step"] for a in report.get("actions") or [] if a.get("step") in ("untrack-connections", "isolate")]
        c(seq == ["untrack-connections", "isolate"], "tracked connections cut: all-traffic group first, then the empty one")
        snaps = [s for s in after["ec2"].get("snapshots") or []
                 if {"Key": "firebreak:incident", "Value": report.get("incident_id")} in s.get("Tags", [])]
        c(len(snaps) == 2, "%d forensic snapshots tagged with the incident" % len(snaps))
        asg = find(after["autoscaling"]["groups"], AutoScalingGroupName="risk-batch") or {}
        c(INSTANCE not in [i["InstanceId"] for i in asg.get("Instances") or []] and asg.get("DesiredCapacity") == 2,
          "detached from Auto Scaling group risk-batch, desired capacity kept (2)")
        other = find(after["ec2"]["network_interfaces"], NetworkInterfaceId="eni-0a9b8c7d6e5f40399") or {}
        c([g["GroupId"] for g in other.get("Groups") or []] == ["sg-0c1d2e3f4a5b6c7d8"],
          "the other risk-batch instance untouched")
        c(self.evidence(c, after, report), "evidence stored")
        c(published_reports(after, self.fn), "report published to SNS")
        c(report.get("verdict") == "contained", "report verdict contained")

    def check_dry(self, c, before, after, report, writes):
        Scenario.check_dry(self, c, before, after, report, writes)
        planned = [a["api"] for a in report.get("actions") or [] if a.get("status") == "planned"]
        c(planned, "writes listed as planned (%s)" % ", ".join(sorted(set(planned))))
        eni = find(after["ec2"]["network_interfaces"], NetworkInterfaceId=INSTANCE_ENI) or {}
        c([g["GroupId"] for g in eni.get("Groups") or []] == ["sg-0c1d2e3f4a5b6c7d8"], "ENI groups unchanged")


# ---- issue 19: net-block --------------------------------------------------------------
WEB_SG = "sg-0a1b2c3d4e5f60719"


class NetScenario(Scenario):
    """Port 22 opened to the world -> that one rule gone, the others intact."""
    name = "net"

    @staticmethod
    def world(opened=False):
        perms = [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                  "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "bastion"}]},
                 {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
        if opened:
            perms.append({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [
                {"CidrIp": "0.0.0.0/0", "SecurityGroupRuleId": NetScenario.BENCH_RULE["SecurityGroupRuleId"]}]})
        return {"ec2": {"security_groups": [{"GroupId": WEB_SG, "GroupName": "exchange-gateway-web",
                                             "VpcId": "vpc-0fake", "IpPermissions": perms}]}}

    def prepare(self):
        self.ctx.fake.seed_merge(self.world())
        self.ctx.progress("attacker (contractor-jdoe): aws ec2 authorize-security-group-ingress "
                          "--group-id %s --protocol tcp --port 22 --cidr 0.0.0.0/0" % WEB_SG)
        self.out = aws_cli(self.ctx.fake.url, ATTACKER_KEY, "ec2", "authorize-security-group-ingress",
                           "--group-id", WEB_SG, "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0")
        self.opened = [r["SecurityGroupRuleId"] for r in self.out.get("SecurityGroupRules") or []]
        self.ctx.progress("rule %s opens 22 to the world" % ",".join(self.opened))

    # tests/bench/bench.py seeds the opened rule instead of running the CLI
    BENCH_RULE = {"SecurityGroupRuleId": "sgr-0a1b2c3d4e5f6071a", "GroupOwnerId": ACCOUNT, "GroupId": WEB_SG,
                  "IsEgress": False, "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "0.0.0.0/0"}

    def event(self):
        if not hasattr(self, "out"):
            self.out = {"SecurityGroupRules": [self.BENCH_RULE]}
            self.opened = [self.BENCH_RULE["SecurityGroupRuleId"]]
        items = [{"groupOwnerId": r["GroupOwnerId"], "groupId": r["GroupId"], "securityGroupRuleId":
                  r["SecurityGroupRuleId"], "isEgress": r["IsEgress"], "ipProtocol": r["IpProtocol"],
                  "fromPort": r["FromPort"], "toPort": r["ToPort"], "cidrIpv4": r.get("CidrIpv4")}
                 for r in self.out.get("SecurityGroupRules") or []]
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        rec = {"eventVersion": "1.08", "userIdentity": {"type": "IAMUser", "userName": "contractor-jdoe",
                                                        "arn": "arn:aws:iam::%s:user/contractor-jdoe" % ACCOUNT,
                                                        "accountId": ACCOUNT, "accessKeyId": ATTACKER_KEY[0]},
               "eventTime": now, "eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress",
               "awsRegion": REGION, "sourceIPAddress": "185.220.101.34",
               "requestParameters": {"groupId": WEB_SG, "ipPermissions": {"items": [
                   {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                    "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}},
               "responseElements": {"_return": True, "securityGroupRuleSet": {"items": items}},
               "eventID": "5b0c7e1a-2f3d-4c5b-9a8e-7d6c5b4a3f21", "eventType": "AwsApiCall",
               "recipientAccountId": ACCOUNT}
        return {"version": "0", "id": "9c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f",
                "detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2", "account": ACCOUNT,
                "time": now, "region": REGION, "resources": [], "detail": rec}

    def rules(self, state):
        g = find(state["ec2"]["security_groups"], GroupId=WEB_SG) or {}
        return (g.get("rules") or {}).get("ingress") or []

    def check(self, c, before, after, report, writes):
        left = self.rules(after)
        ids = {r["id"] for r in left}
        c(self.opened and not (set(self.opened) & ids), "rule %s (22 from 0.0.0.0/0) revoked" % ",".join(self.opened))
        c(sorted((r["from"], r["src"]) for r in left) == [(22, "10.0.0.0/8"), (443, "0.0.0.0/0")],
          "the others intact: 22 from 10.0.0.0/8 (bastion), 443 from 0.0.0.0/0")
        c(writes == ["ec2:RevokeSecurityGroupIngress"], "one write: %s" % ", ".join(writes))
        c([e.get("api") for e in report.get("restore") or []] == ["ec2:AuthorizeSecurityGroupIngress"],
          "restore[] re-creates the rule")
        c(report.get("verdict") == "contained", "report verdict contained")

    def check_dry(self, c, before, after, report, writes):
        Scenario.check_dry(self, c, before, after, report, writes)
        planned = [a["api"] for a in report.get("actions") or [] if a.get("status") == "planned"]
        c(planned == ["ec2:RevokeSecurityGroupIngress"], "revoke listed as planned (%s)" % ", ".join(planned))
        c(set(self.opened) <= {r["id"] for r in self.rules(after)}, "rule still there")


ORDER.append("net")
FUNCTION["net"] = "net-block"
TITLE["net"] = "port 22 opened to the world by an untrusted user"
FUNCTION_ENV["net-block"] = {}


# ---- issue 22: data-breach ------------------------------------------------------------
BREACH_TABLE = "trading-customers"


class BreachScenario(Scenario):
    """A bulk-read spike on a customer table -> PITR on, a backup, the stream,
    and the GDPR record with its 72 h deadline."""
    name = "breach"

    @staticmethod
    def world():
        pts = [{"hours_ago": h, "Sum": 120.0 + (h % 4) * 5} for h in range(1, 24)]
        pts[0]["Sum"] = 48000.0  # the last hour: a scan of the whole table
        return {"dynamodb": {"tables": [{"TableName": BREACH_TABLE, "ItemCount": 182340,
                                         "TableSizeBytes": 61200000, "Tags": [
                                             {"Key": "firebreak:data-categories",
                                              "Value": "name, email, postal address, account balance"},
                                             {"Key": "firebreak:data-subjects", "Value": "about 180000 customers"}]}]},
                "monitoring": {"metrics": [{"Namespace": "AWS/DynamoDB", "MetricName": "ConsumedReadCapacityUnits",
                                            "Dimensions": [{"Name": "TableName", "Value": BREACH_TABLE}],
                                            "points": pts}]}}

    def prepare(self):
        self.ctx.fake.seed_merge(self.world())
        self.ctx.progress("attacker: 48,000 read units on %s in an hour (baseline ~130)" % BREACH_TABLE)

    def event(self):
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.now = now
        return {"version": "0", "id": "7f3e2d1c-0b9a-4c8d-9e7f-6a5b4c3d2e1f",
                "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch", "account": ACCOUNT,
                "time": now, "region": REGION,
                "resources": ["arn:aws:cloudwatch:%s:%s:alarm:firebreak-data-breach-%s" % (REGION, ACCOUNT,
                                                                                          BREACH_TABLE)],
                "detail": {"alarmName": "firebreak-data-breach-" + BREACH_TABLE,
                           "state": {"value": "ALARM", "reason": "Threshold Crossed"},
                           "previousState": {"value": "OK"},
                           "configuration": {"metrics": [{"id": "m1", "metricStat": {"metric": {
                               "namespace": "AWS/DynamoDB", "name": "ConsumedReadCapacityUnits",
                               "dimensions": {"TableName": BREACH_TABLE}}, "period": 300, "stat": "Sum"},
                               "returnData": True}]}}}

    def check(self, c, before, after, report, writes):
        t = find(after["dynamodb"]["tables"], TableName=BREACH_TABLE) or {}
        c(t.get("pitr") is True, "point-in-time recovery on")
        c((t.get("StreamSpecification") or {}).get("StreamViewType") == "NEW_AND_OLD_IMAGES",
          "Streams NEW_AND_OLD_IMAGES on")
        bk = [b for b in after["dynamodb"].get("backups") or [] if b["TableName"] == BREACH_TABLE]
        c(len(bk) == 1 and bk[0]["BackupName"] == "firebreak-" + str(report.get("incident_id")),
          "one backup named after the incident")
        c((report.get("read_spike") or {}).get("spike") is True,
          "bulk read named (%sx)" % round((report.get("read_spike") or {}).get("factor") or 0, 1))
        g = report.get("gdpr") or {}
        c("DRAFT" in (g.get("status") or "") and report.get("gdpr_deadline"),
          "GDPR Art. 33 draft, deadline %s" % report.get("gdpr_deadline"))
        table_writes = sorted(w for w in writes if w.startswith("dynamodb:"))
        c(table_writes == ["dynamodb:CreateBackup", "dynamodb:UpdateContinuousBackups", "dynamodb:UpdateTable"],
          "three table writes: %s" % ", ".join(table_writes))
        c(len(report.get("restore") or []) == 3, "restore[] has the three undos")
        # the record in the evidence bucket (write-once, SHA-256 manifest), JSON and the DPO's text
        c(TaskScenario.evidence(self, c, after, report), "GDPR record stored")
        objs = (find(after["s3"]["buckets"], name=BUCKET) or {}).get("objects") or {}
        prefix = (report.get("evidence") or {}).get("prefix") or ""
        txt = objs.get(prefix + "gdpr-record.txt")
        body = base64.b64decode(txt["body_b64"]).decode() if txt else ""
        c("(c) Likely consequences: unknown" in body and str(report.get("gdpr_deadline")) in body,
          "the DPO's text names every Art. 33(3) field and the 72 h deadline")
        c("NIS2" in str(report.get("verdict")), "the verdict (the SNS message) carries the NIS2 24 h deadline too")

    def check_dry(self, c, before, after, report, writes):
        Scenario.check_dry(self, c, before, after, report, writes)
        planned = sorted(set(a["api"] for a in report.get("actions") or [] if a.get("status") == "planned"))
        c(planned == ["dynamodb:CreateBackup", "dynamodb:UpdateContinuousBackups", "dynamodb:UpdateTable",
                      "s3:PutObject"],
          "the three table writes and the record planned (%s)" % ", ".join(planned))


ORDER.append("breach")
FUNCTION["breach"] = "data-breach"
TITLE["breach"] = "bulk-read spike on a customer table (suspected breach, GDPR clock)"
FUNCTION_ENV["data-breach"] = {"FIREBREAK_EVIDENCE_BUCKET": BUCKET, "FIREBREAK_EVIDENCE_KMS_KEY": EVIDENCE_KEY,
                                "FIREBREAK_DB_DEADLINES": "NIS2 Art. 23 early warning=24"}

# ---- issue 21: access-triage -----------------------------------------------------------

class TriageScenario(Scenario):
    """The unauthorized-API-calls alarm -> who, from where, what succeeded: P1."""
    name = "triage"
    IP = "185.220.101.34"
    CI = "arn:aws:iam::%s:user/ci-deploy" % ACCOUNT
    ENUM = [("iam", "ListUsers"), ("iam", "ListRoles"), ("s3", "ListBuckets"), ("ec2", "DescribeInstances"),
            ("secretsmanager", "ListSecrets"), ("kms", "ListKeys")]

    def record(self, t, svc, name, code=None, ro=True):
        r = {"eventVersion": "1.08", "userIdentity": {"type": "IAMUser", "userName": "contractor-jdoe",
                                                      "arn": "arn:aws:iam::%s:user/contractor-jdoe" % ACCOUNT,
                                                      "accountId": ACCOUNT, "accessKeyId": ATTACKER_KEY[0]},
             "eventTime": iso(t), "eventSource": "%s.amazonaws.com" % svc, "eventName": name, "awsRegion": REGION,
             "sourceIPAddress": self.IP, "userAgent": "aws-cli/2.15.0", "readOnly": ro,
             "eventID": str(uuid.uuid4()), "eventType": "AwsApiCall", "recipientAccountId": ACCOUNT}
        if code:
            r["errorCode"] = code
        return r

    def prepare(self):
        self.ctx.progress("attacker (contractor-jdoe, %s): enumerates IAM, S3, EC2, Secrets Manager, KMS "
                          "(denied), then iam:CreateAccessKey succeeds" % self.IP)

    def event(self):
        now = time.time()
        recs = [self.record(now - 600 + 30 * i, s, n, "Client.UnauthorizedOperation" if s == "ec2" else "AccessDenied")
                for i, (s, n) in enumerate(self.ENUM)]
        recs.append(self.record(now - 120, "iam", "CreateAccessKey", None, False))
        # a second principal's key works from the same address
        ci = self.record(now - 90, "s3", "PutBucketPolicy", None, False)
        ci["userIdentity"] = dict(ci["userIdentity"], userName="ci-deploy", arn=self.CI, accessKeyId="AKIAQ3EGRZ7DEMOCI001")
        recs.append(ci)
        # the trail delivers to CloudWatch Logs too: access-triage reads it with Insights
        self.ctx.fake.seed_merge({"cloudtrail": {"records": recs}, "logs": {"groups": [
            {"name": TRIAGE_TRAIL_GROUP, "streams": [{"name": "%s_CloudTrail_%s" % (ACCOUNT, REGION), "events": [
                {"timestamp": int(resp_ms(r["eventTime"])), "message": json.dumps(r)} for r in recs]}]}]}})
        return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "CloudWatch Alarm State Change",
                "source": "aws.cloudwatch", "account": ACCOUNT, "time": iso(now), "region": REGION,
                "resources": ["arn:aws:cloudwatch:%s:%s:alarm:unauthorized-api-calls" % (REGION, ACCOUNT)],
                "detail": {"alarmName": "unauthorized-api-calls",
                           "state": {"value": "ALARM", "reason": "Threshold Crossed", "timestamp": iso(now)},
                           "previousState": {"value": "OK", "reason": "", "timestamp": iso(now - 3600)}}}

    def check(self, c, before, after, report, writes):
        c(report.get("severity") == "P1", "verdict severity P1 (%s)" % report.get("verdict"))
        top = (report.get("principals") or [{}])[0]
        c(top.get("principal", "").endswith("user/contractor-jdoe") and top.get("source_ip") == self.IP,
          "contractor-jdoe from %s first" % self.IP)
        c(top.get("write_apis") == ["iam:CreateAccessKey"], "the successful write named: iam:CreateAccessKey")
        c(report.get("window", {}).get("source") == "logs:StartQuery",
          "read with CloudWatch Logs Insights on %s" % TRIAGE_TRAIL_GROUP)
        src = (report.get("sources") or [{}])[0]
        calls = src.get("calls") or []
        c(src.get("other_principals") == [self.CI] and
          sorted(x.get("api") for x in calls if x.get("write")) == ["iam:CreateAccessKey", "s3:PutBucketPolicy"] and
          all(x.get("write") for x in calls[:2]),
          "successes from %s by any principal, writes first (ci-deploy's key works from there too)" % self.IP)
        c(sorted(m.get("function") for m in report.get("containment_manual") or []) ==
          ["iam-contain", "iam-contain", "net-block"],
          "manual containment invokes given (containment is off): contractor-jdoe, ci-deploy, the address")
        c(not writes, "no write other than the notification")

    def check_dry(self, c, before, after, report, writes):
        Scenario.check_dry(self, c, before, after, report, writes)
        c(report.get("severity") == "P1", "verdict severity P1 (%s)" % report.get("verdict"))


ORDER.append("triage")
FUNCTION["triage"] = "access-triage"
TITLE["triage"] = "unauthorized-API-calls alarm: enumeration, then a successful write"
TRIAGE_TRAIL_GROUP = "aws-cloudtrail-logs-acme"
FUNCTION_ENV["access-triage"] = {"FIREBREAK_AT_LOG_GROUP": TRIAGE_TRAIL_GROUP}


def resp_ms(t):
    return datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp() * 1000

SCENARIOS = {s.name: s for s in (RootScenario, KmsScenario, LeakScenario, TaskScenario, BucketScenario,
                                  IamScenario, InstanceScenario, NetScenario, TriageScenario)}
SCENARIOS[BreachScenario.name] = BreachScenario   # issue 22


# ---- issue 23: codeartifact-lock -------------------------------------------------------
CA_DOMAIN = "acme-packages"
CA_ROLE = "arn:aws:iam::%s:role/ci-deploy" % ACCOUNT
CA_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "OrgReadAndTokens", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT},
     "Action": ["codeartifact:GetAuthorizationToken", "codeartifact:ReadFromRepository",
                "codeartifact:GetRepositoryEndpoint"], "Resource": "*"}]}


class CodeArtifactScenario(Scenario):
    """The CI role's credentials used from a Tor exit to fetch CodeArtifact
    tokens (GuardDuty) -> an explicit Deny on the domain and on the
    repositories that grant it, its sessions revoked, the 12 h token note."""
    name = "codeartifact"

    @staticmethod
    def world():
        def repo(name, principal):
            return {"name": name, "policy": {"Version": "2012-10-17", "Statement": [
                {"Sid": "Publish", "Effect": "Allow", "Principal": {"AWS": principal},
                 "Action": ["codeartifact:PublishPackageVersion", "codeartifact:ReadFromRepository"],
                 "Resource": "*"}]}}
        return {"roles": [{"arn": CA_ROLE}], "codeartifact": {"domains": [{
            "name": CA_DOMAIN, "policy": CA_POLICY, "repositories": [
                repo("npm-internal", CA_ROLE), repo("pypi-internal", "arn:aws:iam::%s:root" % ACCOUNT),
                repo("maven-mirror", "arn:aws:iam::%s:role/build-readers" % ACCOUNT), {"name": "scratch"}]}]}}

    def prepare(self):
        self.ctx.fake.seed_merge(self.world())
        self.ctx.progress("attacker (stolen ci-deploy session, 185.220.101.34): "
                          "aws codeartifact get-authorization-token --domain %s" % CA_DOMAIN)

    def event(self):
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return {"version": "0", "id": "2c7d9e4f-8a1b-4c3d-9e5f-0a1b2c3d4e5f", "detail-type": "GuardDuty Finding",
                "source": "aws.guardduty", "account": ACCOUNT, "time": now, "region": REGION, "resources": [],
                "detail": {"schemaVersion": "2.0", "accountId": ACCOUNT, "region": REGION, "partition": "aws",
                           "id": "a1b2c3d4e5f60718293a4b5c6d7e8f90", "type": "UnauthorizedAccess:IAMUser/TorIPCaller",
                           "severity": 5, "updatedAt": now, "createdAt": now,
                           "title": "API GetAuthorizationToken was invoked from a Tor exit node.",
                           "resource": {"resourceType": "AccessKey", "accessKeyDetails": {
                               "userName": "ci-deploy", "userType": "AssumedRole",
                               "principalId": "AROAEXAMPLECIDEPLOY:build-9912",
                               "accessKeyId": "ASIAQ3EGRZ7DEMOCI9ZZ"}},
                           "service": {"serviceName": "guardduty", "action": {
                               "actionType": "AWS_API_CALL", "awsApiCallAction": {
                                   "serviceName": "codeartifact.amazonaws.com", "api": "GetAuthorizationToken",
                                   "callerType": "Remote IP",
                                   "remoteIpDetails": {"ipAddressV4": "185.220.101.34"},
                                   "affectedResources": {"AWS::CodeArtifact::Domain": CA_DOMAIN}}}}}}

    @staticmethod
    def doc(after, repo=None):
        d = find(after["codeartifact"]["domains"], name=CA_DOMAIN) or {}
        h = d if repo is None else (find(d.get("repositories") or [], name=repo) or {})
        return json.loads((h.get("policy") or {}).get("document") or "{}")

    @staticmethod
    def denied(doc):
        return [s for s in doc.get("Statement") or [] if s.get("Effect") == "Deny"
                and s.get("Principal") == {"AWS": CA_ROLE}]

    def check(self, c, before, after, report, writes):
        dom = self.doc(after)
        c(len(self.denied(dom)) == 1 and dom["Statement"][0] == CA_POLICY["Statement"][0],
          "domain policy: Deny for ci-deploy added, the existing statement kept")
        c(self.denied(self.doc(after, "npm-internal")) and self.denied(self.doc(after, "pypi-internal")),
          "npm-internal and pypi-internal (they grant it) denied too")
        c(not self.denied(self.doc(after, "maven-mirror")), "maven-mirror (does not grant it) untouched")
        c(sorted(writes) == ["codeartifact:PutDomainPermissionsPolicy"] + ["codeartifact:PutRepositoryPermissionsPolicy"] * 2
          + ["iam:PutRolePolicy"], "four writes: %s" % ", ".join(writes))
        tok = report.get("tokens") or {}
        c("cannot be revoked" in (tok.get("note") or ""), "tokens: expire by %s (cannot be revoked)" %
          tok.get("last_expiry_by"))
        c(len(report.get("restore") or []) == 4, "restore[] has the four undos")

    def check_dry(self, c, before, after, report, writes):
        Scenario.check_dry(self, c, before, after, report, writes)
        planned = sorted(a["api"] for a in report.get("actions") or [] if a.get("status") == "planned")
        c(len(planned) == 4, "four writes planned (%s)" % ", ".join(planned))


ORDER.append("codeartifact")
FUNCTION["codeartifact"] = "codeartifact-lock"
TITLE["codeartifact"] = "stolen CI session fetching CodeArtifact tokens from a Tor exit (GuardDuty)"
FUNCTION_ENV["codeartifact-lock"] = {}
SCENARIOS[CodeArtifactScenario.name] = CodeArtifactScenario   # issue 23


# ---- issue 23: cognito-lockdown ----------------------------------------------------------
COG_POOL, COG_CLIENT = "us-east-1_Tr4d1ngP1", "3n4cl1ent1d7rad1ng00000000"
COG_SECRET = "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/trading/cognito-web-Q1w2E3"
COG_OLD = "demo-old-client-secret-0000000000000000000000000000"


class CognitoScenario(Scenario):
    """The token-abuse alarm on the trading pool -> every user signed out within
    the rate, the app client secret rotated through its consumers, MFA checked."""
    name = "cognito"

    def prepare(self):
        self.ctx.fake.seed_merge(self.world())
        self.ctx.progress("attacker: refresh-token replay against the trading-web client; the token-abuse alarm fires")

    @staticmethod
    def world():
        """The pool (24 users, MFA optional), its client and the consumers' secret and service."""
        return {
            "cognito-idp": {"pools": [{"Id": COG_POOL, "Name": "trading-customers", "MfaConfiguration": "OPTIONAL",
                                       "SoftwareTokenMfaConfiguration": {"Enabled": True}, "user_count": 24,
                                       "clients": [{"ClientId": COG_CLIENT, "ClientName": "trading-web",
                                                    "AccessTokenValidity": 60, "IdTokenValidity": 60,
                                                    "TokenValidityUnits": {"AccessToken": "minutes",
                                                                           "IdToken": "minutes"},
                                                    "secrets": [COG_OLD]}]}]},
            "secretsmanager": {"secrets": [{"Name": "prod/trading/cognito-web", "ARN": COG_SECRET,
                                            "SecretString": json.dumps({"client_id": COG_CLIENT,
                                                                        "client_secret": COG_OLD})}]},
            "ecs": {"services": [{"cluster": CLUSTER, "serviceName": "trading-web", "settle_after_s": 0}]}}

    def event(self):
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return {"version": "0", "id": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
                "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch", "account": ACCOUNT,
                "time": now, "region": REGION,
                "resources": ["arn:aws:cloudwatch:%s:%s:alarm:firebreak-cognito-token-abuse" % (REGION, ACCOUNT)],
                "detail": {"alarmName": "firebreak-cognito-token-abuse",
                           "state": {"value": "ALARM", "reason": "Threshold Crossed"},
                           "previousState": {"value": "OK"},
                           "configuration": {"metrics": [{"id": "m1", "metricStat": {"metric": {
                               "namespace": "AWS/Cognito", "name": "TokenRefreshSuccesses",
                               "dimensions": {"UserPool": COG_POOL, "UserPoolClient": COG_CLIENT}},
                               "period": 300, "stat": "Sum"}, "returnData": True}]}}}

    def check(self, c, before, after, report, writes):
        pool = find(after["cognito-idp"]["pools"], Id=COG_POOL) or {}
        users = pool.get("users") or {}
        c(users and all(u["signouts"] == 1 for u in users.values()),
          "all %d users signed out once (%s rounds at <= 10/s)" % (len(users), (report.get("signout") or {}).get("rounds")))
        sec = ((pool.get("clients") or {}).get(COG_CLIENT) or {}).get("secrets") or []
        c(len(sec) == 1 and sec[0]["ClientSecretValue"] != COG_OLD, "client secret rotated, the old one deleted")
        cur = [v for x in after["secretsmanager"]["secrets"] if x["ARN"] == COG_SECRET for v in x["versions"]
               if "AWSCURRENT" in v["VersionStages"]]
        c(len(cur) == 1 and sec and json.loads(cur[0]["SecretString"]).get("client_secret") ==
          sec[0]["ClientSecretValue"], "the consumers' secret holds the new one (client_id kept)")
        c("ecs:UpdateService" in writes, "trading-web redeployed before the old secret went")
        c(report.get("severity") == "P1" and (report.get("mfa") or {}).get("enforced") == "no",
          "MFA optional: P1 (%s)" % (report.get("mfa") or {}).get("why"))
        c("stay valid until they expire" in ((report.get("tokens") or {}).get("not_revoked") or ""),
          "report: access/ID tokens live until %s" % (report.get("tokens") or {}).get("last_valid_until"))
        c(COG_OLD not in json.dumps(report) and (not sec or sec[0]["ClientSecretValue"] not in json.dumps(report)),
          "no secret value in the report (fingerprint %s)" % (report.get("rotation") or {}).get("new_secret_fingerprint"))

    def check_dry(self, c, before, after, report, writes):
        Scenario.check_dry(self, c, before, after, report, writes)
        planned = sorted(a["api"] for a in report.get("actions") or [] if a.get("status") == "planned")
        c("cognito-idp:AdminUserGlobalSignOut" in planned and "cognito-idp:AddUserPoolClientSecret" in planned,
          "sign-out and rotation planned (%s)" % ", ".join(planned))


ORDER.append("cognito")
FUNCTION["cognito"] = "cognito-lockdown"
TITLE["cognito"] = "token abuse on the trading app's Cognito client: sign everyone out, rotate the client secret"
FUNCTION_ENV["cognito-lockdown"] = {"FIREBREAK_EVIDENCE_BUCKET": BUCKET, "FIREBREAK_EVIDENCE_KMS_KEY": EVIDENCE_KEY,
                                    "FIREBREAK_COGNITO_USER_POOL_ID": COG_POOL,
                                    "FIREBREAK_COGNITO_CLIENT_ID": COG_CLIENT,
                                    "FIREBREAK_COGNITO_SECRET_ARN": COG_SECRET,
                                    "FIREBREAK_COGNITO_SECRET_KEY": "client_secret",
                                    "FIREBREAK_COGNITO_SERVICES": "%s/trading-web" % CLUSTER,
                                    "FIREBREAK_COGNITO_POLL_MS": "200"}
SCENARIOS[CognitoScenario.name] = CognitoScenario   # issue 23


# ---- issue 24 s2 (w3-rst2): firebreak-restore, contain then undo -------------------------

RESTORE_TABLE = "trading-orders"
RESTORE_ROLE = "arn:aws:iam::%s:role/etl/analytics-etl" % ACCOUNT


class RestoreScenario(Scenario):
    """data-breach denies a role on a table and revokes its sessions (the table's preservation
    with it); the investigation clears the role; firebreak-restore undoes the incident from its
    write-once restore.json: the policy and the role as they were, the evidence kept."""
    name = "restore"
    PRIOR = {"Version": "2012-10-17", "Statement": [{
        "Sid": "AppReads", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:role/trading-app" % ACCOUNT},
        "Action": "dynamodb:GetItem", "Resource": "arn:aws:dynamodb:%s:%s:table/%s" % (REGION, ACCOUNT,
                                                                                      RESTORE_TABLE)}]}

    def table(self, state):
        return find(state["dynamodb"]["tables"], TableName=RESTORE_TABLE) or {}

    INCIDENT = "fb-00000000000d3e40"   # the record seeded under dry run and by the bench

    @classmethod
    def world(cls, contained):
        """The table (and the role); contained: as data-breach's Deny left it, with the incident's
        write-once record (nothing is contained under dry run, and the bench seeds it)."""
        arn = "arn:aws:dynamodb:%s:%s:table/%s" % (REGION, ACCOUNT, RESTORE_TABLE)
        pol = cls.PRIOR
        w = {"roles": [{"arn": RESTORE_ROLE}]}
        if contained:
            pol = dict(cls.PRIOR, Statement=cls.PRIOR["Statement"] + [{
                "Sid": "FirebreakDataBreachDeny", "Effect": "Deny", "Principal": {"AWS": "*"},
                "Action": "dynamodb:*", "Resource": [arn, arn + "/index/*"],
                "Condition": {"ArnLike": {"aws:PrincipalArn": [RESTORE_ROLE]}}}])
            rec = [{"api": "dynamodb:PutResourcePolicy", "args": {"ResourceArn": arn,
                                                                  "Policy": json.dumps(cls.PRIOR)}}]
            w["s3"] = {"buckets": [{"name": BUCKET, "objects": {
                "incidents/%s/restore.json" % cls.INCIDENT: json.dumps(rec)}}]}
        w["dynamodb"] = {"tables": [{"TableName": RESTORE_TABLE, "ItemCount": 5120, "policy": pol}]}
        return w

    def prepare(self):
        dry = self.ctx.args.dry_run
        self.ctx.fake.seed_merge(self.world(contained=dry))
        self.before = self.ctx.fake.state()
        if dry:
            self.incident = self.INCIDENT
            return
        self.ctx.progress("data-breach (manual): deny %s on %s, revoke its sessions" % (RESTORE_ROLE.split("/")[-1],
                                                                                         RESTORE_TABLE))
        ferr, body, _ = invoke(self.ctx.emu_url, "data-breach", {"table": RESTORE_TABLE, "principal": RESTORE_ROLE,
                                                                 "reason": "bulk export by analytics-etl"})
        rep = report_of(ferr, body) or {}
        self.incident = rep.get("incident_id")
        self.contained = self.ctx.fake.state()
        self.ctx.progress("contained (%s); the investigation clears analytics-etl: undo %s"
                          % (rep.get("verdict"), self.incident))

    def event(self):
        # the bench's context has no args: it applies the seeded record
        args = getattr(self.ctx, "args", None)
        return {"incident_id": getattr(self, "incident", self.INCIDENT), "apply": not (args and args.dry_run)}

    def check(self, c, before, after, report, writes):
        def role_policies(st):
            return sorted(n for r in st.get("roles") or [] if r.get("arn") == RESTORE_ROLE
                          for n in r.get("inline_policies") or {})
        c(role_policies(self.contained) == ["AWSRevokeOlderSessions"] and
          role_policies(after) == role_policies(self.before),
          "the role's session revocation lifted (inline policies as before: %s)" % role_policies(after))
        c(self.table(self.contained).get("policy") != self.table(self.before).get("policy"),
          "data-breach denied the role in the table's policy")
        c(json.loads(self.table(after).get("policy") or "null") == self.PRIOR,
          "the table's policy is the prior one again (AppReads only)")
        c(sorted(writes) == ["dynamodb:PutResourcePolicy", "iam:DeleteRolePolicy"],
          "two inverse calls: %s" % ", ".join(writes))
        c(str(report.get("verdict", "")).startswith("restored:"), "verdict: %s" % report.get("verdict"))
        c(self.table(after).get("pitr") is True and
          any(b["TableName"] == RESTORE_TABLE for b in after["dynamodb"].get("backups") or []),
          "PITR and the incident's backup kept (evidence, never undone)")

    def check_dry(self, c, before, after, report, writes):
        Scenario.check_dry(self, c, before, after, report, writes)
        planned = [a["api"] for a in report.get("actions") or [] if a.get("status") == "planned"]
        c(planned == ["dynamodb:PutResourcePolicy"], "the inverse call planned (%s)" % ", ".join(planned))


ORDER.append("restore")
FUNCTION["restore"] = "firebreak-restore"
TITLE["restore"] = "contain (data-breach), then undo the incident in one command (firebreak-restore)"
FUNCTION_ENV["firebreak-restore"] = {"FIREBREAK_EVIDENCE_BUCKET": BUCKET}
SCENARIOS[RestoreScenario.name] = RestoreScenario   # issue 24 s2
NEEDS = {"restore": ["data-breach"]}   # functions a scenario invokes in prepare(), served too


# ---- output ---------------------------------------------------------------------------

def fmt_ms(v):
    return "%d ms" % v if isinstance(v, (int, float)) else "-"


def timeline(name, report, rt_ms, ferr):
    trig = report.get("trigger") or {}
    T.out("  %s %s%s%s" % (
        T.bold("trigger"), trig.get("detail_type") or trig.get("source") or "manual",
        (" by " + trig["actor_arn"]) if trig.get("actor_arn") else "",
        (" from " + trig["source_ip"]) if trig.get("source_ip") else ""))
    if report.get("resource"):
        T.out("  %s %s" % (T.bold("resource"), report["resource"]))
    acts = report.get("actions") or []
    w = max([len(a.get("step") or "") for a in acts] + [8])
    wa = max([len(a.get("api") or "") for a in acts] + [8])
    for a in acts:
        st = a.get("status") or "?"
        started = a.get("started_ms")
        line = "  %s  %-*s  %-*s  %s  %8s" % (
            T.dim("%+6s" % ("%d" % started if isinstance(started, (int, float)) else "")),
            w, a.get("step") or "", wa, a.get("api") or "",
            T.c(STATUS_COLOR.get(st, "0"), "%-8s" % st), fmt_ms(a.get("elapsed_ms")))
        if a.get("error"):
            line += "  " + T.red(str(a["error"])[:120])
        elif a.get("detail"):
            line += "  " + T.dim(str(a["detail"])[:90])
        T.out(line)
    tm = report.get("timings") or {}
    verdict = report.get("verdict")
    sev = report.get("severity")
    if tm.get("received_to_contained_ms") is not None:
        head = T.green("contained in %d ms" % tm["received_to_contained_ms"])
    else:
        ends = [(a.get("started_ms") or 0) + (a.get("elapsed_ms") or 0) for a in acts]
        head = T.cyan("verdict in %d ms" % max(ends)) if ends else "no action"
    T.out("  %s  %s %s, %s  %s" % (
        "->", head, T.dim("(invoke round trip %d ms)" % rt_ms), T.bold(sev or "-"), verdict))
    if ferr:
        T.out("  " + T.red("function error (%s)" % ferr))


class Context:
    def __init__(self, args):
        self.args = args
        self.procs = Processes()
        self.fake = None
        self.emu_url = None
        self.run_dir = None
        self.sns_messages = []

    def progress(self, text):
        if not self.args.quiet:
            T.progress(text)


def start_world(ctx, functions, fake_port=0, emu_port=0, endpoint=None, out=None):
    """Start the fake (seeded with world.json) and the emulator serving
    `functions`. With `endpoint` (make local against LocalStack or moto) no fake
    starts: the functions talk to that endpoint, with the caller's credentials
    (or LocalStack's "test"), and the world is not seeded (returns None)."""
    out = out or OUT
    os.makedirs(out, exist_ok=True)
    run = ctx.run_dir = tempfile.mkdtemp(prefix="run-", dir=out)
    world = None
    creds = ("AKIDFAKE", "fakesecret")
    if endpoint:
        url = endpoint
        creds = (os.environ.get("AWS_ACCESS_KEY_ID") or "test",
                 os.environ.get("AWS_SECRET_ACCESS_KEY") or "test")
    else:
        world = resolve(load("world.json"), time.time(), {})
        seed_path = os.path.join(run, "world.json")
        with open(seed_path, "w") as f:
            json.dump(world, f)
        fport = os.path.join(run, "fakeaws.port")
        ctx.progress("starting tests/fakeaws (seed tests/demo/world.json)")
        p = ctx.procs.start([PYTHON, os.path.join(ROOT, "tests/fakeaws/server.py"), "--port", str(fake_port),
                             "--port-file", fport, "--seed", seed_path],
                            os.path.join(out, "fakeaws.log"))
        ctx.fake = Fake(wait_port_file(fport, p, "fakeaws"))
        url = ctx.fake.url
        ctx.progress("fakeaws on %s: account %s, key alias/trading-ledger, secret %s, "
                     "service %s/%s, task %s, bucket %s, topic %s"
                     % (ctx.fake.url, ACCOUNT, SECRET, CLUSTER, SERVICE, TASK_ID[:8], BUCKET,
                        TOPIC.split(":")[-1]))
    cfg = {"region": REGION, "functions": {}}
    for fn in functions:
        env = dict(COMMON_ENV)
        env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = creds
        env["AWS_ENDPOINT_URL"] = url
        env.update(FUNCTION_ENV.get(fn, {}))
        if ctx.args.dry_run:
            env["FIREBREAK_DRY_RUN"] = "true"
        cfg["functions"][fn] = {"bootstrap": os.path.join(ROOT, "build/native", fn, "bootstrap"),
                                "env": env, "timeout": 60, "memory": 256}
    cfg_path = os.path.join(run, "emulator.json")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=1)
    eport = os.path.join(run, "emulator.port")
    ctx.progress("starting the Lambda emulator with %s" % ", ".join(functions))
    # The emulator passes AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY through from
    # its own environment; give it the fake's, never the caller's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": creds[0], "AWS_SECRET_ACCESS_KEY": creds[1]})
    p = ctx.procs.start([PYTHON, os.path.join(ROOT, "tests/emulator/emulator.py"), "serve",
                         "--config", cfg_path, "--account", ACCOUNT, "--port", str(emu_port),
                         "--port-file", eport], os.path.join(out, "emulator.log"), env=env)
    ctx.emu_url = "http://127.0.0.1:%d" % wait_port_file(eport, p, "emulator")
    ctx.progress("emulator on %s (function logs: %s/emulator.log)"
                 % (ctx.emu_url, os.path.relpath(out, ROOT)))
    return world


def run_scenario(ctx, name):
    sc = SCENARIOS[name](ctx)
    fn = sc.fn
    T.out()
    T.out(T.bold("== %s" % name) + "  %s: %s" % (T.cyan(fn), TITLE[name]))
    res = {"scenario": name, "function": fn, "dry_run": ctx.args.dry_run}
    if not os.path.exists(os.path.join(ROOT, "functions", fn, "main.c")):
        T.out("  " + T.yellow("SKIP") + " functions/%s/main.c is not there yet" % fn)
        res["result"] = "SKIP"
        return res
    sc.prepare()
    before = ctx.fake.state()
    seq0 = max([c["seq"] for c in ctx.fake.calls()] + [0])
    event = sc.event()
    ctx.progress("invoke %s (POST /2015-03-31/functions/%s/invocations)" % (fn, fn))
    ferr, body, rt = invoke(ctx.emu_url, fn, event)
    report = report_of(ferr, body)
    calls = [c for c in ctx.fake.calls() if c["seq"] > seq0]
    after = ctx.fake.state()
    ctx.sns_messages = [p.get("Message") for p in after["sns"].get("published") or []]
    writes = ["%s:%s" % (c["service"], c["operation"]) for c in calls
              if c.get("service") and c.get("operation") and is_write(c["service"], c["operation"])
              and c.get("status", 200) < 400]
    res.update(round_trip_ms=round(rt, 1), function_error=ferr, aws_calls=len(calls),
               write_calls=writes)
    c = Check()
    if report is None:
        c(False, "a report came back (got %r)" % body[:300])
    else:
        with open(os.path.join(OUT, "%s.report.json" % name), "w") as f:
            json.dump(report, f, indent=2)
        timeline(name, report, rt, ferr)
        (sc.check_dry if ctx.args.dry_run else sc.check)(c, before, after, report, writes)
        res.update(incident_id=report.get("incident_id"), verdict=report.get("verdict"),
                   severity=report.get("severity"), timings=report.get("timings"),
                   actions=len(report.get("actions") or []))
    T.out("  %s" % T.bold("checks"))
    for ok, what in c.items:
        T.out("    %s %s" % (T.green("ok  ") if ok else T.red("FAIL"), what))
    res["checks"] = [{"ok": ok, "what": what} for ok, what in c.items]
    res["result"] = "PASS" if c.ok else "FAIL"
    T.out("  " + (T.green(T.bold("PASS")) if c.ok else T.red(T.bold("FAIL"))))
    return res


def secrets_check(world, results, sns_messages):
    """No watched secret value nor secret access key in any report, the function logs or SNS."""
    vals = watched_values(world) + [k["SecretAccessKey"] for u in world["iam"]["users"]
                                    for k in u.get("access_keys", []) if k.get("SecretAccessKey")]
    hits = []
    for m in sns_messages:
        for v in vals:
            if v in (m or ""):
                hits.append("an SNS message")
    places = []
    for r in results:
        p = os.path.join(OUT, "%s.report.json" % r["scenario"])
        if os.path.exists(p):
            places.append(p)
    places.append(os.path.join(OUT, "emulator.log"))
    for p in places:
        with open(p, "rb") as f:
            data = f.read()
        for v in vals:
            if v.encode() in data:
                hits.append(os.path.relpath(p, ROOT))
    return sorted(set(hits))


def main(argv=None):
    ap = argparse.ArgumentParser(description="firebreak local P1 drill")
    ap.add_argument("--scenario", choices=ORDER, help="run one scenario (default: all)")
    ap.add_argument("--dry-run", action="store_true",
                    help="FIREBREAK_DRY_RUN=true: every read, no write; writes listed as planned")
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    ap.add_argument("--out", help="where reports and logs go (default build/demo)")
    args = ap.parse_args(argv)
    global OUT
    if args.out:
        OUT = os.path.abspath(args.out)
    names = [args.scenario] if args.scenario else list(ORDER)

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, on_signal)

    ctx = Context(args)
    results = []
    T.out(T.bold("firebreak P1 drill") + T.dim("  (fake AWS account %s, %s%s)" % (
        ACCOUNT, REGION, ", DRY RUN" if args.dry_run else "")))
    rc = 0
    try:
        for n in names:
            fn = FUNCTION[n]
            if os.path.exists(os.path.join(ROOT, "functions", fn, "main.c")) and \
                    not os.access(os.path.join(ROOT, "build/native", fn, "bootstrap"), os.X_OK):
                raise RuntimeError("build/native/%s/bootstrap missing: run `make all` first" % fn)
        present = [FUNCTION[n] for n in names
                   if os.path.exists(os.path.join(ROOT, "functions", FUNCTION[n], "main.c"))]
        if not present:
            present = []
        present += [f for n in names for f in NEEDS.get(n, ()) if f not in present]   # w3-rst2
        for old in os.listdir(OUT) if os.path.isdir(OUT) else []:
            if old.endswith(".report.json") or old in ("emulator.log", "fakeaws.log"):
                os.unlink(os.path.join(OUT, old))
        world = start_world(ctx, present or ["root-verify"]) if present else None
        for n in names:
            try:
                results.append(run_scenario(ctx, n))
            except (urllib.error.URLError, RuntimeError, OSError, ValueError, KeyError) as e:
                T.out("  " + T.red("FAIL") + " %s" % e)
                results.append({"scenario": n, "function": FUNCTION[n], "result": "FAIL",
                                "error": str(e)})
        if world is not None:
            try:
                stats = http_json(ctx.emu_url + "/_emulator/stats")
                for f in stats["functions"].values():
                    ctx.procs.extra_pids += f.get("pids") or []
            except (urllib.error.URLError, OSError, ValueError):
                pass
    except KeyboardInterrupt:
        T.out()
        T.out(T.yellow("interrupted: stopping everything the demo started"))
        rc = 130
    except RuntimeError as e:
        T.out(T.red("demo: %s" % e))
        rc = 1
    finally:
        ctx.procs.stop_all()
        if ctx.run_dir:
            shutil.rmtree(ctx.run_dir, ignore_errors=True)
    if rc == 130:
        return rc
    if results and any(r["result"] != "SKIP" for r in results):
        hits = secrets_check(load("world.json"), results, ctx.sns_messages)
        if hits:
            T.out(T.red("FAIL") + " a watched secret value appears in: " + ", ".join(hits))
            for r in results:
                if r["result"] == "PASS":
                    r["result"] = "FAIL"
        else:
            T.out()
            T.out(T.dim("no watched secret value or secret access key in any report or function log"))
    T.out()
    T.out(T.bold("summary") + (T.dim("  (dry run)") if args.dry_run else ""))
    for r in results:
        tm = r.get("timings") or {}
        took = tm.get("received_to_contained_ms")
        col = {"PASS": T.green, "FAIL": T.red}.get(r["result"], T.yellow)
        T.out("  %-5s %-16s %s  %s" % (r["scenario"], r["function"], col("%-4s" % r["result"]),
                                       ("contained in %d ms" % took) if took is not None
                                       else (r.get("verdict") or r.get("error") or "")))
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "summary.json"), "w") as f:
        json.dump({"dry_run": args.dry_run, "scenarios": results,
                   "passed": sum(r["result"] == "PASS" for r in results),
                   "failed": sum(r["result"] == "FAIL" for r in results),
                   "skipped": sum(r["result"] == "SKIP" for r in results)}, f, indent=2)
    rel = os.path.relpath(OUT, ROOT)
    T.out(T.dim("reports: %s/<scenario>.report.json, %s/summary.json" % (rel, rel)))
    if rc:
        return rc
    return 1 if any(r["result"] == "FAIL" for r in results) or not results else 0


if __name__ == "__main__":
    sys.exit(main())
