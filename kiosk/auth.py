"""Staff accounts: argon2 password hashes, roles, and login throttling shared by all workers."""
from datetime import timedelta
from functools import wraps

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select

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


def create_staff(username: str, password: str, role: str = "staff", display_name: str | None = None) -> StaffUser:
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    if len(password) < 10:
        raise ValueError("the password needs at least 10 characters")
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
    limit = current_app.config["LOGIN_MAX_FAILURES"]
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
    def _load(user_id):
        return db.session.get(StaffUser, int(user_id))
