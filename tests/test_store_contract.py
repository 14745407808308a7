"""The store contract: what every backend of motcua.store.base must do, run on each.

Each test runs on the embedded TinyDB store (a real folder in tmp, small chunks so chunk
borders are crossed) and on PostgreSQL (a database of its own, created and dropped around
the test; the test fails when PostgreSQL does not answer). What only the TinyDB file
layout has (chunks, index buckets, .bak files) is tested in test_store.py.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import BACKENDS

from motcua.dossier import Contact, Dossier, Event, Status
from motcua.store import StoreError, open_store
from motcua.store.base import EventsRewritten
from motcua.store.summary import summarize
from motcua.store.transfer import export_store, import_store

UTC = timezone.utc
pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)


def small_chunks(folder: Path, chunk_size: int = 3) -> None:
    """A TinyDB store whose chunks hold `chunk_size` dossiers, to cross chunk borders."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "store.json").write_text(
        json.dumps({"format": "motcua-tinydb", "version": 1, "chunk_size": chunk_size})
    )


def dossier(code: str, filed_at: datetime | None = None, **kw) -> Dossier:
    return Dossier(
        code=code,
        procedure_code=kw.pop("procedure_code", "dang-ky-khai-sinh"),
        spec_version="1",
        agency_code=kw.pop("agency_code", "000.00.01.H56"),
        channel="online",
        contact=Contact(name="Nguyễn Thị Hồng", phone="0912345678"),
        data={"child": {"full_name": "Trần Minh Khôi"}},
        filed_at=filed_at or datetime(2025, 5, 10, 3, 0, tzinfo=UTC),
        events=[Event(actor="citizen", kind="filed", status=Status.NEW)],
        **kw,
    )


@pytest.fixture
def make_store(backend, tmp_path: Path):
    """Opens an empty store of this test's backend (each call a new one); closes them all."""
    from conftest import pg_database
    from contextlib import ExitStack

    opened, stack = [], ExitStack()

    def make(name: str = "data"):
        folder = tmp_path / name
        if backend == "postgresql":
            store = open_store(stack.enter_context(pg_database()), folder)
        else:
            small_chunks(folder)
            store = open_store(folder)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
    stack.close()


@pytest.fixture
def store(make_store):
    return make_store()


def test_a_filed_dossier_reads_back_whole_and_codes_never_repeat(store):
    codes = [store.dossiers.next_code("000.00.01.H56", date(2025, 5, 10)) for _ in range(3)]
    assert codes == ["000.00.01.H56-250510-0001", "000.00.01.H56-250510-0002", "000.00.01.H56-250510-0003"]
    assert store.dossiers.next_code("000.00.01.H56", date(2025, 5, 11)) == "000.00.01.H56-250511-0001"
    assert store.dossiers.next_code("OTHER", date(2025, 5, 10)) == "OTHER-250510-0001"
    original = dossier(codes[0])
    store.dossiers.add(original)
    assert store.dossiers.get(codes[0]) == original
    assert store.dossiers.get("000.00.01.H56-250510-9999") is None
    with pytest.raises(StoreError, match="already exists"):
        store.dossiers.add(dossier(codes[0]))
    assert store.dossiers.count() == 1
    assert store.records("sequences").get("000.00.01.H56-250510") == {"n": 3}


def test_update_appends_events_and_an_aborted_change_writes_nothing(store):
    store.dossiers.add(dossier("A-1"))
    saved, result = store.dossiers.update(
        "A-1", lambda d: d.record(Event(actor="staff:lan", kind="received", status=Status.RECEIVED))
    )
    assert result.kind == "received"
    assert store.dossiers.get("A-1") == saved
    assert [e.kind for e in saved.events] == ["filed", "received"] and saved.status == Status.RECEIVED

    def refuse(d: Dossier) -> None:
        d.record(Event(actor="staff:lan", kind="refused", status=Status.REFUSED))
        raise ValueError("not allowed")

    with pytest.raises(ValueError):
        store.dossiers.update("A-1", refuse)
    assert store.dossiers.get("A-1") == saved
    assert [s.status for s in store.dossiers.summaries()] == [Status.RECEIVED]
    with pytest.raises(KeyError):
        store.dossiers.update("missing", lambda d: None)


