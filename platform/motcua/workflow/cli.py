"""`motcua workflow retry` and `motcua workflow send-outbox`: the engine's catch-up work,
for cron or a person after an outage. They call the same functions the web layer calls."""

from __future__ import annotations

import click

from motcua.store import StoreError


@click.group()
def workflow() -> None:
    """Workflow maintenance: retry failed steps, send queued messages."""


def _app(specs_dir: str, data_dir: str, public_url: str | None):  # type: ignore[no-untyped-def]
    from motcua.app import create_app

    try:
        return create_app({"SPECS_DIR": specs_dir, "DATA_DIR": data_dir, **({"PUBLIC_URL": public_url} if public_url else {})})
    except (RuntimeError, ValueError, StoreError) as error:  # no (or a bad) public address, a damaged store
        raise click.ClickException(str(error)) from None


_specs = click.option("--specs", "specs_dir", default="procedure_specs", show_default=True, type=click.Path(file_okay=False))
_data = click.option("--data", "data_dir", default="data", show_default=True, type=click.Path(file_okay=False))
_public = click.option("--public-url", envvar="MOTCUA_PUBLIC_URL", default=None,
                       help="The site's public address (carrier callbacks are built on it)")


@workflow.command("retry")
@_specs
@_data
@_public
@click.option("--code", default=None, help="Only this dossier")
@click.option("--grace", "grace_seconds", default=120.0, show_default=True, type=click.FloatRange(min=0),
              help="Start a stored dossier whose workflow never started only when filed this many seconds "
                   "ago (a younger one may still be starting in a live server)")
def retry(specs_dir: str, data_dir: str, public_url: str | None, code: str | None, grace_seconds: float) -> None:
    """Run again the step calls that failed (booking a parcel while the carrier was down ...),
    and start the dossiers that were stored but whose workflow never started (a crash)."""
    app = _app(specs_dir, data_dir, public_url)
    engine = app.extensions["motcua"].engine
    with app.app_context():
        started = engine.start_unstarted(grace_seconds, code)
        worked = engine.retry_failed(code)
        engine.flush()  # the messages those calls queued, before exiting
    if started:
        click.echo(f"{len(started)} dossier(s) stored but never started: started now ({', '.join(started)})")
    click.echo(f"{worked} step call(s) now succeeded")


@workflow.command("reconcile-payments")
@_specs
@_data
@_public
@click.option("--older-than", "minutes", default=15.0, show_default=True, type=click.FloatRange(min=0),
              help="Only orders opened at least this many minutes ago (a younger one may still be being paid)")
def reconcile_payments(specs_dir: str, data_dir: str, public_url: str | None, minutes: float) -> None:
    """Ask the payment gateways about open orders whose notification never came (querydr /
    query) and record what they say, with the same checks as a notification."""
    from datetime import timedelta

    from motcua.payments import reconcile_stale

    app = _app(specs_dir, data_dir, public_url)
    with app.app_context():
        counts = reconcile_stale(app.extensions["motcua"], app.config, timedelta(minutes=minutes))
        app.extensions["motcua"].engine.flush()
    if not counts:
        click.echo("no open payment order to check")
    for outcome, count in sorted(counts.items()):
        click.echo(f"{outcome}: {count}")


@workflow.command("send-outbox")
@_specs
@_data
@_public
def send_outbox(specs_dir: str, data_dir: str, public_url: str | None) -> None:
    """Send the SMS / e-mail messages whose next try is due."""
    from motcua.workflow.outbox import outbox_for

    app = _app(specs_dir, data_dir, public_url)
    counts = outbox_for(app.extensions["motcua"], app.config).send_due()
    click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))
