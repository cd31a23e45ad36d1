"""One-off activities (a free health check, a legal-advice morning, a holiday outing) and residents'
sign-ups: every rule of seats, the waiting list, closing and attendance is decided here.

The seat and waiting-list machinery is the English class's (kiosk.places): a seat while there is
one, else the end of the waiting list; a cancelled seat goes at once to the first waiting; the
waiting places are counted (1st, 2nd, no gaps); a form token makes a double tap sign up once.
An activity without a capacity seats everyone (its seat rows are made as people sign up). Each
action is one write transaction that first locks the activity row, as kiosk.classes does.
"""
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from . import codes, places
from .database import write_transaction
from .extensions import db
from .lending import hall_today
from .models import Activity, ActivitySeat, PartnerUnit, SignUp
from .models.base import utcnow
from .models.community import ORGANISERS, SIGN_UP_CHANNELS, SIGN_UP_LIVE
from .refusal import Refusal
from .residents import identify_resident_now

PLACES = places.Spec(SignUp, "activity_id", ActivitySeat, "activity_id")
Seats = places.Seats
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,19}$")
CAPACITY_MIN, CAPACITY_MAX = 1, 1000  # as the activity table's check constraint

# A resident's receipt code (kiosk.codes): it opens the sign-up's status page.
format_receipt = codes.formatted


# --- Looking things up ----------------------------------------------------------------------

def normalise_code(raw: str | None) -> str | None:
    s = unicodedata.normalize("NFKC", raw or "").strip().upper().replace(" ", "")
    return s if _CODE.match(s) else None


def find_activity(raw_code: str | None) -> Activity | None:
    code = normalise_code(raw_code)
    if code is None:
        return None
    return db.session.scalar(select(Activity).where(Activity.code == code))


def find_sign_up(activity: Activity, raw_receipt: str | None) -> SignUp | None:
    receipt = codes.normalise(raw_receipt)
    if receipt is None:
        return None
    return db.session.scalar(select(SignUp).where(SignUp.activity_id == activity.id, SignUp.receipt == receipt))


def coming(today: date | None = None) -> list[Activity]:
    """Activities from today on, soonest first, cancelled ones too (residents must see "cancelled")."""
    today = today or hall_today()
    return list(db.session.scalars(select(Activity).options(joinedload(Activity.partner_unit))
                                   .where(Activity.day >= today)
                                   .order_by(Activity.day, Activity.starts_at, Activity.id)))


def past_query(today: date | None = None):
    """Activities before today, latest first (a statement, for the back office's pager)."""
    today = today or hall_today()
    return (select(Activity).options(joinedload(Activity.partner_unit)).where(Activity.day < today)
            .order_by(Activity.day.desc(), Activity.starts_at.desc(), Activity.id.desc()))


def seats(activity: Activity) -> Seats:
    return seats_of([activity])[activity.id]


def seats_of(activities: list[Activity]) -> dict[int, Seats]:
    """Seats taken and people waiting of several activities, in one query."""
    return places.seats_of(PLACES, activities)


def waiting_place(sign_up: SignUp) -> int | None:
    """1 for the first on the waiting list; counted, so the places never have gaps."""
    return places.waiting_place(PLACES, sign_up)


def _of(activity_id: int, *where, order):
    return list(db.session.scalars(select(SignUp).options(joinedload(SignUp.resident))
                                   .where(SignUp.activity_id == activity_id, *where).order_by(*order)))


def confirmed(activity_id: int) -> list[SignUp]:
    return _of(activity_id, SignUp.status == "confirmed", order=(SignUp.seat,))


def waiting_list(activity_id: int) -> list[SignUp]:
    return _of(activity_id, SignUp.status == "waiting", order=(SignUp.wait_ticket,))


def every_sign_up(activity_id: int) -> list[SignUp]:
    """Every sign-up, cancelled ones too, in the order they came (the CSV export)."""
    return _of(activity_id, order=(SignUp.created_at, SignUp.id))


def to_call(activity_id: int | None = None) -> list[SignUp]:
    """People moved up from the waiting list whom nobody has called yet."""
    stmt = (select(SignUp).options(joinedload(SignUp.resident), joinedload(SignUp.activity))
            .where(SignUp.status == "confirmed", SignUp.promoted_at.is_not(None), SignUp.called_at.is_(None))
            .order_by(SignUp.promoted_at))
    if activity_id is not None:
        stmt = stmt.where(SignUp.activity_id == activity_id)
    return list(db.session.scalars(stmt))


# --- Signing up -----------------------------------------------------------------------------

def _locked(s, activity_id: int) -> Activity:
    activity = s.scalar(select(Activity).where(Activity.id == activity_id).with_for_update())
    if activity is None:
        raise Refusal("no_activity", _l("We could not find this activity."))
    return activity


def check_open(activity: Activity, today: date | None = None) -> None:
    """No sign-up for a cancelled activity, nor after its day."""
    if activity.cancelled_at is not None:
        raise Refusal("activity_cancelled", _l("This activity was cancelled. Please ask the staff about others."))
    if activity.day < (today or hall_today()):
        raise Refusal("activity_over", _l("This activity is over. Please look at the coming activities."))


