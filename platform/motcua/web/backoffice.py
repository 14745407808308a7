"""Blueprint: the back office (bộ phận một cửa), under /staff.

Staff log in, work through the queue of their own agencies' dossiers, open one, act on it
through the workflow engine, and enter walk-in citizens' paper dossiers. Every dossier
lookup goes through `_dossier_for`, which answers 404 for another agency's dossier, so a
guessed code reveals nothing, not even that it exists.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from motcua import accounts
from motcua.accounts import ROLE_LABELS, StaffUser, current_staff, staff_required
from motcua.agencies import office_name
from motcua.catalogue import spec_of
from motcua.dossier import CLOSED, Dossier, Event, Status
from motcua.i18n import _, current_lang, local
from motcua.processing import liaison_agency, may_open, plan_of as processing_plan_of, waiting_for as processing_waiting_for
from motcua.results import attachable, may_attach, may_sign, results_of
from motcua.search import fold
from motcua_renderers.documents import FORM_TITLES, issued_forms
from motcua.signing import current_signer
from motcua.services import services
from motcua.submission import delivery_choice, required_attachments, validate, validate_delivery
from motcua.spec.model import ProcedureSpec
from motcua.store.summary import DossierSummary
from motcua.workflow import Action, ActionNotAllowed, lifecycle
from motcua.web.redirects import local_path
from motcua.web.labels import CHANNELS, DELIVERIES, FEE_KINDS, actor_label, event_label, label, status_label
from motcua.workdays import VN_TZ, Calendar

bp = Blueprint("backoffice", __name__)

PAGE_SIZE = 25
#: The largest file an action reads from a post (a draft result); the engine checks the real limit.
MAX_ACTION_FILE = 20 * 1024 * 1024


# --- pure helpers ---------------------------------------------------------------------------


def vn_today(now: datetime | None = None) -> date:
    """Today's date in Vietnam, the calendar due dates are written in."""
    return (now or datetime.now(VN_TZ)).astimezone(VN_TZ).date()


@dataclass(frozen=True)
class QueueFilter:
    """The queue's GET parameters; every one optional.

    `status` is a status code, `all`, or `open` (the default): every dossier not closed, so a
    finished one stays in the queue until its result is returned.
    """

    status: str = "open"
    procedure: str = ""
    channel: str = ""
    overdue: bool = False
    q: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> QueueFilter:
        try:
            page = max(1, int(args.get("page", 1)))
        except ValueError:
            page = 1
        return cls(
            status=args.get("status", "open") or "open",
            procedure=args.get("procedure", "").strip(),
            channel=args.get("channel", "").strip(),
            overdue=args.get("overdue") in ("1", "on", "true"),
            q=args.get("q", "").strip()[:100],
            page=page,
        )

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query parameters for a link to this filter (with `changes`), defaults left out."""
        f = replace(self, **changes)
        out: dict[str, Any] = {}
        if f.status != "open":
            out["status"] = f.status
        for key in ("procedure", "channel", "q"):
            if getattr(f, key):
                out[key] = getattr(f, key)
        if f.overdue:
            out["overdue"] = "1"
        if f.page != 1:
            out["page"] = f.page
        return out

    def narrowing(self, user: StaffUser) -> dict[str, Any]:
        """The store's `summaries()` filters that `matches` implies for `user` (their
        agencies, the statuses asked for), so a server database reads only those rows
        from its index instead of every dossier ever filed; `matches` still decides."""
        out: dict[str, Any] = {}
        if "admin" not in user.roles:
            out["agency_codes"] = sorted(user.agencies)
        if self.status == "open":
            out["statuses"] = sorted(int(x) for x in Status if x not in CLOSED)
        elif self.status != "all":
            out["statuses"] = [int(self.status)] if self.status.isascii() and self.status.isdigit() else []
        return out

    def matches(self, s: DossierSummary, is_overdue: Callable[[DossierSummary], bool]) -> bool:
        if self.status == "open":
            if s.status in CLOSED:
                return False
        elif self.status != "all":
            if not self.status.isdigit() or s.status != int(self.status):
                return False
        if self.procedure and s.procedure_code != self.procedure:
            return False
        if self.channel and s.channel != self.channel:
            return False
        if self.q:
            needle = fold(self.q)
            if needle not in fold(s.code) and needle not in fold(s.name):
                return False
        if self.overdue and not is_overdue(s):
            return False
        return True


def queue(
    summaries: Iterable[DossierSummary],
    user: StaffUser,
    flt: QueueFilter,
    is_overdue: Callable[[DossierSummary], bool],
) -> list[DossierSummary]:
    """The user's agencies' dossiers that pass the filter, soonest due first (no date last).

    It works on the store's summaries, not on dossiers: at a province's volume reading every
    dossier to filter a page costs seconds (bench/staff_queue.py); only the page shown is
    read in full.
    """
    mine = [s for s in summaries if may_open(user, s.agency_code, s.liaison_agency) and flt.matches(s, is_overdue)]
    return sorted(mine, key=lambda s: (s.due_date is None, s.due_date or date.max, s.filed_at))


def summary_overdue(s: DossierSummary, today: date, calendar: Calendar) -> bool:
    """`lifecycle.overdue`, the one rule, on a summary's values (the queue reads no dossier)."""
    return lifecycle.overdue(s.due_date, s.status, s.settled, s.paused_since, today, calendar, s.calendar_days)


