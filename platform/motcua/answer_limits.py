"""Bounds on a text answer before any `pattern` is run over it.

Spec `pattern`s are written by administrators and run by Python's backtracking `re` on every
citizen's answer. The linter refuses the shapes known to explode (motcua.spec.redos), but a
heuristic misses some polynomial ones, and the time of any regex grows with the input. So
every text field without a `maxLength` gets the platform's cap at validation, and a pattern
is never run over a text longer than its field allows: that answer already has its
"too long" error, in the citizen's words, next to the field.

The cap is published too (motcua.published_schema): what the server enforces, the API's
submission schema says.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

#: Longest answer a text field takes when its spec sets no `maxLength` (a long free-text
#: note is a few hundred characters; an address at most 250).
MAX_TEXT_CHARS = 2000

_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
#: `if` and `not` are left alone: a cap there would change what the condition means.
_ONE = ("items", "additionalProperties", "then", "else", "contains", "propertyNames",
        "unevaluatedItems", "unevaluatedProperties", "contentSchema")
_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")


def _schemas(schema: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(schema, dict):
        return
    yield schema
    for key in _MAPS:
        if isinstance(schema.get(key), dict):
            for sub in schema[key].values():
                yield from _schemas(sub)
    for key in _ONE:
        yield from _schemas(schema.get(key))
    for key in _LISTS:
        if isinstance(schema.get(key), list):
            for sub in schema[key]:
                yield from _schemas(sub)


def _is_text(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "string" or (isinstance(kind, list) and "string" in kind) or (kind is None and "pattern" in schema)


def capped(schema: dict[str, Any], cap: int = MAX_TEXT_CHARS) -> dict[str, Any]:
    """A copy of `schema` where every text field without `maxLength` has `maxLength: cap`."""
    schema = copy.deepcopy(schema)
    for sub in _schemas(schema):
        if _is_text(sub) and not isinstance(sub.get("maxLength"), int):
            sub["maxLength"] = cap
    return schema


@lru_cache(maxsize=1024)
def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """A JSON Schema `pattern` as ECMA-262 reads it: `\\d`, `\\w`, `\\b` are ASCII (Python's
    `re` would let `\\d` take Arabic-Indic or full-width digits, which clients refuse)."""
    return re.compile(pattern, re.ASCII)


def _bounded_pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if not validator.is_type(instance, "string"):
        return
    limit = schema.get("maxLength")
    if len(instance) > (limit if isinstance(limit, int) else MAX_TEXT_CHARS):
        return  # too long: `maxLength` says so; the pattern never sees it
    if not ecma_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


BoundedValidator = validators.extend(Draft202012Validator, {"pattern": _bounded_pattern})


def bounded_validator(schema: dict[str, Any], format_checker: Any = None) -> Any:
    """A draft 2020-12 validator for answers: capped texts, patterns only on allowed lengths."""
    return BoundedValidator(capped(schema), format_checker=format_checker)
