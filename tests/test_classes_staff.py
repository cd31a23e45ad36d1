"""The back office of the courses, through the Flask client: creating and editing a course, its
dates, registering at the desk, cancelling and the waiting list, the "to call" list, releasing
the seat of a child absent three times, what a teacher may see, the roster and the exports."""
import re
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from kiosk import classes
from kiosk.auth import create_staff
from kiosk.database import write_transaction
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import ClassSession, Course, CourseSeat, Registration, Resident
from kiosk.models.classes import GRADES
from tests.conftest import token
from tests.test_security import login, snapshot
from tests.test_staff import read_csv, staff, text  # noqa: F401  (staff is a fixture)

TEACHER_PASSWORD = "teacher password 1"


def make_course(capacity=2, teacher_id=None, code="ENGLISH", **changes) -> int:
    today = hall_today()
    fields = dict(code=code, title_zh="英语班", title_bo="དབྱིན་ཡིག་སློབ་ཚན།", title_en="Saturday English",
                  description_zh="", description_bo="", description_en="", teacher_id=teacher_id,
                  age_min=6, age_max=12, capacity=capacity, starts_on=today - timedelta(days=30),
                  ends_on=today + timedelta(days=90))
    return classes.save_course(classes.CourseFields(**(fields | changes))).id


def enrol(hall, course_id, child, mobile, guardian="次仁", age=8) -> Registration:
    """A registration from the tablet, as a family would make it."""
    return classes.register(course_id, hall.resident(mobile, guardian), child, age, None, True,
                            token(), channel="kiosk")


def fresh(model, id_):
    row = db.session.get(model, id_)
    db.session.refresh(row)
    return row


def past_dates(course_id, days=5) -> list[ClassSession]:
    """A class every day of the last `days` days (newest last)."""
    today = hall_today()
    classes.add_schedule(course_id, "term", range(7), time(9), time(10),
                         today - timedelta(days=days), today - timedelta(days=1))
    return classes.sessions(course_id)


COURSE_FORM = {"code": "english-2", "title_zh": "英语班", "title_bo": "དབྱིན་ཡིག", "title_en": "Saturday English",
               "description_zh": "每周六", "description_bo": "", "description_en": "Every Saturday",
               "teacher_id": "", "age_min": "7", "age_max": "11", "capacity": "12",
               "starts_on": "2031-03-01", "ends_on": "2031-06-28"}


# --- Courses ------------------------------------------------------------------------------------

def test_create_a_course_through_the_form_and_see_it_listed(staff, hall):
    teacher = create_staff("yangchen", TEACHER_PASSWORD, role="teacher", display_name="Ms Yangchen")
    response = staff.post("/staff/classes/new", data=COURSE_FORM | {"teacher_id": str(teacher.id)})
    assert response.status_code == 303
    course = db.session.scalar(select(Course))
    assert response.headers["Location"].endswith(f"/staff/classes/{course.id}")
    assert (course.code, course.title_en, course.description_zh, course.teacher_id, course.age_min,
            course.age_max, course.capacity, str(course.starts_on), str(course.ends_on)) == \
        ("ENGLISH-2", "Saturday English", "每周六", teacher.id, 7, 11, 12, "2031-03-01", "2031-06-28")
    assert db.session.scalar(select(func.count()).select_from(CourseSeat)) == 12
    assert "was saved" in text(staff.get(response.headers["Location"]))
    listed = text(staff.get("/staff/classes"))
    assert "ENGLISH-2" in listed and "Ms Yangchen" in listed and "0 of 12" in listed
    assert 'href="/staff/classes/new"' in listed


@pytest.mark.parametrize("changes, field, message", [
    ({"capacity": "abc"}, "capacity", "Please give the number of seats, from 1 to 200."),
    ({"capacity": "0"}, "capacity", "Please give the number of seats, from 1 to 200."),
    ({"age_min": ""}, "age_min", "Please give an age in years from 2 to 17."),
    ({"starts_on": "2031-13-01"}, "starts_on", "Please give a date like 2025-03-01."),
    ({"code": ""}, "code", "Please give the class a code."),
    ({"code": "英语"}, "code", "Use 2 to 20 letters, digits or dashes"),  # refused by kiosk.classes
    ({"age_min": "12", "age_max": "8"}, "age_max", "The youngest age must not be above the oldest."),
    ({"ends_on": "2031-01-01"}, "ends_on", "The term must end after it starts."),
])
def test_bad_course_input_is_shown_next_to_its_field_and_kept(staff, hall, changes, field, message):
    response = staff.post("/staff/classes/new", data=COURSE_FORM | changes)
    assert response.status_code == 422
    page = text(response)
    error = re.search(rf'<p class="error" id="{field}-error"[^>]*>([^<]*)</p>', page)
    assert error and message in error.group(1)
    # What was typed is still there (the Chinese title, and the bad value itself).
    assert 'value="英语班"' in page
    for name, value in changes.items():
        if value:
            assert re.search(rf'name="{name}"[^>]*value="{value}"', page), name
    assert db.session.scalar(select(func.count()).select_from(Course)) == 0


