"""A supplement's corrected answers are billed again, and a payment made before covers only
what it paid: the rest is due.

Birth registration bills 8,000 VND per extract copy (fees.compute_fees, as at filing). The
dossier is filed for 2 copies (16,000), paid at the desk, then asked for a supplement; the
citizen corrects the answers to 3 copies (24,000): the `supplemented` event keeps the old
and new total, the payment step owes 8,000, holds the result back until the desk records
that rest, and records it as 8,000.
"""

from __future__ import annotations

import pytest

from fixtures.workflow_kit import DESK, LEADER, file_dossier, make_spec, propose
from motcua.workflow import ActionNotAllowed
from motcua_plugins.payment import amount_due
from tests.test_portal_supplement import valid_answers

DESK_PAYMENT = [{"name": "payment", "config": {"mode": "desk"}}, {"name": "review", "config": {"units": ["Phòng Tư pháp"]}}]


def paid_then_asked(app, spec) -> str:
    engine = app.extensions["motcua"].engine
    code = file_dossier(app, spec, fee=16000)
    answers = {**valid_answers(spec), "extract_copies": 2}
    app.extensions["motcua"].store.dossiers.update(code, lambda d: setattr(d, "data", answers))
    engine.perform(code, "record_payment", DESK, receipt_no="BL-1", amount="16000")
    engine.perform(code, "receive", DESK)
    engine.perform(code, "request_supplement", DESK, reason="Sai số bản sao", missing="Số bản sao trích lục")
    return code


def test_corrected_answers_recompute_the_fee_and_the_rest_is_due(app):
    engine = app.extensions["motcua"].engine
    spec = make_spec(DESK_PAYMENT)
    code = paid_then_asked(app, spec)
    answers = {**valid_answers(spec), "extract_copies": 3}
    d = engine.citizen_supplement(code, "Xin 3 bản sao", [], answers=answers)
    supplied = next(e for e in d.events if e.kind == "supplemented")
    assert supplied.data["fee_total"] == {"old": 16000, "new": 24000}
    assert d.fee_total == 24000 and [line["quantity"] for line in d.fees if line["id"] == "phi_ban_sao_trich_luc"] == [3]
    assert amount_due(d) == 8000
    with app.test_request_context():
        panels = "".join(str(p) for p in engine.citizen_panels(engine._get(code)))
    assert "8.000 ₫" in panels and "24.000 ₫" not in panels.split("Nộp phí, lệ phí tại bộ phận một cửa", 1)[1][:200]
    engine.perform(code, "process", DESK)
    propose(engine, code)
    engine.perform(code, "approve", LEADER)
    with pytest.raises(ActionNotAllowed, match="8.000"):
        engine.perform(code, "return_result", DESK)
    listed = {a.name for a in engine.actions(engine._get(code), DESK)}
    assert "record_payment" in listed
    d = engine.perform(code, "record_payment", DESK, receipt_no="BL-2", amount="8000")
    assert d.events[-1].kind == "paid" and d.events[-1].data["amount"] == 8000
    assert amount_due(d) == 0
    assert engine.perform(code, "return_result", DESK).status.name == "RETURNED"


def test_a_correction_that_keeps_the_fee_owes_nothing_more(app):
    engine = app.extensions["motcua"].engine
    spec = make_spec(DESK_PAYMENT)
    code = paid_then_asked(app, spec)
    answers = {**valid_answers(spec), "extract_copies": 2, "child.full_name": "Nguyễn Văn Bình"}
    d = engine.citizen_supplement(code, "Sửa tên", [], answers=answers)
    supplied = next(e for e in d.events if e.kind == "supplemented")
    assert supplied.data["fee_total"] == {"old": 16000, "new": 16000}
    assert amount_due(d) == 0 and "record_payment" not in {a.name for a in engine.actions(d, DESK)}
