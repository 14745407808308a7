"""Blueprint: the authoring studio (soạn thảo thủ tục), under /staff/soan-thao.

Authors (role `author`) and administrators list the procedures with their versions and
state, edit a spec's YAML in a code editor (CodeMirror 6, bundled into
`static/studio/editor.js` by `make studio-assets`; the page works as a plain textarea
without it), see the linter's findings as they type (`POST kiem-tra`, JSON) and a live
preview of the procedure page, the citizen form and the fee for sample answers in
Vietnamese and English (`POST <code>/xem-truoc`, drawn server-side by the portal's own
templates and renderers). A draft is submitted for review; another administrator approves
it, which publishes it as a new immutable version (motcua.studio). History shows a diff
between versions; rolling back puts an old version up for review again.

Every process re-reads the studio's generation at most every `STUDIO_REFRESH_SECONDS`
(default 2) and rebuilds its catalogue when another process published, so several web
processes serve the same published catalogue.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup

from motcua import drafts, studio
from motcua.accounts import StaffUser, current_staff, staff_required
from motcua.catalogue import Catalogue
from motcua.i18n import LANGS, N_, _, current_lang, local, money
from motcua.services import services
from motcua.spec.cli import editor_schema
from motcua.spec.model import ProcedureSpec

bp = Blueprint("studio", __name__)

#: What the list calls each state (Vietnamese source; English in the catalogue).
STATES = {
    "draft": N_("Bản thảo"),
    "review": N_("Chờ duyệt"),
    "published": N_("Đã công bố"),
    "retired": N_("Ngừng áp dụng"),
}


@bp.context_processor
def _context() -> dict[str, Any]:
    from motcua.web.backoffice import _context as staff_context

    return {**staff_context(), "state_labels": {k: _(v) for k, v in STATES.items()}}


@bp.before_app_request
def _fresh_catalogue() -> None:
    """Serve what another process published: compare the store's generation with this
    catalogue's at most every STUDIO_REFRESH_SECONDS, rebuild when it moved."""
    svc = services()
    now = time.monotonic()
    if now - svc.catalogue.checked < float(current_app.config.get("STUDIO_REFRESH_SECONDS", 2)):
        return
    svc.catalogue.checked = now
    if studio.generation(svc.store) != svc.catalogue.generation:
        _rebuild()


def _rebuild() -> Catalogue:
    svc = services()
    svc.catalogue = svc.catalogue.with_studio(svc.store)
    svc.catalogue.checked = time.monotonic()
    return svc.catalogue


def _user() -> StaffUser:
    user = current_staff()
    assert user is not None  # staff_required ran
    return user


def _is_admin(user: StaffUser) -> bool:
    return "admin" in user.roles


def _served(code: str) -> ProcedureSpec | None:
    """The version citizens are offered now (folder or studio), retired ones too."""
    catalogue = services().catalogue
    return catalogue.get(code) or _studio_spec(code) or catalogue.folder.get(code)


def _studio_spec(code: str) -> ProcedureSpec | None:
    key = studio.record(services().store, code).get("published")
    data = studio.version(services().store, key) if key else None
    return ProcedureSpec.model_validate(data["spec"]) if data else None


def _served_text(code: str) -> str | None:
    """The YAML of the served version: the studio's version text, else the folder file."""
    store = services().store
    key = studio.record(store, code).get("published")
    catalogue = services().catalogue
    if key and (code in catalogue.from_studio or code not in catalogue.folder):
        data = studio.version(store, key)
        if data:
            return str(data["text"])
    path = catalogue.paths.get(code)
    if path is None:
        return None
    return path.read_text(encoding="utf-8-sig")


def _name(code: str, spec: ProcedureSpec | None, draft: dict[str, Any]) -> str:
    """What to call a procedure: the served version's name, else its draft's (a new
    procedure never published), else its code."""
    if spec is not None:
        return local(spec.name)
    return studio.display_name(draft.get("text") or "") or code


def _codes() -> list[str]:
    catalogue = services().catalogue
    return sorted(set(catalogue.folder) | set(studio.codes(services().store)))


