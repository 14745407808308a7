"""The citizen's form from a spec: what a browser shows, what it posts back, what we parse."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from motcua import units
from motcua.dossier import AttachmentRef
from motcua.spec.loader import load_file
from motcua.spec.model import ProcedureSpec
from motcua_renderers.form import apply_repeat, error_summary, parse_form, render_attachments, render_fields, repeat_action

REPO = Path(__file__).resolve().parent.parent
BIRTH = REPO / "procedure_specs" / "ho-tich" / "dang-ky-khai-sinh.yaml"


@pytest.fixture(scope="module")
def birth() -> ProcedureSpec:
    loaded = load_file(BIRTH)
    assert loaded.spec is not None, loaded.findings
    return loaded.spec


def make_spec(fields: dict, ui: dict | None = None, **extra) -> ProcedureSpec:
    data = {
        "code": "1.000001",
        "version": "1",
        "name": {"vi": "Thủ tục thử", "en": "Test procedure"},
        "sector": "Thử nghiệm",
        "agency": {"name": "Ủy ban nhân dân xã Thử", "tier": "commune"},
        "filers": ["citizen"],
        "level": "full",
        "info": {"result": "Kết quả", "processing_time": {"working_days": 3}},
        "form": {"fields": fields, "ui": ui or {}, "contact": {"name": "full_name"}},
    }
    data.update(extra)
    return ProcedureSpec.model_validate(data)


#: One field of every widget, nested objects and arrays.
EVERY_WIDGET = {
    "type": "object",
    "required": ["full_name"],
    "properties": {
        "full_name": {"type": "string", "title": "Họ, chữ đệm, tên", "maxLength": 100},
        "story": {"type": "string", "title": "Trình bày", "maxLength": 2000},
        "birth_year": {"type": "integer", "title": "Năm sinh"},
        "area": {"type": "number", "title": "Diện tích (m²)"},
        "birth_date": {"type": "string", "title": "Ngày sinh", "format": "date"},
        "email": {"type": "string", "title": "Thư điện tử", "format": "email"},
        "phone": {"type": "string", "title": "Điện thoại", "format": "vn-mobile"},
        "relation": {"type": "string", "title": "Quan hệ", "enum": ["cha", "me", "ong", "ba", "khac"]},
        "sex": {"type": "string", "title": "Giới tính", "enum": ["nam", "nu"]},
        "copies": {"type": "integer", "title": "Số bản", "enum": [1, 2, 3]},
        "agree": {"type": "boolean", "title": "Đồng ý"},
        "languages": {"type": "array", "title": "Ngôn ngữ", "items": {"type": "string", "enum": ["vi", "en", "fr"]}},
        "cccd": {"type": "string", "title": "Số định danh cá nhân", "format": "cccd"},
        "tax": {"type": "string", "title": "Mã số thuế", "format": "tax-code"},
        "home": {
            "type": "object",
            "title": "Địa chỉ",
            "required": ["province", "commune"],
            "properties": {
                "province": {"type": "string"},
                "district": {"type": "string"},
                "commune": {"type": "string"},
                "street": {"type": "string"},
            },
        },
        "source": {"type": "string", "title": "Nguồn"},
        "owner": {
            "type": "object",
            "title": "Chủ hộ",
            "properties": {
                "name": {"type": "string", "title": "Tên chủ hộ"},
                "spouse": {"type": "object", "title": "Vợ/chồng", "properties": {"name": {"type": "string", "title": "Tên"}}},
            },
        },
        "children": {
            "type": "array",
            "title": "Con",
            "items": {
                "type": "object",
                "title": "Con",
                "required": ["name"],
                "properties": {"name": {"type": "string", "title": "Tên con"}, "year": {"type": "integer", "title": "Năm sinh"}},
            },
        },
        "nicknames": {"type": "array", "title": "Tên gọi khác", "items": {"type": "string"}},
    },
}
EVERY_UI = {
    "relation": {"widget": "select"},
    "source": {"widget": "hidden"},
    "story": {"help": "Viết ngắn gọn."},
    "sex": {"enum_labels": {"nam": "Nam", "nu": {"vi": "Nữ", "en": "Female"}}},
}


class FormSubmission(HTMLParser):
    """What a browser would post for a form: successful controls and their values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pairs: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""
        self._option_value: str | None = None

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        a = dict(attrs)
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.pairs.append((a["name"], a.get("value", "on")))
            else:
                self.pairs.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self._select, self._options = a.get("name"), []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value") or "", "selected" in a))
        elif tag == "textarea":
            self._textarea, self._text = a.get("name"), ""

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag == "select" and self._select:
            chosen = [v for v, s in self._options if s] or [self._options[0][0]]
            self.pairs.append((self._select, chosen[-1]))
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.pairs.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None


