#!/usr/bin/python3
# runs-in: 81-sanitizers (make test runs this suite once, against the ASan+UBSan build)
"""kms-guard against tests/fakeaws, through the Lambda emulator.

Every case runs the native bootstrap on a sample from events/kms-guard/ (or a
published record from ../shared/reference-events/, when present) and asserts on
the fake's state (GET /_fake/state), its call log (GET /_fake/calls) and the
report. Prints "N passed, N failed"; exits non-zero on failure.
"""
import copy
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import fbtest  # noqa: E402

FN = "kms-guard"
EVENTS = os.path.join(fbtest.ROOT, "events", FN)
ACCT = "111111111111"
TOPIC = "arn:aws:sns:us-east-1:111111111111:firebreak"
K_EN = "1234abcd-12ab-34cd-56ef-1234567890ab"
K_DIS = "2222abcd-12ab-34cd-56ef-1234567890ab"
K_DK = "3333abcd-12ab-34cd-56ef-1234567890ab"
K_MRK = "mrk-1234abcd12ab34cd56ef1234567890ab"
K_AWS = "aaaa0000-0000-0000-0000-000000000001"
K_ALLOW = "4444abcd-12ab-34cd-56ef-1234567890ab"
K_EXEMPT = "5555abcd-12ab-34cd-56ef-1234567890ab"
K_NOHIST = "6666abcd-12ab-34cd-56ef-1234567890ab"
K_ALIAS = "7777abcd-12ab-34cd-56ef-1234567890ab"
K_TAG = "8888abcd-12ab-34cd-56ef-1234567890ab"     # tag-exempt-untrusted.json
K_UNTAG = "9999abcd-12ab-34cd-56ef-1234567890ab"   # untag-allow-deletion-untrusted.json
OPS = "arn:aws:iam::111111111111:user/ops"
SELF = "arn:aws:iam::111111111111:user/fake-admin"  # the fake's caller (sts:GetCallerIdentity)
MALLORY = "arn:aws:iam::111111111111:user/mallory"
ENV = {"FIREBREAK_TOPIC_ARN": TOPIC,
       "FIREBREAK_TRUSTED_PRINCIPALS": "arn:aws:iam::111111111111:role/BreakGlass,arn:aws:iam::*:role/iac-*"}


def arn(key, region="us-east-1", acct=ACCT):
    return "arn:aws:kms:%s:%s:key/%s" % (region, acct, key)


def pending(key, days=7, **kw):
    d = {"KeyId": key, "KeyState": "PendingDeletion", "DeletionDate": 1900000000,
         "PendingDeletionWindowInDays": days}
    d.update(kw)
    return d


def record(name, key, when, actor=MALLORY, region="us-east-1", event_id=None, **extra):
    r = {"eventVersion": "1.08", "userIdentity": {"type": "IAMUser", "arn": actor, "accountId": ACCT},
         "eventTime": when, "eventSource": "kms.amazonaws.com", "eventName": name,
         "awsRegion": region, "requestParameters": {"keyId": key}, "eventID": event_id or "h-%s-%s-%s" % (name, key[:4], when),
         "readOnly": name == "Decrypt", "eventType": "AwsApiCall", "recipientAccountId": ACCT,
         "resources": [{"accountId": ACCT, "type": "AWS::KMS::Key", "ARN": arn(key, region)}]}
    r.update(extra)
    return r


SEED = {
    "default_account": ACCT,
    "sns": {"topics": [TOPIC]},
    "kms": {"keys": [
        pending(K_EN),
        pending(K_DIS, 30),
        pending(K_NOHIST, 30),
        {"KeyId": K_DK, "KeyState": "Disabled"},
        {"KeyId": K_MRK, "MultiRegion": True, "MultiRegionConfiguration": {
            "MultiRegionKeyType": "PRIMARY", "PrimaryKey": {"Arn": arn(K_MRK), "Region": "us-east-1"},
            "ReplicaKeys": [{"Arn": arn(K_MRK, "eu-west-1"), "Region": "eu-west-1"}]}},
        pending(K_MRK, region="eu-west-1", MultiRegion=True, MultiRegionConfiguration={
            "MultiRegionKeyType": "REPLICA", "PrimaryKey": {"Arn": arn(K_MRK), "Region": "us-east-1"},
            "ReplicaKeys": [{"Arn": arn(K_MRK, "eu-west-1"), "Region": "eu-west-1"}]}),
        {"KeyId": K_AWS, "KeyManager": "AWS", "Aliases": ["alias/aws/s3"]},
        pending(K_ALLOW, Tags=[{"TagKey": "firebreak:allow-deletion", "TagValue": "true"}]),
        {"KeyId": K_EXEMPT, "KeyState": "Disabled", "Tags": [{"TagKey": "firebreak:exempt", "TagValue": "true"}]},
        {"KeyId": K_ALIAS, "KeyState": "Disabled", "Aliases": ["alias/payments-dk"]},
    ]},
    "cloudtrail": {"records": [
        # history: an Enabled key in use; a key disabled by someone else a month ago
        record("Decrypt", K_EN, "2024-03-01T09:00:00Z", actor="arn:aws:iam::111111111111:role/app"),
        record("Decrypt", K_DIS, "2024-01-15T09:00:00Z", actor="arn:aws:iam::111111111111:role/app"),
        record("DisableKey", K_DIS, "2024-02-01T09:00:00Z", actor="arn:aws:iam::111111111111:user/ops"),
        record("Decrypt", K_MRK, "2024-03-01T08:00:00Z", region="eu-west-1",
               actor="arn:aws:iam::111111111111:role/app"),
        # the changes themselves (what the alarm's LookupEvents finds)
        record("ScheduleKeyDeletion", K_EN, "2024-03-01T10:00:30Z", event_id="0001-sched-enabled"),
        record("DisableKey", K_DK, "2024-03-01T10:01:00Z", event_id="0004-disable"),
        record("ScheduleKeyDeletion", K_AWS, "2024-03-01T10:01:30Z", event_id="a-failed",
               errorCode="AccessDeniedException"),
        record("DisableKey", K_EXEMPT, "2024-03-01T10:02:00Z", event_id="a-trusted",
               actor="arn:aws:sts::111111111111:assumed-role/BreakGlass/alice"),
    ]},
}


