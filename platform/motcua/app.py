"""The application factory."""

from __future__ import annotations

import atexit
import logging
import os
from pathlib import Path
from types import FunctionType
from typing import Any

from flask import Flask, g, request
from jinja2.bccache import Bucket, BytecodeCache

from motcua import i18n
from motcua.catalogue import published_catalogue
from motcua.public_url import check, public_url
from motcua.services import Services
from motcua.store import open_store, store_target
from motcua.store.secret import secret_key
from motcua.web.csrf_token import CSRFCheck
from motcua.web.session_cookie import SessionCookie

csrf = CSRFCheck()

#: Blueprints, one per area of the site: (module, attribute, url prefix).
BLUEPRINTS = [
    ("motcua.web.portal", "bp", ""),
    ("motcua.web.signin", "bp", ""),
    ("motcua.web.supplement", "bp", ""),
    ("motcua.web.api", "bp", "/api/v1"),
    ("motcua.web.backoffice", "bp", "/staff"),
    ("motcua.web.studio", "bp", "/staff/soan-thao"),
    ("motcua.web.stats", "bp", ""),
    ("motcua.web.agency_page", "bp", ""),
    ("motcua.workflow.web", "bp", ""),
]


class _App(Flask):
    """Flask, answering `ensure_sync` from a table: Flask asks it of every hook and view on
    every request (nine a page here), and each answer walked `inspect.iscoroutinefunction`
    (~4 % of a kept page's CPU, docs/performance.md). A function's kind never changes. Only
    plain functions are kept, and at most `_SYNC_KEPT` of them: the views and hooks registered
    at start are a few dozen, while a bound method or a closure made per request (class-based
    views, `after_this_request`) would otherwise grow the table for ever."""

    _SYNC_KEPT = 512

    def ensure_sync(self, func: Any) -> Any:
        if type(func) is not FunctionType:
            return super().ensure_sync(func)
        table = self.__dict__.setdefault("_sync", {})
        made = table.get(func)
        if made is None:
            made = super().ensure_sync(func)
            if len(table) < self._SYNC_KEPT:
                table[func] = made
        return made


def _limit_forms() -> None:
    """Werkzeug applies MAX_FORM_PARTS / MAX_FORM_MEMORY_SIZE to multipart bodies only: an
    url-encoded body is bounded here by the same two settings instead of by the upload limit."""
    if request.mimetype != "application/x-www-form-urlencoded":
        return
    from flask import abort, current_app

    request.max_content_length = current_app.config["MAX_FORM_MEMORY_SIZE"]
    parts = current_app.config["MAX_FORM_PARTS"]
    if parts is not None and sum(1 for _ in request.form.items(multi=True)) > parts:
        abort(413)


def _public_address(config: Any) -> None:
    """Links that leave the site are built on PUBLIC_URL, never on the Host header; without it
    only a demo or a test may run (they fall back to the request's host). Over https the
    session cookie is sent over https only."""
    relaxed = bool(config.get("DEMO") or config.get("TESTING"))
    if not config.get("PUBLIC_URL"):
        if relaxed:
            return
        raise RuntimeError(
            "PUBLIC_URL is not set: give the address citizens reach the site at "
            "(motcua serve --public-url https://..., or MOTCUA_PUBLIC_URL); links in callbacks, "
            "receipts and e-mails are built on it, never on the request's Host header"
        )
    config["PUBLIC_URL"] = check(config["PUBLIC_URL"])
    if config["PUBLIC_URL"].startswith("https://") and not relaxed:
        config["SESSION_COOKIE_SECURE"] = True


def _trusted_hosts(config: Any) -> None:
    """Only requests for the public address's host are served (a forged Host header gets a
    400, not a page whose links point elsewhere), whichever WSGI server runs the app. An
    explicit TRUSTED_HOSTS (MOTCUA_TRUSTED_HOSTS, a JSON list) wins, e.g. to add an internal
    name a load balancer's health check uses. Tests keep the test client's own host."""
    if config.get("TRUSTED_HOSTS") is not None or config.get("TESTING") or not config.get("PUBLIC_URL"):
        return
    from urllib.parse import urlsplit

    config["TRUSTED_HOSTS"] = [urlsplit(config["PUBLIC_URL"]).hostname]


def _demo_accounts_off(app: Flask) -> None:
    """Outside a demo, the staff accounts a demo start made (their password is published in
    the README and printed by `serve --demo`) are switched off: whatever server runs the app,
    a data folder that once served a demo never serves those logins in production."""
    if app.config.get("DEMO"):
        return
    from motcua import accounts

    for username in accounts.disable_demo_accounts(app.extensions["motcua"].store):
        app.logger.warning("demo account %s (published password) disabled: this is not a demo start", username)


