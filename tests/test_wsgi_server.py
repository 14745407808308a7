"""The waitress server `motcua serve` runs (motcua.wsgi_server): its loop thread does not turn
while a worker thread sends a response, and every response still arrives whole: big ones to
a slow reader, pipelined ones in order, streamed ones chunk by chunk. Real waitress servers
on 127.0.0.1, real sockets."""

from __future__ import annotations

import hashlib
import http.client
import socket
import threading
import time

import pytest
from waitress.channel import HTTPChannel

from conftest import LiveServer
from motcua.wsgi_server import QuietChannel, make_server

SIZES = {"empty": 0, "byte": 1, "page": 12_000, "big": 300_000, "huge": 6_000_000}


def body(name: str) -> bytes:
    size = SIZES[name]
    return (hashlib.sha256(name.encode()).hexdigest().encode() * (size // 64 + 1))[:size]


#: Set by a test's client once it has read the first part of `/pause`.
READ_FIRST_PART = threading.Event()


def wsgi(environ, start_response):
    path = environ["PATH_INFO"].strip("/")
    if path == "flood":  # parts faster than the reader takes them: past the high watermark
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return (body("big") for _ in range(40))
    if path == "pause":  # a part bigger than the socket takes at once, then the app's own wait
        def parts():
            yield body("huge")
            READ_FIRST_PART.wait(30)
            yield b"END"

        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return parts()
    if path == "work":  # a page's worth of interpreter work, then a page: what a portal request does
        sum(i * i for i in range(20_000))
        data = body("page")
    elif path == "stream":
        chunks = [body("page")[i:i + 1000] for i in range(0, SIZES["page"], 1000)]
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return iter(chunks)
    else:
        data = body(path)
    start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(data)))])
    return [data]


def test_a_connection_is_not_polled_for_writing_while_a_worker_thread_sends_its_answer() -> None:
    server = make_server(wsgi, host="127.0.0.1", port=0, threads=1)
    ours, theirs = socket.socketpair()
    try:
        channel = QuietChannel(server, ours, ("127.0.0.1", 1), server.adj, map={})
        stock = HTTPChannel(server, theirs, ("127.0.0.1", 2), server.adj, map={})
        for each in (channel, stock):
            each.requests = ["a request being answered"]
            each.outbufs[-1].append(b"part of the answer")
            each.total_outbufs_len = len(b"part of the answer")
        taken, done = threading.Event(), threading.Event()

        def worker() -> None:  # a worker thread inside write_soon: the buffer's lock held
            with channel.outbuf_lock, stock.outbuf_lock:
                taken.set()
                done.wait(10)

        thread = threading.Thread(target=worker)
        thread.start()
        assert taken.wait(10)
        assert stock.writable()  # waitress's own: "write me", and the loop finds the lock taken
        assert not channel.writable()  # ours: the worker sends it, and wakes the loop as it lets go
        done.set()
        thread.join(10)
        assert channel.writable()  # the lock given back with bytes left: the loop sends them
        channel.requests = []
        assert channel.writable()  # no request running: waitress's own rule
    finally:
        server.close()
        ours.close()
        theirs.close()


