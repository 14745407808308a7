"""A MoMo v3 sandbox stand-in (protocol in motcua_plugins.gateways.momo).

`POST /v2/gateway/api/create` checks the partner's signature and answers a `payUrl`;
`GET /pay?orderId=...` is the checkout page where a person pays, cancels or lets it fail;
`POST /pay/complete` settles: sends the signed IPN (JSON POST to `ipnUrl`, retried until the
merchant answers 204, like MoMo) and sends the browser to `redirectUrl` with the result.
`GET /sim/transactions` lists what happened (for tests); `POST /sim/ipn/<orderId>` sends an
order's IPN again as it was (a replay), or with `{"resultCode": n}` a later, different one.

`POST /v2/gateway/api/query` answers an order's result (1000 while the payer has not
finished, 42 for an order it never saw), `POST /v2/gateway/api/refund` gives a paid order's
money back (never more than was paid; the refund's `orderId` asked again gets its first
answer back, so a retry never refunds twice); both check the request's signature and sign
their answers. `POST /sim/ipn {"lost": true}` makes later payments send no IPN;
`GET /sim/refunds` lists the refunds.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.request
from urllib.parse import urlencode

from flask import Flask, abort, jsonify, redirect, render_template_string, request

from motcua_plugins.gateways import momo
from motcua_plugins.simulators import deliver_with_retries, http

OUTCOMES = {"pay": (0, "Thành công."), "cancel": (1006, "Giao dịch bị từ chối bởi người dùng."),
            "fail": (1001, "Giao dịch thanh toán thất bại do tài khoản người dùng không đủ tiền.")}

PAGE = """<!doctype html><html lang="vi"><meta charset="utf-8"><title>MoMo (mô phỏng)</title>
<h1>Ví MoMo – môi trường mô phỏng</h1>
<p>Đối tác: {{ o.partnerCode }} – Mã đơn: <span id="order">{{ o.orderId }}</span></p>
<p>Nội dung: {{ o.orderInfo }}</p>
<p>Số tiền: <strong id="amount">{{ "{:,}".format(o.amount).replace(",", ".") }} ₫</strong></p>
<form method="post" action="/pay/complete"><input type="hidden" name="orderId" value="{{ o.orderId }}">
<button name="outcome" value="pay">Xác nhận thanh toán</button>
<button name="outcome" value="cancel">Hủy</button>
<button name="outcome" value="fail">Giao dịch lỗi</button>
</form></html>"""


def create_app(partner_code: str = "MOMOSIM", access_key: str = "SIMACCESS", secret_key: str = "SIMSECRET") -> Flask:
    app = Flask(__name__)
    partner = momo.Partner("", partner_code, access_key, secret_key)
    orders: dict[str, dict] = {}
    transactions: list[dict] = []
    refunds: list[dict] = []
    answered: dict[str, dict] = {}  # refund orderId -> its first answer
    lock = threading.Lock()
    app.extensions["momo_sim"] = transactions
    app.config["LOSE_IPN"] = False

    def send_ipn(order: dict, result: dict, record: dict) -> bool:
        status, _ = http(urllib.request.Request(order["ipnUrl"], data=json.dumps(result).encode(), method="POST",
                                                headers={"Content-Type": "application/json"}))
        with lock:
            record["ipn_replies"].append(status)
        return status == 204

    def result_of(order: dict, code: int, message: str) -> dict:
        result = {"partnerCode": order["partnerCode"], "orderId": order["orderId"], "requestId": order["requestId"],
                  "amount": order["amount"], "orderInfo": order["orderInfo"], "orderType": "momo_wallet",
                  "transId": 4000000000 + secrets.randbelow(10**8), "resultCode": code, "message": message,
                  "payType": "qr", "responseTime": int(time.time() * 1000), "extraData": order.get("extraData", "")}
        result["signature"] = momo.sign(result, momo.RESULT_FIELDS, partner)
        return result

    @app.post("/v2/gateway/api/create")
    def create():
        body = request.get_json(silent=True) or {}
        if body.get("partnerCode") != partner_code or not momo.verify(body, momo.CREATE_FIELDS, partner):
            return jsonify(resultCode=11007, message="Chữ ký không hợp lệ (invalid signature)"), 400
        if not isinstance(body.get("amount"), int) or not 1000 <= body["amount"] <= 50_000_000:
            return jsonify(resultCode=22, message="Số tiền không hợp lệ"), 400
        with lock:
            if body["orderId"] in orders:
                return jsonify(resultCode=41, message="Trùng mã đơn hàng (orderId)"), 400
            orders[body["orderId"]] = dict(body)
        return jsonify(partnerCode=partner_code, orderId=body["orderId"], requestId=body["requestId"], amount=body["amount"],
                       responseTime=int(time.time() * 1000), message="Thành công.", resultCode=0,
                       payUrl=request.host_url.rstrip("/") + "/pay?" + urlencode({"orderId": body["orderId"]}))

    @app.get("/pay")
    def checkout():
        order = orders.get(request.args.get("orderId", ""))
        if order is None:
            abort(404)
        return render_template_string(PAGE, o=order)

    @app.post("/pay/complete")
    def complete():
        order = orders.get(request.form.get("orderId", ""))
        outcome = request.form.get("outcome", "fail")
        if order is None or outcome not in OUTCOMES:
            abort(400)
        result = result_of(order, *OUTCOMES[outcome])
        record = {"result": result, "outcome": outcome, "ipn_replies": []}
        with lock:
            transactions.append(record)
        if app.config["LOSE_IPN"]:
            record["ipn_replies"].append("lost")
        else:
            deliver_with_retries(lambda: send_ipn(order, result, record))
        return redirect(f"{order['redirectUrl']}?{urlencode(result)}", code=302)

    @app.post("/sim/ipn/<order_id>")
    def resend(order_id: str):
        order = orders.get(order_id)
        if order is None:
            abort(404)
        asked = request.get_json(silent=True) or {}
        if "resultCode" in asked:
            code = int(asked["resultCode"])
            result = result_of(order, code, "Thành công." if code == 0 else "Giao dịch thất bại.")
        else:
            result = next(tx["result"] for tx in reversed(transactions) if tx["result"]["orderId"] == order_id)
        record = {"result": result, "outcome": "resend", "ipn_replies": []}
        with lock:
            transactions.append(record)
        send_ipn(order, result, record)
        return jsonify(record)

    @app.get("/sim/transactions")
    def listing():
        with lock:
            return jsonify(transactions)

    @app.get("/sim/refunds")
    def refund_listing():
        with lock:
            return jsonify(refunds)

    @app.post("/sim/ipn")
    def ipn_setting():
        app.config["LOSE_IPN"] = bool((request.get_json(silent=True) or {}).get("lost"))
        return jsonify(lost=app.config["LOSE_IPN"])

    def signed(names: tuple[str, ...], **fields) -> dict:
        out = {"partnerCode": partner_code, "responseTime": int(time.time() * 1000), **fields}
        out["signature"] = momo.sign(out, names, partner)
        return out

    def settled(order_id: str) -> dict | None:
        return next((tx["result"] for tx in reversed(transactions) if tx["result"]["orderId"] == order_id), None)

    @app.post("/v2/gateway/api/query")
    def query():
        body = request.get_json(silent=True) or {}
        names = momo.QUERY_ANSWER_FIELDS
        if body.get("partnerCode") != partner_code or not momo.verify(body, momo.QUERY_FIELDS, partner):
            return jsonify(signed(names, orderId=body.get("orderId", ""), requestId=body.get("requestId", ""), amount=0,
                                  resultCode=11007, message="Chữ ký không hợp lệ", transId=0, payType="", extraData="")), 400
        with lock:
            order, result = orders.get(str(body.get("orderId"))), settled(str(body.get("orderId")))
        if order is None:
            return jsonify(signed(names, orderId=body.get("orderId", ""), requestId=body["requestId"], amount=0,
                                  resultCode=momo.ORDER_NOT_FOUND, message="Không tìm thấy giao dịch", transId=0, payType="",
                                  extraData=""))
        if result is None:
            return jsonify(signed(names, orderId=order["orderId"], requestId=body["requestId"], amount=order["amount"],
                                  resultCode=1000, message="Giao dịch đã được khởi tạo, chờ người dùng xác nhận thanh toán.",
                                  transId=0, payType="", extraData=order.get("extraData", "")))
        return jsonify(signed(names, orderId=order["orderId"], requestId=body["requestId"], amount=result["amount"],
                              resultCode=result["resultCode"], message=result["message"], transId=result["transId"],
                              payType=result["payType"], extraData=result["extraData"]))

    @app.post("/v2/gateway/api/refund")
    def refund():
        body = request.get_json(silent=True) or {}
        names = momo.REFUND_ANSWER_FIELDS

        def reply(code: int, message: str, trans: int = 0, status: int = 200):
            out = signed(names, orderId=body.get("orderId", ""), requestId=body.get("requestId", ""),
                         amount=body.get("amount", 0), resultCode=code, message=message, transId=trans)
            return out, status

        if body.get("partnerCode") != partner_code or not momo.verify(body, momo.REFUND_FIELDS, partner):
            out, status = reply(11007, "Chữ ký không hợp lệ", status=400)
            return jsonify(out), status
        with lock:
            first = answered.get(str(body.get("orderId")))
            if first is not None:
                return jsonify(first)
            paid = next((tx["result"] for tx in transactions
                         if tx["result"]["transId"] == body.get("transId") and tx["result"]["resultCode"] == 0), None)
            amount = body.get("amount")
            already = sum(r["amount"] for r in refunds if r["transId"] == body.get("transId"))
            if paid is None:
                out, status = reply(1088, "Giao dịch gốc không đủ điều kiện hoàn tiền")
            elif not isinstance(amount, int) or amount <= 0 or amount + already > paid["amount"]:
                out, status = reply(1081, "Số tiền hoàn vượt quá số tiền của giao dịch gốc")
            else:
                trans = 5000000000 + secrets.randbelow(10**8)
                refunds.append({"orderId": body["orderId"], "transId": body["transId"], "amount": amount,
                                "refund_trans": trans, "description": body.get("description", "")})
                out, status = reply(0, "Thành công.", trans)
            answered[str(body.get("orderId"))] = out
        return jsonify(out), status

    return app
