"""The class rules, through the domain actions of kiosk.classes, on SQLite and on PostgreSQL:
dates, seats and the waiting list, one place per child, consent, cancelling and moving up,
attendance and absences, capacity changes, and the constraints the database keeps by itself."""
import threading
import time
from datetime import time as clock
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from kiosk import classes
from kiosk.database import is_sqlite, write_transaction
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import Attendance, ClassSession, Course, CourseSeat, Registration
from kiosk.models.classes import GRADES
from kiosk.models.base import utcnow
from tests.conftest import token
from tests.test_lending import refused

MORNING, NOON = clock(9, 0), clock(11, 0)


def fields(**changes) -> classes.CourseFields:
    today = hall_today()
    values = dict(code="ENGLISH", title_zh="英语班", title_bo="དབྱིན་ཡིག", title_en="English class",
                  description_zh="", description_bo="", description_en="", teacher_id=None,
                  age_min=6, age_max=13, capacity=3, starts_on=today - timedelta(days=60),
                  ends_on=today + timedelta(days=120))
    return classes.CourseFields(**{**values, **changes})


def new_course(**changes) -> int:
    return classes.save_course(fields(**changes)).id


def register(course_id, guardian, child="Tashi Dolma", age=9, grade=None, consent=True, form_token=None):
    return classes.register(course_id, guardian, child, age, grade, consent, form_token or token(), "phone")


def families(hall, n: int, first: int = 0) -> list[int]:
    """n guardians with their own mobile numbers."""
    return [hall.resident(mobile=f"1370000{k:04d}", name=f"家长{k}") for k in range(first, first + n)]


def fill(hall, course_id, n: int) -> list[Registration]:
    """n children of n families, registered one after the other."""
    return [register(course_id, g, child=f"Child {k}") for k, g in enumerate(families(hall, n))]


def state(course_id) -> list[tuple]:
    """Every registration of the course as (id, status, seat, ticket), fresh from the database."""
    db.session.expire_all()
    return list(db.session.execute(select(Registration.id, Registration.status, Registration.seat,
                                          Registration.wait_ticket)
                                   .where(Registration.course_id == course_id).order_by(Registration.id)))


def places(course_id) -> list[int]:
    return [classes.waiting_place(r) for r in classes.waiting_list(course_id)]


def next_weekday(weekday: int, after=None):
    """The first `weekday` (Monday = 0) strictly after `after` (today)."""
    day = (after or hall_today()) + timedelta(days=1)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


# --- Dates ----------------------------------------------------------------------------------

def test_saturdays_and_a_holiday_block_make_their_dates_once(any_hall):
    course = new_course()
    saturday = next_weekday(5)
    _, made = classes.add_schedule(course, "term", [5], MORNING, NOON, saturday, saturday + timedelta(weeks=7))
    assert made == 8
    monday = next_weekday(0, after=saturday)
    _, made = classes.add_schedule(course, "holiday", range(5), clock(14), clock(16),
                                   monday, monday + timedelta(days=11))
    assert made == 10  # two weeks, Monday to Friday

    days = [s.day for s in classes.sessions(course)]
    assert len(days) == len(set(days)) == 18
    assert {d.weekday() for d in days if d < monday or d > monday + timedelta(days=11)} == {5}
    assert sorted(d.weekday() for d in days if monday <= d <= monday + timedelta(days=11)) == \
        sorted([0, 1, 2, 3, 4] * 2 + [5])  # the Saturday in between belongs to the term

    # A pattern overlapping dates the course has keeps those dates as they are.
    _, made = classes.add_schedule(course, "term", [5, 6], clock(15), clock(17), saturday,
                                   saturday + timedelta(days=8))
    assert made == 2  # the two Sundays; both Saturdays were there
    sessions = classes.sessions(course)
    assert len({s.day for s in sessions}) == len(sessions) == 20
    assert next(s for s in sessions if s.day == saturday).starts_at == MORNING

    refused("weekdays", classes.add_schedule, course, "term", [], MORNING, NOON, saturday, saturday)
    refused("times", classes.add_schedule, course, "term", [5], NOON, MORNING, saturday, saturday)
    refused("days", classes.add_schedule, course, "term", [5], MORNING, NOON, saturday, saturday - timedelta(1))


