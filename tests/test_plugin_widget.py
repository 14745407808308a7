"""A third-party field type, `bien-so-xe` (a Vietnamese vehicle plate), from its own package
(tests/plugin_packages/motcua-bien-so-xe) registered under `motcua.widgets`: a spec in tmp
uses it as a JSON Schema format, and the form renders it, the portal and the API validate it
with the package's own messages (vi / en), the published schema carries its pattern, the
summary and the blank PDF print it — with no change to this repository for the plate."""

from __future__ import annotations

import base64
import io
import sys
from pathlib import Path

import pytest

from fixtures.plugin_kit import installed
from motcua.app import create_app
from tests.portal_helpers import BIRTH_CODE, birth_spec, csrf, small_pdf, write_spec
from tests.test_api_portal import ANSWERS

PACKAGE = Path(__file__).parent / "plugin_packages" / "motcua-bien-so-xe"


@pytest.fixture(scope="module")
def plate_installed(tmp_path_factory):
    """Install the package as pip would a pure-Python wheel (a .dist-info with its entry
    points, in a folder on sys.path), like tests/test_plugin_entrypoint.py."""
    with installed(PACKAGE, "motcua_bien_so_xe", tmp_path_factory.mktemp("site-packages")) as site:
        yield site


def plate_spec() -> dict:
    data = birth_spec()
    data["version"] = "plate-test"
    data["form"]["fields"]["properties"]["bien_so"] = {"type": "string", "title": "Biển số xe", "format": "bien-so-xe"}
    data["form"]["fields"]["required"] = [*data["form"]["fields"].get("required", []), "bien_so"]
    data["form"].setdefault("ui", {})["bien_so"] = {"label": {"vi": "Biển số xe", "en": "Vehicle plate"}}
    data["form"]["pages"][0]["fields"].append("bien_so")
    # a second plate field whose spec gives its own placeholder (it wins over the package's)
    data["form"]["fields"]["properties"]["bien_so_cu"] = {"type": "string", "title": "Biển số cũ", "format": "bien-so-xe"}
    data["form"]["ui"]["bien_so_cu"] = {"label": {"vi": "Biển số cũ", "en": "Old plate"},
                                        "placeholder": {"vi": "Biển số trước khi đổi", "en": "The plate before the change"}}
    data["form"]["pages"][0]["fields"].append("bien_so_cu")
    return data


@pytest.fixture
def site(plate_installed, tmp_path):
    specs = tmp_path / "specs"
    write_spec(specs, "plate", plate_spec())
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(specs), "TESTING": True})
    yield app
    app.extensions["motcua"].store.close()


def filing(plate: str) -> dict:
    return {"agency": "000.06.50.H15", "answers": {**ANSWERS, "bien_so": plate}, "delivery": {"kind": "desk"},
            "attachments": [{"component": "giay_chung_sinh", "filename": "cs.pdf",
                             "content_base64": base64.b64encode(small_pdf()).decode()}]}


def test_the_package_is_found_and_the_linter_knows_the_format(plate_installed, tmp_path) -> None:
    from motcua.integrations import WIDGETS
    from motcua.spec.lint import lint_file

    assert "bien-so-xe" in WIDGETS.all()
    path = write_spec(tmp_path / "specs", "plate", plate_spec())
    loaded = lint_file(path)
    assert loaded.ok and not [f for f in loaded.findings if "bien-so-xe" in str(f)], loaded.findings


