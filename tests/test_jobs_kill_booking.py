"""A worker killed with SIGKILL in the middle of a carrier booking: the parcel is booked once.

Real `motcua worker` processes on both stores (procrastinate on PostgreSQL, Huey on the
embedded store's SQLite file), the carrier simulator on a real local server, made slow for
the first booking: it books the parcel, then holds its answer. The worker is killed while it
waits for that answer: the carrier has a parcel the portal never heard of. A new worker runs
the job again (PostgreSQL: the job row stayed `doing`, the dead worker's jobs are queued
again once its heartbeat is stale; embedded: Huey dropped the job when it took it, the
catch-up defers it again from `records("workflow_step_jobs")`), asks the carrier under the
same idempotency key, gets the same parcel back, and the dossier shows it, booked once.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path

import pytest

from conftest import LiveServer
from fixtures.worker_process import kill_worker, start_worker, stop_worker, wait_until_stalled
from fixtures.workflow_kit import DESK, LEADER, file_dossier, kinds, make_spec, propose, wait_for
from motcua.jobs import dead_jobs
from motcua.workflow.engine import STEP_JOBS
from motcua_plugins.simulators import carrier as carrier_sim

STEPS = ["review", "postal"]


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"},
                                     method="POST")
    return json.loads(urllib.request.urlopen(request, timeout=5).read())


def _held(carrier: LiveServer) -> int:
    return json.loads(urllib.request.urlopen(carrier.url + "/sim/held", timeout=5).read())["waiting"]


def _worker(data: Path, store_target: str, carrier: LiveServer, portal: LiveServer) -> subprocess.Popen:
    return start_worker(data, {"MOTCUA_STORE": store_target, "MOTCUA_PUBLIC_URL": portal.url,
                               "MOTCUA_POSTAL_API_URL": carrier.url + "/api/v1", "MOTCUA_POSTAL_API_KEY": "K",
                               "MOTCUA_POSTAL_CALLBACK_SECRET": "CB", "MOTCUA_JOBS_STALLED_SECONDS": "3",
                               "MOTCUA_CATCH_UP_GRACE_SECONDS": "1", "MOTCUA_STEP_JOB_BACKOFF_SECONDS": "0.2"})


def _finish(app, code: str) -> None:
    engine = app.extensions["motcua"].engine
    engine.perform(code, "receive", DESK)
    engine.perform(code, "process", DESK)
    propose(engine, code)
    engine.perform(code, "approve", LEADER)  # FINISHED: the postal step defers the delivery booking


def _delivery(app, code: str) -> dict:
    return app.extensions["motcua"].store.dossiers.get(code).steps["postal"]["shipments"]["delivery"]


def _citizen_panel(app, code: str) -> str:
    services = app.extensions["motcua"]
    with app.test_request_context():
        return "".join(services.engine.citizen_panels(services.store.dossiers.get(code)))


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgresql", "tinydb"], indirect=True)
def test_a_worker_killed_mid_booking_leaves_one_parcel_booked_by_the_next(app, data_dir, store_target,
                                                                          live_server, backend) -> None:
    sim = carrier_sim.create_app(api_key="K", callback_secret="CB")
    with LiveServer(sim) as carrier:
        store = app.extensions["motcua"].store
        code = file_dossier(app, make_spec(STEPS), delivery="postal", fee=0)
        _finish(app, code)
        assert _delivery(app, code)["status"] == "booking"
        _post(carrier.url + "/sim/hold", {"count": 1})  # the first booking's answer is late
        first = _worker(data_dir, store_target, carrier, live_server)
        try:
            wait_for(lambda: _held(carrier) == 1, timeout=120)  # however long the worker's start takes
            [booked_by_carrier] = list(sim.extensions["carrier_sim"])  # the carrier booked ...
            assert _delivery(app, code)["item_number"] is None  # ... the portal does not know yet
        finally:
            kill_worker(first)  # mid-call
        if backend == "postgresql":
            with store.connection() as conn:  # the job is a row held by a dead worker
                assert conn.execute("SELECT status::text FROM procrastinate_jobs WHERE task_name = 'motcua:step_job'"
                                    ).fetchone()[0] == "doing"
            wait_until_stalled(store, 3)  # its heartbeat is stale now (MOTCUA_JOBS_STALLED_SECONDS)
        else:  # Huey took the job off its table: only the store remembers it
            assert store.records(STEP_JOBS).get(f"{code}|{code}:delivery") is not None
        second = _worker(data_dir, store_target, carrier, live_server)
        try:
            wait_for(lambda: _delivery(app, code)["status"] == "booked", timeout=90)
        finally:
            err = stop_worker(second)
            _post(carrier.url + "/sim/release", {"count": 10})
    d = store.dossiers.get(code)
    assert _delivery(app, code)["item_number"] == booked_by_carrier, err
    assert [e.kind for e in d.events].count("shipment_booked") == 1
    assert list(sim.extensions["carrier_sim"]) == [booked_by_carrier]  # one parcel at the carrier
    asked = sim.extensions["carrier_sim_requests"]
    assert [r["key"] for r in asked] == [f"{code}:delivery"] * 2  # asked twice, under one key ...
    assert [r["repeat"] for r in asked] == [False, True]  # ... the second recognised as the same booking
    assert booked_by_carrier in _citizen_panel(app, code)
    assert store.records(STEP_JOBS).get(f"{code}|{code}:delivery") is None
    assert dead_jobs(store) == []
    assert "step_failed" not in kinds(d)
    if backend == "postgresql":
        assert "of a dead worker queued again" in err
