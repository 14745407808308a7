"""Prefilling a form from the signed-in citizen's identity (`form.prefill` in a spec).

Pure functions over the answers: what each prefilled path gets from the identity's claims
(motcua.identity.CLAIMS), putting those values into a draft's answers, and the errors for a
locked value that was changed — checked on the server on every post and again at filing,
so a browser that ignores `readonly` cannot file someone else's ID number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from motcua.i18n import N_
from motcua.spec.conditions import lookup as _lookup
from motcua.spec.model import ProcedureSpec

def lookup(values: Mapping[str, Any], path: str) -> Any:
    """The answer at a dotted path, None when absent."""
    found = _lookup(values, path)
    return found if isinstance(found, (str, int, float, bool, dict, list)) else None


LOCKED_MESSAGE = N_("Thông tin này lấy từ tài khoản định danh điện tử và không được sửa.")


def _field(spec: ProcedureSpec, path: str) -> dict[str, Any]:
    from motcua.spec.lint import field_at

    found = field_at(spec.form.fields, path) if spec.form else None
    return found if isinstance(found, dict) else {}


def _as_field_value(node: Mapping[str, Any], value: Any) -> Any:
    """A claim in the shape its field takes: an address object as text for a text field."""
    if isinstance(value, Mapping):  # the permanent address: province and commune codes
        from motcua.units import address_text, resolve_address

        if node.get("type") == "string":
            return address_text(resolve_address(value))
        return resolve_address(value, province_as_posted=True)
    if node.get("type") == "string" and not isinstance(value, str):
        return str(value)
    return value


def identity_values(spec: ProcedureSpec, claims: Mapping[str, Any]) -> dict[str, tuple[Any, bool]]:
    """{path: (value, locked)} for every prefilled path whose claim the identity carries."""
    if spec.form is None:
        return {}
    out: dict[str, tuple[Any, bool]] = {}
    for path, rule in spec.form.prefill.items():
        value = claims.get(rule.claim)
        if value in (None, ""):
            continue
        out[path] = (_as_field_value(_field(spec, path), value), rule.lock)
    return out


def _set(values: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = values
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[parts[-1]] = value


def fill(spec: ProcedureSpec, values: dict[str, Any], claims: Mapping[str, Any], locked_only: bool = False) -> dict[str, Any]:
    """`values` with every prefilled path set: locked ones always, the others when empty
    (and not at all with `locked_only`: a draft's answers the citizen may have cleared)."""
    for path, (value, locked) in identity_values(spec, claims).items():
        if locked or (not locked_only and lookup(values, path) in (None, "")):
            _set(values, path, value)
    return values


def marks(spec: ProcedureSpec, claims: Mapping[str, Any]) -> dict[str, str]:
    """{path: "locked" | "prefilled"} for the form renderer."""
    return {path: "locked" if locked else "prefilled" for path, (_v, locked) in identity_values(spec, claims).items()}


def locked_errors(
    spec: ProcedureSpec, values: Mapping[str, Any], claims: Mapping[str, Any], fields: tuple[str, ...] | None = None
) -> dict[str, str]:
    """{path: message} for each locked value (of these top-level fields) not the identity's."""
    out = {}
    for path, (value, locked) in identity_values(spec, claims).items():
        if locked and (fields is None or path.split(".")[0] in fields) and lookup(values, path) != value:
            out[path] = LOCKED_MESSAGE
    return out
