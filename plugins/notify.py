"""`notify` step: an SMS and an e-mail to the applicant at each milestone.

Messages are Vietnamese (the SMS without diacritics, as SMS brand names send them, so one
message fits 160 GSM characters), asked of the engine keyed by dossier, milestone, event
time and channel — a retried step never sends twice. The engine stores them in the outbox
and sends them in the background once the event is saved (motcua.workflow.outbox).

The staff dossier page shows, in this step's panel, the messages the gateway refused: those
waiting for another try and those given up after the last attempt, since a citizen who never
got "your dossier needs a supplement" has to be reached another way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field
from unidecode import unidecode

from motcua.dossier import Status
from motcua.spec.model import localize
from motcua.workdays import VN_TZ
from motcua.workflow.step import Step, StepContext

Milestone = Literal["filed", "received", "refused", "supplement_requested", "payment_requested", "finished", "returned", "apology", "withdrawn"]

#: milestone -> (e-mail subject, message). Fields: code, procedure, due_date, amount, reason, missing.
TEMPLATES: dict[str, tuple[str, str]] = {
    "filed": ("Đã nộp hồ sơ {code}", "Hồ sơ {code} ({procedure}) đã được nộp. Tra cứu bằng mã hồ sơ và số điện thoại của bạn."),
    "received": ("Hồ sơ {code} đã được tiếp nhận", "Hồ sơ {code} đã được tiếp nhận. Ngày hẹn trả kết quả: {due_date}."),
    "refused": ("Hồ sơ {code} không được tiếp nhận", "Hồ sơ {code} không được tiếp nhận. Lý do: {reason}."),
    "supplement_requested": ("Hồ sơ {code} cần bổ sung", "Hồ sơ {code} cần bổ sung: {missing}. Vui lòng bổ sung để tiếp tục giải quyết."),
    "payment_requested": ("Hồ sơ {code}: đề nghị nộp phí, lệ phí", "Hồ sơ {code}: vui lòng nộp phí, lệ phí {amount} để hồ sơ được giải quyết."),
    "finished": ("Hồ sơ {code} đã có kết quả", "Hồ sơ {code} đã có kết quả giải quyết."),
    "returned": ("Hồ sơ {code} đã trả kết quả", "Kết quả hồ sơ {code} đã được trả. Cảm ơn bạn đã sử dụng dịch vụ công."),
    "apology": ("Thư xin lỗi về hồ sơ {code}", "Hồ sơ {code} chậm so với hẹn. Lý do: {reason}. Ngày hẹn trả mới: {due_date}. Thành thật xin lỗi."),
    "withdrawn": ("Hồ sơ {code} đã được rút", "Hồ sơ {code} đã được rút theo yêu cầu của bạn."),
}


class NotifyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channels: list[Literal["sms", "email"]] = Field(default_factory=lambda: ["sms", "email"])
    milestones: list[Milestone] = Field(default_factory=lambda: list(TEMPLATES))


def milestone_of(event: Any) -> str | None:
    if event.status == Status.FINISHED:
        return "finished"
    return event.kind if event.kind in TEMPLATES else None


def _fields(ctx: StepContext, event: Any) -> dict[str, str]:
    from motcua.fees import format_vnd

    due = ctx.dossier.due_date
    return {
        "code": ctx.dossier.code,
        "procedure": localize(ctx.spec.name) if ctx.spec else ctx.dossier.procedure_code,
        "due_date": due.strftime("%d/%m/%Y") if due else "",
        "amount": format_vnd(ctx.dossier.fee_total),
        "reason": event.note or "",
        "missing": "; ".join(event.data.get("missing", [])),
    }


class NotifyStep(Step):
    name = "notify"
    Config = NotifyConfig

    def on_event(self, ctx: StepContext, event: Any) -> None:
        milestone = milestone_of(event)
        if milestone is None or milestone not in ctx.config.milestones:
            return
        subject, text = TEMPLATES[milestone]
        fields = _fields(ctx, event)
        contact = ctx.dossier.contact
        stamp = event.at.isoformat()
        for channel in ctx.config.channels:
            to = contact.phone if channel == "sms" else contact.email
            if not to:
                continue
            body = text.format(**fields)
            ctx.send_message(f"{ctx.dossier.code}:{milestone}:{stamp}:{channel}", event, channel=channel, to=to,
                             body=unidecode(body) if channel == "sms" else body,
                             subject=subject.format(**fields) if channel == "email" else None, milestone=milestone)

    def staff_panel(self, ctx: StepContext) -> Markup | None:
        from flask import render_template

        from motcua.workflow.outbox import FAILED, OUTBOX

        record = ctx.services.store.records(OUTBOX).get(ctx.dossier.code) or {}
        messages = sorted(record.get("messages", {}).values(), key=lambda m: m.get("created_at", ""))
        failed = [m for m in messages if m.get("status") in FAILED]
        retrying = [m for m in messages if m.get("status") == "pending" and m.get("attempts")]
        if not failed and not retrying:
            return None
        return Markup(render_template("workflow/notify_staff.html", failed=failed, retrying=retrying, at=_vn_time))


def _vn_time(value: str | None) -> str:
    """An outbox time (ISO, UTC) as staff read it: Vietnam time, dd/mm/yyyy hh:mm."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value).astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return value
