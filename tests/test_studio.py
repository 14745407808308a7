"""The authoring studio through a real app (Flask test client) on both stores: drafts, lint
and preview endpoints, review by a second admin, immutable versions, history, rollback, and
a second app on the same store (another web process) serving what the first published."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from motcua import accounts, studio
from motcua.app import create_app
from motcua.catalogue import content_hash

from test_backoffice import PASSWORD, csrf_of, login

FIXTURE = Path(__file__).parent / "fixtures" / "studio_spec.yaml"
CODE = "1.999001"
FEE = """fees:
  - {id: phi_xac_nhan, kind: fee, name: {vi: Phí xác nhận, en: Confirmation fee}, amount: 15000}
"""


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    folder = tmp_path / "specs"
    folder.mkdir()
    shutil.copy(FIXTURE, folder / "xac-nhan.yaml")
    return folder


def make_app(data_dir: Path, specs: Path, store_target: str):
    return create_app({"DATA_DIR": str(data_dir), "SPECS_DIR": str(specs), "TESTING": True, "STORE": store_target,
                       "STUDIO_REFRESH_SECONDS": 0})


@pytest.fixture
def studio_app(data_dir: Path, specs: Path, store_target: str):
    app = make_app(data_dir, specs, store_target)
    store = app.extensions["motcua"].store
    accounts.create_account(store, "soan", "Tác giả", ["author"], [], PASSWORD)
    accounts.create_account(store, "quantri", "Quản trị A", ["admin"], [], PASSWORD)
    accounts.create_account(store, "quantri2", "Quản trị B", ["admin"], [], PASSWORD)
    accounts.create_account(store, "motcua", "Cán bộ một cửa", ["desk"], ["000.00.31.H12"], PASSWORD)
    yield app
    store.close()


def client_of(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def token(client, path: str = f"/staff/soan-thao/{CODE}") -> str:
    return csrf_of(client.get(path).get_data(as_text=True))


def new_text(version: str = "2026.2") -> str:
    text = FIXTURE.read_text(encoding="utf-8").replace('version: "2026.1"', f'version: "{version}"')
    text = text.replace("          phone: {type: string, title: {vi: Số điện thoại, en: Phone}, format: vn-mobile}\n",
                        "          phone: {type: string, title: {vi: Số điện thoại, en: Phone}, format: vn-mobile}\n"
                        "          purpose: {type: string, title: {vi: Mục đích sử dụng, en: Purpose}, maxLength: 200}\n")
    return text.replace("steps:\n  - name: payment", FEE + "steps:\n  - name: payment")


def save_and_submit(client, text: str):
    csrf = token(client)
    return client.post(f"/staff/soan-thao/{CODE}/gui-duyet", data={"text": text, "csrf_token": csrf})


@pytest.mark.parametrize("backend", ["tinydb", "postgresql"], indirect=True)
def test_author_submits_a_second_admin_publishes_a_new_immutable_version(studio_app, data_dir, specs, store_target):
    app = studio_app
    store = app.extensions["motcua"].store
    author = client_of(app, "soan")
    page = author.get("/staff/soan-thao/").get_data(as_text=True)
    assert CODE in page and "Đã công bố" in page and "thư mục" in page

    response = save_and_submit(author, new_text())
    assert response.status_code == 302
    assert studio.record(store, CODE)["draft"]["state"] == "review"
    assert app.extensions["motcua"].catalogue.get(CODE).version == "2026.1"  # not before approval

    # a desk officer cannot open the studio, an author cannot approve
    assert client_of(app, "motcua").get("/staff/soan-thao/").status_code == 403
    assert author.post(f"/staff/soan-thao/{CODE}/duyet", data={"csrf_token": token(author)}).status_code == 403
    reviewer = client_of(app, "quantri")
    assert reviewer.post(f"/staff/soan-thao/{CODE}/duyet", data={"csrf_token": token(reviewer)}).status_code == 302
    rec = studio.record(store, CODE)
    assert rec["published"] == f"{CODE}@2026.2" and rec["draft"] is None
    # immutable: the same version with other content is refused, also through the store's own rule
    assert not store.records(studio.VERSIONS).insert_new(f"{CODE}@2026.2", {"text": "other"})
    assert save_and_submit(author, new_text().replace("15000", "16000")).status_code == 302
    assert "Phiên bản 2026.2 đã được công bố với nội dung khác" in author.get(f"/staff/soan-thao/{CODE}").get_data(as_text=True)


@pytest.mark.parametrize("backend", ["tinydb", "postgresql"], indirect=True)
def test_review_publish_history_rollback_and_another_process(studio_app, data_dir, specs, store_target):
    app = studio_app
    store = app.extensions["motcua"].store
    author = client_of(app, "quantri")  # an admin may author too, but not approve their own draft
    assert save_and_submit(author, new_text()).status_code == 302
    same = author.post(f"/staff/soan-thao/{CODE}/duyet", data={"csrf_token": token(author)}, follow_redirects=True)
    assert "Người soạn không tự duyệt được" in same.get_data(as_text=True)
    assert studio.record(store, CODE)["draft"]["state"] == "review"

    reviewer = client_of(app, "quantri2")
    page = reviewer.get(f"/staff/soan-thao/{CODE}").get_data(as_text=True)
    assert "Duyệt và công bố" in page
    done = reviewer.post(f"/staff/soan-thao/{CODE}/duyet", data={"csrf_token": csrf_of(page)}, follow_redirects=True)
    assert "Đã duyệt và công bố phiên bản mới." in done.get_data(as_text=True)
    served = app.extensions["motcua"].catalogue.get(CODE)
    assert served.version == "2026.2" and served.fees[0].amount == 15000
    assert studio.version(store, f"{CODE}@2026.2")["approved_by"] == "quantri2"
    # the folder's version became the first of the history, for diff and rollback
    keys = [e["key"] for e in studio.history(store, CODE)]
    assert keys == [f"{CODE}@2026.2", f"{CODE}@2026.1"]
    listed = reviewer.get("/staff/soan-thao/").get_data(as_text=True)
    assert "2026.2, 2026.1" in listed and "xưởng soạn thảo" in listed
    diff = reviewer.get(f"/staff/soan-thao/{CODE}/lich-su").get_data(as_text=True)
    assert re.search(r'class="diff-add">\+\s+purpose:', diff)
    assert re.search(r'class="diff-del">-version: &#34;2026.1&#34;|class="diff-del">-version: "2026.1"', diff)

    # another web process on the same store (and the same folder) serves the published version
    other = make_app(data_dir, specs, store_target)
    try:
        assert other.extensions["motcua"].catalogue.get(CODE).version == "2026.2"
        assert "Phí xác nhận" in other.test_client().get(f"/thu-tuc/{CODE}").get_data(as_text=True)

        # rollback: the old version is put up for review and published again by another admin
        hist = author.get(f"/staff/soan-thao/{CODE}/lich-su").get_data(as_text=True)
        author.post(f"/staff/soan-thao/{CODE}/khoi-phuc", data={"key": f"{CODE}@2026.1", "csrf_token": csrf_of(hist)})
        page = reviewer.get(f"/staff/soan-thao/{CODE}").get_data(as_text=True)
        reviewer.post(f"/staff/soan-thao/{CODE}/duyet", data={"csrf_token": csrf_of(page)})
        assert app.extensions["motcua"].catalogue.get(CODE).version == "2026.1"
        # the other process sees it on its next request (STUDIO_REFRESH_SECONDS=0 here)
        assert "Phí xác nhận" not in other.test_client().get(f"/thu-tuc/{CODE}").get_data(as_text=True)
        assert other.extensions["motcua"].catalogue.get(CODE).version == "2026.1"
        assert studio.history(store, CODE)[0]["action"] == "rollback"
    finally:
        other.extensions["motcua"].store.close()

    # a restart keeps the studio's publication over the folder file it has seen
    restarted = make_app(data_dir, specs, store_target)
    try:
        assert restarted.extensions["motcua"].catalogue.get(CODE).version == "2026.1"
    finally:
        restarted.extensions["motcua"].store.close()  # a pool left to the collector: docs/store.md


def test_changed_content_under_a_published_version_is_refused(studio_app):
    app = studio_app
    author = client_of(app, "soan")
    changed = new_text(version="2026.1")  # a new field and a fee, version not bumped
    response = save_and_submit(author, changed)
    page = author.get(response.headers["Location"]).get_data(as_text=True)
    assert "Phiên bản 2026.1 đã được công bố với nội dung khác" in page
    assert studio.record(app.extensions["motcua"].store, CODE)["draft"]["state"] == "draft"


def test_a_draft_with_lint_errors_cannot_be_submitted(studio_app):
    author = client_of(studio_app, "soan")
    bad = new_text().replace("amount: 15000", "amout: 15000")
    response = save_and_submit(author, bad)
    page = author.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bản thảo còn lỗi" in page
    assert "ý bạn là `amount`" in page  # the finding is listed beside the editor, without JavaScript too, in the UI language


def test_operator_deploys_a_new_folder_file_it_wins_over_an_older_studio_publication(studio_app, data_dir, specs, store_target):
    app = studio_app
    store = app.extensions["motcua"].store
    save_and_submit(client_of(app, "soan"), new_text())
    reviewer = client_of(app, "quantri")
    reviewer.post(f"/staff/soan-thao/{CODE}/duyet", data={"csrf_token": token(reviewer)})
    assert app.extensions["motcua"].catalogue.get(CODE).version == "2026.2"
    # the operator deploys content the studio never saw
    (specs / "xac-nhan.yaml").write_text(new_text("2026.3").replace("15000", "20000"), encoding="utf-8")
    restarted = make_app(data_dir, specs, store_target)
    try:
        spec = restarted.extensions["motcua"].catalogue.get(CODE)
        assert spec.version == "2026.3" and spec.fees[0].amount == 20000
        assert CODE not in restarted.extensions["motcua"].catalogue.from_studio
    finally:
        restarted.extensions["motcua"].store.close()
    assert content_hash(spec) not in studio.known_hashes(store, CODE)


def test_lint_and_preview_endpoints_need_csrf_and_answer_json(studio_app):
    author = client_of(studio_app, "soan")
    csrf = token(author)
    refused = author.post("/staff/soan-thao/kiem-tra", json={"text": "code: x"})
    assert refused.status_code == 400  # no CSRF token
    typo = new_text().replace("amount: 15000", "amout: 15000")
    found = author.post("/staff/soan-thao/kiem-tra", json={"text": typo}, headers={"X-CSRFToken": csrf}).get_json()
    line = next(n for n, text in enumerate(typo.splitlines(), 1) if "amout" in text)
    assert not found["ok"] and any(f["line"] == line and "amout" in f["message"] for f in found["findings"])

    answers = {"applicant": {"full_name": "Lê Văn Tám", "phone": "12"}}
    shown = author.post(f"/staff/soan-thao/{CODE}/xem-truoc", json={"text": new_text(), "answers": answers},
                        headers={"X-CSRFToken": csrf}).get_json()
    assert shown["ok"]
    assert "15.000" in shown["vi"]["fees"] and "VND 15,000" in shown["en"]["fees"]
    assert "Mục đích sử dụng" in shown["vi"]["form"] and "Purpose" in shown["en"]["form"]
    assert "Lê Văn Tám" in shown["vi"]["form"]  # the sample answers fill the form
    assert "Confirmation letter" in shown["en"]["procedure"]
    bad = author.post(f"/staff/soan-thao/{CODE}/xem-truoc", json={"text": new_text(), "answers": [1]},
                      headers={"X-CSRFToken": csrf}).get_json()
    assert not bad["ok"] and bad["answers_error"]
    escaped = author.post(f"/staff/soan-thao/{CODE}/xem-truoc",
                          json={"text": new_text().replace("Cấp giấy xác nhận", "<script>x()</script>"), "answers": {}},
                          headers={"X-CSRFToken": csrf}).get_json()
    assert "<script>x()" not in escaped["vi"]["procedure"] and "&lt;script&gt;" in escaped["vi"]["procedure"]


def test_schema_for_the_editor_and_roles():
    assert "author" in accounts.ROLES and accounts.ROLE_LABELS["author"]["en"] == "Procedure author"


def test_an_admin_retires_a_procedure_and_brings_it_back(studio_app):
    app = studio_app
    admin = client_of(app, "quantri")
    author = client_of(app, "soan")
    assert author.post(f"/staff/soan-thao/{CODE}/ngung", data={"retired": "1", "csrf_token": token(author)}).status_code == 403
    admin.post(f"/staff/soan-thao/{CODE}/ngung", data={"retired": "1", "csrf_token": token(admin)})
    assert app.test_client().get(f"/thu-tuc/{CODE}").status_code == 404
    listed = admin.get("/staff/soan-thao/").get_data(as_text=True)
    assert "Ngừng áp dụng" in listed
    page = admin.get(f"/staff/soan-thao/{CODE}").get_data(as_text=True)
    assert 'version: "2026.1"' in page.replace("&#34;", '"')  # the folder's text still opens
    admin.post(f"/staff/soan-thao/{CODE}/ngung", data={"csrf_token": csrf_of(page)})
    assert app.test_client().get(f"/thu-tuc/{CODE}").status_code == 200


def test_approval_checks_the_performers_against_the_deployment_registry(studio_app):
    """A draft in review whose performers the registry does not have (submitted before the
    registry changed, or through a path that skipped the check) is not published."""
    store = studio_app.extensions["motcua"].store
    registry = studio_app.extensions["motcua"].catalogue.agencies
    text = new_text().replace(
        "agency: {name: {vi: Ủy ban nhân dân cấp xã, en: Commune People's Committee}, tier: commune, code: 000.00.31.H12}\n",
        "performed_by: {tier: commune, kind: khongco, name: {vi: Ủy ban nhân dân cấp xã, en: Commune People's Committee}}\n")
    base = studio_app.extensions["motcua"].catalogue.get(CODE)
    studio.save_draft(store, CODE, text, "soan")
    studio.submit(store, CODE, "soan", base)  # no registry: the performer check did not run
    with pytest.raises(studio.StudioError):
        studio.approve(store, CODE, "quantri", base, None, registry)
    assert not studio.record(store, CODE).get("published")
    assert studio.record(store, CODE)["draft"]["state"] == "review"
