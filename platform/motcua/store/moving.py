"""Move a whole store into another (e.g. a data folder into PostgreSQL), counts checked.

It streams the export of the source (motcua.store.transfer) into an import of the empty
target, so it goes through the repository interface only and works between any two
backends; then it counts both sides again, collection by collection, so a move that lost
anything fails loudly instead of looking done.
"""

from __future__ import annotations

from motcua.store.base import Store, StoreError
from motcua.store.transfer import Counts, export_lines, import_store


def tally(store: Store) -> dict[str, int]:
    """How many dossiers, records of each collection and files the store holds."""
    counts = {"dossiers": store.dossiers.count(), "files": sum(1 for _ in store.files.ids())}
    for name in store.collections():
        counts[f"records/{name}"] = sum(1 for _ in store.records(name).all())
    return counts


def move_store(source: Store, target: Store) -> Counts:
    """Copy everything of `source` into the empty `target`; StoreError when the counts of
    the two differ afterwards (the message lists each difference)."""
    moved = import_store(target, export_lines(source), source="the source store")
    before, after = tally(source), tally(target)
    # Over the union of both, 0 where one side lists nothing: the embedded store lists a
    # collection whose records were all deleted, PostgreSQL does not.
    differing = [key for key in sorted(set(before) | set(after)) if before.get(key, 0) != after.get(key, 0)]
    if differing:
        diff = ", ".join(f"{key}: {before.get(key, 0)} in the source, {after.get(key, 0)} in the target"
                         for key in differing)
        raise StoreError(f"the move is incomplete ({diff}); the source is unchanged, empty the target and move again.")
    return moved
