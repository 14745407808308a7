"""The lifecycle: transition table, staff actions and their refusals, the clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from fixtures.workflow_kit import DESK, LEADER, SPECIALIST, file_dossier, kinds, make_spec, staff, propose
from motcua.dossier import Event, Status
from motcua.workdays import Calendar
from motcua.workflow import ActionNotAllowed
from motcua.workflow import lifecycle

REVIEW_ONLY = [{"name": "review", "config": {"units": ["Phòng Tư pháp", "Phòng Nội vụ"]}}]


def test_transition_table_is_pure_data() -> None:
    assert lifecycle.allowed(Status.NEW, "receive")
    assert not lifecycle.allowed(Status.FINISHED, "withdraw")
    assert not lifecycle.allowed(Status.RETURNED, "approve")
    assert lifecycle.allowed(Status.SUPPLEMENT_REQUESTED, "withdraw")
    assert "Đã có kết quả" in lifecycle.not_allowed_message(Status.FINISHED, "withdraw")


def test_staff_walk_a_dossier_through_review(app) -> None:
    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec(REVIEW_ONLY))
    d = app.extensions["motcua"].store.dossiers.get(code)
    # the procedure has several performers: the desk may also send a dossier not yet received on
    assert [a.name for a in engine.actions(d, DESK)] == ["receive", "refuse", "request_supplement", "transfer_office"]
    assert [a.name for a in engine.actions(d, LEADER)] == ["apologize"]
    engine.perform(code, "receive", DESK)
    engine.perform(code, "process", DESK, transfer_to="Phòng Tư pháp")
    d = engine.perform(code, "transfer", SPECIALIST, transfer_to="Phòng Nội vụ", reason="Cần ý kiến Phòng Nội vụ")
    transferred = [e for e in d.events if e.kind == "transferred"][0]
    assert transferred.data["from"] == "Phòng Tư pháp" and transferred.data["to"] == "Phòng Nội vụ"
    assert transferred.actor == "staff:specialist"
    d = propose(engine, code)
    assert d.events[-1].data["from"] == "Phòng Nội vụ"  # the unit holding it hands the opinion on
    d = engine.perform(code, "approve", LEADER)
    assert d.status == Status.FINISHED
    d = engine.perform(code, "return_result", DESK)
    assert d.status == Status.RETURNED
    assert [e.status for e in d.events if e.status] == [Status.NEW, Status.RECEIVED, Status.PROCESSING, Status.FINISHED, Status.RETURNED]
    with app.test_request_context():
        panels = "".join(engine.staff_panels(d))
    assert "Phiếu kiểm soát" in panels and "Phòng Nội vụ" in panels


def test_not_allowed_actions_say_why_and_change_nothing(app) -> None:
    engine = app.extensions["motcua"].engine
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(REVIEW_ONLY))
    before = store.dossiers.get(code)
    with pytest.raises(ActionNotAllowed, match="Hồ sơ đang ở trạng thái “Mới đăng ký” nên không thể phê duyệt kết quả"):
        engine.perform(code, "approve", LEADER)
    with pytest.raises(ActionNotAllowed, match="dành cho: Cán bộ một cửa"):
        engine.perform(code, "receive", LEADER)
    other_agency = staff("desk", "outsider").model_copy(update={"agencies": ["000.00.99.H99"]})
    with pytest.raises(ActionNotAllowed, match="không được phân công"):
        engine.perform(code, "receive", other_agency)
    with pytest.raises(ActionNotAllowed, match="lý do") as info:
        engine.perform(code, "refuse", DESK, reason="  ")
    assert info.value.field == "reason"
    with pytest.raises(ActionNotAllowed, match="Không có thao tác"):
        engine.perform(code, "explode", DESK)
    assert store.dossiers.get(code).events == before.events


def test_refuse_records_reason(app) -> None:
    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec(REVIEW_ONLY))
    d = engine.perform(code, "refuse", DESK, reason="Không thuộc thẩm quyền của UBND xã")
    assert d.status == Status.REFUSED and d.events[-1].note == "Không thuộc thẩm quyền của UBND xã"
    with pytest.raises(ActionNotAllowed):
        engine.citizen_withdraw(code)


def test_supplement_told_once_pauses_clock_and_extends_due_date(app) -> None:
    engine = app.extensions["motcua"].engine
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(REVIEW_ONLY), due=date(2099, 1, 5))
    engine.perform(code, "receive", DESK)
    with pytest.raises(ActionNotAllowed, match="liệt kê"):
        engine.perform(code, "request_supplement", DESK, reason="Thiếu giấy tờ", missing="\n  \n")
    d = engine.perform(code, "request_supplement", DESK, reason="Thiếu giấy tờ",
                       missing="Giấy chứng sinh bản chính\nCCCD của người đi khai")
    assert d.status == Status.SUPPLEMENT_REQUESTED
    assert d.events[-1].data["missing"] == ["Giấy chứng sinh bản chính", "CCCD của người đi khai"]
    with app.test_request_context():
        citizen = "".join(engine.citizen_panels(d))
    assert "Giấy chứng sinh bản chính" in citizen
    # the pause started three working days ago (Mon 2 Dec 2024 -> Thu 5 Dec 2024)
    store.dossiers.update(code, lambda x: x.steps["_engine"].update(paused_since="2024-12-02"))
    with pytest.raises(ActionNotAllowed, match="Cần đính kèm"):
        engine.citizen_supplement(code, " ", [])
    d = engine.citizen_supplement(code, "Đã bổ sung giấy chứng sinh", [])
    assert d.status == Status.RECEIVED  # back where it was
    resumed = [e for e in d.events if e.kind == "clock_resumed"][0]
    cal = engine.calendar
    paused = cal.working_days_between(date(2024, 12, 2), lifecycle.vn_today())
    assert resumed.data["paused_working_days"] == paused
    assert d.due_date == cal.add_working_days(date(2099, 1, 5), paused)
    with pytest.raises(ActionNotAllowed, match="một lần"):
        engine.perform(code, "request_supplement", DESK, reason="Lại thiếu", missing="Ảnh")


def test_withdraw_before_decision_only(app) -> None:
    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec(REVIEW_ONLY))
    d = engine.citizen_withdraw(code, "Nộp nhầm thủ tục")
    assert d.status == Status.WITHDRAWN and d.events[-1].actor == "citizen"
    code2 = file_dossier(app, make_spec(REVIEW_ONLY))
    engine.perform(code2, "receive", DESK)
    engine.perform(code2, "process", DESK)
    propose(engine, code2)
    engine.perform(code2, "approve", LEADER)
    with pytest.raises(ActionNotAllowed, match="không thể rút hồ sơ"):
        engine.citizen_withdraw(code2)


def test_apology_moves_due_date_once(app) -> None:
    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec(REVIEW_ONLY), due=date(2099, 1, 5))
    engine.perform(code, "receive", DESK)
    with pytest.raises(ActionNotAllowed, match="sau ngày hẹn"):
        engine.perform(code, "apologize", LEADER, reason="Cần xác minh", new_due_date="2099-01-02")
    d = engine.perform(code, "apologize", LEADER, reason="Cần xác minh thêm", new_due_date="2099-01-12")
    assert d.due_date == date(2099, 1, 12)
    assert d.events[-1].kind == "apology" and d.events[-1].data["old_due_date"] == "2099-01-05"
    with pytest.raises(ActionNotAllowed, match="một lần"):
        engine.perform(code, "apologize", LEADER, reason="Lần nữa", new_due_date="2099-01-20")


def test_overdue_flag_and_lateness_recorded_when_settled(app) -> None:
    engine = app.extensions["motcua"].engine
    store = app.extensions["motcua"].store
    cal = engine.calendar
    today = lifecycle.vn_today()
    due = today - timedelta(days=10)
    while not cal.is_working_day(due):
        due -= timedelta(days=1)
    code = file_dossier(app, make_spec(REVIEW_ONLY), due=due)
    d = store.dossiers.get(code)
    assert engine.is_overdue(d, today) and not engine.is_overdue(d, due)
    engine.perform(code, "receive", DESK)
    engine.perform(code, "process", DESK)
    propose(engine, code)
    d = engine.perform(code, "approve", LEADER)
    assert d.events[-1].status == Status.FINISHED
    assert d.events[-1].data["late_working_days"] == cal.working_days_between(due, today)
    assert not engine.is_overdue(d, today)


def test_paused_dossier_is_not_overdue_while_waiting(app) -> None:
    cal = Calendar()
    from fixtures.workflow_kit import make_spec as _  # noqa: F401
    code = file_dossier(app, make_spec(REVIEW_ONLY), due=date(2024, 12, 4))
    store = app.extensions["motcua"].store
    d = store.dossiers.get(code)
    d.record(Event(actor="staff:desk", kind="supplement_requested", status=Status.SUPPLEMENT_REQUESTED))
    d.steps["_engine"]["paused_since"] = "2024-12-03"
    # paused since Tue 3 Dec: on Fri 6 Dec three working days are added, due becomes Mon 9 Dec
    assert lifecycle.effective_due_date(d, date(2024, 12, 6), cal) == date(2024, 12, 9)
    assert not lifecycle.is_overdue(d, date(2024, 12, 6), cal)


class _CountingDossiers:
    """The real repository, counting the updates that go through it."""

    def __init__(self, real) -> None:
        self.real, self.updates = real, 0

    def update(self, code, change):
        self.updates += 1
        return self.real.update(code, change)

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_the_steps_reactions_to_a_filing_are_saved_in_one_write(app) -> None:
    store = app.extensions["motcua"].store
    spec = make_spec([{"name": "payment", "config": {"mode": "online"}}, "review", "notify"])
    code = file_dossier(app, spec, start=False)
    counting = _CountingDossiers(store.dossiers)
    store.dossiers = counting
    try:
        app.extensions["motcua"].engine.on_filed(code)
    finally:
        store.dossiers = counting.real
    d = store.dossiers.get(code)
    assert counting.updates == 1
    assert kinds(d) == ["filed", "payment_requested"] and d.status == Status.PAYMENT_REQUESTED
    assert d.steps["_engine"]["dispatched"] == 2 and d.steps["_engine"]["entered"] == 0
    from motcua.workflow.outbox import outbox_for

    milestones = [m["milestone"] for m in outbox_for(app.extensions["motcua"], app.config).messages(code)]
    assert milestones == ["filed", "filed", "payment_requested", "payment_requested"]


def test_events_saved_before_a_crash_reach_the_steps_with_the_next_change(app) -> None:
    """The process died after the dossier was saved, before its steps reacted: nothing is lost."""
    from motcua.workflow.outbox import outbox_for

    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec(["review", "notify"]), start=False)  # on_filed never ran
    assert "_engine" not in app.extensions["motcua"].store.dossiers.get(code).steps
    engine.perform(code, "receive", DESK)
    assert engine.flush()
    messages = outbox_for(app.extensions["motcua"], app.config).messages(code)
    assert [(m["milestone"], m["status"]) for m in messages if m["channel"] == "sms"] == [("filed", "sent"), ("received", "sent")]
