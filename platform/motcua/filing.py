"""Filing a dossier (nộp hồ sơ): the one place a validated submission becomes a Dossier.

The portal (channel `online`), the API and the staff desk (channel `desk`, walk-in
citizens) all call `file_dossier`, so a dossier's code, fees, due date and snapshot of the
spec are made the same way whoever files it. Callers validate first (motcua.submission).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app

from motcua.agencies import Agency
from motcua.catalogue import snapshot
from motcua.dossier import AttachmentRef, Contact, DeliveryChoice, Dossier, Event, Status, now
from motcua.fees import compute_fees, total
from motcua.services import services
from motcua.spec.conditions import lookup
from motcua.spec.model import ProcedureSpec
from motcua.store import transaction
from motcua.submission import visible_answers
from motcua.workdays import DEFAULT_FILE, VN_TZ, Calendar


def calendar() -> Calendar:
    """The working-day calendar of this app: config HOLIDAYS_FILE, else the shipped one."""
    path = Path(current_app.config.get("HOLIDAYS_FILE") or DEFAULT_FILE)
    cache = current_app.extensions.setdefault("motcua_calendar", {})
    if path not in cache:
        cache[path] = Calendar.load(path)
    return cache[path]


def working_days(spec: ProcedureSpec, channel: str) -> int:
    """The channel's own time limit when it publishes one, else the procedure's."""
    for c in spec.channels:
        if c.kind == channel and c.working_days is not None:
            return c.working_days
    return spec.info.processing_time.working_days


def contact_of(spec: ProcedureSpec, answers: Mapping[str, Any]) -> Contact:
    """The applicant's name, phone, ID and e-mail, read where the spec's `contact` says."""

    def text(path: str | None) -> str | None:
        if not path:
            return None
        value = lookup(answers, path)
        return str(value).strip() if isinstance(value, (str, int)) and str(value).strip() else None

    paths = spec.form.contact if spec.form else None
    return Contact(
        name=(text(paths.name) if paths else None) or "",
        phone=text(paths.phone) if paths else None,
        cccd=text(paths.cccd) if paths else None,
        email=text(paths.email) if paths else None,
    )


class OfficeChoiceError(ValueError):
    """The office chosen cannot take this dossier: none chosen among several, an unknown code,
    or an office that does not perform the procedure. Callers check first (and show the
    citizen why); this is the guard that nothing is filed with the wrong office."""

    def __init__(self, reason: str, code: str | None) -> None:
        self.reason = reason  # "missing", "unknown" or "not_performer"
        self.code = code
        super().__init__(f"{reason}: {code!r}")


def chosen_office(spec: ProcedureSpec, code: str | None) -> Agency:
    """The office `code` names for `spec`; with no code, its only performer."""
    catalogue = services().catalogue
    offices = catalogue.performers(spec)
    if not code:
        if len(offices) == 1:
            return offices[0]
        raise OfficeChoiceError("missing", None)
    office = catalogue.performer(spec, code)
    if office is None:
        raise OfficeChoiceError("unknown" if code not in catalogue.agencies else "not_performer", code)
    return office


def file_dossier(
    spec: ProcedureSpec,
    answers: Mapping[str, Any],
    attachments: list[AttachmentRef],
    channel: str,
    delivery: DeliveryChoice | None,
    actor: str,
    lang: str = "vi",
    at: datetime | None = None,
    account: str | None = None,
    agency: str | None = None,
    pickup_address: dict[str, str] | None = None,
    visible: Mapping[str, Any] | None = None,
) -> Dossier:
    """Store a new dossier, durably, with its workflow started: the engine runs its steps'
    first reactions before the dossier's one write (`Engine.file`). Returns it as saved.
    `visible`: the visible answers the caller's validation judged (`submission.checked`,
    online, today), kept instead of working them out again."""
    return services().engine.file(
        lambda: _new_dossier(spec, answers, attachments, channel, delivery, actor, lang, at, account, agency,
                             pickup_address, visible),
        spec)


def add_dossier(
    spec: ProcedureSpec,
    answers: Mapping[str, Any],
    attachments: list[AttachmentRef],
    channel: str,
    delivery: DeliveryChoice | None,
    actor: str,
    lang: str = "vi",
    at: datetime | None = None,
    account: str | None = None,
    agency: str | None = None,
    pickup_address: dict[str, str] | None = None,
) -> Dossier:
    """Store a new dossier, durably, without starting its workflow: for a caller that must
    record the filing elsewhere under its own lock (the portal's draft) or put more on its
    timeline first (the desk), and then calls `engine.on_filed` outside it (a second write).
    `pickup_address`: the citizen asked the post office to collect the paper dossier there
    (the `postal` step books it once the workflow starts).

    Its code, the spec snapshot and the dossier are one store transaction where the
    backend has them (PostgreSQL): a filing that fails leaves no gap in the office's codes."""
    store = services().store
    with transaction(store):
        dossier = _new_dossier(spec, answers, attachments, channel, delivery, actor, lang, at, account, agency, pickup_address)
        store.dossiers.add(dossier)
        return dossier


def _new_dossier(
    spec: ProcedureSpec,
    answers: Mapping[str, Any],
    attachments: list[AttachmentRef],
    channel: str,
    delivery: DeliveryChoice | None,
    actor: str,
    lang: str,
    at: datetime | None,
    account: str | None = None,
    agency: str | None = None,
    pickup_address: dict[str, str] | None = None,
    visible: Mapping[str, Any] | None = None,
) -> Dossier:
    """A new dossier with its code taken (inside the caller's store transaction), not stored."""
    svc = services()
    office = chosen_office(spec, agency)
    received = at or now()
    if visible is None or channel != "online" or at is not None:
        visible = visible_answers(spec, answers, channel, received.astimezone(VN_TZ).date())
    answers = visible
    lines = compute_fees(spec, answers, channel, office.code)
    # What cannot be stored (text that is not UTF-8) fails before a number is taken from
    # the day's sequence: callers validate first (submission.text_errors), this is the guard.
    json.dumps({"data": dict(answers), "attachments": [a.model_dump(mode="json") for a in attachments],
                "delivery": delivery.model_dump(mode="json") if delivery else None}, ensure_ascii=False).encode("utf-8")
    digest = snapshot(svc.store, spec)  # refuses a changed spec under a version filed under
    code = svc.store.dossiers.next_code(office.code, received.astimezone(VN_TZ).date())  # per office per day
    dossier = Dossier(
        code=code,
        procedure_code=spec.code,
        spec_version=spec.version,
        spec_hash=digest,
        agency_code=office.code,
        channel=channel,
        lang=lang,
        data=dict(answers),
        attachments=list(attachments),
        delivery=delivery,
        pickup_address=dict(pickup_address) if pickup_address else None,
        contact=contact_of(spec, answers),
        account=account,
        fees=[line.model_dump(mode="json") for line in lines],
        fee_total=total(lines),
        filed_at=received,
        due_date=calendar().due_date(
            received, working_days(spec, channel), spec.info.processing_time.calendar_days
        ),
        calendar_days=spec.info.processing_time.calendar_days,
        status=Status.NEW,
    )
    dossier.record(Event(at=received, actor=actor, kind="filed", status=Status.NEW, data={"channel": channel}))
    return dossier
