"""Who a resident is: mobile numbers, names, consent. Used by every flow, tablet and phone alike."""
import re
import unicodedata

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .database import write_transaction
from .extensions import db
from .models import Resident
from .models.base import utcnow
from .refusal import Refusal

_SEPARATORS = re.compile(r"[\s\-()（）.·]+")
_MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")


class InvalidMobile(ValueError):
    pass


def normalise_mobile(raw: str) -> str:
    """'＋86 138 0013 8000' -> '13800138000'. Raises InvalidMobile when it is not a mainland mobile.

    Full-width digits come from Chinese input methods; +86/0086 from copied numbers.
    """
    s = unicodedata.normalize("NFKC", raw or "")
    s = _SEPARATORS.sub("", s)
    if s.startswith("+86"):
        s = s[3:]
    elif s.startswith("0086"):
        s = s[4:]
    elif s.startswith("86") and len(s) == 13:
        s = s[2:]
    if not _MAINLAND_MOBILE.match(s):
        raise InvalidMobile(s)
    return s


def mask_mobile(mobile: str) -> str:
    """138****8000: what public and kiosk screens show of a number."""
    if not mobile or len(mobile) < 7:
        return "****"
    return f"{mobile[:3]}****{mobile[-4:]}"


# The longest name a resident, a volunteer or a child may have (their columns' length).
NAME_MAX = 60


def normalise_name(raw: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", raw or "").split())


def check_name_length(name: str, field: str = "name") -> None:
    """Refuse a normalised name longer than NAME_MAX. The forms count what was typed, but NFKC
    turns some single characters into many (ﷺ into 18 letters): PostgreSQL would refuse such a
    name with a 500, and cutting it would keep a name nobody wrote."""
    if len(name) > NAME_MAX:
        raise Refusal("name_long", _l("Please write a shorter name."), field=field)


def identify_resident(mobile: str, name: str, building_unit: str | None = None,
                      consent: bool = False) -> Resident:
    """Find the resident with this mobile and name, or register them on the spot.

    The caller holds the write transaction. A new resident must consent; a known one
    whose name does not match is refused rather than silently renamed.
    """
    mobile = normalise_mobile(mobile)
    name = normalise_name(name)
    if not name:
        raise Refusal("name_missing", _l("Please write your name."), field="name")
    check_name_length(name)
    resident = db.session.scalar(select(Resident).where(Resident.mobile == mobile))
    if resident is None:
        if not consent:
            raise Refusal("consent_missing", _l("Please agree so that we can lend to you."),
                          field="consent")
        resident = Resident(mobile=mobile, name=name, building_unit=building_unit or None,
                            consent_at=utcnow())
        db.session.add(resident)
        db.session.flush()
        return resident
    if normalise_name(resident.name) != name:
        raise Refusal("name_mismatch",
                      _l("This mobile number is registered under another name. "
                         "Please check the name, or ask the staff."), field="name")
    if resident.consent_at is None:
        if not consent:
            raise Refusal("consent_missing", _l("Please agree so that we can lend to you."),
                          field="consent")
        resident.consent_at = utcnow()
    if building_unit and not resident.building_unit:
        resident.building_unit = building_unit
    return resident


def identify_resident_now(mobile: str, name: str, building_unit: str | None = None,
                          consent: bool = False) -> Resident:
    """identify_resident in a write transaction of its own, as the views need it.

    A new resident's double tap that reached two workers inserts the same mobile twice at
    once; the loser meets the unique index and, on a second try, finds the winner's row.
    """
    try:
        with write_transaction():
            return identify_resident(mobile, name, building_unit, consent)
    except IntegrityError:
        with write_transaction():
            return identify_resident(mobile, name, building_unit, consent)
