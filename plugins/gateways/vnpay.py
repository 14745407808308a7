"""VNPay 2.1.0, the protocol shape (DOMAIN.md, "Online payment").

The `vnp_*` parameters are sorted by name, URL-encoded and joined `k=v&...`; the string is
signed with HMAC-SHA512 and the merchant's secret (`vnp_SecureHash`). Amounts are VND x 100.
The server-to-server IPN is the only thing that marks a payment done; the browser's return
URL only chooses which page to show. Pure functions: the simulator uses the same ones.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
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


# --- the merchant API (`merchant_webapi/api/transaction`): querydr and refund ---------------
# JSON POSTs, each signed HMAC-SHA512 over its fields' values joined by "|" in a fixed order
# (not the sorted `k=v&` of the pay URL); the answer is signed the same way.

QUERY_FIELDS = ("vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TxnRef", "vnp_TransactionDate",
                "vnp_CreateDate", "vnp_IpAddr", "vnp_OrderInfo")
QUERY_ANSWER_FIELDS = ("vnp_ResponseId", "vnp_Command", "vnp_ResponseCode", "vnp_Message", "vnp_TmnCode", "vnp_TxnRef",
                       "vnp_Amount", "vnp_BankCode", "vnp_PayDate", "vnp_TransactionNo", "vnp_TransactionType",
                       "vnp_TransactionStatus", "vnp_OrderInfo", "vnp_PromotionCode", "vnp_PromotionAmount")
REFUND_FIELDS = ("vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TransactionType", "vnp_TxnRef",
                 "vnp_Amount", "vnp_TransactionNo", "vnp_TransactionDate", "vnp_CreateBy", "vnp_CreateDate", "vnp_IpAddr",
                 "vnp_OrderInfo")
REFUND_ANSWER_FIELDS = ("vnp_ResponseId", "vnp_Command", "vnp_ResponseCode", "vnp_Message", "vnp_TmnCode", "vnp_TxnRef",
                        "vnp_Amount", "vnp_BankCode", "vnp_PayDate", "vnp_TransactionNo", "vnp_TransactionType",
                        "vnp_TransactionStatus", "vnp_OrderInfo")
#: vnp_TransactionType of a refund: the whole amount, or part of it
FULL_REFUND, PARTIAL_REFUND = "02", "03"
#: vnp_ResponseCode of the merchant API: the order is unknown to VNPay
API_NOT_FOUND = "91"
#: vnp_TransactionStatus of a queried payment
TXN_SUCCESS, TXN_PENDING = "00", "01"


def sign_fields(fields: Mapping[str, Any], names: tuple[str, ...], secret: str) -> str:
    """HMAC-SHA512 over the named fields' values joined by "|" (merchant API messages)."""
    data = "|".join("" if fields.get(k) is None else str(fields.get(k)) for k in names)
    return hmac.new(secret.encode(), data.encode(), hashlib.sha512).hexdigest()


def verify_fields(fields: Mapping[str, Any], names: tuple[str, ...], secret: str) -> bool:
    given = str(fields.get("vnp_SecureHash") or "")
    return bool(given) and hmac.compare_digest(given.lower(), sign_fields(fields, names, secret))


# --- the plugin (`motcua.gateways` entry point `vnpay`) --------------------------------------

from motcua.integrations.gateways import (  # noqa: E402
    Gateway,
    GatewayUnavailable,
    Notification,
    Outcome,
    PaymentOrder,
    Refund,
    RefundResult,
    ReturnInfo,
    WebhookRefused,
)

#: the core's outcome of a checked IPN -> VNPay's RspCode
RSP_CODES: dict[str, str] = {"ok": OK, "duplicate": ALREADY_CONFIRMED, "not_found": NOT_FOUND, "wrong_amount": WRONG_AMOUNT,
                             "bad_signature": BAD_CHECKSUM, "not_ours": OTHER, "error": OTHER}


def _created(order: PaymentOrder) -> datetime | None:
    """When the order was opened: its pay URL's `vnp_CreateDate`, which querydr and refund
    name again as `vnp_TransactionDate`."""
    try:
        return datetime.fromisoformat(order.created_at) if order.created_at else None
    except ValueError:
        return None


def _vnd(value: str | None) -> int:
    """`vnp_Amount` (VND x 100) in VND; -1 when it is not a whole number of VND (refused as
    a wrong amount once the order is found, as VNPay's table orders the checks)."""
    try:
        amount = int(str(value))
    except ValueError:
        return -1
    return amount // 100 if amount >= 0 and amount % 100 == 0 else -1


