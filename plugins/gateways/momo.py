"""MoMo (payment API v3, "captureWallet"), the protocol shape and the `momo` gateway plugin.

DOMAIN.md, "Online payment": the signature is HMAC-SHA256 (hex) with the partner's secret
key over fixed fields joined `k=v&...` in a–z order; `resultCode` 0 is success; the
server-to-server IPN is answered with HTTP 204 (no body).

- Create: `POST {endpoint}/v2/gateway/api/create`, JSON with `partnerCode, requestId, amount,
  orderId, orderInfo, redirectUrl, ipnUrl, requestType, extraData, lang, signature`, the
  signature over `accessKey, amount, extraData, ipnUrl, orderId, orderInfo, partnerCode,
  redirectUrl, requestId, requestType`. The answer carries `resultCode` and `payUrl`, where
  the payer's browser goes.
- IPN: `POST ipnUrl`, JSON `partnerCode, orderId, requestId, amount, orderInfo, orderType,
  transId, resultCode, message, payType, responseTime, extraData, signature`, the signature
  over `accessKey, amount, extraData, message, orderId, orderInfo, orderType, partnerCode,
  payType, requestId, responseTime, resultCode, transId`. The browser comes back to
  `redirectUrl` with the same fields in the query string.
- Query: `POST {endpoint}/v2/gateway/api/query`, JSON `partnerCode, requestId, orderId, lang,
  signature` over `accessKey, orderId, partnerCode, requestId`; the answer carries the
  order's `resultCode` (0 paid; 1000 and 7000-range still pending; 42 unknown order),
  `amount`, `transId`, signed over `QUERY_ANSWER_FIELDS`.
- Refund: `POST {endpoint}/v2/gateway/api/refund`, JSON `partnerCode, orderId` (a new id of
  the refund), `requestId, amount, transId` (the payment's), `lang, description, signature`
  over `accessKey, amount, description, orderId, partnerCode, requestId, transId`; the answer
  `resultCode` 0 = refunded, its `transId` the refund's, signed over `REFUND_ANSWER_FIELDS`.
Amounts are whole VND (no x100, unlike VNPay). Settings: MOMO_ENDPOINT, MOMO_PARTNER_CODE,
MOMO_ACCESS_KEY, MOMO_SECRET_KEY. Nothing in the core names MoMo: this module and its
entry point are the whole gateway.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from motcua.integrations.gateways import (
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

CREATE_FIELDS = ("accessKey", "amount", "extraData", "ipnUrl", "orderId", "orderInfo", "partnerCode", "redirectUrl",
                 "requestId", "requestType")
RESULT_FIELDS = ("accessKey", "amount", "extraData", "message", "orderId", "orderInfo", "orderType", "partnerCode",
                 "payType", "requestId", "responseTime", "resultCode", "transId")
QUERY_FIELDS = ("accessKey", "orderId", "partnerCode", "requestId")
QUERY_ANSWER_FIELDS = ("accessKey", "amount", "extraData", "message", "orderId", "partnerCode", "payType", "requestId",
                       "responseTime", "resultCode", "transId")
REFUND_FIELDS = ("accessKey", "amount", "description", "orderId", "partnerCode", "requestId", "transId")
REFUND_ANSWER_FIELDS = ("accessKey", "amount", "message", "orderId", "partnerCode", "requestId", "responseTime",
                        "resultCode", "transId")
SUCCESS = 0
#: query resultCodes meaning "no final word yet": initiated (waiting for the payer), processing
PENDING = frozenset({1000, 7000, 7002, 9000})
ORDER_NOT_FOUND = 42

#: resultCode -> what the payer is told (MoMo's result codes of a payment)
SENTENCES: dict[int, dict[str, str]] = {
    1001: {"vi": "Tài khoản MoMo của bạn không đủ số dư để thanh toán.", "en": "Your MoMo account does not have enough funds."},
    1002: {"vi": "Giao dịch bị từ chối bởi nhà phát hành phương thức thanh toán.",
           "en": "The payment was refused by the issuer of your payment method."},
    1003: {"vi": "Giao dịch đã bị hủy.", "en": "The payment was cancelled."},
    1004: {"vi": "Số tiền vượt quá hạn mức thanh toán của bạn.", "en": "The amount is over your payment limit."},
    1005: {"vi": "Liên kết hoặc mã QR thanh toán đã hết hạn; bạn có thể thanh toán lại.",
           "en": "The payment link or QR code expired; you can pay again."},
    1006: {"vi": "Bạn đã từ chối xác nhận thanh toán.", "en": "You declined to confirm the payment."},
    1007: {"vi": "Tài khoản MoMo của bạn đang bị tạm khóa.", "en": "Your MoMo account is suspended."},
}
#: resultCode -> what staff read (about the payer, not to them)
STAFF_SENTENCES: dict[int, dict[str, str]] = {
    1001: {"vi": "Tài khoản MoMo của công dân không đủ số dư", "en": "The citizen's MoMo account did not have enough funds"},
    1002: {"vi": "Nhà phát hành phương thức thanh toán từ chối giao dịch", "en": "The issuer of the payment method refused it"},
    1003: {"vi": "Giao dịch đã bị hủy", "en": "The payment was cancelled"},
    1004: {"vi": "Số tiền vượt hạn mức thanh toán của công dân", "en": "The amount was over the citizen's payment limit"},
    1005: {"vi": "Liên kết hoặc mã QR thanh toán đã hết hạn", "en": "The payment link or QR code expired"},
    1006: {"vi": "Công dân đã từ chối xác nhận thanh toán", "en": "The citizen declined to confirm the payment"},
    1007: {"vi": "Tài khoản MoMo của công dân đang bị tạm khóa", "en": "The citizen's MoMo account is suspended"},
}


def staff_sentence(code: int | None) -> dict[str, str]:
    """What staff read for a failed MoMo payment, with MoMo's code."""
    if code is None:
        return {"vi": "Giao dịch MoMo của công dân không thành công.", "en": "The citizen's MoMo payment did not go through."}
    known = STAFF_SENTENCES.get(code) or {"vi": "Giao dịch MoMo của công dân không thành công",
                                           "en": "The citizen's MoMo payment did not go through"}
    return {"vi": f"{known['vi']} (MoMo mã {code}).", "en": f"{known['en']} (MoMo code {code})."}


