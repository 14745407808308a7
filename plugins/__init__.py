"""`motcua_plugins`: the built-in plugins (steps, gateways, carriers, notifiers, status sync,
the demo identity provider), each registered by entry point like a third party's
(pyproject.toml); the core never imports them (docs/plugins.md)."""

# Installed as `motcua_plugins` (setup.py maps this folder). Imported as `plugins` — the repository
# root on sys.path — it would be a second copy of every module, with plugin classes the
# registries do not know: refuse it loudly instead.
if __name__ != "motcua_plugins":  # pragma: no cover - the guard itself
    raise ImportError("import motcua_plugins, not plugins (docs/architecture.md, Packaging)")
