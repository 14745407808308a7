"""The core (platform/motcua) imports no built-in plugin: it reaches gateways, carriers,
steps ... through the registries only, as it would a third-party package."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "platform" / "motcua"


def plugin_imports(source: str, filename: str) -> list[str]:
    """Every `import plugins...` / `from plugins... import` (also inside functions), and
    importlib calls naming it, in one module."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found += [f"{filename}:{node.lineno}: import {a.name}" for a in node.names if a.name.split(".")[0] == "plugins"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "plugins":
            found.append(f"{filename}:{node.lineno}: from {node.module} import ...")
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str) and node.args[0].value.split(".")[0] == "plugins"
              and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")):
            found.append(f"{filename}:{node.lineno}: import_module({node.args[0].value!r})")
    return found


def test_the_check_sees_each_way_of_importing() -> None:
    sample = ("import plugins.payment\nfrom plugins.gateways import vnpay\ndef f():\n    from plugins import postal\n"
              "import importlib\nimportlib.import_module('plugins.notify')\nimport motcua.plugins_ok\nfrom . import plugins\n")
    assert len(plugin_imports(sample, "x.py")) == 4


def test_core_imports_no_built_in_plugin() -> None:
    files = sorted(CORE.rglob("*.py"))
    assert len(files) > 50
    found = [hit for path in files for hit in plugin_imports(path.read_text(encoding="utf-8"), str(path.relative_to(CORE)))]
    assert not found, "the core must reach plugins through motcua.integrations registries:\n" + "\n".join(found)
