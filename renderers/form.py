"""The citizen's HTML form, generated from the spec's JSON Schema and UI hints.

`render_fields` turns the schema into plain HTML (Jinja2, autoescaped: spec text and the
citizen's input are data, never markup); `parse_form` is its inverse, turning the posted
strings back into typed answers. Both walk the schema with `motcua_renderers.schema`, so a field
is named, shown and parsed the same way.

Names and ids
    An input's `name` is the dotted answer path (`child.full_name`, `children.0.name`);
    its id is `f-` + the path with dots as dashes (`f-child-full_name`), the hint is
    `<id>-hint`, the error `<id>-error`. For radios and checkbox lists the first option
    carries the field's id, so an error summary can link to `#<id>`.

Repeating groups without JavaScript (arrays)
    Each array renders its current items, a remove button per item and an add button, all
    plain submit buttons of the surrounding form:

        <button type="submit" name="_add" value="children">
        <button type="submit" name="_remove" value="children.1">

    The page handler calls `repeat_action(request.form)`; when it returns an action, it
    parses the form, applies it with `apply_repeat(answers, action)`, and re-renders the
    same page with the result and no errors, instead of validating and moving on. An
    optional empty array shows only the add button; a required one (or one with
    `minItems`) starts with that many empty items. Posted items are kept even when empty,
    so an added but unfilled item gets "required" errors next to its own fields.

Conditional fields
    Fields that the schema's `if`/`then`/`else` or their own `x-show-when` shows carry
    `data-show-when` with the rule compiled to JSON Logic (motcua.spec.conditions.for_browser;
    inside a repeating group `item.x` is bound to the item's inputs, `children.2.x`).
    /static/renderers/form.js hides them live and disables their inputs (not posted);
    without JavaScript they are simply all shown. The server decides again: `parse_form`
    drops the answers of fields an `if`/`then` hides (evaluating the `if` subschema with
    jsonschema), and `motcua.submission.visible_answers` those an `x-show-when` hides, item
    by item, over the whole answers (a page may read another page's), before validation and
    filing, for the form, the API and the desk alike.

The page's <form> should carry `novalidate`: inputs carry `pattern`, `maxlength` and
`type=email` as hints for phones' keyboards, but the messages come from the server, in
Vietnamese, next to each field. Include /static/renderers/form.css and form.js (see
`motcua_renderers.ASSETS`).
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jsonschema import Draft202012Validator
from markupsafe import Markup

from motcua.dossier import AttachmentRef
from motcua.error_order import order_errors
from motcua.formats import is_iso_date, is_vn_mobile, normalize_mobile
from motcua.integrations.widgets import for_format
from motcua.spec.conditions import holds
from motcua import units
from motcua.spec.model import Attachment, ProcedureSpec, localize
from motcua_renderers.l10n import N_, t
from motcua_renderers.schema import (
    ADDRESS_PARTS,
    CODE_KEYS,
    choice_key,
    conditionally_required,
    enum_values,
    object_rules,
    schema_type,
    show_conditions,
    ui_for,
    widget_for,
)
from motcua_renderers.jinja import environment

ADD = "_add"
REMOVE = "_remove"
#: Items a repeating group holds when its schema sets no `maxItems`: every posted index
#: becomes an item, so without a bound one post could make a draft of any size.
MAX_REPEAT_ITEMS = 100
#: Whole numbers longer than this stay the raw text (Python refuses int() past 4300
#: digits, and no answer needs more); validation then reports them.
MAX_INT_DIGITS = 30
_INDEX = re.compile(r"[0-9]{1,6}")

ADDRESS_LABELS = {
    "province": N_("Tỉnh, thành phố"),
    "commune": N_("Xã, phường, đặc khu"),
    "street": N_("Số nhà, đường, thôn, xóm"),
}
ADDRESS_AUTOCOMPLETE = {"province": "address-level1", "commune": "address-level2", "street": "street-address"}
#: The submit button that, without JavaScript, re-draws the page with the communes of the
#: chosen province (the page handler treats it like "add another": no validation, stay).
UNITS_BUTTON = "_units"
#: Where form.js fetches a province's communes (blueprint `api`, /api/v1).
COMMUNES_URL = "/api/v1/units/{province}/communes"


def field_id(path: str) -> str:
    return "f-" + path.replace(".", "-")


@dataclass
class Option:
    value: str
    label: str
    selected: bool
    id: str = ""


@dataclass
class View:
    """What the template needs to draw one field; computed here, drawn in form_fields.html."""

    kind: str
    path: str
    id: str
    label: str = ""
    hint: str = ""
    error: str = ""
    required: bool = False
    attrs: dict[str, Any] = field(default_factory=dict)
    value: str = ""
    options: list[Option] = field(default_factory=list)
    children: list[View] = field(default_factory=list)
    show_when: str = ""
    remove_value: str = ""
    remove_label: str = ""
    add_value: str = ""
    add_label: str = ""
    button: dict[str, str] = field(default_factory=dict)  # a submit button after the input

    @property
    def describedby(self) -> str:
        ids = ([f"{self.id}-hint"] if self.hint else []) + ([f"{self.id}-error"] if self.error else [])
        return " ".join(ids)


# --- rendering ------------------------------------------------------------------------------


class _Builder:
    def __init__(self, spec: ProcedureSpec, errors: Mapping[str, str], lang: str) -> None:
        self.spec = spec
        self.errors = errors
        self.lang = lang
        #: the repeating group's item being drawn (`children.2`): its fields' `item.` reads it
        self.item: str | None = None

    def label(self, node: dict[str, Any], path: str) -> str:
        ui = ui_for(self.spec, path)
        return localize(ui.label, self.lang) or str(node.get("title") or path.rsplit(".", 1)[-1])

    def hint(self, node: dict[str, Any], path: str) -> str:
        ui = ui_for(self.spec, path)
        return localize(ui.help, self.lang) or str(node.get("description") or "")

    def show_when(self, node: dict[str, Any], condition: dict[str, Any] | None) -> str:
        """The field's show condition as compiled JSON Logic for form.js: the `if`/`then`
        one (older shape) and the field's own `x-show-when`, both true to show it; inside a
        repeating group bound to the item drawn (`item.name` -> `children.2.name`)."""
        from motcua.spec.conditions import for_browser

        parts = [c for c in (condition, node.get("x-show-when")) if c is not None]
        if not parts:
            return ""
        logic = [for_browser(c, self.spec.computed, item=self.item) for c in parts]
        return json.dumps(logic[0] if len(logic) == 1 else {"and": logic}, ensure_ascii=False)

    def build(
        self,
        node: dict[str, Any],
        path: str,
        value: Any,
        required: bool,
        use_defaults: bool,
        show_when: dict[str, Any] | None = None,
        label: str | None = None,
        extra_required: frozenset[str] = frozenset(),
    ) -> View:
        """One field's view; `extra_required` = paths below it that a parent's `then` requires."""
        ui = ui_for(self.spec, path)
        widget = widget_for(node, ui)
        if value is None and use_defaults and "default" in node:
            value = copy.deepcopy(node["default"])
        view = View(
            kind=widget,
            path=path,
            id=field_id(path),
            label=label if label is not None else self.label(node, path),
            hint=self.hint(node, path),
            error=self.errors.get(path, ""),
            required=required,
            show_when=self.show_when(node, show_when),
        )
        if widget == "address":
            self._address(view, node, value, use_defaults)
        elif widget in ("fieldset",) or (schema_type(node) == "object" and widget not in ("hidden",)):
            view.kind = "fieldset"
            self._object(view, node, value if isinstance(value, dict) else None, use_defaults, extra_required)
        elif widget == "repeat" or (schema_type(node) == "array" and widget != "checkboxes"):
            view.kind = "repeat"
            self._repeat(view, node, value, required)
        elif widget in ("select", "radio", "checkboxes"):
            self._choices(view, node, value, ui.placeholder)
        elif widget == "checkbox":
            view.value = "true"
            view.attrs = self._input_attrs(view, {"type": "checkbox", "value": "true", "checked": "checked" if value in (True, "true") else None})
        else:
            self._input(view, node, widget, value, localize(ui.placeholder, self.lang))
        return view

    # objects and arrays

    def _object(
        self, view: View, node: dict[str, Any], value: dict[str, Any] | None, use_defaults: bool, extra: frozenset[str]
    ) -> None:
        props = node.get("properties") or {}
        below = conditionally_required(node) | extra
        required = set(node.get("required") or []) | {p for p in below if "." not in p}
        conditions = show_conditions(node, view.path)
        child_defaults = use_defaults and value is None
        value = value or {}
        view.children = [
            self.build(
                sub,
                f"{view.path}.{name}",
                value.get(name),
                name in required,
                child_defaults,
                conditions.get(name),
                extra_required=frozenset(p.split(".", 1)[1] for p in below if p.startswith(name + ".")),
            )
            for name, sub in props.items()
            if isinstance(sub, dict)
        ]

    def _repeat(self, view: View, node: dict[str, Any], value: Any, required: bool) -> None:
        items_node = node.get("items") if isinstance(node.get("items"), dict) else {"type": "string"}
        items = list(value) if isinstance(value, list) else []
        if not isinstance(value, list):
            items = [None] * max(int(node.get("minItems") or 0), 1 if required else 0)
        item_label = localize(ui_for(self.spec, view.path + ".0").label, self.lang) or str(items_node.get("title") or view.label)
        for index, item in enumerate(items):
            item_path = f"{view.path}.{index}"
            number = index + 1
            outer, self.item = self.item, item_path
            try:
                child = self.build(
                    items_node, item_path, item, True, item is None, None, label=f"{item_label} {number}"
                )
            finally:
                self.item = outer
            child.remove_value = item_path
            child.remove_label = t("Xóa {item}", self.lang, item=child.label)
            view.children.append(child)
        max_items = node.get("maxItems")
        if max_items is None or len(items) < int(max_items):
            view.add_value = view.path
            add = ui_for(self.spec, view.path).add_label
            view.add_label = localize(add, self.lang) or t("Thêm {item}", self.lang, item=item_label.lower())

    def _address(self, view: View, node: dict[str, Any], value: Any, use_defaults: bool) -> None:
        view.kind = "address"
        props = node.get("properties") or {p: {"type": "string"} for p in ADDRESS_PARTS}
        required = set(node.get("required") or [])
        value = value if isinstance(value, dict) else {}
        labels = {}
        hints = {}
        for part in ADDRESS_PARTS:
            path = f"{view.path}.{part}"
            sub = props.get(part) if isinstance(props.get(part), dict) else {}
            ui = ui_for(self.spec, path)
            labels[part] = localize(ui.label, self.lang) or str(sub.get("title") or t(ADDRESS_LABELS[part], self.lang))
            hints[part] = localize(ui.help, self.lang)
        parts = [p for p in ADDRESS_PARTS if p in props]
        max_lengths = {p: props[p].get("maxLength") for p in parts if isinstance(props[p], dict)}
        view.children = address_views(view.path, value, self.errors, self.lang, labels, hints,
                                      {p for p in parts if p in required}, parts, max_lengths)

    # leaves

    def _choices(self, view: View, node: dict[str, Any], value: Any, placeholder: Any) -> None:
        ui = ui_for(self.spec, view.path)
        choices = enum_values(node)
        if choices is None and schema_type(node) == "boolean":
            choices = [True, False]
        labels = ui.enum_labels or {}
        selected = {choice_key(v) for v in value} if isinstance(value, list) else {choice_key(value)}
        for index, choice in enumerate(choices or []):
            key = choice_key(choice)
            text = localize(labels.get(key), self.lang) if key in labels else ""
            if not text and isinstance(choice, bool):
                text = t("Có", self.lang) if choice else t("Không", self.lang)
            view.options.append(
                Option(key, text or key, key in selected, view.id if index == 0 else f"{view.id}-{index}")
            )
        if view.kind == "select":
            if not any(o.selected for o in view.options) or not view.required:
                prompt = localize(placeholder, self.lang) or t("— Chọn —", self.lang)
                view.options.insert(0, Option("", prompt, not any(o.selected for o in view.options)))
            view.attrs = self._input_attrs(view, {})
        # a posted value that is not one of the choices is shown as an error, not lost
        known = {o.value for o in view.options}
        view.value = next((s for s in selected if s and s not in known), "")

    def _input(self, view: View, node: dict[str, Any], widget: str, value: Any, placeholder: str) -> None:
        text = _display_input(value)
        attrs: dict[str, Any] = {"type": "text", "value": text, "placeholder": placeholder or None}
        kind = schema_type(node)
        if widget == "number" or (widget == "text" and kind in ("integer", "number")):
            whole = kind == "integer"
            attrs.update(inputmode="numeric" if whole else "decimal", spellcheck="false")
            if whole and (node.get("minimum") or 0) >= 0:
                attrs["pattern"] = "[0-9]*"
        elif widget == "date":
            # a date the citizen typed that is not a real date stays visible as typed
            attrs.update(type="date" if not text or is_iso_date(text) else "text")
            if "x-date" in node:  # the browser's own limits, from the spec's relative dates
                from motcua.date_rules import published_bounds
                from motcua.submission import today_vn

                bounds = published_bounds(node["x-date"], today_vn())
                attrs.update({k: bounds[b] for k, b in (("min", "formatMinimum"), ("max", "formatMaximum")) if b in bounds})
        elif widget == "email":
            attrs.update(type="email", autocomplete="email", spellcheck="false")
        elif widget == "tel":
            attrs.update(type="tel", autocomplete="tel", maxlength=node.get("maxLength") or 15)
        elif widget == "cccd":
            attrs.update(inputmode="numeric", maxlength=12, pattern="[0-9]{12}", autocomplete="off", spellcheck="false")
        elif widget == "tax_code":
            attrs.update(
                inputmode="numeric", maxlength=14, pattern="[0-9]{10}(-[0-9]{3})?|[0-9]{12}", autocomplete="off", spellcheck="false"
            )
        elif widget == "hidden":
            view.kind = "hidden"
            attrs = {"type": "hidden", "value": text}
        elif widget == "textarea":
            view.kind = "textarea"
            view.value = text
            attrs = {"rows": 3, "placeholder": placeholder or None}
        field_type = for_format(node.get("format")) if widget != "hidden" else None
        if field_type is not None:  # a plugin's field type: its input hints, the spec's placeholder first
            for name, hint in field_type.html_attrs(self.lang).items():
                if attrs.get(name) is None:
                    attrs[name] = hint
        if widget in ("text", "textarea", "tel") or kind == "string" and widget not in ("date", "hidden"):
            attrs.setdefault("maxlength", node.get("maxLength"))
        view.kind = view.kind if view.kind in ("hidden", "textarea") else "input"
        view.attrs = self._input_attrs(view, attrs)

    @staticmethod
    def _input_attrs(view: View, attrs: dict[str, Any]) -> dict[str, Any]:
        base: dict[str, Any] = {"id": view.id, "name": view.path}
        if view.kind != "hidden":
            base.update(
                {
                    "aria-describedby": view.describedby or None,
                    "aria-invalid": "true" if view.error else None,
                    "aria-required": "true" if view.required else None,
                }
            )
        base.update(attrs)
        if base.get("checked") is False:
            base["checked"] = None
        return {k: v for k, v in base.items() if v is not None}


def _display_input(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return ""
    return str(value)


def address_views(
    path: str,
    value: Mapping[str, Any] | None,
    errors: Mapping[str, str],
    lang: str = "vi",
    labels: Mapping[str, str] | None = None,
    hints: Mapping[str, str] | None = None,
    required: set[str] | None = None,
    parts: list[str] | None = None,
    max_lengths: Mapping[str, Any] | None = None,
) -> list[View]:
    """The inputs of an address at `path`: province <select> (codes of motcua.units), the
    commune as a <select> of that province's communes once the province is known (else a
    text input, looked up by name on the server), the street.

    Without JavaScript the "show the communes" button re-posts the page (UNITS_BUTTON);
    form.js hides it and fills the commune list from COMMUNES_URL when the province changes.
    A value that is not in the table (an old commune name) is kept and shown as typed.
    """
    value = value or {}
    labels = labels or {}
    hints = hints or {}
    required = set(ADDRESS_PARTS) if required is None else required
    max_lengths = max_lengths or {}
    chosen = units.province(value.get(CODE_KEYS["province"]) or value.get("province"))
    views = []
    for part in parts or ADDRESS_PARTS:
        part_path = f"{path}.{part}"
        view = View(
            kind="select",
            path=part_path,
            id=field_id(part_path),
            label=labels.get(part) or t(ADDRESS_LABELS[part], lang),
            hint=hints.get(part, ""),
            error=errors.get(part_path, ""),
            required=part in required,
        )
        typed = str(value.get(part) or "")
        attrs: dict[str, Any] = {"autocomplete": ADDRESS_AUTOCOMPLETE[part]}
        if part == "province":
            view.options = [Option("", t("— Chọn tỉnh, thành phố —", lang), chosen is None)] + [
                Option(p.code, p.en if lang == "en" else p.name, chosen is not None and p.code == chosen.code)
                for p in units.provinces()
            ]
            view.value = typed if chosen is None else ""
            attrs.update({"data-units-province": field_id(f"{path}.commune"), "data-communes-url": COMMUNES_URL})
            view.button = {"name": UNITS_BUTTON, "value": path, "label": t("Hiện danh sách xã, phường, đặc khu", lang)}
        elif part == "commune" and chosen is not None:
            place = units.find_commune(chosen.code, value.get(CODE_KEYS["commune"]) or typed)
            view.options = [Option("", t("— Chọn xã, phường, đặc khu —", lang), place is None)] + [
                Option(c.code, c.name, place is not None and c.code == place.code) for c in units.communes(chosen.code)
            ]
            view.value = typed if place is None else ""
        else:
            view.kind = "input"
            if part == "commune":
                view.hint = view.hint or t("Chọn tỉnh, thành phố trước để chọn trong danh sách; hoặc gõ tên xã, phường, đặc khu.", lang)
                # form.js turns the field into that list: the hint it then shows
                attrs["data-list-hint"] = t("Chọn xã, phường, đặc khu trong danh sách.", lang)
            attrs.update({"type": "text", "value": typed, "maxlength": max_lengths.get(part) or 200})
        view.attrs = _Builder._input_attrs(view, attrs)
        views.append(view)
    return views


def render_address(path: str, value: Mapping[str, Any] | None, errors: Mapping[str, str], lang: str = "vi") -> Markup:
    """The inputs of an address outside a spec's form (the postal delivery address), to put
    in the page's own fieldset; posted back as `<path>.province` etc."""
    views = address_views(path, value, errors, lang)
    html = environment().get_template("form_fields.html").render(views=views, texts=_texts(lang))
    return Markup(html)


