"""The wish rules, through the domain actions of kiosk.wishes, on SQLite and on PostgreSQL:
submitting and its limits, staff review (publish, decline, merge, convert, assign), claims on
the wall and their decision, fulfilment and thanks, the volunteer hours, and the constraints the
database keeps by itself. Last, the photos a request carries (SQLite only: files, no rows)."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from io import BytesIO

import pytest
from flask_babel import force_locale
from flask import current_app
from PIL import Image
from sqlalchemy import func, select, text, update
from werkzeug.datastructures import FileStorage

from kiosk import codes, photos, wishes
from kiosk.database import is_sqlite, write_transaction
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import Claim, Concern, Fulfilment, Volunteer, Wish
from kiosk.models.base import utcnow
from kiosk.refusal import Refusal
from tests.conftest import token
from tests.test_classes_rules import _blocked_behind, db_refuses
from tests.test_lending import refused


def request(**changes) -> wishes.Request:
    values = {"kind": "wish", "category": "school", "description": "A school bag for my grandson"}
    return wishes.Request(**{**values, **changes})


def submit(resident_id, form_token=None, channel="phone", device="phone-1", limited=True, **changes) -> Wish:
    return wishes.submit(resident_id, request(**changes), form_token or token(), channel, device, limited)


def published(hall, **changes) -> int:
    """A new resident's request, on the wall as "Grandma D." of "Building 3"; its id."""
    n = db.session.scalar(select(func.count()).select_from(Wish))
    wish = submit(hall.resident(mobile=f"1360000{n:04d}", name=f"居民{n}"), device=f"phone-{n}", **changes)
    return wishes.publish(wish.id, "Grandma D.", "Building 3", hall.admin_id).id


def volunteer(n=0, name=None, team="North", sub_team="general") -> int:
    return wishes.save_volunteer(name or f"志愿者{n}", f"1350000{n:04d}", team, sub_team).id


def unit(name="Power Supply Bureau", active=True) -> int:
    return wishes.save_partner_unit(name, "Mr Wang", "0891-1234567", "2026-Q3", active).id


def claim_by(wish_id, n=0, name=None, form_token=None) -> Claim:
    """Volunteer n (mobile 1370000nnnn) claims on the wall."""
    return wishes.claim(wish_id, form_token or token(), f"1370000{n:04d}", name or f"志愿者{n}")


def status_of(wish_id) -> str:
    db.session.expire_all()
    return db.session.get(Wish, wish_id).status


def done(minutes=90, what="Carried the rice up", **who) -> wishes.Done:
    return wishes.Done(done_on=hall_today(), what_was_done=what, minutes=minutes, **who)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- Submitting -----------------------------------------------------------------------------

def test_a_request_is_received_with_a_receipt_code(any_hall):
    resident = any_hall.resident()
    wish = submit(resident, description="  A school bag  ", visit_times="Evenings")
    assert (wish.status, wish.kind, wish.category, wish.description) == ("received", "wish", "school", "A school bag")
    assert (wish.channel, wish.device, wish.resident_id) == ("phone", "phone-1", resident)
    assert len(wish.code) == codes.LENGTH and set(wish.code) <= set(codes.ALPHABET)
    assert wishes.find_wish(codes.formatted(wish.code).lower()).id == wish.id
    assert wishes.find_wish("nope") is None
    for kind, category in [("help", "company"), ("repair", "repair")]:
        assert submit(resident, kind=kind, category=category, building_unit="3-2-401").kind == kind
    assert submit(resident, channel="kiosk", device="", limited=False, description="x" * 500).description == "x" * 500


def test_what_no_request_may_be_is_refused_before_anything_is_written(any_hall):
    resident = any_hall.resident()
    for reason, changes in [("kind", {"kind": "gift"}), ("category", {"category": "toys"}),
                            ("description", {"description": "   "}), ("description", {"description": "x" * 501}),
                            ("building_unit", {"kind": "repair", "category": "repair", "building_unit": "  "})]:
        assert refused(reason, submit, resident, **changes).field == reason
    assert count(Wish) == 0


