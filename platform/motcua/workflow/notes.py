"""Event notes written in the reader's language when shown, not in the recorder's when stored.

A note a person typed (a clerk's reason, a citizen's supplement note) is plain text, shown as
is in every locale. A note the system writes is a *message*: a `{vi, en}` template (or a
Vietnamese msgid of the gettext catalogue, marked with `N_()` where it is written) and the
values it names, kept on the event (`Event.message`) and rendered when the timeline is
shown, so an amount reads `115.000 ₫` to a Vietnamese reader and `VND 115,000` to an English
one. The Vietnamese
rendering is also stored in `Event.note`, for readers that know nothing of messages (SMS,
search, old code).

    from motcua.workflow.notes import message, money
    ctx.move("request_payment", note=message({"vi": "Phí, lệ phí phải nộp: {amount}.",
                                               "en": "Fees to pay: {amount}."}, amount=money(115000)))
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any, Union

from motcua import i18n
from motcua.spec.model import localize

log = logging.getLogger(__name__)

#: What `ctx.record(note=...)` takes: typed text, `{vi, en}` text, or a `message(...)`.
NoteLike = Union[str, dict, None]


def message(text: str | dict[str, str], **args: Any) -> dict[str, Any]:
    """A note rendered at display time: `text` is `{vi, en}` (or a Vietnamese catalogue key)
    with `{name}` fields; each arg is a str / number shown as is, or `money()`, `day()`,
    `words()` for values written the reader's way."""
    return {"text": text, "args": {name: _plain(value) for name, value in args.items()}}


def money(amount: int) -> dict[str, int]:
    """An amount in VND: `115.000 ₫` / `VND 115,000` (i18n.money)."""
    return {"money": int(amount)}


def day(value: date | str) -> dict[str, str]:
    """A date, written the reader's way (i18n.format_date)."""
    return {"date": value.isoformat() if isinstance(value, date) else str(value)}


def words(text: str | dict[str, str]) -> dict[str, Any]:
    """A piece of text that itself has a Vietnamese and an English form."""
    return {"text": text}


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, dict)) or value is None:
        return value
    if isinstance(value, date):
        return day(value)
    return str(value)


def split(note: NoteLike) -> tuple[str | None, dict[str, Any] | None]:
    """What an event stores for a note: (Vietnamese text, message or None for plain text)."""
    if note is None or isinstance(note, str):
        return note, None
    if not isinstance(note, dict):
        raise TypeError(f"a note is text, {{vi, en}} or message(...), not {type(note).__name__}")
    msg = note if "text" in note else message(note)  # a bare {vi, en} is a message without fields
    if not isinstance(msg["text"], (str, dict)) or (isinstance(msg["text"], dict) and not msg["text"].get("vi")):
        raise ValueError("a note's text needs its Vietnamese form (vi)")
    return render(msg, "vi"), msg


def _template(text: str | dict[str, str], lang: str) -> str:
    if isinstance(text, dict):
        return localize(text, lang)
    from motcua.i18n import t  # lazy: i18n's users import this module early

    return t(text, lang)


def _value(value: Any, lang: str) -> str:
    if isinstance(value, dict):
        if "money" in value:
            return i18n.money(int(value["money"] or 0), lang)
        if "date" in value:
            try:
                return i18n.format_date(date.fromisoformat(str(value["date"])), lang)
            except ValueError:
                return str(value["date"])
        if "text" in value:
            return _template(value["text"], lang)
        return localize(value, lang)  # a bare {vi, en}
    return "" if value is None else str(value)


def render(msg: dict[str, Any] | None, lang: str = "vi") -> str:
    """The message in `lang` (Vietnamese when it has no such form); never raises."""
    if not msg:
        return ""
    template = _template(msg.get("text") or "", lang)
    args = {name: _value(value, lang) for name, value in (msg.get("args") or {}).items()}
    try:
        return template.format(**args)
    except (KeyError, IndexError, ValueError, AttributeError):  # a template naming a field it was not given
        log.warning("note template %r does not match its fields %s", template, sorted(args))
        return template
