"""The national-portal status sync, through the registry only: with `SYNC = ["national"]`
each status change of a dossier is pushed to the national-portal simulator over real HTTP
with the national status code (1–10) and channel code (1 in person, 2 online, 3 post); a
portal that is down gets it later through the outbox's retries, and nothing is recorded
twice (idempotent by dossier code + event)."""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from conftest import LiveServer
from fixtures.workflow_kit import DESK, LEADER, file_dossier, make_spec, propose
from motcua.integrations import SYNC
from motcua.workflow.outbox import outbox_for
from motcua_plugins.simulators import national_portal as national_sim

STEPS = ["review"]


@pytest.fixture
def portal(app):
    sim = national_sim.create_app("NATKEY")
    with LiveServer(sim) as server:
        app.config.update(SYNC=["national"], NATIONAL_PORTAL_URL=server.url, NATIONAL_PORTAL_KEY="NATKEY",
                          NOTIFY_BACKOFF_SECONDS=10)
        yield server, sim


def records(sim, code: str) -> list[dict]:
    return [r for r in sim.extensions["national_sim"]["records"] if r["MaHoSo"] == code]


def test_each_status_change_is_pushed_with_national_codes(app, portal) -> None:
    server, sim = portal
    assert "national" in SYNC.all()
    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec(STEPS), fee=0)
    engine.perform(code, "receive", DESK)
    engine.perform(code, "process", DESK)
    propose(engine, code)
    engine.perform(code, "approve", LEADER)
    engine.perform(code, "return_result", DESK)
    assert engine.flush()
    pushed = records(sim, code)
    assert [r["TrangThaiHoSo"] for r in pushed] == [1, 2, 4, 9, 10]
    assert {r["KenhThucHien"] for r in pushed} == {2}  # filed online
    assert pushed[0]["SuKien"] == "filed" and pushed[0]["MaTTHC"] and pushed[0]["MaDonVi"] == "000.06.50.H15"
    assert len({r["key"] for r in pushed}) == 5 and all(r["key"].startswith(f"sync:national:{code}:") for r in pushed)


@pytest.mark.parametrize(("channel", "national"), [("desk", 1), ("postal", 3)])
def test_channel_codes(app, portal, channel: str, national: int) -> None:
    server, sim = portal
    code = file_dossier(app, make_spec(STEPS), fee=0, channel=channel, delivery="desk")
    assert app.extensions["motcua"].engine.flush()
    assert [r["KenhThucHien"] for r in records(sim, code)] == [national]


def test_a_portal_that_is_down_gets_the_change_later_and_once(app, portal) -> None:
    server, sim = portal
    urllib.request.urlopen(urllib.request.Request(server.url + "/sim/outage", data=json.dumps({"count": 1}).encode(),
                                                  headers={"Content-Type": "application/json"}, method="POST"))
    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec(STEPS), fee=0)
    assert engine.flush()
    assert records(sim, code) == [] and sim.extensions["national_sim"]["outage"]["refused"] == 1
    outbox = outbox_for(app.extensions["motcua"], app.config)
    [waiting] = [m for m in outbox.messages(code) if m["channel"] == "sync:national"]
    assert waiting["status"] == "pending" and "503" in waiting["error"]
    assert engine.flush() and records(sim, code) == []  # its retry is not due yet (backoff)
    app.config.update(NOTIFY_BACKOFF_SECONDS=0.1)  # (the job's next retry was set with 10 s)
    from motcua.workflow.tasks import send_message

    assert send_message(app, code, waiting["key"]) == "sent"  # what that retry job does
    assert engine.flush()  # and the job, when it runs, finds nothing left to send
    assert [r["TrangThaiHoSo"] for r in records(sim, code)] == [1]
    # the same message sent again (a sender that died before saving "sent"): recorded once
    from motcua_plugins.sync.national_portal import NationalPortalSync

    NationalPortalSync(app.config).push(waiting)
    assert len(records(sim, code)) == 1
    # a later change of the dossier does not queue the old event again
    engine.perform(code, "receive", DESK)
    assert engine.flush()
    assert [r["TrangThaiHoSo"] for r in records(sim, code)] == [1, 2]
    assert len([m for m in outbox.messages(code) if m["channel"] == "sync:national"]) == 2


def test_without_sync_configured_nothing_is_queued(app) -> None:
    code = file_dossier(app, make_spec(STEPS), fee=0)
    assert app.extensions["motcua"].engine.flush()
    outbox = outbox_for(app.extensions["motcua"], app.config)
    assert not [m for m in outbox.messages(code) if m["channel"].startswith("sync:")]
