#!/usr/bin/python3
# runs-in: 81-sanitizers (make test runs this suite once, against the ASan+UBSan build)
"""root-verify against tests/fakeaws through the local Lambda emulator.

Each test seeds the fake, runs build/native/root-verify/bootstrap once on an
event (events/root-verify/*.json, or the published samples in
../shared/reference-events/ when that folder exists), then asserts on the
report and on the fake's call log: the only write is sns:Publish.
Prints "N passed, N failed"; exits non-zero on failure.
"""
import concurrent.futures
import copy
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.chdir(ROOT)
# $FBTEST_BUILD: another build of the same bootstrap (81-sanitizers: build/asan)
BOOTSTRAP = os.path.join(os.environ.get("FBTEST_BUILD") or "build/native", "root-verify/bootstrap")
EVENTS = "events/root-verify"
SHARED = os.path.join("..", "shared", "reference-events")
OWN = "123456789012"          # the emulator's account (function ARN) = fake default account
MEMBER = "111122223333"       # the CloudTrail records' account, reached via the member role
TOPIC = "arn:aws:sns:us-east-1:%s:firebreak" % OWN
ALLOWED = "192.0.2.0/24,0.0.0.0/32,100.100.100.0/24,2001:db8::/32"
READS = {"LookupEvents", "GetAccountSummary", "AssumeRole", "GetCallerIdentity"}
WRITES = {"Publish"}


# ---- small helpers (tests/lib/fbtest.py did not exist when this was written) ----

