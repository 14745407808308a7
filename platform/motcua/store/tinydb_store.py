"""The embedded default store on TinyDB, partitioned so a write costs the same at any size.

Layout of a data folder (docs/store.md explains the choices):

    store.json                     format marker and layout parameters
    dossiers/2025-05/00000.json    TinyDB files of at most `chunk_size` dossiers, by filing
                                   month (Vietnam time) and then in filing order
    dossiers/2025-05/00000.summary one summary row per dossier of that chunk, same write
    dossiers/index/2025-05/000.06.50.H15-250517-00.json
                                   code -> partition, for codes 0000-0099 of that office and
                                   day (layout.py); other codes in dossiers/index/3f.json, one
                                   of 256 buckets by hash of the code
    records/<name>/2025-05/000.06.50.H15-250517-00.json
    records/<name>/3f.json         TinyDB files of {key, value}: a key that is a dossier code
                                   (or a code sequence) in its day's group, others by hash
    files/ab/<sha256>              uploaded files by content id
    tmp/, locks/                   temp files of writes in progress, lock files
    <any file>.bak                 the previous version of that file

Every file is written whole to tmp/, fsynced and renamed into place (durable.py), under a
lock of its own partition (locks.py). Adding a dossier rewrites one index group and one
chunk, both small whatever the number of dossiers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ContextManager, TypeVar

from tinydb import Query, TinyDB

from motcua.dossier import Dossier, Status
from pydantic import ValidationError

from motcua.store.base import Damage, EventsRewritten, OnDamage, Put, StoreDamaged, StoreError, is_file_id
from motcua.store.durable import (
    AtomicJSONStorage,
    atomic_write,
    clean_tmp,
    damaged,
    dump_json,
    ensure_dir,
    fsync_dir,
    read_json,
)
from motcua.store.journal import Journal, journal_of
from motcua.store.layout import VERSION, bucket, merge_records, part_files, part_of, upgrade_folder
from motcua.store.locks import locked
from motcua.store.summary import ROW_FORMAT, DossierSummary, from_row, summary_row

T = TypeVar("T")

FORMAT = "motcua-tinydb"
STORE_CONTENT = ("files", "dossiers", "records")  # what only an existing store's folder holds
DEFAULT_CHUNK_SIZE = 100
#: Fold the journal into the chunk files once it holds this many bytes (~700 filings' changes).
DEFAULT_FOLD_BYTES = 4 * 1024 * 1024
log = logging.getLogger(__name__)
VIETNAM = timezone(timedelta(hours=7))

_MONTH = re.compile(r"^[0-9]{4}-[0-9]{2}$")
_CHUNK = re.compile(r"^([0-9]{5})\.json$")
SUMMARY_SUFFIX = ".summary"
SUMMARY_FORMAT = ROW_FORMAT  # the row layout of motcua.store.summary; another one is rebuilt
WRITE_KEY = "_write"
_WRITE_ID = re.compile(rb'^\{"_write":"([0-9a-f]{16})"')


def filing_month(at: datetime) -> str:
    """The partition month of a dossier: its filing month in Vietnam time."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(VIETNAM).strftime("%Y-%m")


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)


