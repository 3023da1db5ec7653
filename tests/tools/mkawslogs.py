#!/usr/bin/python3
"""mkawslogs: CloudWatch Logs subscription events ({"awslogs":{"data":...}})
for leak-rotate's samples and tests.

    mkawslogs.py --group G --stream S -m "line" [-m ...] [--zlib] [--control]
        prints one event
    mkawslogs.py --write-events events/leak-rotate
        (re)writes every sample event below (deterministic: gzip mtime 0)
    mkawslogs.py --check events/leak-rotate
        exits 1 when a committed sample differs from what this script makes

The payload shape is the one AWS documents (SubscriptionFilters.md, and the
published sample ../shared/reference-events/cloudwatch-logs-subscription.
awslogs.decoded.json): messageType, owner, logGroup, logStream,
subscriptionFilters, logEvents[{id, timestamp, message}].

The FIXTURE values are fake credentials made up for the tests; the
integration test seeds fakeaws with them and searches every output for them.
"""
import argparse
import base64
import gzip
import json
import os
import sys
import zlib

ACCOUNT = "111111111111"
T0 = 1767225600000  # 2026-01-01T00:00:00Z

# ---- fixture secrets (fake, for tests only) ----------------------------------------------------
ORDERS_DB = {"username": "orders_app_user", "password": "Zq8kP2vW9xLm4Tr7nB5c",
             "api_key": "k3y-7f9c2a1e5b8d4f6a0c3e", "host": "orders.cluster-abc.us-east-1.rds.amazonaws.com",
             "port": "5432"}
ORDERS_DB_PREVIOUS = {"username": "orders_app_user", "password": "Old9pass8Word7Leaked6",
                      "api_key": "k3y-00aa11bb22cc33dd44ee", "host": ORDERS_DB["host"], "port": "5432"}
LEGACY_KEY = "legacy-Api-Key-6c1f0e9d8b7a"
STRIPE_SECRET = {"key": "sk_live_51HfakeFAKEfake0000aaaa1111bbbb"}
SEARCH_TOKEN = "srch-tok-9a8b7c6d5e4f3a2b"
# AWS documentation's example key pair (docs.aws.amazon.com, "Managing access keys")
AKIA_ID = "AKIAIOSFODNN7EXAMPLE"
AKIA_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
OTHER_KEY_ID = "AKIAI44QH8DHBEXAMPLE"
# a key id whose encoded account is 999999999999 (not ours, not in the fake)
FOREIGN_KEY_ID = "AKIA6RVFFB77QAISEM2E"
# made up: 40 characters of [A-Za-z0-9/+] like a real secret access key
FOREIGN_SECRET = "q7Hx2Lm9Rt4Vb8Nw1Xc6Jh3Gd5Sa0Pe/Ky+UoIzA"
GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
SLACK_TOKEN = "xoxb-" + "1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0."
       "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
PEM = ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAfakefakefakefakefakefake0123456789\n"
       "-----END RSA PRIVATE KEY-----")

# every value that must never appear in any output
SEEDED_VALUES = ([ORDERS_DB["password"], ORDERS_DB["api_key"], ORDERS_DB_PREVIOUS["password"],
                  ORDERS_DB_PREVIOUS["api_key"], LEGACY_KEY, STRIPE_SECRET["key"], SEARCH_TOKEN,
                  AKIA_SECRET, FOREIGN_SECRET, GITHUB_TOKEN, SLACK_TOKEN, JWT, "MIIEowIBAAKCAQEAfakefake"])


def payload(group, stream, messages, control=False, first_id=0, t0=T0):
    if control:
        return {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "",
                "logStream": "", "subscriptionFilters": [],
                "logEvents": [{"id": "", "timestamp": t0,
                               "message": "CWL CONTROL MESSAGE: Checking health of destination Lambda."}]}
    evs = []
    for i, m in enumerate(messages):
        evs.append({"id": "%056d" % (37000000000000000000000000000000000000000000000000000000 + first_id + i),
                    "timestamp": t0 + i, "message": m})
    return {"messageType": "DATA_MESSAGE", "owner": ACCOUNT, "logGroup": group, "logStream": stream,
            "subscriptionFilters": ["firebreak-leak-rotate"], "logEvents": evs}


def compress(raw, wrap="gzip"):
    if wrap == "zlib":
        return zlib.compress(raw, 9)
    return gzip.compress(raw, compresslevel=9, mtime=0)


def event_of(raw, wrap="gzip"):
    return {"awslogs": {"data": base64.b64encode(compress(raw, wrap)).decode()}}


def make(group, stream, messages, control=False, wrap="gzip"):
    return event_of(json.dumps(payload(group, stream, messages, control)).encode(), wrap)


