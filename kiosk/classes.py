"""Courses (the Saturday English class and those to come): every rule of seats, the waiting list,
dates and attendance is decided here.

The tablet, the phone and the back office call these functions; none of them changes a
Registration's status, seat or ticket directly. Each action is one write transaction that
first locks the course row (PostgreSQL: SELECT ... FOR UPDATE; SQLite: BEGIN IMMEDIATE), so
registrations for one course are decided one after the other, and the database's
constraints (seat rows, unique seat and ticket, one live place per child, one form token)
catch whatever a bug might let slip.
"""
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time, timedelta

from flask_babel import format_date, to_user_timezone
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from . import codes, places
from .database import write_transaction
from .extensions import db
from .lending import hall_today
from .models import Attendance, ClassSession, Course, CourseSchedule, CourseSeat, Registration
from .models.base import utcnow
from .models.classes import GRADES, LIVE_STATUSES, MARKS, SCHEDULE_KINDS
from .refusal import Refusal
from .residents import check_name_length, identify_resident_now, normalise_name

_COURSE_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,19}$")
# Three unexcused absences in a row: staff are told, and may give the seat to the waiting list.
ABSENCES_IN_A_ROW = 3
CHILD_AGE_MIN, CHILD_AGE_MAX = 2, 17
CAPACITY_MIN, CAPACITY_MAX = 1, 200  # as the course table's check constraint
# How families name the school grades (kiosk.models.classes.GRADES holds their usual ages); the
# same words on the tablet, the phone and in the back office.
GRADE_NAMES = {
    "k": _l("Kindergarten"),
    "p1": _l("Grade 1 (primary)"), "p2": _l("Grade 2 (primary)"), "p3": _l("Grade 3 (primary)"),
    "p4": _l("Grade 4 (primary)"), "p5": _l("Grade 5 (primary)"), "p6": _l("Grade 6 (primary)"),
    "j1": _l("Grade 7 (junior high 1)"), "j2": _l("Grade 8 (junior high 2)"),
    "j3": _l("Grade 9 (junior high 3)"),
}


# --- Codes --------------------------------------------------------------------------------

def normalise_course_code(raw: str | None) -> str | None:
    s = unicodedata.normalize("NFKC", raw or "").strip().upper().replace(" ", "")
    return s if _COURSE_CODE.match(s) else None


# A guardian's receipt code (kiosk.codes): it opens the registration's status page.
format_receipt = codes.formatted


def child_key(name: str) -> str:
    return normalise_name(name).casefold()


# --- Looking things up ----------------------------------------------------------------------

def find_course(raw_code: str | None) -> Course | None:
    code = normalise_course_code(raw_code)
    if code is None:
        return None
    return db.session.scalar(select(Course).where(Course.code == code))


def find_registration(course: Course, raw_receipt: str | None) -> Registration | None:
    receipt = codes.normalise(raw_receipt)
    if receipt is None:
        return None
    return db.session.scalar(select(Registration).where(
        Registration.course_id == course.id, Registration.receipt == receipt))


def open_courses(today: date | None = None) -> list[Course]:
    """Courses whose term has not ended, soonest first: what the kiosk tile and phones list."""
    today = today or hall_today()
    return list(db.session.scalars(select(Course).where(Course.ends_on >= today)
                                   .order_by(Course.starts_on, Course.id)))


# The seat and waiting-list machinery is shared with one-off activities (kiosk.places).
PLACES = places.Spec(Registration, "course_id", CourseSeat, "course_id")
Seats = places.Seats


def seats(course: Course) -> Seats:
    return seats_of([course])[course.id]


# The course poster's page, composed once (composing costs more than SQLite takes to run it).
_COURSE_PAGE = (select(Course, *places.live_count_columns(PLACES, Course.id))
                .options(joinedload(Course.schedules)).where(Course.code == bindparam("code")))


def course_page(raw_code: str | None) -> tuple[Course, Seats] | None:
    """What the poster's QR opens, in one query: the course by its code, with its schedules and
    its seats (None when no course has this code)."""
    code = normalise_course_code(raw_code)
    if code is None:
        return None
    found = db.session.execute(_COURSE_PAGE, {"code": code}).unique().first()
    if found is None:
        return None
    course, taken, waiting = found
    return course, Seats(course.capacity, taken, waiting)


def seats_of(courses: list[Course]) -> dict[int, Seats]:
    """Seats taken and children waiting of several courses (the back office's list), in one query."""
    return places.seats_of(PLACES, courses)


