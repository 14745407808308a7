"""Payment orders: what a dossier owes online, and what the gateways' callbacks record.

The gateways (`motcua.gateways`) only speak their protocol; the money side is here, the same
for every gateway:

- `amount_due(dossier)`: the fee total less the payments recorded;
- `open_order`: ONE open order per dossier — a new order (the citizen pressed "pay" again, in
  another tab, or after a failure) supersedes the one before (`superseded_by`);
- `confirm`: a verified webhook is checked against its order (known, same amount, not yet
  confirmed: replays are answered "duplicate" and change nothing) and recorded:
  * a success is never lost: it pays what is owed (the `pay` move when the dossier waits for
    it); money the dossier did not owe (a superseded order paid after the current one) is
    recorded as `payment_surplus`, for staff to refund (`surpluses`, `refund_payment`);
  * a failure is shown to the citizen (`payment_failed`) only for the dossier's current
    order while the dossier still waits for that payment; a failure of a superseded order,
    or one arriving after the dossier was paid, is a staff-only note
    (`payment_failed_stale`), so "Thanh toán không thành công" never follows "Đã thanh toán".
- `cancel_open`: the desk settled the dossier another way (cash at the counter, or refused
  it unpaid): its open order is cancelled first, so a gateway callback arriving later for it
  never pays a second time: a success is recorded as `payment_surplus` (refund), a failure
  as a staff-only note;
- `return_outcome`: what the page the payer comes back to says; it reflects what the
  webhook recorded, never the browser's word.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from motcua.dossier import Status
from motcua.integrations.gateways import Gateway, Notification, Outcome, PaymentOrder

#: event data key of the staff's wording (motcua.web.labels.STAFF_NOTE; not imported: web is above)
STAFF_NOTE = "staff_note"

log = logging.getLogger(__name__)

#: record collections: order ref -> order; order ref -> its confirmation; code -> open order
PAYMENTS = "payments"
CONFIRMED = "payment_ipn"
OPEN = "payment_open"


def net_paid(dossier: Any) -> int | None:
    """What the citizen has paid and kept paid: the `paid` events' amounts, less the refunds of
    an overpayment of those same payments (refund ids `RS...`, `refund_ref`: the part of a
    payment the dossier no longer owed, e.g. after a transfer to an office charging less).
    A refund of a payment never counted as paid (a superseded order's, recorded only as
    `payment_surplus`) changes nothing, nor does the refund of a refused or withdrawn
    dossier (`RF...`). None when a `paid` event has no amount (none is written so today)."""
    paid, refs = 0, set()
    for event in dossier.events:
        if event.kind == "paid":
            amount = (event.data or {}).get("amount")
            if not isinstance(amount, int):
                return None
            paid += amount
            refs.add((event.data or {}).get("txn_ref"))
    for data in refunds(dossier):
        if (str(data.get("refund_ref", "")).startswith("RS") and data.get("txn_ref") in refs
                and isinstance(data.get("amount"), int)):
            paid -= data["amount"]
    return paid


#: A refund asked of a gateway and not answered yet: a job asks the gateway, outside the
#: dossier's lock, and records `payment_refunded` or `payment_refund_refused` (same `refund_ref`).
REFUND_REQUESTED = "payment_refund_requested"
REFUND_ANSWERS = ("payment_refunded", "payment_refund_refused")


def refunds(dossier: Any) -> list[dict[str, Any]]:
    """The data of every refund to count as given back: each `payment_refunded`, and each
    `payment_refund_requested` the gateway has not answered yet (no answer with its
    `refund_ref`). Money on its way back is counted as gone, so neither a second clerk, a
    transfer nor a withdrawal asks for it again meanwhile; a refusal puts it back."""
    answered = {(e.data or {}).get("refund_ref") for e in dossier.events if e.kind in REFUND_ANSWERS}
    return [e.data or {} for e in dossier.events
            if e.kind == "payment_refunded" or (e.kind == REFUND_REQUESTED and (e.data or {}).get("refund_ref") not in answered)]


def overpaid(dossier: Any) -> int:
    """What the citizen paid and kept paid beyond the bill as it is now: max(0, net_paid -
    fee_total). Derived, never accumulated: the most an overpayment refund of a counted
    payment (online or cash) may give back, whatever transfers between offices came before."""
    paid = net_paid(dossier)
    return 0 if paid is None else max(0, paid - dossier.fee_total)


def _counted(dossier: Any) -> set[Any]:
    """The order refs of the `paid` events (None for cash at the desk)."""
    return {(e.data or {}).get("txn_ref") for e in dossier.events if e.kind == "paid"}


def amount_due(dossier: Any) -> int:
    """The fee total less what is paid (`net_paid`): after a supplement's corrected answers,
    or a transfer to another office, raise the fee, a dossier paid in full owes the
    difference. A `paid` event without an amount counts as paying everything."""
    paid = net_paid(dossier)
    return 0 if paid is None else max(0, dossier.fee_total - paid)


#: The event a payment step records when the fee may be paid online WITHOUT the dossier
#: pausing in "payment requested": the result goes back by post and the citizen may pay
#: online any time before it is posted (or to the postman, when the post collects it).
ONLINE_DUE = "payment_due_before_posting"
_CLOSED = (Status.REFUSED, Status.WITHDRAWN, Status.RETURNED)


def may_pay_online(dossier: Any) -> bool:
    """Whether the citizen may start an online payment now: something is owed and the dossier
    waits in "payment requested", or its payment step offered online payment before posting
    (`ONLINE_DUE`) and the result parcel is not already booked to collect the fee on delivery
    (the postman takes it then: no second way to pay the same fee)."""
    if amount_due(dossier) <= 0:
        return False
    status = Status(dossier.status)
    if status == Status.PAYMENT_REQUESTED:
        return True
    if status in _CLOSED or not any(e.kind == ONLINE_DUE for e in dossier.events):
        return False
    return not any(e.kind == "shipment_booked" and (e.data or {}).get("kind") == "delivery" and (e.data or {}).get("cod_amount")
                   for e in dossier.events)


def payment_token(code: str, gateway: str | None = None) -> str:
    """Proof that the page offering "pay" (through `gateway`, the one the dossier's spec or
    the deployment chose) was shown to someone allowed to see the dossier."""
    from flask import current_app
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(current_app.secret_key, salt="motcua-payment").dumps([code, gateway] if gateway else code)


def check_payment_token(token: str, max_age: int = 3600) -> tuple[str, str | None] | None:
    """(dossier code, gateway or None when the token names none), or None when it fails."""
    from flask import current_app
    from itsdangerous import BadSignature, URLSafeTimedSerializer

    try:
        value = URLSafeTimedSerializer(current_app.secret_key, salt="motcua-payment").loads(token, max_age=max_age)
    except BadSignature:
        return None
    if isinstance(value, str):
        return value, None
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return value[0], value[1]
    return None


def _order(ref: str, stored: dict[str, Any]) -> PaymentOrder:
    return PaymentOrder(ref=ref, code=stored["code"], amount=int(stored["amount"]), gateway=stored.get("gateway", ""),
                        created_at=stored.get("created_at", ""))


def get_order(store: Any, ref: str) -> tuple[PaymentOrder, dict[str, Any]] | None:
    stored = store.records(PAYMENTS).get(ref) if ref else None
    return (_order(ref, stored), stored) if stored else None


def open_order(store: Any, code: str, amount: int, gateway_id: str) -> PaymentOrder:
    """A new order for what `code` owes; the dossier's previous open order is superseded."""
    now = datetime.now(timezone.utc)
    ref = f"{now:%y%m%d%H%M%S}{secrets.token_hex(4).upper()}"
    store.records(PAYMENTS).insert_new(ref, {"code": code, "amount": amount, "status": "pending", "gateway": gateway_id,
                                             "created_at": now.isoformat()})
    before: list[str] = []

    def point(current: dict[str, Any] | None) -> dict[str, Any]:
        before[:] = [current["ref"]] if current and current.get("ref") else []
        return {"ref": ref, "at": now.isoformat()}

    store.records(OPEN).update(code, point)
    for old in before:
        if old != ref:
            store.records(PAYMENTS).update(old, lambda o: {**(o or {}), "superseded_by": ref})
    return _order(ref, store.records(PAYMENTS).get(ref))


