"""Where the embedded store keeps a records key or a dossier's index entry, and the move of a
data folder from the first layout (version 1) to this one (version 2).

Version 1 kept every records collection and the dossiers' index in 256 buckets by hash of the
key. A journal fold then rewrote nearly all of them each time: a fold of 600 filings adds an
outbox record and an index entry per dossier, which lands in every bucket, and each bucket
holds a 256th of everything ever stored, so the fold's cost grew with the store.

Version 2 keeps a key that names a dossier or an office's day — a dossier code
`<office>-<YYMMDD>-<nnnn>` (outbox, ratings, the index ...) or a code sequence
`<office>-<YYMMDD>` — in a file of its own day and group of 100 codes, in a folder of its
month: `2025-05/000.06.50.H15-250517-00.json` holds codes 0000-0099 of that office and day,
`2025-05/000.06.50.H15-250517.json` that day's sequence. A fold writes only the groups of
the codes it holds: those filed since the last fold (and the few older ones that changed),
each file at most 100 keys, whatever the number of dossiers kept. Any other key (a draft's
random token, a username ...) stays in its hash bucket (`3f.json`), as before.

Where a key lives is a pure function of the key (`part_of`), so a lookup reads one file.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from motcua.store.durable import BAK_SUFFIX, atomic_write, dump_json, ensure_dir, fsync_dir, read_json

log = logging.getLogger(__name__)

VERSION = 2  # this layout; version 1 folders are moved to it when opened (`upgrade`)
GROUP = 100  # codes per group file, as dossiers per chunk
MONTH = re.compile(r"^[0-9]{4}-[0-9]{2}$")
BUCKET = re.compile(r"^[0-9a-f]{2}\.json$")
#: a dossier code or a code sequence's key: office, day (YYMMDD), number
_CODED = re.compile(r"^([0-9A-Za-z.]{1,40})-([0-9]{2})(0[1-9]|1[0-2])([0-9]{2})(?:-([0-9]{4,9}))?$")
_GROUP_FILE = re.compile(r"^[0-9A-Za-z.]{1,40}-[0-9]{6}(?:-[0-9]{2,})?\.json$")


def bucket(key: str) -> str:
    """A key's hash bucket (00-ff): where a key that names no day lives, and its lock's name."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:2]


def part_of(key: str) -> str:
    """The file (relative to the collection's or the index's folder, without `.json`) that
    keeps `key`: `<YYYY-MM>/<office>-<YYMMDD>[-<group>]` for a code, else its hash bucket."""
    m = _CODED.match(key)
    if m is None:
        return bucket(key)
    office, yy, mm, dd, n = m.groups()
    name = f"{office}-{yy}{mm}{dd}" + ("" if n is None else f"-{int(n) // GROUP:02d}")
    return f"20{yy}-{mm}/{name}"


def is_bucket(part: str) -> bool:
    """Whether `part` is a hash bucket (the first layout kept every key in one)."""
    return "/" not in part


def part_files(folder: Path, bak: bool = False) -> Iterator[tuple[str, Path]]:
    """(part, path) of every bucket and group file in a collection's or the index's folder,
    in a fixed order (buckets and month folders by name, each month's files by name). With
    `bak`, those named by a `.bak` left there (the path is the file it backs up)."""
    if not folder.is_dir():
        return

    def named(path: Path) -> str | None:
        name = path.name
        if bak:
            plain = name.removesuffix(BAK_SUFFIX)
            return plain if plain != name else None
        return name

    for path in sorted(folder.iterdir()):
        name = named(path)
        if name is not None and BUCKET.match(name):
            yield name.removesuffix(".json"), path.with_name(name)
        elif MONTH.match(path.name) and path.is_dir():
            for inner in sorted(path.iterdir()):
                inner_name = named(inner)
                if inner_name is not None and _GROUP_FILE.match(inner_name):
                    yield f"{path.name}/{inner_name.removesuffix('.json')}", inner.with_name(inner_name)


def bak_only(folder: Path) -> Iterator[tuple[str, Path]]:
    """(part, path) of files that are gone while their `.bak` is still there."""
    return ((part, path) for part, path in part_files(folder, bak=True) if not path.exists())


