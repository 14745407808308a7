"""`motcua.identity`: who the citizen is (OIDC providers such as VNeID). The contract only; the
accounts work fills it (sign in, the claims mapped to a Motcua person)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from motcua.integrations.base import Plugin


class IdentityProvider(Plugin):
    """An OpenID Connect provider, as far as the portal needs one."""

    def login_url(self, *, state: str, nonce: str, redirect_uri: str) -> str:
        """Where to send the browser to sign in."""
        raise NotImplementedError

    def finish(self, params: Mapping[str, str], *, state: str, nonce: str, redirect_uri: str) -> dict[str, Any]:
        """The callback's parameters -> verified claims (`sub`, `name`, `cccd`, `phone` ...);
        raises ValueError when anything does not verify."""
        raise NotImplementedError
