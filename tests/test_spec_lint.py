"""Every linter rule, each shown by breaking one thing in a small valid spec.

The valid spec is tests/specs_bad/base.yaml (level 4, with a form, a fee and a payment step);
each test changes it, writes it to tmp as YAML and reads what the linter says, including
the line the administrator has to look at.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from motcua.spec import lint as lint_module
from motcua.spec.lint import field_at, lint_file, lint_paths, step_classes
from motcua.spec.loader import Finding

#: The findings' English wording is what these tests hold (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english_findings")


BASE = Path(__file__).parent / "specs_bad" / "base.yaml"


def base() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(BASE.read_text(encoding="utf-8")))


def write(tmp_path: Path, data: Any, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def findings(tmp_path: Path, data: Any, name: str = "spec.yaml") -> list[Finding]:
    return lint_file(write(tmp_path, data, name)).findings


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    """1-based number of the nth line containing `needle`."""
    hits = [i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line]
    assert len(hits) >= nth, f"{needle!r} not in {path}"
    return hits[nth - 1]


def one(found: list[Finding], severity: str = "error") -> Finding:
    picked = [f for f in found if f.severity == severity]
    assert len(picked) == 1, "\n".join(map(str, found))
    return picked[0]


def test_base_spec_is_clean(tmp_path):
    assert lint_file(BASE).findings == []
    assert lint_file(BASE).ok


# --- shape: types, keys, positions ----------------------------------------------------------


def test_a_string_where_a_number_belongs_names_key_expected_and_found(tmp_path):
    data = base()
    data["info"]["processing_time"]["working_days"] = "năm"
    path = write(tmp_path, data)
    finding = one(lint_file(path).findings)
    assert finding.line == line_of(path, "working_days:")
    assert finding.col == len("    working_days: ") + 1
    assert "`info.processing_time.working_days` should be a whole number" in finding.message
    assert 'the text "năm"' in finding.message


def test_unknown_key_suggests_the_close_one(tmp_path):
    data = base()
    data["info"]["legal_basis"][0]["titel"] = data["info"]["legal_basis"][0].pop("title")
    path = write(tmp_path, data)
    found = lint_file(path).findings
    unknown = next(f for f in found if "unknown key" in f.message)
    assert unknown.line == line_of(path, "titel:")
    assert "did you mean `title`?" in unknown.message
    missing = next(f for f in found if "missing" in f.message)
    assert "needs the key `title`" in missing.message


def test_unknown_key_without_a_close_match_lists_the_allowed_keys(tmp_path):
    data = base()
    data["performed_by"]["zzz"] = 1
    finding = one(findings(tmp_path, data))
    assert "unknown key `zzz` in `performed_by`" in finding.message
    assert "tier, kind, agencies, name" in finding.message


def test_a_choice_out_of_a_list_says_the_choices(tmp_path):
    data = base()
    data["performed_by"]["tier"] = "comune"
    finding = one(findings(tmp_path, data))
    assert "should be one of province, commune, other" in finding.message
    assert "did you mean `commune`?" in finding.message


def test_localized_text_in_an_unknown_language(tmp_path):
    data = base()
    data["name"] = {"vi": "Thử", "fr": "Essai"}
    path = write(tmp_path, data)
    finding = one(lint_file(path).findings)
    assert finding.line == line_of(path, "fr:")
    assert "`vi` and `en` only, not `fr`" in finding.message


def test_duplicate_yaml_keys_are_errors(tmp_path):
    path = tmp_path / "dup.yaml"
    text = BASE.read_text(encoding="utf-8").replace('version: "1"\n', 'version: "1"\nversion: "2"\n')
    path.write_text(text, encoding="utf-8")
    finding = one(lint_file(path).findings)
    assert (finding.line, finding.col) == (line_of(path, 'version: "2"'), 1)
    assert "`version` appears twice" in finding.message


def test_json_specs_get_positions_too(tmp_path):
    data = base()
    data["fees"][0]["amount"] = "năm nghìn"
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    finding = one(lint_file(path).findings)
    assert finding.line == line_of(path, '"amount"')
    assert "`fees[0].amount` should be a whole number" in finding.message


def test_json_syntax_error_has_its_position(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text('{\n  "code": "1.999001",\n  "version" "1"\n}\n', encoding="utf-8")
    finding = one(lint_file(path).findings)
    assert (finding.line, finding.col) == (3, 13)
    assert "JSON syntax error" in finding.message


def test_a_file_that_is_not_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    assert "a spec is a mapping of keys" in one(lint_file(path).findings).message


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("code: \"1.999001\"\nname: Đăng ký\n".encode("utf-16"))
    assert "not UTF-8" in one(lint_file(path).findings).message


def test_absurdly_deep_nesting_is_a_finding_not_a_crash(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("code: " + "[" * 200_000 + "\n", encoding="utf-8")
    assert "nests lists or mappings hundreds of levels deep" in one(lint_file(path).findings).message


def test_two_documents_in_one_file(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text(BASE.read_text(encoding="utf-8") + "---\ncode: x\n", encoding="utf-8")
    finding = one(lint_file(path).findings)
    assert finding.line == line_of(path, "---")
    assert "remove the second `---`" in finding.message


def test_catalogue_leaves_out_a_spec_the_linter_rejects(tmp_path):
    from motcua.catalogue import Catalogue

    write(tmp_path, base(), "good.yaml")
    bad = base()
    bad["code"] = "1.999002"
    bad["level"] = 1  # with a form: rejected by the linter, though the model accepts it
    write(tmp_path, bad, "bad.yaml")
    catalogue = Catalogue.from_folder(tmp_path)
    assert [s.code for s in catalogue] == ["1.999001"]
    assert any(p.path.endswith("bad.yaml") and "has no form" in p.message for p in catalogue.problems)


def test_unexpected_failure_while_checking_becomes_a_finding(tmp_path, monkeypatch):
    def broken(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(lint_module.Checker, "run", broken)
    good = write(tmp_path, base(), "a.yaml")
    results = lint_paths([good, write(tmp_path, base(), "b.yaml")])
    assert [len(r.findings) for r in results] == [1, 1]
    assert "could not check this file (RuntimeError: boom)" in results[0].findings[0].message


# --- the form's JSON Schema -----------------------------------------------------------------


def test_form_fields_with_a_bad_type_name(tmp_path):
    data = base()
    data["form"]["fields"]["properties"]["copies"]["type"] = "int"
    path = write(tmp_path, data)
    finding = one(lint_file(path).findings)
    assert finding.line == line_of(path, "type: int")
    assert "`form.fields.properties.copies.type`: `int` is not a JSON Schema type" in finding.message
    assert "did you mean `integer`?" in finding.message


def test_form_fields_with_a_keyword_of_the_wrong_type(tmp_path):
    data = base()
    data["form"]["fields"]["properties"]["applicant"]["required"] = "full_name"
    finding = one(findings(tmp_path, data))
    assert "`form.fields.properties.applicant.required` is not valid JSON Schema" in finding.message
    assert "should be a list" in finding.message


def test_form_fields_must_be_an_object_with_properties(tmp_path):
    data = base()
    data["form"]["fields"] = {"type": "array", "items": {"type": "string"}}
    for f in findings(tmp_path, data):
        assert f.severity == "error"
    assert any("should be an object schema" in f.message for f in findings(tmp_path, data))


def test_form_fields_with_a_broken_regex(tmp_path):
    data = base()
    data["form"]["fields"]["properties"]["applicant"]["properties"]["full_name"]["pattern"] = "([A-Z"
    assert "not a valid regular expression" in one(findings(tmp_path, data)).message


def test_required_names_a_property_that_does_not_exist(tmp_path):
    data = base()
    data["form"]["fields"]["properties"]["applicant"]["required"] = ["full_nam", "phone"]
    path = write(tmp_path, data)
    finding = one(lint_file(path).findings)
    assert "`required` lists `full_nam`" in finding.message
    assert "did you mean `full_name`?" in finding.message


def test_required_in_a_then_branch_may_name_the_parents_properties(tmp_path):
    data = base()
    data["form"]["fields"]["if"] = {"properties": {"purpose": {"const": "lam_viec"}}}
    data["form"]["fields"]["then"] = {"required": ["purpose"], "properties": {"applicant": {"required": ["cccd"]}}}
    assert findings(tmp_path, data) == []
    data["form"]["fields"]["then"]["properties"]["applicant"]["required"] = ["cccdd"]
    assert "`required` lists `cccdd`" in one(findings(tmp_path, data)).message


def test_unknown_format_warns_and_vietnamese_formats_are_known(tmp_path):
    data = base()
    data["form"]["fields"]["properties"]["applicant"]["properties"]["phone"]["format"] = "vn-mobil"
    path = write(tmp_path, data)
    finding = one(lint_file(path).findings, "warning")
    assert finding.line == line_of(path, "format: vn-mobil")
    assert "unknown format `vn-mobil`" in finding.message and "did you mean `vn-mobile`?" in finding.message
    assert lint_file(path).ok  # a warning does not reject the spec


def test_misspelt_schema_keyword_warns(tmp_path):
    data = base()
    data["form"]["fields"]["properties"]["applicant"]["properties"]["full_name"]["maxlength"] = 100
    finding = one(findings(tmp_path, data), "warning")
    assert "`maxlength` is not a JSON Schema keyword" in finding.message
    assert "did you mean `maxLength`?" in finding.message


# --- references to fields -------------------------------------------------------------------


def test_ui_key_that_is_not_a_field(tmp_path):
    data = base()
    data["form"]["ui"]["applicant.fullname"] = {"help": "Ghi đầy đủ"}
    path = write(tmp_path, data)
    finding = one(lint_file(path).findings)
    assert finding.line == line_of(path, "applicant.fullname:")
    assert "did you mean `applicant.full_name`?" in finding.message


def test_enum_label_for_a_value_the_field_does_not_have(tmp_path):
    data = base()
    data["form"]["ui"]["purpose"]["enum_labels"]["du_lich"] = "Du lịch"
    assert "label for `du_lich`" in one(findings(tmp_path, data), "warning").message


def test_page_lists_a_missing_field(tmp_path):
    data = base()
    data["form"]["pages"][1]["fields"] = ["purpose", "copy"]
    found = findings(tmp_path, data)
    assert any("page `request` lists the field `copy`" in f.message and "did you mean `copies`?" in f.message for f in found)
    # and `copies`, a required field, is now on no page
    assert any("required field `copies` is on no page" in f.message for f in found)


def test_a_field_on_two_pages(tmp_path):
    data = base()
    data["form"]["pages"][1]["fields"] = ["purpose", "copies", "applicant"]
    assert "the field `applicant` is on two pages: `applicant` and `request`" in one(findings(tmp_path, data)).message


def test_contact_path_that_is_not_a_field(tmp_path):
    data = base()
    data["form"]["contact"]["phone"] = "applicant.mobile"
    path = write(tmp_path, data)
    finding = one(lint_file(path).findings)
    assert finding.line == line_of(path, "phone: applicant.mobile")
    assert "`form.contact.phone` refers to the field `applicant.mobile`" in finding.message


def test_condition_field_that_does_not_exist_even_nested(tmp_path):
    data = base()
    data["fees"][0]["exempt_when"]["all"][1]["field"] = "copy"
    path = write(tmp_path, data)
    finding = one(lint_file(path).findings)
    assert finding.line == line_of(path, "field: copy")
    assert "the exemption of fee `phi_cap_ban` refers to the field `copy`" in finding.message


def test_condition_compares_with_a_value_the_field_never_takes(tmp_path):
    data = base()
    data["attachments"][0]["required_when"]["equals"] = "lam-viec"
    assert "never takes" in one(findings(tmp_path, data), "warning").message


def test_condition_on_the_intake_channel_is_allowed(tmp_path):
    data = base()
    data["fees"][0]["when"] = {"field": "_channel", "equals": "online"}
    assert findings(tmp_path, data) == []


def test_fee_quantity_field_must_exist_and_be_a_number(tmp_path):
    data = base()
    data["fees"][0]["quantity_field"] = "copie"
    assert "did you mean `copies`?" in one(findings(tmp_path, data)).message
    data["fees"][0]["quantity_field"] = "purpose"
    assert "should name a number field" in one(findings(tmp_path, data)).message


def test_array_items_are_reached_by_index_star_or_directly():
    schema = {"type": "object", "properties": {"children": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}}}}
    for path in ("children", "children.0.name", "children.*.name", "children.name"):
        assert field_at(schema, path) is not None, path
    assert field_at(schema, "children.age") is None


# --- unique ids -----------------------------------------------------------------------------


@pytest.mark.parametrize("group, loc", [("attachments", "attachments"), ("fees", "fees"), ("form.pages", "pages")])
def test_duplicate_ids(tmp_path, group, loc):
    data = base()
    items = data["form"]["pages"] if loc == "pages" else data[loc]
    twin = copy.deepcopy(items[0])
    if loc == "pages":
        twin["fields"] = ["purpose"]
        items[1]["fields"] = ["copies"]
    items.append(twin)
    found = [f for f in findings(tmp_path, data) if "twice" in f.message]
    assert len(found) == 1 and f"`{group}` has `id: {twin['id']}` twice" in found[0].message


def test_duplicate_procedure_codes_across_files(tmp_path):
    first = write(tmp_path, base(), "a/one.yaml")
    second = write(tmp_path, base(), "b/two.yaml")
    results = lint_paths([tmp_path])
    assert [r.path for r in results] == [str(first), str(second)]
    assert results[0].findings == []
    finding = one(results[1].findings)
    assert finding.line == line_of(second, "code: '1.999001'")
    assert f"already used by {first}" in finding.message


# --- published information ------------------------------------------------------------------


def test_longest_time_shorter_than_the_normal_one(tmp_path):
    data = base()
    data["info"]["processing_time"]["max_working_days"] = 2
    path = write(tmp_path, data)
    finding = one(lint_file(path).findings)
    assert finding.line == line_of(path, "max_working_days:")
    assert "`max_working_days` (2) is shorter than `working_days` (3)" in finding.message


def test_missing_legal_basis_and_steps_warn(tmp_path):
    data = base()
    del data["info"]["legal_basis"], data["info"]["steps"]
    found = findings(tmp_path, data)
    assert {f.severity for f in found} == {"warning"}
    assert any("no `legal_basis`" in f.message for f in found)
    assert any("no `steps`" in f.message for f in found)


# --- level rules ----------------------------------------------------------------------------


def level(data: dict[str, Any], value: Any) -> dict[str, Any]:
    data["level"] = value
    return data


def info_only() -> dict[str, Any]:
    """The base spec made a correct level-1 procedure."""
    data = level(base(), "info")
    del data["form"], data["steps"], data["attachments"][0]["required_when"], data["fees"][0]["quantity_field"], data["fees"][0]["exempt_when"]
    data["channels"] = [{"kind": "desk"}]
    data["delivery"] = [{"kind": "desk"}]
    return data


def test_a_correct_level_1_spec_is_clean(tmp_path):
    assert findings(tmp_path, info_only()) == []


def test_form_on_level_1(tmp_path):
    data = info_only()
    data["form"] = base()["form"]
    path = write(tmp_path, data)
    finding = one(lint_file(path).findings)
    assert (finding.line, finding.col) == (line_of(path, "form:"), 1)
    assert "level 1 (information only) procedure has no form" in finding.message


def test_online_channel_and_electronic_delivery_on_level_2(tmp_path):
    data = info_only()
    data["level"] = 2
    data["form"] = base()["form"]
    data["channels"].append({"kind": "online"})
    data["delivery"].append({"kind": "electronic"})
    found = findings(tmp_path, data)
    assert any("the `online` channel needs level 3 or 4" in f.message for f in found)
    assert any("cannot be delivered electronically" in f.message for f in found)


def test_postal_step_on_level_2(tmp_path):
    data = info_only()
    data["level"] = "forms"
    data["form"] = base()["form"]
    data["steps"] = ["postal"]
    assert "the `postal` step runs on dossiers filed online" in one(findings(tmp_path, data)).message


def test_level_2_without_anything_to_download_warns(tmp_path):
    data = level(info_only(), 2)
    assert "no `form` and no attachment names a `template`" in one(findings(tmp_path, data), "warning").message
    data["attachments"][0]["template"] = "Mẫu TP/HT-2020-KS.1"
    assert findings(tmp_path, data) == []


@pytest.mark.parametrize("value", [3, 4])
def test_levels_3_and_4_need_a_form(tmp_path, value):
    data = level(base(), value)
    del data["form"], data["attachments"][0]["required_when"], data["fees"][0]["quantity_field"], data["fees"][0]["exempt_when"]
    data["steps"] = [s for s in data["steps"] if s != "review"] if value == 4 else ["review"]
    assert "is filed online, so it needs a `form`" in one(findings(tmp_path, data)).message


@pytest.mark.parametrize("value", [3, 4])
def test_levels_3_and_4_need_the_online_channel(tmp_path, value):
    data = level(base(), value)
    data["channels"] = [{"kind": "desk"}]
    if value == 3:
        data["steps"] = ["review"]
        data["delivery"] = [{"kind": "desk"}]
    assert "needs the `online` channel" in one(findings(tmp_path, data)).message


def test_online_payment_on_level_3(tmp_path):
    data = level(base(), "partial")
    data["delivery"] = [{"kind": "desk"}]
    path = write(tmp_path, data)
    finding = one(lint_file(path).findings)
    assert finding.line == line_of(path, "mode: online") - 1  # at the step's `config:`
    assert "online payment makes a procedure full process" in finding.message
    data["steps"][0]["config"]["mode"] = "desk"
    assert findings(tmp_path, data) == []


def test_fees_on_level_4_without_a_payment_step(tmp_path):
    data = base()
    data["steps"] = ["review"]
    path = write(tmp_path, data)
    finding = one(lint_file(path).findings)
    assert (finding.line, finding.col) == (line_of(path, "fees:"), 1)
    assert "charges fees but has no `payment` step, so citizens have no way to pay" in finding.message
    data["fees"][0]["amount"] = 0  # free: nothing to pay, no payment step needed
    assert findings(tmp_path, data) == []


def test_level_4_payment_at_the_desk_only(tmp_path):
    data = base()
    data["steps"][0]["config"]["mode"] = "desk"
    assert "does not take online payment" in one(findings(tmp_path, data)).message


def test_postal_delivery_needs_a_postal_step_on_levels_3_and_4(tmp_path):
    data = base()
    data["delivery"].append({"kind": "postal", "postal_charge": 25000})
    path = write(tmp_path, data)
    finding = one(lint_file(path).findings)
    assert finding.line == line_of(path, "kind: postal")
    assert "there is no `postal` step" in finding.message
    # published postal return on level 1 is information only: no step needed
    data = info_only()
    data["delivery"].append({"kind": "postal"})
    assert findings(tmp_path, data) == []


def test_level_4_requiring_presence(tmp_path):
    data = base()
    data["info"]["presence_required"] = True
    assert "requires the applicant in person, so it cannot be level 4" in one(findings(tmp_path, data)).message
    assert findings(tmp_path, level(data, 3) | {"steps": ["review"], "delivery": [{"kind": "desk"}]}) == []


def test_level_4_needs_electronic_or_postal_result(tmp_path):
    data = base()
    data["delivery"] = [{"kind": "desk"}]
    assert "returns the result electronically or by post" in one(findings(tmp_path, data)).message


# --- steps (FLOW's registry) ----------------------------------------------------------------


def registered_steps() -> dict[str, type]:
    steps, why = step_classes()
    assert steps, f"the step registry must list the built-in steps: {why}"
    return steps


def test_unknown_step_name_suggests_the_close_one(tmp_path):
    registered_steps()
    data = base()
    data["steps"][1] = "reveiw"
    path = write(tmp_path, data)
    finding = one(lint_file(path).findings)
    assert finding.line == line_of(path, "- reveiw")
    assert "unknown step `reveiw`; did you mean `review`?" in finding.message


def test_invalid_step_config_is_reported_at_the_config_naming_the_step(tmp_path):
    registered_steps()
    data = base()
    data["steps"][0]["config"] = {"mode": "cash", "gatewy": "vnpay"}
    path = write(tmp_path, data)
    found = [f for f in lint_file(path).findings if f.message.startswith("step `payment`")]
    mode = next(f for f in found if "mode" in f.message)
    assert mode.line == line_of(path, "mode: cash")
    assert 'the text "cash"' in mode.message
    typo = next(f for f in found if "gatewy" in f.message)
    assert typo.line == line_of(path, "gatewy:") and "did you mean `gateway`?" in typo.message


# --- processing (stages, liên thông, days) --------------------------------------------------------


def with_processing(**approval) -> dict[str, Any]:
    data = base()
    data["processing"] = {"stages": [{"unit": "Phòng Tư pháp", "days": 1}], "approval": {"unit": "Lãnh đạo", **approval}}
    return data


def test_processing_of_another_agency_and_in_order_is_clean(tmp_path):
    data = with_processing()
    data["processing"]["stages"].append({"unit": "Công an xã", "agency": "000.00.40.H12"})
    assert findings(tmp_path, data) == []


def test_processing_naming_its_own_agency_as_liaison_is_an_error(tmp_path):
    data = with_processing()
    del data["performed_by"]
    data["agency"] = {"name": "Ủy ban nhân dân xã An Phú", "tier": "commune", "code": "000.00.31.H12"}
    data["processing"]["stages"][0]["agency"] = "000.00.31.H12"
    path = write(tmp_path, data)
    finding = one(lint_file(path).findings)
    assert "is an office performing this procedure itself; leave `agency` out" in finding.message
    assert finding.line == line_of(path, "agency: 000.00.31.H12")  # the stage's `agency:`


def test_processing_stage_that_follows_itself_and_too_many_days_warn(tmp_path):
    data = with_processing(days=30)
    data["processing"]["stages"].append({"unit": "Phòng Tư pháp"})
    messages = [f.message for f in findings(tmp_path, data) if f.severity == "warning"]
    assert any("the stage `Phòng Tư pháp` follows itself" in m for m in messages)
    assert any("add up to 31 working days, longer than the procedure's limit" in m for m in messages)


def test_processing_on_a_level_1_procedure_is_an_error(tmp_path):
    data = info_only()
    data["processing"] = {"stages": [{"unit": "Phòng Tư pháp"}]}
    assert "takes no dossiers, so it has nothing to process" in one(findings(tmp_path, data)).message


def test_processing_shape_errors_name_the_key(tmp_path):
    data = with_processing()
    data["processing"]["stages"][0]["agency"] = "not a code"
    data["processing"]["stages"][0]["days"] = 0
    messages = sorted(f.message for f in findings(tmp_path, data))
    assert messages[0].startswith("`processing.stages[0].agency` should be text matching")
    assert messages[1] == "`processing.stages[0].days` should be at least 1, but it is the number 0"
