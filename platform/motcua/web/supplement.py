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
from motcua.i18n import _, current_lang, format_date, local
from motcua.services import services
from motcua.spec.model import Attachment, ProcedureSpec
from motcua.web.pages import form_assets, private
from motcua.web.portal import _readable_dossier, _spec_of

bp = Blueprint("supplement", __name__)

MAX_NOTE = 2000
#: A document the request did not name (an explanation, a proof the citizen thinks helps).
EXTRA = Attachment(
    id="giay_to_bo_sung_khac",
    name={"vi": "Giấy tờ bổ sung khác (nếu có)", "en": "Other supporting document (if any)"},
    required=False,
    originals=0,  # any paper, in any form: no count of originals and copies to state
    copies=0,
)


@bp.app_template_global("component_of")
def component_of(spec: ProcedureSpec | None, component_id: str) -> Attachment | None:
    """The attachment component a stored file belongs to: the spec's, or the supplement
    page's extra document (which no spec declares)."""
    found = spec.attachment(component_id) if spec else None
    return found or (EXTRA if component_id == EXTRA.id else None)


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
        # Asked for by name: required, so a spec note saying when it is not needed misleads.
        offered = [a.model_copy(update={"required": True, "required_when": None, "note": None})
                   for a in spec.attachments if a.id in named]
    else:
        offered = [a.model_copy(update={"required": False, "required_when": None}) for a in spec.attachments]
    return offered + [EXTRA]


def asked_fields(spec: ProcedureSpec | None, asked: Event | None) -> list[str]:
    """The top-level answers the request named for correction (known to the spec)."""
    if spec is None or spec.form is None or asked is None:
        return []
    props = spec.form.fields.get("properties") or {}
    return [n for n in asked.data.get("fields") or [] if isinstance(props.get(n), dict)]


def _condition_paths(condition: Any) -> set[str]:
    """The answer paths a show-when condition (the spec's Condition shape) reads."""
    if isinstance(condition, list):
        return set().union(*(_condition_paths(c) for c in condition)) if condition else set()
    if not isinstance(condition, dict):
        return set()
    found = {condition["field"]} if isinstance(condition.get("field"), str) else set()
    for key in ("all", "any", "not"):
        found |= _condition_paths(condition.get(key))
    return found


def _show_when_paths(spec: ProcedureSpec, name: str) -> set[str]:
    """The answer paths the `x-show-when` rules inside the top-level field `name` read
    (computed values inlined, so `days_since_birth` reads `child.birth_date`); not the
    pseudo-fields, nor an item's own fields (`item.`), which are on the page with it."""
    from motcua.published_schema import structural
    from motcua.spec.conditions import PSEUDO_FIELDS, compile_logic, is_item_path, vars_of

    found: set[str] = set()
    for _path, node in structural((spec.form.fields.get("properties") or {}).get(name) if spec.form else None):
        if "x-show-when" in node:
            found |= {v for v in vars_of(compile_logic(node["x-show-when"], spec.computed))
                      if v not in PSEUDO_FIELDS and not is_item_path(v)}
    return found


