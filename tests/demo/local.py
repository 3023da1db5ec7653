#!/usr/bin/python3
"""make local / make invoke: every function served on 127.0.0.1, as `sam local` would.

    tests/demo/local.py [--port 9001] [--fake-port 9002]
        Starts tests/fakeaws seeded with the demo world (tests/demo/world.json),
        prepares each demo scenario in it (the attacker's calls, the CloudTrail
        records), starts the Lambda emulator serving every built function on
        http://127.0.0.1:PORT, writes one ready-to-send sample event per function
        to build/local/events/<name>.json and prints, for each, the exact
        `aws lambda invoke` line that sends it. Ctrl-C stops everything.

    tests/demo/local.py --invoke NAME [--event FILE]
        The one-shot form: the same world, one invocation (the sample event
        unless --event), the response on stdout; exit 1 on a function error.

With AWS_ENDPOINT_URL set (LocalStack's http://localhost:4566, a moto server)
no fake starts: the functions talk to that endpoint with the caller's
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (LocalStack's "test" when unset), and
the world there is whatever that emulator holds, so the sample events are the
functions' manual dry-run forms from events/<name>/.
"""
import argparse
import glob
import json
import os
import shlex
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo  # noqa: E402  (the world, the scenarios, the process handling)

ROOT = demo.ROOT
OUT = os.path.join(ROOT, "build", "local")
# The CLI insists on credentials: the emulator takes any, the fake checks for
# the demo world's (not a secret: they open nothing but the fake).
CLI_ENV = "AWS_ACCESS_KEY_ID=AKIDFAKE AWS_SECRET_ACCESS_KEY=fakesecret"


def functions_built():
    """Every functions/<name> with a built bootstrap, in a stable order."""
    names = sorted(os.path.basename(os.path.dirname(p))
                   for p in glob.glob(os.path.join(ROOT, "functions", "*", "main.c")))
    missing = [n for n in names
               if not os.access(os.path.join(ROOT, "build/native", n, "bootstrap"), os.X_OK)]
    if missing:
        raise RuntimeError("not built: %s (run `make all`)" % ", ".join(missing))
    return names


def scenario_for(fn):
    for name, f in demo.FUNCTION.items():
        if f == fn and name in demo.SCENARIOS:
            return name
    return None


def manual_event(fn):
    """The function's own manual dry-run example, else its manual one."""
    for base in ("manual-dry-run.json", "manual.json"):
        p = os.path.join(ROOT, "events", fn, base)
        if os.path.exists(p):
            with open(p) as f:
                return json.load(f), os.path.relpath(p, ROOT)
    return None, None


def sample_events(ctx, functions, seeded):
    """-> {fn: (path written, where it came from)}. With the fake, each demo
    scenario is prepared in the world first so its event contains for real."""
    os.makedirs(os.path.join(OUT, "events"), exist_ok=True)
    out = {}
    for fn in functions:
        name = scenario_for(fn) if seeded else None
        if name:
            sc = demo.SCENARIOS[name](ctx)
            sc.prepare()
            ev, origin = sc.event(), "demo scenario '%s' (prepared in the world)" % name
        else:
            ev, origin = manual_event(fn)
            if ev is None:
                continue
        path = os.path.join(OUT, "events", fn + ".json")
        with open(path, "w") as f:
            json.dump(ev, f, indent=1)
        out[fn] = (path, origin)
    return out


def invoke_line(emu_url, fn, event_path):
    rel = os.path.relpath(event_path, os.getcwd())
    resp = os.path.relpath(os.path.join(OUT, fn + ".out.json"), os.getcwd())
    return ("%s aws lambda invoke --region %s --endpoint-url %s --function-name %s "
            "--payload fileb://%s %s" % (CLI_ENV, demo.REGION, emu_url, fn,
                                         shlex.quote(rel), shlex.quote(resp)))


