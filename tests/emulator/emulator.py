#!/usr/bin/python3
"""A local AWS Lambda emulator for firebreak (Python 3 standard library only).

It runs each function's `bootstrap` the way Lambda does (the Lambda
environment variables, the Runtime API on 127.0.0.1) and serves the Lambda
Invoke API, so the real AWS CLI can invoke functions:

    emulator.py serve --function NAME=PATH/bootstrap [--function ...]
                      [--env NAME:KEY=VALUE ...] [--timeout NAME=SECONDS]
                      [--memory NAME=MB] [--wrapper "qemu-aarch64"]
                      [--config emulator.json] [--port 0] [--port-file FILE]
    aws lambda invoke --endpoint-url http://127.0.0.1:PORT \\
        --function-name NAME --payload fileb://event.json out.json

    emulator.py invoke --function NAME=PATH/bootstrap [--env ...] EVENT.json
        one-shot: prints the response, exits 1 on a function error
        (EVENT.json may be '-' for stdin; with several functions, --name).

`serve` prints "listening on http://127.0.0.1:PORT" once ready. `serve` with
no subcommand word is the default. The config file is JSON:

    {"wrapper": "qemu-aarch64", "region": "us-east-1",
     "functions": {"NAME": {"bootstrap": "path", "env": {"K": "V"},
                            "timeout": 3, "memory": 128, "handler": "h"}}}

Relative bootstrap paths are relative to the current directory.

Behaviour kept from Lambda:
  * invocation types RequestResponse (200), Event (202, runs in the
    background), DryRun (204); X-Amz-Function-Error: Unhandled on function
    errors; X-Amz-Executed-Version; X-Amz-Log-Type: Tail gives
    X-Amz-Log-Result, the base64 of the last 4 KB of the invocation's log;
  * the function timeout kills the process and answers Sandbox.Timedout;
    a process that dies mid-invoke gives Runtime.ExitError; the next invoke
    cold-starts a new process; a posted init error is returned as the
    function error; unknown functions give 404 ResourceNotFoundException;
  * one sandbox runs one invocation at a time; concurrent invokes of the
    same function cold-start more sandboxes.

Extras for tests and benchmarks:
  GET /_emulator/stats   {"functions": {NAME: {"cold_start_ms": [...],
                          "invocations": N, "cold_starts": N, "pids": [...]}}};
                          pids lists every process spawned; cold start is
                          measured from just before exec to the arrival of
                          the process's first GET /invocation/next (the
                          kernel's receive time of its first bytes).
  GET /_emulator/health  200 "ok"
"""

import argparse
import base64
import datetime
import errno
import fcntl
import json
import os
import select
import shlex
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RUNTIME_PREFIX = "/2018-06-01/runtime"
INVOKE_PREFIX = "/2015-03-31/functions/"
MAX_SYNC_PAYLOAD = 6 * 1024 * 1024          # request, RequestResponse
MAX_ASYNC_PAYLOAD = 256 * 1024              # request, Event
MAX_RESPONSE = 6 * 1024 * 1024 + 100        # Lambda's documented 6291556
MAX_BODY_READ = 64 * 1024 * 1024            # refuse to read more than this
TAIL_BYTES = 4096
LOG_KEEP_BYTES = 4 * 1024 * 1024            # per sandbox log retention
INIT_TIMEOUT_S = 10.0                       # Lambda's init phase limit
DEFAULT_ACCOUNT = "123456789012"
PASS_THROUGH_ENV = (
    # credentials, as Lambda gives the execution role's
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    # what running under qemu or sanitizers needs
    "QEMU_LD_PREFIX", "QEMU_CPU", "ASAN_OPTIONS", "UBSAN_OPTIONS",
    "LSAN_OPTIONS", "SSL_CERT_FILE", "SSL_CERT_DIR",
)

VERBOSE = False


def eprint(*a):
    print(*a, file=sys.stderr, flush=True)


def now_ms():
    return int(time.time() * 1000)


def lambda_error(error_type, message):
    return json.dumps({"errorType": error_type, "errorMessage": message},
                      separators=(",", ":")).encode()


