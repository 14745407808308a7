"""Refunds through a gateway are jobs (motcua_plugins.payment_refunds): the change that decides
a refund records it as requested and never calls the gateway; a job does, under the refund
id; the answer is recorded once. Never twice: not when the job is retried, run again by an
administrator, deferred again when the dossier closes, nor when a worker is killed after the
gateway gave the money back and before the portal heard of it.

The real app and queue, the VNPay-shaped simulator over real HTTP (down: its API address
points that refuse connections), a real `motcua worker` process killed with SIGKILL.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import refused_port
from fixtures.worker_process import kill_worker, start_worker, stop_worker, wait_until_stalled
from fixtures.workflow_kit import DESK, file_dossier, kinds, make_spec, wait_for
from motcua import payments
from motcua.dossier import Status
from motcua.jobs import dead_jobs, rerun_dead
from motcua.web.labels import citizen_events
from test_payment import citizen_chooses
from test_payment_query_refund import REFUNDABLE, SECRET, dossier, get, pay_url, post, vnpay_gw  # noqa: F401 (fixture)


def _paid(app, version: str, config: dict | None = None) -> str:
    code = file_dossier(app, make_spec([{"name": "payment", "config": {"gateway": "vnpay", **(config or {})}}, "review"],
                                       version=version))
    citizen_chooses(pay_url(app, code, "vnpay"), "pay")
    wait_for(lambda: dossier(app, code).status == Status.NEW)
    return code


def _paid_twice(app, version: str) -> str:
    """Two tabs, two orders, both paid: the second payment is an overpayment to give back."""
    code = file_dossier(app, make_spec([{"name": "payment", "config": {"gateway": "vnpay"}}, "review"], version=version))
    first, second = pay_url(app, code, "vnpay"), pay_url(app, code, "vnpay")
    citizen_chooses(second, "pay")
    wait_for(lambda: dossier(app, code).status == Status.NEW)
    citizen_chooses(first, "pay")
    wait_for(lambda: "payment_surplus" in kinds(dossier(app, code)))
    return code


def _gateway_down(app) -> str:
    good = app.config["VNPAY_API_URL"]
    app.config.update(VNPAY_API_URL=f"http://127.0.0.1:{refused_port()}/merchant_webapi/api/transaction",
                      STEP_JOB_BACKOFF_SECONDS=0.2, STEP_JOB_ATTEMPTS=2)
    return good


def _until_dead(app) -> None:
    engine = app.extensions["motcua"].engine
    engine.flush()
    time.sleep(0.5)  # the backoff passes
    engine.flush()


def _staff_panel(app, code: str) -> str:
    services = app.extensions["motcua"]
    with app.test_request_context():
        return "".join(services.engine.staff_panels(services.store.dossiers.get(code)))


def test_the_change_asks_for_the_refund_and_the_job_asks_the_gateway(app, vnpay_gw) -> None:
    engine = app.extensions["motcua"].engine
    code = _paid(app, "rj-ask", REFUNDABLE)
    d = engine.perform(code, "refuse", DESK, reason="Sai thẩm quyền.")
    assert d.status == Status.REFUSED and kinds(d)[-1] == "payment_refund_requested"
    assert "payment_refund_requested" in [e.kind for e in citizen_events(d.events)]  # the citizen is told it is under way
    assert get(vnpay_gw.url + "/sim/refunds") == []  # the request asked nobody
    engine.flush()
    d = dossier(app, code)
    assert kinds(d).count("payment_refunded") == 1 and len(get(vnpay_gw.url + "/sim/refunds")) == 1
    engine.flush()  # nothing left to run
    assert len(get(vnpay_gw.url + "/sim/refunds")) == 1


def test_a_refund_the_gateway_never_answers_is_shown_to_staff_and_an_admin_runs_it_again(app, vnpay_gw) -> None:
    services = app.extensions["motcua"]
    code = _paid(app, "rj-dead", REFUNDABLE)
    good = _gateway_down(app)
    services.engine.perform(code, "refuse", DESK, reason="Sai thẩm quyền.")
    _until_dead(app)
    d = dossier(app, code)
    [dead] = dead_jobs(services.store)
    assert dead["task"] == "step_job" and dead["args"]["job"] == "refund", dead
    [failed] = [e for e in d.events if e.kind == "payment_refund_failed"]
    assert failed.data["refund_ref"] == dead["args"]["key"] and "Việc nền lỗi" in failed.note
    assert "payment_refund_failed" not in [e.kind for e in citizen_events(d.events)]  # staff only
    assert "data-refund-failed" in _staff_panel(app, code)
    assert payments.online_payments(d) == []  # still on its way: nobody asks for it a second time

    app.config["VNPAY_API_URL"] = good  # the gateway is back
    with app.test_request_context():
        assert rerun_dead(app, dead["id"], "staff:quantri")["queued"] is True
    services.engine.flush()
    d = dossier(app, code)
    assert kinds(d).count("payment_refunded") == 1 and len(get(vnpay_gw.url + "/sim/refunds")) == 1
    assert "data-refund-failed" not in _staff_panel(app, code) and dead_jobs(services.store) == []
    with app.test_request_context():  # a record restored from a backup, run again: nothing more
        job = {name: dead["args"][name] for name in ("step", "index", "job", "key", "arguments")}
        assert services.engine.rerun_job(code, "staff:quantri", "step_job", dead["args"]["key"], step_job=job) is False
    services.engine.flush()
    assert len(get(vnpay_gw.url + "/sim/refunds")) == 1


def test_an_overpayment_refund_that_died_is_asked_again_when_the_dossier_closes(app, vnpay_gw) -> None:
    """Closing a dossier drops its dead jobs (motcua.jobs.drop_dead): the overpayment's refund,
    whose job had given up, is deferred again rather than forgotten."""
    services = app.extensions["motcua"]
    code = _paid_twice(app, "rj-close")
    good = _gateway_down(app)
    services.engine.perform(code, "refund_surplus", DESK)
    _until_dead(app)
    assert "payment_refund_failed" in kinds(dossier(app, code)) and len(dead_jobs(services.store)) == 1
    app.config["VNPAY_API_URL"] = good
    d = services.engine.perform(code, "refuse", DESK, reason="Sai thẩm quyền.")  # this spec refunds no fee on refusal
    assert d.status == Status.REFUSED and dead_jobs(services.store) == []
    services.engine.flush()
    d = dossier(app, code)
    [refunded] = [e for e in d.events if e.kind == "payment_refunded"]
    assert refunded.data["amount"] == 16000 and "nộp thừa" in refunded.note
    assert [r["amount"] for r in get(vnpay_gw.url + "/sim/refunds")] == [1600000]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgresql", "tinydb"], indirect=True)
def test_a_worker_killed_after_the_gateway_refunded_leaves_one_refund(app, data_dir: Path, store_target: str,
                                                                      live_server, vnpay_gw, backend) -> None:
    store = app.extensions["motcua"].store
    code = _paid(app, f"rj-kill-{backend}", REFUNDABLE)
    app.extensions["motcua"].engine.citizen_withdraw(code, "Nộp nhầm.")
    [asked] = [e for e in dossier(app, code).events if e.kind == "payment_refund_requested"]
    post(vnpay_gw.url + "/sim/hold", {"count": 1})  # the first refund's answer is late
    settings = {"MOTCUA_STORE": store_target, "MOTCUA_PUBLIC_URL": live_server.url,
                "MOTCUA_VNPAY_PAY_URL": app.config["VNPAY_PAY_URL"], "MOTCUA_VNPAY_TMN_CODE": "MOTCUA01",
                "MOTCUA_VNPAY_HASH_SECRET": SECRET, "MOTCUA_VNPAY_API_URL": app.config["VNPAY_API_URL"],
                "MOTCUA_JOBS_STALLED_SECONDS": "3", "MOTCUA_CATCH_UP_GRACE_SECONDS": "1",
                "MOTCUA_STEP_JOB_BACKOFF_SECONDS": "0.2"}
    first = start_worker(data_dir, settings)
    try:
        wait_for(lambda: get(vnpay_gw.url + "/sim/held")["waiting"] == 1, timeout=120)  # however long the start takes
        assert len(get(vnpay_gw.url + "/sim/refunds")) == 1  # the bank gave the money back ...
        assert "payment_refunded" not in kinds(dossier(app, code))  # ... the portal does not know yet
    finally:
        kill_worker(first)  # mid-call
    if backend == "postgresql":
        wait_until_stalled(store, 3)  # the dead worker's heartbeat is stale: its job is queued again
    second = start_worker(data_dir, settings)
    try:
        wait_for(lambda: "payment_refunded" in kinds(dossier(app, code)), timeout=120)
    finally:
        err = stop_worker(second)
        post(vnpay_gw.url + "/sim/release", {"count": 10})
    d = dossier(app, code)
    assert kinds(d).count("payment_refunded") == 1, err
    refunds = get(vnpay_gw.url + "/sim/refunds")
    assert [(r["amount"], r["request_id"]) for r in refunds] == [(1600000, asked.data["refund_ref"])]  # asked twice, paid once
    assert payments.online_payments(d) == [] and dead_jobs(store) == []
