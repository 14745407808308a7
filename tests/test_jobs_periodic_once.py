"""Periodic jobs are deferred once per minute however many embedded-store web processes run.

Each web process on the embedded store runs a Huey consumer in its own threads, and each
consumer's scheduler checks the periodic jobs (the catch-up every minute ...) every minute.
Two real web processes (create_app + waitress, as gunicorn workers would be) share one data
folder: for every minute only one of them defers the periodic jobs (motcua.jobs.embedded.
claim_minute). The one that did is then killed with SIGKILL: the other defers the next
minute's, with nothing to take over. The schedulers' minute lasts one real second here
(WEB_PROCESS), so many minutes are contested in a few seconds.
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
import logging, sys, time
from datetime import datetime, timedelta
from waitress import serve
from motcua.app import create_app
from motcua.jobs import embedded

# A minute of the schedulers' clock lasts one second here: both processes read the same real
# second, so they agree on the "minute" they claim, and the test waits seconds, not minutes.
# Only the clock is changed; claim_minute and Huey's scheduler loop run as in production. A
# claim is kept 300 of these minutes (5 real minutes; 2 minutes in production): a process
# stalled a few seconds on a loaded machine must not find an old minute's claim deleted.
embedded._OncePerMinute.periodic_task_seconds = 1
embedded.KEEP_MINUTES = 300
_enqueue = embedded._OncePerMinute.enqueue_periodic_tasks
def _fast_minutes(self, now=None):
    _enqueue(self, datetime(2030, 1, 1) + timedelta(minutes=int(time.time()) % 1_000_000))
embedded._OncePerMinute.enqueue_periodic_tasks = _fast_minutes

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


def _settled(log: Path) -> str:
    """The log, read once every minute it claims has its catch_up "Enqueueing" line: a process
    logs its claim, then enqueues (the log may be read in between)."""
    def whole() -> str | None:
        text = log.read_text()
        return text if len(ENQUEUED.findall(text)) >= len(CLAIMED.findall(text)) else None
    return wait_for(whole, timeout=60, interval=0.1)


@pytest.mark.slow
def test_two_web_processes_defer_each_minutes_periodic_jobs_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    web = [_start(tmp_path, data, name) for name in ("a", "b")]
    try:
        # each scheduler checks the periodic jobs as it starts, then every minute
        wait_for(lambda: all(CLAIMED.search(log.read_text()) or SKIPPED.search(log.read_text()) for _, log in web),
                 timeout=120)  # however long the processes' start takes
        logs = [_settled(log) for _, log in web]
        claimed = [m for text in logs for m in CLAIMED.findall(text)]
        assert claimed and len(claimed) == len(set(claimed)), logs  # no minute deferred twice
        owner = next(i for i, (_, log) in enumerate(web) if _claims(log))
        other_process, other_log = web[1 - owner]
        web[owner][0].send_signal(signal.SIGKILL)  # the process that deferred them dies
        web[owner][0].wait(timeout=30)
        dead = web[owner][1].read_text()
        # killed between its claim and its enqueue, it leaves at most that one minute undeferred
        assert len(CLAIMED.findall(dead)) - len(ENQUEUED.findall(dead)) in (0, 1), dead
        before = set(_claims(other_log))
        # the next minutes are the survivor's, with no lock to take over
        wait_for(lambda: len(set(_claims(other_log)) - before - set(CLAIMED.findall(dead))) >= 3,
                 timeout=120, interval=0.2)
        assert other_process.poll() is None
        survivor = _settled(other_log)
        # the claim is logged before its enqueue: settled, the survivor enqueued exactly what it claimed
        assert len(ENQUEUED.findall(survivor)) == len(CLAIMED.findall(survivor)), survivor
        every = CLAIMED.findall(dead) + CLAIMED.findall(survivor)
        assert all(count == 1 for count in Counter(every).values()), (dead, survivor)
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
