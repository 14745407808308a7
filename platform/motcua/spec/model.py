"""The procedure spec (thủ tục hành chính): the one schema every other part is derived from.

An administrator writes one YAML file per procedure; this module is the only description of
its shape. Loading, linting, the editor JSON Schema (`motcua schema`), the citizen form, the
submission JSON Schema and the fee computation all read these models, so a new key is added
here once and nowhere else.

Vietnamese glossary for the names below: procedure = thủ tục; sector = lĩnh vực; agency =
cơ quan thực hiện; tier = cấp (tỉnh / huyện / xã); level = mức độ; channel = cách thức thực
hiện; attachment = thành phần hồ sơ; fee = phí; charge = lệ phí; delivery = hình thức nhận
kết quả; step = bước xử lý.
"""

from __future__ import annotations

import re
import unicodedata
from enum import IntEnum
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)

Lang = Literal["vi", "en"]


def _to_localized(value: Any) -> Any:
    """Accept a plain string as Vietnamese text, the common case for administrators."""
    if isinstance(value, str):
        return {"vi": value}
    return value


LText = Annotated[
    dict[Lang, str],
    BeforeValidator(_to_localized),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "description": "Vietnamese text"},
                {
                    "type": "object",
                    "properties": {"vi": {"type": "string"}, "en": {"type": "string"}},
                    "required": ["vi"],
                    "additionalProperties": False,
                },
            ]
        }
    ),
]
"""Text shown to people: a string (Vietnamese) or `{vi: ..., en: ...}`."""


def localize(text: dict[str, str] | None, lang: str = "vi") -> str:
    """Pick the text in `lang`, falling back to Vietnamese, the language of record."""
    if not text:
        return ""
    return text.get(lang) or text.get("vi") or next(iter(text.values()), "")


class Strict(BaseModel):
    """Base for spec parts: unknown keys are errors, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Level(IntEnum):
    """Service level (mức độ). Decree 42/2022 renamed 3 "một phần" and 4 "toàn trình"."""

    INFO = 1
    FORMS = 2
    PARTIAL = 3
    FULL = 4


LEVEL_NAMES = {"info": Level.INFO, "forms": Level.FORMS, "partial": Level.PARTIAL, "full": Level.FULL}


#: "mức độ 3" as the decree writes it (or "muc do 3" without diacritics): the number.
_LEVEL_WORDS = re.compile(r"(?:m[uứ]c\s+[dđ][oộ]\s*)?([0-9]+)")


def _to_level(value: Any) -> Any:
    if isinstance(value, str):
        key = unicodedata.normalize("NFC", value).strip().lower()
        if key in LEVEL_NAMES:
            return LEVEL_NAMES[key]
        words = _LEVEL_WORDS.fullmatch(key)
        if words:
            return int(words.group(1))
    return value


LevelField = Annotated[
    Level,
    BeforeValidator(_to_level),
    WithJsonSchema(
        {
            "description": "Service level: 1..4, info / forms / partial / full, or mức độ 1..4",
            "anyOf": [
                {"enum": [1, 2, 3, 4, "1", "2", "3", "4", "info", "forms", "partial", "full"]},
                {"type": "string", "pattern": "^[Mm][ứuỨU]c [đdĐD][ộoỘO] [1-4]$"},
            ],
        }
    ),
]

Tier = Literal["province", "district", "commune"]
Filer = Literal["citizen", "business"]
ChannelKind = Literal["online", "desk", "postal"]
DeliveryKind = Literal["desk", "postal", "electronic"]


# --- conditions -----------------------------------------------------------------------------


class Condition(Strict):
    """A test on the citizen's answers, used by fees, exemptions and required attachments.

    Exactly one form is used: a comparison on one field (`field` plus one operator), or a
    combination (`all`, `any`, `not`). `field` is a dotted path into the answers
    (`child.birth_date`); the pseudo-field `_channel` holds the intake channel.
    """

    field: str | None = None
    equals: Any = None
    not_equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None
    is_true: bool | None = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        combos = [k for k in ("all", "any", "not_") if getattr(self, k) is not None]
        ops = [
            k
            for k in ("equals", "not_equals", "in_", "gt", "gte", "lt", "lte", "is_true")
            if k in self.model_fields_set
        ]
        from motcua.spec.words import say  # below motcua.i18n, which imports this module

        if combos and (self.field or ops):
            raise ValueError(say("một điều kiện hoặc là phép thử trên một trường, hoặc là all/any/not, không được cả hai"))
        if len(combos) > 1:
            raise ValueError(say("mỗi điều kiện chỉ dùng một trong all / any / not"))
        if not combos:
            if not self.field:
                raise ValueError(say("điều kiện cần `field` và một phép thử (equals, in, gt, ...)"))
            if len(ops) != 1:
                raise ValueError(say("điều kiện trên `{field}` cần đúng một phép thử (equals, not_equals, in, gt, gte, lt, lte, is_true)",
                                     field=self.field))
        return self

    @model_serializer(mode="wrap")
    def _dump_only_what_was_written(self, handler: Any) -> Any:
        # Which test a condition applies is read from `model_fields_set`, so a dump that
        # wrote every unset operator as null would not load back (spec snapshots do that).
        data = handler(self)
        if not isinstance(data, dict):
            return data
        written = set(self.model_fields_set)
        written |= {self.__class__.model_fields[n].alias or n for n in self.model_fields_set}
        return {k: v for k, v in data.items() if k in written}

    def fields(self) -> set[str]:
        """Every field path this condition reads, for the linter's reference check."""
        found = {self.field} if self.field else set()
        for sub in (self.all or []) + (self.any or []) + ([self.not_] if self.not_ else []):
            found |= sub.fields()
        return found


