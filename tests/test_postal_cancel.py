"""A parcel booked with the carrier and not yet collected is called off when its dossier is
withdrawn or refused (motcua_plugins.postal_cancel): through the job queue, once however
often it is asked, "already picked up" recorded for staff and not retried, a carrier that
stays down shown to staff and run again by an administrator.

The real app and queue (engine.flush, as a worker), the VNPost- and Viettel Post-shaped
simulators on 127.0.0.1 over real HTTP; the carrier down is a port that refuses connections (`refused_port`).
"""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from conftest import LiveServer, refused_port
from fixtures.workflow_kit import DESK, file_dossier, kinds, make_spec
from motcua.dossier import Status
from motcua.integrations.carriers import CancelRefused
from motcua.jobs import dead_jobs, rerun_dead
from motcua.web.labels import citizen_events
from motcua.workflow.engine import STEP_JOBS
from motcua.workflow.notes import render
from motcua_plugins.carriers.viettelpost import ViettelPostCarrier
from motcua_plugins.carriers.vnpost import VNPostCarrier
from motcua_plugins.simulators import carrier as carrier_sim
from motcua_plugins.simulators import viettelpost as viettel_sim

STEPS = ["review", "postal"]


def _carrier_at(app, live_server, url: str) -> None:
    app.config.update(POSTAL_API_URL=url + "/api/v1", POSTAL_API_KEY="K", POSTAL_CALLBACK_SECRET="CB",
                      PUBLIC_URL=live_server.url, STEP_JOB_BACKOFF_SECONDS=0.2)


@pytest.fixture
def carrier(app, live_server):
    """The VNPost-shaped simulator on 127.0.0.1, the app pointed at it: (server, simulator app)."""
    sim = carrier_sim.create_app(api_key="K", callback_secret="CB")
    with LiveServer(sim) as server:
        _carrier_at(app, live_server, server.url)
        yield server, sim


def _pickup(app, code: str) -> dict:
    return app.extensions["motcua"].store.dossiers.get(code).steps["postal"]["shipments"]["pickup"]


def _booked_pickup(app, steps: list = STEPS) -> str:
    """A dossier filed by post whose home pickup the carrier has booked."""
    code = file_dossier(app, make_spec(steps), delivery="postal", channel="postal", fee=0)
    app.extensions["motcua"].engine.flush()
    assert _pickup(app, code)["status"] == "booked"
    return code


def _advance(carrier: LiveServer, item: str, status: str) -> int:
    request = urllib.request.Request(f"{carrier.url}/sim/items/{item}/advance", method="POST",
                                     data=json.dumps({"status": status}).encode(), headers={"Content-Type": "application/json"})
    try:
        return urllib.request.urlopen(request, timeout=10).status
    except urllib.error.HTTPError as exc:
        return exc.code


def _staff_panel(app, code: str) -> str:
    services = app.extensions["motcua"]
    with app.test_request_context():
        return "".join(services.engine.staff_panels(services.store.dossiers.get(code)))


def _citizen_kinds(app, code: str) -> list[str]:
    return [e.kind for e in citizen_events(app.extensions["motcua"].store.dossiers.get(code).events)]


def test_a_dossier_withdrawn_while_the_carrier_books_its_pickup_has_that_parcel_called_off(app, carrier, monkeypatch) -> None:
    """The booking job asked the carrier; before its answer was recorded the citizen withdrew
    (the withdrawal cancelled the pickup as not booked yet). The carrier booked it all the
    same: the parcel is recorded and called off, never left booked for a closed dossier."""
    _, sim = carrier
    services = app.extensions["motcua"]
    code = file_dossier(app, make_spec(STEPS), delivery="postal", channel="postal", fee=0)
    booking = VNPostCarrier.book

    def withdrawn_meanwhile(self, *args, **kwargs):
        services.engine.citizen_withdraw(code, "Tôi nộp nhầm.")  # while the carrier is asked
        return booking(self, *args, **kwargs)  # the real call to the simulator

    monkeypatch.setattr(VNPostCarrier, "book", withdrawn_meanwhile)
    services.engine.flush()  # the booking job (withdrawn in the middle), then the cancel job it deferred
    monkeypatch.setattr(VNPostCarrier, "book", booking)
    [item] = list(sim.extensions["carrier_sim"])
    assert _pickup(app, code)["item_number"] == item
    services.engine.flush()  # nothing more to run
    d = services.store.dossiers.get(code)
    assert d.status == Status.WITHDRAWN and _pickup(app, code)["status"] == "cancelled"
    assert sim.extensions["carrier_sim"][item]["status"] == "cancelled"
    assert [k for k in kinds(d) if k.startswith(("postal_", "shipment_"))] == [
        "postal_booking_cancelled", "shipment_booked", "postal_cancel_requested", "postal_parcel_cancelled"]


