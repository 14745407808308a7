"""Citizens rate returned dossiers and send feedback; staff answer; the citizen reads it."""

from __future__ import annotations

import re

import pytest

from motcua import accounts, feedback
from stats_fixtures import AGENCY_A, AGENCY_B, PHONE, dossiers

PASSWORD = "mat-khau-rat-dai-2025"


@pytest.fixture
def stored(app):
    items = dossiers()
    app.extensions["motcua"].store.dossiers.add_many(items.values())
    return items


def csrf(client, url):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)


def login(app, client, username, agencies):
    accounts.create_account(app.extensions["motcua"].store, username, "Trần Thị " + username, ["desk"], agencies, PASSWORD)
    client.post("/staff/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf(client, "/staff/login")})


def test_rating_form_end_to_end(client, stored):
    code = stored["A1"].code
    token = csrf(client, f"/danh-gia?code={code}")
    bad = client.post("/danh-gia", data={"csrf_token": token, "code": code, "factor": "0987654321", "score": "5", "comment": "Tốt"})
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert "Mã hồ sơ hoặc số điện thoại/CCCD không đúng." in page
    assert "Tốt</textarea>" in page and f'value="{code}"' in page  # nothing typed is lost
    ok = client.post("/danh-gia", data={"csrf_token": token, "code": code, "factor": PHONE, "score": "5"})
    assert ok.status_code == 200 and "Cảm ơn bạn đã đánh giá" in ok.get_data(as_text=True)
    again = client.post("/danh-gia", data={"csrf_token": token, "code": code, "factor": PHONE, "score": "1"})
    assert again.status_code == 400 and "một lần" in again.get_data(as_text=True)
    stats = client.get(f"/api/v1/stats?agency={AGENCY_A}").get_json()  # rated today: this year
    assert stats["satisfaction"]["count"] == 1 and stats["satisfaction"]["distribution"]["5"] == 1


def test_rating_needs_csrf(client, stored):
    response = client.post("/danh-gia", data={"code": stored["A1"].code, "factor": PHONE, "score": "5"})
    assert response.status_code == 400
    assert feedback.rating_of(client.application.extensions["motcua"].store, stored["A1"].code) is None


def test_feedback_answer_and_private_link(app, client, stored):
    token = csrf(client, "/phan-anh")
    invalid = client.post("/phan-anh", data={"csrf_token": token, "kind": "phan_anh", "name": "Lê Văn C", "phone": "12345",
                                             "content": "Hồ sơ <b>chậm</b>"})
    assert invalid.status_code == 400
    page = invalid.get_data(as_text=True)
    assert "Số điện thoại di động không đúng" in page and "Hồ sơ &lt;b&gt;chậm&lt;/b&gt;</textarea>" in page
    sent = client.post("/phan-anh", data={"csrf_token": token, "kind": "phan_anh", "name": "Lê Văn C", "phone": "0912 345 678",
                                          "content": "Hồ sơ <b>chậm</b> quá hạn", "dossier_code": stored["A9"].code})
    assert sent.status_code == 302
    private = sent.headers["Location"].split("?")[0]
    page = client.get(private).get_data(as_text=True)
    assert "Hồ sơ &lt;b&gt;chậm&lt;/b&gt; quá hạn" in page and "Chưa có trả lời." in page
    # A wrong token or id opens nothing.
    assert client.get(private[:-3] + "xyz").status_code == 404
    assert client.get("/phan-anh/0000000000000000/abc").status_code == 404
    feedback_id = private.split("/")[2]

    staff = app.test_client()
    assert staff.get("/staff/phan-anh").status_code == 302  # login first
    login(app, staff, "canbo-b", [AGENCY_B])
    assert "Lê Văn C" not in staff.get("/staff/phan-anh").get_data(as_text=True)  # about agency A's dossier
    assert staff.get(f"/staff/phan-anh/{feedback_id}").status_code == 404

    staff_a = app.test_client()
    login(app, staff_a, "canbo-a", [AGENCY_A])
    listing = staff_a.get("/staff/phan-anh").get_data(as_text=True)
    assert "Lê Văn C" in listing and "Chưa trả lời" in listing
    form_token = csrf(staff_a, f"/staff/phan-anh/{feedback_id}")
    empty = staff_a.post(f"/staff/phan-anh/{feedback_id}", data={"csrf_token": form_token, "answer": "  "})
    assert empty.status_code == 400 and "Hãy nhập nội dung trả lời." in empty.get_data(as_text=True)
    done = staff_a.post(f"/staff/phan-anh/{feedback_id}", data={"csrf_token": form_token, "answer": "Đã xử lý, xin lỗi ông."})
    assert done.status_code == 302
    stored_item = feedback.get(app.extensions["motcua"].store, feedback_id)
    assert stored_item.answers[0].by == "staff:canbo-a" and stored_item.answers[0].at is not None
    assert "Lê Văn C" in staff_a.get("/staff/phan-anh?show=answered").get_data(as_text=True)

    page = client.get(private).get_data(as_text=True)
    assert "Đã xử lý, xin lỗi ông." in page and "Trần Thị canbo-a" in page


def test_feedback_without_a_dossier_is_seen_by_admins_only(app, client, stored):
    store = app.extensions["motcua"].store
    item, token = feedback.submit(store, {"kind": "kien_nghi", "name": "Phạm D", "email": "d@example.vn", "content": "Nên mở thêm quầy."})
    assert item.agency_code is None and item.phone is None
    assert feedback.for_citizen(store, item.id, token).content == "Nên mở thêm quầy."
    assert feedback.for_citizen(store, item.id, token + "x") is None
    staff = accounts.create_account(store, "canbo-x", "X", ["desk"], [AGENCY_B], PASSWORD)
    assert feedback.for_staff(store, staff) == []  # name, phone, e-mail: not for every agency's staff
    with pytest.raises(PermissionError):
        feedback.answer(store, item.id, staff, "Cảm ơn")
    admin = accounts.create_account(store, "quantri", "Quản trị", ["admin"], [], PASSWORD)
    assert [f.id for f in feedback.for_staff(store, admin)] == [item.id]
    with pytest.raises(feedback.Invalid) as missing:
        feedback.submit(store, {"kind": "khac", "name": "", "content": ""})
    assert set(missing.value.errors) == {"kind", "name", "phone", "content"}


@pytest.mark.parametrize("email", ["ten..nguyen@example.vn", "abc@", "tên@example.vn"])
def test_feedback_email_is_checked_like_a_form_email(app, email):
    store = app.extensions["motcua"].store
    with pytest.raises(feedback.Invalid) as refused:
        feedback.submit(store, {"kind": "kien_nghi", "name": "Phạm D", "email": email, "content": "Nên mở thêm quầy."})
    assert "email" in refused.value.errors
