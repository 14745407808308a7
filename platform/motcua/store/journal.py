"""The embedded store's write-ahead journal: one appended line per change, one fsync shared
by every change waiting at that moment (group commit), folded into the chunk files later.

Why: rewriting a 100-dossier chunk, an index bucket and a records bucket (each fsynced and
renamed, under locks that order every filing of a month) cost ~10 fsyncs and ~15 ms of CPU
per filing. A change is now one line appended to `journal/<generation>.log`; it is
acknowledged once an `fdatasync` covering it has returned. Threads of one process that
append while a sync is running wait for the next one and share it.

A line is `<crc32 of the JSON, 8 hex> <JSON>\n`, the JSON one change:

    {"d": code, "m": month, "v": dossier}       a dossier added or replaced
    {"r": collection, "k": key, "v": value}     a record put (`"v": null`: deleted)

Readers (any process) see the journal as an overlay on the files: `Journal.view()` reads
whatever lines were appended since its last look (the file's size tells), and a change in
the journal is newer than what the files hold. Readers read the journal *before* the
files, so a fold finishing in between cannot hide a change (a generation is deleted only
after its changes are durable in the files).

Folding (`TinyStore.fold`) seals the current generation (fsynced, a new empty one started
under the append lock) and applies the sealed generations to the chunk, index and records
files with the usual atomic, fsynced writes, then deletes them. Applying is idempotent
(a dossier replaces its copy in the chunk its index entry names), so a fold killed part
way is simply done again by the next one.

After a crash the last line may be torn (killed mid-write) or, after a power loss, garbage:
such a line was never acknowledged (its fsync had not returned, and an fsync covers
everything written before it), so readers stop at the first line that does not check, and
the next appender cuts the file back to the last good line before appending.
"""

from __future__ import annotations

import json
import os
import re
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ContextManager

from motcua.store.durable import FILE_MODE, ensure_dir, fsync_dir
from motcua.store.locks import holds_a_lock

SUFFIX = ".log"
_GEN = re.compile(r"^([0-9]{8})\.log$")