# --- published information -------------------------------------------------------------------


class Agency(Strict):
    """Implementing agency (cơ quan thực hiện)."""

    name: LText
    tier: Tier
    code: str = Field(
        default="000.00.00.H00",
        description="Agency code per QCVN 102:2016/BTTTT, used as the dossier code prefix",
        pattern=r"^[0-9A-Z]{2,3}(\.[0-9A-Z]{2,3}){2,4}$",
    )


AgencyCode = Annotated[
    str,
    Field(pattern=r"^[0-9A-Z]{2,3}(\.[0-9A-Z]{2,3}){2,4}$", description="An agency code of the registry (QCVN 102:2016)"),
]


class PerformedBy(Strict):
    """Who performs the procedure (cơ quan thực hiện): every office of a tier (and kind) of the
    agency registry, or the listed offices. The citizen chooses one of them (docs/agencies.md)."""

    tier: Literal["province", "commune", "other"] | None = Field(
        default=None, description="Every office of this tier in the registry (with `kind`: only that kind)")
    kind: str | None = Field(default=None, description="Which offices of the tier: ubnd, cong-an, so ... (the registry's `kind`)")
    agencies: list[AgencyCode] | None = Field(default=None, min_length=1, description="These offices (registry codes)")
    name: LText | None = Field(default=None, description="The kind of office as the procedure's record names it, e.g. Ủy ban nhân dân cấp xã")

    @model_validator(mode="after")
    def _one_rule(self) -> PerformedBy:
        from motcua.spec.words import say

        if (self.tier is None) == (self.agencies is None):
            raise ValueError(say("hãy cho `tier` (mọi cơ quan của cấp đó) hoặc `agencies` (danh sách mã), chỉ một trong hai"))
        if self.kind is not None and self.tier is None:
            raise ValueError(say("`kind` thu hẹp một `tier`: hãy cho cả cấp (`tier`)"))
        return self


def _to_performed_by(value: Any) -> Any:
    """`performed_by: 000.06.35.H15` (one office) and `performed_by: [a, b]` (a list) are
    shorthands of `{agencies: [...]}`."""
    if isinstance(value, str):
        return {"agencies": [value]}
    if isinstance(value, list):
        return {"agencies": value}
    return value


PerformedByField = Annotated[
    PerformedBy,
    BeforeValidator(_to_performed_by),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "description": "One agency code of the registry"},
                {"type": "array", "items": {"type": "string"}, "minItems": 1, "description": "Agency codes of the registry"},
                {
                    "type": "object",
                    "properties": {
                        "tier": {"enum": ["province", "commune", "other"]},
                        "kind": {"type": "string"},
                        "agencies": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                        "name": {"anyOf": [{"type": "string"}, {"type": "object", "properties": {"vi": {"type": "string"}, "en": {"type": "string"}}, "required": ["vi"], "additionalProperties": False}]},
                    },
                    "additionalProperties": False,
                },
            ],
            "description": "Who performs the procedure: {tier: commune, kind: ubnd}, a list of agency codes, or one code",
        }
    ),
]


class LegalBasis(Strict):
    """One legal text (căn cứ pháp lý)."""

    number: str
    title: LText
    issued: str | None = Field(default=None, description="Date issued, dd/mm/yyyy")
    issuer: LText | None = Field(default=None, description="Issuing body (cơ quan ban hành)")