class _Folders:
    """Where a store's files live, and the database object for one of them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        # the real path: locks are shared by lock file path (locks.py)
        self.locks = (root / "locks").resolve()

    def db(self, path: Path, dirty: set[Path] | None = None) -> TinyDB:
        return TinyDB(path, self.tmp, dirty, storage=AtomicJSONStorage)

    def chunk_db(self, path: Path, dirty: set[Path] | None = None) -> TinyDB:
        return TinyDB(path, self.tmp, dirty, storage=ChunkStorage)

    def lock(self, *parts: str):
        return locked(f"{self.locks}{os.sep}{'-'.join(parts)}.lock")  # a string: no Path built per lock


def summary_path(chunk: Path) -> Path:
    return chunk.with_name(chunk.name.removesuffix(".json") + SUMMARY_SUFFIX)


def encode_summary(write_id: str, rows: list[list[Any]]) -> bytes:
    """A header line (the chunk write it belongs to, the body's size and crc32), then the
    rows as one JSON array. The file is written without fsync (it is derived), so the
    reader checks size and crc32 to catch an empty or torn one after a power loss."""
    body = dump_json(rows)
    head = dump_json({"write": write_id, "format": SUMMARY_FORMAT, "size": len(body), "crc32": zlib.crc32(body)})
    return head + b"\n" + body


def decode_summary(raw: bytes) -> tuple[str, list[Any]] | None:
    """(write id, rows) of a summary file, or None when it is not whole."""
    head, sep, body = raw.partition(b"\n")
    try:
        meta = json.loads(head)
        if not (sep and isinstance(meta, dict) and isinstance(meta.get("write"), str)):
            return None
        if meta.get("format") != SUMMARY_FORMAT:
            return None
        if meta.get("size") != len(body) or meta.get("crc32") != zlib.crc32(body):
            return None
        rows = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return None
    return (meta["write"], rows) if isinstance(rows, list) else None


def write_id_of(chunk: Path) -> str | None:
    """The id of the write that produced this chunk file, read from its first bytes only."""
    try:
        with open(chunk, "rb") as f:
            head = f.read(32)
    except FileNotFoundError:
        return None
    m = _WRITE_ID.match(head)
    return m.group(1).decode() if m else None


class ChunkStorage(AtomicJSONStorage):
    """A dossier chunk and its summary file, written together under the chunk's lock.

    Each write gets a random id, stored first in the chunk (`{"_write":"<id>",...}`, so a
    reader finds it in the first bytes) and in the summary file beside it. The summary is
    written after the chunk, without an fsync of its own (see `encode_summary`), and both
    renames are made durable by one fsync of the folder; a crash between them leaves ids
    that differ, and a reader then derives the rows from the chunk (see
    TinyDossiers._summaries_of). A random id, not a counter, so a chunk restored from its
    .bak can never match a summary written after it.
    """

    write_id: str | None = None

    def _decode(self, data: Any) -> Any:
        if isinstance(data, dict):
            write_id = data.pop(WRITE_KEY, None)
            self.write_id = write_id if isinstance(write_id, str) else None
        return data

    def write(self, data: dict[str, Any]) -> None:
        # Rows first: a dossier the summary cannot describe fails before anything is written.
        rows = [summary_row(doc) for doc in data.get("_default", {}).values()]
        write_id = os.urandom(8).hex()
        folder = self._path.parent
        ensure_dir(folder)
        dirty: set[Path] = set()
        atomic_write(self._path, dump_json({WRITE_KEY: write_id, **data}), self._tmp_dir, dirty=dirty)
        atomic_write(
            summary_path(self._path), encode_summary(write_id, rows), self._tmp_dir,
            keep_bak=False, dirty=dirty, sync=False,
        )
        if self._dirty is None:
            fsync_dir(folder)  # one folder fsync makes both renames durable
        else:
            self._dirty.add(folder)
        self._data = data
        self.write_id = write_id


def _doc_where(storage: AtomicJSONStorage, field: str, value: str) -> dict[str, Any] | None:
    """The document of the file's default table whose `field` is `value`, as TinyDB's
    `get(Query().field == value)` finds it (the storage refuses a damaged file alike), without
    building a query and a Document for each document: a write looks one up in a bucket
    under its lock, three times a filing."""
    data = storage.read()
    for doc in ((data or {}).get(TinyDB.default_table_name) or {}).values():
        if isinstance(doc, dict) and doc.get(field) == value:  # TinyDB's query skips the rest
            return doc
    return None


class TinyRecords:
    """A records collection: TinyDB files of {key, value} documents, a key's file given by the
    key (a dossier code's day group, else its hash bucket: layout.py),
    with the journal's newer changes over them (a write is one journal line)."""

    def __init__(self, folders: _Folders, name: str, store: "TinyStore") -> None:
        self._f = folders
        self._name = name
        self._dir = folders.root / "records" / name
        self._store = store

    def _path(self, part: str) -> Path:
        return self._dir / f"{part}.json"

    def _lock(self, b: str):
        return self._f.lock("records", self._name, b)

    def _current(self, key: str) -> dict[str, Any] | None:
        """The value now: the journal's last change of it, else its file's."""
        there, value = self._store.journal.view().record(self._name, key)
        if there:
            return value
        doc = _doc_where(AtomicJSONStorage(self._path(part_of(key)), self._f.tmp), "key", key)
        return doc["value"] if doc else None

    def _write(self, key: str, value: dict[str, Any] | None, wait: bool = True) -> None:
        if value is not None and not isinstance(value, dict):
            raise TypeError(f"record {self._name}/{key}: a value is a dict")
        self._store.write([{"r": self._name, "k": key, "v": value}], wait=wait)

    def get(self, key: str) -> dict[str, Any] | None:
        return self._current(key)

    def put(self, key: str, value: dict[str, Any]) -> None:
        # reads the current value too: a damaged bucket is reported, never written past
        self.update(key, lambda _current: value)

    def insert_new(self, key: str, value: dict[str, Any]) -> bool:
        with self._lock(bucket(key)):
            if self._current(key) is not None:
                return False
            self._write(key, value)
            return True

    def update(self, key: str, change: Callable[[dict[str, Any] | None], dict[str, Any]], *, wait: bool = True) -> dict[str, Any]:
        """`wait=False` (the store's own sequences only): return before the fsync, because
        the change that uses the value waits for one that covers this one too."""
        with self._lock(bucket(key)):
            new = change(self._current(key))
            self._write(key, new, wait)
            return new

    def delete(self, key: str) -> None:
        with self._lock(bucket(key)):
            if self._current(key) is not None:
                self._write(key, None)

    def all(self, on_damage: OnDamage | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every record; a file that does not read raises StoreDamaged, or with `on_damage`
        is reported to it and skipped."""
        self._store.fold()
        for _, path in part_files(self._dir):
            try:
                docs = self._f.db(path).all()
            except StoreDamaged as exc:
                if on_damage is None:
                    raise
                on_damage(exc.damage)
                continue
            for doc in docs:
                yield doc["key"], doc["value"]

    def put_many(self, items: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Bulk path (import): each file written once; keys must be new."""
        by_part: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for key, value in items:
            by_part[part_of(key)].append({"key": key, "value": value})
        dirty: set[Path] = set()
        # Under the fold lock, like every writer of records files (see TinyStore.fold).
        with self._store.fold_lock():
            self._store.fold()
            for part in sorted(by_part):
                db = self._f.db(self._path(part), dirty)
                Q = Query()
                for doc in by_part[part]:
                    if db.contains(Q.key == doc["key"]):
                        raise StoreError(f"record {self._name}/{doc['key']} already exists")
                db.insert_multiple(by_part[part])
            for folder in dirty:
                fsync_dir(folder)

    def fold(self, values: dict[str, dict[str, Any] | None], dirty: set[Path]) -> None:
        """Write the journal's last value of each key into its file (None: delete); each
        file once: the day groups of the codes changed (layout.py), so what a fold writes
        does not grow with the store. Idempotent: a fold done again writes the same files.
        Call under the fold lock, which every writer of records files holds: no bucket lock
        is taken, as a writer holding one may be waiting for this fold (TinyStore.fold)."""
        by_part: dict[str, dict[str, dict[str, Any] | None]] = defaultdict(dict)
        for key, value in values.items():
            by_part[part_of(key)][key] = value
        for part in sorted(by_part):
            storage = AtomicJSONStorage(self._path(part), self._f.tmp, dirty)
            storage.write(merge_records(storage.read() or {}, by_part[part]))


class TinyDossiers:
    """Dossiers in chunks by filing month, found by code through an index (code -> chunk),
    kept by the code's day group (layout.py)."""

    def __init__(self, folders: _Folders, sequences: TinyRecords, chunk_size: int, store: "TinyStore") -> None:
        self._store = store
        self._f = folders
        self._sequences = sequences
        self._chunk_size = chunk_size
        self._dir = folders.root / "dossiers"
        self._index_dir = self._dir / "index"
        self._heads: dict[str, int] = {}
        self._heads_lock = threading.Lock()

    # -- where things are ------------------------------------------------------------

    def _chunk_path(self, month: str, n: int) -> Path:
        return self._dir / month / f"{n:05d}.json"

    def _chunk_lock(self, month: str, n: int):
        return self._f.lock("dossiers", month, f"{n:05d}")

    def _index_path(self, part: str) -> Path:
        return self._index_dir / f"{part}.json"

    def _read_index(self, part: str) -> dict[str, str]:
        path = self._index_path(part)
        try:
            index = read_json(path)
        except StoreError:
            raise self._damaged_index(path, "not valid JSON") from None
        if index is None:
            return {}
        if not isinstance(index, dict):
            raise self._damaged_index(path, "not an index of dossier codes")
        return index

    @staticmethod
    def _damaged_index(path: Path, problem: str) -> StoreError:
        return damaged(
            path,
            problem,
            "rebuild the index by `motcua export` (it reads the dossiers, not the index) and "
            "`motcua import` into a new folder",
        )

    def _write_index(self, part: str, index: dict[str, str], dirty: set[Path] | None = None) -> None:
        path = self._index_path(part)
        ensure_dir(path.parent)
        # No .bak: a damaged index is rebuilt from the chunks (export, then import).
        atomic_write(path, dump_json(index), self._f.tmp, keep_bak=False, dirty=dirty)

    def _where(self, code: str) -> tuple[str, int] | None:
        file = part_of(code)
        part = self._read_index(file).get(code)
        if part is None:
            return None
        month, _, n = str(part).partition("/")
        if not (_MONTH.match(month) and n.isdigit()):
            raise self._damaged_index(self._index_path(file), f"bad partition {part!r} for {code}")
        return month, int(n)

    def _months(self) -> list[str]:
        if not self._dir.is_dir():
            return []
        return sorted(p.name for p in self._dir.iterdir() if _MONTH.match(p.name) and p.is_dir())

    def _chunks(self, month: str) -> list[int]:
        folder = self._dir / month
        return sorted(int(m.group(1)) for p in folder.iterdir() if (m := _CHUNK.match(p.name)))

    def _head(self, month: str) -> int:
        """The chunk new dossiers of `month` go to; call under the fold lock."""
        with self._heads_lock:
            n = self._heads.get(month)
        if n is None:
            chunks = self._chunks(month) if (self._dir / month).is_dir() else []
            n = chunks[-1] if chunks else 0
        while self._chunk_path(month, n + 1).exists():  # another process moved on
            n += 1
        return n

    def _set_head(self, month: str, n: int) -> None:
        with self._heads_lock:
            self._heads[month] = n

    def _doc_in(self, month: str, n: int, code: str) -> dict[str, Any] | None:
        return _doc_where(ChunkStorage(self._chunk_path(month, n), self._f.tmp), "code", code)

    # -- the interface ---------------------------------------------------------------

    def next_code(self, agency_code: str, on: date) -> str:
        day = on.strftime("%y%m%d")
        # No fsync of its own: a code only matters once the dossier that carries it is
        # stored, and that write's fsync covers this earlier line of the journal too.
        counter = self._sequences.update(
            f"{agency_code}-{day}", lambda cur: {"n": (cur or {"n": 0})["n"] + 1}, wait=False
        )
        return f"{agency_code}-{day}-{counter['n']:04d}"

    def _current(self, code: str) -> tuple[str, Path | None, dict[str, Any]] | None:
        """(month, chunk file or None while in the journal, stored JSON) of a dossier: the
        journal's last change of it, else its chunk. The journal is read first: a fold
        between the two reads cannot hide a change (the journal goes only once folded)."""
        journaled = self._store.journal.view().dossier(code)
        if journaled is not None:
            return journaled[0], None, journaled[1]
        where = self._where(code)
        doc = self._doc_in(*where, code) if where else None
        return (where[0], self._chunk_path(*where), doc) if where and doc else None

    def add(self, dossier: Dossier) -> None:
        doc = dossier.model_dump(mode="json")
        code = dossier.code
        month = filing_month(dossier.filed_at)
        with self._f.lock("dossiers", "index", bucket(code)):
            if self._current(code) is not None:
                raise StoreError(f"dossier {code} already exists")
            # What cannot be written (text that is not UTF-8, a row the summary cannot
            # hold) fails here, before anything is written.
            summary_row(doc)
            self._store.write([{"d": code, "m": month, "v": doc}])

    def add_many(self, dossiers: Iterable[Dossier]) -> None:
        by_month: dict[str, list[dict[str, Any]]] = defaultdict(list)
        seen: set[str] = set()
        for dossier in dossiers:
            if dossier.code in seen:
                raise StoreError(f"dossier {dossier.code} given twice")
            seen.add(dossier.code)
            by_month[filing_month(dossier.filed_at)].append(dossier.model_dump(mode="json"))
        dirty: set[Path] = set()
        # Under the fold lock, like every writer of chunk and index files (TinyStore.fold);
        # the caller's iterable is read before it is taken.
        with self._store.fold_lock():
            self._store.fold()
            for month in sorted(by_month):
                self._add_month(month, by_month[month], dirty)
            for folder in dirty:
                fsync_dir(folder)

    def _add_month(self, month: str, docs: list[dict[str, Any]], dirty: set[Path]) -> None:
        """Call under the fold lock (which orders every writer of chunk and index files)."""
        n = self._head(month)
        with self._chunk_lock(month, n):
            room = self._chunk_size - len(self._f.chunk_db(self._chunk_path(month, n)))
        if room <= 0:
            n, room = n + 1, self._chunk_size
        plan: list[tuple[int, list[dict[str, Any]]]] = []
        rest = docs
        while rest:
            plan.append((n, rest[:room]))
            rest = rest[room:]
            n, room = n + 1, self._chunk_size
        entries: dict[str, dict[str, str]] = defaultdict(dict)
        for chunk_n, chunk_docs in plan:
            for doc in chunk_docs:
                entries[part_of(doc["code"])][doc["code"]] = f"{month}/{chunk_n:05d}"
        for b in sorted(entries):
            index = self._read_index(b)
            for code in entries[b]:
                if code in index and (where := self._where(code)) and self._doc_in(*where, code):
                    raise StoreError(f"dossier {code} already exists")
        for b in sorted(entries):
            index = self._read_index(b)
            index.update(entries[b])
            self._write_index(b, index, dirty)
        for chunk_n, chunk_docs in plan:
            with self._chunk_lock(month, chunk_n):
                self._f.chunk_db(self._chunk_path(month, chunk_n), dirty).insert_multiple(chunk_docs)
        self._set_head(month, plan[-1][0])

    def get(self, code: str) -> Dossier | None:
        found = self._current(code)
        if found is None:
            return None
        month, chunk, doc = found
        return self._validate(chunk or self._store.journal.folder, doc)

    def update(self, code: str, change: Callable[[Dossier], T]) -> tuple[Dossier, T]:
        # The index bucket's lock orders every writer of this dossier (add takes it too).
        with self._f.lock("dossiers", "index", bucket(code)):
            found = self._current(code)
            if found is None:
                raise KeyError(code)
            month, chunk, doc = found
            dossier = self._validate(chunk or self._store.journal.folder, doc)
            before = doc.get("events", [])
            result = change(dossier)
            if dossier.code != code or filing_month(dossier.filed_at) != month:
                raise StoreError(f"dossier {code}: its code and filing time never change")
            after = dossier.model_dump(mode="json")
            if after["events"][: len(before)] != before:
                raise EventsRewritten(
                    f"dossier {code}: an update may only append events; the {len(before)} stored "
                    "ones must stay as they are. Nothing was written."
                )
            summary_row(after)
            self._store.write([{"d": code, "m": month, "v": after}])
        return dossier, result

    def fold(self, changes: dict[str, tuple[str, dict[str, Any]]], dirty: set[Path]) -> None:
        """Write the journal's dossiers into their chunks: a dossier the index knows replaces
        its copy in that chunk, a new one goes to its month's last chunk (a new chunk when
        that one is full), in journal (filing) order. Index entries are written and made
        durable first, as `add_many` does, so a fold killed part way and done again finds
        each dossier's chunk and never stores one twice.

        Call under the fold lock, which every writer of chunk and index files holds; only
        chunk locks are taken (against a reader rewriting a summary file), never a month's
        or an index bucket's, which a writer waiting for this fold may hold (TinyStore.fold)."""
        indexes: dict[str, dict[str, str]] = {}

        def index(b: str) -> dict[str, str]:
            if b not in indexes:
                indexes[b] = self._read_index(b)
            return indexes[b]

        by_month: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        for code, (month, doc) in changes.items():
            by_month[month].append((code, doc))
        for month in sorted(by_month):
            plan: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
            fresh: list[tuple[str, dict[str, Any]]] = []
            for code, doc in by_month[month]:
                part = index(part_of(code)).get(code)
                m, _, n = str(part or "").partition("/")
                if part and m == month and n.isdigit():
                    plan[int(n)][code] = doc
                else:
                    fresh.append((code, doc))
            n = self._head(month)
            new_entries: dict[str, dict[str, str]] = defaultdict(dict)
            while fresh:
                storage = ChunkStorage(self._chunk_path(month, n), self._f.tmp)
                held = (storage.read() or {}).get("_default", {})
                there = {d.get("code") for d in held.values()}
                room = self._chunk_size - len(held) - sum(1 for c in plan.get(n, {}) if c not in there)
                while fresh and (room > 0 or fresh[0][0] in there):
                    code, doc = fresh.pop(0)
                    if code not in there:
                        room -= 1
                    plan[n][code] = doc
                    new_entries[part_of(code)][code] = f"{month}/{n:05d}"
                if fresh:
                    n += 1
            index_dirty: set[Path] = set()
            for b in sorted(new_entries):
                current = self._read_index(b)
                current.update(new_entries[b])
                self._write_index(b, current, index_dirty)
            for folder in index_dirty:
                fsync_dir(folder)
            for chunk_n in sorted(plan):
                with self._chunk_lock(month, chunk_n):
                    storage = ChunkStorage(self._chunk_path(month, chunk_n), self._f.tmp, dirty)
                    data = storage.read() or {}
                    table = data.setdefault("_default", {})
                    ids = {d.get("code"): doc_id for doc_id, d in table.items()}
                    top = max((int(i) for i in table), default=0)
                    for code, doc in plan[chunk_n].items():
                        doc_id = ids.get(code)
                        if doc_id is None:
                            top += 1
                            doc_id = str(top)
                        table[doc_id] = doc
                    storage.write(data)
            self._set_head(month, max(n, max(plan, default=n)))

    def _docs_at(self, months: Iterable[str], on_damage: OnDamage | None = None) -> Iterator[tuple[Path, dict[str, Any]]]:
        """(chunk path, stored dossier) in filing order; a chunk that does not read raises
        StoreDamaged, or with `on_damage` is reported to it and skipped."""
        for month in months:
            for n in self._chunks(month):
                path = self._chunk_path(month, n)
                try:
                    docs = self._f.chunk_db(path).all()
                except StoreDamaged as exc:
                    if on_damage is None:
                        raise
                    on_damage(exc.damage)
                    continue
                for doc in docs:
                    yield path, doc

    def _docs(self, months: Iterable[str]) -> Iterator[dict[str, Any]]:
        for _, doc in self._docs_at(months):
            yield doc

    @staticmethod
    def _validate(chunk: Path, doc: dict[str, Any], on_damage: OnDamage | None = None) -> Dossier | None:
        """The dossier of a stored document; one that does not validate is damage named by
        its chunk and code (a StoreDamaged, or reported to `on_damage` and skipped)."""
        try:
            return Dossier.model_validate(doc)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "the dossier"
            damage = Damage("dossier-invalid", str(chunk),
                            f"dossier {doc.get('code', '?')} does not validate ({where}: {first.get('msg')})")
            if on_damage is None:
                raise StoreDamaged(damage) from None
            on_damage(damage)
            return None

    def all(self, on_damage: OnDamage | None = None) -> Iterator[Dossier]:
        """Every dossier in filing order. Damage (a chunk that does not read, a dossier that
        does not validate) raises StoreDamaged naming file and code, or, with `on_damage`,
        is reported to it and skipped (export --skip-damaged)."""
        self._store.fold()
        for chunk, doc in self._docs_at(self._months(), on_damage):
            dossier = self._validate(chunk, doc, on_damage)
            if dossier is not None:
                yield dossier

    def all_raw(self) -> Iterator[dict[str, Any]]:
        """Every dossier as stored (JSON), in filing order: export without re-validating."""
        self._store.fold()
        for doc in self._docs(self._months()):
            yield dict(doc)

    def quick_check(self) -> list[Damage]:
        """What a cheap look at the index finds (at server start; `motcua store check` does the
        whole check): index files that do not read, index entries naming a chunk that is
        gone, a month whose chunks have a gap, fewer index entries than dossiers (a lost
        index file: those dossiers answer 404). Reads the index files, the chunk folders'
        names and each month's last chunk."""
        self._store.fold()
        found: list[Damage] = []
        parts: dict[str, int] = defaultdict(int)
        entries = 0
        for file, _ in part_files(self._index_dir):
            try:
                index = self._read_index(file)
            except StoreDamaged as exc:
                found.append(exc.damage)
                continue
            entries += len(index)
            for part in index.values():
                parts[str(part)] += 1
        months = set(self._months())
        for month in sorted(months):
            numbers = set(self._chunks(month))
            for n in sorted(set(range(max(numbers, default=-1) + 1)) - numbers):
                found.append(Damage("chunk-missing", str(self._chunk_path(month, n)),
                                    "a chunk of dossiers is missing (the ones after it are there)"))
        for part, count in sorted(parts.items()):
            month, _, n = part.partition("/")
            path = self._chunk_path(month, int(n)) if _MONTH.match(month) and n.isdigit() else None
            if path is not None and not path.exists() and not any(d.path == str(path) for d in found):
                found.append(Damage("chunk-missing", str(path), f"the index names {count} dossier(s) in this chunk, "
                                    "which is missing: they answer 404"))
        try:
            stored = self.count()
        except StoreDamaged as exc:
            found.append(exc.damage)
        else:
            if entries < stored:
                found.append(Damage("index-entry-missing", str(self._index_dir), f"{stored - entries} dossier(s) have no "
                                    "index entry (a lost or damaged index file?): they answer 404"))
        return found

    def find(
        self,
        *,
        agency_code: str | None = None,
        status: Status | None = None,
        procedure_code: str | None = None,
        filed_from: datetime | None = None,
        filed_to: datetime | None = None,
    ) -> list[Dossier]:
        self._store.fold()
        months = self._months_of(filed_from, filed_to)
        lo = _aware(filed_from) if filed_from is not None else None
        hi = _aware(filed_to) if filed_to is not None else None
        found = []
        for chunk, doc in self._docs_at(months):
            if agency_code and doc["agency_code"] != agency_code:
                continue
            if status is not None and doc["status"] != int(status):
                continue
            if procedure_code and doc["procedure_code"] != procedure_code:
                continue
            if lo is not None or hi is not None:
                at = _aware(datetime.fromisoformat(doc["filed_at"]))
                if (lo is not None and at < lo) or (hi is not None and at >= hi):
                    continue
            found.append(self._validate(chunk, doc))
        return found

    def _months_of(self, filed_from: datetime | None, filed_to: datetime | None) -> list[str]:
        months = self._months()
        # The month of a time only grows with it, so a period only needs its months.
        if filed_from is not None:
            months = [m for m in months if m >= filing_month(filed_from)]
        if filed_to is not None:
            months = [m for m in months if m <= filing_month(filed_to)]
        return months

    def summaries(
        self,
        filed_from: datetime | None = None,
        filed_to: datetime | None = None,
        *,
        agency_codes: Collection[str] | None = None,
        statuses: Collection[int] | None = None,
        active_since: date | None = None,
        procedure_code: str | None = None,
    ) -> Iterator[DossierSummary]:
        """Every dossier's summary in filing order, read from the summary files.

        `filed_from` is included, `filed_to` excluded, as in `find`. The agency, status,
        procedure and `active_since` filters are applied to the rows read (this layout has
        no index of them: every summary file is still read).
        """
        self._store.fold()
        lo = _aware(filed_from) if filed_from is not None else None
        hi = _aware(filed_to) if filed_to is not None else None
        agencies = set(agency_codes) if agency_codes is not None else None
        wanted = {int(x) for x in statuses} if statuses is not None else None
        for month in self._months_of(filed_from, filed_to):
            for n in self._chunks(month):
                for s in self._summaries_of(month, n):
                    if (lo is not None and s.filed_at < lo) or (hi is not None and s.filed_at >= hi):
                        continue
                    if (agencies is not None and s.agency_code not in agencies
                            and s.liaison_agency not in agencies) or (
                            wanted is not None and int(s.status) not in wanted):
                        continue
                    if procedure_code is not None and s.procedure_code != procedure_code:
                        continue
                    if active_since is not None and s.filed_day < active_since and (
                            s.closed_on is not None and s.closed_on < active_since):
                        continue
                    yield s

    def _summaries_of(self, month: str, n: int) -> list[DossierSummary]:
        chunk = self._chunk_path(month, n)
        try:
            side = decode_summary(summary_path(chunk).read_bytes())
        except FileNotFoundError:
            side = None
        # Derived data: a summary file that is missing, torn or of another write than the
        # chunk's is rebuilt from the chunk, never trusted.
        if side is not None and side[0] == write_id_of(chunk):
            try:
                return [from_row(row) for row in side[1]]
            except (KeyError, TypeError, ValueError):
                pass
        return [from_row(row) for row in self._rebuild_summary(month, n)]

    def _rebuild_summary(self, month: str, n: int) -> list[list[Any]]:
        """The rows of a chunk whose summary file is missing, stale or damaged, derived from
        the chunk itself; written back (under the chunk's lock, so no writer races it) when
        the chunk carries a write id, so the next reader finds them."""
        chunk = self._chunk_path(month, n)
        with self._chunk_lock(month, n):
            storage = ChunkStorage(chunk, self._f.tmp)
            data = storage.read() or {}
            rows = [summary_row(doc) for doc in data.get("_default", {}).values()]
            if storage.write_id is not None:
                try:
                    atomic_write(
                        summary_path(chunk), encode_summary(storage.write_id, rows), self._f.tmp,
                        keep_bak=False, sync=False,
                    )
                except OSError:
                    pass  # e.g. a read-only copy of the folder: the rows are right anyway
        return rows

    def count(self) -> int:
        # Every chunk but a month's last is full: a chunk is only started when the one
        # before it holds `chunk_size` dossiers, and dossiers are never deleted.
        self._store.fold()
        total = 0
        for month in self._months():
            chunks = self._chunks(month)
            if chunks:
                total += (len(chunks) - 1) * self._chunk_size
                total += len(self._f.chunk_db(self._chunk_path(month, chunks[-1])))
        return total


def _touch(path: Path, before: int) -> int:
    """Mark the file stored now, strictly after `before` (its last version); the new version.
    A file system keeping coarser times than nanoseconds gets a step it can hold."""
    stamp = max(time.time_ns(), before + 1)
    os.utime(path, ns=(stamp, stamp))
    after = path.stat().st_mtime_ns
    if after <= before:
        stamp = before + 2_000_000_000
        os.utime(path, ns=(stamp, stamp))
        after = path.stat().st_mtime_ns
    return after


class TinyFiles:
    """Uploaded files by sha256, each written once, durably; checked on every read.

    A file's modification time is when it was last stored: `put` of bytes already there
    touches it, so `delete(older_than=...)` never removes a file just uploaded again. Both
    run under a lock of the file's folder, which orders them. The modification time in
    nanoseconds is also the file's `version` (`add`): each put moves it strictly forward,
    even within one tick of the file system's coarse clock.
    """

    def __init__(self, folder: Path, tmp: Path, folders: _Folders | None = None) -> None:
        self._folder = folder
        self._tmp = tmp
        self._locks = folders or _Folders(folder.parent)
        ensure_dir(folder)

    def _path(self, file_id: str) -> Path:
        if not is_file_id(file_id):
            raise KeyError(file_id)
        return self._folder / file_id[:2] / file_id

    def _lock(self, file_id: str):
        return self._locks.lock("files", file_id[:2])

    def put(self, data: bytes) -> str:
        return self.add(data).file_id

    def add(self, data: bytes) -> Put:
        file_id = hashlib.sha256(data).hexdigest()
        path = self._path(file_id)
        with self._lock(file_id):
            try:
                before = path.stat().st_mtime_ns
            except FileNotFoundError:
                ensure_dir(path.parent)
                atomic_write(path, data, self._tmp, keep_bak=False)
                return Put(file_id, True, path.stat().st_mtime_ns)
            return Put(file_id, False, _touch(path, before))

    def read(self, file_id: str) -> bytes:
        path = self._path(file_id)
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != file_id:
            raise damaged(path, "its content no longer matches its sha256")
        return data

    def exists(self, file_id: str) -> bool:
        try:
            return self._path(file_id).exists()
        except KeyError:
            return False

    def stored_at(self, file_id: str) -> datetime | None:
        """When the file was last stored (put), None when it is not there."""
        try:
            return datetime.fromtimestamp(self._path(file_id).stat().st_mtime, timezone.utc)
        except (KeyError, FileNotFoundError):
            return None

    def delete(self, file_id: str, *, older_than: datetime | None = None, version: int | None = None) -> bool:
        # One unlink is atomic: after a crash the file is whole or gone; the folder fsync
        # makes the removal itself durable before we return.
        try:
            path = self._path(file_id)
        except KeyError:
            return False
        with self._lock(file_id):
            try:
                if older_than is not None and path.stat().st_mtime >= _aware(older_than).timestamp():
                    return False
                if version is not None and path.stat().st_mtime_ns != version:
                    return False
                path.unlink()
            except FileNotFoundError:
                return False
            fsync_dir(path.parent)
        return True

    def ids(self) -> Iterator[str]:
        for sub in sorted(p for p in self._folder.iterdir() if p.is_dir()):
            for path in sorted(sub.iterdir()):
                if self.exists(path.name):
                    yield path.name


class TinyStore:
    """A data folder: dossiers, records collections and files (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._f = _Folders(folder)
        ensure_dir(self._f.tmp)
        ensure_dir(self._f.locks)
        clean_tmp(self._f.tmp)
        layout = self._layout()
        self.journal: Journal = journal_of(folder / "journal", lambda name: self._f.lock(name))
        fold_bytes = layout.get("journal_fold_bytes")
        self._fold_bytes = DEFAULT_FOLD_BYTES if fold_bytes is None else int(fold_bytes)
        self._folding = threading.Lock()  # one background fold at a time in this object
        self._records: dict[str, TinyRecords] = {}
        self._records_lock = threading.Lock()
        self.dossiers = TinyDossiers(self._f, self.records("sequences"), layout["chunk_size"], self)
        self.files = TinyFiles(folder / "files", self._f.tmp, self._f)

    def write(self, changes: list[dict[str, Any]], *, wait: bool = True) -> None:
        """Append changes to the journal (durable on return with `wait`); fold in the
        background once the journal is big, or at once with `journal_fold_bytes: 0` in
        store.json (write-through: every write reaches the chunk files before it returns,
        as before the journal; slower, for a folder other tools read while it is written)."""
        size = self.journal.append(changes, wait=wait)
        if self._fold_bytes == 0:
            if wait:
                self.fold()
        elif size >= self._fold_bytes and self._folding.acquire(blocking=False):
            threading.Thread(target=self._fold_in_background, name="motcua-journal-fold", daemon=True).start()

    def synced_at_end(self):
        """A block whose writes share one fsync at its end (`motcua.store.transaction` on
        this store): durable when the block ends, not atomic (journal.py)."""
        return self.journal.synced_at_end()

    def _fold_in_background(self) -> None:
        try:
            self.fold()
        except Exception:  # the journal stays; the next fold (any scan, the next start) retries
            log.exception("folding the store's journal into its files failed")
        finally:
            self._folding.release()

    def fold_lock(self) -> ContextManager[None]:
        """The lock every writer of chunk, index and records files holds (a fold, add_many,
        put_many): it orders them, so none of them takes a month, index or records bucket
        lock (see `fold`). Re-entrant in a thread, shared by the process's store objects."""
        return self._f.lock("journal-fold")

    def fold(self) -> None:
        """Write what the journal holds into the chunk, index and records files, then drop
        it (journal.py). Every scan (all, find, summaries, count, export) folds first, so
        the files it reads are whole; cheap when the journal is empty (one directory read).

        Never deadlocks, whoever calls it: a scan may run inside an `update` callback or any
        other held partition lock, so the fold waits for no month, index or records bucket
        lock. Under the fold lock it only takes the journal's append lock and chunk locks,
        and their holders (an append, a seal, a reader rewriting a summary file) never wait
        for any lock while holding them. Writers of the files all hold the fold lock, which
        is why the fold needs no other lock to write them (docs/store.md, "Locks")."""
        if self.journal.is_empty():
            return
        with self.fold_lock():
            gens = self.journal.seal()
            if not gens:
                return
            dossiers: dict[str, tuple[str, dict[str, Any]]] = {}
            records: dict[str, dict[str, dict[str, Any] | None]] = defaultdict(dict)
            for change in self.journal.latest(gens):  # the last change of each
                if "d" in change:
                    dossiers[change["d"]] = (change["m"], change["v"])
                elif "r" in change:
                    records[change["r"]][change["k"]] = change["v"]
            dirty: set[Path] = set()
            for name in sorted(records):
                self.records(name).fold(records[name], dirty)
            self.dossiers.fold(dossiers, dirty)
            for folder in dirty:
                fsync_dir(folder)
            self.journal.drop(gens)

    def _layout(self) -> dict[str, Any]:
        from motcua.store.pg_store import MARKER_FORMAT

        path = self._folder / "store.json"
        with self._f.lock("store"):
            layout = read_json(path)
            if layout is None:
                # A folder with store content but no marker is not new: most likely a
                # PostgreSQL deployment's (its files/) from before markers. An empty store
                # made here would share those files, and `purge` would delete them all.
                held = sorted(name for name in STORE_CONTENT if (self._folder / name).exists())
                if held:
                    raise StoreError(
                        f"{self._folder}: holds {', '.join(held)} but no store.json, so it is not a new "
                        "embedded store; if it belongs to a PostgreSQL store, set MOTCUA_STORE or pass --store."
                    )
                layout = {"format": FORMAT, "version": VERSION, "chunk_size": DEFAULT_CHUNK_SIZE}
                atomic_write(path, dump_json(layout), self._f.tmp, keep_bak=False)
        if isinstance(layout, dict) and layout.get("format") == MARKER_FORMAT:
            raise StoreError(
                f"{self._folder}: this folder belongs to a PostgreSQL store at {layout.get('url')}; "
                "set MOTCUA_STORE or pass --store with its URL."
            )
        if not isinstance(layout, dict) or layout.get("format") != FORMAT:
            raise damaged(path, "not a Motcua store marker")
        if layout.get("version") == 1:
            layout = self._upgrade()
        if layout.get("version") != VERSION:
            raise StoreError(
                f"{path}: store format version {layout.get('version')} is not {VERSION}; "
                "export it with the Motcua version that wrote it and import it here."
            )
        return layout

    def _upgrade(self) -> dict[str, Any]:
        """Move a folder of the first layout to this one (layout.py), once, whichever process
        opens it first: under the fold lock, which every writer of the files holds, and with
        the marker read again under it. Nothing is folded before the move is done."""
        with self.fold_lock():
            layout = read_json(self._folder / "store.json")
            if isinstance(layout, dict) and layout.get("version") == 1:
                layout = upgrade_folder(self._folder, self._f.tmp, layout)
            return layout

    def records(self, name: str) -> TinyRecords:
        if not name.isidentifier():
            raise ValueError(f"bad collection name {name!r}")
        with self._records_lock:
            if name not in self._records:
                self._records[name] = TinyRecords(self._f, name, self)
            return self._records[name]

    def collections(self) -> list[str]:
        self.fold()
        folder = self._folder / "records"
        if not folder.is_dir():
            return []
        return sorted(
            p.name
            for p in folder.iterdir()
            if p.is_dir() and p.name.isidentifier() and next(part_files(p), None) is not None
        )

    def quick_check(self) -> list[Damage]:
        """Damage a cheap look finds (`TinyDossiers.quick_check`), for the server's start."""
        return self.dossiers.quick_check()

    def close(self) -> None:
        """Locks and files are per operation; the journal is folded, so the files alone say
        everything (an operator's copy, a tool that reads them)."""
        try:
            self.fold()
        except (OSError, StoreError):
            log.exception("folding the store's journal at close failed; it is kept and folded later")


