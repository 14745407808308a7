"""Notifications: outbox per milestone, sender retries with backoff, the dev outbox page."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from conftest import LiveServer
from fixtures.workflow_kit import DESK, LEADER, file_dossier, make_spec, wait_for
from motcua.workflow.outbox import MAX_ATTEMPTS, Outbox, outbox_for
from motcua_plugins.simulators import messaging

STEPS = ["review", "notify"]


def test_milestones_written_to_outbox_and_page(app, client) -> None:
    engine = app.extensions["motcua"].engine
    code = file_dossier(app, make_spec(STEPS))
    engine.perform(code, "receive", DESK)
    engine.perform(code, "request_supplement", DESK, reason="Thiếu", missing="Giấy chứng sinh")
    assert engine.flush()  # the courier sends in the background, after the change is saved
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

    app = create_app({"DATA_DIR": str(tmp_path), "SPECS_DIR": str(SPECS), "PUBLIC_URL": "https://dichvucong.example.gov.vn"})
    try:
        assert app.test_client().get("/dev/outbox").status_code == 404
    finally:
        app.extensions["motcua"].store.close()


def test_sender_retries_with_backoff_then_gives_up(app) -> None:
    sim = messaging.create_app(api_key="K")
    with LiveServer(sim) as server:
        app.config.update(NOTIFY_URL=server.url, NOTIFY_API_KEY="K", NOTIFY_BACKOFF_SECONDS=10)
        import json
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(server.url + "/sim/fail-next", data=json.dumps({"count": 1}).encode(),
                                                      headers={"Content-Type": "application/json"}, method="POST"))
        code = file_dossier(app, make_spec(STEPS), email=None)
        assert app.extensions["motcua"].engine.flush()
        outbox = outbox_for(app.extensions["motcua"], app.config)
        [msg] = outbox.messages(code)
        assert msg["status"] == "pending" and msg["attempts"] == 1 and "503" in msg["error"]
        assert outbox.send_due() == {"sent": 0, "retry": 0, "failed": 0, "dropped": 0}  # not due yet
        later = datetime.now(timezone.utc) + timedelta(seconds=11)
        assert outbox.send_due(now=later)["sent"] == 1
        assert sim.extensions["messaging_sim"][0]["to"] == "0912345678"
        # a gateway that never answers: given up after MAX_ATTEMPTS, recorded
        from motcua.workflow.outbox import HttpSender

        down = Outbox(app.extensions["motcua"].store, HttpSender("http://127.0.0.1:9", "K"), backoff_seconds=0)
        down.enqueue("x:1:sms", code=code, channel="sms", to="0912345678", body="thử")
        for _ in range(MAX_ATTEMPTS):
            down.send_due()
        [gone] = [m for m in down.messages(code) if m["key"] == "x:1:sms"]
        assert gone["status"] == "failed" and gone["attempts"] == MAX_ATTEMPTS


def test_cli_retry_and_send_outbox(app, data_dir) -> None:
    from conftest import SPECS
    from motcua.cli import main

    code = file_dossier(app, make_spec(STEPS))
    app.extensions["motcua"].store.close()
    runner = CliRunner()
    result = runner.invoke(main, ["workflow", "retry", "--specs", str(SPECS), "--data", str(data_dir)], env={"MOTCUA_PUBLIC_URL": ""})
    assert result.exit_code == 1 and "PUBLIC_URL is not set" in result.output  # no public address, no start
    public = ["--public-url", "https://dichvucong.example.gov.vn"]
    result = runner.invoke(main, ["workflow", "retry", "--specs", str(SPECS), "--data", str(data_dir), *public])
    assert result.exit_code == 0 and "0 step call(s)" in result.output
    result = runner.invoke(main, ["workflow", "send-outbox", "--specs", str(SPECS), "--data", str(data_dir), *public])
    assert result.exit_code == 0 and "sent: 0" in result.output
    assert code


def test_held_messages_of_a_dead_process_are_sent_once_their_lease_is_over_unless_never_saved(app) -> None:
    """A process holds messages, then dies before (or after) saving the dossier."""
    from motcua.workflow.outbox import LEASE_SECONDS

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
    assert outbox.send_due()["sent"] == 0  # the holder's lease runs
    after = datetime.now(timezone.utc) + timedelta(seconds=LEASE_SECONDS + 1)
    assert outbox.send_due(now=after) == {"sent": 1, "retry": 0, "failed": 0, "dropped": 1}
    status = {m["key"]: m["status"] for m in outbox.messages(code)}
    assert status["k:saved"] == "sent" and status["k:never"] == "dropped"
