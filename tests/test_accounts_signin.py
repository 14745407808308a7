"""Signing in with OpenID Connect against the identity provider simulator on a real port.

The portal is the real app (test client); the provider is motcua_plugins.simulators.identity over
HTTP, so Authlib fetches the discovery document, the JWKS and the tokens for real. Each way
a sign-in must fail has its own test.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import requests

from motcua import citizens
from motcua.app import create_app
from tests.conftest import SPECS, refused_port
from tests.identity_helpers import (  # noqa: F401 - fixtures
    CLIENT_ID,
    idp,
    oidc_app,
    oidc_client,
    pick,
    provider_config,
    sign_in,
    to_provider,
)
from tests.portal_helpers import csrf


def text(response) -> str:
    return response.get_data(as_text=True)


def accounts(app) -> list[citizens.Account]:
    return [citizens.Account.model_validate(v) for _k, v in app.extensions["motcua"].store.records(citizens.CITIZENS).all()]


def test_header_offers_sign_in_and_the_flow_uses_pkce_state_and_nonce(oidc_client):
    home = text(oidc_client.get("/"))
    assert 'href="/dang-nhap"' in home and "Đăng nhập" in home
    authorize = to_provider(oidc_client)
    params = parse_qs(urlsplit(authorize).query)
    assert params["response_type"] == ["code"] and params["client_id"] == [CLIENT_ID]
    assert params["code_challenge_method"] == ["S256"] and len(params["code_challenge"][0]) >= 43
    assert params["state"][0] and params["nonce"][0]
    assert "openid" in params["scope"][0].split()


def test_first_sign_in_creates_the_account_and_shows_who_is_signed_in(oidc_app, oidc_client):
    response = sign_in(oidc_client, "demo-citizen-an")
    assert response.status_code == 302 and response.headers["Location"].endswith("/ho-so-cua-toi")
    [account] = accounts(oidc_app)
    assert account.subject == "demo-citizen-an" and account.kind == "citizen"
    assert account.id_number == "001085012345" and account.level == 2 and account.name == "Nguyễn Văn An"
    page = text(oidc_client.get("/"))
    assert "Nguyễn Văn An" in page and "Đăng xuất" in page and "Hồ sơ của tôi" in page
    sign_in(oidc_client, "demo-citizen-an")  # the second time: the same account
    assert len(accounts(oidc_app)) == 1


def test_business_identity_makes_a_business_account(oidc_app, oidc_client):
    sign_in(oidc_client, "demo-business-motcua")
    [account] = accounts(oidc_app)
    assert account.kind == "business" and account.tax_code == "0108888888"
    assert account.business_name == "Công ty TNHH Dịch vụ Một Cửa" and account.legal_representative == "Nguyễn Văn An"


def test_next_path_after_sign_in_is_local_only(oidc_client):
    assert sign_in(oidc_client, next_path="/tra-cuu").headers["Location"].endswith("/tra-cuu")
    response = sign_in(oidc_client, next_path="//evil.example/x")
    assert response.headers["Location"].endswith("/ho-so-cua-toi")


def test_sign_out_ends_the_session_on_the_server(oidc_client):
    sign_in(oidc_client)
    cookie = oidc_client.get_cookie("session").value
    token = csrf(text(oidc_client.get("/")))
    response = oidc_client.post("/dang-xuat", data={"csrf_token": token})
    assert response.status_code == 302
    assert oidc_client.get("/ho-so-cua-toi").status_code == 302  # to the sign-in
    # The cookie copied before signing out opens nothing any more.
    oidc_client.set_cookie("session", cookie)
    response = oidc_client.get("/ho-so-cua-toi")
    assert response.status_code == 302 and "/dang-nhap" in response.headers["Location"]


def test_sign_out_needs_csrf(oidc_client):
    sign_in(oidc_client)
    assert oidc_client.post("/dang-xuat").status_code == 400
    assert oidc_client.get("/ho-so-cua-toi").status_code == 200


def _refused(client, response, *, signed_in_before: bool = False) -> None:
    assert response.status_code == 400, text(response)
    assert "Đăng nhập không thành công" in text(response)
    if not signed_in_before:
        assert client.get("/ho-so-cua-toi").status_code == 302  # not signed in


def test_forged_id_token_is_refused(oidc_app, oidc_client, idp):
    idp.post("/sim/next-id-token", {"kind": "forged"})
    _refused(oidc_client, sign_in(oidc_client))
    assert accounts(oidc_app) == []


def test_expired_id_token_is_refused(oidc_client, idp):
    idp.post("/sim/next-id-token", {"kind": "expired"})
    _refused(oidc_client, sign_in(oidc_client))


def test_id_token_for_another_audience_is_refused(oidc_client, idp):
    idp.post("/sim/next-id-token", {"kind": "wrong_audience"})
    _refused(oidc_client, sign_in(oidc_client))


def test_id_token_with_another_nonce_is_refused(oidc_client, idp):
    idp.post("/sim/next-id-token", {"kind": "wrong_nonce"})
    _refused(oidc_client, sign_in(oidc_client))


def test_id_token_from_another_issuer_is_refused(oidc_client, idp):
    idp.post("/sim/next-id-token", {"kind": "wrong_issuer"})
    _refused(oidc_client, sign_in(oidc_client))


def test_replayed_authorization_code_is_refused(oidc_app, idp):
    first, thief = oidc_app.test_client(), oidc_app.test_client()
    authorize = to_provider(first)
    callback = pick(authorize, "demo-citizen-an")
    assert first.get(callback).status_code == 302
    # The same code again, from the same browser (state is spent) and from another one.
    _refused(first, first.get(callback), signed_in_before=True)
    to_provider(thief)
    _refused(thief, thief.get(callback))


def test_replayed_code_with_a_fresh_state_is_refused_by_the_provider(oidc_app, idp, caplog):
    """The state checks out, the code was spent: the token endpoint says invalid_grant."""
    client = oidc_app.test_client()
    callback = pick(to_provider(client), "demo-citizen-an")
    assert client.get(callback).status_code == 302
    fresh = parse_qs(urlsplit(to_provider(client)).query)["state"][0]
    code = parse_qs(urlsplit(callback).query)["code"][0]
    _refused(client, client.get(f"/dang-nhap/vneid/ve?code={code}&state={fresh}"), signed_in_before=True)
    assert "invalid_grant" in caplog.text and "already used" in caplog.text


def test_state_mismatch_is_refused(oidc_client):
    callback = pick(to_provider(oidc_client), "demo-citizen-an")
    tampered = re.sub(r"state=[^&]+", "state=not-the-state-we-sent", callback)
    _refused(oidc_client, oidc_client.get(tampered))


def test_callback_from_another_browser_is_refused(oidc_app):
    """A code + state made for one browser's session do not sign another in (login CSRF)."""
    victim, attacker = oidc_app.test_client(), oidc_app.test_client()
    callback = pick(to_provider(attacker), "demo-citizen-binh")
    _refused(victim, victim.get(callback))


