"""A citizen reading English, in a real headless Chromium, files a judicial record request.

The procedure is level 4 and its law counts calendar days, so the pages must say "10 days"
(not working days), write amounts the English way and keep every message in English.
"""

from __future__ import annotations

import io
import re
from datetime import datetime

import pytest
from pypdf import PdfReader

from motcua.i18n import format_date
from motcua.workdays import VN_TZ, Calendar
from tests.portal_helpers import CONTINUE, follow

pytestmark = pytest.mark.browser


def test_citizen_reading_english_files_a_judicial_record_request(live_server, page):
    base = live_server.url
    page.goto(base + "/")
    follow(page, ".lang-switch a:has-text('English')")
    assert page.locator("html").get_attribute("lang") == "en"
    follow(page, "h3 a:has-text('Judicial record certificate')")

    # The info page: English labels, issuers, amounts and a limit in calendar days.
    info = page.locator("main").inner_text()
    for text in ("Legal basis", "Issued by", "National Assembly", "Ministry of Justice", "Ministry of Finance",
                 "VND 200,000", "VND 25,000", "10 days", "at most 15 days",
                 "Request for a judicial record certificate (no. 03/2024/LLTP)"):
        assert text in info, text
    for text in ("Quốc hội", "Bộ Tư pháp", "₫", "ngày", "working days", "Mẫu số"):
        assert text not in info, text
    follow(page, "text=File online >> nth=0")

    # Step 1, with a mistake: the error is in English, next to the field, the values kept.
    assert page.locator(".progress").inner_text() == "Step 1 of 7"
    assert page.locator("label[for='f-applicant-full_name']").inner_text().startswith("Full name")
    page.fill("#f-applicant-full_name", "Tran Thi Mai")
    page.check("#f-applicant-sex-1")
    page.fill("#f-applicant-birth_date", "1998-03-14")
    page.fill("#f-applicant-birth_place", "Ha Noi")
    page.fill("#f-applicant-cccd", "001198012345")
    page.fill("#f-applicant-phone", "09123")
    page.fill("#f-applicant-permanent_residence", "5 Trang Tien, Ha Noi")
    page.fill("#f-parents-father_name", "Tran Van Hung")
    page.fill("#f-parents-mother_name", "Le Thi Hoa")
    follow(page, CONTINUE)
    summary = page.locator("[data-error-summary]")
    assert summary.is_visible()
    assert "Invalid mobile phone number" in summary.inner_text()
    assert "Invalid mobile phone number" in page.locator("#f-applicant-phone-error").inner_text()
    assert "không hợp lệ" not in page.locator("main").inner_text()
    assert page.input_value("#f-applicant-full_name") == "Tran Thi Mai"
    page.fill("#f-applicant-phone", "0912345678")
    follow(page, CONTINUE)

    # Step 2: where the applicant has lived.
    assert page.locator(".progress").inner_text() == "Step 2 of 7"
    page.fill("#f-residence_history-0-from_date", "2012-03-14")
    page.fill("#f-residence_history-0-place", "Ha Noi")
    follow(page, CONTINUE)

    # Step 3: the request; the defaults (certificate no. 1, one copy, standard fee) stand.
    assert page.locator(".progress").inner_text() == "Step 3 of 7"
    assert "Certificate no. 1" in page.locator("main").inner_text()
    page.fill("#f-purpose", "Job application")
    follow(page, CONTINUE)
    follow(page, CONTINUE)  # step 4: filing for myself (the default)
    follow(page, CONTINUE)  # step 5: no document is required in this case

    # Step 6: the result as an electronic certificate.
    assert page.locator(".progress").inner_text() == "Step 6 of 7"
    page.check("input[name='delivery.kind'][value='electronic']")
    follow(page, CONTINUE)

    # Check your answers, in English, then file.
    check = page.locator("main").inner_text()
    assert "VND 200,000" in check and "₫" not in check
    follow(page, "button:has-text('File the dossier')")
    filed_at = datetime.now(VN_TZ)
    assert page.locator("h1").inner_text() == "Dossier filed"
    code = page.locator("#dossier-code").inner_text().strip()
    assert re.fullmatch(r"000\.06\.35\.H15-\d{6}-\d{4}", code)
    due = Calendar.load().due_date(filed_at, 10, calendar_days=True)  # the Friday case: test_l10n_english

    # The receipt, in English.
    follow(page, "text=View the receipt")
    receipt = page.locator("main").inner_text()
    assert page.locator("h1").inner_text() == "Receipt and appointment slip"
    for text in (code, "Time limit", "10 days", "Result due on", format_date(due, "en"), "VND 200,000"):
        assert text in receipt, text
    assert "ngày" not in receipt and "₫" not in receipt
    href = page.get_attribute("a:has-text('Download the receipt (PDF)')", "href")
    response = page.request.get(base + href)
    assert response.ok
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    assert code in text and "10 days" in text and "VND 200,000" in text