def test_a_cancelled_date_stays_listed_and_can_be_restored(any_hall):
    course = new_course()
    classes.add_schedule(course, "term", [5], MORNING, NOON, hall_today(), hall_today() + timedelta(weeks=4))
    first = classes.next_dates(course)[0]

    classes.cancel_date(first.id, "  Losar  ", any_hall.admin_id)
    classes.cancel_date(first.id, "Losar holiday", any_hall.admin_id)  # a second tap keeps the first time
    again = db.session.get(ClassSession, first.id)
    assert again.cancelled and again.cancel_note == "Losar holiday"
    assert classes.next_dates(course)[0].id == first.id  # residents still see "no class that day"
    assert first.id not in {s.id for s in classes.sessions(course, include_cancelled=False)}

    classes.restore_date(first.id)
    again = db.session.get(ClassSession, first.id)
    assert not again.cancelled and again.cancel_note is None and again.cancelled_by_id is None
    assert first.id in {s.id for s in classes.sessions(course, include_cancelled=False)}


# --- Registering ----------------------------------------------------------------------------

def test_seats_fill_first_then_the_waiting_list_in_order(any_hall):
    course = new_course(capacity=3)
    registrations = fill(any_hall, course, 6)
    assert [(r.status, r.seat) for r in registrations[:3]] == [("confirmed", n) for n in (1, 2, 3)]
    assert [r.status for r in registrations[3:]] == ["waiting"] * 3
    assert [classes.waiting_place(r) for r in registrations] == [None] * 3 + [1, 2, 3]
    assert [r.id for r in classes.waiting_list(course)] == [r.id for r in registrations[3:]]
    assert classes.seats(db.session.get(Course, course)) == classes.Seats(capacity=3, taken=3, waiting=3)


def test_the_same_form_sent_twice_is_one_registration(any_hall):
    course = new_course()
    guardian, other = families(any_hall, 2)
    form = token()
    first = register(course, guardian, form_token=form)
    again = register(course, guardian, form_token=form)
    assert again.id == first.id and again.receipt == first.receipt
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 1
    refused("stale_form", register, course, other, form_token=form)  # not someone else's form


def test_a_child_holds_one_place_however_the_name_is_typed(any_hall):
    course = new_course(capacity=1)
    guardian, other = families(any_hall, 2)
    seated = register(course, guardian, child="Tashi Dolma")
    for typed in ["  tashi   DOLMA ", "Ｔａｓｈｉ Ｄｏｌｍａ", "TASHI\tdolma"]:
        refusal = refused("already_registered", register, course, guardian, child=typed)
        assert refusal.field == "child_name"
    # Another family's Tashi Dolma is another child: she waits for a seat.
    assert register(course, other, child="Tashi Dolma").status == "waiting"
    # Once her place is cancelled, the same child may register again.
    classes.cancel(seated.id, by="guardian")
    assert register(course, guardian, child="tashi dolma").status == "waiting"


def test_the_age_or_the_grade_must_fit_the_class(any_hall):
    course = new_course(age_min=6, age_max=13)
    guardian = any_hall.resident()
    for age, reason in [(5, "age_range"), (14, "age_range"), (1, "age"), (18, "age")]:
        assert refused(reason, register, course, guardian, child=f"Age {age}", age=age).field == "child_age"
    assert register(course, guardian, child="Age 6", age=6).child_age == 6
    assert register(course, guardian, child="Age 13", age=13).child_age == 13

    # A grade stands for its usual age: the class takes the grades whose age fits.
    for grade, usual_age in GRADES.items():
        assert classes.age_for(None, grade) == usual_age
        if 6 <= usual_age <= 13:
            registration = register(course, guardian, child=f"Grade {grade}", age=None, grade=grade)
            assert (registration.child_age, registration.child_grade) == (None, grade)
        else:
            assert refused("age_range", register, course, guardian, child=f"Grade {grade}", age=None,
                           grade=grade).field == "child_grade"
    assert classes.age_for(10, "k") == 10  # a given age wins over the grade
    refused("grade", register, course, guardian, child="No such grade", age=None, grade="x9")
    refused("age_missing", register, course, guardian, child="Neither", age=None, grade=None)


def test_the_childs_data_needs_the_guardians_consent(any_hall):
    course = new_course()
    refusal = refused("guardian_consent", register, course, any_hall.resident(), consent=False)
    assert refusal.field == "guardian_consent"
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0
    assert register(course, any_hall.resident()).guardian_consent_at is not None


