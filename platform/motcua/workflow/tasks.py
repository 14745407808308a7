"""The workflow's jobs (motcua.jobs): sending a message, running failed step calls again,
the catch-up every minute, due-date reminders and the payment reconciliation sweep. Each is idempotent: run twice, it does the work once.

A job about a dossier that gave up can be run again by an administrator (motcua.jobs.rerun_dead):
each task's `rerun` resets what its giving up left (a message `failed`, a parcel "booking
failed", step calls given up) and records who asked on the dossier's timeline (`job_rerun`)."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from motcua.jobs import Job, Retry, queue_for, register
from motcua.store import transaction
from motcua.workflow.outbox import MAX_ATTEMPTS, outbox_for

log = logging.getLogger(__name__)

#: Seconds a message or step call must be overdue before the catch-up takes its job for lost.
CATCH_UP_GRACE_SECONDS = 120.0


def _message_attempts(config: Any) -> int:
    # The outbox gives up after NOTIFY_MAX_ATTEMPTS sends; a job also runs again, without
    # sending, while another sender holds the message: a few runs of margin for that.
    return int(config.get("NOTIFY_MAX_ATTEMPTS", MAX_ATTEMPTS)) + 3


def _rerun_message(app: Any, arguments: dict[str, Any], actor: str) -> bool:
    """A message given up is due again, with all its attempts, and its job deferred."""
    services = app.extensions["motcua"]
    code, key = arguments["code"], arguments["key"]
    with transaction(services.store):
        outbox_for(services, app.config).reopen(code, key)
        send_later(services.store, app.config, code, [key])
    return services.engine.rerun_job(code, actor, "send_message", key)


@register("send_message", attempts=_message_attempts,
          backoff=lambda config: float(config.get("NOTIFY_BACKOFF_SECONDS", 60)), rerun=_rerun_message)
def send_message(app: Any, code: str, key: str) -> str:
    """Send one outbox message (SMS, e-mail, a sync push): motcua.workflow.outbox.send_one."""
    return outbox_for(app.extensions["motcua"], app.config).send_one(code, key)


def send_later(store: Any, config: Any, code: str, keys: list[str]) -> None:
    """Defer one `send_message` job per message, keyed by dossier and message, all in one
    write of the queue (a filing's SMS and e-mail)."""
    queue_for(store, config).defer_many(
        [Job("send_message", f"message:{code}:{key}", {"code": code, "key": key}) for key in keys])


def _step_job_dead(app: Any, arguments: dict[str, Any], error: str) -> None:
    with app.app_context():
        app.extensions["motcua"].engine.step_job_gave_up(
            arguments["code"], arguments["index"], arguments["step"], arguments["job"], arguments["key"],
            arguments["arguments"], error)


def _rerun_step_job(app: Any, arguments: dict[str, Any], actor: str) -> bool:
    """The step is asked (the parcel is "booking" again) and the job deferred, with the
    timeline's `job_rerun`, in one change (motcua.workflow.engine.Engine.rerun_job); False
    when the step no longer wants it (the dossier withdrawn, the parcel given up)."""
    job = {name: arguments[name] for name in ("step", "index", "job", "key", "arguments")}
    with app.app_context():
        return app.extensions["motcua"].engine.rerun_job(arguments["code"], actor, "step_job", arguments["key"],
                                                         step_job=job)


@register("step_job", attempts=lambda config: int(config.get("STEP_JOB_ATTEMPTS", 8)),
          backoff=lambda config: float(config.get("STEP_JOB_BACKOFF_SECONDS", 30)),
          on_dead=_step_job_dead, rerun=_rerun_step_job)
def step_job(app: Any, code: str, index: int, step: str, job: str, key: str, arguments: dict[str, Any]) -> bool:
    """Run a job a step deferred (a carrier booking: motcua.workflow.engine.run_step_job);
    idempotent by `key`, which the step passes to the outside service."""
    from motcua.workflow.engine import STEP_JOBS

    services = app.extensions["motcua"]
    try:
        with app.app_context():
            return services.engine.run_step_job(code, index, step, job, key, arguments)
    except Exception:
        # counted where the catch-up looks: it takes the job for lost only after the backoff
        # this run set off has passed, and never after the last run (the queue keeps it dead)
        records = services.store.records(STEP_JOBS)
        found = records.get(f"{code}|{key}")
        if found is not None:
            runs = int(found.get("runs", 0)) + 1
            if runs >= int(app.config.get("STEP_JOB_ATTEMPTS", 8)):
                records.delete(f"{code}|{key}")
            else:
                records.put(f"{code}|{key}", {**found, "runs": runs,
                                                "since": datetime.now(timezone.utc).isoformat()})
        raise


def defer_step_job(store: Any, config: Any, code: str, job: dict[str, Any]) -> None:
    """Defer one `step_job`, keyed by dossier and the step's job key."""
    queue_for(store, config).defer("step_job", unique=f"step:{code}:{job['key']}", code=code, index=job["index"],
                                   step=job["step"], job=job["job"], key=job["key"], arguments=job["arguments"])


def _rerun_retry_steps(app: Any, arguments: dict[str, Any], actor: str) -> bool:
    """The step calls given up get their attempts back; the retry job is deferred with that change."""
    engine = app.extensions["motcua"].engine
    with app.app_context():
        return engine.rerun_job(arguments["code"], actor, "retry_steps", reopen_failures=True)


@register("retry_steps", attempts=lambda config: int(config.get("WORKFLOW_RETRY_ATTEMPTS", 8)),
          backoff=lambda config: float(config.get("WORKFLOW_RETRY_SECONDS", 60)), rerun=_rerun_retry_steps)
def retry_steps(app: Any, code: str) -> int:
    """Run again the step calls of `code` that failed (a carrier or gateway down). Raises
    `Retry` while one still fails, so the queue backs off; the engine itself records each
    failure and gives a call up after its own limit (`step_gave_up`), which staff see."""
    engine = app.extensions["motcua"].engine
    with app.app_context():
        worked = engine.retry_failed(code)
    if engine.failing(code):
        raise Retry(f"a step of {code} still fails")
    return worked


@register("catch_up", attempts=1, backoff=60, cron="* * * * *")
def catch_up(app: Any) -> dict[str, int]:
    """Every minute: start the dossiers a crash left stored but never started, run again the
    failed step calls whose own job is gone (gave up, or lost), and, on the embedded store,
    defer again the messages whose job was lost (see motcua.jobs.embedded)."""
    services = app.extensions["motcua"]
    grace = float(app.config.get("WORKFLOW_START_GRACE_SECONDS", CATCH_UP_GRACE_SECONDS))
    with app.app_context():
        started = services.engine.start_unstarted(grace)
        services.engine.retry_failed()
    lost = []
    if not callable(getattr(services.store, "connection", None)):  # the embedded store's jobs can be lost
        lost_grace = float(app.config.get("CATCH_UP_GRACE_SECONDS", CATCH_UP_GRACE_SECONDS))
        lost = outbox_for(services, app.config).unsettled(lost_grace)
        for code, key in lost:
            send_later(services.store, app.config, code, [key])
        for job in services.engine.lost_step_jobs(
                lost_grace, float(app.config.get("STEP_JOB_BACKOFF_SECONDS", 30))):
            defer_step_job(services.store, app.config, job["code"], job)
    if started or lost:
        log.warning("catch-up: %d dossier(s) started, %d message(s) deferred again", len(started), len(lost))
    return {"started": len(started), "messages": len(lost)}


@register("due_dates", attempts=1, backoff=60, cron="17 * * * *")
def due_dates(app: Any, today: str | None = None) -> dict[str, int]:
    """Every hour (and idempotent): on the last working day before an open dossier's due
    date, remind its staff to send the apology the law asks for at least a day before
    (`apology_due`, unless one was sent); once the due date has passed, mark the dossier
    `overdue`. Both are staff-only timeline events, recorded once; the queue and statistics
    judge overdue from the summaries as before. Reads summaries only, then the few dossiers
    concerned."""
    from datetime import date, timedelta

    from motcua.workflow import lifecycle

    services = app.extensions["motcua"]
    engine = services.engine
    calendar = engine.calendar
    day = date.fromisoformat(today) if today else lifecycle.vn_today()
    counts = {"apology_due": 0, "overdue": 0}
    with app.app_context():
        for s in services.store.dossiers.summaries():
            if s.due_date is None or s.settled is not None or s.withdrawn is not None:
                continue
            if lifecycle.overdue(s.due_date, s.status, s.settled, s.paused_since, day, calendar, s.calendar_days):
                counts["overdue"] += engine.record_once(s.code, "overdue", None, {"due_date": s.due_date.isoformat()})
                continue
            due = lifecycle.due_on(s.due_date, s.status, s.paused_since, day, calendar, s.calendar_days)
            if due is None or s.status in lifecycle.NEVER_OVERDUE or s.paused_since is not None:
                continue
            following = day + timedelta(days=1)
            if not s.calendar_days:
                following = calendar.next_working_day(following)
            if day < due <= following:  # today is the last (working) day before it
                dossier = services.store.dossiers.get(s.code)
                if dossier is not None and not any(e.kind == "apology" for e in dossier.events):
                    counts["apology_due"] += engine.record_once(s.code, "apology_due", None,
                                                                {"due_date": due.isoformat()})
    if any(counts.values()):
        log.info("due dates: %s", counts)
    return counts


@register("reconcile_payments", attempts=1, backoff=60, cron="*/5 * * * *")
def reconcile_payments(app: Any) -> dict[str, int]:
    """Every five minutes: ask the gateways about open orders older than
    `PAYMENT_RECONCILE_MINUTES` (default 15) whose notification never came, and record what
    they say through the webhook's own checks (motcua.payments.reconcile_stale; idempotent:
    a payment is recorded once however often it is asked about)."""
    from datetime import timedelta

    from motcua.payments import reconcile_stale

    services = app.extensions["motcua"]
    with app.app_context():
        counts = reconcile_stale(services, app.config,
                                 timedelta(minutes=float(app.config.get("PAYMENT_RECONCILE_MINUTES", 15))))
        services.engine.flush()
    if counts:
        log.info("payment reconciliation: %s", counts)
    return counts