@bp.get("/")
@staff_required("author")
def index() -> str:
    store = services().store
    catalogue = services().catalogue
    rows = []
    for code in _codes():
        rec = studio.record(store, code)
        spec = _served(code)
        draft = rec.get("draft") or {}
        state = studio.state_of(rec, served=catalogue.get(code) is not None)
        versions = [e["key"].split("@", 1)[1] for e in studio.history(store, code)]
        folder = catalogue.folder.get(code)
        if not versions and folder is not None:  # never published in the studio: the file is the one version
            versions = [_("{version} (thư mục)", version=folder.version)]
        rows.append({
            "code": code,
            "name": _name(code, spec, draft),
            "version": spec.version if spec else "",
            "source": _("thư mục") if code in catalogue.folder and code not in catalogue.from_studio else _("xưởng soạn thảo"),
            "state": state,
            "state_label": _(STATES[state]),
            "draft_by": draft.get("submitted_by") or draft.get("author") or "",
            "versions": versions,
        })
    return render_template("studio/index.html", rows=rows)


@bp.get("/moi")
@staff_required("author")
def new() -> str:
    """"Tạo thủ tục mới": from the blank template, or from a record pasted from the national
    procedure database (motcua.spec.national_import). Either makes a draft that then goes
    through the same edit, lint, preview, review and publish as any other."""
    return render_template("studio/new.html", errors=[], form={})


@bp.post("/moi")
@staff_required("author")
def create() -> Any:
    source = request.form.get("source", "blank")
    form = {k: request.form.get(k, "") for k in ("code", "name", "record")}
    store = services().store
    version = studio.first_version()
    try:
        if len(form["record"]) > studio.MAX_TEXT:
            raise studio.StudioError(_("Nội dung quá dài."))
        if source == "national":
            if not form["record"].strip():
                raise studio.StudioError(_("Hãy dán nội dung thủ tục từ Cơ sở dữ liệu quốc gia."))
            code, text, notes = studio.imported_text(form["record"].replace("\r\n", "\n"), version)
        else:
            code = form["code"].strip()
            text, notes = studio.blank_text(code, form["name"].strip(), version), 0
        studio.create(store, code, text, _user().username, services().catalogue.folder)
    except studio.StudioError as exc:
        return render_template("studio/new.html", errors=[str(exc)], form=form, source=source), 400
    if source == "national":
        flash(_("Đã tạo bản thảo {code} từ Cơ sở dữ liệu quốc gia. Còn phải viết biểu mẫu (form); "
                "{n} điểm cần xem lại được ghi ở đầu bản thảo (dòng # TODO).", code=code, n=notes), "info")
    else:
        flash(_("Đã tạo bản thảo {code} từ mẫu trống.", code=code), "info")
    return redirect(url_for("studio.edit", code=code))


@bp.get("/schema.json")
@staff_required("author")
def schema() -> Any:
    """The spec format's JSON Schema (`motcua schema`), for the editor's completion."""
    response = jsonify(editor_schema())
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.post("/kiem-tra")
@staff_required("author")
def lint() -> Any:
    """The linter on the posted text: `{"findings": [{line, col, severity, message}]}`.
    A JSON post carries the CSRF token in the X-CSRFToken header (flask-wtf checks it)."""
    text = _posted_text()
    linted = studio.lint_text(text, agencies=services().catalogue.agencies)
    return jsonify({"ok": linted.ok, "findings": [_finding(f) for f in linted.findings]})


def _posted_text() -> str:
    body = request.get_json(silent=True)
    if isinstance(body, dict):
        text = body.get("text")
    else:
        text = request.form.get("text")
    if not isinstance(text, str):
        abort(400)
    if len(text) > studio.MAX_TEXT:
        abort(413)
    return text.replace("\r\n", "\n")


def _finding(f: Any) -> dict[str, Any]:
    return {"line": f.line, "col": f.col, "severity": f.severity, "message": f.message}


@contextmanager
def _language(lang: str) -> Iterator[None]:
    """Render in `lang` within this request (the preview shows both languages)."""
    before = g.get("lang")
    g.lang = lang
    try:
        yield
    finally:
        g.lang = before


