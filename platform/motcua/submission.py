"""Checking what a citizen sends, before anything is filed.

Three parts, each returning `errors: dict[str, str]` keyed by the dotted path of the input
(contracts.md): the answers against the spec's JSON Schema (draft 2020-12, Vietnamese
identity formats), the attachments (required / required_when, type sniffed from the bytes,
size), and the chosen way to receive the result (an address when by post). Messages are
written for citizens, in Vietnamese first; the web form, the check-your-answers page and the
API all use these same functions.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from motcua import date_rules, formats, published_schema
from motcua.answer_limits import bounded_validator
from motcua.answers_fast import surely_valid
from motcua.dossier import AttachmentRef, DeliveryChoice
from motcua.formats import FormatProblem, format_checker
from motcua.error_order import order_errors
from motcua import units
from motcua.i18n import N_, format_date, ngettext, t
from motcua.spec.conditions import holds
from motcua.spec.model import Attachment, ProcedureSpec, localize

ADDRESS_PARTS = units.ADDRESS_PARTS

# --- messages --------------------------------------------------------------------------------


def _format_said(text: str, lang: str) -> str:
    """A format's message in `lang`: its row of motcua.formats holds both languages."""
    return (formats.english(text) or t(text, lang)) if lang != "vi" else text


def pattern_example(node: Any) -> str:
    """An answer of the right form for a field whose `pattern` failed: the spec's first
    `examples` entry that matches the pattern, else its format's example."""
    if not isinstance(node, Mapping):
        return ""
    pattern = node.get("pattern")
    for example in node.get("examples") or [] if isinstance(node.get("examples"), list) else []:
        try:
            if isinstance(example, str) and (not isinstance(pattern, str) or re.search(pattern, example)):
                return example
        except re.error:
            return ""
    known = formats.FORMATS.get(str(node.get("format")))
    return known.example if known is not None else ""


TYPE_MESSAGES = {
    "integer": N_("{label} phải là một số nguyên"),
    "number": N_("{label} phải là một số"),
    "boolean": N_("{label}: chọn có hoặc không"),
    "string": N_("{label} phải là văn bản"),
    "object": N_("{label} không đúng cấu trúc"),
    "array": N_("{label} phải là một danh sách"),
}

# --- the schema ------------------------------------------------------------------------------


def today_vn() -> date:
    """The filing date: today in Viet Nam, whatever the server's zone."""
    from motcua.workdays import VN_TZ

    return datetime.now(VN_TZ).date()


def submission_schema(spec: ProcedureSpec, today: date | None = None) -> dict[str, Any]:
    """The JSON Schema of the answers, as published by the API (draft 2020-12) and as
    enforced: the spec's fields plus the platform's rules (motcua.published_schema)."""
    if spec.form is None:
        return {}
    from motcua.integrations.widgets import published

    widgets = {key: ui.widget for key, ui in spec.form.ui.items()}
    widgets.update({key.replace(".*.", "."): w for key, w in widgets.items() if ".*." in key})
    # a plugin's field type brings its own pattern and lengths (`motcua.widgets`)
    schema = published_schema.publish(published(dict(spec.form.fields)), widgets, today or today_vn(), answers_limit(), spec.computed)
    schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
    schema.setdefault("title", localize(spec.name))
    return schema


@lru_cache(maxsize=256)
def _validator(schema_json: str) -> Draft202012Validator:
    # Texts capped (maxLength) and patterns never run over too-long texts: motcua.answer_limits.
    return bounded_validator(json.loads(schema_json), format_checker=format_checker())


def _kept(spec: ProcedureSpec, name: str, make: Callable[[], Any]) -> Any:
    """What depends on the spec object alone, made once per object and kept (the object
    held, so its id is never another's; the oldest dropped past 512 specs): a filing asks
    for the same walks of the spec's fields up to five times."""
    kept = _KEPT.get(id(spec))
    if kept is None or kept[0] is not spec:
        kept = (spec, {})
        _KEPT[id(spec)] = kept
        while len(_KEPT) > 512:
            _KEPT.pop(next(iter(_KEPT)))
    if name not in kept[1]:
        kept[1][name] = make()
    return kept[1][name]


