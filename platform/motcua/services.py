"""The resources that live per app: the store, the spec catalogue, the workflow engine and
the agency registry.

They hang off `app.extensions["motcua"]` in one place and are reached through `services()`,
never through module globals, so every test builds its own app with its own data folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from motcua.agencies import AgencyRegistry
from motcua.catalogue import Catalogue
from motcua.store.base import Store


@dataclass
class Services:
    store: Store
    catalogue: Catalogue
    engine: Any  # motcua.workflow.Engine; typed loosely to keep imports one-way
    agencies: AgencyRegistry | None = None  # motcua.agencies: every office (AGENCY_REGISTRY)


def services() -> Services:
    return current_app.extensions["motcua"]
