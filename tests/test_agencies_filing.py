"""One procedure, many offices: specs say who performs them, the citizen chooses the office
(procedure page, start of the form, API), and the code, queue, fees and messages follow it.

Real app on the shipped specs and the shipped registry (Đà Nẵng), real TinyDB folder; the
test client posts what a browser without JavaScript would."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from motcua import accounts
from motcua.agencies import load_registry
from motcua.app import create_app
from motcua.fees import compute_fees
from motcua.filing import OfficeChoiceError, add_dossier
from motcua.spec.lint import lint_file
from motcua.spec.model import ProcedureSpec
from motcua.workdays import VN_TZ
from tests.conftest import SPECS
from tests.portal_helpers import BIRTH, BIRTH_CODE, GOOD_ANSWERS, OFFICE, birth_spec, csrf, write_spec

#: The findings' English wording is what these tests hold (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english_findings")


FORM = f"/thu-tuc/{BIRTH_CODE}/nop"
REGISTRY = load_registry()
HAI_CHAU = OFFICE
HOA_VANG = next(a.code for a in REGISTRY.of("commune", "ubnd") if a.name["vi"] == "Ủy ban nhân dân xã Hòa Vang")
TRAFFIC_POLICE = "000.08.35.H15"
PASSWORD = "mat-khau-rat-dai-1"


def text(response) -> str:
    return response.get_data(as_text=True)


def summary(html: str) -> list[tuple[str, str]]:
    box = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    return re.findall(r'<a href="([^"]*)">([^<]*)</a>', box.group(0)) if box else []


def first_page(client, agency: str | None) -> tuple:
    token = csrf(text(client.get(FORM)))
    data = {k: v for k, v in GOOD_ANSWERS["requester"].items() if k != "agency"}
    if agency is not None:
        data["agency"] = agency
    return client.post(FORM, data={"csrf_token": token, **data}), token


# --- the procedure page and the start of the form ---------------------------------------------


def test_the_procedure_page_offers_every_commune_office_as_a_plain_select(client):
    html = text(client.get(f"/thu-tuc/{BIRTH_CODE}"))
    select = re.search(r'<select name="co_quan".*?</select>', html, re.S).group(0)
    assert len(re.findall(r'<option value="0', select)) == 94  # every commune of Đà Nẵng
    assert '<option value="000.06.50.H15"' in select and "Ủy ban nhân dân phường Hải Châu" in select
    assert 'action="/thu-tuc/1.001193/nop"' in html and 'method="get"' in html
    assert "js/office-choice.js" in html and "<script>" not in html  # a file: CSP has no inline scripts
    # chosen there, it arrives preselected at the start of the form, with address and hours
    form = text(client.get(f"{FORM}?co_quan={HAI_CHAU}"))
    assert f'<option value="{HAI_CHAU}" selected' in form
    assert "Phường Hải Châu, Thành phố Đà Nẵng" in form and "7:30" in form


def test_a_one_office_procedure_shows_that_office_and_asks_nothing(client):
    html = text(client.get("/thu-tuc/2.000488"))  # judicial record: the police records division only
    assert 'name="co_quan"' not in html
    assert "Phòng Hồ sơ nghiệp vụ, Công an thành phố" in html


@pytest.mark.parametrize("agency, message", [
    (None, "Chọn cơ quan thực hiện (nơi nộp hồ sơ)."),
    ("", "Chọn cơ quan thực hiện (nơi nộp hồ sơ)."),
    ("000.00.ZZ.H99", "Không có cơ quan mã 000.00.ZZ.H99. Chọn cơ quan trong danh sách."),
    (TRAFFIC_POLICE, "Cơ quan Phòng Cảnh sát giao thông, Công an thành phố không giải quyết thủ tục này. Chọn cơ quan trong danh sách."),
    ("<b>x</b>", "Không có cơ quan mã &lt;b&gt;x&lt;/b&gt;. Chọn cơ quan trong danh sách."),
])
def test_a_bad_choice_is_in_the_error_summary_and_nothing_is_kept(app, client, agency, message):
    response, _ = first_page(client, agency)
    assert response.status_code == 200
    html = text(response)
    assert ("#f-agency", message) in summary(html)
    assert 'id="f-agency-error"' in html
    assert "<b>x</b>" not in html
    assert 'value="Nguyễn Văn An"' in html  # the other answers kept
    assert app.extensions["motcua"].store.dossiers.count() == 0


def test_the_choice_goes_on_the_check_page_the_code_the_receipt_and_the_tracking_page(app, client):
    from tests.test_portal_filing import fill_to_check, file_it

    base, token = fill_to_check(client)
    check = text(client.get(f"{base}/kiem-tra"))
    chosen = re.search(r"<td data-office-chosen>(.*?)</td>", check, re.S).group(1)
    assert "Ủy ban nhân dân phường Hải Châu" in chosen and "Phường Hải Châu, Thành phố Đà Nẵng" in chosen
    assert f'/thu-tuc/{BIRTH_CODE}/nop/' in check and "#f-agency" in check  # change it on the first page
    code = file_it(client, base, token)
    today = datetime.now(VN_TZ).strftime("%y%m%d")
    assert re.fullmatch(rf"000\.06\.50\.H15-\d{{6}}-0001", code)
    dossier = app.extensions["motcua"].store.dossiers.get(code)
    assert dossier.agency_code == HAI_CHAU
    for page in (f"/ho-so/{code}/xac-nhan", f"/ho-so/{code}/bien-nhan"):
        assert "Ủy ban nhân dân phường Hải Châu" in text(client.get(page)), page
    assert code.split("-")[1] == today  # the receipt day, Vietnam time


def test_changing_the_office_on_the_first_page_changes_where_it_is_filed(app, client):
    from tests.test_portal_filing import fill_to_check, file_it

    base, token = fill_to_check(client)
    first = re.search(rf'href="({re.escape(base)}/[^"?]+)\?tu=kiem-tra#f-agency"', text(client.get(f"{base}/kiem-tra"))).group(1)
    data = {**GOOD_ANSWERS["requester"], "agency": HOA_VANG}
    response = client.post(first + "?tu=kiem-tra", data={"csrf_token": token, **data})
    assert response.headers["Location"].endswith("/kiem-tra")
    code = file_it(client, base, token)
    assert code.startswith(HOA_VANG + "-")


# --- filing follows the office -----------------------------------------------------------------


def _answers() -> dict:
    from tests.test_backoffice import answers

    return answers()


def test_codes_count_per_office_per_day(app):
    spec = app.extensions["motcua"].catalogue.get(BIRTH_CODE)
    with app.test_request_context():
        codes = [add_dossier(spec, _answers(), [], "online", None, "citizen", agency=a).code
                 for a in (HAI_CHAU, HAI_CHAU, HOA_VANG)]
    day = codes[0].split("-")[1]
    assert codes == [f"{HAI_CHAU}-{day}-0001", f"{HAI_CHAU}-{day}-0002", f"{HOA_VANG}-{day}-0001"]


@pytest.mark.parametrize("agency, reason", [(None, "missing"), ("000.00.ZZ.H99", "unknown"), (TRAFFIC_POLICE, "not_performer")])
def test_filing_refuses_a_wrong_office_before_taking_a_number(app, agency, reason):
    spec = app.extensions["motcua"].catalogue.get(BIRTH_CODE)
    with app.test_request_context():
        with pytest.raises(OfficeChoiceError) as caught:
            add_dossier(spec, _answers(), [], "online", None, "citizen", agency=agency)
        assert caught.value.reason == reason
        # the first dossier of the day still gets number 0001: nothing was taken
        code = add_dossier(spec, _answers(), [], "online", None, "citizen", agency=HAI_CHAU).code
    assert code.endswith("-0001")


def test_a_one_office_procedure_needs_no_choice(app):
    spec = app.extensions["motcua"].catalogue.get("2.000488")
    assert [a.code for a in app.extensions["motcua"].catalogue.performers(spec)] == ["000.06.35.H15"]


def test_the_queue_shows_a_dossier_to_its_office_only(app):
    from tests.test_backoffice import logged_in

    store = app.extensions["motcua"].store
    accounts.create_account(store, "haichau", "Cán bộ Hải Châu", ["desk"], [HAI_CHAU], PASSWORD)
    accounts.create_account(store, "hoavang", "Cán bộ Hòa Vang", ["desk"], [HOA_VANG], PASSWORD)
    spec = app.extensions["motcua"].catalogue.get(BIRTH_CODE)
    with app.test_request_context():
        code = add_dossier(spec, _answers(), [], "online", None, "citizen", agency=HAI_CHAU).code
    assert code in text(logged_in(app, "haichau").get("/staff/"))
    other = logged_in(app, "hoavang")
    assert code not in text(other.get("/staff/"))
    assert other.get(f"/staff/ho-so/{code}").status_code in (403, 404)


def test_messages_are_sent_in_the_offices_name(app):
    from motcua.workflow.outbox import outbox_for

    spec = app.extensions["motcua"].catalogue.get(BIRTH_CODE)
    with app.test_request_context():
        answers = _answers()
        answers["requester"]["email"] = "dan@example.vn"
        from motcua.filing import file_dossier

        code = file_dossier(spec, answers, [], "online", None, "citizen", agency=HOA_VANG).code
    app.extensions["motcua"].engine.flush()
    messages = outbox_for(app.extensions["motcua"], app.config).messages(code)
    assert messages and {m["sender"] for m in messages} == {"Ủy ban nhân dân xã Hòa Vang"}


# --- fees per office ------------------------------------------------------------------------------


def _with_fee_by_agency(tmp_path: Path, by_agency: dict) -> Path:
    data = birth_spec()
    data["version"] = "fees-by-agency"
    [rule] = [r for r in data["fees"] if r["id"] == "phi_ban_sao_trich_luc"]  # 8,000 per extract copy
    rule["by_agency"] = by_agency
    return write_spec(tmp_path / "specs", "khai-sinh", data)


def test_a_spec_gives_one_office_its_own_amount(tmp_path: Path):
    path = _with_fee_by_agency(tmp_path, {HOA_VANG: 5000})
    loaded = lint_file(path, agencies=REGISTRY)
    assert loaded.ok, loaded.findings
    answers = {"extract_copies": 2}
    assert sum(line.amount for line in compute_fees(loaded.spec, answers, "online", HOA_VANG)) == 10000
    assert sum(line.amount for line in compute_fees(loaded.spec, answers, "online", HAI_CHAU)) == 16000


def test_lint_refuses_a_fee_for_an_office_that_does_not_perform_it(tmp_path: Path):
    path = _with_fee_by_agency(tmp_path, {TRAFFIC_POLICE: 5000})
    loaded = lint_file(path, agencies=REGISTRY)
    [error] = [f for f in loaded.findings if f.severity == "error"]
    assert "000.08.35.H15 does not perform this procedure" in error.message
    assert error.line == next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if TRAFFIC_POLICE in line)


# --- lint: who performs a spec --------------------------------------------------------------------


def _spec_with(tmp_path: Path, **who) -> Path:
    data = birth_spec()
    data.pop("performed_by")
    data.update(who)
    return write_spec(tmp_path / "specs", "khai-sinh", data)


def test_lint_checks_every_code_against_the_registry_with_did_you_mean(tmp_path: Path):
    path = _spec_with(tmp_path, performed_by=["000.07.50.H15", "000.06.50.H51"])
    loaded = lint_file(path, agencies=REGISTRY)
    [error] = [f for f in loaded.findings if f.severity == "error"]
    assert "unknown agency code 000.06.50.H51" in error.message and "did you mean `000.06.50.H15`?" in error.message
    assert error.line == next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "000.06.50.H51" in line)


def test_lint_refuses_a_tier_and_kind_with_no_office(tmp_path: Path):
    loaded = lint_file(_spec_with(tmp_path, performed_by={"tier": "commune", "kind": "ubdn"}), agencies=REGISTRY)
    [error] = [f for f in loaded.findings if f.severity == "error"]
    assert "no office of tier commune, kind ubdn" in error.message and "did you mean `ubnd`?" in error.message


def test_both_keys_or_neither_are_refused(tmp_path: Path):
    old = {"name": {"vi": "UBND"}, "tier": "commune", "code": "000.06.50.H15"}
    both = lint_file(_spec_with(tmp_path, performed_by="000.06.50.H15", agency=old), agencies=REGISTRY)
    assert any("`agency` is the old key of `performed_by`" in f.message for f in both.findings)
    neither = lint_file(_spec_with(tmp_path), agencies=REGISTRY)
    assert any("say who performs the procedure" in f.message for f in neither.findings)


def test_the_old_agency_key_keeps_working_with_a_warning(tmp_path: Path):
    old = {"name": {"vi": "Ủy ban nhân dân xã Cũ", "en": "Old Commune"}, "tier": "commune", "code": "000.00.31.H12"}
    folder = tmp_path / "specs"
    _spec_with(tmp_path, agency=old)
    loaded = lint_file(folder / "khai-sinh.yaml", agencies=REGISTRY)
    assert loaded.ok
    [warning] = loaded.findings
    assert warning.severity == "warning" and "`agency` is the old key" in warning.message
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(folder), "TESTING": True})
    spec = app.extensions["motcua"].catalogue.get(BIRTH_CODE)
    with app.test_request_context():
        code = add_dossier(spec, _answers(), [], "online", None, "citizen").code
    assert code.startswith("000.00.31.H12-")
    assert "Ủy ban nhân dân xã Cũ" in text(app.test_client().get(f"/thu-tuc/{BIRTH_CODE}"))


def test_every_shipped_spec_uses_performed_by_and_no_office_has_two_codes():
    specs = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(SPECS.rglob("*.yaml"))]
    assert len(specs) >= 10
    assert all("performed_by" in s and "agency" not in s for s in specs)
    for path in sorted(SPECS.rglob("*.yaml")):
        loaded = lint_file(path, agencies=REGISTRY)
        assert loaded.ok and not loaded.findings, (path, loaded.findings)
    # one office, one code: every code named is the registry's, and the registry has no two
    # offices for one commune and kind
    named = {c for s in specs for c in (s["performed_by"] if isinstance(s["performed_by"], list) else
                                         [s["performed_by"]] if isinstance(s["performed_by"], str) else
                                         s["performed_by"].get("agencies") or [])}
    assert named <= set(REGISTRY.codes())
    pairs = [(a.kind, a.commune_code) for a in REGISTRY.of("commune")]
    assert len(pairs) == len(set(pairs))


# --- the API --------------------------------------------------------------------------------------


def _api_body(agency=None) -> dict:
    body = {"answers": _answers(), "delivery": {"kind": "desk"}, "attachments": []}
    if agency is not None:
        body["agency"] = agency
    return body


@pytest.mark.parametrize("agency, message", [
    (None, "Chọn cơ quan thực hiện (nơi nộp hồ sơ)."),
    ("000.00.ZZ.H99", "Không có cơ quan mã 000.00.ZZ.H99. Chọn cơ quan trong danh sách."),
    (TRAFFIC_POLICE, "không giải quyết thủ tục này"),
])
def test_api_filing_needs_a_performing_office(app, client, agency, message):
    response = client.post(f"/api/v1/procedures/{BIRTH_CODE}/dossiers", json=_api_body(agency))
    assert response.status_code == 422
    [item] = [e for e in response.json["errors"] if e["pointer"] == "/agency"]
    assert message in item["message"]


def test_api_filing_with_an_office_carries_its_prefix(app, client):
    from tests.portal_helpers import small_pdf
    import base64

    body = _api_body(HOA_VANG)
    body["attachments"] = [{"component": "giay_chung_sinh", "filename": "gcs.pdf",
                            "content_base64": base64.b64encode(small_pdf()).decode()}]
    response = client.post(f"/api/v1/procedures/{BIRTH_CODE}/dossiers", json=body)
    assert response.status_code == 201, response.json
    assert response.json["code"].startswith(HOA_VANG + "-")
    # one performer: no agency needed; the request schema says which procedures need it
    schema = client.get(f"/api/v1/procedures/{BIRTH_CODE}").json["request_schema"]
    assert "agency" in schema["required"] and HOA_VANG in schema["properties"]["agency"]["enum"]
    judicial = client.get("/api/v1/procedures/2.000488").json["request_schema"]
    assert "agency" not in judicial["required"] and judicial["properties"]["agency"]["enum"] == ["000.06.35.H15"]


def test_api_lists_agencies_by_tier_procedure_and_words(client):
    from motcua.web.api import AgencyInfo

    everything = client.get("/api/v1/agencies").json
    assert everything["total"] == len(REGISTRY) == 207
    assert [AgencyInfo(**a).model_dump() for a in everything["agencies"]] == everything["agencies"]  # as published
    provincial = client.get("/api/v1/agencies?tier=province").json
    assert {a["tier"] for a in provincial["agencies"]} == {"province"} and provincial["total"] == 19
    police = client.get("/api/v1/agencies?procedure=1.004222").json  # permanent residence: commune police
    assert police["total"] == 94 and {a["kind"] for a in police["agencies"]} == {"cong-an"}
    found = client.get("/api/v1/agencies", query_string={"procedure": BIRTH_CODE, "q": "HAI chau"}).json
    assert [(a["code"], a["name"]) for a in found["agencies"]] == [(HAI_CHAU, "Ủy ban nhân dân phường Hải Châu")]
    assert found["agencies"][0]["address"] == "Phường Hải Châu, Thành phố Đà Nẵng"
    english = client.get("/api/v1/agencies", query_string={"q": "hai chau ward people", "lang": "en"}).json
    assert [a["name"] for a in english["agencies"]] == ["Hai Chau Ward People's Committee"]
    assert client.get("/api/v1/agencies?procedure=9.999999").status_code == 404


def test_api_and_catalogue_filter_procedures_by_agency_and_tier(client):
    by_agency = client.get("/api/v1/procedures", query_string={"agency": HAI_CHAU}).json
    assert sorted(p["code"] for p in by_agency["procedures"]) == ["1.000894", "1.001193", "1.001612", "1.004873", "1.009994", "2.000815"]
    police = client.get("/api/v1/procedures", query_string={"agency": TRAFFIC_POLICE}).json
    assert [p["code"] for p in police["procedures"]] == ["1.002804"]
    province = client.get("/api/v1/procedures", query_string={"tier": "province"}).json
    assert sorted(p["code"] for p in province["procedures"]) == ["1.001978", "1.002804", "2.000488"]
    html = text(client.get("/", query_string={"agency": TRAFFIC_POLICE}))
    assert re.findall(r'href="/thu-tuc/([^"]+)"', html) == ["1.002804"]
    assert f'<option value="{TRAFFIC_POLICE}" selected' in html
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "/agencies" in paths
    assert "agency" in {p["name"] for p in paths["/procedures"]["get"]["parameters"]}


def test_preselected_from_the_signed_in_address_or_an_address_given(app):
    from motcua.web import offices

    spec = app.extensions["motcua"].catalogue.get(BIRTH_CODE)
    with app.test_request_context():
        assert offices.preselect(spec, claims={"address": {"province": "48", "commune": "20242"}}) == HAI_CHAU
        assert offices.preselect(spec, answers={"requester": {"residence": {"province_code": "48", "commune_code": "20242"}}}) == HAI_CHAU
        assert offices.preselect(spec, claims={"address": {"province": "01", "commune": "00070"}}) is None  # Hà Nội: not ours
        assert offices.preselect(spec, chosen=HOA_VANG, claims={"address": {"province": "48", "commune": "20242"}}) == HOA_VANG
        assert offices.preselect(spec, chosen=TRAFFIC_POLICE) is None
