"""Micro-wishes and help requests: every rule from submission to thanks is decided here.

The tablet, the phone wall and the back office call these functions; none of them changes a
Wish's status or a Claim directly. Each action is one write transaction that locks the wish
row first (PostgreSQL: SELECT ... FOR UPDATE; SQLite: BEGIN IMMEDIATE), and the database keeps
the rules it can (one live claim per wish, one fulfilment per wish, one form token per request).

The words a resident reads about their request (received, published, claimed, being done,
fulfilled, declined) are in kiosk/blueprints/wishes; the wall never carries a name, a mobile
number, an address or a photo: only the alias and area staff chose, the category and the age.
"""
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from . import alliance, codes, ledger, settings
from .database import write_transaction
from .extensions import db
from .lending import hall_today
from .models.base import utcnow
from .models.tea import CONCERN_CATEGORIES, Concern
from .models.wishes import CATEGORIES, SUB_TEAMS, WISH_KINDS, Claim, Fulfilment, PartnerUnit, Volunteer, Wish
from .refusal import Refusal
from .residents import InvalidMobile, check_name_length, normalise_mobile, normalise_name

# A request on the wall or in the hands of a claimant; the wall shows both (a claimed one as taken).
ON_THE_WALL = ("published", "claimed")
# Requests still moving; what staff review and follow.
OPEN_STATUSES = ("received", "published", "claimed", "in_progress")
DESCRIPTION_MAX = 500


# --- Looking things up ----------------------------------------------------------------------

def find_wish(raw_code: str | None) -> Wish | None:
    code = codes.normalise(raw_code)
    if code is None:
        return None
    return db.session.scalar(select(Wish).where(Wish.code == code))


def followed(wish: Wish) -> Wish:
    """What a resident's status page follows: a merged duplicate shows the request it joined."""
    seen = set()
    while wish.status == "merged" and wish.merged_into is not None and wish.id not in seen:
        seen.add(wish.id)
        wish = wish.merged_into
    return wish


# What the wall reads of a wish, and nothing more: never the words, the resident or a photo.
# Composed once (composing costs more than SQLite takes to run it); the open wishes are found
# on the (status, created_at) index, so the wall costs the same after ten years of fulfilled ones.
_WALL = (select(Wish.id, Wish.status, Wish.category, Wish.kind, Wish.alias, Wish.area,
                Wish.published_at, Wish.created_at)
         .where(Wish.status.in_(ON_THE_WALL))
         .order_by(Wish.published_at.desc(), Wish.id.desc()).limit(bindparam("limit")))
_WALL_OF_CATEGORY = _WALL.where(Wish.category == bindparam("category"))


def wall(category: str | None = None, limit: int = 60) -> list:
    """Published wishes, newest first, claimed ones included (shown as taken): rows of what a
    wall card shows (id, status, category, kind, alias, area, published_at, created_at)."""
    if category in CATEGORIES:
        stmt, params = _WALL_OF_CATEGORY, {"limit": limit, "category": category}
    else:
        stmt, params = _WALL, {"limit": limit}
    return db.session.connection().execute(stmt, params).all()


def live_claim(wish_id: int) -> Claim | None:
    return db.session.scalar(select(Claim).options(joinedload(Claim.volunteer), joinedload(Claim.partner_unit))
                             .where(Claim.wish_id == wish_id, Claim.status.in_(("pending", "confirmed"))))


def fulfilment_of(wish_id: int) -> Fulfilment | None:
    return db.session.scalar(select(Fulfilment).where(Fulfilment.wish_id == wish_id))


def partner_units(active_only: bool = True) -> list[PartnerUnit]:
    stmt = select(PartnerUnit).order_by(PartnerUnit.name)
    if active_only:
        stmt = stmt.where(PartnerUnit.active.is_(True))
    return list(db.session.scalars(stmt))


def volunteers(sub_team: str | None = None, active_only: bool = True) -> list[Volunteer]:
    stmt = select(Volunteer).order_by(Volunteer.team, Volunteer.name)
    if sub_team:
        stmt = stmt.where(Volunteer.sub_team == sub_team)
    if active_only:
        stmt = stmt.where(Volunteer.active.is_(True))
    return list(db.session.scalars(stmt))


