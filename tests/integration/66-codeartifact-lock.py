#!/usr/bin/python3
# runs-in: 81-sanitizers (make test runs this suite once, against the ASan+UBSan build)
"""codeartifact-lock against tests/fakeaws, run through the local Lambda emulator.

State is read back with the real AWS CLI (codeartifact
get-domain-permissions-policy / get-repository-permissions-policy, iam
get-role-policy) and the report's restore[] entries are applied with the
CLI too. One fake for the whole file, re-seeded per case. Prints "N passed,
N failed".
"""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import fbtest  # noqa: E402

FN = "codeartifact-lock"
ACCT = "111111111111"
OTHER = "222222222222"
DOMAIN = "acme"
DOMAIN_ARN = "arn:aws:codeartifact:us-east-1:%s:domain/%s" % (ACCT, DOMAIN)
MALLORY = "arn:aws:iam::%s:user/mallory" % ACCT
CI_ROLE = "arn:aws:iam::%s:role/ci-build" % ACCT
FN_ROLE = "arn:aws:iam::%s:role/firebreak-codeartifact-lock" % ACCT
FN_KEY = "AKIDFNROLE"

DOMAIN_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "OrgRead", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCT},
     "Action": ["codeartifact:GetAuthorizationToken", "codeartifact:ReadFromRepository"], "Resource": "*",
     "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}},
    {"Sid": "NoDelete", "Effect": "Deny", "Principal": "*", "Action": "codeartifact:DeleteDomain",
     "Resource": "*"}]}


def repo_policy(principal, sid="Grant"):
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": principal},
         "Action": ["codeartifact:ReadFromRepository", "codeartifact:PublishPackageVersion"], "Resource": "*"}]}


def world(domain_policy=DOMAIN_POLICY, bump=0, repo_bump=0):
    return {
        "credentials": [{"access_key_id": FN_KEY, "secret_access_key": "fnsecret", "account": ACCT,
                         "arn": "arn:aws:sts::%s:assumed-role/firebreak-codeartifact-lock/fn" % ACCT}],
        "roles": [{"arn": CI_ROLE}, {"arn": FN_ROLE}],
        "codeartifact": {"domains": [{
            "name": DOMAIN, "policy": domain_policy, "bump_on_get": bump,
            "repositories": [
                # grants through the account root: locked
                {"name": "npm-store", "policy": repo_policy("arn:aws:iam::%s:root" % ACCT), "bump_on_get": repo_bump},
                # grants someone else: untouched
                {"name": "pypi-store", "policy": repo_policy("arn:aws:iam::%s:user/bob" % ACCT)},
                # grants everyone: locked
                {"name": "public-mirror", "policy": repo_policy("*", "Everyone")},
                # no policy: untouched
                {"name": "scratch"}]}]},
        "sns": {"topics": ["arn:aws:sns:us-east-1:%s:firebreak" % ACCT]},
    }


def cli(fake, *args, key="AKIDFAKE", secret="fakesecret"):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    p = subprocess.run(["/usr/bin/aws", "--endpoint-url", fake.url, "--output", "json"] + list(args),
                       capture_output=True, text=True, env=env, timeout=60)
    if p.returncode != 0:
        raise AssertionError("aws %s: %s" % (" ".join(args[:2]), p.stderr))
    return json.loads(p.stdout) if p.stdout.strip() else None


_clients = {}


def client(fake, service):
    """botocore in-process (the CLI takes ~1 s a call): most reads."""
    import botocore.session
    key = (fake.url, service)
    if key not in _clients:
        _clients[key] = botocore.session.get_session().create_client(
            service, region_name="us-east-1", endpoint_url=fake.url, aws_access_key_id="AKIDFAKE",
            aws_secret_access_key="fakesecret")
    return _clients[key]


def domain_doc(fake, oracle=False):
    """The domain policy (None: no policy); `oracle`: read with the AWS CLI."""
    st = fake.state()["codeartifact"]["domains"][0]["policy"]
    if st is None:
        return None
    if oracle:
        out = cli(fake, "codeartifact", "get-domain-permissions-policy", "--domain", DOMAIN)
    else:
        out = client(fake, "codeartifact").get_domain_permissions_policy(domain=DOMAIN)
    return json.loads(out["policy"]["document"])


