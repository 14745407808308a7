"""CSV for spreadsheets without formula injection: every CSV the platform exports (the
register of form 06, the statistics tables) is written through `writer` here, so a cell a
citizen typed (a name `=HYPERLINK(...)`) opens in Excel or LibreOffice as text, not as a
live formula.

A text cell starting with = + - @, a TAB or a CR is prefixed with a single quote (the OWASP
advice); numbers stay numbers. Hand-written rather than `defusedcsv`: that library leaves a
leading TAB/CR as it is and rewrites every `|` in the text, changing what staff exported.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

#: The first characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` as a spreadsheet shows it as text: a string starting like a formula gets a
    leading single quote; anything else (numbers, None, dates) is left to csv as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """A csv writer whose every cell went through `safe_cell`."""

    def __init__(self, out: Any, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: Any, **options: Any) -> SafeWriter:
    """Like `csv.writer(out, **options)`, neutralising formula-like cells: the one way the
    platform writes CSV for people to open."""
    return SafeWriter(out, **options)