def submit(html: str) -> MultiDict:
    parser = FormSubmission()
    parser.feed(str(html))
    return MultiDict(parser.pairs)


def test_every_widget_round_trips_through_the_html():
    spec = make_spec(EVERY_WIDGET, EVERY_UI)
    answers = {
        "full_name": "Trần Thị Ánh",
        "story": "Dòng một\nDòng hai",
        "birth_year": 1990,
        "area": 72.5,
        "birth_date": "1990-03-27",
        "email": "anh@example.vn",
        "phone": "0912345678",
        "relation": "me",
        "sex": "nu",
        "copies": 2,
        "agree": True,
        "languages": ["vi", "fr"],
        "cccd": "079190001234",
        "tax": "0100109106",
        "home": {"province": "79", "commune": "Phường Bến Thành", "street": "12 Lê Lợi"},
        "source": "qr",
        "owner": {"name": "Lê Văn Bình", "spouse": {"name": "Trần Thị Ánh"}},
        "children": [{"name": "Lê Văn Cường", "year": 2015}, {"name": "Lê Thị Dung"}],
        "nicknames": ["Ánh", "Út"],
    }
    html = render_fields(spec, None, answers, {}, "vi")
    # the commune is chosen from the province's list: kept by name, with its code beside it
    assert parse_form(spec, submit(html), None) == {**answers, "home": {**answers["home"], "commune_code": "26743"}}


def test_widgets_get_the_attributes_phones_need(birth):
    html = str(render_fields(birth, None, {}, {}, "vi"))
    assert 'name="requester.cccd"' in html
    cccd = _tag(html, 'name="requester.cccd"')
    assert 'inputmode="numeric"' in cccd and 'maxlength="12"' in cccd and 'pattern="[0-9]{12}"' in cccd
    assert 'type="tel"' in _tag(html, 'name="requester.phone"')
    assert 'type="email"' in _tag(html, 'name="requester.email"')
    assert 'type="date"' in _tag(html, 'name="child.birth_date"')
    assert 'inputmode="numeric"' in _tag(html, 'name="mother.birth_year"')
    assert "<select" in _tag(html, 'name="requester.relation"')
    assert 'type="radio"' in _tag(html, 'name="child.sex"')
    # every visible input has a label pointing at it
    for input_id in ("f-requester-full_name", "f-child-birth_date", "f-child-sex", "f-has_father"):
        assert f'for="{input_id}"' in html and f'id="{input_id}"' in html
    # nested objects are fieldsets with legends
    assert '<fieldset id="f-child"' in html and "<legend>Người được khai sinh</legend>" in html
    # schema defaults on first showing
    assert 'value="Kinh"' in _tag(html, 'name="child.ethnicity"')
    assert "checked" in _tag(html, 'name="has_father"')


def _tag(html: str, marker: str) -> str:
    """The whole start tag containing `marker`."""
    index = html.index(marker)
    return html[html.rindex("<", 0, index) : html.index(">", index) + 1]


