"""Online payment through the VNPay-shaped simulator over real HTTP, and desk payment."""

from __future__ import annotations

import re
import urllib.request
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from conftest import LiveServer
from fixtures.workflow_kit import DESK, file_dossier, kinds, make_spec, propose, vnpay_settings, wait_for
from motcua.dossier import Status
from motcua.workflow import ActionNotAllowed
from motcua_plugins.gateways import vnpay
from motcua_plugins.simulators import vnpay as vnpay_sim

SECRET = "TESTSECRET"


@pytest.fixture
def gateway(app, live_server):
    sim = vnpay_sim.create_app(tmn_code="MOTCUA01", secret=SECRET, ipn_url=live_server.url + "/thanh-toan/vnpay/ipn")
    with LiveServer(sim) as server:
        app.config.update(VNPAY_PAY_URL=server.url + "/paymentv2/vpcpay.html", VNPAY_TMN_CODE="MOTCUA01",
                          VNPAY_HASH_SECRET=SECRET, PUBLIC_URL=live_server.url)
        yield server, sim


def start_payment(app, live_server, code: str) -> str:
    """What the citizen's "Thanh toán trực tuyến" button does: a signed redirect to the gateway."""
    from motcua_plugins.payment import payment_token

    with app.test_request_context():
        token = payment_token(code)
    client = app.test_client()
    client.get("/")  # a session for the CSRF token
    with client.session_transaction() as session:
        pass
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post(f"/thanh-toan/{code}/vnpay", data={"token": token})
    app.config["WTF_CSRF_ENABLED"] = True
    assert response.status_code == 303, response.data
    return response.headers["Location"]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002
        return None


def citizen_chooses(gateway_url: str, outcome: str) -> str:
    """Open the gateway page and press a button; returns where the browser is sent."""
    page = urllib.request.urlopen(gateway_url).read().decode()
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    import html

    fields = {k: html.unescape(v) for k, v in fields.items()}
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(gateway_url.split("?")[0].replace("vpcpay.html", "complete"),
                                     data=urlencode({**fields, "outcome": outcome}).encode(), method="POST")
    try:
        opener.open(request)
    except urllib.error.HTTPError as exc:
        assert exc.code == 302
        return exc.headers["Location"]
    raise AssertionError("no redirect")


PAY_FIRST = [{"name": "payment", "config": {"mode": "online"}}, "review"]


def test_signed_url_has_vnpay_shape(app, gateway) -> None:
    code = file_dossier(app, make_spec(PAY_FIRST), fee=16000)
    assert app.extensions["motcua"].store.dossiers.get(code).status == Status.PAYMENT_REQUESTED
    url = start_payment(app, None, code)
    params = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
    assert params["vnp_Amount"] == "1600000" and params["vnp_Version"] == "2.1.0" and params["vnp_Command"] == "pay"
    assert vnpay.verify(params, SECRET) and not vnpay.verify({**params, "vnp_Amount": "100"}, SECRET)


def test_pay_through_simulator_marks_paid_by_ipn_only(app, gateway, live_server) -> None:
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(PAY_FIRST), fee=16000)
    with app.test_request_context():
        panel = "".join(app.extensions["motcua"].engine.citizen_panels(store.dossiers.get(code)))
    assert "Thanh toán trực tuyến" in panel and "16.000 ₫" in panel
    back = citizen_chooses(start_payment(app, live_server, code), "pay")
    assert back.startswith(live_server.url + "/plugins/gateways/vnpay/return")
    d = wait_for(lambda: (x := store.dossiers.get(code)).status == Status.NEW and x)
    paid = [e for e in d.events if e.kind == "paid"][0]
    assert paid.actor == "gateway:vnpay" and paid.data["amount"] == 16000
    assert d.steps["_engine"]["cursor"] == 1  # the payment step is done, review is next
    page = urllib.request.urlopen(back).read().decode()
    assert "Thanh toán thành công" in page
    # the IPN replayed: acknowledged as already confirmed, nothing changes
    server, sim = gateway
    ipn = sim.extensions["vnpay_sim"][0]["params"]
    again = urllib.request.urlopen(live_server.url + "/thanh-toan/vnpay/ipn?" + urlencode(ipn)).read()
    assert b'"RspCode":"02"' in again.replace(b" ", b"")
    assert store.dossiers.get(code).events == d.events


def test_return_url_alone_never_marks_paid(app, gateway, live_server) -> None:
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(PAY_FIRST), fee=16000)
    url = start_payment(app, live_server, code)
    params = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
    forged = {"vnp_TmnCode": "MOTCUA01", "vnp_Amount": params["vnp_Amount"], "vnp_TxnRef": params["vnp_TxnRef"],
              "vnp_ResponseCode": "00", "vnp_TransactionStatus": "00", "vnp_OrderInfo": "x"}
    forged["vnp_SecureHash"] = vnpay.sign(forged, SECRET)
    response = app.test_client().get("/thanh-toan/vnpay/return?" + urlencode(forged))
    assert "chờ cổng thanh toán xác nhận" in response.get_data(as_text=True)
    assert store.dossiers.get(code).status == Status.PAYMENT_REQUESTED


