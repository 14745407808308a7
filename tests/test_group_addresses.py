"""Addresses inside a repeating group (household members, each with an address) are
checked and kept like any other address of a form: the commune resolved to its name and
code on the web and by the API, a commune of another province refused with the error next
to that item's field (`members.1.address.commune`), every typed value shown again."""

from __future__ import annotations

import base64
import io
import re

import pytest

from motcua.app import create_app
from tests.portal_helpers import BIRTH_CODE, GOOD_ANSWERS, OFFICE, birth_spec, csrf, small_pdf, write_spec
from tests.test_api_portal import ANSWERS

FORM = f"/thu-tuc/{BIRTH_CODE}/nop"
HOAN_KIEM = {"province": "01", "commune": "Phường Hoàn Kiếm", "commune_code": "00070", "street": "Số 1"}


@pytest.fixture
def app(tmp_path):
    """The birth registration whose first page also asks for household members, each with
    a name and an address (widget "address", keyed without the item index)."""
    data = birth_spec()
    data["form"]["fields"]["properties"]["members"] = {
        "type": "array", "title": "Thành viên hộ gia đình", "maxItems": 4,
        "items": {"type": "object", "required": ["name", "address"], "properties": {
            "name": {"type": "string", "title": "Họ, chữ đệm, tên", "maxLength": 100},
            "address": {"type": "object", "title": "Nơi ở", "required": ["province", "commune", "street"],
                        "properties": {"province": {"type": "string", "pattern": "^[0-9]{2}$"},
                                       "commune": {"type": "string", "maxLength": 100},
                                       "street": {"type": "string", "maxLength": 200}}}}},
    }
    data["form"]["ui"]["members.address"] = {"label": {"vi": "Nơi ở", "en": "Home"}, "widget": "address"}
    data["form"]["pages"][0]["fields"].append("members")
    write_spec(tmp_path / "specs", "khai-sinh", data)
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(tmp_path / "specs"), "TESTING": True})
    yield app
    app.extensions["motcua"].store.close()


def members_form(second_commune: str) -> dict[str, str]:
    return {"members.0.name": "Nguyễn Văn An", "members.0.address.province": "01",
            "members.0.address.commune": "hoan kiem", "members.0.address.street": "Số 1",
            "members.1.name": "Trần Thị Bình", "members.1.address.province": "01",
            "members.1.address.commune": second_commune, "members.1.address.street": "Số 2"}


def test_a_commune_of_another_province_in_the_second_item_is_refused_next_to_it(app):
    client = app.test_client()
    token = csrf(client.get(FORM).get_data(as_text=True))
    response = client.post(FORM, data={"csrf_token": token, **GOOD_ANSWERS["requester"], **members_form("Phường Bến Thành")})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    error = page[page.index('id="f-members-1-address-commune-error"'):]
    assert error[:400].count("Phường Bến Thành thuộc Thành phố Hồ Chí Minh, không thuộc Thành phố Hà Nội") == 1
    assert 'id="f-members-0-address-commune-error"' not in page  # the first item's commune is fine
    # every value kept: the typed commune, the other item's resolved one, names and streets
    commune = page[page.index('id="f-members-1-address-commune"'):]
    assert 'value="Phường Bến Thành" selected' in commune[:commune.index("</select>")]
    assert 'value="00070" selected' in page and 'value="Trần Thị Bình"' in page and 'value="Số 2"' in page


def file_on_the_web(client) -> str:
    token = csrf(client.get(FORM).get_data(as_text=True))
    response = client.post(FORM, data={"csrf_token": token, **GOOD_ANSWERS["requester"], **members_form("phuong ba dinh")})
    assert response.status_code == 302, response.get_data(as_text=True)
    base = response.headers["Location"].rsplit("/", 1)[0]
    for page in ("child", "parents", "copies"):
        assert client.post(f"{base}/{page}", data={"csrf_token": token, **GOOD_ANSWERS[page]}).status_code == 302
    assert client.post(f"{base}/dinh-kem", content_type="multipart/form-data", data={
        "csrf_token": token, "attachment.giay_chung_sinh": (io.BytesIO(small_pdf()), "gcs.pdf")}).status_code == 302
    response = client.post(f"{base}/nhan-ket-qua", data={"csrf_token": token, "delivery.kind": "desk"})
    assert response.headers["Location"].endswith("/kiem-tra"), response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    submit = re.search(r'name="submit_token" value="([^"]+)"', page).group(1)
    response = client.post(f"{base}/kiem-tra", data={"csrf_token": token, "submit_token": submit})
    return re.search(r"/ho-so/([^/]+)/xac-nhan", response.headers["Location"]).group(1)


def test_a_good_commune_in_an_item_is_stored_with_its_code_by_the_web(app):
    dossier = app.extensions["motcua"].store.dossiers.get(file_on_the_web(app.test_client()))
    assert [m["address"] for m in dossier.data["members"]] == [
        HOAN_KIEM, {"province": "01", "commune": "Phường Ba Đình", "commune_code": "00004", "street": "Số 2"}]


def api_filing(client, second: dict):
    members = [{"name": "Nguyễn Văn An", "address": {"province": "01", "commune": "00070", "street": "Số 1"}},
               {"name": "Trần Thị Bình", "address": second}]
    return client.post(f"/api/v1/procedures/{BIRTH_CODE}/dossiers", json={
        "agency": OFFICE,
        "answers": {**ANSWERS, "members": members}, "delivery": {"kind": "desk"},
        "attachments": [{"component": "giay_chung_sinh", "filename": "gcs.pdf",
                         "content_base64": base64.b64encode(small_pdf()).decode()}],
    })


def test_the_api_refuses_and_resolves_an_address_in_an_item_the_same_way(app):
    client = app.test_client()
    refused = api_filing(client, {"province": "01", "commune": "Phường Bến Thành", "street": "Số 2"})
    assert refused.status_code == 422
    assert [e["pointer"] for e in refused.get_json()["errors"]] == ["/answers/members/1/address/commune"]
    filed = api_filing(client, {"province": "01", "commune": "Phuong Ba Dinh", "street": "Số 2", "district": "Quận Ba Đình"})
    assert filed.status_code == 201, filed.get_json()
    stored = app.extensions["motcua"].store.dossiers.get(filed.get_json()["code"]).data["members"]
    assert [m["address"] for m in stored] == [
        HOAN_KIEM, {"province": "01", "commune": "Phường Ba Đình", "commune_code": "00004", "street": "Số 2"}]
