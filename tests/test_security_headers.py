"""Headers on every page a citizen or a staff member sees: no caching of personal data, a
Content-Security-Policy that the pages actually keep, HSTS over https."""

from __future__ import annotations

import io
import re

import pytest

from motcua import accounts
from motcua.app import create_app
from tests.conftest import SPECS
from tests.portal_helpers import BIRTH_CODE, csrf, small_pdf
from tests.test_portal_filing import GOOD_ANSWERS, fill_to_check, file_it, start, text


def _walk(app) -> list[tuple[str, object]]:
    """(url, response) of the pages of one citizen's filing and tracking, and of the staff
    member who opens the dossier."""
    client = app.test_client()
    seen: list[tuple[str, object]] = []

    def get(url: str):
        response = client.get(url)
        seen.append((url, response))
        return response

    get("/")
    get(f"/thu-tuc/{BIRTH_CODE}")
    get(f"/thu-tuc/{BIRTH_CODE}/nop")
    base, token = start(client)
    for step in ("child", "parents", "copies", "dinh-kem", "nhan-ket-qua"):
        get(f"{base}/{step}")
    saved = client.post(f"{base}/child", data={"csrf_token": token, **GOOD_ANSWERS["child"], "_action": "save"})
    seen.append((f"{base}/child (save)", saved))
    get(saved.headers["Location"])
    refused = client.post(f"{base}/dinh-kem", data={"csrf_token": token, "_action": "save",
                                                    "attachment.giay_chung_sinh": (io.BytesIO(b"MZ" * 50), "x.pdf")},
                          content_type="multipart/form-data")
    seen.append((f"{base}/dinh-kem (refused)", refused))
    base, token = fill_to_check(client)
    get(f"{base}/kiem-tra")
    code = file_it(client, base, token)
    for url in (f"/ho-so/{code}/xac-nhan", f"/ho-so/{code}", f"/ho-so/{code}/bien-nhan", "/tra-cuu", "/thong-ke",
                "/phan-anh"):
        get(url)
    for rule in app.url_map.iter_rules():  # and every page that needs no argument
        if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static":
            get(rule.rule)
    staff = app.test_client()
    accounts.create_account(app.extensions["motcua"].store, "lan", "Nguyễn Thị Lan", ["desk", "leader"],
                            ["000.06.50.H15"], "mat-khau-rat-dai-1")
    login = staff.get("/staff/login")
    seen.append(("/staff/login", login))
    staff.post("/staff/login", data={"username": "lan", "password": "mat-khau-rat-dai-1", "csrf_token": csrf(text(login))})
    staff_pages = [r.rule for r in app.url_map.iter_rules() if "GET" in r.methods and not r.arguments and r.rule.startswith("/staff")]
    for url in [f"/staff/ho-so/{code}", *staff_pages]:
        response = staff.get(url)
        seen.append((url, response))
    return seen


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    app = create_app({"DATA_DIR": str(tmp_path_factory.mktemp("walk") / "data"), "SPECS_DIR": str(SPECS), "TESTING": True})
    try:
        yield app, _walk(app)
    finally:
        app.extensions["motcua"].store.close()


def test_no_page_of_the_walk_may_be_cached(walked):
    _app, seen = walked
    assert len(seen) > 15
    for url, response in seen:
        assert response.status_code < 500, url
        assert "no-store" in response.headers.get("Cache-Control", ""), url


def test_draft_pages_send_their_link_to_no_other_site(walked):
    _app, seen = walked
    drafts = [(u, r) for u, r in seen if re.search(rf"/thu-tuc/{re.escape(BIRTH_CODE)}/nop/[^/]+", u)]
    assert len(drafts) >= 6
    for url, response in drafts:
        assert response.headers["Referrer-Policy"] == "no-referrer", url


def test_static_files_and_published_lists_keep_their_own_caching(client):
    assert "no-store" not in client.get("/static/motcua.css").headers.get("Cache-Control", "")
    units = client.get("/api/v1/units/01/communes")
    assert units.status_code == 200 and units.headers["Cache-Control"] == "public, max-age=86400"


def test_every_html_page_has_a_strict_policy_that_its_scripts_and_styles_keep(walked):
    _app, seen = walked
    nonces = set()
    for url, response in seen:
        if response.mimetype != "text/html":
            continue
        policy = response.headers["Content-Security-Policy"]
        directives = dict((d.split(" ", 1) + [""])[:2] for d in policy.split("; "))
        assert directives["default-src"] == "'self'" and directives["frame-ancestors"] == "'none'", url
        assert directives["form-action"].startswith("'self'"), url
        assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'", url
        nonce = re.search(r"'nonce-([^']+)'", directives["script-src"]).group(1)
        nonces.add(nonce)
        html = response.get_data(as_text=True)
        assert directives["style-src"] == f"'self' 'nonce-{nonce}'", url
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or f'nonce="{nonce}"' in tag, (url, tag)
        for tag in re.findall(r"<style\b[^>]*>", html):
            assert f'nonce="{nonce}"' in tag, (url, tag)
        assert not re.search(r"\sstyle\s*=", html), (url, "style attribute")
        assert not re.search(r"\son[a-z]+\s*=", html), (url, "inline event handler")
        assert "javascript:" not in html, url
    assert len(nonces) == len([1 for _u, r in seen if r.mimetype == "text/html"]), "one nonce per response"


def test_payment_gateway_origin_may_receive_the_payment_form(tmp_path):
    app = create_app({"DATA_DIR": str(tmp_path / "d"), "SPECS_DIR": str(SPECS), "TESTING": True,
                      "VNPAY_PAY_URL": "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html"})
    policy = app.test_client().get("/").headers["Content-Security-Policy"]
    assert "form-action 'self' https://sandbox.vnpayment.vn;" in policy + ";"


def test_hsts_only_when_the_public_url_is_https(tmp_path):
    secure = create_app({"DATA_DIR": str(tmp_path / "a"), "SPECS_DIR": str(SPECS), "PUBLIC_URL": "https://dichvucong.example.vn"})
    response = secure.test_client().get("/", base_url="https://dichvucong.example.vn")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    plain = create_app({"DATA_DIR": str(tmp_path / "b"), "SPECS_DIR": str(SPECS), "TESTING": True,
                        "PUBLIC_URL": "http://127.0.0.1:8000"})
    assert "Strict-Transport-Security" not in plain.test_client().get("/").headers
