"""The partner alliance's back-office pages, through the Flask client: recording a joint meeting
(the chair of the quarter chosen for you, errors next to the fields), its agenda (a concern found
by its code and taken up, a partner's suggestion), resolving an item and following it up, the
concern's staff page and the resident's status page showing the resolution, the printable
minutes, the resource matches with their filters and CSV, and who may open what."""
import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from kiosk import alliance, codes, ledger, wishes
from kiosk.auth import create_staff
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import AgendaItem, Concern, JointMeeting, ResourceMatch
from tests.conftest import token
from tests.test_security import login
from tests.test_staff import count, read_csv, staff, text  # noqa: F401  (staff is a fixture)

COORDINATOR_PASSWORD = "helping hands 42"
TEACHER_PASSWORD = "blackboard chalk 7"


def error_of(page: str, field: str) -> str:
    m = re.search(rf'<p class="error" id="{field}-error"[^>]*>([^<]*)</p>', page)
    return html.unescape(m.group(1)) if m else ""


def quarter_now() -> str:
    return alliance.quarter_of(hall_today())


@pytest.fixture
def units(hall):
    law = wishes.save_partner_unit("雪域律师事务所", "次旦", "0891-6331234", quarter_now())
    clinic = wishes.save_partner_unit("Clinic", "Dr Wang", "", "")
    return law, clinic


@pytest.fixture
def concern(hall):
    return ledger.record(ledger.Raised("roads_drains", "The drain at gate 2 keeps blocking", place="Gate 2",
                                       resident_id=hall.resident("13800138000", "次仁")), hall.admin_id)


def meeting_form(pair, **changes):
    law, clinic = pair
    return {"day": hall_today().isoformat(), "place": "Community hall", "units": [str(law.id), str(clinic.id)],
            "chair_unit": str(law.id), "note": "Twelve people came", **changes}


def a_meeting(hall, units) -> JointMeeting:
    law, clinic = units
    return alliance.save_meeting(alliance.MeetingFields(hall_today(), "Community hall", [law.id, clinic.id], law.id),
                                 hall.admin_id)


def as_role(app, username, password, role):
    create_staff(username, password, role=role, display_name=username.title())
    client = app.test_client()
    with client.session_transaction() as session:
        session["lang"] = "en"
    assert login(client, username, password).status_code == 303
    return client


# --- Meetings -----------------------------------------------------------------------------------

def test_a_new_meeting_chooses_the_chair_of_the_quarter(staff, units):
    law, clinic = units
    page = text(staff.get("/staff/meetings/new"))
    assert re.search(rf'<option selected value="{law.id}">|<option value="{law.id}" selected', page)
    assert re.search(rf'value="{law.id}"[^>]*checked|checked[^>]*value="{law.id}"', page)
    # Another date asks for the chair of its own quarter (the htmx field swap uses the same page).
    wishes.save_partner_unit("Clinic", "Dr Wang", "", "2031-Q2", unit_id=clinic.id)
    other = text(staff.get("/staff/meetings/new?day=2031-05-04"))
    assert re.search(rf'<option selected value="{clinic.id}">|<option value="{clinic.id}" selected', other)


def test_recording_a_meeting_and_its_errors_next_to_the_fields(staff, units):
    response = staff.post("/staff/meetings/new", data=meeting_form(units, day="next tuesday", place="", units=[],
                                                                    chair_unit=""))
    assert response.status_code == 422
    page = text(response)
    assert error_of(page, "day") == "Please give a date like 2026-05-12."
    response = staff.post("/staff/meetings/new", data=meeting_form(units, place="", units=[], chair_unit=""))
    assert error_of(text(response), "place") == "Please write where the meeting is held."
    response = staff.post("/staff/meetings/new", data=meeting_form(units, units=[], chair_unit=""))
    assert "Please tick the partner units present." in text(response)
    assert count(JointMeeting) == 0

    response = staff.post("/staff/meetings/new", data=meeting_form(units))
    assert response.status_code == 303
    again = staff.post("/staff/meetings/new", data=meeting_form(units))  # a double submit
    assert again.status_code == 422 and error_of(text(again), "day") == "There is already a joint meeting on this day."
    assert count(JointMeeting) == 1
    page = text(staff.get(response.headers["Location"]))
    assert "Community hall" in page and "雪域律师事务所" in page and "Twelve people came" in page
    meeting = db.session.scalars(select(JointMeeting)).one()
    response = staff.post(f"/staff/meetings/{meeting.id}/edit", data=meeting_form(units, place="Room 2"))
    assert response.status_code == 303
    db.session.refresh(meeting)
    assert meeting.place == "Room 2"
    assert "Room 2" in text(staff.get("/staff/meetings"))


