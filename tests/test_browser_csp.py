"""The Content-Security-Policy in a real Chromium: the pages keep it, and a script that
breaks it is caught (so the check every browser test runs through the `page` fixture can
fail)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import watch_csp
from tests.portal_helpers import follow

pytestmark = pytest.mark.browser


def test_an_inline_script_without_the_nonce_is_blocked_and_reported(live_server, browser):
    context = browser.new_context(locale="vi-VN")
    try:
        page = context.new_page()
        violations = watch_csp(page)
        page.goto(live_server.url + "/")
        # the report is a console message sent after the refusal: wait for it, not for a time
        with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
            page.evaluate("""() => {
                const s = document.createElement('script');
                s.textContent = 'window.__ran = true';
                document.body.appendChild(s);
                const d = document.createElement('div');
                d.setAttribute('style', 'color: red');
                document.body.appendChild(d);
            }""")
        assert page.evaluate("window.__ran === undefined")
        assert violations and all("Content Security Policy" in v for v in violations)
    finally:
        context.close()


def test_the_site_scripts_run_under_the_policy(live_server, page):
    """The focus script (static file) still runs: an error summary gets the focus."""
    page.goto(live_server.url + "/thu-tuc/1.001193/nop")
    follow(page, ".actions button[value=continue]")
    # the script moves the focus as the page loads: wait for it, don't race it
    expect(page.locator("[data-error-summary]")).to_be_focused()


def test_paying_through_the_gateway_on_another_origin_works_under_the_policy(app, live_server, page):
    """The pay form posts to this site, which redirects to the gateway (another origin):
    browsers apply form-action to that redirect, so the gateway's origin must be allowed."""
    from conftest import LiveServer
    from fixtures.workflow_kit import file_dossier, make_spec, wait_for
    from motcua.dossier import Status
    from motcua.tracking import private_link_url
    from motcua_plugins.simulators import vnpay as vnpay_sim

    sim = vnpay_sim.create_app(tmn_code="MOTCUA01", secret="S", ipn_url=live_server.url + "/thanh-toan/vnpay/ipn")
    with LiveServer(sim) as gateway:
        assert gateway.port != live_server.port
        app.config.update(VNPAY_PAY_URL=gateway.url + "/paymentv2/vpcpay.html", VNPAY_TMN_CODE="MOTCUA01",
                          VNPAY_HASH_SECRET="S", PUBLIC_URL=live_server.url)
        code = file_dossier(app, make_spec([{"name": "payment", "config": {"mode": "online"}}, "review"]), fee=16000)
        page.goto(private_link_url(code, app.config))
        page.get_by_role("button", name="Thanh toán trực tuyến").click()
        page.wait_for_url(gateway.url + "/**")
        page.get_by_role("button", name="Thanh toán", exact=True).click()
        page.wait_for_url(live_server.url + "/plugins/gateways/vnpay/return**")
        assert "Thanh toán thành công" in page.content()
        store = app.extensions["motcua"].store
        assert wait_for(lambda: store.dossiers.get(code).status == Status.NEW)
