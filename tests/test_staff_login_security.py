"""The staff login as an attacker sees it: copied cookies, lock-outs, username probing,
hostile `next` targets."""

from __future__ import annotations

import itertools
import re
from urllib.parse import urlsplit

import pytest

from motcua import accounts
from motcua.web.redirects import local_path
from tests.test_backoffice import PASSWORD, csrf_of, login, logged_in, office, two_agency_specs  # noqa: F401


def _from(app, address: str):
    """A browser at `address` (each with its own cookies)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _session_cookie(app, client) -> str:
    return client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session")).value


# --- the session ends on the server --------------------------------------------------------


def test_logout_ends_the_session_for_every_copy_of_its_cookie(office):
    client = logged_in(office, "lan")
    copied = office.test_client()
    copied.set_cookie(office.config.get("SESSION_COOKIE_NAME", "session"), _session_cookie(office, client))
    assert copied.get("/staff/").status_code == 200  # a stolen cookie works while the session lives
    token = csrf_of(client.get("/staff/").get_data(as_text=True))
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 302
    assert copied.get("/staff/").status_code == 302
    assert copied.get("/staff/").location.startswith("/staff/login")


@pytest.mark.parametrize("end", ["password", "disable"])
def test_a_password_change_or_a_disabled_account_ends_every_session(office, end):
    store = office.extensions["motcua"].store
    first, second = logged_in(office, "lan"), logged_in(office, "lan")
    if end == "password":
        accounts.set_password(store, "lan", "mat-khau-moi-rat-dai-2")
    else:
        accounts.set_active(store, "lan", False)
        accounts.set_active(store, "lan", True)  # enabling again does not revive old sessions
    assert first.get("/staff/").status_code == 302 and second.get("/staff/").status_code == 302
    assert [sid for sid, info in store.records(accounts.SESSIONS).all() if info["username"] == "lan"] == []


def test_logging_out_in_one_browser_keeps_the_other_logged_in(office):
    desk, laptop = logged_in(office, "lan"), logged_in(office, "lan")
    token = csrf_of(desk.get("/staff/").get_data(as_text=True))
    desk.post("/staff/logout", data={"csrf_token": token})
    assert laptop.get("/staff/").status_code == 200


def test_a_forged_or_old_style_session_opens_nothing(office):
    """A cookie signed with the right key but naming no server-side session (as every
    session cookie before this change did) is not a login."""
    client = office.test_client()
    with client.session_transaction() as session:
        session["staff"] = {"username": "lan", "at": "2099-01-01T00:00:00+00:00", "stamp": "x"}
    assert client.get("/staff/").status_code == 302
    with client.session_transaction() as session:
        session["staff"] = {"username": "lan", "sid": "guessed", "stamp": "x"}
    assert client.get("/staff/").status_code == 302


# --- throttling: nobody locks anybody else out ---------------------------------------------


def test_a_stranger_cannot_lock_the_real_user_out(office):
    stranger = _from(office, "203.0.113.7")
    for _ in range(3 * accounts.LoginLimits().per_account):
        assert login(stranger, "lan", "doan-mat-khau").status_code in (401, 429)
    assert login(stranger, "lan").status_code == 429  # the stranger is refused, even with the password
    assert login(_from(office, "198.51.100.20"), "lan").status_code == 302  # lan, elsewhere, is not


def test_a_browser_the_user_logged_in_from_gets_in_during_an_attack_from_its_own_network(office):
    """The office shares one address with the attacker, and the attack is spread over many
    addresses too: the browser lan logged in from before still gets in."""
    office.config.update(LOGIN_FAILURES_PER_CLIENT=10, LOGIN_FAILURES_PER_ACCOUNT_NEW=10)
    own = _from(office, "192.0.2.1")
    assert login(own, "lan").status_code == 302  # gets the device cookie
    token = csrf_of(own.get("/staff/").get_data(as_text=True))
    own.post("/staff/logout", data={"csrf_token": token})
    attacker = _from(office, "192.0.2.1")  # same NAT address
    for i in range(12):
        login(attacker, f"user{i}", "x" * 12)
    for i in range(12):
        login(_from(office, f"10.1.0.{i + 1}"), "lan", "doan-mat-khau")
    assert login(attacker, "minh").status_code == 429  # this address is spent for cookie-less browsers
    assert login(_from(office, "10.9.9.9"), "lan").status_code == 429  # new browsers wait out the attack
    assert login(own, "lan").status_code == 302


def test_one_client_is_limited_across_usernames(office):
    office.config.update(LOGIN_FAILURES_PER_CLIENT=8)
    sprayer = _from(office, "203.0.113.50")
    answers = [login(sprayer, f"ten{i}", "mat-khau-pho-bien").status_code for i in range(8)]
    assert answers == [401] * 8
    assert login(sprayer, "minh").status_code == 429  # even a real account with its password


def test_unknown_usernames_and_wrong_passwords_look_the_same(office):
    """Same status, same page (but for the name typed in), same throttling, one hash each."""
    from werkzeug import security

    calls = []
    real = security.check_password_hash
    office.config.update(LOGIN_FAILURES_PER_ACCOUNT=3)

    def counted(pwhash, password):
        calls.append(1)
        return real(pwhash, password)

    pages = {}
    store = office.extensions["motcua"].store
    accounts.create_account(store, "tat", "Tạ Văn Tắt", ["desk"], ["000.06.50.H15"], PASSWORD)
    accounts.set_active(store, "tat", False)
    for name in ("lan", "khongco", "tat"):
        client = _from(office, "203.0.113.9")
        seen = []
        for _ in range(4):
            token = csrf_of(client.get("/staff/login").get_data(as_text=True))
            calls.clear()
            accounts.check_password_hash, before = counted, accounts.check_password_hash
            try:
                response = client.post("/staff/login", data={"username": name, "password": "sai-mat-khau-1", "csrf_token": token})
            finally:
                accounts.check_password_hash = before
            page = re.sub(r'name="csrf_token" value="[^"]+"', "", response.get_data(as_text=True))
            seen.append((response.status_code, len(calls), page.replace(f'value="{name}"', "NAME")))
        pages[name] = seen
    assert [s for s, _n, _p in pages["lan"]] == [401, 401, 401, 429]
    assert [n for _s, n, _p in pages["lan"]] == [1, 1, 1, 0]
    assert pages["lan"] == pages["khongco"] == pages["tat"]


# --- where login sends you -----------------------------------------------------------------

HOSTILE = [
    "//evil.example/", "///evil.example", "////evil.example", "/\\evil.example", "\\\\evil.example",
    "/\\/evil.example", "https://evil.example/staff", "http:/staff", "javascript:alert(1)", "data:text/html,x",
    "/staff\r\nSet-Cookie: a=b", "/staff/\nLocation: //evil.example", "/staff/\r", "\r\n/staff", "/staff/\x00",
    "/staff/\t/evil", "/\t/evil.example", " /staff/", "/staff/ x", "/staff/\u2028", "/staff/\u0085", "/staff/\ufeff",
    "/%2F/evil.example", "/%2f%2fevil.example", "/%5Cevil.example", "/staff/%0d%0aSet-Cookie:a=b", "/staff/%00",
    "staff/", "", "?next=/staff", "#x", "/", "/thu-tuc/x", "/staffx", "/staff" + "a" * 3000,
    "/staff@evil.example", "/staff:80@evil.example", "\u3000//evil.example", "／／evil.example",
]
_PIECES = ["/", "//", "\\", "\r", "\n", "\r\n", "%0d", "%0a", "%2f", "%5c", "\t", " ", "evil.example", "staff", "@", ":"]
GENERATED = ["/staff" + "".join(p) for p in itertools.product(_PIECES, repeat=2)] + [
    "".join(p) for p in itertools.product(_PIECES, repeat=3)
]


def _check_location(target: str, location: str) -> None:
    assert not any(c in location for c in "\r\n\\\t\x00"), (target, location)
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc and not location.startswith("//"), (target, location)
    assert location.startswith("/staff"), (target, location)


def test_every_hostile_next_falls_back_to_the_queue(office):
    client = logged_in(office, "lan")
    for target in HOSTILE:
        response = client.get("/staff/login", query_string={"next": target})
        if "\x00" in target:  # refused for every request (web/text_guard.py), redirected nowhere
            assert response.status_code == 400, target
            continue
        assert response.status_code == 302, (target, response.status_code)
        if local_path(target, "/staff") is None:
            assert response.location == "/staff/", target
        _check_location(target, response.location)


def test_generated_next_values_never_leave_the_site_or_break_the_response(office):
    client = logged_in(office, "lan")
    for target in GENERATED:
        response = client.get("/staff/login", query_string={"next": target})
        assert response.status_code == 302, (target, response.status_code)
        _check_location(target, response.location)


def test_next_with_a_line_break_after_a_real_login_is_no_500(office):
    client = office.test_client()
    token = csrf_of(client.get("/staff/login").get_data(as_text=True))
    response = client.post("/staff/login", data={"username": "lan", "password": PASSWORD, "csrf_token": token,
                                                 "next": "/staff/\r\nSet-Cookie: x=1"})
    assert response.status_code == 302 and response.location == "/staff/"


def test_good_targets_are_kept():
    for target in ("/staff/", "/staff", "/staff/ho-so/H12.31-250901-0001?x=1#top", "/staff/?q=Nguy%E1%BB%85n&page=2",
                   "/staff/ho-so/Nguyễn"):
        assert local_path(target, "/staff") == target
    assert all(local_path(t, "/staff") is None for t in HOSTILE if not t.startswith("/staff/") and t != "/staff")


def test_officers_taking_turns_at_a_shared_desk_computer_each_keep_their_browser(office):
    """One device cookie per account: minh logging in at lan's desk PC does not make it a
    new browser for lan, whom strangers then lock out with the per-account limit."""
    office.config.update(LOGIN_FAILURES_PER_CLIENT=10, LOGIN_FAILURES_PER_ACCOUNT_NEW=10)
    desk = _from(office, "192.0.2.1")
    for _ in range(2):
        for user in ("lan", "minh"):
            assert login(desk, user).status_code == 302
            desk.post("/staff/logout", data={"csrf_token": csrf_of(desk.get("/staff/").get_data(as_text=True))})
    for i in range(12):
        login(_from(office, f"10.1.0.{i + 1}"), "lan", "doan-mat-khau")
    assert login(_from(office, "10.9.9.9"), "lan").status_code == 429  # the attack is on
    assert login(desk, "lan").status_code == 302
    desk.post("/staff/logout", data={"csrf_token": csrf_of(desk.get("/staff/").get_data(as_text=True))})
    assert login(desk, "minh").status_code == 302


def test_a_login_over_a_live_session_ends_that_session_on_the_server(office):
    """The previous user did not log out: her session record is deleted, so a copy of her
    cookie opens nothing after the next officer logs in at that browser."""
    desk = _from(office, "192.0.2.1")
    assert login(desk, "lan").status_code == 302
    copied = office.test_client()
    copied.set_cookie(office.config.get("SESSION_COOKIE_NAME", "session"), _session_cookie(office, desk))
    assert copied.get("/staff/").status_code == 200
    sessions = office.extensions["motcua"].store.records(accounts.SESSIONS)
    assert [info["username"] for _, info in sessions.all()] == ["lan"]
    token = csrf_of(desk.get("/staff/").get_data(as_text=True))  # the login form is not shown now; a POST still logs in
    response = desk.post("/staff/login", data={"username": "minh", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert [info["username"] for _, info in sessions.all()] == ["minh"]
    assert copied.get("/staff/").status_code == 302
