"""Families and the class through HTTP: the course page, registering on a phone and on the tablet,
the receipt page, cancelling, and the teacher's roster on the tablet."""
import re
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from kiosk import classes
from kiosk.auth import create_staff
from kiosk.database import write_transaction
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import Attendance, Course, Registration
from tests.conftest import english_client, token

TEACHER_PASSWORD = "blackboard chalk 1"


@pytest.fixture
def client(app):
    return english_client(app)


@pytest.fixture
def course(hall):
    """A class of 2 seats for ages 6-13, on Saturdays this term and with a date today."""
    today = hall_today()
    course = classes.save_course(classes.CourseFields(
        "ENGLISH", "周六英语课堂", "དབྱིན་ཡིག", "Saturday English class", "", "", "Homework help, then English.",
        None, 6, 13, 2, today - timedelta(days=60), today + timedelta(days=60)))
    classes.add_schedule(course.id, "term", [5], time(9), time(11), course.starts_on, course.ends_on)
    classes.add_schedule(course.id, "term", [today.weekday()], time(15), time(16), today, today)
    return course.id


def form(child="王小明", age="9", grade="", mobile="13912345678", name="王芳", **extra):
    return {"token": token(), "child_name": child, "child_age": age, "child_grade": grade,
            "mobile": mobile, "name": name, "consent": "y", "guardian_consent": "y", **extra}


def register(client, data, prefix=""):
    return client.post(f"{prefix}/c/ENGLISH/register", data=data)


def receipt_of(response) -> str:
    m = re.search(r"/c/ENGLISH/r/([A-Z0-9]{8})$", response.headers["Location"])
    assert m, response.headers.get("Location")
    return m.group(1)


def test_the_course_page_shows_dates_seats_and_the_cancelled_holiday(client, hall, course):
    saturday = next(s for s in classes.next_dates(course, 6) if s.day.weekday() == 5)
    classes.cancel_date(saturday.id, "National Day", hall.admin_id)
    page = client.get("/c/ENGLISH").get_data(as_text=True)
    assert "Saturday English class" in page and "2 seats are free." in page
    cancelled = re.search(rf'<li class="is-cancelled" data-day="{saturday.day.isoformat()}">(.*?)</li>', page, re.S)
    assert cancelled and "National Day" in cancelled.group(1)
    assert client.get("/c/english").status_code == 301
    assert client.get("/c/NOPE").status_code == 404
    assert client.get("/kiosk/c/ENGLISH").status_code == 200


def test_a_guardian_registers_on_a_phone_and_sees_the_seat(client, hall, course):
    response = register(client, form())
    assert response.status_code == 303
    code = receipt_of(response)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-status="confirmed"' in page and 'data-seat="1"' in page
    assert classes.format_receipt(code) in page
    # Only the first name and a masked mobile: anyone holding the code may open this page.
    assert "小明" in page and "王小明" not in page
    assert "139****5678" in page and "13912345678" not in page and "王芳" not in page
    # The phone remembers the guardian for the next form.
    again = client.get("/c/ENGLISH/register").get_data(as_text=True)
    assert 'value="13912345678"' in again


def test_past_capacity_the_child_waits_with_a_place_and_moves_up_when_a_seat_frees(client, hall, course):
    codes = []
    for n in range(4):
        response = register(client, form(child=f"孩子{n}", mobile=f"1390000000{n}", name=f"家长{n}"))
        codes.append(receipt_of(response))
    pages = [client.get(f"/c/ENGLISH/r/{c}").get_data(as_text=True) for c in codes]
    assert 'data-status="waiting"' in pages[2] and 'data-place="1"' in pages[2]
    assert 'data-place="2"' in pages[3]
    # The form warns before a family registers into a full class.
    assert "All seats are taken" in client.get("/c/ENGLISH/register").get_data(as_text=True)

    assert 'action="/c/ENGLISH/r/%s/cancel"' % codes[0] in client.get(f"/c/ENGLISH/r/{codes[0]}/cancel").get_data(as_text=True)
    response = client.post(f"/c/ENGLISH/r/{codes[0]}/cancel")
    assert response.status_code == 303
    assert 'data-status="cancelled"' in client.get(f"/c/ENGLISH/r/{codes[0]}").get_data(as_text=True)
    assert client.post(f"/c/ENGLISH/r/{codes[0]}/cancel").status_code == 303  # a double tap: no harm
    promoted = client.get(f"/c/ENGLISH/r/{codes[2]}").get_data(as_text=True)
    assert 'data-status="confirmed"' in promoted and 'data-seat="1"' in promoted
    assert "moved up from the waiting list" in promoted
    assert 'data-place="1"' in client.get(f"/c/ENGLISH/r/{codes[3]}").get_data(as_text=True)
    assert [r.child_name for r in classes.to_call(course)] == ["孩子2"]


def test_a_double_tap_registers_once_and_shows_the_same_receipt(client, hall, course):
    data = form()
    first, second = register(client, data), register(client, data)
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(db.func.count()).select_from(Registration)) == 1


