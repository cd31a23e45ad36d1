"""The partner alliance: the partner units' joint meeting (联席会议), its agenda items and what
became of them, and resource matches (each time a partner unit takes something on).

A joint meeting has a date, a place, the units present and the chair unit of the quarter
(PartnerUnit.chair_quarter, like "2026-Q3"). Its agenda items come from the concerns ledger
(source "concern"), from a partner unit's suggestion ("partner") or from the staff ("staff").
Each item gets a resolution, an owner (a partner unit and/or a staff member) and a due date:
it is then "resolved", and followed like a concern (in_progress, done, dropped), every move an
AgendaStep. An item taken from a concern writes the resolution into the concern's own history
(kiosk.ledger.add_follow_up, in the same transaction), moving an open or referred concern on to
"in progress".

A ResourceMatch is recorded when a partner unit takes on a resident's wish (kiosk.wishes calls
add_match), an activity (match_activity) or an agenda item (its owner unit at resolution); the
unique constraints make each one count once. No Flask request in here: the views are thin.
"""
from dataclasses import dataclass, field
from datetime import date

from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from . import codes, ledger
from .database import write_transaction
from .extensions import db
from .lending import hall_today
from .models import (Activity, AgendaItem, AgendaStep, Concern, JointMeeting, PartnerUnit, ResourceMatch,
                     StaffUser)
from .models.base import utcnow
from .models.community import AGENDA_SOURCES, MATCH_KINDS
from .refusal import Refusal

# Concerns the alliance may take up: those still being followed.
CONCERNS_TO_TAKE_UP = ("open", "referred", "in_progress")
# Where an agenda item may go from each status by a follow-up (resolving is its own action).
NEXT = {
    "proposed": ("dropped",),
    "resolved": ("in_progress", "done", "dropped"),
    "in_progress": ("done", "dropped"),
    "done": (),
    "dropped": (),
}
FOLLOWED = ("resolved", "in_progress")
CLOSED = ("done", "dropped")
TOPIC_MAX = 200


# --- Joint meetings -------------------------------------------------------------------------

