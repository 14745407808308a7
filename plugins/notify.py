"""`notify` step: an SMS and an e-mail to the applicant at each milestone.

Messages are Vietnamese (the SMS without diacritics, as SMS brand names send them, so one
message fits 160 GSM characters), asked of the engine keyed by dossier, milestone, event
time and channel — a retried step never sends twice. The engine stores them in the outbox
and sends them in the background once the event is saved (motcua.workflow.outbox).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from unidecode import unidecode

from motcua.dossier import Status
from motcua.spec.model import localize
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