def find_volunteer_by_key(key: str) -> Volunteer | None:
    if not key or len(key) > 32:
        return None
    return db.session.scalar(select(Volunteer).where(Volunteer.key == key, Volunteer.active.is_(True)))


def jobs_of(volunteer_id: int) -> list[Wish]:
    """The requests assigned to a volunteer, or whose claim by them staff confirmed, not yet done."""
    claimed = select(Claim.wish_id).where(Claim.volunteer_id == volunteer_id, Claim.status == "confirmed")
    return list(db.session.scalars(
        select(Wish).options(joinedload(Wish.resident))
        .where((Wish.assigned_volunteer_id == volunteer_id) | Wish.id.in_(claimed),
               Wish.status.in_(("claimed", "in_progress")))
        .order_by(Wish.created_at)))


# --- Submitting -----------------------------------------------------------------------------

@dataclass
class Request:
    """What a resident fills in; the view has checked the form, the rules are checked here."""

    kind: str
    category: str
    description: str
    building_unit: str = ""
    visit_times: str = ""
    photo: str | None = None


def check_request(request: Request) -> None:
    """Refuse what no request may be, before the resident is identified (collect nothing then)."""
    if request.kind not in WISH_KINDS:
        raise Refusal("kind", _l("Please choose what kind of request it is."), field="kind")
    if request.category not in CATEGORIES:
        raise Refusal("category", _l("Please choose a picture for what it is about."), field="category")
    if not (request.description or "").strip():
        raise Refusal("description", _l("Please say in a few words what you need."), field="description")
    if len(request.description.strip()) > DESCRIPTION_MAX:
        raise Refusal("description", _l("Please write it shorter (at most %(n)s characters).",
                                        n=DESCRIPTION_MAX), field="description")
    if request.kind == "repair" and not (request.building_unit or "").strip():
        raise Refusal("building_unit", _l("For a home repair, please give your building and unit."),
                      field="building_unit")


def check_rate(resident_id: int | None, device: str) -> None:
    """Public phones may send only so many requests a day, per phone and per mobile number.

    The enrolled hall tablet passes device="" and resident_id=None: staff are beside it.
    """
    since = utcnow() - timedelta(days=1)
    per_mobile = settings.get("WISH_LIMIT_PER_MOBILE")
    per_device = settings.get("WISH_LIMIT_PER_DEVICE")
    # Only limited submissions count (they carry a device); the hall tablet's carry none.
    if resident_id is not None and db.session.scalar(select(func.count()).select_from(Wish).where(
            Wish.resident_id == resident_id, Wish.created_at >= since, Wish.device != "")) >= per_mobile:
        raise _too_many()
    if device and db.session.scalar(select(func.count()).select_from(Wish).where(
            Wish.device == device, Wish.created_at >= since)) >= per_device:
        raise _too_many()


def _too_many() -> Refusal:
    refusal = Refusal("too_many", _l("Thank you! You have sent several requests today. Please wait "
                                     "until tomorrow, or ask the staff at the hall."))
    refusal.status = 429
    return refusal


def submit(resident_id: int, request: Request, token: str, channel: str, device: str = "",
           limited: bool = True) -> Wish:
    """Record a resident's request. The same token twice (a double tap) returns the first one."""
    check_request(request)
    try:
        with write_transaction() as s:
            done = s.scalar(select(Wish).where(Wish.form_token == token))
            if done is not None:
                if done.resident_id != resident_id:
                    raise Refusal("stale_form", _l("This form was already used. Please start again."))
                return done
            if limited:
                check_rate(resident_id, device)
            wish = Wish(code=codes.unused(s, Wish.code), form_token=token, kind=request.kind,
                        category=request.category, description=request.description.strip(),
                        building_unit=(request.building_unit or "").strip()[:60],
                        visit_times=(request.visit_times or "").strip()[:200], photo=request.photo,
                        resident_id=resident_id, consent_at=utcnow(), channel=channel,
                        device=device[:64] if limited else "")
            s.add(wish)
            s.flush()
            return wish
    except IntegrityError:
        done = db.session.scalar(select(Wish).where(Wish.form_token == token))
        if done is not None and done.resident_id == resident_id:
            return done
        raise Refusal("busy", _l("Many people are sending requests right now. Please try again.")) from None


