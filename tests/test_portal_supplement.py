"""A dossier asked for a supplement (status 5) continues when the citizen supplies it online.

Staff ask through the engine (as the back office does) or through the back office itself;
the citizen opens the supplement page with the second factor, sees what was asked, uploads
the requested papers (and maybe another one), corrects the answers staff named and adds a
note; the dossier leaves status 5, the clock resumes with the due date moved, and staff
see the new files and the changed answers, old -> new.
"""

from __future__ import annotations

import io
import re
from datetime import date

from werkzeug.datastructures import MultiDict

from fixtures.workflow_kit import AGENCY, DESK, file_dossier, make_spec
from motcua import accounts
from motcua.dossier import Status
from motcua.workflow import lifecycle
from tests.portal_helpers import GOOD_ANSWERS, csrf, small_pdf
from tests.test_portal_tracking import lookup

REVIEW_ONLY = [{"name": "review", "config": {"units": ["Phòng Tư pháp"]}}]
PHONE = "0912345678"
PASSWORD = "mat-khau-rat-dai-2025"


def store_of(app):
    return app.extensions["motcua"].store


def valid_answers(spec) -> dict:
    """The birth registration answers a citizen posts, typed as filing keeps them."""
    from motcua_renderers.form import parse_form

    from motcua import submission

    answers = parse_form(spec, MultiDict({k: v for page in GOOD_ANSWERS.values() for k, v in page.items()}))
    assert submission.validate(spec, answers) == {}
    return answers


def asked(app, **request) -> str:
    """A filed birth registration, received, then asked for a supplement."""
    engine = app.extensions["motcua"].engine
    spec = make_spec(REVIEW_ONLY)
    code = file_dossier(app, spec, due=date(2099, 1, 5))
    store_of(app).dossiers.update(code, lambda d: setattr(d, "data", valid_answers(spec)))
    engine.perform(code, "receive", DESK)
    engine.perform(code, "request_supplement", DESK, reason=request.pop("reason", "Hồ sơ thiếu giấy tờ"),
                   missing=request.pop("missing", "Giấy chứng sinh bản chính\nBản sao CCCD của người đi khai"), **request)
    # the pause started on Mon 2 Dec 2024, so resuming today moves the due date
    store_of(app).dossiers.update(code, lambda d: d.steps["_engine"].update(paused_since="2024-12-02"))
    return code


def staff_client(app, agency: str):
    """A desk officer of the agency, logged in to the back office."""
    staff = app.test_client()
    accounts.create_account(store_of(app), "motcua_desk", "Trần Thị Lan", ["desk"], [agency], PASSWORD)
    staff.post("/staff/login", data={"username": "motcua_desk", "password": PASSWORD,
                                     "csrf_token": csrf(staff.get("/staff/login").get_data(as_text=True))})
    return staff


