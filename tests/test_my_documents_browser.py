"""In a real headless Chromium: a signed-in citizen files with an upload, then — in a browser
with JavaScript off — files again choosing that file from "Giấy tờ của tôi" instead of
uploading it; no Content-Security-Policy violation on the way."""

from __future__ import annotations

import pytest

from tests.conftest import watch_csp
from tests.portal_helpers import CONTINUE, fill_birth_steps, follow, small_pdf
from tests.test_accounts_browser import portal, sign_in_as  # noqa: F401 - fixture

pytestmark = pytest.mark.browser


def fill_to_attachments(page, base: str) -> None:
    page.goto(base + "/thu-tuc/1.001193/nop")
    page.select_option("select[name=agency]", "000.06.50.H15")  # the commune office filed with
    page.select_option("#f-requester-relation", "cha")
    follow(page, CONTINUE)
    fill_birth_steps(page)


def finish(page) -> str:
    page.check("input[name='delivery.kind'][value='desk']")
    follow(page, CONTINUE)
    follow(page, "button:has-text('Nộp hồ sơ')")
    return page.locator("#dossier-code").inner_text().strip()


@pytest.mark.parametrize("javascript", [True, False])
def test_choose_an_earlier_file_instead_of_uploading(portal, browser, tmp_path, javascript):  # noqa: F811
    base, _idp = portal
    context = browser.new_context(locale="vi-VN", java_script_enabled=javascript)
    page = context.new_page()
    violations = watch_csp(page)
    sign_in_as(page, base, "demo-citizen-an")
    fill_to_attachments(page, base)
    assert page.locator("select[name='reuse.attachment.giay_chung_sinh']").count() == 0  # nothing filed yet
    pdf = tmp_path / "ban-sao-cccd.pdf"
    pdf.write_bytes(small_pdf())
    page.set_input_files("#f-attachment-giay_chung_sinh", str(pdf))
    follow(page, CONTINUE)
    first = finish(page)

    page.goto(base + "/ho-so-cua-toi")
    follow(page, "a[data-my-documents]")
    row = page.locator("table.my-documents tbody tr")
    assert row.count() == 1 and "ban-sao-cccd.pdf" in row.inner_text() and first in row.inner_text()

    fill_to_attachments(page, base)
    choice = page.locator("select[name='reuse.attachment.giay_chung_sinh'] option", has_text="ban-sao-cccd.pdf")
    page.select_option("select[name='reuse.attachment.giay_chung_sinh']", choice.get_attribute("value"))
    follow(page, CONTINUE)
    second = finish(page)
    assert second != first
    page.goto(base + "/giay-to-cua-toi")
    assert page.locator("table.my-documents tbody tr").count() == 2  # the same file, in both dossiers
    context.close()
    assert violations == [], "Content-Security-Policy violations:\n" + "\n".join(violations)