def test_a_withdrawn_dossier_has_its_booked_pickup_called_off_once(app, carrier) -> None:
    _, sim = carrier
    services = app.extensions["motcua"]
    code = _booked_pickup(app)
    item = _pickup(app, code)["item_number"]
    services.engine.citizen_withdraw(code, "Tôi nộp nhầm.")
    # the withdrawal only asks: the carrier hears of it from the job
    assert _pickup(app, code)["status"] == "cancelling" and sim.extensions["carrier_sim_cancels"] == []
    [asked] = [e for e in services.store.dossiers.get(code).events if e.kind == "postal_cancel_requested"]
    assert "được công dân rút" in asked.note and item in asked.note
    assert "withdrawn by the citizen" in render(asked.message, "en") and "postal_cancel_requested" in _citizen_kinds(app, code)
    # a worker killed after the carrier cancelled, before the portal heard: the next run asks again, same key
    VNPostCarrier(app.config).cancel(item, asked.data["key"])
    services.engine.flush()
    services.engine.flush()
    d = services.store.dossiers.get(code)
    assert d.status == Status.WITHDRAWN and _pickup(app, code)["status"] == "cancelled"
    assert kinds(d).count("postal_parcel_cancelled") == 1 and sim.extensions["carrier_sim"][item]["status"] == "cancelled"
    assert [(c["key"], c["repeat"]) for c in sim.extensions["carrier_sim_cancels"]] == [
        (f"{code}:pickup:cancel", False), (f"{code}:pickup:cancel", True)]  # asked twice, one cancellation
    assert services.store.records(STEP_JOBS).get(f"{code}|{code}:pickup:cancel") is None
    with app.test_request_context():
        assert "Đã hủy" in "".join(services.engine.citizen_panels(d))


def test_a_pickup_already_collected_is_left_to_staff_and_not_retried(app, carrier) -> None:
    server, sim = carrier
    services = app.extensions["motcua"]
    code = _booked_pickup(app)
    item = _pickup(app, code)["item_number"]
    d = services.engine.perform(code, "refuse", DESK, reason="Không thuộc thẩm quyền")
    assert d.status == Status.REFUSED and _pickup(app, code)["status"] == "cancelling"
    assert _advance(server, item, "picked_up") == 200  # the postman was quicker than the job
    assert _pickup(app, code)["status"] == "cancelling"  # the callback is on the timeline; the job decides
    services.engine.flush()
    time.sleep(0.5)
    services.engine.flush()
    d = services.store.dossiers.get(code)
    assert _pickup(app, code)["status"] == "picked_up" and "postal_parcel_cancelled" not in kinds(d)
    [refused] = [e for e in d.events if e.kind == "postal_cancel_refused"]
    assert "Bưu điện đã nhận" in refused.note and refused.data["status"] == "picked_up"
    assert "postal_cancel_refused" not in _citizen_kinds(app, code)  # staff only
    assert "data-postal-cancel-trouble" in _staff_panel(app, code)
    assert len(sim.extensions["carrier_sim_cancels"]) == 1  # asked once: no retry of a refusal
    assert dead_jobs(services.store) == [] and services.store.records(STEP_JOBS).get(f"{code}|{code}:pickup:cancel") is None


