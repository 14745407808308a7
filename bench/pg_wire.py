"""A TCP proxy to PostgreSQL that counts the client's round trips, for bench/pg_throughput.py
and tests/test_store_postgresql.py (which loads this file by path).

A round trip is one message the client then waits on: a simple query ('Q') or the Sync
('S') that ends an extended-protocol exchange (Parse/Bind/Execute ... Sync). psycopg sends
one of these per statement it waits for; pipelined statements share one Sync.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CountingProxy:
    """A TCP proxy to PostgreSQL counting the client's round trips ('Q' and 'S' messages)."""

    def __init__(self, target_port: int = 5432) -> None:
        self.target_port = target_port
        self.round_trips = 0
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", self.port))
        ready.set()
        self.loop.run_forever()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def down() -> None:
            while data := await up_reader.read(65536):
                writer.write(data)
                await writer.drain()
            writer.close()

        task = asyncio.ensure_future(down())
        try:
            (length,) = struct.unpack("!I", await reader.readexactly(4))  # the startup message
            up_writer.write(struct.pack("!I", length) + await reader.readexactly(length - 4))
            while True:
                head = await reader.readexactly(5)
                kind, length = head[:1], struct.unpack("!I", head[1:])[0]
                if kind in (b"Q", b"S"):
                    self.round_trips += 1
                up_writer.write(head + await reader.readexactly(length - 4))
                await up_writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        up_writer.close()
        task.cancel()

    def url(self, database: str) -> str:
        """A URL of `database` through this proxy (no TLS or GSS: the proxy reads plain messages)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}?sslmode=disable&gssencmode=disable"