def preview_html(spec: ProcedureSpec, answers: dict[str, Any], lang: str) -> dict[str, str]:
    """The procedure page, the citizen form (with the errors these answers get) and the fee
    for these answers, drawn by the portal's own templates and renderers in `lang`."""
    from motcua import submission
    from motcua.fees import compute_fees, line_amount_text, total
    from motcua.web import labels, offices
    from motcua.web.portal import fee_descriptions
    from motcua_renderers.form import render_fields

    with _language(lang):
        page = render_template("portal/_procedure_body.html", spec=spec, fees=fee_descriptions(spec),
                               has_blank_form=False, can_file=False, offices=offices.offices(spec),
                               office_selected=None, office_query=offices.QUERY)
        form = Markup('<p class="studio-preview-notice">{}</p>').format(
            _("Thủ tục chưa có biểu mẫu (mục `form`): viết `form` để xem trước biểu mẫu."))
        if spec.form is not None:
            errors = submission.validate(spec, answers, lang) if answers else {}
            parts = []
            for step in drafts.steps(spec):
                if step.kind == "page":
                    parts.append(Markup("<h3>{}</h3>").format(local(step.title)))
                    parts.append(render_fields(spec, list(step.fields), answers, errors, lang))
            form = Markup("").join(parts)
        lines = compute_fees(spec, answers, "online")
        fee_rows = [{"kind": labels.label(labels.FEE_KINDS, line.kind), "name": local(line.name),
                     "quantity": line.quantity, "amount": line_amount_text(line, lang), "exempt": line.exempt}
                    for line in lines]
        fees = render_template("studio/_fees.html", rows=fee_rows, total=money(total(lines), lang))
    return {"procedure": page, "form": str(form), "fees": fees}


@bp.post("/<code>/xem-truoc")
@staff_required("author")
def preview(code: str) -> Any:
    """The live preview for the posted text and sample answers, both languages; when the
    text does not lint clean, the findings instead (the preview needs a valid spec)."""
    text = _posted_text()
    body = request.get_json(silent=True) or {}
    answers = body.get("answers") if isinstance(body, dict) else None
    if answers is None:
        raw = request.form.get("answers", "")
        try:
            answers = json.loads(raw) if raw.strip() else {}
        except ValueError:
            answers = None
    if not isinstance(answers, dict):
        return jsonify({"ok": False, "findings": [], "answers_error": _("Câu trả lời mẫu phải là một đối tượng JSON, ví dụ {\"so_ban\": 2}.")})
    linted = studio.lint_text(text, agencies=services().catalogue.agencies)
    findings = [_finding(f) for f in linted.findings]
    ready = linted.ok and not studio.todo_notes(text)  # the editor then clears a refused submission's notice
    if not linted.ok or linted.spec is None:
        return jsonify({"ok": False, "ready": ready, "findings": findings,
                        "notice": {lang: _preview_notice(linted, lang, text) for lang in LANGS}})
    return jsonify({"ok": True, "ready": ready, "findings": findings,
                    **{lang: preview_html(linted.spec, answers, lang) for lang in LANGS}})


def _preview_notice(linted: studio.Linted, lang: str, text: str) -> str:
    """Why a column of the preview is empty, in that column's language: the draft's errors
    (linted again in that language when it is not the reader's)."""
    if lang != current_lang():
        linted = studio.lint_text(text, agencies=services().catalogue.agencies, lang=lang)
    with _language(lang):
        errors = [f for f in linted.findings if f.severity == "error"][:5]
        where = [_("dòng {line}: {message}", line=f.line, message=f.message) for f in errors]
        lines = "; ".join(where)
        return _("Bản thảo còn lỗi nên chưa xem trước được: {errors}", errors=lines or "?")


@bp.get("/<code>")
@staff_required("author")
def edit(code: str) -> Any:
    if code not in _codes():
        abort(404)
    store = services().store
    rec = studio.record(store, code)
    draft = rec.get("draft") or {}
    text = draft.get("text") if draft else _served_text(code)
    linted = studio.lint_text(text or "", agencies=services().catalogue.agencies)
    served = _served(code)
    user = _user()
    ok = linted.ok and linted.spec is not None
    return render_template(
        "studio/edit.html",
        code=code,
        spec=served,
        name=_name(code, served, draft) if served or draft else code,
        preview_notice=None if ok else {lang: _preview_notice(linted, lang, text or "") for lang in LANGS},
        headings={lang: _headings(lang) for lang in LANGS},
        rec=rec,
        draft=draft,
        text=text or "",
        findings=[_finding(f) for f in linted.findings],
        state=studio.state_of(rec, served=services().catalogue.get(code) is not None),
        states=STATES,
        can_approve=_is_admin(user) and draft.get("state") == "review" and user.username not in (draft.get("submitted_by"), draft.get("author")),
        is_admin=_is_admin(user),
        answers=request.args.get("answers", "{}"),
        preview={lang: preview_html(linted.spec, {}, lang) for lang in LANGS} if linted.ok and linted.spec else None,
    )


