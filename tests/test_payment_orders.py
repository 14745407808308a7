"""One open payment order per dossier amount due, and callbacks of stale orders (issue 10,
finding 8): a later failed IPN of a superseded order never shows "Thanh toán không thành
công" after "Đã thanh toán"; a superseded order that really was paid is recorded (money taken
is never lost); forged and replayed callbacks change nothing. VNPay IPNs signed with the
merchant's secret, as the gateway sends them, through the real app."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from fixtures.workflow_kit import file_dossier, kinds, make_spec
from motcua.dossier import Status
from motcua.payments import OPEN, PAYMENTS, amount_due, payment_token
from motcua.web.labels import citizen_events
from motcua_plugins.gateways import vnpay

SECRET = "ORDERSECRET"
PAY_FIRST = [{"name": "payment", "config": {"mode": "online"}}, "review"]


@pytest.fixture
def site(app):
    app.config.update(VNPAY_PAY_URL="https://sandbox.vnpayment.vn/paymentv2/vpcpay.html", VNPAY_TMN_CODE="MOTCUA01",
                      VNPAY_HASH_SECRET=SECRET)
    return app


def press_pay(app, code: str) -> str:
    """The citizen presses "pay" (again): a new order; its TxnRef."""
    with app.test_request_context():
        token = payment_token(code, "vnpay")
    app.config["WTF_CSRF_ENABLED"] = False
    response = app.test_client().post(f"/plugins/gateways/vnpay/start/{code}", data={"token": token})
    app.config["WTF_CSRF_ENABLED"] = True
    assert response.status_code == 303, response.data
    return parse_qs(urlparse(response.headers["Location"]).query)["vnp_TxnRef"][0]


def ipn(app, ref: str, *, ok: bool, amount: int = 16000, secret: str = SECRET) -> str:
    params = {"vnp_TmnCode": "MOTCUA01", "vnp_Amount": str(amount * 100), "vnp_TxnRef": ref,
              "vnp_ResponseCode": "00" if ok else "51", "vnp_TransactionStatus": "00" if ok else "02",
              "vnp_TransactionNo": f"T{ref[-4:]}", "vnp_BankCode": "NCB"}
    params["vnp_SecureHash"] = vnpay.sign(params, secret)
    return app.test_client().get("/plugins/gateways/vnpay/webhook?" + urlencode(params)).get_json()["RspCode"]


def return_page(app, ref: str, *, ok: bool) -> str:
    params = {"vnp_TmnCode": "MOTCUA01", "vnp_Amount": "1600000", "vnp_TxnRef": ref,
              "vnp_ResponseCode": "00" if ok else "51", "vnp_TransactionStatus": "00" if ok else "02"}
    params["vnp_SecureHash"] = vnpay.sign(params, SECRET)
    return app.test_client().get("/plugins/gateways/vnpay/return?" + urlencode(params)).get_data(as_text=True)


def citizen_sees(app, code: str) -> tuple[list[str], str]:
    """The citizen's timeline (kinds) and payment panel."""
    d = app.extensions["motcua"].store.dossiers.get(code)
    with app.test_request_context():
        panel = "".join(app.extensions["motcua"].engine.citizen_panels(d))
    return [e.kind for e in citizen_events(d.events)], panel


def test_a_new_order_supersedes_the_open_one(site) -> None:
    store = site.extensions["motcua"].store
    code = file_dossier(site, make_spec(PAY_FIRST), fee=16000)
    first, second = press_pay(site, code), press_pay(site, code)
    assert first != second
    assert store.records(OPEN).get(code)["ref"] == second
    assert store.records(PAYMENTS).get(first)["superseded_by"] == second
    assert "superseded_by" not in store.records(PAYMENTS).get(second)


