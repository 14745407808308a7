"""A supplement that raises the fee of a dossier paid online asks for the rest online.

Birth registration bills 8,000 VND per extract copy. The dossier is filed for 2 copies and
paid online (16,000) through the VNPay simulator; in processing, the desk asks for a
supplement and the citizen corrects the answers to 3 copies (24,000). The payment step then
requests the rest (status 6, the clock paused), the citizen's panel offers to pay 8,000
online, the gateway's order is for 8,000, and its IPN records 8,000: nothing is owed, the
dossier is back in processing and the result may be returned.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from fixtures.workflow_kit import DESK, LEADER, file_dossier, make_spec, wait_for, propose
from motcua.dossier import Status
from motcua_plugins.payment import amount_due
from tests.test_payment import citizen_chooses, gateway, start_payment  # noqa: F401 (fixture)
from tests.test_portal_supplement import valid_answers

ONLINE_PAYMENT = [{"name": "payment", "config": {"mode": "online"}}, {"name": "review", "config": {"units": ["Phòng Tư pháp"]}}]


def _panel_text(app, code: str) -> str:
    engine = app.extensions["motcua"].engine
    with app.test_request_context():
        html = "".join(str(p) for p in engine.citizen_panels(engine._get(code)))
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_rest_of_a_raised_fee_is_requested_and_paid_online(app, gateway, live_server) -> None:  # noqa: F811
    services = app.extensions["motcua"]
    store, engine = services.store, services.engine
    spec = make_spec(ONLINE_PAYMENT)
    code = file_dossier(app, spec, fee=16000)
    store.dossiers.update(code, lambda d: setattr(d, "data", {**valid_answers(spec), "extract_copies": 2}))
    citizen_chooses(start_payment(app, live_server, code), "pay")
    wait_for(lambda: store.dossiers.get(code).status == Status.NEW)
    engine.perform(code, "receive", DESK)
    engine.perform(code, "process", DESK)
    engine.perform(code, "request_supplement", DESK, reason="Sai số bản sao", missing="Số bản sao trích lục")

    d = engine.citizen_supplement(code, "Xin 3 bản sao", [], answers={**valid_answers(spec), "extract_copies": 3})
    assert d.fee_total == 24000 and amount_due(d) == 8000
    assert d.status == Status.PAYMENT_REQUESTED  # asked again, the clock paused
    requested = [e for e in d.events if e.kind == "payment_requested"]
    assert len(requested) == 2 and requested[-1].data["amount"] == 8000
    assert d.steps["_engine"]["resume_to"] == Status.PROCESSING
    text = _panel_text(app, code)
    assert "Thanh toán trực tuyến 8.000 ₫" in text.replace("\xa0", " ")

    url = start_payment(app, live_server, code)
    assert parse_qs(urlparse(url).query)["vnp_Amount"] == ["800000"]  # the order is for the rest
    citizen_chooses(url, "pay")
    d = wait_for(lambda: (x := store.dossiers.get(code)).status == Status.PROCESSING and x)
    assert [e.data["amount"] for e in d.events if e.kind == "paid"] == [16000, 8000]
    assert amount_due(d) == 0
    assert "Thanh toán trực tuyến" not in _panel_text(app, code)

    propose(engine, code)
    engine.perform(code, "approve", LEADER)
    assert engine.perform(code, "return_result", DESK).status == Status.RETURNED


def test_a_correction_that_keeps_the_fee_asks_nothing_online(app, gateway, live_server) -> None:  # noqa: F811
    services = app.extensions["motcua"]
    store, engine = services.store, services.engine
    spec = make_spec(ONLINE_PAYMENT)
    code = file_dossier(app, spec, fee=16000)
    store.dossiers.update(code, lambda d: setattr(d, "data", {**valid_answers(spec), "extract_copies": 2}))
    citizen_chooses(start_payment(app, live_server, code), "pay")
    wait_for(lambda: store.dossiers.get(code).status == Status.NEW)
    engine.perform(code, "receive", DESK)
    engine.perform(code, "request_supplement", DESK, reason="Sai tên", missing="Họ tên trẻ")
    d = engine.citizen_supplement(code, "Sửa tên", [], answers={**valid_answers(spec), "extract_copies": 2,
                                                                 "child.full_name": "Nguyễn Văn Bình"})
    assert amount_due(d) == 0 and d.status == Status.RECEIVED
    assert [e.kind for e in d.events].count("payment_requested") == 1
