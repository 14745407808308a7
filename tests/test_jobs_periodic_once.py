"""Periodic jobs are deferred once per minute however many embedded-store web processes run.

Each web process on the embedded store runs a Huey consumer in its own threads, and each
consumer's scheduler checks the periodic jobs (the catch-up every minute ...) every minute.
Two real web processes (create_app + waitress, as gunicorn workers would be) share one data
folder: for every minute only one of them defers the periodic jobs (motcua.jobs.embedded.
claim_minute). The one that did is then killed with SIGKILL: the other defers the next
minute's, with nothing to take over.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import SPECS, free_port
from fixtures.workflow_kit import wait_for

WEB_PROCESS = """
import logging, sys
from waitress import serve
from motcua.app import create_app

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
app = create_app()  # the embedded store: its job consumer starts in this process's threads
serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=2)
"""

CLAIMED = re.compile(r"periodic jobs of (\S+): deferred by this process")
SKIPPED = re.compile(r"periodic jobs of (\S+): deferred by another process")
ENQUEUED = re.compile(r"Enqueueing periodic task \S*\bcatch_up:")


def _start(tmp_path: Path, data: Path, name: str) -> tuple[subprocess.Popen, Path]:
    script, log = tmp_path / "web.py", tmp_path / f"{name}.log"
    script.write_text(WEB_PROCESS)
    port = free_port()
    env = {**os.environ, "MOTCUA_DATA_DIR": str(data), "MOTCUA_SPECS_DIR": str(SPECS),
           "MOTCUA_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    env.pop("MOTCUA_STORE", None)
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, str(script), str(port)], stdout=out, stderr=out, env=env)
    return process, log


def _claims(log: Path) -> list[str]:
    return CLAIMED.findall(log.read_text())


def _logs(web: list[tuple[subprocess.Popen, Path]]) -> list[str]:
    """Both logs, read once every claimed minute's catch_up has its "Enqueueing" line: a process
    logs its claim, then enqueues (a loaded machine may read the logs in between)."""
    def whole() -> list[str] | None:
        texts = [log.read_text() for _, log in web]
        claimed = sum(len(CLAIMED.findall(text)) for text in texts)
        return texts if sum(len(ENQUEUED.findall(text)) for text in texts) >= claimed else None
    return wait_for(whole, timeout=60, interval=0.2)


@pytest.mark.slow
def test_two_web_processes_defer_each_minutes_periodic_jobs_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    web = [_start(tmp_path, data, name) for name in ("a", "b")]
    try:
        # each scheduler checks the periodic jobs as it starts, then every minute
        wait_for(lambda: all(CLAIMED.search(log.read_text()) or SKIPPED.search(log.read_text()) for _, log in web),
                 timeout=120)  # however long the processes' start takes
        logs = _logs(web)
        claimed = [m for text in logs for m in CLAIMED.findall(text)]
        assert claimed and len(claimed) == len(set(claimed)), logs  # no minute deferred twice
        assert sum(len(ENQUEUED.findall(text)) for text in logs) == len(claimed), logs
        owner = next(i for i, (_, log) in enumerate(web) if _claims(log))
        other_process, other_log = web[1 - owner]
        web[owner][0].send_signal(signal.SIGKILL)  # the process that deferred them dies
        web[owner][0].wait(timeout=30)
        before = set(_claims(other_log))
        # the next minute is the survivor's, with no lock to take over
        wait_for(lambda: set(_claims(other_log)) - before - set(claimed), timeout=120, interval=0.5)
        assert other_process.poll() is None
        logs = _logs(web)
        every = [m for text in logs for m in CLAIMED.findall(text)]
        assert len(every) == len(set(every)), logs
        per_minute = Counter(every)
        assert all(count == 1 for count in per_minute.values())
        assert sum(len(ENQUEUED.findall(text)) for text in logs) == len(every), logs
    finally:
        for process, _ in web:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, _ in web:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
