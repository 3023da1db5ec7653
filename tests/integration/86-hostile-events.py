#!/usr/bin/python3
"""Hostile-event catalogue: malformed or attacker-shaped events for each
responder present -> a clear error and ZERO AWS calls (checked in the fake's
call log), never a crash.

Expected outcomes, decided per case:
  invalid   function error, errorType Firebreak.InvalidEvent (resp_invalid)
  too-large function error from the runtime for an event past Lambda's 6 MB
            limit (Runtime.EventTooLarge): Lambda itself refuses such a
            payload, the runtime must still not act on it
  error-notify  an event for another account with no member role configured:
            a function error (Firebreak.*), and no AWS call but the SNS
            notification (a P1 nobody can act on must still reach a human)
Known gaps (KNOWN below, reported to the lead) print as XFAIL; a known gap
that starts passing fails as XPASS, so the list only shrinks.
Transport: "emu" goes through the emulator's one-shot invoke (JSON only:
Lambda requires JSON payloads and the emulator checks it); "raw" hands the
bytes to the bootstrap through fbtest.invoke_raw's minimal Runtime API, for
payloads only a broken or hostile caller could send (not JSON, NUL bytes,
invalid UTF-8, nesting Python's json cannot even produce).
Every case is also run with the scenario's seeded world, so a case that did
reach AWS would show up as a call. Prints a table."""
import base64
import concurrent.futures as cf
import copy
import gzip
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fuzz"))
import scenarios  # noqa: E402
import fbtest  # noqa: E402

ROOT = scenarios.ROOT
MB = 1024 * 1024
OTHER = "999999999999"


def load(fn, name):
    with open(os.path.join(ROOT, "events", fn, name), "rb") as f:
        return json.loads(f.read())


def j(o):
    return json.dumps(o).encode()


def deep(n):
    return b"[" * n + b"]" * n


def deep_obj(n):
    return b'{"a":' * n + b"1" + b"}" * n


def common(fn, good):
    """Cases every responder must refuse. `good` is its main event (dict)."""
    c = [
        ("empty", b"", "raw", "invalid"),
        ("not-json", b"hello, responder", "raw", "invalid"),
        ("json-array", b"[1,2,3]", "emu", "invalid"),
        ("json-null", b"null", "emu", "invalid"),
        ("json-string", b'"arn:aws:kms:us-east-1:111111111111:key/x"', "emu", "invalid"),
        ("json-number", b"42", "emu", "invalid"),
        ("deep-array-10k", deep(10000), "raw", "invalid"),
        ("deep-object-10k", deep_obj(10000), "raw", "invalid"),
        ("trailing-garbage", j(good) + b" {}", "raw", "invalid"),
        ("nul-inside", j(good)[:-1] + b',"x\x00y":1}', "raw", "invalid"),
        ("invalid-utf8", j(good)[:-1] + b',"junk":"\xff\xfe\xc0\xaf"}', "raw", "invalid"),
        ("junk-6mb", j({"junk": "A" * (6 * MB - 200)}), "emu", "invalid"),
        ("over-6mb", b'{"junk":"' + b"A" * (6 * MB + 100 * 1024) + b'"}', "raw", "too-large"),
        ("wrong-source", j({"version": "0", "id": "x", "source": "aws.evil", "detail-type": "Evil Thing",
                            "account": "111111111111", "region": "us-east-1", "detail": {}}), "emu", "invalid"),
        ("source-wrong-type", j({"source": ["aws.kms"], "detail-type": 7, "detail": {}}), "emu", "invalid"),
    ]
    return c