def is_current(store: Any, ref: str, stored: dict[str, Any]) -> bool:
    """The order is the dossier's open one (not superseded by a newer order)."""
    return not stored.get("superseded_by") and (store.records(OPEN).get(stored["code"]) or {}).get("ref", ref) == ref


CANCELLED = "cancelled"


def cancel_open(store: Any, code: str, why: str) -> str | None:
    """Cancel the dossier's open order, if any and still pending; its ref, else None.

    Called before the desk's action is committed: an order a gateway already confirmed
    (status `paid`) is left alone, and the desk's action then fails on the dossier's new
    status, so the money is never taken twice. `why` is kept on the order (`record_payment`,
    `refuse_unpaid`)."""
    pointer = store.records(OPEN).get(code) or {}
    ref = pointer.get("ref")
    cancelled: list[str] = []

    def close(order: dict[str, Any] | None) -> dict[str, Any]:
        order = dict(order or {})
        if order.get("status") == "pending":
            order.update(status=CANCELLED, cancelled_because=why, cancelled_at=datetime.now(timezone.utc).isoformat())
            cancelled.append(ref)
        return order

    if ref and store.records(PAYMENTS).get(ref):
        store.records(PAYMENTS).update(ref, close)
    store.records(OPEN).delete(code)
    return cancelled[0] if cancelled else None


