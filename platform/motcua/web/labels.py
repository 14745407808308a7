"""Vietnamese labels for the codes the portal and the API show (tiers, levels, channels ...).

Source strings are Vietnamese, marked with `N_()` for `pybabel extract`; `_()` gives the
English of the gettext catalogue (docs/i18n.md).
"""

from __future__ import annotations

from typing import Any

from motcua.dossier import STATUS_LABELS, Status
from motcua.i18n import N_, _, current_lang
from motcua.spec import life_events
from motcua.spec.model import localize
from motcua.workflow import notes
from motcua.workflow.events import DECISIONS, event_kind
from motcua.workflow.registry import step_titles
from motcua.workdays import limit_text  # noqa: F401  (templates reach it as labels.limit_text)

TIERS = {"province": N_("Cấp tỉnh"), "district": N_("Cấp huyện"), "commune": N_("Cấp xã"), "other": N_("Cơ quan khác")}
LEVELS = {
    1: N_("Mức độ 1 – Thông tin"),
    2: N_("Mức độ 2 – Biểu mẫu"),
    3: N_("Mức độ 3 – Một phần trực tuyến"),
    4: N_("Mức độ 4 – Toàn trình trực tuyến"),
}
FILERS = {"citizen": N_("Công dân"), "business": N_("Tổ chức, doanh nghiệp")}
CHANNELS = {"online": N_("Trực tuyến"), "desk": N_("Trực tiếp"), "postal": N_("Qua bưu chính công ích")}
DELIVERIES = {
    "desk": N_("Nhận tại Bộ phận một cửa"),
    "postal": N_("Nhận qua dịch vụ bưu chính công ích"),
    "electronic": N_("Nhận bản điện tử trực tuyến"),
}
FEE_KINDS = {"fee": N_("Phí"), "charge": N_("Lệ phí")}
#: What an event of a kind nobody declares (old data, a plugin no longer installed) is called.
UNKNOWN_EVENT = {"vi": "Cập nhật hồ sơ", "en": "Dossier updated"}


def label(table: dict, key: object) -> str:
    """The label of `key` in the reader's language; the key itself if unknown."""
    text = table.get(key)
    return _(text) if text else str(key)


def _lang(lang: str | None) -> str:
    return lang or current_lang()


def event_label(kind: str, data: dict | None = None, lang: str | None = None) -> str:
    """The timeline label of an event kind, as its step (or the engine) declares it; a
    `decided` event by its data.decision; a generic label for a kind nobody declares."""
    declared = event_kind(kind)
    if kind == "decided" and data and data.get("decision") in DECISIONS:
        declared = DECISIONS[data["decision"]]
    return localize(declared.label if declared else UNKNOWN_EVENT, _lang(lang))


def known_event_kind(kind: str) -> bool:
    return event_kind(kind) is not None


def is_internal(kind: str) -> bool:
    """Staff only, as declared. An undeclared kind is not hidden, but its note is (see event_note)."""
    declared = event_kind(kind)
    return bool(declared and declared.internal)


#: Event data key of the note written for staff when the citizen's note speaks to the citizen
#: ("Bạn đã hủy giao dịch." is "Công dân đã hủy giao dịch." on the staff side): a message.
STAFF_NOTE = "staff_note"


def event_note(event: Any, lang: str | None = None, citizen: bool = False) -> str:
    """The note in the reader's language: a system message rendered now, typed text as is.

    Staff (`citizen=False`) read the event's staff wording when it has one (`STAFF_NOTE`):
    a note addressed to the payer ("you cancelled") misleads the clerk reading it. For a
    citizen, an undeclared kind shows no note: nobody can say whether it was staff-only.
    """
    if citizen and not known_event_kind(event.kind):
        return ""
    staff_note = (event.data or {}).get(STAFF_NOTE) if not citizen else None
    if isinstance(staff_note, dict) and staff_note.get("text"):
        return notes.render(staff_note, _lang(lang))
    if event.message:
        return notes.render(event.message, _lang(lang))
    return event.note or ""


def timeline_status(event: Any, label: str) -> str:
    """The status an event moved the dossier to, beside its label, unless the label already
    says it ("Payment requested – Payment requested", "Dossier filed – Filed")."""
    if not event.status:
        return ""
    status = status_label(event.status)
    return "" if status.casefold() in label.casefold() else status


def timeline_note(event: Any, label: str, citizen: bool = False) -> str:
    """The event's note, unless it only repeats the label."""
    note = event_note(event, citizen=citizen)
    return "" if note.strip().casefold() == label.strip().casefold() else note


#: Who did it, for actors that are not staff (`kind:who` in Event.actor).
ACTORS: dict[str, dict[str, str]] = {
    "citizen": {"vi": "Công dân", "en": "Citizen"},
    "system": {"vi": "Hệ thống", "en": "System"},
    "step": {"vi": "Hệ thống – bước {name}", "en": "System – {name} step"},  # a step without a title
    "titled_step": {"vi": "Hệ thống – {name}", "en": "System – {name}"},
    "gateway": {"vi": "Cổng thanh toán {name}", "en": "{name} payment gateway"},
    "carrier": {"vi": "Đơn vị bưu chính {name}", "en": "{name} postal carrier"},
    # a command run on the server (`motcua jobs retry`), by its system user
    "operator": {"vi": "Quản trị hệ thống (dòng lệnh, {name})", "en": "System operator (command line, {name})"},
}
#: actor kind -> the registry whose plugins name themselves there (`Plugin.title`)
ACTOR_REGISTRIES = {"gateway": "gateways", "carrier": "carriers"}


def _plugin_title(kind: str, who: str) -> dict[str, str] | None:
    from motcua.integrations import REGISTRIES

    registry = REGISTRIES.get(ACTOR_REGISTRIES.get(kind, ""))
    cls = registry.all().get(who) if registry else None
    return getattr(cls, "title", None) or None


def actor_label(actor: str, staff_names: dict[str, str] | None = None) -> str:
    """`staff:lan` -> her name, `gateway:vnpay` -> "Cổng thanh toán VNPay", `step:postal` ->
    "Hệ thống – Bưu chính công ích" (its `Step.title`; "Hệ thống – bước x" for a step without one) ..."""
    kind, _sep, who = actor.partition(":")
    if kind == "staff":
        return (staff_names or {}).get(who, who)
    texts = ACTORS.get(kind)
    if texts is None:
        return actor
    lang = current_lang()
    title = step_titles().get(who) if kind == "step" else None
    if title:
        texts = ACTORS["titled_step"]
    named = _plugin_title(kind, who) if not title else None
    name = localize(title, lang) if title else (named or {}).get(lang) or (named or {}).get("vi") or who
    return (texts.get(lang) or texts["vi"]).format(name=name)


def citizen_events(events: list) -> list:
    """The timeline a citizen sees: without the events declared staff-only (internal)."""
    return [e for e in events if not is_internal(e.kind)]


def status_label(status: Status | int) -> str:
    texts = STATUS_LABELS.get(Status(status), {})
    return texts.get(current_lang()) or texts.get("vi", str(status))


def life_event_label(slug: str, lang: str | None = None) -> str:
    """Life events are slugs in specs (`khai-sinh`), shown as the vocabulary's words."""
    return life_events.label(slug, _lang(lang))