_KEPT: dict[int, tuple[ProcedureSpec, dict[str, Any]]] = {}


def _schema_json(spec: ProcedureSpec) -> str:
    """The schema's text, the validators' cache key: two specs with the same code may differ
    (tests, edits). Kept per spec object, as dumping a large schema costs more than
    validating with the compiled check."""
    return _kept(spec, "schema_json", lambda: json.dumps(submission_schema(spec), sort_keys=True, ensure_ascii=False))


def form_nodes(spec: ProcedureSpec) -> list[tuple[str, dict[str, Any]]]:
    """`published_schema.structural` of the spec's form fields (path, node), kept per spec."""
    return _kept(spec, "nodes", lambda: list(published_schema.structural(spec.form.fields if spec.form else None)))


def _validator_for(spec: ProcedureSpec) -> Draft202012Validator:
    return _validator(_schema_json(spec))


def _format_of(spec: ProcedureSpec, path: str) -> str | None:
    fmt = _subschema(spec.form.fields if spec.form else {}, path.split(".")).get("format")
    return fmt if isinstance(fmt, str) and fmt in formats.FORMATS else None


def _subschema(schema: Mapping[str, Any], parts: Iterable[str]) -> Mapping[str, Any]:
    """The schema at a dotted path, following properties and items."""
    node: Mapping[str, Any] = schema
    for part in parts:
        if part.isdigit() and isinstance(node.get("items"), Mapping):
            node = node["items"]
        elif isinstance(node.get("properties"), Mapping) and part in node["properties"]:
            node = node["properties"][part]
        else:
            return {}
    return node


def field_label(spec: ProcedureSpec, path: str, lang: str = "vi") -> str:
    """What the form calls the field at `path`: its UI label, else its schema title."""
    if spec.form is None:
        return path
    parts = path.split(".")
    ui_key = ".".join(p for p in parts if not p.isdigit())
    ui = spec.form.ui.get(ui_key)
    if ui and ui.label:
        return localize(ui.label, lang)
    title = _subschema(spec.form.fields, parts).get("title")
    if isinstance(title, str) and title:
        return title
    return parts[-1].replace("_", " ").capitalize()


def _path(error: ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path)


def _message(spec: ProcedureSpec, error: ValidationError, path: str, lang: str) -> str:
    label = field_label(spec, path, lang) if path else t("Hồ sơ", lang)
    kind = error.validator
    value = error.validator_value
    if kind == "required":
        node = _subschema(spec.form.fields if spec.form else {}, path.split("."))
        if "enum" in node or node.get("type") == "boolean":
            return t("Chọn {label}", lang, label=_lower_first(label, lang))
        if node.get("type") == "object":
            return t("Điền thông tin {label}", lang, label=label)
        return t("Nhập {label}", lang, label=_lower_first(label, lang))
    if kind in ("pattern", "format", "minLength", "maxLength") and (fmt := _format_of(spec, path)):
        # the format's own rule, whichever of its published keywords tripped first
        text = formats.problem(fmt, error.instance)
        if text:
            return _format_said(text, lang)
    if kind == "minLength":
        return t("{label} phải có ít nhất {n} ký tự", lang, label=label, n=value)
    if kind == "maxLength":
        return t("{label} không được dài quá {n} ký tự", lang, label=label, n=value)
    if kind == "pattern":
        example = pattern_example(error.schema)
        if example:
            return t("{label} không đúng định dạng, ví dụ: {example}", lang, label=label, example=example)
        return t("{label} không đúng định dạng", lang, label=label)
    if kind == "format":
        from motcua.integrations.widgets import for_format

        widget = for_format(value)
        said = widget.problem(error.instance) if widget is not None and isinstance(error.instance, str) else None
        if said:
            return localize(said, lang)
        if isinstance(error.cause, FormatProblem):
            return _format_said(str(error.cause), lang)
        return t("{label} không đúng định dạng", lang, label=label)
    if kind in ("enum", "const"):
        return t("{label}: chọn một giá trị trong danh sách", lang, label=label)
    if kind == "minimum":
        return t("{label} phải lớn hơn hoặc bằng {n}", lang, label=label, n=value)
    if kind == "maximum":
        return t("{label} phải nhỏ hơn hoặc bằng {n}", lang, label=label, n=value)
    if kind == "exclusiveMinimum":
        return t("{label} phải lớn hơn {n}", lang, label=label, n=value)
    if kind == "exclusiveMaximum":
        return t("{label} phải nhỏ hơn {n}", lang, label=label, n=value)
    if kind == "minItems":
        return ngettext("{label}: cần ít nhất {n} mục", "{label}: cần ít nhất {n} mục", value, lang=lang, label=label)
    if kind == "maxItems":
        return ngettext("{label}: nhiều nhất {n} mục", "{label}: nhiều nhất {n} mục", value, lang=lang, label=label)
    if kind == "type":
        kinds = value if isinstance(value, list) else [value]
        text = TYPE_MESSAGES.get(str(kinds[0]), "{label} không hợp lệ")
        return t(text, lang, label=label)
    if kind == "additionalProperties":
        return t("Có thông tin không thuộc biểu mẫu: {names}", lang, names=", ".join(
            sorted(set(error.instance) - set((error.schema.get("properties") or {}))) if isinstance(error.instance, dict) else ""
        ))
    return t("{label} không hợp lệ", lang, label=label)


