"""A slow outside service, its slowness in the test's hands: the next n requests wait.

`POST /sim/hold` with `{"count": n}` makes the next n requests wait until `POST /sim/release`
with `{"count": k}` lets k of them go on, oldest first, or HOLD_LIMIT_SECONDS pass;
`GET /sim/held` says how many wait now and how many requests came in so far. A test kills a
worker while its request is held: the kill lands in the middle of the call, every time.
"""

from __future__ import annotations

import threading

from flask import Flask, jsonify, request

#: A held request never released goes on after this many seconds (the caller decides what then).
HOLD_LIMIT_SECONDS = 30


class Holds:
    """The gates of the requests held, oldest first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gates: list[threading.Event] = []
        self.hold = 0
        self.waiting = 0
        self.arrived = 0

    def wait(self) -> bool:
        """Called by each request: holds it if asked to; False when it was held and never released."""
        with self._lock:
            self.arrived += 1
            if self.hold <= 0:
                return True
            self.hold -= 1
            self.waiting += 1
            gate = threading.Event()
            self._gates.append(gate)
        released = gate.wait(HOLD_LIMIT_SECONDS)
        with self._lock:
            self.waiting -= 1
            if not released:
                self._gates.remove(gate)
        return released

    def release(self, count: int) -> int:
        with self._lock:
            going = self._gates[: max(0, count)]
            del self._gates[: len(going)]
        for gate in going:
            gate.set()
        return len(going)


def add_hold_routes(app: Flask, holds: Holds) -> None:
    """`/sim/hold`, `/sim/release`, `/sim/held` on a simulator."""

    @app.post("/sim/hold")
    def hold():
        asked = request.get_json(silent=True) or {}
        with holds._lock:
            holds.hold = max(0, int(asked.get("count", 1)))
        return jsonify(ok=True)

    @app.post("/sim/release")
    def release():
        asked = request.get_json(silent=True) or {}
        return jsonify(released=holds.release(int(asked.get("count", 1))))

    @app.get("/sim/held")
    def held():
        with holds._lock:
            return jsonify(waiting=holds.waiting, arrived=holds.arrived)
