"""The embedded store's layout 2 (motcua.store.layout): a fold writes only the files of the
keys it changed, whatever else the store holds; a folder of the first layout (every records
key and index entry in 256 hash buckets) opens, is moved once, and loses nothing, also when
a move was killed part way; `store check` reads both.

Real folders in tmp; the first layout is written file by file as version 1 wrote it.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timezone
from pathlib import Path

from click.testing import CliRunner

from motcua.cli import main as motcua
from motcua.store import open_store
from motcua.store.layout import bucket, is_bucket, part_files, part_of
from tests.test_store_contract import dossier

UTC = timezone.utc
OFFICE = "000.06.50.H15"


def _folder(root: Path, chunk_size: int = 10) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "store.json").write_text(json.dumps({"format": "motcua-tinydb", "version": 2, "chunk_size": chunk_size}))
    return root


def _filed(root: Path, n: int) -> list[str]:
    """The codes of `n` filings of one day in the store at `root`, closed again."""
    store = open_store(root)
    codes = [_file(store, date(2025, 5, 10), datetime(2025, 5, 10, 3, tzinfo=UTC)) for _ in range(n)]
    store.close()
    return codes


def _file(store, day: date, at: datetime, messages: int = 1) -> str:
    """What a filing writes: a code from the day's sequence, the dossier, its outbox record."""
    code = store.dossiers.next_code(OFFICE, day)
    store.dossiers.add(dossier(code, at, agency_code=OFFICE))
    store.records("outbox").put(code, {"code": code, "messages": {f"m{i}": {"body": "x" * 200} for i in range(messages)}})
    return code


def _files(root: Path) -> dict[Path, tuple[int, int]]:
    """Every index and records file, with its inode and modification time: an atomic write
    replaces the file (a new inode)."""
    found = {}
    for folder in [root / "dossiers" / "index", *sorted((root / "records").iterdir())]:
        for _, path in part_files(folder):
            st = path.stat()
            found[path] = (st.st_ino, st.st_mtime_ns)
    return found


def test_a_fold_writes_only_the_files_of_the_codes_it_holds(tmp_path: Path):
    root = _folder(tmp_path / "data")
    store = open_store(root)
    old = [_file(store, date(2025, 4, d), datetime(2025, 4, d, 3, tzinfo=UTC)) for d in range(1, 29) for _ in range(12)]
    store.records("drafts").put("a-draft-token", {"values": {}})
    store.fold()
    before = _files(root)

    new = [_file(store, date(2025, 5, 10), datetime(2025, 5, 10, 3, tzinfo=UTC)) for _ in range(150)]
    store.dossiers.update(old[0], lambda d: None)  # an older dossier changed too (its chunk, not its index entry)
    store.records("outbox").put(old[1], {"code": old[1], "messages": {}})
    store.fold()
    after = _files(root)

    rewritten = {p for p in after if before.get(p) != after[p]}
    changed_keys = {*new, old[1], f"{OFFICE}-250510"}
    expected = {root / "records" / "outbox" / f"{part_of(k)}.json" for k in [*new, old[1]]}
    expected |= {root / "records" / "sequences" / f"{part_of(f'{OFFICE}-250510')}.json"}
    expected |= {root / "dossiers" / "index" / f"{part_of(k)}.json" for k in new}
    assert rewritten == expected, sorted(str(p.relative_to(root)) for p in rewritten ^ expected)
    assert len(expected) == 2 + 1 + 1 + 2  # outbox 0000-0099, 0100-0150 and old[1]'s; the sequence; the index
    assert len(before) > 50 and not (set(before) - set(after))
    assert all(not is_bucket(part_of(k)) for k in changed_keys)
    assert store.dossiers.get(new[-1]).code == new[-1] and store.records("outbox").get(old[1]) == {"code": old[1], "messages": {}}
    assert store.records("drafts").get("a-draft-token") == {"values": {}}  # a key that names no day: its hash bucket
    assert (root / "records" / "drafts" / f"{bucket('a-draft-token')}.json").exists()


