"""At 375px (a phone) no page a citizen or an officer opens scrolls sideways; real Chromium."""

from __future__ import annotations

from motcua import accounts
from tests.portal_helpers import follow


def test_public_and_staff_pages_fit_a_phone(app, live_server, page):
    store = app.extensions["motcua"].store
    accounts.ensure_demo_accounts(store, app.extensions["motcua"].catalogue)
    page.set_viewport_size({"width": 375, "height": 800})
    wide = {}
    # legal basis and fee tables (level 1 page has long legal titles), the statistics filters
    for path in ("/", "/thu-tuc/1.009994", "/thu-tuc/1.001193", "/thong-ke", "/phan-anh"):
        page.goto(live_server.url + path)
        wide[path] = page.evaluate("document.documentElement.scrollWidth")
    page.goto(live_server.url + "/staff/login")
    page.fill('[name="username"]', "motcua")
    page.fill('[name="password"]', accounts.DEMO_PASSWORD)
    # signed in before the staff pages are asked for (the login page is under /staff/ too)
    follow(page, page.locator('main form button[type="submit"]'))
    for path in ("/staff/", "/staff/thong-ke"):  # the queue's procedure filter lists long names
        page.goto(live_server.url + path)
        wide[path] = page.evaluate("document.documentElement.scrollWidth")
    assert {p: w for p, w in wide.items() if w > 375} == {}
