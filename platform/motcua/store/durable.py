"""Files that survive a crash: write a new file, fsync it, rename it over the old one.

A reader sees either the previous or the next version of a file, never a half-written one,
and once `atomic_write` returns the new version is on disk (the directory entry too). The
previous version is kept beside it as `<name>.bak`: a hard link, so it costs no copy.

Everything written here is readable by the store's owner only (files 0600, folders 0700,
whatever the process umask): the store holds citizens' personal data. A `.bak` is a hard
link, so it shares its file's mode.

Temporary files live in the store's `tmp/` folder and carry the writer's process id, so a
store opened after a crash can delete those of dead processes without touching a write in
progress elsewhere.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from motcua.store.base import Damage, StoreDamaged, StoreError

FILE_MODE = 0o600
DIR_MODE = 0o700
TMP_SUFFIX = ".tmp"
BAK_SUFFIX = ".bak"


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_dir(folder: Path) -> None:
    """Create `folder` (and parents) so that its entry survives a crash too."""
    if folder.is_dir():
        return
    ensure_dir(folder.parent)
    try:
        folder.mkdir(mode=DIR_MODE)
    except FileExistsError:
        return
    fsync_dir(folder.parent)


def atomic_write(
    path: Path,
    data: bytes,
    tmp_dir: Path,
    *,
    keep_bak: bool = True,
    dirty: set[Path] | None = None,
    sync: bool = True,
) -> None:
    """Replace `path` with `data` durably; the old version becomes `<path>.bak`.

    With `dirty`, the folder is added to it instead of fsynced: a bulk writer fsyncs each
    folder once, before it returns. The file itself is fsynced before the rename, unless
    `sync=False`: only for derived files whose reader detects a torn or empty version by a
    checksum and rebuilds it (the dossier summaries), since after a power loss such a file
    may be renamed into place with its data never written.
    """
    name = f"{path.parent.name}-{path.name}.{os.getpid()}.{threading.get_ident()}{TMP_SUFFIX}"
    tmp = tmp_dir / name
    with open_private(tmp) as f:
        f.write(data)
        if sync:
            f.flush()
            os.fsync(f.fileno())
    if keep_bak:
        bak = path.with_name(path.name + BAK_SUFFIX)
        try:
            bak.unlink()
        except FileNotFoundError:
            pass
        try:
            os.link(path, bak)
        except FileNotFoundError:
            pass
    os.replace(tmp, path)
    if dirty is None:
        fsync_dir(path.parent)
    else:
        dirty.add(path.parent)


def open_private(path: Path) -> Any:
    """`open(path, "wb")` for a new file only its owner may read (0600, not 0666 & ~umask)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # a file left over with a looser mode is tightened too
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise


def clean_tmp(tmp_dir: Path) -> list[Path]:
    """Delete temp files left by processes that are gone (killed mid-write); return them."""
    removed = []
    for tmp in tmp_dir.glob(f"*{TMP_SUFFIX}"):
        parts = tmp.name.rsplit(".", 3)
        try:
            pid = int(parts[-3])
        except (IndexError, ValueError):
            pid = -1
        if pid == os.getpid() or (pid > 0 and _alive(pid)):
            continue
        try:
            tmp.unlink()
            removed.append(tmp)
        except FileNotFoundError:
            pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def damage_code(path: Path) -> str:
    """The `motcua store check` code of damage to the file at `path`, by where it lives."""
    parts = path.parts
    if path.name == "store.json":
        return "store-marker-damaged"
    # an index or records file is in a month's folder (a day's group) or not (a hash bucket)
    if ("index" in parts[-2:-1] and "dossiers" in parts[-3:-2]) or ("index" in parts[-3:-2] and "dossiers" in parts[-4:-3]):
        return "index-damaged"
    if "dossiers" in parts[-3:-2]:
        return "chunk-damaged"
    if "records" in parts[-3:-2] or "records" in parts[-4:-3]:
        return "records-damaged"
    if "files" in parts[-3:-2]:
        return "file-damaged"
    return "file-damaged"


def damaged(path: Path, problem: str, remedy: str = "") -> StoreError:
    """The one message for a file the store cannot read: which file, its damage code, and
    what to do, each remedy a whole clause (`remedy`: one more, e.g. how to rebuild it)."""
    bak = path.with_name(path.name + BAK_SUFFIX)
    remedies = ["run `motcua store check --repair` on the data folder (it restores what the folder's own "
                "copies can restore and says what it cannot)"]
    if remedy:
        remedies.append(remedy)
    if bak.exists():
        remedies.append(f"restore it from {bak} (the version before the last write) if that one reads")
    remedies.append("restore the data folder from the last export (`motcua import --data NEW_DIR "
                    "EXPORT.jsonl` into an empty folder)")
    code = damage_code(path)
    return StoreDamaged(
        Damage(code, str(path), problem),
        f"Store file {path} is damaged ({problem}) [{code}]. Nothing was changed. Stop the portal, then "
        + "; or ".join(remedies) + ".",
    )


def read_json(path: Path) -> Any | None:
    """The JSON in `path`, None when the file does not exist; StoreError when damaged."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise damaged(path, f"not valid JSON: {exc}") from None


def dump_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class AtomicJSONStorage(Storage):
    """TinyDB storage with atomic, fsynced writes that refuses to read a damaged file.

    Stock JSONStorage truncates and rewrites the file in place (a crash leaves it broken)
    and treats an empty file as an empty database; this one never writes in place and
    raises StoreError naming the file rather than guessing. One instance lives for one
    locked operation, so it keeps what it read: TinyDB reads the file again for every call.
    """

    def __init__(self, path: Path, tmp_dir: Path, dirty: set[Path] | None = None) -> None:
        self._path = path
        self._tmp_dir = tmp_dir
        self._dirty = dirty
        self._data: dict[str, Any] | None = None

    def read(self) -> dict[str, Any] | None:
        if self._data is None:
            data = self._decode(read_json(self._path))
            if data is not None and not (
                isinstance(data, dict) and all(isinstance(t, dict) for t in data.values())
            ):
                raise damaged(self._path, "not a TinyDB database")
            self._data = data
        return self._data

    def _decode(self, data: Any) -> Any:
        """Hook for a subclass that keeps something of its own in the file."""
        return data

    def write(self, data: dict[str, Any]) -> None:
        ensure_dir(self._path.parent)
        atomic_write(self._path, dump_json(data), self._tmp_dir, dirty=self._dirty)
        self._data = data

    def close(self) -> None:
        self._data = None
