"""The afternoon tea and the concerns ledger through their domain actions (kiosk.tea, kiosk.ledger),
on SQLite and on PostgreSQL: planning a session and its sign-in window, who is invited and who is
suggested, signing in once, the sign-in tokens the tablet's QR carries, a concern from the table to
its end, and the constraints the database keeps by itself."""
import time as clock
from datetime import date, datetime, time, timedelta

import itsdangerous
import pytest
from flask import current_app
from sqlalchemy import func, select, update

from kiosk import codes, ledger, tea, wishes
from kiosk.database import write_transaction
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import (
    Concern,
    ConcernStep,
    Resident,
    TeaInvitation,
    TeaSession,
    TeaSignIn,
)
from tests.test_classes_rules import db_refuses
from tests.test_lending import refused
from tests.test_wishes_rules import submit

DAY = date(2026, 3, 10)  # a Tuesday; the tea from 15:00 to 17:00


def fields(**changes) -> tea.SessionFields:
    values = {"day": DAY, "starts_at": time(15), "ends_at": time(17), "place": "Hall, 2nd floor",
              "theme": "Bins at the east gate", "host": "Dolma", "officials": "书记 张, 民警 李"}
    return tea.SessionFields(**{**values, **changes})


def session_on(hall, day=DAY, **changes) -> int:
    return tea.save_session(fields(day=day, **changes), hall.admin_id).id


def neighbours(hall, *units) -> list[int]:
    """One resident per building_unit given, with consent (mobiles 1390000nnnn)."""
    first = db.session.scalar(select(func.count()).select_from(Resident))
    return [hall.resident(mobile=f"1390000{first + n:04d}", name=f"居民{first + n}", unit=unit)
            for n, unit in enumerate(units)]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second))


# --- Sessions -------------------------------------------------------------------------------

def test_a_session_needs_a_place_an_end_after_its_start_and_a_sane_target(any_hall):
    for reason, field, changes in [("place", "place", {"place": "  "}),
                                   ("times", "ends_at", {"ends_at": time(15)}),
                                   ("times", "ends_at", {"ends_at": time(14, 59)}),
                                   ("target", "target", {"target": 0}),
                                   ("target", "target", {"target": 61})]:
        assert refused(reason, tea.save_session, fields(**changes), any_hall.admin_id).field == field
    assert count(TeaSession) == 0

    smallest = tea.save_session(fields(target=1, place="  Hall  ", theme=" Jobs "), any_hall.admin_id)
    assert (smallest.target, smallest.place, smallest.theme, smallest.created_by_id) == \
        (1, "Hall", "Jobs", any_hall.admin_id)
    largest = session_on(any_hall, target=60)

    # Editing changes the session in place; the other one is untouched.
    edited = tea.save_session(fields(day=DAY + timedelta(days=1), starts_at=time(9), ends_at=time(10),
                                     place="Courtyard", target=15), any_hall.admin_id, session_id=smallest.id)
    assert edited.id == smallest.id and count(TeaSession) == 2
    db.session.expire_all()
    again = db.session.get(TeaSession, smallest.id)
    assert (again.day, again.starts_at, again.ends_at, again.place, again.target) == \
        (DAY + timedelta(days=1), time(9), time(10), "Courtyard", 15)
    assert db.session.get(TeaSession, largest).target == 60
    refused("target", tea.save_session, fields(target=61), any_hall.admin_id, session_id=smallest.id)
    assert db.session.get(TeaSession, smallest.id).target == 15


def test_signing_in_opens_early_and_closes_at_the_end(any_hall):
    session = db.session.get(TeaSession, session_on(any_hall))
    assert current_app.config["TEA_EARLY_MINUTES"] == 30
    assert tea.window(session) == (at(DAY, 14, 30), at(DAY, 17))
    for now, open_ in [(at(DAY, 14, 29, 59), False), (at(DAY, 14, 30), True), (at(DAY, 16), True),
                       (at(DAY, 17), True), (at(DAY, 17, 0, 1), False),
                       (at(DAY - timedelta(days=1), 15), False), (at(DAY + timedelta(days=1), 15), False)]:
        assert tea.window_open(session, now) is open_, now
    current_app.config["TEA_EARLY_MINUTES"] = 0
    assert not tea.window_open(session, at(DAY, 14, 59)) and tea.window_open(session, at(DAY, 15))


