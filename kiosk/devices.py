"""The hall tablet: a browser a staff member enrolled once, recognised by a long-lived signed cookie.

The kiosk home opens on any device so that a newcomer can try it; what only the hall
tablet may do (e.g. take a tool back without asking who returns it, since the tool is
physically at the hall) checks `is_hall_tablet()`.
"""
from functools import wraps

from flask import abort, current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer

from .database import write_transaction
from .extensions import db
from .models import KioskDevice
from .models.base import utcnow

COOKIE = "hall_tablet"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="hall-tablet")


def current_device() -> KioskDevice | None:
    if "hall_device" not in g:
        device = None
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                device_id = _serializer().loads(raw)
            except BadSignature:
                device_id = None
            if device_id is not None:
                device = db.session.get(KioskDevice, device_id)
                if device is not None and device.revoked_at is not None:
                    device = None
        g.hall_device = device
    return g.hall_device


def is_hall_tablet() -> bool:
    return current_device() is not None


def hall_tablet_only(view):
    """Refuse (403) on any device that is not an enrolled hall tablet."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not is_hall_tablet():
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def enrol(name: str, staff_id: int) -> KioskDevice:
    with write_transaction() as s:
        device = KioskDevice(name=name, enrolled_by_id=staff_id)
        s.add(device)
        s.flush()
        return device


def revoke(device_id: int) -> None:
    with write_transaction() as s:
        device = s.get(KioskDevice, device_id)
        if device is not None and device.revoked_at is None:
            device.revoked_at = utcnow()


def set_cookie(response, device: KioskDevice) -> None:
    days = current_app.config["KIOSK_DEVICE_COOKIE_DAYS"]
    response.set_cookie(COOKIE, _serializer().dumps(device.id), max_age=days * 86400,
                        httponly=True, samesite="Lax",
                        secure=request.is_secure or current_app.config["SESSION_COOKIE_SECURE"])


def init_app(app):
    app.jinja_env.globals.update(is_hall_tablet=is_hall_tablet)
