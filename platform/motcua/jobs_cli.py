"""`motcua worker` runs the job queue; `motcua jobs` shows admins the jobs that gave up, and
`motcua jobs retry ID` runs one again."""

from __future__ import annotations

import json

import click


def _app(specs_dir: str, data_dir: str, public_url: str | None):  # type: ignore[no-untyped-def]
    from motcua.app import create_app
    from motcua.store import StoreError

    try:
        # the command runs the queue itself (or only reads it): no in-process consumer
        app = create_app({"SPECS_DIR": specs_dir, "DATA_DIR": data_dir, "JOBS_IN_PROCESS": False,
                          **({"PUBLIC_URL": public_url} if public_url else {})})
    except (RuntimeError, ValueError, StoreError) as error:  # no public address, a damaged store
        raise click.ClickException(str(error)) from None
    # closed when the command ends: a PostgreSQL pool left to the garbage collector may be
    # collected in one of its own threads, which cannot join itself (docs/store.md)
    click.get_current_context().call_on_close(app.extensions["motcua"].store.close)
    return app


_specs = click.option("--specs", "specs_dir", envvar="MOTCUA_SPECS_DIR", default="procedure_specs", show_default=True,
                      type=click.Path(file_okay=False))
_data = click.option("--data", "data_dir", envvar="MOTCUA_DATA_DIR", default="data", show_default=True,
                     type=click.Path(file_okay=False))
_public = click.option("--public-url", envvar="MOTCUA_PUBLIC_URL", default=None,
                       help="The site's public address (links in messages, carrier callbacks are built on it)")


@click.command()
@_specs
@_data
@_public
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(min=1),
              help="Jobs run at once by this process.")
@click.option("--until-empty", is_flag=True, help="Stop once no job is due (a catch-up run after an outage, a test).")
def worker(specs_dir: str, data_dir: str, public_url: str | None, concurrency: int, until_empty: bool) -> None:
    """Run the job queue (messages, step retries, catch-up) until SIGTERM / Ctrl-C."""
    import logging

    from motcua.jobs import queue_for

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = _app(specs_dir, data_dir, public_url)
    queue = queue_for(app.extensions["motcua"].store, app.config)
    try:
        queue.defer("catch_up", unique="catch_up")  # what a crash left undone, now rather than in a minute
        queue.run_worker(app, wait=not until_empty, concurrency=concurrency)
    finally:
        queue.close()


@click.group(invoke_without_command=True)
@_specs
@_data
@_public
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def jobs(ctx: click.Context, specs_dir: str, data_dir: str, public_url: str | None, as_json: bool) -> None:
    """List the jobs that gave up, with their last error (exit status 1 if any);
    `motcua jobs retry ID` runs one again."""
    from motcua.jobs import dead_jobs

    if ctx.invoked_subcommand is not None:
        return

    app = _app(specs_dir, data_dir, public_url)
    dead = dead_jobs(app.extensions["motcua"].store)
    for job in dead:
        if as_json:
            click.echo(json.dumps(job, ensure_ascii=False))
        else:
            click.echo(f"{job['at']} {job['id']} {job['task']} {json.dumps(job['args'], ensure_ascii=False)} "
                       f"after {job['attempts']} run(s): {job['error']}")
    if not as_json:
        click.echo(f"{len(dead)} job(s) gave up")
    if dead:
        raise SystemExit(1)


@jobs.command("retry")
@_specs
@_data
@_public
@click.argument("job_id")
def retry(specs_dir: str, data_dir: str, public_url: str | None, job_id: str) -> None:
    """Run the dead job JOB_ID (as `motcua jobs` lists it) again, with all its attempts; the
    dossier it concerns records it (actor `operator:<system user>`)."""
    import getpass

    from motcua.jobs import NotDead, rerun_dead

    app = _app(specs_dir, data_dir, public_url)
    try:
        job = rerun_dead(app, job_id, f"operator:{getpass.getuser()}")
    except NotDead:
        raise click.ClickException(f"no dead job {job_id} (run `motcua jobs` to list them)") from None
    what = "queued again" if job["queued"] else "nothing left to run (dossier closed or done another way), dropped"
    click.echo(f"{job_id} ({job['task']} {json.dumps(job['args'], ensure_ascii=False)}) {what}")
