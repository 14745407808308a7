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
from typing import Mapping
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
