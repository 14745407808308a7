"""A spec's conditions and computed values, as JSON Logic.

One condition language is used by fields (show/hide and required), attachments
(`required_when`), fees (`when`, `exempt_when`) and steps: JSON Logic (jsonlogic.com), a
specification with a maintained implementation in Python (`panzi-json-logic`, used here)
and in JavaScript (`json-logic-js`, vendored as static/js/vendor/json-logic.js and used by
the browser form). Neither side has an evaluator of its own: this module only *compiles*
what the spec says into plain JSON Logic, and both libraries evaluate the same JSON.

- The older shape (`{field, equals}`, `in`, `gt` ..., `all` / `any` / `not`) is translated
  here (`to_logic`), so specs written before keep working unchanged (and keep their hash).
- Computed values (`computed:` in the spec: age in years at the filing date, days since a
  date, count of a list) compile to standard JSON Logic arithmetic over the answers and
  `_today` (the filing date, Vietnam time, `YYYY-MM-DD`); a condition reads one with
  `{var: name}` and gets the expression inlined, so the browser needs nothing but the
  library and the compiled condition.

The data a condition sees: the answers, plus `_channel` (online, desk, postal) and `_today`;
a step's `when` also `_fee_total` (the bill at filing). A field inside a repeating group reads
its own item as `item.<field>` (`bind_item` turns that into `children.2.<field>` for the one
item, on both sides), everything else from the whole answers.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from json_logic import jsonLogic
from json_logic.builtins import BUILTINS

from motcua.spec.logic_closures import Evaluator, closure
from motcua.spec.model import Computed, Condition

_MISSING = object()

#: Operators of JSON Logic as both libraries know them (lint refuses others).
OPERATORS: frozenset[str] = frozenset(BUILTINS) | {
    "if", "?:", "and", "or", "filter", "map", "reduce", "all", "some", "none",
}

#: Names of the data a condition may read besides the answers and the computed values.
PSEUDO_FIELDS = ("_channel", "_today")

#: What a step's `when` reads besides those: the dossier's bill at filing (motcua.workflow.plan).
STEP_FIELDS = ("_fee_total",)

Logic = Any  # a JSON Logic value: a rule (one-key mapping), a list or a literal


def lookup(answers: Mapping[str, Any], path: str) -> Any:
    """Value at a dotted path (`child.birth_date`), or a sentinel when absent."""
    value: Any = answers
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return _MISSING
    return value


# --- the older shape ---------------------------------------------------------------------------

_LEGACY_KEYS = {"field", "equals", "not_equals", "in", "gt", "gte", "lt", "lte", "is_true", "all", "any", "not"}


def is_legacy(value: Any) -> bool:
    """Whether a mapping is written in the older condition shape (`{field, equals}`,
    `all`/`any`/`not` of such), rather than JSON Logic (whose `all` takes `[list, test]`)."""
    if isinstance(value, Condition):
        return True
    if not isinstance(value, Mapping) or not value or not set(value) <= _LEGACY_KEYS:
        return False
    if "field" in value or "any" in value:
        return True
    if "all" in value:
        items = value["all"]
        return isinstance(items, list) and all(is_legacy(c) for c in items)
    if "not" in value and len(value) == 1:
        return is_legacy(value["not"])
    return False


def _present(path: str) -> Logic:
    return {"!": {"in": [{"var": path}, [None, ""]]}}


def to_logic(condition: Condition) -> Logic:
    """The older shape in JSON Logic, with its meaning: a test on a missing or empty answer
    is false (`not_equals` true), numbers compare as numbers."""
    if condition.all is not None:
        return {"and": [to_logic(c) for c in condition.all]} if condition.all else True
    if condition.any is not None:
        return {"or": [to_logic(c) for c in condition.any]} if condition.any else False
    if condition.not_ is not None:
        return {"!": [to_logic(condition.not_)]}
    assert condition.field is not None
    path = condition.field
    var = {"var": path}
    fields = condition.model_fields_set
    if "equals" in fields:
        return {"and": [_present(path), {"===": [var, condition.equals]}]}
    if "not_equals" in fields:
        return {"or": [{"!": [_present(path)]}, {"!==": [var, condition.not_equals]}]}
    if "in_" in fields:
        return {"and": [_present(path), {"in": [var, list(condition.in_ or [])]}]}
    if "is_true" in fields:
        return {"!!": [var]} if condition.is_true else {"!": [var]}
    for op, symbol in (("gt", ">"), ("gte", ">="), ("lt", "<"), ("lte", "<=")):
        if op in fields:
            bound = getattr(condition, op)
            return {"and": [_present(path), {symbol: [{"+": [var]}, bound]}]}
    return False


# --- computed values ---------------------------------------------------------------------------


def _int_part(source: Logic, start: int, length: int) -> Logic:
    return {"+": [{"substr": [source, start, length]}]}


def _floor_div(x: Logic, n: int) -> Logic:
    """x // n for x >= 0 in JSON Logic, which has no floor: (x - x % n) / n."""
    return {"/": [{"-": [x, {"%": [x, n]}]}, n]}


