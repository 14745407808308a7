"""Printable documents, answer rows and QR codes: read back the way a person's tools read them."""

from __future__ import annotations

import io
import re
import unicodedata
import xml.etree.ElementTree as ET
from datetime import date, datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import pdfplumber
import pypdf
import pytest
from docx import Document

from motcua.app import create_app
from motcua.dossier import AttachmentRef, Contact, DeliveryChoice, Dossier, Event
from motcua.fees import compute_fees, total
from motcua.spec.loader import load_file
from motcua.spec.model import Level, ProcedureSpec
from motcua_renderers.documents import (
    TemplateFolderMissing,
    blank_form_context,
    blank_form_docx,
    blank_form_pdf,
    css_string,
    local_fetcher,
    receipt_context,
    receipt_pdf,
    render_html,
)
from motcua_renderers.qr import dark_runs, qr_matrix, qr_svg
from motcua_renderers.summary import answer_rows

REPO = Path(__file__).resolve().parent.parent
BIRTH = REPO / "procedure_specs" / "ho-tich" / "dang-ky-khai-sinh.yaml"
SPECS_WITH_FORMS = [
    path for path in sorted((REPO / "procedure_specs").glob("*/*.yaml"))
    if (spec := load_file(path).spec) is not None and spec.level >= Level.FORMS and spec.form is not None
]


@pytest.fixture(scope="module")
def birth() -> ProcedureSpec:
    loaded = load_file(BIRTH)
    assert loaded.spec is not None, loaded.findings
    return loaded.spec


