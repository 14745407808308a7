"""A VNPay 2.1.0 sandbox stand-in: a checkout page where a person pays, cancels or fails.

`GET /paymentv2/vpcpay.html?vnp_...` checks the merchant's signature and shows the order;
`POST /paymentv2/complete` settles it, sends the signed IPN server-to-server to the
merchant's IPN URL (retried until it answers RspCode 00 or 02, like VNPay) and then sends
the browser to `vnp_ReturnUrl`. `GET /sim/transactions` lists what happened (for tests).

The merchant API, `POST /merchant_webapi/api/transaction` (JSON, "|"-joined HMAC-SHA512
checksums both ways): `querydr` answers an order's status (`vnp_TransactionStatus` 00 paid,
01 not finished, 02 failed; `vnp_ResponseCode` 91 for an order it never saw), `refund` gives
a paid order's money back, full (`02`) or partial (`03`), never more than was paid; the same
`vnp_RequestId` asked again gets its first answer back, so a retry never refunds twice.
`POST /sim/ipn {"lost": true}` makes later payments send no IPN (the lost notification
reconciliation is for); `GET /sim/refunds` lists the refunds. `/sim/hold` makes the next
refunds slow (motcua_plugins.simulators.hold): the money is given back at once, the answer
waits, so a test can kill the worker after the refund and before the portal heard of it.
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.request
from datetime import datetime, timezone
from urllib.parse import urlencode

from flask import Flask, abort, jsonify, redirect, render_template_string, request

from motcua_plugins.gateways import vnpay
from motcua_plugins.simulators import deliver_with_retries, http
from motcua_plugins.simulators.hold import Holds, add_hold_routes

OUTCOMES = {"pay": ("00", "00"), "cancel": ("24", "02"), "fail": ("51", "02")}

PAGE = """<!doctype html><html lang="vi"><meta charset="utf-8"><title>VNPay (mô phỏng)</title>
<h1>Cổng thanh toán VNPay – môi trường mô phỏng</h1>
<p>Đơn vị: {{ p.vnp_TmnCode }} – Mã giao dịch: <span id="txn">{{ p.vnp_TxnRef }}</span></p>
<p>Nội dung: {{ p.vnp_OrderInfo }}</p>
<p>Số tiền: <strong id="amount">{{ "{:,}".format(p.vnp_Amount|int // 100).replace(",", ".") }} ₫</strong></p>
<form method="post" action="/paymentv2/complete">
{% for k, v in p.items() %}<input type="hidden" name="{{ k }}" value="{{ v }}">{% endfor %}
<button name="outcome" value="pay">Thanh toán</button>
<button name="outcome" value="cancel">Hủy giao dịch</button>
<button name="outcome" value="fail">Giao dịch lỗi</button>
</form></html>"""


def create_app(tmn_code: str = "MOTCUA01", secret: str = "SIMSECRET", ipn_url: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(TMN_CODE=tmn_code, HASH_SECRET=secret, IPN_URL=ipn_url)
    transactions: list[dict] = []
    seen: dict[str, dict] = {}  # TxnRef -> the pay request as the checkout page got it
    refunds: list[dict] = []
    answered: dict[str, dict] = {}  # vnp_RequestId -> the answer given (a retry gets it again)
    lock = threading.Lock()
    holds = Holds()
    add_hold_routes(app, holds)
    app.extensions["vnpay_sim"] = transactions
    app.config.setdefault("LOSE_IPN", False)

    def send_ipn(params: dict[str, str], record: dict) -> bool:
        url = app.config["IPN_URL"]
        if not url or app.config["LOSE_IPN"]:
            return False
        status, body = http(urllib.request.Request(f"{url}?{urlencode(params)}"))
        try:
            code = json.loads(body).get("RspCode") if status == 200 else None
        except ValueError:
            code = None
        with lock:
            record["ipn_replies"].append(code)
        return code in ("00", "02")

    @app.get("/paymentv2/vpcpay.html")
    def checkout():
        params = request.args.to_dict()
        if params.get("vnp_TmnCode") != app.config["TMN_CODE"] or not vnpay.verify(params, app.config["HASH_SECRET"]):
            return "Sai chữ ký (Invalid signature)", 400
        with lock:
            seen.setdefault(params["vnp_TxnRef"], params)
        return render_template_string(PAGE, p=params)

    @app.post("/paymentv2/complete")
    def complete():
        form = request.form.to_dict()
        outcome = form.pop("outcome", "fail")
        if outcome not in OUTCOMES or not vnpay.verify(form, app.config["HASH_SECRET"]):
            abort(400)
        response_code, txn_status = OUTCOMES[outcome]
        result = {
            "vnp_TmnCode": form["vnp_TmnCode"],
            "vnp_Amount": form["vnp_Amount"],
            "vnp_BankCode": "NCB",
            "vnp_BankTranNo": f"VNP{secrets.randbelow(10**8):08d}" if outcome == "pay" else "",
            "vnp_CardType": "ATM",
            "vnp_OrderInfo": form["vnp_OrderInfo"],
            "vnp_PayDate": vnpay.timestamp(datetime.now(timezone.utc)),
            "vnp_ResponseCode": response_code,
            "vnp_TransactionNo": str(14000000 + secrets.randbelow(10**6)),
            "vnp_TransactionStatus": txn_status,
            "vnp_TxnRef": form["vnp_TxnRef"],
        }
        result = {k: v for k, v in result.items() if v != ""}
        result["vnp_SecureHashType"] = "HmacSHA512"
        result["vnp_SecureHash"] = vnpay.sign(result, app.config["HASH_SECRET"])
        record = {"params": result, "outcome": outcome, "ipn_replies": []}
        with lock:
            transactions.append(record)
        if app.config["LOSE_IPN"]:
            record["ipn_replies"].append("lost")
        else:
            deliver_with_retries(lambda: send_ipn(result, record))
        return redirect(f"{form['vnp_ReturnUrl']}?{urlencode(result)}", code=302)

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

    def answer(body: dict, names: tuple[str, ...], **fields: str) -> dict:
        out = {"vnp_ResponseId": secrets.token_hex(8), "vnp_Command": body.get("vnp_Command", ""),
               "vnp_TmnCode": app.config["TMN_CODE"], "vnp_TxnRef": body.get("vnp_TxnRef", ""), **fields}
        out["vnp_SecureHash"] = vnpay.sign_fields(out, names, app.config["HASH_SECRET"])
        return out

    def paid_record(ref: str) -> dict | None:
        return next((tx for tx in reversed(transactions) if tx["params"]["vnp_TxnRef"] == ref), None)

    @app.post("/merchant_webapi/api/transaction")
    def merchant_api():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return jsonify(answer({}, vnpay.QUERY_ANSWER_FIELDS, vnp_ResponseCode="03", vnp_Message="Invalid data format"))
        command = body.get("vnp_Command")
        names = {"querydr": (vnpay.QUERY_FIELDS, vnpay.QUERY_ANSWER_FIELDS),
                 "refund": (vnpay.REFUND_FIELDS, vnpay.REFUND_ANSWER_FIELDS)}.get(str(command))
        if names is None:
            return jsonify(answer(body, vnpay.QUERY_ANSWER_FIELDS, vnp_ResponseCode="03", vnp_Message="Invalid command"))
        if not vnpay.verify_fields(body, names[0], app.config["HASH_SECRET"]):
            return jsonify(answer(body, names[1], vnp_ResponseCode="97", vnp_Message="Invalid Checksum"))
        if body.get("vnp_TmnCode") != app.config["TMN_CODE"]:
            return jsonify(answer(body, names[1], vnp_ResponseCode="02", vnp_Message="Invalid TmnCode"))
        with lock:
            first = answered.get(str(body.get("vnp_RequestId")))
            if first is not None:
                return jsonify(first)
            result = querydr(body) if command == "querydr" else refund(body)
            answered[str(body.get("vnp_RequestId"))] = result
        if command == "refund":
            holds.wait()  # refunded; a slow bank answers late (or, held for good, after the limit)
        return jsonify(result)

    def querydr(body: dict) -> dict:
        ref = str(body.get("vnp_TxnRef", ""))
        names = vnpay.QUERY_ANSWER_FIELDS
        record = paid_record(ref)
        if record is None and ref not in seen:
            return answer(body, names, vnp_ResponseCode=vnpay.API_NOT_FOUND, vnp_Message="Transaction not found")
        if record is None:  # the payer opened the checkout page and never finished
            return answer(body, names, vnp_ResponseCode="00", vnp_Message="QueryDR Success",
                          vnp_Amount=seen[ref]["vnp_Amount"], vnp_TransactionStatus=vnpay.TXN_PENDING,
                          vnp_TransactionType="01", vnp_OrderInfo=seen[ref].get("vnp_OrderInfo", ""))
        p = record["params"]
        return answer(body, names, vnp_ResponseCode="00", vnp_Message="QueryDR Success", vnp_Amount=p["vnp_Amount"],
                      vnp_BankCode=p.get("vnp_BankCode", ""), vnp_PayDate=p.get("vnp_PayDate", ""),
                      vnp_TransactionNo=p["vnp_TransactionNo"], vnp_TransactionType="01",
                      vnp_TransactionStatus=p["vnp_TransactionStatus"], vnp_OrderInfo=p.get("vnp_OrderInfo", ""))

    def refund(body: dict) -> dict:
        names = vnpay.REFUND_ANSWER_FIELDS
        record = paid_record(str(body.get("vnp_TxnRef", "")))
        if record is None:
            return answer(body, names, vnp_ResponseCode=vnpay.API_NOT_FOUND, vnp_Message="Transaction not found")
        p = record["params"]
        if p["vnp_TransactionStatus"] != "00" or body.get("vnp_TransactionNo") != p["vnp_TransactionNo"]:
            return answer(body, names, vnp_ResponseCode="95", vnp_Message="Transaction is not eligible for refund")
        try:
            amount = int(str(body.get("vnp_Amount")))
        except ValueError:
            amount = -1
        already = sum(r["amount"] for r in refunds if r["txn_ref"] == p["vnp_TxnRef"])
        kind = body.get("vnp_TransactionType")
        if amount <= 0 or amount + already > int(p["vnp_Amount"]) or (kind == vnpay.FULL_REFUND and amount != int(p["vnp_Amount"])) \
                or kind not in (vnpay.FULL_REFUND, vnpay.PARTIAL_REFUND):
            return answer(body, names, vnp_ResponseCode="03", vnp_Message="Invalid amount")
        number = str(15000000 + secrets.randbelow(10**6))
        refunds.append({"txn_ref": p["vnp_TxnRef"], "amount": amount, "request_id": body.get("vnp_RequestId"),
                        "transaction_no": number, "by": body.get("vnp_CreateBy")})
        return answer(body, names, vnp_ResponseCode="00", vnp_Message="Refund success", vnp_Amount=str(amount),
                      vnp_BankCode=p.get("vnp_BankCode", ""), vnp_PayDate=vnpay.timestamp(datetime.now(timezone.utc)),
                      vnp_TransactionNo=number, vnp_TransactionType=kind, vnp_TransactionStatus="05",
                      vnp_OrderInfo=str(body.get("vnp_OrderInfo", "")))

    return app