def serve(ctx, args, endpoint):
    functions = functions_built()
    demo.start_world(ctx, functions, args.fake_port, args.port, endpoint, OUT)
    events = sample_events(ctx, functions, endpoint is None)
    T = demo.T
    T.out()
    T.out(T.bold("firebreak local") + T.dim("  functions on %s, AWS at %s" % (
        ctx.emu_url, endpoint or ctx.fake.url)))
    if endpoint is None:
        T.out(T.dim("the fake's world: account %s, %s; inspect it with\n  %s /usr/bin/aws "
                    "--region %s --endpoint-url %s <service> <command>"
                    % (demo.ACCOUNT, demo.REGION, CLI_ENV, demo.REGION, ctx.fake.url)))
    for fn in functions:
        T.out()
        if fn not in events:
            T.out("%s  %s" % (T.cyan(fn), T.dim("(no sample event: write one, see events/%s/)" % fn)))
            continue
        T.out("%s  %s" % (T.cyan(fn), T.dim(events[fn][1])))
        T.out("  " + invoke_line(ctx.emu_url, fn, events[fn][0]))
    T.out()
    T.out("ready: %d functions on %s (Ctrl-C stops everything)" % (len(functions), ctx.emu_url))
    sys.stdout.flush()
    while True:
        for p in ctx.procs.procs:
            if p.poll() is not None:
                raise RuntimeError("a local process exited (%s): see %s/" % (
                    " ".join(p.args[:2]), os.path.relpath(OUT, ROOT)))
        time.sleep(0.5)


def invoke_once(ctx, args, endpoint):
    fn = args.invoke
    if not os.path.exists(os.path.join(ROOT, "functions", fn, "main.c")):
        raise RuntimeError("no function %r (functions/<name>/)" % fn)
    if not os.access(os.path.join(ROOT, "build/native", fn, "bootstrap"), os.X_OK):
        raise RuntimeError("build/native/%s/bootstrap missing: run `make all`" % fn)
    # every function served: a scenario's preparation may invoke another
    # (restore: data-breach contains first); only NAME gets the event
    demo.start_world(ctx, functions_built(), args.fake_port, 0, endpoint, OUT)
    if args.event:
        with open(args.event, "rb") as f:
            event = json.loads(f.read())
    else:
        made = sample_events(ctx, [fn], endpoint is None)
        if fn not in made:
            raise RuntimeError("%s has no sample event: pass EVENT=<file>" % fn)
        with open(made[fn][0]) as f:
            event = json.load(f)
    ferr, body, _ = demo.invoke(ctx.emu_url, fn, event)
    try:
        sys.stdout.write(json.dumps(json.loads(body), indent=2) + "\n")
    except ValueError:
        sys.stdout.write(body.decode("utf-8", "replace") + "\n")
    if ferr:
        sys.stderr.write("%s: function error (%s); its log: %s/emulator.log\n"
                         % (fn, ferr, os.path.relpath(OUT, ROOT)))
        return 1
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description="firebreak functions served locally")
    ap.add_argument("--port", type=int, default=9001, help="the Lambda endpoint's port (127.0.0.1)")
    ap.add_argument("--fake-port", type=int, default=9002, help="the fake AWS's port (127.0.0.1)")
    ap.add_argument("--invoke", metavar="NAME", help="one invocation of NAME, then stop")
    ap.add_argument("--event", metavar="FILE", help="with --invoke: the event (default: the sample)")
    ap.add_argument("--dry-run", action="store_true", help="FIREBREAK_DRY_RUN=true for every function")
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    args = ap.parse_args(argv)
    if args.invoke and not args.quiet:
        args.quiet = True          # stdout carries the response only
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or None

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, on_signal)

    os.makedirs(OUT, exist_ok=True)
    ctx = demo.Context(args)
    rc = 0
    try:
        rc = invoke_once(ctx, args, endpoint) if args.invoke else serve(ctx, args, endpoint)
    except KeyboardInterrupt:
        if not args.invoke:
            demo.T.out()
            demo.T.out("stopping: the fake, the emulator and its functions")
        rc = 130 if args.invoke else 0
    except (RuntimeError, OSError, ValueError) as e:
        sys.stderr.write("local: %s\n" % e)
        rc = 1
    finally:
        if ctx.emu_url:          # the sandboxes it spawned: stopped even if it is wedged
            try:
                for f in demo.http_json(ctx.emu_url + "/_emulator/stats", timeout=2)["functions"].values():
                    ctx.procs.extra_pids += f.get("pids") or []
            except (OSError, ValueError, KeyError):
                pass
        ctx.procs.stop_all()
        if ctx.run_dir:
            shutil.rmtree(ctx.run_dir, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