def describe_exit(returncode):
    """Lambda's wording (Go's exec.ExitError) for how a runtime ended."""
    if returncode is None:
        return "Runtime exited without providing a reason"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name[3:].lower()
        except ValueError:
            name = str(-returncode)
        names = {"abrt": "aborted", "kill": "killed", "segv": "segmentation fault",
                 "term": "terminated", "bus": "bus error", "fpe": "floating point exception",
                 "ill": "illegal instruction", "int": "interrupt", "pipe": "broken pipe"}
        return "Runtime exited with error: signal: " + names.get(name, name)
    if returncode == 0:
        return "Runtime exited without providing a reason"
    return "Runtime exited with error: exit status %d" % returncode


def new_trace_id():
    t = int(time.time())
    return "Root=1-%08x-%s;Parent=%s;Sampled=0;Lineage=1:%s:0" % (
        t, os.urandom(12).hex(), os.urandom(8).hex(), os.urandom(4).hex())


class Invocation:
    def __init__(self, request_id, payload, trace_id=None, client_context=None,
                 tenant_id=None):
        self.request_id = request_id
        self.payload = payload
        self.trace_id = trace_id or new_trace_id()
        self.client_context = client_context
        self.tenant_id = tenant_id
        self.deadline_ms = 0
        self.result = None        # (is_error, body bytes)
        self.delivered = False


class FunctionConfig:
    def __init__(self, name, bootstrap, env=None, timeout=3.0, memory=128,
                 handler="bootstrap", wrapper=None):
        self.name = name
        self.bootstrap = os.path.abspath(bootstrap)
        self.env = dict(env or {})
        self.timeout = float(timeout)
        self.memory = int(memory)
        self.handler = handler
        self.wrapper = list(wrapper or [])


