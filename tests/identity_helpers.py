"""Fixtures for the sign-in tests: the identity provider simulator on a real local port and
an app configured to use it, and the browser's part of the authorization code flow."""

from __future__ import annotations

import functools
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from motcua.app import create_app
from motcua_plugins.simulators import identity as sim
from tests.conftest import SPECS, LiveServer, free_port

CLIENT_ID = "motcua-test"
CLIENT_SECRET = "test-secret-of-the-portal"
#: The test client's host: url_for(_external=True) builds the callback on it.
REDIRECT = "http://localhost/dang-nhap/vneid/ve"


class Provider:
    def __init__(self, server: LiveServer, app) -> None:
        self.server = server
        self.url = server.url
        self.state = app.extensions["identity_sim"]  # signs tokens with the provider's own key
        self.stopped = False

    def stop(self) -> None:
        """The provider goes down (its port closed)."""
        self.server.__exit__()
        self.stopped = True

    def post(self, path: str, json: dict | None = None) -> requests.Response:
        return requests.post(self.url + path, json=json or {}, timeout=5)


def provider_config(url: str, provider_id: str = "vneid", **extra) -> dict:
    return {"id": provider_id, "name": {"vi": "VNeID (thử)", "en": "VNeID (test)"}, "issuer": url,
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "scopes": "openid profile phone address email vneid business", "timeout": 3, **extra}


@functools.cache
def provider_keys() -> tuple:
    """One [current, previous] key pair for every provider a test process starts: each test's
    provider is its own (its own port, codes, identities; a rotation makes a new key), only
    the key material is made once (~90 ms of CPU a pair)."""
    return sim.new_key(), sim.new_key()


@pytest.fixture
def idp() -> Iterator[Provider]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = sim.create_app(url, {CLIENT_ID: {"secret": CLIENT_SECRET, "redirect_uris": [REDIRECT]}},
                         keys=list(provider_keys()))
    server = LiveServer(app, port=port).__enter__()
    provider = Provider(server, app)
    yield provider
    if not provider.stopped:
        server.__exit__()


@pytest.fixture
def oidc_app(data_dir, idp):
    app = create_app({"DATA_DIR": str(data_dir), "SPECS_DIR": str(SPECS), "TESTING": True,
                      "IDENTITY_PROVIDERS": [provider_config(idp.url)]})
    yield app
    app.extensions["motcua"].store.close()


@pytest.fixture
def oidc_client(oidc_app):
    return oidc_app.test_client()


def to_provider(client, next_path: str | None = None) -> str:
    """The portal's redirect to the provider's authorization page (its full URL)."""
    response = client.get("/dang-nhap" + (f"?next={next_path}" if next_path else ""))
    assert response.status_code == 302, response.get_data(as_text=True)
    response = client.get(response.headers["Location"])
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def pick(authorize_url: str, subject: str) -> str:
    """What the tester does on the provider's page: choose a demo identity; returns the
    callback URL (path + query) the provider sends the browser back to."""
    page = requests.get(authorize_url, timeout=5)
    assert page.status_code == 200, page.text
    params = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    response = requests.post(authorize_url.split("?")[0], data={**params, "identity": subject},
                             allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    back = urlsplit(response.headers["Location"])
    return f"{back.path}?{back.query}"


def sign_in(client, subject: str = "demo-citizen-an", next_path: str | None = None):
    """The whole flow; returns the portal's answer to the callback."""
    return client.get(pick(to_provider(client, next_path), subject))


def access_token(provider_url: str, subject: str = "demo-citizen-an") -> str:
    """An access token as another client of the provider (a mobile app) would get one:
    authorization code with PKCE, straight at the simulator."""
    import base64
    import hashlib
    import secrets

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "scope": "openid profile",
              "state": "s", "nonce": "n", "code_challenge": challenge, "code_challenge_method": "S256"}
    response = requests.post(provider_url + "/authorize", data={**params, "identity": subject}, allow_redirects=False, timeout=5)
    code = parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]
    response = requests.post(provider_url + "/token", auth=(CLIENT_ID, CLIENT_SECRET), timeout=5, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]
