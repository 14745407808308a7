"""The file store contract: what every backend of `motcua.store.base.FileStore` must do.

Run on the embedded store's folder (`TinyFiles`) and on PostgreSQL's bytea table
(`PgFiles`, a database of its own per test). Uploads, results, issued forms and
"my documents" reach files only through this interface, so passing here is what lets a
deployment switch with `MOTCUA_FILES`.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest
from conftest import pg_database

from motcua.store import StoreError, open_store
from motcua.store.base import FileStore

FILE_BACKENDS = ["folder", "database"]


@pytest.fixture(params=FILE_BACKENDS)
def kind(request) -> str:
    return request.param


@pytest.fixture
def store(kind: str, tmp_path: Path) -> Iterator:
    if kind == "folder":
        opened = open_store(tmp_path / "data")
        yield opened
        opened.close()
    else:
        with pg_database() as url:
            opened = open_store(url, tmp_path / "data", files="database")
            yield opened
            opened.close()


@pytest.fixture
def files(store) -> FileStore:
    return store.files


def tamper(store, kind: str, file_id: str) -> None:
    """Change a stored file's bytes behind the store's back (a disk or a hand edit)."""
    if kind == "folder":
        (store._folder / "files" / file_id[:2] / file_id).write_bytes(b"tampered")
    else:
        with store._db.connection() as conn:
            conn.execute("UPDATE files SET data = 'tampered'::bytea WHERE file_id = %s", (file_id,))


def test_put_read_by_content_id(files):
    scan = "giấy khai sinh".encode() + b"\x00\xff%PDF"
    file_id = files.put(scan)
    assert len(file_id) == 64 and files.put(scan) == file_id
    assert files.read(file_id) == scan
    assert files.exists(file_id)
    assert not files.exists("../../etc/passwd") and not files.exists("0" * 64)
    with pytest.raises(FileNotFoundError):
        files.read("0" * 64)
    with pytest.raises(KeyError):
        files.read("../../etc/passwd")


@pytest.mark.parametrize("bad", ["../../etc/passwd", "A" * 64, "0" * 63, "0" * 65, "g" * 64, "0" * 62 + "/x", ""])
def test_an_id_that_is_not_a_sha256_hex_is_refused_alike(files, bad):
    """Both stores refuse the same ids (one check, motcua.store.base.is_file_id), before a
    path or a query is built from them."""
    files.put(b"kept")
    assert not files.exists(bad) and files.stored_at(bad) is None and files.delete(bad) is False
    with pytest.raises(KeyError):
        files.read(bad)
    assert len(list(files.ids())) == 1


def test_ids_are_every_file_sorted(files):
    ids = [files.put(f"tệp {i}".encode()) for i in range(5)]
    assert list(files.ids()) == sorted(ids)


def test_add_says_who_created_and_versions_move(files):
    first = files.add(b"one scan")
    again = files.add(b"one scan")
    assert first.created and not again.created
    assert first.file_id == again.file_id and again.version != first.version


def test_read_checks_the_hash(store, kind, files):
    file_id = files.put(b"original")
    tamper(store, kind, file_id)
    with pytest.raises(StoreError, match=file_id):
        files.read(file_id)


def test_stored_at_and_delete_older_than_keep_a_file_stored_again(files):
    file_id = files.put(b"draft upload")
    first = files.stored_at(file_id)
    assert first is not None and abs(first - datetime.now(timezone.utc)) < timedelta(minutes=1)
    assert files.stored_at("0" * 64) is None
    time.sleep(0.02)
    files.put(b"draft upload")  # uploaded again: its clock restarts
    assert files.stored_at(file_id) > first
    assert not files.delete(file_id, older_than=first)
    assert files.exists(file_id)
    assert files.delete(file_id, older_than=datetime.now(timezone.utc) + timedelta(seconds=1))
    assert not files.exists(file_id) and not files.delete(file_id)


def test_delete_by_version_spares_a_file_stored_since(files):
    mine = files.add(b"my upload")
    files.add(b"my upload")  # another request stored the same bytes
    assert not files.delete(mine.file_id, version=mine.version)
    assert files.exists(mine.file_id)
    latest = files.add(b"my upload")
    assert files.delete(latest.file_id, version=latest.version)
    assert not files.exists(latest.file_id)


def test_a_version_is_never_handed_out_twice(files):
    old = files.add(b"scan")
    assert files.delete(old.file_id, version=old.version)
    new = files.add(b"scan")
    assert new.created and new.version != old.version
    assert not files.delete(old.file_id, version=old.version)  # a stale take-back
    assert files.read(new.file_id) == b"scan"


def test_concurrent_puts_of_the_same_bytes_create_once(files):
    created: list[bool] = []
    barrier = threading.Barrier(6)

    def put() -> None:
        barrier.wait()
        created.append(files.add(b"the same certificate").created)

    threads = [threading.Thread(target=put) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(created) == [False] * 5 + [True]
    assert list(files.ids()) == [files.put(b"the same certificate")]


def test_embedded_store_refuses_the_database_backend(tmp_path):
    with pytest.raises(StoreError, match="postgresql"):
        open_store(tmp_path / "data", files="database")
