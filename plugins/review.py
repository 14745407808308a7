"""`review` step: the staff review (thẩm định) of the one-stop lifecycle.

The lifecycle actions themselves (receive, request a supplement, send for processing,
transfer, approve / reject, stop, apologise, return) are the engine's, decided by the
transition table; this step configures them (the units a dossier may be transferred
between, who approves), holds the cursor until a decision, and shows staff the processing
control sheet (phiếu kiểm soát quá trình giải quyết, mẫu 05): `motcua.processing.control_sheet_lines`.
The opinion / draft / rework chain is the core's (motcua.processing, stages from the spec's
`processing`).
"""

from __future__ import annotations

from typing import Any, Literal

from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field

from motcua.dossier import Status
from motcua.workflow.step import Step, StepContext


class ReviewConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    units: list[str] = Field(default_factory=list, description="Units (phòng, bộ phận) a dossier may be transferred to")
    approver_roles: list[Literal["specialist", "leader"]] = Field(default_factory=lambda: ["leader"])


class ReviewStep(Step):
    name = "review"
    title = {"vi": "Xem xét hồ sơ", "en": "Dossier review"}
    Config = ReviewConfig

    def enter(self, ctx: StepContext) -> None:
        if ctx.status in (Status.FINISHED, Status.RETURNED):
            ctx.done()

    def on_event(self, ctx: StepContext, event: Any) -> None:
        if event.status == Status.FINISHED and ctx.is_current:
            ctx.done()

    def staff_panel(self, ctx: StepContext) -> Markup | None:
        from flask import render_template

        from motcua.accounts import all_accounts
        from motcua.web.labels import actor_label

        from motcua.processing import control_sheet_lines

        rows = control_sheet_lines(ctx.dossier)
        if not rows:
            return None
        names = {u.username: u.name for u in all_accounts(ctx.services.store)}
        return Markup(render_template("workflow/control_sheet.html", rows=rows, dossier=ctx.dossier,
                                      who=lambda actor: actor_label(actor, names)))
