"""The linter names places in plain words, and takes the level as the decree writes it."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from motcua.spec.lint import lint_file
from motcua.spec.model import Level, ProcedureSpec

#: The findings' English wording is what these tests hold (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english_findings")


BASE = Path(__file__).parent / "specs_bad" / "base.yaml"


def base() -> dict:
    return copy.deepcopy(yaml.safe_load(BASE.read_text(encoding="utf-8")))


def messages(tmp_path: Path, data: dict) -> list[str]:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return [f.message for f in lint_file(path).findings]


def test_a_missing_top_level_key_says_the_spec_without_code_quotes(tmp_path):
    data = base()
    del data["sector"]
    assert messages(tmp_path, data) == ["the spec needs the key `sector`, which is missing"]


def test_a_missing_nested_key_names_its_parent_in_code_quotes(tmp_path):
    data = base()
    del data["info"]["processing_time"]["working_days"]
    found = messages(tmp_path, data)
    assert "`info.processing_time` needs the key `working_days`, which is missing" in found
    assert not any("`the spec`" in m for m in found)


def test_an_unknown_top_level_key_is_in_the_spec(tmp_path):
    data = base()
    data["sectr"] = "x"
    (message,) = messages(tmp_path, data)
    assert message.startswith("unknown key `sectr` in the spec; did you mean `sector`?")


def test_a_step_config_missing_key_says_the_config(tmp_path):
    from motcua.spec.loader import explain
    from pydantic import BaseModel, ValidationError

    class Config(BaseModel):
        mode: str

    with pytest.raises(ValidationError) as exc:
        Config.model_validate({})
    _, _, message = explain(exc.value.errors()[0], root=Config)
    assert message == "the config needs the key `mode`, which is missing"


@pytest.mark.parametrize("written, level", [
    ("mức độ 3", Level.PARTIAL), ("Mức độ 4", Level.FULL), ("muc do 3", Level.PARTIAL), ("mức độ 2", Level.FORMS),
    ("mức  độ 1", Level.INFO), ("mu\u031b\u0301c \u0111o\u0302\u0323 3", Level.PARTIAL),  # decomposed diacritics
    ("3", Level.PARTIAL), ("full", Level.FULL), (4, Level.FULL),
])
def test_level_as_the_decree_writes_it(written, level):
    data = base()
    data["level"] = written
    assert ProcedureSpec.model_validate(data).level == level


def test_mức_độ_3_lints_clean_and_mức_độ_5_is_refused(tmp_path):
    data = base()
    data["level"] = "mức độ 4"  # base.yaml is a level-4 spec
    assert messages(tmp_path, data) == []
    data["level"] = "mức độ 5"
    (message,) = messages(tmp_path, data)
    assert message.startswith("`level` should be one of 1, 2, 3, 4")
    assert "mức độ 1 to 4" in message
