"""Staff accounts (cán bộ): who may act on which agency's dossiers, and how they log in.

Accounts live in the store's `accounts` collection, keyed by username. Passwords are kept
only as werkzeug hashes (scrypt); checks are constant-time, and an unknown username costs
the same hash check as a known one, so timing does not tell which usernames exist.
Wrong passwords are counted per source and account, per client and per account (see
`LoginLimits`), which makes guessing passwords online impractical without letting a
stranger lock the real user out. Sessions are kept server-side (collection
`staff_sessions`), so logging out ends a session wherever its cookie was copied.

The first administrator is created on the command line (no web sign-up exists):

    motcua staff add admin --name "Quản trị hệ thống" --role admin --data data
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field
from werkzeug.security import check_password_hash, generate_password_hash

from motcua import throttle
from motcua.store.base import Store

Role = Literal["desk", "specialist", "leader", "admin", "author"]
#: `author` writes procedure specs in the authoring studio (/staff/soan-thao) and sends
#: them for review; only an administrator other than the author publishes them.
ROLES: tuple[str, ...] = ("desk", "specialist", "leader", "admin", "author")
ROLE_LABELS = {
    "desk": {"vi": "Cán bộ một cửa", "en": "Desk officer"},
    "specialist": {"vi": "Chuyên viên xử lý", "en": "Specialist"},
    "leader": {"vi": "Lãnh đạo", "en": "Leader"},
    "admin": {"vi": "Quản trị", "en": "Administrator"},
    "author": {"vi": "Soạn thảo thủ tục", "en": "Procedure author"},
}

ACCOUNTS = "accounts"
LOGIN_ATTEMPTS = "login_attempts"
SESSIONS = "staff_sessions"
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
    if not agencies and not {"admin", "author"} & set(roles):  # an author writes specs, serves no desk
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
    end_sessions(store, username)


def set_active(store: Store, username: str, active: bool) -> None:
    def change(current: dict[str, Any] | None) -> dict[str, Any]:
        if current is None:
            raise AccountError(f"Không có tài khoản {username}.")
        return {**current, "active": active}

    store.records(ACCOUNTS).update(username, change)
    if not active:
        end_sessions(store, username)


# --- logging in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginLimits:
    """How many wrong passwords are taken before attempts are refused for a while.

    Failures are counted per *source and account* (a source is the browser's device cookie
    when it holds one for that account, else the client address), per client address across
    accounts, and per account across every source that has no device cookie for it. So a
    stranger who types wrong passwords locks out only themselves, never the staff member on
    a browser they have logged in from before; a spread-out attack on one account slows new
    browsers only. Unknown usernames are counted exactly like real ones, so the refusals
    tell nobody which accounts exist.
    """

    per_account: int = 5
    per_client: int = 50
    per_account_new_sources: int = 30
    window_s: int = 15 * 60

    @classmethod
    def from_config(cls, config: Any) -> LoginLimits:
        return cls(
            per_account=int(config.get("LOGIN_FAILURES_PER_ACCOUNT", cls.per_account)),
            per_client=int(config.get("LOGIN_FAILURES_PER_CLIENT", cls.per_client)),
            per_account_new_sources=int(config.get("LOGIN_FAILURES_PER_ACCOUNT_NEW", cls.per_account_new_sources)),
            window_s=int(config.get("LOGIN_WINDOW_S", cls.window_s)),
        )


class LoginResult(BaseModel):
    user: StaffUser | None = None
    #: Seconds to wait, when a limit refused the attempt before the password was checked.
    retry_after: int | None = None

    @property
    def ok(self) -> bool:
        return self.user is not None


def authenticate(
    store: Store,
    username: str,
    password: str,
    client: str = "",
    device: str | None = None,
    limits: LoginLimits = LoginLimits(),
    now: float | None = None,
) -> LoginResult:
    """Check a login attempt: the account when the password is right and the account active.

    `client` is the request's address; `device` the id from a valid device cookie issued to
    this username (see `device_for`). Every attempt that gets past the limits costs one
    password hash, whether the account exists, is disabled, or not.
    """
    now = time.time() if now is None else now
    key = username.strip().lower()[:100]
    records = store.records(LOGIN_ATTEMPTS)
    source = f"device:{device}" if device else f"client:{client}"
    buckets = [(throttle.key("account", f"{source}|{key}"), limits.per_account)]
    if not device:
        buckets.append((throttle.key("client", client), limits.per_client))
        buckets.append((throttle.key("account-new", key), limits.per_account_new_sources))
    taken: list[str] = []
    for name, limit in buckets:
        wait = throttle.take(records, name, limit, limits.window_s, now)
        if wait is not None:
            for done in taken:
                throttle.give_back(records, done)
            return LoginResult(retry_after=math.ceil(wait))
        taken.append(name)
    user = get_account(store, key) if key else None
    if user is None:
        check_password_hash(_dummy_hash(HASH_METHOD), password)
        return LoginResult()
    if not (user.check_password(password) and user.active):
        return LoginResult()
    for done in taken:
        throttle.give_back(records, done)
    return LoginResult(user=user)


def purge_login_attempts(store: Store, limits: LoginLimits = LoginLimits(), now: float | None = None) -> int:
    """Forget counting windows that have ended (and sessions past their lifetime)."""
    now = time.time() if now is None else now
    gone = throttle.purge(store.records(LOGIN_ATTEMPTS), limits.window_s, now)
    sessions = store.records(SESSIONS)
    for sid, info in list(sessions.all()):
        if now - float(info.get("at", 0)) >= SESSION_HOURS * 3600:
            sessions.delete(sid)
            gone += 1
    return gone


# --- device cookies --------------------------------------------------------------------------

DEVICE_COOKIE = "staff_device"  # the prefix: one cookie per account, see `device_cookie_name`
DEVICE_DAYS = 180


def device_cookie_name(username: str) -> str:
    """The cookie naming this browser as one `username` logged in from. One per account, so
    officers taking turns at a shared desk computer each keep theirs (one cookie for all
    was replaced at each login, making the others "new browsers" again)."""
    digest = hashlib.sha256(username.strip().lower().encode("utf-8")).hexdigest()[:12]
    return f"{DEVICE_COOKIE}_{digest}"


def device_cookie(username: str) -> str:
    """A signed cookie value naming this browser as one `username` logged in from."""
    from flask import current_app
    from itsdangerous import URLSafeTimedSerializer

    signer = URLSafeTimedSerializer(str(current_app.secret_key), salt="motcua-staff-device")
    return signer.dumps({"u": username, "d": secrets.token_urlsafe(16)})


def device_for(cookie: str | None, username: str) -> str | None:
    """The device id in a valid cookie issued to `username`; None for any other cookie."""
    if not cookie:
        return None
    from flask import current_app
    from itsdangerous import BadData, URLSafeTimedSerializer

    signer = URLSafeTimedSerializer(str(current_app.secret_key), salt="motcua-staff-device")
    try:
        data = signer.loads(cookie, max_age=DEVICE_DAYS * 86400)
    except BadData:
        return None
    if not isinstance(data, dict) or data.get("u") != username.strip().lower() or not isinstance(data.get("d"), str):
        return None
    return data["d"]


# --- the web session -----------------------------------------------------------------------

SESSION_KEY = "staff"


def _session_record(sid: str) -> str:
    """Sessions are stored by a hash of their id: a copy of the store opens none of them."""
    return hashlib.sha256(sid.encode()).hexdigest()


def login_session(store: Store, user: StaffUser, now: float | None = None) -> None:
    """Start a fresh session for `user` (clearing anything an attacker may have planted).

    The cookie carries a random session id; the server keeps a record of it, so logging out
    (or a password change, or disabling the account) ends the session for every copy of
    the cookie, not only in the browser that clicked "log out".
    """
    from flask import session

    now = time.time() if now is None else now
    sid = secrets.token_urlsafe(32)
    store.records(SESSIONS).put(_session_record(sid), {"username": user.username, "at": now})
    logout_session(store)  # a previous user still logged in here: end that session on the server too
    session.clear()
    session[SESSION_KEY] = {
        "username": user.username,
        "sid": sid,
        # A password change or reset ends sessions opened with the old one.
        "stamp": _stamp(user),
    }


def _stamp(user: StaffUser) -> str:
    """Binds a session to the current password without putting any of its hash in the
    cookie (which is signed, not encrypted): an HMAC of the hash under the secret key."""
    from flask import current_app

    key = str(current_app.secret_key or "").encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def logout_session(store: Store) -> None:
    """End this session on the server, then forget it in the browser."""
    from flask import session

    info = session.pop(SESSION_KEY, None)
    if isinstance(info, dict) and isinstance(info.get("sid"), str):
        store.records(SESSIONS).delete(_session_record(info["sid"]))


def end_sessions(store: Store, username: str) -> int:
    """End every session of `username` (password changed, account disabled)."""
    sessions = store.records(SESSIONS)
    mine = [sid for sid, info in sessions.all() if info.get("username") == username]
    for sid in mine:
        sessions.delete(sid)
    return len(mine)


def current_staff() -> StaffUser | None:
    """The logged-in staff member of this request, or None (cached per request)."""
    from flask import g, session

    from motcua.services import services

    if "staff_user" in g:
        return g.staff_user
    user = None
    info = session.get(SESSION_KEY)
    if isinstance(info, dict) and isinstance(info.get("sid"), str) and info.get("username"):
        store = services().store
        record = store.records(SESSIONS).get(_session_record(info["sid"]))
        fresh = (
            record is not None
            and record.get("username") == info["username"]
            and time.time() - float(record.get("at", 0)) < SESSION_HOURS * 3600
        )
        candidate = get_account(store, info["username"]) if fresh else None
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
    offices = getattr(catalogue, "performers", None)  # a Catalogue: every office performing a procedure
    agencies = sorted({a.code for spec in catalogue for a in offices(spec)} if offices
                      else {spec.agency.code for spec in catalogue if spec.agency})
    created = []
    for username, name, roles in DEMO_ACCOUNTS:
        existing = get_account(store, username)
        if existing is None:
            try:
                created.append(create_account(store, username, name, roles, agencies, DEMO_PASSWORD))
            except AccountError:
                continue  # created meanwhile by another process
            store.records(ACCOUNTS).update(username, lambda current: {**(current or {}), "demo": True})
        else:
            if existing.demo and not existing.active:
                set_active(store, username, True)  # disabled by a normal start; this is a demo again
            if existing.demo and sorted(existing.agencies) != agencies:
                # the registry changed since (offices added, recoded): a demo serves every office
                store.records(ACCOUNTS).update(username, lambda current: {**(current or {}), "agencies": agencies})
    return created


def disable_demo_accounts(store: Store) -> list[str]:
    """On a normal (non-demo) start: switch off every account that `serve --demo` made, or
    that still has the published demo password. Returns their usernames."""
    import logging

    from pydantic import ValidationError

    disabled = []
    names = {username for username, _name, _roles in DEMO_ACCOUNTS}
    for key, value in store.records(ACCOUNTS).all():
        try:  # every app start runs this: one damaged record must not stop the portal
            user = StaffUser.model_validate(value)
        except ValidationError as error:
            logging.getLogger(__name__).error("staff account record %r does not read (%s error(s)); left as it is",
                                              key, error.error_count())
            continue
        if user.active and (user.demo or (user.username in names and user.check_password(DEMO_PASSWORD))):
            set_active(store, user.username, False)
            disabled.append(user.username)
    return disabled
