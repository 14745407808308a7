"""Storage: the repository interface and its embedded TinyDB implementation."""

from __future__ import annotations

from pathlib import Path

from motcua.store.base import DossierRepository, FileStore, Records, Store, StoreError


def open_store(data_dir: str | Path) -> Store:
    """Open (creating if needed) the default embedded store in `data_dir`."""
    from motcua.store.tinydb_store import TinyStore

    return TinyStore(Path(data_dir))


__all__ = ["DossierRepository", "FileStore", "Records", "Store", "StoreError", "open_store"]
