"""Jobs: background work run by `motcua worker` from one queue, procrastinate on PostgreSQL.

Why procrastinate (docs/deploy.md, "Jobs"): its jobs are rows of `procrastinate_jobs` in
the store's own database, so a job is deferred *in the transaction that writes the dossier*
(`defer(store, ...)` inside `store.transaction()`): both commit or neither does. A job
being run is a row in status `doing`, never taken off the table, so a worker killed with
SIGKILL loses nothing: the stalled-job task (every minute) hands the jobs of a worker whose
heartbeat stopped back to the queue. Retries back off exponentially (`RetryStrategy`), a
job out of attempts stays `failed` with its error, listed by `motcua jobs`. A queueing lock
per dossier and event keeps one pending job per idempotency key.

Only the PostgreSQL store has a queue for now: the embedded store keeps the outbox courier
and sweeper (motcua.workflow.outbox) and `motcua workflow retry`; see docs/deploy.md for what
remains to move.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timezone
from typing import Any, Iterator

import procrastinate
from procrastinate.sync_psycopg_connector import SyncPsycopgConnector, wrap_exceptions

log = logging.getLogger(__name__)

#: The tasks of Motcua, shared by the web processes' app (deferring) and the worker's.
tasks = procrastinate.Blueprint()

#: How a failing job is tried again: 6 attempts, waiting 4, 16, 64, 256, 1024 s between them.
BACKOFF = procrastinate.RetryStrategy(max_attempts=6, exponential_wait=4)
#: A worker whose heartbeat is older than this is taken for dead, and its jobs run again.
STALLED_SECONDS = 30


class QueueUnavailable(RuntimeError):
    """The store has no job queue (the embedded store): the caller keeps its own path."""


class StoreConnector(SyncPsycopgConnector):
    """procrastinate's queries on the store's own connections: inside `store.transaction()`
    on the transaction's connection (in a savepoint, like every store call), so a job
    deferred there commits or rolls back with the dossier; outside one, a connection of the
    store's pool. The store owns the pool: opening and closing the connector do nothing."""

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


def has_queue(store: Any) -> bool:
    """Whether this store carries the job queue (a PostgreSQL store)."""
    return callable(getattr(store, "connection", None)) and getattr(store, "url", None) is not None


def ensure_schema(store: Any) -> None:
    """Create procrastinate's tables in the store's database once (two processes starting at
    once: an advisory lock orders them). Upgrading procrastinate to a version with schema
    changes applies its migrations (`procrastinate schema --migrate`, docs/deploy.md)."""
    import psycopg
    from procrastinate.schema import SchemaManager

    # a connection of its own: never inside a caller's transaction, which could roll it back
    with psycopg.connect(store.url) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('motcua-procrastinate-schema'))")
        if conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()[0] is None:
            conn.execute(SchemaManager.get_schema())


def queue_for(store: Any) -> procrastinate.App:
    """The procrastinate app deferring through `store` (one per store, made on first use)."""
    if not has_queue(store):
        raise QueueUnavailable("the embedded store has no job queue")
    app = getattr(store, "_motcua_jobs", None)
    if app is None:
        ensure_schema(store)
        app = procrastinate.App(connector=StoreConnector(store))
        app.add_tasks_from(tasks, namespace="motcua")
        app.open()
        store._motcua_jobs = app
    return app


def defer(store: Any, task: str, *, lock: str | None = None, **arguments: Any) -> int | None:
    """Queue `task` with `arguments`; in `store.transaction()` it commits with the rest.

    `lock` is the job's idempotency key (e.g. `<dossier>:<event>`): while a job with that key
    waits, deferring another is a no-op (None is returned)."""
    app = queue_for(store)
    try:
        return app.configure_task(f"motcua:{task}", queueing_lock=lock).defer(**arguments)
    except procrastinate.exceptions.AlreadyEnqueued:
        return None