class RuntimeHandler(BaseHTTPRequestHandler):
    """The Runtime API, one server per sandbox."""
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        if VERBOSE:
            eprint("[runtime-api %s] %s" % (self.server.sandbox.fn.name, fmt % args))

    def setup(self):
        super().setup()
        # A cold start ends when the process's first request reaches this
        # socket. With 2 CPUs and this emulator's threads (the serving
        # thread's accept, a thread per connection, the GIL) Python can
        # notice that a millisecond or more later, so the first connection
        # of a sandbox peeks at its first bytes for the kernel's receive
        # time (SO_TIMESTAMPNS). Without it (no data, no timestamp), the
        # time the request line is read stands in (parse_request).
        self.rx_wall_ns = None
        if not self.server.sandbox.ready:
            try:
                _, anc, _, _ = self.request.recvmsg(1, socket.CMSG_SPACE(16), socket.MSG_PEEK)
            except OSError:
                anc = []
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
                    sec, nsec = struct.unpack("qq", data[:16])
                    self.rx_wall_ns = sec * 1000000000 + nsec

    def parse_request(self):
        # The request line has been read, its headers not yet parsed.
        self.request_line_ns = time.perf_counter_ns()
        return super().parse_request()

    def reply(self, status, body=b"", headers=None, close=False):
        head = ["HTTP/1.1 %d %s" % (status, self.responses.get(status, ("",))[0])]
        for k, v in (headers or {}).items():
            head.append("%s: %s" % (k, v))
        head.append("Content-Length: %d" % len(body))
        if close:
            head.append("Connection: close")
            self.close_connection = True
        # One write: headers and body leave in the same segment.
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        self.log_request(status, len(body))

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self.read_chunked()
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY_READ:
            return None
        return self.rfile.read(n) if n else b""

    def read_chunked(self):
        out = bytearray()
        while True:
            line = self.rfile.readline(1024)
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(out)
            if len(out) + size > MAX_BODY_READ:
                return None
            out += self.rfile.read(size)
            self.rfile.readline(1024)

    def do_GET(self):
        sb = self.server.sandbox
        if self.path != RUNTIME_PREFIX + "/invocation/next":
            self.reply(404, lambda_error("NotFound", "unknown path"))
            return
        inv = sb.next_invocation(self.request_line_ns, self.rx_wall_ns)
        if inv is None:
            self.close_connection = True  # the sandbox is going away
            return
        headers = {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": inv.request_id,
            "Lambda-Runtime-Deadline-Ms": str(inv.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": sb.function_arn,
            "Lambda-Runtime-Trace-Id": inv.trace_id,
        }
        if inv.client_context:
            headers["Lambda-Runtime-Client-Context"] = inv.client_context
        if inv.tenant_id:
            headers["Lambda-Runtime-Aws-Tenant-Id"] = inv.tenant_id
        try:
            self.reply(200, inv.payload, headers)
        except OSError:
            pass

    def do_POST(self):
        sb = self.server.sandbox
        body = self.read_body()
        if body is None:
            self.reply(413, lambda_error("RequestEntityTooLarge", "body too large"), close=True)
            return
        path = self.path
        if path == RUNTIME_PREFIX + "/init/error":
            etype = self.headers.get("Lambda-Runtime-Function-Error-Type") or "Runtime.Unknown"
            sb.set_init_error(body or lambda_error(etype, ""))
            self.reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})
            return
        prefix = RUNTIME_PREFIX + "/invocation/"
        if not path.startswith(prefix):
            self.reply(404, lambda_error("NotFound", "unknown path"))
            return
        parts = path[len(prefix):].split("/")
        if len(parts) != 2 or parts[1] not in ("response", "error"):
            self.reply(404, lambda_error("NotFound", "unknown path"))
            return
        request_id, kind = parts
        if kind == "response" and len(body) > MAX_RESPONSE:
            msg = ("Response payload size exceeded maximum allowed payload size (%d bytes)."
                   % MAX_RESPONSE)
            sb.set_result(request_id, True,
                          lambda_error("Function.ResponseSizeTooLarge", msg))
            self.reply(413, lambda_error("RequestEntityTooLarge",
                                         "Exceeded maximum allowed payload size (%d bytes)."
                                         % MAX_RESPONSE),
                       {"Content-Type": "application/json"})
            return
        if kind == "error":
            etype = self.headers.get("Lambda-Runtime-Function-Error-Type") or "Runtime.Unknown"
            try:
                json.loads(body)
            except ValueError:
                body = lambda_error(etype, body.decode("utf-8", "replace"))
        status = sb.set_result(request_id, kind == "error", body)
        if status == "ok":
            self.reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})
        elif status == "unknown":
            self.reply(400, lambda_error("InvalidRequestID", "Invalid request ID"),
                       {"Content-Type": "application/json"})
        else:
            self.reply(403, lambda_error("InvalidStateTransition",
                                         "State transition is not allowed"),
                       {"Content-Type": "application/json"})


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A runtime killed mid-request (timeout, crash) resets its
        # connection: expected, not worth a traceback.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


# Linux's SO_TIMESTAMPNS (the socket module does not name it): recvmsg then
# carries the kernel's receive time of the data read, as CLOCK_REALTIME.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


class RuntimeServer(QuietServer):
    def server_bind(self):
        # Set on the listening socket, inherited by every accepted one: the
        # first request's arrival is then the kernel's receive timestamp,
        # not the moment this process's threads get around to reading it.
        if sys.platform.startswith("linux"):
            try:
                self.socket.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            except OSError:
                pass
        super().server_bind()


