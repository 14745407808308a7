"""The rightful citizen is never locked out: the receipt's private link opens the dossier.

The factor form is throttled per dossier code, so an attacker sending wrong factors can
lock a dossier's form for an hour. The receipt (page, PDF QR code) carries a link signed
with the app's secret, bound to the code: it opens that dossier without the factor and
without counting against the throttle; a tampered link or another dossier's link does not.
"""

from __future__ import annotations

import hmac
import io
import logging
import re

from pypdf import PdfReader

from motcua.dossier import Contact, Dossier
from motcua.tracking import RedactLinks, link_opens, link_token, verify
from motcua.tracking_throttle import ATTEMPTS, check_factor
from tests.test_portal_tracking import filed, lookup

RIGHT = "0987654321"
WRONG = "0911111111"


def filed_in_browser(app) -> tuple[object, str]:
    """(the citizen's browser, the code) of a dossier filed through the portal's form."""
    from tests.test_portal_filing import file_it, fill_to_check

    citizen = app.test_client()
    return citizen, file_it(citizen, *fill_to_check(citizen))


def signed_link(app, code: str) -> str:
    """The private link of a dossier, as the receipt of the one who filed it carries it."""
    return f"/ho-so/{code}/xem/{link_token(app.secret_key, code)}"


def private_link_of(client, code: str) -> str:
    """What the citizen who filed (in this browser) sees on the confirmation page, as a path."""
    page = client.get(f"/ho-so/{code}/xac-nhan").get_data(as_text=True)
    found = re.search(r'href="https?://[^/"]+(/ho-so/' + re.escape(code) + r'/xem/[^"]+)"', page)
    assert found, "no private link on the confirmation page"
    return found.group(1)


def test_attacker_burning_the_per_code_limit_does_not_stop_the_private_link(app):
    citizen, code = filed_in_browser(app)
    link = private_link_of(citizen, code)
    attacker = app.test_client()
    for _ in range(10):
        assert lookup(attacker, code, WRONG).status_code == 404
    victim = app.test_client()
    assert lookup(victim, code, RIGHT).status_code == 429  # the form is locked for this code ...
    attempts_before = dict(app.extensions["motcua"].store.records(ATTEMPTS).all())
    opened = victim.get(link)  # ... the private link is not
    assert opened.status_code == 303 and opened.headers["Location"].endswith(f"/ho-so/{code}")
    page = victim.get(f"/ho-so/{code}")
    assert page.status_code == 200 and code in page.get_data(as_text=True)
    assert victim.get(f"/ho-so/{code}/bien-nhan.pdf").status_code == 200  # the whole session is the citizen's
    for _ in range(5):
        assert app.test_client().get(link).status_code == 303
    assert dict(app.extensions["motcua"].store.records(ATTEMPTS).all()) == attempts_before  # never counted


def test_a_tampered_link_is_refused_and_opens_nothing(app):
    citizen, code = filed_in_browser(app)
    link = private_link_of(citizen, code)
    token = link.rsplit("/", 1)[1]
    other = app.test_client()
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (flipped, token[:-2], token + "x", "x" * 43, ""):
        response = other.get(f"/ho-so/{code}/xem/{bad}")
        assert response.status_code == 404, bad
    refused = other.get(f"/ho-so/{code}/xem/{flipped}")
    assert "Đường dẫn tra cứu không đúng" in refused.get_data(as_text=True)
    assert refused.headers["Referrer-Policy"] == "no-referrer"
    assert other.get(f"/ho-so/{code}").status_code == 302  # still asks for the factor
    # signed with another secret (another installation): refused too
    assert other.get(f"/ho-so/{code}/xem/{link_token('another-secret', code)}").status_code == 404


def test_a_link_for_code_a_does_not_open_code_b(app, client):
    citizen, code_a = filed_in_browser(app)
    code_b = filed(client)
    link_a = private_link_of(citizen, code_a)
    token_a = link_a.rsplit("/", 1)[1]
    stranger = app.test_client()
    assert stranger.get(f"/ho-so/{code_b}/xem/{token_a}").status_code == 404
    assert stranger.get(f"/ho-so/{code_b}").status_code == 302
    assert stranger.get(link_a).status_code == 303
    assert stranger.get(f"/ho-so/{code_b}").status_code == 302  # A's link gave A only
    assert stranger.get(f"/ho-so/{code_a}").status_code == 200


