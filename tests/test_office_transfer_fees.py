"""Transfer between offices when the fee is the office's own (`by_agency`): the bill follows
the dossier, and the citizen is told.

Through the real app, the shipped registry and the VNPay-shaped simulator over real HTTP:
birth registration whose extract copies cost 8,000 each at most communes, 5,000 at one and
12,000 at another. The citizen pays 16,000 online to the wrong commune; sent to the cheaper
one, the 6,000 overpaid is recorded and the receiving desk refunds it through the gateway;
sent to the dearer one, the 8,000 still owed is asked for online and paid. Each time the
citizen gets an SMS and an e-mail in the receiving office's name saying where the dossier
went and what the fee is now.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.workflow_kit import kinds, wait_for
from motcua import payments
from motcua.accounts import StaffUser
from motcua.agencies import load_registry
from motcua.app import create_app
from motcua.dossier import Status
from motcua.filing import file_dossier
from motcua.workflow import ActionNotAllowed
from motcua.workflow.outbox import outbox_for
from portal_helpers import birth_spec, write_spec
from test_backoffice import answers
from test_payment import citizen_chooses
from test_payment_query_refund import get, pay_url, vnpay_gw  # noqa: F401 (a fixture)

BIRTH = "1.001193"
REGISTRY = load_registry()
COMMUNES = {a.name["vi"]: a.code for a in REGISTRY.of("commune", "ubnd")}
WRONG = COMMUNES["Ủy ban nhân dân phường Hải Châu"]
CHEAP = COMMUNES["Ủy ban nhân dân xã Hòa Vang"]
DEAR = COMMUNES["Ủy ban nhân dân phường Sơn Trà"]
PLAIN = COMMUNES["Ủy ban nhân dân phường Hòa Cường"]


@pytest.fixture
def app(tmp_path: Path, data_dir: Path, store_target: str):
    spec = birth_spec()
    spec["version"] = "fees-by-office"
    [copies] = [rule for rule in spec["fees"] if rule["id"] == "phi_ban_sao_trich_luc"]
    copies["by_agency"] = {CHEAP: 5000, DEAR: 12000}
    spec["steps"] = [{"name": "payment", "config": {"mode": "online", "gateway": "vnpay"}}, "review", "postal", "notify"]
    write_spec(tmp_path / "specs" / "ho-tich", "dang-ky-khai-sinh", spec)
    app = create_app({"DATA_DIR": str(data_dir), "SPECS_DIR": str(tmp_path / "specs"), "TESTING": True,
                      "STORE": store_target})
    yield app
    app.extensions["motcua"].store.close()


def desk(code: str) -> StaffUser:
    return StaffUser(username=f"desk-{code}", name=f"Một cửa {code}", roles=["desk"], agencies=[code])


def paid_online_at_the_wrong_office(app, email: str = "dan@example.vn") -> str:
    spec = app.extensions["motcua"].catalogue.get(BIRTH)
    filled = answers(copies=2)
    filled["requester"]["email"] = email
    with app.test_request_context():
        code = file_dossier(spec, filled, [], channel="online", delivery=None, actor="citizen", agency=WRONG).code
    store = app.extensions["motcua"].store
    assert store.dossiers.get(code).fee_total == 16000 and store.dossiers.get(code).status == Status.PAYMENT_REQUESTED
    citizen_chooses(pay_url(app, code, "vnpay"), "pay")
    wait_for(lambda: store.dossiers.get(code).status == Status.NEW)
    assert payments.amount_due(store.dossiers.get(code)) == 0
    return code


def transferred_messages(app, code: str) -> list[dict]:
    app.extensions["motcua"].engine.flush()
    return [m for m in outbox_for(app.extensions["motcua"], app.config).messages(code) if m["milestone"] == "office_transferred"]


def test_sent_to_an_office_charging_less_the_overpayment_is_refunded_through_the_gateway(app, vnpay_gw) -> None:
    svc = app.extensions["motcua"]
    code = paid_online_at_the_wrong_office(app)

    d = svc.engine.perform(code, "transfer_office", desk(WRONG), to_agency=CHEAP, reason="Công dân cư trú tại xã Hòa Vang")
    moved = next(e for e in d.events if e.kind == "office_transferred")
    assert (d.agency_code, d.status, d.fee_total) == (CHEAP, Status.NEW, 10000)
    assert moved.data["fee_total"] == {"old": 16000, "new": 10000}
    assert sum(line["amount"] for line in d.fees) == 10000
    assert "10.000" in moved.note and "16.000" in moved.note  # the timeline says the new and old bill
    [surplus] = [e for e in d.events if e.kind == "payment_surplus"]
    assert surplus.data["refund_due"] == 6000 and "6.000" in surplus.note
    assert payments.amount_due(d) == 0 and [s["amount"] for s in payments.surpluses(d)] == [6000]

    # the old office may no longer act on it; the receiving desk refunds through the gateway, once
    with pytest.raises(ActionNotAllowed):
        svc.engine.perform(code, "refund_surplus", desk(WRONG))
    assert "refund_surplus" in [a.name for a in svc.engine.actions(d, desk(CHEAP))]
    d = svc.engine.perform(code, "refund_surplus", desk(CHEAP))
    assert payments.net_paid(d) == 10000 and payments.surpluses(d) == []  # on its way back: counted as given
    svc.engine.flush()  # the job asks the gateway
    d = svc.store.dossiers.get(code)
    [refund] = [e for e in d.events if e.kind == "payment_refunded"]
    assert refund.data["amount"] == 6000
    assert [r["amount"] for r in get(vnpay_gw.url + "/sim/refunds")] == [600000]  # VNPay counts in VND x 100
    assert payments.surpluses(d) == [] and payments.net_paid(d) == 10000 and payments.amount_due(d) == 0
    assert d.status == Status.NEW and "refund_surplus" not in [a.name for a in svc.engine.actions(d, desk(CHEAP))]

    # the citizen is told where the dossier went and the new fee, in the new office's name
    messages = transferred_messages(app, code)
    assert {m["channel"] for m in messages} == {"sms", "email"}
    assert {m["sender"] for m in messages} == {"Ủy ban nhân dân xã Hòa Vang"}
    email = next(m for m in messages if m["channel"] == "email")
    assert "Ủy ban nhân dân xã Hòa Vang" in email["subject"] and code in email["body"]
    assert "10.000" in email["body"] and "mã hồ sơ không đổi" in email["body"]
    sms = next(m for m in messages if m["channel"] == "sms")
    assert "Hoa Vang" in sms["body"] and len(sms["body"]) <= 160

    # sent back to an office charging more again, the 6,000 given back is owed again
    d = svc.engine.perform(code, "transfer_office", desk(CHEAP), to_agency=WRONG, reason="Chuyển nhầm")
    assert d.fee_total == 16000 and payments.amount_due(d) == 6000 and d.status == Status.PAYMENT_REQUESTED


def test_sent_to_an_office_charging_more_the_rest_is_asked_for_and_paid_online(app, vnpay_gw) -> None:
    svc = app.extensions["motcua"]
    code = paid_online_at_the_wrong_office(app)

    d = svc.engine.perform(code, "transfer_office", desk(WRONG), to_agency=DEAR, reason="Công dân chọn nhầm phường")
    assert (d.agency_code, d.fee_total, payments.amount_due(d)) == (DEAR, 24000, 8000)
    assert d.status == Status.PAYMENT_REQUESTED and kinds(d)[-1] == "payment_requested"
    assert "8.000" in d.events[-1].note and "payment_surplus" not in kinds(d)
    email = next(m for m in transferred_messages(app, code) if m["channel"] == "email")
    assert email["sender"] == "Ủy ban nhân dân phường Sơn Trà" and "24.000" in email["body"]

    # the citizen pays the rest through the gateway; the dossier waits for the new office's receipt
    citizen_chooses(pay_url(app, code, "vnpay"), "pay")
    wait_for(lambda: svc.store.dossiers.get(code).status == Status.NEW)
    d = svc.store.dossiers.get(code)
    assert [e.data["amount"] for e in d.events if e.kind == "paid"] == [16000, 8000]
    assert payments.amount_due(d) == 0 and d.agency_code == DEAR


def test_an_office_with_the_same_fee_changes_no_bill_and_the_message_says_no_fee(app, vnpay_gw) -> None:
    svc = app.extensions["motcua"]
    code = paid_online_at_the_wrong_office(app)
    d = svc.engine.perform(code, "transfer_office", desk(WRONG), to_agency=PLAIN, reason="Chọn nhầm")
    moved = next(e for e in d.events if e.kind == "office_transferred")
    assert "fee_total" not in moved.data and d.fee_total == 16000 and "Phí" not in moved.note
    assert d.status == Status.NEW and payments.amount_due(d) == 0 and "payment_surplus" not in kinds(d)
    email = next(m for m in transferred_messages(app, code) if m["channel"] == "email")
    assert email["sender"] == "Ủy ban nhân dân phường Hòa Cường" and "Phí" not in email["body"]


def test_a_dossier_still_waiting_for_its_fee_is_sent_on_and_billed_at_the_new_rate(app, vnpay_gw) -> None:
    """Level 4 asks for the fee before receipt: the wrong office's desk need not wait for the
    citizen to pay its rate. The order opened at the old amount is cancelled (paid anyway, it
    is an overpayment to refund), and the citizen pays the receiving office's amount."""
    svc = app.extensions["motcua"]
    spec = svc.catalogue.get(BIRTH)
    with app.test_request_context():
        code = file_dossier(spec, answers(copies=2), [], channel="online", delivery=None, actor="citizen", agency=WRONG).code
    old_order = pay_url(app, code, "vnpay")  # the citizen opened the gateway's page at 16,000
    d = svc.store.dossiers.get(code)
    assert d.status == Status.PAYMENT_REQUESTED and "transfer_office" in [a.name for a in svc.engine.actions(d, desk(WRONG))]

    d = svc.engine.perform(code, "transfer_office", desk(WRONG), to_agency=CHEAP, reason="Chọn nhầm xã")
    assert (d.agency_code, d.status, d.fee_total, payments.amount_due(d)) == (CHEAP, Status.PAYMENT_REQUESTED, 10000, 10000)
    assert svc.store.records(payments.OPEN).get(code) is None  # the old order is no longer the dossier's

    citizen_chooses(old_order, "pay")  # paid at the old rate after all: kept for a refund, not the bill
    wait_for(lambda: "payment_surplus" in kinds(svc.store.dossiers.get(code)))
    d = svc.store.dossiers.get(code)
    assert d.status == Status.PAYMENT_REQUESTED and payments.amount_due(d) == 10000
    assert [s["amount"] for s in payments.surpluses(d)] == [16000]

    citizen_chooses(pay_url(app, code, "vnpay"), "pay")
    wait_for(lambda: svc.store.dossiers.get(code).status == Status.NEW)
    d = svc.store.dossiers.get(code)
    assert [e.data["amount"] for e in d.events if e.kind == "paid"] == [10000] and payments.amount_due(d) == 0

    # once received by the new office it cannot be sent on, even when a fee is asked for later
    d = svc.engine.perform(code, "receive", desk(CHEAP))
    assert d.status == Status.RECEIVED and "transfer_office" not in [a.name for a in svc.engine.actions(d, desk(CHEAP))]
    with pytest.raises(ActionNotAllowed):
        svc.engine.perform(code, "transfer_office", desk(CHEAP), to_agency=WRONG, reason="Chọn nhầm")


