"""One lock per partition, held by one thread of one process at a time.

A thread lock first (threads of this process queue on it without polling), then a file
lock (`flock`) for the other processes. The pair is shared by every store object of the
process that opens the same folder, so two `open_store()` on one folder also exclude
each other. Locks are always taken in the order month -> chunk -> index bucket, and an
index bucket or records bucket is the innermost lock: no cycle, no deadlock.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from filelock import FileLock

_registry: dict[str, tuple[threading.RLock, FileLock]] = {}
_registry_lock = threading.Lock()


def _pair(lock_path: Path) -> tuple[threading.RLock, FileLock]:
    key = str(lock_path)
    with _registry_lock:
        pair = _registry.get(key)
        if pair is None:
            # thread_local=False: the RLock already admits one thread at a time.
            pair = (threading.RLock(), FileLock(key, mode=0o600, thread_local=False, poll_interval=0.002))
            _registry[key] = pair
        return pair


@contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    thread_lock, file_lock = _pair(lock_path)
    with thread_lock, file_lock:
        yield