def test_capacity_below_the_seats_taken_is_refused_next_to_capacity(staff, hall):
    course_id = make_course(capacity=3)
    for n, mobile in enumerate(("13800138001", "13800138002", "13800138003")):
        enrol(hall, course_id, f"Child {n}", mobile, guardian=f"Parent {n}")
    form = COURSE_FORM | {"code": "ENGLISH", "capacity": "2"}
    response = staff.post(f"/staff/classes/{course_id}/edit", data=form)
    assert response.status_code == 422
    assert re.search(r'id="capacity-error"[^>]*>Children sit in the seats this would remove', text(response))
    assert fresh(Course, course_id).capacity == 3


def test_more_seats_move_the_waiting_list_up_and_say_whom_to_call(staff, hall):
    course_id = make_course(capacity=1)
    enrol(hall, course_id, "Tashi", "13800138001", guardian="Dolma")
    waiting = enrol(hall, course_id, "Pema", "13900139002", guardian="Lhamo")
    edit = text(staff.get(f"/staff/classes/{course_id}/edit"))
    assert re.search(r'name="capacity"[^>]*value="1"', edit)
    response = staff.post(f"/staff/classes/{course_id}/edit", data=COURSE_FORM | {"code": "ENGLISH", "capacity": "2"})
    assert response.status_code == 303
    assert (fresh(Registration, waiting.id).status, fresh(Registration, waiting.id).seat) == ("confirmed", 2)
    page = text(staff.get(response.headers["Location"]))
    assert "Pema moved up from the waiting list: please call Lhamo at 13900139002." in page


# --- Dates --------------------------------------------------------------------------------------

def test_add_dates_then_cancel_one_and_restore_it(staff, hall):
    course_id = make_course()
    first = hall_today() + timedelta(days=1)
    last = first + timedelta(days=27)  # four weeks: four of each weekday
    response = staff.post(f"/staff/classes/{course_id}/dates", data={
        "kind": "term", "weekdays": ["2", "5"], "starts_at": "09:00", "ends_at": "10:30",
        "first_day": first.isoformat(), "last_day": last.isoformat()})
    assert response.status_code == 303 and response.headers["Location"].endswith("#dates")
    dates = classes.sessions(course_id)
    assert len(dates) == 8 and {d.day.weekday() for d in dates} == {2, 5}
    assert all((d.starts_at, d.ends_at) == (time(9), time(10, 30)) for d in dates)
    assert "8 dates added." in text(staff.get(f"/staff/classes/{course_id}"))

    day = dates[0]
    response = staff.post(f"/staff/classes/sessions/{day.id}/cancel", data={"note": "National Day"})
    assert response.status_code == 303
    cancelled = fresh(ClassSession, day.id)
    assert cancelled.cancelled and cancelled.cancel_note == "National Day"
    assert cancelled.cancelled_by_id == hall.admin_id
    page = text(staff.get(f"/staff/classes/{course_id}"))
    row = re.search(r'<tr class="is-cancelled">.*?</tr>', page, re.S).group(0)
    assert "Cancelled" in row and "National Day" in row and f"/staff/classes/sessions/{day.id}/restore" in row

    assert staff.post(f"/staff/classes/sessions/{day.id}/restore").status_code == 303
    restored = fresh(ClassSession, day.id)
    assert not restored.cancelled and restored.cancel_note is None


