"""Blueprint `portal`: the citizen's side — find a procedure, read it, fill, file, track.

Nothing here knows one procedure from another: every page is drawn from the spec, the form
by the `renderers` package, and the dossier's progress by the workflow engine's panels.
Per-step state lives in a server-side draft (motcua.drafts), never in hidden fields.
"""

from __future__ import annotations

import copy
import dataclasses
import hmac
import json
import secrets
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException

from motcua import citizens, drafts, my_documents, prefill, submission
from motcua.dossier import Dossier, Status
from motcua.fees import compute_fees, total
from motcua.filing import add_dossier
from motcua.i18n import LANGS, N_, _, current_lang, format_date, local, money, ngettext
from motcua.public_url import external_url
from motcua.search import Filters, facets, page_links, page_number, results, shown_offices
from motcua.services import services
from motcua.store import transaction
from motcua.spec.model import Level, ProcedureSpec, localize
from motcua.web import labels, offices, page_cache
from motcua.web.pages import form_assets, private
from motcua.web.signin import current_account, sign_in_url

bp = Blueprint("portal", __name__)

MAX_TRACKED = 20
#: A draft's serialized size (characters): real ones are a few kilobytes.
MAX_DRAFT_CHARS = 128 * 1024


# --- helpers shared by the pages -------------------------------------------------------------


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    def lang_url(lang: str) -> str:
        args = request.args.to_dict(flat=True)
        args["lang"] = lang
        return f"{request.path}?{urlencode(args)}"

    return {
        "lang_url": lang_url,
        "labels": labels,
        "vnd": money,
        "field_id": field_id,
        "Level": Level,
    }


def field_id(path: str) -> str:
    """The HTML id of the input named `path` (RENDER's convention, for error links)."""
    from motcua_renderers.form import field_id as render_field_id

    return render_field_id(path)


def _spec_or_404(code: str) -> ProcedureSpec:
    spec = services().catalogue.get(code)
    if spec is None:
        abort(404)
    return spec


def _fee_rows(spec: ProcedureSpec, answers: dict[str, Any], agency: str | None = None) -> tuple[list[dict[str, Any]], int]:
    lines = compute_fees(spec, answers, "online", agency)  # the chosen office's own amounts, where the spec gives them
    rows = [
        {
            "kind": labels.label(labels.FEE_KINDS, line.kind),
            "name": local(line.name),
            "quantity": line.quantity,
            "amount": line.amount,
            "exempt": line.exempt,
            "unit_amount": line.unit_amount,
        }
        for line in lines
    ]
    return rows, total(lines)


def _remember(code: str, *, filed: bool = False) -> None:
    """After filing or a successful lookup, this browser may read the dossier; only the one
    that filed it (`filed`) is shown its private link (see _tracking_url)."""
    for key, wanted in (("dossiers", True), ("filed", filed)):
        if wanted:
            kept = [c for c in session.get(key, []) if c != code]
            session[key] = (kept + [code])[-MAX_TRACKED:]


def _filed_here(code: str) -> bool:
    return code in session.get("filed", [])


def _may_read(code: str) -> bool:
    """This browser filed or looked the dossier up, or its signed-in account owns it."""
    if code in session.get("dossiers", []):
        return True
    account = current_account()
    if account is None:
        return False
    found = services().store.dossiers.get(code)
    return found is not None and citizens.owns(account, found)


def _claims() -> dict[str, Any] | None:
    account = current_account()
    return account.claims if account is not None else None


def _sign_in_gate(spec: ProcedureSpec):
    """None when this browser may file `spec` (its `sign_in` policy), else the page to answer:
    the sign-in (coming back here), or why the account's level is not enough."""
    if spec.sign_in.policy != "required":
        return None
    account = current_account()
    if account is None:
        flash(_("Thủ tục này cần đăng nhập bằng tài khoản định danh điện tử trước khi nộp hồ sơ."), "info")
        return redirect(sign_in_url(request.path))
    if account.level < spec.sign_in.level:
        return render_template(
            "portal/error.html", title=_("Cần tài khoản định danh điện tử mức {n}", n=spec.sign_in.level),
            message=_("Thủ tục này cần tài khoản định danh điện tử mức {n}; tài khoản của bạn đang ở mức {m}. "
                      "Hãy nâng mức tài khoản trên ứng dụng định danh rồi đăng nhập lại, hoặc nộp hồ sơ trực tiếp tại Bộ phận một cửa.",
                      n=spec.sign_in.level, m=account.level)), 403
    return None


# --- find and read ---------------------------------------------------------------------------


#: Where the catalogue's kept frame takes this request's parts (page_cache.frame): the query as
#: shown in the search box, the language link's arguments (this address's, the query's among
#: them) and the results.
_CATALOGUE_MARKS = {name: f"motcua{name}{secrets.token_hex(8)}" for name in ("query", "results", *(f"lang_{lang}" for lang in LANGS))}


@bp.get("/")
def catalogue() -> str | bytes:
    args = request.args.to_dict()
    f = Filters.from_args(args)
    # browsing (filters, pages) and searching: the same page for every visitor, drawn once per
    # address; searches are kept apart, so many different queries never push other pages out
    return page_cache.page("catalogue", lambda: _catalogue_page(f, args), kind="search" if f.q else "page")


