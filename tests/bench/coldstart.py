#!/usr/bin/python3
"""Cold start of a bootstrap, measured alone: exec of the process -> its first
GET /2018-06-01/runtime/invocation/next reaching a minimal Runtime API listener.

    tests/bench/coldstart.py [-n 50] [--json OUT] [--qemu] [--floor] [BOOTSTRAP ...]

The bootstraps (and the floor) take turns, five runs at a time. For each
run: perf_counter_ns() just before Popen, and again when the whole
request head of the process's first request has been read (the moment the
emulator's own measurement ends, tests/emulator/emulator.py). The process is
then killed; nothing is answered. A first request that is not GET /next (an
init error, a crash) is reported and counts as no sample.

With no BOOTSTRAP: the native dynamic build (build/native/<name>/bootstrap)
and the static one (build/static-x86_64/<name>/bootstrap, `make
static-native`) of testfn and every function that has been built; with --qemu
also build/arm64/<name>.zip's bootstrap under qemu-aarch64 (10 runs: minutes
otherwise). The function is the bootstrap's directory name; responders get
the demo's environment (tests/demo/demo.py) so that their init succeeds.

--floor adds a tiny C client (compiled into build/bench/) that only connects
and sends GET /next: the cost of Popen + exec + libc loading + connect that
no change to our code can remove.

Measured numbers only; nothing is asserted. Prints a table (median, p90, min)
and, with --json, writes the samples.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
NAMES = ["testfn", "root-verify", "kms-guard", "leak-rotate", "task-quarantine"]

try:
    sys.path.insert(0, os.path.join(ROOT, "tests", "demo"))
    import demo  # noqa: E402
    COMMON_ENV, FUNCTION_ENV, REGION = demo.COMMON_ENV, demo.FUNCTION_ENV, demo.REGION
except Exception:  # the demo is someone else's; keep working without it
    COMMON_ENV = {"AWS_ACCESS_KEY_ID": "AKIDFAKE", "AWS_SECRET_ACCESS_KEY": "fakesecret",
                  "AWS_REGION": "us-east-1",
                  "FIREBREAK_TOPIC_ARN": "arn:aws:sns:us-east-1:111111111111:firebreak-p1"}
    FUNCTION_ENV, REGION = {}, "us-east-1"

FLOOR_C = r"""
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void)
{
	static const char req[] = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n"
				  "Host: x\r\n\r\n";
	const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
	const char *colon = api ? strchr(api, ':') : NULL;
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char b[64];

	if (!colon || fd < 0)
		return 1;
	a.sin_port = htons((unsigned short)strtol(colon + 1, NULL, 10));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) || write(fd, req, sizeof(req) - 1) < 0)
		return 1;
	return read(fd, b, sizeof(b)) < 0;
}
"""


def log(msg):
    sys.stderr.write("coldstart: %s\n" % msg)
    sys.stderr.flush()


def environment(name, port, bootstrap):
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:%d" % port,
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "LAMBDA_TASK_ROOT": os.path.dirname(bootstrap),
        "_HANDLER": "bootstrap",
        "TZ": ":UTC",
    }
    if name in FUNCTION_ENV:
        env.update(COMMON_ENV)
        env.update(FUNCTION_ENV[name])
        # The endpoint is never contacted before /next; point it at nothing.
        env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"
        env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        env["AWS_LAMBDA_LOG_LEVEL"] = "WARN"
    return env


def read_head(conn, deadline):
    data = b""
    while b"\r\n\r\n" not in data and time.monotonic() < deadline:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def measure(argv, env, n, logdir):
    """Returns (samples_ms, cpu_ms, error or None). cpu_ms: the process's
    user+system CPU time (wait4), nearly all of it spent before /next (it
    blocks in recv after): a number the machine's load does not inflate."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(env["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)[1])))
    srv.listen(16)
    out_path = os.path.join(logdir, "out.log")
    xs, cpu = [], []
    try:
        for _ in range(n):
            with open(out_path, "wb") as out:
                t0 = time.perf_counter_ns()
                p = subprocess.Popen(argv, env=env, cwd=env["LAMBDA_TASK_ROOT"],
                                     stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                     start_new_session=True, close_fds=True)
            try:
                srv.settimeout(30)
                try:
                    conn, _ = srv.accept()
                except socket.timeout:
                    return xs, cpu, "no connection within 30 s"
                with conn:
                    head = read_head(conn, time.monotonic() + 30)
                    t1 = time.perf_counter_ns()
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                if not line.startswith("GET /2018-06-01/runtime/invocation/next "):
                    with open(out_path, "rb") as f:
                        tail = f.read()[-400:].decode("utf-8", "replace")
                    return xs, cpu, "first request was %r, not GET /next; output: %s" % (line, tail)
                xs.append((t1 - t0) / 1e6)
            finally:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                _, status, ru = os.wait4(p.pid, 0)
                p.returncode = -1
                cpu.append((ru.ru_utime + ru.ru_stime) * 1000)
    finally:
        srv.close()
    return xs, cpu, None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pct(xs, q):
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=50, help="cold starts per bootstrap (default 50)")
    ap.add_argument("--qemu", action="store_true", help="also build/arm64/<name>.zip under qemu-aarch64")
    ap.add_argument("--qemu-n", type=int, default=10, help="runs under qemu (default 10)")
    ap.add_argument("--floor", action="store_true", help="also a minimal C client (the floor)")
    ap.add_argument("--json", help="write the samples here")
    ap.add_argument("bootstraps", nargs="*", help="bootstrap paths (default: see above)")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="coldstart.")
    jobs = []  # (label, name, argv, n)
    try:
        if args.bootstraps:
            for b in args.bootstraps:
                b = os.path.abspath(b)
                jobs.append((os.path.relpath(b, ROOT), os.path.basename(os.path.dirname(b)), [b], args.n))
        else:
            for kind, fmt in (("native", "build/native/%s/bootstrap"),
                              ("static-x86_64", "build/static-x86_64/%s/bootstrap")):
                for name in NAMES:
                    b = os.path.join(ROOT, fmt % name)
                    if os.access(b, os.X_OK):
                        jobs.append(("%s %s" % (kind, name), name, [b], args.n))
                    else:
                        log("skipping %s: not built" % (fmt % name))
        if args.qemu:
            qemu = shutil.which("qemu-aarch64")
            for name in NAMES:
                z = os.path.join(ROOT, "build/arm64/%s.zip" % name)
                if not qemu or not os.path.exists(z):
                    log("skipping arm64 %s: %s" % (name, "no qemu-aarch64" if not qemu else "no zip"))
                    continue
                d = os.path.join(tmp, "arm64", name)
                os.makedirs(d)
                with zipfile.ZipFile(z) as zf:
                    zf.extract("bootstrap", d)
                os.chmod(os.path.join(d, "bootstrap"), 0o755)
                jobs.append(("arm64-qemu %s" % name, name,
                             [qemu, "-L", "/usr/aarch64-linux-gnu", os.path.join(d, "bootstrap")],
                             args.qemu_n))
        if args.floor:
            cc = shutil.which("cc") or shutil.which("gcc")
            d = os.path.join(ROOT, "build", "bench")
            os.makedirs(d, exist_ok=True)
            src, exe = os.path.join(tmp, "floor.c"), os.path.join(d, "coldstart-floor")
            with open(src, "w") as f:
                f.write(FLOOR_C)
            if cc and subprocess.call([cc, "-O2", "-o", exe, src]) == 0:
                jobs.insert(0, ("floor (C connect+send)", "floor", [exe], args.n))
            else:
                log("cannot build the floor client")

        # Interleaved, a few runs of each in turn: this machine's speed drifts
        # over minutes, and the floor is only the floor of the bootstraps
        # measured in the same minutes.
        envs = {label: environment(name, free_port(), argv[-1]) for label, name, argv, _ in jobs}
        got = {label: ([], [], None) for label, _, _, _ in jobs}
        while True:
            pending = [(label, argv, n) for label, _, argv, n in jobs
                       if got[label][2] is None and len(got[label][0]) < n]
            if not pending:
                break
            for label, argv, n in pending:
                xs, cpu, err = measure(argv, envs[label], min(5, n - len(got[label][0])), tmp)
                got[label] = (got[label][0] + xs, got[label][1] + cpu, err)

        results = {}
        print("%-34s %6s %9s %9s %9s %9s" % ("bootstrap", "runs", "median", "p90", "min", "cpu med"))
        for label, name, argv, n in jobs:
            xs, cpu, err = got[label]
            results[label] = {"argv": argv, "samples_ms": [round(x, 3) for x in xs],
                              "cpu_ms": [round(x, 3) for x in cpu], "error": err}
            if xs:
                results[label].update(median_ms=round(statistics.median(xs), 3),
                                      p90_ms=round(pct(xs, 0.9), 3), min_ms=round(min(xs), 3),
                                      cpu_median_ms=round(statistics.median(cpu), 3))
                print("%-34s %6d %8.2fms %8.2fms %8.2fms %8.2fms" % (
                    label, len(xs), statistics.median(xs), pct(xs, 0.9), min(xs),
                    statistics.median(cpu)))
            if err:
                print("%-34s ERROR %s" % (label, err))
            sys.stdout.flush()
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"n": args.n, "results": results}, f, indent=1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
