"""Where the parts meet: timeline labels for every event kind, the tracking page's links to
rating and feedback, the site footer, and `motcua serve --demo` with its staff logins."""

from __future__ import annotations

import pytest

import re
import socket
import subprocess
import sys
from pathlib import Path

from motcua import accounts
from motcua.dossier import Event
from motcua.web import labels
from motcua.workflow import lifecycle
from motcua.workflow.events import event_kinds
from tests.conftest import REPO, free_port, wait_for_server
from tests.portal_helpers import birth_spec, csrf, write_spec

pytestmark = pytest.mark.usefixtures("jobs_run_at_once")
from tests.test_portal_tracking import filed, lookup

SOURCES = [REPO / "platform", REPO / "plugins"]
RECORDED = [
    re.compile(r'\bkind="([a-z_]+)"'),  # Event(kind=...), engine.signal(kind=...)
    re.compile(r'\bctx\.record\(\s*"([a-z_]+)"'),  # a step's own event
]
NOT_EVENTS = {"select", "text", "textarea", "list", "date", "checks", "file",  # ActionField kinds, also spelled kind="..."
              "search",  # a page cache's kind (web/page_cache.py)
              "delivery"}  # a parcel's kind (plugins/postal.py, `ctx.defer_job(..., kind=...)`)


def recorded_kinds() -> set[str]:
    found = set(lifecycle.EVENT_KINDS.values())
    for root in SOURCES:
        for path in root.rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for pattern in RECORDED:
                found.update(pattern.findall(text))
    return found - NOT_EVENTS


def test_every_recorded_event_kind_has_a_vietnamese_and_english_label():
    kinds = recorded_kinds()
    assert {"filed", "decided", "processing_started", "clock_resumed", "shipment_booked", "paper_components"} <= kinds
    declared = event_kinds()  # the built-in steps' declarations and the engine's table
    missing = sorted(k for k in kinds if k not in declared)
    assert not missing, f"event kinds without a timeline label: {missing}"
    for kind in kinds:
        texts = declared[kind].label
        assert texts["vi"] and texts.get("en") and texts["vi"] != texts["en"], kind


def _walk_to_returned(app, code: str) -> None:
    store = app.extensions["motcua"].store
    accounts.ensure_demo_accounts(store, app.extensions["motcua"].catalogue)
    desk, leader = accounts.get_account(store, "motcua"), accounts.get_account(store, "lanhdao")
    specialist = accounts.get_account(store, "chuyenvien")
    engine = app.extensions["motcua"].engine
    with app.test_request_context():
        engine.signal(code, actor="gateway:vnpay", move="pay", note="Đã thanh toán trực tuyến 8.000 ₫ qua VNPay.")
        for action, who in (("receive", desk), ("process", desk)):
            engine.perform(code, action, who)
        engine.perform(code, "propose", specialist, opinion="Đủ điều kiện.", proposal="approve", draft_text="Dự thảo.")
        for action, who in (("approve", leader), ("return_result", desk)):
            engine.perform(code, action, who)
        # a step's failure: staff see it, citizens need not
        store.dossiers.update(code, lambda d: d.record(
            Event(actor="system", kind="step_failed", note="Bước “postal” gặp lỗi; hệ thống sẽ tự động thử lại.")))


def test_tracking_page_shows_words_then_offers_rating_and_feedback(app, client):
    code = filed(app.test_client())
    lookup(client, code, "0987654321")
    html = client.get(f"/ho-so/{code}").get_data(as_text=True)
    assert f"/phan-anh?code={code}" in html
    assert "/danh-gia?code=" not in html  # not before the result is returned

    _walk_to_returned(app, code)
    html = client.get(f"/ho-so/{code}").get_data(as_text=True)
    assert "Phê duyệt kết quả" in html and "Chuyển xử lý" in html and "Trả kết quả" in html
    for raw in ("processing_started", "decided", ">Decided<", "Processing started", "Step failed"):
        assert raw not in html, raw
    assert "gặp lỗi" not in html  # the engine's retries stay with the staff
    assert f"/danh-gia?code={code}" in html
    english = client.get(f"/ho-so/{code}?lang=en").get_data(as_text=True)
    assert "Result approved" in english and "Sent for processing" in english and "Rate this dossier" in english

    api = client.get(f"/api/v1/dossiers/{code}?lang=vi", headers={"X-Motcua-Factor": "0987654321"}).get_json()
    assert [e["label"] for e in api["timeline"]][-2:] == ["Phê duyệt kết quả", "Trả kết quả"]

    from motcua import feedback

    feedback.rate(app.extensions["motcua"].store, code, "0987654321", 4)
    html = client.get(f"/ho-so/{code}?lang=vi").get_data(as_text=True)
    assert "Bạn đã đánh giá hồ sơ này: 4 – Hài lòng" in html and "/danh-gia?code=" not in html


