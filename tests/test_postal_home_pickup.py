"""A citizen filing online asks the post office to collect the paper dossier at home
(Decision 45/2016), where the spec's postal channel allows it: the choice is on the form's
delivery step and on the check page, the `postal` step books the pickup with the carrier, and
the desk can receive the dossier only once the papers have arrived.

Real app serving a tmp folder of specs, the portal's pages as a browser without JavaScript
posts them, the carrier simulator on a real local server sending signed callbacks.
"""

from __future__ import annotations

import pytest

from conftest import LiveServer
from fixtures.workflow_kit import DESK, wait_for
from motcua import accounts
from motcua.app import create_app
from motcua.dossier import Status
from motcua.spec.lint import lint_file
from motcua.workflow import ActionNotAllowed
from motcua_plugins.simulators import carrier as carrier_sim
from tests.portal_helpers import birth_spec, csrf, write_spec
from tests.test_portal_filing import file_it, fill_to_check, summary_messages, text
from tests.test_postal import advance
from tests.test_spec_lint import base, findings, level, one

pytestmark = pytest.mark.usefixtures("jobs_run_at_once")

HOME = {"delivery.kind": "postal", "delivery.address.province": "01", "delivery.address.commune": "Phường Ba Đình",
        "delivery.address.street": "Số 1 Hoàng Hoa Thám", "pickup.wanted": "1"}


def pickup_spec() -> dict:
    data = birth_spec()
    data["version"] = "home-pickup-test"
    for channel in data["channels"]:
        if channel["kind"] == "postal":
            channel["home_pickup"] = True
    return data


@pytest.fixture
def app(tmp_path, store_target):
    folder = tmp_path / "specs"
    write_spec(folder / "ho-tich", "khai-sinh", pickup_spec())
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(folder), "TESTING": True, "STORE": store_target})
    assert app.extensions["motcua"].catalogue.problems == []
    yield app
    app.extensions["motcua"].store.close()


@pytest.fixture
def carrier(app, live_server):
    sim = carrier_sim.create_app(api_key="K", callback_secret="CB")
    with LiveServer(sim) as server:
        app.config.update(POSTAL_API_URL=server.url + "/api/v1", POSTAL_API_KEY="K",
                          POSTAL_CALLBACK_SECRET="CB", PUBLIC_URL=live_server.url)
        yield server, sim


def test_the_citizen_asks_for_home_pickup_and_the_dossier_is_received_once_the_papers_arrive(app, carrier):
    server, sim = carrier
    client = app.test_client()
    base_url, token = fill_to_check(client, {**HOME, "pickup.address.province": "01", "pickup.address.commune": "Phường Ba Đình",
                                            "pickup.address.street": "Số 9 Phan Đình Phùng"})
    check = text(client.get(f"{base_url}/kiem-tra"))
    assert "Bưu điện đến nhận tại nhà" in check and "Số 9 Phan Đình Phùng" in check
    code = file_it(client, base_url, token)

    store, engine = app.extensions["motcua"].store, app.extensions["motcua"].engine
    d = store.dossiers.get(code)
    assert d.channel == "online" and d.pickup_address["street"] == "Số 9 Phan Đình Phùng"
    booked = next(e for e in d.events if e.kind == "shipment_booked")
    assert booked.data["kind"] == "pickup"
    parcel = sim.extensions["carrier_sim"][booked.data["item_number"]]
    assert parcel["kind"] == "pickup" and "Số 9 Phan Đình Phùng" in str(parcel)

    accounts.create_account(store, "lan", "Nguyễn Thị Lan", ["desk"], [d.agency_code], "Mk-khong-doan-2026")
    staff = app.test_client()
    staff.post("/staff/login", data={"username": "lan", "password": "Mk-khong-doan-2026",
                                     "csrf_token": csrf(text(staff.get("/staff/login")))})
    facts = text(staff.get(f"/staff/ho-so/{code}")).split("data-pickup>", 1)[1].split("</dd>", 1)[0]
    assert "Bưu điện đến nhận tại nhà" in facts and "Số 9 Phan Đình Phùng" in facts
    user = DESK.model_copy(update={"agencies": [d.agency_code]})
    if d.status == Status.PAYMENT_REQUESTED:  # the copies' fee: taken at the counter here, to reach the desk's check
        engine.perform(code, "record_payment", user, receipt_no="BL-1", amount=str(d.fee_total))
    with pytest.raises(ActionNotAllowed, match="đang được bưu điện chuyển đến"):
        engine.perform(code, "receive", user)
    assert store.dossiers.get(code).status == Status.NEW
    advance(server, booked.data["item_number"], "picked_up")
    advance(server, booked.data["item_number"], "delivered")
    wait_for(lambda: store.dossiers.get(code).steps["postal"]["shipments"]["pickup"]["status"] == "delivered")
    assert engine.perform(code, "receive", user).status == Status.RECEIVED  # papers in hand, checked


def test_pickup_reuses_the_postal_return_address_and_needs_one(app):
    client = app.test_client()
    base_url, token = fill_to_check(client, HOME)  # no pickup address typed: the return address is the home
    assert "Số 1 Hoàng Hoa Thám" in text(client.get(f"{base_url}/kiem-tra")).split("data-pickup>", 1)[1]

    other = app.test_client()
    base_url, token = fill_to_check(other)
    response = other.post(f"{base_url}/nhan-ket-qua", data={"csrf_token": token, "delivery.kind": "desk", "pickup.wanted": "1"})
    assert response.status_code != 302
    assert any("tỉnh" in m for m in summary_messages(text(response)))


