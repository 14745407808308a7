"""Conditions inside repeating groups: a field of an item shown and required by that item's
own answers (`{var: item.in_school}`), judged item by item on the server (an error at
`children.1.school`, the API's pointer `/children/1/school`), bound to each item's inputs in
the form, and shown or hidden per item in Chromium, items added with the add button too."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml

from motcua.app import create_app
from motcua.spec.model import ProcedureSpec
from motcua.submission import submission_schema, validate, visible_answers
from motcua_renderers.form import render_fields
from tests.portal_helpers import follow, write_spec

#: The findings' English wording is what these tests hold (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english_findings")


REPO = Path(__file__).resolve().parent.parent
STATIC = REPO / "platform" / "motcua" / "static"
CODE = "1.000777"
OFFICE = "000.06.50.H15"

SPEC = {
    "code": CODE, "version": "1",
    "name": {"vi": "Đăng ký thử con đang đi học", "en": "Test registration of school children"},
    "sector": {"vi": "Thử nghiệm", "en": "Testing"},
    "performed_by": OFFICE, "filers": ["citizen"], "level": "partial",
    "info": {"result": {"vi": "Giấy xác nhận", "en": "Confirmation"}, "processing_time": {"working_days": 3}},
    "channels": [{"kind": "online"}, {"kind": "desk"}], "delivery": [{"kind": "desk"}],
    "form": {
        "contact": {"name": "full_name", "phone": "phone"},
        "fields": {
            "type": "object", "required": ["full_name", "phone"],
            "properties": {
                "full_name": {"type": "string", "title": {"vi": "Họ và tên", "en": "Full name"}, "maxLength": 100},
                "phone": {"type": "string", "format": "vn-mobile", "title": {"vi": "Số điện thoại", "en": "Phone"}},
                "children": {
                    "type": "array", "title": {"vi": "Con", "en": "Children"}, "maxItems": 5,
                    "items": {
                        "type": "object", "required": ["name", "school"],
                        "properties": {
                            "name": {"type": "string", "title": {"vi": "Họ tên con", "en": "Child's name"}, "maxLength": 100},
                            "in_school": {"type": "boolean", "title": {"vi": "Đang đi học", "en": "At school"}},
                            "school": {"type": "string", "maxLength": 200, "title": {"vi": "Tên trường", "en": "School"},
                                       "x-show-when": {"==": [{"var": "item.in_school"}, True]}},
                        },
                    },
                },
            },
        },
    },
    "steps": ["review"],
}

ANSWERS = {"full_name": "Lê Thị Hoa", "phone": "0912345678"}


def spec() -> ProcedureSpec:
    return ProcedureSpec.model_validate(copy.deepcopy(SPEC))


def test_each_item_is_judged_on_its_own_answers():
    s = spec()
    kids = [{"name": "An", "in_school": False}, {"name": "Bình", "in_school": True}, {"name": "Chi"}]
    errors = validate(s, {**ANSWERS, "children": kids})
    assert errors == {"children.1.school": "Nhập tên trường"}  # only the child at school
    assert validate(s, {**ANSWERS, "children": kids}, "en") == {"children.1.school": "Enter school"}
    kids[1]["school"] = "Trường Tiểu học Kim Đồng"
    assert validate(s, {**ANSWERS, "children": kids}) == {}
    # the answer of a child not at school is neither asked for nor refused: it is dropped
    kids[0]["school"] = "Trường cũ"
    assert validate(s, {**ANSWERS, "children": kids}) == {}
    assert "school" not in visible_answers(s, {**ANSWERS, "children": kids})["children"][0]
    assert validate(s, ANSWERS) == {}  # no children: nothing to judge


def test_an_oversized_group_is_refused_by_its_count_alone():
    """60,000 empty items against `maxItems: 5` (what an anonymous POST may carry within the
    size limit): one error, the count, and no per-item work (it cost seconds of CPU)."""
    import time

    s = spec()
    started = time.process_time()
    assert validate(s, {**ANSWERS, "children": [{}] * 60000}) == {"children": "Con: nhiều nhất 5 mục"}
    assert validate(s, {**ANSWERS, "children": [{}] * 6}, "en") == {"children": "Children: at most 5 items"}
    assert time.process_time() - started < 1.0  # was ~6 s on the test machine
    assert validate(s, {**ANSWERS, "children": [{"name": "An"}] * 5}) == {}


def test_an_item_rule_is_compiled_once_per_field(monkeypatch):
    """Many items (here within a larger maxItems) compile the field's rule once, bound per item."""
    from motcua.spec import conditions
    from motcua.submission import required_when_errors

    compiled = []
    real = conditions.compile_logic
    monkeypatch.setattr(conditions, "compile_logic", lambda *a, **k: compiled.append(a) or real(*a, **k))
    kids = [{"name": "An", "in_school": i % 2 == 0} for i in range(2000)]
    errors = required_when_errors(spec(), {**ANSWERS, "children": kids})
    assert len(errors) == 1000 and "children.1998.school" in errors and "children.1.school" not in errors
    assert len(compiled) == 1


