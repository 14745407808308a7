"""Home pickup with a carrier that needs the office's phone (Viettel Post: the office is the
receiver of the papers collected at home, the sender of a result): the phone comes from the
postal step's `desk_phones` (per office), the registry's `phone`, or the step's `desk_phone`.
An office with none is found before a citizen chooses: `motcua lint` and the start-up log warn,
and the form offers no home pickup there. VNPost, which needs only the office's name, is
offered everywhere. Real app, real simulators over HTTP."""

from __future__ import annotations


from conftest import LiveServer
from motcua.app import create_app
from motcua.spec.lint import lint_file
from motcua.agencies import load_registry, registry_path
from motcua.workflow.registry import start_warnings
from motcua_plugins.simulators import carrier as carrier_sim
from motcua_plugins.simulators import viettelpost as viettel_sim
from tests.portal_helpers import OFFICE, birth_spec, write_spec
from tests.test_portal_filing import file_it, fill_to_check, summary_messages, text
from tests.test_postal_home_pickup import HOME

PICKUP_OFFER = "Đề nghị bưu điện đến nhận hồ sơ giấy tại nhà"


def spec_with(config: dict) -> dict:
    data = birth_spec()
    data["version"] = "office-phone-test"
    for channel in data["channels"]:
        if channel["kind"] == "postal":
            channel["home_pickup"] = True
    data["steps"] = [{"name": "postal", "config": config} if (s if isinstance(s, str) else s["name"]) == "postal" else s
                     for s in data["steps"]]
    return data


def make_app(tmp_path, store_target, config: dict):
    folder = tmp_path / "specs"
    write_spec(folder / "ho-tich", "khai-sinh", spec_with(config))
    return create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(folder), "TESTING": True,
                       "STORE": store_target}), folder / "ho-tich" / "khai-sinh.yaml"


AT_DESK = {"delivery.kind": "desk"}


def delivery_page(client, delivery: dict | None = None) -> str:
    base, _token = fill_to_check(client, delivery)
    return text(client.get(f"{base}/nhan-ket-qua"))


def file_with_pickup(app) -> str:
    """File online asking for home pickup, then run the jobs the filing deferred (the booking)."""
    client = app.test_client()
    base, token = fill_to_check(client, HOME)
    code = file_it(client, base, token)
    app.extensions["motcua"].engine.flush()
    return code


def test_no_phone_no_home_pickup_with_viettel_post_and_staff_are_told(tmp_path, store_target):
    app, path = make_app(tmp_path, store_target, {"carrier": "viettelpost"})
    try:
        page = delivery_page(app.test_client(), AT_DESK)
        # neither the papers collected at home nor the result by post: the carrier cannot book this office
        assert PICKUP_OFFER not in page and 'value="postal"' not in page and 'id="post-refused"' in page
        assert 'value="desk"' in page
        # asked for anyway (a draft saved before, a forged post): refused on that step, nothing filed
        client = app.test_client()
        base, token = fill_to_check(client, AT_DESK)
        response = client.post(f"{base}/nhan-ket-qua", data={"csrf_token": token, **HOME})
        assert response.status_code != 302
        said = summary_messages(text(response))
        assert any("chưa nhận hồ sơ giấy qua bưu điện" in m for m in said)
        assert any("chưa gửi kết quả qua bưu chính" in m for m in said)
        with app.app_context():
            warnings = start_warnings(app.extensions["motcua"].catalogue, app.config)
        assert any("94 of the offices" in w and "Viettel Post" in w and "desk_phone" in w for w in warnings)
    finally:
        app.extensions["motcua"].store.close()
    found = lint_file(path, agencies=load_registry(registry_path()))
    assert found.ok  # a warning: the procedure still serves, without home pickup there
    warned = [f for f in found.findings if f.severity == "warning" and "94/94" in f.message]
    assert warned and "Viettel Post" in warned[0].message


def test_a_desk_phone_lets_viettel_post_be_offered(tmp_path, store_target, live_server):
    app, path = make_app(tmp_path, store_target, {"carrier": "viettelpost", "desk_phone": "0236 3822 111",
                                                  "desk_phones": {OFFICE: "0236 3821 234"}})
    sim = viettel_sim.create_app("T", "H", live_server.url + "/plugins/carriers/viettelpost/callback")
    try:
        with LiveServer(sim) as server:
            app.config.update(VIETTELPOST_API_URL=server.url, VIETTELPOST_TOKEN="T", VIETTELPOST_WEBHOOK_TOKEN="H",
                              PUBLIC_URL=live_server.url)
            with app.app_context():
                assert not [w for w in start_warnings(app.extensions["motcua"].catalogue, app.config) if "offices" in w]
            page = delivery_page(app.test_client())
            assert PICKUP_OFFER in page and 'value="postal"' in page and 'id="post-refused"' not in page
            code = file_with_pickup(app)
            d = app.extensions["motcua"].store.dossiers.get(code)
            booked = next(e for e in d.events if e.kind == "shipment_booked")
            order = sim.extensions["viettelpost_sim"][booked.data["item_number"]]["body"]
            # the office's own desk phone wins over the default; the papers go to its address
            assert order["RECEIVER_PHONE"] == "0236 3821 234" and "Hải Châu" in order["RECEIVER_ADDRESS"]
            assert order["RECEIVER_WARDS"] and order["ORDER_NUMBER"] == f"{code}:pickup"
    finally:
        app.extensions["motcua"].store.close()
    assert not [f for f in lint_file(path, agencies=load_registry(registry_path())).findings if "/94" in f.message]


