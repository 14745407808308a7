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
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from pydantic import BaseModel, ValidationError

from motcua.formats import CUSTOM_FORMATS
from motcua.i18n import N_
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
from motcua.spec.form_support import BAD_NAME, unrenderable
from motcua.spec.model import Condition, Level, ProcedureSpec
from motcua.spec.conditions import STEP_FIELDS, computed_cycle, fee_implies, is_legacy
from motcua.spec.redos import backtracking_problem
from motcua.spec.redos import explain as explain_backtracking
from motcua.spec.words import lint_lang, say, speaking

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
TYPE_WORDS = {"object": N_("một ánh xạ"), "array": N_("một danh sách"), "string": N_("một đoạn văn bản"),
              "integer": N_("một số nguyên"), "number": N_("một số"), "boolean": N_("có/không"), "null": "null"}
ONLINE_PAYMENT_MODES = ("online", "gateway")
LEVEL_NAMES = {1: N_("mức độ 1 (chỉ cung cấp thông tin)"), 2: N_("mức độ 2 (tải biểu mẫu)"),
               3: N_("mức độ 3 (trực tuyến một phần)"), 4: N_("mức độ 4 (trực tuyến toàn trình)")}


# --- the step registry (FLOW's) -------------------------------------------------------------


def step_classes() -> tuple[dict[str, type] | None, str]:
    """The registered steps by name, or None and why they could not be loaded."""
    try:
        from motcua.workflow.registry import step_registry
    except ImportError as exc:
        return None, say("không có sổ đăng ký bước ({exc})", exc=exc)
    try:
        found = dict(step_registry())
    except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the linter
        return None, say("nạp các plugin bước bị lỗi: {kind}: {exc}", kind=type(exc).__name__, exc=exc)
    if not found:  # the built-in steps always register: nothing means a broken install
        return None, say("không có bước nào được đăng ký trong nhóm entry-point `motcua.steps` (cài đặt lại bằng `pip install -e .`)")
    return found, ""


# --- JSON Schema helpers --------------------------------------------------------------------


