"""Filling the generated form, step by step, and filing a dossier — as a citizen's browser does.

Real app, real TinyDB folder, real renderers and engine; the test client posts what a
browser without JavaScript would.
"""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from conftest import BACKENDS

from motcua import units
from motcua.app import create_app
from tests.portal_helpers import BIRTH_CODE, GOOD_ANSWERS, RECENT_BIRTH, birth_spec, csrf, small_pdf, write_spec

FORM = f"/thu-tuc/{BIRTH_CODE}/nop"


def text(response) -> str:
    return response.get_data(as_text=True)


def summary_messages(html: str) -> list[str]:
    box = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    return re.findall(r"<a [^>]*>([^<]*)</a>", box.group(0)) if box else []


def start(client) -> tuple[str, str]:
    """Post the first page; returns (draft base URL, csrf token)."""
    token = csrf(text(client.get(FORM)))
    response = client.post(FORM, data={"csrf_token": token, **GOOD_ANSWERS["requester"]})
    assert response.status_code == 302, summary_messages(text(response))
    base = response.headers["Location"].rsplit("/", 1)[0]
    return base, token


def fill_to_check(client, delivery: dict | None = None) -> tuple[str, str]:
    base, token = start(client)
    for page in ("child", "parents", "copies"):
        response = client.post(f"{base}/{page}", data={"csrf_token": token, **GOOD_ANSWERS[page]})
        assert response.status_code == 302, summary_messages(text(response))
    response = client.post(
        f"{base}/dinh-kem",
        data={"csrf_token": token, "attachment.giay_chung_sinh": (io.BytesIO(small_pdf()), "giay chung sinh.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, summary_messages(text(response))
    delivery = delivery or {
        "delivery.kind": "postal",
        "delivery.address.province": "01",
        "delivery.address.commune": "Phường Ba Đình",
        "delivery.address.street": "Số 1 Hoàng Hoa Thám",
    }
    response = client.post(f"{base}/nhan-ket-qua", data={"csrf_token": token, **delivery})
    assert response.headers["Location"].endswith("/kiem-tra"), summary_messages(text(response))
    return base, token


def file_it(client, base: str, token: str) -> str:
    html = text(client.get(f"{base}/kiem-tra"))
    submit = re.search(r'name="submit_token" value="([^"]+)"', html).group(1)
    response = client.post(f"{base}/kiem-tra", data={"csrf_token": token, "submit_token": submit})
    assert response.status_code == 302
    return re.search(r"/ho-so/([^/]+)/xac-nhan", response.headers["Location"]).group(1)


def test_first_page_shows_progress_and_labelled_fields(client):
    html = text(client.get(FORM))
    assert "Bước 1/7" in html
    assert '<label for="f-requester-full_name"' in html or 'for="f-requester-full_name"' in html
    assert 'enctype="multipart/form-data"' in html and "novalidate" in html


def test_errors_in_vietnamese_next_to_fields_and_values_kept(client):
    token = csrf(text(client.get(FORM)))
    response = client.post(FORM, data={"csrf_token": token, "requester.full_name": "Nguyễn <script>alert(1)</script>",
                                       "requester.phone": "12345", "requester.cccd": "001090012345"})
    html = text(response)
    assert response.status_code == 200
    messages = summary_messages(html)
    assert "Số điện thoại di động không hợp lệ: cần 10 chữ số, ví dụ 0912345678" in messages
    assert "Chọn quan hệ với người được khai sinh" in messages
    assert 'role="alert"' in html and 'href="#f-requester-phone"' in html
    assert 'id="f-requester-phone-error"' in html  # the message beside the field
    assert 'value="12345"' in html and 'value="001090012345"' in html  # kept
    assert "Nguyễn &lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html  # escaped


def test_post_without_csrf_token_is_refused(client):
    response = client.post(FORM, data=GOOD_ANSWERS["requester"])
    assert response.status_code == 400
    assert "mã bảo mật" in text(response)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_whole_journey_files_one_dossier_with_fee_due_date_and_delivery(app, client):
    base, token = fill_to_check(client)
    html = text(client.get(f"{base}/kiem-tra"))
    assert "Kiểm tra thông tin" in html and html.count("Thay đổi") >= 6
    assert "Nguyễn Minh Khang" in html and date.fromisoformat(RECENT_BIRTH).strftime("%d/%m/%Y") in html
    assert "16.000 ₫" in html  # two extract copies at 8,000
    assert "25.000 ₫" in html  # postal charge shown before filing
    code = file_it(client, base, token)
    assert re.fullmatch(r"000\.06\.50\.H15-\d{6}-\d{4}", code)
    dossier = app.extensions["motcua"].store.dossiers.get(code)
    assert dossier.procedure_code == BIRTH_CODE and dossier.spec_version == "2026.3"
    assert dossier.data["child"]["full_name"] == "Nguyễn Minh Khang"
    assert dossier.data["extract_copies"] == 2
    assert dossier.fee_total == 16000
    assert dossier.delivery.kind == "postal" and dossier.delivery.postal_charge == 25000
    ba_dinh = units.find_commune("01", "Ba Đình")
    assert dossier.delivery.address == {"province": "Thành phố Hà Nội", "province_code": "01", "commune": "Phường Ba Đình",
                                        "commune_code": ba_dinh.code, "street": "Số 1 Hoàng Hoa Thám"}
    assert dossier.contact.phone == "0912345678" and dossier.contact.name == "Nguyễn Văn An"
    assert dossier.attachments[0].component == "giay_chung_sinh"
    assert dossier.attachments[0].content_type == "application/pdf"
    assert app.extensions["motcua"].store.files.exists(dossier.attachments[0].file_id)
    assert dossier.due_date is not None and dossier.events[0].kind == "filed"
    confirmation = text(client.get(f"/ho-so/{code}/xac-nhan"))
    assert code in confirmation and "<svg" in confirmation


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_double_submit_files_once(app, client):
    base, token = fill_to_check(client)
    html = text(client.get(f"{base}/kiem-tra"))
    submit = re.search(r'name="submit_token" value="([^"]+)"', html).group(1)
    first = client.post(f"{base}/kiem-tra", data={"csrf_token": token, "submit_token": submit})
    second = client.post(f"{base}/kiem-tra", data={"csrf_token": token, "submit_token": submit})
    assert first.headers["Location"] == second.headers["Location"]
    assert app.extensions["motcua"].store.dossiers.count() == 1


def test_check_page_lists_what_is_missing_with_links_to_its_step(client):
    base, token = start(client)
    html = text(client.get(f"{base}/kiem-tra"))
    assert "Nhập họ, chữ đệm, tên" in summary_messages(html)
    assert f"{base}/child?tu=kiem-tra#f-child-full_name" in html
    response = client.post(f"{base}/kiem-tra", data={"csrf_token": token, "submit_token": "x"})
    assert response.status_code == 200 and summary_messages(text(response))


def test_change_link_returns_to_check_page(client):
    base, token = fill_to_check(client)
    response = client.post(f"{base}/copies?tu=kiem-tra", data={"csrf_token": token, "extract_copies": "3"})
    assert response.headers["Location"].endswith("/kiem-tra")
    assert "24.000 ₫" in text(client.get(f"{base}/kiem-tra"))


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_draft_saved_and_resumed_from_private_link(app, client):
    base, token = start(client)
    response = client.post(f"{base}/child", data={"csrf_token": token, "child.full_name": "Bé Na", "_action": "save"})
    saved = text(client.get(response.headers["Location"]))
    link = re.search(r'id="private-link">([^<]+)<', saved).group(1)
    assert link.endswith(base.rsplit("/", 1)[-1]) and len(base.rsplit("/", 1)[-1]) >= 32
    other = app.test_client()  # another browser, no session: the link alone resumes
    first = other.get(link.replace("http://localhost", ""))
    assert first.status_code == 302
    html = text(other.get(f"{base}/child"))
    assert 'value="Bé Na"' in html
    assert other.get(f"{FORM}/not-a-real-token/child").status_code == 404


def test_resumed_draft_opens_at_the_step_it_was_saved_from(app, client):
    base, token = start(client)
    assert client.post(f"{base}/child", data={"csrf_token": token, **GOOD_ANSWERS["child"]}).status_code == 302
    response = client.post(f"{base}/parents", data={"csrf_token": token, "_action": "save"})
    link = re.search(r'id="private-link">([^<]+)<', text(client.get(response.headers["Location"]))).group(1)
    resumed = app.test_client().get(link.replace("http://localhost", ""))
    assert resumed.status_code == 302 and resumed.headers["Location"].endswith(f"{base}/parents")


def test_exe_named_pdf_is_refused_and_oversize_has_a_vietnamese_message(tmp_path):
    data = birth_spec()
    data["attachments"][0]["max_size_mb"] = 0.01
    write_spec(tmp_path / "specs", "b", data)
    client = create_app({"DATA_DIR": str(tmp_path / "d"), "SPECS_DIR": str(tmp_path / "specs"), "TESTING": True}).test_client()
    base, token = fill_to_check_pages(client)
    exe = b"MZ\x90\x00\x03" + b"\x00" * 200
    response = client.post(f"{base}/dinh-kem", data={"csrf_token": token, "attachment.giay_chung_sinh": (io.BytesIO(exe), "giay.pdf")},
                           content_type="multipart/form-data")
    assert "Tệp Giấy chứng sinh không đúng loại cho phép (PDF, JPEG, PNG) (tệp «giay.pdf» chưa được lưu)" in summary_messages(text(response))
    big = small_pdf() + b"0" * 20000
    response = client.post(f"{base}/dinh-kem", data={"csrf_token": token, "attachment.giay_chung_sinh": (io.BytesIO(big), "giay.pdf")},
                           content_type="multipart/form-data")
    assert "Tệp Giấy chứng sinh quá lớn: tối đa 0.01 MB (tệp «giay.pdf» chưa được lưu)" in summary_messages(text(response))
    # a good file is kept and not asked for again
    response = client.post(f"{base}/dinh-kem", data={"csrf_token": token, "attachment.giay_chung_sinh": (io.BytesIO(small_pdf()), "../../etc/passwd.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    response = client.post(f"{base}/dinh-kem", data={"csrf_token": token}, content_type="multipart/form-data")
    assert response.status_code == 302
    assert "passwd.pdf" in text(client.get(f"{base}/kiem-tra"))


def fill_to_check_pages(client) -> tuple[str, str]:
    base, token = start(client)
    for page in ("child", "parents", "copies"):
        client.post(f"{base}/{page}", data={"csrf_token": token, **GOOD_ANSWERS[page]})
    return base, token


def test_request_over_max_content_length_gets_a_friendly_413(tmp_path):
    write_spec(tmp_path / "specs", "b", birth_spec())
    app = create_app({"DATA_DIR": str(tmp_path / "d"), "SPECS_DIR": str(tmp_path / "specs"), "TESTING": True,
                      "MAX_CONTENT_LENGTH": 50_000})
    client = app.test_client()
    base, token = fill_to_check_pages(client)
    response = client.post(f"{base}/dinh-kem", data={"csrf_token": token, "attachment.giay_chung_sinh": (io.BytesIO(b"%PDF-" + b"0" * 80_000), "a.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert "Tệp quá lớn" in text(response)


def test_delivery_choice_and_postal_address_required(client):
    base, token = fill_to_check_pages(client)
    client.post(f"{base}/dinh-kem", data={"csrf_token": token, "attachment.giay_chung_sinh": (io.BytesIO(small_pdf()), "a.pdf")},
                content_type="multipart/form-data")
    html = text(client.post(f"{base}/nhan-ket-qua", data={"csrf_token": token}))
    assert "Chọn hình thức nhận kết quả" in summary_messages(html)
    html = text(client.post(f"{base}/nhan-ket-qua", data={"csrf_token": token, "delivery.kind": "postal", "delivery.address.street": "Số 5"}))
    assert "Chọn tỉnh, thành phố" in summary_messages(html) and 'value="Số 5"' in html
    response = client.post(f"{base}/nhan-ket-qua", data={"csrf_token": token, "delivery.kind": "desk"})
    assert response.status_code == 302
