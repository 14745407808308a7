"""The summary of a dossier: the few facts statistics need, derived from its JSON form.

Reading a whole dossier costs a JSON parse of ~1.3 kB and a pydantic validation (~200 us);
a year dashboard over 100,000 dossiers cannot afford that, nor can the staff queue. A
summary is one short JSON row (code, procedure, agency, channel, filing time, due date,
status, the settle / withdrawal day, the status transitions, the applicant's name, the
day a running pause of the clock began, whether the limit counts calendar days, whether its
workflow has started and the agency of a liên thông stage it is at), which a store keeps beside the dossiers and
rewrites in the same locked write (see docs/store.md, "Summaries").

`summary_row(doc)` is the one derivation, a pure function of the dossier as stored (the
JSON `Dossier.model_dump(mode="json")` gives), so any store implementation can reuse it;
`from_row` turns a row into a `DossierSummary`. The row is a list, not an object, and the
summary a NamedTuple, not a pydantic model, because building 100,000 of them has to take
milliseconds, not seconds; for the same reason the transitions are one string, decoded only
when asked (`status_at`): lists of lists would be several objects per row for the garbage
collector to track, and that cost a third of a dashboard.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any, NamedTuple

from motcua.dossier import PAUSING, Dossier, Status

VIETNAM = timezone(timedelta(hours=7))

#: The row layout's version: a store names it in each summary file and rebuilds a file of
#: another one. Bump it whenever `summary_row` changes what a row holds.
ROW_FORMAT = 5

#: Statuses that settle a dossier the first time one is reached (RETURNED implies FINISHED).
SETTLING = frozenset({Status.FINISHED, Status.REFUSED, Status.RETURNED})


class DossierSummary(NamedTuple):
    code: str
    procedure_code: str
    spec_version: str
    agency_code: str
    channel: str
    filed_at: datetime
    #: the filing day in Vietnam time (the day that decides the period it is received in)
    filed_day: date
    due_date: date | None
    #: the current status (an int equal to a `Status`)
    status: int
    #: the Vietnam day it first reached a settling status (before any withdrawal), or None
    settled: date | None
    #: settled by a refusal (REFUSED was the first settling status)
    refused: bool
    #: the Vietnam day it was withdrawn (before being settled), or None
    withdrawn: date | None
    #: every status an event set, in timeline order: "<unix seconds, floored>:<status> ..."
    transitions: str
    #: the applicant's name (contact.name), for the staff queue's list and text search
    name: str = ""
    #: the Vietnam day the running pause of the clock began (engine state), or None; what
    #: the queue needs to judge overdue without reading the dossier
    paused_since: date | None = None
    #: the time limit counts calendar days (Dossier.calendar_days): how a pause moves the due date
    calendar_days: bool = False
    #: its workflow has started (the engine dispatched its first events); False for a dossier
    #: stored by a process that died before starting it, which the engine then starts
    started: bool = False
    #: the agency of the processing stage the dossier is at when that is another agency's
    #: (liên thông, motcua.processing): its staff see the dossier in their queue meanwhile
    liaison_agency: str | None = None

    @property
    def closed_on(self) -> date | None:
        """The Vietnam day it was closed: settled (refused included) or withdrawn, whichever
        came first (a summary holds only that one); None while open. Nothing after that day
        changes its figures, which is how a store leaves it out of a later period's report
        (`summaries(active_since=)`)."""
        return self.settled or self.withdrawn

    @property
    def spec_key(self) -> str:
        return f"{self.procedure_code}@{self.spec_version}"

    def status_at(self, moment: datetime) -> int | None:
        """The status set by the last status event before `moment` (None: none yet)."""
        limit = moment.timestamp()
        then = None
        for at, status in self.moves():
            if at < limit:
                then = status
        return then

    def clock_at(self, moment: datetime) -> tuple[int | None, date | None]:
        """The status before `moment` and the Vietnam day the pause of the clock running then
        began (None when the clock ran), read from the transitions (for a past day; today's
        pause is `paused_since`, which an apology's new date restarts)."""
        limit = moment.timestamp()
        status: int | None = None
        since: date | None = None
        for at, then in self.moves():
            if at >= limit:
                continue
            if then in PAUSING:
                if status not in PAUSING:
                    since = datetime.fromtimestamp(at, VIETNAM).date()
            else:
                since = None
            status = then
        return status, since

    def moves(self) -> list[tuple[int, int]]:
        """The transitions as (unix seconds, status) pairs, in timeline order."""
        return [(int(at), int(status)) for at, _, status in (m.partition(":") for m in self.transitions.split())]


def _moment(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)


def summary_row(doc: Mapping[str, Any]) -> list[Any]:
    """The summary row of a stored dossier (its JSON form); pure, JSON in and JSON out.

    Event times are stored as whole unix seconds, floored: a time is compared with a
    midnight (a whole second), and floor(t) < m exactly when t < m for a whole m.
    """
    filed_at = _moment(doc["filed_at"])
    settled = withdrawn = None
    refused = False
    transitions = []
    for event in doc.get("events") or ():
        status = event.get("status")
        if status is None:
            continue
        at = _moment(event["at"])
        transitions.append(f"{int(at.timestamp() // 1)}:{int(status)}")
        if settled is None and withdrawn is None:
            if status in SETTLING:
                settled = at.astimezone(VIETNAM).date().isoformat()
                refused = status == Status.REFUSED
            elif status == Status.WITHDRAWN:
                withdrawn = at.astimezone(VIETNAM).date().isoformat()
    return [
        doc["code"],
        doc["procedure_code"],
        doc["spec_version"],
        doc["agency_code"],
        doc["channel"],
        doc["filed_at"],
        filed_at.astimezone(VIETNAM).date().isoformat(),
        doc.get("due_date"),
        int(doc.get("status", Status.NEW)),
        settled,
        refused,
        withdrawn,
        " ".join(transitions),
        (doc.get("contact") or {}).get("name", ""),
        ((doc.get("steps") or {}).get("_engine") or {}).get("paused_since"),
        bool(doc.get("calendar_days", False)),
        int(((doc.get("steps") or {}).get("_engine") or {}).get("dispatched", 0) or 0) > 0,
        ((doc.get("steps") or {}).get("_engine") or {}).get("liaison_agency"),
    ]


def row_closed_on(row: list[Any]) -> str | None:
    """`DossierSummary.closed_on` of a row (an ISO day, or None), without building the summary."""
    return row[9] or row[11]


_day = date.fromisoformat


def from_row(row: list[Any]) -> DossierSummary:
    """The summary a row stands for (a row read back from JSON)."""
    (code, procedure, version, agency, channel, filed_at, filed_day, due, status, settled, refused, withdrawn, moves,
     name, paused, calendar_days, started, liaison) = row
    return DossierSummary(
        code,
        procedure,
        version,
        agency,
        channel,
        _moment(filed_at),
        _day(filed_day),
        _day(due) if due else None,
        status,
        _day(settled) if settled else None,
        refused,
        _day(withdrawn) if withdrawn else None,
        moves,
        name,
        _day(paused) if paused else None,
        calendar_days,
        started,
        liaison,
    )


def summarize(dossier: Dossier) -> DossierSummary:
    """The summary of a dossier object (same derivation as the stored rows)."""
    return from_row(summary_row(dossier.model_dump(mode="json")))
