"""Money written the Vietnamese way: `8.000` for eight thousand dong.

Vietnamese groups thousands with dots, so an administrator writes `amount: 8.000`. YAML reads
that as the float 8.0 (and `1.200.000` as a text), and the fee would silently become 8 VND.
The model takes only whole numbers for VND amounts; this check looks at how each amount was
written (the loader keeps the text of unquoted numbers) and says what was meant, in place of
the generic "should be a whole number".
"""

from __future__ import annotations

import re
from typing import Any

from motcua.i18n import N_, money
from motcua.spec.loader import Loaded, Loc, annotation_at
from motcua.spec.words import lint_lang, say, word
from motcua.spec.model import Delivery, FeeRule, FeeTier

#: The VND amounts of a spec: the fields, by the model that holds them.
MONEY_FIELDS: dict[type, frozenset[str]] = {
    FeeRule: frozenset({"amount", "max_amount"}),
    FeeTier: frozenset({"amount"}),
    Delivery: frozenset({"postal_charge"}),
}
#: 1 to 3 digits, then groups of three after one same separator: 8.000, 1.200.000, 25,000.
GROUPED = re.compile(r"[0-9]{1,3}(?P<sep>[.,])[0-9]{3}(?:(?P=sep)[0-9]{3})*")
#: The separator a grouped amount was written with (one or several), in words.
SEPARATORS = {(".", False): N_("dấu chấm"), (".", True): N_("các dấu chấm"),
              (",", False): N_("dấu phẩy"), (",", True): N_("các dấu phẩy")}


def grouped_amounts(loaded: Loaded) -> list[Loc]:
    """Add an error for each VND amount written with thousands separators; their locations."""
    found: list[Loc] = []
    for loc, text in loaded.source.plain.items():
        match = GROUPED.fullmatch(text)
        if not match or not loc or not isinstance(loc[-1], str):
            continue
        owner = annotation_at(loc[:-1])
        if loc[-1] not in MONEY_FIELDS.get(owner, frozenset()):  # type: ignore[call-overload]
            continue
        meant = int(re.sub(r"[.,]", "", text))
        several = text.count(match.group("sep")) > 1
        sep = word(SEPARATORS[(match.group("sep"), several)])
        value = _value_at(loaded.data, loc)
        read = say("{amount} đồng", amount=format(value, "g")) if isinstance(value, float) else say("một đoạn văn bản, không phải số tiền")
        amount = money(meant, "vi") if lint_lang() == "vi" else f"{in_words(meant)} dong"
        loaded.at(loc, "error", say('"{text}" được đọc là {read}; hãy viết {meant} (không có {sep}) để được {amount}',
                                    text=text, read=read, meant=meant, sep=sep, amount=amount))
        found.append(loc)
    return found


def _value_at(data: Any, loc: Loc) -> Any:
    for part in loc:
        data = data[part]
    return data


_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
         "seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))


def in_words(n: int) -> str:
    """8000 -> "eight thousand", 1200000 -> "one million two hundred thousand"."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("-" + _ONES[n % 10] if n % 10 else "")
    if n < 1000:
        return _ONES[n // 100] + " hundred" + (" " + in_words(n % 100) if n % 100 else "")
    for scale, name in _SCALES:
        if n >= scale:
            return in_words(n // scale) + " " + name + (" " + in_words(n % scale) if n % scale else "")
    raise AssertionError("unreachable")
