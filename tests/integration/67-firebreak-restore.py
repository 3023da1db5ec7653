#!/usr/bin/python3
# runs-in: 81-sanitizers (make test runs this suite once, against the ASan+UBSan build)
"""firebreak-restore (issue 24 section 2) against tests/fakeaws: contain, then
undo in one command, for every responder that keeps a restore.json
(task-quarantine, instance-quarantine, iam-contain), asserting the fake's
state equals the state before (read back with /usr/bin/aws and botocore, not
with the code under test). Also: apply false plans and writes nothing; a
second run finds everything already restored; a target changed since by
someone else is not touched; steps select entries; hostile records and
events write nothing. Prints "N passed, N failed"."""
import copy
import importlib.util
import json
import os
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import fbtest  # noqa: E402

FN = "firebreak-restore"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "tests/integration", path))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


TQ = _load("tq53", "53-task-quarantine.py")
IQ = _load("iq55", "55-instance-quarantine.py")
IC = _load("ic58", "58-iam-contain.py")
BUCKET = "evidence-bucket"
EV_ENV = {"FIREBREAK_EVIDENCE_BUCKET": BUCKET, "FIREBREAK_EVIDENCE_KMS_KEY": "alias/firebreak-evidence"}


SCENARIO_INCIDENT = "fb-0123456789abcdef"   # events/firebreak-restore/manual-*.json
SG_Q = "sg-0eeeeeeeeeeeeeeee"


def scenario_world():
    """tests/fuzz/scenarios.py's main scenario (fault matrix, hostile events): instance-quarantine's
    world as its containment left one interface, on a quarantine group the incident created, with
    the record that undoes it: two reads, two inverse calls."""
    w = copy.deepcopy(IQ.SEED)
    w["ec2"]["security_groups"].append({"GroupId": SG_Q, "GroupName": "firebreak-quarantine", "VpcId": IQ.VPC,
                                        "IpPermissionsEgress": []})
    w["ec2"]["network_interfaces"][0]["Groups"] = [SG_Q]
    rec = [{"step": "create-quarantine-group", "api": "ec2:DeleteSecurityGroup", "args": {"GroupId": SG_Q}},
           {"step": "swap-groups", "api": "ec2:ModifyNetworkInterfaceAttribute",
            "args": {"NetworkInterfaceId": IQ.ENI0, "Groups": [IQ.SG_WEB, IQ.SG_SSH]}}]
    w["s3"] = {"buckets": [{"name": BUCKET, "objects": {
        "incidents/%s/restore.json" % SCENARIO_INCIDENT: json.dumps(rec)}}]}
    return w


ENV = {"FIREBREAK_EVIDENCE_BUCKET": BUCKET}


def restore(fake, incident, apply, **extra):
    ev = {"incident_id": incident, "apply": apply}
    ev.update(extra)
    return fbtest.invoke(FN, ev, fake, env={"FIREBREAK_EVIDENCE_BUCKET": BUCKET})