@dataclass(frozen=True)
class Partner:
    endpoint: str
    partner_code: str
    access_key: str
    secret_key: str


def raw(fields: Mapping[str, Any], names: tuple[str, ...], access_key: str) -> str:
    """`k=v&...` over the named fields in a–z order (the accessKey is the partner's)."""
    values = {**{k: fields.get(k, "") for k in names}, "accessKey": access_key}
    return "&".join(f"{k}={'' if values[k] is None else values[k]}" for k in sorted(names))


def sign(fields: Mapping[str, Any], names: tuple[str, ...], partner: Partner) -> str:
    return hmac.new(partner.secret_key.encode(), raw(fields, names, partner.access_key).encode(), hashlib.sha256).hexdigest()


def verify(fields: Mapping[str, Any], names: tuple[str, ...], partner: Partner) -> bool:
    given = str(fields.get("signature") or "")
    return bool(given) and hmac.compare_digest(given.lower(), sign(fields, names, partner))


def sentence(code: int | None) -> dict[str, str]:
    if code in SENTENCES:
        return SENTENCES[code]  # type: ignore[index]
    if code is None:
        return {"vi": "Giao dịch không thành công.", "en": "The payment did not go through."}
    return {"vi": f"Giao dịch MoMo không thành công (mã {code}).", "en": f"The MoMo payment did not go through (code {code})."}


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


