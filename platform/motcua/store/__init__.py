"""Storage: the repository interface, its embedded TinyDB implementation (the default) and
its PostgreSQL implementation (chosen by a postgresql:// URL)."""

from __future__ import annotations

import os
from contextlib import nullcontext
from pathlib import Path
from typing import ContextManager

from motcua.store.base import DossierRepository, FileStore, Records, Store, StoreError


def open_store(target: str | Path, data_dir: str | Path | None = None) -> Store:
    """Open (creating if needed) the store `target` names.

    A folder: the default embedded store there. A `postgresql://` URL: the PostgreSQL
    store (schema migrated on open), keeping uploaded files in `<data_dir>/files`.
    """
    from motcua.store.pg_store import is_url

    if is_url(target):
        if data_dir is None:
            raise StoreError(
                "a PostgreSQL store keeps uploaded files in a local folder: give the data "
                "folder too (--data, MOTCUA_DATA_DIR)."
            )
        from motcua.store.pg_store import PgStore

        return PgStore(str(target), Path(data_dir))
    from motcua.store.tinydb_store import TinyStore

    return TinyStore(Path(target))


def configured_store(data_dir: str | Path) -> Store:
    """What the app opens (its STORE setting) for a command given only `--data`: the store
    MOTCUA_STORE names (a postgresql:// URL, files in `data_dir`), else the embedded store
    in `data_dir`."""
    return open_store(os.environ.get("MOTCUA_STORE") or data_dir, data_dir)


def transaction(store: Store) -> ContextManager[None]:
    """The store's `transaction()` where the backend has one (PostgreSQL: the calls of the
    block commit together or not at all), else a block that changes nothing (the embedded
    store: each call is durable on its own, as before)."""
    begin = getattr(store, "transaction", None)
    return begin() if begin is not None else nullcontext()


__all__ = ["DossierRepository", "FileStore", "Records", "Store", "StoreError", "configured_store", "open_store",
           "transaction"]
