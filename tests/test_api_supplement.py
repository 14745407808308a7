"""POST /api/v1/dossiers/<code>/supplement: the supplement page's service, as JSON.

The dossier is asked for a supplement by the engine as the back office does; the API
client then answers it with the applicant's factor in a header: files (base64, checked on
content), a note, corrected answers. Each outcome of the page has its status code here:
supplied (200), unknown code or wrong factor (404, alike), too many guesses (429), not
awaiting a supplement (409), invalid (422, one error per field, nothing stored).
"""

from __future__ import annotations

import base64

from motcua.dossier import Status
from tests.portal_helpers import small_pdf
from tests.test_portal_supplement import PHONE, asked, store_of

HEADERS = {"X-Motcua-Factor": PHONE}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def supply(client, code: str, body, headers=HEADERS, lang: str = ""):
    return client.post(f"/api/v1/dossiers/{code}/supplement{'?lang=' + lang if lang else ''}", json=body, headers=headers)


def pointers(response) -> dict[str, str]:
    items = response.get_json()["errors"]
    found = {e["pointer"]: e["message"] for e in items}
    assert len(found) == len(items), items  # one error per field
    return found


def test_files_a_note_and_corrected_answers_are_supplied(app, client):
    code = asked(app, components=["giay_chung_sinh"], fields=["requester", "child"])
    before = store_of(app).dossiers.get(code)
    proof = small_pdf()
    requester = {**before.data["requester"], "phone": "0987654321"}
    response = supply(client, code, {
        "note": "  Xin gửi giấy chứng sinh bản chính  ",
        "attachments": [{"component": "giay_chung_sinh", "filename": "../gcs.pdf", "content_base64": b64(proof)},
                        {"component": "giay_to_bo_sung_khac", "filename": "cccd.pdf", "content_base64": b64(small_pdf("CCCD"))}],
        "answers": {"requester": requester},
    })
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    after = store_of(app).dossiers.get(code)
    assert body["code"] == code and body["status"] == int(Status.RECEIVED) == int(after.status)
    assert body["due_date"] == after.due_date.isoformat() and after.due_date > before.due_date  # the clock resumed
    event = [e for e in after.events if e.kind == "supplemented"][0]
    assert event.note == "Xin gửi giấy chứng sinh bản chính" and event.actor == "citizen"
    assert [a.filename for a in after.attachments][-2:] == ["gcs.pdf", "cccd.pdf"]
    assert store_of(app).files.read(after.attachments[-2].file_id) == proof
    # only the answer sent changed; the named one not sent stays as filed
    assert set(event.data["changes"]) == {"requester"}
    assert after.data["requester"]["phone"] == "0987654321" and after.data["child"] == before.data["child"]
    assert after.contact.phone == "0987654321"
    # the new phone now opens the dossier, the old one no longer does
    assert client.get(f"/api/v1/dossiers/{code}", headers={"X-Motcua-Factor": "0987654321"}).status_code == 200


def test_a_note_alone_answers_a_request_that_names_nothing(app, client):
    code = asked(app)
    response = supply(client, code, {"note": "Giấy tờ đã nộp bản chính tại bộ phận một cửa"})
    assert response.status_code == 200
    assert store_of(app).dossiers.get(code).status == Status.RECEIVED


def test_unknown_code_and_wrong_factor_look_the_same_and_count_against_the_throttle(app, client):
    code = asked(app)
    wrong = supply(client, code, {"note": "x"}, headers={"X-Motcua-Factor": "0911111111"})
    unknown = supply(client, "000.00.31.H12-250101-9999", {"note": "x"})
    missing = supply(client, code, {"note": "x"}, headers={})
    assert wrong.status_code == unknown.status_code == missing.status_code == 404
    assert wrong.get_json() == unknown.get_json() == missing.get_json()
    for _ in range(8):  # ten wrong factors for this code in all (the missing one counts too)
        supply(client, code, {"note": "x"}, headers={"X-Motcua-Factor": "0911111111"})
    blocked = supply(client, code, {"note": "x"})
    assert blocked.status_code == 429 and "quá nhiều lần" in blocked.get_json()["errors"][0]["message"]
    assert store_of(app).dossiers.get(code).status == Status.SUPPLEMENT_REQUESTED


