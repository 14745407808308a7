"""A citizen, in a real headless Chromium, finds birth registration, files it and tracks it."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.portal_helpers import CONTINUE, RECENT_BIRTH, follow, small_pdf

pytestmark = pytest.mark.browser


def test_citizen_files_a_birth_registration_and_tracks_it(live_server, page, browser, tmp_path):
    base = live_server.url
    # Find it, typing without diacritics.
    page.goto(base + "/")
    page.fill("#q", "dang ky khai sinh")
    follow(page, "button:has-text('Tìm kiếm')")
    follow(page, "h3 a:has-text('Đăng ký khai sinh')")
    assert "Trình tự thực hiện" in page.content()
    page.fill("#f-co_quan-filter", "hai chau")  # the commune office, by part of its name
    follow(page, "text=Nộp hồ sơ trực tuyến >> nth=0")

    # Step 1, with a mistake: an invalid phone and no relation.
    assert page.locator(".progress").inner_text() == "Bước 1/7"
    page.fill("#f-requester-full_name", "Nguyễn Văn An")
    page.fill("#f-requester-cccd", "001090012345")
    page.fill("#f-requester-phone", "09123")
    follow(page, CONTINUE)  # the same step again, with the errors: loaded, its focus script run
    summary = page.locator("[data-error-summary]")
    assert summary.is_visible()
    assert "Số điện thoại di động không hợp lệ" in summary.inner_text()
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")  # focus moved
    assert page.input_value("#f-requester-full_name") == "Nguyễn Văn An"  # kept
    assert page.input_value("#f-requester-phone") == "09123"
    assert "Số điện thoại di động không hợp lệ" in page.locator("#f-requester-phone-error").inner_text()
    # The summary's link takes the keyboard to the field.
    summary.locator("a[href='#f-requester-phone']").click()
    page.keyboard.press("Control+A")
    page.keyboard.type("0912345678")
    page.select_option("#f-requester-relation", "cha")
    follow(page, CONTINUE)

    # Step 2: the child.
    assert page.locator(".progress").inner_text() == "Bước 2/7"
    page.fill("#f-child-full_name", "Nguyễn Minh Khang")
    page.fill("#f-child-birth_date", RECENT_BIRTH)
    page.check("#f-child-sex")
    page.fill("#f-child-birth_place", "Bệnh viện Phụ sản Hà Nội")
    follow(page, CONTINUE)

    # Step 3: parents.
    page.fill("#f-mother-full_name", "Trần Thị Bình")
    page.fill("#f-mother-birth_year", "1995")
    page.fill("#f-father-full_name", "Nguyễn Văn An")
    page.fill("#f-father-birth_year", "1990")
    follow(page, CONTINUE)

    # Step 4: copies; the fee follows the answers.
    page.fill("#f-extract_copies", "2")
    follow(page, CONTINUE)

    # Step 5: a real PDF.
    pdf = tmp_path / "giay-chung-sinh.pdf"
    pdf.write_bytes(small_pdf())
    page.set_input_files("#f-attachment-giay_chung_sinh", str(pdf))
    follow(page, CONTINUE)

    # Step 6: postal delivery, with the charge shown before filing.
    assert page.locator(".progress").inner_text() == "Bước 6/7"
    expect(page.locator("#postal-address")).to_be_hidden()  # hidden by the page's script
    page.check("#delivery-kind-postal")
    expect(page.locator("#postal-address")).to_be_visible()
    assert "25.000 ₫" in page.content()
    # the "show the communes" button is for pages without JavaScript: here the list follows
    # the province, fetched from /api/v1/units/<province>/communes
    expect(page.locator(".units-choose")).to_be_hidden()
    page.select_option("#f-delivery-address-province", label="Thành phố Hà Nội")
    page.wait_for_selector("select#f-delivery-address-commune option[value='00004']", state="attached")
    page.select_option("#f-delivery-address-commune", label="Phường Ba Đình")
    page.fill("#f-delivery-address-street", "Số 1 Hoàng Hoa Thám")
    follow(page, CONTINUE)

    # Check your answers, then file.
    assert page.locator("h1").inner_text() == "Kiểm tra thông tin"
    content = page.content()
    assert "Nguyễn Minh Khang" in content and "giay-chung-sinh.pdf" in content and "16.000 ₫" in content
    assert "Số 1 Hoàng Hoa Thám, Phường Ba Đình, Thành phố Hà Nội" in content
    assert page.locator("a:has-text('Thay đổi')").count() >= 6
    follow(page, "button:has-text('Nộp hồ sơ')")
    code = page.locator("#dossier-code").inner_text().strip()
    assert re.fullmatch(r"000\.06\.50\.H15-\d{6}-\d{4}", code)

    # The receipt PDF carries the code.
    href = page.get_attribute("a:has-text('Tải giấy tiếp nhận (PDF)')", "href")
    response = page.request.get(base + href)
    assert response.ok and response.body().startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages).replace("\n", "")
    assert code in text

    # Later, from another browser: track it with the code and the phone number.
    other = browser.new_context(locale="vi-VN")
    try:
        tracker = other.new_page()
        tracker.goto(base + f"/ho-so/{code}")
        assert tracker.url.endswith("/tra-cuu?code=" + code)
        tracker.fill("#code", code)
        tracker.fill("#factor", "0912345678")
        follow(tracker, "button:has-text('Tra cứu')")
        assert code in tracker.locator("h1").inner_text()
        assert "Quá trình xử lý" in tracker.content() and "Nộp hồ sơ" in tracker.content()
    finally:
        other.close()


def test_form_at_375px_has_no_horizontal_scroll(live_server, page):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(live_server.url + "/thu-tuc/1.001193/nop")
    follow(page, CONTINUE)  # show the errors too; the errors page replaces this one: measure that one
    assert page.locator(".error-summary").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path="/tmp/motcua-form-375.png", full_page=True)


def test_keyboard_alone_reaches_the_skip_link_and_search(live_server, page):
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("#main$"))
