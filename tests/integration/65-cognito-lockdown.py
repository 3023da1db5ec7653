#!/usr/bin/python3
# runs-in: 81-sanitizers (make test runs this suite once, against the ASan+UBSan build)
"""cognito-lockdown against tests/fakeaws, run through the local Lambda emulator.

Oracles: the real AWS CLI (/usr/bin/aws --endpoint-url) lists the users and
reads the MFA configuration and the app client back; the operations the
Debian CLI does not have (the client secret ones) are read from the fake's
state, and the fake's shapes for them are checked against the npm package
@aws-sdk/client-cognito-identity-provider (v3) when it is installed
(FBTEST_NODE_MODULES=<dir holding node_modules>; skipped cleanly without).
Triggers: AWS's published alarm sample adapted to a Cognito metric
(events/cognito-lockdown/README.md) and the manual form. One fake for every
case, reseeded between cases. Prints "N passed, N failed".
"""
import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import fbtest  # noqa: E402

ROOT = fbtest.ROOT
EV = os.path.join(ROOT, "events/cognito-lockdown")
FN = "cognito-lockdown"
ACCT = fbtest.ACCOUNT
TOPIC = "arn:aws:sns:us-east-1:111111111111:firebreak"
BUCKET = "firebreak-evidence"
POOL = "us-east-1_Tr4d1ngP1"
CLIENT = "3n4cl1ent1d7rad1ng00000000"
OLD_SECRET = "oldsecretvalue0123456789abcdefghijklmnopqrstuvwxyzab"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/trading/cognito-AbCdEf"
SERVICES = "prod/trading-web,prod/trading-api"


def event(name):
    with open(os.path.join(EV, name)) as f:
        e = json.load(f)
    if "account" in e:  # the sample's account -> the fake's
        e["account"] = ACCT
    return e


def manual(scope="all", dry=False, **kw):
    e = {"userPoolId": POOL, "clientId": CLIENT, "scope": scope}
    if dry:
        e["dryRun"] = True
    e.update(kw)
    return e


ENV = {"FIREBREAK_TOPIC_ARN": TOPIC, "FIREBREAK_EVIDENCE_BUCKET": BUCKET,
       "FIREBREAK_COGNITO_USER_POOL_ID": POOL, "FIREBREAK_COGNITO_CLIENT_ID": CLIENT,
       "FIREBREAK_COGNITO_SIGNOUT_RPS": "20", "FIREBREAK_COGNITO_SECRET_ARN": SECRET_ARN,
       "FIREBREAK_COGNITO_SECRET_KEY": "client_secret", "FIREBREAK_COGNITO_SERVICES": SERVICES,
       "FIREBREAK_COGNITO_POLL_MS": "50"}


def bucket_of(name):
    h = 2166136261
    for b in name.encode():
        h = ((h ^ b) * 16777619) & 0xffffffff
    return h % 64


def world(users=12, mfa="OFF", totp=None, secrets=(OLD_SECRET,), quota=25, fail=(), settle=0):
    pool = {"Id": POOL, "Name": "trading", "MfaConfiguration": mfa, "user_count": users,
            "users": [{"Username": "alice", "email": "alice@example.com"}, "bob@example.com"],
            "clients": [{"ClientId": CLIENT, "ClientName": "trading-web", "AccessTokenValidity": 30,
                         "IdTokenValidity": 1, "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "hours"},
                         "secrets": list(secrets)}]}
    if totp is not None:
        pool["SoftwareTokenMfaConfiguration"] = {"Enabled": totp}
    svc = [{"cluster": "prod", "serviceName": n} for n in ("trading-web", "trading-api", "unrelated")]
    for x in svc:
        x["settle_after_s"] = settle
    return {"cognito-idp": {"pools": [pool], "signout_rps_quota": quota, "fail_signout": list(fail)},
            "secretsmanager": {"secrets": [{"Name": "prod/trading/cognito", "ARN": SECRET_ARN, "SecretString":
                                            json.dumps({"client_id": CLIENT, "client_secret": OLD_SECRET})}]},
            "ecs": {"clusters": ["prod"], "services": svc},
            "s3": {"buckets": [{"name": BUCKET}]}, "sns": {"topics": [TOPIC]}}


