"""What only the PostgreSQL store has: its schema migrations, its derived summary rows,
and a clear message when the database does not answer. The behaviour every store shares
is the contract suite (test_store_contract.py)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

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