class MoMoGateway(Gateway):
    id = "momo"
    title = {"vi": "MoMo", "en": "MoMo"}
    settings = ("MOMO_ENDPOINT", "MOMO_PARTNER_CODE", "MOMO_ACCESS_KEY", "MOMO_SECRET_KEY")

    def partner(self) -> Partner | None:
        c = self.config
        if not all(c.get(k) for k in self.settings):
            return None
        return Partner(c["MOMO_ENDPOINT"].rstrip("/"), c["MOMO_PARTNER_CODE"], c["MOMO_ACCESS_KEY"], c["MOMO_SECRET_KEY"])

    def configured(self) -> bool:
        return self.partner() is not None

    def payer_urls(self) -> list[str]:
        return [self.config["MOMO_ENDPOINT"]] if self.config.get("MOMO_ENDPOINT") else []  # payUrl is on it

    def start(self, order: PaymentOrder, *, return_url: str, webhook_url: str, client_ip: str, lang: str) -> str:
        partner = self.partner()
        assert partner is not None
        body: dict[str, Any] = {
            "partnerCode": partner.partner_code, "requestId": order.ref, "amount": order.amount, "orderId": order.ref,
            "orderInfo": f"Thanh toan phi le phi ho so {order.code}", "redirectUrl": return_url, "ipnUrl": webhook_url,
            "requestType": "captureWallet", "extraData": "", "lang": "en" if lang == "en" else "vi",
        }
        body["signature"] = sign(body, CREATE_FIELDS, partner)
        request = urllib.request.Request(partner.endpoint + "/v2/gateway/api/create", method="POST",
                                         data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                answer = json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise RuntimeError(f"MoMo create failed: {exc}") from None
        if answer.get("resultCode") != SUCCESS or not answer.get("payUrl"):
            raise RuntimeError(f"MoMo refused the order: {answer.get('resultCode')} {answer.get('message')}")
        return str(answer["payUrl"])

    def read_return(self, params: Mapping[str, str]) -> ReturnInfo | None:
        partner = self.partner()
        if partner is None or not verify(params, RESULT_FIELDS, partner) or params.get("partnerCode") != partner.partner_code:
            return None
        code = _int(params.get("resultCode"))
        return ReturnInfo(ref=params.get("orderId", ""), says_ok=code == SUCCESS, reason_code=None if code is None else str(code))

    def read_webhook(self, request: Any) -> Notification:
        partner = self.partner()
        assert partner is not None
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise WebhookRefused("bad_signature", "not a JSON object")
        if not verify(body, RESULT_FIELDS, partner):
            raise WebhookRefused("bad_signature")
        if not hmac.compare_digest(str(body.get("partnerCode", "")).encode(), partner.partner_code.encode()):
            raise WebhookRefused("not_ours")
        code, amount = _int(body.get("resultCode")), _int(body.get("amount"))
        if code is None:
            raise WebhookRefused("not_ours", "resultCode is not a number")
        if code in PENDING:  # not final, as `query` reads it too: recorded, it would refuse the final IPN as a duplicate
            raise WebhookRefused("ok", f"resultCode {code} is not final: nothing recorded")
        return Notification(ref=str(body.get("orderId", "")), amount=-1 if amount is None else amount, ok=code == SUCCESS,
                            transaction=str(body.get("transId") or ""), reason_code=str(code),
                            details={"ipn": body, "pay_type": body.get("payType")})

    def webhook_reply(self, outcome: Outcome) -> Any:
        # 204 once recorded (or already recorded): MoMo stops retrying. 500 asks it to retry.
        status = {"ok": 204, "duplicate": 204, "not_found": 404, "wrong_amount": 400, "bad_signature": 400,
                  "not_ours": 400, "error": 500}[outcome]
        return ("", 204) if status == 204 else ({"error": outcome}, status)

    def _api(self, path: str, body: dict[str, Any], names: tuple[str, ...], answer_names: tuple[str, ...]) -> dict[str, Any]:
        """POST one signed request; the answer once its signature and partner check."""
        partner = self.partner()
        if partner is None:
            raise GatewayUnavailable("MoMo is not configured")
        body = {"partnerCode": partner.partner_code, **body, "lang": "vi"}
        body["signature"] = sign(body, names, partner)
        request = urllib.request.Request(partner.endpoint + path, method="POST", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:  # MoMo answers refusals with a 4xx and a JSON body
            try:
                answer = json.loads(exc.read())
            except ValueError:
                raise GatewayUnavailable(f"MoMo {path}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise GatewayUnavailable(f"MoMo {path} failed: {exc}") from None
        if not isinstance(answer, dict) or not verify(answer, answer_names, partner):
            raise GatewayUnavailable(f"MoMo {path}: the answer's signature does not verify")
        if not hmac.compare_digest(str(answer.get("partnerCode", "")).encode(), partner.partner_code.encode()):
            raise GatewayUnavailable(f"MoMo {path}: the answer names another partner")
        return answer

    def query(self, order: PaymentOrder) -> Notification | None:
        import secrets

        answer = self._api("/v2/gateway/api/query", {"requestId": f"Q{order.ref}{secrets.token_hex(4)}", "orderId": order.ref},
                           QUERY_FIELDS, QUERY_ANSWER_FIELDS)
        code, amount = _int(answer.get("resultCode")), _int(answer.get("amount"))
        if code is None or code in PENDING or code == ORDER_NOT_FOUND:
            return None
        if answer.get("orderId") != order.ref:
            raise GatewayUnavailable("MoMo query answered about another order")
        return Notification(ref=order.ref, amount=-1 if amount is None else amount, ok=code == SUCCESS,
                            transaction=str(answer.get("transId") or ""), reason_code=str(code),
                            details={"query": answer, "pay_type": answer.get("payType"), "via": "query"})

    def refund(self, refund: Refund) -> RefundResult:
        answer = self._api("/v2/gateway/api/refund",
                           {"orderId": refund.ref, "requestId": refund.ref, "amount": refund.amount,
                            "transId": _int(refund.transaction) if _int(refund.transaction) is not None else refund.transaction,
                            "description": f"Hoan tien ho so {refund.order.code}"},
                           REFUND_FIELDS, REFUND_ANSWER_FIELDS)
        code = _int(answer.get("resultCode"))
        if code is None or code in PENDING or code in (10, 99):  # maintenance, unknown error, processing: ask later
            raise GatewayUnavailable(f"MoMo refund answered {answer.get('resultCode')} {answer.get('message', '')}")
        return RefundResult(ok=code == SUCCESS, transaction=str(answer.get("transId") or ""),
                            reason_code=None if code == SUCCESS else str(code), message=str(answer.get("message") or ""))

    def failure_reason(self, code: str | None) -> dict[str, str]:
        return sentence(_int(code) if code is not None else None)

    def staff_failure_reason(self, code: str | None) -> dict[str, str]:
        return staff_sentence(_int(code) if code is not None else None)

    @classmethod
    def simulate(cls, app: Any, host: str, port: int) -> str | None:
        import secrets

        from motcua_plugins.simulators import momo as simulator
        from motcua_plugins.simulators import serve_in_thread

        access, secret = secrets.token_hex(8), secrets.token_hex(16)
        url = serve_in_thread(simulator.create_app("MOTCUADEMO", access, secret), host, port, cls.id)
        app.config.update(MOMO_ENDPOINT=url, MOMO_PARTNER_CODE="MOTCUADEMO", MOMO_ACCESS_KEY=access, MOMO_SECRET_KEY=secret)
        return url
