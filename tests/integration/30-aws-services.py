#!/usr/bin/python3
"""One C call per service through runtime/aws.h against fakeaws.

For each service the C tool (build/native/tools/aws_call) makes a call that
changes state (or, for read-only APIs, reads it), and the result is checked
with the real AWS CLI (/usr/bin/aws --endpoint-url ...), which nobody here
wrote. fakeaws itself checks every request's SigV4 signature with botocore's
signer and its shape against botocore's service model, so a request that
passes is one real AWS would accept.

SNS has no read API for published messages; that one is checked through
fakeaws's /_fake/state. Secret values are never printed.
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "build/native/tools/aws_call")
SERVER = os.path.join(ROOT, "tests/fakeaws/server.py")
SEED = os.path.join(ROOT, "tests/fakeaws/world-example.json")
AWS = "/usr/bin/aws"

failures = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what, flush=True)
    if not cond:
        failures.append(what)


class Fake:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="fb-aws-")
        port_file = os.path.join(self.tmp, "port")
        self.log = open(os.path.join(self.tmp, "fakeaws.log"), "w")
        self.proc = subprocess.Popen([sys.executable, SERVER, "--port", "0", "--port-file", port_file,
                                      "--seed", SEED], stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(300):
            if os.path.exists(port_file):
                break
            if self.proc.poll() is not None:
                raise SystemExit("fakeaws exited early, see %s" % self.log.name)
            time.sleep(0.05)
        else:
            raise SystemExit("fakeaws did not start")
        with open(port_file) as f:
            self.port = int(f.read())
        self.url = "http://127.0.0.1:%d" % self.port
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.env.update({
            "AWS_ACCESS_KEY_ID": "AKIDFAKE", "AWS_SECRET_ACCESS_KEY": "fakesecret",
            "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": self.url,
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_PAGER": "", "AWS_EC2_METADATA_DISABLED": "true",
        })

    def admin(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method="POST" if data else "GET")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"{}")

    def c(self, *args, env=None):
        """Runs the C tool; returns (exit code, parsed stdout)."""
        e = dict(self.env)
        e.update(env or {})
        p = subprocess.run([TOOL] + list(args), env=e, capture_output=True, text=True, timeout=60)
        try:
            out = json.loads(p.stdout) if p.stdout.strip() else None
        except ValueError:
            out = None
        if p.returncode != 0:
            print("      aws_call %s -> exit %d: %s" % (" ".join(args[:4]), p.returncode, p.stderr.strip()[:300]))
        return p.returncode, out

    def cli(self, *args):
        p = subprocess.run([AWS, "--endpoint-url", self.url, "--output", "json"] + list(args),
                           env=self.env, capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            print("      aws %s -> exit %d: %s" % (" ".join(args[:3]), p.returncode, p.stderr.strip()[:300]))
            return None
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def main():
    if not os.access(TOOL, os.X_OK):
        print("missing %s (run make all)" % TOOL)
        return 1
    f = Fake()
    try:
        run(f)
    finally:
        f.close()
    print("\n%d failure(s)" % len(failures))
    return 1 if failures else 0


def run(f):
    key = "1234abcd-12ab-34cd-56ef-1234567890ab"

    # kms (awsJson1_1): DisableKey, seen Disabled by the CLI
    before = f.cli("kms", "describe-key", "--key-id", key)
    check(before and before["KeyMetadata"]["KeyState"] == "Enabled", "kms: key starts Enabled")
    rc, out = f.c("kms", "DisableKey", json.dumps({"KeyId": key}))
    check(rc == 0 and out == {}, "kms: DisableKey from C succeeds")
    after = f.cli("kms", "describe-key", "--key-id", key)
    check(after and after["KeyMetadata"]["KeyState"] == "Disabled", "kms: aws cli sees the key Disabled")
    rc, out = f.c("kms", "DescribeKey", json.dumps({"KeyId": "alias/payments"}))
    check(rc == 0 and out["KeyMetadata"]["KeyId"] == key and out["KeyMetadata"]["KeyState"] == "Disabled",
          "kms: DescribeKey from C agrees with the cli")
    rc, out = f.c("kms", "EnableKey", json.dumps({"KeyId": key}))
    after = f.cli("kms", "describe-key", "--key-id", key)
    check(rc == 0 and after and after["KeyMetadata"]["KeyState"] == "Enabled",
          "kms: EnableKey from C, aws cli sees the key Enabled again")
    rc, out = f.c("kms", "DescribeKey", json.dumps({"KeyId": "alias/does-not-exist"}))
    check(rc == 1 and out["error"]["code"] == "NotFoundException" and out["error"]["http_status"] == 400
          and out["error"]["request_id"], "kms: json error parsed (code, status, request id)")

    # secretsmanager: TagResource, tags read back by the CLI
    rc, out = f.c("secretsmanager", "TagResource",
                  json.dumps({"SecretId": "prod/no-rotation", "Tags": [{"Key": "firebreak:seen", "Value": "c"}]}))
    check(rc == 0, "secretsmanager: TagResource from C succeeds")
    d = f.cli("secretsmanager", "describe-secret", "--secret-id", "prod/no-rotation")
    check(d and {"Key": "firebreak:seen", "Value": "c"} in d.get("Tags", []),
          "secretsmanager: aws cli sees the tag")
    rc, out = f.c("secretsmanager", "GetSecretValue", json.dumps({"SecretId": "prod/no-rotation"}))
    cli_sv = f.cli("secretsmanager", "get-secret-value", "--secret-id", "prod/no-rotation")
    want = "redacted:" + hashlib.sha256(cli_sv["SecretString"].encode()).hexdigest()[:12] if cli_sv else None
    check(rc == 0 and out["SecretString"] == want,
          "secretsmanager: GetSecretValue from C matches the cli (compared by hash, never printed)")

    # ecs: UpdateService desiredCount
    rc, out = f.c("ecs", "UpdateService", json.dumps({"cluster": "prod", "service": "worker", "desiredCount": 0}))
    check(rc == 0 and out["service"]["desiredCount"] == 0, "ecs: UpdateService from C succeeds")
    d = f.cli("ecs", "describe-services", "--cluster", "prod", "--services", "worker")
    check(d and d["services"][0]["desiredCount"] == 0, "ecs: aws cli sees desiredCount 0")

    # ec2 (query, EC2 XML): revoke the open egress rule
    sg = "sg-0aaaaaaaaaaaaaaaa"

    def open_egress():
        g = f.cli("ec2", "describe-security-groups", "--group-ids", sg)
        perms = g["SecurityGroups"][0]["IpPermissionsEgress"] if g else []
        return any(p["IpProtocol"] == "-1" and {"CidrIp": "0.0.0.0/0"} in p.get("IpRanges", []) for p in perms)
    check(open_egress(), "ec2: group starts with 0.0.0.0/0 egress")
    rc, out = f.c("ec2", "RevokeSecurityGroupEgress", json.dumps({
        "GroupId": sg, "IpPermissions.1.IpProtocol": "-1",
        "IpPermissions.1.IpRanges.1.CidrIp": "0.0.0.0/0"}))
    check(rc == 0 and out.get("return") == "true", "ec2: RevokeSecurityGroupEgress from C succeeds")
    check(not open_egress(), "ec2: aws cli no longer sees the egress rule")
    rc, out = f.c("ec2", "RevokeSecurityGroupEgress", json.dumps({
        "GroupId": sg, "IpPermissions.1.IpProtocol": "-1",
        "IpPermissions.1.IpRanges.1.CidrIp": "0.0.0.0/0"}))
    check(rc == 1 and out["error"]["code"] == "InvalidPermission.NotFound" and out["error"]["request_id"],
          "ec2: <Response><Errors> error parsed")
    rc, out = f.c("ec2", "DescribeSecurityGroups", json.dumps({"GroupId.1": sg}))
    check(rc == 0 and isinstance(out.get("securityGroupInfo"), list)
          and out["securityGroupInfo"][0]["groupId"] == sg, "ec2: item lists become arrays")

    # cloudtrail (read-only): LookupEvents from C equals the CLI's
    args = {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "ScheduleKeyDeletion"}]}
    rc, out = f.c("cloudtrail", "LookupEvents", json.dumps(args))
    d = f.cli("cloudtrail", "lookup-events", "--lookup-attributes",
              "AttributeKey=EventName,AttributeValue=ScheduleKeyDeletion")
    ids_c = sorted(e["EventId"] for e in out.get("Events", [])) if rc == 0 else None
    ids_cli = sorted(e["EventId"] for e in d.get("Events", [])) if d else []
    check(rc == 0 and ids_c and ids_c == ids_cli, "cloudtrail: LookupEvents from C equals the cli's")

    # logs: create a stream and put an event, read back by the CLI
    group, stream = "/ecs/api", "c-test-stream"
    rc, _ = f.c("logs", "CreateLogStream", json.dumps({"logGroupName": group, "logStreamName": stream}))
    check(rc == 0, "logs: CreateLogStream from C succeeds")
    now_ms = int(time.time() * 1000)
    rc, _ = f.c("logs", "PutLogEvents", json.dumps({"logGroupName": group, "logStreamName": stream,
                                                     "logEvents": [{"timestamp": now_ms, "message": "from C"}]}))
    check(rc == 0, "logs: PutLogEvents from C succeeds")
    d = f.cli("logs", "get-log-events", "--log-group-name", group, "--log-stream-name", stream)
    check(d and [e["message"] for e in d["events"]] == ["from C"], "logs: aws cli reads the event")
    # a NUL in a log line (the CLI sends it as "\u0000"): C keeps the tail, NUL read as U+FFFD
    nul_stream = "c-test-nul"
    f.cli("logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", nul_stream)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as t:
        json.dump({"logGroupName": group, "logStreamName": nul_stream,
                   "logEvents": [{"timestamp": now_ms, "message": "evil\x00payload tail"}]}, t)
    f.cli("logs", "put-log-events", "--cli-input-json", "file://" + t.name)
    os.unlink(t.name)
    rc, out = f.c("logs", "GetLogEvents", json.dumps({"logGroupName": group, "logStreamName": nul_stream,
                                                       "startFromHead": True}))
    check(rc == 0 and [e["message"] for e in out.get("events", [])] == ["evil\ufffdpayload tail"],
          "logs: a \\u0000 in GetLogEvents keeps the line's tail (NUL read as U+FFFD)")

    # s3 (rest-xml): PutObject with SSE-KMS and a computed SHA-256 checksum
    body = b'{"incident":"x","note":"odd key"}'
    okey = "incidents/2024/a b+c~d.json"
    with tempfile.NamedTemporaryFile(delete=False) as t:
        t.write(body)
    rc, out = f.c("--bucket", "evidence-bucket", "--key", okey, "--body-file", t.name,
                  "--header", "x-amz-server-side-encryption: aws:kms",
                  "--header", "x-amz-server-side-encryption-aws-kms-key-id: alias/payments",
                  "--header", "x-amz-checksum-sha256:",
                  "--header", "Content-Type: application/json",
                  "s3", "PutObject")
    want_sum = base64.b64encode(hashlib.sha256(body).digest()).decode()
    check(rc == 0 and out.get("ChecksumSHA256") == want_sum and out.get("ServerSideEncryption") == "aws:kms",
          "s3: PutObject from C succeeds with checksum and SSE-KMS")
    h = f.cli("s3api", "head-object", "--bucket", "evidence-bucket", "--key", okey, "--checksum-mode", "ENABLED")
    check(h and h.get("ServerSideEncryption") == "aws:kms" and h.get("SSEKMSKeyId", "").endswith(key)
          and h.get("ChecksumSHA256") == want_sum and h.get("ContentLength") == len(body)
          and h.get("ETag") == out.get("ETag"), "s3: aws cli head-object sees SSE-KMS, checksum, size, ETag")
    dst = t.name + ".get"
    g = f.cli("s3api", "get-object", "--bucket", "evidence-bucket", "--key", okey, dst)
    check(g is not None and open(dst, "rb").read() == body, "s3: aws cli reads back the same bytes")
    os.unlink(t.name)
    if os.path.exists(dst):
        os.unlink(dst)
    # s3 HeadObject from C: the object the CLI just saw, then a missing key (a 404 without a body)
    rc, out = f.c("--bucket", "evidence-bucket", "--key", okey, "s3", "HeadObject")
    check(rc == 0 and h and out.get("ContentLength") == len(body) and out.get("ETag") == h.get("ETag")
          and out.get("ServerSideEncryption") == "aws:kms", "s3: HeadObject from C sees size, ETag, SSE")
    rc, out = f.c("--bucket", "evidence-bucket", "--key", okey + ".missing", "s3", "HeadObject")
    check(rc == 1 and out["error"]["code"] == "NotFound" and out["error"]["http_status"] == 404
          and out["error"]["rc"] == "FB_E_NOTFOUND", "s3: HeadObject of a missing key is FB_E_NOTFOUND 404 NotFound")
    heads = [c for c in f.admin("/_fake/calls")["calls"] if c["operation"] == "HeadObject" and c["account"] == "111111111111"]
    check(len(heads) >= 2, "s3: fakeaws (botocore-checked signature) served both HeadObject calls")
    # a bucket of another account: HEAD's 403 has no body, its code comes from the status
    rc, out = f.c("--assume-role", "arn:aws:iam::222222222222:role/firebreak-member",
                  "--bucket", "evidence-bucket", "--key", okey, "s3", "HeadObject")
    check(rc == 1 and out["error"]["code"] == "AccessDenied" and out["error"]["http_status"] == 403
          and out["error"]["attempts"] == 1, "s3: HeadObject 403 (no body) is AccessDenied, not retried")
    # a 200 that is not S3's confirmation (the fake's malformed fault: no ETag, no checksum echo,
    # and the object was never stored) is an error after the retries, never a success
    f.admin("/_fake/faults", {"service": "s3", "operation": "PutObject", "kind": "malformed"})
    mkey = "incidents/2024/malformed.json"
    rc, out = f.c("--bucket", "evidence-bucket", "--key", mkey, "--body", "evidence",
                  "--header", "x-amz-checksum-sha256:", "s3", "PutObject")
    f.admin("/_fake/faults", {"clear": True})
    check(rc == 1 and out["error"]["code"] == "IncompleteAnswer" and out["error"]["http_status"] == 200
          and out["error"]["attempts"] == 3 and "ETag" in out["error"]["message"],
          "s3: PutObject answered 200 without ETag/checksum is an error (IncompleteAnswer, 3 attempts)")
    check(f.cli("s3api", "head-object", "--bucket", "evidence-bucket", "--key", mkey) is None,
          "s3: aws cli confirms that object was never stored")
    rc, out = f.c("--bucket", "no-such-bucket", "--key", "k", "--body", "x", "s3", "PutObject")
    check(rc == 1 and out["error"]["code"] == "NoSuchBucket" and out["error"]["http_status"] == 404,
          "s3: <Error><Code> parsed")

    # sns (query): Publish, seen in fakeaws state
    topic = "arn:aws:sns:us-east-1:111111111111:firebreak"
    rc, out = f.c("sns", "Publish", json.dumps({"TopicArn": topic, "Subject": "firebreak test",
                                                 "Message": "{\"verdict\":\"contained\"}"}))
    mid = out["PublishResult"]["MessageId"] if rc == 0 else None
    check(mid is not None, "sns: Publish from C succeeds")
    st = f.admin("/_fake/state")
    pub = [p for p in st["sns"]["published"] if p["MessageId"] == mid]
    check(len(pub) == 1 and pub[0]["Message"] == "{\"verdict\":\"contained\"}" and pub[0]["Subject"] == "firebreak test",
          "sns: the published message is in fakeaws state")
    t = f.cli("sns", "list-topics")
    check(t and topic in [x["TopicArn"] for x in t["Topics"]], "sns: aws cli lists the topic")

    # iam (query, global endpoint): deactivate a key, CLI sees it
    ak = "AKIAI44QH8DHBEXAMPLE"
    rc, out = f.c("iam", "UpdateAccessKey", json.dumps({"UserName": "ci-bot", "AccessKeyId": ak, "Status": "Inactive"}))
    check(rc == 0, "iam: UpdateAccessKey from C succeeds")
    d = f.cli("iam", "list-access-keys", "--user-name", "ci-bot")
    check(d and {k["AccessKeyId"]: k["Status"] for k in d["AccessKeyMetadata"]}.get(ak) == "Inactive",
          "iam: aws cli sees the key Inactive")
    rc, out = f.c("iam", "GetAccountSummary")
    cli_sum = f.cli("iam", "get-account-summary")
    m = out["GetAccountSummaryResult"]["SummaryMap"] if rc == 0 else {}
    check(cli_sum and m and all(str(v) == m.get(k) for k, v in cli_sum["SummaryMap"].items()),
          "iam: GetAccountSummary map from C equals the cli's")

    # sts: identity, AssumeRole, then a call with the temporary credentials
    rc, out = f.c("sts", "GetCallerIdentity")
    me = f.cli("sts", "get-caller-identity")
    check(rc == 0 and me and out["GetCallerIdentityResult"]["Arn"] == me["Arn"],
          "sts: GetCallerIdentity from C equals the cli's")
    role = "arn:aws:iam::222222222222:role/firebreak-member"
    rc, out = f.c("--assume-role", role, "--session-name", "fb-test", "sts", "GetCallerIdentity")
    check(rc == 0 and out["GetCallerIdentityResult"]["Account"] == "222222222222"
          and out["GetCallerIdentityResult"]["Arn"] == "arn:aws:sts::222222222222:assumed-role/firebreak-member/fb-test",
          "sts: AssumeRole then GetCallerIdentity with the temporary credentials")
    rc, out = f.c("--assume-role", role, "kms", "CancelKeyDeletion", json.dumps({"KeyId": "bbbb0000-0000-0000-0000-000000000002"}))
    check(rc == 0, "sts: cross-account CancelKeyDeletion with the temporary credentials")
    st = f.admin("/_fake/state")
    k2 = [k for k in st["kms"]["keys"] if k.get("KeyId") == "bbbb0000-0000-0000-0000-000000000002"]
    check(k2 and k2[0].get("KeyState") == "Disabled" and k2[0].get("account", "222222222222") == "222222222222",
          "sts: the member account's key left PendingDeletion (now Disabled)")
    calls = f.admin("/_fake/calls")
    calls = calls["calls"] if isinstance(calls, dict) else calls
    cross = [c for c in calls if c.get("operation") == "CancelKeyDeletion"]
    check(cross and cross[-1]["account"] == "222222222222" and cross[-1]["access_key"] != "AKIDFAKE",
          "sts: the call was made as the member account")
    rc, out = f.c("--assume-role", "arn:aws:iam::333333333333:role/nope", "sts", "GetCallerIdentity")
    check(rc == 1 and out["error"]["code"] in ("AccessDenied", "NoSuchEntity") and out["error"]["request_id"],
          "sts: AssumeRole refusal parsed from <ErrorResponse>")

    # a wrong secret is refused by botocore's signer check in fakeaws
    rc, out = f.c("kms", "ListKeys", env={"AWS_SECRET_ACCESS_KEY": "not-the-secret"})
    check(rc == 1 and out["error"]["code"] in ("InvalidSignatureException", "UnrecognizedClientException")
          and out["error"]["attempts"] == 1, "auth: a wrong secret is refused and not retried")

    # AWS_ENDPOINT_URL_<SERVICE> wins over AWS_ENDPOINT_URL
    rc, out = f.c("kms", "ListKeys", env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9",
                                          "AWS_ENDPOINT_URL_KMS": f.url})
    check(rc == 0 and "Keys" in out, "endpoint: AWS_ENDPOINT_URL_KMS overrides AWS_ENDPOINT_URL")


if __name__ == "__main__":
    sys.exit(main())
