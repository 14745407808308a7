"""The embedded TinyDB store's own file layout: chunks, index buckets, .bak files, damage.

A real data folder in tmp, no mocks. What every store backend must do (codes, updates,
filters, records, files, export/import) is the contract suite, test_store_contract.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from motcua.cli import main as motcua
from motcua.dossier import Event, Status
from motcua.store import StoreError, open_store
from motcua.store.tinydb_store import bucket
from test_store_contract import dossier, small_chunks  # one sample dossier and chunk layout for every store test

REPO = Path(__file__).resolve().parent.parent
UTC = timezone.utc


@pytest.fixture
def store(tmp_path: Path):
    small_chunks(tmp_path / "data")
    s = open_store(tmp_path / "data")
    yield s
    s.close()


def test_all_is_filing_order_across_months_and_chunks_and_find_filters(store):
    may, june = datetime(2025, 5, 31, 18, 0, tzinfo=UTC), datetime(2025, 6, 2, tzinfo=UTC)
    # 31 May 18:00 UTC is 1 June in Vietnam: it belongs to June.
    order = []
    for i in range(4):
        store.dossiers.add(dossier(f"M-{i}", datetime(2025, 5, 1 + i, tzinfo=UTC), agency_code="X"))
        order.append(f"M-{i}")
    store.dossiers.add(dossier("J-0", may, procedure_code="other"))
    store.dossiers.add(dossier("J-1", june))
    store.dossiers.add(dossier("M-4", datetime(2025, 5, 20, tzinfo=UTC)))
    order = order + ["M-4", "J-0", "J-1"]
    assert [d.code for d in store.dossiers.all()] == order
    assert store.dossiers.count() == 7
    assert sorted(p.name for p in (store_dir(store) / "dossiers" / "2025-05").glob("[0-9]*[0-9].json")) == [
        "00000.json",
        "00001.json",
    ]
    store.dossiers.update("M-1", lambda d: d.record(Event(actor="s", kind="received", status=Status.RECEIVED)))

    find = store.dossiers.find
    assert [d.code for d in find(agency_code="X")] == ["M-0", "M-1", "M-2", "M-3"]
    assert [d.code for d in find(status=Status.RECEIVED)] == ["M-1"]
    assert [d.code for d in find(procedure_code="other")] == ["J-0"]
    june_vn = datetime(2025, 6, 1, tzinfo=timezone(timedelta(hours=7)))
    assert [d.code for d in find(filed_from=june_vn)] == ["J-0", "J-1"]
    assert [d.code for d in find(filed_to=june_vn)] == ["M-0", "M-1", "M-2", "M-3", "M-4"]
    assert [d.code for d in find(filed_from=datetime(2025, 5, 2), filed_to=datetime(2025, 5, 4), agency_code="X")] == [
        "M-1",
        "M-2",
    ]


def store_dir(store) -> Path:
    return store._folder


def test_lookup_by_code_and_a_period_query_do_not_read_other_partitions(store):
    """Proved by damaging the partitions they must not read."""
    for i in range(7):
        store.dossiers.add(dossier(f"M-{i}", datetime(2025, 5, 1 + i, tzinfo=UTC)))
    store.dossiers.add(dossier("J-0", datetime(2025, 6, 3, tzinfo=UTC)))
    store.fold()  # into the chunk files (the journal would answer first)
    folder = store_dir(store) / "dossiers"
    for chunk in ["2025-05/00000.json", "2025-05/00001.json"]:
        (folder / chunk).write_bytes(b"\x00garbage")
    assert store.dossiers.get("M-6").code == "M-6"  # in 2025-05/00002.json
    assert [d.code for d in store.dossiers.find(filed_from=datetime(2025, 6, 1, tzinfo=UTC))] == ["J-0"]
    with pytest.raises(StoreError, match="00000.json"):
        store.dossiers.find(procedure_code="dang-ky-khai-sinh")


TRUNCATE = lambda b: b[: len(b) // 2]  # noqa: E731
GARBAGE = lambda b: b"\xff\xfe\x00garbage"  # noqa: E731


@pytest.mark.parametrize("damage", [TRUNCATE, GARBAGE], ids=["truncated", "garbage"])
def test_a_damaged_partition_is_named_and_never_replaced(tmp_path, store, damage):
    store.dossiers.add(dossier("A-1"))
    store.fold()
    store.dossiers.add(dossier("A-2"))
    store.fold()  # two chunk writes: the .bak holds the first
    path = store_dir(store) / "dossiers" / "2025-05" / "00000.json"
    broken = damage(path.read_bytes())
    path.write_bytes(broken)
    with pytest.raises(StoreError) as err:
        store.dossiers.get("A-1")
    message = str(err.value)
    assert str(path) in message and f"{path}.bak" in message and "export" in message
    with pytest.raises(StoreError):
        store.dossiers.update("A-1", lambda d: None)
    store.dossiers.add(dossier("A-3"))  # kept in the journal (a new code reads no chunk) ...
    with pytest.raises(StoreError):
        store.fold()  # ... which is not folded into a chunk that does not read
    assert store.dossiers.get("A-3").code == "A-3"
    assert path.read_bytes() == broken  # never silently "repaired" into an empty store

    result = CliRunner().invoke(motcua, ["export", "--data", str(store_dir(store)), "-o", str(tmp_path / "x.jsonl")])
    assert result.exit_code == 1 and str(path) in result.output
    assert not (tmp_path / "x.jsonl").exists()

    # The .bak beside it is the version before the last write (A-2 was that write).
    os.replace(f"{path}.bak", path)
    assert store.dossiers.get("A-1").code == "A-1" and store.dossiers.get("A-2") is None
    store.fold()  # now it can: A-3 joins the restored chunk
    assert [d.code for d in store.dossiers.all()] == ["A-1", "A-3"]


@pytest.mark.parametrize("damage", [TRUNCATE, GARBAGE], ids=["truncated", "garbage"])
def test_a_damaged_index_is_named_and_can_be_rebuilt_by_export_import(tmp_path, store, damage):
    store.dossiers.add(dossier("A-1"))
    store.fold()
    path = store_dir(store) / "dossiers" / "index" / f"{bucket('A-1')}.json"
    broken = damage(path.read_bytes())
    path.write_bytes(broken)
    with pytest.raises(StoreError) as err:
        store.dossiers.get("A-1")
    assert str(path) in str(err.value) and "motcua export" in str(err.value)
    with pytest.raises(StoreError):
        store.dossiers.update("A-1", lambda d: None)
    assert path.read_bytes() == broken

    runner = CliRunner()
    dump = tmp_path / "dump.jsonl"
    assert runner.invoke(motcua, ["export", "--data", str(store_dir(store)), "-o", str(dump)]).exit_code == 0
    assert runner.invoke(motcua, ["import", "--data", str(tmp_path / "rebuilt"), str(dump)]).exit_code == 0
    assert open_store(tmp_path / "rebuilt").dossiers.get("A-1").code == "A-1"


def test_damaged_records_bucket_is_reported(store):
    store.records("accounts").put("lan", {"role": "staff"})
    store.fold()
    [path] = (store_dir(store) / "records" / "accounts").glob("*.json")
    path.write_text('{"_default": {"1": {"key": "lan", "val')
    with pytest.raises(StoreError, match=re.escape(str(path))):
        store.records("accounts").get("lan")
    with pytest.raises(StoreError):
        store.records("accounts").put("lan", {"role": "admin"})
    store.records("accounts").put("other", {"role": "admin"})  # another bucket: fine
    assert store.records("accounts").get("other") == {"role": "admin"}


def test_leftover_temp_files_of_dead_writers_are_cleaned_on_open(tmp_path):
    data = tmp_path / "data"
    open_store(data).dossiers.add(dossier("A-1"))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    leftover = data / "tmp" / f"2025-05-00000.json.{dead_pid}.1.tmp"
    leftover.write_bytes(b'{"_default": {"1": {"co')
    reopened = open_store(data)
    assert not leftover.exists()
    assert [d.code for d in reopened.dossiers.all()] == ["A-1"]


def test_export_import_round_trip_is_identical(tmp_path, store):
    store.dossiers.add(dossier(store.dossiers.next_code("H56", date(2025, 5, 10)), datetime(2025, 4, 30, tzinfo=UTC)))
    for i in range(5):
        code = store.dossiers.next_code("H56", date(2025, 5, 10))
        store.dossiers.add(dossier(code, datetime(2025, 5, 10, i, tzinfo=UTC)))
        store.dossiers.update(code, lambda d: d.record(Event(actor="s", kind="received", status=Status.RECEIVED)))
    store.records("drafts").put("d", {"answers": {"tên": "Đặng Thu Thảo"}})
    store.records("accounts").put("lan", {"role": "staff"})
    file_id = store.files.put(b"%PDF-1.4 \x00\xff binary")
    source = store_dir(store)
    runner = CliRunner()

    first = tmp_path / "first.jsonl"
    result = runner.invoke(motcua, ["export", "--data", str(source), "-o", str(first)])
    assert result.exit_code == 0, result.output
    assert "6 dossiers" in result.output
    result = runner.invoke(motcua, ["import", "--data", str(tmp_path / "copy"), str(first)])
    assert result.exit_code == 0, result.output
    second = tmp_path / "second.jsonl"
    assert runner.invoke(motcua, ["export", "--data", str(tmp_path / "copy"), "-o", str(second)]).exit_code == 0
    assert first.read_bytes() == second.read_bytes()

    copy = open_store(tmp_path / "copy")
    assert list(copy.dossiers.all()) == list(store.dossiers.all())
    assert copy.files.read(file_id) == b"%PDF-1.4 \x00\xff binary"
    # the sequences came along: the next code continues, never repeats
    assert copy.dossiers.next_code("H56", date(2025, 5, 10)) == "H56-250510-0007"

    refused = runner.invoke(motcua, ["import", "--data", str(tmp_path / "copy"), str(first)])
    assert refused.exit_code == 1 and "not empty" in refused.output
    assert copy.dossiers.count() == 6


def test_import_reports_a_damaged_export_by_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind":"motcua-export","version":1}\n{"kind":"dossier","value":{"code":\n')
    result = CliRunner().invoke(motcua, ["import", "--data", str(tmp_path / "new"), str(bad)])
    assert result.exit_code == 1 and "line 2" in result.output


def test_nothing_outside_the_store_imports_tinydb():
    pattern = re.compile(r"^\s*(import tinydb|from tinydb)\b", re.M)
    offenders = []
    for root in ["platform", "plugins", "renderers"]:
        for path in (REPO / root).rglob("*.py"):
            if (REPO / "platform" / "motcua" / "store") in path.parents:
                continue
            if pattern.search(path.read_text(encoding="utf-8", errors="replace")):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


