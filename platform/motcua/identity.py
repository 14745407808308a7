"""Identity providers (nhà cung cấp định danh): signing citizens and businesses in with
OpenID Connect — VNeID, the national portal's SSO, a business identity.

Everything about a provider is in this module, so it can move behind a plugin registry
unchanged. The protocol is Authlib's (`authlib.integrations.flask_client`): authorization
code with PKCE (S256), `state` and `nonce` kept in the session, the ID token's signature
checked against the provider's JWKS (fetched again when an unknown `kid` shows up: key
rotation), and its issuer, audience, expiry and nonce checked. Nothing here parses or signs
a JWT by hand; access tokens presented to the API are checked with joserfc (the JOSE library
Authlib itself uses) against the same JWKS.

Providers are app config, read by `create_app` (or `MOTCUA_IDENTITY_PROVIDERS` as JSON):

    IDENTITY_PROVIDERS = [{
        "id": "vneid", "name": {"vi": "Tài khoản VNeID", "en": "VNeID account"},
        "issuer": "https://sso.example.gov.vn", "client_id": "...", "client_secret": "...",
        "scopes": "openid profile phone address vneid",
        "claims": {"id_number": "so_dinh_danh"},   # our name -> the provider's claim name
    }]

Each provider's claims are read into the canonical names of `CLAIMS` (what specs prefill
from), so a spec never depends on one provider's spelling.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

log = logging.getLogger(__name__)

#: The canonical claims (what `prefill` in a spec may name) and the provider claim each is
#: read from unless the provider's `claims` says otherwise (the simulator's, VNeID-like).
CLAIMS: dict[str, str] = {
    "name": "name",
    "id_number": "id_number",
    "birth_date": "birthdate",
    "sex": "gender",
    "phone": "phone_number",
    "email": "email",
    "address": "address",
    "level": "account_level",
    "account_type": "account_type",
    "tax_code": "tax_code",
    "business_name": "business_name",
    "legal_representative": "legal_representative",
}


class IdentityError(Exception):
    """Signing in failed; `down` says the provider could not be reached (not the citizen's fault)."""

    def __init__(self, message: str, *, down: bool = False) -> None:
        super().__init__(message)
        self.down = down


class ProviderConfig(BaseModel):
    """One OpenID Connect provider, as configured for a deployment."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$", description="In URLs: /dang-nhap/<id>")
    name: dict[str, str] | str = Field(description="What the sign-in button says, {vi, en} or one text")
    issuer: str = Field(pattern=r"^https?://", description="The provider's issuer URL (discovery is under it)")
    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)
    scopes: str = "openid profile"
    claims: dict[str, str] = Field(default_factory=dict, description="Canonical claim -> the provider's claim name")
    timeout: float = Field(default=5, gt=0, le=60, description="Seconds to wait for the provider")

    @field_validator("issuer")
    @classmethod
    def _no_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("scopes")
    @classmethod
    def _openid(cls, value: str) -> str:
        if "openid" not in value.split():
            raise ValueError("scopes must include `openid` (without it there is no ID token to check)")
        return value

    @field_validator("claims")
    @classmethod
    def _known_claims(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(CLAIMS))
        if unknown:
            raise ValueError(f"unknown claim(s) {', '.join(unknown)}; known: {', '.join(CLAIMS)}")
        return value

    def claim_names(self) -> dict[str, str]:
        return {**CLAIMS, **self.claims}

    def label(self, lang: str) -> str:
        if isinstance(self.name, str):
            return self.name
        return self.name.get(lang) or self.name.get("vi") or self.id


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in: its issuer and subject (the account's key) and the
    claims read into canonical names."""

    provider: str
    issuer: str
    subject: str
    claims: dict[str, Any]


def parse_providers(raw: Any) -> list[ProviderConfig]:
    """The configured providers; a RuntimeError naming the bad entry and field otherwise."""
    if not raw:
        return []
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list):
        raise RuntimeError("IDENTITY_PROVIDERS must be a list of providers (see docs/accounts.md)")
    out: list[ProviderConfig] = []
    for index, entry in enumerate(raw):
        try:
            out.append(ProviderConfig.model_validate(entry))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in exc.errors())
            raise RuntimeError(f"IDENTITY_PROVIDERS[{index}] is not a valid provider: {problems}") from None
    ids = [p.id for p in out]
    if len(set(ids)) != len(ids):
        raise RuntimeError(f"IDENTITY_PROVIDERS: two providers share an id ({', '.join(ids)})")
    return out


def init_app(app: Any) -> None:
    """Register every configured provider with Authlib; nothing is fetched until first use,
    so a provider that is down never stops the portal from starting. Authlib itself is
    imported with the first provider (here or by `register`): a portal without sign-in
    does not pay its import (~0.5 s) at every start."""
    app.extensions["motcua.identity"] = {}
    for provider in parse_providers(app.config.get("IDENTITY_PROVIDERS")):
        register(app, provider)


def register(app: Any, provider: ProviderConfig) -> None:
    """Add one provider (`motcua serve --demo` adds the simulator's once it listens)."""
    known = app.extensions["motcua.identity"]
    if provider.id in known:
        raise RuntimeError(f"identity provider {provider.id!r} is configured twice")
    if "authlib.integrations.flask_client" not in app.extensions:
        from authlib.integrations.flask_client import OAuth

        OAuth(app)
    app.extensions["authlib.integrations.flask_client"].register(
        name=provider.id,
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        server_metadata_url=provider.issuer + "/.well-known/openid-configuration",
        client_kwargs={"scope": provider.scopes, "code_challenge_method": "S256",
                       "default_timeout": provider.timeout},
    )
    known[provider.id] = provider


