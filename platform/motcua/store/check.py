"""`motcua store check`: find (and with `repair=True` mend) damage in an embedded store's folder.

What it checks, file by file (docs/store.md, "Checking and repairing"):

- `store.json` reads and is a store marker (a folder of layout 1 is moved to layout 2 first,
  as the portal's first open does: store/layout.py);
- every dossier chunk reads, the chunks of a month are numbered without a gap, every
  dossier in them validates, is in its filing month and in one chunk only;
- every dossier in a chunk has an index entry pointing at that chunk, and every index entry
  points at a chunk that holds the dossier;
- each chunk's summary file says what the chunk says;
- the code sequences are ahead of every code handed out;
- every index and records file reads and holds only keys that live in it (layout.py);
  every uploaded file still matches its sha256 and every file a
  dossier names is there; the portal's `secret_key` is usable.

A finding has a code (`chunk-missing` ...), the file, and a plain sentence. `serious` ones
(something cannot be read, found or trusted) make the command exit non-zero; the others are
harmless leftovers (an index entry of a filing that was interrupted, a summary to rebuild).

Repair only uses what the folder itself holds: a chunk or records file comes back from its
`.bak` (the version before its last write: that last write is lost, and the report names
the dossiers the index or the summary file knew that the `.bak` lacks); the index, the
summaries and the sequences are derived from the chunks and are rewritten from them; a
store marker is rewritten with the chunk size the chunks show; an empty secret key is
replaced. What it cannot restore (a chunk without a readable `.bak`, an invalid dossier, a
damaged upload) it says, with what to do: restore from the last export.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from motcua.dossier import Dossier
from motcua.store.base import Damage, StoreError
from motcua.store.durable import BAK_SUFFIX, atomic_write, dump_json, ensure_dir, read_json
from motcua.store.pg_store import MARKER_FORMAT
from motcua.store.secret import problem_of
from motcua.store.layout import VERSION, bak_only, bucket, is_bucket, part_files, part_of
from motcua.store.summary import summary_row
from motcua.store.tinydb_store import (
    _CHUNK,
    _MONTH,
    DEFAULT_CHUNK_SIZE,
    FORMAT,
    TinyStore,
    decode_summary,
    encode_summary,
    filing_month,
    summary_path,
    write_id_of,
)

_CODE = re.compile(r"^(.+-[0-9]{6})-([0-9]{4,})$")
_CHUNK_BAK = re.compile(r"^([0-9]{5})\.json\.bak$")


@dataclass
class Report:
    """What a check found, and what a repair did about it."""

    findings: list[Damage] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    not_repaired: list[str] = field(default_factory=list)

    def add(self, code: str, path: Path | str, message: str, serious: bool = True) -> None:
        self.findings.append(Damage(code, str(path), message, serious))

    @property
    def damaged(self) -> bool:
        return any(f.serious for f in self.findings)

    def lines(self) -> list[str]:
        out = [f"{'DAMAGE' if f.serious else 'note  '} {f.code:<22} {f.path}: {f.message}" for f in self.findings]
        out += [f"repaired {line}" for line in self.repaired]
        out += [f"NOT REPAIRED {line}" for line in self.not_repaired]
        return out


def _rel(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _codes(codes: list[str], limit: int = 10) -> str:
    shown = ", ".join(sorted(codes)[:limit])
    return shown + (f" and {len(codes) - limit} more" if len(codes) > limit else "")


def _read(path: Path) -> tuple[Any, str | None]:
    """(JSON of the file or None when absent, problem or None)."""
    try:
        return read_json(path), None
    except StoreError:
        try:
            raw = path.read_bytes()
            json.loads(raw)
        except (UnicodeDecodeError, ValueError) as exc:
            return None, f"not valid JSON ({exc})"
        return None, "unreadable"
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror})"


def _chunk_docs(data: Any) -> dict[str, Any] | None:
    """The dossiers table of a chunk file's JSON, None when it is not a chunk."""
    if not isinstance(data, dict):
        return None
    table = data.get("_default", {})
    if not isinstance(table, dict) or not all(isinstance(d, dict) for d in table.values()):
        return None
    return table


def _valid_problem(doc: dict[str, Any]) -> str | None:
    try:
        Dossier.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "the dossier"
        return f"{where}: {first.get('msg')} ({exc.error_count()} problem(s))"
    return None


