"""`motcua serve --demo`: the simulators on the next local ports, the app pointed at them."""

from __future__ import annotations

import secrets
import threading
from typing import Any


def start_simulators(app: Any, host: str, port: int) -> dict[str, str]:
    """Serve the gateway, carrier, SMS and identity simulators on port+1..4; configure `app`
    to use them."""
    from waitress.server import create_server

    from motcua import identity as identity_client
    from plugins.simulators import carrier, identity, messaging, vnpay

    public = app.config.get("PUBLIC_URL") or f"http://{host}:{port}"
    secret, key, callback, sms_key, oidc_secret = (secrets.token_hex(16) for _ in range(5))
    issuer = f"http://{host}:{port + 4}"
    oidc_clients = {"motcua-demo": {"secret": oidc_secret, "redirect_uris": [public + "/dang-nhap/vneid/ve"]}}
    sims = {
        "vnpay": (vnpay.create_app("MOTCUADEMO", secret, public + "/thanh-toan/vnpay/ipn"), port + 1),
        "carrier": (carrier.create_app(key, callback), port + 2),
        "messaging": (messaging.create_app(sms_key), port + 3),
        "identity": (identity.create_app(issuer, oidc_clients), port + 4),
    }
    urls = {}
    for name, (sim, sim_port) in sims.items():
        server = create_server(sim, host=host, port=sim_port, threads=2)
        threading.Thread(target=server.run, daemon=True, name=f"sim-{name}").start()
        urls[name] = f"http://{host}:{sim_port}"
    app.config.update(
        PUBLIC_URL=public,
        VNPAY_PAY_URL=urls["vnpay"] + "/paymentv2/vpcpay.html", VNPAY_TMN_CODE="MOTCUADEMO", VNPAY_HASH_SECRET=secret,
        POSTAL_API_URL=urls["carrier"] + "/api/v1", POSTAL_API_KEY=key, POSTAL_CALLBACK_SECRET=callback,
        NOTIFY_URL=urls["messaging"], NOTIFY_API_KEY=sms_key,
    )
    identity_client.register(app, identity_client.ProviderConfig(
        id="vneid", name={"vi": "Tài khoản định danh điện tử (mô phỏng)", "en": "Electronic identity (simulated)"},
        issuer=issuer, client_id="motcua-demo", client_secret=oidc_secret,
        scopes="openid profile phone address email vneid business"))
    return urls
