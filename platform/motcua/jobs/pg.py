"""The job queue of the PostgreSQL store: procrastinate, its tables in the store's database.

A job is deferred through `StoreConnector`, which runs procrastinate's queries on the store's
own connections: inside `store.transaction()` on that transaction's connection, so the job
row commits with the dossier change or rolls back with it. The worker (`motcua worker`)
uses procrastinate's own async connector on the same database. A job being run is a row in
status `doing`; if its worker dies (SIGKILL, power loss) its heartbeat stops, and the
`recover_stalled` periodic job of any live worker puts it back in the queue after
STALLED_SECONDS.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import procrastinate
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from procrastinate.sync_psycopg_connector import SyncPsycopgConnector, wrap_exceptions

from motcua.jobs import Job, Task, gave_up, outcome

log = logging.getLogger(__name__)

#: A worker whose heartbeat is older than this is taken for dead, and its jobs run again.
STALLED_SECONDS = 30
#: procrastinate's task names are ours with this prefix.
NAMESPACE = "motcua"


class StoreConnector(SyncPsycopgConnector):
    """procrastinate's queries on the store's connections (see the module's docstring). The
    store owns the pool: opening and closing the connector do nothing."""

    def __init__(self, store: Any) -> None:
        super().__init__()
        self._store = store

    def open(self, pool: Any = None) -> None:
        pass

    def close(self) -> None:
        pass

    @contextlib.contextmanager
    def _get_cursor(self, connection: Any = None) -> Iterator[Any]:
        import psycopg

        with (contextlib.nullcontext(connection) if connection is not None else self._store.connection()) as conn:
            with conn.cursor(row_factory=psycopg.rows.dict_row) as cursor:
                yield cursor

    @wrap_exceptions()
    def execute_query(self, query: Any, **arguments: Any) -> None:
        with self._store.connection() as conn:
            conn.execute(query, self._wrap_json(arguments))


class _Backoff(BaseRetryStrategy):
    """Our retry rule (motcua.jobs.outcome) in procrastinate's terms."""

    def __init__(self, task: Task, config: Any) -> None:
        self.task = task
        self.config = config

    def get_retry_decision(self, *, exception: BaseException, job: Any) -> RetryDecision | None:
        if outcome(self.task, self.config, exception, job.attempts + 1) == "dead":
            return None
        return RetryDecision(retry_in={"seconds": self.task.backoff(self.config) * 2 ** job.attempts})


def ensure_schema(url: str) -> None:
    """Create procrastinate's tables in the store's database once (processes starting at
    once are ordered by an advisory lock). A procrastinate upgrade with schema changes needs
    its migrations applied (docs/deploy.md)."""
    import psycopg
    from procrastinate.schema import SchemaManager

    # a connection of its own: never inside a caller's transaction, which could roll it back
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('motcua-procrastinate-schema'))")
        if conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()[0] is None:
            conn.execute(SchemaManager.get_schema())