def _leaves(error: ValidationError) -> Iterable[ValidationError]:
    """if/then/else and allOf report their inner errors; anyOf/oneOf stay one error."""
    if error.validator in ("allOf", "if", "then", "else") and error.context:
        for sub in error.context:
            yield from _leaves(sub)
    else:
        yield error


def _lower_first(text: str, lang: str) -> str:
    """A field's label inside a sentence ("Nhập họ và tên", "Enter full name"): its first
    letter lower-cased in both languages, unless the label starts with an acronym (CCCD, ID)."""
    if len(text) < 2 or text[1].isupper():
        return text
    return text[0].lower() + text[1:]


def _set_empty(data: dict[str, Any], path: str) -> None:
    node: Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[parts[-1]] = {}


def validate(spec: ProcedureSpec, answers: Mapping[str, Any], lang: str = "vi", today: date | None = None) -> dict[str, str]:
    """Errors in the answers, one per field path (the first found), in the reader's language.

    A required group left out entirely (say `mother`) is reported field by field, as the
    citizen sees it on the form: it is validated again as an empty group. Addresses are
    also checked against the administrative units (the commune within its province).
    """
    return checked(spec, answers, lang, today)[0]


def checked(spec: ProcedureSpec, answers: Mapping[str, Any], lang: str = "vi",
            today: date | None = None) -> tuple[dict[str, str], dict[str, Any] | None]:
    """`validate`'s errors, and the answers it judged: `visible_answers` of the online
    channel on `today`, for a caller that files them next (`filing.file_dossier(visible=)`)
    without working them out again; None when it stopped before (text that cannot be stored,
    too big, too many items)."""
    if spec.form is None:
        return {}, dict(answers)
    unreadable = text_errors(answers, lang)
    if unreadable:
        return unreadable, None  # nothing else is judged on text that cannot even be stored
    too_big = size_errors(answers, lang)
    if too_big:
        return too_big, None
    oversized = too_many_items(spec, answers, lang)
    if oversized:
        return oversized, None
    answers = visible_answers(spec, answers, today=today)  # what is hidden is dropped, not judged
    errors = _schema_errors(spec, answers, lang)
    for path, message in date_errors(spec, answers, lang, today).items():
        errors.setdefault(path, message)
    for path, message in required_when_errors(spec, answers, lang, today).items():
        errors.setdefault(path, message)
    for path, _node, value in addresses(spec, answers):
        if not value.get("province") or not value.get("commune"):
            continue  # missing parts are the schema's to report
        for part, message in address_errors(units.resolve_address(value), lang).items():
            if part in ("province", "commune"):
                errors.setdefault(f"{path}.{part}", message)
    return order_errors(spec, errors), answers


#: Stands for a "." inside one key of an error path (paths are dotted): web.api's pointers
#: turn it back into the key's own dot. A private-use character, never typed.
DOT_IN_KEY = "\ue000"


def key_segment(name: Any) -> str:
    """One object key as a segment of a dotted error path."""
    return str(name).replace(".", DOT_IN_KEY)


