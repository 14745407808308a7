"""The session cookie's signer is made once per key set (motcua.web.session_cookie), and a
changed or rotated key is still honoured exactly as Flask's own interface does."""

from __future__ import annotations

from flask import session


def _app_with_routes(app):
    @app.get("/_set")
    def _set():
        session["who"] = "Nguyễn Văn An"
        return "set"

    @app.get("/_get")
    def _get():
        return session.get("who", "-")

    return app


def test_a_rotated_key_still_reads_old_cookies_and_a_dropped_one_does_not(app):
    _app_with_routes(app)
    client = app.test_client()
    client.get("/_set")
    assert client.get("/_get").get_data(as_text=True) == "Nguyễn Văn An"
    old = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "a-new-key-" + "x" * 32
    app.secret_key = app.config["SECRET_KEY"]
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    assert client.get("/_get").get_data(as_text=True) == "Nguyễn Văn An"  # signed with the old key
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get("/_get").get_data(as_text=True) == "-"  # the old key is gone: refused


def test_a_visitor_without_a_session_gets_no_cookie_but_a_vary(app):
    _app_with_routes(app)
    response = app.test_client().get("/_get")
    assert "Set-Cookie" not in response.headers
    assert "Cookie" in response.headers.get("Vary", "")
