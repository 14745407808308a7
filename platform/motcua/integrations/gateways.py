"""`motcua.gateways`: online payment gateways (VNPay, MoMo ...), the contract.

The core owns the money side: the payment orders (one open order per dossier amount due;
`motcua.payments`), the generic routes (`/plugins/gateways/<id>/start/<code>`, `.../return`,
`.../webhook`), the checks every callback gets (order known, amount equal, recorded once)
and what is written on the dossier. A gateway knows only its protocol:

- `start(order, ...)`: where to send the payer (a signed URL at the gateway);
- `read_return(params)`: the browser came back; which order, and what the gateway's signed
  parameters say (shown, never recorded: only the webhook records);
- `read_webhook(request)`: the server-to-server notification (VNPay's IPN, MoMo's IPN),
  verified (signature, our merchant) -> a `Notification`, or `WebhookRefused(outcome)`;
- `webhook_reply(outcome)`: the answer the gateway's protocol expects for each outcome;
- `failure_reason(code)`: a failed payment's code in words the payer reads `{vi, en}`;
- `staff_failure_reason(code)`: the same for staff, in the third person and with the code
  (what the clerk reads on the dossier page; the payer's "you cancelled" would mislead);
- `query(order)`: ask the gateway what became of an order whose notification never came
  (VNPay `querydr`, MoMo `/v2/gateway/api/query`) -> a `Notification` checked and recorded by
  the core exactly like a webhook's, or None while the gateway has no final word;
- `refund(refund)`: give a recorded payment back (VNPay `refund`, MoMo
  `/v2/gateway/api/refund`) -> a `RefundResult`; the same `Refund.ref` asked again must not
  pay twice. Both optional (NotImplementedError); both raise `GatewayUnavailable` when the
  gateway cannot be reached or answers with no verifiable word, so the caller tries later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from motcua.integrations.base import Plugin

if TYPE_CHECKING:  # pragma: no cover
    from flask import Request, Response

#: What the core concluded about a webhook call, for the gateway to word its reply.
Outcome = Literal["ok", "duplicate", "not_found", "wrong_amount", "bad_signature", "not_ours", "error"]


@dataclass(frozen=True)
class PaymentOrder:
    """One attempt to pay what a dossier owes (`ref` is the gateway's order id / TxnRef)."""

    ref: str
    code: str
    amount: int
    gateway: str
    created_at: str


@dataclass(frozen=True)
class Notification:
    """A verified server-to-server notification about one order."""

    ref: str
    amount: int  # VND
    ok: bool
    transaction: str = ""
    reason_code: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # kept with the confirmation


@dataclass(frozen=True)
class ReturnInfo:
    """The payer's browser came back: the order and what the (verified) parameters say."""

    ref: str
    says_ok: bool
    reason_code: str | None = None


@dataclass(frozen=True)
class Refund:
    """Money to give back for one paid order. `ref` is ours, unique per refund: it is the
    gateway's idempotency key (its request id), so asking again after a lost answer never
    pays twice. `transaction` is the gateway's id of the payment (`Notification.transaction`)."""

    ref: str
    order: PaymentOrder
    transaction: str
    amount: int  # VND, at most the order's amount
    reason: str
    requested_by: str = "system"

    @property
    def full(self) -> bool:
        return self.amount >= self.order.amount


@dataclass(frozen=True)
class RefundResult:
    """The gateway's answer to a refund: done (`ok`, its refund transaction) or refused (with
    its code, for staff to look up)."""

    ok: bool
    transaction: str = ""
    reason_code: str | None = None
    message: str = ""


class GatewayUnavailable(Exception):
    """The gateway could not be reached, or answered nothing we can trust (bad signature,
    not our merchant, malformed): nothing is recorded, the caller may try again later."""


class WebhookRefused(Exception):
    """A webhook call refused before any order is looked at (bad signature, not our merchant,
    malformed): `outcome` chooses the reply. `ok` acknowledges a notice that is not final
    (the payer has not finished): nothing is recorded, so the final one still counts."""

    def __init__(self, outcome: Outcome, detail: str = "") -> None:
        super().__init__(detail or outcome)
        self.outcome: Outcome = outcome


class Gateway(Plugin):
    """An online payment gateway. Instantiated with the app's config."""

    #: the settings `configured()` needs, named in the start-up warning when a spec asks for
    #: online payment through this gateway and one is missing
    settings: tuple[str, ...] = ()

    def configured(self) -> bool:
        """Its settings are all there (else online payment is not offered: the citizen is
        shown the other ways to pay, and the start-up log names the missing settings)."""
        raise NotImplementedError

    def start(self, order: PaymentOrder, *, return_url: str, webhook_url: str, client_ip: str, lang: str) -> str:
        """The URL the payer's browser is sent to."""
        raise NotImplementedError

    def payer_urls(self) -> list[str]:
        """Where `start` may send the payer (URLs or origins): allowed as `form-action` by the
        Content-Security-Policy, since browsers apply it to the redirect after the pay form."""
        return []

    def read_return(self, params: Mapping[str, str]) -> ReturnInfo | None:
        """The return URL's parameters, if their signature verifies; None otherwise."""
        raise NotImplementedError

    def read_webhook(self, request: Request) -> Notification:
        """The verified notification; raises WebhookRefused."""
        raise NotImplementedError

    def webhook_reply(self, outcome: Outcome) -> Response | tuple[Any, int] | Any:
        """What the gateway expects back for `outcome` (a Flask response value)."""
        raise NotImplementedError

    def failure_reason(self, code: str | None) -> dict[str, str]:
        """Why a payment failed, for the payer, `{vi, en}`."""
        if not code:
            return {"vi": "Giao dịch không thành công.", "en": "The payment did not go through."}
        return {"vi": f"Giao dịch không thành công (mã {code}).", "en": f"The payment did not go through (code {code})."}

    def staff_failure_reason(self, code: str | None) -> dict[str, str]:
        """Why a payment failed, for staff, `{vi, en}`: about the payer, never to them. The
        default names the gateway's code, for staff to look up; gateways word known codes."""
        if not code:
            return {"vi": "Giao dịch thanh toán của công dân không thành công.", "en": "The citizen's payment did not go through."}
        return {"vi": f"Giao dịch thanh toán của công dân không thành công (mã {code}).",
                "en": f"The citizen's payment did not go through (code {code})."}

    def query(self, order: PaymentOrder) -> Notification | None:
        """What became of `order`, asked server-to-server: reconciles an order whose webhook
        never came (the core checks and records the answer exactly like a webhook). None
        while the gateway has no final word (still pending, or it never saw the order).
        Raises GatewayUnavailable. Optional: NotImplementedError hides the staff action."""
        raise NotImplementedError

    def refund(self, refund: Refund) -> RefundResult:
        """Give a recorded payment back (a dossier refused or withdrawn whose fees the spec
        says are refundable). Asking again with the same `refund.ref` must not pay twice.
        Raises GatewayUnavailable. Optional: NotImplementedError means refunds are manual."""
        raise NotImplementedError

    @classmethod
    def supports(cls, method: str) -> bool:
        """Whether this gateway implements the optional `query` or `refund`."""
        return getattr(cls, method) is not getattr(Gateway, method)

    def offers(self, method: str) -> bool:
        """`query` / `refund` can be asked now: implemented and configured (a gateway whose
        back-office API needs a setting of its own says so by overriding this)."""
        return type(self).supports(method) and self.configured()
