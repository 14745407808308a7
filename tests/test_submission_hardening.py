"""Issue 10, findings 1, 2, 3, 4 and 7: every bad answer gets a 422 with its pointer, nothing
bad is stored, and the published submission schema is the one the server enforces."""

from __future__ import annotations

import base64
import copy
import json
from datetime import date

import pytest
from jsonschema import Draft202012Validator

from motcua import formats
from motcua.date_rules import parse_bound, shift
from motcua.dossier import Contact, Dossier, Event, Status, now
from motcua.formats import FORMATS, format_checker
from motcua.spec.model import ProcedureSpec
from motcua.submission import today_vn, validate
from tests.portal_helpers import BIRTH_CODE, OFFICE, birth_spec, small_pdf

#: The commune police office of Phường Hải Châu (shipped registry): permanent residence is filed there.
POLICE = "006.50.35.H15"
from tests.test_api_portal import ANSWERS, body

MARRIAGE_CODE = "1.000894"
FILE = f"/api/v1/procedures/{BIRTH_CODE}/dossiers"


def _errors(response) -> dict[str, str]:
    return {e["pointer"]: e["message"] for e in response.get_json()["errors"]}


def _count(app) -> int:
    return app.extensions["motcua"].store.dossiers.count()


def _filed_code(client) -> str:
    response = client.post(FILE, json=body())
    assert response.status_code == 201, response.get_json()
    return response.get_json()["code"]


# --- 1. answers the spec does not declare ---------------------------------------------------


@pytest.mark.parametrize("where", [("ghi_chu",), ("child", "ghi_chu"), ("requester", "note")])
def test_an_answer_the_form_does_not_have_is_refused_with_its_pointer(app, client, where):
    answers = copy.deepcopy(ANSWERS)
    node = answers
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = "x" * 10_000
    response = client.post(FILE, json=body(answers=answers))
    assert response.status_code == 422
    assert _errors(response) == {"/answers/" + "/".join(where): "Thông tin này không thuộc biểu mẫu của thủ tục"}
    assert _count(app) == 0


def test_an_unknown_key_with_dots_and_slashes_gets_its_exact_pointer(app, client):
    answers = {**ANSWERS, "a.b/c~d": 1, "child": {**ANSWERS["child"], "x.y": "z"}}
    response = client.post(FILE, json=body(answers=answers))
    assert response.status_code == 422
    assert set(_errors(response)) == {"/answers/a.b~1c~0d", "/answers/child/x.y"}


