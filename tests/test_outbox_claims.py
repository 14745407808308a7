"""A slow gateway never makes a message go out twice.

The SMS / e-mail simulator runs on a real local server and holds requests until the test
lets them go (`/sim/hold`, `/sim/release`): that is the slow gateway. Time is a manual
clock given to the outbox and the sweepers, moved forward while a request is held, so a
round "takes" minutes without the test waiting for them. Senders run in real threads on
the real store; a second sender (another `motcua serve`'s sweeper, `motcua workflow
send-outbox`, the courier) tries to send while the first is still sending.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from conftest import LiveServer
from fixtures.workflow_kit import wait_for
from motcua.workflow.outbox import LEASES, SWEEP_LEASE, HttpSender, Outbox, Sweeper
from motcua_plugins.simulators import messaging


class Clock:
    """The time the senders see; the test moves it."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 3, 8, 0, tzinfo=timezone.utc)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += timedelta(seconds=seconds)


def post(server: LiveServer, path: str, body: dict) -> dict:
    request = urllib.request.Request(server.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    return json.loads(urllib.request.urlopen(request, timeout=5).read())


def held(server: LiveServer) -> dict:
    return json.loads(urllib.request.urlopen(server.url + "/sim/held", timeout=5).read())


def wait_held(server: LiveServer, arrived: int) -> None:
    """Until `arrived` requests came in and one of them is waiting at the gateway."""
    wait_for(lambda: held(server) == {"waiting": 1, "arrived": arrived})


def delivered(sim, key: str) -> int:
    return sum(1 for m in sim.extensions["messaging_sim"] if m.get("id") == key)


class Running:
    """A sender's round in its own thread; `result()` joins it."""

    def __init__(self, target) -> None:
        self.value = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(target,), daemon=True)
        self.thread.start()

    def _run(self, target) -> None:
        try:
            self.value = target()
        except BaseException as exc:  # shown by result()
            self.error = exc

    def result(self):
        self.thread.join(20)
        assert not self.thread.is_alive()
        if self.error is not None:
            raise self.error
        return self.value


@pytest.fixture
def gateway():
    sim = messaging.create_app(api_key="K")
    with LiveServer(sim) as server:
        yield sim, server


@pytest.fixture
def clock() -> Clock:
    return Clock()


def outbox(app, server: LiveServer, clock: Clock) -> Outbox:
    return Outbox(app.extensions["motcua"].store, HttpSender(server.url, "K"), backoff_seconds=10, clock=clock)


def sweeper(app, server: LiveServer, clock: Clock, owner: str) -> Sweeper:
    # interval 60 s: the default lease, max(60, 3 * interval) = 180 s
    return Sweeper(app.extensions["motcua"].store, lambda: outbox(app, server, clock), interval=60,
                   owner=owner, clock=clock)


def queue(box: Outbox, code: str, *keys: str) -> None:
    for key in keys:
        assert box.enqueue(key, code=code, channel="sms", to="0912345678", body=f"Tin {key}")


def statuses(box: Outbox) -> dict[str, str]:
    return {m["key"]: m["status"] for m in box.messages()}


def test_a_slow_round_keeps_its_lease_and_its_late_claims(app, gateway, clock) -> None:
    """Round A reaches its second dossier 290 s in; at 310 s another serve process and a
    person's send-outbox both find nothing to send: A renewed its lease on the way and
    claimed that dossier's message at 290 s, not at the round's start."""
    sim, server = gateway
    box = outbox(app, server, clock)
    queue(box, "H-1", "one:sms")
    queue(box, "H-2", "two:sms")
    post(server, "/sim/hold", {"count": 2})
    a = sweeper(app, server, clock, "host-a:1:aa")
    b = sweeper(app, server, clock, "host-b:2:bb")

    round_a = Running(a.sweep)
    wait_held(server, arrived=1)
    clock.advance(290)  # the gateway took almost five minutes over the first message
    post(server, "/sim/release", {"count": 1})
    wait_held(server, arrived=2)  # the second dossier's message, claimed after the first was sent
    clock.advance(20)  # 310 s after the round began; the lease taken then ran out at 180 s

    assert b.sweep() is None  # A renewed its lease before the second dossier
    assert outbox(app, server, clock).send_due() == {"sent": 0, "retry": 0, "failed": 0, "dropped": 0}
    post(server, "/sim/release", {"count": 1})
    assert round_a.result() == {"sent": 2, "retry": 0, "failed": 0, "dropped": 0}

    assert delivered(sim, "one:sms") == 1 and delivered(sim, "two:sms") == 1
    assert held(server)["arrived"] == 2  # not one request more
    assert statuses(box) == {"one:sms": "sent", "two:sms": "sent"}
    lease = app.extensions["motcua"].store.records(LEASES).get(SWEEP_LEASE)
    assert lease["owner"] == a.owner


