"""Staff accounts: argon2 password hashes, the password policy, roles, sessions that end
everywhere at once, and login throttling shared by all workers."""
import gzip
import re
from datetime import timedelta
from functools import cache, wraps
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from . import settings
from .database import write_transaction
from .extensions import db, login_manager
from .models import LoginAttempt, StaffUser
from .models.base import utcnow
from .models.people import ROLES
from .refusal import Refusal

# OWASP's first recommended argon2id setting (19 MiB, 2 passes, 1 lane). argon2-cffi's default
# (RFC 9106's 64 MiB) made each login lift a worker's memory by 64 MiB, past the hall server's
# 120 MB a worker (issue 9); 19 MiB still makes each guess of a stolen hash cost as OWASP asks.
# Hashes made with the old setting still verify, and are made again at the next login
# (check_needs_rehash in authenticate).
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified when the name is unknown, so that a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


# NIST SP 800-63B: at least 8 characters, long passphrases welcome, no composition rules,
# and the passwords everyone tries first refused.
PASSWORD_MIN, PASSWORD_MAX = 8, 256


@cache
def _common_passwords() -> frozenset[str]:
    data = resources.files("kiosk").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def check_password(password: str, username: str = "") -> str:
    """The password if the policy allows it, else a Refusal on the `password` field."""
    password = password or ""
    if len(password) < PASSWORD_MIN:
        raise Refusal("short", _l("The password needs at least %(num)s characters.", num=PASSWORD_MIN),
                      field="password")
    if len(password) > PASSWORD_MAX:
        raise Refusal("long", _l("The password can have at most %(num)s characters.", num=PASSWORD_MAX),
                      field="password")
    lowered = password.lower()
    if lowered in _common_passwords() or (username and username.strip().lower() in lowered):
        raise Refusal("common", _l("This password is too easy to guess. Please choose another one."),
                      field="password")
    return password


def create_staff(username: str, password: str, role: str = "staff", display_name: str | None = None) -> StaffUser:
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    check_password(password, username)
    with write_transaction() as s:
        user = StaffUser(username=username.strip().lower(), display_name=display_name or username,
                         password_hash=hash_password(password), role=role)
        s.add(user)
        s.flush()
        return user


def _recent_failures(column, value) -> int:
    since = utcnow() - timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    return db.session.scalar(select(func.count()).select_from(LoginAttempt).where(
        column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.at >= since)) or 0


def authenticate(username: str, password: str, address: str) -> StaffUser:
    """The staff user with this name and password, or a Refusal; every attempt is recorded."""
    username = (username or "").strip().lower()
    limit = settings.get("LOGIN_MAX_FAILURES")
    if _recent_failures(LoginAttempt.username, username) >= limit or \
            _recent_failures(LoginAttempt.address, address) >= limit * 4:
        raise Refusal("throttled", _l("Too many failed attempts. Please wait 15 minutes and try again."),
                      field="password")
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    ok = False
    try:
        ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        ok = False
    ok = ok and user is not None and user.active
    with write_transaction() as s:
        s.add(LoginAttempt(username=username[:40], address=address[:45], succeeded=ok))
        if ok:
            user = s.get(StaffUser, user.id)
            user.last_login_at = utcnow()
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
    if not ok:
        raise Refusal("bad_login", _l("The user name or password is not right."), field="password")
    return user


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def init_app(app):
    # Not Flask-Login's context processor: it loaded the user for every template, so "strong"
    # session protection cleared every visitor's session and sent its cookie again on every
    # public page. The proxy loads the user only where a template reads current_user.
    login_manager.init_app(app, add_context_processor=False)
    app.jinja_env.globals["current_user"] = current_user
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see the back office.")
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load(session_id):
        """The account behind a login session, if that session has not been ended since."""
        user_id, _, version = str(session_id).partition(".")
        if not user_id.isdigit() or not version.isdigit():
            return None  # a session from before session versions: log in again
        user = db.session.get(StaffUser, int(user_id))
        if user is None or not user.active or user.session_version != int(version):
            return None
        return user


def end_sessions(user_id: int) -> None:
    """End every login session of this account, in every browser (logout, deactivation, reset)."""
    with write_transaction() as s:
        user = s.get(StaffUser, user_id)
        user.session_version += 1


# --- Managing accounts (the staff accounts page) ----------------------------------------------
# The rules live here, not in the views: an admin cannot lock themselves out, and the hall
# always keeps one active admin. Each action ends the sessions it makes stale.

USERNAME_MAX, DISPLAY_NAME_MAX = 40, 60
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,39}")