class CognitoLockdown(unittest.TestCase):
    fake = None

    @classmethod
    def setUpClass(cls):
        cls.fake = fbtest.Fake(world()).start()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def setup_world(self, **kw):
        self.fake.reset()
        self.fake.seed(world(**kw))
        self.fake.reset_calls()

    def run_fn(self, ev, env=None, timeout=30):
        e = dict(ENV)
        e.update(env or {})
        return fbtest.invoke(FN, ev, self.fake, env=e, timeout=timeout)

    def cli(self, *args):
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDFAKE", AWS_SECRET_ACCESS_KEY="fakesecret",
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
        p = subprocess.run(["/usr/bin/aws", "--endpoint-url", self.fake.url, "--output", "json"] + list(args),
                           capture_output=True, env=env, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        return json.loads(p.stdout)

    def pool(self):
        return self.fake.state()["cognito-idp"]["pools"][0]

    def writes(self):
        return [(c["service"], c["operation"]) for c in fbtest.writes(self.fake.calls())]

    def steps(self, rep):
        return {s["step"]: s for s in rep["actions"]}

    def consumer_secret(self):
        sec = [x for x in self.fake.state()["secretsmanager"]["secrets"] if x["ARN"] == SECRET_ARN][0]
        return {tuple(v["VersionStages"]): json.loads(v["SecretString"]) for v in sec["versions"]}

    def services(self):
        return {x["serviceName"]: x for x in self.fake.state()["ecs"]["services"]}

    def no_secret_anywhere(self, res):
        values = [s["ClientSecretValue"] for s in self.pool()["clients"][CLIENT]["secrets"]] + [OLD_SECRET]
        for v in values:
            self.assertNotIn(v, res.raw)
            self.assertNotIn(v, res.logs)

    def test_manual_all_signs_everyone_out_rotates_and_raises_p1(self):
        self.setup_world()
        res = self.run_fn(manual())
        rep = res.report
        st = self.steps(rep)
        # every user of the pool, once (the CLI lists them: the oracle of "every")
        names = [u["Username"] for u in self.cli("cognito-idp", "list-users", "--user-pool-id", POOL)["Users"]]
        self.assertEqual(len(names), 14)
        users = self.pool()["users"]
        self.assertEqual(sorted(names), sorted(users))
        for n in names:
            self.assertEqual(users[n]["signouts"], 1, n)
        self.assertEqual(st["sign-out"]["status"], "done", st["sign-out"])
        self.assertEqual(rep["signout"]["signed_out_now"], 14)
        self.assertEqual(rep["signout"]["left"], 0)
        self.assertEqual(self.fake.state()["cognito-idp"]["throttled"], 0)
        # MFA off: P1
        self.assertEqual(rep["severity"], "P1")
        self.assertEqual(rep["mfa"]["enforced"], "no")
        # what global sign-out does not do, with the client's lifetimes (30 minutes, 1 hour)
        self.assertEqual(rep["tokens"]["access_token_validity_s"], 1800)
        self.assertEqual(rep["tokens"]["id_token_validity_s"], 3600)
        self.assertIn("access and ID tokens already issued stay valid until they expire",
                      rep["tokens"]["not_revoked"])
        self.assertIn(rep["tokens"]["last_valid_until"][:13], rep["tokens"]["not_revoked"])
        # rotated: the new secret is the only one, stored in the consumers' secret (its other
        # members kept), their services redeployed and rolled out, then the old one deleted
        self.assertTrue(res.ok, res.raw[:3000])
        sec = self.pool()["clients"][CLIENT]["secrets"]
        self.assertEqual(len(sec), 1)
        self.assertEqual(rep["rotation"]["new_secret_id"], sec[0]["ClientSecretId"])
        self.assertEqual(rep["rotation"]["state"], "rotated")
        for name in ("add-client-secret", "put-secret-value", "delete-old-client-secret"):
            self.assertEqual(st[name]["status"], "done", st[name])
        cs = self.consumer_secret()
        self.assertEqual(cs[("AWSCURRENT",)], {"client_id": CLIENT, "client_secret": sec[0]["ClientSecretValue"]})
        # the CLI reads the consumers' secret back as the app would
        self.assertEqual(json.loads(self.cli("secretsmanager", "get-secret-value", "--secret-id", SECRET_ARN)
                                    ["SecretString"]), cs[("AWSCURRENT",)])
        self.assertEqual(cs[("AWSPREVIOUS",)]["client_secret"], OLD_SECRET)
        svcs = self.services()
        for n in ("trading-web", "trading-api"):
            self.assertEqual(len(svcs[n]["deployments"]), 1, n)
            self.assertGreater(svcs[n]["deployments"][0]["createdAt"], 1700000000, n)
        self.assertEqual(svcs["unrelated"]["deployments"][0]["createdAt"], 1700000000)
        w = self.writes()
        self.assertLess(w.index(("cognito-idp", "AddUserPoolClientSecret")),
                        w.index(("secretsmanager", "PutSecretValue")))
        self.assertLess(w.index(("ecs", "UpdateService")), w.index(("cognito-idp", "DeleteUserPoolClientSecret")))
        # undo entries first: the new secret's deletion (named, no value), the old value back from AWSPREVIOUS
        apis = [r["api"] for r in rep["restore"]]
        self.assertIn("cognito-idp:DeleteUserPoolClientSecret", apis)
        self.assertIn("cognito-idp:AddUserPoolClientSecret", apis)
        self.assertIn("secretsmanager:UpdateSecretVersionStage", apis)
        # its marker is in the evidence bucket
        keys = [b for b in self.fake.state()["s3"]["buckets"] if b["name"] == BUCKET][0]["objects"]
        self.assertTrue(any(k.endswith("/secret-added-" + sec[0]["ClientSecretId"]) for k in keys), keys)
        self.assertTrue(any(k.endswith("/secret-stored-" + sec[0]["ClientSecretId"]) for k in keys), keys)
        # one marker per bucket of users (FNV-1a of the name, 64 buckets: cl_bucket_of)
        marked = {int(m.group(1)) for k in keys for m in [re.search(r"/signout-(\d+)\.done$", k)] if m}
        self.assertEqual(marked, {bucket_of(n) for n in names})
        self.no_secret_anywhere(res)
        # the fingerprint is there instead
        self.assertIn(rep["rotation"]["new_secret_fingerprint"], st["add-client-secret"]["detail"])

    # ---- w4-rst: the undo record (issue 24 s2) ----
    def record(self, incident, attempt=1):
        import base64
        objs = [b for b in self.fake.state()["s3"]["buckets"] if b["name"] == BUCKET][0]["objects"]
        key = "incidents/%s/%srestore.json" % (incident, "attempt-%d/" % attempt if attempt > 1 else "")
        return json.loads(base64.b64decode(objs[key]["body_b64"]))

    def test_undo_record_before_the_first_write_names_every_step_and_no_value(self):
        self.setup_world()
        before = self.consumer_secret()
        old_id = self.pool()["clients"][CLIENT]["secrets"][0]["ClientSecretId"]
        sec0 = [x for x in self.fake.state()["secretsmanager"]["secrets"] if x["ARN"] == SECRET_ARN][0]
        old_version = [v["VersionId"] for v in sec0["versions"] if "AWSCURRENT" in v["VersionStages"]][0]
        res = self.run_fn(manual())
        self.assertTrue(res.ok, res.raw[:3000])
        self.assertEqual(res.report["undo_record"]["state"], "kept", res.report["undo_record"])
        calls = self.fake.calls()
        put = [c["seq"] for c in calls if c["operation"] == "PutObject" and "restore.json" in json.dumps(c)]
        first = min(c["seq"] for c in calls if fbtest.is_write(c) and c["service"] != "s3")
        self.assertTrue(put and put[0] < first, (put, first))
        rec = self.record(res.report["incident_id"])
        self.assertEqual([(e["step"], e["api"]) for e in rec], [
            ("add-client-secret", "cognito-idp:DeleteUserPoolClientSecret"),
            ("put-secret-value", "secretsmanager:UpdateSecretVersionStage"),
            ("sign-out", "cognito-idp:AdminUserGlobalSignOut"),
            ("delete-old-client-secret", "cognito-idp:AddUserPoolClientSecret")])
        self.assertEqual(rec[1]["args"], {"SecretId": SECRET_ARN, "VersionStage": "AWSCURRENT",
                                          "MoveToVersionId": old_version})
        self.assertEqual(rec[3]["args"], {"UserPoolId": POOL, "ClientId": CLIENT, "ClientSecretId": old_id})
        self.assertEqual(rec[2]["args"], {"UserPoolId": POOL, "Scope": "all"})
        text = json.dumps(rec)
        for v in [s["ClientSecretValue"] for s in self.pool()["clients"][CLIENT]["secrets"]] + [
                OLD_SECRET, before[("AWSCURRENT",)]["client_secret"]]:
            self.assertNotIn(v, text)
        # a resumed invocation (rotated already): the sign-out only; no bucket: not kept, said
        res = self.run_fn(manual())
        self.assertTrue(res.ok, res.raw[:3000])
        self.assertEqual([e["step"] for e in self.record(res.report["incident_id"], 2)], ["sign-out"])
        self.setup_world()
        res = self.run_fn(manual(), env={"FIREBREAK_EVIDENCE_BUCKET": ""})
        self.assertEqual(res.report["undo_record"]["state"], "not kept")

    def test_rounds_stay_under_the_rate_setting(self):
        self.setup_world(users=8, quota=5)
        res = self.run_fn(manual(), env={"FIREBREAK_COGNITO_SIGNOUT_RPS": "5"})
        self.assertTrue(res.ok, res.raw[:3000])
        times = sorted(t for u in self.pool()["users"].values() for t in u["signout_times"])
        self.assertEqual(len(times), 10)
        for i in range(len(times) - 5):
            self.assertGreaterEqual(times[i + 5] - times[i], 0.95, "more than 5 sign-outs within a second")
        self.assertEqual(self.fake.state()["cognito-idp"]["throttled"], 0)
        self.assertEqual(res.report["signout"]["rounds"], 2)

    def test_deadline_stops_and_the_next_invocation_continues(self):
        self.setup_world(users=38, quota=25)
        env = {"FIREBREAK_COGNITO_SIGNOUT_RPS": "4"}
        first = self.run_fn(manual(), env=env, timeout=7)
        self.assertFalse(first.ok)
        r1 = first.report
        self.assertGreater(r1["signout"]["left"], 0)
        self.assertGreater(r1["signout"]["signed_out_now"], 0)
        self.assertEqual(self.steps(r1)["sign-out"]["status"], "failed")
        self.assertIn("the next invocation of this incident continues", self.steps(r1)["sign-out"]["detail"])
        done1 = {n for n, u in self.pool()["users"].items() if u["signouts"]}
        second = self.run_fn(manual(), env={"FIREBREAK_COGNITO_SIGNOUT_RPS": "20"})
        self.assertTrue(second.ok, second.raw[:3000])
        r2 = second.report
        self.assertEqual(r2["incident_id"], r1["incident_id"])
        self.assertEqual(r2["signout"]["left"], 0)
        self.assertGreater(r2["signout"]["earlier"], 0)
        users = self.pool()["users"]
        self.assertTrue(all(u["signouts"] >= 1 for u in users.values()))
        # the second invocation did not start over: most of the first's users were not signed out again
        again = {n for n in done1 if users[n]["signouts"] > 1}
        self.assertLess(len(again), len(done1) / 2, again)
        self.assertEqual(r2["signout"]["earlier"] + r2["signout"]["signed_out_now"], 40)
        # the secret the first one added (and rotated in) is recognised as ours, not added again
        self.assertEqual(len(self.pool()["clients"][CLIENT]["secrets"]), 1)
        self.assertEqual(self.steps(r2)["add-client-secret"]["status"], "already")
        self.assertEqual(fbtest.ops(self.fake.calls()).count("cognito-idp:AddUserPoolClientSecret"), 1)

    def test_dry_run_plans_and_writes_nothing(self):
        self.setup_world()
        res = self.run_fn(manual(dry=True))
        self.assertTrue(res.ok, res.raw[:3000])
        self.assertEqual(self.writes(), [])
        st = self.steps(res.report)
        self.assertEqual(st["sign-out"]["status"], "planned")
        self.assertIn("14 users", st["sign-out"]["detail"])
        self.assertEqual(st["add-client-secret"]["status"], "planned")
        self.assertEqual(st["delete-old-client-secret"]["status"], "planned")
        self.assertEqual(st["put-secret-value"]["status"], "planned")
        self.assertIn("prod/trading-web", st["put-secret-value"]["detail"])
        self.assertTrue(all(u["signouts"] == 0 for u in self.pool()["users"].values()))

    def test_users_scope_only_those_and_missing_counted(self):
        self.setup_world(mfa="ON", totp=True)
        res = self.run_fn(manual(scope={"users": ["alice", "nobody"]}))
        self.assertTrue(res.ok, res.raw[:3000])
        users = self.pool()["users"]
        self.assertEqual(users["alice"]["signouts"], 1)
        self.assertEqual(sum(u["signouts"] for u in users.values()), 1)
        self.assertEqual(res.report["signout"]["not_found"], 1)
        self.assertEqual(res.report["severity"], "P2")
        self.assertEqual(res.report["mfa"]["enforced"], "yes")
        self.assertNotIn("cognito-idp:ListUsers", fbtest.ops(self.fake.calls()))

    def test_two_secrets_none_ours_is_refused_but_users_are_signed_out(self):
        self.setup_world(secrets=(OLD_SECRET, "attackeraddedsecret0000000000000000000000000000000x"))
        res = self.run_fn(manual())
        self.assertFalse(res.ok)
        st = self.steps(res.report)
        self.assertEqual(st["add-client-secret"]["status"], "failed")
        self.assertIn("two secrets", st["add-client-secret"]["detail"])
        w = self.writes()
        self.assertNotIn(("cognito-idp", "AddUserPoolClientSecret"), w)
        self.assertNotIn(("cognito-idp", "DeleteUserPoolClientSecret"), w)
        self.assertEqual(st["sign-out"]["status"], "done")
        self.no_secret_anywhere(res)

    def test_rollout_not_finished_keeps_the_old_secret_and_fails(self):
        self.setup_world(users=0, settle=None)
        res = self.run_fn(manual(scope={"users": ["alice"]}), timeout=4)
        self.assertFalse(res.ok)
        st = self.steps(res.report)
        self.assertEqual(st["put-secret-value"]["status"], "done")
        self.assertEqual(st["delete-old-client-secret"]["status"], "failed")
        self.assertIn("old secret", st["delete-old-client-secret"]["detail"])
        self.assertEqual(len(self.pool()["clients"][CLIENT]["secrets"]), 2)
        self.assertNotIn(("cognito-idp", "DeleteUserPoolClientSecret"), self.writes())
        self.no_secret_anywhere(res)

    def test_no_consumer_secret_named_means_no_secret_added(self):
        self.setup_world(users=0)
        res = self.run_fn(manual(scope={"users": ["alice"]}), env={"FIREBREAK_COGNITO_SECRET_ARN": ""})
        self.assertFalse(res.ok)
        st = self.steps(res.report)
        self.assertEqual(st["add-client-secret"]["status"], "failed")
        self.assertIn("FIREBREAK_COGNITO_SECRET_ARN", st["add-client-secret"]["detail"])
        self.assertEqual(len(self.pool()["clients"][CLIENT]["secrets"]), 1)
        self.assertEqual(st["sign-out"]["status"], "done")

    def test_an_added_but_never_stored_secret_is_replaced(self):
        # an earlier invocation added a secret and died before storing it: its marker says it is ours
        self.setup_world(users=0, secrets=(OLD_SECRET, "lostvalue000000000000000000000000000000000000000000"))
        lost = self.pool()["clients"][CLIENT]["secrets"][1]["ClientSecretId"]
        # two secrets, neither ours: refused (the sign-out marker written shows the incident's prefix)
        first = self.run_fn(manual(scope={"users": ["alice"]}))
        self.assertFalse(first.ok)
        self.assertEqual(self.steps(first.report)["add-client-secret"]["status"], "failed")
        keys = [b for b in self.fake.state()["s3"]["buckets"] if b["name"] == BUCKET][0]["objects"]
        prefix = [k for k in keys if "/signout-" in k][0].rsplit("/", 1)[0]
        objs = dict({k: "" for k in keys}, **{prefix + "/secret-added-" + lost: ""})
        self.fake.seed({"s3": {"buckets": [{"name": BUCKET, "objects": objs}]}}, merge=True)
        res = self.run_fn(manual(scope={"users": ["alice"]}))
        self.assertTrue(res.ok, res.raw[:3000])
        st = self.steps(res.report)
        self.assertEqual(st["delete-undelivered-secret"]["status"], "done")
        self.assertEqual(st["sign-out"]["status"], "already")
        sec = self.pool()["clients"][CLIENT]["secrets"]
        self.assertEqual(len(sec), 1)
        self.assertNotEqual(sec[0]["ClientSecretId"], lost)
        self.assertEqual(self.consumer_secret()[("AWSCURRENT",)]["client_secret"], sec[0]["ClientSecretValue"])
        self.no_secret_anywhere(res)

    def test_failed_signouts_are_an_error_and_named(self):
        self.setup_world(fail=["alice"])
        res = self.run_fn(manual())
        self.assertFalse(res.ok)
        self.assertEqual(res.report["signout"]["failed"], 1)
        self.assertEqual(res.report["signout"]["failed_users"], ["alice"])

    def test_alarm_sample_and_refusals_with_zero_calls(self):
        self.setup_world(users=2)
        res = self.run_fn(event("alarm-token-abuse.json"), env={"FIREBREAK_COGNITO_USER_POOL_ID": POOL})
        self.assertTrue(res.ok, res.raw[:3000])
        self.assertEqual(res.report["signout"]["signed_out_now"], 4)
        self.assertEqual(res.report["alarm"], "firebreak-cognito-token-abuse")
        bad = [
            manual(scope=None),
            {"userPoolId": POOL, "clientId": CLIENT},
            manual(scope={"users": ["a b"]}),
            manual(userPoolId="us-east-1_x/../y"),
            manual(dryRun="yes"),
        ]
        bad[0].pop("scope")
        for ev in bad:
            self.fake.reset_calls()
            r = self.run_fn(ev)
            self.assertFalse(r.ok, ev)
            self.assertEqual(r.error_type, "Firebreak.InvalidEvent", r.raw)
            self.assertEqual([c for c in self.fake.calls() if c.get("service") != "sts"], [], ev)
        # an alarm that names another pool than the settings: refused, nothing called
        e = event("alarm-token-abuse.json")
        e["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"]["UserPool"] = \
            "us-east-1_Attacker1"
        self.fake.reset_calls()
        r = self.run_fn(e)
        self.assertEqual(r.error_type, "Firebreak.InvalidEvent", r.raw)
        self.assertEqual(self.fake.calls(), [])

    def test_unknown_client_is_a_clear_failure_with_no_write(self):
        self.setup_world(users=2)
        res = self.run_fn(manual(clientId="nosuchclient"))
        self.assertFalse(res.ok)
        self.assertEqual(res.report["verdict"], "failed")
        self.assertIn("no app client nosuchclient", self.steps(res.report)["read-client"]["detail"])
        self.assertEqual(self.writes(), [])


class ModelV3(unittest.TestCase):
    """The fake's client secret shapes (core.SUPPLEMENT["cognito-idp"])
    against @aws-sdk/client-cognito-identity-provider's schema
    (dist-es/schemas/schemas_0.js: [3, ns, name, traits, [members],
    [types], required-count])."""

    def schema(self):
        nm = os.environ.get("FBTEST_NODE_MODULES", "")
        for d in (nm, os.path.join(nm, "node_modules")) if nm else ():
            f = os.path.join(d, "@aws-sdk", "client-cognito-identity-provider", "dist-es", "schemas",
                             "schemas_0.js")
            if os.path.isfile(f):
                with open(f) as fh:
                    return fh.read()
        self.skipTest("@aws-sdk/client-cognito-identity-provider not installed: set FBTEST_NODE_MODULES")

    def test_supplement_matches_v3(self):
        js = self.schema()
        consts = dict(re.findall(r'^const (_\w+) = "([^"]*)";', js, re.M))
        sys.path.insert(0, os.path.join(ROOT, "tests", "fakeaws"))
        import core
        m = core.model("cognito-idp")
        extra = core.SUPPLEMENT["cognito-idp"]
        for op in extra["operations"]:
            for side, suffix in (("input", "Request"), ("output", "Response")):
                shape = getattr(m.operation_model(op), side + "_shape")
                mt = re.search(r"export var %s%s\$ = \[3, n0, _\w+,\s*0,\s*\[([^\]]*)\],\s*\[(.*?)\](?:, (\d+))?\s*\];"
                               % (op, suffix), js, re.S)
                self.assertIsNotNone(mt, (op, side))
                members = [consts[x.strip()] for x in mt.group(1).split(",") if x.strip()]
                required = members[:int(mt.group(3) or 0)]
                self.assertEqual(sorted(shape.members), sorted(members), (op, side))
                self.assertEqual(sorted(shape.required_members), sorted(required), (op, side))
        mt = re.search(r"export var ClientSecretDescriptorType\$ = \[3, n0, _\w+,\s*0,\s*\[([^\]]*)\]", js)
        self.assertEqual(sorted(consts[x.strip()] for x in mt.group(1).split(",")),
                         sorted(m.shape_for("ClientSecretDescriptorType").members))


if __name__ == "__main__":
    prog = unittest.main(exit=False, verbosity=2)
    r = prog.result
    failed = len(r.failures) + len(r.errors)
    print("%d passed, %d failed" % (r.testsRun - failed, failed))
    sys.exit(1 if failed or not r.wasSuccessful() else 0)
