"""Where step classes come from: the `motcua.steps` entry-point group, built-ins included.

A third-party package adds a step by declaring, in its own pyproject.toml,
`[project.entry-points."motcua.steps"] my_step = "my_package:MyStep"`; nothing in this
repository changes (docs/plugins.md walks through it).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from importlib.metadata import entry_points

log = logging.getLogger(__name__)

GROUP = "motcua.steps"


@lru_cache(maxsize=1)
def step_registry() -> dict[str, type]:
    """Registered step name -> step class. A plugin that fails to import is logged and left out."""
    found: dict[str, type] = {}
    for ep in entry_points(group=GROUP):
        try:
            cls = ep.load()
        except Exception:  # a broken plugin must not take the portal down
            log.exception("step plugin %s (%s) failed to load", ep.name, ep.value)
            continue
        name = getattr(cls, "name", "") or ep.name
        if name != ep.name:
            log.warning("step plugin %s declares name %r; registered as %r", ep.value, name, ep.name)
        if ep.name in found and found[ep.name] is not cls:
            log.warning("two plugins register the step %r; keeping %s", ep.name, found[ep.name])
            continue
        found[ep.name] = cls
    return found


def reload() -> dict[str, type]:
    """Forget what was loaded (after installing a plugin in a running process, e.g. tests)."""
    step_registry.cache_clear()
    return step_registry()
