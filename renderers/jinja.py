"""The renderers' own Jinja2 environment: autoescaped, independent of any Flask app.

Renderers are pure functions (spec + data in, markup out), callable from a page, the CLI or
a test without an application context. Autoescape is on for every template: spec text and
citizen input are data, and nothing here marks them safe.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from motcua.i18n import FILTERS


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("motcua_renderers", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)  # money and dates written as the pages write them
    return env