def _jobs(app: Flask) -> None:
    """The job queue (motcua.jobs). With the embedded store the web process runs it in its
    own threads unless JOBS_IN_PROCESS is false (`make serve` needs nothing else); checked
    again before each request, so a worker process forked after the app was built
    (gunicorn --preload) starts its own. With PostgreSQL, `motcua worker` processes run it
    (JOBS_IN_PROCESS is refused there: a web process is not where the queue belongs).
    Tests run jobs with `engine.flush()`."""
    from motcua.jobs import queue_for
    from motcua.store import has_transactions

    services = app.extensions["motcua"]
    services.engine.flask_app = app
    wanted = app.config.get("JOBS_IN_PROCESS")
    if wanted is None:
        wanted = not app.config.get("TESTING") and not has_transactions(services.store)
    if not wanted:
        return
    if has_transactions(services.store):
        raise ValueError("JOBS_IN_PROCESS works with the embedded store only: run `motcua worker` beside a "
                         "PostgreSQL deployment's web processes")
    state = {"pid": None}

    def start() -> None:
        if state["pid"] != os.getpid():
            state["pid"] = os.getpid()
            queue = queue_for(services.store, app.config)
            queue.start_in_process(app)  # type: ignore[attr-defined]
            atexit.register(queue.close)  # let a running job finish, then stop

    start()
    app.before_request(start)


