"""Processing a received dossier as the one-stop rules describe it (xử lý hồ sơ), as pure functions.

The desk hands a received dossier to the first processing stage; at each stage a specialist
(chuyên viên) records an opinion (ý kiến) and, at the last stage, a draft result (dự thảo
kết quả: text and/or a PDF) with a proposal to approve or refuse; the leader (lãnh đạo)
then approves, refuses, or returns it for rework (trả lại để xử lý lại) with a note. The
stages come from the spec's `processing` (motcua.spec.model.Processing); a spec that
declares none gets one stage, the unit the desk sent the dossier to, and the leader.

Nothing is stored besides the timeline: where a dossier stands (`progress`) is a fold over
its events, and each hand-over event carries who handed it to whom, when and by when
(`from`, `to`, `due`, `next_due`), so `control_sheet_lines` (the processing control sheet,
Circular 01/2018 form 05) reads the dossier alone. The engine (motcua.workflow.engine)
checks and records the actions; this module only answers questions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from motcua import i18n
from motcua.dossier import Dossier, Event, Status
from motcua.spec.model import Attachment, ProcedureSpec
from motcua.workdays import VN_TZ, Calendar

#: The one-stop desk (bộ phận tiếp nhận và trả kết quả): receives and returns. These unit
#: names are stored in hand-over events in Vietnamese; pages and documents show them through
#: gettext (`_(line.sender)`), so they have English in the catalogue.
DESK_UNIT = i18n.N_("Bộ phận tiếp nhận và trả kết quả")
#: Where the desk sends a dossier when neither the spec nor the officer names a unit.
DEFAULT_PROCESSING_UNIT = i18n.N_("Bộ phận chuyên môn")
DEFAULT_APPROVAL_UNIT = i18n.N_("Lãnh đạo cơ quan")
CITIZEN = {"vi": "Tổ chức, cá nhân", "en": "Applicant"}

PROPOSALS = ("approve", "refuse")
#: A draft result file: a PDF (type read from the bytes), at most this size.
DRAFT_MAX_MB = 10
DRAFT = Attachment(id="du_thao", name={"vi": "Dự thảo kết quả", "en": "Draft result"},
                   accept=["application/pdf"], max_size_mb=DRAFT_MAX_MB)

#: Event kinds the processing records (timeline labels: motcua.web.labels).
PROPOSED = "proposed"
REWORK = "returned_for_rework"

#: Event kinds that hand the dossier from one party to another: the lines of form 05.
HANDOVER_KINDS = ("received", "processing_started", "transferred", PROPOSED, REWORK, "decided", "returned")

#: What each hand-over passes on, {vi, en}.
HANDED = {
    "received": {"vi": "Hồ sơ", "en": "Dossier"},
    "processing_started": {"vi": "Hồ sơ", "en": "Dossier"},
    "transferred": {"vi": "Hồ sơ", "en": "Dossier"},
    PROPOSED: {"vi": "Hồ sơ và ý kiến xử lý", "en": "Dossier and opinion"},
    "proposed_final": {"vi": "Hồ sơ, ý kiến và dự thảo kết quả", "en": "Dossier, opinion and draft result"},
    REWORK: {"vi": "Hồ sơ trả lại để xử lý lại", "en": "Dossier returned for rework"},
    "decided": {"vi": "Kết quả giải quyết", "en": "Decision"},
    "returned": {"vi": "Kết quả giải quyết", "en": "Result"},
}


@dataclass(frozen=True)
class Stage:
    """One processing stage: the unit, the agency of a liên thông stage, its working days."""

    index: int
    unit: str
    agency: str | None = None
    title: dict[str, str] | None = None
    days: int | None = None


@dataclass(frozen=True)
class Plan:
    """The processing chain of one spec: its stages in order, then who approves."""

    stages: tuple[Stage, ...]
    approval_unit: str
    approval_days: int | None
    declared: bool  # False: the default chain (one stage, the leader)


def plan_of(spec: ProcedureSpec | None) -> Plan:
    """The chain the spec declares, or the default one (one stage + the leader)."""
    declared = spec.processing if spec is not None else None
    if declared is None:
        return Plan((Stage(0, DEFAULT_PROCESSING_UNIT),), DEFAULT_APPROVAL_UNIT, None, False)
    stages = tuple(Stage(i, s.unit, s.agency, dict(s.title) if s.title else None, s.days) for i, s in enumerate(declared.stages))
    return Plan(stages, declared.approval.unit, declared.approval.days, True)


@dataclass(frozen=True)
class Proposal:
    """One opinion recorded at a stage (the event's data, read back)."""

    stage: int
    round: int
    unit: str
    opinion: str
    proposal: str
    reason: str
    draft_text: str
    draft_file: dict[str, Any] | None
    actor: str
    at: datetime

    def same_content(self, other: Proposal) -> bool:
        """Whether a new proposal says nothing the earlier one did not (a rework with no change)."""
        def key(p: Proposal) -> tuple[Any, ...]:
            return (p.opinion.strip(), p.proposal, p.reason.strip(), p.draft_text.strip(),
                    (p.draft_file or {}).get("sha256"))
        return key(self) == key(other)


@dataclass(frozen=True)
class Progress:
    """Where the dossier stands in its chain.

    `stage` is the index of the stage that must give its opinion next; `len(plan.stages)`
    means the leader has a proposal to decide on; `None` means decided. `rework` is the
    leader's last rework event not yet answered, and `returned` the proposal it sent back
    (the new one must differ from it).
    """

    stage: int | None
    round: int
    proposals: tuple[Proposal, ...]
    rework: Event | None
    returned: Proposal | None
    pending: Proposal | None  # the last stage's proposal the leader must decide on, if any


def _proposal(event: Event) -> Proposal:
    data = event.data or {}
    return Proposal(
        stage=int(data.get("stage", 0)), round=int(data.get("round", 0)), unit=str(data.get("from", "")),
        opinion=str(data.get("opinion", "")), proposal=str(data.get("proposal", "")), reason=str(data.get("reason", "")),
        draft_text=str(data.get("draft_text", "")), draft_file=data.get("draft_file"), actor=event.actor, at=event.at,
    )


def progress(dossier: Dossier, plan: Plan) -> Progress:
    """Fold the timeline into the dossier's place in `plan` (pure)."""
    stage: int | None = 0
    rounds = 0
    proposals: list[Proposal] = []
    rework: Event | None = None
    returned: Proposal | None = None
    last_by_stage: dict[int, Proposal] = {}
    for event in dossier.events:
        if event.kind == PROPOSED:
            p = _proposal(event)
            proposals.append(p)
            last_by_stage[p.stage] = p
            stage = min(p.stage + 1, len(plan.stages))
            if rework is not None and p.stage == int((rework.data or {}).get("stage", 0)):
                rework, returned = None, None
        elif event.kind == REWORK:
            rounds += 1
            target = min(int((event.data or {}).get("stage", 0)), len(plan.stages) - 1)
            stage, rework, returned = target, event, last_by_stage.get(target)
        elif event.kind == "decided":
            stage = None
    pending = proposals[-1] if proposals and stage == len(plan.stages) else None
    return Progress(stage, rounds, tuple(proposals), rework, returned, pending)


def stage_unit(plan: Plan, index: int, current_unit: str | None) -> str:
    """The unit of stage `index`: the declared one, or (default chain) where the desk sent it."""
    if not plan.declared and current_unit:
        return current_unit
    return plan.stages[index].unit


def why_not(dossier: Dossier, plan: Plan, action: str, user: Any | None = None) -> str | None:
    """Why `action` (propose / rework / approve / reject) cannot happen now, in the reader's
    language (Vietnamese outside a request); None if it can.

    The status table (motcua.workflow.lifecycle) is checked separately; this is the order
    of the chain: opinions stage by stage, the leader only on a proposal, and a liên thông
    stage's opinion only from its own agency's staff.
    """
    now = progress(dossier, plan)
    if action == "propose":
        if now.stage is None:
            return i18n.gettext("Hồ sơ đã có quyết định giải quyết.")
        if now.stage >= len(plan.stages):
            return i18n.gettext("Hồ sơ đang chờ lãnh đạo xem xét dự thảo; chỉ trình lại khi lãnh đạo trả lại để xử lý lại.")
        stage = plan.stages[now.stage]
        if stage.agency and user is not None and not user.serves(stage.agency):
            return i18n.gettext("Bước “{unit}” do cơ quan {agency} xử lý (liên thông); bạn không thuộc cơ quan này.",
                                unit=stage.unit, agency=stage.agency)
        return None
    if action in ("rework", "approve", "reject"):
        if now.pending is None:
            return i18n.gettext("Chuyên viên chưa trình ý kiến và dự thảo kết quả, nên lãnh đạo chưa thể quyết định.")
        return None
    return None


def waiting_for(dossier: Dossier, plan: Plan) -> dict[str, Any] | None:
    """Who must act next in the chain, for the staff page: `{"unit", "title", "agency",
    "leader": bool}`; None when the dossier is not being processed or is decided."""
    if Status(dossier.status) != Status.PROCESSING:
        return None
    now = progress(dossier, plan)
    if now.stage is None:
        return None
    if now.stage >= len(plan.stages):
        return {"unit": plan.approval_unit, "title": None, "agency": None, "leader": True}
    stage = plan.stages[now.stage]
    holder = (dossier.steps.get("_engine") or {}).get("unit")
    return {"unit": holder or stage_unit(plan, now.stage, None), "title": stage.title, "agency": stage.agency, "leader": False}


def liaison_agency(dossier: Dossier) -> str | None:
    """The other agency whose stage the dossier is at now (liên thông), else None. The engine
    keeps it in its state at each hand-over, so the store's summary (the staff queue) has it."""
    return (dossier.steps.get("_engine") or {}).get("liaison_agency")


def may_open(user: Any, agency_code: str, liaison: str | None) -> bool:
    """Whether a staff member may see a dossier: its agency's staff, and while it is at a
    liên thông stage, that stage's agency's staff too (their queue lists it meanwhile)."""
    return bool(user.serves(agency_code) or (liaison and user.serves(liaison)))


def draft_ref(data: bytes, filename: str, file_id: str) -> dict[str, Any]:
    """What an event keeps of a stored draft file (the file store keeps the bytes)."""
    name = (filename or "du-thao.pdf").replace("\\", "/").rsplit("/", 1)[-1][:200] or "du-thao.pdf"
    return {"file_id": file_id, "filename": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def handover(dossier: Dossier, sender: str, receiver: str, today: date, calendar: Calendar,
             receiver_days: int | None = None) -> dict[str, Any]:
    """The data a hand-over event carries: `from`, `to`, `due` (by when the sender had to
    hand it on: the `next_due` of the hand-over that gave it to them, else the dossier's due
    date) and `next_due` (the receiver's: `receiver_days` working days from today, never
    after the dossier's due date)."""
    previous = next((e for e in reversed(dossier.events) if e.kind in HANDOVER_KINDS and (e.data or {}).get("next_due")), None)
    due = (previous.data or {}).get("next_due") if previous is not None else None
    if due is None and dossier.due_date:
        due = dossier.due_date.isoformat()
    next_due = dossier.due_date
    if receiver_days:
        by_stage = calendar.add_working_days(today, receiver_days)
        next_due = min(by_stage, dossier.due_date) if dossier.due_date else by_stage
    return {"from": sender, "to": receiver, "due": due, "next_due": next_due.isoformat() if next_due else None}


# --- the processing control sheet (phiếu kiểm soát quá trình giải quyết hồ sơ, mẫu 05) -----------


@dataclass(frozen=True)
class ControlSheetLine:
    """One hand-over of form 05: `sender` handed `what` to `receiver` at `at` (UTC-aware;
    show it in Vietnam time); `due` is by when the sender had to, `on_time` whether they did
    (None when no due date was set); `actor` who did it (timeline actor, e.g. staff:lan)."""

    at: datetime
    sender: str
    receiver: str
    what: dict[str, str]
    actor: str
    due: date | None
    on_time: bool | None
    kind: str
    note: str | None
    index: int  # the event's place in `dossier.events` (its full data: a decision's, an opinion's)


def _party(value: Any, fallback: str) -> str:
    return str(value) if value else fallback


def control_sheet_lines(dossier: Dossier) -> list[ControlSheetLine]:
    """Every hand-over of the dossier between people or units, oldest first (pure).

    Reads only the timeline: hand-over events recorded by the engine carry `from`, `to`,
    `due`; older events without them get the parties the one-stop mechanism implies (the
    applicant hands to the desk, the desk returns to the applicant).
    """
    lines: list[ControlSheetLine] = []
    for index, event in enumerate(dossier.events):
        if event.kind not in HANDOVER_KINDS:
            continue
        data = event.data or {}
        if event.kind == "received":
            sender, receiver = _party(data.get("from"), CITIZEN["vi"]), _party(data.get("to"), DESK_UNIT)
        elif event.kind == "returned":
            sender, receiver = _party(data.get("from"), DESK_UNIT), _party(data.get("to"), CITIZEN["vi"])
        elif event.kind == "decided":
            sender, receiver = _party(data.get("from"), DEFAULT_APPROVAL_UNIT), _party(data.get("to"), DESK_UNIT)
        else:
            sender, receiver = _party(data.get("from"), DESK_UNIT), _party(data.get("to"), DEFAULT_PROCESSING_UNIT)
        due_text = data.get("due")
        try:
            due = date.fromisoformat(due_text) if due_text else None
        except (TypeError, ValueError):
            due = None
        handed_on = event.at.astimezone(VN_TZ).date()
        what_key = "proposed_final" if event.kind == PROPOSED and data.get("final") else event.kind
        lines.append(ControlSheetLine(
            at=event.at, sender=sender, receiver=receiver, what=dict(HANDED[what_key]), actor=event.actor,
            due=due, on_time=None if due is None else handed_on <= due, kind=event.kind, note=event.note, index=index,
        ))
    return lines
