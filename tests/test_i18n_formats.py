"""Money and dates through Babel, one path for code, templates and documents: Vietnamese
`16.000 ₫` and `30/11/2026`, English `VND 16,000` and `Nov 30, 2026`, always Vietnam time."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from motcua import i18n
from motcua_renderers.jinja import environment

#: 17:05 UTC on 30 November is 00:05 on 1 December in Vietnam (UTC+7).
LATE_EVENING_UTC = datetime(2026, 11, 30, 17, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize(("amount", "vi", "en"), [
    (16000, "16.000 ₫", "VND 16,000"),
    (1250000, "1.250.000 ₫", "VND 1,250,000"),
    (0, "0 ₫", "VND 0"),
    (None, "0 ₫", "VND 0"),
])
def test_money_in_both_languages(amount, vi, en):
    assert i18n.money(amount, "vi") == vi
    assert i18n.money(amount, "en") == en


def test_money_defaults_to_the_readers_language(app):
    assert i18n.money(50000) == "50.000 ₫"  # no request: Vietnamese, as recorded notes are
    with app.test_request_context("/?lang=en"):
        from flask import g

        g.lang = i18n.choose_lang()
        assert i18n.money(50000) == "VND 50,000"
        assert i18n.format_date(date(2026, 1, 2)) == "Jan 2, 2026"


def test_dates_in_both_languages():
    assert i18n.format_date(date(2026, 1, 2), "vi") == "02/01/2026"
    assert i18n.format_date(date(2026, 1, 2), "en") == "Jan 2, 2026"
    assert i18n.format_date("2025-05-20", "vi") == "20/05/2025"  # as answers and JSON keep them
    assert i18n.format_date("not a date", "vi") == "not a date"
    assert i18n.format_date(None, "vi") == "" and i18n.format_datetime(None, "en") == ""


def test_moments_are_written_in_vietnam_time():
    assert i18n.format_date(LATE_EVENING_UTC, "vi") == "01/12/2026"  # already the next day in Hà Nội
    assert i18n.format_datetime(LATE_EVENING_UTC, "vi") == "00:05 01/12/2026"
    assert i18n.format_datetime(LATE_EVENING_UTC, "en") == "Dec 1, 2026, 12:05 AM"
    assert i18n.format_datetime(LATE_EVENING_UTC.isoformat(), "en") == "Dec 1, 2026, 12:05 AM"  # an outbox time
    assert i18n.format_date(LATE_EVENING_UTC.isoformat(), "vi") == "01/12/2026"
    assert i18n.format_time(LATE_EVENING_UTC + timedelta(hours=14), "en") == "2:05 PM"
    naive_utc = datetime(2026, 11, 30, 17, 5)  # the store's older records
    assert i18n.format_datetime(naive_utc, "vi") == "00:05 01/12/2026"
    assert all(ord(c) < 0x2000 for c in i18n.format_datetime(LATE_EVENING_UTC, "en"))  # no U+202F for PDF fonts


def test_templates_use_the_same_filters(app):
    source = "{{ 16000|money(lang) }} | {{ day|date(lang) }} | {{ at|datetime(lang) }}"
    for env in (environment(), app.jinja_env):
        template = env.from_string(source)
        assert template.render(lang="vi", day=date(2026, 1, 2), at=LATE_EVENING_UTC) == "16.000 ₫ | 02/01/2026 | 00:05 01/12/2026"
        assert template.render(lang="en", day=date(2026, 1, 2), at=LATE_EVENING_UTC) == (
            "VND 16,000 | Jan 2, 2026 | Dec 1, 2026, 12:05 AM")


def test_no_hand_written_date_or_money_format_is_left():
    """Dates and amounts for readers go through motcua.i18n: no day-first strftime pattern, no
    format_vnd (machine formats stay: the CLI's ISO-like UTC times, VNPay's yyyyMMddHHmmss)."""
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    # wire formats of outside parties, not text for readers: Viettel Post's ORDER_STATUSDATE
    # is "dd/MM/yyyy HH:mm:ss" in its webhook, which its simulator must speak
    wire_formats = {"plugins/simulators/viettelpost.py"}
    offenders = []
    for root in ("platform", "renderers", "plugins"):
        for path in (repo / root).rglob("*"):
            if path.suffix not in {".py", ".html", ".txt"} or "translations" in path.parts:
                continue
            if path.relative_to(repo).as_posix() in wire_formats:
                continue
            text = path.read_text(encoding="utf-8")
            for needle in ("%d/%m", "%m/%Y", "%H:%M %d", "%H:%M, %d", "format_vnd", "f\"{amount:,}"):
                if needle in text:
                    offenders.append(f"{path.relative_to(repo)}: {needle}")
    assert offenders == []
