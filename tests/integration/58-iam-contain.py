#!/usr/bin/python3
# runs-in: 81-sanitizers (make test runs this suite once, against the ASan+UBSan build)
"""iam-contain against tests/fakeaws, run through the local Lambda emulator.

One fake for the whole class, re-seeded per case. State is read back with the
real AWS CLI (/usr/bin/aws --endpoint-url) and botocore, not with the fake's
own dump. Prints "N passed, N failed".
"""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import fbtest  # noqa: E402

FN = "iam-contain"
A = "111111111111"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
OPS = "arn:aws:iam::%s:policy/ops" % A
MAL = "arn:aws:iam::%s:user/mallory" % A
ALICE = "arn:aws:iam::%s:user/alice" % A
TOPIC = "arn:aws:sns:us-east-1:%s:firebreak" % A
K1, K2, KB = "AKIAMALLORYKEY000001", "AKIAMALLORYKEY000002", "AKIABOBKEY0000000001"
DOC_OLD = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
DOC_BAD = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
TRUST_OLD = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}
TRUST_BAD = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
                                                     "Action": "sts:AssumeRole"}]}
T_EVENT = "2026-12-07T01:00:00Z"
BUCKET = "evidence-bucket"
EVKEY = "1234abcd-12ab-34cd-56ef-1234567890ab"
EVIDENCE_ENV = {"FIREBREAK_EVIDENCE_BUCKET": BUCKET, "FIREBREAK_EVIDENCE_KMS_KEY": "alias/firebreak-evidence"}


def compact(d):
    return json.dumps(d, separators=(",", ":"))


def world(**kw):
    return {
        "iam": {
            "users": [{"UserName": "mallory", "access_keys": [{"AccessKeyId": K1}, {"AccessKeyId": K2, "Status": "Inactive"}],
                       "attached": [ADMIN] if kw.get("attached") else []},
                      {"UserName": "bob", "access_keys": [{"AccessKeyId": KB}] + kw.get("bob_keys", []),
                       "inline_policies": kw.get("bob_inline", {}), "groups": kw.get("bob_groups", []),
                       "login_profile": kw.get("bob_login", False)},
                      {"UserName": "alice"}],
            "groups": [{"GroupName": "admin", "attached": [ADMIN]}],
            "policies": [{"Arn": OPS, "versions": {"v1": compact(DOC_OLD), "v2": compact(DOC_OLD), "v3": compact(DOC_BAD)},
                          "default": kw.get("ops_default", "v3")}],
        },
        "roles": [{"arn": "arn:aws:iam::%s:role/app" % A, "inline_policies": kw.get("app_inline", {}),
                   "trust_policy": kw.get("app_trust", TRUST_OLD)},
                  {"arn": "arn:aws:iam::%s:role/intruder" % A}],
        "cloudtrail": {"records": kw.get("history", [])},
        "sns": {"topics": [TOPIC]},
        "s3": {"buckets": [{"name": BUCKET}]},
        "kms": {"keys": [{"KeyId": EVKEY, "KeyState": "Enabled", "Aliases": ["alias/firebreak-evidence"]}]},
    }


def record(name, params, actor=ALICE, when="2026-12-01T00:00:00Z", resource=None, response=None, eid=None):
    ui = {"type": "IAMUser", "arn": actor, "accountId": A, "userName": actor.rsplit("/", 1)[-1],
          "accessKeyId": "AKIAALICEKEY00000001"}
    if ":assumed-role/" in actor:
        role = actor.split(":assumed-role/")[1].split("/")[0]
        ui = {"type": "AssumedRole", "arn": actor, "accountId": A, "accessKeyId": "ASIAINTRUDER00000001",
              "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::%s:role/%s" % (A, role),
                                                   "accountId": A, "userName": role}}}
    r = {"eventVersion": "1.08", "userIdentity": ui, "eventTime": when, "eventSource": "iam.amazonaws.com",
         "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli",
         "requestParameters": params, "responseElements": response, "eventID": eid or "e-%s-%s" % (name, when),
         "eventType": "AwsApiCall", "recipientAccountId": A}
    if resource:
        r["resources"] = [{"type": "AWS::IAM::Resource", "ARN": resource}]
    return r