def check_username(username: str) -> str:
    """The user name as stored (lower case), or a Refusal on the `username` field."""
    name = (username or "").strip().lower()
    if not _USERNAME.fullmatch(name):
        raise Refusal("username", _l("A user name has 2 to 40 letters (a–z), digits, dots, dashes or "
                                     "underscores, like dolma or tashi.d."), field="username")
    return name


def check_display_name(display_name: str) -> str:
    name = " ".join((display_name or "").split())
    if not name:
        raise Refusal("display_name", _l("Please write the name shown in the back office."), field="display_name")
    if len(name) > DISPLAY_NAME_MAX:
        raise Refusal("display_name", _l("At most %(num)s characters.", num=DISPLAY_NAME_MAX), field="display_name")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise Refusal("role", _l("Please choose a role."), field="role")
    return role


def _account(s, user_id: int) -> StaffUser:
    user = s.get(StaffUser, user_id)
    if user is None:
        raise Refusal("no_account", _l("This account does not exist."))
    return user


def _keep_an_admin(s, user: StaffUser, by_id: int | None, *, demoting: bool) -> None:
    """Refuse to take the admin role (or the account) away from oneself or the last active admin."""
    if user.role != "admin" or not user.active:
        return
    if user.id == by_id:
        if demoting:
            raise Refusal("self_demote", _l("You cannot take the admin role away from your own account. "
                                            "Another admin can."), field="role")
        raise Refusal("self_deactivate", _l("You cannot deactivate your own account. Another admin can."))
    # The active admins, locked so that two admins demoting each other cannot both succeed.
    admins = s.scalars(select(StaffUser.id).where(StaffUser.role == "admin", StaffUser.active.is_(True))
                       .with_for_update()).all()
    if len(admins) <= 1:
        raise Refusal("last_admin", _l("This is the last active admin account: the hall needs one. "
                                       "Make another account an admin first."), field="role" if demoting else None)


def create_account(username: str, display_name: str, role: str, password: str) -> StaffUser:
    """A new staff account, after every rule: a free user name, a role, a password the policy allows."""
    username = check_username(username)
    display_name = check_display_name(display_name)
    check_role(role)
    check_password(password, username)
    try:
        with write_transaction() as s:
            if s.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
                raise Refusal("taken", _l("This user name is taken. Please choose another one."), field="username")
            user = StaffUser(username=username, display_name=display_name, role=role,
                             password_hash=hash_password(password))
            s.add(user)
            s.flush()
            return user
    except IntegrityError:  # the same name created at the same moment (a double submit)
        raise Refusal("taken", _l("This user name is taken. Please choose another one."),
                      field="username") from None


def save_account(user_id: int, display_name: str, role: str, by_id: int | None) -> StaffUser:
    """Change an account's display name and role; a role change ends its sessions (new rights at once)."""
    display_name = check_display_name(display_name)
    check_role(role)
    with write_transaction() as s:
        user = _account(s, user_id)
        if role != user.role:
            _keep_an_admin(s, user, by_id, demoting=True)
            user.session_version += 1
        user.display_name, user.role = display_name, role
        return user


def set_active(user_id: int, active: bool, by_id: int | None) -> StaffUser:
    """Deactivate an account (its sessions end at once, in every browser) or let it in again."""
    with write_transaction() as s:
        user = _account(s, user_id)
        if user.active == active:
            return user  # a double submit: already so
        if not active:
            _keep_an_admin(s, user, by_id, demoting=False)
        user.active = active
        user.session_version += 1
        return user


def reset_password(user_id: int, password: str, by_id: int | None) -> StaffUser:
    """An admin sets a new password for someone (who forgot theirs); their sessions end."""
    with write_transaction() as s:
        user = _account(s, user_id)
        if user.id == by_id:
            raise Refusal("own_password", _l("Change your own password on the “My password” page, "
                                             "with your current password."))
        check_password(password, user.username)
        user.password_hash = hash_password(password)
        user.session_version += 1
        return user


def change_own_password(user_id: int, current: str, new: str) -> StaffUser:
    """A staff member changes their own password; their other sessions end (the caller logs this
    browser in again with the returned account)."""
    with write_transaction() as s:
        user = _account(s, user_id)
        try:
            ok = _hasher.verify(user.password_hash, current or "")
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok:
            raise Refusal("wrong_current", _l("This is not your current password."), field="current")
        check_password(new, user.username)
        if new == current:
            raise Refusal("same", _l("The new password is the same as the current one."), field="password")
        user.password_hash = hash_password(new)
        user.session_version += 1
        return user