@pytest.mark.parametrize("changes, field, message", [
    ({"weekdays": []}, "weekdays", "Please choose at least one weekday."),
    ({"starts_at": "nine"}, "starts_at", "Please give a time like 09:30."),
    ({"ends_at": "08:00"}, "ends_at", "The class must end after it starts."),  # from kiosk.classes
    ({"last_day": "2031-01-01"}, "last_day", "The last day must not be before the first day."),
])
def test_bad_dates_are_refused_next_to_their_field(staff, hall, changes, field, message):
    course_id = make_course()
    data = {"kind": "term", "weekdays": ["5"], "starts_at": "09:00", "ends_at": "10:30",
            "first_day": "2031-03-01", "last_day": "2031-06-28"} | changes
    response = staff.post(f"/staff/classes/{course_id}/dates", data=data)
    assert response.status_code == 422
    assert re.search(rf'id="{field}-error"[^>]*>[^<]*{re.escape(message)}', text(response))
    assert classes.sessions(course_id) == []


# --- Registering at the desk ---------------------------------------------------------------------

def desk_form(child, mobile, guardian, **changes):
    return {"mobile": mobile, "name": guardian, "consent": "y", "child_name": child, "child_age": "8",
            "child_grade": "", "guardian_consent": "y", "token": token()} | changes


def test_desk_registration_fills_the_seats_then_the_waiting_list(staff, hall):
    course_id = make_course(capacity=2)
    assert 'name="token"' in text(staff.get(f"/staff/classes/{course_id}/register"))
    flashes = []
    for child, mobile, guardian in (("Tashi", "13800138001", "Dolma"), ("Pema", "13800138002", "Lhamo"),
                                    ("Norbu", "13800138003", "Tsering")):
        response = staff.post(f"/staff/classes/{course_id}/register",
                              data=desk_form(child, mobile, guardian, child_age="", child_grade="p3"))
        assert response.status_code == 303 and response.headers["Location"].endswith(f"/staff/classes/{course_id}")
        flashes.append(text(staff.get(response.headers["Location"])))
    rows = db.session.scalars(select(Registration).order_by(Registration.id)).all()
    assert [(r.child_name, r.status, r.seat, r.channel, r.created_by_id, r.child_grade) for r in rows] == [
        ("Tashi", "confirmed", 1, "staff", hall.admin_id, "p3"),
        ("Pema", "confirmed", 2, "staff", hall.admin_id, "p3"),
        ("Norbu", "waiting", None, "staff", hall.admin_id, "p3")]
    assert f"Tashi is registered: seat 1. Receipt code: {classes.format_receipt(rows[0].receipt)}." in flashes[0]
    assert f"Norbu is on the waiting list, place 1. Receipt code: {classes.format_receipt(rows[2].receipt)}." \
        in flashes[2]
    # The guardians are residents now, with their consent on record.
    guardian = db.session.scalar(select(Resident).where(Resident.mobile == "13800138003"))
    assert guardian.name == "Tsering" and guardian.consent_at is not None
    assert "Grade 3 (primary)" in flashes[2]


def test_desk_registration_needs_both_consents_and_keeps_what_was_typed(staff, hall):
    course_id = make_course()
    data = desk_form("Tashi", "13800138001", "Dolma")
    del data["consent"], data["guardian_consent"]
    response = staff.post(f"/staff/classes/{course_id}/register", data=data)
    assert response.status_code == 422
    page = text(response)
    assert re.search(r'id="consent-error"[^>]*>Please tick this once the guardian has signed', page)
    assert re.search(r'id="guardian_consent-error"[^>]*>Children(&#39;|.)s details need the guardian', page)
    assert 'value="Tashi"' in page and 'value="13800138001"' in page
    assert f'value="{data["token"]}"' in page  # the same token: a second try still registers once
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0
    assert db.session.scalar(select(func.count()).select_from(Resident)) == 0


def test_desk_registration_refusals_sit_next_to_their_field(staff, hall):
    course_id = make_course()
    hall.resident("13800138001", "Dolma")
    # The number belongs to someone else's name; the child is too old for this class.
    response = staff.post(f"/staff/classes/{course_id}/register",
                          data=desk_form("Tashi", "13800138001", "Someone Else"))
    assert response.status_code == 422
    assert re.search(r'id="name-error"[^>]*>This mobile number is registered under another name', text(response))
    response = staff.post(f"/staff/classes/{course_id}/register",
                          data=desk_form("Tashi", "13800138001", "Dolma", child_age="15"))
    assert response.status_code == 422
    assert re.search(r'id="child_age-error"[^>]*>This class is for children aged 6 to 12.', text(response))
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0


def test_a_double_click_at_the_desk_registers_once(staff, hall):
    course_id = make_course()
    data = desk_form("Tashi", "13800138001", "Dolma")
    assert staff.post(f"/staff/classes/{course_id}/register", data=data).status_code == 303
    assert staff.post(f"/staff/classes/{course_id}/register", data=data).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 1


