"""The step protocol: the fewest methods the engine needs from a step plugin.

A step (bước xử lý) is a class registered under the entry-point group `motcua.steps`. The
spec lists steps by name, in order; the engine keeps a cursor on the first step not yet
done. Everything a step does goes through its `StepContext`:

- `name`, `Config`: the registered name, and a pydantic model validating the spec's
  `steps[].config` (the linter calls `Config.model_validate` too).
- `title`: what people call the step, `{vi, en}` (or a Vietnamese string); the events it
  records on its own are credited to "Hệ thống – <title>" / "System – <title>".
- `enter(ctx)`: the dossier has reached this step (the cursor moved onto it). Call
  `ctx.done()` when there is nothing to wait for; otherwise wait for an event.
- `on_event(ctx, event)`: every event appended to the dossier's timeline is shown to every
  step of the spec, reached or not (notify sends a text on `received` wherever it stands).
- `actions(ctx, user)` / `perform(ctx, action, user, params)`: staff actions this step
  offers (`Action` objects with `step=self.name`), and what they do.
- `citizen_panel(ctx)` / `staff_panel(ctx)`: Markup (escaped!) shown on the citizen's
  tracking page and the staff dossier page, or None.
- `blocks(ctx, action)`: optional; a Vietnamese reason why a lifecycle action
  (e.g. `return_result`) must wait for this step, or None.
- `events`: the event kinds the step records, each with its timeline label `{vi, en}` and
  whether it is `internal` (staff only: hidden from the citizen's tracking page and the API).

A step never edits the dossier: it records events (`ctx.record`, `ctx.move` for status
changes through the transition table), keeps its own JSON state in `ctx.state` and asks
for messages with `ctx.send_message`; the engine applies them to its working copy after
the call returns, and saves the whole cascade a change sets off in one update. A step that
raises is recorded as `step_failed` and retried later; make `enter` and `on_event` safe
to run again (use idempotency keys for anything sent outside).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field

from motcua.dossier import Dossier, Event, Status
from motcua.spec.model import LText
from motcua.workflow import notes
from motcua.workflow.actions import Action
from motcua.workflow.notes import NoteLike

if TYPE_CHECKING:  # pragma: no cover
    from motcua.accounts import StaffUser
    from motcua.spec.model import ProcedureSpec
    from motcua.workflow.engine import Engine


class NoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventKind(BaseModel):
    """How the timeline shows one kind of event: its label, and who may see it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    label: LText = Field(description="Timeline label: a string (Vietnamese) or {vi, en}")
    internal: bool = Field(default=False, description="Staff only: not on the citizen's timeline nor in the API")