def page_of(items: list[Any], page: int, size: int = PAGE_SIZE) -> tuple[list[Any], int, int]:
    """(items on `page`, that page clamped to range, number of pages)."""
    pages = max(1, math.ceil(len(items) / size))
    page = min(max(1, page), pages)
    return items[(page - 1) * size : page * size], page, pages


def safe_filename(name: str, fallback: str = "tep") -> str:
    """A citizen's file name made harmless for a download header: no path, no controls."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = re.sub(r'[<>:"|?*;]', "_", name).strip(" .")
    return name[:150] or fallback


def safe_next(target: str | None) -> str:
    """Where to go after login: only a path inside the back office, never another site."""
    return local_path(target, "/staff") or url_for("backoffice.queue_view")


def payment_state(dossier: Dossier) -> str:
    """`none` (nothing to pay), `paid` or `unpaid`, read from the timeline."""
    if dossier.fee_total <= 0:
        return "none"
    return "paid" if any(e.kind == "paid" for e in dossier.events) else "unpaid"


# --- request helpers -----------------------------------------------------------------------


def _user() -> StaffUser:
    user = current_staff()
    assert user is not None  # staff_required ran first
    return user


def _dossier_for(user: StaffUser, code: str) -> Dossier:
    """The dossier if this user's agencies hold it (or it is at a liên thông stage of theirs:
    motcua.processing.may_open); 404 otherwise (and when it is absent)."""
    dossier = services().store.dossiers.get(code)
    if dossier is None or not may_open(user, dossier.agency_code, liaison_agency(dossier)):
        abort(404)
    return dossier


def _spec_for(dossier: Dossier) -> ProcedureSpec | None:
    """The spec text the dossier was filed under, else the catalogue's current one."""
    svc = services()
    return spec_of(svc.store, dossier.spec_key) or svc.catalogue.get(dossier.procedure_code)


def _actor_name(actor: str, names: dict[str, str]) -> str:
    return actor_label(actor, names)


def _is_overdue(dossier: Dossier) -> bool:
    """The engine's judgement: it knows the calendar and the clock's pauses."""
    return bool(services().engine.is_overdue(dossier, vn_today()))


@bp.context_processor
def _context() -> dict[str, Any]:
    return {
        "staff": current_staff(),
        "status_label": status_label,
        "event_label": event_label,
        "channel_label": lambda c: label(CHANNELS, c),
        "delivery_label": lambda d: label(DELIVERIES, d),
        "fee_kind_label": lambda k: label(FEE_KINDS, k),
        "role_label": lambda r: ROLE_LABELS.get(r, {}).get(current_lang()) or r,
        # Other areas (statistics, feedback) link in only when they are installed.
        "has_endpoint": lambda name: name in current_app.view_functions,
    }


