"""The language the linter and the loader word their findings in.

Authors and administrators are staff, so a finding is Vietnamese first, English second,
like the rest of the app (docs/i18n.md): each message is written in the code as its
Vietnamese msgid and translated through the `messages` catalogue. The linter runs outside
any request (CLI, catalogue start-up, studio), and its helpers sit deep below the call that
knows the reader, so the language is held in a context variable set for one lint call
(`speaking(lang)`) rather than threaded through every helper.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from motcua.i18n import DEFAULT_LANG, LANGS, translations

_LANG: ContextVar[str] = ContextVar("motcua_lint_lang", default=DEFAULT_LANG)


def lint_lang() -> str:
    """The language findings are being worded in (Vietnamese unless a caller said otherwise)."""
    return _LANG.get()


@contextmanager
def speaking(lang: str | None) -> Iterator[str]:
    """Word findings in `lang` (vi or en; anything else is Vietnamese) until the block ends."""
    chosen = lang if lang in LANGS else DEFAULT_LANG
    token = _LANG.set(chosen)
    try:
        yield chosen
    finally:
        _LANG.reset(token)


def say(text: str, /, **params: object) -> str:
    """`text` (the Vietnamese msgid) in the lint language, `{name}` fields filled.

    Always formatted, so a literal brace in a message is written `{{` / `}}` whether or not
    the message has fields (the catalogue holds it the same way in both languages)."""
    return translations(lint_lang()).gettext(text).format(**params)


def word(text: str) -> str:
    """A text marked with `N_` where it is kept (a table of reasons), in the lint language, as
    written: no fields are filled, so its braces are YAML examples, not placeholders."""
    return translations(lint_lang()).gettext(text)
