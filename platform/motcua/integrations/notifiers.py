"""`motcua.notifiers`: channels that carry a message to a person (SMS, e-mail, Zalo-style).

The engine never calls a notifier while a dossier changes: messages go to the outbox
(`motcua.workflow.outbox`) and are sent after the change is saved, retried while the channel
is down. A notifier is the outbox's sender: `send(message)` with `message` a dict of
`key` (idempotency key), `channel` (`sms`, `email` ...), `to`, `subject`, `body`. Raise
`motcua.workflow.outbox.Refused` for a message the provider refuses as such (no retry), any
other exception to be retried. The deployment chooses one with `NOTIFIER = "<id>"`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from motcua.integrations.base import Plugin


class Notifier(Plugin):
    #: the channels it carries
    channels: ClassVar[tuple[str, ...]] = ("sms", "email")

    def send(self, message: dict[str, Any]) -> None:
        raise NotImplementedError
