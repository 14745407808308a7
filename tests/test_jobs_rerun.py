"""A dead job is run again by an administrator: from /staff/viec-nen or `motcua jobs retry`.

A carrier down for longer than the booking job's attempts: the job dies, the parcel says
"Đặt lịch thất bại" to staff and citizen, the staff timeline says why. An administrator
(and only one, with the form's CSRF token) runs it again once the carrier is back: the
parcel is "booking" again, the job books it once, and the dossier's timeline records who
asked. Real app, real queue on both stores, the carrier simulator over real HTTP.
"""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from conftest import LiveServer, refused_port
from fixtures.workflow_kit import AGENCY, DESK, LEADER, file_dossier, kinds, make_spec, propose
from motcua import accounts
from motcua.cli import main
from motcua.jobs import dead_jobs
from motcua.workflow.engine import STEP_JOBS
from motcua_plugins.simulators import carrier as carrier_sim

STEPS = ["review", "postal"]
PASSWORD = "mat-khau-rat-dai-1"


def _dead_booking(app, live_server) -> tuple[str, int]:
    """A dossier whose delivery booking job died (the carrier down on both of its runs)."""
    port = refused_port()  # the carrier is down
    app.config.update(POSTAL_API_URL=f"http://127.0.0.1:{port}/api/v1", POSTAL_API_KEY="K",
                      POSTAL_CALLBACK_SECRET="CB", PUBLIC_URL=live_server.url, STEP_JOB_BACKOFF_SECONDS=0.2,
                      STEP_JOB_ATTEMPTS=2)
    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec(STEPS), delivery="postal", fee=0)
    engine.perform(code, "receive", DESK)
    engine.perform(code, "process", DESK)
    propose(engine, code)
    engine.perform(code, "approve", LEADER)
    engine.flush()
    time.sleep(0.5)  # the backoff passes
    engine.flush()
    return code, port


def _delivery(app, code: str) -> dict:
    return app.extensions["motcua"].store.dossiers.get(code).steps["postal"]["shipments"]["delivery"]


def _login(app, username: str, roles: list[str], agencies: list[str]):
    accounts.create_account(app.extensions["motcua"].store, username, f"Cán bộ {username}", roles, agencies, PASSWORD)
    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert client.post("/staff/login", data={"username": username, "password": PASSWORD,
                                              "csrf_token": token}).status_code == 302
    return client


def _token(page: str) -> str:
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _citizen_panel(app, code: str) -> str:
    services = app.extensions["motcua"]
    with app.test_request_context():
        return "".join(services.engine.citizen_panels(services.store.dossiers.get(code)))


@pytest.mark.parametrize("backend", ["tinydb", "postgresql"], indirect=True)
def test_an_admin_reruns_a_dead_booking_and_the_parcel_is_booked_once(app, live_server) -> None:
    code, port = _dead_booking(app, live_server)
    store, engine = app.extensions["motcua"].store, app.extensions["motcua"].engine
    [dead] = dead_jobs(store)
    assert dead["task"] == "step_job" and dead["args"]["key"] == f"{code}:delivery" and "unreachable" in dead["error"]
    assert _delivery(app, code)["status"] == "booking_failed"
    assert store.records(STEP_JOBS).get(f"{code}|{code}:delivery") is None  # the catch-up leaves it dead
    assert "đặt lịch thất bại" in _citizen_panel(app, code)  # what the citizen sees

    desk = _login(app, "lan", ["desk"], [AGENCY])
    staff_page = desk.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert "Đặt lịch thất bại" in staff_page and "Đặt lịch với bưu điện thất bại" in staff_page  # parcel, timeline
    assert "unreachable" in staff_page
    token = _token(staff_page)
    assert desk.post(f"/staff/viec-nen/{dead['id']}/chay-lai", data={"csrf_token": token}).status_code == 403

    admin = _login(app, "quantri", ["admin"], [])
    listing = admin.get("/staff/viec-nen").get_data(as_text=True)
    assert f"/staff/viec-nen/{dead['id']}/chay-lai" in listing and "Chạy lại" in listing
    assert admin.post(f"/staff/viec-nen/{dead['id']}/chay-lai").status_code == 400  # no CSRF token
    assert [j["id"] for j in dead_jobs(store)] == [dead["id"]]

    sim = carrier_sim.create_app(api_key="K", callback_secret="CB")
    with LiveServer(sim, port=port):  # the carrier is back
        answer = admin.post(f"/staff/viec-nen/{dead['id']}/chay-lai", data={"csrf_token": _token(listing)},
                            follow_redirects=True)
        assert answer.status_code == 200 and "Đã cho chạy lại việc nền step_job" in answer.get_data(as_text=True)
        assert dead_jobs(store) == []
        assert _delivery(app, code)["status"] == "booking"  # asked again, not booked yet
        assert "đang đặt dịch vụ với bưu điện" in _citizen_panel(app, code)
        engine.flush()  # the worker runs it
        engine.flush()
    d = store.dossiers.get(code)
    assert _delivery(app, code)["status"] == "booked"
    assert list(sim.extensions["carrier_sim"]) == [_delivery(app, code)["item_number"]]
    assert [e.kind for e in d.events].count("shipment_booked") == 1
    [rerun] = [e for e in d.events if e.kind == "job_rerun"]
    assert rerun.actor == "staff:quantri" and rerun.data["task"] == "step_job"
    staff_page = desk.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert "Chạy lại việc nền lỗi" in staff_page and "Cán bộ quantri" in staff_page
    assert "Chạy lại việc nền lỗi" not in _citizen_panel(app, code)
    assert "Failed background job run again" in desk.get(f"/staff/ho-so/{code}?lang=en").get_data(as_text=True)
    # the same button again: nothing left to run
    again = admin.post(f"/staff/viec-nen/{dead['id']}/chay-lai", data={"csrf_token": _token(listing)},
                       follow_redirects=True).get_data(as_text=True)
    assert "Không còn việc nền lỗi này" in again