# --- login ----------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    next_url = safe_next(request.values.get("next"))
    if request.method in ("GET", "HEAD"):
        if current_staff():
            return redirect(next_url)
        first_run = next(iter(services().store.records(accounts.ACCOUNTS).all()), None) is None
        return render_template("backoffice/login.html", next=next_url, username="", first_run=first_run)
    store = services().store
    username = request.form.get("username", "").strip()
    limits = accounts.LoginLimits.from_config(current_app.config)
    _purge_now_and_then(store, limits)
    device = accounts.device_for(request.cookies.get(accounts.device_cookie_name(username)), username)
    result = accounts.authenticate(
        store, username, request.form.get("password", ""), client=request.remote_addr or "", device=device, limits=limits
    )
    if result.ok and result.user:
        accounts.login_session(store, result.user)
        response = redirect(next_url)
        if device is None:  # this browser is now one the account has logged in from
            response.set_cookie(
                accounts.device_cookie_name(result.user.username), accounts.device_cookie(result.user.username),
                max_age=accounts.DEVICE_DAYS * 86400,
                path=url_for("backoffice.login"), httponly=True, samesite="Lax",
                secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
            )
        return response
    if result.retry_after:
        minutes = max(1, math.ceil(result.retry_after / 60))
        error = _("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.", minutes=minutes)
        status = 429
    else:  # unknown user, wrong password and disabled account alike: nothing tells them apart
        error = _("Tên đăng nhập hoặc mật khẩu không đúng.")
        status = 401
    page = render_template("backoffice/login.html", next=next_url, username=username, error=error)
    headers = {"Retry-After": str(result.retry_after)} if result.retry_after else {}
    return page, status, headers


_LOGIN_PURGE_EVERY_S = 600


def _purge_now_and_then(store: Any, limits: accounts.LoginLimits) -> None:
    """Ended counting windows and expired sessions go, at most every few minutes."""
    import time

    state = current_app.extensions.setdefault("motcua.login_purge", {"at": time.time()})
    if time.time() - state["at"] > _LOGIN_PURGE_EVERY_S:
        state["at"] = time.time()
        accounts.purge_login_attempts(store, limits)


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    accounts.logout_session(services().store)
    flash(_("Đã đăng xuất."), "success")
    return redirect(url_for("backoffice.login"))


# --- the queue ------------------------------------------------------------------------------


@bp.route("/")
@staff_required()
def queue_view() -> Any:
    user = _user()
    svc = services()
    flt = QueueFilter.from_args(request.args)
    today, calendar = vn_today(), svc.engine.calendar
    late = lambda s: summary_overdue(s, today, calendar)  # noqa: E731
    found = queue(svc.store.dossiers.summaries(**flt.narrowing(user)), user, flt, late)
    shown, page, pages = page_of(found, flt.page, current_app.config.get("STAFF_PAGE_SIZE", PAGE_SIZE))
    flt = replace(flt, page=page)
    # Only the page shown is read in full; a dossier gone meanwhile (never, today) is skipped.
    # A row's overdue mark is the summary's, as the filter and the count judge it.
    rows = [(d, late(s)) for s, d in ((s, svc.store.dossiers.get(s.code)) for s in shown) if d is not None]
    procedures = [s for s in svc.catalogue if any(user.serves(a.code) for a in svc.catalogue.performers(s))]
    return render_template(
        "backoffice/queue.html",
        rows=rows,
        total=len(found),
        overdue_total=sum(1 for s in found if late(s)),
        flt=flt,
        page=page,
        pages=pages,
        procedures=procedures,
        procedure_names={s.code: local(s.name) for s in svc.catalogue},
        statuses=list(Status),
        channels=CHANNELS,
    )


# --- the job queue (admins) -----------------------------------------------------------------


@bp.route("/viec-nen")
@staff_required("admin")
def jobs_view() -> Any:
    """The jobs that gave up (a message the gateway kept refusing, a step call still failing
    after every retry), newest first, with their last error: what `motcua jobs` lists, for
    an administrator without a shell."""
    from motcua.jobs import dead_jobs

    jobs = [{**job, "at": datetime.fromisoformat(job["at"])} for job in dead_jobs(services().store)]
    return render_template("backoffice/jobs.html", jobs=jobs)


@bp.route("/viec-nen/<job_id>/chay-lai", methods=["POST"])
@staff_required("admin")
def rerun_job(job_id: str) -> Any:
    """Run a dead job again (motcua.jobs.rerun_dead): a parcel whose booking failed is
    booked once the carrier answers again; the dossier's timeline says which admin asked."""
    from motcua.jobs import NotDead, rerun_dead

    try:
        job = rerun_dead(current_app._get_current_object(), job_id, _user().actor)
    except NotDead:
        flash(_("Không còn việc nền lỗi này (có thể đã được chạy lại)."), "error")
    else:
        if job["queued"]:
            flash(_("Đã cho chạy lại việc nền {task}.", task=job["task"]), "success")
        else:
            flash(_("Việc nền {task} không còn gì để chạy (hồ sơ đã đóng, hoặc việc đã được giải quyết cách khác); "
                    "đã bỏ khỏi danh sách.", task=job["task"]), "info")
    return redirect(url_for("backoffice.jobs_view"))