# --- Cancelling and moving up ---------------------------------------------------------------

def test_a_cancellation_moves_up_exactly_the_first_waiting(any_hall):
    course = new_course(capacity=3)
    registrations = fill(any_hall, course, 7)
    seated, waiting = registrations[:3], registrations[3:]
    tickets = {r.id: r.wait_ticket for r in waiting}

    ended = classes.cancel(seated[1].id, by="guardian")
    assert ended.registration.status == "cancelled" and ended.registration.end_reason == "guardian"
    [promoted] = ended.promoted
    assert promoted.id == waiting[0].id and promoted.seat == 2 and promoted.promoted_at is not None
    assert [r.id for r in classes.to_call(course)] == [waiting[0].id]
    assert [r.id for r in classes.waiting_list(course)] == [r.id for r in waiting[1:]]
    assert places(course) == [1, 2, 3]
    # Tickets are never renumbered; only the counted places move up.
    assert {r.id: r.wait_ticket for r in classes.waiting_list(course)} == \
        {r.id: tickets[r.id] for r in waiting[1:]}

    before = state(course)
    assert classes.cancel(seated[1].id, by="guardian").promoted == []  # a double tap
    assert state(course) == before

    # A waiting child who gives up: nobody moves to a seat, the places behind close the gap.
    assert classes.cancel(waiting[2].id, by="staff", staff_id=any_hall.admin_id).promoted == []
    assert [r.id for r in classes.waiting_list(course)] == [waiting[1].id, waiting[3].id]
    assert places(course) == [1, 2]
    assert sorted(r.seat for r in classes.confirmed(course)) == [1, 2, 3]


def test_only_a_seated_child_can_be_released(any_hall):
    course = new_course(capacity=1)
    seated, waiting = fill(any_hall, course, 2)
    refused("not_confirmed", classes.release_seat, waiting.id, any_hall.admin_id)
    assert classes.waiting_place(db.session.get(Registration, waiting.id)) == 1

    ended = classes.release_seat(seated.id, any_hall.admin_id)
    assert (ended.registration.status, ended.registration.end_reason) == ("released", "absences")
    assert [(r.id, r.seat) for r in ended.promoted] == [(waiting.id, 1)]
    refused("no_registration", classes.cancel, 10_000, by="guardian")


# --- Attendance -----------------------------------------------------------------------------

def daily_dates(course_id, first_day, last_day) -> list[ClassSession]:
    classes.add_schedule(course_id, "holiday", range(7), MORNING, NOON, first_day, last_day)
    return [s for s in classes.sessions(course_id) if first_day <= s.day <= last_day]


def test_three_unexcused_absences_in_a_row_are_flagged(any_hall):
    course = new_course(capacity=4)
    today = hall_today()
    d = [None, *daily_dates(course, today - timedelta(days=10), today - timedelta(days=1))]  # d[10]: yesterday
    a, b, c, e = fill(any_hall, course, 4)
    marks = {
        a: {7: "present", 8: "absent", 9: "absent", 10: "absent"},
        b: {6: "absent", 7: "absent", 8: "excused", 9: "absent", 10: "absent"},  # excused breaks it
        c: {5: "present", 6: "absent", 8: "absent", 10: "absent"},  # unmarked dates are skipped
        e: {2: "present", 3: "absent", 9: "absent", 10: "absent"},  # d[3] is cancelled below
    }
    for registration, days in marks.items():
        for n, mark in days.items():
            classes.mark(d[n].id, registration.id, mark, any_hall.admin_id)

    def flagged():
        return {r.id: n for r, n in classes.absent_in_a_row(course)}

    assert flagged() == {a.id: 3, c.id: 3, e.id: 3}
    classes.cancel_date(d[3].id, "flood", any_hall.admin_id)
    assert flagged() == {a.id: 3, c.id: 3}  # absences on a cancelled date do not count
    classes.mark(d[10].id, a.id, "excused", any_hall.admin_id)  # the teacher corrects a mark
    assert flagged() == {c.id: 3}
    classes.release_seat(c.id, any_hall.admin_id)
    assert flagged() == {}  # only children with a seat are flagged


