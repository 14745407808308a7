"""Integration plugins, one registry per kind, each found through its entry-point group.

| kind | group | base class |
|---|---|---|
| steps | `motcua.steps` | `motcua.workflow.step.Step` |
| gateways | `motcua.gateways` | `motcua.integrations.gateways.Gateway` |
| carriers | `motcua.carriers` | `motcua.integrations.carriers.Carrier` |
| notifiers | `motcua.notifiers` | `motcua.integrations.notifiers.Notifier` |
| sync | `motcua.sync` | `motcua.integrations.sync.StatusSync` |
| identity | `motcua.identity` | `motcua.integrations.identity.IdentityProvider` |
| widgets | `motcua.widgets` | `motcua.integrations.widgets.Widget` |

The core never imports a built-in plugin (`plugins/`): it reaches every one through these
registries, like a third-party one (tests/test_core_imports.py enforces it).
"""

from __future__ import annotations

from motcua.integrations.registry import DuplicatePlugin, Registry, demo_mode

STEPS: Registry = Registry("steps", "motcua.steps", "motcua.workflow.step:Step", id_attr="name")
GATEWAYS: Registry = Registry("gateways", "motcua.gateways", "motcua.integrations.gateways:Gateway")
CARRIERS: Registry = Registry("carriers", "motcua.carriers", "motcua.integrations.carriers:Carrier")
NOTIFIERS: Registry = Registry("notifiers", "motcua.notifiers", "motcua.integrations.notifiers:Notifier")
SYNC: Registry = Registry("sync", "motcua.sync", "motcua.integrations.sync:StatusSync")
IDENTITY: Registry = Registry("identity", "motcua.identity", "motcua.integrations.identity:IdentityProvider")
WIDGETS: Registry = Registry("widgets", "motcua.widgets", "motcua.integrations.widgets:Widget")

REGISTRIES: dict[str, Registry] = {r.kind: r for r in (STEPS, GATEWAYS, CARRIERS, NOTIFIERS, SYNC, IDENTITY, WIDGETS)}


def reload_all() -> None:
    for registry in REGISTRIES.values():
        registry.reload()


__all__ = ["CARRIERS", "DuplicatePlugin", "GATEWAYS", "IDENTITY", "NOTIFIERS", "REGISTRIES", "Registry", "STEPS",
           "SYNC", "WIDGETS", "demo_mode", "reload_all"]
