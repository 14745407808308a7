"""The portal's session key, kept in the data folder so sessions survive a restart.

An empty `secret_key` file (a crash or a full disk while it was written by an older
version, an operator's `> secret_key`) is replaced by a new key with a warning: the only
cost is that everyone signed in signs in again and an open form is sent once more, and
nobody gains anything, whereas refusing to start would turn that into an outage. A file
that holds something unusable (fewer than MIN_LENGTH characters, or not text) stops the
start with a message instead: it may be a key shared by several servers of one site, or a
weak one someone chose, and guessing either way could break sessions across servers or
keep a key that lets sessions be forged.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from motcua.store.base import StoreError
from motcua.store.durable import fsync_dir, open_private

log = logging.getLogger(__name__)

MIN_LENGTH = 32
FILE = "secret_key"


def _new_key(path: Path) -> str:
    key = secrets.token_hex(32)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open_private(tmp) as f:  # 0600 from the start, never briefly world-readable
        f.write(key.encode("ascii"))
        f.flush()
        os.fsync(f.fileno())  # never again an empty key after a power loss
    os.replace(tmp, path)
    fsync_dir(path.parent)
    return key


def problem_of(raw: bytes) -> str | None:
    """Why the bytes of a `secret_key` file are not a usable key ("empty" when there are
    none, which the portal mends by itself); None when they are one."""
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return "it is not text"
    if not text:
        return "empty"
    if len(text) < MIN_LENGTH:
        return f"{len(text)} characters, fewer than {MIN_LENGTH}"
    if not text.isprintable():
        return "it holds control characters"
    return None


def secret_key(data_dir: Path) -> str:
    """The session key of this data folder: read, or created when absent or empty."""
    path = data_dir / FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        data_dir.mkdir(parents=True, exist_ok=True)
        return _new_key(path)
    problem = problem_of(raw)
    if problem == "empty":
        log.warning("%s was empty: a new session key was written (everyone signed in has to sign in again)", path)
        return _new_key(path)
    if problem is not None:
        raise StoreError(
            f"{path} does not hold a usable session key ({problem}). Put back the key this site uses (the same "
            "on every server of the site), or delete the file to have a new one written at the next start "
            "(everyone signed in then signs in again)."
        )
    return raw.decode("utf-8").strip()
