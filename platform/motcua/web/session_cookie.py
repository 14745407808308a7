"""Flask's signed session cookie, with its signer made once per key rather than per request.

Flask's `SecureCookieSessionInterface` builds a new `URLSafeTimedSerializer` (and looks up
its digest) at the start of every request, also for a visitor who sends no cookie: about a
twentieth of the CPU of a kept page (docs/performance.md). The serializer holds nothing
per request, so one per set of keys serves every thread. And a visitor with no session who
got none (most readers of a kept page) costs no look-up of the cookie's seven settings. The
serializer (`motcua.web.kept_signer`) derives its keys once, signs in C and does not run a
short session through zlib. Everything else (cookie name,
flags, lifetime, the JSON tags, key rotation through SECRET_KEY_FALLBACKS) is Flask's own.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from itsdangerous import URLSafeTimedSerializer
from werkzeug.wrappers import Response

from motcua.web.kept_signer import KeptSerializer


class _SessionJSON(TaggedJSONSerializer):
    """Flask's tagged JSON, with a session of text values only (a new visitor's: its CSRF
    value) written by `json.dumps` directly: no tag applies to it, so the text is the same
    as Flask's (sorted keys, ASCII, no spaces) without the walk through every tag."""

    def dumps(self, value: Any) -> str:
        if (type(value) is dict and all(type(k) is str and type(v) is str for k, v in value.items())
                and not (len(value) == 1 and next(iter(value)) in self.tags)):  # not read back as a tag
            return json.dumps(value, separators=(",", ":"), sort_keys=True)
        return super().dumps(value)


class SessionCookie(SecureCookieSessionInterface):
    """The signed-cookie session with one serializer per (fallback keys, secret key)."""

    serializer = _SessionJSON()

    def __init__(self) -> None:
        self._made: tuple[tuple[Any, ...], URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (*(app.config.get("SECRET_KEY_FALLBACKS") or ()), app.secret_key)
        made = self._made
        if made is None or made[0] != keys:  # a key changed (a test, a rotation): made again
            signer = None
            if app.secret_key:  # as Flask makes it (the current key last), with the kept signer
                signer = KeptSerializer(list(keys), salt=self.salt, serializer=self.serializer,  # type: ignore[arg-type]
                                 signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method})
            made = self._made = (keys, signer)
        return made[1]

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified:  # nothing to set or delete (Flask's own rule)
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)
