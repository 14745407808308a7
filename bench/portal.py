"""Benchmark: the portal's form page and API filing, against a bare Flask route.

Both run on real waitress servers on 127.0.0.1 in this process (same threads, same
client, same concurrency, same duration), so the ratio says what the portal's own work
costs on this machine today. Prints requests per second and the ratio to the baseline.

    .venv/bin/python bench/portal.py [--seconds 5] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

from flask import Flask
from waitress.server import create_server

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from motcua.app import create_app  # noqa: E402

BIRTH = "1.001193"


def serve(app) -> tuple[object, int]:
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    return server, server.effective_port


def hammer(port: int, method: str, path: str, body: bytes | None, seconds: float, concurrency: int, expect: int) -> float:
    """Requests per second over `seconds`, `concurrency` keep-alive clients."""
    counts = [0] * concurrency
    errors: list[str] = []
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/json"} if body else {}
        while time.perf_counter() < stop:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != expect:
                errors.append(f"{method} {path}: {response.status}")
                return
            counts[i] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"benchmark request failed: {errors[0]}")
    return sum(counts) / elapsed


def filing_body() -> bytes:
    from portal_helpers import small_pdf

    return json.dumps({
        "answers": {
            "requester": {"full_name": "Lê Thị Hoa", "cccd": "079190012345", "phone": "0987654321", "relation": "me"},
            "child": {"full_name": "Lê Gia Bảo", "birth_date": "2025-05-20", "sex": "nam", "ethnicity": "Kinh",
                      "nationality": "Việt Nam", "birth_place": "Bệnh viện Từ Dũ"},
            "mother": {"full_name": "Lê Thị Hoa", "birth_year": 1992},
            "has_father": False,
            "birth_proof": "giay_chung_sinh",
            "extract_copies": 1,
        },
        "delivery": {"kind": "desk"},
        "attachments": [{"component": "giay_chung_sinh", "filename": "cs.pdf",
                         "content_base64": base64.b64encode(small_pdf()).decode()}],
    }).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    bare = Flask("bare")
    bare.add_url_rule("/", "hello", lambda: "ok")
    bare.add_url_rule("/post", "post", lambda: ("ok", 201), methods=["POST"])

    with tempfile.TemporaryDirectory() as tmp:
        portal = create_app({"DATA_DIR": tmp, "SPECS_DIR": str(REPO / "procedure_specs"), "PUBLIC_URL": "http://127.0.0.1"})
        servers = [serve(bare), serve(portal)]
        (_, bare_port), (_, portal_port) = servers
        body = filing_body()
        # warm up both (templates compiled, spec validators built)
        hammer(bare_port, "GET", "/", None, 0.3, 1, 200)
        hammer(portal_port, "GET", f"/thu-tuc/{BIRTH}/nop", None, 0.3, 1, 200)

        baseline_get = hammer(bare_port, "GET", "/", None, args.seconds, args.concurrency, 200)
        form = hammer(portal_port, "GET", f"/thu-tuc/{BIRTH}/nop", None, args.seconds, args.concurrency, 200)
        baseline_post = hammer(bare_port, "POST", "/post", body, args.seconds, args.concurrency, 201)
        filing = hammer(portal_port, "POST", f"/api/v1/procedures/{BIRTH}/dossiers", body, args.seconds, args.concurrency, 201)
        filed = portal.extensions["motcua"].store.dossiers.count()
        # The servers are daemon threads; they end with the process.

    print(f"portal bench: {args.seconds:g} s each, {args.concurrency} clients, waitress 8 threads")
    print(f"  bare Flask GET         {baseline_get:9.1f} req/s")
    print(f"  form page GET          {form:9.1f} req/s   ratio {form / baseline_get:.3f} of bare")
    print(f"  bare Flask POST (same body) {baseline_post:9.1f} req/s")
    print(f"  file dossier API POST  {filing:9.1f} req/s   ratio {filing / baseline_post:.3f} of bare  ({filed} dossiers filed)")


if __name__ == "__main__":
    main()
