"""NUL and lone surrogates: every request bringing them gets a plain 400 (never a 500
from a store that cannot hold them), on both backends; the PostgreSQL store itself
answers StoreError, not a psycopg error."""

from __future__ import annotations

import json
import re

import pytest
from conftest import BACKENDS
from test_portal_filing import start
from test_store_contract import dossier  # noqa: E402
from tests.portal_helpers import GOOD_ANSWERS

from motcua.store import StoreError, open_store

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def quiet(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 shows as a 500, not as the exception
    return app


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize("bad", ["Trần Minh\x00 Khôi"])  # a form's bytes decode with U+FFFD, never a surrogate
def test_a_draft_with_nul_is_a_400_and_the_draft_is_kept(quiet, client, backend, bad):
    base, token = start(client)
    answers = dict(GOOD_ANSWERS["child"], **{"child.full_name": bad})
    response = client.post(f"{base}/child", data={"csrf_token": token, **answers, "_action": "save"})
    assert response.status_code == 400
    assert "ký tự không hợp lệ" in response.get_data(as_text=True)
    assert client.get(f"{base}/child").status_code == 200  # the draft is still there


def test_nul_in_a_login_name_a_query_or_a_path_is_a_400(quiet, client, backend):
    token = csrf_of(client.get("/staff/login").get_data(as_text=True))
    response = client.post("/staff/login", data={"csrf_token": token, "username": "lan\x00", "password": "x" * 12})
    assert response.status_code == 400
    assert client.get("/tra-cuu?ma=ABC%00&sdt=0912345678").status_code == 400
    assert client.get("/ho-so/A%00B/bien-nhan.pdf").status_code == 400


def test_nul_in_a_json_body_is_a_422_with_its_pointer(quiet, client, backend):
    for body, pointer in (({"factor": "09\x0012"}, "/factor"), ({"k\x00": "v"}, "/k\x00"),
                          ({"factor": ["\ud800"]}, "/factor/0")):
        response = client.post("/api/v1/dossiers/H56-250510-0001", data=json.dumps(body),
                               content_type="application/json")
        assert response.status_code == 422, body
        error = response.get_json()["errors"][0]
        assert "NUL" in error["message"] and error["pointer"] == pointer


def test_bad_text_is_found_however_the_json_body_spells_it(quiet, client, backend):
    """The hook skips walking a body whose bytes cannot hold bad text: every other spelling
    the JSON parser reads must still be caught (an upper-case escape, a surrogate as its raw
    UTF-8 bytes, which the parser decodes with surrogatepass, UTF-16 and UTF-32 bodies), and
    a surrogate pair (a whole character) is not bad text."""
    url = "/api/v1/dossiers/H56-250510-0001"
    for raw in (b'{"factor": "09\\u00001"}', b'{"factor": "\\uDBFF"}', b'{"factor": "\xed\xa0\x80"}',
                json.dumps({"factor": "a\x00"}).encode("utf-16"), json.dumps({"factor": "\ud800"}).encode("utf-32")):
        response = client.post(url, data=raw, content_type="application/json")
        assert response.status_code == 422, raw
        assert response.get_json()["errors"][0]["pointer"] == "/factor"
    whole = client.post(url, data=json.dumps({"factor": "\U0001F600"}), content_type="application/json")
    assert whole.status_code != 422


def test_the_postgresql_store_refuses_nul_with_a_store_error(backend, tmp_path, pg_url):
    """(TinyDB's JSON files hold NUL as an escape; PostgreSQL's text and JSONB do not.)"""
    store = open_store(pg_url, tmp_path / "data")
    try:
        for key, value in (("d", {"name": "a\x00b"}), ("d\x00", {"name": "ab"}), ("d", {"k\x00": 1}),
                           ("d", {"name": ["\ud800"]})):
            with pytest.raises(StoreError, match="NUL"):
                store.records("drafts").put(key, value)
            with pytest.raises(StoreError, match="NUL"):
                store.records("drafts").update(key, lambda current: value)
        assert store.records("drafts").get("d\x00") is None
        store.records("drafts").delete("d\x00")
        d = dossier("H56-250510-0001")
        d.contact.name = "Lan\x00"
        with pytest.raises(StoreError, match="NUL"):
            store.dossiers.add(d)
        assert store.dossiers.get("A\x00") is None
        with pytest.raises(KeyError):
            store.dossiers.update("A\x00", lambda d: None)
        store.records("drafts").put("ok", {"name": "Lan"})
        assert store.records("drafts").get("ok") == {"name": "Lan"}
        assert store.dossiers.count() == 0
    finally:
        store.close()
