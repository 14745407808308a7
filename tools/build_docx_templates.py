"""Build the Word templates of renderers/templates/documents/ (docxtpl tags in a .docx).

Run from the repository root after changing the layout here, and commit the result:

    .venv/bin/python tools/build_docx_templates.py

The templates are committed so an agency can open one in Word, restyle it and drop it in
its DOCUMENT_TEMPLATES_DIR (docs/documents.md); this script is only how ours were made.
Every `{%p ... %}` tag is alone in its paragraph (docxtpl removes those paragraphs), and
every `{{ ... }}` is one run, so Word's run splitting cannot break a tag.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

OUT = Path(__file__).resolve().parent.parent / "renderers" / "templates" / "documents"


def blank_form(path: Path) -> None:
    """blank_form.docx; context: motcua_renderers.documents.blank_form_context."""
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
    document.core_properties.title = "{{ title }}"
    document.core_properties.author = "Motcua"

    def paragraph(text: str = "", *, bold: bool = False, italic: bool = False, underline: bool = False,
                  align: WD_ALIGN_PARAGRAPH | None = None, size: float | None = None, dotted: bool = False):  # type: ignore[no-untyped-def]
        p = document.add_paragraph()
        if align is not None:
            p.alignment = align
        if text:
            run = p.add_run(text)
            run.bold, run.italic, run.underline = bold, italic, underline
            if size:
                run.font.size = Pt(size)
        if dotted:  # a dotted line to the right margin to write on
            p.paragraph_format.tab_stops.add_tab_stop(text_width, WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)
            p.add_run("\t")
        return p

    def tag(text: str) -> None:
        paragraph(text)

    paragraph("{{ form_number }}", italic=True, align=WD_ALIGN_PARAGRAPH.RIGHT, size=10)
    paragraph("{{ NATION }}", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, size=12)
    paragraph("{{ MOTTO }}", bold=True, underline=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    pad = "{{ indent_text * b.indent }}"
    tag("{%p for b in blocks %}")
    tag('{%p if b.kind == "title" %}')
    paragraph("{{ b.text }}", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, size=14)
    tag('{%p elif b.kind == "note" %}')
    paragraph(pad + "{{ b.text }}", italic=True)
    tag('{%p elif b.kind == "group" %}')
    paragraph(pad + "{{ b.text }}", bold=True)
    tag('{%p elif b.kind in ("line", "lines") %}')
    paragraph(pad + "{{ b.text }}{{ b.suffix }} ", dotted=True)
    tag("{%p for n in range(b.count - 1) %}")
    paragraph(pad, dotted=True)
    tag("{%p endfor %}")
    tag('{%p elif b.kind == "date" %}')
    paragraph(pad + "{{ b.text }}{{ b.suffix }} ……/……/…………")
    tag('{%p elif b.kind == "choices" %}')
    paragraph(pad + "{{ b.text }}:")
    paragraph(pad + "{{ indent_text }}{% for option in b.options %}{{ BOX }} {{ option }}{% if not loop.last %}{{ option_gap }}{% endif %}{% endfor %}")
    tag('{%p elif b.kind == "check" %}')
    paragraph(pad + "{{ BOX }} {{ b.text }}")
    tag('{%p elif b.kind == "item" %}')
    paragraph(pad + "{{ b.text }}")
    tag("{%p else %}")
    paragraph(pad + "{{ b.text }}", italic=True)
    tag("{%p endif %}")
    tag("{%p endfor %}")
    paragraph()
    table = document.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    cell = table.rows[0].cells[1]
    cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    cell.paragraphs[0].add_run("{{ sign_place }}").italic = True
    for text, bold in (('{{ _("NGƯỜI YÊU CẦU") }}', True), ('{{ _("(Ký, ghi rõ họ, chữ đệm, tên)") }}', False)):
        p = cell.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = p.add_run(text)
        run.bold, run.italic = bold, not bold
    document.save(str(path))


def main(out: Path = OUT) -> list[Path]:
    built = [out / "blank_form.docx"]
    blank_form(built[0])
    return built


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT):
        print(path)
