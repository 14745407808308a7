"""Carrier bookings are jobs: the request that causes one never calls the carrier.

Through the real engine, the real job queue of the embedded store (Huey on SQLite, run with
`engine.flush()` as a worker would) and the carrier simulator over real HTTP.
"""

from __future__ import annotations

import time

from conftest import LiveServer, refused_port
from fixtures.workflow_kit import DESK, LEADER, file_dossier, kinds, make_spec, propose
from motcua.jobs import dead_jobs
from motcua.workflow.engine import STEP_JOBS
from motcua.workflow.tasks import catch_up
from motcua_plugins.carriers import vnpost
from motcua_plugins.simulators import carrier as carrier_sim

STEPS = ["review", "postal"]


def _carrier_at(app, live_server, port: int) -> None:
    app.config.update(POSTAL_API_URL=f"http://127.0.0.1:{port}/api/v1", POSTAL_API_KEY="K",
                      POSTAL_CALLBACK_SECRET="CB", PUBLIC_URL=live_server.url, STEP_JOB_BACKOFF_SECONDS=0.2)


def _finish(app, code: str) -> float:
    engine = app.extensions["motcua"].engine
    engine.perform(code, "receive", DESK)
    engine.perform(code, "process", DESK)
    started = time.monotonic()
    propose(engine, code)
    engine.perform(code, "approve", LEADER)  # FINISHED: the postal step asks for the delivery
    return time.monotonic() - started


def _panel(app, code: str) -> str:
    services = app.extensions["motcua"]
    with app.test_request_context():
        return "".join(services.engine.citizen_panels(services.store.dossiers.get(code)))


def test_carrier_down_the_action_succeeds_the_job_retries_and_books_once(app, live_server) -> None:
    port = refused_port()  # the carrier is down
    _carrier_at(app, live_server, port)
    services = app.extensions["motcua"]
    store, engine = services.store, services.engine
    code = file_dossier(app, make_spec(STEPS), delivery="postal", fee=0)
    _finish(app, code)
    d = store.dossiers.get(code)
    shipment = d.steps["postal"]["shipments"]["delivery"]
    assert shipment["status"] == "booking" and shipment["item_number"] is None
    assert "step_failed" not in kinds(d) and "shipment_booked" not in kinds(d)
    assert "đang đặt dịch vụ với bưu điện" in _panel(app, code)  # what the citizen sees meanwhile
    assert store.records(STEP_JOBS).get(f"{code}|{code}:delivery") is not None

    engine.flush()  # the worker tries: the carrier refuses the connection, the job backs off
    assert store.records(STEP_JOBS).get(f"{code}|{code}:delivery")["runs"] == 1
    assert "shipment_booked" not in kinds(store.dossiers.get(code))

    sim = carrier_sim.create_app(api_key="K", callback_secret="CB")
    with LiveServer(sim, port=port):
        time.sleep(0.5)  # the backoff passes
        engine.flush()
        engine.flush()  # nothing left: run twice, booked once
    d = store.dossiers.get(code)
    booked = [e for e in d.events if e.kind == "shipment_booked"]
    assert len(booked) == 1 and list(sim.extensions["carrier_sim"]) == [booked[0].data["item_number"]]
    assert d.steps["postal"]["shipments"]["delivery"]["status"] == "booked"
    assert store.records(STEP_JOBS).get(f"{code}|{code}:delivery") is None
    assert booked[0].data["item_number"] in _panel(app, code)


def test_a_booking_that_keeps_failing_is_a_dead_job_admins_see(app, live_server) -> None:
    _carrier_at(app, live_server, refused_port())
    app.config.update(STEP_JOB_ATTEMPTS=2)
    services = app.extensions["motcua"]
    code = file_dossier(app, make_spec(STEPS), delivery="postal", fee=0)
    _finish(app, code)
    services.engine.flush()
    time.sleep(0.5)
    services.engine.flush()
    dead = [j for j in dead_jobs(services.store) if j["task"] == "step_job"]
    assert len(dead) == 1 and dead[0]["args"]["key"] == f"{code}:delivery"
    assert "unreachable" in dead[0]["error"]
    assert services.store.records(STEP_JOBS).get(f"{code}|{code}:delivery") is None  # the catch-up leaves it dead
    assert services.store.dossiers.get(code).steps["postal"]["shipments"]["delivery"]["status"] == "booking_failed"
    assert "postal_booking_failed" in kinds(services.store.dossiers.get(code))  # re-run: tests/test_jobs_rerun.py


def test_a_job_lost_after_the_carrier_booked_is_caught_up_and_books_once(app, live_server) -> None:
    """A worker killed after the carrier booked, before the parcel was recorded: the embedded
    queue has dropped the job; the catch-up defers it again, and the same idempotency key
    gets the same parcel from the carrier."""
    sim = carrier_sim.create_app(api_key="K", callback_secret="CB")
    with LiveServer(sim) as server:
        _carrier_at(app, live_server, server.port)
        app.config.update(CATCH_UP_GRACE_SECONDS=0)
        services = app.extensions["motcua"]
        store, engine = services.store, services.engine
        code = file_dossier(app, make_spec(STEPS), delivery="postal", fee=0)
        _finish(app, code)
        queue = store._motcua_jobs
        job = queue.huey.dequeue()  # the worker takes the job (Huey deletes it from its table) ...
        assert job is not None and job.name == "step_job"
        payload = {"reference": code, "kind": "delivery", "service": "BCCI",
                   "receiver": {"name": "x", "phone": "0900000000", "address": {"province": "Thành phố Hải Phòng",
                                                                             "commune": "Phường Hồng Bàng"}},
                   "sender": {"name": "y", "code": "z"}, "cod_amount": 0, "callback_url": live_server.url}
        first = vnpost.VNPostCarrier(app.config).book(payload, f"{code}:delivery")  # ... books, and is killed
        assert "shipment_booked" not in kinds(store.dossiers.get(code))
        with app.app_context():
            catch_up(app)
        engine.flush()
    d = store.dossiers.get(code)
    booked = [e for e in d.events if e.kind == "shipment_booked"]
    assert len(booked) == 1 and booked[0].data["item_number"] == first
    assert list(sim.extensions["carrier_sim"]) == [first]