def test_answers_hidden_by_their_condition_are_dropped_item_by_item_and_in_chains():
    """What the citizen could not see is not an answer: dropped per item, and again until
    nothing changes (a hidden field may be what another field's rule reads)."""
    data = copy.deepcopy(SPEC)
    props = data["form"]["fields"]["properties"]
    props["has_pet"] = {"type": "boolean", "title": "Có vật nuôi"}
    props["pet_kind"] = {"type": "string", "title": "Loài", "x-show-when": {"==": [{"var": "has_pet"}, True]}}
    props["pet_vaccine"] = {"type": "string", "title": "Tiêm phòng", "x-show-when": {"==": [{"var": "pet_kind"}, "chó"]}}
    s = ProcedureSpec.model_validate(data)
    given = {**ANSWERS, "has_pet": False, "pet_kind": "chó", "pet_vaccine": "dại",
             "children": [{"name": "An", "school": "Cũ"}, {"name": "Bình", "in_school": True, "school": "Kim Đồng"}]}
    seen = visible_answers(s, given)
    assert "pet_kind" not in seen and "pet_vaccine" not in seen  # the second only through the first
    assert seen["children"] == [{"name": "An"}, {"name": "Bình", "in_school": True, "school": "Kim Đồng"}]
    assert given["pet_kind"] == "chó"  # the caller's answers are not changed
    assert visible_answers(s, {**given, "has_pet": True}) == {**given, "has_pet": True, "children": seen["children"]}


def test_the_api_drops_a_hidden_answer_and_files_the_rest(app):
    """The API's rule, as the form's: an answer to a field hidden by its condition is dropped
    (not refused), before validation and before filing."""
    kids = [{"name": "An", "in_school": False, "school": "Trường cũ"}, {"name": "Bình", "in_school": True, "school": "Kim Đồng"}]
    response = app.test_client().post(f"/api/v1/procedures/{CODE}/dossiers", json={
        "agency": OFFICE, "answers": {**ANSWERS, "children": kids}, "delivery": {"kind": "desk"}})
    assert response.status_code == 201, response.get_json()
    stored = app.extensions["motcua"].store.dossiers.get(response.get_json()["code"])
    assert stored.data["children"] == [{"name": "An", "in_school": False}, {"name": "Bình", "in_school": True, "school": "Kim Đồng"}]


def test_the_published_schema_keeps_the_item_rule():
    items = submission_schema(spec())["properties"]["children"]["items"]
    assert "school" not in items["required"] and "name" in items["required"]
    assert items["x-required-when"] == {"school": {"==": [{"var": "item.in_school"}, True]}}


def test_the_form_binds_each_item_to_its_own_inputs():
    html = str(render_fields(spec(), None, {"children": [{"name": "An"}, {"name": "Bình"}]}, {}, "vi"))
    rules = [json.loads(m.replace("&#34;", '"')) for m in re.findall(r'data-show-when="([^"]+)"', html)]
    assert rules == [{"==": [{"var": "children.0.in_school"}, True]}, {"==": [{"var": "children.1.in_school"}, True]}]
    assert 'name="children.1.in_school"' in html


