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
message is marked `failed`, which the staff dossier page and /dev/outbox show. A message the
gateway refuses as such (a 4xx other than 408/429, e.g. an invalid phone number: `Refused`)
is marked `failed` at once, with the gateway's answer as its error; 5xx, 408, 429 and
network errors are retried. A message
whose event never got saved (the process died or the dossier changed before the save) is
found out then and dropped, never sent.

`motcua serve` runs `send_due()` every `OUTBOX_SWEEP_SECONDS` in a background thread (the
`Sweeper`, which also starts, at start and every round, the dossiers a crash left stored
but never started: `Engine.start_unstarted`), so retries need no cron job (`motcua workflow send-outbox` remains for a
person after an outage). Of several serve processes on one data folder only the holder of
the store's lease record sweeps; the per-message claims above keep a message from going
out twice even if two sweeps ever overlap. A claim is taken at the clock's time when its
dossier's turn comes, carries the sender's token (`claim`), and is renewed (with the
outcomes so far saved) while a slow gateway keeps the sender busy, so a message being sent
by a live process is never claimed by another; the sweeper renews its lease as the round
goes and ends the round when it has lost it.
"""

from __future__ import annotations

import atexit
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


def for_display(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of outbox messages fit for /dev/outbox (anyone on a dev server can open it)."""
    return [{**m, "body": shown(m.get("body"))} for m in messages]


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


def _due(message: dict[str, Any], now: datetime) -> bool:
    return message["status"] in DUE and datetime.fromisoformat(message["next_try"]) <= now


def _ours(message: dict[str, Any], token: str | None) -> bool:
    """Whether the sender with claim `token` still holds `message` (None: the courier's hold)."""
    if message["status"] != "sending" or message.get("claim") != token:
        return False
    return token is not None or message["attempts"] == 0


def _event_saved(dossier: Any, event: dict[str, Any] | None) -> bool:
    if not event:
        return True
    return dossier is not None and any(e.kind == event["kind"] and e.at.isoformat() == event["at"] for e in dossier.events)


