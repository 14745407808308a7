"""`sms_gateway`: the SMS / e-mail gateway the outbox posts to (JSON, `X-Api-Key`; the
protocol of motcua.workflow.outbox.HttpSender). Settings: NOTIFY_URL, NOTIFY_API_KEY. It is
also what a deployment gets without `NOTIFIER`; this plugin adds its simulator for
`motcua serve --demo`."""

from __future__ import annotations

from typing import Any

from motcua.integrations.notifiers import Notifier
from motcua.workflow.outbox import HttpSender


class SmsGatewayNotifier(Notifier):
    id = "sms_gateway"
    title = {"vi": "Cổng tin nhắn SMS / thư điện tử", "en": "SMS / e-mail gateway"}

    def send(self, message: dict[str, Any]) -> None:
        if not self.config.get("NOTIFY_URL"):
            raise RuntimeError("NOTIFY_URL is not configured")
        HttpSender(self.config["NOTIFY_URL"], self.config.get("NOTIFY_API_KEY", "")).send(message)

    @classmethod
    def simulate(cls, app: Any, host: str, port: int) -> str | None:
        import secrets

        from motcua_plugins.simulators import messaging as simulator
        from motcua_plugins.simulators import serve_in_thread

        key = secrets.token_hex(16)
        url = serve_in_thread(simulator.create_app(key), host, port, cls.id)
        app.config.update(NOTIFY_URL=url, NOTIFY_API_KEY=key)
        return url
