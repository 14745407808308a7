"""The pages after filing on a phone (375 px), in a real Chromium: the confirmation with its
large dossier code and the private tracking link, the receipt and the tracking page fit the
screen; the code wraps only after its dashes, never inside a number."""

from __future__ import annotations

import pytest

from tests.test_portal_filing import file_it, fill_to_check

pytestmark = pytest.mark.browser

#: each text run of the code (between its <wbr>s) on one line, and the code copied whole
PARTS_ON_ONE_LINE = """el => [...el.childNodes].filter(n => n.nodeType === 3).map(n => {
  const r = document.createRange(); r.selectNodeContents(n); return r.getClientRects().length; })"""


def test_post_filing_pages_fit_375px(app, client, live_server, page):
    base, token = fill_to_check(client)
    code = file_it(client, base, token)
    # the browser is the one that filed: it gets the private tracking link with its long token
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    page.set_viewport_size({"width": 375, "height": 800})

    page.goto(f"{live_server.url}/ho-so/{code}/xac-nhan")
    page.screenshot(path="/tmp/motcua-confirmation-375.png", full_page=True)
    link = page.locator("p.link-long a")
    assert "/xem/" in link.get_attribute("href")  # the private link, whose token is one long word
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    box = link.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    shown = page.locator("#dossier-code")
    assert shown.text_content() == code  # <wbr> adds nothing to what is copied
    lines = shown.evaluate(PARTS_ON_ONE_LINE)
    assert len(lines) == len(code.split("-")) and lines == [1] * len(lines), lines
    assert shown.evaluate("el => el.getClientRects().length") >= 1
    box = shown.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375

    for path in (f"/ho-so/{code}/bien-nhan", f"/ho-so/{code}"):
        page.goto(live_server.url + path)
        assert page.locator("main").count() == 1
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, (path, width)
    heading = page.locator("h1 .code")
    assert heading.text_content() == code and heading.evaluate(PARTS_ON_ONE_LINE) == [1] * len(code.split("-"))