# --- Staff review ---------------------------------------------------------------------------

def _locked_wish(s, wish_id: int) -> Wish:
    wish = s.scalar(select(Wish).where(Wish.id == wish_id).with_for_update())
    if wish is None:
        raise Refusal("no_wish", _l("We could not find this request."))
    s.refresh(wish)
    return wish


def _require(wish: Wish, *statuses: str) -> None:
    if wish.status not in statuses:
        raise Refusal("wrong_status", _l("This request has moved on meanwhile. Please look at it again."))


def publish(wish_id: int, alias: str, area: str, staff_id: int) -> Wish:
    """Put a request on the wall under an alias and an area ("Grandma D.", "Building 3").

    Also edits the alias and area of a wish already on the wall.
    """
    alias, area = normalise_name(alias), normalise_name(area)
    if not alias:
        raise Refusal("alias", _l("Please give an alias, like “Grandma D.”."), field="alias")
    if not area:
        raise Refusal("area", _l("Please give an area, like “Building 3”."), field="area")
    with write_transaction() as s:
        wish = _locked_wish(s, wish_id)
        _require(wish, "received", *ON_THE_WALL)
        wish.alias, wish.area = alias[:40], area[:40]
        if wish.status == "received":
            wish.status, wish.published_at, wish.reviewed_by_id = "published", utcnow(), staff_id
        return wish


def decline(wish_id: int, reason: str, staff_id: int) -> Wish:
    reason = (reason or "").strip()
    if not reason:
        raise Refusal("reason", _l("Please write the reason; the resident will read it."), field="reason")
    with write_transaction() as s:
        wish = _locked_wish(s, wish_id)
        _require(wish, "received", "published")
        wish.status, wish.decline_reason, wish.reviewed_by_id = "declined", reason[:200], staff_id
        wish.closed_at = utcnow()
        return wish


def merge(wish_id: int, into_code: str, staff_id: int) -> Wish:
    """A duplicate joins the request it repeats; its resident then follows that one."""
    with write_transaction() as s:
        wish = _locked_wish(s, wish_id)
        _require(wish, "received", "published")
        target = s.scalar(select(Wish).where(Wish.code == (codes.normalise(into_code) or "")))
        if target is None or target.id == wish.id or target.status not in OPEN_STATUSES:
            raise Refusal("merge_target", _l("Please give the code of another open request."), field="into")
        wish.status, wish.merged_into_id, wish.reviewed_by_id = "merged", target.id, staff_id
        wish.closed_at = utcnow()
        return wish


def convert_to_concern(wish_id: int, category: str, staff_id: int) -> Concern:
    """A community problem (a blocked drain for the whole building), not a personal need: it goes
    to the concerns ledger, where it is followed to its end."""
    if category not in CONCERN_CATEGORIES:
        raise Refusal("category", _l("Please choose the kind of problem."), field="category")
    with write_transaction() as s:
        wish = _locked_wish(s, wish_id)
        _require(wish, "received", "published")
        wish.status, wish.reviewed_by_id = "converted", staff_id
        wish.closed_at = utcnow()
        return ledger.add_concern(s, ledger.Raised(category, wish.description, place=wish.building_unit,
                                                   source="wish", resident_id=wish.resident_id,
                                                   from_wish_id=wish.id), staff_id)


def concern_of(wish_id: int) -> Concern | None:
    return db.session.scalar(select(Concern).where(Concern.from_wish_id == wish_id))


