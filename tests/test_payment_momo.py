"""MoMo beside VNPay, through the registry only: a spec chooses `gateway: momo`, the citizen
pays through the MoMo-shaped simulator over real HTTP, the IPN (answered 204) records it;
forged, foreign, replayed and wrong-amount IPNs change nothing."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from conftest import LiveServer
from fixtures.workflow_kit import file_dossier, kinds, make_spec, wait_for
from motcua.dossier import Status
from motcua.integrations import GATEWAYS
from motcua.payments import payment_token
from motcua_plugins.gateways import momo
from motcua_plugins.simulators import momo as momo_sim

PARTNER, ACCESS, SECRET = "MOTCUAMOMO", "ACCESSKEY1", "MOMOSECRET"
PAY_WITH_MOMO = [{"name": "payment", "config": {"mode": "online", "gateway": "momo"}}, "review"]


@pytest.fixture
def momo_gateway(app, live_server):
    sim = momo_sim.create_app(PARTNER, ACCESS, SECRET)
    with LiveServer(sim) as server:
        app.config.update(MOMO_ENDPOINT=server.url, MOMO_PARTNER_CODE=PARTNER, MOMO_ACCESS_KEY=ACCESS,
                          MOMO_SECRET_KEY=SECRET, PUBLIC_URL=live_server.url)
        yield server, sim


def press_pay(app, code: str, gateway: str = "momo"):
    """The citizen's "Thanh toán trực tuyến" button, as the tracking page posts it."""
    with app.test_request_context():
        token = payment_token(code, gateway)
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        return app.test_client().post(f"/plugins/gateways/{gateway}/start/{code}", data={"token": token})
    finally:
        app.config["WTF_CSRF_ENABLED"] = True


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002
        return None


def choose(pay_url: str, outcome: str) -> str:
    """Open MoMo's checkout page and press a button; where the browser is sent back."""
    page = urllib.request.urlopen(pay_url).read().decode()
    order_id = re.search(r'name="orderId" value="([^"]+)"', page).group(1)
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(pay_url.split("/pay?")[0] + "/pay/complete", method="POST",
                                     data=urlencode({"orderId": order_id, "outcome": outcome}).encode())
    try:
        opener.open(request)
    except urllib.error.HTTPError as exc:
        assert exc.code == 302
        return exc.headers["Location"]
    raise AssertionError("no redirect")


def post_ipn(app, body: dict) -> tuple[int, bytes]:
    response = app.test_client().post("/plugins/gateways/momo/webhook", data=json.dumps(body), content_type="application/json")
    return response.status_code, response.data


def signed(body: dict, secret: str = SECRET) -> dict:
    body = dict(body)
    body["signature"] = momo.sign(body, momo.RESULT_FIELDS, momo.Partner("", PARTNER, ACCESS, secret))
    return body


def test_momo_is_found_through_the_registry() -> None:
    assert {"vnpay", "momo"} <= set(GATEWAYS.all())
    assert GATEWAYS.get("momo") is momo.MoMoGateway


def test_signature_is_hmac_sha256_over_sorted_fields() -> None:
    partner = momo.Partner("", "P", "A", "S")
    fields = {"amount": 1000, "orderId": "O1", "partnerCode": "P", "requestId": "O1", "orderInfo": "x", "redirectUrl": "r",
              "ipnUrl": "i", "requestType": "captureWallet", "extraData": ""}
    assert momo.raw(fields, momo.CREATE_FIELDS, "A") == (
        "accessKey=A&amount=1000&extraData=&ipnUrl=i&orderId=O1&orderInfo=x&partnerCode=P&redirectUrl=r"
        "&requestId=O1&requestType=captureWallet")
    import hashlib
    import hmac

    assert momo.sign(fields, momo.CREATE_FIELDS, partner) == hmac.new(b"S", momo.raw(fields, momo.CREATE_FIELDS, "A").encode(),
                                                                      hashlib.sha256).hexdigest()