def parse_address(path: str, form: Any) -> dict[str, str]:
    """What render_address's inputs posted, as typed (bounded): units.resolve_address and
    submission.address_errors make it an address, or say what is wrong with it."""
    return {part: str(form.get(f"{path}.{part}") or "")[:500] for part in ADDRESS_PARTS}


def render_fields(
    spec: ProcedureSpec,
    field_names: list[str] | None,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    lang: str = "vi",
    marks: Mapping[str, str] | None = None,
) -> Markup:
    """HTML of these top-level fields (None = all), with values kept and errors beside them.

    `marks` ({path: "locked" | "prefilled"}): values that came from the signed-in citizen's
    identity say so in their hint; locked ones are read-only (the server refuses a change).

    Defaults from the schema fill a field only on its first showing: when none of these
    fields has an answer yet (top level) or when its enclosing object has no answer.
    """
    if spec.form is None:
        return Markup("")
    root = spec.form.fields
    props = root.get("properties") or {}
    names = [n for n in (field_names if field_names is not None else list(props)) if isinstance(props.get(n), dict)]
    below = conditionally_required(root)
    required = set(root.get("required") or []) | {p for p in below if "." not in p}
    conditions = show_conditions(root, "")
    first_showing = not any(n in values for n in names)
    builder = _Builder(spec, errors, lang)
    views = [
        builder.build(
            props[n],
            n,
            values.get(n),
            n in required,
            first_showing,
            conditions.get(n),
            extra_required=frozenset(p.split(".", 1)[1] for p in below if p.startswith(n + ".")),
        )
        for n in names
    ]
    if marks:
        _mark(views, marks, lang)
    html = environment().get_template("form_fields.html").render(views=views, texts=_texts(lang))
    return Markup(html)


