"""A VNeID-like OpenID Connect provider for development, demo and tests.

A real OIDC provider in a small Flask app, speaking the protocol a real one speaks:
`/.well-known/openid-configuration` (discovery), `/jwks` (RS256 public keys, each with its
`kid`; `POST /sim/rotate` starts signing with a new key while the old one stays published,
as providers rotate), `/authorize` (the authorization code flow: a page where the tester
picks a demo person or business; PKCE S256 required), `/token` (client authenticated,
code single-use and short-lived, `code_verifier` checked) and `/userinfo` (bearer access
token). Tokens are JWTs signed with joserfc (Authlib's JOSE library; `authlib.jose` is
deprecated in its favour), keys generated at start with `cryptography`.

Demo identities carry the claims VNeID gives (DOMAIN.md, "Identity"): a 12-digit personal ID
consistent with birth date and sex, full name, birth date, sex, phone, permanent address
(province and commune codes of motcua.units) and account level; a business identity also
carries the tax code, business name and legal representative.

Test hooks under `/sim/` (never on a real provider): rotate keys, change an identity's
claims (`POST /sim/identities/<sub>`), and make the next ID token bad on purpose
(`POST /sim/next-id-token` with `expired`, `wrong_audience`, `wrong_nonce`, `wrong_issuer`
or `forged`) so tests prove the client refuses it.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, abort, jsonify, redirect, render_template_string, request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

CODE_SECONDS = 60
TOKEN_SECONDS = 600
ID_TOKEN_SECONDS = 300
BAD_ID_TOKENS = ("expired", "wrong_audience", "wrong_nonce", "wrong_issuer", "forged")

#: Demo identities by subject. Personal IDs follow DOMAIN.md: birth-registration province
#: (001 Hà Nội, 079 Hồ Chí Minh City, 048 Đà Nẵng), century+sex digit, birth year, 6 digits.
DEMO_IDENTITIES: dict[str, dict[str, Any]] = {
    "demo-citizen-an": {
        "account_type": "citizen",
        "name": "Nguyễn Văn An",
        "id_number": "001085012345",
        "birthdate": "1985-03-12",
        "gender": "male",
        "phone_number": "0912345678",
        "email": "an.nguyen@example.vn",
        "address": {"province": "01", "commune": "00070", "street": "Số 12 phố Hàng Bạc"},
        "account_level": 2,
    },
    "demo-citizen-binh": {
        "account_type": "citizen",
        "name": "Trần Thị Bình",
        "id_number": "079192004567",
        "birthdate": "1992-07-25",
        "gender": "female",
        "phone_number": "0987654321",
        "email": "binh.tran@example.vn",
        "address": {"province": "79", "commune": "26506", "street": "45 đường Trần Hưng Đạo"},
        "account_level": 2,
    },
    "demo-citizen-chau": {
        "account_type": "citizen",
        "name": "Lê Minh Châu",
        "id_number": "048301007890",
        "birthdate": "2001-11-02",
        "gender": "female",
        "phone_number": "0356789012",
        "address": {"province": "48", "commune": "20242", "street": "8 đường Bạch Đằng"},
        "account_level": 1,
    },
    "demo-business-motcua": {
        "account_type": "business",
        "name": "Nguyễn Văn An",
        "id_number": "001085012345",
        "birthdate": "1985-03-12",
        "gender": "male",
        "phone_number": "0912345678",
        "address": {"province": "01", "commune": "00073", "street": "Tầng 5, 20 phố Tràng Thi"},
        "account_level": 2,
        "tax_code": "0108888888",
        "business_name": "Công ty TNHH Dịch vụ Một Cửa",
        "legal_representative": "Nguyễn Văn An",
    },
}

SCOPES = ("openid", "profile", "phone", "address", "email", "vneid", "business")

PAGE = """<!doctype html><html lang="vi"><meta charset="utf-8"><title>VNeID (mô phỏng)</title>
<h1>Định danh điện tử – môi trường mô phỏng</h1>
<p>Ứng dụng <strong>{{ client_id }}</strong> đề nghị xác thực tài khoản của bạn.</p>
<form method="post" action="{{ action }}">
{% for k, v in params.items() %}<input type="hidden" name="{{ k }}" value="{{ v }}">{% endfor %}
<fieldset><legend>Chọn tài khoản định danh để đăng nhập</legend>
{% for sub, who in identities.items() %}
<p><button name="identity" value="{{ sub }}" data-sub="{{ sub }}">{{ who.business_name or who.name }}
 – {{ "Tổ chức, doanh nghiệp" if who.account_type == "business" else "Công dân" }},
 mức {{ who.account_level }} ({{ who.tax_code or who.id_number }})</button></p>
{% endfor %}</fieldset>
<p><button name="identity" value="" id="deny">Từ chối</button></p>
</form></html>"""


def new_key() -> RSAKey:
    """A new signing key, imported as the key object (a PEM round trip re-checked the key it had
    just made: ~30 ms of CPU on top of the ~35 ms the generation takes)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return RSAKey.import_key(private, {"kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"})


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class _State:
    """Keys, codes and identities of one simulator, behind one lock (waitress has threads)."""

    def __init__(self, identities: dict[str, dict[str, Any]], keys: list[RSAKey] | None = None) -> None:
        self.lock = threading.Lock()
        # [current, previous]: both published
        self.keys: list[RSAKey] = list(keys) if keys else [new_key(), new_key()]
        self.identities = copy.deepcopy(identities)
        self.codes: dict[str, dict[str, Any]] = {}
        self.used_codes: set[str] = set()
        self.next_bad: str | None = None
        self.log: list[dict[str, Any]] = []

    def sign(self, claims: dict[str, Any], typ: str = "JWT", key: RSAKey | None = None) -> str:
        key = key or self.keys[0]
        return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": typ}, claims, key)

    def jwks(self) -> dict[str, Any]:
        return KeySet(self.keys).as_dict(private=False)

    def rotate(self) -> str:
        with self.lock:
            self.keys = [new_key(), self.keys[0]]
            return self.keys[0].kid or ""