def test_vnpost_needs_no_office_phone(tmp_path, store_target, live_server):
    app, path = make_app(tmp_path, store_target, {"carrier": "vnpost"})
    sim = carrier_sim.create_app(api_key="K", callback_secret="CB")
    try:
        with LiveServer(sim) as server:
            app.config.update(POSTAL_API_URL=server.url + "/api/v1", POSTAL_API_KEY="K", POSTAL_CALLBACK_SECRET="CB",
                              PUBLIC_URL=live_server.url)
            assert PICKUP_OFFER in delivery_page(app.test_client())
            code = file_with_pickup(app)
            d = app.extensions["motcua"].store.dossiers.get(code)
            item = next(e for e in d.events if e.kind == "shipment_booked").data["item_number"]
            assert sim.extensions["carrier_sim"][item]["kind"] == "pickup"
    finally:
        app.extensions["motcua"].store.close()
    assert not [f for f in lint_file(path, agencies=load_registry(registry_path())).findings if "/94" in f.message]



def test_motcua_lint_warns_for_the_deployments_carrier(tmp_path, monkeypatch):
    """A spec naming no carrier books with the deployment's (MOTCUA_POSTAL_CARRIER): `motcua
    lint` checks the offices against that one; the procedure stays valid (exit 0)."""
    from click.testing import CliRunner

    from motcua.cli import main

    path = write_spec(tmp_path / "specs", "khai-sinh", spec_with({}))
    monkeypatch.setenv("MOTCUA_POSTAL_CARRIER", "viettelpost")
    result = CliRunner().invoke(main, ["lint", "--lang", "en", str(path)])
    assert result.exit_code == 0, result.output
    assert "cannot serve 94/94 of the performing offices" in result.stdout and "desk_phones" in result.stdout
    monkeypatch.setenv("MOTCUA_POSTAL_CARRIER", "vnpost")
    result = CliRunner().invoke(main, ["lint", "--lang", "en", str(path)])
    assert result.exit_code == 0 and "performing offices" not in result.stdout


def test_the_api_refuses_what_the_form_does_not_offer_at_such_an_office(tmp_path, store_target):
    """Through /api/v1 a postal result or a home pickup at an office whose carrier cannot book
    it is a 422 with its pointer, as the form's delivery step refuses it; nothing is filed."""
    import base64

    from tests.portal_helpers import small_pdf
    from tests.test_api_portal import ANSWERS

    address = {"province": "01", "commune": "Phường Ba Đình", "street": "Số 9 Phan Đình Phùng"}
    app, _path = make_app(tmp_path, store_target, {"carrier": "viettelpost"})
    try:
        client = app.test_client()
        body = {"agency": OFFICE, "answers": ANSWERS,
                "attachments": [{"component": "giay_chung_sinh", "filename": "gcs.pdf",
                                 "content_base64": base64.b64encode(small_pdf()).decode()}]}
        url = f"/api/v1/procedures/{birth_spec()['code']}/dossiers"
        response = client.post(url, json={**body, "delivery": {"kind": "postal", "address": address}, "pickup": {}})
        assert response.status_code == 422, response.get_json()
        pointers = {e["pointer"]: e["message"] for e in response.get_json()["errors"]}
        assert "/delivery/kind" in pointers and "/pickup" in pointers
        assert "phone" in pointers["/delivery/kind"] or "điện thoại" in pointers["/delivery/kind"]
        assert app.extensions["motcua"].store.dossiers.count() == 0
        # at the desk the same office files as before
        assert client.post(url, json={**body, "delivery": {"kind": "desk"}}).status_code == 201
    finally:
        app.extensions["motcua"].store.close()


def test_a_procedure_of_one_office_is_judged_by_that_office(tmp_path, store_target):
    """With one performer the form has no office to choose (and posts none): its delivery step
    still offers no post where the carrier cannot book that office, as the API refuses it."""
    from tests.portal_helpers import GOOD_ANSWERS, csrf
    from tests.test_portal_filing import FORM

    folder = tmp_path / "specs"
    data = spec_with({"carrier": "viettelpost"})
    data["performed_by"] = OFFICE
    write_spec(folder / "ho-tich", "khai-sinh", data)
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(folder), "TESTING": True,
                      "STORE": store_target})
    try:
        client = app.test_client()
        token = csrf(text(client.get(FORM)))
        first = {k: v for k, v in GOOD_ANSWERS["requester"].items() if k != "agency"}
        response = client.post(FORM, data={"csrf_token": token, **first})
        assert response.status_code == 302, summary_messages(text(response))
        base = response.headers["Location"].rsplit("/", 1)[0]
        page = text(client.get(f"{base}/nhan-ket-qua"))
        assert PICKUP_OFFER not in page and 'value="postal"' not in page and 'id="post-refused"' in page
    finally:
        app.extensions["motcua"].store.close()
