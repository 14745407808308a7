"""`motcua serve`: the portal on a real WSGI server (waitress), not Flask's dev server.

What keeps a deployment safe is set up by `create_app`, so gunicorn, uwsgi or
`waitress-serve --call motcua.app:create_app` get it too (tests/test_wsgi_app.py): only the
public address's host is served, demo staff accounts are switched off outside a demo, and,
on the embedded store, the job queue (messages, step retries: motcua.jobs) runs in the
process. This command adds what only one process on one port can: waitress's limits, the
demo simulators, and a clean stop: on SIGTERM or Ctrl-C the server stops taking requests and
the job being run finishes first.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
from typing import Any

import click

from motcua.spec.cli import lang_option


@click.command()
@click.option("--specs", "specs_dir", default="procedure_specs", show_default=True, type=click.Path(file_okay=False))
@click.option("--data", "data_dir", default="data", show_default=True, type=click.Path(file_okay=False))
@click.option("--store", "store_url", envvar="MOTCUA_STORE", default=None, metavar="URL",
              help="A postgresql:// URL to keep dossiers and records in PostgreSQL (uploaded files stay in "
                   "DATA/files).  [default: the embedded store in DATA]")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", envvar="MOTCUA_THREADS", default=8, show_default=True, type=click.IntRange(min=1),
              help="Requests handled at once (each thread runs one request).")
@click.option("--connection-limit", envvar="MOTCUA_CONNECTION_LIMIT", default=1000, show_default=True,
              type=click.IntRange(min=1),
              help="Open connections accepted at once; connections beyond it wait to be accepted.")
@click.option("--channel-timeout", envvar="MOTCUA_CHANNEL_TIMEOUT", default=30, show_default=True,
              type=click.IntRange(min=1),
              help="Seconds a connection may stay silent (sending nothing of its request) before it is closed.")
@click.option("--demo", is_flag=True, help="Also run the payment gateway, postal carrier, SMS and identity provider simulators.")
@click.option("--public-url", envvar="MOTCUA_PUBLIC_URL", default=None,
              help="The address citizens reach the site at (callbacks, receipts and links are built on it); "
                   "only requests for its host are served.  [default: http://HOST:PORT]")
@lang_option
def serve(specs_dir: str, data_dir: str, store_url: str | None, host: str, port: int, threads: int,
          connection_limit: int, channel_timeout: int, demo: bool, public_url: str | None, lang: str) -> None:
    """Serve the portal with the specs in SPECS and the store in DATA."""
    from motcua.app import create_app
    from motcua.i18n import t
    from motcua.spec.words import speaking
    from motcua.public_url import check
    from motcua.wsgi_server import make_server

    if not public_url:
        if host in ("0.0.0.0", "::", ""):
            raise click.UsageError(f"--host {host!r} listens on every interface: say which address citizens use with --public-url")
        public_url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    try:
        public_url = check(public_url)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--public-url") from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from motcua.signing import SigningConfigError
    from motcua.store import StoreError

    gc.disable()  # until the app's objects are frozen below: a first pass would walk them all
    try:
        with speaking(lang):  # the specs' findings (and those left out) are worded in `--lang`
            app = create_app({"SPECS_DIR": specs_dir, "DATA_DIR": data_dir, "STORE": store_url, "DEMO": demo,
                              "PUBLIC_URL": public_url})
    except StoreError as error:  # a damaged store marker or session key: say which file and what to do
        raise click.ClickException(f"cannot start: {error}") from None
    except SigningConfigError as error:  # the agency's signing key: which setting, what is wrong
        raise click.ClickException(f"cannot start: {error}") from None
    gc.freeze()  # the catalogue's objects live as long as the process: out of every collection pass
    gc.enable()
    catalogue = app.extensions["motcua"].catalogue
    from motcua.store.pg_store import safe_url

    where = f"store {safe_url(store_url)}, files in {data_dir}" if store_url else f"data in {data_dir}"
    click.echo(f"Motcua: {len(catalogue)} procedures from {specs_dir}, {where}")
    left_out = t("bị loại: ", lang)
    for problem in catalogue.problems:
        click.echo(f"  {left_out if problem.severity == 'error' else ''}{problem}", err=True)
    if demo:
        from motcua.workflow.demo import start_simulators

        for name, url in start_simulators(app, host, port).items():
            click.echo(f"  simulator {name}: {url}/")
        _demo_accounts(app, f"http://{host}:{port}/staff/login")
        click.echo(f"  citizens sign in at http://{host}:{port}/dang-nhap as a demo person or business "
                   "chosen on the identity simulator's page")
    # create_app trusted only PUBLIC_URL's host, switched the demo accounts off outside a demo
    # and, on the embedded store, started the job queue in this process: what any WSGI server gets too
    from motcua.jobs import queue_for
    from motcua.store import has_transactions

    queue = queue_for(app.extensions["motcua"].store, app.config)
    if has_transactions(app.extensions["motcua"].store):
        click.echo("  jobs (messages, step retries): run `motcua worker` beside this server")
    else:
        click.echo("  jobs (messages, step retries): run in this process")
    if threading.current_thread() is threading.main_thread():
        # waitress ends its loop on SystemExit as on Ctrl-C, so SIGTERM stops it cleanly too
        signal.signal(signal.SIGTERM, _exit)
    click.echo(f"Serving on http://{host}:{port}/ as {public_url}/")
    try:
        server = make_server(app, host=host, port=port, **waitress_settings(app.config, threads, connection_limit, channel_timeout))
        server.print_listen("Serving on http://{}:{}")  # what waitress.serve logs
        server.run()
    finally:
        queue.close()  # a job running finishes first
        click.echo("  job queue stopped")


def waitress_settings(config: Any, threads: int, connection_limit: int, channel_timeout: int) -> dict[str, Any]:
    """Waitress's settings for this app (docs/deploy.md says why each).

    Waitress reads a whole request before a thread runs the app, so the app's own body limit
    (MAX_CONTENT_LENGTH) would come only after up to 1 GB (waitress's default) had been
    buffered to disk: the same limit is given to waitress, which answers 413 as soon as the
    Content-Length (or a chunked body) passes it. Slow or idle clients cost no thread while
    they trickle a request in, only a connection: many connections are allowed (poll(), not
    select(), so more than 1024 descriptors work), and silent ones are closed after
    `channel_timeout` seconds, checked every few seconds.
    """
    return {
        "threads": threads,
        "connection_limit": connection_limit,
        "channel_timeout": channel_timeout,
        "cleanup_interval": max(1, min(10, channel_timeout // 2)),
        "max_request_body_size": int(config["MAX_CONTENT_LENGTH"]),
        "asyncore_use_poll": True,
        "ident": "motcua",
    }


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _demo_accounts(app: object, login_url: str) -> None:
    """Staff accounts to try the back office with, printed with their password (demo only)."""
    from motcua import accounts

    services = app.extensions["motcua"]  # type: ignore[attr-defined]
    accounts.ensure_demo_accounts(services.store, services.catalogue)
    click.echo(f"  demo staff logins at {login_url} (password {accounts.DEMO_PASSWORD}):")
    for username, name, _roles in accounts.DEMO_ACCOUNTS:
        click.echo(f"    {username:<12} {name}")
