"""Vietnamese first, English second.

Source strings are the Vietnamese text itself: `_("Nộp hồ sơ")` shows that to Vietnamese
readers and the English from `translations/en/*.yaml` to English readers. Each area of the
app keeps its own YAML file there (portal.yaml, backoffice.yaml ...). Spec text is
localized with `localize()` from the spec model instead.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from flask import g, has_request_context, request

from motcua.fees import format_vnd
from motcua.spec.model import localize

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
_FOLDER = Path(__file__).parent / "translations"
#: Plugins' translation folders (`Plugin.translations_folder`), read after the core's.
_PLUGIN_FOLDERS: list[Path] = []


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((_FOLDER / lang).glob("*.yaml")):
        merged.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    for folder in _PLUGIN_FOLDERS:
        for path in sorted((folder / lang).glob("*.yaml")):
            for key, value in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
                merged.setdefault(key, value)  # a plugin never rewords the core's strings
    return merged


def add_folder(folder: str | Path) -> None:
    """A plugin's translations: `<folder>/<lang>/*.yaml`, keyed by the Vietnamese text."""
    path = Path(folder)
    if path not in _PLUGIN_FOLDERS:
        _PLUGIN_FOLDERS.append(path)
        catalogue.cache_clear()


def current_lang() -> str:
    if has_request_context():
        return getattr(g, "lang", DEFAULT_LANG)
    return DEFAULT_LANG


def choose_lang() -> str:
    """`?lang=` wins, then the `lang` cookie, then Vietnamese."""
    for candidate in (request.args.get("lang"), request.cookies.get("lang")):
        if candidate in LANGS:
            return candidate
    return DEFAULT_LANG


def gettext(text: str, **params: object) -> str:
    lang = current_lang()
    translated = text if lang == DEFAULT_LANG else catalogue(lang).get(text, text)
    return translated.format(**params) if params else translated


def local(text: dict[str, str] | None) -> str:
    """Spec text in the reader's language."""
    return localize(text, current_lang())


def money(amount: int | None) -> str:
    """An amount in VND written the reader's way: `50.000 ₫` or `50,000 VND`."""
    return format_vnd(int(amount or 0), current_lang())


_ = gettext