class ProcessingTime(Strict):
    """Time limit (thời hạn giải quyết) in working days; 0 means the same working day.

    Some laws write the limit in calendar days ("10 ngày"): set `calendar_days: true` and
    the same numbers count every day, a due date on a day off moving to the next working day.
    """

    working_days: int = Field(ge=0, le=365)
    max_working_days: int | None = Field(
        default=None, ge=0, le=365, description="Longest limit, e.g. when verification is needed"
    )
    calendar_days: bool = Field(
        default=False, description="The limits count calendar days (ngày), not working days"
    )
    note: LText | None = None


class Channel(Strict):
    """An intake channel (cách thức nộp) with its own time limit and fee note, as published."""

    kind: ChannelKind
    working_days: int | None = Field(default=None, ge=0, le=365)
    note: LText | None = None
    home_pickup: bool = Field(
        default=False,
        description="`postal` channel only: a citizen filing online may ask the post office to collect the "
        "paper dossier at home (Decision 45/2016/QĐ-TTg); the `postal` step books the pickup with the carrier and "
        "the dossier is received only once the papers have arrived and the desk has checked them",
    )


class Delivery(Strict):
    """A way the citizen may receive the result (hình thức nhận kết quả)."""

    kind: DeliveryKind
    label: LText | None = None
    postal_charge: int | None = Field(
        default=None, ge=0, strict=True, description="Postal charge in VND paid by the citizen, shown before filing"
    )
    cash_on_delivery: bool = Field(
        default=False, description="The carrier may collect the fee on delivery"
    )


class Info(Strict):
    """What a level-1 page publishes: everything a citizen needs to know before filing."""

    description: LText | None = None
    steps: list[LText] = Field(default_factory=list, description="Trình tự thực hiện")
    conditions: list[LText] = Field(default_factory=list, description="Điều kiện thực hiện")
    result: LText = Field(description="Kết quả thực hiện")
    legal_basis: list[LegalBasis] = Field(default_factory=list)
    processing_time: ProcessingTime
    notes: list[LText] = Field(default_factory=list)
    presence_required: bool = Field(
        default=False,
        description="The law requires the applicant in person at some point (e.g. both parties "
        "sign the marriage register): such a procedure cannot be level 4 (full process)",
    )


# --- the form -------------------------------------------------------------------------------

Widget = Literal[
    "text",
    "textarea",
    "number",
    "date",
    "email",
    "tel",
    "select",
    "radio",
    "checkbox",
    "checkboxes",
    "cccd",
    "tax_code",
    "address",
    "hidden",
]


class FieldUI(Strict):
    """How one field is shown; its type and rules live in the JSON Schema."""

    label: LText | None = Field(default=None, description="Defaults to the schema's title")
    help: LText | None = None
    widget: Widget | None = Field(default=None, description="Defaults from the schema's type/format")
    placeholder: LText | None = None
    enum_labels: dict[str, LText] | None = Field(
        default=None, description="Labels for enum values, keyed by value"
    )
    add_label: LText | None = Field(default=None, description="Button text to add a repeated item")


class Page(Strict):
    """One step of a multi-page form; fields are top-level property names."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: LText
    fields: list[str] = Field(min_length=1)


class ContactFields(Strict):
    """Which answers identify the applicant: the dossier's contact and tracking factors."""

    name: str = Field(description="Dotted path of the applicant's full name")
    phone: str | None = Field(default=None, description="Dotted path of the mobile number")
    cccd: str | None = Field(default=None, description="Dotted path of the citizen ID (or tax code)")
    email: str | None = Field(default=None, description="Dotted path of the e-mail address")


class Prefill(Strict):
    """A field filled from the signed-in citizen's identity (tài khoản định danh điện tử)."""

    claim: str = Field(description="A canonical claim name (motcua.identity.CLAIMS)")
    lock: bool = Field(
        default=False,
        description="The citizen cannot change the value (the server refuses another one), e.g. the ID number",
    )


def _to_prefill(value: Any) -> Any:
    return {"claim": value} if isinstance(value, str) else value


PrefillField = Annotated[
    Prefill,
    BeforeValidator(_to_prefill),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "description": "Claim name"},
                {
                    "type": "object",
                    "properties": {"claim": {"type": "string"}, "lock": {"type": "boolean"}},
                    "required": ["claim"],
                    "additionalProperties": False,
                },
            ]
        }
    ),
]


