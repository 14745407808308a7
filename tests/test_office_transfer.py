"""Transfer between offices: the citizen chose the wrong commune, the desk sends the dossier on.

Through the real app and the shipped registry: birth registration is performed by every
commune People's Committee, so a dossier filed with one commune can be sent to another
before it is received. The code stays, the timeline says who moved it from where to where,
the old office's staff lose it, and the new office's time limit runs from its receipt.
"""

from __future__ import annotations

import re

import pytest

from motcua import accounts
from motcua.dossier import Status
from motcua.filing import file_dossier, working_days
from motcua.offices import offices, performers
from motcua.stats import period as periods
from motcua.stats.source import build_report
from test_backoffice import answers, csrf_of

BIRTH = "1.001193"
PASSWORD = "mat-khau-rat-dai-1"


@pytest.fixture
def desks(app):
    """Two communes performing birth registration (FROM, TO) and an office that does not."""
    svc = app.extensions["motcua"]
    catalogue = svc.catalogue
    codes = performers(catalogue.get(BIRTH), catalogue)
    if len(codes) < 2:  # specs still naming one `agency` each: nothing to transfer to
        pytest.skip("birth registration has a single performer here; specs naming several (performed_by) are needed")
    frm, to = codes[0], codes[1]
    stranger = next(code for code in offices(catalogue) if code not in codes)
    accounts.create_account(svc.store, "lan", "Nguyễn Thị Lan", ["desk"], [frm], PASSWORD)
    accounts.create_account(svc.store, "minh", "Trần Văn Minh", ["specialist", "leader"], [frm], PASSWORD)
    accounts.create_account(svc.store, "binh", "Lê Văn Bình", ["desk"], [to], PASSWORD)
    return frm, to, stranger


def file_with(app, code: str):
    spec = app.extensions["motcua"].catalogue.get(BIRTH)
    with app.test_request_context():
        return file_dossier(spec, answers(), [], channel="online", delivery=None, actor="citizen", agency=code)


def staff(app, username: str):
    client = app.test_client()
    token = csrf_of(client.get("/staff/login").get_data(as_text=True))
    assert client.post("/staff/login", data={"username": username, "password": PASSWORD, "csrf_token": token}).status_code == 302
    return client


def transfer(client, code: str, **form):
    page = client.get(f"/staff/ho-so/{code}")
    token = csrf_of(page.get_data(as_text=True)) if page.status_code == 200 else csrf_of(
        client.get("/staff/").get_data(as_text=True))
    return client.post(f"/staff/ho-so/{code}/xu-ly", data={"action": "transfer_office", "csrf_token": token, **form},
                       follow_redirects=True)


