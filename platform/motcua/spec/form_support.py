"""The part of JSON Schema 2020-12 a spec's form may use: one list, read by the linter (which
refuses the rest with what to write instead), the editor schema (`motcua schema`, which
completes only these keywords under `form.fields`) and the renderers (`if_condition` is the
one shape of `if` the browser script can evaluate).

Why a subset: the form is drawn from the schema field by field (`motcua_renderers.form`) and its
conditional fields are shown and hidden by /static/renderers/form.js. A keyword outside this
list is valid JSON Schema that the server would check but the form could not show: a `$ref`
field rendered as one text box, a `oneOf` choice of sub-forms never drawn, a `not` or
`pattern` condition never evaluated in the browser. Such a form could never be filed, so the
linter refuses it instead (docs/specs.md, "What a form may use").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from motcua.i18n import N_
from motcua.spec.words import say, word

Loc = tuple[Any, ...]

TYPES = ["object", "array", "string", "integer", "number", "boolean", "null"]
FIELD: dict[str, Any] = {"$ref": "#/$defs/FormField"}
#: A text shown to people: a string (Vietnamese) or {vi, en}.
TEXT: dict[str, Any] = {"$ref": "#/$defs/FormText"}
_COUNT = {"type": "integer", "minimum": 0}
_NUMBER = {"type": "number"}
_NAMES = {"type": "array", "items": {"type": "string"}}

#: The condition shape the browser script evaluates (see `if_condition`).
CONDITION: dict[str, Any] = {
    "type": "object",
    "description": "Shows/requires the `then` fields when every named field of this object has the value: "
    "`{properties: {has_father: {const: true}}}` or `{enum: [...]}`",
    "required": ["properties"],
    "properties": {
        "properties": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "properties": {"const": {}, "enum": {"type": "array", "minItems": 1}},
                "additionalProperties": False,
                "minProperties": 1,
                "maxProperties": 1,
            },
        },
        "required": _NAMES,
    },
    "additionalProperties": False,
}

#: Every keyword a form field may use, with the JSON Schema of its value in a spec.
SUPPORTED: dict[str, dict[str, Any]] = {
    "type": {"anyOf": [{"enum": TYPES}, {"type": "array", "items": {"enum": TYPES}, "maxItems": 2, "contains": {"const": "null"}}]},
    "title": TEXT,
    "description": TEXT,
    "$comment": {"type": "string"},
    "$schema": {"type": "string"},
    # a name the form can write as a field's place (`a.b`, `*` for every item): `unrenderable`
    "properties": {"type": "object", "additionalProperties": FIELD, "propertyNames": {"pattern": "^[^.*]+$"}},
    "required": _NAMES,
    "enum": {"type": "array", "minItems": 1},
    "const": {},
    "default": {},
    "examples": {"type": "array"},
    "deprecated": {"type": "boolean"},
    "format": {"type": "string"},
    "pattern": {"type": "string", "format": "regex"},
    "minLength": _COUNT,
    "maxLength": _COUNT,
    "minItems": _COUNT,
    "maxItems": _COUNT,
    "uniqueItems": {"type": "boolean"},
    "minimum": _NUMBER,
    "maximum": _NUMBER,
    "exclusiveMinimum": _NUMBER,
    "exclusiveMaximum": _NUMBER,
    "multipleOf": {"type": "number", "exclusiveMinimum": 0},
    "items": FIELD,
    "additionalProperties": {"const": False, "description": "Only `false` (no answers but the listed fields)"},
    "if": {"$ref": "#/$defs/FormCondition"},
    "then": FIELD,
    "else": FIELD,
    "allOf": {
        "type": "array",
        "description": "Several `if`/`then`/`else` rules on one object",
        "items": {
            "type": "object",
            "properties": {"if": {"$ref": "#/$defs/FormCondition"}, "then": FIELD, "else": FIELD, "$comment": {"type": "string"}},
            "required": ["if"],
            "additionalProperties": False,
        },
    },
    "oneOf": {
        "type": "array",
        "description": "A choice of values, each `{const: value}` (like `enum`)",
        "items": {"type": "object", "required": ["const"], "properties": {"const": {}, "title": TEXT}, "additionalProperties": False},
    },
}

#: A field name the form cannot use (`motcua.spec.lint` says it of names YAML read as numbers too).
BAD_NAME = N_("tên trường `{name}` không dùng được trên biểu mẫu: biểu mẫu ghép tên các trường bằng dấu chấm "
              "(`nguoi_yeu_cau.ho_ten`) và dùng `*` cho mọi mục của danh sách; hãy đặt tên gồm chữ, số và dấu gạch dưới (`noi_o`)")
_ONLY_PROPERTIES = N_("biểu mẫu chỉ hiển thị các trường liệt kê dưới `properties`: hãy liệt kê từng trường ở đó theo tên")
_ONE_ITEM = N_("các phần tử của một nhóm lặp có chung một lược đồ: hãy viết `items: {type: object, properties: {...}}`")
_IF_SHAPE = N_(
    "trình duyệt chỉ ẩn/hiện trường theo điều kiện dạng `if: {properties: {field: {const: value}}}` "
    "(hoặc `{enum: [values]}`; nếu nhiều trường thì tất cả phải khớp), trên các trường của chính đối tượng này"
)
_NO_REFS = N_("biểu mẫu không theo được tham chiếu: hãy viết lược đồ của trường ngay tại chỗ")
_NO_DEFS = N_("`$defs` và `definitions` chỉ phục vụ `$ref`, mà biểu mẫu không theo được: hãy viết lược đồ của từng trường ngay tại chỗ (anchor YAML `&name` / `*name` lặp lại một khối)")
_COUNT_ITEMS = N_("các phần tử của một nhóm lặp có chung một lược đồ: hãy viết `items: {type: object, properties: {...}}`; đếm số phần tử bằng `minItems`/`maxItems`")
_NO_FILES = N_("tệp không phải là trường của biểu mẫu: hãy khai báo giấy tờ dưới `attachments` (kèm `accept`)")
#: Keywords of JSON Schema 2020-12 the form cannot show, with what to write instead (Vietnamese
#: msgids, translated where shown: `word(UNSUPPORTED[keyword])`).
UNSUPPORTED: dict[str, str] = {
    "$ref": N_("biểu mẫu không theo được `$ref` (trường sẽ thành một ô văn bản không ai điền được): hãy viết lược đồ của trường ngay tại chỗ; để lặp lại một khối, đặt anchor YAML ở khối đầu (`mother: &person {...}`) và `father: *person` ở khối sau"),
    "$defs": _NO_DEFS,
    "definitions": _NO_DEFS,
    "$id": N_("biểu mẫu không có `$id`: hãy bỏ khóa này"),
    "$anchor": _NO_REFS,
    "$dynamicRef": _NO_REFS,
    "$dynamicAnchor": _NO_REFS,
    "$vocabulary": N_("biểu mẫu không có `$vocabulary`: hãy bỏ khóa này"),
    "anyOf": N_("biểu mẫu vẽ một bộ trường, không phải một lựa chọn giữa các lược đồ: để chọn giá trị, dùng `enum` (nhãn đặt dưới `ui.<path>.enum_labels`); với các trường phụ thuộc vào một câu trả lời, dùng `if: {properties: {answer: {const: value}}}` với `then: {required: [field]}`"),
    "oneOf": N_("biểu mẫu vẽ một bộ trường, không phải một lựa chọn giữa các lược đồ: để chọn giá trị, chỉ dùng `enum` hoặc `oneOf` gồm các `{const: value}`; với các trường phụ thuộc vào một câu trả lời, dùng `if: {properties: {answer: {const: value}}}` với `then: {required: [field]}`"),
    "not": N_("trình duyệt không đánh giá được `not`: hãy liệt kê các giá trị được phép bằng `enum`, hoặc viết quy tắc dưới dạng `if`/`then`/`else`"),
    "dependentRequired": N_("hãy viết thành `if: {properties: {field: {const: value}}}` với `then: {required: [other]}`"),
    "dependentSchemas": N_("hãy viết thành `if: {properties: {field: {const: value}}}` với `then: {...}`"),
    "patternProperties": _ONLY_PROPERTIES,
    "propertyNames": _ONLY_PROPERTIES,
    "unevaluatedProperties": N_("biểu mẫu chỉ hiển thị các trường liệt kê dưới `properties`: hãy liệt kê từng trường ở đó theo tên (`additionalProperties: false` đóng một đối tượng)"),
    "minProperties": N_("biểu mẫu chỉ hiển thị các trường liệt kê dưới `properties`: hãy liệt kê từng trường ở đó theo tên; đặt các trường cần thiết vào `required`"),
    "maxProperties": _ONLY_PROPERTIES,
    "prefixItems": _ONE_ITEM,
    "contains": _COUNT_ITEMS,
    "minContains": _COUNT_ITEMS,
    "maxContains": _COUNT_ITEMS,
    "unevaluatedItems": _ONE_ITEM,
    "contentEncoding": _NO_FILES,
    "contentMediaType": _NO_FILES,
    "contentSchema": _NO_FILES,
    "readOnly": N_("biểu mẫu không có trường chỉ đọc: hãy bỏ khóa này (giá trị mà công dân không được sửa thì không phải trường của biểu mẫu)"),
    "writeOnly": N_("biểu mẫu không có trường chỉ ghi: hãy bỏ khóa này"),
}


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def if_condition(if_schema: Any, prefix: str) -> dict[str, Any] | None:
    """The `if` as the browser evaluates it, in the spec's Condition shape
    (`{"field": "child.sex", "equals": "nam"}`), or None when it is not of the one
    supported shape: `properties` of this object, each `{const}` or `{enum}`."""
    if not isinstance(if_schema, dict):
        return None
    props = if_schema.get("properties")
    if not isinstance(props, dict) or not props or set(if_schema) - {"properties", "required"}:
        return None
    tests: list[dict[str, Any]] = []
    for name, test in props.items():
        if not isinstance(test, dict) or len(test) != 1:
            return None
        path = _join(prefix, name)
        if "const" in test:
            tests.append({"field": path, "equals": test["const"]})
        elif isinstance(test.get("enum"), list):
            tests.append({"field": path, "in": list(test["enum"])})
        else:
            return None
    return tests[0] if len(tests) == 1 else {"all": tests}


def _choice_list(value: Any) -> bool:
    """`oneOf: [{const: a, title: ...}, ...]`: a choice of values, which the form draws."""
    return isinstance(value, list) and bool(value) and all(
        isinstance(o, dict) and "const" in o and set(o) <= {"const", "title"} for o in value
    )


def unrenderable(schema: Any) -> list[tuple[Loc, str]]:
    """Where a form's JSON Schema uses what the form cannot show: (location of the keyword
    under `form.fields`, what to write instead)."""
    return list(_walk(schema, ()))


def _walk(node: Any, loc: Loc, branch_of: dict[str, Any] | None = None) -> Iterator[tuple[Loc, str]]:
    if not isinstance(node, dict):
        return
    for keyword, value in node.items():
        here = loc + (keyword,)
        if keyword in UNSUPPORTED and not (keyword == "oneOf" and _choice_list(value)):
            yield here, say("`{keyword}` không hiển thị được trên biểu mẫu: {reason}", keyword=keyword, reason=word(UNSUPPORTED[keyword]))
        elif keyword == "additionalProperties" and value is not False:
            yield here, say("trong biểu mẫu, `additionalProperties` chỉ được là `false`: {reason}", reason=word(_ONLY_PROPERTIES))
        elif keyword == "items" and not isinstance(value, dict):
            yield here, say("`items` phải là một lược đồ duy nhất: {reason}", reason=word(_ONE_ITEM))
        elif keyword == "type" and isinstance(value, list) and len([t for t in value if t != "null"]) > 1:
            yield here, say("mỗi trường của biểu mẫu chỉ có một kiểu (`[string, \"null\"]` thì được): hãy tạo một trường cho mỗi loại câu trả lời, hoặc dùng `enum` cho lựa chọn")
    for name, sub in (node.get("properties") or {}).items() if isinstance(node.get("properties"), dict) else ():
        if not isinstance(name, str) or not name or "." in name or "*" in name:
            yield loc + ("properties", name), say(BAD_NAME, name=name)
        yield from _walk(sub, loc + ("properties", name))
    if isinstance(node.get("items"), dict):
        yield from _walk(node["items"], loc + ("items",))
    base = node if branch_of is None else branch_of
    rules: list[tuple[Loc, dict[str, Any]]] = [(loc, node)] if "if" in node else []
    for index, entry in enumerate(node.get("allOf") or [] if isinstance(node.get("allOf"), list) else []):
        if not isinstance(entry, dict):
            continue
        extra = sorted(set(entry) - {"if", "then", "else", "$comment"})
        if extra or "if" not in entry:
            what = f"`{extra[0]}`" if extra else say("một quy tắc không có `if`")
            yield loc + ("allOf", index) + ((extra[0],) if extra else ()), say("trong biểu mẫu, `allOf` chỉ chứa các quy tắc `if`/`then`/`else`, không chứa {what}: đặt các trường dưới `properties` và những gì chúng cần dưới `required`", what=what)
        rules.append((loc + ("allOf", index), entry))
    for where, rule in rules:
        if "if" in rule and if_condition(rule["if"], "") is None:
            yield where + ("if",), say("trình duyệt không đánh giá được `if` này: {shape}", shape=word(_IF_SHAPE))
        for key in ("then", "else"):
            sub = rule.get(key)
            if not isinstance(sub, dict):
                continue
            declared = base.get("properties") if isinstance(base.get("properties"), dict) else {}
            for name in (sub.get("properties") or {}) if isinstance(sub.get("properties"), dict) else ():
                if name not in declared:
                    yield where + (key, "properties", name), say("`{name}` chỉ được khai báo dưới `{key}` nên biểu mẫu không bao giờ vẽ nó: hãy khai báo nó trong `properties` của đối tượng này và liệt kê trong `{key}.required`", name=name, key=key)
            yield from _walk_branch(sub, where + (key,), declared)


def _walk_branch(node: dict[str, Any], loc: Loc, declared: dict[str, Any]) -> Iterator[tuple[Loc, str]]:
    """A `then`/`else`: its keywords must be supported; its properties refine declared fields."""
    for keyword, value in node.items():
        if keyword in UNSUPPORTED and not (keyword == "oneOf" and _choice_list(value)):
            yield loc + (keyword,), say("`{keyword}` không hiển thị được trên biểu mẫu: {reason}", keyword=keyword, reason=word(UNSUPPORTED[keyword]))
        elif keyword in ("if", "allOf"):
            yield loc + (keyword,), say("trình duyệt không đánh giá được điều kiện nằm trong `then`/`else`: {shape}; hãy viết từng quy tắc trên chính đối tượng (nhiều quy tắc thì đặt dưới `allOf`)", shape=word(_IF_SHAPE))
    for name, sub in (node.get("properties") or {}).items() if isinstance(node.get("properties"), dict) else ():
        if name in declared and isinstance(sub, dict):
            yield from _walk(sub, loc + ("properties", name), branch_of=declared[name] if isinstance(declared[name], dict) else None)


def editor_defs() -> dict[str, Any]:
    """The `$defs` the editor schema types `form.fields` with (`motcua schema`)."""
    return {
        "FormField": {
            "type": "object",
            "description": "A form field: the subset of JSON Schema 2020-12 the form can show (docs/specs.md)",
            "properties": SUPPORTED,
            "patternProperties": {"^x-": {}},
            "additionalProperties": False,
        },
        "FormCondition": CONDITION,
        "FormText": {
            "description": "A text: Vietnamese, or `{vi: ..., en: ...}`",
            "anyOf": [
                {"type": "string"},
                {"type": "object", "properties": {"vi": {"type": "string"}, "en": {"type": "string"}}, "required": ["vi"], "additionalProperties": False},
            ],
        },
    }


# --- texts in two languages -----------------------------------------------------------------


def _is_text_pair(value: Any) -> bool:
    return isinstance(value, dict) and "vi" in value and set(value) <= {"vi", "en"} and all(isinstance(v, str) for v in value.values())


def split_texts(fields: Any, ui: Any) -> tuple[Any, dict[str, Any]]:
    """Move `{vi, en}` texts out of a form's JSON Schema: (the schema with plain Vietnamese
    strings, the UI hints with those texts as labels).

    An author writes `title: {vi: Họ và tên, en: Full name}` on the field itself; JSON Schema
    wants a string there, and the form, summary and documents already read a field's words
    per language from `ui.<path>.label` / `.help` / `.enum_labels`. So `title` becomes
    `ui.<path>.label`, `description` `.help`, and a `oneOf` choice's `title`
    `.enum_labels[value]` (plain titles too, so a labelled `oneOf` shows its labels). A hint
    written in `ui` wins over one from the schema. The result loads back unchanged, so a
    snapshot of a spec reads the same."""
    if not isinstance(fields, dict):
        return fields, ui if isinstance(ui, dict) else {}
    hints: dict[str, Any] = {}
    for key, value in (ui or {}).items() if isinstance(ui, dict) else ():
        hints[key] = value.model_dump(exclude_none=True) if hasattr(value, "model_dump") else dict(value) if isinstance(value, dict) else value
    out = _split(fields, "", hints)
    return out, hints


def _hint(hints: dict[str, Any], path: str) -> dict[str, Any] | None:
    if not path:
        return None
    hint = hints.get(path)
    if hint is None:
        hint = hints[path] = {}
    return hint if isinstance(hint, dict) else None


def _split(node: Any, path: str, hints: dict[str, Any]) -> Any:
    if not isinstance(node, dict):
        return node
    out = dict(node)
    hint = None
    for key, ui_key in (("title", "label"), ("description", "help")):
        if _is_text_pair(node.get(key)):
            hint = hint or _hint(hints, path)
            if hint is not None:
                hint.setdefault(ui_key, dict(node[key]))
                out[key] = node[key]["vi"]
    choices = node.get("oneOf")
    if _choice_list(choices) and any("title" in o for o in choices):
        hint = hint or _hint(hints, path)
        if hint is not None:
            labels = hint.setdefault("enum_labels", {})
            if isinstance(labels, dict):
                for option in choices:
                    if "title" in option:
                        title = option["title"]
                        labels.setdefault(_choice_key(option["const"]), dict(title) if _is_text_pair(title) else {"vi": str(title)})
        out["oneOf"] = [{**o, "title": o["title"]["vi"]} if _is_text_pair(o.get("title")) else o for o in choices]
    if hint == {}:
        hints.pop(path, None)
    if isinstance(node.get("properties"), dict):
        out["properties"] = {name: _split(sub, _join(path, name), hints) for name, sub in node["properties"].items()}
    if isinstance(node.get("items"), dict):
        out["items"] = _split_plain(node["items"], path, hints)
    for key in ("then", "else"):
        if isinstance(node.get(key), dict):
            out[key] = _split_plain(node[key], path, hints, keep_own=True)
    if isinstance(node.get("allOf"), list):
        out["allOf"] = [
            {k: (_split_plain(v, path, hints, keep_own=True) if k in ("then", "else") else v) for k, v in e.items()} if isinstance(e, dict) else e
            for e in node["allOf"]
        ]
    return out


def _split_plain(node: dict[str, Any], path: str, hints: dict[str, Any], keep_own: bool = False) -> dict[str, Any]:
    """An array's items or a `then`/`else`: their own words are not a field's hint (plain
    Vietnamese in the schema); their properties are the fields below `path`."""
    out = dict(node)
    for key in ("title", "description"):
        if _is_text_pair(node.get(key)):
            out[key] = node[key]["vi"]
    if isinstance(node.get("properties"), dict):
        out["properties"] = {name: _split(sub, _join(path, name), hints) for name, sub in node["properties"].items()}
    if isinstance(node.get("items"), dict):
        out["items"] = _split_plain(node["items"], path, hints)
    return out


def _choice_key(value: Any) -> str:
    """How a choice travels in HTML and is keyed in `enum_labels` (motcua_renderers.schema.choice_key)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def localized_schema(fields: Any, ui: dict[str, Any], lang: str) -> Any:
    """A form's JSON Schema with each field's `title`/`description` in `lang` (from its UI
    hints), plain strings: the published schema for readers of that language."""
    from motcua.spec.model import localize

    def walk(node: Any, path: str) -> Any:
        if not isinstance(node, dict):
            return node
        out = dict(node)
        hint = ui.get(path) if path else None
        if hint is not None:
            if getattr(hint, "label", None):
                out["title"] = localize(hint.label, lang)
            if getattr(hint, "help", None):
                out["description"] = localize(hint.help, lang)
            labels = getattr(hint, "enum_labels", None) or {}
            if isinstance(node.get("oneOf"), list):
                out["oneOf"] = [{**o, "title": localize(labels[_choice_key(o.get("const"))], lang)} if isinstance(o, dict) and _choice_key(o.get("const")) in labels else o for o in node["oneOf"]]
        if isinstance(node.get("properties"), dict):
            out["properties"] = {name: walk(sub, _join(path, name)) for name, sub in node["properties"].items()}
        if isinstance(node.get("items"), dict):
            out["items"] = {**node["items"], **({"properties": {n: walk(s, _join(path, n)) for n, s in node["items"]["properties"].items()}} if isinstance(node["items"].get("properties"), dict) else {})}
        return out

    return walk(fields, "")
