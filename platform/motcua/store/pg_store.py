"""The store on PostgreSQL (psycopg 3): the same repository interface, for a server.

Chosen by a URL (`open_store("postgresql://...")`, `motcua serve --store`, MOTCUA_STORE).
Tables (pg_migrations/*.sql, applied in order by `migrate`):

    dossiers    one row per dossier: JSONB, the columns the staff queue and statistics
                filter on (code, agency, procedure, status, filed_at, month, due date,
                name, closing day) and the summary row, all written by the same statement
    records     (collection, key) -> JSONB, every records collection but `sequences`
    sequences   one row per dossier code sequence, bumped under its row lock
    schema_version  the migrations applied

    files       uploaded files: bytea by content id (`PgFiles`, the default here), or,
                with files="folder", the local folder `<data_dir>/files` (`TinyFiles`)

Uploaded files are in the database by default so several machines share them with nothing
else to mount (docs/store.md, "Files on PostgreSQL": why bytea, not large objects).

Every call is one transaction from a connection pool (psycopg_pool), committed before it
returns: acknowledged = committed = durable (synchronous_commit is PostgreSQL's default).
The connections are in autocommit, so a call of one statement is one round trip; a call of
several is wrapped in BEGIN/COMMIT (`_Db`). Inside `PgStore.transaction()` the calls of that
thread are one transaction instead.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timezone
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from motcua.dossier import Dossier, Status
from motcua.store.base import Damage, EventsRewritten, Put, StoreDamaged, StoreError, is_file_id
from motcua.store.summary import ROW_FORMAT, VIETNAM, DossierSummary, from_row, row_closed_on, summary_row

T = TypeVar("T")

URL_SCHEMES = ("postgresql", "postgres")
SEQUENCES = "sequences"
_MIGRATION_LOCK = 0x6D6F7463  # pg_advisory_xact_lock key: "motc"
_BATCH = 1000
_CURSORS = itertools.count()  # server-side cursor names, unique in a shared connection


def is_url(target: object) -> bool:
    return isinstance(target, str) and urlsplit(target).scheme in URL_SCHEMES


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)


def migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every migration shipped, in order."""
    found = []
    for entry in resources.files("motcua.store").joinpath("pg_migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def migrate(conn: Any) -> list[int]:
    """Bring the schema up to date; the versions applied now. One transaction under an
    advisory lock, so two processes starting at once apply each migration once."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        current = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]
        shipped = migrations()
        if shipped and current > shipped[-1][0]:
            raise StoreError(
                f"the database's schema is version {current}, newer than this Motcua knows "
                f"({shipped[-1][0]}): upgrade Motcua, or export with the newer one."
            )
        applied = []
        for version, name, text in shipped:
            if version > current:
                conn.execute(text)
                conn.execute("INSERT INTO schema_version (version, name) VALUES (%s, %s)", (version, name))
                applied.append(version)
        return applied


_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def _storable(value: Any, what: str) -> Any:
    """`value` itself; StoreError when a string in it (a key too) holds NUL or a lone
    surrogate, which PostgreSQL's text and JSONB refuse (a psycopg error, a 500, otherwise)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
        elif isinstance(node, str) and _BAD_TEXT.search(node):
            raise StoreError(f"{what}: a text holds a NUL character or a lone surrogate; nothing was written")
    return value


def _columns(doc: dict[str, Any]) -> dict[str, Any]:
    """The row of a dossier as stored (its JSON form), summary included."""
    from psycopg.types.json import Jsonb

    _storable(doc, f"dossier {doc.get('code')}")

    from motcua.store.tinydb_store import filing_month

    filed_at = _aware(datetime.fromisoformat(doc["filed_at"]))
    summary = summary_row(doc)
    return {
        "code": doc["code"],
        "month": filing_month(filed_at),
        "agency_code": doc["agency_code"],
        "procedure_code": doc["procedure_code"],
        "status": int(doc.get("status", Status.NEW)),
        "filed_at": filed_at,
        "due_date": doc.get("due_date"),
        "name": (doc.get("contact") or {}).get("name", "") or "",
        "doc": Jsonb(doc),
        "summary": Jsonb(summary),
        "summary_format": ROW_FORMAT,
        "closed_on": row_closed_on(summary),
    }


#: The agency of a liên thông stage the dossier is at (engine state), as indexed by dossiers_liaison.
_LIAISON = "(doc->'steps'->'_engine'->>'liaison_agency')"

_COLUMNS = ("code", "month", "agency_code", "procedure_code", "status", "filed_at", "due_date", "name", "doc",
            "summary", "summary_format", "closed_on")
_INSERT_MANY = f"INSERT INTO dossiers ({', '.join(_COLUMNS)}) VALUES ({', '.join('%(' + c + ')s' for c in _COLUMNS)})"
_INSERT = _INSERT_MANY + " ON CONFLICT (code) DO NOTHING RETURNING code"
_UPDATE = (
    "UPDATE dossiers SET "
    + ", ".join(f"{c} = %({c})s" for c in _COLUMNS if c not in ("code", "month"))
    + " WHERE code = %(code)s"
)


def summaries_query(
    filed_from: datetime | None = None,
    filed_to: datetime | None = None,
    *,
    agency_codes: Collection[str] | None = None,
    statuses: Collection[int] | None = None,
    active_since: date | None = None,
    procedure_code: str | None = None,
) -> tuple[str, list[Any]]:
    """The SQL of `PgDossiers.summaries` and its parameters; each filter is written so an
    index of migrations 0001/0003 can answer it (tests/test_store_postgresql.py EXPLAINs them)."""
    where, params = PgDossiers._period(filed_from, filed_to)
    if agency_codes is not None:  # with statuses: the dossiers_queue and dossiers_liaison indexes
        # a dossier at another agency's processing stage ("liên thông") is in that agency's
        # queue too (motcua.processing.liaison_agency); the IS NOT NULL lets the planner use
        # the partial index dossiers_liaison for that side of the OR
        where.append(f"(agency_code = ANY(%s) OR ({_LIAISON} IS NOT NULL AND {_LIAISON} = ANY(%s)))")
        params += [list(agency_codes), list(agency_codes)]
    if statuses is not None:
        where.append("status = ANY(%s)")
        params.append([int(x) for x in statuses])
    if active_since is not None:  # the dossiers_closed_on and dossiers_filed_at indexes
        where.append("(closed_on IS NULL OR closed_on >= %s OR filed_at >= %s)")
        params += [active_since, datetime.combine(active_since, time(0), VIETNAM)]
    if procedure_code is not None:  # the dossiers_procedure index, in filing order
        where.append("procedure_code = %s")
        params.append(procedure_code)
    return "SELECT summary FROM dossiers" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY month, seq", params


class _Db:
    """The pool, and the connection of this thread's open `PgStore.transaction()`, if any.

    The pool's connections are in autocommit, so a call of one statement outside
    `transaction()` costs one round trip (no BEGIN/COMMIT around it). A call of several
    statements asks for `atomic`: outside a transaction they are wrapped in BEGIN/COMMIT;
    inside one they simply join it. A savepoint is taken only for a call that asks for one
    (`savepoint`): one whose statement may fail in a way the caller recovers from (a unique
    violation turned into a StoreError, a job already enqueued), which would otherwise abort
    the whole transaction. Every other call inside `transaction()` runs in it directly: a
    call raising before it wrote leaves nothing behind (the ones that claim a row first undo
    it themselves), and a failed statement aborts the block, as it should.
    """

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.local = threading.local()

    def bound(self) -> Any:
        """The connection of this thread's open transaction, or None."""
        return getattr(self.local, "conn", None)

    @contextmanager
    def connection(self, *, atomic: bool = False, savepoint: bool = False) -> Iterator[Any]:
        bound = self.bound()
        if bound is None:
            with self.pool.connection() as conn:
                if atomic or savepoint:
                    with conn.transaction():
                        yield conn
                else:
                    yield conn
        elif savepoint:
            with bound.transaction():
                yield bound
        else:
            yield bound


class PgDossiers:
    def __init__(self, db: _Db) -> None:
        self._db = db

    def next_code(self, agency_code: str, on: date) -> str:
        day = on.strftime("%y%m%d")
        with self._db.connection() as conn:
            (n,) = conn.execute(
                "INSERT INTO sequences (key, n) VALUES (%s, 1) "
                "ON CONFLICT (key) DO UPDATE SET n = sequences.n + 1 RETURNING n",
                (f"{agency_code}-{day}",),
            ).fetchone()
        return f"{agency_code}-{day}-{n:04d}"

    def add(self, dossier: Dossier) -> None:
        row = _columns(dossier.model_dump(mode="json"))
        with self._db.connection() as conn:
            if conn.execute(_INSERT, row).fetchone() is None:
                raise StoreError(f"dossier {dossier.code} already exists")

    def add_many(self, dossiers: Iterable[Dossier]) -> None:
        rows, seen = [], set()
        for dossier in dossiers:
            if dossier.code in seen:
                raise StoreError(f"dossier {dossier.code} given twice")
            seen.add(dossier.code)
            rows.append(_columns(dossier.model_dump(mode="json")))
        if not rows:
            return
        import psycopg

        with self._db.connection(savepoint=True) as conn:
            taken = conn.execute("SELECT code FROM dossiers WHERE code = ANY(%s) LIMIT 1", (list(seen),)).fetchone()
            if taken:
                raise StoreError(f"dossier {taken[0]} already exists")
            try:
                with conn.cursor() as cur:  # all or none: a code added meanwhile fails the batch
                    cur.executemany(_INSERT_MANY, rows)
            except psycopg.errors.UniqueViolation:
                raise StoreError("a dossier of the batch was added meanwhile; nothing of it was stored") from None

    def get(self, code: str) -> Dossier | None:
        if _BAD_TEXT.search(code):  # no such code can be stored
            return None
        with self._db.connection() as conn:
            row = conn.execute("SELECT doc FROM dossiers WHERE code = %s", (code,)).fetchone()
        return Dossier.model_validate(row[0]) if row else None

    def update(self, code: str, change: Callable[[Dossier], T]) -> tuple[Dossier, T]:
        if _BAD_TEXT.search(code):
            raise KeyError(code)
        with self._db.connection(atomic=True) as conn:
            row = conn.execute("SELECT doc, month FROM dossiers WHERE code = %s FOR UPDATE", (code,)).fetchone()
            if row is None:
                raise KeyError(code)
            stored, month = row
            dossier = Dossier.model_validate(stored)
            before = [e.model_dump(mode="json") for e in dossier.events]
            result = change(dossier)  # raising here rolls the transaction back: nothing written
            after = dossier.model_dump(mode="json")
            new = _columns(after)
            if dossier.code != code or new["month"] != month:
                raise StoreError(f"dossier {code}: its code and filing time never change")
            if after["events"][: len(before)] != before:
                raise EventsRewritten(
                    f"dossier {code}: an update may only append events; the {len(before)} stored "
                    "ones must stay as they are. Nothing was written."
                )
            conn.execute(_UPDATE, new)
        return dossier, result

    def _stream(self, sql: str, params: tuple[Any, ...] | list[Any] = (), *, whole: bool = False) -> Iterator[Any]:
        """Rows of a query read with a server-side cursor: one batch in memory at a time.

        `whole`: the caller reads every row. PostgreSQL plans a cursor for its first tenth
        (cursor_tuple_fraction), which for a filtered read in filing order means walking
        the whole table along dossiers_order and dropping most rows (2.5 s for 52,000 of
        1,000,000 rows, against 0.3 s through the filters' indexes and a sort)."""
        with self._db.connection(atomic=True) as conn:
            if whole:  # LOCAL: until the end of this transaction (of the caller's, when inside one)
                conn.execute("SET LOCAL cursor_tuple_fraction = 1")
            with conn.cursor(name=f"motcua_stream_{next(_CURSORS)}") as cur:
                cur.itersize = _BATCH
                cur.execute(sql, params)
                yield from cur

    def all(self) -> Iterator[Dossier]:
        for (doc,) in self._stream("SELECT doc FROM dossiers ORDER BY month, seq"):
            yield Dossier.model_validate(doc)

    def all_raw(self) -> Iterator[dict[str, Any]]:
        for (doc,) in self._stream("SELECT doc FROM dossiers ORDER BY month, seq"):
            yield doc

    @staticmethod
    def _period(filed_from: datetime | None, filed_to: datetime | None) -> tuple[list[str], list[Any]]:
        where, params = [], []
        if filed_from is not None:
            where.append("filed_at >= %s")
            params.append(_aware(filed_from))
        if filed_to is not None:
            where.append("filed_at < %s")
            params.append(_aware(filed_to))
        return where, params

    def find(
        self,
        *,
        agency_code: str | None = None,
        status: Status | None = None,
        procedure_code: str | None = None,
        filed_from: datetime | None = None,
        filed_to: datetime | None = None,
    ) -> list[Dossier]:
        where, params = self._period(filed_from, filed_to)
        if agency_code:
            where.append("agency_code = %s")
            params.append(agency_code)
        if status is not None:
            where.append("status = %s")
            params.append(int(status))
        if procedure_code:
            where.append("procedure_code = %s")
            params.append(procedure_code)
        sql = "SELECT doc FROM dossiers" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY month, seq"
        return [Dossier.model_validate(doc) for (doc,) in self._stream(sql, params)]

    def summaries(
        self,
        filed_from: datetime | None = None,
        filed_to: datetime | None = None,
        *,
        agency_codes: Collection[str] | None = None,
        statuses: Collection[int] | None = None,
        active_since: date | None = None,
        procedure_code: str | None = None,
    ) -> Iterator[DossierSummary]:
        sql, params = summaries_query(filed_from, filed_to, agency_codes=agency_codes, statuses=statuses,
                                      active_since=active_since, procedure_code=procedure_code)
        # read to the end through the filters' indexes; but every row, or one procedure's
        # (whose first rows may be all that is read), is best read in order
        whole = agency_codes is not None or statuses is not None or active_since is not None
        for (row,) in self._stream(sql, params, whole=whole):
            yield from_row(row)

    def count(self) -> int:
        with self._db.connection() as conn:
            return conn.execute("SELECT count(*) FROM dossiers").fetchone()[0]

    def refresh_summaries(self) -> int:
        """Rewrite the summary rows of another layout than this Motcua's `ROW_FORMAT`
        (derived data, like the embedded store's summary files); how many were rewritten."""
        done = 0
        while True:
            with self._db.connection(atomic=True) as conn:
                rows = conn.execute(
                    "SELECT code, doc FROM dossiers WHERE summary_format <> %s LIMIT %s FOR UPDATE SKIP LOCKED",
                    (ROW_FORMAT, _BATCH),
                ).fetchall()
                if not rows:
                    return done
                from psycopg.types.json import Jsonb

                with conn.cursor() as cur:
                    summaries = [(code, summary_row(doc)) for code, doc in rows]
                    cur.executemany(
                        "UPDATE dossiers SET summary = %s, summary_format = %s, closed_on = %s WHERE code = %s",
                        [(Jsonb(row), ROW_FORMAT, row_closed_on(row), code) for code, row in summaries],
                    )
            done += len(rows)


class PgRecords:
    """A records collection: rows (collection, key, value JSONB) of the `records` table."""

    _table = "records"
    _scope = ("collection",)
    _value = "value"

    def __init__(self, db: _Db, name: str) -> None:
        self._db = db
        self._name = name
        self._params: tuple[Any, ...] = (name,)
        self._where = " AND ".join(f"{c} = %s" for c in (*self._scope, "key"))
        cols = (*self._scope, "key", self._value)
        self._insert = f"INSERT INTO {self._table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"

    def _encode(self, value: dict[str, Any]) -> Any:
        from psycopg.types.json import Jsonb

        if not isinstance(value, dict):
            raise TypeError(f"record {self._name}: a value is a JSON object, not {type(value).__name__}")
        return Jsonb(_storable(value, f"records {self._name}"))

    def _decode(self, stored: Any) -> dict[str, Any]:
        return stored

    def get(self, key: str) -> dict[str, Any] | None:
        if _BAD_TEXT.search(key):  # no such key can be stored
            return None
        with self._db.connection() as conn:
            row = conn.execute(
                f"SELECT {self._value} FROM {self._table} WHERE {self._where}", (*self._params, key)
            ).fetchone()
        return self._decode(row[0]) if row else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        _storable(key, f"records {self._name}")
        encoded = self._encode(value)
        with self._db.connection() as conn:
            conn.execute(
                f"{self._insert} ON CONFLICT ({', '.join((*self._scope, 'key'))}) "
                f"DO UPDATE SET {self._value} = EXCLUDED.{self._value}",
                (*self._params, key, encoded),
            )

    def insert_new(self, key: str, value: dict[str, Any]) -> bool:
        _storable(key, f"records {self._name}")
        encoded = self._encode(value)
        with self._db.connection() as conn:
            row = conn.execute(f"{self._insert} ON CONFLICT DO NOTHING RETURNING key", (*self._params, key, encoded))
            return row.fetchone() is not None

    def update(self, key: str, change: Callable[[dict[str, Any] | None], dict[str, Any]]) -> dict[str, Any]:
        _storable(key, f"records {self._name}")
        # One statement claims the key or locks its row: absent, a placeholder row only this
        # transaction sees is inserted (it holds the key's lock until commit, when the real
        # value has replaced it); present, the row is locked FOR UPDATE and read. A row
        # another writer committed meanwhile is in neither (the statement's snapshot is
        # older than it, its insert conflicts): ask again, it is then locked and read.
        claim_or_lock = (
            f"WITH claimed AS ({self._insert} ON CONFLICT DO NOTHING RETURNING key),"
            f" locked AS (SELECT {self._value} FROM {self._table} WHERE {self._where} FOR UPDATE)"
            f" SELECT (SELECT count(*) FROM claimed), (SELECT {self._value} FROM locked)"
        )
        with self._db.connection(atomic=True) as conn:
            while True:
                claimed, stored = conn.execute(
                    claim_or_lock, (*self._params, key, self._placeholder(), *self._params, key)).fetchone()
                if claimed or stored is not None:
                    break
            current = None if claimed else self._decode(stored)
            try:
                new = change(current)
                encoded = self._encode(new)
            except BaseException:
                # Nothing may be written: outside `transaction()` the rollback takes the
                # placeholder away; inside one (no savepoint here) it is deleted by hand.
                if claimed and self._db.bound() is conn:
                    conn.execute(f"DELETE FROM {self._table} WHERE {self._where}", (*self._params, key))
                raise
            conn.execute(f"UPDATE {self._table} SET {self._value} = %s WHERE {self._where}", (encoded, *self._params, key))
        return new

    def _placeholder(self) -> Any:
        from psycopg.types.json import Jsonb

        return Jsonb({})

    def delete(self, key: str) -> None:
        if _BAD_TEXT.search(key):
            return
        with self._db.connection() as conn:
            conn.execute(f"DELETE FROM {self._table} WHERE {self._where}", (*self._params, key))

    def all(self) -> Iterator[tuple[str, dict[str, Any]]]:
        scope = " AND ".join(f"{c} = %s" for c in self._scope) or "TRUE"
        with self._db.connection(atomic=True) as conn:
            with conn.cursor(name=f"motcua_records_{next(_CURSORS)}") as cur:
                cur.itersize = _BATCH
                cur.execute(f"SELECT key, {self._value} FROM {self._table} WHERE {scope} ORDER BY key", self._params)
                for key, value in cur:
                    yield key, self._decode(value)

    def put_many(self, items: Iterable[tuple[str, dict[str, Any]]]) -> None:
        rows = [(*self._params, _storable(key, f"records {self._name}"), self._encode(value)) for key, value in items]
        if not rows:
            return
        import psycopg

        try:
            with self._db.connection(savepoint=True) as conn, conn.cursor() as cur:
                cur.executemany(self._insert, rows)
        except psycopg.errors.UniqueViolation:
            raise StoreError(f"records {self._name}: a key of the batch already exists") from None


class PgSequences(PgRecords):
    """The `sequences` collection as the other stores show it ({"n": last number}), kept in
    its own table so `next_code` is one row lock: export and import move it unchanged."""

    _table = "sequences"
    _scope = ()
    _value = "n"

    def __init__(self, db: _Db) -> None:
        super().__init__(db, SEQUENCES)
        self._params = ()

    def _encode(self, value: dict[str, Any]) -> Any:
        n = value.get("n") if isinstance(value, dict) else None
        if not isinstance(n, int) or isinstance(n, bool) or n < 0 or set(value) != {"n"}:
            raise TypeError(f"a sequence is {{'n': <last number>}}, not {value!r:.80}")
        return n

    def _decode(self, stored: Any) -> dict[str, Any]:
        return {"n": int(stored)}

    def _placeholder(self) -> Any:
        return 0


class PgFiles:
    """Uploaded files as bytea rows by sha256 (the `FileStore` contract of base.py).

    Why bytea and not large objects: a file is at most MAX_CONTENT_LENGTH (60 MB), which a
    bytea holds; a row is deleted with its bytes (a large object outlives its reference
    until `vacuumlo` runs), is copied by pg_dump and replication like any row, needs no
    lo_* permissions, and joins `PgStore.transaction()` like every other call. `version`
    comes from one sequence, so a file deleted and stored again never gets an old version
    back (a stale conditional delete cannot remove the new one). Every call is one
    statement: the row lock orders a put and a conditional delete of the same file.
    """

    def __init__(self, db: _Db) -> None:
        self._db = db

    def put(self, data: bytes) -> str:
        return self.add(data).file_id

    def add(self, data: bytes) -> Put:
        file_id = hashlib.sha256(data).hexdigest()
        with self._db.connection() as conn:
            # xmax = 0 only on a row this statement inserted (not on one it updated).
            version, created = conn.execute(
                "INSERT INTO files (file_id, data, size, stored_at, version)"
                " VALUES (%s, %s, %s, clock_timestamp(), nextval('files_version'))"
                " ON CONFLICT (file_id) DO UPDATE SET stored_at = clock_timestamp(), version = nextval('files_version')"
                " RETURNING version, (xmax = 0)",
                (file_id, data, len(data)),
            ).fetchone()
        return Put(file_id, bool(created), int(version))

    def read(self, file_id: str) -> bytes:
        if not is_file_id(file_id):
            raise KeyError(file_id)
        with self._db.connection() as conn:
            row = conn.execute("SELECT data FROM files WHERE file_id = %s", (file_id,)).fetchone()
        if row is None:
            raise FileNotFoundError(f"no file {file_id}")
        data = bytes(row[0])
        if hashlib.sha256(data).hexdigest() != file_id:
            raise StoreDamaged(Damage("file-damaged", f"files/{file_id}",
                                      "its content in the database no longer matches its sha256"),
                               f"file {file_id} in the database is damaged (its content no longer matches its "
                               "sha256) [file-damaged]. Restore it from the last export or backup.")
        return data

    def exists(self, file_id: str) -> bool:
        if not is_file_id(file_id):
            return False
        with self._db.connection() as conn:
            return conn.execute("SELECT 1 FROM files WHERE file_id = %s", (file_id,)).fetchone() is not None

    def stored_at(self, file_id: str) -> datetime | None:
        if not is_file_id(file_id):
            return None
        with self._db.connection() as conn:
            row = conn.execute("SELECT stored_at FROM files WHERE file_id = %s", (file_id,)).fetchone()
        return row[0] if row else None

    def delete(self, file_id: str, *, older_than: datetime | None = None, version: int | None = None) -> bool:
        if not is_file_id(file_id):
            return False
        with self._db.connection() as conn:
            row = conn.execute(
                "DELETE FROM files WHERE file_id = %s"
                " AND (%s::timestamptz IS NULL OR stored_at < %s::timestamptz)"
                " AND (%s::bigint IS NULL OR version = %s::bigint) RETURNING 1",
                (file_id, older_than and _aware(older_than), older_than and _aware(older_than), version, version),
            ).fetchone()
        return row is not None

    def ids(self) -> Iterator[str]:
        with self._db.connection(savepoint=False) as conn:
            ids = [file_id for (file_id,) in conn.execute("SELECT file_id FROM files ORDER BY file_id")]
        yield from ids


#: Where a PostgreSQL store keeps uploaded files (FILES setting, MOTCUA_FILES).
FILE_BACKENDS = ("database", "folder")


class PgStore:
    """A PostgreSQL database for dossiers, records and (by default) uploaded files."""

    def __init__(self, url: str, data_dir: Path, *, pool_size: int = 20, files: str | None = None) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        from motcua.store.tinydb_store import TinyFiles, _Folders
        from motcua.store.durable import clean_tmp, ensure_dir

        self.url = url
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                migrate(conn)
        except psycopg.OperationalError as exc:
            raise StoreError(f"cannot reach the PostgreSQL store {safe_url(url)}: {exc}".strip()) from None
        # The folder is checked and marked before the pool opens: a refused folder (another
        # file store, an embedded store's) must leave no pool behind. One left to the garbage
        # collector is closed in whichever thread it runs, maybe the pool's own: "cannot join
        # current thread" (docs/store.md).
        self._folder = Path(data_dir)
        folders = _Folders(self._folder)
        ensure_dir(folders.tmp)
        ensure_dir(folders.locks)
        clean_tmp(folders.tmp)
        files = file_backend(self._folder, files)
        write_marker(self._folder, url, folders.tmp, files)
        # autocommit: a single-statement call is one round trip (see _Db)
        self._pool = ConnectionPool(url, min_size=1, max_size=pool_size, open=True, name="motcua",
                                    kwargs={"autocommit": True})
        self._db = _Db(self._pool)
        self.dossiers = PgDossiers(self._db)
        try:
            self.dossiers.refresh_summaries()
        except BaseException:
            self._pool.close()
            raise
        self.file_backend = files
        self.files = PgFiles(self._db) if files == "database" else TinyFiles(self._folder / "files", folders.tmp, folders)

    def records(self, name: str) -> PgRecords:
        if not name.isidentifier():
            raise ValueError(f"bad collection name {name!r}")
        return PgSequences(self._db) if name == SEQUENCES else PgRecords(self._db, name)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Every store call of this thread inside the block is one transaction: all of them
        are committed when the block ends, none when it raises. Nested blocks join the
        outer one. Row locks taken inside (a sequence's, a dossier's) are held to the end,
        so keep the block short. Only this backend has it (see `motcua.store.transaction`)."""
        if self._db.bound() is not None:
            yield
            return
        with self._pool.connection() as conn, conn.transaction():  # BEGIN ... COMMIT on an autocommit connection
            self._db.local.conn = conn
            try:
                yield
            finally:
                self._db.local.conn = None

    def connection(self, *, savepoint: bool = True) -> Any:
        """A context manager giving a connection of the store's: the open `transaction()`'s
        when this thread is inside one (in a savepoint unless `savepoint` is False: say so
        when no statement run on it can fail and be caught), else one from the pool in
        autocommit (each statement commits on its own). For what shares the store's database
        and must commit with its writes (the job queue, motcua.jobs)."""
        return self._db.connection(savepoint=savepoint)

    def collections(self) -> list[str]:
        with self._db.connection() as conn:
            names = [n for (n,) in conn.execute("SELECT DISTINCT collection FROM records")]
            if conn.execute("SELECT 1 FROM sequences LIMIT 1").fetchone():
                names.append(SEQUENCES)
        return sorted(names)

    def close(self) -> None:
        self._pool.close()


MARKER_FORMAT = "motcua-postgresql"


def read_marker(data_dir: Path) -> dict[str, Any] | None:
    """The PostgreSQL marker of a data folder (its store.json), None when it holds another
    or none."""
    from motcua.store.durable import read_json

    try:
        marker = read_json(data_dir / "store.json")
    except StoreError:
        return None
    return marker if isinstance(marker, dict) and marker.get("format") == MARKER_FORMAT else None


def file_backend(data_dir: Path, wanted: str | None) -> str:
    """Where this deployment's uploads are: the one its folder's marker names (a marker
    written before files could live in the database names none: "folder"), else `wanted`,
    else "database". Asking for the other one is refused rather than showing an empty file
    store (every download a 404, and `purge` would see nothing to keep)."""
    if wanted is not None and wanted not in FILE_BACKENDS:
        raise StoreError(f"unknown file store {wanted!r} (FILES, MOTCUA_FILES): one of {', '.join(FILE_BACKENDS)}")
    marker = read_marker(data_dir)
    if marker is None:
        return wanted or "database"
    kept = marker.get("files", "folder")
    if wanted is not None and wanted != kept:
        raise StoreError(
            f"{data_dir}: this deployment keeps its uploaded files in the {kept} (store.json), not the {wanted}; "
            "unset FILES/MOTCUA_FILES, or move them: `motcua export`, then `motcua import` into a new data folder "
            f"and an empty database with MOTCUA_FILES={wanted}."
        )
    return kept


def write_marker(data_dir: Path, url: str, tmp: Path, files: str = "database") -> None:
    """Mark `data_dir` as this PostgreSQL store's folder (store.json: the URL without its
    password), so no command opens it as an embedded store. A folder an embedded store
    already holds is refused: the two would share files/."""
    from motcua.store.durable import atomic_write, dump_json, read_json

    path = data_dir / "store.json"
    current = read_json(path)
    if isinstance(current, dict) and current.get("format") not in (None, MARKER_FORMAT):
        raise StoreError(
            f"{data_dir} holds an embedded store ({path}); a PostgreSQL store needs a data folder of its own "
            "(move the embedded one with `motcua store migrate`)."
        )
    shown = safe_url(url)
    marker = {"format": MARKER_FORMAT, "url": shown, "url_complete": shown == url, "files": files}
    if current != marker:
        atomic_write(path, dump_json(marker), tmp, keep_bak=False)


def safe_url(url: str) -> str:
    """The URL without its password (in the user part or a `password=` query parameter),
    for messages and the folder's marker."""
    from urllib.parse import parse_qsl, urlencode

    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key.lower() == "password" for key, _ in query):
        masked = [(key, "***" if key.lower() == "password" else value) for key, value in query]
        parts = parts._replace(query=urlencode(masked, safe="*"))
    return parts.geturl()
