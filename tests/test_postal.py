"""Postal return and intake through the carrier simulator over real HTTP."""

from __future__ import annotations

import json
import urllib.request

import pytest

from conftest import LiveServer
from fixtures.workflow_kit import DESK, LEADER, file_dossier, kinds, make_spec, wait_for, propose
from motcua.dossier import Status
from motcua.workflow import ActionNotAllowed
from motcua_plugins.carriers import vnpost
from motcua_plugins.simulators import carrier as carrier_sim

pytestmark = pytest.mark.usefixtures("jobs_run_at_once")

STEPS = ["review", "postal"]


@pytest.fixture
def carrier(app, live_server):
    sim = carrier_sim.create_app(api_key="K", callback_secret="CB")
    with LiveServer(sim) as server:
        app.config.update(POSTAL_API_URL=server.url + "/api/v1", POSTAL_API_KEY="K",
                          POSTAL_CALLBACK_SECRET="CB", PUBLIC_URL=live_server.url)
        yield server, sim


def advance(server, item: str, status: str) -> None:
    request = urllib.request.Request(f"{server.url}/sim/items/{item}/advance", data=json.dumps({"status": status}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(request).read()


def finish(app, code: str) -> None:
    engine = app.extensions["motcua"].engine
    engine.perform(code, "receive", DESK)
    engine.perform(code, "process", DESK)
    propose(engine, code)
    engine.perform(code, "approve", LEADER)


def test_result_by_post_booked_and_delivered(app, carrier) -> None:
    server, sim = carrier
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(STEPS, cod=True), delivery="postal", fee=16000)
    finish(app, code)
    d = store.dossiers.get(code)
    booked = [e for e in d.events if e.kind == "shipment_booked"][0]
    item = booked.data["item_number"]
    assert item in sim.extensions["carrier_sim"]
    assert sim.extensions["carrier_sim"][item]["cod_amount"] == 16000  # COD allowed and fee unpaid
    assert sim.extensions["carrier_sim"][item]["address"]["commune"] == "Phường Hồng Bàng"
    assert vnpost.s10_check_digit(item[2:10]) == int(item[10])
    with pytest.raises(ActionNotAllowed, match="bưu chính"):
        app.extensions["motcua"].engine.perform(code, "return_result", DESK)
    with app.test_request_context():
        assert item in "".join(app.extensions["motcua"].engine.citizen_panels(d))
    advance(server, item, "picked_up")
    advance(server, item, "in_transit")
    advance(server, item, "delivered")
    d = wait_for(lambda: (x := store.dossiers.get(code)).status == Status.RETURNED and x)
    statuses = [e.data["status"] for e in d.events if e.kind == "postal_status"]
    assert statuses == ["picked_up", "in_transit", "delivered"]
    assert d.events[-1].kind == "returned" and d.steps["_engine"]["cursor"] == 2
    # a late, out-of-order callback changes nothing
    advance(server, item, "in_transit")
    wait_for(lambda: sim.extensions["carrier_sim"][item]["callbacks"][-1]["status"] == "in_transit")
    assert store.dossiers.get(code).events == d.events


def _callback(app, body: dict, secret: str = "CB"):
    raw = json.dumps(body).encode()
    return app.test_client().post("/buu-chinh/callback", data=raw, content_type="application/json",
                                  headers={"X-Signature": vnpost.sign(raw, secret)})


def test_bad_callbacks_rejected_and_replay_ignored(app, carrier) -> None:
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(STEPS), delivery="postal", fee=0)
    finish(app, code)
    item = store.dossiers.get(code).steps["postal"]["shipments"]["delivery"]["item_number"]
    before = store.dossiers.get(code).events
    body = {"event_id": "e1", "item_number": item, "reference": code, "kind": "delivery", "status": "delivered"}
    assert _callback(app, body, secret="WRONG").status_code == 401
    assert _callback(app, {**body, "item_number": "EB000000000VN"}).status_code == 404
    assert _callback(app, {**body, "status": "teleported"}).status_code == 400
    assert store.dossiers.get(code).events == before
    assert _callback(app, body).get_json() == {"ok": True}
    after = store.dossiers.get(code)
    assert after.status == Status.RETURNED
    assert _callback(app, body).get_json()["duplicate"] is True
    assert store.dossiers.get(code).events == after.events


def test_postal_intake_books_a_pickup_at_filing(app, carrier) -> None:
    server, sim = carrier
    code = file_dossier(app, make_spec(STEPS), channel="postal", delivery="desk", fee=0)
    d = app.extensions["motcua"].store.dossiers.get(code)
    booked = [e for e in d.events if e.kind == "shipment_booked"][0]
    assert booked.data["kind"] == "pickup" and sim.extensions["carrier_sim"][booked.data["item_number"]]["kind"] == "pickup"
    advance(server, booked.data["item_number"], "delivered")
    wait_for(lambda: "postal_status" in kinds(app.extensions["motcua"].store.dossiers.get(code)))
    assert app.extensions["motcua"].store.dossiers.get(code).status == Status.NEW  # the papers arrived; not returned
