"""One overdue rule, and a clock that counts calendar days for a calendar-day procedure.

`lifecycle.overdue` is the rule on plain values; the engine (a dossier), the staff queue (a
store summary) and the statistics (summaries) all call it. A procedure whose limit the law
writes in calendar days (judicial record 2.000488, construction permit 1.009994) records
`calendar_days` on its dossiers at filing: a pause then moves the due date by every day
paused (a due date on a day off moving to the next working day) and lateness counts every
day; working-day dossiers keep their working days and their event keys.

Dates in October 2025 (no holiday): Wed 1, Fri 3, Mon 6, Wed 8, Fri 10, Sat 11, Mon 13.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from motcua.dossier import Contact, Dossier, Event, Status
from motcua.stats import period as periods
from motcua.stats.report import compute
from motcua.store.summary import ROW_FORMAT, from_row, summarize, summary_row
from motcua.web.backoffice import summary_overdue
from motcua.workdays import VN_TZ, Calendar
from motcua.workflow import lifecycle
from tests.test_backoffice_queue import HISTORIES

CAL = Calendar.load()
FILED = datetime(2025, 9, 29, 9, tzinfo=VN_TZ)  # a Monday


def on(day: date) -> datetime:
    return datetime.combine(day, time(10), VN_TZ)


def build(calendar_days: bool, due: date | None, moves: list[tuple[date, str]] = (), code: str = "X-1") -> Dossier:
    d = Dossier(code=code, procedure_code="p", spec_version="1", agency_code="A", channel="online",
                contact=Contact(name="Lê Thị Hoa"), filed_at=FILED, due_date=due, calendar_days=calendar_days)
    d.record(Event(at=FILED, actor="citizen", kind="filed", status=Status.NEW))
    for day, action in moves:
        lifecycle.move(d, action, actor="staff:lan", calendar=CAL, at=on(day))
    return d


OCT = lambda day: date(2025, 10, day)  # noqa: E731


def test_a_pause_of_a_calendar_day_procedure_moves_the_due_date_by_every_day():
    d = build(True, OCT(8), [(OCT(1), "receive"), (OCT(3), "request_supplement"), (OCT(6), "supply")])
    resumed = d.events[-1]
    assert resumed.kind == "clock_resumed"
    # Fri 3 -> Mon 6 is 3 days; 8 + 3 = Sat 11, a day off: the limit ends on Mon 13.
    assert resumed.data == {"paused_days": 3, "calendar_days": True, "old_due_date": "2025-10-08", "due_date": "2025-10-13"}
    assert d.due_date == OCT(13)
    assert resumed.note == "Thời gian tạm dừng 3 ngày không tính vào thời hạn giải quyết."
    assert resumed.message["text"]["en"] == "The {days} days paused do not count towards the time limit."


def test_the_same_pause_of_a_working_day_procedure_counts_working_days_as_before():
    d = build(False, OCT(8), [(OCT(1), "receive"), (OCT(3), "request_supplement"), (OCT(6), "supply")])
    resumed = d.events[-1]
    assert resumed.data == {"paused_working_days": 1, "old_due_date": "2025-10-08", "due_date": "2025-10-09"}
    assert resumed.note == "Thời gian tạm dừng 1 ngày làm việc không tính vào thời hạn giải quyết."


def test_a_running_pause_judged_overdue_in_the_procedures_days_on_dossier_and_summary():
    # Paused on Fri 10, after the due date (Wed 8); judged on Mon 13.
    moves = [(OCT(1), "receive"), (OCT(10), "request_supplement")]
    by_day, by_work = build(True, OCT(8), moves), build(False, OCT(8), moves)
    today = OCT(13)
    # calendar days: 3 paused -> Sat 11 -> Mon 13, not yet past; working days: 1 -> Thu 9, past.
    assert lifecycle.effective_due_date(by_day, today, CAL) == OCT(13)
    assert lifecycle.effective_due_date(by_work, today, CAL) == OCT(9)
    assert not lifecycle.is_overdue(by_day, today, CAL) and lifecycle.is_overdue(by_work, today, CAL)
    assert not summary_overdue(summarize(by_day), today, CAL) and summary_overdue(summarize(by_work), today, CAL)
    # the rule itself, on the values
    assert lifecycle.overdue(OCT(8), Status.SUPPLEMENT_REQUESTED, None, OCT(10), today, CAL, True) is False
    assert lifecycle.overdue(OCT(8), Status.SUPPLEMENT_REQUESTED, None, OCT(10), today, CAL, False) is True
    assert lifecycle.overdue(OCT(8), Status.PROCESSING, None, OCT(10), today, CAL, True) is True  # not paused
    assert lifecycle.overdue(OCT(8), Status.PROCESSING, OCT(12), today, today, CAL) is False  # settled


def test_lateness_of_a_calendar_day_procedure_counts_every_day():
    moves = [(OCT(1), "receive"), (OCT(2), "process"), (OCT(13), "approve")]
    by_day, by_work = build(True, OCT(10), moves), build(False, OCT(10), moves)
    assert {k: by_day.events[-1].data[k] for k in ("late_days", "calendar_days")} == {"late_days": 3, "calendar_days": True}
    assert "late_working_days" not in by_day.events[-1].data
    assert by_work.events[-1].data["late_working_days"] == 1 and "late_days" not in by_work.events[-1].data


@pytest.mark.parametrize("name", sorted(HISTORIES))
def test_summary_and_dossier_agree_for_calendar_day_dossiers_every_day(name):
    d = build(True, date(2025, 10, 10), [(FILED.date() + timedelta(days=o), a) for o, a in HISTORIES[name]])
    s = summarize(d)
    assert s.calendar_days is True
    for offset in range(60):
        today = FILED.date() + timedelta(days=offset)
        assert summary_overdue(s, today, CAL) == lifecycle.is_overdue(d, today, CAL), (name, today)


def test_the_summary_row_carries_calendar_days_and_an_old_dossier_loads_as_working_days():
    assert ROW_FORMAT >= 3  # a row of the old layout (no calendar_days) is rebuilt, not misread
    d = build(True, OCT(10))
    assert from_row(summary_row(d.model_dump(mode="json"))).calendar_days is True
    old = d.model_dump(mode="json")
    del old["calendar_days"]
    assert Dossier.model_validate(old).calendar_days is False
    assert from_row(summary_row(old)).calendar_days is False


def test_filing_records_whether_the_limit_counts_calendar_days(app):
    from motcua.filing import add_dossier
    from motcua.services import services

    with app.test_request_context():
        judicial = services().catalogue.get("2.000488")
        birth = services().catalogue.get("1.001193")
        assert judicial.info.processing_time.calendar_days and not birth.info.processing_time.calendar_days
        filed = add_dossier(judicial, {}, [], "online", None, "citizen")
        assert filed.calendar_days is True
        assert services().store.dossiers.get(filed.code).calendar_days is True
        assert add_dossier(birth, {}, [], "online", None, "citizen", agency="000.06.50.H15").calendar_days is False


def test_statistics_judge_overdue_by_the_same_rule():
    """Before: statistics called any paused dossier "not overdue", while the engine and the
    queue call one paused after its due date overdue. Now all three agree."""
    today = OCT(13)
    dossiers = [
        build(False, OCT(8), [(OCT(1), "receive"), (OCT(3), "request_supplement")], code="A-1"),  # paused in time
        build(False, OCT(8), [(OCT(1), "receive"), (OCT(10), "request_supplement")], code="A-2"),  # paused late
        build(True, OCT(8), [(OCT(1), "receive"), (OCT(10), "request_supplement")], code="A-3"),  # calendar days
        build(False, OCT(8), [(OCT(1), "receive"), (OCT(2), "process")], code="A-4"),  # running, late
        build(False, OCT(20), [(OCT(1), "receive")], code="A-5"),  # not due yet
    ]
    expected = [d.code for d in dossiers if lifecycle.is_overdue(d, today, CAL)]
    assert expected == ["A-2", "A-4"]
    report = compute(dossiers, period=periods.quarter(2025, 4), today=today, calendar=CAL)
    assert sorted(r.code for r in report.overdue) == expected
    assert report.totals.open_overdue == len(expected)
    row = next(r for r in report.overdue if r.code == "A-2")
    assert row.due == OCT(9) and row.days_overdue == 4  # the due date the pause moved it to
    queue = [d.code for d in dossiers if summary_overdue(summarize(d), today, CAL)]
    assert queue == expected
