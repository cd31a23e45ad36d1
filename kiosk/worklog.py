"""The staff work log: field work written down on a phone where it was done (a home visit, a care
call, a safety check, an awareness talk, a clean-up, or a kind staff added), with the staff and
volunteers involved, the households or places covered, a short note and an optional photo.

The rules live here, with no Flask request inside; views read a form and call these functions.
A Refusal names the form field it is about (kind, day, staff, volunteers, places, households,
note; name_zh, name_bo, name_en, pictogram for kinds).

- An entry's day is not in the future (hall time).
- A new entry takes an active kind; an entry kept as it was may keep a kind deactivated since.
- At least one staff member took part (the one recording, by default). Staff are active accounts
  of the back office's field roles (staff, admin, coordinator); volunteers are active and
  confirmed. People already on an entry stay on it when it is edited, even if no longer active.
- A form token makes a double tap on Save record one entry.
- Deleting an entry removes its photo too.
"""
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from . import photos
from .database import write_transaction
from .extensions import db
from .inventory import is_pictogram
from .lending import hall_today
from .models import StaffUser
from .models.community import WorkKind, WorkLogEntry, work_log_staff
from .models.wishes import Volunteer
from .refusal import Refusal

# Who may be named as having done the work: the back office's people who go out into the field.
FIELD_ROLES = ("admin", "staff", "coordinator")
HOUSEHOLDS_MAX = 10_000
PLACES_MAX = 200
NOTE_MAX = 1_000


@dataclass
class Entry:
    """What an entry says; `photo` is a name kiosk.photos gave (None: none, or keep the old one)."""

    kind_id: int | None
    day: date | None
    staff_ids: list[int] = field(default_factory=list)
    volunteer_ids: list[int] = field(default_factory=list)
    places: str = ""
    households: int = 0
    note: str = ""
    photo: str | None = None


# --- Choices ----------------------------------------------------------------------------------

def kinds(active_only: bool = True) -> list[WorkKind]:
    """The kinds of work, built-in first, in the order they were made."""
    stmt = select(WorkKind).order_by(WorkKind.key.is_(None), WorkKind.id)
    if active_only:
        stmt = stmt.where(WorkKind.active.is_(True))
    return list(db.session.scalars(stmt))


def field_staff(also: tuple[int, ...] = ()) -> list[StaffUser]:
    """Active staff who may be named on an entry (and `also`, those already on it)."""
    return list(db.session.scalars(select(StaffUser).where(or_(
        and_(StaffUser.active.is_(True), StaffUser.role.in_(FIELD_ROLES)), StaffUser.id.in_(also or [-1])))
        .order_by(StaffUser.display_name, StaffUser.id)))


def field_volunteers(also: tuple[int, ...] = ()) -> list[Volunteer]:
    """Active, confirmed volunteers (and `also`, those already on the entry)."""
    return list(db.session.scalars(select(Volunteer).where(or_(
        and_(Volunteer.active.is_(True), Volunteer.confirmed_at.is_not(None)), Volunteer.id.in_(also or [-1])))
        .order_by(Volunteer.team, Volunteer.name, Volunteer.id)))


# --- Checking an entry ------------------------------------------------------------------------