def test_the_session_at_the_table_is_the_one_whose_window_is_open(any_hall):
    afternoon = session_on(any_hall)
    morning = session_on(any_hall, starts_at=time(9), ends_at=time(10, 30))
    tomorrow = session_on(any_hall, day=DAY + timedelta(days=1))
    for now, expected in [(at(DAY, 8, 45), morning), (at(DAY, 10, 30), morning), (at(DAY, 12), None),
                          (at(DAY, 14, 45), afternoon), (at(DAY, 17, 30), None),
                          (at(DAY - timedelta(days=1), 15), None)]:
        found = tea.today_session(now)
        assert (found and found.id) == expected, now
    assert [s.id for s in tea.upcoming(DAY)] == [morning, afternoon, tomorrow]


# --- Invitations ----------------------------------------------------------------------------

@pytest.mark.parametrize("unit, building", [
    ("3号楼2单元", "3"), ("12栋", "12"), (" 5 号楼 1单元 401", "5"), ("7幢3单元", "7"), ("9号院", "9"),
    ("东区菜市场旁", "东区菜市场旁"), ("  ", "?"), (None, "?"),
])
def test_the_building_of_a_resident_is_its_number_or_the_place_they_wrote(unit, building):
    assert tea.building_of(Resident(building_unit=unit)) == building


def invited(session_id) -> dict[int, str]:
    """resident id -> answer, straight from the database."""
    db.session.expire_all()
    return dict(db.session.execute(select(TeaInvitation.resident_id, TeaInvitation.answer)
                                   .where(TeaInvitation.session_id == session_id)).all())


def invitation_of(session_id, resident_id) -> TeaInvitation:
    return db.session.scalar(select(TeaInvitation).where(TeaInvitation.session_id == session_id,
                                                         TeaInvitation.resident_id == resident_id))


def test_invitations_are_added_once_and_answered(any_hall):
    session = session_on(any_hall)
    a, b, c = neighbours(any_hall, "1号楼", "2号楼", "3号楼")
    assert tea.invite(session, [a, b, a]) == 2
    assert tea.invite(session, [b, c]) == 1
    assert tea.invite(session, []) == 0
    assert invited(session) == {a: "pending", b: "pending", c: "pending"}

    tea.uninvite(invitation_of(session, b).id)
    tea.uninvite(10_000)  # already gone: nothing to do
    assert set(invited(session)) == {a, c}

    answered = tea.record_answer(invitation_of(session, a).id, "declined")
    assert answered.answer == "declined" and answered.answered_at is not None
    tea.record_answer(invitation_of(session, c).id, "no_answer")
    assert refused("answer", tea.record_answer, invitation_of(session, a).id, "maybe").field == "answer"
    refused("no_invitation", tea.record_answer, 10_000, "accepted")
    assert invited(session) == {a: "declined", c: "no_answer"}


def suggested(session_id, count=None) -> set[int]:
    return {s.resident.id for s in tea.suggest(session_id, count)}


def signed_in_at(hall, resident_id, day) -> None:
    """The resident came to a tea on `day`."""
    tea.sign_in(session_on(hall, day=day), resident_id, "staff")


def test_the_suggestion_skips_the_invited_the_unwilling_and_who_came_recently(any_hall):
    session = session_on(any_hall)
    waiting, invited_here, opted_out, came_60_days_ago, came_61_days_ago, came_later = \
        neighbours(any_hall, *(f"{n}号楼" for n in range(1, 7)))
    with write_transaction() as s:
        s.add(Resident(mobile="13700000001", name="没同意", building_unit="1号楼"))  # never consented
    tea.invite(session, [invited_here])
    tea.set_opt_out(opted_out, True)
    signed_in_at(any_hall, came_60_days_ago, DAY - timedelta(days=tea.RECENT_DAYS))
    signed_in_at(any_hall, came_61_days_ago, DAY - timedelta(days=tea.RECENT_DAYS + 1))
    signed_in_at(any_hall, came_later, DAY + timedelta(days=14))

    assert suggested(session) == {waiting, came_61_days_ago, came_later}
    tea.set_opt_out(opted_out, False)  # changed their mind
    assert opted_out in suggested(session)
    assert len(suggested(session, 2)) == 2