class Step:
    """Base class with do-nothing defaults; override only what the step needs."""

    name: ClassVar[str] = ""
    Config: ClassVar[type[BaseModel]] = NoConfig
    #: what people call the step (`{vi, en}`), in "Hệ thống – <title>"; None: "bước <name>"
    title: ClassVar[LText | str | None] = None
    #: kind -> EventKind (or a dict `{label: {vi, en}, internal: bool}`) for every kind it records
    events: ClassVar[dict[str, EventKind | dict[str, Any]]] = {}
    #: the step collects the dossier's fee (the payment step): skipped by its `when`, it
    #: applies again as soon as the dossier owes money, even once the cursor is past it
    #: (motcua.workflow.plan), so a fee raised later is asked for and can be recorded
    collects_fees: ClassVar[bool] = False

    def enter(self, ctx: StepContext) -> None:
        ctx.done()

    def on_event(self, ctx: StepContext, event: Event) -> None:
        return None

    def actions(self, ctx: StepContext, user: StaffUser) -> list[Action]:
        return []

    def perform(self, ctx: StepContext, action: str, user: StaffUser, params: dict[str, Any]) -> None:
        raise NotImplementedError(action)

    def citizen_panel(self, ctx: StepContext) -> Markup | None:
        return None

    def staff_panel(self, ctx: StepContext) -> Markup | None:
        return None

    def run_job(self, ctx: StepContext, job: str, key: str, arguments: dict[str, Any]) -> Any:
        """Do the work of a job this step deferred (`ctx.defer_job`), in a worker, outside the
        store's lock; raise to have it tried again (backing off). Must be idempotent by `key`:
        a worker killed mid-job runs it again. Returns what `job_done` records; changes made to
        `ctx` here are not saved."""
        raise NotImplementedError(f"the step {self.name!r} defers no job {job!r}")

    def job_done(self, ctx: StepContext, job: str, key: str, arguments: dict[str, Any], result: Any) -> None:
        """Record what `run_job` returned, on the current dossier under the store's lock
        (ctx.record / ctx.state as in `on_event`); no outside calls here. A job deferred here
        (`ctx.defer_job`: the dossier changed while the job ran and its work must be undone)
        is deferred with the change."""

    def job_failed(self, ctx: StepContext, job: str, key: str, arguments: dict[str, Any], error: str) -> None:
        """The queue gave the job up (`run_job` failed on every run; `error` is the last
        error): show it where people look (a parcel "booking failed"), under the store's lock.
        An administrator may run it again (`job_retried`)."""

    def job_retried(self, ctx: StepContext, job: str, key: str, arguments: dict[str, Any]) -> bool:
        """An administrator asks to run the job again: undo what `job_failed` showed and
        return True to have it deferred with this change; False when the job is no longer
        wanted (the dossier withdrawn, the work done another way): nothing is queued and the
        timeline records no re-run."""
        return True

    def blocks(self, ctx: StepContext, action: str) -> str | None:
        return None

    @classmethod
    def start_warnings(cls, config: BaseModel, app_config: Mapping[str, Any]) -> list[str]:
        """What this deployment lacks for a spec configuring the step with `config` (a gateway
        with no settings ...), in English for the operator: logged once at start, so a missing
        setting is found in the log, not by the first citizen it fails. The step still serves."""
        return []

    @classmethod
    def office_refusal(cls, config: BaseModel, app_config: Mapping[str, Any] | None, office: Any, code: str,
                       lang: str) -> str | None:
        """Why this step cannot do its outside work for dossiers of the office `code` (`office`,
        the registry's Agency or None), in `lang` — a carrier that needs the office's phone, which
        no one gave — or None. Asked before the citizen chooses (the form then offers no home
        pickup there), by `motcua lint` and at start (motcua.workflow.registry), so the gap is
        found by staff, not by a job that dies. `app_config` is None outside an app (lint)."""
        return None

    @classmethod
    def render_message(cls, message: dict[str, Any], config: Any) -> dict[str, Any]:
        """The `body` (and `subject`) of a message this step asked for with `render=` instead
        of a body (`ctx.send_message`): called by the job that sends it, with the app's config,
        from the message's `render` data alone. Formatting text (money, dates, an SMS without
        diacritics cut to 160 characters) belongs in the job, not in the change that asks for it."""
        raise NotImplementedError(f"the step {cls.name!r} renders no message")


