"""A signed-in citizen files with a prefilled form and finds the dossier in "Hồ sơ của tôi";
nobody else reaches it. The sign-in policy of a procedure. Real app, real simulator."""

from __future__ import annotations

import io
import re

import pytest

from motcua.app import create_app
from tests.identity_helpers import idp, oidc_app, oidc_client, provider_config, sign_in  # noqa: F401 - fixtures
from tests.portal_helpers import BIRTH_CODE, GOOD_ANSWERS, OFFICE, birth_spec, csrf, small_pdf, write_spec

FORM = f"/thu-tuc/{BIRTH_CODE}/nop"
AN = {"requester.full_name": "Nguyễn Văn An", "requester.cccd": "001085012345",
      "requester.phone": "0912345678", "requester.relation": "cha"}


def text(response) -> str:
    return response.get_data(as_text=True)


def input_tag(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html)
    assert match, f"no input {name}"
    return match.group(0)


def file_birth(client, requester: dict, copies: str = "2") -> str:
    """Fill every step and file; returns the dossier code."""
    token = csrf(text(client.get(FORM)))
    response = client.post(FORM, data={"csrf_token": token, "agency": OFFICE, **requester})
    assert response.status_code == 302, text(response)
    base = response.headers["Location"].rsplit("/", 1)[0]
    for page in ("child", "parents", "copies"):
        answers = {"extract_copies": copies} if page == "copies" else GOOD_ANSWERS[page]
        assert client.post(f"{base}/{page}", data={"csrf_token": token, **answers}).status_code == 302
    response = client.post(f"{base}/dinh-kem", content_type="multipart/form-data",
                           data={"csrf_token": token, "attachment.giay_chung_sinh": (io.BytesIO(small_pdf()), "gcs.pdf")})
    assert response.status_code == 302
    assert client.post(f"{base}/nhan-ket-qua", data={"csrf_token": token, "delivery.kind": "desk"}).status_code == 302
    html = text(client.get(f"{base}/kiem-tra"))
    submit = re.search(r'name="submit_token" value="([^"]+)"', html).group(1)
    response = client.post(f"{base}/kiem-tra", data={"csrf_token": token, "submit_token": submit})
    assert response.status_code == 302, text(response)
    return re.search(r"/ho-so/([^/]+)/xac-nhan", response.headers["Location"]).group(1)


def test_form_is_prefilled_from_the_identity_and_marked(oidc_client):
    sign_in(oidc_client, "demo-citizen-an")
    html = text(oidc_client.get(FORM))
    name, cccd, phone = (input_tag(html, f"requester.{f}") for f in ("full_name", "cccd", "phone"))
    assert 'value="Nguyễn Văn An"' in name and "readonly" in name and 'data-prefilled="locked"' in name
    assert 'value="001085012345"' in cccd and "readonly" in cccd
    assert 'value="0912345678"' in phone and "readonly" not in phone and 'data-prefilled="prefilled"' in phone
    assert "Lấy từ tài khoản định danh điện tử" in html
    residence = input_tag(html, "requester.residence")
    assert "Phường Hoàn Kiếm" in residence and "Hà Nội" in residence


def test_anonymous_form_is_not_prefilled(client):
    html = text(client.get(FORM))
    assert "data-prefilled" not in html and "readonly" not in input_tag(html, "requester.cccd")


def test_server_refuses_a_changed_locked_value(oidc_app, oidc_client):
    sign_in(oidc_client, "demo-citizen-an")
    token = csrf(text(oidc_client.get(FORM)))
    response = oidc_client.post(FORM, data={"csrf_token": token, **AN, "requester.cccd": "079192004567"})
    assert response.status_code == 200
    html = text(response)
    assert "không được sửa" in html
    assert 'value="001085012345"' in input_tag(html, "requester.cccd")  # kept as the identity says
    [(_key, draft)] = list(oidc_app.extensions["motcua"].store.records("drafts").all())
    assert draft["values"]["requester"]["cccd"] == "001085012345"
    # An unlocked prefilled value may be changed.
    response = oidc_client.post(FORM, data={"csrf_token": token, **AN, "requester.phone": "0987000111", "agency": OFFICE})
    assert response.status_code == 302


def test_signed_in_filing_shows_in_my_dossiers_and_only_to_its_owner(oidc_app, idp):
    an, binh = oidc_app.test_client(), oidc_app.test_client()
    sign_in(an, "demo-citizen-an")
    code = file_birth(an, AN)
    dossier = oidc_app.extensions["motcua"].store.dossiers.get(code)
    assert dossier.account and dossier.contact.cccd == "001085012345"
    page = text(an.get("/ho-so-cua-toi"))
    assert f'data-dossier="{code}"' in page and "Đăng ký khai sinh" in page
    assert "Chờ thực hiện nghĩa vụ tài chính" in page and "Nộp phí, lệ phí" in page  # what is asked, with a link
    # The owner, signed in from another browser, opens it without the second factor.
    again = oidc_app.test_client()
    sign_in(again, "demo-citizen-an")
    assert again.get(f"/ho-so/{code}").status_code == 200
    assert again.get(f"/ho-so/{code}/xac-nhan").status_code == 200
    # Another account: the same answer as for a code that does not exist.
    sign_in(binh, "demo-citizen-binh")
    assert code not in text(binh.get("/ho-so-cua-toi"))
    fake = code[:-4] + "9999"
    for path in ("/ho-so/{c}", "/ho-so/{c}/xac-nhan", "/ho-so/{c}/bien-nhan", "/ho-so/{c}/bien-nhan.pdf"):
        mine, none = binh.get(path.format(c=code)), binh.get(path.format(c=fake))
        assert mine.status_code == none.status_code and mine.status_code in (302, 404), path
        assert mine.headers.get("Location", "").replace(code, "X") == none.headers.get("Location", "").replace(fake, "X")
    assert binh.post(f"/ho-so/{code}/rut", data={"csrf_token": csrf(text(binh.get("/")))}).status_code == 404


