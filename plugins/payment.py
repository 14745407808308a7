"""`payment` step: the fee (phí, lệ phí) paid online (level 4) or at the desk (level 3).

Online: when the dossier reaches the step and owes a fee, its status becomes "payment
requested" (6, the clock pauses) and the citizen's tracking page offers "Thanh toán trực
tuyến" through the gateway the spec names (`config.gateway`, any plugin of
`motcua.gateways`; unset: the deployment's PAYMENT_GATEWAY, else `vnpay`). The gateway's
signed webhook (generic route, motcua.payments) records `paid`, which restores the status
and lets the cursor move on. Desk: staff record the receipt number; the result
cannot be returned before that.

The mode is the procedure's, but the channel has the last word: a citizen who files at the
one-stop desk (channel `desk`) is standing at the counter and pays there, as the desk's
receipt (biên lai) is issued with the filing, even for a level-4 procedure; a dossier filed
by post keeps the procedure's mode (online: the payment link reaches the citizen by SMS /
e-mail and on the tracking page).

When a gateway's notification never comes (the payer paid, the IPN was lost), staff press
"Kiểm tra trạng thái thanh toán": the gateway is asked (`Gateway.query`) and its answer is
recorded exactly as the webhook's would be (motcua.payments.reconcile). A spec that says the
fees are refundable when the dossier is refused or withdrawn (`config.refund_on`) has the
money taken online given back through the gateway (`Gateway.refund`) when that happens:
asked for in the change, given back by a job (motcua_plugins.payment_refunds), never while
the citizen's request or the dossier's lock waits on the bank.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, field_validator

from motcua.dossier import Status
from motcua import i18n
from motcua.integrations import GATEWAYS
from motcua import payments
from motcua.integrations.gateways import GatewayUnavailable
from motcua.payments import ONLINE_DUE, STAFF_NOTE, amount_due, check_payment_token, may_pay_online, payment_token  # noqa: F401 (re-exported)
from motcua.workflow.actions import Action, ActionField, ActionNotAllowed, params_text
from motcua.workflow.lifecycle import allowed
from motcua.workflow.notes import message, money, words
from motcua.workflow.step import EventKind, Step, StepContext
from motcua_plugins import payment_refunds as refunds


TEMPLATES = Path(__file__).parent / "templates"
DEFAULT_GATEWAY = "vnpay"


def known_plugin(registry: Any, value: str | None) -> str | None:
    """A spec's choice of plugin must name one that is installed (the registry's ids)."""
    if value is not None and value not in registry.all():
        from motcua.spec.words import say

        known = ", ".join(sorted(registry.all())) or say("không có")
        raise ValueError(say("không có plugin {kind} nào được đăng ký với tên {value} (đã cài: {known})",
                             kind=registry.kind, value=repr(value), known=known))
    return value


class PaymentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["online", "desk"] = "online"
    #: a `motcua.gateways` plugin; None: the deployment's PAYMENT_GATEWAY, else vnpay
    gateway: str | None = None
    #: when the fees paid online are given back through the gateway: the dossier `refused`
    #: (not accepted at the desk) and/or `withdrawn` by the citizen; empty: never (the law of
    #: the procedure decides; Law on Fees and Charges 2015)
    refund_on: list[Literal["refused", "withdrawn"]] = []

    @field_validator("gateway")
    @classmethod
    def _installed(cls, value: str | None) -> str | None:
        return known_plugin(GATEWAYS, value)


def gateway_id(ctx: StepContext) -> str:
    """The gateway this dossier pays through: the spec's choice, else the deployment's."""
    return ctx.config.gateway or ctx.app_config.get("PAYMENT_GATEWAY") or DEFAULT_GATEWAY


def online_gateway(gateway: str, app_config: Any) -> Any:
    """The gateway `gateway` as this deployment has it, when it can take a payment now:
    installed, enabled (a demo-only simulator only in demo/test mode) and with its settings.
    None: online payment is not offered; the citizen is shown the other ways to pay."""
    chosen = payments.gateway_for(app_config, gateway)
    return chosen if chosen is not None and chosen.configured() else None


def _simulated(gateway: Any) -> bool:
    """The gateway brings a simulator (`Plugin.simulate` overridden)."""
    from motcua.integrations.base import Plugin

    return getattr(gateway.simulate, "__func__", None) is not Plugin.simulate.__func__


def entered_by_staff(dossier: Any) -> bool:
    """Filed by a desk officer (a walk-in, or paper that came by post and was entered at the
    desk): the papers and the citizen's fee reach the desk, not the online portal."""
    first = dossier.events[0] if dossier.events else None
    return first is not None and first.kind == "filed" and str(first.actor).startswith("staff:")


def _by_post_both_ways(ctx: StepContext) -> bool:
    """Papers that came by post and a result that goes back by post: the citizen never
    stands at the counter, even though a clerk entered the dossier."""
    delivery = ctx.dossier.delivery
    return ctx.dossier.channel == "postal" and bool(delivery and delivery.kind == "postal")


