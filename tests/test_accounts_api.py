"""`GET /api/v1/me` and `/api/v1/me/dossiers` with a bearer access token from the provider
(the simulator on a real port), and filing through the API as a signed-in citizen."""

from __future__ import annotations

import time

from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.identity_helpers import CLIENT_ID, access_token, idp, oidc_app, oidc_client, sign_in  # noqa: F401
from tests.test_accounts_dossiers import AN, file_birth


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_me_needs_a_token(oidc_client):
    for path in ("/api/v1/me", "/api/v1/me/dossiers"):
        response = oidc_client.get(path)
        assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.get_json()["errors"]
        assert oidc_client.get(path, headers={"Authorization": "Bearer "}).status_code == 401
        assert oidc_client.get(path, headers=bearer("not-a-jwt")).status_code == 401


def test_me_with_a_token_from_the_provider(oidc_client, idp):
    response = oidc_client.get("/api/v1/me", headers=bearer(access_token(idp.url, "demo-business-motcua")))
    assert response.status_code == 200, response.get_json()
    me = response.get_json()
    assert me["kind"] == "business" and me["tax_code"] == "0108888888" and me["level"] == 2


def test_forged_expired_and_foreign_tokens_are_refused(oidc_client, idp):
    good = access_token(idp.url)
    now = int(time.time())
    other_key = RSAKey.generate_key(2048, parameters={"kid": "x"})
    base = {"iss": idp.url, "sub": "demo-citizen-an", "aud": CLIENT_ID, "iat": now, "exp": now + 600}
    forged = jwt.encode({"alg": "RS256", "kid": "x"}, base, other_key)
    assert oidc_client.get("/api/v1/me", headers=bearer(forged)).status_code == 401
    unknown_issuer = jwt.encode({"alg": "RS256"}, {**base, "iss": "https://elsewhere.example"}, other_key)
    assert oidc_client.get("/api/v1/me", headers=bearer(unknown_issuer)).status_code == 401
    tampered = good.split(".")
    tampered[1] = tampered[1][:-2] + ("AA" if tampered[1][-2:] != "AA" else "BB")
    assert oidc_client.get("/api/v1/me", headers=bearer(".".join(tampered))).status_code == 401
    assert oidc_client.get("/api/v1/me", headers=bearer(good)).status_code == 200


def test_my_dossiers_through_the_api_are_the_accounts_only(oidc_app, idp):
    browser = oidc_app.test_client()
    sign_in(browser, "demo-citizen-an")
    code = file_birth(browser, AN)
    api = oidc_app.test_client()
    mine = api.get("/api/v1/me/dossiers", headers=bearer(access_token(idp.url, "demo-citizen-an"))).get_json()
    assert [d["code"] for d in mine["dossiers"]] == [code]
    assert mine["dossiers"][0]["asks"] == ["pay"] and mine["dossiers"][0]["procedure_name"] == "Đăng ký khai sinh"
    theirs = api.get("/api/v1/me/dossiers", headers=bearer(access_token(idp.url, "demo-citizen-binh"))).get_json()
    assert theirs["dossiers"] == []


def test_openapi_documents_me_with_bearer_security(client):
    from openapi_spec_validator import validate

    doc = client.get("/api/v1/openapi.json").get_json()
    validate(doc)
    assert doc["components"]["securitySchemes"]["identityProvider"]["scheme"] == "bearer"
    for path in ("/me", "/me/dossiers"):
        operation = doc["paths"][path]["get"]
        assert operation["security"] == [{"identityProvider": []}] and "401" in operation["responses"]


def test_expired_or_other_audience_tokens_signed_by_the_provider_are_refused(oidc_client, idp):
    now = int(time.time())
    base = {"iss": idp.url, "sub": "demo-citizen-an", "aud": CLIENT_ID, "iat": now - 7200}
    expired = idp.state.sign({**base, "exp": now - 3600}, typ="at+jwt")
    other_audience = idp.state.sign({**base, "aud": "another-client", "exp": now + 600}, typ="at+jwt")
    no_expiry = idp.state.sign(base, typ="at+jwt")
    for token in (expired, other_audience, no_expiry):
        assert oidc_client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert oidc_client.get("/api/v1/me", headers=bearer(idp.state.sign({**base, "exp": now + 600}))).status_code == 200


def test_malformed_tokens_get_401_never_an_error(oidc_client, idp):
    import base64
    import json

    def b64(value) -> str:
        raw = value if isinstance(value, bytes) else json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    good = access_token(idp.url)
    header = good.split(".")[0]
    weird = [
        "a.b.c", "...", "é.é.é", good + "x", good.replace(".", ".."), f"{b64([1])}.{b64([1])}.sig",
        f"{header}.{b64({'iss': idp.url})}.", f"{header}.{b64({'iss': [idp.url]})}.AAAA",
        f"{header}.{b64(b'not json')}.AAAA", f"{b64({'alg': 'none'})}.{b64({'iss': idp.url, 'sub': 'x', 'aud': CLIENT_ID, 'exp': 9999999999})}.",
        f"{b64({'alg': 'HS256', 'kid': 'x'})}.{b64({'iss': idp.url, 'sub': 'x', 'aud': CLIENT_ID, 'exp': 9999999999})}.AAAA",
    ]
    for token in weird:
        response = oidc_client.get("/api/v1/me", headers=bearer(token))
        assert response.status_code == 401, (token, response.status_code, response.get_data(as_text=True))