class Sandbox:
    """One process of one function, with its own Runtime API endpoint."""

    def __init__(self, emu, fn):
        self.emu = emu
        self.fn = fn
        self.function_arn = emu.function_arn(fn.name)
        self.cv = threading.Condition()
        self.pending = None       # Invocation waiting for /next
        self.current = None       # Invocation delivered, awaiting its result
        self.ready = False        # the first /next arrived
        self.init_error = None
        self.returncode = None
        self.exited = False
        self.closed = False
        self.proc = None
        self.spawn_ns = 0
        self.spawn_wall_ns = 0
        self.log_lock = threading.Lock()
        self.log = bytearray()
        self.log_total = 0        # bytes ever logged (absolute offset)
        self.log_partial = b""    # an unterminated line awaiting echo
        self.server = RuntimeServer(("127.0.0.1", 0), RuntimeHandler)
        self.server.sandbox = self
        self.server_thread = threading.Thread(target=self.server.serve_forever,
                                              kwargs={"poll_interval": 0.2}, daemon=True)
        self.server_thread.start()

    # ---- process -------------------------------------------------------------
    def environment(self):
        fn, emu = self.fn, self.emu
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin:/opt/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:%d" % self.server.server_address[1],
            "AWS_LAMBDA_FUNCTION_NAME": fn.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/" + fn.name,
            "AWS_LAMBDA_LOG_STREAM_NAME": "%s/[$LATEST]%s" % (
                datetime.datetime.utcnow().strftime("%Y/%m/%d"), uuid.uuid4().hex),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": emu.region,
            "AWS_DEFAULT_REGION": emu.region,
            "LAMBDA_TASK_ROOT": os.path.dirname(fn.bootstrap),
            "LAMBDA_RUNTIME_DIR": os.path.dirname(fn.bootstrap),
            "_HANDLER": fn.handler,
        }
        for k in PASS_THROUGH_ENV:
            if k in os.environ:
                env[k] = os.environ[k]
        env.update(fn.env)
        return env

    def start(self):
        argv = self.fn.wrapper + [self.fn.bootstrap]
        env = self.environment()
        rfd, wfd = os.pipe()
        try:
            self.spawn_ns = time.perf_counter_ns()
            self.spawn_wall_ns = time.time_ns()   # the clock of SO_TIMESTAMPNS
            self.proc = subprocess.Popen(
                argv, env=env, cwd=os.path.dirname(self.fn.bootstrap),
                stdin=subprocess.DEVNULL, stdout=wfd, stderr=wfd,
                start_new_session=True, close_fds=True)
        except OSError as e:
            os.close(rfd)
            os.close(wfd)
            self.append_log(("emulator: cannot start %s: %s\n" % (argv, e)).encode())
            with self.cv:
                self.exited = True
                self.returncode = 127
                self.cv.notify_all()
            return
        os.close(wfd)
        self.emu.record_spawn(self.fn.name, self.proc.pid)
        fl = fcntl.fcntl(rfd, fcntl.F_GETFL)
        fcntl.fcntl(rfd, fcntl.F_SETFL, fl | os.O_NONBLOCK)
        self.log_fd = rfd
        threading.Thread(target=self.read_logs, daemon=True).start()
        threading.Thread(target=self.watch, daemon=True).start()

    def watch(self):
        rc = self.proc.wait()
        with self.cv:
            self.exited = True
            self.returncode = rc
            self.cv.notify_all()

    def read_logs(self):
        fd = self.log_fd
        while True:
            try:
                select.select([fd], [], [], 0.5)
            except (OSError, ValueError):
                return
            if not self.drain_logs():
                return

    def drain_logs(self):
        """Reads what the process wrote so far. Everything written before
        the process posted a result is in the pipe by the time the post
        arrives, so draining after the post captures the invocation's log
        deterministically. Returns False at end of file."""
        with self.log_lock:
            fd = getattr(self, "log_fd", None)
            if fd is None:
                return False
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    return True
                except OSError:
                    chunk = b""
                if not chunk:
                    os.close(fd)
                    self.log_fd = None
                    if self.log_partial:
                        self._echo(b"\n")
                    return False
                self._append(chunk)

    def append_log(self, data):
        with self.log_lock:
            self._append(data)

    def _append(self, data):
        self.log += data
        self.log_total += len(data)
        if len(self.log) > LOG_KEEP_BYTES:
            del self.log[:len(self.log) - LOG_KEEP_BYTES]
        self._echo(data)

    def _echo(self, data):
        if self.emu.quiet:
            return
        text = self.log_partial + data
        lines = text.split(b"\n")
        self.log_partial = lines.pop()
        if data == b"\n" and not lines:
            lines, self.log_partial = [self.log_partial], b""
        for line in lines:
            sys.stderr.write("[%s] %s\n" % (self.fn.name, line.decode("utf-8", "replace")))
        sys.stderr.flush()

    def log_since(self, offset):
        with self.log_lock:
            start = len(self.log) - (self.log_total - offset)
            return bytes(self.log[max(0, start):])

    def kill(self):
        with self.cv:
            if self.closed:
                return
            self.closed = True
            self.cv.notify_all()
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.drain_logs()
        self.server.shutdown()
        self.server.server_close()

    # ---- Runtime API side ------------------------------------------------------
    def next_invocation(self, arrived_ns, rx_wall_ns=None):
        with self.cv:
            if not self.ready:
                self.ready = True
                if rx_wall_ns:
                    ms = (rx_wall_ns - self.spawn_wall_ns) / 1e6
                else:
                    ms = (arrived_ns - self.spawn_ns) / 1e6
                self.emu.record_cold_start(self.fn.name, ms)
                self.cv.notify_all()
            while self.pending is None and not self.closed and not self.exited:
                self.cv.wait(0.5)
            if self.pending is None:
                return None
            inv, self.pending = self.pending, None
            inv.delivered = True
            self.current = inv
            return inv

    def set_init_error(self, body):
        with self.cv:
            if self.init_error is None:
                self.init_error = body
            self.cv.notify_all()

    def set_result(self, request_id, is_error, body):
        with self.cv:
            inv = self.current
            if inv is None or inv.request_id != request_id:
                return "unknown"
            if inv.result is not None:
                return "state"
            inv.result = (is_error, body)
            self.current = None
            self.cv.notify_all()
            return "ok"

    # ---- Invoke side -------------------------------------------------------------
    def invoke(self, inv):
        """Runs one invocation; returns (is_error, body, alive)."""
        fn = self.fn
        with self.cv:
            cold = self.proc is None and not self.exited
        if cold:
            self.start()
            with self.cv:
                end = time.monotonic() + max(INIT_TIMEOUT_S, fn.timeout)
                while not (self.ready or self.init_error or self.exited):
                    left = end - time.monotonic()
                    if left <= 0:
                        break
                    self.cv.wait(left)
                ready, init_error, exited = self.ready, self.init_error, self.exited
                returncode = self.returncode
            if not ready:
                self.kill()
                if init_error is not None:
                    body = init_error
                elif exited:
                    body = lambda_error("Runtime.ExitError", "RequestId: %s Error: %s" % (
                        inv.request_id, describe_exit(returncode)))
                else:
                    body = lambda_error("Sandbox.Timedout",
                                        "RequestId: %s Error: Task timed out after %.2f seconds"
                                        % (inv.request_id, max(INIT_TIMEOUT_S, fn.timeout)))
                return True, body, False

        self.append_log(("START RequestId: %s Version: $LATEST\n" % inv.request_id).encode())
        t0 = time.monotonic()
        with self.cv:
            if self.exited or self.closed:
                return True, lambda_error("Runtime.ExitError", "RequestId: %s Error: %s" % (
                    inv.request_id, describe_exit(self.returncode))), False
            inv.deadline_ms = now_ms() + int(fn.timeout * 1000)
            self.pending = inv
            self.cv.notify_all()
            end = t0 + fn.timeout
            while inv.result is None and not self.exited:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self.cv.wait(left)
            result, exited, returncode = inv.result, self.exited, self.returncode
            if result is None:
                self.pending = None
                self.current = None
        duration_ms = (time.monotonic() - t0) * 1000
        if result is not None:
            is_error, body = result
            alive = not exited
        elif exited:
            is_error, alive = True, False
            body = lambda_error("Runtime.ExitError", "RequestId: %s Error: %s" % (
                inv.request_id, describe_exit(returncode)))
        else:
            is_error, alive = True, False
            msg = "RequestId: %s Error: Task timed out after %.2f seconds" % (
                inv.request_id, fn.timeout)
            body = lambda_error("Sandbox.Timedout", msg)
            self.kill()
            self.append_log(("%s %s Task timed out after %.2f seconds\n" % (
                datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                inv.request_id, fn.timeout)).encode())
        self.drain_logs()
        self.append_log(("END RequestId: %s\nREPORT RequestId: %s\tDuration: %.2f ms\t"
                         "Billed Duration: %d ms\tMemory Size: %d MB\t\n" % (
                             inv.request_id, inv.request_id, duration_ms,
                             int(duration_ms) + 1, fn.memory)).encode())
        return is_error, body, alive