# --- Cancelling, the waiting list and the calls -------------------------------------------------

@pytest.fixture
def full_course(hall):
    """One seat: Tashi sits in it; Pema then Norbu wait."""
    course_id = make_course(capacity=1)
    seated = enrol(hall, course_id, "Tashi", "13800138001", guardian="Dolma")
    first = enrol(hall, course_id, "Pema", "13900139002", guardian="Lhamo")
    second = enrol(hall, course_id, "Norbu", "13700137003", guardian="Tsering")
    return {"course": course_id, "seated": seated.id, "first": first.id, "second": second.id}


def test_staff_cancel_moves_the_first_waiting_up_and_lists_the_family_to_call(staff, full_course):
    course_id = full_course["course"]
    response = staff.post(f"/staff/classes/registrations/{full_course['seated']}/cancel")
    assert response.status_code == 303
    seated = fresh(Registration, full_course["seated"])
    assert (seated.status, seated.end_reason, seated.ended_by_id) == ("cancelled", "staff", 1)
    promoted = fresh(Registration, full_course["first"])
    assert (promoted.status, promoted.seat) == ("confirmed", 1) and promoted.promoted_at is not None
    assert classes.waiting_place(fresh(Registration, full_course["second"])) == 1

    page = text(staff.get(f"/staff/classes/{course_id}"))
    assert "The place of Tashi is cancelled." in page
    assert "Pema moved up from the waiting list: please call Lhamo at 13900139002." in page
    to_call = re.search(r'<section id="to-call".*?</section>', page, re.S).group(0)
    assert "Pema" in to_call and 'href="tel:13900139002"' in to_call
    assert "Moved up: call them" in page
    # The dashboard says it too, with a link to the course.
    dashboard = text(staff.get("/staff/"))
    assert "Pema" in dashboard and "tel:13900139002" in dashboard
    assert f'href="/staff/classes/{course_id}#to-call"' in dashboard

    response = staff.post(f"/staff/classes/registrations/{full_course['first']}/called")
    assert response.status_code == 303
    assert fresh(Registration, full_course["first"]).called_at is not None
    page = text(staff.get(f"/staff/classes/{course_id}"))
    assert "Nobody to call." in page and "Moved up: call them" not in page


def test_cancelling_from_the_waiting_list_closes_the_gap(staff, full_course):
    assert staff.post(f"/staff/classes/registrations/{full_course['first']}/cancel").status_code == 303
    assert fresh(Registration, full_course["first"]).status == "cancelled"
    assert classes.waiting_place(fresh(Registration, full_course["second"])) == 1
    waiting = re.search(r'<section id="waiting".*?</section>',
                        text(staff.get(f"/staff/classes/{full_course['course']}")), re.S).group(0)
    assert "Norbu" in waiting and "Pema" not in waiting


def test_release_the_seat_of_a_child_absent_three_times_moves_the_waiting_list(staff, hall, full_course):
    course_id = full_course["course"]
    dates = past_dates(course_id)
    classes.mark(dates[0].id, full_course["seated"], "present", hall.admin_id)
    for day in dates[-3:]:
        classes.mark(day.id, full_course["seated"], "absent", hall.admin_id)
    page = text(staff.get(f"/staff/classes/{course_id}"))
    flagged = re.search(r'<section id="flagged".*?</section>', page, re.S).group(0)
    assert "Tashi" in flagged and f"/staff/classes/registrations/{full_course['seated']}/release" in flagged
    assert "the waiting list moves up" in flagged
    assert "Tashi, absent 3 times in a row" in text(staff.get("/staff/"))

    response = staff.post(f"/staff/classes/registrations/{full_course['seated']}/release")
    assert response.status_code == 303
    released = fresh(Registration, full_course["seated"])
    assert (released.status, released.end_reason, released.seat) == ("released", "absences", None)
    assert fresh(Registration, full_course["first"]).seat == 1
    page = text(staff.get(f"/staff/classes/{course_id}"))
    assert "The seat of Tashi is released." in page and "Pema moved up from the waiting list" in page


def test_only_a_child_with_a_seat_can_be_released(staff, full_course):
    response = staff.post(f"/staff/classes/registrations/{full_course['first']}/release")
    assert response.status_code == 409
    assert "Only a child with a seat can give it up." in text(response)
    assert fresh(Registration, full_course["first"]).status == "waiting"