def test_the_suggestion_puts_the_least_invited_and_longest_waiting_first(any_hall):
    session = session_on(any_hall, target=3)
    twice, once_long_ago, once_lately, never = neighbours(any_hall, "1号楼", "1号楼", "1号楼", "1号楼")
    for days, who in [(300, [twice, once_long_ago]), (200, [twice]), (100, [once_lately])]:
        tea.invite(session_on(any_hall, day=DAY - timedelta(days=days)), who)
    people = tea.suggest(session)
    assert [(p.resident.id, p.times_invited, p.last_invited) for p in people] == [
        (never, 0, None), (once_long_ago, 1, DAY - timedelta(days=300)),
        (once_lately, 1, DAY - timedelta(days=100))]
    assert {p.building for p in people} == {"1"}


# --- Signing in -----------------------------------------------------------------------------

def test_signing_in_twice_is_one_attendance_and_accepts_the_invitation(any_hall):
    session = session_on(any_hall)
    resident, walk_in = neighbours(any_hall, "1号楼", "2号楼")
    tea.invite(session, [resident])
    tea.record_answer(invitation_of(session, resident).id, "declined")  # and came all the same

    first, new = tea.sign_in(session, resident, "qr")
    assert new and (first.session_id, first.resident_id, first.how) == (session, resident, "qr")
    assert invited(session) == {resident: "accepted"}
    again, new = tea.sign_in(session, resident, "tablet")
    assert not new and again.id == first.id and again.how == "qr"
    assert count(TeaSignIn) == 1

    assert tea.sign_in(session, walk_in, "walk_in")[1]  # not invited: signed in, no invitation made
    assert set(invited(session)) == {resident}
    assert [s.resident_id for s in tea.sign_ins(session)] == [resident, walk_in]
    with pytest.raises(ValueError):
        tea.sign_in(session, walk_in, "carrier pigeon")


def test_only_the_invited_tap_their_name(any_hall):
    session = session_on(any_hall)
    stranger, = neighbours(any_hall, "3号楼")
    refused("not_invited", tea.sign_in, session, stranger, "tablet")
    assert count(TeaSignIn) == 0


def test_a_phone_signs_in_only_a_resident_the_hall_knows(any_hall):
    resident = any_hall.resident(mobile="13800138000", name="次仁 多吉")
    assert tea.known_resident("+86 138-0013-8000", " 次仁  多吉 ").id == resident
    assert refused("mobile", tea.known_resident, "12345", "次仁 多吉").field == "mobile"
    assert refused("unknown", tea.known_resident, "13900139000", "次仁 多吉").field == "mobile"
    refused("unknown", tea.known_resident, "13800138000", "王芳")


# --- Sign-in tokens -------------------------------------------------------------------------

def made_ago(seconds: int, session_id: int, monkeypatch) -> str:
    """A token the tablet showed `seconds` ago (itsdangerous reads its clock through get_timestamp)."""
    with monkeypatch.context() as m:
        m.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: int(clock.time()) - seconds)
        return tea.new_token(session_id)


def today_from_midnight(hall) -> int:
    """A tea all day today: its window is open whenever the test runs."""
    return session_on(hall, day=hall_today(), starts_at=time(0), ends_at=time(23, 59, 59))


def test_a_fresh_token_opens_its_session(any_hall, monkeypatch):
    session = today_from_midnight(any_hall)
    assert tea.session_for_token(tea.new_token(session)).id == session
    lifetime = current_app.config["TEA_TOKEN_SECONDS"]
    assert tea.session_for_token(made_ago(lifetime - 5, session, monkeypatch)).id == session
    # The window is checked at the moment given.
    assert tea.session_for_token(tea.new_token(session), now=at(hall_today(), 12)).id == session


def test_a_token_older_than_its_lifetime_is_refused(any_hall, monkeypatch):
    session = today_from_midnight(any_hall)
    lifetime = current_app.config["TEA_TOKEN_SECONDS"]
    for seconds in (lifetime + 2, 24 * 3600):
        refused("token_expired", tea.session_for_token, made_ago(seconds, session, monkeypatch))


@pytest.mark.parametrize("forge", [
    lambda good: good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"),  # another signature
    lambda good: "OTk" + good[good.index("."):],  # the payload swapped for the id 99 (base64 of "99")
    lambda good: itsdangerous.URLSafeTimedSerializer("another key", salt="tea-sign-in").dumps(1),
    lambda good: itsdangerous.URLSafeTimedSerializer(current_app.config["SECRET_KEY"]).dumps(1),  # no salt
    lambda good: "not-a-token",
    lambda good: "",
], ids=["signature", "payload", "other_key", "other_salt", "garbage", "empty"])
def test_a_forged_token_is_refused(any_hall, forge):
    session = today_from_midnight(any_hall)
    refused("token_bad", tea.session_for_token, forge(tea.new_token(session)))