# --- one dossier ----------------------------------------------------------------------------


def supplement_asked(event: Event, spec: ProcedureSpec | None, lang: str) -> dict[str, list[str]]:
    """What a supplement request asked for, as staff read it: the listed items, and the
    components and answers ticked, by their names in the spec (ids when it lacks them)."""
    from motcua.spec.model import localize
    from motcua.submission import field_label

    data = event.data or {}
    components = []
    for cid in data.get("components") or []:
        component = spec.attachment(cid) if spec else None
        components.append(localize(component.name, lang) if component else str(cid))
    fields = [field_label(spec, str(name), lang) if spec else str(name) for name in data.get("fields") or []]
    return {"missing": [str(m) for m in data.get("missing") or []], "components": components, "fields": fields}


def _answer_rows(spec: ProcedureSpec | None, dossier: Dossier) -> list[tuple[str, str]]:
    if spec is None:
        return []
    from motcua_renderers.summary import answer_rows

    return answer_rows(spec, dossier.data, current_lang())


@bp.route("/ho-so/<code>")
@staff_required()
def dossier_view(code: str) -> Any:
    user = _user()
    dossier = _dossier_for(user, code)
    spec = _spec_for(dossier)
    engine = services().engine
    names = {u.username: u.name for u in accounts.all_accounts(services().store)}
    timeline = [(e, _actor_name(e.actor, names)) for e in dossier.events]
    result_policy = engine.result_policy(spec)
    required = {a.id for a in required_attachments(spec, dossier.data, dossier.channel)} if spec else set()
    return render_template(
        "backoffice/dossier.html",
        dossier=dossier,
        spec=spec,
        answers=_answer_rows(spec, dossier),
        required=required,
        timeline=timeline,  # oldest first, as the citizen's: a timeline reads in order
        panels=engine.staff_panels(dossier),
        actions=engine.actions(dossier, user, include_blocked=True),  # held back by a step: shown, with why
        overdue=_is_overdue(dossier),
        payment=payment_state(dossier),
        supplement_asked=lambda event: supplement_asked(event, spec, current_lang()),
        results=results_of(dossier),
        forms=issued_forms(dossier),
        form_titles=FORM_TITLES,
        can_attach_result=attachable(dossier.status, result_policy[0]) and may_attach(user)
        and (result_policy[1] != "required" or may_sign(user)),  # a required signature is the leader's
        can_sign=current_signer() is not None and result_policy[1] != "none" and may_sign(user),
        signature=result_policy[1],
        opinions=_opinions(dossier, spec, names),
        waiting=processing_waiting_for(dossier, processing_plan_of(spec)),
    )


def _opinions(dossier: Dossier, spec: ProcedureSpec | None, names: dict[str, str]) -> list[dict[str, Any]]:
    """The processing chain as staff read it, oldest first: each opinion with its draft, and
    each rework note of the leader (motcua.processing)."""
    from motcua import processing

    rows: list[dict[str, Any]] = []
    for event in dossier.events:
        if event.kind == processing.PROPOSED:
            rows.append({"kind": "opinion", "event": event, "who": _actor_name(event.actor, names), **(event.data or {})})
        elif event.kind == processing.REWORK:
            rows.append({"kind": "rework", "event": event, "who": _actor_name(event.actor, names), "note": event.note,
                         **(event.data or {})})
    return rows


def _action_params(action: Action, form: Any, files: Any = None) -> dict[str, Any]:
    """The posted values the action declares: `reason` and its own fields, typed by kind
    (a `file` field: the upload read up to one byte over the largest size any check allows,
    so an oversized file is refused by its size without being read whole)."""
    from motcua.workflow.actions import UploadedFile

    params: dict[str, Any] = {}
    if action.needs_reason:
        params["reason"] = form.get("reason", "").strip()
    for field in action.fields:
        raw = form.get(field.name, "")
        if field.kind == "file":
            upload = files.get(field.name) if files is not None else None
            params[field.name] = (UploadedFile(filename=upload.filename, data=upload.stream.read(MAX_ACTION_FILE + 1))
                                  if upload is not None and upload.filename else None)
        elif field.kind == "checks":
            params[field.name] = form.getlist(field.name)
        elif field.kind == "list":
            params[field.name] = [line.strip() for line in raw.splitlines() if line.strip()]
        else:
            params[field.name] = raw.strip()
    return params


