"""A VNPay 2.1.0 sandbox stand-in: a checkout page where a person pays, cancels or fails.

`GET /paymentv2/vpcpay.html?vnp_...` checks the merchant's signature and shows the order;
`POST /paymentv2/complete` settles it, sends the signed IPN server-to-server to the
merchant's IPN URL (retried until it answers RspCode 00 or 02, like VNPay) and then sends
the browser to `vnp_ReturnUrl`. `GET /sim/transactions` lists what happened (for tests).
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.request
from datetime import datetime, timezone
from urllib.parse import urlencode

from flask import Flask, abort, jsonify, redirect, render_template_string, request

from plugins.gateways import vnpay
from plugins.simulators import deliver_with_retries, http

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
    lock = threading.Lock()
    app.extensions["vnpay_sim"] = transactions

    def send_ipn(params: dict[str, str], record: dict) -> bool:
        url = app.config["IPN_URL"]
        if not url:
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
        deliver_with_retries(lambda: send_ipn(result, record))
        return redirect(f"{form['vnp_ReturnUrl']}?{urlencode(result)}", code=302)

    @app.get("/sim/transactions")
    def listing():
        with lock:
            return jsonify(transactions)

    return app