def _mark(views: list[View], marks: Mapping[str, str], lang: str) -> None:
    for view in views:
        mark = marks.get(view.path)
        if mark and view.kind in ("input", "textarea", "select"):
            note = (t("Lấy từ tài khoản định danh điện tử, không sửa được.", lang) if mark == "locked"
                    else t("Lấy từ tài khoản định danh điện tử; sửa nếu cần.", lang))
            view.hint = f"{view.hint} {note}".strip()
            view.attrs["aria-describedby"] = view.describedby or None
            view.attrs["data-prefilled"] = mark
            if mark == "locked":
                view.attrs["readonly"] = "readonly"
                view.attrs["class"] = (str(view.attrs.get("class") or "") + " locked-field").strip()
        _mark(view.children, marks, lang)


def _texts(lang: str) -> dict[str, str]:
    return {
        "error_prefix": t("Lỗi:", lang),
        "required": t("(bắt buộc)", lang),
        "optional": t("(không bắt buộc)", lang),
    }


def error_summary(spec: ProcedureSpec, errors: Mapping[str, str], lang: str = "vi") -> Markup:
    """The box at the top of a page with errors, each linking to its field (GOV.UK pattern)."""
    if not errors:
        return Markup("")
    items = [
        {"href": "#" + field_id(path) if path else "", "message": message}
        for path, message in order_errors(spec, errors).items()
    ]
    html = environment().get_template("error_summary.html").render(
        items=items, title=t("Có lỗi cần sửa", lang)
    )
    return Markup(html)


