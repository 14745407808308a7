"""`notify` step: an SMS and an e-mail to the applicant at each milestone.

Messages are Vietnamese, asked of the engine keyed by dossier, milestone, event time and
channel — a retried step never sends twice. Every e-mail ends with the dossier's private
tracking link (motcua.tracking.private_link_url, the one the receipt carries), so a citizen
who filed through the API or lost the receipt opens the dossier without the factor. An SMS
carries no link (it is read over a shoulder, forwarded, kept by the carrier): it is one
message of at most `SMS_LIMIT` GSM characters without diacritics, as SMS brand names send
them, ending with where to look the dossier up; free text (the procedure's name, staff's
reason, missing papers) is cut to fit. Links are built from the app's config alone, since
the step also runs outside any request (the `motcua workflow` CLI); a demo or test without
PUBLIC_URL, outside a request, sends the messages without them. The engine stores them in the outbox
and sends them in the background once the event is saved (motcua.workflow.outbox).

The staff dossier page shows, in this step's panel, the messages the gateway refused: those
waiting for another try and those given up after the last attempt, since a citizen who never
got "your dossier needs a supplement" has to be reached another way.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field
from unidecode import unidecode

from motcua.dossier import Status
from motcua.i18n import format_date, money
from motcua.spec.model import localize
from motcua.workflow.step import Step, StepContext

Milestone = Literal["filed", "received", "refused", "supplement_requested", "payment_requested", "payment_due_before_posting",
                    "office_transferred", "finished", "returned", "apology", "withdrawn"]

#: milestone -> (e-mail subject, message). Fields: code, procedure, due_date, amount, reason, missing,
#: office (the dossier's office now), fee_change (after a transfer that changed the fee, else empty).
TEMPLATES: dict[str, tuple[str, str]] = {
    "filed": ("Đã nộp hồ sơ {code}", "Hồ sơ {code} ({procedure}) đã được nộp. Tra cứu bằng mã hồ sơ và số điện thoại của bạn."),
    "received": ("Hồ sơ {code} đã được tiếp nhận", "Hồ sơ {code} đã được tiếp nhận. Ngày hẹn trả kết quả: {due_date}."),
    "refused": ("Hồ sơ {code} không được tiếp nhận", "Hồ sơ {code} không được tiếp nhận. Lý do: {reason}."),
    "supplement_requested": ("Hồ sơ {code} cần bổ sung", "Hồ sơ {code} cần bổ sung: {missing}. Vui lòng bổ sung để tiếp tục giải quyết."),
    "payment_requested": ("Hồ sơ {code}: đề nghị nộp phí, lệ phí", "Hồ sơ {code}: vui lòng nộp phí, lệ phí {amount} để hồ sơ được giải quyết."),
    # plugins.payment: the result goes back by post; paying online early saves a trip or the postman's collection
    "payment_due_before_posting": ("Hồ sơ {code}: phí, lệ phí {amount}",
                                   "Hồ sơ {code}: phí, lệ phí {amount}. Bạn có thể thanh toán trực tuyến để kết quả được gửi qua bưu điện."),
    # the desk sent the dossier to the office that performs it for the citizen (the sender is that office now)
    "office_transferred": ("Hồ sơ {code} được chuyển sang {office}",
                           "Hồ sơ {code} đã được chuyển sang {office} giải quyết; mã hồ sơ không đổi. {fee_change}"),
    "finished": ("Hồ sơ {code} đã có kết quả", "Hồ sơ {code} đã có kết quả giải quyết."),
    "returned": ("Hồ sơ {code} đã trả kết quả", "Kết quả hồ sơ {code} đã được trả. Cảm ơn bạn đã sử dụng dịch vụ công."),
    "apology": ("Thư xin lỗi về hồ sơ {code}", "Hồ sơ {code} chậm so với hẹn. Lý do: {reason}. Ngày hẹn trả mới: {due_date}. Thành thật xin lỗi."),
    "withdrawn": ("Hồ sơ {code} đã được rút", "Hồ sơ {code} đã được rút theo yêu cầu của bạn."),
}


#: The SMS of a milestone when it is not the e-mail's text unaccented: the e-mail's "look it
#: up with the code and your phone" is the SMS's ending already.
SMS_TEMPLATES: dict[str, str] = {
    "filed": "Hồ sơ {code} ({procedure}) đã được nộp.",
    "office_transferred": "Hồ sơ {code} đã chuyển sang {office}. {fee_change}",
}
#: What ends every e-mail: the private tracking link.
FOLLOW = "Theo dõi hồ sơ: {link}"
#: What ends every SMS: where to look the dossier up (with its code and phone).
LOOKUP = "Tra cuu tai {address}"
#: The path of `portal.lookup`, built without a request like the private link (tested equal).
LOOKUP_PATH = "/tra-cuu"
#: One SMS: 160 characters of the GSM 7-bit alphabet.
SMS_LIMIT = 160
#: GSM 7-bit extension characters: each takes two of the 160.
_GSM_EXTENDED = frozenset("^{}\\[~]|")
#: Fields of free text, cut (longest first) when an SMS would be too long.
_SHRINKABLE = ("missing", "reason", "procedure", "office")
#: After a transfer that changed the bill: the new amount (it ends the transfer's message).
FEE_CHANGE = "Phí, lệ phí mới: {amount}."


class NotifyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channels: list[Literal["sms", "email"]] = Field(default_factory=lambda: ["sms", "email"])
    milestones: list[Milestone] = Field(default_factory=lambda: list(TEMPLATES))


def milestone_of(event: Any) -> str | None:
    if event.status == Status.FINISHED:
        return "finished"
    return event.kind if event.kind in TEMPLATES else None


def _values(ctx: StepContext, event: Any) -> dict[str, Any]:
    """What a milestone's messages say, as the dossier is at that event, in JSON: kept with
    the message and formatted by `_fields` in the job that sends it (`render_message`)."""
    due = ctx.dossier.due_date
    return {
        "code": ctx.dossier.code,
        "procedure": localize(ctx.spec.name) if ctx.spec else ctx.dossier.procedure_code,
        "due_date": due.isoformat() if due else None,
        "fee_total": ctx.dossier.fee_total,
        "reason": event.note or "",
        "missing": "; ".join(event.data.get("missing", [])),
        "office": ctx.office.name["vi"] if ctx.office is not None else ctx.dossier.agency_code,
        "fee_changed": "fee_total" in event.data,
    }


def _fields(values: dict[str, Any]) -> dict[str, str]:
    """The templates' fields, written out (Vietnamese, whoever reads the page)."""
    amount = money(values["fee_total"], "vi")
    return {
        "code": values["code"],
        "procedure": values["procedure"],
        "due_date": format_date(values["due_date"], "vi"),
        "amount": amount,
        "reason": values["reason"],
        "missing": values["missing"],
        "office": values["office"],
        "fee_change": FEE_CHANGE.format(amount=amount) if values["fee_changed"] else "",
    }


