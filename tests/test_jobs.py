"""The job queue (motcua.jobs): procrastinate on PostgreSQL, Huey on the embedded store.

Checked on a real database: a job deferred inside the store's transaction commits with the
dossier's writes or not at all; one idempotency key, one waiting job; a filing killed inside
its one transaction leaves nothing, not even a gap in the codes; a real `motcua worker`
process starts a dossier stored but unstarted (the desk's two-write filing); a failing step
call is retried by its job with backoff until it works (what cron ran `motcua workflow
retry` for).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SPECS
from fixtures.workflow_kit import wait_for
from motcua import jobs
from motcua.store import open_store
from test_api_portal import body
from test_workflow_unstarted import FILER
from tests.conftest import REPO
from tests.portal_helpers import BIRTH_CODE


def _crash_while_filing(tmp_path: Path, data: Path, pg_url: str) -> str:
    """A process files through the API into PostgreSQL and is killed (SIGKILL) as its jobs are
    deferred: on PostgreSQL that is inside the filing's one transaction, before its commit."""
    import json

    script, payload = tmp_path / "filer.py", tmp_path / "body.json"
    script.write_text(FILER)
    payload.write_text(json.dumps(body()), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(data), str(SPECS), str(payload), f"/api/v1/procedures/{BIRTH_CODE}/dossiers"],
        capture_output=True, text=True, timeout=120, cwd=REPO, env={**os.environ, "MOTCUA_STORE": pg_url},
    )
    assert done.returncode == -9, done.stderr
    return done.stdout.strip()


def _jobs(store) -> list[tuple[str, str, str]]:
    return jobs.queue_for(store, {}).jobs()


def test_a_job_commits_with_the_dossier_transaction_or_not_at_all(pg_url, data_dir) -> None:
    store = open_store(pg_url, data_dir)
    queue = jobs.queue_for(store, {})
    try:
        with pytest.raises(RuntimeError):
            with store.transaction():
                store.records("notes").put("A", {"n": 1})
                queue.defer("retry_steps", unique="retry:A", code="A")
                raise RuntimeError("the dossier write failed")
        assert store.records("notes").get("A") is None
        assert _jobs(store) == []  # rolled back with it

        with store.transaction():
            store.records("notes").put("A", {"n": 1})
            queue.defer("retry_steps", unique="retry:A", code="A")
        assert _jobs(store) == [("motcua:retry_steps", "todo", "retry:A")]
        queue.defer("retry_steps", unique="retry:A", code="A")  # same key while it waits: still one
        assert len(_jobs(store)) == 1
        assert jobs.dead_jobs(store) == []
    finally:
        store.close()


def test_a_filing_killed_inside_its_transaction_leaves_nothing_and_no_gap(tmp_path: Path, pg_url) -> None:
    from motcua.app import create_app
    from motcua.workflow.outbox import OUTBOX

    data = tmp_path / "data"
    code = _crash_while_filing(tmp_path, data, pg_url)
    store = open_store(pg_url, data)
    try:
        assert store.dossiers.get(code) is None  # never acknowledged: nothing of it committed
        assert store.records(OUTBOX).get(code) is None
        assert [task for task, _, _ in _jobs(store) if task != "motcua:catch_up"] == []
        app = create_app({"DATA_DIR": str(data), "SPECS_DIR": str(SPECS), "TESTING": True, "STORE": pg_url})
        try:
            again = app.test_client().post(f"/api/v1/procedures/{BIRTH_CODE}/dossiers", json=body())
            assert again.status_code == 201, again.get_data(as_text=True)
            assert again.get_json()["code"] == code  # its number was never taken
        finally:
            app.extensions["motcua"].store.close()
    finally:
        store.close()