def test_a_double_tap_is_one_request_and_nobody_elses(any_hall):
    resident, other = any_hall.resident(), any_hall.resident(mobile="13700000099", name="别人")
    form = token()
    first = submit(resident, form_token=form)
    assert submit(resident, form_token=form).id == first.id
    assert count(Wish) == 1
    refused("stale_form", submit, other, form_token=form)


# --- Rate limits ----------------------------------------------------------------------------

def too_many(resident_id, **kw):
    assert refused("too_many", submit, resident_id, **kw).status == 429


def test_a_resident_sends_only_so_many_requests_a_day_from_any_phone(any_hall):
    limit = current_app.config["WISH_LIMIT_PER_MOBILE"]
    resident = any_hall.resident()
    taps = [token() for _ in range(limit)]
    for n, form in enumerate(taps):
        submit(resident, form_token=form, device=f"phone-{n}")
    too_many(resident, device="another-phone")
    assert submit(resident, form_token=taps[-1]).status == "received"  # a late double tap is no new request
    # At the hall tablet staff are beside them: never limited.
    for _ in range(limit + 1):
        submit(resident, channel="kiosk", device="", limited=False)

    # A day later the phone works again; 23 hours is not a day.
    with write_transaction() as s:
        s.execute(update(Wish).values(created_at=utcnow() - timedelta(hours=23)))
    too_many(resident, device="another-phone")
    with write_transaction() as s:
        s.execute(update(Wish).values(created_at=utcnow() - timedelta(hours=25)))
    assert submit(resident, device="another-phone").status == "received"


def test_tablet_requests_do_not_count_against_the_phone(any_hall):
    limit = current_app.config["WISH_LIMIT_PER_MOBILE"]
    resident = any_hall.resident()
    for _ in range(limit + 2):
        submit(resident, channel="kiosk", device="", limited=False)
    for n in range(limit):
        submit(resident, device=f"phone-{n}")
    too_many(resident, device="phone-x")


def test_one_phone_sends_only_so_many_requests_a_day_for_anyone(any_hall):
    limit = current_app.config["WISH_LIMIT_PER_DEVICE"]
    neighbours = [any_hall.resident(mobile=f"1370000{n:04d}", name=f"邻居{n}") for n in range(limit + 1)]
    for resident in neighbours[:limit]:
        submit(resident, device="shared-phone")
    too_many(neighbours[limit], device="shared-phone")
    assert submit(neighbours[limit], device="own-phone").status == "received"


# --- Staff review ---------------------------------------------------------------------------

def test_publishing_puts_a_request_on_the_wall_under_an_alias(any_hall):
    wish = submit(any_hall.resident()).id
    refused("alias", wishes.publish, wish, "  ", "Building 3", any_hall.admin_id)
    refused("area", wishes.publish, wish, "Grandma D.", "", any_hall.admin_id)
    assert wishes.wall() == []

    on_wall = wishes.publish(wish, "  Grandma   D. ", "Building 3", any_hall.admin_id)
    assert (on_wall.status, on_wall.alias, on_wall.area) == ("published", "Grandma D.", "Building 3")
    assert on_wall.reviewed_by_id == any_hall.admin_id and on_wall.published_at is not None
    since = on_wall.published_at
    assert [w.id for w in wishes.wall()] == [wish]
    assert wishes.wall("health") == [] and [w.id for w in wishes.wall("nonsense")] == [wish]

    # Staff correct the alias and area of a wish on the wall, claimed or not; it stays where it was.
    edited = wishes.publish(wish, "Grandpa T.", "Building 4", any_hall.admin_id)
    assert (edited.status, edited.alias, edited.area, edited.published_at) == \
        ("published", "Grandpa T.", "Building 4", since)
    claim_by(wish)
    edited = wishes.publish(wish, "Grandpa T.", "Building 5", any_hall.admin_id)
    assert (edited.status, edited.area) == ("claimed", "Building 5")
    assert [w.id for w in wishes.wall()] == [wish]  # shown as taken

    declined = submit(any_hall.resident()).id
    wishes.decline(declined, "Not something we can do", any_hall.admin_id)
    refused("wrong_status", wishes.publish, declined, "Grandma D.", "Building 3", any_hall.admin_id)