def _to_first_layout(root: Path) -> None:
    """Rewrite a folder's index and records files as layout 1 kept them: every key in the
    hash bucket of sha1(key)[:2], and the marker at version 1."""
    index = root / "dossiers" / "index"
    entries: dict[str, dict[str, str]] = defaultdict(dict)
    for _, path in list(part_files(index)):
        for code, where in json.loads(path.read_text()).items():
            entries[bucket(code)][code] = where
        path.unlink()
    for b, mapping in entries.items():
        (index / f"{b}.json").write_text(json.dumps(mapping))
    for folder in sorted((root / "records").iterdir()):
        docs: dict[str, dict[str, dict]] = defaultdict(dict)
        for _, path in list(part_files(folder)):
            for doc in json.loads(path.read_text())["_default"].values():
                table = docs[bucket(doc["key"])]
                table[str(len(table) + 1)] = doc
            path.unlink()
            path.with_name(path.name + ".bak").unlink(missing_ok=True)
        for b, table in docs.items():
            (folder / f"{b}.json").write_text(json.dumps({"_default": table}))
    for month in [*index.iterdir(), *(p for f in (root / "records").iterdir() for p in f.iterdir())]:
        if month.is_dir():
            month.rmdir()
    marker = json.loads((root / "store.json").read_text())
    (root / "store.json").write_text(json.dumps({**marker, "version": 1}))


def _everything(store) -> tuple[list, dict]:
    dossiers = [d.model_dump(mode="json") for d in store.dossiers.all()]
    records = {name: sorted(store.records(name).all()) for name in store.collections()}
    return dossiers, records


def _first_layout_store(root: Path) -> tuple[list[str], tuple[list, dict]]:
    store = open_store(_folder(root, chunk_size=7))
    codes = [_file(store, date(2025, 5, d), datetime(2025, 5, d, 3, tzinfo=UTC)) for d in (9, 10) for _ in range(110)]
    store.records("drafts").put("token-1", {"values": {"a": 1}})
    store.records("ratings").put(codes[3], {"stars": 5})
    store.close()
    everything = _everything(open_store(root))
    _to_first_layout(root)
    assert not any(not is_bucket(p) for p, _ in part_files(root / "dossiers" / "index"))
    return codes, everything


def _in_layout_2(root: Path) -> None:
    assert json.loads((root / "store.json").read_text())["version"] == 2
    for folder in [root / "dossiers" / "index", *(root / "records").iterdir()]:
        for part, path in part_files(folder):
            keys = json.loads(path.read_text())
            keys = list(keys) if folder.name == "index" else [d["key"] for d in keys["_default"].values()]
            assert all(part_of(k) == part for k in keys), (path, keys)
        for bak in folder.glob("??.json.bak"):  # no repair can bring a moved key back into a bucket
            assert all(is_bucket(part_of(d["key"])) for d in json.loads(bak.read_text())["_default"].values()), bak


def test_a_folder_of_the_first_layout_opens_and_loses_nothing(tmp_path: Path):
    root = tmp_path / "data"
    codes, everything = _first_layout_store(root)

    store = open_store(root)
    assert all(store.dossiers.get(c).code == c for c in codes)
    assert store.records("outbox").get(codes[-1])["code"] == codes[-1]
    assert store.records("drafts").get("token-1") == {"values": {"a": 1}}
    assert _everything(store) == everything
    _in_layout_2(root)
    assert store.dossiers.next_code(OFFICE, date(2025, 5, 10)) == f"{OFFICE}-250510-0111"  # the sequence moved too
    result = CliRunner().invoke(motcua, ["store", "check", "--data", str(root)])
    assert result.exit_code == 0 and "no damage found" in result.output, result.output


def _index_and_records(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for f in [root / "dossiers" / "index", *(root / "records").iterdir()]
            for _, p in part_files(f)}


