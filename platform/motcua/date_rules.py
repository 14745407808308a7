"""Relative date rules: `x-date` on a date field of a spec (docs/specs.md, "Relative dates").

    birth_date:
      type: string
      format: date
      x-date:
        max: today-18y          # at least 18 years before the filing date
        message: {vi: "Bên nữ phải từ đủ 18 tuổi trở lên", en: "The woman must be at least 18"}
    registered_on:
      type: string
      format: date
      x-date: {min: child.birth_date, max: child.birth_date+60d}   # within 60 days of birth

A bound is `today` (the filing date, Vietnam time) or the dotted path of another date
answer, optionally shifted by whole years (`y`), months (`m`) or days (`d`): `today-18y`,
`child.birth_date+60d`. `min` and `max` are inclusive. The server checks them when the
answers are validated (a missing or invalid date is the schema's to report); the published
schema carries `x-date` as written, plus `formatMinimum` / `formatMaximum` resolved for the
serving day when the bound is `today`-based; the browser's date input gets `min` / `max`.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from motcua.spec.words import say

BOUND = re.compile(r"^\s*(today|[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*((?:[+-]\s*[0-9]{1,4}\s*[ymd]\s*)*)$")
SHIFT = re.compile(r"([+-])\s*([0-9]{1,4})\s*([ymd])")
KEYS = ("min", "max", "message")


@dataclass(frozen=True)
class Bound:
    base: str  # "today" or a dotted answer path
    years: int = 0
    months: int = 0
    days: int = 0

    @property
    def on_today(self) -> bool:
        return self.base == "today"

    def resolve(self, today: date, answers: Mapping[str, Any]) -> date | None:
        if self.on_today:
            start = today
        else:
            value: Any = answers
            for part in self.base.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            start = _as_date(value)
            if start is None:
                return None
        return shift(start, self.years, self.months, self.days)


def parse_bound(text: Any) -> Bound:
    """`today-18y` -> Bound("today", years=-18); ValueError with a plain sentence otherwise."""
    match = BOUND.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(say("`{text}` không phải giới hạn ngày: hãy viết `today` hoặc đường dẫn một trường, có thể cộng trừ thêm, "
                             "ví dụ `today-18y`, `child.birth_date+60d`", text=text))
    amounts = {"y": 0, "m": 0, "d": 0}
    for sign, n, unit in SHIFT.findall(match.group(2)):
        amounts[unit] += int(n) * (-1 if sign == "-" else 1)
    return Bound(match.group(1), amounts["y"], amounts["m"], amounts["d"])


def parse_rule(rule: Any) -> dict[str, Bound]:
    """The bounds of an `x-date` value; ValueError naming what is wrong."""
    if not isinstance(rule, Mapping) or not rule:
        raise ValueError(say("`x-date` nhận `min` và/hoặc `max` (và có thể thêm `message: {{vi, en}}`)"))
    unknown = set(rule) - set(KEYS)
    if unknown:
        raise ValueError(say("`x-date` không có khóa {keys}: hãy dùng min, max, message", keys=', '.join(sorted(map(str, unknown)))))
    bounds = {k: parse_bound(rule[k]) for k in ("min", "max") if k in rule}
    if not bounds:
        raise ValueError(say("`x-date` cần `min` hoặc `max`"))
    return bounds


def shift(start: date, years: int = 0, months: int = 0, days: int = 0) -> date:
    """Calendar arithmetic: 29 Feb + 1 year is 28 Feb; then days are added."""
    from datetime import timedelta

    month_index = start.year * 12 + (start.month - 1) + years * 12 + months
    year, month = divmod(month_index, 12)
    year = min(max(year, 1), 9999)
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    try:
        return date(year, month + 1, day) + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def _as_date(value: Any) -> date | None:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def published_bounds(rule: Any, today: date) -> dict[str, str]:
    """`formatMinimum` / `formatMaximum` of the today-based bounds, as ISO dates."""
    try:
        bounds = parse_rule(rule)
    except ValueError:
        return {}
    out = {}
    for key, keyword in (("min", "formatMinimum"), ("max", "formatMaximum")):
        bound = bounds.get(key)
        if bound is not None and bound.on_today:
            out[keyword] = bound.resolve(today, {}).isoformat()  # type: ignore[union-attr]
    return out


@dataclass(frozen=True)
class Breach:
    which: str  # "min" or "max"
    limit: date
    message: dict[str, str] | None


def breach(rule: Any, value: Any, today: date, answers: Mapping[str, Any]) -> Breach | None:
    """The bound `value` breaks, if any (an unparsable rule or value breaks nothing here:
    lint refuses the first, the `format: date` check reports the second)."""
    given = _as_date(value)
    if given is None:
        return None
    try:
        bounds = parse_rule(rule)
    except ValueError:
        return None
    message = rule.get("message") if isinstance(rule.get("message"), dict) else None
    low = bounds["min"].resolve(today, answers) if "min" in bounds else None
    high = bounds["max"].resolve(today, answers) if "max" in bounds else None
    if low is not None and given < low:
        return Breach("min", low, message)
    if high is not None and given > high:
        return Breach("max", high, message)
    return None
