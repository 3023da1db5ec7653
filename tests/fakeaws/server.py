#!/usr/bin/python3
"""fakeaws: a local AWS emulator for firebreak's tests.

    tests/fakeaws/server.py --port 0 --seed world.json [--port-file F]

One endpoint for every service on 127.0.0.1 (see README.md)."""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, "/usr/lib/python3/dist-packages")

import core  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = pick a free one)")
    ap.add_argument("--seed", help="world JSON to load at start (and on POST /_fake/reset)")
    ap.add_argument("--port-file", help="write the chosen port here once listening")
    ap.add_argument("--latency-ms", type=int, default=0, help="global latency added to every AWS call")
    a = ap.parse_args()

    world = core.World()
    seed = {}
    if a.seed:
        with open(a.seed) as f:
            seed = json.load(f)
    world.load_seed(seed)
    world.initial_seed = seed
    world.global_latency_ms = a.latency_ms
    core.preload()
    srv = core.Server(("127.0.0.1", a.port), world)
    port = srv.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, a.port_file)
    print("fakeaws listening on http://127.0.0.1:%d" % port, flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
