"""The gateway contract's `query` and `refund`, through the VNPay- and MoMo-shaped simulators
over real HTTP: a payment whose IPN was lost is found by staff's "check payment status"
(recorded exactly once, like an IPN), and a paid dossier refused or withdrawn is refunded
when its spec says the fees are refundable — never twice, never when the spec does not say
so, and a forged or foreign answer from the "gateway" records nothing."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from conftest import LiveServer
from fixtures.workflow_kit import DESK, file_dossier, kinds, make_spec
from motcua import payments
from motcua.dossier import Status
from motcua.integrations.gateways import GatewayUnavailable, Refund
from motcua.web.labels import citizen_events
from motcua.workflow import ActionNotAllowed
from motcua_plugins.gateways.vnpay import VNPayGateway
from motcua_plugins.simulators import momo as momo_sim
from motcua_plugins.simulators import vnpay as vnpay_sim
from test_payment import citizen_chooses
from test_payment_momo import choose, press_pay

SECRET = "QRSECRET"
PARTNER, ACCESS, MOMO_SECRET = "MOTCUAMOMO", "ACCESSKEY1", "MOMOSECRET"


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def get(url: str) -> list:
    with urllib.request.urlopen(url) as response:
        return json.loads(response.read())


@pytest.fixture
def vnpay_gw(app, live_server):
    sim = vnpay_sim.create_app(tmn_code="MOTCUA01", secret=SECRET, ipn_url=live_server.url + "/plugins/gateways/vnpay/webhook")
    with LiveServer(sim) as server:
        app.config.update(VNPAY_PAY_URL=server.url + "/paymentv2/vpcpay.html", VNPAY_TMN_CODE="MOTCUA01",
                          VNPAY_HASH_SECRET=SECRET, VNPAY_API_URL=server.url + "/merchant_webapi/api/transaction",
                          PUBLIC_URL=live_server.url)
        yield server


@pytest.fixture
def momo_gw(app, live_server):
    with LiveServer(momo_sim.create_app(PARTNER, ACCESS, MOMO_SECRET)) as server:
        app.config.update(MOMO_ENDPOINT=server.url, MOMO_PARTNER_CODE=PARTNER, MOMO_ACCESS_KEY=ACCESS,
                          MOMO_SECRET_KEY=MOMO_SECRET, PUBLIC_URL=live_server.url)
        yield server


def kinds_of(events: list) -> list[str]:
    return [e.kind for e in events]


def dossier(app, code: str):
    return app.extensions["motcua"].store.dossiers.get(code)


def pay_url(app, code: str, gateway: str) -> str:
    response = press_pay(app, code, gateway)
    assert response.status_code == 303, response.data
    return response.headers["Location"]


@pytest.mark.parametrize("gateway", ["vnpay", "momo"])
def test_a_lost_ipn_is_found_by_checking_the_payment_status(app, vnpay_gw, momo_gw, gateway) -> None:
    server = vnpay_gw if gateway == "vnpay" else momo_gw
    post(server.url + "/sim/ipn", {"lost": True})
    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec([{"name": "payment", "config": {"gateway": gateway}}, "review"], version=f"q-{gateway}"))
    assert "check_payment" not in [a.name for a in engine.actions(dossier(app, code), DESK)]  # no order yet

    url = pay_url(app, code, gateway)
    # the payer opened the gateway's page but has not paid: the gateway has no final word
    if gateway == "vnpay":
        urllib.request.urlopen(url).read()
    assert "check_payment" in [a.name for a in engine.actions(dossier(app, code), DESK)]
    d = engine.perform(code, "check_payment", DESK)
    assert d.status == Status.PAYMENT_REQUESTED and d.events[-1].kind == "payment_checked"
    assert d.events[-1].data["outcome"] == "pending"

    # now the payer pays; the IPN is lost on the way
    (choose if gateway == "momo" else citizen_chooses)(url, "pay")
    assert dossier(app, code).status == Status.PAYMENT_REQUESTED
    d = engine.perform(code, "check_payment", DESK)
    assert d.status == Status.NEW and kinds(d).count("paid") == 1
    paid = next(e for e in d.events if e.kind == "paid")
    assert paid.actor == f"gateway:{gateway}" and paid.data["amount"] == 16000 and paid.data["transaction_no"]
    assert d.events[-1].kind == "payment_checked" and d.events[-1].data["outcome"] == "ok"
    # recorded once: the action is gone, and the IPN arriving late is a duplicate
    assert "check_payment" not in [a.name for a in engine.actions(d, DESK)]
    with pytest.raises(ActionNotAllowed):
        engine.perform(code, "check_payment", DESK)


def test_a_failed_payment_found_by_the_query_is_shown_like_a_failed_ipn(app, vnpay_gw) -> None:
    post(vnpay_gw.url + "/sim/ipn", {"lost": True})
    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec([{"name": "payment", "config": {"gateway": "vnpay"}}, "review"], version="q-fail"))
    citizen_chooses(pay_url(app, code, "vnpay"), "fail")
    d = engine.perform(code, "check_payment", DESK)
    assert d.status == Status.PAYMENT_REQUESTED and "payment_failed" in kinds(d) and "paid" not in kinds(d)


def test_a_query_answer_not_signed_by_the_gateway_records_nothing(app, vnpay_gw) -> None:
    post(vnpay_gw.url + "/sim/ipn", {"lost": True})
    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec([{"name": "payment", "config": {"gateway": "vnpay"}}, "review"], version="q-forged"))
    citizen_chooses(pay_url(app, code, "vnpay"), "pay")
    app.config["VNPAY_HASH_SECRET"] = "NOT-THE-SIMULATORS"  # its answers no longer verify
    before = kinds(dossier(app, code))
    with pytest.raises(ActionNotAllowed, match="Không kết nối được cổng thanh toán"):
        engine.perform(code, "check_payment", DESK)
    with pytest.raises(GatewayUnavailable):
        payments.reconcile(app.extensions["motcua"], app.config, code)
    assert kinds(dossier(app, code)) == before


REFUNDABLE = {"refund_on": ["refused", "withdrawn"]}


@pytest.mark.parametrize("gateway", ["vnpay", "momo"])
def test_a_paid_dossier_refused_is_refunded_once_through_its_gateway(app, vnpay_gw, momo_gw, gateway) -> None:
    server = vnpay_gw if gateway == "vnpay" else momo_gw
    engine = app.extensions["motcua"].engine
    spec = make_spec([{"name": "payment", "config": {"gateway": gateway, **REFUNDABLE}}, "review"], version=f"r-{gateway}")
    code = file_dossier(app, spec)
    (choose if gateway == "momo" else citizen_chooses)(pay_url(app, code, gateway), "pay")
    from fixtures.workflow_kit import wait_for

    wait_for(lambda: dossier(app, code).status == Status.NEW)
    d = engine.perform(code, "refuse", DESK, reason="Hồ sơ không thuộc thẩm quyền.")
    # the refusal only asks for the refund: a job asks the gateway, after the change is saved
    assert d.status == Status.REFUSED and "payment_refunded" not in kinds(d)
    [asked] = [e for e in d.events if e.kind == "payment_refund_requested"]
    assert asked.data["amount"] == 16000 and "bị từ chối tiếp nhận" in asked.note
    assert get(server.url + "/sim/refunds") == [] and payments.online_payments(d) == []  # on its way: counted
    engine.flush()
    d = dossier(app, code)
    assert kinds(d).count("payment_refunded") == 1
    refunded = next(e for e in d.events if e.kind == "payment_refunded")
    assert refunded.data["refund_ref"] == asked.data["refund_ref"]
    assert refunded.data["amount"] == 16000 and refunded.data["refund_transaction"]
    assert "16.000" in refunded.note and "bị từ chối tiếp nhận" in refunded.note
    assert [r["amount"] for r in get(server.url + "/sim/refunds")] == [16000 if gateway == "momo" else 1600000]
    assert payments.online_payments(d) == []
    # the engine running the same events again (a retry), or the job run again, refunds nothing more
    engine.retry_failed(code)
    job = {"index": 0, "step": "payment", "job": "refund", "key": refunded.data["refund_ref"]}
    assert engine.run_step_job(code, **job, arguments={"item": asked.data["item"]}) is True
    engine.flush()
    assert len(get(server.url + "/sim/refunds")) == 1 and kinds(dossier(app, code)).count("payment_refunded") == 1


def test_withdrawn_is_refunded_only_when_the_spec_says_so(app, vnpay_gw) -> None:
    engine = app.extensions["motcua"].engine
    for config, version, expected in (({"refund_on": ["withdrawn"]}, "r-w1", 1), ({"refund_on": ["refused"]}, "r-w2", 0),
                                      ({}, "r-w3", 0)):
        code = file_dossier(app, make_spec([{"name": "payment", "config": {"gateway": "vnpay", **config}}, "review"],
                                           version=version))
        citizen_chooses(pay_url(app, code, "vnpay"), "pay")
        from fixtures.workflow_kit import wait_for

        wait_for(lambda: dossier(app, code).status == Status.NEW)
        engine.citizen_withdraw(code, "Tôi nộp nhầm thủ tục.")
        engine.flush()
        d = dossier(app, code)
        assert d.status == Status.WITHDRAWN and kinds(d).count("payment_refunded") == expected, version
    assert len(get(vnpay_gw.url + "/sim/refunds")) == 1


def test_a_refund_the_gateway_refuses_is_left_to_staff_and_an_unreachable_one_is_retried(app, vnpay_gw) -> None:
    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec([{"name": "payment", "config": {"gateway": "vnpay", **REFUNDABLE}}, "review"],
                                       version="r-bad"))
    citizen_chooses(pay_url(app, code, "vnpay"), "pay")
    from fixtures.workflow_kit import wait_for

    wait_for(lambda: dossier(app, code).status == Status.NEW)
    good = app.config["VNPAY_API_URL"]
    app.config.update(VNPAY_API_URL="http://127.0.0.1:9/merchant_webapi/api/transaction",  # nobody listens
                      STEP_JOB_BACKOFF_SECONDS=0.2)
    d = engine.perform(code, "refuse", DESK, reason="Sai thẩm quyền.")
    assert d.status == Status.REFUSED and "payment_refund_requested" in kinds(d)
    engine.flush()  # the job cannot reach the gateway: it backs off, the refusal stands
    d = dossier(app, code)
    assert "payment_refunded" not in kinds(d) and "step_failed" not in kinds(d)
    app.config["VNPAY_API_URL"] = good
    time.sleep(0.5)  # the backoff passes
    engine.flush()
    d = dossier(app, code)
    assert kinds(d).count("payment_refunded") == 1 and len(get(vnpay_gw.url + "/sim/refunds")) == 1

    # a second dossier whose payment was already refunded by hand at VNPay's merchant portal:
    # VNPay refuses to refund it again, staff are told, nothing is recorded as refunded
    code = file_dossier(app, make_spec([{"name": "payment", "config": {"gateway": "vnpay", **REFUNDABLE}}, "review"],
                                       version="r-bad2"))
    citizen_chooses(pay_url(app, code, "vnpay"), "pay")
    wait_for(lambda: dossier(app, code).status == Status.NEW)
    item = payments.online_payments(dossier(app, code))[0]
    order = payments.get_order(app.extensions["motcua"].store, item["txn_ref"])[0]
    by_hand = VNPayGateway(app.config).refund(Refund(ref="BYHAND1", order=order, transaction=item["transaction"],
                                                      amount=16000, reason="by hand"))
    assert by_hand.ok
    engine.perform(code, "refuse", DESK, reason="Sai thẩm quyền.")
    engine.flush()
    d = dossier(app, code)
    assert "payment_refunded" not in kinds(d) and kinds(d).count("payment_refund_refused") == 1
    refused = next(e for e in d.events if e.kind == "payment_refund_refused")
    assert refused.data["reason_code"] == "03"
    assert [i["amount"] for i in payments.online_payments(d)] == [16000]  # refused: not counted as given back
    assert "payment_refund_refused" not in kinds_of(citizen_events(d.events))  # staff only


def test_the_operators_sweep_reconciles_old_open_orders_only(app, vnpay_gw) -> None:
    from datetime import timedelta

    post(vnpay_gw.url + "/sim/ipn", {"lost": True})
    services = app.extensions["motcua"]
    paid_code = file_dossier(app, make_spec([{"name": "payment", "config": {"gateway": "vnpay"}}, "review"], version="s-1"))
    citizen_chooses(pay_url(app, paid_code, "vnpay"), "pay")
    waiting_code = file_dossier(app, make_spec([{"name": "payment", "config": {"gateway": "vnpay"}}, "review"], version="s-2"))
    urllib.request.urlopen(pay_url(app, waiting_code, "vnpay")).read()  # on the gateway's page, not paid

    assert payments.reconcile_stale(services, app.config, timedelta(minutes=15)) == {}  # too young to ask about
    assert payments.reconcile_stale(services, app.config, timedelta(0)) == {"ok": 1, "pending": 1}
    assert dossier(app, paid_code).status == Status.NEW and dossier(app, waiting_code).status == Status.PAYMENT_REQUESTED
    assert payments.reconcile_stale(services, app.config, timedelta(0)) == {"pending": 1}  # recorded once


def test_the_queue_sweeps_stale_orders_on_its_schedule(app, vnpay_gw) -> None:
    """The sweep is a scheduled job of the queue, not a cron line an operator must remember."""
    from motcua.jobs import TASKS
    from motcua.workflow import tasks

    assert TASKS["reconcile_payments"].cron == "*/5 * * * *"
    post(vnpay_gw.url + "/sim/ipn", {"lost": True})
    code = file_dossier(app, make_spec([{"name": "payment", "config": {"gateway": "vnpay"}}, "review"], version="s-3"))
    citizen_chooses(pay_url(app, code, "vnpay"), "pay")
    app.config["PAYMENT_RECONCILE_MINUTES"] = 60
    assert tasks.reconcile_payments(app) == {}  # too young
    assert dossier(app, code).status == Status.PAYMENT_REQUESTED
    app.config["PAYMENT_RECONCILE_MINUTES"] = 0
    assert tasks.reconcile_payments(app) == {"ok": 1}
    assert dossier(app, code).status == Status.NEW


def test_staff_check_the_payment_from_the_dossier_page(app, vnpay_gw) -> None:
    """The action as a clerk meets it: a button on the dossier page, a CSRF-protected post, the
    page saying it was done and what the gateway said."""
    import re

    from fixtures.workflow_kit import AGENCY
    from motcua import accounts

    post(vnpay_gw.url + "/sim/ipn", {"lost": True})
    store = app.extensions["motcua"].store
    accounts.create_account(store, "lan", "Nguyễn Thị Lan", ["desk"], [AGENCY], "mat-khau-dai-123")
    code = file_dossier(app, make_spec([{"name": "payment", "config": {"gateway": "vnpay"}}, "review"], version="s-page"))
    citizen_chooses(pay_url(app, code, "vnpay"), "pay")

    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/staff/login", data={"username": "lan", "password": "mat-khau-dai-123", "csrf_token": token}).status_code == 302
    page = client.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert "Kiểm tra trạng thái thanh toán" in page and 'value="check_payment"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"/staff/ho-so/{code}/xu-ly", data={"action": "check_payment"}).status_code == 400  # no CSRF
    done = client.post(f"/staff/ho-so/{code}/xu-ly", data={"action": "check_payment", "csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "Đã thực hiện" in done and "Cổng thanh toán xác nhận kết quả giao dịch" in done
    assert dossier(app, code).status == Status.NEW and 'value="check_payment"' not in done


def test_the_citizen_sees_the_refund_on_the_tracking_page(app, vnpay_gw) -> None:
    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec([{"name": "payment", "config": {"gateway": "vnpay", **REFUNDABLE}}, "review"],
                                       version="r-page"))
    citizen_chooses(pay_url(app, code, "vnpay"), "pay")
    from fixtures.workflow_kit import wait_for

    wait_for(lambda: dossier(app, code).status == Status.NEW)
    engine.citizen_withdraw(code, "Nộp nhầm.")

    def panel(lang: str) -> str:
        with app.test_request_context(f"/?lang={lang}"):
            from flask import g

            g.lang = lang
            return "".join(engine.citizen_panels(dossier(app, code)))

    for lang, text in (("vi", "Đang hoàn trả 16.000"), ("en", "Refunding VND 16,000")):
        assert text in panel(lang), (lang, panel(lang))
    engine.flush()
    for lang, text in (("vi", "Đã hoàn trả 16.000"), ("en", "of fees refunded through the payment gateway")):
        assert text in panel(lang) and "data-refunding" not in panel(lang), (lang, panel(lang))


@pytest.mark.parametrize("gateway", ["vnpay", "momo"])
def test_staff_refund_money_taken_twice(app, vnpay_gw, momo_gw, gateway) -> None:
    """Two tabs, two orders, both paid: the second payment is a surplus, and staff give it back
    through the gateway with one action (offered once, then gone)."""
    from fixtures.workflow_kit import wait_for

    server = vnpay_gw if gateway == "vnpay" else momo_gw
    pay = choose if gateway == "momo" else citizen_chooses
    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec([{"name": "payment", "config": {"gateway": gateway}}, "review"], version=f"t-{gateway}"))
    first, second = pay_url(app, code, gateway), pay_url(app, code, gateway)  # the second supersedes the first
    pay(second, "pay")
    wait_for(lambda: dossier(app, code).status == Status.NEW)
    pay(first, "pay")
    wait_for(lambda: "payment_surplus" in kinds(dossier(app, code)))
    assert "refund_surplus" in [a.name for a in engine.actions(dossier(app, code), DESK)]

    d = engine.perform(code, "refund_surplus", DESK)
    assert "refund_surplus" not in [a.name for a in engine.actions(d, DESK)]  # on its way: not offered twice
    [asked] = [e for e in d.events if e.kind == "payment_refund_requested"]
    assert asked.actor == "staff:desk" and "nộp thừa" in asked.note and get(server.url + "/sim/refunds") == []
    engine.flush()
    d = dossier(app, code)
    refunded = [e for e in d.events if e.kind == "payment_refunded"]
    assert len(refunded) == 1 and refunded[0].data["amount"] == 16000 and "nộp thừa" in refunded[0].note
    assert len(get(server.url + "/sim/refunds")) == 1
    assert payments.surpluses(d) == [] and "refund_surplus" not in [a.name for a in engine.actions(d, DESK)]
    assert d.status == Status.NEW and kinds(d).count("paid") == 1  # the fee itself stays paid


def test_a_gateway_that_cannot_refund_leaves_it_to_staff(app, vnpay_gw) -> None:
    from fixtures.workflow_kit import wait_for

    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec([{"name": "payment", "config": {"gateway": "vnpay", **REFUNDABLE}}, "review"],
                                       version="r-none"))
    citizen_chooses(pay_url(app, code, "vnpay"), "pay")
    wait_for(lambda: dossier(app, code).status == Status.NEW)
    app.config["VNPAY_API_URL"] = ""  # this deployment has no access to VNPay's merchant API
    d = engine.perform(code, "refuse", DESK, reason="Sai thẩm quyền.")
    assert "payment_refunded" not in kinds(d) and "step_failed" not in kinds(d)
    assert "payment_refund_requested" not in kinds(d)  # nothing to ask: staff are told at once
    refused = [e for e in d.events if e.kind == "payment_refund_refused"]
    assert len(refused) == 1 and refused[0].data["reason_code"] == "no_refund_api"
    assert get(vnpay_gw.url + "/sim/refunds") == []


def test_two_staff_refunding_the_surplus_at_once_record_one_refund(app, vnpay_gw) -> None:
    """Two clicks on "refund the surplus" at the same moment: the request is decided under
    the dossier's lock, so the second clerk sees the first's refund on its way and is told
    nothing is left to give back; one job, one refund at the gateway, one line on the timeline."""
    import threading

    from fixtures.workflow_kit import wait_for

    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec([{"name": "payment", "config": {"gateway": "vnpay"}}, "review"], version="t-race"))
    first, second = pay_url(app, code, "vnpay"), pay_url(app, code, "vnpay")
    citizen_chooses(second, "pay")
    wait_for(lambda: dossier(app, code).status == Status.NEW)
    citizen_chooses(first, "pay")
    wait_for(lambda: "payment_surplus" in kinds(dossier(app, code)))
    errors: list[Exception] = []
    barrier = threading.Barrier(2)

    def click() -> None:
        with app.app_context():
            barrier.wait()
            try:
                engine.perform(code, "refund_surplus", DESK)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(errors) <= 1 and all(isinstance(e, ActionNotAllowed) for e in errors), errors
    assert kinds(dossier(app, code)).count("payment_refund_requested") == 1
    engine.flush()
    d = dossier(app, code)
    assert len([e for e in d.events if e.kind == "payment_refunded"]) == 1
    assert len(get(vnpay_gw.url + "/sim/refunds")) == 1
    assert payments.surpluses(d) == []
