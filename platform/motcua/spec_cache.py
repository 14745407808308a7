"""The lint cache's file (`DATA/spec_cache.json`), read without validating every spec.

A start with a province's 2,000 specs spent more than half its CPU parsing this file's
31 MB of JSON and validating every spec through the model (~0.9 s), while the start and
the first catalogue page read a dozen fields of each spec: its code, version, names,
sector, level, who performs it, filers, life events, keywords (the listing, its filters
and the search index) and its steps (`create_app` checks each spec's result and payment
steps). The file therefore keeps those fields apart, in its first line, and each spec's
JSON after it: a start parses and validates the first line only, and a spec is read from
its JSON the first time anything else of it is used (`LazySpec`), e.g. when its page is
drawn. A spec read that way went through the model's validation as before, and must agree
with the fields the start read; an entry that does not is linted again from its file.

Each file's stat (size, modification and change times, inode) is kept beside its content
hash, so an unchanged file is not read and hashed at every start (`FileHashes`). Any write
to a file changes its modification and change times, and the change time cannot be set
back; a stat is only kept once its times are two seconds older than the moment it was
taken, so two writes within one tick of a coarse clock (1–2 s on some file systems) are
never mistaken for none (git's "racy" rule). A file whose stat differs is hashed again.

Layout (2): `{"layout": 2, "fingerprint": ..., "entries": [{"path", "sha256", "stat",
"findings", "summary", "at", "length"}]}` on the first line, then the specs' JSON one
after another (`at` counts bytes from the end of the first line). Reading it runs no code.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, create_model

from motcua.spec.loader import Finding
from motcua.spec.model import ProcedureSpec, Strict

log = logging.getLogger(__name__)

LAYOUT = 2
#: What the start and the catalogue's listing and search read of every spec: validated at
#: start from the file's first line (`SpecSummary`); the other fields are read on first use.
EAGER = ("code", "version", "name", "sector", "performed_by", "agency", "filers", "life_events", "keywords",
         "level", "steps")
_FIELDS = ProcedureSpec.model_fields
#: The eager fields, each with the model's own type and validators.
SpecSummary = create_model(  # type: ignore[call-overload]
    "SpecSummary", __base__=Strict, **{name: (_FIELDS[name].annotation, _FIELDS[name]) for name in EAGER})

#: A file's stat as compared between starts: (size, mtime_ns, ctime_ns, inode).
Stat = tuple[int, int, int, int]
#: A stat is kept only when the file's times are this much older than the moment it was taken.
RACY_NS = 2_000_000_000

Key = tuple[str, str]  # (resolved path, sha256 of the bytes)
Linted = tuple[ProcedureSpec | None, list[Finding]]


def stat_of(path: Path) -> tuple[Stat, bool]:
    """The file's stat, and whether it is old enough to stand for the file's content."""
    info = path.stat()
    newest = max(info.st_mtime_ns, info.st_ctime_ns)
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino), newest < time.time_ns() - RACY_NS


def content_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unchanged_hash(known: Mapping[str, tuple[Stat, str]], path: str, stat: Stat) -> str | None:
    """The hash kept for `path` if its file still has the stat it had when hashed."""
    kept = known.get(path)
    return kept[1] if kept is not None and kept[0] == stat else None


class FileHashes:
    """Content hashes of spec files by path, known from their stat when it is unchanged."""

    def __init__(self) -> None:
        self.known: dict[str, tuple[Stat, str]] = {}

    def lookup(self, path: str, stat: Stat) -> str | None:
        return unchanged_hash(self.known, path, stat)

    def learn(self, path: str, stat: Stat, trusted: bool, sha: str) -> None:
        if trusted:
            self.known[path] = (stat, sha)
        else:
            self.known.pop(path, None)


# --- specs read on first use -------------------------------------------------------------


_LOADING = threading.Lock()


class SpecCacheError(RuntimeError):
    """A cached spec neither read back nor linted again to what the start read of it."""


@dataclass
class _Raw:
    """Where an unread spec's JSON is, and how to lint its file again if it does not read back."""

    data: bytes
    start: int
    stop: int
    summary: dict[str, Any]
    relint: Callable[[], ProcedureSpec | None]

    def json(self) -> bytes:
        return self.data[self.start:self.stop]


