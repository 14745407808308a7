"""Text answers are bounded before any `pattern` runs over them.

A text field without `maxLength` gets the platform cap (MAX_TEXT_CHARS) at validation, with
the citizen's "too long" message; a pattern is never run over a text longer than its field
allows, so even a pattern the linter would refuse cannot be fed a huge answer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from motcua import submission
from motcua.answer_limits import MAX_TEXT_CHARS, capped
from motcua.spec.model import ProcedureSpec
from tests.test_api_portal import ANSWERS, body
from tests.portal_helpers import BIRTH_CODE

BASE = Path(__file__).parent / "specs_bad" / "base.yaml"
GOOD = {"applicant": {"full_name": "Nguyễn Văn An", "phone": "0912345678"}, "copies": 1}


def spec_with(**full_name_schema) -> ProcedureSpec:
    data = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    data["form"]["fields"]["properties"]["applicant"]["properties"]["full_name"].update(full_name_schema)
    return ProcedureSpec.model_validate(data)


def answers(name: str) -> dict:
    return {**GOOD, "applicant": {**GOOD["applicant"], "full_name": name}}


@pytest.fixture
def searches(monkeypatch):
    """Every text a schema `pattern` is run over (answer_limits compiles it, ECMA-262 style)."""
    seen: list[str] = []

    from motcua import answer_limits

    class Spy:
        def __init__(self, compiled):  # noqa: ANN001
            self.compiled = compiled

        def search(self, text, *args):  # noqa: ANN001, ANN201
            seen.append(text)
            return self.compiled.search(text, *args)

    real = answer_limits.ecma_pattern
    monkeypatch.setattr(answer_limits, "ecma_pattern", lambda pattern: Spy(real(pattern)))
    return seen


def test_a_text_field_without_max_length_gets_the_platform_cap():
    spec = spec_with()
    assert submission.validate(spec, answers("A" * MAX_TEXT_CHARS)) == {}
    errors = submission.validate(spec, answers("A" * (MAX_TEXT_CHARS + 1)))
    assert errors == {"applicant.full_name": f"Họ và tên không được dài quá {MAX_TEXT_CHARS} ký tự"}
    english = submission.validate(spec, answers("A" * (MAX_TEXT_CHARS + 1)), lang="en")
    assert str(MAX_TEXT_CHARS) in english["applicant.full_name"]


def test_the_specs_own_max_length_is_kept():
    spec = spec_with(maxLength=100)
    assert "100" in submission.validate(spec, answers("A" * 101))["applicant.full_name"]
    assert submission.validate(spec, answers("A" * 100)) == {}


def test_a_pattern_never_runs_over_a_text_longer_than_allowed(searches):
    # a pattern the linter refuses (nested quantifier), as if a spec slipped past it
    spec = spec_with(pattern="^(A+)+$")
    long_wrong = "A" * 50_000 + "!"
    errors = submission.validate(spec, answers(long_wrong))
    assert errors == {"applicant.full_name": f"Họ và tên không được dài quá {MAX_TEXT_CHARS} ký tự"}
    assert long_wrong not in searches and all(len(t) <= MAX_TEXT_CHARS for t in searches)
    # within the length, the pattern still does its job
    assert submission.validate(spec, answers("AAAA")) == {}
    assert submission.validate(spec, answers("AB"))["applicant.full_name"] == "Họ và tên không đúng định dạng"
    assert "AB" in searches


def test_the_cap_reaches_nested_and_repeated_fields_but_not_conditions():
    schema = {
        "type": "object",
        "properties": {
            "people": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
            "kind": {"type": ["string", "null"]},
            "count": {"type": "integer"},
            "short": {"type": "string", "maxLength": 10},
        },
        "if": {"properties": {"kind": {"type": "string"}}},
        "then": {"properties": {"note": {"type": "string"}}},
    }
    out = capped(schema)
    assert out["properties"]["people"]["items"]["properties"]["name"]["maxLength"] == MAX_TEXT_CHARS
    assert out["properties"]["kind"]["maxLength"] == MAX_TEXT_CHARS
    assert "maxLength" not in out["properties"]["count"] and out["properties"]["short"]["maxLength"] == 10
    assert out["then"]["properties"]["note"]["maxLength"] == MAX_TEXT_CHARS
    assert "maxLength" not in out["if"]["properties"]["kind"]  # a cap would change the condition
    assert "maxLength" not in schema["properties"]["people"]["items"]["properties"]["name"]  # a copy


def test_the_api_answers_an_overlong_text_with_422_and_publishes_the_cap(client):
    published = client.get(f"/api/v1/procedures/{BIRTH_CODE}").get_json()["submission_schema"]
    spec = client.application.extensions["motcua"].catalogue.get(BIRTH_CODE)
    group, field = _uncapped_text_field(spec.form.fields)
    # what is enforced is published (issue 10): the platform's cap is in the served schema
    assert published["properties"][group]["properties"][field]["maxLength"] == MAX_TEXT_CHARS
    long_answers = {**ANSWERS, group: {**ANSWERS[group], field: "x" * (MAX_TEXT_CHARS + 1)}}
    response = client.post(f"/api/v1/procedures/{BIRTH_CODE}/dossiers", json=body(answers=long_answers))
    assert response.status_code == 422
    messages = [e["message"] for e in response.get_json()["errors"]]
    assert any(f"không được dài quá {MAX_TEXT_CHARS} ký tự" in m for m in messages), messages


def _uncapped_text_field(schema: dict) -> tuple[str, str]:
    """A free-text field of the birth spec that has no maxLength of its own."""
    for name, sub in schema["properties"].items():
        if sub.get("type") == "object" and isinstance(ANSWERS.get(name), dict):
            for inner, leaf in (sub.get("properties") or {}).items():
                if leaf.get("type") == "string" and not {"maxLength", "enum", "format", "pattern"} & set(leaf):
                    return name, inner
    raise AssertionError("no uncapped text field in the birth spec")
