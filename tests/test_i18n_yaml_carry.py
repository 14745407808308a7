"""tools/yaml_to_po.py carries English that a branch still wrote in the retired YAML
catalogues into the .po, on a copy of the repository: a new message the code says gets
its English, a changed English wins over the .po's, a key nobody says keeps the YAML until
the run is told to drop it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

REPO = Path(__file__).resolve().parent.parent
PO = Path("platform/motcua/translations/en/LC_MESSAGES/messages.po")


def english(root: Path) -> dict[tuple[str | None, str], object]:
    with (root / PO).open("rb") as handle:
        return {(m.context, m.id): m.string for m in read_po(handle) if m.id}


def test_yaml_entries_arriving_with_a_merge_are_carried_into_the_catalogue(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    for part in ("babel.cfg", "Makefile", "tools", "platform", "renderers", "plugins"):
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, root / part, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
        else:
            shutil.copy2(source, root / part)
    template = root / "platform/motcua/templates/portal/error.html"
    template.write_text(template.read_text(encoding="utf-8") + '{{ _("Thông điệp mới của nhánh khác") }}\n', encoding="utf-8")
    yaml_file = root / "platform/motcua/translations/en/other_branch.yaml"
    yaml_file.write_text(
        '"Thông điệp mới của nhánh khác": "A message from another branch"\n'
        '"Tra cứu hồ sơ": "Look up a dossier (new wording)"\n'
        '"Chuỗi không còn ai nói": "Nobody says this"\n',
        encoding="utf-8",
    )
    run = [sys.executable, "tools/yaml_to_po.py"]
    first = subprocess.run(run, cwd=root, capture_output=True, text=True)
    assert first.returncode == 1 and "Chuỗi không còn ai nói" in first.stdout
    assert yaml_file.exists()  # kept until every key is carried
    after = english(root)
    assert after[(None, "Thông điệp mới của nhánh khác")] == "A message from another branch"
    assert after[(None, "Tra cứu hồ sơ")] == "Look up a dossier (new wording)"
    assert after[("timeline column", "Nội dung")] == "What"  # entries with a context keep theirs
    assert (None, "Chuỗi không còn ai nói") not in after

    second = subprocess.run(run + ["--drop-unsaid"], cwd=root, capture_output=True, text=True)
    assert second.returncode == 0, second.stdout + second.stderr
    assert not yaml_file.exists()
    assert english(root) == after