class StepContext:
    """What one step sees of one dossier during one call, and what it asks the engine to do."""

    def __init__(
        self,
        engine: Engine,
        dossier: Dossier,
        spec: ProcedureSpec | None,
        step_name: str,
        index: int,
        config: BaseModel,
        acting: str | None = None,
    ) -> None:
        self.engine = engine
        self.dossier = dossier
        self.spec = spec
        self.step_name = step_name
        self.index = index
        self.config = config
        self.acting = acting  # the staff member whose action this call carries out, if any
        self._state: dict[str, Any] | None = None  # copied on first use (most calls never look)
        self.pending: list[tuple[str, dict[str, Any]]] = []
        self.outgoing: list[dict[str, Any]] = []
        self.jobs: list[dict[str, Any]] = []
        self.finished = False

    # --- reading -------------------------------------------------------------------------

    @property
    def services(self) -> Any:
        return self.engine.services

    @property
    def office(self) -> Any:
        """The office (motcua.agencies.Agency) holding the dossier — the one it was filed with,
        or the one a transfer between offices sent it to — or None when the registry no
        longer has it."""
        catalogue = getattr(self.services, "catalogue", None)
        return catalogue.office(self.dossier.agency_code, self.spec) if catalogue is not None else None

    @property
    def app_config(self) -> Any:
        return self.engine.config

    @property
    def reached(self) -> bool:
        """Whether the cursor is on this step or past it."""
        return self.engine.cursor(self.dossier) >= self.index

    @property
    def is_current(self) -> bool:
        return self.engine.cursor(self.dossier) == self.index

    @property
    def status(self) -> Status:
        return Status(self.dossier.status)

    @property
    def actor(self) -> str:
        """Who the events this call records are credited to unless `actor=` says otherwise:
        the staff member when the call carries out their action (`perform`), else the step."""
        return self.acting or f"step:{self.step_name}"

    def has_event(self, kind: str) -> bool:
        return any(e.kind == kind for e in self.dossier.events)

    # --- asking the engine -----------------------------------------------------------------

    def record(self, kind: str, *, note: NoteLike = None, data: dict[str, Any] | None = None, actor: str | None = None,
               once: str | None = None) -> None:
        """Append an event that changes no status.

        `note`: text a person typed (shown as is), `{vi, en}`, or `notes.message(...)` (a
        template and values rendered in the reader's language). `actor`: `staff:<username>`
        (`user.actor`), ... ; by default `ctx.actor`. `once`: a key of `data`; the event is
        left out when the dossier, as the engine commits it (under the store's lock), already
        has an event of this kind with the same value there. A step action runs on a snapshot
        outside the lock, so two staff clicking at once both see "not done yet": this keeps
        what an external call did once (a refund, a booking) from being recorded twice.
        """
        rendered = notes.split(note)  # a malformed note fails here, in the step that wrote it
        self.pending.append(("record", {"kind": kind, "note": note, "data": data or {}, "actor": actor or self.actor,
                                        "once": once, "rendered": rendered}))

    def move(self, action: str, *, note: NoteLike = None, data: dict[str, Any] | None = None, actor: str | None = None) -> None:
        """Change the status through the lifecycle table (`pay`, `deliver`, `request_payment` ...);
        `note` and `actor` as for `record`."""
        rendered = notes.split(note)  # kept: the engine applies it without rendering it again
        self.pending.append(("move", {"action": action, "note": note, "data": data or {}, "actor": actor or self.actor,
                                      "rendered": rendered}))

    def send_message(self, key: str, event: Event, *, channel: str, to: str, body: str | None = None,
                     subject: str | None = None, milestone: str = "", sender: str | None = None,
                     render: dict[str, Any] | None = None) -> None:
        """Queue an SMS / e-mail about `event`; sent only once the event is saved.

        `key` names the message for good (a step run again never sends it twice). The engine
        stores it in the outbox before it saves the dossier and sends it after, in the
        background; a message whose event never got saved is dropped, not sent. `sender` is
        the name it is sent in: by default the dossier's office (Vietnamese).

        Either `body` (and `subject`), or `render`: JSON data from which this step's
        `render_message` writes them in the job that sends the message (kept with the message
        as `render`, with the step's name), so the change that asks for it does no formatting.
        """
        if (body is None) == (render is None):
            raise ValueError("send_message takes a body or render data, one of them")
        if sender is None:
            office = self.office
            sender = office.name["vi"] if office is not None else None
        message = {"key": key, "code": self.dossier.code, "channel": channel, "to": to, "body": body,
                   "subject": subject, "milestone": milestone, "sender": sender,
                   "event": {"kind": event.kind, "at": event.at.isoformat()}}
        if render is not None:
            message["render"] = {"step": self.step_name, **render}
        self.outgoing.append(message)

    def defer_job(self, job: str, key: str, **arguments: Any) -> None:
        """Ask for `Step.run_job(ctx, job, key, arguments)` to run as a job, after this call's
        changes are saved (in the same transaction on PostgreSQL): a call to an outside service
        (a carrier booking) never runs inside the request. `key` names the job for good (the
        outside service's idempotency key); its result comes back through `Step.job_done`."""
        self.jobs.append({"step": self.step_name, "index": self.index, "job": job, "key": key,
                          "arguments": dict(arguments)})

    def done(self) -> None:
        """This step has nothing more to wait for: the cursor may move past it."""
        self.finished = True

    @property
    def state(self) -> dict[str, Any]:
        """This step's own JSON state on this dossier, to read and change in place; saved
        with the call's other wishes. A deep copy, made when first asked for: a step changing
        a nested value must neither touch the dossier nor go unseen."""
        if self._state is None:
            self._state = copy.deepcopy(self.dossier.steps.get(self.step_name) or {})
        return self._state

    @state.setter
    def state(self, value: dict[str, Any]) -> None:
        self._state = value

    @property
    def state_changed(self) -> bool:
        # compared with the dossier's own value, which the step never edits (it has a copy)
        return self._state is not None and self._state != (self.dossier.steps.get(self.step_name) or {})
