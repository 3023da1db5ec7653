#!/usr/bin/python3
"""Wiring: every EventBridge rule of infra/template.yaml against every
sample event (events/**.json and ../shared/reference-events/*.json when
present) with an EventBridge pattern matcher (tests/infra/eventpattern.py,
unit-tested here on the documented examples first). Each event reaches
exactly the functions meant for it:

  * events/<fn>/X.json that is an EventBridge envelope: {fn}, except the
    EXCEPTIONS below (a non-trigger the rule filters out, or an event meant
    for two functions);
  * events/<fn>/invalid-*.json: nothing, or <fn> (the function rejects it);
    never another function;
  * manual and awslogs payloads are not EventBridge events: no rule matches;
  * reference events: REFERENCE below (CloudTrail records are wrapped in the
    envelope EventBridge delivers, as the reference README describes).

Also: one target and one Lambda permission per rule, the member account
forwards with the same patterns, the leak-rotate subscriptions never cover
the responders' own log groups. Prints "N passed, N failed".
"""
import copy
import fnmatch
import glob
import json
import os
import sys
import unittest

sys.dont_write_bytecode = True   # no __pycache__ in tests/infra
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "infra"))
import cfnyaml  # noqa: E402
import cfnmodel  # noqa: E402
from eventpattern import match, check  # noqa: E402

TEMPLATE = os.path.join(ROOT, "infra", "template.yaml")
MEMBER = os.path.join(ROOT, "infra", "member-account.yaml")
REFDIR = os.path.join(ROOT, "..", "shared", "reference-events")
STACK = cfnmodel.PSEUDO_VALUES["AWS::StackName"]

# events/<fn>/<file>: the functions it is meant to reach, when not {fn}.
EXCEPTIONS = {
    "kms-guard/alarm-ok-state.json": set(),           # only ALARM is a trigger
    "public-lock/own-write-all-on.json": set(),       # its own write (all on) never invokes it
    "public-lock/securityhub-s3.2-passed.json": set(),  # PASSED: not a trigger
    "public-lock/securityhub-s3.3-passed.json": set(),
    "kms-guard/alarm-other-alarm.json": set(),        # another alarm
    "kms-guard/not-a-trigger-kms-cmk-deletion.json": set(),  # deletion done: nothing to cancel
    "root-verify/alarm-root-usage-ok.json": set(),
    "root-verify/alarm-single-metric.eventbridge.json": set(),  # AWS sample of another alarm
    "root-verify/alarm-metric-math.eventbridge.json": set(),
    "root-verify/not-root-iam-user.json": set(),      # not root
    "leak-rotate/alarm-ok-ignored.json": set(),
    "task-quarantine/guardduty-ecs-low-severity.json": set(),  # below MinSeverity (7)
    "iam-contain/not-a-trigger-failed-call.json": set(),          # errorCode: nothing changed
    "iam-contain/guardduty-accesskey-low-severity.json": set(),  # below IamMinSeverity (4)
    "instance-quarantine/guardduty-ec2-sample.json": set(),    # AWS sample, severity 5 < MinSeverity
    "instance-quarantine/guardduty-ec2-c7n-sample.json": set(),  # AWS sample, severity 5 < MinSeverity
    "net-block/not-a-trigger-failed-call.json": set(),  # errorCode: the call changed nothing
    "access-triage/alarm-back-to-ok.json": set(),  # only ALARM is a trigger
    # an AccessKey finding naming DynamoDB: iam-contain contains the key, data-breach preserves the table
    "data-breach/guardduty-anomalous-dynamodb.json": {"data-breach", "iam-contain"},
    # issue 23: the access key of an IAM user: iam-contain contains the user, codeartifact-lock the domain
    "codeartifact-lock/guardduty-codeartifact-user.json": {"codeartifact-lock", "iam-contain"},
}
# Reference files (fnmatch on the name) -> meant for; the rest: nothing.
REFERENCE = [
    ("root-*", {"root-verify"}),
    ("kms-schedulekeydeletion-*", {"kms-guard"}),
    ("kms-disablekey.*", {"kms-guard"}),
    ("guardduty-finding-detail-iam-accesskey.*", {"iam-contain"}),
    ("guardduty-finding-iam-accesskey-*", {"iam-contain"}),
]