def waiting_place(registration: Registration) -> int | None:
    """1 for the first on the waiting list; counted, so the places never have gaps."""
    return places.waiting_place(PLACES, registration)


def waiting_list(course_id: int) -> list[Registration]:
    return list(db.session.scalars(
        select(Registration).options(joinedload(Registration.guardian))
        .where(Registration.course_id == course_id, Registration.status == "waiting")
        .order_by(Registration.wait_ticket)))


def confirmed(course_id: int) -> list[Registration]:
    return list(db.session.scalars(
        select(Registration).options(joinedload(Registration.guardian))
        .where(Registration.course_id == course_id, Registration.status == "confirmed")
        .order_by(Registration.seat)))


def sessions(course_id: int, start: date | None = None, limit: int | None = None,
             include_cancelled: bool = True) -> list[ClassSession]:
    stmt = select(ClassSession).where(ClassSession.course_id == course_id)
    if start is not None:
        stmt = stmt.where(ClassSession.day >= start)
    if not include_cancelled:
        stmt = stmt.where(ClassSession.cancelled_at.is_(None))
    stmt = stmt.order_by(ClassSession.day)
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


# Read by every course page and receipt: composed once, on the (course_id, day) unique index.
_NEXT_DATES = (select(ClassSession.id, ClassSession.day, ClassSession.starts_at, ClassSession.ends_at,
                      ClassSession.cancelled_at.is_not(None).label("cancelled"), ClassSession.cancel_note)
               .where(ClassSession.course_id == bindparam("course_id"), ClassSession.day >= bindparam("start"))
               .order_by(ClassSession.day).limit(bindparam("count")))


def next_dates(course_id: int, count: int = 4) -> list:
    """The coming dates, cancelled ones included (residents must see "no class that day"): rows
    of what the dates list shows (id, day, starts_at, ends_at, cancelled, cancel_note)."""
    return db.session.connection().execute(_NEXT_DATES, {
        "course_id": course_id, "start": hall_today(), "count": count}).all()


def _taught_by(stmt, teacher_id: int | None):
    """Dates of the teacher's own courses; None: every course (staff and admins)."""
    stmt = stmt.join(Course).options(joinedload(ClassSession.course))
    if teacher_id is not None:
        stmt = stmt.where(Course.teacher_id == teacher_id)
    return stmt


def sessions_on(day: date, teacher_id: int | None = None) -> list[ClassSession]:
    """The class dates of one day (the teacher's day on the tablet)."""
    return list(db.session.scalars(_taught_by(select(ClassSession).where(ClassSession.day == day), teacher_id)
                                   .order_by(ClassSession.starts_at, Course.id)))


def recent_and_next(day: date, teacher_id: int | None = None) -> list[ClassSession]:
    """The latest held date before `day` and the next one after it (a day without a class)."""
    def one(stmt):
        return db.session.scalar(_taught_by(stmt, teacher_id).limit(1))

    before = one(select(ClassSession).where(ClassSession.day < day, ClassSession.cancelled_at.is_(None))
                 .order_by(ClassSession.day.desc()))
    after = one(select(ClassSession).where(ClassSession.day > day).order_by(ClassSession.day))
    return [s for s in (before, after) if s is not None]


# --- Registering ----------------------------------------------------------------------------

def age_for(age: int | None, grade: str | None) -> int | None:
    """The child's age, or the usual age of their school grade when only the grade is known."""
    if age is not None:
        return age
    return GRADES.get(grade or "")


def check_child(course: Course, child_name: str, child_age: int | None, child_grade: str | None,
                guardian_consent: bool) -> None:
    """Refuse what no registration for this course may have, before anything is written.

    The views call it before identifying the guardian, so a refused form records no one
    (collect the minimum); register() calls it again under the course lock.
    """
    if not normalise_name(child_name):
        raise Refusal("child_name", _l("Please write the child's name."), field="child_name")
    check_name_length(normalise_name(child_name), field="child_name")
    if child_grade is not None and child_grade not in GRADES:
        raise Refusal("grade", _l("Please choose the school grade from the list."), field="child_grade")
    if child_age is None and child_grade is None:
        raise Refusal("age_missing", _l("Please give the child's age or school grade."), field="child_age")
    if child_age is not None and not CHILD_AGE_MIN <= child_age <= CHILD_AGE_MAX:
        raise Refusal("age", _l("Please give the child's age in years, for example 9."), field="child_age")
    age = age_for(child_age, child_grade)
    if not course.age_min <= age <= course.age_max:
        raise Refusal("age_range", _l("This class is for children aged %(min)s to %(max)s.",
                                      min=course.age_min, max=course.age_max),
                      field="child_age" if child_age is not None else "child_grade")
    if not guardian_consent:
        raise Refusal("guardian_consent", _l(
            "Children's details need a parent's or guardian's consent. Please tick the box to agree."),
            field="guardian_consent")
    _check_open(course)


