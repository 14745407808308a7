"""The submission schema as published — and enforced: one rule, what is published is checked.

A spec's `form.fields` is what the administrator wrote. The schema the API serves and the
server validates with is that, plus every rule the platform adds (docs/specs.md, "What the
published schema carries"):

- **closed objects**: every object of the form gets `additionalProperties: false`; a
  property declared only in an `if`/`then`/`else` branch of it is declared on the object
  too (with the branch's schema), so answers not in the form are refused, not stored;
- **format rules as patterns**: each format of motcua.formats publishes its pattern and
  lengths beside `format` (the tax code's check digit is the one rule only `format` says);
- **the text cap**: text fields without `maxLength` get the platform's (answer_limits);
- **addresses** declare the unit codes the server adds (`province_code`, `commune_code`)
  and carry `x-units`: the commune must be one of the province's (GET /units/...);
- **relative dates** (`x-date`, motcua.date_rules) also get `formatMinimum` /
  `formatMaximum` resolved for the serving day when they depend on the filing date only;
- **the size cap** of the answers as stored (UTF-8 JSON bytes) is `x-max-bytes` at the root;
- **patterns** are read as ECMA-262 reads them (`\\d` is ASCII), as every client does.

Attachments' conditions compile to JSON Schema over the answers (`condition_schema`), so the
API publishes `required_if` per component and the request's `if`/`then`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from motcua import answer_limits, date_rules
from motcua.formats import FORMATS
from motcua.spec.conditions import compile_logic, holds
from motcua.spec.model import Condition
from motcua.units import ADDRESS_PARTS, CODE_KEYS, LEGACY_PARTS

ADDRESS_KEYS = frozenset((*ADDRESS_PARTS, *LEGACY_PARTS, *CODE_KEYS.values()))
UNIT_CODE_SCHEMAS = {
    "province_code": {"type": "string", "pattern": "^[0-9]{2}$", "maxLength": 2},
    "commune_code": {"type": "string", "pattern": "^[0-9]{5}$", "maxLength": 5},
    "district": {"type": "string", "maxLength": 100, "description": "Accepted and not kept: there are no districts since 1 July 2025"},
}
UNITS_NOTE = "commune: one of the province's communes since 1 July 2025 (GET /api/v1/units/{province}/communes)"


def _kind(node: Mapping[str, Any]) -> Any:
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and "properties" in node:
        return "object"
    return kind


def structural(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(dotted path with `*` for items, node) of every field the form has: properties and
    items, not condition branches."""
    if not isinstance(node, dict):
        return
    yield path, node
    for name, sub in (node.get("properties") or {}).items():
        yield from structural(sub, f"{path}.{name}" if path else name)
    if isinstance(node.get("items"), dict):
        yield from structural(node["items"], f"{path}.*" if path else "*")


