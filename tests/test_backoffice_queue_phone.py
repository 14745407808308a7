"""The staff queue on a phone (375 px), in a real Chromium: every column of every dossier is
on screen, none cut off or hidden in a sideways scroll."""

from __future__ import annotations

import pytest

from motcua import accounts
from tests.test_backoffice import AGENCY_A, PASSWORD, answers

pytestmark = pytest.mark.browser


def test_the_queue_at_375px_shows_every_column_of_every_dossier(app, live_server, page, monkeypatch):
    from motcua.filing import file_dossier

    svc = app.extensions["motcua"]
    spec = svc.catalogue.get("1.001193")
    accounts.create_account(svc.store, "lan", "Nguyễn Thị Lan", ["desk"], [AGENCY_A], PASSWORD)
    with app.test_request_context():
        for name in ("Tôn Nữ Thị Hoàng Phương Khánh Ngọc Bích Trâm", "Phạm Thị Hoa"):
            file_dossier(spec, answers(name=name), [], channel="online", delivery=None, actor="citizen", agency=AGENCY_A)

    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server.url}/staff/login")
    page.fill('[name="username"]', "lan")
    page.fill('[name="password"]', PASSWORD)
    page.locator('main form button[type="submit"]').click()
    page.wait_for_url("**/staff/")
    page.screenshot(path="/tmp/motcua-staff-queue-375.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    table = page.locator("table.queue")
    assert table.evaluate("t => t.scrollWidth <= t.clientWidth"), "the table scrolls sideways"
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 2
    for i in range(rows.count()):
        cells = rows.nth(i).locator("th, td")
        assert cells.count() == 6
        for j in range(6):
            cell = cells.nth(j)
            box = cell.bounding_box()
            assert cell.is_visible() and box and box["width"] > 0, (i, j)
            assert 0 <= box["x"] and box["x"] + box["width"] <= 375, (i, j, box)
    # Each value is introduced by its column's name, since the header row is not drawn.
    shown = rows.nth(0).locator("td").evaluate_all("tds => tds.map(td => getComputedStyle(td, '::before').content)")
    assert shown == ['"Người nộp: "', '"Thủ tục: "', '"Kênh nộp: "', '"Trạng thái: "', '"Hạn giải quyết: "']


def test_the_queue_at_desktop_width_is_still_a_table(app, live_server, page, monkeypatch):
    from motcua.filing import file_dossier

    svc = app.extensions["motcua"]
    spec = svc.catalogue.get("1.001193")
    accounts.create_account(svc.store, "lan", "Nguyễn Thị Lan", ["desk"], [AGENCY_A], PASSWORD)
    with app.test_request_context():
        file_dossier(spec, answers(name="Phạm Thị Hoa"), [], channel="online", delivery=None, actor="citizen", agency=AGENCY_A)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/staff/login")
    page.fill('[name="username"]', "lan")
    page.fill('[name="password"]', PASSWORD)
    page.locator('main form button[type="submit"]').click()
    page.wait_for_url("**/staff/")
    assert page.locator("table.queue thead").is_visible()
    assert page.locator("table.queue td").first.evaluate("td => getComputedStyle(td).display") == "table-cell"
