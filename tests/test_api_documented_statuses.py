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
