#!/usr/bin/python3
"""Differential test: the rest-json path of runtime/aws.c (issue 23:
CodeArtifact's domain and repository permissions policies) against
botocore's serializer with the real model (Debian python3-botocore 1.29),
on the wire: method, path, query string (names, order, percent-encoding),
body (JSON compared as values: botocore writes ', ' separators, we write
none; the signature covers the bytes either way), Content-Type.

Both sides send to a capture server on 127.0.0.1 (AWS_ENDPOINT_URL): ours
through build/native/tools/aws_call, botocore's through a before-send hook
(the request as it would leave). Inputs include values that need encoding
(a '/' in a token, '+', '=' and spaces) and bodies with and without
optional members.
"""
import http.server
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
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "A b", "Effect": "Allow",
                     "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "codeartifact:*",
                     "Resource": "*"}]})


class Capture(http.server.BaseHTTPRequestHandler):
    got = []

    def log_message(self, *a):
        pass

    def _any(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(n) if n else b""
        Capture.got.append(norm(self.command, self.path, body, self.headers.get("Content-Type")))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_PUT = do_DELETE = do_POST = _any


def norm(method, path, body, ctype):
    if body:
        try:
            body = ("json", json.loads(body))
        except ValueError:
            body = ("bytes", body)
    return (method, path, body, ctype)


def ours(port, op, params):
    env = dict(os.environ, AWS_ENDPOINT_URL="http://127.0.0.1:%d" % port, AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
               AWS_SECRET_ACCESS_KEY="secret", AWS_REGION="us-east-1", AWS_MAX_ATTEMPTS="1")
    env.pop("AWS_SESSION_TOKEN", None)
    before = len(Capture.got)
    subprocess.run([TOOL, "codeartifact", op, json.dumps(params)], env=env, capture_output=True, timeout=20)
    assert len(Capture.got) == before + 1, "aws_call sent nothing for %s" % op
    return Capture.got[-1]


def theirs(client, op, params):
    seen = []

    def grab(request, **kw):
        u = request.url.split("://", 1)[1]
        h = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
        body = request.body or b""
        seen.append(norm(request.method, u[u.index("/"):], body if isinstance(body, bytes) else body.encode(),
                         h.get("content-type")))
        return AWSResponse(request.url, 200, {}, None)

    client.meta.events.register("before-send", grab)
    name = {v: k for k, v in client.meta.method_to_api_mapping.items()}[op]
    try:
        getattr(client, name)(**params)
    except Exception:  # the answer may not parse; the request is what counts
        pass
    client.meta.events.unregister("before-send", grab)
    assert len(seen) == 1, "botocore sent %d requests for %s" % (len(seen), op)
    return seen[0]


def cases():
    d = {"domain": "acme", "domainOwner": "111111111111"}
    return [
        ("DescribeDomain", d),
        ("DescribeDomain", {"domain": "acme"}),
        ("GetDomainPermissionsPolicy", d),
        ("PutDomainPermissionsPolicy", dict(d, policyRevision="rev/1+2=3", policyDocument=POLICY)),
        ("PutDomainPermissionsPolicy", {"domain": "acme", "policyDocument": POLICY}),
        ("DeleteDomainPermissionsPolicy", dict(d, policyRevision="a b/c")),
        ("ListRepositoriesInDomain", d),
        ("ListRepositoriesInDomain", dict(d, maxResults=50, nextToken="tok/en+=x y")),
        ("ListRepositoriesInDomain", dict(d, administratorAccount="222222222222", repositoryPrefix="np")),
        ("GetRepositoryPermissionsPolicy", dict(d, repository="npm-store")),
        ("PutRepositoryPermissionsPolicy", dict(d, repository="my.repo_1", policyRevision="r1",
                                                policyDocument=POLICY)),
        ("PutRepositoryPermissionsPolicy", dict(d, repository="r-2", policyDocument=POLICY)),
        ("DeleteRepositoryPermissionsPolicy", dict(d, repository="r-2")),
    ]


def main():
    if not os.access(TOOL, os.X_OK):
        print("SKIP: %s not built (make -j2 all)" % TOOL)
        return 0
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]
    client = botocore.session.get_session().create_client(
        "codeartifact", region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
        endpoint_url="http://127.0.0.1:%d" % port)
    bad = 0
    all_cases = cases()
    for op, params in all_cases:
        a = ours(port, op, params)
        b = theirs(client, op, params)
        if a != b:
            bad += 1
            print("DIFF %s %s\n  ours:     %r\n  botocore: %r" % (op, params, a, b))
    srv.shutdown()
    print("%d/%d rest-json requests identical to botocore's" % (len(all_cases) - bad, len(all_cases)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
