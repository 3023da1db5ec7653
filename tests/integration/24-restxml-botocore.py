#!/usr/bin/python3
"""Differential test: the generic rest-xml path of runtime/aws.c (issue 19:
S3 bucket subresources and S3 Control's account public access block)
against botocore's serializer with the real models (Debian python3-botocore
1.29), on the wire: method, path, query, body bytes and the headers that
carry input (Content-MD5, x-amz-account-id, x-amz-content-sha256).

Both sides send to a capture server on 127.0.0.1 (AWS_ENDPOINT_URL): ours
through build/native/tools/aws_call, botocore's through a client with the
same endpoint_url. One known difference, decided in runtime/endpoint.h:
with an endpoint override botocore still prefixes S3 Control's host with
the account ("123456789012.127.0.0.1:port", which does not resolve), we do
not; the capture server therefore takes botocore's request through a
before-send hook instead of a connection, and hosts are not compared.
Random configurations: every combination of the four settings, and bucket
names with dots (path-style under the override either way).
"""
import http.server
import itertools
import json
import os
import subprocess
import sys
import threading

sys.path.insert(0, "/usr/lib/python3/dist-packages")
import botocore.session  # noqa: E402
from botocore.awsrequest import AWSResponse  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "build/native/tools/aws_call")
HEADERS = ("content-md5", "x-amz-account-id", "x-amz-content-sha256")
SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


class Capture(http.server.BaseHTTPRequestHandler):
    got = []

    def log_message(self, *a):
        pass

    def _any(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(n) if n else b""
        Capture.got.append((self.command, self.path, body,
                            {h: self.headers.get(h) for h in HEADERS if self.headers.get(h) is not None}))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PUT = do_DELETE = _any


def ours(port, service, op, params, bucket):
    env = dict(os.environ, AWS_ENDPOINT_URL="http://127.0.0.1:%d" % port, AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
               AWS_SECRET_ACCESS_KEY="secret", AWS_REGION="us-east-1", AWS_MAX_ATTEMPTS="1")
    env.pop("AWS_SESSION_TOKEN", None)
    args = [TOOL, service, op, json.dumps(params)]
    if bucket:
        args[1:1] = ["--bucket", bucket]
    before = len(Capture.got)
    subprocess.run(args, env=env, capture_output=True, timeout=20)
    assert len(Capture.got) == before + 1, "aws_call sent nothing for %s %s" % (service, op)
    return Capture.got[-1]


def theirs(session, port, service, op, params):
    c = session.create_client(service, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                              aws_secret_access_key="secret", endpoint_url="http://127.0.0.1:%d" % port)
    seen = []

    def grab(request, **kw):
        u = request.url.split("://", 1)[1]
        path = u[u.index("/"):]
        h = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
        body = request.body or b""
        seen.append((request.method, path, body if isinstance(body, bytes) else body.encode(),
                     {k: h[k] for k in HEADERS if k in h}))
        return AWSResponse(request.url, 200, {}, None)

    c.meta.events.register("before-send", grab)
    try:
        getattr(c, c.meta.method_to_api_mapping and {v: k for k, v in c.meta.method_to_api_mapping.items()}[op])(**params)
    except Exception:  # the empty answer may not parse; the request is what counts
        pass
    assert len(seen) == 1, "botocore sent %d requests for %s" % (len(seen), op)
    return seen[0]


def cases():
    out = []
    for bucket in ("my-bucket", "logs.example.com", "a-b-c-123"):
        for op in ("GetBucketPolicyStatus", "GetBucketAcl", "GetBucketTagging", "GetPublicAccessBlock",
                   "DeletePublicAccessBlock"):
            out.append(("s3", op, {"Bucket": bucket}, {}, bucket))
    for bits in itertools.product((True, False), repeat=4):
        cfg = dict(zip(SETTINGS, bits))
        out.append(("s3", "PutPublicAccessBlock", {"Bucket": "my-bucket", "PublicAccessBlockConfiguration": cfg},
                    {"PublicAccessBlockConfiguration": cfg}, "my-bucket"))
        out.append(("s3control", "PutPublicAccessBlock",
                    {"AccountId": "123456789012", "PublicAccessBlockConfiguration": cfg},
                    {"AccountId": "123456789012", "PublicAccessBlockConfiguration": cfg}, None))
    # a partial configuration: only the members given are sent, in model order
    cfg = {"BlockPublicAcls": True, "RestrictPublicBuckets": True}
    out.append(("s3", "PutPublicAccessBlock", {"Bucket": "b-1", "PublicAccessBlockConfiguration": cfg},
                {"PublicAccessBlockConfiguration": cfg}, "b-1"))
    for op in ("GetPublicAccessBlock", "DeletePublicAccessBlock"):
        out.append(("s3control", op, {"AccountId": "210987654321"}, {"AccountId": "210987654321"}, None))
    return out


def main():
    if not os.access(TOOL, os.X_OK):
        print("SKIP: %s not built (make -j2 all)" % TOOL)
        return 0
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]
    session = botocore.session.get_session()
    bad = 0
    all_cases = cases()
    for service, op, bparams, oparams, bucket in all_cases:
        a = ours(port, service, op, oparams, bucket)
        b = theirs(session, port, service, op, bparams)
        if a != b:
            bad += 1
            print("DIFF %s %s %s\n  ours:     %r\n  botocore: %r" % (service, op, bparams, a, b))
    srv.shutdown()
    print("%d/%d rest-xml requests identical to botocore's" % (len(all_cases) - bad, len(all_cases)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
