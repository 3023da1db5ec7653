#!/usr/bin/python3
"""Scripted fake Lambda Runtime API: checks what the emulator cannot provoke.

    fake_runtime.py --bootstrap PATH [--wrapper "qemu-aarch64"]

Runs the test function (tests/testfn) against scenarios and prints one
"ok"/"FAIL" line each; exits 1 if any failed:
  next500    a 500 from GET /next ends the process with a non-zero status
  post500    a 500 to the response POST ends the process; the POST carried an
             explicit Content-Length, no Expect: 100-continue, no chunking
  errtype    Lambda-Runtime-Function-Error-Type is ASCII and matches the body
  trace      _X_AMZN_TRACE_ID is set from the header, and unset when the
             next invocation has none
  stale      the server drops a kept-alive connection: the runtime retries on
             a new one and serves the next invocation
  noid       /next without a request id ends the process
  initerror  init failure posts /init/error (JSON body, ASCII type header)
             and exits non-zero
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NEXT = "/2018-06-01/runtime/invocation/next"


class Script:
    """What the fake serves: a list of /next answers; records posts."""

    def __init__(self, nexts, post_status=202, drop_after_post=False):
        self.nexts = list(nexts)   # (status, headers, body bytes); empty -> 500
        self.post_status = post_status
        self.drop_after_post = drop_after_post
        self.posts = []            # (path, headers dict (lowercased), body)
        self.dropped = 0
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def send(self, status, headers, body):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        s = self.server.script
        if self.path != NEXT:
            self.send(404, {}, b"{}")
            return
        with s.lock:
            if getattr(self, "drop_next", False) and s.dropped == 0:
                s.dropped += 1
                self.close_connection = True
                return  # close without answering: a stale keep-alive
            item = s.nexts.pop(0) if s.nexts else (500, {}, b'{"errorType":"Done"}')
        self.send(*item)

    def do_POST(self):
        s = self.server.script
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        hdrs = {k.lower(): v for k, v in self.headers.items()}
        with s.lock:
            s.posts.append((self.path, hdrs, body))
        self.send(s.post_status, {"Content-Type": "application/json"}, b'{"status":"OK"}')
        if s.drop_after_post:
            # The next request on this connection will be dropped unanswered.
            self.drop_next = True


def run(bootstrap, wrapper, script, extra_env=None, timeout=60):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.script = script
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    env = {"PATH": "/usr/bin:/bin",
           "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:%d" % srv.server_address[1]}
    for k in ("QEMU_LD_PREFIX", "ASAN_OPTIONS", "UBSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    env.update(extra_env or {})
    p = subprocess.Popen(wrapper + [bootstrap], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        out += b"\n(fake_runtime: killed after %ds)" % timeout
    srv.shutdown()
    srv.server_close()
    return p.returncode, out.decode("utf-8", "replace")


def event(request_id, ev, trace=None):
    h = {"Lambda-Runtime-Aws-Request-Id": request_id,
         "Lambda-Runtime-Deadline-Ms": "4102444800000",
         "Lambda-Runtime-Invoked-Function-Arn":
             "arn:aws:lambda:us-east-1:123456789012:function:fake"}
    if trace:
        h["Lambda-Runtime-Trace-Id"] = trace
    return (200, h, json.dumps(ev).encode())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--wrapper", default="")
    args = ap.parse_args()
    wrapper = shlex.split(args.wrapper)
    failures = []

    def check(name, cond, rc, out, detail=""):
        if cond:
            print("ok    fake runtime: %s" % name)
        else:
            failures.append(name)
            print("FAIL  fake runtime: %s (exit %s) %s" % (name, rc, detail))
            for line in out.splitlines()[-15:]:
                print("      | " + line)

    s = Script([(500, {}, b'{"errorType":"Boom"}')])
    rc, out = run(args.bootstrap, wrapper, s)
    check("a 500 from /next ends the process non-zero", rc not in (0, None) and not s.posts, rc, out)

    # Over 1 MiB, where libcurl would otherwise send Expect: 100-continue.
    big = {"action": "echo", "x": "é", "pad": "p" * (1536 * 1024)}
    s = Script([event("id-post500", big)], post_status=500)
    rc, out = run(args.bootstrap, wrapper, s)
    ok = rc not in (0, None) and len(s.posts) == 1
    if ok:
        path, h, body = s.posts[0]
        ok = (path.endswith("/invocation/id-post500/response")
              and h.get("content-length") == str(len(body))
              and "expect" not in h and "transfer-encoding" not in h
              and json.loads(body) == big)
    check("a 500 to the response POST ends the process; POST has Content-Length, "
          "no Expect, no chunking", ok, rc, out, repr(s.posts)[:300])

    s = Script([event("id-err", {"action": "error", "type": "Bad Typ\u00e9\r\nX: y",
                                 "message": "m"})])
    rc, out = run(args.bootstrap, wrapper, s)
    ok = len(s.posts) == 1
    if ok:
        path, h, body = s.posts[0]
        t = h.get("lambda-runtime-function-error-type", "")
        ok = (path.endswith("/invocation/id-err/error") and t == "Bad_Typ____X:_y"
              and json.loads(body)["errorType"] == t and "x" not in h)
    check("error type header is ASCII, single-line and matches the body", ok, rc, out,
          repr(s.posts)[:300])

    s = Script([event("id-t1", {"action": "context"}, trace="Root=1-aaaa;Sampled=1"),
                event("id-t2", {"action": "context"})])
    rc, out = run(args.bootstrap, wrapper, s)
    ok = len(s.posts) == 2
    if ok:
        a, b = json.loads(s.posts[0][2]), json.loads(s.posts[1][2])
        ok = (a["trace_env"] == "Root=1-aaaa;Sampled=1" and b["trace_env"] is None
              and a["request_id"] == "id-t1" and b["request_id"] == "id-t2"
              and a["remaining_ms"] > 0)
    check("_X_AMZN_TRACE_ID set per invoke and unset when absent", ok, rc, out,
          repr(s.posts)[:300])

    s = Script([event("id-s1", {"action": "echo", "n": 1}),
                event("id-s2", {"action": "echo", "n": 2})], drop_after_post=True)
    rc, out = run(args.bootstrap, wrapper, s)
    paths = [p for p, _, _ in s.posts]
    check("a dropped keep-alive connection is retried and the loop goes on",
          s.dropped == 1 and any(p.endswith("/id-s2/response") for p in paths), rc, out,
          repr(paths))

    s = Script([(200, {"Lambda-Runtime-Deadline-Ms": "1"}, b"{}")])
    rc, out = run(args.bootstrap, wrapper, s)
    check("/next without a request id ends the process", rc not in (0, None) and not s.posts,
          rc, out)

    s = Script([])
    rc, out = run(args.bootstrap, wrapper, s, {"FIREBREAK_TESTFN_INIT_FAIL": "1"})
    ok = rc not in (0, None) and len(s.posts) == 1
    if ok:
        path, h, body = s.posts[0]
        d = json.loads(body)
        ok = (path == "/2018-06-01/runtime/init/error"
              and h.get("lambda-runtime-function-error-type") == d["errorType"]
              and "FIREBREAK_TESTFN_INIT_FAIL" in d["errorMessage"]
              and d["stackTrace"] == [])
    check("init failure posts /init/error and exits non-zero", ok, rc, out, repr(s.posts)[:300])

    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
