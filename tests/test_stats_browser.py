"""What a citizen sees and clicks, in a real headless Chromium with JavaScript off."""

from __future__ import annotations

import pytest

from stats_fixtures import AGENCY_A, dossiers

pytestmark = pytest.mark.browser


@pytest.fixture
def js_off_page(browser):
    context = browser.new_context(locale="vi-VN", java_script_enabled=False)
    page = context.new_page()
    yield page
    context.close()


def test_charts_show_without_javascript_and_feedback_round_trip(app, live_server, js_off_page):
    app.extensions["motcua"].store.dossiers.add_many(dossiers().values())
    page = js_off_page
    page.goto(f"{live_server.url}/thong-ke?year=2025&quarter=1&agency={AGENCY_A}")
    chart = page.locator("svg#chart-channels")
    box = chart.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 50
    assert chart.get_attribute("role") == "img"
    assert "Trực tuyến: 7 (58,33%)" in chart.locator("desc").text_content()
    assert page.get_by_role("img", name="Hồ sơ tiếp nhận theo kênh").count() == 1
    # Choose another period with the form, no script needed.
    page.select_option("#f-quarter", "2")
    page.click("text=Xem thống kê")
    assert page.locator("#ky-bao-cao").text_content() == "Quý 2/2025"

    page.goto(f"{live_server.url}/phan-anh")
    page.check("input[name=kind][value=kien_nghi]")
    page.fill("#f-name", "Võ Thị Hồng")
    page.fill("#f-phone", "0912345678")
    page.fill("#f-content", "Đề nghị mở thêm quầy tiếp nhận buổi sáng thứ Bảy.")
    page.click("button[type=submit]")
    assert "Đã gửi phản ánh, kiến nghị" in page.text_content("main")
    assert "Đề nghị mở thêm quầy tiếp nhận buổi sáng thứ Bảy." in page.text_content("main")
    private = page.url.split("?")[0]
    page.goto(private)
    assert "Chưa có trả lời." in page.text_content("main")
