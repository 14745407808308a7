"""Links that leave the site are built on PUBLIC_URL, never on the request's Host header; the
session cookie is https-only on an https site; a new data folder is its owner's only."""

from __future__ import annotations

import html
import io
import os
import socket
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from conftest import SPECS, free_port, wait_for_server
from fixtures.workflow_kit import DESK, LEADER, file_dossier, make_spec, propose
from motcua import accounts, drafts
from motcua.app import create_app
from tests.portal_helpers import BIRTH_CODE, birth_spec, write_spec
from tests.test_api_portal import body
from tests.test_portal_tracking import lookup

PUBLIC = "https://dichvucong.example.gov.vn"
EVIL = "http://evil.example"


@pytest.fixture
def site(data_dir):
    app = create_app({"DATA_DIR": str(data_dir), "SPECS_DIR": str(SPECS), "TESTING": True, "PUBLIC_URL": PUBLIC + "/"})
    yield app
    app.extensions["motcua"].store.close()


def test_api_links_ignore_a_forged_host(site):
    client = site.test_client()
    response = client.post(f"/api/v1/procedures/{BIRTH_CODE}/dossiers", json=body(), base_url=EVIL)
    assert response.status_code == 201
    code = response.get_json()["code"]
    assert response.get_json()["tracking_url"] == f"{PUBLIC}/ho-so/{code}"
    assert response.headers["Location"] == f"{PUBLIC}/api/v1/dossiers/{code}"
    listed = client.get(f"/api/v1/procedures/{BIRTH_CODE}", base_url=EVIL).get_json()
    assert listed["url"] == f"{PUBLIC}/api/v1/procedures/{BIRTH_CODE}"


def test_tracking_page_receipt_and_draft_link_ignore_a_forged_host(site):
    from pypdf import PdfReader

    code = site.test_client().post(f"/api/v1/procedures/{BIRTH_CODE}/dossiers", json=body()).get_json()["code"]
    citizen = site.test_client()
    citizen.environ_base["HTTP_HOST"] = "evil.example"
    assert lookup(citizen, code, "0987654321").status_code == 302
    page = citizen.get(f"/ho-so/{code}/xac-nhan").get_data(as_text=True)
    # a browser that looked the dossier up gets the public tracking link (the private one is the filer's)
    assert f'href="{PUBLIC}/ho-so/{code}"' in page and "evil.example" not in page
    receipt = citizen.get(f"/ho-so/{code}/bien-nhan.pdf")
    assert receipt.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt.data)).pages)
    assert f"{PUBLIC}/ho-so/{code}" in text.replace("\n", "") and "evil" not in text

    with site.app_context():
        records = site.extensions["motcua"].store.records("drafts")
        token, draft = drafts.new(records, site.extensions["motcua"].catalogue.get(BIRTH_CODE))
        drafts.save(records, token, draft)
    saved = citizen.get(f"/thu-tuc/{BIRTH_CODE}/nop/{token}/da-luu").get_data(as_text=True)
    assert f"{PUBLIC}/thu-tuc/{BIRTH_CODE}/nop/{token}" in html.unescape(saved) and "evil.example" not in saved


def test_staff_receipt_ignores_a_forged_host(site, monkeypatch):
    from pypdf import PdfReader

    code = site.test_client().post(f"/api/v1/procedures/{BIRTH_CODE}/dossiers", json=body()).get_json()["code"]
    accounts.create_account(site.extensions["motcua"].store, "lan", "Nguyễn Thị Lan", ["desk"], ["000.06.50.H15"], "mat-khau-rat-dai-1")
    staff = site.test_client()
    staff.environ_base["HTTP_HOST"] = "evil.example"
    from tests.test_backoffice import login

    assert login(staff, "lan", "mat-khau-rat-dai-1").status_code == 302
    receipt = staff.get(f"/staff/ho-so/{code}/giay-tiep-nhan.pdf")
    assert receipt.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt.data)).pages).replace("\n", "")
    assert f"{PUBLIC}/ho-so/{code}" in text and "evil" not in text


def test_payment_return_and_carrier_callback_ignore_a_forged_host(site):
    from motcua_plugins.payment import payment_token
    from motcua_plugins.simulators import carrier as carrier_sim

    from conftest import LiveServer

    site.config.update(VNPAY_PAY_URL="https://sandbox.vnpayment.vn/paymentv2/vpcpay.html", VNPAY_TMN_CODE="MOTCUA01",
                       VNPAY_HASH_SECRET="S", WTF_CSRF_ENABLED=False)
    code = file_dossier(site, make_spec([{"name": "payment", "config": {"mode": "online"}}, "review"]), fee=16000)
    with site.test_request_context():
        token = payment_token(code)
    response = site.test_client().post(f"/thanh-toan/{code}/vnpay", data={"token": token}, base_url=EVIL)
    assert response.status_code == 303
    params = parse_qs(urlparse(response.headers["Location"]).query)
    assert params["vnp_ReturnUrl"] == [f"{PUBLIC}/plugins/gateways/vnpay/return"]

    sim = carrier_sim.create_app(api_key="K", callback_secret="CB")
    with LiveServer(sim) as carrier:
        site.config.update(POSTAL_API_URL=carrier.url + "/api/v1", POSTAL_API_KEY="K", POSTAL_CALLBACK_SECRET="CB")
        code = file_dossier(site, make_spec(["review", "postal"], version="wf-postal"), delivery="postal", fee=0)
        engine = site.extensions["motcua"].engine
        with site.test_request_context(base_url=EVIL):  # the approving request came with a forged Host
            engine.perform(code, "receive", DESK)
            engine.perform(code, "process", DESK)
            propose(engine, code)
            engine.perform(code, "approve", LEADER)
            engine.flush()  # the booking job, run where the forged Host is still in the context
        [item] = sim.extensions["carrier_sim"].values()
        assert item["callback_url"] == f"{PUBLIC}/plugins/carriers/vnpost/callback"