class SignIn(Strict):
    """Whether filing needs a signed-in account (Decree 69/2024: VNeID levels 1 and 2)."""

    policy: Literal["required", "optional"] = Field(
        default="optional",
        description="required: only a signed-in citizen files; optional: anonymous filing too (tracked by code + factor)",
    )
    level: Literal[1, 2] = Field(default=1, description="The identity account level needed (VNeID level 1 or 2)")


def _to_sign_in(value: Any) -> Any:
    return {"policy": value} if isinstance(value, str) else value


SignInField = Annotated[
    SignIn,
    BeforeValidator(_to_sign_in),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "enum": ["required", "optional"]},
                {
                    "type": "object",
                    "properties": {"policy": {"type": "string", "enum": ["required", "optional"]},
                                   "level": {"type": "integer", "enum": [1, 2]}},
                    "additionalProperties": False,
                },
            ]
        }
    ),
]


class Form(Strict):
    """The citizen's form: a JSON Schema (draft 2020-12) plus UI hints.

    Vietnamese identity formats are JSON Schema formats: `cccd` (12-digit citizen ID),
    `vn-mobile` (10-digit mobile number), `tax-code` (mã số thuế), `date` (ISO in data,
    shown dd/mm/yyyy).
    """

    fields: dict[str, Any] = Field(
        description="JSON Schema (draft 2020-12) of the answers: an object with properties"
    )
    ui: dict[str, FieldUI] = Field(
        default_factory=dict, description="UI hints keyed by dotted field path"
    )
    pages: list[Page] = Field(default_factory=list, description="Form steps; default one page")
    contact: ContactFields = Field(
        description="The fields that identify the applicant; phone or ID is the tracking factor"
    )
    prefill: dict[str, PrefillField] = Field(
        default_factory=dict,
        description="Dotted field path -> the identity claim that fills it for a signed-in citizen "
        "(motcua.identity.CLAIMS: name, id_number, birth_date, sex, phone, email, address, tax_code ...); "
        "`{claim: id_number, lock: true}` also forbids changing it",
    )

    @model_validator(mode="before")
    @classmethod
    def _texts_from_fields(cls, data: Any) -> Any:
        """`title`/`description`/choice titles may be `{vi, en}` in `fields`: kept as plain
        Vietnamese there and as labels in `ui` (motcua.spec.form_support.split_texts)."""
        if not isinstance(data, dict) or not isinstance(data.get("fields"), dict):
            return data
        from motcua.spec.form_support import split_texts

        fields, ui = split_texts(data["fields"], data.get("ui") or {})
        return {**data, "fields": fields, "ui": ui} if (fields != data["fields"] or ui != (data.get("ui") or {})) else data


# --- computed values ------------------------------------------------------------------------


class Computed(Strict):
    """A value computed from the answers and the filing date, usable in conditions and fees
    by its name (`{var: days_since_birth}`). Exactly one of: `age` (whole years from a date
    answer to the filing date), `days_since` (days from a date answer to the filing date),
    `count` (items of a list answer), `logic` (any JSON Logic expression over the answers).
    All compile to JSON Logic (motcua.spec.conditions), the same on the server and in the
    browser."""

    age: str | None = Field(default=None, description="Dotted path of a date field: whole years at the filing date")
    days_since: str | None = Field(default=None, description="Dotted path of a date field: days from it to the filing date")
    count: str | None = Field(default=None, description="Dotted path of a list field: how many items")
    logic: Any = Field(default=None, description="A JSON Logic expression over the answers, `_today` and `_channel`")

    @model_validator(mode="after")
    def _one_kind(self) -> Computed:
        # counted by value, not by keys given: a stored snapshot writes every key (None)
        given = [k for k in ("age", "days_since", "count", "logic") if getattr(self, k) is not None]
        if len(given) != 1:
            from motcua.spec.words import say

            raise ValueError(say("một giá trị tính toán là đúng một trong `age`, `days_since`, `count`, `logic`"))
        return self


#: A condition: JSON Logic (`{">": [{var: days_since_birth}, 60]}`), or the older shape
#: (`{field, equals}`, `all` / `any` / `not`), translated at evaluation (motcua.spec.conditions).
AnyCondition = Annotated[Union[Condition, dict[str, Any]], Field(union_mode="left_to_right")]