def test_declining_needs_a_reason_the_resident_will_read(any_hall):
    wish = submit(any_hall.resident()).id
    assert refused("reason", wishes.decline, wish, "   ", any_hall.admin_id).field == "reason"
    declined = wishes.decline(wish, "  Please ask the school directly ", any_hall.admin_id)
    assert (declined.status, declined.decline_reason) == ("declined", "Please ask the school directly")
    refused("wrong_status", wishes.decline, wish, "again", any_hall.admin_id)
    claimed = published(any_hall)
    claim_by(claimed)
    refused("wrong_status", wishes.decline, claimed, "too late", any_hall.admin_id)


def test_a_duplicate_joins_another_open_request_and_follows_it(any_hall):
    resident = any_hall.resident()
    first, second, third = (submit(resident).id for _ in range(3))
    code_of = {w: db.session.get(Wish, w).code for w in (first, second, third)}

    refused("merge_target", wishes.merge, first, code_of[first], any_hall.admin_id)  # itself
    refused("merge_target", wishes.merge, first, "ABCD-EFGH", any_hall.admin_id)
    merged = wishes.merge(first, codes.formatted(code_of[second]).lower(), any_hall.admin_id)
    assert (merged.status, merged.merged_into_id) == ("merged", second)
    refused("wrong_status", wishes.merge, first, code_of[third], any_hall.admin_id)
    refused("merge_target", wishes.merge, third, code_of[first], any_hall.admin_id)  # a merged one

    # The request it joined is merged in turn: the resident follows the chain to its end.
    wishes.merge(second, code_of[third], any_hall.admin_id)
    assert wishes.followed(db.session.get(Wish, first)).id == third
    assert wishes.followed(db.session.get(Wish, third)).id == third


def test_a_request_that_ended_is_no_merge_target(any_hall):
    duplicate = submit(any_hall.resident()).id
    declined, converted, fulfilled = (published(any_hall) for _ in range(3))
    wishes.decline(declined, "no", any_hall.admin_id)
    wishes.convert_to_concern(converted, "other", any_hall.admin_id)
    wishes.fulfil(fulfilled, done(), any_hall.admin_id)
    for closed in (declined, converted, fulfilled):
        refused("merge_target", wishes.merge, duplicate, db.session.get(Wish, closed).code, any_hall.admin_id)
    assert status_of(duplicate) == "received"


def test_a_community_problem_becomes_a_concern_once(any_hall):
    resident = any_hall.resident()
    wish = submit(resident, kind="help", category="other", description="The drain is blocked",
                  building_unit="Building 3").id
    refused("category", wishes.convert_to_concern, wish, "potholes", any_hall.admin_id)
    concern = wishes.convert_to_concern(wish, "roads_drains", any_hall.admin_id)
    assert (concern.from_wish_id, concern.description, concern.place, concern.resident_id, concern.status) == \
        (wish, "The drain is blocked", "Building 3", resident, "open")
    assert status_of(wish) == "converted" and wishes.concern_of(wish).id == concern.id
    refused("wrong_status", wishes.convert_to_concern, wish, "roads_drains", any_hall.admin_id)
    assert count(Concern) == 1


