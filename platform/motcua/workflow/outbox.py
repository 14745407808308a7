"""The outbox: SMS, e-mail and sync messages written with the change, sent by jobs.

Messages are stored with the change that caused them, one record per dossier
(`store.records("outbox")`, key = dossier code, value {"code", "messages": {key: message}}),
so the messages a change sets off cost one write whatever their number, and the keys chosen
by the step (dossier, event, channel) mean a step run again never queues one twice. Each
message is then sent by its own job (`send_message`, motcua.jobs), keyed by the message: on
PostgreSQL the records, the dossier and the jobs commit in one transaction; on the embedded
store the messages are written before the dossier (`verified: False` with their event) and
the jobs deferred after it, and a message whose event never got saved is dropped, never
sent.

The record is the message's truth, whatever the queue does: `send_one` claims the message
(`status: sending`, a lease until `next_try`) under the records lock, sends it, and saves the
outcome; a message already sent, failed or claimed by a live sender is left alone, so a job
run twice (a retry, a job recovered from a dead worker, the embedded store's catch-up) never
sends it twice. A gateway that is down loses nothing: the job raises `Retry` and the queue
runs it again after 1, 2, 4 ... backoff units; after `NOTIFY_MAX_ATTEMPTS` (default
`MAX_ATTEMPTS`) attempts the message is marked `failed`, which the staff dossier page,
/dev/outbox and `motcua jobs` show. A message the gateway refuses as such (a 4xx other than
408/429, e.g. an invalid phone number: `Refused`) is marked `failed` at once, with the
gateway's answer as its error; 5xx, 408, 429 and network errors are retried.
"""

from __future__ import annotations

import json
import logging
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

log = logging.getLogger(__name__)

OUTBOX = "outbox"
MAX_ATTEMPTS = 5
LEASE_SECONDS = 300  # how long a claimed message is left to its sender before others may send it
DUE = ("pending", "sending")
#: Given up: every attempt failed. "gave_up" is how records written before the rename say it.
FAILED = ("failed", "gave_up")


#: 4xx answers that may succeed later (timeout, too many requests): retried like a 5xx.
RETRIABLE = (408, 429)


class Refused(RuntimeError):
    """The gateway refused the message itself (an invalid phone number, a 400 or 422): no
    retry can succeed, so the outbox marks it failed at once instead of spending its attempts."""


class Sender(Protocol):
    def send(self, message: dict[str, Any]) -> None:
        """Deliver one message or raise (`Refused` when trying again is pointless)."""


class LogSender:
    """Development sender: writes the message to the log (the /dev/outbox page shows it),
    with the private links' tokens redacted: a log is read by more people than the citizen."""

    def send(self, message: dict[str, Any]) -> None:
        text = " | ".join(part for part in (message.get("subject"), message["body"]) if part)
        log.info("%s to %s (from %s): %s", message["channel"], message["to"], message.get("sender") or "-",
                 " ".join(shown(text).split()))


def shown(text: str | None) -> str:
    """A message's text for a log or a page others read: private links without their token."""
    from motcua.tracking import redact_links

    return redact_links(text or "")


def for_display(messages: list[dict[str, Any]], config: Any = None) -> list[dict[str, Any]]:
    """Copies of outbox messages fit for /dev/outbox (anyone on a dev server can open it);
    one not sent yet shows the text its step will write (`rendered`)."""
    def text(m: dict[str, Any]) -> str:
        try:
            return shown(rendered(m, config or {}).get("body"))
        except Exception:  # its step is gone or fails: the job that sends it will say so
            return ""

    return [{**m, "body": text(m)} for m in messages]


class HttpSender:
    """Posts to an SMS / e-mail gateway (the local simulator speaks the same JSON)."""

    def __init__(self, url: str, api_key: str = "", timeout: float = 5) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def send(self, message: dict[str, Any]) -> None:
        payload = {"to": message["to"], "subject": message.get("subject"), "body": message["body"], "id": message["key"],
                   "sender": message.get("sender")}  # the office's name, shown as who the message is from
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
            answer = f"gateway answered {exc.code}{_reason(exc)}"
            if 400 <= exc.code < 500 and exc.code not in RETRIABLE:
                raise Refused(answer) from None
            raise RuntimeError(answer) from None
        except (urllib.error.URLError, OSError) as exc:
            raise RuntimeError(f"gateway unreachable: {exc.__class__.__name__}") from None