def merge_records(data: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A records file's TinyDB table (`{"_default": {id: {"key", "value"}}}`) with `values`
    written in by key (None: the key deleted); new keys take the next ids. Changes `data`."""
    table = data.setdefault("_default", {})
    ids = {doc.get("key"): doc_id for doc_id, doc in table.items()}
    top = max((int(i) for i in table), default=0)
    for key, value in values.items():
        doc_id = ids.get(key)
        if value is None:
            if doc_id is not None:
                del table[doc_id]
        elif doc_id is not None:
            table[doc_id] = {"key": key, "value": value}
        else:
            top += 1
            table[str(top)] = {"key": key, "value": value}
    return data


# -- moving a version 1 folder ----------------------------------------------------------------


def upgrade(root: Path, tmp: Path) -> int:
    """Move every coded key of the first layout's hash buckets into its group file (index and
    every records collection); the number moved. Call under the store's fold lock, before the
    marker says version 2 and before anything is folded into the new places.

    Crash-safe by order: the group files are written and made durable first, then the buckets
    are rewritten without the moved keys (their `.bak` removed, so no repair can bring the
    old copies back), and the caller writes the marker last. Until then the store does not
    open, so the buckets stay the truth and a move killed part way is simply done again
    (a key found in both places takes the bucket's value, which nothing changed since).
    Every bucket is read once before anything is written: a damaged one stops the move
    before it starts (StoreDamaged), so `store check` finds the folder whole in layout 1."""
    records = root / "records"
    folders = [(root / "dossiers" / "index", _IndexFiles())]
    folders += [(f, _RecordsFiles()) for f in sorted(p for p in records.iterdir() if p.is_dir())] if records.is_dir() else []
    buckets = [{path: _read(path) for part, path in part_files(folder) if is_bucket(part)} for folder, _ in folders]
    return sum(_move(folder, tmp, files, read) for (folder, files), read in zip(folders, buckets))


def _read(path: Path) -> dict[str, Any]:
    data = read_json(path)
    return data if isinstance(data, dict) else {}


class _IndexFiles:
    """The index's files: {code: "month/chunk"}; no `.bak` (rebuilt from the chunks)."""

    keep_bak = False

    def split(self, data: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
        moving: dict[str, dict[str, Any]] = defaultdict(dict)
        kept = {}
        for code, where in data.items():
            part = part_of(code)
            if is_bucket(part):
                kept[code] = where
            else:
                moving[part][code] = where
        return moving, kept

    def merge(self, data: dict[str, Any], entries: dict[str, Any]) -> dict[str, Any]:
        return {**data, **entries}

    def empty(self, data: dict[str, Any]) -> bool:
        return not data


class _RecordsFiles:
    """A records collection's files: TinyDB's {"_default": {id: {"key", "value"}}}."""

    keep_bak = True

    def split(self, data: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
        moving: dict[str, dict[str, Any]] = defaultdict(dict)
        kept: dict[str, Any] = {}
        for doc_id, doc in data.get("_default", {}).items():
            part = part_of(str(doc.get("key")))
            if is_bucket(part):
                kept[doc_id] = doc
            else:
                moving[part][doc["key"]] = doc["value"]
        return moving, {**data, "_default": kept}

    def merge(self, data: dict[str, Any], entries: dict[str, Any]) -> dict[str, Any]:
        return merge_records(data, entries)

    def empty(self, data: dict[str, Any]) -> bool:
        return not data.get("_default")


def _move(folder: Path, tmp: Path, files: Any, buckets: dict[Path, dict[str, Any]]) -> int:
    """Move the coded keys of `buckets` (each bucket file of `folder`, as read) to their files."""
    targets: dict[str, dict[str, Any]] = defaultdict(dict)
    rest: dict[Path, dict[str, Any]] = {}
    for path, data in buckets.items():
        moving, kept = files.split(data)
        if moving:
            rest[path] = kept
            for part, entries in moving.items():
                targets[part].update(entries)
    if not targets:
        return 0
    dirty: set[Path] = set()
    for part, entries in sorted(targets.items()):
        path = folder / f"{part}.json"
        ensure_dir(path.parent)
        data = files.merge(_read(path), entries)
        atomic_write(path, dump_json(data), tmp, keep_bak=files.keep_bak, dirty=dirty)
    for sub in dirty:
        fsync_dir(sub)
    for path, kept in rest.items():
        bak = path.with_name(path.name + BAK_SUFFIX)
        if files.empty(kept):
            path.unlink()
        else:
            atomic_write(path, dump_json(kept), tmp, keep_bak=False, dirty=set())
        try:
            bak.unlink()  # it holds the moved keys: a repair must not bring them back here
        except FileNotFoundError:
            pass
    fsync_dir(folder)
    return sum(len(e) for e in targets.values())


def upgrade_folder(root: Path, tmp: Path, layout: dict[str, Any]) -> dict[str, Any]:
    """Move a version 1 folder to this layout and write its marker last (see `upgrade`);
    the new marker. Call under the store's fold lock."""
    started = time.perf_counter()
    moved = upgrade(root, tmp)
    layout = {**layout, "version": VERSION}
    atomic_write(root / "store.json", dump_json(layout), tmp, keep_bak=False)
    if moved:
        log.info("data folder %s moved to store layout %d: %d index entries and records moved to their day's "
                 "files in %.1f s", root, VERSION, moved, time.perf_counter() - started)
    return layout


__all__ = ["GROUP", "VERSION", "bak_only", "bucket", "is_bucket", "merge_records", "part_files", "part_of", "upgrade",
           "upgrade_folder"]
