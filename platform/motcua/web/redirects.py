"""Redirect targets that come from a request (`?next=...`): checked before they are used.

A target is taken only when it is a path on this site: it starts with one `/` (not `//`,
which a browser reads as another host), holds no backslash (browsers read `/\\host` as
`//host`), no control or whitespace character (a CR/LF would split the Location header,
a tab is dropped by browsers and can join `/` and `/`), no scheme and no host. Anything
else is refused as a whole, never repaired, and the caller falls back to its own page.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

MAX_LENGTH = 2000


def local_path(target: object, prefix: str = "/") -> str | None:
    """`target` when it is a same-site path under `prefix` (a path, or `prefix` + `/?#`);
    None otherwise."""
    if not isinstance(target, str) or not target or len(target) > MAX_LENGTH:
        return None
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(unicodedata.category(c)[0] in "CZ" for c in target):  # controls, spaces, separators
        return None
    # Decoded once more, as a browser or a proxy in front may: still no host, no backslash.
    decoded = unquote(target)
    if decoded.startswith("//") or "\\" in decoded or any(unicodedata.category(c)[0] == "C" for c in decoded):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    path = parts.path
    if prefix != "/" and not (path == prefix or path.startswith(prefix.rstrip("/") + "/")):
        return None
    return target