def test_the_published_schema_closes_every_object_of_the_form(client):
    schema = client.get(f"/api/v1/procedures/{BIRTH_CODE}").get_json()["submission_schema"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["child"]["additionalProperties"] is False
    # a `then` that introduces a property: declared on the object, so allowed when sent
    assert "father" in schema["properties"]


def test_answers_have_a_size_cap_of_their_own(app, client):
    app.config["MAX_ANSWERS_BYTES"] = 2048
    answers = copy.deepcopy(ANSWERS)
    answers["child"]["birth_place"] = "Bệnh viện " + "x" * 240
    answers["requester"]["residence"] = "y" * 240
    answers["child"]["home_town"] = "z" * 240
    # each text is within its field's maxLength; together they pass the 2 KB cap
    answers["mother"]["residence"] = "w" * 1500
    response = client.post(FILE, json=body(answers=answers))
    assert response.status_code == 422
    assert list(_errors(response)) == ["/answers"]
    assert "Hồ sơ quá lớn" in _errors(response)["/answers"]
    app.config["MAX_ANSWERS_BYTES"] = 256 * 1024
    assert client.post(FILE, json=body(answers=answers)).status_code == 201


def test_the_web_form_keeps_only_the_fields_it_has(app, client):
    from tests.portal_helpers import csrf

    form = f"/thu-tuc/{BIRTH_CODE}/nop"
    token = csrf(client.get(form).get_data(as_text=True))
    client.post(form, data={"csrf_token": token, "requester.full_name": "Lê Thị Hoa", "ghi_chu": "x" * 5000,
                            "child.ghi_chu": "y"})
    store = app.extensions["motcua"].store
    for name in store.collections():
        for _key, record in store.records(name).all():
            text = json.dumps(record, ensure_ascii=False)
            assert "ghi_chu" not in text


# --- 2. a lone surrogate ------------------------------------------------------------------


@pytest.mark.parametrize("path", [("child", "full_name"), ("requester", "full_name"), ("mother", "full_name")])
def test_a_lone_surrogate_is_refused_and_burns_no_number(app, client, path):
    answers = copy.deepcopy(ANSWERS)
    answers[path[0]][path[1]] = "Nguy\ud800n Văn A"
    raw = json.dumps(body(answers=answers))  # ensure_ascii: the surrogate travels as \ud800
    response = client.post(FILE, data=raw, content_type="application/json")
    assert response.status_code == 422
    assert list(_errors(response)) == ["/answers/" + "/".join(path)]
    assert _count(app) == 0
    code = _filed_code(client)
    assert code.endswith("-0001")  # no sequence number was taken by the refused filing


def test_a_lone_surrogate_anywhere_in_the_body_is_a_422(client):
    raw = json.dumps(body(attachments=[{"component": "giay_chung_sinh", "filename": "a\udfffb.pdf",
                                        "content_base64": base64.b64encode(small_pdf()).decode()}]))
    response = client.post(FILE, data=raw, content_type="application/json")
    assert response.status_code == 422
    assert list(_errors(response)) == ["/attachments/0/filename"]
    raw = json.dumps(body(delivery={"kind": "postal", "address": {"province": "01", "commune": "00070", "street": "S\ud800"}}))
    response = client.post(FILE, data=raw, content_type="application/json")
    assert response.status_code == 422 and list(_errors(response)) == ["/delivery/address/street"]


def test_the_store_takes_back_the_index_entry_of_a_dossier_it_could_not_write(app):
    store = app.extensions["motcua"].store
    at = now()
    bad = Dossier(code="000.00.31.H12-250101-0001", procedure_code=BIRTH_CODE, spec_version="1", agency_code="000.00.31.H12",
                  channel="online", data={"name": "Nguy\ud800n"}, filed_at=at, status=Status.NEW,
                  contact=Contact(name="Nguyễn"),
                  events=[Event(at=at, actor="citizen", kind="filed", status=Status.NEW)])
    with pytest.raises(Exception):
        store.dossiers.add(bad)
    assert store.dossiers._where(bad.code) is None  # no index entry pointing at nothing
    good = bad.model_copy(update={"data": {"name": "Nguyễn"}})
    store.dossiers.add(good)
    assert store.dossiers.get(good.code).data == {"name": "Nguyễn"}


# --- 3. values of the wrong type are refused, never converted ------------------------------


RESIDENCE = "1.004222"
RESIDENCE_ANSWERS = {
    "applicant": {"full_name": "Lê Thị Hoa", "birth_date": "1990-01-02", "sex": "nu", "cccd": "079190012345",
                  "phone": "0987654321"},
    "address": {"province": "01", "commune": "00070", "street": "Số 5 Tràng Tiền"},
    "basis": "cho_o_so_huu",
    "ownership_document": "giay_chung_nhan_qsdd",
}


def test_the_residence_answers_file(client):
    response = client.post(f"/api/v1/procedures/{RESIDENCE}/dossiers",
                           json={"agency": POLICE, "answers": RESIDENCE_ANSWERS, "delivery": {"kind": "desk"}, "attachments": _residence_files(client)})
    assert response.status_code == 201, response.get_json()


def _residence_files(client) -> list[dict]:
    detail = client.get(f"/api/v1/procedures/{RESIDENCE}").get_json()
    validator = Draft202012Validator(detail["request_schema"])
    files = []
    for a in detail["attachments"]:
        if a["required_if"] is True or (isinstance(a["required_if"], dict) and Draft202012Validator(a["required_if"]).is_valid(RESIDENCE_ANSWERS)):
            files.append({"component": a["id"], "filename": "a.pdf", "content_base64": base64.b64encode(small_pdf()).decode()})
    assert validator.is_valid({"agency": POLICE, "answers": RESIDENCE_ANSWERS, "attachments": files, "delivery": {"kind": "desk"}})
    assert not validator.is_valid({"agency": POLICE, "answers": RESIDENCE_ANSWERS, "attachments": files})  # a way to receive the result is required
    assert not validator.is_valid({"agency": POLICE, "answers": RESIDENCE_ANSWERS, "attachments": files, "delivery": {"kind": "postal"}})
    return files


@pytest.mark.parametrize("street", [True, 12345, ["x"], {"a": 1}, None])
def test_an_address_part_of_the_wrong_type_is_refused_as_sent(app, client, street):
    answers = copy.deepcopy(RESIDENCE_ANSWERS)
    answers["address"]["street"] = street
    response = client.post(f"/api/v1/procedures/{RESIDENCE}/dossiers",
                           json={"agency": POLICE, "answers": answers, "delivery": {"kind": "desk"}, "attachments": _residence_files(client)})
    assert response.status_code == 422, response.get_json()
    assert "/answers/address/street" in _errors(response)
    assert _count(app) == 0


# --- 4. ASCII digits only, and the exact date form -----------------------------------------

OTHER_ZEROS = {"arabic-indic": 0x0660, "extended arabic-indic": 0x06F0, "full-width": 0xFF10, "devanagari": 0x0966,
               "thai": 0x0E50, "mathematical bold": 0x1D7CE}


def _with_digits(text: str, zero: int) -> str:
    return "".join(chr(zero + int(c)) if c in "0123456789" else c for c in text)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_takes_its_example_and_refuses_other_digits(name):
    fmt = FORMATS[name]
    checker = format_checker()
    assert formats.problem(name, fmt.example) is None and checker.conforms(fmt.example, name)
    published = Draft202012Validator({"type": "string", "format": name, **fmt.schema}, format_checker=checker)
    assert published.is_valid(fmt.example)
    digits = [c for c in fmt.example if c in "0123456789"]
    if not digits:
        return
    for script, zero in OTHER_ZEROS.items():
        other = _with_digits(fmt.example, zero)
        assert formats.problem(name, other), (name, script)
        assert not checker.conforms(other, name), (name, script)
        assert not published.is_valid(other), (name, script)


@pytest.mark.parametrize("value", ["2000-W01-1", "2000-001", "20000101", "2000-1-1", "2000-01-01T00:00", "٢٠٠٠-٠١-٠١", "2000-02-30"])
def test_a_date_is_only_yyyy_mm_dd(value):
    assert not format_checker().conforms(value, "date")
    spec = ProcedureSpec.model_validate(birth_spec())
    assert "child.birth_date" in validate(spec, {"child": {"birth_date": value}})


def test_the_standard_formats_refuse_other_digits_too():
    checker = format_checker()
    assert checker.conforms("10.0.0.1", "ipv4") and not checker.conforms("١٠.0.0.1", "ipv4")


def test_non_ascii_digits_through_the_api_are_refused(app, client):
    answers = copy.deepcopy(ANSWERS)
    answers["requester"]["cccd"] = _with_digits("079190012345", 0x0660)
    answers["requester"]["phone"] = _with_digits("0987654321", 0xFF10)
    response = client.post(FILE, json=body(answers=answers))
    assert response.status_code == 422
    assert {"/answers/requester/cccd", "/answers/requester/phone"} <= set(_errors(response))


# --- 7. the published schema is the enforced one ---------------------------------------------


def test_the_published_schema_carries_the_format_rules_and_the_text_cap(client):
    schema = client.get(f"/api/v1/procedures/{BIRTH_CODE}").get_json()["submission_schema"]
    requester = schema["properties"]["requester"]["properties"]
    assert requester["cccd"]["pattern"] == formats.CCCD_PATTERN
    assert requester["phone"]["pattern"] == formats.MOBILE.pattern
    assert schema["properties"]["mother"]["properties"]["full_name"]["maxLength"] == 2000
    validator = Draft202012Validator(schema)
    for bad in ("099190012345", "97919001234", "079190O12345"):
        assert not validator.is_valid({**ANSWERS, "requester": {**ANSWERS["requester"], "cccd": bad}}), bad
    assert not validator.is_valid({**ANSWERS, "requester": {**ANSWERS["requester"], "phone": "0123456789"}})


@pytest.mark.parametrize(("value", "message"), [
    ("0791900123", "Số định danh cá nhân phải gồm đúng 12 chữ số"),
    ("099190012345", formats.CCCD_PROVINCE),
])
def test_each_cccd_rule_has_its_own_message(value, message):
    spec = ProcedureSpec.model_validate(birth_spec())
    assert validate(spec, {**ANSWERS, "requester": {**ANSWERS["requester"], "cccd": value}})["requester.cccd"] == message


@pytest.mark.parametrize(("value", "message"), [
    ("091234567", formats.MOBILE_LENGTH),
    ("0112345678", formats.MOBILE_PREFIX),
])
def test_each_phone_rule_has_its_own_message(value, message):
    spec = ProcedureSpec.model_validate(birth_spec())
    assert validate(spec, {**ANSWERS, "requester": {**ANSWERS["requester"], "phone": value}})["requester.phone"] == message


def test_the_tax_code_check_digit():
    assert formats.problem("tax-code", "0100109106") is None
    assert formats.problem("tax-code", "0100109106-001") is None
    assert formats.problem("tax-code", "0100109107") == formats.TAX_CHECK
    assert formats.problem("tax-code", "01001091") == formats.TAX_SHAPE
    assert formats.problem("tax-code", "099190012345") == formats.CCCD_PROVINCE


MARRIAGE_FILE = f"/api/v1/procedures/{MARRIAGE_CODE}/dossiers"


def _party(name: str, born: date, cccd: str) -> dict:
    return {"full_name": name, "birth_date": born.isoformat(), "ethnicity": "Kinh", "nationality": "Việt Nam",
            "cccd": cccd, "residence": "Số 1 Tràng Tiền, Hà Nội", "marriage_order": 1}


def _marriage(bride_age: int = 25, groom_age: int = 27) -> dict:
    today = today_vn()
    return {"bride": _party("Lê Thị Hoa", shift(today, years=-bride_age), "001199012345"),
            "groom": _party("Trần Văn Nam", shift(today, years=-groom_age), "001097012345"),
            "phone": "0912345678"}


def test_marriage_without_resides_in_commune_reads_the_default_and_needs_no_certificate(app, client):
    response = client.post(MARRIAGE_FILE, json={"agency": OFFICE, "answers": _marriage(), "delivery": {"kind": "desk"}})
    assert response.status_code == 201, response.get_json()
    answers = _marriage()
    answers["bride"]["resides_in_commune"] = False
    response = client.post(MARRIAGE_FILE, json={"agency": OFFICE, "answers": answers, "delivery": {"kind": "desk"}})
    assert response.status_code == 422 and list(_errors(response)) == ["/attachments"]


def test_the_attachment_conditions_are_published_as_json_schema(client):
    detail = client.get(f"/api/v1/procedures/{MARRIAGE_CODE}").get_json()
    by_id = {a["id"]: a for a in detail["attachments"]}
    condition = Draft202012Validator(by_id["xac_nhan_hon_nhan_nu"]["required_if"])
    assert not condition.is_valid(_marriage())  # default true: not required
    answers = _marriage()
    answers["bride"]["resides_in_commune"] = False
    assert condition.is_valid(answers)
    request = Draft202012Validator(detail["request_schema"])
    desk = {"kind": "desk"}
    assert request.is_valid({"agency": OFFICE, "answers": _marriage(), "delivery": desk})
    assert not request.is_valid({"agency": OFFICE, "answers": answers, "delivery": desk})
    assert request.is_valid({"agency": OFFICE, "answers": answers, "delivery": desk, "attachments": [{"component": "xac_nhan_hon_nhan_nu"}]})


@pytest.mark.parametrize(("who", "age", "pointer"), [("bride", 16, "/answers/bride/birth_date"),
                                                     ("groom", 19, "/answers/groom/birth_date")])
def test_the_marriage_ages_of_the_law_are_enforced(app, client, who, age, pointer):
    ages = {"bride_age": 25, "groom_age": 27, f"{who}_age": age}
    response = client.post(MARRIAGE_FILE, json={"agency": OFFICE, "answers": _marriage(**ages), "delivery": {"kind": "desk"}})
    assert response.status_code == 422
    errors = _errors(response)
    assert list(errors) == [pointer]
    assert ("18 tuổi" if who == "bride" else "20 tuổi") in errors[pointer]
    assert _count(app) == 0


def test_a_bride_of_exactly_18_today_may_marry(client):
    response = client.post(MARRIAGE_FILE, json={"agency": OFFICE, "answers": _marriage(bride_age=18, groom_age=20), "delivery": {"kind": "desk"}})
    assert response.status_code == 201, response.get_json()


def test_a_birth_date_in_the_future_is_refused_and_the_bound_is_published(app, client):
    answers = copy.deepcopy(ANSWERS)
    answers["child"]["birth_date"] = shift(today_vn(), days=1).isoformat()
    response = client.post(FILE, json=body(answers=answers))
    assert response.status_code == 422 and list(_errors(response)) == ["/answers/child/birth_date"]
    schema = client.get(f"/api/v1/procedures/{BIRTH_CODE}").get_json()["submission_schema"]
    child_birth = schema["properties"]["child"]["properties"]["birth_date"]
    assert child_birth["x-date"] == {"max": "today"} and child_birth["formatMaximum"] == today_vn().isoformat()
    from motcua import drafts

    with app.app_context():
        token, _ = drafts.new(app.extensions["motcua"].store.records("drafts"), app.extensions["motcua"].catalogue.get(BIRTH_CODE))
    html = client.get(f"/thu-tuc/{BIRTH_CODE}/nop/{token}/child").get_data(as_text=True)
    assert f'max="{today_vn().isoformat()}"' in html  # the browser's date picker stops at today


def test_date_bounds_read_as_written():
    assert parse_bound("today-18y").years == -18
    assert parse_bound("child.birth_date+60d").base == "child.birth_date"
    assert shift(date(2024, 2, 29), years=-18) == date(2006, 2, 28)
    with pytest.raises(ValueError):
        parse_bound("yesterday!")


def test_lint_refuses_a_date_rule_it_cannot_read(tmp_path):
    from motcua.spec.lint import lint_file
    from tests.portal_helpers import write_spec

    data = birth_spec()
    data["form"]["fields"]["properties"]["child"]["properties"]["birth_date"]["x-date"] = {"max": "child.birth_dat+60d"}
    data["form"]["fields"]["properties"]["child"]["properties"]["full_name"]["x-date"] = {"max": "today"}
    findings = lint_file(write_spec(tmp_path, "bad", data), lang="en").findings
    text = "\n".join(str(f) for f in findings)
    assert "`child.birth_dat` is not a date field" in text and "did you mean" in text
    assert "`x-date` applies to a date field" in text


def test_a_spec_pattern_reads_digits_as_json_schema_does():
    # ECMA-262: `\d` is [0-9]; Python's re would take Arabic-Indic digits
    data = birth_spec()
    data["form"]["fields"]["properties"]["requester"]["properties"]["residence"]["pattern"] = r"^\d+ .+$"
    spec = ProcedureSpec.model_validate(data)
    answers = {**ANSWERS, "requester": {**ANSWERS["requester"], "residence": "١٢ Tràng Tiền"}}
    assert "requester.residence" in validate(spec, answers)
    answers["requester"]["residence"] = "12 Tràng Tiền"
    assert "requester.residence" not in validate(spec, answers)


def test_the_size_cap_is_published(app, client):
    schema = client.get(f"/api/v1/procedures/{BIRTH_CODE}").get_json()["submission_schema"]
    assert schema["x-max-bytes"] == 256 * 1024
    app.config["MAX_ANSWERS_BYTES"] = 4096
    assert client.get(f"/api/v1/procedures/{BIRTH_CODE}").get_json()["submission_schema"]["x-max-bytes"] == 4096
