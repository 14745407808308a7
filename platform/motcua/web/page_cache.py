"""Pages and fragments rendered once per spec version and language, not per request.

A procedure's information page, the blank first step of its form and the catalogue's pages
(browsing and search results alike) depend on the spec, the language and the page's address
only, yet Jinja redrew them for every request (the bulk of their cost, see
docs/performance.md). They are kept here, per catalogue (a new catalogue, e.g. after a
restart with changed specs, starts empty), in bounded LRUs (query strings are the visitor's
to choose, so memory stays bounded; searches have their own, so many different queries
never push the procedure and form pages out), encoded and cut at their holes. A page that
differs per address in one part only (the catalogue: its results and query) keeps its
frame apart (`frame`, `fill`), so that a new address draws that part alone.

What differs per request is never kept: the CSRF token is taken out of a kept page and the
visitor's own put back in on every use, and so is the Content-Security-Policy nonce of
inline scripts and styles (the header names this response's); a page with flashed
messages, or whatever depends on a citizen's answers, is rendered afresh. A page that grows
another per-request value must add it to `HOLES`.
"""

from __future__ import annotations

import re
import secrets
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from flask import g, request, session
from markupsafe import Markup

from motcua.i18n import current_lang
from motcua.services import services

#: The session key of a signed-in citizen (motcua.web.signin.SESSION_KEY).
SIGNED_IN = "citizen_session"

#: Per-request values a kept page may hold: name -> (the value this request rendered, or
#: None when it rendered none; a fresh value for another request).
HOLES: dict[str, tuple[Callable[[], str | None], Callable[[], str]]] = {}


def _csrf_rendered() -> str | None:
    return g.get("csrf_token")  # flask-wtf keeps the token it put in this page there


def _csrf_fresh() -> str:
    from motcua.web.csrf_token import csrf_token

    return csrf_token()


def _nonce_rendered() -> str | None:
    return g.get("csp_nonce")  # motcua.web.headers keeps this request's script nonce there


def _nonce_fresh() -> str:
    from motcua.web.headers import csp_nonce

    return csp_nonce()  # the nonce this response's Content-Security-Policy header names


HOLES["csrf"] = (_csrf_rendered, _csrf_fresh)
HOLES["nonce"] = (_nonce_rendered, _nonce_fresh)
_MARKS = {name: f"\x1emotcua-{name}-{secrets.token_hex(8)}\x1e" for name in HOLES}

#: Kept pages (a page per address: the query string is the visitor's), search results (apart,
#: so that many different queries never push the procedure and form pages out), fragments (per
#: language, the catalogue's result entries and the words of its results; an office's figures
#: per time slot) and frames (`frame`: a page without its
#: per-request parts, the catalogue's per language and filters, whatever the query).
SIZES = {"page": 512, "search": 512, "fragment": 8192, "frame": 256}


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[Hashable, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


_CACHES: weakref.WeakKeyDictionary[Any, dict[str, _LRU]] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _cache(kind: str) -> _LRU:
    catalogue = services().catalogue
    with _CACHES_LOCK:
        caches = _CACHES.get(catalogue)
        if caches is None:
            caches = _CACHES[catalogue] = {name: _LRU(size) for name, size in SIZES.items()}
        return caches[kind]


def shareable() -> bool:
    """Whether this request's page is the one every visitor gets: not when it holds a message
    for this visitor only, nor a signed-in citizen's page (their name in the header, their
    identity prefilled in a form); those are drawn afresh and never kept."""
    return not ("_flashes" in session or session.get(SIGNED_IN))


def page(key: Hashable, render: Callable[[], str], kind: str = "page") -> str | bytes:
    """The page `render` draws for this address and language, drawn once and kept.

    `key` names what else the page depends on (the spec's code: it is per catalogue);
    `kind` the LRU it is kept in (`SIZES`). A kept page is kept encoded, cut at its holes,
    and answered as bytes: encoding a 30 KB page to UTF-8 was a tenth of a kept page's
    cost (docs/performance.md)."""
    if not shareable():
        return render()
    full_key = (request.path, request.query_string, current_lang(), key)
    cache = _cache(kind)
    kept = cache.get(full_key)
    if kept is None:
        html = render()
        kept = _cut(str(html))
        cache.put(full_key, kept)
        if not kept[1]:
            return kept[0][0]  # encoded once: Flask would encode the text again
        return html
    pieces, holes = kept
    if not holes:
        return pieces[0]
    values = {name: HOLES[name][1]().encode() for name in set(holes)}  # one token, one nonce per response
    return _join(pieces, holes, values, b"")


def _cut(html: str) -> tuple[tuple[bytes, ...], tuple[str, ...]]:
    """The page with this request's values taken out: its text between the holes (encoded)
    and the name of each hole, in order."""
    names = {}
    for name, (rendered, _fresh) in HOLES.items():
        value = rendered()
        if value and value in html:
            html = html.replace(value, _MARKS[name])
            names[_MARKS[name]] = name
    if not names:
        return (html.encode(),), ()
    pieces, order = _split(html, names)
    return tuple(p.encode() for p in pieces), order


def _split(html: str, names: dict[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`html` cut at each mark (`names`: mark -> name): the text between, the names in order."""
    parts = re.split("(" + "|".join(map(re.escape, names)) + ")", html)
    return tuple(parts[0::2]), tuple(names[m] for m in parts[1::2])


def _join(pieces: tuple[Any, ...], names: tuple[str, ...], values: dict[str, Any], empty: Any) -> Any:
    """The pieces with each named value put back between them (str or bytes alike)."""
    out = [pieces[0]]
    for name, piece in zip(names, pieces[1:]):
        out += (values[name], piece)
    return empty.join(out)


def kept(kind: str, key: Hashable, make: Callable[[], Any]) -> Any:
    """What `make` returns for `key` (which must name everything it depends on but the
    catalogue), made once and kept in the `kind` LRU of this catalogue: for an answer that
    is the same for every visitor and holds no per-request value (an API list's body)."""
    cache = _cache(kind)
    value = cache.get(key)
    if value is None:
        value = make()
        cache.put(key, value)
    return value


def frame(key: Hashable, render: Callable[[], str], marks: dict[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The page `render` draws with a mark (from `marks`: name -> text that escaping leaves as
    it is) where each per-request part goes, kept per language and `key`, cut at the marks:
    its text between the marks and the name of each, for `fill`.

    A search for a query never asked before drew the whole page, base layout and filter panel
    included (~60 % of its cost, docs/performance.md); with its frame kept only the results
    and the query are drawn. Kept only when the page is the same for every visitor
    (`shareable`) and holds none of this request's own values (`HOLES`)."""
    def cut() -> tuple[tuple[str, ...], tuple[str, ...]]:
        return _split(str(render()), {mark: name for name, mark in marks.items()})

    if not shareable():
        return cut()
    cache = _cache("frame")
    full_key = (current_lang(), key)
    kept = cache.get(full_key)
    if kept is None:
        kept = cut()
        if not any((value := rendered()) and any(value in piece for piece in kept[0]) for rendered, _ in HOLES.values()):
            cache.put(full_key, kept)
    return kept


def fill(framed: tuple[tuple[str, ...], tuple[str, ...]], values: dict[str, str]) -> Markup:
    """A `frame` with each mark replaced by its value (already escaped for where it goes)."""
    pieces, names = framed
    return Markup(_join(pieces, names, values, ""))
