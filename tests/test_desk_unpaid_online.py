"""A level-4 dossier frozen in "payment requested" is no dead end for the desk: the clerk takes
the fee in cash at the counter (receipt number, amount checked against what is due) or refuses
the dossier unpaid. Either way the citizen's open online order is cancelled first, so a
gateway callback arriving later never pays twice (it is kept as money to refund).

Real app on a TinyDB folder, the desk officer through the back office's pages, VNPay IPNs
signed as the gateway signs them.
"""

from __future__ import annotations

import re

import pytest

from fixtures.workflow_kit import file_dossier, kinds, make_spec
from motcua import accounts
from motcua.dossier import Status
from motcua.payments import CANCELLED, OPEN, PAYMENTS, amount_due
from tests.portal_helpers import csrf
from tests.test_payment_orders import PAY_FIRST, ipn, press_pay, return_page, site  # noqa: F401 (site is a fixture)

from fixtures.workflow_kit import AGENCY  # noqa: E402  (the office the kit files with)
PASSWORD = "Mk-khong-doan-duoc-2026"


def staff(app, username: str, role: str):
    accounts.create_account(app.extensions["motcua"].store, username, f"Cán bộ {username}", [role], [AGENCY], PASSWORD)
    client = app.test_client()
    token = csrf(client.get("/staff/login").get_data(as_text=True))
    assert client.post("/staff/login", data={"username": username, "password": PASSWORD, "csrf_token": token}).status_code == 302
    return client


def act(client, code: str, action: str, **values: str) -> str:
    """Post an action as the dossier page's form does; the page it lands on."""
    page = client.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    return client.post(f"/staff/ho-so/{code}/xu-ly", data={"action": action, "csrf_token": csrf(page), **values},
                       follow_redirects=True).get_data(as_text=True)


def waiting_online(app) -> tuple[str, str]:
    """A level-4 dossier waiting for its online payment, the citizen having pressed "pay"."""
    code = file_dossier(app, make_spec(PAY_FIRST), fee=16000)
    assert app.extensions["motcua"].store.dossiers.get(code).status == Status.PAYMENT_REQUESTED
    return code, press_pay(app, code)


def test_the_desk_page_offers_cash_at_the_counter_and_refusal_with_the_amount_due(site):
    code, _ref = waiting_online(site)
    page = staff(site, "lan", "desk").get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert 'value="record_payment"' in page and 'value="refuse_unpaid"' in page
    assert "Số phải nộp: 16.000 ₫." in page
    specialist = staff(site, "minh", "specialist").get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert 'value="record_payment"' not in specialist and 'value="refuse_unpaid"' not in specialist


def test_cash_at_the_counter_pays_once_and_a_late_gateway_success_is_kept_for_refund(site):
    store = site.extensions["motcua"].store
    code, ref = waiting_online(site)
    desk = staff(site, "lan", "desk")

    wrong = act(desk, code, "record_payment", receipt_no="BL-1", amount="15.000")
    assert "Số tiền đã thu (15.000 ₫) khác số phí, lệ phí phải nộp (16.000 ₫)." in wrong
    garbage = act(desk, code, "record_payment", receipt_no="BL-1", amount="mười sáu nghìn")
    assert "Số tiền đã thu không hợp lệ" in garbage
    no_receipt = act(desk, code, "record_payment", receipt_no="", amount="16000")
    assert "Số biên lai thu" in no_receipt
    d = store.dossiers.get(code)
    assert d.status == Status.PAYMENT_REQUESTED and "paid" not in kinds(d)  # nothing half-done
    assert store.records(PAYMENTS).get(ref)["status"] == "pending"

    act(desk, code, "record_payment", receipt_no="BL-1", amount="16.000 ₫")
    d = store.dossiers.get(code)
    assert d.status == Status.NEW and amount_due(d) == 0  # back where the pause began
    paid = [e for e in d.events if e.kind == "paid"]
    assert len(paid) == 1 and paid[0].data["method"] == "desk" and paid[0].data["cancelled_order"] == ref
    assert store.records(PAYMENTS).get(ref)["status"] == CANCELLED and store.records(OPEN).get(code) is None

    # the citizen had paid on the gateway too; its IPN comes late: recorded for refund, not paid twice
    assert ipn(site, ref, ok=True) == "00"
    assert ipn(site, ref, ok=True) == "02"  # a replay changes nothing
    d = store.dossiers.get(code)
    assert kinds(d).count("paid") == 1 and amount_due(d) == 0
    surplus = [e for e in d.events if e.kind == "payment_surplus"]
    assert len(surplus) == 1 and surplus[0].data["refund_due"] == 16000
    assert "hủy" in return_page(site, ref, ok=True)  # the payer's page says the order was cancelled