def check_store(root: Path, repair: bool = False, files: bool = True) -> Report:
    """Check the data folder `root` (see the module docstring); with `repair`, mend what the
    folder's own copies can mend. Works on the files directly, so it also runs on a folder
    whose store marker no longer reads."""

    report = Report()
    tmp = root / "tmp"
    if repair:
        ensure_dir(tmp)
    dossiers_dir = root / "dossiers"
    index_dir = dossiers_dir / "index"

    # -- the store marker -------------------------------------------------------------------
    marker = root / "store.json"
    layout, problem = _read(marker)
    chunk_size: int | None = None
    if isinstance(layout, dict) and layout.get("format") == MARKER_FORMAT:
        # a PostgreSQL store's folder: nothing here to check as an embedded store, and a
        # "repaired" embedded marker would let `purge` delete its files as unreferenced
        message = (f"this folder belongs to a PostgreSQL store at {layout.get('url')}; "
                   "it holds its uploaded files only, not an embedded store to check")
        report.add("postgresql-folder", marker, message)
        if repair:
            report.not_repaired.append(f"{marker}: {message}")
        return report
    if problem is None and layout is not None:
        if not isinstance(layout, dict) or layout.get("format") != FORMAT:
            problem = "not a Motcua store marker"
        elif layout.get("version") not in (1, VERSION):
            report.add("store-version", marker, f"store format version {layout.get('version')} is not {VERSION}: "
                       "export it with the Motcua version that wrote it and import it here")
            return report
        elif isinstance(layout.get("chunk_size"), int) and layout["chunk_size"] > 0:
            chunk_size = layout["chunk_size"]
        else:
            problem = f"bad chunk_size {layout.get('chunk_size')!r}"
    if problem is not None:
        report.add("store-marker-damaged", marker, f"{problem}; the portal will not start with it")
    elif chunk_size is not None:
        _open(root, report)
        layout, _ = _read(marker)
    # Where keys belong (layout.py): this layout's day groups, or the first layout's hash
    # buckets in a folder not moved to this one yet (its marker says version 1, or does not
    # read and its index has no month folder).
    if isinstance(layout, dict) and layout.get("format") == FORMAT and layout.get("version") in (1, VERSION):
        first_layout = layout["version"] == 1
    else:
        first_layout = not any(not is_bucket(part) for part, _ in part_files(index_dir))
    place = bucket if first_layout else part_of

    # -- chunks -----------------------------------------------------------------------------
    months = sorted(p.name for p in dossiers_dir.iterdir() if p.is_dir() and _MONTH.match(p.name)) if dossiers_dir.is_dir() else []
    located: dict[str, str] = {}  # code -> "month/nnnnn" of the chunk holding it
    in_chunk: dict[tuple[str, int], list[str]] = {}
    docs_by_code: dict[str, dict[str, Any]] = {}
    missing_chunks: dict[tuple[str, int], Path] = {}
    unreadable: set[tuple[str, int]] = set()
    sizes: list[int] = []
    last_of: dict[str, int] = {}
    for month in months:
        folder = dossiers_dir / month
        numbers = {int(m.group(1)) for p in folder.iterdir() if (m := _CHUNK.match(p.name))}
        baks = {int(m.group(1)) for p in folder.iterdir() if (m := _CHUNK_BAK.match(p.name))}
        top = max(numbers | baks, default=-1)
        last_of[month] = top
        for n in range(top + 1):
            path = folder / f"{n:05d}.json"
            if n not in numbers:
                missing_chunks[(month, n)] = path
                continue
            data, problem = _read(path)
            table = _chunk_docs(data) if problem is None else None
            if table is None:
                unreadable.add((month, n))
                report.add("chunk-damaged", _rel(root, path), f"{problem or 'not a chunk of dossiers'}; "
                           "its dossiers cannot be read")
                continue
            codes = []
            for doc in table.values():
                code = str(doc.get("code"))
                codes.append(code)
                if code in located:
                    report.add("dossier-duplicate", _rel(root, path), f"dossier {code} is also in {located[code]}")
                    continue
                located[code] = f"{month}/{n:05d}"
                docs_by_code[code] = doc
                why = _valid_problem(doc)
                if why is not None:
                    report.add("dossier-invalid", _rel(root, path), f"dossier {code} does not validate: {why}")
                elif filing_month(Dossier.model_validate(doc).filed_at) != month:
                    report.add("dossier-misplaced", _rel(root, path), f"dossier {code} was filed in another month")
            in_chunk[(month, n)] = codes
            sizes.append(len(codes))
    if chunk_size is None:  # what the chunks show: the size of a full one
        full = [len(c) for (m, n), c in in_chunk.items() if n < last_of[m]]
        chunk_size = Counter(full).most_common(1)[0][0] if full else max([DEFAULT_CHUNK_SIZE, *sizes])
    for (month, n), codes in in_chunk.items():
        path = dossiers_dir / month / f"{n:05d}.json"
        if len(codes) > chunk_size:
            report.add("chunk-overfull", _rel(root, path), f"{len(codes)} dossiers, more than the chunk size {chunk_size}")
        elif n < last_of[month] and len(codes) < chunk_size:
            report.add("chunk-short", _rel(root, path), f"{len(codes)} dossiers where {chunk_size} are expected "
                       "(a chunk restored from an older copy?): the dossier count is off by "
                       f"{chunk_size - len(codes)}", serious=False)

    # -- the index --------------------------------------------------------------------------
    index: dict[str, dict[str, str]] = {}  # index file (a part: layout.py) -> its entries
    damaged_buckets: set[str] = set()
    for b, path in part_files(index_dir):
        data, problem = _read(path)
        if problem is None and not (isinstance(data, dict) and all(isinstance(v, str) for v in data.values())):
            problem = "not an index of dossier codes"
        if problem is not None:
            damaged_buckets.add(b)
            report.add("index-damaged", _rel(root, path), f"{problem}; the dossiers listed in it cannot be found")
            continue
        index[b] = data
    indexed: dict[str, str] = {}
    for b, entries in index.items():
        for code, part in entries.items():
            if place(code) != b:
                report.add("index-misplaced", _rel(root, index_dir / f"{b}.json"),
                           f"entry {code} belongs in {place(code)}.json")
                continue
            indexed[code] = part
    # chunks that are gone: what the index and the summary file knew was in them
    lost_in: dict[tuple[str, int], list[str]] = {}
    for (month, n), path in missing_chunks.items():
        known = {c for c, part in indexed.items() if part == f"{month}/{n:05d}"}
        known |= set(_summary_codes(summary_path(path), decode_summary))
        lost_in[(month, n)] = sorted(known)
        report.add("chunk-missing", _rel(root, path), f"the chunk is missing: {len(known)} dossier(s) known to be in it "
                   f"({_codes(sorted(known))}) cannot be read; the count, the statistics and export leave them out")
    by_bucket: dict[str, list[str]] = defaultdict(list)
    for code, part in located.items():
        if indexed.get(code) != part:
            by_bucket[place(code)].append(code)
    for b, codes in sorted(by_bucket.items()):
        path = index_dir / f"{b}.json"
        what = "is missing" if b not in index and b not in damaged_buckets else "lacks them or points elsewhere"
        if b in damaged_buckets:
            continue  # said above
        report.add("index-entry-missing", _rel(root, path), f"{len(codes)} dossier(s) in the chunks "
                   f"({_codes(codes)}) cannot be found by code (404): the index file {what}")
    gone = {f"{m}/{n:05d}" for (m, n) in missing_chunks} | {f"{m}/{n:05d}" for (m, n) in unreadable}
    dangling = [c for c, part in indexed.items() if c not in located and part not in gone]
    if dangling:
        report.add("index-dangling", "dossiers/index", f"{len(dangling)} entr(ies) ({_codes(dangling)}) name a dossier "
                   "no chunk holds: left by a filing interrupted before it was acknowledged (harmless)", serious=False)

    # -- summaries --------------------------------------------------------------------------
    stale: list[tuple[str, int]] = []
    for (month, n), codes in in_chunk.items():
        path = dossiers_dir / month / f"{n:05d}.json"
        side = _summary(summary_path(path), decode_summary)
        write_id = write_id_of(path)
        if side is None or side[0] != write_id:
            stale.append((month, n))
            continue
        table = _chunk_docs(read_json(path)) or {}
        if side[1] != json.loads(dump_json([summary_row(d) for d in table.values()])):
            stale.append((month, n))
            report.add("summary-mismatch", _rel(root, summary_path(path)), "the summary file does not say what the chunk "
                       "says: statistics and the staff queue read it")
    if stale:
        report.add("summary-stale", "dossiers", f"{len(stale)} summary file(s) missing or older than their chunk "
                   "(rebuilt when first read)", serious=False)

    # -- sequences --------------------------------------------------------------------------
    highest: dict[str, int] = {}
    for code in located:
        m = _CODE.match(code)
        if m:
            highest[m.group(1)] = max(highest.get(m.group(1), 0), int(m.group(2)))
    seq_dir = root / "records" / "sequences"
    behind: dict[str, tuple[int, int]] = {}
    for prefix, top in highest.items():
        data, problem = _read(seq_dir / f"{place(prefix)}.json")
        if problem is not None:
            continue  # the records check below reports the bucket
        docs = (data or {}).get("_default", {}) if isinstance(data, dict) else {}
        n = next((d.get("value", {}).get("n", 0) for d in docs.values() if isinstance(d, dict) and d.get("key") == prefix), 0)
        if not isinstance(n, int) or n < top:
            behind[prefix] = (n if isinstance(n, int) else 0, top)
    for prefix, (n, top) in sorted(behind.items()):
        report.add("sequence-behind", _rel(root, seq_dir / f"{place(prefix)}.json"), f"sequence {prefix} is at {n} but "
                   f"code {prefix}-{top:04d} exists: the next filing would get a code already used and fail")

    # -- records ----------------------------------------------------------------------------
    bad_records: list[Path] = []
    records_dir = root / "records"
    for folder in sorted(p for p in records_dir.iterdir() if p.is_dir()) if records_dir.is_dir() else []:
        for part, path in bak_only(folder):
            report.add("records-missing", _rel(root, path), "the file is missing (its .bak is there): its records are lost")
            bad_records.append((part, path))
        for part, path in part_files(folder):
            data, problem = _read(path)
            if problem is None and not _records_ok(data, part, place):
                problem = "not a file of records, or records that belong in another file"
            if problem is not None:
                report.add("records-damaged", _rel(root, path), f"{problem}; its records cannot be read or written")
                bad_records.append((part, path))

    # -- files --------------------------------------------------------------------------------
    files_dir = root / "files"
    if files:
        for sub in sorted(p for p in files_dir.iterdir() if p.is_dir()) if files_dir.is_dir() else []:
            for path in sorted(sub.iterdir()):
                if len(path.name) == 64 and hashlib.sha256(path.read_bytes()).hexdigest() != path.name:
                    report.add("file-damaged", _rel(root, path), "its content no longer matches its sha256")
    for code, doc in docs_by_code.items():
        for att in doc.get("attachments") or ():
            file_id = str(att.get("file_id", "")) if isinstance(att, dict) else ""
            if len(file_id) == 64 and not (files_dir / file_id[:2] / file_id).exists():
                report.add("file-missing", _rel(root, files_dir / file_id[:2] / file_id),
                           f"dossier {code} names this file ({att.get('filename')}), which is not there")

    # -- the portal's secret key ------------------------------------------------------------
    key = root / "secret_key"
    if key.exists():
        problem = problem_of(key.read_bytes())
        if problem == "empty":
            report.add("secret-key-empty", key.name, "the file is empty: the portal generates a new key at start "
                       "(everyone signed in has to sign in again)", serious=False)
        elif problem is not None:
            report.add("secret-key-weak", key.name, f"not a usable session key ({problem}): the portal refuses to "
                       "start with it; put back the site's key or delete the file to have a new one written")

    if repair:
        _repair(report, root, tmp, _Scan(chunk_size, in_chunk, located, missing_chunks, unreadable, lost_in, index,
                                          indexed, damaged_buckets, bad_records, highest, place))
    return report


