"""Flask's signed session cookie, with its signer made once per key rather than per request.

Flask's `SecureCookieSessionInterface` builds a new `URLSafeTimedSerializer` (and looks up
its digest) at the start of every request, also for a visitor who sends no cookie: about a
twentieth of the CPU of a kept page (docs/performance.md). The serializer holds nothing
per request, so one per set of keys serves every thread. And a visitor with no session who
got none (most readers of a kept page) costs no look-up of the cookie's seven settings, and
a short session is not run through zlib (`COMPRESS_FROM`). Everything else (cookie name,
flags, lifetime, the JSON tags, key rotation through SECRET_KEY_FALLBACKS) is Flask's own.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.serializer import Serializer
from werkzeug.wrappers import Response

#: Payloads shorter than this are not tried with zlib: a new visitor's session (its CSRF
#: token) is ~60 bytes, which zlib cannot shorten, yet each try costs ~20 µs (deflate's
#: set-up) and lets go of the GIL. itsdangerous reads both forms (a compressed one starts
#: with ".").
COMPRESS_FROM = 256


class _Signer(URLSafeTimedSerializer):
    """itsdangerous's URL-safe timed serializer, compressing only payloads long enough."""

    def dump_payload(self, obj: Any) -> bytes:
        json = Serializer.dump_payload(self, obj)
        if len(json) < COMPRESS_FROM:
            return base64_encode(json)
        return super().dump_payload(obj)


class SessionCookie(SecureCookieSessionInterface):
    """The signed-cookie session with one serializer per (fallback keys, secret key)."""

    def __init__(self) -> None:
        self._made: tuple[tuple[Any, ...], URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (*(app.config.get("SECRET_KEY_FALLBACKS") or ()), app.secret_key)
        made = self._made
        if made is None or made[0] != keys:  # a key changed (a test, a rotation): made again
            signer = None
            if app.secret_key:  # as Flask makes it (the current key last), with the signer above
                signer = _Signer(list(keys), salt=self.salt, serializer=self.serializer,  # type: ignore[arg-type]
                                 signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method})
            made = self._made = (keys, signer)
        return made[1]

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified:  # nothing to set or delete (Flask's own rule)
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)