def _walk_values(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every value and key inside `value`, without recursion."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        here, node = stack.pop()
        yield here, node
        if isinstance(node, dict):
            for key, sub in node.items():
                segment = key_segment(key)
                yield (f"{here}.{segment}" if here else segment), key
                stack.append(((f"{here}.{segment}" if here else segment), sub))
        elif isinstance(node, list):
            stack.extend(((f"{here}.{i}" if here else str(i)), sub) for i, sub in enumerate(node))


def unreadable_text(text: str) -> bool:
    """Text that is not Unicode scalar values (a lone surrogate such as "\\ud800", which JSON's
    escapes can carry) cannot be encoded as UTF-8, so could never be stored or shown."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def text_errors(value: Any, lang: str = "vi", root: str = "") -> dict[str, str]:
    """An error at each text (or key) holding an unencodable character, before anything else."""
    errors: dict[str, str] = {}
    for path, item in _walk_values(value, root):
        if isinstance(item, str) and unreadable_text(item):
            errors.setdefault(path, t("Nội dung có ký tự không hợp lệ (không phải ký tự Unicode): hãy gõ lại", lang))
    return errors


#: Largest a dossier's answers may be, as stored (UTF-8 JSON): far above any form's worth
#: (a 50-field form at its caps is ~100 kB) and far below the request limit; config
#: MAX_ANSWERS_BYTES changes it (docs/specs.md, "Limits").
MAX_ANSWERS_BYTES = 256 * 1024


def answers_limit() -> int:
    from flask import current_app, has_app_context

    if has_app_context():
        return int(current_app.config.get("MAX_ANSWERS_BYTES") or MAX_ANSWERS_BYTES)
    return MAX_ANSWERS_BYTES


def size_errors(answers: Mapping[str, Any], lang: str = "vi") -> dict[str, str]:
    limit = answers_limit()
    size = len(json.dumps(answers, ensure_ascii=False, default=str).encode("utf-8", "replace"))
    if size <= limit:
        return {}
    return {"": t("Hồ sơ quá lớn: nội dung khai không được vượt quá {kb} KB", lang, kb=limit // 1024)}


def required_when_errors(
    spec: ProcedureSpec, answers: Mapping[str, Any], lang: str = "vi", today: date | None = None
) -> dict[str, str]:
    """A required field with `x-show-when` is required exactly when its condition holds (the
    published `x-required-when`): the same compiled JSON Logic the form shows it with. Inside
    a repeating group it is judged item by item, `item.` reading that item
    (`children.2.school`, an error at that path)."""
    from motcua.spec.conditions import checker, item_path_of

    errors: dict[str, str] = {}
    if spec.form is None:
        return errors
    for path, node in form_nodes(spec):
        props = node.get("properties")
        required = set(node.get("required") or [])
        shown = [(name, sub) for name, sub in props.items()
                 if name in required and isinstance(sub, dict) and "x-show-when" in sub] if isinstance(props, dict) else []
        if not shown:
            continue
        # compiled once per field, bound to each item (a group may hold thousands of them)
        rules = {name: checker(sub["x-show-when"], answers, "online", spec.computed, today) for name, sub in shown}
        for here, parent in _values_at(answers, path.split(".") if path else []):
            if not isinstance(parent, Mapping):
                continue  # a missing or malformed group is the schema's to report
            item = item_path_of(path, here)
            for name, _sub in shown:
                field = f"{here}.{name}" if here else name
                value = parent.get(name)
                if value in (None, "", [], {}) and rules[name](item):
                    label = field_label(spec, field, lang)
                    errors[field] = t("Nhập {label}", lang, label=_lower_first(label, lang))
    return errors


def visible_answers(spec: ProcedureSpec, answers: Mapping[str, Any], channel: str = "online",
                    today: date | None = None) -> dict[str, Any]:
    """The answers without those of fields their `x-show-when` hides (item by item inside a
    repeating group), as the citizen saw the form: an answer the citizen could not see must
    not drive a fee, a step's `when` or a required attachment. Form, API, desk and
    supplement alike: validation judges these answers and filing stores them. Repeated until
    nothing changes, since a hidden field may be what another's rule reads."""
    from motcua.spec.conditions import checker, item_path_of

    if spec.form is None:
        return dict(answers)
    fields = _kept(spec, "shown_when", lambda: [
        (path, name, sub["x-show-when"]) for path, node in form_nodes(spec)
        if isinstance(props := node.get("properties"), dict)
        for name, sub in props.items() if isinstance(sub, dict) and "x-show-when" in sub])
    if not fields:
        return dict(answers)
    data = copy.deepcopy(dict(answers))
    for _ in range(len(fields) + 1):
        dropped = False
        for path, name, condition in fields:
            rule = checker(condition, data, channel, spec.computed, today)
            for here, parent in list(_values_at(data, path.split(".") if path else [])):
                if isinstance(parent, dict) and name in parent and not rule(item_path_of(path, here)):
                    del parent[name]
                    dropped = True
        if not dropped:
            break
    return data


def too_many_items(spec: ProcedureSpec, answers: Mapping[str, Any], lang: str = "vi") -> dict[str, str]:
    """Repeating groups holding more items than their `maxItems`: checked first and alone
    (`validate` stops there), so an oversized list, say 60,000 empty items sent to the API,
    costs one count, not a schema error and a condition per item."""
    errors: dict[str, str] = {}
    if spec.form is None:
        return errors
    for path, node in form_nodes(spec):
        most = node.get("maxItems")
        if not isinstance(most, int) or isinstance(most, bool):
            continue
        for here, value in _values_at(answers, path.split(".") if path else []):
            if isinstance(value, list) and len(value) > most:
                label = field_label(spec, here, lang) if here else t("Hồ sơ", lang)
                errors[here] = ngettext("{label}: nhiều nhất {n} mục", "{label}: nhiều nhất {n} mục", most, lang=lang, label=label)
    return errors


def date_errors(spec: ProcedureSpec, answers: Mapping[str, Any], lang: str = "vi", today: date | None = None) -> dict[str, str]:
    """Relative date rules (`x-date`, motcua.date_rules) broken by the answers."""
    if spec.form is None:
        return {}
    today = today or today_vn()
    errors: dict[str, str] = {}
    for path, node in form_nodes(spec):
        if "x-date" not in node:
            continue
        for concrete, value in _values_at(answers, path.split(".") if path else []):
            found = date_rules.breach(node["x-date"], value, today, answers)
            if found is None:
                continue
            when = format_date(found.limit, lang)
            if found.message:
                errors[concrete] = localize(found.message, lang).format(date=when)
            elif found.which == "max":
                errors[concrete] = t("{label} không được sau ngày {date}", lang, label=field_label(spec, concrete, lang), date=when)
            else:
                errors[concrete] = t("{label} không được trước ngày {date}", lang, label=field_label(spec, concrete, lang), date=when)
    return errors


def _values_at(value: Any, parts: list[str], here: str = "") -> Iterator[tuple[str, Any]]:
    if not parts:
        yield here, value
        return
    head, rest = parts[0], parts[1:]
    if head == "*":
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield from _values_at(item, rest, f"{here}.{i}" if here else str(i))
    elif isinstance(value, Mapping) and head in value:
        yield from _values_at(value[head], rest, f"{here}.{head}" if here else head)


_ADDRESS_KEYS = frozenset((*units.ADDRESS_PARTS, *units.LEGACY_PARTS, *units.CODE_KEYS.values()))


def addresses(spec: ProcedureSpec, answers: Any) -> Iterator[tuple[str, Mapping[str, Any], dict[str, Any]]]:
    """Each address among the answers as (dotted path, schema node, the answer's own dict),
    items of repeating groups included (`members.1.address`), so that validation and the
    API's normalization (web.api.normalized_answers) find the same addresses the form
    draws: an object with the UI widget "address", or one made only of address parts."""
    for parts, node, value in _address_parts(spec, answers):
        yield ".".join(str(p) for p in parts), node, value


def _address_parts(spec: ProcedureSpec, answers: Any) -> Iterator[tuple[tuple[str | int, ...], Mapping[str, Any], dict[str, Any]]]:
    """`addresses`, each with the keys and indexes that lead to it (a name may hold a dot)."""
    if spec.form is None:
        return

    def is_address(node: Mapping[str, Any], key: str) -> bool:
        ui = spec.form.ui.get(key) or spec.form.ui.get(key.replace(".", ".*."))
        if ui is not None and ui.widget:
            return ui.widget == "address"
        props = node.get("properties") or {}
        return "province" in props and set(props) <= _ADDRESS_KEYS

    def walk(node: Any, value: Any, parts: tuple[str | int, ...], key: str) -> Iterator[tuple[tuple[str | int, ...], Mapping[str, Any], dict[str, Any]]]:
        if not isinstance(node, Mapping):
            return
        if isinstance(value, dict):
            if parts and is_address(node, key):
                yield parts, node, value
                return
            props = node.get("properties") or {}
            for name, sub in value.items():
                yield from walk(props.get(name), sub, (*parts, name), f"{key}.{name}" if key else name)
        elif isinstance(value, list) and isinstance(node.get("items"), Mapping):
            for i, item in enumerate(value):
                yield from walk(node["items"], item, (*parts, i), key)

    yield from walk(spec.form.fields, answers, (), "")


def with_addresses(spec: ProcedureSpec, answers: Mapping[str, Any],
                   change: Callable[[Mapping[str, Any], dict[str, Any]], dict[str, Any] | None]) -> dict[str, Any]:
    """The answers with each address (`addresses`) replaced by `change(node, address)` (None:
    left as it is). Only the objects and lists on the way to a replaced address are copied,
    each once; the rest is shared with `answers` (a deep copy of a filing's answers was ~0.15
    ms of its CPU, made twice), so neither is changed in place afterwards."""
    out = dict(answers)
    copies: dict[int, Any] = {id(answers): out}  # id of an original container -> its copy
    for parts, node, value in list(_address_parts(spec, answers)):
        new = change(node, value)
        if new is None:
            continue
        original: Any = answers
        target: Any = out
        for part in parts[:-1]:
            original = original[part]
            if id(original) not in copies:
                copies[id(original)] = list(original) if isinstance(original, list) else dict(original)
            target[part] = target = copies[id(original)]  # one container met twice is one copy
        target[parts[-1]] = new
    return out


def _schema_errors(spec: ProcedureSpec, answers: Mapping[str, Any], lang: str) -> dict[str, str]:
    if surely_valid(_schema_json(spec), answers):  # compiled check; errors are worded below only
        return {}
    data = copy.deepcopy(dict(answers))
    for _ in range(8):
        errors: dict[str, str] = {}
        emptied: list[str] = []
        for top in _validator_for(spec).iter_errors(data):
            for error in _leaves(top):
                path = _path(error)
                if error.validator == "required" and isinstance(error.instance, dict):
                    for name in error.validator_value:
                        if name in error.instance:
                            continue
                        missing = f"{path}.{name}" if path else name
                        node = _subschema(spec.form.fields, missing.split("."))
                        if node.get("type") == "object" and missing not in emptied:
                            emptied.append(missing)
                        errors.setdefault(missing, _message(spec, error, missing, lang))
                    continue
                if error.validator == "additionalProperties" and isinstance(error.instance, dict):
                    declared = set(error.schema.get("properties") or {})
                    for name in sorted(set(error.instance) - declared):
                        name = key_segment(name)
                        errors.setdefault(f"{path}.{name}" if path else name, t("Thông tin này không thuộc biểu mẫu của thủ tục", lang))
                    continue
                errors.setdefault(path, _message(spec, error, path, lang))
        if not emptied:
            return errors
        for missing in emptied:
            _set_empty(data, missing)
    return errors


def errors_within(errors: Mapping[str, str], field_names: Iterable[str]) -> dict[str, str]:
    """The errors of these top-level fields (and what they contain)."""
    names = tuple(field_names)
    return {p: m for p, m in errors.items() if p.split(".")[0] in names}


# --- attachments -----------------------------------------------------------------------------

MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
TYPE_NAMES = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/tiff": "TIFF",
    "image/webp": "WebP",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
}