def register_family(course: Course, mobile: str, guardian_name: str, guardian_agrees: bool,
                    child_name: str, child_age: int | None, child_grade: str | None,
                    guardian_consent: bool, token: str, channel: str,
                    staff_id: int | None = None) -> Registration:
    """What a registration form does, at the tablet, on a phone or at the desk: the course's
    rules first (ages, consent), so that a refused form records no one; then the guardian is
    identified (or registered, with their consent); then the child is registered."""
    check_child(course, child_name, child_age, child_grade, guardian_consent)
    guardian = identify_resident_now(mobile, guardian_name, consent=guardian_agrees)
    return register(course.id, guardian.id, child_name, child_age, child_grade, guardian_consent,
                    token, channel, staff_id)


def register(course_id: int, guardian_id: int, child_name: str, child_age: int | None,
             child_grade: str | None, guardian_consent: bool, token: str, channel: str,
             staff_id: int | None = None) -> Registration:
    """Register a child: a seat while there is one, else the end of the waiting list.

    The same token twice (a double tap, a retried request) returns the first registration.
    The caller has identified the guardian (kiosk.residents.identify_resident).
    """
    name = normalise_name(child_name)
    try:
        with write_transaction() as s:
            # Look for the token only once the course is ours: a double tap that reached another
            # worker may have registered while this one waited for the lock (PostgreSQL).
            course = _locked_course(s, course_id)
            done = s.scalar(select(Registration).where(Registration.form_token == token))
            if done is not None:
                return _same_registration(done, course_id, guardian_id)
            check_child(course, name, child_age, child_grade, guardian_consent)
            key = child_key(name)
            twin = s.scalar(select(Registration).where(
                Registration.course_id == course_id, Registration.guardian_id == guardian_id,
                Registration.child_key == key, Registration.status.in_(LIVE_STATUSES)))
            if twin is not None:
                raise _already_registered(twin)
            registration = Registration(
                course_id=course_id, guardian_id=guardian_id, child_name=name, child_key=key,
                child_age=child_age, child_grade=child_grade, guardian_consent_at=utcnow(),
                form_token=token, channel=channel, created_by_id=staff_id,
                receipt=codes.unused(s, Registration.receipt), status="waiting")
            places.take_place(s, PLACES, registration, course_id, course.capacity)
            s.add(registration)
            s.flush()
            return registration
    except IntegrityError:
        # Only a race the course lock did not cover gets here (e.g. one form token sent to
        # two workers at once): the first one's result is the answer.
        done = db.session.scalar(select(Registration).where(Registration.form_token == token))
        if done is not None:
            return _same_registration(done, course_id, guardian_id)
        raise Refusal("busy", _l("Many people are registering right now. Please try again.")) from None


def _already_registered(twin: Registration) -> Refusal:
    if twin.status == "confirmed":
        message = _l("%(child)s already has a seat in this class.", child=twin.child_first_name)
    else:
        message = _l("%(child)s is already on the waiting list of this class.", child=twin.child_first_name)
    return Refusal("already_registered", message, field="child_name")


def _same_registration(registration: Registration, course_id: int, guardian_id: int) -> Registration:
    if registration.course_id != course_id or registration.guardian_id != guardian_id:
        raise Refusal("stale_form", _l("This form was already used. Please start again."))
    return registration


_NOT_FOUND = {
    Registration: ("no_registration", _l("We could not find this registration.")),
    ClassSession: ("no_session", _l("We could not find this date.")),
}


def _found(s, model, row_id: int):
    """The row, or the refusal "we could not find ..." in the resident's words."""
    row = s.get(model, row_id)
    if row is None:
        raise Refusal(*_NOT_FOUND[model])
    return row


def _locked_course(s, course_id: int) -> Course:
    course = s.scalar(select(Course).where(Course.id == course_id).with_for_update())
    if course is None:
        raise Refusal("no_course", _l("We could not find this class."))
    return course


