"""Staff accounts (cán bộ): who may act on which agency's dossiers, and how they log in.

Accounts live in the store's `accounts` collection, keyed by username. Passwords are kept
only as werkzeug hashes (scrypt); checks are constant-time, and an unknown username costs
the same hash check as a known one, so timing does not tell which usernames exist.
Repeated failures lock the account for a while (`LOCK_AFTER`, `LOCK_MINUTES`), which makes
guessing passwords online impractical without letting anyone lock an account for good.

The first administrator is created on the command line (no web sign-up exists):

    motcua staff add admin --name "Quản trị hệ thống" --role admin --data data
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Literal, TypeVar

from pydantic import BaseModel, Field
from werkzeug.security import check_password_hash, generate_password_hash

from motcua.store.base import Store

Role = Literal["desk", "specialist", "leader", "admin"]
ROLES: tuple[str, ...] = ("desk", "specialist", "leader", "admin")
ROLE_LABELS = {
    "desk": {"vi": "Cán bộ một cửa", "en": "Desk officer"},
    "specialist": {"vi": "Chuyên viên xử lý", "en": "Specialist"},
    "leader": {"vi": "Lãnh đạo", "en": "Leader"},
    "admin": {"vi": "Quản trị", "en": "Administrator"},
}

ACCOUNTS = "accounts"
FAILURES = "login_failures"
LOCK_AFTER = 5
LOCK_MINUTES = 15
SESSION_HOURS = 12
MIN_PASSWORD_LENGTH = 10
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,39}$"

#: werkzeug's method string; the cost parameters are stored in each hash, so raising them
#: later keeps old hashes working. Tests may lower the cost (e.g. "scrypt:1024:8:1").
HASH_METHOD = "scrypt"


@functools.lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    """Checked when there is no real hash to check, so every path costs one hash run."""
    return generate_password_hash("motcua-no-such-user", method=method)

F = TypeVar("F", bound=Callable[..., Any])


class AccountError(ValueError):
    """An account cannot be created or changed as asked; the message says why (Vietnamese)."""


class StaffUser(BaseModel):
    username: str
    name: str
    roles: list[Role] = Field(default_factory=list)
    agencies: list[str] = Field(default_factory=list, description="Agency codes this person serves")
    password_hash: str = ""
    active: bool = True
    demo: bool = Field(default=False, description="Made by `serve --demo` with the published password")

    def serves(self, agency_code: str) -> bool:
        return "admin" in self.roles or agency_code in self.agencies

    def has(self, role: str) -> bool:
        return role in self.roles or "admin" in self.roles

    @property
    def actor(self) -> str:
        """How this person appears on a dossier's timeline."""
        return f"staff:{self.username}"

    def check_password(self, password: str) -> bool:
        """Constant-time comparison against the stored hash; never true without a hash."""
        if not self.password_hash:
            check_password_hash(_dummy_hash(HASH_METHOD), password)
            return False
        return check_password_hash(self.password_hash, password)