def test_key_rotation_is_followed(oidc_app, oidc_client, idp):
    sign_in(oidc_client)  # the JWKS is fetched and kept
    idp.post("/sim/rotate")
    idp.post("/sim/rotate")  # the key Authlib knew is no longer published
    other = oidc_app.test_client()
    assert sign_in(other, "demo-citizen-binh").status_code == 302
    assert other.get("/ho-so-cua-toi").status_code == 200


def test_provider_down_gives_a_clear_page_and_anonymous_paths_work(data_dir):
    dead = f"http://127.0.0.1:{refused_port()}"
    app = create_app({"DATA_DIR": str(data_dir), "SPECS_DIR": str(SPECS), "TESTING": True,
                      "IDENTITY_PROVIDERS": [provider_config(dead)]})
    try:
        client = app.test_client()
        response = client.get("/dang-nhap/vneid")
        assert response.status_code == 503
        assert "Chưa kết nối được" in text(response) and "tra cứu hồ sơ" in text(response).lower()
        assert client.get("/").status_code == 200
        assert client.get("/thu-tuc/1.001193/nop").status_code == 200
        assert client.get("/tra-cuu").status_code == 200
    finally:
        app.extensions["motcua"].store.close()


def test_provider_down_between_redirect_and_callback(oidc_app, oidc_client, idp):
    callback = pick(to_provider(oidc_client), "demo-citizen-an")
    idp.stop()
    response = oidc_client.get(callback)
    assert response.status_code == 503 and "Chưa kết nối được" in text(response)


