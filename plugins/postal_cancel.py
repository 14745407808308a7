"""Calling off, with the carrier, a parcel booked for a dossier that closed before it moved.

A dossier withdrawn or refused while a parcel of it is booked and not yet collected (a home
pickup, most often) would send a postman for nothing. The `postal` step marks the parcel
`cancelling`, records `postal_cancel_requested` (the citizen sees it) and defers a
`cancel_parcel` step job with the change, keyed `<booking key>:cancel` (the carrier's
idempotency key: cancelling twice is one cancellation). The job calls the carrier's
`cancel` outside any lock, and a second change records the answer:

- called off: the parcel is `cancelled`, `postal_parcel_cancelled` on the timeline;
- too late (`CancelRefused`: the postman already has it): the parcel takes the status the
  carrier gives, the staff-only `postal_cancel_refused` says so, and the staff panel asks
  them to sort it out with the post office; asking again would not change the answer, so
  it is not retried;
- a carrier that cannot cancel (no `cancel`): `cancel_failed` and the same staff-only event;
- the carrier unreachable: retried with backoff (`STEP_JOB_*`), then `cancel_failed`, the
  staff-only `postal_cancel_failed`, until an administrator runs the job again.

While it is `cancelling` or `cancelled`, carrier callbacks reach the timeline but no longer
change the parcel's status: the answer to the cancellation says where it stands.
"""

from __future__ import annotations

from typing import Any

from motcua.integrations import CARRIERS
from motcua.integrations.carriers import STATUS_LABELS, STATUSES, CancelRefused
from motcua.workflow.notes import message, words
from motcua.workflow.step import EventKind, StepContext

JOB = "cancel_parcel"
#: parcel statuses callbacks no longer overwrite
CALLED_OFF = frozenset({"cancelling", "cancelled"})

EVENTS = {
    "postal_cancel_requested": EventKind(label={"vi": "Yêu cầu bưu điện hủy bưu gửi", "en": "Carrier asked to cancel the item"}),
    "postal_parcel_cancelled": EventKind(label={"vi": "Bưu điện đã hủy bưu gửi", "en": "Postal item cancelled"}),
    "postal_cancel_refused": EventKind(label={"vi": "Bưu điện không hủy được bưu gửi", "en": "The carrier could not cancel the item"},
                                       internal=True),
    "postal_cancel_failed": EventKind(label={"vi": "Hủy bưu gửi với bưu điện thất bại", "en": "Cancelling the item with the carrier failed"},
                                      internal=True),
}

ASKED = {"vi": "Hồ sơ đã {why}: đã yêu cầu bưu điện hủy {what}, bưu gửi {item}.",
         "en": "The dossier was {why}: the post office was asked to cancel the {what}, item {item}."}
CANCELLED = {"vi": "Bưu điện đã hủy {what}, bưu gửi {item}.", "en": "The post office cancelled the {what}, item {item}."}
TOO_LATE = {"vi": "Bưu điện không hủy được bưu gửi {item} ({what}): bưu gửi đã ở trạng thái “{status}”. "
                  "Cán bộ cần liên hệ bưu điện để xử lý bưu gửi.",
            "en": "The post office could not cancel item {item} ({what}): it is already “{status}”. "
                  "Staff must contact the post office about it."}
UNSUPPORTED = {"vi": "Đơn vị bưu chính không hỗ trợ hủy bưu gửi {item} ({what}) qua hệ thống: cán bộ cần liên hệ bưu điện để hủy.",
               "en": "The carrier cannot cancel item {item} ({what}) through the system: staff must contact the post office to cancel it."}
FAILED = {"vi": "Không hủy được bưu gửi {item} ({what}) với bưu điện sau nhiều lần thử: {error}. "
                "Quản trị viên có thể cho chạy lại tại trang Việc nền lỗi, hoặc cán bộ liên hệ bưu điện để hủy.",
          "en": "Item {item} ({what}) could not be cancelled with the post office after several attempts: {error}. "
                "An administrator can run it again from the failed jobs page, or staff contact the post office."}