def _check_open(course: Course) -> None:
    if course.ends_on < hall_today():
        raise Refusal("course_ended", _l("This class has ended. Please ask the staff about the next one."))


def _promote(s, course: Course) -> list[Registration]:
    """Fill every free seat from the front of the waiting list, at once."""
    return places.promote(s, PLACES, course.id, course.capacity)


@dataclass(frozen=True)
class Ended:
    registration: Registration
    promoted: list[Registration]


def cancel(registration_id: int, by: str, staff_id: int | None = None) -> Ended:
    """The guardian (with the receipt) or staff cancel a place; the waiting list moves up at once.

    Cancelling twice (a double tap) changes nothing the second time.
    """
    return _end(registration_id, "guardian" if by == "guardian" else "staff", "cancelled", staff_id)


def release_seat(registration_id: int, staff_id: int) -> Ended:
    """Staff give the seat of a child who stopped coming to the waiting list."""
    return _end(registration_id, "absences", "released", staff_id)


def _end(registration_id: int, reason: str, status: str, staff_id: int | None) -> Ended:
    with write_transaction() as s:
        course_id = s.scalar(select(Registration.course_id).where(Registration.id == registration_id))
        if course_id is None:
            raise Refusal("no_registration", _l("We could not find this registration."))
        course = _locked_course(s, course_id)
        registration = s.get(Registration, registration_id)
        s.refresh(registration)
        if registration.status not in LIVE_STATUSES:
            return Ended(registration, [])
        if reason == "absences" and registration.status != "confirmed":
            raise Refusal("not_confirmed", _l("Only a child with a seat can give it up."))
        registration.status = status
        registration.seat = None
        registration.ended_at = utcnow()
        registration.end_reason = reason
        registration.ended_by_id = staff_id
        s.flush()
        return Ended(registration, _promote(s, course))


def mark_called(registration_id: int, staff_id: int) -> Registration:
    """Staff called the family of a promoted child; the "to call" list forgets them."""
    with write_transaction() as s:
        registration = _found(s, Registration, registration_id)
        if registration.called_at is None:
            registration.called_at = utcnow()
        return registration


def to_call(course_id: int | None = None) -> list[Registration]:
    """Children moved up from the waiting list whose family nobody has called yet."""
    stmt = (select(Registration).options(joinedload(Registration.guardian), joinedload(Registration.course))
            .where(Registration.status == "confirmed", Registration.promoted_at.is_not(None),
                   Registration.called_at.is_(None)).order_by(Registration.promoted_at))
    if course_id is not None:
        stmt = stmt.where(Registration.course_id == course_id)
    return list(db.session.scalars(stmt))


# --- Courses and dates (staff) --------------------------------------------------------------

@dataclass
class CourseFields:
    code: str
    title_zh: str
    title_bo: str
    title_en: str
    description_zh: str
    description_bo: str
    description_en: str
    teacher_id: int | None
    age_min: int
    age_max: int
    capacity: int
    starts_on: date
    ends_on: date


def save_course(fields: CourseFields, course_id: int | None = None) -> Course:
    """Create or change a course. A larger capacity seats the front of the waiting list at once;
    a smaller one is refused while children sit in the seats it would remove."""
    code = normalise_course_code(fields.code)
    if code is None:
        raise Refusal("code", _l("Use 2 to 20 letters, digits or dashes, like ENGLISH."), field="code")
    if not CAPACITY_MIN <= fields.capacity <= CAPACITY_MAX:
        raise Refusal("capacity", _l("A class has between %(min)s and %(max)s seats.",
                                     min=CAPACITY_MIN, max=CAPACITY_MAX), field="capacity")
    if not 0 <= fields.age_min <= CHILD_AGE_MAX or not 0 <= fields.age_max <= CHILD_AGE_MAX:
        raise Refusal("ages", _l("Ages are between 0 and %(max)s.", max=CHILD_AGE_MAX), field="age_max")
    if fields.age_min > fields.age_max:
        raise Refusal("ages", _l("The youngest age must not be above the oldest."), field="age_max")
    if fields.starts_on > fields.ends_on:
        raise Refusal("term", _l("The term must end after it starts."), field="ends_on")
    try:
        with write_transaction() as s:
            course = Course() if course_id is None else _locked_course(s, course_id)
            clash = s.scalar(select(Course.id).where(Course.code == code))
            if clash is not None and clash != course_id:
                raise Refusal("code_taken", _l("Another class already uses this code."), field="code")
            old_capacity = course.capacity or 0
            for name, value in vars(fields).items():
                setattr(course, name, value)
            course.code = code
            s.add(course)
            s.flush()
            if fields.capacity > old_capacity:
                s.add_all(CourseSeat(course_id=course.id, number=n)
                          for n in range(old_capacity + 1, fields.capacity + 1))
                s.flush()
                _promote(s, course)
            elif fields.capacity < old_capacity:
                occupied = s.scalar(select(func.count()).select_from(Registration).where(
                    Registration.course_id == course.id, Registration.seat > fields.capacity))
                if occupied:
                    raise Refusal("seats_taken", _l(
                        "Children sit in the seats this would remove. Cancel their places first, "
                        "or keep the capacity."), field="capacity")
                s.execute(delete(CourseSeat).where(CourseSeat.course_id == course.id,
                                                   CourseSeat.number > fields.capacity))
            return course
    except IntegrityError:
        # Every other rule was checked above; only two courses saved with one code at the same
        # moment get here.
        raise Refusal("code_taken", _l("Another class already uses this code."), field="code") from None