def test_without_public_url_only_a_demo_or_a_test_starts(tmp_path):
    with pytest.raises(RuntimeError, match="PUBLIC_URL is not set"):
        create_app({"DATA_DIR": str(tmp_path / "a"), "SPECS_DIR": str(SPECS)})
    with pytest.raises(ValueError, match="PUBLIC_URL must be"):
        create_app({"DATA_DIR": str(tmp_path / "b"), "SPECS_DIR": str(SPECS), "PUBLIC_URL": "evil.example"})
    for flag in ("DEMO", "TESTING"):
        app = create_app({"DATA_DIR": str(tmp_path / flag), "SPECS_DIR": str(SPECS), flag: True})
        app.extensions["motcua"].store.close()


def test_session_cookie_is_secure_on_an_https_site_only(tmp_path):
    def cookie_secure(**config) -> bool:
        app = create_app({"DATA_DIR": str(tmp_path / str(len(list(tmp_path.iterdir())))), "SPECS_DIR": str(SPECS), **config})
        app.extensions["motcua"].store.close()
        return app.config.get("SESSION_COOKIE_SECURE", False)

    assert cookie_secure(PUBLIC_URL=PUBLIC) is True
    assert cookie_secure(PUBLIC_URL="http://127.0.0.1:8000") is False  # `make serve` over http keeps its session
    assert cookie_secure(PUBLIC_URL=PUBLIC, DEMO=True) is False
    assert cookie_secure(PUBLIC_URL=PUBLIC, TESTING=True) is False

    app = create_app({"DATA_DIR": str(tmp_path / "login"), "SPECS_DIR": str(SPECS), "PUBLIC_URL": PUBLIC})
    try:
        response = app.test_client().get("/tra-cuu", base_url=PUBLIC)  # the CSRF token starts a session
        assert "Secure" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]
    finally:
        app.extensions["motcua"].store.close()


def test_a_new_data_folder_is_the_owners_only_and_an_existing_one_is_left_alone(tmp_path):
    old_umask = os.umask(0o022)
    try:
        fresh = tmp_path / "nested" / "data"
        app = create_app({"DATA_DIR": str(fresh), "SPECS_DIR": str(SPECS), "TESTING": True})
        app.extensions["motcua"].store.close()
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o700
        kept = tmp_path / "kept"
        kept.mkdir()
        os.chmod(kept, 0o750)
        app = create_app({"DATA_DIR": str(kept), "SPECS_DIR": str(SPECS), "TESTING": True})
        app.extensions["motcua"].store.close()
        assert stat.S_IMODE(kept.stat().st_mode) == 0o750
    finally:
        os.umask(old_umask)


def test_serve_answers_only_its_public_host(tmp_path):
    specs = tmp_path / "specs"
    write_spec(specs, "good", birth_spec())
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "motcua"), "serve", "--specs", str(specs), "--data", str(tmp_path / "data"),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "MOTCUA_PUBLIC_URL": ""},
    )
    try:
        wait_for_server(process, f"http://127.0.0.1:{port}/")
        forged = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Host": "evil.example"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(forged, timeout=30)
        assert refused.value.code == 400
    finally:
        process.terminate()
        out, _err = process.communicate(timeout=60)
    assert f"as http://127.0.0.1:{port}/" in out


def test_serve_on_every_interface_asks_for_the_public_url(tmp_path):
    from click.testing import CliRunner

    from motcua.cli import main

    with socket.socket() as taken:  # were it to start serving, it fails to bind rather than hang
        taken.bind(("0.0.0.0", 0))
        port = str(taken.getsockname()[1])
        result = CliRunner().invoke(main, ["serve", "--data", str(tmp_path / "d"), "--host", "0.0.0.0", "--port", port],
                                    env={"MOTCUA_PUBLIC_URL": ""})
    assert result.exit_code == 2 and "--public-url" in result.output
    result = CliRunner().invoke(main, ["serve", "--data", str(tmp_path / "d"), "--public-url", "ftp://x"])
    assert result.exit_code == 2 and "PUBLIC_URL must be" in result.output
