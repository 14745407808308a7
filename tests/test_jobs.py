"""The job queue (motcua.jobs: procrastinate on the PostgreSQL store).

Checked on a real database: a job deferred inside the store's transaction commits with the
dossier's writes or not at all; one idempotency key, one waiting job; and a real
`motcua worker` process runs the queue: it starts a dossier a crash left stored but
unstarted (what cron ran `motcua workflow retry` for), once.
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
    """A process files through the API into PostgreSQL and is killed (SIGKILL) right after the
    store acknowledged the dossier, before its workflow started."""
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
    with store.connection() as conn:
        return conn.execute("SELECT task_name, status, queueing_lock FROM procrastinate_jobs ORDER BY id").fetchall()


def test_a_job_commits_with_the_dossier_transaction_or_not_at_all(pg_url, data_dir) -> None:
    store = open_store(pg_url, data_dir)
    try:
        with pytest.raises(RuntimeError):
            with store.transaction():
                store.records("notes").put("A", {"n": 1})
                assert jobs.defer(store, "retry_steps", lock="A:filed", code="A") is not None
                raise RuntimeError("the dossier write failed")
        assert store.records("notes").get("A") is None
        assert _jobs(store) == []  # rolled back with it

        with store.transaction():
            store.records("notes").put("A", {"n": 1})
            jobs.defer(store, "retry_steps", lock="A:filed", code="A")
        assert _jobs(store) == [("motcua:retry_steps", "todo", "A:filed")]
        assert jobs.defer(store, "retry_steps", lock="A:filed", code="A") is None  # same key: still one
        assert len(_jobs(store)) == 1
        assert jobs.dead_jobs(store) == []
    finally:
        store.close()


def test_embedded_store_has_no_queue(data_dir) -> None:
    store = open_store(str(data_dir), data_dir)
    assert not jobs.has_queue(store)
    with pytest.raises(jobs.QueueUnavailable):
        jobs.defer(store, "retry_steps", code="A")


def test_motcua_worker_starts_a_dossier_a_crash_left_unstarted(tmp_path: Path, pg_url) -> None:
    data = tmp_path / "data"
    code = _crash_while_filing(tmp_path, data, pg_url)
    store = open_store(pg_url, data)
    try:
        assert "_engine" not in store.dossiers.get(code).steps  # acknowledged, never started
        jobs.defer(store, "retry_steps", lock=f"{code}:unstarted", code=code)
        env = {**os.environ, "MOTCUA_STORE": pg_url, "MOTCUA_PUBLIC_URL": "http://127.0.0.1:9",
               "MOTCUA_WORKFLOW_START_GRACE_SECONDS": "0"}
        done = subprocess.run([str(Path(sys.executable).parent / "motcua"), "worker", "--until-empty",
                               "--data", str(data), "--specs", str(SPECS)],
                              capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 0, done.stderr
        dossier = store.dossiers.get(code)
        assert dossier.steps["_engine"]["dispatched"] >= 1
        assert [e.kind for e in dossier.events].count("filed") == 1
        assert [status for task, status, _ in _jobs(store) if task == "motcua:retry_steps"] == ["succeeded"]
    finally:
        store.close()