def load(name):
    with open(os.path.join(EVENTS, name), "rb") as f:
        return f.read()


def key_state(fake, key, region="us-east-1", acct=ACCT):
    for k in fake.state()["kms"]["keys"]:
        if k["KeyId"] == key and k["region"] == region and k["account"] == acct:
            return k
    raise AssertionError("no key %s in %s/%s" % (key, acct, region))


def steps(report):
    return {a["step"]: a for a in report["actions"]}


class KmsGuard(unittest.TestCase):
    fake = None

    @classmethod
    def setUpClass(cls):
        cls.fake = fbtest.Fake(SEED).start()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def setUp(self):
        self.fake.seed(SEED)
        self.fake.reset()

    def run_fn(self, event, env=None, raw=False, **kw):
        e = dict(ENV)
        e.update(env or {})
        if raw:
            return fbtest.invoke_raw(FN, event, self.fake, env=e, **kw)
        return fbtest.invoke(FN, event, self.fake, env=e, **kw)

    def published(self):
        return self.fake.state()["sns"]["published"]

    def assert_contained(self, res, severity="P1"):
        self.assertTrue(res.ok, res)
        self.assertEqual(res.report["verdict"], "contained", res.report)
        self.assertEqual(res.report["severity"], severity)
        self.assertIsNotNone(res.report["timings"]["contained"])

    # ---- containment ---------------------------------------------------------------
    def test_schedule_deletion_of_enabled_key_restores_enabled(self):
        res = self.run_fn(load("schedule-deletion-enabled-key.json"))
        self.assert_contained(res)
        k = key_state(self.fake, K_EN)
        self.assertEqual(k["KeyState"], "Enabled")
        self.assertNotIn("DeletionDate", k)
        self.assertIn({"TagKey": "firebreak:incident", "TagValue": res.report["incident_id"]}, k["Tags"])
        self.assertEqual(sorted(fbtest.ops(fbtest.writes(self.fake.calls()))),
                         ["kms:CancelKeyDeletion", "kms:EnableKey", "kms:TagResource"])
        self.assertEqual(res.report["prior_state"], "Enabled")
        self.assertTrue(res.report["prior_state_source"].startswith("cloudtrail:Decrypt@2024-03-01T09:00:00"))
        self.assertIn({"api": "kms:ScheduleKeyDeletion", "args": {"KeyId": arn(K_EN), "PendingWindowInDays": 7}},
                      res.report["restore"])
        self.assertIn({"api": "kms:DisableKey", "args": {"KeyId": arn(K_EN)}}, res.report["restore"])
        # the report went to SNS, with the same incident id
        pub = self.published()
        self.assertEqual(len(pub), 1)
        self.assertEqual(json.loads(pub[0]["Message"])["incident_id"], res.report["incident_id"])
        self.assertLessEqual(len(pub[0]["Subject"]), 100)
        # the incident id is derived from the trigger event id
        self.assertTrue(res.report["incident_id"].startswith("fb-"))
        self.assertEqual(res.report["trigger"]["actor_arn"], MALLORY)

    def test_schedule_deletion_of_disabled_key_stays_disabled(self):
        res = self.run_fn(load("schedule-deletion-disabled-key.json"))
        self.assert_contained(res)
        k = key_state(self.fake, K_DIS)
        self.assertEqual(k["KeyState"], "Disabled")
        self.assertNotIn("DeletionDate", k)
        ops = fbtest.ops(fbtest.writes(self.fake.calls()))
        self.assertIn("kms:CancelKeyDeletion", ops)
        self.assertNotIn("kms:EnableKey", ops)
        self.assertEqual(res.report["prior_state"], "Disabled")
        self.assertTrue(res.report["prior_state_source"].startswith("cloudtrail:DisableKey@2024-02-01"))
        self.assertEqual(steps(res.report)["enable-key"]["status"], "already")

    def test_schedule_deletion_without_history_defaults_to_disabled(self):
        res = self.run_fn(load("schedule-deletion-no-history.json"))
        self.assert_contained(res)
        self.assertEqual(key_state(self.fake, K_NOHIST)["KeyState"], "Disabled")
        self.assertTrue(res.report["prior_state_source"].startswith("default:Disabled"))
        self.assertNotIn("kms:EnableKey", fbtest.ops(self.fake.calls()))

    def test_disable_key_is_reenabled(self):
        res = self.run_fn(load("disable-key.json"))
        self.assert_contained(res)
        self.assertEqual(key_state(self.fake, K_DK)["KeyState"], "Enabled")
        ops = fbtest.ops(fbtest.writes(self.fake.calls()))
        self.assertNotIn("kms:CancelKeyDeletion", ops)
        self.assertIn("kms:EnableKey", ops)
        self.assertEqual(res.report["prior_state_source"], "event:DisableKey")

    def test_disable_key_by_alias(self):
        res = self.run_fn(load("alias-key-id.json"))
        self.assert_contained(res)
        self.assertEqual(key_state(self.fake, K_ALIAS)["KeyState"], "Enabled")
        self.assertEqual(res.report["resource"], arn(K_ALIAS))

    def test_multi_region_replica_pending_deletion_is_cancelled(self):
        res = self.run_fn(load("schedule-deletion-mrk-replica.json"))
        self.assert_contained(res)
        rep = key_state(self.fake, K_MRK, "eu-west-1")
        self.assertNotIn(rep["KeyState"], ("PendingDeletion", "PendingReplicaDeletion"))
        self.assertEqual(rep["KeyState"], "Enabled")  # history: in use before
        self.assertEqual(key_state(self.fake, K_MRK, "us-east-1")["KeyState"], "Enabled")
        cancels = [c for c in self.fake.calls() if c["operation"] == "CancelKeyDeletion"]
        self.assertEqual([c["region"] for c in cancels], ["eu-west-1"])
        self.assertEqual(res.report["keys"][0]["multi_region_key_type"], "REPLICA")

    def test_manual_form(self):
        res = self.run_fn(load("manual.json"))
        self.assert_contained(res)
        self.assertEqual(key_state(self.fake, K_EN)["KeyState"], "Enabled")
        self.assertEqual(res.report["trigger"]["source"], "manual")

    # ---- skips: zero writes, the report says why, the notification still goes out ----
    def check_skip(self, event_file, why):
        res = self.run_fn(load(event_file))
        self.assertTrue(res.ok, res)
        self.assertTrue(res.report["verdict"].startswith("skipped: "), res.report["verdict"])
        self.assertIn(why, res.report["verdict"])
        self.assertEqual(fbtest.writes(self.fake.calls()), [])
        self.assertEqual(len(self.published()), 1)
        return res

    def test_skip_trusted_actor(self):
        self.check_skip("trusted-actor.json", "trusted actor")
        self.assertEqual(self.fake.calls()[0]["operation"], "Publish")  # not even a read
        self.assertEqual(key_state(self.fake, K_EN)["KeyState"], "PendingDeletion")

    def test_skip_failed_call(self):
        self.check_skip("failed-call.json", "AccessDeniedException")
        self.assertEqual(fbtest.ops(self.fake.calls()), ["sns:Publish"])

    def test_skip_aws_managed_key(self):
        self.check_skip("aws-managed-key.json", "AWS managed key")

    def seed_more(self, records=(), keys=()):
        """SEED plus CloudTrail records and keys (replacing keys of the same id)."""
        seed = copy.deepcopy(SEED)
        ids = {k["KeyId"] for k in keys}
        seed["kms"]["keys"] = [k for k in seed["kms"]["keys"] if k["KeyId"] not in ids] + list(keys)
        seed["cloudtrail"]["records"] += list(records)
        self.fake.seed(seed)
        self.fake.reset()

    # The triggers of allow-deletion-tag.json and exempt-tag.json, as CloudTrail
    # shows them once it has caught up (LookupEvents on the key).
    ALLOW_TRIGGER = record("ScheduleKeyDeletion", K_ALLOW, "2024-03-01T10:00:30Z", event_id="0009-allow")
    EXEMPT_TRIGGER = record("DisableKey", K_EXEMPT, "2024-03-01T10:00:30Z", event_id="0010-exempt")

    def test_skip_allow_deletion_tag(self):
        # The tag has no record in the key's history (older than CloudTrail's
        # 90 days) and the history shows the trigger: honoured.
        self.seed_more([self.ALLOW_TRIGGER])
        res = self.check_skip("allow-deletion-tag.json", "firebreak:allow-deletion=true")
        self.assertEqual(key_state(self.fake, K_ALLOW)["KeyState"], "PendingDeletion")
        self.assertEqual(res.report["exemption_tags"][0]["verdict"], "honoured")
        self.assertIn("90-day", res.report["exemption_tags"][0]["reason"])

    def test_skip_exempt_tag(self):
        self.seed_more([self.EXEMPT_TRIGGER])
        self.check_skip("exempt-tag.json", "firebreak:exempt=true")
        self.assertEqual(key_state(self.fake, K_EXEMPT)["KeyState"], "Disabled")

    # ---- item 8: exemption tags count only when CloudTrail shows they predate the change ----
    def check_ignored(self, event_file, key, want_reason, env=None):
        res = self.run_fn(load(event_file), env=env)
        self.assert_contained(res)
        tags = res.report["exemption_tags"]
        self.assertEqual([t["verdict"] for t in tags], ["ignored"], tags)
        self.assertIn(want_reason, tags[0]["reason"])
        self.assertIn("kms:CancelKeyDeletion" if key == K_ALLOW else "kms:EnableKey",
                      fbtest.ops(fbtest.writes(self.fake.calls())))
        return res

    def test_allow_deletion_tag_set_by_the_attacker_is_ignored(self):
        # mallory tags the key, then schedules its deletion: the tag is hers
        self.seed_more([self.ALLOW_TRIGGER, record(
            "TagResource", K_ALLOW, "2024-03-01T09:59:00Z", event_id="t-mallory",
            requestParameters={"keyId": arn(K_ALLOW), "tags": [
                {"tagKey": "firebreak:allow-deletion", "tagValue": "true"}]})])
        res = self.check_ignored("allow-deletion-tag.json", K_ALLOW, "own actor")
        self.assertEqual(res.report["exemption_tags"][0]["set_by"], MALLORY)
        self.assertNotEqual(key_state(self.fake, K_ALLOW)["KeyState"], "PendingDeletion")

    def test_same_role_other_session_counts_as_the_actor(self):
        role_a = "arn:aws:sts::111111111111:assumed-role/Dev/alice"
        ev = json.loads(load("allow-deletion-tag.json"))
        ev["detail"]["userIdentity"] = {"type": "AssumedRole", "arn": "arn:aws:sts::111111111111:assumed-role/Dev/bob",
                                        "accountId": ACCT}
        self.seed_more([dict(self.ALLOW_TRIGGER, userIdentity=ev["detail"]["userIdentity"]), record(
            "TagResource", K_ALLOW, "2024-02-01T09:00:00Z", event_id="t-dev", actor=role_a,
            requestParameters={"keyId": arn(K_ALLOW), "tags": [
                {"tagKey": "firebreak:allow-deletion", "tagValue": "true"}]})])
        res = self.run_fn(ev)
        self.assert_contained(res)
        self.assertIn("own actor", res.report["exemption_tags"][0]["reason"])

    def test_exempt_tag_younger_than_min_age_is_ignored(self):
        self.seed_more([self.EXEMPT_TRIGGER, record(
            "TagResource", K_EXEMPT, "2024-03-01T08:30:00Z", event_id="t-ops", actor=OPS,
            requestParameters={"keyId": arn(K_EXEMPT), "tags": [
                {"tagKey": "firebreak:exempt", "tagValue": "true"}]})])
        self.check_ignored("exempt-tag.json", K_EXEMPT, "only 1 h 30 min before the event")
        self.assertEqual(key_state(self.fake, K_EXEMPT)["KeyState"], "Enabled")

    def test_min_age_is_a_setting(self):
        self.seed_more([self.EXEMPT_TRIGGER, record(
            "TagResource", K_EXEMPT, "2024-03-01T08:30:00Z", event_id="t-ops", actor=OPS,
            requestParameters={"keyId": arn(K_EXEMPT), "tags": [
                {"tagKey": "firebreak:exempt", "tagValue": "true"}]})])
        res = self.run_fn(load("exempt-tag.json"), env={"FIREBREAK_TAG_MIN_AGE_HOURS": "1"})
        self.assertTrue(res.ok, res)
        self.assertTrue(res.report["verdict"].startswith("skipped: "), res.report["verdict"])
        self.assertEqual(res.report["exemption_tags"][0]["set_by"], OPS)
        # an unusable value is an init error, not a silent default
        bad = self.run_fn(load("exempt-tag.json"), env={"FIREBREAK_TAG_MIN_AGE_HOURS": "a day"})
        self.assertFalse(bad.ok)
        self.assertIn("FIREBREAK_TAG_MIN_AGE_HOURS", bad.error_message)

    def test_old_tag_set_by_someone_else_is_honoured(self):
        self.seed_more([self.EXEMPT_TRIGGER, record(
            "TagResource", K_EXEMPT, "2024-02-20T08:00:00Z", event_id="t-ops", actor=OPS,
            requestParameters={"keyId": arn(K_EXEMPT), "tags": [
                {"tagKey": "firebreak:exempt", "tagValue": "true"}]})])
        res = self.check_skip("exempt-tag.json", "firebreak:exempt=true")
        self.assertIn("set by '%s'" % OPS, res.report["verdict"])

    def test_trigger_not_yet_in_cloudtrail_cannot_verify(self):
        # EventBridge was faster than LookupEvents: a TagResource a second
        # before could be missing as well, so "no record" proves nothing.
        self.check_ignored("exempt-tag.json", K_EXEMPT, "delivery lag")

    def test_history_unavailable_ignores_the_tag(self):
        self.seed_more([self.EXEMPT_TRIGGER])
        self.fake.faults({"kind": "error", "service": "cloudtrail", "operation": "LookupEvents"})
        res = self.check_ignored("exempt-tag.json", K_EXEMPT, "incomplete")
        self.assertEqual(steps(res.report)["tag-provenance"]["status"], "failed")
        self.assertFalse(steps(res.report)["tag-provenance"]["required"])

    def test_tag_value_case_and_spaces(self):
        # " TRUE " means true, as in every function (prov_value_true)
        self.seed_more([self.EXEMPT_TRIGGER], keys=[
            {"KeyId": K_EXEMPT, "KeyState": "Disabled", "Tags": [{"TagKey": "firebreak:exempt", "TagValue": " TRUE "}]}])
        self.check_skip("exempt-tag.json", "firebreak:exempt=true")

    # ---- item 8: an untrusted change of a firebreak:* tag is itself a trigger ----------
    TAG_KEYS = [{"KeyId": K_TAG, "Tags": [{"TagKey": "Owner", "TagValue": "payments"},
                                         {"TagKey": "firebreak:exempt", "TagValue": "true"}]},
                {"KeyId": K_UNTAG, "Tags": []}]
    TAG_EVENT = record("TagResource", K_TAG, "2024-03-01T10:00:30Z", event_id="0020-tag",
                       requestParameters={"keyId": arn(K_TAG), "tags": [
                           {"tagKey": "Owner", "tagValue": "payments"},
                           {"tagKey": "firebreak:exempt", "tagValue": "true"}]})
    UNTAG_EVENT = record("UntagResource", K_UNTAG, "2024-03-01T10:00:30Z", event_id="0021-untag",
                         requestParameters={"keyId": arn(K_UNTAG), "tagKeys": ["firebreak:allow-deletion"]})

    def tags_of(self, key):
        return {t["TagKey"]: t["TagValue"] for t in key_state(self.fake, key)["Tags"]}

    def test_untrusted_tag_of_exempt_is_removed(self):
        self.seed_more([self.TAG_EVENT], keys=self.TAG_KEYS)
        res = self.run_fn(load("tag-exempt-untrusted.json"))
        self.assert_contained(res, "P2")
        self.assertEqual(res.report["severity"], "P2")
        self.assertEqual(self.tags_of(K_TAG), {"Owner": "payments"})  # only the firebreak key is undone
        w = fbtest.writes(self.fake.calls())
        self.assertEqual(fbtest.ops(w), ["kms:UntagResource"])
        self.assertEqual(w[0]["params"], {"KeyId": arn(K_TAG), "TagKeys": ["firebreak:exempt"]})
        self.assertEqual(res.report["restore"], [{"api": "kms:TagResource", "args": {
            "KeyId": arn(K_TAG), "Tags": [{"TagKey": "firebreak:exempt", "TagValue": "true"}]}}])
        self.assertEqual(steps(res.report)["revert-tag"]["status"], "done")
        # the same event again: already, no write
        self.fake.reset_calls()
        again = self.run_fn(load("tag-exempt-untrusted.json"))
        self.assertTrue(again.ok, again)
        self.assertEqual(fbtest.writes(self.fake.calls()), [])
        self.assertEqual(again.report["verdict"], "already-contained")

    def test_untrusted_tag_change_puts_the_prior_value_back(self):
        prior = record("TagResource", K_TAG, "2024-01-10T10:00:00Z", event_id="t-prior", actor=OPS,
                       requestParameters={"keyId": arn(K_TAG), "tags": [
                           {"tagKey": "firebreak:exempt", "tagValue": "false"}]})
        self.seed_more([self.TAG_EVENT, prior], keys=self.TAG_KEYS)
        res = self.run_fn(load("tag-exempt-untrusted.json"))
        self.assert_contained(res, "P2")
        self.assertEqual(self.tags_of(K_TAG)["firebreak:exempt"], "false")
        self.assertEqual(fbtest.ops(fbtest.writes(self.fake.calls())), ["kms:TagResource"])

    def test_untrusted_untag_is_put_back(self):
        prior = record("TagResource", K_UNTAG, "2024-01-10T10:00:00Z", event_id="t-prior", actor=OPS,
                       requestParameters={"keyId": arn(K_UNTAG), "tags": [
                           {"tagKey": "firebreak:allow-deletion", "tagValue": "true"}]})
        self.seed_more([self.UNTAG_EVENT, prior], keys=self.TAG_KEYS)
        res = self.run_fn(load("untag-allow-deletion-untrusted.json"))
        self.assert_contained(res, "P2")
        self.assertEqual(self.tags_of(K_UNTAG), {"firebreak:allow-deletion": "true"})
        self.assertEqual(res.report["restore"], [{"api": "kms:UntagResource", "args": {
            "KeyId": arn(K_UNTAG), "TagKeys": ["firebreak:allow-deletion"]}}])

    def test_untag_with_value_older_than_history_is_reported_not_guessed(self):
        self.seed_more([self.UNTAG_EVENT], keys=self.TAG_KEYS)
        res = self.run_fn(load("untag-allow-deletion-untrusted.json"))
        self.assertTrue(res.ok, res)
        self.assertEqual(fbtest.writes(self.fake.calls()), [])
        self.assertEqual(steps(res.report)["revert-tag"]["status"], "skipped")
        self.assertIn("not restored", res.report["verdict"])

    def test_tag_change_dry_run_and_trusted_and_own(self):
        self.seed_more([self.TAG_EVENT], keys=self.TAG_KEYS)
        res = self.run_fn(load("tag-exempt-untrusted.json"), env={"FIREBREAK_DRY_RUN": "true"})
        self.assertTrue(res.ok, res)
        self.assertEqual(steps(res.report)["revert-tag"]["status"], "planned")
        self.assertEqual(fbtest.writes(self.fake.calls()), [])
        for actor, why in (("arn:aws:sts::111111111111:assumed-role/BreakGlass/alice", "trusted actor"),
                           (SELF, "own tag change"),
                           ("arn:aws:sts::111111111111:assumed-role/firebreak-member/firebreak-kms-guard-fb-1",
                            "own tag change")):
            with self.subTest(actor=actor):
                self.fake.reset_calls()
                ev = json.loads(load("tag-exempt-untrusted.json"))
                ev["detail"]["userIdentity"] = {"type": "AssumedRole", "arn": actor, "accountId": ACCT}
                res = self.run_fn(ev, env={"FIREBREAK_MEMBER_ROLE": "firebreak-member"})
                self.assertTrue(res.ok, res)
                self.assertIn(why, res.report["verdict"])
                self.assertEqual(fbtest.writes(self.fake.calls()), [])
        # a session NAME alone proves nothing: another role's "firebreak-" session is reverted
        self.fake.reset_calls()
        ev = json.loads(load("tag-exempt-untrusted.json"))
        ev["detail"]["userIdentity"] = {"type": "AssumedRole", "accountId": ACCT,
                                        "arn": "arn:aws:sts::111111111111:assumed-role/Dev/firebreak-kms-guard-x"}
        res = self.run_fn(ev, env={"FIREBREAK_MEMBER_ROLE": "firebreak-member"})
        self.assert_contained(res, "P2")

    def test_tag_change_of_other_keys_is_not_a_trigger(self):
        self.check_invalid(load("invalid-tag-other-key.json"), "changes no firebreak:* tag")

    # ---- idempotency, retries, failures, dry run -------------------------------------
    def test_same_event_twice_writes_once(self):
        ev = load("schedule-deletion-enabled-key.json")
        first = self.run_fn(ev)
        self.assert_contained(first)
        self.fake.reset_calls()
        second = self.run_fn(ev)
        self.assertTrue(second.ok, second)
        self.assertEqual(fbtest.writes(self.fake.calls()), [])
        self.assertEqual(second.report["incident_id"], first.report["incident_id"])
        self.assertEqual(second.report["verdict"], "already-contained")
        st = steps(second.report)
        for s in ("cancel-deletion", "enable-key", "tag-incident"):
            self.assertEqual(st[s]["status"], "already", s)

    def test_replay_whose_only_write_is_the_tag_is_already_contained(self):
        # An earlier delivery cancelled the deletion and re-enabled the key, then
        # died before tagging: the retry only tags, so it contained nothing itself.
        seed = copy.deepcopy(SEED)
        seed["kms"]["keys"] = [{"KeyId": K_EN} if k["KeyId"] == K_EN else k for k in seed["kms"]["keys"]]
        self.fake.seed(seed)
        self.fake.reset()
        res = self.run_fn(load("schedule-deletion-enabled-key.json"))
        self.assertTrue(res.ok, res)
        self.assertEqual(fbtest.ops(fbtest.writes(self.fake.calls())), ["kms:TagResource"])
        self.assertEqual(res.report["verdict"], "already-contained", res.report)
        st = steps(res.report)
        self.assertEqual(st["cancel-deletion"]["status"], "already")
        self.assertEqual(st["enable-key"]["status"], "already")
        self.assertEqual(st["tag-incident"]["status"], "done")
        self.assertTrue(res.report["keys"][0]["outcome"].startswith("already: "), res.report["keys"][0])
        self.assertEqual(key_state(self.fake, K_EN)["KeyState"], "Enabled")
        self.assertEqual(json.loads(self.published()[0]["Message"])["verdict"], "already-contained")

    def test_cancel_throttled_twice_still_contained(self):
        self.fake.faults({"kind": "throttle", "service": "kms", "operation": "CancelKeyDeletion", "count": 2})
        res = self.run_fn(load("schedule-deletion-enabled-key.json"))
        self.assert_contained(res)
        cancels = [c for c in self.fake.calls() if c["operation"] == "CancelKeyDeletion"]
        self.assertEqual([c["fault"] for c in cancels], ["throttle", "throttle", None])
        self.assertEqual(key_state(self.fake, K_EN)["KeyState"], "Enabled")

    def test_history_survives_cloudtrail_throttling(self):
        # Item 9: LookupEvents is 2 requests/s per account and Region; four throttles in a row
        # spent the old 3-attempt budget and the key was left Disabled by default. The shared
        # pager retries within the deadline and reads the history that decides.
        self.fake.faults({"kind": "throttle", "service": "cloudtrail", "operation": "LookupEvents", "count": 4})
        res = self.run_fn(load("schedule-deletion-enabled-key.json"))
        self.assert_contained(res)
        self.assertTrue(res.report["prior_state_source"].startswith("cloudtrail:Decrypt@"), res.report)
        self.assertEqual(key_state(self.fake, K_EN)["KeyState"], "Enabled")
        looks = [c for c in self.fake.calls() if c["operation"] == "LookupEvents"]
        self.assertEqual([c["fault"] for c in looks][:4], ["throttle"] * 4)

    def test_concurrent_invocations_under_the_lookup_quota(self):
        # Two deletions handled at once against a fake that enforces 2 LookupEvents per
        # second: both read their key's history, none falls back to the default.
        import threading
        seed = copy.deepcopy(SEED)
        seed["cloudtrail"]["lookup_rate_per_second"] = 2
        self.fake.seed(seed)
        self.fake.reset()
        out = {}

        def go(name):
            out[name] = self.run_fn(load(name))
        ts = [threading.Thread(target=go, args=(n,)) for n in
              ("schedule-deletion-enabled-key.json", "schedule-deletion-disabled-key.json",
               "schedule-deletion-no-history.json")]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        for name, res in out.items():
            with self.subTest(event=name):
                self.assertTrue(res.ok, res)
                self.assertNotIn("history unavailable", res.report["prior_state_source"])
                self.assertEqual(steps(res.report)["key-history"]["status"], "done", res.report)
        self.assertEqual(key_state(self.fake, K_EN)["KeyState"], "Enabled")
        self.assertEqual(key_state(self.fake, K_DIS)["KeyState"], "Disabled")

    def test_cancel_always_failing_is_a_function_error(self):
        self.fake.faults({"kind": "error", "service": "kms", "operation": "CancelKeyDeletion"})
        res = self.run_fn(load("schedule-deletion-enabled-key.json"))
        self.assertFalse(res.ok)
        self.assertEqual(res.error_type, "Firebreak.ContainmentFailed")
        rep = res.report
        self.assertEqual(rep["verdict"], "failed")
        self.assertEqual(steps(rep)["cancel-deletion"]["status"], "failed")
        self.assertIn("InternalFailure", steps(rep)["cancel-deletion"]["error"])
        self.assertIsNone(rep["timings"]["contained"])
        self.assertEqual(key_state(self.fake, K_EN)["KeyState"], "PendingDeletion")
        self.assertNotIn("kms:EnableKey", fbtest.ops(self.fake.calls()))

    def test_dry_run_env_writes_nothing(self):
        res = self.run_fn(load("schedule-deletion-enabled-key.json"), env={"FIREBREAK_DRY_RUN": "true"})
        self.assertTrue(res.ok, res)
        self.assertTrue(res.report["dry_run"])
        self.assertEqual(fbtest.writes(self.fake.calls()), [])
        st = steps(res.report)
        for s in ("cancel-deletion", "enable-key", "tag-incident"):
            self.assertEqual(st[s]["status"], "planned", s)
        self.assertEqual(key_state(self.fake, K_EN)["KeyState"], "PendingDeletion")
        self.assertIn("kms:DescribeKey", fbtest.ops(self.fake.calls()))  # reads still happen
        # the report is still published, marked as a dry run
        self.assertTrue(json.loads(self.published()[0]["Message"])["dry_run"])

    def test_dry_run_manual_event(self):
        res = self.run_fn(load("manual-dry-run.json"))
        self.assertTrue(res.ok, res)
        self.assertTrue(res.report["dry_run"])
        self.assertEqual(fbtest.writes(self.fake.calls()), [])
        self.assertEqual(steps(res.report)["cancel-deletion"]["status"], "planned")

    # ---- malformed events: clear error, zero AWS calls --------------------------------
    def check_invalid(self, payload, want, raw=False):
        res = self.run_fn(payload, raw=raw)
        self.assertFalse(res.ok, res)
        self.assertEqual(res.error_type, "Firebreak.InvalidEvent", res)
        self.assertIn(want, res.error_message)
        self.assertEqual(self.fake.calls(), [])

    def test_invalid_events(self):
        cases = [
            ("invalid-missing-keyid.json", "missing 'keyId'"),
            ("invalid-keyid-wrong-type.json", "'keyId'"),
            ("invalid-dryrun-wrong-type.json", "dryRun"),
            ("invalid-array.json", "not a JSON object"),
            ("invalid-wrong-source.json", "source 'aws.s3'"),
            ("invalid-other-kms-call.json", "eventName 'EnableKey'"),
            ("invalid-eventbridge-missing-keyid.json", "missing 'detail.requestParameters.keyId'"),
            ("invalid-detail-wrong-type.json", "'detail' must be an object"),
            ("not-a-trigger-kms-cmk-deletion.json", "not a kms-guard trigger"),
            ("alarm-other-alarm.json", "not a kms-guard trigger"),
            ("alarm-ok-state.json", "alarm state 'OK'"),
            ("invalid-tag-other-key.json", "changes no firebreak:* tag"),
        ]
        for name, want in cases:
            with self.subTest(name=name):
                self.fake.reset_calls()
                self.check_invalid(load(name), want)

    def test_invalid_raw_payloads(self):
        cases = [
            (load("invalid-empty.json"), "empty event"),
            (load("invalid-not-json.json"), "not JSON"),
            (b"\x00\xff\xfe garbage", "control byte 0x00"),
            (b"\xff\xfe garbage", "invalid UTF-8"),
            (b"[" * 5000 + b"]" * 5000, "nesting deeper than"),  # refused before cJSON recurses
            (b'{"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab\\u0000"}', "\\u0000"),
            (b'{"keyId": "' + b"A" * (1024 * 1024) + b'"}', "byte limit"),  # 1 MB of junk
        ]
        for payload, want in cases:
            with self.subTest(payload=payload[:20]):
                self.fake.reset_calls()
                self.check_invalid(payload, want, raw=True)

    # ---- the alarm: every change in the window, one report, a section per key -------
    def test_alarm_handles_every_key_in_window(self):
        res = self.run_fn(load("alarm-kms-key-changes.json"))
        self.assertTrue(res.ok, res)
        rep = res.report
        by_key = {s["key"].rsplit("/", 1)[-1]: s for s in rep["keys"]}
        self.assertEqual(set(by_key), {K_EN, K_DK, K_AWS, K_EXEMPT})
        self.assertTrue(by_key[K_EN]["outcome"].startswith("contained"))
        self.assertTrue(by_key[K_DK]["outcome"].startswith("contained"))
        self.assertIn("AccessDeniedException", by_key[K_AWS]["outcome"])
        self.assertIn("trusted actor", by_key[K_EXEMPT]["outcome"])
        self.assertEqual(key_state(self.fake, K_EN)["KeyState"], "Enabled")
        self.assertEqual(key_state(self.fake, K_DK)["KeyState"], "Enabled")
        targets = {c["params"]["KeyId"] for c in fbtest.writes(self.fake.calls())}
        self.assertEqual(targets, {arn(K_EN), arn(K_DK)})
        lookups = [c for c in self.fake.calls() if c["operation"] == "LookupEvents"
                   and c["params"]["LookupAttributes"][0]["AttributeKey"] == "EventName"]
        self.assertEqual(sorted(c["params"]["LookupAttributes"][0]["AttributeValue"] for c in lookups),
                         ["DisableKey", "ScheduleKeyDeletion"])
        self.assertEqual(len(self.published()), 1)

    def test_alarm_paginates(self):
        seed = copy.deepcopy(SEED)
        # 120 failed DisableKey calls in the window: three pages of 50
        for i in range(120):
            seed["cloudtrail"]["records"].append(record(
                "DisableKey", K_EXEMPT, "2024-03-01T10:03:%02dZ" % (i % 60), event_id="noise-%d" % i,
                errorCode="AccessDeniedException"))
        self.fake.seed(seed)
        self.fake.reset()
        res = self.run_fn(load("alarm-kms-key-changes.json"))
        self.assertTrue(res.ok, res)
        pages = [c for c in self.fake.calls() if c["operation"] == "LookupEvents"
                 and c["params"]["LookupAttributes"][0]["AttributeValue"] == "DisableKey"]
        self.assertEqual(len(pages), 3)
        self.assertEqual(key_state(self.fake, K_DK)["KeyState"], "Enabled")


