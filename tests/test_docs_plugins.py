"""docs/plugins.md's examples are complete and runnable: every Python block imports every name
it uses (pyflakes finds no undefined name), imports only what exists, and each plugin class it
defines is accepted by its kind's registry — so a plugin developer can copy one and run it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pyflakes import api as pyflakes_api
from pyflakes import reporter as pyflakes_reporter

from motcua.integrations import REGISTRIES
from motcua.integrations.base import Plugin
from motcua.workflow.step import Step

DOC = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


class _Collect:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        self.lines.append(text)

    def flush(self) -> None:  # pragma: no cover - the reporter's stream protocol
        pass


def test_the_guide_has_an_example_for_every_kind_it_documents() -> None:
    bases = {"Step", "Gateway", "Carrier", "Notifier", "StatusSync", "Widget"}
    found = {base for base in bases for block in BLOCKS if re.search(rf"class \w+\({base}\)", block)}
    assert found == bases, bases - found


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_each_example_uses_only_names_it_imports(number: int) -> None:
    out, err = _Collect(), _Collect()
    pyflakes_api.check(BLOCKS[number], f"docs/plugins.md block {number + 1}", pyflakes_reporter.Reporter(out, err))
    problems = [line for line in out.lines + err.lines if "undefined name" in line or "syntax" in line.lower()]
    assert not problems, "".join(problems) + BLOCKS[number]


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_each_example_runs_and_its_plugins_register(number: int) -> None:
    namespace: dict = {"__name__": f"docs_plugins_block_{number}"}
    exec(compile(BLOCKS[number], f"docs/plugins.md block {number + 1}", "exec"), namespace)  # noqa: S102 - our own doc
    defined = [v for v in namespace.values() if isinstance(v, type) and issubclass(v, (Plugin, Step))
               and v.__module__ == namespace["__name__"]]
    for cls in defined:
        registry = next(r for r in REGISTRIES.values() if issubclass(cls, r.base))
        key = getattr(cls, registry.id_attr)
        assert key and re.fullmatch(r"[a-z][a-z0-9_.-]*", key), cls
        if key in registry.all():
            continue  # the doc shows an installed plugin's code (the test package)
        try:
            assert registry.register(key, cls) is cls
        finally:
            registry.unregister(key)
