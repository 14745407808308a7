"""Postal addresses on the administrative units of 1 July 2025 (motcua.units): the table,
the checks, the form without and with JavaScript's endpoint, and addresses stored before."""

from __future__ import annotations

import io
import re
from datetime import datetime, timezone

import pypdf
import pytest

from motcua import units
from motcua.dossier import Contact, DeliveryChoice, Dossier
from motcua.submission import delivery_choice, validate_delivery
from motcua_plugins.postal import carrier_address
from motcua.spec.loader import load_file
from motcua_plugins.simulators import carrier as carrier_sim
from motcua_renderers.documents import receipt_pdf
from motcua_renderers.summary import answer_rows
from tests.portal_helpers import BIRTH, BIRTH_CODE, GOOD_ANSWERS, csrf, small_pdf


@pytest.fixture(scope="module")
def birth():
    return load_file(BIRTH).spec


def text(response) -> str:
    return response.get_data(as_text=True)


# --- the table -------------------------------------------------------------------------------


def test_the_table_has_34_provinces_and_3321_communes():
    provinces = units.provinces()
    assert len(provinces) == 34
    assert sum(len(units.communes(p.code)) for p in provinces) == 3321
    assert [p.code for p in provinces][:3] == ["01", "04", "08"] and provinces[-1].code == "96"
    assert all(re.fullmatch(r"\d{5}", c.code) for p in provinces for c in units.communes(p.code))
    assert units.province("79").name == "Thành phố Hồ Chí Minh" and units.province("79").en == "Ho Chi Minh City"
    assert units.communes("02") == ()  # Hà Giang is no more
    assert units.version().startswith("vietnam-provinces 2025.")


def test_a_commune_is_found_by_code_or_by_name_without_diacritics():
    hoan_kiem = units.find_commune("01", "00070")
    assert hoan_kiem.name == "Phường Hoàn Kiếm"
    for typed in ("hoan kiem", "PHUONG HOAN KIEM", "Phường  Hoàn Kiếm", "P. Hoàn Kiếm", "70"):
        assert units.find_commune("01", typed) == hoan_kiem, typed
    assert units.find_commune("79", "hoan kiem") is None  # only within the province
    assert units.province("ha noi").code == "01" and units.province("Tỉnh Cà Mau").code == "96"


# --- the checks ------------------------------------------------------------------------------


def test_a_commune_of_another_province_is_refused(birth):
    delivery = delivery_choice(birth, "postal", {"province": "01", "commune": "Phường Bến Thành", "street": "Số 1"})
    errors = validate_delivery(birth, delivery)
    assert errors == {"delivery.address.commune":
                      "Phường Bến Thành thuộc Thành phố Hồ Chí Minh, không thuộc Thành phố Hà Nội: "
                      "chọn lại tỉnh, thành phố hoặc xã, phường, đặc khu"}
    # the exact name of a commune elsewhere wins over a look-alike here (Hà Nội has Hồng Vân)
    hong_bang = validate_delivery(birth, delivery_choice(birth, "postal", {"province": "01", "commune": "Phường Hồng Bàng", "street": "Số 1"}))
    assert hong_bang["delivery.address.commune"] == (
        "Phường Hồng Bàng thuộc Thành phố Hải Phòng, không thuộc Thành phố Hà Nội: chọn lại tỉnh, thành phố hoặc xã, phường, đặc khu")
    # a hand-made post of a commune code from another province is refused the same way
    ben_thanh = units.find_commune("79", "Ben Thanh")
    assert "delivery.address.commune" in validate_delivery(birth, delivery_choice(birth, "postal", {"province": "01", "commune": ben_thanh.code, "street": "Số 1"}))