@bp.route("/ho-so/<code>/xu-ly", methods=["POST"])
@staff_required()
def act(code: str) -> Any:
    user = _user()
    dossier = _dossier_for(user, code)
    name = request.form.get("action", "")
    engine = services().engine
    action = next((a for a in engine.actions(dossier, user) if a.name == name), None)
    try:
        # An action not offered (stale page, forged post) still goes to the engine, which
        # is the one authority on what is allowed and says why not.
        engine.perform(code, name, user, **(_action_params(action, request.form, request.files) if action else {}))
    except ActionNotAllowed as exc:
        flash(str(exc), "error")
    else:
        flash(_("Đã thực hiện: {action}.", action=local(action.label) if action else name), "success")
    return redirect(url_for("backoffice.dossier_view", code=code))


@bp.route("/ho-so/<code>/ket-qua", methods=["POST"])
@staff_required()
def attach_result(code: str) -> Any:
    """Attach an electronic result (PDF) to a decided dossier (motcua.results)."""
    from motcua import results

    user = _user()
    _dossier_for(user, code)
    if not may_attach(user):  # a desk clerk or an author does not issue the official result
        abort(403)
    upload = request.files.get("result")
    if upload is None or not upload.filename:
        flash(_("Chọn tệp kết quả (PDF) để đính kèm."), "error")
        return redirect(url_for("backoffice.dossier_view", code=code))
    data = upload.stream.read(results.MAX_MB * 1024 * 1024 + 1)
    from motcua.signing import current_signer

    dossier = _dossier_for(user, code)
    spec = _spec_for(dossier)
    attach_at, signature = services().engine.result_policy(spec)
    wants = request.form.get("sign") or signature == "required"  # a required signature is not the officer's choice
    if wants and signature != "none" and not may_sign(user):
        flash(_("Chỉ lãnh đạo được ký số kết quả bằng chứng thư số của cơ quan."), "error")
        return redirect(url_for("backoffice.dossier_view", code=code))
    signer = current_signer() if wants else None
    try:
        results.attach(services().store, code, data, upload.filename, user.actor, current_lang(), signer=signer,
                       location=office_name(dossier.agency_code, spec, current_lang()) if spec else "",
                       attach_at=attach_at, signature=signature)
    except results.ResultRefused as exc:
        flash(str(exc), "error")
    else:
        flash(_("Đã ký số và đính kèm kết quả điện tử.") if signer else _("Đã đính kèm kết quả điện tử."), "success")
    return redirect(url_for("backoffice.dossier_view", code=code))


@bp.route("/ho-so/<code>/ket-qua/<file_id>")
@staff_required()
def result_file(code: str, file_id: str) -> Response:
    from motcua import results

    dossier = _dossier_for(_user(), code)
    found = results.result(dossier, file_id)
    if found is None:
        abort(404)
    response = send_file(io.BytesIO(services().store.files.read(file_id)), mimetype="application/pdf",
                         as_attachment=True, download_name=safe_filename(found["filename"]))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _staff_names() -> dict[str, str]:
    return {u.username: u.name for u in accounts.all_accounts(services().store)}


@bp.route("/ho-so/<code>/mau/<name>/<int:index>.pdf")
@staff_required()
def form_document(code: str, name: str, index: int) -> Response:
    """Form 02, 03 or 04 as the workflow issued it (the timeline's event `index`), or form 05
    (`phieu-kiem-soat`, index 0) from the whole timeline, in the reader's language."""
    from motcua_renderers.documents import FORM_FILES, form_of, form_pdf

    from motcua.web.downloads import attachment, document_templates
    from motcua.web.pages import private

    dossier = _dossier_for(_user(), code)
    spec = _spec_for(dossier)
    if spec is None or name not in FORM_FILES:
        abort(404)
    event = None
    if name != "control_sheet":
        if not 0 <= index < len(dossier.events) or form_of(dossier.events[index]) != name:
            abort(404)
        event = dossier.events[index]
    from motcua.issued import kept_pdf

    body = (kept_pdf(services().store, dossier, index, current_lang()) if event is not None else None) \
        or form_pdf(name, dossier, spec, event, current_lang(), _staff_names(), document_templates())
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = attachment(f"{FORM_FILES[name]}-{dossier.code}.pdf")
    return private(response)