def encode(change: dict[str, Any]) -> bytes:
    """One journal line: the change's JSON preceded by its crc32."""
    body = json.dumps(change, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def decode_lines(raw: bytes, bodies: list[bytes] | None = None) -> tuple[list[dict[str, Any]], int]:
    """The changes of the whole, checked lines at the start of `raw`, and the bytes they
    take; stops at the first line that is torn or does not match its crc32. With `bodies`,
    each change's JSON text is appended to it too."""
    changes: list[dict[str, Any]] = []
    good = 0
    while True:
        end = raw.find(b"\n", good)
        if end < 0:
            break
        line = raw[good:end]
        if len(line) < 10 or line[8:9] != b" ":
            break
        body = line[9:]
        try:
            if int(line[:8], 16) != zlib.crc32(body):
                break
            change = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            break
        if not isinstance(change, dict):
            break
        changes.append(change)
        if bodies is not None:
            bodies.append(body)
        good = end + 1
    return changes, good


@dataclass
class View:
    """What the journal holds now, newest change last: the overlay on the store's files.

    It keeps each change's JSON text and parses it for each reader, so every reader gets
    its own copy (the view is shared by the process's threads) for one `json.loads`."""

    dossiers: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # code -> (month, JSON)
    records: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def apply(self, change: dict[str, Any], body: bytes) -> None:
        if "d" in change:
            self.dossiers[change["d"]] = (change["m"], body)
        elif "r" in change:
            self.records[(change["r"], change["k"])] = body

    def dossier(self, code: str) -> tuple[str, dict[str, Any]] | None:
        """(month, stored JSON) of the dossier's last change here, a copy of its own."""
        found = self.dossiers.get(code)
        return None if found is None else (found[0], json.loads(found[1])["v"])

    def record(self, collection: str, key: str) -> tuple[bool, dict[str, Any] | None]:
        """(whether the journal has the record, its value: None when deleted)."""
        body = self.records.get((collection, key))
        return (False, None) if body is None else (True, json.loads(body)["v"])


class Journal:
    """The journal folder of one data folder, shared by every store object of the process
    that opens it (`journal_of`), so they share one group commit and one overlay."""

    def __init__(self, folder: Path, lock: Callable[[str], ContextManager[None]]) -> None:
        self.folder = folder
        self._prefix = f"{folder}{os.sep}"
        self._lock = lock  # the store's partition lock (thread lock + flock), by name
        ensure_dir(folder)
        self._mutex = threading.Lock()  # this object's state below
        self._fds: dict[int, int] = {}  # generation -> fd open for appending
        self._written: dict[int, int] = {}  # generation -> end of what this process appended
        self._synced: dict[int, int] = {}  # generation -> end known durable
        self._syncing = False
        self._sync_done = threading.Condition(self._mutex)
        self._read: dict[int, tuple[int, list[tuple[dict[str, Any], bytes]]]] = {}  # gen -> (offset, (change, JSON))
        self._view = View()
        self._view_gens: tuple[int, ...] = ()
        self._local = threading.local()  # a thread's `synced_at_end` block
        self._turn = threading.Lock()  # one `synced_at_end` block runs at a time (see there)

    # -- generations --------------------------------------------------------------------

    def path(self, gen: int) -> Path:
        return self.folder / f"{gen:08d}{SUFFIX}"

    def _file(self, gen: int) -> str:
        """`path` as a string, for the stats every append and read makes (a Path built and
        turned back into a string for each was ~5% of a filing's CPU)."""
        return f"{self._prefix}{gen:08d}{SUFFIX}"

    def generations(self) -> list[int]:
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return []
        return sorted(int(m.group(1)) for n in names if (m := _GEN.match(n)))

    def _current(self) -> int:
        """The generation appends go to; call under the append lock. The last one this
        process appended to stays current until a seal makes the next (seals hold the append
        lock and number generations in turn) and a fold deletes only sealed ones, so checking
        that its name is still its file and its successor's name is free replaces a read of
        the folder (three per filing, each an open, two reads and a close)."""
        if self._fds:
            gen = max(self._fds)
            # still there (a fold deletes a generation only once sealed; by inode, not link
            # count: NFS keeps a deleted file that is open as .nfsXXXX) and not sealed
            try:
                here = os.stat(self._file(gen)).st_ino == os.fstat(self._fds[gen]).st_ino
            except FileNotFoundError:
                here = False
            if here and not os.path.exists(self._file(gen + 1)):
                return gen
        gens = self.generations()
        if not gens:
            self._create(1)
            return 1
        return gens[-1]

    def _create(self, gen: int) -> None:
        fd = os.open(self.path(gen), os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        os.close(fd)
        fsync_dir(self.folder)

    def _fd(self, gen: int) -> int:
        fd = self._fds.get(gen)
        if fd is None:
            fd = os.open(self._file(gen), os.O_RDWR | os.O_APPEND)
            self._fds[gen] = fd
            # first append of this process to it: check every line once (after a power
            # loss the unsynced tail may be garbage that happens to end in a newline)
            size = os.fstat(fd).st_size
            good = decode_lines(os.pread(fd, size, 0))[1] if size else 0
            if good != size:
                os.ftruncate(fd, good)
                os.fsync(fd)
        return fd

    def _cut_torn_tail(self, gen: int, fd: int) -> int:
        """Cut the file back to its last whole, checked line (a writer killed mid-line or a
        power loss left the rest, never acknowledged) and return its size; call under the
        append lock. A file ending where this process's last line did (nobody appended
        since) needs no read."""
        size = os.fstat(fd).st_size
        if size == 0 or size == self._written.get(gen):
            return size
        if os.pread(fd, 1, size - 1) == b"\n":
            return size
        raw = os.pread(fd, size, 0)
        _, good = decode_lines(raw)
        os.ftruncate(fd, good)
        os.fsync(fd)
        return good

    # -- writing ------------------------------------------------------------------------

    def append(self, changes: list[dict[str, Any]], *, wait: bool = True) -> int:
        """Append the changes (one write); with `wait`, return once they are on disk. Returns
        the size of the generation written to (the store folds a big journal).

        `wait=False` is for a change that only matters with a later one of the same thread
        that waits (its fsync covers everything written before it): a code's sequence."""
        lines = [encode(c) for c in changes]
        data = b"".join(lines)
        with self._lock("journal"):
            with self._mutex:
                gen = self._current()
                for old in [g for g in self._fds if g < gen]:
                    # sealed by a fold (ours or another process's): fsynced before the new
                    # generation was made, so whoever still waits on it is done
                    os.close(self._fds.pop(old))
                    self._synced[old] = 1 << 62
                fd = self._fd(gen)
                start = self._cut_torn_tail(gen, fd)
                written = os.write(fd, data)
                # O_APPEND under the append lock: the lines went at `start` (a short write,
                # disk full, leaves a torn tail the next appender cuts, as a crash would)
                end = start + written
                if written != len(data):
                    raise OSError(f"journal {self.path(gen)}: wrote {written} of {len(data)} bytes")
                self._written[gen] = end  # appends only grow it; a cut never goes below a whole line
                self._seen(gen, end - len(data), end, changes, lines)
        group = getattr(self._local, "group", None)
        if group is not None:  # inside `synced_at_end`: the block's end waits for it
            group[gen] = max(group.get(gen, 0), end)
        elif wait:
            self._sync(gen, end)
        return end

    def _seen(self, gen: int, start: int, end: int, changes: list[dict[str, Any]], lines: list[bytes]) -> None:
        """Our own lines go into this process's overlay as they are written, when the view
        had read that generation right up to them (nobody appended in between): the next
        reader need not read back and parse what this process just wrote. Otherwise the
        next `view` reads them from the file like anyone else's. Call under `_mutex`."""
        if not self._view_gens or self._view_gens[-1] != gen:
            return
        offset, read = self._read.get(gen, (0, []))
        if offset != start:
            return
        for change, line in zip(changes, lines):
            body = line[9:-1]  # without the crc32 and the newline, as decode_lines gives it
            read.append((change, body))
            self._view.apply(change, body)
        self._read[gen] = (end, read)

    @contextmanager
    def synced_at_end(self) -> Iterator[None]:
        """Appends of this thread inside the block return at once; the block's end waits
        for one fsync covering them all (nested blocks join the outer one). Not atomic: a
        crash inside the block keeps the changes already appended, like separate calls.

        The blocks of this process's threads take turns; their fsync waits do not (the end
        waits after the turn is passed on, so the next blocks' appends share the next fsync).
        Eight threads filing at once, each handing the interpreter lock to the others at
        every system call and lock, spent ~10% more CPU a filing than taking turns (issue 17,
        docs/performance.md). A thread already holding a partition lock (a callback of
        `update` filing a dossier) enters without waiting for its turn: waiting there could
        deadlock with the block whose turn it is, waiting for that partition."""
        if getattr(self._local, "group", None) is not None:
            yield
            return
        turn = None if holds_a_lock() else self._turn
        if turn is not None:
            turn.acquire()
        self._local.group = group = {}  # after the wait: an interrupted wait leaves no group
        try:
            yield
        finally:
            self._local.group = None
            if turn is not None:
                turn.release()
            for gen, end in sorted(group.items()):
                self._sync(gen, end)

    def is_empty(self) -> bool:
        """Nothing to fold: no generation, or one empty one (a stat, no lock)."""
        gens = self.generations()
        if not gens:
            return True
        if len(gens) > 1:
            return False
        try:
            return self.path(gens[0]).stat().st_size == 0
        except FileNotFoundError:
            return False

    def _sync(self, gen: int, end: int) -> None:
        """Group commit: one fdatasync covers every append made before it started."""
        with self._mutex:
            while self._synced.get(gen, 0) < end:
                if self._syncing:
                    self._sync_done.wait()
                    continue
                fd = self._fds.get(gen)
                if fd is None:  # sealed and closed: durable already
                    self._synced[gen] = 1 << 62
                    break
                self._syncing = True
                target = self._written.get(gen, end)
                fd = os.dup(fd)  # a fold may close the generation's fd meanwhile
                self._mutex.release()
                done = False
                try:
                    os.fdatasync(fd)
                    done = True  # a failed fsync acknowledges nothing: the writer gets the error
                finally:
                    os.close(fd)
                    self._mutex.acquire()
                    self._syncing = False
                    if done:
                        self._synced[gen] = max(self._synced.get(gen, 0), target)
                    self._sync_done.notify_all()

    def seal(self) -> list[int]:
        """Start a new generation and return the ones before it (to fold), all fsynced;
        [] when the journal holds nothing. Call under the store's fold lock."""
        with self._lock("journal"):
            with self._mutex:
                gens = self.generations()
                if not gens:
                    return []
                last = gens[-1]
                if len(gens) == 1 and self.path(last).stat().st_size == 0:
                    return []
                fd = self._fd(last)
                os.fsync(fd)
                self._synced[last] = 1 << 62  # everything in it is durable now
                self._create(last + 1)
                self._sync_done.notify_all()
                return gens

    def drop(self, gens: list[int]) -> None:
        """Delete folded generations (their changes are durable in the files now)."""
        with self._mutex:
            for gen in gens:
                fd = self._fds.pop(gen, None)
                if fd is not None:
                    os.close(fd)
                self._written.pop(gen, None)
                self._synced.pop(gen, None)
                try:
                    self.path(gen).unlink()
                except FileNotFoundError:
                    pass
        fsync_dir(self.folder)

    # -- reading ------------------------------------------------------------------------

    def latest(self, gens: list[int]) -> list[dict[str, Any]]:
        """What a fold writes from these sealed generations: the last change of each dossier
        and record, in the order each was first changed (as a dict of them, filled in journal
        order, would hold them). Only those are parsed: a filing's dossier is in the journal
        twice (stored, then its workflow's changes), and each line's text is taken from this
        process's overlay when it holds the whole generation (it read or wrote every line:
        checked already), else read and checked from the file."""
        last: dict[tuple[str, ...], bytes] = {}
        for gen in gens:
            pairs = self._whole(gen)
            if pairs is None:
                try:
                    raw = self.path(gen).read_bytes()
                except FileNotFoundError:
                    continue
                bodies: list[bytes] = []
                changes, _ = decode_lines(raw, bodies)
                pairs = list(zip(changes, bodies))
            for change, body in pairs:
                if "d" in change:
                    last[("d", change["d"])] = body
                elif "r" in change:
                    last[("r", change["r"], change["k"])] = body
        return [json.loads(body) for body in last.values()]

    def _whole(self, gen: int) -> list[tuple[dict[str, Any], bytes]] | None:
        """The overlay's (change, JSON) of a sealed generation, if it has read all of it."""
        with self._mutex:
            offset, pairs = self._read.get(gen, (-1, []))
            try:
                whole = offset == os.path.getsize(self._file(gen))
            except FileNotFoundError:
                return None
            return list(pairs) if whole else None

    def view(self) -> View:
        """The overlay as of now: reads only what was appended since the last call. The
        object is this process's own and changes with later calls: look up, don't iterate."""
        if self._unchanged():
            return self._view
        gens = tuple(self.generations())
        with self._mutex:
            for gone in [g for g in self._read if g not in gens]:
                del self._read[gone]
            rebuild = gens[: len(self._view_gens)] != self._view_gens  # a generation was folded
            appended: list[tuple[dict[str, Any], bytes]] = []
            for gen in gens:
                offset, changes = self._read.get(gen, (0, []))
                try:
                    with open(self._file(gen), "rb") as f:
                        f.seek(offset)
                        raw = f.read()
                except FileNotFoundError:
                    continue  # folded meanwhile: the files hold it now
                bodies: list[bytes] = []
                new, used = decode_lines(raw, bodies)
                pairs = list(zip(new, bodies))
                changes.extend(pairs)
                self._read[gen] = (offset + used, changes)
                appended.extend(pairs)
            if rebuild:
                view = View()
                for gen in gens:
                    for change, body in self._read.get(gen, (0, []))[1]:
                        view.apply(change, body)
                self._view = view
            else:
                for change, body in appended:
                    self._view.apply(change, body)
            self._view_gens = gens
            return self._view

    def _unchanged(self) -> bool:
        """Whether nothing was appended, sealed or folded since the last `view` (three stats
        instead of reading the folder and the files: most reads find nothing new)."""
        gens = self._view_gens
        if not gens:
            return False
        try:
            if os.stat(self._file(gens[-1])).st_size != self._read.get(gens[-1], (0, []))[0]:
                return False
            if len(gens) > 1:
                os.stat(self._file(gens[0]))  # the oldest not folded away
        except FileNotFoundError:
            return False
        return not os.path.exists(self._file(gens[-1] + 1))


_registry: dict[str, Journal] = {}
_registry_lock = threading.Lock()


def _reset_after_fork() -> None:
    """In a forked child: fresh thread locks (a thread of the parent may have held one, and
    it does not exist here); the descriptors stay (appends with O_APPEND are atomic)."""
    global _registry_lock
    _registry_lock = threading.Lock()
    for journal in _registry.values():
        journal._mutex = threading.Lock()
        journal._sync_done = threading.Condition(journal._mutex)
        journal._syncing = False
        journal._turn = threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)


def journal_of(folder: Path, lock: Callable[[str], ContextManager[None]]) -> Journal:
    """The process's one Journal of this folder (group commit and overlay are shared)."""
    ensure_dir(folder)
    # by inode too: a folder deleted and made again (tests) is another journal
    key = f"{folder.resolve()}:{folder.stat().st_ino}"
    with _registry_lock:
        journal = _registry.get(key)
        if journal is None:
            journal = Journal(folder, lock)
            _registry[key] = journal
        return journal


__all__ = ["Journal", "View", "decode_lines", "encode", "journal_of"]