def test_a_claim_is_renewed_while_a_dossiers_messages_are_sent(app, gateway, clock) -> None:
    """Two messages of one dossier, claimed together; the first takes 250 s. At 320 s, past
    the claim's first 300 s, another sender finds the second still claimed."""
    sim, server = gateway
    box = outbox(app, server, clock)
    queue(box, "H-1", "a:sms", "b:sms")
    post(server, "/sim/hold", {"count": 2})

    sending = Running(outbox(app, server, clock).send_due)
    wait_held(server, arrived=1)
    clock.advance(250)
    post(server, "/sim/release", {"count": 1})
    wait_held(server, arrived=2)
    clock.advance(70)

    assert outbox(app, server, clock).send_due()["sent"] == 0
    post(server, "/sim/release", {"count": 1})
    assert sending.result()["sent"] == 2
    assert delivered(sim, "a:sms") == 1 and delivered(sim, "b:sms") == 1
    assert held(server)["arrived"] == 2
    assert statuses(box) == {"a:sms": "sent", "b:sms": "sent"}


def test_a_sweeper_that_lost_its_lease_ends_its_round(app, gateway, clock) -> None:
    sim, server = gateway
    box = outbox(app, server, clock)
    for n in (1, 2, 3):
        queue(box, f"H-{n}", f"m{n}:sms")
    post(server, "/sim/hold", {"count": 1})
    a = sweeper(app, server, clock, "host-a:1:aa")
    b = sweeper(app, server, clock, "host-b:2:bb")

    round_a = Running(a.sweep)
    wait_held(server, arrived=1)
    clock.advance(200)  # A's lease (180 s) ran out while the gateway held its first message
    assert b.take_lease()  # and the other process took it
    post(server, "/sim/release", {"count": 1})
    assert round_a.result() == {"sent": 1, "retry": 0, "failed": 0, "dropped": 0}  # the rest is B's
    assert sorted(statuses(box).values()) == ["pending", "pending", "sent"]
    assert held(server)["arrived"] == 1

    assert b.sweep() == {"sent": 2, "retry": 0, "failed": 0, "dropped": 0}
    assert a.sweep() is None
    assert all(delivered(sim, f"m{n}:sms") == 1 for n in (1, 2, 3))


def test_the_courier_never_sends_what_the_sweeper_took_over(app, gateway, clock) -> None:
    """The engine held a change's message for its courier; the courier's queue ran late
    (a slow gateway), the hold's lease ran out and the sweeper took the message over."""
    sim, server = gateway
    box = outbox(app, server, clock)
    message = {"key": "late:sms", "channel": "sms", "to": "0912345678", "body": "Đã nộp"}
    assert box.hold("H-1", [message]) == ["late:sms"]
    clock.advance(301)
    post(server, "/sim/hold", {"count": 1})

    sweeping = Running(outbox(app, server, clock).send_due)
    wait_held(server, arrived=1)
    assert box.deliver("H-1", ["late:sms"]) == {"sent": 0, "retry": 0, "failed": 0}  # the courier, late
    post(server, "/sim/release", {"count": 1})
    assert sweeping.result()["sent"] == 1
    assert delivered(sim, "late:sms") == 1 and held(server)["arrived"] == 1
    assert statuses(box) == {"late:sms": "sent"}


def test_a_late_courier_claims_its_hold_again_before_sending(app, gateway, clock) -> None:
    """The courier comes 150 s after the hold: it renews the claim first, so the sweeper,
    at 310 s (past the hold's own 300 s), finds the message still being sent."""
    sim, server = gateway
    box = outbox(app, server, clock)
    message = {"key": "slow:sms", "channel": "sms", "to": "0912345678", "body": "Đã nộp"}
    assert box.hold("H-1", [message]) == ["slow:sms"]
    clock.advance(150)
    post(server, "/sim/hold", {"count": 1})

    courier = Running(lambda: outbox(app, server, clock).deliver("H-1", ["slow:sms"]))
    wait_held(server, arrived=1)
    clock.advance(160)
    assert outbox(app, server, clock).send_due()["sent"] == 0
    post(server, "/sim/release", {"count": 1})
    assert courier.result() == {"sent": 1, "retry": 0, "failed": 0}
    assert delivered(sim, "slow:sms") == 1 and held(server)["arrived"] == 1
    assert statuses(box) == {"slow:sms": "sent"}


def test_a_fresh_hold_is_delivered_without_a_claim_write(app, gateway, clock) -> None:
    """The usual case stays one write per change: the courier sends on the hold itself."""
    sim, server = gateway
    box = outbox(app, server, clock)
    message = {"key": "now:sms", "channel": "sms", "to": "0912345678", "body": "Đã nộp"}
    box.hold("H-1", [message])
    writes = []
    records = box.records
    original = records.update

    def counting(key, change):
        writes.append(key)
        return original(key, change)

    records.update = counting
    try:
        assert box.deliver("H-1", ["now:sms"])["sent"] == 1
    finally:
        records.update = original
    assert writes == ["H-1"]
    assert delivered(sim, "now:sms") == 1