def assign(wish_id: int, volunteer_id: int, staff_id: int) -> Wish:
    """A home repair goes to a volunteer with repair skills, who then sees the address and mobile."""
    with write_transaction() as s:
        wish = _locked_wish(s, wish_id)
        _require(wish, "received", "published", "in_progress")
        volunteer = s.get(Volunteer, volunteer_id)
        if volunteer is None or not volunteer.active:
            raise Refusal("no_volunteer", _l("Please choose a volunteer from the list."), field="volunteer")
        if wish.kind == "repair" and volunteer.sub_team != "repair_skills":
            raise Refusal("skill", _l("A home repair needs a volunteer with repair skills."), field="volunteer")
        if live_claim(wish.id) is not None:
            raise Refusal("claimed", _l("Someone has claimed this request. Release the claim first."))
        wish.assigned_volunteer_id, wish.status, wish.reviewed_by_id = volunteer.id, "in_progress", staff_id
        return wish


# --- Claiming on the wall -------------------------------------------------------------------

def taken() -> Refusal:
    """Someone else got there first: said kindly, on the claim page and after a lost race."""
    return Refusal("taken", _l("Thank you! Someone has just offered to take on this wish. "
                               "Please choose another one."))


def _mobile(raw: str) -> str:
    try:
        return normalise_mobile(raw)
    except InvalidMobile:
        raise Refusal("mobile", _l("This is not a mobile number. It has 11 digits and starts with 1, "
                                   "for example 138 0013 8000."), field="mobile") from None


def volunteer_for(mobile: str, name: str) -> Volunteer:
    """The volunteer with this mobile, or a new one (staff confirm them with the claim).

    The caller holds the write transaction.
    """
    mobile, name = _mobile(mobile), normalise_name(name)
    if not name:
        raise Refusal("name", _l("Please write your name."), field="name")
    check_name_length(name)
    volunteer = db.session.scalar(select(Volunteer).where(Volunteer.mobile == mobile))
    if volunteer is None:
        volunteer = Volunteer(name=name, mobile=mobile, key=secrets.token_urlsafe(18))
        db.session.add(volunteer)
        db.session.flush()
    elif normalise_name(volunteer.name) != name:
        raise Refusal("name_mismatch", _l("This mobile number is registered under another name. "
                                          "Please check the name, or ask the staff."), field="name")
    return volunteer


def claim(wish_id: int, token: str, volunteer_mobile: str | None = None, volunteer_name: str | None = None,
          partner_unit_id: int | None = None, note: str = "") -> Claim:
    """A volunteer (mobile + name) or a partner unit offers to take a wish on; staff confirm.

    Two people claiming at once: one claim, and the other hears kindly that it was just taken.
    """
    try:
        with write_transaction() as s:
            # The token is looked up behind the wish's lock: a double tap that waited for it must
            # find the claim its twin has just made, not a wish "someone else" has just taken.
            wish = _locked_wish(s, wish_id)
            done = s.scalar(select(Claim).where(Claim.form_token == token))
            if done is not None:
                return _same_claim(done, wish_id)
            if wish.status != "published":
                raise taken() if wish.status in ("claimed", "in_progress", "fulfilled") else \
                    Refusal("not_on_wall", _l("This wish is no longer on the wall."))
            if partner_unit_id is not None:
                unit = s.get(PartnerUnit, partner_unit_id)
                if unit is None or not unit.active:
                    raise Refusal("no_unit", _l("Please choose your unit from the list."), field="partner_unit")
                new = Claim(wish_id=wish.id, partner_unit_id=unit.id, form_token=token, note=note[:200])
            else:
                volunteer = volunteer_for(volunteer_mobile or "", volunteer_name or "")
                new = Claim(wish_id=wish.id, volunteer_id=volunteer.id, form_token=token, note=note[:200])
            s.add(new)
            wish.status = "claimed"
            s.flush()
            return new
    except IntegrityError:
        # The live-claim index caught a claim the lock did not (another worker got there first).
        done = db.session.scalar(select(Claim).where(Claim.form_token == token))
        if done is not None:
            return _same_claim(done, wish_id)
        raise taken() from None


def _same_claim(done: Claim, wish_id: int) -> Claim:
    if done.wish_id != wish_id:
        raise Refusal("stale_form", _l("This form was already used. Please start again."))
    return done


