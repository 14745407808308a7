"""Everything the portal writes inside its data folder is its owner's alone (0600 / 0700),
whatever umask it was started with: the folder holds citizens' personal data."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from motcua import accounts
from motcua.app import create_app
from tests.conftest import SPECS
from tests.portal_helpers import BIRTH_CODE
from tests.test_portal_filing import fill_to_check, file_it, start, GOOD_ANSWERS


@pytest.fixture
def loose_umask():
    before = os.umask(0o022)  # the usual default: files 0644, folders 0755
    yield
    os.umask(before)


def _loose(root: Path) -> list[str]:
    out = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            out.append(f"{path.relative_to(root.parent)} {oct(mode)}")
    return out


def test_nothing_in_the_data_folder_is_readable_by_others(tmp_path, loose_umask, monkeypatch):
    data = tmp_path / "data"
    app = create_app({"DATA_DIR": str(data), "SPECS_DIR": str(SPECS), "TESTING": True})
    client = app.test_client()
    base, token = start(client)  # a draft
    client.post(f"{base}/child", data={"csrf_token": token, **GOOD_ANSWERS["child"], "_action": "save"})
    base, token = fill_to_check(client)  # an upload
    code = file_it(client, base, token)  # a dossier, its index, summaries, sequences, .bak files
    store = app.extensions["motcua"].store
    store.fold()  # the journal into the files; the fold at close rewrites the chunk (a .bak)
    store.dossiers.update(code, lambda d: None)
    accounts.create_account(store, "lan", "Nguyễn Thị Lan", ["desk"], [app.extensions["motcua"].store.dossiers.get(code).agency_code],
                            "mat-khau-rat-dai-1")
    staff = app.test_client()
    from tests.portal_helpers import csrf

    page = staff.get("/staff/login").get_data(as_text=True)
    staff.post("/staff/login", data={"username": "lan", "password": "sai-mat-khau", "csrf_token": csrf(page)})  # throttle records
    staff.post("/staff/login", data={"username": "lan", "password": "mat-khau-rat-dai-1", "csrf_token": csrf(page)})  # a session
    assert staff.get(f"/staff/ho-so/{code}").status_code == 200
    store.close()
    kinds = {p.suffix for p in data.rglob("*") if p.is_file()}
    assert {".bak", ".lock", ".log"} <= kinds and (data / "secret_key").exists()
    assert _loose(data) == []


def test_an_export_file_is_private_too(tmp_path, loose_umask):
    data = tmp_path / "data"
    create_app({"DATA_DIR": str(data), "SPECS_DIR": str(SPECS), "TESTING": True}).extensions["motcua"].store.close()
    out = tmp_path / "backup.jsonl"
    done = subprocess.run([sys.executable, "-c", "from motcua.cli import main; main()", "export", "--data", str(data),
                           "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
