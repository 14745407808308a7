"""Werkzeug's URL builders made once per rule for the whole test run, not once per app.

Every test builds its own app (`create_app`), and each app binds its ~425 URL rules; for each
rule werkzeug writes two small Python functions (the URL builders, with and without the
query string) from an AST and compiles them: ~25 ms of the ~35 ms of CPU an app costs, paid
more than a thousand times a run. A builder depends only on what it is keyed on below (the
rule's text and parsed parts, its defaults, the query-string flag): it reaches the rule's
converters through the rule it is bound to, at call time. So the same function is bound to
the same rule of every app. Nothing else of routing changes: matching and building are still
werkzeug's, per app.

Installed by tests/conftest.py; if werkzeug's private `_compile_builder` ever changes
signature or goes, `install` leaves werkzeug as it is (the suite is only slower).
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from werkzeug.routing.rules import Rule

_builders: dict[tuple, Callable[..., tuple[str, str]]] = {}


def _key(rule: Rule, append_unknown: bool) -> tuple:
    defaults = tuple(sorted((str(k), repr(v)) for k, v in (rule.defaults or {}).items()))
    return (rule.rule, tuple(rule._trace), defaults, append_unknown)


def install() -> None:
    original = getattr(Rule, "_compile_builder", None)
    if original is None or getattr(original, "_kept_per_rule", False):
        return
    if list(inspect.signature(original).parameters) != ["self", "append_unknown"]:
        return

    def compile_builder(self: Rule, append_unknown: bool = True) -> Any:
        key = _key(self, append_unknown)
        builder = _builders.get(key)
        if builder is None:
            builder = _builders[key] = original(self, append_unknown)
        return builder

    compile_builder._kept_per_rule = True  # type: ignore[attr-defined]
    Rule._compile_builder = compile_builder  # type: ignore[method-assign]
