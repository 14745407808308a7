"""The reporting period (kỳ báo cáo): a year, a quarter, a month, or any range of days.

Days are calendar days in Vietnam's time, both ends included, as in the one-stop reports.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone

from motcua.i18n import format_date
from motcua.workdays import VN_TZ


class PeriodError(ValueError):
    """The period asked for cannot be read; the message (Vietnamese) says why."""


@dataclass(frozen=True)
class Period:
    kind: str  # year | quarter | month | range
    start: date
    end: date
    year: int | None = None
    quarter: int | None = None
    month: int | None = None

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    def as_of(self, today: date) -> date:
        """The day open dossiers are counted on: the last day, or today if it runs on."""
        return min(self.end, today)

    def label(self, lang: str = "vi") -> str:
        vi = lang == "vi"
        if self.kind == "year":
            return f"Năm {self.year}" if vi else f"Year {self.year}"
        if self.kind == "quarter":
            return f"Quý {self.quarter}/{self.year}" if vi else f"Q{self.quarter} {self.year}"
        if self.kind == "month":
            return f"Tháng {self.month}/{self.year}" if vi else f"{self.year}-{self.month:02d}"
        joiner = " đến " if vi else " to "
        return ("Từ " if vi else "From ") + format_date(self.start, lang) + joiner + format_date(self.end, lang)

    def params(self) -> dict[str, str]:
        """The query parameters that name this period (for links and CSV downloads)."""
        if self.kind == "range":
            return {"from": self.start.isoformat(), "to": self.end.isoformat()}
        out = {"year": str(self.year)}
        if self.quarter:
            out["quarter"] = str(self.quarter)
        if self.month:
            out["month"] = str(self.month)
        return out

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "from": self.start.isoformat(), "to": self.end.isoformat(), "label": self.label()}


def year(y: int) -> Period:
    return Period("year", date(y, 1, 1), date(y, 12, 31), year=y)


def quarter(y: int, q: int) -> Period:
    first = 3 * (q - 1) + 1
    return Period("quarter", date(y, first, 1), date(y, first + 2, calendar.monthrange(y, first + 2)[1]), year=y, quarter=q)


def month(y: int, m: int) -> Period:
    return Period("month", date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1]), year=y, month=m)


def span(start: date, end: date) -> Period:
    if end < start:
        raise PeriodError("Ngày bắt đầu phải trước hoặc bằng ngày kết thúc.")
    return Period("range", start, end)


def vn_today() -> date:
    return datetime.now(VN_TZ).date()


def parse_day(text: str) -> date:
    """`2025-03-31` (what a date input sends) or `31/03/2025` (what people type)."""
    text = text.strip()
    try:
        if "/" in text:
            d, m, y = text.split("/")
            return date(int(y), int(m), int(d))
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"Ngày không hợp lệ: {text!r} (nhập theo dạng dd/mm/yyyy).") from None


def _int(params: Mapping[str, str], name: str, low: int, high: int, message: str) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise PeriodError(message)
    return int(raw)


def parse(params: Mapping[str, str], today: date | None = None) -> Period:
    """The period named by `year`/`quarter`/`month` or `from`/`to` (default: this year).

    `from`/`to` win when given; a missing `to` means today, a missing `from` the 1st of
    January of `to`'s year. A month wins over a quarter.
    """
    today = today or vn_today()
    start_raw, end_raw = (params.get("from") or "").strip(), (params.get("to") or "").strip()
    if start_raw or end_raw:
        end = parse_day(end_raw) if end_raw else today
        start = parse_day(start_raw) if start_raw else date(end.year, 1, 1)
        return span(start, end)
    y = _int(params, "year", 1990, 2100, "Năm không hợp lệ (1990–2100).") or today.year
    m = _int(params, "month", 1, 12, "Tháng phải từ 1 đến 12.")
    if m:
        return month(y, m)
    q = _int(params, "quarter", 1, 4, "Quý phải từ 1 đến 4.")
    if q:
        return quarter(y, q)
    return year(y)


def day_in_vn(moment: datetime) -> date:
    """The calendar day in Vietnam of an instant (naive instants are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(VN_TZ).date()


__all__ = ["Period", "PeriodError", "parse", "year", "quarter", "month", "span", "vn_today", "day_in_vn"]
