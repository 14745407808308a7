"""A result parcel "returned to sender" is no dead end: the desk rebooks it (a new parcel
through the carrier; the timeline keeps both) or switches the dossier to pickup at the desk.
A delivered parcel is never rebooked. Carrier simulator over real HTTP, signed callbacks.
"""

from __future__ import annotations

import pytest

from fixtures.workflow_kit import DESK, SPECIALIST, file_dossier, kinds, make_spec, wait_for
from motcua.dossier import Status
from motcua.workflow import ActionNotAllowed
from tests.test_postal import STEPS, advance, carrier, finish  # noqa: F401 (carrier is a fixture)

pytestmark = pytest.mark.usefixtures("jobs_run_at_once")


DESK_PAID = [{"name": "payment", "config": {"mode": "desk"}}, *STEPS]


def returned_parcel(app, server, steps: list = STEPS) -> tuple[str, str]:
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(steps, cod=True), delivery="postal", fee=16000)
    finish(app, code)
    item = next(e for e in store.dossiers.get(code).events if e.kind == "shipment_booked").data["item_number"]
    advance(server, item, "in_transit")
    advance(server, item, "returned_to_sender")
    wait_for(lambda: store.dossiers.get(code).steps["postal"]["shipments"]["delivery"]["status"] == "returned_to_sender")
    return code, item


def names(app, code, user) -> set[str]:
    engine = app.extensions["motcua"].engine
    return {a.name for a in engine.actions(app.extensions["motcua"].store.dossiers.get(code), user)}


def test_a_returned_parcel_is_rebooked_as_a_new_parcel_and_the_timeline_keeps_both(app, carrier) -> None:  # noqa: F811
    server, sim = carrier
    store, engine = app.extensions["motcua"].store, app.extensions["motcua"].engine
    code, first = returned_parcel(app, server)
    assert {"rebook_delivery", "switch_to_desk"} <= names(app, code, DESK)
    assert not {"rebook_delivery", "switch_to_desk"} & names(app, code, SPECIALIST)
    with pytest.raises(ActionNotAllowed, match="dành cho"):
        engine.perform(code, "rebook_delivery", SPECIALIST)

    d = engine.perform(code, "rebook_delivery", DESK, note="Đã gọi điện, công dân ở nhà buổi chiều")
    second = d.steps["postal"]["shipments"]["delivery"]["item_number"]
    assert second != first and second in sim.extensions["carrier_sim"]
    assert sim.extensions["carrier_sim"][second]["cod_amount"] == 16000  # still unpaid: the postman collects it
    booked = [e.data["item_number"] for e in d.events if e.kind == "shipment_booked"]
    assert booked == [first, second]  # both parcels on the timeline
    rebooked = next(e for e in d.events if e.kind == "postal_rebooked")
    assert rebooked.data["old_item_number"] == first and rebooked.actor == "staff:desk"
    assert [p["item_number"] for p in d.steps["postal"]["returned_parcels"]] == [first]
    with app.test_request_context():
        citizen = "".join(engine.citizen_panels(d))
    assert first in citizen and second in citizen
    assert "rebook_delivery" not in names(app, code, DESK)  # the new parcel is on its way

    advance(server, second, "delivered")
    d = wait_for(lambda: (x := store.dossiers.get(code)).status == Status.RETURNED and x)
    assert [e.data["method"] for e in d.events if e.kind == "paid"] == ["cod"]

    # rebooking a delivered parcel is refused, and changes nothing
    with pytest.raises(ActionNotAllowed):
        engine.perform(code, "rebook_delivery", DESK)
    assert store.dossiers.get(code).events == d.events


def test_a_delivered_parcel_is_never_rebooked(app, carrier) -> None:  # noqa: F811
    server, sim = carrier
    store, engine = app.extensions["motcua"].store, app.extensions["motcua"].engine
    code = file_dossier(app, make_spec(STEPS, cod=True), delivery="postal", fee=0)
    finish(app, code)
    item = next(e for e in store.dossiers.get(code).events if e.kind == "shipment_booked").data["item_number"]
    advance(server, item, "delivered")
    wait_for(lambda: store.dossiers.get(code).status == Status.RETURNED)
    before = store.dossiers.get(code).events
    for action in ("rebook_delivery", "switch_to_desk"):
        with pytest.raises(ActionNotAllowed):
            engine.perform(code, action, DESK, reason="x")
    assert store.dossiers.get(code).events == before and len(sim.extensions["carrier_sim"]) == 1


def test_a_returned_parcel_can_be_switched_to_pickup_at_the_desk(app, carrier) -> None:  # noqa: F811
    server, sim = carrier
    store, engine = app.extensions["motcua"].store, app.extensions["motcua"].engine
    code, item = returned_parcel(app, server, DESK_PAID)
    with pytest.raises(ActionNotAllowed, match="lý do"):
        engine.perform(code, "switch_to_desk", DESK)
    d = engine.perform(code, "switch_to_desk", DESK, reason="Công dân đề nghị nhận tại quầy")
    assert "postal_switched_to_desk" in kinds(d) and "rebook_delivery" not in names(app, code, DESK)
    with app.test_request_context():
        assert "nhận tại Bộ phận một cửa" in "".join(engine.citizen_panels(d))
    with pytest.raises(ActionNotAllowed, match="chưa nộp phí"):  # the fee is still owed at the counter
        engine.perform(code, "return_result", DESK)
    engine.perform(code, "record_payment", DESK, receipt_no="BL-5", amount="16000")
    assert engine.perform(code, "return_result", DESK).status == Status.RETURNED
    assert len(sim.extensions["carrier_sim"]) == 1  # nothing booked again