def test_attendance_is_taken_on_held_dates_and_corrected_in_place(any_hall):
    course = new_course()
    today = hall_today()
    yesterday, today_, tomorrow = daily_dates(course, today - timedelta(days=1), today + timedelta(days=1))
    child = register(course, any_hall.resident())
    classes.cancel_date(yesterday.id, None, any_hall.admin_id)

    refused("date_cancelled", classes.mark, yesterday.id, child.id, "present", any_hall.admin_id)
    refused("date_ahead", classes.mark, tomorrow.id, child.id, "present", any_hall.admin_id)
    refused("mark", classes.mark, today_.id, child.id, "late", any_hall.admin_id)
    other = new_course(code="ART")
    stranger = register(other, any_hall.resident(mobile="13700000099", name="别人"))
    refused("no_registration", classes.mark, today_.id, stranger.id, "present", any_hall.admin_id)

    first = classes.mark(today_.id, child.id, "present", any_hall.admin_id)
    second = classes.mark(today_.id, child.id, "absent", any_hall.admin_id)  # the wrong button
    assert second.id == first.id
    rows = db.session.execute(select(Attendance.session_id, Attendance.mark)).all()
    assert rows == [(today_.id, "absent")]
    assert [line.mark for line in classes.roster(db.session.get(ClassSession, today_.id))] == ["absent"]


# --- Capacity -------------------------------------------------------------------------------

def seat_rows(course_id) -> list[int]:
    return list(db.session.scalars(select(CourseSeat.number).where(CourseSeat.course_id == course_id)
                                   .order_by(CourseSeat.number)))


def test_more_seats_seat_the_front_of_the_waiting_list_at_once(any_hall):
    course = new_course(capacity=2)
    registrations = fill(any_hall, course, 5)
    classes.save_course(fields(capacity=4), course)
    assert seat_rows(course) == [1, 2, 3, 4]
    db.session.expire_all()
    assert [(r.status, r.seat) for r in registrations] == [("confirmed", n) for n in (1, 2, 3, 4)] + \
        [("waiting", None)]
    assert [r.id for r in classes.to_call(course)] == [registrations[2].id, registrations[3].id]
    assert places(course) == [1]


def test_fewer_seats_are_refused_while_a_child_sits_in_them(any_hall):
    course = new_course(capacity=4)
    fill(any_hall, course, 3)
    refusal = refused("seats_taken", classes.save_course, fields(capacity=2), course)
    assert refusal.field == "capacity"
    assert db.session.get(Course, course).capacity == 4 and seat_rows(course) == [1, 2, 3, 4]
    classes.save_course(fields(capacity=3), course)  # seat 4 is free
    assert db.session.get(Course, course).capacity == 3 and seat_rows(course) == [1, 2, 3]
    assert classes.seats(db.session.get(Course, course)).free == 0


def test_course_fields_are_checked(any_hall):
    new_course(code="english")
    assert classes.find_course(" English ").code == "ENGLISH"
    refused("code_taken", new_course, code="ENGLISH")
    refused("code", new_course, code="ENGLISH CLASS FOR EVERY CHILD")
    refused("ages", new_course, code="ART", age_min=10, age_max=8)
    refused("term", new_course, code="ART", ends_on=hall_today() - timedelta(days=100))


# --- What the database refuses by itself ------------------------------------------------------

def raw_registration(course_id, guardian_id, **columns) -> Registration:
    """A registration row written past kiosk.classes, as a bug or a hand-edit would."""
    values = dict(course_id=course_id, guardian_id=guardian_id, child_name="Pema", child_key="pema",
                  child_age=9, guardian_consent_at=utcnow(), form_token=token(),
                  receipt=token()[:8], channel="staff", status="waiting")
    return Registration(**{**values, **columns})


def db_refuses(*constraint_names, rows=(), change=None):
    """Adding `rows` (or running `change`) fails with the database naming one of the constraints.

    SQLite names the columns ("UNIQUE constraint failed: registration.course_id, registration.seat"),
    PostgreSQL the constraint; a foreign key failure in SQLite names nothing.
    """
    with pytest.raises(IntegrityError) as info:
        with write_transaction() as s:
            s.add_all(rows)
            if change is not None:
                s.execute(change)
            s.flush()
    message = str(info.value.orig)
    assert any(name in message for name in constraint_names), message


