"""Blueprint `api` (/api/v1): the same services as the portal, as JSON, for other systems.

CSRF-exempt (no cookies are trusted here: reading a dossier needs its second factor on every
call). Request and response bodies are pydantic models; the OpenAPI 3.1 document at
/api/v1/openapi.json is generated from them, so it cannot drift from the code.
"""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Mapping
from typing import Any, TypeVar

from flask import Blueprint, current_app, request
from pydantic import BaseModel, Field, ValidationError

from motcua import published_schema, submission, uploads
from motcua.app import csrf
from motcua.dossier import STATUS_LABELS
from motcua.filing import file_dossier
from motcua.i18n import current_lang, iso_in_vietnam, t
from motcua.public_url import external_url
from motcua.search import PER_PAGE, Filters, results
from motcua.services import services
from motcua.spec.model import ProcedureSpec, localize
from motcua.web import labels, page_cache

bp = Blueprint("api", __name__)
M = TypeVar("M", bound=BaseModel)
csrf.exempt(bp)


# --- models: the one description of the API's bodies ----------------------------------------


class ErrorItem(BaseModel):
    pointer: str = Field(description="JSON pointer into the request body, e.g. /answers/child/full_name")
    message: str


class Errors(BaseModel):
    errors: list[ErrorItem]


class ProcedureSummary(BaseModel):
    code: str
    version: str
    name: str
    sector: str
    level: int
    tier: str
    agency: str
    online: bool
    url: str


class ProcedureList(BaseModel):
    procedures: list[ProcedureSummary] = Field(description="This page of the matching procedures, best first")
    level_counts: dict[str, int]
    total: int = Field(description="How many procedures match (every page)")
    page: int = Field(description="The page given (1-based; past the last page, the last)")
    pages: int = Field(description="How many pages there are (at least 1)")
    per_page: int


class ProcedureDetail(ProcedureSummary):
    description: str = ""
    working_days: int
    fees: list[dict[str, Any]]
    attachments: list[dict[str, Any]]
    delivery: list[dict[str, Any]]
    submission_schema: dict[str, Any] = Field(description="JSON Schema (2020-12) of `answers`: every rule the server checks "
                                              "(docs/specs.md, \"What the published schema carries\")")
    request_schema: dict[str, Any] = Field(description="JSON Schema (2020-12) of the filing request: `answers` as "
                                           "submission_schema, and which `attachments` the answers make required (if/then)")


class AttachmentUpload(BaseModel):
    component: str = Field(description="Attachment id from the procedure's `attachments`")
    filename: str = Field(max_length=200)
    content_base64: str = Field(description="The file's bytes, base64; the type is read from the bytes")


class Address(BaseModel):
    province: str = Field("", description="Province code (e.g. 01) or name, see /units")
    district: str = Field("", description="Ignored: there are no districts since 1 July 2025")
    commune: str = Field("", description="Commune code (e.g. 00070) or name (diacritics optional) within the province")
    street: str = ""


class DeliveryRequest(BaseModel):
    kind: str = Field(description="One of the procedure's delivery kinds: desk, postal, electronic")
    address: Address | None = None


class PickupRequest(BaseModel):
    address: Address | None = Field(
        default=None, description="Where the post office collects the paper dossier; omitted: the postal delivery address")


class DossierRequest(BaseModel):
    agency: str | None = Field(None, max_length=40, description="Code of the office filed with (GET /agencies?procedure=): "
                               "required when the procedure has more than one performer")
    answers: dict[str, Any] = Field(description="Validated against the procedure's submission_schema")
    delivery: DeliveryRequest | None = None
    pickup: PickupRequest | None = Field(
        default=None, description="Ask the post office to collect the paper dossier at home (only where the procedure's "
        "postal channel has home_pickup)")
    attachments: list[AttachmentUpload] = Field(default_factory=list)


class SupplementRequest(BaseModel):
    note: str = Field("", description="What the applicant supplies or explains (at most 2000 characters)")
    attachments: list[AttachmentUpload] = Field(
        default_factory=list,
        description="Files of the components the request offers: those staff named, else any of the procedure's, "
                    "and `giay_to_bo_sung_khac` (another supporting document)")
    answers: dict[str, Any] | None = Field(
        None, description="Corrections of the top-level answers staff named: each key given replaces that answer "
                          "(null clears it), the others stay as filed; checked again on the whole answers")


class SupplementAccepted(BaseModel):
    code: str
    status: int
    status_label: str
    due_date: str | None
    fee_total: int


class DossierCreated(BaseModel):
    code: str
    tracking_url: str
    status: int
    status_label: str
    due_date: str | None
    fee_total: int


class TimelineEntry(BaseModel):
    at: str
    kind: str
    label: str
    status: int | None = None
    note: str | None = None


