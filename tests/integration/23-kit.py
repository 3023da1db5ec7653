#!/usr/bin/python3
"""The responder kit (runtime/kit.h, issue 17) against tests/fakeaws, with
independent oracles: botocore's paginators and the real AWS CLI read the
same state through their own code.

  - the pager: ListSecrets page by page (MaxResults 1) gives botocore's
    paginated list, complete; with a page cap of 1, one item and
    "complete": false, and the report line says so;
  - structured EC2 input: DescribeSecurityGroups with a Filter list written
    as JSON answers what `aws ec2 describe-security-groups --filters` does;
  - session revocation: the AWSRevokeOlderSessions policy as the CLI reads
    it back; a replay of the same incident is "already" with no
    PutRolePolicy sent; a later incident writes again and its restore[]
    entry holds the prior document, which the CLI puts back; dry run
    plans and sends no write.
Runs build/native/tools/kit_run.
"""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import fbtest  # noqa: E402

import botocore.session  # noqa: E402
from botocore.config import Config  # noqa: E402

ROOT = fbtest.ROOT
TOOL = os.path.join(ROOT, "build", "native", "tools", "kit_run")
ROLE = "arn:aws:iam::111111111111:role/app/app-task"
AWS = "/usr/bin/aws"

with open(os.path.join(ROOT, "tests", "fakeaws", "world-example.json")) as f:
    SEED = json.load(f)
SEED.setdefault("roles", []).append({"arn": ROLE})

FAKE = None


def setUpModule():
    global FAKE
    FAKE = fbtest.Fake(SEED).start()


def tearDownModule():
    FAKE.stop()


def env():
    return dict(os.environ, AWS_ENDPOINT_URL=FAKE.url, AWS_ACCESS_KEY_ID="AKIDFAKE",
                AWS_SECRET_ACCESS_KEY="fakesecret", AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1",
                AWS_MAX_ATTEMPTS="1")


def kit(*args):
    p = subprocess.run([TOOL] + list(args), env=env(), capture_output=True, text=True, timeout=30)
    if not p.stdout.strip():
        raise AssertionError("kit_run %s: rc %d, stderr %s" % (args, p.returncode, p.stderr))
    return p.returncode, json.loads(p.stdout)


def cli(*args):
    p = subprocess.run([AWS, "--endpoint-url", FAKE.url, "--output", "json"] + list(args), env=env(),
                       capture_output=True, text=True, timeout=60)
    if p.returncode:
        raise AssertionError("aws %s: %s" % (" ".join(args), p.stderr))
    return json.loads(p.stdout) if p.stdout.strip() else None


def boto(service):
    s = botocore.session.get_session()
    return s.create_client(service, region_name="us-east-1", endpoint_url=FAKE.url,
                           aws_access_key_id="AKIDFAKE", aws_secret_access_key="fakesecret",
                           config=Config(retries={"max_attempts": 1}))


def line(report, step):
    return next(a for a in report["actions"] if a["step"] == step)


class Pager(unittest.TestCase):
    def test_pages_concatenated_like_botocore(self):
        want = []
        for page in boto("secretsmanager").get_paginator("list_secrets").paginate(PaginationConfig={"PageSize": 1}):
            want += [s["ARN"] for s in page["SecretList"]]
        self.assertGreaterEqual(len(want), 2)
        FAKE.reset_calls()
        rc, rep = kit("step", "secretsmanager", "ListSecrets", '{"MaxResults":1}', "SecretList", "NextToken",
                      "-", "-", "10")
        self.assertEqual(rc, 0)
        self.assertEqual([s["ARN"] for s in rep["kit"]["items"]], want)
        self.assertTrue(rep["kit"]["complete"])
        self.assertEqual(fbtest.ops(FAKE.calls()), ["secretsmanager:ListSecrets"] * len(want))

    def test_cap_reached_is_incomplete(self):
        rc, rep = kit("step", "secretsmanager", "ListSecrets", '{"MaxResults":1}', "SecretList", "NextToken",
                      "-", "-", "1")
        self.assertEqual(rc, 0)
        self.assertEqual(len(rep["kit"]["items"]), 1)
        self.assertFalse(rep["kit"]["complete"])
        self.assertEqual(line(rep, "step")["detail"], "1 item in 1 page (incomplete: page cap reached)")

    def test_structured_ec2_filter_like_the_cli(self):
        groups = cli("ec2", "describe-security-groups")["SecurityGroups"]
        ids = sorted(g["GroupId"] for g in groups)[:2]
        want = sorted(g["GroupId"] for g in cli("ec2", "describe-security-groups", "--filters",
                                                 "Name=group-id,Values=%s" % ",".join(ids))["SecurityGroups"])
        rc, rep = kit("step", "ec2", "DescribeSecurityGroups",
                      json.dumps({"Filter": [{"Name": "group-id", "Value": ids}]}),
                      "securityGroupInfo", "nextToken", "NextToken", "-", "5")
        self.assertEqual(rc, 0)
        self.assertEqual(sorted(g["groupId"] for g in rep["kit"]["items"]), want)
        self.assertEqual(want, ids)


