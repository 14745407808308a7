"""The report as named tables: rows for CSV downloads and for the terminal.

CSV files are UTF-8 with a byte-order mark, which is what makes Excel read Vietnamese
diacritics correctly; numbers in them stay machine-readable (47.04, not 47,04%) so they can
be summed, while the page and the terminal format them the Vietnamese way.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from motcua import csv_safe
from motcua.dossier import STATUS_LABELS
from motcua.i18n import N_
from motcua.i18n import gettext as _
from motcua.spec.model import localize
from motcua.stats.figures import FIGURES
from motcua.stats.numbers import fmt_decimal, fmt_int, fmt_percent, percent
from motcua.offices import TIER_LABELS
from motcua.stats.report import CHANNEL_LABELS, Report, Scope, Tally

#: Table name (used in URLs: /thong-ke/<name>.csv) -> title.
TABLES = {
    "tong-hop": N_("Tổng hợp"),
    "muc-do": N_("Thủ tục theo mức độ"),
    "kenh-nop": N_("Hồ sơ theo kênh tiếp nhận"),
    "thu-tuc": N_("Theo thủ tục"),
    "linh-vuc": N_("Theo lĩnh vực"),
    "co-quan": N_("Theo cơ quan"),
    "cap": N_("Theo cấp"),
    "xa-truc-tuyen": N_("Tỷ lệ trực tuyến theo quý của từng xã"),
    "danh-gia": N_("Mức độ hài lòng"),
    "qua-han": N_("Hồ sơ quá hạn"),
    "dinh-nghia": N_("Định nghĩa các chỉ tiêu"),
}
STAFF_ONLY = {"qua-han"}


def _n(value: Decimal | None) -> Any:
    return "" if value is None else value


def _label(key: str, lang: str) -> str:
    return localize(FIGURES[key].label, lang)


#: The headline figures, in the order of the one-stop report (what came in, what came out).
SUMMARY_KEYS = (
    "carried_over", "received", "online", "desk", "postal", "online_share", "settled", "early", "on_time", "late",
    "on_time_rate", "withdrawn", "stopped", "open", "open_overdue", "refused_at_intake",
)
#: Per procedure and per sector: the counts, then the two rates.
TALLY_KEYS = (
    "carried_over", "received", "online", "desk", "postal", "settled", "early", "on_time", "late", "withdrawn",
    "stopped", "open", "open_overdue", "refused_at_intake",
)
RATE_KEYS = ("online_share", "on_time_rate")


def summary(report: Report, lang: str = "vi") -> list[tuple[str, Any, str]]:
    """(indicator, raw value, value formatted for people) for the headline figures."""
    t, s = report.totals, report.satisfaction
    rows: list[tuple[str, Any, str]] = [(_("Tổng số thủ tục"), report.procedures_total, fmt_int(report.procedures_total, lang))]
    for r in report.levels:
        rows.append((localize(r.label, lang), r.count, fmt_int(r.count, lang)))
        rows.append((localize(r.label, lang) + " (%)", r.share, fmt_percent(r.share, lang)))
    for key in SUMMARY_KEYS:
        value = getattr(t, key)
        if key in RATE_KEYS:
            rows.append((_label(key, lang), _n(value), fmt_percent(value, lang)))
        else:
            rows.append((_label(key, lang), value, fmt_int(value, lang)))
        if key == "online_share":
            rows.append((_("Chỉ tiêu hồ sơ trực tuyến"), report.online_target, fmt_percent(report.online_target, lang)))
    rows += [
        (_label("ratings", lang), s.count, fmt_int(s.count, lang)),
        (_label("satisfaction_average", lang), _n(s.average), fmt_decimal(s.average, lang)),
        (_label("satisfied_share", lang), _n(s.satisfied_share), fmt_percent(s.satisfied_share, lang)),
    ]
    return rows


def _tally_cells(t: Tally) -> list[Any]:
    return [getattr(t, key) for key in TALLY_KEYS] + [_n(getattr(t, key)) for key in RATE_KEYS]


def _tally_header(lang: str) -> list[str]:
    return [_label(key, lang) for key in TALLY_KEYS] + [_label(key, lang) + " (%)" for key in RATE_KEYS]


def _scope_header(lang: str, *, agency: bool) -> list[str]:
    first = [_("Mã cơ quan"), _("Tên cơ quan"), _("Cấp")] if agency else [_("Cấp")]
    levels = [text for n in range(1, 5) for text in (_("Mức độ {n} (số thủ tục)", n=n), _("Mức độ {n} (%)", n=n))]
    return first + [_("Tổng số thủ tục")] + levels + _tally_header(lang) + [
        _label("ratings", lang), _label("satisfaction_average", lang), _label("satisfied_share", lang) + " (%)",
    ]


def _scope_cells(r: Scope, lang: str, *, agency: bool) -> list[Any]:
    first: list[Any] = [r.key, localize(r.name, lang), localize(TIER_LABELS[r.tier], lang)] if agency else [
        localize(r.name, lang)]
    s = r.satisfaction
    return first + [r.procedures_total] + [v for lv in r.levels for v in (lv.count, lv.share)] + _tally_cells(r.tally) + [
        s.count, _n(s.average), _n(s.satisfied_share)]


def table(report: Report, name: str, lang: str = "vi") -> tuple[list[str], list[list[Any]]]:
    """Header and rows of one named table, with raw numbers."""
    if name == "tong-hop":
        return [_("Chỉ tiêu"), _("Giá trị")], [[label, raw] for label, raw, _f in summary(report, lang)]
    if name == "muc-do":
        return [_("Mức độ"), _("Số thủ tục"), _("Tỷ lệ (%)")], [
            [localize(r.label, lang), r.count, r.share] for r in report.levels
        ]
    if name == "kenh-nop":
        shares = report.channel_shares
        return [_("Kênh tiếp nhận"), _("Số hồ sơ"), _("Tỷ lệ (%)")], [
            [localize(CHANNEL_LABELS[c], lang), n, _n(shares[c])] for c, n in report.channels.items()
        ]
    if name == "thu-tuc":
        return [_("Mã thủ tục"), _("Tên thủ tục"), _("Lĩnh vực")] + _tally_header(lang), [
            [r.code, localize(r.name, lang), localize(r.sector, lang)] + _tally_cells(r.tally) for r in report.by_procedure
        ]
    if name == "linh-vuc":
        return [_("Lĩnh vực")] + _tally_header(lang), [
            [localize(r.sector, lang)] + _tally_cells(r.tally) for r in report.by_sector
        ]
    if name in ("co-quan", "cap"):
        rows = report.by_agency if name == "co-quan" else report.by_tier
        return _scope_header(lang, agency=name == "co-quan"), [_scope_cells(r, lang, agency=name == "co-quan") for r in rows]
    if name == "xa-truc-tuyen":
        quarters = [(q.year, q.quarter) for q in report.commune_online[0].quarters] if report.commune_online else []
        header = [_("Mã cơ quan"), _("Tên cơ quan")]
        for y, q in quarters:
            header += [_("Quý {q}/{y} tiếp nhận", q=q, y=y), _("Quý {q}/{y} trực tuyến", q=q, y=y),
                       _("Quý {q}/{y} tỷ lệ (%)", q=q, y=y)]
        header += [_("Quý thấp nhất (%)"), _("Đạt chỉ tiêu {p}", p=fmt_percent(report.online_target, lang))]
        out = []
        for r in report.commune_online:
            cells: list[Any] = [r.code, localize(r.name, lang)]
            for q in r.quarters:
                cells += [q.received, q.online, _n(q.share)]
            met = r.met(report.online_target)
            cells += [_n(r.worst), "" if met is None else (_("Đạt") if met else _("Chưa đạt"))]
            out.append(cells)
        return header, out
    if name == "danh-gia":
        s = report.satisfaction
        return [_("Điểm"), _("Số lượt"), _("Tỷ lệ (%)")], [
            [score, n, _n(percent(n, s.count))] for score, n in sorted(s.distribution.items(), reverse=True)
        ]
    if name == "qua-han":
        return [
            _("Mã hồ sơ"), _("Mã thủ tục"), _("Cơ quan"), _("Kênh"), _("Ngày nộp"), _("Hạn xử lý"),
            _("Số ngày quá hạn"), _("Trạng thái"),
        ], [
            [r.code, r.procedure_code, r.agency_code, r.channel, r.filed.isoformat(), r.due.isoformat(),
             r.days_overdue, localize(STATUS_LABELS[r.status], lang)]
            for r in report.overdue
        ]
    if name == "dinh-nghia":
        return [_("Chỉ tiêu"), _("Mã"), _("Định nghĩa"), _("Nguồn")], [
            [localize(f.label, lang), f.key, localize(f.definition, lang), localize(f.source, lang)] for f in FIGURES.values()
        ]
    raise KeyError(name)


def to_csv(header: list[str], rows: list[list[Any]], *, bom: bool = True) -> str:
    out = io.StringIO()
    if bom:
        out.write("\ufeff")
    writer = csv_safe.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def to_text(header: list[str], rows: list[list[Any]], lang: str = "vi") -> str:
    """A plain aligned table for the terminal, numbers formatted for people."""

    def cell(value: Any) -> str:
        if isinstance(value, bool) or value is None:
            return "" if value is None else str(value)
        if isinstance(value, int):
            return fmt_int(value, lang)
        if isinstance(value, Decimal):
            return fmt_decimal(value, lang)
        return str(value)

    grid = [header] + [[cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in grid) for i in range(len(header))]
    lines = []
    for n, row in enumerate(grid):
        lines.append("  ".join(v.rjust(w) if n and _numeric(rows[n - 1][i]) else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths))).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)