def create_app(
    issuer: str,
    clients: dict[str, dict[str, Any]],
    identities: dict[str, dict[str, Any]] | None = None,
    keys: list[RSAKey] | None = None,
) -> Flask:
    """The provider at `issuer` (its own base URL) for `clients`:
    `{client_id: {"secret": ..., "redirect_uris": [...]}}`; redirect URIs match exactly.
    `keys` ([current, previous]) lets a test run start every provider it makes from one pair
    made once (an RSA key costs ~45 ms of CPU); without it, a new pair is made."""
    issuer = issuer.rstrip("/")
    app = Flask(__name__)
    state = _State(identities if identities is not None else DEMO_IDENTITIES, keys)
    app.extensions["identity_sim"] = state

    def fail(error: str, description: str, status: int = 400):
        return jsonify({"error": error, "error_description": description}), status

    @app.get("/.well-known/openid-configuration")
    def discovery():
        return jsonify({
            "issuer": issuer,
            "authorization_endpoint": issuer + "/authorize",
            "token_endpoint": issuer + "/token",
            "userinfo_endpoint": issuer + "/userinfo",
            "jwks_uri": issuer + "/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": list(SCOPES),
            "claims_supported": ["sub", "name", "id_number", "birthdate", "gender", "phone_number", "email",
                                 "address", "account_level", "account_type", "tax_code", "business_name",
                                 "legal_representative"],
        })

    @app.get("/jwks")
    def jwks():
        with state.lock:
            return jsonify(state.jwks())

    def authorize_params(source: Any) -> tuple[dict[str, str] | None, str]:
        """The request's parameters when they are acceptable, else (None, why)."""
        params = {k: source.get(k, "") for k in ("response_type", "client_id", "redirect_uri", "scope", "state",
                                                   "nonce", "code_challenge", "code_challenge_method")}
        client = clients.get(params["client_id"])
        if client is None:
            return None, "unknown client_id"
        if params["redirect_uri"] not in client["redirect_uris"]:
            return None, "redirect_uri is not registered for this client"
        if params["response_type"] != "code":
            return None, "only response_type=code is supported"
        if "openid" not in params["scope"].split():
            return None, "scope must include openid"
        if params["code_challenge_method"] != "S256" or not params["code_challenge"]:
            return None, "PKCE with code_challenge_method=S256 is required"
        return params, ""

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize():
        params, why = authorize_params(request.values)
        if params is None:
            return f"Yêu cầu xác thực không hợp lệ: {why}", 400
        if request.method == "GET":
            with state.lock:
                people = copy.deepcopy(state.identities)
            return render_template_string(PAGE, params=params, client_id=params["client_id"], identities=people,
                                          action=issuer + "/authorize")
        sub = request.form.get("identity", "")
        back = {"state": params["state"]} if params["state"] else {}
        with state.lock:
            known = sub in state.identities
        if not known:
            return redirect(f"{params['redirect_uri']}?{urlencode({'error': 'access_denied', **back})}")
        code = secrets.token_urlsafe(24)
        with state.lock:
            state.codes[code] = {**params, "sub": sub, "expires": time.time() + CODE_SECONDS}
        return redirect(f"{params['redirect_uri']}?{urlencode({'code': code, **back})}")

    def client_of() -> str | None:
        """The authenticated client's id (HTTP Basic or the body), None when it fails."""
        auth = request.authorization
        client_id, secret = (auth.username, auth.password) if auth and auth.type == "basic" else (
            request.form.get("client_id"), request.form.get("client_secret"))
        client = clients.get(client_id or "")
        if client is None or not hmac.compare_digest(str(secret or "").encode(), str(client["secret"]).encode()):
            return None
        return client_id

    @app.post("/token")
    def token():
        client_id = client_of()
        if client_id is None:
            return fail("invalid_client", "client authentication failed", 401)
        if request.form.get("grant_type") != "authorization_code":
            return fail("unsupported_grant_type", "only authorization_code")
        code = request.form.get("code", "")
        with state.lock:
            grant = state.codes.pop(code, None)  # single use: gone at the first try, right or wrong
            replayed = code in state.used_codes
            state.used_codes.add(code)
            bad, state.next_bad = state.next_bad, None
            claims = copy.deepcopy(state.identities.get(grant["sub"], {})) if grant else {}
        if grant is None:
            return fail("invalid_grant", "authorization code already used" if replayed else "unknown authorization code")
        if grant["expires"] < time.time():
            return fail("invalid_grant", "authorization code expired")
        if grant["client_id"] != client_id or grant["redirect_uri"] != request.form.get("redirect_uri"):
            return fail("invalid_grant", "code issued to another client or redirect_uri")
        verifier = request.form.get("code_verifier", "")
        if not verifier or not hmac.compare_digest(_s256(verifier), grant["code_challenge"]):
            return fail("invalid_grant", "PKCE code_verifier does not match the code_challenge")
        now = int(time.time())
        access = state.sign({"iss": issuer, "sub": grant["sub"], "aud": client_id, "client_id": client_id,
                             "scope": grant["scope"], "iat": now, "exp": now + TOKEN_SECONDS,
                             "jti": secrets.token_hex(12)}, typ="at+jwt")
        id_claims = {**claims, "iss": issuer, "sub": grant["sub"], "aud": client_id, "iat": now,
                     "exp": now + ID_TOKEN_SECONDS, "auth_time": now, "nonce": grant["nonce"]}
        key = None
        if bad == "expired":
            id_claims.update(iat=now - 3600, exp=now - 1800, auth_time=now - 3600)
        elif bad == "wrong_audience":
            id_claims["aud"] = "another-client"
        elif bad == "wrong_nonce":
            id_claims["nonce"] = secrets.token_urlsafe(16)
        elif bad == "wrong_issuer":
            id_claims["iss"] = "https://forged.example"
        elif bad == "forged":
            key = new_key()  # a key the JWKS does not publish, under a kid it does
            key = RSAKey.import_key(key.as_dict(private=True) | {"kid": state.keys[0].kid})
        with state.lock:
            state.log.append({"sub": grant["sub"], "client_id": client_id, "bad": bad})
        return jsonify({"access_token": access, "token_type": "Bearer", "expires_in": TOKEN_SECONDS,
                        "scope": grant["scope"], "id_token": state.sign(id_claims, key=key)}), 200, {"Cache-Control": "no-store"}

    def bearer_claims() -> dict[str, Any] | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        with state.lock:
            keys = KeySet(list(state.keys))
        try:
            token = jwt.decode(header[7:].strip(), keys, algorithms=["RS256"])
            jwt.JWTClaimsRegistry(iss={"essential": True, "value": issuer}).validate(token.claims)
        except (JoseError, ValueError):
            return None
        return token.claims

    @app.route("/userinfo", methods=["GET", "POST"])
    def userinfo():
        claims = bearer_claims()
        if claims is None:
            return fail("invalid_token", "missing, invalid or expired access token", 401)
        with state.lock:
            who = copy.deepcopy(state.identities.get(claims["sub"]))
        if who is None:
            return fail("invalid_token", "unknown subject", 401)
        return jsonify({"sub": claims["sub"], **who})

    # --- test hooks (a simulator's own; a real provider has none) ----------------------------

    @app.post("/sim/rotate")
    def rotate():
        return jsonify({"kid": state.rotate()})

    @app.post("/sim/identities/<sub>")
    def change_identity(sub: str):
        changes = request.get_json(silent=True)
        if not isinstance(changes, dict):
            abort(400)
        with state.lock:
            state.identities.setdefault(sub, {}).update(changes)
            return jsonify(state.identities[sub])

    @app.post("/sim/next-id-token")
    def next_bad():
        kind = (request.get_json(silent=True) or {}).get("kind")
        if kind not in BAD_ID_TOKENS:
            abort(400)
        with state.lock:
            state.next_bad = kind
        return jsonify({"next": kind})

    @app.get("/sim/log")
    def log():
        with state.lock:
            return jsonify(state.log)

    return app
