"""Printable documents from templates: the blank form (PDF, DOCX) and the receipt (PDF).

Every document is one template plus one context function:

- PDF: a Jinja HTML/CSS template in renderers/templates/documents/ (`receipt.html`,
  `blank_form.html`, all extending `base.html`, whose national header is `header.html`),
  laid out by WeasyPrint. The page flows like a web page: nothing is placed by coordinates,
  and the QR code has its own cell beside the text it belongs to.
- DOCX: a Word file with docxtpl tags (`blank_form.docx`, built by
  tools/build_docx_templates.py), so an agency edits its form in Word.

A deployment overrides any of these files from the folder in its `DOCUMENT_TEMPLATES_DIR`
setting: that folder is searched first, then the shipped one (`<name>.<lang>.<ext>` before
`<name>.<ext>` in each), so a province's own header or wording needs no code; an override
may extend the file it replaces as `motcua/<name>`. See docs/documents.md.

A new document (forms 02-06 of Circular 01/2018/TT-VPCP) is a template that extends
`base.html` and a function that builds its context; `render_pdf` does the rest.

Fonts are the DejaVu subsets shipped in renderers/fonts (see its README), loaded with
@font-face: nothing is downloaded at run time and every Vietnamese diacritic prints.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, StrictUndefined
from markupsafe import Markup

from motcua.dossier import Dossier, Event
from motcua.fees import bill, line_amount_text
from motcua.spec.model import Condition, ProcedureSpec, localize
from motcua.units import address_text
from motcua.i18n import FILTERS
from motcua.workdays import VN_TZ, limit_text
from motcua_renderers.form import ADDRESS_LABELS, attachment_required, copies_text
from motcua_renderers.l10n import N_, format_date, money, t
from motcua_renderers.qr import qr_data_uri
from motcua_renderers.schema import (
    ADDRESS_KEYS,
    ADDRESS_PARTS,
    enum_values,
    node_at,
    schema_type,
    show_conditions,
    ui_for,
    widget_for,
)
from motcua_renderers.summary import display_value

FONTS = Path(__file__).resolve().parent / "fonts"
TEMPLATES = Path(__file__).resolve().parent / "templates" / "documents"
NATION = N_("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
MOTTO = N_("Độc lập - Tự do - Hạnh phúc")
BOX = "☐"
DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def nfc(text: str) -> str:
    """Precomposed letters: one glyph per Vietnamese letter, the way readers search text."""
    return unicodedata.normalize("NFC", text)


# --- templates ------------------------------------------------------------------------------


class TemplateFolderMissing(ValueError):
    """DOCUMENT_TEMPLATES_DIR names something that is not a folder."""


def _finalize(value: Any) -> Any:
    # every printed string precomposed (spec text and citizen input may come decomposed);
    # markup already built by a macro or include is left as it is
    if isinstance(value, str) and not isinstance(value, Markup):
        return nfc(value)
    return "" if value is None else value


def _folders(overrides: str | Path | None) -> tuple[Path, ...]:
    """Where templates are looked for, the deployment's folder first."""
    if overrides in (None, ""):
        return (TEMPLATES,)
    folder = Path(overrides)  # type: ignore[arg-type]
    if not folder.is_dir():
        raise TemplateFolderMissing(f"DOCUMENT_TEMPLATES_DIR: {folder} is not a folder")
    return (folder, TEMPLATES)


def css_string(value: Any) -> Markup:
    """`value` as a quoted CSS string, safe inside <style> (quotes, backslashes, <, > and &
    as CSS escapes, so no text can close the string or the style element)."""
    text = nfc(str(value))
    escaped = "".join(f"\\{ord(c):x} " if c in '"\\<>&\n\r' else c for c in text)
    return Markup(f'"{escaped}"')