# --- The agenda, the resolution and the concern -----------------------------------------------

def test_a_concern_taken_up_and_resolved_shows_on_the_concern_pages(staff, hall, units, concern):
    law, _clinic = units
    meeting = a_meeting(hall, units)
    code = codes.formatted(concern.code)
    found = text(staff.get(f"/staff/meetings/{meeting.id}?q={code}", headers={"HX-Request": "true"}))
    assert found.lstrip().startswith('<div id="concern-candidates">') and "The drain at gate 2" in found
    assert "The drain" not in text(staff.get(f"/staff/meetings/{meeting.id}?q=nothing+like+it",
                                             headers={"HX-Request": "true"}))
    response = staff.post(f"/staff/meetings/{meeting.id}/concern", data={"concern": concern.id})
    assert response.status_code == 303
    assert staff.post(f"/staff/meetings/{meeting.id}/concern", data={"concern": concern.id}).status_code == 409
    item = db.session.scalars(select(AgendaItem)).one()
    assert item.concern_id == concern.id

    # Errors next to the fields, then the resolution.
    response = staff.post(f"/staff/agenda/{item.id}/resolve", data={"resolution": "", "owner_unit": "",
                                                                      "owner_staff": "", "due_on": "soon"})
    assert response.status_code == 422
    assert error_of(text(response), "due_on") == "Please give a date like 2026-05-12."
    response = staff.post(f"/staff/agenda/{item.id}/resolve", data={"resolution": "", "owner_unit": "",
                                                                      "owner_staff": "", "due_on": ""})
    assert error_of(text(response), "resolution") == "Please write what the meeting resolved."
    due = hall_today() + timedelta(days=30)
    response = staff.post(f"/staff/agenda/{item.id}/resolve", data={
        "resolution": "The law firm holds a monthly advice morning", "owner_unit": law.id,
        "owner_staff": hall.admin_id, "due_on": due.isoformat()})
    assert response.status_code == 303

    db.session.expire_all()
    assert db.session.get(Concern, concern.id).status == "in_progress"
    concern_page = text(staff.get(f"/staff/concerns/{concern.id}"))
    assert "Taken up by the joint meeting" in concern_page
    assert "The law firm holds a monthly advice morning" in concern_page
    assert f'href="/staff/agenda/{item.id}"' in concern_page and "雪域律师事务所" in concern_page
    assert "Joint meeting of " in concern_page  # the step in the concern's own history
    # The resident's page says what was decided, without a name.
    public = text(staff.get(f"/q/{concern.code}"))
    assert "The law firm holds a monthly advice morning" in public
    assert "雪域律师事务所" not in public and "Admin" not in public and "次仁" not in public
    # The resource match of the owner unit.
    assert db.session.scalars(select(ResourceMatch)).one().agenda_item_id == item.id

    # Following it up: done closes it.
    response = staff.post(f"/staff/agenda/{item.id}/follow-up", data={"note": "", "status": ""})
    assert response.status_code == 422 and error_of(text(response), "note") == "Please write what happened."
    assert staff.post(f"/staff/agenda/{item.id}/follow-up",
                      data={"note": "The first morning was held", "status": "done"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(AgendaItem, item.id).closed_at is not None
    page = text(staff.get(f"/staff/agenda/{item.id}"))
    assert "The first morning was held" in page and "Carried out" in page
    minutes = text(staff.get(f"/staff/meetings/{meeting.id}/minutes"))
    assert "The law firm holds a monthly advice morning" in minutes and "Minutes" in minutes


def test_a_partner_topic_needs_its_unit_next_to_the_field(staff, hall, units):
    law, _clinic = units
    meeting = a_meeting(hall, units)
    response = staff.post(f"/staff/meetings/{meeting.id}/topic", data={"source": "partner", "suggested_by_unit": "",
                                                                        "topic": "Free legal advice"})
    assert response.status_code == 422
    assert error_of(text(response), "suggested_by_unit") == "Please choose the unit that suggested it."
    response = staff.post(f"/staff/meetings/{meeting.id}/topic", data={"source": "partner",
                                                                        "suggested_by_unit": law.id,
                                                                        "topic": "Free legal advice"})
    assert response.status_code == 303
    page = text(staff.get(f"/staff/meetings/{meeting.id}"))
    assert "Free legal advice" in page and "Suggested by 雪域律师事务所" in page
    assert "Free legal advice" in text(staff.get("/staff/agenda?status=proposed"))


# --- Resource matches ---------------------------------------------------------------------------

def test_resource_matches_list_filters_and_csv(staff, hall, units):
    law, clinic = units
    wish = wishes.submit(hall.resident(), wishes.Request("wish", "school", "a school bag"), token(), "phone",
                         limited=False)
    wishes.publish(wish.id, "王家", "3号楼", hall.admin_id)
    wishes.confirm_claim(wishes.claim(wish.id, token(), partner_unit_id=clinic.id).id, hall.admin_id)
    item = alliance.add_item(a_meeting(hall, units).id, "staff", "Winter heating checks")
    alliance.resolve(item.id, alliance.Resolution("Check every boiler", law.id, None, hall_today()), hall.admin_id)

    page = text(staff.get("/staff/matches"))
    assert "A resident's wish" in page and codes.formatted(wish.code) in page and "Check every boiler" not in page
    assert "Winter heating checks" in page
    only_law = text(staff.get(f"/staff/matches?unit={law.id}"))
    assert "Winter heating checks" in only_law and codes.formatted(wish.code) not in only_law
    only_wishes = text(staff.get("/staff/matches?kind=wish"))
    assert codes.formatted(wish.code) in only_wishes and "Winter heating checks" not in only_wishes
    tomorrow = (hall_today() + timedelta(days=1)).isoformat()
    assert "Nothing found." in text(staff.get(f"/staff/matches?start={tomorrow}"))
    rows = read_csv(staff.get(f"/staff/matches.csv?unit={clinic.id}"))
    assert rows[0] == ["Date", "Partner unit", "What was taken on", "Which", "Note", "Recorded"]
    assert [r[1:4] for r in rows[1:]] == [["Clinic", "A resident's wish", codes.formatted(wish.code)]]


# --- Who may open what ------------------------------------------------------------------------

def test_a_teacher_gets_403_and_a_coordinator_may_hold_the_meeting(app, hall, units, concern):
    meeting = a_meeting(hall, units)
    item = alliance.add_item(meeting.id, "concern", concern_id=concern.id)
    pages = ["/staff/meetings", "/staff/meetings/new", f"/staff/meetings/{meeting.id}",
             f"/staff/meetings/{meeting.id}/edit", f"/staff/meetings/{meeting.id}/minutes", "/staff/agenda",
             f"/staff/agenda/{item.id}", "/staff/matches", "/staff/matches.csv"]
    teacher = as_role(app, "yangchen", TEACHER_PASSWORD, "teacher")
    for path in pages:
        assert teacher.get(path).status_code == 403, path
    assert teacher.post(f"/staff/agenda/{item.id}/resolve", data={"resolution": "x"}).status_code == 403
    assert "/staff/meetings" not in text(teacher.get("/staff/password"))

    coordinator = as_role(app, "dawa", COORDINATOR_PASSWORD, "coordinator")
    for path in pages:
        assert coordinator.get(path).status_code == 200, path
    assert 'href="/staff/meetings"' in text(coordinator.get("/staff/meetings"))  # in the menu
    response = coordinator.post(f"/staff/agenda/{item.id}/resolve", data={
        "resolution": "Dig the drain out", "owner_unit": "", "owner_staff": hall.admin_id,
        "due_on": hall_today().isoformat()})
    assert response.status_code == 303
    # The concern's code shows, but the ledger (staff only) is not linked for them.
    page = text(coordinator.get(f"/staff/agenda/{item.id}"))
    assert codes.formatted(concern.code) in page and f"/staff/concerns/{concern.id}" not in page
