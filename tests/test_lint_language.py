"""Lint findings are Vietnamese first, English second (docs/i18n.md): the studio words them
in its UI language, the CLI in `--lang` (default vi, or MOTCUA_LANG), the library in the
language of the lint call. Identifiers stay in backticks, positions and suggestions stay."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from click.testing import CliRunner

from motcua.cli import main
from motcua.spec.lint import lint_file, lint_paths
from motcua.spec.words import lint_lang, speaking
from tests.test_spec_lint import base, write
from tests.test_studio import specs, studio_app  # noqa: F401 - fixtures

#: English words no Vietnamese finding may hold outside backticks and quotes.
ENGLISH = re.compile(
    r"\b(should|unknown|field|fields|missing|did you mean|allowed|needs?|which|cannot|procedure|level|step|form|"
    r"the|is not|but it is|not a|every|without|twice|page|fee|channel|warning)\b", re.IGNORECASE)
#: Letters only Vietnamese has: an English finding's own words never hold them.
VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹáàãéèíìóòõúùýĐ]", re.IGNORECASE)


def own_words(message: str) -> str:
    """A finding without what it quotes from the spec: `identifiers`, "texts", paths, YAML examples."""
    message = re.sub(r"`[^`]*`", " ", message)
    message = re.sub(r'"[^"]*"', " ", message)
    message = re.sub(r"'[^']*'", " ", message)
    message = message.replace("mức độ 1", " ")  # a value `level` takes as written, in either language
    return re.sub(r"\S*/\S*", " ", message)


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
    return change


def _delete(*path: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target = data
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]
    return change


PROPS = ("form", "fields", "properties")
#: One broken spec per kind of finding: the model, the schema, references, levels, steps ...
BROKEN: dict[str, Callable[[dict[str, Any]], None]] = {
    "unknown key": _set(("levle",), 4),
    "unknown key, no match": _set(("info", "zzzz"), 1),
    "wrong type": _set(("info", "processing_time", "working_days"), "năm"),
    "bad choice": _set(("level",), "fulll"),
    "missing key": _delete("name"),
    "text in another language": _set(("name",), {"vi": "Cấp giấy", "fr": "Certificat"}),
    "schema type": _set(PROPS + ("copies", "type"), "interger"),
    "schema keyword": _set(PROPS + ("copies", "maxmum"), 3),
    "unknown format": _set(PROPS + ("applicant", "properties", "phone", "format"), "vn-mobil"),
    "unsupported keyword": _set(PROPS + ("copies", "not"), {"const": 3}),
    "anyOf": _set(PROPS + ("purpose", "anyOf"), [{"type": "string"}, {"type": "integer"}]),
    "two types": _set(PROPS + ("copies", "type"), ["integer", "string"]),
    "required not a property": _set(("form", "fields", "required"), ["applicant", "copiez"]),
    "x-date on a text": _set(PROPS + ("purpose", "x-date"), {"max": "today"}),
    "x-date bad bound": _set(PROPS + ("applicant", "properties", "full_name"), {"type": "string", "format": "date", "x-date": {"max": "tomorow"}}),
    "backtracking pattern": _set(PROPS + ("applicant", "properties", "full_name", "pattern"), "^(a+)+$"),
    "ascii word class": _set(PROPS + ("applicant", "properties", "full_name", "pattern"), "^\\w+$"),
    "ui path": _set(("form", "ui", "purpose_x"), {"widget": "radio"}),
    "enum label": _set(("form", "ui", "purpose", "enum_labels", "du_lich"), "Du lịch"),
    "contact path": _set(("form", "contact", "phone"), "applicant.mobile"),
    "page field": _set(("form", "pages", 1, "fields"), ["purpose", "copies", "purpos"]),
    "condition field": _set(("attachments", 0, "required_when"), {"field": "purpse", "equals": "lam_viec"}),
    "condition value": _set(("attachments", 0, "required_when"), {"field": "purpose", "equals": "du_lich"}),
    "json logic operator": _set(("attachments", 0, "required_when"), {"==": [{"var": "purpose"}, "x"], "=>": [1, 2]}),
    "fee quantity": _set(("fees", 0, "quantity_field"), "purpose"),
    "duplicate id": lambda d: d["fees"].append(dict(d["fees"][0])),
    "unknown step": lambda d: d["steps"].append("reveiw"),
    "step config": _set(("steps", 0), {"name": "payment", "config": {"mode": "cash"}}),
    "level 2 online": lambda d: d.update(level="forms"),
    "level 3 without form": lambda d: (d.update(level="partial"), d.pop("form")),
    "level 4 in person": _set(("info", "presence_required"), True),
    "no legal basis": _delete("info", "legal_basis"),
    "longest shorter": _set(("info", "processing_time", "max_working_days"), 2),
    "home pickup": lambda d: d["channels"].append({"kind": "desk", "home_pickup": True}),
    "grouped amount": None,  # written as text below: `amount: 5.000`
    "computed": _set(("computed",), {"Tuoi": {"age": "purpose"}}),
    "life event": _set(("life_events",), ["ket-hong"]),
    "performed by": _set(("performed_by",), {"tier": "commune", "agencies": ["000.00.00.H15"]}),
}


def broken_files(folder: Path) -> list[Path]:
    files = []
    for index, (name, change) in enumerate(BROKEN.items()):
        data = base()
        data["code"] = f"1.9990{index:02d}"  # one code each: the only finding of a file is its own
        if change is not None:
            change(data)
        path = write(folder, data, f"spec{index:02d}.yaml")
        if name == "grouped amount":
            path.write_text(path.read_text(encoding="utf-8").replace("amount: 5000", "amount: 5.000"), encoding="utf-8")
        files.append(path)
    for name, text in {
        "yaml tab": "code: '1.999001'\n\tname: x\n",
        "yaml colon": "code: '1.999001'\nname x\nlevel: 4\n",
        "yaml comma": "code: '1.999001'\nname: {vi: Bản án, quyết định}\n",
        "not a mapping": "- a\n- b\n",
        "duplicate key": "code: '1'\ncode: '2'\n",
    }.items():
        path = folder / f"{name.replace(' ', '_')}.yaml"
        path.write_text(text, encoding="utf-8")
        files.append(path)
    return files


@pytest.fixture
def broken(tmp_path: Path) -> list[Path]:
    return broken_files(tmp_path)


def test_the_lint_language_is_vietnamese_unless_a_call_says_otherwise() -> None:
    assert lint_lang() == "vi"
    with speaking("en"):
        assert lint_lang() == "en"
        with speaking("fr"):  # not a language of the platform: Vietnamese
            assert lint_lang() == "vi"
        assert lint_lang() == "en"
    assert lint_lang() == "vi"


def test_every_finding_is_vietnamese_by_default_and_english_on_request(broken: list[Path]) -> None:
    vi = [f for loaded in lint_paths(broken, agencies=_registry()) for f in loaded.findings]
    en = [f for loaded in lint_paths(broken, agencies=_registry(), lang="en") for f in loaded.findings]
    assert len(vi) == len(en) >= len(broken)
    # every broken spec gets at least one finding, in both languages, at the same places
    assert {f.path for f in vi} == {str(p) for p in broken}
    assert sorted((f.path, f.line, f.col, f.severity) for f in vi) == sorted((f.path, f.line, f.col, f.severity) for f in en)
    english_left = [str(f) for f in vi if ENGLISH.search(own_words(f.message)) and not _third_party(f.message)]
    assert not english_left, "\n".join(english_left)
    not_translated = [str(f) for f in en if VIETNAMESE.search(own_words(f.message))]
    assert not not_translated, "\n".join(not_translated)
    assert {f.message for f in vi}.isdisjoint({f.message for f in en})


def _third_party(message: str) -> bool:
    """PyYAML's and jsonschema's own explanations are quoted after ours as they are (English)."""
    return message.startswith(("lỗi cú pháp YAML", "lỗi cú pháp JSON")) or "không phải JSON Schema hợp lệ:" in message


def _registry() -> Any:
    from motcua.agencies import load_registry

    return load_registry()


def test_identifiers_positions_and_suggestions_are_kept(tmp_path: Path) -> None:
    data = base()
    data["levle"] = 4
    path = write(tmp_path, data)
    [vi] = lint_file(path).findings
    [en] = lint_file(path, lang="en").findings
    assert vi.message == "khóa `levle` không hợp lệ trong đặc tả; ý bạn là `level`?"
    assert en.message == "unknown key `levle` in the spec; did you mean `level`?"
    assert (vi.line, vi.col) == (en.line, en.col) and vi.line > 1


def test_levels_read_as_the_administrative_wording(tmp_path: Path) -> None:
    data = base()
    data["level"] = "partial"
    del data["form"]
    messages = [f.message for f in lint_file(write(tmp_path, data)).findings]
    assert "thủ tục mức độ 3 (trực tuyến một phần) được nộp trực tuyến nên cần có `form`" in messages


def test_the_cli_speaks_vietnamese_unless_told(broken: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOTCUA_LANG", raising=False)
    target = next(p for p in broken if p.name == "spec00.yaml")
    vi = CliRunner().invoke(main, ["lint", str(target)])
    en = CliRunner().invoke(main, ["lint", "--lang", "en", str(target)])
    assert vi.exit_code == en.exit_code == 1
    assert f"{target}:" in vi.stdout and "khóa `levle` không hợp lệ trong đặc tả; ý bạn là `level`?" in vi.stdout
    assert "đã kiểm tra 1 tệp: 1 lỗi, 0 cảnh báo" in vi.stderr
    assert f"{target}:" in en.stdout and "unknown key `levle` in the spec; did you mean `level`?" in en.stdout
    assert "1 file(s) checked: 1 error(s), 0 warning(s)" in en.stderr
    monkeypatch.setenv("MOTCUA_LANG", "en")
    assert "did you mean `level`?" in CliRunner().invoke(main, ["lint", str(target)]).stdout


def test_agencies_check_speaks_the_chosen_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOTCUA_LANG", raising=False)
    registry = tmp_path / "agencies.yaml"
    registry.write_text(yaml.safe_dump({
        "version": "2026.1", "province_code": "48", "hours": {"vi": "Thứ Hai–Thứ Sáu", "en": "Monday–Friday"},
        "agencies": [{"code": "000.00.A0.H15", "name": {"vi": "Sở Tư pháp", "en": "Department of Justice"},
                      "tier": "province", "kind": "so", "province_code": "48"}]}, allow_unicode=True), encoding="utf-8")
    vi = CliRunner().invoke(main, ["agencies", "check", str(registry)])
    en = CliRunner().invoke(main, ["agencies", "check", "--lang", "en", str(registry)])
    assert vi.exit_code == en.exit_code == 1
    assert "000.00.A0.H15 không phải mã theo QCVN 102:2016" in vi.stderr
    assert "000.00.A0.H15 is not a QCVN 102:2016 code" in en.stderr


def test_the_catalogue_lints_again_in_another_language(tmp_path: Path) -> None:
    from motcua.catalogue import Catalogue

    specs = tmp_path / "specs"
    data = base()
    del data["info"]["legal_basis"]  # a warning: served all the same
    write(specs, data, "warned.yaml")
    vi = Catalogue.from_folder(specs, tmp_path / "cache").problems
    with speaking("en"):
        en = Catalogue.from_folder(specs, tmp_path / "cache").problems
    assert [f.message for f in vi] == ["thiếu `legal_basis`: công dân cần thấy các văn bản pháp luật làm căn cứ cho thủ tục này"]
    assert [f.message for f in en] == ["no `legal_basis`: citizens should see the legal texts this procedure rests on"]


def test_the_studio_words_findings_in_its_ui_language(studio_app) -> None:  # noqa: F811
    from tests.test_studio import client_of, new_text, token

    author = client_of(studio_app, "soan")
    bad = new_text().replace("amount: 15000", "amout: 15000")
    csrf = {"X-CSRFToken": token(author)}
    vi = author.post("/staff/soan-thao/kiem-tra", json={"text": bad}, headers=csrf).get_json()
    en = author.post("/staff/soan-thao/kiem-tra?lang=en", json={"text": bad}, headers=csrf).get_json()
    assert not vi["ok"] and not en["ok"]
    assert any(f["message"].startswith("khóa `amout` không hợp lệ") and "ý bạn là `amount`?" in f["message"] for f in vi["findings"])
    assert any(f["message"].startswith("unknown key `amout`") and "did you mean `amount`?" in f["message"] for f in en["findings"])
    assert [(f["line"], f["col"]) for f in vi["findings"]] == [(f["line"], f["col"]) for f in en["findings"]]
    # the cookie `?lang=en` left keeps the studio in English, as for every page
    again = author.post("/staff/soan-thao/kiem-tra", json={"text": bad}, headers=csrf).get_json()
    assert again["findings"] == en["findings"]
