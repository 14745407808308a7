"""Filing a draft is all or nothing: the dossier and the draft's `filed_code` are stored
together, so a draft write that fails after the dossier was added leaves no dossier, and
the draft can be submitted again to file exactly one."""

from __future__ import annotations

import re

import pytest
from test_portal_filing import fill_to_check, text

from motcua.web import portal


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_draft_write_failing_after_the_dossier_leaves_no_dossier(app, client, backend, monkeypatch):
    real = portal.add_dossier
    fail = {"once": True}

    def add_then_fail(*args, **kwargs):  # the draft's change raises after the dossier is in
        dossier = real(*args, **kwargs)
        if fail.pop("once", False):
            raise RuntimeError("the draft write failed")
        return dossier

    monkeypatch.setattr(portal, "add_dossier", add_then_fail)
    store = app.extensions["motcua"].store
    base, token = fill_to_check(client)
    submit = re.search(r'name="submit_token" value="([^"]+)"', text(client.get(f"{base}/kiem-tra"))).group(1)
    with pytest.raises(RuntimeError):
        client.post(f"{base}/kiem-tra", data={"csrf_token": token, "submit_token": submit})
    assert store.dossiers.count() == 0
    first = client.post(f"{base}/kiem-tra", data={"csrf_token": token, "submit_token": submit})
    again = client.post(f"{base}/kiem-tra", data={"csrf_token": token, "submit_token": submit})
    assert first.status_code == 302 and "/xac-nhan" in first.headers["Location"]
    assert again.headers["Location"] == first.headers["Location"]
    assert store.dossiers.count() == 1