def kms_cases():
    good = load("kms-guard", "schedule-deletion-enabled-key.json")

    def with_key(k):
        e = copy.deepcopy(good)
        e["detail"]["requestParameters"]["keyId"] = k
        return j(e)
    c = common("kms-guard", good)
    c += [
        ("keyid-url", with_key("https://evil.example/x"), "emu", "invalid"),
        ("keyid-dotdot-arn", with_key("arn:aws:kms:us-east-1:111111111111:key/../../x"), "emu", "invalid"),
        ("keyid-endpoint-host", with_key("kms.evil.example:443/key"), "emu", "invalid"),
        ("keyid-number", with_key(12345), "emu", "invalid"),
        ("keyid-huge", with_key("k" * 200000), "emu", "invalid"),
        ("keyid-crlf", with_key("1234abcd\r\nX-Amz-Target: TrentService.ScheduleKeyDeletion"), "emu", "invalid"),
        ("manual-keyid-url", j({"keyId": "http://169.254.169.254/latest/meta-data/"}), "emu", "invalid"),
        ("manual-dryrun-string", j({"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "dryRun": "false"}), "emu", "invalid"),
        ("keyid-escaped-nul", with_key("1234abcd-12ab-34cd-56ef-1234567890ab\u0000/../evil"), "emu", "invalid"),
        ("keyid-other-account", with_key("arn:aws:kms:us-east-1:%s:key/1234abcd-12ab-34cd-56ef-1234567890ab" % OTHER),
         "emu", "error-notify", {"FIREBREAK_MEMBER_ROLE": None}),
    ]
    # Tag changes (item 8): only a firebreak:* key other than kms-guard's own
    # firebreak:incident makes one a trigger; malformed tag lists are refused.
    tag = load("kms-guard", "tag-exempt-untrusted.json")

    def with_params(rp):
        e = copy.deepcopy(tag)
        e["detail"]["requestParameters"] = dict({"keyId": tag["detail"]["requestParameters"]["keyId"]}, **rp)
        return j(e)
    c += [
        ("tag-incident-only", with_params({"tags": [{"tagKey": "firebreak:incident", "tagValue": "fb-1"}]}),
         "emu", "invalid"),
        ("tag-key-case", with_params({"tags": [{"tagKey": "Firebreak:Exempt", "tagValue": "true"}]}), "emu", "invalid"),
        ("tag-tags-not-array", with_params({"tags": {"tagKey": "firebreak:exempt", "tagValue": "true"}}),
         "emu", "invalid"),
        ("tag-tagkeys-numbers", with_params({"tagKeys": [1, 2, 3]}), "emu", "invalid"),
        ("tag-keyid-url", with_params({"keyId": "https://evil.example/x",
                                       "tags": [{"tagKey": "firebreak:exempt", "tagValue": "true"}]}), "emu", "invalid"),
    ]
    return c


def root_cases():
    good = load("root-verify", "signin-no-mfa.json")
    c = common("root-verify", good)
    ev = copy.deepcopy(good)
    c += [
        ("manual-window-huge", j({"window_minutes": 1e300}), "emu", "invalid"),
        ("manual-window-negative", j({"window_minutes": -5}), "emu", "invalid"),
        ("manual-window-string", j({"window_minutes": "60"}), "emu", "invalid"),
        ("other-account-no-role", j(dict(ev, account=OTHER, detail=dict(ev["detail"], recipientAccountId=OTHER,
                                     userIdentity=dict(ev["detail"]["userIdentity"], accountId=OTHER))))
         if isinstance(ev.get("detail"), dict) else j({"account": OTHER}), "emu", "error-notify",
         {"FIREBREAK_MEMBER_ROLE": None}),
        ("detail-array", j(dict(ev, detail=[1, 2])) if "detail" in ev else j({"detail": [1]}), "emu", "invalid"),
        # the envelope's account/region pick the role ARN and the endpoint
        ("account-role-path", j(dict(ev, account="111111111111:role/Admin")), "emu", "invalid"),
        ("region-host", j(dict(ev, region="us-east-1.evil.example:443")), "emu", "invalid"),
        ("manual-account-escaped-nul", j({"window_minutes": 5, "account": "111111111111\u0000x"}), "emu", "invalid"),
        # issue 17 (kit_begin): an envelope field of the wrong type is refused, as elsewhere
        ("envelope-id-number", j(dict(ev, id=5)), "emu", "invalid"),
    ]
    return c


def tq_cases():
    good = load("task-quarantine", "manual.json")
    c = common("task-quarantine", good)
    c += [
        ("task-url", j(dict(good, task="https://evil.example/task")), "emu", "invalid"),
        ("task-dotdot", j(dict(good, task="../../../etc/passwd")), "emu", "invalid"),
        ("cluster-endpoint-host", j(dict(good, cluster="ecs.evil.example:443")), "emu", "invalid"),
        ("task-number", j(dict(good, task=7)), "emu", "invalid"),
        ("task-huge", j(dict(good, task="a" * 300000)), "emu", "invalid"),
        ("task-arn-crlf", j(dict(good, task="arn:aws:ecs:us-east-1:111111111111:task/prod/\r\nHost: evil")), "emu", "invalid"),
        ("task-arn-other-account", j(dict(good, task="arn:aws:ecs:us-east-1:%s:task/prod/0123456789abcdef0123456789abcdef" % OTHER)),
         "emu", "error-notify", {"FIREBREAK_MEMBER_ROLE": None}),
        ("task-escaped-nul", j(dict(good, task="0123456789abcdef0123456789abcdef\u0000../x")), "emu", "invalid"),
    ]
    return c


def iq_cases():
    good = load("instance-quarantine", "manual.json")
    gd = load("instance-quarantine", "guardduty-ec2-crypto.json")
    sh = load("instance-quarantine", "securityhub-guardduty-ec2-crypto.json")
    c = common("instance-quarantine", good)

    def gd_with(**kw):
        e = copy.deepcopy(gd)
        e["detail"].update(kw)
        return j(e)

    def gd_instance(v):
        e = copy.deepcopy(gd)
        e["detail"]["resource"]["instanceDetails"]["instanceId"] = v
        return j(e)

    def sh_resource(v):
        e = copy.deepcopy(sh)
        e["detail"]["findings"][0]["Resources"][0]["Id"] = v
        return j(e)
    c += [
        ("instance-url", j(dict(good, instanceId="https://evil.example/i-0123456789abcdef0")), "emu", "invalid"),
        ("instance-dotdot", j(dict(good, instanceId="i-../../../etc/passwd")), "emu", "invalid"),
        ("instance-uppercase", j(dict(good, instanceId="i-0123456789ABCDEF0")), "emu", "invalid"),
        ("instance-number", j(dict(good, instanceId=7)), "emu", "invalid"),
        ("instance-huge", j(dict(good, instanceId="i-" + "a" * 300000)), "emu", "invalid"),
        ("instance-escaped-nul", j(dict(good, instanceId="i-0123456789abcdef0\u0000x")), "emu", "invalid"),
        ("region-host", j(dict(good, region="us-east-1.evil.example:443")), "emu", "invalid"),
        ("finding-instance-crlf", gd_instance("i-0123456789abcdef0\r\nHost: evil"), "emu", "invalid"),
        ("finding-account-crafted", gd_with(accountId="111111111111:role/Admin"), "emu", "invalid"),
        ("finding-region-host", gd_with(region="evil.example:443"), "emu", "invalid"),
        ("finding-severity-string", gd_with(severity="9"), "emu", "invalid"),
        ("finding-resource-array", gd_with(resource=[1, 2]), "emu", "invalid"),
        ("finding-other-account", gd_with(accountId=OTHER), "emu", "error-notify", {"FIREBREAK_MEMBER_ROLE": None}),
        ("securityhub-arn-account-mismatch",
         sh_resource("arn:aws:ec2:us-east-1:%s:instance/i-0123456789abcdef0" % OTHER), "emu", "invalid"),
        ("securityhub-resource-not-arn", sh_resource("i-0123456789abcdef0"), "emu", "invalid"),
    ]
    return c


def leak_cases():
    good = load("leak-rotate", "awslogs-watched-secret.json")

    def data(raw):
        return j({"awslogs": {"data": base64.b64encode(raw).decode()}})
    bomb = gzip.compress(b"\0" * (64 * MB), compresslevel=9)
    payload = {"messageType": "DATA_MESSAGE", "owner": OTHER, "logGroup": "/ecs/orders-api",
               "logStream": "s", "subscriptionFilters": ["f"],
               "logEvents": [{"id": "1", "timestamp": 1, "message": "password=Zq8kP2vW9xLm4Tr7nB5c"}]}
    c = common("leak-rotate", good)
    c += [
        ("gzip-bomb-64mb", data(bomb), "emu", "invalid"),
        ("gzip-bomb-json", data(gzip.compress(b'{"messageType":"DATA_MESSAGE","logEvents":[{"message":"' + b"A" * (40 * MB) + b'"}]}', 9)), "emu", "invalid"),
        ("data-not-base64", j({"awslogs": {"data": "!!!not base64$$$"}}), "emu", "invalid"),
        ("data-number", j({"awslogs": {"data": 12345}}), "emu", "invalid"),
        ("data-not-gzip", data(b"plain text, not gzip"), "emu", "invalid"),
        ("payload-not-json", data(gzip.compress(b"\xff\xfe not json", mtime=0)), "emu", "invalid"),
        ("payload-deep", data(gzip.compress(deep(10000), mtime=0)), "emu", "invalid"),
        ("log-events-wrong-type", data(gzip.compress(j(dict(payload, owner="111111111111", logEvents="x")), mtime=0)), "emu", "invalid"),
        ("payload-group-url", data(gzip.compress(j(dict(payload, owner="111111111111", logGroup="https://evil.example/x")), mtime=0)), "emu", "invalid"),
        ("payload-stream-colon", data(gzip.compress(j(dict(payload, owner="111111111111", logStream="a:b*")), mtime=0)), "emu", "invalid"),
        ("payload-owner-crafted", data(gzip.compress(j(dict(payload, owner="111111111111:evil")), mtime=0)), "emu", "invalid"),
        ("payload-invalid-utf8", data(gzip.compress(j(dict(payload, owner="111111111111"))[:-2] + b',"x":"\xc0\xaf"}', mtime=0)), "emu", "invalid"),
        ("manual-group-url", j({"logGroup": "http://169.254.169.254/", "messages": ["x"]}), "emu", "invalid"),
    ]
    return c


def pl_cases():
    good = load("public-lock", "put-bucket-policy.json")

    def with_bucket(b):
        e = copy.deepcopy(good)
        e["detail"]["requestParameters"]["bucketName"] = b
        return j(e)
    sh = load("public-lock", "securityhub-s3.8-failed.json")

    def with_resource(rid):
        e = copy.deepcopy(sh)
        e["detail"]["findings"][0]["Resources"][0]["Id"] = rid
        return j(e)
    c = common("public-lock", good)
    c += [
        ("bucket-url", with_bucket("https://evil.example/x"), "emu", "invalid"),
        ("bucket-subresource", with_bucket("web-assets?policy"), "emu", "invalid"),
        ("bucket-dotdot", with_bucket("../other-bucket"), "emu", "invalid"),
        ("bucket-host-port", with_bucket("s3.evil.example:443"), "emu", "invalid"),
        ("bucket-number", with_bucket(7), "emu", "invalid"),
        ("bucket-huge", with_bucket("b" * 200000), "emu", "invalid"),
        ("bucket-crlf", with_bucket("web-assets\r\nHost: evil"), "emu", "invalid"),
        ("bucket-escaped-nul", with_bucket("web-assets\u0000/../x"), "emu", "invalid"),
        ("bucket-ip-shaped", with_bucket("169.254.169.254"), "emu", "invalid"),
        ("sh-resource-not-arn", with_resource("example"), "emu", "invalid"),
        ("sh-resource-crafted", with_resource("arn:aws:s3:::Example/../x"), "emu", "invalid"),
        ("sh-account-host", j(dict(sh, detail={"findings": [dict(sh["detail"]["findings"][0],
                                                                AwsAccountId="111111111111.evil")]})), "emu", "invalid"),
        ("manual-account-crafted", j({"account": "111111111111:role/Admin"}), "emu", "invalid"),
        ("manual-dryrun-string", j({"bucket": "web-assets", "dryRun": "false"}), "emu", "invalid"),
        ("other-account-no-role", j({"bucket": "web-assets", "account": OTHER}), "emu", "error-notify",
         {"FIREBREAK_MEMBER_ROLE": None}),
    ]
    return c


def ic_cases():
    good = load("iam-contain", "attach-user-policy-self-escalation.json")

    def with_detail(**kw):
        e = copy.deepcopy(good)
        e["detail"].update(kw)
        return j(e)

    def with_params(**kw):
        e = copy.deepcopy(good)
        e["detail"]["requestParameters"].update(kw)
        return j(e)

    def with_identity(**kw):
        e = copy.deepcopy(good)
        e["detail"]["userIdentity"].update(kw)
        return j(e)
    put = copy.deepcopy(good)
    put["detail"]["eventName"] = "PutUserPolicy"
    put["detail"]["requestParameters"] = {"userName": "bob", "policyName": "p", "policyDocument": "{\"Statement\": []}"}

    def with_put(**kw):
        e = copy.deepcopy(put)
        e["detail"]["requestParameters"].update(kw)
        return j(e)
    c = common("iam-contain", good)
    c += [
        ("user-dotdot", with_params(userName="../alice"), "emu", "invalid"),
        ("user-crlf", with_params(userName="bob\r\nX-Amz-Target: x"), "emu", "invalid"),
        ("user-number", with_params(userName=7), "emu", "invalid"),
        ("policy-arn-url", with_params(policyArn="https://evil.example/policy"), "emu", "invalid"),
        ("policy-arn-other-service", with_params(policyArn="arn:aws:s3:::bucket/policy/x"), "emu", "invalid"),
        ("policy-arn-huge", with_params(policyArn="arn:aws:iam::aws:policy/" + "a" * 5000), "emu", "invalid"),
        ("actor-arn-url", with_identity(arn="https://evil.example/user/x"), "emu", "invalid"),
        ("actor-account-path", with_identity(arn="arn:aws:iam::111111111111:role/x:user/y"), "emu", "invalid"),
        ("actor-issuer-mismatch", with_identity(type="AssumedRole", arn="arn:aws:sts::111111111111:assumed-role/a/s",
                                                sessionContext={"sessionIssuer": {"arn": "arn:aws:iam::111111111111:role/b"}}),
         "emu", "invalid"),
        ("account-role-path", with_detail(recipientAccountId="111111111111:role/Admin"), "emu", "invalid"),
        ("event-source-kms", with_detail(eventSource="kms.amazonaws.com"), "emu", "invalid"),
        ("doc-not-json", with_put(policyDocument="{not json"), "emu", "invalid"),
        ("doc-array", with_put(policyDocument="[1,2]"), "emu", "invalid"),
        ("doc-200kb", with_put(policyDocument=json.dumps({"Statement": [], "x": "a" * 200000})), "emu", "invalid"),
        ("version-dotdot", j(dict(good, detail=dict(good["detail"], eventName="SetDefaultPolicyVersion",
                                                    requestParameters={"policyArn": "arn:aws:iam::111111111111:policy/p",
                                                                       "versionId": "../v1"}))), "emu", "invalid"),
        ("new-key-lowercase", j(dict(good, detail=dict(good["detail"], eventName="CreateAccessKey",
                                                       requestParameters={"userName": "bob"},
                                                       responseElements={"accessKey": {"accessKeyId": "akia-x"}}))),
         "emu", "invalid"),
        ("manual-principal-url", j({"principal": "http://169.254.169.254/", "reason": "x"}), "emu", "invalid"),
        ("manual-principal-group", j({"principal": "arn:aws:iam::111111111111:group/admin", "reason": "x"}), "emu", "invalid"),
        ("gd-severity-string", j({"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "account": "111111111111",
                                  "detail": {"type": "x", "severity": "9", "resource": {"resourceType": "AccessKey"}}}),
         "emu", "invalid"),
        ("gd-username-path", j({"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "account": "111111111111",
                                "detail": {"type": "x", "severity": 9, "accountId": "111111111111",
                                           "resource": {"resourceType": "AccessKey", "accessKeyDetails": {
                                               "userType": "IAMUser", "userName": "../../root"}}}}), "emu", "invalid"),
    ]
    return c


def nb_cases():
    good = load("net-block", "authorize-ssh-world.json")

    def with_rule(rid=None, gid=None):
        e = copy.deepcopy(good)
        it = e["detail"]["responseElements"]["securityGroupRuleSet"]["items"][0]
        if rid is not None:
            it["securityGroupRuleId"] = rid
        if gid is not None:
            it["groupId"] = gid
            e["detail"]["requestParameters"]["groupId"] = gid
        return j(e)
    c = common("net-block", good)
    c += [
        ("rule-id-url", with_rule(rid="https://evil.example/x"), "emu", "invalid"),
        ("rule-id-query", with_rule(rid="sgr-0a1b2c3d4e5f60718&GroupId=sg-0fffffffffffffff0"), "emu", "invalid"),
        ("rule-id-crlf", with_rule(rid="sgr-0a1b2c3d4e5f60718\r\nHost: evil"), "emu", "invalid"),
        ("rule-id-number", with_rule(rid=12345), "emu", "invalid"),
        ("rule-id-escaped-nul", with_rule(rid="sgr-0a1b2c3d4e5f60718\u0000x"), "emu", "invalid"),
        ("group-id-dotdot", with_rule(gid="sg-../../x"), "emu", "invalid"),
        ("rule-set-not-array", j(dict(good, detail=dict(good["detail"], responseElements={
            "securityGroupRuleSet": {"items": "sgr-0a1b2c3d4e5f60718"}}))), "emu", "invalid"),
        ("manual-ip-url", j({"ip": "http://169.254.169.254/latest/meta-data/"}), "emu", "invalid"),
        ("manual-ip-crlf", j({"ip": "203.0.113.5\r\nX: y"}), "emu", "invalid"),
        ("manual-ip-huge", j({"ip": "1" * 300000}), "emu", "invalid"),
        ("manual-rules-17", j({"groupId": "sg-0123456789abcdef0",
                               "ruleIds": ["sgr-%017x" % i for i in range(17)]}), "emu", "invalid"),
        ("manual-two-forms", j({"ip": "203.0.113.5", "groupId": "sg-0123456789abcdef0"}), "emu", "invalid"),
        ("region-host", j(dict(good, region="us-east-1.evil.example:443",
                               detail=dict(good["detail"], awsRegion="us-east-1.evil.example:443"))), "emu", "invalid"),
        ("other-account-no-role", j(dict(good, account=OTHER, detail=dict(good["detail"], recipientAccountId=OTHER))),
         "emu", "error-notify", {"FIREBREAK_MEMBER_ROLE": None}),
    ]
    return c


def db_cases():  # issue 22
    good = load("data-breach", "alarm-read-spike.json")

    def with_metric(**kw):
        e = copy.deepcopy(good)
        e["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"].update(kw)
        return j(e)
    c = common("data-breach", good)
    c += [
        ("table-dotdot", with_metric(dimensions={"TableName": "../../x"}), "emu", "invalid"),
        ("table-crlf", with_metric(dimensions={"TableName": "orders\r\nX-Amz-Target: DynamoDB_20120810.DeleteTable"}),
         "emu", "invalid"),
        ("table-number", with_metric(dimensions={"TableName": 7}), "emu", "invalid"),
        ("table-huge", with_metric(dimensions={"TableName": "t" * 300}), "emu", "invalid"),
        ("namespace-ec2", with_metric(namespace="AWS/EC2"), "emu", "invalid"),
        ("two-tables", j(dict(good, detail=dict(good["detail"], configuration={"metrics": [
            good["detail"]["configuration"]["metrics"][0],
            {"id": "m2", "metricStat": {"metric": {"namespace": "AWS/DynamoDB", "name": "x",
                                                   "dimensions": {"TableName": "other"}}}}]}))), "emu", "invalid"),
        ("account-path", j(dict(good, account="123456789012:role/x")), "emu", "invalid"),
        ("region-host", j(dict(good, region="us-east-1.evil.example:443")), "emu", "invalid"),
        ("manual-table-url", j({"table": "http://169.254.169.254/"}), "emu", "invalid"),
        ("manual-arn-other-service", j({"table": "arn:aws:s3:::orders"}), "emu", "invalid"),
        ("manual-principal-wildcard", j({"table": "orders", "principal": "*"}), "emu", "invalid"),
        ("manual-principal-root", j({"table": "orders", "principal": "arn:aws:iam::123456789012:root"}),
         "emu", "invalid"),
        ("manual-dryrun-string", j({"table": "orders", "dryRun": "false"}), "emu", "invalid"),
        ("restore-over-source", j({"restore": {"table": "orders", "to": "2026-12-06T01:00:00Z",
                                               "target": "orders"}}), "emu", "invalid"),
        ("restore-target-arn", j({"restore": {"table": "orders", "to": "2026-12-06T01:00:00Z",
                                              "target": "arn:aws:dynamodb:us-east-1:111111111111:table/x"}}),
         "emu", "invalid"),
        ("restore-time-words", j({"restore": {"table": "orders", "to": "now", "target": "orders-r"}}),
         "emu", "invalid"),
    ]
    # GuardDuty (issue 22 item 1): the finding names an access key and maybe a table; neither gets
    # through unchecked, and nothing is called on a malformed one
    gd = load("data-breach", "guardduty-anomalous-dynamodb.json")

    def gd_with(path, value):
        e = copy.deepcopy(gd)
        o = e
        for k in path[:-1]:
            o = o[k]
        o[path[-1]] = value
        return j(e)
    akd = ("detail", "resource", "accessKeyDetails")
    aff = ("detail", "service", "action", "awsApiCallAction", "affectedResources")
    c += [
        ("gd-key-crlf", gd_with(akd + ("accessKeyId",), "ASIARZOOKWPXR24HLMYM\r\nX-Amz-Target: x"), "emu", "invalid"),
        ("gd-key-number", gd_with(akd + ("accessKeyId",), 12345), "emu", "invalid"),
        ("gd-principalid-path", gd_with(akd + ("principalId",), "../../AROAIHWLDLKQ2YARYAIIW"), "emu", "invalid"),
        ("gd-table-dotdot", gd_with(aff, {"AWS::DynamoDB::Table": "../../orders"}), "emu", "invalid"),
        ("gd-table-other-acct", gd_with(aff, {"AWS::DynamoDB::Table":
                                              "arn:aws:dynamodb:us-east-1:999999999999:table/orders"}), "emu", "invalid"),
        ("gd-table-number", gd_with(aff, {"AWS::DynamoDB::Table": 7}), "emu", "invalid"),
        ("gd-account-path", gd_with(("detail", "accountId"), "123456789012/../x"), "emu", "invalid"),
        ("gd-severity-string", gd_with(("detail", "severity"), "8"), "emu", "invalid"),
        ("gd-detail-type", gd_with(("detail-type",), "GuardDuty Findings"), "emu", "invalid"),
    ]
    return c


def at_cases():
    good = load("access-triage", "alarm-unauthorized-api-calls.json")

    def with_detail(**kw):
        e = copy.deepcopy(good)
        e["detail"].update(kw)
        return j(e)

    def with_state(**kw):
        e = copy.deepcopy(good)
        e["detail"]["state"].update(kw)
        return j(e)
    notime = copy.deepcopy(good)
    notime.pop("time")
    notime["detail"]["state"]["timestamp"] = "yesterday"
    c = common("access-triage", good)
    c += [
        ("alarm-name-number", with_detail(alarmName=7), "emu", "invalid"),
        ("alarm-name-huge", with_detail(alarmName="a" * 5000), "emu", "invalid"),
        ("state-not-object", with_detail(state="ALARM"), "emu", "invalid"),
        ("state-value-number", with_state(value=1), "emu", "invalid"),
        ("no-valid-time", j(notime), "emu", "invalid"),
        ("detail-not-object", j(dict(good, detail="x")), "emu", "invalid"),
        ("manual-window-huge", j({"window_minutes": 10 ** 12}), "emu", "invalid"),
        ("manual-window-negative", j({"window_minutes": -15}), "emu", "invalid"),
        ("manual-window-string", j({"window_minutes": "15; DROP"}), "emu", "invalid"),
        ("manual-unknown-key", j({"window_minutes": 15, "contain": True}), "emu", "invalid"),
        ("manual-dryrun-string", j({"window_minutes": 15, "dryRun": "false"}), "emu", "invalid"),
        # containment on (the scenario's settings): the manual form is still
        # only a window, never a principal or an address to act on
        ("manual-principal", j({"principal": "arn:aws:iam::111111111111:user/admin"}), "emu", "invalid"),
        ("manual-ip-world", j({"window_minutes": 15, "ip": "0.0.0.0/0"}), "emu", "invalid"),
        ("manual-contain-off", j({"window_minutes": 15, "FIREBREAK_TRIAGE_CONTAIN": "false"}), "emu", "invalid"),
        ("alarm-state-list", with_state(value=["ALARM"]), "emu", "invalid"),
    ]
    return c


def ca_cases():  # issue 23
    good = load("codeartifact-lock", "manual-role-session.json")
    gd = load("codeartifact-lock", "guardduty-codeartifact-user.json")
    alarm = load("codeartifact-lock", "alarm-token-spike.json")

    def man(**kw):
        return j(dict(good, **kw))

    def gd_with(domain=None, user=None):
        e = copy.deepcopy(gd)
        call = e["detail"]["service"]["action"]["awsApiCallAction"]
        if domain is not None:
            call["affectedResources"] = {"AWS::CodeArtifact::Domain": domain}
        if user is not None:
            e["detail"]["resource"]["accessKeyDetails"]["userName"] = user
        return j(e)
    c = common("codeartifact-lock", good)
    c += [
        ("principal-star", man(principal="*"), "emu", "invalid"),
        ("principal-wildcard", man(principal="arn:aws:iam::111111111111:user/*"), "emu", "invalid"),
        ("principal-group", man(principal="arn:aws:iam::111111111111:group/devs"), "emu", "invalid"),
        ("principal-service", man(principal="codeartifact.amazonaws.com"), "emu", "invalid"),
        ("principal-crlf", man(principal="arn:aws:iam::111111111111:user/a\r\nX: y"), "emu", "invalid"),
        ("principal-huge", man(principal="arn:aws:iam::111111111111:user/" + "a" * 100000), "emu", "invalid"),
        ("principal-number", man(principal=7), "emu", "invalid"),
        ("domain-query", man(domain="acme&domain-owner=999999999999"), "emu", "invalid"),
        ("domain-path", man(domain="acme/../x"), "emu", "invalid"),
        ("domain-upper", man(domain="ACME"), "emu", "invalid"),
        ("owner-path", man(domainOwner="111111111111/x"), "emu", "invalid"),
        ("dryrun-string", man(dryRun="false"), "emu", "invalid"),
        ("gd-domain-crafted", gd_with(domain="acme?domain-owner=999999999999"), "emu", "invalid"),
        ("gd-user-crlf", gd_with(user="mallory\r\nX-Amz-Target: x"), "emu", "invalid"),
        ("gd-user-star", gd_with(user="*"), "emu", "invalid"),
        ("alarm-ours-no-principal", j(alarm), "emu", "invalid",
         {"FIREBREAK_CA_ALARM": alarm["detail"]["alarmName"], "FIREBREAK_CA_DOMAIN": "acme"}),
        ("other-account-no-role", man(domainOwner=OTHER), "emu", "error-notify", {"FIREBREAK_MEMBER_ROLE": None}),
    ]
    return c


def cl_cases():  # issue 23
    good = load("cognito-lockdown", "alarm-token-abuse.json")
    good["account"] = "111111111111"

    def with_dims(**kw):
        e = copy.deepcopy(good)
        e["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"].update(kw)
        return j(e)

    def manual(**kw):
        m = {"userPoolId": "us-east-1_Tr4d1ngP1", "clientId": "3n4cl1ent1d7rad1ng00000000", "scope": "all"}
        m.update(kw)
        return j({k: v for k, v in m.items() if v is not None})
    c = common("cognito-lockdown", good)
    c += [
        ("alarm-other-pool", with_dims(UserPool="us-east-1_Attacker1"), "emu", "invalid"),
        ("alarm-other-client", with_dims(UserPoolClient="attackerclient"), "emu", "invalid"),
        ("alarm-name-number", j(dict(good, detail=dict(good["detail"], alarmName=7))), "emu", "invalid"),
        ("alarm-no-state", j(dict(good, detail={k: v for k, v in good["detail"].items() if k != "state"})),
         "emu", "invalid"),
        ("account-path", j(dict(good, account="123456789012:role/x")), "emu", "invalid"),
        ("region-host", j(dict(good, region="us-east-1.evil.example:443")), "emu", "invalid"),
        ("manual-no-scope", manual(scope=None), "emu", "invalid"),
        ("manual-scope-everyone", manual(scope="everyone"), "emu", "invalid"),
        ("manual-scope-1001", manual(scope={"users": ["u%d" % i for i in range(1001)]}), "emu", "invalid"),
        ("manual-user-crlf", manual(scope={"users": ["alice\r\nX-Amz-Target: x"]}), "emu", "invalid"),
        ("manual-user-space", manual(scope={"users": ["alice smith"]}), "emu", "invalid"),
        ("manual-user-huge", manual(scope={"users": ["a" * 129]}), "emu", "invalid"),
        ("manual-pool-dotdot", manual(userPoolId="us-east-1_x/../y"), "emu", "invalid"),
        ("manual-pool-region-host", manual(userPoolId="us-east-1.evil.example_abc"), "emu", "invalid"),
        ("manual-client-slash", manual(clientId="a/b"), "emu", "invalid"),
        ("manual-unknown-key", manual(deleteUsers=True), "emu", "invalid"),
        ("manual-dryrun-string", manual(dryRun="false"), "emu", "invalid"),
    ]
    return c


KNOWN = {
    # (responder, case): why. Empty: every known gap is fixed (task-quarantine
    # now parses with resp_parse_event and checks ECS reference forms).
}

CASES = {"public-lock": pl_cases, "kms-guard": kms_cases, "root-verify": root_cases, "task-quarantine": tq_cases,
         "leak-rotate": leak_cases, "iam-contain": ic_cases, "instance-quarantine": iq_cases}
CASES["net-block"] = nb_cases   # issue 19
CASES["access-triage"] = at_cases   # issue 21
CASES["data-breach"] = db_cases   # issue 22
CASES["cognito-lockdown"] = cl_cases   # issue 23
CASES["codeartifact-lock"] = ca_cases   # issue 23


def run(sc, fake, label, payload, transport, expect, env_over=None):
    fake.seed(sc.seed)
    fake.reset()
    env = dict(sc.env)
    for k, v in (env_over or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    if transport == "raw":
        res = fbtest.invoke_raw(sc.name, payload, fake, env=env, timeout=30, account=sc.account)
    else:
        res = fbtest.invoke(sc.name, payload, fake, env=env, timeout=30, account=sc.account)
    calls = fake.calls()
    if expect == "error-notify":
        calls = [c for c in calls if (c.get("service"), c.get("operation")) != ("sns", "Publish")]
    probs = []
    if res.body is None and res.rc != 2:
        probs.append("unparsable response %r" % res.raw[:200])
    if res.rc == 2:
        probs.append("no response (crashed or hung): %s" % res.logs[-300:])
    if calls:
        probs.append("%d AWS call(s): %s" % (len(calls), fbtest.ops(calls)[:5]))
    et = res.error_type or ""
    if res.ok:
        probs.append("success result %s" % res.raw[:200])
    elif expect == "invalid" and et != "Firebreak.InvalidEvent":
        probs.append("errorType %r, want Firebreak.InvalidEvent (%s)" % (et, (res.error_message or "")[:120]))
    elif expect == "too-large" and et not in ("Runtime.EventTooLarge", "Firebreak.InvalidEvent"):
        probs.append("errorType %r, want Runtime.EventTooLarge" % et)
    elif expect == "error-notify" and not et.startswith("Firebreak."):
        probs.append("errorType %r, want a Firebreak.* error" % et)
    msg = (res.error_message or "")[:70].replace("\n", " ")
    return sc.name, label, transport, expect, et or ("ok" if res.ok else "?"), len(calls), msg, probs


def main():
    t0 = time.time()
    scs = scenarios.all_present()
    jobs = []
    for sc in scs:
        for case in CASES[sc.name]():
            label, payload, transport, expect = case[:4]
            jobs.append((sc, label, payload, transport, expect, case[4] if len(case) > 4 else None))
    rows = []

    def worker(items):
        out = []
        with fbtest.Fake(items[0][0].seed) as fake:
            for sc, label, payload, transport, expect, env_over in items:
                try:
                    out.append(run(sc, fake, label, payload, transport, expect, env_over))
                except Exception as e:
                    out.append((sc.name, label, transport, expect, "?", -1, "", ["harness: %r" % e]))
        return out
    by = {}
    for jb in jobs:
        by.setdefault(jb[0].name, []).append(jb)
    with cf.ThreadPoolExecutor(max_workers=4) as ex:
        for out in ex.map(worker, by.values()):
            rows.extend(out)
    fails = xfails = 0
    print("%-16s %-24s %-4s %-9s %-24s %5s  %s" % ("responder", "case", "via", "expect", "got", "calls", "message"))
    for name, label, transport, expect, got, ncalls, msg, probs in rows:
        known = KNOWN.get((name, label))
        if known and probs:
            mark, probs, xfails = "XFAIL", [], xfails + 1
            msg = "(known gap: %s)" % known
        elif known:
            probs = ["XPASS: known gap fixed; remove it from KNOWN"]
            mark = "FAIL"
        else:
            mark = "FAIL" if probs else "ok"
        print("%-16s %-24s %-4s %-9s %-24s %5d  %s %s" % (name, label, transport, expect, got, ncalls, mark, msg))
        for p in probs:
            print("    ! " + p)
        fails += bool(probs)
    print("\n%d hostile events across %d responders (%d known gaps, XFAIL), %.0fs" % (
        len(rows), len(scs), xfails, time.time() - t0))
    print("%d passed, %d failed" % (len(rows) - fails, fails))
    return 1 if fails or len(rows) < 40 else 0


if __name__ == "__main__":
    sys.exit(main())
