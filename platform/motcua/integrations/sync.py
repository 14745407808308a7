"""`motcua.sync`: outbound status sync (the national public-service portal ...), the contract.

The deployment lists the sync plugins to run (`SYNC = ["national"]`). Each time a dossier's
status changes, the engine asks each one for what to send (`payload(dossier, event)`, or None
to skip) and stores it in the outbox with the dossier's other messages, keyed by plugin,
dossier code and event: it is sent once the change is saved, retried while the receiver is
down (its `send_message` job backs off, motcua.jobs), and never twice for the same event. `push(message)`
sends one (its `key` is the idempotency key; raise `motcua.workflow.outbox.Refused` for a
refusal that retrying cannot fix).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from motcua.integrations.base import Plugin

if TYPE_CHECKING:  # pragma: no cover
    from motcua.dossier import Dossier, Event


class StatusSync(Plugin):
    def payload(self, dossier: Dossier, event: Event) -> dict[str, Any] | None:
        """What to send about `event` (a status change of `dossier`); None: nothing."""
        raise NotImplementedError

    def push(self, message: dict[str, Any]) -> None:
        """Send one stored message (`message["payload"]`, `message["key"]`)."""
        raise NotImplementedError
