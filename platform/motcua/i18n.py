"""Vietnamese first, English second.

Source strings are the Vietnamese text itself: `_("Nộp hồ sơ")` shows that to Vietnamese
readers and the English from `translations/en/*.yaml` to English readers. Each area of the
app keeps its own YAML file there (portal.yaml, backoffice.yaml ...). Spec text is
localized with `localize()` from the spec model instead.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path

import yaml
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import g, has_request_context, request

from motcua.spec.model import localize
from motcua.workdays import VN_TZ

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
_FOLDER = Path(__file__).parent / "translations"


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((_FOLDER / lang).glob("*.yaml")):
        merged.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    return merged


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


# --- money and dates: Babel, one path for code, templates and documents ----------------------

#: CLDR patterns where the locale's own standard is not what readers here expect: Vietnamese
#: money with a plain space (CLDR puts a no-break space, which notes and SMS keep verbatim) and
#: English money with the ISO code in front (`VND 16,000`: CLDR's `₫16,000` reads oddly to
#: English readers of a Vietnamese service). VND has no minor unit, so no decimals either way.
_MONEY = {"vi": "#,##0 ¤", "en": "¤¤ #,##0"}
#: Vietnamese dates are written dd/MM/yyyy (CLDR's short `d/M/yy` drops the century and the
#: leading zeros that forms and receipts use); English uses the en locale's medium date
#: (`Nov 30, 2026`), which no reader can take for 11 Nov or 30 Nov the other way round.
_DATE = {"vi": "dd/MM/yyyy", "en": "medium"}
#: Times: the locales' short patterns, spelled out because CLDR's English one puts a narrow
#: no-break space (U+202F) before AM/PM, which PDF fonts and SMS gateways mangle.
_TIME = {"vi": "HH:mm", "en": "h:mm a"}


def _lang(lang: str | None) -> str:
    return lang if lang in LANGS else current_lang()


def money(amount: int | None, lang: str | None = None) -> str:
    """An amount in VND written the reader's way: `50.000 ₫` or `VND 50,000`.

    `lang` defaults to the reader's language; texts recorded on a dossier pass "vi"."""
    lang = _lang(lang)
    return babel_numbers.format_currency(int(amount or 0), "VND", _MONEY[lang], locale=lang, currency_digits=True)


def _in_vietnam(value: datetime) -> datetime:
    """Vietnam time: a naive datetime is taken as UTC, as the store keeps them."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(VN_TZ)


def format_date(value: date | datetime | str | None, lang: str | None = None) -> str:
    """A day the reader's way (`30/11/2026`, `Nov 30, 2026`); a datetime is first put in
    Vietnam time, an ISO `YYYY-MM-DD` string is parsed, None is empty."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = _in_vietnam(value).date()
    lang = _lang(lang)
    return babel_dates.format_date(value, _DATE[lang], locale=lang)


def format_time(value: datetime, lang: str | None = None) -> str:
    """A time of day in Vietnam time (`09:05`, `9:05 AM`)."""
    lang = _lang(lang)
    return babel_dates.format_time(_in_vietnam(value), _TIME[lang], tzinfo=VN_TZ, locale=lang)


def format_datetime(value: datetime | str | None, lang: str | None = None) -> str:
    """A moment in Vietnam time, date and time joined the locale's way
    (`09:05 30/11/2026`, `Nov 30, 2026, 9:05 AM`); an ISO string is parsed, None is empty."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    lang = _lang(lang)
    joined = babel_dates.get_datetime_format("short", locale=lang)
    return joined.replace("{1}", format_date(value, lang)).replace("{0}", format_time(value, lang))


_ = gettext