def test_citizen_supplies_and_the_clock_resumes(app, client):
    code = asked(app)
    assert lookup(client, code, PHONE).status_code == 302
    tracking = client.get(f"/ho-so/{code}").get_data(as_text=True)
    assert "Giấy chứng sinh bản chính" in tracking and f'href="/ho-so/{code}/bo-sung"' in tracking

    page = client.get(f"/ho-so/{code}/bo-sung").get_data(as_text=True)
    assert "Hồ sơ thiếu giấy tờ" in page  # the reason as staff wrote it
    assert "Giấy chứng sinh bản chính" in page and "Bản sao CCCD của người đi khai" in page
    assert f'action="/ho-so/{code}/bo-sung"' in page and 'enctype="multipart/form-data"' in page
    # no component named: every component of the spec may be sent, and another document
    assert 'name="attachment.giay_chung_sinh"' in page and 'name="attachment.van_ban_lam_chung"' in page
    assert 'name="attachment.giay_to_bo_sung_khac"' in page
    assert 'name="csrf_token"' in page

    proof = small_pdf()
    response = client.post(f"/ho-so/{code}/bo-sung", data={
        "csrf_token": csrf(page),
        "note": "Xin gửi giấy chứng sinh bản chính",
        "attachment.giay_chung_sinh": (io.BytesIO(proof), "giay-chung-sinh.pdf"),
        "attachment.giay_to_bo_sung_khac": (io.BytesIO(small_pdf("CCCD")), "../../home/an/cccd.pdf"),
    }, content_type="multipart/form-data")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/ho-so/{code}")

    dossier = store_of(app).dossiers.get(code)
    assert dossier.status == Status.RECEIVED  # back where it was before the request
    supplied = [e for e in dossier.events if e.kind == "supplemented"][0]
    assert supplied.actor == "citizen" and supplied.note == "Xin gửi giấy chứng sinh bản chính"
    assert [a.filename for a in dossier.attachments][-2:] == ["giay-chung-sinh.pdf", "cccd.pdf"]  # a name, never a path
    assert supplied.data["attachments"] == [a.file_id for a in dossier.attachments[-2:]]
    assert supplied.data["files"] == [
        {"index": len(dossier.attachments) - 2, "component": "giay_chung_sinh", "filename": "giay-chung-sinh.pdf"},
        {"index": len(dossier.attachments) - 1, "component": "giay_to_bo_sung_khac", "filename": "cccd.pdf"},
    ]
    resumed = [e for e in dossier.events if e.kind == "clock_resumed"][0]
    cal = app.extensions["motcua"].engine.calendar
    paused = cal.working_days_between(date(2024, 12, 2), lifecycle.vn_today())
    assert paused > 0 and resumed.data["paused_working_days"] == paused
    assert dossier.due_date == cal.add_working_days(date(2099, 1, 5), paused)
    assert f'href="/ho-so/{code}/bo-sung"' not in client.get(f"/ho-so/{code}").get_data(as_text=True)  # done

    # staff see the new files, downloadable, in their view of the dossier
    staff = staff_client(app, dossier.agency_code)
    office = staff.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert "Hồ sơ bổ sung của công dân" in office and "Giấy tờ bổ sung khác" in office
    assert "giay_to_bo_sung_khac" not in office  # the extra document by its name, never its id
    index = len(dossier.attachments) - 2
    assert f'href="/staff/ho-so/{code}/tep/{index}"' in office
    download = staff.get(f"/staff/ho-so/{code}/tep/{index}")
    assert download.status_code == 200 and download.data == proof


def test_supplement_needs_the_second_factor_and_csrf(app, client):
    code = asked(app)
    other = app.test_client()  # never passed the factor
    token = csrf(other.get("/tra-cuu").get_data(as_text=True))
    assert other.get(f"/ho-so/{code}/bo-sung").status_code == 404
    assert other.post(f"/ho-so/{code}/bo-sung", data={"csrf_token": token, "note": "x"}).status_code == 404
    lookup(client, code, PHONE)
    assert client.post(f"/ho-so/{code}/bo-sung", data={"note": "x"}).status_code == 400  # no CSRF token
    assert store_of(app).dossiers.get(code).status == Status.SUPPLEMENT_REQUESTED


def test_a_bad_file_is_refused_and_the_note_kept(app, client):
    code = asked(app)
    lookup(client, code, PHONE)
    page = client.get(f"/ho-so/{code}/bo-sung").get_data(as_text=True)
    files_before = set(store_of(app).files.ids())
    response = client.post(f"/ho-so/{code}/bo-sung", data={
        "csrf_token": csrf(page),
        "note": "Ghi chú của tôi",
        "attachment.giay_chung_sinh": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "virus.pdf"),
        "attachment.van_ban_lam_chung": (io.BytesIO(small_pdf("ok")), "ok.pdf"),  # good, but not stored alone
    }, content_type="multipart/form-data")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "không đúng loại cho phép" in html
    assert "Ghi chú của tôi</textarea>" in html
    assert re.search(r'id="f-attachment-giay_chung_sinh-error"', html)
    assert set(store_of(app).files.ids()) == files_before
    assert store_of(app).dossiers.get(code).status == Status.SUPPLEMENT_REQUESTED
    empty = client.post(f"/ho-so/{code}/bo-sung", data={"csrf_token": csrf(page)})
    assert empty.status_code == 400 and "Hãy đính kèm giấy tờ" in empty.get_data(as_text=True)