def test_staff_timeline_and_control_sheet_show_words(app, client):
    code = filed(app.test_client())
    _walk_to_returned(app, code)
    token = csrf(client.get("/staff/login").get_data(as_text=True))
    client.post("/staff/login", data={"csrf_token": token, "username": "lanhdao", "password": accounts.DEMO_PASSWORD})
    html = client.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert "Phê duyệt kết quả" in html and "Lỗi ở bước xử lý tự động" in html
    assert "processing_started" not in html and ">decided<" not in html
    assert "Cổng thanh toán VNPay" in html and "gateway:vnpay" not in html
    sheet = html[html.index("panel-control-sheet"):].split("</section>")[0]
    assert "Tiếp nhận hồ sơ" in sheet and "Cán bộ một cửa (demo)" in sheet and "staff:" not in sheet


def test_footer_links_to_transparency_feedback_and_staff_login(client):
    html = client.get("/").get_data(as_text=True)
    footer = html[html.index('<footer'):]
    assert 'href="/thong-ke"' in footer and 'href="/phan-anh"' in footer and 'href="/staff/login"' in footer
    assert client.get("/thong-ke").status_code == 200 and client.get("/phan-anh").status_code == 200
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "Staff sign-in" in english[english.index("<footer"):]


def test_serve_demo_creates_the_demo_accounts_and_prints_the_logins(tmp_path):
    specs = tmp_path / "specs"
    write_spec(specs, "birth", birth_spec())
    port = free_port()
    # the first simulator's usual port (port + 1) is taken, as another server beside this one
    # (or a parallel test) may hold it: the simulator moves on instead of stopping the start
    taken = socket.socket()
    try:
        taken.bind(("127.0.0.1", port + 1))
        taken.listen()
    except OSError:
        pass  # already taken by someone else: the same case
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "motcua"), "serve", "--demo", "--specs", str(specs),
         "--data", str(tmp_path / "data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        body = wait_for_server(process, f"http://127.0.0.1:{port}/staff/login")
        assert "csrf_token" in body
    finally:
        process.terminate()
        taken.close()
        out, err = process.communicate(timeout=60)
    assert accounts.DEMO_PASSWORD in out, (out, err)
    for username, _name, _roles in accounts.DEMO_ACCOUNTS:
        assert re.search(rf"^\s+{username}\s", out, re.M), username
    from motcua.store import open_store

    store = open_store(tmp_path / "data")
    try:
        user = accounts.get_account(store, "motcua")
        assert user is not None and user.check_password(accounts.DEMO_PASSWORD) and user.serves("000.06.50.H15")
    finally:
        store.close()


def test_confirmation_offers_online_payment_right_away(app, client):
    """A level-4 dossier waiting for its fee: the citizen sees the pay button on filing."""
    from fixtures.workflow_kit import vnpay_settings
    from tests.test_portal_filing import file_it, fill_to_check

    base, token = fill_to_check(client)
    code = file_it(client, base, token)
    assert app.extensions["motcua"].store.dossiers.get(code).status == 6
    html = client.get(f"/ho-so/{code}/xac-nhan").get_data(as_text=True)
    # no gateway configured: no pay button that could only fail, the desk instead
    assert "Thanh toán trực tuyến" not in html and "data-no-online-payment" in html
    assert "Nộp phí, lệ phí tại bộ phận một cửa" in html
    vnpay_settings(app)
    html = client.get(f"/ho-so/{code}/xac-nhan").get_data(as_text=True)
    assert "Thanh toán trực tuyến" in html and "panel-payment" in html and "data-no-online-payment" not in html
