"""The outbox: SMS and e-mail messages written first, sent after, retried with backoff.

Messages are stored before any attempt to send them, one record per dossier
(`store.records("outbox")`, key = dossier code, value {"code", "messages": {key: message}}),
so the messages a change sets off cost one write whatever their number, and the keys
chosen by the step mean a step run again never queues one twice. The engine stores them
claimed by this process (`status: sending`, a lease until `next_try`) BEFORE it saves the
dossier, and hands them to the `Courier` (a background thread) after, so the citizen's
request never waits for a gateway. A gateway that is down loses nothing: `send_due()`
sends what is pending and due, and what a dead process had claimed once its lease is over,
after 1, 2, 4 ... backoff units; after `NOTIFY_MAX_ATTEMPTS` (default `MAX_ATTEMPTS`) the
message is marked `failed`, which the staff dossier page and /dev/outbox show. A message
whose event never got saved (the process died or the dossier changed before the save) is
found out then and dropped, never sent.

`motcua serve` runs `send_due()` every `OUTBOX_SWEEP_SECONDS` in a background thread (the
`Sweeper`), so retries need no cron job (`motcua workflow send-outbox` remains for a
person after an outage). Of several serve processes on one data folder only the holder of
the store's lease record sweeps; the per-message claims above keep a message from going
out twice even if two sweeps ever overlap.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import queue
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Protocol

log = logging.getLogger(__name__)

OUTBOX = "outbox"
MAX_ATTEMPTS = 5
LEASE_SECONDS = 300  # how long a claimed message is left to its sender before others may send it
DUE = ("pending", "sending")
#: Given up: every attempt failed. "gave_up" is how records written before the rename say it.
FAILED = ("failed", "gave_up")
IDLE_SECONDS = 30  # the courier thread ends after this long without work
SWEEP_SECONDS = 60  # how often `motcua serve` tries the due messages again (OUTBOX_SWEEP_SECONDS)
LEASES = "leases"  # records collection of the one-process-at-a-time roles
SWEEP_LEASE = "outbox-sweeper"


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


def _event_saved(dossier: Any, event: dict[str, Any] | None) -> bool:
    if not event:
        return True
    return dossier is not None and any(e.kind == event["kind"] and e.at.isoformat() == event["at"] for e in dossier.events)


class Outbox:
    def __init__(self, store: Any, sender: Sender, backoff_seconds: float = 60, max_attempts: int = MAX_ATTEMPTS) -> None:
        self.store = store
        self.records = store.records(OUTBOX)
        self.sender = sender
        self.backoff = backoff_seconds
        self.max_attempts = max(1, max_attempts)

    # --- writing messages ----------------------------------------------------------------------

    def _add(self, code: str, messages: list[dict[str, Any]], status: str, next_try: datetime, verified: bool) -> list[str]:
        current = self.records.get(code) or {}
        if all(m["key"] in current.get("messages", {}) for m in messages):
            return []  # nothing new: no write
        added: list[str] = []
        created = _now().isoformat()

        def change(record: dict[str, Any] | None) -> dict[str, Any]:
            stored = dict((record or {}).get("messages", {}))
            for m in messages:
                if m["key"] not in stored:
                    stored[m["key"]] = {"subject": None, "milestone": "", "event": None, **m, "code": code,
                                        "status": status, "attempts": 0, "created_at": created,
                                        "next_try": next_try.isoformat(), "verified": verified,
                                        "error": None, "sent_at": None}
                    added.append(m["key"])
            return {"code": code, "messages": stored}

        self.records.update(code, change)
        return added

    def hold(self, code: str, messages: list[dict[str, Any]]) -> list[str]:
        """Store a change's messages, claimed for this process's courier; one write. Returns new keys."""
        return self._add(code, messages, "sending", _now() + timedelta(seconds=LEASE_SECONDS), verified=False)

    def enqueue(self, key: str, *, code: str, channel: str, to: str, body: str, subject: str | None = None, milestone: str = "") -> bool:
        """Queue one message, due now, for `send_due`; False when that key was queued before."""
        message = {"key": key, "channel": channel, "to": to, "body": body, "subject": subject, "milestone": milestone}
        return bool(self._add(code, [message], "pending", _now(), verified=True))

    # --- sending ---------------------------------------------------------------------------------

    def _attempt(self, message: dict[str, Any], now: datetime) -> tuple[dict[str, Any], str]:
        try:
            self.sender.send(message)
        except Exception as exc:
            attempts = message["attempts"] + 1
            failed = attempts >= self.max_attempts
            if failed:
                log.error("outbox: gave up on %s after %d attempts: %s", message["key"], attempts, exc)
            delay = timedelta(seconds=self.backoff * 2 ** (attempts - 1))
            return {**message, "attempts": attempts, "error": str(exc)[:200], "verified": True,
                    "status": "failed" if failed else "pending", "next_try": (now + delay).isoformat()}, \
                ("failed" if failed else "retry")
        return {**message, "attempts": message["attempts"] + 1, "status": "sent", "verified": True,
                "sent_at": _now().isoformat(), "error": None}, "sent"

    def _send_claimed(self, code: str, claimed: list[dict[str, Any]], now: datetime, counts: dict[str, int]) -> None:
        """Send what this process holds the claim on, then save every outcome in one write."""
        outcomes = {}
        for message in claimed:
            outcomes[message["key"]], outcome = self._attempt(message, now)
            counts[outcome] += 1

        def save(record: dict[str, Any] | None) -> dict[str, Any]:
            record = record or {"code": code, "messages": {}}
            return {**record, "messages": {**record.get("messages", {}), **outcomes}}

        if outcomes:
            self.records.update(code, save)

    def deliver(self, code: str, keys: list[str]) -> dict[str, int]:
        """The courier's part: send the held messages `keys` of a change that has been saved."""
        counts = {"sent": 0, "retry": 0, "failed": 0}
        stored = (self.records.get(code) or {}).get("messages", {})
        held = [stored[k] for k in keys if k in stored and stored[k]["status"] == "sending" and stored[k]["attempts"] == 0]
        self._send_claimed(code, held, _now(), counts)
        return counts

    def send_due(self, now: datetime | None = None, stop: Callable[[], bool] | None = None) -> dict[str, int]:
        """Try every message whose time has come (pending, or a dead sender's lease over).

        `stop()` is asked before each dossier's messages: a server shutting down ends the
        round there, leaving the rest pending (nothing claimed is left unsaved)."""
        now = now or _now()
        counts = {"sent": 0, "retry": 0, "failed": 0, "dropped": 0}
        for code, record in list(self.records.all()):
            if stop is not None and stop():
                break
            if not any(m["status"] in DUE and datetime.fromisoformat(m["next_try"]) <= now
                       for m in record.get("messages", {}).values()):
                continue
            dossier = None
            if any(not m.get("verified", True) for m in record["messages"].values()):
                dossier = self.store.dossiers.get(code)
            claimed: list[dict[str, Any]] = []

            def claim(current: dict[str, Any] | None) -> dict[str, Any]:
                claimed.clear()
                current = current or {"code": code, "messages": {}}
                messages = dict(current.get("messages", {}))
                lease = (now + timedelta(seconds=LEASE_SECONDS)).isoformat()
                for key, m in messages.items():
                    if m["status"] not in DUE or datetime.fromisoformat(m["next_try"]) > now:
                        continue
                    if not m.get("verified", True) and not _event_saved(dossier, m.get("event")):
                        messages[key] = {**m, "status": "dropped", "error": "event never saved"}
                        counts["dropped"] += 1
                        continue
                    messages[key] = {**m, "status": "sending", "next_try": lease, "verified": True}
                    claimed.append(messages[key])
                return {**current, "messages": messages}

            self.records.update(code, claim)
            self._send_claimed(code, claimed, now, counts)
        return counts

    def messages(self, code: str | None = None) -> list[dict[str, Any]]:
        if code is not None:
            found = list((self.records.get(code) or {}).get("messages", {}).values())
        else:
            found = [m for _, record in self.records.all() for m in record.get("messages", {}).values()]
        return sorted(found, key=lambda m: m.get("created_at", ""))