# --- repeating groups -----------------------------------------------------------------------


def repeat_action(form: Any) -> tuple[str, str] | None:
    """`("add", "children")` or `("remove", "children.1")` when one of those buttons was used."""
    for op, key in (("add", ADD), ("remove", REMOVE)):
        value = form.get(key)
        if value:
            return op, str(value)
    return None


def max_items(node: Any) -> int:
    """How many items an array field holds: its `maxItems`, else MAX_REPEAT_ITEMS."""
    limit = node.get("maxItems") if isinstance(node, dict) else None
    if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0:
        return limit
    return MAX_REPEAT_ITEMS


def repeat_limit(spec: ProcedureSpec, path: str) -> int:
    """`max_items` of the array field at a dotted answer path (`children`, `a.0.b`)."""
    from motcua.spec.lint import field_at

    return max_items(field_at(spec.form.fields, path) if spec.form is not None else None)


class RepeatFull(ValueError):
    """"Add another" was used on a repeating group that already holds its most items."""

    def __init__(self, path: str, limit: int) -> None:
        super().__init__(f"{path} holds at most {limit} items")
        self.path, self.limit = path, limit


def apply_repeat(answers: Mapping[str, Any], action: tuple[str, str], limit: int | None = None) -> dict[str, Any]:
    """A copy of the answers with one item added to, or removed from, an array.

    With `limit` (see `repeat_limit`), adding to an array that already holds that many
    items raises RepeatFull instead.
    """
    result = copy.deepcopy(dict(answers))
    op, path = action
    parts = path.split(".")
    if op == "remove":
        if not parts[-1].isdigit():
            return result
        parts, index = parts[:-1], int(parts[-1])
    container: Any = result
    for part in parts[:-1]:
        container = container[int(part)] if isinstance(container, list) and part.isdigit() else container.setdefault(part, {})
        if not isinstance(container, (dict, list)):
            return result
    key: Any = int(parts[-1]) if isinstance(container, list) else parts[-1]
    try:
        items = container[key] if isinstance(container, list) else container.setdefault(key, [])
    except (IndexError, KeyError):
        return result
    if not isinstance(items, list):
        return result
    if op == "add":
        if limit is not None and len(items) >= limit:
            raise RepeatFull(path, limit)
        items.append(None)
    elif 0 <= index < len(items):
        del items[index]
    return result


