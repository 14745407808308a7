"""The wheel a province deploys: the core and the built-ins under the project's own import
names (`motcua`, `motcua_renderers`, `motcua_plugins`; nothing that collides with another
distribution's `plugins` / `renderers`), their templates, fonts and translations, every entry
point naming a module inside it, and no simulator."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from configparser import ConfigParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    # a clean copy: an in-tree build/ left by an earlier build can leak stale modules into a wheel
    source = tmp_path_factory.mktemp("source") / "motcua"
    everywhere = shutil.ignore_patterns(".git", "*.egg-info", "__pycache__", ".pytest_cache")

    def ignore(folder: str, names: list[str]) -> set[str]:
        at_root = {".venv", "build", "dist", "data", "test-results"} if Path(folder) == ROOT else set()
        return set(everywhere(folder, names)) | (at_root & set(names))

    shutil.copytree(ROOT, source, ignore=ignore)
    # no build isolation: the venv's setuptools builds it, nothing is fetched
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                          str(source)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    found = list(out.glob("motcua-*.whl"))
    assert len(found) == 1, found
    return zipfile.ZipFile(found[0])


@pytest.mark.slow
def test_the_wheel_holds_only_the_projects_own_import_names(wheel) -> None:
    names = wheel.namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"motcua", "motcua_renderers", "motcua_plugins"}
    top_level = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
    assert set(wheel.read(top_level).decode().split()) == top
    for needed in ("motcua_plugins/gateways/momo.py", "motcua_plugins/templates/payment/citizen.html",
                   "motcua_renderers/templates/form_fields.html", "motcua_renderers/fonts/DejaVuSans.ttf",
                   "motcua/translations/en/LC_MESSAGES/messages.po", "motcua/templates/workflow/payment_return.html",
                   "motcua/data/holidays.yaml"):
        assert needed in names, needed
    assert not [n for n in names if "simulators" in n], "the simulators are development stand-ins, not in the wheel"


@pytest.mark.slow
def test_every_entry_point_names_a_module_in_the_wheel(wheel) -> None:
    names = set(wheel.namelist())
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    parser = ConfigParser(delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(wheel.read(entry_points).decode())
    groups = {g for g in parser.sections() if g.startswith("motcua.")}
    assert {"motcua.steps", "motcua.gateways", "motcua.carriers", "motcua.notifiers", "motcua.sync"} <= groups
    for group in parser.sections():
        for name, target in parser.items(group):
            module = target.split(":")[0].strip()
            path = module.replace(".", "/")
            assert f"{path}.py" in names or f"{path}/__init__.py" in names, (group, name, target)
            assert module.split(".")[0] in ("motcua", "motcua_plugins", "motcua_renderers"), target