def test_several_providers_get_a_choice_page(data_dir, idp):
    app = create_app({"DATA_DIR": str(data_dir), "SPECS_DIR": str(SPECS), "TESTING": True,
                      "IDENTITY_PROVIDERS": [provider_config(idp.url),
                                             provider_config(idp.url, "cong-quoc-gia", name="Cổng Dịch vụ công quốc gia")]})
    try:
        page = text(app.test_client().get("/dang-nhap"))
        assert 'data-provider="vneid"' in page and 'data-provider="cong-quoc-gia"' in page
        assert "Cổng Dịch vụ công quốc gia" in page
    finally:
        app.extensions["motcua"].store.close()


def test_no_provider_configured_means_no_sign_in_link(client):
    assert 'href="/dang-nhap"' not in text(client.get("/"))
    assert client.get("/dang-nhap").status_code == 404


def test_bad_provider_config_fails_at_start_with_a_clear_message(data_dir):
    import pytest

    with pytest.raises(RuntimeError, match=r"IDENTITY_PROVIDERS\[0\].*scopes.*openid"):
        create_app({"DATA_DIR": str(data_dir), "SPECS_DIR": str(SPECS), "TESTING": True,
                    "IDENTITY_PROVIDERS": [provider_config("http://127.0.0.1:9", scopes="profile")]})


def test_id_number_changed_at_the_provider_follows_the_subject(oidc_app, oidc_client, idp):
    sign_in(oidc_client, "demo-citizen-an")
    idp.post("/sim/identities/demo-citizen-an", {"id_number": "001085099999", "name": "Nguyễn Văn Anh"})
    sign_in(oidc_client, "demo-citizen-an")
    [account] = accounts(oidc_app)
    assert account.subject == "demo-citizen-an"
    assert account.id_number == "001085099999" and account.name == "Nguyễn Văn Anh"
    assert [h["id_number"] for h in account.id_history] == ["001085012345"]


def test_another_subject_with_the_same_id_number_is_another_account(oidc_app, idp):
    idp.post("/sim/identities/demo-citizen-binh", {"id_number": "001085012345"})
    sign_in(oidc_app.test_client(), "demo-citizen-an")
    sign_in(oidc_app.test_client(), "demo-citizen-binh")
    assert {a.subject for a in accounts(oidc_app)} == {"demo-citizen-an", "demo-citizen-binh"}


def test_simulator_discovery_and_jwks(idp):
    meta = requests.get(idp.url + "/.well-known/openid-configuration", timeout=5).json()
    assert meta["issuer"] == idp.url and meta["code_challenge_methods_supported"] == ["S256"]
    keys = requests.get(meta["jwks_uri"], timeout=5).json()["keys"]
    assert len(keys) == 2 and all(k["kty"] == "RSA" and k["kid"] and "d" not in k for k in keys)


def test_sign_in_gives_the_session_a_new_csrf_secret(oidc_app, oidc_client):
    """A CSRF secret known before sign-in (a session cookie planted in this browser) must not
    sign the forms of the signed-in citizen: sign-in replaces it, as it replaces the session id."""
    csrf(text(oidc_client.get("/thu-tuc/1.001193/nop")))  # an anonymous visit: the session gets its CSRF secret
    field = oidc_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    with oidc_client.session_transaction() as before:
        planted = before[field]
    sign_in(oidc_client, "demo-citizen-an")
    csrf(text(oidc_client.get("/thu-tuc/1.001193/nop")))
    with oidc_client.session_transaction() as after:
        assert after.get(field) and after[field] != planted
