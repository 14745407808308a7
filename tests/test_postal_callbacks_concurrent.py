"""Carrier callbacks sent at once, each with its own event id, are judged against the item's
status under the dossier's lock: a status is recorded once, a status behind the item's
latest never after it.

Found by probing a served portal: six signed "delivered" callbacks with distinct event ids
(a carrier retrying through several workers) all passed the unlocked status check and put
"delivered" on the timeline four times."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest

from fixtures.workflow_kit import file_dossier, kinds, make_spec
from motcua.dossier import Status
from motcua_plugins.carriers import vnpost
from test_postal import STEPS, carrier, finish  # noqa: F401

pytestmark = pytest.mark.usefixtures("jobs_run_at_once")


def _at_once(bodies: list[dict], url: str) -> list[int]:
    """POST each signed body from its own thread, all released together."""
    statuses: list[int] = [0] * len(bodies)
    barrier = threading.Barrier(len(bodies))

    def send(i: int) -> None:
        raw = json.dumps(bodies[i]).encode()
        request = urllib.request.Request(url + "/plugins/carriers/vnpost/callback", data=raw, method="POST",
                                         headers={"Content-Type": "application/json", "X-Signature": vnpost.sign(raw, "CB")})
        barrier.wait()
        try:
            statuses[i] = urllib.request.urlopen(request).status
        except urllib.error.HTTPError as exc:
            statuses[i] = exc.code

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def _delivery(app) -> tuple[str, str]:
    store = app.extensions["motcua"].store
    code = file_dossier(app, make_spec(STEPS, cod=True), delivery="postal", fee=16000)
    finish(app, code)
    return code, store.dossiers.get(code).steps["postal"]["shipments"]["delivery"]["item_number"]


def test_delivered_sent_at_once_under_several_event_ids_is_recorded_once(app, carrier, live_server) -> None:
    store = app.extensions["motcua"].store
    code, item = _delivery(app)
    bodies = [{"event_id": f"e{i}", "item_number": item, "reference": code, "kind": "delivery", "status": "delivered",
               "cod_collected": 16000} for i in range(6)]
    assert _at_once(bodies, live_server.url) == [200] * 6  # each answered: the carrier stops retrying
    dossier = store.dossiers.get(code)
    assert dossier.status == Status.RETURNED
    assert kinds(dossier).count("postal_status") == 1, kinds(dossier)
    assert [e.data.get("method") for e in dossier.events if e.kind == "paid"] == ["cod"]


def test_statuses_sent_at_once_never_record_one_behind_another(app, carrier, live_server) -> None:
    store = app.extensions["motcua"].store
    code, item = _delivery(app)
    order = ["picked_up", "in_transit", "delivered", "in_transit", "picked_up", "delivered"]
    bodies = [{"event_id": f"s{i}", "item_number": item, "reference": code, "kind": "delivery", "status": status,
               "cod_collected": 16000 if status == "delivered" else 0} for i, status in enumerate(order)]
    _at_once(bodies, live_server.url)
    recorded = [e.data["status"] for e in store.dossiers.get(code).events if e.kind == "postal_status"]
    assert recorded == sorted(set(recorded), key=vnpost.rank) and recorded[-1] == "delivered", recorded
