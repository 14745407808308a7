"""The `motcua` command: one click group; each area adds its commands from its own module."""

from __future__ import annotations

import importlib

import click

#: Modules that define click commands or groups to add to `motcua`, as (module, attribute).
COMMANDS = [
    ("motcua.serve", "serve"),
    ("motcua.spec.cli", "lint"), ("motcua.spec.cli", "schema"), ("motcua.spec.cli", "spec_group"),
    ("motcua.store.cli", "export_command"),
    ("motcua.store.cli", "import_command"),
    ("motcua.store.cli", "store_group"),
    ("motcua.purge", "purge_command"),
    ("motcua.accounts_cli", "staff"),
    ("motcua.stats.cli", "stats"),
    ("motcua.agencies_cli", "agencies_group"),
    ("motcua.signing", "signing_group"),
    ("motcua.jobs_cli", "worker"), ("motcua.jobs_cli", "jobs"),
]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Motcua: administrative procedures as YAML specs, served as online public services."""


for _module, _attr in COMMANDS:
    main.add_command(getattr(importlib.import_module(_module), _attr))
