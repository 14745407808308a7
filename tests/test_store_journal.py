"""The embedded store's journal (motcua.store.journal): torn and garbage tails are never
read and are cut before the next append; concurrent writers share fsyncs; a fold moves
everything into the files and the journal empties."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from motcua.store import open_store, transaction
from motcua.store import journal as journal_module
from motcua.store.journal import Journal, decode_lines, encode
from tests.test_store_contract import dossier

UTC = timezone.utc


def _log(store) -> Path:
    [path] = sorted((store._folder / "journal").glob("*.log"))
    return path


def _fresh_reader(store) -> Journal:
    """Another process's view of the same journal (nothing of this process's state)."""
    return Journal(store._folder / "journal", lambda name: store._f.lock(name))


def test_a_torn_last_line_is_never_read_and_is_cut_before_the_next_append(tmp_path: Path):
    store = open_store(tmp_path / "data")
    store.dossiers.add(dossier("A-1"))
    path = _log(store)
    whole = path.read_bytes()
    line = encode({"d": "A-9", "m": "2025-05", "v": {"code": "A-9"}})
    with open(path, "ab") as f:
        f.write(line[: len(line) // 2])  # a writer killed in the middle of its line

    assert set(_fresh_reader(store).view().dossiers) == {"A-1"}
    store.dossiers.add(dossier("A-2"))
    raw = path.read_bytes()
    assert raw.startswith(whole) and decode_lines(raw)[1] == len(raw)  # cut, then appended
    assert set(_fresh_reader(store).view().dossiers) == {"A-1", "A-2"}
    assert store.dossiers.get("A-9") is None and store.dossiers.get("A-2").code == "A-2"


def test_a_garbage_tail_after_a_power_loss_is_dropped_when_a_process_first_appends(tmp_path: Path):
    data = tmp_path / "data"
    store = open_store(data)
    store.dossiers.add(dossier("A-1"))
    path = _log(store)
    good = path.read_bytes()
    bad = encode({"d": "A-8", "m": "2025-05", "v": {}}).replace(b"A-8", b"A-X")  # crc no longer matches
    path.write_bytes(good + bad + encode({"d": "A-9", "m": "2025-05", "v": {}}))  # and a line after it

    reader = _fresh_reader(store)
    assert set(reader.view().dossiers) == {"A-1"}  # nothing after the first bad line
    other = _fresh_reader(store)  # a process started after the power loss
    other.append([{"r": "drafts", "k": "t", "v": {"a": 1}}])
    assert path.read_bytes() == good + encode({"r": "drafts", "k": "t", "v": {"a": 1}})
    assert reader.view().record("drafts", "t") == (True, {"a": 1})


def test_concurrent_writers_share_fsyncs_and_every_write_is_there(tmp_path: Path, monkeypatch):
    store = open_store(tmp_path / "data")
    calls = []
    real = os.fdatasync

    def slow_fdatasync(fd: int) -> None:  # a disk whose flush takes a while, as a loaded one
        calls.append(fd)
        time.sleep(0.005)
        real(fd)

    monkeypatch.setattr(journal_module.os, "fdatasync", slow_fdatasync)
    records = store.records("drafts")

    def writer(t: int) -> None:
        for i in range(10):
            records.put(f"t{t}-{i}", {"n": i})

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(records.get(f"t{t}-{i}") == {"n": i} for t in range(8) for i in range(10))
    assert len(calls) < 80 / 2, f"{len(calls)} fsyncs for 80 writes: group commit is not sharing them"


def test_a_transaction_block_waits_once_at_its_end(tmp_path: Path, monkeypatch):
    store = open_store(tmp_path / "data")
    calls = []
    real = os.fdatasync
    monkeypatch.setattr(journal_module.os, "fdatasync", lambda fd: (calls.append(fd), real(fd)))
    with transaction(store):
        store.dossiers.add(dossier("A-1"))
        store.dossiers.update("A-1", lambda d: None)
        store.records("drafts").put("x", {"a": 1})
        assert calls == []
    assert len(calls) == 1
    assert store.dossiers.get("A-1").code == "A-1" and store.records("drafts").get("x") == {"a": 1}


def test_a_fold_moves_everything_into_the_files_and_empties_the_journal(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "store.json").write_text(json.dumps({"format": "motcua-tinydb", "version": 1, "chunk_size": 3}))
    store = open_store(data)
    for i in range(7):
        store.dossiers.add(dossier(f"A-{i}", datetime(2025, 5, 1 + i, tzinfo=UTC)))
    store.dossiers.update("A-1", lambda d: d.data.update(seen=True))
    store.records("drafts").put("k", {"v": 1})
    store.records("drafts").delete("k")
    store.records("drafts").put("j", {"v": 2})
    assert not (data / "dossiers").exists()  # all in the journal so far
    assert [d.code for d in store.dossiers.all()] == [f"A-{i}" for i in range(7)]  # a scan folds
    assert store.journal.is_empty()
    assert sorted(p.name for p in (data / "dossiers" / "2025-05").glob("*.json")) == ["00000.json", "00001.json", "00002.json"]
    again = open_store(data)
    assert again.dossiers.get("A-1").data["seen"] is True
    assert dict(again.records("drafts").all()) == {"j": {"v": 2}}
    assert again.dossiers.count() == 7


def test_an_appender_whose_generation_was_sealed_and_folded_away_appends_to_the_current_one(tmp_path: Path):
    """A process remembers the generation it appends to. Another process may seal it and
    fold it away, and then seal and fold the next one too: the name after the remembered
    one is free again, yet appending to the remembered (deleted) file would lose the change."""
    store = open_store(tmp_path / "data")
    folder = store._folder / "journal"
    lock = lambda name: store._f.lock(name)  # noqa: E731 - the processes' shared locks
    first, other = Journal(folder, lock), Journal(folder, lock)
    first.append([{"r": "drafts", "k": "a", "v": {"n": 1}}])
    for _ in range(2):  # the other process seals, appends to the new generation, folds the old
        sealed = other.seal()
        other.append([{"r": "drafts", "k": "b", "v": {"n": 2}}])
        other.drop(sealed)
    first.append([{"r": "drafts", "k": "c", "v": {"n": 3}}])
    assert _fresh_reader(store).view().record("drafts", "c") == (True, {"n": 3})


def test_a_torn_line_another_process_left_after_ours_is_cut_before_our_next_append(tmp_path: Path):
    """A process skips re-reading the journal's tail when the file ends where its own last
    line did; a line another process tore after that must still be cut."""
    store = open_store(tmp_path / "data")
    store.records("drafts").put("a", {"n": 1})
    path = _log(store)
    line = encode({"r": "drafts", "k": "x", "v": {"n": 9}})
    with open(path, "ab") as f:
        f.write(line[: len(line) // 2])  # another process, killed in the middle of its line
    store.records("drafts").put("b", {"n": 2})
    raw = path.read_bytes()
    assert decode_lines(raw)[1] == len(raw)
    reader = _fresh_reader(store).view()
    assert reader.record("drafts", "b") == (True, {"n": 2}) and reader.record("drafts", "x") == (False, None)