@pytest.mark.parametrize("change, field, message", [
    ({"consent": ""}, "consent", "Please agree"),
    ({"guardian_consent": ""}, "guardian_consent", "guardian"),
    ({"mobile": "12345"}, "mobile", "This is not a mobile number"),
    ({"age": "15"}, "child_age", "aged 6 to 13"),
    ({"age": "", "grade": ""}, "child_grade", "age or school grade"),
    ({"age": "", "grade": "j3"}, "child_grade", "aged 6 to 13"),
    ({"age": "abc"}, "child_age", "age in years"),
    ({"child": ""}, "child_name", "child's name"),
])
def test_bad_input_is_answered_next_to_its_field_and_keeps_what_was_typed(client, hall, course,
                                                                          change, field, message):
    data = form(**{k: v for k, v in change.items() if k in ("child", "age", "grade", "mobile", "name")})
    data.update({k: v for k, v in change.items() if k in ("consent", "guardian_consent")})
    data = {k: v for k, v in data.items() if v != "" or k not in ("consent", "guardian_consent")}
    response = register(client, data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    block = re.search(rf'<div class="field has-error" id="field-{field}">(.*?)</div>', page, re.S)
    assert block and message in block.group(1), page
    if field != "child_name":
        assert 'value="王小明"' in page
    assert db.session.scalar(select(db.func.count()).select_from(Registration)) == 0


def test_the_same_child_cannot_take_two_places(client, hall, course):
    register(client, form())
    response = register(client, form(child=" 王小明 "))
    assert response.status_code == 422
    assert "already has a seat" in response.get_data(as_text=True)


def test_on_the_tablet_the_receipt_is_shown_once_with_a_qr_and_nothing_is_remembered(client, hall, course):
    response = register(client, form(), prefix="/kiosk")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-status="confirmed"' in page and '<svg class="qr"' in page and "data-home-after" in page
    assert "resident" not in response.headers.get("Set-Cookie", "")
    assert 'value="13912345678"' not in client.get("/kiosk/c/ENGLISH/register").get_data(as_text=True)


def test_a_receipt_code_is_found_by_typing_it_and_a_wrong_one_is_refused(client, hall, course):
    code = receipt_of(register(client, form()))
    spaced = f"{code[:4].lower()} {code[4:].lower()}"
    response = client.get("/kiosk/c/ENGLISH/find", query_string={"code": spaced})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/kiosk/c/ENGLISH/r/{code}")
    wrong = client.get("/c/ENGLISH/find", query_string={"code": "AAAA-AAAA"})
    assert wrong.status_code == 404 and "no registration with this code" in wrong.get_data(as_text=True)
    assert client.get("/c/ENGLISH/r/AAAAAAAA").status_code == 404


def _teacher_login(client, course_id):
    """Log in as the course's teacher."""
    teacher_id = create_staff("teacher", TEACHER_PASSWORD, role="teacher", display_name="Teacher").id
    with write_transaction() as s:
        s.get(Course, course_id).teacher_id = teacher_id
    return client.post("/staff/login?next=/kiosk/teach/", data={"username": "teacher", "password": TEACHER_PASSWORD})


def test_the_teacher_takes_attendance_on_the_tablet(client, hall, course):
    children = [classes.register(course, hall.resident(f"1380000000{n}", f"家长{n}"), f"孩子{n}", 8, None,
                                 True, token(), "phone").id for n in range(2)]
    assert client.get("/kiosk/teach/").status_code == 302  # to the login page
    assert _teacher_login(client, course).headers["Location"] == "/kiosk/teach/"
    today = classes.sessions_on(hall_today())[0]
    response = client.get("/kiosk/teach/")
    assert response.headers["Location"].endswith(f"/kiosk/teach/{today.id}")
    roster = client.get(f"/kiosk/teach/{today.id}").get_data(as_text=True)
    assert "孩子0" in roster and "孩子1" in roster

    line = client.post(f"/kiosk/teach/{today.id}/mark/{children[0]}", data={"mark": "absent"},
                       headers={"HX-Request": "true"})
    assert line.status_code == 200
    html = line.get_data(as_text=True)
    assert html.lstrip().startswith(f'<li class="roster-line marked-absent" id="line-{children[0]}"')
    assert client.post(f"/kiosk/teach/{today.id}/mark/{children[0]}", data={"mark": "excused"}).status_code == 303
    marks = db.session.execute(select(Attendance.registration_id, Attendance.mark)).all()
    assert marks == [(children[0], "excused")]
    # A teacher has no business in the tool shop's back office, nor in another teacher's class.
    assert client.get("/staff/tools").status_code == 403
    other = create_staff("other", TEACHER_PASSWORD, role="teacher", display_name="Other").id
    with write_transaction() as s:
        s.get(Course, course).teacher_id = other
    assert client.get(f"/kiosk/teach/{today.id}").status_code == 403
    assert client.post(f"/kiosk/teach/{today.id}/mark/{children[1]}", data={"mark": "present"}).status_code == 403


def test_a_cancelled_date_takes_no_attendance(client, hall, course):
    child = classes.register(course, hall.resident(), "孩子", 8, None, True, token(), "phone").id
    today = classes.sessions_on(hall_today())[0]
    classes.cancel_date(today.id, "snow", hall.admin_id)
    _teacher_login(client, course)
    response = client.post(f"/kiosk/teach/{today.id}/mark/{child}", data={"mark": "present"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 409 and "this date was cancelled" in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(Attendance)) == 0