def test_a_home_repair_is_assigned_to_a_volunteer_with_repair_skills(any_hall):
    repair = submit(any_hall.resident(), kind="repair", category="repair", building_unit="3-2-401").id
    general, skilled = volunteer(1), volunteer(2, sub_team="repair_skills")
    away = wishes.save_volunteer("Away", "13500009999", "North", "repair_skills", active=False).id
    assert refused("skill", wishes.assign, repair, general, any_hall.admin_id).field == "volunteer"
    refused("no_volunteer", wishes.assign, repair, away, any_hall.admin_id)
    refused("no_volunteer", wishes.assign, repair, 10_000, any_hall.admin_id)

    assigned = wishes.assign(repair, skilled, any_hall.admin_id)
    assert (assigned.status, assigned.assigned_volunteer_id) == ("in_progress", skilled)
    assert [w.id for w in wishes.jobs_of(skilled)] == [repair] and wishes.jobs_of(general) == []

    # Anyone may take on a wish; not while someone's claim on it is live.
    wish = published(any_hall)
    claimed = claim_by(wish, 3)
    refused("wrong_status", wishes.assign, wish, general, any_hall.admin_id)  # pending: staff decide first
    wishes.confirm_claim(claimed.id, any_hall.admin_id)
    refused("claimed", wishes.assign, wish, general, any_hall.admin_id)
    assert [w.id for w in wishes.jobs_of(claimed.volunteer_id)] == [wish]


# --- Claims on the wall ---------------------------------------------------------------------

def test_a_volunteer_claims_by_mobile_and_name(any_hall):
    wish = published(any_hall)
    refused("name", claim_by, wish, name="  ")
    assert refused("mobile", wishes.claim, wish, token(), "12345", "Dorje").field == "mobile"
    claimed = claim_by(wish, 1, name="  Dorje   Tsering ", form_token="tap")
    assert claim_by(wish, 1, name="Dorje Tsering", form_token="tap").id == claimed.id  # a double tap
    refused("stale_form", claim_by, published(any_hall), 1, form_token="tap")  # not another wish's form
    assert claimed.status == "pending" and status_of(wish) == "claimed"
    newcomer = db.session.get(Volunteer, claimed.volunteer_id)
    assert (newcomer.name, newcomer.mobile, newcomer.confirmed_at, newcomer.sub_team) == \
        ("Dorje Tsering", "13700000001", None, "general")
    assert len(newcomer.key) >= 20 and wishes.find_volunteer_by_key(newcomer.key).id == newcomer.id
    assert wishes.live_claim(wish).id == claimed.id

    refusal = refused("taken", claim_by, wish, 2)
    with force_locale("en"):
        assert "Someone has just offered" in refusal.message
    assert count(Claim) == 1 and count(Volunteer) == 1  # the second volunteer was not recorded

    # The same mobile under another name is refused; the same name typed otherwise is the same person.
    other = published(any_hall)
    assert refused("name_mismatch", claim_by, other, 1, name="Someone Else").field == "name"
    assert claim_by(other, 1, name=" Dorje\tＴsering ").volunteer_id == newcomer.id


def test_a_partner_unit_claims_from_its_list(any_hall):
    wish = published(any_hall)
    bureau, closed = unit(), unit("Old Cooperative", active=False)
    assert [u.id for u in wishes.partner_units()] == [bureau]
    assert {u.id for u in wishes.partner_units(active_only=False)} == {bureau, closed}
    assert refused("no_unit", wishes.claim, wish, token(), partner_unit_id=closed).field == "partner_unit"
    refused("no_unit", wishes.claim, wish, token(), partner_unit_id=10_000)
    claimed = wishes.claim(wish, token(), partner_unit_id=bureau, note="We bring two people " * 20)
    assert (claimed.partner_unit_id, claimed.volunteer_id, len(claimed.note)) == (bureau, None, 200)
    refused("taken", wishes.claim, wish, token(), partner_unit_id=bureau)


