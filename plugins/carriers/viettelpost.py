"""Viettel Post (partner API v2), the protocol shape and the `viettelpost` carrier plugin.

- Booking: `POST {api}/v2/order/createOrder` with header `Token: <partner token>`, JSON in
  Viettel Post's upper-case fields (`ORDER_NUMBER` = our reference, `SENDER_*`,
  `RECEIVER_*`, `PRODUCT_*`, `ORDER_PAYMENT`, `ORDER_SERVICE`, `MONEY_COLLECTION` = COD,
  `ORDER_NOTE`). Answer `{"status": 200, "error": false, "data": {"ORDER_NUMBER": <the
  carrier's tracking number>, ...}}`; an error is `error: true` with a `message`.
  `ORDER_PAYMENT`: 1 the sender pays the postage and nothing is collected, 2 collect COD and
  the postage, 3 collect COD (the sender pays the postage), 4 collect the postage only.
- Webhook: configured once per partner account (not per order); Viettel Post posts
  `{"DATA": {ORDER_NUMBER, ORDER_REFERENCE, ORDER_STATUS, ORDER_STATUSDATE, STATUS_NAME,
  MONEY_COLLECTION, ...}, "TOKEN": <the secret token the partner set>}`. The token is the
  proof (no HMAC in this API): compared in constant time. There is no event id: a callback
  is named by item, status and status time.
- Cancelling: `POST {api}/v2/order/UpdateOrder` with the same `Token` header and
  `{"TYPE": 4, "ORDER_NUMBER": <tracking number>, "NOTE": ...}` (TYPE 4 = cancel the order);
  `error: false` once cancelled (again for an order already cancelled, status 107); after
  pickup `error: true` with the order's `ORDER_STATUS` in `data`.
- Required of both parties (the simulator refuses without them): `*_FULLNAME`, `*_PHONE`,
  `*_ADDRESS` (`ViettelPostCarrier.party_fields`; the address falls back to the name).
- Status codes (ORDER_STATUS), mapped to the common vocabulary in `STATUS_MAP`.
Provinces and communes travel as the Decision 124/2004 codes and names; a live contract
maps them to Viettel Post's own location ids (`RECEIVER_PROVINCE`, `RECEIVER_WARDS`).
Settings: VIETTELPOST_API_URL, VIETTELPOST_TOKEN, VIETTELPOST_WEBHOOK_TOKEN.
"""

from __future__ import annotations

import hmac
import json
import urllib.error
import urllib.request
from typing import Any

from motcua.integrations.carriers import CallbackRefused, CancelRefused, Carrier, CarrierError, CarrierUpdate, rank

#: Viettel Post ORDER_STATUS -> the common vocabulary (codes not listed change nothing)
STATUS_MAP: dict[int, str] = {
    100: "booked", 102: "booked", 103: "booked", 104: "booked",
    105: "picked_up", 200: "picked_up", 202: "picked_up",
    300: "in_transit", 310: "in_transit", 320: "in_transit", 400: "in_transit", 500: "in_transit", 506: "in_transit",
    508: "in_transit", 550: "in_transit",
    505: "failed", 507: "failed",
    501: "delivered",
    502: "returned_to_sender", 504: "returned_to_sender", 515: "returned_to_sender",
}


def _amount(value: Any) -> int | None:
    if value in (None, ""):
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or int(value) != value:
        return None
    return int(value)


def order_body(booking: dict[str, Any], reference: str) -> dict[str, Any]:
    """A booking (motcua.integrations.carriers) in Viettel Post's fields."""
    sender, receiver = booking["sender"], booking["receiver"]

    def party(prefix: str, who: dict[str, Any]) -> dict[str, Any]:
        address = who.get("address") or {}
        text = ", ".join(p for p in (address.get("street"), address.get("commune"), address.get("province")) if p)
        return {f"{prefix}_FULLNAME": who.get("name", ""), f"{prefix}_PHONE": who.get("phone", ""),
                f"{prefix}_ADDRESS": text or who.get("name", ""), f"{prefix}_PROVINCE": address.get("province_code", ""),
                f"{prefix}_WARDS": address.get("commune_code", "")}

    cod, receiver_pays = int(booking.get("cod_amount") or 0), booking.get("postage_payer") == "receiver"
    payment = (2 if receiver_pays else 3) if cod else (4 if receiver_pays else 1)
    return {"ORDER_NUMBER": reference, **party("SENDER", sender), **party("RECEIVER", receiver),
            "PRODUCT_NAME": booking.get("note", ""), "PRODUCT_TYPE": "HH", "PRODUCT_WEIGHT": 200, "PRODUCT_QUANTITY": 1,
            "ORDER_PAYMENT": payment, "ORDER_SERVICE": "VCN", "MONEY_COLLECTION": cod,
            "MONEY_FEE_RECEIVER": int(booking.get("postage_amount") or 0) if receiver_pays else 0,
            "ORDER_NOTE": f"{booking.get('kind', '')} {booking.get('reference', '')}".strip()}


