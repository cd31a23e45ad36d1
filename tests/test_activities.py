"""The activity rules, through kiosk.activities, on SQLite and on PostgreSQL: seats then the waiting
list (places 1..n, no gaps), moving up on a cancellation, no limit, double taps, one live place
per resident, closing after the day or on cancellation, capacity changes, attendance."""
from datetime import time as clock
from datetime import timedelta

import pytest
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kiosk import activities, people
from kiosk.database import write_transaction
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import ActivitySeat, SignUp
from tests.conftest import token
from tests.test_lending import refused


def fields(**changes) -> activities.ActivityFields:
    values = dict(code="HEALTH", title_zh="免费体检", title_bo="", title_en="Free health check",
                  description_zh="社区医院医生来大厅", description_bo="", description_en="Doctors come to the hall",
                  day=hall_today() + timedelta(days=5), starts_at=clock(9), ends_at=clock(11, 30),
                  place="活动室", capacity=3, organiser="staff", team="", partner_unit_id=None)
    return activities.ActivityFields(**{**values, **changes})


def new_activity(**changes) -> int:
    return activities.save_activity(fields(**changes)).id


def residents(hall, n: int, first: int = 0) -> list[int]:
    return [hall.resident(mobile=f"1360000{k:04d}", name=f"居民{k}") for k in range(first, first + n)]


def sign(activity_id, resident_id, form_token=None, **kw):
    return activities.sign_up(activity_id, resident_id, form_token or token(), "phone", **kw)


def state(activity_id) -> list[tuple]:
    db.session.expire_all()
    return list(db.session.execute(select(SignUp.id, SignUp.status, SignUp.seat, SignUp.wait_ticket)
                                   .where(SignUp.activity_id == activity_id).order_by(SignUp.id)))


def waiting_places(activity_id) -> list[int]:
    return [activities.waiting_place(p) for p in activities.waiting_list(activity_id)]


def seat_rows(activity_id) -> list[int]:
    return list(db.session.scalars(select(ActivitySeat.number).where(ActivitySeat.activity_id == activity_id)
                                   .order_by(ActivitySeat.number)))


def test_seats_then_the_waiting_list_with_places_without_gaps(any_hall):
    activity = new_activity(capacity=3)
    assert seat_rows(activity) == [1, 2, 3]
    made = [sign(activity, r) for r in residents(any_hall, 6)]
    assert [(p.status, p.seat) for p in made[:3]] == [("confirmed", 1), ("confirmed", 2), ("confirmed", 3)]
    assert [p.status for p in made[3:]] == ["waiting"] * 3
    assert waiting_places(activity) == [1, 2, 3]
    seats = activities.seats(db.session.get(activities.Activity, activity))
    assert (seats.capacity, seats.taken, seats.waiting, seats.free) == (3, 3, 3, 0)
    # The second waiting leaves: the third becomes 2nd, no gap.
    activities.cancel_place(made[4].id)
    assert waiting_places(activity) == [1, 2]
    assert activities.waiting_place(db.session.get(SignUp, made[5].id)) == 2


def test_a_cancelled_seat_goes_to_exactly_the_first_waiting(any_hall):
    activity = new_activity(capacity=2)
    made = [sign(activity, r) for r in residents(any_hall, 5)]
    ended = activities.cancel_place(made[0].id, staff_id=any_hall.admin_id)
    assert ended.sign_up.status == "cancelled" and ended.sign_up.seat is None
    assert [p.id for p in ended.promoted] == [made[2].id]
    rows = {i: (status, seat) for i, status, seat, _ticket in state(activity)}
    assert rows[made[2].id] == ("confirmed", 1)
    assert rows[made[3].id][0] == rows[made[4].id][0] == "waiting"
    assert [p.id for p in activities.to_call(activity)] == [made[2].id]
    # Twice (a double tap): nothing more moves.
    assert activities.cancel_place(made[0].id).promoted == []
    assert waiting_places(activity) == [1, 2]
    activities.mark_called(made[2].id)
    assert activities.to_call(activity) == []
    # A new waiting ticket is never an old one.
    later = sign(activity, made[0].resident_id)
    assert later.status == "waiting" and later.wait_ticket == 4


