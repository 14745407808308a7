"""In a real headless Chromium: a citizen picks a commune office by typing part of its name
without diacritics, files with it, and that commune's staff (not another's) sees the dossier,
whose code carries the office's prefix."""

from __future__ import annotations

import re

import pytest

from motcua import accounts
from motcua.agencies import load_registry
from tests.portal_helpers import CONTINUE, fill_birth_steps, follow

pytestmark = pytest.mark.browser
PASSWORD = "mat-khau-rat-dai-1"
REGISTRY = load_registry()
HOA_VANG = next(a.code for a in REGISTRY.of("commune", "ubnd") if a.name["vi"] == "Ủy ban nhân dân xã Hòa Vang")
HAI_CHAU = "000.06.50.H15"


def _queue_codes(browser, base: str, username: str) -> str:
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    try:
        page.goto(f"{base}/staff/")
        page.get_by_label("Tên đăng nhập").fill(username)
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        follow(page, page.get_by_role("button", name="Đăng nhập"))  # loaded whole: the queue is read next
        page.get_by_role("heading", name="Hồ sơ cần xử lý").wait_for()
        return page.content()
    finally:
        context.close()


def test_a_citizen_picks_a_commune_by_typing_without_diacritics_and_only_its_staff_see_it(app, live_server, page, browser,
                                                                                          tmp_path):
    store = app.extensions["motcua"].store
    accounts.create_account(store, "hoavang", "Cán bộ xã Hòa Vang", ["desk"], [HOA_VANG], PASSWORD)
    accounts.create_account(store, "haichau", "Cán bộ phường Hải Châu", ["desk"], [HAI_CHAU], PASSWORD)
    base = live_server.url

    # The procedure page: type part of the commune's name, no diacritics; the list narrows.
    page.goto(f"{base}/thu-tuc/1.001193")
    select = page.locator("select[name=co_quan]")
    assert select.locator("option").count() == 95  # 94 communes and the prompt
    page.fill("#f-co_quan-filter", "hoa vang")
    assert select.locator("option").count() == 2  # the prompt and Hòa Vang
    assert select.input_value() == HOA_VANG  # the one match is chosen
    details = page.locator("[data-office-details]")
    assert details.is_visible() and "Xã Hòa Vang, Thành phố Đà Nẵng" in details.inner_text()
    assert "7:30" in details.inner_text()
    follow(page, page.get_by_role("button", name="Nộp hồ sơ trực tuyến"))

    # The form starts with that office chosen.
    assert page.locator(".progress").inner_text() == "Bước 1/7"
    assert page.locator("select[name=agency]").input_value() == HOA_VANG
    page.fill("#f-requester-full_name", "Nguyễn Văn An")
    page.fill("#f-requester-cccd", "001090012345")
    page.fill("#f-requester-phone", "0912345678")
    page.select_option("#f-requester-relation", "cha")
    follow(page, CONTINUE)
    fill_birth_steps(page, tmp_path, birth_date="2025-06-01", birth_place="Bệnh viện Đà Nẵng", father_birth_year="1990")
    page.check("#f-delivery-kind")  # the first option: at the desk
    follow(page, CONTINUE)  # the old page has an <h1> too: read the new one

    # Check your answers names the office; file.
    assert page.locator("h1").inner_text() == "Kiểm tra thông tin"
    assert "Ủy ban nhân dân xã Hòa Vang" in page.locator("[data-office-chosen]").inner_text()
    follow(page, "button:has-text('Nộp hồ sơ')")
    code = page.locator("#dossier-code").inner_text().strip()
    assert re.fullmatch(re.escape(HOA_VANG) + r"-\d{6}-0001", code)
    assert "Ủy ban nhân dân xã Hòa Vang" in page.content()

    # That commune's staff see it in their queue; another commune's do not.
    assert code in _queue_codes(browser, base, "hoavang")
    assert code not in _queue_codes(browser, base, "haichau")


def test_the_catalogue_filters_by_a_commune_office_chosen_after_its_tier(live_server, page):
    """The catalogue's panel lists no office until a tier is chosen (the page stays small),
    then that tier's offices with the same filter box as the procedure page."""
    page.goto(f"{live_server.url}/?q=khai+sinh")
    assert page.locator("#f-agency").count() == 0
    assert page.locator("[data-office-hint]").is_visible()
    page.select_option("#f-tier", "commune")
    follow(page, page.get_by_role("button", name="Áp dụng bộ lọc"))  # the offices' list is the new page's
    select = page.locator("#f-agency")
    every = select.locator("option").count()
    assert every > 50
    page.fill("#f-agency-filter", "uy ban hai chau")
    assert select.locator("option").count() == 2  # "Tất cả" and the ward's people's committee
    assert select.input_value() == HAI_CHAU
    follow(page, page.get_by_role("button", name="Áp dụng bộ lọc"))
    assert f"agency={HAI_CHAU}" in page.url and "q=khai+sinh" in page.url
    assert page.locator("#q").input_value() == "khai sinh"
    assert page.locator("#f-agency").input_value() == HAI_CHAU
    assert page.locator("ul.results a[href='/thu-tuc/1.001193']").count() == 1
