#!/usr/bin/python3
# runs-in: 81-sanitizers (make test runs this suite once, against the ASan+UBSan build)
"""access-triage against tests/fakeaws, run through the local Lambda emulator.

The fake's CloudTrail serves seeded records (AccessDenied ones among them);
the responder reads the window with LookupEvents and reports a verdict. The
window the responder read is read back with the real AWS CLI
(cloudtrail lookup-events) as an oracle for the counts. One fake for the
whole file, re-seeded per case. Prints "N passed, N failed".
"""
import copy
import datetime
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import fbtest  # noqa: E402

FN = "access-triage"
ACCT = fbtest.ACCOUNT
TOPIC = "arn:aws:sns:us-east-1:%s:firebreak" % ACCT
ENV = {"FIREBREAK_TOPIC_ARN": TOPIC}
MALLORY = "arn:aws:iam::%s:user/mallory" % ACCT
SCANNER = "arn:aws:iam::%s:user/scanner-nightly" % ACCT
BREAKGLASS = "arn:aws:iam::%s:user/breakglass" % ACCT
ATTACKER_IP = "203.0.113.66"
TRAIL_GROUP = "aws-cloudtrail-logs-firebreak"
FIRED = datetime.datetime(2024, 3, 1, 10, 0, 0)
ENUM = [("iam", "ListUsers"), ("iam", "ListRoles"), ("s3", "ListBuckets"), ("ec2", "DescribeInstances"),
        ("secretsmanager", "ListSecrets"), ("kms", "ListKeys"), ("lambda", "ListFunctions")]


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def rec(when, arn, ip, svc, name, code=None, read_only=None, n=0):
    r = {"eventVersion": "1.08",
         "userIdentity": {"type": "IAMUser", "arn": arn, "accountId": ACCT, "userName": arn.rsplit("/", 1)[-1],
                          "accessKeyId": "AKIAEXAMPLEKEY%06d" % n},
         "eventTime": iso(when), "eventSource": "%s.amazonaws.com" % svc, "eventName": name,
         "awsRegion": "us-east-1", "sourceIPAddress": ip, "userAgent": "aws-cli/2.15.0",
         "eventID": "seed-%s-%d-%s" % (name, n, iso(when)), "eventType": "AwsApiCall",
         "recipientAccountId": ACCT}
    if code:
        r["errorCode"] = code
        r["errorMessage"] = "User: %s is not authorized to perform: %s" % (arn, name)
    if read_only is not None:
        r["readOnly"] = read_only
    return r


def burst(end, arn=MALLORY, ip=ATTACKER_IP):
    return [rec(end - datetime.timedelta(minutes=10 - i), arn, ip, s, n,
                "Client.UnauthorizedOperation" if s == "ec2" else "AccessDenied", True, i)
            for i, (s, n) in enumerate(ENUM)]


def role_rec(when, role, ip, svc, name, code=None, read_only=None, n=0):
    """A record of an assumed-role session of `role` (its issuer named as CloudTrail does)."""
    r = rec(when, "arn:aws:sts::%s:assumed-role/%s/i-0abc" % (ACCT, role), ip, svc, name, code, read_only, n)
    r["userIdentity"] = {"type": "AssumedRole", "arn": r["userIdentity"]["arn"], "accountId": ACCT,
                         "accessKeyId": "ASIAEXAMPLESESS%05d" % n, "principalId": "AROAEXAMPLE:i-0abc",
                         "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::%s:role/%s" % (ACCT, role),
                                                              "accountId": ACCT, "userName": role}}}
    return r


IPSET_ID = "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
IPSET_ARN = "arn:aws:wafv2:us-east-1:%s:regional/ipset/firebreak-blocked/%s" % (ACCT, IPSET_ID)


