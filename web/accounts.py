"""User accounts and sessions of the workbench, in the read model.

Passwords are hashed with argon2 (pwdlib); a session is a random token in an HttpOnly cookie of
which only the SHA-256 is stored, with its CSRF token; it ends after an idle time or an absolute
time, whichever comes first. Repeated wrong passwords lock the account for a while."""

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pwdlib import PasswordHash
from sqlmodel import col, delete, select

from domain.ticket import Actor
from domain.vocabulary import Role
from readmodel import db
from readmodel.tables import UserRow, WebSessionRow

MAX_FAILURES = 5  # wrong passwords in a row before the account is locked
LOCK_FOR = timedelta(minutes=15)
IDLE = timedelta(hours=2)  # a session unused this long has ended
ABSOLUTE = timedelta(hours=12)  # and none lives longer than a long shift
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often
MIN_PASSWORD = 8
ROLES = [Role.intake, Role.unit, Role.center, Role.supervisor, Role.leader]

_hasher = PasswordHash.recommended()
_DUMMY = _hasher.hash("not-a-password-of-anyone")  # verified for unknown users: the same time either way
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,59}$")


class AccountError(ValueError):
    """A request about accounts that cannot be carried out, with the reason shown to the person."""


class LoginRefused(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class SignedIn:
    user: UserRow
    session: WebSessionRow

    @property
    def actor(self) -> Actor:
        return Actor(role=Role(self.user.role), unit=self.user.unit, user=self.user.username)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(ts: datetime | None) -> datetime | None:
    return db.aware(ts)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"密码至少 {MIN_PASSWORD} 位")


def _check_role(role: str, unit: str | None) -> tuple[str, str | None]:
    try:
        r = Role(role)
    except ValueError as e:
        raise AccountError(f"未知角色 {role!r}（可选：{', '.join(x.value for x in ROLES)}）") from e
    if r not in ROLES:
        raise AccountError(f"角色 {role} 不能登录工作台")
    if r == Role.unit and not unit:
        raise AccountError("承办单位账号须指定单位")
    if r != Role.unit and unit:
        raise AccountError("只有承办单位账号指定单位")
    return r.value, unit or None


def create_user(
    url: str, username: str, password: str, role: str, unit: str | None = None, display_name: str = ""
) -> UserRow:
    if not _USERNAME.match(username):
        raise AccountError("用户名 2-60 位，字母、数字、点、横线或下划线")
    check_password(password)
    role, unit = _check_role(role, unit)
    with db.session(url) as session:
        if session.get(UserRow, username) is not None:
            raise AccountError(f"用户 {username} 已存在")
        row = UserRow(
            username=username, display_name=display_name or username, role=role, unit=unit,
            password_hash=_hasher.hash(password),
        )  # fmt: skip
        session.add(row)
        session.commit()
        return row


def ensure_user(
    url: str, username: str, password: str, role: str, unit: str | None = None, display_name: str = ""
) -> bool:
    """Create the account unless it exists (demo accounts at start-up). True if created."""
    with db.session(url) as session:
        if session.get(UserRow, username) is not None:
            return False
    create_user(url, username, password, role, unit, display_name)
    return True


def list_users(url: str) -> list[UserRow]:
    with db.session(url) as session:
        return list(session.exec(select(UserRow).order_by(UserRow.role, UserRow.username)).all())


def update_user(
    url: str,
    username: str,
    *,
    password: str | None = None,
    active: bool | None = None,
    unlock: bool = False,
    role: str | None = None,
    unit: str | None = None,
    display_name: str | None = None,
) -> UserRow:
    with db.session(url) as session:
        row = session.get(UserRow, username)
        if row is None:
            raise AccountError(f"没有用户 {username}")
        if password is not None:
            check_password(password)
            row.password_hash = _hasher.hash(password)
        if role is not None:
            row.role, row.unit = _check_role(role, unit)
        if display_name is not None:
            row.display_name = display_name
        if active is not None:
            row.active = active
        if unlock or password is not None:
            row.failed_logins, row.locked_until = 0, None
        session.add(row)
        if password is not None or active is False or role is not None:
            # Whoever held a session under the old password or role signs in again.
            session.exec(delete(WebSessionRow).where(col(WebSessionRow.username) == username))
        session.commit()
        return row


