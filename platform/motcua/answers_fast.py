"""A compiled yes/no check of answers, before the full validation that words the errors.

`jsonschema` (pure Python) walks a 50-field form with conditions in several milliseconds,
on every step a citizen posts and every API filing. Most submissions are valid, and a valid
one needs no error messages: jsonschema-rs (a maintained Rust implementation of the same
JSON Schema drafts) answers "valid" in tens of microseconds. Only when it says "invalid"
does motcua.submission run jsonschema to find and word each error, as before.

So that "valid" here always means valid there, the two never judge a string differently:
every `format` and every `pattern` is checked by the very Python functions the full
validation uses (formats by motcua.formats' checker, patterns by Python's `re` on no text
longer than the field allows, read as ECMA-262 reads them, as motcua.answer_limits does), passed to jsonschema-rs as
custom formats; the schema is the capped one of motcua.answer_limits. Where jsonschema-rs
cannot compile a schema, there is no fast check and the full validation runs alone.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from motcua.answer_limits import MAX_TEXT_CHARS, _schemas, capped, ecma_pattern

log = logging.getLogger(__name__)

_PATTERN_FORMAT = "motcua-pattern-{}"


def _pattern_check(pattern: str, limit: int) -> Callable[[str], bool]:
    compiled = ecma_pattern(pattern)  # as the full validation reads it: `\d` is ASCII
    return lambda text: len(text) > limit or compiled.search(text) is not None  # too long: maxLength fails it


def _as_formats(schema: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Callable[[str], bool]]]:
    """`schema` with each `pattern` moved into an `allOf` member checking a custom format."""
    schema = copy.deepcopy(schema)
    checks: dict[str, Callable[[str], bool]] = {}
    for sub in list(_schemas(schema)):
        pattern = sub.pop("pattern", None)
        if not isinstance(pattern, str):
            continue
        name = _PATTERN_FORMAT.format(len(checks))
        limit = sub.get("maxLength") if isinstance(sub.get("maxLength"), int) else MAX_TEXT_CHARS
        checks[name] = _pattern_check(pattern, limit)
        sub["allOf"] = [*sub.get("allOf", []), {"format": name}]
    return schema, checks


@lru_cache(maxsize=256)
def fast_validator(schema_json: str) -> Any | None:
    """A compiled check of answers against the schema (JSON text, as cached by
    motcua.submission), or None when jsonschema-rs cannot take the schema."""
    from motcua.formats import format_checker

    try:
        import jsonschema_rs

        checker = format_checker()
        schema, checks = _as_formats(capped(json.loads(schema_json)))
        formats: dict[str, Callable[[str], bool]] = {
            name: (lambda text, name=name: checker.conforms(text, name)) for name in checker.checkers
        }
        formats.update(checks)
        return jsonschema_rs.validator_for(schema, validate_formats=True, formats=formats)
    except Exception as exc:  # noqa: BLE001 - no fast check: the full validation still runs
        log.info("no compiled answer check for this schema (%s: %s)", type(exc).__name__, exc)
        return None


def surely_valid(schema_json: str, answers: Any) -> bool:
    """True when the answers are valid; False when they may not be (then validate fully)."""
    validator = fast_validator(schema_json)
    if validator is None:
        return False
    try:
        return bool(validator.is_valid(answers))
    except Exception:  # noqa: BLE001 - e.g. a value JSON cannot hold: let jsonschema say it
        return False
