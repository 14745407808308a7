"""`motcua lint` and `motcua schema`: the administrator's tools for writing specs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from motcua.i18n import LANGS
from motcua.spec.lint import lint_paths, step_classes
from motcua.spec.model import ProcedureSpec
from motcua.spec.words import say, speaking

SCHEMA_ID = "urn:motcua:procedure-spec"
SCHEMA_FILE = Path("procedure_specs") / "schema.json"

#: The language findings and notes are worded in: Vietnamese unless `--lang en` or MOTCUA_LANG=en.
lang_option = click.option("--lang", type=click.Choice(LANGS), envvar="MOTCUA_LANG", default="vi", show_default=True,
                           help="Language of the messages (vi, en; or MOTCUA_LANG).")


def editor_schema() -> dict[str, Any]:
    """The spec format's JSON Schema, generated from the model, for editors and tools."""
    schema = ProcedureSpec.model_json_schema()
    # `form.fields` is JSON Schema: typed with the subset the form can show (form_support),
    # so editors complete field definitions too
    from motcua.spec.form_support import editor_defs

    fields = schema["$defs"]["Form"]["properties"]["fields"]
    schema["$defs"]["Form"]["properties"]["fields"] = {
        "$ref": "#/$defs/FormField",
        "description": fields.get("description", ""),
    }
    schema["$defs"].update(editor_defs())
    # a step's `when` completes like every other condition (its hand-written schema, which
    # also takes a plain step name, cannot refer to the `Condition` definition itself)
    step = schema["properties"]["steps"]["items"]["anyOf"][1]["properties"]
    step["when"] = {"description": step["when"]["description"],
                    "anyOf": [{"$ref": "#/$defs/Condition"}, {"type": "object", "additionalProperties": True}]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "Motcua procedure spec (thủ tục hành chính)",
    }


def editor_schema_text() -> str:
    return json.dumps(editor_schema(), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


@click.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: one `path:line:col: severity: message` line per finding; json: an array for tools.")
@lang_option
def lint(paths: tuple[Path, ...], output: str, lang: str) -> None:
    """Check procedure specs (files or folders; default procedure_specs/).

    Exits 0 when every spec is valid (warnings allowed), 1 when any has an error.
    """
    with speaking(lang):
        _lint(paths, output)


def _lint(paths: tuple[Path, ...], output: str) -> None:
    steps, why = step_classes()
    if steps is None:
        click.echo(say("lưu ý: tên bước và cấu hình bước chưa được kiểm tra: {why}", why=why), err=True)
    from motcua.agencies import RegistryError, load_registry, registry_path

    try:  # codes are checked against the deployment's registry (MOTCUA_AGENCY_REGISTRY)
        agencies = load_registry(registry_path())
    except RegistryError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        sys.exit(1)
    results = lint_paths(paths or (Path("procedure_specs"),), steps, load_steps=False, agencies=agencies)
    findings = [finding for loaded in results for finding in loaded.findings]
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    if output == "json":
        click.echo(json.dumps([f.as_dict() for f in findings], ensure_ascii=False, indent=2))
    else:
        for finding in findings:
            click.echo(str(finding))
    if not results:
        click.echo(say("không tìm thấy tệp đặc tả nào (đã tìm các tệp .yaml, .yml và .json)"), err=True)
        sys.exit(1)
    click.echo(say("đã kiểm tra {files} tệp: {errors} lỗi, {warnings} cảnh báo", files=len(results), errors=errors, warnings=warnings), err=True)
    sys.exit(1 if errors else 0)


@click.command("schema")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"Write to this file (e.g. {SCHEMA_FILE}) instead of printing.")
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the spec format, for editor completion and checks.

    Specs point at the committed copy with `# yaml-language-server: $schema=../schema.json`;
    regenerate it after changing the model: `motcua schema -o procedure_specs/schema.json`.
    """
    text = editor_schema_text()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@click.group("spec")
def spec_group() -> None:
    """Tools for writing procedure specs."""


@spec_group.command("import")
@click.argument("source", type=click.File("rb"))
@click.option("--version", "version", default=None, help="The draft's `version` (default: this year's first, e.g. 2026.1).")
@lang_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the YAML to this file instead of printing it.")
def import_command(source: Any, version: str | None, lang: str, output: Path | None) -> None:
    """Read a procedure's record copied from the national procedure database (SOURCE, a text
    file; `-` reads standard input) into a draft spec: YAML with everything but the form.

    What could not be read, and what was guessed (level, who performs it), is printed to
    standard error with its line number and written at the top of the YAML as TODO comments.
    """
    from datetime import date

    from motcua.i18n import N_, t
    from motcua.spec.national_import import RecordRefused, read_record, to_yaml

    def say(message: str, **params: Any) -> str:
        return t(message, lang, **params)

    raw = source.read()
    try:
        record = raw.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        raise click.ClickException(say(N_("{name} không phải văn bản UTF-8 (byte không đọc được ở vị trí {position}): "
                                          "hãy lưu tệp với bảng mã UTF-8 rồi nhập lại."), name=source.name, position=exc.start)) from None
    try:
        imported = read_record(record, version=version or f"{date.today().year}.1")
    except RecordRefused as exc:
        raise click.ClickException(f"{source.name}: {exc.text(say)}") from None
    text = to_yaml(imported, say)
    for note in imported.notes:
        click.echo(f"{source.name}:{note.line}: {note.text(say)}", err=True)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