#: Days of a common year before each month, three digits a month (index 1 = January).
_DAYS_BEFORE_MONTH = "---000031059090120151181212243273304334"
#: `_day_number`'s count for 1970-01-01, so that it is day 0.
_EPOCH = 719528


def _day_number(source: Logic) -> Logic:
    """Days since 1970-01-01 of an ISO date (`YYYY-MM-DD`, a four-digit year), exact for the
    proleptic Gregorian calendar: 365 a year, the leap days of the years before (÷4, less
    the centuries read off the year's first two digits, plus those ÷400), the days before the
    month (a table in a string), the day; a date in January or February of a leap year has
    not had its year's leap day yet (a lazy `if`: the test runs for those two months only).
    ~45 operations against ~230 for the general civil-from-days formula it replaced, which
    the fee rule of a birth registration evaluated on every filing."""
    year, month, day = _int_part(source, 0, 4), _int_part(source, 5, 2), _int_part(source, 8, 2)
    centuries = _int_part(source, 0, 2)
    leap = {"if": [{"%": [year, 4]}, 0, {"%": [year, 100]}, 1, {"%": [year, 400]}, 0, 1]}
    before_month = {"+": [{"substr": [_DAYS_BEFORE_MONTH, {"*": [month, 3]}, 3]}]}
    days = {"+": [{"*": [year, 365]}, _floor_div(year, 4), _floor_div(centuries, 4), before_month, day]}
    return {"-": [days, {"+": [centuries, {"if": [{"<=": [month, 2]}, leap, 0]}, _EPOCH]}]}


def _date_number(source: Logic) -> Logic:
    """YYYYMMDD as a number: differences of two of them give whole years by // 10000."""
    return {"+": [{"cat": [{"substr": [source, 0, 4]}, {"substr": [source, 5, 2]}, {"substr": [source, 8, 2]}]}]}


def _if_date(path: str, expr: Logic) -> Logic:
    """`expr` when the answer at `path` is given, else null (which compares as 0)."""
    return {"if": [{"var": path}, expr, None]}


def computed_logic(definition: Computed) -> Logic:
    """One computed value of the spec as a JSON Logic expression over the data."""
    today = {"var": "_today"}
    if definition.age is not None:
        path = definition.age
        diff = {"-": [_date_number(today), _date_number({"var": path})]}
        return _if_date(path, _floor_div(diff, 10000))
    if definition.days_since is not None:
        path = definition.days_since
        return _if_date(path, {"-": [_day_number(today), _day_number({"var": path})]})
    if definition.count is not None:
        return {"reduce": [{"var": definition.count}, {"+": [{"var": "accumulator"}, 1]}, 0]}
    # the two libraries differ on arithmetic over a missing answer (Python reads null as 0,
    # JavaScript gives NaN): the value is null unless every answer it reads is given
    used = [v for v in vars_of(definition.logic) if v not in PSEUDO_FIELDS]
    if not used:
        return definition.logic
    return {"if": [{"and": [{"!": {"in": [{"var": v}, [None, ""]]}} for v in used]}, definition.logic, None]}


