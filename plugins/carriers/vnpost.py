"""The carrier's API, as the one-stop system sees it (VNPost-shaped, JSON over HTTPS).

Booking: `POST {api}/shipments` with header `X-Api-Key` and `Idempotency-Key` (a retried
booking returns the same item), a JSON body naming the kind (`delivery` of a result, or
`pickup` of a paper dossier from the citizen's home), the citizen's address as
`{province, province_code, commune, commune_code, street}` (units of 1 July 2025, codes of
Decision 124/2004; a dossier stored before may add its old `district` and lack the commune
code), the COD amount (`cod_amount`: the fee the postman collects for the agency), who
pays the postage (`postage_payer`: `receiver` = cước thu người nhận, collected on delivery;
`sender`) with the amount the citizen was quoted (`postage_amount`), and the callback URL.
Reply 201 `{"item_number": "EB123456785VN"}`.
Cancelling: `POST {api}/shipments/<item>/cancel` with the same headers (`X-Api-Key`,
`Idempotency-Key`) and a JSON body `{reason}`: 200 `{"item_number", "status": "cancelled"}`,
also for an item already cancelled; 409 `{"error", "status"}` once the postman has collected
it (`status` says where it is).
Status callbacks: `POST callback_url`, JSON `{event_id, item_number, reference, kind,
status, at}`, plus on `delivered` what the postman collected: `cod_collected` (VND, paid
over to the agency) and `postage_collected`; header `X-Signature: sha256=<hex
HMAC-SHA256(secret, raw body)>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

STATUSES = ("booked", "picked_up", "in_transit", "failed", "delivered", "returned_to_sender")
TERMINAL = frozenset({"delivered", "returned_to_sender"})
POSTAGE_PAYERS = ("sender", "receiver")
STATUS_LABELS = {
    "booked": {"vi": "Đã đặt dịch vụ", "en": "Booked"},
    "picked_up": {"vi": "Bưu điện đã nhận", "en": "Picked up"},
    "in_transit": {"vi": "Đang vận chuyển", "en": "In transit"},
    "failed": {"vi": "Phát không thành công", "en": "Delivery failed"},
    "delivered": {"vi": "Đã phát thành công", "en": "Delivered"},
    "returned_to_sender": {"vi": "Đã chuyển hoàn", "en": "Returned to sender"},
}


def rank(status: str) -> int:
    return STATUSES.index(status) if status in STATUSES else -1


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str | None, secret: str) -> bool:
    return bool(header) and hmac.compare_digest(str(header), sign(body, secret))


def s10_check_digit(serial: str) -> int:
    """UPU S10 check digit of an 8-digit serial (the number printed on the item)."""
    total = sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7)))
    check = 11 - total % 11
    return {10: 0, 11: 5}.get(check, check)


class CarrierError(Exception):
    """The carrier refused or could not be reached; the step fails and is retried."""


class TooLate(CarrierError):
    """The carrier will not cancel: the item has left `booked` (`status`, where it is now)."""

    def __init__(self, status: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def _post(url: str, api_key: str, payload: dict[str, Any], idempotency_key: str, timeout: float) -> dict[str, Any]:
    """One call of the API: JSON both ways, the key and idempotency headers of every call."""
    request = urllib.request.Request(
        url, data=json.dumps(payload, ensure_ascii=False).encode(), method="POST",
        headers={"Content-Type": "application/json", "X-Api-Key": api_key, "Idempotency-Key": idempotency_key},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        body = exc.read()[:200].decode(errors="replace")
        if exc.code == 409:
            try:
                status = str(json.loads(body).get("status", ""))
            except (ValueError, AttributeError):
                status = ""
            raise TooLate(status, f"carrier answered 409: {body}") from None
        raise CarrierError(f"carrier answered {exc.code}: {body}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise CarrierError(f"carrier unreachable: {exc}") from None


def book(api_url: str, api_key: str, payload: dict[str, Any], idempotency_key: str, timeout: float = 10) -> dict[str, Any]:
    return _post(api_url.rstrip("/") + "/shipments", api_key, payload, idempotency_key, timeout)


def cancel(api_url: str, api_key: str, item_number: str, idempotency_key: str, reason: str = "",
           timeout: float = 10) -> dict[str, Any]:
    """Call a booked item off; raises TooLate once it was collected (see the module)."""
    return _post(f"{api_url.rstrip('/')}/shipments/{urllib.parse.quote(item_number, safe='')}/cancel", api_key,
                 {"reason": reason}, idempotency_key, timeout)


def collected(message: dict[str, Any], key: str = "cod_collected") -> int | None:
    """An amount a callback says the postman collected: a whole number of VND >= 0, 0 when
    absent, None when malformed (the callback is refused)."""
    value = message.get(key, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


# --- the plugin (`motcua.carriers` entry point `vnpost`) -------------------------------------

from motcua.integrations.carriers import CallbackRefused, CancelRefused, Carrier, CarrierUpdate  # noqa: E402


class VNPostCarrier(Carrier):
    """VNPost (bưu chính công ích). Settings: POSTAL_API_URL, POSTAL_API_KEY,
    POSTAL_CALLBACK_SECRET. Callbacks come to `/plugins/carriers/vnpost/callback` (items booked
    before the move carry `/buu-chinh/callback`, which keeps working)."""

    id = "vnpost"
    title = {"vi": "VNPost", "en": "VNPost"}

    def book(self, booking: dict[str, Any], idempotency_key: str) -> str:
        if not self.config.get("POSTAL_API_URL"):
            raise RuntimeError("POSTAL_API_URL is not configured")
        answer = book(self.config["POSTAL_API_URL"], self.config.get("POSTAL_API_KEY", ""), booking, idempotency_key)
        return str(answer["item_number"])

    def cancel(self, item_number: str, idempotency_key: str) -> None:
        if not self.config.get("POSTAL_API_URL"):
            raise RuntimeError("POSTAL_API_URL is not configured")
        try:
            cancel(self.config["POSTAL_API_URL"], self.config.get("POSTAL_API_KEY", ""), item_number, idempotency_key,
                   reason="Hồ sơ đã được rút hoặc bị từ chối")
        except TooLate as exc:
            raise CancelRefused(exc.status if exc.status in STATUSES else "picked_up", str(exc)) from None

    def read_callback(self, request: Any) -> CarrierUpdate:
        secret = self.config.get("POSTAL_CALLBACK_SECRET")
        body = request.get_data()
        if not secret or not verify(body, request.headers.get("X-Signature"), secret):
            raise CallbackRefused(401, "bad signature")
        try:
            message = json.loads(body)
            event_id, item, status = str(message["event_id"]), str(message["item_number"]), str(message["status"])
        except (ValueError, KeyError, TypeError):
            raise CallbackRefused(400, "malformed body") from None
        cod = collected(message)
        if status not in STATUSES or cod is None:
            raise CallbackRefused(400, "unknown status or bad amount")
        return CarrierUpdate(event_id=event_id, item_number=item, status=status, at=message.get("at"), cod_collected=cod)

    @classmethod
    def legacy_urls(cls) -> dict[str, str]:
        return {"/buu-chinh/callback": "callback"}  # in the bookings of items already on their way

    @classmethod
    def simulate(cls, app: Any, host: str, port: int) -> str | None:
        import secrets

        from motcua_plugins.simulators import carrier as simulator
        from motcua_plugins.simulators import serve_in_thread

        key, callback = secrets.token_hex(16), secrets.token_hex(16)
        url = serve_in_thread(simulator.create_app(key, callback), host, port, cls.id)
        app.config.update(POSTAL_API_URL=url + "/api/v1", POSTAL_API_KEY=key, POSTAL_CALLBACK_SECRET=callback)
        return url
