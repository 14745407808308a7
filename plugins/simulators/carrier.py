"""A postal carrier stand-in (VNPost-shaped; protocol in motcua_plugins.carriers.vnpost).

JSON API with an `X-Api-Key` header: `POST /api/v1/shipments` books (idempotent by the
`Idempotency-Key` header) and answers an S10 item number; `GET /api/v1/shipments/<item>`.
A page at `/` lists items with buttons to advance each (`POST /sim/items/<item>/advance`,
also JSON), which sends the signed status callback, retried until the portal answers 2xx;
`delivered` reports the COD collected (the booked amount, or JSON `cod_collected`) and the
postage collected from the receiver.

`POST /api/v1/shipments/<item>/cancel` (same headers) calls a booked item off: 200 with
status `cancelled`, again 200 for an item already cancelled (one cancellation, logged in
`carrier_sim_cancels` with whether it was a repeat); 409 with the item's status once it has
left `booked`; an item cancelled can no longer be advanced.

`/sim/hold` makes the next bookings slow (motcua_plugins.simulators.hold): the parcel is booked
at once, its answer waits, so a test can kill the worker after the carrier booked and before
the portal heard of it. Every booking request is logged (`carrier_sim_requests`: its
idempotency key, the item answered, whether it was a repeat of a key already booked).
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.request
import uuid
from datetime import datetime, timezone

from flask import Flask, jsonify, redirect, render_template_string, request

from motcua import units
from motcua_plugins.carriers import vnpost
from motcua_plugins.simulators import deliver_with_retries, http
from motcua_plugins.simulators.hold import Holds, add_hold_routes

PAGE = """<!doctype html><html lang="vi"><meta charset="utf-8"><title>Bưu chính (mô phỏng)</title>
<h1>Bưu chính công ích – môi trường mô phỏng</h1>
<table border="1"><tr><th>Số hiệu</th><th>Hồ sơ</th><th>Loại</th><th>Địa chỉ</th><th>COD</th><th>Cước</th><th>Trạng thái</th><th></th></tr>
{% for item in items %}<tr><td>{{ item.item_number }}</td><td>{{ item.reference }}</td><td>{{ item.kind }}</td>
<td>{{ item.address }}</td><td>{{ item.cod_amount }}</td><td>{{ item.postage_amount }} ({{ "người nhận trả" if item.postage_payer == "receiver" else "người gửi trả" }})</td><td>{{ item.status }}</td><td>
<form method="post" action="/sim/items/{{ item.item_number }}/advance">
{% for s in statuses %}<button name="status" value="{{ s }}">{{ s }}</button>{% endfor %}</form></td></tr>{% endfor %}
</table></html>"""


def _address_problems(party: object) -> list[str]:
    """Like a carrier's address check: units named, and a commune code within its province."""
    if not isinstance(party, dict) or not isinstance(party.get("address", {}), dict):
        return ["address must be an object"]
    address = party.get("address") or {}
    problems = [f"address.{k} is required" for k in ("province", "commune") if not address.get(k)]
    province, commune = str(address.get("province_code") or ""), str(address.get("commune_code") or "")
    if province and units.province(province) is None:
        problems.append("address.province_code is unknown")
    elif province and commune and units.find_commune(province, commune) is None:
        problems.append("address.commune_code is not a commune of address.province_code")
    return problems