def _already(twin: SignUp) -> Refusal:
    if twin.status == "confirmed":
        message = _l("You are already signed up for this activity.")
    else:
        message = _l("You are already on the waiting list of this activity.")
    return Refusal("already_signed_up", message, field="mobile")


def _same(sign_up: SignUp, activity_id: int, resident_id: int) -> SignUp:
    if sign_up.activity_id != activity_id or sign_up.resident_id != resident_id:
        raise Refusal("stale_form", _l("This form was already used. Please start again."))
    return sign_up


def sign_up_resident(activity: Activity, mobile: str, name: str, consent: bool, token: str, channel: str,
                     staff_id: int | None = None, today: date | None = None) -> SignUp:
    """What a sign-up form does, at the tablet, on a phone or at the desk: the activity must be
    open (a refused form records no one); then the resident is identified (or registered, with
    their consent); then they sign up."""
    check_open(activity, today)
    resident = identify_resident_now(mobile, name, consent=consent)
    return sign_up(activity.id, resident.id, token, channel, staff_id, today=today)


def sign_up(activity_id: int, resident_id: int, token: str, channel: str, staff_id: int | None = None,
            today: date | None = None) -> SignUp:
    """A seat while there is one, else the end of the waiting list; one live place per resident.

    The same token twice (a double tap, a retried request) returns the first sign-up.
    """
    if channel not in SIGN_UP_CHANNELS:
        raise ValueError(channel)
    try:
        with write_transaction() as s:
            # The token is looked for once the activity is ours: a double tap that reached another
            # worker may have signed up while this one waited for the lock (PostgreSQL).
            activity = _locked(s, activity_id)
            done = s.scalar(select(SignUp).where(SignUp.form_token == token))
            if done is not None:
                return _same(done, activity_id, resident_id)
            check_open(activity, today)
            twin = s.scalar(select(SignUp).where(SignUp.activity_id == activity_id, SignUp.resident_id == resident_id,
                                                 SignUp.status.in_(SIGN_UP_LIVE)))
            if twin is not None:
                raise _already(twin)
            place = SignUp(activity_id=activity_id, resident_id=resident_id, form_token=token, channel=channel,
                           created_by_id=staff_id, receipt=codes.unused(s, SignUp.receipt))
            places.take_place(s, PLACES, place, activity_id, activity.capacity)
            s.add(place)
            s.flush()
            return place
    except IntegrityError:
        # Only a race the activity lock did not cover gets here (one token sent to two workers
        # at once): the first one's result is the answer.
        done = db.session.scalar(select(SignUp).where(SignUp.form_token == token))
        if done is not None:
            return _same(done, activity_id, resident_id)
        raise Refusal("busy", _l("Many people are signing up right now. Please try again.")) from None


@dataclass(frozen=True)
class Ended:
    sign_up: SignUp
    promoted: list[SignUp]


def cancel_place(sign_up_id: int, staff_id: int | None = None) -> Ended:
    """The resident (with the receipt) or staff give up a place; the first waiting moves up at once.

    Cancelling twice (a double tap) changes nothing the second time.
    """
    with write_transaction() as s:
        activity_id = s.scalar(select(SignUp.activity_id).where(SignUp.id == sign_up_id))
        if activity_id is None:
            raise Refusal("no_sign_up", _l("We could not find this sign-up."))
        activity = _locked(s, activity_id)
        place = s.get(SignUp, sign_up_id)
        s.refresh(place)
        if place.status not in SIGN_UP_LIVE:
            return Ended(place, [])
        place.status, place.seat = "cancelled", None
        place.ended_at = utcnow()
        s.flush()
        promoted = [] if activity.cancelled_at is not None else \
            places.promote(s, PLACES, activity.id, activity.capacity)
        return Ended(place, promoted)


def mark_called(sign_up_id: int) -> SignUp:
    """Staff called someone moved up from the waiting list; the "to call" list forgets them."""
    with write_transaction() as s:
        place = s.get(SignUp, sign_up_id)
        if place is None:
            raise Refusal("no_sign_up", _l("We could not find this sign-up."))
        if place.called_at is None:
            place.called_at = utcnow()
        return place


def mark(sign_up_id: int, attended: bool | None, today: date | None = None) -> SignUp:
    """Attendance, on the day or after it: came (True), did not come (False), or not taken (None).
    Marking again changes the mark (a tap on the wrong button)."""
    with write_transaction() as s:
        place = s.get(SignUp, sign_up_id)
        if place is None:
            raise Refusal("no_sign_up", _l("We could not find this sign-up."))
        if place.status != "confirmed":
            raise Refusal("not_confirmed", _l("Only someone with a seat can be marked."))
        if place.activity.day > (today or hall_today()):
            raise Refusal("too_early", _l("Attendance can be taken on the day of the activity, not before."))
        place.attended = attended
        return place


# --- Activities (staff) ---------------------------------------------------------------------

