"""A filing a crash cut short (issue 10, finding 5) loses nothing, and nothing is done twice.

A filing stores its dossier with its workflow already started, in one write (issue 17:
`Engine.file`); on the embedded store the jobs that send its messages (and book a parcel)
are deferred right after that write. The crash window is made for real: a process files
through the JSON API and is killed with SIGKILL right after the store acknowledged the
dossier, before its jobs were deferred. The dossier is there, started, its messages held;
the `catch_up` job (run by `motcua worker` as it starts and every minute, and by the web
server's in-process queue on the embedded store) then defers and sends them; a second pass,
or two at once, send nothing again. (A dossier stored unstarted — the desk's and the
portal draft's two-write filing — is started by the same job: tests/test_workflow.py.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

from click.testing import CliRunner

from motcua.app import create_app
from motcua.cli import main
from motcua.store import open_store
from motcua.jobs import queue_for
from motcua.workflow.outbox import outbox_for
from motcua.workflow.tasks import catch_up
from tests.conftest import REPO, SPECS
from fixtures.workflow_kit import wait_for
from tests.portal_helpers import BIRTH_CODE
from tests.test_api_portal import body

FILER = r'''
import json, os, signal, sys

from motcua.app import create_app

app = create_app({"DATA_DIR": sys.argv[1], "SPECS_DIR": sys.argv[2], "TESTING": True})


def die(code, *args, **kwargs):  # the process dies between storing the dossier and deferring its jobs
    print(code, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


app.extensions["motcua"].engine._defer = die
with open(sys.argv[3], encoding="utf-8") as f:
    app.test_client().post(sys.argv[4], json=json.load(f))
print("not killed", flush=True)
'''


def _crash_while_filing(tmp_path: Path, data: Path) -> str:
    script, payload = tmp_path / "filer.py", tmp_path / "body.json"
    script.write_text(FILER)
    payload.write_text(json.dumps(body()), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(data), str(SPECS), str(payload), f"/api/v1/procedures/{BIRTH_CODE}/dossiers"],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )
    assert done.returncode == -9, done.stderr
    code = done.stdout.strip()
    stored = open_store(data).dossiers.get(code)
    assert stored is not None and stored.steps["_engine"]["dispatched"] >= 1  # acknowledged, started
    held = _messages(data, code)
    assert held and {m["status"] for m in held} == {"pending"}  # held with it, their jobs lost
    return code


def _messages(data: Path, code: str) -> list[dict]:
    app = create_app({"DATA_DIR": str(data), "SPECS_DIR": str(SPECS), "TESTING": True})
    try:
        return outbox_for(app.extensions["motcua"], app.config).messages(code)
    finally:
        app.extensions["motcua"].store.close()


def _sent(data: Path, code: str) -> int:
    return sum(m["status"] == "sent" for m in _messages(data, code))


def test_the_worker_sends_what_a_crash_left_unsent_and_only_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code = _crash_while_filing(tmp_path, data)
    filed = open_store(data).dossiers.get(code)
    runner = CliRunner()
    args = ["worker", "--until-empty", "--data", str(data), "--specs", str(SPECS), "--public-url", "http://127.0.0.1:9"]

    young = runner.invoke(main, args)  # just filed: its own process may still be deferring them
    assert young.exit_code == 0, young.output
    assert _sent(data, code) == 0

    first = runner.invoke(main, args, env={"MOTCUA_CATCH_UP_GRACE_SECONDS": "0"})
    assert first.exit_code == 0, first.output
    sent = _messages(data, code)
    assert sent and {m["status"] for m in sent} == {"sent"}
    after = open_store(data).dossiers.get(code)
    assert after.events == filed.events  # started once, by the filing: nothing started again

    again = runner.invoke(main, args, env={"MOTCUA_CATCH_UP_GRACE_SECONDS": "0", "MOTCUA_WORKFLOW_START_GRACE_SECONDS": "0"})
    assert again.exit_code == 0, again.output
    assert open_store(data).dossiers.get(code).model_dump() == after.model_dump()
    assert _messages(data, code) == sent


def test_the_server_sends_them_at_start_and_two_at_once_send_each_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code = _crash_while_filing(tmp_path, data)
    config = {"DATA_DIR": str(data), "SPECS_DIR": str(SPECS), "TESTING": True, "CATCH_UP_GRACE_SECONDS": 0}
    apps = [create_app(config), create_app(config)]

    results: list[dict[str, int]] = []
    barrier = threading.Barrier(2)

    def start(app) -> None:
        barrier.wait()
        with app.app_context():
            results.append(catch_up(app))
            app.extensions["motcua"].engine.flush()

    threads = [threading.Thread(target=start, args=(app,)) for app in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    dossier = open_store(data).dossiers.get(code)
    assert [e.kind for e in dossier.events].count("filed") == 1
    messages = _messages(data, code)
    assert {m["status"] for m in messages} == {"sent"}
    assert all(m["attempts"] == 1 for m in messages)  # each sent once, whichever process claimed it
    assert sum(r["messages"] for r in results) >= len(messages)

    # Another crash, then a server start: its in-process queue sends them at once, not at
    # the next minute.
    code2 = _crash_while_filing(tmp_path, data)
    app = create_app({**config, "JOBS_IN_PROCESS": True})
    try:
        wait_for(lambda: _sent(data, code2) == len(_messages(data, code2)), timeout=30)
    finally:
        queue_for(app.extensions["motcua"].store, app.config).close()
