"""`motcua.widgets`: field types a spec may use beyond the built-in ones, the contract.

A widget names a format (`format: bien-so-xe` in a spec field): it parses and checks what the
citizen typed with its own messages `{vi, en}`, publishes its JSON Schema fragment, and
renders the value in the summary and the printed documents.
"""

from __future__ import annotations

from typing import Any, ClassVar

from motcua.integrations.base import Plugin


class Widget(Plugin):
    #: the JSON Schema of a value (`{"type": "string", "pattern": ...}`)
    schema: ClassVar[dict[str, Any]] = {"type": "string"}
    #: the HTML input's attributes (`inputmode`, `pattern`, `placeholder` ...)
    input_attrs: ClassVar[dict[str, str]] = {}

    def clean(self, value: str) -> str:
        """The value as stored (spaces trimmed, upper-cased ...)."""
        return value.strip()

    def problem(self, value: str) -> dict[str, str] | None:
        """Why the value is wrong, `{vi, en}`, or None."""
        return None

    def display(self, value: str) -> str:
        """The value as printed (summary, PDF, DOCX)."""
        return value


def for_format(fmt: object) -> Widget | None:
    """The installed field type whose identifier is this JSON Schema `format`, or None."""
    from motcua.integrations import WIDGETS

    cls = WIDGETS.all().get(fmt) if isinstance(fmt, str) else None
    return cls({}) if cls is not None else None


def formats() -> dict[str, Widget]:
    """Every installed field type, by its format."""
    from motcua.integrations import WIDGETS

    return {fmt: cls({}) for fmt, cls in WIDGETS.all().items()}


def published(schema: Any) -> Any:
    """`schema` with each field-type node completed by its widget's own schema (its pattern,
    lengths ...), so what the API publishes carries what the format checks."""
    if isinstance(schema, list):
        return [published(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: published(value) for key, value in schema.items()}
    found = for_format(out.get("format"))
    if found is not None:
        for key, value in found.schema.items():
            out.setdefault(key, value)
    return out
