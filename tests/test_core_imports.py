"""The core (platform/motcua) imports no built-in plugin (`motcua_plugins`): it reaches
gateways, carriers, steps ... through the registries only, as it would a third-party package.
And nothing in the repository imports the folders' own names (`plugins`, `renderers`): they
install as `motcua_plugins` / `motcua_renderers` (setup.py)."""

from __future__ import annotations

import ast
import os
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "platform" / "motcua"


ROOT = Path(__file__).resolve().parents[1]
BUILT_IN = "motcua_plugins"


def plugin_imports(source: str, filename: str, package: str | tuple[str, ...] = BUILT_IN) -> list[str]:
    """Every `import <package>...` / `from <package>... import` (also inside functions), and
    importlib calls naming it, in one module; `package` may name several."""
    packages = (package,) if isinstance(package, str) else package
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found += [f"{filename}:{node.lineno}: import {a.name}" for a in node.names if a.name.split(".")[0] in packages]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] in packages:
            found.append(f"{filename}:{node.lineno}: from {node.module} import ...")
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str) and node.args[0].value.split(".")[0] in packages
              and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")):
            found.append(f"{filename}:{node.lineno}: import_module({node.args[0].value!r})")
    return found


def test_the_check_sees_each_way_of_importing() -> None:
    sample = ("import motcua_plugins.payment\nfrom motcua_plugins.gateways import vnpay\ndef f():\n"
              "    from motcua_plugins import postal\nimport importlib\nimportlib.import_module('motcua_plugins.notify')\n"
              "import motcua.plugins_ok\nfrom . import motcua_plugins\n")
    assert len(plugin_imports(sample, "x.py")) == 4
    assert len(plugin_imports("from plugins import payment\nimport renderers.form\n", "y.py", "plugins")) == 1
    assert len(plugin_imports("from plugins import payment\nimport renderers.form\n", "y.py", ("plugins", "renderers"))) == 2


def test_core_imports_no_built_in_plugin() -> None:
    files = sorted(CORE.rglob("*.py"))
    assert len(files) > 50
    found = [hit for path in files for hit in plugin_imports(path.read_text(encoding="utf-8"), str(path.relative_to(CORE)))]
    assert not found, "the core must reach plugins through motcua.integrations registries:\n" + "\n".join(found)


def test_nothing_imports_the_source_folders_by_their_own_names() -> None:
    """`plugins` / `renderers` are folder names, not import names: an import of either would
    load a second copy of the modules (and fails on the packages' guard)."""
    files = list(_repository_sources())
    assert len(files) > 100
    found = [hit for path in files
             for hit in plugin_imports(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)), ("plugins", "renderers"))]
    assert not found, "import motcua_plugins / motcua_renderers instead:\n" + "\n".join(found)


def _repository_sources():
    """The repository's own .py files: the installed packages, builds and caches are never
    walked (.venv alone holds tens of thousands of files)."""
    skipped = {".venv", "build", "node_modules", ".git", "__pycache__", ".hypothesis"}
    for folder, subfolders, names in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if d not in skipped and not d.endswith(".egg-info")]
        yield from (Path(folder) / name for name in names if name.endswith(".py"))


def test_the_folder_names_refuse_to_be_imported() -> None:
    import subprocess
    import sys

    for name in ("plugins", "renderers"):
        run = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True)
        assert run.returncode != 0 and f"import motcua_{name}, not {name}" in run.stderr, run.stderr
