#!/usr/bin/python3
"""Differential test: our SigV4 signer against botocore's.

Generates N randomised requests from a fixed seed (methods; paths with
spaces, unicode, %-escapes, dot segments and doubled slashes; repeated,
empty and encoding-hungry query keys; headers with odd whitespace, mixed
case and repeated names; random bodies; session tokens; S3 and non-S3
services), signs each with botocore (SigV4Auth, or S3SigV4Auth for s3,
on an AWSRequest, with botocore.auth's clock frozen the way botocore's own
tests do it) and with build/native/tools/sigv4_sign, and requires the same
canonical request, string to sign and Authorization header.

Where the two signers legitimately differ the generator stays out (the
AWS layer never sends such requests); each is documented in
runtime/sigv4.c and repeated here:
  * botocore sorts a URL-embedded query verbatim, we decode and re-encode
    (as the AWS suite's get-vanilla-utf8-query needs). So a URL-embedded
    query is always generated in SigV4's own encoding; the non-canonical
    spellings (lowercase hex, encoded unreserved, raw spaces, unicode, '+',
    raw '=' in values) are checked against botocore's `params` path, which
    encodes decoded names and values exactly like we do.
  * empty query pieces ("a&&b"): botocore signs "=", we skip them.
  * header values use ASCII whitespace only (Python's str.split() also
    folds \\x1c-\\x1f and unicode spaces).
  * no Date header (botocore then signs Date instead of X-Amz-Date), no
    Content-MD5 (could switch botocore's S3 signer to UNSIGNED-PAYLOAD).
Usage: tests/integration/20-sigv4-botocore.py [N] (default 1500)
"""
import base64
import datetime
import difflib
import hashlib
import json
import os
import random
import subprocess
import sys
from unittest import mock
from urllib.parse import quote, urlsplit

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SEED = 20150830
TOOL = os.environ.get("SIGV4_SIGN_TOOL", "build/native/tools/sigv4_sign")

SERVICES = ["kms", "secretsmanager", "ecs", "ec2", "iam", "sts", "logs",
            "cloudtrail", "sns", "service", "s3", "s3", "s3"]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1"]
METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"]
WORDS = ["a", "b", "key", "Photos", "my file", "x y  z", "caf\u00e9", "\u1234",
         "\u65e5\u672c", "\U0001F600", "-._~", "!$&'()*+,;=:@", "100%", "%20",
         "%2F", "%2f", "%41", "%FF", "%e1%88%b4", "a+b", "[x]", "{y}", "|\\^`",
         "\"q\"", "<>", "1", "ABC", "%", "%zz", "..a", ".b", "a.", "~user"]
HEADER_NAMES = ["X-Amz-Target", "Content-Type", "x-amz-meta-Owner", "X-Custom",
                "x-custom", "X-CUSTOM", "Accept", "x-amz-server-side-encryption",
                "X-Amz-Checksum-Crc32", "Cache-Control", "If-Match", "X-A", "x-a-b",
                "x_under", "User-Agent", "X-Amzn-Trace-Id", "Expect", "content-length"]
HEADER_WORDS = ["application/x-amz-json-1.1", "v", "a  b", "\"a   b   c\"", "",
                "1", "aws:kms", "max-age=0, no-cache", "Root=1-5759e988", "100-continue",
                "x=y;z", "*", "AbC", "'single'", "trail\\"]
WS = [" ", "  ", "\t", " \t ", "   "]
RARE_WS = ["\x0b", "\x0c"]


def rand_token(rng, n):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
    return "".join(rng.choice(alphabet) for _ in range(n))


def gen_path(rng, s3):
    segs = []
    for _ in range(rng.randint(0, 6)):
        r = rng.random()
        if r < 0.15:
            segs.append(rng.choice([".", ".."]))
        elif r < 0.25:
            segs.append("")  # doubled slash
        else:
            segs.append("".join(rng.choice(WORDS) for _ in range(rng.randint(1, 2))))
    path = "/" + "/".join(segs)
    if rng.random() < 0.2:
        path += "/"
    if rng.random() < 0.05:
        path = rng.choice(["/", "//", "/./", "/..", "/a/b/..", "/a/b/."])
    return path


def enc_canonical(s):
    return quote(s, safe="-_.~")


def enc_noncanonical(rng, s, is_key):
    """An equivalent but non-canonical spelling of s for a query field."""
    out = []
    for ch in s:
        b = ch.encode("utf-8")
        must = ch in "&%#" or (is_key and ch == "=")
        if not must and rng.random() < 0.5:
            out.append(ch)  # raw: unreserved, space, unicode, '+', '/', '=' in values
            continue
        for byte in b:
            h = "%02X" % byte
            out.append("%" + (h.lower() if rng.random() < 0.5 else h))
    return "".join(out)


