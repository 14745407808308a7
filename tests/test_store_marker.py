"""A PostgreSQL deployment's data folder is marked (store.json) so no command given only
--data opens it as a new, empty embedded store: that store would share files/, and
`purge` would delete every citizen's upload as unreferenced."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SPECS
from test_store_contract import dossier

from motcua.cli import main as motcua
from motcua.dossier import AttachmentRef
from motcua.store import StoreError, open_store
from motcua.store.pg_store import safe_url

OLD = datetime.now(timezone.utc) - timedelta(days=30)


def pg_deployment(url: str, data: Path) -> str:
    """A PostgreSQL store with one dossier referring to one uploaded file, kept in the data
    folder (files="folder": the layout where an embedded store opened there would share
    files/); the file's id."""
    store = open_store(url, data, files="folder")
    try:
        file_id = store.files.put(b"%PDF-1.4 giay khai sinh")
        d = dossier("H56-250510-0001")
        d.attachments = [AttachmentRef(component="giay", file_id=file_id, filename="a.pdf",
                                       content_type="application/pdf", size=23, sha256=file_id)]
        store.dossiers.add(d)
    finally:
        store.close()
    for path in (data / "files").rglob("*"):  # old enough for purge's grace period
        import os

        os.utime(path, (OLD.timestamp(), OLD.timestamp()))
    return file_id


def masked(url: str) -> str:
    return url.replace("postgresql://postgres@", "postgresql://postgres:pw@")


def test_the_folder_is_marked_and_an_embedded_store_refuses_it(tmp_path: Path, pg_url: str):
    data = tmp_path / "data-pg"
    pg_deployment(pg_url, data)
    assert json.loads((data / "store.json").read_text()) == {
        "format": "motcua-postgresql", "url": pg_url, "url_complete": True, "files": "folder"}
    with pytest.raises(StoreError, match="belongs to a PostgreSQL store at .*MOTCUA_STORE or pass --store"):
        open_store(data)


def test_an_unmarked_folder_with_files_is_not_made_an_embedded_store(tmp_path: Path):
    data = tmp_path / "old-pg"
    (data / "files" / "ab").mkdir(parents=True)
    (data / "files" / "ab" / "ab12").write_bytes(b"an upload")
    with pytest.raises(StoreError, match="no store.json"):
        open_store(data)
    assert not (data / "store.json").exists()
    assert (data / "files" / "ab" / "ab12").exists()


def test_the_marker_keeps_where_the_files_are(tmp_path: Path, pg_url: str, monkeypatch):
    monkeypatch.delenv("MOTCUA_FILES", raising=False)
    data = tmp_path / "data-pg"
    file_id = pg_deployment(pg_url, data)
    store = open_store(pg_url, data)  # nothing said: the marker's folder, not an empty database table
    try:
        assert store.files.read(file_id) == b"%PDF-1.4 giay khai sinh"
    finally:
        store.close()
    with pytest.raises(StoreError, match="keeps its uploaded files in the folder"):
        open_store(pg_url, data, files="database")
    marker = json.loads((data / "store.json").read_text())
    del marker["files"]  # a deployment from before files could live in the database
    (data / "store.json").write_text(json.dumps(marker))
    store = open_store(pg_url, data)
    try:
        assert store.files.exists(file_id)
    finally:
        store.close()
    fresh = tmp_path / "fresh"
    open_store(pg_url, fresh).close()
    assert json.loads((fresh / "store.json").read_text())["files"] == "database"


def test_a_postgresql_store_refuses_an_embedded_stores_folder(tmp_path: Path, pg_url: str):
    """Refused before its pool opens: a pool left behind by the refusal was closed later by the
    garbage collector, once in one of its own threads woken by this test's database being
    dropped ("cannot join current thread", reported in the next test)."""
    from fixtures.workflow_kit import wait_for

    open_store(tmp_path / "data").close()
    before = set(threading.enumerate())
    with pytest.raises(StoreError, match="holds an embedded store") as refused:
        open_store(pg_url, tmp_path / "data")
    # the error's traceback keeps the refused store alive, as a caller holding it would: no pool in it
    assert refused.value.__traceback__ is not None
    assert [t.name for t in set(threading.enumerate()) - before if t.name.startswith("motcua")] == []
    wait_for(lambda: _connections(pg_url) == 0, timeout=10, interval=0.1)