def dead_jobs(store: Any) -> list[dict[str, Any]]:
    """Jobs out of attempts, newest first, with the error of their last attempt: what an
    administrator looks at (`motcua jobs`)."""
    with store.connection() as conn:
        rows = conn.execute(
            "SELECT j.id, j.task_name, j.args, j.attempts, j.queueing_lock, "
            "(SELECT e.at FROM procrastinate_events e WHERE e.job_id = j.id ORDER BY e.id DESC LIMIT 1) "
            "FROM procrastinate_jobs j WHERE j.status = 'failed' ORDER BY j.id DESC").fetchall()
        errors = dict(conn.execute(
            "SELECT key, value->>'error' FROM records WHERE collection = 'job_errors'").fetchall())
    return [{"id": i, "task": t, "args": a, "attempts": n, "key": k, "at": at, "error": errors.get(str(i))}
            for i, t, a, n, k, at in rows]


def record_error(store: Any, job_id: int, error: BaseException) -> None:
    """Keep a job's last error where admins read it (procrastinate logs it, but keeps only the
    status): `records("job_errors")[job id]`."""
    store.records("job_errors").put(str(job_id), {"error": f"{error.__class__.__name__}: {error}"[:500],
                                                 "at": datetime.now(timezone.utc).isoformat()})


# --- the tasks --------------------------------------------------------------------------------


def _flask_app(context: procrastinate.JobContext) -> Any:
    return context.additional_context["motcua_app"]


@tasks.task(name="retry_steps", pass_context=True, retry=BACKOFF)
def retry_steps(context: procrastinate.JobContext, code: str | None = None) -> int:
    """Run again the step calls that failed (a carrier down when a parcel was booked) and
    start the dossiers a crash left stored but unstarted: `motcua workflow retry`, on the
    queue. Raises while a step still fails, so the queue backs off and finally marks it
    failed for admins."""
    app = _flask_app(context)
    engine = app.extensions["motcua"].engine
    try:
        with app.app_context():
            engine.start_unstarted(float(app.config.get("WORKFLOW_START_GRACE_SECONDS", 120)), code)
            worked = engine.retry_failed(code)
            engine.flush()
            if code is not None and engine.failing(code):
                raise RuntimeError(f"a step of {code} still fails")
    except Exception as error:
        if context.job is not None and context.job.id is not None:
            record_error(app.extensions["motcua"].store, context.job.id, error)
        raise
    return worked


@tasks.periodic(cron="* * * * *", periodic_id="retry-all-steps")
@tasks.task(name="retry_all_steps", pass_context=True, queueing_lock="retry-all-steps")
def retry_all_steps(context: procrastinate.JobContext, timestamp: int) -> int:
    """Every minute: what cron ran `motcua workflow retry` for."""
    return retry_steps(context)


@tasks.periodic(cron="* * * * *", periodic_id="recover-stalled")
@tasks.task(name="recover_stalled", pass_context=True, queueing_lock="recover-stalled")
async def recover_stalled(context: procrastinate.JobContext, timestamp: int) -> int:
    """Every minute: the jobs of a worker that died (SIGKILL, power loss) go back to the
    queue once its heartbeat is STALLED_SECONDS old; they run again from the start, so every
    task is idempotent."""
    manager = context.app.job_manager
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_SECONDS))
    for job in stalled:
        await manager.retry_job(job)
        log.warning("job %s (%s) of a dead worker queued again", job.id, job.task_name)
    return len(stalled)


def run_worker(flask_app: Any, *, wait: bool = True, concurrency: int = 1) -> None:
    """Run the queue in this process until SIGINT/SIGTERM (or, `wait=False`, until it is
    empty): `motcua worker`."""
    from procrastinate import PsycopgConnector

    store = flask_app.extensions["motcua"].store
    if not has_queue(store):
        raise QueueUnavailable("motcua worker needs the PostgreSQL store (MOTCUA_STORE=postgresql://...)")
    ensure_schema(store)
    app = procrastinate.App(connector=PsycopgConnector(conninfo=store.url, min_size=1, max_size=4))
    app.add_tasks_from(tasks, namespace="motcua")
    app.run_worker(wait=wait, concurrency=concurrency, additional_context={"motcua_app": flask_app},
                   stalled_worker_timeout=STALLED_SECONDS, update_heartbeat_interval=5,
                   install_signal_handlers=True)