def test_the_timeline_is_append_only_and_code_and_filing_time_never_change(store):
    store.dossiers.add(dossier("A-1"))
    store.dossiers.update("A-1", lambda d: d.record(Event(actor="s", kind="received", status=Status.RECEIVED)))
    before = store.dossiers.get("A-1")

    def edit(d: Dossier) -> None:
        d.events[0].note = "sửa lại"

    def drop(d: Dossier) -> None:
        d.events.pop(0)

    for change in (edit, drop):
        with pytest.raises(EventsRewritten):
            store.dossiers.update("A-1", change)
    for change in (
        lambda d: setattr(d, "code", "A-2"),
        lambda d: setattr(d, "filed_at", datetime(2025, 8, 1, tzinfo=UTC)),
    ):
        with pytest.raises(StoreError):
            store.dossiers.update("A-1", change)
    assert store.dossiers.get("A-1") == before and store.dossiers.get("A-2") is None


def test_all_is_filing_order_across_months_and_find_filters(store):
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
    assert [s.code for s in store.dossiers.summaries()] == order
    assert store.dossiers.count() == 7
    store.dossiers.update("M-1", lambda d: d.record(Event(actor="s", kind="received", status=Status.RECEIVED)))

    find = store.dossiers.find
    assert [d.code for d in find(agency_code="X")] == ["M-0", "M-1", "M-2", "M-3"]
    assert [d.code for d in find(status=Status.RECEIVED)] == ["M-1"]
    assert [d.code for d in find(agency_code="X", status=Status.NEW)] == ["M-0", "M-2", "M-3"]
    assert [d.code for d in find(procedure_code="other")] == ["J-0"]
    assert find(agency_code="nobody") == []
    june_vn = datetime(2025, 6, 1, tzinfo=timezone(timedelta(hours=7)))
    assert [d.code for d in find(filed_from=june_vn)] == ["J-0", "J-1"]
    assert [d.code for d in find(filed_to=june_vn)] == ["M-0", "M-1", "M-2", "M-3", "M-4"]
    assert [d.code for d in find(filed_from=datetime(2025, 5, 2), filed_to=datetime(2025, 5, 4), agency_code="X")] == [
        "M-1",
        "M-2",
    ]
    assert [s.code for s in store.dossiers.summaries(filed_from=june_vn)] == ["J-0", "J-1"]
    assert [s.code for s in store.dossiers.summaries(datetime(2025, 5, 2, tzinfo=UTC), june_vn)] == [
        "M-1", "M-2", "M-3", "M-4"]
    assert list(store.dossiers.summaries()) == [summarize(d) for d in store.dossiers.all()]
    # the staff queue's narrowing: some agencies, some statuses, in filing order
    summaries = store.dossiers.summaries
    assert [s.code for s in summaries(agency_codes=["X"])] == ["M-0", "M-1", "M-2", "M-3"]
    assert [s.code for s in summaries(agency_codes=["X"], statuses=[Status.NEW])] == ["M-0", "M-2", "M-3"]
    assert [s.code for s in summaries(statuses=[int(Status.RECEIVED), int(Status.NEW)], filed_to=june_vn)] == [
        "M-0", "M-1", "M-2", "M-3", "M-4"]
    assert list(summaries(agency_codes=[])) == [] and list(summaries(statuses=[])) == []


