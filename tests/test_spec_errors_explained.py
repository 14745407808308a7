"""YAML and field errors explained in the author's terms (issue 16): a comma in unquoted text
inside `{...}` says "put the text in quotes" with the fix, a tab or a wrong indentation says
so, "did you mean" for a field path is a close typo in the same object (never a different
field), and a pattern error shows an answer of the right form."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from motcua.spec.lint import lint_file
from motcua.submission import validate
from motcua.spec.model import ProcedureSpec

#: The findings' English wording is what these tests hold (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english_findings")


BASE = Path(__file__).parent / "specs_bad" / "base.yaml"


def _errors(path: Path) -> list:
    return [f for f in lint_file(path).findings if f.severity == "error"]


def _with_line(tmp_path: Path, old: str, new: str) -> Path:
    text = BASE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "spec.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_comma_in_unquoted_text_says_put_it_in_quotes_with_the_fix(tmp_path: Path) -> None:
    text = BASE.read_text(encoding="utf-8")
    name_line = next(line for line in text.splitlines() if line.startswith("name:"))
    path = _with_line(tmp_path, name_line, "name: {vi: Bản án, quyết định của Tòa án, en: Judgments, decisions}")
    (error,) = _errors(path)
    assert error.line == text.splitlines().index(name_line) + 1 and error.col == len("name: {vi: ") + 1
    assert "put the text in quotes" in error.message
    assert '`{vi: "Bản án, quyết định của Tòa án", en: "Judgments, decisions"}`' in error.message
    # the fix it shows is right: pasted in, the spec is clean
    fixed = error.message.rsplit("`{", 1)[1].rstrip("`")
    path.write_text(path.read_text(encoding="utf-8").replace("{vi: Bản án, quyết định của Tòa án, en: Judgments, decisions}", "{" + fixed), encoding="utf-8")
    loaded = lint_file(path)
    assert loaded.ok and loaded.spec.name == {"vi": "Bản án, quyết định của Tòa án", "en": "Judgments, decisions"}


def test_a_mapping_written_with_commas_on_purpose_is_not_flagged(tmp_path: Path) -> None:
    assert lint_file(BASE).ok  # base.yaml has many `{a: x, b: y}` mappings


def test_a_tab_says_so(tmp_path: Path) -> None:
    path = _with_line(tmp_path, "  result:", "\tresult:")
    (error,) = _errors(path)
    assert "tab" in error.message and "spaces" in error.message


def test_a_line_indented_more_than_the_one_above_says_so(tmp_path: Path) -> None:
    text = BASE.read_text(encoding="utf-8")
    lines = text.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("  result:"))
    following = lines[index + 1]
    assert following.startswith("  ") and not following.startswith("   ")
    path = _with_line(tmp_path, lines[index] + "\n" + following, lines[index] + "\n " + following)
    (error,) = _errors(path)
    assert error.line == index + 2
    assert "indented more than the line above" in error.message and "by 2 spaces" in error.message


@pytest.mark.parametrize(
    "wrong, expected",
    [
        ("applicant.mobile", "`applicant` has the fields `full_name`, `phone`, `cccd`"),  # not a typo of any field
        ("applicant.phon", "did you mean `applicant.phone`?"),
        ("aplicant.phone", "did you mean `applicant.phone`?"),
        ("applicant.fullname", "did you mean `applicant.full_name`?"),
    ],
)
def test_did_you_mean_for_a_field_path_is_a_close_typo_in_the_same_object(tmp_path: Path, wrong: str, expected: str) -> None:
    data = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    data["form"]["contact"]["phone"] = wrong
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (error,) = _errors(path)
    assert expected in error.message, error.message
    if "has the fields" in expected:
        assert "did you mean" not in error.message


def _spec(node: dict) -> ProcedureSpec:
    data = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    data["form"]["fields"]["properties"]["permit"] = node
    return ProcedureSpec.model_validate(data)


def _answers() -> dict:
    return {"applicant": {"full_name": "Nguyễn An", "phone": "0912345678"}, "copies": 1}


def test_a_pattern_error_shows_an_example_of_the_right_form() -> None:
    spec = _spec({"type": "string", "title": "Số giấy phép", "pattern": "^GP-[0-9]{4}$", "examples": ["GP-0123"]})
    errors = validate(spec, {**_answers(), "permit": "123"})
    assert errors["permit"] == "Số giấy phép không đúng định dạng, ví dụ: GP-0123"
    assert validate(spec, {**_answers(), "permit": "123"}, "en")["permit"] == "Số giấy phép is not in the right format, e.g. GP-0123"
    # an example that does not match the pattern is never shown; the format's is
    spec = _spec({"type": "string", "title": "Số điện thoại bàn", "pattern": "^09", "format": "vn-mobile", "examples": ["028 1234"]})
    assert validate(spec, {**_answers(), "permit": "0321234567"})["permit"] == "Số điện thoại bàn không đúng định dạng, ví dụ: 0912345678"
    # no example to give: the plain message
    spec = _spec({"type": "string", "title": "Mã", "pattern": "^[A-Z]+$"})
    assert validate(spec, {**_answers(), "permit": "abc"})["permit"] == "Mã không đúng định dạng"