# --- parsing --------------------------------------------------------------------------------

_ABSENT = object()
# ASCII digits only: \d and int() take every Unicode digit (issue 10)
_WHOLE = re.compile(r"[+-]?[0-9]+")
_GROUPED = re.compile(r"[0-9]{1,3}([.\s][0-9]{3})+")
_DMY = re.compile(r"([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4})")


def parse_form(
    spec: ProcedureSpec,
    form: Any,
    field_names: list[str] | None = None,
    *,
    drop_hidden: bool = True,
) -> dict[str, Any]:
    """Posted strings -> typed answers. Inverse of `render_fields`.

    Empty strings are dropped; a number that does not parse stays the raw string so that
    validation reports it and the page shows it again. An unchecked checkbox of a field on
    this page is False. Empty optional objects are dropped; empty required ones stay `{}`
    so their own required fields are reported. With `drop_hidden`, answers of fields that
    the schema's conditions hide are dropped (the server decides again what JS showed).
    """
    if spec.form is None:
        return {}
    root = spec.form.fields
    props = root.get("properties") or {}
    names = [n for n in (field_names if field_names is not None else list(props)) if isinstance(props.get(n), dict)]
    answers: dict[str, Any] = {}
    for name in names:
        value = _parse(spec, props[name], name, form)
        if value is not _ABSENT:
            answers[name] = value
    _settle(root, answers, set(names), drop_hidden)
    return answers


