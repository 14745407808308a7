"""The job queue of the embedded store: Huey, its SQLite storage in the data folder.

Nothing to install or run beside the portal: the web process runs a consumer in its own
threads (`JOBS_IN_PROCESS`, on by default with this store; SQLite's locking lets several
processes of one machine share the file, each job is taken by one), or `motcua worker` does.

Periodic jobs (the catch-up every minute, the hourly due dates ...) are deferred once per
minute whatever the number of processes sharing the file: each process's Huey scheduler
checks them every minute, and the first to claim that minute (`claim_minute`: one row of
Huey's own key-value table, inserted only if absent, in SQLite's exclusive transaction)
defers them; the others skip it. No process owns the schedule, so one that dies leaves
nothing to take over: the next minute is claimed by whichever process checks first.

What it cannot do, and what covers it: the embedded store has no transaction across its
files, so a job is deferred just after the change is saved, and Huey deletes a job from its
table when a consumer takes it. A crash between the save and the deferral, or while the job
runs, loses the job. So the tasks keep their state in the store (a message's status in its
outbox record), are idempotent, and the `catch_up` task (every minute, this backend only)
defers again whatever a lost job left undone.
"""

from __future__ import annotations

import functools
import logging
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from huey.consumer import Consumer, Scheduler
from huey.signals import SIGNAL_ENQUEUED

from motcua.jobs import Job, Task, gave_up, outcome

log = logging.getLogger(__name__)

FILE = "jobs.sqlite3"
#: Key prefix, in Huey's key-value table, of the minute a process deferred the periodic jobs of.
PERIODIC_KEY = "motcua:periodic:"
#: How many minutes back a claim is kept: a process that read the clock, then stalled for
#: longer than this before claiming, could claim a minute another process already had.
KEEP_MINUTES = 2


def claim_minute(huey: Any, now: datetime) -> bool:
    """Whether this process defers the periodic jobs of `now`'s minute: True for the first
    process to ask (an insert that only succeeds if the key is absent), False for the rest."""
    minute = now.strftime("%Y-%m-%dT%H:%M")
    if not huey.storage.put_if_empty(PERIODIC_KEY + minute, str(os.getpid()).encode()):
        log.info("periodic jobs of %s: deferred by another process", minute)
        return False
    huey.storage.delete_data(PERIODIC_KEY + (now - timedelta(minutes=KEEP_MINUTES)).strftime("%Y-%m-%dT%H:%M"))
    log.info("periodic jobs of %s: deferred by this process (%d)", minute, os.getpid())
    return True


class _OncePerMinute(Scheduler):
    """Huey's scheduler, deferring the periodic jobs only for the minutes it claims."""

    def enqueue_periodic_tasks(self, now: datetime | None) -> None:
        now = now or self.huey._get_timestamp()
        if claim_minute(self.huey, now):
            super().enqueue_periodic_tasks(now)


class _Consumer(Consumer):
    scheduler_class = _OncePerMinute


@functools.cache
def _storage_class() -> Any:
    """Made on first use: Huey is imported only by a process that queues jobs."""
    from huey.storage import SqliteStorage

    class WalNormalStorage(SqliteStorage):
        """SQLite in WAL mode with `synchronous=NORMAL`: a commit survives the process's crash
        and the file is never corrupted; a power loss may undo the last commits, as a crash
        between a change and its deferral already can (the `catch_up` task covers both).
        `synchronous=FULL` cost two fsyncs of every filing, serialised on SQLite's lock."""

        def _create_connection(self) -> Any:
            conn = super()._create_connection()
            conn.execute("pragma synchronous=1")
            return conn

        def enqueue_many(self, items: list[tuple[bytes, float]]) -> None:
            """Several tasks (serialized, priority) in one transaction: one commit for all."""
            with self.db(commit=True) as cursor:
                cursor.executemany("insert into task (queue, data, priority) values (?, ?, ?)",
                                   [(self.name, self.to_blob(data), priority or 0) for data, priority in items])

    return WalNormalStorage


