"""One lock per partition, held by one thread of one process at a time.

A thread lock first (threads of this process queue on it without polling), then an `flock`
on the partition's lock file for the other processes (blocking in the kernel, no polling).
The pair is shared by every store object of the process that opens the same folder, so two
`open_store()` on one folder also exclude each other. Locks are always taken in the order
month -> chunk -> index bucket, and an index bucket or records bucket is the innermost lock
(the journal's append lock is inside all of them): no cycle, no deadlock.

Plain `fcntl.flock` rather than the `filelock` package: a filing takes about ten locks, and
filelock's bookkeeping (fork tracking, path resolution, polling) was ~1 ms of a filing's CPU
(profiled, issue 17); what it adds over these lines is portability this store does not
have anyway (it relies on POSIX renames and fsync of folders).
"""

from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

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


def _lock_of(lock_path: Path) -> _PartitionLock:
    key = str(lock_path)
    lock = _registry.get(key)
    if lock is None:
        with _registry_lock:
            lock = _registry.setdefault(key, _PartitionLock(key))
    return lock


@contextmanager
def locked(lock_path: Path) -> Iterator[None]:
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
        try:
            yield
        finally:
            lock.depth -= 1
            if lock.depth == 0:
                fd, lock.fd = lock.fd, -1
                os.close(fd)  # closing the file releases its flock
