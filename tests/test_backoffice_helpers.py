"""The back office's pure parts: the queue filter, paging, safe download names, redirects.

The queue filters the store's summaries (what `store.dossiers.summaries()` yields), so the
items here are summaries of real Dossier objects, derived the way the store derives them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from werkzeug.datastructures import MultiDict

from motcua.accounts import StaffUser
from motcua.dossier import Contact, Dossier, Status
from motcua.store.summary import DossierSummary, summarize
from motcua.web.backoffice import QueueFilter, page_of, queue, safe_filename


def dossier(code: str, agency: str = "A", *, name: str = "Nguyễn Văn An", status: Status = Status.NEW, due: date | None = None, channel: str = "online") -> DossierSummary:
    return summarize(Dossier(
        code=code,
        procedure_code="1.001193",
        spec_version="1",
        agency_code=agency,
        channel=channel,
        contact=Contact(name=name),
        status=status,
        due_date=due,
        filed_at=datetime(2025, 9, 1, 8, tzinfo=timezone.utc),
    ))


def never_overdue(d: DossierSummary) -> bool:
    return False


DESK_A = StaffUser(username="lan", name="Lan", roles=["desk"], agencies=["A"])


def test_queue_keeps_only_the_users_agencies_and_sorts_by_due_date():
    today = date(2025, 9, 10)
    items = [
        dossier("A-3", due=today + timedelta(days=3)),
        dossier("B-1", agency="B", due=today),
        dossier("A-none"),
        dossier("A-1", due=today - timedelta(days=1)),
    ]
    assert [d.code for d in queue(items, DESK_A, QueueFilter(), never_overdue)] == ["A-1", "A-3", "A-none"]
    admin = StaffUser(username="root", name="Root", roles=["admin"])
    assert len(queue(items, admin, QueueFilter(), never_overdue)) == 4


def test_open_filter_keeps_finished_but_not_closed_dossiers():
    items = [dossier("A-1", status=Status.FINISHED), dossier("A-2", status=Status.RETURNED), dossier("A-3", status=Status.WITHDRAWN)]
    assert [d.code for d in queue(items, DESK_A, QueueFilter(), never_overdue)] == ["A-1"]
    assert len(queue(items, DESK_A, QueueFilter(status="all"), never_overdue)) == 3
    assert [d.code for d in queue(items, DESK_A, QueueFilter(status="10"), never_overdue)] == ["A-2"]
    assert queue(items, DESK_A, QueueFilter(status="nonsense"), never_overdue) == []


def test_text_search_ignores_diacritics_and_case():
    items = [dossier("A-1", name="Phạm Thị Hoa"), dossier("A-2", name="Đỗ Văn Khoa")]
    assert [d.code for d in queue(items, DESK_A, QueueFilter(q="DO VAN"), never_overdue)] == ["A-2"]
    assert [d.code for d in queue(items, DESK_A, QueueFilter(q="a-1"), never_overdue)] == ["A-1"]


def test_overdue_and_channel_filters():
    items = [dossier("A-1", channel="desk"), dossier("A-2")]
    late = {"A-2"}
    assert [d.code for d in queue(items, DESK_A, QueueFilter(overdue=True), lambda d: d.code in late)] == ["A-2"]
    assert [d.code for d in queue(items, DESK_A, QueueFilter(channel="desk"), never_overdue)] == ["A-1"]


def test_filter_from_args_and_back():
    flt = QueueFilter.from_args(MultiDict({"status": "2", "q": " hoa ", "overdue": "1", "page": "x"}))
    assert flt == QueueFilter(status="2", q="hoa", overdue=True, page=1)
    assert flt.args(page=3) == {"status": "2", "q": "hoa", "overdue": "1", "page": 3}
    assert QueueFilter().args() == {}


def test_pages_are_clamped():
    items = list(range(60))
    assert page_of(items, 1, 25) == (list(range(25)), 1, 3)
    assert page_of(items, 9, 25) == (list(range(50, 60)), 3, 3)
    assert page_of([], 2, 25) == ([], 1, 1)


def test_safe_filename_strips_paths_and_controls_but_keeps_vietnamese():
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\x\\Giấy khai sinh.pdf") == "Giấy khai sinh.pdf"
    assert safe_filename('a"b\r\nc;.pdf') == "a_bc_.pdf"
    assert safe_filename("...") == "tep"
