"""Smaller holes closed: draft links after filing, deep JSON, session binding, feedback
visibility, cookies, demo accounts, public URLs."""

from __future__ import annotations

from motcua import drafts
from tests.portal_helpers import BIRTH_CODE
from tests.test_portal_tracking import filed


def _draft_of(app, code: str) -> str:
    """A draft whose dossier was filed (what the portal leaves behind after filing)."""
    with app.app_context():
        records = app.extensions["motcua"].store.records("drafts")
        token, draft = drafts.new(records, app.extensions["motcua"].catalogue.get(BIRTH_CODE))
        draft["filed_code"] = code
        drafts.save(records, token, draft)
    return token


def test_a_draft_link_alone_does_not_open_the_filed_dossier(app):
    code = filed(app.test_client())
    token = _draft_of(app, code)
    holder = app.test_client()  # has the draft link, not the second factor
    for url in (f"/thu-tuc/{BIRTH_CODE}/nop/{token}", f"/thu-tuc/{BIRTH_CODE}/nop/{token}/kiem-tra"):
        page = holder.get(url)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert code in html and "/tra-cuu?code=" in html
        assert "Lê Gia Bảo" not in html  # nothing of the dossier itself
    assert holder.get(f"/ho-so/{code}").status_code == 302  # still asks for the factor
    assert holder.get(f"/ho-so/{code}/xac-nhan").status_code == 404


def test_deeply_nested_json_is_a_400(client):
    deep = "[" * 100_000 + "]" * 100_000
    response = client.post(f"/api/v1/procedures/{BIRTH_CODE}/dossiers", data=deep, content_type="application/json")
    assert response.status_code == 400
    nested = {"answers": {}}
    node = nested["answers"]
    for _ in range(60):
        node["a"] = {}
        node = node["a"]
    assert client.post(f"/api/v1/procedures/{BIRTH_CODE}/dossiers", json=nested).status_code == 400


def test_the_session_cookie_carries_no_part_of_the_password_hash(app, client):
    import re as _re

    from motcua import accounts

    store = app.extensions["motcua"].store
    user = accounts.create_account(store, "canbo", "Trần Thị Lan", ["desk"], ["000.06.50.H15"], "mat-khau-rat-dai-2025")
    token = _re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/login").get_data(as_text=True)).group(1)
    client.post("/staff/login", data={"username": "canbo", "password": "mat-khau-rat-dai-2025", "csrf_token": token})
    assert client.get("/staff/").status_code == 200
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    data = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    stamp = data["staff"]["stamp"]
    assert stamp and stamp not in user.password_hash
    accounts.set_password(store, "canbo", "mat-khau-moi-rat-dai-2025")  # a new password ends the session
    assert client.get("/staff/").status_code in (302, 401, 403)


def test_demo_accounts_are_disabled_on_a_normal_start(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from motcua import accounts
    from motcua.app import create_app
    from tests.conftest import SPECS, free_port, wait_for_server

    data = tmp_path / "data"
    app = create_app({"DATA_DIR": str(data), "SPECS_DIR": str(SPECS), "TESTING": True})
    store = app.extensions["motcua"].store
    made = accounts.ensure_demo_accounts(store, app.extensions["motcua"].catalogue)
    assert made and all(accounts.get_account(store, u.username).demo for u in made)
    accounts.set_active(store, "lanhdao", True)
    store.records(accounts.ACCOUNTS).update("lanhdao", lambda c: {**c, "demo": False})  # made before the flag existed
    store.close()

    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "motcua"), "serve", "--specs", str(SPECS), "--data", str(data),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_for_server(process, f"http://127.0.0.1:{port}/")
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=60)
    assert "demo account admin (published password) disabled" in err
    app = create_app({"DATA_DIR": str(data), "SPECS_DIR": str(SPECS), "TESTING": True})
    store = app.extensions["motcua"].store
    assert [u.username for u in accounts.all_accounts(store) if u.active] == []  # lanhdao by its password
    accounts.ensure_demo_accounts(store, app.extensions["motcua"].catalogue)  # a demo start again
    assert accounts.get_account(store, "admin").active
    store.close()


def test_head_requests_change_no_draft(app):
    """HEAD runs a GET view without a body and without a CSRF check (flask-wtf checks POSTs):
    a link checker following a resume link with HEAD must neither wipe a step's saved answers
    nor make a draft per request."""
    store = app.extensions["motcua"].store
    records = store.records("drafts")
    spec = app.extensions["motcua"].catalogue.get(BIRTH_CODE)
    client = app.test_client()
    assert client.head(f"/thu-tuc/{BIRTH_CODE}/nop").status_code == 200
    assert list(records.all()) == []
    with app.app_context():
        token, draft = drafts.new(records, spec)
        draft["values"] = {"requester": {"full_name": "Nguyễn Thị Lan"}}
        drafts.save(records, token, draft)
    saved = records.get(token)
    for step in drafts.steps(spec):
        assert client.head(f"/thu-tuc/{BIRTH_CODE}/nop/{token}/{step.id}").status_code in (200, 302)
    assert records.get(token) == saved
    assert [key for key, _ in records.all()] == [token]


def test_the_sync_table_keeps_registered_functions_not_per_request_closures(app):
    """`_App.ensure_sync` keeps its answers for the views and hooks registered at start; a
    closure made per request (`after_this_request`) must not grow the table for ever."""
    from flask import after_this_request

    @app.route("/_per_request_closure")
    def per_request_closure():
        @after_this_request
        def touch(response):
            return response
        return "ok"

    client = app.test_client()
    for _ in range(app._SYNC_KEPT + 100):
        assert client.get("/_per_request_closure").status_code == 200
    assert len(app.__dict__.get("_sync", {})) <= app._SYNC_KEPT