def _parse(spec: ProcedureSpec, node: dict[str, Any], path: str, form: Any) -> Any:
    widget = widget_for(node, ui_for(spec, path))
    kind = schema_type(node)
    if widget == "address" or kind == "object":
        props = node.get("properties") or ({p: {"type": "string"} for p in ADDRESS_PARTS} if widget == "address" else {})
        obj = {}
        for name, sub in props.items():
            if isinstance(sub, dict):
                value = _parse(spec, sub, f"{path}.{name}", form)
                if value is not _ABSENT:
                    obj[name] = value
        if widget == "address":  # a commune picked (code) or typed (name): its name and code kept
            return {**obj, **units.resolve_address(obj, province_as_posted=True)}
        return obj
    if kind == "array":
        items = node.get("items") if isinstance(node.get("items"), dict) else {"type": "string"}
        if widget == "checkboxes" or enum_values(node) is not None:
            return [_convert(items, s.strip()) for s in form.getlist(path) if s.strip()]
        prefix = path + "."
        cap = max_items(node)
        indexes = sorted(
            {
                index
                for key in form.keys()
                if key.startswith(prefix)
                and _INDEX.fullmatch(seg := key[len(prefix):].split(".")[0])
                and (index := int(seg)) < cap
            }
        )
        parsed = [_parse(spec, items, f"{path}.{i}", form) for i in indexes]
        return [v for v in parsed if v is not _ABSENT]
    if kind == "boolean" and widget == "checkbox":
        return form.get(path) in ("true", "on", "1", "yes")
    raw = form.get(path)
    if raw is None or not str(raw).strip():
        return _ABSENT
    return _convert(node, str(raw).strip())


