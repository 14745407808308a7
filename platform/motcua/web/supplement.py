"""Blueprint `supplement`: the citizen answers a request for a supplement (yêu cầu bổ sung).

The clock of a dossier in status 5 stands still until the citizen supplies what staff
asked for, so this page is how a paused dossier moves on. It shows the request as staff
wrote it, asks for files of the components staff named (or of any component), an extra
document and a note, and lets the citizen correct the answers staff named through the
form renderer, validated again on the whole merged answers. Files get the filing checks
(motcua.uploads) and are stored only when everything passed; the engine records what
changed, with the old values, and resumes the clock.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for

from motcua import submission, uploads
from motcua.dossier import Contact, Dossier, Event, Status
from motcua.i18n import _, current_lang, local
from motcua.services import services
from motcua.spec.model import Attachment, ProcedureSpec
from motcua.web.pages import form_assets, private
from motcua.web.portal import _readable_dossier, _spec_of
from motcua.workdays import VN_TZ

bp = Blueprint("supplement", __name__)

MAX_NOTE = 2000
#: A document the request did not name (an explanation, a proof the citizen thinks helps).
EXTRA = Attachment(
    id="giay_to_bo_sung_khac",
    name={"vi": "Giấy tờ bổ sung khác (nếu có)", "en": "Other supporting document (if any)"},
    required=False,
)


def supplement_request(dossier: Dossier) -> Event | None:
    """The request being answered: the last `supplement_requested` event."""
    return next((e for e in reversed(dossier.events) if e.kind == "supplement_requested"), None)


def asked_components(spec: ProcedureSpec | None, asked: Event | None) -> list[Attachment]:
    """The components offered for upload: those the request named, required; else every
    component of the spec, optional; and the extra document last."""
    if spec is None:
        return [EXTRA]
    named = set((asked.data.get("components") if asked else None) or [])
    if named:
        offered = [a.model_copy(update={"required": True, "required_when": None}) for a in spec.attachments if a.id in named]
    else:
        offered = [a.model_copy(update={"required": False, "required_when": None}) for a in spec.attachments]
    return offered + [EXTRA]


def asked_fields(spec: ProcedureSpec | None, asked: Event | None) -> list[str]:
    """The top-level answers the request named for correction (known to the spec)."""
    if spec is None or spec.form is None or asked is None:
        return []
    props = spec.form.fields.get("properties") or {}
    return [n for n in asked.data.get("fields") or [] if isinstance(props.get(n), dict)]


def merged_answers(spec: ProcedureSpec, old: dict[str, Any], form: Any, fields: list[str]) -> dict[str, Any]:
    """The dossier's answers with the corrected fields as posted (a cleared field dropped)."""
    from renderers.form import parse_form

    # Hidden fields are judged on the whole answers by validation, not on this part alone.
    posted = parse_form(spec, form, fields, drop_hidden=False)
    merged = copy.deepcopy(old)
    for name in fields:
        if name in posted:
            merged[name] = posted[name]
        else:
            merged.pop(name, None)
    return merged


def answer_errors(spec: ProcedureSpec, old: dict[str, Any], merged: dict[str, Any], fields: list[str], lang: str) -> dict[str, str]:
    """Errors of the merged answers: those of the corrected fields, and any other the
    correction caused (one the filed answers already had is not the citizen's to fix here)."""
    errors = submission.validate(spec, merged, lang)
    before = submission.validate(spec, old, lang)
    mine = submission.errors_within(errors, fields)
    caused = [m for p, m in errors.items() if p not in mine and before.get(p) != m]
    return {**mine, **({"": "; ".join(caused)} if caused else {})}


def _page(found: Dossier, errors: dict[str, str] | None = None, note: str = "", values: dict[str, Any] | None = None,
          status: int = 200):
    from renderers.form import render_attachments, render_fields

    spec = _spec_of(found)
    asked = supplement_request(found)
    errors = errors or {}
    lang = current_lang()
    open_ = found.status == Status.SUPPLEMENT_REQUESTED
    components = asked_components(spec, asked)
    fields = asked_fields(spec, asked)
    files_html = fields_html = None
    if open_:
        shown = spec.model_copy(update={"attachments": components}) if spec else None
        if shown is not None:
            files_html = render_attachments(shown, found.data, {}, errors, lang)
        if fields and spec is not None:
            fields_html = render_fields(spec, fields, values if values is not None else found.data, errors, lang)
    response = make_response(render_template(
        "portal/supplement.html",
        dossier=found,
        spec=spec,
        asked=asked,
        open=open_,
        named_components=bool(asked and asked.data.get("components")),
        files_html=files_html,
        fields_html=fields_html,
        errors=errors,
        note=note,
        max_note=MAX_NOTE,
        assets=form_assets(),
        VN_TZ=VN_TZ,
    ), status)
    return private(response)


@bp.get("/ho-so/<code>/bo-sung")
def form(code: str):
    found = _readable_dossier(code)
    return _page(found)


