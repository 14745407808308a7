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


#: Deployment settings that name plugins -> the registry they name plugins of.
SETTINGS: dict[str, Registry] = {"PAYMENT_GATEWAY": GATEWAYS, "POSTAL_CARRIER": CARRIERS, "NOTIFIER": NOTIFIERS, "SYNC": SYNC}


def check_settings(config: object) -> None:
    """A setting naming a plugin that is not installed (or demo-only outside a demo) stops the
    start with a plain sentence, instead of failing on the first payment or message."""
    for key, registry in SETTINGS.items():
        value = config.get(key)  # type: ignore[attr-defined]
        names = [part.strip() for part in value.split(",")] if isinstance(value, str) else list(value or [])
        for name in filter(None, names):
            if registry.get(name, config) is None:  # type: ignore[arg-type]
                known = ", ".join(sorted(registry.enabled(config))) or "none"  # type: ignore[arg-type]
                raise RuntimeError(f"{key} names {name!r}, which is not an installed {registry.kind} plugin "
                                   f"(installed: {known}; see docs/plugins.md)")


def reload_all() -> None:
    for registry in REGISTRIES.values():
        registry.reload()


__all__ = ["CARRIERS", "SETTINGS", "check_settings", "DuplicatePlugin", "GATEWAYS", "IDENTITY", "NOTIFIERS", "REGISTRIES", "Registry", "STEPS",
           "SYNC", "WIDGETS", "demo_mode", "reload_all"]
