"""Blueprint `workflow`: the workflow's template helpers and the development outbox.

- `GET /dev/outbox`: messages that would have been sent (only with DEMO or TESTING).
What outside parties call back (gateways, carriers) is routed by `motcua.integrations.web`,
generically, by plugin identifier.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request

from motcua.i18n import money
from motcua.payments import amount_due
from motcua.services import services
from motcua.workflow.outbox import for_display, outbox_for

bp = Blueprint("workflow", __name__)


@bp.app_template_global("amount_due")
def _amount_due(dossier: Any) -> int:
    return amount_due(dossier)


@bp.app_template_filter("wf_vnd")
def wf_vnd(value: Any) -> str:
    return money(int(value or 0))


# --- development outbox ----------------------------------------------------------------------


@bp.get("/dev/outbox")
def dev_outbox():
    if not (current_app.config.get("DEMO") or current_app.config.get("TESTING")):
        abort(404)
    outbox = outbox_for(services(), current_app.config)
    return render_template("workflow/outbox.html", messages=for_display(outbox.messages(request.args.get("code")), current_app.config))