def create_app(api_key: str = "SIMKEY", callback_secret: str = "SIMCALLBACK") -> Flask:
    app = Flask(__name__)
    app.config.update(API_KEY=api_key, CALLBACK_SECRET=callback_secret)
    items: dict[str, dict] = {}
    by_key: dict[str, str] = {}
    requests: list[dict] = []
    lock = threading.Lock()
    holds = Holds()
    add_hold_routes(app, holds)
    app.extensions["carrier_sim"] = items
    app.extensions["carrier_sim_requests"] = requests
    cancels: list[dict] = []
    app.extensions["carrier_sim_cancels"] = cancels

    def authorised() -> bool:
        return secrets.compare_digest(request.headers.get("X-Api-Key", ""), app.config["API_KEY"])

    def new_item_number() -> str:
        serial = f"{secrets.randbelow(10**8):08d}"
        return f"EB{serial}{vnpost.s10_check_digit(serial)}VN"

    @app.post("/api/v1/shipments")
    def book():
        if not authorised():
            return jsonify(error="invalid api key"), 401
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return jsonify(error="JSON body required"), 400
        problems = [p for k in ("sender", "receiver") for p in (_address_problems(body.get(k)) if (body.get("kind") == "delivery") == (k == "receiver") else [])]
        problems += [f"{k} is required" for k in ("reference", "kind", "callback_url") if not body.get(k)]
        if body.get("kind") not in ("delivery", "pickup"):
            problems.append("kind must be delivery or pickup")
        if body.get("postage_payer", "sender") not in vnpost.POSTAGE_PAYERS:
            problems.append("postage_payer must be sender or receiver")
        if vnpost.collected(body, "cod_amount") is None or vnpost.collected(body, "postage_amount") is None:
            problems.append("cod_amount and postage_amount must be whole numbers of VND")
        if problems:
            return jsonify(error="invalid shipment", problems=problems), 422
        key = request.headers.get("Idempotency-Key") or str(uuid.uuid4())
        with lock:
            repeat = key in by_key
            requests.append({"key": key, "item_number": by_key.get(key), "repeat": repeat})
            if repeat:
                return jsonify(items[by_key[key]]["public"]), 200
            number = new_item_number()
            citizen = body["receiver"] if body["kind"] == "delivery" else body["sender"]
            items[number] = {
                "item_number": number, "reference": body["reference"], "kind": body["kind"],
                "address": citizen.get("address"), "cod_amount": int(body.get("cod_amount") or 0),
                "postage_payer": body.get("postage_payer", "sender"), "postage_amount": int(body.get("postage_amount") or 0),
                "callback_url": body["callback_url"], "status": "booked", "callbacks": [],
                "public": {"item_number": number, "status": "booked"},
            }
            by_key[key] = number
            requests[-1]["item_number"] = number
        holds.wait()  # booked; a slow carrier answers late (or, held for good, after the limit)
        return jsonify(items[number]["public"]), 201

    @app.post("/api/v1/shipments/<number>/cancel")
    def cancel(number: str):
        if not authorised():
            return jsonify(error="invalid api key"), 401
        with lock:
            item = items.get(number)
            if item is None:
                return jsonify(error="unknown item"), 404
            repeat = item["status"] == "cancelled"
            cancels.append({"key": request.headers.get("Idempotency-Key"), "item_number": number, "repeat": repeat,
                            "refused": item["status"] not in ("booked", "cancelled")})
            if item["status"] not in ("booked", "cancelled"):
                return jsonify(error="already picked up", status=item["status"]), 409
            item["status"] = item["public"]["status"] = "cancelled"
        return jsonify(item["public"]), 200

    @app.get("/api/v1/shipments/<number>")
    def show(number: str):
        if not authorised():
            return jsonify(error="invalid api key"), 401
        item = items.get(number)
        if item is None:
            return jsonify(error="unknown item"), 404
        return jsonify({k: v for k, v in item.items() if k != "public"})

    def callback(item: dict, status: str, cod_collected: int | None = None) -> None:
        message = {
            "event_id": str(uuid.uuid4()), "item_number": item["item_number"], "reference": item["reference"],
            "kind": item["kind"], "status": status, "at": datetime.now(timezone.utc).isoformat(),
        }
        if status == "delivered":  # the postman hands over only against the COD and the receiver's postage
            message["cod_collected"] = item["cod_amount"] if cod_collected is None else cod_collected
            message["postage_collected"] = item["postage_amount"] if item["postage_payer"] == "receiver" else 0
        body = json.dumps(message).encode()
        headers = {"Content-Type": "application/json", "X-Signature": vnpost.sign(body, app.config["CALLBACK_SECRET"])}

        def send() -> bool:
            code, _ = http(urllib.request.Request(item["callback_url"], data=body, headers=headers, method="POST"))
            with lock:
                item["callbacks"].append({"status": status, "http": code})
            return 200 <= code < 300

        deliver_with_retries(send)

    @app.post("/sim/items/<number>/advance")
    def advance(number: str):
        item = items.get(number)
        form = (request.get_json(silent=True) or {}) if request.is_json else request.form
        status = form.get("status")
        if item is None or status not in vnpost.STATUSES:
            return jsonify(error="unknown item or status"), 404
        if item["status"] == "cancelled":
            return jsonify(error="cancelled"), 409
        # a test may play a postman who collected another amount than booked (JSON `cod_collected`)
        cod_collected = form.get("cod_collected") if request.is_json else None
        with lock:
            item["status"] = status
            item["public"]["status"] = status
        callback(item, status, cod_collected)
        if request.is_json:
            return jsonify(ok=True, status=status)
        return redirect("/")

    @app.get("/")
    def index():
        return render_template_string(PAGE, items=list(items.values()), statuses=vnpost.STATUSES[1:])

    return app