class Me(BaseModel):
    """The account of the bearer token: a citizen, or a business and the person acting for it."""

    kind: str = Field(description="citizen | business")
    name: str
    id_number: str | None = Field(description="Personal ID number (số định danh) from the identity provider")
    level: int = Field(description="Identity account level (1 or 2)")
    tax_code: str | None = None
    business_name: str | None = None
    legal_representative: str | None = None
    provider: str


class MyDossier(BaseModel):
    code: str
    procedure_code: str
    procedure_name: str
    status: int
    status_label: str
    filed_at: str
    due_date: str | None
    asks: list[str] = Field(description="What the dossier waits for from its owner: pay, supplement")
    url: str = Field(description="The dossier's page on the portal (opens for the signed-in owner)")


class MyDossiers(BaseModel):
    dossiers: list[MyDossier]


class DossierStatus(BaseModel):
    code: str
    procedure_code: str
    status: int
    status_label: str
    filed_at: str
    due_date: str | None
    fee_total: int
    timeline: list[TimelineEntry]


# --- helpers ---------------------------------------------------------------------------------


def _lang() -> str:
    return request.args.get("lang") if request.args.get("lang") in ("vi", "en") else current_lang()


def _summary(spec: ProcedureSpec, lang: str) -> dict[str, Any]:
    return {
        "code": spec.code,
        "version": spec.version,
        "name": localize(spec.name, lang),
        "sector": localize(spec.sector, lang),
        "level": int(spec.level),
        "tier": services().catalogue.tier(spec),
        "agency": localize(services().catalogue.performers_name(spec), lang),
        "online": spec.online and spec.form is not None,
        "url": external_url("api.procedure", code=spec.code),
    }



def _pointer(path: str, root: str = "/answers") -> str:
    if not path:
        return root
    return root + "/" + "/".join(
        p.replace(submission.DOT_IN_KEY, ".").replace("~", "~0").replace("/", "~1") for p in path.split("."))


def _errors(items: list[tuple[str, str]], status: int = 422):
    body = Errors(errors=[ErrorItem(pointer=p, message=m) for p, m in items])
    return body.model_dump(), status


def _not_found():
    return _errors([("", "Không tìm thấy" if _lang() == "vi" else "Not found")], 404)


MAX_JSON_DEPTH = 32


def _depth_ok(value: Any) -> bool:
    """Whether nesting stays within MAX_JSON_DEPTH (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return False
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return True


def _json_body() -> Any:
    """The JSON body, or None when it is not JSON or nests deeper than any request needs
    (the parser and the validators recurse: a deep body would be a 500, not a 400)."""
    try:
        payload = request.get_json(silent=True)
    except RecursionError:
        return None
    return payload if _depth_ok(payload) else None


def normalized_answers(spec: ProcedureSpec, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers with each address as the web form keeps it (motcua_renderers.form.parse_form):
    the parts the schema has, with the commune resolved to its name and code
    (units.resolve_address, the province as posted), so a filing by API stores what a
    filing on the web stores. Keys the schema does not declare are kept, for validation to
    refuse (the published schema closes every object); an address with a part that is not
    text is left exactly as sent. Other values are left as sent, for validation to judge."""
    from motcua import units

    def normalized(node: Mapping[str, Any], value: dict[str, Any]) -> dict[str, Any] | None:
        if any(not isinstance(v, str) for v in value.values()):
            return None  # a part that is not text: validation refuses it as sent, nothing is converted
        # only the commune is resolved (its name and code); every other part stays exactly
        # as sent, so validation judges what was sent, not a cleaned copy
        found = units.resolve_address(value, province_as_posted=True)
        resolved = dict(value)
        if found.get("commune_code"):
            resolved.update(commune=found["commune"], commune_code=found["commune_code"])
        for legacy in units.LEGACY_PARTS:  # published as accepted and ignored: no districts since 1/7/2025
            if legacy not in (node.get("properties") or {}):
                resolved.pop(legacy, None)
        return resolved

    return submission.with_addresses(spec, answers, normalized)


