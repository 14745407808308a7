"""Printable documents: the blank form (PDF and DOCX) and the receipt slip (PDF).

The blank form is walked once from the spec into a list of `Block`s, then drawn by two
small backends (fpdf2, python-docx), so the PDF and the DOCX always say the same thing.
Fonts are DejaVu subsets shipped in renderers/fonts (see its README): nothing is
downloaded at run time and Vietnamese diacritics come out exactly.

The receipt is form 01 of Circular 01/2018/TT-VPCP (giấy tiếp nhận hồ sơ và hẹn trả kết
quả), with a QR code of the tracking link drawn as rectangles (no Pillow needed).
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from motcua.dossier import Dossier
from motcua.fees import bill, format_vnd
from motcua.spec.model import Condition, ProcedureSpec, localize
from motcua.workdays import VN_TZ, limit_text
from renderers.form import ADDRESS_LABELS, attachment_required, copies_text
from renderers.l10n import t
from renderers.qr import dark_runs, qr_matrix
from motcua.units import address_text
from renderers.schema import (
    ADDRESS_KEYS,
    ADDRESS_PARTS,
    enum_values,
    node_at,
    schema_type,
    show_conditions,
    ui_for,
    widget_for,
)
from renderers.summary import display_date, display_value

FONTS = Path(__file__).resolve().parent / "fonts"
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
BOX = "☐"


def nfc(text: str) -> str:
    """Precomposed letters: one glyph per Vietnamese letter, the way readers search text."""
    return unicodedata.normalize("NFC", text)


# --- the blank form as blocks ---------------------------------------------------------------


@dataclass
class Block:
    """One printed element of the blank form.

    kind: group (bold heading), line (label and dotted fill), lines (label then several
    dotted lines), date, choices (label then ☐ options), check (one ☐ with its label),
    note (italic), text, item (numbered list entry).
    """

    kind: str
    text: str = ""
    indent: int = 0
    options: list[str] = field(default_factory=list)
    count: int = 1
    suffix: str = ":"


def describe_condition(spec: ProcedureSpec, condition: dict[str, Any] | Condition, lang: str) -> str:
    """`{"field": "has_father", "equals": true}` -> `Khai thông tin về cha: Có`."""
    if isinstance(condition, Condition):
        condition = condition.model_dump(exclude_unset=True, by_alias=True)
    for combo, joiner in (("all", t(" và ", lang)), ("any", t(" hoặc ", lang))):
        if condition.get(combo):
            return joiner.join(describe_condition(spec, c, lang) for c in condition[combo])
    if condition.get("not"):
        return t("không phải ({condition})", lang, condition=describe_condition(spec, condition["not"], lang))
    path = str(condition.get("field") or "")
    root = spec.form.fields if spec.form else {}
    node = node_at(root, path) or {}
    label = localize(ui_for(spec, path).label, lang) or str(node.get("title") or path)
    if "equals" in condition:
        return f"{label}: {display_value(spec, node, path, condition['equals'], lang)}"
    if "not_equals" in condition:
        return t("{label} khác {value}", lang, label=label, value=display_value(spec, node, path, condition["not_equals"], lang))
    if "in" in condition:
        values = t(" hoặc ", lang).join(display_value(spec, node, path, v, lang) for v in condition["in"] or [])
        return f"{label}: {values}"
    return label


def _field_blocks(spec: ProcedureSpec, node: dict[str, Any], path: str, indent: int, lang: str, label: str | None = None) -> list[Block]:
    ui = ui_for(spec, path)
    widget = widget_for(node, ui)
    if widget == "hidden":
        return []
    label = label or localize(ui.label, lang) or str(node.get("title") or path.rsplit(".", 1)[-1])
    kind = schema_type(node)
    if widget == "address":
        props = node.get("properties") or {p: {} for p in ADDRESS_PARTS}
        blocks = [Block("group", label, indent)]
        for part in ADDRESS_PARTS:
            if part in props:
                sub = props[part] if isinstance(props[part], dict) else {}
                blocks.append(Block("line", str(sub.get("title") or t(ADDRESS_LABELS[part], lang)), indent + 1))
        return blocks
    if kind == "object":
        return [Block("group", label, indent)] + _object_blocks(spec, node, path, indent + 1, lang)
    if kind == "array" and widget != "checkboxes":
        items = node.get("items") if isinstance(node.get("items"), dict) else {"type": "string"}
        item_label = localize(ui_for(spec, path + ".0").label, lang) or str(items.get("title") or label)
        if schema_type(items) == "object":
            blocks = [Block("group", label, indent)]
            for number in (1, 2):
                blocks += _field_blocks(spec, items, f"{path}.{number - 1}", indent + 1, lang, f"{item_label} {number}")
            return blocks
        return [Block("lines", label, indent, count=2)]
    if widget in ("select", "radio", "checkboxes") or (kind == "boolean" and widget == "radio"):
        choices = enum_values(node) or [True, False]
        return [Block("choices", label, indent, options=[display_value(spec, node, path, c, lang) for c in choices])]
    if widget == "checkbox":
        return [Block("check", label, indent)]
    if widget == "date":
        return [Block("date", label, indent)]
    if widget == "textarea":
        return [Block("lines", label, indent, count=2)]
    return [Block("line", label, indent)]


def _object_blocks(spec: ProcedureSpec, node: dict[str, Any], prefix: str, indent: int, lang: str) -> list[Block]:
    blocks: list[Block] = []
    conditions = show_conditions(node, prefix)
    for name, sub in (node.get("properties") or {}).items():
        if not isinstance(sub, dict):
            continue
        path = f"{prefix}.{name}" if prefix else name
        field_blocks = _field_blocks(spec, sub, path, indent, lang)
        if name in conditions and field_blocks:
            when = describe_condition(spec, conditions[name], lang)
            field_blocks.insert(1 if field_blocks[0].kind == "group" else 0, Block("note", t("(Chỉ khai khi {condition})", lang, condition=when), indent + (1 if field_blocks[0].kind == "group" else 0)))
        blocks += field_blocks
    return blocks


def blank_form_blocks(spec: ProcedureSpec, lang: str = "vi") -> list[Block]:
    """Everything printed on the blank form below the national header, in order."""
    blocks = [Block("title", t("TỜ KHAI", lang) + " " + localize(spec.name, lang).upper())]
    blocks.append(
        Block("note", t("Thủ tục: {name} (mã {code}, phiên bản {version})", lang, name=localize(spec.name, lang), code=spec.code, version=spec.version))
    )
    blocks.append(Block("line", t("Kính gửi", lang) + ": " + localize(spec.agency.name, lang), suffix=""))
    if spec.form is not None:
        blocks += _object_blocks(spec, spec.form.fields, "", 0, lang)
    if spec.attachments:
        blocks.append(Block("group", t("Giấy tờ kèm theo", lang)))
        for number, attachment in enumerate(spec.attachments, start=1):
            if attachment.required_when is not None:
                need = t("bắt buộc khi {condition}", lang, condition=describe_condition(spec, attachment.required_when, lang))
            else:
                need = t("bắt buộc", lang) if attachment.required else t("nếu có", lang)
            blocks.append(
                Block("item", f"{number}. {localize(attachment.name, lang)} ({copies_text(attachment, lang).lower()}; {need})", 1)
            )
    blocks.append(
        Block("text", t("Tôi cam đoan nội dung khai trên đây là đúng sự thật và chịu trách nhiệm trước pháp luật về cam đoan của mình.", lang))
    )
    return blocks


SIGN_PLACE = "…………, ngày …… tháng …… năm ………"


# --- PDF backend ----------------------------------------------------------------------------


class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("serif", "I", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, nfc(f"{self.footer_text}   {self.page_no()}/{{nb}}"), align="R")
        self.set_text_color(0, 0, 0)


def _new_pdf(title: str, footer: str) -> _Pdf:
    pdf = _Pdf(format="A4", unit="mm")
    # left-aligned text everywhere: justified lines stretch spaces, and copied text then
    # no longer matches what was written
    pdf.add_font("serif", "", str(FONTS / "DejaVuSerif.ttf"))
    pdf.add_font("serif", "B", str(FONTS / "DejaVuSerif-Bold.ttf"))
    pdf.add_font("serif", "I", str(FONTS / "DejaVuSerif-Italic.ttf"))
    pdf.add_font("sans", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.set_fallback_fonts(["sans"])
    pdf.set_margins(20, 15, 15)
    pdf.set_auto_page_break(True, 18)
    pdf.set_title(nfc(title))
    pdf.set_creator("Motcua")
    pdf.footer_text = footer
    pdf.alias_nb_pages()
    pdf.add_page()
    return pdf


def _national_header(pdf: FPDF, x: float, width: float, lang: str) -> None:
    """The national header; in English on a document given to an English reader (the receipt),
    in Vietnamese on a form filled in for the agency."""
    nation, motto_text = t(NATION, lang), t(MOTTO, lang)
    pdf.set_xy(x, pdf.get_y())
    pdf.set_font("serif", "B", 11.5)
    pdf.cell(width, 6, nation, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font("serif", "B", 12)
    pdf.cell(width, 6, motto_text, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    motto = pdf.get_string_width(motto_text)
    y = pdf.get_y()
    pdf.set_line_width(0.3)
    pdf.line(x + (width - motto) / 2, y, x + (width + motto) / 2, y)


def _dotted(pdf: FPDF, x1: float, x2: float, y: float) -> None:
    with pdf.local_context():
        pdf.set_line_width(0.25)
        pdf.set_dash_pattern(dash=0.3, gap=1.1)
        pdf.line(x1, y, x2, y)


LINE_H = 7.5


def _pdf_block(pdf: FPDF, block: Block) -> None:
    left = pdf.l_margin + 6 * block.indent
    right = pdf.w - pdf.r_margin
    width = right - left
    pdf.set_x(left)
    if block.kind == "title":
        pdf.ln(4)
        pdf.set_font("serif", "B", 14)
        pdf.multi_cell(0, 7, nfc(block.text), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    elif block.kind == "note":
        pdf.set_font("serif", "I", 10.5)
        pdf.multi_cell(width, 5.5, nfc(block.text), align="C" if block.indent == 0 and pdf.page_no() == 1 and pdf.get_y() < 60 else "L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
    elif block.kind == "group":
        pdf.ln(1.5)
        pdf.set_font("serif", "B", 12)
        pdf.multi_cell(width, 6.5, nfc(block.text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    elif block.kind in ("line", "lines", "date"):
        pdf.set_font("serif", "", 12)
        label = nfc(block.text + block.suffix)
        if pdf.get_string_width(label) > width - 30:
            pdf.multi_cell(width, 6.5, label, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_x(left)
            start = left
        else:
            pdf.cell(pdf.get_string_width(label) + 2, LINE_H, label)
            start = pdf.get_x()
        if block.kind == "date":
            pdf.cell(0, LINE_H, "……/……/…………", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            return
        _dotted(pdf, start, right, pdf.get_y() + LINE_H - 1.5)
        pdf.ln(LINE_H)
        for _ in range(block.count - 1):
            _dotted(pdf, left, right, pdf.get_y() + LINE_H - 1.5)
            pdf.ln(LINE_H)
    elif block.kind == "choices":
        pdf.set_font("serif", "", 12)
        pdf.multi_cell(width, 6.5, nfc(block.text + ":"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_x(left + 6)
        for option in block.options:
            text = nfc(f"{BOX} {option}")
            w = pdf.get_string_width(text) + 8
            if pdf.get_x() + w > right:
                pdf.ln(LINE_H)
                pdf.set_x(left + 6)
            pdf.cell(w, LINE_H, text)
        pdf.ln(LINE_H)
    elif block.kind == "check":
        pdf.set_font("serif", "", 12)
        pdf.multi_cell(width, LINE_H, nfc(f"{BOX} {block.text}"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    elif block.kind == "item":
        pdf.set_font("serif", "", 11.5)
        pdf.multi_cell(width, 6.5, nfc(block.text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:
        pdf.ln(2)
        pdf.set_font("serif", "I", 11.5)
        pdf.multi_cell(width, 6.5, nfc(block.text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _signature(pdf: FPDF, x: float, width: float, role: str, hint: str, place: str | None = None) -> None:
    if place:
        pdf.set_xy(x, pdf.get_y())
        pdf.set_font("serif", "I", 11.5)
        pdf.cell(width, 6, nfc(place), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_x(x)
    pdf.set_font("serif", "B", 12)
    pdf.cell(width, 6, nfc(role), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font("serif", "I", 11)
    pdf.cell(width, 6, nfc(hint), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)


def blank_form_pdf(spec: ProcedureSpec, lang: str = "vi") -> bytes:
    """The printable blank form (tờ khai) of a procedure, A4, to fill in by hand."""
    pdf = _new_pdf(localize(spec.name, lang), t("Mẫu tạo từ thủ tục {key}", lang, key=spec.key))
    _national_header(pdf, pdf.l_margin, pdf.epw, "vi")  # the form is handed to the agency: its header stays
    pdf.ln(4)
    for block in blank_form_blocks(spec, lang):
        _pdf_block(pdf, block)
    pdf.ln(6)
    if pdf.get_y() > pdf.h - 60:
        pdf.add_page()
    half = pdf.epw / 2
    _signature(pdf, pdf.l_margin + half, half, t("NGƯỜI YÊU CẦU", lang), t("(Ký, ghi rõ họ, chữ đệm, tên)", lang), SIGN_PLACE)
    return bytes(pdf.output())


# --- DOCX backend ---------------------------------------------------------------------------


def blank_form_docx(spec: ProcedureSpec, lang: str = "vi") -> bytes:
    """The same blank form as a Word document, for agencies that edit their forms."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT, WD_TAB_LEADER
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin, section.right_margin = Cm(2.5), Cm(1.5)
    section.top_margin, section.bottom_margin = Cm(1.5), Cm(1.5)
    text_width = section.page_width - section.left_margin - section.right_margin
    style = document.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "Times New Roman")
    style.paragraph_format.space_after = Pt(2)
    document.core_properties.title = nfc(localize(spec.name, lang))
    document.core_properties.author = "Motcua"

    def paragraph(text: str = "", *, bold: bool = False, italic: bool = False, center: bool = False, indent: int = 0, size: float | None = None):  # type: ignore[no-untyped-def]
        p = document.add_paragraph()
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if indent:
            p.paragraph_format.left_indent = Cm(0.6 * indent)
        if text:
            run = p.add_run(nfc(text))
            run.bold, run.italic = bold, italic
            if size:
                run.font.size = Pt(size)
        return p

    def dotted(p, text: str) -> None:  # type: ignore[no-untyped-def]
        p.paragraph_format.tab_stops.add_tab_stop(text_width, WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)
        p.add_run(nfc(text) + "\t")

    paragraph(NATION, bold=True, center=True, size=12)
    motto = paragraph(MOTTO, bold=True, center=True)
    motto.runs[0].underline = True
    for block in blank_form_blocks(spec, lang):
        if block.kind == "title":
            paragraph("", center=True)
            paragraph(block.text, bold=True, center=True, size=14)
        elif block.kind == "note":
            paragraph(block.text, italic=True, center=block.indent == 0 and block.text.startswith(t("Thủ tục", lang)), indent=block.indent)
        elif block.kind == "group":
            paragraph(block.text, bold=True, indent=block.indent)
        elif block.kind in ("line", "lines"):
            dotted(paragraph(indent=block.indent), block.text + block.suffix + " ")
            for _ in range(block.count - 1):
                dotted(paragraph(indent=block.indent), "")
        elif block.kind == "date":
            paragraph(f"{block.text}{block.suffix} ……/……/…………", indent=block.indent)
        elif block.kind == "choices":
            paragraph(block.text + ":", indent=block.indent)
            paragraph("      ".join(f"{BOX} {o}" for o in block.options), indent=block.indent + 1)
        elif block.kind == "check":
            paragraph(f"{BOX} {block.text}", indent=block.indent)
        elif block.kind == "item":
            paragraph(block.text, indent=block.indent)
        else:
            paragraph(block.text, italic=True, indent=block.indent)
    table = document.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    cell = table.rows[0].cells[1]
    cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    cell.paragraphs[0].add_run(nfc(SIGN_PLACE)).italic = True
    for text, bold in ((t("NGƯỜI YÊU CẦU", lang), True), (t("(Ký, ghi rõ họ, chữ đệm, tên)", lang), False)):
        p = cell.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = p.add_run(nfc(text))
        run.bold, run.italic = bold, not bold
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- the receipt (mẫu 01) -------------------------------------------------------------------