def add_schedule(course_id: int, kind: str, weekdays: Iterable[int], starts_at: time, ends_at: time,
                 first_day: date, last_day: date) -> tuple[CourseSchedule, int]:
    """A repeating pattern and its dates; returns it with how many new dates it made.

    A date the course already has (from another pattern) is left as it is.
    """
    if kind not in SCHEDULE_KINDS:
        raise Refusal("kind", _l("Please choose term or holidays."), field="kind")
    days = "".join(sorted({str(int(d)) for d in weekdays if 0 <= int(d) <= 6}))
    if not days:
        raise Refusal("weekdays", _l("Please choose at least one weekday."), field="weekdays")
    if starts_at >= ends_at:
        raise Refusal("times", _l("The class must end after it starts."), field="ends_at")
    if first_day > last_day:
        raise Refusal("days", _l("The last day must not be before the first day."), field="last_day")
    if (last_day - first_day).days > 400:
        raise Refusal("days", _l("Please plan at most one year at a time."), field="last_day")
    with write_transaction() as s:
        _locked_course(s, course_id)
        schedule = CourseSchedule(course_id=course_id, kind=kind, weekdays=days, starts_at=starts_at,
                                  ends_at=ends_at, first_day=first_day, last_day=last_day)
        s.add(schedule)
        have = set(s.scalars(select(ClassSession.day).where(
            ClassSession.course_id == course_id, ClassSession.day.between(first_day, last_day))))
        made = 0
        day = first_day
        while day <= last_day:
            if str(day.weekday()) in days and day not in have:
                s.add(ClassSession(course_id=course_id, day=day, starts_at=starts_at, ends_at=ends_at))
                made += 1
            day += timedelta(days=1)
        s.flush()
        return schedule, made


def cancel_date(session_id: int, note: str | None, staff_id: int) -> ClassSession:
    """No class on this date (a holiday); residents see it on the course page and receipts."""
    with write_transaction() as s:
        session = _found(s, ClassSession, session_id)
        if session.cancelled_at is None:
            session.cancelled_at = utcnow()
            session.cancelled_by_id = staff_id
        session.cancel_note = (note or "").strip()[:200] or None
        return session


def restore_date(session_id: int) -> ClassSession:
    with write_transaction() as s:
        session = _found(s, ClassSession, session_id)
        session.cancelled_at = session.cancelled_by_id = session.cancel_note = None
        return session


# --- Attendance -----------------------------------------------------------------------------

def mark(session_id: int, registration_id: int, mark_: str, staff_id: int) -> Attendance:
    """Present, absent or excused; marking again changes the mark (a tap on the wrong button)."""
    if mark_ not in MARKS:
        raise Refusal("mark", _l("Please choose present, absent or excused."))
    try:
        with write_transaction() as s:
            session = _found(s, ClassSession, session_id)
            if session.cancelled:
                raise Refusal("date_cancelled", _l(
                    "There is no class on %(date)s: this date was cancelled.",
                    date=format_date(session.day, "long")))
            if session.day > hall_today():
                raise Refusal("date_ahead", _l("Attendance can be taken on the day of the class, not before."))
            registration = s.get(Registration, registration_id)
            if registration is None or registration.course_id != session.course_id:
                raise Refusal("no_registration", _l("We could not find this registration."))
            attendance = s.scalar(select(Attendance).where(
                Attendance.session_id == session_id, Attendance.registration_id == registration_id))
            if attendance is None:
                attendance = Attendance(session_id=session_id, registration_id=registration_id)
                s.add(attendance)
            attendance.mark = mark_
            attendance.marked_at = utcnow()
            attendance.marked_by_id = staff_id
            s.flush()
            return attendance
    except IntegrityError:
        # Two taps for the same child raced (two teachers, one tablet and one phone): the
        # first one's row stands; apply this mark to it.
        return mark(session_id, registration_id, mark_, staff_id)


