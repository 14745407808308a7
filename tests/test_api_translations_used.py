"""Every English translation is of a string the code still says.

A key of platform/motcua/translations/en/*.yaml must be, exactly, a string constant of the
Python sources (read with `ast`, so implicitly joined literals count as one), a string
literal of the Jinja templates (read with Jinja's own lexer), or a string literal of the
scripts, under platform/, renderers/ and plugins/. Keys looked up with text that is not
written in the code (built from data) are listed in DYNAMIC with where they come from; an
entry there that the code does say, or that no file has any more, fails too, so the list
stays true.
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

import yaml
from jinja2 import Environment

REPO = Path(__file__).resolve().parent.parent
ROOTS = [REPO / "platform", REPO / "renderers", REPO / "plugins"]
TRANSLATIONS = REPO / "platform" / "motcua" / "translations" / "en"

#: Keys whose text comes from data, not from the code: key -> where it is looked up.
DYNAMIC = {
    "Hồ Chí Minh": "motcua.units: a province's English name is looked up by its bare Vietnamese name "
                   "(from the vietnam-provinces table)",
}

_JS_STRING = re.compile(r"""(["'`])((?:\\.|(?!\1).)*)\1""", re.S)


def _files(suffix: str) -> list[Path]:
    return sorted(p for root in ROOTS for p in root.rglob(f"*{suffix}") if "translations" not in p.parts)


@lru_cache(maxsize=1)
def said() -> frozenset[str]:
    """Every string constant of the sources."""
    found: set[str] = set()
    for path in _files(".py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found.update(n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str))
    lexer = Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"]).lexer
    for path in _files(".html") + _files(".txt"):
        for token in lexer.tokenize(path.read_text(encoding="utf-8"), name=str(path)):
            if token.type == "string":
                found.add(token.value)
    for path in _files(".js"):
        found.update(m.group(2) for m in _JS_STRING.finditer(path.read_text(encoding="utf-8")))
    return frozenset(found)


def keys() -> dict[str, list[str]]:
    """Each key -> the files that translate it."""
    out: dict[str, list[str]] = {}
    for path in sorted(TRANSLATIONS.glob("*.yaml")):
        for key in yaml.safe_load(path.read_text(encoding="utf-8")) or {}:
            out.setdefault(str(key), []).append(path.name)
    return out


def test_the_sources_are_read():
    strings = said()
    # one of each kind of source: a Python call, a joined literal, a template, a script
    assert "Nội dung bổ sung dài tối đa {n} ký tự." in strings
    assert any(s.startswith("Không tìm thấy “{name}” trong {province}. Từ ngày {date}") and s.endswith("trong danh sách")
               for s in strings)
    assert "Gửi hồ sơ bổ sung" in strings  # templates/portal/supplement.html
    assert len(keys()) > 300


def test_every_translation_is_of_a_string_the_code_says():
    strings = said()
    unused = {key: files for key, files in keys().items() if key not in strings and key not in DYNAMIC}
    assert not unused, "translations of strings nothing says any more (delete them, or list them in DYNAMIC):\n" + "\n".join(
        f"  {files}: {key!r}" for key, files in sorted(unused.items()))


def test_the_dynamic_list_is_true():
    strings, known = said(), keys()
    assert [k for k in DYNAMIC if k not in known] == []  # still translated
    assert [k for k in DYNAMIC if k in strings] == []  # not said by the code itself