def test_what_was_asked_is_shown_escaped(app, client):
    code = asked(app, reason="Thiếu <script>alert(1)</script> giấy tờ", missing="<b>Bản sao</b> CCCD")
    lookup(client, code, PHONE)
    for url in (f"/ho-so/{code}", f"/ho-so/{code}/bo-sung"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<b>Bản sao</b>" not in html and "&lt;b&gt;Bản sao&lt;/b&gt; CCCD" in html


def test_a_named_component_is_asked_for_alone_and_required(app, client):
    code = asked(app, components=["giay_chung_sinh"])
    assert store_of(app).dossiers.get(code).events[-1].data["components"] == ["giay_chung_sinh"]
    lookup(client, code, PHONE)
    page = client.get(f"/ho-so/{code}/bo-sung").get_data(as_text=True)
    assert "Giấy tờ được yêu cầu" in page
    assert 'name="attachment.giay_chung_sinh"' in page and 'name="attachment.van_ban_lam_chung"' not in page
    assert 'name="attachment.giay_to_bo_sung_khac"' in page
    # a note alone does not answer a request for a named paper
    response = client.post(f"/ho-so/{code}/bo-sung", data={"csrf_token": csrf(page), "note": "Tôi đã nộp rồi"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'id="f-attachment-giay_chung_sinh-error"[^>]*>.*Hãy đính kèm', html, re.S)
    assert "Tôi đã nộp rồi</textarea>" in html
    ok = client.post(f"/ho-so/{code}/bo-sung", data={
        "csrf_token": csrf(page), "attachment.giay_chung_sinh": (io.BytesIO(small_pdf()), "gcs.pdf"),
    }, content_type="multipart/form-data")
    assert ok.status_code == 303
    assert store_of(app).dossiers.get(code).status == Status.RECEIVED


def test_named_answers_are_corrected_validated_and_recorded_with_old_values(app, client):
    code = asked(app, fields=["requester", "child"])
    before = store_of(app).dossiers.get(code)
    lookup(client, code, PHONE)
    page = client.get(f"/ho-so/{code}/bo-sung").get_data(as_text=True)
    assert "Sửa thông tin tờ khai" in page
    # the named fields, filled with the filed answers; the others are not on the page
    assert re.search(r'name="requester.full_name"[^>]*value="Nguyễn Văn An"', page) or \
        re.search(r'value="Nguyễn Văn An"[^>]*name="requester.full_name"', page)
    assert 'name="child.full_name"' in page and 'name="mother.full_name"' not in page

    fields = {**GOOD_ANSWERS["requester"], **{k: v for k, v in GOOD_ANSWERS["child"].items() if k.startswith("child.")}}
    bad = {**fields, "requester.phone": "09123", "child.full_name": "Nguyễn Minh Khôi", "csrf_token": csrf(page),
           "note": "Sửa tên cháu"}
    response = client.post(f"/ho-so/{code}/bo-sung", data=bad)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Số điện thoại di động không hợp lệ" in html and 'id="f-requester-phone-error"' in html
    assert 'value="09123"' in html and 'value="Nguyễn Minh Khôi"' in html and "Sửa tên cháu</textarea>" in html
    assert store_of(app).dossiers.get(code).data == before.data

    good = {**bad, "requester.phone": "0987654321"}
    assert client.post(f"/ho-so/{code}/bo-sung", data=good).status_code == 303
    after = store_of(app).dossiers.get(code)
    assert after.status == Status.RECEIVED
    assert after.data["child"]["full_name"] == "Nguyễn Minh Khôi" and after.data["requester"]["phone"] == "0987654321"
    assert after.data["mother"] == before.data["mother"]  # not asked: kept
    assert after.contact.phone == "0987654321"  # messages go to the corrected number
    event = [e for e in after.events if e.kind == "supplemented"][0]
    assert event.data["changes"]["child"] == {"old": before.data["child"], "new": after.data["child"]}
    assert event.data["changes"]["requester"]["old"]["phone"] == "0912345678"
    assert set(event.data["changes"]) == {"requester", "child"}
    assert event.data["contact"]["old"]["phone"] == "0912345678"

    office = staff_client(app, after.agency_code).get(f"/staff/ho-so/{code}").get_data(as_text=True)
    rows = re.findall(r"<tr data-changed>(.*?)</tr>", office, re.S)
    child = next(r for r in rows if "Nguyễn Minh Khôi" in r)
    assert re.search(r"<del>[^<]*Nguyễn Minh Khang[^<]*</del>", child)
    assert re.search(r"<ins>[^<]*Nguyễn Minh Khôi[^<]*</ins>", child)


def test_a_dossier_not_awaiting_a_supplement_refuses(app, client):
    code = asked(app)
    lookup(client, code, PHONE)
    page = client.get(f"/ho-so/{code}/bo-sung").get_data(as_text=True)
    assert client.post(f"/ho-so/{code}/bo-sung", data={"csrf_token": csrf(page), "note": "Lần một"}).status_code == 303
    again = client.post(f"/ho-so/{code}/bo-sung", data={
        "csrf_token": csrf(page), "note": "Lần hai",
        "attachment.giay_chung_sinh": (io.BytesIO(small_pdf("hai")), "hai.pdf"),
    }, content_type="multipart/form-data")
    assert again.status_code == 409
    assert "Hồ sơ này hiện không cần bổ sung" in again.get_data(as_text=True)
    dossier = store_of(app).dossiers.get(code)
    assert [e.note for e in dossier.events if e.kind == "supplemented"] == ["Lần một"]
    assert "hai.pdf" not in [a.filename for a in dossier.attachments]
    shown = client.get(f"/ho-so/{code}/bo-sung").get_data(as_text=True)
    assert "Hồ sơ này hiện không cần bổ sung" in shown and 'name="note"' not in shown


def test_staff_name_components_and_answers_in_the_back_office(app, client):
    spec = make_spec(REVIEW_ONLY)
    code = file_dossier(app, spec, due=date(2099, 1, 5))
    store_of(app).dossiers.update(code, lambda d: setattr(d, "data", valid_answers(spec)))
    app.extensions["motcua"].engine.perform(code, "receive", DESK)
    staff = staff_client(app, AGENCY)
    office = staff.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert 'type="checkbox" id="request_supplement-components-giay_chung_sinh" name="components" value="giay_chung_sinh"' in office
    assert 'name="fields" value="requester"' in office
    response = staff.post(f"/staff/ho-so/{code}/xu-ly", data=MultiDict([
        ("csrf_token", csrf(office)), ("action", "request_supplement"), ("reason", "Thiếu giấy chứng sinh"),
        ("missing", "Giấy chứng sinh bản chính"), ("components", "giay_chung_sinh"), ("components", "khong_co"),
        ("fields", "child"), ("fields", "requester"),
    ]))
    assert response.status_code == 302
    event = store_of(app).dossiers.get(code).events[-1]
    assert event.kind == "supplement_requested"
    assert event.data["components"] == ["giay_chung_sinh"]  # what the spec does not know is dropped
    assert event.data["fields"] == ["requester", "child"]  # in the form's order
    lookup(client, code, PHONE)
    page = client.get(f"/ho-so/{code}/bo-sung").get_data(as_text=True)
    assert 'name="attachment.van_ban_lam_chung"' not in page and 'name="child.full_name"' in page


def test_the_supplement_page_reads_in_english(app, client):
    code = asked(app, components=["giay_chung_sinh"])
    lookup(client, code, PHONE)
    html = client.get(f"/ho-so/{code}/bo-sung?lang=en").get_data(as_text=True)
    assert "Send the supplement" in html and "Documents asked for" in html and "Gửi hồ sơ bổ sung" not in html
    response = client.post(f"/ho-so/{code}/bo-sung", data={"csrf_token": csrf(html), "note": "x"})
    assert response.status_code == 400 and "Attach " in response.get_data(as_text=True)


# --- a procedure whose asked answers hang on an answer not on the supplement page ----------

MARITAL = "procedure_specs/ho-tich/cap-giay-xac-nhan-tinh-trang-hon-nhan.yaml"
SPOUSE = {"full_name": "Lê Thị Hoa", "birth_year": 1992, "nationality": "Việt Nam", "marriage_place": "UBND phường Hồng Bàng"}


def marital_spec():
    import yaml

    from motcua.spec.model import ProcedureSpec
    from tests.fixtures.workflow_kit import AGENCY, REPO

    data = yaml.safe_load((REPO / MARITAL).read_text(encoding="utf-8"))
    data["steps"] = REVIEW_ONLY
    data["version"] = "wf-test"
    return ProcedureSpec.model_validate(data)


def asked_marital(app, **request) -> str:
    """A filed marital status request (to marry Lê Thị Hoa), received, then asked for a supplement."""
    from motcua import submission

    spec = marital_spec()
    answers = {
        "requester": {"full_name": "Nguyễn Văn An", "birth_date": "1990-05-20", "sex": "nam", "ethnicity": "Kinh",
                      "nationality": "Việt Nam", "cccd": "031095001234", "residence": "12 Lý Thường Kiệt, Hải Phòng",
                      "phone": PHONE},
        "marital_status": "chua_ket_hon", "purpose": "ket_hon", "intended_spouse": dict(SPOUSE),
    }
    assert submission.validate(spec, answers) == {}
    code = file_dossier(app, spec, due=date(2099, 1, 5))
    store_of(app).dossiers.update(code, lambda d: setattr(d, "data", answers))
    app.extensions["motcua"].engine.perform(code, "receive", DESK)
    app.extensions["motcua"].engine.perform(code, "request_supplement", DESK, reason="Sai năm sinh", missing="Năm sinh của người dự định kết hôn", **request)
    return code


def test_staff_see_each_changed_leaf_with_labels_and_display_formats(app, client):
    code = asked_marital(app, fields=["requester", "intended_spouse"])
    lookup(client, code, PHONE)
    page = client.get(f"/ho-so/{code}/bo-sung").get_data(as_text=True)
    # what the asked answers' conditions read, carried for the page's script, never posted
    assert re.search(r'<input type="hidden" name="purpose" value="ket_hon" disabled', page)
    form = {
        "csrf_token": csrf(page),
        "requester.full_name": "Nguyễn Văn An", "requester.birth_date": "21/05/1990", "requester.sex": "nam",
        "requester.ethnicity": "Kinh", "requester.nationality": "Việt Nam", "requester.cccd": "031095001234",
        "requester.residence": "12 Lý Thường Kiệt, Hải Phòng", "requester.phone": PHONE,
        **{f"intended_spouse.{k}": str(v) for k, v in SPOUSE.items()}, "intended_spouse.birth_year": "1993",
    }
    assert client.post(f"/ho-so/{code}/bo-sung", data=form).status_code == 303
    after = store_of(app).dossiers.get(code)
    assert after.data["intended_spouse"]["birth_year"] == 1993 and after.data["purpose"] == "ket_hon"

    office = staff_client(app, after.agency_code).get(f"/staff/ho-so/{code}").get_data(as_text=True)
    rows = re.findall(r"<tr data-changed>(.*?)</tr>", office, re.S)
    cells = [re.sub(r"<[^>]+>", "|", r) for r in rows]
    cells = [[c.strip() for c in r.split("|") if c.strip()] for r in cells]
    assert cells == [
        ["Người yêu cầu xác nhận › Ngày, tháng, năm sinh", "20/05/1990", "21/05/1990"],
        ["Người dự định kết hôn › Năm sinh", "1992", "1993"],
    ]
    assert "{&#39;" not in office and "{'" not in office


def test_a_supplied_file_is_marked_beside_the_filed_one(app, client):
    code = asked(app, components=["giay_chung_sinh"])
    store = store_of(app)
    from motcua.dossier import AttachmentRef

    original = small_pdf("goc")
    file_id = store.files.put(original)
    store.dossiers.update(code, lambda d: d.attachments.append(AttachmentRef(
        component="giay_chung_sinh", file_id=file_id, filename="giay-chung-sinh.pdf", content_type="application/pdf",
        size=len(original), sha256="0" * 64)))
    lookup(client, code, PHONE)
    page = client.get(f"/ho-so/{code}/bo-sung").get_data(as_text=True)
    assert client.post(f"/ho-so/{code}/bo-sung", data={
        "csrf_token": csrf(page), "attachment.giay_chung_sinh": (io.BytesIO(small_pdf()), "giay-chung-sinh.pdf"),
    }, content_type="multipart/form-data").status_code == 303
    dossier = store.dossiers.get(code)
    office = staff_client(app, dossier.agency_code).get(f"/staff/ho-so/{code}").get_data(as_text=True)
    table = office.split('id="h-files"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S)
    assert len(rows) == 2
    day = lifecycle.vn_today().strftime("%d/%m/%Y")
    assert "bổ sung" not in rows[0]
    assert f"bổ sung {day}" in rows[1]


def test_supplement_page_wording_for_the_extra_and_the_requested_components(app, client):
    code = asked_marital(app, components=["to_khai"])
    lookup(client, code, PHONE)
    page = client.get(f"/ho-so/{code}/bo-sung").get_data(as_text=True)
    extra = re.search(r'id="f-attachment-giay_to_bo_sung_khac-hint">([^<]*)<', page).group(1)
    asked_hint = re.search(r'id="f-attachment-to_khai-hint">([^<]*)<', page).group(1)
    assert "Bản chính" not in extra and "bản sao" not in extra and "Định dạng" in extra
    assert "Không cần nộp khi khai trực tuyến" not in asked_hint and "Bản chính: 1" in asked_hint
    assert "Không cần nộp khi khai trực tuyến" not in page