# --- Teachers -----------------------------------------------------------------------------------

@pytest.fixture
def teacher(app, hall):
    user = create_staff("yangchen", TEACHER_PASSWORD, role="teacher", display_name="Ms Yangchen")
    client = app.test_client()
    with client.session_transaction() as session:
        session["lang"] = "en"
    assert login(client, "yangchen", TEACHER_PASSWORD).status_code == 303
    return user.id, client


@pytest.fixture
def taught(teacher, hall, full_course):
    """The full course, taught by the teacher, with yesterday's class marked: (client, course id, date)."""
    teacher_id, client = teacher
    course_id = full_course["course"]
    with write_transaction() as s:
        s.get(Course, course_id).teacher_id = teacher_id
    day = past_dates(course_id)[-1]
    classes.mark(day.id, full_course["seated"], "present", hall.admin_id)
    return client, course_id, day


def test_a_teacher_sees_their_class_with_masked_numbers_and_nothing_else(taught, full_course):
    client, course_id, day = taught
    pages = {}
    for path in ("/staff/classes", f"/staff/classes/{course_id}", f"/staff/classes/sessions/{day.id}/roster",
                 f"/staff/classes/registrations/{full_course['seated']}", f"/staff/classes/{course_id}/attendance"):
        response = client.get(path)
        assert response.status_code == 200, path
        pages[path] = text(response)
        for mobile in ("13800138001", "13900139002", "13700137003"):
            assert mobile not in pages[path], (path, mobile)
    assert "138****8001" in pages[f"/staff/classes/{course_id}"]
    assert "Tashi" in pages[f"/staff/classes/sessions/{day.id}/roster"]
    history = pages[f"/staff/classes/registrations/{full_course['seated']}"]
    assert "Receipt code" not in history  # the code would let anyone cancel the place
    # Nothing to act on: no cancel, release, register or add-dates controls.
    assert "/cancel" not in pages[f"/staff/classes/{course_id}"]
    assert "/register" not in pages[f"/staff/classes/{course_id}"]
    assert 'href="/staff/classes/new"' not in pages["/staff/classes"]

    for path in ("/staff/tools", "/staff/classes/new", f"/staff/classes/{course_id}/edit",
                 f"/staff/classes/{course_id}/registrations.csv", f"/staff/classes/{course_id}/register"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/staff/classes/registrations/{full_course['seated']}/cancel").status_code == 403
    assert fresh(Registration, full_course["seated"]).status == "confirmed"


def test_a_teacher_does_not_see_other_teachers_classes(teacher, hall):
    _teacher_id, client = teacher
    other = make_course(code="DRAWING")
    assert client.get(f"/staff/classes/{other}").status_code == 403
    assert "DRAWING" not in text(client.get("/staff/classes"))


# --- Roster, history, attendance, exports --------------------------------------------------------

def test_the_printable_roster_lists_the_seated_children_with_boxes_to_tick(staff, hall, full_course):
    day = past_dates(full_course["course"])[-1]
    classes.mark(day.id, full_course["seated"], "excused", hall.admin_id)
    page = text(staff.get(f"/staff/classes/sessions/{day.id}/roster"))
    assert "Saturday English" in page and "9:00–10:00" in page and "Ctrl+P" in page
    table = re.search(r'<table class="table roster-table">.*?</table>', page, re.S).group(0)
    assert "Tashi" in table and "138****8001" in table and "13800138001" not in table
    assert "Pema" not in table  # waiting children have no seat in class
    assert "Signature" in table and table.count('class="box"') == 3
    assert "✓<span class=\"sr-only\"> Excused</span>" in table


def test_a_childs_history_counts_their_marks(staff, hall, full_course):
    dates = past_dates(full_course["course"])
    # Registered today: earlier dates count only where a mark was entered afterwards.
    for day, mark in zip(dates[-3:], ("present", "absent", "excused"), strict=True):
        classes.mark(day.id, full_course["seated"], mark, hall.admin_id)
    page = text(staff.get(f"/staff/classes/registrations/{full_course['seated']}"))
    assert "Dolma" in page and 'href="tel:13800138001"' in page
    registration = fresh(Registration, full_course["seated"])
    assert classes.format_receipt(registration.receipt) in page
    counts = re.search(r'<p class="mark-counts">(.*?)</p>', page, re.S).group(1)
    assert re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", counts)).strip() == \
        "Present: 1 · Absent: 1 · Excused: 1 · Not taken: 0"


def test_attendance_overview_marks_and_totals(staff, hall, full_course):
    course_id = full_course["course"]
    dates = past_dates(course_id)
    classes.mark(dates[-1].id, full_course["seated"], "present", hall.admin_id)
    classes.mark(dates[-2].id, full_course["seated"], "absent", hall.admin_id)
    classes.cancel_date(dates[-3].id, "Losar", hall.admin_id)
    page = text(staff.get(f"/staff/classes/{course_id}/attendance"))
    row = re.search(r'<tr>\s*<th scope="row"><a[^>]*>Tashi</a></th>.*?</tr>', page, re.S).group(0)
    assert row.count("✓") == 1 and row.count("✗") == 1 and row.count("–") == 1
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["1", "1", "0"]
    # Only the grid for an htmx request, with a shorter period.
    start = dates[-1].day.isoformat()
    partial = staff.get(f"/staff/classes/{course_id}/attendance?from={start}&to={start}",
                        headers={"HX-Request": "true"})
    assert "<html" not in text(partial) and text(partial).count('class="mark-col mark-') == 1


def test_csv_exports_have_the_rows(staff, hall, full_course):
    course_id = full_course["course"]
    staff.post(f"/staff/classes/registrations/{full_course['seated']}/cancel")
    rows = read_csv(staff.get(f"/staff/classes/{course_id}/registrations.csv"))
    by_child = {row[0]: row for row in rows[1:]}
    assert rows[0][:7] == ["Child", "Age or grade", "Guardian", "Mobile number", "Status", "Seat",
                           "Waiting list place"]
    assert by_child["Tashi"][3:7] == ["13800138001", "Cancelled", "", ""]
    assert by_child["Pema"][3:7] == ["13900139002", "Has a seat", "1", ""]
    assert by_child["Norbu"][3:7] == ["13700137003", "Waiting list", "", "1"]

    dates = past_dates(course_id)
    classes.mark(dates[-1].id, full_course["first"], "present", hall.admin_id)
    classes.mark(dates[-2].id, full_course["first"], "absent", hall.admin_id)
    rows = read_csv(staff.get(f"/staff/classes/{course_id}/attendance.csv"))
    assert rows[0][2:-3] == [d.day.isoformat() for d in dates]
    assert rows[1][:2] == ["1", "Pema"] and rows[1][-5:] == ["✗", "✓", "1", "1", "0"]


def test_every_grade_has_a_name(app):
    from kiosk.blueprints.staff.class_words import GRADE_NAMES

    assert GRADE_NAMES.keys() == GRADES.keys()


def test_classes_are_in_the_menu(staff):
    assert 'href="/staff/classes"' in text(staff.get("/staff/"))


def test_a_refusal_that_repeats_a_typed_name_escapes_it(staff, hall):
    course_id = make_course()
    staff.post(f"/staff/classes/{course_id}/register", data=desk_form("<b>Tashi</b>", "13800138001", "Dolma"))
    response = staff.post(f"/staff/classes/{course_id}/register", data=desk_form("<b>Tashi</b>", "13800138001", "Dolma"))
    assert response.status_code == 422
    page = text(response)
    assert re.search(r'id="child_name-error"[^>]*>&lt;b&gt;Tashi&lt;/b&gt; already has a seat', page)
    assert "<b>Tashi</b>" not in page


def test_class_pages_change_nothing_fail_nowhere_and_keep_to_the_csp(app, staff, taught, full_course):
    """test_security walks every route on a database without courses; this walk has one."""
    teacher_client, course_id, day = taught
    values = {"course_id": course_id, "session_id": day.id, "registration_id": full_course["seated"]}
    pages = {"course_list", "course_new", "course_edit", "course_page", "class_roster", "desk_register_start",
             "registration_page", "course_attendance", "attendance_export", "registrations_export"}
    urls = [rule.build(values, append_unknown=False)[1] for rule in app.url_map.iter_rules()
            if rule.endpoint.removeprefix("staff.") in pages]
    assert len(urls) == len(pages)
    before = snapshot(app)
    for client in (staff, teacher_client):
        for url in urls:
            for headers in ({}, {"HX-Request": "true"}):
                response = client.get(url, headers=headers)
                assert response.status_code in (200, 403), (url, response.status_code)
                html = text(response)
                for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"\sstyle=\"", r"\son[a-z]+=\""):
                    assert not re.search(pattern, html), (url, pattern)
    assert snapshot(app) == before
