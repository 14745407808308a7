"""A new procedure in the authoring studio ("Tạo thủ tục mới"), through a real app (Flask test
client): from a record pasted from the national procedure database or from the blank
template, a draft that then goes through the same edit, lint, review and publish; refused
for a code that exists and for a record without a code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from motcua import studio
from motcua.filing import file_dossier

from test_backoffice import csrf_of
from test_national_import import FORM
from test_studio import client_of, specs, studio_app  # noqa: F401 (fixtures)

RECORD = (Path(__file__).parent / "fixtures" / "national" / "dang-ky-ket-hon.txt").read_text(encoding="utf-8")
CODE = "1.000894"


def resolved(text: str) -> str:
    """The text with its TODO notes removed, as an author does once each part is written."""
    lines = [re.sub(r"\s+# TODO.*$", "", line) for line in text.splitlines() if not line.lstrip().startswith("# TODO")]
    return "\n".join(lines) + "\n"


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
    # with the form written but the import's TODO notes left, it is refused too, each note listed
    notes = studio.todo_notes(draft["text"] + FORM)
    assert len(notes) == 5
    refused = author.post(f"/staff/soan-thao/{CODE}/gui-duyet", data={"text": draft["text"] + FORM, "csrf_token": csrf},
                          follow_redirects=True).get_data(as_text=True)
    assert "Bản thảo còn 5 chỗ cần viết (ghi chú # TODO)" in refused
    assert all(f"Dòng {line}: " in refused for line, _ in notes)
    assert studio.record(store, CODE)["draft"]["state"] == "draft"
    # the author resolves the notes (removes them) and submits
    done = author.post(f"/staff/soan-thao/{CODE}/gui-duyet", data={"text": resolved(draft["text"] + FORM), "csrf_token": csrf}, follow_redirects=True)
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
    assert "Đã tạo bản thảo 1.999123 từ mẫu trống." in page
    # no lint error, but each placeholder is listed as a warning at its line
    notes = studio.todo_notes(text)
    assert [line for line, _ in notes] == [n for n, line in enumerate(text.splitlines(), 1) if "# TODO" in line]
    assert {"lĩnh vực của thủ tục", "kết quả thực hiện", "căn cứ pháp lý"} <= {note for _, note in notes}
    assert page.count('class="lint-warning"') == len(notes) and "Chỗ cần viết (ghi chú # TODO): lĩnh vực của thủ tục" in page


PLACEHOLDERS = ("sector: Lĩnh vực", "result: Kết quả thực hiện", "00/2025/QH15")


@pytest.mark.parametrize("backend", ["tinydb", "postgresql"], indirect=True)
def test_the_blank_templates_placeholders_block_review_and_approval(studio_app):
    """The walkthrough's bug: 1.099001 from the blank template, submitted and approved as it
    was, showed "Lĩnh vực" and "00/2025/QH15 – Văn bản căn cứ" to citizens."""
    app = studio_app
    store = app.extensions["motcua"].store
    author = client_of(app, "soan")
    assert create(author, source="blank", code="1.099001", name="Cấp giấy phép thử").status_code == 302
    text = studio.record(store, "1.099001")["draft"]["text"]
    assert all(p in text for p in PLACEHOLDERS)
    page = author.get("/staff/soan-thao/1.099001").get_data(as_text=True)
    refused = author.post("/staff/soan-thao/1.099001/gui-duyet", data={"text": text, "csrf_token": csrf_of(page)},
                          follow_redirects=True).get_data(as_text=True)
    sector_line = next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith("sector:"))
    assert "Bản thảo còn 6 chỗ cần viết (ghi chú # TODO)" in refused
    assert f"Dòng {sector_line}: lĩnh vực của thủ tục" in refused
    assert 'class="notice notice-error studio-not-ready"' in refused  # the editor clears it once ready
    assert studio.record(store, "1.099001")["draft"]["state"] == "draft"

    # a draft that reached review with its notes (submitted before this check) is not approved
    studio.save_draft(store, "1.099001", text, "soan")
    store.records(studio.PROCEDURES).update("1.099001", lambda cur: {**cur, "draft": {
        **cur["draft"], "state": "review", "submitted_by": "soan",
        "hash": studio.content_hash(studio.lint_text(text).spec)}})
    reviewer = client_of(app, "quantri")
    page = reviewer.get("/staff/soan-thao/1.099001").get_data(as_text=True)
    approved = reviewer.post("/staff/soan-thao/1.099001/duyet", data={"csrf_token": csrf_of(page)},
                             follow_redirects=True).get_data(as_text=True)
    assert "chỗ cần viết (ghi chú # TODO)" in approved and app.extensions["motcua"].catalogue.get("1.099001") is None
    page = author.get("/staff/soan-thao/1.099001").get_data(as_text=True)
    assert author.post("/staff/soan-thao/1.099001/rut-lai", data={"csrf_token": csrf_of(page)}).status_code == 302

    # written: the placeholders replaced and the notes removed, it goes through
    written = resolved(text.replace("sector: Lĩnh vực", "sector: Hộ tịch")
                       .replace("result: Kết quả thực hiện", "result: Giấy phép thử")
                       .replace("{number: 00/2025/QH15, title: Văn bản căn cứ}", "{number: 60/2014/QH13, title: Luật Hộ tịch}"))
    done = author.post("/staff/soan-thao/1.099001/gui-duyet", data={"text": written, "csrf_token": csrf_of(page)},
                       follow_redirects=True).get_data(as_text=True)
    assert "Đã gửi duyệt" in done
    page = reviewer.get("/staff/soan-thao/1.099001").get_data(as_text=True)
    reviewer.post("/staff/soan-thao/1.099001/duyet", data={"csrf_token": csrf_of(page)})
    public = app.test_client().get("/thu-tuc/1.099001").get_data(as_text=True)
    assert "Hộ tịch" in public and "60/2014/QH13" in public and "Giấy phép thử" in public
    assert "00/2025/QH15" not in public and "Văn bản căn cứ" not in public


def test_list_and_editor_name_a_new_draft_and_say_where_it_comes_from(studio_app):
    author = client_of(studio_app, "soan")
    create(author, source="blank", code="1.099002", name="Cấp giấy phép thử")
    listing = author.get("/staff/soan-thao/").get_data(as_text=True)
    row = re.search(r'<tr data-code="1.099002">(.*?)</tr>', listing, re.S).group(1)
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert cells[1] == "Cấp giấy phép thử" and cells[3] == "xưởng soạn thảo" and "Bản thảo" in cells[4]
    folder_row = re.search(r'<tr data-code="1.999001">(.*?)</tr>', listing, re.S).group(1)
    folder_cells = re.findall(r"<td>(.*?)</td>", folder_row, re.S)
    assert folder_cells[3] == "thư mục" and folder_cells[5] == "2026.1 (thư mục)"  # the folder's version is listed
    page = author.get("/staff/soan-thao/1.099002").get_data(as_text=True)
    assert "<h1>1.099002 – Cấp giấy phép thử</h1>" in page
    english = author.get("/staff/soan-thao/?lang=en").get_data(as_text=True)
    assert "2026.1 (folder)" in english and "studio" in re.search(r'<tr data-code="1.099002">(.*?)</tr>', english, re.S).group(1)


def test_preview_says_why_it_is_empty_in_each_language(studio_app):
    author = client_of(studio_app, "soan")
    create(author, source="national", record=RECORD)  # an import: no form yet, so a lint error
    page = author.get(f"/staff/soan-thao/{CODE}").get_data(as_text=True)
    vi = re.search(r'id="preview-vi-notice">(.*?)</p>', page, re.S).group(1)
    en = re.search(r'id="preview-en-notice">(.*?)</p>', page, re.S).group(1)
    assert vi.startswith("Bản thảo còn lỗi nên chưa xem trước được: dòng ") and "nên cần có `form`" in vi.replace("&#96;", "`")
    assert en.startswith("The draft has errors, so it cannot be previewed yet: line ") and "so it needs a `form`" in en.replace("&#96;", "`")
    # the English column's headings are English, the Vietnamese column's Vietnamese
    assert re.search(r'<section class="studio-lang" lang="en">.*?<summary>Fees and charges</summary>.*?<summary>Forms</summary>.*?<summary>Procedure page</summary>', page, re.S)
    assert re.search(r'<section class="studio-lang" lang="vi">.*?<summary>Phí, lệ phí</summary>', page, re.S)
    shown = author.post(f"/staff/soan-thao/{CODE}/xem-truoc", json={"text": studio.record(studio_app.extensions["motcua"].store, CODE)["draft"]["text"]},
                        headers={"X-CSRFToken": csrf_of(page)}).get_json()
    assert not shown["ok"] and not shown["ready"]
    assert shown["notice"]["vi"].startswith("Bản thảo còn lỗi") and shown["notice"]["en"].startswith("The draft has errors")
    # a valid spec without a form: the form part says so
    without_form = (resolved(studio.blank_text("1.099003", "Thử", "2026.1")).replace("level: partial", "level: 1")
                    .replace("channels: [{kind: online}, {kind: desk}]", "channels: [{kind: desk}]"))
    without_form = without_form[:without_form.index("form:\n")] + without_form[without_form.index("steps:\n  - review"):]
    shown = author.post(f"/staff/soan-thao/{CODE}/xem-truoc", json={"text": without_form},
                        headers={"X-CSRFToken": csrf_of(page)}).get_json()
    assert shown["ok"], shown["findings"]
    assert "Thủ tục chưa có biểu mẫu" in shown["vi"]["form"] and "no form" in shown["en"]["form"]


def test_retiring_is_not_offered_for_a_draft_never_published(studio_app):
    admin = client_of(studio_app, "quantri")
    create(admin, source="blank", code="1.099004", name="Thử")
    page = admin.get("/staff/soan-thao/1.099004").get_data(as_text=True)
    assert "Ngừng áp dụng thủ tục" not in page
    refused = admin.post("/staff/soan-thao/1.099004/ngung", data={"retired": "1", "csrf_token": csrf_of(page)},
                         follow_redirects=True).get_data(as_text=True)
    assert "chưa được công bố nên không có gì để ngừng áp dụng" in refused
    assert not studio.record(studio_app.extensions["motcua"].store, "1.099004").get("retired")
    assert "Ngừng áp dụng thủ tục" in admin.get("/staff/soan-thao/1.999001").get_data(as_text=True)  # the folder's is served


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