def test_failed_ipn_of_a_stale_order_after_payment_is_not_shown_to_the_citizen(site) -> None:
    store = site.extensions["motcua"].store
    code = file_dossier(site, make_spec(PAY_FIRST), fee=16000)
    old, new = press_pay(site, code), press_pay(site, code)
    assert ipn(site, new, ok=True) == "00"
    assert ipn(site, old, ok=False) == "00"  # acknowledged, so the gateway stops
    d = store.dossiers.get(code)
    assert d.status == Status.NEW and amount_due(d) == 0
    assert "payment_failed" not in kinds(d) and kinds(d)[-1] == "payment_failed_stale"
    timeline, panel = citizen_sees(site, code)
    assert "payment_failed_stale" not in timeline and timeline.count("paid") == 1
    assert "không thành công" not in panel and "Đã thanh toán" in panel
    # the browser coming back from the old order's page is not told "failed" either
    page = return_page(site, old, ok=False)
    assert "Thanh toán không thành công" not in page and "không có khoản phí nào chờ thanh toán" in page
    # replays of both change nothing
    before = store.dossiers.get(code).events
    assert ipn(site, old, ok=False) == "02" and ipn(site, new, ok=True) == "02" and ipn(site, old, ok=True) == "02"
    assert store.dossiers.get(code).events == before


def test_failure_of_the_newer_order_after_the_older_one_was_paid_is_stale_too(site) -> None:
    store = site.extensions["motcua"].store
    code = file_dossier(site, make_spec(PAY_FIRST), fee=16000)
    old, new = press_pay(site, code), press_pay(site, code)
    assert ipn(site, old, ok=True) == "00"  # paid in the first tab: recorded, never lost
    d = store.dossiers.get(code)
    assert d.status == Status.NEW and [e.data["txn_ref"] for e in d.events if e.kind == "paid"] == [old]
    assert ipn(site, new, ok=False) == "00"  # the second tab times out
    timeline, panel = citizen_sees(site, code)
    assert "payment_failed" not in timeline and "không thành công" not in panel
    assert "payment_failed_stale" in kinds(store.dossiers.get(code))


def test_a_superseded_order_that_was_paid_as_well_is_recorded_for_a_refund(site) -> None:
    store = site.extensions["motcua"].store
    code = file_dossier(site, make_spec(PAY_FIRST), fee=16000)
    old, new = press_pay(site, code), press_pay(site, code)
    assert ipn(site, new, ok=True) == "00"
    assert ipn(site, old, ok=True) == "00"  # paid twice: the money is recorded, not lost
    d = store.dossiers.get(code)
    surplus = [e for e in d.events if e.kind == "payment_surplus"]
    assert len(surplus) == 1 and surplus[0].data["refund_due"] == 16000 and surplus[0].data["txn_ref"] == old
    assert [e.kind for e in d.events].count("paid") == 1 and amount_due(d) == 0 and d.status == Status.NEW
    assert "hoàn lại" in surplus[0].note
    assert store.records(PAYMENTS).get(old)["status"] == "paid"
    assert ipn(site, old, ok=True) == "02"  # replayed: recorded once
    assert [e.kind for e in store.dossiers.get(code).events].count("payment_surplus") == 1


def test_failure_of_the_current_order_is_still_shown(site) -> None:
    store = site.extensions["motcua"].store
    code = file_dossier(site, make_spec(PAY_FIRST), fee=16000)
    old, new = press_pay(site, code), press_pay(site, code)
    assert ipn(site, old, ok=False) == "00"  # the superseded one fails: staff only
    timeline, panel = citizen_sees(site, code)
    assert "payment_failed" not in timeline and "không thành công" not in panel
    assert ipn(site, new, ok=False) == "00"  # the one the citizen is paying fails: shown, with why
    timeline, panel = citizen_sees(site, code)
    assert "payment_failed" in timeline and "không đủ số dư" in panel
    assert "Thanh toán không thành công" in return_page(site, new, ok=False)
    assert store.dossiers.get(code).status == Status.PAYMENT_REQUESTED
    third = press_pay(site, code)  # and paying again works
    assert ipn(site, third, ok=True) == "00" and store.dossiers.get(code).status == Status.NEW


def test_forged_callbacks_for_stale_orders_change_nothing(site) -> None:
    store = site.extensions["motcua"].store
    code = file_dossier(site, make_spec(PAY_FIRST), fee=16000)
    old, new = press_pay(site, code), press_pay(site, code)
    assert ipn(site, new, ok=True) == "00"
    before = store.dossiers.get(code).events
    assert ipn(site, old, ok=False, secret="FORGED") == "97"
    assert ipn(site, old, ok=True, secret="FORGED") == "97"
    assert ipn(site, old, ok=True, amount=1) == "04"
    assert store.dossiers.get(code).events == before
    assert store.records(PAYMENTS).get(old)["status"] == "pending"
