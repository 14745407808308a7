"""The dossier lifecycle of the one-stop mechanism, as data and pure functions.

filed (1) -> received (2) | refused (3) | supplement requested (5)
received -> processing (4) [opinions stage by stage, rework loops: motcua.processing] -> decided: finished (9) -> returned (10); withdrawn (7) before a
decision; payment requested (6), supplement requested (5) and stopped (8) pause the clock.
Which action may happen in which status is `TRANSITIONS`; `allowed()` is the only test.
The clock functions work on a dossier in memory and only ever append events.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from motcua.dossier import PAUSING, STATUS_LABELS, Dossier, Event, Status
from motcua.workdays import VN_TZ, Calendar
from motcua.workflow.actions import ActionNotAllowed
from motcua.workflow.notes import message

S = Status
OPEN_BEFORE_DECISION = frozenset(
    {S.NEW, S.RECEIVED, S.PROCESSING, S.SUPPLEMENT_REQUESTED, S.PAYMENT_REQUESTED, S.STOPPED}
)

#: action -> (statuses it may happen in, status it sets; None = the one before the pause,
#: "same" = no status change).
TRANSITIONS: dict[str, tuple[frozenset[Status], Status | str | None]] = {
    "receive": (frozenset({S.NEW}), S.RECEIVED),
    "refuse": (frozenset({S.NEW, S.SUPPLEMENT_REQUESTED}), S.REFUSED),
    # a level-4 dossier the citizen never paid for online: the desk refuses it (plugins.payment)
    "refuse_unpaid": (frozenset({S.PAYMENT_REQUESTED}), S.REFUSED),
    "request_supplement": (frozenset({S.NEW, S.RECEIVED, S.PROCESSING}), S.SUPPLEMENT_REQUESTED),
    "supply": (frozenset({S.SUPPLEMENT_REQUESTED}), None),
    "process": (frozenset({S.RECEIVED}), S.PROCESSING),
    "transfer": (frozenset({S.PROCESSING}), "same"),
    # to another office that performs the procedure (the citizen chose the wrong one): only
    # before receipt, while no office has taken it on (also while a level-4 dossier waits for
    # its fee before receipt: the engine checks the pause began at "new")
    "transfer_office": (frozenset({S.NEW, S.PAYMENT_REQUESTED}), "same"),
    "propose": (frozenset({S.PROCESSING}), "same"),
    "rework": (frozenset({S.PROCESSING}), "same"),
    "approve": (frozenset({S.PROCESSING}), S.FINISHED),
    "reject": (frozenset({S.PROCESSING}), S.FINISHED),
    "stop": (frozenset({S.PROCESSING}), S.STOPPED),
    "resume": (frozenset({S.STOPPED}), S.PROCESSING),
    "apologize": (frozenset({S.NEW, S.RECEIVED, S.PROCESSING, S.SUPPLEMENT_REQUESTED, S.STOPPED}), "same"),
    "return_result": (frozenset({S.FINISHED}), S.RETURNED),
    "withdraw": (OPEN_BEFORE_DECISION, S.WITHDRAWN),
    "request_payment": (frozenset({S.NEW, S.RECEIVED, S.PROCESSING, S.FINISHED}), S.PAYMENT_REQUESTED),
    "pay": (frozenset({S.PAYMENT_REQUESTED}), None),
    "deliver": (frozenset({S.FINISHED}), S.RETURNED),
}

#: The timeline's event kind for each action.
EVENT_KINDS = {
    "receive": "received",
    "refuse": "refused",
    "refuse_unpaid": "refused",
    "request_supplement": "supplement_requested",
    "supply": "supplemented",
    "process": "processing_started",
    "transfer": "transferred",
    "transfer_office": "office_transferred",
    "propose": "proposed",
    "rework": "returned_for_rework",
    "approve": "decided",
    "reject": "decided",
    "stop": "stopped",
    "resume": "resumed",
    "apologize": "apology",
    "return_result": "returned",
    "withdraw": "withdrawn",
    "request_payment": "payment_requested",
    "pay": "paid",
    "deliver": "returned",
}

#: What each action does, as a Vietnamese verb phrase for "... nên không thể <verb>".
VERBS: dict[str, dict[str, str]] = {
    "receive": {"vi": "tiếp nhận hồ sơ", "en": "receive the dossier"},
    "refuse": {"vi": "từ chối tiếp nhận", "en": "refuse the dossier"},
    "refuse_unpaid": {"vi": "từ chối hồ sơ do không nộp phí, lệ phí", "en": "refuse the dossier for unpaid fees"},
    "request_supplement": {"vi": "yêu cầu bổ sung hồ sơ", "en": "request a supplement"},
    "supply": {"vi": "bổ sung hồ sơ", "en": "supply the missing documents"},
    "process": {"vi": "chuyển xử lý", "en": "send it for processing"},
    "transfer": {"vi": "chuyển hồ sơ sang đơn vị khác", "en": "transfer it to another unit"},
    "transfer_office": {"vi": "chuyển hồ sơ sang cơ quan khác", "en": "transfer it to another office"},
    "propose": {"vi": "trình ý kiến và dự thảo kết quả", "en": "submit an opinion and a draft result"},
    "rework": {"vi": "trả lại để xử lý lại", "en": "return it for rework"},
    "approve": {"vi": "phê duyệt kết quả", "en": "approve the result"},
    "reject": {"vi": "từ chối giải quyết", "en": "reject the request"},
    "stop": {"vi": "dừng xử lý", "en": "stop processing"},
    "resume": {"vi": "tiếp tục xử lý", "en": "resume processing"},
    "apologize": {"vi": "gửi thư xin lỗi và hẹn lại ngày trả", "en": "send an apology with a new date"},
    "return_result": {"vi": "trả kết quả", "en": "return the result"},
    "withdraw": {"vi": "rút hồ sơ", "en": "withdraw the dossier"},
    "request_payment": {"vi": "yêu cầu thanh toán phí, lệ phí", "en": "request payment"},
    "pay": {"vi": "ghi nhận thanh toán", "en": "record a payment"},
    "deliver": {"vi": "ghi nhận đã giao kết quả", "en": "record the delivery"},
}


def allowed(status: Status, action: str) -> bool:
    """Whether `action` may happen to a dossier in `status` (pure, table-driven)."""
    entry = TRANSITIONS.get(action)
    return entry is not None and Status(status) in entry[0]


def not_allowed_message(status: Status, action: str) -> str:
    label = STATUS_LABELS[Status(status)]["vi"]
    verb = VERBS.get(action, {"vi": action})["vi"]
    return f"Hồ sơ đang ở trạng thái “{label}” nên không thể {verb}."


def check(status: Status, action: str) -> None:
    if not allowed(status, action):
        raise ActionNotAllowed(not_allowed_message(status, action))


def vn_today(at: datetime | None = None) -> date:
    return (at or datetime.now(VN_TZ)).astimezone(VN_TZ).date()


def engine_state(dossier: Dossier) -> dict[str, Any]:
    """The engine's own bookkeeping on a dossier (cursor, clock, dispatch mark)."""
    return dossier.steps.setdefault("_engine", {})


