"""The dossier register (sổ theo dõi hồ sơ, form 06 of Circular 01/2018/TT-VPCP): one row
per dossier an agency received in a period, with when it went to processing, came back
decided and was returned, as a PDF and a CSV for staff.

Which dossiers are in it follows the statistics' own rule (`motcua.stats.figures.course`):
a dossier is received on its filing day (Vietnam time) unless it was refused at intake
(status 3: never received), so the register of a month has exactly the "received" count of
that month's statistics, channel by channel, and each row's early / on time / late is
`figures.timing`, the rule the on-time rate counts with. Dossiers are selected on the
store's summaries; only the rows' dossiers are read in full.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import astuple, dataclass, fields

from motcua import csv_safe
from motcua.agencies import office_name
from motcua.dossier import STATUS_LABELS, Dossier, Status
from motcua.i18n import N_, format_date, t
from motcua.spec.model import ProcedureSpec, localize
from motcua.stats.figures import course, timing
from motcua.stats.period import Period
from motcua.store.base import Store
from motcua.store.summary import DossierSummary
from motcua.units import address_text
from motcua.workdays import VN_TZ

#: The columns of form 06, in order (CSV header and PDF table).
COLUMNS = (
    N_("STT"), N_("Mã hồ sơ"), N_("Tên thủ tục hành chính"), N_("Số lượng hồ sơ (bộ)"),
    N_("Tên cá nhân, tổ chức"), N_("Địa chỉ, số điện thoại"), N_("Cơ quan chủ trì giải quyết"),
    N_("Nhận hồ sơ"), N_("Hẹn trả kết quả"), N_("Chuyển hồ sơ đến cơ quan giải quyết"),
    N_("Nhận kết quả từ cơ quan giải quyết"), N_("Trả kết quả cho cá nhân, tổ chức"), N_("Kết quả"), N_("Ghi chú"),
)
TIMING = {"early": N_("Trước hạn"), "on_time": N_("Đúng hạn"), "late": N_("Quá hạn")}
CHANNEL = {"online": N_("Trực tuyến"), "desk": N_("Trực tiếp"), "postal": N_("Qua bưu chính công ích")}


@dataclass
class RegisterRow:
    """One line of the register, every cell as printed text in the reader's language."""

    number: int
    code: str
    procedure: str
    copies: str
    applicant: str
    reach: str
    agency: str
    received: str
    due: str
    sent: str
    decided: str
    returned: str
    result: str
    note: str


def _moment(dossier: Dossier, kinds: tuple[str, ...], lang: str) -> str:
    """When the first event of `kinds` happened, as printed (Vietnam time), or ""."""
    event = next((e for e in dossier.events if e.kind in kinds), None)
    if event is None:
        return ""
    local = event.at.astimezone(VN_TZ)
    return f"{local:%H:%M} {format_date(event.at, lang)}"


def _reach(dossier: Dossier, lang: str) -> str:
    data = dossier.data if isinstance(dossier.data, dict) else {}
    requester = data.get("requester") if isinstance(data.get("requester"), dict) else {}
    residence = requester.get("residence") if isinstance(requester.get("residence"), dict) else None
    address = address_text(residence, lang) if residence else ""
    return "; ".join(filter(None, [address, dossier.contact.phone or "", dossier.contact.email or ""]))


def in_register(summary: DossierSummary, period: Period, agencies: frozenset[str]) -> bool:
    """Received by one of `agencies` within `period`, by the statistics' rule."""
    received = course(summary)[0]
    return summary.agency_code in agencies and received is not None and received in period


def row_of(number: int, dossier: Dossier, summary: DossierSummary, spec: ProcedureSpec | None, lang: str) -> RegisterRow:
    """The register's line for one dossier."""
    _received, settled, withdrawn, _refused = course(summary)
    status = Status(dossier.status)
    decision = next((e.data.get("decision") for e in dossier.events if e.kind == "decided"), None)
    if decision == "rejected":
        result = t("Từ chối giải quyết", lang)
    elif decision == "approved":
        result = t("Có kết quả giải quyết", lang)
    else:
        result = STATUS_LABELS[status]["en" if lang == "en" else "vi"]
    note = [t(CHANNEL.get(dossier.channel, dossier.channel), lang)]
    if settled is not None:
        note.append(t(TIMING[timing(settled, summary.due_date)], lang))
    elif withdrawn is not None:
        note.append(t("Rút hồ sơ ngày {date}", lang, date=format_date(withdrawn, lang)))
    return RegisterRow(
        number=number,
        code=dossier.code,
        procedure=localize(spec.name, lang) if spec else dossier.procedure_code,
        copies="1",
        applicant=dossier.contact.name,
        reach=_reach(dossier, lang),
        agency=office_name(dossier.agency_code, spec, lang),
        received=_moment(dossier, ("filed",), lang) or f"{dossier.filed_at.astimezone(VN_TZ):%H:%M} {format_date(dossier.filed_at, lang)}",
        due=format_date(dossier.due_date, lang) if dossier.due_date else "",
        sent=_moment(dossier, ("processing_started",), lang),
        decided=_moment(dossier, ("decided",), lang),
        returned=_moment(dossier, ("returned",), lang),
        result=result,
        note="; ".join(note),
    )


def register_rows(store: Store, spec_for: Callable[[Dossier], ProcedureSpec | None], period: Period,
                  agencies: Iterable[str], lang: str = "vi") -> list[RegisterRow]:
    """The register of `agencies` for `period`, in order of receipt."""
    wanted = frozenset(agencies)
    chosen = sorted((s for s in store.dossiers.summaries() if in_register(s, period, wanted)),
                    key=lambda s: (s.filed_at, s.code))
    rows: list[RegisterRow] = []
    for summary in chosen:
        dossier = store.dossiers.get(summary.code)
        if dossier is not None:
            rows.append(row_of(len(rows) + 1, dossier, summary, spec_for(dossier), lang))
    return rows


def register_csv(rows: list[RegisterRow], lang: str = "vi") -> bytes:
    """The register as CSV (UTF-8 with a BOM, so a spreadsheet opens the Vietnamese right)."""
    out = io.StringIO()
    writer = csv_safe.writer(out)
    writer.writerow([t(c, lang) for c in COLUMNS])
    for row in rows:
        writer.writerow(astuple(row))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def headers(lang: str) -> list[str]:
    return [t(c, lang) for c in COLUMNS]


assert len(COLUMNS) == len(fields(RegisterRow))  # one header per cell
