#!/usr/bin/python3
# runs-in: 81-sanitizers (make test runs this suite once, against the ASan+UBSan build)
"""instance-quarantine against tests/fakeaws, through the Lambda emulator.

One fake for the class, re-seeded between cases. State is read back with
botocore clients (Debian's, whose models the fake does not share code
with) and, for the two checks that matter most, the real AWS CLI
(/usr/bin/aws --endpoint-url): the instance cannot be terminated, and the
incident's snapshots exist (both CLI calls run concurrently: the CLI takes
seconds to start). Prints "N passed, N failed".
"""
import copy
import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import fbtest  # noqa: E402

FN = "instance-quarantine"
EVENTS = os.path.join(ROOT, "events", FN)
TOPIC = "arn:aws:sns:us-east-1:111111111111:firebreak"
INST = "i-0123456789abcdef0"
ENI0 = "eni-0aaaaaaaaaaaaaaa0"
ENI1 = "eni-0aaaaaaaaaaaaaaa1"
SG_WEB = "sg-0aaaaaaaaaaaaaaaa"
SG_SSH = "sg-0bbbbbbbbbbbbbbbb"
VPC = "vpc-0fake"
ROLE = "arn:aws:iam::111111111111:role/web-role"
PROFILE = "arn:aws:iam::111111111111:instance-profile/web-profile"
MEMBER = "999999999999"
BUCKET = "evidence-bucket"
KMS_KEY = "1234abcd-12ab-34cd-56ef-1234567890ab"