def test_no_limit_seats_everyone_and_makes_seat_rows_as_they_come(any_hall):
    activity = new_activity(capacity=None)
    assert seat_rows(activity) == []
    made = [sign(activity, r) for r in residents(any_hall, 4)]
    assert [(p.status, p.seat) for p in made] == [("confirmed", n) for n in (1, 2, 3, 4)]
    assert seat_rows(activity) == [1, 2, 3, 4]
    seats = activities.seats(db.session.get(activities.Activity, activity))
    assert seats.unlimited and seats.free is None and seats.taken == 4
    activities.cancel_place(made[1].id)
    assert sign(activity, made[1].resident_id).seat == 5


def test_the_same_token_twice_signs_up_once(any_hall):
    activity = new_activity()
    resident, other = residents(any_hall, 2)
    tap = token()
    first = sign(activity, resident, tap)
    again = sign(activity, resident, tap)
    assert again.id == first.id and again.receipt == first.receipt
    assert len(state(activity)) == 1
    # The same token for someone else is a stale form, not a second sign-up.
    assert refused("stale_form", sign, activity, other, tap)


def test_one_live_place_per_resident(any_hall):
    activity = new_activity(capacity=1)
    first, second = residents(any_hall, 2)
    sign(activity, first)
    # The message says which: a seat, or a place on the waiting list (in the hall's language).
    assert refused("already_signed_up", sign, activity, first).message == gettext(
        "You are already signed up for this activity.")
    waiting = sign(activity, second)
    assert refused("already_signed_up", sign, activity, second).message == gettext(
        "You are already on the waiting list of this activity.")
    # Once cancelled, they may sign up again.
    activities.cancel_place(waiting.id)
    assert sign(activity, second).status == "waiting"
    # The database holds the rule by itself too.
    with pytest.raises(IntegrityError), write_transaction() as s:
        s.add(SignUp(activity_id=activity, resident_id=first, receipt="ZZZZ2222", form_token=token(),
                     status="waiting", wait_ticket=99, channel="staff"))


def test_closed_after_its_day_and_when_cancelled(any_hall):
    today = hall_today()
    resident, other = residents(any_hall, 2)
    over = new_activity(code="PAST", day=today - timedelta(days=1))
    assert refused("activity_over", sign, over, resident)
    on_the_day = new_activity(code="TODAY", day=today)
    assert sign(on_the_day, resident).status == "confirmed"
    # The day as the caller gives it: the next morning it is over.
    assert refused("activity_over", sign, on_the_day, other, today=today + timedelta(days=1))
    soon = new_activity(code="SOON")
    seated = sign(soon, resident)
    activities.cancel_activity(soon, any_hall.admin_id)
    assert refused("activity_cancelled", sign, soon, other)
    # Nobody moves up into a cancelled activity, and its sign-ups stay for staff to call.
    assert activities.cancel_place(seated.id).promoted == []
    activities.restore_activity(soon)
    assert sign(soon, other).status == "confirmed"


def test_sign_up_resident_refuses_before_recording_anyone(any_hall):
    from kiosk.models import Resident

    over = db.session.get(activities.Activity, new_activity(day=hall_today() - timedelta(days=3)))
    assert refused("activity_over", activities.sign_up_resident, over, "13712345678", "新人", True, token(),
                   "phone")
    assert db.session.scalar(select(Resident).where(Resident.mobile == "13712345678")) is None
    soon = db.session.get(activities.Activity, new_activity(code="SOON"))
    done = activities.sign_up_resident(soon, "137 1234 5678", "新人", True, token(), "kiosk")
    assert done.status == "confirmed" and done.resident.name == "新人"


