"""Answers as rows a person reads: the check-your-answers page, the receipt, the staff view.

Dates read dd/mm/yyyy, choices read as their labels, booleans as Có / Không, a province
code as its name. Fields the schema's conditions hide are left out, as are empty answers
and hidden widgets.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from jsonschema import Draft202012Validator

from motcua.spec.model import ProcedureSpec, localize
from motcua_renderers.l10n import format_date, t
from motcua.integrations.widgets import for_format
from motcua.units import address_text
from motcua_renderers.schema import (
    choice_key,
    enum_values,
    object_rules,
    schema_type,
    ui_for,
    widget_for,
)

SEPARATOR = " › "


def display_date(value: Any, lang: str | None = None) -> str:
    """`2025-05-20` -> `20/05/2025` (`May 20, 2025` in English); anything else as given."""
    if isinstance(value, date):
        return format_date(value, lang)
    return format_date(str(value), lang) if len(str(value)) == 10 else str(value)


def _number(value: float | int, lang: str) -> str:
    if isinstance(value, float) and not value.is_integer():
        text = f"{value:g}"
        return text.replace(".", ",") if lang == "vi" else text
    return str(int(value))


def display_value(spec: ProcedureSpec, node: dict[str, Any], path: str, value: Any, lang: str = "vi") -> str:
    """One answer as text, the way the form showed its choices."""
    ui = ui_for(spec, path)
    labels = ui.enum_labels or {}

    def choice(v: Any) -> str:
        key = choice_key(v)
        if key in labels:
            return localize(labels[key], lang)
        if isinstance(v, bool):
            return t("Có", lang) if v else t("Không", lang)
        return key

    if isinstance(value, list):
        return ", ".join(choice(v) for v in value)
    if isinstance(value, dict):
        return address_text(value, lang)
    if enum_values(node) is not None or isinstance(value, bool):
        return choice(value)
    if node.get("format") == "date":
        return display_date(value, lang)
    widget = for_format(node.get("format"))
    if widget is not None and isinstance(value, str):  # a plugin's field type (`motcua.widgets`)
        return widget.display(value)
    if isinstance(value, (int, float)):
        return _number(value, lang)
    return str(value)


def _hidden_names(node: dict[str, Any], obj: Mapping[str, Any]) -> set[str]:
    shown: dict[str, bool] = {}
    for rule in object_rules(node, ""):
        active = Draft202012Validator(rule.if_schema).is_valid(obj)
        for name in rule.shows:
            shown[name] = shown.get(name, False) or active
        for name in rule.else_shows:
            shown[name] = shown.get(name, False) or not active
    return {name for name, visible in shown.items() if not visible}


def _rows(
    spec: ProcedureSpec, node: dict[str, Any], obj: Mapping[str, Any], prefix: str, heading: str, lang: str
) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    hidden = _hidden_names(node, obj)
    for name, sub in (node.get("properties") or {}).items():
        if not isinstance(sub, dict) or name in hidden or name not in obj:
            continue
        value = obj[name]
        path = f"{prefix}.{name}" if prefix else name
        widget = widget_for(sub, ui_for(spec, path))
        if widget == "hidden" or value is None or value == "" or value == []:
            continue
        label = localize(ui_for(spec, path).label, lang) or str(sub.get("title") or name)
        full = f"{heading}{SEPARATOR}{label}" if heading else label
        kind = schema_type(sub)
        if widget != "address" and kind == "object" and isinstance(value, dict):
            rows.extend(_rows(spec, sub, value, path, full, lang))
        elif kind == "array" and isinstance(sub.get("items"), dict) and schema_type(sub["items"]) == "object":
            item_label = localize(ui_for(spec, path + ".0").label, lang) or str(sub["items"].get("title") or label)
            for index, item in enumerate(value if isinstance(value, list) else []):
                if isinstance(item, dict):
                    item_heading = f"{heading}{SEPARATOR}{item_label} {index + 1}" if heading else f"{item_label} {index + 1}"
                    rows.extend(_rows(spec, sub["items"], item, f"{path}.{index}", item_heading, lang))
        elif kind == "array" and enum_values(sub) is None and isinstance(value, list):
            for index, item in enumerate(value):
                rows.append((f"{path}.{index}", f"{full} {index + 1}", display_value(spec, sub["items"], f"{path}.{index}", item, lang)))
        else:
            rows.append((path, full, display_value(spec, sub, path, value, lang)))
    return rows


def answer_rows(
    spec: ProcedureSpec, answers: Mapping[str, Any], lang: str = "vi", *, with_paths: bool = False
) -> list[tuple[str, str]] | list[tuple[str, str, str]]:
    """(label, display value) per answer, in the form's order; nested labels joined by ›.

    With `with_paths`, (path, label, value): the path finds the page to change an answer.
    """
    if spec.form is None:
        return []
    rows = _rows(spec, spec.form.fields, answers, "", "", lang)
    return rows if with_paths else [(label, value) for _, label, value in rows]