@pytest.mark.usefixtures("english_findings")  # the findings' English wording
def test_lint_home_pickup_only_on_the_postal_channel_online_with_a_postal_step(tmp_path):
    data = base()
    data["channels"] = [{"kind": "online"}, {"kind": "desk", "home_pickup": True}]
    assert "belongs to the `postal` channel" in one(findings(tmp_path, data)).message

    data = base()
    data["channels"] = [{"kind": "online"}, {"kind": "postal", "home_pickup": True}]
    data["steps"] = [s for s in data["steps"] if (s if isinstance(s, str) else s["name"]) != "postal"]
    assert "no `postal` step" in one(findings(tmp_path, data)).message

    data = level(base(), "forms")
    data["channels"] = [{"kind": "desk"}, {"kind": "postal", "home_pickup": True}]
    assert any("home pickup is chosen on the online form" in f.message for f in findings(tmp_path, data))


def test_the_shipped_driving_licence_offers_home_pickup():
    from tests.portal_helpers import REPO

    path = REPO / "procedure_specs" / "giao-thong" / "doi-giay-phep-lai-xe.yaml"
    result = lint_file(path)
    assert result.ok and any(c.home_pickup for c in result.spec.channels if c.kind == "postal")


@pytest.mark.browser
def test_in_a_browser_the_citizen_ticks_home_pickup_and_the_post_is_booked(app, carrier, live_server, page, tmp_path):
    from tests.portal_helpers import small_pdf

    server, sim = carrier
    go_on = ".actions button[value=continue]"
    page.goto(f"{live_server.url}/thu-tuc/1.001193")
    page.fill("#f-co_quan-filter", "hai chau")  # the commune office, as the citizen chooses it
    page.click("text=Nộp hồ sơ trực tuyến >> nth=0")
    page.fill("#f-requester-full_name", "Nguyễn Văn An")
    page.fill("#f-requester-cccd", "001090012345")
    page.fill("#f-requester-phone", "0912345678")
    page.select_option("#f-requester-relation", "cha")
    page.click(go_on)
    page.fill("#f-child-full_name", "Nguyễn Minh Khang")
    page.fill("#f-child-birth_date", "2025-06-01")
    page.check("#f-child-sex")
    page.fill("#f-child-birth_place", "Bệnh viện Phụ sản Hà Nội")
    page.click(go_on)
    page.fill("#f-mother-full_name", "Trần Thị Bình")
    page.fill("#f-mother-birth_year", "1995")
    page.fill("#f-father-full_name", "Nguyễn Văn An")
    page.fill("#f-father-birth_year", "1990")
    page.click(go_on)
    page.fill("#f-extract_copies", "0")
    page.click(go_on)
    pdf = tmp_path / "giay-chung-sinh.pdf"
    pdf.write_bytes(small_pdf())
    page.set_input_files("#f-attachment-giay_chung_sinh", str(pdf))
    page.click(go_on)

    # the delivery step: result by post, and the papers collected at the same home
    page.check("#delivery-kind-postal")
    page.select_option("#f-delivery-address-province", label="Thành phố Hà Nội")
    page.wait_for_selector("select#f-delivery-address-commune option[value='00004']", state="attached")
    page.select_option("#f-delivery-address-commune", label="Phường Ba Đình")
    page.fill("#f-delivery-address-street", "Số 1 Hoàng Hoa Thám")
    assert "Nộp bản giấy qua bưu điện" in page.content()
    page.check("#f-pickup-wanted")
    page.click(go_on)
    assert page.locator("[data-pickup]").inner_text().startswith("Bưu điện đến nhận tại nhà: Số 1 Hoàng Hoa Thám")
    page.click("button:has-text('Nộp hồ sơ')")
    code = page.locator("#dossier-code").inner_text().strip()

    d = wait_for(lambda: (x := app.extensions["motcua"].store.dossiers.get(code)) and "shipment_booked" in [e.kind for e in x.events] and x)
    booked = next(e for e in d.events if e.kind == "shipment_booked")
    assert booked.data["kind"] == "pickup" and sim.extensions["carrier_sim"][booked.data["item_number"]]["kind"] == "pickup"
    page.goto(f"{live_server.url}/ho-so/{code}")
    if "/tra-cuu" in page.url:  # the confirmation remembered it; otherwise look it up
        page.fill("#factor", "0912345678")
        page.click("button:has-text('Tra cứu')")
    assert "Thu gom hồ sơ tại nhà" in page.content() and booked.data["item_number"] in page.content()


def test_the_api_files_with_home_pickup_and_refuses_it_without_an_address(app):
    from tests.test_api_portal import body

    client = app.test_client()
    postal = {"kind": "postal", "address": {"province": "01", "commune": "Phường Ba Đình", "street": "Số 1 Hoàng Hoa Thám"}}
    created = client.post("/api/v1/procedures/1.001193/dossiers", json=body(delivery=postal, pickup={}))
    assert created.status_code == 201, created.get_json()
    dossier = app.extensions["motcua"].store.dossiers.get(created.get_json()["code"])
    assert dossier.pickup_address["street"] == "Số 1 Hoàng Hoa Thám"

    refused = client.post("/api/v1/procedures/1.001193/dossiers", json=body(delivery={"kind": "desk"}, pickup={}))
    assert refused.status_code == 422
    assert any(e["pointer"].startswith("/pickup/address") for e in refused.get_json()["errors"])
