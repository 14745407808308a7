"""What pages of several blueprints (portal, supplement, back office) share."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from flask import current_app
from werkzeug.wrappers import Response

R = TypeVar("R", bound=Response)


def form_assets() -> dict[str, list[str]]:
    """RENDER's form script and styles (served from /static/renderers/), for a page that
    draws a generated form or an address widget."""
    folder = Path(current_app.static_folder or "") / "renderers"
    return {
        "css": [f"renderers/{p.name}" for p in sorted(folder.glob("*.css"))],
        # the JSON Logic library first: form.js evaluates the fields' conditions with it
        "js": ["js/vendor/json-logic.js"] + [f"renderers/{p.name}" for p in sorted(folder.glob("*.js"))],
    }


def private(response: R) -> R:
    """A page about one citizen's dossier (or carrying its private link): kept by no cache,
    and its address sent to no other site in a Referer."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-store"
    return response