@bp.route("/ho-so/<code>/danh-muc-buu-gui.pdf")
@staff_required()
def parcel_list(code: str) -> Response:
    """The contents list put in the parcel of a result returned by public post."""
    from motcua_renderers.documents import parcel_pdf

    from motcua.web.downloads import attachment, document_templates
    from motcua.web.pages import private

    dossier = _dossier_for(_user(), code)
    spec = _spec_for(dossier)
    if spec is None or dossier.delivery is None or dossier.delivery.kind != "postal":
        abort(404)
    response = Response(parcel_pdf(dossier, spec, current_lang(), document_templates()), mimetype="application/pdf")
    response.headers["Content-Disposition"] = attachment(f"danh-muc-buu-gui-{dossier.code}.pdf")
    return private(response)


@bp.route("/so-theo-doi")
@staff_required()
def register_view() -> Any:
    """Form 06, the dossier register: pick an agency and a period; the page lists the rows,
    and the same rows download as PDF or CSV."""
    from motcua import register
    from motcua.stats import period as periods

    user = _user()
    svc = services()
    # the offices this officer serves that perform a procedure of the catalogue
    agencies = sorted({a.code: local(a.name) for s in svc.catalogue for a in svc.catalogue.performers(s)
                       if user.serves(a.code)}.items())
    agency = request.args.get("agency", "").strip() or (agencies[0][0] if agencies else "")
    fmt = request.args.get("format", "")
    try:
        period = periods.parse(request.args)
    except periods.PeriodError as exc:
        flash(str(exc), "error")  # PeriodError speaks Vietnamese, as the statistics page shows it
        return redirect(url_for("backoffice.register_view"))
    if agency and not user.serves(agency):
        abort(404)
    lang = current_lang()
    rows = register.register_rows(svc.store, _spec_for, period, [agency], lang) if agency else []
    agency_name = dict(agencies).get(agency, agency)
    if fmt in ("pdf", "csv"):
        from motcua.web.downloads import attachment, document_templates
        from motcua.web.pages import private
        from motcua_renderers.documents import register_pdf

        base = f"so-theo-doi-ho-so-{agency}-{period.start:%Y%m%d}-{period.end:%Y%m%d}"
        if fmt == "pdf":
            response = Response(register_pdf(rows, register.headers(lang), agency_name, period.label(lang), lang,
                                              document_templates()), mimetype="application/pdf")
        else:
            response = Response(register.register_csv(rows, lang), mimetype="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = attachment(f"{base}.{fmt}")
        return private(response)
    return render_template("backoffice/register.html", rows=rows, headers=register.headers(lang), agencies=agencies,
                           agency=agency, period=period, args=request.args)


@bp.route("/ho-so/<code>/du-thao/<file_id>")
@staff_required()
def draft_file(code: str, file_id: str) -> Response:
    """A draft result a specialist attached to an opinion (staff only, this agency's)."""
    from motcua import processing

    dossier = _dossier_for(_user(), code)
    found = next(((e.data or {}).get("draft_file") for e in dossier.events
                  if e.kind == processing.PROPOSED and ((e.data or {}).get("draft_file") or {}).get("file_id") == file_id), None)
    if not found:
        abort(404)
    try:
        data = services().store.files.read(file_id)
    except (KeyError, FileNotFoundError):
        abort(404)
    response = send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                         download_name=safe_filename(found.get("filename") or "du-thao.pdf"))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/ho-so/<code>/tep/<int:index>")