def test_a_carrier_down_through_every_retry_is_shown_to_staff_and_an_admin_runs_it_again(app, carrier) -> None:
    _, sim = carrier
    services = app.extensions["motcua"]
    code = _booked_pickup(app)
    item = _pickup(app, code)["item_number"]
    port = refused_port()  # the carrier's API moves where connections are refused: down
    app.config.update(POSTAL_API_URL=f"http://127.0.0.1:{port}/api/v1", STEP_JOB_ATTEMPTS=2)
    services.engine.citizen_withdraw(code)
    services.engine.flush()
    time.sleep(0.5)
    services.engine.flush()
    d = services.store.dossiers.get(code)
    assert _pickup(app, code)["status"] == "cancel_failed"
    [failed] = [e for e in d.events if e.kind == "postal_cancel_failed"]
    assert "Việc nền lỗi" in failed.note and "postal_cancel_failed" not in _citizen_kinds(app, code)
    assert "data-postal-cancel-trouble" in _staff_panel(app, code)
    [dead] = dead_jobs(services.store)  # the dossier closed before: its cancellation's dead job stays listed
    assert dead["args"]["key"] == f"{code}:pickup:cancel"

    with LiveServer(sim, port=port):  # the carrier is back
        with app.test_request_context():
            assert rerun_dead(app, dead["id"], "staff:quantri")["queued"] is True
        assert _pickup(app, code)["status"] == "cancelling"
        services.engine.flush()
    assert _pickup(app, code)["status"] == "cancelled" and sim.extensions["carrier_sim"][item]["status"] == "cancelled"
    assert kinds(services.store.dossiers.get(code)).count("postal_parcel_cancelled") == 1
    assert "data-postal-cancel-trouble" not in _staff_panel(app, code) and dead_jobs(services.store) == []


def test_a_pickup_not_booked_yet_is_only_dropped_and_nothing_is_asked_of_the_carrier(app, carrier) -> None:
    _, sim = carrier
    services = app.extensions["motcua"]
    code = file_dossier(app, make_spec(STEPS), delivery="postal", channel="postal", fee=0)
    services.engine.citizen_withdraw(code)  # before the booking job ran
    services.engine.flush()
    d = services.store.dossiers.get(code)
    assert _pickup(app, code)["status"] == "cancelled" and "postal_booking_cancelled" in kinds(d)
    assert "postal_cancel_requested" not in kinds(d) and sim.extensions["carrier_sim"] == {}
    assert sim.extensions["carrier_sim_cancels"] == []


def test_viettel_post_cancels_an_order_with_update_order_and_refuses_once_collected(app, live_server) -> None:
    """The Viettel Post plugin against its simulator: TYPE 4 of UpdateOrder under the partner's
    token; asked again, the same answer and one cancelled order; once collected, CancelRefused."""
    sim = viettel_sim.create_app("TOKEN1", "HOOKTOKEN", live_server.url + "/plugins/carriers/viettelpost/callback")
    party = {"name": "Nguyễn Văn An", "phone": "0912345678", "address": {"province": "Thành phố Hà Nội", "commune": "Phường Ba Đình"}}
    booking = {"reference": "X", "kind": "delivery", "sender": {"name": "UBND", "phone": "0236 3821 234"}, "receiver": party, "cod_amount": 0,
               "postage_payer": "receiver", "postage_amount": 0, "note": "Kết quả"}
    with LiveServer(sim) as server:
        app.config.update(VIETTELPOST_API_URL=server.url, VIETTELPOST_TOKEN="TOKEN1")
        carrier = ViettelPostCarrier(app.config)
        number = carrier.book(booking, "X:delivery")
        carrier.cancel(number, "X:delivery:cancel")
        carrier.cancel(number, "X:delivery:cancel")  # a job run twice
        order = sim.extensions["viettelpost_sim"][number]
        assert order["status"] == viettel_sim.CANCELLED and order["cancels"] == [-100, viettel_sim.CANCELLED]

        collected = carrier.book(booking, "Y:delivery")
        sim.extensions["viettelpost_sim"][collected]["status"] = 200  # picked up (the webhook is another test's)
        with pytest.raises(CancelRefused) as refused:
            carrier.cancel(collected, "Y:delivery:cancel")
        assert refused.value.status == "picked_up" and sim.extensions["viettelpost_sim"][collected]["status"] == 200
        app.config["VIETTELPOST_TOKEN"] = "WRONG"
        with pytest.raises(Exception, match="401"):  # the simulator checks the token as for a booking
            ViettelPostCarrier(app.config).cancel(number, "X:delivery:cancel")
