"""The money of a dossier sent between offices charging different fees stays right whatever
the order of transfers, payments and refunds.

Through the real app, the shipped registry and the VNPay-shaped simulator over real HTTP
(test_office_transfer_fees has the spec: 16,000 at most communes, 10,000 at CHEAP, 24,000 at
DEAR). The refundable amount is derived from the bill at the moment of refunding (never the
sum of what earlier transfers recorded), a gateway's notice is judged against the bill as it
is when it is recorded, and a dossier owing money is never let through as paid.
"""

from __future__ import annotations

import random
import threading

import pytest

from fixtures.workflow_kit import kinds, wait_for
from motcua import payments
from motcua.dossier import Status
from motcua.filing import file_dossier
from motcua.workflow import ActionNotAllowed
from test_backoffice import answers
from test_office_transfer_fees import BIRTH, CHEAP, DEAR, PLAIN, WRONG, app, desk, paid_online_at_the_wrong_office  # noqa: F401
from test_payment import citizen_chooses
from test_payment_query_refund import get, pay_url, vnpay_gw  # noqa: F401 (a fixture)

FEES = {WRONG: 16000, PLAIN: 16000, CHEAP: 10000, DEAR: 24000}


def actions(app, code: str) -> list[str]:
    svc = app.extensions["motcua"]
    d = svc.store.dossiers.get(code)
    return [a.name for a in svc.engine.actions(d, desk(d.agency_code))]


def filed_at_the_desk_paid_in_cash(app) -> str:
    svc = app.extensions["motcua"]
    with app.test_request_context():
        code = file_dossier(svc.catalogue.get(BIRTH), answers(copies=2), [], channel="desk", delivery=None,
                            actor=f"staff:desk-{WRONG}", agency=WRONG).code
    svc.engine.perform(code, "record_payment", desk(WRONG), receipt_no="BL-01", amount="16.000")
    return code


def test_sent_back_to_the_dearer_office_before_the_refund_nothing_is_refunded(app, vnpay_gw) -> None:
    svc = app.extensions["motcua"]
    code = paid_online_at_the_wrong_office(app)
    svc.engine.perform(code, "transfer_office", desk(WRONG), to_agency=CHEAP, reason="Chọn nhầm xã")
    assert "refund_surplus" in actions(app, code)

    d = svc.engine.perform(code, "transfer_office", desk(CHEAP), to_agency=WRONG, reason="Chuyển nhầm")
    assert (d.fee_total, payments.net_paid(d), payments.amount_due(d)) == (16000, 16000, 0)
    assert payments.surpluses(d) == [] and "refund_surplus" not in actions(app, code)
    # the timeline says the overpayment is no longer to be refunded
    assert kinds(d)[-1] == "payment_surplus" and d.events[-1].data["refund_due"] == 0 and "0 ₫" in d.events[-1].note
    with pytest.raises(ActionNotAllowed):
        svc.engine.perform(code, "refund_surplus", desk(WRONG))
    assert get(vnpay_gw.url + "/sim/refunds") == []
    d = svc.engine.perform(code, "receive", desk(WRONG))
    assert d.status == Status.RECEIVED and payments.amount_due(d) == 0


def test_cash_sent_back_to_the_dearer_office_before_the_refund_is_not_given_back(app) -> None:
    svc = app.extensions["motcua"]
    code = filed_at_the_desk_paid_in_cash(app)
    svc.engine.perform(code, "transfer_office", desk(WRONG), to_agency=CHEAP, reason="Chọn nhầm xã")
    assert payments.cash_to_refund(svc.store.dossiers.get(code)) == 6000
    d = svc.engine.perform(code, "transfer_office", desk(CHEAP), to_agency=WRONG, reason="Chuyển nhầm")
    assert payments.cash_to_refund(d) == 0 and payments.cash_recorded(d) == 0
    assert "refund_at_desk" not in actions(app, code)
    with pytest.raises(ActionNotAllowed):
        svc.engine.perform(code, "refund_at_desk", desk(WRONG), receipt_no="PC-1")
    assert payments.net_paid(svc.store.dossiers.get(code)) == 16000

    # via a third office charging less again: only what the bill leaves is to be given back
    d = svc.engine.perform(code, "transfer_office", desk(WRONG), to_agency=CHEAP, reason="Đúng xã")
    assert payments.cash_to_refund(d) == 6000