def test_cash_paid_at_the_wrong_desk_is_recorded_for_a_refund_at_the_desk(app) -> None:
    """Paid in cash at the counter: no gateway can give it back, so the overpayment is left
    for the receiving desk to refund by hand, and the citizen sees it on the timeline."""
    svc = app.extensions["motcua"]
    spec = svc.catalogue.get(BIRTH)
    with app.test_request_context():
        code = file_dossier(spec, answers(copies=2), [], channel="desk", delivery=None, actor=f"staff:desk-{WRONG}",
                            agency=WRONG).code
    d = svc.engine.perform(code, "record_payment", desk(WRONG), receipt_no="BL-01", amount="16.000")
    assert d.status == Status.NEW and payments.amount_due(d) == 0
    d = svc.engine.perform(code, "transfer_office", desk(WRONG), to_agency=CHEAP, reason="Chọn nhầm xã")
    [cash] = [e for e in d.events if e.kind == "refund_due_at_desk"]
    assert cash.data["amount"] == 6000 and "6.000" in cash.note and "payment_surplus" not in kinds(d)
    assert payments.amount_due(d) == 0 and d.fee_total == 10000

    # the receiving desk gives the cash back and records it, once
    assert "refund_at_desk" not in [a.name for a in svc.engine.actions(d, desk(WRONG))]
    d = svc.engine.perform(code, "refund_at_desk", desk(CHEAP), receipt_no="PC-07")
    [refund] = [e for e in d.events if e.kind == "payment_refunded"]
    assert refund.data["amount"] == 6000 and "PC-07" in refund.note
    assert payments.net_paid(d) == 10000 and "refund_at_desk" not in [a.name for a in svc.engine.actions(d, desk(CHEAP))]
    # sent back to the dearer office, the 6,000 given back is owed again, at the desk
    d = svc.engine.perform(code, "transfer_office", desk(CHEAP), to_agency=WRONG, reason="Chuyển nhầm")
    assert d.fee_total == 16000 and payments.amount_due(d) == 6000
    assert "record_payment" in [a.name for a in svc.engine.actions(d, desk(WRONG))]