def test_a_token_for_a_session_that_is_not_there_or_not_an_id_is_refused(any_hall):
    serializer = itsdangerous.URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="tea-sign-in")
    for payload in (10_000, "1", None, [1]):
        refused("token_bad", tea.session_for_token, serializer.dumps(payload))
    gone = today_from_midnight(any_hall)
    token = tea.new_token(gone)
    with write_transaction() as s:
        s.delete(s.get(TeaSession, gone))
    refused("token_bad", tea.session_for_token, token)


def test_a_token_outside_its_sessions_window_is_refused(any_hall):
    for day in (hall_today() - timedelta(days=14), hall_today() + timedelta(days=14)):
        refused("window", tea.session_for_token, tea.new_token(session_on(any_hall, day=day)))
    session = session_on(any_hall)
    token = tea.new_token(session)
    refused("window", tea.session_for_token, token, now=at(DAY, 14, 29))
    assert tea.session_for_token(token, now=at(DAY, 14, 30)).id == session


# --- The concerns ledger --------------------------------------------------------------------

def raised(**changes) -> ledger.Raised:
    values = {"category": "roads_drains", "description": "The drain by building 3 is blocked",
              "place": "3号楼", "urgency": "high"}
    return ledger.Raised(**{**values, **changes})


def for_follow_up(hall, **changes) -> Concern:
    plan = {"proposed_solution": "Ask the office to clear it", "responsible_body": "Sub-district office",
            "due_on": hall_today() + timedelta(days=7)}
    return ledger.record(raised(**{**plan, **changes}), hall.admin_id)


def steps(concern_id) -> list[tuple[str | None, str]]:
    db.session.expire_all()
    return list(db.session.execute(select(ConcernStep.status, ConcernStep.note)
                                   .where(ConcernStep.concern_id == concern_id).order_by(ConcernStep.id)))


def fresh(concern_id) -> Concern:
    db.session.expire_all()
    return db.session.get(Concern, concern_id)


def test_a_concern_answered_on_the_spot_is_done_at_once(any_hall):
    session = session_on(any_hall)
    resident = any_hall.resident()
    concern = ledger.record(raised(answer="  The cleaning team comes on Thursday. ", session_id=session,
                                   resident_id=resident, due_on=hall_today() - timedelta(days=1)),
                            any_hall.admin_id)
    assert (concern.status, concern.answer, concern.source, concern.session_id, concern.resident_id) == \
        ("answered", "The cleaning team comes on Thursday.", "tea", session, resident)
    assert concern.closed_at is not None and concern.created_by_id == any_hall.admin_id
    assert len(concern.code) == codes.LENGTH and ledger.find(codes.formatted(concern.code).lower()).id == concern.id
    assert steps(concern.id) == [("answered", "The cleaning team comes on Thursday.")]
    assert not ledger.is_overdue(concern)  # answered: nothing is late


def test_a_concern_registered_for_follow_up_is_open(any_hall):
    concern = for_follow_up(any_hall, source="phone_call", resident_id=None)
    assert (concern.status, concern.closed_at, concern.responsible_body, concern.source) == \
        ("open", None, "Sub-district office", "phone_call")
    assert steps(concern.id) == [("open", "Ask the office to clear it")]
    assert ledger.record(raised(urgency="low", source="walk_in"), None).status == "open"  # no plan yet


@pytest.mark.parametrize("reason, changes", [
    ("category", {"category": ""}), ("category", {"category": "potholes"}),
    ("description", {"description": "   "}), ("urgency", {"urgency": "urgent"}),
    ("source", {"source": "email"}), ("due_on", {"due_on": date(2020, 1, 1)}),
])
def test_a_concern_that_cannot_be_is_refused_next_to_its_field(any_hall, reason, changes):
    assert refused(reason, ledger.record, raised(**changes), any_hall.admin_id).field == reason
    assert count(Concern) == 0 and count(ConcernStep) == 0


