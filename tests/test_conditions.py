"""The one condition language (JSON Logic): the older shape translated, computed values
(age, days since, counts), and the same results on the server (panzi-json-logic) and in a
real Chromium page (the vendored json-logic-js), case by case."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from motcua.fees import compute_fees, total
from motcua.spec.conditions import CircularComputed, bind_item, compile_logic, computed_cycle, evaluate, fee_implies, holds, truthy
from motcua.spec.loader import load_file
from motcua.spec.model import Computed, Condition, ProcedureSpec
from motcua_renderers.form import render_fields

#: The findings' English wording is what these tests hold (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english_findings")


REPO = Path(__file__).resolve().parent.parent
STATIC = REPO / "platform" / "motcua" / "static"
LIBRARY = STATIC / "js" / "vendor" / "json-logic.js"
FORM_JS = STATIC / "renderers" / "form.js"
BIRTH = REPO / "procedure_specs" / "ho-tich" / "dang-ky-khai-sinh.yaml"

TODAY = date(2026, 12, 4)

COMPUTED = {
    "age": Computed(age="applicant.birth_date"),
    "days_since_birth": Computed(days_since="child.birth_date"),
    "children_count": Computed(count="children"),
    "double_copies": Computed(logic={"*": [{"var": "copies"}, 2]}),
}

#: (condition in either shape, answers, expected on 04/12/2026): run through both evaluators.
CASES: list[tuple[object, dict, bool]] = [
    ({"field": "sex", "equals": "nam"}, {"sex": "nam"}, True),
    ({"field": "sex", "equals": "nam"}, {"sex": "nu"}, False),
    ({"field": "sex", "equals": "nam"}, {}, False),
    ({"field": "sex", "not_equals": "nam"}, {}, True),
    ({"field": "sex", "not_equals": "nam"}, {"sex": "nam"}, False),
    ({"field": "kind", "in": ["a", "b"]}, {"kind": "b"}, True),
    ({"field": "kind", "in": ["a", "b"]}, {"kind": ""}, False),
    ({"field": "copies", "gt": 2}, {"copies": 3}, True),
    ({"field": "copies", "gt": 2}, {"copies": 2}, False),
    ({"field": "copies", "lte": 2}, {}, False),
    ({"field": "copies", "gte": 2}, {"copies": "2"}, True),
    ({"field": "has_father", "is_true": True}, {"has_father": True}, True),
    ({"field": "has_father", "is_true": False}, {"has_father": True}, False),
    ({"field": "has_father", "is_true": False}, {}, True),
    ({"all": [{"field": "a", "equals": 1}, {"field": "b", "equals": 2}]}, {"a": 1, "b": 2}, True),
    ({"all": [{"field": "a", "equals": 1}, {"field": "b", "equals": 2}]}, {"a": 1, "b": 3}, False),
    ({"any": [{"field": "a", "equals": 1}, {"field": "b", "equals": 2}]}, {"a": 0, "b": 2}, True),
    ({"not": {"field": "a", "equals": 1}}, {"a": 1}, False),
    ({"field": "child.sex", "equals": "nu"}, {"child": {"sex": "nu"}}, True),
    ({"field": "_channel", "equals": "online"}, {}, True),
    # computed: days since a date (leap years, month ends), to the filing date
    ({">": [{"var": "days_since_birth"}, 60]}, {"child": {"birth_date": "2026-10-05"}}, False),  # 60 days
    ({">": [{"var": "days_since_birth"}, 60]}, {"child": {"birth_date": "2026-10-04"}}, True),  # 61 days
    ({"==": [{"var": "days_since_birth"}, 1068]}, {"child": {"birth_date": "2024-01-01"}}, True),
    ({"==": [{"var": "days_since_birth"}, 280]}, {"child": {"birth_date": "2026-02-27"}}, True),
    ({"==": [{"var": "days_since_birth"}, 9045]}, {"child": {"birth_date": "2002-02-28"}}, True),
    ({"==": [{"var": "days_since_birth"}, 0]}, {"child": {"birth_date": "2026-12-04"}}, True),
    ({">": [{"var": "days_since_birth"}, 60]}, {}, False),  # no birth date: not late
    # computed: whole years at the filing date (the birthday counts on the day)
    ({">=": [{"var": "age"}, 18]}, {"applicant": {"birth_date": "2008-12-04"}}, True),
    ({">=": [{"var": "age"}, 18]}, {"applicant": {"birth_date": "2008-12-05"}}, False),
    ({"==": [{"var": "age"}, 25]}, {"applicant": {"birth_date": "2000-02-29"}}, False),
    ({"==": [{"var": "age"}, 26]}, {"applicant": {"birth_date": "2000-02-29"}}, True),
    ({"<": [{"var": "age"}, 6]}, {"applicant": {"birth_date": "2021-01-15"}}, True),
    # computed: counts of a list, and a plain expression
    ({">=": [{"var": "children_count"}, 2]}, {"children": [{"n": 1}, {"n": 2}]}, True),
    ({">=": [{"var": "children_count"}, 2]}, {"children": [{"n": 1}]}, False),
    ({"==": [{"var": "children_count"}, 0]}, {}, True),
    ({"==": [{"var": "double_copies"}, 6]}, {"copies": 3}, True),
    ({"==": [{"var": "double_copies"}, None]}, {}, True),  # a missing answer: no value (not 0, not NaN)
    # JSON Logic as written by hand
    ({"and": [{"==": [{"var": "sex"}, "nam"]}, {"in": [{"var": "kind"}, ["a", "b"]]}]}, {"sex": "nam", "kind": "a"}, True),
    ({"or": [{"var": "x"}, {"!": [{"var": "y"}]}]}, {"x": False, "y": True}, False),
    ({"some": [{"var": "children"}, {"==": [{"var": "sex"}, "nu"]}]}, {"children": [{"sex": "nam"}, {"sex": "nu"}]}, True),
    ({"!!": [{"var": "list"}]}, {"list": []}, False),
    ({"==": [{"var": "_today"}, "2026-12-04"]}, {}, True),
]


#: (condition of a field inside `children`'s items, answers, the item it stands in, expected):
#: `item.` reads that item only, everything else the whole answers; bound the same way on
#: both sides (motcua.spec.conditions.bind_item) and evaluated by both libraries.
KIDS = {"children": [{"sex": "nam", "in_school": True, "age": 7}, {"sex": "nu", "in_school": False}, {"sex": "nu"}]}
ITEM_CASES: list[tuple[object, dict, str, bool]] = [
    ({"==": [{"var": "item.in_school"}, True]}, KIDS, "children.0", True),
    ({"==": [{"var": "item.in_school"}, True]}, KIDS, "children.1", False),
    ({"==": [{"var": "item.in_school"}, True]}, KIDS, "children.2", False),  # not answered
    ({"!": [{"var": "item.in_school"}]}, KIDS, "children.2", True),
    ({">=": [{"var": ["item.age", 0]}, 6]}, KIDS, "children.0", True),
    ({">=": [{"var": ["item.age", 0]}, 6]}, KIDS, "children.1", False),  # the default when absent
    ({"field": "item.sex", "equals": "nu"}, KIDS, "children.1", True),  # the older shape too
    ({"field": "item.sex", "equals": "nu"}, KIDS, "children.0", False),
    ({"and": [{"==": [{"var": "item.sex"}, "nu"]}, {">=": [{"var": "children_count"}, 3]}]}, KIDS, "children.2", True),
    ({"and": [{"==": [{"var": "item.sex"}, "nu"]}, {"==": [{"var": "_channel"}, "desk"]}]}, KIDS, "children.2", False),
    ({"==": [{"var": "item.group.kind"}, "a"]}, {"teams": [{"group": {"kind": "b"}}, {"group": {"kind": "a"}}]}, "teams.1", True),
    ({"==": [{"var": "item.group.kind"}, "a"]}, {"teams": [{}]}, "teams.0", False),  # an empty item
    ({"==": [{"var": "item.group.kind"}, "a"]}, {"teams": [{}]}, "teams.3", False),  # no such item
    # the whole item: an object on both sides, even an empty one (truthy, as json-logic-js says)
    ({"!!": [{"var": "item"}]}, KIDS, "children.1", True),
    ({"!!": [{"var": "item"}]}, {"teams": [{}]}, "teams.0", True),
    ({"var": "item"}, {"teams": [{}]}, "teams.0", True),
    ({"==": [{"var": "item"}, None]}, {"teams": [{}]}, "teams.3", True),
]


def _python(condition, answers, item=None) -> bool:
    return holds(condition, answers, "online", COMPUTED, TODAY, item=item)


@pytest.mark.parametrize("condition, answers, item, expected", ITEM_CASES)
def test_each_item_condition_on_the_server(condition, answers, item, expected):
    assert _python(condition, answers, item) is expected


@pytest.mark.parametrize("condition, answers, expected", CASES)
def test_each_condition_on_the_server(condition, answers, expected):
    assert _python(condition, answers) is expected


@pytest.mark.browser
def test_every_condition_is_the_same_in_the_browser(page):
    """The same compiled rules run through json-logic-js in a real page, compared."""
    page.set_content("<!doctype html><meta charset=utf-8><p>x</p>")
    page.add_script_tag(content=LIBRARY.read_text())
    rules = [
        {"logic": compile_logic(c, COMPUTED), "data": {**a, "_channel": "online", "_today": TODAY.isoformat()}}
        for c, a, _ in CASES
    ]
    browser = page.evaluate(
        "rules => rules.map(r => jsonLogic.truthy(jsonLogic.apply(r.logic, r.data)))", rules
    )
    server = [_python(c, a) for c, a, _ in CASES]
    assert browser == server == [e for _, _, e in CASES]
    # conditions of a repeating group's field, bound to their item
    bound = [
        {"logic": bind_item(compile_logic(c, COMPUTED), item), "data": {**a, "_channel": "online", "_today": TODAY.isoformat()}}
        for c, a, item, _ in ITEM_CASES
    ]
    browser = page.evaluate("rules => rules.map(r => jsonLogic.truthy(jsonLogic.apply(r.logic, r.data)))", bound)
    assert browser == [_python(c, a, item) for c, a, item, _ in ITEM_CASES] == [e for *_, e in ITEM_CASES]
    # the computed values themselves, not only the tests on them
    values = [
        {"logic": compile_logic({"var": name}, COMPUTED), "data": {**a, "_today": TODAY.isoformat()}}
        for name in COMPUTED
        for _, a, _ in CASES
    ]
    js = page.evaluate("rules => rules.map(r => jsonLogic.apply(r.logic, r.data))", values)
    py = [evaluate(v["logic"], {k: x for k, x in v["data"].items() if k != "_today"}, "online", TODAY) for v in values]
    assert [None if x is None else float(x) for x in js] == [None if x is None else float(x) for x in py]


def test_old_shape_and_json_logic_are_one_language():
    old = Condition.model_validate({"all": [{"field": "a", "equals": 1}, {"not": {"field": "b", "in": [2, 3]}}]})
    logic = compile_logic(old)
    assert "field" not in json.dumps(logic) and "and" in logic
    assert truthy(evaluate(logic, {"a": 1, "b": 4})) and not truthy(evaluate(logic, {"a": 1, "b": 2}))
    # a JSON Logic `all` (over a list) is not taken for the older `all`
    every = {"all": [{"var": "children"}, {">": [{"var": "age"}, 1]}]}
    assert compile_logic(every) == every


def test_days_since_matches_the_calendar_for_every_day_of_four_years():
    computed = {"d": Computed(days_since="x")}
    logic = compile_logic({"var": "d"}, computed)
    start = date(2023, 1, 1)
    for offset in range(0, 4 * 366, 7):
        day = start + timedelta(days=offset)
        assert evaluate(logic, {"x": day.isoformat()}, today=TODAY) == (TODAY - day).days


def _day_number_dates() -> list[date]:
    """Every day around the year ends where the leap rule has its cases (÷4, ÷100 not ÷400,
    ÷400), and every 29th day of eight centuries."""
    days = [date(1600, 1, 1) + timedelta(days=n) for n in range(0, (date(2400, 12, 31) - date(1600, 1, 1)).days, 29)]
    for year in (1700, 1899, 1900, 1999, 2000, 2023, 2024, 2100, 2399, 2400):
        start = date(year, 12, 20)
        days += [start + timedelta(days=n) for n in range(80)]
    return days


def _days_since(day: date) -> tuple[object, dict]:
    return compile_logic({"var": "d"}, {"d": Computed(days_since="x")}), {"x": day.isoformat()}


def test_days_since_is_exact_across_leap_rules_and_centuries():
    logic = _days_since(TODAY)[0]  # one compiled rule, evaluated on each day
    for day in _day_number_dates():
        assert evaluate(logic, {"x": day.isoformat()}, today=TODAY) == (TODAY - day).days, day


@pytest.mark.browser
def test_days_since_is_the_same_in_the_browser(page):
    page.set_content("<!doctype html><meta charset=utf-8><p>x</p>")
    page.add_script_tag(content=LIBRARY.read_text())
    days = _day_number_dates()
    logic = _days_since(days[0])[0]
    browser = page.evaluate(
        "([logic, days, today]) => days.map(d => jsonLogic.apply(logic, {x: d, _today: today}))",
        [logic, [d.isoformat() for d in days], TODAY.isoformat()])
    assert browser == [(TODAY - d).days for d in days]


def test_late_birth_registration_is_charged_from_the_birth_date():
    spec = load_file(BIRTH).spec
    assert spec is not None and spec.version == "2026.3"
    filed = date(2026, 12, 4)

    def charge(birth: str) -> tuple[int, bool]:
        lines = {line.id: line for line in compute_fees(spec, {"child": {"birth_date": birth}, "extract_copies": 0}, "online", today=filed)}
        line = lines["le_phi_khai_sinh"]
        return line.amount, line.exempt

    assert charge((filed - timedelta(days=60)).isoformat()) == (0, True)  # on time
    late, exempt = charge((filed - timedelta(days=61)).isoformat())
    assert late > 0 and not exempt
    # the bill of a dossier counts to the day it was filed, not the day it is read again
    birth = (filed - timedelta(days=30)).isoformat()
    assert total(compute_fees(spec, {"child": {"birth_date": birth}}, "online", today=filed)) == 0
    assert total(compute_fees(spec, {"child": {"birth_date": birth}}, "online", today=filed + timedelta(days=90))) == late


def _spec_with_shown_field() -> ProcedureSpec:
    return ProcedureSpec.model_validate({
        "code": "1.000003", "version": "1", "name": "Thủ tục thử", "sector": "Thử nghiệm",
        "agency": {"name": "Ủy ban nhân dân xã Thử", "tier": "commune"},
        "filers": ["citizen"], "level": "full",
        "info": {"result": "Kết quả", "processing_time": {"working_days": 3}},
        "computed": {"days_since_birth": {"days_since": "birth_date"}},
        "form": {
            "contact": {"name": "full_name"},
            "fields": {
                "type": "object",
                "required": ["full_name", "birth_date", "late_reason"],
                "properties": {
                    "full_name": {"type": "string", "title": "Họ và tên"},
                    "birth_date": {"type": "string", "title": "Ngày sinh", "format": "date"},
                    "late_reason": {
                        "type": "string", "title": "Lý do đăng ký muộn",
                        "x-show-when": {">": [{"var": "days_since_birth"}, 60]},
                    },
                },
            },
        },
    })


def test_a_field_shown_by_a_computed_condition_is_required_only_then():
    from motcua.submission import submission_schema, validate

    spec = _spec_with_shown_field()
    today = date.today()
    late = (today - timedelta(days=90)).isoformat()
    recent = (today - timedelta(days=5)).isoformat()
    errors = validate(spec, {"full_name": "Lê Văn A", "birth_date": late})
    assert "late_reason" in errors and "lý do đăng ký muộn" in errors["late_reason"]
    assert validate(spec, {"full_name": "Lê Văn A", "birth_date": recent}) == {}
    assert validate(spec, {"full_name": "Lê Văn A", "birth_date": late, "late_reason": "Ở xa"}) == {}
    # published: not in `required`, its rule under `x-required-when` (JSON Logic, computed inlined)
    schema = submission_schema(spec)
    assert "late_reason" not in schema["required"]
    rule = schema["x-required-when"]["late_reason"]
    assert "days_since_birth" not in json.dumps(rule) and rule == schema["properties"]["late_reason"]["x-show-when"]


@pytest.mark.browser
def test_a_field_shown_and_hidden_by_a_computed_condition_in_chromium(page):
    spec = _spec_with_shown_field()
    fields = render_fields(spec, None, {}, {}, "vi")
    scripts = LIBRARY.read_text() + "\n" + FORM_JS.read_text()
    page.set_content(f"<!doctype html><meta charset=utf-8><form novalidate>{fields}</form><script>{scripts}</script>")
    reason = page.locator('[data-field="late_reason"]')
    assert reason.is_hidden()  # no birth date yet: not late
    page.locator("#f-birth_date").fill((date.today() - timedelta(days=90)).isoformat())
    page.locator("#f-birth_date").dispatch_event("change")
    assert reason.is_visible()
    page.locator("#f-birth_date").fill((date.today() - timedelta(days=10)).isoformat())
    page.locator("#f-birth_date").dispatch_event("change")
    assert reason.is_hidden()


# --- lint ------------------------------------------------------------------------------------


def _lint(tmp_path, edit) -> list[str]:
    import copy

    import yaml

    from motcua.spec.lint import lint_file

    data = yaml.safe_load((REPO / "tests" / "specs_bad" / "base.yaml").read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    data["form"]["fields"]["properties"]["applicant"]["properties"]["birth_date"] = {"type": "string", "title": "Ngày sinh", "format": "date"}
    edit(data)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return [f"{f.severity}: {f.message}" for f in lint_file(path).findings]


def test_lint_accepts_computed_values_in_conditions(tmp_path):
    def edit(data):
        data["computed"] = {"age": {"age": "applicant.birth_date"}}
        data["fees"][0]["exempt_when"] = {">=": [{"var": "age"}, 60]}
        data["attachments"][0]["required_when"] = {"and": [{"==": [{"var": "purpose"}, "lam_viec"]}, {"==": [{"var": "_channel"}, "online"]}]}
    assert [m for m in _lint(tmp_path, edit) if m.startswith("error")] == []


@pytest.mark.parametrize("edit, expected", [
    (lambda d: d["fees"][0].update(exempt_when={">=": [{"var": "agee"}, 60]}) or d.update(computed={"age": {"age": "applicant.birth_date"}}),
     "reads `agee`, which is neither a field of `form.fields` nor a computed value; did you mean `age`?"),
    (lambda d: d["fees"][0].update(exempt_when={"==": [{"var": "purpse"}, "hoc_tap"]}),
     "did you mean `purpose`?"),
    (lambda d: d["fees"][0].update(exempt_when={"=>": [{"var": "copies"}, 2]}),
     "uses `=>`, which is not a JSON Logic operator; did you mean `>=`?"),
    (lambda d: d.update(computed={"late": {"days_since": "applicant.full_name"}}),
     "`days_since` needs a date field, but `applicant.full_name` is not one"),
    (lambda d: d.update(computed={"late": {"days_since": "applicant.birth_dat"}}),
     "did you mean `applicant.birth_date`?"),
    (lambda d: d.update(computed={"copies": {"count": "copies"}}),
     "has the name of a field"),
    (lambda d: d["form"]["fields"]["properties"]["copies"].update({"x-show-when": {"==": [{"var": "purpos"}, "x"]}}),
     "the `x-show-when` of field `copies` reads `purpos`"),
])
def test_lint_refuses_unknown_references_with_did_you_mean(tmp_path, edit, expected):
    messages = _lint(tmp_path, edit)
    assert any(expected in m and m.startswith("error") for m in messages), messages


LOOPS = [
    ({"loop": {"logic": {"+": [{"var": "loop"}, 1]}}}, "loop -> loop"),
    ({"a": {"logic": {"var": "b"}}, "b": {"logic": {"*": [{"var": "a"}, 2]}}}, "a -> b -> a"),
    ({"a": {"logic": {"var": "b"}}, "b": {"logic": {"var": "c"}}, "c": {"count": "a"}}, "a -> b -> c -> a"),  # through a path
]


@pytest.mark.parametrize("computed, chain", LOOPS)
def test_a_computed_value_that_reads_itself_is_refused(tmp_path, computed, chain):
    """A loop among computed values lints with a clear error (it used to lint clean and then
    raise RecursionError at filing, at the desk and on the form); compiling one raises
    CircularComputed, whatever reads it, in time."""
    def edit(data):
        data["computed"] = computed
        data["fees"][0]["exempt_when"] = {">": [{"var": next(iter(computed))}, 0]}
    messages = [m for m in _lint(tmp_path, edit) if m.startswith("error")]
    assert any(f"reads itself ({chain})" in m for m in messages), messages
    parsed = {name: Computed.model_validate(d) for name, d in computed.items()}
    assert " -> ".join(computed_cycle(parsed)) == chain
    with pytest.raises(CircularComputed, match="reads itself"):
        compile_logic({"var": next(iter(computed))}, parsed)


def test_computed_values_reading_others_without_a_loop_are_fine(tmp_path):
    chain = {"double_copies": Computed(logic={"*": [{"var": "copies"}, 2]}),
             "quad": Computed(logic={"+": [{"var": "double_copies"}, {"var": "double_copies"}]})}
    assert computed_cycle(chain) is None
    assert holds({"==": [{"var": "quad"}, 12]}, {"copies": 3}, "online", chain, TODAY)


@pytest.mark.parametrize("when, implied", [
    ({">": [{"var": "_fee_total"}, 0]}, True),
    ({">=": [{"var": "_fee_total"}, 1]}, True),
    ({"<": [0, {"var": "_fee_total"}]}, True),
    ({"!=": [{"var": "_fee_total"}, 0]}, True),
    ({"!!": [{"var": "_fee_total"}]}, True),
    ({"or": [{">": [{"var": "_fee_total"}, 0]}, {"==": [{"var": "_channel"}, "desk"]}]}, True),
    ({"==": [{"var": "_channel"}, "desk"]}, False),
    ({">": [{"var": "_fee_total"}, 50000]}, False),  # a fee below that would go unpaid
    ({"and": [{">": [{"var": "_fee_total"}, 0]}, {"==": [{"var": "_channel"}, "desk"]}]}, False),
    ({">=": [{"var": "_fee_total"}, True]}, False),
])
def test_what_a_payment_step_s_when_may_say(when, implied):
    assert fee_implies(when) is implied


def test_the_supplement_page_carries_what_a_shown_field_s_rule_reads():
    """Staff ask to correct `late_reason` alone: its rule reads the birth date (through the
    computed value), which is not on that page, so the page carries it for form.js."""
    from motcua.web.supplement import condition_inputs

    spec = _spec_with_shown_field()
    answers = {"full_name": "Lê Văn A", "birth_date": "2026-01-02", "late_reason": "Ở xa"}
    assert condition_inputs(spec, ["late_reason"], answers) == [("birth_date", "2026-01-02")]
    assert condition_inputs(spec, ["late_reason", "birth_date"], answers) == []  # on the page itself
