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


def test_a_short_session_is_not_compressed_a_long_one_is_and_both_read_back(app):
    from itsdangerous import URLSafeTimedSerializer

    from motcua.web.kept_signer import COMPRESS_FROM

    signer = app.session_interface.get_signing_serializer(app)
    short, long = {"who": "An"}, {"codes": ["000.00.A5.H12-250601-0001"] * 40}
    assert not signer.dumps(short).startswith(".") and signer.loads(signer.dumps(short)) == short
    assert len(str(long)) > COMPRESS_FROM and signer.dumps(long).startswith(".")  # zlib: "." first
    assert signer.loads(signer.dumps(long)) == long
    # a cookie Flask's own signer wrote (compressed whenever shorter) still reads
    flask_made = URLSafeTimedSerializer([app.secret_key], salt="cookie-session", serializer=signer.serializer,
                                        signer_kwargs={"key_derivation": "hmac", "digest_method": signer.signer_kwargs["digest_method"]})
    assert signer.loads(flask_made.dumps(long)) == long and signer.loads(flask_made.dumps(short)) == short
