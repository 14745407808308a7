"""An SMS / e-mail gateway stand-in: `POST /api/sms` and `POST /api/email` (JSON, header
`X-Api-Key`) store the message; `GET /` shows them. `POST /sim/fail-next` with `{"count": n}`
makes the next n requests answer 503 (or `"status"`, with `"error"` as the answer's text),
to watch the outbox retry or give up; a count of
-1 fails every request until told otherwise (a gateway down for good). `/sim/hold`,
`/sim/release`, `/sim/held` make requests wait (a slow gateway: motcua_plugins.simulators.hold);
one held and never released is answered 504.

Every message accepted is kept, duplicates included (the sender's `id` is stored with it),
and every request is logged with the status answered (`GET /api/requests`), so a test can
tell "delivered once after three refusals" from "delivered twice"."""

from __future__ import annotations

import secrets
import threading

from flask import Flask, jsonify, render_template_string, request

from motcua_plugins.simulators.hold import Holds, add_hold_routes

PAGE = """<!doctype html><html lang="vi"><meta charset="utf-8"><title>SMS / e-mail (mô phỏng)</title>
<h1>Tin nhắn và thư điện tử – môi trường mô phỏng</h1><ul>
{% for m in messages %}<li>[{{ m.channel }}] {{ m.to }}: {% if m.subject %}<b>{{ m.subject }}</b> {% endif %}{{ m.body }}</li>{% endfor %}
</ul></html>"""


def create_app(api_key: str = "SIMKEY") -> Flask:
    app = Flask(__name__)
    app.config.update(API_KEY=api_key)
    messages: list[dict] = []
    requests: list[dict] = []
    state = {"fail_next": 0, "fail_status": 503, "fail_error": "temporarily unavailable"}
    lock = threading.Lock()
    holds = Holds()
    add_hold_routes(app, holds)
    app.extensions["messaging_sim"] = messages
    app.extensions["messaging_sim_requests"] = requests

    @app.post("/api/<channel>")
    def receive(channel: str):
        if channel not in ("sms", "email"):
            return jsonify(error="unknown channel"), 404
        if not secrets.compare_digest(request.headers.get("X-Api-Key", ""), app.config["API_KEY"]):
            return jsonify(error="invalid api key"), 401
        body = request.get_json(silent=True) or {}
        if not holds.wait():
            with lock:
                requests.append({"channel": channel, "id": body.get("id"), "status": 504})
            return jsonify(error="held and never released"), 504
        with lock:
            if state["fail_next"] != 0:
                if state["fail_next"] > 0:
                    state["fail_next"] -= 1
                requests.append({"channel": channel, "id": body.get("id"), "status": state["fail_status"]})
                return jsonify(error=state["fail_error"]), state["fail_status"]
            if not body.get("to") or not body.get("body"):
                requests.append({"channel": channel, "id": body.get("id"), "status": 400})
                return jsonify(error="to and body are required"), 400
            messages.append({"channel": channel, **body})
            requests.append({"channel": channel, "id": body.get("id"), "status": 202})
        return jsonify(ok=True), 202

    @app.post("/sim/fail-next")
    def fail_next():
        asked = request.get_json(silent=True) or {}
        with lock:
            state["fail_next"] = int(asked.get("count", 1))
            state["fail_status"] = int(asked.get("status", 503))
            state["fail_error"] = str(asked.get("error") or (
                "temporarily unavailable" if state["fail_status"] >= 500 else "request refused"))
        return jsonify(ok=True)

    @app.get("/api/messages")
    def listing():
        with lock:
            return jsonify(messages)

    @app.get("/api/requests")
    def request_log():
        with lock:
            return jsonify(requests)

    @app.get("/")
    def index():
        return render_template_string(PAGE, messages=list(messages))

    return app
