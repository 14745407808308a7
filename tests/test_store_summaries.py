"""Dossier summaries: kept beside each chunk, always equal to what the chunk says.

A summary file that is missing, damaged or stale (a crash between the chunk's rename and
its own) is never trusted: the rows are derived from the chunk and written back.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from motcua.dossier import Contact, Dossier, Event, Status
from motcua.store import open_store
from motcua.store.summary import DossierSummary, from_row, summarize, summary_row
from motcua.store.tinydb_store import decode_summary, summary_path, write_id_of

UTC = timezone.utc
VN = timezone(timedelta(hours=7))


def dossier(code: str, filed_at: datetime, *events: tuple[datetime, Status], **kw) -> Dossier:
    d = Dossier(
        code=code, procedure_code=kw.pop("procedure_code", "p1"), spec_version="2025.1",
        agency_code=kw.pop("agency_code", "H56"), channel=kw.pop("channel", "online"),
        contact=Contact(name="Lê Thị Hoa"), filed_at=filed_at, due_date=kw.pop("due_date", None),
    )
    d.record(Event(at=filed_at, actor="citizen", kind="filed", status=Status.NEW))
    for at, status in events:
        d.record(Event(at=at, actor="staff:a", kind=status.name.lower(), status=status))
    return d


@pytest.fixture
def store(tmp_path: Path):
    folder = tmp_path / "data"
    folder.mkdir()
    # write-through: these tests look at each chunk write and its summary file
    (folder / "store.json").write_text(json.dumps({"format": "motcua-tinydb", "version": 1, "chunk_size": 3,
                                                   "journal_fold_bytes": 0}))
    return open_store(folder)


def chunk(store, month: str = "2025-05", n: int = 0) -> Path:
    return store._folder / "dossiers" / month / f"{n:05d}.json"


def expected(store) -> list[DossierSummary]:
    return [summarize(d) for d in store.dossiers.all()]


def test_the_derivation_settle_withdraw_and_vietnam_days():
    filed = datetime(2025, 5, 31, 18, 0, tzinfo=UTC)  # 1 June in Vietnam
    d = dossier("A", filed, (filed + timedelta(hours=1), Status.RECEIVED),
                (datetime(2025, 6, 3, 17, 30, tzinfo=UTC), Status.REFUSED),  # 4 June in Vietnam
                (datetime(2025, 6, 9, tzinfo=UTC), Status.FINISHED), due_date=date(2025, 6, 10))
    s = summarize(d)
    assert (s.filed_day, s.settled, s.refused, s.withdrawn) == (date(2025, 6, 1), date(2025, 6, 4), True, None)
    assert s.status == Status.FINISHED and s.due_date == date(2025, 6, 10) and s.spec_key == "p1@2025.1"
    assert s.status_at(datetime(2025, 6, 4, tzinfo=VN)) == Status.RECEIVED
    assert s.status_at(datetime(2025, 6, 5, tzinfo=VN)) == Status.REFUSED
    assert s.status_at(filed) is None  # strictly before
    assert [status for _at, status in s.moves()] == [Status.NEW, Status.RECEIVED, Status.REFUSED, Status.FINISHED]
    assert s.moves()[0][0] == int(filed.timestamp())
    w = summarize(dossier("W", filed, (datetime(2025, 6, 2, tzinfo=VN), Status.WITHDRAWN),
                          (datetime(2025, 6, 3, tzinfo=VN), Status.FINISHED)))
    assert (w.withdrawn, w.settled) == (date(2025, 6, 2), None)  # withdrawn first: never settled
    # the row is plain JSON and reads back to the same summary
    assert from_row(json.loads(json.dumps(summary_row(d.model_dump(mode="json"))))) == s


def test_summaries_follow_add_update_and_add_many_in_filing_order(store):
    may = datetime(2025, 5, 2, tzinfo=UTC)
    for i in range(4):
        store.dossiers.add(dossier(f"M-{i}", may + timedelta(days=i)))
    store.dossiers.add_many([dossier(f"J-{i}", datetime(2025, 6, 1 + i, tzinfo=UTC), channel="desk") for i in range(5)])
    store.dossiers.update("M-1", lambda d: d.record(Event(actor="s", kind="finished", status=Status.FINISHED)))
    got = list(store.dossiers.summaries())
    assert [s.code for s in got] == ["M-0", "M-1", "M-2", "M-3"] + [f"J-{i}" for i in range(5)]
    assert got == expected(store)
    assert got[1].status == Status.FINISHED and got[1].settled is not None
    # every chunk has its summary file, from the same write
    for path in (store._folder / "dossiers").glob("2025-*/[0-9]*[0-9].json"):
        write_id, rows = decode_summary(summary_path(path).read_bytes())
        assert write_id == write_id_of(path) and len(rows) == len(json.loads(path.read_text())["_default"])
    june = datetime(2025, 6, 1, tzinfo=UTC)
    assert [s.code for s in store.dossiers.summaries(filed_from=june)] == [f"J-{i}" for i in range(5)]
    assert [s.code for s in store.dossiers.summaries(filed_to=june + timedelta(days=2))] == [
        "M-0", "M-1", "M-2", "M-3", "J-0", "J-1"]


def test_a_stale_summary_after_a_crash_between_the_renames_is_not_trusted(store):
    """Simulated: the chunk's new version renamed, its summary's not (the old one stays)."""
    store.dossiers.add(dossier("A-1", datetime(2025, 5, 2, tzinfo=UTC)))
    store.dossiers.add(dossier("A-2", datetime(2025, 5, 3, tzinfo=UTC)))
    side = summary_path(chunk(store))
    old_side = side.read_bytes()
    store.dossiers.update("A-2", lambda d: d.record(Event(actor="s", kind="refused", status=Status.REFUSED)))
    side.write_bytes(old_side)  # as if the process died before the summary's rename

    got = list(store.dossiers.summaries())
    assert got == expected(store) and got[1].refused is True
    # healed: the next reader uses the summary file again
    assert decode_summary(side.read_bytes())[0] == write_id_of(chunk(store))


def torn(raw: bytes) -> bytes:
    """What a power loss can leave of a file renamed before its data reached the disk."""
    return raw[: len(raw) // 2] + b"\x00" * (len(raw) - len(raw) // 2)


def other_write(raw: bytes) -> bytes:
    return raw.replace(raw[10:26], b"0" * 16, 1)  # a whole file, from another chunk write


def flipped(raw: bytes) -> bytes:
    """Still valid JSON with the right write id, one digit changed: only the crc32 sees it."""
    i = raw.rindex(b"2025-05-0")
    return raw[:i] + b"2025-05-1" + raw[i + 9 :]


@pytest.mark.parametrize(
    "damage",
    [lambda b: b"", lambda b: b"\x00garbage", torn, other_write, flipped,
     lambda b: b.replace(b',"format":1', b"", 1), None],
    ids=["empty", "garbage", "torn", "other-write", "flipped", "older-format", "missing"],
)
def test_a_missing_or_damaged_summary_is_rebuilt_from_the_chunk(store, damage):
    for i in range(3):
        store.dossiers.add(dossier(f"A-{i}", datetime(2025, 5, 2 + i, tzinfo=UTC)))
    side = summary_path(chunk(store))
    if damage is None:
        side.unlink()
    else:
        side.write_bytes(damage(side.read_bytes()))
    assert list(store.dossiers.summaries()) == expected(store)
    assert decode_summary(side.read_bytes())[0] == write_id_of(chunk(store))


def test_a_chunk_restored_from_its_bak_never_matches_a_newer_summary(store):
    store.dossiers.add(dossier("A-1", datetime(2025, 5, 2, tzinfo=UTC)))
    store.dossiers.add(dossier("A-2", datetime(2025, 5, 3, tzinfo=UTC)))
    path = chunk(store)
    shutil.copy(f"{path}.bak", path)  # the operator's restore: A-2 is gone again
    assert [s.code for s in store.dossiers.summaries()] == ["A-1"] == [d.code for d in store.dossiers.all()]


def test_a_chunk_written_before_summaries_existed_still_summarizes(store):
    """A chunk of the first format (no write id, no summary file) is read the slow way."""
    store.dossiers.add(dossier("A-1", datetime(2025, 5, 2, tzinfo=UTC)))
    path = chunk(store)
    data = json.loads(path.read_text())
    del data["_write"]
    path.write_text(json.dumps(data))
    summary_path(path).unlink()
    assert list(store.dossiers.summaries()) == expected(store)
    store.dossiers.add(dossier("A-2", datetime(2025, 5, 3, tzinfo=UTC)))  # the next write upgrades it
    assert decode_summary(summary_path(path).read_bytes())[0] == write_id_of(path)
    assert [s.code for s in store.dossiers.summaries()] == ["A-1", "A-2"]
