"""What the desk took in and what was paid, said the same way on the receipt, the staff page
and the timeline.

- The receipt (mẫu 01) lists the components handed in on paper at the desk, with originals
  and copies, and says the fee was paid with the receipt number the desk recorded.
- The staff dossier page marks a component received on paper as such.
- A fee taken at the counter with the filing leaves no "fee due" event before the `paid` one;
  the fee-due note says where the fee is actually paid (the post office, for cash on delivery).
- Section 6 of the receipt is one bill: fees, postal charge, one total saying what it covers;
  an English receipt carries the national header in English.

Real app on a TinyDB folder in tmp through the test client; PDFs read back with pypdf.
"""

from __future__ import annotations

import re

from fixtures.workflow_kit import file_dossier, make_spec
from motcua_renderers.documents import receipt_pdf
from test_backoffice import answers, logged_in, office, two_agency_specs  # noqa: F401
from test_backoffice_desk import filed_code, intake_post, svc
from test_renderers_documents import birth, make_dossier, pdf_text, text_under_the_qr_code  # noqa: F401

PAID_LINE = "Đã nộp phí, lệ phí: 16.000 ₫ (biên lai số BL-0099)"


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def receipt_text(client, code: str) -> str:
    response = client.get(f"/staff/ho-so/{code}/giay-tiep-nhan.pdf")
    assert response.status_code == 200
    return flat(pdf_text(response.data))


# --- 1. the receipt and the staff page say what was handed in on paper, and that it was paid ------


def test_receipt_lists_the_paper_components_and_the_fee_paid_at_the_counter(office):  # noqa: F811
    client = logged_in(office, "lan")
    # the witness statement is not required by these answers: listed because it was handed in
    code = filed_code(intake_post(client, answers(copies=2), **{"received.van_ban_lam_chung": "1",
                                                               "fee.paid": "1", "fee.receipt_no": "BL-0099"}))
    text = receipt_text(client, code)
    assert "Không có giấy tờ kèm theo" not in text and "Chưa nộp" not in text
    assert "1 Giấy chứng sinh Bản chính: 1, bản sao: 0 Đã nhận bản giấy" in text
    assert "2 Văn bản xác nhận của người làm chứng Bản chính: 1, bản sao: 0 Đã nhận bản giấy" in text
    assert PAID_LINE in text

    page = client.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    components = page[page.index('<ul class="components">'):]
    components = flat(components[:components.index("</ul>")])
    assert "Giấy chứng sinh – đã nhận bản giấy" in components
    assert "Văn bản xác nhận của người làm chứng – đã nhận bản giấy" in components
    assert "không bắt buộc" not in components


def test_the_desk_receipt_keeps_its_qr_code_clear_of_the_text(office):  # noqa: F811
    """Issue 10 finding 9, the staff's print-out: the request line is no longer under the code."""
    client = logged_in(office, "lan")
    code = filed_code(intake_post(client, answers(copies=2)))
    response = client.get(f"/staff/ho-so/{code}/giay-tiep-nhan.pdf")
    assert "Nội dung yêu cầu giải quyết" in pdf_text(response.data)
    assert text_under_the_qr_code(response.data) == ""


def test_an_unpaid_desk_intake_says_nothing_paid_and_keeps_the_fee_due_event(office):  # noqa: F811
    client = logged_in(office, "lan")
    code = filed_code(intake_post(client, answers(copies=2)))
    text = receipt_text(client, code)
    assert "Đã nộp phí, lệ phí" not in text
    assert "Giấy chứng sinh Bản chính: 1, bản sao: 0 Đã nhận bản giấy" in text
    # the fee is still due at the counter: that is on the timeline, in the desk's words
    due = [e for e in svc(office).store.dossiers.get(code).events if e.kind == "payment_due_at_desk"]
    assert len(due) == 1 and due[0].note == "Phí, lệ phí phải nộp tại Bộ phận một cửa: 16.000 ₫."


# --- 2. the fee-due note: not written when paid with the filing, worded by how it is paid ------------


def test_a_fee_paid_with_the_desk_filing_leaves_no_fee_due_event(office):  # noqa: F811
    client = logged_in(office, "lan")
    code = filed_code(intake_post(client, answers(copies=2), **{"fee.paid": "1", "fee.receipt_no": "BL-0099"}))
    dossier = svc(office).store.dossiers.get(code)
    kinds = [e.kind for e in dossier.events]
    assert "payment_due_at_desk" not in kinds and "payment_requested" not in kinds, kinds
    assert kinds[:4] == ["filed", "paper_components", "paid", "received"], kinds
    assert dossier.steps["payment"]["paid"] is True


def test_the_fee_due_note_of_a_cash_on_delivery_return_says_pay_the_post_office(app):
    steps = [{"name": "payment", "config": {"mode": "desk"}}, "review", "postal"]
    store = app.extensions["motcua"].store
    cod = store.dossiers.get(file_dossier(app, make_spec(steps, cod=True), delivery="postal", fee=100000))
    note = next(e for e in cod.events if e.kind == "payment_due_at_desk").note
    assert note == "Phí, lệ phí 100.000 ₫ nộp cho bưu điện khi nhận kết quả (thu hộ)."
    # without cash on delivery the fee is paid at the desk before the result is posted
    plain = store.dossiers.get(file_dossier(app, make_spec(steps, version="wf-plain", cod=False), delivery="postal", fee=100000))
    assert next(e for e in plain.events if e.kind == "payment_due_at_desk").note == "Phí, lệ phí phải nộp tại Bộ phận một cửa: 100.000 ₫."


# --- 3. section 6 is one bill; the English receipt's national header -----------------------------


def test_receipt_fee_section_is_one_bill_with_one_total_saying_what_it_covers(birth):  # noqa: F811
    text = flat(pdf_text(receipt_pdf(make_dossier(birth), birth, "https://dvc.example.vn/ho-so/x", "vi")))
    section = text[text.index("6. Phí, lệ phí:"):text.index("7. Đăng ký nhận kết quả")]
    assert section == (
        "6. Phí, lệ phí: - Lệ phí đăng ký khai sinh: miễn - Phí cấp bản sao trích lục khai sinh: 2 × 8.000 ₫ = 16.000 ₫ "
        "- Cước bưu chính (trả cho bưu điện khi nhận kết quả): 25.000 ₫ "
        "- Tổng cộng: 41.000 ₫ (16.000 ₫ phí, lệ phí nộp cho cơ quan giải quyết; 25.000 ₫ cước bưu chính trả cho bưu điện) "
    ), section
    assert section.lower().count("tổng cộng") == 1


def test_receipt_without_fees_says_none_are_charged(birth):  # noqa: F811
    dossier = make_dossier(birth).model_copy(update={"fees": [], "fee_total": 0, "delivery": None})
    text = flat(pdf_text(receipt_pdf(dossier, birth, "https://dvc.example.vn/ho-so/x", "vi")))
    assert "6. Phí, lệ phí: không thu 7." in text


def test_english_receipt_has_the_national_header_in_english(birth):  # noqa: F811
    text = flat(pdf_text(receipt_pdf(make_dossier(birth), birth, "https://dvc.example.vn/ho-so/x", "en")))
    assert "SOCIALIST REPUBLIC OF VIETNAM" in text and "Independence - Freedom - Happiness" in text
    assert "CỘNG HÒA" not in text and "Độc lập" not in text
    assert "Total: VND 41,000" in text and text.lower().count("total") == 1
