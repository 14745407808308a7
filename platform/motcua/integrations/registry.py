"""One registry class for every integration kind: steps, gateways, carriers, notifiers, sync,
identity providers, widgets (field types).

Each kind has an entry-point group (`motcua.<kind>`) and a base class. The platform loads
every package that declares the group, the built-ins of this repository included, so a
third-party package adds a gateway or a field type without a change here. A registry:

- refuses a second plugin under an identifier already taken (`register` raises
  `DuplicatePlugin`; from entry points, the second is logged and left out);
- refuses a class that does not subclass the kind's base class (logged, left out);
- knows demo-only plugins (`demo_only = True`, e.g. a gateway that "pays" at once): they are
  listed only for an app in DEMO or TESTING mode (`enabled(config)`).

A plugin that fails to import is logged and left out: a broken plugin must not take the
portal down.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from importlib.metadata import entry_points
from threading import Lock
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class DuplicatePlugin(ValueError):
    """Two plugins of one kind under one identifier."""


def demo_mode(config: Mapping[str, Any] | None) -> bool:
    return bool(config and (config.get("DEMO") or config.get("TESTING")))


class Registry(Generic[T]):
    """Identifier -> plugin class, for one kind, loaded once from its entry-point group.

    `base` is the dotted path (`module:Class`) of the kind's base class, resolved lazily so a
    registry can be declared before its base class's module is importable. `id_attr` names
    the class attribute holding the identifier (`id`; steps say `name`)."""

    def __init__(self, kind: str, group: str, base: str, id_attr: str = "id") -> None:
        self.kind = kind
        self.group = group
        self._base_path = base
        self.id_attr = id_attr
        self._found: dict[str, type[T]] | None = None
        self._added: dict[str, type[T]] = {}
        self._merged: dict[str, type[T]] | None = None
        self._lock = Lock()

    @property
    def base(self) -> type[T]:
        module, _, name = self._base_path.partition(":")
        return getattr(importlib.import_module(module), name)

    def _load(self) -> dict[str, type[T]]:
        found: dict[str, type[T]] = {}
        base = self.base
        for ep in sorted(entry_points(group=self.group), key=lambda ep: (ep.name, ep.value)):
            try:
                cls = ep.load()
            except Exception:
                log.exception("%s plugin %s (%s) failed to load", self.kind, ep.name, ep.value)
                continue
            if not (isinstance(cls, type) and issubclass(cls, base)):
                log.error("%s plugin %s (%s) is not a %s; left out", self.kind, ep.name, ep.value, base.__name__)
                continue
            declared = getattr(cls, self.id_attr, "") or ep.name
            if declared != ep.name:
                log.warning("%s plugin %s declares %s %r; registered as %r", self.kind, ep.value, self.id_attr, declared, ep.name)
            if ep.name in found and found[ep.name] is not cls:
                log.error("two %s plugins register %r: keeping %s, refusing %s", self.kind, ep.name,
                          found[ep.name].__qualname__, ep.value)
                continue
            found[ep.name] = cls
        return found

    def all(self) -> dict[str, type[T]]:
        """Every registered plugin, demo-only ones included (for listing and linting)."""
        with self._lock:
            if self._found is None:
                self._found = self._load()
                self._merged = None
            if self._merged is None:
                self._merged = {**self._found, **self._added}
            return self._merged

    def enabled(self, config: Mapping[str, Any] | None) -> dict[str, type[T]]:
        """The plugins an app with this config may use: demo-only ones only in DEMO/TESTING."""
        demo = demo_mode(config)
        return {key: cls for key, cls in self.all().items() if demo or not getattr(cls, "demo_only", False)}

    def get(self, key: str, config: Mapping[str, Any] | None = None) -> type[T] | None:
        """The class registered under `key`, or None (also for a demo-only one outside demo mode
        when `config` is given)."""
        found = self.all().get(key)
        if found is not None and config is not None and getattr(found, "demo_only", False) and not demo_mode(config):
            return None
        return found

    def register(self, key: str, cls: type[T]) -> type[T]:
        """Add a plugin in code (tests, an application embedding Motcua). Refuses a taken id."""
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            raise TypeError(f"{cls!r} is not a {self.base.__name__}")
        existing = self.all().get(key)
        if existing is not None and existing is not cls:
            raise DuplicatePlugin(f"a {self.kind} plugin is already registered as {key!r}: {existing.__qualname__}")
        with self._lock:
            self._added[key] = cls
            self._merged = None
        return cls

    def unregister(self, key: str) -> None:
        with self._lock:
            self._added.pop(key, None)
            self._merged = None

    def reload(self) -> dict[str, type[T]]:
        """Forget what was loaded (after installing a plugin in a running process, e.g. tests)."""
        with self._lock:
            self._found = None
        return self.all()