def confirm(services: Any, gateway: Gateway, notice: Notification) -> Outcome:
    """Check a verified notification against its order and record it once (see the module)."""
    store = services.store
    found = get_order(store, notice.ref)
    if found is None or found[1].get("gateway", gateway.id) != gateway.id:
        return "not_found"
    order, stored = found
    if notice.amount != order.amount:
        return "wrong_amount"
    if not store.records(CONFIRMED).insert_new(order.ref, {"gateway": gateway.id, "ok": notice.ok, "details": notice.details,
                                                           "at": datetime.now(timezone.utc).isoformat()}):
        return "duplicate"
    try:
        _record(services, gateway, order, stored, notice)
    except Exception:
        log.exception("payment %s (%s): could not record on dossier %s", order.ref, gateway.id, order.code)
        store.records(CONFIRMED).delete(order.ref)  # let the gateway's retry try again
        return "error"
    if stored.get("status") != CANCELLED:  # a cancelled order stays cancelled (its return page says so)
        store.records(PAYMENTS).update(order.ref, lambda o: {**(o or stored), "status": "paid" if notice.ok else "failed"})
    return "ok"


PAID = {"vi": "Đã thanh toán trực tuyến {amount} qua {gateway}, mã giao dịch {txn}.",
        "en": "{amount} paid online through {gateway}, transaction {txn}."}
LATE = {"vi": " Hồ sơ không còn chờ thanh toán: cần đối soát, hoàn tiền nếu cần.",
        "en": " The dossier was no longer awaiting payment: reconcile, refund if needed."}
SURPLUS = {"vi": "Đã nhận {amount} qua {gateway} (giao dịch {txn}, đơn {ref}) vượt số phí còn phải nộp: "
                 "cần hoàn lại cho công dân.",
           "en": "{amount} received through {gateway} (transaction {txn}, order {ref}) beyond the fees owed: "
                 "to be refunded to the citizen."}
AFTER_CANCEL = {"vi": "Đã nhận {amount} qua {gateway} (giao dịch {txn}, đơn {ref}) sau khi đơn thanh toán đã bị hủy "
                      "tại quầy: cần hoàn lại cho công dân.",
                "en": "{amount} received through {gateway} (transaction {txn}, order {ref}) after the desk cancelled "
                      "that order: to be refunded to the citizen."}
STALE_FAILURE = {"vi": "Giao dịch {ref} qua {gateway} không thành công ({reason}); giao dịch này không còn hiệu lực "
                       "(đã có giao dịch mới hoặc hồ sơ đã thanh toán) nên công dân không được báo.",
                 "en": "Payment {ref} through {gateway} failed ({reason}); it was no longer the dossier's payment "
                       "(a newer one was started, or the dossier is paid), so the citizen is not told."}


def _record(services: Any, gateway: Gateway, order: PaymentOrder, stored: dict[str, Any], notice: Notification) -> None:
    """Record the notice on its dossier. What it does (pays, pays part, is a surplus to
    refund, a failure shown or not) is decided inside the dossier's locked update, from the
    bill, the status and the order as they are then (`decide_notice`): a transfer between
    offices or a desk payment committed while the notice was on its way is never missed."""
    if services.store.dossiers.get(order.code) is None:
        raise LookupError(f"dossier {order.code} of payment {order.ref} is missing")

    def decide(dossier: Any) -> list[dict[str, Any]]:
        current = services.store.records(PAYMENTS).get(order.ref) or stored  # the desk may have cancelled it
        return decide_notice(dossier, gateway, order, current, notice, is_current(services.store, order.ref, current))

    services.engine.decide(order.code, decide)


