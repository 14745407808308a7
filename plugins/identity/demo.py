"""The demo identity provider: `motcua serve --demo` signs citizens in at a local OpenID
Connect simulator (motcua_plugins.simulators.identity) instead of VNeID.

Demo-only: its simulator hands out identities to anyone who clicks, so the registry enables
it only in DEMO / TESTING mode. A real provider is configured with `IDENTITY_PROVIDERS`
(docs/accounts.md); the sign-in itself is the core's OIDC client (`motcua.identity`).
"""

from __future__ import annotations

import secrets
from typing import Any, ClassVar

from motcua.integrations.identity import IdentityProvider


class DemoIdentityProvider(IdentityProvider):
    id: ClassVar[str] = "vneid-demo"
    title: ClassVar[dict[str, str]] = {"vi": "Định danh điện tử (mô phỏng)", "en": "Electronic identity (simulated)"}
    demo_only: ClassVar[bool] = True

    @classmethod
    def simulate(cls, app: Any, host: str, port: int) -> str | None:
        from motcua import identity as identity_client
        from motcua_plugins.simulators import public_address, serve_in_thread
        from motcua_plugins.simulators import identity as simulator

        issuer = f"http://{host}:{port}"
        oidc_secret = secrets.token_hex(16)
        clients = {"motcua-demo": {"secret": oidc_secret, "redirect_uris": [public_address(app) + "/dang-nhap/vneid/ve"]}}
        url = serve_in_thread(simulator.create_app(issuer, clients), host, port, cls.id)
        identity_client.register(app, identity_client.ProviderConfig(
            id="vneid", name={"vi": "Tài khoản định danh điện tử (mô phỏng)", "en": "Electronic identity (simulated)"},
            issuer=issuer, client_id="motcua-demo", client_secret=oidc_secret,
            scopes="openid profile phone address email vneid business"))
        return url