def test_only_a_wish_on_the_wall_can_be_claimed(any_hall):
    received = submit(any_hall.resident()).id
    refused("not_on_wall", claim_by, received)
    declined = published(any_hall)
    wishes.decline(declined, "no", any_hall.admin_id)
    refused("not_on_wall", claim_by, declined)
    fulfilled = published(any_hall)
    wishes.fulfil(fulfilled, done(), any_hall.admin_id)
    refused("taken", claim_by, fulfilled)
    refused("no_wish", claim_by, 10_000)
    assert count(Claim) == 0 and count(Volunteer) == 0


def behind_a_held_wish(ctx, wish_id, *calls) -> list:
    """Run each call in a thread of its own (a worker of its own) while another transaction holds
    the wish (staff editing it); let go once all of them wait for it. What each call returned,
    or the reason it was refused."""
    locked, release = threading.Event(), threading.Event()
    holder = {}

    def hold():
        with ctx.app_context(), write_transaction() as s:
            s.scalar(select(Wish).where(Wish.id == wish_id).with_for_update())
            holder["pid"] = None if is_sqlite() else s.scalar(text("SELECT pg_backend_pid()"))
            locked.set()
            release.wait(10)

    def answer(call):
        with ctx.app_context():
            try:
                return call()
            except Refusal as refusal:
                return refusal.reason

    with ThreadPoolExecutor(len(calls) + 1) as pool:
        held = pool.submit(hold)
        assert locked.wait(10)
        answers = [pool.submit(answer, call) for call in calls]
        if holder["pid"] is None:
            time.sleep(0.5)  # they wait in BEGIN IMMEDIATE; SQLite cannot show who waits
        else:
            deadline = time.monotonic() + 10
            while _blocked_behind(holder["pid"]) < len(calls) and time.monotonic() < deadline:
                time.sleep(0.05)
        release.set()
        held.result(20)
        return [answer.result(20) for answer in answers]


def test_a_double_tap_reaching_two_workers_is_still_one_claim(any_hall, ctx):
    """The same claim form reaches two workers while the wish is held: both must answer with
    the same claim, not "someone else has just taken it"."""
    wish = published(any_hall)
    form = token()
    answers = behind_a_held_wish(ctx, wish, *[lambda: claim_by(wish, 1, form_token=form).id] * 2)
    db.session.rollback()  # this session's snapshot is older than the claim
    assert answers == db.session.scalars(select(Claim.id)).all() * 2, answers


def test_staff_confirm_or_release_a_claim_once(any_hall):
    wish = published(any_hall)
    first = claim_by(wish, 1)
    released = wishes.release_claim(first.id, any_hall.admin_id)
    assert (released.status, released.decided_by_id) == ("released", any_hall.admin_id)
    assert released.decided_at is not None
    assert status_of(wish) == "published" and [w.id for w in wishes.wall()] == [wish]
    assert wishes.live_claim(wish) is None
    refused("decided", wishes.confirm_claim, first.id, any_hall.admin_id)

    second = claim_by(wish, 2)  # back on the wall: someone else may take it
    assert db.session.get(Volunteer, second.volunteer_id).confirmed_at is None
    confirmed = wishes.confirm_claim(second.id, any_hall.admin_id)
    assert confirmed.status == "confirmed" and status_of(wish) == "in_progress"
    assert db.session.get(Volunteer, second.volunteer_id).confirmed_at is not None
    refused("decided", wishes.confirm_claim, second.id, any_hall.admin_id)
    assert wishes.wall() == []
    refused("no_claim", wishes.release_claim, 10_000, any_hall.admin_id)

    # A confirmed volunteer who drops out is released too: the wish goes back on the wall, once.
    assert wishes.release_claim(second.id, any_hall.admin_id).status == "released"
    assert status_of(wish) == "published" and [w.id for w in wishes.wall()] == [wish]
    refused("decided", wishes.release_claim, second.id, any_hall.admin_id)

    # Once the wish is fulfilled, its claim stays as it was.
    third = claim_by(wish, 3)
    wishes.fulfil(wish, done(), any_hall.admin_id)
    refused("wrong_status", wishes.release_claim, third.id, any_hall.admin_id)
    assert db.session.get(Claim, third.id).status == "confirmed"


