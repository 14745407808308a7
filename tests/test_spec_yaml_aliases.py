"""YAML alias bombs ("billion laughs"): nested aliases expanding a few hundred bytes into
billions of values are refused quickly, with the file and line, by the loader, the `motcua
lint` path and the studio's as-you-type check; the shipped specs' small anchors still load."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from motcua.spec.lint import lint_paths
from motcua.spec.loader import MAX_EXPANDED_NODES, read_spec
from tests.test_studio import client_of, specs, studio_app, token  # noqa: F401 - fixtures

#: The findings' English wording is what these tests hold (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english_findings")


SPECS = Path(__file__).parent.parent / "procedure_specs"


def bomb() -> str:
    """Nine levels of nine aliases each: 9**9 strings once expanded, 342 bytes of text."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{cur}: &{cur} [" + ",".join(["*" + prev] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_the_loader_refuses_nested_aliases_quickly_with_file_and_line(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb(), encoding="utf-8")
    started = time.monotonic()
    loaded = read_spec(path)
    assert time.monotonic() - started < 2
    [finding] = loaded.findings
    assert finding.path == str(path) and finding.severity == "error"
    assert finding.line == 6  # f: the first value that alone expands past the limit
    assert "aliases" in finding.message and f"{MAX_EXPANDED_NODES:,}" in finding.message


def test_the_studio_check_refuses_it_quickly(studio_app):  # noqa: F811
    author = client_of(studio_app, "soan")
    started = time.monotonic()
    found = author.post("/staff/soan-thao/kiem-tra", json={"text": bomb()}, headers={"X-CSRFToken": token(author)}).get_json()
    assert time.monotonic() - started < 5
    assert not found["ok"] and any(f["line"] == 6 and "alias YAML" in f["message"] for f in found["findings"])


def test_the_shipped_specs_with_small_anchors_still_lint_clean():
    anchored = [p for p in SPECS.rglob("*.yaml") if "&" in p.read_text(encoding="utf-8")]
    assert anchored  # the shipped specs do use anchors: they must keep working
    assert not [f for loaded in lint_paths(anchored) for f in loaded.findings if f.severity == "error"]
