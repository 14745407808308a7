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