def authenticate(url: str, username: str, password: str) -> UserRow:
    """The user, or LoginRefused with what the person may be told (never which part was wrong)."""
    now = _now()
    with db.session(url) as session:
        row = session.get(UserRow, username)
        if row is None:
            _hasher.verify(password, _DUMMY)
            raise LoginRefused("用户名或密码不正确")
        locked = _aware(row.locked_until)
        if locked and locked > now:
            minutes = max(1, int((locked - now).total_seconds() // 60) + 1)
            raise LoginRefused(f"连续输错密码 {MAX_FAILURES} 次，账号已锁定，请 {minutes} 分钟后再试或联系管理员")
        ok, new_hash = _hasher.verify_and_update(password, row.password_hash)
        if not ok:
            row.failed_logins += 1
            if row.failed_logins >= MAX_FAILURES:
                row.locked_until, row.failed_logins = now + LOCK_FOR, 0
                session.add(row)
                session.commit()
                raise LoginRefused(
                    f"连续输错密码 {MAX_FAILURES} 次，账号已锁定 {int(LOCK_FOR.total_seconds() // 60)} 分钟"
                )
            session.add(row)
            session.commit()
            raise LoginRefused(f"用户名或密码不正确（再错 {MAX_FAILURES - row.failed_logins} 次将锁定）")
        if not row.active:
            raise LoginRefused("账号已停用，请联系管理员")
        if new_hash:
            row.password_hash = new_hash
        row.failed_logins, row.locked_until, row.last_login_at = 0, None, now
        session.add(row)
        session.commit()
        return row


def open_session(url: str, user: UserRow) -> tuple[str, WebSessionRow]:
    token = secrets.token_urlsafe(32)
    now = _now()
    row = WebSessionRow(
        token_hash=_digest(token), username=user.username, csrf=secrets.token_urlsafe(24),
        created_at=now, last_seen_at=now, expires_at=now + ABSOLUTE,
    )  # fmt: skip
    with db.session(url) as session:
        session.exec(delete(WebSessionRow).where(col(WebSessionRow.expires_at) < now))
        session.add(row)
        session.commit()
    return token, row


def signed_in(url: str, token: str) -> SignedIn | None:
    """The session of a cookie's token, if it is still alive (and its user active)."""
    now = _now()
    with db.session(url) as session:
        row = session.get(WebSessionRow, _digest(token))
        if row is None:
            return None
        expires, seen = _aware(row.expires_at), _aware(row.last_seen_at)
        assert expires is not None and seen is not None
        if expires <= now or seen + IDLE <= now:
            session.delete(row)
            session.commit()
            return None
        user = session.get(UserRow, row.username)
        if user is None or not user.active:
            return None
        if now - seen >= TOUCH_EVERY:
            row.last_seen_at = now
            session.add(row)
            session.commit()
        return SignedIn(user, row)


def close_session(url: str, token: str) -> None:
    with db.session(url) as session:
        row = session.get(WebSessionRow, _digest(token))
        if row is not None:
            session.delete(row)
            session.commit()


# One account per role for `hotline up` (the embedded, one-machine product): created once with
# random passwords, kept beside the data (readable by the owner only) so the banner can print them.
DEMO = [
    ("desk", Role.intake, None, "受理员（演示）"),
    ("badaxia", Role.unit, "qd.shinan.badaxia", "八大峡街道（演示）"),
    ("center", Role.center, None, "中心管理员（演示）"),
    ("supervisor", Role.supervisor, None, "值班长（演示）"),
    ("leader", Role.leader, None, "中心领导（演示）"),
]


def demo_accounts(url: str, folder: Path, city: str) -> list[tuple[str, str, str, str | None]]:
    """(username, password, role, unit) of the demo accounts, created where missing."""
    path = folder / "demo-accounts.json"
    kept: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    out = []
    for username, role, unit, name in DEMO:
        if role == Role.unit and city != "qingdao":
            continue  # the demo street office is Qingdao's
        password = kept.get(username) or secrets.token_urlsafe(9)
        if ensure_user(url, username, password, role.value, unit, name):
            kept[username] = password
        elif username not in kept:
            continue  # an account of that name made by someone else: not ours to print
        out.append((username, kept[username], role.value, unit))
    path.write_text(json.dumps(kept, indent=1))
    path.chmod(0o600)
    return out
