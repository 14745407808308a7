"""`motcua store migrate`: a data folder moved into PostgreSQL, counts checked, and the
portal then serves the moved store (same dossiers, same session key)."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

from click.testing import CliRunner
from conftest import SPECS
from test_store_contract import dossier

from motcua.app import create_app
from motcua.cli import main as motcua
from motcua.dossier import Event, Status
from motcua.store import open_store
from motcua.store.transfer import export_lines

UTC = timezone.utc


def filled_folder(folder: Path) -> None:
    store = open_store(folder)
    for i in range(7):
        code = store.dossiers.next_code("H56", date(2025, 5, 10))
        store.dossiers.add(dossier(code, datetime(2025, 4 + i % 3, 10, i, tzinfo=UTC)))
        if i % 2:
            store.dossiers.update(code, lambda d: d.record(Event(actor="s", kind="received", status=Status.RECEIVED)))
    for i in range(40):
        store.records("drafts").put(f"d{i}", {"answers": {"tên": f"Người {i}"}})
    store.records("accounts").put("lan", {"role": "staff"})
    store.files.put(b"%PDF-1.4 \x00\xff one")
    store.files.put(b"two")
    (folder / "secret_key").write_text("k" * 64)
    store.close()


def lines(store) -> set[bytes]:
    return set(export_lines(store))


def test_a_folder_moves_into_postgresql_with_everything_counted(tmp_path: Path, pg_url: str):
    source, target_data = tmp_path / "data", tmp_path / "data-pg"
    filled_folder(source)
    runner = CliRunner()
    result = runner.invoke(motcua, ["store", "migrate", "--from", str(source), "--to", pg_url, "--data", str(target_data)])
    assert result.exit_code == 0, result.output
    assert "7 dossiers, 42 records, 2 files" in result.output and "agree" in result.output  # 42: 40 + 1 + a sequence

    before, after = open_store(source), open_store(pg_url, target_data)
    try:
        assert lines(after) == lines(before)
        assert [d.code for d in after.dossiers.all()] == [d.code for d in before.dossiers.all()]
        assert after.dossiers.next_code("H56", date(2025, 5, 10)) == "H56-250510-0008"
    finally:
        after.close()
        before.close()
    assert (target_data / "secret_key").read_text() == "k" * 64

    app = create_app({"DATA_DIR": str(target_data), "STORE": pg_url, "SPECS_DIR": str(SPECS), "TESTING": True})
    try:
        assert app.config["SECRET_KEY"] == "k" * 64
        assert app.extensions["motcua"].store.dossiers.count() == 7
    finally:
        app.extensions["motcua"].store.close()

    again = runner.invoke(motcua, ["store", "migrate", "--from", str(source), "--to", pg_url, "--data", str(tmp_path / "x")])
    assert again.exit_code == 1 and "not empty" in again.output


def test_migrate_needs_a_store_and_a_files_folder(tmp_path: Path, pg_url: str):
    runner = CliRunner()
    (tmp_path / "empty").mkdir()
    result = runner.invoke(motcua, ["store", "migrate", "--from", str(tmp_path / "empty"), "--to", pg_url,
                                    "--data", str(tmp_path / "d")])
    assert result.exit_code == 2 and "no Motcua store" in result.output
    filled_folder(tmp_path / "data")
    result = runner.invoke(motcua, ["store", "migrate", "--from", str(tmp_path / "data"), "--to", pg_url])
    assert result.exit_code == 2 and "--data" in result.output
    assert json.loads((tmp_path / "data" / "store.json").read_text())["format"] == "motcua-tinydb"


def test_the_commands_given_only_data_use_the_store_motcua_store_names(tmp_path: Path, pg_url: str, monkeypatch):
    """A PostgreSQL deployment sets MOTCUA_STORE once: `staff add`, `export`, `import` and
    `stats` then work on the database, as the portal does, never on an empty folder."""
    from motcua import accounts

    data, env = tmp_path / "data-pg", {"MOTCUA_STORE": pg_url}
    data.mkdir()
    runner = CliRunner()
    result = runner.invoke(motcua, ["staff", "add", "hanh", "--name", "Vũ Thị Hạnh", "--role", "desk",
                                    "--agency", "H56", "--data", str(data)],
                           input="mot-mat-khau-dai\nmot-mat-khau-dai\n", env=env)
    assert result.exit_code == 0, result.output
    assert json.loads((data / "store.json").read_text())["format"] == "motcua-postgresql"  # no embedded store
    store = open_store(pg_url, data)
    try:
        assert accounts.get_account(store, "hanh").name == "Vũ Thị Hạnh"
        store.dossiers.add(dossier("A-1"))
    finally:
        store.close()
    dump = tmp_path / "dump.jsonl"
    result = runner.invoke(motcua, ["export", "--data", str(data), "-o", str(dump)], env=env)
    assert result.exit_code == 0 and "1 dossiers" in result.output, result.output
    result = runner.invoke(motcua, ["import", "--data", str(tmp_path / "back"), str(dump)])  # no MOTCUA_STORE
    assert result.exit_code == 0, result.output
    assert [d.code for d in open_store(tmp_path / "back").dossiers.all()] == ["A-1"]
    result = runner.invoke(motcua, ["stats", "--data", str(data), "--specs", str(SPECS), "--year", "2025",
                                    "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["totals"]["received"] == 1  # the database's dossier, not an empty folder


def test_a_collection_emptied_in_the_source_still_moves(tmp_path: Path, pg_url: str):
    """The embedded store lists a collection whose records were all deleted; PostgreSQL
    lists none: the counts compare as 0 on both sides."""
    source = tmp_path / "data"
    filled_folder(source)
    store = open_store(source)
    store.records("throttle").put("x", {"n": 1})
    store.records("throttle").delete("x")
    assert "throttle" in store.collections()
    store.close()
    result = CliRunner().invoke(motcua, ["store", "migrate", "--from", str(source), "--to", pg_url,
                                         "--data", str(tmp_path / "data-pg")])
    assert result.exit_code == 0, result.output


def test_a_count_that_differs_is_named(tmp_path: Path, pg_url: str, monkeypatch):
    import pytest

    from motcua.store import StoreError, moving

    filled_folder(tmp_path / "data")
    real = moving.tally
    calls = []

    def short(store):  # the target seen as losing a draft and a file
        counts = real(store)
        calls.append(store)
        if len(calls) == 2:
            counts["records/drafts"] -= 1
            counts["files"] -= 1
        return counts

    monkeypatch.setattr(moving, "tally", short)
    source, target = open_store(tmp_path / "data"), open_store(pg_url, tmp_path / "data-pg")
    try:
        with pytest.raises(StoreError) as err:
            moving.move_store(source, target)
    finally:
        source.close()
        target.close()
    assert "records/drafts: 40 in the source, 39 in the target" in str(err.value)
    assert "files: 2 in the source, 1 in the target" in str(err.value)
