"""Jobs: the work done after a change is saved, from one queue run by `motcua worker`.

What runs as a job: sending a message (SMS, e-mail, a national-portal sync push: one job
per message, keyed by dossier and event), running again the step calls that failed (a
carrier down when a parcel was booked), and every minute the catch-up work (dossiers a
crash left stored but never started; on the embedded store, messages whose job was lost).

The queue comes from a maintained library, chosen per store (docs/deploy.md, "Jobs"):

- **PostgreSQL store: procrastinate** (`jobs.pg`). Its jobs are rows in the store's own
  database, deferred on the store's transaction connection, so a job commits with the
  dossier change that caused it or not at all. A job being run stays a row (`doing`): a
  worker killed with SIGKILL loses nothing, the stalled-job task hands its jobs back.
- **Embedded store: Huey with its SQLite storage** in the data folder (`jobs.embedded`),
  nothing to install, run in-process by the web server (`make serve`) or by `motcua worker`.
  The embedded store has no transaction across its files, so a job is deferred right after
  the change is saved, and Huey takes a job off its table when it starts it; the catch-up
  task closes both gaps from the outbox records (a message neither sent nor failed is
  deferred again after a grace period), and every task is idempotent.

Retries back off (`backoff * 2**n` seconds, the task's own setting), a job that gave up is
recorded with its error in `records("dead_jobs")`, which `motcua jobs` and the back office's
admin page show, and the task's `on_dead` lets what waited for it say so (a parcel whose
booking failed). An administrator runs a dead job again (`rerun_dead`: `motcua jobs retry`,
the back office's button): the record is claimed first (two admins pressing at once run it
once), the task's `rerun` puts it back in the queue, with whatever the task must reset
first, or says there is nothing left to run (the dossier closed, the work done another
way), and the record goes. The dead jobs of a dossier that closes (withdrawn, refused) go
with it (`drop_dead`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

log = logging.getLogger(__name__)

#: Records collection of the jobs that gave up: key = job id, value {task, args, error, at, attempts}.
DEAD_JOBS = "dead_jobs"


class Retry(Exception):
    """Run this job again later (after the task's backoff)."""


class GiveUp(Exception):
    """Trying again cannot help (a refused message): the job is dead at once."""


@dataclass(frozen=True)
class Task:
    """A kind of job: `run(flask_app, **arguments)`; `attempts(config)` runs at most,
    `backoff(config)` seconds before the second run, doubling after each; a task with a
    `cron` schedule (five fields, the worker's clock) is also deferred by the workers on that schedule,
    once whatever their number, with no arguments. `on_dead(flask_app, arguments, error)` runs
    once the job gave up; `rerun(flask_app, arguments, actor)` queues a dead job again when an
    administrator asks (None: the same arguments, deferred again) and returns False when
    there is nothing left to run (the dossier closed meanwhile), anything else when queued."""

    name: str
    run: Callable[..., Any]
    attempts: Callable[[Any], int]
    backoff: Callable[[Any], float]
    cron: str | None = None
    on_dead: Callable[[Any, dict[str, Any], str], None] | None = None
    rerun: Callable[[Any, dict[str, Any], str], bool | None] | None = None


#: Every task, by name; `register` adds to it (motcua.workflow.tasks holds Motcua's).
TASKS: dict[str, Task] = {}


def register(name: str, *, attempts: Callable[[Any], int] | int = 8, backoff: Callable[[Any], float] | float = 60,
             cron: str | None = None, on_dead: Callable[[Any, dict[str, Any], str], None] | None = None,
             rerun: Callable[[Any, dict[str, Any], str], bool | None] | None = None
             ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare `fn(flask_app, **arguments)` as the task `name` (a decorator)."""
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        TASKS[name] = Task(name, fn, attempts if callable(attempts) else (lambda _c, n=attempts: n),
                           backoff if callable(backoff) else (lambda _c, b=backoff: float(b)), cron, on_dead, rerun)
        return fn
    return decorate


def _tasks() -> dict[str, Task]:
    import motcua.workflow.tasks  # noqa: F401  (registers Motcua's tasks)

    return TASKS


@dataclass(frozen=True)
class Job:
    """One job to defer: its task, idempotency key (`unique`) and arguments (`defer_many`)."""

    task: str
    unique: str | None
    arguments: dict[str, Any]


class JobQueue(Protocol):
    """What the engine and the commands need of a queue; one per store."""

    def defer(self, task: str, *, unique: str | None = None, **arguments: Any) -> None:
        """Queue a job; inside `store.transaction()` (PostgreSQL) it commits with the rest.
        `unique` is its idempotency key: while a job with that key waits, another is not queued."""

    def defer_many(self, jobs: list[Job]) -> None:
        """Queue several jobs, as `defer` each, in one write of the queue where the backend can
        (the embedded queue: one SQLite transaction, one commit, for a change's messages)."""

    def run_pending(self, flask_app: Any) -> int:
        """Run in this process every job due now, until none is; how many ran (tests, the
        commands that must finish their work before exiting)."""

    def run_worker(self, flask_app: Any, *, wait: bool = True, concurrency: int = 1) -> None:
        """Run jobs until SIGTERM/SIGINT (`wait=False`: until none is due)."""

    def close(self) -> None:
        """Release what the queue holds (connections, threads)."""


def queue_for(store: Any, config: Any) -> JobQueue:
    """The job queue of `store` (made on first use, kept on the store)."""
    queue = getattr(store, "_motcua_jobs", None)
    if queue is None:
        if callable(getattr(store, "connection", None)):
            from motcua.jobs.pg import PgQueue

            queue = PgQueue(store, config, _tasks())
        else:
            from motcua.jobs.embedded import EmbeddedQueue

            queue = EmbeddedQueue(store, config, _tasks())
        store._motcua_jobs = queue
    return queue


def record_dead(store: Any, job_id: str, task: str, arguments: dict[str, Any], attempts: int, error: BaseException,
                unique: str | None = None) -> None:
    """Keep a job that gave up, with its last error and idempotency key, where admins look
    (`motcua jobs`)."""
    log.error("job %s (%s %s) gave up after %d run(s): %s", job_id, task, arguments, attempts, error)
    store.records(DEAD_JOBS).put(str(job_id), {
        "task": task, "args": arguments, "attempts": attempts, "unique": unique,
        "error": f"{error.__class__.__name__}: {error}"[:500], "at": datetime.now(timezone.utc).isoformat()})


def gave_up(flask_app: Any, store: Any, job_id: str, task: Task, arguments: dict[str, Any], attempts: int,
            error: BaseException, unique: str | None = None) -> None:
    """A job gave up: record it (`record_dead`), then tell its task (`on_dead`). Called by
    either backend; a failing `on_dead` is logged, never raised into the queue."""
    record_dead(store, job_id, task.name, arguments, attempts, error, unique)
    if task.on_dead is not None and flask_app is not None:
        try:
            task.on_dead(flask_app, dict(arguments), f"{error.__class__.__name__}: {error}"[:500])
        except Exception:
            log.exception("job %s (%s): what follows its giving up failed", job_id, task.name)


class NotDead(LookupError):
    """No dead job has that id (run again already, or never dead)."""


#: Seconds a dead job's record stays claimed by the administrator running it again: a second
#: run asked meanwhile is refused; a claim older than this (its process died between) lapses.
RERUN_CLAIM_SECONDS = 300.0


def _claim(job_id: str, now: datetime) -> Callable[[dict[str, Any] | None], dict[str, Any]]:
    def claim(current: dict[str, Any] | None) -> dict[str, Any]:
        if current is None:  # raising inside `update` writes nothing
            raise NotDead(job_id)
        claimed = current.get("rerun_claimed")
        if claimed and datetime.fromisoformat(claimed) > now - timedelta(seconds=RERUN_CLAIM_SECONDS):
            raise NotDead(f"{job_id}: being run again")
        return {**current, "rerun_claimed": now.isoformat()}
    return claim


def rerun_dead(flask_app: Any, job_id: str, actor: str) -> dict[str, Any]:
    """Run a dead job again, asked by `actor` (an administrator); the record as it was, with
    `queued`: False when its task's `rerun` found nothing left to run.

    The record is claimed first, in one locked update (`Records.update`), so two admins
    pressing at once, or two processes, run it once: the second gets NotDead. The job is
    queued (its task's `rerun`, or the same arguments deferred again) before the record
    goes: a crash between leaves it listed, claimed for RERUN_CLAIM_SECONDS, and running it
    again then is harmless (every task is idempotent). A `rerun` that raises gives the
    record back, unclaimed."""
    store = flask_app.extensions["motcua"].store
    records = store.records(DEAD_JOBS)
    if records.get(job_id) is None:  # no record made for an unknown id
        raise NotDead(job_id)
    claimed = records.update(job_id, _claim(job_id, datetime.now(timezone.utc)))
    found = {key: value for key, value in claimed.items() if key != "rerun_claimed"}
    task = _tasks().get(found["task"])
    try:
        if task is None:
            raise NotDead(f"{job_id}: no task {found['task']!r} any more")
        arguments = dict(found.get("args") or {})
        if task.rerun is not None:
            queued = task.rerun(flask_app, arguments, actor) is not False
        else:
            queued = True
            queue_for(store, flask_app.config).defer(task.name, unique=found.get("unique"), **arguments)
    except BaseException:
        records.update(job_id, lambda current: {key: value for key, value in (current or found).items()
                                                if key != "rerun_claimed"})
        raise
    records.delete(job_id)
    if queued:
        log.warning("dead job %s (%s %s) queued again by %s", job_id, task.name, arguments, actor)
    else:
        log.warning("dead job %s (%s %s): nothing left to run, dropped by %s", job_id, task.name, arguments, actor)
    return {"id": job_id, **found, "queued": queued}


def drop_dead(store: Any, concerns: Callable[[dict[str, Any]], bool]) -> list[str]:
    """Forget the dead jobs whose record `concerns` (a dossier closed: running them again
    would book a parcel or send a message about it); their ids."""
    records = store.records(DEAD_JOBS)
    gone = [key for key, value in records.all() if concerns(value)]
    for key in gone:
        records.delete(key)
    if gone:
        log.warning("dead jobs %s dropped: what they were for is closed", ", ".join(gone))
    return gone


def dead_jobs(store: Any) -> list[dict[str, Any]]:
    """The jobs that gave up, newest first, each with its id."""
    return sorted(({"id": key, **value} for key, value in store.records(DEAD_JOBS).all()),
                  key=lambda job: job.get("at", ""), reverse=True)


def outcome(task: Task, config: Any, error: BaseException, runs: int) -> str:
    """What to do after run number `runs` (1-based) of `task` raised `error`: "retry" or "dead"."""
    if isinstance(error, GiveUp) or runs >= task.attempts(config):
        return "dead"
    return "retry"
