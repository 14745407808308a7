"""Numbers the Vietnamese way: thousands with dots, decimals with a comma (1.234; 47,04%).

Percentages are exact `Decimal`s with two places, rounded half up from exact fractions, so
the same figure prints the same in the page, the CSV, the JSON and the terminal.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

HUNDREDTH = Decimal("0.01")


def percent(part: int, whole: int) -> Decimal | None:
    """`part / whole` as a percentage with two decimals; None when there is no whole."""
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def shares(counts: list[int]) -> list[Decimal]:
    """Percentages of a whole that add up to exactly 100,00 (largest remainder method).

    Rounding each share on its own can give 99,99% or 100,01% in total, which readers of a
    published report take for an error; this hands the missing hundredths to the shares
    that lost most to rounding (the earlier one on a tie).
    """
    total = sum(counts)
    if total <= 0:
        return [Decimal("0.00") for _ in counts]
    units = [c * 10000 // total for c in counts]
    remainders = [c * 10000 % total for c in counts]
    missing = 10000 - sum(units)
    for i in sorted(range(len(counts)), key=lambda i: (-remainders[i], i))[:missing]:
        units[i] += 1
    return [(Decimal(u) / 100).quantize(HUNDREDTH) for u in units]


def fmt_int(value: int | None, lang: str = "vi") -> str:
    if value is None:
        return "–"
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "vi" else text


def fmt_decimal(value: Decimal | float | None, lang: str = "vi", places: int = 2) -> str:
    if value is None:
        return "–"
    text = f"{Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,}"
    if lang == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def fmt_percent(value: Decimal | None, lang: str = "vi") -> str:
    """47.04 -> `47,04%` (vi) or `47.04%` (en); no value -> a dash."""
    if value is None:
        return "–"
    return fmt_decimal(value, lang) + "%"