def test_a_misspelt_commune_gets_did_you_mean_and_an_old_one_the_merger(birth):
    errors = validate_delivery(birth, delivery_choice(birth, "postal", {"province": "01", "commune": "hoan kiam", "street": "Số 1"}))
    assert errors["delivery.address.commune"] == (
        "“hoan kiam” không có trong danh sách xã, phường, đặc khu của Thành phố Hà Nội. Có phải bạn muốn chọn: Phường Hoàn Kiếm?")
    # Phúc Xá was merged on 1 July 2025; no old-to-new mapping is guessed
    old = validate_delivery(birth, delivery_choice(birth, "postal", {"province": "Hà Nội", "commune": "Phường Phúc Xá", "street": "Số 1"}), "en")
    assert "Since 01/07/2025 communes and wards have been merged" in old["delivery.address.commune"]
    # an old name is not "corrected" to a different place (Hàng Bông is not Hà Đông)
    hang_bong = validate_delivery(birth, delivery_choice(birth, "postal", {"province": "01", "commune": "Phường Hàng Bông", "street": "Số 1"}))
    assert hang_bong["delivery.address.commune"].startswith("Không tìm thấy “Phường Hàng Bông” trong Thành phố Hà Nội. Từ ngày 01/07/2025")
    assert "Có phải" not in hang_bong["delivery.address.commune"]
    # the words in another order still get the suggestion
    assert units.suggest_communes("01", "kiem hoan") == [units.find_commune("01", "Hoàn Kiếm")]
    unknown = validate_delivery(birth, delivery_choice(birth, "postal", {"province": "Hà Giang", "commune": "x", "street": ""}))
    assert set(unknown) == {"delivery.address.province", "delivery.address.street"}
    assert "34 tỉnh, thành phố" in unknown["delivery.address.province"]


# --- the form, without JavaScript ------------------------------------------------------------

FORM = f"/thu-tuc/{BIRTH_CODE}/nop"


def to_delivery_step(client) -> tuple[str, str]:
    token = csrf(text(client.get(FORM)))
    response = client.post(FORM, data={"csrf_token": token, **GOOD_ANSWERS["requester"]})
    base = response.headers["Location"].rsplit("/", 1)[0]
    for page in ("child", "parents", "copies"):
        assert client.post(f"{base}/{page}", data={"csrf_token": token, **GOOD_ANSWERS[page]}).status_code == 302
    response = client.post(f"{base}/dinh-kem", content_type="multipart/form-data",
                           data={"csrf_token": token, "attachment.giay_chung_sinh": (io.BytesIO(small_pdf()), "gcs.pdf")})
    assert response.status_code == 302
    return base, token


def test_choose_province_then_commune_without_javascript(client, app):
    base, token = to_delivery_step(client)
    page = text(client.get(f"{base}/nhan-ket-qua"))
    assert '<input id="f-delivery-address-commune"' in page  # no province yet: a text box
    assert 'name="delivery.address.district"' not in page
    # "show the communes": the same page again, the list drawn, nothing reported yet
    response = client.post(f"{base}/nhan-ket-qua", data={"csrf_token": token, "delivery.kind": "postal",
                                                          "delivery.address.province": "31", "delivery.address.street": "Số 5",
                                                          "_units": "delivery.address"})
    page = text(response)
    assert response.status_code == 200 and "error-message" not in page
    select = page[page.index('<select id="f-delivery-address-commune"'):]
    select = select[: select.index("</select>")]
    assert select.count("<option") == 1 + len(units.communes("31"))
    assert 'value="Số 5"' in page and '<option value="31" selected>' in page  # what was typed is kept
    response = client.post(f"{base}/nhan-ket-qua", data={"csrf_token": token, "delivery.kind": "postal",
                                                          "delivery.address.province": "31", "delivery.address.commune": "11311",
                                                          "delivery.address.street": "Số 5"})
    assert response.headers["Location"].endswith("/kiem-tra")
    check = text(client.get(response.headers["Location"]))
    assert "Số 5, Phường Hồng Bàng, Thành phố Hải Phòng" in check


def test_a_name_typed_without_diacritics_is_stored_with_its_code(client, app):
    base, token = to_delivery_step(client)
    response = client.post(f"{base}/nhan-ket-qua", data={"csrf_token": token, "delivery.kind": "postal",
                                                          "delivery.address.province": "01", "delivery.address.commune": "phuong ba dinh",
                                                          "delivery.address.street": "Số 1 Hoàng Hoa Thám"})
    assert response.headers["Location"].endswith("/kiem-tra")
    page = text(client.get(response.headers["Location"]))
    submit = re.search(r'name="submit_token" value="([^"]+)"', page).group(1)
    response = client.post(f"{base}/kiem-tra", data={"csrf_token": token, "submit_token": submit})
    code = re.search(r"/ho-so/([^/]+)/xac-nhan", response.headers["Location"])
    dossier = app.extensions["motcua"].store.dossiers.get(code.group(1))
    assert dossier.delivery.address == {"province": "Thành phố Hà Nội", "province_code": "01", "commune": "Phường Ba Đình",
                                        "commune_code": "00004", "street": "Số 1 Hoàng Hoa Thám"}