def test_cancelled_payment_leaves_dossier_waiting(app, gateway, live_server) -> None:
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(PAY_FIRST), fee=16000)
    citizen_chooses(start_payment(app, live_server, code), "cancel")
    d = wait_for(lambda: (x := store.dossiers.get(code)) and "payment_failed" in kinds(x) and x)
    assert d.status == Status.PAYMENT_REQUESTED


def _ipn(app, params: dict) -> dict:
    return app.test_client().get("/thanh-toan/vnpay/ipn?" + urlencode(params)).get_json()


def test_bad_ipns_get_error_codes_and_change_nothing(app, gateway) -> None:
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(PAY_FIRST), fee=16000)
    params = {k: v[0] for k, v in parse_qs(urlparse(start_payment(app, None, code)).query).items()}
    base = {"vnp_TmnCode": "MOTCUA01", "vnp_Amount": "1600000", "vnp_TxnRef": params["vnp_TxnRef"],
            "vnp_ResponseCode": "00", "vnp_TransactionStatus": "00", "vnp_TransactionNo": "1"}
    before = store.dossiers.get(code).events
    signed = lambda p: {**p, "vnp_SecureHash": vnpay.sign(p, SECRET)}  # noqa: E731
    assert _ipn(app, {**signed(base), "vnp_Amount": "1600001"})["RspCode"] == "97"  # tampered after signing
    assert _ipn(app, signed({**base, "vnp_Amount": "100"}))["RspCode"] == "04"
    assert _ipn(app, signed({**base, "vnp_TxnRef": "NOPE"}))["RspCode"] == "01"
    assert _ipn(app, {**base, "vnp_SecureHash": vnpay.sign(base, "WRONG")})["RspCode"] == "97"
    assert store.dossiers.get(code).events == before
    assert _ipn(app, signed(base))["RspCode"] == "00"
    after = store.dossiers.get(code)
    assert after.status == Status.NEW
    assert _ipn(app, signed({**base, "vnp_ResponseCode": "24"}))["RspCode"] == "02"  # late, out of order
    assert store.dossiers.get(code).events == after.events


def test_desk_payment_level_3(app) -> None:
    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec([{"name": "payment", "config": {"mode": "desk"}}, "review"]), fee=16000)
    d = app.extensions["motcua"].store.dossiers.get(code)
    assert d.status == Status.NEW and "payment_due_at_desk" in kinds(d)
    from fixtures.workflow_kit import LEADER

    engine.perform(code, "receive", DESK)
    engine.perform(code, "process", DESK)
    propose(engine, code)
    engine.perform(code, "approve", LEADER)
    with pytest.raises(ActionNotAllowed, match="chưa nộp phí"):
        engine.perform(code, "return_result", DESK)
    with pytest.raises(ActionNotAllowed, match="Số biên lai"):
        engine.perform(code, "record_payment", DESK)
    d = engine.perform(code, "record_payment", DESK, receipt_no="0001234", amount="16000")
    assert d.events[-1].kind == "paid" and d.events[-1].actor == "staff:desk"
    assert engine.perform(code, "return_result", DESK).status == Status.RETURNED


def test_level_4_filed_at_the_desk_pays_at_the_desk(app, client) -> None:
    """An online-payment procedure filed at the one-stop desk: the citizen pays at the counter."""
    vnpay_settings(app)
    engine = app.extensions["motcua"].engine
    spec = make_spec([{"name": "payment", "config": {"mode": "online"}}, "review"])
    at_desk = app.extensions["motcua"].store.dossiers.get(file_dossier(app, spec, channel="desk"))
    online = app.extensions["motcua"].store.dossiers.get(file_dossier(app, spec, channel="online"))
    assert online.status == Status.PAYMENT_REQUESTED and "payment_due_at_desk" not in kinds(online)
    assert at_desk.status == Status.NEW and "payment_requested" not in kinds(at_desk)
    assert "payment_due_at_desk" in kinds(at_desk)
    assert "record_payment" in [a.name for a in engine.actions(at_desk, DESK)]
    # the online one waits for the gateway, but the desk may still take cash (or refuse it): no dead end
    assert {"record_payment", "refuse_unpaid"} <= {a.name for a in engine.actions(online, DESK)}
    with app.test_request_context():
        assert "Thanh toán trực tuyến" in "".join(engine.citizen_panels(online))
        assert "Thanh toán trực tuyến" not in "".join(engine.citizen_panels(at_desk))
    d = engine.perform(at_desk.code, "record_payment", DESK, receipt_no="0000077", amount="16000")
    assert d.events[-1].kind == "paid" and d.status == Status.NEW


