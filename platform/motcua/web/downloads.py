"""Files a browser should save rather than show: their headers, and the documents' settings."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from flask import current_app

_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._-]+")


def attachment(filename: str) -> str:
    """A Content-Disposition value that saves the file under `filename` (RFC 6266).

    `filename=` carries an ASCII form for old clients (Vietnamese letters without their
    marks, đ as d, anything else as `-`); `filename*=` (RFC 5987/8187) the name as written,
    UTF-8 and percent-encoded, which current browsers prefer.
    """
    folded = unicodedata.normalize("NFKD", filename.replace("đ", "d").replace("Đ", "D"))
    ascii_name = _UNSAFE_ASCII.sub("-", folded.encode("ascii", "ignore").decode("ascii")).strip("-.") or "download"
    value = f'attachment; filename="{ascii_name}"'
    if ascii_name != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


def document_templates() -> str | None:
    """The deployment's folder of document template overrides (DOCUMENT_TEMPLATES_DIR), if any.

    Pass it as `overrides=` to motcua_renderers.documents: its files replace ours by name
    (docs/documents.md).
    """
    return current_app.config.get("DOCUMENT_TEMPLATES_DIR") or None
