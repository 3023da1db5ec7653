#!/usr/bin/python3
# runs-in: 81-sanitizers (make test runs this suite once, against the ASan+UBSan build)
"""data-breach against tests/fakeaws, run through the local Lambda emulator.

Oracles: the real AWS CLI (/usr/bin/aws --endpoint-url) reads PITR, the
backups and the stream back; restore[] entries are applied with botocore.
Triggers: AWS's published alarm sample adapted to a DynamoDB metric
(events/data-breach/README.md) and the manual form. One fake for every
case, reseeded between cases. Prints "N passed, N failed".
"""
import copy
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import fbtest  # noqa: E402

ROOT = fbtest.ROOT
EV = os.path.join(ROOT, "events/data-breach")
FN = "data-breach"
ACCT = fbtest.ACCOUNT
TOPIC = "arn:aws:sns:us-east-1:111111111111:firebreak"
ARN = "arn:aws:dynamodb:us-east-1:111111111111:table/orders"
BUCKET = "evidence-bucket"
EVKEY = "1234abcd-12ab-34cd-56ef-1234567890ab"
EVIDENCE_ENV = {"FIREBREAK_EVIDENCE_BUCKET": BUCKET, "FIREBREAK_EVIDENCE_KMS_KEY": "alias/firebreak-evidence"}


def event(name):
    with open(os.path.join(EV, name)) as f:
        e = json.load(f)
    if "account" in e:  # the sample's account -> the fake's
        e["account"] = ACCT
    return e


def world(pitr=False, stream=None, spike=True, tags=None, policy=None, policy_race=0, exports=None):
    t = {"TableName": "orders", "ItemCount": 48210, "TableSizeBytes": 9100000, "pitr": pitr,
         "Tags": tags if tags is not None else [{"Key": "firebreak:data-categories", "Value": "name, email, address"},
                                                  {"Key": "firebreak:data-subjects", "Value": "about 40000 customers"}]}
    if stream:
        t["StreamSpecification"] = stream
    if policy:
        t["policy"] = policy
    pts = [{"hours_ago": h, "Sum": 100.0 + (h % 3)} for h in range(1, 24)]
    if spike:
        pts[1]["Sum"] = 5000.0  # 2 hours ago
    return {"dynamodb": {"tables": [t], "policy_race": policy_race, "exports": exports or []},
            "sns": {"topics": [TOPIC]},
            "roles": [{"arn": "arn:aws:iam::%s:role/etl/analytics-etl" % ACCT},
                      {"arn": "arn:aws:iam::%s:role/firebreak-member" % ACCT}],
            "s3": {"buckets": [{"name": BUCKET}]},
            "kms": {"keys": [{"KeyId": EVKEY, "KeyState": "Enabled", "Aliases": ["alias/firebreak-evidence"]}]},
            "monitoring": {"metrics": [{"Namespace": "AWS/DynamoDB", "MetricName": "ConsumedReadCapacityUnits",
                                        "Dimensions": [{"Name": "TableName", "Value": "orders"}], "points": pts}]},
            "cloudtrail": {"events": []}}


KEY = "ASIARZOOKWPXR24HLMYM"
ROLE = "arn:aws:iam::%s:role/etl/analytics-etl" % ACCT


def iso(t):
    import time as _t
    return _t.strftime("%Y-%m-%dT%H:%M:%SZ", _t.gmtime(t))


def gd_event(table=None, severity=8):
    """The sample finding in the fake's account, seen 30 minutes ago."""
    import time as _t
    e = event("guardduty-anomalous-dynamodb.json")
    e["detail"]["accountId"] = ACCT
    e["detail"]["severity"] = severity
    e["detail"]["service"]["eventFirstSeen"] = iso(_t.time() - 1800)
    if table:
        e["detail"]["service"]["action"]["awsApiCallAction"]["affectedResources"]["AWS::DynamoDB::Table"] = table
    return e