@dataclass
class ActivityFields:
    code: str
    title_zh: str
    title_bo: str
    title_en: str
    description_zh: str
    description_bo: str
    description_en: str
    day: date
    starts_at: time
    ends_at: time
    place: str
    capacity: int | None
    organiser: str
    team: str
    partner_unit_id: int | None


def _check(fields: ActivityFields) -> str:
    code = normalise_code(fields.code)
    if code is None:
        raise Refusal("code", _l("Use 2 to 20 letters, digits or dashes, like HEALTH-CHECK."), field="code")
    if not (fields.title_zh or "").strip():
        raise Refusal("title", _l("Please write the Chinese title."), field="title_zh")
    if fields.starts_at >= fields.ends_at:
        raise Refusal("times", _l("The activity must end after it starts."), field="ends_at")
    if not (fields.place or "").strip():
        raise Refusal("place", _l("Please say where the activity takes place."), field="place")
    if fields.capacity is not None and not CAPACITY_MIN <= fields.capacity <= CAPACITY_MAX:
        raise Refusal("capacity", _l("An activity has between %(min)s and %(max)s places, or no limit.",
                                     min=CAPACITY_MIN, max=CAPACITY_MAX), field="capacity")
    if fields.organiser not in ORGANISERS:
        raise Refusal("organiser", _l("Please choose who organises the activity."), field="organiser")
    if fields.organiser == "team" and not (fields.team or "").strip():
        raise Refusal("team", _l("Please write the volunteer team's name."), field="team")
    if fields.organiser == "partner" and fields.partner_unit_id is None:
        raise Refusal("partner", _l("Please choose the partner unit."), field="partner_unit_id")
    return code


def save_activity(fields: ActivityFields, activity_id: int | None = None, staff_id: int | None = None) -> Activity:
    """Create or change an activity. More places seat the front of the waiting list at once; fewer
    are refused below the seats taken (people in the seats that go move to free ones)."""
    code = _check(fields)
    try:
        with write_transaction() as s:
            activity = Activity(created_by_id=staff_id) if activity_id is None else _locked(s, activity_id)
            clash = s.scalar(select(Activity.id).where(Activity.code == code))
            if clash is not None and clash != activity_id:
                raise Refusal("code_taken", _l("Another activity already uses this code."), field="code")
            if fields.organiser == "partner" and s.get(PartnerUnit, fields.partner_unit_id) is None:
                raise Refusal("partner", _l("Please choose the partner unit."), field="partner_unit_id")
            for name, value in vars(fields).items():
                setattr(activity, name, value.strip() if isinstance(value, str) else value)
            activity.code = code
            if fields.organiser != "team":
                activity.team = ""
            if fields.organiser != "partner":
                activity.partner_unit_id = None
            s.add(activity)
            s.flush()
            _fit_seats(s, activity)
            return activity
    except IntegrityError:
        # Every other rule was checked above; only two activities saved with one code at once get here.
        raise Refusal("code_taken", _l("Another activity already uses this code."), field="code") from None


def _fit_seats(s, activity: Activity) -> None:
    """Seat rows 1..capacity (no limit: the rows made so far stay), then the waiting list moves up."""
    capacity = activity.capacity
    if capacity is not None:
        taken = s.scalar(select(func.count()).select_from(SignUp).where(
            SignUp.activity_id == activity.id, SignUp.status == "confirmed"))
        if taken > capacity:
            raise Refusal("seats_taken", _l(
                "%(taken)s people already have a seat: the activity cannot have fewer places. "
                "Cancel some places first, or keep the number.", taken=taken), field="capacity")
        have = set(s.scalars(select(ActivitySeat.number).where(ActivitySeat.activity_id == activity.id)))
        s.add_all(ActivitySeat(activity_id=activity.id, number=n) for n in range(1, capacity + 1) if n not in have)
        s.flush()
        # Whoever sits beyond the new last seat moves to a free one below it.
        for place in s.scalars(select(SignUp).where(SignUp.activity_id == activity.id, SignUp.seat > capacity)
                               .order_by(SignUp.seat)).all():
            place.seat = places.free_seat(s, PLACES, activity.id, capacity)
            s.flush()
        s.execute(delete(ActivitySeat).where(ActivitySeat.activity_id == activity.id,
                                             ActivitySeat.number > capacity))
    if activity.cancelled_at is None:
        places.promote(s, PLACES, activity.id, capacity)


def cancel_activity(activity_id: int, staff_id: int | None = None) -> Activity:
    """The activity will not take place: residents see it on its page and their receipts; no one
    signs up any more. The sign-ups stay, so staff can call everyone."""
    with write_transaction() as s:
        activity = _locked(s, activity_id)
        if activity.cancelled_at is None:
            activity.cancelled_at = utcnow()
        return activity


def restore_activity(activity_id: int) -> Activity:
    """A cancelled activity takes place after all."""
    with write_transaction() as s:
        activity = _locked(s, activity_id)
        activity.cancelled_at = None
        s.flush()
        places.promote(s, PLACES, activity.id, activity.capacity)
        return activity