def test_receipt_pdf_qr_link_is_the_private_one(app):
    citizen, code = filed_in_browser(app)
    link = private_link_of(citizen, code)
    pdf = citizen.get(f"/ho-so/{code}/bien-nhan.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).replace("\n", "")
    assert link in text
    assert pdf.headers["Referrer-Policy"] == "no-referrer" and "no-store" in pdf.headers["Cache-Control"]
    from motcua_renderers.qr import qr_svg

    page = citizen.get(f"/ho-so/{code}/bien-nhan").get_data(as_text=True)
    assert qr_svg("http://localhost" + link) in page  # the QR code on the receipt page encodes it
    assert qr_svg(f"http://localhost/ho-so/{code}") not in page


def test_link_pages_send_no_referrer_and_are_not_cached(app):
    citizen, code = filed_in_browser(app)
    link = private_link_of(citizen, code)
    confirmation = citizen.get(f"/ho-so/{code}/xac-nhan")
    assert confirmation.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in confirmation.headers["Cache-Control"]
    opened = app.test_client().get(link)
    assert opened.headers["Referrer-Policy"] == "no-referrer" and "no-store" in opened.headers["Cache-Control"]
    assert citizen.get(f"/ho-so/{code}").headers["Referrer-Policy"] == "no-referrer"


def test_the_link_stays_out_of_the_logs(app, caplog):
    citizen, code = filed_in_browser(app)
    link = private_link_of(citizen, code)
    token = link.rsplit("/", 1)[1]
    werkzeug = logging.getLogger("werkzeug")
    assert any(isinstance(f, RedactLinks) for f in werkzeug.filters)
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        # the shape of the dev server's access log line
        werkzeug.info('%s - - [%s] %s', "127.0.0.1", "01/Jan/2025 00:00:00", f'"GET {link} HTTP/1.1" 303 -')
    assert token not in caplog.text and f"/ho-so/{code}/xem/[redacted]" in caplog.text


def test_link_token_is_bound_to_secret_and_code() -> None:
    token = link_token("s3cret", "000.00.31.H12-250715-0001")
    assert link_opens("s3cret", "000.00.31.H12-250715-0001", token)
    assert not link_opens("s3cret", "000.00.31.H12-250715-0002", token)
    assert not link_opens("other", "000.00.31.H12-250715-0001", token)
    assert not link_opens("", "000.00.31.H12-250715-0001", token)
    assert not link_opens("s3cret", "000.00.31.H12-250715-0001", token.upper())


# --- the factor comparison: no timing oracle -----------------------------------------------


def _dossier(phone: str = "", cccd: str = "") -> Dossier:
    return Dossier.model_construct(contact=Contact(name="A", phone=phone, cccd=cccd))


def test_factor_comparison_does_the_same_work_whatever_the_dossier_holds(app, monkeypatch):
    calls: list[tuple[int, int]] = []
    real = hmac.compare_digest

    def counting(a, b):  # noqa: ANN001
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr("motcua.tracking.hmac.compare_digest", counting)
    shapes = []
    for dossier in (_dossier(phone=RIGHT), _dossier(cccd="001099012345"), _dossier(RIGHT, "001099012345"), _dossier()):
        for factor in (RIGHT, "001099012345", "x" * 40, ""):
            calls.clear()
            verify(dossier, factor)
            shapes.append(tuple(calls))
    assert len(set(shapes)) == 1 and len(shapes[0]) == 2 and len({n for pair in shapes[0] for n in pair}) == 1
    # an unknown code costs the same comparisons as a known one
    store = app.extensions["motcua"].store
    calls.clear()
    check_factor(store, "000.00.31.H12-250101-9999", WRONG, "")
    assert tuple(calls) == shapes[0]


def test_factor_still_opens_by_phone_or_id_and_nothing_else() -> None:
    both = _dossier("0987 654 321", "001099012345")
    assert verify(both, "0987654321") and verify(both, "+84987654321") and verify(both, "001099012345")
    assert not verify(both, WRONG) and not verify(both, "") and not verify(both, "   ")
    phone_only = _dossier(phone=RIGHT)
    assert not verify(phone_only, "") and not verify(phone_only, "\x00absent") and not verify(phone_only, "001099012345")
    assert not verify(_dossier(), "") and not verify(_dossier(), "\x00absent")


# --- who is shown the private link -----------------------------------------------------------


def _no_private_link(html: str, code: str) -> bool:
    return f"/ho-so/{code}/xem/" not in html


def test_a_lookup_session_gets_the_public_tracking_url_not_the_private_link(app):
    from motcua_renderers.qr import qr_svg

    filer, code = filed_in_browser(app)
    private = "http://localhost" + private_link_of(filer, code)
    public = f"http://localhost/ho-so/{code}"
    guesser = app.test_client()  # one right guess through the throttled lookup ...
    assert lookup(guesser, code, "0912345678").status_code == 302
    confirmation = guesser.get(f"/ho-so/{code}/xac-nhan")
    html = confirmation.get_data(as_text=True)
    assert confirmation.status_code == 200 and _no_private_link(html, code)  # ... is not a key for good
    assert f'href="{public}"' in html and qr_svg(public) in html and qr_svg(private) not in html
    assert "nhập số điện thoại hoặc số định danh cá nhân" in html and "là riêng của bạn" not in html
    receipt = guesser.get(f"/ho-so/{code}/bien-nhan").get_data(as_text=True)
    assert _no_private_link(receipt, code) and qr_svg(public) in receipt and qr_svg(private) not in receipt
    pdf = guesser.get(f"/ho-so/{code}/bien-nhan.pdf")
    assert pdf.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).replace("\n", "")
    assert public in text and "/xem/" not in text
    # the browser that filed still has it, with its own hint
    mine = filer.get(f"/ho-so/{code}/xac-nhan").get_data(as_text=True)
    assert private in mine and qr_svg(private) in mine and "là riêng của bạn" in mine


