#!/usr/bin/python3
# needs: package (tests/run.sh --package holds this test until make package is done)
"""kms-guard over HTTPS: TLS verification, end to end, native and packaged arm64.

Every other integration test talks plain http to tests/fakeaws. Here fakeaws
serves HTTPS (server.py --tls-cert/--tls-key) with certificates made at test
time by the openssl CLI (Debian package `openssl`, a dependency of
ca-certificates): a test CA, a second unrelated CA, and three server
certificates signed by the test CA: good (SAN DNS:localhost, IP:127.0.0.1),
wrong name (SAN DNS:wrong.example only) and expired (2020-01-01..02, made with
`openssl ca -startdate/-enddate`). The function gets
AWS_ENDPOINT_URL=https://localhost:PORT, and:

  trusted   SSL_CERT_FILE = the test CA: contained, and the same calls reach the
            fake as over plain http (a plain fake with the same seed and event);
  other-ca  SSL_CERT_FILE = the other CA        -> error result, zero calls;
  no-ca     SSL_CERT_FILE unset (system trust)  -> error result, zero calls;
  wrong-name  good CA, name mismatch            -> error result, zero calls;
  expired   good CA, expired certificate        -> error result, zero calls.

"Zero calls" is the fake's call log (GET /_fake/calls, read over its plain
admin-only listener); that the function did reach the TLS listener comes from
GET /_fake/tls (connections accepted). Each case runs build/native/kms-guard/
bootstrap and the bootstrap inside build/arm64/kms-guard.zip (what is uploaded)
under `qemu-aarch64 -L /usr/aarch64-linux-gnu`; a missing zip is a failure.
Prints "N passed, N failed"; exits non-zero on failure.
"""
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.error
import urllib.request
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import fbtest  # noqa: E402

FN = "kms-guard"
EVENT = os.path.join(fbtest.ROOT, "events", FN, "schedule-deletion-enabled-key.json")
ZIP = os.path.join(fbtest.ROOT, "build", "arm64", FN + ".zip")
SYSROOT = "/usr/aarch64-linux-gnu"
QEMU = "qemu-aarch64"
ACCT = fbtest.ACCOUNT
TOPIC = "arn:aws:sns:us-east-1:111111111111:firebreak"
KEY = "1234abcd-12ab-34cd-56ef-1234567890ab"
ENV = {"FIREBREAK_TOPIC_ARN": TOPIC}


def _record(name, when, actor, event_id):
    return {"eventVersion": "1.08", "userIdentity": {"type": "IAMUser", "arn": actor, "accountId": ACCT},
            "eventTime": when, "eventSource": "kms.amazonaws.com", "eventName": name,
            "awsRegion": "us-east-1", "requestParameters": {"keyId": KEY}, "eventID": event_id,
            "readOnly": name == "Decrypt", "eventType": "AwsApiCall", "recipientAccountId": ACCT,
            "resources": [{"accountId": ACCT, "type": "AWS::KMS::Key",
                           "ARN": "arn:aws:kms:us-east-1:%s:key/%s" % (ACCT, KEY)}]}


# The key was in use (Decrypt) before mallory scheduled its deletion: the full
# containment (cancel, enable, tag, publish) runs, so TLS carries several calls.
SEED = {
    "default_account": ACCT,
    "sns": {"topics": [TOPIC]},
    "kms": {"keys": [{"KeyId": KEY, "KeyState": "PendingDeletion", "DeletionDate": 1900000000,
                      "PendingDeletionWindowInDays": 7}]},
    "cloudtrail": {"records": [
        _record("Decrypt", "2024-03-01T09:00:00Z", "arn:aws:iam::111111111111:role/app", "h-decrypt"),
        _record("ScheduleKeyDeletion", "2024-03-01T10:00:30Z", "arn:aws:iam::111111111111:user/mallory",
                "0001-sched-enabled"),
    ]},
}