@pytest.mark.parametrize("command", ["purge", "export", "stats"])
def test_commands_given_only_data_follow_the_marker(tmp_path: Path, pg_url: str, command: str, monkeypatch):
    monkeypatch.delenv("MOTCUA_STORE", raising=False)
    data = tmp_path / "data-pg"
    pg_deployment(pg_url, data)
    files_before = sorted(p.relative_to(data) for p in (data / "files").rglob("*") if p.is_file())
    assert files_before
    args = {"purge": ["purge", "--data", str(data)],
            "export": ["export", "--data", str(data), "-o", str(tmp_path / "out.jsonl")],
            "stats": ["stats", "--data", str(data), "--specs", str(SPECS), "--year", "2025", "--format", "json"]}[command]
    result = CliRunner().invoke(motcua, args)
    assert result.exit_code == 0, result.output
    if command == "export":
        assert "1 dossiers" in result.output, result.output
    if command == "stats":
        assert json.loads(result.output)["totals"]["received"] == 1
    after = sorted(p.relative_to(data) for p in (data / "files").rglob("*") if p.is_file())
    assert after == files_before  # the dossier's file is referenced: nothing deleted
    assert json.loads((data / "store.json").read_text())["format"] == "motcua-postgresql"


@pytest.mark.parametrize("command", ["purge", "export", "stats"])
def test_commands_fail_clearly_when_the_marker_url_had_a_password(tmp_path: Path, pg_url: str, command: str,
                                                                   monkeypatch):
    monkeypatch.delenv("MOTCUA_STORE", raising=False)
    data = tmp_path / "data-pg"
    pg_deployment(pg_url, data)
    marker = {"format": "motcua-postgresql", "url": safe_url(masked(pg_url)), "url_complete": False}
    (data / "store.json").write_text(json.dumps(marker))
    files_before = sorted((data / "files").rglob("*"))
    args = {"purge": ["purge", "--data", str(data)],
            "export": ["export", "--data", str(data), "-o", str(tmp_path / "out.jsonl")],
            "stats": ["stats", "--data", str(data), "--specs", str(SPECS), "--year", "2025"]}[command]
    result = CliRunner().invoke(motcua, args)
    assert result.exit_code != 0
    assert "belongs to a PostgreSQL store" in result.output and "pw" not in result.output, result.output
    assert sorted((data / "files").rglob("*")) == files_before
    assert not (tmp_path / "out.jsonl").exists()


def test_safe_url_masks_the_password_in_the_query_too():
    assert safe_url("postgresql://a:secret@h/db") == "postgresql://a:***@h/db"
    shown = safe_url("postgresql://h/db?sslmode=require&password=secret&PASSWORD=x2")
    assert "secret" not in shown and "x2" not in shown and "sslmode=require" in shown
    assert safe_url("postgresql://a@h/db?sslmode=require") == "postgresql://a@h/db?sslmode=require"


def test_store_check_repair_leaves_a_postgresql_folder_alone(tmp_path: Path, pg_url: str):
    """`store check --repair` used to "repair" the marker into an embedded store's; now it
    follows the marker and checks the database (the deployment's dossier was added without
    `next_code`, so its sequence is behind: found and moved on), leaving the folder alone."""
    data = tmp_path / "data-pg"
    pg_deployment(pg_url, data)
    marker = (data / "store.json").read_text()
    result = CliRunner().invoke(motcua, ["store", "check", "--repair", "--data", str(data)])
    assert result.exit_code == 0 and "sequence-behind" in result.output and "repaired sequences" in result.output, \
        result.output
    assert (data / "store.json").read_text() == marker
    result = CliRunner().invoke(motcua, ["store", "check", "--data", str(data)])
    assert result.exit_code == 0 and "no damage found" in result.output, result.output


def _connections(url: str) -> int:
    """Connections to the test database other than this one's."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND pid <> pg_backend_pid()").fetchone()[0]


@pytest.mark.parametrize("command", ["purge", "export", "jobs"])
def test_a_command_closes_the_store_it_opened(tmp_path: Path, pg_url: str, command: str, monkeypatch):
    """A pool left open was closed by the garbage collector, sometimes in one of the pool's
    own threads (woken when the test dropped its database): "cannot join current thread".
    Every command closes what it opened, before the database goes."""
    monkeypatch.setenv("MOTCUA_STORE", pg_url)
    data = tmp_path / "data-pg"
    from fixtures.workflow_kit import wait_for

    pg_deployment(pg_url, data)
    wait_for(lambda: _connections(pg_url) == 0, timeout=10, interval=0.1)  # its store closed
    args = {"purge": ["purge", "--data", str(data)],
            "export": ["export", "--data", str(data), "-o", str(tmp_path / "out.jsonl")],
            "jobs": ["jobs", "--data", str(data), "--specs", str(SPECS), "--public-url", "http://127.0.0.1:9"]}[command]
    result = CliRunner().invoke(motcua, args)
    assert result.exit_code == 0, result.output
    # the command's pool is closed, not left to the collector (a server backend takes a moment to go)
    wait_for(lambda: _connections(pg_url) == 0, timeout=10, interval=0.1)
