"""A dossier whose result goes back by post is never stuck on its fee: the citizen pays online
from the tracking page (paper that came by post and was entered at the desk included), or,
where the post collects fees, pays the postman on delivery. Nothing pauses the dossier.

Real app, the back office's intake through its pages, VNPay IPNs signed as the gateway signs
them, the carrier simulator over real HTTP.
"""

from __future__ import annotations

import pytest

from motcua import units
from motcua.dossier import Status
from motcua.payments import ONLINE_DUE, amount_due, payment_token
from fixtures.workflow_kit import DESK, file_dossier, kinds, make_spec, wait_for
from tests.test_backoffice_desk import answers, filed_code, intake_post, logged_in, office, svc, two_agency_specs  # noqa: F401
from tests.test_payment_orders import SECRET, ipn, press_pay, site  # noqa: F401 (fixtures)
from tests.test_postal import advance, carrier, finish  # noqa: F401 (carrier is a fixture)

pytestmark = pytest.mark.usefixtures("jobs_run_at_once")
from tests.test_portal_tracking import lookup

ONLINE_POSTAL_COD = [{"name": "payment", "config": {"mode": "online"}}, "review", "postal"]


def vnpay(app) -> None:
    app.config.update(VNPAY_PAY_URL="https://sandbox.vnpayment.vn/paymentv2/vpcpay.html", VNPAY_TMN_CODE="MOTCUA01",
                      VNPAY_HASH_SECRET=SECRET)


def tracking_page(app, code: str, phone: str) -> str:
    client = app.test_client()
    assert lookup(client, code, phone).status_code == 302
    return client.get(f"/ho-so/{code}").get_data(as_text=True)


def test_paper_by_post_both_ways_is_received_and_paid_online_from_the_tracking_page(office):
    vnpay(office)
    client = logged_in(office, "lan")
    province = units.provinces()[0]
    commune = units.communes(province.code)[0]
    code = filed_code(intake_post(client, answers(copies=2), channel="postal", **{
        "delivery.kind": "postal", "delivery.address.province": province.code,
        "delivery.address.commune": commune.code, "delivery.address.street": "Số 5, ngõ 12"}))
    store = svc(office).store
    d = store.dossiers.get(code)
    assert d.status == Status.RECEIVED and amount_due(d) == 16000  # received, not frozen on the fee
    assert ONLINE_DUE in kinds(d) and "payment_requested" not in kinds(d)
    from motcua.web.labels import event_note

    due = next(e for e in d.events if e.kind == ONLINE_DUE)
    with office.test_request_context():
        assert event_note(due, "vi", citizen=True).startswith("Phí, lệ phí 16.000 ₫: thanh toán trực tuyến")
        assert event_note(due, "vi").startswith("Phí, lệ phí 16.000 ₫ chưa nộp: công dân có thể thanh toán trực tuyến")
    from motcua.workflow.outbox import outbox_for, rendered

    # the texts the messages' jobs will send (written by the notify step when sent)
    told = [rendered(m, office.config)["body"] for m in outbox_for(svc(office), office.config).messages(code)]
    assert any("thanh toan truc tuyen" in body.lower() and "16.000" in body for body in told), told  # by SMS too
    page = tracking_page(office, code, "0912345678")
    assert "Thanh toán trực tuyến" in page and "16.000 ₫" in page
    assert "Kết quả được gửi qua bưu điện sau khi bạn nộp phí, lệ phí." in page

    ref = press_pay(office, code)
    assert ipn(office, ref, ok=True) == "00"
    d = store.dossiers.get(code)
    assert amount_due(d) == 0 and d.status == Status.RECEIVED
    paid = next(e for e in d.events if e.kind == "paid")
    assert paid.data["method"] == "vnpay" and "không còn chờ thanh toán" not in paid.note  # expected, not "late"
    assert "Thanh toán trực tuyến" not in tracking_page(office, code, "0912345678")


def test_a_failed_payment_before_posting_is_told_to_the_citizen(office):
    vnpay(office)
    client = logged_in(office, "lan")
    province = units.provinces()[0]
    commune = units.communes(province.code)[0]
    code = filed_code(intake_post(client, answers(copies=2), channel="postal", **{
        "delivery.kind": "postal", "delivery.address.province": province.code,
        "delivery.address.commune": commune.code, "delivery.address.street": "Số 5"}))
    ref = press_pay(office, code)
    assert ipn(office, ref, ok=False) == "00"
    d = svc(office).store.dossiers.get(code)
    assert "payment_failed" in kinds(d) and "payment_failed_stale" not in kinds(d)


def test_online_or_cash_on_delivery_and_once_the_parcel_collects_it_no_online_payment(site, carrier):  # noqa: F811
    server, sim = carrier
    store = site.extensions["motcua"].store
    code = file_dossier(site, make_spec(ONLINE_POSTAL_COD, cod=True), delivery="postal", fee=16000)
    d = store.dossiers.get(code)
    assert d.status == Status.NEW and ONLINE_DUE in kinds(d)  # not paused in "payment requested"
    with site.test_request_context():
        panel = "".join(site.extensions["motcua"].engine.citizen_panels(d))
        token = payment_token(code, "vnpay")
    assert "Thanh toán trực tuyến" in panel and "Hoặc nộp cho bưu điện khi nhận kết quả (thu hộ)." in panel

    finish(site, code)
    d = store.dossiers.get(code)
    item = next(e for e in d.events if e.kind == "shipment_booked").data["item_number"]
    assert sim.extensions["carrier_sim"][item]["cod_amount"] == 16000
    # the postman collects it now: the pay button is gone and the start route refuses
    with site.test_request_context():
        assert "Thanh toán trực tuyến" not in "".join(site.extensions["motcua"].engine.citizen_panels(d))
    site.config["WTF_CSRF_ENABLED"] = False
    assert site.test_client().post(f"/plugins/gateways/vnpay/start/{code}", data={"token": token}).status_code == 409
    site.config["WTF_CSRF_ENABLED"] = True
    advance(server, item, "delivered")
    d = wait_for(lambda: (x := store.dossiers.get(code)).status == Status.RETURNED and x)
    assert [e.data["method"] for e in d.events if e.kind == "paid"] == ["cod"]


def test_paid_online_before_the_result_the_parcel_collects_nothing(site, carrier):  # noqa: F811
    server, sim = carrier
    store = site.extensions["motcua"].store
    code = file_dossier(site, make_spec(ONLINE_POSTAL_COD, cod=True), delivery="postal", fee=16000)
    assert ipn(site, press_pay(site, code), ok=True) == "00"
    finish(site, code)
    item = next(e for e in store.dossiers.get(code).events if e.kind == "shipment_booked").data["item_number"]
    assert sim.extensions["carrier_sim"][item]["cod_amount"] == 0
