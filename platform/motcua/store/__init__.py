"""Storage: the repository interface, its embedded TinyDB implementation (the default) and
its PostgreSQL implementation (chosen by a postgresql:// URL)."""

from __future__ import annotations

from pathlib import Path

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


__all__ = ["DossierRepository", "FileStore", "Records", "Store", "StoreError", "open_store"]
