"""In a real Chromium: an officer attaches a result and signs it with the agency's key (the
test CA of `motcua signing dev-cert`), the citizen opens the dossier from the receipt's
private link and downloads the signed PDF, whose signature verifies with pyHanko."""

from __future__ import annotations

from pathlib import Path

import pytest

from motcua import accounts
from motcua.app import create_app
from motcua.signing import dev_certificate
from motcua.tracking import private_link_path
from tests.conftest import SPECS
from tests.portal_helpers import follow, small_pdf
from tests.test_accounts_dossiers import AN, file_birth
from tests.test_accounts_results import PASSWORD, decided
from tests.test_results_signing import validate


@pytest.fixture
def certs(tmp_path) -> dict[str, Path]:
    return dev_certificate(tmp_path / "signing", "UBND xã Thử Nghiệm")


@pytest.fixture
def app(data_dir, certs):  # the conftest's app, with the agency's key
    app = create_app({"DATA_DIR": str(data_dir), "SPECS_DIR": str(SPECS), "TESTING": True,
                      "SIGNING_PKCS12": str(certs["signing.p12"]), "SIGNING_PKCS12_PASSPHRASE": "motcua-dev"})
    yield app
    app.extensions["motcua"].store.close()


@pytest.mark.browser
def test_officer_signs_the_result_and_the_citizen_downloads_it(app, live_server, browser, certs, tmp_path):
    store = app.extensions["motcua"].store
    code = file_birth(app.test_client(), AN, copies="0")
    accounts.create_account(store, "lan", "Nguyễn Thị Lan", ["desk", "specialist", "leader"], ["000.06.50.H15"], PASSWORD)
    decided(app, code)
    result = tmp_path / "Giấy khai sinh.pdf"
    result.write_bytes(small_pdf("Giay khai sinh ban dien tu"))

    officer = browser.new_context(locale="vi-VN")
    page = officer.new_page()
    try:
        page.goto(f"{live_server.url}/staff/ho-so/{code}")
        page.get_by_label("Tên đăng nhập").fill("lan")
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        follow(page, page.get_by_role("button", name="Đăng nhập"))
        page.get_by_label("Tệp kết quả (PDF)").set_input_files(str(result))
        assert page.get_by_label("Ký số bằng chứng thư số của cơ quan").is_checked()
        page.get_by_role("button", name="Đính kèm kết quả").click()
        page.get_by_text("Đã ký số và đính kèm kết quả điện tử.").wait_for()
        page.get_by_text("Đã ký số: UBND xã Thử Nghiệm").wait_for()
    finally:
        officer.close()

    citizen = browser.new_context(locale="vi-VN", accept_downloads=True)
    page = citizen.new_page()
    try:
        page.goto(live_server.url + private_link_path(app.secret_key, code))
        page.get_by_text("có chữ ký số của UBND xã Thử Nghiệm").wait_for()
        with page.expect_download() as download:
            page.get_by_role("link", name="Giấy khai sinh.pdf").click()
        saved = tmp_path / "downloaded.pdf"
        download.value.save_as(saved)
    finally:
        citizen.close()
    status = validate(saved.read_bytes(), certs["ca.pem"])  # in its own thread, away from Playwright's loop
    assert status.intact and status.valid and status.trusted