def test_a_dossier_not_awaiting_a_supplement_gets_409_and_nothing_is_stored(app, client):
    code = asked(app)
    assert supply(client, code, {"note": "Lần một"}).status_code == 200
    files_before = set(store_of(app).files.ids())
    again = supply(client, code, {"note": "Lần hai", "attachments": [
        {"component": "giay_chung_sinh", "filename": "hai.pdf", "content_base64": b64(small_pdf("hai"))}]})
    assert again.status_code == 409
    assert "không cần bổ sung" in again.get_json()["errors"][0]["message"]
    dossier = store_of(app).dossiers.get(code)
    assert [e.note for e in dossier.events if e.kind == "supplemented"] == ["Lần một"]
    assert set(store_of(app).files.ids()) == files_before


def test_invalid_parts_get_422_one_pointer_each_and_nothing_is_stored(app, client):
    code = asked(app, components=["giay_chung_sinh"], fields=["requester"])
    before = store_of(app).dossiers.get(code)
    files_before = set(store_of(app).files.ids())
    response = supply(client, code, {
        "note": "x" * 2001,
        "attachments": [
            {"component": "giay_to_bo_sung_khac", "filename": "ok.pdf", "content_base64": b64(small_pdf("ok"))},  # good, not stored alone
            {"component": "van_ban_lam_chung", "filename": "v.pdf", "content_base64": b64(small_pdf())},  # not asked for
            {"component": "giay_to_bo_sung_khac", "filename": "x.pdf", "content_base64": "%%%"},
        ],
        "answers": {"requester": {**before.data["requester"], "phone": "09123"}, "mother": {"full_name": "X"}},
    })
    assert response.status_code == 422
    errors = pointers(response)
    assert errors["/note"] == "Nội dung bổ sung dài tối đa 2000 ký tự."
    assert "/attachments/1/component" in errors
    assert errors["/attachments/2/content_base64"] == "base64 không hợp lệ"
    assert errors["/attachments"] == "Hãy đính kèm Giấy chứng sinh."  # the named component is missing
    assert errors["/answers/requester/phone"].startswith("Số điện thoại di động không hợp lệ")
    assert "/answers/mother" in errors  # not asked for correction
    assert set(store_of(app).files.ids()) == files_before
    after = store_of(app).dossiers.get(code)
    assert after.status == Status.SUPPLEMENT_REQUESTED and after.data == before.data

    # a file is judged on its bytes, not its name; the error is at the item sent
    exe = supply(client, code, {"attachments": [
        {"component": "giay_chung_sinh", "filename": "gcs.pdf", "content_base64": b64(b"MZ\x90\x00" + b"\x00" * 64)}]}, lang="en")
    assert exe.status_code == 422
    assert list(pointers(exe)) == ["/attachments/0/content_base64"]
    assert set(store_of(app).files.ids()) == files_before


def test_nothing_supplied_and_bad_bodies(app, client):
    code = asked(app)
    empty = supply(client, code, {})
    assert empty.status_code == 422
    assert pointers(empty) == {"/note": "Hãy đính kèm giấy tờ cần bổ sung hoặc ghi nội dung bổ sung."}
    english = supply(client, code, {"note": "   "}, lang="en")
    assert pointers(english) == {"/note": "Attach the missing documents or write what you are supplying."}
    not_json = client.post(f"/api/v1/dossiers/{code}/supplement", data="nope", content_type="text/plain", headers=HEADERS)
    assert not_json.status_code == 400
    wrong_type = supply(client, code, {"note": 5, "attachments": "x"})
    assert wrong_type.status_code == 422 and {"/note", "/attachments"} <= set(pointers(wrong_type))
    assert store_of(app).dossiers.get(code).status == Status.SUPPLEMENT_REQUESTED


def test_a_cleared_answer_is_validated_like_the_page(app, client):
    code = asked(app, fields=["requester"])
    response = supply(client, code, {"answers": {"requester": None}})
    assert response.status_code == 422
    assert "/answers/requester/full_name" in pointers(response)


def test_the_openapi_document_describes_it(client):
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    operation = document["paths"]["/dossiers/{code}/supplement"]["post"]
    assert set(operation["responses"]) == {"200", "400", "404", "409", "422", "429"}
    assert [p["in"] for p in operation["parameters"]] == ["path", "header"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/SupplementRequest")
    assert {"note", "attachments", "answers"} <= set(document["components"]["schemas"]["SupplementRequest"]["properties"])