def decide_notice(dossier: Any, gateway: Gateway, order: PaymentOrder, stored: dict[str, Any], notice: Notification,
                  current: bool) -> list[dict[str, Any]]:
    """What a verified notice records on `dossier` (engine wishes, see Engine.decide): pure,
    so the same answer whoever calls it. `current`: the order is the dossier's open one."""
    from motcua.workflow import notes  # lazy: the workflow package (engine, plan) imports this module

    actor = f"gateway:{gateway.id}"
    name = notes.words(gateway.title or {"vi": gateway.id, "en": gateway.id})
    data = {"amount": order.amount, "method": gateway.id, "txn_ref": order.ref, "transaction_no": notice.transaction,
            **{k: v for k, v in notice.details.items() if k in ("bank",)}}
    due = amount_due(dossier)
    if notice.ok and stored.get("status") == CANCELLED:  # the desk settled it meanwhile: never paid twice
        values = {"amount": notes.money(order.amount), "gateway": name, "txn": notice.transaction, "ref": order.ref}
        return [{"actor": actor, "kind": "payment_surplus", "note": notes.message(AFTER_CANCEL, **values),
                 "data": {**data, "refund_due": order.amount, "cancelled_order": True}}]
    if notice.ok:
        values = {"amount": notes.money(order.amount), "gateway": name, "txn": notice.transaction}
        if due <= 0:  # money taken that the dossier did not owe: kept, for a refund
            return [{"actor": actor, "kind": "payment_surplus", "note": notes.message(SURPLUS, **{**values, "ref": order.ref}),
                     "data": {**data, "refund_due": order.amount}}]
        waiting = Status(dossier.status) == Status.PAYMENT_REQUESTED
        if waiting and order.amount >= due:  # settles the bill: the dossier moves on
            wishes = [{"actor": actor, "move": "pay", "note": notes.message(PAID, **values), "data": data}]
        else:  # pays part of what is owed now, or came while the dossier was not waiting for it
            text = PAID if may_pay_online(dossier) else {lang: PAID[lang] + LATE[lang] for lang in PAID}
            wishes = [{"actor": actor, "kind": "paid", "note": notes.message(text, **values), "data": data}]
        if order.amount > due:
            wishes.append({"actor": actor, "kind": "payment_surplus",
                           "note": notes.message(SURPLUS, **{**values, "amount": notes.money(order.amount - due), "ref": order.ref}),
                           "data": {**data, "refund_due": order.amount - due}})
        return wishes
    reason = gateway.failure_reason(notice.reason_code)
    # the citizen's words ("Bạn đã hủy giao dịch") for the tracking page, the staff's for the desk
    failed = {**data, "response_code": notice.reason_code, "reason": reason,
              STAFF_NOTE: notes.message(gateway.staff_failure_reason(notice.reason_code))}
    if stored.get("status") != CANCELLED and current and may_pay_online(dossier):
        return [{"actor": actor, "kind": "payment_failed", "note": reason, "data": failed}]
    return [{"actor": actor, "kind": "payment_failed_stale",
             "note": notes.message(STALE_FAILURE, ref=order.ref, gateway=name,
                                   reason=notes.words(gateway.staff_failure_reason(notice.reason_code))),
             "data": {k: v for k, v in failed.items() if k != STAFF_NOTE}}]  # staff-only: its note is the staff's


def return_outcome(store: Any, stored: dict[str, Any], says_ok: bool) -> str:
    """The payer's page: `paid`, `failed`, `pending` — or `not_due` when this order failed or
    is still open but the dossier owes nothing now (paid through another order), `cancelled`
    when the desk cancelled it (paid at the counter, or the dossier refused)."""
    dossier = store.dossiers.get(stored["code"])
    if stored.get("status") == CANCELLED:
        return "cancelled"
    if stored.get("status") == "paid":
        return "paid"
    if dossier is not None and amount_due(dossier) <= 0:
        return "not_due"
    if stored.get("status") == "failed" or not says_ok:
        return "failed"
    return "pending"


# --- reconciliation and refunds (the gateway contract's optional `query` and `refund`) -------


def gateway_for(config: Any, gateway_id: str) -> Gateway | None:
    """An instance of the enabled gateway `gateway_id`, or None."""
    from motcua.integrations import GATEWAYS

    cls = GATEWAYS.get(gateway_id, config)
    return cls(config) if cls is not None else None


