"""The repository interface everything above the store talks to.

Like TinyDB's own `Storage`, it is deliberately small, so a server database can replace
the embedded TinyDB store in a province-wide deployment without touching the portal, the
workflow or the statistics. Nothing above this package imports TinyDB.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import date, datetime
from typing import Any, NamedTuple, Protocol, TypeVar

from motcua.dossier import Dossier, Status
from motcua.store.summary import DossierSummary

T = TypeVar("T")


class StoreError(Exception):
    """The store cannot be used as it is; the message says which file and what to do."""


class Damage(NamedTuple):
    """One thing wrong in a store, as `motcua store check` and export report it."""

    code: str  # what kind of damage, e.g. "chunk-missing" (docs/store.md lists them)
    path: str  # the file, relative to the data folder
    message: str  # a plain sentence: what is wrong and what it means
    serious: bool = True  # False: a harmless leftover, not a reason to fail

    def __str__(self) -> str:
        return f"{self.path} [{self.code}]: {self.message}"


class StoreDamaged(StoreError):
    """A file the operation needs is damaged or missing: the message names it and its code."""

    def __init__(self, damage: Damage, message: str | None = None) -> None:
        super().__init__(
            message
            or f"{damage}. Run `motcua store check --data DATA_DIR` for every problem, and with "
            "`--repair` to restore what the folder's own copies can restore."
        )
        self.damage = damage


#: Where a reader that goes on past damage (export --skip-damaged) reports what it skipped.
OnDamage = Callable[[Damage], None]


class EventsRewritten(StoreError):
    """An update tried to edit or drop events already stored: a timeline is append-only."""


class DossierRepository(Protocol):
    def next_code(self, agency_code: str, on: date) -> str:
        """A code `<agency>-YYMMDD-NNNN` never handed out before, even across processes."""

    def add(self, dossier: Dossier) -> None:
        """Store a new dossier; on return it is on disk (acknowledged = durable)."""

    def get(self, code: str) -> Dossier | None:
        """The dossier with this code, without scanning the others."""

    def update(self, code: str, change: Callable[[Dossier], T]) -> tuple[Dossier, T]:
        """Apply `change` to the current dossier under a lock and persist the result.

        `change` may raise to abort: nothing is written then. Returns the saved dossier
        and what `change` returned. The stored events must stay an unchanged prefix of the
        result (the timeline is append-only): otherwise EventsRewritten, nothing written.
        """

    def all(self, on_damage: OnDamage | None = None) -> Iterator[Dossier]:
        """Every dossier, in filing order. What cannot be read raises StoreDamaged naming the
        file and the damage code, or, given `on_damage`, is reported to it and skipped."""

    def find(
        self,
        *,
        agency_code: str | None = None,
        status: Status | None = None,
        procedure_code: str | None = None,
        filed_from: datetime | None = None,
        filed_to: datetime | None = None,
    ) -> list[Dossier]:
        """Dossiers matching every given filter."""

    def count(self) -> int: ...

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
        """Every dossier's summary (`motcua.store.summary`), in filing order, optionally
        of a filing period (`filed_from` included, `filed_to` excluded), of some agencies
        (the dossier's own, or the one whose processing stage holds it: `liaison_agency`)
        and in some statuses (the staff queue: a server database answers those from an
        index, so the queue does not grow with the closed dossiers of past years).

        `active_since` (a day): only the dossiers that can still count in a period
        beginning that day: not closed (settled, refused or withdrawn:
        `DossierSummary.closed_on`) before it, or filed on or after it. The statistics
        ask for that, so a year's report reads that year's dossiers and the ones still
        open, not every year before (a server database answers from an index on the
        closing day). `procedure_code`: one procedure's dossiers, still in filing order.

        What statistics read: a store keeps the rows beside the dossiers so this costs a
        small fraction of `all()`; `summary_row` is the derivation to reuse.
        """

    def add_many(self, dossiers: Iterable[Dossier]) -> None:
        """Bulk path (import, benchmarks): like `add` for each, in order, but each partition
        is written once per call instead of once per dossier. Durable on return."""


class Records(Protocol):
    """A named collection of JSON documents by key: drafts, accounts, outbox, payments ...

    The authoring studio (motcua.studio) keeps its drafts and published versions here too:
    a published version is written once with `insert_new` (immutable: a second publication
    of `code@version` is refused by the store, whichever process tries), and the procedure's
    record and the catalogue's generation number change only through `update` (under the
    lock), which is what lets several web processes share one published catalogue."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def put(self, key: str, value: dict[str, Any]) -> None: ...

    def insert_new(self, key: str, value: dict[str, Any]) -> bool:
        """Store `value` only if `key` is absent; False when it was already there.

        The primitive that makes callbacks idempotent across threads and processes.
        """

    def update(self, key: str, change: Callable[[dict[str, Any] | None], dict[str, Any]]) -> dict[str, Any]:
        """Replace the document with `change(current)` under a lock."""

    def delete(self, key: str) -> None: ...

    def all(self, on_damage: OnDamage | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every record; damage as for `DossierRepository.all`."""

    def put_many(self, items: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Bulk path (import): store new keys, each partition written once per call."""


class Put(NamedTuple):
    """What one `FileStore.add` did, decided under the file's lock.

    `created`: this call wrote the file (it was not there); `version`: an opaque number the
    store changes with every put of these bytes, so `delete(file_id, version=...)` removes
    the file only if nobody stored it again since (a request taking back its own upload)."""

    file_id: str
    created: bool
    version: int


def is_file_id(file_id: object) -> bool:
    """Whether `file_id` is a file store's id: the lower-case sha256 hex of the bytes. Every
    file store checks it before it builds a path or a query from the id, so a name sent by
    a citizen never reaches either; one check, so both stores refuse the same ids."""
    return isinstance(file_id, str) and len(file_id) == 64 and all(c in "0123456789abcdef" for c in file_id)


class FileStore(Protocol):
    """Uploaded files by content id (`is_file_id`); a citizen's file name is never a path."""

    def put(self, data: bytes) -> str:
        """Store the bytes durably and return their id (sha256 hex)."""

    def add(self, data: bytes) -> Put:
        """`put`, saying whether this call created the file and the version it left."""

    def read(self, file_id: str) -> bytes:
        """The bytes, checked against their sha256 (StoreDamaged when they no longer match).
        An id that is not a sha256 hex raises KeyError; an absent file FileNotFoundError."""

    def exists(self, file_id: str) -> bool: ...

    def ids(self) -> Iterator[str]:
        """Every stored file id, sorted (for export)."""

    def stored_at(self, file_id: str) -> datetime | None:
        """When the file was last stored (`put`), None when it is not there."""

    def delete(self, file_id: str, *, older_than: datetime | None = None, version: int | None = None) -> bool:
        """Remove a file; True when it was removed. With `older_than`, only when it was last
        stored (`put`, also of the same bytes again) before that moment; with `version` (from
        `add`), only when no put came after the one that left that version. Both are decided
        under the same lock `put` takes, so a file uploaded again meanwhile is kept. A crash
        leaves the file whole or gone. Callers make sure nothing refers to it (motcua.purge)."""


class Store(Protocol):
    dossiers: DossierRepository
    files: FileStore

    def records(self, name: str) -> Records: ...

    def collections(self) -> list[str]:
        """Names of the records collections that hold something, sorted (for export)."""

    def quick_check(self) -> list[Damage]:
        """Damage a cheap look finds (e.g. dossiers an index can no longer find), fast enough
        for every start of the server; [] when nothing is wrong. `motcua store check` looks
        at everything."""

    def close(self) -> None: ...