@lru_cache(maxsize=8)
def environment(overrides: str | None = None) -> Environment:
    """The document templates' Jinja environment: the override folder first, then ours.

    Autoescaped like every renderer template (spec text and citizen input are data);
    StrictUndefined so an override that names a variable we do not pass fails loudly.
    """
    # `motcua/<name>` is always the shipped file, so an override may extend the template
    # it replaces and change one block: {% extends "motcua/receipt.html" %}
    shipped = PrefixLoader({"motcua": FileSystemLoader(str(TEMPLATES))})
    env = Environment(
        loader=ChoiceLoader([shipped] + [FileSystemLoader(str(folder)) for folder in _folders(overrides)]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters["css_string"] = css_string
    env.filters.update(FILTERS)  # |money, |date, |datetime: an override writes them as pages do
    return env


def _common(lang: str) -> dict[str, Any]:
    """What every document template may use besides its own context."""

    def translate(text: str, **params: Any) -> str:
        return t(text, lang, **params)

    return {"lang": lang, "_": translate, "fonts": FONTS.as_uri(), "NATION": NATION, "MOTTO": MOTTO, "BOX": BOX}


def _key(overrides: str | Path | None) -> str | None:
    return str(overrides) if overrides not in (None, "") else None


def _find(name: str, lang: str, ext: str, overrides: str | Path | None) -> Path:
    """The file of document `name`: the override folder's before ours, and in each folder
    the language's own (`receipt.en.html`) before the one for every language."""
    folders = _folders(_key(overrides))
    for folder in folders:
        for candidate in (f"{name}.{lang}.{ext}", f"{name}.{ext}"):
            if (folder / candidate).is_file():
                return folder / candidate
    raise FileNotFoundError(f"no template {name}.{ext} in {', '.join(map(str, folders))}")


def render_html(name: str, context: Mapping[str, Any], lang: str, overrides: str | Path | None = None) -> str:
    """The HTML of document `name` (`receipt`, `blank_form` ...) in `lang`."""
    # found by file name in the loader's order: the override folder's file wins over ours
    template = environment(_key(overrides)).get_template(_find(name, lang, "html", overrides).name)
    return template.render({**_common(lang), **context})


def render_pdf(name: str, context: Mapping[str, Any], lang: str, overrides: str | Path | None = None) -> bytes:
    """Document `name` as an A4 PDF, laid out by WeasyPrint from its HTML/CSS template.

    Relative links in a template (an agency's logo) resolve in the override folder when
    there is one.
    """
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    html = render_html(name, context, lang, overrides)
    folders = _folders(_key(overrides))
    fetcher = local_fetcher((FONTS, *folders))
    return HTML(string=html, base_url=folders[0].as_uri() + "/", url_fetcher=fetcher).write_pdf(font_config=FontConfiguration())


def local_fetcher(folders: tuple[Path, ...]) -> Any:
    """A WeasyPrint URL fetcher that loads `data:` URIs and files inside `folders`, nothing else.

    A document is printed from our files and the deployment's: no template can make the
    server fetch a URL or read a file elsewhere on the machine, and no printing waits on the
    network.
    """
    from urllib.parse import unquote, urlsplit

    from weasyprint.urls import URLFetcher

    roots = [folder.resolve() for folder in folders]

    class LocalFiles(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            parts = urlsplit(url)
            if parts.scheme == "file":
                path = Path(unquote(parts.path)).resolve()
                if not any(path.is_relative_to(root) for root in roots):
                    raise ValueError(f"a document loads only its own files, not {path}")
            return super().fetch(url, headers)

    return LocalFiles(allowed_protocols=("data", "file"))


def render_docx(name: str, context: Mapping[str, Any], lang: str, overrides: str | Path | None = None) -> bytes:
    """Document `name` as a Word file, filled in from its docxtpl template."""
    from docxtpl import DocxTemplate

    document = DocxTemplate(str(_find(name, lang, "docx", overrides)))
    env = Environment(autoescape=True, undefined=StrictUndefined, finalize=_finalize)
    document.render({**_common(lang), **context}, jinja_env=env, autoescape=True)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- the blank form as blocks ---------------------------------------------------------------


@dataclass
class Block:
    """One printed element of the blank form.

    kind: title (the heading), group (bold heading), line (label and dotted fill), lines (label then several
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
    # the office is chosen when filing: the blank form names the kind of office the spec
    # names, or leaves the line to be filled in
    addressee = spec.performers_rule.name
    blocks.append(Block("line", t("Kính gửi", lang) + ": " + (localize(addressee, lang) if addressee else ""), suffix=""))
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


def blank_form_context(spec: ProcedureSpec, lang: str) -> dict[str, Any]:
    """The blank form's template context: its blocks, and the header of a form the citizen
    hands to the agency (its national header stays Vietnamese whatever the reader's language)."""
    return {
        "title": localize(spec.name, lang),
        "header_lang": "vi",
        "agency": "",
        "unit": "",
        "form_number": t("Mẫu tạo từ thủ tục {key}", lang, key=spec.key),
        "footer": t("Mẫu tạo từ thủ tục {key}", lang, key=spec.key),
        "blocks": blank_form_blocks(spec, lang),
        "sign_place": SIGN_PLACE,
        # the Word form indents with no-break spaces, which every word processor keeps
        "indent_text": "\u00a0" * 4,
        "option_gap": "\u00a0" * 6,
    }


def blank_form_pdf(spec: ProcedureSpec, lang: str = "vi", overrides: str | Path | None = None) -> bytes:
    """The printable blank form (tờ khai) of a procedure, A4, to fill in by hand."""
    return render_pdf("blank_form", blank_form_context(spec, lang), lang, overrides)


def blank_form_docx(spec: ProcedureSpec, lang: str = "vi", overrides: str | Path | None = None) -> bytes:
    """The same blank form as a Word document, for agencies that edit their forms."""
    return render_docx("blank_form", blank_form_context(spec, lang), lang, overrides)


# --- the receipt (mẫu 01) -------------------------------------------------------------------

CHANNEL_LABELS = {"online": N_("Trực tuyến"), "desk": N_("Trực tiếp"), "postal": N_("Qua dịch vụ bưu chính công ích")}
DELIVERY_LABELS = {
    "desk": N_("Tại Bộ phận tiếp nhận và trả kết quả"),
    "postal": N_("Qua dịch vụ bưu chính công ích"),
    "electronic": N_("Bản điện tử, trên Cổng dịch vụ công"),
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
        detail = t("miễn", lang) if fee.get("exempt") else line_amount_text(fee, lang)
        yield f"{name}: {detail}"


def _paid_text(dossier: Dossier, lang: str) -> str:
    """"Đã nộp phí, lệ phí: 16.000 ₫ (biên lai số BL-0099)" from the `paid` events, or ""."""
    paid = [e.data or {} for e in dossier.events if e.kind == "paid"]
    if not paid or dossier.fee_total <= 0:
        return ""
    amounts = [p.get("amount") for p in paid]
    # a `paid` event without an amount paid everything (as motcua_plugins.payment.amount_due reads it)
    amount = sum(amounts) if all(isinstance(a, int) for a in amounts) else dossier.fee_total  # type: ignore[arg-type]
    text = t("Đã nộp phí, lệ phí: {amount}", lang, amount=money(amount, lang))
    receipts = [str(p["receipt_no"]) for p in paid if p.get("receipt_no")]
    if receipts:
        text += t(" (biên lai số {numbers})", lang, numbers=", ".join(receipts))
    return text


def _when(moment: datetime, lang: str) -> str:
    local = moment.astimezone(VN_TZ)
    hour, minute = f"{local.hour:02d}", f"{local.minute:02d}"  # the form's own wording: "8 giờ 05 phút"
    return t("{hour} giờ {minute} phút, ngày {day}", lang, hour=hour, minute=minute, day=format_date(moment, lang))




@dataclass
class ReceiptRow:
    """One line of the receipt's table of documents received."""

    number: int
    name: str
    form: str
    note: str


def _receipt_rows(dossier: Dossier, spec: ProcedureSpec, lang: str) -> list[ReceiptRow]:
    uploaded: dict[str, list[str]] = {}
    for ref in dossier.attachments:
        uploaded.setdefault(ref.component, []).append(ref.filename)
    on_paper = dossier.received_on_paper
    rows: list[ReceiptRow] = []
    for attachment in spec.attachments:
        files = uploaded.pop(attachment.id, [])
        paper = attachment.id in on_paper
        if not files and not paper and not attachment_required(attachment, dossier.data):
            continue
        notes = ([t("Đã nhận bản giấy", lang)] if paper else []) + files
        rows.append(ReceiptRow(
            len(rows) + 1,
            localize(attachment.name, lang),
            copies_text(attachment, lang) + (t("; bản điện tử", lang) if files else ""),
            ", ".join(notes) if notes else t("Chưa nộp", lang),
        ))
    for component, files in uploaded.items():  # a component the spec no longer lists
        rows.append(ReceiptRow(len(rows) + 1, component, t("bản điện tử", lang), ", ".join(files)))
    return rows


def receipt_context(dossier: Dossier, spec: ProcedureSpec, tracking_url: str, lang: str,
                    office_name: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Everything form 01 prints, as text in `lang`; the template only lays it out."""
    time_limit = spec.info.processing_time
    to_pay = bill(dossier.fee_total, dossier.delivery)
    fee_lines = list(_fee_lines(dossier, lang))
    if fee_lines or to_pay.postage:
        fee_lines += [row.line for row in to_pay.rows(lang)]
    delivery = dossier.delivery
    if delivery is not None:
        option = spec.delivery_option(delivery.kind)
        where = localize(option.label, lang) if option and option.label else t(DELIVERY_LABELS.get(delivery.kind, delivery.kind), lang)
        address = _address_text(delivery.address, lang)
        if address:
            where += f" ({address})"
    else:
        where = t("Chưa đăng ký", lang)
    contact = dossier.contact
    procedure_code = t("mã thủ tục", lang)
    return {
        "title": t("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", lang),
        "header_lang": lang,
        # the office the dossier was filed with (the caller may give its name)
        "agency": localize(office_name, lang) if office_name else filed_with(dossier, spec, lang),
        "unit": t("BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ", lang),
        "form_number": t("Mẫu số 01", lang),
        "footer": t("Mẫu số 01 - Thông tư 01/2018/TT-VPCP · {code}", lang, code=dossier.code),
        "code": dossier.code,
        "applicant": contact.name,
        "cccd": contact.cccd or "",
        "reach": "; ".join(filter(None, [contact.phone, contact.email])),
        "procedure": f"{localize(spec.name, lang)} ({procedure_code} {spec.code})",
        "channel": t(CHANNEL_LABELS.get(dossier.channel, dossier.channel), lang),
        "rows": _receipt_rows(dossier, spec, lang),
        "limit": localize(limit_text(time_limit.working_days, time_limit.calendar_days), lang).lower(),
        "received": _when(dossier.filed_at, lang),
        "due": t("ngày {date}", lang, date=format_date(dossier.due_date, lang)) if dossier.due_date else t("sẽ thông báo sau", lang),
        # each fee (to the agency), the postal charge (to the post office), and the bill's
        # one total, which says what it covers when both are in it
        "fee_lines": fee_lines,
        "paid": _paid_text(dossier, lang),
        "delivery": where,
        "tracking_url": tracking_url,
        "qr": qr_data_uri(tracking_url),
    }


def receipt_pdf(dossier: Dossier, spec: ProcedureSpec, tracking_url: str, lang: str = "vi", overrides: str | Path | None = None,
                office_name: Mapping[str, str] | None = None) -> bytes:
    """Giấy tiếp nhận hồ sơ và hẹn trả kết quả (mẫu 01, Circular 01/2018/TT-VPCP).

    The same slip for the citizen's download and the desk's print-out; the channel line
    says how the dossier came in.
    """
    return render_pdf("receipt", receipt_context(dossier, spec, tracking_url, lang, office_name), lang, overrides)


# --- forms 02-06 of Circular 01/2018/TT-VPCP --------------------------------------------------
#
# Each is drawn from the dossier's timeline: the event the workflow recorded when it reached
# the form (a supplement request, a refusal, an apology, the hand-overs) is the form's source
# and is never edited, so the same document comes back whenever it is printed. Names of
# staff come in `names` (username -> full name): renderers read no store.

#: The event kind of each form the workflow issues to the citizen, and the form's file name.
FORM_EVENTS = {"supplement_requested": "supplement_request", "refused": "refusal", "apology": "apology"}
DESK_UNIT = N_("Bộ phận tiếp nhận và trả kết quả")


#: What each document is called in lists and file names.
FORM_TITLES = {
    "supplement_request": N_("Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (mẫu 02)"),
    "refusal": N_("Phiếu từ chối tiếp nhận, giải quyết hồ sơ (mẫu 03)"),
    "apology": N_("Phiếu xin lỗi và hẹn lại ngày trả kết quả (mẫu 04)"),
    "control_sheet": N_("Phiếu kiểm soát quá trình giải quyết hồ sơ (mẫu 05)"),
}
FORM_FILES = {"supplement_request": "mau-02-yeu-cau-bo-sung", "refusal": "mau-03-tu-choi",
              "apology": "mau-04-xin-loi", "control_sheet": "mau-05-phieu-kiem-soat"}


def issued_forms(dossier: Dossier) -> list[tuple[int, str]]:
    """(index of the event in the timeline, document name) of every form 02-04 the workflow
    issued to the citizen, oldest first."""
    return [(i, name) for i, e in enumerate(dossier.events) if (name := form_of(e)) is not None]


def form_of(event: Event) -> str | None:
    """The document (`supplement_request`, `refusal`, `apology`) an event issues, if any; a
    decision to reject is a refusal too (form 03: "từ chối tiếp nhận, giải quyết")."""
    if event.kind == "decided" and (event.data or {}).get("decision") == "rejected":
        return "refusal"
    return FORM_EVENTS.get(event.kind)


def _person(actor: str, names: Mapping[str, str]) -> str:
    """A timeline actor as printed: a staff member's full name, else who it was."""
    if actor.startswith("staff:"):
        username = actor.split(":", 1)[1]
        return names.get(username, username)
    return actor


def filed_with(dossier: Dossier, spec: ProcedureSpec, lang: str) -> str:
    """The name of the office the dossier was filed with, for a form's header."""
    from motcua.agencies import office_name

    return office_name(dossier.agency_code, spec, lang)


def _dossier_heading(dossier: Dossier, spec: ProcedureSpec, lang: str) -> dict[str, Any]:
    """What every form says about the dossier: code, applicant, procedure, when received."""
    contact = dossier.contact
    return {
        "code": dossier.code,
        "applicant": contact.name,
        "reach": "; ".join(filter(None, [contact.phone, contact.email])),
        "procedure": f"{localize(spec.name, lang)} ({t('mã thủ tục', lang)} {spec.code})",
        "received": _when(dossier.filed_at, lang),
        "agency": filed_with(dossier, spec, lang),
        "header_lang": lang,
    }


def _place_date(moment: datetime, lang: str) -> str:
    return t("Ngày {date}", lang, date=format_date(moment, lang))


def supplement_request_context(dossier: Dossier, spec: ProcedureSpec, event: Event, lang: str,
                               names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Form 02, phiếu yêu cầu bổ sung, hoàn thiện hồ sơ: everything missing, said once."""
    from motcua.submission import field_label

    data = event.data or {}
    items = [str(m) for m in data.get("missing") or []]
    for cid in data.get("components") or []:
        component = spec.attachment(cid)
        items.append(t("Nộp lại: {name}", lang, name=localize(component.name, lang) if component else cid))
    for name in data.get("fields") or []:
        items.append(t("Sửa thông tin tờ khai: {name}", lang, name=field_label(spec, str(name), lang)))
    return {
        **_dossier_heading(dossier, spec, lang),
        "title": t("PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", lang),
        "unit": t("BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ", lang),
        "form_number": t("Mẫu số 02", lang),
        "footer": t("Mẫu số 02 - Thông tư 01/2018/TT-VPCP · {code}", lang, code=dossier.code),
        "items": items,
        "reason": event.note or "",
        "legal_basis": [f"{b.number} – {localize(b.title, lang)}" for b in spec.info.legal_basis],
        "officer": _person(event.actor, names or {}),
        "date": _place_date(event.at, lang),
    }


def refusal_context(dossier: Dossier, spec: ProcedureSpec, event: Event, lang: str,
                    names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Form 03, phiếu từ chối tiếp nhận, giải quyết hồ sơ: at intake or after processing."""
    at_intake = event.kind == "refused"
    return {
        **_dossier_heading(dossier, spec, lang),
        "title": t("PHIẾU TỪ CHỐI TIẾP NHẬN, GIẢI QUYẾT HỒ SƠ", lang),
        "unit": t("BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ", lang),
        "form_number": t("Mẫu số 03", lang),
        "footer": t("Mẫu số 03 - Thông tư 01/2018/TT-VPCP · {code}", lang, code=dossier.code),
        "stage": t("tiếp nhận", lang) if at_intake else t("giải quyết", lang),
        "reason": event.note or "",
        "officer": _person(event.actor, names or {}),
        "date": _place_date(event.at, lang),
    }


def apology_context(dossier: Dossier, spec: ProcedureSpec, event: Event, lang: str,
                    names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Form 04, phiếu xin lỗi và hẹn lại ngày trả kết quả, signed by the agency's head."""
    from datetime import date as _date

    data = event.data or {}

    def day(value: Any) -> str:
        return format_date(_date.fromisoformat(value), lang) if value else ""

    return {
        **_dossier_heading(dossier, spec, lang),
        "title": t("PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ", lang),
        "unit": "",
        "form_number": t("Mẫu số 04", lang),
        "footer": t("Mẫu số 04 - Thông tư 01/2018/TT-VPCP · {code}", lang, code=dossier.code),
        "old_due": day(data.get("old_due_date")),
        "new_due": day(data.get("new_due_date")),
        "reason": event.note or "",
        "officer": _person(event.actor, names or {}),
        "date": _place_date(event.at, lang),
    }


@dataclass
class HandOver:
    """One line of form 05: who handed the dossier to whom, when, by when, on time or late."""

    number: int
    giver: str
    receiver: str
    at: str
    due: str
    result: str
    note: str


#: The timeline's hand-overs: (event kind, who gives, who receives) when the event's data says neither.
_APPLICANT = N_("Người nộp hồ sơ")


def _event_text(event: Event, lang: str) -> str:
    """The timeline's label of an event (a decision by what was decided)."""
    from motcua.workflow.events import DECISIONS, event_kind

    declared = DECISIONS.get((event.data or {}).get("decision", "")) if event.kind == "decided" else None
    declared = declared or event_kind(event.kind)
    return localize(declared.label, lang) if declared else event.kind


def control_sheet_rows(dossier: Dossier, lang: str, names: Mapping[str, str] | None = None) -> list[HandOver]:
    """Form 05's lines: the hand-overs `motcua.processing.control_sheet_lines` reads from the
    timeline (received, sent for processing, transferred, each opinion handed on, each
    rework, the decision, the return). Each is judged against the due the line carries (the
    hand's own, from the spec's stage `days`), never later than the dossier's due date in
    force at that moment: the filing's, moved by each pause (`clock_resumed`) and by an apology."""
    from datetime import date as _date

    from motcua.processing import control_sheet_lines

    names = names or {}
    changes = [e for e in dossier.events if e.kind in ("clock_resumed", "apology")]
    first = next((e.data.get("old_due_date") for e in changes if (e.data or {}).get("old_due_date")), None)
    due: _date | None = _date.fromisoformat(first) if first else dossier.due_date
    moves = iter(sorted(((e.at, e.data or {}) for e in changes), key=lambda pair: pair[0]))
    pending = next(moves, None)
    rows: list[HandOver] = []
    for line in control_sheet_lines(dossier):
        while pending is not None and pending[0] <= line.at:  # the dossier's due in force then
            moved = pending[1].get("due_date") or pending[1].get("new_due_date")
            due = _date.fromisoformat(moved) if moved else due
            pending = next(moves, None)
        giver, receiver = t(line.sender, lang), t(line.receiver, lang)
        if line.kind == "received":  # the applicant, by role, as the form has it
            giver = t(_APPLICANT, lang)
        elif line.kind == "returned":
            receiver = t(_APPLICANT, lang)
        limit = min(line.due, due) if line.due and due else (line.due or due)
        day = line.at.astimezone(VN_TZ).date()
        if limit is None:
            result = ""
        elif day < limit:
            result = t("Trước hạn", lang)
        elif day == limit:
            result = t("Đúng hạn", lang)
        else:
            result = t("Quá hạn", lang)
        note = _event_text(dossier.events[line.index], lang) + (f": {line.note}" if line.note else "")
        rows.append(HandOver(len(rows) + 1, giver, receiver, _when(line.at, lang),
                             format_date(limit, lang) if limit else "", result,
                             f"{note} ({_person(line.actor, names)})"))
    return rows


def control_sheet_context(dossier: Dossier, spec: ProcedureSpec, lang: str,
                          names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Form 05, phiếu kiểm soát quá trình giải quyết hồ sơ."""
    return {
        **_dossier_heading(dossier, spec, lang),
        "title": t("PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ", lang),
        "unit": t("BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ", lang),
        "form_number": t("Mẫu số 05", lang),
        "footer": t("Mẫu số 05 - Thông tư 01/2018/TT-VPCP · {code}", lang, code=dossier.code),
        "due": format_date(dossier.due_date, lang) if dossier.due_date else t("sẽ thông báo sau", lang),
        "rows": control_sheet_rows(dossier, lang, names),
    }


FORM_CONTEXTS = {"supplement_request": supplement_request_context, "refusal": refusal_context, "apology": apology_context}


def form_pdf(name: str, dossier: Dossier, spec: ProcedureSpec, event: Event | None, lang: str = "vi",
             names: Mapping[str, str] | None = None, overrides: str | Path | None = None) -> bytes:
    """Form 02 (`supplement_request`), 03 (`refusal`), 04 (`apology`) for `event`, or 05
    (`control_sheet`, the whole timeline; `event` unused) as a PDF."""
    if name == "control_sheet":
        return render_pdf(name, control_sheet_context(dossier, spec, lang, names), lang, overrides)
    assert event is not None
    return render_pdf(name, FORM_CONTEXTS[name](dossier, spec, event, lang, names), lang, overrides)


def register_context(rows: list[Any], headers: list[str], agency: str, period_label: str, lang: str) -> dict[str, Any]:
    """Form 06, sổ theo dõi hồ sơ: `rows` are `motcua.register.RegisterRow`s."""
    return {
        "title": t("SỔ THEO DÕI HỒ SƠ", lang),
        "header_lang": lang,
        "agency": agency,
        "unit": t("BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ", lang),
        "form_number": t("Mẫu số 06", lang),
        "footer": t("Mẫu số 06 - Thông tư 01/2018/TT-VPCP · {period}", lang, period=period_label),
        "period": period_label,
        "headers": headers,
        "rows": rows,
    }


def register_pdf(rows: list[Any], headers: list[str], agency: str, period_label: str, lang: str = "vi",
                 overrides: str | Path | None = None) -> bytes:
    """The register of one agency for one period, A4 landscape."""
    return render_pdf("register", register_context(rows, headers, agency, period_label, lang), lang, overrides)


# --- the parcel's contents list (danh mục tài liệu trong bưu gửi) -----------------------------


@dataclass
class ParcelItem:
    """One paper in the parcel that carries the result by public post."""

    number: int
    name: str
    form: str


def parcel_context(dossier: Dossier, spec: ProcedureSpec, lang: str) -> dict[str, Any]:
    """What the desk puts in the result's parcel, for the postal worker and the citizen to
    check on hand-over (Decision 45/2016/QĐ-TTg): the result as the spec names it, every
    result document attached, the forms issued to the citizen, and what the post collects."""
    items = [ParcelItem(1, localize(spec.info.result, lang), t("Bản chính", lang))]
    for event in dossier.events:
        data = event.data or {}
        if event.kind == "result_attached":
            form = t("Bản in từ bản điện tử có chữ ký số", lang) if data.get("signed_by") else t("Bản in", lang)
            items.append(ParcelItem(len(items) + 1, str(data.get("filename") or ""), form))
        elif (name := form_of(event)) is not None:
            items.append(ParcelItem(len(items) + 1, t(FORM_TITLES[name], lang), t("Bản chính", lang)))
    booked = [e.data or {} for e in dossier.events if e.kind == "shipment_booked" and (e.data or {}).get("kind") == "delivery"]
    shipment = booked[-1] if booked else {}
    delivery = dossier.delivery
    return {
        **_dossier_heading(dossier, spec, lang),
        "title": t("DANH MỤC TÀI LIỆU TRONG BƯU GỬI", lang),
        "unit": t("BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ", lang),
        "form_number": "",
        "footer": t("Danh mục bưu gửi · {code}", lang, code=dossier.code),
        "recipient": (delivery.address or {}).get("recipient") or dossier.contact.name if delivery else dossier.contact.name,
        "address": _address_text(delivery.address if delivery else None, lang),
        "item_number": str(shipment.get("item_number") or ""),
        "cod": money(int(shipment.get("cod_amount") or 0), lang) if shipment.get("cod_amount") else "",
        "items": items,
    }


def parcel_pdf(dossier: Dossier, spec: ProcedureSpec, lang: str = "vi", overrides: str | Path | None = None) -> bytes:
    """The contents list printed and put in the parcel with the result."""
    return render_pdf("parcel", parcel_context(dossier, spec, lang), lang, overrides)
