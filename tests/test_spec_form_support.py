"""Valid JSON Schema the form cannot show is a lint error with the place and what to write
instead; the editor schema types `form.fields` with the same one list (issue 16)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from motcua.catalogue import spec_files
from motcua.spec.cli import editor_schema
from motcua.spec.form_support import SUPPORTED, UNSUPPORTED, if_condition
from motcua.spec.lint import lint_file
from motcua_renderers.schema import show_conditions

#: The findings' English wording is what these tests hold (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english_findings")


REPO = Path(__file__).resolve().parent.parent
BASE = Path(__file__).parent / "specs_bad" / "base.yaml"
SHIPPED = spec_files(REPO / "procedure_specs")
PERSON = {"type": "object", "properties": {"full_name": {"type": "string"}}}

#: construct name -> (change to `form.fields.properties`, the key whose line is reported, words of the advice)
CASES: dict[str, tuple[dict[str, Any], str, str]] = {
    "$ref": ({"mother": {"$ref": "#/$defs/person"}}, "$ref", "YAML anchor"),
    "$defs": ({"mother": {"type": "object", "$defs": {"person": PERSON}, "properties": {"x": {"type": "string"}}}}, "$defs", "in place"),
    "oneOf of schemas": ({"proof": {"oneOf": [PERSON, {"type": "string"}]}}, "oneOf", "`enum`"),
    "anyOf": ({"proof": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}, "anyOf", "`enum`"),
    "not": ({"age": {"type": "integer", "not": {"const": 3}}}, "not", "`enum`"),
    "patternProperties": ({"extra": {"type": "object", "patternProperties": {"^a": {"type": "string"}}}}, "patternProperties", "under `properties`"),
    "additionalProperties schema": ({"extra": {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "string"}}}, "additionalProperties", "`false`"),
    "prefixItems (tuple items)": ({"pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]}}, "prefixItems", "one schema"),
    "items: false": ({"pair": {"type": "array", "items": False}}, "items", "one schema"),
    "contains": ({"pair": {"type": "array", "items": {"type": "string"}, "contains": {"const": "a"}}}, "contains", "`minItems`"),
    "dependentRequired": ({"extra": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "dependentRequired": {"a": ["b"]}}}, "dependentRequired", "then: {required"),
    "two types": ({"code": {"type": ["string", "integer"]}}, "type", "one type"),
    "if on a pattern": ({"extra": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                                   "if": {"properties": {"a": {"pattern": "^x"}}}, "then": {"required": ["b"]}}}, "if", "`if: {properties: {field: {const: value}}}`"),
    "if on required only": ({"extra": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                                       "if": {"required": ["a"]}, "then": {"required": ["b"]}}}, "if", "{const: value}"),
    "field declared only under then": ({"extra": {"type": "object", "properties": {"a": {"type": "boolean"}},
                                                  "if": {"properties": {"a": {"const": True}}}, "then": {"properties": {"b": {"type": "string"}}}}}, "b", "declare it under this object's `properties`"),
    "allOf with fields": ({"extra": {"type": "object", "allOf": [{"properties": {"a": {"type": "string"}}}]}}, "properties", "only `if`/`then`/`else`"),
    "contentMediaType": ({"scan": {"type": "string", "contentMediaType": "image/png"}}, "contentMediaType", "`attachments`"),
    # the form joins names with dots and reads `*` as every item: such a name had no place
    "a name with a dot": ({"noi.o": {"type": "string"}}, "noi.o", "underscores"),
    "a name with a star": ({"con*": {"type": "string"}}, "con*", "underscores"),
}


def _spec_with(props: dict[str, Any]) -> dict[str, Any]:
    data = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    data["form"]["fields"]["properties"].update(copy.deepcopy(props))
    return data


@pytest.mark.parametrize("name", list(CASES))
def test_unrenderable_construct_is_an_error_with_its_line_and_what_to_write(tmp_path: Path, name: str) -> None:
    props, key, advice = CASES[name]
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(_spec_with(props), allow_unicode=True, sort_keys=False), encoding="utf-8")
    loaded = lint_file(path)
    errors = [f for f in loaded.findings if f.severity == "error"]
    assert not loaded.ok
    assert len(errors) == 1, "\n".join(map(str, loaded.findings))
    (error,) = errors
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[error.line - 1].strip().startswith((f"{key}:", f"'{key}':", f"- {key}:", f"- '{key}':")) or f"{key}:" in lines[error.line - 1], (error, lines[error.line - 1])
    assert advice in error.message, error.message
    # the editor schema (same list) underlines it too; which fields exist is the linter's alone
    if name != "field declared only under then":
        assert list(Draft202012Validator(editor_schema()).iter_errors(_spec_with(props))), name


def test_what_the_form_does_show_lints_clean(tmp_path: Path) -> None:
    props = {
        "sex": {"type": "string", "oneOf": [{"const": "nam", "title": "Nam"}, {"const": "nu", "title": "Nữ"}]},
        "guardian": {
            "type": "object", "additionalProperties": False,
            "properties": {"has_father": {"type": "boolean"}, "kind": {"type": "string", "enum": ["a", "b"]},
                           "father": {"type": "string"}, "note": {"type": "string"}},
            "if": {"properties": {"has_father": {"const": True}}}, "then": {"required": ["father"]},
            "allOf": [{"if": {"properties": {"kind": {"enum": ["a"]}}}, "then": {"required": ["note"]}, "else": {"properties": {"note": {"maxLength": 5}}}}],
        },
        "names": {"type": "array", "items": {"type": "string", "maxLength": 20}, "maxItems": 3, "x-note": "ok"},
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(_spec_with(props), allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert [f for f in lint_file(path).findings if f.severity == "error"] == []
    assert list(Draft202012Validator(editor_schema()).iter_errors(_spec_with(props))) == []


def test_the_linter_and_the_browser_read_if_the_same_way() -> None:
    """The renderer's show conditions come from the same function the linter checks with."""
    node = CASES["if on a pattern"][0]["extra"]
    assert if_condition(node["if"], "extra") is None and show_conditions(node, "extra") == {}
    good = {"properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "if": {"properties": {"a": {"const": "x"}}}, "then": {"required": ["b"]}}
    assert show_conditions(good, "p") == {"b": {"field": "p.a", "equals": "x"}}


def test_one_list_and_the_editor_schema_agree() -> None:
    field = editor_schema()["$defs"]["FormField"]
    assert set(field["properties"]) == set(SUPPORTED)
    assert set(SUPPORTED) & set(UNSUPPORTED) == {"oneOf"}  # a choice of values only
    assert editor_schema()["$defs"]["Form"]["properties"]["fields"]["$ref"] == "#/$defs/FormField"


@pytest.mark.parametrize("path", SHIPPED + [BASE], ids=lambda p: p.name)
def test_every_shipped_spec_validates_against_the_editor_schema_with_typed_fields(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert list(Draft202012Validator(editor_schema()).iter_errors(data)) == []
    if "form" not in data:
        return
    # and the typing is real: a typo in a field keyword is underlined
    data["form"]["fields"]["properties"][next(iter(data["form"]["fields"]["properties"]))]["titel"] = "x"
    assert any("titel" in e.message for e in Draft202012Validator(editor_schema()).iter_errors(data))


def test_a_field_name_yaml_reads_as_a_number_is_refused_with_its_line(tmp_path: Path) -> None:
    """`1:` under `properties` loads as the integer 1, not a name: refused like a name with a
    dot, never a linter crash."""
    path = tmp_path / "spec.yaml"
    text = yaml.safe_dump(_spec_with({"placeholder": {"type": "string"}}), allow_unicode=True, sort_keys=False)
    path.write_text(text.replace("placeholder:", "1:"), encoding="utf-8")
    loaded = lint_file(path)
    errors = [f for f in loaded.findings if f.severity == "error"]
    assert len(errors) == 1 and "underscores" in errors[0].message, "\n".join(map(str, loaded.findings))
    assert path.read_text(encoding="utf-8").splitlines()[errors[0].line - 1].strip().startswith("1:")
