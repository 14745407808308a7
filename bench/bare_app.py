"""The benches' baseline: a bare Flask app on waitress with the same thread count, as issue 17
defines it: waitress as shipped (`motcua serve` runs it with `motcua.wsgi_server`'s quieter
connection class; docs/performance.md, "Every line, and the server's loop", gives the ratios against a bare
app on that server too).

    python bench/bare_app.py --port 8001 [--threads 8]

GET / answers "ok"; POST /post reads the JSON body (as the API does) and answers 201.
"""

from __future__ import annotations

import argparse

import waitress
from flask import Flask, request


def make_app() -> Flask:
    app = Flask("bare")

    @app.get("/")
    def hello() -> str:
        return "ok"

    @app.post("/post")
    def post() -> tuple[str, int]:
        request.get_json()
        return "ok", 201

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    waitress.serve(make_app(), host="127.0.0.1", port=args.port, threads=args.threads, ident="bare")
