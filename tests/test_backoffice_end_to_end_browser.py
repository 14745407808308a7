"""Issue #15 end to end, in one real Chromium against one live server holding the agency's key:
a dossier handed in at the counter is entered on the desk intake page, sent for processing,
the specialist submits an opinion with a draft PDF, the leader returns it for rework, a second
opinion goes up and is approved, the leader attaches and signs the result PDF, the desk returns
it, and the citizen downloads it from the receipt's private link; the signature verifies with
pyHanko. The two halves are tested on their own in test_backoffice_processing_browser.py and
test_results_browser.py; this test checks that they join up through the pages alone."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from motcua import accounts
from motcua.dossier import Status
from motcua.tracking import private_link_path
from motcua_renderers.form import field_id
from tests.fixtures.staff_pages import staff_login, submit_opinion
from tests.portal_helpers import follow, small_pdf
from tests.test_backoffice import AGENCY_A, PASSWORD
from tests.test_results_browser import app, certs  # noqa: F401  (fixtures: the app with the agency's key)
from tests.test_results_signing import validate

INTAKE = "/staff/tiep-nhan/1.001193"
UNIT = "Công chức Tư pháp – Hộ tịch"


def _enter_at_desk(page, base: str) -> str:
    """The desk officer types in the paper declaration, ticks the papers received, files it;
    returns the new dossier's code (the intake redirects to its page)."""
    page.goto(base + INTAKE)
    page.fill("#f-requester-full_name", "Phạm Thị Hoa")
    page.fill("#f-requester-cccd", "001085012345")
    page.fill("#f-requester-phone", "0912345678")
    page.select_option("#f-requester-relation", "cha")
    page.fill("#f-child-full_name", "Nguyễn Văn Bình")
    page.fill("#f-child-birth_date", (date.today() - timedelta(days=10)).isoformat())
    page.check("#f-child-sex")
    page.fill("#f-child-birth_place", "Bệnh viện Phụ sản Hải Phòng")
    page.fill("#f-mother-full_name", "Trần Thị Cúc")
    page.fill("#f-mother-birth_year", "1990")
    page.fill("#f-father-full_name", "Nguyễn Văn An")
    page.fill("#f-father-birth_year", "1988")
    page.fill("#f-extract_copies", "0")
    page.check("#" + field_id("attachment.giay_chung_sinh"))  # the paper received at the counter
    follow(page, page.get_by_role("button", name="Tiếp nhận hồ sơ").last)  # the intake's answer, not its form
    summary = page.locator("[data-error-summary]")
    assert summary.count() == 0, summary.inner_text()  # the intake refused it: say why
    notice = page.get_by_text("Đã tiếp nhận hồ sơ ")
    notice.wait_for()
    return notice.inner_text().strip().removeprefix("Đã tiếp nhận hồ sơ ").rstrip(".")


