"""The heart-to-heart afternoon tea: sessions, fair invitations, and signing in at the table.

Invitations rotate fairly: residents who have been invited fewer times come first, then those
who have waited longest since their last invitation; each list is spread across buildings; those
who came recently and those who asked not to be invited are skipped.

Signing in with a phone goes through a QR on the enrolled hall tablet that changes every
TEA_QR_SECONDS. It encodes BASE_URL + /s/<token>; the token is signed (itsdangerous) with the
session's id and the moment it was made, so it is refused once older than TEA_TOKEN_SECONDS,
outside the session's window, or for another session, and nobody can sign in from home with a
photo of an old code. A sign-in is unique per resident and session in the database.
"""
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .database import write_transaction
from .extensions import db
from .lending import hall_today
from .models import Resident
from .models.base import utcnow
from .models.tea import ANSWERS, SIGN_IN_WAYS, TeaInvitation, TeaSession, TeaSignIn
from .refusal import Refusal
from .residents import normalise_mobile, normalise_name, InvalidMobile

# Residents who came to a tea within this many days are not suggested again yet.
RECENT_DAYS = 60
# A table should hear more than one or two buildings: each list spans at least this many.
MIN_BUILDINGS = 4
_BUILDING = re.compile(r"^\s*(\d+)\s*(?:号楼|栋|幢|号)")


# --- Sessions -------------------------------------------------------------------------------

@dataclass
class SessionFields:
    day: date
    starts_at: time
    ends_at: time
    place: str
    theme: str = ""
    host: str = ""
    officials: str = ""
    target: int = 12


def save_session(fields: SessionFields, staff_id: int, session_id: int | None = None) -> TeaSession:
    if not (fields.place or "").strip():
        raise Refusal("place", _l("Please say where the tea takes place."), field="place")
    if fields.starts_at >= fields.ends_at:
        raise Refusal("times", _l("The tea must end after it starts."), field="ends_at")
    if not 1 <= fields.target <= 60:
        raise Refusal("target", _l("Invite between 1 and 60 residents."), field="target")
    with write_transaction() as s:
        if session_id is None:
            session = TeaSession(created_by_id=staff_id)
            s.add(session)
        elif (session := s.get(TeaSession, session_id)) is None:
            raise Refusal("no_session", _l("We could not find this afternoon tea."))
        for name, value in vars(fields).items():
            setattr(session, name, value.strip() if isinstance(value, str) else value)
        s.flush()
        return session


def upcoming(today: date | None = None) -> list[TeaSession]:
    today = today or hall_today()
    return list(db.session.scalars(select(TeaSession).where(TeaSession.day >= today)
                                   .order_by(TeaSession.day, TeaSession.starts_at)))


def today_session(now: datetime | None = None) -> TeaSession | None:
    """The session whose sign-in window is open now (on the tablet at the table)."""
    now = now or hall_now()
    for session in db.session.scalars(select(TeaSession).where(TeaSession.day == now.date())
                                      .order_by(TeaSession.starts_at)):
        if window_open(session, now):
            return session
    return None


def hall_now() -> datetime:
    """The hall's clock (naive), which sessions' days and times are written in."""
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).replace(tzinfo=None)


def window(session: TeaSession) -> tuple[datetime, datetime]:
    """When signing in is possible: from TEA_EARLY_MINUTES before the start to the end."""
    early = timedelta(minutes=current_app.config["TEA_EARLY_MINUTES"])
    return (datetime.combine(session.day, session.starts_at) - early,
            datetime.combine(session.day, session.ends_at))


def window_open(session: TeaSession, now: datetime | None = None) -> bool:
    opens, closes = window(session)
    return opens <= (now or hall_now()) <= closes


# --- Fair invitations -----------------------------------------------------------------------

def building_of(resident: Resident) -> str:
    """"3号楼2单元" -> "3"; what is not in that form counts as its own place."""
    text = (resident.building_unit or "").strip()
    m = _BUILDING.match(text)
    return m.group(1) if m else (text or "?")


@dataclass(frozen=True)
class Suggestion:
    resident: Resident
    building: str
    times_invited: int
    last_invited: date | None