CHANNEL_LABELS = {"online": "Trực tuyến", "desk": "Trực tiếp", "postal": "Qua dịch vụ bưu chính công ích"}
DELIVERY_LABELS = {
    "desk": "Tại Bộ phận tiếp nhận và trả kết quả",
    "postal": "Qua dịch vụ bưu chính công ích",
    "electronic": "Bản điện tử, trên Cổng dịch vụ công",
}


def _address_text(address: dict[str, str] | None, lang: str) -> str:
    """"street, commune, province" (units.address_text; an old stored district is shown too)."""
    if not address:
        return ""
    parts = [address.get(k, "") for k in ("recipient", "phone")] + [address_text(address, lang)]
    known = ADDRESS_KEYS | {"recipient", "phone"}
    parts += [v for k, v in address.items() if k not in known]
    return ", ".join(p for p in parts if p)


def _fee_lines(dossier: Dossier, lang: str) -> Iterable[str]:
    for fee in dossier.fees:
        name = fee.get("name")
        name = localize(name, lang) if isinstance(name, dict) else str(name or fee.get("id", ""))
        quantity = fee.get("quantity")
        amount = int(fee.get("amount") or 0)
        detail = t("miễn", lang) if fee.get("exempt") else format_vnd(amount, lang)
        if quantity and quantity != 1:
            detail += f" (× {quantity})"
        yield f"{name}: {detail}"