def _check(s, entry: Entry, today: date, before: WorkLogEntry | None = None):
    """The kind, staff and volunteers the entry names, or a Refusal next to the field."""
    kind = s.get(WorkKind, entry.kind_id) if entry.kind_id else None
    if kind is None:
        raise Refusal("kind", _l("Please choose what kind of work it was."), field="kind")
    if not kind.active and (before is None or before.kind_id != kind.id):
        raise Refusal("kind_inactive", _l("This kind of work is no longer in use. Please choose another."),
                      field="kind")
    if entry.day is None:
        raise Refusal("day", _l("Please give the date the work was done."), field="day")
    if entry.day > today:
        raise Refusal("day_future", _l("The work cannot be done on a date still to come."), field="day")
    if len(entry.places or "") > PLACES_MAX:
        raise Refusal("places", _l("Please write the places shorter."), field="places")
    if len(entry.note or "") > NOTE_MAX:
        raise Refusal("note", _l("Please write a shorter note."), field="note")
    if not isinstance(entry.households, int) or not 0 <= entry.households <= HOUSEHOLDS_MAX:
        raise Refusal("households", _l("Please give the number of households, from 0 to %(max)s.",
                                       max=HOUSEHOLDS_MAX), field="households")
    had_staff = tuple(p.id for p in before.staff) if before else ()
    had_volunteers = tuple(v.id for v in before.volunteers) if before else ()
    staff_ids = set(entry.staff_ids or ())
    if not staff_ids:
        raise Refusal("no_staff", _l("Please tick at least one staff member who did the work."), field="staff")
    staff = [p for p in field_staff(had_staff) if p.id in staff_ids]
    if len(staff) != len(staff_ids):
        raise Refusal("staff", _l("One of the staff members ticked cannot be named here. Please tick again."),
                      field="staff")
    volunteer_ids = set(entry.volunteer_ids or ())
    volunteers = [v for v in field_volunteers(had_volunteers) if v.id in volunteer_ids]
    if len(volunteers) != len(volunteer_ids):
        raise Refusal("volunteers", _l("One of the volunteers ticked is not an active volunteer. Please tick again."),
                      field="volunteers")
    return kind, staff, volunteers


def _fill(row: WorkLogEntry, entry: Entry, kind, staff, volunteers) -> None:
    row.kind_id = kind.id
    row.day = entry.day
    row.places = (entry.places or "").strip()
    row.households = entry.households
    row.note = (entry.note or "").strip()
    row.staff = staff
    row.volunteers = volunteers


# --- Entries ----------------------------------------------------------------------------------

def record(entry: Entry, token: str, staff_id: int, today: date | None = None) -> WorkLogEntry:
    """Write an entry down. The same token twice (a double tap) returns the first entry."""
    today = today or hall_today()
    try:
        with write_transaction() as s:
            done = s.scalar(select(WorkLogEntry).where(WorkLogEntry.form_token == token))
            if done is not None:
                return _same_recorder(done, staff_id)
            kind, staff, volunteers = _check(s, entry, today)
            row = WorkLogEntry(form_token=token, recorded_by_id=staff_id, photo=entry.photo)
            _fill(row, entry, kind, staff, volunteers)
            s.add(row)
            s.flush()
            return row
    except IntegrityError:
        done = db.session.scalar(select(WorkLogEntry).where(WorkLogEntry.form_token == token))
        if done is None:
            raise
        return _same_recorder(done, staff_id)


def _same_recorder(done: WorkLogEntry, staff_id: int) -> WorkLogEntry:
    if done.recorded_by_id != staff_id:
        raise Refusal("stale_form", _l("This form was already used. Please start again."))
    return done


def _entry(s, entry_id: int) -> WorkLogEntry:
    row = s.scalar(select(WorkLogEntry).where(WorkLogEntry.id == entry_id).with_for_update())
    if row is None:
        raise Refusal("no_entry", _l("This work log entry no longer exists."))
    s.refresh(row)
    return row


def update(entry_id: int, entry: Entry, today: date | None = None, remove_photo: bool = False) -> WorkLogEntry:
    """Correct an entry. A new photo replaces the old one; remove_photo drops it."""
    today = today or hall_today()
    with write_transaction() as s:
        row = _entry(s, entry_id)
        kind, staff, volunteers = _check(s, entry, today, before=row)
        old_photo = row.photo
        _fill(row, entry, kind, staff, volunteers)
        if entry.photo:
            row.photo = entry.photo
        elif remove_photo:
            row.photo = None
        new_photo = row.photo
    if old_photo and old_photo != new_photo:
        photos.discard(old_photo)
    return row


def delete(entry_id: int) -> None:
    """Remove an entry and its photo."""
    with write_transaction() as s:
        row = _entry(s, entry_id)
        photo = row.photo
        row.staff, row.volunteers = [], []
        s.delete(row)
    photos.discard(photo)


