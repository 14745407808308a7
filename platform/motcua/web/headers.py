"""Response headers every page gets: caching, Content-Security-Policy, HSTS, nosniff, no framing.

- **Cache-Control.** Every dynamic response is `private, no-store` unless its view chose
  otherwise: pages carry citizens' personal data (drafts, tracking, receipts, supplements,
  staff pages) or a private link, and a page that forgets to say so must not end up in a
  shared or back-button cache. Public, cacheable answers (the unit lists of the API, static
  files) set their own Cache-Control.
- **Referrer-Policy: no-referrer** on every URL that carries a secret token in its path (a
  draft link, a private tracking link), so the token is never sent to another site.
- **Content-Security-Policy.** Scripts, styles, images, fonts and connections from this
  site only; inline `<script>` and `<style>` elements only with the request's nonce
  (`nonce="{{ csp_nonce() }}"` in templates); no `style=""` attributes; no framing; forms post to this site, or to the payment
  gateway a payer is sent to (the origin of every `*_PAY_URL` setting and of each gateway
  plugin's `payer_urls()`, plus
  `CSP_FORM_ACTION`: browsers apply `form-action` to the redirect after a post too).
- **Strict-Transport-Security** when PUBLIC_URL is https (a year; subdomains are left
  alone, the province's other sites are not ours to pin).
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request
from werkzeug.wrappers import Response

HSTS = "max-age=31536000"


def csp_nonce() -> str:
    """This request's script nonce (one per request, made when first asked for)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def form_targets(config: Any) -> list[str]:
    """Origins other than this site that a form post may lead to (payment gateways)."""
    urls = [v for k, v in config.items() if k.endswith("_PAY_URL") and isinstance(v, str)]
    from motcua.integrations import GATEWAYS

    for cls in GATEWAYS.enabled(config).values():  # where each gateway plugin sends the payer
        urls += [u for u in cls(config).payer_urls() if isinstance(u, str)]
    extra = config.get("CSP_FORM_ACTION") or []
    urls += [extra] if isinstance(extra, str) else list(extra)
    return sorted({o for o in map(_origin, urls) if o})


def _kept() -> tuple[tuple[str, ...], bool]:
    """What the headers of this app depend on besides the request, worked out at its first
    page and kept: the Content-Security-Policy cut where the nonce goes (its `form-action`
    builds every enabled gateway plugin to ask its payer URLs) and whether HSTS is sent."""
    kept = current_app.extensions.get(_KEPT)
    if kept is None:
        config = current_app.config
        parts = tuple(content_security_policy(_NONCE, form_targets(config)).split(_NONCE))
        kept = current_app.extensions[_KEPT] = (parts, str(config.get("PUBLIC_URL") or "").startswith("https://"))
    return kept


_KEPT = "motcua.kept_headers"
_NONCE = "\x00nonce\x00"  # no nonce holds it (token_urlsafe)


def content_security_policy(nonce: str, targets: list[str]) -> str:
    directives = [
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action " + " ".join(["'self'", *targets]),
    ]
    return "; ".join(directives)


#: What every response carries unless its view said otherwise.
DEFAULTS = (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("Referrer-Policy", "same-origin"))


def _secure(response: Response) -> Response:
    headers = response.headers
    # the names present, read once: werkzeug's `in` and setdefault() build and drop a
    # KeyError exception for each name missing, a few per cent of a kept page's cost
    present = {name.lower() for name, _ in headers.items()}
    if request.endpoint != "static" and "cache-control" not in present:
        headers.add("Cache-Control", "private, no-store")
    if request.view_args and "token" in request.view_args:
        headers["Referrer-Policy"] = "no-referrer"
        present.add("referrer-policy")
    csp, hsts = _kept()
    if response.mimetype == "text/html" and "content-security-policy" not in present:
        headers.add("Content-Security-Policy", csp_nonce().join(csp))
    if hsts and "strict-transport-security" not in present:
        headers.add("Strict-Transport-Security", HSTS)
    for name, value in DEFAULTS:
        if name.lower() not in present:
            headers.add(name, value)
    return response


def install(app: Flask) -> None:
    """Register the headers on `app` and `csp_nonce()` for its templates."""
    app.after_request(_secure)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