def sniff(data: bytes) -> str | None:
    """The content type the bytes really are (magic numbers), whatever the file's name says."""
    head = data[:16]
    for magic, content_type in MAGIC:
        if head.startswith(magic):
            return content_type
    if head.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"PK\x03\x04") and b"word/" in data[:4096]:
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return None


def accepted_names(component: Attachment) -> str:
    return ", ".join(TYPE_NAMES.get(t, t) for t in component.accept)


def check_upload(component: Attachment, data: bytes, lang: str = "vi") -> tuple[str | None, str | None]:
    """(content type, None) for an acceptable file, else (None, the Vietnamese reason)."""
    name = localize(component.name, lang)
    if not data:
        return None, t("Tệp {name} rỗng, hãy chọn lại tệp", lang, name=name)
    limit = int(component.max_size_mb * 1024 * 1024)
    if len(data) > limit:
        mb = f"{component.max_size_mb:g}"
        return None, t("Tệp {name} quá lớn: tối đa {mb} MB", lang, name=name, mb=mb)
    content_type = sniff(data)
    if content_type is None or content_type not in component.accept:
        return None, t(
            "Tệp {name} không đúng loại cho phép ({types})", lang, name=name, types=accepted_names(component)
        )
    return content_type, None


def display_filename(filename: str | None) -> str:
    """The citizen's file name as a label: no folders, nothing unprintable, 120 characters."""
    return "".join(c for c in (filename or "").replace("\\", "/").split("/")[-1] if c.isprintable())[:120]