class LazySpec(ProcedureSpec):
    """A cached spec whose eager fields are set and whose other fields are read from its
    JSON the first time one of them is asked for: it then becomes a plain `ProcedureSpec`
    (its class is switched), equal to one validated from the same JSON. Whatever reads the
    instance as a whole (dumps, copies, equality, repr) reads the spec first."""

    __slots__ = ()
    model_config = ConfigDict(defer_build=True)  # never validated itself

    def __getattr__(self, name: str) -> Any:
        if name in _FIELDS:
            self._read()
            return getattr(self, name)
        return super().__getattr__(name)  # type: ignore[misc]

    def _read(self) -> None:
        with _LOADING:
            if type(self) is not LazySpec:  # another thread read it
                return
            raw: _Raw | None = self.__dict__.get("_raw")
            full = _read_back(raw, self.__dict__) if raw is not None else None
            if full is not None:
                object.__setattr__(self, "__pydantic_fields_set__", set(full.__pydantic_fields_set__))
                object.__setattr__(self, "__dict__", dict(full.__dict__))
            object.__setattr__(self, "__class__", ProcedureSpec)

    def cached(self) -> tuple[dict[str, Any], bytes] | None:
        """(summary, JSON) as read from the file while the spec is unread: written back as is."""
        raw = self.__dict__.get("_raw")
        return (raw.summary, raw.json()) if raw is not None and type(self) is LazySpec else None

    # what reads the whole instance: the spec first, then the plain model's own method
    def model_dump(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self._read()
        return self.model_dump(*args, **kwargs)

    def model_dump_json(self, *args: Any, **kwargs: Any) -> str:  # type: ignore[override]
        self._read()
        return self.model_dump_json(*args, **kwargs)

    def model_copy(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self._read()
        return self.model_copy(*args, **kwargs)

    @property
    def model_fields_set(self) -> set[str]:  # type: ignore[override]
        self._read()
        return self.model_fields_set

    def __copy__(self) -> Any:
        self._read()
        return self.__copy__()

    def __deepcopy__(self, memo: Any = None) -> Any:
        self._read()
        return self.__deepcopy__(memo)

    def __reduce_ex__(self, protocol: Any) -> Any:
        self._read()
        return self.__reduce_ex__(protocol)

    def __eq__(self, other: Any) -> bool:
        self._read()
        if isinstance(other, LazySpec):
            other._read()
        return self == other

    def __iter__(self) -> Any:
        self._read()
        return iter(self)

    def __repr__(self) -> str:
        self._read()
        return repr(self)

    def __str__(self) -> str:
        self._read()
        return str(self)

    def __setattr__(self, name: str, value: Any) -> None:
        self._read()
        setattr(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._read()
        delattr(self, name)


def _read_back(raw: _Raw, eager: dict[str, Any]) -> ProcedureSpec:
    """The full spec from its JSON, checked against what the start read of it; when it does
    not validate or disagrees, the file linted again (same content hash, or an error)."""
    try:
        full = ProcedureSpec.model_validate_json(raw.json())
        if all(full.__dict__[name] == eager[name] for name in EAGER):
            return full
        problem = "its fields differ from the summary read at start"
    except ValueError as exc:
        problem = str(exc)
    log.warning("cached spec %s@%s does not read back (%s): its file is linted again",
                eager.get("code"), eager.get("version"), problem.splitlines()[0] if problem else "")
    again = raw.relint()
    if again is not None and all(again.__dict__[name] == eager[name] for name in EAGER):
        return again
    raise SpecCacheError(f"spec {eager.get('code')}@{eager.get('version')}: the lint cache does not match its file, "
                         "which changed or no longer lints; restart to read the folder again")


def _lazy(summary: Any, raw: _Raw) -> LazySpec:
    spec = LazySpec.__new__(LazySpec)
    fields = dict(summary.__dict__)
    fields["_raw"] = raw
    object.__setattr__(spec, "__dict__", fields)
    object.__setattr__(spec, "__pydantic_fields_set__", set(summary.__pydantic_fields_set__))
    object.__setattr__(spec, "__pydantic_extra__", None)
    object.__setattr__(spec, "__pydantic_private__", None)
    return spec


# --- the file ----------------------------------------------------------------------------


@dataclass
class CacheFile:
    """What a cache file holds: per (path, hash) what it lints to, and the files' stats."""

    linted: dict[Key, Linted]
    stats: dict[str, tuple[Stat, str]]


def read(path: Path, fingerprint: str, relint: Callable[[Key], Callable[[], ProcedureSpec | None]]) -> CacheFile:
    """The file when it was written by this user for this linter; else an empty one.

    Reading JSON runs no code, but a file another user owns or may write is still not read:
    its specs would be served as linted (the data folder itself is the owner's only, see
    motcua.app). `relint(key)` lints that key's file again, for a spec that does not read back."""
    empty = CacheFile({}, {})
    try:
        info = path.stat()
        if info.st_uid != os.getuid() or info.st_mode & 0o022:
            log.warning("spec cache %s ignored: not owned by this user or writable by others", path)
            return empty
        data = path.read_bytes()
        end = data.index(b"\n") + 1
        header = json.loads(data[:end])
        if not isinstance(header, dict) or header.get("layout") != LAYOUT or header.get("fingerprint") != fingerprint:
            return empty
        out = CacheFile({}, {})
        for entry in header["entries"]:
            key = (str(entry["path"]), str(entry["sha256"]))
            findings = [Finding(**finding) for finding in entry["findings"]]
            spec = None
            if entry["summary"] is not None:
                at = end + int(entry["at"])
                raw = _Raw(data, at, at + int(entry["length"]), entry["summary"], relint(key))
                spec = _lazy(SpecSummary.model_validate(entry["summary"]), raw)
            out.linted[key] = (spec, findings)
            if entry.get("stat") is not None:
                out.stats[key[0]] = (tuple(int(n) for n in entry["stat"]), key[1])  # type: ignore[misc]
        return out
    except FileNotFoundError:
        return empty
    except Exception as exc:  # noqa: BLE001 - a broken cache only costs a full lint
        log.warning("spec cache %s unreadable (%s): specs are linted again", path, exc)
        return empty


def _parts(key: Key, linted: Linted, stat: Stat | None) -> tuple[dict[str, Any], bytes]:
    spec, findings = linted
    summary: dict[str, Any] | None = None
    blob = b""
    if spec is not None:
        kept = spec.cached() if isinstance(spec, LazySpec) else None
        if kept is not None:  # unread since the last start: as it was
            summary, blob = kept
        else:
            dumped = spec.model_dump(mode="json", by_alias=True)
            summary = {(_FIELDS[name].alias or name): dumped[_FIELDS[name].alias or name] for name in EAGER}
            blob = json.dumps(dumped, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    entry = {"path": key[0], "sha256": key[1], "stat": list(stat) if stat else None,
             "findings": [finding.as_dict() for finding in findings], "summary": summary, "length": len(blob)}
    return entry, blob


def write(path: Path, fingerprint: str, entries: dict[Key, Linted], stats: dict[str, Stat]) -> None:
    """Atomically (temp file, then rename): a start never reads half a cache."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        heads, blobs, at = [], [], 0
        for key, linted in entries.items():
            entry, blob = _parts(key, linted, stats.get(key[0]))
            entry["at"] = at
            at += len(blob)
            heads.append(entry)
            blobs.append(blob)
        header = json.dumps({"layout": LAYOUT, "fingerprint": fingerprint, "entries": heads},
                            ensure_ascii=False, separators=(",", ":"))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(header.encode("utf-8") + b"\n")
            fh.writelines(blobs)
        os.chmod(tmp, 0o600)
        tmp.replace(path)
    except OSError as exc:  # a read-only data folder only costs the next start a full lint
        log.warning("spec cache %s not written: %s", path, exc)
        tmp.unlink(missing_ok=True)


def entries(path: Path) -> Iterator[dict[str, Any]]:
    """The entries of a cache file's first line (for tests and `motcua` diagnostics)."""
    with path.open("rb") as fh:
        yield from json.loads(fh.readline())["entries"]