def _catalogue_page(f: Filters, args: dict[str, str]) -> Markup:
    """The catalogue page: its frame (base layout, search box, filter panel) is kept per
    language and filters, so a new search or page of results draws only the results."""
    framed = page_cache.frame(("catalogue", dataclasses.replace(f, q="")), lambda: _catalogue_frame(f), _CATALOGUE_MARKS)
    return page_cache.fill(framed, {
        "query": str(escape(f.q)),
        # the language link the frame has (the other language's): one address to encode
        **{f"lang_{lang}": str(escape(urlencode({**args, "lang": lang}))) for lang in LANGS if f"lang_{lang}" in framed[1]},
        "results": _catalogue_results(f, args),
    })


def _catalogue_frame(f: Filters) -> str:
    specs = services().catalogue
    here = request.path
    options = facets(specs, f, found_any_level=[])  # the panel's options only: no search
    return render_template(
        "portal/catalogue.html",
        query=_CATALOGUE_MARKS["query"],
        filters_panel=Markup(render_template(
            "portal/catalogue_filters.html", filters=f, facets=options, offices=shown_offices(options.agencies, f))),
        results=Markup(_CATALOGUE_MARKS["results"]),
        lang_url=lambda lang: f"{here}?{_CATALOGUE_MARKS['lang_' + lang]}",
    )


#: The words of the results part, translated once per language (`_results_words`).
_RESULTS_WORDS = {
    "heading": N_("Kết quả"),
    "levels": N_("Số thủ tục theo mức độ"),
    "none": N_("Không có thủ tục nào phù hợp. Hãy thử từ khóa khác hoặc bỏ bớt bộ lọc."),
    "pages": N_("Các trang kết quả"),
    "prev": N_("‹ Trang trước"),
    "next": N_("Trang sau ›"),
    "page": N_("Trang {n}"),
    "page_of": N_("trang {n}/{count}"),
}


def _results_words() -> dict[str, Any]:
    """`_RESULTS_WORDS` and the level names in the reader's language, kept per language and
    catalogue: a drawn search asked gettext for them ~25 times (a third of its template)."""
    def make() -> dict[str, Any]:
        return {**{key: _(text) for key, text in _RESULTS_WORDS.items()},
                "level_names": {lv.value: labels.label(labels.LEVELS, lv.value) for lv in Level}}

    return page_cache.kept("fragment", ("results-words", current_lang()), make)


def _catalogue_results(f: Filters, args: dict[str, str]) -> str:
    """The results part of the catalogue page for this request's arguments (`args`): what
    only the language decides is kept (`_results_words`, the entries), the template gets the
    links and labels made, so it draws without calls."""
    found = results(services().catalogue, f, page_number(args.get("page")))
    page = found.page
    words = _results_words()
    args = {k: v for k, v in args.items() if k != "page"}
    here = request.script_root + request.path  # links to other pages of results: this address, other arguments
    # encoded once, not once per link; the argument each link sets goes last, as
    # {**args, name: value} put a new one
    paged = f"{here}?{urlencode(args)}&page=" if args else f"{here}?page="
    levelled = f"{here}?{urlencode({k: v for k, v in args.items() if k != 'level'})}&level=" if set(args) - {"level"} else f"{here}?level="
    status = ngettext("Tìm thấy {n} thủ tục", "Tìm thấy {n} thủ tục", page.total)
    if page.count > 1:
        status += " · " + words["page_of"].format(n=page.number, count=page.count)
    return render_template(
        "portal/catalogue_results.html",
        words=words,
        status=status,
        entries=_entries(page.items),
        levels=[(f"{levelled}{lv}", lv == f.level, words["level_names"][lv], lv, n) for lv, n in found.level_counts.items()],
        prev=f"{paged}{page.number - 1}" if page.number > 1 else None,
        next=f"{paged}{page.number + 1}" if page.number < page.count else None,
        # (number or None for an ellipsis, address, label, current)
        links=[(n, f"{paged}{n}", words["page"].format(n=n), n == page.number) if n else (None, "", "", False)
               for n in page_links(page)] if page.count > 1 else [],
    )


def _entries(specs: list[ProcedureSpec]) -> Markup:
    """The results' entries, joined: each is the same for every visitor, so it is drawn once
    per language and kept (one table per language and catalogue, not a look-up each)."""
    kept: dict[str, Markup] = page_cache.kept("fragment", ("entries", current_lang()), dict)
    out = []
    for s in specs:
        entry = kept.get(s.code)
        if entry is None:
            entry = kept[s.code] = Markup(render_template("portal/catalogue_item.html", spec=s))
        out.append(entry)
    return Markup("".join(out))


def fee_descriptions(spec: ProcedureSpec) -> list[dict[str, Any]]:
    out = []
    for rule in spec.fees:
        out.append(
            {
                "kind": labels.label(labels.FEE_KINDS, rule.kind),
                "name": local(rule.name),
                "amount": rule.amount,
                "per_unit": bool(rule.quantity_field),
                "free_units": rule.free_units,
                "tiers": rule.tiers,
                "max_amount": rule.max_amount,
                "conditional": rule.when is not None,
                "exemption": local(rule.exemption_note) if rule.exemption_note else "",
                "legal_basis": rule.legal_basis or "",
            }
        )
    return out


@bp.get("/thu-tuc/<code>")
def procedure(code: str) -> str | bytes:
    spec = _spec_or_404(code)
    # the office chosen here travels to the form (?co_quan=); a signed-in citizen's is
    # preselected from their address (their page is drawn afresh, never kept)
    return page_cache.page(code, lambda: render_template(
        "portal/procedure.html",
        spec=spec,
        fees=fee_descriptions(spec),
        has_blank_form=spec.level >= Level.FORMS and spec.form is not None,
        can_file=spec.online and spec.form is not None,
        offices=offices.offices(spec),
        # drawn once per address (page_cache): a signed-in page is drawn afresh, never kept
        office_selected=offices.preselect(spec, request.args.get(offices.QUERY, "")[:40] or None, claims=_claims()),
        office_query=offices.QUERY,
    ))