def test_the_database_keeps_one_child_per_seat(any_hall):
    course = new_course(capacity=3)
    guardian, other = families(any_hall, 2)
    register(course, guardian)
    db_refuses("uq_registration_course_seat", "registration.course_id, registration.seat",
               rows=[raw_registration(course, other, status="confirmed", seat=1)])
    with write_transaction() as s:  # the same row in a free seat is fine: the seat was the problem
        s.add(raw_registration(course, other, status="confirmed", seat=2))


def test_the_database_has_no_seat_above_the_capacity(any_hall):
    course = new_course(capacity=3)
    guardian = any_hall.resident()
    db_refuses("fk_registration_seat_course_seat", "FOREIGN KEY constraint failed",
               rows=[raw_registration(course, guardian, status="confirmed", seat=4)])
    db_refuses("seat_iff_confirmed", rows=[raw_registration(course, guardian, status="waiting", seat=1,
                                                             wait_ticket=1)])
    with write_transaction() as s:
        s.add(raw_registration(course, guardian, status="confirmed", seat=3))


def test_the_database_keeps_one_live_place_per_child(any_hall):
    course = new_course(capacity=1)
    guardian, other = families(any_hall, 2)
    seated = register(course, guardian, child="Pema")
    register(course, other, child="Dawa")  # waits; moves up when Pema's place is cancelled
    live_child = ("uq_registration_live_child",
                  "registration.course_id, registration.guardian_id, registration.child_key")
    db_refuses(*live_child, rows=[raw_registration(course, guardian, wait_ticket=7)])

    classes.cancel(seated.id, by="guardian")
    again = register(course, guardian, child="pema")  # allowed: the first place is cancelled
    assert again.status == "waiting"
    # Bringing the cancelled place back to life would make two.
    db_refuses(*live_child, change=update(Registration).where(Registration.id == seated.id)
               .values(status="waiting", wait_ticket=99))
    db_refuses("uq_registration_course_wait_ticket", "registration.course_id, registration.wait_ticket",
               rows=[raw_registration(course, other, child_key="someone", wait_ticket=again.wait_ticket)])


# --- Two workers at once ----------------------------------------------------------------------

def _blocked_behind(holder_pid: int) -> int:
    """How many PostgreSQL sessions wait, directly or in the queue, for the lock `holder_pid` holds."""
    rows = db.session.execute(text("SELECT pid, pg_blocking_pids(pid) FROM pg_stat_activity "
                                   "WHERE wait_event_type = 'Lock'")).all()
    db.session.rollback()  # pg_stat_activity is a snapshot per transaction
    behind, grew = {holder_pid}, True
    while grew:
        more = {pid for pid, blockers in rows if set(blockers) & behind} - behind
        behind |= more
        grew = bool(more)
    return len(behind) - 1


def test_a_double_tap_reaching_two_workers_is_still_one_registration(any_hall, ctx):
    """The same form arrives at two workers while a third holds the course (another family
    registering): both wait, then both must answer with the same registration."""
    course = new_course()
    guardian = any_hall.resident()
    form = token()
    locked, release = threading.Event(), threading.Event()
    holder, answers = {}, {}

    def hold_the_course():
        with ctx.app_context():
            with write_transaction() as s:
                s.scalar(select(Course).where(Course.id == course).with_for_update())
                if not is_sqlite():
                    holder["pid"] = s.scalar(text("SELECT pg_backend_pid()"))
                locked.set()
                release.wait(10)

    def tap(n):
        with ctx.app_context():
            try:
                answers[n] = register(course, guardian, form_token=form).id
            except Exception as error:  # noqa: BLE001 - compared below
                answers[n] = repr(error)

    threads = [threading.Thread(target=hold_the_course)]
    threads[0].start()
    assert locked.wait(10)
    threads += [threading.Thread(target=tap, args=(n,)) for n in range(2)]
    for thread in threads[1:]:
        thread.start()
    deadline = time.monotonic() + 10
    if is_sqlite():
        time.sleep(0.5)  # both wait in BEGIN IMMEDIATE; SQLite cannot show who waits
    else:
        while _blocked_behind(holder["pid"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    release.set()
    for thread in threads:
        thread.join(20)

    ids = db.session.scalars(select(Registration.id)).all()
    assert len(ids) == 1
    assert answers == {0: ids[0], 1: ids[0]}, answers
