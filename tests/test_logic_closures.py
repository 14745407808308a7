"""motcua.spec.logic_closures evaluates JSON Logic as the library's own `jsonLogic` does:
the same value, or the same kind of error, for generated rules (every operator, nested,
with arguments of every JSON kind and operators the library does not know) over generated
data; and the conditions of every shipped spec hold alike both ways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from json_logic import jsonLogic

from motcua.spec import conditions
from motcua.spec.conditions import OPERATORS
from motcua.spec.logic_closures import closure
from tests.conftest import examples

KEYS = ["a", "b", "a.b", "a.0", "0", "", "_today", "x.y.z"]
# the values JSON Logic's truthiness treats unlike Python's (NaN false, an empty object
# true) drawn often, as constants and as data
scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    ["", "a", "b", "0", "1", "2025-05-20", "abc", " 3 ", float("nan"), 0.0, -0.0])
json_values = st.recursive(scalars | st.just({}), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
                           max_leaves=8)
OPS = sorted(OPERATORS) + ["no_such_op", "a.b"]
#: Arguments of the branching forms whose truth JSON Logic and Python judge differently.
TRICKY = st.sampled_from([float("nan"), {}, [], 0, "", "0", None, {"var": "a"}, {"var": "b"}])


def _rules(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    args = st.lists(inner, max_size=4) | inner
    return (st.builds(lambda op, a: {op: a}, st.sampled_from(OPS), args)
            | st.builds(lambda op, a: {op: a}, st.sampled_from(["if", "?:", "and", "or", "!", "!!"]), st.lists(TRICKY | inner, max_size=5))
            | st.just({}) | st.just([])
            | st.builds(lambda key: {"var": key}, st.sampled_from(KEYS))
            | st.lists(inner, max_size=3))


rules = st.recursive(scalars | st.sampled_from(KEYS), _rules, max_leaves=12)
data = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=5) | json_values


def _outcome(run: Any) -> tuple[str, str]:
    try:
        return ("value", repr(run()))
    except Exception as exc:  # noqa: BLE001 - the kind of error is what is compared
        return ("error", type(exc).__name__)


@pytest.mark.parametrize("op", ["if", "?:", "and", "or", "!", "!!"])
def test_the_branching_forms_judge_truth_as_the_library(op: str) -> None:
    """NaN is false and an empty object true in JSON Logic, unlike Python: every branching
    form over each such value, in each place, as a constant and read from the data."""
    tricky = [float("nan"), {}, [], 0, 0.0, "", "0", None, {"var": "a"}]
    for first in tricky:
        for second in tricky:
            for rule in ({op: [first, "yes", "no"]}, {op: [first, second]}, {op: [first, second, first]}, {op: [first]}):
                for values in ({"a": {}}, {"a": float("nan")}, {"a": [0]}, {}):
                    assert _outcome(lambda: closure(rule)(values)) == _outcome(lambda: jsonLogic(rule, values)), (rule, values)


@settings(max_examples=examples(300, 20_000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules, data)
def test_a_rule_gives_what_the_library_gives(rule: Any, values: Any) -> None:
    expected = _outcome(lambda: jsonLogic(rule, values))
    assert _outcome(lambda: closure(rule)(values)) == expected


@settings(max_examples=examples(100, 2_000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules, st.lists(data, min_size=2, max_size=4))
def test_one_closure_serves_many_data_and_leaves_its_rule_unchanged(rule: Any, many: list[Any]) -> None:
    before = repr(rule)
    run = closure(rule)
    for values in many:
        assert _outcome(lambda: run(values)) == _outcome(lambda: jsonLogic(rule, values))
    assert repr(rule) == before


def test_the_shipped_specs_conditions_hold_alike_both_ways() -> None:
    """Every `when`, `required_when`, fee rule and exemption of the shipped specs, compiled
    as a filing compiles it, over answers that make their variables empty, wrong or set."""
    from motcua.spec.loader import load_file

    seen = 0
    for path in sorted((Path(__file__).resolve().parent.parent / "procedure_specs").rglob("*.yaml")):
        spec = load_file(path).spec
        if spec is None:
            continue
        found: list[Any] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for key, value in node.items():
                    if key in ("when", "required_when", "exempt_when", "visible_when") and value is not None:
                        found.append(value)
                    walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(spec.model_dump(mode="json", by_alias=True))
        for condition in found:
            for channel in ("online", "desk"):
                logic, run = conditions._compiled(condition, spec.computed, channel, "2026-12-06")
                for answers in ({}, {"child": {"birth_date": "2026-11-01"}}, {"child": {"birth_date": "x"}}, {"has_father": True}):
                    values = {**answers, "_channel": channel, "_today": "2026-12-06"}
                    assert _outcome(lambda: run(values)) == _outcome(lambda: jsonLogic(logic, values))
                    seen += 1
    assert seen > 100
