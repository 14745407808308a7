"""Notifications: outbox per milestone, sent by jobs that retry with backoff, the dev outbox page."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from conftest import LiveServer
from fixtures.workflow_kit import DESK, LEADER, file_dossier, make_spec, wait_for
from motcua.workflow.outbox import outbox_for
from motcua_plugins.simulators import messaging

STEPS = ["review", "notify"]


def test_milestones_written_to_outbox_and_page(app, client) -> None:
    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec(STEPS))
    engine.perform(code, "receive", DESK)
    engine.perform(code, "request_supplement", DESK, reason="Thiếu", missing="Giấy chứng sinh")
    assert engine.flush()  # the jobs send them after the change is saved (here: run in this process)
    messages = outbox_for(app.extensions["motcua"], app.config).messages(code)
    milestones = [(m["milestone"], m["channel"]) for m in messages]
    assert milestones == [("filed", "sms"), ("filed", "email"), ("received", "sms"), ("received", "email"),
                          ("supplement_requested", "sms"), ("supplement_requested", "email")]
    email = [m for m in messages if m["channel"] == "email" and m["milestone"] == "supplement_requested"][0]
    assert "cần bổ sung: Giấy chứng sinh" in email["body"] and email["to"] == "dan@example.vn"
    sms = [m for m in messages if m["channel"] == "sms" and m["milestone"] == "received"][0]
    assert "da duoc tiep nhan" in sms["body"] and sms["to"] == "0912345678"  # no diacritics in SMS
    assert all(m["status"] == "sent" for m in messages)  # the log sender
    page = client.get(f"/dev/outbox?code={code}").get_data(as_text=True)
    assert "cần bổ sung: Giấy chứng sinh" in page


def test_dev_outbox_hidden_in_production(tmp_path) -> None:
    from conftest import SPECS
    from motcua.app import create_app

    app = create_app({"DATA_DIR": str(tmp_path), "SPECS_DIR": str(SPECS), "PUBLIC_URL": "https://dichvucong.example.gov.vn",
                      "JOBS_IN_PROCESS": False})
    try:
        assert app.test_client().get("/dev/outbox", base_url="https://dichvucong.example.gov.vn").status_code == 404
    finally:
        app.extensions["motcua"].store.close()


def _fail_next(server: LiveServer, count: int) -> None:
    import json
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(server.url + "/sim/fail-next", data=json.dumps({"count": count}).encode(),
                                                  headers={"Content-Type": "application/json"}, method="POST"))


def test_sender_retries_with_backoff_then_gives_up(app) -> None:
    from motcua.jobs import dead_jobs
    from motcua.workflow.tasks import send_later

    sim = messaging.create_app(api_key="K")
    engine = app.extensions["motcua"].engine
    with LiveServer(sim) as server:
        app.config.update(NOTIFY_URL=server.url, NOTIFY_API_KEY="K", NOTIFY_BACKOFF_SECONDS=0.5)
        _fail_next(server, 1)
        code = file_dossier(app, make_spec(STEPS), email=None)
        assert engine.flush()
        outbox = outbox_for(app.extensions["motcua"], app.config)
        [msg] = outbox.messages(code)
        assert msg["status"] == "pending" and msg["attempts"] == 1 and "503" in msg["error"]
        assert engine.flush() and outbox.messages(code)[0]["attempts"] == 1  # the retry is not due yet
        wait_for(lambda: engine.flush() and outbox.messages(code)[0]["status"] == "sent", timeout=10)
        assert outbox.messages(code)[0]["attempts"] == 2
        assert [m["to"] for m in sim.extensions["messaging_sim"]] == ["0912345678"]
    # a gateway that never answers: given up after NOTIFY_MAX_ATTEMPTS, recorded, shown to admins
    app.config.update(NOTIFY_URL="http://127.0.0.1:9", NOTIFY_BACKOFF_SECONDS=0.01, NOTIFY_MAX_ATTEMPTS=3)
    assert outbox.enqueue("x:1:sms", code=code, channel="sms", to="0912345678", body="thử")
    send_later(app.extensions["motcua"].store, app.config, code, ["x:1:sms"])
    wait_for(lambda: engine.flush() and [m for m in outbox.messages(code) if m["key"] == "x:1:sms"][0]["status"] == "failed",
             timeout=20)
    [gone] = [m for m in outbox.messages(code) if m["key"] == "x:1:sms"]
    assert gone["attempts"] == 3 and "unreachable" in gone["error"]
    [dead] = dead_jobs(app.extensions["motcua"].store)
    assert dead["task"] == "send_message" and dead["args"] == {"code": code, "key": "x:1:sms"}
    assert "unreachable" in dead["error"]


def test_worker_and_jobs_commands(app, data_dir) -> None:
    from conftest import SPECS
    from motcua.cli import main

    code = file_dossier(app, make_spec(STEPS))  # its messages wait in the queue (no worker in tests)
    app.extensions["motcua"].store.close()
    runner = CliRunner()
    result = runner.invoke(main, ["worker", "--until-empty", "--specs", str(SPECS), "--data", str(data_dir)],
                           env={"MOTCUA_PUBLIC_URL": ""})
    assert result.exit_code == 1 and "PUBLIC_URL is not set" in result.output  # no public address, no start
    public = ["--public-url", "https://dichvucong.example.gov.vn"]
    result = runner.invoke(main, ["worker", "--until-empty", "--specs", str(SPECS), "--data", str(data_dir), *public])
    assert result.exit_code == 0, result.output
    from motcua.store import open_store

    store = open_store(str(data_dir))
    try:
        messages = [m for _, r in store.records("outbox").all() for m in r["messages"].values()]
        assert messages and all(m["status"] == "sent" for m in messages)  # the log sender, by the worker
    finally:
        store.close()
    result = runner.invoke(main, ["jobs", "--specs", str(SPECS), "--data", str(data_dir), *public])
    assert result.exit_code == 0 and "0 job(s) gave up" in result.output
    assert code


def test_held_messages_are_sent_once_unless_their_change_was_never_saved(app) -> None:
    """The embedded store writes messages before the dossier: a process that dies between
    leaves messages whose event is not in the dossier; they are dropped, never sent."""
    from motcua.jobs import Retry

    app.config.update(NOTIFY_LEASE_SECONDS=0.5)
    code = file_dossier(app, make_spec(STEPS))
    engine = app.extensions["motcua"].engine
    assert engine.flush()
    outbox = outbox_for(app.extensions["motcua"], app.config)
    filed = app.extensions["motcua"].store.dossiers.get(code).events[0]
    saved = {"key": "k:saved", "channel": "sms", "to": "0912345678", "body": "Đã nộp",
             "event": {"kind": filed.kind, "at": filed.at.isoformat()}}
    never = {**saved, "key": "k:never", "event": {"kind": "received", "at": datetime.now(timezone.utc).isoformat()}}
    assert outbox.hold(code, [saved, never]) == ["k:saved", "k:never"]
    assert outbox.hold(code, [saved]) == []  # the same key is never held twice
    # another sender holds k:saved (claimed, lease running): this one leaves it alone
    app.extensions["motcua"].store.records("outbox").update(code, lambda r: {**r, "messages": {
        **r["messages"], "k:saved": {**r["messages"]["k:saved"], "status": "sending", "claim": "other",
                                     "next_try": (datetime.now(timezone.utc) + timedelta(seconds=0.5)).isoformat()}}})
    try:
        outbox.send_one(code, "k:saved")
        raise AssertionError("sent while another sender held it")
    except Retry:
        pass
    assert outbox.send_one(code, "k:never") == "dropped"
    wait_for(lambda: datetime.now(timezone.utc) > datetime.fromisoformat(
        [m for m in outbox.messages(code) if m["key"] == "k:saved"][0]["next_try"]))
    assert outbox.send_one(code, "k:saved") == "sent"  # that sender died: its lease is over
    assert outbox.send_one(code, "k:saved") == "done"  # and never twice
    status = {m["key"]: m["status"] for m in outbox.messages(code)}
    assert status["k:saved"] == "sent" and status["k:never"] == "dropped"