def computed_cycle(computed: Mapping[str, Computed]) -> list[str] | None:
    """A chain of computed values that leads back to its start (`a -> b -> a`), or None.
    Each value reads others through its `logic` or the path of `age` / `days_since` / `count`
    (both are `var`s of `computed_logic`); a loop could never be inlined (lint refuses it)."""
    reads = {name: [v for v in vars_of(computed_logic(d)) if v in computed] for name, d in computed.items()}
    done: set[str] = set()

    def walk(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return path[path.index(name):] + [name]
        if name in done:
            return None
        for other in reads[name]:
            found = walk(other, path + [name])
            if found:
                return found
        done.add(name)
        return None

    for name in computed:
        found = walk(name, [])
        if found:
            return found
    return None


class CircularComputed(ValueError):
    """A computed value that reads itself, directly or through others (a spec lint refuses)."""


def compile_logic(condition: Any, computed: Mapping[str, Computed] | None = None) -> Logic:
    """A spec condition (either shape) as plain JSON Logic, computed values inlined."""
    if condition is None:
        return True
    logic = to_logic(condition if isinstance(condition, Condition) else Condition.model_validate(condition)) if is_legacy(condition) else condition
    return _inline(logic, {name: computed_logic(d) for name, d in (computed or {}).items()})


def _inline(logic: Logic, values: Mapping[str, Logic], seen: tuple[str, ...] = ()) -> Logic:
    """`logic` with each computed value it reads replaced by its expression; `seen`: the
    values being inlined around it, so a loop raises CircularComputed, never RecursionError."""
    def replace(name: str, _node: Mapping[str, Any]) -> Any:
        if name not in values:
            return _KEEP
        if name in seen:
            raise CircularComputed(f"computed value `{name}` reads itself: {' -> '.join(seen + (name,))}")
        return _inline(values[name], values, seen + (name,))

    return _map_vars(logic, replace)


def fee_implies(logic: Logic) -> bool:
    """Whether a step's `when` (JSON Logic) surely holds for every dossier that owes a fee
    (`_fee_total > 0`): `{">": [{var: _fee_total}, 0]}` and the like, or an `or` with one
    such part, or an `and` of such parts. Lint asks it of a payment step's `when`, so a
    condition never switches payment off while a fee is due."""
    if logic is True or _var_name(logic) == "_fee_total":
        return True
    if not isinstance(logic, Mapping) or len(logic) != 1:
        return False
    op, args = next(iter(logic.items()))
    if op in ("and", "or") and isinstance(args, list) and args:
        parts = [fee_implies(a) for a in args]
        return all(parts) if op == "and" else any(parts)
    if op == "!!":
        return fee_implies(args[0] if isinstance(args, list) and len(args) == 1 else args)
    if not isinstance(args, list) or len(args) != 2:
        return False
    left, right = args
    flipped = {"<": ">", "<=": ">=", "!=": "!=", "!==": "!=="}
    if _var_name(right) == "_fee_total" and op in flipped:
        op, left, right = flipped[op], right, left
    if _var_name(left) != "_fee_total" or isinstance(right, bool) or not isinstance(right, (int, float)):
        return False
    return (op == ">" and right <= 0) or (op == ">=" and right <= 1) or (op in ("!=", "!==") and right == 0)


def _var_name(node: Any) -> str | None:
    """The path a `{var: path}` (or `{var: [path, default]}`) reads, or None for other nodes."""
    if not isinstance(node, Mapping) or len(node) != 1 or "var" not in node:
        return None
    name = node["var"]
    name = name[0] if isinstance(name, list) and name else name
    return name if isinstance(name, str) else None


_KEEP = object()


def _map_vars(logic: Logic, replace: Callable[[str, Mapping[str, Any]], Any]) -> Logic:
    """A copy of `logic` with each `var` node replaced by `replace(path, node)` (unless it
    gives `_KEEP`): the one walk behind inlining computed values, fixing `_today` /
    `_channel` for the browser and binding `item.` to one item of a repeating group."""
    if isinstance(logic, list):
        return [_map_vars(item, replace) for item in logic]
    if isinstance(logic, Mapping):
        name = _var_name(logic)
        if name is not None:
            new = replace(name, logic)
            if new is not _KEEP:
                return new
        return {key: _map_vars(value, replace) for key, value in logic.items()}
    return logic


def _rules(logic: Logic) -> Iterator[Mapping[str, Any]]:
    """Every mapping (operator application) inside a rule, outermost first."""
    if isinstance(logic, list):
        for item in logic:
            yield from _rules(item)
    elif isinstance(logic, Mapping):
        yield logic
        for value in logic.values():
            yield from _rules(value)


def vars_of(logic: Logic) -> list[str]:
    """The data paths a JSON Logic rule reads (`var` operands that are plain strings)."""
    return list(dict.fromkeys(name for node in _rules(logic) if (name := _var_name(node))))


def operators_of(logic: Logic) -> list[str]:
    """The operators a rule uses, outermost first (lint checks them against OPERATORS)."""
    return list(dict.fromkeys(
        next(iter(node)) if len(node) == 1 else "{" + ", ".join(map(str, node)) + "}" for node in _rules(logic)
    ))


# --- repeating groups ----------------------------------------------------------------------

#: Inside a repeating group's `items`, `{var: item.name}` reads `name` of the same item.
ITEM = "item"


def is_item_path(path: str) -> bool:
    """Whether a variable reads the item its rule stands in (`item` / `item.<field>`)."""
    return path == ITEM or path.startswith(ITEM + ".")


def bind_item(logic: Logic, item_path: str | None) -> Logic:
    """The rule of a field inside a repeating group, bound to one item: `item.name` becomes
    that item's whole-answer path (`children.2.name`), which both JSON Logic libraries read
    through the list by its index. Other variables keep reading the whole answers."""
    if not item_path:
        return logic

    def bound(name: str, node: Mapping[str, Any]) -> Any:
        if not is_item_path(name):
            return _KEEP
        path = item_path + name[len(ITEM):]
        value = node["var"]
        return {"var": [path, *value[1:]] if isinstance(value, list) else path}

    return _map_vars(logic, bound)


def item_path_of(pattern: str, concrete: str) -> str | None:
    """The innermost item a field belongs to: `children.*.address` found at
    `children.2.address` -> `children.2`; None outside repeating groups."""
    parts, found = pattern.split("."), concrete.split(".")
    stars = [i for i, part in enumerate(parts) if part == "*"]
    return ".".join(found[: stars[-1] + 1]) if stars else None


def today_iso(today: _dt.date | None = None) -> str:
    """The filing date as conditions read it (Vietnam time)."""
    if today is None:
        from motcua.workdays import VN_TZ

        today = _dt.datetime.now(VN_TZ).date()
    return today.isoformat()


def evaluate(logic: Logic, answers: Mapping[str, Any], channel: str = "online", today: _dt.date | None = None) -> Any:
    """The value of compiled JSON Logic for these answers; an answer of the wrong kind
    (text where a date is read) gives None rather than an error."""
    return _value(lambda data: jsonLogic(logic, data), answers, channel, today_iso(today))


def _value(run: Evaluator, answers: Mapping[str, Any], channel: str, day: str) -> Any:
    """`run` (the library's interpreter or a rule's closures) over the answers with
    `_channel` and `_today`; None for an answer of the wrong kind (see `evaluate`)."""
    data = {**answers, "_channel": channel, "_today": day}
    try:
        return run(data)
    except (TypeError, ValueError, ArithmeticError, ReferenceError):
        return None


def truthy(value: Any) -> bool:
    """JSON Logic's truthiness (an empty list is false, an object, even empty, true, as
    `json-logic-js` says: `{var: item}` reads a whole item)."""
    if isinstance(value, list):
        return bool(value)
    if isinstance(value, Mapping):
        return True
    return bool(value) and value == value  # NaN is false


def holds(
    condition: Any,
    answers: Mapping[str, Any],
    channel: str = "online",
    computed: Mapping[str, Computed] | None = None,
    today: _dt.date | None = None,
    item: str | None = None,
) -> bool:
    """Whether `condition` (either shape) is true for these answers; none always holds.
    `item`: the whole-answer path of the repeating group's item the condition stands in
    (`children.2`), which its `item.` variables read."""
    if condition is None:
        return True
    day = today_iso(today)
    logic, run = _compiled(condition, computed, channel, day)  # a rule that cannot compile raises
    if item:  # bound to one item of a repeating group: interpreted (a new tree per item)
        bound = bind_item(logic, item)
        run = lambda data: jsonLogic(bound, data)  # noqa: E731
    return truthy(_value(run, answers, channel, day))


_COMPILED: dict[tuple[int, int, str, str], tuple[Any, Any, tuple[Logic, Evaluator]]] = {}


def _compiled(condition: Any, computed: Mapping[str, Computed] | None, channel: str, day: str) -> tuple[Logic, Evaluator]:
    """`compile_logic` with `_channel` and `_today` written in and what depends on them
    alone computed once (`_fold`), per condition, spec, channel and day, with the closures
    that evaluate it (`logic_closures`): a filing evaluates
    the same fee rules every time, and compiling cost more than evaluating; a computed date
    difference has a day number on each side, the one of `_today` folded. Keyed by identity; the
    entry keeps both objects alive, so an id is never reused while its entry is there. The
    evaluator does not change the rule it is given."""
    key = (id(condition), id(computed), channel, day)
    hit = _COMPILED.get(key)
    if hit is not None and hit[0] is condition and hit[1] is computed:
        return hit[2]
    logic = _fold(_fix(compile_logic(condition, computed), {"_today": day, "_channel": channel}))
    if len(_COMPILED) >= 4096:  # specs reloaded many times (tests, the studio), or a new day
        _COMPILED.clear()
    made = (logic, closure(logic))
    _COMPILED[key] = (condition, computed, made)
    return made


def _fold(logic: Logic) -> Logic:
    """Each operation that reads no data replaced by its value (computed by the library
    itself, so nothing is evaluated differently); only values that stay literals in JSON
    Logic (numbers, text, booleans, null) are written in."""
    if isinstance(logic, list):
        return [_fold(item) for item in logic]
    if not isinstance(logic, Mapping):
        return logic
    folded = {key: _fold(value) for key, value in logic.items()}
    if len(folded) == 1 and not _reads_data(folded):
        try:
            value = jsonLogic(folded, {})
        except (TypeError, ValueError, ArithmeticError, ReferenceError):
            return folded
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
    return folded


def _reads_data(logic: Logic) -> bool:
    if isinstance(logic, list):
        return any(_reads_data(item) for item in logic)
    if isinstance(logic, Mapping):
        return "var" in logic or "missing" in logic or "missing_some" in logic or any(
            _reads_data(v) for v in logic.values())
    return False


def checker(
    condition: Any,
    answers: Mapping[str, Any],
    channel: str = "online",
    computed: Mapping[str, Computed] | None = None,
    today: _dt.date | None = None,
) -> Callable[[str | None], bool]:
    """`holds` for one condition over many items of a repeating group: compiled once (and
    the data built once), only bound to each item; a rule that reads no `item.` is even
    evaluated once. Whether it holds for `item` (`children.2`, or None) is the call."""
    logic = compile_logic(condition, computed)
    data = {**answers, "_channel": channel, "_today": today_iso(today)}
    per_item = any(is_item_path(v) for v in vars_of(logic))
    once: list[bool] = []

    def run(rule: Logic) -> bool:
        try:
            return truthy(jsonLogic(rule, data))
        except (TypeError, ValueError, ArithmeticError, ReferenceError):
            return False

    def check(item: str | None) -> bool:
        if per_item and item:
            return run(bind_item(logic, item))
        if not once:
            once.append(run(logic))
        return once[0]

    return check


def for_browser(
    condition: Any,
    computed: Mapping[str, Computed] | None = None,
    channel: str = "online",
    today: _dt.date | None = None,
    item: str | None = None,
) -> Logic:
    """The compiled rule as the web form evaluates it (json-logic-js over the form's values):
    `_today` (the serving day) and `_channel` written in as literals, and `item.` bound to the
    item's input names (`children.2.name`), so the page carries only the rule, as JSON data
    in an attribute (no inline script: CSP)."""
    fixed = {"_today": today_iso(today), "_channel": channel}
    return _fix(bind_item(compile_logic(condition, computed), item), fixed)


def _fix(logic: Logic, fixed: Mapping[str, Any]) -> Logic:
    return _map_vars(logic, lambda name, _node: fixed.get(name, _KEEP))
