"""A citizen, in a real headless Chromium, answers a request for a supplement by uploading
the paper staff asked for; the dossier leaves status 5."""

from __future__ import annotations

import pytest

from motcua.dossier import Status
from tests.portal_helpers import follow, small_pdf
from tests.test_portal_supplement import PHONE, asked

pytestmark = pytest.mark.browser


def test_citizen_uploads_the_requested_file(app, live_server, page, tmp_path):
    code = asked(app, reason="Bản chụp giấy chứng sinh bị mờ", components=["giay_chung_sinh"])
    proof = tmp_path / "giay-chung-sinh.pdf"
    proof.write_bytes(small_pdf())

    page.goto(live_server.url + "/tra-cuu")
    page.fill("#code", code)
    page.fill("#factor", PHONE)
    follow(page, "button:has-text('Tra cứu')")
    follow(page, "a.button:has-text('Gửi hồ sơ bổ sung')")

    request = page.locator("[data-supplement-request]")
    assert "Bản chụp giấy chứng sinh bị mờ" in request.inner_text()
    assert page.locator("#f-attachment-van_ban_lam_chung").count() == 0  # only what was asked
    # sent without the file: refused, the note kept, the error beside the file input
    page.fill("#f-note", "Gửi lại bản chụp rõ hơn")
    follow(page, "button[type=submit]:has-text('Gửi hồ sơ bổ sung')")  # the same page, the note kept: the new one
    assert "Hãy đính kèm" in page.locator("#f-attachment-giay_chung_sinh-error").inner_text()
    assert page.input_value("#f-note") == "Gửi lại bản chụp rõ hơn"

    page.set_input_files("#f-attachment-giay_chung_sinh", str(proof))
    follow(page, "button[type=submit]:has-text('Gửi hồ sơ bổ sung')")
    assert "Đã gửi hồ sơ bổ sung" in page.locator(".notice").inner_text()
    assert page.url.endswith(f"/ho-so/{code}")

    dossier = app.extensions["motcua"].store.dossiers.get(code)
    assert dossier.status == Status.RECEIVED
    assert dossier.attachments[-1].filename == "giay-chung-sinh.pdf"
    assert dossier.attachments[-1].sha256 and app.extensions["motcua"].store.files.read(dossier.attachments[-1].file_id) == proof.read_bytes()


def test_asked_answers_under_a_condition_read_off_the_page_are_shown(app, live_server, page):
    from tests.test_portal_supplement import asked_marital

    code = asked_marital(app, fields=["intended_spouse"])
    page.goto(live_server.url + "/tra-cuu")
    page.fill("#code", code)
    page.fill("#factor", PHONE)
    follow(page, "button:has-text('Tra cứu')")  # a goto at once could cancel the look-up that opens the dossier
    page.goto(live_server.url + f"/ho-so/{code}/bo-sung")
    # the asked answers show although `purpose` (their condition) is not on this page
    assert page.locator("#f-intended_spouse-birth_year").is_visible()
    assert page.input_value("#f-intended_spouse-birth_year") == "1992"
    page.fill("#f-intended_spouse-birth_year", "1993")
    follow(page, "button[type=submit]:has-text('Gửi hồ sơ bổ sung')")
    assert "Đã gửi hồ sơ bổ sung" in page.locator(".notice").inner_text()
    dossier = app.extensions["motcua"].store.dossiers.get(code)
    assert dossier.data["intended_spouse"]["birth_year"] == 1993 and dossier.data["purpose"] == "ket_hon"
