"""`motcua.widgets`: field types a spec may use beyond the built-in ones, the contract.

A widget names a format (`format: bien-so-xe` in a spec field): it parses and checks what the
citizen typed with its own messages `{vi, en}`, publishes its JSON Schema fragment, and
renders the value in the summary and the printed documents.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from motcua.integrations.base import Plugin

log = logging.getLogger(__name__)

#: What a field type may set on the citizen's `<input>`: hints for typing and the browser's own
#: checks. The rest is the form's (id, name, value, aria-*, the field's type), and scripts
#: (`on...` handlers) are never a plugin's to add: anything else is left out, with a warning.
INPUT_ATTRIBUTES = frozenset({"autocapitalize", "autocomplete", "autocorrect", "enterkeyhint", "inputmode", "maxlength",
                              "minlength", "pattern", "placeholder", "size", "spellcheck", "title"})


class Widget(Plugin):
    #: the JSON Schema of a value (`{"type": "string", "pattern": ...}`)
    schema: ClassVar[dict[str, Any]] = {"type": "string"}
    #: the HTML input's attributes (`inputmode`, `pattern`, `placeholder` ...; a value may be
    #: `{vi, en}`), limited to `INPUT_ATTRIBUTES` and `data-*`; a spec's `ui.placeholder` wins
    input_attrs: ClassVar[dict[str, Any]] = {}

    def html_attrs(self, lang: str = "vi") -> dict[str, str | int]:
        """`input_attrs` as the form renders them: in the reader's language, only the allowed
        names (INPUT_ATTRIBUTES, `data-*`); a name outside them is dropped and logged."""
        out: dict[str, str | int] = {}
        for name, value in (self.input_attrs or {}).items():
            key = str(name).lower()
            if key not in INPUT_ATTRIBUTES and not (key.startswith("data-") and key[5:].replace("-", "").isalnum()):
                log.warning("field type %s: input attribute %r is not one a field type may set; left out", self.id, name)
                continue
            if isinstance(value, dict):
                value = value.get(lang) or value.get("vi") or ""
            if isinstance(value, bool):
                value = "true" if value else "false"
            if value is None or value == "":
                continue
            out[key] = value if isinstance(value, int) else str(value)
        return out

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
