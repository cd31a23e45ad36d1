"""The partner alliance's rules (kiosk.alliance), on SQLite and PostgreSQL: joint meetings with the
units present and the chair of the quarter, agenda items from the concerns ledger, partners and
staff, resolving an item (and the concern's own history), following it to its end, overdue items,
and resource matches: made by the wish hooks exactly once, for activities and for resolved items,
and kept to one reference of their kind by the database."""
from datetime import date, time, timedelta

import pytest
from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from kiosk import alliance, ledger, wishes
from kiosk.database import write_transaction
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import Activity, AgendaItem, AgendaStep, Concern, ConcernStep, ResourceMatch
from kiosk.refusal import Refusal
from tests.conftest import token

DAY = date(2026, 8, 12)  # the third quarter


def units():
    law = wishes.save_partner_unit("雪域律师事务所", "次旦", "0891-6331234", "2026-Q3")
    clinic = wishes.save_partner_unit("Clinic", "Dr Wang", "", "2026-Q4")
    return law, clinic


def a_meeting(law, clinic, day=DAY, staff_id=None):
    return alliance.save_meeting(alliance.MeetingFields(day, "Community hall", [law.id, clinic.id], law.id,
                                                        "Spring meeting"), staff_id)


def a_concern(hall, status_to=None):
    concern = ledger.record(ledger.Raised("roads_drains", "The drain at gate 2 keeps blocking", place="Gate 2"),
                            hall.admin_id)
    if status_to:
        ledger.follow_up(concern.id, "sent on", hall.admin_id, status_to)
    return concern


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def fresh(model, id_):
    row = db.session.get(model, id_)
    db.session.refresh(row)
    return row


# --- Meetings -----------------------------------------------------------------------------------

def test_a_meeting_has_its_units_and_the_chair_of_the_quarter(any_hall):
    law, clinic = units()
    assert alliance.quarter_of(DAY) == "2026-Q3" and alliance.quarter_of(date(2026, 12, 31)) == "2026-Q4"
    assert alliance.chair_for(DAY).id == law.id
    assert alliance.chair_for(date(2026, 11, 1)).id == clinic.id
    assert alliance.chair_for(date(2027, 1, 5)) is None
    meeting = a_meeting(law, clinic, staff_id=any_hall.admin_id)
    found = alliance.meeting(meeting.id)
    assert {u.name for u in found.units} == {"雪域律师事务所", "Clinic"}
    assert found.chair_unit.id == law.id and found.place == "Community hall" and found.note == "Spring meeting"


def test_the_chair_counts_as_present_and_a_meeting_needs_its_facts(any_hall):
    law, clinic = units()
    meeting = alliance.save_meeting(alliance.MeetingFields(DAY, "Hall", [clinic.id], law.id), any_hall.admin_id)
    assert {u.id for u in alliance.meeting(meeting.id).units} == {law.id, clinic.id}
    for fields, field in ((alliance.MeetingFields(None, "Hall", [law.id]), "day"),
                          (alliance.MeetingFields(DAY + timedelta(1), "", [law.id]), "place"),
                          (alliance.MeetingFields(DAY + timedelta(1), "Hall", []), "units"),
                          (alliance.MeetingFields(DAY + timedelta(1), "Hall", [999]), "units"),
                          (alliance.MeetingFields(DAY, "Hall", [law.id]), "day")):  # a second one that day
        with pytest.raises(Refusal) as refused:
            alliance.save_meeting(fields, any_hall.admin_id)
        assert refused.value.field == field
    # Changing the meeting itself keeps its day.
    alliance.save_meeting(alliance.MeetingFields(DAY, "Room 2", [law.id]), any_hall.admin_id, meeting.id)
    assert fresh(type(meeting), meeting.id).place == "Room 2"


# --- Agenda items -------------------------------------------------------------------------------

def test_an_item_from_a_concern_when_resolved_writes_the_concerns_history(any_hall):
    law, clinic = units()
    meeting = a_meeting(law, clinic)
    concern = a_concern(any_hall, "referred")
    item = alliance.add_item(meeting.id, "concern", concern_id=concern.id)
    assert item.topic == "The drain at gate 2 keeps blocking" and item.status == "proposed"
    with pytest.raises(Refusal) as twice:
        alliance.add_item(meeting.id, "concern", concern_id=concern.id)
    assert twice.value.reason == "concern_twice"

    resolved = alliance.resolve(item.id, alliance.Resolution("The law firm holds a monthly advice morning",
                                                             law.id, any_hall.admin_id, DAY + timedelta(30)),
                                any_hall.admin_id)
    assert resolved.status == "resolved"
    concern = fresh(Concern, concern.id)
    assert concern.status == "in_progress"
    last = concern.steps[-1]
    assert last.status == "in_progress"
    assert last.note == gettext("Joint meeting of %(date)s: %(resolution)s", date="2026-08-12",
                                resolution="The law firm holds a monthly advice morning")
    assert [i.id for i in alliance.items_of_concern(concern.id)] == [item.id]
    assert [i.id for i in alliance.resolutions_of_concern(concern.id)] == [item.id]
    steps = db.session.scalars(select(AgendaStep).where(AgendaStep.item_id == item.id)).all()
    assert [(s.status, s.note) for s in steps] == [("resolved", "The law firm holds a monthly advice morning")]
    # The owner unit took the item on: one resource match, even when the resolution is changed.
    alliance.resolve(item.id, alliance.Resolution("Twice a month", law.id, None, DAY + timedelta(30)),
                     any_hall.admin_id)
    assert count(ResourceMatch, ResourceMatch.agenda_item_id == item.id) == 1
    # Changing the resolution notes it in the concern without moving it again.
    assert fresh(Concern, concern.id).status == "in_progress"
    assert count(ConcernStep, ConcernStep.concern_id == concern.id) == 4


