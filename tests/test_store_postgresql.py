"""What only the PostgreSQL store has: its schema migrations, its derived summary rows,
and a clear message when the database does not answer. The behaviour every store shares
is the contract suite (test_store_contract.py)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest
from test_store_contract import dossier

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
