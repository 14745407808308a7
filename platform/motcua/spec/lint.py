"""The spec linter: everything a valid-looking spec can still get wrong.

`load_file` checks the shape of a spec against the model. This module adds what the model
alone cannot see: the form is real JSON Schema, every field a spec names exists in it, ids
are unique, steps exist and their config is valid for the step, and the service level
agrees with the rest (DESIGN.md "Service levels", DOMAIN.md "Rule of thumb for the linter").
The catalogue uses `lint_file`, so a spec the linter rejects is never served.
"""

from __future__ import annotations

import re

import json
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

from jsonschema import Draft202012Validator, FormatChecker
from pydantic import BaseModel, ValidationError

from motcua.formats import CUSTOM_FORMATS
from motcua.integrations import WIDGETS
from motcua.spec.loader import (
    Finding,
    Loaded,
    Loc,
    describe_value,
    did_you_mean,
    dotted,
    explain,
    load_file,
)
from motcua.spec import life_events
from motcua.spec.form_support import unrenderable
from motcua.spec.model import Condition, Level, ProcedureSpec
from motcua.spec.conditions import STEP_FIELDS, computed_cycle, fee_implies, is_legacy
from motcua.spec.redos import backtracking_problem
from motcua.spec.redos import explain as explain_backtracking

#: Formats of JSON Schema 2020-12 (section 7.3) that jsonschema knows, checked or not.
STANDARD_FORMATS = (
    "date-time", "date", "time", "duration", "email", "idn-email", "hostname", "idn-hostname",
    "ipv4", "ipv6", "uri", "uri-reference", "iri", "iri-reference", "uuid", "uri-template",
    "json-pointer", "relative-json-pointer", "regex",
)
KNOWN_FORMATS = frozenset(STANDARD_FORMATS) | frozenset(FormatChecker.checkers) | frozenset(CUSTOM_FORMATS)

#: Keywords of JSON Schema 2020-12 (core, applicator, validation, meta-data, format, content).
SCHEMA_KEYWORDS = frozenset(
    """$schema $id $ref $anchor $dynamicRef $dynamicAnchor $vocabulary $comment $defs definitions
    allOf anyOf oneOf not if then else dependentSchemas prefixItems items contains properties
    patternProperties additionalProperties propertyNames unevaluatedItems unevaluatedProperties
    type enum const multipleOf maximum exclusiveMaximum minimum exclusiveMinimum maxLength
    minLength pattern maxItems minItems uniqueItems maxContains minContains maxProperties
    minProperties required dependentRequired title description default deprecated readOnly
    writeOnly examples format contentEncoding contentMediaType contentSchema""".split()
)
SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
SCHEMA_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "contains",
              "propertyNames", "unevaluatedItems", "unevaluatedProperties", "contentSchema")
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
TYPE_WORDS = {"object": "a mapping", "array": "a list", "string": "a text", "integer": "a whole number",
              "number": "a number", "boolean": "yes/no", "null": "null"}
ONLINE_PAYMENT_MODES = ("online", "gateway")


# --- the step registry (FLOW's) -------------------------------------------------------------


def step_classes() -> tuple[dict[str, type] | None, str]:
    """The registered steps by name, or None and why they could not be loaded."""
    try:
        from motcua.workflow.registry import step_registry
    except ImportError as exc:
        return None, f"the step registry is not available ({exc})"
    try:
        found = dict(step_registry())
    except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the linter
        return None, f"loading the step plugins failed: {type(exc).__name__}: {exc}"
    if not found:  # the built-in steps always register: nothing means a broken install
        return None, "no steps are registered in the `motcua.steps` entry-point group (reinstall with `pip install -e .`)"
    return found, ""


# --- JSON Schema helpers --------------------------------------------------------------------