def test_a_concern_already_in_progress_keeps_its_status_and_a_finished_one_cannot_be_taken_up(any_hall):
    law, clinic = units()
    meeting = a_meeting(law, clinic)
    busy = a_concern(any_hall, "in_progress")
    item = alliance.add_item(meeting.id, "concern", concern_id=busy.id, topic="Drains")
    alliance.resolve(item.id, alliance.Resolution("Dig it out", None, any_hall.admin_id, DAY), any_hall.admin_id)
    assert fresh(Concern, busy.id).status == "in_progress"
    assert fresh(Concern, busy.id).steps[-1].status is None
    done = ledger.record(ledger.Raised("other", "Asked and answered", answer="Yes"), any_hall.admin_id)
    with pytest.raises(Refusal) as refused:
        alliance.add_item(meeting.id, "concern", concern_id=done.id)
    assert refused.value.field == "concern"
    assert [c.id for c in alliance.concerns_to_take_up()] == [busy.id]
    assert [c.id for c in alliance.concerns_to_take_up(busy.code.lower())] == [busy.id]
    assert [c.id for c in alliance.concerns_to_take_up("gate 2")] == [busy.id]
    assert alliance.concerns_to_take_up("nothing like it") == []


def test_partner_and_staff_topics_and_their_refusals(any_hall):
    law, clinic = units()
    meeting = a_meeting(law, clinic)
    item = alliance.add_item(meeting.id, "partner", "Free legal advice", suggested_by_unit_id=law.id)
    assert item.suggested_by_unit_id == law.id and item.concern_id is None
    alliance.add_item(meeting.id, "staff", "Winter heating checks")
    for args, field in ((("partner", "x"), "suggested_by_unit"), (("staff", ""), "topic"),
                        (("staff", "Winter heating checks"), "topic"), (("concern", ""), "concern"),
                        (("elsewhere", "x"), "source")):
        with pytest.raises(Refusal) as refused:
            alliance.add_item(meeting.id, *args)
        assert refused.value.field == field
    assert count(AgendaItem) == 2


def test_resolving_needs_a_resolution_an_owner_and_a_due_date_not_before_the_meeting(any_hall):
    law, clinic = units()
    item = alliance.add_item(a_meeting(law, clinic).id, "staff", "Lights in building 3")
    for decided, field in ((alliance.Resolution("", law.id, None, DAY), "resolution"),
                           (alliance.Resolution("Fix them", None, None, DAY), "owner_unit"),
                           (alliance.Resolution("Fix them", law.id, None, None), "due_on"),
                           (alliance.Resolution("Fix them", law.id, None, DAY - timedelta(1)), "due_on")):
        with pytest.raises(Refusal) as refused:
            alliance.resolve(item.id, decided, any_hall.admin_id)
        assert refused.value.field == field
    assert fresh(AgendaItem, item.id).status == "proposed"


def test_following_an_item_to_done_closes_it_and_overdue_counts_only_open_items(any_hall):
    law, clinic = units()
    item = alliance.add_item(a_meeting(law, clinic).id, "staff", "Lights in building 3")
    with pytest.raises(Refusal):
        alliance.follow(item.id, "", "done", any_hall.admin_id)  # not resolved yet
    alliance.resolve(item.id, alliance.Resolution("Fix them", None, any_hall.admin_id, DAY + timedelta(10)),
                     any_hall.admin_id)
    item = fresh(AgendaItem, item.id)
    assert not alliance.is_overdue(item, today=DAY + timedelta(10))
    assert alliance.is_overdue(item, today=DAY + timedelta(11))
    assert [i.id for i in db.session.scalars(alliance.items_query(overdue=True, today=DAY + timedelta(11)))] == [item.id]
    with pytest.raises(Refusal) as refused:
        alliance.follow(item.id, "", None, any_hall.admin_id)
    assert refused.value.field == "note"
    alliance.follow(item.id, "The electrician came", "in_progress", any_hall.admin_id)
    with pytest.raises(Refusal) as refused:
        alliance.resolve(item.id, alliance.Resolution("Other", law.id, None, DAY), any_hall.admin_id)
    assert refused.value.reason == "started"
    assert fresh(AgendaItem, item.id).closed_at is None
    alliance.follow(item.id, "All lights work", "done", any_hall.admin_id)
    item = fresh(AgendaItem, item.id)
    assert item.status == "done" and item.closed_at is not None
    assert not alliance.is_overdue(item, today=DAY + timedelta(60))
    with pytest.raises(Refusal) as refused:
        alliance.follow(item.id, "again", "in_progress", any_hall.admin_id)
    assert refused.value.field == "status"
    assert [s.status for s in item.steps] == ["resolved", "in_progress", "done"]


