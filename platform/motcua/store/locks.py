"""One lock per partition, held by one thread of one process at a time.

A thread lock first (threads of this process queue on it without polling), then an `flock`
on the partition's lock file for the other processes (blocking in the kernel, no polling).
The pair is shared by every store object of the process that opens the same folder, so two
`open_store()` on one folder also exclude each other.

Why no deadlock (docs/store.md, "Locks"): a writer holds an index or records bucket lock
(several when an `update` callback writes again, e.g. the portal's draft filing a dossier)
and then the journal's append lock; a fold or bulk import holds the fold lock and then only
the journal's append lock and chunk locks. The append and chunk locks are innermost: their
holders wait for no other lock. So no thread ever waits for the fold lock while the fold
waits for a lock that thread holds, whatever a callback does (scans included).

An `flock` belongs to an open file description, not to a thread or a process: a second
`open()` of the same file in one process would wait for the process's own lock. Hence one
entry per lock file, keyed by its real path (a folder reached by a relative path, an
absolute one or a symlink is one lock), and a thread re-entering a lock it holds only
counts depth. A forked child inherits the parent's descriptors, and with them the parent's
flocks (the lock would stay held until the child closed them), open file descriptions it
would share with the parent (the two would not exclude each other) and thread locks held by
threads that do not exist in it: the child closes every lock descriptor and starts with
fresh locks (`_forget_after_fork`).

Plain `fcntl.flock` rather than the `filelock` package: a filing takes about ten locks, and
filelock's bookkeeping (fork tracking, path resolution, polling) was ~1 ms of a filing's CPU
(profiled, issue 17); what it adds over these lines is portability this store does not
have anyway (it relies on POSIX renames and fsync of folders).
"""

from __future__ import annotations

import fcntl
import os
import resource
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FILE_MODE = 0o600


class _PartitionLock:
    """A thread lock and, while a thread of this process holds it, the file lock."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.thread_lock = threading.RLock()
        self.depth = 0  # how deep the holding thread is (re-entry takes no second flock)
        self.fd = -1  # the lock file, kept open between holds (see `_keep_open`)


_registry: dict[str, _PartitionLock] = {}
_registry_lock = threading.Lock()
#: Lock files open in this process, most recently released last; a file stays open between
#: holds (released with LOCK_UN), up to this many. A filing takes about seven locks, and
#: opening and closing each file was two of its three system calls; with many threads each
#: call is a hand-over of the interpreter lock (issue 17). A filing's locks fall in three
#: hash-bucketed sets of 256 (index, records, files), so the bound keeps them all where the
#: process may open enough files, and stays an eighth of its limit (a store has a lock per
#: day group too, and the process needs descriptors for its sockets).
_FILES = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
KEEP_OPEN = 1024 if _FILES == resource.RLIM_INFINITY else max(64, min(1024, _FILES // 8))
_open_files: dict[str, _PartitionLock] = {}


_held = threading.local()  # how many partition locks this thread holds (`holds_a_lock`)


def holds_a_lock() -> bool:
    """Whether this thread holds a partition lock now."""
    return getattr(_held, "n", 0) > 0


def _lock_of(lock_path: str | Path) -> _PartitionLock:
    key = str(lock_path)  # a real path (the store resolves its lock folder once)
    lock = _registry.get(key)
    if lock is None:
        with _registry_lock:
            lock = _registry.setdefault(key, _PartitionLock(key))
    return lock


def _open(path: str) -> int:
    try:
        return os.open(path, os.O_RDWR)
    except FileNotFoundError:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        os.fchmod(fd, FILE_MODE)  # 0600 whatever the umask
        return fd


def _keep_open(lock: _PartitionLock) -> None:
    """Note a released lock's file as the most recently used open one; close the least
    recently used beyond `KEEP_OPEN` (only one no thread holds or is taking: its thread lock
    is tried, not waited for)."""
    with _registry_lock:
        _open_files.pop(lock.path, None)
        _open_files[lock.path] = lock
        victims = list(_open_files.values())[: max(0, len(_open_files) - KEEP_OPEN)]
    for victim in victims:
        if not victim.thread_lock.acquire(blocking=False):
            continue
        try:
            if victim.depth == 0 and victim.fd >= 0:
                with _registry_lock:
                    _open_files.pop(victim.path, None)
                fd, victim.fd = victim.fd, -1
                os.close(fd)
        finally:
            victim.thread_lock.release()


@contextmanager
def locked(lock_path: str | Path) -> Iterator[None]:
    lock = _lock_of(lock_path)
    with lock.thread_lock:
        if lock.depth == 0:
            if lock.fd < 0:
                lock.fd = _open(lock.path)
            try:
                fcntl.flock(lock.fd, fcntl.LOCK_EX)
            except BaseException:
                fd, lock.fd = lock.fd, -1
                os.close(fd)
                raise
        lock.depth += 1
        _held.n = getattr(_held, "n", 0) + 1
        try:
            yield
        finally:
            _held.n -= 1
            lock.depth -= 1
            if lock.depth == 0 and lock.fd >= 0:  # -1: a forked child's copy, closed at the fork
                fcntl.flock(lock.fd, fcntl.LOCK_UN)
                _keep_open(lock)


def _forget_after_fork() -> None:
    """In a forked child: drop the parent's locks (see the module docstring)."""
    global _registry, _registry_lock, _open_files
    for lock in _registry.values():
        if lock.fd >= 0:
            try:
                os.close(lock.fd)  # the parent keeps its flock through its own descriptor
            except OSError:
                pass
            lock.fd = -1
    _registry = {}
    _registry_lock = threading.Lock()
    _open_files = {}


os.register_at_fork(after_in_child=_forget_after_fork)