@pytest.fixture
def app(tmp_path):
    write_spec(tmp_path / "specs", "con-di-hoc", copy.deepcopy(SPEC))
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "SPECS_DIR": str(tmp_path / "specs"), "TESTING": True})
    yield app
    app.extensions["motcua"].store.close()


def test_the_api_points_at_the_item(app):
    kids = [{"name": "An", "in_school": False}, {"name": "Bình", "in_school": True}]
    response = app.test_client().post(f"/api/v1/procedures/{CODE}/dossiers?lang=vi", json={
        "agency": OFFICE, "answers": {**ANSWERS, "children": kids}, "delivery": {"kind": "desk"}})
    assert response.status_code == 422, response.get_json()
    assert {"pointer": "/answers/children/1/school", "message": "Nhập tên trường"} in response.get_json()["errors"]
    kids[1]["school"] = "Trường Tiểu học Kim Đồng"
    response = app.test_client().post(f"/api/v1/procedures/{CODE}/dossiers", json={
        "agency": OFFICE, "answers": {**ANSWERS, "children": kids}, "delivery": {"kind": "desk"}})
    assert response.status_code == 201, response.get_json()
    stored = app.extensions["motcua"].store.dossiers.get(response.get_json()["code"])
    assert stored.data["children"][1]["school"] == "Trường Tiểu học Kim Đồng"


@pytest.mark.browser
def test_items_added_with_the_button_show_their_field_on_their_own_answers(app, live_server, page):
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/thu-tuc/{CODE}/nop")
    page.fill("#f-full_name", "Lê Thị Hoa")
    page.fill("#f-phone", "0912345678")
    add = "button[name=_add][value=children]"
    follow(page, add)  # no JavaScript adds rows: the server draws the page again with one more item
    page.fill("#f-children-0-name", "An")
    follow(page, add)
    page.fill("#f-children-1-name", "Bình")
    first, second = page.locator('[data-field="children.0.school"]'), page.locator('[data-field="children.1.school"]')
    # what the page's script shows and hides is read once it has run (expect waits for it)
    expect(first).to_be_hidden()
    expect(second).to_be_hidden()
    page.check("#f-children-1-in_school")
    expect(second).to_be_visible()
    expect(first).to_be_hidden()  # only the child at school
    follow(page, ".actions button[value=continue]")  # the server's answer replaces the page: read that one
    # the server says the same, at that item
    expect(page.locator("#f-children-1-school-error")).to_be_visible()
    assert "Nhập tên trường" in page.locator("#f-children-1-school-error").inner_text()
    assert page.locator("#f-children-0-school-error").count() == 0
    expect(page.locator("#f-children-1-in_school")).to_be_checked()
    expect(second).to_be_visible()
    page.fill("#f-children-1-school", "Kim Đồng")
    page.uncheck("#f-children-1-in_school")
    expect(second).to_be_hidden()
    # hidden, its input is disabled, so the answer the citizen cannot see is not posted
    expect(page.locator("#f-children-1-school")).to_be_disabled()
    expect(page.locator("#f-children-0-school")).to_be_disabled()
    expect(page.locator("#f-children-0-name")).to_be_enabled()
    page.check("#f-children-1-in_school")
    expect(page.locator("#f-children-1-school")).to_be_enabled()
    expect(page.locator("#f-children-1-school")).to_have_value("Kim Đồng")
    page.uncheck("#f-children-1-in_school")
    expect(page.locator("#f-children-1-school")).to_be_disabled()
    with page.expect_request(lambda r: r.method == "POST") as posted:
        page.click(".actions button[value=continue]")
    body = posted.value.post_data or ""
    assert 'name="children.1.name"' in body and 'name="children.1.school"' not in body


def _lint(tmp_path, edit) -> list[str]:
    from motcua.spec.lint import lint_file

    data = copy.deepcopy(SPEC)
    edit(data)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return [f"{f.severity}: {f.message}" for f in lint_file(path).findings if f.severity == "error"]


