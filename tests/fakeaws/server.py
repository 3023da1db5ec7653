#!/usr/bin/python3
"""fakeaws: a local AWS emulator for firebreak's tests.

    tests/fakeaws/server.py --port 0 --seed world.json [--port-file F]
    tests/fakeaws/server.py ... --tls-cert CERT.pem --tls-key KEY.pem [--admin-port 0 --admin-port-file F]

One endpoint for every service on 127.0.0.1 (see README.md)."""
import argparse
import json
import os
import ssl
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, "/usr/lib/python3/dist-packages")

import core  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = pick a free one)")
    ap.add_argument("--seed", help="world JSON to load at start (and on POST /_fake/reset)")
    ap.add_argument("--port-file", help="write the chosen port here once listening")
    ap.add_argument("--latency-ms", type=int, default=0, help="global latency added to every AWS call")
    ap.add_argument("--tls-cert", help="serve HTTPS on --port with this PEM certificate (chain)")
    ap.add_argument("--tls-key", help="the PEM private key of --tls-cert")
    ap.add_argument("--admin-port", type=int, help="also a plain-http listener for /_fake/ only (0 = free port)")
    ap.add_argument("--admin-port-file", help="write the admin port here (before --port-file)")
    a = ap.parse_args()
    if bool(a.tls_cert) != bool(a.tls_key):
        ap.error("--tls-cert and --tls-key go together")

    world = core.World()
    seed = {}
    if a.seed:
        with open(a.seed) as f:
            seed = json.load(f)
    world.load_seed(seed)
    world.initial_seed = seed
    world.global_latency_ms = a.latency_ms
    core.preload()
    ctx = None
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
    srv = core.Server(("127.0.0.1", a.port), world, ssl_context=ctx)
    port = srv.server_address[1]
    admin = None
    if a.admin_port is not None:
        admin = core.Server(("127.0.0.1", a.admin_port), world, admin_only=True)
        threading.Thread(target=admin.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
        if a.admin_port_file:
            write_port(a.admin_port_file, admin.server_address[1])
        print("fakeaws admin on http://127.0.0.1:%d/_fake/" % admin.server_address[1], flush=True)
    if a.port_file:
        write_port(a.port_file, port)
    print("fakeaws listening on %s://127.0.0.1:%d" % ("https" if ctx else "http", port), flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
        if admin:
            admin.server_close()


def write_port(path, port):
    """Atomically, so a reader never sees a partial number."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
