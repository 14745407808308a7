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
flocks (the lock would stay held until the child closed them) and thread locks held by
threads that do not exist in it: the child closes those descriptors and starts with fresh
locks (`_forget_after_fork`).

Plain `fcntl.flock` rather than the `filelock` package: a filing takes about ten locks, and
filelock's bookkeeping (fork tracking, path resolution, polling) was ~1 ms of a filing's CPU
(profiled, issue 17); what it adds over these lines is portability this store does not
have anyway (it relies on POSIX renames and fsync of folders).
"""

from __future__ import annotations

import fcntl
import os
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
        self.fd = -1


_registry: dict[str, _PartitionLock] = {}
_registry_lock = threading.Lock()


_held = threading.local()  # how many partition locks this thread holds (`holds_a_lock`)


def holds_a_lock() -> bool:
    """Whether this thread holds a partition lock now (the journal's turn is not taken by one
    that does: journal.synced_at_end)."""
    return getattr(_held, "n", 0) > 0


def _lock_of(lock_path: str | Path) -> _PartitionLock:
    key = str(lock_path)  # a real path (the store resolves its lock folder once)
    lock = _registry.get(key)
    if lock is None:
        with _registry_lock:
            lock = _registry.setdefault(key, _PartitionLock(key))
    return lock


@contextmanager
def locked(lock_path: str | Path) -> Iterator[None]:
    lock = _lock_of(lock_path)
    with lock.thread_lock:
        if lock.depth == 0:
            try:
                fd = os.open(lock.path, os.O_RDWR)
            except FileNotFoundError:
                fd = os.open(lock.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
                os.fchmod(fd, FILE_MODE)  # 0600 whatever the umask
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
            lock.fd = fd
        lock.depth += 1
        _held.n = getattr(_held, "n", 0) + 1
        try:
            yield
        finally:
            _held.n -= 1
            lock.depth -= 1
            if lock.depth == 0:
                fd, lock.fd = lock.fd, -1
                if fd >= 0:  # -1: a forked child's copy, closed at the fork
                    os.close(fd)  # closing the file releases its flock


def _forget_after_fork() -> None:
    """In a forked child: drop the parent's locks (see the module docstring)."""
    global _registry, _registry_lock
    for lock in _registry.values():
        if lock.fd >= 0:
            try:
                os.close(lock.fd)  # the parent keeps its flock through its own descriptor
            except OSError:
                pass
            lock.fd = -1
    _registry = {}
    _registry_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)