def open_pending_order(store: Any, code: str, current: dict[str, Any] | None = None) -> PaymentOrder | None:
    """The dossier's open order while nothing about it has been recorded yet. `current`: its
    `payment_open` record when the caller has just read it."""
    ref = ((store.records(OPEN).get(code) if current is None else current) or {}).get("ref")
    found = get_order(store, ref) if ref else None
    if found is None or found[1].get("status", "pending") != "pending" or store.records(CONFIRMED).get(ref):
        return None
    return found[0]


def can_reconcile(store: Any, config: Any, code: str) -> bool:
    """The dossier has an open order nobody has heard of, and its gateway can be asked."""
    order = open_pending_order(store, code)
    chosen = gateway_for(config, order.gateway) if order else None
    return chosen is not None and chosen.offers("query")


def reconcile(services: Any, config: Any, code: str, order: PaymentOrder | None = None) -> tuple[str, PaymentOrder | None]:
    """Ask the gateway about the dossier's open order whose webhook never came, and record the
    answer exactly as a webhook's (`confirm`: known order, same amount, once): the outcome
    (`ok`, `duplicate`, `wrong_amount` ...), or `pending` while the gateway has no final word,
    or `nothing` when there is no open order to ask about. Raises GatewayUnavailable.
    `order`: the open order the caller just found (`open_pending_order`), not looked up again."""
    order = order or open_pending_order(services.store, code)
    chosen = gateway_for(config, order.gateway) if order else None
    if order is None or chosen is None or not chosen.offers("query"):
        return "nothing", order
    notice = chosen.query(order)
    if notice is None:
        return "pending", order
    return confirm(services, chosen, notice), order


def online_payments(dossier: Any) -> list[dict[str, Any]]:
    """The money a gateway took for this dossier and not yet given back: one item per order
    (`txn_ref`, `gateway`, `amount`, `transaction`), from its `paid` and `payment_surplus`
    events, less what was given back or is on its way back (`refunds`)."""
    taken: dict[str, dict[str, Any]] = {}
    for event in dossier.events:
        data = event.data or {}
        ref = data.get("txn_ref")
        if event.kind in ("paid", "payment_surplus") and ref and isinstance(data.get("amount"), int):
            # a superseded order's surplus repeats its own `paid` when part of it was owed
            taken.setdefault(ref, {"txn_ref": ref, "gateway": data.get("method"), "amount": data["amount"],
                                   "transaction": str(data.get("transaction_no") or ""), "refunded": 0})
    for data in refunds(dossier):
        if data.get("txn_ref") in taken and isinstance(data.get("amount"), int):
            taken[data["txn_ref"]]["refunded"] += data["amount"]
    return [item for item in taken.values() if item["amount"] > item["refunded"]]


def surpluses(dossier: Any) -> list[dict[str, Any]]:
    """Money taken beyond what the dossier owed and not yet given back: one item per order,
    as `online_payments` lists them, `amount` the surplus (refunded + what is left to give).

    Two kinds: a payment never counted as paid (a superseded or cancelled order paid
    anyway) is owed back whole; the recorded overpayment of a counted payment is capped by
    `overpaid`, shared in the order recorded, so a record an office transfer made stale (sent
    back to the dearer office before the refund) never gives away money the bill needs."""
    found = recorded_surpluses(dossier)
    counted = _counted(dossier)
    budget = overpaid(dossier)
    capped = []
    for item in found:
        if item["txn_ref"] in counted:
            left = min(item["amount"] - item["refunded"], budget)
            budget -= left
            if left <= 0:
                continue
            item = {**item, "amount": item["refunded"] + left}
        capped.append(item)
    return capped


def cash_recorded(dossier: Any) -> int:
    """Cash overpaid that the timeline says is to be given back at the desk and was not yet
    (`refund_due_at_desk` less the desk's `payment_refunded`). Each record's `refund_due`
    is the whole so far (older records: `amount`, added up)."""
    due = 0
    for event in dossier.events:
        data = event.data or {}
        if event.kind == "refund_due_at_desk":
            due = data["refund_due"] if isinstance(data.get("refund_due"), int) else due + int(data.get("amount") or 0)
    return max(0, due - cash_refunded(dossier))


