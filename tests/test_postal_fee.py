"""A result sent by post is never handed over with the fee unpaid, and the citizen knows what
the post costs and whom it is paid to.

Real app on a TinyDB folder in tmp, the carrier simulator on a real local server sending
signed callbacks, the portal through the test client.
"""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from fixtures.workflow_kit import DESK, file_dossier, kinds, make_spec, vnpay_settings, wait_for
from motcua.dossier import Status
from motcua.workflow import ActionNotAllowed
from tests.test_postal import advance, carrier, finish  # noqa: F401  (carrier is a fixture)

pytestmark = pytest.mark.usefixtures("jobs_run_at_once")

DESK_PAID = [{"name": "payment", "config": {"mode": "desk"}}, "review", "postal"]
WAITING = "Kết quả sẽ được gửi qua bưu điện sau khi công dân nộp phí, lệ phí 16.000 ₫"
POSTAGE_LINE = "Cước bưu chính (trả cho bưu điện khi nhận kết quả)"


def panels(app, dossier) -> tuple[str, str]:
    engine = app.extensions["motcua"].engine
    with app.test_request_context():
        return "".join(engine.citizen_panels(dossier)), "".join(engine.staff_panels(dossier))


def with_postage(app, code: str, amount: int) -> None:
    """The postal charge the portal copies from the spec's option onto the filed dossier."""
    app.extensions["motcua"].store.dossiers.update(code, lambda d: setattr(d.delivery, "postal_charge", amount))


def test_desk_paid_without_cod_books_nothing_until_paid(app, carrier) -> None:  # noqa: F811
    server, sim = carrier
    store, engine = app.extensions["motcua"].store, app.extensions["motcua"].engine
    code = file_dossier(app, make_spec(DESK_PAID, cod=False), delivery="postal", fee=16000)
    finish(app, code)
    d = store.dossiers.get(code)
    assert d.status == Status.FINISHED
    assert "shipment_booked" not in kinds(d) and sim.extensions["carrier_sim"] == {}  # nothing sent to the carrier
    assert "postal_waiting_for_payment" in kinds(d)
    citizen, staff = panels(app, d)
    assert WAITING in citizen and WAITING in staff
    with pytest.raises(ActionNotAllowed):
        engine.perform(code, "return_result", DESK)
    # the citizen's tracking page says it too
    from tests.test_portal_tracking import lookup

    client = app.test_client()
    assert lookup(client, code, "0912345678").status_code == 302
    assert WAITING in client.get(f"/ho-so/{code}").get_data(as_text=True)

    engine.perform(code, "record_payment", DESK, receipt_no="BL-0042", amount="16000")
    d = store.dossiers.get(code)
    booked = [e for e in d.events if e.kind == "shipment_booked"]
    assert len(booked) == 1 and kinds(d).index("paid") < kinds(d).index("shipment_booked")
    item = booked[0].data["item_number"]
    assert sim.extensions["carrier_sim"][item]["cod_amount"] == 0  # paid: nothing to collect
    assert WAITING not in panels(app, d)[0]
    advance(server, item, "delivered")
    d = wait_for(lambda: (x := store.dossiers.get(code)).status == Status.RETURNED and x)
    assert kinds(d).count("shipment_booked") == 1


def test_cod_delivered_records_the_payment_then_returned(app, carrier) -> None:  # noqa: F811
    server, sim = carrier
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(DESK_PAID, cod=True), delivery="postal", fee=16000, start=False)
    with_postage(app, code, 30000)
    app.extensions["motcua"].engine.on_filed(code)
    finish(app, code)
    d = store.dossiers.get(code)
    item = next(e for e in d.events if e.kind == "shipment_booked").data["item_number"]
    booked = sim.extensions["carrier_sim"][item]
    assert booked["cod_amount"] == 16000
    assert booked["postage_payer"] == "receiver" and booked["postage_amount"] == 30000  # cước thu người nhận
    advance(server, item, "delivered")
    d = wait_for(lambda: (x := store.dossiers.get(code)).status == Status.RETURNED and x)
    assert booked["callbacks"][-1] == {"status": "delivered", "http": 200}
    paid = [e for e in d.events if e.kind == "paid"]
    assert len(paid) == 1 and paid[0].data["method"] == "cod" and paid[0].data["amount"] == 16000
    assert paid[0].actor == "carrier:vnpost"
    assert kinds(d).index("paid") < kinds(d).index("returned")
    assert d.steps["payment"]["paid"] is True and "postal_cod_mismatch" not in kinds(d)
    citizen, staff = panels(app, d)
    assert "Đã thanh toán" in citizen and "Đã thanh toán" in staff


