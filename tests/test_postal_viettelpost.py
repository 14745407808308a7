"""A second carrier beside VNPost, through the registry only: a spec chooses
`carrier: viettelpost`, the parcel is booked with the Viettel Post-shaped simulator over real
HTTP, its webhooks (token-authenticated, Viettel status codes) move the dossier to RETURNED
with the COD recorded; forged, replayed and out-of-order webhooks change nothing."""

from __future__ import annotations

import json
import urllib.request

import pytest

from conftest import LiveServer
from fixtures.workflow_kit import DESK, LEADER, file_dossier, make_spec, wait_for, propose
from motcua.dossier import Status
from motcua_plugins.carriers.viettelpost import STATUS_MAP, order_body
from motcua_plugins.simulators import viettelpost as viettel_sim

pytestmark = pytest.mark.usefixtures("jobs_run_at_once")

#: Viettel Post needs the office's phone (it is the sender of a result): the desk the post calls
DESK_PHONE = "0236 3822 111"
STEPS = ["review", {"name": "postal", "config": {"carrier": "viettelpost", "desk_phone": DESK_PHONE}}]


@pytest.fixture
def viettel(app, live_server):
    sim = viettel_sim.create_app("TOKEN1", "HOOKTOKEN", live_server.url + "/plugins/carriers/viettelpost/callback")
    with LiveServer(sim) as server:
        app.config.update(VIETTELPOST_API_URL=server.url, VIETTELPOST_TOKEN="TOKEN1", VIETTELPOST_WEBHOOK_TOKEN="HOOKTOKEN",
                          PUBLIC_URL=live_server.url)
        yield server, sim


