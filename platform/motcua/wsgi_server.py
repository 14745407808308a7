"""The waitress server `motcua serve` runs (and the tests' live servers): waitress as
shipped, but for one method of its connection class.

Waitress's loop thread asks each connection, on every turn, whether it has output to send
(`HTTPChannel.writable`): yes as soon as a response's bytes are in its buffer. A worker
thread writing a response puts them there and sends them itself, holding the buffer's lock
meanwhile; the loop thread, finding the lock taken, sends nothing, and the socket it polls
for writing is ready at once, so it turns again, and again: tens of thousands of turns a
second while eight threads answer requests, each taking the interpreter lock from the
threads doing the work. Measured with a search page per request (docs/performance.md,
"The server's loop"): the loop thread used three quarters of a CPU, and a page cost 21 ms of
the process's CPU instead of 3.

`QuietChannel` says "nothing to send" while a worker thread holds the lock. No wake-up is
lost: a worker that leaves bytes unsent, and every worker when its request is done, pulls
the loop's trigger (waitress's own rule), and the loop asks again.
"""

from __future__ import annotations

from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server


class QuietChannel(HTTPChannel):
    def writable(self) -> bool:
        if self.requests and self.total_outbufs_len and not (self.will_close or self.close_when_flushed):
            # a request is being answered: the thread answering it may be sending right now
            if not self.outbuf_lock.acquire(blocking=False):
                return False  # it is: it pulls the trigger if it leaves anything unsent
            self.outbuf_lock.release()
        return bool(super().writable())


def make_server(app: Any, **settings: Any) -> Any:
    """`waitress.create_server(app, **settings)` whose connections are `QuietChannel`s
    (every listening socket's, when the host names several)."""
    server = create_server(app, **settings)
    for dispatcher in [server, *getattr(server, "map", {}).values()]:
        if isinstance(dispatcher, BaseWSGIServer):
            dispatcher.channel_class = QuietChannel
    return server