def settled_on(dossier: Dossier) -> date | None:
    """The date (Vietnam time) the dossier first reached FINISHED or REFUSED."""
    for event in dossier.events:
        if event.status in (Status.FINISHED, Status.REFUSED):
            return vn_today(event.at)
    return None


def pause_length(since: date, today: date, calendar: Calendar, calendar_days: bool = False) -> int:
    """Days the clock has stood still from `since` to `today`, in the unit the time limit is
    counted in: working days, or every day for a limit the law writes in calendar days."""
    if calendar_days:
        return max(0, (today - since).days)
    return max(0, calendar.working_days_between(since, today))


def push_due(due: date, days: int, calendar: Calendar, calendar_days: bool = False) -> date:
    """`due` moved on by `days` paused days; a calendar-day limit ending on a day off ends on
    the next working day (as `Calendar.due_date` counts it at filing)."""
    if not days:
        return due
    if calendar_days:
        return calendar.next_working_day(due + timedelta(days=days))
    return calendar.add_working_days(due, days)


def due_on(
    due_date: date | None,
    status: int,
    paused_since: date | None,
    today: date,
    calendar: Calendar,
    calendar_days: bool = False,
) -> date | None:
    """The due date as of `today`: pushed on by the days of a pause still running."""
    if due_date is None or paused_since is None or Status(status) not in PAUSING:
        return due_date
    return push_due(due_date, pause_length(paused_since, today, calendar, calendar_days), calendar, calendar_days)


#: Statuses in which a dossier is never overdue (decided, returned, refused, withdrawn).
NEVER_OVERDUE = frozenset({Status.WITHDRAWN, Status.FINISHED, Status.RETURNED, Status.REFUSED})


def overdue(
    due_date: date | None,
    status: int,
    settled: date | None,
    paused_since: date | None,
    today: date,
    calendar: Calendar,
    calendar_days: bool = False,
) -> bool:
    """THE overdue rule, on plain values so a dossier (`is_overdue`) and a store summary (the
    staff queue, the statistics) are judged alike: open (never settled, not withdrawn) and
    `today` past the due date moved on by a pause still running."""
    if due_date is None or settled is not None or today <= due_date:
        return False  # a pause only moves the due date later
    if Status(status) in NEVER_OVERDUE:
        return False
    due = due_on(due_date, status, paused_since, today, calendar, calendar_days)
    return due is not None and today > due


def paused_since(dossier: Dossier) -> date | None:
    """The day the running pause of the clock began (engine state), or None."""
    since = engine_state(dossier).get("paused_since")
    return date.fromisoformat(since) if since else None


