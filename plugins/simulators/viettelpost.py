"""A Viettel Post partner-API stand-in (protocol in motcua_plugins.carriers.viettelpost).

`POST /v2/order/createOrder` (header `Token`) books and answers a tracking number (an order
without the sender's or receiver's name, address or phone is refused, as the real API does); the same
`ORDER_NUMBER` booked again answers the same order (the portal's booking is idempotent by
it). `POST /sim/orders/<number>/status` with JSON `{"status": 501, "money_collection": n}`
sets an order's status and posts the webhook to the partner's configured URL, retried until
it answers 2xx. `POST /v2/order/UpdateOrder` with `{"TYPE": 4, "ORDER_NUMBER"}` cancels an
order not yet picked up (status 107; again: the same answer, one cancellation, counted in the
order's `cancels`); after pickup it answers `error: true` with the order's status.
`GET /sim/orders` lists the orders (for tests).
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.request
from datetime import datetime

from flask import Flask, jsonify, request

from motcua.workdays import VN_TZ
from motcua_plugins.simulators import deliver_with_retries, http

#: statuses an order may be cancelled in (created, waiting for pickup) and the cancelled status
CANCELLABLE = frozenset({-100, -108, 100, 102, 103, 104, 107})
CANCELLED = 107
REQUIRED = ("ORDER_NUMBER", "RECEIVER_FULLNAME", "RECEIVER_ADDRESS", "RECEIVER_PHONE", "SENDER_FULLNAME", "SENDER_ADDRESS",
            "SENDER_PHONE", "ORDER_PAYMENT", "ORDER_SERVICE")


def create_app(token: str = "SIMTOKEN", webhook_token: str = "SIMWEBHOOK", webhook_url: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(WEBHOOK_URL=webhook_url)
    orders: dict[str, dict] = {}
    by_reference: dict[str, str] = {}
    lock = threading.Lock()
    app.extensions["viettelpost_sim"] = orders

    @app.post("/v2/order/createOrder")
    def create():
        if not secrets.compare_digest(request.headers.get("Token", ""), token):
            return jsonify(status=401, error=True, message="Token invalid"), 401
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return jsonify(status=400, error=True, message="JSON body required"), 400
        missing = [k for k in REQUIRED if not body.get(k)]
        if missing or body.get("ORDER_PAYMENT") not in (1, 2, 3, 4):
            return jsonify(status=400, error=True, message="Thiếu hoặc sai: " + ", ".join(missing or ["ORDER_PAYMENT"])), 400
        with lock:
            if body["ORDER_NUMBER"] in by_reference:
                number = by_reference[body["ORDER_NUMBER"]]
            else:
                number = f"1{secrets.randbelow(10**11):011d}"
                orders[number] = {"number": number, "body": body, "status": -100, "webhooks": []}
                by_reference[body["ORDER_NUMBER"]] = number
        order = orders[number]
        return jsonify(status=200, error=False, message="OK", data={
            "ORDER_NUMBER": number, "MONEY_COLLECTION": order["body"].get("MONEY_COLLECTION", 0), "MONEY_TOTAL": 22000})

    @app.post("/v2/order/UpdateOrder")
    def update():
        if not secrets.compare_digest(request.headers.get("Token", ""), token):
            return jsonify(status=401, error=True, message="Token invalid"), 401
        body = request.get_json(silent=True) or {}
        order = orders.get(str(body.get("ORDER_NUMBER", "")))
        if order is None or body.get("TYPE") != 4:
            return jsonify(status=400, error=True, message="Đơn hàng không tồn tại hoặc thao tác không hỗ trợ"), 400
        with lock:
            order.setdefault("cancels", []).append(order["status"])
            if order["status"] not in CANCELLABLE:
                return jsonify(status=200, error=True, message="Đơn hàng đã được lấy, không thể hủy",
                               data={"ORDER_NUMBER": order["number"], "ORDER_STATUS": order["status"]})
            order["status"] = CANCELLED
        return jsonify(status=200, error=False, message="OK", data={"ORDER_NUMBER": order["number"], "ORDER_STATUS": CANCELLED})

    @app.post("/sim/orders/<number>/status")
    def set_status(number: str):
        order = orders.get(number)
        asked = request.get_json(silent=True) or {}
        if order is None or not isinstance(asked.get("status"), int):
            return jsonify(error="unknown order or status"), 404
        collected = asked.get("money_collection", order["body"].get("MONEY_COLLECTION", 0) if asked["status"] == 501 else 0)
        with lock:
            order["status"] = asked["status"]
        data = {"ORDER_NUMBER": number, "ORDER_REFERENCE": order["body"]["ORDER_NUMBER"], "ORDER_STATUS": asked["status"],
                "ORDER_STATUSDATE": datetime.now(VN_TZ).strftime("%d/%m/%Y %H:%M:%S"), "STATUS_NAME": asked.get("name", ""),
                "MONEY_COLLECTION": collected, "LOCALION_CURRENLY": "Bưu cục mô phỏng", "NOTE": ""}
        body = json.dumps({"DATA": data, "TOKEN": webhook_token}).encode()

        def send() -> bool:
            url = app.config["WEBHOOK_URL"]
            if not url:
                return False
            code, _ = http(urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST"))
            with lock:
                order["webhooks"].append({"status": asked["status"], "http": code})
            return 200 <= code < 300

        deliver_with_retries(send)
        return jsonify(ok=True, data=data)

    @app.get("/sim/orders")
    def listing():
        with lock:
            return jsonify(list(orders.values()))

    return app
