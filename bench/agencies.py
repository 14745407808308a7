"""Benchmark (issue 13): the pages and API answers that carry the whole agency registry (the
shipped province: 207 offices, 94 communes), each against a bare Flask route measured right
before it in the same run, with the performance issue's goal beside it.

    .venv/bin/python bench/agencies.py [--seconds 3] [--connections 8] [--threads 8]

Real processes on 127.0.0.1: `motcua serve` on the shipped specs and registry, beside the
bare app on waitress with the same thread count (bench/bare_app.py); the load comes from
another process (wrk when installed, else bench/load.py), as in bench/portal.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import load  # noqa: E402
from portal import REPO, bare, http_line, measured, motcua  # noqa: E402

BIRTH = "1.001193"
#: (name, path, goal as a ratio to the bare GET): pages as bench/portal.py's, the API as search
PATHS = [
    ("catalogue / (agency filter: 207 offices)", "/", 0.33),
    ("catalogue /?agency=<commune office>", "/?agency=000.06.50.H15", 0.33),
    ("catalogue /?tier=commune", "/?tier=commune", 0.33),
    ("procedure page (94-office choice)", f"/thu-tuc/{BIRTH}", 0.33),
    ("form page /nop?co_quan=<office>", f"/thu-tuc/{BIRTH}/nop?co_quan=000.06.50.H15", 0.33),
    ("GET /api/v1/agencies (all 207)", "/api/v1/agencies", 0.2),
    ("GET /api/v1/agencies?procedure=&q=", f"/api/v1/agencies?procedure={BIRTH}&q=hai+chau", 0.2),
    ("GET /api/v1/procedures?agency=", "/api/v1/procedures?agency=000.06.50.H15", 0.2),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    bare_server = bare(args.threads)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            portal = motcua(REPO / "procedure_specs", Path(tmp) / "data", args.threads)
            try:
                for _name, path, _goal in PATHS:
                    load.measure(portal.url + path, 1, 2)  # warm up: templates compiled, caches filled
                for name, path, goal in PATHS:
                    # the baseline right before each line: on a shared machine the load moves
                    base = measured(bare_server, bare_server.url + "/", args.seconds, args.connections)
                    http_line("  bare Flask GET", base, None, "", None)
                    http_line(name, measured(portal, portal.url + path, args.seconds, args.connections), base, "bare GET", goal)
            finally:
                portal.stop()
    finally:
        bare_server.stop()


if __name__ == "__main__":
    main()