def _paid_text(dossier: Dossier, lang: str) -> str:
    """"Đã nộp phí, lệ phí: 16.000 ₫ (biên lai số BL-0099)" from the `paid` events, or ""."""
    paid = [e.data or {} for e in dossier.events if e.kind == "paid"]
    if not paid or dossier.fee_total <= 0:
        return ""
    amounts = [p.get("amount") for p in paid]
    # a `paid` event without an amount paid everything (as plugins.payment.amount_due reads it)
    amount = sum(amounts) if all(isinstance(a, int) for a in amounts) else dossier.fee_total  # type: ignore[arg-type]
    text = t("Đã nộp phí, lệ phí: {amount}", lang, amount=format_vnd(amount, lang))
    receipts = [str(p["receipt_no"]) for p in paid if p.get("receipt_no")]
    if receipts:
        text += t(" (biên lai số {numbers})", lang, numbers=", ".join(receipts))
    return text


def _when(moment: datetime, lang: str) -> str:
    local = moment.astimezone(VN_TZ)
    return t("{hour} giờ {minute} phút, ngày {day}", lang, hour=f"{local.hour:02d}", minute=f"{local.minute:02d}", day=local.strftime("%d/%m/%Y"))


def receipt_pdf(dossier: Dossier, spec: ProcedureSpec, tracking_url: str, lang: str = "vi") -> bytes:
    """Giấy tiếp nhận hồ sơ và hẹn trả kết quả (mẫu 01, Circular 01/2018/TT-VPCP)."""
    title = t("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", lang)
    pdf = _new_pdf(f"{title} {dossier.code}", t("Mẫu số 01 - Thông tư 01/2018/TT-VPCP · {code}", lang, code=dossier.code))
    top = pdf.get_y()
    left_w = 78
    pdf.set_font("serif", "", 10.5)
    pdf.multi_cell(left_w, 5.5, nfc(localize(spec.agency.name, lang).upper()), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("serif", "B", 10.5)
    pdf.multi_cell(left_w, 5.5, nfc(t("BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ", lang)), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left_bottom = pdf.get_y()
    pdf.set_y(top)
    _national_header(pdf, pdf.l_margin + left_w, pdf.epw - left_w, lang)
    pdf.set_y(max(left_bottom, pdf.get_y()) + 6)

    pdf.set_font("serif", "B", 14)
    pdf.multi_cell(0, 7, nfc(title), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("serif", "B", 12.5)
    pdf.cell(0, 7, nfc(t("Mã hồ sơ: {code}", lang, code=dossier.code)), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)

    qr_top = pdf.get_y()
    qr_size = 34.0
    text_w = pdf.epw - qr_size - 4

    def line(text: str, bold_prefix: str = "", width: float | None = None) -> None:
        # write() flows a bold label and the value on the same lines; no markdown parsing,
        # so the citizen's text is printed exactly as typed.
        margin = pdf.r_margin
        pdf.set_right_margin(pdf.w - pdf.l_margin - (width or pdf.epw))
        pdf.set_x(pdf.l_margin)
        if bold_prefix:
            pdf.set_font("serif", "B", 12)
            pdf.write(6.5, nfc(bold_prefix))
        pdf.set_font("serif", "", 12)
        pdf.write(6.5, nfc(text))
        pdf.ln(6.5)
        pdf.set_right_margin(margin)

    contact = dossier.contact
    agency = localize(spec.agency.name, lang)
    line(t("Bộ phận tiếp nhận và trả kết quả {agency} đã tiếp nhận hồ sơ của:", lang, agency=agency), width=text_w)
    line(contact.name, t("Ông/Bà: ", lang), width=text_w)
    if contact.cccd:
        line(contact.cccd, t("Số định danh cá nhân: ", lang), width=text_w)
    reach = "; ".join(filter(None, [contact.phone, contact.email]))
    if reach:
        line(reach, t("Điện thoại, thư điện tử: ", lang), width=text_w)
    line(f"{localize(spec.name, lang)} ({t('mã thủ tục', lang)} {spec.code})", t("Nội dung yêu cầu giải quyết: ", lang))
    line(t(CHANNEL_LABELS.get(dossier.channel, dossier.channel), lang), t("Hình thức nộp: ", lang))
    _draw_qr(pdf, tracking_url, pdf.w - pdf.r_margin - qr_size, qr_top, qr_size)
    pdf.set_y(max(pdf.get_y(), qr_top + qr_size + 6))

    line("", t("1. Thành phần hồ sơ nộp gồm:", lang))
    uploaded: dict[str, list[str]] = {}
    for ref in dossier.attachments:
        uploaded.setdefault(ref.component, []).append(ref.filename)
    on_paper = dossier.received_on_paper
    pdf.set_font("serif", "", 11)
    with pdf.table(col_widths=(10, 64, 46, 55), line_height=6, text_align=("CENTER", "LEFT", "LEFT", "LEFT")) as table:
        head = table.row()
        for text in (t("TT", lang), t("Tên giấy tờ", lang), t("Hình thức (bản chính, bản sao)", lang), t("Ghi chú", lang)):
            head.cell(nfc(text))
        number = 0
        for attachment in spec.attachments:
            files = uploaded.pop(attachment.id, [])
            paper = attachment.id in on_paper
            if not files and not paper and not attachment_required(attachment, dossier.data):
                continue
            number += 1
            row = table.row()
            row.cell(str(number))
            row.cell(nfc(localize(attachment.name, lang)))
            row.cell(nfc(copies_text(attachment, lang) + (t("; bản điện tử", lang) if files else "")))
            notes = ([t("Đã nhận bản giấy", lang)] if paper else []) + files
            row.cell(nfc(", ".join(notes) if notes else t("Chưa nộp", lang)))
        for component, files in uploaded.items():  # a component the spec no longer lists
            number += 1
            row = table.row()
            row.cell(str(number))
            row.cell(nfc(component))
            row.cell(nfc(t("bản điện tử", lang)))
            row.cell(nfc(", ".join(files)))
    if number == 0:
        line(t("Không có giấy tờ kèm theo.", lang))
    pdf.ln(2)
    line(t("01 (bộ)", lang), t("2. Số lượng hồ sơ: ", lang))
    time_limit = spec.info.processing_time
    limit = localize(limit_text(time_limit.working_days, time_limit.calendar_days), lang).lower()
    line(limit, t("3. Thời gian giải quyết hồ sơ theo quy định: ", lang))
    line(_when(dossier.filed_at, lang), t("4. Thời gian nhận hồ sơ: ", lang))
    due = display_date(dossier.due_date) if dossier.due_date else t("sẽ thông báo sau", lang)
    line(t("ngày {date}", lang, date=due) if dossier.due_date else due, t("5. Thời gian trả kết quả giải quyết hồ sơ: ", lang))
    fee_lines = list(_fee_lines(dossier, lang))
    to_pay = bill(dossier.fee_total, dossier.delivery)
    # one section: each fee (to the agency), the postal charge (to the post office), and the
    # bill's one total, which says what it covers when both are in it
    line("" if fee_lines or to_pay.postage else t("không thu", lang), t("6. Phí, lệ phí: ", lang))
    if fee_lines or to_pay.postage:
        for text in fee_lines + [row.line for row in to_pay.rows(lang)]:
            line("- " + text)
    paid = _paid_text(dossier, lang)
    if paid:
        line(paid)
    delivery = dossier.delivery
    if delivery is not None:
        option = spec.delivery_option(delivery.kind)
        where = localize(option.label, lang) if option and option.label else t(DELIVERY_LABELS.get(delivery.kind, delivery.kind), lang)
        address = _address_text(delivery.address, lang)
        if address:
            where += f" ({address})"
    else:
        where = t("Chưa đăng ký", lang)
    line(where, t("7. Đăng ký nhận kết quả tại: ", lang))
    line(tracking_url, t("Tra cứu tình trạng hồ sơ: ", lang))
    pdf.ln(6)
    if pdf.get_y() > pdf.h - 55:
        pdf.add_page()
    top = pdf.get_y()
    half = pdf.epw / 2
    _signature(pdf, pdf.l_margin, half, t("NGƯỜI NỘP HỒ SƠ", lang), t("(Ký và ghi rõ họ tên)", lang))
    pdf.set_y(top)
    _signature(pdf, pdf.l_margin + half, half, t("NGƯỜI TIẾP NHẬN HỒ SƠ", lang), t("(Ký và ghi rõ họ tên)", lang))
    return bytes(pdf.output())


def _draw_qr(pdf: FPDF, data: str, x: float, y: float, size: float) -> None:
    matrix = qr_matrix(data, border=0)
    module = size / len(matrix)
    with pdf.local_context(fill_color=(0, 0, 0)):
        for row, column, length in dark_runs(matrix):
            pdf.rect(x + column * module, y + row * module, length * module, module, style="F")
