"""Local stand-ins for outside services, each a small Flask app speaking the real protocol
shape: `vnpay` (payment gateway), `carrier` (postal carrier), `messaging` (SMS / e-mail).
Started by the tests on 127.0.0.1 and by `motcua serve --demo`; never used in production."""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable

log = logging.getLogger(__name__)


def deliver_with_retries(
    send: Callable[[], bool], *, attempts: int = 6, first_delay: float = 0.2, background: bool = True
) -> bool:
    """Call `send` until it returns True: once now, then with doubling delays in a thread."""
    if send():
        return True

    def retry() -> None:
        delay = first_delay
        for _ in range(attempts - 1):
            time.sleep(delay)
            if send():
                return
            delay *= 2
        log.warning("simulator: gave up delivering a callback after %d attempts", attempts)

    if background:
        threading.Thread(target=retry, daemon=True).start()
    else:
        retry()
    return False


def http(request: urllib.request.Request, timeout: float = 5) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


def serve_in_thread(app: object, host: str, port: int, name: str) -> str:
    """`motcua serve --demo`: serve a simulator with waitress in a daemon thread; its URL."""
    from waitress.server import create_server

    server = create_server(app, host=host, port=port, threads=2)
    threading.Thread(target=server.run, daemon=True, name=f"sim-{name}").start()
    return f"http://{host}:{port}"


def public_address(app: object) -> str:
    """The portal's address the simulators call back (`motcua serve --demo` sets PUBLIC_URL)."""
    return str(app.config["PUBLIC_URL"]).rstrip("/")  # type: ignore[attr-defined]