def qr_modules(data: bytes) -> list[list[bool]]:
    """The QR code printed on the first page, read back module by module from its image."""
    image = pypdf.PdfReader(io.BytesIO(data)).pages[0].images[0].image.convert("L")
    width = image.width
    # the image is a whole number of pixels per module; find how many by the finder pattern,
    # whose dark run on the first dark row is 7 modules long
    row = next(y for y in range(image.height) if any(image.getpixel((x, y)) < 128 for x in range(width)))
    first = next(x for x in range(width) if image.getpixel((x, row)) < 128)
    run = next(x for x in range(first, width) if image.getpixel((x, row)) >= 128) - first
    module = run // 7
    count = width // module
    return [[image.getpixel((x * module + module // 2, y * module + module // 2)) < 128 for x in range(count)] for y in range(count)]


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat_text(data: bytes) -> str:
    return re.sub(r"\s+", " ", pdf_text(data))


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
    "Thủ tục: Đăng ký khai sinh (mã 1.001193, phiên bản 2026.3)",
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
    lines = compute_fees(spec, ANSWERS, "online", today=date(2025, 5, 20))  # the day it is filed below
    return Dossier(
        code="000.00.31.H12-250520-0007",
        procedure_code=spec.code,
        spec_version=spec.version,
        agency_code="000.06.50.H15",
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
        "Phí cấp bản sao trích lục khai sinh: 2 × 8.000 ₫ = 16.000 ₫",
        "Qua dịch vụ bưu chính công ích (12 Lê Lợi, Phường Bến Thành,",
        "NGƯỜI TIẾP NHẬN HỒ SƠ",
    ):
        assert expected in flat, expected
    assert qr_modules(data) == qr_matrix(url)  # the printed code is the tracking link's


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


# --- every document says what its template rendered ------------------------------------------


class _Text(HTMLParser):
    """The text nodes of a document's <body>, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.nodes: list[str] = []
        self._in_body = False

    def handle_starttag(self, tag: str, attrs) -> None:  # type: ignore[no-untyped-def]
        self._in_body = self._in_body or tag == "body"

    def handle_data(self, data: str) -> None:
        if self._in_body and data.strip():
            self.nodes.append(" ".join(data.split()))


def rendered_texts(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.nodes


def squash(text: str) -> str:
    """Text without any whitespace: PDF and Word readers differ in where lines break."""
    return "".join(text.split())


def assert_says_everything(document_text: str, html: str) -> None:
    said = squash(document_text)
    texts = rendered_texts(html)
    assert len(texts) > 20
    missing = [text for text in texts if squash(text) not in said]
    assert not missing, missing


def with_channel(dossier: Dossier, channel: str) -> Dossier:
    """The same dossier as the citizen filed it online, handed in at the desk (its birth
    certificate on paper) or sent by post."""
    update: dict = {"channel": channel}
    if channel == "desk":
        update["attachments"] = []
        update["delivery"] = DeliveryChoice(kind="desk")
    dossier = dossier.model_copy(update=update)
    if channel == "desk":
        dossier.events.append(Event(kind="paper_components", actor="staff:desk", data={"received": ["giay_chung_sinh"]}))
    return dossier


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("channel", ["online", "desk", "postal"])
def test_the_receipt_pdf_says_every_text_its_template_rendered(birth, lang, channel):
    dossier = with_channel(make_dossier(birth), channel)
    url = "https://dichvucong.example.vn/ho-so/000.00.31.H12-250520-0007?t=abc"
    context = receipt_context(dossier, birth, url, lang)
    html = render_html("receipt", context, lang)
    data = receipt_pdf(dossier, birth, url, lang)
    assert_says_everything(pdf_text(data), html)
    expected = {
        "vi": ["GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Mẫu số 01"],
        "en": ["DOSSIER RECEIPT AND RESULT APPOINTMENT", "SOCIALIST REPUBLIC OF VIETNAM", "Form 01"],
    }[lang]
    channel_label = {"online": ("Trực tuyến", "Online"), "desk": ("Trực tiếp", "In person"), "postal": ("Qua dịch vụ bưu chính công ích", "By public postal service")}
    expected.append(channel_label[channel][lang == "en"])
    if channel == "desk":
        expected.append("Đã nhận bản giấy" if lang == "vi" else "Received on paper")
    for text in expected:
        assert squash(text) in squash(pdf_text(data)), text


def boxes_overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def text_under_the_qr_code(data: bytes) -> str:
    """The letters of the first page whose box touches the QR code's ("" when none do)."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0]
        [qr] = page.images
        box = (qr["x0"], qr["top"], qr["x1"], qr["bottom"])
        return "".join(c["text"] for c in page.chars if boxes_overlap(box, (c["x0"], c["top"], c["x1"], c["bottom"])))


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("channel", ["online", "desk"])
def test_the_qr_code_has_its_own_box_and_covers_no_text(birth, lang, channel):
    """Issue 10 finding 9: the QR code covered 'Nội dung yêu cầu giải quyết' on the citizen's
    and the desk's receipt. Now it sits in its own cell; no printed letter touches it."""
    dossier = with_channel(make_dossier(birth), channel)
    # a long procedure name and a long link: the text beside the code wraps, never under it
    url = "https://dichvucong.example.vn/ho-so/000.00.31.H12-250520-0007?t=" + "x" * 60
    data = receipt_pdf(dossier, birth, url, lang)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0]
        [qr] = page.images
        box = (qr["x0"], qr["top"], qr["x1"], qr["bottom"])
        assert 80 <= qr["width"] <= 100 and abs(qr["width"] - qr["height"]) < 0.5  # about 32 mm square
        request_line = page.search("Nội dung yêu cầu giải quyết" if lang == "vi" else "Request:")
        assert request_line and request_line[0]["x1"] < box[0]  # beside the code, on its left
    assert text_under_the_qr_code(data) == ""
    assert qr_modules(data) == qr_matrix(url)


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("path", SPECS_WITH_FORMS, ids=lambda p: p.stem)
def test_every_blank_form_says_every_text_its_template_rendered(path, lang):
    spec = load_file(path).spec
    html = render_html("blank_form", blank_form_context(spec, lang), lang)
    assert_says_everything(pdf_text(blank_form_pdf(spec, lang)), html)
    assert_says_everything(docx_text(blank_form_docx(spec, lang)), html)  # the Word form says the same


VIETNAMESE_LETTERS = "".join(
    unicodedata.normalize("NFC", base + tone)
    for base in "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY"
    for tone in ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
) + "đĐ"


def test_every_vietnamese_letter_prints_in_our_fonts():
    assert len(VIETNAMESE_LETTERS) == 24 * 6 + 2
    decomposed = unicodedata.normalize("NFD", VIETNAMESE_LETTERS)  # as some keyboards send it
    spec = ProcedureSpec.model_validate(
        {
            "code": "2.000815",
            "version": "1",
            "name": "Chứng thực",
            "sector": "Chứng thực",
            "agency": {"name": "Ủy ban nhân dân cấp xã", "tier": "commune"},
            "filers": ["citizen"],
            "level": "forms",
            "info": {"result": "Bản sao", "processing_time": {"working_days": 0}},
            "attachments": [{"id": "a", "name": decomposed, "originals": 1}],
        }
    )
    data = blank_form_pdf(spec, "vi")
    assert VIETNAMESE_LETTERS in pdf_text(data)
    assert VIETNAMESE_LETTERS in docx_text(blank_form_docx(spec, "vi"))
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        fonts = {c["fontname"].split("+", 1)[-1] for page in pdf.pages for c in page.chars}
    assert fonts <= {"Motcua-Serif", "Motcua-Serif-Bold", "Motcua-Serif-Italic", "Motcua-Sans"}, fonts  # no system fallback


def test_css_strings_cannot_leave_the_style_element():
    assert css_string('a"b\\c</style><p>') == '"a\\22 b\\5c c\\3c /style\\3e \\3c p\\3e "'


# --- a deployment's own templates ------------------------------------------------------------

PROVINCE_HEADER = """<table class="masthead"><tr>
<td class="agency">SỞ TƯ PHÁP TỈNH TÂY NINH<br>{{ agency|upper }}</td>
<td class="nation">{{ NATION }}<br>{{ MOTTO }}</td>
</tr></table>
"""


def test_an_override_folder_changes_the_receipt_header_without_code(birth, tmp_path):
    (tmp_path / "header.html").write_text(PROVINCE_HEADER, encoding="utf-8")
    dossier = make_dossier(birth)
    text = flat_text(receipt_pdf(dossier, birth, "https://dvc.example.vn/ho-so/x", "vi", overrides=tmp_path))
    assert "SỞ TƯ PHÁP TỈNH TÂY NINH ỦY BAN NHÂN DÂN CẤP XÃ" in text
    assert "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ" not in text  # our header is replaced, not added to
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text  # the rest is ours
    assert "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ" in flat_text(receipt_pdf(dossier, birth, "https://dvc.example.vn/ho-so/x", "vi"))


def test_an_override_can_be_for_one_language(birth, tmp_path):
    (tmp_path / "receipt.en.html").write_text(
        '{% extends "receipt.html" %}{% block header %}<p>ONE-STOP SHOP OF TAY NINH PROVINCE</p>{% endblock %}',
        encoding="utf-8",
    )
    dossier = make_dossier(birth)
    english = flat_text(receipt_pdf(dossier, birth, "https://dvc.example.vn/x", "en", overrides=tmp_path))
    vietnamese = flat_text(receipt_pdf(dossier, birth, "https://dvc.example.vn/x", "vi", overrides=tmp_path))
    assert "ONE-STOP SHOP OF TAY NINH PROVINCE" in english and "Dossier code:" in english
    assert "ONE-STOP SHOP" not in vietnamese and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in vietnamese


def test_an_override_word_template_replaces_ours(birth, tmp_path):
    document = Document()
    document.add_paragraph("TỈNH TÂY NINH – {{ title }}")
    document.add_paragraph("{%p for b in blocks %}")
    document.add_paragraph("{{ b.text }}")
    document.add_paragraph("{%p endfor %}")
    document.save(str(tmp_path / "blank_form.docx"))
    text = docx_text(blank_form_docx(birth, "vi", overrides=tmp_path))
    assert text.startswith("TỈNH TÂY NINH – Đăng ký khai sinh\nTỜ KHAI ĐĂNG KÝ KHAI SINH")
    assert "CỘNG HÒA" not in text


def test_a_missing_override_folder_is_a_clear_error(birth, tmp_path):
    with pytest.raises(TemplateFolderMissing, match="is not a folder"):
        blank_form_pdf(birth, "vi", overrides=tmp_path / "nowhere")
    with pytest.raises(ValueError, match="DOCUMENT_TEMPLATES_DIR.*is not a folder"):
        create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(REPO / "procedure_specs"), "TESTING": True,
                    "DOCUMENT_TEMPLATES_DIR": str(tmp_path / "nowhere")})


def test_the_portal_prints_with_the_deployments_templates(tmp_path):
    from tests.test_portal_tracking import filed, lookup

    overrides = tmp_path / "templates"
    overrides.mkdir()
    (overrides / "header.html").write_text(PROVINCE_HEADER, encoding="utf-8")
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(REPO / "procedure_specs"), "TESTING": True,
                      "DOCUMENT_TEMPLATES_DIR": str(overrides)})
    client = app.test_client()
    code = filed(app.test_client())
    assert lookup(client, code, "0987654321").status_code == 302
    receipt = client.get(f"/ho-so/{code}/bien-nhan.pdf")
    assert receipt.status_code == 200 and "SỞ TƯ PHÁP TỈNH TÂY NINH" in flat_text(receipt.data)
    blank = client.get("/thu-tuc/1.001193/mau.pdf")
    assert blank.status_code == 200 and "SỞ TƯ PHÁP TỈNH TÂY NINH" in flat_text(blank.data)