def wrap_cloudtrail(rec):
    """A CloudTrail record as EventBridge delivers it (detail = the record)."""
    src = "aws." + rec.get("eventSource", "").split(".")[0]
    dt = {"AwsConsoleSignIn": "AWS Console Sign In via CloudTrail",
          "AwsServiceEvent": "AWS Service Event via CloudTrail"}.get(rec.get("eventType"),
                                                                     "AWS API Call via CloudTrail")
    return {"version": "0", "id": rec.get("eventID", "0"), "detail-type": dt, "source": src,
            "account": rec.get("recipientAccountId") or rec.get("userIdentity", {}).get("accountId", ""),
            "time": rec.get("eventTime", ""), "region": rec.get("awsRegion", "us-east-1"),
            "resources": [], "detail": rec}


def is_envelope(e):
    return isinstance(e, dict) and "detail-type" in e and "source" in e


class Wiring:
    def __init__(self, tpl, params=None):
        self.m = cfnmodel.Model(tpl, params)
        self.rules = {}   # rule id -> (pattern, function name)
        for lid, r in tpl["Resources"].items():
            if r["Type"] != "AWS::Events::Rule":
                continue
            tgt = r["Properties"]["Targets"]
            fn_lid = tgt[0]["Arn"]["Fn::GetAtt"][0] if len(tgt) == 1 and "Fn::GetAtt" in tgt[0]["Arn"] else None
            fname = None
            if fn_lid:
                fname = self.m.resolve(tpl["Resources"][fn_lid]["Properties"]["FunctionName"])[len(STACK) + 1:]
            self.rules[lid] = (self.m.event_pattern(lid), fname)

    def route(self, event):
        return {fn for pat, fn in self.rules.values() if match(pat, event)}


def load_json(path):
    try:
        with open(path, encoding="utf-8-sig") as f:
            return json.load(f), True
    except (ValueError, UnicodeDecodeError):
        return None, False


