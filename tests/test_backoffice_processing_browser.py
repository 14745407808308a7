"""The processing loop in a real Chromium, on the staff pages: the specialist records an
opinion with a draft PDF, the leader returns it for rework, the same draft again is refused,
a second opinion goes up, the leader approves; the control sheet shows every hand-over."""

from __future__ import annotations

import pytest

from motcua import accounts
from motcua.dossier import Status

from fixtures.staff_pages import staff_login, submit_opinion
from portal_helpers import follow, small_pdf
from test_backoffice import AGENCY_A, PASSWORD, answers


def _login(browser, base: str, username: str):
    return staff_login(browser, base, username, PASSWORD)


@pytest.mark.browser
def test_specialist_opinion_leader_rework_second_opinion_approval(app, live_server, browser, tmp_path):
    from motcua.filing import file_dossier

    svc = app.extensions["motcua"]
    spec = svc.catalogue.get("1.001193")
    store, engine = svc.store, svc.engine
    desk = accounts.create_account(store, "lan", "Nguyễn Thị Lan", ["desk"], [AGENCY_A], PASSWORD)
    accounts.create_account(store, "minh", "Trần Văn Minh", ["specialist"], [AGENCY_A], PASSWORD)
    accounts.create_account(store, "hung", "Phạm Văn Hùng", ["leader"], [AGENCY_A], PASSWORD)
    with app.test_request_context():
        code = file_dossier(spec, answers(name="Phạm Thị Hoa"), [], channel="online", delivery=None, actor="citizen",
                            agency=AGENCY_A).code
    engine.perform(code, "receive", desk)
    engine.perform(code, "process", desk, transfer_to="Công chức Tư pháp – Hộ tịch")
    pdf = tmp_path / "du-thao-trich-luc.pdf"
    pdf.write_bytes(small_pdf("Du thao trich luc khai sinh"))
    url = f"{live_server.url}/staff/ho-so/{code}"

    specialist_ctx, specialist = _login(browser, live_server.url, "minh")
    leader_ctx, leader = _login(browser, live_server.url, "hung")
    try:
        specialist.goto(url)
        submit_opinion(specialist, "Hồ sơ đủ điều kiện.", "Trích lục khai sinh cho cháu Nguyễn Văn Bình.", str(pdf))
        specialist.get_by_text("Đã thực hiện: Trình ý kiến và dự thảo kết quả.").wait_for()
        assert specialist.get_by_role("link", name="du-thao-trich-luc.pdf").count() == 1

        leader.goto(url)
        assert leader.get_by_text("Hồ sơ đủ điều kiện.").count() == 1
        rework = leader.locator('form[data-action="rework"]')
        rework.get_by_label("Lý do").fill("Ghi rõ quê quán của cháu.")
        follow(leader, rework.get_by_role("button", name="Trả lại để xử lý lại"))  # loaded whole: a form's absence
        leader.get_by_text("Đã thực hiện: Trả lại để xử lý lại.").wait_for()
        assert leader.locator('form[data-action="approve"]').count() == 0  # nothing to decide on now

        specialist.goto(url)
        assert specialist.get_by_text("Ghi rõ quê quán của cháu.").count() >= 1
        submit_opinion(specialist, "Hồ sơ đủ điều kiện.", "Trích lục khai sinh cho cháu Nguyễn Văn Bình.", str(pdf))
        specialist.get_by_text("không thay đổi so với lần trình trước").wait_for()
        submit_opinion(specialist, "Đã ghi quê quán theo ý kiến lãnh đạo.",
                 "Trích lục khai sinh cho cháu Nguyễn Văn Bình, quê quán Hải Phòng.")
        specialist.get_by_text("Đã thực hiện: Trình ý kiến và dự thảo kết quả.").wait_for()

        leader.goto(url)
        assert leader.get_by_text("lần trình thứ 2").count() == 1
        follow(leader, leader.locator('form[data-action="approve"]').get_by_role("button", name="Phê duyệt kết quả"))
        leader.get_by_text("Đã thực hiện: Phê duyệt kết quả.").wait_for()
        assert store.dossiers.get(code).status == Status.FINISHED

        sheet = leader.locator(".panel-control-sheet tbody tr")
        assert sheet.count() == 6  # received, sent, opinion, rework, opinion, decision
        assert "Công chức Tư pháp – Hộ tịch" in sheet.nth(3).inner_text()
        assert "Phạm Văn Hùng" in sheet.nth(5).inner_text()
    finally:
        specialist_ctx.close()
        leader_ctx.close()
