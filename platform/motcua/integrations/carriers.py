"""`motcua.carriers`: postal carriers (VNPost, Viettel Post ...), the contract.

The `postal` step decides what to book and when; the core keeps which item belongs to which
dossier, the generic callback route (`/plugins/carriers/<id>/callback`), de-duplication by the
carrier's event id, the order of statuses, and the timeline. A carrier knows its API:

- `book(booking, idempotency_key)` -> its item number (a retried booking returns the same);
- `cancel(item_number, idempotency_key)`: call off a booked parcel the postman has not
  collected yet (the dossier was withdrawn or refused); cancelling again is no second
  cancellation; `CancelRefused` when the carrier says it is too late (already picked up),
  `CarrierError` (or any other exception) to be tried again. Optional, like `track(item_number)`;
- `read_callback(request)`: a verified status callback -> `CarrierUpdate` in the common
  vocabulary `STATUSES` (the carrier maps its own codes), or `CallbackRefused`;
- `callback_reply(ok, ...)`: what its protocol expects back.

A booking is a dict: `reference` (dossier code), `kind` (`delivery` of a result, `pickup` of
papers), `service`, `sender` / `receiver` (`name`, `phone`, `address` {province,
province_code, commune, commune_code, street}), `cod_amount` (VND the postman collects for
the agency), `postage_payer` (`sender` | `receiver`), `postage_amount`, `callback_url`, `note`.
The office's party also carries its `code`; its `phone` is the desk the post office calls
(motcua_plugins.postal: the step's `desk_phones`, the registry's `phone`, the step's `desk_phone`).

`party_fields` says what the carrier's API refuses a booking without, of both parties and for
every kind of parcel: the `postal` step checks an office against it before home pickup is
offered there, and at `motcua lint` and start-up, rather than letting a booking job die.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from motcua.integrations.base import Plugin

if TYPE_CHECKING:  # pragma: no cover
    from flask import Request

#: The common status vocabulary, in the order a parcel goes through it.
STATUSES = ("booked", "picked_up", "in_transit", "failed", "delivered", "returned_to_sender")
TERMINAL = frozenset({"delivered", "returned_to_sender"})
STATUS_LABELS = {
    "booking": {"vi": "Đang đặt dịch vụ", "en": "Booking in progress"},
    "booking_failed": {"vi": "Đặt lịch thất bại", "en": "Booking failed"},  # the booking job gave up (motcua.jobs)
    "cancelled": {"vi": "Đã hủy", "en": "Cancelled"},  # no longer wanted (dossier closed, papers brought): not booked, or called off
    "cancelling": {"vi": "Đang hủy với bưu điện", "en": "Cancelling with the carrier"},  # the cancel job is under way
    "cancel_failed": {"vi": "Hủy với bưu điện thất bại", "en": "Cancellation failed"},  # the cancel job gave up
    "booked": {"vi": "Đã đặt dịch vụ", "en": "Booked"},
    "picked_up": {"vi": "Bưu điện đã nhận", "en": "Picked up"},
    "in_transit": {"vi": "Đang vận chuyển", "en": "In transit"},
    "failed": {"vi": "Phát không thành công", "en": "Delivery failed"},
    "delivered": {"vi": "Đã phát thành công", "en": "Delivered"},
    "returned_to_sender": {"vi": "Đã chuyển hoàn", "en": "Returned to sender"},
}


def rank(status: str) -> int:
    return STATUSES.index(status) if status in STATUSES else -1


@dataclass(frozen=True)
class CarrierUpdate:
    event_id: str  # the carrier's id of this callback (replays are recognised by it)
    item_number: str
    status: str  # one of STATUSES
    at: str | None = None
    cod_collected: int = 0  # VND, on `delivered`


class CallbackRefused(Exception):
    """`status` is the HTTP status to answer (401 bad signature, 400 malformed)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class CarrierError(Exception):
    """The carrier refused or could not be reached; the step fails and is retried."""


class CancelRefused(Exception):
    """The carrier will not call the parcel off: `status` (common vocabulary, e.g.
    `picked_up`) is where the parcel is; asking again would not change its answer."""

    def __init__(self, status: str, detail: str = "") -> None:
        super().__init__(detail or status)
        self.status = status
        self.detail = detail


class Carrier(Plugin):
    """A postal carrier. Instantiated with the app's config."""

    #: the fields of a party (sender and receiver alike, every kind) without which the
    #: carrier's API refuses the booking
    party_fields: frozenset[str] = frozenset({"name"})

    def book(self, booking: dict[str, Any], idempotency_key: str) -> str:
        raise NotImplementedError

    def cancel(self, item_number: str, idempotency_key: str) -> None:
        """Call the booked parcel off (see the module); NotImplementedError: this carrier
        cannot, staff call it off by hand."""
        raise NotImplementedError

    def track(self, item_number: str) -> str | None:
        """The item's status in the common vocabulary, asked of the carrier; optional."""
        raise NotImplementedError

    def read_callback(self, request: Request) -> CarrierUpdate:
        raise NotImplementedError

    def callback_reply(self, ok: bool, **info: Any) -> Any:
        from flask import jsonify

        return jsonify(ok=ok, **info)
