"""What an administrator may paste into the national record importer and the studio's "new
procedure" page, and what it must not do to the server or to the draft (review findings):

- every expression the importer searches with is bounded (linear in the text; checked on the
  parsed expressions, not by timing) and free of catastrophic backtracking; adversarial
  records at the size limit are read, longer ones are refused with a Vietnamese message;
- notes never break out of their `#` comment, whatever the record holds;
- codes and numbers are ASCII digits (`\\d` takes Arabic-Indic and full-width ones);
- a huge amount is a note, not a 500; a blank-template name with control characters still
  makes a readable draft; `motcua spec import` on a non-UTF-8 file says so.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from motcua import studio
from motcua.spec import national_import
from motcua.spec.model import ProcedureSpec
from motcua.spec.national_import import (MAX_LINE_CHARS, MAX_RECORD_CHARS, Imported, Note, RecordRefused,
                                         parse_fees, parse_time, read_record, to_yaml)
from motcua.spec.redos import backtracking_problem, unbounded_repeats

from test_backoffice import csrf_of
from test_studio import client_of, specs, studio_app  # noqa: F401 (fixtures)

FIXTURES = Path(__file__).parent / "fixtures" / "national"
BIRTH = (FIXTURES / "dang-ky-khai-sinh.txt").read_text(encoding="utf-8")
HEAD = "Mã thủ tục: 1.999111\nTên thủ tục: Thử\n"
RE_CALLS = {"compile", "search", "match", "fullmatch", "sub", "subn", "split", "findall", "finditer"}
PACKAGES = [Path(__file__).parent.parent / folder for folder in ("platform/motcua", "plugins", "renderers")]


def importer_expressions() -> dict[str, re.Pattern[str]]:
    """Every expression national_import searches with: its module-level compiled ones, and
    the literal patterns of its `re.*` calls. A call whose pattern is neither cannot be
    checked, so it fails here."""
    found = {name: value for name, value in vars(national_import).items() if isinstance(value, re.Pattern)}
    tree = ast.parse(Path(national_import.__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RE_CALLS
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"):
            first = node.args[0]
            if node.func.attr == "compile" and not isinstance(first, ast.Constant):
                continue  # a pattern built at module level: in `found` by its name
            assert isinstance(first, ast.Constant) and isinstance(first.value, str), \
                f"line {node.lineno}: a pattern that is not a literal cannot be checked; compile it at module level"
            positional = node.args[2:3] if node.func.attr in {"search", "match", "fullmatch"} else []
            given = [k.value for k in node.keywords if k.arg == "flags"] + positional
            flags = eval(compile(ast.Expression(given[0]), "<flags>", "eval"), {"re": re}) if given else 0
            found[f"line {node.lineno}"] = re.compile(first.value, flags)
    return found


def test_every_importer_expression_is_bounded_and_cannot_backtrack_catastrophically():
    expressions = importer_expressions()
    assert {"COUNT", "FEE_ITEM", "DAYS", "_HEADING", "BULLET", "CODE"} <= set(expressions)
    assert len(expressions) > 15
    for name, expression in expressions.items():
        assert unbounded_repeats(expression.pattern, expression.flags) == [], f"{name}: {expression.pattern}"
        prefix = "(?i)" if expression.flags & re.IGNORECASE else ""
        assert backtracking_problem(prefix + expression.pattern) is None, f"{name}: {expression.pattern}"
        assert "\\d" not in expression.pattern, f"{name}: `\\d` takes every Unicode digit"


def test_the_bound_check_sees_the_quadratic_gap_the_reviewer_found():
    assert unbounded_repeats(r"bản chính\s*:?\s*(\d+).*?bản sao\s*:?\s*(\d+)", re.IGNORECASE) != []
    assert unbounded_repeats(r"bản chính\s{0,10}([0-9]{1,3}).{0,40}?bản sao") == []


ADVERSARIAL = r'''
import sys, time
from motcua.spec.national_import import MAX_LINE_CHARS as L, MAX_RECORD_CHARS as R, read_record, to_yaml
head = "Mã thủ tục: 1.999111\nTên thủ tục: X\n"
def lines(text):
    line = (text * (L // len(text) + 1))[:L - 40]
    return "\n".join([line] * ((R - 200) // (L - 39)))
records = [
    head + "Thành phần hồ sơ:\n" + lines("bản chính 1 "),
    head + "Thành phần hồ sơ:\n" + lines("Bản chính:          1 - "),
    head + "Cách thức thực hiện:\n" + lines("Trực tiếp\t1 " + "phí :          1 "),
    head + "Cách thức thực hiện:\nTrực tiếp\t" + lines("1 (          ) "),
    head + "Căn cứ pháp lý:\n" + lines("1/2014/"),
    head + "Trình tự thực hiện:\n" + lines("Bước          1          "),
    head + "Trình tự thực hiện:\n" + "a\n" * ((R - 100) // 2),
    head + "Cách thức thực hiện:\nTrực tiếp\t1 ngày\n" + "a\n" * ((R - 100) // 2),
    head + "Thành phần hồ sơ:\nTờ khai\tBản chính: 1 - Bản sao: 0\n" + "a\n" * ((R - 100) // 2),
    lines("Mã thủ tục" + " " * 100),
]
for record in records:
    assert len(record) <= R, len(record)
    to_yaml(read_record(record, version="2026.1"))
print("read", len(records))
'''


def test_adversarial_records_at_the_size_limit_are_read():
    # the bounds above make the reading linear; the timeout is only a safety net for a regression
    done = subprocess.run([sys.executable, "-c", ADVERSARIAL], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "read 10"


def test_a_record_or_a_line_too_long_is_refused_with_a_message():
    pasted = HEAD + "Trình tự thực hiện:\n" + "- bước\n" * (MAX_RECORD_CHARS // 7 + 1)
    with pytest.raises(RecordRefused) as too_long:
        read_record(pasted)
    assert too_long.value.text().startswith(f"Nội dung đã dán dài {len(pasted)} ký tự, quá giới hạn {MAX_RECORD_CHARS} ký tự")
    with pytest.raises(RecordRefused) as long_line:
        read_record(HEAD + "Thành phần hồ sơ:\n" + "bản chính 1 " * (MAX_LINE_CHARS // 12 + 1))
    assert long_line.value.text().startswith(f"Dòng 4 dài {(MAX_LINE_CHARS // 12 + 1) * 12} ký tự, quá giới hạn {MAX_LINE_CHARS} ký tự")
    # a line at the limit is read
    assert read_record(HEAD + "Thành phần hồ sơ:\n" + "x" * MAX_LINE_CHARS).code == "1.999111"


def test_the_studio_refuses_a_line_too_long_and_keeps_the_text(studio_app):
    author = client_of(studio_app, "soan")
    pasted = HEAD + "Thành phần hồ sơ:\n" + "bản chính 1 " * 1000
    page = author.get("/staff/soan-thao/moi").get_data(as_text=True)
    response = author.post("/staff/soan-thao/moi", data={"source": "national", "record": pasted, "csrf_token": csrf_of(page)})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Dòng 4 dài 12000 ký tự, quá giới hạn 5000 ký tự của một dòng" in body
    assert "Tên thủ tục: Thử" in body and "bản chính 1 bản chính 1" in body  # the pasted text is kept
    assert studio.record(studio_app.extensions["motcua"].store, "1.999111") == {}
    english = author.post("/staff/soan-thao/moi?lang=en", data={"source": "national", "record": pasted, "csrf_token": csrf_of(page)})
    assert "Line 4 is 12000 characters long" in english.get_data(as_text=True)


def header_and_body(text: str) -> tuple[list[str], dict]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(("code:", "{code:")))
    return lines[:start], yaml.safe_load(text)


def test_notes_stay_comments_with_long_multi_line_values():
    agency = [("Ủy ban nhân dân " + "rất dài " * 480).strip() for _ in range(3)]  # 3 lines of ~3900 characters: 11 700 joined
    record = BIRTH.replace("Cơ quan thực hiện:\tỦy ban nhân dân cấp xã", "Cơ quan thực hiện:\n" + "\n".join(agency) + "\nsteps: [payment]")
    record = record.replace("Cấp thực hiện:\tCấp Xã", "Cấp thực hiện:\tCấp\x7f Xã\x9b")
    imported = read_record(record, version="2026.1")
    for translate in (None, lambda message, **params: message.format(**params) + "\n  (dịch)"):
        header, data = header_and_body(to_yaml(imported, translate))
        assert all(line.startswith("# ") for line in header), [line[:80] for line in header if not line.startswith("# ")]
        assert data["performed_by"]["name"] == " ".join(agency) + " steps: [payment]"
        assert "steps" not in data or data["steps"] != ["payment"]


def test_every_note_line_is_one_comment_line():
    note = Note(3, "không đọc được: «{text}»", {"text": "một\ndòng\r\nhai\u2028ba\x85bốn\x00\x7f\x9b năm  \t sáu"})
    text = to_yaml(Imported({"code": "1.999111", "version": "1"}, [note], "1.999111"))
    header, data = header_and_body(text)
    assert header[-1] == "# TODO (dòng 3): không đọc được: «một dòng hai ba bốn\ufffd\ufffd\ufffd năm sáu»"
    assert data == {"code": "1.999111", "version": "1"}


@pytest.mark.parametrize("digits", ["١.٠٠١١٩٣", "１.００１１９３", "۱.۰۰۱۱۹۳"])
def test_codes_and_numbers_in_non_ascii_digits_are_not_read(digits, studio_app):
    imported = read_record(f"Mã thủ tục: {digits}\nTên thủ tục: Thử\n")
    assert imported.code is None and imported.data["code"] == "0.000000"
    with pytest.raises(ValueError):
        ProcedureSpec.model_validate({**read_record(BIRTH).data, "code": digits})
    with pytest.raises(studio.StudioError):
        studio.create(studio_app.extensions["motcua"].store, digits, "x", "soan", [])
    assert studio.CODE.fullmatch("1.001193") and studio.CODE.fullmatch("1.001193.H15")


def test_amounts_counts_and_days_in_non_ascii_digits_are_not_read():
    assert parse_fees("Lệ phí: ٥٠٠٠ đồng") == ([], True)
    assert parse_fees("Lệ phí: ５０００ đồng") == ([], True)
    assert parse_time("٣ ngày làm việc") is None
    imported = read_record(HEAD + "Thành phần hồ sơ:\nTờ khai\tBản chính: ١ - Bản sao: 0\n")
    assert "attachments" not in imported.data
    assert any("không có số bản chính, bản sao" in note.text() for note in imported.notes)


def test_no_regex_in_the_packages_uses_unicode_digits():
    """`\\d` in any string of the code (not a docstring) is a pattern taking every Unicode
    digit: write `[0-9]`. pydantic's `pattern=` (Rust regex) reads `\\d` as Unicode too."""
    offenders = []
    for package in PACKAGES:
        for path in package.rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                          if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                          and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings and "\\d" in node.value:
                    offenders.append(f"{path.relative_to(package.parent)}:{node.lineno}")
    assert offenders == []


