"""`motcua lint` and `motcua schema` as an administrator runs them.

The five bad inputs of the linter issue each sit in a folder next to a good spec: the bad
one gets exactly one clear line with its position, and the good one is still checked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from motcua.cli import main

#: The findings' English wording is what these tests hold (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english_findings")


REPO = Path(__file__).resolve().parent.parent
BASE = Path(__file__).parent / "specs_bad" / "base.yaml"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def folder_with(tmp_path: Path, bad_text: str) -> tuple[Path, Path]:
    """A folder holding a good spec and a bad one (with its own procedure code)."""
    folder = tmp_path / "specs"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "good.yaml").write_text(BASE.read_text(encoding="utf-8"), encoding="utf-8")
    bad = folder / "bad.yaml"
    bad.write_text(bad_text.replace('code: "1.999001"', 'code: "1.999002"'), encoding="utf-8")
    return folder, bad


def base_with(old: str, new: str) -> str:
    text = BASE.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    return text.replace(old, new)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def one_line_for(tmp_path: Path, bad_text: str) -> tuple[Path, str]:
    folder, bad = folder_with(tmp_path, bad_text)
    result = run("lint", str(folder))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    assert lines[0].startswith(f"{bad}:")
    assert "2 file(s) checked: 1 error(s), 0 warning(s)" in result.stderr  # good.yaml was checked too
    return bad, lines[0]


# --- the five bad inputs --------------------------------------------------------------------


def test_tab_in_indentation(tmp_path):
    text = base_with("\n  tier: commune", "\n\ttier: commune")
    bad, line = one_line_for(tmp_path, text)
    assert line.startswith(f"{bad}:{line_of(text, 'tier: commune')}:1: error: ")
    assert "tab character is used for indentation" in line


def test_missing_colon(tmp_path):
    text = base_with('version: "1"', 'version "1"')
    bad, line = one_line_for(tmp_path, text)
    assert line.startswith(f"{bad}:{line_of(text, 'version')}:1: error: ")
    assert "missing `:` after `version`" in line


def test_a_string_where_a_number_belongs(tmp_path):
    text = base_with("    working_days: 3", "    working_days: ba")
    bad, line = one_line_for(tmp_path, text)
    assert line.startswith(f"{bad}:{line_of(text, 'working_days: ba')}:19: error: ")
    assert '`info.processing_time.working_days` should be a whole number, but it is the text "ba"' in line


def test_a_six_megabyte_file(tmp_path):
    text = BASE.read_text(encoding="utf-8")
    text += ("# " + "x" * 97 + "\n") * ((6_000_000 - len(text.encode())) // 100)
    bad, line = one_line_for(tmp_path, text)
    assert line.startswith(f"{bad}:1:1: error: the file is 6.0 MB, over the 1 MB limit")


def test_form_fields_that_are_not_json_schema(tmp_path):
    text = base_with("      copies:\n        type: integer", "      copies:\n        type: int")
    bad, line = one_line_for(tmp_path, text)
    assert line.startswith(f"{bad}:{line_of(text, 'type: int')}:15: error: ")
    assert "`form.fields.properties.copies.type`: `int` is not a JSON Schema type" in line


# --- exit codes, formats, paths -------------------------------------------------------------


def test_shipped_specs_pass_with_exit_0():
    result = run("lint", str(REPO / "procedure_specs"))
    assert result.exit_code == 0, result.stdout
    assert result.stdout == ""
    assert " 0 error(s), 0 warning(s)" in result.stderr


def test_default_path_is_procedure_specs(tmp_path, monkeypatch):
    folder, _ = folder_with(tmp_path, base_with('version: "1"', 'version "1"'))
    folder.rename(tmp_path / "procedure_specs")
    monkeypatch.chdir(tmp_path)
    result = run("lint")
    assert result.exit_code == 1
    assert result.stdout.startswith("procedure_specs/bad.yaml:")


def test_files_and_folders_can_be_mixed(tmp_path):
    folder, bad = folder_with(tmp_path, base_with('version: "1"', 'version "1"'))
    assert run("lint", str(folder / "a" / "good.yaml")).exit_code == 0
    assert run("lint", str(folder / "a"), str(bad)).exit_code == 1


def test_warnings_alone_exit_0(tmp_path):
    text = base_with("format: vn-mobile", "format: vn-mobil")
    folder, bad = folder_with(tmp_path, text)
    result = run("lint", str(bad))
    assert result.exit_code == 0
    assert result.stdout.startswith(f"{bad}:{line_of(text, 'vn-mobil')}:")
    assert ": warning: unknown format `vn-mobil`" in result.stdout


def test_json_format_gives_the_same_findings(tmp_path):
    folder, bad = folder_with(tmp_path, base_with("    working_days: 3", "    working_days: ba").replace("level: full", "level: fulll"))
    text = run("lint", str(folder))
    as_json = run("lint", "--format", "json", str(folder))
    assert as_json.exit_code == text.exit_code == 1
    findings = json.loads(as_json.stdout)
    assert len(findings) == 2
    assert {tuple(f) for f in findings} == {("path", "line", "col", "severity", "message")}
    assert [f"{f['path']}:{f['line']}:{f['col']}: {f['severity']}: {f['message']}" for f in findings] == text.stdout.splitlines()
    assert json.loads(run("lint", "--format", "json", str(REPO / "procedure_specs")).stdout) == []


def test_missing_path_and_empty_folder(tmp_path):
    result = run("lint", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 1
    assert "cannot read the file" in result.stdout
    (tmp_path / "empty").mkdir()
    result = run("lint", str(tmp_path / "empty"))
    assert result.exit_code == 1
    assert "no spec files found" in result.stderr


# --- the editor schema ----------------------------------------------------------------------


def test_schema_command_prints_the_committed_schema(tmp_path):
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] and schema["$id"]
    assert result.stdout == (REPO / "procedure_specs" / "schema.json").read_text(encoding="utf-8"), (
        "procedure_specs/schema.json is stale; regenerate it: motcua schema -o procedure_specs/schema.json"
    )
    out = tmp_path / "schema.json"
    assert run("schema", "-o", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8") == result.stdout


@pytest.mark.parametrize("command", [["lint", "--help"], ["schema", "--help"]])
def test_help(command):
    result = run(*command)
    assert result.exit_code == 0 and "Usage" in result.stdout
