"""A MoMo IPN whose resultCode is not final (1000 waiting for the payer, 7000/7002 processing,
9000 authorised) records nothing: the final IPN that follows it pays the dossier.

Found by forging an out-of-order pair: a signed "7000 processing" IPN was recorded as a
failure and marked the order confirmed, so MoMo's later "0 success" IPN for the same order
was answered as a duplicate and the money taken was never recorded (nor reconciled: the
order was no longer pending). The plugin's own `query` already treats these codes as not
final."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from fixtures.workflow_kit import file_dossier, kinds, make_spec
from motcua.dossier import Status
from motcua_plugins.gateways import momo
from test_payment_momo import PAY_WITH_MOMO, PARTNER, momo_gateway, post_ipn, press_pay, signed  # noqa: F401


@pytest.mark.parametrize("pending", sorted(momo.PENDING))
def test_a_pending_ipn_then_the_final_one_pays(app, momo_gateway, live_server, pending) -> None:
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(PAY_WITH_MOMO), fee=16000)
    order_id = parse_qs(urlparse(press_pay(app, code).headers["Location"]).query)["orderId"][0]
    before = store.dossiers.get(code).events
    base = {"partnerCode": PARTNER, "orderId": order_id, "requestId": order_id, "amount": 16000, "orderInfo": "x",
            "orderType": "momo_wallet", "transId": 7, "resultCode": pending, "message": "processing", "payType": "qr",
            "responseTime": 1, "extraData": ""}
    assert post_ipn(app, signed(base))[0] == 204  # acknowledged: MoMo need not send it again
    assert store.dossiers.get(code).events == before  # neither paid nor failed
    assert post_ipn(app, signed({**base, "resultCode": 0, "message": "ok"}))[0] == 204
    dossier = store.dossiers.get(code)
    assert dossier.status == Status.NEW and "paid" in kinds(dossier) and "payment_failed" not in kinds(dossier)
