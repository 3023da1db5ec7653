#!/usr/bin/python3
"""make local / make invoke (issue 24 section 1), run as a new user would run them.

- `make local` on free ports prints one `aws lambda invoke` line per function;
  each line, run verbatim by the real AWS CLI (/usr/bin/aws, an empty HOME, no
  config), gets a report, and the world changes as the report says (kms-guard:
  the key is Enabled again, read back with the CLI line `make local` prints).
- Ctrl-C (SIGINT to make's process group) stops the fake, the emulator and
  every bootstrap it spawned: the ports close, the pids are gone.
- `make invoke FN=...` prints the response on stdout; a bad FN is a clear error.
- With AWS_ENDPOINT_URL pointing at a moto server (when moto is installed) the
  function reads that server's state, not the fake's.
"""
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
AWS = "/usr/bin/aws"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def port_open(port):
    s = socket.socket()
    s.settimeout(0.5)
    try:
        return s.connect_ex(("127.0.0.1", port)) == 0
    finally:
        s.close()


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def new_user_env(home):
    """What a new user's shell has: no AWS config, no credentials."""
    return {"PATH": "/usr/bin:/bin", "HOME": home, "AWS_PAGER": "",
            "AWS_EC2_METADATA_DISABLED": "true"}


def cli(line, home):
    """Run a printed line with the real CLI (its `aws` is /usr/bin/aws)."""
    words = shlex.split(line)
    env = new_user_env(home)
    while words and re.match(r"^[A-Z_]+=", words[0]):
        k, _, v = words.pop(0).partition("=")
        env[k] = v
    assert words[0] in ("aws", AWS), line
    words[0] = AWS
    return subprocess.run(words, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


class Local(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.home = tempfile.mkdtemp(prefix="fb-69-home-")
        cls.port, cls.aws_port = free_port(), free_port()
        cls.proc = subprocess.Popen(
            ["make", "-s", "local", "LOCAL_PORT=%d" % cls.port, "LOCAL_AWS_PORT=%d" % cls.aws_port],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        cls.lines = []
        end = time.time() + 180
        while time.time() < end:
            line = cls.proc.stdout.readline()
            if not line:
                break
            cls.lines.append(line.rstrip("\n"))
            if line.startswith("ready:"):
                break
        cls.out = "\n".join(cls.lines)

    @classmethod
    def tearDownClass(cls):
        if cls.proc.poll() is None:
            os.killpg(cls.proc.pid, signal.SIGKILL)
            cls.proc.wait()
        shutil.rmtree(cls.home, ignore_errors=True)

    def invoke_lines(self):
        return {re.search(r"--function-name (\S+)", l).group(1): l.strip()
                for l in self.lines if " lambda invoke " in l}

    def test_1_every_function_has_a_working_invoke_line(self):
        self.assertTrue(self.lines and self.lines[-1].startswith("ready:"), self.out[-3000:])
        built = sorted(n for n in os.listdir(os.path.join(ROOT, "functions"))
                       if os.path.exists(os.path.join(ROOT, "functions", n, "main.c")))
        lines = self.invoke_lines()
        self.assertIn("127.0.0.1:%d" % self.port, self.lines[-1])
        for fn in built:
            if fn not in lines:     # a function the demo world cannot drive says so
                self.assertIn("%s  (no sample event" % fn, self.out)
                continue
            with self.subTest(fn=fn):
                p = cli(lines[fn], self.home)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(json.loads(p.stdout)["StatusCode"], 200)
                resp = re.search(r"(\S+\.out\.json)$", lines[fn]).group(1)
                with open(os.path.join(ROOT, resp)) as f:
                    report = json.load(f)
                self.assertEqual(report.get("function"), fn, report)
                self.assertTrue(report.get("incident_id", "").startswith("fb-"), report)
                self.assertNotIn("errorType", report)
        # kms-guard cancelled the deletion the scenario scheduled: read back with
        # the inspect line make local printed.
        inspect = next(l.strip() for l in self.lines if "<service> <command>" in l)
        p = cli(inspect.replace("<service> <command>", "kms describe-key --key-id alias/trading-ledger"),
                self.home)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotEqual(json.loads(p.stdout)["KeyMetadata"]["KeyState"], "PendingDeletion")

    def test_1b_readme_invokes_against_aws_work_here(self):
        # README's "Against AWS" lines, pointed at make local: the stack
        # prefix dropped and --endpoint-url added, nothing else changed.
        with open(os.path.join(ROOT, "README.md")) as f:
            text = f.read()
        (block,) = re.findall(r"<!-- readme-example: run by tests/integration/69-local.py against make local -->"
                              r"\n```sh\n(.*?)```", text, re.S)
        cmds = [c.split("&&")[0].strip() for c in block.replace("\\\n", " ").splitlines() if c.strip()]
        self.assertEqual(len(cmds), 2, cmds)
        for c in cmds:
            with self.subTest(cmd=c):
                words = shlex.split(c)
                i = words.index("--function-name")
                fn = words[i + 1].replace("firebreak-", "", 1)
                words[i + 1] = fn
                words[3:3] = ["--endpoint-url", "http://127.0.0.1:%d" % self.port, "--region", "us-east-1"]
                out = os.path.join(self.home, "out.json")
                words[-1] = out
                env = new_user_env(self.home)
                env.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"})
                p = subprocess.run([AWS] + words[1:], env=env, capture_output=True, text=True, timeout=120)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertNotIn("FunctionError", json.loads(p.stdout))
                with open(out) as f:
                    report = json.load(f)
                self.assertEqual((report["function"], report["dry_run"]), (fn, True), report)

    def test_2_ctrl_c_stops_everything(self):
        stats = json.loads(subprocess.run(
            ["curl", "-s", "http://127.0.0.1:%d/_emulator/stats" % self.port],
            capture_output=True, text=True, timeout=10).stdout)
        pids = [p for f in stats["functions"].values() for p in f.get("pids") or []]
        self.assertTrue(pids, stats)
        os.killpg(self.proc.pid, signal.SIGINT)
        self.proc.wait(30)
        rest = self.proc.stdout.read()
        self.assertIn("stopping", rest)
        time.sleep(0.5)
        self.assertFalse(port_open(self.port), "emulator port still open")
        self.assertFalse(port_open(self.aws_port), "fake AWS port still open")
        self.assertEqual([p for p in pids if pid_alive(p)], [])


def readme_examples():
    """The README's fenced blocks marked as run by this test: [(lines)]."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    blocks = re.findall(r"<!-- readme-example: run by tests/integration/69-local.py -->\n```sh\n(.*?)```",
                        text, re.S)
    return [[l.split("#")[0].strip() for l in b.splitlines() if l.split("#")[0].strip()] for b in blocks]


class Readme(unittest.TestCase):
    def test_examples_are_the_commands_this_test_runs(self):
        blocks = readme_examples()
        self.assertEqual(len(blocks), 2, "README lost its marked make local / make invoke examples")
        self.assertEqual(blocks[0], ["make local"])
        for line in blocks[1]:
            with self.subTest(line=line):
                words = shlex.split(line)
                self.assertEqual(words[:2], ["make", "invoke"])
                p = subprocess.run(["make", "-s"] + words[1:], cwd=ROOT, capture_output=True,
                                   text=True, timeout=180)
                self.assertEqual(p.returncode, 0, p.stderr[-2000:])
                report = json.loads(p.stdout)
                self.assertEqual(report["function"], dict(w.split("=", 1) for w in words[2:])["FN"])
                self.assertEqual(report["dry_run"], "DRY_RUN=1" in words)

    def test_the_printed_line_shown_in_readme_is_what_make_local_prints(self):
        with open(os.path.join(ROOT, "README.md")) as f:
            shown = [l for l in f.read().splitlines() if " lambda invoke " in l and "9001" in l]
        self.assertEqual(len(shown), 1)
        if not getattr(Local, "lines", None):   # runs after Local (unittest sorts classes)
            self.skipTest("Local did not run first")
        lines = [l.strip() for l in Local.lines if "--function-name kms-guard " in l]
        self.assertEqual(len(lines), 1, Local.out[-2000:])
        self.assertEqual(shown[0].replace("9001", str(Local.port)), lines[0])


class Invoke(unittest.TestCase):
    def make_invoke(self, *args, env=None):
        e = dict(os.environ)
        e.update(env or {})
        return subprocess.run(["make", "-s", "invoke"] + list(args), cwd=ROOT, env=e,
                              capture_output=True, text=True, timeout=180)

    def test_one_shot_prints_the_report(self):
        p = self.make_invoke("FN=public-lock")
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        report = json.loads(p.stdout)
        self.assertEqual(report["function"], "public-lock")
        self.assertEqual(report["verdict"], "contained", report.get("verdict"))

    def test_unknown_function_is_a_clear_error(self):
        p = self.make_invoke("FN=no-such-fn")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("no function 'no-such-fn'", p.stderr)
        p = self.make_invoke()
        self.assertEqual(p.returncode, 2)
        self.assertIn("usage: make invoke FN=", p.stderr)

    def test_endpoint_url_reaches_moto_instead_of_the_fake(self):
        moto = shutil.which("moto_server", path=os.path.expanduser("~/.pyenv/shims") + ":" +
                            os.environ.get("PATH", ""))
        if not moto:
            self.skipTest("moto_server not installed")
        port = free_port()
        srv = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
        home = tempfile.mkdtemp(prefix="fb-69-moto-")
        try:
            end = time.time() + 30
            while not port_open(port) and time.time() < end:
                time.sleep(0.2)
            env = new_user_env(home)
            env.update({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1"})
            url = "http://127.0.0.1:%d" % port
            kid = subprocess.run([AWS, "--endpoint-url", url, "kms", "create-key", "--query",
                                  "KeyMetadata.KeyId", "--output", "text"], env=env,
                                 capture_output=True, text=True, timeout=60).stdout.strip()
            self.assertTrue(kid)
            subprocess.run([AWS, "--endpoint-url", url, "kms", "schedule-key-deletion", "--key-id", kid,
                            "--pending-window-in-days", "7"], env=env, check=True,
                           capture_output=True, timeout=60)
            ev = os.path.join(home, "event.json")
            with open(ev, "w") as f:
                json.dump({"keyId": kid, "dryRun": True}, f)
            p = self.make_invoke("FN=kms-guard", "EVENT=" + ev, env={"AWS_ENDPOINT_URL": url})
            self.assertEqual(p.returncode, 0, p.stderr[-2000:])
            report = json.loads(p.stdout)
            desc = [a for a in report["actions"] if a.get("api") == "kms:DescribeKey"]
            # The key exists only in moto: its state came from there.
            self.assertTrue(desc and desc[0]["status"] == "done", report["actions"])
            self.assertIn("PendingDeletion", desc[0].get("detail", ""))
            self.assertTrue(report["dry_run"])
        finally:
            os.killpg(srv.pid, signal.SIGTERM)
            srv.wait(10)
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
