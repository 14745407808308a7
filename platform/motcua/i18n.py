"""Vietnamese first, English second: gettext catalogues through Babel.

Source strings are the Vietnamese text itself (the msgid): `_("Nộp hồ sơ")` shows that to
Vietnamese readers and the English of `translations/en/LC_MESSAGES/messages.po` to English
readers. `pgettext` gives a word two English renderings by context, `ngettext` picks the
plural form of a count. `pybabel extract` finds every message (babel.cfg, docs/i18n.md).
Spec text is localized with `localize()` from the spec model instead; money and dates are
written here too, through Babel, so code, templates and documents share one path.

The catalogue is compiled in memory from its `.po` file the first time a language is used:
no `.mo` to build, ship or forget to rebuild (a few hundred messages compile in milliseconds).
Babel's `support.Translations` is used directly rather than Flask-Babel: the language is
chosen by our own rule (`choose_lang`), and renderers, notes and validation translate
outside any request with an explicit `lang`, which Flask-Babel's request-bound locale does
not serve.
"""

from __future__ import annotations

import gettext as _gettext
from datetime import date, datetime, timezone
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import g, has_request_context, request

from motcua.spec.model import localize
from motcua.workdays import VN_TZ

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
DOMAIN = "messages"
FOLDER = Path(__file__).parent / "translations"
#: Plugins' translation folders (`Plugin.translations_folder`): each holds its own
#: `<lang>/LC_MESSAGES/messages.po`, consulted after the core's catalogue.
_PLUGIN_FOLDERS: list[Path] = []


def catalogue_path(lang: str, folder: Path = FOLDER) -> Path:
    """Where the `.po` catalogue of `lang` lives (Vietnamese, the source, has none)."""
    return folder / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _compile(path: Path, lang: str) -> Translations:
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@lru_cache(maxsize=None)
def translations(lang: str) -> _gettext.NullTranslations:
    """The compiled catalogue of `lang`; Vietnamese is the source and translates to itself.

    Plugins' catalogues are gettext fallbacks of the core's: a plugin adds messages, it never
    rewords the core's (the core answers first)."""
    if lang == DEFAULT_LANG or lang not in LANGS:
        return NullTranslations()
    core = _compile(catalogue_path(lang), lang)
    for folder in _PLUGIN_FOLDERS:
        path = catalogue_path(lang, folder)
        if path.is_file():
            core.add_fallback(_compile(path, lang))
    return core


def add_folder(folder: str | Path) -> None:
    """A plugin's translations: `<folder>/<lang>/LC_MESSAGES/messages.po`, msgid = the Vietnamese text."""
    path = Path(folder)
    if path not in _PLUGIN_FOLDERS:
        _PLUGIN_FOLDERS.append(path)
        translations.cache_clear()


def _lang(lang: str | None) -> str:
    return lang if lang in LANGS else current_lang()


def current_lang() -> str:
    if has_request_context():
        return getattr(g, "lang", DEFAULT_LANG)
    return DEFAULT_LANG


def choose_lang() -> str:
    """`?lang=` wins, then the `lang` cookie, then Vietnamese."""
    # `in` first: werkzeug's .get() of a missing key builds and drops a BadRequestKeyError
    for source in (request.args, request.cookies):
        if "lang" in source and source["lang"] in LANGS:
            return source["lang"]
    return DEFAULT_LANG


def _fill(text: str, params: dict[str, object]) -> str:
    return text.format(**params) if params else text


def gettext(text: str, /, *, lang: str | None = None, **params: object) -> str:
    """`text` (Vietnamese) in the reader's language, or in `lang`; `{name}` fields filled."""
    return _fill(translations(_lang(lang)).gettext(text), params)


def pgettext(context: str, text: str, /, *, lang: str | None = None, **params: object) -> str:
    """`text` as meant in `context`: one Vietnamese word, two English ones ("Nội dung" is the
    "Content" of a message, but "What" heads the timeline's column of what happened)."""
    return _fill(translations(_lang(lang)).pgettext(context, text), params)


def ngettext(singular: str, plural: str, n: int, /, *, lang: str | None = None, **params: object) -> str:
    """The form of a count: Vietnamese has one (write it twice), English two ("1 day", "3 days").
    `{n}` is filled with `n` unless given."""
    return _fill(translations(_lang(lang)).ngettext(singular, plural, n), {"n": n, **params})


def N_(text: str) -> str:  # noqa: N802 (gettext's own name for it)
    """Marks a message for `pybabel extract` where it is defined (a table of labels, a
    constant) and translated later by `_(value)`: returns it unchanged."""
    return text


def t(text: str, lang: str, /, **params: object) -> str:
    """`gettext` with the language given: renderers, validation and notes run outside a request."""
    return gettext(text, lang=lang, **params)


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


def money(amount: int | None, lang: str | None = None) -> str:
    """An amount in VND written the reader's way: `50.000 ₫` or `VND 50,000`.

    `lang` defaults to the reader's language; texts recorded on a dossier pass "vi"."""
    return _money(int(amount or 0), _lang(lang))


@lru_cache(maxsize=4096)
def _money(amount: int, lang: str) -> str:
    """Kept per amount: fees take few values, and Babel parses the pattern and looks up the
    locale's symbols on every call (~4% of a filing's CPU went on its fee note)."""
    return babel_numbers.format_currency(amount, "VND", _MONEY[lang], locale=lang, currency_digits=True)


def _in_vietnam(value: datetime) -> datetime:
    """Vietnam time: a naive datetime is taken as UTC, as the store keeps them."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(VN_TZ)


def format_date(value: date | datetime | str | None, lang: str | None = None) -> str:
    """A day the reader's way (`30/11/2026`, `Nov 30, 2026`); a datetime is first put in
    Vietnam time, an ISO date or datetime string is parsed, None is empty."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
        except ValueError:
            return value  # not a date: shown as written
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
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value  # not a moment: shown as written
    lang = _lang(lang)
    joined = babel_dates.get_datetime_format("short", locale=lang)
    return joined.replace("{1}", format_date(value, lang)).replace("{0}", format_time(value, lang))


def iso_in_vietnam(value: datetime) -> str:
    """A moment as ISO 8601 with Vietnam's offset (`2026-12-05T00:40:00+07:00`), for the
    API: a client that reads the date part gets the Vietnamese day, not the UTC one."""
    return _in_vietnam(value).isoformat()


#: Jinja filters (`{{ amount|money }}`, `{{ dossier.due_date|date }}`, `{{ event.at|datetime }}`),
#: registered on the app's and the renderers' environments; each takes an optional `lang`.
FILTERS = {"money": money, "date": format_date, "datetime": format_datetime}

_ = gettext