def _blank_form(code: str, kind: str) -> Response:
    spec = _spec_or_404(code)
    if spec.level < Level.FORMS or spec.form is None:
        abort(404)
    from motcua.web.downloads import document_templates
    from motcua_renderers import documents

    if kind == "pdf":
        body, mimetype = documents.blank_form_pdf(spec, current_lang(), document_templates()), "application/pdf"
    else:
        body, mimetype = documents.blank_form_docx(spec, current_lang(), document_templates()), documents.DOCX_MIMETYPE
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="mau-{spec.code}.{kind}"'
    return response


@bp.get("/thu-tuc/<code>/mau.pdf")
def blank_pdf(code: str) -> Response:
    return _blank_form(code, "pdf")


@bp.get("/thu-tuc/<code>/mau.docx")
def blank_docx(code: str) -> Response:
    return _blank_form(code, "docx")


# --- fill ------------------------------------------------------------------------------------


def _online_spec(code: str) -> ProcedureSpec:
    spec = _spec_or_404(code)
    if not spec.online or spec.form is None:
        abort(404)
    return spec


def _step(spec: ProcedureSpec, step_id: str) -> tuple[int, drafts.Step]:
    for i, step in enumerate(drafts.steps(spec)):
        if step.id == step_id:
            return i, step
    abort(404)


def _step_errors(spec: ProcedureSpec, draft: dict[str, Any], step: drafts.Step) -> dict[str, str]:
    lang = current_lang()
    values = draft.get("values") or {}
    if step.kind == "page":
        found = submission.errors_within(submission.validate(spec, values, lang), step.fields)
        if step.id == drafts.steps(spec)[0].id:  # the office is chosen on the first page
            found = {**offices.errors(spec, draft.get(offices.FIELD)), **found}
        return found
    if step.kind == "attachments":
        return submission.validate_attachments(spec, values, drafts.uploaded(draft), lang)
    if step.kind == "delivery":
        wanted, address = drafts.pickup(spec, draft)
        chosen = drafts.delivery(spec, draft)
        refused: dict[str, str] = {}
        if (wanted or (chosen is not None and chosen.kind == "postal")) and _post_refused(spec, draft):
            if wanted:
                refused["pickup.wanted"] = _("Cơ quan đã chọn chưa nhận hồ sơ giấy qua bưu điện thu gom tại nhà; hãy lưu "
                                             "lại bước nhận kết quả và mang hoặc gửi hồ sơ giấy đến cơ quan")
            if chosen is not None and chosen.kind == "postal":
                refused["delivery.kind"] = _("Cơ quan đã chọn chưa gửi kết quả qua bưu chính; hãy chọn hình thức nhận "
                                             "kết quả khác")
        return {**submission.validate_delivery(spec, chosen, lang),
                **submission.validate_pickup(spec, wanted, address, chosen, lang), **refused}
    return _all_errors(spec, draft)


def _post_refused(spec: ProcedureSpec, draft: dict[str, Any]) -> str | None:
    return offices.post_refused(spec, draft.get(offices.FIELD), current_lang())