def _fetch(port: int, paths: list[str]) -> list[bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        out = []
        for path in paths:
            connection.request("GET", f"/{path}")
            response = connection.getresponse()
            assert response.status == 200
            out.append(response.read())
        return out
    finally:
        connection.close()


def test_every_answer_arrives_whole_and_the_loop_never_wakes_to_find_the_answer_locked() -> None:
    futile = [0]

    class Counted(QuietChannel):
        def _flush_some_if_lockable(self, do_close: bool = True) -> None:
            # the loop was woken to send while a worker thread answers this connection
            if self.outbuf_lock.acquire(blocking=False):
                self.outbuf_lock.release()
            else:
                futile[0] += 1  # ... and the worker holds the answer: a turn for nothing
            return super()._flush_some_if_lockable(do_close)

    with LiveServer(wsgi) as live:
        live.server.channel_class = Counted
        results: dict[int, list[bytes]] = {}
        errors: list[BaseException] = []

        def client(n: int) -> None:
            try:
                results[n] = _fetch(live.port, ["work"] * 25)
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        [t.start() for t in threads]
        [t.join(60) for t in threads]
        assert not errors, errors
        assert all(r == [body("page")] * 25 for r in results.values()) and len(results) == 8
        # Waitress's own channel wakes the loop for nothing hundreds of times in these 200
        # requests (one per turn of its spin); a rare race (the worker takes the lock between
        # the loop's question and its send) may still cost one now and then.
        assert futile[0] <= 10, f"the loop woke {futile[0]} times to find the answer locked"

        # every size, streamed, and pipelined on one connection: answered whole, in order
        assert _fetch(live.port, list(SIZES) + ["stream"]) == [body(n) for n in SIZES] + [body("page")]
        with socket.create_connection(("127.0.0.1", live.port), timeout=30) as raw:
            names = ("big", "byte", "page")
            raw.sendall(b"".join(f"GET /{n} HTTP/1.1\r\nHost: x\r\n{'Connection: close' if n == 'page' else ''}\r\n\r\n".encode()
                                 for n in names))
            received = b""
            while chunk := raw.recv(65536):
                received += chunk
        answers = []
        for _ in names:
            head, _, received = received.partition(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
            answers.append(received[:length])
            received = received[length:]
        assert answers == [body(n) for n in names] and received == b""

def test_bytes_a_worker_leaves_are_sent_at_once_though_the_loop_found_it_holding_the_lock() -> None:
    """Waitress's worker pulls the loop's trigger while it still holds the buffer's lock, so
    the woken loop may find the lock taken and go back to sleep with bytes unsent; the worker
    must wake it again once it lets go. Here each worker is held 20 ms after each pull (as a
    busy interpreter may hold it: that is when the race is lost), and the loop's own timeout
    is a minute, so bytes that waited for it fail the client's 20-second deadline."""
    with LiveServer(wsgi, threads=2, asyncore_loop_timeout=60) as live:
        _hold_workers_after_each_pull(live.server)
        for _ in range(3):
            READ_FIRST_PART.clear()
            with socket.create_connection(("127.0.0.1", live.port), timeout=20) as raw:
                raw.sendall(b"GET /pause HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                received = bytearray()
                while b"\r\n\r\n" not in received:
                    received += raw.recv(65536)
                data = bytearray(bytes(received).partition(b"\r\n\r\n")[2])
                while body("huge") not in data:  # chunked: the part is whole once it is all in
                    chunk = raw.recv(1 << 20)  # socket.timeout after 20 s: a lost wake-up
                    assert chunk, "closed before the first part arrived"
                    data += chunk
                READ_FIRST_PART.set()
                while chunk := raw.recv(65536):
                    data += chunk
                assert data.endswith(b"END\r\n0\r\n\r\n")


def _hold_workers_after_each_pull(server) -> None:
    """Each worker thread is held 20 ms right after it pulls the loop's trigger (as a busy
    interpreter may hold it): the moment a loop woken by that pull finds the lock taken."""
    pull = server.pull_trigger

    def pull_then_be_held() -> None:
        pull()
        if threading.current_thread().name.startswith("waitress-"):
            time.sleep(0.02)

    server.pull_trigger = pull_then_be_held


def test_a_worker_waiting_for_the_loop_to_drain_its_buffer_is_not_left_waiting() -> None:
    """Past waitress's high watermark the worker pulls the trigger, still holding the lock,
    and waits for the loop to send: the channel must then answer as waitress's does (write
    me), or worker and loop wait for each other until the loop's own timeout (a minute here)."""
    with LiveServer(wsgi, threads=2, asyncore_loop_timeout=60, outbuf_high_watermark=100_000) as live:
        _hold_workers_after_each_pull(live.server)
        with socket.create_connection(("127.0.0.1", live.port), timeout=20) as raw:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16_384)
            raw.sendall(b"GET /flood HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            time.sleep(0.5)  # not reading yet: the sockets fill (12 MB is more than they take) and
            # the worker's buffer passes the watermark, so it waits for the loop
            data = bytearray()
            while chunk := raw.recv(1 << 16):  # socket.timeout after 20 s: a stall
                data += chunk
                time.sleep(0.001)
        assert data.count(body("big")) == 40 and data.endswith(b"\r\n0\r\n\r\n")


def test_a_slow_reader_gets_a_big_answer_whole() -> None:
    """The reader takes its time: the socket's buffer fills, the worker leaves bytes behind and
    the loop sends them as room comes, every time it is woken."""
    with LiveServer(wsgi) as live:
        with socket.create_connection(("127.0.0.1", live.port), timeout=30) as raw:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16_384)
            raw.sendall(b"GET /huge HTTP/1.1\r\nHost: x\r\n\r\n")
            received = bytearray()
            while b"\r\n\r\n" not in received:
                received += raw.recv(4096)
            head, _, rest = bytes(received).partition(b"\r\n\r\n")
            data = bytearray(rest)
            reads = 0
            while len(data) < SIZES["huge"]:
                chunk = raw.recv(65536)
                assert chunk, "the connection closed before the answer was whole"
                data += chunk
                reads += 1
                if reads % 20 == 0:
                    time.sleep(0.01)
            assert bytes(data) == body("huge")


@pytest.mark.parametrize("where", [{"host": "127.0.0.1", "port": 0}, {"listen": "127.0.0.1:0 127.0.0.2:0"}])
def test_every_listening_socket_makes_quiet_connections(where: dict) -> None:
    server = make_server(wsgi, threads=1, **where)
    try:
        dispatchers = [server, *getattr(server, "map", {}).values()]
        listening = {id(d): d for d in dispatchers if hasattr(d, "channel_class")}
        assert len(listening) == len(where.get("listen", "one").split())
        assert all(d.channel_class is QuietChannel for d in listening.values())
    finally:
        server.close()