def test_spec_text_and_citizen_input_are_escaped():
    spec = make_spec(
        {
            "type": "object",
            "properties": {
                "full_name": {"type": "string", "title": "<script>alert('title')</script>"},
                "kind": {"type": "string", "title": "Loại", "enum": ["a", "b"]},
            },
        },
        {"kind": {"widget": "radio", "help": '<img src=x onerror="alert(1)">', "enum_labels": {"a": "<b>A</b>"}}},
    )
    html = str(
        render_fields(
            spec,
            None,
            {"full_name": '"><script>alert("value")</script>', "kind": "<i>"},
            {"full_name": "<script>alert('error')</script>"},
            "vi",
        )
    )
    assert "<script" not in html and "<img" not in html and "<b>A" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;script&gt;alert(&#34;value&#34;)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#39;error&#39;)" in html
    assert "&lt;img src=x" in html
    summary = str(error_summary(spec, {"full_name": "<script>x</script>"}))
    assert "<script" not in summary and 'href="#f-full_name"' in summary


def test_error_sits_next_to_its_field_and_is_announced(birth):
    errors = {"requester.cccd": "Số định danh cá nhân phải có 12 chữ số", "child.sex": "Chọn giới tính"}
    html = str(render_fields(birth, ["requester", "child"], {"requester": {"cccd": "12ab"}}, errors, "vi"))
    tag = _tag(html, 'name="requester.cccd"')
    assert 'aria-invalid="true"' in tag and 'aria-describedby="f-requester-cccd-error"' in tag
    assert 'value="12ab"' in tag
    assert '<p class="error-message" id="f-requester-cccd-error">' in html
    assert html.index("f-requester-cccd-error") < html.index('name="requester.cccd"')
    assert 'class="form-group form-group-error" data-field="requester.cccd"' in html
    # a radio group reports on its fieldset
    group = _tag(html, 'data-field="child.sex"')
    assert "form-group-error" in group and 'aria-describedby="f-child-sex-error"' in group
    # help text is tied to its input as well
    phone = _tag(html, 'name="requester.phone"')
    assert 'aria-describedby="f-requester-phone-hint"' in phone


def holds_json(logic, data):
    from motcua.spec.conditions import evaluate, truthy

    return truthy(evaluate(logic, data))


def test_conditional_fields_from_if_then(birth):
    html = str(render_fields(birth, ["mother", "has_father", "father"], {}, {}, "vi"))
    father = _tag(html, 'data-field="father"')
    raw = father.split('data-show-when="', 1)[1].split('"', 1)[0].replace("&#34;", '"')
    # the older `if` shape compiled to JSON Logic, which form.js evaluates with json-logic-js
    from motcua.spec.conditions import to_logic
    from motcua.spec.model import Condition

    assert json.loads(raw) == to_logic(Condition(field="has_father", equals=True))
    assert holds_json(json.loads(raw), {"has_father": True}) and not holds_json(json.loads(raw), {"has_father": False})
    assert 'data-show-when' not in _tag(html, 'data-field="mother"')
    # required when shown: father's name carries the required marker
    father_name = html[html.index('data-field="father.full_name"') :]
    assert "required-marker" in father_name[: father_name.index("</label>")]
    father_ethnicity = html[html.index('data-field="father.ethnicity"') :]
    assert "required-marker" not in father_ethnicity[: father_ethnicity.index("</label>")]


def test_else_branch_and_enum_condition():
    spec = make_spec(
        {
            "type": "object",
            "properties": {
                "kind": {"type": "string", "enum": ["person", "company", "other"]},
                "cccd": {"type": "string", "format": "cccd"},
                "tax": {"type": "string", "format": "tax-code"},
            },
            "allOf": [
                {"if": {"properties": {"kind": {"enum": ["person"]}}, "required": ["kind"]}, "then": {"required": ["cccd"]}, "else": {"required": ["tax"]}}
            ],
        }
    )
    html = str(render_fields(spec, None, {}, {}, "vi"))

    def condition(name: str) -> dict:
        tag = _tag(html, f'data-field="{name}"')
        return json.loads(tag.split('data-show-when="', 1)[1].split('"', 1)[0].replace("&#34;", '"'))

    for kind, shown in (("person", "cccd"), ("company", "tax"), ("other", "tax")):
        assert holds_json(condition(shown), {"kind": kind})
        assert not holds_json(condition({"cccd": "tax", "tax": "cccd"}[shown]), {"kind": kind})
    # the server decides again, with JSON Schema's own semantics
    posted = MultiDict({"kind": "company", "cccd": "079190001234", "tax": "0100109106"})
    assert parse_form(spec, posted) == {"kind": "company", "tax": "0100109106"}
    posted = MultiDict({"kind": "person", "cccd": "079190001234", "tax": "0100109106"})
    assert parse_form(spec, posted) == {"kind": "person", "cccd": "079190001234"}


def test_parse_form_types_and_keeps_what_it_cannot_parse(birth):
    posted = MultiDict(
        {
            "requester.full_name": "  Nguyễn Văn An ",
            "requester.cccd": "079 090 001 234",
            "requester.phone": "+84 912 345 678",
            "requester.email": "",
            "requester.relation": "cha",
            "child.full_name": "Nguyễn Văn Bình",
            "child.birth_date": "20/05/2025",
            "child.sex": "nam",
            "mother.full_name": "Trần Thị Cúc",
            "mother.birth_year": "một chín chín mươi",
            "father.full_name": "Nguyễn Văn An",
            "father.birth_year": "1988",
            "extract_copies": "2",
            "csrf_token": "ignored",
        }
    )
    answers = parse_form(birth, posted, ["requester", "child", "mother", "has_father", "father", "extract_copies"])
    assert answers["requester"] == {
        "full_name": "Nguyễn Văn An",
        "cccd": "079090001234",
        "phone": "0912345678",
        "relation": "cha",
    }
    assert answers["child"] == {"full_name": "Nguyễn Văn Bình", "birth_date": "2025-05-20", "sex": "nam"}
    assert answers["mother"]["birth_year"] == "một chín chín mươi"  # kept raw for the error
    assert answers["extract_copies"] == 2
    # has_father unchecked: it is False, and the father's answers are dropped
    assert answers["has_father"] is False
    assert "father" not in answers
    assert "csrf_token" not in answers

    posted.add("has_father", "true")
    again = parse_form(birth, posted, ["mother", "has_father", "father"])
    assert again["father"] == {"full_name": "Nguyễn Văn An", "birth_year": 1988}


def test_parse_form_objects_numbers_and_bad_dates():
    spec = make_spec(EVERY_WIDGET, EVERY_UI)
    posted = MultiDict(
        {
            "full_name": "",
            "area": "1.234,5",
            "birth_year": "abc",
            "birth_date": "31/02/2020",
            "home.province": "",
            "home.commune": "",
            "owner.name": "",
            "copies": "3",
        }
    )
    answers = parse_form(spec, posted, ["full_name", "area", "birth_year", "birth_date", "home", "owner", "copies", "agree"])
    assert answers == {"area": 1234.5, "birth_year": "abc", "birth_date": "31/02/2020", "copies": 3, "agree": False}
    # the bad date comes back as typed, in a text box, so nothing is lost
    html = str(render_fields(spec, ["birth_date"], answers, {"birth_date": "Ngày không có thật"}, "vi"))
    tag = _tag(html, 'name="birth_date"')
    assert 'value="31/02/2020"' in tag and 'type="text"' in tag


def test_required_object_stays_so_its_fields_are_reported(birth):
    answers = parse_form(birth, MultiDict({"mother.full_name": ""}), ["mother"])
    assert answers == {"mother": {}}


def test_repeating_groups_work_without_javascript():
    spec = make_spec(EVERY_WIDGET, EVERY_UI)
    html = str(render_fields(spec, ["children"], {}, {}, "vi"))
    assert 'name="children.0.name"' not in html  # optional: starts empty
    assert 'name="_add" value="children"' in html

    # the citizen presses "add": the page parses, applies the action and shows one more
    posted = submit(html)
    posted.add("_add", "children")
    action = repeat_action(posted)
    assert action == ("add", "children")
    answers = apply_repeat(parse_form(spec, posted, ["children"]), action)
    html = str(render_fields(spec, ["children"], answers, {}, "vi"))
    assert 'name="children.0.name"' in html and 'name="_remove" value="children.0"' in html

    # fill it, add a second one, fill that too
    posted = submit(html)
    posted.setlist("children.0.name", ["Lê Văn Cường"])
    posted.add("_add", "children")
    answers = apply_repeat(parse_form(spec, posted, ["children"]), repeat_action(posted))
    assert answers == {"children": [{"name": "Lê Văn Cường"}, None]}
    html = str(render_fields(spec, ["children"], answers, {"children.1.name": "Nhập tên con"}, "vi"))
    posted = submit(html)
    posted.setlist("children.1.name", ["Lê Thị Dung"])
    assert parse_form(spec, posted, ["children"]) == {"children": [{"name": "Lê Văn Cường"}, {"name": "Lê Thị Dung"}]}
    assert 'id="f-children-1-name-error"' in html

    # an added but empty item stays, so its own fields are reported
    assert parse_form(spec, submit(html), ["children"]) == {"children": [{"name": "Lê Văn Cường"}, {}]}

    # remove the first
    posted.add("_remove", "children.0")
    answers = apply_repeat(parse_form(spec, posted, ["children"]), repeat_action(posted))
    assert answers == {"children": [{"name": "Lê Thị Dung"}]}


def test_required_array_starts_with_an_item_and_max_items_hides_add():
    fields = {
        "type": "object",
        "required": ["owners"],
        "properties": {
            "owners": {"type": "array", "maxItems": 2, "items": {"type": "object", "properties": {"name": {"type": "string", "title": "Tên"}}}}
        },
    }
    spec = make_spec(fields, {"owners": {"add_label": "Thêm đồng sở hữu"}})
    html = str(render_fields(spec, None, {}, {}, "vi"))
    assert 'name="owners.0.name"' in html and "Thêm đồng sở hữu" in html
    full = str(render_fields(spec, None, {"owners": [{"name": "A"}, {"name": "B"}]}, {}, "vi"))
    assert 'name="_add"' not in full and 'value="children"' not in full


def test_address_widget_has_the_34_provinces():
    spec = make_spec(EVERY_WIDGET, EVERY_UI)
    html = str(render_fields(spec, ["home"], {"home": {"province": "48", "commune": "Phường Hải Châu"}}, {}, "vi"))
    for part in ("province", "commune", "street"):
        assert f'name="home.{part}"' in html
    assert 'name="home.district"' not in html  # no district since 1 July 2025
    select = html[html.index('name="home.province"') : html.index("</select>")]
    assert select.count("<option") == 35  # a prompt and 34 provinces
    assert '<option value="48" selected>' in select and "Đà Nẵng" in select
    assert 'autocomplete="address-level1"' in select
    # the province is known: the commune is a list of Đà Nẵng's communes, Hải Châu chosen
    communes = html[html.index('name="home.commune"'):]
    communes = communes[: communes.index("</select>")]
    assert communes.count("<option") == 1 + len(units.communes("48"))
    hai_chau = units.find_commune("48", "Hai Chau")
    assert f'<option value="{hai_chau.code}" selected>Phường Hải Châu</option>' in communes


def test_english_labels(birth):
    html = str(render_fields(birth, ["requester", "has_father"], {}, {}, "en"))
    assert "Declare the father" in html and ">Father</option>" in html
    assert "Khai thông tin về cha" not in html


def test_attachments_show_limits_and_keep_uploaded_files(birth):
    answers = {"birth_proof": "giay_chung_sinh"}
    ref = AttachmentRef(
        component="giay_chung_sinh", file_id="f1", filename="chung-sinh <1>.pdf", content_type="application/pdf", size=1258291, sha256="0" * 64
    )
    html = str(render_attachments(birth, answers, {}, {"attachment.van_ban_lam_chung": "Tệp quá lớn"}, "vi"))
    tag = _tag(html, 'name="attachment.giay_chung_sinh"')
    assert 'type="file"' in tag and "application/pdf" in tag and 'aria-required="true"' in tag
    assert "tối đa 10 MB" in html
    assert "Không bắt buộc trong trường hợp của bạn" in html  # the witness statement
    assert 'id="f-attachment-van_ban_lam_chung-error"' in html

    kept = str(render_attachments(birth, answers, {"giay_chung_sinh": ref}, {}, "vi"))
    assert "Đã tải lên: <strong>chung-sinh &lt;1&gt;.pdf</strong> (1,2 MB)" in kept
    assert "thay tệp khác" in kept
    assert 'aria-required="true"' not in _tag(kept, 'name="attachment.giay_chung_sinh"')
