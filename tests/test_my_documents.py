"""Once-only: a signed-in citizen attaches a file filed before ("Giấy tờ của tôi") to a new
dossier without uploading it again; nobody attaches or sees another account's files.
Real app, real identity simulator, real staff login."""

from __future__ import annotations

import re

from tests.identity_helpers import idp, oidc_app, oidc_client, sign_in  # noqa: F401 - fixtures
from tests.portal_helpers import GOOD_ANSWERS, OFFICE, csrf
from tests.test_accounts_dossiers import AN, FORM, file_birth, text
from tests.test_accounts_results import staff_client

BINH = {"requester.full_name": "Trần Thị Bình", "requester.cccd": "079192004567",
        "requester.phone": "0987654321", "requester.relation": "me"}
SLOT = "attachment.giay_chung_sinh"


def to_attachments(client, requester: dict) -> tuple[str, str]:
    """Fill the pages before the attachments step; (step base URL, CSRF token)."""
    token = csrf(text(client.get(FORM)))
    response = client.post(FORM, data={"csrf_token": token, "agency": OFFICE, **requester})
    assert response.status_code == 302, text(response)
    base = response.headers["Location"].rsplit("/", 1)[0]
    for page in ("child", "parents", "copies"):
        answers = {"extract_copies": "1"} if page == "copies" else GOOD_ANSWERS[page]
        assert client.post(f"{base}/{page}", data={"csrf_token": token, **answers}).status_code == 302
    return base, token


def finish(client, base: str, token: str) -> str:
    assert client.post(f"{base}/nhan-ket-qua", data={"csrf_token": token, "delivery.kind": "desk"}).status_code == 302
    html = text(client.get(f"{base}/kiem-tra"))
    submit = re.search(r'name="submit_token" value="([^"]+)"', html).group(1)
    response = client.post(f"{base}/kiem-tra", data={"csrf_token": token, "submit_token": submit})
    assert response.status_code == 302, text(response)
    return re.search(r"/ho-so/([^/]+)/xac-nhan", response.headers["Location"]).group(1)


def reuse_options(html: str) -> list[str]:
    select = re.search(r'<select[^>]*name="reuse\.attachment\.giay_chung_sinh"[^>]*>(.*?)</select>', html, re.S)
    return re.findall(r'<option value="([^"]+)"', select.group(1)) if select else []


def test_a_filed_document_is_attached_again_without_uploading(oidc_app, monkeypatch):
    store = oidc_app.extensions["motcua"].store
    an = oidc_app.test_client()
    sign_in(an, "demo-citizen-an")
    first = file_birth(an, AN)  # uploads gcs.pdf
    file_id = store.dossiers.get(first).attachments[0].file_id
    listing = text(an.get("/giay-to-cua-toi"))
    assert f'data-file="{file_id}"' in listing and "gcs.pdf" in listing and first in listing
    assert "Giấy chứng sinh" in listing  # the component's name
    assert "/giay-to-cua-toi" in text(an.get("/ho-so-cua-toi"))

    base, token = to_attachments(an, AN)
    page = text(an.get(f"{base}/dinh-kem"))
    assert reuse_options(page) == [file_id] and "Hoặc chọn từ giấy tờ của tôi" in page
    files_before = sorted(store.files.ids())
    response = an.post(f"{base}/dinh-kem", data={"csrf_token": token, f"reuse.{SLOT}": file_id})
    assert response.status_code == 302, text(response)
    second = finish(an, base, token)
    assert second != first
    [ref] = store.dossiers.get(second).attachments
    assert ref.file_id == file_id and ref.filename == "gcs.pdf" and ref.component == "giay_chung_sinh"
    assert sorted(store.files.ids()) == files_before  # nothing uploaded, nothing stored again

    staff = staff_client(oidc_app, "lan", ["desk", "specialist", "leader"])
    desk = text(staff.get(f"/staff/ho-so/{second}"))
    assert "gcs.pdf" in desk and f"/staff/ho-so/{second}/tep/0" in desk
    assert staff.get(f"/staff/ho-so/{second}/tep/0").data == store.files.read(file_id)