class Outbox:
    def __init__(self, store: Any, sender: Sender, backoff_seconds: float = 60, max_attempts: int = MAX_ATTEMPTS,
                 clock: Callable[[], datetime] = _now) -> None:
        self.store = store
        self.clock = clock
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
        created = self.clock().isoformat()

        def change(record: dict[str, Any] | None) -> dict[str, Any]:
            stored = dict((record or {}).get("messages", {}))
            for m in messages:
                if m["key"] not in stored:
                    stored[m["key"]] = {"subject": None, "milestone": "", "event": None, **m, "code": code,
                                        "status": status, "attempts": 0, "created_at": created,
                                        "next_try": next_try.isoformat(), "verified": verified,
                                        "error": None, "sent_at": None, "claim": None}
                    added.append(m["key"])
            return {"code": code, "messages": stored}

        self.records.update(code, change)
        return added

    def hold(self, code: str, messages: list[dict[str, Any]]) -> list[str]:
        """Store a change's messages, claimed for this process's courier; one write. Returns new keys."""
        return self._add(code, messages, "sending", self.clock() + timedelta(seconds=LEASE_SECONDS), verified=False)

    def enqueue(self, key: str, *, code: str, channel: str, to: str, body: str, subject: str | None = None, milestone: str = "") -> bool:
        """Queue one message, due now, for `send_due`; False when that key was queued before."""
        message = {"key": key, "channel": channel, "to": to, "body": body, "subject": subject, "milestone": milestone}
        return bool(self._add(code, [message], "pending", self.clock(), verified=True))

    # --- sending ---------------------------------------------------------------------------------

    def _attempt(self, message: dict[str, Any], clock: Callable[[], datetime]) -> tuple[dict[str, Any], str]:
        try:
            self.sender.send(message)
        except Exception as exc:
            attempts = message["attempts"] + 1
            failed = attempts >= self.max_attempts or isinstance(exc, Refused)
            if failed:
                log.error("outbox: gave up on %s after %d attempts: %s", message["key"], attempts, exc)
            delay = timedelta(seconds=self.backoff * 2 ** (attempts - 1))
            return {**message, "attempts": attempts, "error": str(exc)[:200], "verified": True, "claim": None,
                    "status": "failed" if failed else "pending", "next_try": (clock() + delay).isoformat()}, \
                ("failed" if failed else "retry")
        return {**message, "attempts": message["attempts"] + 1, "status": "sent", "verified": True, "claim": None,
                "sent_at": clock().isoformat(), "error": None}, "sent"

    def _settle(self, code: str, outcomes: dict[str, dict[str, Any]], renew: list[str], token: str | None,
                clock: Callable[[], datetime]) -> tuple[list[str], str | None, datetime]:
        """One write: save the outcomes so far and extend the claim on `renew` (the messages
        still to send) with a new lease. Only messages this sender still holds are touched.
        Returns the keys of `renew` still ours, the claim's new token and its time."""
        renewed = secrets.token_hex(8) if renew else token
        kept: list[str] = []
        lost: list[str] = []
        at = clock()
        lease = (at + timedelta(seconds=LEASE_SECONDS)).isoformat()

        def change(current: dict[str, Any] | None) -> dict[str, Any]:
            kept.clear()
            lost.clear()
            current = current or {"code": code, "messages": {}}
            messages = dict(current.get("messages", {}))
            for key, message in outcomes.items():
                if key in messages and not _ours(messages[key], token):
                    lost.append(key)  # another sender holds it now: its outcome is the one to keep
                else:
                    messages[key] = message
            for key in renew:
                if key in messages and _ours(messages[key], token):
                    messages[key] = {**messages[key], "claim": renewed, "next_try": lease}
                    kept.append(key)
            return {**current, "messages": messages}

        self.records.update(code, change)
        if lost:
            log.error("outbox: %s of %s were taken over by another sender while this one sent them",
                      ", ".join(lost), code)
        if len(kept) < len(renew):
            log.warning("outbox: claim on %s of %s lost before sending; left to its new sender",
                        ", ".join(k for k in renew if k not in kept), code)
        return kept, renewed, at

    def _send_claimed(self, code: str, claimed: list[dict[str, Any]], token: str | None, claimed_at: datetime,
                      clock: Callable[[], datetime], counts: dict[str, int]) -> None:
        """Send what this sender holds the claim `token` on, then save every outcome in one write.

        Once a third of the claim's lease is gone (a slow gateway), the outcomes so far are
        saved and the claim on the rest renewed, in one write, before the next message: no
        other process takes a message this one is still sending or has sent but not yet
        recorded. A message whose claim was lost all the same is neither sent nor saved here."""
        outcomes: dict[str, dict[str, Any]] = {}
        waiting = {m["key"]: m for m in claimed}
        while waiting:
            if clock() - claimed_at > timedelta(seconds=LEASE_SECONDS / 3):
                kept, token, claimed_at = self._settle(code, outcomes, list(waiting), token, clock)
                outcomes = {}
                waiting = {k: {**waiting[k], "claim": token} for k in kept}
                if not waiting:
                    break
            key = next(iter(waiting))
            outcomes[key], outcome = self._attempt(waiting.pop(key), clock)
            counts[outcome] += 1
        if outcomes:
            self._settle(code, outcomes, [], token, clock)

    def deliver(self, code: str, keys: list[str]) -> dict[str, int]:
        """The courier's part: send the held messages `keys` of a change that has been saved.

        The hold is this courier's claim while it is fresh (no write); a hold that has aged
        (a courier queue behind a slow gateway) is claimed again first, and a message the
        sweeper took over meanwhile is left to it."""
        counts = {"sent": 0, "retry": 0, "failed": 0}
        stored = (self.records.get(code) or {}).get("messages", {})
        held = [stored[k] for k in keys if k in stored and _ours(stored[k], None)]
        if not held:
            return counts
        since = min(datetime.fromisoformat(m["next_try"]) for m in held) - timedelta(seconds=LEASE_SECONDS)
        token: str | None = None
        if self.clock() - since > timedelta(seconds=LEASE_SECONDS / 3):
            kept, token, since = self._settle(code, {}, [m["key"] for m in held], None, self.clock)
            held = [{**m, "claim": token} for m in held if m["key"] in kept]
        self._send_claimed(code, held, token, since, self.clock, counts)
        return counts

    def send_due(self, now: datetime | None = None, stop: Callable[[], bool] | None = None) -> dict[str, int]:
        """Try every message whose time has come (pending, or a dead sender's lease over).

        A message is claimed at the clock's time when its dossier's turn comes, not the
        round's start, so a slow round never hands out claims that are already running out.
        `now` runs the round as if the clock stood still at `now` (a person catching up, tests).
        `stop()` is asked before each dossier with due messages: a server shutting down, or a
        sweeper that lost its lease, ends the round there, leaving the rest pending (nothing
        claimed is left unsaved)."""
        clock = (lambda: now) if now is not None else self.clock
        counts = {"sent": 0, "retry": 0, "failed": 0, "dropped": 0}
        for code, record in list(self.records.all()):
            if not any(_due(m, clock()) for m in record.get("messages", {}).values()):
                continue
            if stop is not None and stop():
                break
            dossier = None
            if any(not m.get("verified", True) for m in record["messages"].values()):
                dossier = self.store.dossiers.get(code)
            claimed: list[dict[str, Any]] = []
            token = secrets.token_hex(8)
            claimed_at = clock()

            def claim(current: dict[str, Any] | None) -> dict[str, Any]:
                nonlocal claimed_at
                claimed.clear()
                claimed_at = clock()  # under the lock: the time the claim is really taken
                current = current or {"code": code, "messages": {}}
                messages = dict(current.get("messages", {}))
                lease = (claimed_at + timedelta(seconds=LEASE_SECONDS)).isoformat()
                for key, m in messages.items():
                    if not _due(m, claimed_at):
                        continue
                    if not m.get("verified", True) and not _event_saved(dossier, m.get("event")):
                        messages[key] = {**m, "status": "dropped", "error": "event never saved"}
                        counts["dropped"] += 1
                        continue
                    messages[key] = {**m, "status": "sending", "next_try": lease, "verified": True, "claim": token}
                    claimed.append(messages[key])
                return {**current, "messages": messages}

            self.records.update(code, claim)
            self._send_claimed(code, claimed, token, claimed_at, clock, counts)
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
    back at once. The lease is renewed as a round goes (before a dossier once a third of it
    is gone), and a round whose lease was taken over (a gateway so slow the lease ran out)
    ends at the next dossier. The lease spares the gateway and the disk duplicate rounds; it
    is not what keeps a message from going out twice: each message is claimed under the same
    lock first, and the claim is renewed while it is being sent.
    """

    def __init__(self, store: Any, make_outbox: Callable[[], Outbox], interval: float,
                 lease_seconds: float | None = None, owner: str | None = None,
                 clock: Callable[[], datetime] = _now, chores: list[Callable[[], Any]] | None = None) -> None:
        self.store = store
        self.chores = list(chores or [])
        self.clock = clock
        self._renewed: datetime | None = None
        self.make_outbox = make_outbox
        self.interval = interval
        self.lease = timedelta(seconds=lease_seconds if lease_seconds is not None else max(60.0, 3 * interval))
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the lease ---------------------------------------------------------------------------

    def take_lease(self, now: datetime | None = None) -> bool:
        """Take or renew the sweeping lease; False while another live process holds it."""
        now = now or self.clock()

        def change(current: dict[str, Any] | None) -> dict[str, Any]:
            if current and current.get("owner") != self.owner and datetime.fromisoformat(current["until"]) > now:
                return current
            return {"owner": self.owner, "until": (now + self.lease).isoformat()}

        held = self.store.records(LEASES).update(SWEEP_LEASE, change).get("owner") == self.owner
        self._renewed = now if held else None
        return held

    def keep_lease(self) -> bool:
        """Still the holder? Renews the lease once a third of it is gone (one write then, none
        before: nobody else may take it until it runs out)."""
        now = self.clock()
        if self._renewed is not None and now - self._renewed < self.lease / 3:
            return True
        if self.take_lease(now):
            return True
        log.warning("outbox sweeper: the lease went to another process; this round ends here")
        return False

    def release_lease(self) -> None:
        def change(current: dict[str, Any] | None) -> dict[str, Any]:
            if current and current.get("owner") == self.owner:
                return {**current, "until": self.clock().isoformat()}
            return current or {}

        self._renewed = None
        self.store.records(LEASES).update(SWEEP_LEASE, change)

    # --- the rounds --------------------------------------------------------------------------

    def sweep(self) -> dict[str, int] | None:
        """One round: send what is due if this process holds the lease; None when it does not."""
        if not self.take_lease():
            return None
        counts = self.make_outbox().send_due(stop=lambda: self._stop.is_set() or not self.keep_lease())
        if counts["sent"] or counts["retry"] or counts["failed"] or counts["dropped"]:
            log.info("outbox sweep: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))
        if not self._stop.is_set():
            self._do_chores()
        return counts

    def _do_chores(self) -> None:
        """The other catch-up work of the lease holder (dossiers whose workflow never started)."""
        for chore in self.chores:
            try:
                chore()
            except Exception:
                log.exception("sweeper: %s failed; trying again next round", getattr(chore, "__name__", chore))

    def _run(self) -> None:
        # The chores run once at start (a dossier left unstarted by the crash that stopped
        # the last server is started now, not an interval later); the outbox's first round
        # waits one interval: a server starting has better things to do with the CPU than a
        # round over the outbox (it made a loaded machine's start slow).
        try:
            if self.chores and self.take_lease():
                self._do_chores()
        except Exception:
            log.exception("sweeper: the round at start failed; trying again in %s s", self.interval)
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


#: Where an app keeps its sweeper: (process id, Sweeper).
SWEEPER_EXTENSION = "motcua.sweeper"


def start_sweeper(app: Any) -> Sweeper | None:
    """Start the periodic sender for this app, unless OUTBOX_SWEEP_SECONDS is 0; tests
    (TESTING) have it off unless they set OUTBOX_SWEEP_SECONDS themselves.

    `create_app` calls it, and again before each request (cheap), so every WSGI server gets
    one sweeper per process: the one `motcua serve` runs, gunicorn's or uwsgi's workers, and
    a worker forked from a master that built the app first (`--preload`), where the master's
    thread did not survive the fork. Calling it again in the same process returns the
    running sweeper; it is stopped (its lease handed back) when the process exits."""
    running = app.extensions.get(SWEEPER_EXTENSION)
    if running is not None and running[0] == os.getpid() and running[1].running:
        return running[1]
    interval = app.config.get("OUTBOX_SWEEP_SECONDS")
    if interval is None:
        interval = 0 if app.config.get("TESTING") else SWEEP_SECONDS
    interval = float(interval)
    if interval <= 0:
        return None
    services = app.extensions["motcua"]
    lease = app.config.get("OUTBOX_SWEEP_LEASE_SECONDS")
    grace = float(app.config.get("WORKFLOW_START_GRACE_SECONDS", 120))

    def start_unstarted() -> None:
        with app.app_context():  # steps build links and read config as in a request
            services.engine.start_unstarted(grace)

    sweeper = Sweeper(services.store, lambda: outbox_for(services, app.config), interval,
                      float(lease) if lease is not None else None, chores=[start_unstarted]).start()
    app.extensions[SWEEPER_EXTENSION] = (os.getpid(), sweeper)
    atexit.register(_stop_at_exit, sweeper)
    return sweeper


def running_sweeper(app: Any) -> Sweeper | None:
    """This process's sweeper of `app`, if one runs."""
    running = app.extensions.get(SWEEPER_EXTENSION)
    return running[1] if running is not None and running[0] == os.getpid() and running[1].running else None


def _stop_at_exit(sweeper: Sweeper) -> None:
    """Hand the lease back when the process ends normally, so another process sweeps at once
    instead of after the lease runs out (a killed process cannot: then the lease runs out)."""
    if sweeper.running:
        sweeper.stop(timeout=5)


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
