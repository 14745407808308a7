"""The engine: runs a dossier through its spec's steps and the lifecycle table.

Every change is made by `store.dossiers.update` with a change function that appends events
(and the engine's and steps' own state), so the timeline is never rewritten. Steps run
outside the store's lock — they may call a carrier or a gateway — and their wishes (events,
status moves, state, "done") are applied afterwards in one locked update. After each
update, the events it appended are claimed (`dispatched` mark) and shown to every step.
A step that raises is recorded (`step_failed`), kept in `workflow_retries` and retried by
a `retry_steps` job (motcua.jobs; deferred with the change, backing off) or on the
dossier's next change. A filing through `file()` stores the new dossier with its steps'
first reactions in one write; a dossier stored but never started (stored by `add_dossier`,
then the process died before `on_filed`, or its start failed) is started by
`start_unstarted()`, which the `catch_up` job runs every minute. Messages the steps ask for
are stored with the change and sent by `send_message` jobs (motcua.workflow.outbox).
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field as dataclass_field
from datetime import date, datetime, timezone
from typing import Any

from markupsafe import Markup, escape
from pydantic import BaseModel, ValidationError

from motcua import i18n, processing
from motcua.catalogue import spec_of
from motcua.dossier import AttachmentRef, Contact, Dossier, Event, Status
from motcua.fees import compute_fees, filing_day, total as fee_sum
from motcua.spec.model import ProcedureSpec
from motcua.store import has_transactions, transaction
from motcua.workdays import DEFAULT_FILE, Calendar
from motcua.workflow import lifecycle, plan as step_plan
from motcua.workflow.actions import Action, ActionField, ActionNotAllowed, UploadedFile, params_text
from motcua.workflow.notes import NoteLike, message, money, split, words
from motcua.workflow.outbox import outbox_for
from motcua.workflow.registry import step_registry, step_titles
from motcua.workflow.step import Step, StepContext

log = logging.getLogger(__name__)

MAX_CALLS = 400  # step calls in one cascade: a loop between steps stops here
SETTLE_ATTEMPTS = 5  # a cascade run again when the dossier changed under it
MAX_ATTEMPTS = 8
RETRIES = "workflow_retries"
#: Records collection of the step jobs deferred and not yet done (key `<code>|<job key>`): the
#: catch-up defers again those whose job was lost (the embedded queue drops a job it started).
STEP_JOBS = "workflow_step_jobs"
DEFAULT_UNIT = processing.DESK_UNIT
#: Statuses that close a dossier before any result: nothing is booked or re-run for it after.
CLOSED = frozenset({Status.WITHDRAWN, Status.REFUSED})
#: A dossier stored this long ago whose workflow has not started is taken as orphaned by a
#: crash (WORKFLOW_START_GRACE_SECONDS); younger ones may still be starting in their process.
START_GRACE_SECONDS = 120.0


class StepUnavailable(Exception):
    """The spec names a step that is not installed, or whose config does not validate."""


class _Conflict(Exception):
    """The dossier changed while its steps reacted on a copy: react again to the new version."""


@dataclass
class _Run:
    """What one cascade collected besides the dossier itself."""

    calls: int = 0
    worked: int = 0
    failed: bool = False
    messages: list[dict[str, Any]] = dataclass_field(default_factory=list)
    jobs: list[dict[str, Any]] = dataclass_field(default_factory=list)


def _assign(target: Dossier, source: Dossier) -> None:
    for name in type(source).model_fields:
        setattr(target, name, getattr(source, name))


def _fork(d: Dossier) -> Dossier:
    """A working copy of `d` for the engine to change: its own events list and step states,
    the rest shared. What the engine and the lifecycle change is only those two (events are
    appended, never edited once recorded; step states are edited in place) and top-level
    fields (status, due date), set on the copy; a step never edits the dossier (it asks
    through its StepContext). A deep copy of the whole dossier (answers, attachments, fees,
    every event) cost more than the rest of the cascade of a filing."""
    return d.model_copy(update={"events": list(d.events), "steps": copy.deepcopy(d.steps)})


def _replace(current: Dossier, base: Dossier, work: Dossier) -> None:
    """The store's change function of a cascade: all of `work`, if `current` is still `base`."""
    if current != base:
        raise _Conflict(current.code)
    _assign(current, work)


def _event(*, actor: str, kind: str, note: NoteLike, data: dict[str, Any],
           rendered: tuple[str | None, dict[str, Any] | None] | None = None) -> Event:
    """An event whose note may be a message (stored with its Vietnamese rendering);
    `rendered`: `split(note)` as the step's context already made it."""
    text, msg = rendered or split(note)
    return Event(actor=actor, kind=kind, note=text, message=msg, data=data)


#: The timeline note of a transfer between offices (and, when the receiving office charges
#: another amount, the fee line after it).
TRANSFERRED = {"vi": "Chuyển hồ sơ từ {from_office} ({from_code}) sang {to_office} ({to_code}). Lý do: {reason}",
               "en": "Sent from {from_office} ({from_code}) to {to_office} ({to_code}). Reason: {reason}"}
TRANSFERRED_FEE = {"vi": " Phí, lệ phí theo mức của cơ quan nhận: {new_fee} (trước đây {old_fee}).",
                   "en": " Fees at the receiving office's rate: {new_fee} (was {old_fee})."}


def _already_recorded(d: Dossier, kind: str, data: Mapping[str, Any], once: str | None) -> bool:
    """An event asked for `once` per value of `data[once]` that the dossier already holds."""
    return bool(once) and any(e.kind == kind and (e.data or {}).get(once) == data.get(once) for e in d.events)


def _move(d: Dossier, action: str, *, actor: str, calendar: Calendar, note: NoteLike, data: dict[str, Any] | None,
          rendered: tuple[str | None, dict[str, Any] | None] | None = None) -> None:
    """lifecycle.move with a note that may be a message. A `pay` move that leaves part of the
    bill unpaid (an order opened at an amount the bill no longer is, e.g. before a transfer to
    an office charging more) records the payment (`paid`) and keeps the dossier waiting for
    the rest: a dossier never leaves "payment requested" owing money."""
    from motcua.payments import net_paid

    if action == "pay" and isinstance((data or {}).get("amount"), int):
        paid = net_paid(d)
        if paid is not None and paid + data["amount"] < d.fee_total:  # type: ignore[index]
            lifecycle.apply(d, _event(actor=actor, kind="paid", note=note, data=dict(data or {}), rendered=rendered), calendar)
            return
    text, msg = rendered or split(note)
    appended = lifecycle.move(d, action, actor=actor, calendar=calendar, note=text, data=data)
    if msg is not None:
        appended[0].message = msg


@dataclass
class Entry:
    index: int
    name: str
    step: Step | None
    config: BaseModel | None
    problem: str | None = None
    #: the step's `when` does not hold for this dossier (motcua.workflow.plan): it is never
    #: entered, sees no events, offers no action and shows no panel
    skipped: bool = False


def _step_words(name: str) -> dict[str, Any] | str:
    title = step_titles().get(name)
    return words(title) if title else name


def _skip_event(entry: Entry) -> Event:
    return _event(actor="system", kind="step_skipped",
                  note=message({"vi": "Bước “{step}” không áp dụng cho hồ sơ này (điều kiện của bước không thỏa mãn) nên được bỏ qua.",
                                "en": "The “{step}” step does not apply to this dossier (its condition does not hold), so it was skipped."},
                               step=_step_words(entry.name)),
                  data={"step": entry.name, "index": entry.index})


def _replanned_event(spec: ProcedureSpec, index: int, now_applies: bool) -> Event:
    name = spec.steps[index].name
    text = ({"vi": "Sau khi bổ sung hồ sơ, bước “{step}” được áp dụng cho hồ sơ này.",
             "en": "After the supplement, the “{step}” step applies to this dossier."} if now_applies else
            {"vi": "Sau khi bổ sung hồ sơ, bước “{step}” không còn áp dụng cho hồ sơ này.",
             "en": "After the supplement, the “{step}” step no longer applies to this dossier."})
    return _event(actor="system", kind="step_replanned", note=message(text, step=_step_words(name)),
                  data={"step": name, "index": index, "applies": now_applies})


def _rejoined_event(spec: ProcedureSpec, index: int) -> Event:
    name = spec.steps[index].name
    text = {"vi": "Hồ sơ nay phải nộp phí, lệ phí nên bước “{step}” được áp dụng lại cho hồ sơ.",
            "en": "The dossier now owes fees, so the “{step}” step applies to it again."}
    return _event(actor="system", kind="step_replanned", note=message(text, step=_step_words(name)),
                  data={"step": name, "index": index, "applies": True, "rejoined": True})


def _unpaid_reason(dossier: Dossier, spec: ProcedureSpec | None, action: str) -> str | None:
    """The core's own guard, whatever the steps say (one skipped by its `when`, one that does
    not block, or fails to): the result of a procedure that collects its fee (a step with
    `collects_fees`, which offers the way to pay) is not handed over while the fee total
    exceeds what was paid. A spec with no such step keeps its fee outside the platform."""
    if action != "return_result" or spec is None:
        return None
    registry = step_registry()
    if not any(getattr(registry.get(ref.name), "collects_fees", False) for ref in spec.steps):
        return None
    from motcua.payments import amount_due

    due = amount_due(dossier)
    if due <= 0:
        return None
    return i18n.gettext("Hồ sơ còn {amount} phí, lệ phí chưa nộp nên chưa thể trả kết quả: ghi nhận đã thu phí tại quầy "
                        "hoặc chờ công dân thanh toán trực tuyến.", amount=i18n.money(due, i18n.current_lang()))


