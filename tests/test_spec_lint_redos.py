"""Linter rule: `pattern`s prone to catastrophic backtracking (ReDoS) are errors.

Every citizen's answer is matched against the spec's patterns with Python's backtracking
`re`, so `([A-Za-zÀ-ỹ]+ ?)+` lets one wrong 40-character name hang a worker for minutes.
tests/specs_bad/redos.yaml holds patterns as administrators write them; the shapes are
also shown one by one on the valid base spec.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from motcua.spec.lint import lint_file, lint_paths
from motcua.spec.redos import backtracking_problem
from tests.test_spec_lint import base, findings, line_of, one, write

#: The findings' English wording is what these tests hold (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english_findings")


BAD = Path(__file__).parent / "specs_bad" / "redos.yaml"
SPECS = Path(__file__).parent.parent / "procedure_specs"


def test_the_bad_spec_has_an_error_at_each_dangerous_pattern_and_none_at_the_safe_one():
    errors = [f for f in lint_file(BAD).findings if f.severity == "error"]
    assert [f.line for f in errors] == [line_of(BAD, "pattern: ^([A-Za-z"), line_of(BAD, "pattern: ^(\\d+[/-]?)*$"),
                                        line_of(BAD, "pattern: ^(\\w|\\s|\\w\\s)+$")]
    assert line_of(BAD, "pattern: ^[0-9]{12}$") not in [f.line for f in lint_file(BAD).findings]
    name = errors[0]
    assert name.col == len("            pattern: ") + 1
    assert "`form.fields.properties.applicant.properties.full_name.pattern`" in name.message
    assert "the part `([A-Za-zÀ-ỹ]+ ?)+` at character 2" in name.message
    assert "catastrophic backtracking" in name.message and "hang" in name.message
    assert [f for f in lint_file(BAD).findings if f.severity == "warning"] == []


@pytest.mark.parametrize("pattern, part, position", [
    ("^(a+)+$", "(a+)+", 2),                        # nested quantifier
    ("^(a*)*$", "(a*)*", 2),                        # a repeated part that can match nothing
    ("^(?:a?)+b", "(?:a?)+", 2),
    ("^(a|aa)+$", "(a|aa)+", 2),                    # overlapping alternatives
    ("^x(a|a)*y$", "(a|a)*", 3),
    ("^(\\w+|\\d+)+$", "(\\w+|\\d+)+", 2),
    ("^[0-9]{3}(\\d+-?)+$", "(\\d+-?)+", 10),       # an optional separator does not pin the split
    ("^(\\d?\\d)+$", "(\\d?\\d)+", 2),              # optional start, same end
    ("^(?i)(a|A+)+$".replace("^(?i)", "(?i)^"), "(a|A+)+", 6),
])
def test_each_dangerous_shape_is_an_error_at_its_character(tmp_path, pattern, part, position):
    data = base()
    data["form"]["fields"]["properties"]["applicant"]["properties"]["full_name"]["pattern"] = pattern
    path = write(tmp_path, data)
    finding = one(lint_file(path).findings)
    assert finding.line == line_of(path, "pattern:")
    assert f"the part `{part}` at character {position}" in finding.message, finding.message


@pytest.mark.parametrize("pattern", [
    "^[0-9]{6,19}$", "^[0-9]{12}$", "^(0|\\+84)[0-9]{9}$", "^\\d{3}(-\\d{3})*$", "^(\\d+-)+\\d$",
    "^(-\\d+)+$", "^(a|b)+$", "^(ab|ac)+$", "^(x|xy)+$", "^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$", "^([a-z]+ )*[a-z]+$",
    "^(\\d{1,3}\\.){3}\\d{1,3}$", "^(?>a+)+$", "^(a++)+$", "^(\\d+){2}$",
])
def test_safe_patterns_are_not_flagged(tmp_path, pattern):
    data = base()
    data["form"]["fields"]["properties"]["applicant"]["properties"]["full_name"]["pattern"] = pattern
    assert findings(tmp_path, data) == []


def test_pattern_properties_keys_and_nested_schemas_are_checked(tmp_path):
    data = base()
    data["form"]["fields"]["properties"]["extra"] = {
        "type": "object", "title": "Thêm", "patternProperties": {"^(x+)+$": {"type": "string"}},
        "properties": {"items": {"type": "array", "items": {"type": "string", "pattern": "^(b*)*$"}}},
    }
    data["form"]["pages"][1]["fields"].append("extra")
    path = write(tmp_path, data)
    errors = [f for f in lint_file(path).findings if f.severity == "error"]
    # patternProperties is also refused as something the form cannot show (issue 16); the
    # key is still checked for backtracking, since the answers are matched against it
    assert len(errors) == 3, "\n".join(map(str, errors))
    assert any("`patternProperties` cannot be shown in the form" in f.message for f in errors)
    assert any("key `^(x+)+$`" in f.message and f.line == line_of(path, "^(x+)+$") for f in errors)
    assert any("`form.fields.properties.extra.properties.items.items.pattern`" in f.message for f in errors)


def test_position_is_found_even_past_escapes_and_classes():
    problem = backtracking_problem(r"^[(]\((\)+)+$")
    assert problem is not None and problem.position == 6 and problem.snippet == r"(\)+)+"
    assert backtracking_problem("([") is None  # not a regex at all: another rule says so


def test_the_real_specs_stay_clean():
    loaded = lint_paths([SPECS])
    assert len(loaded) >= 10
    assert [str(f) for spec in loaded for f in spec.findings if f.severity == "error"] == []
