"""Messages the gateway refused are tried again by the server itself, not by a cron job.

The SMS / e-mail simulator runs on a real local server and refuses the first N requests
(or all of them); the sweeper (motcua.workflow.outbox.Sweeper, what `motcua serve` runs)
tries again with exponential backoff. Checked: one delivery per message whatever the
retries, a permanent failure stops at the limit and is shown to staff, two `motcua serve`
processes on one data folder send each message once, and a stopped server hands its lease
to the other.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import SPECS, LiveServer, free_port
from fixtures.workflow_kit import AGENCY, file_dossier, make_spec, wait_for
from motcua import accounts
from motcua.workflow.outbox import LEASES, SWEEP_LEASE, Sweeper, outbox_for, start_sweeper
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
    app.config.update(NOTIFY_URL=server.url, NOTIFY_API_KEY="K", NOTIFY_BACKOFF_SECONDS=0.05,
                      OUTBOX_SWEEP_SECONDS=0.05, **config)


def test_sweeper_is_off_in_tests_unless_asked(app) -> None:
    assert start_sweeper(app) is None
    app.config.update(OUTBOX_SWEEP_SECONDS=0)
    assert start_sweeper(app) is None


def test_refused_sms_is_retried_with_backoff_and_delivered_once(app, gateway) -> None:
    sim, server = gateway
    use_gateway(app, server)
    fail_next(server, 3)
    code = file_dossier(app, make_spec(STEPS), email=None)  # one SMS: "filed"
    assert app.extensions["motcua"].engine.flush()  # the courier's first attempt: refused
    [key] = messages(app, code)
    assert messages(app, code)[key]["status"] == "pending" and messages(app, code)[key]["attempts"] == 1

    sweeper = start_sweeper(app)
    assert sweeper is not None
    try:
        wait_for(lambda: messages(app, code)[key]["status"] == "sent")
        for _ in range(3):
            sweeper.sweep()  # more rounds after delivery send nothing again
    finally:
        assert sweeper.stop(timeout=10)
    assert not sweeper.running
    msg = messages(app, code)[key]
    assert msg["attempts"] == 4 and msg["error"] is None
    assert outcomes(sim, key) == [503, 503, 503, 202]
    assert delivered(sim, key) == 1
    lease = app.extensions["motcua"].store.records(LEASES).get(SWEEP_LEASE)
    assert lease["owner"] == sweeper.owner
    assert datetime.fromisoformat(lease["until"]) <= datetime.now(timezone.utc)  # handed back on stop


def test_backoff_doubles_per_message(app, gateway) -> None:
    sim, server = gateway
    app.config.update(NOTIFY_URL=server.url, NOTIFY_API_KEY="K", NOTIFY_BACKOFF_SECONDS=10)
    fail_next(server, -1)
    code = file_dossier(app, make_spec(STEPS), email=None)
    assert app.extensions["motcua"].engine.flush()
    outbox = outbox_for(app.extensions["motcua"], app.config)
    [key] = messages(app, code)
    waits = []
    for _ in range(3):
        m = messages(app, code)[key]
        now = datetime.fromisoformat(m["next_try"])
        assert outbox.send_due(now=now)["retry"] == 1
        waits.append((datetime.fromisoformat(messages(app, code)[key]["next_try"]) - now).total_seconds())
    assert waits == [20, 40, 80]
    assert delivered(sim, key) == 0


def test_permanent_failure_stops_at_the_limit_and_staff_see_it(app, gateway) -> None:
    sim, server = gateway
    use_gateway(app, server, NOTIFY_MAX_ATTEMPTS=3)
    fail_next(server, -1)  # the gateway refuses everything
    code = file_dossier(app, make_spec(STEPS), email=None)
    assert app.extensions["motcua"].engine.flush()
    [key] = messages(app, code)
    sweeper = start_sweeper(app)
    try:
        wait_for(lambda: messages(app, code)[key]["status"] == "failed")
        for _ in range(3):
            assert sweeper.sweep() == {"sent": 0, "retry": 0, "failed": 0, "dropped": 0}
    finally:
        assert sweeper.stop(timeout=10)
    assert outcomes(sim, key) == [503, 503, 503]  # the limit, and not one request more
    assert delivered(sim, key) == 0
    assert messages(app, code)[key]["attempts"] == 3

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
    outbox = outbox_for(app.extensions["motcua"], app.config)
    assert outbox.send_due(now=datetime.fromisoformat(msg["next_try"])) == {"sent": 0, "retry": 0, "failed": 0, "dropped": 0}
    assert outcomes(sim, key) == [status]  # one request, never another
    assert delivered(sim, key) == 0

    staff_page = staff_client(app).get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert "Gửi không thành công" in staff_page and "invalid phone number" in staff_page


@pytest.mark.parametrize("status", [503, 408, 429])
def test_a_gateway_busy_or_down_is_retried_until_it_accepts(app, gateway, status) -> None:
    sim, server = gateway
    use_gateway(app, server)
    fail_next(server, 1, status=status)
    code = file_dossier(app, make_spec(STEPS), email=None)
    assert app.extensions["motcua"].engine.flush()
    [key] = messages(app, code)
    msg = messages(app, code)[key]
    assert msg["status"] == "pending" and msg["error"].startswith(f"gateway answered {status}")
    outbox = outbox_for(app.extensions["motcua"], app.config)
    assert outbox.send_due(now=datetime.fromisoformat(msg["next_try"]))["sent"] == 1
    assert messages(app, code)[key]["status"] == "sent"
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


def test_only_the_lease_holder_sweeps_and_a_dead_holder_is_taken_over(app) -> None:
    store = app.extensions["motcua"].store
    make = lambda: outbox_for(app.extensions["motcua"], app.config)  # noqa: E731
    first = Sweeper(store, make, interval=1, lease_seconds=60, owner="host:1")
    second = Sweeper(store, make, interval=1, lease_seconds=60, owner="host:2")
    assert first.sweep() is not None
    assert second.sweep() is None  # the first holds the lease
    assert first.sweep() is not None  # and renews it
    later = datetime.fromisoformat(store.records(LEASES).get(SWEEP_LEASE)["until"])
    assert second.take_lease(now=later)  # the first stopped renewing (died): taken over
    assert not first.take_lease()


def _serve(data: Path, port: int, gateway_url: str) -> subprocess.Popen:
    env = {**os.environ, "MOTCUA_NOTIFY_URL": gateway_url, "MOTCUA_NOTIFY_API_KEY": "K",
           "MOTCUA_NOTIFY_BACKOFF_SECONDS": "0.1", "MOTCUA_OUTBOX_SWEEP_LEASE_SECONDS": "30"}
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "motcua"), "serve", "--specs", str(SPECS), "--data", str(data),
         "--host", "127.0.0.1", "--port", str(port), "--public-url", f"http://127.0.0.1:{port}",
         "--outbox-interval", "0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def _up(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
        return True
    except OSError:
        return False


def test_two_serve_processes_send_each_message_once_and_hand_over_on_stop(app, data_dir, gateway) -> None:
    sim, server = gateway
    app.config.update(NOTIFY_URL=server.url, NOTIFY_API_KEY="K", NOTIFY_BACKOFF_SECONDS=0.1)
    fail_next(server, 4)
    code = file_dossier(app, make_spec(STEPS))  # an SMS and an e-mail: "filed"
    assert app.extensions["motcua"].engine.flush()  # both refused once
    keys = sorted(messages(app, code))
    assert len(keys) == 2 and all(m["status"] == "pending" for m in messages(app, code).values())

    ports = [free_port(), free_port()]
    servers = [_serve(data_dir, port, server.url) for port in ports]
    try:
        wait_for(lambda: all(_up(p) for p in ports), timeout=30)
        wait_for(lambda: all(m["status"] == "sent" for m in messages(app, code).values()), timeout=30)
        for key in keys:
            assert delivered(sim, key) == 1
        assert sum(1 for r in sim.extensions["messaging_sim_requests"] if r["status"] == 503) == 4
        holder = app.extensions["motcua"].store.records(LEASES).get(SWEEP_LEASE)["owner"]
        pids = {str(p.pid): p for p in servers}
        holder_pid = holder.split(":")[1]
        assert holder_pid in pids

        # The holder stops (SIGTERM): it hands the lease back, and the other one sends from then on.
        stopping = pids.pop(holder_pid)
        stopping.send_signal(signal.SIGTERM)
        out, err = stopping.communicate(timeout=20)
        assert stopping.returncode == 0, err
        assert "outbox sweeper stopped" in out
        [other] = pids.values()
        outbox = outbox_for(app.extensions["motcua"], app.config)
        outbox.enqueue("later:sms", code=code, channel="sms", to="0912345678", body="Sau khi dừng một máy")
        wait_for(lambda: messages(app, code)["later:sms"]["status"] == "sent", timeout=30)
        owner = app.extensions["motcua"].store.records(LEASES).get(SWEEP_LEASE)["owner"]
        assert owner.split(":")[1] == str(other.pid)
        assert delivered(sim, "later:sms") == 1
    finally:
        for process in servers:
            if process.poll() is None:
                process.terminate()
                process.communicate(timeout=20)
