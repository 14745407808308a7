"""A made-up gateway, Acme Pay, in a package of its own: the payer is sent to
`ACME_URL/pay?...`, comes back with signed parameters, and Acme posts a signed JSON webhook.
The whole gateway is this class and one entry point (docs/plugins.md, section 3)."""

import hashlib
import hmac
from urllib.parse import urlencode

from flask import jsonify

from motcua.integrations.gateways import Gateway, Notification, ReturnInfo, WebhookRefused


class AcmePay(Gateway):
    id = "acme"
    title = {"vi": "Acme Pay", "en": "Acme Pay"}

    def _sign(self, ref: str, amount: int, status: str) -> str:
        secret = self.config["ACME_SECRET"].encode()
        return hmac.new(secret, f"{ref}|{amount}|{status}".encode(), hashlib.sha256).hexdigest()

    def configured(self) -> bool:
        return bool(self.config.get("ACME_URL") and self.config.get("ACME_SECRET"))

    def start(self, order, *, return_url, webhook_url, client_ip, lang):
        query = {"ref": order.ref, "amount": order.amount, "back": return_url, "notify": webhook_url,
                 "sig": self._sign(order.ref, order.amount, "new")}
        return f"{self.config['ACME_URL']}/pay?{urlencode(query)}"

    def read_return(self, params):
        ref, amount, status = params.get("ref", ""), params.get("amount", ""), params.get("status", "")
        if not amount.isdigit() or not hmac.compare_digest(params.get("sig", ""), self._sign(ref, int(amount), status)):
            return None
        return ReturnInfo(ref=ref, says_ok=status == "paid", reason_code=None if status == "paid" else status)

    def read_webhook(self, request):
        body = request.get_json(silent=True) or {}
        ref, amount, status = str(body.get("ref", "")), body.get("amount"), str(body.get("status", ""))
        if not isinstance(amount, int) or not hmac.compare_digest(str(body.get("sig", "")), self._sign(ref, amount, status)):
            raise WebhookRefused("bad_signature")
        return Notification(ref=ref, amount=amount, ok=status == "paid", transaction=str(body.get("txn", "")),
                            reason_code=None if status == "paid" else status)

    def webhook_reply(self, outcome):
        return jsonify(ok=outcome in ("ok", "duplicate"), outcome=outcome), 503 if outcome == "error" else 200
