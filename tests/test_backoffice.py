"""The back office, used the way staff use it: log in, work the queue, act, take in paper.

Two agencies share one portal here: the commune of the shipped birth-registration spec and
a second commune with its own copy of that procedure, so isolation between agencies is
checked on real dossiers filed through the real filing code.
"""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import BACKENDS
from click.testing import CliRunner

from motcua import accounts
from motcua.app import create_app
from motcua.cli import main as cli
from motcua.dossier import Dossier, Status
from tests.portal_helpers import dump_yaml, read_yaml

REPO = Path(__file__).resolve().parent.parent
BIRTH_SPEC = REPO / "procedure_specs" / "ho-tich" / "dang-ky-khai-sinh.yaml"
AGENCY_A = "000.06.50.H15"  # Phường Hải Châu's People's Committee (shipped registry, Đà Nẵng)
AGENCY_B = "000.01.50.H15"  # another office of the registry, the only performer of the second spec
PASSWORD = "mat-khau-rat-dai-1"


@pytest.fixture
def two_agency_specs(tmp_path: Path) -> Path:
    """The shipped birth spec (every commune office performs it; filed here with AGENCY_A),
    plus the same procedure published for one other office only."""
    folder = tmp_path / "specs"
    (folder / "ho-tich").mkdir(parents=True)
    shutil.copy(BIRTH_SPEC, folder / "ho-tich" / "dang-ky-khai-sinh.yaml")
    other = read_yaml(BIRTH_SPEC)
    other["code"] = "1.001193.B"
    other["performed_by"] = [AGENCY_B]
    (folder / "ho-tich" / "khai-sinh-xa-b.yaml").write_text(dump_yaml(other, sort_keys=True), encoding="utf-8")
    return folder


@pytest.fixture
def office(tmp_path: Path, two_agency_specs: Path, store_target: str):
    app = create_app(
        {"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(two_agency_specs), "TESTING": True, "STAFF_PAGE_SIZE": 4,
         "STORE": store_target}
    )
    assert app.extensions["motcua"].catalogue.problems == []
    store = app.extensions["motcua"].store
    accounts.create_account(store, "lan", "Nguyễn Thị Lan", ["desk"], [AGENCY_A], PASSWORD)
    accounts.create_account(store, "minh", "Trần Văn Minh", ["specialist"], [AGENCY_A], PASSWORD)
    accounts.create_account(store, "binh", "Lê Văn Bình", ["desk"], [AGENCY_B], PASSWORD)
    yield app
    store.close()


def answers(name: str = "Nguyễn Văn An", phone: str = "0912345678", copies: int = 0) -> dict:
    """Valid birth-registration answers; with no extract copies nothing is to be paid."""
    return {
        "requester": {"full_name": name, "cccd": "001085012345", "phone": phone, "relation": "cha"},
        "child": {
            "full_name": "Nguyễn Văn Bình",
            "birth_date": (date.today() - timedelta(days=10)).isoformat(),
            "sex": "nam",
            "ethnicity": "Kinh",
            "nationality": "Việt Nam",
            "birth_place": "Bệnh viện Phụ sản Hải Phòng",
        },
        "mother": {"full_name": "Trần Thị Cúc", "birth_year": 1990},
        "has_father": True,
        "father": {"full_name": "Nguyễn Văn An", "birth_year": 1988},
        "birth_proof": "giay_chung_sinh",
        "extract_copies": copies,
    }


def file_online(app, procedure_code: str = "1.001193", **kw) -> Dossier:
    from motcua.filing import file_dossier

    spec = app.extensions["motcua"].catalogue.get(procedure_code)
    agency = AGENCY_A if procedure_code == "1.001193" else None  # the second spec has one office
    with app.test_request_context():
        return file_dossier(spec, answers(**kw), [], channel="online", delivery=None, actor="citizen", agency=agency)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    token = csrf_of(client.get("/staff/login").get_data(as_text=True))
    return client.post("/staff/login", data={"username": username, "password": password, "csrf_token": token})


def logged_in(app, username: str):
    client = app.test_client()
    response = login(client, username)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


# --- login --------------------------------------------------------------------------------


def test_first_run_login_page_says_how_to_create_the_first_admin(tmp_path, two_agency_specs):
    app = create_app({"DATA_DIR": str(tmp_path / "empty"), "SPECS_DIR": str(two_agency_specs), "TESTING": True})
    assert "motcua staff add admin" in app.test_client().get("/staff/login").get_data(as_text=True)


