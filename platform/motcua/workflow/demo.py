"""`motcua serve --demo`: each plugin's simulator on the next local ports, the app pointed at them.

Every enabled plugin of every kind may start a stand-in of its outside service
(`Plugin.simulate`); the core does not know which ones exist.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

log = logging.getLogger(__name__)


def _free_port_from(host: str, port: int) -> int:
    """The first port from `port` on that nothing listens on: a simulator whose usual port is
    taken (another server beside this one) moves to the next instead of stopping the start;
    the printed URLs say where each one went."""
    for candidate in range(port, min(port + 200, 65536)):
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            try:
                probe.bind((host, candidate))
            except OSError:
                continue
            return candidate
    return port


def start_simulators(app: Any, host: str, port: int) -> dict[str, str]:
    """Serve the simulators on port+1, port+2 ... (skipping ports already taken); configure
    `app` to use them."""
    from motcua.integrations import REGISTRIES

    app.config["PUBLIC_URL"] = app.config.get("PUBLIC_URL") or f"http://{host}:{port}"
    urls: dict[str, str] = {}
    next_port = port + 1
    for kind, registry in REGISTRIES.items():
        for plugin_id, cls in sorted(registry.enabled(app.config).items()):
            simulate = getattr(cls, "simulate", None)
            if simulate is None:
                continue
            next_port = _free_port_from(host, next_port)
            try:
                url = simulate(app, host, next_port)
            except ImportError as exc:  # a wheel built without the simulators
                log.warning("no simulator for %s %s: %s", kind, plugin_id, exc)
                continue
            if url:
                urls[f"{kind}/{plugin_id}"] = url
                next_port += 1
    return urls