def _reason(error: urllib.error.HTTPError) -> str:
    """The gateway's own words (its JSON `error`, else its text), for staff to act on."""
    try:
        text = error.read(500).decode("utf-8", "replace").strip()
    except Exception:
        return ""
    try:
        said = json.loads(text)
        text = str(said.get("error") or said.get("message") or text) if isinstance(said, dict) else text
    except ValueError:
        pass
    return f": {' '.join(text.split())}" if text else ""


def sender_for(config: Any) -> Sender:
    """What sends the outbox's messages: a `motcua.notifiers` plugin when the deployment names
    one (`NOTIFIER`), else the JSON gateway at NOTIFY_URL, else the log (development); and
    the `motcua.sync` plugins for their own messages (channel `sync:<id>`)."""
    return _Dispatch(config or {})


class _Dispatch:
    def __init__(self, config: Any) -> None:
        self.config = config
        self._people: Sender | None = None

    def people(self) -> Sender:
        if self._people is None:
            from motcua.integrations import NOTIFIERS

            chosen = self.config.get("NOTIFIER")
            cls = NOTIFIERS.get(chosen, self.config) if chosen else None
            if chosen and cls is None:
                raise RuntimeError(f"NOTIFIER {chosen!r} is not an installed notifier")
            url = self.config.get("NOTIFY_URL")
            self._people = cls(self.config) if cls else HttpSender(url, self.config.get("NOTIFY_API_KEY", "")) if url else LogSender()
        return self._people

    def send(self, message: dict[str, Any]) -> None:
        channel = str(message.get("channel", ""))
        if channel.startswith("sync:"):
            from motcua.integrations import SYNC

            cls = SYNC.get(channel[5:], self.config)
            if cls is None:
                raise RuntimeError(f"sync plugin {channel[5:]!r} is not installed")
            cls(self.config).push(message)
            return
        self.people().send(message)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def rendered(message: dict[str, Any], config: Any) -> dict[str, Any]:
    """`message` with its body and subject: as stored, or written now by the step that asked
    for it with `render` data (`Step.render_message`), in the job that sends it."""
    how = message.get("render")
    if message.get("body") is not None or not how:
        return message
    from motcua.workflow.registry import step_registry

    cls = step_registry().get(how.get("step", ""))
    if cls is None:
        raise RuntimeError(f"message {message.get('key')}: the step {how.get('step')!r} that renders it is not installed")
    text = cls.render_message(message, config)
    return {**message, "body": text["body"], "subject": text.get("subject")}


class _NothingNew(Exception):
    """Every message asked for is in the record already: the update is abandoned unwritten."""


def _event_saved(dossier: Any, event: dict[str, Any] | None) -> bool:
    if not event:
        return True
    return dossier is not None and any(e.kind == event["kind"] and e.at.isoformat() == event["at"] for e in dossier.events)