def test_a_concern_followed_to_resident_informed(any_hall):
    concern = for_follow_up(any_hall).id
    refused("status", ledger.follow_up, concern, "told them", any_hall.admin_id, status="informed")
    for status, note in [("referred", "Sent to the office"), ("in_progress", ""), ("resolved", "Cleared")]:
        assert ledger.follow_up(concern, note, any_hall.admin_id, status=status).status == status
        assert fresh(concern).closed_at is None
    refused("status", ledger.follow_up, concern, "", any_hall.admin_id, status="referred")  # no way back
    informed = ledger.follow_up(concern, "Told her by phone", any_hall.admin_id, status="informed", satisfied=True)
    assert (informed.status, informed.satisfied) == ("informed", True) and informed.closed_at is not None
    assert steps(concern) == [("open", "Ask the office to clear it"), ("referred", "Sent to the office"),
                              ("in_progress", ""), ("resolved", "Cleared"), ("informed", "Told her by phone")]
    for status in ledger.NEXT:
        refused("status", ledger.follow_up, concern, "x", any_hall.admin_id, status=status)
    assert fresh(concern).status == "informed"


def test_an_answered_concern_moves_nowhere(any_hall):
    concern = ledger.record(raised(answer="Done"), any_hall.admin_id).id
    for status in ledger.NEXT:
        assert refused("status", ledger.follow_up, concern, "x", any_hall.admin_id, status=status).field == "status"
    refused("finished", ledger.plan, concern, "Another plan", "", None, any_hall.admin_id)
    assert fresh(concern).status == "answered" and len(steps(concern)) == 1


def test_closing_unresolved_needs_the_reason(any_hall):
    concern = for_follow_up(any_hall).id
    ledger.follow_up(concern, "", any_hall.admin_id, status="referred")
    assert refused("reason", ledger.follow_up, concern, "   ", any_hall.admin_id,
                   status="closed_unresolved").field == "note"
    closed = ledger.follow_up(concern, " The land belongs to the railway ", any_hall.admin_id,
                              status="closed_unresolved")
    assert (closed.status, closed.closed_reason) == ("closed_unresolved", "The land belongs to the railway")
    assert closed.closed_at is not None and closed.satisfied is None


def test_a_note_without_a_status_is_a_step_of_the_history(any_hall):
    concern = for_follow_up(any_hall).id
    assert refused("note", ledger.follow_up, concern, "  ", any_hall.admin_id).field == "note"
    assert ledger.follow_up(concern, " Called the office, no answer ", any_hall.admin_id).status == "open"
    assert steps(concern)[1:] == [(None, "Called the office, no answer")]
    refused("no_concern", ledger.follow_up, 10_000, "note", any_hall.admin_id)


def test_a_change_of_plan_is_kept_in_the_history(any_hall):
    concern = for_follow_up(any_hall).id
    due = hall_today() + timedelta(days=30)
    changed = ledger.plan(concern, " Replace the pipe ", " Water bureau ", due, any_hall.admin_id)
    assert (changed.proposed_solution, changed.responsible_body, changed.due_on, changed.status) == \
        ("Replace the pipe", "Water bureau", due, "open")
    ledger.plan(concern, "", "", None, any_hall.admin_id)
    assert steps(concern)[1:] == [(None, f"Replace the pipe · Water bureau · {due.isoformat()}"), (None, "")]
    refused("no_concern", ledger.plan, 10_000, "", "", None, any_hall.admin_id)


def test_a_concern_past_its_due_date_is_overdue_until_it_is_resolved(any_hall):
    concern = for_follow_up(any_hall)
    due = concern.due_on
    assert not ledger.is_overdue(concern)
    assert not ledger.is_overdue(concern, today=due) and ledger.is_overdue(concern, today=due + timedelta(days=1))
    for status in ("referred", "in_progress"):
        ledger.follow_up(concern.id, "", any_hall.admin_id, status=status)
        assert ledger.is_overdue(fresh(concern.id), today=due + timedelta(days=1))
    ledger.follow_up(concern.id, "", any_hall.admin_id, status="resolved")
    assert not ledger.is_overdue(fresh(concern.id), today=due + timedelta(days=1))
    assert not ledger.is_overdue(ledger.record(raised(), None), today=date(2100, 1, 1))  # no due date


def descriptions(**filters) -> set[str]:
    return {c.description for c in db.session.scalars(ledger.ledger_query(**filters))}


