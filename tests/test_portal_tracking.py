"""After filing: the receipt, and tracking a dossier with its code and second factor."""

from __future__ import annotations

import base64
import io
import re

import pytest
from pypdf import PdfReader

from conftest import BACKENDS
from tests.portal_helpers import BIRTH_CODE, csrf
from tests.test_api_portal import body


def filed(client) -> str:
    response = client.post(f"/api/v1/procedures/{BIRTH_CODE}/dossiers", json=body())
    assert response.status_code == 201
    return response.get_json()["code"]


def lookup(client, code: str, factor: str):
    token = csrf(client.get("/tra-cuu").get_data(as_text=True))
    return client.post("/tra-cuu", data={"csrf_token": token, "code": code, "factor": factor})


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_lookup_with_phone_opens_the_tracking_page(app, client):
    code = filed(app.test_client())
    assert client.get(f"/ho-so/{code}").status_code == 302  # not yet: asks for the factor
    assert client.get(f"/ho-so/{code}/bien-nhan.pdf").status_code == 404
    response = lookup(client, code, "0987 654 321")
    assert response.headers["Location"].endswith(f"/ho-so/{code}")
    html = client.get(f"/ho-so/{code}").get_data(as_text=True)
    assert code in html and "Nộp hồ sơ" in html and "Quá trình xử lý" in html
    assert "Ngày hẹn trả kết quả" in html


def test_wrong_factor_and_unknown_code_give_the_same_message(app, client):
    code = filed(app.test_client())
    wrong = lookup(client, code, "0911111111")
    unknown = lookup(client, "000.00.31.H12-250101-9999", "0987654321")
    assert wrong.status_code == unknown.status_code == 404
    strip = lambda r: re.sub(r'name="csrf_token" value="[^"]+"|value="[^"]*"', "", r.get_data(as_text=True))
    assert strip(wrong) == strip(unknown)
    assert client.get(f"/ho-so/{code}").status_code == 302


def test_repeated_failures_on_one_code_are_slowed_down(app, client):
    code = filed(app.test_client())
    for _ in range(10):
        assert lookup(client, code, "0911111111").status_code == 404
    response = lookup(client, code, "0987654321")  # even the right factor: the code is locked
    assert response.status_code == 429
    assert lookup(app.test_client(), code, "0987654321").status_code == 429  # from any browser
    other = filed(app.test_client())
    assert lookup(client, other, "0987654321").status_code == 302  # other dossiers are not locked


def test_receipt_pdf_contains_the_code_and_needs_the_second_factor(app, client):
    code = filed(app.test_client())
    lookup(client, code, "079190012345")
    response = client.get(f"/ho-so/{code}/bien-nhan.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert code in text.replace("\n", "")
    page = client.get(f"/ho-so/{code}/bien-nhan").get_data(as_text=True)
    assert "Giấy tiếp nhận hồ sơ và hẹn trả kết quả" in page and "<svg" in page and "Lê Gia Bảo" in page


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_withdraw_button_posts_with_csrf(app, client):
    code = filed(app.test_client())
    lookup(client, code, "0987654321")
    html = client.get(f"/ho-so/{code}").get_data(as_text=True)
    assert "Rút hồ sơ" in html  # a new dossier may be withdrawn
    assert client.post(f"/ho-so/{code}/rut").status_code == 400  # no CSRF token
    response = client.post(f"/ho-so/{code}/rut", data={"csrf_token": csrf(html)})
    assert response.status_code == 302
    assert app.extensions["motcua"].store.dossiers.get(code).status == 7
    html = client.get(f"/ho-so/{code}").get_data(as_text=True)
    assert "Đã rút hồ sơ" in html and 'action="/ho-so/' not in html  # no second withdraw


def test_tracking_page_in_english_does_not_read_as_repeated_labels(app, client):
    """"Status: Filed" beside a filing time labelled "Filed", a timeline entry followed by a status or
    a note that only repeats it: each says a thing once."""
    from motcua.dossier import Event
    from tests.test_portal_filing import file_it, fill_to_check

    base, token = fill_to_check(client)
    code = file_it(client, base, token)  # online payment: filed, then payment requested
    store = app.extensions["motcua"].store
    store.dossiers.update(code, lambda d: d.events.append(Event(actor="staff:lan", kind="resumed", note="Tiếp tục xử lý")))
    assert lookup(client, code, "0912345678").status_code == 302
    english = client.get(f"/ho-so/{code}?lang=en").get_data(as_text=True)
    facts = english[english.index('<dl class="facts">'):english.index("</dl>")]
    assert re.search(r"<dt>Submitted at</dt><dd>[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d [AP]M</dd>", facts) and "<dt>Filed</dt>" not in facts
    timeline = [" ".join(re.sub(r"<[^>]+>", " ", li).split())
                for li in re.findall(r"<li>(.*?)</li>", english[english.index('class="timeline"'):], re.S)]
    assert timeline[0].startswith("Dossier filed ") and "– status" not in timeline[0]
    assert timeline[1].startswith("Payment requested ") and timeline[1].count("Payment requested") == 1
    assert timeline[2].startswith("Processing resumed ") and timeline[2].count("Processing resumed") == 1
    vietnamese = client.get(f"/ho-so/{code}?lang=vi").get_data(as_text=True)
    assert "<strong>Nộp hồ sơ</strong> – tình trạng: Mới đăng ký" in vietnamese  # a status the label does not say is kept
    assert vietnamese.count("Tiếp tục xử lý") == 1