def payment_mode(ctx: StepContext) -> str:
    """`desk` for a dossier filed at the desk, or entered there unless it came by post and goes
    back by post (the citizen is at home: the procedure's mode, so online is offered); else the
    procedure's configured mode."""
    if ctx.dossier.channel == "desk" or (entered_by_staff(ctx.dossier) and not _by_post_both_ways(ctx)):
        return "desk"
    return ctx.config.mode


def pays_before_posting(ctx: StepContext) -> bool:
    """Online mode, and the fee need not stop the dossier: the result goes back by post and
    either the post collects the fee on delivery (COD), or the papers came by post and were
    entered at the desk. The citizen may then pay online any time before the result is posted
    (motcua.payments.ONLINE_DUE) or, with COD, pay the postman; the postal step posts nothing
    unpaid that the post may not collect."""
    if payment_mode(ctx) != "online":
        return False
    return _cash_on_delivery(ctx) or (_by_post_both_ways(ctx) and entered_by_staff(ctx.dossier))


def _paid(ctx: StepContext) -> bool:
    return (bool(ctx.state.get("paid")) or ctx.has_event("paid")) and amount_due(ctx.dossier) == 0


def _owes(ctx: StepContext) -> bool:
    return amount_due(ctx.dossier) > 0


def _not_yet_received(ctx: StepContext) -> bool:
    """The pause for the fee began at "new" (status 1: the dossier was never received, the
    level-4 way, payment first): refusing it then is refusing to take it on (status 3, form 03).
    A dossier received or decided before its fee was asked for is not refused this way."""
    from motcua.workflow.lifecycle import engine_state

    resume_to = engine_state(ctx.dossier).get("resume_to")
    return resume_to is not None and Status(resume_to) == Status.NEW


