"""VND amounts in a spec are whole numbers; `8.000` (Vietnamese thousands) is caught, not read as 8.

Each test writes tests/specs_bad/base.yaml with one amount changed *as text* (yaml.safe_dump
would write the float 8.0 as `8.0`, not as the administrator typed it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from motcua.spec.lint import lint_file
from motcua.spec.model import Delivery, FeeRule, FeeTier
from motcua.spec.money import in_words

#: The findings' English wording is what these tests hold (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english_findings")


BASE = Path(__file__).parent / "specs_bad" / "base.yaml"


def written(tmp_path: Path, old: str, new: str) -> Path:
    text = BASE.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / "spec.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def errors(path: Path) -> list[str]:
    return [str(f) for f in lint_file(path).findings if f.severity == "error"]


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_dotted_thousands_fee_is_an_error_saying_what_to_write(tmp_path):
    path = written(tmp_path, "    amount: 5000\n", "    amount: 8.000\n")
    line = line_of(path, "amount: 8.000")
    assert errors(path) == [
        f'{path}:{line}:13: error: "8.000" is read as 8 VND; write 8000 (without the dot) for eight thousand dong'
    ]
    assert not lint_file(path).ok


def test_two_dots_are_text_to_yaml(tmp_path):
    path = written(tmp_path, "    amount: 5000\n", "    amount: 1.200.000\n")
    (message,) = errors(path)
    assert message.endswith('error: "1.200.000" is read as a text, not an amount; write 1200000 (without the dots) '
                            "for one million two hundred thousand dong")


def test_comma_grouping_is_caught_too(tmp_path):
    path = written(tmp_path, "    amount: 5000\n", "    amount: 25,000\n")
    (message,) = errors(path)
    assert '"25,000" is read as a text, not an amount; write 25000 (without the comma) for twenty-five thousand dong' in message


def test_postal_charge_max_amount_and_tier_amounts_are_checked(tmp_path):
    path = written(tmp_path, "    amount: 5000\n", "    amount: 5000\n    max_amount: 200.000\n    tiers:\n"
                                                     "      - {from_unit: 3, amount: 2.500}\n")
    found = errors(path)
    assert any('"200.000" is read as 200 VND; write 200000' in m for m in found), found
    assert any('"2.500" is read as 2.5 VND; write 2500 (without the dot) for two thousand five hundred dong' in m
               for m in found), found
    assert len(found) == 2, found  # the generic "should be a whole number" is not repeated

    path = written(tmp_path, "delivery:\n  - kind: desk\n", "delivery:\n  - kind: desk\n  - kind: postal\n    postal_charge: 25.000\n")
    assert any('"25.000" is read as 25 VND; write 25000' in m for m in errors(path))


def test_a_decimal_amount_is_refused_by_the_model(tmp_path):
    path = written(tmp_path, "    amount: 5000\n", "    amount: 8.5\n")
    (message,) = errors(path)
    assert "`fees[0].amount` should be a whole number, but it is the number 8.5" in message
    with pytest.raises(ValidationError):
        FeeRule.model_validate({"id": "x", "kind": "fee", "name": "Phí", "amount": 8.0})
    with pytest.raises(ValidationError):
        FeeTier.model_validate({"from_unit": 2, "amount": 8.0})
    with pytest.raises(ValidationError):
        Delivery.model_validate({"kind": "postal", "postal_charge": 25.0})
    assert FeeRule.model_validate({"id": "x", "kind": "fee", "name": "Phí", "amount": 8000}).amount == 8000


def test_grouped_numbers_elsewhere_are_not_money(tmp_path):
    # units, not dong: the model's own message, no "dong"
    path = written(tmp_path, "    amount: 5000\n", "    amount: 5000\n    free_units: 1.000.000\n")
    (message,) = errors(path)
    assert '`fees[0].free_units` should be a whole number, but it is the text "1.000.000"' in message
    assert "dong" not in message


def test_numbers_in_words():
    assert in_words(8000) == "eight thousand"
    assert in_words(1_200_000) == "one million two hundred thousand"
    assert in_words(135_000) == "one hundred thirty-five thousand"
    assert in_words(2_000_000_015) == "two billion fifteen"
