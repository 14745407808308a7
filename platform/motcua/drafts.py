"""Drafts (hồ sơ đang soạn): a citizen's answers between the form's steps, on the server.

A draft lives in `store.records("drafts")` under a random, unguessable token; the private
link `/thu-tuc/<code>/nop/<token>` resumes it. It keeps the answers, the uploaded
attachments (as content-id references, never file names), the chosen delivery and a one-time
submit token, so a double-clicked "Nộp hồ sơ" files one dossier only.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from motcua.dossier import AttachmentRef, DeliveryChoice
from motcua.spec.model import ProcedureSpec, localize
from motcua.store.base import Records
from motcua.submission import delivery_choice, home_pickup_offered, pickup_address

#: How long a draft is kept after its last save, unless the app's DRAFT_DAYS says otherwise.
DEFAULT_DAYS = 30
KEEP_FOR = timedelta(days=DEFAULT_DAYS)
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
    if spec.delivery or home_pickup_offered(spec):
        out.append(Step(STEP_DELIVERY, "delivery", {"vi": "Nhận kết quả", "en": "Receiving the result"}))
    out.append(Step(STEP_CHECK, "check", {"vi": "Kiểm tra thông tin", "en": "Check your answers"}))
    return out


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def new(records: Records, spec: ProcedureSpec, account: str | None = None) -> tuple[str, dict[str, Any]]:
    """A new draft; `account`: the signed-in citizen's (it shows in "My dossiers")."""
    token = secrets.token_urlsafe(24)
    draft = {
        "account": account,
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


def lifetime(config: Mapping[str, Any]) -> timedelta:
    """How long a draft is kept after its last save: the app's DRAFT_DAYS (an environment
    MOTCUA_DRAFT_DAYS gives it too), else 30 days."""
    days = config.get("DRAFT_DAYS")
    try:
        days = int(days) if days not in (None, "") else DEFAULT_DAYS
    except (TypeError, ValueError):
        raise ValueError(f"DRAFT_DAYS must be a whole number of days, not {days!r}") from None
    if days < 1:
        raise ValueError(f"DRAFT_DAYS must be at least 1, not {days}")
    return timedelta(days=days)


def expires_at(draft: Mapping[str, Any], keep: timedelta = KEEP_FOR) -> datetime | None:
    """When this draft stops being kept (its last save plus `keep`); None when unreadable."""
    try:
        updated = datetime.fromisoformat(draft["updated"])
    except (KeyError, TypeError, ValueError):
        return None
    if updated.tzinfo is None:
        updated = updated.replace(tzinfo=timezone.utc)
    return updated + keep


def is_expired(draft: Mapping[str, Any], keep: timedelta = KEEP_FOR, now: datetime | None = None) -> bool:
    """Expired, or without a readable save time (such a draft cannot be given a lifetime)."""
    until = expires_at(draft, keep)
    return until is None or until <= (now or datetime.now(timezone.utc))


class DraftExpired(Exception):
    """The draft behind a link was kept until `expired_at` and is no longer usable."""

    def __init__(self, expired_at: datetime | None) -> None:
        super().__init__(expired_at)
        self.expired_at = expired_at


def load(records: Records, token: str, spec: ProcedureSpec, keep: timedelta = KEEP_FOR) -> dict[str, Any] | None:
    """The draft behind a private link, if it exists and is for this procedure; raises
    DraftExpired when it is past its lifetime (purge removes it later)."""
    if not token or len(token) > 64:
        return None
    draft = records.get(token)
    if not draft or draft.get("procedure") != spec.code:
        return None
    if is_expired(draft, keep):
        raise DraftExpired(expires_at(draft, keep))
    return draft


class DraftFiled(Exception):
    """The draft was filed (in another tab) since it was loaded: it is closed for changes."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def save(records: Records, token: str, draft: dict[str, Any]) -> None:
    """Save the citizen's changes, unless the draft was filed meanwhile: a step posted from a
    page loaded before filing must not write back the old copy, which would clear the
    dossier's code and bring back the spent submit token (a second filing). Raises DraftFiled.
    Nor after `motcua purge` removed it (and maybe its uploads): raises DraftExpired."""

    def change(current: dict[str, Any] | None) -> dict[str, Any]:
        if current is None:  # purged since it was loaded: never bring it back without its files
            raise DraftExpired(expires_at(draft))
        if current.get("filed_code"):
            raise DraftFiled(current["filed_code"])
        return draft

    draft["updated"] = _now()
    records.update(token, change)


def uploaded(draft: dict[str, Any]) -> dict[str, AttachmentRef]:
    return {k: AttachmentRef.model_validate(v) for k, v in (draft.get("attachments") or {}).items()}


def delivery(spec: ProcedureSpec, draft: dict[str, Any]) -> DeliveryChoice | None:
    chosen = draft.get("delivery") or {}
    return delivery_choice(spec, chosen.get("kind"), chosen.get("address"))


def pickup(spec: ProcedureSpec, draft: dict[str, Any]) -> tuple[bool, dict[str, str]]:
    """(home pickup asked for, the address typed for it) as the delivery step saved them."""
    chosen = draft.get("pickup") or {}
    return bool(chosen.get("wanted")), dict(chosen.get("address") or {})


def pickup_at(spec: ProcedureSpec, draft: dict[str, Any]) -> dict[str, str] | None:
    """The address the post office collects the papers from, or None (motcua.submission.pickup_address)."""
    wanted, address = pickup(spec, draft)
    return pickup_address(spec, wanted, address, delivery(spec, draft))