def ask(ctx: StepContext, kind: str, shipment: dict[str, Any], why: dict[str, str], what: dict[str, str]) -> None:
    """The booked parcel `kind` is to be called off: `cancelling`, the request on the
    timeline, and the job deferred with this change."""
    item = shipment["item_number"]
    key = f"{shipment.get('key') or f'{ctx.dossier.code}:{kind}'}:cancel"
    ctx.state["shipments"][kind] = {**shipment, "status": "cancelling", "cancel_key": key}
    ctx.record("postal_cancel_requested", note=message(ASKED, why=words(why), what=words(what), item=item),
               data={"kind": kind, "item_number": item, "key": key})
    ctx.defer_job(JOB, key, kind=kind, item_number=item, carrier=shipment.get("carrier"), what=what)


def _current(ctx: StepContext, key: str, arguments: dict[str, Any], status: str) -> dict[str, Any] | None:
    """The parcel this job is about, while it is in `status` under this job's key."""
    shipment = (ctx.state.get("shipments") or {}).get(arguments["kind"]) or {}
    if shipment.get("cancel_key") != key or shipment.get("status") != status:
        return None
    return shipment


def run(ctx: StepContext, key: str, arguments: dict[str, Any], default_carrier: str) -> dict[str, Any] | None:
    """Ask the carrier that booked the parcel to call it off, under `key`. Raises (retried)
    while it cannot be reached; None when nothing is to be cancelled any more."""
    if _current(ctx, key, arguments, "cancelling") is None:
        return None
    chosen = arguments.get("carrier") or default_carrier
    carrier_cls = CARRIERS.get(chosen, ctx.app_config)
    if carrier_cls is None:
        raise RuntimeError(f"the carrier {chosen!r} is not installed")
    try:
        carrier_cls(ctx.app_config).cancel(arguments["item_number"], key)
    except CancelRefused as exc:
        return {"outcome": "too_late", "status": exc.status if exc.status in STATUSES else "picked_up", "detail": exc.detail}
    except NotImplementedError:
        return {"outcome": "unsupported"}
    return {"outcome": "cancelled"}


def done(ctx: StepContext, key: str, arguments: dict[str, Any], result: dict[str, Any] | None) -> None:
    """Record the carrier's answer on the parcel and the timeline, once."""
    shipment = _current(ctx, key, arguments, "cancelling")
    if not result or shipment is None:
        return
    kind, item = arguments["kind"], arguments["item_number"]
    values = {"what": words(arguments["what"]), "item": item}
    data = {"kind": kind, "item_number": item, "key": key}
    if result["outcome"] == "cancelled":
        ctx.state["shipments"][kind] = {**shipment, "status": "cancelled"}
        ctx.record("postal_parcel_cancelled", note=message(CANCELLED, **values), data=data)
    elif result["outcome"] == "too_late":
        ctx.state["shipments"][kind] = {**shipment, "status": result["status"], "cancel_refused": True}
        ctx.record("postal_cancel_refused", note=message(TOO_LATE, **values, status=words(STATUS_LABELS[result["status"]])),
                   data={**data, "status": result["status"], "detail": result.get("detail", "")})
    else:
        ctx.state["shipments"][kind] = {**shipment, "status": "cancel_failed", "cancel_refused": True}
        ctx.record("postal_cancel_refused", note=message(UNSUPPORTED, **values), data={**data, "status": "unsupported"})


def failed(ctx: StepContext, key: str, arguments: dict[str, Any], error: str) -> None:
    """The job gave up (the carrier unreachable through every retry): staff see it."""
    shipment = _current(ctx, key, arguments, "cancelling")
    if shipment is None:
        return
    ctx.state["shipments"][arguments["kind"]] = {**shipment, "status": "cancel_failed"}
    ctx.record("postal_cancel_failed",
               note=message(FAILED, what=words(arguments["what"]), item=arguments["item_number"], error=error),
               data={"kind": arguments["kind"], "item_number": arguments["item_number"], "key": key, "error": error})


def retried(ctx: StepContext, key: str, arguments: dict[str, Any]) -> bool:
    """An administrator runs the dead job again: `cancelling` again, while it still failed
    (a callback since may have moved the parcel on: then there is nothing to call off)."""
    shipment = _current(ctx, key, arguments, "cancel_failed")
    if shipment is None or shipment.get("cancel_refused"):
        return False
    ctx.state["shipments"][arguments["kind"]] = {**shipment, "status": "cancelling"}
    return True