def test_dropping_needs_the_reason(any_hall):
    law, clinic = units()
    item = alliance.add_item(a_meeting(law, clinic).id, "staff", "A topic")
    with pytest.raises(Refusal) as refused:
        alliance.follow(item.id, "", "dropped", any_hall.admin_id)
    assert refused.value.field == "note"
    alliance.follow(item.id, "Not the alliance's business", "dropped", any_hall.admin_id)
    assert fresh(AgendaItem, item.id).closed_at is not None


# --- Resource matches ---------------------------------------------------------------------------

def a_published_wish(hall, description="a school bag"):
    resident = hall.resident()
    wish = wishes.submit(resident, wishes.Request("wish", "school", description), token(), "phone", limited=False)
    wishes.publish(wish.id, "王家", "3号楼", hall.admin_id)
    return wish


def test_a_units_confirmed_claim_and_its_fulfilment_make_one_match(any_hall):
    law, _clinic = units()
    wish = a_published_wish(any_hall)
    claim = wishes.claim(wish.id, token(), partner_unit_id=law.id)
    assert count(ResourceMatch) == 0  # waiting for staff
    wishes.confirm_claim(claim.id, any_hall.admin_id)
    match = db.session.scalars(select(ResourceMatch)).one()
    assert (match.kind, match.partner_unit_id, match.wish_id, match.day) == ("wish", law.id, wish.id, hall_today())
    wishes.fulfil(wish.id, wishes.Done(hall_today(), "brought a bag", 30), any_hall.admin_id)
    assert count(ResourceMatch) == 1


def test_a_wish_fulfilled_by_a_unit_without_a_claim_is_a_match_and_a_volunteers_is_not(any_hall):
    law, _clinic = units()
    by_unit = a_published_wish(any_hall, "a kettle")
    wishes.fulfil(by_unit.id, wishes.Done(hall_today() - timedelta(2), "a kettle", 10, partner_unit_id=law.id),
                  any_hall.admin_id)
    by_volunteer = a_published_wish(any_hall, "a lamp")
    wishes.confirm_claim(wishes.claim(by_volunteer.id, token(), "13908911001", "洛桑").id, any_hall.admin_id)
    wishes.fulfil(by_volunteer.id, wishes.Done(hall_today(), "a lamp", 10), any_hall.admin_id)
    matches = db.session.scalars(select(ResourceMatch)).all()
    assert [(m.wish_id, m.day) for m in matches] == [(by_unit.id, hall_today() - timedelta(2))]
    assert alliance.matches_by_unit() == {law.id: 1}


def test_a_unit_running_an_activity_is_one_match(any_hall):
    law, clinic = units()
    with write_transaction() as s:
        activity = Activity(code="HEALTH01", title_zh="义诊", day=DAY, starts_at=time(9), ends_at=time(11),
                            place="Hall", organiser="partner", partner_unit_id=clinic.id)
        s.add(activity)
    match = alliance.match_activity(activity.id, clinic.id, any_hall.admin_id)
    again = alliance.match_activity(activity.id, clinic.id, any_hall.admin_id)
    assert match.id == again.id and match.day == DAY and match.kind == "activity"
    with pytest.raises(Refusal):
        alliance.match_activity(999, clinic.id, any_hall.admin_id)
    rows = db.session.scalars(alliance.matches_query(kind="activity", start=DAY, end=DAY)).all()
    assert [m.activity_id for m in rows] == [activity.id]
    assert db.session.scalars(alliance.matches_query(unit_id=law.id)).all() == []
    assert alliance.what_was_matched(rows[0]) == "义诊"


def test_a_match_holds_exactly_the_reference_of_its_kind_once(any_hall):
    law, _clinic = units()
    wish = a_published_wish(any_hall)
    with pytest.raises(IntegrityError):
        with write_transaction() as s:
            s.add(ResourceMatch(partner_unit_id=law.id, kind="activity", wish_id=wish.id, day=DAY))
    with pytest.raises(IntegrityError):
        with write_transaction() as s:
            s.add(ResourceMatch(partner_unit_id=law.id, kind="wish", day=DAY))
    with write_transaction() as s:
        s.add(ResourceMatch(partner_unit_id=law.id, kind="wish", wish_id=wish.id, day=DAY))
    with pytest.raises(IntegrityError):
        with write_transaction() as s:
            s.add(ResourceMatch(partner_unit_id=law.id, kind="wish", wish_id=wish.id, day=DAY))
    assert count(ResourceMatch) == 1