def cli(fake, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDFAKE", AWS_SECRET_ACCESS_KEY="fakesecret",
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    p = subprocess.run(["/usr/bin/aws", "--endpoint-url", fake.url, "--output", "json"] + list(args),
                       capture_output=True, text=True, env=env, timeout=60)
    if p.returncode:
        raise AssertionError("aws %s: %s" % (" ".join(args), p.stderr))
    return json.loads(p.stdout or "{}")


def boto(fake, service):
    import botocore.config
    import botocore.session
    return botocore.session.get_session().create_client(
        service, region_name="us-east-1", endpoint_url=fake.url, aws_access_key_id="AKIDFAKE",
        aws_secret_access_key="fakesecret", config=botocore.config.Config(retries={"max_attempts": 1}))


def restore_writes(fake, since):
    return [(c["service"], c["operation"]) for c in fake.calls()
            if c["seq"] > since and fbtest.is_write(c) and c["operation"] != "PutObject"]


def last_seq(fake):
    calls = fake.calls()
    return calls[-1]["seq"] if calls else 0


def network_state(fake, use_cli=False):
    """ENI -> sorted groups; security groups -> (name, ingress, egress)."""
    ec2 = boto(fake, "ec2")
    # the AWS CLI once (it takes a second and a half to start), botocore otherwise
    enis = (cli(fake, "ec2", "describe-network-interfaces") if use_cli
            else ec2.describe_network_interfaces())["NetworkInterfaces"]
    sgs = ec2.describe_security_groups()["SecurityGroups"]
    return ({e["NetworkInterfaceId"]: sorted(g["GroupId"] for g in e["Groups"]) for e in enis},
            {g["GroupId"]: (g["GroupName"], json.dumps(g.get("IpPermissions"), sort_keys=True),
                            json.dumps(g.get("IpPermissionsEgress"), sort_keys=True)) for g in sgs})


_FAKE = None


def shared_fake():
    """One fakeaws for every class (each case seeds what it needs): starting one costs a second."""
    global _FAKE
    if _FAKE is None:
        _FAKE = fbtest.Fake({}).start()
    return _FAKE


def tearDownModule():
    if _FAKE is not None:
        _FAKE.stop()


def the_record(fake, incident):
    """The incident's restore.json (first attempt) as written in the fake's bucket."""
    import base64
    objs = [b for b in fake.state()["s3"]["buckets"] if b["name"] == BUCKET][0]["objects"]
    return json.loads(base64.b64decode(objs["incidents/%s/restore.json" % incident]["body_b64"]))


def decisions(res):
    return [(e["step"], e["decision"]) for e in res.report["restored"]["entries"]]


class TaskQuarantine(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = shared_fake()

    def setUp(self):
        self.fake.reset()
        self.fake.seed(TQ.world())
        self.fake.reset_calls()

    def contain(self):
        res = fbtest.invoke("task-quarantine", TQ.finding_now(), self.fake,
                            env=dict(EV_ENV, AWS_LAMBDA_FUNCTION_NAME="task-quarantine"))
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["verdict"], "contained")
        return res.report["incident_id"]

    def test_contain_plan_restore_equals_before_then_already(self):
        before = network_state(self.fake)
        incident = self.contain()
        contained = network_state(self.fake)
        self.assertNotEqual(contained, before)
        # apply false: every check read, every inverse call planned, nothing written
        seq = last_seq(self.fake)
        res = restore(self.fake, incident, False)
        self.assertTrue(res.ok, res)
        self.assertTrue(res.report["verdict"].startswith("planned (apply is false): 2 to restore"), res.report["verdict"])
        self.assertEqual(restore_writes(self.fake, seq), [])
        self.assertEqual(network_state(self.fake), contained)
        planned = [a for a in res.report["actions"] if a["step"].startswith("restore:")]
        self.assertEqual([a["status"] for a in planned], ["planned", "planned"])
        # apply: the interface back on its groups first, then the group deleted
        seq = last_seq(self.fake)
        res = restore(self.fake, incident, True)
        self.assertTrue(res.ok, res)
        self.assertEqual(restore_writes(self.fake, seq), [("ec2", "ModifyNetworkInterfaceAttribute"),
                                                          ("ec2", "DeleteSecurityGroup")])
        self.assertTrue(res.report["verdict"].startswith("restored: 2 restored"), res.report["verdict"])
        self.assertEqual(network_state(self.fake, use_cli=True), before)
        # its own undo: the containment as it stood
        self.assertEqual(res.report["restore"][0]["api"], "ec2:ModifyNetworkInterfaceAttribute")
        # again: nothing left to do, nothing written
        seq = last_seq(self.fake)
        res = restore(self.fake, incident, True)
        self.assertTrue(res.ok, res)
        self.assertEqual(sorted(d for _, d in decisions(res)), ["already", "already"])
        self.assertEqual(restore_writes(self.fake, seq), [])

    def test_changed_since_is_not_touched(self):
        incident = self.contain()
        ec2 = boto(self.fake, "ec2")
        other = ec2.create_security_group(GroupName="ops-debug", Description="a human's", VpcId="vpc-0fake")["GroupId"]
        ec2.modify_network_interface_attribute(NetworkInterfaceId=TQ.ENI, Groups=[other])
        res = restore(self.fake, incident, True)
        self.assertTrue(res.ok, res)   # not an error: nothing failed, the report says what stayed
        self.assertEqual(dict(decisions(res))["swap-groups"], "changed")
        self.assertTrue(res.report["verdict"].startswith("partly restored"))
        self.assertEqual(network_state(self.fake)[0][TQ.ENI], [other])
        self.assertTrue(res.report.get("warnings"))

    def test_steps_select_entries(self):
        incident = self.contain()
        res = restore(self.fake, incident, True, steps=["swap-groups"])
        self.assertTrue(res.ok, res)
        self.assertEqual(decisions(res), [("swap-groups", "apply")])
        self.assertEqual(network_state(self.fake)[0][TQ.ENI], [TQ.SG])


class InstanceQuarantine(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = shared_fake()

    def setUp(self):
        self.fake.reset()
        self.fake.seed(copy.deepcopy(IQ.SEED))
        self.fake.reset_calls()

    def state(self):
        ec2 = boto(self.fake, "ec2")
        asg = boto(self.fake, "autoscaling")
        attr = ec2.describe_instance_attribute(InstanceId=IQ.INST, Attribute="disableApiTermination")
        bdm = ec2.describe_instance_attribute(InstanceId=IQ.INST, Attribute="blockDeviceMapping")
        members = asg.describe_auto_scaling_instances(InstanceIds=[IQ.INST])["AutoScalingInstances"]
        return {"network": network_state(self.fake),
                "termination": attr["DisableApiTermination"]["Value"],
                "volumes": sorted((m["DeviceName"], m["Ebs"]["DeleteOnTermination"]) for m in bdm["BlockDeviceMappings"]),
                "asg": [m["AutoScalingGroupName"] for m in members]}

    def test_contain_then_restore_equals_before_evidence_kept(self):
        before = self.state()
        res = fbtest.invoke("instance-quarantine", IQ.event("guardduty-ec2-crypto"), self.fake, env=dict(EV_ENV))
        self.assertTrue(res.ok, res)
        incident = res.report["incident_id"]
        self.assertNotEqual(self.state(), before)
        res = restore(self.fake, incident, True)
        self.assertTrue(res.ok, res)
        self.assertTrue(res.report["verdict"].startswith("restored:"), res.report["verdict"])
        self.assertEqual(self.state(), before)
        # the forensic snapshots stay (evidence is never undone here)
        snaps = boto(self.fake, "ec2").describe_snapshots(
            Filters=[{"Name": "tag:firebreak:incident", "Values": [incident]}])["Snapshots"]
        self.assertTrue(snaps)
        self.assertIn(("create-snapshots", "skipped"), decisions(res))


class IamContain(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = shared_fake()

    def state(self):
        iam = boto(self.fake, "iam")
        out = {}
        for u in ("mallory", "bob"):
            out[u] = {"keys": sorted((k["AccessKeyId"], k["Status"]) for k in
                                     iam.list_access_keys(UserName=u)["AccessKeyMetadata"]),
                      "inline": {n: iam.get_user_policy(UserName=u, PolicyName=n)["PolicyDocument"]
                                 for n in iam.list_user_policies(UserName=u)["PolicyNames"]},
                      "attached": sorted(p["PolicyArn"] for p in
                                         iam.list_attached_user_policies(UserName=u)["AttachedPolicies"])}
        return out

    def run_case(self, seed, ev):
        self.fake.reset()
        self.fake.seed(seed)
        before = self.state()
        res = fbtest.invoke("iam-contain", ev, self.fake, env=dict(EV_ENV))
        self.assertTrue(res.ok, res)
        self.assertTrue(res.report["verdict"].startswith("contained"), res.report["verdict"])
        self.assertNotEqual(self.state(), before)
        res = restore(self.fake, res.report["incident_id"], True)
        self.assertTrue(res.ok, res)
        self.assertTrue(res.report["verdict"].startswith("restored:"), res.report["verdict"])
        self.assertEqual(self.state(), before)
        return res

    def test_policy_put_reverted_then_restored(self):
        # no history: the revert deleted bob's new policy; the undo puts it back
        self.run_case(IC.world(bob_inline={"s3": IC.compact(IC.DOC_BAD)}),
                      IC.trigger("PutUserPolicy", {"userName": "bob", "policyName": "s3",
                                                   "policyDocument": IC.compact(IC.DOC_BAD)}))

    def test_self_escalation_reverted_then_restored(self):
        res = self.run_case(IC.world(attached=True),
                            IC.trigger("AttachUserPolicy", {"userName": "mallory", "policyArn": IC.ADMIN}))
        self.assertIn(("revert", "apply"), decisions(res))



# ---- w3-rst1: kms-guard, public-lock, net-block (contain -> restore) -------------------------------
KG = _load("kg50", "50-kms-guard.py")
PL = _load("pl56", "56-public-lock.py")
NB = _load("nb57", "57-net-block.py")


def with_bucket(world):
    w = copy.deepcopy(world)
    w.setdefault("s3", {}).setdefault("buckets", []).append({"name": BUCKET, "objects": {}})
    return w


class KmsGuardRestore(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = shared_fake()

    def setUp(self):
        self.fake.reset()
        self.fake.seed(with_bucket(KG.SEED))
        self.fake.reset_calls()

    def key(self, k):
        s = KG.key_state(self.fake, k)
        return s["KeyState"], sorted((t["TagKey"], t["TagValue"]) for t in s.get("Tags", []))

    def contain(self, name):
        res = fbtest.invoke("kms-guard", KG.load(name), self.fake, env=dict(KG.ENV, **ENV))
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["verdict"], "contained")
        self.assertEqual(res.report["keys"][0]["undo_record"]["state"], "kept")
        return res.report["incident_id"]

    def test_disable_key_contain_restore_equals_before(self):
        before = self.key(KG.K_DK)
        incident = self.contain("disable-key.json")
        self.assertNotEqual(self.key(KG.K_DK), before)
        res = restore(self.fake, incident, True)
        self.assertTrue(res.ok, res)
        self.assertEqual(sorted(decisions(res)), [("enable-key", "apply"), ("tag-incident", "apply")])
        self.assertEqual(self.key(KG.K_DK), before)
        res = restore(self.fake, incident, True)
        self.assertEqual(sorted(d for _, d in decisions(res)), ["already", "already"])

    def test_cancelled_deletion_is_never_scheduled_again(self):
        incident = self.contain("schedule-deletion-enabled-key.json")
        seq = last_seq(self.fake)
        res = restore(self.fake, incident, True)
        self.assertTrue(res.ok, res)
        d = dict(decisions(res))
        self.assertEqual(d["cancel-deletion"], "refused")
        self.assertIn("not restored by design", res.report["verdict"])
        self.assertNotIn(("kms", "ScheduleKeyDeletion"), restore_writes(self.fake, seq))
        state, tags = self.key(KG.K_EN)
        self.assertEqual(state, "Disabled")   # enable undone; the deletion stays cancelled
        self.assertNotIn("DeletionDate", KG.key_state(self.fake, KG.K_EN))
        self.assertFalse([t for t in tags if t[0] == "firebreak:incident"])

    def test_a_failing_record_never_holds_the_containment_back(self):
        res = fbtest.invoke("kms-guard", KG.load("disable-key.json"), self.fake,
                            env=dict(KG.ENV, FIREBREAK_EVIDENCE_BUCKET="no-such-bucket"))
        self.assertTrue(res.ok, res)   # the key is contained: not an error result
        self.assertEqual(res.report["verdict"], "contained")
        self.assertEqual(KG.key_state(self.fake, KG.K_DK)["KeyState"], "Enabled")
        put = [a for a in res.report["actions"] if a["step"] == "evidence-put"]
        self.assertEqual([a["status"] for a in put], ["failed"])
        self.assertEqual(res.report["keys"][0]["undo_record"]["state"], "incomplete")
        self.assertTrue(any("undo record" in w for w in res.report.get("warnings", [])))
        # the record comes before the first containment write
        ops = [(c["service"], c["operation"]) for c in self.fake.calls() if fbtest.is_write(c)]
        self.assertEqual(ops[0], ("s3", "PutObject"))

    def test_without_bucket_no_record_is_kept(self):
        res = fbtest.invoke("kms-guard", KG.load("disable-key.json"), self.fake, env=KG.ENV)
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["keys"][0]["undo_record"]["state"], "not kept")


class PublicLockRestore(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = shared_fake()

    def test_public_bucket_stays_locked(self):
        self.fake.reset()
        self.fake.seed(with_bucket(PL.world()))
        res = fbtest.invoke("public-lock", PL.event("put-bucket-policy.json"), self.fake,
                            env=dict(ENV, FIREBREAK_TOPIC_ARN=PL.TOPIC))
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["verdict"], "contained")
        seq = last_seq(self.fake)
        res = restore(self.fake, res.report["incident_id"], True)
        self.assertTrue(res.ok, res)
        self.assertEqual(decisions(res), [("lock-bucket", "refused")])
        self.assertEqual(restore_writes(self.fake, seq), [])
        pab = boto(self.fake, "s3").get_public_access_block(Bucket="web-assets")
        self.assertTrue(all(pab["PublicAccessBlockConfiguration"].values()))


class NetBlockRestore(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = shared_fake()

    def test_revoked_rules_come_back(self):
        self.fake.reset()
        self.fake.seed(with_bucket(NB.world()))
        perms = [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
        out = NB.client(self.fake, "ec2").authorize_security_group_ingress(GroupId=NB.SG, IpPermissions=perms)

        def shape():
            return sorted((r["IpProtocol"], r["FromPort"], r.get("CidrIpv4", "")) for r in NB.rules(self.fake))
        before = shape()
        res = fbtest.invoke("net-block", NB.authorize_event(self.fake, out), self.fake, env=dict(NB.ENV, **ENV))
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["verdict"], "contained")
        self.assertNotEqual(shape(), before)
        res = restore(self.fake, res.report["incident_id"], True)
        self.assertTrue(res.ok, res)
        self.assertEqual(decisions(res), [("revoke-rule", "apply")])
        self.assertEqual(shape(), before)   # the rule is back (a new id)
# ---- end w3-rst1 ----

class Scenario(unittest.TestCase):
    def test_main_scenario_restores(self):
        fake = shared_fake()
        fake.reset()
        fake.seed(scenario_world())
        fake.reset_calls()
        if True:
            res = restore(fake, SCENARIO_INCIDENT, True)
            self.assertTrue(res.ok, res)
            self.assertEqual(restore_writes(fake, 0), [("ec2", "ModifyNetworkInterfaceAttribute"),
                                                      ("ec2", "DeleteSecurityGroup")])
            self.assertEqual(network_state(fake)[0][IQ.ENI0], sorted([IQ.SG_WEB, IQ.SG_SSH]))


class Hostile(unittest.TestCase):
    INC = "fb-00000000000000aa"

    @classmethod
    def setUpClass(cls):
        cls.fake = shared_fake()

    def record(self, *docs):
        objs = {}
        for i, d in enumerate(docs):
            key = "incidents/%s/%srestore.json" % (self.INC, "" if i == 0 else "attempt-%d/" % (i + 1))
            objs[key] = d if isinstance(d, str) else json.dumps(d)
        w = copy.deepcopy(IQ.SEED)
        w["s3"] = {"buckets": [{"name": BUCKET, "objects": objs}]}
        self.fake.reset()
        self.fake.seed(w)
        self.fake.reset_calls()

    def test_unsupported_and_malformed_entries_are_never_called(self):
        self.record([
            {"step": "x", "api": "ec2:TerminateInstances", "args": {"InstanceIds": [IQ.INST]}},
            {"step": "y", "api": "iam:CreateAccessKey", "args": {"UserName": "bob"}},
            {"step": "z", "api": "ec2:ModifyInstanceAttribute",
             "args": {"InstanceId": IQ.INST, "DisableApiTermination": {"Value": False}, "UserData": {"Value": "x"}}},
            {"step": "w", "api": "ec2:ModifyNetworkInterfaceAttribute",
             "args": {"NetworkInterfaceId": IQ.ENI0, "Groups": "sg-0aaaaaaaaaaaaaaaa"}},
            {"step": "v", "api": "ec2:StartInstances", "args": {"InstanceIds": [IQ.INST, "i-0fffffffffffffff0"]}},
            {"step": "u", "api": 42, "args": {}},
            "not an object",
        ])
        res = restore(self.fake, self.INC, True)
        self.assertTrue(res.ok, res)
        self.assertEqual(sorted(d for _, d in decisions(res)), ["skipped"] * 7)   # the string too
        self.assertEqual(restore_writes(self.fake, 0), [])

    def test_unreadable_record_restores_nothing(self):
        good = [{"step": "swap", "api": "ec2:ModifyNetworkInterfaceAttribute",
                 "args": {"NetworkInterfaceId": IQ.ENI0, "Groups": [IQ.SG_WEB]}}]
        for docs in (["{not json"], [{"not": "an array"}], [good, "[truncated"]):
            with self.subTest(docs=docs):
                self.record(*docs)
                res = restore(self.fake, self.INC, True)
                self.assertFalse(res.ok, res)
                self.assertEqual(res.error_type, "Firebreak.ContainmentFailed")
                self.assertEqual(restore_writes(self.fake, 0), [])

    def test_sample_events(self):
        """events/firebreak-restore/: the invalid ones are refused before any call; the
        manual ones run against a record kept under their incident id."""
        d = os.path.join(ROOT, "events", FN)
        self.INC = "fb-0123456789abcdef"
        self.record([{"step": "protect-termination", "api": "ec2:ModifyInstanceAttribute",
                      "args": {"InstanceId": IQ.INST, "DisableApiTermination": {"Value": False}}}])
        for name in sorted(os.listdir(d)):
            if not name.endswith(".json") or "member-account" in name:
                continue
            with self.subTest(name=name):
                ev = json.load(open(os.path.join(d, name)))
                res = fbtest.invoke(FN, ev, self.fake, env={"FIREBREAK_EVIDENCE_BUCKET": BUCKET})
                if name.startswith("invalid-"):
                    self.assertEqual(res.error_type, "Firebreak.InvalidEvent", res)
                else:
                    self.assertTrue(res.ok, res)
                    self.assertEqual(res.report["incident_id"], self.INC)
        self.assertEqual(restore_writes(self.fake, 0), [])   # termination protection is off already

    def test_no_record(self):
        self.record()
        res = restore(self.fake, self.INC, True)
        self.assertFalse(res.ok, res)
        self.assertIn("no restore.json", json.dumps(res.report))

    def test_bad_events_are_refused_before_any_call(self):
        self.record([])
        for ev in ({"incident_id": "fb-../../../etc"}, {"incident_id": "fb-00000000000000AA"},
                   {"incident_id": self.INC, "apply": "yes"}, {"incident_id": self.INC, "steps": []},
                   {"incident_id": self.INC, "bucket": "other"}, {"incident_id": self.INC, "region": "../x"},
                   {"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": {}},
                   {"incident_id": self.INC, "steps": ["a\u0001b"]}):
            with self.subTest(ev=ev):
                res = fbtest.invoke(FN, ev, self.fake, env={"FIREBREAK_EVIDENCE_BUCKET": BUCKET})
                self.assertEqual(res.error_type, "Firebreak.InvalidEvent", res)
        self.assertEqual(self.fake.calls(), [])


# ---- data-breach and leak-rotate (w3-rst2) -------------------------------------------------------------------
DB = _load("db59", "59-data-breach.py")
LK = _load("lk52", "52-leak-rotate.py")


def ddb_call(fake, op, body):
    """DynamoDB's JSON protocol, signed by botocore: Debian's botocore and AWS CLI predate the
    resource policy operations."""
    import urllib.request
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    req = botocore.awsrequest.AWSRequest(method="POST", url=fake.url + "/", data=json.dumps(body).encode(), headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810." + op})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials("AKIDFAKE", "fakesecret"), "dynamodb",
                            "us-east-1").add_auth(req)
    r = urllib.request.Request(fake.url + "/", data=req.body, method="POST", headers=dict(req.headers.items()))
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            return json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        if b"PolicyNotFoundException" in e.read():
            return None
        raise


def ddb_policy(fake):
    out = ddb_call(fake, "GetResourcePolicy", {"ResourceArn": DB.ARN})
    return json.loads(out["Policy"]) if out else None


class DataBreach(unittest.TestCase):
    """contain -> restore: the table's resource policy and the role's session revocation come
    back as they were; PITR, the incident's backup and Streams stay (evidence, by design)."""

    @classmethod
    def setUpClass(cls):
        cls.fake = shared_fake()

    def seed(self, policy):
        self.fake.reset()
        self.fake.seed(DB.world(policy=policy))
        self.fake.reset_calls()

    def state(self):
        ddb = boto(self.fake, "dynamodb")
        iam = boto(self.fake, "iam")
        pol = ddb_policy(self.fake)
        pitr = ddb.describe_continuous_backups(TableName="orders")["ContinuousBackupsDescription"][
            "PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
        return {"policy": pol,
                "role_inline": sorted(iam.list_role_policies(RoleName="analytics-etl")["PolicyNames"]),
                "pitr": pitr,
                "stream": ddb.describe_table(TableName="orders")["Table"].get("StreamSpecification", {}).get(
                    "StreamEnabled", False),
                "backups": len(ddb.list_backups(TableName="orders")["BackupSummaries"])}

    def contain(self, principal):
        res = fbtest.invoke("data-breach", {"table": "orders", "reason": "exfiltration", "principal": principal},
                            self.fake, env=dict(EV_ENV, FIREBREAK_TOPIC_ARN=DB.TOPIC))
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["evidence"]["state"], "kept", res.report["evidence"])
        return res.report["incident_id"]

    def test_contain_then_restore_policy_and_sessions_evidence_kept(self):
        prior = {"Version": "2012-10-17", "Statement": [{"Sid": "AppReads", "Effect": "Allow",
                 "Principal": {"AWS": "arn:aws:iam::%s:role/app" % DB.ACCT}, "Action": "dynamodb:GetItem",
                 "Resource": DB.ARN}]}
        self.seed(prior)
        before = self.state()
        incident = self.contain(DB.ROLE)
        contained = self.state()
        self.assertNotEqual(contained["policy"], prior)
        self.assertEqual(contained["role_inline"], ["AWSRevokeOlderSessions"])
        seq = last_seq(self.fake)
        res = restore(self.fake, incident, True)
        self.assertTrue(res.ok, res)
        # restorable: back as before; evidence: kept, and that is not a partial restoration
        self.assertTrue(res.report["verdict"].startswith("restored: 2 restored"), res.report["verdict"])
        self.assertEqual(sorted(restore_writes(self.fake, seq)),
                         [("dynamodb", "PutResourcePolicy"), ("iam", "DeleteRolePolicy")])
        put = [c for c in self.fake.calls() if c["seq"] > seq and c["operation"] == "PutResourcePolicy"][0]
        self.assertTrue(put["params"]["ExpectedRevisionId"])   # the revision check
        after = self.state()
        self.assertEqual({k: after[k] for k in ("policy", "role_inline")},
                         {k: before[k] for k in ("policy", "role_inline")})
        self.assertEqual({k: after[k] for k in ("pitr", "stream", "backups")},
                         {k: contained[k] for k in ("pitr", "stream", "backups")})
        d = dict(decisions(res))
        # data-breach's entries carry no step name: the api names them
        for api in ("dynamodb:UpdateContinuousBackups", "dynamodb:DeleteBackup", "dynamodb:UpdateTable"):
            self.assertEqual(d[api], "skipped", d)
        self.assertEqual((d["dynamodb:PutResourcePolicy"], d["iam:DeleteRolePolicy"]), ("apply", "apply"))
        # the fake's own record as the oracle of the policy put back
        t = [t for t in self.fake.state()["dynamodb"]["tables"] if t["TableName"] == "orders"][0]
        self.assertEqual(json.loads(t["policy"]), prior)
        # again: nothing left
        seq = last_seq(self.fake)
        res = restore(self.fake, incident, True)
        self.assertEqual(restore_writes(self.fake, seq), [])

    def test_record_written_before_the_first_write_and_a_failing_bucket_blocks_nothing(self):
        self.seed(None)
        self.contain(DB.ROLE)
        calls = self.fake.calls()
        put = [c["seq"] for c in calls if c["operation"] == "PutObject" and
               c["params"].get("Key", c.get("path", "")).endswith("restore.json")]
        first_write = min(c["seq"] for c in calls if fbtest.is_write(c) and c["service"] in ("dynamodb", "iam"))
        self.assertTrue(put and put[0] < first_write, (put, first_write))
        # the record as written: the undo of the table policy and of the revocation, before either was made
        objs = [b for b in self.fake.state()["s3"]["buckets"] if b["name"] == BUCKET][0]["objects"]
        import base64
        rec = json.loads(base64.b64decode([v for k, v in objs.items() if k.endswith("/restore.json")][0]["body_b64"]))
        self.assertEqual(sorted(e["api"] for e in rec),
                         ["dynamodb:DeleteBackup", "dynamodb:DeleteResourcePolicy", "dynamodb:UpdateContinuousBackups",
                          "dynamodb:UpdateTable", "iam:DeleteRolePolicy"])
        # the bucket refuses every write: the table is preserved and the role denied all the same
        self.seed(None)
        self.fake.faults({"clear": True, "faults": [
            {"kind": "error", "status": 500, "service": "s3", "operation": "PutObject"}]})
        try:
            res = fbtest.invoke("data-breach", {"table": "orders", "reason": "exfiltration", "principal": DB.ROLE},
                                self.fake, env=dict(EV_ENV, FIREBREAK_TOPIC_ARN=DB.TOPIC))
        finally:
            self.fake.faults({"clear": True, "faults": []})
        st = {a["step"]: a["status"] for a in res.report["actions"]}
        for step in ("enable-pitr", "create-backup", "enable-stream", "deny-principal", "revoke-sessions"):
            self.assertEqual(st[step], "done", st)
        self.assertEqual(res.report["evidence"]["state"], "incomplete", res.report["evidence"])
        self.assertIsNotNone(self.state()["policy"])

    def test_no_prior_policy_deleted_changed_policy_not_touched(self):
        user = "arn:aws:iam::%s:user/mallory" % DB.ACCT
        self.seed(None)
        incident = self.contain(user)
        self.assertIsNotNone(self.state()["policy"])
        res = restore(self.fake, incident, True)
        self.assertTrue(res.ok, res)
        self.assertIsNone(self.state()["policy"])   # DeleteResourcePolicy: the table had none
        # a human adds a statement after the containment: the policy is not touched
        self.seed(None)
        incident = self.contain(user)
        cur = ddb_policy(self.fake)
        cur["Statement"].append({"Sid": "Human", "Effect": "Deny", "Principal": {"AWS": "*"},
                                 "Action": "dynamodb:DeleteTable", "Resource": DB.ARN})
        ddb_call(self.fake, "PutResourcePolicy", {"ResourceArn": DB.ARN, "Policy": json.dumps(cur)})
        seq = last_seq(self.fake)
        res = restore(self.fake, incident, True)
        self.assertTrue(res.ok, res)
        self.assertEqual(dict(decisions(res))["dynamodb:DeleteResourcePolicy"], "changed")
        self.assertEqual(restore_writes(self.fake, seq), [])
        self.assertEqual(ddb_policy(self.fake), cur)


class LeakRotate(unittest.TestCase):
    """contain -> restore: nothing of leak-rotate's is restorable (a leaked key or value): the
    key stays Inactive, the secret stays rotated, and the report says a human is needed."""

    @classmethod
    def setUpClass(cls):
        cls.fake = shared_fake()

    def setUp(self):
        w = copy.deepcopy(LK.SEED)
        w["s3"] = {"buckets": [{"name": BUCKET}]}
        w["kms"] = {"keys": [{"KeyId": DB.EVKEY, "KeyState": "Enabled", "Aliases": ["alias/firebreak-evidence"]}]}
        self.fake.reset()
        self.fake.seed(w)
        self.fake.reset_calls()

    def state(self):
        iam = boto(self.fake, "iam")
        sm = boto(self.fake, "secretsmanager")
        return {"keys": sorted((k["AccessKeyId"], k["Status"]) for k in
                               iam.list_access_keys(UserName="billing-bot")["AccessKeyMetadata"]),
                "current": [v for v, st in sm.describe_secret(SecretId="prod/orders/db")["VersionIdsToStages"].items()
                            if "AWSCURRENT" in st]}

    def contain(self, name):
        res = fbtest.invoke("leak-rotate", LK.event(name), self.fake, env=dict(LK.ENV, **EV_ENV))
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["evidence"]["state"], "kept", res.report["evidence"])
        return res.report["incident_id"]

    def test_leaked_key_and_rotated_secret_stay_contained_and_are_reported(self):
        before = self.state()
        incident = self.contain("awslogs-akia")
        key_contained = self.state()
        self.assertNotEqual(key_contained["keys"], before["keys"])
        seq = last_seq(self.fake)
        res = restore(self.fake, incident, True)
        self.assertTrue(res.ok, res)
        self.assertEqual(restore_writes(self.fake, seq), [])
        self.assertEqual(self.state(), key_contained)   # refused by design: still Inactive
        self.assertEqual(decisions(res), [("deactivate-key", "refused")])
        why = res.report["restored"]["entries"][0]["why"]
        self.assertTrue(why.startswith("needs a human: the key's secret is public"), why)
        self.assertTrue(res.report["verdict"].endswith("1 not restored by design (stay contained)"),
                        res.report["verdict"])
        self.assertEqual(res.report["restored"]["refused"], 1)
        self.assertTrue(any("needs a human" in w for w in res.report["warnings"]), res.report["warnings"])
        # the rotated secret: no undo (the old value is public)
        incident = self.contain("awslogs-watched-secret")
        rotated = self.state()
        self.assertNotEqual(rotated["current"], before["current"])
        seq = last_seq(self.fake)
        res = restore(self.fake, incident, True)
        self.assertTrue(res.ok, res)
        self.assertEqual(restore_writes(self.fake, seq), [])
        self.assertEqual(self.state(), rotated)
        d = dict(decisions(res))
        self.assertEqual(d["rotate-secret"], "refused", d)
        self.assertIn("no undo: the old value is public",
                      [e["why"] for e in res.report["restored"]["entries"] if e["step"] == "rotate-secret"][0])
        self.assertNotIn(LK.M.ORDERS_DB["password"], res.raw)

    def test_without_a_bucket_no_record_and_said(self):
        res = fbtest.invoke("leak-rotate", LK.event("awslogs-akia"), self.fake, env=dict(LK.ENV))
        self.assertTrue(res.ok, res)
        self.assertNotIn("evidence", res.report)
        self.assertTrue(any("no undo record" in w for w in res.report["warnings"]), res.report["warnings"])
        self.assertFalse([c for c in self.fake.calls() if c["service"] == "s3"])
# ---- end data-breach and leak-rotate (w3-rst2) ---------------------------------------------------------------


# ---- access-triage's opt-in containment (w3-rst4) -------------------------------------------------------------
AT = _load("at59", "59-access-triage.py")


class AccessTriageRestore(unittest.TestCase):
    """59's containment world (FIREBREAK_TRIAGE_CONTAIN=true): mallory's keys Inactive, app-role's sessions
    revoked, the attacker addresses in the WAF IP set -> restore: the role's inline policies and the keys'
    status equal the state before (read back with /usr/bin/aws iam); the shared IP set stays as contained."""
    ENV = dict(AT.ENV, FIREBREAK_TRIAGE_CONTAIN="true", FIREBREAK_AT_IPSET_ARN=AT.IPSET_ARN,
               FIREBREAK_TRUSTED_PRINCIPALS=AT.BREAKGLASS)
    APP_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})

    @classmethod
    def setUpClass(cls):
        cls.fake = shared_fake()

    def setUp(self):
        recs, iam, roles = AT.AccessTriage.contain_world(None)
        roles[0]["inline_policies"] = {"AppPolicy": self.APP_POLICY}
        iam["users"][0]["access_keys"][1]["Status"] = "Inactive"   # already Inactive before: stays so
        self.fake.reset()
        self.fake.seed(with_bucket(AT.world(recs, iam=iam, roles=roles, ipset=True)))
        self.fake.faults({"clear": True, "faults": []})
        self.fake.reset_calls()
        self.recs = recs

    def state(self, use_cli=False):
        if use_cli:
            keys = cli(self.fake, "iam", "list-access-keys", "--user-name", "mallory")["AccessKeyMetadata"]
            names = cli(self.fake, "iam", "list-role-policies", "--role-name", "app-role")["PolicyNames"]
        else:
            i = boto(self.fake, "iam")
            keys = i.list_access_keys(UserName="mallory")["AccessKeyMetadata"]
            names = i.list_role_policies(RoleName="app-role")["PolicyNames"]
        i = boto(self.fake, "iam")
        docs = {n: i.get_role_policy(RoleName="app-role", PolicyName=n)["PolicyDocument"] for n in names}
        return sorted((k["AccessKeyId"], k["Status"]) for k in keys), docs

    def ipset(self):
        return sorted(boto(self.fake, "wafv2").get_ip_set(Name="firebreak-blocked", Scope="REGIONAL",
                                                          Id=AT.IPSET_ID)["IPSet"]["Addresses"])

    def contain(self, env):
        res = fbtest.invoke("access-triage", AT.alarm(), self.fake, env=env)
        self.assertTrue(res.ok, res)
        self.assertTrue(res.report["verdict"].endswith("; contained"), res.report["verdict"])
        return res

    def test_contain_restore_keys_and_policies_equal_before_ipset_stays(self):
        before = self.state()
        res = self.contain(dict(self.ENV, **ENV))
        self.assertEqual(res.report["undo_record"]["state"], "kept")
        # the record comes before the first containment write
        ops = [(c["service"], c["operation"]) for c in self.fake.calls() if fbtest.is_write(c)]
        self.assertEqual(ops[0], ("s3", "PutObject"))
        contained = self.ipset()
        self.assertIn("203.0.113.66/32", contained)
        self.assertNotEqual(self.state(), before)
        seq = last_seq(self.fake)
        out = restore(self.fake, res.report["incident_id"], True)
        self.assertTrue(out.ok, out)
        d = decisions(out)
        self.assertEqual(sorted(x for _, x in d), ["apply", "apply", "refused"], d)
        self.assertEqual(sorted(restore_writes(self.fake, seq)),
                         [("iam", "DeleteRolePolicy"), ("iam", "UpdateAccessKey")])
        self.assertEqual(self.state(use_cli=True), before)
        self.assertEqual(self.ipset(), contained)   # refused: the shared IP set stays as contained

    def test_key_of_a_user_gone_since_is_not_touched(self):
        res = self.contain(dict(self.ENV, **ENV))
        # mallory deleted by a human since: the same world without the user, the same records kept
        s3 = boto(self.fake, "s3")
        objs = {o["Key"]: s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read().decode()
                for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
        recs, iam, roles = AT.AccessTriage.contain_world(None)
        iam["users"] = iam["users"][1:]
        w = AT.world(recs, iam=iam, roles=roles, ipset=True)
        w["s3"] = {"buckets": [{"name": BUCKET, "objects": objs}]}
        self.fake.reset()
        self.fake.seed(w)
        self.fake.reset_calls()
        out = restore(self.fake, res.report["incident_id"], True)
        self.assertTrue(out.ok, out)
        self.assertEqual(dict(decisions(out))["deactivate-key"], "changed")
        self.assertNotIn(("iam", "UpdateAccessKey"), restore_writes(self.fake, 0))

    def test_without_bucket_not_kept_and_contained(self):
        res = self.contain(self.ENV)
        self.assertEqual(res.report["undo_record"]["state"], "not kept")
        self.assertFalse([c for c in self.fake.calls() if c["service"] == "s3"])
# ---- end w3-rst4 ----



# ---- codeartifact-lock (w3-rst3): contain -> restore ------------------------------------------------------
CA = _load("ca66", "66-codeartifact-lock.py")
CA_LOCKED = ("npm-store", "public-mirror")   # the repositories 66's world has granting mallory


class CodeArtifactLockRestore(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = shared_fake()

    def setUp(self):
        self.fake.reset()
        self.fake.seed(with_bucket(CA.world()))
        self.fake.reset_calls()

    def policies(self, oracle=False):
        return {"domain": CA.domain_doc(self.fake, oracle),
                **{r: CA.repo_doc(self.fake, r, oracle) for r in CA_LOCKED}}

    def contain(self):
        res = fbtest.invoke("codeartifact-lock", CA.manual(), self.fake, env=dict(CA.ENV, **ENV))
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["undo_record"]["state"], "kept", res.report["undo_record"])
        return res.report["incident_id"]

    def test_contain_restore_policies_equal_before_and_record_first(self):
        before = self.policies()
        incident = self.contain()
        calls = self.fake.calls()
        put = [c["seq"] for c in calls if c["operation"] == "PutObject"]
        first = min(c["seq"] for c in calls if fbtest.is_write(c) and c["service"] == "codeartifact")
        self.assertTrue(put and put[0] < first, (put, first))
        self.assertNotEqual(self.policies(), before)
        seq = last_seq(self.fake)
        res = restore(self.fake, incident, True)
        self.assertTrue(res.ok, res)
        self.assertEqual(sorted(decisions(res)), [("lock-domain", "apply"), ("lock-repository", "apply"),
                                                  ("lock-repository", "apply")])
        self.assertEqual(sorted(restore_writes(self.fake, seq)), [
            ("codeartifact", "PutDomainPermissionsPolicy"), ("codeartifact", "PutRepositoryPermissionsPolicy"),
            ("codeartifact", "PutRepositoryPermissionsPolicy")])
        for c in self.fake.calls():   # each put back carries the revision the check read
            if c["seq"] > seq and c["operation"].startswith("Put") and c["service"] == "codeartifact":
                self.assertTrue(c["params"].get("policyRevision"), c["params"])
        self.assertEqual(self.policies(oracle=True), before)   # the AWS CLI as the oracle
        seq = last_seq(self.fake)
        res = restore(self.fake, incident, True)
        self.assertEqual(sorted(d for _, d in decisions(res)), ["already"] * 3)
        self.assertEqual(restore_writes(self.fake, seq), [])

    def test_changed_since_is_not_touched(self):
        before = self.policies()
        incident = self.contain()
        # someone else adds a statement to npm-store's policy after the lock
        cur = CA.repo_doc(self.fake, "npm-store")
        cur["Statement"].append({"Sid": "Later", "Effect": "Allow", "Principal": {"AWS": CA.CI_ROLE},
                                 "Action": "codeartifact:ReadFromRepository", "Resource": "*"})
        CA.client(self.fake, "codeartifact").put_repository_permissions_policy(
            domain=CA.DOMAIN, repository="npm-store", policyDocument=json.dumps(cur))
        res = restore(self.fake, incident, True)
        self.assertTrue(res.ok, res)
        by = {(e["step"], e.get("args", {}).get("repository")): e for e in res.report["restored"]["entries"]}
        self.assertEqual(sorted(d for _, d in decisions(res)), ["apply", "apply", "changed"])
        after = self.policies()
        self.assertEqual(after["npm-store"], cur)                 # not touched
        self.assertEqual(after["domain"], before["domain"])
        self.assertEqual(after["public-mirror"], before["public-mirror"])
        self.assertTrue(by)

    def test_created_policy_deleted_only_while_firebreaks(self):
        self.fake.reset()
        self.fake.seed(with_bucket(CA.world(domain_policy=None)))
        incident = self.contain()
        res = restore(self.fake, incident, False)   # the plan: nothing written
        d = sorted(decisions(res))
        self.assertEqual(d[0], ("lock-domain", "apply"), d)
        res = restore(self.fake, incident, True)
        self.assertTrue(res.ok, res)
        self.assertIsNone(self.fake.state()["codeartifact"]["domains"][0]["policy"])

    def test_a_failing_record_never_holds_the_lock_back(self):
        res = fbtest.invoke("codeartifact-lock", CA.manual(), self.fake,
                            env=dict(CA.ENV, FIREBREAK_EVIDENCE_BUCKET="no-such-bucket"))
        self.assertTrue(res.ok, res)
        self.assertTrue(res.report["verdict"].startswith("contained"), res.report["verdict"])
        self.assertEqual([a["status"] for a in res.report["actions"] if a["step"] == "evidence-put"], ["failed"])
        self.assertEqual(res.report["undo_record"]["state"], "incomplete")
        self.assertTrue(CA.denies(CA.domain_doc(self.fake), CA.MALLORY))

    def test_without_bucket_no_record_is_kept(self):
        res = fbtest.invoke("codeartifact-lock", CA.manual(), self.fake, env=CA.ENV)
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["undo_record"]["state"], "not kept")
    # ---- w4-rst: the role's session revocation is in the record too ----
    CI_SESSION = "arn:aws:sts::%s:assumed-role/ci-build/build-42" % CA.ACCT
    OLD_CUT = ('{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*",'
               '"Condition":{"DateLessThan":{"aws:TokenIssueTime":"2020-01-01T00:00:00.000Z"}}}]}')

    def role_state(self):
        """ci-build's inline policies, {name: document}, read back with botocore."""
        iam = boto(self.fake, "iam")
        docs = {n: iam.get_role_policy(RoleName="ci-build", PolicyName=n)["PolicyDocument"]
                for n in iam.list_role_policies(RoleName="ci-build")["PolicyNames"]}
        # botocore decodes IAM's URL-encoded JSON to a dict
        return {n: json.loads(d) if isinstance(d, str) else d for n, d in docs.items()}

    def contain_role(self):
        res = fbtest.invoke("codeartifact-lock", CA.manual(self.CI_SESSION), self.fake, env=dict(CA.ENV, **ENV))
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["undo_record"]["state"], "kept", res.report["undo_record"])
        self.assertEqual([a["status"] for a in res.report["actions"] if a["step"] == "revoke-sessions"], ["done"])
        return res

    def test_role_revocation_recorded_and_restored_equal_before(self):
        for prior in (None, self.OLD_CUT):
            with self.subTest(prior=prior and "an older revocation"):
                self.fake.reset()
                w = with_bucket(CA.world())
                if prior:
                    w["roles"][0]["inline_policies"] = {"AWSRevokeOlderSessions": prior}
                self.fake.seed(w)
                before = (self.policies(), self.role_state())
                res = self.contain_role()
                # the record has the revocation's undo, with the prior document when there was one
                rec = [e for e in the_record(self.fake, res.report["incident_id"]) if e.get("step") == "revoke-sessions"]
                self.assertEqual([e["api"] for e in rec], ["iam:PutRolePolicy" if prior else "iam:DeleteRolePolicy"])
                self.assertNotEqual(self.role_state(), before[1])
                seq = last_seq(self.fake)
                res = restore(self.fake, res.report["incident_id"], True)
                self.assertTrue(res.ok, res)
                self.assertEqual(dict(decisions(res))["revoke-sessions"], "apply", decisions(res))
                self.assertIn(("iam", "PutRolePolicy" if prior else "DeleteRolePolicy"),
                              restore_writes(self.fake, seq))
                # the fake's state equals the state before: the policies and the role's inline policies
                self.assertEqual((self.policies(oracle=True), self.role_state()), before)
                if prior:   # the AWS CLI as the oracle of the document put back
                    out = cli(self.fake, "iam", "get-role-policy", "--role-name", "ci-build",
                              "--policy-name", "AWSRevokeOlderSessions")
                    self.assertEqual(out["PolicyDocument"], json.loads(prior))

    def test_role_revocation_changed_since_is_not_touched(self):
        res = self.contain_role()
        # an engineer adds a statement to the revocation policy after the containment
        iam = boto(self.fake, "iam")
        doc = iam.get_role_policy(RoleName="ci-build", PolicyName="AWSRevokeOlderSessions")["PolicyDocument"]
        doc = json.loads(doc) if isinstance(doc, str) else doc
        doc["Statement"].append({"Sid": "Human", "Effect": "Deny", "Action": "s3:*", "Resource": "*"})
        iam.put_role_policy(RoleName="ci-build", PolicyName="AWSRevokeOlderSessions", PolicyDocument=json.dumps(doc))
        seq = last_seq(self.fake)
        res = restore(self.fake, res.report["incident_id"], True)
        self.assertEqual(dict(decisions(res))["revoke-sessions"], "changed", decisions(res))
        self.assertNotIn(("iam", "DeleteRolePolicy"), restore_writes(self.fake, seq))
        self.assertEqual(self.role_state()["AWSRevokeOlderSessions"], doc)