def _data_folder(path: Path) -> None:
    """A new data folder is readable by its owner only (dossiers, uploads, the secret key);
    an existing one keeps the mode its administrator gave it."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)


class _TemplateCode(BytecodeCache):
    """Compiled templates shared by every app of this process (tests build hundreds): Jinja
    checks each entry against the template's source, so an edited template compiles anew."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _TemplateCode()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build a fresh portal. Tests pass their own DATA_DIR and SPECS_DIR.

    The garbage collector is paused while it builds: a province's catalogue is millions of
    objects made here to live as long as the app, and every collection pass started by the
    building that follows the catalogue's load would walk all of them again (~0.2 s CPU at
    2,000 specs, docs/performance.md). `motcua serve` then freezes them out of later passes."""
    from motcua.catalogue import paused_collection

    with paused_collection():
        return _create_app(config)


def _create_app(config: dict[str, Any] | None) -> Flask:
    import importlib

    app = _App(__name__)
    app.session_interface = SessionCookie()  # its signer made once, not per request
    app.config.from_mapping(
        DATA_DIR=os.environ.get("MOTCUA_DATA_DIR", "data"),
        SPECS_DIR=os.environ.get("MOTCUA_SPECS_DIR", "procedure_specs"),
        MAX_CONTENT_LENGTH=60 * 1024 * 1024,
        # Forms: no text field needs more than this; uploads are files, not form memory.
        MAX_FORM_MEMORY_SIZE=256 * 1024,
        MAX_FORM_PARTS=1000,
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        DEMO=False,
    )
    app.config.from_prefixed_env("MOTCUA")
    if config:
        app.config.update(config)
    proxies = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    if proxies > 0:  # behind that many reverse proxies: the client's address from X-Forwarded-For
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    _public_address(app.config)
    _trusted_hosts(app.config)
    # a deployment's own document templates (docs/documents.md): a wrong path fails now,
    # not on the first receipt a citizen downloads
    templates = app.config.get("DOCUMENT_TEMPLATES_DIR")
    if templates and not Path(templates).is_dir():
        raise ValueError(f"DOCUMENT_TEMPLATES_DIR (MOTCUA_DOCUMENT_TEMPLATES_DIR): {templates} is not a folder")
    from motcua.integrations import check_settings

    check_settings(app.config)  # settings naming plugins (PAYMENT_GATEWAY, SYNC ...) name installed ones
    from motcua import signing

    # the agency's signing key (SIGNING_KEY/SIGNING_CERT or SIGNING_PKCS12): missing, unreadable,
    # mismatched or expired stops the start here, never a 500 when staff first sign a result
    app.extensions["motcua.signer"] = signing.load_signer(app.config)
    data_dir = Path(app.config["DATA_DIR"])
    _data_folder(data_dir)
    app.config.setdefault("SECRET_KEY", None)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = secret_key(data_dir)

    # STORE (MOTCUA_STORE): a postgresql:// URL puts dossiers and records in PostgreSQL;
    # unset, the embedded store in DATA_DIR (or the one the folder's marker names: a
    # PostgreSQL deployment's folder is never opened as an empty embedded store).
    # FILES (MOTCUA_FILES): where a PostgreSQL store keeps uploads, "database" (default:
    # shared by every machine) or "folder" (DATA_DIR/files); docs/store.md.
    store = open_store(store_target(data_dir, app.config.get("STORE")), data_dir, app.config.get("FILES"))
    quick_check = getattr(store, "quick_check", None)  # cheap; `motcua store check` looks at everything
    for damage in quick_check() if quick_check else []:
        app.logger.error("store damaged: %s; run `motcua store check --data %s`", damage, data_dir)
    from motcua.agencies import load_registry, registry_path

    # AGENCY_REGISTRY (MOTCUA_AGENCY_REGISTRY): the offices of this deployment; a wrong file
    # stops the start with path:line errors (docs/agencies.md). Specs are linted against it.
    agencies = load_registry(registry_path(app.config))
    # lint results kept in the data folder, or in SPEC_CACHE_DIR (MOTCUA_SPEC_CACHE_DIR): one
    # folder for every process started on the same specs (docs/deploy.md); pinned versions
    # checked; studio publications applied
    cache_dir = app.config.get("SPEC_CACHE_DIR") or data_dir
    catalogue = published_catalogue(app.config["SPECS_DIR"], store, cache_dir=cache_dir, agencies=agencies)
    for problem in catalogue.problems:  # errors were logged as the spec was left out
        if problem.severity != "error":
            app.logger.warning("spec warning (the spec is served): %s", problem)

    from motcua.workflow import Engine

    app.extensions["motcua"] = Services(store=store, catalogue=catalogue, engine=None, agencies=agencies)
    app.extensions["motcua"].engine = Engine(app.extensions["motcua"], app.config)
    needs_key = [spec.key for spec in catalogue if app.extensions["motcua"].engine.result_policy(spec)[1] == "required"]
    if needs_key and app.extensions["motcua.signer"] is None:
        raise signing.SigningConfigError(
            f"{', '.join(needs_key)}: the spec's result step says `signature: required` but no signing key is set "
            "(SIGNING_KEY + SIGNING_CERT, or SIGNING_PKCS12; `motcua signing dev-cert` makes a test one)")
    from motcua.workflow.registry import start_warnings

    for warning in start_warnings(catalogue, app.config):  # e.g. online payment with no gateway configured
        app.logger.warning("%s", warning)
    from motcua import issued

    # forms 02-04 are printed once, when the workflow issues them, and kept with the dossier
    app.extensions["motcua"].engine.listeners.append(issued.listener(app.extensions["motcua"], app.config))
    _demo_accounts_off(app)

    from motcua import identity

    identity.init_app(app)  # sign-in providers (IDENTITY_PROVIDERS); nothing is fetched yet
    app.before_request(_limit_forms)  # before CSRFProtect's hook, which reads the form
    csrf.init_app(app)  # checks every form post (flask-wtf), with cheaper tokens (motcua.web.csrf_token)
    for module, attr, prefix in BLUEPRINTS:
        app.register_blueprint(getattr(importlib.import_module(module), attr), url_prefix=prefix or None)
    from motcua.integrations.web import mount

    mount(app, csrf)  # generic /plugins/<kind>/<id>/ routes and what each plugin brings

    from motcua.web import headers

    headers.install(app)  # no-store, CSP with nonces, HSTS over https

    @app.before_request
    def _lang() -> None:
        g.lang = i18n.choose_lang()

    from motcua.web.text_guard import refuse_bad_text

    app.before_request(refuse_bad_text)  # NUL and lone surrogates: a 400, never a 500 in a store

    @app.after_request
    def _headers(response):  # type: ignore[no-untyped-def]
        if "lang" in request.args and request.args["lang"] in i18n.LANGS:
            response.set_cookie("lang", request.args["lang"], max_age=365 * 86400, samesite="Lax")
        return response  # the other headers every page gets: motcua.web.headers

    app.jinja_env.bytecode_cache = _TEMPLATE_CODE  # compiled once per process, not once per app
    app.jinja_env.globals.update(_=i18n.gettext, gettext=i18n.gettext, pgettext=i18n.pgettext, ngettext=i18n.ngettext,
                                 local=i18n.local, current_lang=i18n.current_lang, public_url=public_url)
    app.jinja_env.filters.update(i18n.FILTERS)  # |money, |date, |datetime: the reader's way, Vietnam time
    from motcua.units import address_text
    from motcua_renderers.form import render_address

    app.jinja_env.globals.update(address_text=address_text, address_fields=render_address)  # postal addresses
    # who performs a procedure, and a dossier's office, for templates (docs/agencies.md)
    from motcua.web.offices import details as office_details
    from motcua.web.offices import shared_hours as office_hours

    app.jinja_env.globals.update(performers_name=catalogue.performers_name, spec_tier=catalogue.tier, office=catalogue.office,
                                 office_details=office_details, office_hours=office_hours)
    from motcua.fees import bill, line_amount_text

    # fees and postal charge, with who is paid what; a line's amount as "2 × 8.000 ₫ = 16.000 ₫"
    app.jinja_env.globals.update(bill=bill, fee_amount=line_amount_text)
    logging.getLogger("motcua").setLevel(logging.INFO)
    _jobs(app)
    return app
