"""A dossier stored but never started (issue 10, finding 5) is started, once.

The crash window is made for real: a process files through the JSON API and is killed with
SIGKILL right after the store acknowledged the dossier, before the engine started its
workflow. The `catch_up` job (run by `motcua worker` as it starts and every minute, and by
the web server's in-process queue on the embedded store) then finds and starts it; a second
pass, or two at once, start nothing again.
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
from tests.conftest import REPO, SPECS
from fixtures.workflow_kit import wait_for
from tests.portal_helpers import BIRTH_CODE
from tests.test_api_portal import body

FILER = r'''
import json, os, signal, sys

from motcua.app import create_app

app = create_app({"DATA_DIR": sys.argv[1], "SPECS_DIR": sys.argv[2], "TESTING": True})


def die(code, dossier=None):  # the process dies between storing the dossier and starting its workflow
    print(code, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


app.extensions["motcua"].engine.on_filed = die
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
    assert stored is not None and stored.status == 1 and "_engine" not in stored.steps  # acknowledged, not started
    return code


def _started(data: Path, code: str) -> int:
    return int(open_store(data).dossiers.get(code).steps.get("_engine", {}).get("dispatched", 0))


def test_the_worker_starts_a_dossier_a_crash_left_unstarted_and_only_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code = _crash_while_filing(tmp_path, data)
    runner = CliRunner()
    args = ["worker", "--until-empty", "--data", str(data), "--specs", str(SPECS), "--public-url", "http://127.0.0.1:9"]

    young = runner.invoke(main, args)  # just filed: its own process may still be starting it
    assert young.exit_code == 0, young.output
    assert _started(data, code) == 0

    first = runner.invoke(main, args, env={"MOTCUA_WORKFLOW_START_GRACE_SECONDS": "0"})
    assert first.exit_code == 0, first.output
    after = open_store(data).dossiers.get(code)
    assert after.steps["_engine"]["dispatched"] >= 1

    again = runner.invoke(main, args, env={"MOTCUA_WORKFLOW_START_GRACE_SECONDS": "0"})
    assert again.exit_code == 0, again.output
    assert open_store(data).dossiers.get(code).model_dump() == after.model_dump()


def test_the_server_starts_it_at_start_and_two_at_once_start_it_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code = _crash_while_filing(tmp_path, data)
    config = {"DATA_DIR": str(data), "SPECS_DIR": str(SPECS), "TESTING": True}
    apps = [create_app(config), create_app(config)]

    results: list[list[str]] = []
    barrier = threading.Barrier(2)

    def start(app) -> None:
        barrier.wait()
        with app.app_context():
            results.append(app.extensions["motcua"].engine.start_unstarted(0))

    threads = [threading.Thread(target=start, args=(app,)) for app in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    dossier = open_store(data).dossiers.get(code)
    assert dossier.steps["_engine"]["dispatched"] >= 1
    assert [e.kind for e in dossier.events].count("filed") == 1
    keys = [m["key"] for m in outbox_for(apps[0].extensions["motcua"], apps[0].config).messages(code)]
    assert len(keys) == len(set(keys))
    assert sum(len(r) for r in results) >= 1

    # Another crash, then a server start: its in-process queue starts the dossier at once,
    # not at the next minute.
    code2 = _crash_while_filing(tmp_path, data)
    app = create_app({**config, "JOBS_IN_PROCESS": True, "WORKFLOW_START_GRACE_SECONDS": 0})
    try:
        wait_for(lambda: _started(data, code2) >= 1, timeout=30)
    finally:
        queue_for(app.extensions["motcua"].store, app.config).close()