# ---- end codeartifact-lock (w3-rst3) ----------------------------------------------------------------------

# ---- cognito-lockdown (w4-rst): every entry recorded, none restored (by design) ----------------------------
CL = _load("cl65", "65-cognito-lockdown.py")


class CognitoLockdownRestore(unittest.TestCase):
    """contain -> restore: the sign-out, the new secret, the consumers' secret and the old secret's
    deletion are in the record and reported, and nothing is written: re-enabling a possibly leaked
    secret, or removing the one the consumers run with, would make the incident worse."""

    @classmethod
    def setUpClass(cls):
        cls.fake = shared_fake()

    def seed(self, **kw):
        self.fake.reset()
        self.fake.seed(with_bucket(CL.world(users=3, **kw)))
        self.fake.reset_calls()

    def state(self):
        st = self.fake.state()
        pool = st["cognito-idp"]["pools"][0]
        sec = [x for x in st["secretsmanager"]["secrets"] if x["ARN"] == CL.SECRET_ARN][0]
        return {"client_secrets": sorted(s["ClientSecretId"] for s in pool["clients"][CL.CLIENT]["secrets"]),
                "signouts": {n: u["signouts"] for n, u in pool["users"].items()},
                "consumer": sorted((v["VersionId"], tuple(v["VersionStages"])) for v in sec["versions"])}

    def contain(self, ok=True, **kw):
        res = fbtest.invoke("cognito-lockdown", CL.manual(), self.fake,
                            env=dict(CL.ENV, FIREBREAK_EVIDENCE_BUCKET=BUCKET), **kw)
        self.assertEqual(res.ok, ok, res.raw[:2000])
        self.assertEqual(res.report["undo_record"]["state"], "kept", res.report["undo_record"])
        return res.report["incident_id"]

    def test_rotated_and_signed_out_nothing_restored_all_said(self):
        self.seed()
        incident = self.contain()
        contained = self.state()
        self.assertEqual(len(contained["client_secrets"]), 1)
        seq = last_seq(self.fake)
        res = restore(self.fake, incident, True)
        self.assertTrue(res.ok, res)
        self.assertEqual(restore_writes(self.fake, seq), [])
        self.assertEqual(self.state(), contained)   # the state stays as contained
        d = dict(decisions(res))
        self.assertEqual(d, {"add-client-secret": "refused", "put-secret-value": "refused", "sign-out": "refused",
                             "delete-old-client-secret": "refused"})
        why = {e["step"]: e["why"] for e in res.report["restored"]["entries"]}
        self.assertIn("the old secret is deleted; not restorable", why["delete-old-client-secret"])
        self.assertIn("no inverse", why["sign-out"])
        self.assertIn("breaks them", why["add-client-secret"])
        self.assertEqual(res.report["restored"]["refused"], 4)
        self.assertIn("4 not restored by design", res.report["verdict"])

    def test_rotation_stopped_before_deletion_old_secret_still_there(self):
        self.seed(settle=None)   # the consumers' rollout never finishes: the old secret stays
        incident = self.contain(ok=False, timeout=4)
        contained = self.state()
        self.assertEqual(len(contained["client_secrets"]), 2)
        seq = last_seq(self.fake)
        res = restore(self.fake, incident, True)
        self.assertTrue(res.ok, res)
        self.assertEqual(restore_writes(self.fake, seq), [])
        self.assertEqual(self.state(), contained)   # the new secret is not deleted either
        d = dict(decisions(res))
        self.assertEqual((d["delete-old-client-secret"], d["add-client-secret"]), ("already", "refused"))
        why = {e["step"]: e["why"] for e in res.report["restored"]["entries"]}
        self.assertIn("still exists", why["delete-old-client-secret"])


if __name__ == "__main__":
    t0 = time.time()
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    r = unittest.TextTestRunner(verbosity=2).run(suite)
    bad = len(r.failures) + len(r.errors)
    print("%d passed, %d failed (%.1f s)" % (r.testsRun - bad, bad, time.time() - t0))
    sys.exit(1 if bad else 0)