def test_an_unknown_commune_comes_back_with_the_error_next_to_it_and_the_text_kept(client):
    base, token = to_delivery_step(client)
    page = text(client.post(f"{base}/nhan-ket-qua", data={"csrf_token": token, "delivery.kind": "postal",
                                                            "delivery.address.province": "01", "delivery.address.commune": "Phúc Xá",
                                                            "delivery.address.street": "Số 1"}))
    assert 'id="f-delivery-address-commune-error"' in page and "01/07/2025" in page
    assert '<option value="Phúc Xá" selected>Phúc Xá</option>' in page and 'value="Số 1"' in page


# --- the JSON endpoint -----------------------------------------------------------------------


def test_communes_endpoint_is_public_and_cacheable(client):
    response = client.get("/api/v1/units/01/communes")
    assert response.status_code == 200 and "public" in response.headers["Cache-Control"]
    body = response.get_json()
    assert body["province"] == {"code": "01", "name": "Thành phố Hà Nội"}
    assert len(body["communes"]) == len(units.communes("01"))
    assert {"code": "00070", "name": "Phường Hoàn Kiếm"} in body["communes"]
    assert client.get("/api/v1/units/02/communes").status_code == 404
    assert client.get("/api/v1/units/x/communes").status_code == 404
    assert "/units/{province}/communes" in client.get("/api/v1/openapi.json").get_json()["paths"]


# --- addresses stored before 1 July 2025 -----------------------------------------------------

OLD_ADDRESS = {"province": "Hà Nội", "district": "Quận Ba Đình", "commune": "Phường Phúc Xá", "street": "Số 3 Phó Đức Chính"}


def test_an_old_dossier_with_a_district_still_reads(birth):
    assert units.address_text(OLD_ADDRESS) == "Số 3 Phó Đức Chính, Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội"
    dossier = Dossier(
        code="000.00.31.H12-250520-0001", procedure_code=birth.code, spec_version=birth.version, agency_code="000.06.50.H15",
        channel="online", data={}, delivery=DeliveryChoice(kind="postal", address=dict(OLD_ADDRESS), postal_charge=25000),
        contact=Contact(name="Nguyễn Văn An", phone="0912345678"), filed_at=datetime(2025, 5, 20, tzinfo=timezone.utc),
    )
    pdf = pypdf.PdfReader(io.BytesIO(receipt_pdf(dossier, birth, "https://example.vn/ho-so/x", "vi")))
    flat = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pdf.pages))
    assert "Số 3 Phó Đức Chính, Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội" in flat
    # the carrier gets the province's code (a province keeps its code) and no guessed commune code
    assert carrier_address(OLD_ADDRESS) == {"province": "Hà Nội", "province_code": "01", "commune": "Phường Phúc Xá",
                                            "commune_code": "", "street": "Số 3 Phó Đức Chính", "district": "Quận Ba Đình"}


def test_an_address_answer_reads_street_commune_province(birth):
    from tests.test_renderers_form import EVERY_UI, EVERY_WIDGET, make_spec

    spec = make_spec(EVERY_WIDGET, EVERY_UI)
    rows = dict(answer_rows(spec, {"home": {"province": "79", "commune": "Phường Bến Thành", "commune_code": "26743", "street": "12 Lê Lợi"}}))
    assert "12 Lê Lợi, Phường Bến Thành, Thành phố Hồ Chí Minh" in rows.values()
    old = dict(answer_rows(spec, {"home": {"province": "79", "district": "Quận 1", "commune": "Phường Bến Thành", "street": "12 Lê Lợi"}}, "en"))
    assert "12 Lê Lợi, Phường Bến Thành, Quận 1, Ho Chi Minh City" in old.values()


def test_the_carrier_simulator_refuses_a_commune_of_another_province():
    sim = carrier_sim.create_app(api_key="K")
    client = sim.test_client()
    body = {"reference": "X", "kind": "delivery", "callback_url": "http://127.0.0.1:9/cb", "sender": {"name": "UBND"},
            "receiver": {"name": "A", "address": {"province": "Thành phố Hà Nội", "province_code": "01",
                                                   "commune": "Phường Bến Thành", "commune_code": "26743", "street": "1"}}}
    response = client.post("/api/v1/shipments", json=body, headers={"X-Api-Key": "K"})
    assert response.status_code == 422
    assert "address.commune_code is not a commune of address.province_code" in response.get_json()["problems"]
    body["receiver"]["address"].update(commune="Phường Hoàn Kiếm", commune_code="00070")
    assert client.post("/api/v1/shipments", json=body, headers={"X-Api-Key": "K"}).status_code == 201


