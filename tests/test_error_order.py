"""Errors are listed in the order the citizen meets their fields, not the schema's keyword order."""

from __future__ import annotations

import re

from motcua.error_order import order_errors
from motcua.spec.model import ProcedureSpec
from motcua.submission import validate
from motcua_renderers.form import error_summary
from tests.portal_helpers import BIRTH_CODE, birth_spec, csrf

FORM = f"/thu-tuc/{BIRTH_CODE}/nop"


def spec() -> ProcedureSpec:
    return ProcedureSpec.model_validate(birth_spec())


def test_validate_lists_a_missing_name_before_a_wrong_id_number():
    # `format` (under properties) is reported by jsonschema before `required`.
    errors = validate(spec(), {"requester": {"cccd": "123", "phone": "0912345678", "relation": "cha"}})
    paths = [p for p in errors if p.startswith("requester.")]
    assert paths[:2] == ["requester.full_name", "requester.cccd"]


def test_order_follows_pages_nesting_arrays_attachments_delivery():
    s = spec()
    pages = [p.id for p in s.form.pages]
    assert pages, "the birth spec has pages"
    errors = {
        "delivery.address.street": "d3",
        "delivery.kind": "d1",
        "attachment.giay_chung_sinh": "a",
        "child.full_name": "c2",
        "requester.relation": "r4",
        "requester.full_name": "r1",
        "child": "c1",
        "": "whole",
        "requester.phone": "r3",
        "requester.cccd": "r2",
        "unknown.thing": "u",
    }
    ordered = list(order_errors(s, errors).values())
    assert ordered == ["whole", "r1", "r2", "r3", "r4", "c1", "c2", "a", "d1", "d3", "u"]


def test_array_items_in_place_and_address_parts_as_drawn():
    s = ProcedureSpec.model_validate({
        **birth_spec(),
        "form": {
            "contact": {"name": "full_name"},
            "fields": {"type": "object", "properties": {
                "full_name": {"type": "string"},
                "children": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "age": {"type": "integer"}}}},
                "home": {"type": "object", "properties": {
                    "street": {"type": "string"}, "commune": {"type": "string"}, "province": {"type": "string"}}},
            }},
        },
    })
    errors = {"home.street": "h3", "home.province": "h1", "children.10.name": "k10", "children.2.age": "k2b",
              "children.2.name": "k2a", "children": "k", "full_name": "n", "home.commune": "h2"}
    assert list(order_errors(s, errors).values()) == ["n", "k", "k2a", "k2b", "k10", "h1", "h2", "h3"]


def test_error_summary_box_is_in_field_order():
    html = str(error_summary(spec(), {"requester.cccd": "Số định danh", "requester.full_name": "Họ tên"}))
    assert html.index("Họ tên") < html.index("Số định danh")


def test_form_page_summary_lists_name_before_id_number(client):
    token = csrf(client.get(FORM).get_data(as_text=True))
    html = client.post(FORM, data={"csrf_token": token, "agency": "000.06.50.H15", "requester.cccd": "12",
                                   "requester.phone": "0912345678", "requester.relation": "cha"}).get_data(as_text=True)
    box = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    hrefs = re.findall(r'href="#([^"]+)"', box)
    assert hrefs[:2] == ["f-requester-full_name", "f-requester-cccd"]


def test_api_422_lists_errors_in_field_order(client):
    response = client.post(f"/api/v1/procedures/{BIRTH_CODE}/dossiers",
                           json={"answers": {"requester": {"cccd": "12", "phone": "0912345678", "relation": "cha"}}})
    assert response.status_code == 422
    pointers = [e["pointer"] for e in response.get_json()["errors"]]
    assert pointers.index("/answers/requester/full_name") < pointers.index("/answers/requester/cccd")