def store_upload(files: Any, component: Attachment, filename: str, data: bytes, lang: str = "vi") -> tuple[AttachmentRef | None, str | None]:
    """Check and keep an upload by content id; the citizen's file name is only a label."""
    content_type, error = check_upload(component, data, lang)
    if error:
        return None, error
    safe_name = display_filename(filename)
    file_id = files.put(data)
    return (
        AttachmentRef(
            component=component.id,
            file_id=file_id,
            filename=safe_name or component.id,
            content_type=content_type or "application/octet-stream",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        ),
        None,
    )


def required_attachments(spec: ProcedureSpec, answers: Mapping[str, Any], channel: str = "online") -> list[Attachment]:
    """The components these answers make required (required_when wins over required)."""
    out = []
    # a missing answer reads as its schema default, as the published `required_if` says
    answers = published_schema.with_defaults(spec.form.fields, answers) if spec.form else answers
    for a in spec.attachments:
        needed = holds(a.required_when, answers, channel, spec.computed) if a.required_when is not None else a.required
        if needed:
            out.append(a)
    return out


def validate_attachments(
    spec: ProcedureSpec,
    answers: Mapping[str, Any],
    uploaded: Mapping[str, AttachmentRef],
    lang: str = "vi",
    channel: str = "online",
) -> dict[str, str]:
    errors: dict[str, str] = {}
    for a in required_attachments(spec, answers, channel):
        if a.id not in uploaded:
            errors[f"attachment.{a.id}"] = t("Đính kèm {name}", lang, name=localize(a.name, lang))
    for component_id in uploaded:
        if spec.attachment(component_id) is None:
            errors[f"attachment.{component_id}"] = t("Thành phần hồ sơ không có trong thủ tục này", lang)
    return errors