def app_lines(n, start=0):
    """Plain application log lines (no secrets)."""
    out = []
    for i in range(start, start + n):
        out.append('{"level":"info","ts":"2026-01-01T00:00:%02d.%03dZ","msg":"request served",'
                   '"method":"GET","path":"/api/orders/%d","status":200,"duration_ms":%d,'
                   '"request_id":"req-%08x"}' % (i % 60, i % 1000, 1000 + i, 3 + i % 40, i * 2654435761 % 2**32))
    return out


def cloudtrail_record(name, service, key_id, params, seq=0):
    """A CloudTrail record as a trail writes it to CloudWatch Logs (one record
    per log event; fields as in the CloudTrail record contents reference)."""
    return {"eventVersion": "1.09",
            "userIdentity": {"type": "IAMUser", "principalId": "AIDAJ45Q7YFFAREXAMPLE",
                             "arn": "arn:aws:iam::%s:user/billing-bot" % ACCOUNT, "accountId": ACCOUNT,
                             "accessKeyId": key_id, "userName": "billing-bot"},
            "eventTime": "2026-12-07T00:00:%02dZ" % seq, "eventSource": "%s.amazonaws.com" % service,
            "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": "192.0.2.10",
            "userAgent": "aws-cli/2.15.0", "requestParameters": params or None, "responseElements": None,
            "requestID": "b5d8c1a2-0000-4000-8000-%012d" % seq,
            "eventID": "e0e0e0e0-0000-4000-8000-%012d" % seq, "readOnly": not params,
            "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": ACCOUNT,
            "eventCategory": "Management"}