def test_no_gateway_configured_offers_the_desk_and_says_so_at_start(data_dir, caplog) -> None:
    """A plain start (no --demo, no VNPAY_* settings): the start-up log names the settings, the
    tracking panel offers no pay button that could only fail, and the desk still takes cash."""
    import logging

    from conftest import SPECS
    from motcua.app import create_app
    from motcua_plugins.payment import payment_token

    with caplog.at_level(logging.WARNING):
        app = create_app({"DATA_DIR": str(data_dir), "SPECS_DIR": str(SPECS), "PUBLIC_URL": "http://127.0.0.1:8000"})
    try:
        warnings = [r.getMessage() for r in caplog.records if "online payment" in r.getMessage()]
        assert len(warnings) == 1, warnings  # once, naming every spec concerned
        assert "1.001193@" in warnings[0] and "VNPAY_PAY_URL" in warnings[0] and "VNPAY_HASH_SECRET" in warnings[0]
        assert "PAYMENT_GATEWAY" in warnings[0] and "--demo" in warnings[0]
        engine = app.extensions["motcua"].engine
        spec = make_spec([{"name": "payment", "config": {"mode": "online"}}, "review"])
        online = app.extensions["motcua"].store.dossiers.get(file_dossier(app, spec, channel="online"))
        assert online.status == Status.PAYMENT_REQUESTED
        with app.test_request_context():
            panel = " ".join("".join(engine.citizen_panels(online)).split())
        assert "Thanh toán trực tuyến" not in panel and "/plugins/gateways/" not in panel
        assert "Nộp phí, lệ phí tại bộ phận một cửa: <strong>16.000 ₫</strong>" in panel
        # a pay form posted from a page kept from before (or crafted): 503, and the log says why
        with app.test_request_context():
            token = payment_token(online.code, "vnpay")
        client = app.test_client()
        app.config["WTF_CSRF_ENABLED"] = False
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            response = client.post(f"/plugins/gateways/vnpay/start/{online.code}", data={"token": token},
                                   base_url="http://127.0.0.1:8000")
        assert response.status_code == 503
        assert any("not configured" in r.getMessage() and "VNPAY_TMN_CODE" in r.getMessage() for r in caplog.records)
        d = engine.perform(online.code, "record_payment", DESK, receipt_no="0000078", amount="16000")
        assert d.events[-1].kind == "paid"
    finally:
        app.extensions["motcua"].store.close()


def test_start_warnings_name_what_online_payment_lacks() -> None:
    """A spec choosing a demo-only gateway outside a demo, or a gateway missing a setting: the
    warning says which; a desk-mode step or a configured gateway warns of nothing."""
    from motcua.integrations import GATEWAYS
    from motcua.integrations.gateways import Gateway
    from motcua_plugins.payment import PaymentConfig, PaymentStep

    class PaysAtOnce(Gateway):
        id = "pays-at-once"
        demo_only = True

        def configured(self) -> bool:
            return True

    GATEWAYS.register("pays-at-once", PaysAtOnce)
    try:
        (warning,) = PaymentStep.start_warnings(PaymentConfig(mode="online", gateway="pays-at-once"), {"DEMO": False})
        assert "demo-only" in warning and "config.gateway" in warning
        assert PaymentStep.start_warnings(PaymentConfig(mode="online", gateway="pays-at-once"), {"DEMO": True}) == []
    finally:
        GATEWAYS.unregister("pays-at-once")
    config = {"DEMO": False}
    assert PaymentStep.start_warnings(PaymentConfig(mode="desk"), config) == []
    ready = {"VNPAY_PAY_URL": "https://pay.example/vpcpay.html", "VNPAY_TMN_CODE": "X", "VNPAY_HASH_SECRET": "s"}
    assert PaymentStep.start_warnings(PaymentConfig(mode="online"), ready) == []
    (warning,) = PaymentStep.start_warnings(PaymentConfig(mode="online"), {"VNPAY_PAY_URL": "https://pay.example/"})
    assert "VNPAY_TMN_CODE" in warning and "VNPAY_PAY_URL" not in warning
    # a demo start configures the gateway with its simulator after create_app: nothing to warn of
    assert PaymentStep.start_warnings(PaymentConfig(mode="online"), {"DEMO": True}) == []


def test_a_start_warning_for_many_procedures_names_ten_and_counts_the_rest():
    """2,000 procedures missing one gateway setting make one readable line, not a 40 kB one."""
    from motcua.workflow.registry import _some

    keys = [f"8.{n:06d}@2026.2" for n in range(2000)]
    line = _some(keys)
    assert line.startswith("8.000000@2026.2, 8.000001@2026.2") and "8.000010@" not in line
    assert line.endswith("and 1990 more (2000 procedures)")
    assert _some(keys[:3]) == "8.000000@2026.2, 8.000001@2026.2, 8.000002@2026.2"
