"""VNPay 2.1.0, the protocol shape (DOMAIN.md, "Online payment").

The `vnp_*` parameters are sorted by name, URL-encoded and joined `k=v&...`; the string is
signed with HMAC-SHA512 and the merchant's secret (`vnp_SecureHash`). Amounts are VND x 100.
The server-to-server IPN is the only thing that marks a payment done; the browser's return
URL only chooses which page to show. Pure functions: the simulator uses the same ones.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping
from urllib.parse import quote_plus

from motcua.workdays import VN_TZ

VERSION = "2.1.0"
SIGNATURE_KEYS = ("vnp_SecureHash", "vnp_SecureHashType")

#: IPN reply codes (VNPay's IPN RspCode table).
OK, NOT_FOUND, ALREADY_CONFIRMED, WRONG_AMOUNT, BAD_CHECKSUM, OTHER = "00", "01", "02", "04", "97", "99"
REPLY_MESSAGES = {
    OK: "Confirm Success",
    NOT_FOUND: "Order not found",
    ALREADY_CONFIRMED: "Order already confirmed",
    WRONG_AMOUNT: "Invalid amount",
    BAD_CHECKSUM: "Invalid Checksum",
    OTHER: "Unknown error",
}


@dataclass(frozen=True)
class Merchant:
    tmn_code: str
    secret: str
    pay_url: str


def canonical(params: Mapping[str, str]) -> str:
    """`k=v&...` over the vnp_ parameters, sorted, values URL-encoded (VNPay's own sample)."""
    items = sorted((k, str(v)) for k, v in params.items() if k.startswith("vnp_") and k not in SIGNATURE_KEYS and v != "")
    return "&".join(f"{k}={quote_plus(v)}" for k, v in items)


def sign(params: Mapping[str, str], secret: str) -> str:
    return hmac.new(secret.encode(), canonical(params).encode(), hashlib.sha512).hexdigest()


def verify(params: Mapping[str, str], secret: str) -> bool:
    given = str(params.get("vnp_SecureHash", ""))
    return bool(given) and hmac.compare_digest(given.lower(), sign(params, secret))


#: What an IPN may carry besides the terminal: VNPay's IPN normally omits these two, but
#: when a message does carry them they must be the ones our payment URLs use.
EXPECTED_IF_PRESENT = {"vnp_Command": "pay", "vnp_CurrCode": "VND"}


def ipn_problem(params: Mapping[str, str], merchant: Merchant) -> str | None:
    """The reply code refusing an IPN before any order is looked at, or None if it may go on.

    A valid signature is not enough: agencies sharing one signing scheme (or one secret by
    mistake) would accept each other's callbacks, so the message must also name our own
    terminal (`vnp_TmnCode`). A foreign terminal's message is not ours to judge: 99, like
    any other malformed message, and nothing is recorded.
    """
    if not verify(params, merchant.secret):
        return BAD_CHECKSUM
    if not hmac.compare_digest(str(params.get("vnp_TmnCode", "")).encode(), merchant.tmn_code.encode()):
        return OTHER
    for key, expected in EXPECTED_IF_PRESENT.items():
        if key in params and params[key] != expected:
            return OTHER
    return None


def timestamp(at: datetime) -> str:
    return at.astimezone(VN_TZ).strftime("%Y%m%d%H%M%S")


def payment_url(
    merchant: Merchant,
    *,
    txn_ref: str,
    amount_vnd: int,
    order_info: str,
    return_url: str,
    ip_addr: str,
    at: datetime,
    locale: str = "vn",
) -> str:
    """The signed URL the citizen's browser is sent to."""
    params = {
        "vnp_Version": VERSION,
        "vnp_Command": "pay",
        "vnp_TmnCode": merchant.tmn_code,
        "vnp_Amount": str(amount_vnd * 100),
        "vnp_CurrCode": "VND",
        "vnp_TxnRef": txn_ref,
        "vnp_OrderInfo": order_info,
        "vnp_OrderType": "other",
        "vnp_Locale": locale,
        "vnp_ReturnUrl": return_url,
        "vnp_IpAddr": ip_addr or "127.0.0.1",
        "vnp_CreateDate": timestamp(at),
        "vnp_ExpireDate": timestamp(at + timedelta(minutes=15)),
    }
    query = canonical(params)
    return f"{merchant.pay_url}?{query}&vnp_SecureHash={sign(params, merchant.secret)}"


def succeeded(params: Mapping[str, str]) -> bool:
    return params.get("vnp_ResponseCode") == "00" and params.get("vnp_TransactionStatus") == "00"


def reply(code: str) -> dict[str, str]:
    return {"RspCode": code, "Message": REPLY_MESSAGES[code]}


# --- the plugin (`motcua.gateways` entry point `vnpay`) --------------------------------------

from motcua.integrations.gateways import Gateway, Notification, Outcome, PaymentOrder, ReturnInfo, WebhookRefused  # noqa: E402

#: the core's outcome of a checked IPN -> VNPay's RspCode
RSP_CODES: dict[str, str] = {"ok": OK, "duplicate": ALREADY_CONFIRMED, "not_found": NOT_FOUND, "wrong_amount": WRONG_AMOUNT,
                             "bad_signature": BAD_CHECKSUM, "not_ours": OTHER, "error": OTHER}


def _vnd(value: str | None) -> int:
    """`vnp_Amount` (VND x 100) in VND; -1 when it is not a whole number of VND (refused as
    a wrong amount once the order is found, as VNPay's table orders the checks)."""
    try:
        amount = int(str(value))
    except ValueError:
        return -1
    return amount // 100 if amount >= 0 and amount % 100 == 0 else -1


class VNPayGateway(Gateway):
    """VNPay 2.1.0. Settings: VNPAY_PAY_URL, VNPAY_TMN_CODE, VNPAY_HASH_SECRET. The IPN URL is
    registered at VNPay's merchant portal: `<PUBLIC_URL>/plugins/gateways/vnpay/webhook` (the
    old `/thanh-toan/vnpay/ipn` keeps working)."""

    id = "vnpay"
    title = {"vi": "VNPay", "en": "VNPay"}

    def merchant(self) -> Merchant | None:
        config = self.config
        if not (config.get("VNPAY_PAY_URL") and config.get("VNPAY_TMN_CODE") and config.get("VNPAY_HASH_SECRET")):
            return None
        return Merchant(config["VNPAY_TMN_CODE"], config["VNPAY_HASH_SECRET"], config["VNPAY_PAY_URL"])

    def configured(self) -> bool:
        return self.merchant() is not None

    def payer_urls(self) -> list[str]:
        return [self.config["VNPAY_PAY_URL"]] if self.config.get("VNPAY_PAY_URL") else []

    def start(self, order: PaymentOrder, *, return_url: str, webhook_url: str, client_ip: str, lang: str) -> str:
        from datetime import timezone

        merchant = self.merchant()
        assert merchant is not None
        return payment_url(merchant, txn_ref=order.ref, amount_vnd=order.amount,
                           order_info=f"Thanh toan phi le phi ho so {order.code}", return_url=return_url,
                           ip_addr=client_ip, at=datetime.now(timezone.utc), locale="en" if lang == "en" else "vn")

    def read_return(self, params: Mapping[str, str]) -> ReturnInfo | None:
        merchant = self.merchant()
        if merchant is None or not verify(params, merchant.secret):
            return None
        return ReturnInfo(ref=params.get("vnp_TxnRef", ""), says_ok=succeeded(params), reason_code=params.get("vnp_ResponseCode"))

    def read_webhook(self, request: Any) -> Notification:
        params = request.args.to_dict()
        merchant = self.merchant()
        assert merchant is not None
        refused = ipn_problem(params, merchant)  # signature, our terminal, command/currency
        if refused:
            raise WebhookRefused("bad_signature" if refused == BAD_CHECKSUM else "not_ours")
        return Notification(ref=params.get("vnp_TxnRef", ""), amount=_vnd(params.get("vnp_Amount")), ok=succeeded(params),
                            transaction=params.get("vnp_TransactionNo") or "", reason_code=params.get("vnp_ResponseCode"),
                            details={"params": params, "bank": params.get("vnp_BankCode")})

    def webhook_reply(self, outcome: Outcome) -> Any:
        from flask import jsonify

        return jsonify(reply(RSP_CODES[outcome]))

    def failure_reason(self, code: str | None) -> dict[str, str]:
        from plugins.gateways import vnpay_responses

        return vnpay_responses.sentence(code)

    def staff_failure_reason(self, code: str | None) -> dict[str, str]:
        from plugins.gateways import vnpay_responses

        return vnpay_responses.staff_sentence(code)

    @classmethod
    def legacy_urls(cls) -> dict[str, str]:
        # The IPN URL is registered at VNPay and return URLs are in citizens' browsers; pay
        # buttons on pages loaded before the move post to the old path.
        return {"/thanh-toan/vnpay/ipn": "webhook", "/thanh-toan/vnpay/return": "return", "/thanh-toan/<code>/vnpay": "start"}

    @classmethod
    def simulate(cls, app: Any, host: str, port: int) -> str | None:
        import secrets

        from plugins.simulators import public_address, serve_in_thread
        from plugins.simulators import vnpay as simulator

        secret = secrets.token_hex(16)
        ipn = public_address(app) + "/plugins/gateways/vnpay/webhook"
        url = serve_in_thread(simulator.create_app("MOTCUADEMO", secret, ipn), host, port, cls.id)
        app.config.update(VNPAY_PAY_URL=url + "/paymentv2/vpcpay.html", VNPAY_TMN_CODE="MOTCUADEMO", VNPAY_HASH_SECRET=secret)
        return url