def _settle(found: Claim, status: str, staff_id: int) -> None:
    """Staff decide a claim; a volunteer whose claim is confirmed is known to staff from then on."""
    found.status, found.decided_at, found.decided_by_id = status, utcnow(), staff_id
    if status == "confirmed" and found.volunteer is not None and found.volunteer.confirmed_at is None:
        found.volunteer.confirmed_at = utcnow()


def _decide(claim_id: int, staff_id: int, status: str, wish_status: str,
            from_statuses: tuple[str, ...] = ("pending",)) -> Claim:
    with write_transaction() as s:
        wish_id = s.scalar(select(Claim.wish_id).where(Claim.id == claim_id))
        if wish_id is None:
            raise Refusal("no_claim", _l("We could not find this claim."))
        wish = _locked_wish(s, wish_id)
        found = s.get(Claim, claim_id)
        s.refresh(found)
        if found.status not in from_statuses:
            raise Refusal("decided", _l("This claim was already decided."))
        _require(wish, "claimed", "in_progress")  # not once it is fulfilled
        _settle(found, status, staff_id)
        wish.status = wish_status
        if status == "confirmed" and found.partner_unit_id is not None:  # a partner unit took it on
            alliance.add_match(s, found.partner_unit_id, "wish", wish.id, hall_today(), staff_id)
        return found


def confirm_claim(claim_id: int, staff_id: int) -> Claim:
    """Staff know the claimant: the wish is being done."""
    return _decide(claim_id, staff_id, "confirmed", "in_progress")


def release_claim(claim_id: int, staff_id: int) -> Claim:
    """Staff let the claim go, waiting or confirmed (a volunteer who dropped out): the wish is
    back on the wall for someone else."""
    return _decide(claim_id, staff_id, "released", "published", from_statuses=("pending", "confirmed"))


# --- Fulfilment and thanks ------------------------------------------------------------------

@dataclass
class Done:
    done_on: date
    what_was_done: str
    minutes: int
    volunteer_id: int | None = None
    partner_unit_id: int | None = None
    photo: str | None = None


def fulfil(wish_id: int, done: Done, staff_id: int) -> Fulfilment:
    """Record what was done; the resident's page says "fulfilled" and asks for their thanks."""
    if not (done.what_was_done or "").strip():
        raise Refusal("what", _l("Please say what was done."), field="what_was_done")
    if not 0 <= done.minutes <= 6000:
        raise Refusal("minutes", _l("Please give the time spent in minutes (at most 6000)."), field="minutes")
    if done.done_on > hall_today():
        raise Refusal("done_on", _l("This date is in the future."), field="done_on")
    try:
        with write_transaction() as s:
            wish = _locked_wish(s, wish_id)
            _require(wish, "published", "claimed", "in_progress")
            claimant = live_claim(wish.id)
            volunteer_id, unit_id = done.volunteer_id, done.partner_unit_id
            if volunteer_id is None and unit_id is None:  # staff named nobody: who took it on
                volunteer_id = wish.assigned_volunteer_id or (claimant.volunteer_id if claimant else None)
                unit_id = claimant.partner_unit_id if claimant and volunteer_id is None else None
            record = Fulfilment(wish_id=wish.id, done_on=done.done_on, volunteer_id=volunteer_id,
                                partner_unit_id=unit_id,
                                what_was_done=done.what_was_done.strip(), minutes=done.minutes,
                                photo=done.photo, recorded_by_id=staff_id)
            s.add(record)
            if claimant is not None and claimant.status == "pending":
                _settle(claimant, "confirmed", staff_id)
            wish.status, wish.closed_at = "fulfilled", utcnow()
            s.flush()
            if unit_id is not None:  # done by a partner unit: a resource match (once per unit and wish)
                alliance.add_match(s, unit_id, "wish", wish.id, done.done_on, staff_id)
            return record
    except IntegrityError:
        raise Refusal("already_fulfilled", _l("This request was already recorded as fulfilled.")) from None


