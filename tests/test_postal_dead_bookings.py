"""A parcel booking that died (the carrier down through every retry) is no dead end, and never
books a parcel for a dossier that is closed.

- the result's booking died: the desk posts it again (under the same idempotency key) or
  switches the result to the desk, and `return_result` is no longer held back;
- the home pickup's booking died: the citizen may bring the papers, the desk receives them
  and the pickup is dropped, the timeline says so;
- the citizen withdraws (or the desk refuses) a dossier whose pickup is not booked: the
  pickup is cancelled, the dossier's dead jobs leave the admin list, and neither a job still
  retrying nor an administrator's re-run books anything.

Real app and queue, the carrier simulator over real HTTP (down: its port refuses connections).
"""

from __future__ import annotations

import time

import pytest

from conftest import LiveServer, refused_port
from fixtures.workflow_kit import DESK, file_dossier, kinds, make_spec
from motcua.dossier import Status
from motcua.jobs import dead_jobs, rerun_dead
from motcua.workflow import ActionNotAllowed
from motcua.workflow.notes import render
from motcua_plugins.simulators import carrier as carrier_sim
from test_jobs_rerun import STEPS, _citizen_panel, _dead_booking, _delivery


def _names(app, code: str) -> dict[str, str | None]:
    services = app.extensions["motcua"]
    return {a.name: a.blocked_reason
            for a in services.engine.actions(services.store.dossiers.get(code), DESK, include_blocked=True)}


def _staff_panel(app, code: str) -> str:
    services = app.extensions["motcua"]
    with app.test_request_context():
        return "".join(services.engine.staff_panels(services.store.dossiers.get(code)))


def _carrier_down(app, live_server, attempts: int = 2) -> int:
    port = refused_port()
    app.config.update(POSTAL_API_URL=f"http://127.0.0.1:{port}/api/v1", POSTAL_API_KEY="K",
                      POSTAL_CALLBACK_SECRET="CB", PUBLIC_URL=live_server.url, STEP_JOB_BACKOFF_SECONDS=0.2,
                      STEP_JOB_ATTEMPTS=attempts)
    return port


def _pickup(app, code: str) -> dict:
    return app.extensions["motcua"].store.dossiers.get(code).steps["postal"]["shipments"]["pickup"]


def _dead_pickup(app, live_server) -> tuple[str, int]:
    """A dossier filed by post whose home-pickup booking job died."""
    port = _carrier_down(app, live_server)
    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec(STEPS), delivery="postal", channel="postal", fee=0)
    engine.flush()
    time.sleep(0.5)  # the backoff passes
    engine.flush()
    assert _pickup(app, code)["status"] == "booking_failed"
    return code, port


def _rerun_all(app) -> list[dict]:
    with app.test_request_context():
        return [rerun_dead(app, job["id"], "staff:quantri") for job in dead_jobs(app.extensions["motcua"].store)]


def test_the_desk_posts_a_result_again_after_its_booking_died_and_one_parcel_is_booked(app, live_server) -> None:
    code, port = _dead_booking(app, live_server)
    services = app.extensions["motcua"]
    offered = _names(app, code)
    assert offered.get("rebook_delivery", "absent") is None and offered.get("switch_to_desk", "absent") is None
    assert offered["return_result"] is None  # the desk may hand the result over itself

    sim = carrier_sim.create_app(api_key="K", callback_secret="CB")
    with LiveServer(sim, port=port):  # the carrier is back
        services.engine.perform(code, "rebook_delivery", DESK, note="Bưu điện đã hoạt động lại")
        assert _delivery(app, code)["status"] == "booking"
        services.engine.flush()
        # the dead job an administrator would still find runs nothing: the desk booked it
        [again] = _rerun_all(app)
        assert again["queued"] is False and dead_jobs(services.store) == []
        services.engine.flush()
    d = services.store.dossiers.get(code)
    shipment = _delivery(app, code)
    assert shipment["status"] == "booked" and shipment["key"] == f"{code}:delivery"  # the failed booking's key
    assert list(sim.extensions["carrier_sim"]) == [shipment["item_number"]]
    assert kinds(d).count("shipment_booked") == 1 and "job_rerun" not in kinds(d)
    [retried] = [e for e in d.events if e.kind == "postal_booking_retried"]
    assert retried.actor == "staff:desk" and "Bưu điện đã hoạt động lại" in retried.note
    assert "rebook_delivery" not in _names(app, code)  # on its way: nothing more to do


