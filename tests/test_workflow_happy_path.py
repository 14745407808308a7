"""The whole journey of one dossier over real HTTP: filed by the portal's filing function,
paid through the VNPay simulator, received, processed and approved by staff, sent by post
through the carrier simulator and delivered, with the citizen told at each milestone."""

from __future__ import annotations

import pytest

from conftest import BACKENDS, LiveServer
from fixtures.workflow_kit import ADDRESS, DESK, LEADER, kinds, wait_for, propose
from motcua.dossier import DeliveryChoice, Status
from motcua.workflow.outbox import outbox_for
from motcua_plugins.simulators import carrier as carrier_sim
from motcua_plugins.simulators import vnpay as vnpay_sim
from test_payment import citizen_chooses, start_payment
from test_postal import advance
from tests.portal_helpers import RECENT_BIRTH

pytestmark = pytest.mark.usefixtures("jobs_run_at_once")

ANSWERS = {
    "requester": {"full_name": "Nguyễn Văn An", "cccd": "031095001234", "phone": "0912345678",
                  "email": "an@example.vn", "relation": "cha"},
    "child": {"full_name": "Nguyễn Thị Bình", "birth_date": RECENT_BIRTH, "sex": "nu", "ethnicity": "Kinh",
              "nationality": "Việt Nam", "birth_place": "Bệnh viện Phụ sản Hải Phòng"},
    "mother": {"full_name": "Trần Thị Cúc", "birth_year": 1995},
    "has_father": True,
    "father": {"full_name": "Nguyễn Văn An", "birth_year": 1995},
    "birth_proof": "giay_chung_sinh",
    "extract_copies": 2,
}


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_file_pay_review_post_deliver(app, live_server) -> None:
    from motcua.filing import file_dossier

    gateway = vnpay_sim.create_app(tmn_code="MOTCUA01", secret="S", ipn_url=live_server.url + "/thanh-toan/vnpay/ipn")
    carrier = carrier_sim.create_app(api_key="K", callback_secret="CB")
    with LiveServer(gateway) as g, LiveServer(carrier) as c:
        app.config.update(VNPAY_PAY_URL=g.url + "/paymentv2/vpcpay.html", VNPAY_TMN_CODE="MOTCUA01", VNPAY_HASH_SECRET="S",
                          POSTAL_API_URL=c.url + "/api/v1", POSTAL_API_KEY="K", POSTAL_CALLBACK_SECRET="CB",
                          PUBLIC_URL=live_server.url)
        services = app.extensions["motcua"]
        spec = services.catalogue.get("1.001193")
        with app.app_context():
            dossier = file_dossier(spec, ANSWERS, [], "online", DeliveryChoice(kind="postal", address=ADDRESS, postal_charge=25000), "citizen",
                                   agency="000.06.50.H15")
        code = dossier.code
        assert dossier.fee_total == 16000 and dossier.status == Status.PAYMENT_REQUESTED

        citizen_chooses(start_payment(app, live_server, code), "pay")
        wait_for(lambda: services.store.dossiers.get(code).status == Status.NEW)

        engine = services.engine
        engine.perform(code, "receive", DESK)
        engine.perform(code, "process", DESK)
        propose(engine, code)
        engine.perform(code, "approve", LEADER)
        d = services.store.dossiers.get(code)
        item = d.steps["postal"]["shipments"]["delivery"]["item_number"]
        assert carrier.extensions["carrier_sim"][item]["cod_amount"] == 0  # paid online: nothing to collect
        advance(c, item, "in_transit")
        advance(c, item, "delivered")
        d = wait_for(lambda: (x := services.store.dossiers.get(code)).status == Status.RETURNED and x)

    assert [e.status for e in d.events if e.status] == [
        Status.NEW, Status.PAYMENT_REQUESTED, Status.NEW, Status.RECEIVED, Status.PROCESSING, Status.FINISHED, Status.RETURNED]
    assert {"paid", "shipment_booked", "postal_status", "returned"} <= set(kinds(d))
    assert "step_failed" not in kinds(d)
    assert services.engine.flush()  # messages go out in the background, after each change is saved
    sent = outbox_for(services, app.config).messages(code)
    assert [m["milestone"] for m in sent if m["channel"] == "sms"] == [
        "filed", "payment_requested", "received", "finished", "returned"]
    assert all(m["status"] == "sent" for m in sent)