def _keys_not_text(node: Any, loc: Loc) -> Iterator[Loc]:
    """Where a mapping of the form's schema has a key YAML did not read as text."""
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str):
                yield loc + (key,)
            else:
                yield from _keys_not_text(value, loc + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _keys_not_text(value, loc + (i,))


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
        return say("; ý bạn là `{name}`?", name=scored[0][1])
    if head:
        children = [p[len(head) + 1 :] for p in known if p.startswith(head + ".") and "." not in p[len(head) + 1 :]]
        if children:
            return say("; `{head}` có các trường {fields}", head=head, fields=', '.join(f'`{c}`' for c in children))
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
def schema_problems(schema_json: str, lang: str = "vi") -> tuple[tuple[Loc, str], ...]:
    """Where a form schema breaks JSON Schema 2020-12, in words (cached: the metaschema is
    slow to apply and the catalogue checks the same forms at every start); worded in `lang`."""
    found: dict[tuple[Loc, str], None] = {}
    for err in _meta_validator().iter_errors(json.loads(schema_json)):
        path = tuple(err.absolute_path)
        with speaking(lang):
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
        odd = list(_keys_not_text(self.schema, ()))
        for loc in odd:  # YAML reads `1:` or `yes:` as a number or a boolean, never a name
            self.error(self.FIELDS + loc, say(BAD_NAME, name=loc[-1]), key=True)
        if odd:
            return
        problems = schema_problems(json.dumps(self.schema, sort_keys=True, default=str), lint_lang())
        for path, message in problems:
            self.error(self.FIELDS + path, message)
        if problems:
            return
        if self.schema.get("type") != "object" or not isinstance(self.schema.get("properties"), dict) or not self.schema["properties"]:
            self.error(self.FIELDS, say("`form.fields` phải là một lược đồ đối tượng: `type: object` với `properties:` liệt kê các trường của biểu mẫu"))
            return
        self.schema_ok = True
        for loc, message in unrenderable(self.schema):
            self.error(self.FIELDS + loc, message, key=True)
        for loc, sub in subschemas(self.schema):
            for keyword in sub:
                if keyword not in SCHEMA_KEYWORDS and not str(keyword).startswith("x-"):
                    self.warning(self.FIELDS + loc + (keyword,), say("`{keyword}` không phải từ khóa JSON Schema nên không có tác dụng{hint}", keyword=keyword, hint=did_you_mean(keyword, SCHEMA_KEYWORDS)), key=True)
            self._check_backtracking(loc, sub)
            if "x-date" in sub:
                self._check_date_rule(loc, sub)
            fmt = sub.get("format")
            if isinstance(fmt, str) and fmt in WIDGETS.all():
                pass  # a field type a plugin provides (`motcua.widgets`)
            elif isinstance(fmt, str) and fmt not in KNOWN_FORMATS:
                self.warning(self.FIELDS + loc + ("format",), say("định dạng `{fmt}` không được hỗ trợ: giá trị sẽ không được kiểm tra{hint} (các định dạng hỗ trợ: {known})", fmt=fmt, hint=did_you_mean(fmt, KNOWN_FORMATS), known=', '.join(sorted(KNOWN_FORMATS))))
            elif isinstance(fmt, str) and fmt not in FormatChecker.checkers and fmt not in CUSTOM_FORMATS:
                self.warning(self.FIELDS + loc + ("format",), say("định dạng `{fmt}` không được kiểm tra trên máy chủ này (chưa cài thư viện kiểm tra nó)", fmt=fmt))
        self._check_required(self.schema, (), [self.schema])

    def _check_date_rule(self, loc: Loc, sub: dict[str, Any]) -> None:
        """`x-date` (motcua.date_rules): on a date field, bounds that parse, field bounds
        naming another date field of the form."""
        from motcua.date_rules import parse_rule
        from motcua.published_schema import structural

        where = self.FIELDS + loc + ("x-date",)
        if sub.get("format") != "date":
            self.error(where, say("`x-date` chỉ dùng cho trường ngày: thêm `format: date` (hoặc bỏ `x-date`)"))
            return
        try:
            bounds = parse_rule(sub["x-date"])
        except ValueError as exc:
            self.error(where, str(exc))
            return
        message = sub["x-date"].get("message")
        if message is not None and not (isinstance(message, dict) and isinstance(message.get("vi"), str)):
            self.error(where + ("message",), say("`message` có dạng {{vi: ..., en: ...}} (`{{date}}` được thay bằng ngày giới hạn)"))
        dates = {path for path, node in structural(self.schema) if node.get("format") == "date" and "*" not in path}
        for key, bound in bounds.items():
            if not bound.on_today and bound.base not in dates:
                self.error(where + (key,), say("`{base}` không phải trường ngày của biểu mẫu (ngoài các nhóm lặp){hint}", base=bound.base, hint=did_you_mean(bound.base, dates)))

    def _check_backtracking(self, loc: Loc, sub: dict[str, Any]) -> None:
        """Citizens' answers (and object keys) are matched against these on every submit:
        a pattern prone to catastrophic backtracking lets one answer hang the server."""
        pattern = sub.get("pattern")
        if isinstance(pattern, str) and not backtracking_problem(pattern) and re.search(r"(?<!\\)\\[wWbB]", pattern):
            self.warning(self.FIELDS + loc + ("pattern",),
                         say("trong JSON Schema (ECMA-262), `\\w` và `\\b` chỉ khớp chữ cái ASCII, không khớp chữ tiếng Việt: "
                             "hãy viết rõ các chữ cái, ví dụ `[A-Za-zÀ-ỹĐđ]`"))
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
                self.error(self.FIELDS + loc + ("patternProperties", key), say("`{where}`, khóa `{key}`: {problem}", where=where, key=key, problem=explain_backtracking(problem)), key=True)

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
                self.error(self.FIELDS + loc + ("required", index), say("`required` liệt kê `{name}`, nhưng đó không phải thuộc tính của đối tượng này{hint}", name=name, hint=did_you_mean(name, props)))
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
            return say("`{where}`: `{bad}` không phải kiểu JSON Schema; hãy dùng một trong các kiểu {types}{hint}",
                       where=where, bad=bad, types=', '.join(TYPE_WORDS), hint=did_you_mean(bad, TYPE_WORDS))
        if err.validator == "type":
            wanted = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
            words = say(" hoặc ").join(say(TYPE_WORDS[w]) if w in TYPE_WORDS else w for w in wanted if w != "boolean" or len(wanted) == 1)
            if not path:
                return say("`form.fields` phải là một JSON Schema (ánh xạ có `type: object` và `properties:`), nhưng giá trị là {value}", value=describe_value(err.instance))
            return say("`{where}` không phải JSON Schema hợp lệ: `{keyword}` phải là {words}, nhưng giá trị là {value}", where=where, keyword=keyword, words=words, value=describe_value(err.instance))
        if err.validator == "format" and err.validator_value == "regex":
            return say("`{where}` không phải biểu thức chính quy hợp lệ", where=where)
        return say("`{where}` không phải JSON Schema hợp lệ: {detail}", where=where, detail=err.message)

    def _field_ref(self, loc: Loc, path: str, what: str, *, key: bool = False) -> Any:
        """The schema of a field a spec refers to, or an error at `loc` when it does not exist."""
        if self.schema is None:
            self.error(loc, say("{what} dẫn chiếu trường `{path}`, nhưng thủ tục này không có `form`", what=what, path=path), key=key)
            return None
        if not self.schema_ok:
            return None
        found = field_at(self.schema, path)
        if found is None:
            hint = field_hint(path, all_field_paths(self.schema))
            self.error(loc, say("{what} dẫn chiếu trường `{path}`, trường này không có trong `form.fields`{hint}", what=what, path=path, hint=hint), key=key)
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
                        self.warning(("form", "ui", path, "enum_labels", value), say("`form.ui.{path}` có nhãn cho `{value}`, nhưng đó không phải một giá trị của trường ({values})", path=path, value=value, values=', '.join(enum) or say("trường không có `enum`")), key=True)
        for role, path in form.contact.model_dump(exclude_none=True).items():
            self._field_ref(("form", "contact", role), path, f"`form.contact.{role}`")
        self.check_prefill()
        top = properties_of(self.schema, self.schema)
        placed: dict[str, str] = {}
        for p_index, page in enumerate(form.pages):
            for f_index, name in enumerate(page.fields):
                loc = ("form", "pages", p_index, "fields", f_index)
                if name not in top:
                    hint = did_you_mean(name, top) or (say(" (trang liệt kê các trường cấp cao nhất; trang hiển thị cả nhóm)") if "." in name else "")
                    self.error(loc, say("trang `{page}` liệt kê trường `{name}`, nhưng đó không phải trường cấp cao nhất trong `form.fields`{hint}", page=page.id, name=name, hint=hint))
                elif name in placed:
                    self.error(loc, say("trường `{name}` nằm trên hai trang: `{first}` và `{second}`", name=name, first=placed[name], second=page.id))
                else:
                    placed[name] = page.id
        if form.pages:
            required = set(self.schema.get("required") or [])
            for name in top:
                if name not in placed:
                    if name in required:
                        self.error(("form", "pages"), say("trường bắt buộc `{name}` không nằm trên trang nào nên biểu mẫu không bao giờ gửi được; hãy thêm nó vào một trang", name=name))
                    else:
                        self.warning(("form", "pages"), say("trường `{name}` không nằm trên trang nào nên công dân không bao giờ thấy nó", name=name))

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
                self.error(loc, say("`form.prefill.{path}` dùng thông tin định danh `{claim}`, nhưng không nhà cung cấp định danh nào trả về thông tin này{hint}; các thông tin có sẵn: {known}", path=path, claim=rule.claim, hint=hint, known=', '.join(CLAIMS)))

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
                        self.warning(loc + ("field",), say("{what} so sánh `{field}` với `{value}`, giá trị mà trường không bao giờ nhận (các giá trị của trường: {values})", what=what, field=condition.field, value=value, values=', '.join(map(str, enum))))
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
            self.error(loc, say("{what} đọc `{path}`, nhưng `{item}.` chỉ phần tử hiện tại của một nhóm lặp mà điều kiện này không nằm trong nhóm lặp nào (`items`); hãy đọc theo đường dẫn của câu trả lời", what=what, path=path, item=ITEM))
            return None
        rest = path[len(ITEM) + 1:]
        found = field_at(item, rest) if rest else item
        if found is None and self.schema_ok:
            hint = field_hint(path, [f"{ITEM}.{p}" for p in all_field_paths(item)])
            self.error(loc, say("{what} đọc `{path}`, nhưng đó không phải trường của phần tử nhóm lặp{hint}", what=what, path=path, hint=hint))
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
                self.error(loc, say("{what} không phải JSON Logic, cũng không theo dạng cũ `{{field, equals}}`: {detail}", what=what, detail=first['msg']))
                return
        if is_legacy(logic):  # the older shape written in a field's `x-show-when`
            self._condition(Condition.model_validate(logic), loc, what, item=item, extra=extra)
            return
        for op in operators_of(logic):
            if op not in OPERATORS:
                # `=>` / `=<` are `>=` / `<=` written backwards: the transposition wins ties
                close = sorted((OSA.distance(op, known), known != op[::-1], known) for known in OPERATORS)
                close = [(d, k) for d, _, k in close]
                hint = say("; ý bạn là `{name}`?", name=close[0][1]) if close and close[0][0] <= max(1, len(op) // 3) else ""
                self.error(loc, say("{what} dùng `{op}`, đây không phải toán tử JSON Logic{hint} (jsonlogic.com/operations.html; một điều kiện gồm một toán tử và danh sách đối số của nó: `{example}`)", what=what, op=op, hint=hint, example='{">": [{var: days_since_birth}, 60]}'))
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
                hint = say("; trong nhóm lặp, các trường của chính phần tử được đọc là `{item}.<tên>`: ý bạn là `{item}.{path}`?", item=ITEM, path=path)
            self.error(loc, say("{what} đọc `{path}`, nhưng đó không phải trường của `form.fields` cũng không phải giá trị tính toán{hint}", what=what, path=path, hint=hint))

    def check_computed(self) -> None:
        """Each computed value names a field of the right kind and no top-level field."""
        top = set((self.schema or {}).get("properties") or {}) if isinstance(self.schema, dict) else set()
        for name, definition in self.spec.computed.items():
            loc: Loc = ("computed", name)
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                self.error(loc, say("giá trị tính toán `{name}`: tên chỉ gồm chữ thường, chữ số và `_`", name=name), key=True)
            if name in top:
                self.error(loc, say("giá trị tính toán `{name}` trùng tên một trường: các điều kiện không phân biệt được hai thứ; hãy đổi tên", name=name), key=True)
            for kind, want in (("age", "date"), ("days_since", "date"), ("count", "list")):
                path = getattr(definition, kind)
                if path is None:
                    continue
                found = self._field_ref(loc + (kind,), path, say("giá trị tính toán `{name}`", name=name))
                if isinstance(found, dict):
                    ok = found.get("format") == "date" if want == "date" else "array" in field_types(self.schema, found)
                    if not ok:
                        self.error(loc + (kind,), (say("giá trị tính toán `{name}`: `{kind}` cần một trường ngày, nhưng `{path}` không phải trường ngày", name=name, kind=kind, path=path) if want == "date" else say("giá trị tính toán `{name}`: `{kind}` cần một trường danh sách, nhưng `{path}` không phải trường danh sách", name=name, kind=kind, path=path)))
            if definition.logic is not None:
                self._logic(definition.logic, loc + ("logic",), say("giá trị tính toán `{name}`", name=name))
        cycle = computed_cycle(self.spec.computed)
        if cycle:
            self.error(("computed", cycle[0]), say("giá trị tính toán `{name}` đọc chính nó ({cycle}): một giá trị không thể tính từ chính nó; hãy cho một trong số đó đọc câu trả lời",
                           name=cycle[0], cycle=' -> '.join(cycle)), key=True)

    def check_field_conditions(self) -> None:
        """Each field's `x-show-when` (shown, and required when listed in `required`, only
        while it holds) is a condition like the others."""
        def walk(node: Any, loc: Loc, path: str, item: Any) -> None:
            if not isinstance(node, dict):
                return
            if "x-show-when" in node:
                self._condition(node["x-show-when"], loc + ("x-show-when",), say("`x-show-when` của trường `{path}`", path=path), item=item)
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
            self._condition(attachment.required_when, ("attachments", index, "required_when"), say("điều kiện của giấy tờ `{id}`", id=attachment.id))
        for index, step in enumerate(self.spec.steps):
            self._condition(step.when, ("steps", index, "when"), say("`when` của bước `{name}`", name=step.name), extra=STEP_FIELDS)
        self.check_payment_condition()
        for index, fee in enumerate(self.spec.fees):
            self._condition(fee.when, ("fees", index, "when"), say("điều kiện của lệ phí `{id}`", id=fee.id))
            self._condition(fee.exempt_when, ("fees", index, "exempt_when"), say("điều kiện miễn lệ phí `{id}`", id=fee.id))
            if fee.quantity_field:
                found = self._field_ref(("fees", index, "quantity_field"), fee.quantity_field, say("`quantity_field` của lệ phí `{id}`", id=fee.id))
                if found is not None and self.schema is not None and not field_types(self.schema, found) & {"integer", "number"}:
                    self.error(("fees", index, "quantity_field"), say("`quantity_field` của lệ phí `{id}` phải là một trường số, nhưng `{field}` không có `type: integer`", id=fee.id, field=fee.quantity_field))
                elif isinstance(found, dict) and not any("maximum" in branch for branch in _branches(self.schema, found)):
                    self.warning(("fees", index, "quantity_field"), say("`quantity_field` của lệ phí `{id}` là `{field}`, trường này không có `maximum`; hãy đặt giới hạn (nếu không, lệ phí chỉ tính tối đa 10000 đơn vị)", id=fee.id, field=fee.quantity_field))

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
                self.error(("steps", index, "when"), say("`when` của bước `payment` phải đúng mỗi khi có lệ phí phải nộp, nếu không hồ sơ có thể bỏ qua việc thanh toán; "
                               "hãy viết `{example}` (có thể kết hợp `or` với điều kiện khác)", example='{">": [{"var": "_fee_total"}, 0]}'))
            elif "review" in names[index + 1:]:
                self.warning(("steps", index, "when"), say("bước `payment` có `when` và đứng trước `review`: hồ sơ không phải nộp gì lúc nộp sẽ bỏ qua bước này, "
                                 "và nếu việc bổ sung hồ sơ làm tăng lệ phí thì chỉ khi đó mới yêu cầu thanh toán; "
                                 "hãy đặt bước `payment` có điều kiện sau `review`"))

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
                    self.error(loc + (index, key), say("`{label}` có `{key}: {value}` hai lần; mỗi giá trị phải khác nhau", label=label, key=key, value=value))
                seen.add(value)
        for name, count in Counter(s.name for s in self.spec.steps).items():
            if count > 1:
                index = [s.name for s in self.spec.steps].index(name, [s.name for s in self.spec.steps].index(name) + 1)
                self.warning(("steps", index), say("bước `{name}` xuất hiện {count} lần; bước này sẽ chạy mỗi lần", name=name, count=count))

    def check_processing(self) -> None:
        """The processing chain (`processing`): possible to run, and no longer than the time limit."""
        chain = self.spec.processing
        if chain is None:
            return
        if self.spec.level == 1:
            self.error(("processing",), say("thủ tục mức độ 1 (chỉ cung cấp thông tin) không nhận hồ sơ nên không có gì để xử lý; hãy bỏ `processing`"), key=True)
        for index, stage in enumerate(chain.stages):
            own = {self.spec.agency.code} if self.spec.agency is not None else set()
            own |= set(getattr(self.spec.performed_by, "agencies", None) or [])
            if stage.agency is not None and stage.agency in own:
                self.error(("processing", "stages", index, "agency"), say("`agency: {agency}` là cơ quan tự thực hiện thủ tục này; hãy bỏ `agency` (khóa này chỉ cơ quan khác, dùng cho xử lý liên thông)", agency=stage.agency))
            if index and (stage.unit, stage.agency) == (chain.stages[index - 1].unit, chain.stages[index - 1].agency):
                self.warning(("processing", "stages", index, "unit"), say("công đoạn `{unit}` lặp lại liền nhau; cùng một đơn vị sẽ cho ý kiến hai lần liên tiếp (hãy gộp hai công đoạn)", unit=stage.unit))
        days = [s.days for s in chain.stages] + [chain.approval.days]
        time = self.spec.info.processing_time
        limit = time.max_working_days if time.max_working_days is not None else time.working_days
        total = sum(d for d in days if d)
        if limit and total > limit:
            self.warning(("processing",), say("tổng `days` của các công đoạn là {total} ngày làm việc, dài hơn thời hạn của thủ tục ({limit}); hạn của mỗi công đoạn sẽ bị giới hạn theo hạn của hồ sơ", total=total, limit=limit), key=True)

    def check_info(self) -> None:
        info = self.spec.info
        if not info.legal_basis:
            self.warning(("info",), say("thiếu `legal_basis`: công dân cần thấy các văn bản pháp luật làm căn cứ cho thủ tục này"), key=True)
        if not info.steps:
            self.warning(("info",), say("thiếu `steps` (trình tự thực hiện): trang thông tin sẽ không cho biết thủ tục diễn ra thế nào"), key=True)
        time = info.processing_time
        if time.max_working_days is not None and time.max_working_days < time.working_days:
            self.error(("info", "processing_time", "max_working_days"), say("`max_working_days` ({longest}) ngắn hơn `working_days` ({normal}); thời hạn dài nhất không thể ngắn hơn thời hạn thông thường", longest=time.max_working_days, normal=time.working_days))
        for index, channel in enumerate(self.spec.channels):
            limit = time.max_working_days if time.max_working_days is not None else time.working_days
            if channel.working_days is not None and channel.working_days > limit:
                self.warning(("channels", index, "working_days"), say("kênh `{kind}` mất {days} ngày làm việc, dài hơn thời hạn của thủ tục ({limit})", kind=channel.kind, days=channel.working_days, limit=limit))

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
        name = say(LEVEL_NAMES[int(level)])
        channels = {c.kind for c in spec.channels}
        deliveries = {d.kind for d in spec.delivery}
        step_names = {s.name for s in spec.steps}
        charged = any(f.amount > 0 or any(t.amount > 0 for t in f.tiers) for f in spec.fees)
        if level == Level.INFO and spec.form is not None:
            self.error(("form",), say("thủ tục {name} không có biểu mẫu; hãy bỏ `form`, hoặc nâng `level` lên 2 (biểu mẫu để in) hoặc 3-4 (biểu mẫu trực tuyến)", name=name), key=True)
        if level <= Level.FORMS:
            if "online" in channels:
                i = self._index(spec.channels, lambda c: c.kind == "online")
                self.error(("channels", i, "kind"), say("thủ tục {name} được nộp trực tiếp hoặc qua bưu chính; kênh `online` cần mức độ 3 hoặc 4", name=name))
            if "electronic" in deliveries:
                i = self._index(spec.delivery, lambda d: d.kind == "electronic")
                self.error(("delivery", i, "kind"), say("thủ tục {name} không có hồ sơ trực tuyến nên không thể trả kết quả điện tử; trả kết quả điện tử cần mức độ 4", name=name))
            if "postal" in step_names:
                i = self._index(spec.steps, lambda s: s.name == "postal")
                self.error(("steps", i), say("bước `postal` chạy trên hồ sơ nộp trực tuyến, mà thủ tục {name} không có; hãy công bố việc trả kết quả qua bưu chính trong `delivery`", name=name))
            if not spec.channels:
                self.warning(("level",), say("thiếu `channels`: hãy nêu cách nộp hồ sơ của thủ tục {name} (trực tiếp, bưu chính)", name=name))
        if level == Level.FORMS and spec.form is None and not any(a.template for a in spec.attachments):
            self.warning(("level",), say("thủ tục {name} cung cấp mẫu đơn để tải về, nhưng thủ tục này không có `form` và không giấy tờ nào có `template`", name=name))
        if level >= Level.PARTIAL:
            if spec.form is None:
                self.error(("level",), say("thủ tục {name} được nộp trực tuyến nên cần có `form`", name=name))
            if "online" not in channels:
                self.error(("channels",) if spec.channels else ("level",), say("thủ tục {name} cần có kênh `online` (`channels: [{{kind: online}}, ...]`)", name=name), key=bool(spec.channels))
            if "postal" in deliveries and "postal" not in step_names:
                i = self._index(spec.delivery, lambda d: d.kind == "postal")
                self.error(("delivery", i, "kind"), say("có trả kết quả qua bưu chính nhưng không có bước `postal` để gửi kết quả; hãy thêm `- postal` vào `steps`"))
            if "postal" in step_names and "postal" not in deliveries:
                i = self._index(spec.steps, lambda s: s.name == "postal")
                self.warning(("steps", i), say("có bước `postal` nhưng `delivery` không có lựa chọn `postal`, nên không công dân nào chọn được"))
        for i, channel in enumerate(spec.channels):
            if not channel.home_pickup:
                continue
            if channel.kind != "postal":
                self.error(("channels", i, "home_pickup"), say("`home_pickup` thuộc kênh `postal` (bưu điện đến nhà nhận giấy tờ), không thuộc kênh `{kind}`", kind=channel.kind))
            elif level < Level.PARTIAL:
                self.error(("channels", i, "home_pickup"), say("việc nhận hồ sơ tại nhà được chọn trên biểu mẫu trực tuyến, mà thủ tục {name} không có; hãy nâng `level` lên 3 hoặc 4, hoặc bỏ `home_pickup`", name=name))
            elif "postal" not in step_names:
                self.error(("channels", i, "home_pickup"), say("có nhận hồ sơ tại nhà nhưng không có bước `postal` để đặt lịch với đơn vị bưu chính; hãy thêm `- postal` vào `steps`"))
        online_payment = self._payment_online()
        if level >= Level.PARTIAL and charged and not online_payment and "postal" in deliveries:
            i = self._index(spec.delivery, lambda d: d.kind == "postal")
            if not spec.delivery[i].cash_on_delivery:
                self.warning(("delivery", i, "cash_on_delivery"), say("lệ phí nộp tại quầy, nhưng trả kết quả qua bưu chính lại không có `cash_on_delivery`: kết quả chỉ được gửi khi đã nộp lệ phí, nên công dân vẫn phải đến quầy, mất ý nghĩa của việc trả qua bưu chính; hãy đặt `cash_on_delivery: true` (bưu điện thu lệ phí khi giao) hoặc thu lệ phí trực tuyến"))
        if level == Level.PARTIAL and online_payment:
            i = self._index(spec.steps, lambda s: s.name == "payment")
            self.error(("steps", i, "config"), say("thanh toán trực tuyến làm thủ tục thành toàn trình; ở thủ tục {name}, lệ phí được nộp tại quầy (đặt hình thức thanh toán là tại quầy, hoặc nâng `level` lên 4)", name=name), key=True)
        if level == Level.FULL:
            if charged and not online_payment:
                if "payment" in step_names:
                    i = self._index(spec.steps, lambda s: s.name == "payment")
                    self.error(("steps", i), say("thủ tục {name} thu lệ phí trực tuyến, nhưng bước `payment` không nhận thanh toán trực tuyến (dùng `config: {{mode: online}}`)", name=name))
                else:
                    self.error(("fees",), say("thủ tục {name} có thu lệ phí nhưng không có bước `payment`, nên công dân không có cách nào để thanh toán; hãy thêm `- name: payment` với `config: {{mode: online}}` vào `steps`", name=name), key=True)
            if spec.info.presence_required:
                self.error(("info", "presence_required"), say("thủ tục yêu cầu người nộp có mặt trực tiếp nên không thể là {name}; hãy dùng mức độ 3 (một phần)", name=name))
            if not deliveries & {"electronic", "postal"}:
                self.error(("delivery",) if spec.delivery else ("level",), say("thủ tục {name} trả kết quả điện tử hoặc qua bưu chính; hãy thêm lựa chọn `electronic` hoặc `postal` vào `delivery`", name=name), key=bool(spec.delivery))

    # steps

    def check_steps(self) -> None:
        if self.steps is None:
            return
        for index, step in enumerate(self.spec.steps):
            cls = self.steps.get(step.name)
            if cls is None:
                hint = did_you_mean(step.name, self.steps) or say(" (các bước đã cài: {steps})", steps=', '.join(sorted(self.steps)) or say("không có"))
                self.error(("steps", index), say("không có bước `{name}`{hint}", name=step.name, hint=hint))
                continue
            config_model = getattr(cls, "Config", None)
            if not (isinstance(config_model, type) and issubclass(config_model, BaseModel)):
                continue
            try:
                config_model.model_validate(step.config)
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    loc, at_key, message = explain(err, root=config_model)
                    self.loaded.at(("steps", index, "config") + loc, "error", say("bước `{name}`: {message}", name=step.name, message=message), key=at_key)


# --- files and folders ----------------------------------------------------------------------


def _sorted(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(set(findings), key=lambda f: (f.path, f.line, f.col, f.severity, f.message))


def lint_file(path: str | Path, steps: dict[str, type] | None = None, *, load_steps: bool = True, agencies: Any = None,
              lang: str | None = None) -> Loaded:
    """Load and check one spec; never raises. `ok` is true when no error was found.

    `agencies` (a motcua.agencies.AgencyRegistry, passed in so this package stays below the
    domain) checks who performs the spec: every code against the registry. Findings are
    worded in `lang` (vi, en), by default in the language of the enclosing lint call, else
    Vietnamese."""
    with speaking(lang or lint_lang()):
        return _lint_file(path, steps, load_steps=load_steps, agencies=agencies)


def _lint_file(path: str | Path, steps: dict[str, type] | None, *, load_steps: bool, agencies: Any) -> Loaded:
    if steps is None and load_steps:
        steps, _why = step_classes()
    try:
        loaded = load_file(path)
        if loaded.spec is not None and loaded.ok:
            Checker(loaded, steps).run()
        if loaded.spec is not None and agencies is not None:
            for loc, severity, message in agencies.lint_spec(loaded.spec):
                if loc[:2] == ("performed_by", "agencies") and not loaded.source.has(loc[:2]):
                    loc = ("performed_by", *loc[2:])  # written as the shorthand list (or one code)
                loaded.at(loc, severity, message)
            _lint_offices(loaded, steps, agencies)
    except Exception as exc:  # noqa: BLE001 - one broken file must not stop the others
        loaded = Loaded(str(path), None, [Finding(str(path), 1, 1, "error", say("trình kiểm tra không kiểm tra được tệp này ({kind}: {exc}); vui lòng báo lỗi này", kind=type(exc).__name__, exc=exc))])
    loaded.findings = _sorted(loaded.findings)
    return loaded


def _lint_offices(loaded: Loaded, steps: dict[str, type] | None, agencies: Any) -> None:
    """A step that cannot serve some of the spec's offices (`Step.office_refusal`: a carrier
    needing a desk phone the registry and the step's config lack) is warned about here, before
    a citizen of such an office asks for it; the form offers no home pickup there meanwhile."""
    if steps is None or loaded.spec is None:
        return
    offices = agencies.performers_of(loaded.spec)
    for index, ref in enumerate(loaded.spec.steps):
        cls = steps.get(ref.name)
        hook = getattr(cls, "office_refusal", None)
        if hook is None:
            continue
        try:
            config = cls.Config.model_validate(ref.config)
        except (ValidationError, AttributeError):
            continue  # reported by check_steps
        refused = [(a.code, why) for a in offices if (why := hook(config, None, a, a.code, lint_lang()))]
        if refused:
            others = ", ".join(code for code, _ in refused[1:6]) + (" …" if len(refused) > 6 else "")
            loaded.at(("steps", index), "warning",
                      say("bước `{name}` không phục vụ được {n}/{total} cơ quan thực hiện (không nhận hồ sơ thu gom tại nhà, "
                          "không gửi kết quả qua bưu chính ở đó): {why}", name=ref.name, n=len(refused), total=len(offices),
                          why=refused[0][1]) + (say(" (cả {codes})", codes=others) if others else ""))


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """Spec files named, and those under the folders named."""
    from motcua.catalogue import spec_files

    files: list[Path] = []
    for path in map(Path, paths):
        files.extend(spec_files(path) if path.is_dir() else [path])
    return files


def lint_paths(paths: Iterable[str | Path], steps: dict[str, type] | None = None, *, load_steps: bool = True,
               agencies: Any = None, lang: str | None = None) -> list[Loaded]:
    """Lint files and folders, including what spans files: a procedure code used twice."""
    with speaking(lang or lint_lang()):
        return _lint_paths(paths, steps, load_steps=load_steps, agencies=agencies)


def _lint_paths(paths: Iterable[str | Path], steps: dict[str, type] | None, *, load_steps: bool, agencies: Any) -> list[Loaded]:
    if steps is None and load_steps:
        steps, _why = step_classes()
    results = [lint_file(path, steps, load_steps=False, agencies=agencies) for path in expand(paths)]
    first: dict[str, Loaded] = {}
    for loaded in results:
        if loaded.spec is None:
            continue
        code = loaded.spec.code
        if code in first:
            loaded.at(("code",), "error", say("mã thủ tục {code} đã được dùng ở {path}; mỗi thủ tục chỉ có một đặc tả", code=code, path=first[code].path))
            loaded.findings = _sorted(loaded.findings)
        else:
            first[code] = loaded
    return results
