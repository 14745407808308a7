"""What a citizen sees and clicks, in a real headless Chromium with JavaScript off."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal_helpers import follow
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
    follow(page, "text=Xem thống kê")  # the old page names its period in the same place
    assert page.locator("#ky-bao-cao").text_content() == "Quý 2/2025"

    page.goto(f"{live_server.url}/phan-anh")
    page.check("input[name=kind][value=kien_nghi]")
    page.fill("#f-name", "Võ Thị Hồng")
    page.fill("#f-phone", "0912345678")
    page.fill("#f-content", "Đề nghị mở thêm quầy tiếp nhận buổi sáng thứ Bảy.")
    follow(page, "button[type=submit]")
    assert "Đã gửi phản ánh, kiến nghị" in page.text_content("main")
    assert "Đề nghị mở thêm quầy tiếp nhận buổi sáng thứ Bảy." in page.text_content("main")
    private = page.url.split("?")[0]
    page.goto(private)
    assert "Chưa có trả lời." in page.text_content("main")


CLIPPED = """() => {
  // Every cell of every table in main: inside the viewport and inside any box that would clip it.
  const out = [];
  const vw = document.documentElement.clientWidth;
  for (const cell of document.querySelectorAll('main table th, main table td')) {
    const r = cell.getBoundingClientRect();
    let clipped = r.right > vw + 0.5 || r.left < -0.5;
    for (let box = cell.parentElement; box && box !== document.body; box = box.parentElement) {
      if (getComputedStyle(box).overflowX !== 'visible') {
        const b = box.getBoundingClientRect();
        if (r.right > b.right + 0.5 || r.left < b.left - 0.5) clipped = true;
      }
    }
    if (clipped) out.push(cell.textContent.trim().slice(0, 40));
  }
  return {clipped: out, pageWidth: document.documentElement.scrollWidth, viewport: vw};
}"""


def staff_browser_login(app, page, base_url):
    from motcua import accounts

    accounts.create_account(app.extensions["motcua"].store, "canbo-a", "Cán bộ A", ["desk"], [AGENCY_A],
                            "mat-khau-rat-dai-2025")
    page.goto(f"{base_url}/staff/login")
    page.fill("input[name=username]", "canbo-a")
    page.fill("input[name=password]", "mat-khau-rat-dai-2025")
    follow(page, "button[type=submit]")  # a goto at once could cancel the login's post


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_no_table_column_is_clipped_at_1280_px(app, live_server, page, lang):
    app.extensions["motcua"].store.dossiers.add_many(dossiers().values())
    page.set_viewport_size({"width": 1280, "height": 900})
    staff_browser_login(app, page, live_server.url)
    for path in ("/thong-ke", "/staff/thong-ke"):
        page.goto(f"{live_server.url}{path}?year=2025&lang={lang}")
        assert page.locator("main table").count() >= 6
        found = page.evaluate(CLIPPED)
        assert found["clipped"] == [], (path, found)
        assert found["pageWidth"] <= found["viewport"], (path, found)
        # every column of the wide tables is on screen, none hidden in a scroll box
        for region in page.locator(".stats-wide").all():
            assert region.evaluate("r => r.scrollWidth <= r.clientWidth"), path


def test_at_375_px_a_wide_table_scrolls_by_keyboard_in_a_named_region(app, live_server, page):
    app.extensions["motcua"].store.dossiers.add_many(dossiers().values())
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server.url}/thong-ke?year=2025")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # the page itself never scrolls sideways
    # every element of the page looked at in one call (one round trip per element took minutes)
    scrolling = page.locator("main *").evaluate_all(
        "els => els.filter(e => e.scrollWidth > e.clientWidth + 1"
        " && ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))"
        ".map(e => ({tabindex: e.getAttribute('tabindex'), role: e.getAttribute('role'),"
        " label: e.getAttribute('aria-label')}))")
    assert scrolling, "the wide tables should scroll at 375 px"
    for region in scrolling:
        assert region["tabindex"] == "0"
        assert region["role"] == "region"
        assert region["label"]
    region = page.locator(".stats-wide").first
    assert page.get_by_role("region", name="Bảng số liệu theo thủ tục").count() == 1
    region.focus()
    page.keyboard.press("End")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    # keyboard scrolling is animated: wait for it rather than read it at once
    page.wait_for_function("r => r.scrollLeft > 0", arg=region.element_handle())


def test_a_definition_shows_on_hover_and_on_keyboard_focus(app, live_server, page):
    app.extensions["motcua"].store.dossiers.add_many(dossiers().values())
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/thong-ke?year=2025&quarter=1&agency={AGENCY_A}")
    term = page.locator('[aria-describedby="def-ket-qua-refused_at_intake"]').last
    tip = term.locator(".tip")
    expect(tip).to_be_hidden()
    term.hover()
    expect(tip).to_be_visible()
    assert "trạng thái 3" in tip.text_content()
    page.mouse.move(0, 0)
    expect(tip).to_be_hidden()
    # Reach it with the Tab key alone, as a keyboard user would.
    page.locator("#ket-qua").scroll_into_view_if_needed()
    page.evaluate("document.getElementById('ket-qua').setAttribute('tabindex', '-1')")
    page.focus("#ket-qua")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('aria-describedby')") == "def-ket-qua-refused_at_intake":
            break
    else:
        pytest.fail("the refused-at-intake term cannot be reached with Tab")
    expect(tip).to_be_visible()
    box, view = tip.bounding_box(), page.viewport_size
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= view["width"]
    # its accessible description is the definition under the table
    described = page.locator("#def-ket-qua-refused_at_intake")
    assert described.is_visible() and "trạng thái 3" in described.text_content()


def test_the_long_per_office_tables_are_folded_worst_first(app, live_server, js_off_page):
    """The shipped registry's ~200 offices: the worst ones on show, every office's row one
    click away (<details>, no script), so the dashboard is not tens of thousands of px tall."""
    from motcua.stats.report import worst_first
    from motcua.stats.source import build_report
    from motcua.stats import period as periods

    app.extensions["motcua"].store.dossiers.add_many(dossiers().values())
    svc = app.extensions["motcua"]
    report = build_report(svc.store, svc.catalogue, period=periods.parse({"year": "2025"}))
    assert len(report.by_agency) > 100 and len(report.commune_online) > 100  # the case worth folding
    page = js_off_page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/thong-ke?year=2025")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 12000, height  # 24,800 px with every row unfolded; 8,900 folded (2026-12)
    folded = page.locator("details[data-folded=co-quan]")
    assert folded.get_attribute("open") is None
    shown = page.locator("#co-quan ~ .stats-wide").first.locator("tbody tr")
    worst = worst_first(report.by_agency)[:10]
    assert shown.count() == 10
    assert [shown.nth(i).locator("th .hint").text_content() for i in range(10)] == [f"({r.key})" for r in worst]
    communes = page.locator("table.commune-online").first.locator("tbody tr")
    assert [communes.nth(i).get_attribute("data-agency") for i in range(10)] == [r.code for r in report.commune_online[:10]]
    # one click (no script) opens the whole table, every office in the registry's order
    folded.locator("summary").click()
    rows = folded.locator("tbody tr")
    assert rows.count() == len(report.by_agency) and rows.first.is_visible()
    assert page.evaluate("document.documentElement.scrollHeight") > height
    rest = page.locator("details[data-folded=xa-truc-tuyen]")
    rest.locator("summary").click()
    assert rest.locator("tbody tr").count() == len(report.commune_online) - 10
