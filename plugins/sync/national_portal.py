"""`national`: each status change of a dossier pushed to the National Public Service Portal
(Cổng Dịch vụ công quốc gia), the shape provincial systems sync with (DOMAIN.md, "Dossier
lifecycle"): the national status code 1–10 (Motcua's `Status` values are those codes) and
the channel code (1 in person, 2 online, 3 public post).

`POST {NATIONAL_PORTAL_URL}/api/hoso/dongbo`, header `X-Api-Key: NATIONAL_PORTAL_KEY` and
`Idempotency-Key: sync:national:<dossier code>:<event index>`, JSON:
`{MaHoSo, MaTTHC, MaDonVi, TrangThaiHoSo, KenhThucHien, ThoiGianCapNhat (yyyyMMddHHmmss,
Vietnam time), NgayHenTra (yyyyMMdd or null), SuKien, IdSuKien}`. The portal answers 200
(also to a key it has seen: the change is recorded once); 5xx, 408, 429 or no answer are
retried by the outbox; another 4xx is a refusal, shown as failed.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from motcua.integrations.sync import StatusSync
from motcua.workdays import VN_TZ

#: Motcua's channel -> the national channel code
CHANNELS = {"desk": 1, "online": 2, "postal": 3}
RETRIABLE = {408, 429}


class NationalPortalSync(StatusSync):
    id = "national"
    title = {"vi": "Cổng Dịch vụ công quốc gia", "en": "National Public Service Portal"}

    def payload(self, dossier: Any, event: Any) -> dict[str, Any] | None:
        due = getattr(dossier, "due_date", None)
        return {
            "MaHoSo": dossier.code, "MaTTHC": dossier.procedure_code, "MaDonVi": dossier.agency_code,
            "TrangThaiHoSo": int(event.status), "KenhThucHien": CHANNELS.get(dossier.channel, 2),
            "ThoiGianCapNhat": event.at.astimezone(VN_TZ).strftime("%Y%m%d%H%M%S"),
            "NgayHenTra": due.strftime("%Y%m%d") if due else None, "SuKien": event.kind,
        }

    def push(self, message: dict[str, Any]) -> None:
        from motcua.workflow.outbox import Refused

        url = self.config.get("NATIONAL_PORTAL_URL")
        if not url:
            raise RuntimeError("NATIONAL_PORTAL_URL is not configured")
        body = {**json.loads(message["body"]), "IdSuKien": message["key"]}
        request = urllib.request.Request(
            url.rstrip("/") + "/api/hoso/dongbo", method="POST", data=json.dumps(body, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json", "X-Api-Key": self.config.get("NATIONAL_PORTAL_KEY", ""),
                     "Idempotency-Key": message["key"]})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            answer = f"national portal answered {exc.code}: {exc.read(300).decode(errors='replace')}"
            if 400 <= exc.code < 500 and exc.code not in RETRIABLE:
                raise Refused(answer) from None
            raise RuntimeError(answer) from None
        except (urllib.error.URLError, OSError) as exc:
            raise RuntimeError(f"national portal unreachable: {exc.__class__.__name__}") from None

    @classmethod
    def simulate(cls, app: Any, host: str, port: int) -> str | None:
        import secrets

        from motcua_plugins.simulators import national_portal as simulator
        from motcua_plugins.simulators import serve_in_thread

        key = secrets.token_hex(16)
        url = serve_in_thread(simulator.create_app(key), host, port, cls.id)
        app.config.update(NATIONAL_PORTAL_URL=url, NATIONAL_PORTAL_KEY=key)
        if not app.config.get("SYNC"):
            app.config["SYNC"] = [cls.id]
        return url
