"""What every integration plugin may declare besides its kind's contract.

A plugin is a class. The platform instantiates it with the app's config (`plugin(config)`)
whenever it needs it: secrets and URLs come from the deployment's settings, never from a
spec. Everything below is optional; the defaults declare nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:  # pragma: no cover
    from flask import Blueprint, Flask


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Plugin:
    """Base of every integration kind (gateways, carriers, notifiers, sync, identity, widgets)."""

    #: the identifier specs and settings use; the entry-point name must be the same
    id: ClassVar[str] = ""
    #: what people call it, `{"vi": ..., "en": ...}` (timeline actors: "Cổng thanh toán <title>")
    title: ClassVar[dict[str, str]] = {}
    #: a stand-in that must never run in production (enabled only in DEMO / TESTING mode)
    demo_only: ClassVar[bool] = False
    #: a folder of Jinja templates (`render_template` finds them, next to the core's)
    template_folder: ClassVar[str | Path | None] = None
    #: a folder holding `<lang>/*.yaml` translations keyed by the Vietnamese text (`_()`)
    translations_folder: ClassVar[str | Path | None] = None
    #: endpoints of `blueprint()` that outside servers call with no session (webhooks): the
    #: only views exempted from CSRF, and only because they check a signature themselves
    csrf_exempt: ClassVar[tuple[str, ...]] = ()
    #: what a spec may set for it (`steps[].config`), validated by this model
    Options: ClassVar[type[BaseModel]] = NoOptions

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    @classmethod
    def blueprint(cls) -> Blueprint | None:
        """Routes of its own, mounted at `/plugins/<kind>/<id>/`; None for none."""
        return None

    @classmethod
    def legacy_urls(cls) -> dict[str, str]:
        """Old public paths kept working -> the generic endpoint of the kind they alias
        (`webhook`, `return`, `start`, `callback`): URLs already held by citizens' browsers or
        configured at a provider before the routes became generic."""
        return {}

    @classmethod
    def simulate(cls, app: Flask, host: str, port: int) -> str | None:
        """`motcua serve --demo`: start a local stand-in of the outside service on `port` and
        point `app.config` at it; the simulator's URL, or None when there is none."""
        return None

    def label(self, lang: str = "vi") -> str:
        return (self.title or {}).get(lang) or (self.title or {}).get("vi") or self.id
