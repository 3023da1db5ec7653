#!/usr/bin/python3
# runs-in: 81-sanitizers (make test runs this suite once, against the ASan+UBSan build)
"""public-lock against tests/fakeaws, run through the local Lambda emulator.

Oracles: the real AWS CLI (/usr/bin/aws --endpoint-url) reads the bucket's
block, policy and ACL back; S3 Control's account block is read with botocore
(the CLI puts the account in the host, which 127.0.0.1 cannot resolve:
inject_host_prefix off); restore[] entries are applied with botocore and
must bring the prior state back. Published samples: the FSBP S3.8 / S3.2 /
S3.3 findings (events/public-lock/README.md). One fake for every case,
reseeded between cases. Prints "N passed, N failed".
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
EV = os.path.join(ROOT, "events/public-lock")
FN = "public-lock"
ACCT = fbtest.ACCOUNT
TOPIC = "arn:aws:sns:us-east-1:111111111111:firebreak"
ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                  "Resource": "arn:aws:s3:::web-assets/*"}]}
MALLORY = "arn:aws:iam::111111111111:user/mallory"


def event(name):
    with open(os.path.join(EV, name)) as f:
        return json.load(f)


def world(bucket="web-assets", policy=POLICY, acl="private", pab=None, tags=None, account_pab=None, records=None):
    b = {"name": bucket, "acl": acl}
    if policy is not None:
        b["policy"] = policy
    if pab is not None:
        b["public_access_block"] = pab
    if tags is not None:
        b["tags"] = tags
    return {"s3": {"buckets": [b]}, "sns": {"topics": [TOPIC]},
            "s3control": {"public_access_block": {ACCT: account_pab} if account_pab else {}},
            "cloudtrail": {"records": records or []}}


class PublicLock(unittest.TestCase):
    fake = None

    @classmethod
    def setUpClass(cls):
        cls.fake = fbtest.Fake(world()).start()

        cls._clients = {}

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def setup_world(self, **kw):
        self.fake.reset()
        self.fake.seed(world(**kw))
        self.fake.reset_calls()

    def run_fn(self, ev, env=None):
        e = {"FIREBREAK_TOPIC_ARN": TOPIC,
             "FIREBREAK_TRUSTED_PRINCIPALS": "arn:aws:iam::111111111111:role/iac-deploy"}
        e.update(env or {})
        return fbtest.invoke(FN, ev, self.fake, env=e)

    def cli(self, *args):
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDFAKE", AWS_SECRET_ACCESS_KEY="fakesecret",
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
        p = subprocess.run(["/usr/bin/aws", "--endpoint-url", self.fake.url, "--output", "json"] + list(args),
                           capture_output=True, env=env, timeout=30)
        return p.returncode, (json.loads(p.stdout) if p.stdout.strip() else None), p.stderr.decode()

    _clients = {}

    def botocore(self, service):
        import botocore.config
        import botocore.session
        if service in self._clients:
            return self._clients[service]
        c = botocore.session.get_session().create_client(
            service, region_name="us-east-1", endpoint_url=self.fake.url, aws_access_key_id="AKIDFAKE",
            aws_secret_access_key="fakesecret", config=botocore.config.Config(s3={"addressing_style": "path"}))
        if service == "s3control":
            # botocore 1.29 puts the account in the host even with an endpoint
            # URL; 127.0.0.1 has no such subdomain: take it out before signing
            def unprefix(request, **kw):
                request.url = request.url.replace("//%s." % ACCT, "//", 1)
            c.meta.events.register("before-sign.s3-control", unprefix)
        self._clients[service] = c
        return c

    def block(self, bucket="web-assets"):
        """botocore (fast); cli_block() is the AWS CLI for the main cases."""
        try:
            return self.botocore("s3").get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        except Exception as e:  # botocore.exceptions.ClientError
            self.assertIn("NoSuchPublicAccessBlockConfiguration", str(e))
            return None

    def cli_block(self, bucket="web-assets"):
        rc, out, err = self.cli("s3api", "get-public-access-block", "--bucket", bucket)
        if rc:
            self.assertIn("NoSuchPublicAccessBlockConfiguration", err)
            return None
        return out["PublicAccessBlockConfiguration"]

    def writes(self):
        return [(c["service"], c["operation"]) for c in fbtest.writes(self.fake.calls())]

    def apply_restore(self, report):
        for entry in report["restore"]:
            svc, op = entry["api"].split(":")
            c = self.botocore(svc)
            getattr(c, {v: k for k, v in c.meta.method_to_api_mapping.items()}[op])(**entry["args"])

    # ---- bucket level ------------------------------------------------------------

    def test_public_policy_locked_restore_and_second_delivery(self):
        self.setup_world()
        res = self.run_fn(event("put-bucket-policy.json"))
        self.assertTrue(res.ok, res.raw)
        rep = res.report
        self.assertEqual(rep["verdict"], "contained")
        self.assertEqual(self.writes(), [("s3", "PutPublicAccessBlock")])
        self.assertEqual(self.cli_block(), ALL_ON)                 # oracle: the AWS CLI
        rc, out, _ = self.cli("s3api", "get-bucket-policy", "--bucket", "web-assets")
        self.assertEqual(rc, 0)                                    # the policy is left as evidence
        self.assertEqual(json.loads(out["Policy"]), POLICY)
        steps = {s["step"]: s for s in rep["actions"]}
        self.assertEqual(steps["lock-bucket"]["status"], "done")
        self.assertEqual(steps["confirm-block"]["status"], "done")
        self.assertEqual(rep["restore"], [{"api": "s3:DeletePublicAccessBlock", "args": {"Bucket": "web-assets"}}])
        self.assertEqual(rep["buckets"][0]["exposure"], "public")
        # a second delivery: already, no write
        self.fake.reset_calls()
        res2 = self.run_fn(event("put-bucket-policy.json"))
        self.assertTrue(res2.ok, res2.raw)
        self.assertEqual(res2.report["verdict"], "already-contained")
        self.assertEqual(self.writes(), [])
        # the restore entry undoes it exactly
        self.apply_restore(rep)
        self.assertIsNone(self.block())

    def test_public_acl_with_prior_partial_block(self):
        prior = {"BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": True,
                 "RestrictPublicBuckets": False}
        self.setup_world(policy=None, acl="public-read", pab=prior)
        res = self.run_fn(event("put-bucket-acl.json"))
        self.assertTrue(res.ok, res.raw)
        self.assertEqual(res.report["verdict"], "contained")
        self.assertIn("AllUsers:READ", res.report["buckets"][0]["acl_public_grants"])
        self.assertEqual(res.report["restore"][0]["api"], "s3:PutPublicAccessBlock")
        self.assertEqual(self.block(), ALL_ON)
        rc, out, _ = self.cli("s3api", "get-bucket-acl", "--bucket", "web-assets")
        self.assertTrue(any(g["Grantee"].get("URI", "").endswith("AllUsers") for g in out["Grants"]))
        self.apply_restore(res.report)
        self.assertEqual(self.cli_block(), prior)

    def test_not_public_is_skipped(self):
        self.setup_world(policy=None)
        res = self.run_fn(event("delete-bucket-public-access-block.json"))
        self.assertTrue(res.ok, res.raw)
        self.assertTrue(res.report["verdict"].startswith("skipped: not public"), res.report["verdict"])
        self.assertEqual(self.writes(), [])

    def test_blocked_by_account_setting_is_skipped(self):
        self.setup_world(account_pab={"RestrictPublicBuckets": True, "IgnorePublicAcls": True})
        res = self.run_fn(event("put-bucket-policy.json"))
        self.assertTrue(res.ok, res.raw)
        self.assertIn("ineffective", res.report["verdict"])
        self.assertEqual(self.writes(), [])

    def test_dry_run_plans(self):
        self.setup_world()
        res = self.run_fn(event("manual-dry-run.json"))
        self.assertTrue(res.ok, res.raw)
        steps = {s["step"]: s for s in res.report["actions"]}
        self.assertEqual(steps["lock-bucket"]["status"], "planned")
        self.assertEqual(len(res.report["restore"]), 1)
        self.assertEqual(self.writes(), [])
        self.assertIsNone(self.block())

    def test_trusted_actor_and_own_write_make_no_call(self):
        self.setup_world()
        for name, want in (("trusted-actor.json", "trusted actor"), ("own-write-all-on.json", "every setting on")):
            self.fake.reset_calls()
            res = self.run_fn(event(name), env={"FIREBREAK_TRUSTED_PRINCIPALS": "arn:aws:iam::111111111111:role/iac-deploy"})
            self.assertTrue(res.ok, res.raw)
            self.assertIn(want, res.report["verdict"])
            self.assertEqual([c for c in self.fake.calls() if c["service"] in ("s3", "s3control")], [])
        self.assertIsNone(self.block())

    def test_public_ok_honoured_reported_not_locked(self):
        # manual run, tag with no change in CloudTrail's 90 days: honoured
        self.setup_world(tags={"firebreak:public-ok": "true"})
        res = self.run_fn(event("manual.json"))
        self.assertTrue(res.ok, res.raw)
        self.assertIn("intended public", res.report["verdict"])
        self.assertEqual(res.report["buckets"][0]["exemption"]["verdict"], "honoured")
        self.assertEqual(self.writes(), [])

    def test_public_ok_set_by_attacker_is_ignored(self):
        rec = {"eventVersion": "1.09", "userIdentity": {"type": "IAMUser", "arn": MALLORY, "accountId": ACCT},
               "eventTime": "2026-12-07T00:58:00Z", "eventSource": "s3.amazonaws.com", "eventName": "PutBucketTagging",
               "awsRegion": "us-east-1", "eventID": "tag-1", "recipientAccountId": ACCT,
               "requestParameters": {"bucketName": "web-assets", "tagging": "",
                                     "Tagging": {"TagSet": {"Tag": {"Key": "firebreak:public-ok", "Value": "true"}}}},
               "resources": [{"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::web-assets"}]}
        trig = copy.deepcopy(event("put-bucket-policy.json"))
        trec = dict(trig["detail"], resources=[{"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::web-assets"}])
        self.setup_world(tags={"firebreak:public-ok": "true"}, records=[rec, trec])
        res = self.run_fn(trig)
        self.assertTrue(res.ok, res.raw)
        self.assertEqual(res.report["verdict"], "contained")
        ex = res.report["buckets"][0]["exemption"]
        self.assertEqual(ex["verdict"], "ignored", ex)
        self.assertEqual(self.block(), ALL_ON)

    def test_security_hub_samples(self):
        self.setup_world(bucket="example", acl="public-read-write", policy=None)
        res = self.run_fn(event("securityhub-s3.8-failed.json"))
        self.assertTrue(res.ok, res.raw)
        self.assertEqual(res.report["verdict"], "contained")
        self.assertEqual(res.report["control"], "S3.8")
        self.assertEqual(self.block("example"), ALL_ON)
        for name in ("securityhub-s3.2-passed.json", "securityhub-s3.3-passed.json"):
            self.fake.reset_calls()
            res = self.run_fn(event(name))
            self.assertTrue(res.ok, res.raw)
            self.assertTrue(res.report["verdict"].startswith("skipped"), res.report["verdict"])
            self.assertEqual([c for c in self.fake.calls() if c["service"] in ("s3", "s3control")], [])

    def test_bad_input_no_call(self):
        self.setup_world()
        for name in ("invalid-crafted-bucket.json", "invalid-s3-guide-putbucketacl-no-bucket.json",
                     "invalid-manual-empty.json"):
            self.fake.reset_calls()
            res = self.run_fn(event(name))
            self.assertFalse(res.ok, name)
            self.assertEqual(res.error_type, "Firebreak.InvalidEvent", res.raw)
            self.assertEqual(self.fake.calls(), [])

    def test_write_failure_is_an_error_with_restore(self):
        self.setup_world()
        self.fake.faults({"kind": "access_denied", "service": "s3", "operation": "PutPublicAccessBlock", "count": 1})
        res = self.run_fn(event("manual.json"))
        self.assertFalse(res.ok, res.raw)
        self.assertEqual(res.error_type, "Firebreak.ContainmentFailed")
        self.assertEqual(len(res.report["restore"]), 1)
        self.assertIsNone(self.block())

    # ---- account level --------------------------------------------------------------

    def test_account_block_put_back(self):
        prior = {"BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
                 "RestrictPublicBuckets": False}
        s3c = self.botocore("s3control")
        for name, acct_pab, want_restore in (("delete-account-public-access-block.json", None,
                                              "s3control:DeletePublicAccessBlock"),
                                             ("put-account-public-access-block-off.json", prior,
                                              "s3control:PutPublicAccessBlock")):
            self.setup_world(account_pab=acct_pab)
            res = self.run_fn(event(name))
            self.assertTrue(res.ok, res.raw)
            self.assertEqual(res.report["verdict"], "contained")
            self.assertEqual(self.writes(), [("s3control", "PutPublicAccessBlock")])
            got = s3c.get_public_access_block(AccountId=ACCT)["PublicAccessBlockConfiguration"]
            self.assertEqual(got, ALL_ON)
            self.assertEqual(res.report["restore"][0]["api"], want_restore)
            self.fake.reset_calls()
            again = self.run_fn(event(name))
            self.assertEqual(again.report["verdict"], "already-contained")
            self.assertEqual(self.writes(), [])
            self.apply_restore(res.report)
            if acct_pab is None:
                self.assertNotIn(ACCT, self.fake.state()["s3control"]["public_access_block"])
            else:
                self.assertEqual(s3c.get_public_access_block(AccountId=ACCT)["PublicAccessBlockConfiguration"],
                                 prior)


if __name__ == "__main__":
    fbtest.main([PublicLock])