def set_status(server, number: str, status: int, **extra) -> None:
    request = urllib.request.Request(f"{server.url}/sim/orders/{number}/status", method="POST",
                                     data=json.dumps({"status": status, **extra}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()


def finish(app, code: str) -> None:
    engine = app.extensions["motcua"].engine
    engine.perform(code, "receive", DESK)
    engine.perform(code, "process", DESK)
    propose(engine, code)
    engine.perform(code, "approve", LEADER)


def test_payment_modes_follow_viettel_post_codes() -> None:
    party = {"name": "A", "phone": "0912345678", "address": {"province": "P", "commune": "C", "street": "S"}}
    base = {"sender": party, "receiver": party, "kind": "delivery", "reference": "X"}
    assert order_body({**base, "cod_amount": 16000, "postage_payer": "receiver"}, "X:delivery")["ORDER_PAYMENT"] == 2
    assert order_body({**base, "cod_amount": 16000, "postage_payer": "sender"}, "k")["ORDER_PAYMENT"] == 3
    assert order_body({**base, "cod_amount": 0, "postage_payer": "receiver"}, "k")["ORDER_PAYMENT"] == 4
    assert order_body({**base, "cod_amount": 0, "postage_payer": "sender"}, "k")["ORDER_PAYMENT"] == 1
    assert STATUS_MAP[501] == "delivered" and STATUS_MAP[504] == "returned_to_sender"


def test_result_by_viettel_post_with_cash_on_delivery(app, viettel) -> None:
    server, sim = viettel
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(STEPS, cod=True), delivery="postal", fee=16000)
    finish(app, code)
    d = store.dossiers.get(code)
    booked = [e for e in d.events if e.kind == "shipment_booked"][0]
    number = booked.data["item_number"]
    order = sim.extensions["viettelpost_sim"][number]
    assert order["body"]["ORDER_NUMBER"] == f"{code}:delivery" and order["body"]["MONEY_COLLECTION"] == 16000
    assert order["body"]["RECEIVER_WARDS"] == "11311" and order["body"]["ORDER_PAYMENT"] == 2
    assert order["body"]["SENDER_PHONE"] == DESK_PHONE and "Hải Châu" in order["body"]["SENDER_ADDRESS"]
    set_status(server, number, 105)
    set_status(server, number, 500)
    set_status(server, number, 501)
    d = wait_for(lambda: (x := store.dossiers.get(code)).status == Status.RETURNED and x)
    updates = [e for e in d.events if e.kind == "postal_status"]
    assert [e.data["status"] for e in updates] == ["picked_up", "in_transit", "delivered"]
    assert all(e.actor == "carrier:viettelpost" for e in updates)
    paid = [e for e in d.events if e.kind == "paid"][0]
    assert paid.data["amount"] == 16000 and paid.data["method"] == "cod" and paid.data["item_number"] == number
    assert paid.actor == "carrier:viettelpost"
    # a late in-transit webhook changes nothing
    set_status(server, number, 500)
    wait_for(lambda: sim.extensions["viettelpost_sim"][number]["webhooks"][-1]["status"] == 500)
    assert store.dossiers.get(code).events == d.events


def test_forged_and_replayed_webhooks_change_nothing(app, viettel) -> None:
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(STEPS), delivery="postal", fee=0)
    finish(app, code)
    number = store.dossiers.get(code).steps["postal"]["shipments"]["delivery"]["item_number"]
    before = store.dossiers.get(code).events
    hook = lambda body: app.test_client().post("/plugins/carriers/viettelpost/callback", json=body)  # noqa: E731
    data = {"ORDER_NUMBER": number, "ORDER_STATUS": 501, "ORDER_STATUSDATE": "05/12/2026 09:00:00", "MONEY_COLLECTION": 0}
    assert hook({"DATA": data, "TOKEN": "FORGED"}).status_code == 401
    assert hook({"DATA": data}).status_code == 401
    assert hook({"DATA": {**data, "ORDER_NUMBER": "999"}, "TOKEN": "HOOKTOKEN"}).status_code == 404
    assert hook({"DATA": {**data, "ORDER_STATUS": "x"}, "TOKEN": "HOOKTOKEN"}).status_code == 400
    assert hook({"DATA": {**data, "MONEY_COLLECTION": -5}, "TOKEN": "HOOKTOKEN"}).status_code == 400
    # the same item's webhook sent to another carrier's route is not that carrier's
    assert app.test_client().post("/plugins/carriers/vnpost/callback", json={"DATA": data, "TOKEN": "HOOKTOKEN"}).status_code == 401
    assert store.dossiers.get(code).events == before
    assert hook({"DATA": data, "TOKEN": "HOOKTOKEN"}).get_json()["status"] == 200
    after = store.dossiers.get(code)
    assert after.status == Status.RETURNED
    assert hook({"DATA": data, "TOKEN": "HOOKTOKEN"}).get_json()["duplicate"] is True
    assert store.dossiers.get(code).events == after.events


def test_the_deployment_chooses_the_carrier_when_the_spec_does_not(app, viettel) -> None:
    server, sim = viettel
    app.config["POSTAL_CARRIER"] = "viettelpost"
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(["review", {"name": "postal", "config": {"desk_phone": DESK_PHONE}}]),
                        delivery="postal", fee=0)
    finish(app, code)
    number = store.dossiers.get(code).steps["postal"]["shipments"]["delivery"]["item_number"]
    assert number in sim.extensions["viettelpost_sim"]


def test_an_office_without_a_phone_is_not_booked_and_staff_see_why(app, viettel) -> None:
    """Viettel Post refuses an order without the sender's phone, however often asked: the job
    gives up at once (no call, no retries) and the timeline names the missing field."""
    server, sim = viettel
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(["review", {"name": "postal", "config": {"carrier": "viettelpost"}}]),
                        delivery="postal", fee=0)
    finish(app, code)
    d = store.dossiers.get(code)
    assert d.steps["postal"]["shipments"]["delivery"]["status"] == "booking_failed"
    failed = next(e for e in d.events if e.kind == "postal_booking_failed")
    assert "sender (office) phone" in failed.data["error"]
    assert sim.extensions["viettelpost_sim"] == {}  # nothing was sent to the carrier