def _deref(root: Any, node: Any, depth: int = 0) -> Any:
    """Follow a local `$ref` (`#/$defs/x`); anything else is returned as is."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/") and depth < 20:
        target: Any = root
        for part in node["$ref"][2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        if target is None:
            return node
        node, depth = target, depth + 1
    return node


def _branches(root: Any, node: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """`node` and every schema that adds to the same instance (allOf, if/then/else, ...)."""
    node = _deref(root, node)
    if not isinstance(node, dict) or depth > 10:
        return
    yield node
    for key in ("allOf", "anyOf", "oneOf"):
        if isinstance(node.get(key), list):
            for sub in node[key]:
                yield from _branches(root, sub, depth + 1)
    for key in ("if", "then", "else"):
        yield from _branches(root, node.get(key), depth + 1)


def properties_of(root: Any, node: Any) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for branch in _branches(root, node):
        if isinstance(branch.get("properties"), dict):
            for name, sub in branch["properties"].items():
                props.setdefault(name, sub)
    return props


def _items_of(root: Any, node: Any) -> Any:
    for branch in _branches(root, node):
        if isinstance(branch.get("items"), dict):
            return branch["items"]
    return None


def field_at(root: Any, path: str) -> Any:
    """The schema of the field at a dotted path, or None when there is no such field.

    Array items are reached with an index, `*`, or directly: `children.0.name`,
    `children.*.name` and `children.name` all name the item's `name`.
    """
    node: Any = root
    for part in path.split("."):
        props = properties_of(root, node)
        if part in props:
            node = props[part]
            continue
        items = _items_of(root, node)
        if items is None:
            return None
        if part.isdigit() or part == "*":
            node = items
            continue
        props = properties_of(root, items)
        if part not in props:
            return None
        node = props[part]
    return _deref(root, node)


def all_field_paths(root: Any, node: Any = None, prefix: str = "", depth: int = 0) -> list[str]:
    """Every dotted field path of the form, for "did you mean" suggestions."""
    node = root if node is None else node
    if depth > 8:
        return []
    paths: list[str] = []
    items = _items_of(root, node)
    for name, sub in properties_of(root, items if items is not None and not properties_of(root, node) else node).items():
        path = f"{prefix}{name}"
        paths.append(path)
        paths.extend(all_field_paths(root, sub, path + ".", depth + 1))
    return paths


def field_hint(path: str, paths: Iterable[str]) -> str:
    """"Did you mean" for a field path that does not exist: the closest path by edit distance
    among those sharing the longest existing prefix (the same object), and only when it is
    really close (a typo: at most a third of the letters differ); otherwise the fields that
    object does have. `requester.mobile` is not a typo of `requester.email`: the author is
    told what `requester` holds instead of being sent to the wrong field."""
    from rapidfuzz.distance import OSA

    known = list(dict.fromkeys(paths))
    parts = path.split(".")
    prefix: list[str] = []
    for part in parts[:-1]:
        if ".".join(prefix + [part]) in known:
            prefix.append(part)
        else:
            break
    head = ".".join(prefix)
    depth = len(parts)
    siblings = [p for p in known if p.count(".") + 1 == depth and (not head or p.startswith(head + "."))]
    rest = path[len(head) + 1 :] if head else path
    scored = sorted((OSA.distance(rest.lower(), p[len(head) + 1 :].lower() if head else p.lower()), p) for p in siblings)
    if scored and scored[0][0] <= max(1, len(rest) // 3):
        return f"; did you mean `{scored[0][1]}`?"
    if head:
        children = [p[len(head) + 1 :] for p in known if p.startswith(head + ".") and "." not in p[len(head) + 1 :]]
        if children:
            return f"; `{head}` has the fields {', '.join(f'`{c}`' for c in children)}"
    return ""


def field_types(root: Any, schema: Any) -> set[str]:
    types: set[str] = set()
    for branch in _branches(root, schema):
        kind = branch.get("type")
        types |= set(kind) if isinstance(kind, list) else {kind} if isinstance(kind, str) else set()
    return types


def subschemas(schema: Any, loc: Loc = ()) -> Iterator[tuple[Loc, dict[str, Any]]]:
    """Every schema object inside a schema, with its location."""
    if not isinstance(schema, dict):
        return
    yield loc, schema
    for key in SCHEMA_MAPS:
        if isinstance(schema.get(key), dict):
            for name, sub in schema[key].items():
                yield from subschemas(sub, loc + (key, name))
    for key in SCHEMA_ONE:
        yield from subschemas(schema.get(key), loc + (key,))
    for key in SCHEMA_LISTS:
        if isinstance(schema.get(key), list):
            for index, sub in enumerate(schema[key]):
                yield from subschemas(sub, loc + (key, index))


@lru_cache(maxsize=1)
def _meta_validator() -> Draft202012Validator:
    return Draft202012Validator(Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)


@lru_cache(maxsize=512)
def schema_problems(schema_json: str) -> tuple[tuple[Loc, str], ...]:
    """Where a form schema breaks JSON Schema 2020-12, in words (cached: the metaschema is
    slow to apply and the catalogue checks the same forms at every start)."""
    found: dict[tuple[Loc, str], None] = {}
    for err in _meta_validator().iter_errors(json.loads(schema_json)):
        path = tuple(err.absolute_path)
        found[(path, Checker.schema_error(path, err))] = None
    return tuple(found)


# --- the checks -----------------------------------------------------------------------------


class Checker:
    """Runs every cross-check on one loaded, model-valid spec, adding findings to it."""

    FIELDS: Loc = ("form", "fields")

    def __init__(self, loaded: Loaded, steps: dict[str, type] | None) -> None:
        assert loaded.spec is not None
        self.loaded = loaded
        self.spec: ProcedureSpec = loaded.spec
        self.steps = steps
        self.schema: dict[str, Any] | None = self.spec.form.fields if self.spec.form else None
        self.schema_ok = False

    def error(self, loc: Loc, message: str, *, key: bool = False) -> None:
        self.loaded.at(loc, "error", message, key=key)

    def warning(self, loc: Loc, message: str, *, key: bool = False) -> None:
        self.loaded.at(loc, "warning", message, key=key)

    def run(self) -> None:
        self.check_form_schema()
        if self.schema_ok:
            self.check_form_references()
        self.check_conditions_and_fees()
        self.check_unique_ids()
        self.check_info()
        self.check_level()
        self.check_steps()
        self.check_processing()
        life_events.check(self)

    # the form's JSON Schema

    def check_form_schema(self) -> None:
        if self.schema is None:
            return
        problems = schema_problems(json.dumps(self.schema, sort_keys=True, default=str))
        for path, message in problems:
            self.error(self.FIELDS + path, message)
        if problems:
            return
        if self.schema.get("type") != "object" or not isinstance(self.schema.get("properties"), dict) or not self.schema["properties"]:
            self.error(self.FIELDS, "`form.fields` should be an object schema: `type: object` with `properties:` listing the form's fields")
            return
        self.schema_ok = True
        for loc, message in unrenderable(self.schema):
            self.error(self.FIELDS + loc, message, key=True)
        for loc, sub in subschemas(self.schema):
            for keyword in sub:
                if keyword not in SCHEMA_KEYWORDS and not str(keyword).startswith("x-"):
                    self.warning(self.FIELDS + loc + (keyword,), f"`{keyword}` is not a JSON Schema keyword, so it has no effect{did_you_mean(keyword, SCHEMA_KEYWORDS)}", key=True)
            self._check_backtracking(loc, sub)
            if "x-date" in sub:
                self._check_date_rule(loc, sub)
            fmt = sub.get("format")
            if isinstance(fmt, str) and fmt in WIDGETS.all():
                pass  # a field type a plugin provides (`motcua.widgets`)
            elif isinstance(fmt, str) and fmt not in KNOWN_FORMATS:
                self.warning(self.FIELDS + loc + ("format",), f"unknown format `{fmt}`: it will not be checked{did_you_mean(fmt, KNOWN_FORMATS)} (known: {', '.join(sorted(KNOWN_FORMATS))})")
            elif isinstance(fmt, str) and fmt not in FormatChecker.checkers and fmt not in CUSTOM_FORMATS:
                self.warning(self.FIELDS + loc + ("format",), f"format `{fmt}` is not checked on this server (the library that checks it is not installed)")
        self._check_required(self.schema, (), [self.schema])

    def _check_date_rule(self, loc: Loc, sub: dict[str, Any]) -> None:
        """`x-date` (motcua.date_rules): on a date field, bounds that parse, field bounds
        naming another date field of the form."""
        from motcua.date_rules import parse_rule
        from motcua.published_schema import structural

        where = self.FIELDS + loc + ("x-date",)
        if sub.get("format") != "date":
            self.error(where, "`x-date` applies to a date field: add `format: date` (or remove `x-date`)")
            return
        try:
            bounds = parse_rule(sub["x-date"])
        except ValueError as exc:
            self.error(where, str(exc))
            return
        message = sub["x-date"].get("message")
        if message is not None and not (isinstance(message, dict) and isinstance(message.get("vi"), str)):
            self.error(where + ("message",), "`message` is {vi: ..., en: ...} (`{date}` is replaced by the limit)")
        dates = {path for path, node in structural(self.schema) if node.get("format") == "date" and "*" not in path}
        for key, bound in bounds.items():
            if not bound.on_today and bound.base not in dates:
                self.error(where + (key,), f"`{bound.base}` is not a date field of the form (outside repeating groups)"
                           f"{did_you_mean(bound.base, dates)}")

    def _check_backtracking(self, loc: Loc, sub: dict[str, Any]) -> None:
        """Citizens' answers (and object keys) are matched against these on every submit:
        a pattern prone to catastrophic backtracking lets one answer hang the server."""
        pattern = sub.get("pattern")
        if isinstance(pattern, str) and not backtracking_problem(pattern) and re.search(r"(?<!\\)\\[wWbB]", pattern):
            self.warning(self.FIELDS + loc + ("pattern",),
                         "`\\w` and `\\b` match ASCII letters only in JSON Schema (ECMA-262), so not Vietnamese ones: "
                         "write the letters, e.g. `[A-Za-zÀ-ỹĐđ]`")
        if isinstance(pattern, str):
            problem = backtracking_problem(pattern)
            if problem:
                where = "form.fields." + dotted(loc + ("pattern",))
                self.error(self.FIELDS + loc + ("pattern",), f"`{where}`: {explain_backtracking(problem)}")
        keyed = sub.get("patternProperties")
        for key in keyed if isinstance(keyed, dict) else ():
            problem = backtracking_problem(key)
            if problem:
                where = "form.fields." + dotted(loc + ("patternProperties",))
                self.error(self.FIELDS + loc + ("patternProperties", key), f"`{where}` key `{key}`: {explain_backtracking(problem)}", key=True)

    def _check_required(self, node: Any, loc: Loc, context: list[Any]) -> None:
        """`required` names must be properties of the object.

        `context` is every schema describing the same value (the parent's branches and the
        same-named property in them): `then: {properties: {father: {required: [name]}}}`
        requires a property the main `father` schema declares."""
        if not isinstance(node, dict) or len(loc) > 60:
            return
        root = self.schema
        branches = [b for c in context for b in _branches(root, c)]
        props = {name for b in branches if isinstance(b.get("properties"), dict) for name in b["properties"]}
        required = node.get("required")
        for index, name in enumerate(required if isinstance(required, list) else []):
            if name not in props:
                self.error(self.FIELDS + loc + ("required", index), f"`required` lists `{name}`, which is not one of this object's properties{did_you_mean(name, props)}")
        for key in ("if", "then", "else", "not"):
            self._check_required(node.get(key), loc + (key,), context + [node.get(key)])
        for key in ("allOf", "anyOf", "oneOf"):
            for index, sub in enumerate(node.get(key) if isinstance(node.get(key), list) else []):
                self._check_required(sub, loc + (key, index), context + [sub])
        for name, sub in (node.get("properties") or {}).items() if isinstance(node.get("properties"), dict) else []:
            same = [b["properties"][name] for b in branches if isinstance(b.get("properties"), dict) and name in b["properties"]]
            self._check_required(sub, loc + ("properties", name), same)
        if isinstance(node.get("items"), dict):
            same = [b["items"] for b in branches if isinstance(b.get("items"), dict)]
            self._check_required(node["items"], loc + ("items",), same)
        for key in ("patternProperties", "$defs", "definitions", "dependentSchemas"):
            if isinstance(node.get(key), dict):
                for name, sub in node[key].items():
                    self._check_required(sub, loc + (key, name), [sub])
        for key in ("additionalProperties", "contains", "unevaluatedItems", "unevaluatedProperties"):
            self._check_required(node.get(key), loc + (key,), [node.get(key)])
        for index, sub in enumerate(node.get("prefixItems") if isinstance(node.get("prefixItems"), list) else []):
            self._check_required(sub, loc + ("prefixItems", index), [sub])

    @staticmethod
    def schema_error(path: Loc, err: Any) -> str:
        where = "form.fields" + ("." + dotted(path) if path else "")
        keyword = path[-1] if path else None
        if keyword == "type" or (len(path) >= 2 and path[-2] == "type"):
            bad = err.instance if not isinstance(err.instance, list) else next((t for t in err.instance if t not in TYPE_WORDS), err.instance)
            return (f"`{where}`: `{bad}` is not a JSON Schema type; use one of "
                    f"{', '.join(TYPE_WORDS)}{did_you_mean(bad, TYPE_WORDS)}")
        if err.validator == "type":
            wanted = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
            words = " or ".join(TYPE_WORDS.get(w, w) for w in wanted if w != "boolean" or len(wanted) == 1)
            if not path:
                return f"`form.fields` should be a JSON Schema (a mapping with `type: object` and `properties:`), but it is {describe_value(err.instance)}"
            return f"`{where}` is not valid JSON Schema: `{keyword}` should be {words}, but it is {describe_value(err.instance)}"
        if err.validator == "format" and err.validator_value == "regex":
            return f"`{where}` is not a valid regular expression"
        return f"`{where}` is not valid JSON Schema: {err.message}"

    def _field_ref(self, loc: Loc, path: str, what: str, *, key: bool = False) -> Any:
        """The schema of a field a spec refers to, or an error at `loc` when it does not exist."""
        if self.schema is None:
            self.error(loc, f"{what} refers to the field `{path}`, but this procedure has no `form`", key=key)
            return None
        if not self.schema_ok:
            return None
        found = field_at(self.schema, path)
        if found is None:
            hint = field_hint(path, all_field_paths(self.schema))
            self.error(loc, f"{what} refers to the field `{path}`, which is not in `form.fields`{hint}", key=key)
        return found

    def check_form_references(self) -> None:
        form = self.spec.form
        assert form is not None and self.schema is not None
        for path, ui in form.ui.items():
            found = self._field_ref(("form", "ui", path), path, "`form.ui`", key=True)
            if isinstance(found, dict) and ui.enum_labels:
                items = found.get("items") if isinstance(found.get("items"), dict) else {}
                enum = [str(v) for v in found.get("enum") or items.get("enum") or []]
                for value in ui.enum_labels:
                    if value not in enum:
                        self.warning(("form", "ui", path, "enum_labels", value), f"`form.ui.{path}` has a label for `{value}`, which is not one of the field's values ({', '.join(enum) or 'it has no enum'})", key=True)
        for role, path in form.contact.model_dump(exclude_none=True).items():
            self._field_ref(("form", "contact", role), path, f"`form.contact.{role}`")
        self.check_prefill()
        top = properties_of(self.schema, self.schema)
        placed: dict[str, str] = {}
        for p_index, page in enumerate(form.pages):
            for f_index, name in enumerate(page.fields):
                loc = ("form", "pages", p_index, "fields", f_index)
                if name not in top:
                    hint = did_you_mean(name, top) or (" (pages list top-level fields; the page shows the whole group)" if "." in name else "")
                    self.error(loc, f"page `{page.id}` lists the field `{name}`, which is not a top-level field in `form.fields`{hint}")
                elif name in placed:
                    self.error(loc, f"the field `{name}` is on two pages: `{placed[name]}` and `{page.id}`")
                else:
                    placed[name] = page.id
        if form.pages:
            required = set(self.schema.get("required") or [])
            for name in top:
                if name not in placed:
                    if name in required:
                        self.error(("form", "pages"), f"the required field `{name}` is on no page, so the form could never be sent; add it to a page")
                    else:
                        self.warning(("form", "pages"), f"the field `{name}` is on no page, so citizens never see it")

    def check_prefill(self) -> None:
        """`form.prefill`: each key a field of the form, each claim one the identity layer knows."""
        from motcua.identity import CLAIMS

        form = self.spec.form
        assert form is not None
        for path, rule in form.prefill.items():
            self._field_ref(("form", "prefill", path), path, "`form.prefill`", key=True)
            if rule.claim not in CLAIMS:
                hint = did_you_mean(rule.claim, list(CLAIMS))
                loc: Loc = ("form", "prefill", path) + (("claim",) if isinstance(self._raw_prefill(path), dict) else ())
                self.error(loc, f"`form.prefill.{path}` names the claim `{rule.claim}`, which no identity provider gives{hint}; known claims: {', '.join(CLAIMS)}")

    def _raw_prefill(self, path: str) -> Any:
        try:
            return self.loaded.data["form"]["prefill"][path]
        except (TypeError, KeyError):
            return None

    def _condition(self, condition: Any, loc: Loc, what: str, *, item: Any = None, extra: tuple[str, ...] = ()) -> None:
        """`item`: the `items` schema of the repeating group the condition stands in (its
        `item.` variables read that item); `extra`: more names it may read (a step's `_fee_total`)."""
        if condition is None:
            return
        if not isinstance(condition, Condition):
            self._logic(condition, loc, what, item=item, extra=extra)
            return
        if condition.field and condition.field != "_channel" and condition.field not in extra:
            found = self._item_ref(loc + ("field",), condition.field, what, item)
            enum = found.get("enum") if isinstance(found, dict) else None
            if isinstance(enum, list):
                values = [condition.equals] if "equals" in condition.model_fields_set else []
                values += [condition.not_equals] if "not_equals" in condition.model_fields_set else []
                values += list(condition.in_ or [])
                for value in values:
                    if value not in enum:
                        self.warning(loc + ("field",), f"{what} compares `{condition.field}` with `{value}`, which the field never takes (its values: {', '.join(map(str, enum))})")
        for key, alias in (("all", "all"), ("any", "any")):
            for index, sub in enumerate(getattr(condition, key) or []):
                self._condition(sub, loc + (alias, index), what, item=item, extra=extra)
        self._condition(condition.not_, loc + ("not",), what, item=item, extra=extra)

    def _item_ref(self, loc: Loc, path: str, what: str, item: Any) -> Any:
        """A field a condition reads: `item.<name>` in the item it stands in, else the answers'."""
        from motcua.spec.conditions import ITEM, is_item_path

        if not is_item_path(path):
            return self._field_ref(loc, path, what)
        if item is None:
            self.error(loc, f"{what} reads `{path}`, but `{ITEM}.` names the same item of a repeating group and this condition is not inside one (`items`); read the answers' path instead")
            return None
        rest = path[len(ITEM) + 1:]
        found = field_at(item, rest) if rest else item
        if found is None and self.schema_ok:
            hint = field_hint(path, [f"{ITEM}.{p}" for p in all_field_paths(item)])
            self.error(loc, f"{what} reads `{path}`, which is not a field of the repeating group's item{hint}")
        return found

    def _logic(self, logic: Any, loc: Loc, what: str, *, item: Any = None, extra: tuple[str, ...] = ()) -> None:
        """A JSON Logic condition: known operators (did-you-mean), and every `var` a field, a
        computed value or `_channel` / `_today` (did-you-mean over all of them)."""
        from rapidfuzz.distance import OSA

        from motcua.spec.conditions import OPERATORS, PSEUDO_FIELDS, is_legacy, operators_of, vars_of

        if isinstance(logic, dict) and set(logic) & {"field", "equals", "in", "all", "any", "not"} and not (set(logic) & (OPERATORS - {"in", "all", "not"})):
            try:
                Condition.model_validate(logic)
            except ValueError as exc:
                first = exc.errors()[0] if hasattr(exc, "errors") else {"msg": str(exc)}
                self.error(loc, f"{what} is neither JSON Logic nor the older `{{field, equals}}` shape: {first['msg']}")
                return
        if is_legacy(logic):  # the older shape written in a field's `x-show-when`
            self._condition(Condition.model_validate(logic), loc, what, item=item, extra=extra)
            return
        for op in operators_of(logic):
            if op not in OPERATORS:
                # `=>` / `=<` are `>=` / `<=` written backwards: the transposition wins ties
                close = sorted((OSA.distance(op, known), known != op[::-1], known) for known in OPERATORS)
                close = [(d, k) for d, _, k in close]
                hint = f"; did you mean `{close[0][1]}`?" if close and close[0][0] <= max(1, len(op) // 3) else ""
                self.error(loc, f"{what} uses `{op}`, which is not a JSON Logic operator{hint} (jsonlogic.com/operations.html; a condition is one operator and its list of arguments: `{{\">\": [{{var: days_since_birth}}, 60]}}`)")
                return
        from motcua.spec.conditions import ITEM, is_item_path

        computed = set(self.spec.computed)
        known = list(computed) + list(PSEUDO_FIELDS) + list(extra) + (all_field_paths(self.schema) if self.schema is not None else [])
        for path in vars_of(logic):
            if path in computed or path in PSEUDO_FIELDS or path in extra or path in ("accumulator", "current"):
                continue
            if is_item_path(path):
                self._item_ref(loc, path, what, item)
                continue
            if self.schema is not None and self.schema_ok and field_at(self.schema, path) is not None:
                continue
            if self.schema is not None and not self.schema_ok:
                continue
            hint = field_hint(path, known)
            if item is not None and not hint and field_at(item, path) is not None:
                hint = f"; inside a repeating group the item's own fields are read as `{ITEM}.<name>`: did you mean `{ITEM}.{path}`?"
            self.error(loc, f"{what} reads `{path}`, which is neither a field of `form.fields` nor a computed value{hint}")

    def check_computed(self) -> None:
        """Each computed value names a field of the right kind and no top-level field."""
        top = set((self.schema or {}).get("properties") or {}) if isinstance(self.schema, dict) else set()
        for name, definition in self.spec.computed.items():
            loc: Loc = ("computed", name)
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                self.error(loc, f"computed value `{name}`: a name is lowercase letters, digits and `_`", key=True)
            if name in top:
                self.error(loc, f"computed value `{name}` has the name of a field: conditions could not tell them apart; rename it", key=True)
            for kind, want in (("age", "a date"), ("days_since", "a date"), ("count", "a list")):
                path = getattr(definition, kind)
                if path is None:
                    continue
                found = self._field_ref(loc + (kind,), path, f"computed value `{name}`")
                if isinstance(found, dict):
                    ok = found.get("format") == "date" if want == "a date" else "array" in field_types(self.schema, found)
                    if not ok:
                        self.error(loc + (kind,), f"computed value `{name}`: `{kind}` needs {want} field, but `{path}` is not one")
            if definition.logic is not None:
                self._logic(definition.logic, loc + ("logic",), f"computed value `{name}`")
        cycle = computed_cycle(self.spec.computed)
        if cycle:
            self.error(("computed", cycle[0]), f"computed value `{cycle[0]}` reads itself ({' -> '.join(cycle)}): "
                       "a value cannot be worked out from itself; make one of them read the answers instead", key=True)

    def check_field_conditions(self) -> None:
        """Each field's `x-show-when` (shown, and required when listed in `required`, only
        while it holds) is a condition like the others."""
        def walk(node: Any, loc: Loc, path: str, item: Any) -> None:
            if not isinstance(node, dict):
                return
            if "x-show-when" in node:
                self._condition(node["x-show-when"], loc + ("x-show-when",), f"the `x-show-when` of field `{path}`", item=item)
            for name, sub in (node.get("properties") or {}).items() if isinstance(node.get("properties"), dict) else ():
                walk(sub, loc + ("properties", name), f"{path}.{name}" if path else name, item)
            if isinstance(node.get("items"), dict):
                walk(node["items"], loc + ("items",), path, node["items"])

        if self.spec.form is not None:
            walk(self.spec.form.fields, ("form", "fields"), "", None)

    def check_conditions_and_fees(self) -> None:
        self.check_computed()
        self.check_field_conditions()
        for index, attachment in enumerate(self.spec.attachments):
            self._condition(attachment.required_when, ("attachments", index, "required_when"), f"the condition of attachment `{attachment.id}`")
        for index, step in enumerate(self.spec.steps):
            self._condition(step.when, ("steps", index, "when"), f"the `when` of step `{step.name}`", extra=STEP_FIELDS)
        self.check_payment_condition()
        for index, fee in enumerate(self.spec.fees):
            self._condition(fee.when, ("fees", index, "when"), f"the condition of fee `{fee.id}`")
            self._condition(fee.exempt_when, ("fees", index, "exempt_when"), f"the exemption of fee `{fee.id}`")
            if fee.quantity_field:
                found = self._field_ref(("fees", index, "quantity_field"), fee.quantity_field, f"`quantity_field` of fee `{fee.id}`")
                if found is not None and self.schema is not None and not field_types(self.schema, found) & {"integer", "number"}:
                    self.error(("fees", index, "quantity_field"), f"`quantity_field` of fee `{fee.id}` should name a number field, but `{fee.quantity_field}` is not `type: integer`")
                elif isinstance(found, dict) and not any("maximum" in branch for branch in _branches(self.schema, found)):
                    self.warning(("fees", index, "quantity_field"), f"`quantity_field` of fee `{fee.id}` names `{fee.quantity_field}`, which has no `maximum`; give it one (the fee counts at most 10000 units without it)")

    def check_payment_condition(self) -> None:
        """A payment step's `when` may only skip it for dossiers that owe nothing: it must hold
        whenever `_fee_total > 0`, else a condition would switch payment off while a fee is
        due (and bypass "fees but no way to pay"). Placed before `review`, it is decided before
        a supplement can raise the fee: the fee is then asked for late (warning)."""
        names = [s.name for s in self.spec.steps]
        for index, step in enumerate(self.spec.steps):
            if step.name != "payment" or step.when is None:
                continue
            logic = step.when if not is_legacy(step.when) else None
            if logic is None or not fee_implies(logic):
                self.error(("steps", index, "when"), "the `when` of the `payment` step must hold whenever a fee is due, or a "
                           "dossier could skip paying; write `{\">\": [{\"var\": \"_fee_total\"}, 0]}` (optionally "
                           "`or` another condition)")
            elif "review" in names[index + 1:]:
                self.warning(("steps", index, "when"), "the `payment` step has a `when` and comes before `review`: a dossier that "
                             "owes nothing at filing skips it, and if a supplement raises the fee, payment is asked for only then; "
                             "place the conditional `payment` step after `review`")

    def check_unique_ids(self) -> None:
        groups: list[tuple[str, Loc, list[str], str]] = [
            ("attachments", ("attachments",), [a.id for a in self.spec.attachments], "id"),
            ("fees", ("fees",), [f.id for f in self.spec.fees], "id"),
            ("channels", ("channels",), [c.kind for c in self.spec.channels], "kind"),
            ("delivery", ("delivery",), [d.kind for d in self.spec.delivery], "kind"),
        ]
        if self.spec.form:
            groups.append(("form.pages", ("form", "pages"), [p.id for p in self.spec.form.pages], "id"))
        for label, loc, ids, key in groups:
            seen: set[str] = set()
            for index, value in enumerate(ids):
                if value in seen:
                    self.error(loc + (index, key), f"`{label}` has `{key}: {value}` twice; each must be different")
                seen.add(value)
        for name, count in Counter(s.name for s in self.spec.steps).items():
            if count > 1:
                index = [s.name for s in self.spec.steps].index(name, [s.name for s in self.spec.steps].index(name) + 1)
                self.warning(("steps", index), f"the step `{name}` appears {count} times; it will run each time")

    def check_processing(self) -> None:
        """The processing chain (`processing`): possible to run, and no longer than the time limit."""
        chain = self.spec.processing
        if chain is None:
            return
        if self.spec.level == 1:
            self.error(("processing",), "a level-1 (info) procedure takes no dossiers, so it has nothing to process; remove `processing`", key=True)
        for index, stage in enumerate(chain.stages):
            own = {self.spec.agency.code} if self.spec.agency is not None else set()
            own |= set(getattr(self.spec.performed_by, "agencies", None) or [])
            if stage.agency is not None and stage.agency in own:
                self.error(("processing", "stages", index, "agency"), f"`agency: {stage.agency}` is an office performing this procedure itself; leave `agency` out (it names another agency, for inter-agency processing)")
            if index and (stage.unit, stage.agency) == (chain.stages[index - 1].unit, chain.stages[index - 1].agency):
                self.warning(("processing", "stages", index, "unit"), f"the stage `{stage.unit}` follows itself; the same unit would give two opinions in a row (merge the two stages)")
        days = [s.days for s in chain.stages] + [chain.approval.days]
        time = self.spec.info.processing_time
        limit = time.max_working_days if time.max_working_days is not None else time.working_days
        total = sum(d for d in days if d)
        if limit and total > limit:
            self.warning(("processing",), f"the stages' `days` add up to {total} working days, longer than the procedure's limit ({limit}); each stage's due date is capped at the dossier's", key=True)

    def check_info(self) -> None:
        info = self.spec.info
        if not info.legal_basis:
            self.warning(("info",), "no `legal_basis`: citizens should see the legal texts this procedure rests on", key=True)
        if not info.steps:
            self.warning(("info",), "no `steps` (trình tự thực hiện): the information page will not say how the procedure goes", key=True)
        time = info.processing_time
        if time.max_working_days is not None and time.max_working_days < time.working_days:
            self.error(("info", "processing_time", "max_working_days"), f"`max_working_days` ({time.max_working_days}) is shorter than `working_days` ({time.working_days}); the longest limit cannot be shorter than the normal one")
        for index, channel in enumerate(self.spec.channels):
            limit = time.max_working_days if time.max_working_days is not None else time.working_days
            if channel.working_days is not None and channel.working_days > limit:
                self.warning(("channels", index, "working_days"), f"the `{channel.kind}` channel takes {channel.working_days} working days, longer than the procedure's limit ({limit})")

    # the level

    def _payment_online(self) -> bool:
        step = self.spec.step("payment")
        if step is None:
            return False
        config: Any = step.config
        cls = (self.steps or {}).get("payment")
        config_model = getattr(cls, "Config", None)
        if isinstance(config_model, type) and issubclass(config_model, BaseModel):
            try:
                config = config_model.model_validate(step.config).model_dump()
            except ValidationError:
                pass  # reported by check_steps
        mode = config.get("mode") if isinstance(config, dict) else None
        if mode is not None:
            return mode in ONLINE_PAYMENT_MODES
        return bool(step.config.get("gateway"))

    def _index(self, items: list[Any], test: Any) -> int:
        return next(i for i, item in enumerate(items) if test(item))

    def check_level(self) -> None:
        spec = self.spec
        level = spec.level
        name = {1: "level 1 (information only)", 2: "level 2 (forms to download)", 3: "level 3 (partial online)", 4: "level 4 (full process online)"}[int(level)]
        channels = {c.kind for c in spec.channels}
        deliveries = {d.kind for d in spec.delivery}
        step_names = {s.name for s in spec.steps}
        charged = any(f.amount > 0 or any(t.amount > 0 for t in f.tiers) for f in spec.fees)
        if level == Level.INFO and spec.form is not None:
            self.error(("form",), f"a {name} procedure has no form; remove `form`, or raise `level` to 2 (printable form) or 3-4 (online form)", key=True)
        if level <= Level.FORMS:
            if "online" in channels:
                i = self._index(spec.channels, lambda c: c.kind == "online")
                self.error(("channels", i, "kind"), f"a {name} procedure is filed in person or by post; the `online` channel needs level 3 or 4")
            if "electronic" in deliveries:
                i = self._index(spec.delivery, lambda d: d.kind == "electronic")
                self.error(("delivery", i, "kind"), f"a {name} procedure has no online dossier, so the result cannot be delivered electronically; electronic delivery needs level 4")
            if "postal" in step_names:
                i = self._index(spec.steps, lambda s: s.name == "postal")
                self.error(("steps", i), f"the `postal` step runs on dossiers filed online, which a {name} procedure has none of; publish postal return under `delivery` instead")
            if not spec.channels:
                self.warning(("level",), f"no `channels`: say how a {name} procedure is filed (desk, postal)")
        if level == Level.FORMS and spec.form is None and not any(a.template for a in spec.attachments):
            self.warning(("level",), f"a {name} procedure offers blank forms to download, but this one has no `form` and no attachment names a `template`")
        if level >= Level.PARTIAL:
            if spec.form is None:
                self.error(("level",), f"a {name} procedure is filed online, so it needs a `form`")
            if "online" not in channels:
                self.error(("channels",) if spec.channels else ("level",), f"a {name} procedure needs the `online` channel (`channels: [{{kind: online}}, ...]`)", key=bool(spec.channels))
            if "postal" in deliveries and "postal" not in step_names:
                i = self._index(spec.delivery, lambda d: d.kind == "postal")
                self.error(("delivery", i, "kind"), "postal delivery is offered but there is no `postal` step to send the result; add `- postal` to `steps`")
            if "postal" in step_names and "postal" not in deliveries:
                i = self._index(spec.steps, lambda s: s.name == "postal")
                self.warning(("steps", i), "there is a `postal` step but `delivery` offers no `postal` option, so no citizen can choose it")
        for i, channel in enumerate(spec.channels):
            if not channel.home_pickup:
                continue
            if channel.kind != "postal":
                self.error(("channels", i, "home_pickup"), f"`home_pickup` belongs to the `postal` channel (the post office collects the papers at home), not to `{channel.kind}`")
            elif level < Level.PARTIAL:
                self.error(("channels", i, "home_pickup"), f"home pickup is chosen on the online form, which a {name} procedure has none of; raise `level` to 3 or 4, or remove `home_pickup`")
            elif "postal" not in step_names:
                self.error(("channels", i, "home_pickup"), "home pickup is offered but there is no `postal` step to book it with the carrier; add `- postal` to `steps`")
        online_payment = self._payment_online()
        if level >= Level.PARTIAL and charged and not online_payment and "postal" in deliveries:
            i = self._index(spec.delivery, lambda d: d.kind == "postal")
            if not spec.delivery[i].cash_on_delivery:
                self.warning(("delivery", i, "cash_on_delivery"), "the fees are paid at the desk, but postal return is offered without `cash_on_delivery`: the result is posted only once the fee is paid, so the citizen would have to come to the desk anyway, which defeats postal return; set `cash_on_delivery: true` (the post office collects the fee on delivery) or take the fee online")
        if level == Level.PARTIAL and online_payment:
            i = self._index(spec.steps, lambda s: s.name == "payment")
            self.error(("steps", i, "config"), f"online payment makes a procedure full process; on a {name} procedure the fee is paid at the desk (set the payment mode to desk, or raise `level` to 4)", key=True)
        if level == Level.FULL:
            if charged and not online_payment:
                if "payment" in step_names:
                    i = self._index(spec.steps, lambda s: s.name == "payment")
                    self.error(("steps", i), f"a {name} procedure charges fees online, but the `payment` step does not take online payment (use `config: {{mode: online}}`)")
                else:
                    self.error(("fees",), f"a {name} procedure charges fees but has no `payment` step, so citizens have no way to pay; add `- name: payment` with `config: {{mode: online}}` to `steps`", key=True)
            if spec.info.presence_required:
                self.error(("info", "presence_required"), f"the procedure requires the applicant in person, so it cannot be {name}; use level 3 (partial)")
            if not deliveries & {"electronic", "postal"}:
                self.error(("delivery",) if spec.delivery else ("level",), f"a {name} procedure returns the result electronically or by post; add an `electronic` or `postal` option to `delivery`", key=bool(spec.delivery))

    # steps

    def check_steps(self) -> None:
        if self.steps is None:
            return
        for index, step in enumerate(self.spec.steps):
            cls = self.steps.get(step.name)
            if cls is None:
                hint = did_you_mean(step.name, self.steps) or f" (installed steps: {', '.join(sorted(self.steps)) or 'none'})"
                self.error(("steps", index), f"unknown step `{step.name}`{hint}")
                continue
            config_model = getattr(cls, "Config", None)
            if not (isinstance(config_model, type) and issubclass(config_model, BaseModel)):
                continue
            try:
                config_model.model_validate(step.config)
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    loc, at_key, message = explain(err, root=config_model)
                    message = message.replace("`the spec`", "the config")
                    self.loaded.at(("steps", index, "config") + loc, "error", f"step `{step.name}`: {message}", key=at_key)


# --- files and folders ----------------------------------------------------------------------


def _sorted(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(set(findings), key=lambda f: (f.path, f.line, f.col, f.severity, f.message))


def lint_file(path: str | Path, steps: dict[str, type] | None = None, *, load_steps: bool = True, agencies: Any = None) -> Loaded:
    """Load and check one spec; never raises. `ok` is true when no error was found.

    `agencies` (a motcua.agencies.AgencyRegistry, passed in so this package stays below the
    domain) checks who performs the spec: every code against the registry."""
    if steps is None and load_steps:
        steps, _ = step_classes()
    try:
        loaded = load_file(path)
        if loaded.spec is not None and loaded.ok:
            Checker(loaded, steps).run()
        if loaded.spec is not None and agencies is not None:
            for loc, severity, message in agencies.lint_spec(loaded.spec):
                if loc[:2] == ("performed_by", "agencies") and not loaded.source.has(loc[:2]):
                    loc = ("performed_by", *loc[2:])  # written as the shorthand list (or one code)
                loaded.at(loc, severity, message)
    except Exception as exc:  # noqa: BLE001 - one broken file must not stop the others
        loaded = Loaded(str(path), None, [Finding(str(path), 1, 1, "error", f"the linter could not check this file ({type(exc).__name__}: {exc}); please report this")])
    loaded.findings = _sorted(loaded.findings)
    return loaded


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """Spec files named, and those under the folders named."""
    from motcua.catalogue import spec_files

    files: list[Path] = []
    for path in map(Path, paths):
        files.extend(spec_files(path) if path.is_dir() else [path])
    return files


def lint_paths(paths: Iterable[str | Path], steps: dict[str, type] | None = None, *, load_steps: bool = True,
               agencies: Any = None) -> list[Loaded]:
    """Lint files and folders, including what spans files: a procedure code used twice."""
    if steps is None and load_steps:
        steps, _ = step_classes()
    results = [lint_file(path, steps, load_steps=False, agencies=agencies) for path in expand(paths)]
    first: dict[str, Loaded] = {}
    for loaded in results:
        if loaded.spec is None:
            continue
        code = loaded.spec.code
        if code in first:
            loaded.at(("code",), "error", f"procedure code {code} is already used by {first[code].path}; each procedure has one spec")
            loaded.findings = _sorted(loaded.findings)
        else:
            first[code] = loaded
    return results