@staff_required()
def attachment(code: str, index: int) -> Response:
    dossier = _dossier_for(_user(), code)
    if not 0 <= index < len(dossier.attachments):
        abort(404)
    ref = dossier.attachments[index]
    try:
        data = services().store.files.read(ref.file_id)
    except (KeyError, FileNotFoundError):
        abort(404)
    response = send_file(
        io.BytesIO(data),
        mimetype=ref.content_type or "application/octet-stream",
        as_attachment=True,
        download_name=safe_filename(ref.filename),
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _tracking_url(code: str) -> str:
    """The citizen's private tracking link (SEC): the desk receipt is handed to the applicant."""
    from motcua.web.portal import private_tracking_url

    return private_tracking_url(code)


@bp.route("/ho-so/<code>/giay-tiep-nhan.pdf")
@staff_required()
def receipt(code: str) -> Response:
    dossier = _dossier_for(_user(), code)
    spec = _spec_for(dossier)
    if spec is None:
        abort(404)
    from motcua_renderers.documents import receipt_pdf

    from motcua.web.downloads import attachment, document_templates
    from motcua.web.pages import private
    from motcua.web.portal import receipt_filename

    office = services().catalogue.office(dossier.agency_code, spec)
    body = receipt_pdf(dossier, spec, _tracking_url(code), current_lang(), document_templates(), office.name if office else None)
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = attachment(receipt_filename(dossier.code))
    return private(response)  # it carries the citizen's private link


# --- walk-in intake -------------------------------------------------------------------------

#: The channels a paper dossier reaches the desk by: handed in, or sent by public post.
PAPER_CHANNELS = ("desk", "postal")


def paper_channels(spec: ProcedureSpec) -> list[str]:
    """The paper channels the procedure publishes (all of them when it publishes none)."""
    return [c for c in PAPER_CHANNELS if not spec.channels or any(ch.kind == c for ch in spec.channels)]


def _desk_procedures(user: StaffUser) -> list[ProcedureSpec]:
    """Procedures this officer may take in on paper: their agencies', with a form."""
    return [
        s
        for s in services().catalogue
        if s.form is not None and paper_channels(s) and any(user.serves(a.code) for a in services().catalogue.performers(s))
    ]


@bp.route("/tiep-nhan")
@staff_required("desk")
def intake_list() -> Any:
    return render_template("backoffice/intake_list.html", procedures=_desk_procedures(_user()))


def _record_paper_components(code: str, spec: ProcedureSpec, received: set[str], user: StaffUser) -> None:
    """Which paper components the officer checked at the desk, kept on the timeline."""
    if not received:
        return
    from motcua.spec.model import localize
    from motcua.workflow import notes

    got = [a.name for a in spec.attachments if a.id in received]
    text, message = notes.split(notes.message(  # in the reader's language when shown, not the clerk's
        {"vi": "Đã nhận bản giấy: {names}.", "en": "Paper documents received: {names}."},
        names=notes.words({lang: "; ".join(localize(n, lang) for n in got) for lang in ("vi", "en")})))
    event = Event(
        actor=user.actor,
        kind="paper_components",
        note=text,
        message=message,
        data={"received": sorted(received)},
    )
    services().store.dossiers.update(code, lambda d: d.record(event))


#: The payment step's action recording a fee paid at the counter (plugins/payment.py).
DESK_PAYMENT = "record_payment"


def _take_fee_at_desk(code: str, user: StaffUser, receipt_no: str) -> list[str]:
    """The fee taken at the counter with the filing, recorded by the payment step's desk action
    BEFORE the workflow starts (the filing's own cascade runs in that action's commit): the
    payment step then enters a dossier already paid and notes no fee as due. Returns warnings."""
    engine = services().engine
    dossier = services().store.dossiers.get(code)
    if dossier is None or dossier.fee_total <= 0:
        return []
    if not any(a.name == DESK_PAYMENT for a in engine.actions(dossier, user)):
        return [_("Chưa ghi nhận thu phí: hồ sơ này không nộp phí tại quầy (xem mục Phí, lệ phí).")]
    try:
        from motcua.payments import amount_due

        # the amount shown on the intake form, taken with the papers (the action checks it again)
        engine.perform(code, DESK_PAYMENT, user, receipt_no=receipt_no, amount=str(amount_due(dossier)))
    except ActionNotAllowed as exc:
        return [_("Chưa ghi nhận thu phí: {why}", why=str(exc))]
    return []


def _receive_at_desk(code: str, user: StaffUser) -> list[str]:
    """The officer checked the papers in front of them: the dossier is received now, through
    the engine's own action (so the steps run as for any received dossier). Returns warnings:
    what the engine would not do, in its words; the dossier is filed either way and nothing is lost."""
    try:
        services().engine.perform(code, "receive", user)
    except ActionNotAllowed as exc:
        return [_("Hồ sơ đã được ghi nhận nhưng chưa tiếp nhận được: {why}", why=str(exc))]
    return []


#: The intake form's "recompute the amount" button: re-shows the page with the fee the
#: answers typed so far come to, files nothing (works without JavaScript).
FEE_BUTTON = "_fee"


def _intake_fee(spec: ProcedureSpec, answers: dict[str, Any], channel: str,
                agency: str | None = None) -> tuple[list[Any], int] | None:
    """The fee lines and total the answers so far come to, for the clerk to collect: on the
    first view too (a fixed fee needs no answer); None when the answers don't add up yet."""
    from motcua.fees import compute_fees, total

    try:
        lines = compute_fees(spec, answers, channel, agency)
    except (TypeError, ValueError, KeyError):
        return None
    return [line for line in lines if line.amount or line.exempt], total(lines)


@bp.route("/tiep-nhan/<procedure_code>", methods=["GET", "POST"])
@staff_required("desk")
def intake(procedure_code: str) -> Any:
    """The citizen's generated form, on one page, plus the channel it came by, the paper
    checklist, delivery and the fee taken at the counter. Entered by the officer with the
    papers in hand, the dossier is received at once (`_receive_at_desk`)."""
    from motcua_renderers.form import (UNITS_BUTTON, apply_repeat, error_summary, field_id, parse_address, parse_form, render_fields,
                                repeat_action)

    user = _user()
    spec = next((s for s in _desk_procedures(user) if s.code == procedure_code), None)
    if spec is None:
        abort(404)
    lang = current_lang()
    channels = paper_channels(spec)
    # desk intake files with the clerk's own office: the one they serve among the performers
    # (a choice only for someone serving several, an administrator)
    desk_offices = [a for a in services().catalogue.performers(spec) if user.serves(a.code)]
    agency = desk_offices[0].code if len(desk_offices) == 1 else ""
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    received: set[str] = set()
    channel = channels[0]
    address: dict[str, str] = {}
    if request.method == "POST":
        if len(desk_offices) > 1:
            agency = request.form.get("agency", "").strip()[:40]
        answers = parse_form(spec, request.form, None)
        received = {a.id for a in spec.attachments if request.form.get(f"received.{a.id}")}
        channel = request.form.get("channel") or channels[0]  # the page checks the first one
        address = parse_address("delivery.address", request.form)
        repeat = repeat_action(request.form)
        if repeat:  # "add another" / "remove" on a repeated group: show the form again
            answers = apply_repeat(answers, repeat)
        elif not request.form.get(UNITS_BUTTON) and not request.form.get(FEE_BUTTON):  # those only re-show the page
            errors = dict(validate(spec, answers, lang))
            if agency not in {a.code for a in desk_offices}:
                errors["agency"] = _("Chọn cơ quan tiếp nhận hồ sơ.")
            if channel not in channels:
                errors["channel"] = _("Chọn cách hồ sơ được nộp.")
            for att in required_attachments(spec, answers, channel if channel in channels else "desk"):
                if att.id not in received:
                    errors[f"attachment.{att.id}"] = _("Chưa nhận thành phần bắt buộc: {name}.", name=local(att.name))
            delivery = delivery_choice(spec, request.form.get("delivery.kind"), address)
            errors.update(validate_delivery(spec, delivery, lang))
            fee_paid = bool(request.form.get("fee.paid"))
            receipt_no = request.form.get("fee.receipt_no", "").strip()[:100]
            if fee_paid and not receipt_no:
                errors["fee.receipt_no"] = _("Nhập số biên lai thu phí, lệ phí.")
            if not errors:
                from motcua.filing import add_dossier

                # stored first, the workflow started once the papers and the fee taken with
                # them are on the timeline: the steps see the dossier as it was handed in
                dossier = add_dossier(spec, answers, [], channel=channel, delivery=delivery, actor=user.actor, agency=agency)
                _record_paper_components(dossier.code, spec, received, user)
                warnings = _take_fee_at_desk(dossier.code, user, receipt_no) if fee_paid else []
                services().engine.on_filed(dossier.code)  # settled already if the fee was recorded
                warnings += _receive_at_desk(dossier.code, user)
                for warning in warnings:
                    flash(warning, "error")
                if not warnings:
                    flash(_("Đã tiếp nhận hồ sơ {code}.", code=dossier.code), "success")
                return redirect(url_for("backoffice.dossier_view", code=dossier.code))
    from motcua.web.pages import form_assets  # RENDER's form script: the commune list, shown fields

    return render_template(
        "backoffice/intake.html",
        spec=spec,
        summary=error_summary(spec, errors, lang),
        fields=render_fields(spec, None, answers, errors, lang),
        errors=errors,
        received=received,
        form=request.form,
        channels=channels,
        channel=channel,
        address=address,
        fee=_intake_fee(spec, answers, channel if channel in channels else "desk", agency or None),
        fee_button=FEE_BUTTON,
        desk_offices=desk_offices,
        agency=agency,
        charges_fees=any(f.amount or f.tiers for f in spec.fees),
        assets=form_assets(),
        field_id=field_id,
    ), (422 if errors else 200)