def test_the_ledger_filters(any_hall):
    session = session_on(any_hall)
    for_follow_up(any_hall, description="late", responsible_body="Water Bureau")
    for_follow_up(any_hall, description="on time", category="safety", session_id=session, source="tea")
    ledger.record(raised(description="answered", answer="ok", source="walk_in"), None)
    referred = for_follow_up(any_hall, description="referred", source="wish").id
    ledger.follow_up(referred, "", any_hall.admin_id, status="referred")
    with write_transaction() as s:
        s.execute(update(Concern).where(Concern.description.in_(("late", "answered")))
                  .values(due_on=hall_today() - timedelta(days=1)))

    assert descriptions() == {"late", "on time", "answered", "referred"}
    assert db.session.scalars(ledger.ledger_query()).first().description == "referred"  # newest first
    for filters, expected in [({"status": "open"}, {"late", "on time"}), ({"status": "referred"}, {"referred"}),
                              ({"category": "safety"}, {"on time"}), ({"body": " water bu "}, {"late"}),
                              ({"body": "office"}, {"on time", "referred"}), ({"overdue": True}, {"late"}),
                              ({"session_id": session}, {"on time"}), ({"source": "walk_in"}, {"answered"}),
                              ({"status": "open", "category": "roads_drains"}, {"late"}),
                              ({"status": "", "category": None, "body": ""}, {"late", "on time", "answered", "referred"})]:
        assert descriptions(**filters) == expected, filters


def test_every_concern_gets_a_code_of_its_own(any_hall, monkeypatch):
    first = ledger.record(raised(), None)
    fresh_codes = iter([first.code, first.code, "ABCDEFGH"])
    monkeypatch.setattr(codes, "new_code", lambda: next(fresh_codes))
    assert ledger.record(raised(), None).code == "ABCDEFGH"  # drew the taken code twice, then a free one
    monkeypatch.undo()
    made = {ledger.record(raised(), None).code for _ in range(20)}
    assert len(made) == 20 and first.code not in made and "ABCDEFGH" not in made


def test_a_wish_about_the_whole_building_becomes_a_concern_with_a_code_and_a_history(any_hall):
    wish = submit(any_hall.resident(), kind="help", category="other", description="No light on the stairs",
                  building_unit="3号楼2单元").id
    concern = wishes.convert_to_concern(wish, "housing_repairs", any_hall.admin_id)
    assert (concern.source, concern.status, concern.category, concern.from_wish_id) == \
        ("wish", "open", "housing_repairs", wish)
    assert ledger.find(concern.code).id == concern.id
    assert steps(concern.id) == [("open", "")]
    assert descriptions(source="wish") == {"No light on the stairs"}


# --- What the database refuses by itself ------------------------------------------------------

def test_the_database_keeps_one_sign_in_and_one_invitation_per_resident_and_session(any_hall):
    session = session_on(any_hall)
    resident, other = neighbours(any_hall, "1号楼", "2号楼")
    tea.sign_in(session, resident, "qr")
    tea.invite(session, [resident])
    db_refuses("uq_tea_sign_in_session_resident", "tea_sign_in.session_id, tea_sign_in.resident_id",
               rows=[TeaSignIn(session_id=session, resident_id=resident, how="tablet")])
    db_refuses("uq_tea_invitation_session_resident", "tea_invitation.session_id, tea_invitation.resident_id",
               rows=[TeaInvitation(session_id=session, resident_id=resident)])
    db_refuses("ck_tea_sign_in_how", rows=[TeaSignIn(session_id=session, resident_id=other, how="fax")])
    with write_transaction() as s:  # another resident is fine: the pair was the problem
        s.add_all([TeaSignIn(session_id=session, resident_id=other, how="tablet"),
                   TeaInvitation(session_id=session, resident_id=other)])


def test_the_database_keeps_concern_statuses_and_satisfaction_sane(any_hall):
    concern = for_follow_up(any_hall).id
    this = update(Concern).where(Concern.id == concern)
    db_refuses("ck_concern_status", change=this.values(status="forgotten"))
    db_refuses("ck_concern_satisfied", change=this.values(satisfied=True))
    db_refuses("ck_concern_category", change=this.values(category="potholes"))
    db_refuses("ck_tea_session_times", rows=[TeaSession(day=DAY, starts_at=time(15), ends_at=time(14), place="Hall")])
    with write_transaction() as s:
        s.execute(this.values(status="informed", satisfied=False))