def _open(root: Path, report: Report) -> None:
    """Open the store as the portal would: a folder of the first layout is moved to this one
    (layout.py), and the journal's changes are written into the files (as every scan of the
    store does), so the files checked say everything. A torn last line is a change that was
    never acknowledged (journal.py) and goes; a journal that cannot be folded (it names a
    damaged chunk or bucket) stays and its changes are still read from it; a move that meets
    a damaged file leaves the folder in the first layout, which the portal will not open
    until it is repaired: the finding says which."""
    try:
        store = TinyStore(root)
    except (StoreError, OSError) as exc:
        report.add("layout-not-upgraded", root / "store.json", f"the folder could not be moved to the current layout "
                   f"({exc}); the portal will not open it: repair the file named, then run the check again")
        return
    try:
        store.fold()
    except (StoreError, OSError) as exc:
        report.add("journal-not-folded", root / "journal", f"its changes could not be written into the files ({exc}); "
                   "they are kept in the journal, which the portal reads: repair the file named, then run the check again")


def _records_ok(data: Any, part: str, place: Any) -> bool:
    if data is None:
        return True
    if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
        return False
    for doc in data.get("_default", {}).values():
        if not (isinstance(doc, dict) and isinstance(doc.get("key"), str) and "value" in doc):
            return False
        if place(doc["key"]) != part:
            return False
    return True


