"""Messages are sent by jobs (motcua.jobs), retried with backoff, never twice, never lost.

The SMS / e-mail simulator runs on a real local server and refuses the first N requests
(or all of them); each message's `send_message` job is run again by the queue with
exponential backoff (here in the test's process, `engine.flush()`; in production by
`motcua worker`). Checked on both stores: one delivery per message whatever the retries, a
permanent failure stops at the limit and is shown to staff and to `motcua jobs`; on
PostgreSQL, two `motcua worker` processes send each message once and a worker killed with
SIGKILL in the middle of a job loses nothing; on the embedded store, a job lost with its
process is deferred again by the catch-up job.
"""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import LiveServer
from fixtures.worker_process import start_worker, stop_worker, wait_until_stalled
from fixtures.workflow_kit import AGENCY, file_dossier, make_spec, wait_for
from motcua import accounts
from motcua.jobs import dead_jobs, queue_for
from motcua.workflow.outbox import outbox_for
from motcua.workflow.tasks import catch_up, send_message
from conftest import BACKENDS
from motcua_plugins.simulators import messaging

STEPS = ["review", "notify"]
PASSWORD = "mat-khau-rat-dai-1"


def fail_next(server: LiveServer, count: int, status: int = 503, error: str | None = None) -> None:
    asked = {"count": count, "status": status, **({"error": error} if error else {})}
    request = urllib.request.Request(server.url + "/sim/fail-next", data=json.dumps(asked).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(request, timeout=5).read()


def outcomes(sim, key: str) -> list[int]:
    """The status the gateway answered to each request for message `key`, in order."""
    return [r["status"] for r in sim.extensions["messaging_sim_requests"] if r["id"] == key]


def delivered(sim, key: str) -> int:
    return sum(1 for m in sim.extensions["messaging_sim"] if m.get("id") == key)


def messages(app, code: str) -> dict[str, dict]:
    return {m["key"]: m for m in outbox_for(app.extensions["motcua"], app.config).messages(code)}


@pytest.fixture
def gateway():
    sim = messaging.create_app(api_key="K")
    with LiveServer(sim) as server:
        yield sim, server


def use_gateway(app, server: LiveServer, **config) -> None:
    app.config.update({"NOTIFY_URL": server.url, "NOTIFY_API_KEY": "K", "NOTIFY_BACKOFF_SECONDS": 0.05, **config})


def run_jobs(app):
    """What a worker does, in this process: run every job due now."""
    return app.extensions["motcua"].engine.flush()


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_refused_sms_is_retried_with_backoff_and_delivered_once(app, gateway) -> None:
    sim, server = gateway
    use_gateway(app, server)
    fail_next(server, 3)
    code = file_dossier(app, make_spec(STEPS), email=None)  # one SMS: "filed"
    assert run_jobs(app)  # the job's first runs: refused (its retries come after 0.05, 0.1 ... s)
    [key] = messages(app, code)
    assert messages(app, code)[key]["attempts"] >= 1 and delivered(sim, key) == 0 or outcomes(sim, key)[-1] == 202
    wait_for(lambda: run_jobs(app) and messages(app, code)[key]["status"] == "sent", timeout=30)
    for _ in range(3):
        assert send_message(app, code, key) == "done"  # the job run again sends nothing again
        run_jobs(app)
    msg = messages(app, code)[key]
    assert msg["attempts"] == 4 and msg["error"] is None
    assert outcomes(sim, key) == [503, 503, 503, 202]
    assert delivered(sim, key) == 1


def _retry_waits(app) -> list[float]:
    """Seconds between the runs of the waiting message jobs, as the queue scheduled them."""
    store = app.extensions["motcua"].store
    queue = queue_for(store, app.config)
    if hasattr(queue, "huey"):
        return sorted((t.eta - datetime.now(timezone.utc).replace(tzinfo=None)).total_seconds() for t in queue.huey.scheduled())
    with store.connection() as conn:
        return [s for (s,) in conn.execute("SELECT extract(epoch FROM scheduled_at - now())::float FROM procrastinate_jobs "
                                           "WHERE status = 'todo' AND scheduled_at IS NOT NULL")]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_backoff_doubles_per_message(app, gateway) -> None:
    sim, server = gateway
    app.config.update(NOTIFY_URL=server.url, NOTIFY_API_KEY="K", NOTIFY_BACKOFF_SECONDS=100)
    fail_next(server, -1)
    code = file_dossier(app, make_spec(STEPS), email=None)
    assert run_jobs(app)
    [key] = messages(app, code)
    [wait] = _retry_waits(app)
    assert 90 < wait <= 100  # the queue runs it again after the backoff ...
    m = messages(app, code)[key]
    assert abs((datetime.fromisoformat(m["next_try"]) - datetime.now(timezone.utc)).total_seconds() - wait) < 10  # ... as staff are told
    # each further failure doubles the wait: what the queue's rule gives after runs 2 and 3
    from motcua.jobs import TASKS

    task = TASKS["send_message"]
    assert [task.backoff(app.config) * 2 ** n for n in range(3)] == [100, 200, 400]
    assert delivered(sim, key) == 0


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_permanent_failure_stops_at_the_limit_and_staff_see_it(app, gateway) -> None:
    sim, server = gateway
    use_gateway(app, server, NOTIFY_MAX_ATTEMPTS=3)
    fail_next(server, -1)  # the gateway refuses everything
    code = file_dossier(app, make_spec(STEPS), email=None)
    [key] = messages(app, code)
    wait_for(lambda: run_jobs(app) and messages(app, code)[key]["status"] == "failed", timeout=30)
    for _ in range(3):
        assert send_message(app, code, key) == "done"
        run_jobs(app)
    assert outcomes(sim, key) == [503, 503, 503]  # the limit, and not one request more
    assert delivered(sim, key) == 0
    assert messages(app, code)[key]["attempts"] == 3
    [dead] = dead_jobs(app.extensions["motcua"].store)  # what `motcua jobs` lists
    assert dead["task"] == "send_message" and dead["args"] == {"code": code, "key": key} and "503" in dead["error"]

    store = app.extensions["motcua"].store
    accounts.create_account(store, "lan", "Nguyễn Thị Lan", ["desk"], [AGENCY], PASSWORD)
    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert client.post("/staff/login", data={"username": "lan", "password": PASSWORD, "csrf_token": token}).status_code == 302
    staff_page = client.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert "Không gửi được 1 tin (cổng tin nhắn từ chối hoặc đã hết số lần thử)" in staff_page
    assert "Gửi không thành công" in staff_page and "0912345678" in staff_page and "503" in staff_page
    english = client.get(f"/staff/ho-so/{code}?lang=en").get_data(as_text=True)
    assert "Not delivered" in english
    dev = app.test_client().get(f"/dev/outbox?code={code}").get_data(as_text=True)
    assert "Gửi không thành công" in dev


def staff_client(app):
    accounts.create_account(app.extensions["motcua"].store, "lan", "Nguyễn Thị Lan", ["desk"], [AGENCY], PASSWORD)
    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert client.post("/staff/login", data={"username": "lan", "password": PASSWORD, "csrf_token": token}).status_code == 302
    return client


@pytest.mark.parametrize("status", [400, 422])
def test_a_message_the_gateway_refuses_fails_at_once_with_its_answer(app, gateway, status) -> None:
    sim, server = gateway
    use_gateway(app, server)
    fail_next(server, 1, status=status, error="invalid phone number")
    code = file_dossier(app, make_spec(STEPS), email=None)
    assert app.extensions["motcua"].engine.flush()
    [key] = messages(app, code)
    msg = messages(app, code)[key]
    assert msg["status"] == "failed" and msg["attempts"] == 1
    assert msg["error"] == f"gateway answered {status}: invalid phone number"
    assert send_message(app, code, key) == "done" and run_jobs(app)
    assert outcomes(sim, key) == [status]  # one request, never another
    assert "invalid phone number" in dead_jobs(app.extensions["motcua"].store)[0]["error"]
    assert delivered(sim, key) == 0

    staff_page = staff_client(app).get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert "Gửi không thành công" in staff_page and "invalid phone number" in staff_page


@pytest.mark.parametrize("status", [503, 408, 429])
def test_a_gateway_busy_or_down_is_retried_until_it_accepts(app, gateway, status) -> None:
    sim, server = gateway
    use_gateway(app, server, NOTIFY_BACKOFF_SECONDS=1)  # its retry not due within the first run
    fail_next(server, 1, status=status)
    code = file_dossier(app, make_spec(STEPS), email=None)
    assert app.extensions["motcua"].engine.flush()
    [key] = messages(app, code)
    msg = messages(app, code)[key]
    assert msg["status"] == "pending" and msg["error"].startswith(f"gateway answered {status}")
    wait_for(lambda: run_jobs(app) and messages(app, code)[key]["status"] == "sent")
    assert outcomes(sim, key) == [status, 202]
    assert delivered(sim, key) == 1


def test_a_message_waiting_for_its_retry_is_shown_to_staff(app, gateway) -> None:
    sim, server = gateway
    app.config.update(NOTIFY_URL=server.url, NOTIFY_API_KEY="K", NOTIFY_BACKOFF_SECONDS=600)
    fail_next(server, 1)
    code = file_dossier(app, make_spec(STEPS), email=None)
    assert app.extensions["motcua"].engine.flush()
    store = app.extensions["motcua"].store
    accounts.create_account(store, "lan", "Nguyễn Thị Lan", ["desk"], [AGENCY], PASSWORD)
    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/staff/login", data={"username": "lan", "password": PASSWORD, "csrf_token": token})
    staff_page = client.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert "Chờ gửi lại lúc" in staff_page and "Gửi không thành công" not in staff_page


def test_embedded_catch_up_defers_again_a_message_whose_job_was_lost(app, gateway) -> None:
    """The embedded store defers a job after the change is saved, and Huey deletes a job
    when it starts it: a crash there loses the job, never the message."""
    sim, server = gateway
    use_gateway(app, server, CATCH_UP_GRACE_SECONDS=0)
    outbox = outbox_for(app.extensions["motcua"], app.config)
    code = file_dossier(app, make_spec(STEPS), email=None)
    queue = queue_for(app.extensions["motcua"].store, app.config)
    queue.huey.flush()  # the process died before its jobs ran: they are gone
    assert outbox.enqueue("lost:sms", code=code, channel="sms", to="0912345678", body="Mất việc")  # never deferred
    assert run_jobs(app) and delivered(sim, "lost:sms") == 0
    assert catch_up(app)["messages"] == 2  # the "filed" SMS and this one
    assert catch_up(app)["messages"] == 2  # (a second pass defers them again: harmless)
    assert run_jobs(app)
    assert all(m["status"] == "sent" for m in messages(app, code).values())
    assert delivered(sim, "lost:sms") == 1 and all(delivered(sim, k) == 1 for k in messages(app, code))
    assert catch_up(app)["messages"] == 0


def _worker(data: Path, pg_url: str, gateway_url: str, **env: str) -> subprocess.Popen:
    return start_worker(data, {"MOTCUA_STORE": pg_url, "MOTCUA_NOTIFY_URL": gateway_url, "MOTCUA_NOTIFY_API_KEY": "K",
                               "MOTCUA_NOTIFY_BACKOFF_SECONDS": "0.1", "MOTCUA_PUBLIC_URL": "http://127.0.0.1:9", **env})


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_workers_send_each_message_once(app, data_dir, store_target, gateway) -> None:
    sim, server = gateway
    use_gateway(app, server)
    fail_next(server, 4)
    codes = [file_dossier(app, make_spec(STEPS)) for _ in range(4)]  # an SMS and an e-mail each: 8 messages
    workers = [_worker(data_dir, store_target, server.url) for _ in range(2)]
    try:
        wait_for(lambda: all(m["status"] == "sent" for c in codes for m in messages(app, c).values()), timeout=120)
    finally:
        errors = [stop_worker(w) for w in workers]
    keys = [k for c in codes for k in messages(app, c)]
    assert len(keys) == 8 and all(delivered(sim, k) == 1 for k in keys), errors
    assert sum(1 for r in sim.extensions["messaging_sim_requests"] if r["status"] == 503) == 4
    assert dead_jobs(app.extensions["motcua"].store) == []


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_worker_killed_in_the_middle_of_a_job_loses_nothing(app, data_dir, store_target, gateway) -> None:
    sim, server = gateway
    use_gateway(app, server)
    code = file_dossier(app, make_spec(STEPS), email=None)  # one SMS
    [key] = messages(app, code)
    hold = urllib.request.Request(server.url + "/sim/hold", data=json.dumps({"count": 1}).encode(),
                                  headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(hold, timeout=5).read()  # the gateway keeps the first request waiting
    fast = {"MOTCUA_JOBS_STALLED_SECONDS": "3", "MOTCUA_NOTIFY_LEASE_SECONDS": "2"}
    first = _worker(data_dir, store_target, server.url, **fast)
    try:
        wait_for(lambda: json.loads(urllib.request.urlopen(server.url + "/sim/held", timeout=5).read())["waiting"] == 1,
                 timeout=120)  # however long the worker's start takes
        assert messages(app, code)[key]["status"] == "sending"
        first.send_signal(signal.SIGKILL)  # mid-send: the job is a row in `doing`, its worker gone
        first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    with app.extensions["motcua"].store.connection() as conn:
        assert conn.execute("SELECT status::text FROM procrastinate_jobs WHERE task_name = 'motcua:send_message'"
                            ).fetchone()[0] == "doing"
    wait_until_stalled(app.extensions["motcua"].store, 3)  # the dead worker's heartbeat is stale now
    second = _worker(data_dir, store_target, server.url, **fast)
    try:
        wait_for(lambda: messages(app, code)[key]["status"] == "sent", timeout=120)
    finally:
        err = stop_worker(second)
    assert delivered(sim, key) == 1, err  # the held request never got through; the new one did, once
    assert "of a dead worker queued again" in err


def test_admins_see_the_jobs_that_gave_up_and_others_do_not(app, gateway) -> None:
    sim, server = gateway
    use_gateway(app, server, NOTIFY_MAX_ATTEMPTS=1)
    fail_next(server, -1)
    code = file_dossier(app, make_spec(STEPS), email=None)
    assert run_jobs(app)
    store = app.extensions["motcua"].store
    accounts.create_account(store, "quantri", "Trần Quản Trị", ["admin"], [], PASSWORD)
    admin = app.test_client()
    page = admin.get("/staff/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    admin.post("/staff/login", data={"username": "quantri", "password": PASSWORD, "csrf_token": token})
    html = admin.get("/staff/viec-nen").get_data(as_text=True)
    assert "Việc nền lỗi" in html and "send_message" in html and code in html and "503" in html
    assert "Failed background jobs" in admin.get("/staff/viec-nen?lang=en").get_data(as_text=True)
    desk = staff_client(app)
    assert desk.get("/staff/viec-nen").status_code == 403