def gen_query_pairs(rng):
    pairs = []
    keys = ["a", "A", "b", "Param", "Param-3", "k k", "\u1234", "caf\u00e9", "x/y",
            "e=q", "&amp", "p+q", "~t", "", "%", "X-Amz-Foo", "a-b", "a_b"]
    vals = ["", "1", "2", "v v", "\u65e5", "a=b", "a&b", "/", "+", "%2F", "~-._", "Z"]
    for _ in range(rng.randint(1, 6)):
        k = rng.choice(keys)
        if k == "" and rng.random() < 0.7:
            k = "k"
        pairs.append((k, rng.choice(vals)))
    if rng.random() < 0.3 and pairs:
        pairs.append((pairs[0][0], rng.choice(vals)))  # repeated key
    return pairs


def gen_value(rng):
    parts = []
    for _ in range(rng.randint(0, 3)):
        parts.append(rng.choice(HEADER_WORDS))
        parts.append(rng.choice(WS + (RARE_WS if rng.random() < 0.1 else [])))
    v = "".join(parts)
    if rng.random() < 0.3:
        v = rng.choice(WS) + v
    return v


def case_mutate(rng, name):
    return "".join(c.upper() if rng.random() < 0.3 else c for c in name)


def gen_request(rng, i):
    service = rng.choice(SERVICES)
    s3 = service == "s3"
    region = rng.choice(REGIONS)
    host = f"{service}.{region}.amazonaws.com"
    if s3 and rng.random() < 0.5:
        host = f"bucket-{i}.{host}"
    if rng.random() < 0.1:
        host = f"127.0.0.1:{rng.randint(1024, 65535)}"
    when = datetime.datetime(2015, 1, 1) + datetime.timedelta(
        seconds=rng.randint(0, 16 * 365 * 86400))
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    body = bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 0, 1, 13, 100, 700])))
    token = rand_token(rng, rng.choice([16, 300])) if rng.random() < 0.3 else None
    secret = rand_token(rng, 40 if rng.random() < 0.8 else 100)
    access = "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))

    query_mode = rng.choice(["none", "url", "params"])
    pairs = gen_query_pairs(rng) if query_mode != "none" else []
    if query_mode == "url":
        # botocore uses a URL query verbatim: give it SigV4's own spelling,
        # with bare keys ("k", botocore signs "k=") now and then
        raw_query = "&".join(enc_canonical(k) if (v == "" and rng.random() < 0.4)
                             else f"{enc_canonical(k)}={enc_canonical(v)}"
                             for k, v in pairs)
        # a bare empty key would be an empty piece: see the docstring
        raw_query = "&".join(p if p else "=" for p in raw_query.split("&"))
    elif query_mode == "params":
        raw_query = "&".join(f"{enc_noncanonical(rng, k, True)}={enc_noncanonical(rng, v, False)}"
                             for k, v in pairs)
    else:
        raw_query = None

    headers = [(rng.choice(["Host", "host", "HOST"]), host)]
    for _ in range(rng.randint(0, 6)):
        name = case_mutate(rng, rng.choice(HEADER_NAMES))
        headers.append((name, gen_value(rng)))
        if rng.random() < 0.2:
            headers.append((case_mutate(rng, name.lower()), gen_value(rng)))
    rng.shuffle(headers)
    payload_hash = None
    if s3:
        sha = hashlib.sha256(body).hexdigest()
        headers.append(("X-Amz-Content-SHA256", sha))
        payload_hash = sha if rng.random() < 0.5 else None  # else we hash the body
    elif rng.random() < 0.1:
        headers.append(("X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"))
        payload_hash = "UNSIGNED-PAYLOAD"

    return {
        "service": service, "s3": s3, "region": region, "host": host,
        "method": rng.choice(METHODS), "path": gen_path(rng, s3),
        "query_mode": query_mode, "pairs": pairs, "raw_query": raw_query,
        "headers": headers, "body": body, "token": token, "secret": secret,
        "access": access, "amz_date": amz_date, "when": when,
        "payload_hash": payload_hash,
    }