def hash_password(password: str) -> str:
    """A salted scrypt hash; the only form in which a password is ever stored."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự.")
    return generate_password_hash(password, method=HASH_METHOD)


# --- the accounts collection --------------------------------------------------------------


def get_account(store: Store, username: str) -> StaffUser | None:
    data = store.records(ACCOUNTS).get(username.strip().lower())
    return StaffUser.model_validate(data) if data else None


def all_accounts(store: Store) -> list[StaffUser]:
    return sorted(
        (StaffUser.model_validate(value) for _key, value in store.records(ACCOUNTS).all()),
        key=lambda u: u.username,
    )


def create_account(
    store: Store,
    username: str,
    name: str,
    roles: Iterable[str],
    agencies: Iterable[str],
    password: str,
) -> StaffUser:
    """Add a new account; refuses an existing username rather than overwriting it."""
    user = new_account(store, username, name, roles, agencies)
    user.password_hash = hash_password(password)
    if not store.records(ACCOUNTS).insert_new(user.username, user.model_dump(mode="json")):
        raise AccountError(f"Tên đăng nhập {user.username} đã có.")
    return user


def new_account(store: Store, username: str, name: str, roles: Iterable[str], agencies: Iterable[str]) -> StaffUser:
    """The account as it would be created, without a password, or the AccountError saying
    why not; lets the command line refuse before asking for a password."""
    roles = list(dict.fromkeys(roles))
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise AccountError(f"Vai trò không hợp lệ: {', '.join(unknown)} (chọn trong {', '.join(ROLES)}).")
    if not roles:
        raise AccountError("Cần ít nhất một vai trò.")
    agencies = list(dict.fromkeys(a.strip() for a in agencies if a.strip()))
    username = username.strip().lower()
    if not re.match(USERNAME_PATTERN, username):
        raise AccountError(
            "Tên đăng nhập chỉ gồm chữ thường không dấu, số, dấu chấm, gạch ngang, gạch dưới (2–40 ký tự)."
        )
    if not agencies and "admin" not in roles:
        raise AccountError("Cán bộ phải thuộc ít nhất một cơ quan (mã cơ quan).")
    user = StaffUser(
        username=username,
        name=name.strip(),
        roles=roles,  # type: ignore[arg-type]
        agencies=agencies,
    )
    if not user.name:
        raise AccountError("Cần họ tên cán bộ.")
    if get_account(store, user.username) is not None:
        raise AccountError(f"Tên đăng nhập {user.username} đã có.")
    return user


def set_password(store: Store, username: str, password: str) -> None:
    new_hash = hash_password(password)

    def change(current: dict[str, Any] | None) -> dict[str, Any]:
        if current is None:
            raise AccountError(f"Không có tài khoản {username}.")
        return {**current, "password_hash": new_hash}

    store.records(ACCOUNTS).update(username, change)
    store.records(FAILURES).delete(username)


def set_active(store: Store, username: str, active: bool) -> None:
    def change(current: dict[str, Any] | None) -> dict[str, Any]:
        if current is None:
            raise AccountError(f"Không có tài khoản {username}.")
        return {**current, "active": active}

    store.records(ACCOUNTS).update(username, change)


# --- logging in ------------------------------------------------------------------------------


class LoginResult(BaseModel):
    user: StaffUser | None = None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.user is not None


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def authenticate(store: Store, username: str, password: str, now: datetime | None = None) -> LoginResult:
    """Check a login attempt, counting failures per existing account.

    After `LOCK_AFTER` failures in a row the account refuses every password, the right one
    too, until `LOCK_MINUTES` have passed; a success resets the count.
    """
    now = now or _utcnow()
    key = username.strip().lower()
    user = get_account(store, key) if key else None
    if user is None:
        check_password_hash(_dummy_hash(HASH_METHOD), password)
        return LoginResult()
    failures = store.records(FAILURES)
    state = failures.get(key) or {}
    locked_until = datetime.fromisoformat(state["locked_until"]) if state.get("locked_until") else None
    if locked_until and locked_until > now:
        check_password_hash(_dummy_hash(HASH_METHOD), password)
        return LoginResult(locked_until=locked_until)
    if user.active and user.check_password(password):
        if state:
            failures.delete(key)
        return LoginResult(user=user)

    def count(current: dict[str, Any] | None) -> dict[str, Any]:
        current = dict(current or {})
        if current.get("locked_until") and datetime.fromisoformat(current["locked_until"]) <= now:
            current = {}  # the lock has run out: start counting again
        n = int(current.get("count", 0)) + 1
        lock = (now + timedelta(minutes=LOCK_MINUTES)).isoformat() if n >= LOCK_AFTER else None
        return {"count": n, "locked_until": lock}

    new = failures.update(key, count)
    return LoginResult(locked_until=datetime.fromisoformat(new["locked_until"]) if new["locked_until"] else None)


# --- the web session -----------------------------------------------------------------------

SESSION_KEY = "staff"


def login_session(user: StaffUser, now: datetime | None = None) -> None:
    """Start a fresh session for `user` (clearing anything an attacker may have planted)."""
    from flask import session

    session.clear()
    session[SESSION_KEY] = {
        "username": user.username,
        "at": (now or _utcnow()).isoformat(),
        # A password change or reset ends sessions opened with the old one.
        "stamp": _stamp(user),
    }


def _stamp(user: StaffUser) -> str:
    """Binds a session to the current password without putting any of its hash in the
    cookie (which is signed, not encrypted): an HMAC of the hash under the secret key."""
    from flask import current_app

    key = str(current_app.secret_key or "").encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def logout_session() -> None:
    from flask import session

    session.pop(SESSION_KEY, None)


def current_staff() -> StaffUser | None:
    """The logged-in staff member of this request, or None (cached per request)."""
    from flask import g, session

    from motcua.services import services

    if "staff_user" in g:
        return g.staff_user
    user = None
    info = session.get(SESSION_KEY)
    if isinstance(info, dict) and info.get("username"):
        try:
            started = datetime.fromisoformat(info.get("at", ""))
        except ValueError:
            started = None
        fresh = started is not None and _utcnow() - started < timedelta(hours=SESSION_HOURS)
        candidate = get_account(services().store, info["username"]) if fresh else None
        if candidate and candidate.active and hmac.compare_digest(_stamp(candidate), str(info.get("stamp", ""))):
            user = candidate
    g.staff_user = user
    return user


def staff_required(role: str | None = None) -> Callable[[F], F]:
    """Views for logged-in staff; with `role`, only for holders of that role (admins too).

    Not logged in: redirect to the login page, coming back afterwards. Wrong role: 403.
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            from flask import abort, redirect, request, url_for

            user = current_staff()
            if user is None:
                return redirect(url_for("backoffice.login", next=request.full_path.rstrip("?")))
            if role is not None and not user.has(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


# --- demo ------------------------------------------------------------------------------------

DEMO_PASSWORD = "motcua-demo-2025"
#: (username, name, roles) of the demo accounts, one per role.
DEMO_ACCOUNTS = (
    ("admin", "Quản trị hệ thống (demo)", ["admin"]),
    ("motcua", "Cán bộ một cửa (demo)", ["desk"]),
    ("chuyenvien", "Chuyên viên xử lý (demo)", ["specialist"]),
    ("lanhdao", "Lãnh đạo (demo)", ["leader"]),
)


def ensure_demo_accounts(store: Store, catalogue: Iterable[Any]) -> list[StaffUser]:
    """For `motcua serve --demo`: one account per role serving every agency of the catalogue.

    Idempotent; returns the accounts it created (password `DEMO_PASSWORD`). Never call this
    on a real deployment.
    """
    agencies = sorted({spec.agency.code for spec in catalogue})
    created = []
    for username, name, roles in DEMO_ACCOUNTS:
        existing = get_account(store, username)
        if existing is None:
            try:
                created.append(create_account(store, username, name, roles, agencies, DEMO_PASSWORD))
            except AccountError:
                continue  # created meanwhile by another process
            store.records(ACCOUNTS).update(username, lambda current: {**(current or {}), "demo": True})
        elif existing.demo and not existing.active:
            set_active(store, username, True)  # disabled by a normal start; this is a demo again
    return created


def disable_demo_accounts(store: Store) -> list[str]:
    """On a normal (non-demo) start: switch off every account that `serve --demo` made, or
    that still has the published demo password. Returns their usernames."""
    disabled = []
    names = {username for username, _name, _roles in DEMO_ACCOUNTS}
    for user in all_accounts(store):
        if user.active and (user.demo or (user.username in names and user.check_password(DEMO_PASSWORD))):
            set_active(store, user.username, False)
            disabled.append(user.username)
    return disabled