def key_record(table="orders", event_name="ExportTableToPointInTime", key=KEY, ago=1200):
    """A CloudTrail record of the finding's key calling DynamoDB."""
    import time as _t
    arn = "arn:aws:dynamodb:us-east-1:%s:table/%s" % (ACCT, table)
    return {"eventVersion": "1.08", "eventTime": iso(_t.time() - ago), "eventSource": "dynamodb.amazonaws.com",
            "eventName": event_name, "awsRegion": "us-east-1", "recipientAccountId": ACCT,
            "userIdentity": {"type": "AssumedRole", "principalId": "AROAIHWLDLKQ2YARYAIIW:815945", "accessKeyId": key,
                             "arn": "arn:aws:sts::%s:assumed-role/analytics-etl/815945" % ACCT, "accountId": ACCT,
                             "sessionContext": {"sessionIssuer": {"type": "Role", "arn": ROLE, "accountId": ACCT,
                                                                  "userName": "analytics-etl"}}},
            "requestParameters": {"tableArn": arn, "s3Bucket": "exfil-bucket"},
            "resources": [{"type": "AWS::DynamoDB::Table", "ARN": arn}]}


class DataBreach(unittest.TestCase):
    fake = None

    @classmethod
    def setUpClass(cls):
        cls.fake = fbtest.Fake(world()).start()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def setup_world(self, records=None, **kw):
        self.fake.reset()
        w = world(**kw)
        if records:
            w["cloudtrail"]["records"] = records
        self.fake.seed(w)
        self.fake.reset_calls()

    def run_fn(self, ev, env=None):
        e = {"FIREBREAK_TOPIC_ARN": TOPIC}
        e.update(env or {})
        return fbtest.invoke(FN, ev, self.fake, env=e)

    def cli(self, *args):
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDFAKE", AWS_SECRET_ACCESS_KEY="fakesecret",
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
        p = subprocess.run(["/usr/bin/aws", "--endpoint-url", self.fake.url, "--output", "json"] + list(args),
                           capture_output=True, env=env, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        return json.loads(p.stdout)

    def writes(self):
        return sorted((c["service"], c["operation"]) for c in fbtest.writes(self.fake.calls()))

    def botocore(self, svc):
        import botocore.session
        s = botocore.session.get_session()
        return s.create_client(svc, region_name="us-east-1", endpoint_url=self.fake.url,
                               aws_access_key_id="AKIDFAKE", aws_secret_access_key="fakesecret")

    def test_alarm_preserves_measures_and_starts_the_clock(self):
        self.setup_world()
        res = self.run_fn(event("alarm-read-spike.json"))
        self.assertTrue(res.ok, res.raw)
        rep = res.report
        self.assertEqual(self.writes(), [("dynamodb", "CreateBackup"), ("dynamodb", "UpdateContinuousBackups"),
                                         ("dynamodb", "UpdateTable")])
        steps = {s["step"]: s for s in rep["actions"]}
        for s in ("enable-pitr", "create-backup", "enable-stream"):
            self.assertEqual(steps[s]["status"], "done", steps[s])
        self.assertIn("writes from now (not reads)", steps["enable-stream"]["detail"])
        # oracle: the AWS CLI
        cb = self.cli("dynamodb", "describe-continuous-backups", "--table-name", "orders")
        self.assertEqual(cb["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
                         ["PointInTimeRecoveryStatus"], "ENABLED")
        bk = self.cli("dynamodb", "list-backups", "--table-name", "orders")["BackupSummaries"]
        self.assertEqual(len(bk), 1)
        self.assertEqual(bk[0]["BackupName"], "firebreak-" + rep["incident_id"])
        self.assertEqual(rep["backup_arn"], bk[0]["BackupArn"])
        tb = self.cli("dynamodb", "describe-table", "--table-name", "orders")["Table"]
        self.assertEqual(tb["StreamSpecification"], {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        # the spike: 5000 against a median ~101
        self.assertTrue(rep["read_spike"]["spike"])
        self.assertGreater(rep["read_spike"]["factor"], 40)
        # the GDPR clock: 72 h from the alarm's state time (2019-10-02T17:04:40.989Z)
        self.assertEqual(rep["gdpr_deadline"], "2019-10-05T17:04:40.989Z")
        g = rep["gdpr"]
        self.assertIn("DRAFT", g["status"])
        self.assertEqual(g["awareTime"], "2019-10-02T17:04:40.989Z")
        self.assertEqual(g["article33"]["dataCategories"], "name, email, address")
        self.assertEqual(g["article33"]["approxDataSubjects"], "about 40000 customers")
        self.assertIn("48210 items", g["article33"]["approxRecords"])
        self.assertIn("bulk read", g["article33"]["nature"])
        self.assertEqual(sorted(m["step"] for m in g["article33"]["measuresTaken"]),
                         ["create-backup", "enable-pitr", "enable-stream"])
        self.assertIn("72", rep["verdict"] + json.dumps(g["deadlines"]))
        apis = sorted(r["api"] for r in rep["restore"])
        self.assertEqual(apis, ["dynamodb:DeleteBackup", "dynamodb:UpdateContinuousBackups", "dynamodb:UpdateTable"])
        # a second delivery: the backup is not made twice, nothing written
        self.fake.reset_calls()
        again = self.run_fn(event("alarm-read-spike.json"))
        self.assertTrue(again.ok, again.raw)
        self.assertEqual(self.writes(), [])
        st2 = {s["step"]: s["status"] for s in again.report["actions"]}
        self.assertEqual([st2[s] for s in ("enable-pitr", "create-backup", "enable-stream")], ["already"] * 3)
        # restore[] brings PITR and the stream back off
        ddb = self.botocore("dynamodb")
        for r in rep["restore"]:
            if r["api"] == "dynamodb:DeleteBackup":
                ddb.delete_backup(BackupArn=rep["backup_arn"])
            elif r["api"] == "dynamodb:UpdateContinuousBackups":
                ddb.update_continuous_backups(**r["args"])
            else:
                ddb.update_table(**r["args"])
        # read back with botocore (in process: the CLI's start-up is the slowest part of this file)
        tb = ddb.describe_table(TableName="orders")["Table"]
        self.assertFalse(tb["StreamSpecification"]["StreamEnabled"])
        cb = ddb.describe_continuous_backups(TableName="orders")
        self.assertEqual(cb["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
                         ["PointInTimeRecoveryStatus"], "DISABLED")

    def test_manual_dry_run_plans_and_writes_nothing(self):
        self.setup_world(pitr=True, stream={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}, spike=False,
                         tags=[])
        ev = dict(event("manual-table.json"), dryRun=True)
        res = self.run_fn(ev)
        self.assertTrue(res.ok, res.raw)
        self.assertEqual(self.writes(), [])
        st = {s["step"]: s["status"] for s in res.report["actions"]}
        self.assertEqual(st["enable-pitr"], "already")
        self.assertEqual(st["create-backup"], "planned")
        self.assertEqual(st["enable-stream"], "skipped")  # another view type: never disabled to change it
        g = res.report["gdpr"]
        self.assertEqual(g["article33"]["dataCategories"], "unknown")
        self.assertIn("no read spike", g["article33"]["nature"])
        self.assertEqual(res.report["suspected_principal"], "arn:aws:iam::123456789012:user/analytics-bot")

    def test_alarm_not_ours_and_bad_input_make_no_call(self):
        self.setup_world()
        ev = event("alarm-read-spike.json")
        ev["detail"]["alarmName"] = "someone-elses-alarm"
        res = self.run_fn(ev)
        self.assertTrue(res.ok, res.raw)
        self.assertIn("prefix", res.report["verdict"])
        for bad in ({"table": "a/b"}, {"table": "arn:aws:s3:::orders"}, {"table": "orders", "principal": "*"}):
            r = self.run_fn(bad)
            self.assertFalse(r.ok, r.raw)
        calls = [c for c in self.fake.calls() if c["service"] not in ("sns", "sts")]
        self.assertEqual(calls, [])

    def test_missing_table_fails_without_writes(self):
        self.setup_world()
        res = self.run_fn({"table": "no-such-table"})
        self.assertFalse(res.ok and res.report.get("verdict", "").startswith("preserved"), res.raw)
        self.assertIn("failed", res.report["verdict"])
        self.assertEqual(self.writes(), [])

    def test_restore_into_a_new_table_never_over(self):
        import time as _t
        self.setup_world(pitr=True)
        # the fake's PITR window starts at seeding: ask for a point just inside it
        st = self.fake.state()["dynamodb"]["tables"][0]
        to = _t.strftime("%Y-%m-%dT%H:%M:%SZ", _t.gmtime(int(st.get("pitr_since") or _t.time()) + 1))
        _t.sleep(1.2)
        req = {"restore": {"table": "orders", "to": to, "target": "orders-restored"}}
        res = self.run_fn(req)
        self.assertTrue(res.ok, res.raw)
        self.assertIn("restored", res.report["verdict"])
        self.assertEqual(self.writes(), [("dynamodb", "RestoreTableToPointInTime")])
        tb = self.cli("dynamodb", "describe-table", "--table-name", "orders-restored")["Table"]  # oracle: the CLI
        self.assertEqual(tb["ItemCount"], 48210)
        self.assertEqual(res.report["restore"], [{"api": "dynamodb:DeleteTable",
                                                  "args": {"TableName": "orders-restored"}}])
        self.assertTrue(any("time to live" in n for n in res.report["next_steps"]))
        # a replay: the target exists, nothing restored over it
        self.fake.reset_calls()
        again = self.run_fn(req)
        self.assertTrue(again.ok, again.raw)
        self.assertEqual(self.writes(), [])
        self.assertIn("exists", again.report["verdict"])
        # the target can never be the source
        bad = self.run_fn({"restore": {"table": "orders", "to": to, "target": "orders"}})
        self.assertFalse(bad.ok, bad.raw)

    def test_restore_without_pitr_fails_without_writes(self):
        self.setup_world(pitr=False)
        res = self.run_fn({"restore": {"table": "orders", "to": "2026-12-06T01:00:00Z", "target": "orders-r"}})
        self.assertIn("failed", res.report["verdict"])
        self.assertEqual(self.writes(), [])

    def test_guardduty_finding_table_and_principal_from_cloudtrail(self):
        # the finding names no table (affectedResources {}): CloudTrail shows the key exporting "orders"
        self.setup_world(records=[key_record()])
        res = self.run_fn(gd_event())
        self.assertTrue(res.ok, res.raw)
        rep = res.report
        self.assertEqual(rep["table"], "orders")
        self.assertEqual(rep["suspected_principal"], ROLE)  # the issuer's ARN, path included
        self.assertEqual(rep["finding"]["type"], "Exfiltration:IAMUser/AnomalousBehavior")
        self.assertEqual(rep["key_tables"], ["orders"])
        self.assertIn(("dynamodb", "CreateBackup"), self.writes())
        self.assertIn("guardduty: Exfiltration:IAMUser/AnomalousBehavior", rep["gdpr"]["detectionSource"])
        # awareness = the finding's createdAt
        self.assertEqual(rep["gdpr"]["awareTime"], "2026-12-07T02:54:50.712Z")

    def test_guardduty_claims_alone_contain_nobody(self):
        # the finding names "orders" but CloudTrail shows the key only on another table
        self.setup_world(records=[key_record(table="invoices")])
        res = self.run_fn(gd_event(table="orders"))
        self.assertTrue(res.ok, res.raw)
        self.assertNotIn("suspected_principal", res.report)
        self.assertTrue(any("does not show" in w for w in res.report.get("warnings", [])), res.report)
        self.assertEqual(res.report["key_tables"], ["invoices"])
        # no table named and none in CloudTrail: nothing written, an error
        self.setup_world(records=[key_record(key="ASIAOTHERKEY00000000")])
        res = self.run_fn(gd_event())
        self.assertFalse(res.ok, res.raw)
        ka = [a for a in res.report["actions"] if a["step"] == "key-activity"][0]
        self.assertEqual(ka["status"], "failed")
        self.assertIn("no DynamoDB call", json.dumps(ka))
        self.assertEqual(self.writes(), [])
        # below the minimum severity: no call at all
        self.setup_world(records=[key_record()])
        res = self.run_fn(gd_event(severity=3))
        self.assertTrue(res.ok, res.raw)
        self.assertIn("below", res.report["verdict"])
        self.assertEqual([c for c in self.fake.calls() if c["service"] not in ("sns", "sts")], [])

    def s3(self):
        import botocore.config
        import botocore.session
        return botocore.session.get_session().create_client(
            "s3", region_name="us-east-1", endpoint_url=self.fake.url, aws_access_key_id="AKIDFAKE",
            aws_secret_access_key="fakesecret", config=botocore.config.Config(s3={"addressing_style": "path"}))

    def test_gdpr_record_kept_once_in_the_evidence_bucket(self):
        self.setup_world()
        env = dict(EVIDENCE_ENV, FIREBREAK_DB_DEADLINES="NIS2 Art. 23 early warning=24, NIS2 notification=72",
                   FIREBREAK_DB_DPO_CONTACT="dpo@example.com")
        ev = event("alarm-read-spike.json")
        res = self.run_fn(ev, env)
        self.assertTrue(res.ok, res.raw)
        rep = res.report
        evd = rep["evidence"]
        self.assertEqual(evd["state"], "kept", evd)
        s3 = self.s3()
        prefix = evd["prefix"]
        obj = s3.get_object(Bucket=BUCKET, Key=prefix + "gdpr-record.json")
        self.assertEqual(obj.get("ServerSideEncryption"), "aws:kms")
        rec = json.loads(obj["Body"].read())
        self.assertEqual(rec, rep["gdpr"])
        # the deadlines: GDPR 72 h and the setting's, from awareness (the alarm's state time)
        self.assertEqual([(d["hours"], d["due"]) for d in rec["deadlines"]],
                         [(72, "2019-10-05T17:04:40.989Z"), (24, "2019-10-03T17:04:40.989Z"),
                          (72, "2019-10-05T17:04:40.989Z")])
        self.assertEqual(rep["deadlines"], rec["deadlines"])
        # the SNS report carries the soonest deadline
        self.assertIn("2019-10-05T17:04:40.989Z", rep["verdict"])
        self.assertIn("NIS2 Art. 23 early warning 2019-10-03T17:04:40.989Z", rep["verdict"])
        a33 = rec["article33"]
        for k in ("nature", "dataCategories", "approxDataSubjects", "approxRecords", "dpoContact",
                  "likelyConsequences", "measuresTaken", "measuresProposed"):
            self.assertIn(k, a33)
        self.assertEqual(a33["dpoContact"], "dpo@example.com")
        self.assertEqual(a33["likelyConsequences"], "unknown")
        self.assertEqual({m["step"] for m in a33["measuresTaken"]}, {"enable-pitr", "create-backup", "enable-stream"})
        txt = s3.get_object(Bucket=BUCKET, Key=prefix + "gdpr-record.txt")["Body"].read().decode()
        self.assertIn("(c) Likely consequences: unknown", txt)
        self.assertIn("(b) DPO / contact point: dpo@example.com", txt)
        self.assertIn("- create-backup: done", txt)
        self.assertIn("NIS2 Art. 23 early warning (24 h): due 2019-10-03T17:04:40.989Z", txt)
        man = json.loads(s3.get_object(Bucket=BUCKET, Key=prefix + "manifest.json")["Body"].read())
        import hashlib
        sums = {o["key"].rsplit("/", 1)[-1]: o["sha256"] for o in man["objects"]}
        self.assertEqual(sums["gdpr-record.txt"], hashlib.sha256(txt.encode()).hexdigest())
        self.assertTrue({"restore.json", "gdpr-record.json", "gdpr-record.txt"} <= set(sums), sums)
        # a second delivery: everything already there, nothing written, the record not made again
        self.fake.reset_calls()
        again = self.run_fn(ev, env)
        self.assertTrue(again.ok, again.raw)
        self.assertEqual(self.writes(), [])
        self.assertEqual(again.report["evidence"]["state"], "already", again.report["evidence"])
        # a bad setting is a clear error, no call
        self.fake.reset_calls()
        bad = self.run_fn(ev, dict(env, FIREBREAK_DB_DEADLINES="NIS2=0"))
        self.assertFalse(bad.ok, bad.raw)
        self.assertEqual([c for c in self.fake.calls() if c["service"] not in ("sns", "sts")], [])

    OTHER = {"Sid": "AppReads", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:role/app" % ACCT},
             "Action": "dynamodb:GetItem", "Resource": ARN}

    def table_policy(self):
        t = [t for t in self.fake.state()["dynamodb"]["tables"] if t["TableName"] == "orders"][0]
        return json.loads(t["policy"]) if t.get("policy") else None

    def test_principal_denied_in_the_table_policy_and_sessions_revoked(self):
        prior = {"Version": "2012-10-17", "Statement": [self.OTHER]}
        self.setup_world(policy=prior)
        res = self.run_fn({"table": "orders", "reason": "exfiltration", "principal": ROLE})
        self.assertTrue(res.ok, res.raw)
        st = {a["step"]: a for a in res.report["actions"]}
        self.assertEqual(st["deny-principal"]["status"], "done", st["deny-principal"])
        self.assertEqual(st["revoke-sessions"]["status"], "done", st["revoke-sessions"])
        pol = self.table_policy()
        self.assertEqual(pol["Statement"][0], self.OTHER)  # merged, never dropped
        deny = pol["Statement"][1]
        self.assertEqual((deny["Effect"], deny["Principal"], deny["Action"]), ("Deny", {"AWS": "*"}, "dynamodb:*"))
        self.assertEqual(deny["Resource"], [ARN, ARN + "/index/*"])
        self.assertEqual(deny["Condition"]["ArnLike"]["aws:PrincipalArn"],
                         ["arn:aws:iam::%s:role/analytics-etl" % ACCT, "arn:aws:iam::%s:role/*/analytics-etl" % ACCT])
        # the undo: the prior policy back, recorded before the write
        undo = [u for u in res.report["restore"] if u["api"] == "dynamodb:PutResourcePolicy"]
        self.assertEqual(json.loads(undo[0]["args"]["Policy"]), prior)
        put = [c for c in self.fake.calls() if c["operation"] == "PutResourcePolicy"]
        self.assertEqual(len(put), 1)
        self.assertTrue(put[0]["params"]["ExpectedRevisionId"])
        self.assertNotEqual(put[0]["params"]["ExpectedRevisionId"], "NO_POLICY")
        # oracle: the AWS CLI reads the revocation policy
        rp = self.cli("iam", "get-role-policy", "--role-name", "analytics-etl", "--policy-name", "AWSRevokeOlderSessions")
        self.assertEqual(rp["PolicyDocument"]["Statement"][0]["Effect"], "Deny")
        self.assertIn("GDPR", res.report["verdict"])
        self.assertIn("deny-principal", {m["step"] for m in res.report["gdpr"]["article33"]["measuresTaken"]})
        # a manual replay: the policy already denies it; the revocation is cut again at the new
        # request's time (an operator re-running it means "again")
        self.fake.reset_calls()
        again = self.run_fn({"table": "orders", "reason": "exfiltration", "principal": ROLE})
        self.assertTrue(again.ok, again.raw)
        self.assertEqual({a["step"]: a["status"] for a in again.report["actions"]}["deny-principal"], "already")
        self.assertEqual(self.writes(), [("iam", "PutRolePolicy")])

    def test_policy_changed_between_read_and_write_is_reread_and_merged(self):
        self.setup_world(policy={"Version": "2012-10-17", "Statement": [self.OTHER]}, policy_race=1)
        res = self.run_fn({"table": "orders", "reason": "x", "principal": ROLE})
        self.assertTrue(res.ok, res.raw)
        st = {a["step"]: a for a in res.report["actions"]}
        self.assertEqual(st["deny-principal"]["status"], "failed")
        self.assertEqual(st["deny-principal-retry-1"]["status"], "done", st)
        sids = [x.get("Sid") for x in self.table_policy()["Statement"]]
        self.assertEqual(sids, ["AppReads", "OtherWriter1", "FirebreakDataBreachDeny"])  # the other writer's kept
        # a table with no policy: NO_POLICY, undo deletes it
        self.setup_world()
        res = self.run_fn({"table": "orders", "reason": "y", "principal": "arn:aws:iam::%s:user/mallory" % ACCT})
        self.assertTrue(res.ok, res.raw)
        put = [c for c in self.fake.calls() if c["operation"] == "PutResourcePolicy"]
        self.assertEqual(put[0]["params"]["ExpectedRevisionId"], "NO_POLICY")
        self.assertIn({"api": "dynamodb:DeleteResourcePolicy", "args": {"ResourceArn": ARN}}, res.report["restore"])
        self.assertNotIn("revoke-sessions", {a["step"] for a in res.report["actions"]})  # a user: iam-contain's

    def test_trusted_and_own_principals_never_denied(self):
        self.setup_world()
        res = self.run_fn({"table": "orders", "reason": "x", "principal": ROLE},
                          {"FIREBREAK_TRUSTED_PRINCIPALS": "arn:aws:iam::%s:role/etl/*" % ACCT})
        self.assertTrue(res.ok, res.raw)
        st = {a["step"]: a for a in res.report["actions"]}
        self.assertEqual(st["deny-principal"]["status"], "skipped")
        self.assertIn("trusted", json.dumps(st["deny-principal"]))
        res = self.run_fn({"table": "orders", "reason": "x", "principal": "arn:aws:iam::%s:role/firebreak-member" % ACCT},
                          {"FIREBREAK_MEMBER_ROLE": "firebreak-member"})
        self.assertTrue(res.ok, res.raw)
        self.assertIn("never denied", json.dumps({a["step"]: a for a in res.report["actions"]}["deny-principal"]))
        ops = {c["operation"] for c in self.fake.calls()}
        self.assertNotIn("PutResourcePolicy", ops)
        self.assertNotIn("PutRolePolicy", ops)

    def test_guardduty_principal_contained(self):
        self.setup_world(records=[key_record()])
        res = self.run_fn(gd_event())
        self.assertTrue(res.ok, res.raw)
        deny = self.table_policy()["Statement"][0]
        self.assertEqual(deny["Condition"]["ArnLike"]["aws:PrincipalArn"][0], "arn:aws:iam::%s:role/analytics-etl" % ACCT)
        # GuardDuty re-publishes the finding: one incident, nothing written twice
        self.fake.reset_calls()
        again = self.run_fn(gd_event())
        self.assertTrue(again.ok, again.raw)
        self.assertEqual(self.writes(), [])
        st = {a["step"]: a["status"] for a in again.report["actions"]}
        self.assertEqual((st["deny-principal"], st["revoke-sessions"], st["create-backup"]), ("already",) * 3)

    def test_exports_and_scans_in_the_window_are_named(self):
        # one export two days ago (outside the 24 h window), one now through the real AWS CLI,
        # and CloudTrail's record of who made it and to which bucket
        self.setup_world(pitr=True, exports=[{"TableName": "orders", "ago_s": 2 * 86400}],
                         records=[key_record(), dict(key_record(event_name="Scan"), errorCode="AccessDenied")])
        out = self.botocore("dynamodb").export_table_to_point_in_time(TableArn=ARN, S3Bucket="exfil-bucket")
        res = self.run_fn({"table": "orders", "reason": "x"})
        self.assertTrue(res.ok, res.raw)
        bulk = res.report["bulk_reads"]
        listed = [b for b in bulk if b["source"] == "dynamodb:ListExports"]
        self.assertEqual([b["arn"] for b in listed], [out["ExportDescription"]["ExportArn"]])
        ct = [b for b in bulk if b["source"] == "cloudtrail"]
        self.assertEqual([(b["kind"], b["s3Bucket"], b["by"]) for b in ct],
                         [("export", "exfil-bucket", "arn:aws:sts::%s:assumed-role/analytics-etl/815945" % ACCT)])
        line = [a for a in res.report["actions"] if a["step"] == "list-exports"][0]
        self.assertIn("2 export(s) or scan(s)", line["detail"])

    def test_exempt_table_under_the_provenance_rule(self):
        tags = [{"Key": "firebreak:exempt", "Value": "true"}]
        # an old exemption (no record of it in CloudTrail's window): honoured, reported only
        self.setup_world(tags=tags)
        res = self.run_fn({"table": "orders", "reason": "x", "principal": ROLE})
        self.assertTrue(res.ok, res.raw)
        self.assertEqual(self.writes(), [])
        st = {a["step"]: a for a in res.report["actions"]}
        for s in ("enable-pitr", "create-backup", "enable-stream", "deny-principal"):
            self.assertEqual(st[s]["status"], "skipped", st[s])
        self.assertIn("exempt table", res.report["verdict"])
        self.assertIn("gdpr_deadline", res.report)  # the clock runs all the same
        # set two hours ago by the suspected principal itself: ignored, preserved and denied
        import time as _t
        rec = key_record(event_name="TagResource", ago=7200)
        rec["requestParameters"] = {"resourceArn": ARN, "tags": [{"key": "firebreak:exempt", "value": "true"}]}
        self.setup_world(tags=tags, records=[rec])
        res = self.run_fn({"table": "orders", "reason": "y", "principal": ROLE})
        self.assertTrue(res.ok, res.raw)
        self.assertIn(("dynamodb", "CreateBackup"), self.writes())
        self.assertIn(("dynamodb", "PutResourcePolicy"), self.writes())
        self.assertEqual(res.report["exemption_tags"][0]["verdict"], "ignored", res.report["exemption_tags"])


if __name__ == "__main__":
    fbtest.main([DataBreach])