def _summary(path: Path, decode: Any) -> tuple[str, list[Any]] | None:
    try:
        return decode(path.read_bytes())
    except OSError:
        return None


def _summary_codes(path: Path, decode: Any) -> list[str]:
    side = _summary(path, decode)
    if side is None:
        return []
    return [str(row[0]) for row in side[1] if isinstance(row, list) and row]


def _bak_table(path: Path) -> dict[str, Any] | None:
    bak = path.with_name(path.name + BAK_SUFFIX)
    data, problem = _read(bak)
    return _chunk_docs(data) if problem is None and data is not None else None


@dataclass
class _Scan:
    """What the check read, which the repair works from."""

    chunk_size: int
    in_chunk: dict[tuple[str, int], list[str]]  # readable chunk -> the codes in it
    located: dict[str, str]  # code -> "month/nnnnn" of the chunk holding it
    missing_chunks: dict[tuple[str, int], Path]
    unreadable: set[tuple[str, int]]
    lost_in: dict[tuple[str, int], list[str]]  # missing chunk -> the codes known to be in it
    index: dict[str, dict[str, str]]  # readable index buckets
    indexed: dict[str, str]  # code -> partition, from the index
    damaged_buckets: set[str]
    bad_records: list[tuple[str, Path]]  # (part, path) of records files to restore
    highest: dict[str, int]  # code prefix -> highest number in use
    place: Any  # where a key belongs: layout.part_of, or the first layout's bucket