def parse_amount(value: Any) -> int | None:
    """An amount in VND as a clerk types it: `115000`, `115.000`, `115,000 ₫`; None if it is
    not a whole, positive number of đồng."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    if not isinstance(value, str):
        return None
    text = value.strip().replace("₫", "").replace("đ", "").replace("VND", "").strip()
    digits = text.replace(".", "").replace(",", "").replace(" ", "").replace("\u00a0", "")
    if not digits or not digits.isascii() or not digits.isdigit() or len(digits) > 12:
        return None
    return int(digits)


def _cash_on_delivery(ctx: StepContext) -> bool:
    """The result goes by post and the procedure's postal option collects the fee on delivery
    (motcua_plugins.postal books the parcel with COD = the fee due): the citizen pays the postman."""
    delivery = ctx.dossier.delivery
    option = ctx.spec.delivery_option("postal") if ctx.spec else None
    return bool(delivery and delivery.kind == "postal" and option and option.cash_on_delivery)


#: The fee-due note, worded by how the fee will be paid (as the citizen's panel says it).
DUE_AT_DESK = {"vi": "Phí, lệ phí phải nộp tại Bộ phận một cửa: {amount}.", "en": "Fees to pay at the one-stop desk: {amount}."}
BEFORE_POSTING = {"vi": "Phí, lệ phí {amount}: thanh toán trực tuyến trên trang tra cứu hồ sơ; kết quả được gửi qua bưu điện sau khi nộp.",
                  "en": "Fees of {amount}: pay online on the dossier's tracking page; the result is posted once they are paid."}
BEFORE_POSTING_OR_COD = {"vi": "Phí, lệ phí {amount}: thanh toán trực tuyến trên trang tra cứu hồ sơ, hoặc nộp cho bưu điện khi nhận kết quả (thu hộ).",
                         "en": "Fees of {amount}: pay online on the dossier's tracking page, or pay the post office on delivery of the result."}
#: what staff read for either (the citizen's note tells the citizen what to do)
STAFF_BEFORE_POSTING = {"vi": "Phí, lệ phí {amount} chưa nộp: công dân có thể thanh toán trực tuyến; kết quả chỉ gửi qua bưu điện "
                              "khi đã nộp, hoặc bưu điện thu hộ nếu thủ tục cho phép.",
                        "en": "Fees of {amount} unpaid: the citizen may pay online; the result is posted only once paid, or the "
                              "post office collects them on delivery where the procedure allows it."}
DUE_ON_DELIVERY = {"vi": "Phí, lệ phí {amount} nộp cho bưu điện khi nhận kết quả (thu hộ).",
                   "en": "Fees of {amount} to be paid to the post office on delivery of the result (cash on delivery)."}


class PaymentStep(Step):
    name = "payment"
    title = {"vi": "Thanh toán phí, lệ phí", "en": "Fee payment"}
    template_folder = TEMPLATES
    Config = PaymentConfig
    collects_fees = True  # skipped by a `when`, it applies again once a fee is owed (motcua.workflow.plan)
    events = {
        "payment_not_needed": EventKind(label={"vi": "Không phải nộp phí, lệ phí", "en": "No fees to pay"}),
        # due, not paid: the desk takes the money later (record_payment writes `paid`)
        "payment_due_at_desk": EventKind(label={"vi": "Chờ nộp phí, lệ phí", "en": "Fees due"}),
        "payment_failed": EventKind(label={"vi": "Thanh toán không thành công", "en": "Payment failed"}),
        ONLINE_DUE: EventKind(label={"vi": "Chờ nộp phí, lệ phí trước khi gửi kết quả", "en": "Fees due before the result is posted"}),
        payments.REFUND_REQUESTED: EventKind(label={"vi": "Đề nghị hoàn trả phí, lệ phí", "en": "Refund requested"}),
        "payment_refunded": EventKind(label={"vi": "Đã hoàn trả phí, lệ phí", "en": "Fees refunded"}),
        # the refund job gave up (gateway unreachable): an administrator runs it again
        refunds.FAILED: EventKind(label={"vi": "Chưa hoàn trả được qua cổng thanh toán", "en": "Refund through the gateway failed"},
                                  internal=True),
        # the gateway said no: staff refund by hand (the citizen is told once it is done)
        "payment_refund_refused": EventKind(label={"vi": "Cổng thanh toán từ chối hoàn tiền, cần cán bộ xử lý",
                                                   "en": "The gateway refused the refund; staff must act"}, internal=True),
        "payment_checked": EventKind(label={"vi": "Kiểm tra trạng thái thanh toán", "en": "Payment status checked"},
                                     internal=True),
        # paid in cash more than the receiving office charges (a transfer between offices)
        "refund_due_at_desk": EventKind(label={"vi": "Chờ hoàn trả tiền nộp thừa tại quầy",
                                               "en": "Overpayment to be refunded at the desk"}),
    }

    @classmethod
    def start_warnings(cls, config: Any, app_config: Any) -> list[str]:
        """Online payment asked for, but the gateway it goes through cannot take one: name the
        setting to set (citizens are shown the desk, or the post's cash on delivery, meanwhile)."""
        if config.mode != "online":
            return []
        chosen = config.gateway or app_config.get("PAYMENT_GATEWAY") or DEFAULT_GATEWAY
        where = "the spec's payment step (config.gateway)" if config.gateway else (
            "PAYMENT_GATEWAY (MOTCUA_PAYMENT_GATEWAY)" if app_config.get("PAYMENT_GATEWAY") else
            "the default, as PAYMENT_GATEWAY (MOTCUA_PAYMENT_GATEWAY) is unset")
        gateway = GATEWAYS.get(chosen, app_config)
        if gateway is None:
            installed = GATEWAYS.all().get(chosen)
            why = "a demo-only simulator, enabled only by `motcua serve --demo`" if installed else "not an installed gateway"
            return [f"online payment goes through the gateway {chosen!r} ({where}), which is {why}: online payment is "
                    "not offered; citizens are told to pay at the desk (docs/plugins.md)"]
        if gateway(app_config).configured() or (app_config.get("DEMO") and _simulated(gateway)):
            return []  # `motcua serve --demo` points the gateway at its simulator after create_app
        missing = [key for key in gateway.settings if not app_config.get(key)] or list(gateway.settings)
        settings = ", ".join(f"{key} (MOTCUA_{key})" for key in missing) or "its settings"
        return [f"online payment goes through the gateway {chosen!r} ({where}), which is not configured: set {settings}, "
                "or start with `motcua serve --demo` for the payment simulators; until then online payment is not "
                "offered and citizens are told to pay at the desk"]

    def enter(self, ctx: StepContext) -> None:
        if not _owes(ctx):
            if ctx.dossier.fee_total <= 0:
                ctx.record("payment_not_needed", note={"vi": "Hồ sơ không phải nộp phí, lệ phí.",
                                                       "en": "This dossier has no fees to pay."})
            ctx.done()
            return
        amount = amount_due(ctx.dossier)
        if pays_before_posting(ctx):
            text = BEFORE_POSTING_OR_COD if _cash_on_delivery(ctx) else BEFORE_POSTING
            ctx.record(ONLINE_DUE, note=message(text, amount=money(amount)),
                       data={"amount": amount, STAFF_NOTE: message(STAFF_BEFORE_POSTING, amount=money(amount))})
            ctx.done()  # nothing paused: the postal step waits for the fee (or collects it) when the result is ready
            return
        if payment_mode(ctx) == "online":
            if ctx.status != Status.PAYMENT_REQUESTED:
                ctx.move("request_payment", note=message({"vi": "Phí, lệ phí phải nộp: {amount}.", "en": "Fees to pay: {amount}."},
                                                         amount=money(amount)), data={"amount": amount})
            return  # wait for the gateway's IPN
        due = DUE_ON_DELIVERY if _cash_on_delivery(ctx) else DUE_AT_DESK
        ctx.record("payment_due_at_desk", note=message(due, amount=money(amount)), data={"amount": amount})
        ctx.done()  # level 3: paid at the desk (or to the postman); only returning the result waits for it

    def on_event(self, ctx: StepContext, event: Any) -> None:
        if event.kind == "paid":
            if not ctx.state.get("paid"):
                ctx.state.update(paid=True, amount=event.data.get("amount"), method=event.data.get("method"))
            if ctx.is_current and not _owes(ctx):  # part of the bill paid: still waiting for the rest
                ctx.done()
        elif event.kind == "payment_failed":
            ctx.state["last_failure"] = event.note
            ctx.state["last_failure_code"] = event.data.get("response_code")
            ctx.state["last_failure_reason"] = event.data.get("reason")
        elif event.kind == "supplemented":
            _request_rest(ctx)
        elif event.kind == "office_transferred" and "fee_total" in (event.data or {}):
            _after_transfer(ctx, event)
        elif event.kind in ("refused", "withdrawn"):
            refunds.redefer_failed(ctx)  # closing drops the dossier's dead jobs
            if event.kind in ctx.config.refund_on:
                _refund_all(ctx, event.kind)
        elif event.kind == payments.REFUND_REQUESTED:
            refunds.defer(ctx, event.data)

    def run_job(self, ctx: StepContext, job: str, key: str, arguments: dict[str, Any]) -> Any:
        """Ask the gateway for a refund (motcua_plugins.payment_refunds), in the worker."""
        if job != refunds.JOB:
            raise NotImplementedError(job)
        return refunds.run(ctx, key, arguments)

    def job_done(self, ctx: StepContext, job: str, key: str, arguments: dict[str, Any], result: Any) -> None:
        refunds.done(ctx, key, arguments, result)

    def job_failed(self, ctx: StepContext, job: str, key: str, arguments: dict[str, Any], error: str) -> None:
        refunds.failed(ctx, key, error)

    def job_retried(self, ctx: StepContext, job: str, key: str, arguments: dict[str, Any]) -> bool:
        return refunds.retried(ctx, key)

    def actions(self, ctx: StepContext, user: Any) -> list[Action]:
        offered: list[Action] = []
        if _refundable(ctx, ctx.dossier):
            offered.append(Action(name="refund_surplus", label={"vi": "Hoàn trả tiền nộp thừa qua cổng thanh toán",
                                                                 "en": "Refund the overpayment through the gateway"},
                                  roles=("desk", "leader")))
        if payments.cash_to_refund(ctx.dossier) > 0:
            offered.append(Action(name="refund_at_desk", label={"vi": "Ghi nhận đã hoàn trả tiền nộp thừa tại quầy",
                                                                 "en": "Record the overpayment refunded at the desk"},
                                  roles=("desk",),
                                  fields=[ActionField(name="receipt_no", label={"vi": "Số phiếu chi", "en": "Payment voucher number"})]))
        if (payment_mode(ctx) == "online" and ctx.status == Status.PAYMENT_REQUESTED
                and payments.can_reconcile(ctx.services.store, ctx.app_config, ctx.dossier.code)):
            offered.append(Action(name="check_payment", label={"vi": "Kiểm tra trạng thái thanh toán",
                                                                "en": "Check payment status"}, roles=("desk",)))
        if not _owes(ctx) or ctx.status in (Status.REFUSED, Status.WITHDRAWN, Status.RETURNED):
            return offered
        # whatever the mode, cash at the counter settles what is owed: a level-4 dossier frozen
        # in "payment requested", paper that came by post with the fee the postman collected
        waiting_online = ctx.status == Status.PAYMENT_REQUESTED
        due = i18n.money(amount_due(ctx.dossier), "vi")
        offered += [
            Action(
                name="record_payment",
                label={"vi": "Ghi nhận đã nộp phí tại quầy", "en": "Record payment at the desk"},
                roles=("desk",),
                fields=[ActionField(name="receipt_no", label={"vi": "Số biên lai thu", "en": "Receipt number"}),
                        ActionField(name="amount", label={"vi": "Số tiền đã thu (đồng)", "en": "Amount received (VND)"},
                                    help={"vi": f"Số phải nộp: {due}.", "en": f"Due: {i18n.money(amount_due(ctx.dossier), 'en')}."})],
            )
        ]
        if waiting_online and _not_yet_received(ctx):
            # level 4, frozen in "payment requested": the desk may also refuse it unpaid
            offered.append(Action(
                name="refuse_unpaid",
                label={"vi": "Từ chối hồ sơ do không nộp phí, lệ phí", "en": "Refuse the dossier: fees not paid"},
                roles=("desk",), needs_reason=True, style="danger",
            ))
        return offered

    def perform(self, ctx: StepContext, action: str, user: Any, params: dict[str, Any]) -> None:
        from motcua.payments import cancel_open

        if action == "check_payment":
            _check(ctx)
            return
        if action == "refund_at_desk":
            voucher = params_text(params, "receipt_no")
            ctx.engine.decide(ctx.dossier.code, lambda d: _cash_refund(d, voucher, ctx.actor, ctx.step_name))
            return
        if action == "refund_surplus":
            by = getattr(user, "username", "staff")
            ctx.engine.decide(ctx.dossier.code, lambda d: _surplus_refunds(ctx, d, by))
            return
        if action not in ("record_payment", "refuse_unpaid") or not _owes(ctx):
            raise ActionNotAllowed("Hồ sơ không còn khoản phí nào phải nộp.")
        if action == "refuse_unpaid":
            if ctx.status != Status.PAYMENT_REQUESTED or not _not_yet_received(ctx):
                raise ActionNotAllowed("Chỉ từ chối được hồ sơ chưa tiếp nhận đang chờ thanh toán trực tuyến.")
            reason = params_text(params, "reason")
            # the online order first: a gateway callback arriving after this never pays (motcua.payments)
            cancel_open(ctx.services.store, ctx.dossier.code, "refuse_unpaid")
            ctx.move("refuse_unpaid", note=reason, data={"reason": reason, "amount_due": amount_due(ctx.dossier)})
            return
        receipt_no = params_text(params, "receipt_no")
        due = amount_due(ctx.dossier)
        amount = parse_amount(params.get("amount"))
        if amount is None:
            raise ActionNotAllowed("Số tiền đã thu không hợp lệ: nhập số đồng, ví dụ 115000.", field="amount")
        if amount != due:
            raise ActionNotAllowed(f"Số tiền đã thu ({i18n.money(amount, 'vi')}) khác số phí, lệ phí phải nộp "
                                   f"({i18n.money(due, 'vi')}).", field="amount")
        note = message({"vi": "Đã thu {amount} tại quầy, biên lai số {receipt}.", "en": "{amount} received at the desk, receipt no. {receipt}."},
                       amount=money(due), receipt=receipt_no)
        cancelled = cancel_open(ctx.services.store, ctx.dossier.code, "record_payment")
        # no actor=: the event is credited to `user`, whose action this is
        record_paid(ctx, amount=due, method="desk", note=note,
                    data={"receipt_no": receipt_no, **({"cancelled_order": cancelled} if cancelled else {})})

    def blocks(self, ctx: StepContext, action: str) -> str | None:
        if action == "return_result" and _owes(ctx):
            return f"Công dân chưa nộp phí, lệ phí ({i18n.money(amount_due(ctx.dossier), 'vi')})."
        return None

    def citizen_panel(self, ctx: StepContext) -> Markup | None:
        from flask import render_template

        if ctx.dossier.fee_total <= 0:
            return None
        chosen = gateway_id(ctx)
        cls = GATEWAYS.get(chosen)
        return Markup(render_template("payment/citizen.html", ctx=ctx, dossier=ctx.dossier,
                                      paid=_paid(ctx), config=_shown(ctx), token=payment_token(ctx.dossier.code, chosen),
                                      pay_online=payment_mode(ctx) == "online" and may_pay_online(ctx.dossier),
                                      gateway_ready=online_gateway(chosen, ctx.app_config) is not None,
                                      failure=_last_failure(ctx), gateway_id=chosen, refunded=_refunded(ctx),
                                      refunding=sum(r["amount"] for r in refunds.pending(ctx.dossier)),
                                      gateway_title=(getattr(cls, "title", None) or {"vi": chosen})))

    def staff_panel(self, ctx: StepContext) -> Markup | None:
        from flask import render_template

        if ctx.dossier.fee_total <= 0:
            return None
        return Markup(render_template("payment/staff.html", ctx=ctx, dossier=ctx.dossier, paid=_paid(ctx), config=_shown(ctx),
                                      refund_failed=any(r["failed"] for r in refunds.pending(ctx.dossier))))


def _request_rest(ctx: StepContext) -> None:
    """A supplement's corrected answers raised the fee of a dossier that already went past this
    step (paid online, or owing nothing then): ask for the rest online as at filing, so the
    citizen gets the pay button again and the clock pauses until the gateway's IPN. The desk
    mode needs nothing here: `record_payment` is offered while anything is owed."""
    if ctx.engine.cursor(ctx.dossier) <= ctx.index or payment_mode(ctx) != "online" or not _owes(ctx):
        return  # not reached yet (enter() asks for the whole), or nothing to ask online
    if pays_before_posting(ctx):
        return  # the pay button stays offered while anything is owed (motcua.payments.may_pay_online)
    if ctx.status == Status.PAYMENT_REQUESTED or not allowed(ctx.status, "request_payment"):
        return
    amount = amount_due(ctx.dossier)
    ctx.state.pop("last_failure", None)
    ctx.state.pop("last_failure_code", None)
    ctx.state.pop("last_failure_reason", None)
    ctx.move("request_payment", note=message({"vi": "Hồ sơ bổ sung làm tăng phí, lệ phí; số còn phải nộp: {amount}.",
                                              "en": "The supplement raised the fees; still to pay: {amount}."},
                                             amount=money(amount)), data={"amount": amount})


TRANSFER_REST = {"vi": "Hồ sơ được chuyển sang cơ quan có mức phí, lệ phí cao hơn; số còn phải nộp: {amount}.",
                 "en": "The dossier was sent to an office charging higher fees; still to pay: {amount}."}
TRANSFER_NOTHING_DUE = {"vi": "Hồ sơ được chuyển sang cơ quan có mức phí, lệ phí thấp hơn: không còn khoản nào phải nộp.",
                        "en": "The dossier was sent to an office charging lower fees: nothing is left to pay."}
TRANSFER_SURPLUS = {"vi": "Hồ sơ được chuyển sang cơ quan có mức phí, lệ phí thấp hơn: {amount} đã nộp qua {gateway} "
                          "(giao dịch {ref}) được hoàn lại cho công dân.",
                    "en": "The dossier was sent to an office charging lower fees: {amount} paid through {gateway} "
                          "(payment {ref}) is to be refunded to the citizen."}
TRANSFER_CASH = {"vi": "Hồ sơ được chuyển sang cơ quan có mức phí, lệ phí thấp hơn: {amount} đã nộp tại quầy được "
                       "hoàn trả cho công dân tại quầy.",
                 "en": "The dossier was sent to an office charging lower fees: {amount} paid at the desk is to be "
                       "refunded to the citizen at the desk."}


def _after_transfer(ctx: StepContext, event: Any) -> None:
    """The dossier went to another office whose fee differs (the engine re-billed it, event
    data `fee_total` {old, new}). Owing more: the rest is asked for as after a supplement
    (online: "payment requested" again; at the desk: the new amount due). Paid more than the
    new bill: the difference is an overpayment, recorded against the online payments (latest
    first) as `payment_surplus`, so the receiving office's desk gives it back through the
    gateway with the existing "refund the overpayment" action; what was paid in cash is
    recorded for a refund at the desk. Recorded once per transfer (`once="transfer"`). Still
    waiting for the fee before receipt: the open order (at the old amount) is cancelled and
    the pay button offers the new bill; nothing left to pay resumes the dossier."""
    _bring_refunds_to(ctx, payments.overpaid(ctx.dossier), event.at.isoformat())
    if ctx.status == Status.PAYMENT_REQUESTED:
        # the order opened at the old amount is cancelled: paid after this, it is recorded as an
        # overpayment to refund (motcua.payments), never as paying the new bill
        payments.cancel_open(ctx.services.store, ctx.dossier.code, "transfer_office")
        if amount_due(ctx.dossier) > 0:
            return  # the pay button offers amount_due, the new bill's
        ctx.move("pay", note=message(TRANSFER_NOTHING_DUE), data={"amount": 0, "method": "none"})
    elif amount_due(ctx.dossier) > 0:
        if ctx.engine.cursor(ctx.dossier) <= ctx.index:
            return  # not reached yet: enter() asks for the whole new bill
        if payment_mode(ctx) == "online":
            if pays_before_posting(ctx) or not allowed(ctx.status, "request_payment"):
                return  # the pay button offers amount_due, which is the new one already
            amount = amount_due(ctx.dossier)
            ctx.move("request_payment", note=message(TRANSFER_REST, amount=money(amount)), data={"amount": amount})
        else:  # at the desk: the new amount due is on the timeline, `record_payment` takes it
            amount = amount_due(ctx.dossier)
            ctx.record("payment_due_at_desk", note=message(DUE_AT_DESK, amount=money(amount)), data={"amount": amount})


TRANSFER_LESS_TO_REFUND = {"vi": "Hồ sơ được chuyển sang cơ quan có mức phí, lệ phí khác: số tiền nộp thừa còn phải hoàn trả "
                                 "cho công dân là {amount}.",
                           "en": "The dossier was sent to an office charging other fees: the overpayment still to be "
                                 "refunded to the citizen is {amount}."}


def _bring_refunds_to(ctx: StepContext, over: int, at: str) -> None:
    """Make the recorded overpayments still to give back add up to `over` (what is paid
    beyond the new bill, motcua.payments.overpaid): derived on every transfer, never added
    to what an earlier transfer recorded. Short of it: the rest is recorded against the
    online payments (latest first, `payment_surplus`, `refund_due` the payment's whole
    overpayment so far), then as cash to give back at the desk (`refund_due_at_desk`).
    Beyond it (sent back to a dearer office before the refund): the records are lowered,
    cash first, and the timeline says what is still to be refunded. The refund actions
    cap what they give back by `overpaid` anyway (motcua.payments.surpluses)."""
    dossier = ctx.dossier
    counted = {e.data.get("txn_ref") for e in dossier.events if e.kind == "paid" and e.data}
    online = [i for i in payments.recorded_surpluses(dossier) if i["txn_ref"] in counted]
    cash = payments.cash_recorded(dossier)
    pending = sum(i["amount"] - i["refunded"] for i in online) + cash
    if over < pending:
        excess = pending - over
        cut = min(cash, excess)
        if cut:
            excess -= cut
            done = payments.cash_refunded(dossier)
            ctx.record("refund_due_at_desk", note=message(TRANSFER_LESS_TO_REFUND, amount=money(cash - cut)),
                       data={"amount": cash - cut, "refund_due": done + cash - cut, "transfer": at}, once="transfer")
        for item in reversed(online):  # the latest payment's overpayment is lowered first
            cut = min(item["amount"] - item["refunded"], excess)
            if cut <= 0:
                continue
            excess -= cut
            left = item["amount"] - item["refunded"] - cut
            ctx.record("payment_surplus", note=message(TRANSFER_LESS_TO_REFUND, amount=money(left)),
                       data={"txn_ref": item["txn_ref"], "method": item["gateway"], "amount": item["amount"],
                             "transaction_no": item["transaction"], "refund_due": item["amount"] - cut,
                             "transfer": f"{at}:{item['txn_ref']}"}, once="transfer")
        return
    surplus = over - pending
    if surplus <= 0:
        return
    recorded = {i["txn_ref"]: i["amount"] for i in online}
    for item in reversed(payments.online_payments(dossier)):  # the latest payment first
        if surplus <= 0:
            break
        if item["gateway"] in (None, "desk", "cod") or item["txn_ref"] not in counted:
            continue
        part = min(surplus, item["amount"] - max(item["refunded"], recorded.get(item["txn_ref"], 0)))
        if part <= 0:
            continue
        surplus -= part
        cls = GATEWAYS.get(item["gateway"] or "")
        name = words(getattr(cls, "title", None) or {"vi": item["gateway"], "en": item["gateway"]})
        # `refund_due` is this payment's whole overpayment so far (motcua.payments.surpluses
        # takes the latest per payment and gives back what its refunds have not)
        ctx.record("payment_surplus", note=message(TRANSFER_SURPLUS, amount=money(part), gateway=name, ref=item["txn_ref"]),
                   data={"txn_ref": item["txn_ref"], "method": item["gateway"], "amount": item["amount"],
                         "transaction_no": item["transaction"],
                         "refund_due": part + max(item["refunded"], recorded.get(item["txn_ref"], 0)),
                         "transfer": f"{at}:{item['txn_ref']}"}, once="transfer")
    if surplus > 0:
        ctx.record("refund_due_at_desk", note=message(TRANSFER_CASH, amount=money(surplus)),
                   data={"amount": surplus, "refund_due": payments.cash_refunded(dossier) + cash + surplus, "transfer": at}, once="transfer")


REFUNDED_AT_DESK = {"vi": "Đã hoàn trả {amount} nộp thừa tại quầy, phiếu chi số {voucher}.",
                    "en": "{amount} overpaid refunded at the desk, voucher no. {voucher}."}


def _cash_refund(dossier: Any, voucher: str, actor: str, step: str) -> list[dict[str, Any]]:
    """The desk's cash refund of an overpayment, decided under the dossier's lock
    (Engine.decide): the amount is `payments.cash_to_refund` of the dossier as it is then, so
    two clerks at once, or a transfer back to a dearer office just before, never give back
    money the bill needs."""
    amount = payments.cash_to_refund(dossier)
    if amount <= 0:
        raise ActionNotAllowed("Hồ sơ không có khoản nộp thừa nào chờ hoàn trả tại quầy.")
    done = sum(1 for e in dossier.events if e.kind == "payment_refunded" and (e.data or {}).get("method") == "desk")
    # a cash refund gives back part of the cash paid (`paid` events without txn_ref):
    # motcua.payments.net_paid counts it as an overpayment's refund (`RS...`)
    return [{"actor": actor, "kind": "payment_refunded", "note": message(REFUNDED_AT_DESK, amount=money(amount), voucher=voucher),
             "data": {"amount": amount, "method": "desk", "txn_ref": None, "receipt_no": voucher,
                      "refund_ref": f"RSDESK{done + 1}", "step": step}, "once": "refund_ref"}]


def _surplus_refunds(ctx: StepContext, dossier: Any, requested_by: str) -> list[dict[str, Any]]:
    """The overpayments to give back through their gateways, decided under the dossier's lock
    (Engine.decide): what may be given back is `payments.surpluses` of the dossier as it is
    then (capped by the bill, less what is already on its way back), so a transfer or a
    second clerk committed meanwhile is seen. Only the request is recorded here; a job asks
    the gateway (motcua_plugins.payment_refunds), so nobody waits on the bank."""
    items = _refundable(ctx, dossier)
    if not items:
        raise ActionNotAllowed("Hồ sơ không có khoản nộp thừa nào chờ hoàn trả.")
    return [refunds.request(ctx, item, actor=ctx.actor, reason=f"{dossier.code}: overpayment", requested_by=requested_by)
            for item in items]


#: what staff read after "check payment status", per outcome of motcua.payments.reconcile
CHECKED = {
    "ok": {"vi": "Cổng thanh toán xác nhận kết quả giao dịch {ref}; đã ghi nhận.",
           "en": "The gateway confirmed the result of payment {ref}; recorded."},
    "duplicate": {"vi": "Kết quả giao dịch {ref} đã được ghi nhận trước đó.", "en": "The result of payment {ref} was already recorded."},
    "pending": {"vi": "Cổng thanh toán chưa có kết quả cho giao dịch {ref} (công dân chưa hoàn tất thanh toán).",
                "en": "The gateway has no result for payment {ref} yet (the citizen has not finished paying)."},
    "wrong_amount": {"vi": "Cổng thanh toán báo số tiền khác với giao dịch {ref}; không ghi nhận, cần đối soát.",
                     "en": "The gateway reports another amount for payment {ref}; not recorded, reconcile by hand."},
}


def _check(ctx: StepContext) -> None:
    """Staff ask the gateway about the open order (its IPN never came): the answer is recorded
    by motcua.payments.confirm, as a webhook's; what was found is a staff-only note."""
    try:
        outcome, order = payments.reconcile(ctx.services, ctx.app_config, ctx.dossier.code)
    except GatewayUnavailable as exc:
        raise ActionNotAllowed("Không kết nối được cổng thanh toán; vui lòng thử lại sau.") from exc
    if order is None or outcome == "nothing":
        raise ActionNotAllowed("Hồ sơ không có giao dịch thanh toán nào đang chờ kết quả.")
    text = CHECKED.get(outcome, {"vi": "Kết quả kiểm tra giao dịch {ref}: " + outcome + ".",
                                 "en": "Checking payment {ref}: " + outcome + "."})
    ctx.record("payment_checked", note=message(text, ref=order.ref), data={"txn_ref": order.ref, "outcome": outcome})


def _refundable(ctx: StepContext, dossier: Any) -> list[dict[str, Any]]:
    """Overpayments still to give back (capped by the bill: motcua.payments.surpluses) whose
    gateway can refund them."""
    items = []
    for item in payments.surpluses(dossier):
        chosen = payments.gateway_for(ctx.app_config, item["gateway"] or "")
        if chosen is not None and chosen.offers("refund"):
            items.append(item)
    return items


def _refund_all(ctx: StepContext, why: str) -> None:
    """Ask for every online payment of the dossier back (the spec says its fees are
    refundable when it is refused / withdrawn): one `payment_refund_requested` each, whose
    job asks the gateway. Safe to run twice: the refund id is the order's, and a payment
    already given back, or on its way back, is no longer listed."""
    for item in payments.online_payments(ctx.dossier):
        if item["gateway"] in (None, "desk", "cod"):
            continue
        refunds.record(ctx, refunds.request(ctx, item, actor=ctx.actor, reason=f"{ctx.dossier.code}: {why}",
                                            requested_by="system", why=why))


def record_paid(ctx: StepContext, *, amount: int, method: str, note: Any, data: dict[str, Any] | None = None,
                actor: str | None = None) -> None:
    """The one way a payment is written: a `paid` event with amount and method (the `pay` move
    when the dossier waits in "payment requested"), whoever took the money: the desk
    (`record_payment`) or the post office on delivery (postal step, method `cod`)."""
    data = {"amount": amount, "method": method, **(data or {})}
    if ctx.status == Status.PAYMENT_REQUESTED:
        ctx.move("pay", note=note, data=data, actor=actor)
    else:
        ctx.record("paid", note=note, data=data, actor=actor)


def _refunded(ctx: StepContext) -> int:
    """VND given back to the citizen through the gateway (`payment_refunded` events)."""
    return sum(e.data.get("amount", 0) for e in ctx.dossier.events
               if e.kind == "payment_refunded" and isinstance((e.data or {}).get("amount"), int))


def _last_failure(ctx: StepContext) -> dict[str, str] | None:
    """Why the last online payment failed, as the payer is told (the gateway's words,
    `Gateway.failure_reason`, kept with the `payment_failed` event)."""
    if not ctx.state.get("last_failure"):
        return None
    reason = ctx.state.get("last_failure_reason")
    if isinstance(reason, dict) and reason.get("vi"):
        return reason
    code = ctx.state.get("last_failure_code")  # recorded before the reason was kept
    return ({"vi": f"Giao dịch không thành công (mã {code}).", "en": f"The payment did not go through (code {code})."}
            if code else {"vi": "Giao dịch không thành công.", "en": "The payment did not go through."})


def _shown(ctx: StepContext) -> PaymentConfig:
    """The config as the panels show it: with the mode this dossier actually pays in."""
    return ctx.config.model_copy(update={"mode": payment_mode(ctx)})
