"""`motcua worker` runs the job queue; `motcua jobs` shows admins the jobs that gave up."""

from __future__ import annotations

import json

import click


def _app(specs_dir: str, data_dir: str):  # type: ignore[no-untyped-def]
    from motcua.app import create_app
    from motcua.store import StoreError

    try:
        # a worker runs jobs, not the web process's sweeper thread
        return create_app({"SPECS_DIR": specs_dir, "DATA_DIR": data_dir, "OUTBOX_SWEEP_SECONDS": 0})
    except (RuntimeError, ValueError, StoreError) as error:
        raise click.ClickException(str(error)) from None


_specs = click.option("--specs", "specs_dir", envvar="MOTCUA_SPECS_DIR", default="procedure_specs", show_default=True,
                      type=click.Path(file_okay=False))
_data = click.option("--data", "data_dir", envvar="MOTCUA_DATA_DIR", default="data", show_default=True,
                     type=click.Path(file_okay=False))


@click.command()
@_specs
@_data
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(min=1),
              help="Jobs run at once by this process.")
@click.option("--until-empty", is_flag=True, help="Stop once no job is waiting (for a test or a catch-up run).")
def worker(specs_dir: str, data_dir: str, concurrency: int, until_empty: bool) -> None:
    """Run the job queue (PostgreSQL store: MOTCUA_STORE) until SIGTERM / Ctrl-C."""
    import logging

    from motcua import jobs

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = _app(specs_dir, data_dir)
    try:
        jobs.run_worker(app, wait=not until_empty, concurrency=concurrency)
    except jobs.QueueUnavailable as error:
        raise click.ClickException(str(error)) from None


@click.command()
@_specs
@_data
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def jobs(specs_dir: str, data_dir: str, as_json: bool) -> None:
    """List the jobs that failed every attempt, with their last error (exit status 1 if any)."""
    from motcua import jobs as queue

    app = _app(specs_dir, data_dir)
    store = app.extensions["motcua"].store
    if not queue.has_queue(store):
        raise click.ClickException("the embedded store has no job queue (see `motcua workflow`)")
    queue.ensure_schema(store)
    dead = queue.dead_jobs(store)
    for job in dead:
        if as_json:
            click.echo(json.dumps({**job, "at": job["at"].isoformat() if job["at"] else None}, ensure_ascii=False))
        else:
            click.echo(f"job {job['id']} {job['task']} {json.dumps(job['args'], ensure_ascii=False)} "
                       f"attempts {job['attempts']}: {job['error'] or '(no error recorded)'}")
    if not as_json:
        click.echo(f"{len(dead)} failed job(s)")
    if dead:
        raise SystemExit(1)
