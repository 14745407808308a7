"""The waitress server `motcua serve` runs (and the tests' live servers): waitress as
shipped, but for two methods of its connection class.

Waitress's loop thread asks each connection, on every turn, whether it has output to send
(`HTTPChannel.writable`): yes as soon as a response's bytes are in its buffer. A worker
thread writing a response puts them there and sends them itself, holding the buffer's lock
meanwhile; the loop thread, finding the lock taken, sends nothing, and the socket it polls
for writing is ready at once, so it turns again, and again: tens of thousands of turns a
second while eight threads answer requests, each taking the interpreter lock from the
threads doing the work. Measured with a search page per request (docs/performance.md,
"Every line, and the server's loop"): the loop thread used three quarters of a CPU, and a
page cost 21 ms of the process's CPU instead of 3.

`QuietChannel` says "nothing to send" while a worker thread holds the lock, and the worker
wakes the loop once it lets go: waitress's worker pulls the loop's trigger while still
holding the lock when it leaves bytes unsent, so a loop woken by that pull may find the lock
still taken; the loop notes that it asked (`_asked`), and the worker, its write done and the
lock given back, pulls the trigger again when it sees the note and bytes are left (the note
is set before the lock is tried and read after it is given back: under the interpreter lock
one of the two threads sees the other's step; a free-threaded Python would need a lock here).
Past waitress's high watermark (a worker waiting for the loop to drain its buffer) the
channel answers as waitress's does.
"""

from __future__ import annotations

from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server


class QuietChannel(HTTPChannel):
    #: Set by the loop when it found a worker holding the buffer's lock (see the module).
    _asked = False

    def writable(self) -> bool:
        if (self.requests and self.total_outbufs_len and not (self.will_close or self.close_when_flushed)
                and self.total_outbufs_len <= self.adj.outbuf_high_watermark):
            # a request is being answered: the thread answering it may be sending right now
            self._asked = True  # before trying the lock: a worker letting go after this sees it
            if not self.outbuf_lock.acquire(blocking=False):
                return False  # it is: it wakes the loop when it lets go (write_soon)
            self.outbuf_lock.release()
        return bool(super().writable())

    def write_soon(self, data: bytes) -> int:
        written = super().write_soon(data)  # the lock is given back when this returns
        if self._asked:
            self._asked = False
            if self.total_outbufs_len:
                self.server.pull_trigger()  # the loop asked meanwhile: it sends what is left
        return written


def make_server(app: Any, **settings: Any) -> Any:
    """`waitress.create_server(app, **settings)` whose connections are `QuietChannel`s
    (every listening socket's, when the host names several)."""
    server = create_server(app, **settings)
    for dispatcher in [server, *getattr(server, "map", {}).values()]:
        if isinstance(dispatcher, BaseWSGIServer):
            dispatcher.channel_class = QuietChannel
    return server