@pytest.mark.parametrize("backend", ["tinydb", "postgresql"], indirect=True)
def test_the_desk_hands_the_result_over_after_its_booking_died_and_a_rerun_books_nothing(app, live_server) -> None:
    code, port = _dead_booking(app, live_server)
    services = app.extensions["motcua"]
    with pytest.raises(ActionNotAllowed, match="lý do"):
        services.engine.perform(code, "switch_to_desk", DESK)
    services.engine.perform(code, "switch_to_desk", DESK, reason="Công dân sẽ đến nhận tại quầy")
    assert _delivery(app, code)["status"] == "cancelled"
    assert "Công dân nhận kết quả tại Bộ phận một cửa" in _staff_panel(app, code)
    assert "Kết quả được chuyển sang nhận tại Bộ phận một cửa" in _citizen_panel(app, code)

    sim = carrier_sim.create_app(api_key="K", callback_secret="CB")
    with LiveServer(sim, port=port):
        [again] = _rerun_all(app)
        services.engine.flush()
    assert again["queued"] is False and sim.extensions["carrier_sim"] == {}
    d = services.engine.perform(code, "return_result", DESK)
    assert d.status == Status.RETURNED
    assert "job_rerun" not in kinds(d) and "shipment_booked" not in kinds(d)


def test_the_desk_receives_the_papers_the_citizen_brought_when_the_pickup_booking_died(app, live_server) -> None:
    code, port = _dead_pickup(app, live_server)
    services = app.extensions["motcua"]
    assert _names(app, code)["receive"] is None  # no longer held back by the dead pickup
    assert "Đặt lịch thu gom hồ sơ tại nhà với bưu điện thất bại" in _staff_panel(app, code)
    assert "mang hồ sơ giấy đến nộp tại Bộ phận một cửa" in _citizen_panel(app, code)

    d = services.engine.perform(code, "receive", DESK)
    assert d.status == Status.RECEIVED
    assert _pickup(app, code)["status"] == "cancelled"
    [dropped] = [e for e in d.events if e.kind == "postal_pickup_dropped"]
    assert "công dân mang đến" in dropped.note and "citizen brought" in render(dropped.message, "en")

    sim = carrier_sim.create_app(api_key="K", callback_secret="CB")
    with LiveServer(sim, port=port):  # an administrator re-runs the old job anyway
        [again] = _rerun_all(app)
        services.engine.flush()
    assert again["queued"] is False and sim.extensions["carrier_sim"] == {}


@pytest.mark.parametrize("backend", ["tinydb", "postgresql"], indirect=True)
def test_a_withdrawn_dossier_has_its_dead_pickup_cancelled_and_nothing_books_it(app, live_server) -> None:
    code, port = _dead_pickup(app, live_server)
    services = app.extensions["motcua"]
    [dead] = dead_jobs(services.store)
    other, _ = _dead_booking(app, live_server)  # another dossier's dead job stays listed
    services.engine.citizen_withdraw(code, "đổi ý")
    d = services.store.dossiers.get(code)
    assert d.status == Status.WITHDRAWN and _pickup(app, code)["status"] == "cancelled"
    assert "postal_booking_cancelled" in kinds(d)
    assert "đã hủy" in _citizen_panel(app, code)
    assert [j["args"]["code"] for j in dead_jobs(services.store)] == [other]

    # the engine asked to re-run the old job directly (a record restored from a backup):
    sim = carrier_sim.create_app(api_key="K", callback_secret="CB")
    with LiveServer(sim, port=port):
        job = {name: dead["args"][name] for name in ("step", "index", "job", "key", "arguments")}
        with app.test_request_context():
            assert services.engine.rerun_job(code, "staff:quantri", "step_job", dead["args"]["key"], step_job=job) is False
        services.engine.flush()
    assert all(parcel["reference"] != code for parcel in sim.extensions["carrier_sim"].values())
    assert "job_rerun" not in kinds(services.store.dossiers.get(code))


def test_a_pickup_still_retrying_when_the_dossier_is_withdrawn_is_never_booked(app, live_server) -> None:
    port = _carrier_down(app, live_server, attempts=5)
    services = app.extensions["motcua"]
    code = file_dossier(app, make_spec(STEPS), delivery="postal", channel="postal", fee=0)
    services.engine.flush()  # the first run fails: the job waits for its backoff
    assert _pickup(app, code)["status"] == "booking"
    services.engine.citizen_withdraw(code)
    assert _pickup(app, code)["status"] == "cancelled"
    sim = carrier_sim.create_app(api_key="K", callback_secret="CB")
    with LiveServer(sim, port=port):  # the carrier is back when the job runs again
        time.sleep(0.5)
        services.engine.flush()
    assert sim.extensions["carrier_sim"] == {} and dead_jobs(services.store) == []
    assert "shipment_booked" not in kinds(services.store.dossiers.get(code))


def test_a_refused_dossier_drops_its_dead_jobs_and_cancels_its_pickup(app, live_server) -> None:
    code, _port = _dead_pickup(app, live_server)
    services = app.extensions["motcua"]
    d = services.engine.perform(code, "refuse", DESK, reason="Không thuộc thẩm quyền")
    assert d.status == Status.REFUSED and _pickup(app, code)["status"] == "cancelled"
    assert dead_jobs(services.store) == []
    [cancelled] = [e for e in d.events if e.kind == "postal_booking_cancelled"]
    assert "từ chối tiếp nhận" in cancelled.note and "refused" in render(cancelled.message, "en")
