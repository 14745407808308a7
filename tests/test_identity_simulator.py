"""The identity provider simulator's demo identities are valid Vietnamese identities, and it
enforces the protocol as a real provider does (PKCE, registered redirect, single-use code)."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest

from motcua import units
from motcua.formats import cccd_matches, is_cccd, is_tax_code, is_vn_mobile
from motcua_plugins.simulators import identity as sim

REDIRECT = "http://portal.test/dang-nhap/vneid/ve"


@pytest.mark.parametrize("subject", sorted(sim.DEMO_IDENTITIES))
def test_demo_identity_claims_are_valid(subject):
    who = sim.DEMO_IDENTITIES[subject]
    assert is_cccd(who["id_number"]) and int(who["id_number"][:3]) in (1, 48, 79)
    assert cccd_matches(who["id_number"], int(who["birthdate"][:4]), who["gender"])
    assert is_vn_mobile(who["phone_number"]) and who["account_level"] in (1, 2)
    place = units.commune(who["address"]["commune"])
    assert place is not None and place.province_code == who["address"]["province"]
    if who["account_type"] == "business":
        assert is_tax_code(who["tax_code"]) and len(who["tax_code"]) == 10
        assert who["business_name"] and who["legal_representative"]


def test_demo_identities_cover_both_levels_and_a_business():
    kinds = {(w["account_type"], w["account_level"]) for w in sim.DEMO_IDENTITIES.values()}
    assert ("citizen", 1) in kinds and ("citizen", 2) in kinds and any(k == "business" for k, _ in kinds)


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@pytest.fixture
def provider():
    return sim.create_app("http://idp.test", {"portal": {"secret": "s3cret", "redirect_uris": [REDIRECT]}}).test_client()


def _code(provider, verifier: str = "v" * 50, **changes) -> str:
    params = {"response_type": "code", "client_id": "portal", "redirect_uri": REDIRECT, "scope": "openid",
              "state": "st", "nonce": "nn", "code_challenge": _s256(verifier), "code_challenge_method": "S256", **changes}
    response = provider.post("/authorize", data={**params, "identity": "demo-citizen-an"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return parse_qs(urlsplit(response.location).query)["code"][0]


def _token(provider, code: str, verifier: str = "v" * 50, secret: str = "s3cret"):
    return provider.post("/token", auth=("portal", secret), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier})


def test_authorize_refuses_unregistered_redirect_and_missing_pkce(provider):
    base = {"response_type": "code", "client_id": "portal", "scope": "openid", "state": "s", "nonce": "n",
            "code_challenge": _s256("x" * 50), "code_challenge_method": "S256"}
    assert provider.get("/authorize", query_string={**base, "redirect_uri": "http://evil.test/cb"}).status_code == 400
    assert provider.get("/authorize", query_string={**base, "redirect_uri": REDIRECT, "code_challenge_method": "plain"}).status_code == 400
    assert provider.get("/authorize", query_string={**base, "redirect_uri": REDIRECT, "client_id": "other"}).status_code == 400
    assert provider.get("/authorize", query_string={**base, "redirect_uri": REDIRECT}).status_code == 200


def test_token_checks_pkce_client_secret_and_single_use(provider):
    assert _token(provider, _code(provider), verifier="w" * 50).get_json()["error"] == "invalid_grant"
    assert _token(provider, _code(provider), secret="wrong").status_code == 401
    code = _code(provider)
    assert _token(provider, code).status_code == 200
    again = _token(provider, code)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"


def test_denied_sign_in_goes_back_with_access_denied(provider):
    params = {"response_type": "code", "client_id": "portal", "redirect_uri": REDIRECT, "scope": "openid",
              "state": "st", "nonce": "nn", "code_challenge": _s256("v" * 50), "code_challenge_method": "S256"}
    response = provider.post("/authorize", data={**params, "identity": ""})
    assert parse_qs(urlsplit(response.location).query) == {"error": ["access_denied"], "state": ["st"]}


def test_rotation_keeps_the_previous_key_published(provider):
    before = {k["kid"] for k in provider.get("/jwks").get_json()["keys"]}
    new = provider.post("/sim/rotate").get_json()["kid"]
    after = {k["kid"] for k in provider.get("/jwks").get_json()["keys"]}
    assert new in after and len(after) == 2 and len(before & after) == 1