class Matcher(unittest.TestCase):
    """The matcher against the examples of the EventBridge user guide and
    aws/event-ruler's README."""
    ev = {"version": "0", "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
          "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
          "account": "012345679012", "time": "2017-10-02T16:24:49Z", "region": "us-east-1",
          "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
          "detail": {"c-count": 5, "d-count": 3, "x-limit": 301.8, "source-ip": "10.0.0.33",
                     "instance-id": "i-000000aaaaaa00000", "state": "running"}}

    def ok(self, pattern, event=None):
        check(pattern)
        self.assertTrue(match(pattern, self.ev if event is None else event), pattern)

    def no(self, pattern, event=None):
        check(pattern)
        self.assertFalse(match(pattern, self.ev if event is None else event), pattern)

    def test_exact_and_arrays(self):
        self.ok({"detail-type": ["EC2 Instance State-change Notification"],
                 "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
                 "detail": {"state": ["initializing", "running"]}})
        self.no({"detail": {"state": ["initializing"]}})
        self.no({"detail": {"state": ["Running"]}})
        self.ok({"resources": ["x", "arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"]})
        self.no({"detail": {"missing": ["x"]}})

    def test_numbers_booleans_null_empty(self):
        self.ok({"detail": {"c-count": [5]}})
        self.ok({"detail": {"x-limit": [3.018e2]}})
        self.no({"detail": {"c-count": ["5"]}})
        e = {"detail": {"eventVersion": "", "responseElements": None, "flag": True}}
        self.ok({"detail": {"eventVersion": [""]}}, e)
        self.ok({"detail": {"responseElements": [None]}}, e)
        self.no({"detail": {"eventVersion": [None]}}, e)      # null and "" differ
        self.no({"detail": {"responseElements": [""]}}, e)
        self.ok({"detail": {"flag": [True]}}, e)
        self.no({"detail": {"flag": [1]}}, e)

    def test_prefix_suffix_ignore_case(self):
        self.ok({"time": [{"prefix": "2017-10-02"}]})
        self.no({"time": [{"prefix": "2017-10-03"}]})
        self.ok({"source": [{"suffix": "ec2"}]})
        self.ok({"source": [{"equals-ignore-case": "AWS.EC2"}]})
        self.ok({"detail": {"state": [{"prefix": {"equals-ignore-case": "RUN"}}]}})
        self.ok({"detail": {"instance-id": [{"suffix": {"equals-ignore-case": "AAAAAA00000"}}]}})
        self.no({"detail": {"c-count": [{"prefix": "5"}]}})   # strings only

    def test_anything_but(self):
        self.ok({"detail": {"state": [{"anything-but": "initializing"}]}})
        self.no({"detail": {"state": [{"anything-but": ["stopped", "running"]}]}})
        self.ok({"detail": {"x-limit": [{"anything-but": 123}]}})
        self.no({"detail": {"x-limit": [{"anything-but": [100, 301.8, 300]}]}})
        self.no({"detail": {"state": [{"anything-but": {"prefix": "run"}}]}})
        self.ok({"detail": {"state": [{"anything-but": {"prefix": "init"}}]}})
        self.no({"detail": {"state": [{"anything-but": {"suffix": "ing"}}]}})
        self.no({"detail": {"state": [{"anything-but": {"equals-ignore-case": "RUNNING"}}]}})
        self.ok({"detail": {"state": [{"anything-but": {"equals-ignore-case": ["stopped", "x"]}}]}})
        self.no({"detail": {"state": [{"anything-but": {"wildcard": "r*g"}}]}})
        self.no({"detail": {"missing": [{"anything-but": "x"}]}})  # needs the field
        with self.assertRaises(ValueError):
            check({"a": [{"anything-but": ["x", 1]}]})

    def test_numeric(self):
        self.ok({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}],
                            "d-count": [{"numeric": ["<", 10]}],
                            "x-limit": [{"numeric": ["=", 3.018e2]}]}})
        self.no({"detail": {"c-count": [{"numeric": [">", 5]}]}})
        self.ok({"detail": {"c-count": [{"numeric": [">=", 5]}]}})
        self.no({"detail": {"state": [{"numeric": [">", 0]}]}})   # JSON numbers only
        with self.assertRaises(ValueError):
            check({"a": [{"numeric": [">", "7"]}]})

    def test_exists(self):
        self.ok({"detail": {"c-count": [{"exists": True}]}})
        self.no({"detail": {"c-count": [{"exists": False}]}})
        self.ok({"detail": {"nope": [{"exists": False}]}})
        # exists works on leaves: an object-valued field does not exist.
        e = {"detail": {"state": "x", "c-count": {"c1": 100}}}
        self.ok({"detail": {"c-count": [{"exists": False}]}}, e)
        self.no({"detail": {"c-count": [{"exists": True}]}}, e)

    def test_wildcard_and_cidr(self):
        self.ok({"detail-type": [{"wildcard": "EC2*Notification"}]})
        self.ok({"source": [{"wildcard": "aws.*"}]})
        self.no({"source": [{"wildcard": "*.s3"}]})
        self.ok({"x": [{"wildcard": "a\\*b"}]}, {"x": "a*b"})
        self.no({"x": [{"wildcard": "a\\*b"}]}, {"x": "axb"})
        with self.assertRaises(ValueError):
            check({"x": [{"wildcard": "a**b"}]})
        self.ok({"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}})
        self.no({"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}})

    def test_or(self):
        e = {"source": "aws.cloudwatch", "metricName": "CPUUtilization", "namespace": "AWS/EC2"}
        self.ok({"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization", "ReadLatency"]},
                                                       {"namespace": ["AWS/ES"]}]}, e)
        self.no({"source": ["aws.cloudwatch"], "$or": [{"metricName": ["ReadLatency"]},
                                                       {"namespace": ["AWS/ES"]}]}, e)
        self.ok({"$or": [{"metricName": ["x"]}, {"metricType": ["y"], "namespace": ["AWS/EC2"]},
                         {"namespace": ["AWS/EC2"]}]}, e)

    def test_array_consistency(self):
        e = {"employees": [{"firstName": "John", "lastName": "Doe"},
                           {"firstName": "Anna", "lastName": "Smith"},
                           {"firstName": "Peter", "lastName": "Jones"}]}
        self.ok({"employees": {"firstName": ["Anna"]}}, e)
        self.no({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}, e)
        self.ok({"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}, e)
        nested = {"employees": [[{"firstName": "John"}, {"firstName": "Anna"}], [{"firstName": "Peter"}]]}
        self.ok({"employees": {"firstName": ["Peter"]}}, nested)

    def test_invalid_patterns(self):
        for bad in ({}, {"a": "x"}, {"a": []}, {"a": [{"nope": 1}]}, {"a": [{"prefix": 1}]}):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                check(bad)


class Routing(unittest.TestCase):
    tpl = cfnyaml.load(TEMPLATE)
    w = Wiring(tpl)

    def test_rules_are_valid_and_one_target_one_permission(self):
        perms = {}
        for lid, r in self.tpl["Resources"].items():
            if r["Type"] == "AWS::Lambda::Permission" and r["Properties"]["Principal"] == "events.amazonaws.com":
                src = r["Properties"]["SourceArn"]["Fn::GetAtt"][0]
                perms.setdefault(src, []).append(r["Properties"]["FunctionName"]["Ref"])
        for lid, (pat, fn) in self.w.rules.items():
            with self.subTest(rule=lid):
                check(pat)
                self.assertIsNotNone(fn, "exactly one target, a function of this template")
                tfn = self.tpl["Resources"][lid]["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0]
                self.assertEqual(perms.get(lid), [tfn], "exactly one permission, for the target")
        self.assertEqual(set(perms), set(self.w.rules))

    def check_event(self, label, event, must, may):
        got = self.w.route(event)
        self.assertTrue(must <= got <= (may | must), f"{label}: reached {sorted(got)}, meant {sorted(must)}"
                        + (f" (or {sorted(may)})" if may - must else ""))

    def test_repo_events(self):
        n = 0
        for path in sorted(glob.glob(os.path.join(ROOT, "events", "*", "*.json"))):
            fn = os.path.basename(os.path.dirname(path))
            rel = f"{fn}/{os.path.basename(path)}"
            ev, ok = load_json(path)
            if not ok:
                continue   # not JSON: EventBridge cannot deliver it
            n += 1
            with self.subTest(event=rel):
                if rel in EXCEPTIONS:
                    self.check_event(rel, ev, EXCEPTIONS[rel], EXCEPTIONS[rel])
                elif os.path.basename(path).startswith("invalid-"):
                    self.check_event(rel, ev, set(), {fn})
                elif is_envelope(ev):
                    self.check_event(rel, ev, {fn}, {fn})
                else:
                    self.check_event(rel, ev, set(), set())
        self.assertGreater(n, 0)

    def test_stale_exceptions(self):
        for rel in EXCEPTIONS:
            self.assertTrue(os.path.exists(os.path.join(ROOT, "events", rel)), f"{rel} listed but missing")

    def test_reference_events(self):
        if not os.path.isdir(REFDIR):
            self.skipTest("../shared/reference-events not present")
        for path in sorted(glob.glob(os.path.join(REFDIR, "*.json"))):
            name = os.path.basename(path)
            ev, ok = load_json(path)
            self.assertTrue(ok, name)
            if name.endswith(".cloudtrail-record.json"):
                ev = wrap_cloudtrail(ev)
            elif name.startswith("guardduty-finding-detail"):
                ev = {"version": "0", "id": "x", "detail-type": "GuardDuty Finding", "source": "aws.guardduty",
                      "account": ev.get("accountId", ""), "time": "", "region": ev.get("region", ""),
                      "resources": [], "detail": ev}
            meant = set()
            for pat, fns in REFERENCE:
                if fnmatch.fnmatch(name, pat):
                    meant = fns
            with self.subTest(event=name):
                self.check_event(name, ev, meant, meant)

    def test_root_kms_call_reaches_both(self):
        # A root ScheduleKeyDeletion is root usage and a key change.
        ev, _ = load_json(os.path.join(ROOT, "events", "kms-guard", "schedule-deletion-enabled-key.json"))
        ev = copy.deepcopy(ev)
        ev["detail"]["userIdentity"] = {"type": "Root", "principalId": ev["account"],
                                        "arn": f"arn:aws:iam::{ev['account']}:root", "accountId": ev["account"]}
        self.assertEqual(self.w.route(ev), {"kms-guard", "root-verify"})

    def test_responders_own_writes_trigger_nothing(self):
        # Loop safety: the API calls responders make, as CloudTrail events.
        base, _ = load_json(os.path.join(ROOT, "events", "kms-guard", "schedule-deletion-enabled-key.json"))
        for src, name in (("kms", "CancelKeyDeletion"), ("kms", "EnableKey"), ("kms", "TagResource"),
                          ("ec2", "CreateSecurityGroup"), ("ecs", "StopTask"),
                          ("secretsmanager", "RotateSecret"), ("iam", "UpdateAccessKey"),
                          # issue 19: net-block's writes
                          ("ec2", "RevokeSecurityGroupIngress"), ("ec2", "CreateNetworkAclEntry"),
                          ("ec2", "DeleteNetworkAclEntry"), ("wafv2", "UpdateIPSet")):
            ev = copy.deepcopy(base)
            ev["source"] = "aws." + src
            ev["detail"]["eventSource"] = f"{src}.amazonaws.com"
            ev["detail"]["eventName"] = name
            ev["detail"]["userIdentity"] = {"type": "AssumedRole",
                                            "arn": f"arn:aws:sts::1:assumed-role/{STACK}-kms-guard/x"}
            with self.subTest(call=f"{src}:{name}"):
                self.assertEqual(self.w.route(ev), set())

    def test_kms_guard_incident_tag_is_not_a_tag_change_trigger(self):
        # kms-guard tags every key it contains with firebreak:incident; only the
        # exemption keys reach it back (KmsTagChangeRule), in a set or a removal.
        base, _ = load_json(os.path.join(ROOT, "events", "kms-guard", "tag-exempt-untrusted.json"))
        self.assertEqual(self.w.route(base), {"kms-guard"})
        ev = copy.deepcopy(base)
        ev["detail"]["requestParameters"]["tags"] = [{"tagKey": "firebreak:incident", "tagValue": "fb-1"}]
        self.assertEqual(self.w.route(ev), set())
        ev = copy.deepcopy(base)
        ev["detail"]["eventName"] = "UntagResource"
        ev["detail"]["requestParameters"] = {"keyId": "k", "tagKeys": ["firebreak:incident"]}
        self.assertEqual(self.w.route(ev), set())
        ev["detail"]["requestParameters"]["tagKeys"] = ["Owner", "firebreak:allow-deletion"]
        self.assertEqual(self.w.route(ev), {"kms-guard"})

    def test_severity_parameter_moves_the_threshold(self):
        low, _ = load_json(os.path.join(ROOT, "events", "task-quarantine", "guardduty-ecs-low-severity.json"))
        sev = low["detail"]["severity"]
        self.assertEqual(Wiring(self.tpl, {"MinSeverity": str(sev)}).route(low), {"task-quarantine"})
        self.assertEqual(Wiring(self.tpl, {"MinSeverity": str(sev + 0.1)}).route(low), set())

    def test_alarm_names_are_parameters(self):
        ev, _ = load_json(os.path.join(ROOT, "events", "root-verify", "alarm-single-metric.eventbridge.json"))
        name = ev["detail"]["alarmName"]
        self.assertEqual(Wiring(self.tpl, {"RootAlarmName": name}).route(ev), {"root-verify"})
        self.assertEqual(Wiring(self.tpl, {"KmsAlarmName": name}).route(ev), {"kms-guard"})


class Member(unittest.TestCase):
    def test_forwarding_patterns_equal_the_security_rules(self):
        sec = Wiring(cfnyaml.load(TEMPLATE))
        mt = cfnyaml.load(MEMBER)
        mm = cfnmodel.Model(mt, {"SecurityAccountId": "999999999999"})
        fwd = []
        for lid, r in mt["Resources"].items():
            if r["Type"] == "AWS::Events::Rule":
                tg = mm.resolve(r["Properties"]["Targets"])
                self.assertEqual(len(tg), 1)
                self.assertEqual(tg[0]["Arn"], "arn:aws:events:us-east-1:999999999999:event-bus/default")
                self.assertEqual(tg[0]["RoleArn"], "<ForwardRole.Arn>")
                fwd.append(mm.event_pattern(lid))
        # CloudWatch alarms are the security account's own, except data-breach's: a table's
        # read alarm is in the table's account and is forwarded (issue 22)
        want = [p for lid, (p, _) in sec.rules.items()
                if p.get("source") != ["aws.cloudwatch"] or lid == "DataBreachAlarmRule"]
        key = lambda p: json.dumps(p, sort_keys=True)  # noqa: E731
        self.assertEqual(sorted(map(key, fwd)), sorted(map(key, want)))


class LeakSubscriptions(unittest.TestCase):
    tpl = cfnyaml.load(TEMPLATE)
    own = [f"/aws/lambda/{STACK}-{f}" for f in ("root-verify", "kms-guard", "leak-rotate", "task-quarantine",
                                                 "public-lock", "iam-contain", "instance-quarantine",
                                                 "net-block", "access-triage", "data-breach",
                                                 "cognito-lockdown",  # issue 23
                                                 "codeartifact-lock")]

    def subscribed(self, groups, account_wide="false", **params):
        params.update({"LeakLogGroups": groups, "LeakAccountWideSubscription": account_wide})
        m = cfnmodel.Model(self.tpl, params)
        out = []
        for lid, r in self.tpl["Resources"].items():
            if r["Type"] == "AWS::Logs::SubscriptionFilter" and m.active(lid):
                p = m.resolve(r["Properties"])
                self.assertEqual(p["DestinationArn"], "<LeakRotateFunction.Arn>")
                out.append(p["LogGroupName"])
        return out, m

    def test_listed_groups_subscribed(self):
        got, _ = self.subscribed(["/app/a", "/app/b", "/app/c"])
        self.assertEqual(sorted(got), ["/app/a", "/app/b", "/app/c"])
        got, _ = self.subscribed([""])
        self.assertEqual(got, [])

    def test_own_groups_never(self):
        # LeakLogGroups has 5 slots; with more responders than 4 the own
        # groups are tried in every slot, 4 at a time with one other group.
        for i, g in enumerate(self.own):
            for slot in range(4):
                groups = ["/app/a"] * slot + [g] + ["/app/z"]
                with self.subTest(group=g, slot=slot):
                    got, _ = self.subscribed(groups)
                    self.assertNotIn(g, got)
                    self.assertIn("/app/z", got)
        for k in range(0, len(self.own), 4):
            got, _ = self.subscribed(self.own[k:k + 4] + ["/app/x"])
            self.assertEqual(got, ["/app/x"])

    def test_function_log_groups_are_the_excluded_names(self):
        m = cfnmodel.Model(self.tpl)
        names = sorted(m.resolve(r["Properties"]["LogGroupName"]) for r in self.tpl["Resources"].values()
                       if r["Type"] == "AWS::Logs::LogGroup")
        self.assertEqual(names, sorted(self.own))

    def test_account_policy_excludes_own_groups(self):
        _, m = self.subscribed([""], "true")
        pol = [lid for lid, r in self.tpl["Resources"].items() if r["Type"] == "AWS::Logs::AccountPolicy"]
        self.assertEqual(len(pol), 1)
        self.assertTrue(m.active(pol[0]))
        p = m.resolve(self.tpl["Resources"][pol[0]]["Properties"])
        crit = p["SelectionCriteria"]
        self.assertTrue(crit.startswith("LogGroupName NOT IN "))
        self.assertEqual(sorted(json.loads(crit[len("LogGroupName NOT IN "):])), sorted(self.own))
        self.assertEqual(json.loads(p["PolicyDocument"])["DestinationArn"], "<LeakRotateFunction.Arn>")
        self.assertFalse(cfnmodel.Model(self.tpl).active(pol[0]))

    def excluded(self, **params):
        _, m = self.subscribed([""], "true", **params)
        pol = [lid for lid, r in self.tpl["Resources"].items() if r["Type"] == "AWS::Logs::AccountPolicy"][0]
        crit = m.resolve(self.tpl["Resources"][pol]["Properties"])["SelectionCriteria"]
        self.assertTrue(crit.startswith("LogGroupName NOT IN "))
        names = json.loads(crit[len("LogGroupName NOT IN "):])
        self.assertLessEqual(len(names), 50)  # the account policy's NOT IN limit
        return names

    def test_account_policy_excludes_audit_groups(self):
        # issue 16 item 2: the trail's group and the listed audit groups are
        # left out of the account-wide subscription
        trail = "aws-cloudtrail-logs-999999999999-firebreak"
        self.assertEqual(sorted(self.excluded(CloudTrailLogGroupName=trail)), sorted(self.own + [trail]))
        got = self.excluded(CloudTrailLogGroupName=trail, LeakExcludedLogGroups=["/org/trail", "/audit/b"])
        self.assertEqual(sorted(got), sorted(self.own + [trail, "/org/trail", "/audit/b"]))
        got = self.excluded(LeakExcludedLogGroups=["/org/trail"])
        self.assertEqual(sorted(got), sorted(self.own + ["/org/trail"]))
        self.assertEqual(self.tpl["Parameters"]["LeakExcludedLogGroups"]["Type"], "CommaDelimitedList")

    def test_trail_group_never_a_slot(self):
        trail = "aws-cloudtrail-logs-999999999999-firebreak"
        got, _ = self.subscribed(["/app/a", trail, "/app/b"], CloudTrailLogGroupName=trail)
        self.assertEqual(sorted(got), ["/app/a", "/app/b"])
        got, _ = self.subscribed(["/app/a", "/app/b"])
        self.assertEqual(sorted(got), ["/app/a", "/app/b"])

    def test_awslogs_payloads_match_no_rule(self):
        w = Wiring(self.tpl)
        for path in glob.glob(os.path.join(ROOT, "events", "*", "awslogs-*.json")):
            ev, ok = load_json(path)
            if ok:
                self.assertEqual(w.route(ev), set(), path)


if __name__ == "__main__":
    r = unittest.main(exit=False, verbosity=1).result
    failed = len(r.failures) + len(r.errors)
    print(f"{r.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