def _headings(lang: str) -> dict[str, str]:
    """The preview column's section headings, in the column's language."""
    with _language(lang):
        return {"fees": _("Phí, lệ phí"), "form": _("Biểu mẫu"), "procedure": _("Trang thủ tục")}


def _act(code: str, action: Any, done: str) -> Any:
    if code not in _codes():
        abort(404)
    try:
        action()
    except studio.DraftNotReady as exc:  # the editor clears it once the text it checks is ready
        flash(str(exc), "error studio-not-ready")
    except studio.StudioError as exc:
        flash(str(exc), "error")
    else:
        flash(done, "info")
    return redirect(url_for("studio.edit", code=code))


@bp.post("/<code>")
@staff_required("author")
def save(code: str) -> Any:
    text = _posted_text()
    return _act(code, lambda: studio.save_draft(services().store, code, text, _user().username), _("Đã lưu bản thảo."))


@bp.post("/<code>/gui-duyet")
@staff_required("author")
def submit(code: str) -> Any:
    store = services().store
    text = request.form.get("text")

    def run() -> None:
        if isinstance(text, str):  # the editor's current text is saved first
            studio.save_draft(store, code, text.replace("\r\n", "\n"), _user().username)
        studio.submit(store, code, _user().username, _served(code), services().catalogue.agencies)

    return _act(code, run, _("Đã gửi duyệt. Một quản trị viên khác sẽ duyệt và công bố."))


@bp.post("/<code>/rut-lai")
@staff_required("author")
def withdraw(code: str) -> Any:
    return _act(code, lambda: studio.withdraw(services().store, code), _("Đã rút bản thảo về để sửa."))


@bp.post("/<code>/huy-ban-thao")
@staff_required("author")
def discard(code: str) -> Any:
    return _act(code, lambda: studio.discard(services().store, code), _("Đã bỏ bản thảo."))


@bp.post("/<code>/duyet")
@staff_required("admin")
def approve(code: str) -> Any:
    store = services().store

    def run() -> None:
        studio.approve(store, code, _user().username, _served(code), _served_text(code), services().catalogue.agencies)
        _rebuild()

    return _act(code, run, _("Đã duyệt và công bố phiên bản mới."))


@bp.post("/<code>/ngung")
@staff_required("admin")
def retire(code: str) -> Any:
    retired = request.form.get("retired") == "1"

    def run() -> None:
        rec = studio.record(services().store, code)
        if retired and _served(code) is None and not rec.get("published"):
            raise studio.StudioError(_("Thủ tục chưa được công bố nên không có gì để ngừng áp dụng."))
        studio.set_retired(services().store, code, retired)
        _rebuild()

    return _act(code, run, _("Đã ngừng áp dụng thủ tục.") if retired else _("Đã áp dụng lại thủ tục."))


@bp.post("/<code>/khoi-phuc")
@staff_required("author")
def rollback(code: str) -> Any:
    key = request.form.get("key", "")
    return _act(code, lambda: studio.rollback_draft(services().store, code, key, _user().username),
                _("Đã gửi duyệt việc công bố lại phiên bản cũ."))


@bp.get("/<code>/lich-su")
@staff_required("author")
def history(code: str) -> Any:
    if code not in _codes():
        abort(404)
    store = services().store
    entries = studio.history(store, code)
    keys = [e["key"] for e in entries]
    old_key = request.args.get("a") or (keys[1] if len(keys) > 1 else "")
    new_key = request.args.get("b") or (keys[0] if keys else "")
    lines: list[tuple[str, str]] = []
    if old_key in keys and new_key in keys:
        old, new = studio.version(store, old_key) or {}, studio.version(store, new_key) or {}
        lines = studio.diff(str(old.get("text", "")), str(new.get("text", "")), old_key, new_key)
    draft = studio.record(store, code).get("draft")
    if draft and request.args.get("b") == "draft" and old_key in keys:
        lines = studio.diff(str((studio.version(store, old_key) or {}).get("text", "")), draft["text"], old_key, "draft")
    return render_template("studio/history.html", code=code, entries=entries, keys=keys, old_key=old_key,
                           new_key=new_key, lines=lines, published=studio.record(store, code).get("published"),
                           in_folder=code in services().catalogue.folder)
