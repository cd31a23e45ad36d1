"""Staff accounts: argon2 password hashes, the password policy, roles, sessions that end
everywhere at once, and login throttling shared by all workers."""
import gzip
from datetime import timedelta
from functools import cache, wraps
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select

from . import settings
from .database import write_transaction
from .extensions import db, login_manager
from .models import LoginAttempt, StaffUser
from .models.base import utcnow
from .models.people import ROLES
from .refusal import Refusal

# argon2-cffi's defaults follow RFC 9106's second recommended option (above OWASP's floor).
_hasher = PasswordHasher()
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
    login_manager.init_app(app)
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
