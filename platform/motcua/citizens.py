"""Citizen and business accounts (tài khoản công dân, tổ chức) and their sign-in sessions.

An account is made at the first sign-in and keyed by the provider's issuer and subject: the
account follows the subject, never the name or the ID number (a person's ID number can
change — a new CCCD replacing a 9-digit CMND — and the provider says so by sending another
`id_number` for the same subject; the account then records the new number and keeps the old
one in its history). Accounts live in the store's `citizens` collection; staff accounts are
apart (motcua.accounts).

A signed-in browser holds only a random session id; the session itself is a record in
`citizen_sessions`, so signing out ends it on the server (a copied cookie opens nothing).

Which dossiers are an account's (`owns`): those filed while it was signed in (the dossier
records the account), and those filed anonymously or at the desk whose applicant ID is the
account's verified ID (the tax code for a business).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field

from motcua.dossier import Dossier
from motcua.identity import Identity
from motcua.store.base import Store

CITIZENS = "citizens"
SESSIONS = "citizen_sessions"
SESSION_HOURS = 8


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Account(BaseModel):
    """A citizen (công dân) or a business (tổ chức, doanh nghiệp: the organisation and the
    person acting for it) known through an identity provider."""

    key: str
    provider: str
    issuer: str
    subject: str
    kind: Literal["citizen", "business"] = "citizen"
    name: str = ""
    id_number: str | None = Field(default=None, description="Personal ID (số định danh) from the provider")
    level: int = 1
    tax_code: str | None = None
    business_name: str | None = None
    legal_representative: str | None = None
    claims: dict[str, Any] = Field(default_factory=dict, description="Canonical claims at the last sign-in")
    id_history: list[dict[str, str]] = Field(default_factory=list, description="ID numbers replaced, with when")
    created_at: datetime = Field(default_factory=_now)
    signed_in_at: datetime = Field(default_factory=_now)

    @property
    def owner_id(self) -> str | None:
        """The ID a dossier filed without signing in must carry to be this account's."""
        return self.tax_code if self.kind == "business" else self.id_number

    @property
    def display_name(self) -> str:
        return self.business_name or self.name if self.kind == "business" else self.name


def account_key(issuer: str, subject: str) -> str:
    return hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:40]


def sign_in(store: Store, identity: Identity) -> Account:
    """The account of this identity, made on first sign-in, its claims brought up to date."""
    key = account_key(identity.issuer, identity.subject)
    claims = identity.claims
    at = _now()

    def change(current: dict[str, Any] | None) -> dict[str, Any]:
        account = Account.model_validate(current) if current else Account(
            key=key, provider=identity.provider, issuer=identity.issuer, subject=identity.subject, created_at=at)
        new_id = str(claims["id_number"]) if claims.get("id_number") else None
        if account.id_number and new_id and new_id != account.id_number:
            account.id_history.append({"id_number": account.id_number, "replaced_at": at.isoformat()})
        account.id_number = new_id or account.id_number
        account.kind = "business" if claims.get("account_type") == "business" else "citizen"
        account.name = str(claims.get("name") or account.name)
        account.level = int(claims.get("level") or 1)
        account.tax_code = claims.get("tax_code")
        account.business_name = claims.get("business_name")
        account.legal_representative = claims.get("legal_representative")
        account.claims = dict(claims)
        account.signed_in_at = at
        return account.model_dump(mode="json")

    return Account.model_validate(store.records(CITIZENS).update(key, change))


def get(store: Store, key: str) -> Account | None:
    found = store.records(CITIZENS).get(key)
    return Account.model_validate(found) if found else None


def open_session(store: Store, account: Account, hours: float = SESSION_HOURS) -> str:
    sid = secrets.token_urlsafe(32)
    expires = _now() + timedelta(hours=hours)
    store.records(SESSIONS).put(_session_key(sid), {"account": account.key, "expires": expires.isoformat()})
    return sid


def _session_key(sid: str) -> str:
    """Sessions are stored under a hash of their id: a copy of the store holds no live cookie."""
    return hashlib.sha256(sid.encode()).hexdigest()


def session_account(store: Store, sid: str | None) -> Account | None:
    if not sid or len(sid) > 100:
        return None
    record = store.records(SESSIONS).get(_session_key(sid))
    if not record or datetime.fromisoformat(record["expires"]) < _now():
        return None
    return get(store, record["account"])


def end_session(store: Store, sid: str | None) -> None:
    if sid and len(sid) <= 100:
        store.records(SESSIONS).delete(_session_key(sid))


def _norm(value: str | None) -> str:
    return re.sub(r"\s", "", value or "")


def owns(account: Account, dossier: Dossier) -> bool:
    """Whether the dossier is this account's (module docstring)."""
    if dossier.account:
        return dossier.account == account.key
    owner_id = _norm(account.owner_id)
    return bool(owner_id) and _norm(dossier.contact.cccd) == owner_id


def dossiers_of(store: Store, account: Account) -> list[Dossier]:
    """The account's dossiers, newest first."""
    mine = [d for d in store.dossiers.all() if owns(account, d)]
    return sorted(mine, key=lambda d: d.filed_at, reverse=True)


def drafts_of(store: Store, account: Account) -> Iterator[tuple[str, dict[str, Any]]]:
    """The account's drafts not filed yet: (token, draft)."""
    for token, draft in store.records("drafts").all():
        if draft.get("account") == account.key and not draft.get("filed_code"):
            yield token, draft