def test_another_account_cannot_attach_it_by_posting_its_id(oidc_app):
    store = oidc_app.extensions["motcua"].store
    an, binh = oidc_app.test_client(), oidc_app.test_client()
    sign_in(an, "demo-citizen-an")
    first = file_birth(an, AN)
    file_id = store.dossiers.get(first).attachments[0].file_id

    sign_in(binh, "demo-citizen-binh")
    assert file_id not in text(binh.get("/giay-to-cua-toi")) and "Chưa có giấy tờ nào" in text(binh.get("/giay-to-cua-toi"))
    base, token = to_attachments(binh, BINH)
    page = text(binh.get(f"{base}/dinh-kem"))
    assert file_id not in page and reuse_options(page) == []
    stolen = binh.post(f"{base}/dinh-kem", data={"csrf_token": token, f"reuse.{SLOT}": file_id})
    guessed = binh.post(f"{base}/dinh-kem", data={"csrf_token": token, f"reuse.{SLOT}": "0" * 64})
    assert stolen.status_code == guessed.status_code == 200
    message = "Giấy tờ đã chọn không có trong giấy tờ của bạn"
    assert message in text(stolen) and message in text(guessed)
    assert text(stolen).replace(file_id, "X").count(message) == text(guessed).count(message)
    [(_token, draft)] = [(k, d) for k, d in store.records("drafts").all() if d.get("account") != store.dossiers.get(first).account]
    assert not draft.get("attachments")
    # Filing anyway is refused for the missing attachment: nothing filed for Bình.
    assert binh.post(f"{base}/nhan-ket-qua", data={"csrf_token": token, "delivery.kind": "desk"}).status_code == 302
    html = text(binh.get(f"{base}/kiem-tra"))
    submit = re.search(r'name="submit_token" value="([^"]+)"', html)
    if submit:
        binh.post(f"{base}/kiem-tra", data={"csrf_token": token, "submit_token": submit.group(1)})
    assert [d.code for d in store.dossiers.all()] == [first]


def test_anonymous_visitor_sees_no_list_and_cannot_reuse(oidc_app):
    store = oidc_app.extensions["motcua"].store
    an = oidc_app.test_client()
    sign_in(an, "demo-citizen-an")
    first = file_birth(an, AN)
    file_id = store.dossiers.get(first).attachments[0].file_id

    anon = oidc_app.test_client()
    response = anon.get("/giay-to-cua-toi")
    assert response.status_code == 302 and "/dang-nhap" in response.headers["Location"]
    base, token = to_attachments(anon, AN)
    page = text(anon.get(f"{base}/dinh-kem"))
    assert "reuse." not in page and file_id not in page and "giấy tờ của tôi" not in page
    response = anon.post(f"{base}/dinh-kem", data={"csrf_token": token, f"reuse.{SLOT}": file_id})
    assert response.status_code == 200 and "Giấy tờ đã chọn không có trong giấy tờ của bạn" in text(response)


def test_a_chosen_file_must_suit_the_slot_as_an_upload_would(oidc_app):
    """The slot's rules are applied to the stored bytes: a listed file that no longer passes
    (here the spec's size limit lowered after it was filed) is refused like an upload."""
    store = oidc_app.extensions["motcua"].store
    an = oidc_app.test_client()
    sign_in(an, "demo-citizen-an")
    first = file_birth(an, AN)
    file_id = store.dossiers.get(first).attachments[0].file_id
    spec = oidc_app.extensions["motcua"].catalogue.get(store.dossiers.get(first).procedure_code)
    component = spec.attachment("giay_chung_sinh")
    base, token = to_attachments(an, AN)
    original = component.max_size_mb
    object.__setattr__(component, "max_size_mb", 1 / (1024 * 1024))  # one byte
    try:
        assert reuse_options(text(an.get(f"{base}/dinh-kem"))) == []  # not offered
        response = an.post(f"{base}/dinh-kem", data={"csrf_token": token, f"reuse.{SLOT}": file_id})
    finally:
        object.__setattr__(component, "max_size_mb", original)
    assert response.status_code == 200 and "quá lớn" in text(response)
