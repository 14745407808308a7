"""The embedded default store on TinyDB.

FIRST CUT: one TinyDB JSON file per collection, every operation under a process-wide file
lock. Correct across threads and processes, but each write rewrites the whole file; the
store issue replaces the layout (see docs/store.md once written).
"""

from __future__ import annotations

import hashlib
import threading
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from filelock import FileLock
from tinydb import Query, TinyDB

from motcua.dossier import Dossier, Status
from motcua.store.base import StoreError

T = TypeVar("T")


class _Locked:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._thread_lock = threading.RLock()
        self._file_lock = FileLock(str(path) + ".lock")

    @contextmanager
    def db(self) -> Iterator[TinyDB]:
        with self._thread_lock, self._file_lock:
            db = TinyDB(self._path, ensure_ascii=False)
            try:
                yield db
            finally:
                db.close()


class TinyRecords:
    def __init__(self, path: Path) -> None:
        self._locked = _Locked(path)

    def get(self, key: str) -> dict[str, Any] | None:
        with self._locked.db() as db:
            doc = db.get(Query().key == key)
            return dict(doc["value"]) if doc else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        with self._locked.db() as db:
            db.upsert({"key": key, "value": value}, Query().key == key)

    def insert_new(self, key: str, value: dict[str, Any]) -> bool:
        with self._locked.db() as db:
            if db.contains(Query().key == key):
                return False
            db.insert({"key": key, "value": value})
            return True

    def update(self, key: str, change: Callable[[dict[str, Any] | None], dict[str, Any]]) -> dict[str, Any]:
        with self._locked.db() as db:
            doc = db.get(Query().key == key)
            new = change(dict(doc["value"]) if doc else None)
            db.upsert({"key": key, "value": new}, Query().key == key)
            return new

    def delete(self, key: str) -> None:
        with self._locked.db() as db:
            db.remove(Query().key == key)

    def all(self) -> Iterator[tuple[str, dict[str, Any]]]:
        with self._locked.db() as db:
            docs = [(d["key"], d["value"]) for d in db.all()]
        return iter(docs)


class TinyDossiers:
    def __init__(self, path: Path, sequences: TinyRecords) -> None:
        self._locked = _Locked(path)
        self._sequences = sequences

    def next_code(self, agency_code: str, on: date) -> str:
        day = on.strftime("%y%m%d")
        counter = self._sequences.update(
            f"{agency_code}-{day}", lambda cur: {"n": (cur or {"n": 0})["n"] + 1}
        )
        return f"{agency_code}-{day}-{counter['n']:04d}"

    def add(self, dossier: Dossier) -> None:
        with self._locked.db() as db:
            if db.contains(Query().code == dossier.code):
                raise StoreError(f"dossier {dossier.code} already exists")
            db.insert(dossier.model_dump(mode="json"))

    def get(self, code: str) -> Dossier | None:
        with self._locked.db() as db:
            doc = db.get(Query().code == code)
        return Dossier.model_validate(doc) if doc else None

    def update(self, code: str, change: Callable[[Dossier], T]) -> tuple[Dossier, T]:
        with self._locked.db() as db:
            doc = db.get(Query().code == code)
            if doc is None:
                raise KeyError(code)
            dossier = Dossier.model_validate(doc)
            result = change(dossier)
            db.update(dossier.model_dump(mode="json"), Query().code == code)
        return dossier, result

    def all(self) -> Iterator[Dossier]:
        with self._locked.db() as db:
            docs = db.all()
        return (Dossier.model_validate(d) for d in docs)

    def find(
        self,
        *,
        agency_code: str | None = None,
        status: Status | None = None,
        procedure_code: str | None = None,
        filed_from: datetime | None = None,
        filed_to: datetime | None = None,
    ) -> list[Dossier]:
        found = []
        for d in self.all():
            if agency_code and d.agency_code != agency_code:
                continue
            if status is not None and d.status != status:
                continue
            if procedure_code and d.procedure_code != procedure_code:
                continue
            if filed_from and d.filed_at < filed_from:
                continue
            if filed_to and d.filed_at >= filed_to:
                continue
            found.append(d)
        return found

    def count(self) -> int:
        with self._locked.db() as db:
            return len(db)


class TinyFiles:
    def __init__(self, folder: Path) -> None:
        self._folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def _path(self, file_id: str) -> Path:
        if len(file_id) != 64 or any(c not in "0123456789abcdef" for c in file_id):
            raise KeyError(file_id)
        return self._folder / file_id[:2] / file_id

    def put(self, data: bytes) -> str:
        file_id = hashlib.sha256(data).hexdigest()
        path = self._path(file_id)
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        return file_id

    def read(self, file_id: str) -> bytes:
        return self._path(file_id).read_bytes()

    def exists(self, file_id: str) -> bool:
        try:
            return self._path(file_id).exists()
        except KeyError:
            return False


class TinyStore:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._folder = folder
        self._records: dict[str, TinyRecords] = {}
        self._records_lock = threading.Lock()
        self.dossiers = TinyDossiers(folder / "dossiers.json", self.records("sequences"))
        self.files = TinyFiles(folder / "files")

    def records(self, name: str) -> TinyRecords:
        if not name.isidentifier():
            raise ValueError(f"bad collection name {name!r}")
        with self._records_lock:
            if name not in self._records:
                self._records[name] = TinyRecords(self._folder / f"{name}.json")
            return self._records[name]

    def close(self) -> None:
        pass
