"""The workflow engine: routes a filed dossier through its spec's steps (bước xử lý).

Public API: `Engine` (reached as `services().engine`), `Action`, `ActionField`,
`ActionNotAllowed`; the step protocol is `motcua.workflow.step.Step`.
"""

from __future__ import annotations

from motcua.workflow.actions import Action, ActionField, ActionNotAllowed
from motcua.workflow.engine import Engine

__all__ = ["Action", "ActionField", "ActionNotAllowed", "Engine"]
