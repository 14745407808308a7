"""An address filed through the API is stored as the web form stores it.

The same applicant files the same birth registration twice, once through the portal's
pages and once through /api/v1, with a commune typed by name without diacritics: both
dossiers keep the same address dicts (the commune's name and code), in the answers and in
the postal delivery address.
"""

from __future__ import annotations

import base64
import copy
import io
import re

import pytest

from motcua.app import create_app
from tests.portal_helpers import BIRTH_CODE, GOOD_ANSWERS, OFFICE, birth_spec, csrf, small_pdf, write_spec
from tests.test_api_portal import ANSWERS

TYPED = {"province": "01", "commune": "phuong  ba dinh", "street": "  Số 1   Hoàng Hoa Thám "}
DELIVERY = {"province": "ha noi", "commune": "Phuong Hoan Kiem", "street": "Số 5 Tràng Tiền"}


@pytest.fixture
def app(tmp_path):
    """The birth registration with an address among its answers (requester.home)."""
    data = birth_spec()
    requester = data["form"]["fields"]["properties"]["requester"]
    requester["properties"]["home"] = {
        "type": "object", "title": "Nơi ở hiện tại",
        "properties": {"province": {"type": "string", "pattern": "^[0-9]{2}$"},
                       "commune": {"type": "string", "maxLength": 100},
                       "street": {"type": "string", "maxLength": 200}},
    }
    data["form"]["ui"]["requester.home"] = {"label": {"vi": "Nơi ở hiện tại", "en": "Current address"}, "widget": "address"}
    write_spec(tmp_path / "specs", "khai-sinh", data)
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(tmp_path / "specs"), "TESTING": True})
    yield app
    app.extensions["motcua"].store.close()


def file_on_the_web(client) -> str:
    form = f"/thu-tuc/{BIRTH_CODE}/nop"
    token = csrf(client.get(form).get_data(as_text=True))
    home = {f"requester.home.{part}": value for part, value in TYPED.items()}
    response = client.post(form, data={"csrf_token": token, **GOOD_ANSWERS["requester"], **home})
    assert response.status_code == 302, response.get_data(as_text=True)
    base = response.headers["Location"].rsplit("/", 1)[0]
    for page in ("child", "parents", "copies"):
        assert client.post(f"{base}/{page}", data={"csrf_token": token, **GOOD_ANSWERS[page]}).status_code == 302
    assert client.post(f"{base}/dinh-kem", content_type="multipart/form-data", data={
        "csrf_token": token, "attachment.giay_chung_sinh": (io.BytesIO(small_pdf()), "gcs.pdf")}).status_code == 302
    delivery = {f"delivery.address.{part}": value for part, value in DELIVERY.items()}
    response = client.post(f"{base}/nhan-ket-qua", data={"csrf_token": token, "delivery.kind": "postal", **delivery})
    assert response.headers["Location"].endswith("/kiem-tra")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    submit = re.search(r'name="submit_token" value="([^"]+)"', page).group(1)
    response = client.post(f"{base}/kiem-tra", data={"csrf_token": token, "submit_token": submit})
    return re.search(r"/ho-so/([^/]+)/xac-nhan", response.headers["Location"]).group(1)


def file_by_api(client, home: dict) -> str:
    answers = {**ANSWERS, "requester": {**ANSWERS["requester"], "home": home}}
    response = client.post(f"/api/v1/procedures/{BIRTH_CODE}/dossiers", json={
        "agency": OFFICE,
        "answers": answers,
        "delivery": {"kind": "postal", "address": DELIVERY},
        "attachments": [{"component": "giay_chung_sinh", "filename": "gcs.pdf", "content_base64": base64.b64encode(small_pdf()).decode()}],
    })
    assert response.status_code == 201, response.get_json()
    return response.get_json()["code"]


