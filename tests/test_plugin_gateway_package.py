"""Adding a gateway is one package: tests/plugin_packages/motcua-acme-pay (the example of
docs/plugins.md, section 3) is installed by entry point, chosen by a spec in tmp, and takes a
payment end to end through the generic routes — nothing in this repository names it."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from fixtures.plugin_kit import installed
from fixtures.workflow_kit import file_dossier, kinds, make_spec
from motcua.dossier import Status
from motcua.payments import payment_token

PACKAGE = Path(__file__).parent / "plugin_packages" / "motcua-acme-pay"
SECRET = "ACMESECRET"


@pytest.fixture(scope="module")
def acme_installed(tmp_path_factory):
    with installed(PACKAGE, "acme_pay", tmp_path_factory.mktemp("site-packages")) as site:
        yield site


def sig(ref: str, amount: int, status: str) -> str:
    return hmac.new(SECRET.encode(), f"{ref}|{amount}|{status}".encode(), hashlib.sha256).hexdigest()


def test_a_third_party_gateway_takes_a_payment(acme_installed, app) -> None:
    app.config.update(ACME_URL="https://pay.acme.example", ACME_SECRET=SECRET)
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec([{"name": "payment", "config": {"mode": "online", "gateway": "acme"}}, "review"]),
                        fee=16000)
    with app.test_request_context():
        panel = "".join(app.extensions["motcua"].engine.citizen_panels(store.dossiers.get(code)))
        token = payment_token(code, "acme")
    assert f"/plugins/gateways/acme/start/{code}" in panel and "Acme Pay" in panel
    app.config["WTF_CSRF_ENABLED"] = False
    started = app.test_client().post(f"/plugins/gateways/acme/start/{code}", data={"token": token})
    app.config["WTF_CSRF_ENABLED"] = True
    assert started.status_code == 303 and started.headers["Location"].startswith("https://pay.acme.example/pay?")
    sent = {k: v[0] for k, v in parse_qs(urlparse(started.headers["Location"]).query).items()}
    assert sent["notify"].endswith("/plugins/gateways/acme/webhook") and sent["amount"] == "16000"
    ref = sent["ref"]
    hook = lambda body: app.test_client().post("/plugins/gateways/acme/webhook", json=body)  # noqa: E731
    assert hook({"ref": ref, "amount": 16000, "status": "paid", "sig": "forged"}).get_json()["outcome"] == "bad_signature"
    assert hook({"ref": ref, "amount": 1, "status": "paid", "sig": sig(ref, 1, "paid")}).get_json()["outcome"] == "wrong_amount"
    assert store.dossiers.get(code).status == Status.PAYMENT_REQUESTED
    assert hook({"ref": ref, "amount": 16000, "status": "paid", "txn": "A1", "sig": sig(ref, 16000, "paid")}).get_json() == \
        {"ok": True, "outcome": "ok"}
    d = store.dossiers.get(code)
    assert d.status == Status.NEW and "paid" in kinds(d) and d.events[-1].actor == "gateway:acme"
    back = app.test_client().get("/plugins/gateways/acme/return?" + urlencode(
        {"ref": ref, "amount": 16000, "status": "paid", "sig": sig(ref, 16000, "paid")})).get_data(as_text=True)
    assert "Thanh toán thành công" in back
    assert hook({"ref": ref, "amount": 16000, "status": "paid", "txn": "A1", "sig": sig(ref, 16000, "paid")}).get_json() == \
        {"ok": True, "outcome": "duplicate"}