def paused_days(dossier: Dossier, today: date, calendar: Calendar) -> int:
    """Days (in the dossier's unit) the clock has been stopped in the current pause (0 when running)."""
    since = paused_since(dossier)
    if Status(dossier.status) not in PAUSING or since is None:
        return 0
    return pause_length(since, today, calendar, dossier.calendar_days)


def effective_due_date(dossier: Dossier, today: date, calendar: Calendar) -> date | None:
    """The due date, pushed on by the days of a pause still running."""
    return due_on(dossier.due_date, dossier.status, paused_since(dossier), today, calendar, dossier.calendar_days)


def is_overdue(dossier: Dossier, today: date, calendar: Calendar | None = None) -> bool:
    """`overdue` for a dossier: its values read from the dossier."""
    return overdue(dossier.due_date, dossier.status, settled_on(dossier), paused_since(dossier), today,
                   calendar or Calendar(), dossier.calendar_days)


def apply(dossier: Dossier, event: Event, calendar: Calendar) -> list[Event]:
    """Append `event` and what the clock makes of it; returns every event appended.

    Entering a pausing status (5, 6, 8) starts a pause; leaving it moves the due date by the
    days paused (a `clock_resumed` event says by how much): working days, or every day for a
    procedure whose limit is in calendar days (`Dossier.calendar_days`). Reaching FINISHED or
    REFUSED for the first time records the days late, if any, on that event.
    Event data keys: working-day dossiers keep `late_working_days` / `paused_working_days`;
    calendar-day ones write `late_days` / `paused_days` with `calendar_days: true`.
    """
    state = engine_state(dossier)
    old = Status(dossier.status)
    new = Status(event.status) if event.status is not None else None
    today = vn_today(event.at)
    by_calendar = dossier.calendar_days
    appended = [event]
    if new in (Status.FINISHED, Status.REFUSED) and settled_on(dossier) is None and dossier.due_date:
        late = (today - dossier.due_date).days if by_calendar else calendar.working_days_between(dossier.due_date, today)
        if late > 0:
            counted = {"late_days": late, "calendar_days": True} if by_calendar else {"late_working_days": late}
            event.data = {**event.data, **counted}
    dossier.record(event)
    if new == Status.RECEIVED and old == Status.NEW and "due_on_receipt" in state:
        # transferred before receipt: the receiving office's time limit runs from now
        limit = state.pop("due_on_receipt")
        dossier.due_date = calendar.due_date(event.at, int(limit["working_days"]), bool(limit.get("calendar_days")))
        event.data = {**event.data, "due_date": dossier.due_date.isoformat()}
    if new is None or new == old:
        return appended
    if new in PAUSING and old not in PAUSING:
        state["paused_since"] = today.isoformat()
        state["resume_to"] = int(old)
    elif old in PAUSING and new not in PAUSING:
        since = state.pop("paused_since", None)
        state.pop("resume_to", None)
        if since and dossier.due_date and new not in (Status.WITHDRAWN, Status.REFUSED):
            paused = pause_length(date.fromisoformat(since), today, calendar, by_calendar)
            if paused:
                before = dossier.due_date
                dossier.due_date = push_due(before, paused, calendar, by_calendar)
                if by_calendar:
                    text = {"vi": "Thời gian tạm dừng {days} ngày không tính vào thời hạn giải quyết.",
                            "en": "The {days} days paused do not count towards the time limit."}
                    counted = {"paused_days": paused, "calendar_days": True}
                else:
                    text = {"vi": "Thời gian tạm dừng {days} ngày làm việc không tính vào thời hạn giải quyết.",
                            "en": "The {days} working days paused do not count towards the time limit."}
                    counted = {"paused_working_days": paused}
                appended.append(
                    dossier.record(
                        Event(
                            actor="system",
                            kind="clock_resumed",
                            note=text["vi"].format(days=paused),
                            message=message(text, days=paused),
                            data={**counted, "old_due_date": before.isoformat(), "due_date": dossier.due_date.isoformat()},
                        )
                    )
                )
    return appended


def target_status(dossier: Dossier, action: str) -> Status | None:
    """The status `action` sets on this dossier; None when it sets none."""
    to = TRANSITIONS[action][1]
    if to == "same":
        return None
    if to is None:  # back to where the pause started
        resume_to = engine_state(dossier).get("resume_to")
        return Status(resume_to) if resume_to else Status.RECEIVED
    return Status(to)


def move(
    dossier: Dossier,
    action: str,
    *,
    actor: str,
    calendar: Calendar,
    note: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> list[Event]:
    """Do `action` to the dossier in memory if the table allows it, else ActionNotAllowed."""
    check(dossier.status, action)
    event = Event(actor=actor, kind=EVENT_KINDS[action], status=target_status(dossier, action), note=note, data=dict(data or {}))
    if at is not None:
        event.at = at
    event.data.setdefault("action", action)
    return apply(dossier, event, calendar)