def thank(wish_id: int, rating: int, comment: str) -> Wish:
    """The resident's rating (1 to 5) and a word of thanks, once, after fulfilment."""
    if rating not in range(1, 6):
        raise Refusal("rating", _l("Please choose from one to five stars."), field="rating")
    with write_transaction() as s:
        wish = _locked_wish(s, wish_id)
        if wish.status != "fulfilled":
            raise Refusal("not_fulfilled", _l("You can thank the helpers once the wish is fulfilled."))
        if wish.rated_at is None:
            wish.rating, wish.thanks, wish.rated_at = rating, (comment or "").strip()[:300], utcnow()
        return wish


# --- Volunteers and partner units (staff) ---------------------------------------------------

def save_volunteer(name: str, mobile: str, team: str, sub_team: str, active: bool = True,
                   volunteer_id: int | None = None) -> Volunteer:
    if sub_team not in SUB_TEAMS:
        raise Refusal("sub_team", _l("Please choose the sub-team."), field="sub_team")
    name = normalise_name(name)
    if not name:
        raise Refusal("name", _l("Please write the name."), field="name")
    check_name_length(name)
    mobile = _mobile(mobile)
    try:
        with write_transaction() as s:
            volunteer = s.get(Volunteer, volunteer_id) if volunteer_id else None
            if volunteer is None:
                volunteer = Volunteer(key=secrets.token_urlsafe(18), confirmed_at=utcnow())
                s.add(volunteer)
            volunteer.name, volunteer.mobile, volunteer.team = name, mobile, normalise_name(team)[:60]
            volunteer.sub_team, volunteer.active = sub_team, active
            s.flush()
            return volunteer
    except IntegrityError:
        raise Refusal("mobile_taken", _l("Another volunteer has this mobile number."), field="mobile") from None


def save_partner_unit(name: str, contact_name: str, contact_phone: str, chair_quarter: str,
                      active: bool = True, unit_id: int | None = None) -> PartnerUnit:
    name = normalise_name(name)
    if not name:
        raise Refusal("name", _l("Please write the unit's name."), field="name")
    quarter = (chair_quarter or "").strip().upper()
    if quarter and not (len(quarter) == 7 and quarter[:4].isdigit() and quarter[4:6] == "-Q"
                        and quarter[6] in "1234"):
        raise Refusal("quarter", _l("Write the quarter like 2026-Q3."), field="chair_quarter")
    try:
        with write_transaction() as s:
            unit = s.get(PartnerUnit, unit_id) if unit_id else None
            if unit is None:
                unit = PartnerUnit()
                s.add(unit)
            unit.name, unit.contact_name = name[:80], normalise_name(contact_name)[:60]
            unit.contact_phone, unit.chair_quarter, unit.active = (contact_phone or "").strip()[:20], quarter, active
            s.flush()
            return unit
    except IntegrityError:
        raise Refusal("name_taken", _l("Another unit has this name."), field="name") from None


# --- Figures --------------------------------------------------------------------------------

def hours_by_volunteer() -> list[tuple[Volunteer, int, int]]:
    """(volunteer, requests fulfilled, minutes) for every volunteer with service recorded."""
    rows = db.session.execute(
        select(Volunteer, func.count(Fulfilment.id), func.coalesce(func.sum(Fulfilment.minutes), 0))
        .join(Fulfilment, Fulfilment.volunteer_id == Volunteer.id)
        .group_by(Volunteer.id).order_by(func.sum(Fulfilment.minutes).desc())).all()
    return [(v, int(n), int(m)) for v, n, m in rows]


def hours_by_team() -> list[tuple[str, str, int, int]]:
    """(team, sub-team, requests fulfilled, minutes)."""
    rows = db.session.execute(
        select(Volunteer.team, Volunteer.sub_team, func.count(Fulfilment.id), func.sum(Fulfilment.minutes))
        .join(Fulfilment, Fulfilment.volunteer_id == Volunteer.id)
        .group_by(Volunteer.team, Volunteer.sub_team).order_by(Volunteer.team, Volunteer.sub_team)).all()
    return [(t, st, int(n), int(m or 0)) for t, st, n, m in rows]


def counts_by_status() -> dict[str, int]:
    return dict(db.session.execute(select(Wish.status, func.count()).group_by(Wish.status)).all())