def outbox_for(services: Any, config: Any) -> Outbox:
    return Outbox(services.store, sender_for(config), float(config.get("NOTIFY_BACKOFF_SECONDS", 60)),
                  int(config.get("NOTIFY_MAX_ATTEMPTS", MAX_ATTEMPTS)))


class Sweeper:
    """A background thread that sends the due messages every `interval` seconds.

    Several processes may serve one data folder; only the holder of the lease record
    (`records("leases")["outbox-sweeper"]`, taken and renewed under the store's bucket lock,
    which is a file lock across processes) sweeps. A holder that dies stops renewing and
    another process takes over once the lease has run out; one that stops cleanly hands it
    back at once. The lease spares the gateway and the disk duplicate rounds; it is not what
    keeps a message from going out twice: each message is claimed under the same lock first.
    """

    def __init__(self, store: Any, make_outbox: Callable[[], Outbox], interval: float,
                 lease_seconds: float | None = None, owner: str | None = None) -> None:
        self.store = store
        self.make_outbox = make_outbox
        self.interval = interval
        self.lease = timedelta(seconds=lease_seconds if lease_seconds is not None else max(60.0, 3 * interval))
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the lease ---------------------------------------------------------------------------

    def take_lease(self, now: datetime | None = None) -> bool:
        """Take or renew the sweeping lease; False while another live process holds it."""
        now = now or _now()

        def change(current: dict[str, Any] | None) -> dict[str, Any]:
            if current and current.get("owner") != self.owner and datetime.fromisoformat(current["until"]) > now:
                return current
            return {"owner": self.owner, "until": (now + self.lease).isoformat()}

        return self.store.records(LEASES).update(SWEEP_LEASE, change).get("owner") == self.owner

    def release_lease(self) -> None:
        def change(current: dict[str, Any] | None) -> dict[str, Any]:
            if current and current.get("owner") == self.owner:
                return {**current, "until": _now().isoformat()}
            return current or {}

        self.store.records(LEASES).update(SWEEP_LEASE, change)

    # --- the rounds --------------------------------------------------------------------------

    def sweep(self) -> dict[str, int] | None:
        """One round: send what is due if this process holds the lease; None when it does not."""
        if not self.take_lease():
            return None
        counts = self.make_outbox().send_due(stop=self._stop.is_set)
        if counts["sent"] or counts["retry"] or counts["failed"] or counts["dropped"]:
            log.info("outbox sweep: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))
        return counts

    def _run(self) -> None:
        # The first round waits one interval too: a server starting has better things to do
        # with the CPU than a round over the outbox (it made a loaded machine's start slow).
        while not self._stop.wait(self.interval):
            try:
                self.sweep()
            except Exception:  # a damaged store file, a full disk: say so, try again next round
                log.exception("outbox sweep failed; trying again in %s s", self.interval)

    def start(self) -> Sweeper:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="motcua-outbox-sweeper", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 30) -> bool:
        """End the thread after its current message and hand the lease back; False if it
        did not end within `timeout` (a gateway slower than its own timeout)."""
        self._stop.set()
        stopped = True
        if self._thread is not None:
            self._thread.join(timeout)
            stopped = not self._thread.is_alive()
        try:
            self.release_lease()
        except Exception:
            log.exception("outbox sweeper: could not hand the lease back; it runs out by itself")
        return stopped

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def start_sweeper(app: Any) -> Sweeper | None:
    """Start the periodic sender for this app, unless OUTBOX_SWEEP_SECONDS is 0; tests
    (TESTING) have it off unless they set OUTBOX_SWEEP_SECONDS themselves."""
    interval = app.config.get("OUTBOX_SWEEP_SECONDS")
    if interval is None:
        interval = 0 if app.config.get("TESTING") else SWEEP_SECONDS
    interval = float(interval)
    if interval <= 0:
        return None
    services = app.extensions["motcua"]
    lease = app.config.get("OUTBOX_SWEEP_LEASE_SECONDS")
    return Sweeper(services.store, lambda: outbox_for(services, app.config), interval,
                   float(lease) if lease is not None else None).start()


class Courier:
    """One background thread per app that sends what the engine held, after the response.

    It starts on first use (no thread at import or app creation) and ends when idle. Jobs lost with the process
    are not lost messages: they stay claimed in the outbox and `send_due` takes them over
    once their lease is over.
    """

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Any, str, list[str]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._idle = threading.Condition()
        self._busy = 0

    def submit(self, engine: Any, code: str, keys: list[str]) -> None:
        with self._idle:
            self._busy += 1
        self._jobs.put((engine, code, keys))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="motcua-courier", daemon=True)
                self._thread.start()

    def _work(self) -> None:
        while True:
            try:
                engine, code, keys = self._jobs.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:  # submit() puts before it looks at the thread: no job is stranded
                    if self._jobs.empty():
                        self._thread = None
                        return
                continue
            try:
                outbox_for(engine.services, engine.config).deliver(code, keys)
            except Exception:
                log.exception("outbox: sending the messages of %s failed; send-outbox will retry them", code)
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

    def wait_idle(self, timeout: float = 30) -> bool:
        """Wait until every job given so far is done; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)