def _advance_collecting(server, item: str, collected: int) -> None:
    request = urllib.request.Request(f"{server.url}/sim/items/{item}/advance",
                                     data=json.dumps({"status": "delivered", "cod_collected": collected}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(request).read()


def test_never_returned_with_the_fee_unpaid(app, carrier) -> None:  # noqa: F811
    """The carrier reports delivered but collected nothing: the dossier waits, staff see why."""
    server, _sim = carrier
    store, engine = app.extensions["motcua"].store, app.extensions["motcua"].engine
    code = file_dossier(app, make_spec(DESK_PAID, cod=True), delivery="postal", fee=16000)
    finish(app, code)
    item = next(e for e in store.dossiers.get(code).events if e.kind == "shipment_booked").data["item_number"]
    _advance_collecting(server, item, 0)
    d = wait_for(lambda: (x := store.dossiers.get(code)) and "postal_cod_mismatch" in kinds(x) and x)
    assert d.status == Status.FINISHED and "paid" not in kinds(d) and "returned" not in kinds(d)
    mismatch = next(e for e in d.events if e.kind == "postal_cod_mismatch")
    assert mismatch.data == {"item_number": item, "collected": 0, "due": 16000, "step": "postal"}
    with pytest.raises(ActionNotAllowed):
        engine.perform(code, "return_result", DESK)
    d = engine.perform(code, "record_payment", DESK, receipt_no="BL-7", amount="16000")  # settled at the desk
    assert d.status == Status.RETURNED and kinds(d).index("paid") < kinds(d).index("returned")


def test_a_malformed_collected_amount_is_refused(app, carrier) -> None:  # noqa: F811
    from tests.test_postal import _callback

    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(DESK_PAID, cod=True), delivery="postal", fee=16000)
    finish(app, code)
    item = store.dossiers.get(code).steps["postal"]["shipments"]["delivery"]["item_number"]
    body = {"event_id": "e9", "item_number": item, "reference": code, "kind": "delivery", "status": "delivered"}
    assert _callback(app, {**body, "cod_collected": "16000"}).status_code == 400
    assert _callback(app, {**body, "cod_collected": -1}).status_code == 400
    assert store.dossiers.get(code).status == Status.FINISHED
    assert _callback(app, {**body, "cod_collected": 16000}).get_json() == {"ok": True}
    assert store.dossiers.get(code).status == Status.RETURNED


# --- what is paid to whom, wherever the fee is shown ---------------------------------------------


def test_postal_charge_line_on_check_page_confirmation_receipt_and_payment_panel(app, client) -> None:
    vnpay_settings(app)
    from tests.test_portal_filing import file_it, fill_to_check
    from tests.test_renderers_documents import pdf_text

    assert f"{POSTAGE_LINE}: 25.000 ₫" in client.get("/thu-tuc/1.001193").get_data(as_text=True)  # the info page
    base, token = fill_to_check(client)  # the birth spec: 2 copies at 8.000 ₫, postal charge 25.000 ₫
    check = client.get(f"{base}/kiem-tra").get_data(as_text=True)
    assert POSTAGE_LINE in check
    assert re.search(r"Tổng cộng<br><span class=\"meta\">16\.000 ₫ phí, lệ phí nộp cho cơ quan giải quyết; "
                     r"25\.000 ₫ cước bưu chính trả cho bưu điện</span></th>\s*<td class=\"amount\"><strong data-fee-total>41\.000 ₫", check)
    code = file_it(client, base, token)
    confirmation = client.get(f"/ho-so/{code}/xac-nhan").get_data(as_text=True)
    assert f"<dt>{POSTAGE_LINE}</dt><dd>25.000 ₫</dd>" in confirmation
    assert "<dt>Tổng cộng</dt><dd>41.000 ₫ (16.000 ₫ phí, lệ phí nộp cho cơ quan giải quyết; 25.000 ₫ cước bưu chính trả cho bưu điện)</dd>" in confirmation
    receipt = client.get(f"/ho-so/{code}/bien-nhan").get_data(as_text=True)
    assert f"<dt>{POSTAGE_LINE}</dt><dd>25.000 ₫</dd>" in receipt
    pdf = " ".join(pdf_text(client.get(f"/ho-so/{code}/bien-nhan.pdf").data).split())
    assert f"- {POSTAGE_LINE}: 25.000 ₫" in pdf
    assert "- Tổng cộng: 41.000 ₫ (16.000 ₫ phí, lệ phí nộp cho cơ quan giải quyết; 25.000 ₫ cước bưu chính trả cho bưu điện)" in pdf
    d = app.extensions["motcua"].store.dossiers.get(code)
    assert d.status == Status.PAYMENT_REQUESTED  # online payment: the gateway charges the fees only
    citizen, staff = panels(app, d)
    assert POSTAGE_LINE not in citizen and "Thanh toán trực tuyến 16.000 ₫" in " ".join(citizen.split())  # the bill is the page's
    assert f"{POSTAGE_LINE}: 25.000 ₫" in staff


def test_postal_charge_line_in_english(app, client) -> None:
    from tests.test_portal_filing import file_it, fill_to_check

    base, token = fill_to_check(client)
    code = file_it(client, base, token)
    english = client.get(f"/ho-so/{code}/xac-nhan?lang=en").get_data(as_text=True)
    assert "<dt>Postal charge (paid to the post office on receipt of the result)</dt><dd>VND 25,000</dd>" in english
    assert "VND 41,000 (VND 16,000 in fees paid to the agency; VND 25,000 postal charge paid to the post office)" in english


def test_delivery_step_totals_only_the_agency_fees_whatever_is_chosen(app, client) -> None:
    """The choice can change on the page without a round trip: the step never shows a grand total
    that the postal option would make wrong; the postal charge is stated by its option."""
    from tests.test_portal_filing import fill_to_check

    agency_total = re.compile(r"Phí, lệ phí nộp cho cơ quan giải quyết<br><span class=\"meta\">Không gồm cước bưu chính[^<]*</span>"
                              r"</th>\s*<td class=\"amount\"><strong data-fee-total>16\.000 ₫</strong>")
    base, token = fill_to_check(client)  # postal chosen and saved
    for choice in ("postal", "desk"):
        if choice == "desk":
            saved = client.post(f"{base}/nhan-ket-qua", data={"csrf_token": token, "delivery.kind": "desk"})
            assert saved.headers["Location"].endswith("/kiem-tra")
        page = client.get(f"{base}/nhan-ket-qua").get_data(as_text=True)
        table = page[page.index('class="fee-table"'):page.index("</table>", page.index('class="fee-table"'))]
        assert agency_total.search(table), table
        assert "Tổng cộng" not in table and "41.000 ₫" not in table and POSTAGE_LINE not in table
        assert f"{POSTAGE_LINE}: 25.000 ₫" in page  # by the postal option
    english = client.get(f"{base}/nhan-ket-qua?lang=en").get_data(as_text=True)
    assert "Fees paid to the agency<br>" in english and "<strong data-fee-total>VND 16,000</strong>" in english


def test_confirmation_and_tracking_pages_show_the_bill_once(app, client) -> None:
    """The page's summary holds the bill; the payment panel says how to pay and points to it."""
    vnpay_settings(app)
    from tests.test_portal_filing import file_it, fill_to_check
    from tests.test_portal_tracking import lookup

    base, token = fill_to_check(client)
    code = file_it(client, base, token)
    confirmation = client.get(f"/ho-so/{code}/xac-nhan").get_data(as_text=True)
    assert lookup(client, code, "0912345678").status_code == 302
    tracking = client.get(f"/ho-so/{code}").get_data(as_text=True)
    for page in (confirmation, tracking):
        assert page.count(POSTAGE_LINE) == 1 and page.count("41.000 ₫") == 1 and page.count("Tổng cộng") == 1
        panel = page[page.index('class="panel panel-payment"'):page.index("</section>", page.index('class="panel panel-payment"'))]
        assert "xem phần thông tin hồ sơ ở trên" in panel and "Tổng cộng" not in panel
        assert "Thanh toán trực tuyến 16.000 ₫" in " ".join(panel.split())  # the pay button stays
