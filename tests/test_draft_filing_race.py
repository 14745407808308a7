"""A draft is filed once, even with a second tab posting steps while it is being filed."""

from __future__ import annotations

import re
import threading

import pytest

from motcua import drafts
from tests.portal_helpers import GOOD_ANSWERS
from tests.test_portal_filing import fill_to_check, text


def _token_of(base: str) -> str:
    return base.rstrip("/").rsplit("/", 1)[-1]


def _submit_token(client, base: str) -> str:
    return re.search(r'name="submit_token" value="([^"]+)"', text(client.get(f"{base}/kiem-tra"))).group(1)


def test_a_step_saved_from_a_page_loaded_before_filing_does_not_reopen_the_draft(app, client):
    base, csrf = fill_to_check(client)
    records = app.extensions["motcua"].store.records("drafts")
    token = _token_of(base)
    stale = dict(records.get(token))  # what a step post in a second tab loaded before filing
    submit = _submit_token(client, base)
    filed = client.post(f"{base}/kiem-tra", data={"csrf_token": csrf, "submit_token": submit})
    assert filed.status_code == 302 and "/xac-nhan" in filed.headers["Location"]
    code = records.get(token)["filed_code"]

    with pytest.raises(drafts.DraftFiled) as refused:
        drafts.save(records, token, stale)
    assert refused.value.code == code
    assert records.get(token)["filed_code"] == code and records.get(token)["submit_token"] is None
    # the second tab's old check page, posted again, files nothing new
    again = client.post(f"{base}/kiem-tra", data={"csrf_token": csrf, "submit_token": submit})
    assert again.status_code == 302 and code in again.headers["Location"]
    assert [d.code for d in app.extensions["motcua"].store.dossiers.all()] == [code]


def test_step_posts_racing_the_filing_post_leave_exactly_one_dossier_per_draft(app):
    """Real threads, each with its own client, on the real app and store: one files while
    others post a step of the same draft; then the old check page is posted once more."""
    app.config["WTF_CSRF_ENABLED"] = False  # what is raced here is the draft, not the token
    store = app.extensions["motcua"].store
    bases = []
    for _ in range(4):
        client = app.test_client()
        base, _csrf = fill_to_check(client)
        bases.append((base, _submit_token(client, base)))

    failures: list[BaseException] = []

    def run(target, *args) -> threading.Thread:
        def guarded() -> None:
            try:
                target(*args)
            except BaseException as error:  # noqa: BLE001 - reported by the test below
                failures.append(error)

        thread = threading.Thread(target=guarded)
        thread.start()
        return thread

    def file(base: str, submit: str, gate: threading.Barrier) -> None:
        gate.wait()
        assert app.test_client().post(f"{base}/kiem-tra", data={"submit_token": submit}).status_code == 302

    def step(base: str, gate: threading.Barrier) -> None:
        client = app.test_client()
        gate.wait()
        for _ in range(6):
            response = client.post(f"{base}/copies", data=GOOD_ANSWERS["copies"])
            assert response.status_code in (200, 302)

    for base, submit in bases:
        gate = threading.Barrier(4)
        threads = [run(file, base, submit, gate)] + [run(step, base, gate) for _ in range(3)]
        for thread in threads:
            thread.join(timeout=60)
        assert not failures, failures
        # the old check page of another tab, posted after the race
        app.test_client().post(f"{base}/kiem-tra", data={"submit_token": submit})

    codes = [d.code for d in store.dossiers.all()]
    assert len(codes) == len(bases) == len(set(codes))
    records = store.records("drafts")
    assert sorted(records.get(_token_of(base))["filed_code"] for base, _ in bases) == sorted(codes)
