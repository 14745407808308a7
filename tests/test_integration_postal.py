"""The postal panels follow the carrier: a step's nested state changes are saved."""

from __future__ import annotations

import pytest

from fixtures.workflow_kit import file_dossier, make_spec, wait_for
from motcua.dossier import Status

pytestmark = pytest.mark.usefixtures("jobs_run_at_once")
from tests.test_postal import STEPS, advance, carrier, finish  # noqa: F401  (carrier is a fixture)


def test_postal_panel_shows_the_latest_carrier_status(app, carrier) -> None:  # noqa: F811
    server, _sim = carrier
    store = app.extensions["motcua"].store
    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec(STEPS), delivery="postal", fee=0)
    finish(app, code)
    item = next(e for e in store.dossiers.get(code).events if e.kind == "shipment_booked").data["item_number"]

    advance(server, item, "in_transit")
    d = wait_for(lambda: (x := store.dossiers.get(code)).steps["postal"]["shipments"]["delivery"]["status"] == "in_transit" and x)
    with app.test_request_context():
        assert "Đang vận chuyển" in "".join(engine.citizen_panels(d))

    advance(server, item, "delivered")
    d = wait_for(lambda: (x := store.dossiers.get(code)).status == Status.RETURNED and x)
    with app.test_request_context():
        citizen, staff = "".join(engine.citizen_panels(d)), "".join(engine.staff_panels(d))
    assert "Đã phát thành công" in citizen and "Đã phát thành công" in staff
    assert "Đã đặt dịch vụ" not in citizen