def _lifecycle_actions(units: list[str], approver_roles: tuple[str, ...], plan: processing.Plan | None = None) -> dict[str, Action]:
    def a(name: str, vi: str, en: str, roles: tuple[str, ...], **kw: Any) -> Action:
        return Action(name=name, label={"vi": vi, "en": en}, roles=roles, **kw)

    unit_field = ActionField(
        name="transfer_to",
        label={"vi": "Chuyển đến đơn vị", "en": "Transfer to unit"},
        kind="select" if units else "text",
        choices=[(u, {"vi": u, "en": u}) for u in units],
    )
    actions = [
        a("receive", "Tiếp nhận hồ sơ", "Receive", ("desk",), style="primary"),
        a("refuse", "Từ chối tiếp nhận", "Refuse", ("desk",), needs_reason=True, style="danger"),
        a(
            "request_supplement", "Yêu cầu bổ sung", "Request a supplement", ("desk", "specialist"),
            needs_reason=True,
            fields=[ActionField(
                name="missing", kind="list",
                label={"vi": "Các nội dung cần bổ sung (mỗi dòng một nội dung)", "en": "What is missing (one per line)"},
                help={"vi": "Ghi đầy đủ trong một lần: công dân chỉ được yêu cầu bổ sung một lần.",
                      "en": "List everything at once: the citizen may be asked only once."},
            )],
        ),
        # a spec declaring its stages says where a dossier goes first; otherwise the desk chooses
        a("process", "Chuyển xử lý", "Send for processing", ("desk",), style="primary",
          fields=[] if plan is not None and plan.declared else [unit_field.model_copy(update={"required": False})]),
        a("transfer", "Chuyển đơn vị khác", "Transfer to another unit", ("specialist", "leader"), fields=[unit_field]),
        a("propose", "Trình ý kiến và dự thảo kết quả", "Submit opinion and draft result", ("specialist",), style="primary",
          fields=_proposal_fields()),
        a("rework", "Trả lại để xử lý lại", "Return for rework", approver_roles, needs_reason=True,
          fields=_rework_fields(plan)),
        a("approve", "Phê duyệt kết quả", "Approve", approver_roles, style="primary"),
        a("reject", "Từ chối giải quyết", "Reject", approver_roles, needs_reason=True, style="danger"),
        a("stop", "Dừng xử lý", "Stop processing", ("leader",), needs_reason=True, style="danger"),
        a("resume", "Tiếp tục xử lý", "Resume processing", ("leader",)),
        a(
            "apologize", "Xin lỗi và hẹn lại ngày trả", "Apologise with a new date", ("specialist", "leader"),
            needs_reason=True,
            fields=[ActionField(name="new_due_date", kind="date", label={"vi": "Ngày hẹn trả mới", "en": "New return date"})],
        ),
        a("return_result", "Trả kết quả", "Return the result", ("desk",), style="primary"),
        a(
            "transfer_office", "Chuyển sang cơ quan thực hiện khác", "Send to another implementing office", ("desk",),
            needs_reason=True,
            fields=[ActionField(
                name="to_agency", kind="select",
                label={"vi": "Cơ quan nhận hồ sơ", "en": "Office to send it to"},
                help={"vi": "Chỉ các cơ quan cùng thực hiện thủ tục này; mã hồ sơ giữ nguyên, thời hạn giải quyết "
                            "tính từ khi cơ quan nhận tiếp nhận hồ sơ.",
                      "en": "Only offices that perform this procedure; the dossier code stays, the time limit runs "
                            "from the receiving office's receipt."},
            )],
        ),
    ]
    return {x.name: x for x in actions}


def _set_liaison(state: dict[str, Any], agency: str | None) -> None:
    """Remember the other agency whose stage the dossier is at (summaries, access)."""
    if agency:
        state["liaison_agency"] = agency
    else:
        state.pop("liaison_agency", None)


def _proposal_fields() -> list[ActionField]:
    """What a specialist's opinion (ý kiến xử lý) carries: the opinion, the proposal, the
    reason for a refusal, and the draft result as text and/or a PDF (motcua.processing)."""
    return [
        ActionField(name="opinion", kind="textarea", label={"vi": "Ý kiến xử lý", "en": "Opinion"}),
        ActionField(name="proposal", kind="select", label={"vi": "Đề xuất", "en": "Proposal"},
                    choices=[("approve", {"vi": "Đề xuất phê duyệt", "en": "Propose approval"}),
                             ("refuse", {"vi": "Đề xuất từ chối giải quyết", "en": "Propose refusal"})]),
        ActionField(name="refusal_reason", kind="textarea", required=False,
                    label={"vi": "Lý do đề xuất từ chối", "en": "Reason for refusal"},
                    help={"vi": "Bắt buộc khi đề xuất từ chối giải quyết.", "en": "Required when proposing refusal."}),
        ActionField(name="draft_text", kind="textarea", required=False,
                    label={"vi": "Dự thảo kết quả (nội dung)", "en": "Draft result (text)"}),
        ActionField(name="draft_file", kind="file", required=False,
                    label={"vi": "Tệp dự thảo kết quả", "en": "Draft result file"},
                    help={"vi": f"PDF, tối đa {processing.DRAFT_MAX_MB} MB. Ở bước cuối, đề xuất phê duyệt cần dự thảo (nội dung hoặc tệp).",
                          "en": f"PDF, at most {processing.DRAFT_MAX_MB} MB. At the last stage a proposal to approve needs a draft (text or file)."}),
    ]


def _rework_fields(plan: processing.Plan | None) -> list[ActionField]:
    """Which stage the leader sends the dossier back to: asked only when there are several."""
    if plan is None or len(plan.stages) < 2:
        return []
    return [ActionField(
        name="to_stage", kind="select", required=False, label={"vi": "Trả lại cho", "en": "Return to"},
        choices=[(str(st.index), {"vi": st.unit, "en": st.unit}) for st in reversed(plan.stages)],
    )]


def _supplement_fields(spec: ProcedureSpec | None) -> list[ActionField]:
    """Optional ticks of the request: which components to send again, which answers to
    correct. The citizen's supplement page then asks for exactly those."""
    if spec is None:
        return []
    from motcua.submission import field_label
    from motcua.spec.model import localize

    found: list[ActionField] = []
    if spec.attachments:
        found.append(ActionField(
            name="components", kind="checks", required=False,
            label={"vi": "Thành phần hồ sơ cần nộp lại", "en": "Documents to send again"},
            choices=[(a.id, {"vi": localize(a.name, "vi"), "en": localize(a.name, "en")}) for a in spec.attachments],
        ))
    names = list((spec.form.fields.get("properties") or {}) if spec.form else {})
    if names:
        found.append(ActionField(
            name="fields", kind="checks", required=False,
            label={"vi": "Thông tin tờ khai cần sửa", "en": "Answers to correct"},
            choices=[(n, {"vi": field_label(spec, n, "vi"), "en": field_label(spec, n, "en")}) for n in names],
        ))
    return found


def _ticked(params: dict[str, Any], name: str, allowed: list[str]) -> list[str]:
    """The ticked values of a `checks` field that the spec knows, in the spec's order."""
    value = params.get(name)
    chosen = {value} if isinstance(value, str) else set(value or [])
    return [x for x in allowed if x in chosen]


