#!/usr/bin/python3
"""Differential test: query-protocol request bodies, byte for byte, against
botocore's serializer (Debian python3-botocore).

For SNS, EC2, IAM and STS operations the AWS layer sends, botocore turns
structured parameters (strings with spaces, '+', '~', '*', '%', '&', '=',
unicode, emoji, control characters; lists of structures; maps) into its
flat query dict with the real service model, and its request preparer
turns that into the body bytes it would send. The same flat parameters go
through build/native/tools/aws_call (runtime/aws.c) to a capture server on
127.0.0.1, and the two bodies must be identical.

Why it matters (issue 16, item 10): real AWS hashes whatever bytes arrive,
but moto and LocalStack decode the form and re-encode it the botocore way
before they check the signature, so a body botocore would not produce
fails there (a space sent as %20 instead of '+').
Usage: tests/integration/21-query-body-botocore.py [N] (default 300 random cases)
"""
import http.server
import json
import os
import random
import subprocess
import sys
import threading

import botocore.session
from botocore.awsrequest import AWSRequest
from botocore.serialize import create_serializer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "build/native/tools/aws_call")
SEED = 20261207

WORDS = ["a", "key", "my file", "x y  z", " lead", "trail ", "a+b", "1+1=2", "~user", "*", "a*b",
         "100%", "%20", "%2B", "&", "a&b=c", "?", "#frag", "/path/x", "caf\u00e9", "\u65e5\u672c",
         "\U0001F600", "\u00a0nbsp", "tab\there", "line\nbreak", "cr\rx", "\"q\"", "'s'",
         "<x>", "[y]", "{z}", "|\\^`", "!$(),;:@", "-._~", "", "ABC", "0"]


def word(rng):
    return "".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))


# Each case: service, operation, botocore input params (structured).
def cases(rng, n):
    out = [
        ("sns", "Publish", {"TopicArn": "arn:aws:sns:us-east-1:111111111111:firebreak",
                            "Subject": "firebreak P1 kms-guard contained",
                            "Message": "{\"verdict\": \"contained 1+1\", \"note\": \"a ~ * b\"}"}),
        ("ec2", "RevokeSecurityGroupEgress", {
            "GroupId": "sg-0123456789abcdef0",
            "IpPermissions": [{"IpProtocol": "-1", "IpRanges": [
                {"CidrIp": "0.0.0.0/0", "Description": "all out + back"}]}]}),
        ("iam", "PutRolePolicy", {"RoleName": "app", "PolicyName": "firebreak-revoke",
                                  "PolicyDocument": json.dumps({"Version": "2012-10-17", "Statement": [
                                      {"Effect": "Deny", "Action": "*", "Resource": "*"}]},
                                      separators=(", ", ": "))}),
        ("sts", "AssumeRole", {"RoleArn": "arn:aws:iam::222222222222:role/firebreak-member",
                               "RoleSessionName": "firebreak-kms-guard-fb-1",
                               "Tags": [{"Key": "incident", "Value": "fb 1+2"}]}),
    ]
    for _ in range(n):
        kind = rng.randrange(4)
        if kind == 0:
            out.append(("sns", "Publish", {
                "TopicArn": "arn:aws:sns:us-east-1:111111111111:t",
                "Message": word(rng), "Subject": word(rng)[:99] or "s",
                "MessageAttributes": {word(rng) or "k": {"DataType": "String", "StringValue": word(rng)}}}))
        elif kind == 1:
            perms = []
            for _ in range(rng.randint(1, 3)):
                perms.append({"IpProtocol": rng.choice(["tcp", "udp", "-1"]), "FromPort": rng.randint(0, 65535),
                              "ToPort": rng.randint(0, 65535),
                              "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": word(rng)}
                                           for _ in range(rng.randint(0, 2))],
                              "UserIdGroupPairs": [{"GroupId": "sg-1", "Description": word(rng)}]})
            out.append(("ec2", rng.choice(["RevokeSecurityGroupEgress", "AuthorizeSecurityGroupEgress"]),
                        {"GroupId": "sg-0abc", "IpPermissions": perms}))
        elif kind == 2:
            out.append(("iam", "PutUserPolicy", {"UserName": "u", "PolicyName": "p",
                                                 "PolicyDocument": word(rng) or "{}"}))
        else:
            out.append(("sts", "AssumeRole", {"RoleArn": "arn:aws:iam::222222222222:role/r",
                                              "RoleSessionName": "s",
                                              "Tags": [{"Key": word(rng) or "k", "Value": word(rng)}
                                                       for _ in range(rng.randint(1, 3))],
                                              "TransitiveTagKeys": [word(rng) or "k"]}))
    return out


def botocore_body(session, service, op, params):
    """The flat query dict and the body bytes botocore would send."""
    model = session.get_service_model(service)
    opm = model.operation_model(op)
    ser = create_serializer(model.metadata["protocol"], include_validation=False)
    req = ser.serialize_to_request(params, opm)
    flat = req["body"]
    prepared = AWSRequest(method="POST", url="https://example.com/", data=flat).prepare()
    body = prepared.body
    return flat, body.encode() if isinstance(body, str) else body


class Capture(http.server.BaseHTTPRequestHandler):
    bodies = []

    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        Capture.bodies.append(self.rfile.read(n))
        payload = b"<Response><RequestId>r</RequestId></Response>"
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    rng = random.Random(SEED)
    session = botocore.session.get_session()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    env = dict(os.environ, AWS_ENDPOINT_URL="http://127.0.0.1:%d" % srv.server_address[1],
               AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY="test-secret",
               AWS_REGION="us-east-1", AWS_MAX_ATTEMPTS="1")
    env.pop("AWS_SESSION_TOKEN", None)
    passed = failed = 0
    for i, (service, op, params) in enumerate(cases(rng, n)):
        flat, want = botocore_body(session, service, op, params)
        ours_in = {k: v for k, v in flat.items() if k not in ("Action", "Version")}
        Capture.bodies.clear()
        subprocess.run([TOOL, service, op, json.dumps(ours_in)], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        got = Capture.bodies[0] if Capture.bodies else None
        if got == want:
            passed += 1
        else:
            failed += 1
            if failed <= 5:
                print("FAIL case %d %s.%s\n  botocore: %r\n  ours:     %r" % (i, service, op, want, got))
    srv.shutdown()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or passed == 0 else 0)


if __name__ == "__main__":
    main()