def test_an_address_in_a_spec_form_is_checked_against_the_units():
    from motcua.submission import validate

    from tests.portal_helpers import REPO

    spec = load_file(REPO / "procedure_specs" / "cu-tru" / "dang-ky-thuong-tru.yaml").spec
    answers = {"address": {"province": "01", "commune": "Phường Bến Thành", "street": "Số 1"}}
    errors = validate(spec, answers)
    assert errors["address.commune"].startswith("Phường Bến Thành thuộc Thành phố Hồ Chí Minh")
    answers["address"].update(commune="Phường Hoàn Kiếm", commune_code="00070")
    assert "address.commune" not in validate(spec, answers) and "address.province" not in validate(spec, answers)


# --- odd input is a name not found, never a crash --------------------------------------------

#: str.isdigit() says yes to all of these; int() refuses the first ones, and the last is
#: beyond int()'s 4,300-digit limit.
ODD_DIGITS = ("²", "12²", "٣", "𝟗", "9" * 5000)


def test_odd_digits_are_names_not_found_not_errors():
    for odd in ODD_DIGITS:
        assert odd.isdigit()
        assert units.unit_code(odd, 2) is None
        assert units.province(odd) is None and units.find_commune("01", odd) is None
        assert units.communes_elsewhere(odd) == [] and units.commune(odd) is None
        assert units.resolve_address({"province": "01", "commune": odd, "street": "Số 1"})["commune"] == odd
        assert units.resolve_address({"province": odd, "commune": "00070"}) == {"province": odd, "commune": "00070"}
    assert units.unit_code("1", 2) == "01" and units.unit_code(" 70 ", 5) == "00070" and units.unit_code("123456", 5) is None


def test_communes_endpoint_refuses_odd_digits_with_a_404(client):
    for path in ("%C2%B2", "12%C2%B2", "9" * 5000):
        response = client.get(f"/api/v1/units/{path}/communes")
        assert response.status_code == 404 and response.get_json()["errors"], path


def test_a_commune_typed_as_a_superscript_gets_the_commune_error_with_the_text_kept(client):
    base, token = to_delivery_step(client)
    response = client.post(f"{base}/nhan-ket-qua", data={"csrf_token": token, "delivery.kind": "postal",
                                                          "delivery.address.province": "01", "delivery.address.commune": "²",
                                                          "delivery.address.street": "Số 1"})
    page = text(response)
    assert response.status_code == 200 and 'id="f-delivery-address-commune-error"' in page
    assert "Không tìm thấy “²” trong Thành phố Hà Nội" in page
    assert '<option value="²" selected>²</option>' in page and 'value="Số 1"' in page
    response = client.post(f"{base}/nhan-ket-qua", data={"csrf_token": token, "delivery.kind": "postal",
                                                          "delivery.address.province": "9" * 5000, "delivery.address.commune": "²",
                                                          "delivery.address.street": "Số 1"})
    assert response.status_code == 200 and 'id="f-delivery-address-province-error"' in text(response)


def test_odd_digits_in_a_spec_form_address_and_the_api_are_refused_with_field_errors(client):
    from werkzeug.datastructures import MultiDict

    from motcua.submission import validate
    from motcua_renderers.form import parse_form
    from tests.portal_helpers import REPO
    from tests.test_api_portal import body

    spec = load_file(REPO / "procedure_specs" / "cu-tru" / "dang-ky-thuong-tru.yaml").spec
    for odd in ODD_DIGITS[:2]:
        answers = parse_form(spec, MultiDict({"address.province": "01", "address.commune": odd, "address.street": "Số 1"}), ["address"])
        assert answers["address"] == {"province": "01", "commune": odd, "street": "Số 1"}
        assert "address.commune" in validate(spec, answers)
    # the province stays the code the spec's schema asks for; the commune gets its name and code
    answers = parse_form(spec, MultiDict({"address.province": "01", "address.commune": "00070", "address.street": "Số 1"}), ["address"])
    assert answers["address"] == {"province": "01", "commune": "Phường Hoàn Kiếm", "commune_code": "00070", "street": "Số 1"}

    response = client.post(f"/api/v1/procedures/{BIRTH_CODE}/dossiers", json=body(
        delivery={"kind": "postal", "address": {"province": "01", "commune": "²", "street": "Số 1"}}))
    assert response.status_code == 422
    assert any(e["pointer"].endswith("commune") for e in response.get_json()["errors"])