def samples():
    """name -> event (dict), or raw JSON text for malformed ones."""
    g, s = "/ecs/orders-api", "orders-api/app/4b1c0d2e"
    ev = {}
    ev["awslogs-watched-secret"] = make(g, s, app_lines(3) + [
        "ERROR connecting to db: dsn=postgres://%s:%s@%s:5432/orders" % (
            ORDERS_DB["username"], ORDERS_DB["password"], ORDERS_DB["host"]),
        "retrying with password=%s" % ORDERS_DB["password"],
        "outbound call x-api-key: %s" % ORDERS_DB["api_key"]] + app_lines(2, 3))
    ev["awslogs-previous-value"] = make(g, s, app_lines(2) + [
        "cached config: password=%s" % ORDERS_DB_PREVIOUS["password"]])
    ev["awslogs-no-rotation"] = make("/ecs/legacy", "legacy/app/1", app_lines(1) + [
        "calling partner API with key %s" % LEGACY_KEY])
    ev["awslogs-exempt"] = make("/ecs/payments", "payments/app/1", [
        "stripe client init key=%s" % STRIPE_SECRET["key"]])
    ev["awslogs-in-progress"] = make("/ecs/search", "search/app/1", [
        "search backend token %s" % SEARCH_TOKEN])
    ev["awslogs-akia"] = make("/aws/lambda/billing", "2026/01/01/[$LATEST]abc", app_lines(1) + [
        "boto config: aws_access_key_id=%s aws_secret_access_key=%s region=us-east-1" % (AKIA_ID, AKIA_SECRET)])
    ev["awslogs-foreign-key"] = make("/aws/lambda/billing", "2026/01/01/[$LATEST]def", [
        "found credentials %s %s in env" % (FOREIGN_KEY_ID, FOREIGN_SECRET)])
    # issue 16 item 1: where key ids sit without their secret (not a leak)
    ev["awslogs-key-id-alone"] = make("/aws/s3/access-logs", "awsexamplebucket1/2026-12-07", [
        "GET https://awsexamplebucket1.s3.amazonaws.com/report.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=%s%%2F20261207%%2Fus-east-1%%2Fs3%%2Faws4_request&X-Amz-Date=20261207T000000Z"
        "&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024" % AKIA_ID,
        "Authorization: AWS4-HMAC-SHA256 Credential=%s/20261207/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024" % AKIA_ID,
        "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be awsexamplebucket1 "
        "[07/Dec/2026:00:00:38 +0000] 192.0.2.3 arn:aws:iam::%s:user/billing-bot 3E57427F3EXAMPLE "
        "REST.GET.OBJECT report.pdf \"GET /report.pdf HTTP/1.1\" 200 - 113 113 7 6 \"-\" \"Boto3/1.34\" - "
        "s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 "
        "ECDHE-RSA-AES128-GCM-SHA256 QueryString awsexamplebucket1.s3.us-east-1.amazonaws.com TLSv1.2 - %s"
        % (ACCOUNT, AKIA_ID)])
    # issue 16 item 2: a trail's log group (records as CloudTrail writes them)
    ev["awslogs-cloudtrail"] = make("aws-cloudtrail-logs-111111111111-firebreak",
                                    "111111111111_CloudTrail_us-east-1", [
        json.dumps(cloudtrail_record("GetCallerIdentity", "sts", AKIA_ID, {})),
        json.dumps(cloudtrail_record("UpdateAccessKey", "iam", "AKIAIOSFODNN7OPERATR",
                                     {"userName": "billing-bot", "accessKeyId": AKIA_ID, "status": "Active"}, 1))])
    ev["awslogs-tokens"] = make("/ecs/ci-runner", "ci/runner/7", [
        "git clone https://x-access-token:%s@github.com/org/repo" % GITHUB_TOKEN,
        "posting to slack with %s" % SLACK_TOKEN,
        "Authorization: Bearer %s" % JWT,
        "loaded key: %s" % PEM.replace("\n", "\\n")])
    ev["awslogs-clean"] = make(g, s, app_lines(50))
    ev["awslogs-zlib-watched-secret"] = make(g, s, ["password=%s" % ORDERS_DB["password"]], wrap="zlib")
    ev["awslogs-control"] = make("", "", [], control=True)
    # malformed deliveries: a clear error, zero write calls
    ev["awslogs-bomb"] = event_of(b"{" + b" " * (64 * 1024 * 1024) + b"}")
    good = ev["awslogs-watched-secret"]["awslogs"]["data"]
    ev["awslogs-truncated-base64"] = {"awslogs": {"data": good[:len(good) // 2 - 1]}}
    raw = base64.b64decode(good)
    ev["awslogs-truncated-gzip"] = {"awslogs": {"data": base64.b64encode(raw[:len(raw) // 2]).decode()}}
    ev["awslogs-not-gzip"] = {"awslogs": {"data": base64.b64encode(
        json.dumps(payload(g, s, ["hello"])).encode()).decode()}}
    ev["awslogs-invalid-json"] = event_of(b'{"messageType":"DATA_MESSAGE","logEvents":[{"id":')
    ev["awslogs-missing-fields"] = event_of(b'{"messageType":"DATA_MESSAGE","owner":"111111111111"}')
    ev["alarm-exposure"] = {
        "version": "0", "id": "5f1d6c3e-0b7a-4e55-9d0e-6a1c2b3d4e5f",
        "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
        "account": ACCOUNT, "time": "2026-01-01T00:05:00Z", "region": "us-east-1",
        "resources": ["arn:aws:cloudwatch:us-east-1:%s:alarm:firebreak-leak-exposure" % ACCOUNT],
        "detail": {"alarmName": "firebreak-leak-exposure",
                   "state": {"value": "ALARM", "reason": "Threshold Crossed",
                             "reasonData": "{\"version\":\"1.0\",\"startDate\":\"2026-01-01T00:00:00.000+0000\"}",
                             "timestamp": "2026-01-01T00:05:00.000+0000"},
                   "previousState": {"value": "OK", "timestamp": "2026-01-01T00:00:00.000+0000"},
                   "configuration": {"description": "secret patterns in application logs"}}}
    ev["alarm-ok-ignored"] = json.loads(json.dumps(ev["alarm-exposure"]))
    ev["alarm-ok-ignored"]["id"] = "5f1d6c3e-0b7a-4e55-9d0e-6a1c2b3d4e60"
    ev["alarm-ok-ignored"]["detail"]["state"]["value"] = "OK"
    ev["manual-dry-run"] = {"logGroup": g, "logStream": s, "dryRun": True, "messages": [
        "password=%s" % ORDERS_DB["password"],
        "aws_access_key_id=%s aws_secret_access_key=%s" % (AKIA_ID, AKIA_SECRET)]}
    ev["manual"] = {"logGroup": g, "logStream": s, "messages": [
        "password=%s" % ORDERS_DB["password"]]}
    return ev


def write_events(d):
    os.makedirs(d, exist_ok=True)
    for name, e in samples().items():
        with open(os.path.join(d, name + ".json"), "w") as f:
            json.dump(e, f, indent=2)
            f.write("\n")


def check_events(d):
    bad = []
    for name, e in samples().items():
        p = os.path.join(d, name + ".json")
        if not os.path.exists(p) or json.load(open(p)) != e:
            bad.append(name)
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--group", default="/app/log")
    ap.add_argument("--stream", default="app/1")
    ap.add_argument("-m", "--message", action="append", default=[])
    ap.add_argument("--zlib", action="store_true", help="zlib wrapper instead of gzip")
    ap.add_argument("--control", action="store_true", help="a CONTROL_MESSAGE delivery")
    ap.add_argument("--write-events", metavar="DIR")
    ap.add_argument("--check", metavar="DIR")
    a = ap.parse_args()
    if a.write_events:
        write_events(a.write_events)
        return 0
    if a.check:
        bad = check_events(a.check)
        for b in bad:
            print("differs: %s" % b)
        return 1 if bad else 0
    json.dump(make(a.group, a.stream, a.message, a.control, "zlib" if a.zlib else "gzip"), sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
