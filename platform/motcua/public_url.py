"""The site's public address, for every link that leaves the page: the carrier's callback,
the payment gateway's return, the tracking link and QR code, the draft link.

Those links must never be built from the request's Host header: a citizen filing with
`Host: evil.example` would otherwise send that shipment's signed callbacks, or that
receipt's QR code, elsewhere. They come from the PUBLIC_URL setting (`motcua serve` sets it
to the address it listens on, or to --public-url). Only a demo or a test, which have no
public address, fall back to the request's host.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request, url_for


def check(value: str) -> str:
    """PUBLIC_URL without its trailing slash; a ValueError when it is no http(s) origin."""
    value = (value or "").strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"PUBLIC_URL must be an http:// or https:// address such as https://dichvucong.example.gov.vn, not {value!r}")
    return value


def public_url(path: str = "/", config: Mapping[str, Any] | None = None) -> str:
    """`path` (from the site's root, as url_for gives it) on the site's public address."""
    config = current_app.config if config is None else config
    base = (config.get("PUBLIC_URL") or "").rstrip("/")
    if not base:
        if not (config.get("DEMO") or config.get("TESTING")) or not has_request_context():
            raise RuntimeError("PUBLIC_URL is not configured: links that leave the site need the public address")
        base = request.host_url.rstrip("/")
    return base + "/" + path.lstrip("/")


def external_url(endpoint: str, **values: Any) -> str:
    """url_for(endpoint, **values) on the public address (what `_external=True` would do
    from the Host header)."""
    return public_url(url_for(endpoint, **values))