class Revoke(unittest.TestCase):
    def policy(self):
        return cli("iam", "get-role-policy", "--role-name", "app-task",
                   "--policy-name", "AWSRevokeOlderSessions")["PolicyDocument"]

    def test_revoke_replay_newer_restore_and_dry_run(self):
        incident = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
        # dry run: read, plan, no write
        FAKE.reset_calls()
        rc, rep = kit("--dry-run", "revoke", ROLE, incident)
        self.assertEqual((rc, rep["kit"]["status"]), (0, "planned"))
        self.assertEqual(fbtest.writes(FAKE.calls()), [])
        # first revocation
        FAKE.reset_calls()
        rc, rep = kit("revoke", ROLE, incident)
        self.assertEqual((rc, rep["kit"]["status"]), (0, "done"))
        doc = self.policy()
        st = doc["Statement"][0]
        self.assertEqual((st["Effect"], st["Action"], st["Resource"]), ("Deny", "*", "*"))
        cut = st["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
        self.assertGreater(cut, incident)
        self.assertEqual(rep["restore"], [{"api": "iam:DeleteRolePolicy", "args": {
            "RoleName": "app-task", "PolicyName": "AWSRevokeOlderSessions"}}])
        self.assertEqual(fbtest.ops(fbtest.writes(FAKE.calls())), ["iam:PutRolePolicy"])
        # the same incident again: already, nothing written
        FAKE.reset_calls()
        rc, rep = kit("revoke", ROLE, incident)
        self.assertEqual((rc, rep["kit"]["status"]), (0, "already"))
        self.assertEqual(fbtest.writes(FAKE.calls()), [])
        self.assertEqual(rep["restore"], [])
        self.assertEqual(self.policy(), doc)
        # a later incident: written again, the prior document kept for restore
        time.sleep(1.1)
        later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time()))
        rc, rep = kit("revoke", ROLE, later)
        self.assertEqual((rc, rep["kit"]["status"]), (0, "done"))
        self.assertGreater(self.policy()["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"], cut)
        undo = rep["restore"][0]
        self.assertEqual(undo["api"], "iam:PutRolePolicy")
        self.assertEqual(json.loads(undo["args"]["PolicyDocument"]), doc)
        # a human runs the restore entry: the prior cut is back
        cli("iam", "put-role-policy", "--role-name", undo["args"]["RoleName"], "--policy-name",
            undo["args"]["PolicyName"], "--policy-document", undo["args"]["PolicyDocument"])
        self.assertEqual(self.policy(), doc)
        cli("iam", "delete-role-policy", "--role-name", "app-task", "--policy-name", "AWSRevokeOlderSessions")

    def test_service_linked_and_foreign_strings_make_no_call(self):
        FAKE.reset_calls()
        rc, rep = kit("revoke", "arn:aws:iam::111111111111:role/aws-service-role/ecs.amazonaws.com/"
                      "AWSServiceRoleForECS", "2026-01-01T00:00:00Z")
        self.assertEqual(rep["kit"]["status"], "skipped")
        rc, rep = kit("revoke", "arn:aws:iam::111111111111:role/x&Action=DeleteRole", "2026-01-01T00:00:00Z")
        self.assertEqual((rc, rep["kit"]["status"]), (1, "failed"))
        self.assertEqual(FAKE.calls(), [])


if __name__ == "__main__":
    fbtest.main([Pager, Revoke])
