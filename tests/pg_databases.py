"""The PostgreSQL databases of the tests: one per test, created and dropped around it.

Each is a copy of a template made once per session (per xdist worker) with the store's
migrations and the job queue's tables already applied (`CREATE DATABASE ... TEMPLATE`), so
a test does not pay the migrations again; `empty=True` gives a bare database for the tests
of the migrations themselves. Dropping a database waits for PostgreSQL's files to go (a
third of a second and more on a loaded machine), so drops run on a background thread and
the session's end waits for them (`finish`).

One module, imported by the conftest (which re-exports `pg_database`): the test modules
import the conftest both as `conftest` and as `tests.conftest`, two module objects, and
the template must be one per session.
"""

from __future__ import annotations

import os
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Iterator

import pytest

#: The maintenance database test databases are created from (trust auth on the CI machine).
PG_ADMIN_URL = os.environ.get("MOTCUA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

_lock = threading.Lock()
_template: str | None = None
_dropper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-drop")
_drops: list[Future] = []


def url_of(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _admin() -> Any:
    import psycopg

    try:
        return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL does not answer at {PG_ADMIN_URL} (set MOTCUA_TEST_PG, start it): {exc}")


def _new_name(kind: str) -> str:
    return f"motcua_{kind}_{uuid.uuid4().hex[:12]}"


def _migrated_template() -> str:
    """The session's template: the store's schema (`migrate`) and the job queue's tables
    (`ensure_schema`), exactly what a store and an app opening an empty database make."""
    global _template
    with _lock:
        if _template is None:
            import psycopg

            from motcua.jobs.pg import ensure_schema
            from motcua.store.pg_store import migrate

            name = _new_name("test_tpl")
            with _admin() as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
            with psycopg.connect(url_of(name), autocommit=True) as conn:
                migrate(conn)
            ensure_schema(url_of(name))
            _template = name
        return _template


def _drop(name: str) -> None:
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def pg_database(empty: bool = False) -> Iterator[str]:
    """A new database `motcua_test_<random>` (migrated, or bare with `empty`), dropped
    afterwards (in the background); its URL."""
    template = "" if empty else f' TEMPLATE "{_migrated_template()}"'
    name = _new_name("test")
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"{template}')
    try:
        yield url_of(name)
    finally:
        _drops.append(_dropper.submit(_drop, name))


def finish() -> None:
    """At the session's end: wait for the drops, then drop the template."""
    global _template
    for drop in _drops:
        drop.result()
    _drops.clear()
    if _template is not None:
        _drop(_template)
        _template = None