def test_the_same_address_filed_by_web_and_by_api_is_stored_alike(app):
    store = app.extensions["motcua"].store
    web = store.dossiers.get(file_on_the_web(app.test_client()))
    api = store.dossiers.get(file_by_api(app.test_client(), dict(TYPED)))
    assert web.data["requester"]["home"] == {"province": "01", "commune": "Phường Ba Đình", "commune_code": "00004",
                                             "street": "Số 1 Hoàng Hoa Thám"}
    assert api.data["requester"]["home"] == web.data["requester"]["home"]
    assert web.delivery.address == {"province": "Thành phố Hà Nội", "province_code": "01", "commune": "Phường Hoàn Kiếm",
                                    "commune_code": "00070", "street": "Số 5 Tràng Tiền"}
    assert api.delivery.address == web.delivery.address


def test_a_commune_given_by_code_gets_its_name_and_what_the_form_cannot_send_is_not_kept(app):
    store = app.extensions["motcua"].store
    code = file_by_api(app.test_client(), {"province": "01", "commune": "00070", "district": "Quận Hoàn Kiếm",
                                           "commune_code": "99999", "street": "Số 5"})
    assert store.dossiers.get(code).data["requester"]["home"] == {
        "province": "01", "commune": "Phường Hoàn Kiếm", "commune_code": "00070", "street": "Số 5"}


def test_an_unknown_commune_is_refused_with_its_pointer_and_the_text_as_typed(app):
    response = app.test_client().post(f"/api/v1/procedures/{BIRTH_CODE}/dossiers", json={
        "answers": {**ANSWERS, "requester": {**ANSWERS["requester"], "home": {"province": "01", "commune": "phuong ben thanh",
                                                                              "street": "Số 1"}}},
        "delivery": {"kind": "desk"},
        "attachments": [{"component": "giay_chung_sinh", "filename": "gcs.pdf", "content_base64": base64.b64encode(small_pdf()).decode()}],
    })
    assert response.status_code == 422
    errors = {e["pointer"]: e["message"] for e in response.get_json()["errors"]}
    assert "Thành phố Hồ Chí Minh" in errors["/answers/requester/home/commune"]


def test_addresses_under_any_property_name_are_tidied_and_the_answers_sent_stay_as_sent():
    """Names holding a dot or empty, repeating groups, digit-string keys: each address is
    replaced where it stands (found by its keys, not by a dotted path), and the answers given
    are left unchanged (only what leads to an address is copied)."""
    from motcua.spec.model import ProcedureSpec
    from motcua.web.api import tidied

    address = {"type": "object", "properties": {"province": {"type": "string"}, "commune": {"type": "string"},
                                                "street": {"type": "string"}}}
    spec = ProcedureSpec.model_validate({
        "code": "1.000001", "version": "1", "name": {"vi": "Thử", "en": "Test"}, "sector": "Thử",
        "agency": {"name": "Ủy ban", "tier": "commune"}, "filers": ["citizen"], "level": "full",
        "info": {"result": "Kết quả", "processing_time": {"working_days": 3}},
        "form": {"contact": {"name": "full_name"}, "fields": {"type": "object", "properties": {
            "full_name": {"type": "string"}, "noi.o": address, "": address, "7": address,
            "members": {"type": "array", "items": {"type": "object", "properties": {"address": address}}}}}}})
    messy = {"province": "01", "commune": "  Ba   Đình ", "street": " Số 1 "}
    answers = {"full_name": "An", "noi.o": dict(messy), "": dict(messy), "7": dict(messy),
               "members": [{"address": dict(messy)}, {"address": dict(messy)}]}
    sent = copy.deepcopy(answers)
    clean = {"province": "01", "commune": "Ba Đình", "street": "Số 1"}
    assert tidied(spec, answers) == {"full_name": "An", "noi.o": clean, "": clean, "7": clean,
                                     "members": [{"address": clean}, {"address": clean}]}
    assert answers == sent
    one = dict(messy)  # one object at two places (never from JSON, possible from Python callers)
    assert tidied(spec, {"noi.o": one, "7": one}) == {"noi.o": clean, "7": clean}
