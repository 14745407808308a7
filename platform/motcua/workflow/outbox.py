"""The outbox: SMS and e-mail messages written first, sent after, retried with backoff.

A message is stored (`store.records("outbox")`, key chosen by the writer so a retried step
never queues it twice) before any attempt to send it, so a gateway that is down loses
nothing: `send_due()` (after each new message, and `motcua workflow send-outbox`) tries
again after 1, 2, 4 ... backoff units and records the give-up after `MAX_ATTEMPTS`.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

log = logging.getLogger(__name__)

OUTBOX = "outbox"
MAX_ATTEMPTS = 5


class Sender(Protocol):
    def send(self, message: dict[str, Any]) -> None:
        """Deliver one message or raise."""


class LogSender:
    """Development sender: writes the message to the log (the /dev/outbox page shows it)."""

    def send(self, message: dict[str, Any]) -> None:
        log.info("%s to %s: %s", message["channel"], message["to"], message.get("subject") or message["body"])


class HttpSender:
    """Posts to an SMS / e-mail gateway (the local simulator speaks the same JSON)."""

    def __init__(self, url: str, api_key: str = "", timeout: float = 5) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def send(self, message: dict[str, Any]) -> None:
        payload = {"to": message["to"], "subject": message.get("subject"), "body": message["body"], "id": message["key"]}
        request = urllib.request.Request(
            f"{self.url}/api/{message['channel']}",
            data=json.dumps(payload, ensure_ascii=False).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "X-Api-Key": self.api_key},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"gateway answered {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise RuntimeError(f"gateway unreachable: {exc.__class__.__name__}") from None


def sender_for(config: Any) -> Sender:
    url = config.get("NOTIFY_URL") if config else None
    return HttpSender(url, config.get("NOTIFY_API_KEY", "")) if url else LogSender()


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Outbox:
    def __init__(self, store: Any, sender: Sender, backoff_seconds: float = 60) -> None:
        self.records = store.records(OUTBOX)
        self.sender = sender
        self.backoff = backoff_seconds

    def enqueue(self, key: str, *, code: str, channel: str, to: str, body: str, subject: str | None = None, milestone: str = "") -> bool:
        """Queue a message once per key; False when that key was queued before."""
        now = _now().isoformat()
        return self.records.insert_new(key, {
            "key": key, "code": code, "channel": channel, "to": to, "subject": subject, "body": body,
            "milestone": milestone, "status": "pending", "attempts": 0, "created_at": now, "next_try": now,
            "error": None, "sent_at": None,
        })

    def send_due(self, now: datetime | None = None, keys: list[str] | None = None) -> dict[str, int]:
        """Try every pending message whose time has come; returns counts by outcome."""
        now = now or _now()
        counts = {"sent": 0, "retry": 0, "gave_up": 0}
        candidates = keys if keys is not None else [k for k, v in self.records.all() if v.get("status") == "pending"]
        for key in candidates:
            claimed: dict[str, Any] = {}

            def claim(msg: dict[str, Any] | None) -> dict[str, Any]:
                if msg and msg["status"] == "pending" and datetime.fromisoformat(msg["next_try"]) <= now:
                    claimed.update(msg)
                    return {**msg, "status": "sending"}
                return msg or {}

            self.records.update(key, claim)
            if not claimed:
                continue
            try:
                self.sender.send(claimed)
            except Exception as exc:
                attempts = claimed["attempts"] + 1
                gave_up = attempts >= MAX_ATTEMPTS
                delay = timedelta(seconds=self.backoff * 2 ** (attempts - 1))
                self.records.put(key, {**claimed, "attempts": attempts, "error": str(exc)[:200],
                                       "status": "gave_up" if gave_up else "pending",
                                       "next_try": (now + delay).isoformat()})
                counts["gave_up" if gave_up else "retry"] += 1
                if gave_up:
                    log.error("outbox: gave up on %s after %d attempts: %s", key, attempts, exc)
                continue
            self.records.put(key, {**claimed, "attempts": claimed["attempts"] + 1, "status": "sent",
                                   "sent_at": _now().isoformat(), "error": None})
            counts["sent"] += 1
        return counts

    def messages(self, code: str | None = None) -> list[dict[str, Any]]:
        found = [v for _, v in self.records.all() if code is None or v.get("code") == code]
        return sorted(found, key=lambda m: m.get("created_at", ""))


def outbox_for(services: Any, config: Any) -> Outbox:
    return Outbox(services.store, sender_for(config), float(config.get("NOTIFY_BACKOFF_SECONDS", 60)))