def _links(config: Any, code: str) -> tuple[str | None, str | None]:
    """(the private tracking link, the lookup page's address without scheme), or Nones when
    no public address is known (a demo or test without PUBLIC_URL, outside a request)."""
    from motcua.public_url import public_url
    from motcua.tracking import private_link_url

    try:
        return private_link_url(code, config), public_url(LOOKUP_PATH, config).split("://", 1)[1]
    except RuntimeError:
        return None, None


def gsm_length(text: str) -> int:
    """How many of an SMS's 160 places `text` takes (extension characters take two)."""
    return len(text) + sum(ch in _GSM_EXTENDED for ch in text)


def _plain(text: str) -> str:
    """Unaccented, on one line, in the GSM alphabet (unidecode gives ASCII; of ASCII only the
    backtick is not GSM)."""
    return re.sub(r"\s+", " ", unidecode(text)).replace("`", "'").strip()


def sms_text(template: str, fields: dict[str, str], address: str | None) -> str:
    """The SMS of one milestone, within SMS_LIMIT: the longest free-text field is cut first
    (ending in "..."), then, if the code itself is absurdly long, the message."""
    values = {k: _plain(v) for k, v in fields.items()}
    suffix = " " + LOOKUP.format(address=address) if address else ""
    plain = _plain(template)
    while True:
        text = plain.format(**values).rstrip() + suffix
        over = gsm_length(text) - SMS_LIMIT
        if over <= 0:
            return text
        longest = max(_SHRINKABLE, key=lambda k: len(values.get(k, "")) if f"{{{k}}}" in plain else -1)
        value = values.get(longest, "")
        if f"{{{longest}}}" not in plain or len(value) <= 3:
            break
        values[longest] = value[: max(0, len(value) - over - 3)].rstrip() + "..."
    body = plain.format(**values).rstrip()
    while gsm_length(body + "..." + suffix) > SMS_LIMIT and body:
        body = body[:-1]
    text = body.rstrip() + "..." + suffix
    while gsm_length(text) > SMS_LIMIT:  # an address longer than an SMS: nothing else to cut
        text = text[:-1]
    return text