def test_summaries_active_since_leave_out_only_the_dossiers_closed_before_the_day(store):
    """What a period's statistics read (`active_since`): open ones however old, the ones
    closed on or after the day (in Vietnam time), the ones filed since; never the others."""
    vn = timezone(timedelta(hours=7))

    def moved(code, filed, *moves, **kw):
        d = dossier(code, filed, **kw)
        d.events = [Event(at=filed, actor="citizen", kind="filed", status=Status.NEW)]
        for at, status in moves:
            d.record(Event(at=at, actor="staff:lan", kind=status.name.lower(), status=status))
        return d

    old = datetime(2024, 3, 1, 2, 0, tzinfo=UTC)
    store.dossiers.add_many([
        moved("S-1", old, (datetime(2024, 3, 5, tzinfo=UTC), Status.FINISHED)),  # settled in 2024
        moved("W-1", old, (datetime(2024, 3, 5, tzinfo=UTC), Status.WITHDRAWN)),  # withdrawn in 2024
        moved("R-1", old, (datetime(2024, 3, 5, tzinfo=UTC), Status.REFUSED), procedure_code="other"),
        moved("O-1", old, (datetime(2024, 3, 2, tzinfo=UTC), Status.RECEIVED)),  # still open
        moved("T-1", old, (datetime(2024, 3, 2, tzinfo=UTC), Status.STOPPED)),  # stopped: not closed
        # 23:59 on 31 Dec in Vietnam: closed before 2025; 00:01 on 1 Jan: on the day
        moved("E-1", old, (datetime(2024, 12, 31, 23, 59, tzinfo=vn), Status.FINISHED)),
        moved("E-2", old, (datetime(2025, 1, 1, 0, 1, tzinfo=vn), Status.REFUSED), procedure_code="other"),
        moved("N-1", datetime(2025, 1, 1, 0, 30, tzinfo=vn), (datetime(2025, 1, 2, tzinfo=UTC), Status.FINISHED)),
    ])
    store.dossiers.add(dossier("L-1", datetime(2024, 6, 1, tzinfo=UTC), agency_code="X"))  # open: closed below
    store.dossiers.update("L-1", lambda d: d.record(Event(at=datetime(2025, 2, 1, tzinfo=UTC), actor="citizen",
                                                          kind="withdrawn", status=Status.WITHDRAWN)))
    summaries = store.dossiers.summaries
    new_year = date(2025, 1, 1)
    assert [s.code for s in summaries(active_since=new_year)] == ["O-1", "T-1", "E-2", "L-1", "N-1"]
    assert [s.code for s in summaries(active_since=date(2025, 1, 2))] == ["O-1", "T-1", "L-1", "N-1"]
    assert [s.code for s in summaries(active_since=date(2024, 3, 5))] == [
        "S-1", "W-1", "R-1", "O-1", "T-1", "E-1", "E-2", "L-1", "N-1"]
    assert [s.code for s in summaries(active_since=new_year, agency_codes=["X"])] == ["L-1"]
    assert [s.code for s in summaries(active_since=new_year, statuses=[int(Status.REFUSED)])] == ["E-2"]
    assert [s.code for s in summaries(procedure_code="other")] == ["R-1", "E-2"]
    assert [s.code for s in summaries(procedure_code="other", filed_to=datetime(2024, 12, 1, tzinfo=UTC))] == [
        "R-1", "E-2"]
    assert {s.code: s.closed_on for s in summaries()} == {
        "S-1": date(2024, 3, 5), "W-1": date(2024, 3, 5), "R-1": date(2024, 3, 5), "O-1": None, "T-1": None,
        "E-1": date(2024, 12, 31), "E-2": new_year, "L-1": date(2025, 2, 1), "N-1": date(2025, 1, 2)}


def test_add_many_keeps_order_and_refuses_a_code_taken(store):
    store.dossiers.add(dossier("A-0", datetime(2025, 5, 1, tzinfo=UTC)))
    store.dossiers.add_many([dossier(f"A-{i}", datetime(2025, 5, 1 + i, tzinfo=UTC)) for i in range(1, 8)])
    assert [d.code for d in store.dossiers.all()] == [f"A-{i}" for i in range(8)]
    with pytest.raises(StoreError):
        store.dossiers.add_many([dossier("B-1"), dossier("A-3")])
    with pytest.raises(StoreError):
        store.dossiers.add_many([dossier("C-1"), dossier("C-1")])
    assert store.dossiers.count() == 8 and store.dossiers.get("C-1") is None


def test_records_collections(store):
    drafts = store.records("drafts")
    assert drafts.get("d1") is None
    drafts.put("d1", {"answers": {"name": "Lê Văn Tám"}})
    drafts.put("d1", {"answers": {"name": "Lê Văn Tám", "age": 3}})
    assert drafts.get("d1") == {"answers": {"name": "Lê Văn Tám", "age": 3}}
    payments = store.records("payments")
    assert payments.insert_new("txn-1", {"amount": 8000}) is True
    assert payments.insert_new("txn-1", {"amount": 9999}) is False
    assert payments.get("txn-1") == {"amount": 8000}
    assert store.records("counters").update("c", lambda cur: {"n": (cur or {"n": 0})["n"] + 1}) == {"n": 1}
    assert store.records("counters").update("c", lambda cur: {"n": cur["n"] + 1}) == {"n": 2}

    def fail(cur):
        raise ValueError("no")

    with pytest.raises(ValueError):
        store.records("counters").update("new-key", fail)
    assert store.records("counters").get("new-key") is None  # an aborted update writes nothing
    for i in range(300):
        drafts.put(f"many-{i}", {"i": i})
    assert len(dict(drafts.all())) == 301
    drafts.delete("d1")
    drafts.delete("never-there")
    assert drafts.get("d1") is None and len(dict(drafts.all())) == 300
    assert store.collections() == ["counters", "drafts", "payments"]
    store.records("outbox").put_many([("m1", {"to": "a"}), ("m2", {"to": "b"})])
    assert dict(store.records("outbox").all()) == {"m1": {"to": "a"}, "m2": {"to": "b"}}
    with pytest.raises(StoreError):
        store.records("outbox").put_many([("m1", {"to": "again"})])
    with pytest.raises(ValueError):
        store.records("../escape")


