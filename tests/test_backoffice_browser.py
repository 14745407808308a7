"""A desk officer in a real Chromium, JavaScript off: log in, find the dossier, receive it."""

from __future__ import annotations

import pytest

from motcua import accounts
from motcua.dossier import Status

from portal_helpers import follow
from test_backoffice import AGENCY_A, PASSWORD, answers


@pytest.mark.browser
def test_desk_officer_receives_a_dossier_without_javascript(app, live_server, browser):
    from motcua.filing import file_dossier

    svc = app.extensions["motcua"]
    spec = svc.catalogue.get("1.001193")
    accounts.create_account(svc.store, "lan", "Nguyễn Thị Lan", ["desk"], [AGENCY_A], PASSWORD)
    with app.test_request_context():
        dossier = file_dossier(spec, answers(name="Phạm Thị Hoa"), [], channel="online", delivery=None, actor="citizen", agency=AGENCY_A)

    context = browser.new_context(locale="vi-VN", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/staff/")
        page.get_by_label("Tên đăng nhập").fill("lan")
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        follow(page, page.get_by_role("button", name="Đăng nhập"))
        page.get_by_role("heading", name="Hồ sơ cần xử lý").wait_for()

        page.get_by_label("Mã hồ sơ hoặc tên người nộp").fill("pham thi hoa")
        follow(page, page.get_by_role("button", name="Lọc", exact=True))  # the queue lists the link too
        follow(page, page.get_by_role("link", name=dossier.code))

        follow(page, page.get_by_role("button", name="Tiếp nhận hồ sơ"))  # loaded whole: its cells are counted
        page.get_by_text("Đã thực hiện: Tiếp nhận hồ sơ.").wait_for()
        assert svc.store.dossiers.get(dossier.code).status == Status.RECEIVED
        assert page.get_by_role("cell", name="Nguyễn Thị Lan").count() >= 1
    finally:
        context.close()