def suggest(session_id: int, count: int | None = None) -> list[Suggestion]:
    """Who to invite next, fairly: fewest invitations first, then longest wait, spread across buildings.

    Skips residents already invited to this session, those who asked not to be invited, and those
    who came to a tea in the last RECENT_DAYS days.
    """
    session = db.session.get(TeaSession, session_id)
    count = count or session.target
    invited_here = select(TeaInvitation.resident_id).where(TeaInvitation.session_id == session_id)
    came_recently = (select(TeaSignIn.resident_id).join(TeaSession)
                     .where(TeaSession.day >= session.day - timedelta(days=RECENT_DAYS),
                            TeaSession.day <= session.day, TeaSession.id != session_id))
    history = (select(TeaInvitation.resident_id, func.count().label("n"),
                      func.max(TeaSession.day).label("last"))
               .join(TeaSession).where(TeaSession.id != session_id).group_by(TeaInvitation.resident_id)
               .subquery())
    rows = db.session.execute(
        select(Resident, func.coalesce(history.c.n, 0), history.c.last)
        .outerjoin(history, history.c.resident_id == Resident.id)
        .where(Resident.consent_at.is_not(None), Resident.tea_opt_out.is_(False),
               Resident.id.not_in(invited_here), Resident.id.not_in(came_recently))).all()
    people = [Suggestion(r, building_of(r), int(n), last) for r, n, last in rows]
    # Fewest invitations first; within them, whoever has waited longest (never invited: first).
    people.sort(key=lambda p: (p.times_invited, p.last_invited or date.min, p.resident.id))
    return _spread(people, count)


def _spread(people: list[Suggestion], count: int) -> list[Suggestion]:
    """Take `count` in fairness order, spread across buildings.

    Fewest invitations first, and nobody is passed over for someone with two invitations more
    (so nobody gets a third while someone willing has had none). Within that, each building
    gives in proportion to how many of its residents are waiting, so small buildings are not
    emptied first; the last seats go to new buildings until the list spans MIN_BUILDINGS.
    """
    waiting = Counter((p.building, p.times_invited) for p in people)
    chosen: list[Suggestion] = []
    taken: Counter = Counter()
    left = list(people)
    while left and len(chosen) < count:
        fair = [p for p in left if p.times_invited <= left[0].times_invited + 1]
        if count - len(chosen) <= MIN_BUILDINGS - len(taken):
            fair = [p for p in fair if p.building not in taken] or fair
        pick = min(fair, key=lambda p: (p.times_invited,
                                        (taken[p.building] + 1) / waiting[p.building, p.times_invited]))
        chosen.append(pick)
        left.remove(pick)
        taken[pick.building] += 1
    return chosen


def invite(session_id: int, resident_ids: list[int]) -> int:
    """Invite these residents (staff accepted or adjusted the suggestion); returns how many are new."""
    with write_transaction() as s:
        have = set(s.scalars(select(TeaInvitation.resident_id).where(TeaInvitation.session_id == session_id)))
        # Only residents who agreed to the hall keeping their details and did not ask to be left out.
        may = set(s.scalars(select(Resident.id).where(Resident.id.in_(resident_ids),
                                                      Resident.consent_at.is_not(None),
                                                      Resident.tea_opt_out.is_(False))))
        new = [rid for rid in dict.fromkeys(resident_ids) if rid in may and rid not in have]
        s.add_all(TeaInvitation(session_id=session_id, resident_id=rid) for rid in new)
        return len(new)


def uninvite(invitation_id: int) -> None:
    with write_transaction() as s:
        invitation = s.get(TeaInvitation, invitation_id)
        if invitation is not None:
            s.delete(invitation)


def record_answer(invitation_id: int, answer: str) -> TeaInvitation:
    if answer not in ANSWERS:
        raise Refusal("answer", _l("Please choose accepted, declined or no answer."), field="answer")
    with write_transaction() as s:
        invitation = s.get(TeaInvitation, invitation_id)
        if invitation is None:
            raise Refusal("no_invitation", _l("We could not find this invitation."))
        invitation.answer, invitation.answered_at = answer, utcnow()
        return invitation


