"""A citizen whose result comes back by post pays online from the tracking page in a real
browser, while the dossier goes on being processed (nothing paused it): the button, the
MoMo-shaped simulator's checkout, and back to the portal; the parcel then collects nothing."""

from __future__ import annotations

import pytest

from conftest import LiveServer
from fixtures.workflow_kit import file_dossier, make_spec
from motcua.dossier import Status
from motcua.payments import amount_due
from motcua.tracking import private_link_url
from motcua_plugins.simulators import momo as momo_sim
from portal_helpers import follow

pytestmark = pytest.mark.browser


def test_citizen_pays_before_the_result_is_posted(app, live_server, page) -> None:
    sim = momo_sim.create_app("MOTCUAMOMO", "ACCESS", "SECRET")
    with LiveServer(sim) as momo:
        app.config.update(MOMO_ENDPOINT=momo.url, MOMO_PARTNER_CODE="MOTCUAMOMO", MOMO_ACCESS_KEY="ACCESS",
                          MOMO_SECRET_KEY="SECRET", PUBLIC_URL=live_server.url)
        steps = [{"name": "payment", "config": {"mode": "online", "gateway": "momo"}}, "review", "postal"]
        code = file_dossier(app, make_spec(steps, cod=True), delivery="postal", fee=16000)
        store = app.extensions["motcua"].store
        assert store.dossiers.get(code).status == Status.NEW  # not paused in "payment requested"
        page.goto(private_link_url(code, app.config))
        assert "Hoặc nộp cho bưu điện khi nhận kết quả (thu hộ)." in page.content()
        page.get_by_role("button", name="Thanh toán trực tuyến").click()
        page.wait_for_url(momo.url + "/pay?**")
        page.get_by_role("button", name="Xác nhận thanh toán").click()
        page.wait_for_url(live_server.url + "/plugins/gateways/momo/return?**")
        assert "Thanh toán thành công" in page.locator("[role=status]").inner_text()
        d = store.dossiers.get(code)
        assert amount_due(d) == 0 and d.status == Status.NEW
        follow(page, page.get_by_role("link", name="Xem hồ sơ"))  # the return page's words are read otherwise
        assert "Đã thanh toán" in page.content() and "Thanh toán trực tuyến" not in page.content()