def test_a_session_opened_by_the_private_link_is_not_shown_it_again(app):
    _, code = filed_in_browser(app)
    holder = app.test_client()
    assert holder.get(signed_link(app, code)).status_code == 303
    for page in ("xac-nhan", "bien-nhan"):
        response = holder.get(f"/ho-so/{code}/{page}")
        assert response.status_code == 200 and _no_private_link(response.get_data(as_text=True), code)


def test_the_desk_receipt_prints_the_private_link_and_saves_under_its_name(app, monkeypatch):
    """The desk officer hands the printed receipt to the applicant: that is their copy. It is
    saved like the citizen's (motcua.web.downloads), never cached."""
    from motcua import accounts
    from tests.test_backoffice import login
    from tests.test_receipt_download import disposition

    _, code = filed_in_browser(app)
    accounts.create_account(app.extensions["motcua"].store, "lan", "Nguyễn Thị Lan", ["desk"], ["000.06.50.H15"], "mat-khau-rat-dai-1")
    staff = app.test_client()
    assert login(staff, "lan", "mat-khau-rat-dai-1").status_code == 302
    receipt = staff.get(f"/staff/ho-so/{code}/giay-tiep-nhan.pdf")
    assert receipt.status_code == 200 and receipt.mimetype == "application/pdf"
    assert disposition(receipt.headers["Content-Disposition"]) == ("attachment", f"Giấy tiếp nhận {code}.pdf", f"Giay-tiep-nhan-{code}.pdf")
    assert receipt.headers["Cache-Control"] == "private, no-store" and receipt.headers["Referrer-Policy"] == "no-referrer"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt.data)).pages).replace("\n", "")
    assert "http://localhost" + signed_link(app, code) in text


def test_the_tracking_page_is_private_like_the_others(app):
    citizen, code = filed_in_browser(app)
    page = citizen.get(f"/ho-so/{code}")
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "private, no-store"


def test_draft_links_stay_out_of_the_logs_too(app, caplog):
    token = "Q2xhc3NpY0RyYWZ0VG9rZW5fMTIzNDU2Nzg"  # the shape of drafts.new's token_urlsafe(24)
    werkzeug = logging.getLogger("werkzeug")
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        werkzeug.info('%s - - [%s] %s', "127.0.0.1", "01/Jan/2025 00:00:00", f'"GET /thu-tuc/1.001193/nop/{token}/child HTTP/1.1" 200 -')
    assert token not in caplog.text and "/thu-tuc/1.001193/nop/[redacted]/child" in caplog.text


def test_no_other_last_character_opens_the_link() -> None:
    """base64 leaves spare bits in the token's last character: a check that decodes the token
    accepted some of its neighbours; the token is compared as text."""
    import string

    alphabet = string.ascii_letters + string.digits + "-_"
    for n in range(40):
        secret, code = f"secret-{n}", f"000.00.31.H12-250715-{n:04d}"
        token = link_token(secret, code)
        assert link_opens(secret, code, token)
        assert not any(link_opens(secret, code, token[:-1] + c) for c in alphabet if c != token[-1])
