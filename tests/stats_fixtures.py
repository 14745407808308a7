"""Known dossiers across periods, channels and outcomes, for the statistics tests.

Agency A's dossiers in Q1 2025 (Vietnam time), what each one tests:
  A1  online, due 20/01, finished 15/01, returned 16/01      -> settled early (rated 5)
  A2  desk,   due 10/02, finished 10/02, returned            -> settled on time (rated 4)
  A3  postal, due 12/02, finished 14/02                      -> settled late
  A4  online, filed 25/03, due 02/04, finished 01/04         -> received Q1, settled Q2 (early)
  A5  online, supplement requested 08/01, resumed 13/01, due extended 13/01 -> 16/01,
              finished 16/01                                 -> on time thanks to the paused clock
  A6  desk,   withdrawn 22/02                                -> withdrawn, never settled
  A7  online, refused at intake 04/03 (due 10/03)            -> refused at intake: not received, not settled
  A8  desk,   filed 28/03, due 31/12                         -> still open, not overdue
  A9  online, filed 10/02, due 20/02, processing             -> open and overdue
  A10 online, filed 03/03, due 10/03, supplement requested   -> open, paused: not overdue
  A11 desk,   filed 20/12/2024, due 05/01, finished 08/01    -> carried over into Q1, late
  A12 online, filed 01/04 00:30 Vietnam (31/03 17:30 UTC)    -> received in Q2, not Q1
  A13 desk,   filed 12/02, processing, stopped 20/02 (8)      -> stopped, neither settled nor open
  A14 online, filed 05/03, payment requested 06/03 (6), paid 10/03, finished 24/03 (due 25/03),
              returned 25/03                                 -> settled early after a paused clock
  A15 online, filed 14/03, stopped 20/03, resumed 07/04, finished 15/04 (due 30/04)
                                                             -> stopped on 31/03, settled early in Q2
  A16 postal, filed 17/03, received, supplement requested 18/03, refused 25/03 (3)
                                                             -> refused at intake although once received
Agency B: B1 online, filed 20/01, finished 22/01, due 25/01  -> only in "all agencies".
Together they pass through every status, 1 to 10.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from motcua.dossier import Contact, Dossier, Event, Status

VN = ZoneInfo("Asia/Ho_Chi_Minh")
AGENCY_A = "000.06.50.H15"  # Phường Hải Châu (shipped registry): performs the shipped birth spec
AGENCY_B = "000.00.99.H99"
BIRTH = "1.001193"  # a shipped spec: name and sector come from the catalogue
OTHER = "9.999999"  # in no catalogue: falls back to the code
PHONE = "0912345678"


def at(y: int, m: int, d: int, h: int = 9, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=VN)


def make(code, filed, due, *steps, channel="online", agency=AGENCY_A, procedure=BIRTH) -> Dossier:
    number = int("".join(c for c in code if c.isdigit()))
    dossier = Dossier(
        code=f"{agency}-{filed.astimezone(VN):%y%m%d}-{number:04d}",
        procedure_code=procedure,
        spec_version="2025.1",
        agency_code=agency,
        channel=channel,
        contact=Contact(name="Nguyễn Văn A", phone=PHONE, cccd="001090000001"),
        filed_at=filed,
        due_date=due,
    )
    dossier.record(Event(at=filed, actor="citizen", kind="filed", status=Status.NEW))
    for moment, status in steps:
        dossier.record(Event(at=moment, actor="staff:test", kind=status.name.lower(), status=status))
    return dossier


def dossiers() -> dict[str, Dossier]:
    """Label (A1 ...) -> dossier; real codes look like `000.00.31.H12-250110-0001`."""
    S = Status
    items = [
        make("A1", at(2025, 1, 10), date(2025, 1, 20), (at(2025, 1, 10, 10), S.RECEIVED),
             (at(2025, 1, 15), S.FINISHED), (at(2025, 1, 16), S.RETURNED)),
        make("A2", at(2025, 2, 3), date(2025, 2, 10), (at(2025, 2, 3), S.RECEIVED),
             (at(2025, 2, 10, 16), S.FINISHED), (at(2025, 2, 11), S.RETURNED), channel="desk"),
        make("A3", at(2025, 2, 5), date(2025, 2, 12), (at(2025, 2, 5), S.RECEIVED),
             (at(2025, 2, 14), S.FINISHED), channel="postal"),
        make("A4", at(2025, 3, 25), date(2025, 4, 2), (at(2025, 3, 25), S.RECEIVED), (at(2025, 4, 1), S.FINISHED)),
        make("A5", at(2025, 1, 6), date(2025, 1, 16), (at(2025, 1, 6), S.RECEIVED),
             (at(2025, 1, 8), S.SUPPLEMENT_REQUESTED), (at(2025, 1, 13), S.PROCESSING), (at(2025, 1, 16), S.FINISHED)),
        make("A6", at(2025, 2, 20), date(2025, 3, 1), (at(2025, 2, 22), S.WITHDRAWN), channel="desk"),
        make("A7", at(2025, 3, 3), date(2025, 3, 10), (at(2025, 3, 4), S.REFUSED)),
        make("A8", at(2025, 3, 28), date(2025, 12, 31), (at(2025, 3, 28), S.RECEIVED), channel="desk"),
        make("A9", at(2025, 2, 10), date(2025, 2, 20), (at(2025, 2, 10), S.RECEIVED), (at(2025, 2, 11), S.PROCESSING)),
        make("A10", at(2025, 3, 3), date(2025, 3, 10), (at(2025, 3, 3), S.RECEIVED),
             (at(2025, 3, 5), S.SUPPLEMENT_REQUESTED), procedure=OTHER),
        make("A11", at(2024, 12, 20), date(2025, 1, 5), (at(2024, 12, 20), S.RECEIVED), (at(2025, 1, 8), S.FINISHED),
             channel="desk"),
        make("A12", datetime(2025, 3, 31, 17, 30, tzinfo=timezone.utc), date(2025, 12, 31)),
        make("B1", at(2025, 1, 20), date(2025, 1, 25), (at(2025, 1, 22), S.FINISHED), agency=AGENCY_B),
        make("A13", at(2025, 2, 12), date(2025, 3, 5), (at(2025, 2, 12), S.RECEIVED), (at(2025, 2, 13), S.PROCESSING),
             (at(2025, 2, 20), S.STOPPED), channel="desk"),
        make("A14", at(2025, 3, 5), date(2025, 3, 25), (at(2025, 3, 5), S.RECEIVED), (at(2025, 3, 6), S.PAYMENT_REQUESTED),
             (at(2025, 3, 10), S.RECEIVED), (at(2025, 3, 11), S.PROCESSING), (at(2025, 3, 24), S.FINISHED),
             (at(2025, 3, 25), S.RETURNED)),
        make("A15", at(2025, 3, 14), date(2025, 4, 30), (at(2025, 3, 14), S.RECEIVED), (at(2025, 3, 17), S.PROCESSING),
             (at(2025, 3, 20), S.STOPPED), (at(2025, 4, 7), S.PROCESSING), (at(2025, 4, 15), S.FINISHED)),
        make("A16", at(2025, 3, 17), date(2025, 3, 24), (at(2025, 3, 17), S.RECEIVED),
             (at(2025, 3, 18), S.SUPPLEMENT_REQUESTED), (at(2025, 3, 25), S.REFUSED), channel="postal"),
    ]
    labels = ["A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9", "A10", "A11", "A12", "B1", "A13", "A14", "A15", "A16"]
    return dict(zip(labels, items))