def test_the_api_validates_with_the_package_messages_and_publishes_its_pattern(site) -> None:
    client = site.test_client()
    schema = client.get(f"/api/v1/procedures/{BIRTH_CODE}").get_json()["submission_schema"]
    assert schema["properties"]["bien_so"]["format"] == "bien-so-xe" and "pattern" in schema["properties"]["bien_so"]
    url = f"/api/v1/procedures/{BIRTH_CODE}/dossiers"
    for plate, message in (("29I-123.45", "Sê-ri biển số không dùng các chữ I, O, Q, W"),
                           ("05A-123.45", "Hai chữ số đầu của biển số (mã tỉnh) phải từ 11 đến 99"),
                           ("xe may", "Biển số xe không đúng định dạng")):
        response = client.post(url, json=filing(plate))
        assert response.status_code == 422, plate
        errors = {e["pointer"]: e["message"] for e in response.get_json()["errors"]}
        assert errors["/answers/bien_so"].startswith(message), errors
    english = client.post(url + "?lang=en", json=filing("29I-123.45"))
    assert english.status_code == 422
    assert {e["pointer"]: e["message"] for e in english.get_json()["errors"]}["/answers/bien_so"].startswith(
        "Plate series never use the letters I, O, Q or W")
    response = client.post(url, json=filing("29a 12345"))
    assert response.status_code == 201, response.get_json()
    code = response.get_json()["code"]
    dossier = site.extensions["motcua"].store.dossiers.get(code)
    assert dossier.data["bien_so"] == "29a 12345"  # stored as sent; shown the way plates are written
    from motcua_renderers.summary import answer_rows

    spec = site.extensions["motcua"].catalogue.get(BIRTH_CODE)
    assert ("Biển số xe", "29A-123.45") in answer_rows(spec, dossier.data, "vi")
    assert ("Vehicle plate", "59-X1 234.56") in answer_rows(spec, {**dossier.data, "bien_so": "59x123456"}, "en")


def test_the_form_renders_validates_and_cleans_the_plate(site) -> None:
    client = site.test_client()
    page = client.get(f"/thu-tuc/{BIRTH_CODE}/nop").get_data(as_text=True)
    assert 'name="bien_so"' in page and "Biển số xe" in page
    wrong = client.post(f"/thu-tuc/{BIRTH_CODE}/nop", data={"csrf_token": csrf(page), "bien_so": "29I-123.45"},
                        follow_redirects=True).get_data(as_text=True)
    assert "Sê-ri biển số không dùng các chữ I, O, Q, W" in wrong and 'value="29I-123.45"' in wrong
    right = client.post(f"/thu-tuc/{BIRTH_CODE}/nop", data={"csrf_token": csrf(page), "bien_so": "29a 12345"},
                        follow_redirects=True).get_data(as_text=True)
    assert "Sê-ri biển số" not in right and "Biển số xe không đúng định dạng" not in right
    assert 'value="29A-123.45"' in right  # cleaned the way plates are written


def test_the_input_carries_the_field_types_attributes(site) -> None:
    """`Widget.input_attrs` reach the citizen's <input>, in the reader's language."""
    import re

    page = site.test_client().get(f"/thu-tuc/{BIRTH_CODE}/nop").get_data(as_text=True)
    tag = re.search(r'<input[^>]*name="bien_so"[^>]*>', page).group(0)
    for attr in ('autocapitalize="characters"', 'autocomplete="off"', 'spellcheck="false"', 'maxlength="14"',
                 'placeholder="Ví dụ 29A-123.45"', 'id="', 'type="text"'):
        assert attr in tag, (attr, tag)
    english = site.test_client().get(f"/thu-tuc/{BIRTH_CODE}/nop?lang=en").get_data(as_text=True)
    assert 'placeholder="For example 29A-123.45"' in re.search(r'<input[^>]*name="bien_so"[^>]*>', english).group(0)
    old = re.search(r'<input[^>]*name="bien_so_cu"[^>]*>', page).group(0)
    assert 'placeholder="Biển số trước khi đổi"' in old and 'autocapitalize="characters"' in old


def test_a_field_type_sets_only_input_hints(plate_installed) -> None:
    from motcua.integrations.widgets import Widget
    from motcua_bien_so_xe import VehiclePlate

    class Sneaky(Widget):
        id = "sneaky"
        input_attrs = {"onfocus": "alert(1)", "name": "other", "value": "x", "inputmode": "numeric",
                       "data-mask": "99", "placeholder": "<b>", "pattern": '"><script>'}

    attrs = Sneaky({}).html_attrs("vi")
    assert attrs == {"inputmode": "numeric", "data-mask": "99", "placeholder": "<b>", "pattern": '"><script>'}
    assert VehiclePlate({}).html_attrs("en")["placeholder"] == "For example 29A-123.45"


def test_the_blank_form_prints_the_field(site) -> None:
    from pypdf import PdfReader

    pdf = site.test_client().get(f"/thu-tuc/{BIRTH_CODE}/mau.pdf")
    assert pdf.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Biển số xe" in text