def test_queue_needs_login(office):
    assert "motcua staff add" not in office.test_client().get("/staff/login").get_data(as_text=True)
    response = office.test_client().get("/staff/")
    assert response.status_code == 302
    assert response.location.startswith("/staff/login")


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_login_fails_with_a_wrong_password_and_succeeds_with_the_right_one(office):
    client = office.test_client()
    wrong = login(client, "lan", "not-the-password")
    assert wrong.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in wrong.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302

    right = login(client, "lan")
    assert right.status_code == 302
    page = client.get("/staff/")
    assert page.status_code == 200
    assert "Nguyễn Thị Lan" in page.get_data(as_text=True)


def test_unknown_user_gets_the_same_message(office):
    response = login(office.test_client(), "nobody")
    assert response.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in response.get_data(as_text=True)


def test_default_hash_is_full_strength_scrypt(cheap_hashes, monkeypatch):
    monkeypatch.setattr(accounts, "HASH_METHOD", cheap_hashes)  # the shipped method (the run hashes cheaper)
    hashed = accounts.hash_password(PASSWORD)
    assert hashed.startswith("scrypt:32768:8:1$")
    assert accounts.StaffUser(username="x", name="X", password_hash=hashed).check_password(PASSWORD)


def test_password_is_stored_only_as_a_salted_hash(office):
    raw = (Path(office.config["DATA_DIR"])).rglob("*")
    stored = "".join(p.read_text(errors="ignore") for p in raw if p.is_file())
    assert PASSWORD not in stored
    user = accounts.get_account(office.extensions["motcua"].store, "lan")
    assert user.password_hash.startswith("scrypt:")
    other = accounts.get_account(office.extensions["motcua"].store, "minh")
    assert other.password_hash != user.password_hash  # same password, different salt