def _branch_properties(node: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Properties introduced by this object's if/then/else (directly or in its allOf)."""
    found: dict[str, list[Any]] = {}
    entries = [node] + [e for e in node.get("allOf") or [] if isinstance(e, dict)]
    for entry in entries:
        for key in ("then", "else"):
            branch = entry.get(key)
            if isinstance(branch, dict):
                for name, sub in (branch.get("properties") or {}).items():
                    found.setdefault(name, []).append(sub)
        if entry is not node:
            for name, sub in (entry.get("properties") or {}).items():
                found.setdefault(name, []).append(sub)
    return found


def _close(node: dict[str, Any]) -> None:
    if "additionalProperties" in node or "unevaluatedProperties" in node or "patternProperties" in node:
        return
    props = node.setdefault("properties", {})
    for name, subs in _branch_properties(node).items():
        if name not in props:
            props[name] = subs[0] if len(subs) == 1 else {"anyOf": subs}
    node["additionalProperties"] = False


def _merge_format(node: dict[str, Any]) -> None:
    fmt = FORMATS.get(node.get("format") or "")
    if fmt is None:
        return
    for key, value in fmt.schema.items():
        if key == "pattern" and "pattern" in node and node["pattern"] != value:
            node.setdefault("allOf", []).append({"pattern": value})
        elif key == "maxLength" and isinstance(node.get(key), int):
            node[key] = min(node[key], value)
        elif key == "minLength" and isinstance(node.get(key), int):
            node[key] = max(node[key], value)
        else:
            node[key] = value


#: every request refuses a NUL character (motcua.web.text_guard: PostgreSQL cannot store one),
#: so every published text says so, in a regex JSON Schema, Python and Rust all read alike
NO_NUL = "^[^\\x00]*$"


def _refuse_nul(node: dict[str, Any]) -> None:
    if _kind(node) != "string" or "enum" in node or "const" in node:
        return
    if "format" in node:  # the formats' own patterns allow no NUL (motcua.formats)
        return
    if "pattern" not in node:
        node["pattern"] = NO_NUL
    elif {"pattern": NO_NUL} not in node.get("allOf", []):
        # a spec's own pattern may let a NUL through (`.+`): the rule is published beside it,
        # else a client following the schema is refused (tests/test_schema_roundtrip.py drew
        # a NUL into 1.001612's household name, pattern `^(Hộ kinh doanh|HỘ KINH DOANH) .+`)
        node.setdefault("allOf", []).append({"pattern": NO_NUL})


def is_address_node(node: Mapping[str, Any], widget: str | None) -> bool:
    props = node.get("properties") or {}
    if widget is not None:
        return widget == "address" and bool(props)
    return _kind(node) == "object" and "province" in props and set(props) <= ADDRESS_KEYS


def publish(fields: Mapping[str, Any], widgets: Mapping[str, str | None], today: date | None = None,
            max_bytes: int | None = None, computed: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The published (and enforced) schema of `fields`; `widgets` maps a field's UI key
    (dotted, no item indexes) to its widget hint; `today` resolves relative dates."""
    schema = answer_limits.capped(dict(fields))
    for path, node in list(structural(schema)):
        _merge_format(node)
        _refuse_nul(node)
        key = path.replace(".*", "").replace("*", "")
        if is_address_node(node, widgets.get(key)):
            for code_key, sub in UNIT_CODE_SCHEMAS.items():
                node["properties"].setdefault(code_key, dict(sub))
            node["x-units"] = UNITS_NOTE
        if _kind(node) == "object" and isinstance(node.get("properties"), dict):
            _close(node)
        if "x-date" in node and today is not None:
            node.update(date_rules.published_bounds(node["x-date"], today))
        _show_when(node, computed)
    if max_bytes:
        schema["x-max-bytes"] = max_bytes
    return schema


def _show_when(node: dict[str, Any], computed: Mapping[str, Any] | None) -> None:
    """A field's `x-show-when` published as compiled JSON Logic over the whole answers (plus
    `_channel`, `_today`); a required field that has one leaves `required` for the object's
    `x-required-when` (name -> that rule): required exactly when shown, which no JSON Schema
    keyword can say over computed values. The server enforces it (submission.validate)."""
    props = node.get("properties")
    if not isinstance(props, dict):
        return
    for name, sub in props.items():
        if isinstance(sub, dict) and "x-show-when" in sub:
            rule = compile_logic(sub["x-show-when"], computed)
            props[name] = sub = {**sub, "x-show-when": rule}
            required = node.get("required")
            if isinstance(required, list) and name in required:
                node["required"] = [r for r in required if r != name]
                node.setdefault("x-required-when", {})[name] = rule


# --- conditions as JSON Schema ------------------------------------------------------------

FALSY: list[Any] = [False, 0, "", None, [], {}]


def _chain(parts: list[str], leaf: dict[str, Any]) -> dict[str, Any]:
    """`a.b` with `leaf` -> {required: [a], properties: {a: {required: [b], properties: {b: leaf}}}}."""
    node = leaf
    for part in reversed(parts):
        node = {"type": "object", "required": [part], "properties": {part: node}}
    return node


def _test(condition: Condition) -> dict[str, Any]:
    fields = condition.model_fields_set
    if "equals" in fields:
        return {"const": condition.equals}
    if "not_equals" in fields:
        return {"not": {"const": condition.not_equals}}
    if "in_" in fields:
        return {"enum": [v for v in condition.in_ or [] if v not in (None, "")]}
    if "is_true" in fields:
        return {"not": {"enum": FALSY}} if condition.is_true else {"enum": FALSY}
    for op, keyword in (("gt", "exclusiveMinimum"), ("gte", "minimum"), ("lt", "exclusiveMaximum"), ("lte", "maximum")):
        if op in fields:
            return {"type": "number", keyword: getattr(condition, op)}
    return {"not": {}}


def _default_at(fields: Mapping[str, Any], parts: list[str]) -> tuple[bool, Any]:
    node: Any = fields
    for part in parts:
        if not isinstance(node, Mapping):
            return False, None
        node = (node.get("properties") or {}).get(part)
    if isinstance(node, Mapping) and "default" in node:
        return True, node["default"]
    return False, None


def condition_schema(
    condition: Any, fields: Mapping[str, Any], channel: str = "online", computed: Mapping[str, Any] | None = None
) -> dict[str, Any] | bool:
    """A JSON Schema over the answers that is valid exactly when `condition` holds for them
    (motcua.spec.conditions.holds), schema defaults taking the place of missing answers.

    A JSON Logic condition has no JSON Schema equivalent (computed values, arithmetic): it is
    published as `{"x-json-logic": <the compiled rule>}`, a documented annotation that any
    validator accepts and a client evaluates with a JSON Logic library over the answers plus
    `_channel` and `_today` (docs/specs.md)."""
    if not isinstance(condition, Condition):
        return {"x-json-logic": compile_logic(condition, computed)}
    if condition.all is not None:
        return {"allOf": [condition_schema(c, fields, channel) for c in condition.all]}
    if condition.any is not None:
        return {"anyOf": [condition_schema(c, fields, channel) for c in condition.any]}
    if condition.not_ is not None:
        return {"not": condition_schema(condition.not_, fields, channel)}
    assert condition.field is not None
    if condition.field == "_channel":
        return holds(condition, {}, channel)
    parts = condition.field.split(".")
    options: list[Any] = [_chain(parts, _test(condition))]
    has_default, default = _default_at(fields, parts)
    # the leaf missing (its object present): the default stands in for it
    leaf_missing = {"type": "object"} if len(parts) == 1 else _chain(parts[:-1], {"type": "object"})
    leaf_missing = {"allOf": [leaf_missing, {"not": _chain(parts, {})}]}
    if holds(condition, _nest(parts, default) if has_default else {}, channel):
        options.append(leaf_missing)
    # an object on the way missing (or not an object): no default applies
    if len(parts) > 1 and holds(condition, {}, channel):
        options.append({"not": _chain(parts[:-1], {"type": "object"})})
    return options[0] if len(options) == 1 else {"anyOf": options}


def _nest(parts: list[str], value: Any) -> dict[str, Any]:
    out: Any = value
    for part in reversed(parts):
        out = {part: out}
    return out


def with_defaults(fields: Mapping[str, Any], answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers with each missing field that has a schema `default` set to it, inside the
    objects (and items) that are there: how the server reads conditions on attachments.
    Only what gets a default is copied (the rest is shared with `answers`: read it, never
    change it in place)."""

    def fill(node: Any, value: Any) -> Any:
        if not isinstance(node, Mapping):
            return value
        if isinstance(value, dict):
            out = None
            for name, sub in (node.get("properties") or {}).items():
                if not isinstance(sub, Mapping):
                    continue
                if name not in value:
                    if "default" not in sub:
                        continue
                    new = copy.deepcopy(sub["default"])
                else:
                    new = fill(sub, value[name])
                    if new is value[name]:
                        continue
                if out is None:
                    out = dict(value)
                out[name] = new
            return value if out is None else out
        if isinstance(value, list) and isinstance(node.get("items"), Mapping):
            items = [fill(node["items"], item) for item in value]
            return value if all(new is old for new, old in zip(items, value)) else items
        return value

    return dict(fill(fields, dict(answers)))
