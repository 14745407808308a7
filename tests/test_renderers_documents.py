"""Printable documents, answer rows and QR codes: read back the way a person's tools read them."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, timezone
from pathlib import Path

import pypdf
import pytest
from docx import Document

from motcua.dossier import AttachmentRef, Contact, DeliveryChoice, Dossier
from motcua.fees import compute_fees, total
from motcua.spec.loader import load_file
from motcua.spec.model import ProcedureSpec
from renderers.documents import blank_form_docx, blank_form_pdf, receipt_pdf
from renderers.qr import dark_runs, qr_matrix, qr_svg
from renderers.summary import answer_rows

REPO = Path(__file__).resolve().parent.parent
BIRTH = REPO / "procedure_specs" / "ho-tich" / "dang-ky-khai-sinh.yaml"


@pytest.fixture(scope="module")
def birth() -> ProcedureSpec:
    loaded = load_file(BIRTH)
    assert loaded.spec is not None, loaded.findings
    return loaded.spec


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


EXPECTED_ON_BLANK_FORM = [
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "TỜ KHAI ĐĂNG KÝ KHAI SINH",
    "Thủ tục: Đăng ký khai sinh (mã 1.001193, phiên bản 2025.1)",
    "Kính gửi: Ủy ban nhân dân cấp xã",
    "Người được khai sinh",
    "Họ, chữ đệm, tên:",
    "Ngày, tháng, năm sinh: ……/……/…………",
    "☐ Nam",
    "☐ Nữ",
    "☐ Người thân thích khác",
    "☐ Khai thông tin về cha",
    "(Chỉ khai khi Khai thông tin về cha: Có)",
    "Số bản sao trích lục khai sinh đề nghị cấp:",
    "Giấy tờ kèm theo",
    "Văn bản xác nhận của người làm chứng",
    "NGƯỜI YÊU CẦU",
]


def test_blank_form_pdf_reads_back_with_every_diacritic(birth):
    data = blank_form_pdf(birth, "vi")
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    for expected in EXPECTED_ON_BLANK_FORM:
        assert expected in text, expected
    fonts = {
        str(font["/BaseFont"])
        for page in pypdf.PdfReader(io.BytesIO(data)).pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert all("Motcua-" in name for name in fonts), fonts  # our shipped DejaVu, not a system font


def test_blank_form_docx_says_the_same(birth):
    text = docx_text(blank_form_docx(birth, "vi"))
    for expected in EXPECTED_ON_BLANK_FORM:
        assert expected in text, expected


def test_blank_form_in_english(birth):
    text = pdf_text(blank_form_pdf(birth, "en"))
    assert "Birth registration" in text.replace("\n", " ")
    assert "☐ Female" in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text  # the national header is never translated


def test_blank_form_of_a_level_2_spec_without_form():
    spec = ProcedureSpec.model_validate(
        {
            "code": "2.000815",
            "version": "1",
            "name": "Chứng thực bản sao từ bản chính",
            "sector": "Chứng thực",
            "agency": {"name": "Ủy ban nhân dân cấp xã", "tier": "commune"},
            "filers": ["citizen"],
            "level": "forms",
            "info": {"result": "Bản sao được chứng thực", "processing_time": {"working_days": 0}},
            "attachments": [{"id": "ban_chinh", "name": "Bản chính giấy tờ cần chứng thực", "originals": 1, "copies": 1}],
        }
    )
    text = pdf_text(blank_form_pdf(spec, "vi"))
    assert "Bản chính giấy tờ cần chứng thực (bản chính: 1, bản sao: 1; bắt buộc)" in text.replace("\n", " ")
    assert "Bản chính giấy tờ cần chứng thực" in docx_text(blank_form_docx(spec, "vi"))


ANSWERS = {
    "requester": {"full_name": "Nguyễn Thị Hồng", "cccd": "079190001234", "phone": "0912345678", "relation": "me"},
    "child": {
        "full_name": "Lê Hoàng Đức Ưng",
        "birth_date": "2025-05-20",
        "sex": "nam",
        "ethnicity": "Kinh",
        "nationality": "Việt Nam",
        "birth_place": "Bệnh viện Từ Dũ",
    },
    "mother": {"full_name": "Nguyễn Thị Hồng", "birth_year": 1995},
    "has_father": False,
    "father": {"full_name": "should not show"},
    "birth_proof": "giay_chung_sinh",
    "extract_copies": 2,
}


def make_dossier(spec: ProcedureSpec) -> Dossier:
    lines = compute_fees(spec, ANSWERS)
    return Dossier(
        code="000.00.31.H12-250520-0007",
        procedure_code=spec.code,
        spec_version=spec.version,
        agency_code=spec.agency.code,
        channel="online",
        data=ANSWERS,
        attachments=[
            AttachmentRef(
                component="giay_chung_sinh", file_id="f1", filename="giấy-chứng-sinh.pdf", content_type="application/pdf", size=2048, sha256="0" * 64
            )
        ],
        delivery=DeliveryChoice(kind="postal", address={"street": "12 Lê Lợi", "commune": "Phường Bến Thành", "province": "79"}, postal_charge=25000),
        contact=Contact(name="Nguyễn Thị Hồng", phone="0912345678", cccd="079190001234"),
        fees=[line.model_dump() for line in lines],
        fee_total=total(lines),
        filed_at=datetime(2025, 5, 20, 7, 45, tzinfo=timezone.utc),  # 14:45 in Viet Nam
        due_date=date(2025, 5, 21),
    )


def test_receipt_is_form_01_with_everything_the_citizen_needs(birth):
    dossier = make_dossier(birth)
    url = "https://dichvucong.example.vn/ho-so/000.00.31.H12-250520-0007"
    data = receipt_pdf(dossier, birth, url, "vi")
    text = pdf_text(data)
    flat = re.sub(r"\s+", " ", text)
    for expected in (
        "ỦY BAN NHÂN DÂN CẤP XÃ",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        "Mã hồ sơ: 000.00.31.H12-250520-0007",
        "Ông/Bà: Nguyễn Thị Hồng",
        "Nội dung yêu cầu giải quyết: Đăng ký khai sinh (mã thủ tục 1.001193)",
        "Giấy chứng sinh",
        "giấy-chứng-sinh.pdf",
        "Bản chính: 1, bản sao: 0",
        "4. Thời gian nhận hồ sơ: 14 giờ 45 phút, ngày 20/05/2025",
        "5. Thời gian trả kết quả giải quyết hồ sơ: ngày 21/05/2025",
        "Phí cấp bản sao trích lục khai sinh: 16.000 ₫",
        "Qua dịch vụ bưu chính công ích (12 Lê Lợi, Phường Bến Thành,",
        "NGƯỜI TIẾP NHẬN HỒ SƠ",
    ):
        assert expected in flat, expected
    # the QR code is drawn as filled rectangles: one per dark run of the tracking link's code
    content = b"".join(page.get_contents().get_data() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert content.count(b" re") >= len(dark_runs(qr_matrix(url, border=0)))


def test_answer_rows_read_like_the_form(birth):
    rows = answer_rows(birth, ANSWERS, "vi")
    as_dict = dict(rows)
    assert as_dict["Người được khai sinh › Ngày, tháng, năm sinh"] == "20/05/2025"
    assert as_dict["Người được khai sinh › Giới tính"] == "Nam"
    assert as_dict["Người yêu cầu › Quan hệ với người được khai sinh"] == "Mẹ"
    assert as_dict["Khai thông tin về cha"] == "Không"
    assert as_dict["Giấy tờ chứng minh việc sinh"] == "Giấy chứng sinh"
    assert as_dict["Mẹ › Năm sinh"] == "1995"
    assert not any(label.startswith("Cha") for label, _ in rows)  # hidden by has_father = false
    assert rows[0] == ("Người yêu cầu › Họ, chữ đệm, tên", "Nguyễn Thị Hồng")
    with_paths = answer_rows(birth, ANSWERS, "en", with_paths=True)
    # in English the labels come from the spec's `form.ui` labels, the choices from enum_labels
    assert ("child.sex", "The child › Sex", "Male") in with_paths


def test_qr_svg_is_inline_and_encodes_the_whole_matrix():
    url = "https://dichvucong.example.vn/ho-so/X?a=1&b=<2>"
    svg = qr_svg(url)
    assert not svg.startswith("<?xml")
    root = ET.fromstring(svg)
    matrix = qr_matrix(url)
    assert root.get("viewBox") == f"0 0 {len(matrix)} {len(matrix)}"
    assert root.get("aria-label") == url  # escaped in the markup, intact once parsed
    path = root.find("{http://www.w3.org/2000/svg}path").get("d")
    drawn = set()
    for x, y, n in re.findall(r"M(\d+) (\d+)h(\d+)", path):
        drawn |= {(int(y), int(x) + i) for i in range(int(n))}
    dark = {(y, x) for y, row in enumerate(matrix) for x, v in enumerate(row) if v}
    assert drawn == dark
    assert qr_svg("https://a.example/1") != qr_svg("https://a.example/2")