def _convert(node: dict[str, Any], raw: str) -> Any:
    choices = enum_values(node) if schema_type(node) != "array" else None
    if choices is not None:
        return next((c for c in choices if choice_key(c) == raw), raw)
    kind = schema_type(node)
    if kind == "integer":
        compact = raw.replace(" ", "")
        digits = re.sub(r"[.\s]", "", raw)
        if len(digits.lstrip("+-")) > MAX_INT_DIGITS:
            return raw
        if _WHOLE.fullmatch(compact):
            return int(compact)
        if _GROUPED.fullmatch(raw):
            return int(digits)
        return raw
    if kind == "number":
        text = raw.replace(" ", "")
        if "," in text:
            text = text.replace(".", "").replace(",", ".")
        if len(text) > MAX_INT_DIGITS * 2 or not re.fullmatch(r"[0-9.+\-eE]+", text):
            return raw
        try:
            number = float(text)
        except ValueError:
            return raw
        if not math.isfinite(number):
            return raw
        return int(number) if _WHOLE.fullmatch(text) else number
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    fmt = node.get("format")
    if fmt == "date":
        match = _DMY.fullmatch(raw)
        if match:
            day, month, year = (int(g) for g in match.groups())
            try:
                return date(year, month, day).isoformat()
            except ValueError:
                return raw
    elif fmt == "vn-mobile" and is_vn_mobile(raw):
        return normalize_mobile(raw)
    elif fmt in ("cccd", "tax-code"):
        compact = re.sub(r"[\s.]", "", raw)
        return compact if re.fullmatch(r"[0-9-]+", compact) else raw
    elif (widget := for_format(fmt)) is not None:  # a plugin's field type (`motcua.widgets`)
        return widget.clean(raw)
    return raw


def _branch_holds(if_schema: dict[str, Any], obj: Mapping[str, Any]) -> bool:
    return Draft202012Validator(if_schema).is_valid(obj)


def _settle(node: dict[str, Any], obj: dict[str, Any], scope: set[str] | None, drop_hidden: bool) -> None:
    """Drop hidden answers and empty optional objects, inside out."""
    props = node.get("properties") or {}
    required = set(node.get("required") or [])
    shown_by: dict[str, bool] = {}
    for rule in object_rules(node, ""):
        active = _branch_holds(rule.if_schema, obj)
        for name in rule.shows:
            shown_by[name] = shown_by.get(name, False) or active
        for name in rule.else_shows:
            shown_by[name] = shown_by.get(name, False) or not active
        for path in rule.requires if active else rule.else_requires:
            if "." not in path:
                required.add(path)
    for name in list(obj):
        if scope is not None and name not in scope:
            continue
        if drop_hidden and shown_by.get(name) is False:
            del obj[name]
            continue
        sub = props.get(name) if isinstance(props.get(name), dict) else {}
        value = obj[name]
        if isinstance(value, dict):
            _settle(sub, value, None, drop_hidden)
            if not value and name not in required:
                del obj[name]
        elif isinstance(value, list) and isinstance(sub.get("items"), dict):
            for item in value:
                if isinstance(item, dict):
                    _settle(sub["items"], item, None, drop_hidden)


# --- attachments ----------------------------------------------------------------------------

MIME_LABELS = {
    "application/pdf": "PDF",
    "image/jpeg": "JPG",
    "image/png": "PNG",
    "image/tiff": "TIFF",
    "application/msword": "DOC",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
    "application/vnd.ms-excel": "XLS",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
    "application/zip": "ZIP",
}
MIME_EXTENSIONS = {"image/jpeg": ".jpg,.jpeg", "application/pdf": ".pdf", "image/png": ".png"}


