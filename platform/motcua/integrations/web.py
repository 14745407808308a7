"""Generic routes of the integration kinds, and the mounting of what plugins contribute.

Routes keyed by the plugin's identifier, so adding a gateway or a carrier adds no route here:

- `POST /plugins/gateways/<id>/start/<code>`: the citizen's "pay" button -> a new payment
  order (superseding the dossier's previous one) -> a redirect to the gateway;
- `GET|POST /plugins/gateways/<id>/return`: where the payer's browser comes back; shows what
  the webhook recorded, never records;
- `GET|POST /plugins/gateways/<id>/webhook`: the gateway's server-to-server notification;
- `POST /plugins/carriers/<id>/callback`: a carrier's status callback.

The two server-to-server routes are CSRF-exempt: their signature is their proof. Every
plugin may also bring (`motcua.integrations.base.Plugin`) a blueprint, mounted at
`/plugins/<kind>/<id>/` with the CSRF exemptions it declares for its own webhooks, a
template folder, translations, and old public paths kept as aliases of the generic routes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request

from motcua import payments
from motcua.integrations import CARRIERS, GATEWAYS, REGISTRIES
from motcua.integrations.carriers import TERMINAL, CallbackRefused, Carrier, rank, STATUS_LABELS
from motcua.integrations.gateways import Gateway, WebhookRefused
from motcua.public_url import external_url
from motcua.services import services
from motcua.workflow import notes

log = logging.getLogger(__name__)
bp = Blueprint("plugins", __name__)

#: carrier item number -> {code, kind, status, carrier}
SHIPMENTS = "shipments"
#: carrier event id -> what it said (replays are recognised by it)
POSTAL_EVENTS = "postal_events"


def gateway(gateway_id: str) -> Gateway:
    cls = GATEWAYS.get(gateway_id, current_app.config)
    if cls is None:
        abort(404)
    return cls(current_app.config)


def carrier(carrier_id: str) -> Carrier:
    cls = CARRIERS.get(carrier_id, current_app.config)
    if cls is None:
        abort(404)
    return cls(current_app.config)


# --- payment ---------------------------------------------------------------------------------


@bp.post("/plugins/gateways/<gateway_id>/start/<code>")
def gateway_start(gateway_id: str, code: str):
    checked = payments.check_payment_token(request.form.get("token", ""))
    if checked is None or checked[0] != code or checked[1] not in (None, gateway_id):
        abort(403)
    dossier = services().store.dossiers.get(code)
    if dossier is None:
        abort(404)
    due = payments.amount_due(dossier)  # the rest, when a supplement's answers raised a fee partly paid
    if not payments.may_pay_online(dossier):  # waiting in "payment requested", or payable before posting
        return render_template("workflow/payment_return.html", outcome="not_due", dossier=dossier), 409
    cls = GATEWAYS.get(gateway_id, current_app.config)
    chosen = cls(current_app.config) if cls else None
    if chosen is None or not chosen.configured():  # the page offers no pay button then; a stale page or a crafted post
        log.warning("gateway %s: payment of %s refused, the gateway is %s", gateway_id, code,
                    "not configured (settings: %s)" % ", ".join(chosen.settings) if chosen else "not enabled")
        return render_template("workflow/payment_return.html", outcome="unavailable", dossier=dossier), 503
    order = payments.open_order(services().store, code, due, gateway_id)
    try:
        url = chosen.start(order, return_url=external_url("plugins.gateway_return", gateway_id=gateway_id),
                           webhook_url=external_url("plugins.gateway_webhook", gateway_id=gateway_id),
                           client_ip=request.remote_addr or "127.0.0.1", lang="en" if request.args.get("lang") == "en" else "vi")
    except Exception:  # the gateway is down or refused the order: the citizen may try again
        log.exception("gateway %s: could not start payment %s of %s", gateway_id, order.ref, code)
        return render_template("workflow/payment_return.html", outcome="unavailable", dossier=dossier), 503
    return redirect(url, code=303)


@bp.route("/plugins/gateways/<gateway_id>/webhook", methods=["GET", "POST"])
def gateway_webhook(gateway_id: str):
    chosen = gateway(gateway_id)
    if not chosen.configured():
        return chosen.webhook_reply("error")
    try:
        notice = chosen.read_webhook(request)
    except WebhookRefused as refused:
        return chosen.webhook_reply(refused.outcome)
    return chosen.webhook_reply(payments.confirm(services(), chosen, notice))


@bp.route("/plugins/gateways/<gateway_id>/return", methods=["GET", "POST"])
def gateway_return(gateway_id: str):
    chosen = gateway(gateway_id)
    info = chosen.read_return(request.values.to_dict()) if chosen.configured() else None
    if info is None:
        return render_template("workflow/payment_return.html", outcome="invalid", dossier=None), 400
    found = payments.get_order(services().store, info.ref)
    if found is None or found[0].gateway not in ("", gateway_id):
        return render_template("workflow/payment_return.html", outcome="invalid", dossier=None), 404
    order, stored = found
    store = services().store
    outcome = payments.return_outcome(store, stored, info.says_ok)
    reason = chosen.failure_reason(info.reason_code) if outcome == "failed" else None
    return render_template("workflow/payment_return.html", outcome=outcome, dossier=store.dossiers.get(order.code),
                           amount=order.amount, reason=reason)


# --- postal ----------------------------------------------------------------------------------


@bp.post("/plugins/carriers/<carrier_id>/callback")
def carrier_callback(carrier_id: str):
    chosen = carrier(carrier_id)
    try:
        update = chosen.read_callback(request)
    except CallbackRefused as refused:
        return chosen.callback_reply(False, error=refused.detail), refused.status
    store = services().store
    shipment = store.records(SHIPMENTS).get(update.item_number)
    if shipment is None or shipment.get("carrier", carrier_id) != carrier_id:
        return chosen.callback_reply(False, error="unknown item"), 404
    seen = f"{carrier_id}:{update.event_id}"
    if not store.records(POSTAL_EVENTS).insert_new(seen, {"item": update.item_number, "status": update.status}):
        return chosen.callback_reply(True, duplicate=True)
    if _behind(update.status, shipment.get("status", "booked")):  # plainly late: no write at all
        return chosen.callback_reply(True, ignored="out of order")
    wish = {"actor": f"carrier:{carrier_id}", "kind": "postal_status",
            "note": notes.message({"vi": "Bưu gửi {item}: {status}.", "en": "Postal item {item}: {status}."},
                                  item=update.item_number, status=notes.words(STATUS_LABELS[update.status])),
            "data": {"item_number": update.item_number, "kind": shipment["kind"], "status": update.status,
                     "carrier_at": update.at, **({"cod_collected": update.cod_collected} if update.status == "delivered" else {})}}
    recorded: list[bool] = []

    def decide(dossier: Any) -> list[dict[str, Any]]:
        # judged under the dossier's lock against the item's latest status on its timeline:
        # callbacks of one item under several event ids, at once, record a status once
        recorded[:] = [not _behind(update.status, _item_status(dossier, update.item_number, shipment.get("status", "booked")))]
        return [wish] if recorded[0] else []

    try:
        services().engine.decide(shipment["code"], decide)
    except Exception:
        log.exception("carrier %s callback %s: could not record", carrier_id, update.event_id)
        store.records(POSTAL_EVENTS).delete(seen)
        return chosen.callback_reply(False, error="try again"), 503
    if not recorded[0]:
        return chosen.callback_reply(True, ignored="out of order")
    store.records(SHIPMENTS).update(
        update.item_number, lambda kept: {**(kept or shipment), "status": _later(update.status, (kept or shipment).get("status"))})
    return chosen.callback_reply(True)


def _behind(status: str, current: str) -> bool:
    """A carrier's status that says nothing new: the item is delivered or returned, or already further."""
    return current in TERMINAL or rank(status) <= rank(current)


