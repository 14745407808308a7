"""The CSRF tokens forms carry (motcua.web.csrf_token) and the signer behind them and the
session cookie (motcua.web.kept_signer): made more cheaply than flask-wtf and Flask make
them, yet checked by flask-wtf exactly as before, one per visitor, bound to that visitor's
session, and byte-for-byte what itsdangerous itself writes."""

from __future__ import annotations

import hashlib
import time

import pytest
from flask import session
from flask_wtf.csrf import generate_csrf, validate_csrf
from itsdangerous import Signer, TimestampSigner, URLSafeTimedSerializer
from wtforms import ValidationError

from portal_helpers import BIRTH_CODE, GOOD_ANSWERS, csrf

FORM = f"/thu-tuc/{BIRTH_CODE}/nop"


def _cookie(response) -> str:
    header = response.headers.get("Set-Cookie", "")
    assert header.startswith("session="), header
    return header.split(";", 1)[0].split("=", 1)[1]


def test_a_token_made_here_is_checked_by_flask_wtf_and_flask_wtfs_own_still_passes(app):
    from motcua.web.csrf_token import csrf_token

    with app.test_request_context("/"):
        ours = csrf_token()
        assert csrf_token() == ours  # one per request
        validate_csrf(ours)  # flask-wtf's own check: no exception
        raw = session["csrf_token"]
        assert len(raw) == 40 and int(raw, 16) >= 0  # 160 random bits in hex, like flask-wtf's
    with app.test_request_context("/"):
        session["csrf_token"] = raw  # the same visitor, another request
        theirs = generate_csrf()  # flask-wtf's maker, same session value
        validate_csrf(theirs)
        from flask import g

        del g.csrf_token
        validate_csrf(csrf_token())


def test_a_token_is_refused_with_another_visitors_session_another_key_or_changed(app):
    from motcua.web.csrf_token import csrf_token

    with app.test_request_context("/"):
        token = csrf_token()
    with app.test_request_context("/"):
        csrf_token()  # this visitor's own value in the session
        with pytest.raises(ValidationError, match="do not match"):
            validate_csrf(token)
    with app.test_request_context("/"):
        mine = csrf_token()
        with pytest.raises(ValidationError, match="invalid"):
            validate_csrf(mine[:-2] + ("AA" if not mine.endswith("AA") else "BB"))
        forged = URLSafeTimedSerializer("not-the-app-key", salt="wtf-csrf-token").dumps(session["csrf_token"])
        with pytest.raises(ValidationError, match="invalid"):
            validate_csrf(forged)


def test_each_new_visitor_gets_a_cookie_and_a_token_of_their_own_and_posts_with_it(app):
    first, second = app.test_client(), app.test_client()
    page_one, page_two = first.get(FORM), second.get(FORM)
    assert page_one.status_code == page_two.status_code == 200
    token_one, token_two = csrf(page_one.get_data(as_text=True)), csrf(page_two.get_data(as_text=True))
    assert token_one != token_two and _cookie(page_one) != _cookie(page_two)
    assert "Cookie" in page_one.headers.get("Vary", "")
    # the second visitor's token in the first visitor's post: refused, as a forged form would be
    refused = first.post(FORM, data={**GOOD_ANSWERS["requester"], "csrf_token": token_two, "_action": "continue"})
    assert refused.status_code == 400
    no_token = first.post(FORM, data={**GOOD_ANSWERS["requester"], "_action": "continue"})
    assert no_token.status_code == 400
    # their own: the draft is made and the citizen is sent on to the next step
    accepted = first.post(FORM, data={**GOOD_ANSWERS["requester"], "csrf_token": token_one, "_action": "continue"})
    assert accepted.status_code == 302 and f"{FORM}/" in accepted.headers["Location"]


def test_a_kept_form_page_puts_each_visitors_own_token_in(app):
    """The form page is kept (motcua.web.page_cache): the token in it must still be the
    one this visitor's session signs, also for a visitor who already has a session."""
    client = app.test_client()
    tokens = [csrf(client.get(FORM).get_data(as_text=True)) for _ in range(3)]
    for token in tokens:  # each a fresh signature of the same session value: all good
        page = client.post(FORM, data={**GOOD_ANSWERS["requester"], "csrf_token": token, "_action": "continue"})
        assert page.status_code == 302


def test_the_kept_signer_writes_itsdangerous_bytes_and_reads_its_tokens():
    from motcua.web.kept_signer import KeptKeySigner, KeptSerializer

    key, value = b"k" * 32, b"eyJhIjoiYiJ9.axN2BA"
    for derivation in ("django-concat", "hmac"):
        ours = KeptKeySigner(key, salt="s", key_derivation=derivation, digest_method=hashlib.sha1)
        theirs = TimestampSigner(key, salt="s", key_derivation=derivation, digest_method=hashlib.sha1)
        assert ours.get_signature(value) == theirs.get_signature(value)
        assert ours.get_signature(value) == ours.get_signature(value)  # the derived key kept
        assert Signer.get_signature(ours, value) == theirs.get_signature(value)
    ours = KeptSerializer(["old-key", "new-key"], salt="wtf-csrf-token")
    theirs = URLSafeTimedSerializer(["old-key", "new-key"], salt="wtf-csrf-token")
    now = int(time.time())
    for payload in ("ab" * 20, {"codes": ["000.00.A5.H12-250601-0001"] * 40}):  # short: no zlib; long: zlib
        assert theirs.loads(ours.dumps(payload)) == payload
        assert ours.loads(theirs.dumps(payload)) == payload
    assert abs(theirs.loads(ours.dumps("x"), return_timestamp=True)[1].timestamp() - now) < 5
    rotated = URLSafeTimedSerializer("old-key", salt="wtf-csrf-token").dumps("v")
    assert ours.loads(rotated) == "v"  # a fallback key still reads
    with pytest.raises(Exception):
        KeptSerializer("new-key", salt="another-salt").loads(ours.dumps("v"))


def test_get_and_head_skip_the_check_and_every_other_method_is_checked(app):
    client = app.test_client()
    assert client.get(FORM).status_code == 200
    assert client.head(FORM).status_code == 200
    assert client.post(FORM, data={}).status_code == 400
    assert client.post("/staff/login", data={"username": "canbo", "password": "x"}).status_code == 400