def test_motcua_jobs_retry_runs_a_dead_job_again_from_the_command_line(app, live_server, data_dir,
                                                                       monkeypatch) -> None:
    from conftest import SPECS

    monkeypatch.delenv("MOTCUA_STORE", raising=False)
    code, port = _dead_booking(app, live_server)
    store, engine = app.extensions["motcua"].store, app.extensions["motcua"].engine
    [dead] = dead_jobs(store)
    common = ["--specs", str(SPECS), "--data", str(data_dir), "--public-url", live_server.url]
    runner = CliRunner()
    listed = runner.invoke(main, ["jobs", *common])
    assert listed.exit_code == 1 and dead["id"] in listed.output
    unknown = runner.invoke(main, ["jobs", "retry", "huey-nope", *common])
    assert unknown.exit_code != 0 and "no dead job huey-nope" in unknown.output
    done = runner.invoke(main, ["jobs", "retry", dead["id"], *common])
    assert done.exit_code == 0, done.output
    assert f"{dead['id']} (step_job" in done.output and "queued again" in done.output
    assert runner.invoke(main, ["jobs", *common]).exit_code == 0  # none left
    sim = carrier_sim.create_app(api_key="K", callback_secret="CB")
    with LiveServer(sim, port=port):
        engine.flush()  # the job the command queued, run by a worker
    d = store.dossiers.get(code)
    assert _delivery(app, code)["status"] == "booked" and len(sim.extensions["carrier_sim"]) == 1
    [rerun] = [e for e in d.events if e.kind == "job_rerun"]
    assert rerun.actor.startswith("operator:")


def test_a_dead_message_rerun_is_sent_with_all_its_attempts(app) -> None:
    """A message the gateway refused for good (`failed`) is due again once rerun, and sent once."""
    from test_jobs_messages import fail_next, messages
    from motcua.jobs import rerun_dead
    from motcua_plugins.simulators import messaging

    sim = messaging.create_app(api_key="K")
    with LiveServer(sim) as server:
        app.config.update(NOTIFY_URL=server.url, NOTIFY_API_KEY="K", NOTIFY_BACKOFF_SECONDS=0.05, NOTIFY_MAX_ATTEMPTS=1)
        fail_next(server, 1)
        code = file_dossier(app, make_spec(["review", "notify"]), email=None)
        engine = app.extensions["motcua"].engine
        engine.flush()
        [key] = messages(app, code)
        assert messages(app, code)[key]["status"] == "failed"
        [dead] = dead_jobs(app.extensions["motcua"].store)
        with app.test_request_context():
            rerun_dead(app, dead["id"], "staff:quantri")
        engine.flush()
    assert messages(app, code)[key]["status"] == "sent"
    assert sum(1 for m in sim.extensions["messaging_sim"] if m.get("id") == key) == 1
    assert "job_rerun" in kinds(app.extensions["motcua"].store.dossiers.get(code))