def quarter_of(day: date) -> str:
    """The quarter a day is in, written as PartnerUnit.chair_quarter is: "2026-Q3"."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def chair_for(day: date) -> PartnerUnit | None:
    """The active unit that chairs the alliance in the quarter of this day, if one is planned."""
    return db.session.scalar(select(PartnerUnit).where(PartnerUnit.chair_quarter == quarter_of(day),
                                                       PartnerUnit.active.is_(True))
                             .order_by(PartnerUnit.name).limit(1))


def active_units() -> list[PartnerUnit]:
    return list(db.session.scalars(select(PartnerUnit).where(PartnerUnit.active.is_(True))
                                   .order_by(PartnerUnit.name)))


@dataclass
class MeetingFields:
    day: date | None
    place: str = ""
    unit_ids: list[int] = field(default_factory=list)
    chair_unit_id: int | None = None
    note: str = ""


def save_meeting(fields: MeetingFields, staff_id: int | None, meeting_id: int | None = None) -> JointMeeting:
    """A new joint meeting, or changes to one. The chair counts as present. One meeting a day:
    a second one on the same day is refused (a double submit creates one meeting)."""
    if fields.day is None:
        raise Refusal("day", _l("Please give the date of the meeting."), field="day")
    place = (fields.place or "").strip()
    if not place:
        raise Refusal("place", _l("Please write where the meeting is held."), field="place")
    if len(place) > 80:
        raise Refusal("place", _l("Please write the place shorter."), field="place")
    unit_ids = set(fields.unit_ids or ())
    if fields.chair_unit_id:
        unit_ids.add(fields.chair_unit_id)
    if not unit_ids:
        raise Refusal("units", _l("Please tick the partner units present."), field="units")
    try:
        return _save_meeting(fields, staff_id, meeting_id, place, unit_ids)
    except IntegrityError:
        # Two submits raced past the check below: the unique day kept one meeting.
        raise Refusal("same_day", _l("There is already a joint meeting on this day."), field="day") from None


def _save_meeting(fields: MeetingFields, staff_id: int | None, meeting_id: int | None, place: str,
                  unit_ids: set[int]) -> JointMeeting:
    with write_transaction() as s:
        meeting = s.get(JointMeeting, meeting_id) if meeting_id else None
        if meeting_id and meeting is None:
            raise Refusal("no_meeting", _l("We could not find this joint meeting."))
        same_day = s.scalar(select(JointMeeting.id).where(JointMeeting.day == fields.day,
                                                          JointMeeting.id != (meeting_id or 0)))
        if same_day is not None:
            raise Refusal("same_day", _l("There is already a joint meeting on this day."), field="day")
        already = {u.id for u in meeting.units} if meeting else set()
        units = list(s.scalars(select(PartnerUnit).where(PartnerUnit.id.in_(unit_ids))))
        # A unit that was present stays choosable after it is made inactive; new ones must be active.
        if len(units) != len(unit_ids) or any(not u.active and u.id not in already for u in units):
            raise Refusal("unknown_unit", _l("Please choose the units from the list."), field="units")
        if meeting is None:
            meeting = JointMeeting(created_by_id=staff_id)
            s.add(meeting)
        meeting.day, meeting.place, meeting.note = fields.day, place, (fields.note or "").strip()
        meeting.chair_unit_id = fields.chair_unit_id or None
        meeting.units = sorted(units, key=lambda u: u.name)
        s.flush()
        return meeting


def meetings_query():
    """Every joint meeting, the latest first, with its chair (paginate it)."""
    return (select(JointMeeting).options(joinedload(JointMeeting.chair_unit), selectinload(JointMeeting.units),
                                         selectinload(JointMeeting.items))
            .order_by(JointMeeting.day.desc(), JointMeeting.id.desc()))


def meeting(meeting_id: int) -> JointMeeting | None:
    return db.session.get(JointMeeting, meeting_id, options=[
        joinedload(JointMeeting.chair_unit), selectinload(JointMeeting.units),
        selectinload(JointMeeting.items).joinedload(AgendaItem.concern),
        selectinload(JointMeeting.items).joinedload(AgendaItem.owner_unit),
        selectinload(JointMeeting.items).joinedload(AgendaItem.owner_staff),
        selectinload(JointMeeting.items).joinedload(AgendaItem.suggested_by_unit)])


# --- Agenda items ---------------------------------------------------------------------------

def concerns_to_take_up(words: str = "", limit: int = 20) -> list[Concern]:
    """Concerns still being followed, found by their receipt code or by words of what was said
    or where (the newest first)."""
    stmt = select(Concern).where(Concern.status.in_(CONCERNS_TO_TAKE_UP))
    words = (words or "").strip()
    if words:
        code = codes.normalise(words)
        like = f"%{words}%"
        conditions = [Concern.description.ilike(like), Concern.place.ilike(like),
                      Concern.responsible_body.ilike(like)]
        if code:
            conditions.append(Concern.code == code)
        stmt = stmt.where(or_(*conditions))
    return list(db.session.scalars(stmt.order_by(Concern.created_at.desc(), Concern.id.desc()).limit(limit)))


def add_item(meeting_id: int, source: str, topic: str = "", concern_id: int | None = None,
             suggested_by_unit_id: int | None = None) -> AgendaItem:
    """Put a topic on a meeting's agenda: a concern of the ledger (its description is the topic
    unless one is written), a partner unit's suggestion, or the staff's own. The same concern or
    the same topic twice on one agenda is refused (so a double submit adds it once)."""
    if source not in AGENDA_SOURCES:
        raise Refusal("source", _l("Please choose where the topic comes from."), field="source")
    topic = (topic or "").strip()
    if len(topic) > TOPIC_MAX:
        raise Refusal("topic", _l("Please write the topic shorter."), field="topic")
    with write_transaction() as s:
        found = s.get(JointMeeting, meeting_id)
        if found is None:
            raise Refusal("no_meeting", _l("We could not find this joint meeting."))
        item = AgendaItem(meeting_id=found.id, source=source)
        if source == "concern":
            concern = s.get(Concern, concern_id) if concern_id else None
            if concern is None:
                raise Refusal("no_concern", _l("Please choose a concern from the ledger."), field="concern")
            if concern.status not in CONCERNS_TO_TAKE_UP:
                raise Refusal("concern_closed", _l("Only a concern still being followed can be taken up."),
                              field="concern")
            if s.scalar(select(AgendaItem.id).where(AgendaItem.meeting_id == found.id,
                                                    AgendaItem.concern_id == concern.id)):
                raise Refusal("concern_twice", _l("This concern is already on the agenda."), field="concern")
            item.concern_id = concern.id
            topic = topic or concern.description.strip()[:TOPIC_MAX]
        else:
            if source == "partner":
                unit = s.get(PartnerUnit, suggested_by_unit_id) if suggested_by_unit_id else None
                if unit is None:
                    raise Refusal("no_unit", _l("Please choose the unit that suggested it."),
                                  field="suggested_by_unit")
                item.suggested_by_unit_id = unit.id
            if not topic:
                raise Refusal("topic", _l("Please write the topic."), field="topic")
            if s.scalar(select(AgendaItem.id).where(AgendaItem.meeting_id == found.id, AgendaItem.topic == topic)):
                raise Refusal("topic_twice", _l("This topic is already on the agenda."), field="topic")
        item.topic = topic
        s.add(item)
        s.flush()
        return item


def item(item_id: int) -> AgendaItem | None:
    return db.session.get(AgendaItem, item_id, options=[
        joinedload(AgendaItem.meeting), joinedload(AgendaItem.concern), joinedload(AgendaItem.owner_unit),
        joinedload(AgendaItem.owner_staff), joinedload(AgendaItem.suggested_by_unit),
        selectinload(AgendaItem.steps)])


def _locked_item(s, item_id: int) -> AgendaItem:
    found = s.scalar(select(AgendaItem).where(AgendaItem.id == item_id).with_for_update())
    if found is None:
        raise Refusal("no_item", _l("We could not find this agenda item."))
    s.refresh(found)
    return found


@dataclass
class Resolution:
    resolution: str
    owner_unit_id: int | None = None
    owner_staff_id: int | None = None
    due_on: date | None = None


def resolve(item_id: int, decided: Resolution, staff_id: int | None) -> AgendaItem:
    """What the alliance resolved: the resolution, its owner (a partner unit and/or a staff
    member) and the due date. The item is then "resolved" and followed up. An item from a
    concern writes the resolution into the concern's history (moving an open or referred one on
    to "in progress"); an owner unit counts as a resource match. A resolution may be changed
    while nobody has started on it."""
    text = (decided.resolution or "").strip()
    if not text:
        raise Refusal("resolution", _l("Please write what the meeting resolved."), field="resolution")
    if decided.owner_unit_id is None and decided.owner_staff_id is None:
        raise Refusal("owner", _l("Please name who carries it out: a partner unit, a staff member or both."),
                      field="owner_unit")
    if decided.due_on is None:
        raise Refusal("due_on", _l("Please give the date by which it is done."), field="due_on")
    with write_transaction() as s:
        found = _locked_item(s, item_id)
        if found.status not in ("proposed", "resolved"):
            raise Refusal("started", _l("Work on this item has started: follow it up instead."))
        meeting_day = s.get(JointMeeting, found.meeting_id).day
        if decided.due_on < meeting_day:
            raise Refusal("due_early", _l("The due date is before the meeting."), field="due_on")
        if decided.owner_unit_id is not None and s.get(PartnerUnit, decided.owner_unit_id) is None:
            raise Refusal("no_unit", _l("Please choose the units from the list."), field="owner_unit")
        if decided.owner_staff_id is not None:
            person = s.get(StaffUser, decided.owner_staff_id)
            if person is None or not person.active:
                raise Refusal("no_staff", _l("Please choose a staff member from the list."), field="owner_staff")
        first = found.status == "proposed"
        found.resolution, found.due_on, found.status = text, decided.due_on, "resolved"
        found.owner_unit_id, found.owner_staff_id = decided.owner_unit_id, decided.owner_staff_id
        s.add(AgendaStep(item_id=found.id, staff_id=staff_id, status="resolved", note=text))
        if found.concern_id is not None:
            concern = s.get(Concern, found.concern_id)
            moving = "in_progress" if first and concern.status in ("open", "referred") else None
            ledger.add_follow_up(s, concern.id, _concern_note(meeting_day, text), staff_id, moving)
        if found.owner_unit_id is not None:
            add_match(s, found.owner_unit_id, "agenda_item", found.id, meeting_day, staff_id)
        s.flush()
        return found


def _concern_note(day: date, text: str) -> str:
    """The concern's history line, in the staff member's language (the hall's outside a request)."""
    def note():
        return _("Joint meeting of %(date)s: %(resolution)s", date=day.isoformat(), resolution=text)

    if has_request_context():
        return note()
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return note()


def follow(item_id: int, note: str, status: str | None, staff_id: int | None) -> AgendaItem:
    """A follow-up note on a resolved item, optionally moving it on: in progress, done, or
    dropped (with the reason). Done and dropped close it."""
    note = (note or "").strip()
    with write_transaction() as s:
        found = _locked_item(s, item_id)
        if status:
            if status not in NEXT.get(found.status, ()):
                raise Refusal("status", _l("This item cannot move to that step from where it is."), field="status")
            if status == "dropped" and not note:
                raise Refusal("reason", _l("Please write why it is dropped."), field="note")
            found.status = status
            if status in CLOSED:
                found.closed_at = utcnow()
        elif not note:
            raise Refusal("note", _l("Please write what happened."), field="note")
        s.add(AgendaStep(item_id=found.id, staff_id=staff_id, note=note, status=status or None))
        return found


def is_overdue(agenda_item: AgendaItem, today: date | None = None) -> bool:
    """Past its due date and still being carried out."""
    return (agenda_item.due_on is not None and agenda_item.status in FOLLOWED
            and agenda_item.due_on < (today or hall_today()))


def items_of_concern(concern_id: int) -> list[AgendaItem]:
    """The agenda items that took a concern up, the earliest meeting first."""
    return list(db.session.scalars(
        select(AgendaItem).join(JointMeeting).where(AgendaItem.concern_id == concern_id)
        .options(joinedload(AgendaItem.meeting), joinedload(AgendaItem.owner_unit),
                 joinedload(AgendaItem.owner_staff))
        .order_by(JointMeeting.day, AgendaItem.id)))


def resolutions_of_concern(concern_id: int) -> list[AgendaItem]:
    """What the alliance resolved about a concern: for the resident's status page."""
    return [i for i in items_of_concern(concern_id) if i.status != "proposed" and i.resolution]


def items_query(status: str | None = None, overdue: bool = False, today: date | None = None):
    """Agenda items across meetings (the follow-up list), the latest meeting first."""
    stmt = (select(AgendaItem).join(JointMeeting)
            .options(joinedload(AgendaItem.meeting), joinedload(AgendaItem.concern),
                     joinedload(AgendaItem.owner_unit), joinedload(AgendaItem.owner_staff)))
    if status:
        stmt = stmt.where(AgendaItem.status == status)
    if overdue:
        stmt = stmt.where(AgendaItem.due_on < (today or hall_today()), AgendaItem.status.in_(FOLLOWED))
    return stmt.order_by(JointMeeting.day.desc(), AgendaItem.id)


# --- Resource matches -----------------------------------------------------------------------

_REFERENCE = {"wish": "wish_id", "activity": "activity_id", "agenda_item": "agenda_item_id"}


def add_match(s, unit_id: int, kind: str, ref_id: int, day: date, staff_id: int | None,
              note: str = "") -> ResourceMatch:
    """A partner unit took on a wish, an activity or an agenda item, in the caller's write
    transaction; the same unit and the same thing make one match (returned if it exists)."""
    if kind not in MATCH_KINDS:
        raise Refusal("kind", _l("Please choose what the unit took on."), field="kind")
    column = getattr(ResourceMatch, _REFERENCE[kind])
    existing = s.scalar(select(ResourceMatch).where(ResourceMatch.partner_unit_id == unit_id, column == ref_id))
    if existing is not None:
        return existing
    match = ResourceMatch(partner_unit_id=unit_id, kind=kind, day=day, note=(note or "")[:200],
                          recorded_by_id=staff_id, **{_REFERENCE[kind]: ref_id})
    s.add(match)
    s.flush()
    return match


def match_activity(activity_id: int, unit_id: int, staff_id: int | None, day: date | None = None) -> ResourceMatch:
    """A partner unit runs (or takes on) an activity: one match, dated the activity's day."""
    with write_transaction() as s:
        activity = s.get(Activity, activity_id)
        if activity is None:
            raise Refusal("no_activity", _l("We could not find this activity."))
        unit = s.get(PartnerUnit, unit_id)
        if unit is None:
            raise Refusal("no_unit", _l("Please choose the units from the list."), field="partner_unit")
        return add_match(s, unit.id, "activity", activity.id, day or activity.day, staff_id)


def matches_query(unit_id: int | None = None, kind: str | None = None, start: date | None = None,
                  end: date | None = None):
    """Resource matches with the list's filters, the latest first (paginate it)."""
    stmt = select(ResourceMatch).options(
        joinedload(ResourceMatch.partner_unit), joinedload(ResourceMatch.wish),
        joinedload(ResourceMatch.activity), joinedload(ResourceMatch.agenda_item).joinedload(AgendaItem.meeting))
    if unit_id:
        stmt = stmt.where(ResourceMatch.partner_unit_id == unit_id)
    if kind:
        stmt = stmt.where(ResourceMatch.kind == kind)
    if start:
        stmt = stmt.where(ResourceMatch.day >= start)
    if end:
        stmt = stmt.where(ResourceMatch.day <= end)
    return stmt.order_by(ResourceMatch.day.desc(), ResourceMatch.id.desc())


def matches_by_unit() -> dict[int, int]:
    """How many resource matches each partner unit has."""
    return dict(db.session.execute(select(ResourceMatch.partner_unit_id, func.count())
                                   .group_by(ResourceMatch.partner_unit_id)).all())


def what_was_matched(match: ResourceMatch) -> str:
    """A line for the list: the wish's code, the activity's title, the agenda item's topic."""
    if match.kind == "wish" and match.wish is not None:
        return codes.formatted(match.wish.code)
    if match.kind == "activity" and match.activity is not None:
        return match.activity.title
    if match.agenda_item is not None:
        return match.agenda_item.topic
    return ""

