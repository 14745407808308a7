"""Renderer strings in the reader's language, without needing a request.

Renderers are pure functions called with an explicit `lang`, also from the CLI and from
PDF builders, so they cannot rely on the request's language. `t(text, lang)` is
`motcua.i18n.gettext` with the language given (the same gettext catalogue); `pybabel
extract` knows `t` as a keyword (Makefile, docs/i18n.md).
"""

from __future__ import annotations

from motcua.i18n import N_, format_date, format_datetime, money, t
from motcua.spec.model import localize

__all__ = ["N_", "t", "localize", "money", "format_date", "format_datetime"]
