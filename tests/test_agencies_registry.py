"""The agency registry (motcua.agencies): the shipped province, the file's errors with their
lines, the setting that points at another file, and the generator that writes it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from motcua import units
from motcua.agencies import DEFAULT_REGISTRY, RegistryError, agency_registry, load_registry, parse_registry
from motcua.agencies_cli import agencies_group, build_registry, commune_slots
from motcua.app import create_app
from tests.conftest import SPECS

#: The findings' English wording is what these tests hold (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english_findings")


HEAD = """version: "2026.1"
province_code: "48"
hours: {vi: "Thứ Hai–Thứ Sáu", en: "Monday–Friday"}
agencies:
"""


def office(code: str, **extra: str) -> str:
    fields = {"code": code, "tier": "province", "kind": "so", "province_code": "48", **extra}
    lines = [f"  - code: {fields.pop('code')}", "    name: {vi: Sở, en: Department}"]
    lines += [f"    {key}: {value!r}" if key.endswith("code") else f"    {key}: {value}" for key, value in fields.items()]
    return "\n".join(lines) + "\n"


def test_the_shipped_registry_is_da_nang_whole():
    registry = load_registry()
    assert registry.province_code == "48"
    communes = units.communes("48")
    ubnd = registry.of("commune", "ubnd")
    police = registry.of("commune", "cong-an")
    # every commune unit has exactly one People's Committee and one police office
    assert sorted(a.commune_code for a in ubnd) == sorted(c.code for c in communes)
    assert sorted(a.commune_code for a in police) == sorted(c.code for c in communes)
    assert len(communes) == 94
    hai_chau = registry.serving(units.find_commune("48", "Hải Châu").code, ubnd)
    assert hai_chau.name["vi"] == "Ủy ban nhân dân phường Hải Châu"
    assert hai_chau.name["en"] == "Hai Chau Ward People's Committee"
    assert hai_chau.parent == "000.00.00.H15" and registry.get(hai_chau.parent).tier == "province"
    assert hai_chau.address["commune"] == "Phường Hải Châu" and hai_chau.address["province_code"] == "48"
    assert "7:30" in hai_chau.hours["vi"]
    # the codes the specs used before keep their meaning
    assert registry.get("000.12.09.H15").name["vi"] == "Trung tâm Dịch vụ việc làm thành phố"
    assert registry.get("000.08.35.H15").parent == "000.00.35.H15"


def test_search_ignores_diacritics_and_case():
    registry = load_registry()
    found = registry.search("hai chau", registry.of("commune", "ubnd"))
    assert [a.name["vi"] for a in found] == ["Ủy ban nhân dân phường Hải Châu"]
    assert registry.search("HẢI CHÂU", registry.of("commune")) == registry.search("hai chau", registry.of("commune"))
    assert registry.search("no such place xyz") == []


def test_duplicate_codes_are_refused_with_both_lines():
    text = HEAD + office("000.00.09.H15") + office("000.00.09.H15")
    with pytest.raises(RegistryError) as caught:
        parse_registry(text, "reg.yaml")
    [problem] = caught.value.problems
    assert str(problem) == "reg.yaml:10: error: duplicate agency code 000.00.09.H15 (first at line 5)"


def test_an_unknown_commune_code_is_refused_at_its_line():
    text = HEAD + office("000.00.09.H15") + office("000.01.50.H15", tier="commune", kind="ubnd", commune_code="99999")
    with pytest.raises(RegistryError) as caught:
        parse_registry(text, "reg.yaml")
    [problem] = caught.value.problems
    assert problem.line == 10 and "commune code 99999 is not a commune of province 48" in problem.message


def test_a_commune_of_another_province_is_refused():
    hoan_kiem = units.find_commune("01", "Hoàn Kiếm").code
    text = HEAD + office("000.01.50.H15", tier="commune", kind="ubnd", commune_code=hoan_kiem)
    with pytest.raises(RegistryError, match=f"reg.yaml:5: error: .*{hoan_kiem} is not a commune of province 48"):
        parse_registry(text, "reg.yaml")


def test_an_unknown_parent_says_did_you_mean():
    text = HEAD + office("000.00.09.H15") + office("000.12.09.H15", parent="000.00.90.H12")
    with pytest.raises(RegistryError) as caught:
        parse_registry(text, "reg.yaml")
    assert "reg.yaml:10: error: 000.12.09.H15: unknown parent 000.00.90.H12; did you mean `000.00.09.H15`?" == str(caught.value.problems[0])


def test_a_bad_field_is_placed_and_named():
    text = HEAD + office("000.00.09.H15", tier="district")
    with pytest.raises(RegistryError) as caught:
        parse_registry(text, "reg.yaml")
    [problem] = caught.value.problems
    assert problem.line == 7 and problem.message == ('000.00.09.H15: `tier` should be one of province, commune, other, '
                                                                'but it is the text "district"')


def test_the_app_serves_the_configured_registry_and_refuses_a_wrong_one(tmp_path: Path):
    good = tmp_path / "good.yaml"
    good.write_text(HEAD + office("000.00.09.H15"), encoding="utf-8")
    app = create_app({"DATA_DIR": str(tmp_path / "d1"), "SPECS_DIR": str(SPECS), "TESTING": True, "AGENCY_REGISTRY": str(good)})
    with app.app_context():
        assert agency_registry().codes() == ["000.00.09.H15"]
    assert agency_registry(app) is app.extensions["motcua"].agencies
    bad = tmp_path / "bad.yaml"
    bad.write_text(HEAD + office("000.00.09.H15") + office("000.00.09.H15"), encoding="utf-8")
    with pytest.raises(RegistryError, match=f"{bad}:10: error: duplicate agency code"):
        create_app({"DATA_DIR": str(tmp_path / "d2"), "SPECS_DIR": str(SPECS), "TESTING": True, "AGENCY_REGISTRY": str(bad)})


def test_the_environment_names_the_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    good = tmp_path / "env.yaml"
    good.write_text(HEAD + office("000.00.10.H15"), encoding="utf-8")
    monkeypatch.setenv("MOTCUA_AGENCY_REGISTRY", str(good))
    app = create_app({"DATA_DIR": str(tmp_path / "d"), "SPECS_DIR": str(SPECS), "TESTING": True})
    assert agency_registry(app).codes() == ["000.00.10.H15"]


def test_the_default_is_the_shipped_file(app):
    assert agency_registry(app).path == str(DEFAULT_REGISTRY)


def test_generate_writes_what_is_shipped_and_keeps_codes(tmp_path: Path):
    out = tmp_path / "agencies.yaml"
    result = CliRunner().invoke(agencies_group, ["generate", "--province", "48", "--output", str(out)])
    assert result.exit_code == 0, result.output
    fresh = yaml.safe_load(out.read_text(encoding="utf-8"))
    shipped = yaml.safe_load(DEFAULT_REGISTRY.read_text(encoding="utf-8"))
    # the shipped file is what the command writes (addresses and phones may be edited in it)
    assert [(a["code"], a.get("commune_code")) for a in fresh["agencies"]] == [(a["code"], a.get("commune_code")) for a in shipped["agencies"]]
    # a commune renumbered by hand keeps its code when the file is generated again
    first = next(a for a in fresh["agencies"] if a["kind"] == "ubnd" and a["tier"] == "commune")
    first["code"] = "000.77.49.H15"
    again = build_registry("48", "H15", fresh)
    assert next(a for a in again["agencies"] if a.get("commune_code") == first["commune_code"] and a["kind"] == "ubnd")["code"] == "000.77.49.H15"
    assert len({a["code"] for a in again["agencies"]}) == len(again["agencies"])


def test_generated_codes_follow_qcvn_102_with_da_nangs_level_1_code():
    """Đà Nẵng's People's Committee is 000.00.00.H15; every code is digits in V1V2V3.Z1Z2.Y1Y2,
    a department is level 2, a commune People's Committee level 3 under the communes' block,
    its police level 4 under the provincial police."""
    registry = load_registry()
    assert registry.get("000.00.00.H15").name["vi"] == "Ủy ban nhân dân Thành phố Đà Nẵng"
    assert all(re.fullmatch(r"\d{3}\.\d{2}\.\d{2}\.H15", a.code) for a in registry)
    assert registry.get("000.00.10.H15").name["vi"] == "Sở Tư pháp"
    first, last = sorted(units.communes("48"), key=lambda c: c.code)[0], sorted(units.communes("48"), key=lambda c: c.code)[-1]
    ubnd = {a.commune_code: a.code for a in registry.of("commune", "ubnd")}
    police = {a.commune_code: a.code for a in registry.of("commune", "cong-an")}
    assert (ubnd[first.code], ubnd[last.code]) == ("000.01.50.H15", "000.94.50.H15")
    assert (police[first.code], police[last.code]) == ("001.50.35.H15", "094.50.35.H15")


def test_generate_refuses_an_unknown_province(tmp_path: Path):
    result = CliRunner().invoke(agencies_group, ["generate", "--province", "99", "--output", str(tmp_path / "x.yaml")])
    assert result.exit_code != 0 and "unknown province code" in result.output
    assert not (tmp_path / "x.yaml").exists()


def test_check_prints_file_line_problems(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(HEAD + office("000.00.09.H15") + office("000.00.09.H15"), encoding="utf-8")
    result = CliRunner().invoke(agencies_group, ["check", str(bad)])
    assert result.exit_code == 1 and f"{bad}:10: error: duplicate agency code" in result.output


def test_commune_slots_are_digits_and_move_to_the_next_block_after_99():
    assert commune_slots(0) == {"block": "50", "z": "01", "v": "001"}
    assert commune_slots(98) == {"block": "50", "z": "99", "v": "099"}
    assert commune_slots(99) == {"block": "51", "z": "01", "v": "100"}
    with pytest.raises(ValueError):
        commune_slots(999)


def test_generate_needs_the_level_1_code_of_a_province_it_does_not_know(tmp_path: Path):
    out = tmp_path / "x.yaml"
    result = CliRunner().invoke(agencies_group, ["generate", "--province", "01", "--output", str(out)])
    assert result.exit_code != 0 and "--suffix" in result.output and not out.exists()
    result = CliRunner().invoke(agencies_group, ["generate", "--province", "48", "--suffix", "h15", "--output", str(out)])
    assert result.exit_code != 0 and "not a level-1 code" in result.output and not out.exists()


@pytest.mark.parametrize("code, says", [
    ("000.00.A0.H15", "is not a QCVN 102:2016 code"),      # letters where the standard has digits
    ("000.00.9.H15", "is not a QCVN 102:2016 code"),       # a part too short
    ("000.05.00.H15", "each level of a QCVN 102:2016 code"),  # level 3 with no level 2
    ("001.00.09.H15", "each level of a QCVN 102:2016 code"),  # level 4 with no level 3
])
def test_a_code_not_of_the_standards_shape_is_refused_with_its_line(code: str, says: str):
    with pytest.raises(RegistryError) as caught:
        parse_registry(HEAD + office("000.00.09.H15") + office(code), "reg.yaml")
    [problem] = caught.value.problems
    assert problem.line == 10 and says in problem.message and code in problem.message


def test_per_office_overrides_are_checked():
    """An office's own hours, street and phone replace the file's defaults; a phone that is not
    one, or hours missing a language, are refused with their line."""
    good = HEAD + office("000.00.09.H15", street="24 Trần Phú", phone="0236 3821 234") + \
        "    hours: {vi: 'Thứ Hai–Thứ Bảy', en: 'Monday–Saturday'}\n"
    registry = parse_registry(good, "reg.yaml")
    dept = registry.get("000.00.09.H15")
    assert (dept.hours["vi"], dept.phone, dept.address["street"]) == ("Thứ Hai–Thứ Bảy", "0236 3821 234", "24 Trần Phú")
    with pytest.raises(RegistryError) as caught:
        parse_registry(HEAD + office("000.00.09.H15", phone="1900-xyz"), "reg.yaml")
    assert [(p.line, "is not a phone number" in p.message) for p in caught.value.problems] == [(10, True)]  # the phone line
    with pytest.raises(RegistryError) as caught:
        parse_registry(HEAD + office("000.00.09.H15") + "    hours: {vi: '', en: 'Monday'}\n", "reg.yaml")
    assert caught.value.problems[0].line == 10 and "hours.vi" in caught.value.problems[0].message


def test_specs_are_linted_again_against_another_registry(tmp_path: Path):
    """The lint cache in the data folder is keyed by the registry too: a code the new
    registry lacks leaves the spec out, however recently it was linted clean."""
    from tests.portal_helpers import birth_spec, write_spec

    data = birth_spec()
    data["performed_by"] = "000.00.09.H15"
    specs = tmp_path / "specs"
    write_spec(specs, "khai-sinh", data)
    with_it = tmp_path / "a.yaml"
    with_it.write_text(HEAD + office("000.00.09.H15"), encoding="utf-8")
    without = tmp_path / "b.yaml"
    without.write_text(HEAD + office("000.00.10.H15"), encoding="utf-8")
    config = {"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(specs), "TESTING": True}
    served = create_app({**config, "AGENCY_REGISTRY": str(with_it)}).extensions["motcua"].catalogue
    assert served.get("1.001193") is not None
    left_out = create_app({**config, "AGENCY_REGISTRY": str(without)}).extensions["motcua"].catalogue
    assert left_out.get("1.001193") is None
    assert any("unknown agency code 000.00.09.H15" in p.message and "did you mean `000.00.10.H15`" in p.message
               for p in left_out.problems)


def check_output(tmp_path: Path, text: str) -> list[str]:
    """What `motcua agencies check` prints for a file holding `text`, one problem a line."""
    bad = tmp_path / "registry.yaml"
    bad.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(agencies_group, ["check", str(bad)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return [line.split(": error: ", 1)[1] for line in result.output.splitlines() if ": error: " in line]


def test_check_reports_a_duplicate_code_once_without_a_follow_on_error(tmp_path: Path):
    # the second entry's parent is the first entry, whose code it repeats: one mistake, one line
    problems = check_output(tmp_path, HEAD + office("000.00.00.H15", parent="null")
                            + office("000.00.00.H15", parent="000.00.00.H15"))
    assert problems == ["duplicate agency code 000.00.00.H15 (first at line 5)"]


@pytest.mark.parametrize("text, expected", [
    ("", ["the registry file is empty"]),
    ("- a\n- b\n", ["the registry file should be a mapping of `key: value` lines (version, province_code, source, hours, "
                    "agencies), but it is a list"]),
    (HEAD.replace('{vi: "Thứ Hai–Thứ Sáu", en: "Monday–Friday"}', "5") + office("000.00.09.H15"),
     ["`hours` should be a mapping of `key: value` lines, but it is the number 5"]),
])
def test_check_words_shape_problems_plainly(tmp_path: Path, text: str, expected: list[str]):
    problems = check_output(tmp_path, text)
    assert problems == expected
    assert not any(re.search(r"_File|_Hours|_Record|_Text|instance of|Input should", p) for p in problems)


def test_check_lists_the_problems_of_every_entry_even_when_the_head_is_wrong(tmp_path: Path):
    text = ("version: 1\nprovince_code: '48'\nagencies:\n- just a string\n"
            "- code: 000.00.00.H15\n  name: 5\n  tier: [1]\n"
            + office("000.00.09.H15", province_code="4", kind="Sở").replace("  - ", "- ", 1).replace("\n    ", "\n  "))
    problems = check_output(tmp_path, text)
    assert problems[:2] == ["`version` should be a text, but it is the number 1",
                            "the registry file needs the key `hours`, which is missing"]
    assert 'agency 1: each entry of `agencies` should be a mapping of `key: value` lines (code, name, tier, kind ...), ' \
           'but it is the text "just a string"' in problems
    second = [p for p in problems if p.startswith("000.00.00.H15: ")]
    assert {p.split(": ", 1)[1] for p in second} == {
        "`name` should be a mapping of `key: value` lines, but it is the number 5",
        "`tier` should be one of province, commune, other, but it is a list",
        "this entry needs the key `kind`, which is missing",
        "this entry needs the key `province_code`, which is missing"}
    third = [p for p in problems if p.startswith("000.00.09.H15: ")]
    assert len(third) == 2 and any("two digits" in p for p in third) and any("lowercase letters" in p for p in third)
    assert not any(re.search(r"_File|_Hours|_Record|_Text|instance of|Input should", p) for p in problems)