# --- delivery --------------------------------------------------------------------------------


def validate_delivery(spec: ProcedureSpec, delivery: DeliveryChoice | None, lang: str = "vi") -> dict[str, str]:
    """The chosen way to receive the result must be one the spec offers; post needs an address."""
    if not spec.delivery:
        return {}
    if delivery is None or spec.delivery_option(delivery.kind) is None:
        return {"delivery.kind": t("Chọn hình thức nhận kết quả", lang)}
    if delivery.kind != "postal":
        return {}
    return {f"delivery.address.{part}": message for part, message in address_errors(delivery.address, lang).items()}


def address_errors(address: Mapping[str, Any] | None, lang: str = "vi") -> dict[str, str]:
    """Errors of a resolved address (units.resolve_address), keyed by part.

    The province must be one of the 34, the commune one of that province's communes
    (since 1 July 2025); a name that is not found gets the close ones as "did you mean",
    a commune of another province says which, and an old (pre-merger) name says to pick
    the new commune from the list: there is no old-to-new mapping to guess from.
    """
    address = address or {}
    errors: dict[str, str] = {}
    for part, value in address.items():
        if part in ADDRESS_PARTS and len(value or "") > 200:
            errors[part] = t("Địa chỉ quá dài: tối đa 200 ký tự", lang)
    if not address.get("province_code"):
        errors.setdefault("province", t("Chọn tỉnh, thành phố", lang) if not address.get("province") else t(
            "Không có tỉnh, thành phố “{name}” (từ ngày 01/07/2025 cả nước có 34 tỉnh, thành phố): chọn trong danh sách",
            lang, name=address["province"][:60]))
    if not address.get("commune"):
        errors.setdefault("commune", t("Chọn xã, phường, đặc khu", lang))
    elif not address.get("commune_code") and address.get("province_code"):
        errors.setdefault("commune", _commune_message(address["province_code"], address["commune"], lang))
    if not address.get("street"):
        errors.setdefault("street", t("Nhập số nhà, đường, thôn, xóm", lang))
    return errors