def test_the_desk_sends_a_dossier_not_yet_received_to_another_performer(app, desks):
    frm, to, _stranger = desks
    svc = app.extensions["motcua"]
    known = offices(svc.catalogue)
    dossier = file_with(app, frm)
    assert dossier.code.startswith(frm + "-") and dossier.due_date is not None
    lan = staff(app, "lan")
    page = lan.get(f"/staff/ho-so/{dossier.code}").get_data(as_text=True)
    assert 'value="transfer_office"' in page and f'<option value="{to}"' in page
    assert f'<option value="{frm}"' not in page  # not to itself

    done = transfer(lan, dossier.code, to_agency=to, reason="Công dân chọn nhầm xã")
    assert done.status_code == 404  # back to a dossier that is no longer this office's

    moved = svc.store.dossiers.get(dossier.code)
    assert moved.code == dossier.code  # the citizen's reference stays
    assert (moved.agency_code, moved.status, moved.due_date) == (to, Status.NEW, None)
    event = moved.events[-1]
    assert (event.kind, event.actor, event.data["from"], event.data["to"]) == ("office_transferred", "staff:lan", frm, to)
    assert known[frm].name["vi"] in event.note and known[to].name["vi"] in event.note and frm in event.note and to in event.note
    assert "Công dân chọn nhầm xã" in event.note

    # the old office's staff no longer see it; the new office's do
    assert dossier.code not in lan.get("/staff/?status=all").get_data(as_text=True)
    assert lan.get(f"/staff/ho-so/{dossier.code}").status_code == 404
    binh = staff(app, "binh")
    assert dossier.code in binh.get("/staff/?status=all").get_data(as_text=True)
    timeline = binh.get(f"/staff/ho-so/{dossier.code}").get_data(as_text=True)
    assert "Chuyển hồ sơ sang cơ quan thực hiện khác" in timeline and "Nguyễn Thị Lan" in timeline
    english = binh.get(f"/staff/ho-so/{dossier.code}?lang=en").get_data(as_text=True)
    assert "Sent to another implementing office" in english and f"({frm}) to " in english

    # the new office's clock starts when it receives the dossier
    token = csrf_of(timeline)
    binh.post(f"/staff/ho-so/{dossier.code}/xu-ly", data={"action": "receive", "csrf_token": token})
    received = svc.store.dossiers.get(dossier.code)
    receipt = next(e for e in received.events if e.kind == "received")
    spec = svc.catalogue.get(BIRTH)
    expected = svc.engine.calendar.due_date(receipt.at, working_days(spec, "online"),
                                            spec.info.processing_time.calendar_days)
    assert received.status == Status.RECEIVED and received.due_date == expected
    assert receipt.data["due_date"] == expected.isoformat()

    # and its figures are the new office's
    year = periods.year(dossier.filed_at.year)
    report = build_report(svc.store, svc.catalogue, period=year, agencies=[frm, to])
    by_agency = {row.key: row.tally.received for row in report.by_agency}
    assert by_agency.get(to) == 1 and by_agency.get(frm, 0) == 0


def test_refused_transfers_change_nothing_and_say_why(app, desks):
    frm, to, stranger = desks
    svc = app.extensions["motcua"]
    dossier = file_with(app, frm)
    before = svc.store.dossiers.get(dossier.code)
    lan = staff(app, "lan")

    def refused(client, message: str, **form) -> None:
        page = transfer(client, dossier.code, **form).get_data(as_text=True)
        assert message in page, message
        assert svc.store.dossiers.get(dossier.code) == before

    refused(lan, "Cần nêu rõ lý do.", to_agency=to)
    refused(lan, "Cần nhập “Cơ quan nhận hồ sơ”.", reason="Chọn nhầm")
    refused(lan, "Hồ sơ đang ở chính cơ quan này.", to_agency=frm, reason="Chọn nhầm")
    refused(lan, f"Cơ quan “{stranger}” không thực hiện thủ tục này", to_agency=stranger, reason="Chọn nhầm")
    refused(lan, "không thực hiện thủ tục này", to_agency="<b>x</b>", reason="Chọn nhầm")
    # a specialist or leader is not the desk
    refused(staff(app, "minh"), "dành cho: Cán bộ một cửa", to_agency=to, reason="Chọn nhầm")
    # another office's desk does not even find it
    binh = staff(app, "binh")
    token = csrf_of(binh.get("/staff/").get_data(as_text=True))
    assert binh.post(f"/staff/ho-so/{dossier.code}/xu-ly", data={
        "action": "transfer_office", "to_agency": to, "reason": "x", "csrf_token": token}).status_code == 404
    assert svc.store.dossiers.get(dossier.code) == before

    # once received, it is the office's to process: too late to send on
    token = csrf_of(lan.get(f"/staff/ho-so/{dossier.code}").get_data(as_text=True))
    lan.post(f"/staff/ho-so/{dossier.code}/xu-ly", data={"action": "receive", "csrf_token": token})
    before = svc.store.dossiers.get(dossier.code)
    page = lan.get(f"/staff/ho-so/{dossier.code}").get_data(as_text=True)
    assert 'value="transfer_office"' not in page
    refused(lan, "nên không thể chuyển hồ sơ sang cơ quan khác", to_agency=to, reason="Chọn nhầm")
    assert re.search(r"Đã tiếp nhận", page)
