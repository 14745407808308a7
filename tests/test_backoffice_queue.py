"""The staff queue judges overdue on summaries: the same answers as the engine on dossiers.

`summary_overdue` re-states `lifecycle.is_overdue` on a summary (due date, first settle
day, status, start of a running pause) so the queue does not read every dossier. Here both
judge dossiers moved through the real lifecycle (pauses, resumes, decisions, returns,
withdrawals) on every day of two months, with the shipped holiday calendar.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from motcua.dossier import Contact, Dossier, Event, Status
from motcua.store.summary import summarize
from motcua.web.backoffice import summary_overdue
from motcua.workdays import VN_TZ, Calendar
from motcua.workflow import lifecycle

CAL = Calendar.load()
FILED = datetime(2025, 9, 1, 9, tzinfo=VN_TZ)  # a Monday

#: name -> [(day offset from filing, action)]
HISTORIES = {
    "new": [],
    "received": [(0, "receive")],
    "processing": [(0, "receive"), (1, "process")],
    "supplement_running": [(0, "receive"), (3, "request_supplement")],
    "supplement_late_start": [(0, "receive"), (12, "request_supplement")],
    "supplement_resumed": [(0, "receive"), (3, "request_supplement"), (10, "supply")],
    "stopped_running": [(0, "receive"), (1, "process"), (6, "stop")],
    "stopped_resumed": [(0, "receive"), (1, "process"), (6, "stop"), (9, "resume")],
    "payment_running": [(0, "receive"), (2, "request_payment")],
    "finished_on_time": [(0, "receive"), (1, "process"), (5, "approve")],
    "finished_late": [(0, "receive"), (1, "process"), (20, "approve")],
    "returned": [(0, "receive"), (1, "process"), (5, "approve"), (6, "return_result")],
    "pay_after_finish": [(0, "receive"), (1, "process"), (15, "approve"), (16, "request_payment")],
    "refused": [(2, "refuse")],
    "withdrawn": [(0, "receive"), (4, "withdraw")],
}


def build(history: list[tuple[int, str]], due: date | None = date(2025, 9, 10)) -> Dossier:
    d = Dossier(
        code="X-1", procedure_code="p", spec_version="1", agency_code="A", channel="online",
        contact=Contact(name="Lê Thị Hoa"), filed_at=FILED, due_date=due,
    )
    d.record(Event(at=FILED, actor="citizen", kind="filed", status=Status.NEW))
    for offset, action in history:
        at = datetime.combine(FILED.date() + timedelta(days=offset), time(10), VN_TZ)
        lifecycle.move(d, action, actor="staff:lan", calendar=CAL, at=at)
    return d


@pytest.mark.parametrize("name", sorted(HISTORIES))
def test_summary_overdue_agrees_with_the_engine_every_day(name):
    d = build(HISTORIES[name])
    s = summarize(d)
    answers = {}
    for offset in range(0, 60):
        today = FILED.date() + timedelta(days=offset)
        expected = lifecycle.is_overdue(d, today, CAL)
        assert summary_overdue(s, today, CAL) == expected, (name, today)
        answers[today] = expected
    if name in ("new", "processing", "supplement_resumed", "stopped_resumed", "supplement_late_start"):
        assert any(answers.values())  # the comparison covers overdue days, not only "no"


def test_no_due_date_is_never_overdue():
    d = build([(0, "receive")], due=None)
    assert not summary_overdue(summarize(d), date(2026, 1, 1), CAL)