def entries_query(kind_id: int | None = None, staff_id: int | None = None, start: date | None = None,
                  end: date | None = None, text: str | None = None) -> Select:
    """Entries, newest first, of a kind, with a staff member, in a range of days, or mentioning text
    in their places or note."""
    stmt = select(WorkLogEntry).order_by(WorkLogEntry.day.desc(), WorkLogEntry.id.desc())
    if kind_id:
        stmt = stmt.where(WorkLogEntry.kind_id == kind_id)
    if staff_id:
        stmt = stmt.where(exists().where(work_log_staff.c.entry_id == WorkLogEntry.id,
                                         work_log_staff.c.staff_id == staff_id))
    if start:
        stmt = stmt.where(WorkLogEntry.day >= start)
    if end:
        stmt = stmt.where(WorkLogEntry.day <= end)
    if text and text.strip():
        q = text.strip()
        stmt = stmt.where(or_(WorkLogEntry.places.icontains(q, autoescape=True),
                              WorkLogEntry.note.icontains(q, autoescape=True)))
    return stmt


@dataclass(frozen=True)
class KindCount:
    kind: WorkKind
    entries: int
    households: int


def counts_by_kind(start: date | None, end: date | None) -> list[KindCount]:
    """For each kind (active ones, and inactive ones with entries): entries and households covered
    on the days from start to end, both included (None: no limit)."""
    conditions = [WorkLogEntry.kind_id == WorkKind.id]
    if start:
        conditions.append(WorkLogEntry.day >= start)
    if end:
        conditions.append(WorkLogEntry.day <= end)
    rows = db.session.execute(
        select(WorkKind, func.count(WorkLogEntry.id), func.coalesce(func.sum(WorkLogEntry.households), 0))
        .outerjoin(WorkLogEntry, and_(*conditions))
        .group_by(WorkKind.id)
        .order_by(WorkKind.key.is_(None), WorkKind.id)).all()
    return [KindCount(kind, int(n), int(households)) for kind, n, households in rows if kind.active or n]


# --- Kinds ------------------------------------------------------------------------------------

def _kind_values(name_zh: str, name_bo: str, name_en: str, pictogram: str) -> dict:
    values = {"name_zh": (name_zh or "").strip(), "name_bo": (name_bo or "").strip(),
              "name_en": (name_en or "").strip(), "pictogram": (pictogram or "").strip()}
    if not values["name_zh"]:
        raise Refusal("name_zh", _l("Please write the Chinese name."), field="name_zh")
    for key, limit in (("name_zh", 40), ("name_bo", 80), ("name_en", 40)):
        if len(values[key]) > limit:
            raise Refusal(key, _l("Please write it shorter."), field=key)
    if not is_pictogram(values["pictogram"]):
        raise Refusal("pictogram", _l("Please use one emoji, like 🏠."), field="pictogram")
    return values


def add_kind(name_zh: str, name_bo: str, name_en: str, pictogram: str) -> WorkKind:
    """A kind of work staff added (it has no report key: the report counts it under "other")."""
    values = _kind_values(name_zh, name_bo, name_en, pictogram)
    with write_transaction() as s:
        _unique_name(s, values["name_zh"])
        kind = WorkKind(**values, active=True)
        s.add(kind)
        s.flush()
        return kind


def save_kind(kind_id: int, name_zh: str, name_bo: str, name_en: str, pictogram: str,
              active: bool = True) -> WorkKind:
    """Rename a kind, change its pictogram, or take it out of use (its entries stay)."""
    values = _kind_values(name_zh, name_bo, name_en, pictogram)
    with write_transaction() as s:
        kind = s.get(WorkKind, kind_id)
        if kind is None:
            raise Refusal("no_kind", _l("This kind of work no longer exists."))
        _unique_name(s, values["name_zh"], kind.id)
        for key, value in values.items():
            setattr(kind, key, value)
        kind.active = bool(active)
        s.flush()
        return kind


def _unique_name(s, name_zh: str, kind_id: int | None = None) -> None:
    same = s.scalar(select(WorkKind.id).where(WorkKind.name_zh == name_zh, WorkKind.id != (kind_id or -1)))
    if same is not None:
        raise Refusal("name_taken", _l("There is already a kind of work with this name."), field="name_zh")