class Outbox:
    def __init__(self, store: Any, sender: Sender, backoff_seconds: float = 60, max_attempts: int = MAX_ATTEMPTS,
                 clock: Callable[[], datetime] = _now, lease_seconds: float = LEASE_SECONDS, config: Any = None) -> None:
        self.store = store
        self.config = config or {}
        self.lease = lease_seconds
        self.clock = clock
        self.records = store.records(OUTBOX)
        self.sender = sender
        self.backoff = backoff_seconds
        self.max_attempts = max(1, max_attempts)

    # --- writing messages ----------------------------------------------------------------------

    def _add(self, code: str, messages: list[dict[str, Any]], verified: bool) -> list[str]:
        added: list[str] = []
        created = self.clock().isoformat()

        def change(record: dict[str, Any] | None) -> dict[str, Any]:
            added.clear()
            stored = dict((record or {}).get("messages", {}))
            for m in messages:
                if m["key"] not in stored:
                    stored[m["key"]] = {"subject": None, "milestone": "", "event": None, **m, "code": code,
                                        "status": "pending", "attempts": 0, "created_at": created,
                                        "next_try": created, "verified": verified,
                                        "error": None, "sent_at": None, "claim": None}
                    added.append(m["key"])
            if not added:
                raise _NothingNew  # no write (a cascade run again asks for the same messages)
            return {"code": code, "messages": stored}

        try:
            self.records.update(code, change)  # one read, under the lock, not one before it too
        except _NothingNew:
            return []
        return added

    def hold(self, code: str, messages: list[dict[str, Any]], *, verified: bool = False) -> list[str]:
        """Store a change's messages (one write) before or with the change; returns the new
        keys, each to be sent by a `send_message` job. `verified`: the change and these
        messages commit together (a store transaction), else each message is checked at
        sending time against its event and dropped if the change never got saved."""
        return self._add(code, messages, verified)

    def enqueue(self, key: str, *, code: str, channel: str, to: str, body: str, subject: str | None = None, milestone: str = "") -> bool:
        """Store one message, due now; False when that key was stored before. The caller
        defers its `send_message` job (motcua.workflow.tasks.send_later)."""
        message = {"key": key, "channel": channel, "to": to, "body": body, "subject": subject, "milestone": milestone}
        return bool(self._add(code, [message], verified=True))

    # --- sending ---------------------------------------------------------------------------------

    def send_one(self, code: str, key: str) -> str:
        """Send message `key` of dossier `code` once, whoever asks how often.

        Returns "sent", "done" (sent or given up before: nothing to do) or "dropped" (its
        event was never saved). Raises `Retry` while the gateway fails or another live sender
        holds the message, `GiveUp` when the message is now `failed`."""
        from motcua.jobs import GiveUp, Retry

        stored = ((self.records.get(code) or {}).get("messages") or {}).get(key)
        if stored is None or stored["status"] not in DUE:
            return "done"  # no write: the common case of a job run again
        dossier = self.store.dossiers.get(code) if not stored.get("verified", True) else None
        # a body its step writes now (outside the lock); kept with the claim, so the record
        # shows what was sent
        try:
            text = rendered(stored, self.config)
        except Exception as exc:  # its step gone, or render data it cannot read: never sendable
            self._unrenderable(code, key, exc)
            raise GiveUp(f"message {key} cannot be written: {str(exc)[:200]}") from None
        text = {"body": text["body"], "subject": text.get("subject")} if text is not stored else {}
        token = secrets.token_hex(8)
        taken: dict[str, Any] = {}

        def claim(current: dict[str, Any] | None) -> dict[str, Any]:
            taken.clear()
            current = current or {"code": code, "messages": {}}
            messages = dict(current.get("messages", {}))
            m = messages.get(key)
            now = self.clock()
            if m is None or m["status"] not in DUE:
                taken["outcome"] = "done"
            elif m["status"] == "sending" and datetime.fromisoformat(m["next_try"]) > now:
                taken["outcome"] = "busy"  # a live sender holds it: its outcome is the one to keep
            elif not m.get("verified", True) and not _event_saved(dossier, m.get("event")):
                messages[key] = {**m, "status": "dropped", "error": "event never saved"}
                taken["outcome"] = "dropped"
            else:
                messages[key] = {**m, **(text if m.get("body") is None else {}), "status": "sending", "claim": token, "verified": True,
                                 "next_try": (now + timedelta(seconds=self.lease)).isoformat()}
                taken["message"] = messages[key]
            return {**current, "messages": messages}

        self.records.update(code, claim)
        if taken.get("outcome") == "busy":
            raise Retry(f"message {key} is being sent by another worker")
        if "message" not in taken:
            return taken["outcome"]
        message = taken["message"]
        try:
            self.sender.send(message)
        except Exception as exc:
            attempts = message["attempts"] + 1
            failed = attempts >= self.max_attempts or isinstance(exc, Refused)
            delay = timedelta(seconds=self.backoff * 2 ** (attempts - 1))
            self._save(code, key, token, {"attempts": attempts, "error": str(exc)[:200], "claim": None,
                                          "status": "failed" if failed else "pending",
                                          "next_try": (self.clock() + delay).isoformat()})
            if failed:
                log.error("outbox: gave up on %s after %d attempts: %s", key, attempts, exc)
                raise GiveUp(f"message {key}: {str(exc)[:200]}") from None
            raise Retry(f"message {key}: {str(exc)[:200]}") from None
        self._save(code, key, token, {"attempts": message["attempts"] + 1, "status": "sent", "claim": None,
                                      "sent_at": self.clock().isoformat(), "error": None})
        return "sent"

    def _unrenderable(self, code: str, key: str, exc: Exception) -> None:
        """A message whose text its step cannot write is `failed` at once, with the error, so
        staff see it among the failed messages instead of a message pending for ever."""
        log.error("outbox: message %s of %s cannot be written: %s", key, code, exc)

        def change(current: dict[str, Any] | None) -> dict[str, Any]:
            current = current or {"code": code, "messages": {}}
            messages = dict(current.get("messages", {}))
            m = messages.get(key)
            if m is None or m["status"] not in DUE:
                return current
            messages[key] = {**m, "status": "failed", "attempts": int(m.get("attempts", 0)) + 1,
                             "error": f"cannot be written: {exc}"[:200], "claim": None}
            return {**current, "messages": messages}

        self.records.update(code, change)

    def _save(self, code: str, key: str, token: str, outcome: dict[str, Any]) -> None:
        """Save an attempt's outcome, unless the claim was taken over meanwhile (a sender so
        slow its lease ran out): then the new holder's outcome is the one kept."""
        lost: list[bool] = []

        def change(current: dict[str, Any] | None) -> dict[str, Any]:
            lost.clear()
            current = current or {"code": code, "messages": {}}
            messages = dict(current.get("messages", {}))
            m = messages.get(key)
            if m is None or m.get("claim") != token:
                lost.append(True)
                return current
            messages[key] = {**m, **outcome}
            return {**current, "messages": messages}

        self.records.update(code, change)
        if lost:
            log.error("outbox: %s of %s was taken over by another sender while this one sent it", key, code)

    def reopen(self, code: str, key: str) -> bool:
        """A message given up is due again with all its attempts (an administrator ran its
        dead job again, motcua.workflow.tasks); its last error stays until the next attempt.
        False when it was not given up (sent, due, or unknown): nothing changes."""
        reopened: list[bool] = []

        def change(current: dict[str, Any] | None) -> dict[str, Any]:
            reopened.clear()
            current = current or {"code": code, "messages": {}}
            messages = dict(current.get("messages", {}))
            m = messages.get(key)
            if m is None or m["status"] not in FAILED:
                return current
            messages[key] = {**m, "status": "pending", "attempts": 0, "claim": None,
                             "next_try": self.clock().isoformat(), "reopened": int(m.get("reopened", 0)) + 1}
            reopened.append(True)
            return {**current, "messages": messages}

        self.records.update(code, change)
        return bool(reopened)

    def unsettled(self, older_than: float) -> list[tuple[str, str]]:
        """(code, key) of messages neither sent nor given up whose time came more than
        `older_than` seconds ago: their job was lost (the embedded store's catch-up)."""
        cutoff = self.clock() - timedelta(seconds=older_than)
        return [(code, key) for code, record in self.records.all()
                for key, m in record.get("messages", {}).items()
                if m["status"] in DUE and datetime.fromisoformat(m["next_try"]) <= cutoff]

    def messages(self, code: str | None = None) -> list[dict[str, Any]]:
        if code is not None:
            found = list((self.records.get(code) or {}).get("messages", {}).values())
        else:
            found = [m for _, record in self.records.all() for m in record.get("messages", {}).values()]
        return sorted(found, key=lambda m: m.get("created_at", ""))


def outbox_for(services: Any, config: Any) -> Outbox:
    return Outbox(services.store, sender_for(config), float(config.get("NOTIFY_BACKOFF_SECONDS", 60)),
                  int(config.get("NOTIFY_MAX_ATTEMPTS", MAX_ATTEMPTS)),
                  lease_seconds=float(config.get("NOTIFY_LEASE_SECONDS", LEASE_SECONDS)), config=config)