class Function:
    def __init__(self, emu, cfg):
        self.emu = emu
        self.cfg = cfg
        self.lock = threading.Lock()
        self.idle = []
        self.all = set()
        self.cold_start_ms = []
        self.invocations = 0
        self.pids = []            # every process spawned (for leak checks)

    def invoke(self, inv):
        """Returns (is_error, body, log_tail_bytes)."""
        with self.lock:
            self.invocations += 1
            sb = self.idle.pop() if self.idle else None
            if sb is None:
                sb = Sandbox(self.emu, self.cfg)
                self.all.add(sb)
        offset = sb.log_total
        try:
            is_error, body, alive = sb.invoke(inv)
        except Exception as e:  # never leave a sandbox half-used
            is_error, body, alive = True, lambda_error("Emulator.Error", str(e)), False
        log = sb.log_since(offset)
        with self.lock:
            if alive and not self.emu.closing:
                self.idle.append(sb)
            else:
                self.all.discard(sb)
        if not alive:
            sb.kill()
        return is_error, body, log

    def close(self):
        with self.lock:
            boxes, self.all, self.idle = list(self.all), set(), []
        for sb in boxes:
            sb.kill()


class Emulator:
    def __init__(self, configs, region, account, quiet=False):
        self.region = region
        self.account = account
        self.quiet = quiet
        self.closing = False
        self.stats_lock = threading.Lock()
        self.functions = {c.name: Function(self, c) for c in configs}

    def function_arn(self, name):
        return "arn:aws:lambda:%s:%s:function:%s" % (self.region, self.account, name)

    def record_cold_start(self, name, ms):
        with self.stats_lock:
            self.functions[name].cold_start_ms.append(round(ms, 3))

    def record_spawn(self, name, pid):
        with self.stats_lock:
            self.functions[name].pids.append(pid)

    def stats(self):
        with self.stats_lock:
            return {"functions": {n: {"cold_start_ms": list(f.cold_start_ms),
                                      "cold_starts": len(f.cold_start_ms),
                                      "invocations": f.invocations,
                                      "pids": list(f.pids)}
                                  for n, f in self.functions.items()}}

    def lookup(self, ident):
        """Function name, partial ARN or full ARN, optionally with :qualifier."""
        ident = urllib.parse.unquote(ident)
        if ident.startswith("arn:"):
            parts = ident.split(":")
            ident = parts[6] if len(parts) > 6 else ""
        else:
            parts = ident.split(":")
            if len(parts) >= 3 and parts[1] == "function":  # ACCOUNT:function:NAME
                ident = parts[2]
            else:
                ident = parts[0]
        return self.functions.get(ident), ident

    def close(self):
        self.closing = True
        for f in self.functions.values():
            f.close()


