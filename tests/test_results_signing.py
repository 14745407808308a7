"""Signed electronic results: the agency's key from config (a test CA made by `motcua signing
dev-cert`), a bad key stops create_app, staff attach a result that is signed, the citizen
downloads the signed PDF from My dossiers and the signature verifies with pyHanko and poppler.
Real app, real identity simulator, real staff login, real certificates."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from motcua import accounts
from motcua.app import create_app
from motcua.cli import main
from motcua.signing import SigningConfigError, dev_certificate, load_signer
from tests.conftest import SPECS
from tests.identity_helpers import idp, provider_config, sign_in  # noqa: F401 - fixtures
from tests.portal_helpers import csrf, small_pdf
from tests.test_accounts_dossiers import AN, file_birth
from tests.test_accounts_results import attach, decided, staff_client


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> dict[str, Path]:
    """The documented command makes the test CA and the agency's certificate."""
    out = tmp_path_factory.mktemp("signing")
    result = CliRunner().invoke(main, ["signing", "dev-cert", "--out", str(out), "--agency", "UBND xã Thử Nghiệm"])
    assert result.exit_code == 0, result.output
    assert "MOTCUA_SIGNING_KEY=" in result.output
    return {p.name: p for p in out.iterdir()}


def validate(pdf: bytes, ca: Path):
    """pyHanko's verdict on the PDF's one signature, trusting `ca` (in a thread of its own:
    pyHanko runs an asyncio loop, which the browser tests' loop in this thread would refuse)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_validate, pdf, ca).result()


def _validate(pdf: bytes, ca: Path):
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    signatures = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert len(signatures) == 1
    return validate_pdf_signature(signatures[0], ValidationContext(trust_roots=[load_cert_from_pemder(str(ca))]))


@pytest.fixture
def signing_app(data_dir, idp, certs):
    app = create_app({"DATA_DIR": str(data_dir), "SPECS_DIR": str(SPECS), "TESTING": True,
                      "IDENTITY_PROVIDERS": [provider_config(idp.url)],
                      "SIGNING_KEY": str(certs["signing-key.pem"]), "SIGNING_CERT": str(certs["signing-cert.pem"]),
                      "SIGNING_CHAIN": str(certs["ca.pem"])})
    yield app
    app.extensions["motcua"].store.close()


def test_staff_sign_the_result_and_the_owner_downloads_a_signature_that_verifies(signing_app, certs, tmp_path):
    store = signing_app.extensions["motcua"].store
    an = signing_app.test_client()
    sign_in(an, "demo-citizen-an")
    code = file_birth(an, AN, copies="0")
    staff = staff_client(signing_app, "lan", ["desk", "specialist", "leader"])
    decided(signing_app, code)
    page = staff.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert 'name="sign"' in page and "Ký số bằng chứng thư số của cơ quan" in page
    original = small_pdf("Giay khai sinh ban dien tu")
    response = staff.post(f"/staff/ho-so/{code}/ket-qua", content_type="multipart/form-data",
                          data={"csrf_token": csrf(page), "sign": "1", "result": (io.BytesIO(original), "Giấy khai sinh.pdf")},
                          follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Đã ký số và đính kèm kết quả điện tử" in html and "Đã ký số: UBND xã Thử Nghiệm" in html

    event = [e for e in store.dossiers.get(code).events if e.kind == "result_attached"][-1]
    assert event.data["signed_by"] == "UBND xã Thử Nghiệm"

    mine = an.get("/ho-so-cua-toi").get_data(as_text=True)
    link = re.search(rf'href="(/ho-so/{re.escape(code)}/ket-qua/[0-9a-f]+)" data-result-link', mine).group(1)
    signed = an.get(link).data
    assert signed.startswith(original)  # an incremental update: what staff attached is kept
    status = validate(signed, certs["ca.pem"])
    assert status.intact and status.valid and status.trusted
    assert status.signing_cert.subject.native["common_name"] == "UBND xã Thử Nghiệm"
    assert "có chữ ký số của UBND xã Thử Nghiệm" in an.get(f"/ho-so/{code}").get_data(as_text=True)

    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)  # poppler opens it and reads the signature
    assert "Giay khai sinh ban dien tu" in subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    pdfsig = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert "Signer Certificate Common Name: UBND xã Thử Nghiệm" in pdfsig and "Total document signed" in pdfsig

    tampered = signed[:10] + bytes([signed[10] ^ 1]) + signed[11:]  # one byte of the header comment
    assert not validate(tampered, certs["ca.pem"]).intact  # the signature notices a changed byte

    binh = signing_app.test_client()
    sign_in(binh, "demo-citizen-binh")
    assert binh.get(link).status_code == 404  # only the owner's


def test_unticked_sign_box_attaches_the_pdf_as_it_is(signing_app):
    an = signing_app.test_client()
    code = file_birth(an, AN, copies="0")
    staff = staff_client(signing_app, "lan", ["desk", "specialist", "leader"])
    decided(signing_app, code)
    pdf = small_pdf("ban sao")
    attach(staff, code, pdf)  # the form without the sign box
    store = signing_app.extensions["motcua"].store
    event = [e for e in store.dossiers.get(code).events if e.kind == "result_attached"][-1]
    assert "signed_by" not in event.data and store.files.read(event.data["file_id"]) == pdf


def test_a_pdf_that_is_not_one_is_refused_before_signing(signing_app):
    an = signing_app.test_client()
    code = file_birth(an, AN, copies="0")
    staff = staff_client(signing_app, "lan", ["desk", "specialist", "leader"])
    decided(signing_app, code)
    page = staff.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    fake = b"MZ\x90\x00 not a pdf at all"
    response = staff.post(f"/staff/ho-so/{code}/ket-qua", content_type="multipart/form-data", follow_redirects=True,
                          data={"csrf_token": csrf(page), "sign": "1", "result": (io.BytesIO(fake), "ket-qua.pdf")})
    assert response.status_code == 200
    assert not [e for e in signing_app.extensions["motcua"].store.dossiers.get(code).events if e.kind == "result_attached"]
    broken = b"%PDF-1.4\n" + b"garbage " * 50  # starts like a PDF, pyHanko cannot update it
    response = staff.post(f"/staff/ho-so/{code}/ket-qua", content_type="multipart/form-data", follow_redirects=True,
                          data={"csrf_token": csrf(page), "sign": "1", "result": (io.BytesIO(broken), "ket-qua.pdf")})
    assert response.status_code == 200
    assert not [e for e in signing_app.extensions["motcua"].store.dossiers.get(code).events if e.kind == "result_attached"]


def test_pkcs12_with_passphrase_signs_too(certs):
    signer = load_signer({"SIGNING_PKCS12": str(certs["signing.p12"]), "SIGNING_PKCS12_PASSPHRASE": "motcua-dev"})
    status = validate(signer.sign(small_pdf("p12"), reason="test"), certs["ca.pem"])
    assert status.valid and status.trusted


@pytest.mark.parametrize("settings, says", [
    ({"SIGNING_KEY": "/nonexistent/key.pem", "SIGNING_CERT": "{signing-cert.pem}"}, "/nonexistent/key.pem does not exist"),
    ({"SIGNING_KEY": "{signing-key.pem}"}, "SIGNING_CERT (MOTCUA_SIGNING_CERT) is not set"),
    ({"SIGNING_KEY": "{ca.pem}", "SIGNING_CERT": "{signing-cert.pem}"}, "SIGNING_KEY: not a PEM private key"),
    ({"SIGNING_PKCS12": "{signing.p12}", "SIGNING_PKCS12_PASSPHRASE": "wrong"}, "SIGNING_PKCS12_PASSPHRASE"),
    ({"SIGNING_PKCS12": "{signing.p12}"}, "SIGNING_PKCS12"),
])
def test_a_bad_signing_setting_stops_create_app_with_a_clear_message(data_dir, certs, settings, says):
    named = {"{" + n + "}": str(p) for n, p in certs.items()}
    config = {k: named.get(v, v) for k, v in settings.items()}
    with pytest.raises(SigningConfigError, match=re.escape(says)):
        create_app({"DATA_DIR": str(data_dir), "SPECS_DIR": str(SPECS), "TESTING": True, **config})


def test_an_unreadable_key_and_a_foreign_key_are_refused(tmp_path, certs):
    other = dev_certificate(tmp_path / "other")
    with pytest.raises(SigningConfigError, match="is not the key of SIGNING_CERT"):
        load_signer({"SIGNING_KEY": str(other["signing-key.pem"]), "SIGNING_CERT": str(certs["signing-cert.pem"])})
    unreadable = tmp_path / "key.pem"
    unreadable.write_bytes(certs["signing-key.pem"].read_bytes())
    unreadable.chmod(0)
    try:
        import os

        if os.geteuid() != 0:  # root reads anything
            with pytest.raises(SigningConfigError, match="cannot be read"):
                load_signer({"SIGNING_KEY": str(unreadable), "SIGNING_CERT": str(certs["signing-cert.pem"])})
    finally:
        unreadable.chmod(0o600)


def test_an_expired_certificate_stops_the_start_and_signing(tmp_path, data_dir):
    short = dev_certificate(tmp_path / "short", days=1)
    settings = {"SIGNING_KEY": str(short["signing-key.pem"]), "SIGNING_CERT": str(short["signing-cert.pem"])}
    later = datetime.now(timezone.utc) + timedelta(days=3)
    with pytest.raises(SigningConfigError, match="expired on"):
        load_signer(settings, now=later)
    from motcua.signing import SigningFailed

    signer = load_signer(settings)  # valid at start, expired by the time it signs
    with pytest.raises(SigningFailed, match="expired"):
        signer.sign(small_pdf(), reason="x", at=later)
    with pytest.raises(SigningConfigError, match="valid only from"):
        load_signer(settings, now=datetime.now(timezone.utc) - timedelta(days=2))


def test_serve_refuses_to_start_with_a_missing_key(tmp_path, certs):
    result = CliRunner().invoke(main, ["serve", "--specs", str(SPECS), "--data", str(tmp_path / "d"), "--port", "1"],
                                env={"MOTCUA_SIGNING_KEY": str(tmp_path / "gone.pem"), "MOTCUA_SIGNING_CERT": str(certs["signing-cert.pem"])})
    assert result.exit_code != 0
    assert result.exit_code == 1 and "cannot start: SIGNING_KEY" in result.output and "gone.pem does not exist" in result.output


def _spec_folder(tmp_path, config: dict) -> str:
    from tests.portal_helpers import birth_spec, write_spec

    data = birth_spec()
    data["steps"] = [s for s in data["steps"] if s != "notify"] + [{"name": "result", "config": config}]
    write_spec(tmp_path / "specs", "khai-sinh", data)
    return str(tmp_path / "specs")


def test_the_spec_says_when_the_result_is_attached_and_that_it_is_signed(data_dir, certs, tmp_path):
    specs = _spec_folder(tmp_path, {"attach_at": "processing", "signature": "required"})
    with pytest.raises(SigningConfigError, match="signature: required` but no signing key is set"):
        create_app({"DATA_DIR": str(data_dir), "SPECS_DIR": specs, "TESTING": True})
    app = create_app({"DATA_DIR": str(data_dir), "SPECS_DIR": specs, "TESTING": True,
                      "SIGNING_PKCS12": str(certs["signing.p12"]), "SIGNING_PKCS12_PASSPHRASE": "motcua-dev"})
    try:
        assert app.extensions["motcua"].catalogue.get("1.001193").step("result") is not None
        code = file_birth(app.test_client(), AN, copies="0")
        staff = staff_client(app, "lan", ["desk", "specialist", "leader"])
        engine, store = app.extensions["motcua"].engine, app.extensions["motcua"].store
        user = accounts.get_account(store, "lan")
        engine.perform(code, "receive", user)
        assert "Đính kèm kết quả" not in staff.get(f"/staff/ho-so/{code}").get_data(as_text=True)  # not before processing
        engine.perform(code, "process", user)
        page = staff.get(f"/staff/ho-so/{code}").get_data(as_text=True)
        assert "data-signature-required" in page and 'name="sign"' not in page  # not the officer's choice
        attach(staff, code, small_pdf("du thao ket qua"))  # posted without the box: signed all the same
        event = [e for e in store.dossiers.get(code).events if e.kind == "result_attached"][-1]
        assert event.data["signed_by"] == "UBND xã Thử Nghiệm"
        assert validate(store.files.read(event.data["file_id"]), certs["ca.pem"]).valid
    finally:
        app.extensions["motcua"].store.close()


def test_a_spec_that_never_signs_and_the_default_that_waits_for_the_decision(data_dir, certs, tmp_path):
    specs = _spec_folder(tmp_path, {"signature": "none"})
    app = create_app({"DATA_DIR": str(data_dir), "SPECS_DIR": specs, "TESTING": True,
                      "SIGNING_KEY": str(certs["signing-key.pem"]), "SIGNING_CERT": str(certs["signing-cert.pem"])})
    try:
        code = file_birth(app.test_client(), AN, copies="0")
        staff = staff_client(app, "lan", ["desk", "specialist", "leader"])
        engine, store = app.extensions["motcua"].engine, app.extensions["motcua"].store
        user = accounts.get_account(store, "lan")
        engine.perform(code, "receive", user)
        engine.perform(code, "process", user)
        page = staff.get(f"/staff/ho-so/{code}").get_data(as_text=True)
        assert "Đính kèm kết quả" not in page  # attach_at defaults to decided
        response = staff.post(f"/staff/ho-so/{code}/ket-qua", content_type="multipart/form-data", follow_redirects=True,
                              data={"csrf_token": csrf(page), "sign": "1", "result": (io.BytesIO(small_pdf()), "kq.pdf")})
        assert "Chỉ đính kèm kết quả khi hồ sơ đã có kết quả giải quyết" in response.get_data(as_text=True)
        engine.perform(code, "propose", user, opinion="Đủ điều kiện.", proposal="approve", draft_text="Dự thảo.")
        engine.perform(code, "approve", user)
        page = staff.get(f"/staff/ho-so/{code}").get_data(as_text=True)
        assert 'name="sign"' not in page
        staff.post(f"/staff/ho-so/{code}/ket-qua", content_type="multipart/form-data",
                   data={"csrf_token": csrf(page), "sign": "1", "result": (io.BytesIO(small_pdf()), "kq.pdf")})
        event = [e for e in store.dossiers.get(code).events if e.kind == "result_attached"][-1]
        assert "signed_by" not in event.data  # a forged tick does not sign what the spec never signs
    finally:
        app.extensions["motcua"].store.close()


def test_signing_works_inside_a_running_event_loop(certs):
    """A server (or a test harness) may run an asyncio loop in the request's thread; pyHanko's
    synchronous API would refuse it there, the signer moves the work to a thread of its own."""
    import asyncio

    signer = load_signer({"SIGNING_PKCS12": str(certs["signing.p12"]), "SIGNING_PKCS12_PASSPHRASE": "motcua-dev"})

    pdf = small_pdf("in a loop")

    async def inside() -> bytes:
        asyncio.get_running_loop()  # a loop runs in this thread while it signs
        return signer.sign(pdf, reason="test")

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # a thread of its own: this one may run a browser test's loop
        signed = pool.submit(asyncio.run, inside()).result()
    assert validate(signed, certs["ca.pem"]).valid


def test_only_the_leader_signs_the_result(signing_app):
    """A specialist may attach the result but not sign it with the agency's key: no sign box,
    a forged tick is refused and nothing is stored; the leader signs."""
    store = signing_app.extensions["motcua"].store
    code = file_birth(signing_app.test_client(), AN, copies="0")
    leader = staff_client(signing_app, "lan", ["desk", "specialist", "leader"])
    decided(signing_app, code)
    specialist = staff_client(signing_app, "minh", ["specialist"])
    page = specialist.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert f'action="/staff/ho-so/{code}/ket-qua"' in page and 'name="sign"' not in page
    response = specialist.post(f"/staff/ho-so/{code}/ket-qua", content_type="multipart/form-data", follow_redirects=True,
                               data={"csrf_token": csrf(page), "sign": "1", "result": (io.BytesIO(small_pdf()), "kq.pdf")})
    assert "Chỉ lãnh đạo được ký số" in response.get_data(as_text=True)
    assert not [e for e in store.dossiers.get(code).events if e.kind == "result_attached"]
    page = leader.get(f"/staff/ho-so/{code}").get_data(as_text=True)
    assert 'name="sign"' in page
    response = leader.post(f"/staff/ho-so/{code}/ket-qua", content_type="multipart/form-data", follow_redirects=True,
                           data={"csrf_token": csrf(page), "sign": "1", "result": (io.BytesIO(small_pdf()), "kq.pdf")})
    assert "Đã ký số và đính kèm" in response.get_data(as_text=True)