@pytest.mark.browser
def test_desk_intake_to_the_citizens_signed_result(app, live_server, browser, certs, tmp_path):  # noqa: F811
    store = app.extensions["motcua"].store
    accounts.create_account(store, "lan", "Nguyễn Thị Lan", ["desk"], [AGENCY_A], PASSWORD)
    accounts.create_account(store, "minh", "Trần Văn Minh", ["specialist"], [AGENCY_A], PASSWORD)
    accounts.create_account(store, "hung", "Phạm Văn Hùng", ["leader"], [AGENCY_A], PASSWORD)
    draft = tmp_path / "du-thao-trich-luc.pdf"
    draft.write_bytes(small_pdf("Du thao trich luc khai sinh"))
    result = tmp_path / "Giấy khai sinh.pdf"
    result.write_bytes(small_pdf("Giay khai sinh ban dien tu"))
    base = live_server.url

    desk_ctx, desk = staff_login(browser, base, "lan", PASSWORD)
    specialist_ctx, specialist = staff_login(browser, base, "minh", PASSWORD)
    leader_ctx, leader = staff_login(browser, base, "hung", PASSWORD)
    try:
        # 1. At the counter: entered and received at once, then sent to the civil-status officer.
        code = _enter_at_desk(desk, base)
        dossier = store.dossiers.get(code)
        assert dossier.channel == "desk" and dossier.status == Status.RECEIVED
        url = f"{base}/staff/ho-so/{code}"
        process = desk.locator('form[data-action="process"]')
        process.get_by_label("Chuyển đến đơn vị").fill(UNIT)  # the shipped spec names no units: free text
        process.get_by_role("button", name="Chuyển xử lý").click()
        desk.get_by_text("Đã thực hiện: Chuyển xử lý.").wait_for()

        # 2. Opinion, rework, second opinion, approval.
        specialist.goto(url)
        submit_opinion(specialist, "Hồ sơ đủ điều kiện.", "Trích lục khai sinh cho cháu Nguyễn Văn Bình.", str(draft))
        specialist.get_by_text("Đã thực hiện: Trình ý kiến và dự thảo kết quả.").wait_for()

        leader.goto(url)
        rework = leader.locator('form[data-action="rework"]')
        rework.get_by_label("Lý do").fill("Ghi rõ quê quán của cháu.")
        rework.get_by_role("button", name="Trả lại để xử lý lại").click()
        leader.get_by_text("Đã thực hiện: Trả lại để xử lý lại.").wait_for()

        specialist.goto(url)
        assert specialist.get_by_text("Ghi rõ quê quán của cháu.").count() >= 1
        submit_opinion(specialist, "Đã ghi quê quán theo ý kiến lãnh đạo.",
                 "Trích lục khai sinh cho cháu Nguyễn Văn Bình, quê quán Hải Phòng.")
        specialist.get_by_text("Đã thực hiện: Trình ý kiến và dự thảo kết quả.").wait_for()

        leader.goto(url)
        assert leader.get_by_text("lần trình thứ 2").count() == 1
        follow(leader, leader.locator('form[data-action="approve"]').get_by_role("button", name="Phê duyệt kết quả"))
        leader.get_by_text("Đã thực hiện: Phê duyệt kết quả.").wait_for()

        # 3. The leader attaches the result and signs it with the agency's key.
        leader.get_by_label("Tệp kết quả (PDF)").set_input_files(str(result))
        assert leader.get_by_label("Ký số bằng chứng thư số của cơ quan").is_checked()
        leader.get_by_role("button", name="Đính kèm kết quả").click()
        leader.get_by_text("Đã ký số và đính kèm kết quả điện tử.").wait_for()
        leader.get_by_text("Đã ký số: UBND xã Thử Nghiệm").wait_for()

        # 4. The desk returns the result.
        desk.goto(url)
        desk.locator('form[data-action="return_result"]').get_by_role("button", name="Trả kết quả").click()
        desk.get_by_text("Đã thực hiện: Trả kết quả.").wait_for()
        assert store.dossiers.get(code).status == Status.RETURNED

        leader.goto(url)
        sheet = leader.locator(".panel-control-sheet tbody tr")
        assert sheet.count() >= 6  # received, sent, opinion, rework, opinion, decision (and what follows)
        assert UNIT in sheet.nth(3).inner_text()  # the rework went back to the unit the desk sent it to
        assert "Phạm Văn Hùng" in sheet.nth(5).inner_text()  # the leader's decision
    finally:
        desk_ctx.close()
        specialist_ctx.close()
        leader_ctx.close()

    # 5. The citizen opens the receipt's private link and downloads the signed PDF.
    citizen = browser.new_context(locale="vi-VN", accept_downloads=True)
    page = citizen.new_page()
    try:
        page.goto(base + private_link_path(app.secret_key, code))
        page.get_by_text("có chữ ký số của UBND xã Thử Nghiệm").wait_for()
        with page.expect_download() as download:
            page.get_by_role("link", name="Giấy khai sinh.pdf").click()
        saved = tmp_path / "downloaded.pdf"
        download.value.save_as(saved)
    finally:
        citizen.close()
    assert saved.read_bytes() != result.read_bytes()  # what was downloaded is the signed copy
    status = validate(saved.read_bytes(), certs["ca.pem"])  # in its own thread, away from Playwright's loop
    assert status.intact and status.valid and status.trusted