class VNPayGateway(Gateway):
    """VNPay 2.1.0. Settings: VNPAY_PAY_URL, VNPAY_TMN_CODE, VNPAY_HASH_SECRET; for querydr and
    refund also VNPAY_API_URL (the merchant API, `.../merchant_webapi/api/transaction`) and
    optionally VNPAY_SERVER_IP (`vnp_IpAddr` of those calls). The IPN URL is
    registered at VNPay's merchant portal: `<PUBLIC_URL>/plugins/gateways/vnpay/webhook` (the
    old `/thanh-toan/vnpay/ipn` keeps working)."""

    id = "vnpay"
    title = {"vi": "VNPay", "en": "VNPay"}
    settings = ("VNPAY_PAY_URL", "VNPAY_TMN_CODE", "VNPAY_HASH_SECRET")

    def offers(self, method: str) -> bool:
        # querydr and refund go to the merchant API, a URL of its own
        return super().offers(method) and bool(self.config.get("VNPAY_API_URL"))

    def merchant(self) -> Merchant | None:
        config = self.config
        if not all(config.get(key) for key in self.settings):
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
                           ip_addr=client_ip, at=_created(order) or datetime.now(timezone.utc),
                           locale="en" if lang == "en" else "vn")

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

    def _api(self, body: dict[str, Any], names: tuple[str, ...], answer_names: tuple[str, ...]) -> dict[str, Any]:
        """POST one signed merchant-API message; its answer once its signature and terminal check."""
        import json
        import urllib.error
        import urllib.request

        merchant = self.merchant()
        url = self.config.get("VNPAY_API_URL")
        if merchant is None or not url:
            raise GatewayUnavailable("VNPay's merchant API is not configured (VNPAY_API_URL)")
        body = {**body, "vnp_Version": VERSION, "vnp_TmnCode": merchant.tmn_code,
                "vnp_CreateDate": timestamp(datetime.now(VN_TZ)), "vnp_IpAddr": self.config.get("VNPAY_SERVER_IP") or "127.0.0.1"}
        body["vnp_SecureHash"] = sign_fields(body, names, merchant.secret)
        request = urllib.request.Request(url, method="POST", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                answer = json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise GatewayUnavailable(f"VNPay {body['vnp_Command']} failed: {exc}") from None
        if not isinstance(answer, dict) or not verify_fields(answer, answer_names, merchant.secret):
            raise GatewayUnavailable(f"VNPay {body['vnp_Command']}: the answer's checksum does not verify")
        if not hmac.compare_digest(str(answer.get("vnp_TmnCode", "")).encode(), merchant.tmn_code.encode()):
            raise GatewayUnavailable(f"VNPay {body['vnp_Command']}: the answer names another terminal")
        return answer

    def query(self, order: PaymentOrder) -> Notification | None:
        import secrets

        answer = self._api({"vnp_RequestId": f"Q{secrets.token_hex(8)}", "vnp_Command": "querydr", "vnp_TxnRef": order.ref,
                            "vnp_OrderInfo": f"Tra cuu giao dich {order.ref}",
                            "vnp_TransactionDate": timestamp(_created(order) or datetime.now(VN_TZ))},
                           QUERY_FIELDS, QUERY_ANSWER_FIELDS)
        code, status = answer.get("vnp_ResponseCode"), answer.get("vnp_TransactionStatus")
        if code == API_NOT_FOUND or (code == OK and status == TXN_PENDING):
            return None  # VNPay has no final word: the payer never finished, or is still paying
        if code != OK or answer.get("vnp_TxnRef") != order.ref:
            raise GatewayUnavailable(f"VNPay querydr answered {code} {answer.get('vnp_Message', '')}")
        ok = status == TXN_SUCCESS
        # querydr carries the payment's status, not its pay-time response code: a failure is
        # worded from the status ("TS02"), never as a code the payer saw
        return Notification(ref=order.ref, amount=_vnd(answer.get("vnp_Amount")), ok=ok,
                            transaction=str(answer.get("vnp_TransactionNo") or ""),
                            reason_code=None if ok else f"TS{status}",
                            details={"query": answer, "bank": answer.get("vnp_BankCode"), "via": "query"})

    def refund(self, refund: Refund) -> RefundResult:
        answer = self._api({"vnp_RequestId": refund.ref, "vnp_Command": "refund",
                            "vnp_TransactionType": FULL_REFUND if refund.full else PARTIAL_REFUND,
                            "vnp_TxnRef": refund.order.ref, "vnp_Amount": str(refund.amount * 100),
                            "vnp_TransactionNo": refund.transaction,
                            "vnp_TransactionDate": timestamp(_created(refund.order) or datetime.now(VN_TZ)),
                            "vnp_CreateBy": refund.requested_by, "vnp_OrderInfo": f"Hoan tien {refund.order.code}"},
                           REFUND_FIELDS, REFUND_ANSWER_FIELDS)
        code = str(answer.get("vnp_ResponseCode") or "")
        if code == "99":  # VNPay's "other error": not a refusal, ask again later
            raise GatewayUnavailable(f"VNPay refund answered 99 {answer.get('vnp_Message', '')}")
        return RefundResult(ok=code == OK, transaction=str(answer.get("vnp_TransactionNo") or ""),
                            reason_code=None if code == OK else code, message=str(answer.get("vnp_Message") or ""))

    def failure_reason(self, code: str | None) -> dict[str, str]:
        from motcua_plugins.gateways import vnpay_responses

        return vnpay_responses.sentence(code)

    def staff_failure_reason(self, code: str | None) -> dict[str, str]:
        from motcua_plugins.gateways import vnpay_responses

        return vnpay_responses.staff_sentence(code)

    @classmethod
    def legacy_urls(cls) -> dict[str, str]:
        # The IPN URL is registered at VNPay and return URLs are in citizens' browsers; pay
        # buttons on pages loaded before the move post to the old path.
        return {"/thanh-toan/vnpay/ipn": "webhook", "/thanh-toan/vnpay/return": "return", "/thanh-toan/<code>/vnpay": "start"}

    @classmethod
    def simulate(cls, app: Any, host: str, port: int) -> str | None:
        import secrets

        from motcua_plugins.simulators import public_address, serve_in_thread
        from motcua_plugins.simulators import vnpay as simulator

        secret = secrets.token_hex(16)
        ipn = public_address(app) + "/plugins/gateways/vnpay/webhook"
        url = serve_in_thread(simulator.create_app("MOTCUADEMO", secret, ipn), host, port, cls.id)
        app.config.update(VNPAY_PAY_URL=url + "/paymentv2/vpcpay.html", VNPAY_TMN_CODE="MOTCUADEMO", VNPAY_HASH_SECRET=secret,
                          VNPAY_API_URL=url + "/merchant_webapi/api/transaction")
        return url