class Attachment(Strict):
    """A dossier component (thành phần hồ sơ)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: LText
    required: bool = True
    required_when: AnyCondition | None = Field(
        default=None, description="Required only when this holds (then `required` is ignored)"
    )
    originals: int = Field(default=1, ge=0, description="Bản chính")
    copies: int = Field(default=0, ge=0, description="Bản sao")
    accept: list[str] = Field(
        default_factory=lambda: ["application/pdf", "image/jpeg", "image/png"],
        description="Accepted MIME types, checked on the file's content",
    )
    max_size_mb: float = Field(default=10, gt=0, le=50)
    template: LText | None = Field(
        default=None, description="Name of the form template (mẫu đơn, tờ khai) to use"
    )
    note: LText | None = None


# --- fees -----------------------------------------------------------------------------------


class FeeTier(Strict):
    """From unit `from_unit` on (1-based), each unit costs `amount`."""

    from_unit: int = Field(ge=2)
    amount: int = Field(ge=0, strict=True)  # VND are whole: YAML reads `8.000` as 8.0


class FeeRule(Strict):
    """One fee or charge line. Fee (phí) recovers a cost; charge (lệ phí) is for the act."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal["fee", "charge"]
    name: LText
    amount: int = Field(ge=0, strict=True, description="VND, per unit when quantity_field is set")
    by_agency: dict[AgencyCode, Annotated[int, Field(ge=0, strict=True)]] = Field(
        default_factory=dict,
        description="This office's own amount in place of `amount` (a fee set by each commune); codes of performers")
    quantity_field: str | None = Field(
        default=None, description="Field whose number multiplies the amount"
    )
    free_units: int = Field(default=0, ge=0, description="Units included at no cost")
    tiers: list[FeeTier] = Field(default_factory=list)
    max_amount: int | None = Field(default=None, ge=0, strict=True)
    when: AnyCondition | None = Field(default=None, description="The line applies only when this holds")
    exempt_when: AnyCondition | None = Field(default=None, description="Exemption (miễn)")
    exemption_note: LText | None = None
    legal_basis: str | None = None


# --- steps ----------------------------------------------------------------------------------


class StepRef(Strict):
    """A workflow step by its registered name, with the config its own model validates, and
    `when` it applies: a condition over the answers as filed (plus `_fee_total`, the bill),
    decided when the dossier is filed (motcua.workflow.plan)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_.-]*$")
    config: dict[str, Any] = Field(default_factory=dict)
    when: AnyCondition | None = Field(default=None, description="The step runs only when this holds for the dossier as filed")

    @model_serializer(mode="wrap")
    def _no_when_unless_written(self, handler: Any) -> Any:
        # a step without `when` dumps as it did before steps had one: the spec's content
        # hash (motcua.catalogue.content_hash), which pins filed versions, stays the same
        data = handler(self)
        if isinstance(data, dict) and data.get("when") is None:
            data.pop("when", None)
        return data


def _to_step(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


StepField = Annotated[
    StepRef,
    BeforeValidator(_to_step),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "description": "Step name"},
                {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "config": {"type": "object"},
                        "when": {
                            "description": "The step runs only when this condition (JSON Logic, or the older "
                            "{field, equals} shape) holds for the dossier as filed; `_fee_total` is the bill",
                            "type": "object",
                            "additionalProperties": True,
                        },
                    },
                    "required": ["name"],
                    "additionalProperties": False,
                },
            ]
        }
    ),
]


# --- processing (xử lý hồ sơ) ----------------------------------------------------------------

AGENCY_CODE_PATTERN = r"^[0-9A-Z]{2,3}(\.[0-9A-Z]{2,3}){2,4}$"
#: A procedure code (mã thủ tục, e.g. 1.001193, with a local suffix or not). ASCII digits:
#: `\d` would take `١.٠٠١١٩٣`, a look-alike of 1.001193 published beside it.
CODE_PATTERN = r"^[0-9]\.[0-9]{6}(\.[0-9A-Za-z]+)*$"


class ProcessingStage(Strict):
    """One hand of the processing chain: a unit whose specialist (chuyên viên) examines the
    dossier and records an opinion before handing it on. A stage of another agency is
    inter-agency processing (liên thông): only that agency's staff may give its opinion."""

    unit: str = Field(min_length=1, max_length=200, description="The unit (phòng, bộ phận) that examines the dossier at this stage")
    title: LText | None = Field(default=None, description="What this stage does, e.g. Thẩm định hồ sơ")
    agency: str | None = Field(
        default=None, pattern=AGENCY_CODE_PATTERN,
        description="Code of another agency performing this stage (liên thông); its staff give the opinion",
    )
    days: int | None = Field(default=None, ge=1, le=365, description="Working days this stage has (the control sheet's due for it)")


