"""The VNPay IPN must name our terminal: a correct signature alone is not ours to honour.

Two agencies can share a signing scheme (or, by mistake, a secret); a callback the gateway
signed for the other agency's terminal must be refused with VNPay's error reply and change
nothing. Also the IPN reply codes, in VNPay's order of checks.
"""

from __future__ import annotations

import urllib.request
from urllib.parse import parse_qs, urlencode, urlparse

from conftest import LiveServer
from fixtures.workflow_kit import file_dossier, make_spec, wait_for
from motcua.dossier import Status
from motcua_plugins.gateways import vnpay
from motcua_plugins.simulators import vnpay as vnpay_sim
from tests.test_payment import PAY_FIRST, SECRET, citizen_chooses, gateway, start_payment  # noqa: F401 (fixture)


def _ipn(app, params: dict) -> dict:
    return app.test_client().get("/thanh-toan/vnpay/ipn?" + urlencode(params)).get_json()


def _order(app, code: str) -> dict:
    url = start_payment(app, None, code)
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def _signed(params: dict) -> dict:
    return {**params, "vnp_SecureHash": vnpay.sign(params, SECRET), "vnp_SecureHashType": "HmacSHA512"}


def test_ipn_for_another_terminal_is_refused_and_changes_nothing(app, gateway) -> None:  # noqa: F811
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(PAY_FIRST), fee=16000)
    order = _order(app, code)
    base = {"vnp_TmnCode": "MOTCUA01", "vnp_Amount": order["vnp_Amount"], "vnp_TxnRef": order["vnp_TxnRef"],
            "vnp_ResponseCode": "00", "vnp_TransactionStatus": "00", "vnp_TransactionNo": "14000001"}
    before = store.dossiers.get(code)
    foreign = _signed({**base, "vnp_TmnCode": "AGENCY02"})
    assert vnpay.verify(foreign, SECRET)  # the signature is right: only the terminal is wrong
    assert _ipn(app, foreign) == {"RspCode": "99", "Message": "Unknown error"}
    no_terminal = _signed({k: v for k, v in base.items() if k != "vnp_TmnCode"})
    assert _ipn(app, no_terminal)["RspCode"] == "99"
    after = store.dossiers.get(code)
    assert after.events == before.events and after.status == Status.PAYMENT_REQUESTED
    assert store.records("payment_ipn").get(order["vnp_TxnRef"]) is None  # not even recorded as seen
    assert store.records("payments").get(order["vnp_TxnRef"])["status"] == "pending"
    # the same message for our own terminal still goes through: the refusal was the terminal
    assert _ipn(app, _signed(base))["RspCode"] == "00"
    assert store.dossiers.get(code).status == Status.NEW


def test_command_and_currency_when_carried_must_match(app, gateway) -> None:  # noqa: F811
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(PAY_FIRST), fee=16000)
    order = _order(app, code)
    base = {"vnp_TmnCode": "MOTCUA01", "vnp_Amount": order["vnp_Amount"], "vnp_TxnRef": order["vnp_TxnRef"],
            "vnp_ResponseCode": "00", "vnp_TransactionStatus": "00"}
    before = store.dossiers.get(code).events
    assert _ipn(app, _signed({**base, "vnp_CurrCode": "USD"}))["RspCode"] == "99"
    assert _ipn(app, _signed({**base, "vnp_Command": "refund"}))["RspCode"] == "99"
    assert store.dossiers.get(code).events == before
    assert _ipn(app, _signed({**base, "vnp_Command": "pay", "vnp_CurrCode": "VND"}))["RspCode"] == "00"


def test_reply_codes_follow_vnpays_ipn_table(app, gateway) -> None:  # noqa: F811
    code = file_dossier(app, make_spec(PAY_FIRST), fee=16000)
    order = _order(app, code)
    base = {"vnp_TmnCode": "MOTCUA01", "vnp_Amount": order["vnp_Amount"], "vnp_TxnRef": order["vnp_TxnRef"],
            "vnp_ResponseCode": "00", "vnp_TransactionStatus": "00"}
    assert _ipn(app, {**base, "vnp_SecureHash": "00" * 64}) == {"RspCode": "97", "Message": "Invalid Checksum"}
    assert _ipn(app, _signed({**base, "vnp_TxnRef": "000000000000NOPE"})) == {"RspCode": "01", "Message": "Order not found"}
    assert _ipn(app, _signed({**base, "vnp_Amount": "1"})) == {"RspCode": "04", "Message": "Invalid amount"}
    assert _ipn(app, _signed({**base, "vnp_Amount": "abc"}))["RspCode"] == "04"
    assert _ipn(app, _signed(base)) == {"RspCode": "00", "Message": "Confirm Success"}
    assert _ipn(app, _signed(base)) == {"RspCode": "02", "Message": "Order already confirmed"}
    app.config["VNPAY_HASH_SECRET"] = ""  # gateway not configured: nothing can be checked
    assert _ipn(app, _signed(base)) == {"RspCode": "99", "Message": "Unknown error"}


def test_a_second_agencys_gateway_callbacks_reach_us_and_are_refused(app, gateway, live_server) -> None:  # noqa: F811
    """End to end: another agency's terminal, same signing secret, its gateway's IPN sent to
    our URL (misconfigured or replayed) — retried by the gateway, refused every time."""
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(PAY_FIRST), fee=16000)
    url = start_payment(app, live_server, code)
    other = vnpay_sim.create_app(tmn_code="AGENCY02", secret=SECRET, ipn_url=live_server.url + "/thanh-toan/vnpay/ipn")
    with LiveServer(other) as server:
        params = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
        params = {k: v for k, v in params.items() if k not in vnpay.SIGNATURE_KEYS}
        params["vnp_TmnCode"] = "AGENCY02"  # the other agency's order for the same reference and amount
        foreign_url = f"{server.url}/paymentv2/vpcpay.html?{vnpay.canonical(params)}&vnp_SecureHash={vnpay.sign(params, SECRET)}"
        citizen_chooses(foreign_url, "pay")
        record = wait_for(lambda: (r := other.extensions["vnpay_sim"]) and len(r[0]["ipn_replies"]) >= 2 and r[0])
    assert set(record["ipn_replies"]) == {"99"}
    assert store.dossiers.get(code).status == Status.PAYMENT_REQUESTED
    assert not [e for e in store.dossiers.get(code).events if e.kind == "paid"]
