"""Who may read a dossier: the second factor, or the private link on the citizen's receipt.

Codes follow a public pattern (agency-date-sequence) and are easy to guess, so reading a
dossier also needs the phone number or the citizen ID the applicant gave. Those factors are
guessable with enough tries, so the form that checks them is throttled per dossier code
(motcua.tracking_throttle) — which lets anyone lock a dossier's form for an hour. The
rightful citizen therefore also holds a private link (receipt page, PDF QR code): the
code signed with the app's SECRET_KEY. It opens that dossier and no other, never expires
(a receipt is kept for years), and is not throttled: it cannot be guessed. Changing
SECRET_KEY revokes every link; the form still works.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from itsdangerous import Signer

from motcua.dossier import Dossier
from motcua.formats import normalize_mobile

LINK_SALT = "motcua-tracking-link"
#: Stands in for a missing phone or ID, so every check compares the same number of values.
_ABSENT = "\x00absent"


def _norm(value: str) -> str:
    return re.sub(r"\s", "", value).lower()


def _digest(value: str) -> bytes:
    """Fixed-length stand-in for a value: compare_digest leaks lengths, digests have one."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def verify(dossier: Dossier, factor: str) -> bool:
    """Whether `factor` is the applicant's phone or ID, compared in constant time.

    Always two comparisons of equal-length digests, whatever the dossier holds, so the time
    taken says nothing about which factors exist (the throttle compares a dummy dossier
    when the code is unknown, so it says nothing about the code either)."""
    given = _norm((factor or "")[:64])
    phone = normalize_mobile(_norm(dossier.contact.phone)) if dossier.contact.phone else ""
    cccd = _norm(dossier.contact.cccd) if dossier.contact.cccd else ""
    by_phone = hmac.compare_digest(_digest(normalize_mobile(given)), _digest(phone or _ABSENT))
    by_id = hmac.compare_digest(_digest(given), _digest(cccd or _ABSENT))
    return bool(given) and ((by_phone and bool(phone)) or (by_id and bool(cccd)))


def _signer(secret: str | bytes) -> Signer:
    return Signer(secret, salt=LINK_SALT, key_derivation="hmac", digest_method=hashlib.sha256)


def link_token(secret: str | bytes, code: str) -> str:
    """The token of a dossier's private tracking link (URL-safe, no expiry)."""
    return _signer(secret).get_signature(code).decode()


def link_opens(secret: str | bytes, code: str, token: str) -> bool:
    """Whether `token` is the private link of exactly `code` (constant-time check).

    Compares the token's text, not its decoded bytes: base64 leaves spare bits in the last
    character, so decoding would let a link with that character changed open the dossier."""
    if not secret or not code or not token or len(token) > 128:
        return False
    return hmac.compare_digest(token.encode(), link_token(secret, code).encode())


#: The path of the route `portal.private_link` serves. Built here, not by url_for, because
#: messages carrying the link are composed where no request is (the `motcua workflow` CLI,
#: a step run by the engine outside a request); tests check it equals url_for's.
PRIVATE_LINK_PATH = "/ho-so/{code}/xem/{token}"


def private_link_path(secret: str | bytes, code: str) -> str:
    """The private tracking link of `code`, from the site's root."""
    return PRIVATE_LINK_PATH.format(code=quote(code, safe=""), token=link_token(secret, code))


def private_link_url(code: str, config: Mapping[str, Any]) -> str:
    """The private tracking link of `code` on the public address, from the app's config alone
    (SECRET_KEY, PUBLIC_URL); the one builder of that link, for pages and messages alike.
    A RuntimeError when no public address is known (no PUBLIC_URL, outside a request)."""
    from motcua.public_url import public_url

    return public_url(private_link_path(config["SECRET_KEY"], code), config)


#: private tracking links and draft links (/thu-tuc/<code>/nop/<token>[/<step>])
_LINK_IN_TEXT = re.compile(r"(/ho-so/[^/\s?#]+/xem/|/thu-tuc/[^/\s?#]+/nop/)[A-Za-z0-9_\-]{16,}")


class RedactLinks(logging.Filter):
    """Keeps private tracking and draft links out of logs (the dev server's access log, Flask's
    "Exception on <path>"): the token is a bearer credential."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is not ours to fix
            return True
        if "/xem/" in text or "/nop/" in text:
            record.msg, record.args = redact_links(text), ()
        return True


def redact_links(text: str) -> str:
    """`text` with the token of every private tracking or draft link replaced by "[redacted]"
    (the link's code stays readable): for logs and pages that show messages to others."""
    return _LINK_IN_TEXT.sub(r"\1[redacted]", text)


def redact_links_in(*loggers: logging.Logger) -> None:
    for logger in loggers:
        if not any(isinstance(f, RedactLinks) for f in logger.filters):
            logger.addFilter(RedactLinks())