def _all_errors(spec: ProcedureSpec, draft: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for step in drafts.steps(spec):
        if step.kind != "check":
            errors.update(_step_errors(spec, draft, step))
    return errors


def _error_links(spec: ProcedureSpec, token: str, errors: dict[str, str], here: str) -> list[tuple[str, str]]:
    """(href, message) for the error summary: to the field on this page or on its own step."""
    where: dict[str, str] = {offices.FIELD: drafts.steps(spec)[0].id}
    for step in drafts.steps(spec):
        for name in step.fields:
            where[name] = step.id
        if step.kind == "attachments":
            where["attachment"] = step.id
        if step.kind == "delivery":
            where["delivery"] = step.id
            where["pickup"] = step.id
    links = []
    for path, message in errors.items():
        step_id = where.get(path.split(".")[0], here)
        anchor = "#" + field_id(path)
        if step_id == here:
            href = anchor
        else:
            href = url_for("portal.fill_step", code=spec.code, token=token, step_id=step_id, tu=drafts.STEP_CHECK) + anchor
        links.append((href, message))
    return links


def _render_step(
    spec: ProcedureSpec, token: str | None, draft: dict[str, Any], step: drafts.Step, errors: dict[str, str], **extra: Any
) -> str:
    lang = current_lang()
    all_steps = drafts.steps(spec)
    index = all_steps.index(step)
    values = draft.get("values") or {}
    body: Markup | str = ""
    claims = _claims()
    if step.kind == "page":
        from motcua_renderers.form import render_fields

        if claims is not None:  # what the identity says is shown, the locked paths always as it says
            values = prefill.fill(spec, copy.deepcopy(values), claims, locked_only="updated" in draft)
        marks = prefill.marks(spec, claims) if claims is not None else None
        body = render_fields(spec, list(step.fields), values, errors, lang, marks=marks)
    elif step.kind == "attachments":
        from motcua_renderers.form import render_attachments

        body = render_attachments(spec, values, drafts.uploaded(draft), errors, lang, choices=_my_document_choices(spec))
    fee_rows, fee_total = _fee_rows(spec, values, draft.get(offices.FIELD))
    chosen = drafts.delivery(spec, draft)
    offered = offices.offices(spec)
    chosen_office = services().catalogue.performer(spec, draft.get(offices.FIELD)) if draft.get(offices.FIELD) else None
    post_refused = _post_refused(spec, draft) if step.kind == "delivery" else None
    context = {
        "spec": spec,
        "token": token,
        "draft": draft,
        "step": step,
        "steps": all_steps,
        "index": index,
        "body": body,
        "errors": errors,
        "error_links": _error_links(spec, token or "", errors, step.id) if token else [("#" + field_id(p), m) for p, m in errors.items()],
        "fee_rows": fee_rows,
        "fee_total": fee_total,
        "delivery": chosen,
        "delivery_raw": draft.get("delivery") or {},
        "pickup_raw": draft.get("pickup") or {},
        # an office its carrier cannot book (no desk phone ...): neither home pickup nor a result by post
        "post_refused": bool(post_refused),
        "pickup_offered": submission.home_pickup_offered(spec) and not post_refused,
        "pickup_refused": submission.home_pickup_offered(spec) and bool(post_refused),
        "pickup_at": drafts.pickup_at(spec, draft),
        "back_to_check": request.args.get("tu") == drafts.STEP_CHECK,
        "assets": form_assets(),
        # the office: chosen at the start of the form, shown again on the check page
        "offices": offered,
        "office_first": index == 0 and step.kind == "page",
        "office_selected": offices.preselect(spec, draft.get(offices.FIELD) or request.args.get(offices.QUERY, "")[:40] or None,
                                             values, claims),
        "office_chosen": chosen_office,
        **extra,
    }
    if step.kind == "check":
        context["rows"] = _check_rows(spec, draft, token or "")
        context["attachment_rows"] = [
            (localize(a.name, lang), drafts.uploaded(draft).get(a.id)) for a in spec.attachments
        ]
    return render_template("portal/step.html", **context)


def _check_rows(spec: ProcedureSpec, draft: dict[str, Any], token: str) -> list[dict[str, Any]]:
    from motcua_renderers.summary import answer_rows

    values = draft.get("values") or {}
    out = []
    for step in drafts.steps(spec):
        if step.kind != "page":
            continue
        subset = {k: values[k] for k in step.fields if k in values}
        out.append(
            {
                "title": step.label(current_lang()),
                "rows": answer_rows(spec, subset, current_lang()),
                "change": url_for("portal.fill_step", code=spec.code, token=token, step_id=step.id, tu=drafts.STEP_CHECK),
            }
        )
    return out


def _my_document_choices(spec: ProcedureSpec) -> dict[str, list[tuple[str, str]]] | None:
    """For a signed-in citizen, each slot's earlier files it can take: (file id, label)."""
    account = current_account()
    if account is None:
        return None
    documents = my_documents.documents_of(services().store, account)
    return {
        a.id: [(d.ref.file_id, f"{d.ref.filename} – {d.dossier_code}, {format_date(d.filed_at)}")
               for d in my_documents.choices_for(documents, a)]
        for a in spec.attachments
    }


def _apply_post(spec: ProcedureSpec, draft: dict[str, Any], step: drafts.Step) -> tuple[bool, dict[str, str]]:
    """Take what this step posted into the draft. Returns (stay on the page, upload errors)."""
    stay = False
    upload_errors: dict[str, str] = {}
    if step.kind == "page" and offices.FIELD in request.form and step.id == drafts.steps(spec)[0].id:
        draft[offices.FIELD] = request.form.get(offices.FIELD, "").strip()[:40]
    if step.kind == "page":
        from motcua_renderers.form import RepeatFull, apply_repeat, parse_form, repeat_action, repeat_limit

        parsed = parse_form(spec, request.form, list(step.fields))
        action = repeat_action(request.form)
        if action is not None:
            # "Add another" / "remove" re-draw the page instead of moving on (RENDER's protocol).
            stay = True
            try:
                parsed = apply_repeat(parsed, action, repeat_limit(spec, action[1]) if action[0] == "add" else None)
            except RepeatFull as full:
                upload_errors[full.path] = ngettext("Chỉ được khai tối đa {n} mục.", "Chỉ được khai tối đa {n} mục.", full.limit)
        values = draft.setdefault("values", {})
        for name in step.fields:
            if name in parsed:
                values[name] = parsed[name]
            else:
                values.pop(name, None)
        claims = _claims()
        if claims is not None:
            refused = prefill.locked_errors(spec, values, claims, step.fields)
            if refused:  # kept as the identity says; the citizen is told why
                prefill.fill(spec, values, claims, locked_only=True)
                upload_errors.update({path: _(message) for path, message in refused.items()})
                stay = True
    elif step.kind == "attachments":
        attachments = draft.setdefault("attachments", {})
        for component in spec.attachments:
            if request.form.get("_remove_attachment") == component.id or request.form.get(f"_remove.attachment.{component.id}"):
                attachments.pop(component.id, None)
            upload = request.files.get(f"attachment.{component.id}")
            if upload is None or not upload.filename:
                chosen = request.form.get(f"reuse.attachment.{component.id}")
                if chosen:  # once-only: a file this account filed before, not uploaded again
                    ref, error = my_documents.choose(services().store, current_account(), component, chosen[:100], current_lang())
                    if error:
                        upload_errors[f"attachment.{component.id}"] = error
                    elif ref:
                        attachments[component.id] = ref.model_dump(mode="json")
                continue
            limit = int(component.max_size_mb * 1024 * 1024)
            data = upload.stream.read(limit + 1)
            ref, error = submission.store_upload(services().store.files, component, upload.filename, data, current_lang())
            if error:  # named by the citizen's own file name too: which file, and why
                shown = submission.display_filename(upload.filename) or component.id
                upload_errors[f"attachment.{component.id}"] = _("{reason} (tệp «{file}» chưa được lưu)", reason=error, file=shown)
            elif ref:
                attachments[component.id] = ref.model_dump(mode="json")
    elif step.kind == "delivery":
        kind = request.form.get("delivery.kind") or None
        from motcua_renderers.form import parse_address

        draft["delivery"] = {"kind": kind, "address": parse_address("delivery.address", request.form)}
        if submission.home_pickup_offered(spec):
            draft["pickup"] = {"wanted": bool(request.form.get("pickup.wanted")),
                               "address": parse_address("pickup.address", request.form)}
    if request.form.get("_units"):  # motcua_renderers.form.UNITS_BUTTON: show a province's communes, no checks yet
        stay = True
    return stay, upload_errors


@bp.route("/thu-tuc/<code>/nop", methods=["GET", "POST"])
def fill_start(code: str):
    """The first step; the draft is made on the first post, so a visit leaves nothing behind."""
    spec = _online_spec(code)
    refused = _sign_in_gate(spec)
    if refused is not None:
        return refused
    if request.method in ("GET", "HEAD"):  # no answers yet: the same page for every visitor but the CSRF token
        return page_cache.page(code, lambda: _render_step(spec, None, {"values": {}}, drafts.steps(spec)[0], {}))
    first = drafts.steps(spec)[0]
    account = current_account()
    token, draft = drafts.new(services().store.records("drafts"), spec, account.key if account else None)
    if account is not None:  # the later pages' prefilled answers too; this page's come from the post
        prefill.fill(spec, draft["values"], account.claims)
    return _handle_post(spec, token, draft, first)


def _draft_keep() -> timedelta:
    return drafts.lifetime(current_app.config)


def _kept_until(draft: dict[str, Any]) -> str:
    """The last day a draft is kept, dd/mm/yyyy in Vietnam time, as citizens read dates."""
    until = drafts.expires_at(draft, _draft_keep())
    return format_date(until)


def _load_draft(spec: ProcedureSpec, token: str) -> tuple[dict[str, Any] | None, Any]:
    """(the draft, None), or (None, the page to answer with): not found, or expired."""
    try:
        draft = drafts.load(services().store.records("drafts"), token, spec, _draft_keep())
    except drafts.DraftExpired as expired:
        return None, _draft_expired(spec, expired)
    if draft is None:
        return None, (render_template("portal/draft_missing.html", spec=spec), 404)
    return draft, None


def _draft_expired(spec: ProcedureSpec, expired: drafts.DraftExpired):
    """410 Gone: the link was right, the draft outlived its lifetime; say so and since when."""
    day = format_date(expired.expired_at)
    days = _draft_keep().days
    return render_template("portal/draft_expired.html", spec=spec, day=day, days=days), 410


@bp.get("/thu-tuc/<code>/nop/<token>")
def fill_resume(code: str, token: str):
    spec = _online_spec(code)
    draft, refused = _load_draft(spec, token)
    if draft is None:
        return refused
    if draft.get("filed_code"):
        return _already_filed(spec, draft["filed_code"])
    # Back where the citizen left off: the step last posted (saved from, or moved past).
    step_ids = [s.id for s in drafts.steps(spec)]
    at = draft.get("at_step")
    return redirect(url_for("portal.fill_step", code=code, token=token, step_id=at if at in step_ids else step_ids[0]))


@bp.route("/thu-tuc/<code>/nop/<token>/<step_id>", methods=["GET", "POST"])
def fill_step(code: str, token: str, step_id: str):
    spec = _online_spec(code)
    gate = _sign_in_gate(spec)
    if gate is not None:
        return gate
    draft, refused = _load_draft(spec, token)
    if draft is None:
        return refused
    _, step = _step(spec, step_id)
    if draft.get("filed_code"):
        return _already_filed(spec, draft["filed_code"])
    if request.method in ("GET", "HEAD"):
        errors = _all_errors(spec, draft) if step.kind == "check" else {}
        return _render_step(spec, token, draft, step, errors)
    if step.kind == "check":
        return _file(spec, token, draft)
    return _handle_post(spec, token, draft, step)


def _handle_post(spec: ProcedureSpec, token: str, draft: dict[str, Any], step: drafts.Step):
    records = services().store.records("drafts")
    stay, upload_errors = _apply_post(spec, draft, step)
    draft["at_step"] = step.id
    if len(json.dumps(draft, ensure_ascii=False, default=str)) > MAX_DRAFT_CHARS:
        # Refused, not truncated: the saved draft stays as it was before this post.
        kept = records.get(token) or {"values": {}}
        return _render_step(spec, token, kept, step, {"": _("Thông tin gửi lên quá dài nên chưa được lưu. Vui lòng rút gọn và gửi lại.")}), 413
    try:
        drafts.save(records, token, draft)
    except drafts.DraftFiled as filed:  # filed from another tab since this page was loaded
        return _already_filed(spec, filed.code)
    except drafts.DraftExpired as expired:  # purged since this page was loaded
        return _draft_expired(spec, expired)
    back_to_check = request.args.get("tu") == drafts.STEP_CHECK or request.form.get("tu") == drafts.STEP_CHECK
    if request.form.get("_action") == "save":
        if upload_errors:  # the rest is saved; the refused file is named beside its field, with the link
            link = external_url("portal.fill_resume", code=spec.code, token=token)
            return _render_step(spec, token, draft, step, upload_errors, saved_link=link, kept_until=_kept_until(draft))
        return redirect(url_for("portal.draft_saved", code=spec.code, token=token, buoc=step.id))
    if stay:
        return _render_step(spec, token, draft, step, upload_errors)
    errors = {**_step_errors(spec, draft, step), **upload_errors}
    if errors:
        return _render_step(spec, token, draft, step, errors)
    all_steps = drafts.steps(spec)
    following = all_steps[all_steps.index(step) + 1]
    if back_to_check:
        following = all_steps[-1]
    return redirect(url_for("portal.fill_step", code=spec.code, token=token, step_id=following.id))


@bp.get("/thu-tuc/<code>/nop/<token>/da-luu")
def draft_saved(code: str, token: str) -> str:
    spec = _online_spec(code)
    draft, refused = _load_draft(spec, token)
    if draft is None:
        return refused
    link = external_url("portal.fill_resume", code=code, token=token)
    return render_template("portal/draft_saved.html", spec=spec, link=link, step_id=request.args.get("buoc", ""),
                           kept_until=_kept_until(draft), days=_draft_keep().days)


def _file(spec: ProcedureSpec, token: str, draft: dict[str, Any]):
    """File once: under the drafts lock the one-time submit token is consumed, the dossier
    stored and the draft marked filed, all or nothing; the workflow starts after the lock is
    released (a step's failure there is recorded and retried by the engine, the filing stands)."""
    records = services().store.records("drafts")
    account = current_account()
    errors = _all_errors(spec, draft)
    if account is not None:
        errors.update({p: _(m) for p, m in prefill.locked_errors(spec, draft.get("values") or {}, account.claims).items()})
    if errors:
        return _render_step(spec, token, draft, drafts.steps(spec)[-1], errors)
    given = request.form.get("submit_token", "")
    outcome: dict[str, str] = {}

    def consume(current: dict[str, Any] | None) -> dict[str, Any]:
        current = dict(current or draft)
        if current.get("filed_code"):
            outcome["code"] = current["filed_code"]
            return current
        if not hmac.compare_digest(str(current.get("submit_token", "")), given):
            return current
        if current.get("updated") != draft.get("updated"):
            return current  # changed (another tab) since it was checked: check again
        dossier = add_dossier(
            spec,
            current.get("values") or {},
            list(drafts.uploaded(current).values()),
            channel="online",
            delivery=drafts.delivery(spec, current),
            actor="citizen",
            pickup_address=drafts.pickup_at(spec, current),
            lang=current_lang(),
            account=account.key if account is not None else None,
            agency=current.get(offices.FIELD) or None,
        )
        current["filed_code"] = dossier.code
        current["submit_token"] = None
        outcome["code"] = dossier.code
        outcome["filed_now"] = "yes"
        return current

    # One transaction where the backend has them (PostgreSQL): the dossier add_dossier
    # stores and the draft's filed_code commit together, so a draft write that fails
    # leaves no dossier behind to be filed a second time on the next submit.
    with transaction(services().store):
        records.update(token, consume)
    if outcome.get("filed_now"):
        try:
            services().engine.on_filed(outcome["code"])
        except Exception:  # the dossier is filed; its first steps run again on the next change or retry
            current_app.logger.exception("dossier %s filed; starting its workflow failed", outcome["code"])
    if "code" not in outcome:
        flash(_("Trang đã cũ. Vui lòng kiểm tra lại thông tin và nộp hồ sơ."), "error")
        return redirect(url_for("portal.fill_step", code=spec.code, token=token, step_id=drafts.STEP_CHECK))
    if not outcome.get("filed_now"):
        return _already_filed(spec, outcome["code"])
    _remember(outcome["code"], filed=True)
    return redirect(url_for("portal.confirmation", code=outcome["code"]))


def _already_filed(spec: ProcedureSpec, code: str):
    """A draft link of a filed dossier: holding the link is not the second factor, so only
    the browser that filed (or looked it up) sees the dossier; others get its code and the
    way to look it up."""
    if _may_read(code):
        return redirect(url_for("portal.confirmation", code=code))
    return render_template("portal/draft_filed.html", spec=spec, code=code)


# --- after filing ----------------------------------------------------------------------------


def _tracking_url(code: str) -> str:
    """The link on the confirmation and the receipt (and in their QR code).

    The private link (opens without the factor, never expires, no throttle) only for the
    browser that filed the dossier. A browser that got in by the lookup gets the public
    tracking page, which asks for the factor again: one guess that passed the throttle must
    not become a key for good. One that came by the private link holds it already.
    """
    return private_tracking_url(code) if _filed_here(code) else external_url("portal.dossier", code=code)


def private_tracking_url(code: str) -> str:
    """On the public address; for the one who filed (web, desk) and the applicant's e-mail
    (plugins/notify builds it with the same function, outside any request)."""
    from motcua.tracking import private_link_url

    return private_link_url(code, current_app.config)


def _readable_dossier(code: str) -> Dossier:
    """The dossier, only for a browser that filed it or passed the second factor."""
    if not _may_read(code):
        abort(404)
    dossier = services().store.dossiers.get(code)
    if dossier is None:
        abort(404)
    return dossier


def _spec_of(dossier: Dossier) -> ProcedureSpec | None:
    from motcua.catalogue import spec_of

    return spec_of(services().store, dossier.spec_key) or services().catalogue.get(dossier.procedure_code)


def _qr(url: str) -> Markup:
    from motcua_renderers.qr import qr_svg

    return Markup(qr_svg(url))


@bp.get("/ho-so/<code>/xac-nhan")
def confirmation(code: str) -> Response:
    dossier = _readable_dossier(code)
    spec = _spec_of(dossier)
    return private(make_response(render_template(
        "portal/confirmation.html",
        dossier=dossier,
        spec=spec,
        panels=_citizen_panels(dossier),
        tracking_url=_tracking_url(code),
        private_link=_filed_here(code),
        qr=_qr(_tracking_url(code)),
    )))


@bp.get("/ho-so/<code>/bien-nhan")
def receipt(code: str) -> Response:
    from motcua_renderers.summary import answer_rows

    dossier = _readable_dossier(code)
    spec = _spec_of(dossier)
    return private(make_response(render_template(
        "portal/receipt.html",
        dossier=dossier,
        spec=spec,
        rows=answer_rows(spec, dossier.data, current_lang()) if spec else [],
        tracking_url=_tracking_url(code),
        qr=_qr(_tracking_url(code)),
    )))


@bp.get("/ho-so/<code>/bien-nhan.pdf")
def receipt_pdf(code: str) -> Response:
    from motcua.web.downloads import attachment, document_templates
    from motcua_renderers.documents import receipt_pdf as render_receipt

    dossier = _readable_dossier(code)
    spec = _spec_of(dossier)
    if spec is None:
        abort(404)
    office = services().catalogue.office(dossier.agency_code, spec)
    body = render_receipt(dossier, spec, _tracking_url(code), current_lang(), document_templates(),
                          office.name if office else None)
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = attachment(receipt_filename(dossier.code))
    return private(response)


def receipt_filename(code: str) -> str:
    """The receipt's file name, in the reader's language (the citizen's copy and the desk's)."""
    return ("Giấy tiếp nhận {code}.pdf" if current_lang() == "vi" else "Receipt {code}.pdf").format(code=code)


# --- track -----------------------------------------------------------------------------------


PURGE_EVERY_S = 600


def find_dossier(code: str, factor: str) -> Dossier | None:
    """The dossier when the code and its second factor match; None otherwise, alike.

    Every check counts against the shared throttle (motcua.tracking_throttle): raises
    Throttled when this code or this client has had too many wrong factors.
    """
    from motcua.tracking_throttle import Limits, check_factor, purge

    limits = Limits.from_config(current_app.config)
    state = current_app.extensions.setdefault("motcua.factor_purge", {"at": 0.0})
    if time.time() - state["at"] > PURGE_EVERY_S:
        state["at"] = time.time()
        purge(services().store, limits.window_s)
    return check_factor(services().store, code, factor, request.remote_addr or "", limits)


def throttled_message() -> str:
    return _("Đã nhập sai quá nhiều lần cho hồ sơ này hoặc từ máy này. Vui lòng thử lại sau một giờ.")


@bp.route("/tra-cuu", methods=["GET", "POST"])
def lookup():
    code = (request.values.get("code") or "").strip()
    factor = request.form.get("factor", "")
    message = None
    status = 200
    if request.method == "POST":
        from motcua.tracking_throttle import Throttled

        try:
            dossier = find_dossier(code, factor)
        except Throttled:
            message, status = throttled_message() + " " + _(
                "Người nộp hồ sơ luôn mở được hồ sơ bằng đường dẫn tra cứu riêng in trên giấy tiếp nhận (mã QR)."), 429
        else:
            if dossier is not None:
                _remember(dossier.code)
                return redirect(url_for("portal.dossier", code=dossier.code))
            message = _("Không tìm thấy hồ sơ với mã hồ sơ và thông tin đã nhập. Kiểm tra lại mã hồ sơ và số điện thoại hoặc số định danh cá nhân.")
            status = 404
    return render_template("portal/lookup.html", code=code, message=message), status


def _can_withdraw(dossier: Dossier) -> bool:
    """The workflow's own rule: the citizen may take a dossier back only before a decision."""
    from motcua.workflow import lifecycle

    return hasattr(services().engine, "citizen_withdraw") and lifecycle.allowed(dossier.status, "withdraw")


def _citizen_panels(dossier: Dossier) -> list[Any]:
    """What the steps ask of the citizen now (pay, supply documents ...), shown wherever they look."""
    panels_of = getattr(services().engine, "citizen_panels", None)
    return panels_of(dossier) if callable(panels_of) else []


def _rating_of(dossier: Dossier) -> Any:
    """The citizen's rating of a returned dossier, if given (one per dossier)."""
    if dossier.status != Status.RETURNED:
        return None
    from motcua import feedback

    rating = feedback.rating_of(services().store, dossier.code)
    return {"score": rating.score, "label": feedback.SCORE_LABELS.get(rating.score)} if rating else None


@bp.record_once
def _redact_private_links(state: Any) -> None:
    import logging

    from motcua.tracking import redact_links_in

    redact_links_in(logging.getLogger("werkzeug"), state.app.logger)


@bp.get("/ho-so/<code>/xem/<token>")
def private_link(code: str, token: str) -> Response:
    """The receipt's private link: the signature is the proof, so no factor and no throttle
    (a signature cannot be guessed; checking it costs the same whether the code exists)."""
    from motcua.tracking import link_opens

    if not link_opens(current_app.secret_key, code, token):
        message = _("Đường dẫn tra cứu không đúng hoặc đã bị thay đổi. Hãy tra cứu bằng mã hồ sơ và số điện thoại hoặc số định danh cá nhân.")
        return private(make_response(render_template("portal/lookup.html", code="", message=message), 404))
    found = services().store.dossiers.get(code)
    if found is None:
        abort(404)
    _remember(found.code)
    # Off the address bar at once: the page the citizen sees (and shares) is the plain one.
    return private(redirect(url_for("portal.dossier", code=found.code), code=303))


@bp.get("/ho-so/<code>")
def dossier(code: str):
    if not _may_read(code):
        return redirect(url_for("portal.lookup", code=code))
    found = services().store.dossiers.get(code)
    if found is None:
        abort(404)
    return private(make_response(_render_dossier(found)))


def _render_dossier(found: Dossier) -> str:
    return render_template(
        "portal/dossier.html",
        dossier=found,
        spec=_spec_of(found),
        panels=_citizen_panels(found),
        can_withdraw=_can_withdraw(found),
        rating=_rating_of(found),
        supplement=found.status == Status.SUPPLEMENT_REQUESTED,
        results=_results_of(found),
        forms=_forms_of(found),
    )


def _forms_of(found: Dossier) -> list[tuple[int, str, str]]:
    """(event index, document name, its title) of the forms 02-04 issued to the citizen."""
    from motcua_renderers.documents import FORM_TITLES, issued_forms

    return [(i, name, _(FORM_TITLES[name])) for i, name in issued_forms(found)]


def _results_of(found: Dossier) -> list[dict[str, Any]]:
    from motcua.results import results_of

    return results_of(found)


@bp.get("/ho-so/<code>/ket-qua/<file_id>")
def result_file(code: str, file_id: str) -> Response:
    """An electronic result, for the dossier's reader only (404 alike for anyone else)."""
    from motcua import results
    from motcua.web.downloads import attachment

    found = _readable_dossier(code)
    attached = results.result(found, file_id)
    if attached is None:
        abort(404)
    body = services().store.files.read(file_id)
    account = current_account()
    results.log_download(services().store, found.code, file_id, f"citizen:{account.key}" if account else "citizen")
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = attachment(attached["filename"])
    return private(response)


@bp.get("/ho-so/<code>/van-ban/<name>/<int:index>.pdf")
def form_document(code: str, name: str, index: int) -> Response:
    """Form 02, 03 or 04 the workflow issued to the citizen (the timeline's event `index`),
    for the dossier's reader only (404 alike for anyone else)."""
    from motcua import accounts
    from motcua.web.downloads import attachment, document_templates
    from motcua_renderers.documents import FORM_FILES, form_of, form_pdf

    found = _readable_dossier(code)
    spec = _spec_of(found)
    if spec is None or not 0 <= index < len(found.events) or form_of(found.events[index]) != name:
        abort(404)
    from motcua.issued import kept_pdf

    body = kept_pdf(services().store, found, index, current_lang())  # as issued, when in this language
    if body is None:
        names = {u.username: u.name for u in accounts.all_accounts(services().store)}
        body = form_pdf(name, found, spec, found.events[index], current_lang(), names, document_templates())
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = attachment(f"{FORM_FILES[name]}-{found.code}.pdf")
    return private(response)


@bp.post("/ho-so/<code>/rut")
def withdraw(code: str):
    found = _readable_dossier(code)
    from motcua.workflow import ActionNotAllowed

    try:
        services().engine.citizen_withdraw(found.code)
    except ActionNotAllowed as exc:
        flash(str(exc), "error")
    except AttributeError:
        flash(_("Chưa thể rút hồ sơ trực tuyến; vui lòng liên hệ Bộ phận một cửa."), "error")
    else:
        flash(_("Đã rút hồ sơ."), "success")
    return redirect(url_for("portal.dossier", code=found.code))


# --- errors: friendly pages, never a traceback -----------------------------------------------


def _wants_json() -> bool:
    return request.path.startswith("/api/")


@bp.app_errorhandler(CSRFError)
def _csrf_error(exc: CSRFError):
    if _wants_json():
        return {"errors": [{"pointer": "", "message": exc.description}]}, 400
    return render_template("portal/error.html", title=_("Phiên làm việc đã hết hạn"),
                           message=_("Trang đã hết hạn hoặc thiếu mã bảo mật. Quay lại, tải lại trang và thử lần nữa; thông tin đã lưu không bị mất.")), 400


@bp.app_errorhandler(413)
def _too_large(exc: HTTPException):
    if request.mimetype == "application/x-www-form-urlencoded":  # text only, bounded by the form limits
        title, message = _("Biểu mẫu quá lớn"), _("Thông tin gửi lên quá lớn. Hãy rút gọn nội dung các ô rồi gửi lại.")
    else:
        limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
        title = _("Tệp quá lớn")
        message = _("Tệp gửi lên quá lớn (tối đa {mb} MB cho mỗi lần gửi). Hãy chọn tệp nhỏ hơn hoặc gửi từng tệp.", mb=limit // (1024 * 1024))
    if _wants_json():
        return {"errors": [{"pointer": "", "message": message}]}, 413
    return render_template("portal/error.html", title=title, message=message), 413


@bp.app_errorhandler(404)
def _not_found(exc: HTTPException):
    if _wants_json():
        return {"errors": [{"pointer": "", "message": _("Không tìm thấy")}]}, 404
    return render_template("portal/error.html", title=_("Không tìm thấy trang"),
                           message=_("Trang bạn tìm không có hoặc đã được chuyển.")), 404


@bp.app_errorhandler(500)
def _server_error(exc: Exception):
    if _wants_json():
        return {"errors": [{"pointer": "", "message": _("Lỗi hệ thống, vui lòng thử lại sau")}]}, 500
    return render_template("portal/error.html", title=_("Lỗi hệ thống"),
                           message=_("Đã có lỗi xảy ra. Thông tin bạn đã lưu không bị mất; vui lòng thử lại sau ít phút.")), 500