def _school(data) -> dict:
    return data["form"]["fields"]["properties"]["children"]["items"]["properties"]["school"]


def test_lint_accepts_the_item_scope(tmp_path):
    assert _lint(tmp_path, lambda d: None) == []


@pytest.mark.parametrize("edit, expected", [
    (lambda d: _school(d).update({"x-show-when": {"==": [{"var": "item.in_shool"}, True]}}),
     "reads `item.in_shool`, which is not a field of the repeating group's item; did you mean `item.in_school`?"),
    (lambda d: _school(d).update({"x-show-when": {"==": [{"var": "in_school"}, True]}}),
     "did you mean `item.in_school`?"),
    (lambda d: d["form"]["fields"]["properties"]["full_name"].update({"x-show-when": {"var": "item.in_school"}}),
     "`item.` names the same item of a repeating group and this condition is not inside one"),
    (lambda d: _school(d).update({"x-show-when": {"field": "item.in_shool", "is_true": True}}),
     "did you mean `item.in_school`?"),
])
def test_lint_checks_the_item_scope(tmp_path, edit, expected):
    errors = _lint(tmp_path, edit)
    assert any(expected in m for m in errors), errors


#: rules reading a whole item (`{var: item}`: an object on the server) and an object field,
#: for the items drawn: the browser must read the same object (it used to read null)
WHOLE_ITEM_RULES = [
    {"!": [{"var": "item"}]},
    {"!!": [{"var": "item"}]},
    {"==": [{"var": "item"}, None]},
    {"!=": [{"var": "item"}, None]},
]


@pytest.mark.browser
@pytest.mark.parametrize("rule", WHOLE_ITEM_RULES)
def test_a_whole_item_reads_the_same_in_the_browser(page, rule):
    from motcua.spec.conditions import holds

    data = copy.deepcopy(SPEC)
    data["form"]["fields"]["properties"]["children"]["items"]["properties"]["school"]["x-show-when"] = rule
    s = ProcedureSpec.model_validate(data)
    scripts = (STATIC / "js" / "vendor" / "json-logic.js").read_text() + "\n" + (STATIC / "renderers" / "form.js").read_text()
    kids = [{"name": "An"}, {}, {"in_school": True}]
    fields = render_fields(s, None, {**ANSWERS, "children": kids}, {}, "vi")
    page.set_content(f"<!doctype html><meta charset=utf-8><form novalidate>{fields}</form><script>{scripts}</script>")
    for i, _kid in enumerate(kids):
        server = holds(rule, {**ANSWERS, "children": kids}, item=f"children.{i}")
        assert page.locator(f'[data-field="children.{i}.school"]').is_visible() is server, (rule, i, server)


@pytest.mark.browser
def test_a_count_of_the_items_is_the_same_in_the_browser(page):
    """`{count: children}` in the form reads the items drawn, as the server reads the list."""
    from motcua.spec.conditions import holds

    data = copy.deepcopy(SPEC)
    data["computed"] = {"children_count": {"count": "children"}}
    data["form"]["fields"]["properties"]["large_family"] = {
        "type": "boolean", "title": {"vi": "Gia đình đông con", "en": "Large family"},
        "x-show-when": {">=": [{"var": "children_count"}, 2]}}
    s = ProcedureSpec.model_validate(data)
    scripts = (STATIC / "js" / "vendor" / "json-logic.js").read_text() + "\n" + (STATIC / "renderers" / "form.js").read_text()
    rule = data["form"]["fields"]["properties"]["large_family"]["x-show-when"]
    for kids, shown in (([{"name": "An"}], False), ([{"name": "An"}, {"name": "Bình"}], True), ([], False)):
        assert holds(rule, {"children": kids}, computed=s.computed) is shown
        fields = render_fields(s, None, {"children": kids}, {}, "vi")
        page.set_content(f"<!doctype html><meta charset=utf-8><form novalidate>{fields}</form><script>{scripts}</script>")
        assert page.locator('[data-field="large_family"]').is_visible() is shown, kids