def test_amounts_longer_than_twelve_digits_are_a_note_not_a_fee():
    assert parse_fees("Lệ phí: 999.999.999.999 đồng") == ([("charge", 999_999_999_999, "")], False)
    assert parse_fees("Lệ phí: 9999999999999 đồng") == ([], True)
    assert parse_fees("Lệ phí: " + "9" * 400 + " đồng") == ([], True)
    assert parse_fees("Lệ phí: " + "9" * 5000 + " đồng") == ([], True)
    record = BIRTH.replace("Lệ phí : 0 Đồng", "Lệ phí : " + "9" * 4500 + " Đồng", 1)
    imported = read_record(record, version="2026.1")
    assert [f["amount"] for f in imported.data["fees"]] == [0]  # the other channels' amount; the huge one left out
    assert any(note.text().startswith("không đọc được phí, lệ phí «Lệ phí : 9999") for note in imported.notes)
    counts = read_record(HEAD + "Thành phần hồ sơ:\nTờ khai\tBản chính: " + "9" * 4500 + " - Bản sao: 0\n")
    assert "attachments" not in counts.data


def test_the_studio_imports_a_record_with_a_huge_amount(studio_app):
    author = client_of(studio_app, "soan")
    record = BIRTH.replace("Lệ phí : 0 Đồng", "Lệ phí : " + "9" * 4500 + " Đồng", 1)
    page = author.get("/staff/soan-thao/moi").get_data(as_text=True)
    response = author.post("/staff/soan-thao/moi", data={"source": "national", "record": record, "csrf_token": csrf_of(page)})
    assert response.status_code == 302
    text = studio.record(studio_app.extensions["motcua"].store, "1.001193")["draft"]["text"]
    assert "# TODO (dòng 15): không đọc được phí, lệ phí «Lệ phí : 9999" in text
    assert yaml.safe_load(text)["fees"][0]["amount"] == 0


