"""The app built the way any WSGI server builds it gets the same safety as `motcua serve`.

gunicorn, uwsgi and waitress-serve import `motcua.app:create_app` and call it with no
argument: everything comes from `MOTCUA_*` environment variables. Checked on a real
`waitress-serve --call motcua.app:create_app` process (and on the embedded store and
PostgreSQL): only the public address's host is served, the demo staff accounts (published
password) are switched off, and the jobs run: on the embedded store in that process (a
message waiting in the queue is delivered, exactly once), on PostgreSQL by `motcua worker`
beside it, never by the web process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import BACKENDS, SPECS, LiveServer, free_port, wait_for_server
from fixtures.workflow_kit import file_dossier, make_spec, wait_for
from motcua import accounts
from motcua.app import create_app
from motcua.jobs import queue_for
from motcua.workflow.outbox import outbox_for
from motcua_plugins.simulators import messaging


def _env(data_dir: Path, store: str, port: int, gateway_url: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")},
        "MOTCUA_DATA_DIR": str(data_dir), "MOTCUA_SPECS_DIR": str(SPECS), "MOTCUA_STORE": store,
        "MOTCUA_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "MOTCUA_NOTIFY_URL": gateway_url, "MOTCUA_NOTIFY_API_KEY": "K",
        "MOTCUA_NOTIFY_BACKOFF_SECONDS": "0.1",
    }


def _get(port: int, host: str) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:  # not listening yet
        return 0


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_waitress_serve_of_the_factory_gets_what_motcua_serve_sets_up(app, data_dir, store_target) -> None:
    services = app.extensions["motcua"]
    spec = make_spec(["review", "notify"])
    accounts.ensure_demo_accounts(services.store, [spec])  # a folder that once served a demo
    assert any(a.active for a in accounts.all_accounts(services.store) if a.demo)
    sim = messaging.create_app(api_key="K")
    with LiveServer(sim) as gateway:
        app.config.update(NOTIFY_URL=gateway.url, NOTIFY_API_KEY="K")
        code = file_dossier(app, spec, email=None)  # one SMS: "filed", its job waiting in the queue
        [message] = outbox_for(services, app.config).messages(code)
        assert message["status"] == "pending" and message["attempts"] == 0

        port = free_port()
        env = _env(data_dir, store_target, port, gateway.url)
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "waitress-serve"), "--listen", f"127.0.0.1:{port}",
             "--call", "motcua.app:create_app"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for_server(server, f"http://127.0.0.1:{port}/")  # however long the start takes
            assert _get(port, "evil.example") == 400  # a forged Host header is refused
            assert _get(port, f"127.0.0.1:{port}") == 200
            assert not any(a.active for a in accounts.all_accounts(services.store) if a.demo)
            status = lambda: outbox_for(services, app.config).messages(code)[0]["status"]  # noqa: E731
            if store_target.startswith("postgresql"):
                time.sleep(2)
                assert status() == "pending"  # a web process does not run PostgreSQL's queue ...
                worker = subprocess.run([str(Path(sys.executable).parent / "motcua"), "worker", "--until-empty"],
                                        env=env, capture_output=True, text=True, timeout=120)
                assert worker.returncode == 0, worker.stderr  # ... `motcua worker` does
            wait_for(lambda: status() == "sent", timeout=30)  # embedded: the server's own threads
            assert sum(1 for m in sim.extensions["messaging_sim"] if m.get("id") == message["key"]) == 1
        finally:
            server.terminate()
            _out, err = server.communicate(timeout=30)
    assert "disabled: this is not a demo start" in err


def test_create_app_from_the_environment_alone(data_dir, monkeypatch) -> None:
    for name in [k for k in os.environ if k.startswith("MOTCUA_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("MOTCUA_DATA_DIR", str(data_dir))
    monkeypatch.setenv("MOTCUA_SPECS_DIR", str(SPECS))
    monkeypatch.setenv("MOTCUA_PUBLIC_URL", "https://dichvucong.example.gov.vn")
    app = create_app()
    try:
        assert app.config["TRUSTED_HOSTS"] == ["dichvucong.example.gov.vn"]
        assert app.config["SESSION_COOKIE_SECURE"] is True
        queue = queue_for(app.extensions["motcua"].store, app.config)
        consumer = queue._consumer
        assert consumer is not None  # the embedded store's queue runs in the web process
        client = app.test_client()
        assert client.get("/", base_url="https://evil.example").status_code == 400
        assert client.get("/", base_url="https://dichvucong.example.gov.vn").status_code == 200
        assert queue._consumer is consumer  # one per process, not one per request
    finally:
        queue.close()
        app.extensions["motcua"].store.close()

    monkeypatch.setenv("MOTCUA_TRUSTED_HOSTS", '["dichvucong.example.gov.vn", "web1.internal"]')
    monkeypatch.setenv("MOTCUA_JOBS_IN_PROCESS", "false")
    other = create_app()
    try:
        assert other.config["TRUSTED_HOSTS"] == ["dichvucong.example.gov.vn", "web1.internal"]
        assert queue_for(other.extensions["motcua"].store, other.config)._consumer is None  # a worker's job then
    finally:
        other.extensions["motcua"].store.close()