class CrossAccount(unittest.TestCase):
    """An event from a member account: act through FIREBREAK_MEMBER_ROLE, or fail clearly."""
    MEMBER = "222222222222"
    KEY = "bbbb0000-0000-0000-0000-000000000002"

    def event(self):
        ev = json.loads(load("disable-key.json"))
        ev["account"] = ev["detail"]["recipientAccountId"] = self.MEMBER
        ev["detail"]["requestParameters"]["keyId"] = self.KEY
        return ev

    def seed(self):
        return {"default_account": ACCT, "sns": {"topics": [TOPIC]},
                "roles": [{"arn": "arn:aws:iam::%s:role/firebreak-member" % self.MEMBER}],
                "kms": {"keys": [{"KeyId": self.KEY, "account": self.MEMBER, "KeyState": "Disabled"}]}}

    def test_member_role_is_assumed(self):
        with fbtest.Fake(self.seed()) as fake:
            res = fbtest.invoke(FN, self.event(), fake,
                                env=dict(ENV, FIREBREAK_MEMBER_ROLE="firebreak-member"))
            self.assertTrue(res.ok, res)
            self.assertEqual(res.report["verdict"], "contained")
            self.assertEqual(key_state(fake, self.KEY, acct=self.MEMBER)["KeyState"], "Enabled")
            issued = fake.state()["sts"]["issued"]
            self.assertEqual([i["role_arn"] for i in issued],
                             ["arn:aws:iam::%s:role/firebreak-member" % self.MEMBER])
            enables = [c for c in fake.calls() if c["operation"] == "EnableKey"]
            self.assertEqual([c["account"] for c in enables], [self.MEMBER])

    def test_without_member_role_fails_clearly(self):
        with fbtest.Fake(self.seed()) as fake:
            res = fbtest.invoke(FN, self.event(), fake, env=ENV)
            self.assertFalse(res.ok)
            self.assertEqual(res.error_type, "Firebreak.ContainmentFailed")
            self.assertIn("FIREBREAK_MEMBER_ROLE", steps(res.report)["client"]["error"] or
                          steps(res.report)["client"]["detail"])
            self.assertEqual(fbtest.writes(fake.calls()), [])
            self.assertEqual(key_state(fake, self.KEY, acct=self.MEMBER)["KeyState"], "Disabled")