def test_motcua_worker_starts_a_dossier_stored_unstarted(tmp_path: Path, pg_url) -> None:
    from fixtures.workflow_kit import file_dossier, make_spec
    from motcua.app import create_app

    data = tmp_path / "data"
    app = create_app({"DATA_DIR": str(data), "SPECS_DIR": str(SPECS), "TESTING": True, "STORE": pg_url})
    try:
        code = file_dossier(app, make_spec(["review", "notify"]), start=False)  # on_filed never ran
    finally:
        app.extensions["motcua"].store.close()
    store = open_store(pg_url, data)
    try:
        assert "_engine" not in store.dossiers.get(code).steps  # acknowledged, never started
        env = {**os.environ, "MOTCUA_STORE": pg_url, "MOTCUA_PUBLIC_URL": "http://127.0.0.1:9",
               "MOTCUA_WORKFLOW_START_GRACE_SECONDS": "0"}
        done = subprocess.run([str(Path(sys.executable).parent / "motcua"), "worker", "--until-empty",
                               "--data", str(data), "--specs", str(SPECS)],
                              capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 0, done.stderr
        dossier = store.dossiers.get(code)
        assert dossier.steps["_engine"]["dispatched"] >= 1
        assert [e.kind for e in dossier.events].count("filed") == 1
        ran = [status for task, status, _ in _jobs(store) if task == "motcua:catch_up"]  # at start (+ per minute)
        assert ran and set(ran) == {"succeeded"}
    finally:
        store.close()


@pytest.mark.parametrize("backend", ["tinydb", "postgresql"], indirect=True)
def test_a_carrier_down_is_booked_by_the_step_job_once_it_is_back(app, live_server) -> None:
    """The request that finishes the dossier never calls the carrier: it saves a `step_job`
    with the change; the job finds the carrier down, backs off, and books once it is back."""
    from conftest import LiveServer, free_port
    from fixtures.workflow_kit import kinds, make_spec
    from motcua_plugins.simulators import carrier as carrier_sim
    from test_postal import STEPS, finish
    from tests.fixtures.workflow_kit import file_dossier

    port = free_port()
    app.config.update(POSTAL_API_URL=f"http://127.0.0.1:{port}/api/v1", POSTAL_API_KEY="K",
                      POSTAL_CALLBACK_SECRET="CB", PUBLIC_URL=live_server.url, STEP_JOB_BACKOFF_SECONDS=0.2)
    engine = app.extensions["motcua"].engine
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(STEPS), delivery="postal", fee=0)
    finish(app, code)
    d = store.dossiers.get(code)
    assert "step_failed" not in kinds(d) and d.steps["postal"]["shipments"]["delivery"]["status"] == "booking"
    assert engine.flush()  # the job's first run: still down, so it waits its backoff
    assert "shipment_booked" not in kinds(store.dossiers.get(code))
    sim = carrier_sim.create_app(api_key="K", callback_secret="CB")
    with LiveServer(sim, port=port):
        wait_for(lambda: engine.flush() and "shipment_booked" in kinds(store.dossiers.get(code)), timeout=30)
    d = store.dossiers.get(code)
    assert [e.kind for e in d.events].count("shipment_booked") == 1 and len(sim.extensions["carrier_sim"]) == 1
    assert jobs.dead_jobs(store) == []


def test_due_dates_remind_staff_of_the_apology_once_then_mark_overdue(app) -> None:
    """The scheduled `due_dates` job (hourly): the last working day before the due date the
    staff get an `apology_due` reminder, unless they apologised already; past it, `overdue`."""
    from datetime import date

    from fixtures.workflow_kit import DESK, LEADER, kinds, make_spec
    from motcua.workflow.tasks import due_dates
    from tests.fixtures.workflow_kit import file_dossier

    spec = make_spec(["review"])
    late = file_dossier(app, spec, due=date(2030, 3, 8))  # a Friday
    apologised = file_dossier(app, spec, due=date(2030, 3, 8))
    engine = app.extensions["motcua"].engine
    store = app.extensions["motcua"].store
    engine.perform(apologised, "receive", DESK)
    engine.perform(apologised, "process", DESK)
    with app.app_context():  # apologised already, with a new date: no reminder
        engine.perform(apologised, "apologize", LEADER, reason="Chờ xác minh", new_due_date="2030-03-15")
    assert due_dates(app, today="2030-03-06") == {"apology_due": 0, "overdue": 0}  # two days before: nothing yet
    assert due_dates(app, today="2030-03-07") == {"apology_due": 1, "overdue": 0}  # the last working day before
    assert due_dates(app, today="2030-03-07") == {"apology_due": 0, "overdue": 0}  # once
    assert "apology_due" in kinds(store.dossiers.get(late)) and "apology_due" not in kinds(store.dossiers.get(apologised))
    assert due_dates(app, today="2030-03-11")["overdue"] == 1  # Monday: the late one is overdue
    assert due_dates(app, today="2030-03-12")["overdue"] == 0
    assert [e.kind for e in store.dossiers.get(late).events].count("overdue") == 1
    events = {e.kind: e for e in store.dossiers.get(late).events}
    assert events["overdue"].actor == "system" and events["overdue"].data["due_date"] == "2030-03-08"


def test_the_embedded_queue_file_is_private_whatever_the_umask(app, data_dir) -> None:
    import stat

    from fixtures.workflow_kit import make_spec
    from tests.fixtures.workflow_kit import file_dossier

    old = os.umask(0o022)
    try:
        file_dossier(app, make_spec(["review", "notify"]))  # its messages' jobs go to data/jobs.sqlite3
        assert app.extensions["motcua"].engine.flush()
    finally:
        os.umask(old)
    files = sorted(data_dir.glob("jobs.sqlite3*"))
    assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files), files
