"""`title`/`description`/choice titles written `{vi, en}` on the field itself (issue 16): the
published JSON Schema has plain strings in each language, the form, summary and documents
show the reader's language, and `ui.<path>.label` keeps working."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from motcua.spec.lint import lint_file
from motcua.spec.model import ProcedureSpec
from motcua_renderers.form import render_fields
from motcua_renderers.summary import answer_rows

REPO = Path(__file__).resolve().parent.parent
BIRTH = REPO / "procedure_specs" / "ho-tich" / "dang-ky-khai-sinh.yaml"
BASE = Path(__file__).parent / "specs_bad" / "base.yaml"


def _old_style(fields: Any, ui: dict[str, Any], path: str = "") -> Any:
    """What an author had to write before: Vietnamese titles, English in `ui.<path>.label`."""
    if not isinstance(fields, dict):
        return fields
    out = dict(fields)
    title = fields.get("title")
    if isinstance(title, dict):
        out["title"] = title["vi"]
        ui.setdefault(path, {}).setdefault("label", title)
    if isinstance(fields.get("properties"), dict):
        out["properties"] = {n: _old_style(s, ui, f"{path}.{n}" if path else n) for n, s in fields["properties"].items()}
    return out


def test_the_converted_birth_spec_reads_as_its_old_ui_label_form() -> None:
    data = yaml.safe_load(BIRTH.read_text(encoding="utf-8"))
    assert isinstance(data["form"]["fields"]["properties"]["child"]["properties"]["full_name"]["title"], dict)
    assert "child.full_name" not in data["form"]["ui"]  # the label is written once, on the field
    assert "label" in data["form"]["ui"]["has_father"]  # an explicit ui label still counts
    old = copy.deepcopy(data)
    old["form"]["fields"] = _old_style(old["form"]["fields"], old["form"]["ui"])
    new_spec, old_spec = ProcedureSpec.model_validate(data), ProcedureSpec.model_validate(old)
    assert new_spec.model_dump() == old_spec.model_dump()
    # the model's JSON Schema is plain JSON Schema, and loads back the same (snapshots)
    assert new_spec.form.fields["properties"]["child"]["properties"]["full_name"]["title"] == "Họ, chữ đệm, tên"
    assert ProcedureSpec.model_validate(new_spec.model_dump(mode="json", by_alias=True)) == new_spec
    assert lint_file(BIRTH).ok


def test_form_and_summary_speak_the_readers_language() -> None:
    spec = lint_file(BIRTH).spec
    assert "Full name" in render_fields(spec, ["child"], {}, {}, "en")
    assert "Họ, chữ đệm, tên" in render_fields(spec, ["child"], {}, {}, "vi")
    assert "Full name" not in render_fields(spec, ["child"], {}, {}, "vi")
    assert "Declare the father" in render_fields(spec, ["has_father"], {}, {}, "en")  # from ui.label
    rows = dict(answer_rows(spec, {"child": {"full_name": "Nguyễn An"}}, "en"))
    assert any("Full name" in label for label in rows), rows
    rows = dict(answer_rows(spec, {"child": {"full_name": "Nguyễn An"}}, "vi"))
    assert any("Họ, chữ đệm, tên" in label for label in rows), rows


def test_choice_titles_and_descriptions_in_two_languages(tmp_path: Path) -> None:
    data = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    data["form"]["fields"]["properties"]["sex"] = {
        "type": "string",
        "title": {"vi": "Giới tính", "en": "Sex"},
        "description": {"vi": "Theo giấy chứng sinh", "en": "As on the birth certificate"},
        "oneOf": [{"const": "nam", "title": {"vi": "Nam", "en": "Male"}}, {"const": "nu", "title": {"vi": "Nữ", "en": "Female"}}],
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    loaded = lint_file(path)
    assert loaded.ok, "\n".join(map(str, loaded.findings))
    spec = loaded.spec
    english, vietnamese = render_fields(spec, ["sex"], {}, {}, "en"), render_fields(spec, ["sex"], {}, {}, "vi")
    for text in ("Sex", "As on the birth certificate", "Male", "Female"):
        assert text in english and text not in vietnamese
    for text in ("Giới tính", "Theo giấy chứng sinh", "Nữ"):
        assert text in vietnamese
    assert dict(answer_rows(spec, {"sex": "nu"}, "en")).get("Sex") == "Female"


def test_published_schema_per_language(client) -> None:
    en = client.get("/api/v1/procedures/1.001193?lang=en").get_json()["submission_schema"]
    vi = client.get("/api/v1/procedures/1.001193?lang=vi").get_json()["submission_schema"]
    assert en["properties"]["child"]["properties"]["full_name"]["title"] == "Full name"
    assert vi["properties"]["child"]["properties"]["full_name"]["title"] == "Họ, chữ đệm, tên"
    assert en["properties"]["child"]["title"] == "The child"

    def strings_only(node: Any) -> bool:
        if isinstance(node, dict):
            return all(isinstance(v, str) for k, v in node.items() if k in ("title", "description")) and all(map(strings_only, node.values()))
        return all(map(strings_only, node)) if isinstance(node, list) else True

    assert strings_only(en) and strings_only(vi)
