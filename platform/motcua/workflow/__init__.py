"""The workflow engine: routes a filed dossier through its spec's steps.

NOT BUILT YET (workflow issue): `Engine.on_filed` is the single call the portal makes after
it has stored a new dossier.
"""

from __future__ import annotations

from typing import Any

from motcua.workflow.actions import Action, ActionField, ActionNotAllowed  # noqa: F401


class Engine:
    def __init__(self, services: Any, config: Any) -> None:
        self.services = services
        self.config = config

    def on_filed(self, code: str) -> None:
        """Called once a new dossier is durably stored."""