def test_login_post_without_csrf_token_is_refused(office):
    client = office.test_client()
    response = client.post("/staff/login", data={"username": "lan", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/staff/").status_code == 302


def test_action_post_without_csrf_token_is_refused(office):
    dossier = file_online(office)
    client = logged_in(office, "lan")
    response = client.post(f"/staff/ho-so/{dossier.code}/xu-ly", data={"action": "receive"})
    assert response.status_code == 400
    assert office.extensions["motcua"].store.dossiers.get(dossier.code) == dossier


def test_repeated_failures_refuse_that_client_for_a_while(office):
    limit = accounts.LoginLimits().per_account
    client = office.test_client()
    for _ in range(limit):
        assert login(client, "lan", "wrong-password").status_code == 401
    refused = login(client, "lan")  # the right password, too late from this client
    assert refused.status_code == 429
    assert "thử lại sau" in refused.get_data(as_text=True)
    # Another account is not affected.
    assert login(office.test_client(), "minh").status_code == 302


def test_the_counting_window_runs_out(office):
    store = office.extensions["motcua"].store
    limits = accounts.LoginLimits()
    start = 1_756_713_600.0
    for _ in range(limits.per_account):
        assert not accounts.authenticate(store, "lan", "wrong", client="10.0.0.9", now=start).ok
    early = accounts.authenticate(store, "lan", PASSWORD, client="10.0.0.9", now=start + 60)
    assert not early.ok and early.retry_after and early.retry_after <= limits.window_s
    assert accounts.authenticate(store, "lan", PASSWORD, client="10.0.0.9", now=start + limits.window_s + 1).ok


def test_logout_ends_the_session(office):
    client = logged_in(office, "lan")
    token = csrf_of(client.get("/staff/").get_data(as_text=True))
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/staff/").status_code == 302


def test_login_never_redirects_off_site(office):
    client = office.test_client()
    token = csrf_of(client.get("/staff/login").get_data(as_text=True))
    response = client.post(
        "/staff/login",
        data={"username": "lan", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/"},
    )
    assert response.status_code == 302
    assert response.location == "/staff/"


def test_disabled_account_loses_its_session(office):
    client = logged_in(office, "lan")
    accounts.set_active(office.extensions["motcua"].store, "lan", False)
    assert client.get("/staff/").status_code == 302


# --- the queue ------------------------------------------------------------------------------


def test_queue_shows_only_the_staff_members_agencies(office):
    mine = file_online(office, name="Phạm Thị Hoa")
    theirs = file_online(office, "1.001193.B", name="Đỗ Văn Khoa")
    page = logged_in(office, "lan").get("/staff/?status=all").get_data(as_text=True)
    assert mine.code in page and "Phạm Thị Hoa" in page
    assert theirs.code not in page and "Đỗ Văn Khoa" not in page

    other_page = logged_in(office, "binh").get("/staff/?status=all").get_data(as_text=True)
    assert theirs.code in other_page and mine.code not in other_page


def test_another_agencys_dossier_is_not_found_by_url(office):
    theirs = file_online(office, "1.001193.B")
    client = logged_in(office, "lan")
    assert client.get(f"/staff/ho-so/{theirs.code}").status_code == 404
    assert client.get(f"/staff/ho-so/{theirs.code}/giay-tiep-nhan.pdf").status_code == 404
    assert client.get(f"/staff/ho-so/{theirs.code}/tep/0").status_code == 404
    token = csrf_of(client.get("/staff/").get_data(as_text=True))
    response = client.post(f"/staff/ho-so/{theirs.code}/xu-ly", data={"action": "receive", "csrf_token": token})
    assert response.status_code == 404
    assert office.extensions["motcua"].store.dossiers.get(theirs.code) == theirs


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_queue_filters_by_text_status_channel_and_overdue(office):
    store = office.extensions["motcua"].store
    hoa = file_online(office, name="Phạm Thị Hoa")
    khoa = file_online(office, name="Đỗ Văn Khoa")
    client = logged_in(office, "lan")

    by_name = client.get("/staff/?q=pham thi hoa").get_data(as_text=True)  # no diacritics typed
    assert hoa.code in by_name and khoa.code not in by_name
    by_code = client.get(f"/staff/?q={khoa.code}").get_data(as_text=True)
    assert khoa.code in by_code and hoa.code not in by_code

    assert hoa.code not in client.get("/staff/?channel=desk").get_data(as_text=True)
    assert hoa.code in client.get("/staff/?channel=online").get_data(as_text=True)

    # Make Khoa's dossier overdue: its due date moved into the past (an event-less edit is
    # fine for arranging a test; the store is the real one).
    store.dossiers.update(khoa.code, lambda d: setattr(d, "due_date", date.today() - timedelta(days=3)))
    overdue = client.get("/staff/?overdue=1").get_data(as_text=True)
    assert khoa.code in overdue and hoa.code not in overdue
    assert "Quá hạn" in overdue

    received = client.get(f"/staff/?status={int(Status.RECEIVED)}").get_data(as_text=True)
    assert hoa.code not in received and khoa.code not in received
    new = client.get(f"/staff/?status={int(Status.NEW)}").get_data(as_text=True)
    assert hoa.code in new and khoa.code in new
    # a digit str.isdigit() takes but int() does not (found by the API fuzz's deep run): no 500
    assert client.get("/staff/?status=%C2%B2").status_code == 200


def test_queue_is_sorted_by_due_date_and_paginated(office):
    size = office.config["STAFF_PAGE_SIZE"]
    store = office.extensions["motcua"].store
    codes = [file_online(office, name=f"Người nộp {i}").code for i in range(size + 2)]
    # The last filed is due first.
    store.dossiers.update(codes[-1], lambda d: setattr(d, "due_date", date.today() - timedelta(days=5)))
    client = logged_in(office, "lan")
    first = client.get("/staff/").get_data(as_text=True)
    rows = re.findall(r'<th scope="row"[^>]*><a href="/staff/ho-so/([^"]+)"', first)
    assert len(rows) == size
    assert rows[0] == codes[-1]
    second = client.get("/staff/?page=2").get_data(as_text=True)
    rest = re.findall(r'<th scope="row"[^>]*><a href="/staff/ho-so/([^"]+)"', second)
    assert len(rest) == 2
    assert set(rows) | set(rest) == set(codes)


# --- one dossier ---------------------------------------------------------------------------


def test_opening_a_dossier_shows_data_fees_and_timeline(office):
    dossier = file_online(office, name="Phạm Thị Hoa", copies=2)
    page = logged_in(office, "lan").get(f"/staff/ho-so/{dossier.code}").get_data(as_text=True)
    assert dossier.code in page
    assert "Phạm Thị Hoa" in page  # answer rows
    assert "Bệnh viện Phụ sản Hải Phòng" in page
    assert "16.000 ₫" in page  # two extract copies at 8,000 VND
    assert "Chưa thanh toán" in page
    assert "Quá trình xử lý" in page and "Công dân" in page


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_allowed_action_changes_status_and_appends_an_event(office):
    store = office.extensions["motcua"].store
    dossier = file_online(office)
    client = logged_in(office, "lan")
    page = client.get(f"/staff/ho-so/{dossier.code}").get_data(as_text=True)
    assert 'name="action" value="receive"' in page
    before = len(store.dossiers.get(dossier.code).events)

    response = client.post(
        f"/staff/ho-so/{dossier.code}/xu-ly", data={"action": "receive", "csrf_token": csrf_of(page)}
    )
    assert response.status_code == 302
    after = store.dossiers.get(dossier.code)
    assert after.status == Status.RECEIVED
    assert len(after.events) > before
    assert any(e.actor == "staff:lan" and e.status == Status.RECEIVED for e in after.events)
    shown = client.get(f"/staff/ho-so/{dossier.code}").get_data(as_text=True)
    assert "Nguyễn Thị Lan" in shown  # the timeline names who did it


def test_disallowed_action_says_why_and_changes_nothing(office):
    store = office.extensions["motcua"].store
    dossier = file_online(office)
    client = logged_in(office, "lan")
    page = client.get(f"/staff/ho-so/{dossier.code}").get_data(as_text=True)
    before = store.dossiers.get(dossier.code)

    # Returning a result is not possible on a dossier that has just been filed.
    response = client.post(
        f"/staff/ho-so/{dossier.code}/xu-ly",
        data={"action": "return_result", "csrf_token": csrf_of(page)},
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert "không thể" in text
    after = store.dossiers.get(dossier.code)
    assert after.status == before.status
    assert len(after.events) == len(before.events)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_refusing_needs_a_reason_which_goes_on_the_timeline(office):
    store = office.extensions["motcua"].store
    dossier = file_online(office)
    client = logged_in(office, "lan")
    page = client.get(f"/staff/ho-so/{dossier.code}").get_data(as_text=True)
    assert 'name="action" value="refuse"' in page and 'name="reason"' in page
    token = csrf_of(page)

    blank = client.post(
        f"/staff/ho-so/{dossier.code}/xu-ly", data={"action": "refuse", "reason": "  ", "csrf_token": token}, follow_redirects=True
    )
    assert "lý do" in blank.get_data(as_text=True)
    assert store.dossiers.get(dossier.code) == dossier

    reason = "Người yêu cầu không thuộc diện được đăng ký tại xã này."
    client.post(f"/staff/ho-so/{dossier.code}/xu-ly", data={"action": "refuse", "reason": reason, "csrf_token": token})
    refused = store.dossiers.get(dossier.code)
    assert refused.status == Status.REFUSED
    assert refused.events[-1].note == reason and refused.events[-1].actor == "staff:lan"
    assert reason in client.get(f"/staff/ho-so/{dossier.code}").get_data(as_text=True)


def test_attachment_download_checks_agency_and_sends_a_safe_attachment(office):
    from motcua.dossier import AttachmentRef
    from motcua.filing import file_dossier

    store = office.extensions["motcua"].store
    content = b"%PDF-1.4\n% giay chung sinh\n"
    file_id = store.files.put(content)
    ref = AttachmentRef(
        component="giay_chung_sinh",
        file_id=file_id,
        filename='../../Giấy "chứng" sinh.pdf',
        content_type="application/pdf",
        size=len(content),
        sha256=file_id,
    )
    spec = office.extensions["motcua"].catalogue.get("1.001193")
    with office.test_request_context():
        dossier = file_dossier(spec, answers(), [ref], channel="online", delivery=None, actor="citizen", agency=AGENCY_A)
    client = logged_in(office, "lan")
    page = client.get(f"/staff/ho-so/{dossier.code}").get_data(as_text=True)
    assert f"/staff/ho-so/{dossier.code}/tep/0" in page
    response = client.get(f"/staff/ho-so/{dossier.code}/tep/0")
    assert response.status_code == 200
    assert response.data == content
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert ".." not in disposition and "/" not in disposition.split("filename*=")[0]
    assert client.get(f"/staff/ho-so/{dossier.code}/tep/1").status_code == 404
    assert logged_in(office, "binh").get(f"/staff/ho-so/{dossier.code}/tep/0").status_code == 404


# --- walk-in intake --------------------------------------------------------------------------


def form_data(values: dict, prefix: str = "") -> dict[str, str]:
    """Answers as the flat dotted names the generated form posts."""
    flat: dict[str, str] = {}
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(form_data(value, path + "."))
        elif isinstance(value, bool):
            if value:
                flat[path] = "true"
        else:
            flat[path] = str(value)
    return flat


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_desk_entry_files_a_dossier_with_channel_desk_and_prints_the_receipt(office):
    from pypdf import PdfReader
    import io

    store = office.extensions["motcua"].store
    client = logged_in(office, "lan")
    listing = client.get("/staff/tiep-nhan").get_data(as_text=True)
    assert "/staff/tiep-nhan/1.001193" in listing
    assert "/staff/tiep-nhan/1.001193.B" not in listing  # another agency's procedure

    form_page = client.get("/staff/tiep-nhan/1.001193")
    assert form_page.status_code == 200
    data = form_data(answers(name="Hoàng Thị Mai"))
    data.update({"csrf_token": csrf_of(form_page.get_data(as_text=True)), "received.giay_chung_sinh": "1", "delivery.kind": "desk"})
    response = client.post("/staff/tiep-nhan/1.001193", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    code = response.location.rsplit("/", 1)[-1]
    dossier = store.dossiers.get(code)
    assert dossier.channel == "desk"
    assert dossier.events[0].kind == "filed" and dossier.events[0].actor == "staff:lan"
    assert dossier.contact.name == "Hoàng Thị Mai"
    assert dossier.delivery.kind == "desk"
    assert any(e.kind == "paper_components" and e.data["received"] == ["giay_chung_sinh"] for e in dossier.events)

    receipt = client.get(f"/staff/ho-so/{code}/giay-tiep-nhan.pdf")
    assert receipt.status_code == 200
    assert receipt.mimetype == "application/pdf"
    assert receipt.headers["Content-Disposition"].startswith("attachment")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(receipt.data)).pages)
    assert code in text


def test_desk_entry_keeps_values_and_shows_errors(office):
    store = office.extensions["motcua"].store
    client = logged_in(office, "lan")
    token = csrf_of(client.get("/staff/tiep-nhan/1.001193").get_data(as_text=True))
    bad = answers(name="Hoàng Thị Mai", phone="12345")
    data = form_data(bad)
    data.update({"csrf_token": token, "delivery.kind": "desk"})  # the birth certificate not ticked
    before = store.dossiers.count()
    response = client.post("/staff/tiep-nhan/1.001193", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Hoàng Thị Mai" in page  # kept
    assert "Chưa nhận thành phần bắt buộc: Giấy chứng sinh." in page
    assert 'href="#f-requester-phone"' in page  # the summary links to the field ...
    assert 'id="f-requester-phone-error"' in page  # ... whose message sits beside it
    assert 'href="#f-attachment-giay_chung_sinh"' in page and 'id="f-attachment-giay_chung_sinh"' in page
    assert store.dossiers.count() == before


def test_desk_entry_is_only_for_the_officers_agencies_and_the_desk_role(office):
    assert logged_in(office, "lan").get("/staff/tiep-nhan/1.001193.B").status_code == 404
    assert logged_in(office, "minh").get("/staff/tiep-nhan/1.001193").status_code == 403


# --- English -------------------------------------------------------------------------------


def test_back_office_speaks_english_on_request(office):
    client = office.test_client()
    page = client.get("/staff/login?lang=en").get_data(as_text=True)
    assert "Staff login" in page and "Username" in page


# --- the CLI -------------------------------------------------------------------------------


def test_cli_staff_add_creates_an_account_that_logs_in(tmp_path, two_agency_specs):
    data = tmp_path / "data"
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["staff", "add", "hanh", "--name", "Vũ Thị Hạnh", "--role", "desk", "--role", "leader", "--agency", AGENCY_A, "--data", str(data), "--create"],
        input="mot-mat-khau-dai\nmot-mat-khau-dai\n",
    )
    assert result.exit_code == 0, result.output
    stored = "".join(p.read_text(errors="ignore") for p in data.rglob("*") if p.is_file())
    assert "hanh" in stored and "mot-mat-khau-dai" not in stored

    from motcua.store import open_store

    assert accounts.get_account(open_store(data), "hanh").password_hash.startswith("scrypt:1024:8:1$")
    listed = runner.invoke(cli, ["staff", "list", "--data", str(data)])
    assert "hanh" in listed.output and "Lãnh đạo" in listed.output

    again = runner.invoke(cli, ["staff", "add", "hanh", "--name", "X", "--role", "desk", "--agency", AGENCY_A, "--data", str(data)], input="mot-mat-khau-dai\nmot-mat-khau-dai\n")
    assert again.exit_code != 0 and "đã có" in again.output

    app = create_app({"DATA_DIR": str(data), "SPECS_DIR": str(two_agency_specs), "TESTING": True})
    client = app.test_client()
    assert login(client, "hanh", "mot-mat-khau-dai").status_code == 302
    assert "Vũ Thị Hạnh" in client.get("/staff/").get_data(as_text=True)


def test_cli_refuses_a_short_password_and_a_staff_member_without_agency(tmp_path):
    runner = CliRunner()
    short = runner.invoke(cli, ["staff", "add", "an", "--name", "An", "--role", "desk", "--agency", AGENCY_A, "--data", str(tmp_path), "--create"], input="ngan\nngan\n")
    assert short.exit_code != 0 and "ít nhất" in short.output
    homeless = runner.invoke(cli, ["staff", "add", "an", "--name", "An", "--role", "desk", "--data", str(tmp_path), "--create"], input="mot-mat-khau-dai\nmot-mat-khau-dai\n")
    assert homeless.exit_code != 0 and "cơ quan" in homeless.output


def test_demo_accounts_are_created_once(office):
    store = office.extensions["motcua"].store
    created = accounts.ensure_demo_accounts(store, office.extensions["motcua"].catalogue)
    assert {u.username for u in created} == {"admin", "motcua", "chuyenvien", "lanhdao"}
    assert accounts.ensure_demo_accounts(store, office.extensions["motcua"].catalogue) == []
    desk = accounts.get_account(store, "motcua")
    catalogue = office.extensions["motcua"].catalogue
    assert set(desk.agencies) == {a.code for spec in catalogue for a in catalogue.performers(spec)}  # every performer
    assert {AGENCY_A, AGENCY_B} <= set(desk.agencies)
    assert accounts.authenticate(store, "motcua", accounts.DEMO_PASSWORD).ok
    # a demo data folder from before the registry was recoded: its demo accounts follow the registry
    store.records(accounts.ACCOUNTS).update("motcua", lambda current: {**current, "agencies": ["000.00.A5.H12"]})
    assert accounts.ensure_demo_accounts(store, catalogue) == []
    assert set(accounts.get_account(store, "motcua").agencies) == set(desk.agencies)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_queue_filters_on_summaries_and_reads_only_the_page_shown(office, monkeypatch):
    """At a province's volume reading every dossier per page view costs seconds
    (bench/staff_queue.py): the queue must filter on the store's summaries, reading in full
    only the dossiers of the page it shows."""
    size = office.config["STAFF_PAGE_SIZE"]
    store = office.extensions["motcua"].store
    codes = [file_online(office, name=f"Người nộp {i}").code for i in range(size + 3)]
    store.dossiers.update(codes[0], lambda d: setattr(d, "due_date", date.today() - timedelta(days=2)))
    client = logged_in(office, "lan")

    def no_full_scan(*args, **kwargs):
        raise AssertionError("the queue read every dossier")

    read: list[str] = []
    get = store.dossiers.get

    def counting_get(code):
        read.append(code)
        return get(code)

    monkeypatch.setattr(store.dossiers, "all", no_full_scan)
    monkeypatch.setattr(store.dossiers, "find", no_full_scan)
    monkeypatch.setattr(store.dossiers, "get", counting_get)
    page = client.get("/staff/").get_data(as_text=True)
    rows = re.findall(r'<th scope="row"[^>]*><a href="/staff/ho-so/([^"]+)"', page)
    assert rows[0] == codes[0] and len(rows) == size
    assert sorted(read) == sorted(rows)
    assert f"{size + 3} hồ sơ" in page and "1 quá hạn" in page
    assert "Người nộp 0" in page