SEED = {
    "roles": [{"arn": ROLE, "instance_profiles": ["web-profile"]}],
    "ec2": {
        "security_groups": [
            {"GroupId": SG_WEB, "GroupName": "web", "VpcId": VPC,
             "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]},
            {"GroupId": SG_SSH, "GroupName": "ssh", "VpcId": VPC,
             "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]}],
        "network_interfaces": [
            {"NetworkInterfaceId": ENI0, "VpcId": VPC, "Groups": [SG_WEB, SG_SSH],
             "Attachment": {"InstanceId": INST, "DeviceIndex": 0}},
            {"NetworkInterfaceId": ENI1, "VpcId": VPC, "Groups": [SG_WEB], "PrivateIpAddress": "10.0.0.11",
             "Attachment": {"InstanceId": INST, "DeviceIndex": 1}},
            # another instance carrying the same groups: must keep them and their rules
            {"NetworkInterfaceId": "eni-0cccccccccccccccc", "VpcId": VPC, "Groups": [SG_WEB],
             "Attachment": {"InstanceId": "i-0fffffffffffffff0", "DeviceIndex": 0}}],
        "instances": [
            {"InstanceId": INST, "VpcId": VPC, "LaunchTime": "2026-01-01T00:00:00Z",
             "IamInstanceProfile": {"Arn": PROFILE, "Id": "AIPAXXXXXXXXXXXXXXXXX"},
             "Tags": [{"Key": "Name", "Value": "web-1"}], "ConsoleOutput": "xmrig: mining pool connected\n",
             "BlockDeviceMappings": [
                 {"DeviceName": "/dev/xvda", "Ebs": {"VolumeId": "vol-0aaaaaaaaaaaaaaa0", "DeleteOnTermination": True,
                                                      "Status": "attached"}},
                 {"DeviceName": "/dev/xvdb", "Ebs": {"VolumeId": "vol-0aaaaaaaaaaaaaaa1", "DeleteOnTermination": False,
                                                      "Status": "attached"}}]},
            {"InstanceId": "i-0fffffffffffffff0", "VpcId": VPC,
             "IamInstanceProfile": {"Arn": PROFILE, "Id": "AIPAXXXXXXXXXXXXXXXXX"}}]},
    "autoscaling": {"groups": [{"AutoScalingGroupName": "web-asg", "MinSize": 2, "MaxSize": 4, "DesiredCapacity": 2,
                                "Instances": [{"InstanceId": INST}, {"InstanceId": "i-0fffffffffffffff0"}]}]},
    "sns": {"topics": [TOPIC]},
    "s3": {"buckets": [{"name": BUCKET}]},
    "kms": {"keys": [{"KeyId": KMS_KEY, "KeyState": "Enabled", "Aliases": ["alias/firebreak-evidence"]}]},
}


def event(name):
    with open(os.path.join(EVENTS, name + ".json")) as f:
        return json.load(f)


def aws_start(fake, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDFAKE", AWS_SECRET_ACCESS_KEY="fakesecret",
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    return subprocess.Popen(["/usr/bin/aws", "--endpoint-url", fake.url, "--output", "json"] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def aws_end(p):
    out, err = p.communicate(timeout=60)
    return p.returncode, (json.loads(out) if out.strip() else None), err.decode()


def client(fake, service):
    sys.path.insert(1, "/usr/lib/python3/dist-packages")
    import botocore.config
    import botocore.session
    return botocore.session.get_session().create_client(
        service, region_name="us-east-1", endpoint_url=fake.url, aws_access_key_id="AKIDFAKE",
        aws_secret_access_key="fakesecret", config=botocore.config.Config(retries={"max_attempts": 1}))


def step(report, name, target=None):
    return [a for a in report["actions"] if a["step"] == name and (target is None or a.get("target") == target)]


class InstanceQuarantine(unittest.TestCase):
    fake = None

    @classmethod
    def setUpClass(cls):
        cls.fake = fbtest.Fake(SEED).start()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def setUp(self):
        self.__dict__.pop("_ec2", None)
        self.fake.reset()
        self.fake.seed(copy.deepcopy(SEED))
        self.fake.reset_calls()

    def run_fn(self, ev, **env):
        e = {"FIREBREAK_TOPIC_ARN": TOPIC, "FIREBREAK_EVIDENCE_BUCKET": BUCKET,
             "FIREBREAK_EVIDENCE_KMS_KEY": "alias/firebreak-evidence"}
        e.update(env)
        return fbtest.invoke(FN, ev, self.fake, env=e)

    def ec2(self):
        if not hasattr(self, "_ec2"):
            self._ec2 = client(self.fake, "ec2")
        return self._ec2

    def groups_of(self, eni):
        out = self.ec2().describe_network_interfaces(NetworkInterfaceIds=[eni])
        return [g["GroupId"] for g in out["NetworkInterfaces"][0]["Groups"]]

    def group(self, gid):
        return self.ec2().describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]

    def test_finding_isolates_protects_snapshots_and_keeps_running(self):
        r = self.run_fn(event("guardduty-ec2-crypto"))
        self.assertTrue(r.ok, r)
        rep = r.report
        self.assertEqual(rep["verdict"], "contained", rep)
        # isolation: both interfaces carry only the quarantine group, which has no rules
        q = rep["isolation"]["quarantine_groups"][0]["id"]
        self.assertTrue(q.startswith("sg-"))
        self.assertEqual(self.groups_of(ENI0), [q])
        self.assertEqual(self.groups_of(ENI1), [q])
        cli_term = aws_start(self.fake, "ec2", "terminate-instances", "--instance-ids", INST)
        cli_snap = aws_start(self.fake, "ec2", "describe-snapshots", "--filters",
                             "Name=tag:firebreak:incident,Values=" + rep["incident_id"])
        g = self.group(q)
        self.assertEqual((g["GroupName"], g["IpPermissions"], g["IpPermissionsEgress"]),
                         ("firebreak-quarantine", [], []))
        # the untrack group allows everything both ways, v4 and v6, and was used first, per interface
        u = rep["isolation"]["untrack_groups"][0]["id"]
        ug = self.group(u)
        for d in ("IpPermissions", "IpPermissionsEgress"):
            self.assertTrue(any(p["IpProtocol"] == "-1" and {"CidrIp": "0.0.0.0/0"} in p["IpRanges"]
                                and {"CidrIpv6": "::/0"} in p["Ipv6Ranges"] for p in ug[d]), ug)
        mods = [c for c in self.fake.calls() if c["operation"] == "ModifyNetworkInterfaceAttribute"]
        for eni in (ENI0, ENI1):
            seq = [c["params"]["Groups"] for c in mods if c["params"]["NetworkInterfaceId"] == eni]
            self.assertEqual(seq, [[u], [q]])
        # the other instance's groups and rules are untouched
        self.assertEqual(self.groups_of("eni-0cccccccccccccccc"), [SG_WEB])
        self.assertEqual(self.group(SG_WEB)["IpPermissions"][0]["FromPort"], 443)
        # protection: termination protection on, the CLI cannot terminate it, volumes kept
        out = self.ec2().describe_instance_attribute(InstanceId=INST, Attribute="disableApiTermination")
        self.assertEqual(out["DisableApiTermination"]["Value"], True)
        rc, out, err = aws_end(cli_term)
        self.assertNotEqual(rc, 0)
        self.assertIn("OperationNotPermitted", err)
        inst = self.ec2().describe_instances(InstanceIds=[INST])["Reservations"][0]["Instances"][0]
        self.assertEqual(inst["State"]["Name"], "running")
        self.assertEqual([b["Ebs"]["DeleteOnTermination"] for b in inst["BlockDeviceMappings"]], [False, False])
        # detached from the Auto Scaling group, desired capacity kept
        out = client(self.fake, "autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["web-asg"])
        asg = out["AutoScalingGroups"][0]
        self.assertEqual([i["InstanceId"] for i in asg["Instances"]], ["i-0fffffffffffffff0"])
        self.assertEqual(asg["DesiredCapacity"], 2)
        # snapshots of both volumes, tagged with the incident and the finding
        rc, out, err = aws_end(cli_snap)
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(s["VolumeId"] for s in out["Snapshots"]),
                         ["vol-0aaaaaaaaaaaaaaa0", "vol-0aaaaaaaaaaaaaaa1"])
        for s in out["Snapshots"]:
            self.assertTrue(s["Description"].startswith("Forensic snapshot - " + rep["incident_id"]))
            tags = {t["Key"]: t["Value"] for t in s["Tags"]}
            self.assertEqual(tags["firebreak:finding-type"], "CryptoCurrency:EC2/BitcoinTool.B!DNS")
        self.assertEqual(sorted(x["snapshot"] for x in rep["snapshots"]["items"]),
                         sorted(s["SnapshotId"] for s in out["Snapshots"]))
        self.assertIsInstance(rep["phase_timings"]["isolated_ms"], (int, float))
        self.assertIsInstance(rep["phase_timings"]["snapshots_requested_ms"], (int, float))
        self.assertIsNotNone(rep["timings"]["received_to_contained_ms"])
        # not a credential finding: no role revocation; never stopped by default
        ops = fbtest.ops(self.fake.calls())
        self.assertNotIn("iam:PutRolePolicy", ops)
        self.assertNotIn("ec2:StopInstances", ops)
        self.assertNotIn("ec2:TerminateInstances", [o for o in ops if o != "ec2:TerminateInstances"])
        # restore[] holds each interface's own groups, recorded before the swap
        undo = {e["args"]["NetworkInterfaceId"]: e["args"]["Groups"] for e in rep["restore"]
                if e["api"] == "ec2:ModifyNetworkInterfaceAttribute"}
        self.assertEqual(undo, {ENI0: [SG_WEB, SG_SSH], ENI1: [SG_WEB]})

    def test_evidence_kept_write_once_with_manifest(self):
        import hashlib
        r = self.run_fn(event("guardduty-ec2-crypto"))
        self.assertTrue(r.ok, r)
        ev = r.report["evidence"]
        self.assertEqual(ev["state"], "kept", ev)
        s3 = client(self.fake, "s3")
        prefix = "incidents/%s/" % r.report["incident_id"]
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"])
        want = ["restore.json", "finding.json", "instance-before.json", "instance-after.json",
                "security-groups-before.json", "console-output.json", "snapshots.json", "manifest.json"]
        self.assertEqual(keys, sorted(prefix + k for k in want))
        man = json.loads(s3.get_object(Bucket=BUCKET, Key=prefix + "manifest.json")["Body"].read())
        for o in man["objects"]:
            body = s3.get_object(Bucket=BUCKET, Key=o["key"])["Body"].read()
            self.assertEqual(hashlib.sha256(body).hexdigest(), o["sha256"], o["key"])
        after = json.loads(s3.get_object(Bucket=BUCKET, Key=prefix + "instance-after.json")["Body"].read())
        q = r.report["isolation"]["quarantine_groups"][0]["id"]
        self.assertIn(q, json.dumps(after))
        finding = json.loads(s3.get_object(Bucket=BUCKET, Key=prefix + "finding.json")["Body"].read())
        self.assertEqual(finding["type"], "CryptoCurrency:EC2/BitcoinTool.B!DNS")
        snaps = json.loads(s3.get_object(Bucket=BUCKET, Key=prefix + "snapshots.json")["Body"].read())
        self.assertEqual(len(snaps["items"]), 2)
        restore = json.loads(s3.get_object(Bucket=BUCKET, Key=prefix + "restore.json")["Body"].read())
        self.assertEqual(restore, r.report["restore"])
        # a second delivery: nothing new written, the set is already kept
        self.fake.reset_calls()
        r2 = self.run_fn(event("guardduty-ec2-crypto"))
        self.assertTrue(r2.ok, r2)
        self.assertEqual(r2.report["evidence"]["state"], "already")
        self.assertEqual(fbtest.writes(self.fake.calls()), [])

    def test_restore_entries_apply_with_botocore(self):
        r = self.run_fn(event("manual"))
        self.assertTrue(r.ok, r)
        asc = client(self.fake, "autoscaling")
        for e in r.report["restore"]:
            svc, op = e["api"].split(":")
            if e["api"] in ("ec2:ModifyNetworkInterfaceAttribute", "ec2:ModifyInstanceAttribute",
                            "autoscaling:AttachInstances"):
                c = asc if svc == "autoscaling" else self.ec2()
                getattr(c, "".join("_" + ch.lower() if ch.isupper() else ch for ch in op).lstrip("_"))(**e["args"])
        self.assertEqual(self.groups_of(ENI0), [SG_WEB, SG_SSH])
        self.assertEqual(self.groups_of(ENI1), [SG_WEB])
        out = self.ec2().describe_instance_attribute(InstanceId=INST, Attribute="disableApiTermination")
        self.assertEqual(out["DisableApiTermination"]["Value"], False)
        inst = self.ec2().describe_instances(InstanceIds=[INST])["Reservations"][0]["Instances"][0]
        self.assertEqual([b["Ebs"]["DeleteOnTermination"] for b in inst["BlockDeviceMappings"]], [True, False])
        asg = asc.describe_auto_scaling_groups(AutoScalingGroupNames=["web-asg"])["AutoScalingGroups"][0]
        self.assertIn(INST, [i["InstanceId"] for i in asg["Instances"]])

    def test_second_delivery_is_already_and_writes_nothing(self):
        r1 = self.run_fn(event("guardduty-ec2-crypto"))
        self.assertTrue(r1.ok, r1)
        self.fake.reset_calls()
        r2 = self.run_fn(event("guardduty-ec2-crypto"))
        self.assertTrue(r2.ok, r2)
        self.assertEqual(fbtest.writes(self.fake.calls()), [])
        self.assertEqual(r2.report["verdict"], "already-contained")
        self.assertEqual(r2.report["isolation"]["result"], "already")
        self.assertEqual(step(r2.report, "create-snapshots")[0]["status"], "already")
        self.assertEqual(r1.report["incident_id"], r2.report["incident_id"])

    def test_quarantine_group_reused_across_instances(self):
        r1 = self.run_fn(event("manual"))
        self.assertTrue(r1.ok, r1)
        q = r1.report["isolation"]["quarantine_groups"][0]["id"]
        self.fake.reset_calls()
        r2 = self.run_fn({"instanceId": "i-0fffffffffffffff0", "reason": "second"})
        self.assertTrue(r2.ok, r2)
        self.assertNotIn("ec2:CreateSecurityGroup", fbtest.ops(self.fake.calls()))
        self.assertEqual(self.groups_of("eni-0cccccccccccccccc"), [q])

    def test_dry_run_plans_every_write_and_sends_none(self):
        r = self.run_fn(event("manual-dry-run"))
        self.assertTrue(r.ok, r)
        self.assertEqual(fbtest.writes(self.fake.calls()), [])
        writes = [a for a in r.report["actions"] if a["api"].split(":")[1].startswith(
            ("Modify", "Create", "Detach", "Authorize", "Revoke"))]
        self.assertTrue(writes)
        self.assertTrue(all(a["status"] == "planned" for a in writes), writes)
        names = {a["step"] for a in writes}
        for s in ("protect-termination", "keep-volumes", "detach-auto-scaling", "create-snapshots",
                  "create-quarantine-group", "create-untrack-group", "untrack-connections", "isolate"):
            self.assertIn(s, names)
        self.assertEqual(self.groups_of(ENI0), [SG_WEB, SG_SSH])

    def test_quarantine_group_with_rules_is_never_changed(self):
        seed = copy.deepcopy(SEED)
        seed["ec2"]["security_groups"].append(
            {"GroupId": "sg-0ddddddddddddddd0", "GroupName": "firebreak-quarantine", "VpcId": VPC,
             "IpPermissions": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]})
        self.fake.reset()
        self.fake.seed(seed)
        r = self.run_fn(event("manual"))
        self.assertTrue(r.ok, r)
        writes = fbtest.writes(self.fake.calls())
        self.assertFalse([c for c in writes if c["params"].get("GroupId") == "sg-0ddddddddddddddd0"])
        q = r.report["isolation"]["quarantine_groups"][0]
        self.assertNotEqual(q["id"], "sg-0ddddddddddddddd0")
        self.assertTrue(q["name"].startswith("firebreak-quarantine-fb-"))
        self.assertEqual(self.groups_of(ENI0), [q["id"]])

    def test_snapshot_lock_where_the_setting_asks_for_it(self):
        # off by default: no LockSnapshot
        r = self.run_fn(event("guardduty-ec2-crypto"))
        self.assertTrue(r.ok, r)
        self.assertNotIn("ec2:LockSnapshot", fbtest.ops(self.fake.calls()))
        self.assertNotIn("lock", r.report["snapshots"])
        # 30 days, governance: every snapshot this incident created is locked, undo recorded
        self.setUp()
        r = self.run_fn(event("guardduty-ec2-crypto"), FIREBREAK_SNAPSHOT_LOCK_DAYS="30")
        self.assertTrue(r.ok, r)
        self.assertEqual(r.report["verdict"], "contained")
        sids = sorted(x["snapshot"] for x in r.report["snapshots"]["items"])
        self.assertEqual(len(sids), 2)
        locks = {s["SnapshotId"]: s.get("Lock") for s in self.fake.state()["ec2"]["snapshots"]}
        for sid in sids:
            self.assertEqual((locks[sid] or {}).get("LockState"), "governance", locks)
            self.assertEqual(locks[sid]["LockDuration"], 30)
        lk = r.report["snapshots"]["lock"]
        self.assertEqual((lk["mode"], lk["days"], sorted(lk["locked"]), lk["not_locked"]),
                         ("governance", 30, sids, []))
        self.assertEqual(sorted(e["args"]["SnapshotId"] for e in r.report["restore"]
                                if e["api"] == "ec2:UnlockSnapshot"), sids)
        # a lock that fails does not undo containment, and the report says the evidence is not locked
        self.setUp()
        self.fake.faults({"service": "ec2", "operation": "LockSnapshot", "kind": "access_denied", "count": 10})
        r = self.run_fn(event("guardduty-ec2-crypto"), FIREBREAK_SNAPSHOT_LOCK_DAYS="30")
        self.fake.faults({"clear": True})
        self.assertTrue(r.ok, r)
        self.assertEqual(r.report["verdict"], "contained")
        self.assertEqual(len(r.report["snapshots"]["lock"]["not_locked"]), 2)
        self.assertTrue(any("evidence not locked" in w for w in r.report.get("warnings", [])), r.report)
        # dry run plans the lock too, sends nothing
        self.setUp()
        r = self.run_fn(event("guardduty-ec2-crypto"), FIREBREAK_SNAPSHOT_LOCK_DAYS="30", FIREBREAK_DRY_RUN="true")
        self.assertTrue(r.ok, r)
        self.assertEqual([x["status"] for x in r.report["actions"] if x["step"] == "lock-snapshot"], ["planned"])
        self.assertEqual(fbtest.writes(self.fake.calls()), [])
        # a bad setting is an init error, not a silent "no lock"
        self.setUp()
        r = self.run_fn(event("guardduty-ec2-crypto"), FIREBREAK_SNAPSHOT_LOCK_DAYS="30d")
        self.assertFalse(r.ok, r)
        self.assertEqual(fbtest.writes(self.fake.calls()), [])

    def test_exempt_tag_set_by_anyone_recently_is_ignored(self):
        seed = copy.deepcopy(SEED)
        seed["ec2"]["instances"][0]["Tags"].append({"Key": "firebreak:exempt", "Value": "true"})
        seed["cloudtrail"] = {"events": [{
            "EventName": "CreateTags", "EventTime": "2026-12-07T01:59:00Z", "EventSource": "ec2.amazonaws.com",
            "Username": "attacker", "Resources": [{"ResourceType": "AWS::EC2::Instance", "ResourceName": INST}],
            "CloudTrailEvent": {"eventName": "CreateTags", "eventTime": "2026-12-07T01:59:00Z",
                                "userIdentity": {"arn": "arn:aws:sts::111111111111:assumed-role/web-role/i-0123"},
                                "requestParameters": {"resourcesSet": {"items": [{"resourceId": INST}]},
                                                      "tagSet": {"items": [{"key": "firebreak:exempt",
                                                                            "value": "true"}]}}}}]}
        self.fake.reset()
        self.fake.seed(seed)
        r = self.run_fn(event("guardduty-ec2-crypto"))
        self.assertTrue(r.ok, r)
        self.assertEqual(r.report["exemption"]["verdict"], "ignored", r.report["exemption"])
        self.assertEqual(r.report["verdict"], "contained")

    def test_exempt_tag_with_clean_history_is_honoured_and_reported(self):
        seed = copy.deepcopy(SEED)
        seed["ec2"]["instances"][0]["Tags"].append({"Key": "firebreak:exempt", "Value": "true"})
        self.fake.reset()
        self.fake.seed(seed)
        r = self.run_fn(event("guardduty-ec2-crypto"))
        self.assertTrue(r.ok, r)
        self.assertEqual(r.report["exemption"]["verdict"], "honoured", r.report["exemption"])
        self.assertTrue(r.report["verdict"].startswith("skipped"), r.report["verdict"])
        self.assertEqual(fbtest.writes(self.fake.calls()), [])
        self.assertEqual(len(self.fake.state()["sns"]["published"]), 1)

    def test_trusted_instance_profile_is_reported_not_touched(self):
        r = self.run_fn(event("guardduty-ec2-crypto"), FIREBREAK_TRUSTED_PRINCIPALS=PROFILE)
        self.assertTrue(r.ok, r)
        self.assertTrue(r.report["verdict"].startswith("skipped"), r.report["verdict"])
        self.assertEqual(fbtest.writes(self.fake.calls()), [])
        self.assertEqual(len(self.fake.state()["sns"]["published"]), 1)

    def test_credential_finding_revokes_the_role_and_reports_blast_radius(self):
        r = self.run_fn(event("guardduty-ec2-credentials"))
        self.assertTrue(r.ok, r)
        rv = r.report["role_revocation"]
        self.assertEqual(rv["role"], ROLE)
        self.assertEqual(rv["other_instances_with_profile"], 1)
        self.assertEqual(step(r.report, "revoke-sessions")[0]["status"], "done")
        out = client(self.fake, "iam").get_role_policy(RoleName="web-role", PolicyName="AWSRevokeOlderSessions")
        doc = out["PolicyDocument"]
        st = (json.loads(doc) if isinstance(doc, str) else doc)["Statement"][0]
        self.assertEqual((st["Effect"], st["Action"]), ("Deny", "*"))

    def test_security_hub_import_is_handled_and_is_the_same_incident(self):
        r = self.run_fn(event("securityhub-guardduty-ec2-crypto"))
        self.assertTrue(r.ok, r)
        self.assertEqual(r.report["finding"]["via"], "securityhub")
        self.assertEqual(r.report["verdict"], "contained")
        # the native delivery of the same finding: one incident, nothing left to do
        self.fake.reset_calls()
        r2 = self.run_fn(event("guardduty-ec2-crypto"))
        self.assertTrue(r2.ok, r2)
        self.assertEqual(r2.report["incident_id"], r.report["incident_id"])
        self.assertEqual(fbtest.writes(self.fake.calls()), [])

    def test_low_severity_sample_skipped_without_calls(self):
        r = self.run_fn(event("guardduty-ec2-sample"))
        self.assertTrue(r.ok, r)
        self.assertTrue(r.report["verdict"].startswith("skipped"))
        self.assertEqual(fbtest.writes(self.fake.calls()), [])

    def test_bad_input_is_an_error_with_zero_calls(self):
        for ev in (event("invalid-instance-id"), {"instanceId": "i-0123456789abcdef0", "region": "https://x"},
                   {"source": "aws.guardduty", "detail-type": "GuardDuty Finding",
                    "detail": {"severity": 8, "resource": {"resourceType": "Instance",
                                                            "instanceDetails": {"instanceId": "i-0123;rm"}}}}):
            r = self.run_fn(ev)
            self.assertFalse(r.ok, r)
            self.assertEqual(r.error_type, "Firebreak.InvalidEvent")
        self.assertEqual([c for c in self.fake.calls() if c.get("service") != "sns"], [])

    def test_other_account_without_member_role_writes_nothing(self):
        ev = event("guardduty-ec2-crypto")
        ev["detail"]["accountId"] = MEMBER
        r = self.run_fn(ev)
        self.assertFalse(r.ok)
        self.assertEqual(fbtest.writes(self.fake.calls()), [])
        self.assertEqual(step(r.report, "assume-member-role")[0]["status"], "failed")

    def test_group_created_meanwhile_and_not_ready_fails_without_touching_it(self):
        # another invocation "won" both creates (the fake answers Duplicate
        # and the groups never appear): no rules sent, isolation failed, paged
        self.fake.faults({"service": "ec2", "operation": "CreateSecurityGroup", "kind": "error", "status": 400,
                          "code": "InvalidGroup.Duplicate", "message": "The security group already exists",
                          "count": 2})
        r = self.run_fn(event("manual"))
        self.fake.faults({"clear": True})
        self.assertFalse(r.ok)
        ops = fbtest.ops(self.fake.calls())
        self.assertEqual(ops.count("ec2:DescribeSecurityGroups"), 3)  # groups, before, again
        for op in ("AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupEgress",
                   "ModifyNetworkInterfaceAttribute"):
            self.assertNotIn("ec2:" + op, ops)
        self.assertEqual(r.report["isolation"]["result"], "failed")
        self.assertEqual(self.groups_of(ENI0), [SG_WEB, SG_SSH])
        # the retry (the groups exist now) isolates
        r2 = self.run_fn(event("manual"))
        self.assertTrue(r2.ok, r2)

    def test_stop_after_snapshot_setting(self):
        r = self.run_fn(event("manual"), FIREBREAK_STOP_AFTER_SNAPSHOT="true")
        self.assertTrue(r.ok, r)
        ops = fbtest.ops(self.fake.calls())
        self.assertLess(ops.index("ec2:CreateSnapshots"), ops.index("ec2:StopInstances"))


if __name__ == "__main__":
    fbtest.main([InstanceQuarantine])