def trigger(name, params, actor=MAL, response=None):
    rec = record(name, params, actor=actor, when=T_EVENT, response=response, eid="trigger-1")
    rec["userIdentity"]["accessKeyId"] = K1 if actor == MAL else rec["userIdentity"]["accessKeyId"]
    return fbtest.eventbridge_wrap(rec, source="aws.iam")


def step(rep, name):
    return [a for a in rep["actions"] if a["step"] == name]


class IamContain(unittest.TestCase):
    fake = None

    @classmethod
    def setUpClass(cls):
        cls.fake = fbtest.Fake(world()).start()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def seed(self, **kw):
        self.fake.reset()
        self.fake.seed(world(**kw))
        self.fake.reset_calls()

    def run_fn(self, event, **env):
        e = {"FIREBREAK_TOPIC_ARN": TOPIC}
        e.update(env)
        return fbtest.invoke(FN, event, self.fake, env=e)

    def cli(self, *args):
        """Reads (and a few writes) as the AWS CLI spells them. Through botocore
        (the CLI's own library, same decoding of policy documents) unless
        real=True: the CLI takes 1.5 s a call to start."""
        import botocore.exceptions
        if not hasattr(self, "_iam"):
            type(self)._iam = self.fake.client("iam") if hasattr(self.fake, "client") else None
            if self._iam is None:
                import botocore.session
                type(self)._iam = botocore.session.get_session().create_client(
                    "iam", region_name="us-east-1", endpoint_url=self.fake.url, aws_access_key_id="AKIDFAKE",
                    aws_secret_access_key="fakesecret")
        op = args[1].replace("-", "_")
        kw, i = {}, 2
        while i < len(args):
            kw["".join(w.capitalize() for w in args[i][2:].split("-"))] = args[i + 1]
            i += 2
        try:
            out = getattr(self._iam, op)(**kw)
        except botocore.exceptions.ClientError as e:
            return {"error": str(e)}
        out.pop("ResponseMetadata", None)
        return out

    def real_cli(self, *args):
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDFAKE", AWS_SECRET_ACCESS_KEY="fakesecret",
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
        p = subprocess.run(["/usr/bin/aws", "--endpoint-url", self.fake.url, "--output", "json"] + list(args),
                           capture_output=True, text=True, env=env, timeout=60)
        if p.returncode:
            return {"error": p.stderr}
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def key_status(self, user):
        return {k["AccessKeyId"]: k["Status"] for k in self.cli("iam", "list-access-keys", "--user-name", user)["AccessKeyMetadata"]}

    def writes(self):
        return fbtest.ops(fbtest.writes(self.fake.calls()))

    def assert_user_contained(self, rep):
        self.assertEqual(self.key_status("mallory"), {K1: "Inactive", K2: "Inactive"})
        q = self.cli("iam", "get-user-policy", "--user-name", "mallory", "--policy-name", "firebreak-quarantine")
        self.assertEqual(q["PolicyDocument"]["Statement"][0]["Effect"], "Deny")
        self.assertEqual(q["PolicyDocument"]["Statement"][0]["Action"], "*")
        apis = [r["api"] for r in rep["restore"]]
        self.assertIn("iam:UpdateAccessKey", apis)
        self.assertIn("iam:DeleteUserPolicy", apis)

    def again_writes_nothing(self, event):
        self.fake.reset_calls()
        res = self.run_fn(event)
        self.assertTrue(res.ok, res)
        self.assertEqual(self.writes(), [], res.report)

    # ---- the main event names --------------------------------------------------------

    def test_attach_user_policy_self_escalation(self):
        self.seed(attached=True)
        ev = trigger("AttachUserPolicy", {"userName": "mallory", "policyArn": ADMIN})
        res = self.run_fn(ev)
        self.assertTrue(res.ok, res)
        rep = res.report
        self.assertEqual(rep["verdict"], "contained")
        self.assert_user_contained(rep)
        self.assertEqual(self.real_cli("iam", "list-attached-user-policies", "--user-name", "mallory")["AttachedPolicies"], [])
        self.assertEqual(self.real_cli("iam", "list-access-keys", "--user-name", "mallory")["AccessKeyMetadata"][0]["Status"],
                         "Inactive")
        self.assertIn({"step": "revert", "api": "iam:AttachUserPolicy",
                       "args": {"UserName": "mallory", "PolicyArn": ADMIN}}, rep["restore"])
        # containment before the revert
        w = self.writes()
        self.assertLess(w.index("iam:PutUserPolicy"), w.index("iam:DetachUserPolicy"))
        self.again_writes_nothing(ev)

    def test_put_user_policy_prior_document_restored(self):
        hist = [record("PutUserPolicy", {"userName": "bob", "policyName": "s3", "policyDocument": compact(DOC_OLD)},
                       resource="bob")]
        self.seed(bob_inline={"s3": compact(DOC_BAD)}, history=hist)
        ev = trigger("PutUserPolicy", {"userName": "bob", "policyName": "s3", "policyDocument": compact(DOC_BAD)})
        res = self.run_fn(ev)
        self.assertTrue(res.ok, res)
        self.assertEqual(self.real_cli("iam", "get-user-policy", "--user-name", "bob", "--policy-name", "s3")["PolicyDocument"],
                         DOC_OLD)
        self.assertTrue(res.report["change"]["prior_state_decided"])
        self.assertEqual(res.report["documents"]["before"], DOC_OLD)
        self.assertEqual(res.report["documents"]["after"], DOC_BAD)
        self.again_writes_nothing(ev)

    def test_documents_before_and_after_in_the_evidence_bucket(self):
        hist = [record("PutUserPolicy", {"userName": "bob", "policyName": "s3", "policyDocument": compact(DOC_OLD)},
                       resource="bob")]
        self.seed(bob_inline={"s3": compact(DOC_BAD)}, history=hist)
        ev = trigger("PutUserPolicy", {"userName": "bob", "policyName": "s3", "policyDocument": compact(DOC_BAD)})
        res = self.run_fn(ev, **EVIDENCE_ENV)
        self.assertTrue(res.ok, res)
        evd = res.report["evidence"]
        self.assertEqual(evd["state"], "kept", evd)
        s3 = self.fake.client("s3") if hasattr(self.fake, "client") else None
        if s3 is None:
            import botocore.config
            import botocore.session
            s3 = botocore.session.get_session().create_client(
                "s3", region_name="us-east-1", endpoint_url=self.fake.url, aws_access_key_id="AKIDFAKE",
                aws_secret_access_key="fakesecret", config=botocore.config.Config(s3={"addressing_style": "path"}))
        prefix = evd["prefix"]
        docs = s3.get_object(Bucket=BUCKET, Key=prefix + "documents.json")
        self.assertEqual(docs.get("ServerSideEncryption"), "aws:kms")
        body = json.loads(docs["Body"].read())
        self.assertEqual(body, {"after": DOC_BAD, "before": DOC_OLD})
        man = json.loads(s3.get_object(Bucket=BUCKET, Key=prefix + "manifest.json")["Body"].read())
        keys = {o["key"].rsplit("/", 1)[-1] for o in man["objects"]}
        self.assertTrue({"restore.json", "event.json", "documents.json", "history.json"} <= keys, keys)
        restore = json.loads(s3.get_object(Bucket=BUCKET, Key=prefix + "restore.json")["Body"].read())
        self.assertEqual(restore, res.report["restore"])
        # a second delivery: the set is kept, nothing written again
        self.fake.reset_calls()
        res = self.run_fn(ev, **EVIDENCE_ENV)
        self.assertTrue(res.ok, res)
        self.assertEqual(self.writes(), [])

    def test_put_user_policy_without_history_deleted_and_paged(self):
        self.seed(bob_inline={"s3": compact(DOC_BAD)})
        ev = trigger("PutUserPolicy", {"userName": "bob", "policyName": "s3", "policyDocument": compact(DOC_BAD)})
        res = self.run_fn(ev)
        self.assertTrue(res.ok, res)
        self.assertNotIn("s3", self.cli("iam", "list-user-policies", "--user-name", "bob")["PolicyNames"])
        self.assertFalse(res.report["change"]["prior_state_decided"])
        self.assertEqual(res.report["severity"], "P1")
        self.assertTrue(any("undecided" in w for w in res.report.get("warnings", [])))

    def test_prior_document_by_the_same_actor_is_not_trusted(self):
        hist = [record("PutUserPolicy", {"userName": "bob", "policyName": "s3", "policyDocument": compact(DOC_OLD)},
                       actor=MAL, resource="bob")]
        self.seed(bob_inline={"s3": compact(DOC_BAD)}, history=hist)
        res = self.run_fn(trigger("PutUserPolicy", {"userName": "bob", "policyName": "s3",
                                                    "policyDocument": compact(DOC_BAD)}))
        self.assertTrue(res.ok, res)
        self.assertNotIn("s3", self.cli("iam", "list-user-policies", "--user-name", "bob")["PolicyNames"])
        self.assertIn("same principal", res.report["change"]["revert"])

    def test_put_role_policy_by_assumed_role_revokes_sessions(self):
        hist = [record("CreateRole", {"roleName": "app", "assumeRolePolicyDocument": compact(TRUST_OLD)}, resource="app")]
        self.seed(app_inline={"x": compact(DOC_BAD)}, history=hist)
        actor = "arn:aws:sts::%s:assumed-role/intruder/s1" % A
        ev = trigger("PutRolePolicy", {"roleName": "app", "policyName": "x", "policyDocument": compact(DOC_BAD)}, actor=actor)
        res = self.run_fn(ev)
        self.assertTrue(res.ok, res)
        rv = self.cli("iam", "get-role-policy", "--role-name", "intruder", "--policy-name", "AWSRevokeOlderSessions")
        self.assertIn("aws:TokenIssueTime", json.dumps(rv["PolicyDocument"]))
        self.assertEqual(self.cli("iam", "list-role-policies", "--role-name", "app")["PolicyNames"], [])
        self.assertTrue(res.report["change"]["prior_state_decided"])
        self.again_writes_nothing(ev)

    def test_attach_role_policy(self):
        self.seed()
        self.cli("iam", "attach-role-policy", "--role-name", "app", "--policy-arn", ADMIN)
        self.fake.reset_calls()
        res = self.run_fn(trigger("AttachRolePolicy", {"roleName": "app", "policyArn": ADMIN}))
        self.assertTrue(res.ok, res)
        self.assertEqual(self.cli("iam", "list-attached-role-policies", "--role-name", "app")["AttachedPolicies"], [])

    def test_create_policy_version_default_before_restored(self):
        hist = [record("SetDefaultPolicyVersion", {"policyArn": OPS, "versionId": "v1"}, resource=OPS)]
        self.seed(history=hist)
        ev = trigger("CreatePolicyVersion", {"policyArn": OPS, "policyDocument": compact(DOC_BAD), "setAsDefault": True},
                     response={"policyVersion": {"versionId": "v3", "isDefaultVersion": True}})
        res = self.run_fn(ev)
        self.assertTrue(res.ok, res)
        # v1 was the default before (not v2, "the previous number"); v3 kept as evidence
        self.assertEqual(self.cli("iam", "get-policy", "--policy-arn", OPS)["Policy"]["DefaultVersionId"], "v1")
        vs = [v["VersionId"] for v in self.cli("iam", "list-policy-versions", "--policy-arn", OPS)["Versions"]]
        self.assertIn("v3", vs)
        self.again_writes_nothing(ev)

    def test_set_default_policy_version_undecided_writes_nothing_to_the_policy(self):
        self.seed()
        res = self.run_fn(trigger("SetDefaultPolicyVersion", {"policyArn": OPS, "versionId": "v3"}))
        self.assertTrue(res.ok, res)
        self.assertEqual(self.cli("iam", "get-policy", "--policy-arn", OPS)["Policy"]["DefaultVersionId"], "v3")
        self.assertNotIn("iam:SetDefaultPolicyVersion", self.writes())
        self.assertTrue(any("human" in w for w in res.report.get("warnings", [])))

    def test_update_assume_role_policy(self):
        hist = [record("CreateRole", {"roleName": "app", "assumeRolePolicyDocument": compact(TRUST_OLD)}, resource="app")]
        self.seed(app_trust=TRUST_BAD, history=hist)
        ev = trigger("UpdateAssumeRolePolicy", {"roleName": "app", "policyDocument": compact(TRUST_BAD)})
        res = self.run_fn(ev)
        self.assertTrue(res.ok, res)
        self.assertEqual(self.cli("iam", "get-role", "--role-name", "app")["Role"]["AssumeRolePolicyDocument"], TRUST_OLD)
        self.again_writes_nothing(ev)

    def test_create_access_key_for_someone_else(self):
        kn = "AKIABOBNEWKEY0000001"
        self.seed(bob_keys=[{"AccessKeyId": kn}])
        ev = trigger("CreateAccessKey", {"userName": "bob"},
                     response={"accessKey": {"accessKeyId": kn, "status": "Active", "userName": "bob"}})
        res = self.run_fn(ev)
        self.assertTrue(res.ok, res)
        self.assertEqual(self.key_status("bob"), {KB: "Active", kn: "Inactive"})
        self.again_writes_nothing(ev)

    def test_add_user_to_group_aws_sample(self):
        sample = fbtest.reference("iam-addusertogroup.cloudtrail-logfile.ct-guide.json")
        if sample is None:
            self.skipTest("reference events absent")
        rec = sample["Records"][0]
        rec["userIdentity"]["accountId"] = A
        rec["userIdentity"]["arn"] = ALICE
        rec["userIdentity"]["accessKeyId"] = "AKIAALICEKEY00000001"
        rec["requestParameters"]["userName"] = "bob"
        rec["recipientAccountId"] = A
        self.seed(bob_groups=["admin"])
        res = self.run_fn(fbtest.eventbridge_wrap(rec, source="aws.iam"))
        self.assertTrue(res.ok, res)
        self.assertEqual(self.cli("iam", "list-groups-for-user", "--user-name", "bob")["Groups"], [])

    def test_login_profile_created(self):
        self.seed(bob_login=True)
        res = self.run_fn(trigger("CreateLoginProfile", {"userName": "bob"}))
        self.assertTrue(res.ok, res)
        self.assertIn("error", self.cli("iam", "get-login-profile", "--user-name", "bob"))

    # ---- must hold ---------------------------------------------------------------------

    def test_trusted_actor_reported_not_reverted(self):
        self.seed(attached=True)
        res = self.run_fn(trigger("AttachUserPolicy", {"userName": "mallory", "policyArn": ADMIN}),
                          FIREBREAK_TRUSTED_PRINCIPALS=MAL)
        self.assertTrue(res.ok, res)
        self.assertEqual(self.writes(), [])
        self.assertIn("trusted", res.report["verdict"])

    def test_own_writes_do_not_trigger(self):
        self.seed()
        me = self.fake.client("sts").get_caller_identity()["Arn"] if hasattr(self.fake, "client") else None
        if not me:
            import botocore.session
            me = botocore.session.get_session().create_client(
                "sts", region_name="us-east-1", endpoint_url=self.fake.url, aws_access_key_id="AKIDFAKE",
                aws_secret_access_key="fakesecret").get_caller_identity()["Arn"]
        self.fake.reset_calls()
        res = self.run_fn(trigger("PutRolePolicy", {"roleName": "intruder", "policyName": "AWSRevokeOlderSessions",
                                                    "policyDocument": compact(DOC_OLD)}, actor=me))
        self.assertTrue(res.ok, res)
        self.assertEqual(self.writes(), [])

    def test_dry_run_plans_every_write(self):
        self.seed(attached=True)
        ev = trigger("AttachUserPolicy", {"userName": "mallory", "policyArn": ADMIN})
        res = self.run_fn(ev, FIREBREAK_DRY_RUN="true")
        self.assertTrue(res.ok, res)
        self.assertEqual(self.writes(), [])
        planned = [a["step"] for a in res.report["actions"] if a["status"] == "planned"]
        for s in ("deactivate-key", "quarantine-policy", "revert"):
            self.assertIn(s, planned)

    def test_root_is_reported_not_contained(self):
        self.seed(attached=True)
        ev = trigger("AttachUserPolicy", {"userName": "mallory", "policyArn": ADMIN})
        ev["detail"]["userIdentity"] = {"type": "Root", "arn": "arn:aws:iam::%s:root" % A, "accountId": A}
        res = self.run_fn(ev)
        self.assertTrue(res.ok, res)
        self.assertEqual(self.key_status("mallory")[K1], "Active")
        self.assertEqual(self.writes(), ["iam:DetachUserPolicy"])

    def test_bad_input_zero_calls(self):
        self.seed()
        bad = [trigger("PutUserPolicy", {"userName": "bob", "policyName": "s3", "policyDocument": "{not json"}),
               trigger("AttachUserPolicy", {"userName": "bob", "policyArn": "arn:aws:s3:::bucket"}),
               trigger("AttachUserPolicy", {"userName": "bob/../x", "policyArn": ADMIN}),
               {"principal": "arn:aws:iam::1:user/x", "reason": "r"},
               {"source": "aws.kms", "detail-type": "AWS API Call via CloudTrail", "detail": {}}]
        big = trigger("PutUserPolicy", {"userName": "bob", "policyName": "s3",
                                        "policyDocument": compact({"Statement": [], "x": "a" * 140000})})
        bad.append(big)
        for ev in bad:
            res = self.run_fn(ev)
            self.assertFalse(res.ok, res)
            self.assertEqual(res.error_type, "Firebreak.InvalidEvent", res)
        self.assertEqual([c for c in self.fake.calls() if c.get("operation") != "GetCallerIdentity"], [])

    def test_own_identity_unknown_writes_nothing(self):
        # without sts:GetCallerIdentity firebreak cannot tell its own writes
        # apart: an error result (Lambda retries), no write
        self.seed(attached=True)
        self.fake.faults({"service": "sts", "operation": "GetCallerIdentity", "kind": "error", "status": 500})
        res = self.run_fn(trigger("AttachUserPolicy", {"userName": "mallory", "policyArn": ADMIN}))
        self.fake.faults({"clear": True})
        self.assertFalse(res.ok, res)
        self.assertEqual(res.error_type, "Firebreak.ContainmentFailed")
        self.assertEqual(self.writes(), [])
        self.assertEqual(step(res.report, "own-identity")[0]["status"], "failed")

    def test_failed_call_skipped(self):
        self.seed()
        ev = trigger("AttachUserPolicy", {"userName": "mallory", "policyArn": ADMIN})
        ev["detail"]["errorCode"] = "AccessDenied"
        res = self.run_fn(ev)
        self.assertTrue(res.ok, res)
        self.assertEqual(self.writes(), [])

    def test_manual_form(self):
        self.seed()
        res = self.run_fn({"principal": MAL, "reason": "drill", "dryRun": False})
        self.assertTrue(res.ok, res)
        self.assert_user_contained(res.report)

    def test_guardduty_access_key_finding(self):
        sample = fbtest.reference("guardduty-finding-iam-accesskey-toripcaller.eventbridge.c7n.json")
        if sample is None:
            self.skipTest("reference events absent")
        sample["account"] = A
        sample["detail"]["accountId"] = A
        sample["detail"]["resource"]["accessKeyDetails"]["userName"] = "mallory"
        sample["detail"]["resource"]["accessKeyDetails"]["accessKeyId"] = K1
        self.seed()
        res = self.run_fn(sample)
        self.assertTrue(res.ok, res)
        self.assert_user_contained(res.report)

    def gd(self, ftype, role):
        sample = fbtest.reference("guardduty-finding-iam-accesskey-toripcaller.eventbridge.c7n.json")
        if sample is None:
            self.skipTest("reference events absent")
        sample["account"] = A
        sample["detail"].update(accountId=A, type=ftype, severity=8)
        sample["detail"]["resource"]["accessKeyDetails"].update(userType="AssumedRole", userName=role,
                                                                accessKeyId="ASIAEXAMPLETEMPKEY02")
        return sample

    def test_guardduty_compute_role_exfiltration_revoked_with_blast_radius(self):
        self.seed()
        res = self.run_fn(self.gd("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", "app"))
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["blast_radius"], "ec2.amazonaws.com")
        self.assertIn("aws:TokenIssueTime", json.dumps(self.cli("iam", "get-role-policy", "--role-name", "app",
                                                                "--policy-name", "AWSRevokeOlderSessions")))
        # the setting turns it off; another finding type on a compute role: reported only
        self.seed()
        for ev, env in ((self.gd("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", "app"),
                         {"FIREBREAK_IAM_REVOKE_COMPUTE_ROLES": "false"}),
                        (self.gd("UnauthorizedAccess:IAMUser/MaliciousIPCaller", "app"), {})):
            res = self.run_fn(ev, **env)
            self.assertTrue(res.ok, res)
            self.assertEqual(step(res.report, "revoke-sessions")[0]["status"], "skipped")
        self.assertEqual(self.writes(), [])

    def test_group_policy_put_and_attach(self):
        self.seed()
        self.cli("iam", "put-group-policy", "--group-name", "admin", "--policy-name", "x",
                 "--policy-document", compact(DOC_BAD))
        self.fake.reset_calls()
        res = self.run_fn(trigger("PutGroupPolicy", {"groupName": "admin", "policyName": "x",
                                                     "policyDocument": compact(DOC_BAD)}))
        self.assertTrue(res.ok, res)
        self.assertIn("error", self.cli("iam", "get-group-policy", "--group-name", "admin", "--policy-name", "x"))
        res = self.run_fn(trigger("AttachGroupPolicy", {"groupName": "admin", "policyArn": ADMIN}))
        self.assertTrue(res.ok, res)
        self.assertEqual(self.cli("iam", "list-attached-group-policies", "--group-name", "admin")["AttachedPolicies"], [])

    def test_deleted_boundary_put_back(self):
        boundary = "arn:aws:iam::%s:policy/boundary" % A
        hist = [record("CreateUser", {"userName": "bob", "permissionsBoundary": boundary}, resource="bob")]
        self.seed(history=hist)
        ev = trigger("DeleteUserPermissionsBoundary", {"userName": "bob"})
        res = self.run_fn(ev)
        self.assertTrue(res.ok, res)
        self.assertEqual(self.cli("iam", "get-user", "--user-name", "bob")["User"]["PermissionsBoundary"]
                         ["PermissionsBoundaryArn"], boundary)
        self.again_writes_nothing(ev)

    def test_inline_quota_full_falls_back_to_managed_deny_all(self):
        self.seed()
        # mallory filled her own 2,048-character inline quota
        self.cli("iam", "put-user-policy", "--user-name", "mallory", "--policy-name", "filler", "--policy-document",
                 compact({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                                   "Resource": "arn:aws:s3:::" + "b" * 1900}]}))
        self.fake.reset_calls()
        res = self.run_fn({"principal": MAL, "reason": "drill"})
        self.assertTrue(res.ok, res)
        arns = [p["PolicyArn"] for p in self.cli("iam", "list-attached-user-policies", "--user-name", "mallory")["AttachedPolicies"]]
        self.assertIn("arn:aws:iam::aws:policy/AWSDenyAll", arns)


if __name__ == "__main__":
    t0 = time.time()
    try:
        fbtest.main([IamContain])
    finally:
        print("wall time %.1f s" % (time.time() - t0), file=sys.stderr)
