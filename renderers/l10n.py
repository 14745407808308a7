"""Renderer strings in the reader's language, without needing a request.

Renderers are pure functions called with an explicit `lang`, also from the CLI and from
PDF builders, so they cannot rely on Flask's request-bound `motcua.i18n.gettext`. They use
the same translation catalogue (platform/motcua/translations/en/renderers.yaml).
"""

from __future__ import annotations

from motcua.i18n import DEFAULT_LANG, catalogue
from motcua.spec.model import localize


def t(text: str, lang: str, **params: object) -> str:
    """`text` is the Vietnamese source string; English comes from the catalogue."""
    translated = text if lang == DEFAULT_LANG else catalogue(lang).get(text, text)
    return translated.format(**params) if params else translated


__all__ = ["t", "localize"]
