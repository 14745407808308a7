"""Refunds through a payment gateway as jobs: never inside the dossier's lock, nor a request.

The change that decides a refund (the dossier refused or withdrawn under a spec whose fees
are refundable; the desk's "refund the overpayment", decided under the dossier's lock)
records `payment_refund_requested` with the refund id (`motcua.payments.refund_ref`: derived
from the order and what was given back before it). The payment step, shown that event,
defers a `refund` step job keyed by the refund id (saved with the change: one transaction
on PostgreSQL). The job asks the gateway with the refund id as its idempotency key, outside
any lock, and a second change records the answer once per refund id: `payment_refunded`
(the citizen sees it) or the staff-only `payment_refund_refused` (staff refund by hand).

Never refunded twice: until the answer is recorded the money counts as given back
(`motcua.payments.refunds`), so nobody asks for it again meanwhile; a job run twice, or run
again after a worker was killed once the gateway had paid, asks under the same id, and the
gateway answers a repeated id with its first answer. An unreachable gateway: the job is
retried with backoff (`STEP_JOB_BACKOFF_SECONDS`, `STEP_JOB_ATTEMPTS`); once it gives up,
staff see `payment_refund_failed` and the refund stays on its way until an administrator
runs the job again (`/staff/viec-nen`); a dossier that closes then (which drops its dead
jobs, motcua.jobs.drop_dead) has the job deferred again.
"""

from __future__ import annotations

from typing import Any

from motcua import payments
from motcua.integrations import GATEWAYS
from motcua.integrations.gateways import RefundResult
from motcua.payments import REFUND_ANSWERS, REFUND_REQUESTED
from motcua.workflow.notes import message, money, words
from motcua.workflow.step import StepContext

#: the step job that asks the gateway
JOB = "refund"
FAILED = "payment_refund_failed"

WHY = {"refused": {"vi": "bị từ chối tiếp nhận", "en": "refused"}, "withdrawn": {"vi": "được công dân rút", "en": "withdrawn"}}
REQUESTED = {"vi": "Đã đề nghị {gateway} hoàn trả {amount} (giao dịch gốc {ref}, mã hoàn tiền {refund}) do hồ sơ {why}.",
             "en": "{gateway} was asked to refund {amount} (payment {ref}, refund {refund}) as the dossier was {why}."}
REQUESTED_SURPLUS = {"vi": "Đã đề nghị {gateway} hoàn trả {amount} nộp thừa (giao dịch gốc {ref}, mã hoàn tiền {refund}).",
                     "en": "{gateway} was asked to refund {amount} overpaid (payment {ref}, refund {refund})."}
REFUNDED = {"vi": "Đã hoàn trả {amount} qua {gateway} (giao dịch gốc {ref}, mã hoàn tiền {txn}) do hồ sơ {why}.",
            "en": "{amount} refunded through {gateway} (payment {ref}, refund {txn}) as the dossier was {why}."}
REFUNDED_SURPLUS = {"vi": "Đã hoàn trả {amount} nộp thừa qua {gateway} (giao dịch gốc {ref}, mã hoàn tiền {txn}).",
                    "en": "{amount} overpaid refunded through {gateway} (payment {ref}, refund {txn})."}
REFUND_REFUSED = {"vi": "Cổng {gateway} từ chối hoàn {amount} của giao dịch {ref} (mã {code}): cán bộ cần hoàn tiền thủ công.",
                  "en": "{gateway} refused to refund {amount} of payment {ref} (code {code}): staff must refund by hand."}
REFUND_FAILED = {"vi": "Chưa hoàn trả được {amount} qua {gateway} (mã hoàn tiền {refund}) sau nhiều lần thử: {error}. "
                       "Quản trị viên có thể cho chạy lại tại trang Việc nền lỗi.",
                 "en": "{amount} could not be refunded through {gateway} (refund {refund}) after several attempts: "
                       "{error}. An administrator can run it again from the failed jobs page."}


def _gateway_words(gateway: str | None) -> Any:
    cls = GATEWAYS.get(gateway or "")
    return words(getattr(cls, "title", None) or {"vi": gateway or "", "en": gateway or ""})


def _why(data: dict[str, Any]) -> Any:
    return words(WHY[data["why"]]) if data.get("why") in WHY else ""


def request(ctx: StepContext, item: dict[str, Any], *, actor: str, reason: str, requested_by: str,
            why: str | None = None) -> dict[str, Any]:
    """The wish (`Engine.decide`'s shape) that asks for what is left of `item` (an entry of
    `payments.online_payments` or `payments.surpluses`) back: `payment_refund_requested`,
    whose job asks the gateway; or, for a gateway that cannot refund here (not installed,
    disabled, no refund API), the staff-only refusal at once. `why`: `refused` / `withdrawn`
    (None: an overpayment)."""
    amount = item["amount"] - item["refunded"]
    ref = payments.refund_ref(item)
    data = {"txn_ref": item["txn_ref"], "method": item["gateway"], "amount": amount, "refund_ref": ref, "step": ctx.step_name}
    values = {"amount": money(amount), "ref": item["txn_ref"], "gateway": _gateway_words(item["gateway"])}
    chosen = payments.gateway_for(ctx.app_config, item["gateway"] or "")
    if chosen is None or not chosen.offers("refund"):
        return {"actor": f"gateway:{item['gateway']}", "kind": "payment_refund_refused",
                "note": message(REFUND_REFUSED, **values, code="no_refund_api"),
                "data": {**data, "reason_code": "no_refund_api", "message": "the gateway offers no refund here"},
                "once": "refund_ref"}
    text = REQUESTED if why else REQUESTED_SURPLUS
    return {"actor": actor, "kind": REFUND_REQUESTED,
            "note": message(text, **values, refund=ref, **({"why": words(WHY[why])} if why else {})),
            "data": {**data, "item": item, "reason": reason, "requested_by": requested_by, "why": why}, "once": "refund_ref"}


