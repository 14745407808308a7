"""A National Public Service Portal stand-in for status sync (protocol in
motcua_plugins.sync.national_portal).

`POST /api/hoso/dongbo` (header `X-Api-Key`) checks the fields (status 1–10, channel 1–3,
dossier code), records the change once per `Idempotency-Key` (a replay answers 200 with
`duplicate: true`). `POST /sim/outage` with `{"count": n}` makes the next n calls answer 503;
`GET /sim/records` lists what was recorded, `GET /` shows it.
"""

from __future__ import annotations

import secrets
import threading

from flask import Flask, jsonify, render_template_string, request

PAGE = """<!doctype html><html lang="vi"><meta charset="utf-8"><title>Cổng DVC quốc gia (mô phỏng)</title>
<h1>Cổng Dịch vụ công quốc gia – đồng bộ trạng thái (mô phỏng)</h1>
<table border="1"><tr><th>Mã hồ sơ</th><th>Trạng thái</th><th>Kênh</th><th>Sự kiện</th><th>Thời gian</th></tr>
{% for r in records %}<tr><td>{{ r.MaHoSo }}</td><td>{{ r.TrangThaiHoSo }}</td><td>{{ r.KenhThucHien }}</td>
<td>{{ r.SuKien }}</td><td>{{ r.ThoiGianCapNhat }}</td></tr>{% endfor %}</table></html>"""


def create_app(api_key: str = "SIMKEY") -> Flask:
    app = Flask(__name__)
    records: list[dict] = []
    seen: set[str] = set()
    outage = {"count": 0, "refused": 0}
    lock = threading.Lock()
    app.extensions["national_sim"] = {"records": records, "outage": outage}

    @app.post("/api/hoso/dongbo")
    def sync():
        if not secrets.compare_digest(request.headers.get("X-Api-Key", ""), api_key):
            return jsonify(error="invalid api key"), 401
        with lock:
            if outage["count"] > 0:
                outage["count"] -= 1
                outage["refused"] += 1
                return jsonify(error="service unavailable"), 503
        body = request.get_json(silent=True)
        key = request.headers.get("Idempotency-Key", "")
        if not isinstance(body, dict) or not key:
            return jsonify(error="JSON body and Idempotency-Key required"), 400
        problems = [f"{k} is required" for k in ("MaHoSo", "MaTTHC", "MaDonVi", "ThoiGianCapNhat") if not body.get(k)]
        if body.get("TrangThaiHoSo") not in range(1, 11):
            problems.append("TrangThaiHoSo must be 1..10")
        if body.get("KenhThucHien") not in (1, 2, 3):
            problems.append("KenhThucHien must be 1, 2 or 3")
        if problems:
            return jsonify(error="invalid", problems=problems), 422
        with lock:
            if key in seen:
                return jsonify(ok=True, duplicate=True)
            seen.add(key)
            records.append({**body, "key": key})
        return jsonify(ok=True)

    @app.post("/sim/outage")
    def make_outage():
        with lock:
            outage["count"] = int((request.get_json(silent=True) or {}).get("count", 1))
        return jsonify(ok=True)

    @app.get("/sim/records")
    def listing():
        with lock:
            return jsonify(records)

    @app.get("/")
    def index():
        return render_template_string(PAGE, records=list(records))

    return app