class InvokeHandler(BaseHTTPRequestHandler):
    """The Lambda Invoke API (POST /2015-03-31/functions/NAME/invocations)."""
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        if VERBOSE:
            eprint("[invoke-api] " + fmt % args)

    def reply(self, status, body=b"", headers=None):
        head = ["HTTP/1.1 %d %s" % (status, self.responses.get(status, ("",))[0]),
                "Date: " + self.date_time_string()]
        for k, v in (headers or {}).items():
            head.append("%s: %s" % (k, v))
        head.append("Content-Length: %d" % len(body))
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        self.log_request(status, len(body))

    def aws_error(self, status, code, message, kind="User"):
        rid = str(uuid.uuid4())
        body = json.dumps({"Type": kind, "Message": message, "message": message},
                          separators=(",", ":")).encode()
        self.reply(status, body, {"Content-Type": "application/json",
                                  "x-amzn-ErrorType": code, "x-amzn-RequestId": rid})

    def do_GET(self):
        emu = self.server.emu
        if self.path == "/_emulator/stats":
            self.reply(200, json.dumps(emu.stats()).encode(), {"Content-Type": "application/json"})
        elif self.path == "/_emulator/health":
            self.reply(200, b"ok", {"Content-Type": "text/plain"})
        else:
            self.aws_error(404, "UnknownOperationException", "Unknown operation")

    def do_POST(self):
        emu = self.server.emu
        url = urllib.parse.urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY_READ:
            self.close_connection = True
            self.aws_error(413, "RequestTooLargeException", "Request must be smaller than "
                           "%d bytes for the InvokeFunction operation" % MAX_SYNC_PAYLOAD)
            return
        payload = self.rfile.read(n) if n else b""
        if not (url.path.startswith(INVOKE_PREFIX) and url.path.endswith("/invocations")):
            self.aws_error(404, "UnknownOperationException", "Unknown operation")
            return
        ident = url.path[len(INVOKE_PREFIX):-len("/invocations")]
        fn, name = emu.lookup(ident)
        if fn is None:
            self.aws_error(404, "ResourceNotFoundException",
                           "Function not found: " + emu.function_arn(name))
            return
        itype = self.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        if itype not in ("RequestResponse", "Event", "DryRun"):
            self.aws_error(400, "InvalidParameterValueException",
                           "Unsupported invocation type '%s'" % itype)
            return
        limit = MAX_ASYNC_PAYLOAD if itype == "Event" else MAX_SYNC_PAYLOAD
        if len(payload) > limit:
            self.aws_error(413, "RequestTooLargeException",
                           "Request must be smaller than %d bytes for the InvokeFunction "
                           "operation" % limit)
            return
        if payload:
            try:
                json.loads(payload)
            except ValueError:
                self.aws_error(400, "InvalidRequestContentException",
                               "Could not parse request body into json: Could not parse "
                               "payload into json")
                return
        else:
            payload = b"{}"
        rid = str(uuid.uuid4())
        base = {"x-amzn-RequestId": rid, "X-Amz-Executed-Version": "$LATEST"}
        if itype == "DryRun":
            self.reply(204, b"", {"x-amzn-RequestId": rid})
            return
        client_context = None
        cc = self.headers.get("X-Amz-Client-Context")
        if cc:
            try:
                client_context = base64.b64decode(cc).decode("utf-8")
            except ValueError:
                self.aws_error(400, "InvalidRequestContentException",
                               "Client context must be a valid Base64-encoded JSON object")
                return
        inv = Invocation(rid, payload, trace_id=self.headers.get("X-Amzn-Trace-Id"),
                         client_context=client_context,
                         tenant_id=self.headers.get("X-Amz-Tenant-Id"))
        if itype == "Event":
            threading.Thread(target=fn.invoke, args=(inv,), daemon=True).start()
            self.reply(202, b"", {"x-amzn-RequestId": rid})
            return
        is_error, body, log = fn.invoke(inv)
        headers = dict(base)
        headers["Content-Type"] = "application/json"
        if is_error:
            headers["X-Amz-Function-Error"] = "Unhandled"
        if (self.headers.get("X-Amz-Log-Type") or "None") == "Tail":
            headers["X-Amz-Log-Result"] = base64.b64encode(log[-TAIL_BYTES:]).decode()
        try:
            self.reply(200, body, headers)
        except OSError:
            pass