def cash_refunded(dossier: Any) -> int:
    """Cash given back at the desk so far (`payment_refunded`, method `desk`)."""
    return sum(int((e.data or {}).get("amount") or 0) for e in dossier.events
               if e.kind == "payment_refunded" and (e.data or {}).get("method") == "desk")


def cash_to_refund(dossier: Any) -> int:
    """Cash the desk may give back now: what is recorded, capped by `overpaid` less the
    online overpayments that come first (see `surpluses`)."""
    counted = _counted(dossier)
    online = sum(i["amount"] - i["refunded"] for i in surpluses(dossier) if i["txn_ref"] in counted)
    return max(0, min(cash_recorded(dossier), overpaid(dossier) - online))


def recorded_surpluses(dossier: Any) -> list[dict[str, Any]]:
    """The overpayments as recorded (`payment_surplus`, `refund_due`, the latest record per
    order) less what was given back, before `surpluses` caps them by the bill."""
    refunded: dict[str, int] = {}
    for data in refunds(dossier):
        if isinstance(data.get("amount"), int):
            refunded[data.get("txn_ref")] = refunded.get(data.get("txn_ref"), 0) + data["amount"]
    latest: dict[str, dict[str, Any]] = {}  # per payment, its last overpayment record: each says the whole so far
    for event in dossier.events:
        data = event.data or {}
        due, ref = data.get("refund_due"), data.get("txn_ref")
        if event.kind == "payment_surplus" and isinstance(due, int) and ref:
            latest[ref] = data
    found = []
    for ref, data in latest.items():
        due = data["refund_due"]
        if due > refunded.get(ref, 0):
            found.append({"txn_ref": ref, "gateway": data.get("method"), "amount": due, "refunded": refunded.get(ref, 0),
                          "transaction": str(data.get("transaction_no") or ""), "surplus": True})
    return found


def refund_ref(item: dict[str, Any]) -> str:
    """The refund id of what is left of a payment: derived from the order (and what was
    already given back), so the same refund asked twice has the same id at the gateway and
    in the `payment_refunded` event (recorded once per id)."""
    prefix = "RS" if item.get("surplus") else "RF"
    return f"{prefix}{item['txn_ref']}{'' if not item['refunded'] else item['refunded']}"


def refund_payment(store: Any, config: Any, item: dict[str, Any], *, reason: str, requested_by: str) -> Any:
    """Ask the item's gateway to give back what is left of it (`online_payments`). The refund
    id is derived from the order, so asking again after a lost answer names the same refund
    and the gateway does not pay twice. Returns the gateway's `RefundResult`; raises
    GatewayUnavailable, or LookupError when the gateway or the order is gone."""
    from motcua.integrations.gateways import Refund

    chosen = gateway_for(config, item["gateway"])
    found = get_order(store, item["txn_ref"])
    if chosen is None or found is None or not chosen.offers("refund"):
        raise LookupError(f"order {item['txn_ref']}: gateway {item['gateway']!r} cannot refund here")
    amount = item["amount"] - item["refunded"]
    refund = Refund(ref=refund_ref(item), order=found[0],
                    transaction=item["transaction"], amount=amount, reason=reason, requested_by=requested_by)
    return chosen.refund(refund)


def reconcile_stale(services: Any, config: Any, older_than: timedelta = timedelta(minutes=15)) -> dict[str, int]:
    """Ask the gateways about every open order nobody has heard of for `older_than` whose
    dossier still waits for payment (IPNs lost while the portal was down): what `reconcile`
    found, counted by outcome (`unavailable` for a gateway that could not be reached). Run by the job
    queue every five minutes (`reconcile_payments`, motcua.workflow.tasks); staff do the same for one dossier."""
    from motcua.integrations.gateways import GatewayUnavailable

    counts: dict[str, int] = {}
    cutoff = datetime.now(timezone.utc) - older_than
    for code, current in list(services.store.records(OPEN).all()):
        order = open_pending_order(services.store, code, current)
        dossier = services.store.dossiers.get(code)
        if order is None or dossier is None or Status(dossier.status) != Status.PAYMENT_REQUESTED:
            continue
        try:
            if datetime.fromisoformat(order.created_at) > cutoff:
                continue  # the payer may still be on the gateway's page
        except ValueError:
            pass
        try:
            outcome, _ = reconcile(services, config, code, order)
        except GatewayUnavailable:
            log.warning("payment %s of %s: gateway %s unreachable while reconciling", order.ref, code, order.gateway)
            outcome = "unavailable"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
