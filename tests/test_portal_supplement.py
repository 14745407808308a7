"""A dossier asked for a supplement (status 5) continues when the citizen supplies it online.

Staff ask through the engine (as the back office does); the citizen opens the tracking page
with the second factor, sees what was asked, uploads the missing paper and a note; the
dossier leaves status 5, the clock resumes with the due date moved, and staff see the files.
"""

from __future__ import annotations

import io
import re
from datetime import date

from fixtures.workflow_kit import DESK, file_dossier, make_spec
from motcua import accounts
from motcua.dossier import Status
from motcua.workflow import lifecycle
from tests.portal_helpers import csrf, small_pdf
from tests.test_portal_tracking import lookup

REVIEW_ONLY = [{"name": "review", "config": {"units": ["Phòng Tư pháp"]}}]
PHONE = "0912345678"
PASSWORD = "mat-khau-rat-dai-2025"


def asked(app) -> str:
    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec(REVIEW_ONLY), due=date(2099, 1, 5))
    engine.perform(code, "receive", DESK)
    engine.perform(code, "request_supplement", DESK, reason="Hồ sơ thiếu giấy tờ",
                   missing="Giấy chứng sinh bản chính\nBản sao CCCD của người đi khai")
    # the pause started on Mon 2 Dec 2024, so resuming today moves the due date
    app.extensions["motcua"].store.dossiers.update(code, lambda d: d.steps["_engine"].update(paused_since="2024-12-02"))
    return code


def test_citizen_supplies_and_the_clock_resumes(app, client):
    code = asked(app)
    assert lookup(client, code, PHONE).status_code == 302
    page = client.get(f"/ho-so/{code}").get_data(as_text=True)
    assert "Gửi hồ sơ bổ sung" in page
    assert "Giấy chứng sinh bản chính" in page and "Bản sao CCCD của người đi khai" in page
    assert f'action="/ho-so/{code}/bo-sung"' in page and 'enctype="multipart/form-data"' in page

    response = client.post(f"/ho-so/{code}/bo-sung", data={
        "csrf_token": csrf(page),
        "note": "Xin gửi giấy chứng sinh bản chính",
        "attachment.giay_chung_sinh": (io.BytesIO(small_pdf()), "giay-chung-sinh.pdf"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302

    dossier = app.extensions["motcua"].store.dossiers.get(code)
    assert dossier.status == Status.RECEIVED  # back where it was before the request
    supplied = [e for e in dossier.events if e.kind == "supplemented"][0]
    assert supplied.actor == "citizen" and supplied.note == "Xin gửi giấy chứng sinh bản chính"
    assert [a.filename for a in dossier.attachments][-1] == "giay-chung-sinh.pdf"
    assert supplied.data["attachments"] == [dossier.attachments[-1].file_id]
    resumed = [e for e in dossier.events if e.kind == "clock_resumed"][0]
    cal = app.extensions["motcua"].engine.calendar
    paused = cal.working_days_between(date(2024, 12, 2), lifecycle.vn_today())
    assert paused > 0 and resumed.data["paused_working_days"] == paused
    assert dossier.due_date == cal.add_working_days(date(2099, 1, 5), paused)
    assert "Gửi hồ sơ bổ sung" not in client.get(f"/ho-so/{code}").get_data(as_text=True)  # done: no form

    # staff see the supplied file on their page of the dossier
    staff = app.test_client()
    accounts.create_account(app.extensions["motcua"].store, "motcua_desk", "Trần Thị Lan", ["desk"], [dossier.agency_code], PASSWORD)
    staff.post("/staff/login", data={"username": "motcua_desk", "password": PASSWORD, "csrf_token": csrf(staff.get("/staff/login").get_data(as_text=True))})
    office = staff.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert "giay-chung-sinh.pdf" in office


def test_supplement_needs_the_second_factor_and_csrf(app, client):
    code = asked(app)
    other = app.test_client()  # never passed the factor
    token = csrf(other.get("/tra-cuu").get_data(as_text=True))
    assert other.post(f"/ho-so/{code}/bo-sung", data={"csrf_token": token, "note": "x"}).status_code == 404
    lookup(client, code, PHONE)
    assert client.post(f"/ho-so/{code}/bo-sung", data={"note": "x"}).status_code == 400  # no CSRF token
    assert app.extensions["motcua"].store.dossiers.get(code).status == Status.SUPPLEMENT_REQUESTED


def test_a_bad_file_is_refused_and_the_note_kept(app, client):
    code = asked(app)
    lookup(client, code, PHONE)
    page = client.get(f"/ho-so/{code}").get_data(as_text=True)
    response = client.post(f"/ho-so/{code}/bo-sung", data={
        "csrf_token": csrf(page),
        "note": "Ghi chú của tôi",
        "attachment.giay_chung_sinh": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "virus.pdf"),
    }, content_type="multipart/form-data")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "không đúng loại cho phép" in html
    assert "Ghi chú của tôi</textarea>" in html
    assert re.search(r'id="f-attachment-giay_chung_sinh-error"', html)
    assert app.extensions["motcua"].store.dossiers.get(code).status == Status.SUPPLEMENT_REQUESTED
    empty = client.post(f"/ho-so/{code}/bo-sung", data={"csrf_token": csrf(page)})
    assert empty.status_code == 400 and "Hãy đính kèm giấy tờ" in empty.get_data(as_text=True)