def _repair(report: Report, root: Path, tmp: Path, found: _Scan) -> None:
    """Mend what the folder's own copies can mend (see the module docstring), in an order
    where each step can rely on the ones before: chunks, then index, summaries, sequences."""
    kinds = {f.code for f in report.findings}
    dossiers_dir = root / "dossiers"
    if "store-marker-damaged" in kinds:
        # the layout the files are in: a folder of the first one is moved when next opened
        version = VERSION if found.place is part_of else 1
        atomic_write(root / "store.json", dump_json({"format": FORMAT, "version": version, "chunk_size": found.chunk_size}),
                     tmp, keep_bak=False)
        report.repaired.append(f"store.json: rewritten (chunk size {found.chunk_size}, from the chunks)")

    # chunks from their .bak
    in_chunk: dict[tuple[str, int], list[str]] = found.in_chunk
    located: dict[str, str] = found.located
    targets = [(key, path, found.lost_in[key]) for key, path in found.missing_chunks.items()]
    targets += [(key, dossiers_dir / key[0] / f"{key[1]:05d}.json", sorted(c for c, p in found.indexed.items()
                                                                          if p == f"{key[0]}/{key[1]:05d}"))
                for key in sorted(found.unreadable)]
    for (month, n), path, known in targets:
        rel = _rel(root, path)
        table = _bak_table(path)
        if table is None:
            report.not_repaired.append(f"{rel}: no readable .bak beside it; {len(known)} dossier(s) "
                                       f"({_codes(known)}) can only come back from the last export")
            continue
        atomic_write(path, path.with_name(path.name + BAK_SUFFIX).read_bytes(), tmp, keep_bak=False)
        codes = [str(d.get("code")) for d in table.values()]
        lost = sorted(set(known) - set(codes))
        in_chunk[(month, n)] = codes
        for code, doc in zip(codes, table.values()):
            located.setdefault(code, f"{month}/{n:05d}")
        report.repaired.append(f"{rel}: restored from its .bak ({len(codes)} dossiers; the last change written to "
                               "this chunk is undone)")
        if lost:
            report.not_repaired.append(f"{rel}: {len(lost)} dossier(s) ({_codes(lost)}) were filed in the chunk's "
                                       "last write and are not in its .bak: restore them from the last export")

    # the index, rebuilt from the chunks (entries of chunks still unreadable are kept)
    index_dir = dossiers_dir / "index"
    still_gone = {f"{m}/{n:05d}" for (m, n) in found.missing_chunks} | {f"{m}/{n:05d}" for (m, n) in found.unreadable}
    still_gone -= {f"{m}/{n:05d}" for (m, n) in in_chunk}
    wanted: dict[str, dict[str, str]] = defaultdict(dict)
    for code, part in found.indexed.items():
        if part in still_gone:
            wanted[found.place(code)][code] = part
    for code, part in located.items():
        wanted[found.place(code)][code] = part
    rewritten = 0
    for b in sorted(set(wanted) | set(found.index) | found.damaged_buckets):
        if found.index.get(b) != wanted.get(b, {}) or b in found.damaged_buckets:
            path = index_dir / f"{b}.json"
            ensure_dir(path.parent)
            atomic_write(path, dump_json(wanted.get(b, {})), tmp, keep_bak=False)
            rewritten += 1
    if rewritten:
        report.repaired.append(f"dossiers/index: {rewritten} file(s) rebuilt from the chunks")

    # summaries, from the chunks
    rebuilt = 0
    for (month, n) in in_chunk:
        path = dossiers_dir / month / f"{n:05d}.json"
        write_id = write_id_of(path)
        table = _chunk_docs(read_json(path)) or {}
        if write_id is None:
            continue  # a chunk written before write ids: read from the chunk, as the store does
        side = _summary(summary_path(path), decode_summary)
        rows = [summary_row(d) for d in table.values()]
        if side is None or side[0] != write_id or side[1] != json.loads(dump_json(rows)):
            atomic_write(summary_path(path), encode_summary(write_id, rows), tmp, keep_bak=False)
            rebuilt += 1
    if rebuilt:
        report.repaired.append(f"dossiers: {rebuilt} summary file(s) rebuilt from their chunks")

    # records from their .bak (before sequences: the sequences bucket may be one of them)
    for part, path in found.bad_records:
        rel = _rel(root, path)
        bak = path.with_name(path.name + BAK_SUFFIX)
        data, problem = _read(bak)
        if problem is not None or data is None or not _records_ok(data, part, found.place):
            report.not_repaired.append(f"{rel}: no readable .bak beside it; restore the records from the last export")
            continue
        atomic_write(path, bak.read_bytes(), tmp, keep_bak=False)
        report.repaired.append(f"{rel}: restored from its .bak (the last change written to it is undone)")

    # sequences: ahead of every code in the chunks (read again: a bucket may have come back
    # from its .bak just above)
    moved = []
    try:
        seq = TinyStore(root).records("sequences")
        for prefix, top in sorted(found.highest.items()):
            if int((seq.get(prefix) or {}).get("n", 0) or 0) < top:
                seq.update(prefix, lambda cur, top=top: {**(cur or {}), "n": max(int((cur or {}).get("n", 0) or 0), top)})
                moved.append(prefix)
    except StoreError as exc:
        report.not_repaired.append(f"records/sequences: {exc}")
    if moved:
        report.repaired.append(f"records/sequences: {len(moved)} sequence(s) moved past the highest code in use")

    if "secret-key-empty" in kinds:
        key = root / "secret_key"
        atomic_write(key, secrets.token_hex(32).encode(), tmp, keep_bak=False)
        key.chmod(0o600)
        report.repaired.append("secret_key: a new key written (everyone signed in has to sign in again)")

    for f in report.findings:
        if f.code in ("dossier-invalid", "dossier-duplicate", "file-damaged", "file-missing", "chunk-overfull",
                      "secret-key-weak", "dossier-misplaced"):
            report.not_repaired.append(f"{f.path}: {f.code} is not repaired automatically; fix it by hand or restore "
                                       "the data folder from the last export")
