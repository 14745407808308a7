"""Every status the API answers is one its OpenAPI document lists for that operation.

Found by running schemathesis against a served portal: the refusal of NUL and broken
Unicode (motcua.web.text_guard, before any view) answered 400 on operations whose document
listed no 400, and 422 (with the body's pointer) on `POST /dossiers/{code}`, which listed
no 422 — a client generated from the document has no branch for either."""

from __future__ import annotations

import json

import pytest

from tests.portal_helpers import BIRTH_CODE

PATH_VALUES = {"code": BIRTH_CODE, "province": "01"}


def _operations(document: dict) -> list[tuple[str, str, dict]]:
    return [(method, path, operation) for path, item in document["paths"].items() for method, operation in item.items()]


def _url(path: str) -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    return "/api/v1" + path


@pytest.fixture
def document(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


@pytest.fixture
def quiet(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 shows as a 500, not as the exception
    return app


def test_nul_in_a_query_parameter_gets_a_documented_status(quiet, client, document):
    for method, path, operation in _operations(document):
        response = client.open(_url(path) + "?lang=vi%00", method=method.upper(), data="{}", content_type="application/json")
        assert response.status_code == 400, (method, path)
        assert "400" in operation["responses"], f"{method.upper()} {path} answers 400 without documenting it"


def test_nul_in_a_json_body_gets_a_documented_status(quiet, client, document):
    for method, path, operation in _operations(document):
        if "requestBody" not in operation:
            continue
        body = {"factor": "09\x0012", "note": "x\x00", "answers": {"a": "\x00"}}
        response = client.open(_url(path), method=method.upper(), data=json.dumps(body), content_type="application/json")
        assert response.status_code == 422, (method, path)
        assert "422" in operation["responses"], f"{method.upper()} {path} answers 422 without documenting it"


def test_a_page_the_document_refuses_is_refused(client, document):
    """`page` is typed integer, minimum 1: a client's 0, -5 or "abc" was answered 200 with the
    first page, a silent success for a request the document says is wrong."""
    for bad in ("0", "-5", "abc", "1.5", "", "%C2%B2", "000"):
        response = client.get(f"/api/v1/procedures?page={bad}")
        assert response.status_code == 400, bad
        assert response.get_json()["errors"][0]["message"]
    assert client.get("/api/v1/procedures?page=1").get_json()["page"] == 1
    last = client.get("/api/v1/procedures?page=99999999999999999999").get_json()
    assert last["page"] == last["pages"]  # past the last page: the last, as documented
    assert client.get("/api/v1/procedures?page=01").status_code == 200


def test_a_province_the_pattern_refuses_is_a_404(client, document):
    parameter = document["paths"]["/units/{province}/communes"]["get"]["parameters"][0]
    assert parameter["schema"]["pattern"] == "^[0-9]{2}$"
    for bad in ("1", "%2001", "001"):
        assert client.get(f"/api/v1/units/{bad}/communes").status_code == 404, bad
    assert client.get("/api/v1/units/01/communes?lang=fr").status_code == 200  # any lang but en is Vietnamese,
    lang = document["paths"]["/units/{province}/communes"]["get"]["parameters"][1]
    assert "enum" not in lang["schema"]  # as the document now says