def condition_inputs(spec: ProcedureSpec | None, fields: list[str], answers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(name, value) of the answers that the show-when conditions of the asked fields read
    but that are not on the page (staff ask for `intended_spouse`, shown when `purpose` is
    `ket_hon`): the page carries them as disabled hidden inputs, so the form script decides
    as the server does, on the filed answers, and nothing of them is posted."""
    from motcua_renderers.schema import choice_key, show_conditions

    from motcua.spec.conditions import lookup

    if spec is None or spec.form is None or not fields:
        return []
    conditions = show_conditions(spec.form.fields, "")
    read = sorted(set().union(*(_condition_paths(conditions.get(n)) for n in fields),
                              *(_show_when_paths(spec, n) for n in fields)))
    inputs = []
    for path in read:
        if path.split(".", 1)[0] in fields:
            continue  # on the page: the script reads the citizen's input
        value = lookup(answers, path)
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, (str, int, float, bool)):
                continue  # absent, or an object no condition compares
            inputs.append((path, choice_key(item)))
    return inputs


def merged_answers(spec: ProcedureSpec, old: dict[str, Any], form: Any, fields: list[str]) -> dict[str, Any]:
    """The dossier's answers with the corrected fields as posted (a cleared field dropped)."""
    from motcua_renderers.form import parse_form

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
    from motcua_renderers.form import render_attachments, render_fields

    spec = _spec_of(found)
    asked = supplement_request(found)
    errors = errors or {}
    lang = current_lang()
    open_ = found.status == Status.SUPPLEMENT_REQUESTED
    components = asked_components(spec, asked)
    fields = asked_fields(spec, asked)
    files_html = fields_html = None
    controls: list[tuple[str, str]] = []
    if open_:
        shown = spec.model_copy(update={"attachments": components}) if spec else None
        if shown is not None:
            files_html = render_attachments(shown, found.data, {}, errors, lang)
        if fields and spec is not None:
            shown_values = values if values is not None else found.data
            fields_html = render_fields(spec, fields, shown_values, errors, lang)
            controls = condition_inputs(spec, fields, shown_values)
    response = make_response(render_template(
        "portal/supplement.html",
        dossier=found,
        spec=spec,
        asked=asked,
        open=open_,
        named_components=bool(asked and asked.data.get("components")),
        files_html=files_html,
        fields_html=fields_html,
        controls=controls,
        errors=errors,
        note=note,
        max_note=MAX_NOTE,
        assets=form_assets(),
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


def answers_around(dossier: Dossier, event: Event) -> tuple[dict[str, Any], dict[str, Any]]:
    """The whole answers just before and just after this supplement: the dossier's answers
    with the changes of this and every later supplement taken back (a change lists every
    top-level answer that differed, its old value None when there was none)."""
    after = copy.deepcopy(dossier.data)
    supplements = [e for e in dossier.events if e.kind == "supplemented" and e.data.get("changes")]
    at = next((i for i, e in enumerate(supplements) if e is event), len(supplements))
    for later in reversed(supplements[at + 1:]):
        _apply(after, later.data["changes"], "old")
    before = copy.deepcopy(after)
    _apply(before, event.data.get("changes") or {}, "old")
    _apply(after, event.data.get("changes") or {}, "new")
    return before, after


def _apply(answers: dict[str, Any], changes: Mapping[str, Any], side: str) -> None:
    for name, change in changes.items():
        if change.get(side) is None:
            answers.pop(name, None)
        else:
            answers[name] = copy.deepcopy(change[side])


@bp.app_template_global()
def supplied_changes(event: Event, spec: ProcedureSpec | None, dossier: Dossier) -> list[tuple[str, str, str]]:
    """(label, old, new) of each answer a supplement changed, per leaf field as the summary
    shows it (`Người dự định kết hôn › Năm sinh`, `1992`, `1993`; dates dd/mm/yyyy, choices
    by label): the summary's rows of the whole answers before and after, compared; for the
    staff's view of the dossier. A change the summary does not show (an answer its condition
    hides) is not listed: it decides nothing."""
    from motcua_renderers.summary import answer_rows

    changes = event.data.get("changes") or {}
    if spec is None or spec.form is None:
        return [(name, str(c.get("old") if c.get("old") is not None else "—"), str(c.get("new") if c.get("new") is not None else "—"))
                for name, c in changes.items()]
    before, after = answers_around(dossier, event)
    lang = current_lang()
    old = {path: (label, value) for path, label, value in answer_rows(spec, before, lang, with_paths=True)}
    new = {path: (label, value) for path, label, value in answer_rows(spec, after, lang, with_paths=True)}
    paths = list(new) + [p for p in old if p not in new]
    rows = []
    for path in paths:
        if path.split(".", 1)[0] not in changes or old.get(path, ("", ""))[1] == new.get(path, ("", ""))[1]:
            continue
        label = (new.get(path) or old[path])[0]
        rows.append((label, old[path][1] if path in old else "—", new[path][1] if path in new else "—"))
    return rows


@bp.app_template_global()
def supplied_files(dossier: Dossier) -> dict[int, str]:
    """Index of each attachment a supplement added -> its day (dd/mm/yyyy, Vietnam time),
    so staff tell the supplied file from the filed one of the same component."""
    return {f["index"]: format_date(event.at)
            for event in dossier.events if event.kind == "supplemented"
            for f in event.data.get("files") or [] if isinstance(f, dict) and isinstance(f.get("index"), int)}