def set_opt_out(resident_id: int, opt_out: bool) -> None:
    """A resident asked not to be invited (or changed their mind)."""
    with write_transaction() as s:
        resident = s.get(Resident, resident_id)
        if resident is not None:
            resident.tea_opt_out = opt_out


def invitations(session_id: int) -> list[TeaInvitation]:
    return list(db.session.scalars(select(TeaInvitation).options(joinedload(TeaInvitation.resident))
                                   .where(TeaInvitation.session_id == session_id)
                                   .join(Resident).order_by(Resident.building_unit, Resident.name)))


def sign_ins(session_id: int) -> list[TeaSignIn]:
    return list(db.session.scalars(select(TeaSignIn).options(joinedload(TeaSignIn.resident))
                                   .where(TeaSignIn.session_id == session_id).order_by(TeaSignIn.at)))


# --- Signing in -----------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="tea-sign-in")


def new_token(session_id: int) -> str:
    """What the tablet's QR carries for the next TEA_QR_SECONDS."""
    return _serializer().dumps(session_id)


def session_for_token(token: str, now: datetime | None = None) -> TeaSession:
    """The session a scanned token opens, or a Refusal: too old, forged, or outside the window."""
    try:
        session_id = _serializer().loads(token, max_age=current_app.config["TEA_TOKEN_SECONDS"])
    except SignatureExpired:
        raise Refusal("token_expired", _l("This code has expired. Please scan the code on the tablet "
                                          "at the table again.")) from None
    except BadSignature:
        raise Refusal("token_bad", _l("This code is not valid. Please scan the code on the tablet "
                                      "at the table.")) from None
    session = db.session.get(TeaSession, session_id) if isinstance(session_id, int) else None
    if session is None:
        raise Refusal("token_bad", _l("This code is not valid. Please scan the code on the tablet "
                                      "at the table."))
    if not window_open(session, now):
        raise Refusal("window", _l("Signing in is open only during the afternoon tea."))
    return session


def sign_in(session_id: int, resident_id: int, how: str) -> tuple[TeaSignIn, bool]:
    """Record the resident at the table; (the sign-in, whether it is new). Twice is once.

    Tapping one's name on the tablet ("tablet") is for invited residents only.
    """
    if how not in SIGN_IN_WAYS:
        raise ValueError(how)
    try:
        with write_transaction() as s:
            done = s.scalar(select(TeaSignIn).where(TeaSignIn.session_id == session_id,
                                                   TeaSignIn.resident_id == resident_id))
            if done is not None:
                return done, False
            invitation = s.scalar(select(TeaInvitation).where(TeaInvitation.session_id == session_id,
                                                              TeaInvitation.resident_id == resident_id))
            if how == "tablet" and invitation is None:
                # Tapping a name is for the invited; anyone else signs in as a walk-in.
                raise Refusal("not_invited", _l("This name is not on the invitation list. Please sign "
                                                "in with “I was not invited”."))
            record = TeaSignIn(session_id=session_id, resident_id=resident_id, how=how)
            s.add(record)
            if invitation is not None and invitation.answer != "accepted":
                invitation.answer, invitation.answered_at = "accepted", utcnow()
            s.flush()
            return record, True
    except IntegrityError:
        # The same resident on two devices at once: the other request recorded them.
        return db.session.scalar(select(TeaSignIn).where(TeaSignIn.session_id == session_id,
                                                        TeaSignIn.resident_id == resident_id)), False


def known_resident(mobile: str, name: str) -> Resident:
    """A phone signs in only a resident the hall knows (walk-ins register at the tablet)."""
    try:
        mobile = normalise_mobile(mobile)
    except InvalidMobile:
        raise Refusal("mobile", _l("This is not a mobile number. It has 11 digits and starts with 1, "
                                   "for example 138 0013 8000."), field="mobile") from None
    resident = db.session.scalar(select(Resident).where(Resident.mobile == mobile))
    if resident is None or normalise_name(resident.name) != normalise_name(name):
        raise Refusal("unknown", _l("We do not know this name and mobile number. Please sign in at "
                                    "the tablet on the table; the staff will help."), field="mobile")
    return resident
