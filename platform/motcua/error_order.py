"""The order errors are listed in: the order their fields appear to the citizen.

JSON Schema validation reports errors in the order of the schema's keywords (a `format`
under `properties` before a `required` of the same object), so an error dict built from it
reads out of order: "Số định danh" before "Họ và tên". The summary at the top of a page,
the check-your-answers page and the API's 422 list all read better in the form's order:
the whole-form error (path "") first, then the form's fields (pages in order, then fields
on no page; nested objects and array items in place, address parts as drawn: province,
commune, street), then attachments in the spec's order, then the delivery choice, then
anything else as it came.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from motcua import units
from motcua.spec.model import ProcedureSpec

_ADDRESS_KEYS = frozenset((*units.ADDRESS_PARTS, *units.LEGACY_PARTS, *units.CODE_KEYS.values()))
_LAST = 10**9


def _top_level(spec: ProcedureSpec) -> list[str]:
    """Top-level field names in the order the steps show them."""
    if spec.form is None:
        return []
    names: list[str] = []
    for page in spec.form.pages:
        names += [n for n in page.fields if n not in names]
    names += [n for n in (spec.form.fields.get("properties") or {}) if n not in names]
    return names


def _is_address(spec: ProcedureSpec, node: Mapping[str, Any], ui_key: str) -> bool:
    ui = spec.form.ui.get(ui_key) if spec.form else None
    if ui is not None and ui.widget:
        return ui.widget == "address"
    props = node.get("properties") or {}
    return "province" in props and set(props) <= _ADDRESS_KEYS


def _children(spec: ProcedureSpec, node: Mapping[str, Any], ui_key: str) -> list[str]:
    props = list(node.get("properties") or {})
    if _is_address(spec, node, ui_key):
        drawn = list(units.ADDRESS_PARTS)
        return drawn + [p for p in props if p not in drawn]
    return props


def _form_key(spec: ProcedureSpec, path: str) -> tuple[int, ...]:
    parts = path.split(".")
    order = _top_level(spec)
    key = [order.index(parts[0]) if parts[0] in order else _LAST]
    node: Any = (spec.form.fields.get("properties") or {}).get(parts[0]) if spec.form else None
    ui_key = parts[0]
    for part in parts[1:]:
        if not isinstance(node, Mapping):
            key.append(_LAST)
            continue
        if part.isdigit() and isinstance(node.get("items"), Mapping):
            key.append(int(part))
            node = node["items"]
            continue
        names = _children(spec, node, ui_key)
        key.append(names.index(part) if part in names else _LAST)
        node = (node.get("properties") or {}).get(part)
        ui_key = f"{ui_key}.{part}"
    return tuple(key)


def error_key(spec: ProcedureSpec, path: str) -> tuple[int, ...]:
    """Where an error at this dotted path sorts; a group's own error before its fields'."""
    if path == "":
        return (0,)
    head, _, rest = path.partition(".")
    if head == "attachment":
        ids = [a.id for a in spec.attachments]
        return (2, ids.index(rest) if rest in ids else _LAST)
    if head == "delivery":
        return (3, 0 if rest == "kind" else 1, *_delivery_key(rest))
    if spec.form is not None and head in (spec.form.fields.get("properties") or {}):
        return (1, *_form_key(spec, path))
    return (4,)


def _delivery_key(rest: str) -> tuple[int, ...]:
    parts = rest.split(".")
    if len(parts) == 2 and parts[0] == "address" and parts[1] in units.ADDRESS_PARTS:
        return (units.ADDRESS_PARTS.index(parts[1]),)
    return (_LAST,)


def order_errors(spec: ProcedureSpec, errors: Mapping[str, str]) -> dict[str, str]:
    """The same errors, in the order the citizen meets their fields (stable otherwise)."""
    return dict(sorted(errors.items(), key=lambda item: error_key(spec, item[0])))