class InvokeServer(QuietServer):
    pass


# ---- configuration -------------------------------------------------------------

def split_kv(text, sep, what):
    if sep not in text:
        raise SystemExit("emulator: bad %s '%s' (expected NAME%sVALUE)" % (what, text, sep))
    k, v = text.split(sep, 1)
    if not k:
        raise SystemExit("emulator: bad %s '%s'" % (what, text))
    return k, v


def build_configs(args):
    functions = {}
    wrapper = shlex.split(args.wrapper) if args.wrapper else []
    region = args.region
    if args.config:
        with open(args.config) as f:
            doc = json.load(f)
        if "wrapper" in doc and not args.wrapper:
            w = doc["wrapper"]
            wrapper = shlex.split(w) if isinstance(w, str) else list(w)
        region = region or doc.get("region")
        for name, spec in (doc.get("functions") or {}).items():
            functions[name] = dict(spec)
    for spec in args.function or []:
        name, path = split_kv(spec, "=", "--function")
        functions.setdefault(name, {})["bootstrap"] = path
    for spec in args.env or []:
        name, kv = split_kv(spec, ":", "--env")
        k, v = split_kv(kv, "=", "--env")
        if name not in functions:
            raise SystemExit("emulator: --env for unknown function '%s'" % name)
        functions[name].setdefault("env", {})[k] = v
    for opt, key in ((args.timeout, "timeout"), (args.memory, "memory"),
                     (args.handler, "handler")):
        for spec in opt or []:
            name, v = split_kv(spec, "=", "--" + key)
            if name not in functions:
                raise SystemExit("emulator: --%s for unknown function '%s'" % (key, name))
            functions[name][key] = v
    configs = []
    for name, spec in functions.items():
        if "bootstrap" not in spec:
            raise SystemExit("emulator: function '%s' has no bootstrap" % name)
        w = spec.get("wrapper", wrapper)
        if isinstance(w, str):
            w = shlex.split(w)
        configs.append(FunctionConfig(
            name, spec["bootstrap"], env={k: str(v) for k, v in (spec.get("env") or {}).items()},
            timeout=float(spec.get("timeout", 3)), memory=int(spec.get("memory", 128)),
            handler=spec.get("handler", "bootstrap"), wrapper=w))
    if not configs:
        raise SystemExit("emulator: no functions (use --function NAME=PATH or --config)")
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") \
        or "us-east-1"
    return configs, region