# --- Fulfilment and thanks ------------------------------------------------------------------

def test_fulfilment_records_who_did_what_once(any_hall):
    wish = published(any_hall)
    claimed = claim_by(wish, 1)
    assert refused("what", wishes.fulfil, wish, done(what="  "), any_hall.admin_id).field == "what_was_done"
    for minutes in (-1, 6001):
        assert refused("minutes", wishes.fulfil, wish, done(minutes), any_hall.admin_id).field == "minutes"
    tomorrow = wishes.Done(hall_today() + timedelta(days=1), "Carried the rice up", 30)
    assert refused("done_on", wishes.fulfil, wish, tomorrow, any_hall.admin_id).field == "done_on"

    record = wishes.fulfil(wish, done(0), any_hall.admin_id)
    assert (record.volunteer_id, record.partner_unit_id, record.minutes) == (claimed.volunteer_id, None, 0)
    assert status_of(wish) == "fulfilled" and wishes.fulfilment_of(wish).id == record.id
    refused("wrong_status", wishes.fulfil, wish, done(), any_hall.admin_id)
    assert count(Fulfilment) == 1

    repair = published(any_hall, kind="repair", category="repair", building_unit="3-2-401")
    skilled = volunteer(5, sub_team="repair_skills")
    wishes.assign(repair, skilled, any_hall.admin_id)
    assert wishes.fulfil(repair, done(6000), any_hall.admin_id).volunteer_id == skilled

    by_unit = published(any_hall)
    bureau = unit()
    wishes.claim(by_unit, token(), partner_unit_id=bureau)
    record = wishes.fulfil(by_unit, done(), any_hall.admin_id)
    assert (record.volunteer_id, record.partner_unit_id) == (None, bureau)
    # Staff name who did it: that one is credited, not the claimant.
    other = published(any_hall)
    wishes.claim(other, token(), partner_unit_id=bureau)
    record = wishes.fulfil(other, done(volunteer_id=skilled), any_hall.admin_id)
    assert (record.volunteer_id, record.partner_unit_id) == (skilled, None)
    refused("wrong_status", wishes.fulfil, submit(any_hall.resident()).id, done(), any_hall.admin_id)


def test_fulfilling_a_pending_claim_confirms_the_claim_and_its_volunteer(any_hall):
    """As confirm_claim does: the newcomer who did the work is known to staff from then on."""
    wish = published(any_hall)
    claimed = claim_by(wish, 1)
    wishes.fulfil(wish, done(), any_hall.admin_id)
    db.session.expire_all()
    claim = db.session.get(Claim, claimed.id)
    assert (claim.status, claim.decided_by_id) == ("confirmed", any_hall.admin_id)
    assert claim.decided_at is not None
    assert db.session.get(Volunteer, claimed.volunteer_id).confirmed_at is not None


def test_the_resident_thanks_once_after_fulfilment(any_hall):
    wish = published(any_hall)
    refused("not_fulfilled", wishes.thank, wish, 5, "Thank you")
    wishes.fulfil(wish, done(), any_hall.admin_id)
    for rating in (0, 6):
        assert refused("rating", wishes.thank, wish, rating, "").field == "rating"
    thanked = wishes.thank(wish, 4, "  Thank you, Dorje!  ")
    assert (thanked.rating, thanked.thanks) == (4, "Thank you, Dorje!") and thanked.rated_at is not None
    again = wishes.thank(wish, 1, "changed my mind")
    assert (again.rating, again.thanks) == (4, "Thank you, Dorje!")


