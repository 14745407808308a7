"""Storage: the repository interface, its embedded TinyDB implementation (the default) and
its PostgreSQL implementation (chosen by a postgresql:// URL)."""

from __future__ import annotations

import os
from contextlib import nullcontext
from pathlib import Path
from typing import ContextManager

from motcua.store.base import DossierRepository, FileStore, Records, Store, StoreError


def open_store(target: str | Path, data_dir: str | Path | None = None, files: str | None = None) -> Store:
    """Open (creating if needed) the store `target` names.

    A folder: the default embedded store there (files in `<target>/files`). A
    `postgresql://` URL: the PostgreSQL store (schema migrated on open), its session key
    and marker in `data_dir`, uploaded files in the database (`files="database"`, the
    default: every machine sees them) or in `<data_dir>/files` (`files="folder"`).
    `files` defaults to MOTCUA_FILES; the embedded store has only its folder.
    """
    files = files or os.environ.get("MOTCUA_FILES") or None
    from motcua.store.pg_store import is_url

    if is_url(target):
        if data_dir is None:
            raise StoreError(
                "a PostgreSQL store keeps uploaded files in a local folder: give the data "
                "folder too (--data, MOTCUA_DATA_DIR)."
            )
        from motcua.store.pg_store import PgStore

        return PgStore(str(target), Path(data_dir), files=files)
    if files not in (None, "folder"):
        raise StoreError(f"the embedded store keeps its files in its folder: file store {files!r} needs a "
                         "postgresql:// store (MOTCUA_STORE).")
    from motcua.store.tinydb_store import TinyStore

    return TinyStore(Path(target))


def store_target(data_dir: str | Path, url: str | None = None) -> str | Path:
    """Which store serves `data_dir`: `url` when given; else the PostgreSQL store whose
    marker the folder holds (pg_store.MARKER_FORMAT), when the marker's URL is whole (one
    without a password: trust or peer auth, PGPASSWORD, ~/.pgpass); else the folder itself.
    A marker whose URL had a password is refused here, never opened as an embedded store:
    that empty store would share the deployment's files/ and `purge` would delete them."""
    if url:
        return url
    from motcua.store.pg_store import read_marker

    marker = read_marker(Path(data_dir))
    if marker is None:
        return data_dir
    if not marker.get("url_complete"):
        raise StoreError(
            f"{data_dir}: this folder belongs to a PostgreSQL store at {marker.get('url')}; "
            "set MOTCUA_STORE or pass --store with its URL."
        )
    return str(marker["url"])


def configured_store(data_dir: str | Path) -> Store:
    """What the app opens (its STORE setting) for a command given only `--data`: the store
    MOTCUA_STORE names (a postgresql:// URL, files in `data_dir`), else the PostgreSQL store
    the folder's marker names, else the embedded store in `data_dir`.

    Inside a click command the store is closed when the command ends: a PostgreSQL pool left
    open is closed by the garbage collector, which may run in one of the pool's own threads
    (a test dropping the database wakes them), and a thread cannot join itself ("cannot join
    current thread")."""
    import click

    store = open_store(store_target(data_dir, os.environ.get("MOTCUA_STORE")), data_dir)
    command = click.get_current_context(silent=True)
    if command is not None:
        command.call_on_close(store.close)
    return store


def transaction(store: Store) -> ContextManager[None]:
    """The store's `transaction()` where the backend has one (PostgreSQL: the calls of the
    block commit together or not at all). The embedded store has none: each call is applied
    on its own, and the block's calls share one fsync at its end (`synced_at_end`), so
    what the block wrote is durable when it ends, not before, and not atomically."""
    begin = getattr(store, "transaction", None)
    if begin is not None:
        return begin()
    group = getattr(store, "synced_at_end", None)
    return group() if group is not None else nullcontext()


def has_transactions(store: Store) -> bool:
    """Whether `transaction(store)` really makes its calls one transaction (PostgreSQL)."""
    return getattr(store, "transaction", None) is not None


__all__ = ["DossierRepository", "FileStore", "Records", "Store", "StoreError", "configured_store", "open_store", "store_target",
           "has_transactions", "transaction"]