def record(ctx: StepContext, wish: dict[str, Any]) -> None:
    """A wish of `request` recorded by the step itself (the step's name is added by the engine)."""
    ctx.record(wish["kind"], actor=wish["actor"], note=wish["note"],
               data={k: v for k, v in wish["data"].items() if k != "step"}, once=wish.get("once"))


def _answered(dossier: Any, ref: str) -> bool:
    """The gateway's answer to refund `ref` is recorded (refunded, or refused)."""
    return any(e.kind in REFUND_ANSWERS and (e.data or {}).get("refund_ref") == ref for e in dossier.events)


def _requested(dossier: Any, ref: str) -> dict[str, Any] | None:
    return next((e.data or {} for e in dossier.events if e.kind == REFUND_REQUESTED and (e.data or {}).get("refund_ref") == ref),
                None)


def defer(ctx: StepContext, data: dict[str, Any]) -> None:
    """The job asking the gateway for the refund `data` (a `payment_refund_requested`'s)."""
    if not _answered(ctx.dossier, data["refund_ref"]):
        ctx.defer_job(JOB, data["refund_ref"], item=data["item"], reason=data.get("reason", ""), why=data.get("why"),
                      requested_by=data.get("requested_by") or "system")


def pending(dossier: Any) -> list[dict[str, Any]]:
    """Refunds asked and not answered, oldest first, each with `failed`: its job gave up (the
    last word about it is `payment_refund_failed`)."""
    answered = {(e.data or {}).get("refund_ref") for e in dossier.events if e.kind in REFUND_ANSWERS}
    found: dict[str, dict[str, Any]] = {}
    for event in dossier.events:
        data = event.data or {}
        ref = data.get("refund_ref")
        if event.kind == REFUND_REQUESTED and ref not in answered and ref not in found:
            found[ref] = {**data, "failed": False}
        elif event.kind == FAILED and ref in found:
            found[ref]["failed"] = True
    return list(found.values())


def redefer_failed(ctx: StepContext) -> None:
    """The dossier closed, which drops its dead jobs: a refund whose job had given up is
    deferred again (the money is still owed back; the same refund id, so never twice)."""
    for data in pending(ctx.dossier):
        if data["failed"]:
            defer(ctx, data)


def run(ctx: StepContext, key: str, arguments: dict[str, Any]) -> dict[str, Any] | None:
    """Ask the gateway (in the worker, outside the lock) to refund under the id `key`. Raises
    GatewayUnavailable to be retried; None when the refund was answered meanwhile."""
    if _answered(ctx.dossier, key):
        return None
    item = arguments["item"]
    if payments.refund_ref(item) != key:
        raise ValueError(f"refund job {key}: the item names refund {payments.refund_ref(item)}")
    try:
        result = payments.refund_payment(ctx.services.store, ctx.app_config, item,
                                         reason=arguments.get("reason", ""), requested_by=arguments.get("requested_by", "system"))
    except LookupError as exc:  # the gateway was uninstalled or lost its refund API since: a person must do it
        result = RefundResult(ok=False, reason_code="no_refund_api", message=str(exc))
    return {"ok": result.ok, "transaction": result.transaction, "reason_code": result.reason_code, "message": result.message}


def done(ctx: StepContext, key: str, arguments: dict[str, Any], result: dict[str, Any] | None) -> None:
    """Record the gateway's answer, once per refund id, under the dossier's lock."""
    asked = _requested(ctx.dossier, key)
    if not result or asked is None or _answered(ctx.dossier, key):
        return
    values = {"amount": money(asked["amount"]), "ref": asked["txn_ref"], "gateway": _gateway_words(asked["method"])}
    data = {"txn_ref": asked["txn_ref"], "method": asked["method"], "amount": asked["amount"], "refund_ref": key}
    actor = f"gateway:{asked['method']}"
    if result["ok"]:
        text = REFUNDED if asked.get("why") else REFUNDED_SURPLUS
        ctx.record("payment_refunded", actor=actor, once="refund_ref",
                   note=message(text, **values, txn=result["transaction"], **({"why": _why(asked)} if asked.get("why") else {})),
                   data={**data, "refund_transaction": result["transaction"]})
    else:
        ctx.record("payment_refund_refused", actor=actor, once="refund_ref",
                   note=message(REFUND_REFUSED, **values, code=result["reason_code"] or "?"),
                   data={**data, "reason_code": result["reason_code"], "message": result["message"]})


def failed(ctx: StepContext, key: str, error: str) -> None:
    """The job gave up (the gateway unreachable through every retry): staff see it; the refund
    stays on its way (still counted) until an administrator runs the job again."""
    asked = _requested(ctx.dossier, key)
    if asked is None or _answered(ctx.dossier, key):
        return
    ctx.record(FAILED, actor=f"gateway:{asked['method']}",
               note=message(REFUND_FAILED, amount=money(asked["amount"]), gateway=_gateway_words(asked["method"]),
                            refund=key, error=error),
               data={"txn_ref": asked["txn_ref"], "method": asked["method"], "amount": asked["amount"], "refund_ref": key,
                     "error": error})


def retried(ctx: StepContext, key: str) -> bool:
    """An administrator runs the dead job again: wanted while the gateway's answer is not recorded."""
    return _requested(ctx.dossier, key) is not None and not _answered(ctx.dossier, key)