def test_capacity_changes_add_and_remove_free_seats_and_refuse_below_the_taken(any_hall):
    activity = new_activity(capacity=3)
    made = [sign(activity, r) for r in residents(any_hall, 5)]  # seats 1-3, two waiting
    # More places: the waiting move up at once.
    activities.save_activity(fields(capacity=5), activity)
    assert seat_rows(activity) == [1, 2, 3, 4, 5]
    assert [p.status for p in activities.confirmed(activity)] == ["confirmed"] * 5
    assert set(activities.to_call(activity)) == {db.session.get(SignUp, made[3].id), db.session.get(SignUp, made[4].id)}
    # Below the seats taken: refused, nothing changes.
    assert refused("seats_taken", activities.save_activity, fields(capacity=4), activity).field == "capacity"
    assert seat_rows(activity) == [1, 2, 3, 4, 5]
    # Two leave (seats 1 and 2); three stay in seats 3, 4, 5: down to 3 moves them into 1..3.
    activities.cancel_place(made[0].id)
    activities.cancel_place(made[1].id)
    activities.save_activity(fields(capacity=3), activity)
    assert seat_rows(activity) == [1, 2, 3]
    assert sorted(p.seat for p in activities.confirmed(activity)) == [1, 2, 3]
    # No limit, then a limit again.
    activities.save_activity(fields(capacity=None), activity)
    sign(activity, made[0].resident_id)
    assert seat_rows(activity) == [1, 2, 3, 4]
    assert refused("seats_taken", activities.save_activity, fields(capacity=3), activity)
    activities.save_activity(fields(capacity=10), activity)
    assert seat_rows(activity) == list(range(1, 11))


def test_saving_checks_code_titles_times_organiser(any_hall):
    activity = new_activity(code="health-check")
    assert db.session.get(activities.Activity, activity).code == "HEALTH-CHECK"
    assert refused("code_taken", activities.save_activity, fields(code="Health-Check")).field == "code"
    assert refused("code", activities.save_activity, fields(code="体检")).field == "code"
    assert refused("title", activities.save_activity, fields(code="X1", title_zh=" ")).field == "title_zh"
    assert refused("times", activities.save_activity, fields(code="X1", ends_at=clock(8))).field == "ends_at"
    assert refused("capacity", activities.save_activity, fields(code="X1", capacity=0)).field == "capacity"
    assert refused("team", activities.save_activity, fields(code="X1", organiser="team")).field == "team"
    assert refused("partner", activities.save_activity, fields(code="X1", organiser="partner")).field \
        == "partner_unit_id"
    team = activities.save_activity(fields(code="X1", organiser="team", team=" 红扳手 "))
    assert team.team == "红扳手"


def test_attendance_on_the_day_for_those_with_a_seat(any_hall):
    today = hall_today()
    activity = new_activity(capacity=1, day=today + timedelta(days=2))
    seated, waiting = (sign(activity, r) for r in residents(any_hall, 2))
    assert refused("too_early", activities.mark, seated.id, True)
    assert activities.mark(seated.id, True, today=today + timedelta(days=2)).attended is True
    assert activities.mark(seated.id, False, today=today + timedelta(days=3)).attended is False
    assert refused("not_confirmed", activities.mark, waiting.id, True, today=today + timedelta(days=2))


def test_merge_erase_and_export_cover_sign_ups(any_hall):
    activity = new_activity(capacity=None)
    keep, other, third = residents(any_hall, 3)
    mine = sign(activity, other)
    both = new_activity(code="BOTH")
    sign(both, keep)
    twin = sign(both, other)
    assert "免费体检" in refused("same_sign_up", people.merge, keep, other).message
    activities.cancel_place(twin.id)
    merged = people.merge(keep, other)
    assert merged.moved["sign_up"] == 2
    assert db.session.get(SignUp, mine.id).resident_id == keep
    exported = people.export(keep)
    assert {s["activity_code"] for s in exported["sign_ups"]} == {"HEALTH", "BOTH"}
    # A live place blocks erasing; once cancelled, the sign-up rows stay for the figures.
    assert refused("open", people.erase, keep)
    for place in activities.confirmed(activity) + activities.confirmed(both):
        activities.cancel_place(place.id)
    assert not people.erase(keep).already
    assert db.session.scalar(select(SignUp).where(SignUp.id == mine.id)).resident_id == keep
    assert third
