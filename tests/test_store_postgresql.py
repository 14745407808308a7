"""What only the PostgreSQL store has: its schema migrations, its derived summary rows,
and a clear message when the database does not answer. The behaviour every store shares
is the contract suite (test_store_contract.py)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from test_store_contract import dossier
from tests.portal_helpers import OFFICE

from motcua.store import StoreError, open_store
from motcua.store.pg_store import migrate, migrations
from motcua.store.summary import summarize


def test_migrations_apply_once_in_order_and_a_newer_schema_is_refused(pg_url: str, tmp_path: Path):
    shipped = [v for v, _name, _sql in migrations()]
    assert shipped == sorted(shipped) and shipped[0] == 1
    open_store(pg_url, tmp_path).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert [v for (v,) in conn.execute("SELECT version FROM schema_version ORDER BY version")] == shipped
        assert migrate(conn) == []  # nothing left to apply
        conn.execute("INSERT INTO schema_version (version, name) VALUES (%s, 'from the future')", (shipped[-1] + 1,))
    with pytest.raises(StoreError, match="newer than this Motcua"):
        open_store(pg_url, tmp_path)


def test_summary_rows_of_another_layout_are_rebuilt_on_open(pg_url: str, tmp_path: Path):
    store = open_store(pg_url, tmp_path)
    for i in range(3):
        store.dossiers.add(dossier(f"A-{i}", datetime(2025, 5, 1 + i, tzinfo=timezone.utc)))
    expected = [summarize(d) for d in store.dossiers.all()]
    store.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE dossiers SET summary = '[\"old\"]', summary_format = 0 WHERE code <> 'A-1'")
    store = open_store(pg_url, tmp_path)
    try:
        assert list(store.dossiers.summaries()) == expected
    finally:
        store.close()


def test_an_unreachable_database_is_a_clear_error_without_the_password(tmp_path: Path):
    with pytest.raises(StoreError, match="cannot reach the PostgreSQL store") as err:
        open_store("postgresql://motcua:s3cret@127.0.0.1:1/nowhere?connect_timeout=2", tmp_path)
    assert "s3cret" not in str(err.value)


def test_a_transaction_commits_all_its_calls_or_none(pg_url: str, tmp_path: Path):
    store = open_store(pg_url, tmp_path)
    try:
        with pytest.raises(RuntimeError):
            with store.transaction():
                code = store.dossiers.next_code("H56", date(2025, 5, 10))
                store.dossiers.add(dossier(code))
                store.records("drafts").put("d", {"code": code})
                with store.transaction():  # nested: joins the outer one
                    store.records("drafts").put("e", {})
                assert store.dossiers.get(code) is not None  # seen inside
                raise RuntimeError("the filing failed")
        assert store.dossiers.count() == 0 and store.collections() == []
        with store.transaction():
            code = store.dossiers.next_code("H56", date(2025, 5, 10))
            assert code == "H56-250510-0001"  # the failed one left no gap
            store.dossiers.add(dossier(code))
            with pytest.raises(StoreError, match="already exists"):  # a failed call undoes only itself
                store.dossiers.add(dossier(code))
            store.records("drafts").put("d", {"code": code})
        assert [d.code for d in store.dossiers.all()] == [code] and store.records("drafts").get("d") == {"code": code}
    finally:
        store.close()


def test_a_filing_that_fails_leaves_no_gap_in_the_codes(tmp_path: Path, pg_url: str):
    from conftest import SPECS
    from test_backoffice import answers

    from motcua.app import create_app
    from motcua.filing import add_dossier

    app = create_app({"DATA_DIR": str(tmp_path / "data"), "STORE": pg_url, "SPECS_DIR": str(SPECS), "TESTING": True})
    store = app.extensions["motcua"].store
    spec = app.extensions["motcua"].catalogue.get("1.001193")
    at = datetime(2025, 5, 10, 3, tzinfo=timezone.utc)
    taken = f"{OFFICE}-250510-0001"
    store.dossiers.add(dossier(taken))  # stored without taking its number: the next filing's add fails
    try:
        with app.test_request_context():
            with pytest.raises(StoreError, match="already exists"):
                add_dossier(spec, answers(), [], "online", None, "citizen", at=at, agency=OFFICE)
            assert store.records("sequences").get(f"{OFFICE}-250510") is None  # rolled back
            store.records("sequences").put(f"{OFFICE}-250510", {"n": 1})
            filed = add_dossier(spec, answers(), [], "online", None, "citizen", at=at, agency=OFFICE)
        assert filed.code == f"{OFFICE}-250510-0002"
        assert store.dossiers.get(filed.code) == filed
    finally:
        store.close()


def test_migration_3_fills_the_closing_day_of_the_dossiers_already_stored(pg_url: str, tmp_path: Path):
    from motcua.dossier import Event, Status

    store = open_store(pg_url, tmp_path)
    try:
        settled = dossier("S-1", datetime(2024, 3, 1, tzinfo=timezone.utc))
        settled.record(Event(at=datetime(2024, 3, 4, 18, tzinfo=timezone.utc), actor="s", kind="finished",
                             status=Status.FINISHED))  # 01:00 on 5 March in Vietnam
        withdrawn = dossier("W-1", datetime(2024, 3, 1, tzinfo=timezone.utc))
        withdrawn.record(Event(at=datetime(2024, 4, 2, tzinfo=timezone.utc), actor="c", kind="withdrawn",
                               status=Status.WITHDRAWN))
        store.dossiers.add_many([settled, withdrawn, dossier("O-1")])
    finally:
        store.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:  # the database as schema version 2 left it
        conn.execute("DROP INDEX dossiers_liaison; DROP INDEX dossiers_closed_on")
        conn.execute("ALTER TABLE dossiers DROP COLUMN closed_on")
        conn.execute("DELETE FROM schema_version WHERE version = 3")
    store = open_store(pg_url, tmp_path)
    try:
        with psycopg.connect(pg_url) as conn:
            assert dict(conn.execute("SELECT code, closed_on FROM dossiers").fetchall()) == {
                "S-1": date(2024, 3, 5), "W-1": date(2024, 4, 2), "O-1": None}
        assert [s.code for s in store.dossiers.summaries(active_since=date(2024, 4, 1))] == ["W-1", "O-1"]
    finally:
        store.close()


def _wire():
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "bench" / "pg_wire.py"
    spec = importlib.util.spec_from_file_location("pg_wire", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_round_trips_one_per_statement_and_savepoints_only_where_a_failure_is_caught(pg_url: str, tmp_path: Path):
    """Counted on the wire (bench/pg_wire.py): a call of one statement outside a
    transaction is one round trip (the pool is in autocommit: no BEGIN/COMMIT); inside
    `transaction()` the calls add no SAVEPOINT/RELEASE, except the one whose failure is
    caught (add_many's unique violation), and the transaction goes on after it."""
    from motcua.dossier import Event, Status

    proxy = _wire().CountingProxy(int(urlsplit(pg_url).port or 5432))
    store = open_store(proxy.url(urlsplit(pg_url).path.lstrip("/")), tmp_path)
    drafts = store.records("drafts")

    def trips(action) -> int:
        before = proxy.round_trips
        action()
        return proxy.round_trips - before

    try:
        assert trips(lambda: store.dossiers.get("nothing")) == 1
        assert trips(lambda: drafts.put("d", {"a": 1})) == 1
        assert trips(lambda: store.dossiers.add(dossier("A-1"))) == 1
        assert trips(lambda: store.dossiers.next_code("H56", date(2025, 5, 10))) == 1
        # SELECT ... FOR UPDATE and UPDATE must commit together: BEGIN, 2 statements, COMMIT
        assert trips(lambda: store.dossiers.update("A-1", lambda d: d.record(
            Event(actor="s", kind="received", status=Status.RECEIVED)))) == 4

        def filing() -> None:
            with store.transaction():
                code = store.dossiers.next_code("H56", date(2025, 5, 10))
                store.dossiers.add(dossier(code))
                drafts.insert_new("e", {"code": code})

        assert trips(filing) == 2 + 3  # BEGIN, three statements, COMMIT

        def recovered() -> None:
            with store.transaction():
                drafts.put("f", {})
                with pytest.raises(StoreError):
                    store.dossiers.add_many([dossier("B-1"), dossier("A-1")])  # A-1 is taken
                with pytest.raises(ValueError):  # a claimed key is given back, without a savepoint
                    drafts.update("g", lambda current: (_ for _ in ()).throw(ValueError("no")))
                drafts.put("h", {})

        recovered()
        assert drafts.get("f") == {} and drafts.get("h") == {} and drafts.get("g") is None
        assert store.dossiers.get("B-1") is None
    finally:
        store.close()


def test_the_queue_and_the_statistics_filters_can_be_answered_from_indexes(pg_url: str, tmp_path: Path):
    """The plans of `summaries()` with the staff queue's and the statistics' filters use
    the indexes (sequential scans off, so a small table does not hide a filter no index
    can serve: the queue's liên thông side once made PostgreSQL read every row)."""
    from motcua.dossier import Event, Status
    from motcua.store.pg_store import summaries_query

    store = open_store(pg_url, tmp_path)
    try:
        rows = []
        for i in range(400):
            d = dossier(f"P-{i:04d}", datetime(2024, 1, 1, tzinfo=timezone.utc), agency_code=f"A{i % 4}")
            if i % 10:
                d.record(Event(at=datetime(2024, 2, 1, tzinfo=timezone.utc), actor="s", kind="finished",
                               status=Status.FINISHED))
            if i % 50 == 0:
                d.steps["_engine"] = {"liaison_agency": "A1"}
            rows.append(d)
        store.dossiers.add_many(rows)
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("ANALYZE dossiers")
            conn.execute("SET enable_seqscan = off")

            def plan(**filters) -> str:
                sql, params = summaries_query(**filters)
                return "\n".join(r for (r,) in conn.execute("EXPLAIN " + sql, params))

            queue = plan(agency_codes=["A1"], statuses=[int(Status.NEW)])
            assert "dossiers_queue" in queue and "dossiers_liaison" in queue, queue
            assert "dossiers_closed_on" in plan(active_since=date(2025, 1, 1)), plan(active_since=date(2025, 1, 1))
        assert [s.code for s in store.dossiers.summaries(agency_codes=["A1"], statuses=[int(Status.NEW)])] == [
            "P-0000", "P-0050", "P-0100", "P-0150", "P-0200", "P-0250", "P-0300", "P-0350"]
    finally:
        store.close()