# the scenario's settings: every path (Insights, leaked-key reads, containment)
SCENARIO_ENV = dict(ENV, FIREBREAK_AT_LOG_GROUP=TRAIL_GROUP, FIREBREAK_TRIAGE_CONTAIN="true",
                    FIREBREAK_AT_IPSET_ARN=IPSET_ARN, FIREBREAK_AT_POLL_MS="50")


def cli(fake, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDFAKE", AWS_SECRET_ACCESS_KEY="fakesecret",
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    p = subprocess.run(["/usr/bin/aws", "--endpoint-url", fake.url, "--output", "json"] + list(args),
                       capture_output=True, text=True, env=env, timeout=60)
    if p.returncode != 0:
        raise AssertionError("aws %s: %s" % (" ".join(args[:2]), p.stderr))
    return json.loads(p.stdout) if p.stdout.strip() else None


def world(records, log_records=None, insights=None, iam=None, roles=None, ipset=False):
    w = {"sns": {"topics": [TOPIC]}, "cloudtrail": {"records": records}}
    if iam is not None:
        w["iam"] = iam
    if roles is not None:
        w["roles"] = roles
    if ipset:
        w["wafv2"] = {"ip_sets": [{"Name": "firebreak-blocked", "Id": IPSET_ID, "Addresses": ["192.0.2.1/32"],
                                   "Description": "firebreak blocks"}]}
    if log_records is not None:
        # the trail's delivery to CloudWatch Logs: one JSON record a log event
        w["logs"] = {"insights": insights or {"running_polls": 0, "final": "Complete"},
                     "groups": [{"name": TRAIL_GROUP, "streams": [{"name": "%s_CloudTrail_us-east-1" % ACCT, "events": [
                         {"timestamp": int(datetime.datetime.strptime(r["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
                             tzinfo=datetime.timezone.utc).timestamp() * 1000), "message": json.dumps(r)}
                         for r in log_records]}]}]}
    return w


def alarm(name="unauthorized-api-calls", state="ALARM", when=FIRED):
    ev = copy.deepcopy(fbtest.reference("cloudwatch-alarm-state-change-single-metric.eventbridge.json") or {
        "version": "0", "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92", "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch", "account": ACCT, "time": iso(when), "region": "us-east-1", "resources": [],
        "detail": {"state": {}, "previousState": {"value": "OK"}}})
    ev["account"] = ACCT
    ev["time"] = iso(when)
    ev["detail"]["alarmName"] = name
    ev["detail"]["state"]["value"] = state
    ev["detail"]["state"]["timestamp"] = when.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return ev


def scenario_world():
    """The fault matrix's and hostile catalogue's world: a P1 in the window of
    events/access-triage/alarm-unauthorized-api-calls.json (fired 2019-10-02T17:04:40Z),
    in CloudTrail and in the trail's log group (SCENARIO_ENV reads it with
    Insights and contains: mallory's key, the WAF IP set)."""
    fired = datetime.datetime(2019, 10, 2, 17, 4, 40)
    recs = burst(fired) + [rec(fired - datetime.timedelta(minutes=1), MALLORY, ATTACKER_IP, "iam",
                               "CreateAccessKey", None, False, 60)]
    return world(recs, recs, iam={"users": [{"UserName": "mallory", "access_keys": [
        {"AccessKeyId": "AKIAEXAMPLEKEY%06d" % (len(ENUM) - 1)}]}]}, ipset=True)


class AccessTriage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = fbtest.Fake(world([])).start()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def run_fn(self, event, records, log_records=None, insights=None, timeout=30, iam=None, roles=None,
               ipset=False, **env):
        self.fake.seed(world(records, log_records, insights, iam, roles, ipset))
        self.fake.faults({"clear": True, "faults": []})
        self.fake.reset_calls()
        e = dict(ENV)
        e.update(env)
        return fbtest.invoke(FN, event, self.fake, env=e, timeout=timeout)

    def assert_no_writes(self):
        self.assertEqual(fbtest.writes(self.fake.calls()), [])

    def cli_lookup(self, start, end):
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDFAKE", AWS_SECRET_ACCESS_KEY="fakesecret",
                   AWS_DEFAULT_REGION="us-east-1")
        out = subprocess.run(["/usr/bin/aws", "--endpoint-url", self.fake.url, "cloudtrail", "lookup-events",
                              "--start-time", start, "--end-time", end, "--output", "json"],
                             capture_output=True, env=env, timeout=60, check=True)
        return json.loads(out.stdout)["Events"]

    def test_p1_denied_then_wrote_from_the_same_ip(self):
        recs = burst(FIRED) + [
            rec(FIRED - datetime.timedelta(minutes=2), MALLORY, ATTACKER_IP, "iam", "CreateAccessKey", None, False, 50),
            # the same principal writing from its usual address is not the attacker's success
            rec(FIRED - datetime.timedelta(minutes=3), MALLORY, "198.51.100.10", "iam", "PutUserPolicy", None, False, 51),
            # outside the window (window 15 + lookback 15 minutes)
            rec(FIRED - datetime.timedelta(minutes=45), MALLORY, ATTACKER_IP, "iam", "ListUsers", "AccessDenied", True, 52)]
        res = self.run_fn(alarm(), recs)
        self.assertTrue(res.ok, res)
        rep = res.report
        self.assertEqual(rep["severity"], "P1", rep)
        p = rep["principals"][0]
        self.assertEqual((p["principal"], p["source_ip"], p["severity"]), (MALLORY, ATTACKER_IP, "P1"))
        self.assertEqual(p["denied"], len(ENUM))
        self.assertEqual(p["successful_writes"], 1)
        self.assertEqual(p["write_apis"], ["iam:CreateAccessKey"])
        self.assertTrue(rep["complete"])
        self.assertEqual(rep["denied_calls"], len(ENUM))
        fns = sorted(m["function"] for m in rep["containment_manual"])
        self.assertEqual(fns, ["iam-contain", "net-block"])
        self.assertNotIn("AKIAEXAMPLEKEY", json.dumps(rep["principals"]))
        self.assert_no_writes()
        # oracle: the CLI reads the same window and sees the same events
        evs = self.cli_lookup(rep["window"]["start"], rep["window"]["end"])
        self.assertEqual(len(evs), rep["window"]["events"])
        denied = [e for e in evs if json.loads(e["CloudTrailEvent"]).get("errorCode")]
        self.assertEqual(len(denied), rep["denied_calls"])

    def test_second_principal_succeeding_from_the_attacker_ip_is_p1(self):
        app = "arn:aws:iam::%s:user/ci-deploy" % ACCT
        recs = burst(FIRED) + [
            rec(FIRED - datetime.timedelta(minutes=4), app, ATTACKER_IP, "s3", "ListBuckets", None, True, 70),
            rec(FIRED - datetime.timedelta(minutes=3), app, ATTACKER_IP, "iam", "AttachUserPolicy", None, False, 71)]
        for records, logs, env in ((recs, None, {}), ([], recs, {"FIREBREAK_AT_LOG_GROUP": TRAIL_GROUP})):
            res = self.run_fn(alarm(), records, log_records=logs, **env)
            self.assertTrue(res.ok, res)
            rep = res.report
            self.assertEqual(rep["severity"], "P1", rep)
            self.assertIn("another principal succeeded", rep["principals"][0]["reason"])
            src = rep["sources"][0]
            self.assertEqual(src["ip"], ATTACKER_IP)
            self.assertEqual(src["other_principals"], [app])
            self.assertEqual([c["api"] for c in src["calls"]], ["iam:AttachUserPolicy", "s3:ListBuckets"])
            manual = [m["payload"].get("principal") for m in rep["containment_manual"] if m["function"] == "iam-contain"]
            self.assertEqual(manual, [MALLORY, app])
            self.assert_no_writes()
        # from the organisation's own egress: reported, not P1
        res = self.run_fn(alarm(), recs, FIREBREAK_AT_TRUSTED_CIDRS="203.0.113.0/24")
        self.assertEqual(res.report["severity"], "P2", res.report)
        self.assertTrue(res.report["sources"][0]["trusted"])

    def test_key_already_reported_leaked_is_p1_from_iam_state(self):
        key = "AKIAEXAMPLEKEY%06d" % (len(ENUM) - 1)   # the newest denial: read first
        cases = [
            # AWS attached its quarantine policy when it found the key in public
            ({"users": [{"UserName": "mallory", "attached": ["arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"],
                         "access_keys": [{"AccessKeyId": key}]}]}, "P1", "AWSCompromisedKeyQuarantineV2"),
            # the key was deactivated since (a leak response acted on it)
            ({"users": [{"UserName": "mallory", "access_keys": [{"AccessKeyId": key, "Status": "Inactive"}]}]},
             "P1", "deactivated since"),
            # a customer policy that only borrows the name is not AWS's notice
            ({"users": [{"UserName": "mallory", "attached": ["arn:aws:iam::%s:policy/AWSCompromisedKeyQuarantineV2" % ACCT],
                         "access_keys": [{"AccessKeyId": key}]}],
              "policies": [{"Arn": "arn:aws:iam::%s:policy/AWSCompromisedKeyQuarantineV2" % ACCT,
                            "versions": {"v1": "{}"}}]}, "P2", None)]
        for iam, sev, why in cases:
            res = self.run_fn(alarm(), burst(FIRED), iam=iam)
            self.assertTrue(res.ok, res)
            rep = res.report
            self.assertEqual(rep["severity"], sev, rep)
            p = rep["principals"][0]
            if why:
                self.assertIn(why, p["leaked_key"])
                self.assertIn("already reported leaked", rep["verdict"])
            else:
                self.assertNotIn("leaked_key", p)
            self.assertEqual(p["access_key"], "AKIA..." + key[-4:])
            self.assertNotIn(key, json.dumps(rep))
            self.assertIn("iam:ListAttachedUserPolicies", fbtest.ops(self.fake.calls()))
            self.assert_no_writes()

    # ---- containment (FIREBREAK_TRIAGE_CONTAIN=true) ----

    def contain_world(self):
        key = "AKIAEXAMPLEKEY%06d" % 50
        recs = burst(FIRED) + [
            rec(FIRED - datetime.timedelta(minutes=2), MALLORY, ATTACKER_IP, "iam", "CreateAccessKey", None, False, 50),
            # a role session denied then writing from another attacker address
            role_rec(FIRED - datetime.timedelta(minutes=6), "app-role", "198.51.100.77", "s3", "ListBuckets",
                     "AccessDenied", True, 80),
            role_rec(FIRED - datetime.timedelta(minutes=5), "app-role", "198.51.100.77", "s3", "PutBucketPolicy",
                     None, False, 81),
            # a trusted principal, P1 by the same rule, from a private address
            rec(FIRED - datetime.timedelta(minutes=7), BREAKGLASS, "10.9.8.7", "iam", "ListRoles", "AccessDenied", True, 90),
            rec(FIRED - datetime.timedelta(minutes=6), BREAKGLASS, "10.9.8.7", "iam", "CreateRole", None, False, 91)]
        iam = {"users": [{"UserName": "mallory", "access_keys": [{"AccessKeyId": key},
                                                                {"AccessKeyId": "AKIAEXAMPLEOTHER0001"}]},
                         {"UserName": "breakglass", "access_keys": [{"AccessKeyId": "AKIAEXAMPLEBREAK0001"}]}]}
        roles = [{"arn": "arn:aws:iam::%s:role/app-role" % ACCT, "inline_policies": {}}]
        return recs, iam, roles

    def test_containment_on_contains_p1_principals_and_blocks_their_ips(self):
        recs, iam, roles = self.contain_world()
        res = self.run_fn(alarm(), recs, iam=iam, roles=roles, ipset=True, FIREBREAK_TRIAGE_CONTAIN="true",
                          FIREBREAK_AT_IPSET_ARN=IPSET_ARN, FIREBREAK_TRUSTED_PRINCIPALS=BREAKGLASS)
        self.assertTrue(res.ok, res)
        rep = res.report
        self.assertEqual(rep["severity"], "P1", rep)
        self.assertTrue(rep["verdict"].endswith("; contained"), rep["verdict"])
        # oracles: the CLI reads IAM and WAF back
        keys = cli(self.fake, "iam", "list-access-keys", "--user-name", "mallory")["AccessKeyMetadata"]
        self.assertEqual(sorted(k["Status"] for k in keys), ["Inactive", "Inactive"])
        pol = cli(self.fake, "iam", "get-role-policy", "--role-name", "app-role", "--policy-name", "AWSRevokeOlderSessions")
        self.assertEqual(pol["PolicyDocument"]["Statement"][0]["Effect"], "Deny")
        addrs = cli(self.fake, "wafv2", "get-ip-set", "--name", "firebreak-blocked", "--scope", "REGIONAL",
                    "--id", IPSET_ID)["IPSet"]["Addresses"]
        self.assertEqual(sorted(addrs), ["192.0.2.1/32", "198.51.100.77/32", "203.0.113.66/32"])
        # every write recorded its undo
        apis = [r["api"] for r in rep["restore"]]
        self.assertEqual(apis.count("iam:UpdateAccessKey"), 2)
        self.assertIn("lambda:Invoke net-block", apis)
        self.assertTrue(any(a.startswith("iam:") and "RolePolicy" in a for a in apis), apis)
        skipped = {a["target"]: a["detail"] for a in rep["actions"] if a["status"] == "skipped"}
        self.assertIn("trusted", skipped[BREAKGLASS])
        self.assertIn("not a public address", skipped["10.9.8.7"])
        # nothing touched the trusted principal
        self.assertFalse([c for c in fbtest.writes(self.fake.calls())
                          if "breakglass" in json.dumps(c.get("params"))])
        # no manual invokes for what it contained itself
        self.assertNotIn("net-block", [m["function"] for m in rep.get("containment_manual", [])])

    def test_weapon_records_cannot_aim_the_containment(self):
        """Record fields an attacker shapes (the principal it acts as, the
        address) never make it contain the function itself, a principal of
        another account, or block an unspecified/private address."""
        me = "arn:aws:iam::%s:user/fake-admin" % ACCT       # the function's own identity in the fake
        other = "arn:aws:iam::999999999999:user/elsewhere"
        recs = []
        for n, (arn, ip) in enumerate(((me, "0.0.0.0"), (other, "192.168.1.9"))):
            recs += [rec(FIRED - datetime.timedelta(minutes=5), arn, ip, "iam", "ListUsers", "AccessDenied", True, 200 + n),
                     rec(FIRED - datetime.timedelta(minutes=4), arn, ip, "iam", "CreateUser", None, False, 210 + n)]
        recs[2]["userIdentity"]["accountId"] = "999999999999"
        recs[3]["userIdentity"]["accountId"] = "999999999999"
        res = self.run_fn(alarm(), recs, ipset=True, iam={"users": [{"UserName": "fake-admin", "access_keys": [
            {"AccessKeyId": "AKIAEXAMPLEADMIN0001"}]}]}, FIREBREAK_TRIAGE_CONTAIN="true", FIREBREAK_AT_IPSET_ARN=IPSET_ARN)
        self.assertTrue(res.ok, res)
        rep = res.report
        self.assertEqual(rep["severity"], "P1", rep)
        skipped = {a["target"]: a["detail"] for a in rep["actions"] if a["status"] == "skipped"}
        self.assertIn("own role", skipped[me])
        self.assertIn("another account", skipped[other])
        self.assertIn("not a public address", skipped["0.0.0.0"])
        self.assertIn("not a public address", skipped["192.168.1.9"])
        self.assert_no_writes()

    def test_containment_dry_run_plans_and_writes_nothing(self):
        recs, iam, roles = self.contain_world()
        # the manual form (window ending now): the same records, moved to now
        now = datetime.datetime.utcnow()
        recs = [dict(r, eventTime=iso(now - (FIRED - datetime.datetime.strptime(r["eventTime"], "%Y-%m-%dT%H:%M:%SZ"))))
                for r in recs]
        res = self.run_fn({"window_minutes": 15, "dryRun": True}, recs, iam=iam, roles=roles, ipset=True,
                          FIREBREAK_TRIAGE_CONTAIN="true", FIREBREAK_AT_IPSET_ARN=IPSET_ARN)
        self.assertTrue(res.ok, res)
        self.assertIn("planned", res.report["verdict"])
        self.assertTrue([a for a in res.report["actions"] if a["status"] == "planned"], res.report)
        self.assert_no_writes()

    # ---- w3-rst4: the containment's undo record (issue 24) ----
    def test_a_failing_undo_record_never_holds_the_containment_back(self):
        recs, iam, roles = self.contain_world()
        res = self.run_fn(alarm(), recs, iam=iam, roles=roles, ipset=True, FIREBREAK_TRIAGE_CONTAIN="true",
                          FIREBREAK_AT_IPSET_ARN=IPSET_ARN, FIREBREAK_TRUSTED_PRINCIPALS=BREAKGLASS,
                          FIREBREAK_EVIDENCE_BUCKET="no-such-bucket")
        self.assertTrue(res.ok, res)   # contained: not an error result
        self.assertTrue(res.report["verdict"].endswith("; contained"), res.report["verdict"])
        self.assertEqual(res.report["undo_record"]["state"], "incomplete")
        put = [a["status"] for a in res.report["actions"] if a["step"] == "evidence-put"]
        self.assertEqual(put, ["failed"])
        self.assertTrue(any("undo record" in w for w in res.report.get("warnings", [])), res.report)
        ops = [(c["service"], c["operation"]) for c in fbtest.writes(self.fake.calls())]
        self.assertEqual(ops[0], ("s3", "PutObject"))   # tried before the first containment write
        self.assertIn(("iam", "UpdateAccessKey"), ops)
        self.assertIn(("iam", "PutRolePolicy"), ops)
    # ---- end w3-rst4 ----

    def test_containment_off_gives_manual_invokes_and_writes_nothing(self):
        recs, iam, roles = self.contain_world()
        res = self.run_fn(alarm(), recs, iam=iam, roles=roles, ipset=True, FIREBREAK_AT_IPSET_ARN=IPSET_ARN)
        self.assertTrue(res.ok, res)
        self.assertFalse(res.report["containment"])
        fns = [(m["function"], m["payload"]) for m in res.report["containment_manual"]]
        self.assertIn(("net-block", {"ip": ATTACKER_IP}), fns)
        self.assertIn(("iam-contain", {"principal": MALLORY, "reason": "access-triage P1"}), fns)
        self.assert_no_writes()

    def test_p2_enumeration_without_success(self):
        res = self.run_fn(alarm(), burst(FIRED))
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["severity"], "P2", res.report)
        self.assertIn("enumeration burst", res.report["verdict"])
        self.assertNotIn("containment_manual", res.report)
        self.assert_no_writes()

    def test_other_alarm_or_state_is_skipped_without_reading(self):
        for ev in (alarm(name="ServerCpuTooHigh"), alarm(state="OK")):
            res = self.run_fn(ev, burst(FIRED))
            self.assertTrue(res.ok, res)
            self.assertTrue(res.report["verdict"].startswith("skipped"), res.report)
            # not a trigger: nothing read, nothing published (kit_skip_result)
            self.assertEqual(fbtest.ops(self.fake.calls()), [])

    def test_manual_window_noisy_principal_is_p3(self):
        now = datetime.datetime.utcnow()
        res = self.run_fn({"window_minutes": 15}, burst(now, arn=SCANNER, ip="10.0.0.5"),
                          FIREBREAK_AT_NOISY_PRINCIPALS="arn:aws:iam::*:user/scanner-*")
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["severity"], "P3", res.report)
        self.assertIn("noisy", res.report["principals"][0]["reason"])

    def test_page_cap_marks_the_report_incomplete(self):
        recs = burst(FIRED) + [rec(FIRED - datetime.timedelta(seconds=i * 5), "arn:aws:iam::%s:role/app" % ACCT,
                                   "10.1.2.3", "s3", "GetObject", None, True, 100 + i) for i in range(120)]
        res = self.run_fn(alarm(), recs, FIREBREAK_AT_MAX_PAGES="1")
        self.assertTrue(res.ok, res)
        rep = res.report
        self.assertFalse(rep["complete"], rep)
        self.assertIn("incomplete", rep["window"])
        self.assertEqual(rep["window"]["pages"], 1)
        self.assertIn("read incomplete", rep["verdict"])
        self.assertTrue(any("incomplete" in w for w in rep.get("warnings", [])), rep)

    def test_published_sample_scenario_is_p1(self):
        fired = datetime.datetime(2019, 10, 2, 17, 4, 40)
        with open(os.path.join(fbtest.ROOT, "events", FN, "alarm-unauthorized-api-calls.json")) as f:
            ev = json.load(f)
        res = self.run_fn(ev,
                          scenario_world()["cloudtrail"]["records"])
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["severity"], "P1", res.report)
        # the fault matrix's run: Insights, containment on
        self.fake.seed(scenario_world())
        self.fake.reset_calls()
        res = fbtest.invoke(FN, ev, self.fake, env=SCENARIO_ENV)
        self.assertTrue(res.ok, res)
        self.assertTrue(res.report["verdict"].endswith("; contained"), res.report)
        self.assertEqual(res.report["window"]["source"], "logs:StartQuery")
        self.assertEqual(res.report["window"]["end"], fired.strftime("%Y-%m-%dT%H:%M:%S.989Z"))

    def test_bad_manual_input_is_an_error_and_no_call(self):
        for ev in ({"window_minutes": 0}, {"window_minutes": "15"}, {"source": "aws.cloudwatch"}):
            res = self.run_fn(ev, burst(FIRED))
            self.assertFalse(res.ok, res)
            self.assertEqual(self.fake.calls(), [])

    # ---- CloudWatch Logs Insights (FIREBREAK_AT_LOG_GROUP) ----

    def p1_records(self):
        return burst(FIRED) + [
            rec(FIRED - datetime.timedelta(minutes=2), MALLORY, ATTACKER_IP, "iam", "CreateAccessKey", None, False, 50),
            rec(FIRED - datetime.timedelta(minutes=3), "arn:aws:iam::%s:role/app" % ACCT, "10.1.2.3", "s3",
                "GetObject", None, True, 51),
            rec(FIRED - datetime.timedelta(minutes=45), MALLORY, ATTACKER_IP, "iam", "ListUsers", "AccessDenied", True, 52)]

    def test_insights_reads_the_trail_log_group(self):
        recs = self.p1_records()
        # CloudTrail's LookupEvents holds nothing: the verdict can only come from the log group
        res = self.run_fn(alarm(), [], log_records=recs, FIREBREAK_AT_LOG_GROUP=TRAIL_GROUP)
        self.assertTrue(res.ok, res)
        rep = res.report
        self.assertEqual(rep["severity"], "P1", rep)
        ops = fbtest.ops(self.fake.calls())
        self.assertNotIn("cloudtrail:LookupEvents", ops)
        self.assertEqual(ops.count("logs:StartQuery"), 2, ops)   # denials, then successes from their IPs
        self.assertEqual(rep["window"]["source"], "logs:StartQuery")
        # oracle: the seeded records themselves (denials in the window, outside-window one excluded)
        self.assertEqual(rep["denied_calls"], len(ENUM))
        p = rep["principals"][0]
        self.assertEqual((p["principal"], p["source_ip"], p["write_apis"]), (MALLORY, ATTACKER_IP, ["iam:CreateAccessKey"]))
        self.assertTrue(rep["complete"], rep)
        qs = [c["params"]["queryString"] for c in self.fake.calls() if c.get("operation") == "StartQuery"]
        self.assertIn('sourceIPAddress in ["%s"]' % ATTACKER_IP, qs[1])
        self.assert_no_writes()

    def test_insights_running_then_complete(self):
        res = self.run_fn(alarm(), [], log_records=self.p1_records(), insights={"running_polls": 2},
                          FIREBREAK_AT_LOG_GROUP=TRAIL_GROUP, FIREBREAK_AT_POLL_MS="20")
        self.assertTrue(res.ok, res)
        self.assertTrue(res.report["complete"], res.report)
        self.assertEqual(fbtest.ops(self.fake.calls()).count("logs:GetQueryResults"), 6)
        self.assertNotIn("logs:StopQuery", fbtest.ops(self.fake.calls()))
        self.assertEqual(res.report["severity"], "P1")

    def test_insights_cut_by_the_budget_is_stopped_and_incomplete(self):
        res = self.run_fn(alarm(), [], log_records=self.p1_records(), insights={"running_polls": -1},
                          FIREBREAK_AT_LOG_GROUP=TRAIL_GROUP, FIREBREAK_AT_QUERY_WAIT_SECONDS="1")
        self.assertTrue(res.ok, res)
        rep = res.report
        self.assertFalse(rep["complete"], rep)
        self.assertIn("did not finish", rep["window"]["incomplete"])
        self.assertIn("read incomplete", rep["verdict"])
        self.assertIn("logs:StopQuery", fbtest.ops(self.fake.calls()))
        stop = [s for s in rep["actions"] if s["step"].startswith("stop-query")]
        self.assertEqual(stop[0]["status"], "done", stop)

    def test_insights_failed_or_timeout_is_incomplete(self):
        for final in ("Failed", "Timeout"):   # Cancelled takes the same path
            res = self.run_fn(alarm(), [], log_records=self.p1_records(), insights={"final": final},
                              FIREBREAK_AT_LOG_GROUP=TRAIL_GROUP)
            self.assertTrue(res.ok, res)
            self.assertFalse(res.report["complete"], res.report)
            self.assertIn("ended " + final, res.report["window"]["incomplete"])
            self.assertNotIn("logs:StopQuery", fbtest.ops(self.fake.calls()))

    def test_insights_unqueryable_group_falls_back_to_lookup_events(self):
        res = self.run_fn(alarm(), self.p1_records(), FIREBREAK_AT_LOG_GROUP="no-such-group")
        self.assertTrue(res.ok, res)
        rep = res.report
        self.assertEqual(rep["severity"], "P1", rep)
        self.assertIn("cloudtrail:LookupEvents", fbtest.ops(self.fake.calls()))
        self.assertTrue(any("LookupEvents instead" in w for w in rep["warnings"]), rep)
        self.assertTrue(rep["complete"], rep)

    def test_lookup_failure_is_an_error_result(self):
        self.fake.seed(world(burst(FIRED)))
        self.fake.faults({"kind": "error", "service": "cloudtrail", "operation": "LookupEvents"})
        self.fake.reset_calls()
        e = dict(ENV)
        res = fbtest.invoke(FN, alarm(), self.fake, env=e)
        self.assertFalse(res.ok, res)
        self.assertTrue(res.report["verdict"].startswith("failed"), res.report)


if __name__ == "__main__":
    fbtest.main([AccessTriage])