def _commune_message(province_code: str, text: str, lang: str) -> str:
    province = units.province(province_code)
    where = (province.en if lang == "en" else province.name) if province else province_code
    typed = text[:60]
    # the exact name elsewhere first: "Hồng Bàng" is a ward of Hải Phòng, whatever Hà Nội
    # has that looks like it
    elsewhere = [c for c in units.communes_elsewhere(text) if c.province_code != province_code]
    if elsewhere:
        owner = units.province(elsewhere[0].province_code)
        return t("{name} thuộc {other}, không thuộc {province}: chọn lại tỉnh, thành phố hoặc xã, phường, đặc khu",
                  lang, name=elsewhere[0].name, other=(owner.en if lang == "en" else owner.name) if owner else "", province=where)
    close = units.suggest_communes(province_code, text)
    if close:
        return t("“{name}” không có trong danh sách xã, phường, đặc khu của {province}. Có phải bạn muốn chọn: {names}?",
                  lang, name=typed, province=where, names=", ".join(c.name for c in close))
    return t("Không tìm thấy “{name}” trong {province}. Từ ngày {date}, các xã, phường đã được sắp xếp lại và không còn "
              "cấp huyện: hãy chọn xã, phường, đặc khu mới trong danh sách", lang, name=typed, province=where, date=units.EFFECTIVE)


def delivery_choice(spec: ProcedureSpec, kind: str | None, address: Mapping[str, str] | None) -> DeliveryChoice | None:
    """A DeliveryChoice carrying the spec's postal charge; the address (units resolved to
    codes and names, units.resolve_address) kept only for post."""
    if not kind:
        return None
    option = spec.delivery_option(kind)
    return DeliveryChoice(
        kind=kind,
        address=units.resolve_address(address) if kind == "postal" else None,
        postal_charge=(option.postal_charge or 0) if option and kind == "postal" else 0,
    )


def home_pickup_offered(spec: ProcedureSpec) -> bool:
    """Whether the citizen filing online may ask the post office to collect the paper dossier
    at home (a `postal` channel with `home_pickup`, Decision 45/2016)."""
    return any(c.kind == "postal" and c.home_pickup for c in spec.channels)


def pickup_address(spec: ProcedureSpec, wanted: bool, address: Mapping[str, str] | None,
                   delivery: DeliveryChoice | None) -> dict[str, str] | None:
    """Where the papers are collected: the address typed for the pickup, else the postal
    return address (the same home, typed once); None when no pickup is asked for or offered."""
    if not wanted or not home_pickup_offered(spec):
        return None
    typed = {k: v for k, v in (address or {}).items() if v}
    if typed:
        return units.resolve_address(typed)
    if delivery is not None and delivery.kind == "postal" and delivery.address:
        return dict(delivery.address)
    return {}


def validate_pickup(spec: ProcedureSpec, wanted: bool, address: Mapping[str, str] | None,
                    delivery: DeliveryChoice | None, lang: str = "vi") -> dict[str, str]:
    """Home pickup only where the spec offers it, and with an address the carrier can book."""
    if not wanted:
        return {}
    if not home_pickup_offered(spec):
        return {"pickup.wanted": t("Thủ tục này không nhận hồ sơ giấy qua bưu điện thu gom tại nhà", lang)}
    where = pickup_address(spec, wanted, address, delivery) or {}
    return {f"pickup.address.{part}": message for part, message in address_errors(where, lang).items()}