@dataclass
class Supplement:
    """A supplement checked, nothing stored yet: the errors (keyed as the page's inputs:
    `note`, `attachment.<component id>`, answer paths, `""`), else what to store."""

    errors: dict[str, str]
    files: list[uploads.Checked] = field(default_factory=list)
    answers: dict[str, Any] | None = None
    contact: Contact | None = None


def awaits_supplement(dossier: Dossier) -> bool:
    return dossier.status == Status.SUPPLEMENT_REQUESTED


def check_supplement(
    found: Dossier,
    spec: ProcedureSpec | None,
    note: str,
    files: Mapping[str, tuple[str, bytes]],
    values: dict[str, Any] | None,
    lang: str,
) -> Supplement:
    """Check a supplement as the page and the API receive it: the note; the files of the
    components offered (`files`: component id -> (filename, bytes)), on content; and, when
    staff named answers to correct, the dossier's answers with the corrections (`values`),
    validated as a whole. Nothing is stored here (see `store_supplement`)."""
    from motcua.filing import contact_of

    asked = supplement_request(found)
    errors: dict[str, str] = {}
    if len(note) > MAX_NOTE:
        errors["note"] = _("Nội dung bổ sung dài tối đa {n} ký tự.", n=MAX_NOTE)

    checked: list[uploads.Checked] = []
    for component in asked_components(spec, asked):
        path = f"attachment.{component.id}"
        sent = files.get(component.id)
        if sent is None:
            if component.required:
                errors[path] = _("Hãy đính kèm {name}.", name=local(component.name))
            continue
        item, error = uploads.check(component, sent[0], sent[1], lang)
        if error:
            errors[path] = error
        elif item:
            checked.append(item)

    fields = asked_fields(spec, asked)
    answers = contact = None
    if fields and spec is not None and values is not None:
        errors.update(answer_errors(spec, found.data, values, fields, lang))
        if values != found.data:
            answers = values
            contact = contact_of(spec, values)

    if not errors and not note and not checked and answers is None:
        errors["note"] = _("Hãy đính kèm giấy tờ cần bổ sung hoặc ghi nội dung bổ sung.")
    if errors:
        return Supplement(errors)
    return Supplement({}, checked, answers, contact)


def store_supplement(found: Dossier, note: str, supplement: Supplement, lang: str) -> Dossier:
    """Store the checked files and hand the supplement to the engine. Raises
    ActionNotAllowed when the engine refuses it; then nothing was written and the files
    this call stored are taken back."""
    from motcua.workflow import ActionNotAllowed

    with uploads.stored(services().store.files, supplement.files, lang, rollback_on=(ActionNotAllowed,)) as refs:
        return services().engine.citizen_supplement(found.code, note, refs, answers=supplement.answers,
                                                    contact=supplement.contact)


@bp.post("/ho-so/<code>/bo-sung")
def submit(code: str):
    """Check everything first (files on content, answers on the whole merged answers);
    store the files only for a supplement the engine accepts."""
    from motcua.workflow import ActionNotAllowed

    found = _readable_dossier(code)
    if not awaits_supplement(found):
        return _page(found, status=409)
    spec = _spec_of(found)
    asked = supplement_request(found)
    lang = current_lang()
    note = (request.form.get("note") or "").strip()
    files: dict[str, tuple[str, bytes]] = {}
    for component in asked_components(spec, asked):
        upload = request.files.get(f"attachment.{component.id}")
        if upload is not None and upload.filename:
            files[component.id] = (upload.filename, upload.stream.read(int(component.max_size_mb * 1024 * 1024) + 1))
    fields = asked_fields(spec, asked)
    values = merged_answers(spec, found.data, request.form, fields) if fields and spec is not None else None

    supplement = check_supplement(found, spec, note, files, values, lang)
    if supplement.errors:
        return _page(found, supplement.errors, note, values, status=400)
    try:
        store_supplement(found, note, supplement, lang)
    except ActionNotAllowed as exc:
        current = services().store.dossiers.get(found.code) or found
        return _page(current, {"note": str(exc)}, note, values, status=409)
    flash(_("Đã gửi hồ sơ bổ sung. Cơ quan tiếp tục giải quyết hồ sơ của bạn."), "success")
    return redirect(url_for("portal.dossier", code=found.code), code=303)


@bp.app_template_global()
def supplied_changes(event: Event, spec: ProcedureSpec | None) -> list[tuple[str, str, str]]:
    """(label, old, new) of each answer a supplement changed, as the summary shows answers;
    for the staff's view of the dossier."""
    from renderers.summary import answer_rows

    rows = []
    for name, change in (event.data.get("changes") or {}).items():
        label = submission.field_label(spec, name, current_lang()) if spec else name
        shown = []
        for side in ("old", "new"):
            value = change.get(side)
            found = answer_rows(spec, {name: value}, current_lang()) if spec is not None and value is not None else []
            shown.append("; ".join(f"{lbl}: {val}" if len(found) > 1 else val for lbl, val in found) or ("—" if value in (None, "", [], {}) else str(value)))
        rows.append((label, shown[0], shown[1]))
    return rows
