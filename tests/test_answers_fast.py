"""The compiled check never calls valid what the full validation refuses (motcua.answers_fast)."""

from __future__ import annotations

import json

import pytest

from motcua.answer_limits import bounded_validator
from motcua.answers_fast import fast_validator, surely_valid
from motcua.formats import format_checker

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["name", "cccd"],
    "properties": {
        "name": {"type": "string", "minLength": 2},
        "cccd": {"type": "string", "format": "cccd"},
        "code": {"type": "string", "pattern": "^[0-9]{3}$", "maxLength": 3},
        "note": {"type": "string", "pattern": "^[a-z ]+$"},
        "born": {"type": "string", "format": "date"},
        "count": {"type": "integer", "minimum": 0},
        "has_job": {"type": "boolean"},
        "job": {"type": "string"},
    },
    "if": {"properties": {"has_job": {"const": True}}, "required": ["has_job"]},
    "then": {"required": ["job"]},
    "additionalProperties": False,
}
TEXT = json.dumps(SCHEMA, sort_keys=True)
VALID = {"name": "Lê Hoa", "cccd": "079190012345", "code": "123", "note": "abc", "born": "2020-02-29", "count": 3,
         "has_job": True, "job": "giáo viên"}


def full_valid(answers) -> bool:
    return not list(bounded_validator(SCHEMA, format_checker=format_checker()).iter_errors(answers))


CASES = [
    {},
    {"has_job": False},
    {"has_job": True, "job": None},
    {"job": None, "has_job": True, "count": None},
    {"has_job": True},  # the condition: job required
    {"cccd": "12"},  # a Vietnamese format, checked by motcua.formats
    {"cccd": "079190012345\n"},
    {"code": "123\n"},  # Python's `$` matches before a final newline; ECMA's does not
    {"code": "١٢٣"},  # Arabic-Indic digits: `[0-9]` is ASCII in both
    {"code": "1234"},
    {"note": "a" * 2001},  # past the platform's cap: maxLength fails it, the pattern never runs
    {"note": "ABC"},
    {"born": "2021-02-29"},
    {"born": "29/02/2020"},
    {"count": 1.0},
    {"count": True},
    {"count": -1},
    {"name": "H"},
    {"extra": 1},
]


@pytest.mark.parametrize("change", CASES, ids=[json.dumps(c, ensure_ascii=False) for c in CASES])
def test_the_compiled_check_agrees_or_defers(change):
    answers = {**VALID, **change}
    if surely_valid(TEXT, answers):
        assert full_valid(answers), "the compiled check passed answers the full validation refuses"
    else:
        assert not full_valid(answers), "valid answers sent through the full validation"


def test_valid_answers_pass_the_compiled_check_without_the_full_validation():
    assert fast_validator(TEXT) is not None
    assert surely_valid(TEXT, VALID) and full_valid(VALID)


def test_a_schema_the_compiled_check_cannot_take_leaves_the_full_validation_alone():
    text = json.dumps({"type": "string", "pattern": "(?<=a)b", "format": "cccd"})  # a Python-only lookbehind is fine
    assert surely_valid(text, "x") in (True, False)
    broken = json.dumps({"type": "object", "properties": {"a": {"$ref": "#/nowhere"}}})
    assert fast_validator(broken) is None and surely_valid(broken, {"a": 1}) is False
