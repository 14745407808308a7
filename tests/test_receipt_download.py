"""The receipt PDF is saved, not shown: Content-Disposition attachment with an ASCII and a UTF-8 name."""

from __future__ import annotations

import re
from urllib.parse import unquote

from motcua.web.downloads import attachment
from tests.test_portal_tracking import filed, lookup
from tests.test_renderers_documents import pdf_text, text_under_the_qr_code
from tests.test_tracking_private_link import signed_link

RIGHT = "0987654321"


def disposition(value: str) -> tuple[str, str, str]:
    """(type, filename as a current browser reads it: filename* first, the ASCII filename)."""
    kind = value.split(";", 1)[0].strip()
    ascii_name = re.search(r'(?:^|;\s*)filename="([^"]*)"', value).group(1)
    extended = re.search(r"filename\*=UTF-8''([^;\s]+)", value)
    return kind, unquote(extended.group(1), encoding="utf-8", errors="strict") if extended else ascii_name, ascii_name


def test_receipt_pdf_is_an_attachment_named_in_vietnamese_with_an_ascii_fallback(app, client):
    code = filed(app.test_client())
    assert lookup(client, code, RIGHT).status_code == 302
    response = client.get(f"/ho-so/{code}/bien-nhan.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    header = response.headers["Content-Disposition"]
    kind, name, ascii_name = disposition(header)
    assert kind == "attachment"
    assert name == f"Giấy tiếp nhận {code}.pdf"
    assert ascii_name == f"Giay-tiep-nhan-{code}.pdf" and ascii_name.isascii()
    assert header.isascii()  # a header is Latin-1 at most; the UTF-8 name is percent-encoded
    assert response.headers["Cache-Control"] == "private, no-store"
    # the citizen's copy: the QR code in its own box, clear of the request line (issue 10)
    assert "Nội dung yêu cầu giải quyết" in pdf_text(response.data) and text_under_the_qr_code(response.data) == ""

    english = client.get(f"/ho-so/{code}/bien-nhan.pdf?lang=en")
    assert disposition(english.headers["Content-Disposition"])[:2] == ("attachment", f"Receipt {code}.pdf")


def test_names_cannot_break_the_header():
    kind, name, ascii_name = disposition(attachment('Đơn "x";\r\nSet-Cookie: a=b.pdf'))
    assert kind == "attachment" and name == 'Đơn "x";\r\nSet-Cookie: a=b.pdf'
    assert ascii_name == "Don-x-Set-Cookie-a-b.pdf"
    assert "\r" not in attachment("a\r\nb") and "\n" not in attachment("a\r\nb")
    assert attachment("plain.pdf") == 'attachment; filename="plain.pdf"'


def test_chromium_downloads_the_receipt(app, live_server, page):
    code = filed(app.test_client())
    page.goto(live_server.url + signed_link(app, code))
    page.goto(f"{live_server.url}/ho-so/{code}/bien-nhan")
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải giấy tiếp nhận (PDF)").click()
    assert download.value.suggested_filename == f"Giấy tiếp nhận {code}.pdf"
    assert open(download.value.path(), "rb").read(5) == b"%PDF-"