def sms_for(milestone: str, fields: dict[str, str], address: str | None) -> str:
    """A milestone's SMS; without the lookup address it keeps the e-mail's own guidance."""
    text = TEMPLATES[milestone][1]
    return sms_text(SMS_TEMPLATES.get(milestone, text) if address else text, fields, address)


def email_text(template: str, fields: dict[str, str], link: str | None) -> str:
    body = template.format(**fields).rstrip()
    return f"{body}\n\n{FOLLOW.format(link=link)}" if link else body


class NotifyStep(Step):
    name = "notify"
    title = {"vi": "Thông báo", "en": "Notifications"}
    Config = NotifyConfig

    def on_event(self, ctx: StepContext, event: Any) -> None:
        milestone = milestone_of(event)
        if milestone is None or milestone not in ctx.config.milestones:
            return
        contact = ctx.dossier.contact
        channels = [(c, contact.phone if c == "sms" else contact.email) for c in ctx.config.channels]
        channels = [(c, to) for c, to in channels if to]
        if not channels:
            return
        render: dict[str, Any] = {"milestone": milestone, "values": _values(ctx, event)}
        if not ctx.app_config.get("PUBLIC_URL"):
            # a demo's or test's links come from the request's host, there only now
            render["links"] = list(_links(ctx.app_config, ctx.dossier.code))
        stamp = event.at.isoformat()
        for channel, to in channels:
            ctx.send_message(f"{ctx.dossier.code}:{milestone}:{stamp}:{channel}", event, channel=channel, to=to,
                             milestone=milestone, render=render)

    @classmethod
    def render_message(cls, message: dict[str, Any], config: Any) -> dict[str, Any]:
        """The SMS or e-mail of a milestone, written in the job that sends it."""
        how = message["render"]
        milestone, fields = how["milestone"], _fields(how["values"])
        link, address = how["links"] if "links" in how else _links(config, fields["code"])
        subject, text = TEMPLATES[milestone]
        if message["channel"] == "sms":
            return {"body": sms_for(milestone, fields, address), "subject": None}
        return {"body": email_text(text, fields, link), "subject": subject.format(**fields)}

    def staff_panel(self, ctx: StepContext) -> Markup | None:
        from flask import render_template

        from motcua.workflow.outbox import FAILED, OUTBOX

        record = ctx.services.store.records(OUTBOX).get(ctx.dossier.code) or {}
        messages = sorted((m for m in record.get("messages", {}).values() if m.get("channel") in ("sms", "email")),
                          key=lambda m: m.get("created_at", ""))
        failed = [m for m in messages if m.get("status") in FAILED]
        retrying = [m for m in messages if m.get("status") == "pending" and m.get("attempts")]
        if not failed and not retrying:
            return None
        return Markup(render_template("workflow/notify_staff.html", failed=failed, retrying=retrying))

