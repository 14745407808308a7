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


def private_link_of(client, code: str) -> str:
    """What the citizen who filed sees on the confirmation page, as a path."""
    assert lookup(client, code, RIGHT).status_code == 302
    page = client.get(f"/ho-so/{code}/xac-nhan").get_data(as_text=True)
    found = re.search(r'href="https?://[^/"]+(/ho-so/' + re.escape(code) + r'/xem/[^"]+)"', page)
    assert found, "no private link on the confirmation page"
    return found.group(1)


def test_attacker_burning_the_per_code_limit_does_not_stop_the_private_link(app, client):
    code = filed(client)
    link = private_link_of(app.test_client(), code)
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


def test_a_tampered_link_is_refused_and_opens_nothing(app, client):
    code = filed(client)
    link = private_link_of(app.test_client(), code)
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
    code_a, code_b = filed(client), filed(client)
    link_a = private_link_of(app.test_client(), code_a)
    token_a = link_a.rsplit("/", 1)[1]
    stranger = app.test_client()
    assert stranger.get(f"/ho-so/{code_b}/xem/{token_a}").status_code == 404
    assert stranger.get(f"/ho-so/{code_b}").status_code == 302
    assert stranger.get(link_a).status_code == 303
    assert stranger.get(f"/ho-so/{code_b}").status_code == 302  # A's link gave A only
    assert stranger.get(f"/ho-so/{code_a}").status_code == 200


def test_receipt_pdf_qr_link_is_the_private_one(app, client):
    code = filed(client)
    citizen = app.test_client()
    link = private_link_of(citizen, code)
    pdf = citizen.get(f"/ho-so/{code}/bien-nhan.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).replace("\n", "")
    assert link in text
    assert pdf.headers["Referrer-Policy"] == "no-referrer" and "no-store" in pdf.headers["Cache-Control"]
    from renderers.qr import qr_svg

    page = citizen.get(f"/ho-so/{code}/bien-nhan").get_data(as_text=True)
    assert qr_svg("http://localhost" + link) in page  # the QR code on the receipt page encodes it
    assert qr_svg(f"http://localhost/ho-so/{code}") not in page


def test_link_pages_send_no_referrer_and_are_not_cached(app, client):
    code = filed(client)
    citizen = app.test_client()
    link = private_link_of(citizen, code)
    confirmation = citizen.get(f"/ho-so/{code}/xac-nhan")
    assert confirmation.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in confirmation.headers["Cache-Control"]
    opened = app.test_client().get(link)
    assert opened.headers["Referrer-Policy"] == "no-referrer" and "no-store" in opened.headers["Cache-Control"]
    assert citizen.get(f"/ho-so/{code}").headers["Referrer-Policy"] == "no-referrer"


def test_the_link_stays_out_of_the_logs(app, client, caplog):
    code = filed(client)
    link = private_link_of(app.test_client(), code)
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