def test_hours_add_up_by_volunteer_and_by_team(any_hall):
    north, south = volunteer(1, team="North"), volunteer(2, team="North", sub_team="repair_skills")
    for who, minutes in [(north, 90), (north, 30), (south, 45)]:
        wishes.fulfil(published(any_hall), done(minutes, volunteer_id=who), any_hall.admin_id)
    wishes.fulfil(published(any_hall), done(500, partner_unit_id=unit()), any_hall.admin_id)  # no volunteer
    assert [(v.id, n, m) for v, n, m in wishes.hours_by_volunteer()] == [(north, 2, 120), (south, 1, 45)]
    assert wishes.hours_by_team() == [("North", "general", 2, 120), ("North", "repair_skills", 1, 45)]
    assert wishes.counts_by_status() == {"fulfilled": 4}


# --- Volunteers and partner units -----------------------------------------------------------

def test_volunteers_are_known_by_their_mobile(any_hall):
    first = wishes.save_volunteer("  Pema  ", "138 0013 8001", " North ", "elderly_health")
    assert (first.name, first.mobile, first.team, first.sub_team) == ("Pema", "13800138001", "North", "elderly_health")
    assert first.confirmed_at is not None and first.active
    assert refused("mobile_taken", wishes.save_volunteer, "Dawa", "13800138001", "", "general").field == "mobile"
    refused("sub_team", wishes.save_volunteer, "Dawa", "13800138002", "", "cooking")
    refused("name", wishes.save_volunteer, " ", "13800138002", "", "general")
    assert refused("mobile", wishes.save_volunteer, "Dawa", "0891-123", "", "general").field == "mobile"
    edited = wishes.save_volunteer("Pema", "13800138001", "South", "general", active=False, volunteer_id=first.id)
    assert (edited.id, edited.team, edited.active) == (first.id, "South", False)
    assert wishes.volunteers() == [] and len(wishes.volunteers(active_only=False)) == 1


def test_partner_units_have_a_unique_name_and_a_chair_quarter(any_hall):
    bureau = wishes.save_partner_unit("Power  Supply Bureau", "Mr Wang", "0891-1234567", "2026-q3")
    assert (bureau.name, bureau.chair_quarter) == ("Power Supply Bureau", "2026-Q3")
    for quarter in ("2026-Q5", "26-Q3", "2026Q3", "Q3-2026"):
        assert refused("quarter", wishes.save_partner_unit, "School", "", "", quarter).field == "chair_quarter"
    assert wishes.save_partner_unit("School", "", "", "").chair_quarter == ""
    refused("name_taken", wishes.save_partner_unit, " Power Supply  Bureau ", "", "", "")
    refused("name", wishes.save_partner_unit, "  ", "", "", "")


# --- What the database refuses by itself ------------------------------------------------------

def raw_claim(wish_id, **columns) -> Claim:
    """A claim row written past kiosk.wishes, as a bug or a hand-edit would."""
    return Claim(**{"wish_id": wish_id, "form_token": token(), "status": "pending", **columns})


def raw_fulfilment(wish_id, **columns) -> Fulfilment:
    return Fulfilment(**{"wish_id": wish_id, "done_on": hall_today(), "what_was_done": "x", "minutes": 5,
                         **columns})


def test_the_database_keeps_one_live_claim_per_wish(any_hall):
    wish = published(any_hall)
    claimed = claim_by(wish, 1)
    bureau = unit()
    live = ("uq_claim_live_wish", "claim.wish_id")
    db_refuses(*live, rows=[raw_claim(wish, partner_unit_id=bureau)])
    db_refuses(*live, rows=[raw_claim(wish, partner_unit_id=bureau, status="confirmed")])
    with write_transaction() as s:  # released claims are history, as many as there were
        s.add_all([raw_claim(wish, partner_unit_id=bureau, status="released") for _ in range(2)])
    wishes.release_claim(claimed.id, any_hall.admin_id)
    with write_transaction() as s:
        s.add(raw_claim(wish, partner_unit_id=bureau))