def format_size(size: float, lang: str = "vi") -> str:
    """`1258291` -> `1,2 MB` (Vietnamese decimal comma)."""
    if size < 1024:
        text = f"{int(size)} B"
    elif size < 1024 * 1024:
        text = f"{round(size / 1024)} KB"
    else:
        mb = size / (1024 * 1024)
        text = (f"{mb:.1f}".rstrip("0").rstrip(".") if mb % 1 else f"{int(mb)}") + " MB"
    return text.replace(".", ",") if lang == "vi" else text


def attachment_required(attachment: Attachment, answers: Mapping[str, Any]) -> bool:
    """Required for these answers: `required_when` if given, else `required`."""
    if attachment.required_when is not None:
        return holds(attachment.required_when, answers)
    return attachment.required


def copies_text(attachment: Attachment, lang: str) -> str:
    return t("Bản chính: {originals}, bản sao: {copies}", lang, originals=attachment.originals, copies=attachment.copies)


def render_attachments(
    spec: ProcedureSpec,
    answers: Mapping[str, Any],
    uploaded: Mapping[str, AttachmentRef | list[AttachmentRef]],
    errors: Mapping[str, str],
    lang: str = "vi",
    choices: Mapping[str, list[tuple[str, str]]] | None = None,
) -> Markup:
    """File inputs `attachment.<id>`; files already uploaded are shown as kept, not asked again.

    With `choices` (a signed-in citizen's earlier files per component: file id, label), each
    slot also offers a plain select `reuse.attachment.<id>` to attach one without uploading.
    The enclosing form needs `enctype="multipart/form-data"`.
    """
    rows = []
    for attachment in spec.attachments:
        path = f"attachment.{attachment.id}"
        view = View(kind="file", path=path, id=field_id(path), error=errors.get(path, ""))
        view.label = localize(attachment.name, lang)
        refs = uploaded.get(attachment.id)
        refs = [refs] if isinstance(refs, AttachmentRef) else list(refs or [])
        view.required = attachment_required(attachment, answers) and not refs
        kinds = ", ".join(MIME_LABELS.get(m, m) for m in attachment.accept)
        size = format_size(attachment.max_size_mb * 1024 * 1024, lang)
        view.hint = " · ".join(
            part
            for part in (
                copies_text(attachment, lang) if attachment.originals or attachment.copies else "",
                t("Định dạng: {kinds}; tối đa {size}", lang, kinds=kinds, size=size),
                t("Theo mẫu: {template}", lang, template=localize(attachment.template, lang)) if attachment.template else "",
                localize(attachment.note, lang),
            )
            if part
        )
        accept = ",".join([m for m in attachment.accept] + [MIME_EXTENSIONS[m] for m in attachment.accept if m in MIME_EXTENSIONS])
        view.attrs = {
            "type": "file",
            "id": view.id,
            "name": path,
            "accept": accept,
            "data-max-bytes": int(attachment.max_size_mb * 1024 * 1024),
            "aria-describedby": " ".join(
                filter(None, [view.describedby, f"{view.id}-uploaded" if refs else ""])
            ),
            "aria-invalid": "true" if view.error else None,
            "aria-required": "true" if view.required else None,
        }
        view.attrs = {k: v for k, v in view.attrs.items() if v is not None}
        conditional = attachment.required_when is not None
        rows.append(
            {
                "view": view,
                "uploaded": [{"name": r.filename, "size": format_size(r.size, lang)} for r in refs],
                "reuse": (choices or {}).get(attachment.id) or [],
                "status": (
                    t("Đã tải lên", lang)
                    if refs
                    else t("Bắt buộc", lang)
                    if view.required
                    else t("Không bắt buộc trong trường hợp của bạn", lang)
                    if conditional
                    else t("Không bắt buộc", lang)
                ),
            }
        )
    html = environment().get_template("attachments.html").render(
        rows=rows,
        texts={
            "uploaded": t("Đã tải lên:", lang),
            "replace": t("thay tệp khác", lang),
            "choose": t("Chọn tệp", lang),
            "error_prefix": t("Lỗi:", lang),
            "reuse": t("Hoặc chọn từ giấy tờ của tôi", lang),
            "reuse_none": t("Không chọn", lang),
        },
    )
    return Markup(html)


__all__ = [
    "ADD",
    "REMOVE",
    "apply_repeat",
    "attachment_required",
    "error_summary",
    "field_id",
    "format_size",
    "parse_form",
    "render_attachments",
    "render_fields",
    "repeat_action",
]
