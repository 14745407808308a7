"""An apology during a pause of the clock (supplement requested, processing stopped) is
judged against the due date the pause has moved on, not the one printed before it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fixtures.workflow_kit import DESK, LEADER, file_dossier, make_spec
from motcua.dossier import Status
from motcua.workflow import ActionNotAllowed, lifecycle


def test_an_apology_in_a_pause_uses_the_due_date_moved_by_the_pause(app) -> None:
    engine = app.extensions["motcua"].engine
    store = app.extensions["motcua"].store
    cal = engine.calendar
    today = lifecycle.vn_today()
    # due yesterday, but the clock has been stopped for the last four weeks
    code = file_dossier(app, make_spec(["review"]), due=today - timedelta(days=1))
    engine.perform(code, "receive", DESK)
    engine.perform(code, "request_supplement", DESK, reason="Thiếu giấy tờ", missing="Giấy chứng sinh")
    store.dossiers.update(code, lambda d: d.steps["_engine"].update(paused_since=(today - timedelta(days=28)).isoformat()))
    d = store.dossiers.get(code)
    assert d.status == Status.SUPPLEMENT_REQUESTED
    moved = lifecycle.effective_due_date(d, today, cal)
    assert moved > today > d.due_date

    assert "apologize" in [a.name for a in engine.actions(d, LEADER)]
    between = d.due_date + timedelta(days=1)
    while not cal.is_working_day(between):
        between += timedelta(days=1)
    assert between <= moved
    with pytest.raises(ActionNotAllowed, match="sau ngày hẹn"):
        engine.perform(code, "apologize", LEADER, reason="Cần xác minh", new_due_date=between.isoformat())
    new_date = cal.add_working_days(moved, 3)
    d = engine.perform(code, "apologize", LEADER, reason="Cần xác minh thêm", new_due_date=new_date.isoformat())
    assert d.due_date == new_date and d.events[-1].data["old_due_date"] == moved.isoformat()
    # the four weeks already in the new date are not added to it again when the clock resumes
    d = engine.citizen_supplement(code, "Đã bổ sung giấy chứng sinh", [])
    assert d.status == Status.RECEIVED and d.due_date == new_date