def test_pay_with_momo_end_to_end(app, momo_gateway, live_server) -> None:
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(PAY_WITH_MOMO), fee=16000)
    assert store.dossiers.get(code).status == Status.PAYMENT_REQUESTED
    with app.test_request_context():
        panel = "".join(app.extensions["motcua"].engine.citizen_panels(store.dossiers.get(code)))
    assert f"/plugins/gateways/momo/start/{code}" in panel and "cổng thanh toán MoMo" in panel
    started = press_pay(app, code)
    assert started.status_code == 303 and started.headers["Location"].startswith(momo_gateway[0].url + "/pay?")
    back = choose(started.headers["Location"], "pay")
    assert back.startswith(live_server.url + "/plugins/gateways/momo/return?")
    d = wait_for(lambda: (x := store.dossiers.get(code)).status == Status.NEW and x)
    paid = [e for e in d.events if e.kind == "paid"][0]
    assert paid.actor == "gateway:momo" and paid.data["amount"] == 16000 and paid.data["method"] == "momo"
    sim = momo_gateway[1]
    assert sim.extensions["momo_sim"][0]["ipn_replies"][0] == 204
    page = urllib.request.urlopen(back).read().decode()
    assert "Thanh toán thành công" in page
    # the IPN replayed: 204 again (MoMo must stop), nothing recorded twice
    ipn = sim.extensions["momo_sim"][0]["result"]
    assert post_ipn(app, ipn)[0] == 204
    assert store.dossiers.get(code).events == d.events


def test_cancelled_momo_payment_tells_the_citizen_why(app, momo_gateway, live_server) -> None:
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(PAY_WITH_MOMO), fee=16000)
    back = choose(press_pay(app, code).headers["Location"], "cancel")
    wait_for(lambda: "payment_failed" in kinds(store.dossiers.get(code)))
    d = store.dossiers.get(code)
    assert d.status == Status.PAYMENT_REQUESTED
    failed = [e for e in d.events if e.kind == "payment_failed"][0]
    assert failed.data["response_code"] == "1006" and "từ chối xác nhận" in failed.note
    assert "từ chối xác nhận thanh toán" in urllib.request.urlopen(back).read().decode()
    with app.test_request_context():
        panel = "".join(app.extensions["motcua"].engine.citizen_panels(d))
    assert "Bạn đã từ chối xác nhận thanh toán" in panel


def test_forged_foreign_and_wrong_amount_ipns_change_nothing(app, momo_gateway, live_server) -> None:
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(PAY_WITH_MOMO), fee=16000)
    pay_url = press_pay(app, code).headers["Location"]
    order_id = parse_qs(urlparse(pay_url).query)["orderId"][0]
    before = store.dossiers.get(code).events
    base = {"partnerCode": PARTNER, "orderId": order_id, "requestId": order_id, "amount": 16000, "orderInfo": "x",
            "orderType": "momo_wallet", "transId": 1, "resultCode": 0, "message": "ok", "payType": "qr",
            "responseTime": 1, "extraData": ""}
    assert post_ipn(app, signed(base, "WRONGSECRET"))[0] == 400  # forged
    assert post_ipn(app, {**signed(base), "amount": 1})[0] == 400  # signature no longer matches
    assert post_ipn(app, signed({**base, "partnerCode": "OTHER"}))[0] == 400  # another partner's order
    assert post_ipn(app, signed({**base, "amount": 1000}))[0] == 400  # signed, wrong amount
    assert post_ipn(app, signed({**base, "orderId": "NOPE"}))[0] == 404
    assert post_ipn(app, {"not": "signed"})[0] == 400
    assert app.test_client().post("/plugins/gateways/momo/webhook", data="x", content_type="text/plain").status_code == 400
    assert store.dossiers.get(code).events == before
    assert post_ipn(app, signed(base))[0] == 204  # the real one
    assert store.dossiers.get(code).status == Status.NEW


def test_a_spec_naming_an_unknown_gateway_is_refused_by_the_step_model() -> None:
    from pydantic import ValidationError

    from motcua.integrations import STEPS

    from motcua.spec.words import speaking

    with pytest.raises(ValidationError, match="không có plugin gateways nào được đăng ký với tên 'nope'"):
        STEPS.all()["payment"].Config.model_validate({"gateway": "nope"})
    with speaking("en"), pytest.raises(ValidationError, match="no gateways plugin is registered as 'nope'"):
        STEPS.all()["payment"].Config.model_validate({"gateway": "nope"})
    assert STEPS.all()["payment"].Config.model_validate({"gateway": "momo"}).gateway == "momo"


def test_a_token_for_one_gateway_does_not_open_another(app, momo_gateway) -> None:
    code = file_dossier(app, make_spec(PAY_WITH_MOMO), fee=16000)
    with app.test_request_context():
        token = payment_token(code, "momo")
    app.config["WTF_CSRF_ENABLED"] = False
    response = app.test_client().post(f"/plugins/gateways/vnpay/start/{code}", data={"token": token})
    app.config["WTF_CSRF_ENABLED"] = True
    assert response.status_code == 403