def test_a_move_killed_part_way_is_done_again(tmp_path: Path):
    """The states a kill can leave (marker still at version 1): every group file written and
    no bucket rewritten yet (each moved key in both places), or some buckets rewritten."""
    root = tmp_path / "data"
    codes, everything = _first_layout_store(root)
    first = _index_and_records(root)  # the buckets of layout 1
    marker = json.loads((root / "store.json").read_text())
    open_store(root).close()  # a whole move, to take its files from
    moved = _index_and_records(root)
    assert set(first) - set(moved)  # buckets that held only codes are gone

    for rewritten in (0, len(first) // 2):
        for path in set(_index_and_records(root)) - set(moved):
            path.unlink()
        for path, raw in moved.items():
            path.write_bytes(raw)
        for path in sorted(first)[rewritten:]:  # the buckets the killed move had not rewritten yet
            path.write_bytes(first[path])
        (root / "store.json").write_text(json.dumps({**marker, "version": 1}))

        store = open_store(root)
        assert _everything(store) == everything
        _in_layout_2(root)
        assert all(store.dossiers.get(c) is not None for c in codes)
        store.close()


def test_check_reads_the_day_groups_and_repairs_a_lost_index_file(tmp_path: Path):
    root = _folder(tmp_path / "data")
    codes = _filed(root, 120)
    lost = root / "dossiers" / "index" / f"{part_of(codes[105])}.json"
    lost.unlink()
    result = CliRunner().invoke(motcua, ["store", "check", "--data", str(root)])
    assert result.exit_code == 1 and "index-entry-missing" in result.output and "21 dossier(s)" in result.output
    assert "index/2025-05/000.06.50.H15-250510-01.json" in result.output
    result = CliRunner().invoke(motcua, ["store", "check", "--data", str(root), "--repair"])
    assert result.exit_code == 0, result.output
    assert all(open_store(root).dossiers.get(c) is not None for c in codes)

    outbox = root / "records" / "outbox" / f"{part_of(codes[0])}.json"
    outbox.write_text('{"_default": {"1": {"key": "not-its-file", "value": {}}}}')
    result = CliRunner().invoke(motcua, ["store", "check", "--data", str(root)])
    assert result.exit_code == 1 and "records-damaged" in result.output and "2025-05/000.06.50.H15-250510-00.json" in result.output


MOVER = r'''
import sys
from motcua.store import open_store
print("opening", flush=True)
open_store(sys.argv[1]).close()
print("opened", flush=True)
'''


def test_a_move_killed_with_sigkill_at_any_moment_loses_nothing(tmp_path: Path):
    """A real process moving a layout 1 folder, killed at a random moment of its move (the
    delays spread over what one whole move takes here, measured first); whatever the kill
    left, the next open finishes the move and finds everything."""
    source = tmp_path / "first"
    store = open_store(_folder(source, chunk_size=50))
    with store.synced_at_end():
        codes = [_file(store, date(2025, 5, d), datetime(2025, 5, d, 3, tzinfo=UTC), messages=3)
                 for d in range(1, 11) for _ in range(150)]
    store.close()
    everything = _everything(open_store(source))
    _to_first_layout(source)

    measured = tmp_path / "measured"
    shutil.copytree(source, measured)
    started = time.perf_counter()
    open_store(measured).close()
    whole = time.perf_counter() - started

    rng = random.Random(17)
    for attempt in range(6):
        root = tmp_path / f"killed-{attempt}"
        shutil.copytree(source, root)
        mover = subprocess.Popen([sys.executable, "-c", MOVER, str(root)], stdout=subprocess.PIPE, text=True)
        assert mover.stdout.readline().strip() == "opening"
        time.sleep(rng.uniform(0, whole * 1.2))
        mover.send_signal(signal.SIGKILL)
        mover.wait(timeout=60)

        store = open_store(root)
        assert _everything(store) == everything, attempt
        _in_layout_2(root)
        assert store.dossiers.get(codes[rng.randrange(len(codes))]) is not None
        store.close()


def test_a_damaged_bucket_stops_the_move_before_it_starts_and_check_repairs_it(tmp_path: Path):
    root = _folder(tmp_path / "data")
    codes = _filed(root, 30)
    _to_first_layout(root)
    first = _index_and_records(root)
    damaged = root / "records" / "outbox" / f"{bucket(codes[0])}.json"
    damaged.with_name(damaged.name + ".bak").write_bytes(damaged.read_bytes())  # its version before
    damaged.write_text("{garbage")

    result = CliRunner().invoke(motcua, ["store", "check", "--data", str(root)])
    assert result.exit_code == 1 and "layout-not-upgraded" in result.output and "records-damaged" in result.output
    assert "index-" not in result.output  # nothing was moved: the index is whole where layout 1 keeps it
    assert {p: p.read_bytes() for p in first if p != damaged} == {p: raw for p, raw in first.items() if p != damaged}

    result = CliRunner().invoke(motcua, ["store", "check", "--data", str(root), "--repair"])
    assert result.exit_code == 0 and "restored from its .bak" in result.output, result.output
    store = open_store(root)
    _in_layout_2(root)
    assert all(store.records("outbox").get(c)["code"] == c for c in codes)
    assert CliRunner().invoke(motcua, ["store", "check", "--data", str(root)]).exit_code == 0