class ViettelPostCarrier(Carrier):
    id = "viettelpost"
    title = {"vi": "Viettel Post", "en": "Viettel Post"}
    #: createOrder refuses an order without SENDER_/RECEIVER_ FULLNAME and PHONE: the office
    #: is the receiver of a home pickup and the sender of a result
    party_fields = frozenset({"name", "phone"})

    def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One call of the partner API with the partner's token: its JSON answer."""
        url, token = self.config.get("VIETTELPOST_API_URL"), self.config.get("VIETTELPOST_TOKEN")
        if not url or not token:
            raise RuntimeError("VIETTELPOST_API_URL / VIETTELPOST_TOKEN are not configured")
        request = urllib.request.Request(url.rstrip("/") + path, method="POST",
                                         data=json.dumps(body, ensure_ascii=False).encode(),
                                         headers={"Content-Type": "application/json", "Token": token})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise CarrierError(f"Viettel Post answered {exc.code}: {exc.read()[:200].decode(errors='replace')}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise CarrierError(f"Viettel Post unreachable: {exc}") from None

    def book(self, booking: dict[str, Any], idempotency_key: str) -> str:
        answer = self._call("/v2/order/createOrder", order_body(booking, idempotency_key))
        if answer.get("error") or not (answer.get("data") or {}).get("ORDER_NUMBER"):
            raise CarrierError(f"Viettel Post refused the order: {answer.get('message')}")
        return str(answer["data"]["ORDER_NUMBER"])

    def cancel(self, item_number: str, idempotency_key: str) -> None:
        """TYPE 4 of UpdateOrder; the order's own state makes a repeat harmless (no key in this API)."""
        answer = self._call("/v2/order/UpdateOrder", {"TYPE": 4, "ORDER_NUMBER": item_number,
                                                      "NOTE": "Hồ sơ đã được rút hoặc bị từ chối"})
        if not answer.get("error"):
            return
        try:
            status = STATUS_MAP.get(int((answer.get("data") or {}).get("ORDER_STATUS")), "")
        except (TypeError, ValueError):
            status = ""
        if rank(status) >= rank("picked_up"):
            raise CancelRefused(status, f"Viettel Post: {answer.get('message')}")
        raise CarrierError(f"Viettel Post did not cancel the order: {answer.get('message')}")

    def read_callback(self, request: Any) -> CarrierUpdate:
        secret = self.config.get("VIETTELPOST_WEBHOOK_TOKEN")
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not secret or not hmac.compare_digest(str(body.get("TOKEN", "")).encode(), secret.encode()):
            raise CallbackRefused(401, "bad token")
        data = body.get("DATA")
        if not isinstance(data, dict) or not data.get("ORDER_NUMBER"):
            raise CallbackRefused(400, "malformed body")
        try:
            code = int(data.get("ORDER_STATUS"))
        except (TypeError, ValueError):
            raise CallbackRefused(400, "ORDER_STATUS is not a number") from None
        collected = _amount(data.get("MONEY_COLLECTION"))
        if collected is None:
            raise CallbackRefused(400, "bad amount")
        status = STATUS_MAP.get(code, "booked")  # a code we do not follow: recorded as nothing new
        when = str(data.get("ORDER_STATUSDATE") or "")
        return CarrierUpdate(event_id=f"{data['ORDER_NUMBER']}:{code}:{when}", item_number=str(data["ORDER_NUMBER"]),
                             status=status, at=when or None, cod_collected=collected if status == "delivered" else 0)

    def callback_reply(self, ok: bool, **info: Any) -> Any:
        from flask import jsonify

        said = str(info.pop("error", "")) if not ok else "OK"
        return jsonify(status=200 if ok else 400, error=not ok, message=said, **info)

    @classmethod
    def simulate(cls, app: Any, host: str, port: int) -> str | None:
        import secrets

        from motcua_plugins.simulators import public_address, serve_in_thread
        from motcua_plugins.simulators import viettelpost as simulator

        token, webhook = secrets.token_hex(16), secrets.token_hex(16)
        hook = public_address(app) + "/plugins/carriers/viettelpost/callback"
        url = serve_in_thread(simulator.create_app(token, webhook, hook), host, port, cls.id)
        app.config.update(VIETTELPOST_API_URL=url, VIETTELPOST_TOKEN=token, VIETTELPOST_WEBHOOK_TOKEN=webhook)
        return url
