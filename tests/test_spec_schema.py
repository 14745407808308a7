"""The shipped specs, the editor schema and a spec's round trip through every form it takes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from motcua.catalogue import snapshot, spec_files, spec_of
from motcua.formats import format_checker
from motcua.spec.cli import editor_schema, editor_schema_text
from motcua.spec.lint import lint_file
from motcua.spec.loader import load_file
from motcua.spec.model import ProcedureSpec
from motcua.submission import submission_schema

REPO = Path(__file__).resolve().parent.parent
SPECS = REPO / "procedure_specs"
SHIPPED = spec_files(SPECS)
BASE = Path(__file__).parent / "specs_bad" / "base.yaml"


def test_committed_schema_is_up_to_date():
    committed = (SPECS / "schema.json").read_text(encoding="utf-8")
    assert committed == editor_schema_text(), (
        "procedure_specs/schema.json is stale (the spec model changed); regenerate it with "
        "`motcua schema -o procedure_specs/schema.json` and commit it"
    )


def test_editor_schema_is_json_schema_with_title_and_id():
    schema = editor_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["title"] and schema["$id"]
    assert "code" in schema["properties"] and "level" in schema["required"]


@pytest.mark.parametrize("path", SHIPPED + [BASE], ids=lambda p: p.name)
def test_editor_schema_accepts_every_valid_spec(path):
    """An editor must not underline a spec the platform accepts."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [e.message for e in Draft202012Validator(editor_schema()).iter_errors(data)]
    assert errors == []


def test_editor_schema_flags_what_the_linter_rejects():
    data = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    data["performed_by"]["tire"] = "commune"
    data["info"]["processing_time"]["working_days"] = "ba"
    messages = [e.message for e in Draft202012Validator(editor_schema()).iter_errors(data)]
    assert any("tire" in m for m in messages)
    assert any("'ba'" in m for m in messages)


def test_there_are_shipped_specs():
    assert len(SHIPPED) >= 1


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(SPECS)))
def test_every_shipped_spec_lints_clean(path):
    loaded = lint_file(path)
    assert [str(f) for f in loaded.findings] == []
    assert loaded.ok


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(SPECS)))
def test_shipped_specs_start_with_the_editor_modeline(path):
    assert path.read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=")
    target = path.read_text(encoding="utf-8").splitlines()[0].split("$schema=", 1)[1].strip()
    assert (path.parent / target).resolve() == (SPECS / "schema.json").resolve()


@pytest.mark.parametrize("path", SHIPPED + [BASE], ids=lambda p: p.name)
def test_round_trip_through_the_model_and_the_store(app, path):
    """load -> model -> JSON (a dossier's snapshot) -> model: nothing lost or changed."""
    spec = load_file(path).spec
    assert spec is not None
    dumped = json.loads(json.dumps(spec.model_dump(mode="json", by_alias=True)))
    assert ProcedureSpec.model_validate(dumped) == spec
    store = app.extensions["motcua"].store
    snapshot(store, spec)
    assert spec_of(store, spec.key) == spec


def test_round_trip_to_the_submission_schema():
    """A spec's form becomes the JSON Schema answers are checked against."""
    spec = load_file(BASE).spec
    assert spec is not None
    schema = submission_schema(spec)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=format_checker())
    good = {"applicant": {"full_name": "Nguyễn Văn An", "phone": "0912345678"}, "purpose": "lam_viec", "copies": 2}
    assert list(validator.iter_errors(good)) == []
    bad = {"applicant": {"full_name": "Nguyễn Văn An", "phone": "12345"}, "purpose": "du_lich", "copies": "hai"}
    failed = {tuple(e.absolute_path) for e in validator.iter_errors(bad)}
    assert failed == {("applicant", "phone"), ("purpose",), ("copies",)}


def test_the_example_in_the_guide_lints_clean(tmp_path):
    guide = (REPO / "docs" / "specs.md").read_text(encoding="utf-8")
    example = guide.split("## A small example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.yaml"
    path.write_text(example, encoding="utf-8")
    assert [str(f) for f in lint_file(path).findings] == []