class Fake:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="rv-fake-")
        pf = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen(["/usr/bin/python3", "tests/fakeaws/server.py", "--port", "0",
                                      "--port-file", pf], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "log"), "w"))
        for _ in range(300):
            if os.path.exists(pf) and open(pf).read().strip():
                break
            if self.proc.poll() is not None:
                raise RuntimeError("fakeaws exited: " + open(os.path.join(self.dir, "log")).read())
            time.sleep(0.05)
        self.port = int(open(pf).read().strip())
        self.url = "http://127.0.0.1:%d" % self.port

    def req(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        r = urllib.request.Request(self.url + path, data=data, method=method,
                                   headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(r, timeout=10) as resp:
            return json.loads(resp.read() or b"{}")

    def seed(self, world):
        self.req("POST", "/_fake/seed", world)
        self.req("POST", "/_fake/faults", {"clear": True, "faults": []})
        self.req("POST", "/_fake/calls/reset", {})

    def calls(self):
        return self.req("GET", "/_fake/calls")["calls"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


FAKE = None


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def world(records=(), summary=None, account=MEMBER):
    s = {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0}
    s.update(summary or {})
    return {"default_account": OWN,
            "roles": [{"arn": "arn:aws:iam::%s:role/firebreak-member" % MEMBER}],
            "sns": {"topics": [TOPIC]},
            "iam": {"account_summary": {account: s}},
            "cloudtrail": {"records": list(records)}}


def root_record(when, name="ConsoleLogin", ip="192.0.2.10", mfa="Yes", failed=False,
                account=MEMBER, n=0, identity=None):
    signin = name == "ConsoleLogin"
    r = {"eventVersion": "1.08",
         "userIdentity": identity or {"type": "Root", "principalId": account,
                                      "arn": "arn:aws:iam::%s:root" % account, "accountId": account},
         "eventTime": iso(when), "eventSource": "signin.amazonaws.com" if signin else "iam.amazonaws.com",
         "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": ip, "userAgent": "test",
         "eventID": "seed-%s-%d-%s" % (name, n, iso(when)), "eventType": "AwsConsoleSignIn" if signin else "AwsApiCall",
         "recipientAccountId": account}
    if signin:
        r["responseElements"] = {"ConsoleLogin": "Failure" if failed else "Success"}
        r["additionalEventData"] = {"MFAUsed": mfa}
        if failed:
            r["errorMessage"] = "Failed authentication"
    else:
        r["userIdentity"].setdefault("sessionContext", {"attributes": {
            "mfaAuthenticated": "true" if mfa.lower() == "yes" else "false"}})
        if failed:
            r["errorCode"] = "AccessDenied"
    return r


def invoke(event, _timeout=60, **env):
    """-> (is_error, report-or-error dict). _timeout: the function's timeout (s)."""
    if isinstance(event, (dict, list)) or (isinstance(event, str) and not os.path.exists(event)):
        f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        f.write(event if isinstance(event, str) else json.dumps(event))
        f.close()
        path = f.name
    else:
        path = event
    base = {"AWS_ENDPOINT_URL": FAKE.url, "AWS_ACCESS_KEY_ID": "AKIDFAKE",
            "AWS_SECRET_ACCESS_KEY": "fakesecret", "AWS_REGION": "us-east-1",
            "FIREBREAK_TOPIC_ARN": TOPIC, "FIREBREAK_MEMBER_ROLE": "firebreak-member",
            "FIREBREAK_ROOT_ALLOWED_CIDRS": ALLOWED}
    base.update(env)
    cmd = ["/usr/bin/python3", "tests/emulator/emulator.py", "invoke", "--quiet",
           "--function", "root-verify=" + BOOTSTRAP, "--timeout", "root-verify=%d" % _timeout]
    for k, v in base.items():
        if v is not None:
            cmd += ["--env", "root-verify:%s=%s" % (k, v)]
    cmd.append(path)
    p = subprocess.run(cmd, capture_output=True, timeout=120)
    out = json.loads(p.stdout.decode() or "null")
    if p.returncode == 0:
        return False, out
    # errors: {"errorType", "errorMessage"}; the message may wrap the runtime's own error body
    msg = out.get("errorMessage", "")
    for _ in range(2):
        try:
            inner = json.loads(msg)
        except (ValueError, TypeError):
            break
        if isinstance(inner, dict) and "errorMessage" in inner:
            out["errorType"] = inner.get("errorType", out.get("errorType"))
            msg = inner["errorMessage"]
        else:
            out["report"] = inner
            break
    out["errorMessage"] = msg
    return True, out


def ops(calls):
    return [c["operation"] for c in calls]


def codes(report):
    return [r["code"] for r in report.get("reasons", [])]


class RootVerify(unittest.TestCase):
    def setUp(self):
        FAKE.seed(world())

    def assert_only_reads_and_notify(self, calls, publish=1):
        names = ops(calls)
        self.assertTrue(set(names) <= READS | WRITES, names)
        self.assertEqual(names.count("Publish"), publish, names)

    def run_case(self, event, severity, must, must_not=(), **env):
        FAKE.req("POST", "/_fake/calls/reset", {})
        err, rep = invoke(event, **env)
        self.assertFalse(err, rep)
        self.assertEqual(rep["severity"], severity, (rep["verdict"], rep.get("reasons")))
        for c in must:
            self.assertIn(c, codes(rep), rep.get("reasons"))
        for c in must_not:
            self.assertNotIn(c, codes(rep), rep.get("reasons"))
        calls = FAKE.calls()
        self.assert_only_reads_and_notify(calls)
        # the first LookupEvents page and GetAccountSummary both ran
        self.assertIn("LookupEvents", ops(calls))
        self.assertIn("GetAccountSummary", ops(calls))
        self.assertTrue(rep["next_steps"])
        return rep, calls

    # ---- the sample events --------------------------------------------------------

    def test_signin_no_mfa_published_envelope(self):
        for path in (os.path.join(SHARED, "root-console-signin-no-mfa.eventbridge.json"),
                     os.path.join(EVENTS, "signin-no-mfa.eventbridge.json")):
            if not os.path.exists(path):
                continue
            FAKE.seed(world(account=OWN))
            rep, calls = self.run_case(path, "P1", ["signin-without-mfa"], ["source-ip-not-allowed"])
            self.assertTrue(rep["verdict"].startswith("escalate: "))
            self.assertEqual(rep["event"]["mfa"], "no")
            # own account: no AssumeRole
            self.assertNotIn("AssumeRole", ops(calls))

    def test_api_call_s3_createbucket_published_envelope(self):
        for path in (os.path.join(SHARED, "root-api-call-s3-createbucket.eventbridge.json"),
                     os.path.join(EVENTS, "api-call-s3-createbucket.eventbridge.json")):
            if not os.path.exists(path):
                continue
            FAKE.seed(world(account=OWN))
            self.run_case(path, "P1", ["api-call-without-mfa"], ["sensitive-call"])

    def test_signin_with_mfa_both_casings(self):
        for name in ("signin-with-mfa-YES.json", "signin-with-mfa-Yes.json"):
            FAKE.seed(world())
            rep, calls = self.run_case(os.path.join(EVENTS, name), "P2", ["root-used-with-mfa"])
            self.assertEqual(rep["event"]["mfa"], "yes")
            self.assertEqual(rep["verdict"], "review: root-used-with-mfa")
            self.assertEqual(rep["account"], MEMBER)
            # cross-account: through the member role, lookups in the member account
            self.assertIn("AssumeRole", ops(calls))
            self.assertTrue(all(c.get("account") == MEMBER for c in calls
                                if c["operation"] in ("LookupEvents", "GetAccountSummary")))

    def test_signin_with_mfa_from_outside_network(self):
        rep, _ = self.run_case(os.path.join(EVENTS, "signin-with-mfa-YES.json"), "P1",
                               ["source-ip-not-allowed"], FIREBREAK_ROOT_ALLOWED_CIDRS="10.0.0.0/8")
        self.assertEqual(rep["event"]["network"], "outside")

    def test_unset_cidrs_is_said(self):
        rep, _ = self.run_case(os.path.join(EVENTS, "signin-with-mfa-YES.json"), "P2",
                               ["network-restriction-not-configured"], FIREBREAK_ROOT_ALLOWED_CIDRS=None)
        self.assertEqual(rep["event"]["network"], "not-checked")

    def test_signin_no_mfa_record(self):
        self.run_case(os.path.join(EVENTS, "signin-no-mfa.json"), "P1", ["signin-without-mfa"])

    def test_signin_failure_alone_and_repeated(self):
        path = os.path.join(EVENTS, "signin-failure.json")
        rep, _ = self.run_case(path, "P3", ["signin-failed"], ["repeated-failed-signins"])
        self.assertEqual(rep["event"]["outcome"], "failure")
        t = datetime.datetime(2022, 11, 10, 16, 24, 34)
        FAKE.seed(world([root_record(t - datetime.timedelta(minutes=m), failed=True, mfa="No", n=m)
                         for m in (5, 10)]))
        rep, _ = self.run_case(path, "P2", ["signin-failed", "repeated-failed-signins"])
        self.assertEqual(rep["history"]["failed_signins"], 2)
        # the threshold is a setting
        FAKE.seed(world([root_record(t - datetime.timedelta(minutes=5), failed=True, mfa="No")]))
        self.run_case(path, "P3", ["signin-failed"], ["repeated-failed-signins"],
                      FIREBREAK_ROOT_FAILED_SIGNIN_THRESHOLD="3")
        self.run_case(path, "P2", ["repeated-failed-signins"], FIREBREAK_ROOT_FAILED_SIGNIN_THRESHOLD="2")

    def test_enable_mfa_device_and_password_updated_are_sensitive(self):
        rep, _ = self.run_case(os.path.join(EVENTS, "api-call-enable-mfa-device.json"), "P1", ["sensitive-call"])
        self.assertIn("EnableMFADevice", json.dumps(rep["reasons"]))
        rep, _ = self.run_case(os.path.join(EVENTS, "password-updated.json"), "P1", ["sensitive-call"])
        self.assertIn("PasswordUpdated", json.dumps(rep["reasons"]))

    def test_published_cloudtrail_records_wrapped(self):
        """The published raw records, wrapped here in an EventBridge envelope."""
        if not os.path.isdir(SHARED):
            self.skipTest("../shared not present")
        cases = {"root-console-signin-with-mfa.cloudtrail-record.json": ("P2", "root-used-with-mfa"),
                 "root-console-signin-no-mfa.cloudtrail-record.json": ("P1", "signin-without-mfa"),
                 "root-console-signin-failure.cloudtrail-record.json": ("P3", "signin-failed"),
                 "root-api-call-enable-mfa-device.cloudtrail-record.json": ("P1", "sensitive-call"),
                 "root-password-updated.cloudtrail-record.json": ("P1", "sensitive-call")}
        for name, (sev, code) in cases.items():
            rec = json.load(open(os.path.join(SHARED, name)))
            signin = rec["eventType"] == "AwsConsoleSignIn"
            ev = {"version": "0", "id": "wrap-" + name,
                  "detail-type": "AWS Console Sign In via CloudTrail" if signin else "AWS API Call via CloudTrail",
                  "source": "aws.signin" if signin else "aws.iam", "account": rec["recipientAccountId"],
                  "time": rec["eventTime"], "region": rec["awsRegion"], "resources": [], "detail": rec}
            FAKE.seed(world())
            with self.subTest(name=name):
                self.run_case(ev, sev, [code])

    # ---- alarms -------------------------------------------------------------------

    def test_alarm_samples(self):
        """The published alarm samples: skipped under the default alarm name,
        verified when configured as the root-usage alarm (5-minute window)."""
        for base in (SHARED, EVENTS):
            for name in ("single-metric", "metric-math"):
                path = os.path.join(base, ("cloudwatch-alarm-state-change-%s.eventbridge.json" if base == SHARED
                                           else "alarm-%s.eventbridge.json") % name)
                if not os.path.exists(path):
                    continue
                ev = json.load(open(path))
                FAKE.seed(world(account=OWN))
                err, rep = invoke(path)
                self.assertFalse(err, rep)
                self.assertTrue(rep["verdict"].startswith("skipped: "), rep["verdict"])
                self.assertEqual(FAKE.calls(), [])
                end = datetime.datetime.strptime(ev["detail"]["state"]["timestamp"][:19], "%Y-%m-%dT%H:%M:%S")
                FAKE.seed(world([root_record(end - datetime.timedelta(minutes=3), mfa="No", account=OWN),
                                 # outside the 5-minute window: not counted
                                 root_record(end - datetime.timedelta(minutes=30), name="StopLogging", account=OWN)],
                                account=OWN))
                rep, _ = self.run_case(path, "P1", ["signin-without-mfa"], ["sensitive-call"],
                                       FIREBREAK_ROOT_ALARM_NAME=ev["detail"]["alarmName"])
                self.assertEqual(rep["window"]["minutes"], 5)
                self.assertEqual(rep["history"]["events"], 1)

    def test_alarm_root_usage_default_name(self):
        path = os.path.join(EVENTS, "alarm-root-usage.json")
        FAKE.seed(world())
        rep, _ = self.run_case(path, "P2", ["alarm-without-events"])
        t = datetime.datetime(2022, 11, 10, 16, 27, 0)
        FAKE.seed(world([root_record(t, name="CreateAccessKey", mfa="Yes")]))
        rep, _ = self.run_case(path, "P1", ["sensitive-call"])
        err, rep = invoke(os.path.join(EVENTS, "alarm-root-usage-ok.json"))
        self.assertFalse(err)
        self.assertTrue(rep["verdict"].startswith("skipped: "))

    # ---- account posture, centralized root ----------------------------------------------

    def test_account_summary_overrides(self):
        path = os.path.join(EVENTS, "signin-with-mfa-YES.json")
        for summary, code in (({"AccountAccessKeysPresent": 1}, "root-access-keys-present"),
                              ({"AccountMFAEnabled": 0}, "root-mfa-not-enabled")):
            FAKE.seed(world(summary=summary))
            rep, _ = self.run_case(path, "P1", [code, "root-used-with-mfa"])
            self.assertEqual(rep["verdict"], "escalate: " + code)

    def test_centralized_root(self):
        # The sts:AssumeRoot call (the record the IAM User Guide publishes):
        # the caller decides whether centralized root access is expected.
        FAKE.seed(world())
        path = os.path.join(EVENTS, "assume-root.json")
        rep, _ = self.run_case(path, "P3", ["centralized-root-trusted"],
                               ["centralized-root-untrusted", "api-call-without-mfa", "root-activity"],
                               FIREBREAK_TRUSTED_PRINCIPALS="arn:aws:iam::111122223333:role/RootTask*")
        self.assertEqual(rep["verdict"],
                         "expected: centralized root access by arn:aws:iam::111122223333:role/RootTaskOperator")
        self.assertEqual(rep["event"]["assume_root"],
                         {"target_principal": "444455556666",
                          "task_policy_arn": "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy"})
        rep, _ = self.run_case(path, "P1", ["centralized-root-untrusted"], ["centralized-root-trusted"])
        self.assertIn("arn:aws:iam::111122223333:role/RootTaskOperator", json.dumps(rep["reasons"]))
        # A root session in the member account (sessionContext.assumedRoot
        # "true"): its record does not name the issuer, so trust cannot be
        # established from it, whatever FIREBREAK_TRUSTED_PRINCIPALS says.
        path = os.path.join(EVENTS, "centralized-root-session.json")
        rep, _ = self.run_case(path, "P1", ["centralized-root-untrusted", "sensitive-call"],
                               ["centralized-root-trusted"],
                               FIREBREAK_TRUSTED_PRINCIPALS="arn:aws:iam::*:role/*")
        self.assertTrue(rep["event"]["centralized_root"])

    # ---- paging, bounds ----------------------------------------------------------------

    def seed_many(self, n=120):
        now = datetime.datetime.utcnow()
        recs = []
        names = ["ConsoleLogin", "ListUsers", "GetAccountSummary", "DescribeInstances"]
        for i in range(n):
            recs.append(root_record(now - datetime.timedelta(seconds=20 * i + 30), name=names[i % 4],
                                    ip="192.0.2.%d" % (i % 7), account=OWN, n=i))
        # not root: never counted
        other = root_record(now - datetime.timedelta(minutes=2), account=OWN, n=999)
        other["userIdentity"] = {"type": "IAMUser", "userName": "alice", "accountId": OWN,
                                 "arn": "arn:aws:iam::%s:user/alice" % OWN}
        recs.append(other)
        FAKE.seed(world(recs, account=OWN))

    def test_paging_counts_every_event(self):
        self.seed_many(120)
        rep, calls = self.run_case(os.path.join(EVENTS, "manual-60.json"), "P2", ["root-activity"])
        h = rep["history"]
        self.assertEqual(h["events"], 120)
        self.assertEqual(h["pages"], 3)
        self.assertTrue(h["complete"])
        self.assertEqual(ops(calls).count("LookupEvents"), 3)
        self.assertEqual(sorted(h["event_names"]), sorted(["ConsoleLogin", "ListUsers", "GetAccountSummary",
                                                          "DescribeInstances"]))
        self.assertEqual(sum(h["event_names"].values()), 120)
        self.assertEqual(len(h["source_ips"]), 7)
        self.assertEqual(h["successful_signins"], 30)
        # every page after the first carries the token of the one before
        lookups = [c for c in calls if c["operation"] == "LookupEvents"]
        self.assertNotIn("NextToken", lookups[0]["params"])
        self.assertTrue(all("NextToken" in c["params"] for c in lookups[1:]))

    def test_paging_bound_is_reported(self):
        self.seed_many(120)
        rep, calls = self.run_case(os.path.join(EVENTS, "manual-60.json"), "P2", ["history-incomplete"],
                                   FIREBREAK_ROOT_MAX_PAGES="2")
        self.assertEqual(rep["history"]["pages"], 2)
        self.assertEqual(rep["history"]["events"], 100)
        self.assertFalse(rep["history"]["complete"])
        self.assertIn("FIREBREAK_ROOT_MAX_PAGES", rep["history"]["incomplete_why"])
        self.assertEqual(ops(calls).count("LookupEvents"), 2)

    def test_dry_run_reads_everything_writes_nothing_else(self):
        """root-verify's only write is the notification; resp_finish still
        sends it under dry run (the contract's choice), so a dry run differs
        only in the report's dry_run flag."""
        self.seed_many(10)
        err, rep = invoke(os.path.join(EVENTS, "manual-dry-run.json"))
        self.assertFalse(err, rep)
        self.assertTrue(rep["dry_run"])
        self.assertEqual(rep["history"]["events"], 10)
        self.assert_only_reads_and_notify(FAKE.calls(), publish=1)

    # ---- faults --------------------------------------------------------------------------

    def test_lookup_throttled_is_retried(self):
        FAKE.req("POST", "/_fake/faults", {"faults": [{"kind": "throttle", "service": "cloudtrail",
                                                       "operation": "LookupEvents", "count": 2}]})
        rep, calls = self.run_case(os.path.join(EVENTS, "signin-no-mfa.json"), "P1", ["signin-without-mfa"])
        lookups = [c for c in calls if c["operation"] == "LookupEvents"]
        self.assertEqual(len(lookups), 3)
        self.assertEqual([c.get("fault") for c in lookups][:2], ["throttle", "throttle"])
        self.assertTrue(rep["history"]["complete"])

    def test_lookup_failing_gives_error_with_partial_report(self):
        """Throttled for good: the pager keeps trying until its share of the
        deadline (a 6 s function here), then the report says so."""
        FAKE.req("POST", "/_fake/faults", {"faults": [{"kind": "throttle", "service": "cloudtrail",
                                                       "operation": "LookupEvents"}]})
        t0 = time.time()
        err, out = invoke(os.path.join(EVENTS, "signin-no-mfa.json"), _timeout=6)
        self.assertLess(time.time() - t0, 6 + 5)
        self.assertTrue(err, out)
        self.assertEqual(out["errorType"], "Firebreak.ContainmentFailed")
        rep = out["report"]
        step = [a for a in rep["actions"] if a["step"] == "lookup-root-events"][0]
        self.assertEqual(step["status"], "failed")
        self.assertFalse(rep["history"]["complete"])
        # what was learned: the event's own facts and the account summary
        self.assertTrue(rep["account_summary"]["known"])
        self.assertEqual(rep["verdict"], "failed")
        self.assertTrue(rep["assessment"].startswith("escalate: "), rep["assessment"])
        self.assertEqual(rep["severity"], "P1")
        self.assertIn("signin-without-mfa", codes(rep))
        self.assertIn("history-incomplete", codes(rep))
        # issue 16 item 9: never the wording of a complete read
        self.assertEqual(rep["assessment"], "escalate: signin-without-mfa; history incomplete: regions us-east-1")
        self.assertEqual(rep["history"]["regions_incomplete"], ["us-east-1"])
        # more than the SDK's 3 attempts, paced at least 500 ms apart
        lookups = [c for c in FAKE.calls() if c["operation"] == "LookupEvents"]
        self.assertGreater(len(lookups), 3)
        self.assertTrue(all(b["time"] - a["time"] >= 0.45 for a, b in zip(lookups, lookups[1:])),
                        [c["time"] for c in lookups])
        self.assert_only_reads_and_notify(FAKE.calls())

    # ---- issue 16 item 9: the LookupEvents quota, and every Region -----------------------

    def test_concurrent_invocations_under_the_quota_read_everything(self):
        """Four root-verify invocations at once against CloudTrail's real
        quota (2 LookupEvents per second per account and Region), 3 pages
        each. The SDK's 3 attempts cannot carry 12 requests through a 2/s
        quota; the pager's deadline-bounded, paced retries do."""
        self.seed_many(120)
        FAKE.req("POST", "/_fake/seed", {"_merge": True, "cloudtrail": {"lookup_rate_per_second": 2}})
        FAKE.req("POST", "/_fake/calls/reset", {})
        ev = os.path.join(EVENTS, "manual-60.json")
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            results = list(ex.map(lambda _: invoke(ev, _timeout=30), range(4)))
        lookups = [c for c in FAKE.calls() if c["operation"] == "LookupEvents"]
        throttled = [c for c in lookups if c.get("code") == "ThrottlingException"]
        self.assertTrue(throttled, "the fake's quota did not throttle: the test shows nothing")
        for err, rep in results:
            rep = rep.get("report", rep) if err else rep
            self.assertFalse(err, (rep.get("assessment"), rep.get("history", {}).get("incomplete_why")))
            self.assertTrue(rep["history"]["complete"], rep["history"].get("incomplete_why"))
            self.assertEqual(rep["history"]["events"], 120)
            self.assertEqual(rep["history"]["regions_read"], ["us-east-1"])
            self.assertEqual(rep["verdict"], "review: root-activity")
        self.assertEqual(len(lookups) - len(throttled), 12)

    def seed_regions(self, extra_region_records):
        """A clean root sign-in in us-east-1 (in the window), plus records in
        other Regions; returns the sign-in event."""
        now = datetime.datetime.utcnow()
        signin = root_record(now - datetime.timedelta(minutes=1), account=OWN, n=1)
        recs = [signin] + extra_region_records
        FAKE.seed(world(recs, account=OWN))
        return {"version": "0", "id": "ev-1", "detail-type": "AWS Console Sign In via CloudTrail",
                "source": "aws.signin", "account": OWN, "time": signin["eventTime"],
                "region": "us-east-1", "resources": [], "detail": signin}

    def eu_record(self, name="CreateAccessKey"):
        now = datetime.datetime.utcnow()
        r = root_record(now - datetime.timedelta(minutes=5), name=name, account=OWN, n=2)
        r["awsRegion"] = "eu-west-1"
        return r

    def test_regions_default_and_setting(self):
        ev = self.seed_regions([self.eu_record()])
        # default: the trigger's Region, us-east-1, the function's Region
        rep, calls = self.run_case(ev, "P2", ["root-used-with-mfa"], ["sensitive-call"])
        self.assertEqual(rep["history"]["regions_read"], ["us-east-1"])
        self.assertEqual(rep["verdict"], "review: root-used-with-mfa")
        # the setting: eu-west-1 is read too, and its sensitive call found
        rep, calls = self.run_case(ev, "P1", ["sensitive-call"],
                                   FIREBREAK_ROOT_REGIONS="eu-west-1, us-east-1")
        self.assertEqual(rep["history"]["regions_read"], ["us-east-1", "eu-west-1"])
        self.assertEqual(rep["history"]["regions_incomplete"], [])
        self.assertTrue(rep["history"]["complete"])
        self.assertEqual(sorted(c["region"] for c in calls if c["operation"] == "LookupEvents"),
                         ["eu-west-1", "us-east-1"])
        self.assertEqual(rep["history"]["events"], 2)
        # a malformed list is an init error, before any AWS call
        FAKE.req("POST", "/_fake/calls/reset", {})
        err, out = invoke(ev, FIREBREAK_ROOT_REGIONS="us-east-1,not a region")
        self.assertTrue(err, out)
        self.assertIn("FIREBREAK_ROOT_REGIONS", out["errorMessage"])
        self.assertEqual(FAKE.calls(), [])

    def test_region_not_read_is_named_and_never_reads_as_complete(self):
        ev = self.seed_regions([])
        FAKE.req("POST", "/_fake/faults", {"faults": [{"kind": "throttle", "service": "cloudtrail",
                                                       "operation": "LookupEvents", "region": "eu-west-1"}]})
        err, out = invoke(ev, _timeout=6, FIREBREAK_ROOT_REGIONS="us-east-1,eu-west-1")
        self.assertTrue(err, out)   # a read that did not finish is a failed step
        rep = out["report"]
        self.assertEqual(rep["severity"], "P2")
        self.assertEqual(rep["assessment"], "review: root-used-with-mfa; history incomplete: regions eu-west-1")
        self.assertEqual(rep["history"]["regions_read"], ["us-east-1"])
        self.assertEqual(rep["history"]["regions_incomplete"], ["eu-west-1"])
        failed = [a for a in rep["actions"] if a["step"] == "lookup-root-events" and a["status"] == "failed"]
        self.assertEqual(len(failed), 1)
        self.assertIn("eu-west-1", failed[0]["detail"])
        self.assertIn("ThrottlingException", failed[0]["detail"])
        # P1 found in the Region that was read stays P1
        FAKE.seed(world([dict(ev["detail"], additionalEventData={"MFAUsed": "No"})], account=OWN))
        FAKE.req("POST", "/_fake/faults", {"faults": [{"kind": "throttle", "service": "cloudtrail",
                                                       "operation": "LookupEvents", "region": "eu-west-1"}]})
        err, out = invoke(dict(ev, detail=dict(ev["detail"], additionalEventData={"MFAUsed": "No"})),
                          _timeout=6, FIREBREAK_ROOT_REGIONS="us-east-1,eu-west-1")
        rep = out["report"]
        self.assertEqual(rep["severity"], "P1")
        self.assertEqual(rep["assessment"], "escalate: signin-without-mfa; history incomplete: regions eu-west-1")

    # ---- not a trigger, malformed ------------------------------------------------------------

    def test_not_root_is_a_clear_skip_with_no_calls(self):
        err, rep = invoke(os.path.join(EVENTS, "not-root-iam-user.json"))
        self.assertFalse(err, rep)
        self.assertTrue(rep["verdict"].startswith("skipped: "), rep["verdict"])
        self.assertIn("IAMUser", rep["verdict"])
        self.assertEqual(FAKE.calls(), [])

    def test_malformed_events(self):
        bad = [os.path.join(EVENTS, n) for n in ("invalid-window.json", "invalid-missing-identity-type.json",
                                                  "invalid-detail-type.json")]
        bad += [{}, [], "42", '"text"', {"window_minutes": 0}, {"window_minutes": 60, "dryRun": "yes"},
                {"source": "aws.signin", "detail-type": "AWS Console Sign In via CloudTrail", "detail": "x"},
                {"junk": "a" * (1024 * 1024 + 10)},
                "[" * 900 + "]" * 900]
        for ev in bad:
            FAKE.req("POST", "/_fake/calls/reset", {})
            err, out = invoke(ev)
            label = ev if isinstance(ev, str) and len(ev) < 200 else str(ev)[:60]
            self.assertTrue(err, label)
            self.assertEqual(out["errorType"], "Firebreak.InvalidEvent", (label, out))
            self.assertTrue(out["errorMessage"].startswith("invalid event: "), out["errorMessage"])
            self.assertEqual(FAKE.calls(), [], label)


def main():
    global FAKE
    if not os.path.exists(BOOTSTRAP):
        print("missing %s: run make all" % BOOTSTRAP)
        return 1
    FAKE = Fake()
    try:
        suite = unittest.defaultTestLoader.loadTestsFromTestCase(RootVerify)
        res = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    finally:
        FAKE.stop()
    failed = len(res.failures) + len(res.errors)
    print("%d passed, %d failed" % (res.testsRun - failed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