def test_an_override_may_extend_the_template_it_replaces(birth, tmp_path):
    (tmp_path / "receipt.html").write_text(
        '{% extends "motcua/receipt.html" %}{% block body %}{{ super() }}<p>Liên hệ: 0276 3822 222</p>{% endblock %}',
        encoding="utf-8",
    )
    text = flat_text(receipt_pdf(make_dossier(birth), birth, "https://dvc.example.vn/x", "vi", overrides=tmp_path))
    assert "Mã hồ sơ: 000.00.31.H12-250520-0007" in text and text.count("Liên hệ: 0276 3822 222") == 1


def test_the_word_templates_are_what_the_build_script_makes(tmp_path):
    import runpy
    import zipfile

    build = runpy.run_path(str(REPO / "tools" / "build_docx_templates.py"))
    for built in build["main"](tmp_path):
        shipped = REPO / "renderers" / "templates" / "documents" / built.name
        with zipfile.ZipFile(built) as new, zipfile.ZipFile(shipped) as old:
            for part in ("word/document.xml", "word/styles.xml"):
                assert new.read(part) == old.read(part), f"{built.name} {part}: rerun tools/build_docx_templates.py"


def test_documents_load_only_their_own_files(birth, tmp_path):
    fetch = local_fetcher((tmp_path,)).fetch
    (tmp_path / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>', encoding="utf-8")
    assert fetch((tmp_path / "logo.svg").as_uri())  # the deployment's logo
    for url in ("file:///etc/passwd", (tmp_path / ".." / "x").as_uri(), "http://127.0.0.1:9/x.png", "ftp://a/b"):
        with pytest.raises(ValueError):
            fetch(url)