def test_the_communes_list_speaks_only_the_language_in_its_url(client):
    """It is cached publicly per URL: a reader's cookie must not pick the body's language."""
    client.set_cookie("lang", "en")
    plain = client.get("/api/v1/units/79/communes")
    assert plain.get_json()["province"]["name"] == "Thành phố Hồ Chí Minh"
    assert plain.get_json()["prompt"] == "— Chọn xã, phường, đặc khu —"
    client.set_cookie("lang", "vi")
    assert client.get("/api/v1/units/79/communes").get_json() == plain.get_json()
    english = client.get("/api/v1/units/79/communes?lang=en")
    assert english.get_json()["province"]["name"] == "Ho Chi Minh City" and english.get_json()["prompt"] != plain.get_json()["prompt"]
    assert "public" in english.headers["Cache-Control"]


@pytest.mark.browser
def test_the_script_asks_for_the_communes_in_the_pages_language(live_server, page):
    """form.js puts the page's language in the URL; the English page gets the English prompt."""
    page.goto(f"{live_server.url}/thu-tuc/1.004222/nop?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    with page.expect_response(lambda r: "/api/v1/units/79/communes" in r.url) as fetched:
        page.select_option("#f-address-province", "79")
    assert fetched.value.url.endswith("/api/v1/units/79/communes?lang=en")
    page.wait_for_selector("select#f-address-commune option[value='26743']", state="attached")
    prompt = page.locator("select#f-address-commune option").first.inner_text()
    assert prompt == fetched.value.json()["prompt"] and prompt != "— Chọn xã, phường, đặc khu —"
    # the hint no longer invites typing a name into what is now a list
    assert page.locator("#f-address-commune-hint").inner_text() == "Choose the commune, ward or special zone from the list."


@pytest.mark.browser
def test_the_commune_hint_offers_typing_only_while_the_field_is_a_text_box(live_server, page):
    page.goto(f"{live_server.url}/thu-tuc/1.004222/nop")
    hint = page.locator("#f-address-commune-hint")
    assert "gõ tên xã" in hint.inner_text() and page.locator("input#f-address-commune").count() == 1
    page.select_option("#f-address-province", "79")
    page.wait_for_selector("select#f-address-commune option[value='26743']", state="attached")
    assert hint.inner_text() == "Chọn xã, phường, đặc khu trong danh sách."


def test_an_english_address_names_the_commune_in_english_like_the_province():
    """The office's address beside its English name: "Hai Chau Ward, Da Nang", never the
    Vietnamese unit next to the translated province."""
    office = {"commune": "Phường Hải Châu", "commune_code": "20242", "province": "Thành phố Đà Nẵng", "province_code": "48"}
    assert units.address_text(office, "en") == "Hai Chau Ward, Da Nang"
    assert units.address_text(office, "vi") == "Phường Hải Châu, Thành phố Đà Nẵng"
    assert units.address_text({"commune_code": "20242", "province_code": "48"}, "en") == "Hai Chau Ward"
    kinds = {c.kind: c for p in units.provinces() for c in units.communes(p.code)}
    assert kinds["xã"].en.endswith(" Commune") and kinds["đặc khu"].en.endswith(" Special Zone")
    assert all(ord(ch) < 128 for c in kinds.values() for ch in c.en)
    # a commune written otherwise than the table names it (a citizen's own spelling) is kept
    typed = {"commune": "P. Hải Châu", "commune_code": "20242", "province_code": "48", "province": "Đà Nẵng"}
    assert units.address_text(typed, "en") == "P. Hải Châu, Da Nang"


def test_an_english_required_message_reads_as_a_sentence():
    """"Enter full name", not "Enter Full name"; an acronym keeps its capitals."""
    from motcua.submission import _lower_first

    assert _lower_first("Full name", "en") == "full name" and _lower_first("Họ và tên", "vi") == "họ và tên"
    assert _lower_first("ID number", "en") == "ID number" and _lower_first("CCCD", "vi") == "CCCD"