def providers(app: Any) -> dict[str, ProviderConfig]:
    return app.extensions.get("motcua.identity", {})


def _client(app: Any, provider_id: str) -> Any:
    return app.extensions["authlib.integrations.flask_client"].create_client(provider_id)


def _metadata(app: Any, provider: ProviderConfig) -> dict[str, Any]:
    """The provider's discovery document; its issuer must be the configured one (OIDC
    Discovery 4.3), else tokens could be checked against another issuer's keys."""
    import requests

    client = _client(app, provider.id)
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        raise IdentityError(f"provider {provider.id} unreachable: {exc}", down=True) from None
    if metadata.get("issuer", "").rstrip("/") != provider.issuer:
        client.server_metadata.clear()  # try discovery again next time
        raise IdentityError(f"provider {provider.id}: discovery names issuer {metadata.get('issuer')!r}, "
                            f"configured {provider.issuer!r}", down=True)
    return metadata


def start(app: Any, provider: ProviderConfig, redirect_uri: str) -> Any:
    """The redirect to the provider's authorization page (state, nonce, PKCE in the session)."""
    import requests

    _metadata(app, provider)
    try:
        return _client(app, provider.id).authorize_redirect(redirect_uri)
    except requests.RequestException as exc:
        raise IdentityError(str(exc), down=True) from None


def finish(app: Any, provider: ProviderConfig) -> Identity:
    """Exchange the code the provider sent back and check the ID token; the Identity or an
    IdentityError (state mismatch, replayed code, bad signature, audience, nonce, expiry ...)."""
    import requests
    from authlib.common.errors import AuthlibBaseError
    from joserfc.errors import JoseError

    _metadata(app, provider)
    try:
        token = _client(app, provider.id).authorize_access_token()
    except requests.RequestException as exc:
        raise IdentityError(f"provider {provider.id} unreachable: {exc}", down=True) from None
    except (AuthlibBaseError, JoseError, ValueError, KeyError, TypeError) as exc:
        raise IdentityError(f"provider {provider.id}: {type(exc).__name__}: {exc}") from None
    claims = token.get("userinfo")
    if not claims or not claims.get("sub"):
        raise IdentityError(f"provider {provider.id}: no ID token in the token response")
    return Identity(provider.id, provider.issuer, str(claims["sub"]), canonical_claims(provider, claims))


def canonical_claims(provider: ProviderConfig, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The provider's claims under our names; a level is an int (1 when absent)."""
    out = {ours: raw[theirs] for ours, theirs in provider.claim_names().items() if raw.get(theirs) not in (None, "")}
    try:
        out["level"] = int(out.get("level", 1))
    except (TypeError, ValueError):
        out["level"] = 1
    if out.get("account_type") != "business":
        out["account_type"] = "business" if out.get("tax_code") else "citizen"
    return out


def verify_access_token(app: Any, token: str) -> tuple[ProviderConfig, dict[str, Any]]:
    """The provider and claims of a bearer access token (a JWT): signature against the
    provider's JWKS, issuer, audience (our client id) and expiry; IdentityError otherwise.
    The provider is chosen by the token's (unverified) issuer, then everything is verified."""
    from joserfc import jws, jwt
    from joserfc.errors import InvalidKeyIdError, JoseError
    from joserfc.jwk import KeySet
    import json

    try:
        payload = json.loads(jws.extract_compact(token.encode()).payload)
        issuer = str(payload.get("iss", "")).rstrip("/")
    except (JoseError, ValueError, TypeError, KeyError, AttributeError):
        raise IdentityError("not a JWT access token") from None
    provider = next((p for p in providers(app).values() if p.issuer == issuer), None)
    if provider is None:
        raise IdentityError("access token from an unknown issuer")
    metadata = _metadata(app, provider)
    client = _client(app, provider.id)
    algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]

    def keys(force: bool) -> KeySet:
        try:
            return KeySet.import_key_set(client.fetch_jwk_set(force=force))
        except Exception as exc:  # noqa: BLE001 - requests' errors, a JWKS that is not one
            raise IdentityError(f"provider {provider.id}: keys unavailable: {exc}", down=True) from None

    try:
        try:
            decoded = jwt.decode(token, keys(False), algorithms=algorithms)
        except InvalidKeyIdError:  # rotated since we fetched the keys
            decoded = jwt.decode(token, keys(True), algorithms=algorithms)
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": metadata["issuer"]},
            aud={"essential": True, "value": provider.client_id},
            exp={"essential": True},
            sub={"essential": True},
        ).validate(decoded.claims)
    except IdentityError:
        raise
    except (JoseError, ValueError, TypeError, KeyError, AttributeError) as exc:  # whatever a malformed token raises
        raise IdentityError(f"access token refused: {type(exc).__name__}: {exc}") from None
    return provider, decoded.claims


def userinfo(app: Any, provider: ProviderConfig, token: str) -> dict[str, Any]:
    """The provider's userinfo for a bearer token, in canonical names."""
    import requests

    metadata = _metadata(app, provider)
    try:
        response = requests.get(metadata["userinfo_endpoint"], headers={"Authorization": f"Bearer {token}"},
                                timeout=provider.timeout)
    except requests.RequestException as exc:
        raise IdentityError(f"provider {provider.id} unreachable: {exc}", down=True) from None
    if response.status_code != 200:
        raise IdentityError(f"userinfo refused the token ({response.status_code})")
    return canonical_claims(provider, response.json())