@pytest.mark.parametrize("backend", ["tinydb", "postgresql"], indirect=True)
def test_cash_refunds_pressed_at_once_give_back_the_overpayment_once(app) -> None:
    svc = app.extensions["motcua"]
    code = filed_at_the_desk_paid_in_cash(app)
    svc.engine.perform(code, "transfer_office", desk(WRONG), to_agency=CHEAP, reason="Chọn nhầm xã")
    errors: list[Exception] = []

    def press(i: int) -> None:
        try:
            svc.engine.perform(code, "refund_at_desk", desk(CHEAP), receipt_no=f"PC-{i}")
        except ActionNotAllowed as exc:
            errors.append(exc)

    threads = [threading.Thread(target=press, args=(i,)) for i in range(3)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    d = svc.store.dossiers.get(code)
    assert [e.data["amount"] for e in d.events if e.kind == "payment_refunded"] == [6000] and len(errors) == 2
    assert payments.net_paid(d) == 10000


@pytest.mark.parametrize("backend", ["tinydb", "postgresql"], indirect=True)
def test_a_notice_racing_a_transfer_to_a_dearer_office_does_not_settle_the_new_bill(app, vnpay_gw, monkeypatch) -> None:
    """The gateway's notice for the 16,000 order arrives; just before it is written, the desk
    sends the dossier to an office charging 24,000. The notice is judged against the bill as
    it is when it is written: the dossier keeps waiting for what is still owed."""
    svc = app.extensions["motcua"]
    with app.test_request_context():
        code = file_dossier(svc.catalogue.get(BIRTH), answers(copies=2), [], channel="online", delivery=None,
                            actor="citizen", agency=WRONG).code
    order = pay_url(app, code, "vnpay")  # at 16,000
    dossiers = type(svc.store.dossiers)
    real_update = dossiers.update
    raced: list[str] = []

    def update(self, key, change):  # the notice's write waits behind the desk's transfer
        if key == code and not raced and threading.current_thread() is not threading.main_thread():
            raced.append(key)
            svc.engine.perform(code, "transfer_office", desk(WRONG), to_agency=DEAR, reason="Chọn nhầm phường")
        return real_update(self, key, change)

    monkeypatch.setattr(dossiers, "update", update)
    citizen_chooses(order, "pay")
    wait_for(lambda: raced and any(e.actor == "gateway:vnpay" for e in svc.store.dossiers.get(code).events))
    monkeypatch.setattr(dossiers, "update", real_update)
    svc.engine.flush()
    d = svc.store.dossiers.get(code)
    assert d.fee_total == 24000 and d.agency_code == DEAR
    assert d.status == Status.PAYMENT_REQUESTED, kinds(d)
    # whichever way the notice is counted (paid in part, or kept to refund), what is owed is asked for
    owed = payments.amount_due(d)
    assert owed == 24000 - (payments.net_paid(d) or 0) and owed > 0
    refundable = sum(s["amount"] - s["refunded"] for s in payments.surpluses(d))
    assert (payments.net_paid(d), refundable) in ((16000, 0), (0, 16000))
    with pytest.raises(ActionNotAllowed):
        svc.engine.perform(code, "receive", desk(DEAR))


def test_a_pay_move_for_less_than_the_bill_records_the_payment_and_keeps_waiting(app) -> None:
    svc = app.extensions["motcua"]
    with app.test_request_context():
        code = file_dossier(svc.catalogue.get(BIRTH), answers(copies=2), [], channel="online", delivery=None,
                            actor="citizen", agency=WRONG).code
    d = svc.engine.signal(code, actor="gateway:vnpay", move="pay", data={"amount": 10000, "method": "vnpay", "txn_ref": "X1"})
    assert d.status == Status.PAYMENT_REQUESTED and kinds(d)[-1] == "paid" and payments.amount_due(d) == 6000
    d = svc.engine.signal(code, actor="gateway:vnpay", move="pay", data={"amount": 6000, "method": "vnpay", "txn_ref": "X2"})
    assert d.status == Status.NEW and payments.amount_due(d) == 0


# --- property: random sequences of transfers, payments and refunds ---------------------------


def check_invariants(app, code: str, before_refund: int | None = None) -> None:
    """What must hold after any step of any sequence, read from what staff are offered and the
    money recorded (no helper of the code under test decides it)."""
    d = app.extensions["motcua"].store.dossiers.get(code)
    paid = payments.net_paid(d) or 0
    offered = actions(app, code)
    counted = {e.data.get("txn_ref") for e in d.events if e.kind == "paid"}
    taken_twice = [e for e in d.events if e.kind == "payment_surplus" and e.data.get("txn_ref") not in counted]
    if not taken_twice and paid <= d.fee_total:  # nothing paid beyond the bill: nothing to give back
        assert "refund_surplus" not in offered and "refund_at_desk" not in offered, (paid, d.fee_total, kinds(d))
    if before_refund is not None:  # a refund never gives back money the bill needs
        assert paid >= min(before_refund, d.fee_total), (before_refund, paid, d.fee_total)
    owed = max(0, d.fee_total - paid)
    if owed > 0:
        if d.channel == "online":  # level 4: nothing moves on before the fee is paid
            assert d.status == Status.PAYMENT_REQUESTED, kinds(d)
        else:  # at the desk: the amount owed now is on the timeline and the desk can take it
            [last] = [e for e in d.events if e.kind == "payment_due_at_desk"][-1:]
            assert last.data["amount"] == owed
            assert "record_payment" in offered


def one_step(app, code: str, rng: random.Random, log: list[str]) -> None:
    svc = app.extensions["motcua"]
    d = svc.store.dossiers.get(code)
    offered = actions(app, code)
    choices = []
    if "transfer_office" in offered:
        choices += ["transfer"] * 3
    if d.channel == "online" and payments.may_pay_online(d):
        choices.append("pay_online")
    choices += [name for name in ("record_payment", "refund_surplus", "refund_at_desk") if name in offered]
    if not choices:
        return
    step = rng.choice(choices)
    log.append(step)
    if step == "transfer":
        to = rng.choice([c for c in FEES if c != d.agency_code])
        log[-1] += f" {FEES[to]}"
        svc.engine.perform(code, "transfer_office", desk(d.agency_code), to_agency=to, reason="Chọn nhầm")
    elif step == "pay_online":
        count = len([e for e in d.events if e.kind in ("paid", "payment_surplus")])
        citizen_chooses(pay_url(app, code, "vnpay"), "pay")
        wait_for(lambda: len([e for e in svc.store.dossiers.get(code).events if e.kind in ("paid", "payment_surplus")]) > count)
    elif step == "record_payment":
        svc.engine.perform(code, step, desk(d.agency_code), receipt_no="BL", amount=str(payments.amount_due(d)))
    else:
        before = payments.net_paid(d) or 0
        svc.engine.perform(code, step, desk(d.agency_code), receipt_no="PC")
        check_invariants(app, code, before_refund=before)
    if rng.random() < 0.5:  # the refund jobs run now, or only after more transfers and payments
        log.append("jobs")
        svc.engine.flush()


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("channel", ["online", "desk"])
def test_any_sequence_of_transfers_payments_and_refunds_keeps_the_money_right(app, vnpay_gw, seed: int, channel: str) -> None:
    svc = app.extensions["motcua"]
    rng = random.Random(f"{channel}-{seed}")
    code = paid_online_at_the_wrong_office(app) if channel == "online" else filed_at_the_desk_paid_in_cash(app)
    log: list[str] = []
    for _ in range(8):
        one_step(app, code, rng, log)
        check_invariants(app, code)
    # settle up, then the desk receives it: never with money owed that nobody asks for
    d = svc.store.dossiers.get(code)
    if channel == "online" and payments.may_pay_online(d):
        citizen_chooses(pay_url(app, code, "vnpay"), "pay")
        wait_for(lambda: payments.amount_due(svc.store.dossiers.get(code)) == 0)
    d = svc.store.dossiers.get(code)
    if payments.amount_due(d) > 0:
        svc.engine.perform(code, "record_payment", desk(d.agency_code), receipt_no="BL-2", amount=str(payments.amount_due(d)))
    d = svc.engine.perform(code, "receive", desk(d.agency_code))
    assert d.status == Status.RECEIVED and payments.amount_due(d) == 0, log
    svc.engine.flush()  # every refund asked for is answered
    d = svc.store.dossiers.get(code)
    assert "payment_refund_requested" not in kinds(d) or len(payments.refunds(d)) == kinds(d).count("payment_refunded"), log
    # what the gateway gave back is what the timeline says it gave back
    online_refunds = sum(e.data["amount"] for e in d.events if e.kind == "payment_refunded" and e.data.get("method") == "vnpay")
    assert sum(r["amount"] for r in get(vnpay_gw.url + "/sim/refunds")) == online_refunds * 100, log
    check_invariants(app, code)