# A config of our own: nothing from the system's openssl.cnf.
OPENSSL_CNF = """\
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_localhost ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, IP:127.0.0.1
[ v3_wrong ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:wrong.example
[ ca ]
default_ca = test_ca
[ test_ca ]
database = index.txt
new_certs_dir = issued
serial = serial
default_md = sha256
policy = any
unique_subject = no
[ any ]
commonName = supplied
"""


def make_pki(d):
    """Test CA, other CA, one server key and three certificates in `d`."""
    with open(os.path.join(d, "openssl.cnf"), "w") as f:
        f.write(OPENSSL_CNF)
    os.mkdir(os.path.join(d, "issued"))
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("10\n")
    env = dict(os.environ, OPENSSL_CONF=os.path.join(d, "openssl.cnf"))

    def ossl(*args):
        p = subprocess.run(["openssl"] + list(args), cwd=d, env=env, capture_output=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("openssl %s: %s" % (" ".join(args[:2]), p.stderr.decode(errors="replace")[-800:]))

    cnf = "openssl.cnf"
    for ca, cn in (("ca", "firebreak test CA"), ("other-ca", "firebreak other CA")):
        ossl("req", "-x509", "-config", cnf, "-newkey", "rsa:2048", "-nodes", "-keyout", ca + ".key",
             "-out", ca + ".pem", "-days", "2", "-sha256", "-subj", "/CN=" + cn, "-extensions", "v3_ca")
    ossl("req", "-new", "-config", cnf, "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
         "-out", "localhost.csr", "-subj", "/CN=localhost")
    ossl("req", "-new", "-config", cnf, "-key", "server.key", "-out", "wrong.csr", "-subj", "/CN=wrong.example")
    ossl("x509", "-req", "-in", "localhost.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "2",
         "-days", "2", "-sha256", "-extfile", cnf, "-extensions", "v3_localhost", "-out", "good.pem")
    ossl("x509", "-req", "-in", "wrong.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "3",
         "-days", "2", "-sha256", "-extfile", cnf, "-extensions", "v3_wrong", "-out", "wrong-name.pem")
    # openssl 3.0's x509 has no -not_after; `openssl ca` takes explicit dates
    ossl("ca", "-batch", "-config", cnf, "-name", "test_ca", "-cert", "ca.pem", "-keyfile", "ca.key",
         "-in", "localhost.csr", "-out", "expired.pem", "-notext", "-startdate", "20200101000000Z",
         "-enddate", "20200102000000Z", "-extfile", cnf, "-extensions", "v3_localhost")
    # the oracle for the certificates themselves is the openssl CLI
    for cert, want in (("good.pem", None), ("wrong-name.pem", None), ("expired.pem", "expired")):
        p = subprocess.run(["openssl", "verify", "-CAfile", "ca.pem", cert], cwd=d, env=env,
                           capture_output=True, timeout=60)
        out = (p.stdout + p.stderr).decode(errors="replace")
        if (p.returncode == 0) != (want is None) or (want and want not in out):
            raise RuntimeError("test PKI is not what it should be: %s: %s" % (cert, out))
    pki = {k: os.path.join(d, k + ".pem") for k in ("ca", "other-ca", "good", "wrong-name", "expired")}
    pki["key"] = os.path.join(d, "server.key")
    return pki


def summary(res):
    """A failure message short enough to read: the error type and the failed
    steps' errors (the whole result only when it is no report)."""
    rep = res.report if isinstance(res.report, dict) else None
    if rep is None:
        return "%r\nlogs: %s" % (res, res.logs[-1500:])
    errs = ["%s: %s" % (a.get("step"), a.get("error")) for a in rep.get("actions") or [] if a.get("error")]
    return "ok=%s errorType=%s verdict=%s\n  %s" % (res.ok, res.error_type, rep.get("verdict"),
                                                   "\n  ".join(errs) or "(no step errors)")


def _start_all(fakes):
    errors = []

    def go(f):
        try:
            f.start()
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(e)
    ts = [threading.Thread(target=go, args=(f,)) for f in fakes]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        for f in fakes:
            f.stop()
        raise errors[0]


class Tls(unittest.TestCase):
    setup_error = None
    arm64_error = None
    fakes = []

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="fb-tls-")
        # "no SSL_CERT_FILE" must mean the system default, not the runner's
        # variables (the emulator passes SSL_CERT_FILE/SSL_CERT_DIR through)
        cls.saved_env = {k: os.environ.pop(k) for k in ("SSL_CERT_FILE", "SSL_CERT_DIR") if k in os.environ}
        try:
            if not shutil.which("openssl"):
                raise RuntimeError("the openssl CLI is missing (Debian package openssl)")
            pki_dir = os.path.join(cls.tmp.name, "pki")
            os.mkdir(pki_dir)
            cls.pki = make_pki(pki_dir)
            cls.plain = fbtest.Fake(SEED)
            cls.https = {name: fbtest.TlsFake(SEED, cert=cls.pki[name], key=cls.pki["key"])
                         for name in ("good", "wrong-name", "expired")}
            cls.fakes = [cls.plain] + list(cls.https.values())
            _start_all(cls.fakes)
        except Exception as e:  # noqa: BLE001 (every test then fails with it)
            cls.setup_error = "%s: %s" % (type(e).__name__, e)
        cls.builds = {"native": (fbtest._bootstrap(FN), None)}
        try:
            if not shutil.which(QEMU):
                raise RuntimeError("%s not installed (make deps)" % QEMU)
            if not os.path.isdir(os.path.join(SYSROOT, "lib")):
                raise RuntimeError("%s missing (libc6-arm64-cross)" % SYSROOT)
            if not os.path.isfile(ZIP):
                raise RuntimeError("%s missing (make package)" % ZIP)
            arm = os.path.join(cls.tmp.name, "arm64")
            with zipfile.ZipFile(ZIP) as z:
                z.extract("bootstrap", arm)
            os.chmod(os.path.join(arm, "bootstrap"), 0o755)
            cls.builds["arm64"] = (os.path.join(arm, "bootstrap"), "%s -L %s" % (QEMU, SYSROOT))
        except Exception as e:  # noqa: BLE001
            cls.arm64_error = "%s: %s" % (type(e).__name__, e)

    @classmethod
    def tearDownClass(cls):
        for f in cls.fakes:
            f.stop()
        os.environ.update(cls.saved_env)
        cls.tmp.cleanup()

    def test_0_fakeaws_tls_listener_python_client(self):
        # Python's ssl client as an oracle for the fake and the certificates,
        # independent of our C code; also: failed handshakes leave the server
        # serving (the last request succeeds on the same listener).
        if self.setup_error:
            self.fail("setup: " + self.setup_error)

        def health(fake, ca):
            ctx = ssl.create_default_context(cafile=self.pki[ca])
            with urllib.request.urlopen(fake.url + "/_fake/health", context=ctx, timeout=10) as r:
                return json.loads(r.read())
        good = self.https["good"]
        self.assertEqual(health(good, "ca"), {"ok": True})
        before = good.tls()
        for fake, ca in ((good, "other-ca"), (self.https["wrong-name"], "ca"), (self.https["expired"], "ca")):
            with self.assertRaises(urllib.error.URLError) as cm:
                health(fake, ca)
            self.assertIsInstance(cm.exception.reason, ssl.SSLCertVerificationError, (fake.url, ca))
        self.assertEqual(good.tls()["failures"], before["failures"] + 1)
        self.assertEqual(health(good, "ca"), {"ok": True})
        # the admin-only plain listener refuses AWS calls
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(good.admin_url + "/", data=b"{}", timeout=10)
        self.assertEqual(cm.exception.code, 404)

    # ---- helpers --------------------------------------------------------------------
    def run_build(self, build, fake, ca):
        if self.setup_error:
            self.fail("setup: " + self.setup_error)
        if build == "arm64" and self.arm64_error:
            self.fail("arm64: " + self.arm64_error)
        bootstrap, wrapper = self.builds[build]
        env = dict(ENV)
        if ca:
            env["SSL_CERT_FILE"] = self.pki[ca]
        fake.reset()
        with open(EVENT, "rb") as f:
            event = f.read()
        return fbtest.invoke(FN, event, fake, env=env, bootstrap=bootstrap, wrapper=wrapper, timeout=60)

    @staticmethod
    def same_calls(calls):
        """The calls as a sorted multiset of (operation, parameters): the responder
        overlaps some calls, so their order is not fixed; the SNS message is the
        report, with timings, so only its topic counts."""
        out = []
        for c in calls:
            params = c.get("params")
            if (c.get("service"), c.get("operation")) == ("sns", "Publish"):
                params = (params or {}).get("TopicArn")
            out.append("%s:%s %s" % (c.get("service"), c.get("operation"), json.dumps(params, sort_keys=True)))
        return sorted(out)

    def key_state(self, fake):
        return [k for k in fake.state()["kms"]["keys"] if k["KeyId"] == KEY][0]["KeyState"]

    def check_trusted(self, build):
        base = self.run_build(build, self.plain, None)
        self.assertTrue(base.ok, base)
        base_calls = self.same_calls(self.plain.calls())
        fake = self.https["good"]
        before = fake.tls()
        res = self.run_build(build, fake, "ca")
        after = fake.tls()
        self.assertTrue(res.ok, summary(res))
        self.assertEqual(res.report["verdict"], "contained", res.report)
        self.assertEqual(res.report["verdict"], base.report["verdict"])
        self.assertEqual(self.same_calls(fake.calls()), base_calls)  # the same calls as over plain http
        self.assertIn("kms:CancelKeyDeletion", fbtest.ops(fbtest.writes(fake.calls())))
        self.assertNotEqual(self.key_state(fake), "PendingDeletion")
        self.assertEqual(self.key_state(fake), self.key_state(self.plain))
        # they came over TLS: handshakes completed, none failed
        self.assertGreater(after["handshakes"], before["handshakes"])
        self.assertEqual(after["failures"], before["failures"], after)

    def check_refused(self, build, fake_name, ca, why):
        fake = self.https[fake_name]
        before = fake.tls()
        res = self.run_build(build, fake, ca)
        after = fake.tls()
        self.assertFalse(res.ok, summary(res))
        self.assertTrue(res.error_type, summary(res))  # an error result, not a crash
        self.assertEqual(fake.calls(), [])  # no request got past the handshake
        self.assertGreater(after["connections"], before["connections"],
                           "the function never reached the TLS listener: " + summary(res))
        self.assertEqual(self.key_state(fake), "PendingDeletion")
        msg = res.error_message or ""
        for pattern in (r"certificate", why):
            self.assertTrue(re.search(pattern, msg, re.I), "error does not match /%s/: %s" % (pattern, summary(res)))
        if res.report:
            self.assertEqual(res.report.get("verdict"), "failed", res.report)


CASES = {
    # name: (fake, SSL_CERT_FILE, what the error must name besides "certificate")
    "other_ca": ("good", "other-ca", r"issuer|self[- ]signed|unknown ca|verif"),
    "no_ssl_cert_file": ("good", None, r"issuer|self[- ]signed|unknown ca|verif"),
    "wrong_name": ("wrong-name", "ca", r"name|host"),
    "expired": ("expired", "ca", r"expired"),
}


def _add(build):
    setattr(Tls, "test_%s_1_trusted_ca_contains_as_over_http" % build,
            lambda self: self.check_trusted(build))
    for i, (name, (fake, ca, why)) in enumerate(CASES.items(), 2):
        setattr(Tls, "test_%s_%d_%s_refused_zero_calls" % (build, i, name),
                lambda self, f=fake, c=ca, w=why: self.check_refused(build, f, c, w))


for _b in ("native", "arm64"):
    _add(_b)


if __name__ == "__main__":
    fbtest.main([Tls])
