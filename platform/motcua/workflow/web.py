"""Blueprint `workflow`: what outside parties call back, and the development outbox.

- `POST /thanh-toan/<code>/vnpay`: the citizen's "pay" button -> signed redirect to VNPay.
- `GET /thanh-toan/vnpay/ipn`: VNPay's server-to-server IPN, the only thing that marks paid.
- `GET /thanh-toan/vnpay/return`: where the browser comes back; shows, never records.
- `POST /buu-chinh/callback`: the carrier's signed status callbacks.
- `GET /dev/outbox`: messages that would have been sent (only with DEMO or TESTING).
Server-to-server endpoints are CSRF-exempt: their signature is their proof.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request

from motcua.i18n import money
from motcua.public_url import external_url
from motcua.services import services
from motcua.workflow.actions import ActionNotAllowed
from motcua.workflow import notes
from motcua.workflow.outbox import for_display, outbox_for
from plugins.carriers import vnpost
from plugins.gateways import vnpay, vnpay_responses

log = logging.getLogger(__name__)
bp = Blueprint("workflow", __name__)

PAYMENTS = "payments"
CONFIRMED = "payment_ipn"


@bp.app_template_global("amount_due")
def _amount_due(dossier: Any) -> int:
    from plugins.payment import amount_due

    return amount_due(dossier)


@bp.app_template_filter("wf_vnd")
def wf_vnd(value: Any) -> str:
    return money(int(value or 0))


def merchant() -> vnpay.Merchant | None:
    config = current_app.config
    if not (config.get("VNPAY_PAY_URL") and config.get("VNPAY_TMN_CODE") and config.get("VNPAY_HASH_SECRET")):
        return None
    return vnpay.Merchant(config["VNPAY_TMN_CODE"], config["VNPAY_HASH_SECRET"], config["VNPAY_PAY_URL"])


# --- payment ---------------------------------------------------------------------------------


@bp.post("/thanh-toan/<code>/vnpay")
def payment_start(code: str):
    from plugins.payment import amount_due, check_payment_token
    from motcua.dossier import Status

    if check_payment_token(request.form.get("token", "")) != code:
        abort(403)
    dossier = services().store.dossiers.get(code)
    if dossier is None:
        abort(404)
    due = amount_due(dossier)  # the rest, when a supplement's answers raised a fee partly paid
    if dossier.status != Status.PAYMENT_REQUESTED or due <= 0:
        return render_template("workflow/payment_return.html", outcome="not_due", dossier=dossier), 409
    gateway = merchant()
    if gateway is None:
        return render_template("workflow/payment_return.html", outcome="unavailable", dossier=dossier), 503
    now = datetime.now(timezone.utc)
    txn_ref = f"{now:%y%m%d%H%M%S}{secrets.token_hex(4).upper()}"
    services().store.records(PAYMENTS).insert_new(txn_ref, {
        "code": code, "amount": due, "status": "pending", "gateway": "vnpay", "created_at": now.isoformat(),
    })
    url = vnpay.payment_url(
        gateway, txn_ref=txn_ref, amount_vnd=due,
        order_info=f"Thanh toan phi le phi ho so {code}", return_url=external_url("workflow.vnpay_return"),
        ip_addr=request.remote_addr or "127.0.0.1", at=now, locale="en" if request.args.get("lang") == "en" else "vn",
    )
    return redirect(url, code=303)


def confirm_ipn(params: dict[str, str]) -> dict[str, str]:
    """Check an IPN and record it once; the reply VNPay expects, as a dict."""
    gateway = merchant()
    if gateway is None:
        return vnpay.reply(vnpay.OTHER)
    refused = vnpay.ipn_problem(params, gateway)  # signature, our terminal, command/currency
    if refused:
        return vnpay.reply(refused)
    store = services().store
    ref = params.get("vnp_TxnRef", "")
    order = store.records(PAYMENTS).get(ref) if ref else None
    if order is None:
        return vnpay.reply(vnpay.NOT_FOUND)
    try:
        amount = int(params.get("vnp_Amount", ""))
    except ValueError:
        return vnpay.reply(vnpay.WRONG_AMOUNT)
    if amount != order["amount"] * 100:
        return vnpay.reply(vnpay.WRONG_AMOUNT)
    ok = vnpay.succeeded(params)
    if not store.records(CONFIRMED).insert_new(ref, {"params": params, "ok": ok, "at": datetime.now(timezone.utc).isoformat()}):
        return vnpay.reply(vnpay.ALREADY_CONFIRMED)
    data = {"amount": order["amount"], "method": "vnpay", "txn_ref": ref,
            "transaction_no": params.get("vnp_TransactionNo"), "bank": params.get("vnp_BankCode")}
    engine = services().engine
    try:
        if ok:
            paid = {"vi": "Đã thanh toán trực tuyến {amount} qua VNPay, mã giao dịch {txn}.",
                    "en": "{amount} paid online through VNPay, transaction {txn}."}
            values = {"amount": notes.money(order["amount"]), "txn": params.get("vnp_TransactionNo") or ""}
            try:
                engine.signal(order["code"], actor="gateway:vnpay", move="pay", note=notes.message(paid, **values), data=data)
            except ActionNotAllowed:
                late = {lang: text + {"vi": " Hồ sơ không còn chờ thanh toán: cần đối soát, hoàn tiền nếu cần.",
                                      "en": " The dossier was no longer awaiting payment: reconcile, refund if needed."}[lang]
                        for lang, text in paid.items()}
                engine.signal(order["code"], actor="gateway:vnpay", kind="paid", note=notes.message(late, **values), data=data)
        else:
            code = params.get("vnp_ResponseCode")
            engine.signal(order["code"], actor="gateway:vnpay", kind="payment_failed",
                          note=vnpay_responses.sentence(code), data={**data, "response_code": code})
    except Exception:
        log.exception("IPN %s: could not record on dossier %s", ref, order["code"])
        store.records(CONFIRMED).delete(ref)  # let the gateway's retry try again
        return vnpay.reply(vnpay.OTHER)
    store.records(PAYMENTS).put(ref, {**order, "status": "paid" if ok else "failed"})
    return vnpay.reply(vnpay.OK)


@bp.get("/thanh-toan/vnpay/ipn")
def vnpay_ipn():
    return jsonify(confirm_ipn(request.args.to_dict()))


@bp.get("/thanh-toan/vnpay/return")
def vnpay_return():
    params = request.args.to_dict()
    gateway = merchant()
    if gateway is None or not vnpay.verify(params, gateway.secret):
        return render_template("workflow/payment_return.html", outcome="invalid", dossier=None), 400
    order = services().store.records(PAYMENTS).get(params.get("vnp_TxnRef", ""))
    if order is None:
        return render_template("workflow/payment_return.html", outcome="invalid", dossier=None), 404
    dossier = services().store.dossiers.get(order["code"])
    # The page reflects what the IPN recorded; the browser's word changes nothing.
    if order["status"] == "paid":
        outcome = "paid"
    elif order["status"] == "failed" or not vnpay.succeeded(params):
        outcome = "failed"
    else:
        outcome = "pending"
    reason = vnpay_responses.sentence(params.get("vnp_ResponseCode")) if outcome == "failed" else None
    return render_template("workflow/payment_return.html", outcome=outcome, dossier=dossier, amount=order["amount"],
                           reason=reason)


# --- postal ----------------------------------------------------------------------------------


@bp.post("/buu-chinh/callback")
def postal_callback():
    secret = current_app.config.get("POSTAL_CALLBACK_SECRET")
    body = request.get_data()
    if not secret or not vnpost.verify(body, request.headers.get("X-Signature"), secret):
        return jsonify(ok=False, error="bad signature"), 401
    try:
        message = json.loads(body)
        event_id, item, status = str(message["event_id"]), str(message["item_number"]), str(message["status"])
    except (ValueError, KeyError, TypeError):
        return jsonify(ok=False, error="malformed body"), 400
    cod_collected = vnpost.collected(message)
    if status not in vnpost.STATUSES or cod_collected is None:
        return jsonify(ok=False, error="unknown status or bad amount"), 400
    store = services().store
    shipment = store.records("shipments").get(item)
    if shipment is None:
        return jsonify(ok=False, error="unknown item"), 404
    if not store.records("postal_events").insert_new(event_id, {"item": item, "status": status}):
        return jsonify(ok=True, duplicate=True)
    current = shipment.get("status", "booked")
    if current in vnpost.TERMINAL or vnpost.rank(status) <= vnpost.rank(current):
        return jsonify(ok=True, ignored="out of order")
    try:
        services().engine.signal(
            shipment["code"], actor="carrier:vnpost", kind="postal_status",
            note=notes.message({"vi": "Bưu gửi {item}: {status}.", "en": "Postal item {item}: {status}."},
                               item=item, status=notes.words(vnpost.STATUS_LABELS[status])),
            data={"item_number": item, "kind": shipment["kind"], "status": status, "carrier_at": message.get("at"),
                  **({"cod_collected": cod_collected} if status == "delivered" else {})},
        )
    except Exception:
        log.exception("postal callback %s: could not record", event_id)
        store.records("postal_events").delete(event_id)
        return jsonify(ok=False, error="try again"), 503
    store.records("shipments").put(item, {**shipment, "status": status})
    return jsonify(ok=True)


# --- development outbox ----------------------------------------------------------------------


@bp.get("/dev/outbox")
def dev_outbox():
    if not (current_app.config.get("DEMO") or current_app.config.get("TESTING")):
        abort(404)
    outbox = outbox_for(services(), current_app.config)
    return render_template("workflow/outbox.html", messages=for_display(outbox.messages(request.args.get("code"))))


@bp.record_once
def _exempt_callbacks(state: Any) -> None:
    from motcua.app import csrf

    csrf.exempt(postal_callback)
    csrf.exempt(vnpay_ipn)