def tidied(spec: ProcedureSpec, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers with spaces collapsed in address texts, as the web form keeps them; used
    only when this tidy copy is valid too (validation judged what was sent)."""
    from motcua import units

    def tidy(_node: Mapping[str, Any], value: dict[str, Any]) -> dict[str, Any]:
        return {k: units.clean(v) if k in units.ADDRESS_PARTS and isinstance(v, str) else v for k, v in value.items()}

    return submission.with_addresses(spec, answers, tidy)


def _decoded(item: AttachmentUpload, index: int, lang: str) -> tuple[bytes | None, tuple[str, str] | None]:
    """The bytes of an upload, or the error of its base64."""
    try:
        return base64.b64decode(item.content_base64, validate=True), None
    except (binascii.Error, ValueError):
        return None, (f"/attachments/{index}/content_base64", "base64 không hợp lệ" if lang == "vi" else "invalid base64")


def _body_errors(exc: ValidationError):
    return _errors([("/" + "/".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()])


def _not_json(lang: str):
    return _errors([("", "Nội dung yêu cầu phải là một đối tượng JSON" if lang == "vi" else "The body must be a JSON object")], 400)


def _request_body(model: type[M]) -> M | Any:
    """The JSON body as `model`, or the 400/422 answer to send instead."""
    payload = _json_body()
    if not isinstance(payload, dict):
        return _not_json(_lang())
    unreadable = submission.text_errors(payload, _lang())
    if unreadable:
        # a lone surrogate ("\ud800") anywhere: refused before anything is read or stored
        return _errors([(_pointer(p, ""), m) for p, m in unreadable.items()])
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        return _body_errors(exc)


FACTOR_HEADER = "X-Motcua-Factor"


def _bearer_account() -> tuple[Any, Any]:
    """(the account of the request's bearer access token, None) or (None, the error answer):
    401 without a token or with one the provider's keys do not verify, 503 when the provider
    cannot be reached. A token of a subject never seen is looked up at the provider's userinfo
    and makes its account, as a first sign-in does."""
    from motcua import citizens, identity

    header = request.headers.get("Authorization", "")
    challenge = {"WWW-Authenticate": 'Bearer realm="motcua"'}
    if not header.lower().startswith("bearer ") or not header[7:].strip():
        return None, ({"errors": [{"pointer": "", "message": t("Cần đăng nhập (access token)", _lang())}]}, 401, challenge)
    token = header[7:].strip()
    try:
        provider, claims = identity.verify_access_token(current_app, token)
        store = services().store
        account = citizens.get(store, citizens.account_key(provider.issuer, str(claims["sub"])))
        if account is None:
            profile = identity.userinfo(current_app, provider, token)
            account = citizens.sign_in(store, identity.Identity(provider.id, provider.issuer, str(claims["sub"]), profile))
    except identity.IdentityError as exc:
        current_app.logger.info("API bearer token refused: %s", exc)
        if exc.down:
            return None, ({"errors": [{"pointer": "", "message": t("Chưa kết nối được với hệ thống định danh", _lang())}]}, 503)
        challenge = {"WWW-Authenticate": 'Bearer realm="motcua", error="invalid_token"'}
        return None, ({"errors": [{"pointer": "", "message": t("Access token không hợp lệ hoặc đã hết hạn", _lang())}]}, 401, challenge)
    return account, None


@bp.get("/me")
def me():
    account, refused = _bearer_account()
    if refused is not None:
        return refused
    return Me(kind=account.kind, name=account.name, id_number=account.id_number, level=account.level,
              tax_code=account.tax_code, business_name=account.business_name,
              legal_representative=account.legal_representative, provider=account.provider).model_dump()


@bp.get("/me/dossiers")
def my_dossiers():
    from motcua import citizens
    from motcua.dossier import Status

    account, refused = _bearer_account()
    if refused is not None:
        return refused
    lang = _lang()
    out = []
    for d in citizens.dossiers_of(services().store, account):
        spec = services().catalogue.get(d.procedure_code)
        asks = (["supplement"] if d.status == Status.SUPPLEMENT_REQUESTED else []) + (
            ["pay"] if d.status == Status.PAYMENT_REQUESTED else [])
        out.append(MyDossier(
            code=d.code, procedure_code=d.procedure_code, procedure_name=localize(spec.name, lang) if spec else d.procedure_code,
            status=int(d.status), status_label=STATUS_LABELS[d.status].get(lang, STATUS_LABELS[d.status]["vi"]),
            filed_at=iso_in_vietnam(d.filed_at), due_date=d.due_date.isoformat() if d.due_date else None, asks=asks,
            url=external_url("portal.dossier", code=d.code)))
    return MyDossiers(dossiers=out).model_dump(), 200, {"Cache-Control": "private, no-store"}


def _throttled():
    from motcua.web.portal import throttled_message

    return _errors([("", throttled_message())], 429)


# --- routes ----------------------------------------------------------------------------------


def _page_asked() -> int | None:
    """`?page=` as the document types it (an integer, at least 1), or None when it is not one:
    the catalogue's HTML page shows its first page for anything else, the API refuses it."""
    raw = request.args.get("page")
    if raw is None:
        return 1
    digits = raw.lstrip("0") if raw.isascii() and raw.isdigit() else ""
    if not digits:
        return None
    return int(digits) if len(digits) < 7 else 10**6  # past the last page: the last


@bp.get("/procedures")
def procedures():
    lang = _lang()
    number = _page_asked()
    if number is None:
        return _errors([("", t("Số trang phải là một số nguyên từ 1 trở lên", lang))], 400)

    def body() -> bytes:
        f = Filters.from_args(request.args)
        found = results(services().catalogue, f, number)
        page = found.page
        counts = {str(lv): n for lv, n in found.level_counts.items()}
        listed = ProcedureList(procedures=[ProcedureSummary(**_summary(s, lang)) for s in page.items], level_counts=counts,
                               total=page.total, page=page.number, pages=page.count, per_page=PER_PAGE).model_dump()
        return current_app.json.response(listed).get_data()

    # the same for every caller with these arguments (the catalogue is the cache's own): made once
    # (the host is in the key: without PUBLIC_URL, a demo's or test's links are built on it)
    kept = page_cache.kept("search", ("api/procedures", request.host_url, request.query_string, lang), body)
    return current_app.response_class(kept, mimetype=current_app.json.mimetype)


def _published_schema(spec: ProcedureSpec, lang: str) -> dict[str, Any]:
    """The answers' JSON Schema with the field titles in the reader's language (plain
    strings; the Vietnamese one is the schema the answers are checked against)."""
    schema = submission.submission_schema(spec)
    if lang == "vi" or spec.form is None:
        return schema
    from motcua.spec.form_support import localized_schema

    return localized_schema(schema, spec.form.ui, lang)


@bp.get("/procedures/<code>")
def procedure(code: str):
    spec = services().catalogue.get(code)
    if spec is None:
        return _not_found()
    lang = _lang()
    detail = ProcedureDetail(
        **_summary(spec, lang),
        description=localize(spec.info.description, lang),
        working_days=spec.info.processing_time.working_days,
        fees=[
            {"id": r.id, "kind": r.kind, "name": localize(r.name, lang), "amount": r.amount,
             "per_unit_of": r.quantity_field}
            for r in spec.fees
        ],
        attachments=[_attachment_info(spec, a, lang) for a in spec.attachments],
        delivery=[{"kind": d.kind, "postal_charge": d.postal_charge or 0} for d in spec.delivery],
        submission_schema=_published_schema(spec, lang),
        request_schema=request_schema(spec),
    )
    return detail.model_dump()


def _required_if(spec: ProcedureSpec, component: Any) -> dict[str, Any] | bool:
    """JSON Schema over `answers`: the component is required exactly when they match it."""
    if component.required_when is None:
        return bool(component.required)
    fields = spec.form.fields if spec.form else {}
    return published_schema.condition_schema(component.required_when, fields, "online", spec.computed)


def _attachment_info(spec: ProcedureSpec, component: Any, lang: str) -> dict[str, Any]:
    return {"id": component.id, "name": localize(component.name, lang),
            "required": component.required if component.required_when is None else "conditional",
            "required_if": _required_if(spec, component),
            "accept": component.accept, "max_size_mb": component.max_size_mb}


def request_schema(spec: ProcedureSpec) -> dict[str, Any]:
    """The filing request as JSON Schema: the answers' schema, the components offered, and
    one if/then per component the answers may make required (a missing answer read as its
    schema default, as the server reads it)."""
    component = {"type": "object", "required": ["component"], "properties": {"component": {"enum": [a.id for a in spec.attachments]}}}
    rules: list[dict[str, Any]] = []
    for a in spec.attachments:
        condition = _required_if(spec, a)
        if condition is False or (isinstance(condition, dict) and "x-json-logic" in condition):
            continue  # a JSON Logic condition is published on the component (`required_if`) only
        needs = {"required": ["attachments"], "properties": {"attachments": {
            "contains": {"type": "object", "required": ["component"], "properties": {"component": {"const": a.id}}}}}}
        rules.append(needs if condition is True else {"if": {"properties": {"answers": condition}}, "then": needs})
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["answers"],
        "properties": {
            "answers": submission.submission_schema(spec),
            "attachments": {"type": "array", "items": component},
            "delivery": {"type": "object", "required": ["kind"], "properties": {"kind": {"enum": [d.kind for d in spec.delivery]}},
                         "if": {"properties": {"kind": {"const": "postal"}}},
                         "then": {"required": ["address"], "properties": {"address": {
                             "type": "object", "required": ["province", "commune", "street"], "x-units": published_schema.UNITS_NOTE}}}},
        },
    }
    if spec.delivery:
        schema["required"].append("delivery")
    performers = services().catalogue.performers(spec)
    schema["properties"]["agency"] = {"enum": [a.code for a in performers],
                                      "description": "The office filed with (GET /agencies?procedure=)"}
    if len(performers) > 1:
        schema["required"].append("agency")
    if rules:
        schema["allOf"] = rules
    return schema


@bp.post("/procedures/<code>/dossiers")
def create_dossier(code: str):
    spec = services().catalogue.get(code)
    if spec is None or not spec.online or spec.form is None:
        return _not_found()
    lang = _lang()
    account = None
    if request.headers.get("Authorization") or spec.sign_in.policy == "required":
        account, refused = _bearer_account()
        if refused is not None:
            return refused
        if spec.sign_in.policy == "required" and account.level < spec.sign_in.level:
            return _errors([("", t("Thủ tục này cần tài khoản định danh điện tử mức {n}", lang, n=spec.sign_in.level))], 403)
    body = _request_body(DossierRequest)
    if not isinstance(body, DossierRequest):
        return body
    answers = normalized_answers(spec, body.answers)

    from motcua.web import offices

    # the office first: missing (several performers), unknown, or not a performer
    problems: list[tuple[str, str]] = [("/agency", m) for m in offices.errors(spec, body.agency, lang).values()]
    errors, visible = submission.checked(spec, answers, lang)  # the visible answers filed below
    problems += [(_pointer(p), m) for p, m in errors.items()]
    if account is not None:
        from motcua import prefill

        problems += [(_pointer(p), t(m, lang)) for p, m in prefill.locked_errors(spec, answers, account.claims).items()]
    # Everything is checked before any file is stored: a refused request leaves nothing.
    checked: dict[str, uploads.Checked] = {}
    for i, item in enumerate(body.attachments):
        component = spec.attachment(item.component)
        if component is None:
            problems.append((f"/attachments/{i}/component", t("Thành phần hồ sơ không có trong thủ tục này", lang)))
            continue
        data, bad = _decoded(item, i, lang)
        if data is None:
            problems.append(bad)  # type: ignore[arg-type]
            continue
        upload, error = uploads.check(component, item.filename, data, lang)
        if error:
            problems.append((f"/attachments/{i}/content_base64", error))
        elif upload:
            checked[component.id] = upload  # the last of a component given twice wins
    # Only which components are present matters to this check, not the stored references.
    for path, message in submission.validate_attachments(spec, answers, checked, lang).items():  # type: ignore[arg-type]
        if not any(p.startswith("/attachments/") for p, _ in problems):
            problems.append(("/attachments", message))
    delivery = None
    if body.delivery is not None:
        delivery = submission.delivery_choice(spec, body.delivery.kind, body.delivery.address.model_dump() if body.delivery.address else None)
    for path, message in submission.validate_delivery(spec, delivery, lang).items():
        problems.append((_pointer(path.removeprefix("delivery."), "/delivery") if path != "delivery.kind" else "/delivery/kind", message))
    pickup_address = None
    if body.pickup is not None:
        typed = body.pickup.address.model_dump() if body.pickup.address else None
        for path, message in submission.validate_pickup(spec, True, typed, delivery, lang).items():
            problems.append((_pointer(path.removeprefix("pickup."), "/pickup") if path != "pickup.wanted" else "/pickup", message))
        pickup_address = submission.pickup_address(spec, True, typed, delivery)
    refused = offices.post_refused(spec, body.agency, lang) if body.pickup is not None or (delivery and delivery.kind == "postal") else None
    if refused:  # the office's carrier cannot book its parcels: what the portal does not offer
        if body.pickup is not None:
            problems.append(("/pickup", refused))
        if delivery is not None and delivery.kind == "postal":
            problems.append(("/delivery/kind", refused))
    if problems:
        return _errors(problems)
    tidy = tidied(spec, answers)
    if tidy != answers:
        tidy_errors, tidy_visible = submission.checked(spec, tidy, lang)
        if not tidy_errors:
            answers, visible = tidy, tidy_visible

    # The dossier is stored with its workflow started, in one write (its files are taken
    # back if that fails; a step that fails is the engine's to retry).
    with uploads.stored(services().store.files, checked.values(), lang) as refs:
        dossier = file_dossier(spec, answers, refs, channel="online",
                               delivery=delivery, actor="citizen:api", lang=lang,
                               account=account.key if account is not None else None, agency=body.agency or None,
                               pickup_address=pickup_address, visible=visible)
    created = DossierCreated(
        code=dossier.code,
        tracking_url=external_url("portal.dossier", code=dossier.code),
        status=int(dossier.status),
        status_label=STATUS_LABELS[dossier.status].get(lang, STATUS_LABELS[dossier.status]["vi"]),
        due_date=dossier.due_date.isoformat() if dossier.due_date else None,
        fee_total=dossier.fee_total,
    )
    return created.model_dump(), 201, {"Location": external_url("api.dossier", code=dossier.code)}


@bp.route("/dossiers/<code>", methods=["GET", "POST"])
def dossier(code: str):
    """The factor comes in the X-Motcua-Factor header (GET) or a JSON body `{"factor": ...}`
    (POST), never in the URL, which proxies and servers write to their logs."""
    from motcua.tracking_throttle import Throttled
    from motcua.web.portal import find_dossier

    factor = request.headers.get(FACTOR_HEADER, "")
    if request.method == "POST":
        payload = _json_body()
        factor = payload.get("factor") if isinstance(payload, dict) else None
        if not isinstance(factor, str):
            lang = _lang()
            return _errors([("/factor", "Thiếu số điện thoại hoặc số định danh cá nhân" if lang == "vi" else "The factor is missing")], 400)
    try:
        found = find_dossier(code, factor)
    except Throttled:
        return _throttled()
    if found is None:
        return _not_found()
    lang = _lang()
    status = DossierStatus(
        code=found.code,
        procedure_code=found.procedure_code,
        status=int(found.status),
        status_label=STATUS_LABELS[found.status].get(lang, STATUS_LABELS[found.status]["vi"]),
        filed_at=iso_in_vietnam(found.filed_at),
        due_date=found.due_date.isoformat() if found.due_date else None,
        fee_total=found.fee_total,
        timeline=[
            TimelineEntry(at=iso_in_vietnam(e.at), kind=e.kind, label=labels.event_label(e.kind, e.data, lang),
                          status=int(e.status) if e.status is not None else None,
                          note=labels.event_note(e, lang, citizen=True) or None)
            for e in labels.citizen_events(found.events)
        ],
    )
    return status.model_dump()


@bp.post("/dossiers/<code>/supplement")
def supplement(code: str):
    """Answer a request for a supplement (status 5), as the page /ho-so/<code>/bo-sung does:
    the same checks (motcua.web.supplement.check_supplement), files checked on content and
    stored only for a supplement the engine accepts. The factor comes in the
    X-Motcua-Factor header and counts against the same throttle as reading."""
    from motcua.tracking_throttle import Throttled
    from motcua.web import supplement as supply
    from motcua.web.portal import _spec_of, find_dossier
    from motcua.workflow import ActionNotAllowed

    try:
        found = find_dossier(code, request.headers.get(FACTOR_HEADER, ""))
    except Throttled:
        return _throttled()
    if found is None:
        return _not_found()
    lang = _lang()
    body = _request_body(SupplementRequest)
    if not isinstance(body, SupplementRequest):
        return body
    if not supply.awaits_supplement(found):
        return _errors([("", t(
            "Hồ sơ này hiện không cần bổ sung: cơ quan giải quyết không có yêu cầu bổ sung nào đang chờ bạn.", lang))], 409)

    spec = _spec_of(found)
    asked = supply.supplement_request(found)
    offered = {c.id for c in supply.asked_components(spec, asked)}
    problems: list[tuple[str, str]] = []
    files: dict[str, tuple[str, bytes]] = {}
    sent_at: dict[str, int] = {}
    for i, item in enumerate(body.attachments):
        if item.component not in offered:
            problems.append((f"/attachments/{i}/component", "Thành phần hồ sơ này không thuộc yêu cầu bổ sung"
                             if lang == "vi" else "This component is not part of the supplement request"))
            continue
        data, bad = _decoded(item, i, lang)
        if data is None:
            problems.append(bad)  # type: ignore[arg-type]
            continue
        files[item.component], sent_at[item.component] = (item.filename, data), i  # the last given wins

    fields = supply.asked_fields(spec, asked)
    corrections = body.answers or {}
    for name in corrections:
        if name not in fields:
            problems.append((_pointer(name), "Cơ quan không đề nghị sửa thông tin này"
                             if lang == "vi" else "The agency did not ask to correct this answer"))
    values = None
    if fields and spec is not None:
        cleared = {k for k, v in corrections.items() if k in fields and v is None}
        values = {k: copy.deepcopy(v) for k, v in found.data.items() if k not in cleared}
        values.update(normalized_answers(spec, {k: v for k, v in corrections.items() if k in fields and v is not None}))

    checked = supply.check_supplement(found, spec, body.note.strip(), files, values, lang)
    for path, message in checked.errors.items():
        if path == "note":
            problems.append(("/note", message))
        elif path.startswith("attachment."):
            index = sent_at.get(path.removeprefix("attachment."))
            problems.append((f"/attachments/{index}/content_base64" if index is not None else "/attachments", message))
        else:
            problems.append((_pointer(path), message))
    if problems:
        return _errors(problems)
    try:
        done = supply.store_supplement(found, body.note.strip(), checked, lang)
    except ActionNotAllowed as exc:
        return _errors([("", str(exc))], 409)
    return SupplementAccepted(
        code=done.code,
        status=int(done.status),
        status_label=STATUS_LABELS[done.status].get(lang, STATUS_LABELS[done.status]["vi"]),
        due_date=done.due_date.isoformat() if done.due_date else None,
        fee_total=done.fee_total,
    ).model_dump()


class AgencyInfo(BaseModel):
    code: str = Field(description="QCVN 102:2016 code: the prefix of the dossier codes of this office")
    name: str
    tier: str = Field(description="province | commune | other")
    kind: str = Field(description="Which offices of a tier: ubnd, cong-an, so ... (specs' performed_by.kind)")
    parent: str | None
    province_code: str
    commune_code: str | None = Field(description="The commune unit served (Decision 124/2004 code, after 1 July 2025)")
    address: str
    hours: str
    phone: str


class AgencyList(BaseModel):
    agencies: list[AgencyInfo]
    total: int
    registry_version: str = Field(description="The version of the agency registry these come from")


@bp.get("/agencies")
def agencies():
    """The offices of the registry: filtered by tier, kind, the procedure they perform, and
    words of their name (diacritics and case ignored)."""
    catalogue = services().catalogue
    lang = _lang()
    pool: list[Any] = list(catalogue.agencies)
    procedure = request.args.get("procedure", "").strip()
    if procedure:
        spec = catalogue.get(procedure[:40])
        if spec is None:
            return _errors([("/procedure", t("Không có thủ tục mã {code}", lang, code=procedure[:40]))], 404)
        pool = list(catalogue.performers(spec))
    tier = request.args.get("tier", "").strip()
    kind = request.args.get("kind", "").strip()
    pool = [a for a in pool if (not tier or a.tier == tier) and (not kind or a.kind == kind)]
    q = request.args.get("q", "")[:200]

    def body() -> bytes:
        found = catalogue.agencies.search(q, pool) if q.strip() else pool
        published = catalogue.agencies.published(lang)  # AgencyInfo's shape, made once per language
        items = [published.get(a.code) or a.as_dict(lang) for a in found]  # an old spec's own agency is not in it
        return current_app.json.response({"agencies": items, "total": len(items),
                                          "registry_version": catalogue.agencies.version}).get_data()

    # the same for every caller with these arguments: encoded once (207 offices were ~0.7 ms of JSON)
    kept = page_cache.kept("search", ("api/agencies", request.query_string, lang), body)
    return current_app.response_class(kept, mimetype=current_app.json.mimetype)


class Unit(BaseModel):
    code: str = Field(description="Code of Decision 124/2004, zero-padded: province 2 digits, commune 5")
    name: str


class CommuneList(BaseModel):
    province: Unit
    version: str = Field(description="The administrative-unit table these come from")
    prompt: str
    communes: list[Unit]


@bp.get("/units/<province>/communes")
def communes(province: str):
    """The communes of a province (since 1 July 2025), for the address widget; public, cacheable.

    Shared caches keep one body per URL, so the language is only the explicit `?lang=`
    (Vietnamese without it), never the reader's cookie."""
    from motcua import units

    # the two digits the document's pattern asks for ("1" or " 01" is not a code of this URL)
    found = units.province(province) if province.isascii() and len(province) == 2 and province.isdigit() else None
    if found is None:
        return _not_found()
    lang = "en" if request.args.get("lang") == "en" else "vi"
    body = CommuneList(
        province=Unit(code=found.code, name=found.en if lang == "en" else found.name),
        version=units.version(),
        prompt=t("— Chọn xã, phường, đặc khu —", lang),
        communes=[Unit(code=c.code, name=c.name) for c in units.communes(found.code)],
    ).model_dump()
    return body, 200, {"Cache-Control": "public, max-age=86400"}


# --- OpenAPI ---------------------------------------------------------------------------------


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def openapi_document() -> dict[str, Any]:
    """OpenAPI 3.1, from the pydantic models above (JSON Schema 2020-12 is 3.1's dialect)."""
    models = [ErrorItem, Errors, ProcedureSummary, ProcedureList, ProcedureDetail, AttachmentUpload, Address,
              DeliveryRequest, DossierRequest, DossierCreated, TimelineEntry, DossierStatus, Unit, CommuneList,
              SupplementRequest, SupplementAccepted, Me, MyDossier, MyDossiers, AgencyInfo, AgencyList]
    schemas: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    code = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
    factor = {"name": FACTOR_HEADER, "in": "header", "required": True, "schema": {"type": "string"},
              "description": "The applicant's phone number or personal ID (never in the URL)"}
    filters = [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": desc}
        for name, desc in (("q", "Keywords; diacritics and case ignored"), ("sector", "Sector name (Vietnamese)"),
                           ("tier", "province | district | commune | other: procedures performed by offices of that tier"),
                           ("agency", "An agency code: the procedures that office performs"), ("level", "1..4"),
                           ("filer", "citizen | business"), ("life_event", "Life event slug"),
                           ("lang", "vi | en"))
    ] + [{"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "default": 1},
          "description": f"Page of results, {PER_PAGE} per page (past the last page: the last; not a whole number from 1: 400)"}]
    dossier_responses = {
        "200": _json(DossierStatus, "The dossier"),
        "404": _json(Errors, "Unknown code or wrong factor (not told apart)"),
        "429": _json(Errors, "Too many wrong factors for this code or from this client; try again within the hour"),
    }
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Motcua API", "version": "1.0.0",
                 "description": "Online public services: find procedures, file dossiers, track them, supply what the agency asks for."},
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/procedures": {"get": {"operationId": "listProcedures", "summary": "Procedures, with the catalogue's filters",
                                    "parameters": filters, "responses": {"200": _json(ProcedureList, "Matching procedures"),
                                                                         "400": _json(Errors, "`page` is not a whole number from 1, or NUL or a broken "
                                                                                              "Unicode character in the query")}}},
            "/procedures/{code}": {"get": {"operationId": "getProcedure", "summary": "A procedure and the JSON Schema of its answers",
                                           "parameters": [code], "responses": {"200": _json(ProcedureDetail, "The procedure"),
                                                                               "404": _json(Errors, "Unknown procedure")}}},
            "/procedures/{code}/dossiers": {"post": {
                "operationId": "fileDossier", "summary": "File a dossier",
                "parameters": [code],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(DossierRequest)}}},
                "security": [{}, {"identityProvider": []}],
                "responses": {"201": _json(DossierCreated, "Filed"),
                              "400": _json(Errors, "Not a JSON object"),
                              "401": _json(Errors, "The procedure needs a signed-in account (sign_in: required), or the access token given is not valid"),
                              "403": _json(Errors, "The account's level is below what the procedure needs"),
                              "404": _json(Errors, "Unknown procedure or not filed online"),
                              "422": _json(Errors, "Invalid answers, attachments, delivery or office (/agency: missing where the "
                                                   "procedure has several performers, unknown, or not a performer): one error per field")}}},
            "/agencies": {"get": {
                "operationId": "listAgencies", "summary": "Offices (cơ quan thực hiện) of the agency registry",
                "parameters": [
                    {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": desc}
                    for name, desc in (("tier", "province | commune | other"), ("kind", "ubnd | cong-an | so ..."),
                                       ("procedure", "A procedure code: the offices that perform it (the choices of `agency` when filing)"),
                                       ("q", "Words of the name or code; diacritics and case ignored"), ("lang", "vi | en"))],
                "responses": {"200": _json(AgencyList, "Matching offices, in registry order"),
                              "404": _json(Errors, "Unknown procedure")}}},
            "/me": {"get": {
                "operationId": "getMe", "summary": "The signed-in citizen or business (bearer access token from the identity provider)",
                "security": [{"identityProvider": []}],
                "responses": {"200": _json(Me, "The account"),
                              "401": _json(Errors, "No access token, or one the provider's keys do not verify, or expired"),
                              "503": _json(Errors, "The identity provider cannot be reached")}}},
            "/me/dossiers": {"get": {
                "operationId": "listMyDossiers", "summary": "The dossiers of the signed-in citizen or business, newest first",
                "security": [{"identityProvider": []}],
                "responses": {"200": _json(MyDossiers, "Filed while signed in, or filed with the account's verified ID number"),
                              "401": _json(Errors, "No access token, or one the provider's keys do not verify, or expired"),
                              "503": _json(Errors, "The identity provider cannot be reached")}}},
            "/units/{province}/communes": {"get": {
                "operationId": "listCommunes", "summary": "Communes (xã, phường, đặc khu) of a province since 1 July 2025",
                "parameters": [{"name": "province", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9]{2}$"},
                                "description": "Province code, e.g. 01"},
                               {"name": "lang", "in": "query", "required": False, "schema": {"type": "string"},
                                "description": "Language of the prompt and the province's name: en, else vi (vi when absent; the reader's cookie is not used, so the response can be cached per URL)"}],
                "responses": {"200": _json(CommuneList, "The communes, by code"), "404": _json(Errors, "Unknown province")}}},
            "/dossiers/{code}": {
                "get": {
                    "operationId": "getDossier", "summary": "Status and timeline of a dossier",
                    "parameters": [code, factor],
                    "responses": dossier_responses},
                "post": {
                    "operationId": "lookupDossier", "summary": "Status and timeline of a dossier, the factor in the body",
                    "parameters": [code],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["factor"],
                        "properties": {"factor": {"type": "string", "description": "The applicant's phone number or personal ID"}}}}}},
                    "responses": {**dossier_responses, "400": _json(Errors, "No factor in the body")}},
            },
            "/dossiers/{code}/supplement": {"post": {
                "operationId": "supplyDossier",
                "summary": "Answer the agency's request for a supplement: files, a note, corrected answers",
                "parameters": [code, factor],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(SupplementRequest)}}},
                "responses": {"200": _json(SupplementAccepted, "Supplied: the dossier continues, its due date moved"),
                              "400": _json(Errors, "Not a JSON object"),
                              "404": dossier_responses["404"],
                              "409": _json(Errors, "The dossier is not awaiting a supplement"),
                              "422": _json(Errors, "Invalid note, files or answers, or nothing supplied: one error per field"),
                              "429": dossier_responses["429"]}}},
        },
        "components": {"schemas": schemas, "securitySchemes": {"identityProvider": {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": "An access token the configured identity provider (OpenID Connect) issued to this portal's client"}}},
    }
    _document_bad_text(document["paths"])
    return document


def _document_bad_text(paths: dict[str, Any]) -> None:
    """Every operation may meet motcua.web.text_guard, which runs before any view: NUL or a
    lone surrogate in the path or the query is a 400, in a JSON body a 422 naming where.
    Listed on each operation so a client built from the document expects them."""
    bad = "NUL or a broken Unicode character (lone surrogate) in the path, the query or the body"
    for item in paths.values():
        for operation in item.values():
            responses = operation["responses"]
            responses.setdefault("400", _json(Errors, bad))
            if "requestBody" in operation:
                responses.setdefault("422", _json(Errors, bad + ": the body's pointer names where"))


@bp.get("/openapi.json")
def openapi():
    return openapi_document()


@bp.errorhandler(404)
def _api_404(exc):
    return _not_found()