class ReferenceEvents(unittest.TestCase):
    """The published KMS CloudTrail records, wrapped in the EventBridge envelope."""
    ACCT = "111122223333"

    def setUp(self):
        if not os.path.isdir(fbtest.REFERENCE_EVENTS):
            self.skipTest("../shared/reference-events not present")

    def run_ref(self, name, keys, check):
        rec = fbtest.reference(name)
        if rec is None:
            self.skipTest(name + " not present")
        seed = {"default_account": self.ACCT, "sns": {"topics": ["arn:aws:sns:us-east-1:%s:fb" % self.ACCT]},
                "kms": {"keys": keys}}
        with fbtest.Fake(seed) as fake:
            ev = fbtest.eventbridge_wrap(rec, event_id="ref-" + name)
            res = fbtest.invoke(FN, ev, fake, account=self.ACCT,
                                env={"FIREBREAK_TOPIC_ARN": "arn:aws:sns:us-east-1:%s:fb" % self.ACCT})
            check(res, fake)

    def test_schedule_deletion_single_region(self):
        k = "1234abcd-12ab-34cd-56ef-1234567890ab"

        def check(res, fake):
            self.assertTrue(res.ok, res)
            self.assertEqual(res.report["verdict"], "contained")
            self.assertIn("region mismatch", res.report["note"])
            st = key_state(fake, k, "us-west-2", self.ACCT)
            self.assertEqual(st["KeyState"], "Disabled")  # no history: the safe default
        self.run_ref("kms-schedulekeydeletion-single-region.cloudtrail-record.json",
                     [dict(pending(k, 20), region="us-west-2")], check)

    def test_schedule_deletion_multi_region(self):
        k = "mrk-1234abcd12ab34cd56ef1234567890ab"
        other = "arn:aws:kms:eu-west-1:%s:key/%s" % (self.ACCT, k)

        def check(res, fake):
            self.assertTrue(res.ok, res)
            self.assertEqual(res.report["verdict"], "contained")
            st = key_state(fake, k, "us-west-2", self.ACCT)
            self.assertNotIn(st["KeyState"], ("PendingDeletion", "PendingReplicaDeletion"))
        self.run_ref("kms-schedulekeydeletion-multi-region.cloudtrail-record.json",
                     [{"KeyId": k, "region": "us-west-2", "KeyState": "PendingReplicaDeletion",
                       "DeletionDate": 1900000000, "MultiRegion": True, "MultiRegionConfiguration": {
                           "MultiRegionKeyType": "PRIMARY",
                           "PrimaryKey": {"Arn": "arn:aws:kms:us-west-2:%s:key/%s" % (self.ACCT, k),
                                          "Region": "us-west-2"},
                           "ReplicaKeys": [{"Arn": other, "Region": "eu-west-1"}]}}], check)

    def test_schedule_deletion_custom_key_store(self):
        k = "0987dcba-09fe-87dc-65ba-ab0987654321"

        def check(res, fake):
            self.assertTrue(res.ok, res)
            self.assertEqual(key_state(fake, k, "us-west-2", self.ACCT)["KeyState"], "Disabled")
        self.run_ref("kms-schedulekeydeletion-custom-key-store.cloudtrail-record.json",
                     [dict(pending(k, 30), region="us-west-2", Origin="AWS_CLOUDHSM")], check)

    def test_disable_key(self):
        k = "1234abcd-12ab-34cd-56ef-1234567890ab"

        def check(res, fake):
            self.assertTrue(res.ok, res)
            self.assertEqual(key_state(fake, k, "us-west-2", self.ACCT)["KeyState"], "Enabled")
            self.assertIn("region mismatch", res.report["note"])
        self.run_ref("kms-disablekey.cloudtrail-record.json",
                     [{"KeyId": k, "region": "us-west-2", "KeyState": "Disabled"}], check)

    def test_not_triggers(self):
        with fbtest.Fake({"default_account": self.ACCT}) as fake:
            evs = []
            native = fbtest.reference("kms-cmk-deletion.eventbridge.json")
            if native:
                evs.append(native)
            svc = fbtest.reference("kms-deletekey-service-event.cloudtrail-record.json")
            if svc:
                evs.append(fbtest.eventbridge_wrap(svc, detail_type="AWS Service Event via CloudTrail"))
                evs.append(fbtest.eventbridge_wrap(svc))  # even mislabelled: DeleteKey is no trigger
            for ev in evs:
                res = fbtest.invoke(FN, ev, fake, account=self.ACCT)
                self.assertFalse(res.ok)
                self.assertEqual(res.error_type, "Firebreak.InvalidEvent")
                self.assertIn("not a kms-guard trigger", res.error_message)
            self.assertEqual(fake.calls(), [])


if __name__ == "__main__":
    fbtest.main([KmsGuard, CrossAccount, ReferenceEvents])
