"""A citizen pays with MoMo in a real browser: the tracking page's button, the MoMo-shaped
simulator's checkout page, and back to the portal, which says what the IPN recorded."""

from __future__ import annotations

import pytest

from conftest import LiveServer
from fixtures.workflow_kit import file_dossier, make_spec
from motcua.dossier import Status
from motcua.tracking import private_link_url
from motcua_plugins.simulators import momo as momo_sim
from portal_helpers import follow

pytestmark = pytest.mark.browser


def test_citizen_pays_with_momo_in_the_browser(app, live_server, page) -> None:
    sim = momo_sim.create_app("MOTCUAMOMO", "ACCESS", "SECRET")
    with LiveServer(sim) as momo:
        app.config.update(MOMO_ENDPOINT=momo.url, MOMO_PARTNER_CODE="MOTCUAMOMO", MOMO_ACCESS_KEY="ACCESS",
                          MOMO_SECRET_KEY="SECRET", PUBLIC_URL=live_server.url)
        code = file_dossier(app, make_spec([{"name": "payment", "config": {"mode": "online", "gateway": "momo"}}, "review"]),
                            fee=16000)
        page.goto(private_link_url(code, app.config))
        assert "cổng thanh toán MoMo" in page.content()
        page.get_by_role("button", name="Thanh toán trực tuyến").click()
        page.wait_for_url(momo.url + "/pay?**")
        assert "16.000 ₫" in page.locator("#amount").inner_text()
        page.get_by_role("button", name="Xác nhận thanh toán").click()
        page.wait_for_url(live_server.url + "/plugins/gateways/momo/return?**")
        assert "Thanh toán thành công" in page.locator("[role=status]").inner_text()
        assert app.extensions["motcua"].store.dossiers.get(code).status == Status.NEW
        follow(page, page.get_by_role("link", name="Xem hồ sơ"))  # the return page's words are read otherwise
        assert "Đã thanh toán" in page.content() and "không thành công" not in page.content()
