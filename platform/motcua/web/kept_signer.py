"""itsdangerous's URL-safe timed serializer, with its signing keys derived once and its HMAC in C.

A new visitor's form page signs twice (the CSRF token and the session cookie that holds its
raw value). itsdangerous derives the signing key from the secret key again on every
signature and builds a new signer for every `dumps`/`loads`; with the hash given as a Python
function (Flask's and itsdangerous's default SHA-1), `hmac.new` also takes its pure-Python
path. Each signature cost ~20 µs, a tenth of that page (docs/performance.md). Here the
signer is made once per salt, each key derived once, and the HMAC computed in OpenSSL. The bytes are exactly itsdangerous's: tokens and cookies made here
are read by itsdangerous's own serializers (flask-wtf's `validate_csrf`, Flask's session)
and the other way round (tests/test_kept_signer.py).

Short payloads are not tried with zlib (`COMPRESS_FROM`): a CSRF token or a new visitor's
session is ~60 bytes, which zlib cannot shorten, yet each try costs ~30 µs (deflate's set-up)
and lets go of the GIL. itsdangerous reads both forms (a compressed one starts with ".").
"""

from __future__ import annotations

import hmac
from typing import Any

from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, want_bytes
from itsdangerous.serializer import Serializer
from itsdangerous.signer import HMACAlgorithm, SigningAlgorithm

#: Payloads shorter than this are not tried with zlib.
COMPRESS_FROM = 256


class _OpenSSLHMAC(SigningAlgorithm):
    """HMAC with a named hash, in OpenSSL (the same bytes as itsdangerous's pure-Python path).

    Not `hmac.digest`: that one-shot lets go of the GIL around every call, whatever the
    length, which under 8 server threads made each signature wait for a thread switch
    (~30 µs instead of ~1.4 µs, measured); `hmac.new` with a hash name keeps the GIL for
    messages this short."""

    def __init__(self, name: str) -> None:
        self.name = name

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return hmac.new(key, value, self.name).digest()


class KeptKeySigner(TimestampSigner):
    """itsdangerous's timestamp signer, each secret key derived once (per signer)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._derived: dict[bytes, bytes] = {}
        if type(self.algorithm) is HMACAlgorithm:  # the default one, not a caller's own
            name = getattr(self.digest_method(), "name", None)
            if name:
                self.algorithm = _OpenSSLHMAC(name)

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        key = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        derived = self._derived.get(key)
        if derived is None:  # two threads may both derive it once: same bytes, no harm
            derived = self._derived[key] = super().derive_key(key)
        return derived


class KeptSerializer(URLSafeTimedSerializer):
    """URL-safe timed serializer with one `KeptKeySigner` per salt, compressing only payloads
    long enough. Holds nothing per request: one serves every thread."""

    default_signer = KeptKeySigner

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signers: dict[Any, Any] = {}

    def make_signer(self, salt: str | bytes | None = None) -> Any:
        salt = self.salt if salt is None else salt
        signer = self._signers.get(salt)
        if signer is None:
            signer = self._signers[salt] = super().make_signer(salt)
        return signer

    def dump_payload(self, obj: Any) -> bytes:
        json = Serializer.dump_payload(self, obj)
        if len(json) < COMPRESS_FROM:
            return base64_encode(json)
        return super().dump_payload(obj)
