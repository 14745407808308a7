"""A new procedure in the authoring studio ("Tạo thủ tục mới"), through a real app (Flask test
client): from a record pasted from the national procedure database or from the blank
template, a draft that then goes through the same edit, lint, review and publish; refused
for a code that exists and for a record without a code."""

from __future__ import annotations

from pathlib import Path

import pytest

from motcua import studio
from motcua.filing import file_dossier

from test_backoffice import csrf_of
from test_national_import import FORM
from test_studio import cheap_hashes, client_of, specs, studio_app  # noqa: F401 (fixtures)

RECORD = (Path(__file__).parent / "fixtures" / "national" / "dang-ky-ket-hon.txt").read_text(encoding="utf-8")
CODE = "1.000894"


def create(client, **form):
    csrf = csrf_of(client.get("/staff/soan-thao/moi").get_data(as_text=True))
    return client.post("/staff/soan-thao/moi", data={**form, "csrf_token": csrf})


@pytest.mark.parametrize("backend", ["tinydb", "postgresql"], indirect=True)
def test_author_imports_a_national_record_edits_submits_and_another_admin_publishes(studio_app):
    app = studio_app
    store = app.extensions["motcua"].store
    author = client_of(app, "soan")
    listing = author.get("/staff/soan-thao/").get_data(as_text=True)
    assert 'href="/staff/soan-thao/moi"' in listing and "Tạo thủ tục mới" in listing

    response = create(author, source="national", record=RECORD)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/staff/soan-thao/{CODE}")
    draft = studio.record(store, CODE)["draft"]
    assert draft["state"] == "draft" and draft["author"] == "soan"
    assert f'code: \'{CODE}\'' in draft["text"] and f"version: '{studio.first_version()}'" in draft["text"]
    assert "# TODO (dòng 24): thành phần hồ sơ theo trường hợp" in draft["text"]

    page = author.get(f"/staff/soan-thao/{CODE}").get_data(as_text=True)
    assert "Đã tạo bản thảo 1.000894 từ Cơ sở dữ liệu quốc gia. Còn phải viết biểu mẫu (form); 5 điểm cần xem lại" in page
    assert "Bản thảo" in page and "Luật Hôn nhân và gia đình" in page  # the imported text in the editor
    assert "Thủ tục mới: chưa có phiên bản nào được công bố." in author.get(f"/staff/soan-thao/{CODE}/lich-su").get_data(as_text=True)
    assert "nên cần có `form`" in page  # the linter says what is missing (in the studio's language)
    assert app.extensions["motcua"].catalogue.get(CODE) is None  # nothing served before approval

    # submitting without a form is refused by the linter, like any draft with errors
    csrf = csrf_of(page)
    refused = author.post(f"/staff/soan-thao/{CODE}/gui-duyet", data={"text": draft["text"], "csrf_token": csrf}, follow_redirects=True)
    assert "Bản thảo còn lỗi" in refused.get_data(as_text=True)
    # the author writes the form and submits
    done = author.post(f"/staff/soan-thao/{CODE}/gui-duyet", data={"text": draft["text"] + FORM, "csrf_token": csrf}, follow_redirects=True)
    assert "Đã gửi duyệt" in done.get_data(as_text=True)
    assert studio.record(store, CODE)["draft"]["state"] == "review"

    reviewer = client_of(app, "quantri")
    page = reviewer.get(f"/staff/soan-thao/{CODE}").get_data(as_text=True)
    approved = reviewer.post(f"/staff/soan-thao/{CODE}/duyet", data={"csrf_token": csrf_of(page)}, follow_redirects=True)
    assert "Đã duyệt và công bố phiên bản mới." in approved.get_data(as_text=True)
    rec = studio.record(store, CODE)
    assert rec["published"] == f"{CODE}@{studio.first_version()}"
    assert [e["action"] for e in rec["history"]] == ["publish"]  # a new procedure: no folder version before it

    served = app.extensions["motcua"].catalogue.get(CODE)
    assert served is not None and served.info.presence_required and int(served.level) == 3
    public = app.test_client().get(f"/thu-tuc/{CODE}").get_data(as_text=True)
    assert "Đăng ký kết hôn" in public and "52/2014/QH13" in public and "Giấy chứng nhận kết hôn" in public
    office = app.extensions["motcua"].catalogue.performers(served)[0]  # every commune People's Committee
    with app.test_request_context():
        dossier = file_dossier(served, {"requester": {"full_name": "Nguyễn Thị Hoa", "phone": "0912345678"}}, [],
                               channel="online", delivery=None, actor="citizen", agency=office.code)
    assert dossier.spec_version == studio.first_version() and dossier.code.startswith(office.code)


def test_blank_template_makes_a_draft_that_lints_clean(studio_app):
    store = studio_app.extensions["motcua"].store
    author = client_of(studio_app, "soan")
    response = create(author, source="blank", code="1.999123", name="Cấp giấy xác nhận: thử")
    assert response.status_code == 302
    text = studio.record(store, "1.999123")["draft"]["text"]
    assert 'name: "Cấp giấy xác nhận: thử"' in text  # quoted: a colon in the name stays text
    linted = studio.lint_text(text, agencies=studio_app.extensions["motcua"].catalogue.agencies)
    assert linted.ok and linted.spec is not None and linted.spec.code == "1.999123"
    page = author.get("/staff/soan-thao/1.999123").get_data(as_text=True)
    assert "Đã tạo bản thảo 1.999123 từ mẫu trống." in page and "Không có lỗi." in page


def test_creating_is_refused_for_a_taken_code_a_bad_code_and_a_record_without_code(studio_app):
    store = studio_app.extensions["motcua"].store
    author = client_of(studio_app, "soan")
    taken = create(author, source="blank", code="1.999001", name="x")  # the folder's procedure
    assert taken.status_code == 400 and "Thủ tục 1.999001 đã có" in taken.get_data(as_text=True)
    assert studio.record(store, "1.999001") == {}
    bad = create(author, source="blank", code="1999", name="x")
    assert bad.status_code == 400 and "Mã thủ tục «1999» không đúng dạng, ví dụ: 1.001193." in bad.get_data(as_text=True)
    assert create(author, source="national", record=RECORD).status_code == 302
    again = create(author, source="national", record=RECORD)
    assert again.status_code == 400 and f"Thủ tục {CODE} đã có" in again.get_data(as_text=True)
    nocode = create(author, source="national", record="Tên thủ tục: Cấp giấy xác nhận\nLĩnh vực: Tư pháp")
    body = nocode.get_data(as_text=True)
    assert nocode.status_code == 400 and "Không tìm thấy mã thủ tục" in body
    assert "Cấp giấy xác nhận" in body  # the pasted text is kept
    # a desk officer may not create procedures; a post without the CSRF token is refused
    assert client_of(studio_app, "motcua").get("/staff/soan-thao/moi").status_code == 403
    assert author.post("/staff/soan-thao/moi", data={"source": "blank", "code": "1.999124"}).status_code == 400
    assert studio.record(store, "1.999124") == {}


def test_english_page(studio_app):
    author = client_of(studio_app, "soan")
    page = author.get("/staff/soan-thao/moi?lang=en").get_data(as_text=True)
    assert "Create a new procedure" in page and "Import from the National Database of Administrative Procedures" in page