def test_a_blank_template_name_with_control_characters_makes_a_readable_draft(studio_app):
    store = studio_app.extensions["motcua"].store
    author = client_of(studio_app, "soan")
    page = author.get("/staff/soan-thao/moi").get_data(as_text=True)
    name = "Cấp giấy\x7f xác nhận\x85: \x9b\n thử \"x\" \\"
    response = author.post("/staff/soan-thao/moi", data={"source": "blank", "code": "1.999125", "name": name, "csrf_token": csrf_of(page)})
    assert response.status_code == 302
    text = studio.record(store, "1.999125")["draft"]["text"]
    linted = studio.lint_text(text, agencies=studio_app.extensions["motcua"].catalogue.agencies)
    assert linted.ok, [f.message for f in linted.findings]
    # one line: its line breaks (\n, U+0085) and runs of spaces are one space; DEL and C1 controls kept, escaped
    assert linted.spec is not None and linted.spec.name == {"vi": "Cấp giấy\x7f xác nhận : \x9b thử \"x\" \\"}


def test_cli_says_a_file_is_not_utf8_and_a_record_too_long(tmp_path):
    from motcua.cli import main

    latin = tmp_path / "ban-ghi.txt"
    latin.write_bytes(BIRTH.encode("cp1258", errors="replace"))
    result = CliRunner().invoke(main, ["spec", "import", str(latin)])
    assert result.exit_code == 1 and result.exception is None or isinstance(result.exception, SystemExit)
    assert f"{latin} không phải văn bản UTF-8 (byte không đọc được ở vị trí" in result.output
    english = CliRunner().invoke(main, ["spec", "import", str(latin), "--lang", "en"])
    assert f"{latin} is not UTF-8 text" in english.output
    long = tmp_path / "dai.txt"
    long.write_text(HEAD + "x" * (MAX_LINE_CHARS + 1), encoding="utf-8")
    refused = CliRunner().invoke(main, ["spec", "import", str(long)])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert f"{long}: Dòng 3 dài {MAX_LINE_CHARS + 1} ký tự" in refused.output
    nines = tmp_path / "phi.txt"
    nines.write_text(BIRTH.replace("Lệ phí : 0 Đồng", "Lệ phí : " + "9" * 4500 + " Đồng", 1), encoding="utf-8")
    read = CliRunner().invoke(main, ["spec", "import", str(nines)])
    assert read.exit_code == 0 and "không đọc được phí, lệ phí" in read.stderr
