"""A filing's workflow start (issue 17, second pass): the cascade starts from the dossier the
filing just stored instead of reading it back, notices when it changed meanwhile, returns
what it saved; the notify step's texts are written by the job that sends them; a change's
message jobs go to the queue in one write. On both stores."""

from __future__ import annotations

import pytest

from conftest import BACKENDS
from fixtures.workflow_kit import file_dossier, make_spec
from motcua.dossier import Event
from motcua.jobs import Job, queue_for
from motcua.workflow import lifecycle
from motcua.workflow.outbox import outbox_for
from motcua_plugins.notify import NotifyStep
from tests.portal_helpers import BIRTH_CODE
from tests.test_api_portal import body

STEPS = ["review", "notify"]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_an_api_filing_reads_nothing_back_and_answers_what_was_saved(app, client, monkeypatch) -> None:
    dossiers = app.extensions["motcua"].store.dossiers
    reads: list[str] = []
    real_get = dossiers.get
    monkeypatch.setattr(dossiers, "get", lambda code: reads.append(code) or real_get(code))
    response = client.post(f"/api/v1/procedures/{BIRTH_CODE}/dossiers", json=body())
    assert response.status_code == 201, response.get_data(as_text=True)
    assert reads == []  # stored, settled and answered without reading the dossier back
    answer = response.get_json()
    saved = real_get(answer["code"])
    assert (answer["status"], answer["fee_total"], answer["due_date"]) == (
        int(saved.status), saved.fee_total, saved.due_date.isoformat())
    assert lifecycle.engine_state(saved)["dispatched"] > 0  # its workflow ran and was saved


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_an_api_filing_writes_its_dossier_once_already_started(app, client, monkeypatch) -> None:
    """Issue 17, third pass: the steps' first reactions run before the dossier's one write."""
    dossiers = app.extensions["motcua"].store.dossiers
    writes: list[tuple[str, int]] = []
    real_add, real_update = dossiers.add, dossiers.update
    monkeypatch.setattr(dossiers, "add", lambda d: writes.append(
        ("add", lifecycle.engine_state(d).get("dispatched", 0))) or real_add(d))
    monkeypatch.setattr(dossiers, "update", lambda code, change: writes.append(("update", 0)) or real_update(code, change))
    response = client.post(f"/api/v1/procedures/{BIRTH_CODE}/dossiers", json=body())
    assert response.status_code == 201, response.get_data(as_text=True)
    assert len(writes) == 1 and writes[0][0] == "add" and writes[0][1] > 0  # one write, the workflow in it
    code = response.get_json()["code"]
    saved = dossiers.get(code)
    assert lifecycle.engine_state(saved)["dispatched"] == len(saved.events)
    held = outbox_for(app.extensions["motcua"], app.config).messages(code)
    assert held and {m["status"] for m in held} == {"pending"}  # its messages, held with it


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_the_cascade_catches_a_change_made_after_the_filing_stored_it(app) -> None:
    services = app.extensions["motcua"]
    code = file_dossier(app, make_spec(STEPS), start=False)
    as_filed = services.store.dossiers.get(code)
    # someone else changes the dossier between the filing's write and its workflow start
    services.store.dossiers.update(code, lambda d: d.record(Event(actor="staff:an", kind="note", note="Gọi lại")))
    saved = services.engine.on_filed(code, as_filed)
    assert saved == services.store.dossiers.get(code)
    assert "note" in [e.kind for e in saved.events]  # not lost under the stale copy
    assert lifecycle.engine_state(saved)["dispatched"] == len(saved.events)  # the steps saw every event
    assert as_filed.events == services.store.dossiers.get(code).events[: len(as_filed.events)]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_the_notify_texts_are_written_by_the_job_that_sends_them(app) -> None:
    services = app.extensions["motcua"]
    code = file_dossier(app, make_spec(STEPS))
    outbox = outbox_for(services, app.config)
    waiting = outbox.messages(code)
    assert [(m["milestone"], m["channel"]) for m in waiting] == [("filed", "sms"), ("filed", "email")]
    assert all(m["body"] is None and m["render"]["step"] == "notify" for m in waiting)  # nothing formatted yet
    expected = {m["key"]: NotifyStep.render_message(m, app.config) for m in waiting}
    assert services.engine.flush()
    sent = {m["key"]: m for m in outbox.messages(code)}
    for key, text in expected.items():
        assert sent[key]["status"] == "sent"
        assert (sent[key]["body"], sent[key]["subject"]) == (text["body"], text["subject"])
    sms = next(m for m in sent.values() if m["channel"] == "sms")
    assert sms["body"].startswith(f"Ho so {code} (") and "da duoc nop" in sms["body"] and len(sms["body"]) <= 160
    email = next(m for m in sent.values() if m["channel"] == "email")
    assert email["subject"] == f"Đã nộp hồ sơ {code}" and "đã được nộp" in email["body"]


def test_several_jobs_deferred_in_one_write_all_run(app) -> None:
    from motcua.jobs import Task
    from motcua.jobs.embedded import EmbeddedQueue

    ran: list[str] = []
    note = Task("note", lambda flask_app, name: ran.append(name), lambda _c: 1, lambda _c: 1.0)
    queue = EmbeddedQueue(app.extensions["motcua"].store, app.config, {"note": note})
    try:
        queue.defer_many([Job("note", None, {"name": "a"}), Job("note", None, {"name": "b"})])
        assert queue.huey.pending_count() == 2
        assert queue.run_pending(app) == 2
        assert sorted(ran) == ["a", "b"]
    finally:
        queue.close()


def test_a_message_its_step_cannot_write_fails_at_once_and_shows_its_error(app) -> None:
    """A message asked for with `render` data that nothing can write any more (its step
    plugin uninstalled, data it cannot read) is `failed` with the error at its first try, so
    staff see it among the failed messages, instead of pending for ever with no attempt."""
    from motcua.jobs import GiveUp

    services = app.extensions["motcua"]
    code = file_dossier(app, make_spec(STEPS), start=False)
    outbox = outbox_for(services, app.config)
    services.engine.on_filed(code, services.store.dossiers.get(code))
    waiting = outbox.messages(code)
    key = waiting[0]["key"]
    outbox.records.update(code, lambda current: {**current, "messages": {
        **current["messages"], key: {**current["messages"][key], "render": {"step": "uninstalled-step"}}}})
    with pytest.raises(GiveUp):
        outbox.send_one(code, key)
    failed = next(m for m in outbox.messages(code) if m["key"] == key)
    assert failed["status"] == "failed" and failed["attempts"] == 1
    assert "uninstalled-step" in failed["error"]
    assert outbox.send_one(code, key) == "done"  # given up: not tried again by a job run twice
