"""Where printed documents break pages: a signature block never stands alone at the top of a
page, and a heading never ends one.

Each document with a signature block is grown one line of content at a time (the longest
shipped procedure's files, items, parcel papers, a long reason) until the signature no longer
fits on page 1: that is the length at which it would be left alone on page 2. There the page
holding the signature must also hold the content printed just before it. Real WeasyPrint,
text read back page by page with pypdf, in Vietnamese and English.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import pypdf
import pytest

from motcua.dossier import AttachmentRef, Event
from motcua.i18n import t
from motcua.spec.loader import load_file
from motcua.spec.model import ProcedureSpec
from motcua_renderers.documents import form_pdf, parcel_pdf, receipt_pdf
from test_renderers_documents import make_dossier

REPO = Path(__file__).resolve().parent.parent
#: The shipped procedure with the most text: the most components, the longest names.
LONGEST = REPO / "procedure_specs" / "tu-phap" / "cap-phieu-ly-lich-tu-phap.yaml"
AT = datetime(2025, 5, 21, 2, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def longest() -> ProcedureSpec:
    loaded = load_file(LONGEST)
    assert loaded.spec is not None, loaded.findings
    return loaded.spec


def pages(data: bytes) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text()) for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def _dossier(spec: ProcedureSpec, files: int = 0, events: list[Event] | None = None):
    """The test dossier moved onto `spec`, with `files` uploaded files spread over its components."""
    components = [a.id for a in spec.attachments]
    refs = [AttachmentRef(component=components[i % len(components)], file_id=f"f{i}",
                          filename=f"bản-chụp-giấy-tờ-số-{i + 1:02d}.pdf", content_type="application/pdf",
                          size=2048, sha256="0" * 64) for i in range(files)]
    return make_dossier(spec).model_copy(update={
        "procedure_code": spec.code, "spec_version": spec.version, "attachments": refs, "events": events or []})


def receipt(spec: ProcedureSpec, n: int, lang: str) -> bytes:
    return receipt_pdf(_dossier(spec, n), spec, "https://dvc.example.vn/ho-so/x", lang)


def supplement(spec: ProcedureSpec, n: int, lang: str) -> bytes:
    event = Event(at=AT, actor="staff:lan", kind="supplement_requested", note="Bản sao không rõ chữ.",
                  data={"missing": [f"Bản sao giấy tờ thứ {i + 1} có chứng thực, còn thời hạn" for i in range(n)]})
    return form_pdf("supplement_request", _dossier(spec, events=[event]), spec, event, lang, {"lan": "Trần Văn Lân"})


def refusal(spec: ProcedureSpec, n: int, lang: str) -> bytes:
    event = Event(at=AT, actor="staff:lan", kind="refused", note=" ".join(["Hồ sơ không thuộc thẩm quyền giải quyết."] * n))
    return form_pdf("refusal", _dossier(spec, events=[event]), spec, event, lang, {"lan": "Trần Văn Lân"})


def apology(spec: ProcedureSpec, n: int, lang: str) -> bytes:
    event = Event(at=AT, actor="staff:lan", kind="apology", note=" ".join(["Cần xác minh thêm tại cơ quan khác."] * n),
                  data={"old_due_date": "2025-05-28", "new_due_date": "2025-06-04"})
    return form_pdf("apology", _dossier(spec, events=[event]), spec, event, lang, {"lan": "Trần Văn Lân"})


def parcel(spec: ProcedureSpec, n: int, lang: str) -> bytes:
    events = [Event(at=AT + timedelta(minutes=i), actor="staff:lan", kind="result_attached",
                    data={"filename": f"phiếu-lý-lịch-tư-pháp-bản-{i + 1:02d}.pdf"}) for i in range(n)]
    return parcel_pdf(_dossier(spec, events=events), spec, lang)


def _line(vi: str) -> Callable[[int, str], str]:
    """A fixed line of the template (up to its first placeholder), in the document's language."""
    return lambda n, lang: t(vi, lang).split("{")[0]


#: document -> how to draw it with n lines of content, its signature role (Vietnamese source),
#: and the text printed just before the signature block for that n and language
DOCUMENTS: dict[str, tuple[Callable[[ProcedureSpec, int, str], bytes], str, Callable[[int, str], str]]] = {
    "receipt": (receipt, "NGƯỜI TIẾP NHẬN HỒ SƠ", _line("Tra cứu tình trạng hồ sơ: ")),
    "supplement_request": (supplement, "NGƯỜI HƯỚNG DẪN, TIẾP NHẬN HỒ SƠ",
                           _line("Trong quá trình hoàn thiện hồ sơ, nếu có vướng mắc, Ông/Bà liên hệ {officer} để được hướng dẫn.")),
    "refusal": (refusal, "NGƯỜI TIẾP NHẬN HỒ SƠ", _line("Xin thông báo để Ông/Bà được biết và thực hiện.")),
    "apology": (apology, "THỦ TRƯỞNG CƠ QUAN, ĐƠN VỊ", _line("Xin trân trọng cảm ơn sự hợp tác của Ông/Bà.")),
    "parcel": (parcel, "NHÂN VIÊN BƯU CHÍNH", lambda n, lang: f"phiếu-lý-lịch-tư-pháp-bản-{n:02d}.pdf"),
}


def page_count(data: bytes) -> int:
    """Pages only: reading each page's text back (pypdf, pure Python) is left to the length found."""
    return len(pypdf.PdfReader(io.BytesIO(data)).pages)


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def first_two_page_length(draw: Callable[[int], bytes], high: int = 64) -> tuple[int, bytes]:
    """The least n whose document runs to two pages, by bisection (n = 0 fits on one)."""
    low = 0
    data = draw(high)
    assert page_count(data) >= 2, "the content never reaches a second page"
    while high - low > 1:
        middle = (low + high) // 2
        drawn = draw(middle)
        if page_count(drawn) >= 2:
            high, data = middle, drawn
        else:
            low = middle
    return high, data


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_the_signature_block_takes_the_line_before_it_to_the_next_page(longest, name, lang):
    draw, role, before = DOCUMENTS[name]
    n, data = first_two_page_length(lambda k: draw(longest, k, lang))
    printed = pages(data)
    signed = [i for i, page in enumerate(printed) if t(role, lang) in page]
    assert signed, (role, printed)
    page = printed[signed[-1]]
    assert squeezed(before(n, lang)) in squeezed(page), (n, page)  # not alone at the page's top
