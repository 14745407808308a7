"""Refuse text no store can hold: NUL (PostgreSQL's text and JSONB reject it) and lone
surrogates (not encodable as UTF-8, so no JSON file or database takes them).

One `before_request` looks at every value a request brings in (the path, query values,
form values and file names, JSON bodies, keys included) and answers 400 with a plain
message (an API JSON body: 422 with the pointer of the bad string) before any view sees
them, so no view, store or template meets them later.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask import render_template, request

from motcua.i18n import _

_BAD = re.compile("[\x00\ud800-\udfff]")
#: How a JSON body in UTF-8 can carry NUL or a lone surrogate: as an escape, or a surrogate
#: as its three UTF-8 bytes (the parser decodes with "surrogatepass"); a raw control
#: character does not parse. A body with none of these and no NUL byte (UTF-16 and UTF-32,
#: which the parser also reads, have them) holds neither, and its strings need no walk (a
#: filing's 5 kB attachment was most of this hook's time).
_MAYBE_BAD = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\xed[\xa0-\xbf]")
_MAX_DEPTH = 64  # deeper JSON is refused by the API itself (api.MAX_JSON_DEPTH)


def bad_text(value: object) -> bool:
    """Whether `value` is a string holding NUL or a lone surrogate."""
    return isinstance(value, str) and _BAD.search(value) is not None


def _json_strings(value: Any) -> Iterable[Any]:
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > _MAX_DEPTH:
            continue
        if isinstance(node, dict):
            yield from node.keys()
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
        else:
            yield node


def _pointer_to_bad(value: Any, path: str = "", depth: int = 0) -> str | None:
    """The JSON pointer (RFC 6901) of the first string holding bad text in a JSON body, so an
    API client is told where, as the API's own validation does (422 with a pointer)."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(value, dict):
        for key, child in value.items():
            here = path + "/" + str(key).replace("~", "~0").replace("/", "~1")
            if bad_text(key):
                return here
            found = _pointer_to_bad(child, here, depth + 1)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found = _pointer_to_bad(child, f"{path}/{index}", depth + 1)
            if found is not None:
                return found
    elif bad_text(value):
        return path
    return None


def _incoming() -> Iterable[Any]:
    yield request.path
    for key, value in request.args.items(multi=True):
        yield key
        yield value
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            yield key
            yield value
        for key, upload in request.files.items(multi=True):
            yield key
            yield upload.filename
    elif request.is_json:
        raw = request.get_data(cache=True)
        if b"\x00" not in raw and _MAYBE_BAD.search(raw) is None:
            return
        try:
            body = request.get_json(silent=True)
        except RecursionError:  # the API answers that one itself
            return
        yield from _json_strings(body)


def refuse_bad_text():  # type: ignore[no-untyped-def]
    """The app's before_request hook: a 400 when anything sent holds NUL or a lone surrogate."""
    if not any(bad_text(value) for value in _incoming()):
        return None
    message = _("Thông tin gửi lên có ký tự không hợp lệ (ký tự NUL hoặc mã Unicode hỏng). Hãy xoá ký tự đó rồi gửi lại.")
    if request.path.startswith("/api/"):
        if request.is_json:  # the body is the culprit: where, like any invalid value (422)
            pointer = _pointer_to_bad(request.get_json(silent=True))
            if pointer is not None:
                return {"errors": [{"pointer": pointer, "message": message}]}, 422
        return {"errors": [{"pointer": "", "message": message}]}, 400
    return render_template("portal/error.html", title=_("Ký tự không hợp lệ"), message=message), 400