class ProcessingApproval(Strict):
    """Who decides at the end: the leader (lãnh đạo) of this unit approves, refuses, or returns for rework."""

    unit: str = Field(default="Lãnh đạo cơ quan", min_length=1, max_length=200)
    days: int | None = Field(default=None, ge=1, le=365, description="Working days the leader has to decide")


class Processing(Strict):
    """How a received dossier is processed (xử lý): stages in order, each recording a
    specialist's opinion, then the leader's decision. Left out, a dossier gets one stage (the
    unit the desk sends it to) and the leader's approval."""

    stages: list[ProcessingStage] = Field(min_length=1, max_length=20)
    approval: ProcessingApproval = Field(default_factory=ProcessingApproval)


# --- the procedure --------------------------------------------------------------------------


class ProcedureSpec(Strict):
    """One administrative procedure, as an administrator declares it."""

    code: str = Field(
        pattern=CODE_PATTERN,
        description="Mã thủ tục in the national procedure database, e.g. 1.001193",
    )
    version: str = Field(description="Spec version; dossiers record the version they were filed under")
    name: LText
    sector: LText = Field(description="Lĩnh vực")
    kind: LText | None = Field(default=None, description="Loại thủ tục")
    decision: LText | None = Field(default=None, description="Decision that published it")
    performed_by: PerformedByField | None = Field(
        default=None, description="Who performs it (the citizen chooses one of these offices); replaces `agency`")
    agency: Agency | None = Field(
        default=None, description="Old key: one agency written out in the spec. Write `performed_by` instead (docs/specs.md)")
    filers: list[Filer] = Field(min_length=1)
    life_events: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    level: LevelField
    info: Info
    channels: list[Channel] = Field(default_factory=list)
    delivery: list[Delivery] = Field(default_factory=list)
    form: Form | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    fees: list[FeeRule] = Field(default_factory=list)
    computed: dict[str, Computed] = Field(
        default_factory=dict,
        description="Values computed from the answers and the filing date, by name (`[a-z][a-z0-9_]*`), for conditions and fees",
    )
    steps: list[StepField] = Field(default_factory=list)
    processing: Processing | None = Field(
        default=None, description="Processing stages (units, liên thông) and who decides; default: one stage and the leader"
    )
    sign_in: SignInField = Field(
        default_factory=SignIn,
        description="Whether filing needs a signed-in account, and which account level (default: optional)",
    )

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        # `version: 1.2` in YAML is a float; administrators mean the text they typed.
        return str(value) if isinstance(value, (int, float)) else value

    @model_validator(mode="after")
    def _who_performs(self) -> ProcedureSpec:
        from motcua.spec.words import say

        if self.performed_by is None and self.agency is None:
            raise ValueError(say("hãy nêu cơ quan thực hiện thủ tục: `performed_by: {{tier: commune}}`, một danh sách mã cơ quan, hoặc một mã"))
        if self.performed_by is not None and self.agency is not None:
            raise ValueError(say("`agency` là khóa cũ của `performed_by`: chỉ giữ `performed_by`"))
        return self

    @property
    def performers_rule(self) -> PerformedBy:
        """`performed_by`, or the old `agency` read as that one office."""
        if self.performed_by is not None:
            return self.performed_by
        assert self.agency is not None
        return PerformedBy(agencies=[self.agency.code], name=self.agency.name)

    @property
    def online(self) -> bool:
        """Whether citizens fill and file this procedure on the portal (levels 3 and 4)."""
        return self.level >= Level.PARTIAL

    def step(self, name: str) -> StepRef | None:
        return next((s for s in self.steps if s.name == name), None)

    def delivery_option(self, kind: str) -> Delivery | None:
        return next((d for d in self.delivery if d.kind == kind), None)

    def attachment(self, attachment_id: str) -> Attachment | None:
        return next((a for a in self.attachments if a.id == attachment_id), None)

    @property
    def key(self) -> str:
        """Identity of this exact text: a dossier points at it forever."""
        return f"{self.code}@{self.version}"


Condition.model_rebuild()

__all__ = [
    "Agency",
    "PerformedBy",
    "Attachment",
    "Channel",
    "Condition",
    "Computed",
    "AnyCondition",
    "Delivery",
    "FeeRule",
    "FeeTier",
    "FieldUI",
    "Form",
    "Info",
    "LegalBasis",
    "Level",
    "LText",
    "Page",
    "Prefill",
    "ProcedureSpec",
    "SignIn",
    "ProcessingTime",
    "StepRef",
    "localize",
]