class EmbeddedQueue:
    """motcua.jobs.JobQueue on Huey (SqliteHuey)."""

    def __init__(self, store: Any, config: Any, tasks: dict[str, Task]) -> None:
        from huey import SqliteHuey, crontab
        from huey.signals import SIGNAL_ERROR

        from motcua.store.durable import ensure_dir

        folder = Path(config["DATA_DIR"])
        ensure_dir(folder)
        path = folder / FILE
        # 0600 before SQLite opens it: its -wal and -shm files take the database file's mode
        # (dossier codes are in the jobs' arguments)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        for each in (path, path.with_name(FILE + "-wal"), path.with_name(FILE + "-shm")):
            if each.exists():
                each.chmod(0o600)
        self.huey = SqliteHuey(name="motcua", filename=str(path), utc=True, results=False,
                               storage_class=_storage_class())
        self.store = store
        self.config = config
        self.flask_app: Any = None
        self._consumer: Any = None
        self._wrapped: dict[str, Any] = {}
        for task in tasks.values():
            def run(_task: Task = task, **arguments: Any) -> Any:
                return _task.run(self.flask_app, **arguments)

            if task.cron:
                minute, hour, day, month, day_of_week = task.cron.split()
                self._wrapped[task.name] = self.huey.periodic_task(
                    crontab(minute=minute, hour=hour, day=day, month=month, day_of_week=day_of_week), name=task.name)(run)
            else:
                self._wrapped[task.name] = self.huey.task(name=task.name)(run)
        self._tasks = tasks

        @self.huey.signal(SIGNAL_ERROR)
        def _failed(signal: str, task: Any, exc: BaseException | None = None) -> None:
            from motcua.jobs import GiveUp

            spec = self._tasks.get(task.name)
            if spec is None or exc is None:
                return
            runs = spec.attempts(self.config) - task.retries
            if isinstance(exc, GiveUp):
                task.retries = 0  # no retry can help
            if task.retries <= 0 or outcome(spec, self.config, exc, runs) == "dead":
                task.retries = 0
                gave_up(self.flask_app, self.store, f"huey-{task.id}", spec, dict(task.kwargs or {}), runs, exc)

    def _job(self, task: str, arguments: dict[str, Any]) -> Any:
        spec = self._tasks[task]
        job = self._wrapped[task].s(**arguments)
        # the retry rule read from the settings now, not when the queue was made
        job.retries = max(1, spec.attempts(self.config)) - 1
        job.retry_delay = spec.backoff(self.config)
        job.retry_backoff = 2
        return job

    def defer(self, task: str, *, unique: str | None = None, **arguments: Any) -> None:
        # Huey has no "one waiting job per key"; the tasks are idempotent by their key instead
        # (a message already sent is not sent again), so a second job only finds nothing to do.
        self.huey.enqueue(self._job(task, arguments))

    def defer_many(self, jobs: list[Job]) -> None:
        made = [self._job(job.task, job.arguments) for job in jobs]
        if len(made) == 1 or self.huey.immediate:
            for job in made:
                self.huey.enqueue(job)
            return
        # what `huey.enqueue` does for each (we use neither results nor expiry), in one commit
        for job in made:
            self.huey._emit(SIGNAL_ENQUEUED, job)
        self.huey.storage.enqueue_many([(self.huey.serialize_task(job), job.priority) for job in made])

    def run_pending(self, flask_app: Any) -> int:
        self.flask_app = flask_app
        ran = 0
        while True:
            for due in self.huey.read_schedule(self.huey._get_timestamp()):  # retries whose time came
                self.huey.enqueue(due)
            job = self.huey.dequeue()
            if job is None:
                return ran
            self.huey.execute(job)
            ran += 1

    def start_in_process(self, flask_app: Any) -> None:
        """Run a consumer in threads of this process (the web server's, with this store)."""

        class _Threads(_Consumer):
            def _set_signal_handlers(self) -> None:  # the server's own signals stay its own
                pass

        if self._consumer is not None:
            return
        self.flask_app = flask_app
        self._consumer = _Threads(self.huey, workers=1, periodic=True, worker_type="thread", check_worker_health=False)
        self._consumer.start()
        self.defer("catch_up")  # what a crash left undone, now rather than in a minute

    def run_worker(self, flask_app: Any, *, wait: bool = True, concurrency: int = 1) -> None:
        if not wait:
            self.run_pending(flask_app)
            return
        self.flask_app = flask_app
        _Consumer(self.huey, workers=concurrency, periodic=True, worker_type="thread").run()

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.stop(graceful=True)
            self._consumer = None
        self.huey.storage.close()
