"""Reading a form's JSON Schema the way the renderers need it.

One place answers "what is the field at this path, how is it shown, when is it shown": the
HTML form, the parser, the summary and the printable documents all walk the schema through
these helpers, so a field looks and parses the same everywhere.

Conditional fields come from JSON Schema `if`/`then`/`else` (on any object, or inside its
`allOf`). The supported pattern is the common one:

    if:   {properties: {has_father: {const: true}}}      # or {enum: [...]}, several = all
    then: {required: [father], properties: {father: {required: [full_name]}}}

A field listed in `then.required` (and not required anyway), or introduced by
`then.properties` without being a base property, is shown only when the condition holds;
`else` gives the negated condition. The condition is written in the spec's own `Condition`
shape (`{"field": "has_father", "equals": true}`), so the browser script and
`motcua.spec.conditions.holds` read the same thing. The server, when it decides, evaluates
the `if` subschema itself with jsonschema, so it follows JSON Schema's exact semantics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from motcua.spec.form_support import if_condition
from motcua.spec.model import FieldUI, ProcedureSpec
from motcua.units import ADDRESS_PARTS, CODE_KEYS, LEGACY_PARTS

#: Everything an address object may hold: its parts, the codes of its units, and the
#: district of an address stored before 1 July 2025.
ADDRESS_KEYS = frozenset((*ADDRESS_PARTS, *LEGACY_PARTS, *CODE_KEYS.values()))


def schema_type(node: dict[str, Any]) -> str | None:
    """The node's type; `["string", "null"]` counts as string."""
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None:
        if "properties" in node:
            return "object"
        if "enum" in node and node["enum"]:
            return _python_type_name(node["enum"][0])
    return kind


def _python_type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def is_index(segment: str) -> bool:
    return segment.isdigit()


def ui_key(path: str) -> str:
    """`children.0.name` -> `children.name`: UI hints are keyed without item indexes."""
    return ".".join(s for s in path.split(".") if not is_index(s))


def ui_for(spec: ProcedureSpec, path: str) -> FieldUI:
    ui = spec.form.ui if spec.form else {}
    key = ui_key(path)
    return ui.get(key) or ui.get(key.replace(".", ".*.")) or FieldUI()


def node_at(root: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The schema node of a dotted answer path (array indexes step into `items`)."""
    node: dict[str, Any] | None = root
    for segment in path.split(".") if path else []:
        if node is None:
            return None
        if is_index(segment) and schema_type(node) == "array":
            node = node.get("items") if isinstance(node.get("items"), dict) else None
        else:
            node = (node.get("properties") or {}).get(segment)
    return node


def enum_values(node: dict[str, Any]) -> list[Any] | None:
    """Allowed values of a field, or of each item for an array of choices."""
    if schema_type(node) == "array" and isinstance(node.get("items"), dict):
        node = node["items"]
    if "enum" in node:
        return list(node["enum"])
    if "oneOf" in node and all("const" in o for o in node["oneOf"]):
        return [o["const"] for o in node["oneOf"]]
    return None


def is_address(node: dict[str, Any]) -> bool:
    props = node.get("properties") or {}
    return schema_type(node) == "object" and "province" in props and set(props) <= ADDRESS_KEYS


def widget_for(node: dict[str, Any], ui: FieldUI) -> str:
    """The widget a field gets: the UI hint, else derived from type / format / enum."""
    if ui.widget:
        return ui.widget
    kind = schema_type(node)
    fmt = node.get("format")
    choices = enum_values(node)
    if kind == "array":
        return "checkboxes" if choices else "repeat"
    if kind == "object":
        return "address" if is_address(node) else "fieldset"
    if choices is not None:
        return "radio" if len(choices) <= 4 else "select"
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return "number"
    return {
        "date": "date",
        "email": "email",
        "vn-mobile": "tel",
        "cccd": "cccd",
        "tax-code": "tax_code",
    }.get(fmt or "", "textarea" if (node.get("maxLength") or 0) > 250 else "text")


def choice_key(value: Any) -> str:
    """How an enum value travels in HTML: `true`, `3`, `nam`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


# --- conditional fields ---------------------------------------------------------------------


@dataclass
class Rule:
    """One `if`/`then`/`else` on the object at `prefix`."""

    prefix: str
    if_schema: dict[str, Any]
    condition: dict[str, Any] | None  # browser-side form; None if the pattern is unsupported
    shows: list[str] = field(default_factory=list)  # relative names shown when it holds
    requires: list[str] = field(default_factory=list)  # relative dotted paths required then
    else_shows: list[str] = field(default_factory=list)
    else_requires: list[str] = field(default_factory=list)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _branch(branch: Any, base_props: dict[str, Any], base_required: set[str]) -> tuple[list[str], list[str]]:
    if not isinstance(branch, dict):
        return [], []
    shows: list[str] = []
    requires: list[str] = []
    for name in branch.get("required") or []:
        requires.append(name)
        if name not in base_required:
            shows.append(name)
    for name, sub in (branch.get("properties") or {}).items():
        if name not in base_props and name not in shows:
            shows.append(name)
        if isinstance(sub, dict):
            requires.extend(f"{name}.{r}" for r in sub.get("required") or [])
    return shows, requires


def object_rules(node: dict[str, Any], prefix: str) -> list[Rule]:
    """The rules written directly on one object schema (not its children)."""
    entries = [node] if "if" in node else []
    entries += [e for e in node.get("allOf") or [] if isinstance(e, dict) and "if" in e]
    base_props = node.get("properties") or {}
    base_required = set(node.get("required") or [])
    rules = []
    for entry in entries:
        if_schema = entry["if"] if isinstance(entry["if"], dict) else {}
        rule = Rule(prefix, if_schema, if_condition(if_schema, prefix))
        rule.shows, rule.requires = _branch(entry.get("then"), base_props, base_required)
        rule.else_shows, rule.else_requires = _branch(entry.get("else"), base_props, base_required)
        rules.append(rule)
    return rules


def negate(condition: dict[str, Any]) -> dict[str, Any]:
    return {"not": condition}


def show_conditions(node: dict[str, Any], prefix: str) -> dict[str, dict[str, Any]]:
    """Relative field name -> browser condition under which it is shown, for one object."""
    found: dict[str, list[dict[str, Any]]] = {}
    for rule in object_rules(node, prefix):
        if rule.condition is None:
            continue
        for name in rule.shows:
            found.setdefault(name, []).append(rule.condition)
        for name in rule.else_shows:
            found.setdefault(name, []).append(negate(rule.condition))
    return {name: conds[0] if len(conds) == 1 else {"any": conds} for name, conds in found.items()}


def conditionally_required(node: dict[str, Any]) -> set[str]:
    """Relative dotted paths some branch of this object's rules makes required."""
    found: set[str] = set()
    for rule in object_rules(node, ""):
        found.update(rule.requires)
        found.update(rule.else_requires)
    return found