@dataclass(frozen=True)
class RosterLine:
    registration: Registration
    mark: str | None


def roster(session: ClassSession) -> list[RosterLine]:
    """The children with a seat, in seat order, with today's mark; also anyone marked on this
    date who has since left (their mark stays in the history)."""
    marks = {a.registration_id: a.mark for a in db.session.scalars(
        select(Attendance).where(Attendance.session_id == session.id))}
    children = confirmed(session.course_id)
    seated = {r.id for r in children}
    gone = [r for r in db.session.scalars(select(Registration).where(
        Registration.id.in_(set(marks) - seated)).order_by(Registration.child_name))] if set(marks) - seated else []
    return [RosterLine(r, marks.get(r.id)) for r in [*children, *gone]]


def history(registration_id: int) -> list[tuple[ClassSession, str | None]]:
    """Every held date since the child registered, with its mark (None: not taken)."""
    registration = _found(db.session, Registration, registration_id)
    marks = {a.session_id: a.mark for a in db.session.scalars(
        select(Attendance).where(Attendance.registration_id == registration_id))}
    # Stored in UTC; the hall's day began eight hours earlier.
    registered_on = to_user_timezone(registration.created_at).date()
    held = db.session.scalars(select(ClassSession).where(
        ClassSession.course_id == registration.course_id, ClassSession.day <= hall_today(),
        ClassSession.cancelled_at.is_(None),
        ClassSession.day >= registered_on).order_by(ClassSession.day.desc()))
    lines = [(s, marks.pop(s.id, None)) for s in held]
    if marks:  # marks on dates before the registration day (entered by staff afterwards)
        for s in db.session.scalars(select(ClassSession).where(ClassSession.id.in_(marks))):
            lines.append((s, marks[s.id]))
        lines.sort(key=lambda line: line[0].day, reverse=True)
    return lines


def absent_in_a_row(course_id: int) -> list[tuple[Registration, int]]:
    """Children with a seat whose last ABSENCES_IN_A_ROW marks are all 'absent' (not excused).

    Dates with no mark are skipped: a teacher who forgot the roster does not make a child absent.
    """
    rows = db.session.execute(
        select(Attendance.registration_id, Attendance.mark)
        .join(ClassSession, ClassSession.id == Attendance.session_id)
        .join(Registration, Registration.id == Attendance.registration_id)
        .where(Registration.course_id == course_id, Registration.status == "confirmed",
               ClassSession.cancelled_at.is_(None))
        .order_by(Attendance.registration_id, ClassSession.day.desc())).all()
    streaks: dict[int, int] = {}
    broken: set[int] = set()
    for registration_id, mark_ in rows:
        if registration_id in broken:
            continue
        if mark_ == "absent":
            streaks[registration_id] = streaks.get(registration_id, 0) + 1
        else:
            broken.add(registration_id)
    flagged = [rid for rid, n in streaks.items() if n >= ABSENCES_IN_A_ROW]
    if not flagged:
        return []
    registrations = db.session.scalars(select(Registration).options(joinedload(Registration.guardian))
                                       .where(Registration.id.in_(flagged)).order_by(Registration.seat))
    return [(r, streaks[r.id]) for r in registrations]


def attendance_grid(course_id: int, start: date, end: date) -> tuple[list[ClassSession], list[Registration], dict]:
    """The attendance overview: dates as columns, children as rows, {(registration, session): mark}."""
    dates = [s for s in sessions(course_id, start=start) if s.day <= end]
    marks = dict(((a.registration_id, a.session_id), a.mark) for a in db.session.scalars(
        select(Attendance).where(Attendance.session_id.in_([s.id for s in dates])))) if dates else {}
    marked = {rid for rid, _ in marks}
    children = list(db.session.scalars(
        select(Registration).where(Registration.course_id == course_id,
                                   (Registration.status == "confirmed") | Registration.id.in_(marked))
        .order_by(Registration.seat.is_(None), Registration.seat, Registration.child_name)))
    return dates, children, marks

