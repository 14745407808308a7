"""Export a whole store as JSON Lines, and load such an export into an empty store.

One JSON object per line, UTF-8, in a fixed order so that exporting a store, importing
the export into an empty folder and exporting again gives the same bytes:

    {"kind": "motcua-export", "version": 1}
    {"kind": "dossier", "value": {...}}                          filing order
    {"kind": "record", "collection": "drafts", "key": "...", "value": {...}}
                                                                 collections by name
    {"kind": "file", "id": "<sha256>", "base64": "..."}          by id

Files are inlined as base64 so one export file is a complete backup. It goes through the
repository interface only, so it also moves data between two store implementations.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from motcua.dossier import Dossier
from motcua.store.base import Damage, Store, StoreDamaged, StoreError

EXPORT_FORMAT = "motcua-export"
EXPORT_VERSION = 1
BATCH = 5000


@dataclass
class Counts:
    dossiers: int = 0
    records: int = 0
    files: int = 0

    def __str__(self) -> str:
        return f"{self.dossiers} dossiers, {self.records} records, {self.files} files"


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


#: Damage that leaves an export complete: the index is derived from the chunks, which export
#: reads; an import rebuilds it.
EXPORT_UNAFFECTED = frozenset({"index-damaged", "index-entry-missing", "index-dangling"})


def export_lines(store: Store, counts: Counts | None = None, skipped: list[Damage] | None = None) -> Iterator[bytes]:
    """The export of `store`, line by line (streams: nothing is held in memory).

    Damage that would make the export incomplete (a chunk missing or unreadable, a dossier
    that does not validate, a records bucket or an upload that does not read) raises
    StoreDamaged naming the file and its code, before a line is written when a quick check
    finds it. With `skipped` (export --skip-damaged), it is appended there instead and
    everything readable is exported."""
    counts = counts if counts is not None else Counts()

    def skip(damage: Damage) -> None:
        assert skipped is not None
        skipped.append(damage)

    on_damage = skip if skipped is not None else None
    quick = getattr(store, "quick_check", None)
    for damage in (quick() if quick else []):
        if damage.serious and damage.code not in EXPORT_UNAFFECTED:
            if on_damage is None:
                raise StoreDamaged(damage)
            on_damage(damage)
    yield _line({"kind": EXPORT_FORMAT, "version": EXPORT_VERSION})
    # only a reader that goes on past damage takes `on_damage` (another store may not)
    for dossier in (store.dossiers.all(on_damage=on_damage) if on_damage else store.dossiers.all()):
        counts.dossiers += 1
        yield _line({"kind": "dossier", "value": dossier.model_dump(mode="json")})
    for name in store.collections():
        records = store.records(name)
        for key, value in (records.all(on_damage=on_damage) if on_damage else records.all()):
            counts.records += 1
            yield _line({"kind": "record", "collection": name, "key": key, "value": value})
    for file_id in store.files.ids():
        try:
            content = store.files.read(file_id)
        except StoreDamaged as exc:
            if on_damage is None:
                raise
            on_damage(exc.damage)
            continue
        counts.files += 1
        yield _line({"kind": "file", "id": file_id, "base64": base64.b64encode(content).decode("ascii")})


def export_store(store: Store, out: IO[bytes], skipped: list[Damage] | None = None) -> Counts:
    counts = Counts()
    for line in export_lines(store, counts, skipped):
        out.write(line)
    return counts


def is_empty(store: Store) -> bool:
    return store.dossiers.count() == 0 and not store.collections() and next(store.files.ids(), None) is None


def import_store(store: Store, lines: Iterable[bytes], source: str = "the export") -> Counts:
    """Load an export into `store`, which must be empty (nothing is merged or overwritten)."""
    if not is_empty(store):
        raise StoreError(
            "The target store is not empty: import only loads an export into an empty data "
            "folder, so nothing is merged or overwritten. Choose a new folder."
        )
    counts = Counts()
    dossiers: list[Dossier] = []
    records: dict[str, list[tuple[str, dict[str, Any]]]] = {}

    def flush() -> None:
        if dossiers:
            store.dossiers.add_many(dossiers)
            dossiers.clear()
        for name, items in records.items():
            store.records(name).put_many(items)
        records.clear()

    it = iter(lines)
    header = _parse(next(it, b""), source, 1)
    if header.get("kind") != EXPORT_FORMAT or header.get("version") != EXPORT_VERSION:
        raise StoreError(f"{source} is not a Motcua export (version {EXPORT_VERSION}): line 1 is {header!r:.80}")
    for number, raw in enumerate(it, start=2):
        if not raw.strip():
            continue
        obj = _parse(raw, source, number)
        kind = obj.get("kind")
        try:
            if kind == "dossier":
                dossiers.append(Dossier.model_validate(obj["value"]))
                counts.dossiers += 1
            elif kind == "record":
                records.setdefault(obj["collection"], []).append((obj["key"], obj["value"]))
                counts.records += 1
            elif kind == "file":
                data = base64.b64decode(obj["base64"], validate=True)
                if hashlib.sha256(data).hexdigest() != obj["id"]:
                    raise ValueError("content does not match its id")
                store.files.put(data)
                counts.files += 1
            else:
                raise ValueError(f"unknown kind {kind!r}")
        except (KeyError, ValueError, TypeError) as exc:
            raise StoreError(
                f"{source}, line {number}: {exc}. The import stopped part way: delete the "
                "target folder, fix or re-create the export, and import again."
            ) from None
        if len(dossiers) >= BATCH or sum(len(v) for v in records.values()) >= BATCH:
            flush()
    flush()
    return counts


def _parse(raw: bytes, source: str, number: int) -> dict[str, Any]:
    try:
        obj = json.loads(raw)
    except ValueError as exc:
        raise StoreError(f"{source}, line {number}: not JSON ({exc}); the export is damaged.") from None
    if not isinstance(obj, dict):
        raise StoreError(f"{source}, line {number}: not a JSON object; the export is damaged.")
    return obj