def test_dossier_filed_anonymously_with_my_id_number_is_mine_once_signed_in(oidc_app):
    anonymous = oidc_app.test_client()
    code = file_birth(anonymous, AN)
    other = file_birth(anonymous, {**AN, "requester.cccd": "001090012345"})
    an, binh = oidc_app.test_client(), oidc_app.test_client()
    sign_in(an, "demo-citizen-an")
    page = text(an.get("/ho-so-cua-toi"))
    assert code in page and other not in page
    assert an.get(f"/ho-so/{code}").status_code == 200
    sign_in(binh, "demo-citizen-binh")
    assert code not in text(binh.get("/ho-so-cua-toi"))
    assert binh.get(f"/ho-so/{code}").status_code == 302


def test_after_the_id_number_changes_old_anonymous_dossiers_stay_out_but_signed_in_ones_stay(oidc_app, idp):
    an = oidc_app.test_client()
    sign_in(an, "demo-citizen-an")
    mine = file_birth(an, AN)
    idp.post("/sim/identities/demo-citizen-an", {"id_number": "001085099999"})
    sign_in(an, "demo-citizen-an")
    assert mine in text(an.get("/ho-so-cua-toi"))  # the account follows the subject


def test_drafts_in_progress_are_listed(oidc_client):
    sign_in(oidc_client, "demo-citizen-an")
    token = csrf(text(oidc_client.get(FORM)))
    response = oidc_client.post(FORM, data={"csrf_token": token, "agency": OFFICE, **AN})
    draft_token = response.headers["Location"].split("/nop/")[1].split("/")[0]
    page = text(oidc_client.get("/ho-so-cua-toi"))
    assert "Hồ sơ đang soạn" in page and draft_token in page


def test_my_dossiers_needs_sign_in(oidc_client):
    response = oidc_client.get("/ho-so-cua-toi")
    assert response.status_code == 302 and "/dang-nhap?next=/ho-so-cua-toi" in response.headers["Location"].replace("%2F", "/")


@pytest.fixture
def strict_app(tmp_path, idp):
    spec = birth_spec()
    spec["sign_in"] = {"policy": "required", "level": 2}
    write_spec(tmp_path / "specs", "khai-sinh", spec)
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(tmp_path / "specs"), "TESTING": True,
                      "IDENTITY_PROVIDERS": [provider_config(idp.url)]})
    yield app
    app.extensions["motcua"].store.close()


def test_sign_in_required_sends_anonymous_citizens_to_sign_in(strict_app):
    client = strict_app.test_client()
    response = client.get(FORM)
    assert response.status_code == 302 and "/dang-nhap" in response.headers["Location"]
    assert client.post(FORM, data={"csrf_token": "x"}).status_code in (302, 400)
    response = sign_in(client, "demo-citizen-an", next_path=FORM)
    assert response.headers["Location"].endswith(FORM)
    assert client.get(FORM).status_code == 200


def test_sign_in_required_with_level_2_refuses_a_level_1_account(strict_app):
    client = strict_app.test_client()
    sign_in(client, "demo-citizen-chau")
    response = client.get(FORM)
    assert response.status_code == 403 and "mức 2" in text(response)


def test_sign_in_policy_shorthand_and_lint(tmp_path):
    from motcua.spec.lint import lint_file

    spec = birth_spec()
    spec["sign_in"] = "required"
    spec["form"]["prefill"] = {"requester.full_name": "name", "requester.nope": {"claim": "id_number"},
                               "requester.cccd": {"claim": "so_cccd", "lock": True}}
    path = write_spec(tmp_path, "bad", spec)
    loaded = lint_file(path)
    assert loaded.spec.sign_in.policy == "required" and loaded.spec.sign_in.level == 1
    errors = [f for f in loaded.findings if f.severity == "error"]
    messages = " | ".join(f.message for f in errors)
    assert "`requester.nope`" in messages and "`so_cccd`" in messages and len(errors) == 2
    assert all(f.line > 1 for f in errors)


def test_cached_pages_never_carry_a_signed_in_citizens_details(oidc_app):
    """The first form page and the catalogue are kept per spec for anonymous visitors; a
    signed-in citizen's (prefilled, their name in the header) is never kept nor served."""
    anonymous, an = oidc_app.test_client(), oidc_app.test_client()
    for path in (FORM, f"/thu-tuc/{BIRTH_CODE}", "/"):
        assert "Nguyễn Văn An" not in text(anonymous.get(path))  # kept now
    sign_in(an, "demo-citizen-an")
    for path in (FORM, f"/thu-tuc/{BIRTH_CODE}", "/"):
        assert "data-signed-in" in text(an.get(path)), path
    assert 'value="001085012345"' in input_tag(text(an.get(FORM)), "requester.cccd")
    for path in (FORM, f"/thu-tuc/{BIRTH_CODE}", "/"):
        page = text(oidc_app.test_client().get(path))
        assert "001085012345" not in page and "data-signed-in" not in page, path