def repo_doc(fake, repo, oracle=False):
    if oracle:
        out = cli(fake, "codeartifact", "get-repository-permissions-policy", "--domain", DOMAIN,
                  "--repository", repo)
    else:
        out = client(fake, "codeartifact").get_repository_permissions_policy(domain=DOMAIN, repository=repo)
    return json.loads(out["policy"]["document"])


def denies(doc, principal):
    return [s for s in doc["Statement"] if s.get("Effect") == "Deny" and s.get("Sid", "").startswith(
        "FirebreakCodeArtifactLock") and s.get("Principal") == {"AWS": principal}
        and s.get("Action") == "codeartifact:*"]


def manual(principal=MALLORY, **kw):
    ev = {"domain": DOMAIN, "principal": principal}
    ev.update(kw)
    return ev


ENV = {"FIREBREAK_TOPIC_ARN": "arn:aws:sns:us-east-1:%s:firebreak" % ACCT}


class CodeArtifactLock(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = fbtest.Fake(world()).start()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def setUp(self):
        self.fake.seed(world())
        self.fake.reset_calls()

    def run_fn(self, event, **env):
        e = dict(ENV)
        e.update(env)
        self.fake.reset_calls()
        return fbtest.invoke(FN, event, self.fake, env=e)

    def test_lock_merges_keeps_every_statement_and_restores(self):
        res = self.run_fn(manual())
        self.assertTrue(res.ok, res)
        rep = res.report
        self.assertTrue(rep["verdict"].startswith("contained"), rep["verdict"])
        self.assertIn("2 repositories", rep["verdict"])
        w = fbtest.writes(self.fake.calls())
        self.assertEqual(sorted(fbtest.ops(w)), ["codeartifact:PutDomainPermissionsPolicy"] +
                         ["codeartifact:PutRepositoryPermissionsPolicy"] * 2)
        # the domain: both old statements, byte for byte, plus one Deny; the
        # revision read was sent
        doc = domain_doc(self.fake, oracle=True)
        self.assertEqual(doc["Statement"][:2], DOMAIN_POLICY["Statement"])
        self.assertEqual(len(doc["Statement"]), 3)
        self.assertEqual(len(denies(doc, MALLORY)), 1)
        put = [c for c in w if c["operation"] == "PutDomainPermissionsPolicy"][0]
        self.assertIn("policyRevision", put["params"])
        # repositories: the two that grant it (root, "*") got the Deny, the others nothing
        self.assertEqual(len(denies(repo_doc(self.fake, "npm-store", oracle=True), MALLORY)), 1)
        self.assertEqual(len(denies(repo_doc(self.fake, "public-mirror"), MALLORY)), 1)
        self.assertEqual(repo_doc(self.fake, "pypi-store"), repo_policy("arn:aws:iam::%s:user/bob" % ACCT))
        self.assertEqual(sorted(c["params"]["repository"] for c in w if "repository" in c["params"]),
                         ["npm-store", "public-mirror"])
        # the user: no session revocation (said why), the token note
        rv = [a for a in rep["actions"] if a["step"] == "revoke-sessions"][0]
        self.assertEqual(rv["status"], "skipped")
        self.assertIn("iam-contain", rv["detail"])
        self.assertIn("cannot be revoked one by one", rep["tokens"]["note"])
        self.assertIn("12 hours", rep["tokens"]["note"])
        self.assertTrue(rep["tokens"]["last_expiry_by"].endswith("Z"))
        # restore[]: the prior documents, recorded first, applied with the CLI
        self.assertEqual(len(rep["restore"]), 3)
        # (the domain's with the CLI, the repositories' with botocore: both take the args as they are)
        for e in rep["restore"]:
            api = e["api"].split(":")[1]
            if api == "PutDomainPermissionsPolicy":
                cli(self.fake, "codeartifact", "put-domain-permissions-policy", "--cli-input-json",
                    json.dumps(e["args"]))
            else:
                self.assertEqual(api, "PutRepositoryPermissionsPolicy")
                client(self.fake, "codeartifact").put_repository_permissions_policy(**e["args"])
        self.assertEqual(domain_doc(self.fake, oracle=True), DOMAIN_POLICY)
        self.assertEqual(repo_doc(self.fake, "npm-store"), repo_policy("arn:aws:iam::%s:root" % ACCT))
        self.assertEqual(repo_doc(self.fake, "public-mirror"), repo_policy("*", "Everyone"))

    def test_second_delivery_is_already_and_dry_run_plans(self):
        ev = manual()
        self.assertTrue(self.run_fn(ev).ok)
        res = self.run_fn(ev)
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["verdict"], "already-contained")
        self.assertEqual(fbtest.writes(self.fake.calls()), [])
        self.assertEqual(len(denies(domain_doc(self.fake), MALLORY)), 1)
        # dry run: every read, every write planned with its undo, none sent
        self.fake.seed(world())
        res = self.run_fn(manual(dryRun=True))
        self.assertTrue(res.ok, res)
        self.assertEqual(sorted(a["step"] for a in res.report["actions"] if a["status"] == "planned"),
                         ["lock-domain", "lock-repository", "lock-repository"])
        self.assertEqual(len(res.report["restore"]), 3)
        self.assertEqual(fbtest.writes(self.fake.calls()), [])
        self.assertEqual(domain_doc(self.fake), DOMAIN_POLICY)
        self.assertIn("if it were contained now", res.report["tokens"]["note"])

    def test_conflict_rereads_merges_again_and_keeps_the_other_write(self):
        # someone else puts the domain and a repository policy right after each is read
        self.fake.seed(world(bump=1, repo_bump=1))
        res = self.run_fn(manual())
        self.assertTrue(res.ok, res)
        self.assertTrue(res.report["verdict"].startswith("contained"), res.report["verdict"])
        puts = [c for c in self.fake.calls() if c["operation"].startswith("Put")]
        self.assertEqual([c["code"] for c in puts if c["params"].get("repository") in (None, "npm-store")].count(
            "ConflictException"), 2)
        doc = domain_doc(self.fake)
        self.assertEqual([s.get("Sid") for s in doc["Statement"]][:3], ["OrgRead", "NoDelete", "SomeoneElse2"])
        self.assertEqual(len(denies(doc, MALLORY)), 1)
        rdoc = repo_doc(self.fake, "npm-store")
        self.assertIn("SomeoneElse1", [s.get("Sid") for s in rdoc["Statement"]])
        self.assertEqual(len(denies(rdoc, MALLORY)), 1)
        lines = [a for a in res.report["actions"] if a["step"] == "lock-domain"]
        self.assertEqual([a["status"] for a in lines], ["failed", "done"])
        self.assertIn("conflict", lines[0]["detail"])
        # the undo is the policy as first read
        self.assertEqual(json.loads(res.report["restore"][0]["args"]["policyDocument"]), DOMAIN_POLICY)

    def test_role_session_denies_the_role_and_revokes_sessions(self):
        res = self.run_fn(manual("arn:aws:sts::%s:assumed-role/ci-build/build-42" % ACCT))
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["denied_as"], CI_ROLE)
        self.assertEqual(len(denies(domain_doc(self.fake), CI_ROLE)), 1)
        rv = [a for a in res.report["actions"] if a["step"] == "revoke-sessions"][0]
        self.assertEqual(rv["status"], "done")
        pol = client(self.fake, "iam").get_role_policy(RoleName="ci-build",
                                                       PolicyName="AWSRevokeOlderSessions")["PolicyDocument"]
        self.assertEqual(pol["Statement"][0]["Effect"], "Deny")
        self.assertIn("aws:TokenIssueTime", json.dumps(pol))

    def test_no_domain_policy_yet_restore_is_delete(self):
        self.fake.seed(world(domain_policy=None))
        res = self.run_fn(manual())
        self.assertTrue(res.ok, res)
        doc = domain_doc(self.fake)
        self.assertEqual(len(doc["Statement"]), 1)
        self.assertEqual(len(denies(doc, MALLORY)), 1)
        self.assertEqual(res.report["restore"][0]["api"], "codeartifact:DeleteDomainPermissionsPolicy")
        cli(self.fake, "codeartifact", "delete-domain-permissions-policy", "--cli-input-json",
            json.dumps(res.report["restore"][0]["args"]))
        self.assertIsNone(domain_doc(self.fake))

    def test_weapons_are_reported_never_denied(self):
        cases = [
            ({}, manual("arn:aws:iam::%s:root" % ACCT), "account root"),
            ({"AWS_ACCESS_KEY_ID": FN_KEY, "AWS_SECRET_ACCESS_KEY": "fnsecret"}, manual(FN_ROLE), "own role"),
            ({}, manual("arn:aws:iam::%s:user/partner-ci" % OTHER), "outside the domain's account"),
            ({"FIREBREAK_TRUSTED_PRINCIPALS": "arn:aws:iam::%s:user/mal*" % ACCT}, manual(), "trusted"),
            ({"FIREBREAK_MEMBER_ROLE": "ci-build"}, manual(CI_ROLE), "member role"),
        ]
        for env, ev, why in cases:
            res = self.run_fn(ev, **env)
            self.assertTrue(res.ok, (why, res))
            self.assertTrue(res.report["verdict"].startswith("skipped"), (why, res.report["verdict"]))
            self.assertIn(why, res.report["verdict"])
            self.assertEqual(fbtest.writes(self.fake.calls()), [], why)
            self.assertEqual(domain_doc(self.fake), DOMAIN_POLICY, why)

    def test_alarm_and_guardduty_triggers(self):
        alarm = json.load(open(os.path.join(fbtest.ROOT, "events", FN, "alarm-token-spike.json")))
        env = {"FIREBREAK_CA_ALARM": alarm["detail"]["alarmName"], "FIREBREAK_CA_DOMAIN": DOMAIN,
               "FIREBREAK_CA_PRINCIPAL": CI_ROLE}
        res = self.run_fn(alarm, **env)
        self.assertTrue(res.ok, res)
        self.assertEqual(len(denies(domain_doc(self.fake), CI_ROLE)), 1)
        # another alarm, or ours back to OK: nothing read, nothing written
        other = json.loads(json.dumps(alarm))
        other["detail"]["alarmName"] = "someone-elses-alarm"
        res = self.run_fn(other, **env)
        self.assertTrue(res.ok and res.report["verdict"].startswith("skipped"), res)
        self.assertEqual(self.fake.calls(), [])
        self.fake.seed(world())
        gd = json.load(open(os.path.join(fbtest.ROOT, "events", FN, "guardduty-codeartifact-user.json")))
        res = self.run_fn(gd)
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["finding"]["id"], gd["detail"]["id"])
        self.assertEqual(len(denies(domain_doc(self.fake), MALLORY)), 1)

    def test_bad_input_is_refused_before_any_call(self):
        for ev in ({"domain": DOMAIN}, {"domain": "Bad_Domain", "principal": MALLORY},
                   {"domain": DOMAIN, "principal": "*"}, {"domain": DOMAIN, "principal": "arn:aws:iam::1:user/x"},
                   {"domain": DOMAIN, "principal": MALLORY, "domainOwner": "12"},
                   {"domain": DOMAIN, "principal": MALLORY, "dryRun": "no"}, {"hello": 1}):
            res = self.run_fn(ev)
            self.assertEqual(res.error_type, "Firebreak.InvalidEvent", (ev, res))
            self.assertEqual(self.fake.calls(), [], ev)

    def test_domain_write_refused_is_an_error_that_says_not_contained(self):
        self.fake.faults({"service": "codeartifact", "operation": "PutDomainPermissionsPolicy",
                          "kind": "access_denied"})
        try:
            res = self.run_fn(manual())
        finally:
            self.fake.faults({"clear": True})
        self.assertFalse(res.ok, res)
        rep = res.report
        self.assertEqual(rep["verdict"], "failed")
        self.assertTrue(rep["tokens"]["note"].startswith("NOT contained"), rep["tokens"])
        self.assertNotIn("last_expiry_by", rep["tokens"])
        line = [a for a in rep["actions"] if a["step"] == "lock-domain"][0]
        self.assertEqual(line["status"], "failed")
        # the repositories were still locked, and their undo recorded
        self.assertEqual(len(denies(repo_doc(self.fake, "npm-store"), MALLORY)), 1)
        self.assertEqual(len(rep["restore"]), 3)

    def test_missing_domain_fails_without_writes(self):
        res = self.run_fn(manual(domain="nope"))
        self.assertFalse(res.ok, res)
        self.assertTrue(res.report["verdict"].startswith("failed"), res.report["verdict"])
        self.assertEqual(fbtest.writes(self.fake.calls()), [])


if __name__ == "__main__":
    fbtest.main([CodeArtifactLock])
