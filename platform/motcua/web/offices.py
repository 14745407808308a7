"""Choosing the office (Chọn cơ quan thực hiện) on the procedure page and at the start of
the form: which offices to offer, which one to preselect, and what is wrong with a choice.

One list serves the page without JavaScript (a plain select whose options carry the
office's address and hours) and with it (static/js/office-choice.js filters the options as
the citizen types, diacritics ignored). docs/agencies.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from motcua.agencies import Agency
from motcua.i18n import N_, current_lang, t
from motcua.services import services
from motcua.spec.model import ProcedureSpec
from motcua.units import address_text, unit_code

#: The form field (and the draft's key) holding the chosen office's code.
FIELD = "agency"
#: The query parameter the procedure page's choice travels in to the form.
QUERY = "co_quan"


def offices(spec: ProcedureSpec) -> tuple[Agency, ...]:
    """The offices the citizen chooses among (every performer of the procedure)."""
    return services().catalogue.performers(spec)


def needs_choice(spec: ProcedureSpec) -> bool:
    return len(offices(spec)) > 1


def _communes_in(value: Any) -> Iterable[str]:
    """Commune codes of the addresses inside answers or claims (an address keeps its code)."""
    if isinstance(value, Mapping):
        for key in ("commune_code", "commune"):
            code = unit_code(value.get(key), 5) if value.get(key) is not None else None
            if code:
                yield code
                break
        for item in value.values():
            if isinstance(item, (Mapping, list)):
                yield from _communes_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _communes_in(item)


def preselect(spec: ProcedureSpec, chosen: str | None = None, answers: Mapping[str, Any] | None = None,
              claims: Mapping[str, Any] | None = None) -> str | None:
    """The office to show selected: the one chosen, else the one serving the commune of the
    signed-in citizen's address, else of an address given in the answers; else none (the
    citizen picks: a guess would file births with the wrong commune)."""
    catalogue = services().catalogue
    if chosen and catalogue.performer(spec, chosen) is not None:
        return chosen
    among = offices(spec)
    if len(among) == 1:
        return among[0].code
    for source in (claims.get("address") if claims else None, answers):
        for commune in _communes_in(source or {}):
            office = catalogue.agencies.serving(commune, among)
            if office is not None:
                return office.code
    return None


MISSING = N_("Chọn cơ quan thực hiện (nơi nộp hồ sơ).")
UNKNOWN = N_("Không có cơ quan mã {code}. Chọn cơ quan trong danh sách.")
NOT_PERFORMER = N_("Cơ quan {name} không giải quyết thủ tục này. Chọn cơ quan trong danh sách.")


def errors(spec: ProcedureSpec, code: Any, lang: str | None = None) -> dict[str, str]:
    """{FIELD: message} when `code` is not an office that performs `spec` (none chosen
    where there are several, an unknown code, or an office that does not perform it)."""
    lang = lang or current_lang()
    catalogue = services().catalogue
    if code is not None and not isinstance(code, str):
        return {FIELD: t(UNKNOWN, lang, code=str(code)[:40])}
    if not code:
        return {FIELD: t(MISSING, lang)} if needs_choice(spec) else {}
    if catalogue.performer(spec, code) is not None:
        return {}
    office = catalogue.office(code)
    if office is None:
        return {FIELD: t(UNKNOWN, lang, code=code[:40])}
    return {FIELD: t(NOT_PERFORMER, lang, name=office.label(lang))}


def details(office: Agency, lang: str) -> dict[str, str]:
    """What the page shows of an office: name, address, hours, phone."""
    return {"code": office.code, "name": office.label(lang), "address": address_text(office.address, lang),
            "hours": office.hours.get(lang) or office.hours.get("vi", ""), "phone": office.phone}


def shared_hours(offices: Iterable[Agency], lang: str) -> str:
    """The working hours most of `offices` share: written once on the office list, and only
    the others' on their own option (94 communes with the same hours were two thirds of the
    procedure page's bytes)."""
    counts = Counter(details(office, lang)["hours"] for office in offices)
    return counts.most_common(1)[0][0] if counts else ""


def post_refused(spec: ProcedureSpec, code: str | None, lang: str) -> str | None:
    """Why no parcel can be booked for a dossier filed with the office `code` (with no code:
    the procedure's only office) — its carrier needs a desk phone no one gave
    (motcua.workflow.registry.post_refusal) — or None. The form's delivery step and the API
    both ask here; staff find the same reason in `motcua lint` and the start-up log."""
    from flask import current_app

    from motcua.filing import OfficeChoiceError, chosen_office
    from motcua.workflow.registry import post_refusal

    try:
        office = chosen_office(spec, code)
    except OfficeChoiceError:
        return None  # not chosen yet, or not a performer: the office's own error says so
    return post_refusal(spec, office, current_app.config, lang)
