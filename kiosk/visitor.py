"""Who is at this screen. A phone may remember its resident in a signed cookie; the tablet keeps
the resident only in the session for the one action under way, and the idle reset clears it."""
from flask import current_app, request, session
from itsdangerous import BadSignature, URLSafeTimedSerializer

from .extensions import db
from .models import Resident
from .web import surface

PHONE_COOKIE = "resident"
KIOSK_KEY = "kiosk_resident_id"


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="phone-resident")


def current_resident() -> Resident | None:
    if surface() == "kiosk":
        resident_id = session.get(KIOSK_KEY)
    else:
        raw = request.cookies.get(PHONE_COOKIE)
        resident_id = None
        if raw:
            try:
                max_age = current_app.config["RESIDENT_COOKIE_DAYS"] * 86400
                resident_id = _serializer().loads(raw, max_age=max_age)
            except BadSignature:
                resident_id = None
    return db.session.get(Resident, resident_id) if resident_id else None


def remember(response, resident: Resident) -> None:
    if surface() == "kiosk":
        session[KIOSK_KEY] = resident.id
        return
    days = current_app.config["RESIDENT_COOKIE_DAYS"]
    response.set_cookie(PHONE_COOKIE, _serializer().dumps(resident.id), max_age=days * 86400,
                        httponly=True, samesite="Lax",
                        secure=request.is_secure or current_app.config["SESSION_COOKIE_SECURE"])


def forget(response) -> None:
    """After a finished action on the tablet; on request on a phone ("Not you?")."""
    session.pop(KIOSK_KEY, None)
    if surface() != "kiosk":
        response.delete_cookie(PHONE_COOKIE, httponly=True, samesite="Lax",
                               secure=request.is_secure or current_app.config["SESSION_COOKIE_SECURE"])