@pytest.mark.parametrize("backend", ["tinydb", "postgresql"], indirect=True)
def test_two_admins_rerunning_the_same_dead_job_at_once_run_it_once(app, live_server, monkeypatch) -> None:
    """The second admin's press, while the first one's re-run is under way, finds the record
    claimed: one `job_rerun`, one job, one parcel."""
    import dataclasses
    import threading

    from motcua import jobs
    from motcua.jobs import NotDead, rerun_dead

    code, port = _dead_booking(app, live_server)
    store, engine = app.extensions["motcua"].store, app.extensions["motcua"].engine
    [dead] = dead_jobs(store)
    real = jobs.TASKS["step_job"]
    inside, release = threading.Event(), threading.Event()

    def slow_rerun(flask_app, arguments, actor):  # the first admin's re-run, held half-way
        inside.set()
        release.wait(5)
        return real.rerun(flask_app, arguments, actor)

    monkeypatch.setitem(jobs.TASKS, "step_job", dataclasses.replace(real, rerun=slow_rerun))
    outcomes: list[str] = []

    def press(who: str) -> None:
        with app.test_request_context():
            try:
                rerun_dead(app, dead["id"], who)
                outcomes.append("ran")
            except NotDead:
                outcomes.append("refused")

    sim = carrier_sim.create_app(api_key="K", callback_secret="CB")
    with LiveServer(sim, port=port):
        first = threading.Thread(target=press, args=("staff:quantri",))
        first.start()
        assert inside.wait(5)
        press("staff:admin2")  # while the first is still under way
        release.set()
        first.join(10)
        engine.flush()
        engine.flush()
    assert sorted(outcomes) == ["ran", "refused"] and dead_jobs(store) == []
    d = store.dossiers.get(code)
    assert kinds(d).count("job_rerun") == 1 and kinds(d).count("shipment_booked") == 1
    assert len(sim.extensions["carrier_sim"]) == 1


@pytest.mark.parametrize("backend", ["tinydb", "postgresql"], indirect=True)
def test_a_failed_rerun_gives_the_record_back_and_a_crashed_ones_claim_lapses(app, live_server, monkeypatch) -> None:
    """A re-run that raises leaves the dead job listed and unclaimed; a process that died
    after claiming one leaves it listed, and once the claim is older than
    RERUN_CLAIM_SECONDS another admin runs it."""
    import dataclasses
    from datetime import datetime, timedelta, timezone

    from motcua import jobs
    from motcua.jobs import DEAD_JOBS, RERUN_CLAIM_SECONDS, NotDead, rerun_dead

    code, port = _dead_booking(app, live_server)
    store = app.extensions["motcua"].store
    [dead] = dead_jobs(store)

    def failing_rerun(flask_app, arguments, actor):
        raise RuntimeError("the store went away")

    with monkeypatch.context() as patch:
        patch.setitem(jobs.TASKS, "step_job", dataclasses.replace(jobs.TASKS["step_job"], rerun=failing_rerun))
        with app.test_request_context(), pytest.raises(RuntimeError):
            rerun_dead(app, dead["id"], "staff:quantri")
    [back] = dead_jobs(store)  # given back, and not claimed: the next press may run it
    assert back["id"] == dead["id"] and "rerun_claimed" not in back

    record = store.records(DEAD_JOBS).get(dead["id"])
    fresh = datetime.now(timezone.utc) - timedelta(seconds=5)
    store.records(DEAD_JOBS).put(dead["id"], {**record, "rerun_claimed": fresh.isoformat()})
    with app.test_request_context(), pytest.raises(NotDead):
        rerun_dead(app, dead["id"], "staff:quantri")
    old = datetime.now(timezone.utc) - timedelta(seconds=RERUN_CLAIM_SECONDS + 5)
    store.records(DEAD_JOBS).put(dead["id"], {**record, "rerun_claimed": old.isoformat()})
    with app.test_request_context():
        assert rerun_dead(app, dead["id"], "staff:quantri")["queued"] is True
    assert dead_jobs(store) == [] and _delivery(app, code)["status"] == "booking"