def botocore_sign(g):
    out = {}
    base = S3SigV4Auth if g["s3"] else SigV4Auth

    class Capture(base):
        def canonical_request(self, request):
            out["creq"] = super().canonical_request(request)
            return out["creq"]

        def string_to_sign(self, request, canonical_request):
            out["sts"] = super().string_to_sign(request, canonical_request)
            return out["sts"]

    url = "https://" + g["host"] + g["path"]
    params = None
    if g["query_mode"] == "url":
        url += "?" + g["raw_query"]
    elif g["query_mode"] == "params":
        params = list(g["pairs"])
    parts = urlsplit(url)
    # guard the generator: botocore must see exactly our path and query
    assert parts.path == g["path"], (parts.path, g["path"])
    if g["query_mode"] == "url":
        assert parts.query == g["raw_query"]
    req = AWSRequest(method=g["method"], url=url, data=g["body"], params=params)
    for name, value in g["headers"]:
        if name.lower() == "x-amz-content-sha256" and g["s3"]:
            continue  # S3SigV4Auth sets it from the body itself
        req.headers[name] = value  # HTTPHeaders appends: repeats are kept
    creds = Credentials(g["access"], g["secret"], g["token"])
    with mock.patch("botocore.auth.datetime") as dt:
        dt.datetime.utcnow.return_value = g["when"]
        dt.datetime.strptime = datetime.datetime.strptime
        Capture(creds, g["service"], g["region"]).add_auth(req)
    out["authorization"] = req.headers["Authorization"]
    return out


def tool_input(g):
    # What our AWS layer does: it sends X-Amz-Date and, with a session
    # token, X-Amz-Security-Token, and signs exactly what it sends.
    headers = [list(h) for h in g["headers"]]
    headers.append(["X-Amz-Date", g["amz_date"]])
    if g["token"]:
        headers.append(["X-Amz-Security-Token", g["token"]])
    d = {
        "method": g["method"], "path": g["path"], "headers": headers,
        "body_b64": base64.b64encode(g["body"]).decode(),
        "access_key": g["access"], "secret_key": g["secret"],
        "region": g["region"], "service": g["service"], "amz_date": g["amz_date"],
        "s3": g["s3"],
    }
    if g["raw_query"] is not None:
        d["query"] = g["raw_query"]
    if g["token"]:
        d["session_token"] = g["token"]
    if g["payload_hash"]:
        d["payload_hash"] = g["payload_hash"]
    return d


def redact(text, g):
    # session tokens are credentials: never print them
    return text.replace(g["token"], "<session-token>") if g["token"] else text


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1500
    if not os.access(TOOL, os.X_OK):
        print(f"{TOOL} missing: run make {TOOL}", file=sys.stderr)
        return 2
    rng = random.Random(SEED)
    reqs = [gen_request(rng, i) for i in range(n)]
    want = [botocore_sign(g) for g in reqs]
    stdin = "".join(json.dumps(tool_input(g)) + "\n" for g in reqs)
    proc = subprocess.run([TOOL], input=stdin.encode(), capture_output=True, timeout=120)
    if proc.returncode != 0:
        print(f"sigv4_sign exited {proc.returncode}: {proc.stderr.decode(errors='replace')}")
        return 1
    got = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    if len(got) != n:
        print(f"sigv4_sign answered {len(got)} lines for {n} requests")
        return 1

    mismatches = []
    for i, (g, w, o) in enumerate(zip(reqs, want, got)):
        if "error" in o:
            mismatches.append((i, f"our signer failed: {o['error']}"))
            continue
        bad = [k for k in ("creq", "sts", "authorization") if w[k] != o[k]]
        if bad:
            diff = "\n".join(difflib.unified_diff(
                redact(w["creq"], g).split("\n"), redact(o["creq"], g).split("\n"),
                "botocore", "ours", lineterm=""))
            mismatches.append((i, f"differs in {', '.join(bad)} "
                                  f"(service={g['service']} query={g['query_mode']})\n{diff}"))

    stats = {
        "s3": sum(g["s3"] for g in reqs),
        "session_token": sum(bool(g["token"]) for g in reqs),
        "query_url": sum(g["query_mode"] == "url" for g in reqs),
        "query_params": sum(g["query_mode"] == "params" for g in reqs),
        "repeated_header": sum(len({h[0].lower() for h in g["headers"]}) < len(g["headers"])
                               for g in reqs),
        "dot_segments": sum("/." in g["path"] for g in reqs),
        "non_ascii_path": sum(any(ord(c) > 127 for c in g["path"]) for g in reqs),
        "body": sum(bool(g["body"]) for g in reqs),
    }
    print(f"signed {n} requests with botocore and with {TOOL}: "
          f"{n - len(mismatches)} identical, {len(mismatches)} mismatched")
    print("coverage: " + ", ".join(f"{k}={v}" for k, v in stats.items()))
    for i, msg in mismatches[:5]:
        print(f"--- request {i}: {msg}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