class Engine:
    def __init__(self, services: Any, config: Any) -> None:
        self.services = services
        self.config = config
        holidays = (config or {}).get("HOLIDAYS_FILE") if hasattr(config, "get") else None
        self.calendar = Calendar.load(holidays or DEFAULT_FILE)
        #: Called with the dossier's code after each committed change and its cascade (the app
        #: adds `motcua.issued.keep_issued_forms`); a listener's failure is logged, never undoes it.
        self.listeners: list[Callable[[str], None]] = []
        self.flask_app: Any = None  # set by create_app: the jobs run in its context

    # --- reading -----------------------------------------------------------------------------

    @property
    def store(self) -> Any:
        return self.services.store

    def spec_for(self, dossier: Dossier) -> ProcedureSpec | None:
        spec = spec_of(self.store, dossier.spec_key)
        if spec is None:
            current = self.services.catalogue.get(dossier.procedure_code)
            if current is not None and current.version == dossier.spec_version:
                spec = current
        return spec

    def entries(self, spec: ProcedureSpec | None, dossier: Dossier | None = None) -> list[Entry]:
        """The spec's steps, each loaded with its config; with `dossier`, those its step plan
        skips are marked (motcua.workflow.plan)."""
        registry = step_registry()
        skipped = set((dossier.steps.get("_engine") or {}).get("skipped") or []) if dossier is not None else set()
        found = []
        for index, ref in enumerate(spec.steps if spec else []):
            if index in skipped:
                found.append(Entry(index, ref.name, None, None, skipped=True))
                continue
            cls = registry.get(ref.name)
            if cls is None:
                found.append(Entry(index, ref.name, None, None, f"Bước xử lý “{ref.name}” chưa được cài đặt."))
                continue
            try:
                config = cls.Config.model_validate(ref.config)
            except ValidationError as exc:
                found.append(Entry(index, ref.name, None, None, f"Cấu hình bước “{ref.name}” không hợp lệ: {exc.errors()[0]['msg']}"))
                continue
            found.append(Entry(index, ref.name, cls(), config))
        return found

    @staticmethod
    def cursor(dossier: Dossier) -> int:
        return int((dossier.steps.get("_engine") or {}).get("cursor", 0))

    def is_overdue(self, dossier: Dossier, today: date | None = None) -> bool:
        return lifecycle.is_overdue(dossier, today or lifecycle.vn_today(), self.calendar)

    def _get(self, code: str) -> Dossier:
        dossier = self.store.dossiers.get(code)
        if dossier is None:
            raise ActionNotAllowed(f"Không tìm thấy hồ sơ {code}.")
        return dossier

    def _context(self, dossier: Dossier, spec: ProcedureSpec | None, entry: Entry, acting: str | None = None) -> StepContext:
        return StepContext(self, dossier, spec, entry.name, entry.index, entry.config, acting)  # type: ignore[arg-type]

    # --- writing: the change in one locked update, the steps' reactions in one more -----------

    def _commit(self, code: str, change: Callable[[Dossier], Any],
                jobs: list[dict[str, Any]] | Callable[[Any], list[dict[str, Any]]] | None = None,
                done: str | None = None) -> Any:
        """Persist `change` (under the store's lock) with the step jobs it asks for (in one
        transaction on PostgreSQL; deferred right after on the embedded store, the catch-up
        covering a crash between), then let the steps react to it. `jobs` may be a function
        of what `change` returned (a job deferred only if the change re-armed it). A change
        that closes the dossier (withdrawn, refused) takes its dead jobs away (`_closed`).
        `done`: the STEP_JOBS record of the step job whose answer this change records,
        deleted once it is stored (the catch-up no longer runs that job)."""
        together = has_transactions(self.store)
        before: dict[str, Status] = {}
        asked: dict[str, list[dict[str, Any]]] = {}

        def tracked(d: Dossier) -> Any:
            before["status"] = Status(d.status)
            result = change(d)
            asked["jobs"] = (jobs(result) if callable(jobs) else jobs) or []
            if not together:
                # noted before the dossier is written (under its lock): a kill between the
                # write and the note would leave a change whose job nobody runs; a note
                # whose write then fails finds nothing to do when its job runs
                self._keep_jobs(code, asked["jobs"])
            return result

        with transaction(self.store):
            stored, result = self.store.dossiers.update(code, tracked)
            jobs = asked["jobs"]
            if together:
                self._keep_jobs(code, jobs)
                if jobs:
                    self._defer(code, [], False, jobs)
        if jobs and not together:
            self._defer(code, [], False, jobs)
        if done is not None and done not in {f"{code}|{job['key']}" for job in jobs}:
            self.store.records(STEP_JOBS).delete(done)
        if Status(stored.status) in CLOSED and before["status"] not in CLOSED:
            self._closed(code)
        self._settle(code)
        for listener in self.listeners:
            try:
                listener(code)
            except Exception:
                log.exception("dossier %s: listener %r failed after a change", code, listener)
        return result

    def _settle(self, code: str, retry: bool = False) -> int:
        return self._cascade(code, retry)[0]

    def _cascade(self, code: str, retry: bool = False, stored: Dossier | None = None) -> tuple[int, Dossier | None]:
        """Show the steps every event they have not seen, move the cursor, and save it all at once.

        The steps run outside the store's lock on a working copy: each call's wishes are
        applied to the copy at once, so the next step sees them, as the next event does. The
        whole cascade (events, step state, cursor, the `dispatched` mark, failures) is then
        written in ONE update, which only succeeds if nobody changed the dossier meanwhile
        (else it runs again on the new version: steps are idempotent by contract). Since the
        mark is saved with the reactions, a crash before that write loses nothing: the next
        change to the dossier (or `retry_failed`) shows the steps the same events again.
        Messages the steps asked for are stored (claimed by this process) before that
        write (or with it, in the store's transaction) and sent by jobs deferred with it or
        right after it (motcua.jobs). Returns how many retried calls worked, and the dossier
        as saved (None when it is gone).

        `stored`: the dossier exactly as the caller just stored it (filing), so the first
        attempt need not read it back; had it changed meanwhile, the write finds out (the
        same check as for any concurrent change) and the next attempt reads it.
        """
        for _ in range(SETTLE_ATTEMPTS):
            base, stored = (stored, None) if stored is not None else (self.store.dossiers.get(code), None)
            if base is None:
                return 0, None
            work, run = self._run(base, retry)
            if work == base:
                return run.worked, base
            together = has_transactions(self.store)
            try:
                with transaction(self.store):
                    keys = self._save(code, run, retry,
                                      lambda: self.store.dossiers.update(code, lambda current: _replace(current, base, work)))
            except _Conflict:
                continue
            if not together:
                self._defer(code, keys, run.failed and not retry, run.jobs)
            if retry and not run.failed and not self._open_failures(work):
                self.store.records(RETRIES).delete(code)
            return run.worked, work
        log.error("dossier %s: changed %d times while its steps reacted; the next change catches up", code, SETTLE_ATTEMPTS)
        return 0, self.store.dossiers.get(code)

    def _run(self, base: Dossier, retry: bool = False, spec: ProcedureSpec | None = None) -> tuple[Dossier, _Run]:
        """The cascade in memory: `base` forked, planned, shown to its steps and synced."""
        work = _fork(base)
        run = _Run()
        spec = spec or self.spec_for(work)
        self._plan(work, spec)
        entries = self.entries(spec, work)
        if retry:
            self._retry_in(work, spec, entries, run)
        self._react(work, spec, entries, run)
        self._sync(work, run)
        return work, run

    def _save(self, code: str, run: _Run, retry: bool, write: Callable[[], Any]) -> list[str]:
        """Inside the caller's `transaction(store)`: what a cascade asked for, around `write`
        (the dossier's own write). PostgreSQL: messages, the retry mark, the dossier and their
        jobs commit as one; the embedded store: messages first (checked against their event
        when sent), the dossier, then the jobs, which the caller defers after the block (the
        catch-up job covers a crash between). Returns the messages' keys."""
        together = has_transactions(self.store)
        keys = [m["key"] for m in run.messages]
        if run.messages:
            outbox_for(self.services, self.config).hold(code, run.messages, verified=together)
        if run.failed:
            self.store.records(RETRIES).put(code, {"since": datetime.now(timezone.utc).isoformat()})
        write()
        self._keep_jobs(code, run.jobs)
        if together:
            self._defer(code, keys, run.failed and not retry, run.jobs)
        return keys

    def file(self, new: Callable[[], Dossier], spec: ProcedureSpec | None = None) -> Dossier:
        """Store a new dossier with its workflow started, in ONE dossier write: `new()` makes
        it (taking its code) inside the store's transaction, the steps react to its `filed`
        event in memory, and the dossier goes to the store as they left it, with their
        messages held before it and their jobs deferred after it (as a cascade saves). A crash
        can no longer fall between storing the dossier and starting it; one after the write
        and before the jobs leaves held messages and step jobs whose job is lost, which the
        catch-up defers again (`motcua.workflow.tasks.catch_up`). Should the cascade itself
        raise, the dossier is stored as filed, unstarted, for `start_unstarted` (the next
        catch-up) to start: an acknowledged filing never depends on its steps.

        On PostgreSQL the code, the dossier, its messages and jobs are one transaction, and
        the steps' reactions to a filing (in memory: they call nothing outside) run inside it."""
        together = has_transactions(self.store)
        with transaction(self.store):
            dossier = new()
            try:
                work, run = self._run(dossier, spec=spec)
            except Exception:
                log.exception("dossier %s: its workflow could not start with the filing; stored unstarted", dossier.code)
                self.store.dossiers.add(dossier)
                return dossier
            keys = self._save(dossier.code, run, False, lambda: self.store.dossiers.add(work))
        if not together:
            try:
                self._defer(dossier.code, keys, run.failed, run.jobs)
            except Exception:  # the dossier is saved: the catch-up defers what is still undone
                log.exception("dossier %s filed; deferring its jobs failed", dossier.code)
        return work

    def _sync(self, work: Dossier, run: _Run) -> None:
        """Status changes not yet handed to the deployment's sync plugins (`SYNC`, e.g. the
        national portal): one outbox message per plugin and event, keyed by plugin, dossier
        code and the event's place in the timeline (never queued twice), saved with the change
        and sent after it, retried like the citizens' messages (motcua.integrations.sync)."""
        chosen = self.config.get("SYNC") or []
        if isinstance(chosen, str):
            chosen = [part.strip() for part in chosen.split(",") if part.strip()]
        state = lifecycle.engine_state(work)
        start = int(state.get("synced", 0))
        if not chosen or start >= len(work.events):
            return
        from motcua.integrations import SYNC

        for plugin_id in chosen:
            cls = SYNC.get(plugin_id, self.config)
            if cls is None:
                log.error("SYNC names %r, which is not an installed sync plugin", plugin_id)
                continue
            plugin = cls(self.config)
            for index in range(start, len(work.events)):
                event = work.events[index]
                payload = plugin.payload(work, event) if event.status is not None else None
                if payload is None:
                    continue
                run.messages.append({
                    "key": f"sync:{plugin_id}:{work.code}:{index}", "code": work.code, "channel": f"sync:{plugin_id}",
                    "to": plugin_id, "body": json.dumps(payload, ensure_ascii=False), "subject": None,
                    "milestone": f"status {int(event.status)}", "event": {"kind": event.kind, "at": event.at.isoformat()},
                })
        state["synced"] = len(work.events)

    @staticmethod
    def _plan(work: Dossier, spec: ProcedureSpec | None) -> None:
        """Decide once, at filing, which steps apply (a spec with a step's `when`); later, let
        a skipped step that collects the fee (`Step.collects_fees`) apply again once the
        dossier owes money, with an event saying so, while the dossier is open."""
        state = lifecycle.engine_state(work)
        if spec is None or not step_plan.conditional(spec):
            return
        if "skipped" not in state:
            state["skipped"] = step_plan.skipped(spec, work)
            return
        if not state["skipped"] or Status(work.status) in (Status.RETURNED, Status.REFUSED, Status.WITHDRAWN):
            return
        registry = step_registry()
        collecting = {i for i, ref in enumerate(spec.steps) if getattr(registry.get(ref.name), "collects_fees", False)}
        skipped, back = step_plan.rejoined(work, list(state["skipped"]), collecting)
        if back:
            state["skipped"] = skipped
            for index in back:
                work.record(_rejoined_event(spec, index))

    def _react(self, work: Dossier, spec: ProcedureSpec | None, entries: list[Entry], run: _Run) -> None:
        """The cascade, in memory: dispatch new events to every step, enter the current step."""
        while run.calls < MAX_CALLS:
            state = lifecycle.engine_state(work)
            start, end = int(state.get("dispatched", 0)), len(work.events)
            if start < end:
                state["dispatched"] = end
                for index in range(start, end):
                    event = work.events[index]
                    if event.kind == "step_failed":
                        continue
                    for entry in entries:
                        if entry.step is not None:
                            self._call(work, spec, entry, {"call": "event", "event": index},
                                       lambda step, ctx, e=event: step.on_event(ctx, e), run)
                continue
            if Status(work.status) in (Status.WITHDRAWN, Status.REFUSED):
                return
            cursor = self.cursor(work)
            if cursor < len(entries) and int(state.get("entered", -1)) < cursor:
                state["entered"] = cursor
                if entries[cursor].skipped:  # recorded, then the next step is entered
                    work.record(_skip_event(entries[cursor]))
                    state["cursor"] = cursor + 1
                    continue
                self._call(work, spec, entries[cursor], {"call": "enter"}, lambda step, ctx: step.enter(ctx), run)
                continue
            return
        log.error("dossier %s: workflow stopped after %d step calls in one change", work.code, MAX_CALLS)

    def _call(
        self,
        work: Dossier,
        spec: ProcedureSpec | None,
        entry: Entry,
        call: dict[str, Any],
        fn: Callable[[Step, StepContext], Any],
        run: _Run,
    ) -> bool:
        """Run one step call and apply its wishes to `work`, or record its failure there."""
        run.calls += 1
        try:
            if entry.step is None:
                raise StepUnavailable(entry.problem or entry.name)
            ctx = self._context(work, spec, entry)
            fn(entry.step, ctx)
            if ctx.pending or ctx.state_changed or ctx.finished:
                trial = _fork(work)  # all of the call's wishes, or none
                self._apply_effects(trial, ctx)
                _assign(work, trial)
            run.messages.extend(ctx.outgoing)
            run.jobs.extend(ctx.jobs)
        except Exception as exc:  # a step must never lose the dossier
            self._fail(work, entry, call, exc)
            run.failed = True
            return False
        return True

    def _apply_effects(self, d: Dossier, ctx: StepContext) -> None:
        for kind, args in ctx.pending:
            if kind == "move":
                _move(d, args["action"], actor=args["actor"], calendar=self.calendar,
                      note=args["note"], data={**args["data"], "step": ctx.step_name}, rendered=args.get("rendered"))
            else:
                if _already_recorded(d, args["kind"], args["data"], args.get("once")):
                    continue  # a concurrent action committed it first
                lifecycle.apply(d, _event(actor=args["actor"], kind=args["kind"], note=args["note"],
                                          data={**args["data"], "step": ctx.step_name}, rendered=args.get("rendered")),
                                self.calendar)
        if ctx.state_changed:
            d.steps[ctx.step_name] = ctx.state
        if ctx.finished:
            state = lifecycle.engine_state(d)
            if int(state.get("cursor", 0)) == ctx.index:
                state["cursor"] = ctx.index + 1

    def _fail(self, d: Dossier, entry: Entry, call: dict[str, Any], exc: Exception) -> None:
        """Record a failed call on the working copy: once as an event, then as attempts."""
        if isinstance(exc, StepUnavailable):
            summary = str(exc)
        else:
            log.exception("dossier %s: step %s failed on %s", d.code, entry.name, call)
            summary = f"{type(exc).__name__}: {str(exc)[:200]}"
        state = lifecycle.engine_state(d)
        failures = state.setdefault("failures", [])
        current = next((f for f in failures if f["index"] == entry.index and f["call"] == call), None)
        if current is None:
            failures.append({"step": entry.name, "index": entry.index, "call": call, "attempts": 1, "error": summary})
            d.record(_event(actor="system", kind="step_failed",
                            note=message({"vi": "Bước “{step}” gặp lỗi; hệ thống sẽ tự động thử lại.",
                                          "en": "The “{step}” step failed; the system will try again."}, step=entry.name),
                            data={"step": entry.name, "error": summary, "call": call}))
            return
        current["attempts"] += 1
        current["error"] = summary
        if current["attempts"] >= MAX_ATTEMPTS and not current.get("gave_up"):
            current["gave_up"] = True
            d.record(_event(actor="system", kind="step_gave_up",
                            note=message({"vi": "Bước “{step}” vẫn lỗi sau {attempts} lần thử; cần cán bộ kiểm tra.",
                                          "en": "The “{step}” step still fails after {attempts} tries; staff must check."},
                                         step=entry.name, attempts=MAX_ATTEMPTS),
                            data={"step": entry.name, "error": summary, "call": call}))

    # --- retries ---------------------------------------------------------------------------------

    @staticmethod
    def _open_failures(dossier: Dossier) -> list[dict[str, Any]]:
        return [f for f in (dossier.steps.get("_engine") or {}).get("failures", []) if not f.get("gave_up")]

    def failing(self, code: str) -> bool:
        """Whether a step call of this dossier failed and is still to be tried again."""
        dossier = self.store.dossiers.get(code)
        return dossier is not None and bool(self._open_failures(dossier))

    def retry_failed(self, code: str | None = None) -> int:
        """Run again every failed step call (of one dossier, or all); returns how many now worked."""
        codes = [code] if code else [key for key, _ in self.store.records(RETRIES).all()]
        worked = 0
        for each in codes:
            if self.store.dossiers.get(each) is None:
                self.store.records(RETRIES).delete(each)
                continue
            worked += self._settle(each, retry=True)
        return worked

    def start_unstarted(self, grace_seconds: float = START_GRACE_SECONDS, code: str | None = None) -> list[str]:
        """Start the workflow of dossiers that were stored (acknowledged) but never started:
        the process died between `add` and `on_filed`, or `on_filed` failed. Returns their codes.

        Found from the summaries (`started` is False), then checked on the dossier itself.
        Only dossiers filed more than `grace_seconds` ago are taken, so a filing whose
        `on_filed` is running right now in another process is left to it. Starting is
        idempotent: `_settle` saves the dispatch mark with the steps' reactions in one update
        that only succeeds on an unchanged dossier, so a dossier started meanwhile is not
        started again (the second cascade finds nothing left to dispatch)."""
        cutoff = datetime.now(timezone.utc).timestamp() - max(0.0, grace_seconds)
        if code is not None:
            candidates = [code]
        else:
            candidates = [s.code for s in self.store.dossiers.summaries() if not s.started and s.filed_at.timestamp() <= cutoff]
        started = []
        for each in candidates:
            dossier = self.store.dossiers.get(each)
            if dossier is None or lifecycle.engine_state(dossier).get("dispatched", 0):
                continue
            if dossier.filed_at.timestamp() > cutoff:
                continue
            log.warning("dossier %s was stored but its workflow never started (a crash or an error "
                        "right after filing); starting it now", each)
            self._settle(each)
            if lifecycle.engine_state(self._get(each)).get("dispatched", 0):
                started.append(each)
        return started

    def _retry_in(self, work: Dossier, spec: ProcedureSpec | None, entries: list[Entry], run: _Run) -> None:
        """Run each open failure again on the working copy; a success is recorded as recovered."""
        for failure in self._open_failures(work):
            if failure["index"] >= len(entries):
                continue
            if entries[failure["index"]].skipped:  # a supplement made the step not apply: nothing to retry
                state = lifecycle.engine_state(work)
                state["failures"] = [x for x in state.get("failures", []) if x is not failure]
                continue
            entry, call = entries[failure["index"]], failure["call"]
            if call["call"] == "enter":
                fn: Callable[[Step, StepContext], Any] = lambda step, ctx: step.enter(ctx)
            else:
                fn = lambda step, ctx, e=work.events[call["event"]]: step.on_event(ctx, e)
            if self._call(work, spec, entry, call, fn, run):
                run.worked += 1
                state = lifecycle.engine_state(work)
                state["failures"] = [x for x in state.get("failures", [])
                                     if not (x["index"] == failure["index"] and x["call"] == call)]
                work.record(_event(actor="system", kind="step_recovered",
                                   note=message({"vi": "Bước “{step}” đã chạy lại thành công.",
                                                 "en": "The “{step}” step ran again successfully."}, step=failure["step"]),
                                   data={"step": failure["step"], "call": call}))

    def _retry_if_needed(self, code: str) -> None:
        dossier = self.store.dossiers.get(code)
        if dossier is not None and self._open_failures(dossier):
            self._settle(code, retry=True)

    def _keep_jobs(self, code: str, jobs: list[dict[str, Any]]) -> None:
        """Note the step jobs a change defers, until done (`run_step_job`), for the catch-up."""
        for job in jobs:
            self.store.records(STEP_JOBS).put(f"{code}|{job['key']}", {
                **job, "code": code, "since": datetime.now(timezone.utc).isoformat()})

    def _defer(self, code: str, keys: list[str], failed: bool, jobs: list[dict[str, Any]] | None = None) -> None:
        """The jobs a saved change sets off: one per message, one per step job (a carrier
        booking), and a retry of the failed step calls (not from a retry itself: that job
        backs off on its own)."""
        from motcua.jobs import queue_for
        from motcua.workflow.tasks import defer_step_job, send_later

        if keys:
            send_later(self.store, self.config, code, keys)
        for job in jobs or []:
            defer_step_job(self.store, self.config, code, job)
        if failed:
            queue_for(self.store, self.config).defer("retry_steps", unique=f"retry:{code}", code=code)

    def _step_entry(self, code: str, index: int, step: str, job: str, key: str) -> tuple[ProcedureSpec | None, Entry] | None:
        """The spec and step entry a step job names, or None (dossier gone, or its spec no
        longer has that step: the job's record goes, nothing is left to do)."""
        dossier = self.store.dossiers.get(code)
        if dossier is None:
            self.store.records(STEP_JOBS).delete(f"{code}|{key}")
            return None
        spec = self.spec_for(dossier)
        entries = self.entries(spec, dossier)
        if index >= len(entries) or entries[index].name != step or entries[index].step is None:
            log.error("dossier %s: step job %s (%s) names step %s #%d, which its spec no longer has",
                      code, job, key, step, index)
            self.store.records(STEP_JOBS).delete(f"{code}|{key}")
            return None
        return spec, entries[index]

    def _step_change(self, spec: ProcedureSpec | None, entry: Entry,
                     hook: Callable[[Step, StepContext], None]) -> Callable[[Dossier], None]:
        """A change of the current dossier that calls `hook(step, ctx)` and applies what it
        asked; it returns the step jobs the hook deferred (for `_commit` to defer with it)."""
        def change(d: Dossier) -> list[dict[str, Any]]:
            ctx = self._context(d, spec, entry)
            hook(entry.step, ctx)  # type: ignore[arg-type]
            if ctx.pending or ctx.state_changed or ctx.finished:
                trial = d.model_copy(deep=True)
                self._apply_effects(trial, ctx)
                _assign(d, trial)
            return list(ctx.jobs)
        return change

    def run_step_job(self, code: str, index: int, step: str, job: str, key: str, arguments: dict[str, Any]) -> bool:
        """Run one step job (`StepContext.defer_job`): the step's `run_job` on a copy of the
        dossier, outside the lock (it may call a carrier), then its `job_done` on the current
        dossier in one locked update, then the steps react as after any change. An exception
        from `run_job` propagates: the queue tries again, backing off, then keeps the job as
        dead (motcua.jobs; `step_job_gave_up`). False when there was nothing to do (dossier
        or step gone)."""
        found = self._step_entry(code, index, step, job, key)
        if found is None:
            return False
        spec, entry = found
        dossier = self.store.dossiers.get(code)
        result = entry.step.run_job(self._context(dossier.model_copy(deep=True), spec, entry), job, key, arguments)  # type: ignore[union-attr]
        # a job `job_done` defers (a parcel booked after its dossier closed is called off) is
        # deferred with the change, like any step's; then the steps react and listeners hear
        self._commit(code, self._step_change(spec, entry, lambda s, ctx: s.job_done(ctx, job, key, arguments, result)),
                     jobs=lambda asked: asked, done=f"{code}|{key}")
        return True

    def step_job_gave_up(self, code: str, index: int, step: str, job: str, key: str, arguments: dict[str, Any],
                         error: str) -> None:
        """The queue gave a step job up (its last run failed): the step shows it (`job_failed`:
        a parcel "booking failed"), and the catch-up stops looking for it; an administrator
        may run it again (`rerun_job`)."""
        found = self._step_entry(code, index, step, job, key)
        self.store.records(STEP_JOBS).delete(f"{code}|{key}")
        if found is not None:
            self._commit(code, self._step_change(
                *found, lambda s, ctx: s.job_failed(ctx, job, key, arguments, error)), jobs=lambda asked: asked)

    def rerun_job(self, code: str, actor: str, task: str, key: str | None = None,
                  step_job: dict[str, Any] | None = None, reopen_failures: bool = False) -> bool:
        """An administrator runs a dead job about dossier `code` again: recorded on its
        timeline (`job_rerun`, staff only, by `actor`); for a step job (`step_job`: step,
        index, job, key, arguments) the step is asked (`job_retried`: the parcel is "booking"
        again) and the job is deferred with that change (one transaction on PostgreSQL) only
        if the step re-armed it; `reopen_failures`: the step calls given up get their
        attempts back and a `retry_steps` job is deferred. False, with nothing recorded or
        queued, when there is nothing left to run: the dossier gone, or the step no longer
        wants the job (the dossier withdrawn, the parcel booked or given up another way)."""
        if self.store.dossiers.get(code) is None:
            return False
        found = None
        if step_job is not None:
            found = self._step_entry(code, step_job["index"], step_job["step"], step_job["job"], step_job["key"])
            if found is None:
                return False
        note = message({"vi": "Quản trị viên cho chạy lại việc nền lỗi ({task}).",
                        "en": "An administrator ran the failed background job again ({task})."}, task=task)

        def change(d: Dossier) -> bool:
            if found is not None:
                spec, entry = found
                ctx = self._context(d, spec, entry)
                # a step written before job_retried answered returns None: taken as re-armed
                if entry.step.job_retried(ctx, step_job["job"], step_job["key"], step_job["arguments"]) is False:  # type: ignore[union-attr, index]
                    return False
                if ctx.pending or ctx.state_changed or ctx.finished:
                    trial = d.model_copy(deep=True)
                    self._apply_effects(trial, ctx)
                    _assign(d, trial)
            if reopen_failures:
                for failure in lifecycle.engine_state(d).get("failures", []):
                    failure.pop("gave_up", None)
                    failure["attempts"] = 0
            d.record(_event(actor=actor, kind="job_rerun", note=note,
                            data={"task": task, **({"key": key} if key else {})}))
            return True

        if reopen_failures:  # before the change: the catch-up's retry_failed finds them if the job is lost
            self.store.records(RETRIES).put(code, {"since": datetime.now(timezone.utc).isoformat()})
        rearmed = self._commit(code, change, jobs=lambda rearmed: [step_job] if rearmed and step_job else [])
        if reopen_failures:
            self._defer(code, [], True)
        return bool(rearmed)

    def _closed(self, code: str) -> None:
        """The dossier was just withdrawn or refused: its dead jobs go (an administrator
        running one again would book a parcel or send a message for a closed dossier);
        its steps, told by the event, let go of what waited (a parcel not yet booked)."""
        from motcua.jobs import drop_dead

        drop_dead(self.store, lambda job: (job.get("args") or {}).get("code") == code)

    def lost_step_jobs(self, grace_seconds: float, backoff_seconds: float = 0.0) -> list[dict[str, Any]]:
        """Step jobs not done although their next run is more than `grace_seconds` overdue
        (deferred, or last failed, then the backoff of that many failures): for the catch-up,
        since on the embedded store a job a killed worker had started is gone."""
        now = datetime.now(timezone.utc).timestamp()
        found = []
        for _, value in self.store.records(STEP_JOBS).all():
            runs = int(value.get("runs", 0))
            wait = backoff_seconds * 2 ** (runs - 1) if runs else 0.0
            if datetime.fromisoformat(value["since"]).timestamp() + wait + max(0.0, grace_seconds) <= now:
                found.append(value)
        return found

    def flush(self, timeout: float = 30) -> bool:
        """Run in this process the jobs due now (tests, commands that must finish their work
        before exiting); where a worker runs the queue, it would have done the same."""
        from motcua.jobs import queue_for

        if self.flask_app is None:
            raise RuntimeError("flush() needs the engine's Flask app (create_app sets it)")
        queue_for(self.store, self.config).run_pending(self.flask_app)
        return True

    # --- the API the portal and the back office use -----------------------------------------------

    def on_filed(self, code: str, dossier: Dossier | None = None) -> Dossier | None:
        """Called once a new dossier is durably stored (its `filed` event included); returns
        it as its workflow left it (None if it is gone). `dossier`: the object just stored
        (`motcua.filing.add_dossier`'s), which saves reading it back."""
        return self._cascade(code, stored=dossier)[1]

    def signal(
        self,
        code: str,
        *,
        actor: str,
        kind: str | None = None,
        move: str | None = None,
        note: NoteLike = None,
        data: dict[str, Any] | None = None,
    ) -> Dossier:
        """Record what an outside party says happened (a gateway's IPN, a carrier's status).

        `move` changes the status through the table (raises ActionNotAllowed when it may
        not); `kind` alone appends an event that changes no status. `note` as for
        `StepContext.record`: plain text, `{vi, en}` or `notes.message(...)`.
        """

        wish = {"actor": actor, "move": move, "kind": kind, "note": note, "data": data}
        return self.decide(code, lambda d: [wish])

    def decide(self, code: str, decide: Callable[[Dossier], list[dict[str, Any]]]) -> Dossier:
        """Record what `decide` concludes from the dossier as it is under the store's lock.

        For money: what a gateway's notice pays, or how much an overpayment refund may give
        back, depends on the bill and the payments at that moment; read before the lock, a
        transfer between offices committed meanwhile would be missed. `decide(dossier)`
        returns wishes, each `{actor, move | kind, note, data, once}` as for `signal` (`once`:
        a key of `data`, recorded once per value); it may raise ActionNotAllowed (nothing is
        written). It holds the dossier's lock while it runs: no network call in it (a refund
        is asked here and made by a job, plugins/payment_refunds.py).
        """

        def change(d: Dossier) -> None:
            for wish in decide(d):
                data = dict(wish.get("data") or {})
                if wish.get("move"):
                    _move(d, wish["move"], actor=wish["actor"], calendar=self.calendar, note=wish.get("note"), data=data)
                    continue
                kind = wish.get("kind") or "note"
                if _already_recorded(d, kind, data, wish.get("once")):
                    continue
                lifecycle.apply(d, _event(actor=wish["actor"], kind=kind, note=wish.get("note"), data=data), self.calendar)

        self._retry_if_needed(code)  # what failed before goes first
        self._commit(code, change)
        return self._get(code)

    def _review_options(self, spec: ProcedureSpec | None) -> tuple[list[str], tuple[str, ...]]:
        ref = spec.step("review") if spec else None
        cls = step_registry().get("review")
        if ref is None or cls is None:
            return [], ("leader",)
        try:
            config = cls.Config.model_validate(ref.config)
        except ValidationError:
            return [], ("leader",)
        return list(getattr(config, "units", [])), tuple(getattr(config, "approver_roles", ("leader",)))

    def result_policy(self, spec: ProcedureSpec | None) -> tuple[str, str]:
        """(attach_at, signature) for the spec's result document, from its `result` step's
        config (docs/documents.md, "Signed results"); ("decided", "optional") without one."""
        ref = spec.step("result") if spec else None
        cls = step_registry().get("result")
        if ref is None or cls is None:
            return "decided", "optional"
        try:
            config = cls.Config.model_validate(ref.config)
        except ValidationError:
            return "decided", "optional"
        return str(getattr(config, "attach_at", "decided")), str(getattr(config, "signature", "optional"))

    def _blocked(self, dossier: Dossier, spec: ProcedureSpec | None, entries: list[Entry], action: str) -> str | None:
        for entry in entries:
            if entry.step is None:
                continue
            try:
                reason = entry.step.blocks(self._context(dossier, spec, entry), action)
            except Exception:
                log.exception("step %s failed in blocks()", entry.name)
                reason = None
            if reason:
                return reason
        return _unpaid_reason(dossier, spec, action)

    def _transfer_targets(self, dossier: Dossier) -> dict[str, dict[str, str]]:
        """Offices a dossier may be sent to (code -> name): the procedure's other performers,
        as the current catalogue says (who performs it now, not when it was filed)."""
        from motcua.offices import offices, other_performers

        spec = self.services.catalogue.get(dossier.procedure_code) or self.spec_for(dossier)
        if spec is None:
            return {}
        known = offices(self.services.catalogue)
        return {code: (known[code].name if code in known else {"vi": code})
                for code in other_performers(spec, dossier.agency_code, self.services.catalogue)}

    def _with_offices(self, action: Action, dossier: Dossier) -> Action:
        targets = self._transfer_targets(dossier)
        field = action.fields[0].model_copy(update={"choices": [
            (code, {lang: f"{text} ({code})" for lang, text in name.items()}) for code, name in targets.items()]})
        return action.model_copy(update={"fields": [field]})

    def _rule(self, dossier: Dossier, action: str, user: Any | None = None) -> str | None:
        """Rules of the one-stop mechanism beyond the status table (the processing chain's
        order among them: motcua.processing.why_not)."""
        if action in ("propose", "rework", "approve", "reject"):
            why = processing.why_not(dossier, processing.plan_of(self.spec_for(dossier)), action, user)
            if why:
                return why
        if action == "transfer_office" and not self._transfer_targets(dossier):
            return "Thủ tục này chỉ có một cơ quan thực hiện nên không có cơ quan nào để chuyển hồ sơ đến."
        if (action == "transfer_office" and Status(dossier.status) == Status.PAYMENT_REQUESTED
                and lifecycle.engine_state(dossier).get("resume_to") != int(Status.NEW)):
            return "Hồ sơ đã được tiếp nhận nên không thể chuyển hồ sơ sang cơ quan khác."
        if action == "request_supplement" and any(e.kind == "supplement_requested" for e in dossier.events):
            return ("Hồ sơ đã được yêu cầu bổ sung một lần; theo quy định, mọi nội dung cần bổ sung "
                    "phải được thông báo đầy đủ trong một lần.")
        if action == "apologize":
            if any(e.kind == "apology" for e in dossier.events):
                return "Ngày hẹn trả kết quả chỉ được hẹn lại một lần."
            today = lifecycle.vn_today()
            due = lifecycle.effective_due_date(dossier, today, self.calendar)  # a running pause moves it on
            if due is None:
                return "Hồ sơ chưa có ngày hẹn trả kết quả."
            if today >= due:
                return "Thư xin lỗi phải được gửi trước ngày hẹn trả kết quả ít nhất một ngày."
        return None

    def _all_actions(self, dossier: Dossier, spec: ProcedureSpec | None, entries: list[Entry], user: Any) -> list[tuple[Action, str | None]]:
        """Every action with the reason it is not possible now (None = possible)."""
        units, approvers = self._review_options(spec)
        found: list[tuple[Action, str | None]] = []
        for action in _lifecycle_actions(units, approvers, processing.plan_of(spec)).values():
            if action.name == "request_supplement":
                action = action.model_copy(update={"fields": action.fields + _supplement_fields(spec)})
            if action.name == "transfer_office":
                action = self._with_offices(action, dossier)
            why = None
            if not lifecycle.allowed(dossier.status, action.name):
                why = lifecycle.not_allowed_message(dossier.status, action.name)
            why = why or self._rule(dossier, action.name, user)
            if why is None:
                why = self._blocked(dossier, spec, entries, action.name)
                if why:  # possible but for a step (an unpaid fee): shown with the reason
                    action = action.model_copy(update={"blocked_reason": why})
            found.append((action, why))
        for entry in entries:
            if entry.step is None:
                continue
            try:
                for action in entry.step.actions(self._context(dossier, spec, entry), user):
                    found.append((action.model_copy(update={"step": entry.name}), None))
            except Exception:
                log.exception("step %s failed listing its actions", entry.name)
        return found

    def _role_reason(self, dossier: Dossier, action: Action, user: Any) -> str | None:
        if not getattr(user, "active", True):
            return "Tài khoản đã bị khóa."
        if not user.serves(dossier.agency_code):
            liaison = processing.liaison_agency(dossier)
            # a liên thông stage's agency gives its opinion and nothing else
            if not (action.name == "propose" and liaison and user.serves(liaison)):
                return "Bạn không được phân công xử lý hồ sơ của cơ quan này."
        if not any(user.has(role) for role in action.roles):
            from motcua.accounts import ROLE_LABELS

            names = ", ".join(ROLE_LABELS.get(r, {"vi": r})["vi"] for r in action.roles)
            return f"Thao tác “{action.label['vi']}” dành cho: {names}."
        return None

    def actions(self, dossier: Dossier, user: Any, include_blocked: bool = False) -> list[Action]:
        """What this staff member can do to this dossier now; with `include_blocked`, also
        what only a step holds back (its `blocked_reason` says why), so staff see what to do first."""
        spec = self.spec_for(dossier)
        entries = self.entries(spec, dossier)
        return [a for a, why in self._all_actions(dossier, spec, entries, user)
                if (why is None or (include_blocked and a.blocked_reason)) and self._role_reason(dossier, a, user) is None]

    def perform(self, code: str, action: str, actor: Any, **params: Any) -> Dossier:
        """Do a staff action; ActionNotAllowed (in Vietnamese) says why it cannot be done."""
        self._retry_if_needed(code)  # what failed before goes first
        dossier = self._get(code)
        spec = self.spec_for(dossier)
        entries = self.entries(spec, dossier)
        listed = {a.name: (a, why) for a, why in self._all_actions(dossier, spec, entries, actor)}
        if action not in listed:
            raise ActionNotAllowed(f"Không có thao tác “{action}” cho hồ sơ này.")
        offered, why = listed[action]
        why = why or self._role_reason(dossier, offered, actor)
        if why:
            raise ActionNotAllowed(why)
        reason = params_text(params, "reason")
        if offered.needs_reason and not reason:
            raise ActionNotAllowed("Cần nêu rõ lý do.", field="reason")
        for field in offered.fields:
            value = params.get(field.name)
            if field.required and (value is None or (isinstance(value, (str, list)) and not value)):
                raise ActionNotAllowed(f"Cần nhập “{field.label['vi']}”.", field=field.name)
        if action == "propose":
            params = self._store_draft(params)
        if offered.step is None:
            self._commit(code, lambda d: self._lifecycle_change(d, action, actor, params, reason))
        else:
            entry = next(e for e in entries if e.name == offered.step)
            ctx = self._context(dossier, spec, entry, acting=getattr(actor, "actor", None))  # what it records is the clerk's doing
            try:
                entry.step.perform(ctx, action, actor, params)  # type: ignore[union-attr]
            except ActionNotAllowed:
                raise
            except Exception as exc:
                log.exception("dossier %s: step %s failed on action %s", code, entry.name, action)
                raise ActionNotAllowed("Không thực hiện được thao tác do lỗi hệ thống; vui lòng thử lại sau.") from exc
            self._commit(code, lambda d: self._apply_effects(d, ctx), jobs=ctx.jobs)
        return self._get(code)

    def _store_draft(self, params: dict[str, Any]) -> dict[str, Any]:
        """Check a posted draft file (a PDF within the size limit, type read from the bytes)
        and put it in the file store; the event that refers to it is written afterwards, in
        the action's one update (a file whose update is refused stays unreferenced and is
        purged like any unreferenced upload)."""
        upload = params.get("draft_file")
        if upload is None or upload == "":
            return {**params, "draft_file": None}
        if not isinstance(upload, UploadedFile):
            raise ActionNotAllowed(i18n.gettext("Tệp dự thảo không hợp lệ."), field="draft_file")
        from motcua import submission

        _type, error = submission.check_upload(processing.DRAFT, upload.data, i18n.current_lang())
        if error:
            raise ActionNotAllowed(error, field="draft_file")
        file_id = self.store.files.put(upload.data)
        return {**params, "draft_file": processing.draft_ref(upload.data, upload.filename, file_id)}

    def _processing_change(self, d: Dossier, action: str, actor: Any, params: dict[str, Any], reason: str,
                           data: dict[str, Any]) -> None:
        """The data of a hand-over inside the processing chain (motcua.processing): a
        specialist's opinion handed on, a rework sent back, a decision handed to the desk.
        Raises ActionNotAllowed (nothing written) when the posted values do not make one."""
        plan = processing.plan_of(self.spec_for(d))
        state = lifecycle.engine_state(d)
        now = processing.progress(d, plan)
        today = lifecycle.vn_today()
        if action == "propose":
            index = int(now.stage or 0)
            final = index == len(plan.stages) - 1
            # the unit holding it hands it on: the stage's, or where a transfer moved it since
            sender = state.get("unit") or processing.stage_unit(plan, index, None)
            receiver = plan.approval_unit if final else plan.stages[index + 1].unit
            days = plan.approval_days if final else plan.stages[index + 1].days
            opinion = params_text(params, "opinion")
            proposal = params_text(params, "proposal")
            refusal = params_text(params, "refusal_reason")
            draft_text = params_text(params, "draft_text")
            draft_file = params.get("draft_file") if isinstance(params.get("draft_file"), dict) else None
            if not opinion:
                raise ActionNotAllowed(i18n.gettext("Cần nhập “Ý kiến xử lý”."), field="opinion")
            if proposal not in processing.PROPOSALS:
                raise ActionNotAllowed(i18n.gettext("Chọn đề xuất: phê duyệt hoặc từ chối giải quyết."), field="proposal")
            if proposal == "refuse" and not refusal:
                raise ActionNotAllowed(i18n.gettext("Đề xuất từ chối giải quyết cần nêu rõ lý do."), field="refusal_reason")
            if final and proposal == "approve" and not draft_text and not draft_file:
                raise ActionNotAllowed(i18n.gettext("Cần dự thảo kết quả (nội dung hoặc tệp PDF) để trình lãnh đạo phê duyệt."),
                                       field="draft_text")
            new = processing.Proposal(stage=index, round=now.round, unit=sender, opinion=opinion, proposal=proposal,
                                      reason=refusal, draft_text=draft_text, draft_file=draft_file,
                                      actor=actor.actor, at=datetime.now(timezone.utc))
            if now.returned is not None and new.same_content(now.returned):
                raise ActionNotAllowed(i18n.gettext("Ý kiến và dự thảo không thay đổi so với lần trình trước; lãnh đạo đã trả lại "
                                       "để xử lý lại, cần sửa theo ý kiến của lãnh đạo trước khi trình lại."), field="opinion")
            data.update({"stage": index, "round": now.round, "final": final, "opinion": opinion, "proposal": proposal,
                         "reason": refusal, "draft_text": draft_text, "draft_file": draft_file})
            if draft_file:
                data["attachments"] = [draft_file["file_id"]]  # how motcua.purge knows the file is kept
            data.update(processing.handover(d, sender, receiver, today, self.calendar, days))
            state["unit"] = receiver
            _set_liaison(state, None if final else plan.stages[index + 1].agency)
        elif action == "rework":
            last = len(plan.stages) - 1
            raw = params_text(params, "to_stage")
            try:
                target = int(raw) if raw else last
            except ValueError:
                raise ActionNotAllowed(i18n.gettext("Bước trả lại không hợp lệ."), field="to_stage") from None
            if not 0 <= target <= last:
                raise ActionNotAllowed(i18n.gettext("Bước trả lại không hợp lệ."), field="to_stage")
            returned_to = processing.stage_unit(plan, target, None) if plan.declared else (
                now.pending.unit if now.pending else processing.DEFAULT_PROCESSING_UNIT)
            data.update({"stage": target, "round": now.round + 1})
            data.update(processing.handover(d, plan.approval_unit, returned_to, today, self.calendar,
                                            plan.stages[target].days))
            state["unit"] = returned_to
            _set_liaison(state, plan.stages[target].agency)
        else:  # approve / reject: the leader hands the decision to the desk, which returns it
            data.update(processing.handover(d, plan.approval_unit, DEFAULT_UNIT, today, self.calendar))
            if now.pending is not None:
                data["proposal_round"] = now.pending.round
            state["unit"] = DEFAULT_UNIT
            _set_liaison(state, None)

    def _lifecycle_change(self, d: Dossier, action: str, actor: Any, params: dict[str, Any], reason: str) -> None:
        lifecycle.check(d.status, action)  # again, under the lock
        rule = self._rule(d, action, actor)
        if rule:
            raise ActionNotAllowed(rule)
        data: dict[str, Any] = {}
        state = lifecycle.engine_state(d)
        if action == "request_supplement":
            missing = params.get("missing")
            if isinstance(missing, str):
                missing = [line.strip() for line in missing.splitlines()]
            data["missing"] = [m for m in (missing or []) if m and m.strip()]
            if not data["missing"]:
                raise ActionNotAllowed("Cần liệt kê đầy đủ các nội dung cần bổ sung.", field="missing")
            spec = self.spec_for(d)
            if spec is not None:
                components = _ticked(params, "components", [a.id for a in spec.attachments])
                fields = _ticked(params, "fields", list((spec.form.fields.get("properties") or {}) if spec.form else {}))
                if components:
                    data["components"] = components
                if fields:
                    data["fields"] = fields
        elif action in ("process", "transfer"):
            plan = processing.plan_of(self.spec_for(d))
            first = plan.stages[0]
            to = first.unit if action == "process" and plan.declared else (params_text(params, "transfer_to") or first.unit)
            frm = state.get("unit") or DEFAULT_UNIT
            if action == "transfer" and to == frm:
                raise ActionNotAllowed("Hồ sơ đang ở chính đơn vị này.", field="transfer_to")
            data.update(processing.handover(d, frm, to, lifecycle.vn_today(), self.calendar,
                                            first.days if action == "process" else None))
            state["unit"] = to
            if action == "process":
                _set_liaison(state, first.agency)
        elif action in ("propose", "rework"):
            self._processing_change(d, action, actor, params, reason, data)
        elif action == "transfer_office":
            self._transfer_office(d, actor, params, reason)
            return
        elif action in ("approve", "reject"):
            data["decision"] = "approved" if action == "approve" else "rejected"
            self._processing_change(d, action, actor, params, reason, data)
        elif action == "receive":
            data.update(processing.handover(d, d.contact.name or processing.CITIZEN["vi"], DEFAULT_UNIT,
                                            lifecycle.vn_today(), self.calendar))
        elif action == "return_result":
            data.update(processing.handover(d, DEFAULT_UNIT, d.contact.name or processing.CITIZEN["vi"],
                                            lifecycle.vn_today(), self.calendar))
        elif action == "apologize":
            raw = params.get("new_due_date")
            try:
                new_date = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
            except ValueError:
                raise ActionNotAllowed("Ngày hẹn trả mới không hợp lệ.", field="new_due_date") from None
            today = lifecycle.vn_today()
            due = lifecycle.effective_due_date(d, today, self.calendar)
            if due and new_date <= due:
                raise ActionNotAllowed("Ngày hẹn trả mới phải sau ngày hẹn hiện tại.", field="new_due_date")
            if not self.calendar.is_working_day(new_date):
                raise ActionNotAllowed("Ngày hẹn trả mới phải là ngày làm việc.", field="new_due_date")
            data.update({"old_due_date": due.isoformat() if due else None, "new_due_date": new_date.isoformat()})
            d.due_date = new_date
            if lifecycle.paused_days(d, today, self.calendar):
                # the pause so far is in the new date: only the days from now on move it again
                lifecycle.engine_state(d)["paused_since"] = today.isoformat()
        lifecycle.move(d, action, actor=actor.actor, calendar=self.calendar, note=reason or None, data=data)

    def record_once(self, code: str, kind: str, note: NoteLike, data: dict[str, Any] | None = None) -> bool:
        """Append a system event `kind` unless the dossier holds one already (decided under
        the store's lock): for the scheduled jobs, which may run twice. True if recorded."""
        recorded: list[bool] = []

        def change(d: Dossier) -> None:
            recorded.clear()
            if not any(e.kind == kind for e in d.events):
                d.record(_event(actor="system", kind=kind, note=note, data=data or {}))
                recorded.append(True)

        self._commit(code, change)
        return bool(recorded)

    def _transfer_office(self, d: Dossier, actor: Any, params: dict[str, Any], reason: str) -> None:
        """Send a dossier not yet received to another office performing its procedure.

        Chuyển hồ sơ sang cơ quan thực hiện khác — the citizen chose the wrong office. The
        code stays (it is the citizen's reference); the dossier's agency becomes the new
        office, so the old office's staff no longer see it and its figures move with it; the
        due date is cleared and set again from the receiving office's receipt (the time limit
        is the procedure's, counted from when that office takes it on). Checked before any
        change, under the store's lock, so a refusal leaves the dossier as it was.
        """
        from motcua.filing import working_days

        to = params_text(params, "to_agency")
        targets = self._transfer_targets(d)
        if not to:
            raise ActionNotAllowed("Cần chọn cơ quan nhận hồ sơ.", field="to_agency")
        if to == d.agency_code:
            raise ActionNotAllowed("Hồ sơ đang ở chính cơ quan này.", field="to_agency")
        if to not in targets:
            raise ActionNotAllowed(f"Cơ quan “{to}” không thực hiện thủ tục này nên không thể nhận hồ sơ.",
                                   field="to_agency")
        spec = self.spec_for(d)
        from motcua.offices import offices

        known = offices(self.services.catalogue)
        frm = d.agency_code
        from_name = known[frm].name if frm in known else {"vi": frm}
        values = {"from_office": words(from_name), "from_code": frm, "to_office": words(targets[to]), "to_code": to,
                  "reason": reason}
        data: dict[str, Any] = {"from": frm, "to": to, "reason": reason}
        # the bill follows the office: a fee with a `by_agency` amount is the receiving office's
        # (at the filing date, as at filing); the payment step asks for the rest or records
        # the overpayment for a refund, the notify step tells the citizen (office_transferred)
        by_office = spec is not None and any(rule.by_agency for rule in spec.fees)  # else the bill is the same anywhere
        lines = compute_fees(spec, d.data, d.channel, to, today=filing_day(d.filed_at)) if spec is not None and by_office else None
        text = TRANSFERRED
        if lines is not None and fee_sum(lines) != d.fee_total:
            data["fee_total"] = {"old": d.fee_total, "new": fee_sum(lines)}
            values.update(old_fee=money(d.fee_total), new_fee=money(fee_sum(lines)))
            text = {lang: TRANSFERRED[lang] + TRANSFERRED_FEE[lang] for lang in TRANSFERRED}
            d.fees = [line.model_dump(mode="json") for line in lines]
            d.fee_total = fee_sum(lines)
        state = lifecycle.engine_state(d)
        if spec is not None:
            state["due_on_receipt"] = {"working_days": working_days(spec, d.channel),
                                       "calendar_days": spec.info.processing_time.calendar_days}
        d.due_date = None
        d.agency_code = to
        _move(d, "transfer_office", actor=actor.actor, calendar=self.calendar, note=message(text, **values), data=data)

    def citizen_withdraw(self, code: str, reason: str | None = None) -> Dossier:
        """The citizen takes the dossier back; only before a decision."""
        self._commit(code, lambda d: lifecycle.move(d, "withdraw", actor="citizen", calendar=self.calendar, note=reason or None))
        return self._get(code)

    def citizen_supplement(
        self,
        code: str,
        note: str,
        attachments: list[AttachmentRef],
        answers: dict[str, Any] | None = None,
        contact: Contact | None = None,
    ) -> Dossier:
        """The citizen supplies what was asked for; the clock restarts with the due date moved.

        New files are added after the old ones, and corrected `answers` (the whole answers,
        validated by the caller) replace the old; the event keeps each changed top-level
        answer's old and new value, so staff see what changed and the timeline stays whole.
        Corrected answers are billed again (`fees.compute_fees`, as at filing): the event keeps
        the old and new `fee_total`; what a payment already made does not cover is then due
        (the payment step reads the new total).
        """
        current = self._get(code)
        spec = self.spec_for(current) if answers is not None else None
        if answers is not None and spec is not None:
            from motcua.submission import visible_answers

            # as at filing: an answer to a field its condition hides is not kept
            answers = visible_answers(spec, answers, current.channel, filing_day(current.filed_at))

        def change(d: Dossier) -> None:
            lifecycle.check(d.status, "supply")
            changes = {
                name: {"old": d.data.get(name), "new": (answers or {}).get(name)}
                for name in sorted(set(d.data) | set(answers or {}))
                if answers is not None and d.data.get(name) != answers.get(name)
            }
            if not (note and note.strip()) and not attachments and not changes:
                raise ActionNotAllowed("Cần đính kèm giấy tờ hoặc ghi nội dung bổ sung.")
            first = len(d.attachments)
            d.attachments.extend(attachments)
            data: dict[str, Any] = {"attachments": [a.file_id for a in attachments]}
            if attachments:
                data["files"] = [{"index": first + i, "component": a.component, "filename": a.filename}
                                 for i, a in enumerate(attachments)]
            if changes:
                d.data = dict(answers or {})
                data["changes"] = changes
                if spec is not None:
                    lines = compute_fees(spec, d.data, d.channel, d.agency_code, today=filing_day(d.filed_at))
                    data["fee_total"] = {"old": d.fee_total, "new": fee_sum(lines)}
                    d.fees = [line.model_dump(mode="json") for line in lines]
                    d.fee_total = fee_sum(lines)
                if contact is not None and contact != d.contact:
                    data["contact"] = {"old": d.contact.model_dump(), "new": contact.model_dump()}
                    d.contact = contact
            lifecycle.move(d, "supply", actor="citizen", calendar=self.calendar, note=(note or "").strip() or None,
                           data=data)
            if changes and spec is not None:
                self._replan(d, spec)

        self._retry_if_needed(code)
        self._commit(code, change)
        return self._get(code)

    def _replan(self, d: Dossier, spec: ProcedureSpec) -> None:
        """Corrected answers decide again the steps not reached yet (docs/specs.md, "Step
        conditions"); each step whose answer changed gets an event saying so."""
        state = lifecycle.engine_state(d)
        if "skipped" not in state:
            return
        skipped, now_skipped, now_run = step_plan.replanned(spec, d, list(state["skipped"]), self.cursor(d))
        state["skipped"] = skipped
        for index in sorted(now_skipped + now_run):
            d.record(_replanned_event(spec, index, index in now_run))

    def skipped_ahead(self, dossier: Dossier) -> list[str]:
        """What people call the steps the dossier's plan skips and it has not reached yet, in
        the reader's language: shown on its pages from filing on (the timeline records each
        one when it is passed over)."""
        from motcua.spec.model import localize

        cursor = self.cursor(dossier)
        titles = step_titles()
        return [localize(titles[e.name], i18n.current_lang()) if e.name in titles else e.name
                for e in self.entries(self.spec_for(dossier), dossier) if e.skipped and e.index >= cursor]

    # --- panels -------------------------------------------------------------------------------

    def _panels(self, dossier: Dossier, which: str) -> list[Markup]:
        from flask import render_template

        spec = self.spec_for(dossier)
        panels: list[Markup] = []
        core = render_template(f"workflow/{which}_core.html", dossier=dossier, engine=self,
                               overdue=self.is_overdue(dossier), failures=lifecycle.engine_state(dossier.model_copy(deep=True)).get("failures", []))
        if core.strip():
            panels.append(Markup(core))
        for entry in self.entries(spec, dossier):
            if entry.step is None:
                continue
            try:
                panel = getattr(entry.step, f"{which}_panel")(self._context(dossier, spec, entry))
            except Exception:
                log.exception("step %s failed rendering its %s panel", entry.name, which)
                continue
            if panel:
                panels.append(panel if isinstance(panel, Markup) else escape(panel))
        return panels

    def citizen_panels(self, dossier: Dossier) -> list[Markup]:
        return self._panels(dossier, "citizen")

    def staff_panels(self, dossier: Dossier) -> list[Markup]:
        return self._panels(dossier, "staff")
