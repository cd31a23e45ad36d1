"""The back office of activities, through the Flask client: the list, creating and editing (with
capacity changes), the activity's page with places, waiting list and "to call", signing up at the
desk, cancelling a place, attendance with htmx, the CSV, the poster, and who may open them."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kiosk import activities
from kiosk.auth import create_staff
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import Activity, SignUp
from kiosk.wishes import save_partner_unit
from tests.conftest import token
from tests.test_activities import fields
from tests.test_security import login
from tests.test_staff import read_csv, staff, text  # noqa: F401  (staff is a fixture)


@pytest.fixture
def client(app):
    return app.test_client()


def form(**changes) -> dict:
    day = (hall_today() + timedelta(days=5)).isoformat()
    data = dict(code="legal", title_zh="法律咨询", title_bo="", title_en="Legal advice morning",
                description_zh="", description_bo="", description_en="", day=day, starts_at="09:00",
                ends_at="11:30", place="会议室", capacity="2", organiser="staff", team="", partner_unit_id="")
    return data | changes


def signed(hall, activity_id, n, first=0, **kw) -> list[SignUp]:
    return [activities.sign_up(activity_id, hall.resident(f"1350000{k:04d}", f"居民{k}"), token(), "phone", **kw)
            for k in range(first, first + n)]


def test_creating_an_activity_with_a_partner_unit_and_errors_next_to_fields(staff, hall):
    assert staff.get("/staff/activities/new").status_code == 200
    unit = save_partner_unit("雪域律师事务所", "次旦", "0891-6331234", "")
    bad = staff.post("/staff/activities/new", data=form(ends_at="08:00", capacity="0", organiser="partner"))
    page = text(bad)
    assert bad.status_code == 422 and "Please give the number of places" in page
    bad = staff.post("/staff/activities/new", data=form(ends_at="08:00", organiser="partner"))
    assert bad.status_code == 422 and "The activity must end after it starts." in text(bad)
    response = staff.post("/staff/activities/new", data=form(organiser="partner", partner_unit_id=str(unit.id)))
    assert response.status_code == 303
    activity = db.session.scalar(select(Activity))
    assert (activity.code, activity.capacity, activity.partner_unit_id) == ("LEGAL", 2, unit.id)
    page = text(staff.get(f"/staff/activities/{activity.id}"))
    assert "Organised by 雪域律师事务所" in page and "Places taken: 0 of 2" in page
    assert "LEGAL" in text(staff.get("/staff/activities"))
    # Editing: the form shows what is saved; no limit is an empty box.
    edit = text(staff.get(f"/staff/activities/{activity.id}/edit"))
    assert 'value="09:00"' in edit and 'value="LEGAL"' in edit
    assert staff.post(f"/staff/activities/{activity.id}/edit",
                      data=form(capacity="", organiser="team", team="红扳手")).status_code == 303
    db.session.expire_all()
    assert activity.capacity is None and activity.team == "红扳手" and activity.partner_unit_id is None


def test_fewer_places_than_taken_is_refused_next_to_the_field_and_more_move_the_waiting_up(staff, hall):
    activity = activities.save_activity(fields(code="LEGAL", capacity=2))
    people = signed(hall, activity.id, 4)
    response = staff.post(f"/staff/activities/{activity.id}/edit", data=form(capacity="1"))
    assert response.status_code == 422 and "2 people already have a seat" in text(response)
    response = staff.post(f"/staff/activities/{activity.id}/edit", data=form(capacity="3"), follow_redirects=True)
    page = text(response)
    assert f"{people[2].resident.name} moved up from the waiting list: please call them at 13500000002" in page
    assert "Moved up: call them" in page


def test_the_page_lists_places_waiting_and_to_call_and_cancelling_promotes(staff, hall):
    activity = activities.save_activity(fields(code="LEGAL", capacity=1))
    first, second, third = signed(hall, activity.id, 3)
    page = text(staff.get(f"/staff/activities/{activity.id}"))
    assert "13500000000" in page and "13500000001" in page  # staff see and call full numbers
    response = staff.post(f"/staff/activities/sign-ups/{first.id}/cancel", follow_redirects=True)
    page = text(response)
    assert "The place of 居民0 is cancelled." in page
    assert "居民1 moved up from the waiting list: please call them at 13500000001." in page
    assert [p.id for p in activities.to_call(activity.id)] == [second.id]
    staff.post(f"/staff/activities/sign-ups/{second.id}/called")
    assert activities.to_call(activity.id) == []
    assert activities.waiting_place(db.session.get(SignUp, third.id)) == 1


def test_signing_up_at_the_desk_once_per_token_and_once_per_resident(staff, hall):
    activity = activities.save_activity(fields(code="LEGAL", capacity=1))
    assert staff.get(f"/staff/activities/{activity.id}/sign-up").status_code == 200
    data = {"token": token(), "mobile": "139 1234 5678", "name": "王芳", "consent": "y"}
    first = staff.post(f"/staff/activities/{activity.id}/sign-up", data=data, follow_redirects=True)
    assert "王芳 is signed up. Receipt code:" in text(first)
    staff.post(f"/staff/activities/{activity.id}/sign-up", data=data)  # a double click
    assert db.session.scalar(select(func.count()).select_from(SignUp)) == 1
    again = staff.post(f"/staff/activities/{activity.id}/sign-up", data={**data, "token": token()})
    assert again.status_code == 422 and "You are already signed up for this activity." in text(again)
    other = {"token": token(), "mobile": "13700001111", "name": "扎西", "consent": "y"}
    waiting = staff.post(f"/staff/activities/{activity.id}/sign-up", data=other, follow_redirects=True)
    assert "扎西 is on the waiting list, place 1." in text(waiting)
    place = db.session.scalar(select(SignUp).where(SignUp.status == "confirmed"))
    assert (place.channel, place.created_by_id) == ("staff", hall.admin_id)


def test_attendance_with_htmx_on_the_day(staff, hall):
    today = hall_today()
    activity = activities.save_activity(fields(code="TODAY", day=today, capacity=3))
    later = activities.save_activity(fields(code="LATER", capacity=3))
    (place,) = signed(hall, activity.id, 1)
    (early,) = signed(hall, later.id, 1, first=1)
    page = text(staff.get(f"/staff/activities/{activity.id}"))
    assert f'hx-post="/staff/activities/sign-ups/{place.id}/attended"' in page
    assert "/attended" not in text(staff.get(f"/staff/activities/{later.id}"))
    response = staff.post(f"/staff/activities/sign-ups/{place.id}/attended", data={"attended": "yes"},
                          headers={"HX-Request": "true"})
    row = text(response).strip()
    assert response.status_code == 200 and row.startswith(f'<tr id="sign-up-{place.id}" data-attended="yes"')
    assert db.session.get(SignUp, place.id).attended is True
    staff.post(f"/staff/activities/sign-ups/{place.id}/attended", data={"attended": "no"})
    db.session.expire_all()
    assert db.session.get(SignUp, place.id).attended is False
    refused = staff.post(f"/staff/activities/sign-ups/{early.id}/attended", data={"attended": "yes"},
                         headers={"HX-Request": "true"})
    assert refused.status_code == 409 and "on the day of the activity" in text(refused)
    assert staff.post(f"/staff/activities/sign-ups/{place.id}/attended", data={"attended": "maybe"}).status_code == 400


def test_the_csv_has_every_sign_up_with_its_status_and_attendance(staff, hall):
    activity = activities.save_activity(fields(code="TODAY", day=hall_today(), capacity=1))
    seated, waiting = signed(hall, activity.id, 2)
    activities.mark(seated.id, True)
    rows = read_csv(staff.get(f"/staff/activities/{activity.id}/sign-ups.csv"))
    assert rows[0][:5] == ["Name", "Mobile number", "Status", "Seat", "Waiting list place"]
    assert [(r[0], r[1], r[2], r[3], r[4], r[-1]) for r in rows[1:]] == [
        ("居民0", "13500000000", "Has a place", "1", "", "Came"),
        ("居民1", "13500000001", "Waiting list", "", "1", "")]


def test_cancelling_the_activity_and_the_posters(staff, hall):
    activity = activities.save_activity(fields(code="LEGAL"))
    page = text(staff.post(f"/staff/activities/{activity.id}/cancel", follow_redirects=True))
    assert "is cancelled" in page and "It takes place after all" in page
    assert db.session.get(Activity, activity.id).cancelled_at is not None
    staff.post(f"/staff/activities/{activity.id}/restore")
    db.session.expire_all()
    assert db.session.get(Activity, activity.id).cancelled_at is None
    poster = text(staff.get(f"/staff/activities/{activity.id}/poster"))
    assert "/a/LEGAL" in poster and 'class="qr"' in poster and "免费体检" in poster
    assert "/a/" in text(staff.get("/staff/activities/poster"))


def test_the_menu_shows_activities_and_teachers_and_coordinators_are_refused(staff, hall, app):
    assert "/staff/activities" in text(staff.get("/staff/activities"))
    activity = activities.save_activity(fields(code="LEGAL"))
    for role, password in (("teacher", "blackboard chalk 9"), ("coordinator", "helping hands 99")):
        create_staff(role, password, role=role, display_name=role)
        other = app.test_client()
        assert login(other, role, password).status_code == 303
        for path in ("/staff/activities", f"/staff/activities/{activity.id}", f"/staff/activities/{activity.id}/poster",
                     f"/staff/activities/{activity.id}/sign-ups.csv"):
            assert other.get(path).status_code == 403, (role, path)
        assert other.post(f"/staff/activities/{activity.id}/cancel").status_code == 403