class PgQueue:
    """motcua.jobs.JobQueue on procrastinate."""

    def __init__(self, store: Any, config: Any, tasks: dict[str, Task]) -> None:
        ensure_schema(store.url)
        self.store = store
        self.config = config
        self.tasks = dict(tasks)
        self.app = self._app(StoreConnector(store))
        self.app.open()

    def _app(self, connector: Any) -> procrastinate.App:
        app = procrastinate.App(connector=connector)
        store = self.store
        for task in self.tasks.values():
            def run(context: procrastinate.JobContext, _task: Task = task, **arguments: Any) -> Any:
                arguments.pop("timestamp", None)  # given to periodic jobs
                job = context.job
                flask_app = context.additional_context["motcua_app"]
                try:
                    return _task.run(flask_app, **arguments)
                except Exception as error:
                    if outcome(_task, self.config, error, job.attempts + 1) == "dead":
                        gave_up(flask_app, store, f"pg-{job.id}", _task, arguments, job.attempts + 1, error,
                                job.queueing_lock)
                    raise

            wrapped = app.task(name=f"{NAMESPACE}:{task.name}", pass_context=True, retry=_Backoff(task, self.config),
                               queueing_lock=task.name if task.cron else None)(run)
            if task.cron:
                app.periodic(cron=task.cron, periodic_id=task.name)(wrapped)
        recover = app.task(name=f"{NAMESPACE}:recover_stalled", pass_context=True,
                           queueing_lock="recover_stalled")(_recover_stalled)
        app.periodic(cron="* * * * *", periodic_id="recover_stalled")(recover)
        return app

    def defer(self, task: str, *, unique: str | None = None, **arguments: Any) -> None:
        try:
            self.app.configure_task(f"{NAMESPACE}:{task}", queueing_lock=unique).defer(**arguments)
        except procrastinate.exceptions.AlreadyEnqueued:
            pass  # that key's job still waits: it will do this work

    def defer_many(self, jobs: list[Job]) -> None:
        # one insert each (their queueing locks differ); inside the store's transaction they
        # commit together with the change anyway
        for job in jobs:
            self.defer(job.task, unique=job.unique, **job.arguments)

    def _worker_app(self) -> procrastinate.App:
        from procrastinate import PsycopgConnector

        return self._app(PsycopgConnector(conninfo=self.store.url, min_size=1, max_size=4))

    def run_pending(self, flask_app: Any) -> int:
        import threading

        before = self._finished()
        failed: list[BaseException] = []

        def run() -> None:
            try:
                self._worker_app().run_worker(wait=False, additional_context={"motcua_app": flask_app},
                                              install_signal_handlers=False, listen_notify=False, delete_jobs="never")
            except BaseException as error:  # noqa: BLE001 - handed to the caller below
                failed.append(error)

        # a thread of its own: procrastinate's worker runs an event loop, and the caller's
        # thread may have one running already (a browser test's Playwright)
        thread = threading.Thread(target=run, name="motcua-jobs-run-pending")
        thread.start()
        thread.join()
        if failed:
            raise failed[0]
        return self._finished() - before

    def _finished(self) -> int:
        with self.store.connection() as conn:
            return conn.execute("SELECT count(*) FROM procrastinate_jobs WHERE status <> 'todo'").fetchone()[0]

    def stalled_seconds(self) -> float:
        return float(self.config.get("JOBS_STALLED_SECONDS", STALLED_SECONDS))

    def recover_stalled(self) -> int:
        """Put back in the queue the jobs of workers whose heartbeat is older than the stall
        time (they died); a starting worker does it first, then every minute."""
        from datetime import datetime, timezone

        with self.store.connection() as conn:
            stalled = [job_id for (job_id,) in conn.execute(
                "SELECT j.id FROM procrastinate_jobs j LEFT JOIN procrastinate_workers w ON w.id = j.worker_id "
                "WHERE j.status = 'doing' AND (w.id IS NULL OR w.last_heartbeat < now() - make_interval(secs => %s))",
                (self.stalled_seconds(),))]
        for job_id in stalled:
            self.app.job_manager.retry_job_by_id(job_id, retry_at=datetime.now(timezone.utc))
            log.warning("job %s of a dead worker queued again", job_id)
        return len(stalled)

    def run_worker(self, flask_app: Any, *, wait: bool = True, concurrency: int = 1) -> None:
        self.recover_stalled()
        stalled = self.stalled_seconds()
        self._worker_app().run_worker(wait=wait, concurrency=concurrency, additional_context={"motcua_app": flask_app},
                                      stalled_worker_timeout=stalled, update_heartbeat_interval=max(0.5, min(10.0, stalled / 3)))

    def jobs(self) -> list[tuple[str, str, str | None]]:
        """(task, status, idempotency key) of every job, oldest first (tests, diagnosis)."""
        with self.store.connection() as conn:
            return conn.execute(
                "SELECT task_name, status::text, queueing_lock FROM procrastinate_jobs ORDER BY id").fetchall()

    def close(self) -> None:
        pass


def _recover_stalled(context: procrastinate.JobContext, timestamp: int) -> int:
    """Every minute: the jobs of a worker that died go back to the queue once its heartbeat
    is JOBS_STALLED_SECONDS old; they run again from the start (every task is idempotent)."""
    flask_app = context.additional_context["motcua_app"]
    from motcua.jobs import queue_for

    return queue_for(flask_app.extensions["motcua"].store, flask_app.config).recover_stalled()  # type: ignore[attr-defined]
