"""Drafts (hồ sơ đang soạn): a citizen's answers between the form's steps, on the server.

A draft lives in `store.records("drafts")` under a random, unguessable token; the private
link `/thu-tuc/<code>/nop/<token>` resumes it. It keeps the answers, the uploaded
attachments (as content-id references, never file names), the chosen delivery and a one-time
submit token, so a double-clicked "Nộp hồ sơ" files one dossier only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from motcua.dossier import AttachmentRef, DeliveryChoice
from motcua.spec.model import ProcedureSpec, localize
from motcua.store.base import Records
from motcua.submission import delivery_choice

KEEP_FOR = timedelta(days=30)
STEP_ATTACHMENTS = "dinh-kem"
STEP_DELIVERY = "nhan-ket-qua"
STEP_CHECK = "kiem-tra"
STEP_SINGLE = "thong-tin"


@dataclass(frozen=True)
class Step:
    """One step of filing: a page of the spec's form, the attachments, delivery, or the check."""

    id: str
    kind: str  # page | attachments | delivery | check
    title: dict[str, str]
    fields: tuple[str, ...] = ()

    def label(self, lang: str) -> str:
        return localize(self.title, lang)


def steps(spec: ProcedureSpec) -> list[Step]:
    """The steps of this spec's online form, in order. Spec page ids never contain '-'."""
    out: list[Step] = []
    if spec.form is not None:
        if spec.form.pages:
            out += [Step(p.id, "page", dict(p.title), tuple(p.fields)) for p in spec.form.pages]
        else:
            props = tuple((spec.form.fields.get("properties") or {}).keys())
            out.append(Step(STEP_SINGLE, "page", {"vi": "Thông tin", "en": "Details"}, props))
    if spec.attachments:
        out.append(Step(STEP_ATTACHMENTS, "attachments", {"vi": "Thành phần hồ sơ", "en": "Documents"}))
    if spec.delivery:
        out.append(Step(STEP_DELIVERY, "delivery", {"vi": "Nhận kết quả", "en": "Receiving the result"}))
    out.append(Step(STEP_CHECK, "check", {"vi": "Kiểm tra thông tin", "en": "Check your answers"}))
    return out


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def new(records: Records, spec: ProcedureSpec) -> tuple[str, dict[str, Any]]:
    token = secrets.token_urlsafe(24)
    draft = {
        "procedure": spec.code,
        "version": spec.version,
        "values": {},
        "attachments": {},
        "delivery": None,
        "submit_token": secrets.token_urlsafe(16),
        "filed_code": None,
        "created": _now(),
        "updated": _now(),
    }
    records.put(token, draft)
    return token, draft


def load(records: Records, token: str, spec: ProcedureSpec) -> dict[str, Any] | None:
    """The draft behind a private link, if it exists, is for this procedure and not expired."""
    if not token or len(token) > 64:
        return None
    draft = records.get(token)
    if not draft or draft.get("procedure") != spec.code:
        return None
    try:
        if datetime.fromisoformat(draft["updated"]) < datetime.now(timezone.utc) - KEEP_FOR:
            return None
    except (KeyError, ValueError):
        return None
    return draft


class DraftFiled(Exception):
    """The draft was filed (in another tab) since it was loaded: it is closed for changes."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def save(records: Records, token: str, draft: dict[str, Any]) -> None:
    """Save the citizen's changes, unless the draft was filed meanwhile: a step posted from a
    page loaded before filing must not write back the old copy, which would clear the
    dossier's code and bring back the spent submit token (a second filing). Raises DraftFiled."""

    def change(current: dict[str, Any] | None) -> dict[str, Any]:
        if current and current.get("filed_code"):
            raise DraftFiled(current["filed_code"])
        return draft

    draft["updated"] = _now()
    records.update(token, change)


def uploaded(draft: dict[str, Any]) -> dict[str, AttachmentRef]:
    return {k: AttachmentRef.model_validate(v) for k, v in (draft.get("attachments") or {}).items()}


def delivery(spec: ProcedureSpec, draft: dict[str, Any]) -> DeliveryChoice | None:
    chosen = draft.get("delivery") or {}
    return delivery_choice(spec, chosen.get("kind"), chosen.get("address"))