def test_files_are_stored_by_content_and_checked_on_read(store):
    file_id = store.files.put("giấy khai sinh".encode())
    assert store.files.put("giấy khai sinh".encode()) == file_id
    assert store.files.read(file_id) == "giấy khai sinh".encode()
    assert store.files.exists(file_id) and not store.files.exists("../../etc/passwd")
    assert list(store.files.ids()) == [file_id]
    # damage, versions and conditional deletes: tests/test_file_store_contract.py, per file backend


def test_export_import_round_trip_is_identical(make_store):
    store = make_store("source")
    store.dossiers.add(dossier(store.dossiers.next_code("H56", date(2025, 5, 10)), datetime(2025, 4, 30, tzinfo=UTC)))
    for i in range(5):
        code = store.dossiers.next_code("H56", date(2025, 5, 10))
        store.dossiers.add(dossier(code, datetime(2025, 5, 10, i, tzinfo=UTC)))
        store.dossiers.update(code, lambda d: d.record(Event(actor="s", kind="received", status=Status.RECEIVED)))
    store.records("drafts").put("d", {"answers": {"tên": "Đặng Thu Thảo"}})
    store.records("accounts").put("lan", {"role": "staff"})
    file_id = store.files.put(b"%PDF-1.4 \x00\xff binary")

    first = io.BytesIO()
    counts = export_store(store, first)
    assert (counts.dossiers, counts.records, counts.files) == (6, 3, 1)  # 3: drafts, accounts, a sequence
    copy = make_store("copy")
    import_store(copy, io.BytesIO(first.getvalue()))
    second = io.BytesIO()
    export_store(copy, second)
    assert first.getvalue() == second.getvalue()

    assert list(copy.dossiers.all()) == list(store.dossiers.all())
    assert list(copy.dossiers.summaries()) == list(store.dossiers.summaries())
    assert copy.files.read(file_id) == b"%PDF-1.4 \x00\xff binary"
    # the sequences came along: the next code continues, never repeats
    assert copy.dossiers.next_code("H56", date(2025, 5, 10)) == "H56-250510-0007"
    with pytest.raises(StoreError, match="not empty"):
        import_store(copy, io.BytesIO(first.getvalue()))
    assert copy.dossiers.count() == 6


def test_the_app_runs_on_this_store(app):
    store = app.extensions["motcua"].store
    store.dossiers.add(dossier("APP-1"))
    assert store.dossiers.get("APP-1").code == "APP-1"


def test_the_studio_publishes_once_per_version_and_an_export_carries_its_catalogue(make_store):
    """The authoring studio's records (motcua.studio) on this backend: a version is written
    once whichever of two racing approvals gets there, and the published catalogue moves
    with an export like every other collection."""
    import threading
    from pathlib import Path as _Path

    from motcua import studio
    from motcua.spec.loader import load_file

    fixture = _Path(__file__).parent / "fixtures" / "studio_spec.yaml"
    base = load_file(fixture).spec
    text = fixture.read_text(encoding="utf-8").replace('version: "2026.1"', 'version: "2026.2"')
    store = make_store("source")
    studio.save_draft(store, base.code, text, "soan")
    studio.submit(store, base.code, "soan", base)
    results: list[object] = []

    def approve(reviewer: str) -> None:
        try:
            results.append(studio.approve(store, base.code, reviewer, base, fixture.read_text(encoding="utf-8")).key)
        except studio.StudioError as exc:
            results.append(exc)

    threads = [threading.Thread(target=approve, args=(name,)) for name in ("quantri", "quantri2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(map(str, results))[0] == f"{base.code}@2026.2"  # one publishes ...
    assert sum(isinstance(r, studio.StudioError) for r in results) == 1  # ... the other finds no draft in review
    assert studio.record(store, base.code)["published"] == f"{base.code}@2026.2"
    assert studio.generation(store) >= 1
    out = io.BytesIO()
    export_store(store, out)
    copy = make_store("copy")
    import_store(copy, io.BytesIO(out.getvalue()))
    specs, retired = studio.published(copy)
    assert specs[base.code].version == "2026.2" and not retired
    assert [e["key"] for e in studio.history(copy, base.code)] == [f"{base.code}@2026.2", f"{base.code}@2026.1"]