def test_refusing_an_unpaid_dossier_needs_a_reason_and_closes_the_online_order(site):
    store = site.extensions["motcua"].store
    code, ref = waiting_online(site)
    desk = staff(site, "lan", "desk")
    assert "Cần nêu rõ lý do." in act(desk, code, "refuse_unpaid", reason=" ")
    assert store.dossiers.get(code).status == Status.PAYMENT_REQUESTED

    specialist = staff(site, "minh", "specialist")
    assert "dành cho" in act(specialist, code, "refuse_unpaid", reason="Quá hạn nộp phí")  # wrong role: says who may
    assert store.dossiers.get(code).status == Status.PAYMENT_REQUESTED

    act(desk, code, "refuse_unpaid", reason="Công dân không nộp lệ phí sau 15 ngày")
    d = store.dossiers.get(code)
    assert d.status == Status.REFUSED
    refused = next(e for e in d.events if e.kind == "refused")
    assert refused.note == "Công dân không nộp lệ phí sau 15 ngày" and refused.actor == "staff:lan"
    assert store.records(PAYMENTS).get(ref)["status"] == CANCELLED

    # a failure and a late success of the cancelled order: neither pays nor tells the citizen it failed
    assert ipn(site, ref, ok=True) == "00"
    d = store.dossiers.get(code)
    assert d.status == Status.REFUSED and "paid" not in kinds(d) and "payment_surplus" in kinds(d)
    # the pay button is gone and the start route refuses
    with site.test_request_context():
        from motcua.payments import payment_token

        token = payment_token(code, "vnpay")
    site.config["WTF_CSRF_ENABLED"] = False
    assert site.test_client().post(f"/plugins/gateways/vnpay/start/{code}", data={"token": token}).status_code == 409
    site.config["WTF_CSRF_ENABLED"] = True
    # out of order: nothing more to refuse or take
    again = act(desk, code, "refuse_unpaid", reason="lần nữa")
    assert re.search("Không có thao tác|không thể|không còn", again)


def test_refusal_is_not_offered_once_the_dossier_is_decided_or_paid_at_the_desk(site):
    engine = site.extensions["motcua"].engine
    from fixtures.workflow_kit import DESK

    desk_mode = file_dossier(site, make_spec([{"name": "payment", "config": {"mode": "desk"}}, "review"]), fee=16000)
    names = {a.name for a in engine.actions(site.extensions["motcua"].store.dossiers.get(desk_mode), DESK)}
    assert "record_payment" in names and "refuse_unpaid" not in names  # not waiting online: the lifecycle refuses
    from motcua.workflow import ActionNotAllowed

    with pytest.raises(ActionNotAllowed):
        engine.perform(desk_mode, "refuse_unpaid", DESK, reason="x")


def test_a_dossier_received_before_its_fee_was_asked_is_not_refused_unpaid(site):
    """Refusing is refusing to take a dossier on (status 3, counted as refused at intake): one
    that was received before the pause is not refused this way; cash at the counter still is."""
    from fixtures.workflow_kit import DESK
    from motcua.workflow import ActionNotAllowed

    engine, store = site.extensions["motcua"].engine, site.extensions["motcua"].store
    code = file_dossier(site, make_spec(PAY_FIRST), fee=16000)
    store.dossiers.update(code, lambda d: d.steps["_engine"].update(resume_to=int(Status.RECEIVED)))  # paused after receipt
    names = {a.name for a in engine.actions(store.dossiers.get(code), DESK)}
    assert "record_payment" in names and "refuse_unpaid" not in names
    with pytest.raises(ActionNotAllowed, match="Không có thao tác"):
        engine.perform(code, "refuse_unpaid", DESK, reason="x")
    assert engine.perform(code, "record_payment", DESK, receipt_no="BL-3", amount="16000").status == Status.RECEIVED