def test_the_database_keeps_one_claimant_per_claim(any_hall):
    wish = published(any_hall)
    someone = volunteer(1)
    db_refuses("one_claimant", rows=[raw_claim(wish, volunteer_id=someone, partner_unit_id=unit())])
    db_refuses("one_claimant", rows=[raw_claim(wish)])


def test_the_database_keeps_one_fulfilment_per_wish_and_sane_values(any_hall):
    wish = published(any_hall)
    wishes.fulfil(wish, done(), any_hall.admin_id)
    db_refuses("uq_fulfilment_wish_id", "fulfilment.wish_id", rows=[raw_fulfilment(wish)])
    db_refuses("ck_fulfilment_minutes", rows=[raw_fulfilment(published(any_hall), minutes=6001)])
    db_refuses("ck_wish_rating", change=update(Wish).where(Wish.id == wish).values(rating=6))
    db_refuses("ck_wish_merged_into", change=update(Wish).where(Wish.id == wish).values(status="merged"))
    db_refuses("ck_wish_status", change=update(Wish).where(Wish.id == wish).values(status="lost"))


# --- Photos ---------------------------------------------------------------------------------

GPS_IFD, ORIENTATION = 0x8825, 0x0112


def upload(data: bytes, filename="photo.jpg") -> FileStorage:
    return FileStorage(stream=BytesIO(data), filename=filename)


def picture(size=(200, 100), fmt="JPEG", exif: Image.Exif | None = None) -> bytes:
    out = BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, fmt, **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def phone_exif() -> Image.Exif:
    """What a phone writes: where the home is (GPS), the camera, and "turn me a quarter right"."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[ORIENTATION] = 6
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (29.0, 39.0, 0.0), 3: "E", 4: (91.0, 7.0, 0.0)})
    return exif


@pytest.fixture
def app_ctx(app, tmp_path):
    app.config.update(UPLOAD_FOLDER=str(tmp_path / "uploads"), PHOTO_MAX_SIDE=64)
    with app.app_context():
        yield app


def test_a_photo_is_kept_upright_small_and_without_its_exif(app_ctx, tmp_path):
    data = picture(exif=phone_exif())
    assert Image.open(BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the upload does carry the position
    name = photos.save_photo(upload(data))
    path = photos.path_of(name)
    assert path is not None and path.parent == tmp_path / "uploads"
    with Image.open(path) as kept:
        assert kept.format == "JPEG" and kept.size == (32, 64)  # turned upright, longest side 64
        assert len(kept.getexif()) == 0 and "exif" not in kept.info
    assert b"PhoneMaker" not in path.read_bytes()

    png = photos.save_photo(upload(picture((300, 300), "PNG"), "screenshot.png"))
    with Image.open(photos.path_of(png)) as kept:
        assert (kept.format, kept.size) == ("JPEG", (64, 64))
    assert photos.save_photo(None) is None and photos.save_photo(upload(b"", "")) is None


def test_what_is_not_a_photo_is_refused(app_ctx):
    jpeg = picture((400, 300))
    for data, filename in [(b"hello, this is a letter", "letter.txt"), (jpeg[: len(jpeg) // 2], "cut.jpg")]:
        assert refused("photo_type", photos.save_photo, upload(data, filename)).field == "photo"
    app_ctx.config["PHOTO_MAX_BYTES"] = len(jpeg) - 1
    assert refused("photo_size", photos.save_photo, upload(jpeg), field="done_photo").field == "done_photo"
    assert list(photos.folder().iterdir()) == []


def test_only_names_the_module_made_are_opened(app_ctx):
    name = photos.save_photo(upload(picture()))
    assert photos.path_of(name) is not None
    for bad in ("../x.jpg", "a.jpg", "", None, f"../{name}"[:36], name.replace(".jpg", ".png"),
                name.upper(), "0" * 32 + ".jpg"):
        assert photos.path_of(bad) is None, bad