def add_common(p):
    p.add_argument("--config", help="JSON config file")
    p.add_argument("--function", action="append", metavar="NAME=PATH",
                   help="a function and its bootstrap (repeatable)")
    p.add_argument("--env", action="append", metavar="NAME:KEY=VALUE",
                   help="extra environment for a function (repeatable)")
    p.add_argument("--timeout", action="append", metavar="NAME=SECONDS")
    p.add_argument("--memory", action="append", metavar="NAME=MB")
    p.add_argument("--handler", action="append", metavar="NAME=HANDLER")
    p.add_argument("--wrapper", help='command prefix for bootstraps, e.g. "qemu-aarch64"')
    p.add_argument("--region")
    p.add_argument("--account", default=DEFAULT_ACCOUNT)
    p.add_argument("--quiet", action="store_true", help="do not echo function logs")
    p.add_argument("--verbose", action="store_true", help="log every HTTP request")


def cmd_serve(args):
    configs, region = build_configs(args)
    emu = Emulator(configs, region, args.account, quiet=args.quiet)
    server = InvokeServer(("127.0.0.1", args.port), InvokeHandler)
    server.emu = emu
    port = server.server_address[1]

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    print("listening on http://127.0.0.1:%d" % port, flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        emu.close()
        server.server_close()
    return 0


def cmd_invoke(args):
    configs, region = build_configs(args)
    emu = Emulator(configs, region, args.account, quiet=args.quiet)
    try:
        if args.name:
            fn = emu.functions.get(args.name)
            if fn is None:
                raise SystemExit("emulator: unknown function '%s'" % args.name)
        elif len(emu.functions) == 1:
            fn = next(iter(emu.functions.values()))
        else:
            raise SystemExit("emulator: several functions configured, choose one with --name")
        if args.event == "-":
            payload = sys.stdin.buffer.read()
        else:
            with open(args.event, "rb") as f:
                payload = f.read()
        if payload.strip():
            json.loads(payload)
        else:
            payload = b"{}"
        inv = Invocation(str(uuid.uuid4()), payload)
        is_error, body, _ = fn.invoke(inv)
        sys.stdout.buffer.write(body + (b"" if body.endswith(b"\n") else b"\n"))
        sys.stdout.flush()
        return 1 if is_error else 0
    finally:
        emu.close()


def main(argv=None):
    global VERBOSE
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("serve", "invoke", "-h", "--help"):
        argv.insert(0, "serve")
    ap = argparse.ArgumentParser(prog="emulator.py", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    ps = sub.add_parser("serve", help="serve the Invoke API")
    add_common(ps)
    ps.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ps.add_argument("--port-file", help="write the chosen port here")
    pi = sub.add_parser("invoke", help="one-shot: invoke once and print the response")
    add_common(pi)
    pi.add_argument("--name", help="which function, when several are configured")
    pi.add_argument("event", help="event JSON file, or - for stdin")
    args = ap.parse_args(argv)
    VERBOSE = args.verbose
    if args.cmd == "serve":
        return cmd_serve(args)
    return cmd_invoke(args)


if __name__ == "__main__":
    sys.exit(main())
