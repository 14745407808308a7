"""In a real headless Chromium: sign in at the identity provider simulator as a demo
citizen, find the form prefilled, file, see the dossier in "Hồ sơ của tôi"; another demo
citizen cannot reach it. Both servers are real (waitress on 127.0.0.1)."""

from __future__ import annotations

import re

import pytest

from motcua.app import create_app
from motcua_plugins.simulators import identity as sim
from tests.conftest import SPECS, LiveServer, free_port, watch_csp
from tests.identity_helpers import CLIENT_ID, CLIENT_SECRET, provider_config, provider_keys
from tests.portal_helpers import CONTINUE, fill_birth_steps, follow

pytestmark = pytest.mark.browser


@pytest.fixture
def portal(tmp_path):
    """(portal URL, provider URL): the portal's callback registered at the provider."""
    app_port, idp_port = free_port(), free_port()
    idp_url, app_url = f"http://127.0.0.1:{idp_port}", f"http://127.0.0.1:{app_port}"
    provider = sim.create_app(idp_url, {CLIENT_ID: {"secret": CLIENT_SECRET, "redirect_uris": [app_url + "/dang-nhap/vneid/ve"]}},
                              keys=list(provider_keys()))
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(SPECS), "TESTING": True,
                      "IDENTITY_PROVIDERS": [provider_config(idp_url)]})
    with LiveServer(provider, port=idp_port), LiveServer(app, port=app_port):
        yield app_url, idp_url
    app.extensions["motcua"].store.close()


def sign_in_as(page, base: str, subject: str) -> None:
    page.goto(base + "/")
    follow(page, "[data-sign-in]")
    assert "Định danh điện tử – môi trường mô phỏng" in page.content()  # at the provider
    page.click(f"button[data-sub='{subject}']")
    page.wait_for_url(base + "/ho-so-cua-toi")


def test_signed_in_citizen_files_a_prefilled_form_and_only_they_see_it(portal, browser, tmp_path):
    base, _idp = portal
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    violations = watch_csp(page)
    sign_in_as(page, base, "demo-citizen-an")
    assert page.locator("[data-signed-in]").inner_text() == "Nguyễn Văn An"

    page.goto(base + "/thu-tuc/1.001193/nop")
    page.select_option("select[name=agency]", "000.06.50.H15")  # the commune office filed with
    assert page.input_value("#f-requester-full_name") == "Nguyễn Văn An"
    assert page.input_value("#f-requester-cccd") == "001085012345"
    assert page.input_value("#f-requester-phone") == "0912345678"
    assert page.get_attribute("#f-requester-cccd", "readonly") is not None
    assert page.get_attribute("#f-requester-phone", "readonly") is None
    assert not page.locator("#f-requester-cccd").is_editable()  # the server refuses a change too
    page.select_option("#f-requester-relation", "cha")
    follow(page, CONTINUE)
    fill_birth_steps(page, tmp_path)
    page.check("input[name='delivery.kind'][value='desk']")
    follow(page, CONTINUE)  # the old page has an <h1> too: read the new one
    assert page.locator("h1").inner_text() == "Kiểm tra thông tin"
    follow(page, "button:has-text('Nộp hồ sơ')")
    code = page.locator("#dossier-code").inner_text().strip()
    assert re.fullmatch(r"000\.06\.50\.H15-\d{6}-\d{4}", code)

    follow(page, "a:has-text('Hồ sơ của tôi')")
    row = page.locator(f"tr[data-dossier='{code}']")
    assert row.count() == 1 and "Đăng ký khai sinh" in row.inner_text()
    follow(page, row.locator("a", has_text=code))
    assert code in page.locator("h1").inner_text()  # the dossier's own page
    context.close()

    # Another demo citizen, in another browser: not in their list, and the dossier's page
    # answers as for a code that does not exist.
    other = browser.new_context(locale="vi-VN")
    page = other.new_page()
    later = watch_csp(page)
    sign_in_as(page, base, "demo-citizen-binh")
    assert code not in page.content()
    page.goto(base + f"/ho-so/{code}")
    assert "/tra-cuu" in page.url and "Hồ sơ của tôi" in page.content()
    missing = page.request.get(base + f"/ho-so/{code}/xac-nhan", max_redirects=0)
    assert missing.status == 404
    # Signing out ends it: "My dossiers" asks to sign in again.
    follow(page, "button:has-text('Đăng xuất')")  # a goto at once could cancel the sign-out's post
    page.goto(base + "/ho-so-cua-toi")
    assert "Định danh điện tử – môi trường mô phỏng" in page.content()
    other.close()
    assert violations + later == [], "Content-Security-Policy violations:\n" + "\n".join(violations + later)