def _item_status(dossier: Any, item_number: str, fallback: str) -> str:
    """The furthest status the dossier's timeline records for the carrier's item."""
    status = fallback
    for event in dossier.events:
        if event.kind == "postal_status" and (event.data or {}).get("item_number") == item_number:
            status = _later(event.data.get("status"), status)
    return status


def _later(one: str | None, other: str | None) -> str:
    return max((s for s in (one, other) if s), key=rank, default="booked")


#: kind -> generic endpoint name -> (view, the URL variable naming the plugin)
GENERIC: dict[str, dict[str, tuple[Callable[..., Any], str]]] = {
    "gateways": {"start": (gateway_start, "gateway_id"), "return": (gateway_return, "gateway_id"),
                 "webhook": (gateway_webhook, "gateway_id")},
    "carriers": {"callback": (carrier_callback, "carrier_id")},
}
_METHODS = {"start": ["POST"], "return": ["GET", "POST"], "webhook": ["GET", "POST"], "callback": ["POST"]}


def _name(kind: str, plugin_id: str) -> str:
    return f"{kind}_{re.sub(r'[^a-z0-9_]', '_', plugin_id)}"


def mount(app: Flask, csrf: Any) -> None:
    """The generic routes, then, for every enabled plugin of every kind, what it brings."""
    from motcua import i18n

    app.register_blueprint(bp)
    csrf.exempt(gateway_webhook)
    csrf.exempt(carrier_callback)
    for kind, registry in REGISTRIES.items():
        for plugin_id, cls in sorted(registry.enabled(app.config).items()):
            name = _name(kind, plugin_id)
            folder = getattr(cls, "template_folder", None)
            if folder:
                app.register_blueprint(Blueprint(f"{name}_templates", cls.__module__, template_folder=str(folder)))
            translations = getattr(cls, "translations_folder", None)
            if translations:
                i18n.add_folder(translations)
            own = cls.blueprint() if hasattr(cls, "blueprint") else None
            if own is not None:
                app.register_blueprint(own, url_prefix=f"/plugins/{kind}/{plugin_id}", name=name)
                for endpoint in getattr(cls, "csrf_exempt", ()):
                    csrf.exempt(app.view_functions[f"{name}.{endpoint}"])
            legacy = cls.legacy_urls() if hasattr(cls, "legacy_urls") else {}
            for number, (path, target) in enumerate(legacy.items()):
                view, arg = GENERIC[kind][target]
                app.add_url_rule(path, endpoint=f"legacy_{name}_{target}_{number}", view_func=view,
                                 defaults={arg: plugin_id}, methods=_METHODS[target])
