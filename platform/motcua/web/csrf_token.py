"""The CSRF token put in forms: flask-wtf's scheme, made without its per-request costs.

flask-wtf (`CSRFProtect`) keeps checking every form post, unchanged: the posted token must
be a signature, by the app's key, of the random value in the visitor's signed session.
Only the making of the token is ours. flask-wtf's `generate_csrf` builds a new serializer
for each request, derives its signing key again, signs through Python's pure-Python HMAC
path and tries zlib on a 40-character value; for a new visitor that was a fifth of the form
page's CPU, and zlib lets go of the GIL among the server's threads (docs/performance.md). Here the serializer is made once per key
(`motcua.web.kept_signer`), the raw value is 20 random bytes in hex (160 bits, as
flask-wtf's SHA-1 hex digest of 64 random bytes carries), and the token is the same
itsdangerous format, so `flask_wtf.csrf.validate_csrf` reads it (tests/test_csrf_token.py).
"""

from __future__ import annotations

import secrets

from flask import Flask, current_app, g, request, session
from flask_wtf.csrf import CSRFProtect

from motcua.web.kept_signer import KeptSerializer

#: flask-wtf's salt for its tokens: the checker unsigns with it.
SALT = "wtf-csrf-token"
_KEPT = "motcua.csrf_serializer"


def _serializer(app: Flask) -> KeptSerializer:
    key = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    if not key:
        raise RuntimeError("A secret key is required to use CSRF.")
    kept = app.extensions.get(_KEPT)
    if kept is None or kept[0] != key:  # the key changed (a test, a rotation): made again
        kept = app.extensions[_KEPT] = (key, KeptSerializer(key, salt=SALT))
    return kept[1]


def csrf_token() -> str:
    """This request's signed CSRF token (made once per request, like flask-wtf's: kept in
    `g` under the field name, its raw value in the session under the same name)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    name = app.config["WTF_CSRF_FIELD_NAME"]
    token = g.get(name)
    if token is None:
        raw = session.get(name)
        if not isinstance(raw, str) or not raw:  # none yet, or not one of ours: a new one
            raw = session[name] = secrets.token_hex(20)
        token = _serializer(app).dumps(raw)
        setattr(g, name, token)
    return str(token)


class CSRFCheck(CSRFProtect):
    """flask-wtf's `CSRFProtect`, handing templates `csrf_token` above, and answering a
    request whose method it never checks (GET, HEAD) before looking up the view's exemption."""

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        # after flask-wtf's own context processor, which would hand templates its generate_csrf
        app.jinja_env.globals["csrf_token"] = csrf_token
        app.context_processor(lambda: {"csrf_token": csrf_token})

    def protect(self, apply_exemptions: bool = False) -> None:
        if request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return  # what flask-wtf decides too, after the exemption look-up it then discards
        super().protect(apply_exemptions)
