"""The afternoon tea through HTTP: signing in on a phone with the tablet's QR (fresh, expired, forged,
another session's token, unknown resident, twice), on the hall tablet (tap your name, walk-ins,
the QR screen, no tea now), and a concern's status page by its receipt code."""
import re
import time as clock
from datetime import date, time, timedelta
from html import unescape

import itsdangerous
import pytest
from sqlalchemy import func, select

from kiosk import ledger, tea
from kiosk.database import write_transaction
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import Concern, Resident, TeaSignIn
from tests.conftest import english_client
from tests.test_wishes_http import error_of, tablet_client

MOBILE = "13800138000"
NAME = "次仁"


@pytest.fixture
def client(app):
    return english_client(app)


@pytest.fixture
def tablet(app, hall):
    return tablet_client(app, hall.admin_id)


def a_session(hall, day: date | None = None) -> int:
    """A tea on `day`, all day long: today's window is open whenever the test runs."""
    fields = tea.SessionFields(day or hall_today(), time(0, 0), time(23, 59), "Hall, 2nd floor",
                               theme="Bins at the east gate", host="Dolma")
    return tea.save_session(fields, hall.admin_id).id


@pytest.fixture
def today_tea(hall):
    return a_session(hall)


def sign_ins() -> list[TeaSignIn]:
    db.session.expire_all()
    return list(db.session.scalars(select(TeaSignIn)))


def residents() -> int:
    return db.session.scalar(select(func.count()).select_from(Resident))


def page_of(response) -> str:
    return response.get_data(as_text=True)


# --- On a phone: /s/<token> ---------------------------------------------------------------------

def test_a_resident_signs_in_on_a_phone_with_a_fresh_token(client, hall, today_tea):
    resident = hall.resident(MOBILE, NAME)
    token = tea.new_token(today_tea)
    page = page_of(client.get(f"/s/{token}"))
    assert 'id="tea-sign-in-form"' in page and f'action="/s/{token}"' in page
    assert "Bins at the east gate" in page and "Hall, 2nd floor" in page
    assert 'name="csrf_token"' in page and 'name="mobile"' in page and 'name="name"' in page

    response = client.post(f"/s/{token}", data={"mobile": "138 0013 8000", "name": NAME})
    assert response.status_code == 200
    assert 'data-signed-in="new"' in page_of(response)
    assert f"Welcome, {NAME}! You are signed in." in page_of(response)
    assert [(s.session_id, s.resident_id, s.how) for s in sign_ins()] == [(today_tea, resident, "qr")]
    # The phone remembers the resident: next time the form is filled in.
    assert client.get_cookie("resident") is not None
    again = page_of(client.get(f"/s/{tea.new_token(today_tea)}"))
    assert f'value="{MOBILE}"' in again and f'value="{NAME}"' in again


def test_signing_in_twice_records_one_attendance(client, hall, today_tea):
    hall.resident(MOBILE, NAME)
    token = tea.new_token(today_tea)
    client.post(f"/s/{token}", data={"mobile": MOBILE, "name": NAME})
    response = client.post(f"/s/{token}", data={"mobile": MOBILE, "name": NAME})
    assert response.status_code == 200
    assert 'data-signed-in="again"' in page_of(response) and "You were already signed in" in page_of(response)
    assert len(sign_ins()) == 1


def refused(response, reason):
    assert response.status_code == 400, response.status_code
    page = page_of(response)
    assert f'data-reason="{reason}"' in page and "You are not signed in" in page
    assert 'id="tea-sign-in-form"' not in page
    return page


def test_a_token_older_than_its_lifetime_is_refused_and_nothing_recorded(app, client, hall, today_tea,
                                                                          monkeypatch):
    hall.resident(MOBILE, NAME)
    app.config["TEA_TOKEN_SECONDS"] = 60
    made_at = clock.time() - 61
    with monkeypatch.context() as m:
        m.setattr(itsdangerous.timed.time, "time", lambda: made_at)
        old = tea.new_token(today_tea)
    assert "expired" in refused(client.get(f"/s/{old}"), "token_expired")
    refused(client.post(f"/s/{old}", data={"mobile": MOBILE, "name": NAME}), "token_expired")
    assert sign_ins() == []


@pytest.mark.parametrize("forge", [
    lambda good: good[:-2] + ("AA" if not good.endswith("AA") else "BB"),  # a changed signature
    lambda good: itsdangerous.URLSafeTimedSerializer("another key", salt="tea-sign-in").dumps(1),
    lambda good: "not-a-token",
    lambda good: itsdangerous.URLSafeTimedSerializer("test-secret", salt="tea-sign-in").dumps("1"),
])
def test_a_forged_token_is_refused_and_nothing_recorded(client, hall, today_tea, forge):
    hall.resident(MOBILE, NAME)
    forged = forge(tea.new_token(today_tea))
    refused(client.get(f"/s/{forged}"), "token_bad")
    refused(client.post(f"/s/{forged}", data={"mobile": MOBILE, "name": NAME}), "token_bad")
    assert sign_ins() == []


@pytest.mark.parametrize("days", [-14, 14])
def test_another_sessions_token_outside_its_window_is_refused(client, hall, today_tea, days):
    hall.resident(MOBILE, NAME)
    other = a_session(hall, day=hall_today() + timedelta(days=days))
    token = tea.new_token(other)
    refused(client.get(f"/s/{token}"), "window")
    refused(client.post(f"/s/{token}", data={"mobile": MOBILE, "name": NAME}), "window")
    assert sign_ins() == []


def test_a_token_that_expires_while_the_form_is_filled_in_is_refused(app, client, hall, today_tea):
    hall.resident(MOBILE, NAME)
    token = tea.new_token(today_tea)
    assert client.get(f"/s/{token}").status_code == 200
    app.config["TEA_TOKEN_SECONDS"] = 0
    clock.sleep(1.1)
    refused(client.post(f"/s/{token}", data={"mobile": MOBILE, "name": NAME}), "token_expired")
    assert sign_ins() == []


@pytest.mark.parametrize("mobile, name, field, words", [
    ("13900139000", NAME, "mobile", "We do not know this name and mobile number"),
    (MOBILE, "王芳", "mobile", "We do not know this name and mobile number"),
    ("12345", NAME, "mobile", "This is not a mobile number"),
    (MOBILE, "", "name", "Please write your name"),
])
def test_an_unknown_resident_or_a_bad_field_is_told_next_to_the_field(client, hall, today_tea, mobile, name,
                                                                       field, words):
    hall.resident(MOBILE, NAME)
    response = client.post(f"/s/{tea.new_token(today_tea)}", data={"mobile": mobile, "name": name})
    assert response.status_code == 422
    assert words in unescape(error_of(page_of(response), field) or "")
    assert sign_ins() == [] and residents() == 1
    assert client.get_cookie("resident") is None


def test_the_tablet_does_not_open_a_phone_sign_in(tablet, today_tea):
    assert tablet.get(f"/kiosk/s/{tea.new_token(today_tea)}").status_code == 404


# --- On the hall tablet ---------------------------------------------------------------------------

def test_the_tablet_pages_are_refused_on_a_browser_that_is_not_the_hall_tablet(client, hall, today_tea):
    resident = hall.resident(MOBILE, NAME)
    tea.invite(today_tea, [resident])
    for path in ("/kiosk/tea/", f"/kiosk/tea/{today_tea}/qr", f"/kiosk/tea/{today_tea}/names",
                 f"/kiosk/tea/{today_tea}/walk-in"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/kiosk/tea/{today_tea}/names/{resident}").status_code == 403
    assert client.post(f"/kiosk/tea/{today_tea}/walk-in",
                       data={"mobile": MOBILE, "name": NAME, "consent": "y"}).status_code == 403
    assert sign_ins() == []
    # At a phone's address the table's pages do not exist at all.
    assert client.get("/tea/").status_code == 404


def test_the_home_tile_opens_the_tea_table(client):
    page = page_of(client.get("/kiosk/"))
    assert re.search(r'<a class="tile tile-tea" href="/kiosk/tea/"', page)
    assert "Coming soon" not in page


def test_no_tea_now_says_when_the_next_one_is(tablet, hall):
    page = page_of(tablet.get("/kiosk/tea/"))
    assert "No afternoon tea right now" in page and "The next date is not planned yet" in page
    a_session(hall, day=hall_today() - timedelta(days=3))
    nxt = a_session(hall, day=hall_today() + timedelta(days=10))
    a_session(hall, day=hall_today() + timedelta(days=24))
    page = page_of(tablet.get("/kiosk/tea/"))
    day = hall_today() + timedelta(days=10)
    assert "No afternoon tea right now" in page and f'data-day="{day.isoformat()}"' in page
    assert nxt and f"/kiosk/tea/{nxt}/" not in page


def test_the_tea_page_offers_the_three_ways_to_sign_in(tablet, today_tea):
    page = page_of(tablet.get("/kiosk/tea/"))
    for path in ("qr", "names", "walk-in"):
        assert f'href="/kiosk/tea/{today_tea}/{path}"' in page
    assert "Sign in with your phone" in page and "Tap your name" in page and "I was not invited" in page
    assert 'href="/kiosk/q"' in page


def test_the_qr_screen_shows_a_code_that_signs_in_to_this_session(app, tablet, today_tea):
    response = tablet.get(f"/kiosk/tea/{today_tea}/qr")
    page = page_of(response)
    assert response.status_code == 200 and "Scan with your phone to sign in" in page
    assert '<svg class="qr"' in page and "data-idle-off" in page
    assert f'hx-get="/kiosk/tea/{today_tea}/qr"' in page and 'hx-trigger="every 30s"' in page
    assert 'hx-swap="outerHTML"' in page
    url = re.search(r'data-url="([^"]+)"', page).group(1)
    assert url.startswith("http://hall.test/s/")
    assert tea.session_for_token(url.rsplit("/", 1)[1]).id == today_tea

    app.config["TEA_QR_SECONDS"] = 20
    block = page_of(tablet.get(f"/kiosk/tea/{today_tea}/qr", headers={"HX-Request": "true"}))
    assert block.lstrip().startswith('<div class="tea-qr"') and "<html" not in block
    assert 'hx-trigger="every 20s"' in block and '<svg class="qr"' in block


def test_the_table_pages_go_back_to_the_tea_page_outside_the_window(tablet, hall):
    past = a_session(hall, day=hall_today() - timedelta(days=1))
    for path in ("qr", "names", "walk-in"):
        response = tablet.get(f"/kiosk/tea/{past}/{path}")
        assert response.status_code == 303 and response.headers["Location"] == "/kiosk/tea/"
    # The QR's own refresh asks for a whole page, not the tea page inside its box.
    response = tablet.get(f"/kiosk/tea/{past}/qr", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"] == "/kiosk/tea/"
    assert tablet.get("/kiosk/tea/9999/names").status_code == 404


def test_an_invited_resident_taps_their_name(tablet, hall, today_tea):
    first = hall.resident(MOBILE, NAME, "3号楼2单元")
    second = hall.resident("13900139000", "王芳")
    tea.invite(today_tea, [first, second])
    page = page_of(tablet.get(f"/kiosk/tea/{today_tea}/names"))
    assert NAME in page and "王芳" in page and "138****8000" in page and MOBILE not in page
    assert f'action="/kiosk/tea/{today_tea}/names/{first}"' in page

    response = tablet.post(f"/kiosk/tea/{today_tea}/names/{first}")
    page = page_of(response)
    assert response.status_code == 200 and 'data-signed-in="new"' in page
    assert f"Welcome, {NAME}! You are signed in." in page
    assert f'data-home-url="/kiosk/tea/{today_tea}/names"' in page and "data-home-after=" in page
    assert [(s.resident_id, s.how) for s in sign_ins()] == [(first, "tablet")]

    names = page_of(tablet.get(f"/kiosk/tea/{today_tea}/names"))
    mine = re.search(rf'<li data-resident="{first}".*?</li>', names, re.DOTALL).group(0)
    assert 'data-signed-in="true"' in mine and "disabled" in mine and "✓" in mine
    assert f'action="/kiosk/tea/{today_tea}/names/{first}"' not in names
    assert f'action="/kiosk/tea/{today_tea}/names/{second}"' in names

    again = tablet.post(f"/kiosk/tea/{today_tea}/names/{first}")
    assert 'data-signed-in="again"' in page_of(again) and "You were already signed in" in page_of(again)
    assert len(sign_ins()) == 1


def test_a_resident_who_was_not_invited_cannot_tap_a_name(tablet, hall, today_tea):
    invited = hall.resident(MOBILE, NAME)
    stranger = hall.resident("13900139000", "王芳")
    tea.invite(today_tea, [invited])
    assert tablet.post(f"/kiosk/tea/{today_tea}/names/{stranger}").status_code == 404
    assert tablet.post(f"/kiosk/tea/{today_tea}/names/9999").status_code == 404
    assert sign_ins() == []


def test_a_walk_in_registers_and_signs_in(tablet, hall, today_tea):
    page = page_of(tablet.get(f"/kiosk/tea/{today_tea}/walk-in"))
    assert 'id="tea-walk-in-form"' in page and 'data-keypad="true"' in page
    assert 'autocomplete="off"' in page and 'name="consent"' in page and 'name="building_unit"' in page

    data = {"mobile": "139 0013 9000", "name": "卓玛", "building_unit": "5号楼1单元"}
    response = tablet.post(f"/kiosk/tea/{today_tea}/walk-in", data=data)
    assert response.status_code == 422 and "Please agree" in (error_of(page_of(response), "consent") or "")
    assert residents() == 0 and sign_ins() == []

    response = tablet.post(f"/kiosk/tea/{today_tea}/walk-in", data={**data, "consent": "y"})
    page = page_of(response)
    assert response.status_code == 200 and 'data-signed-in="new"' in page and "Welcome, 卓玛!" in page
    assert 'data-home-url="/kiosk/tea/"' in page
    resident = db.session.scalar(select(Resident).where(Resident.mobile == "13900139000"))
    assert resident.name == "卓玛" and resident.building_unit == "5号楼1单元" and resident.consent_at
    assert [(s.resident_id, s.how) for s in sign_ins()] == [(resident.id, "walk_in")]
    # The tablet remembers nobody.
    with tablet.session_transaction() as session:
        assert "kiosk_resident_id" not in session


def test_a_walk_in_with_a_known_number_under_another_name_is_told_next_to_the_name(tablet, hall, today_tea):
    hall.resident(MOBILE, NAME)
    response = tablet.post(f"/kiosk/tea/{today_tea}/walk-in",
                           data={"mobile": MOBILE, "name": "王芳", "consent": "y"})
    assert response.status_code == 422
    assert "registered under another name" in (error_of(page_of(response), "name") or "")
    assert sign_ins() == []


# --- A concern's status page ----------------------------------------------------------------------

def a_concern(hall, resident_id, **kw):
    raised = ledger.Raised(**{"category": "roads_drains", "place": "behind building 3",
                              "description": "次仁 says the sewer behind building 3 is blocked",
                              "resident_id": resident_id, **kw})
    return ledger.record(raised, hall.admin_id)


def test_a_concern_shows_its_status_in_words_and_never_who_raised_it(client, hall):
    resident = hall.resident(MOBILE, NAME)
    concern = a_concern(hall, resident, proposed_solution="Clear the sewer and reline it",
                        responsible_body="Sub-district office", due_on=hall_today() + timedelta(days=30))
    ledger.follow_up(concern.id, "Called Mr Wang at the office", hall.admin_id, status="referred")
    page = page_of(client.get(f"/q/{concern.code}"))
    assert 'data-status="referred"' in page and "Passed on" in page
    assert "roads and drains" in page and "Clear the sewer and reline it" in page
    assert "Sub-district office" in page
    assert "Registered for follow-up" in page  # the first step of its history
    assert concern.code[:4] + "-" + concern.code[4:] in page
    for private in (NAME, MOBILE, "138****8000", "Mr Wang", "says the sewer"):
        assert private not in page, private


@pytest.mark.parametrize("steps, words", [
    (["referred", "in_progress"], "Being dealt with"),
    (["in_progress", "resolved"], "The staff will tell you the outcome"),
    (["resolved", "informed"], "Resolved, and you were told"),
    (["closed_unresolved"], "The reason: no budget this year"),
])
def test_a_concern_followed_to_its_end(client, hall, steps, words):
    concern = a_concern(hall, None)
    for step in steps:
        ledger.follow_up(concern.id, "no budget this year" if step == "closed_unresolved" else "",
                         hall.admin_id, status=step)
    page = page_of(client.get(f"/q/{concern.code}"))
    assert f'data-status="{steps[-1]}"' in page and words in page
    for step in steps:
        assert f'<li data-status="{step}">' in page


def test_an_answered_concern_shows_the_answer(client, hall):
    concern = a_concern(hall, None, category="permits_paperwork", description="how to get a residence permit",
                        answer="Bring your ID card to the police office; it takes one day.")
    page = page_of(client.get(f"/q/{concern.code}"))
    assert 'data-status="answered"' in page and "Answered on the spot" in page
    assert "Bring your ID card to the police office" in page and "permits and paperwork" in page


def test_an_overdue_concern_says_it_is_late(client, hall):
    concern = a_concern(hall, None, due_on=hall_today())
    with write_transaction() as s:  # a due date in the past cannot be planned, only reached
        s.get(Concern, concern.id).due_on = hall_today() - timedelta(days=2)
    page = page_of(client.get(f"/q/{concern.code}"))
    assert 'data-overdue="true"' in page and "taking longer than planned" in page


def test_looking_up_a_concern_by_its_code(client, hall):
    concern = a_concern(hall, None)
    page = page_of(client.get("/q"))
    assert 'action="/q/find"' in page and 'name="code"' in page
    response = client.get(f"/q/find?code={concern.code[:4].lower()}-{concern.code[4:].lower()}")
    assert response.status_code == 303 and response.headers["Location"] == f"/q/{concern.code}"
    response = client.get(f"/q/{concern.code.lower()}")
    assert response.status_code == 301 and response.headers["Location"] == f"/q/{concern.code}"
    missing = client.get("/q/find?code=ABCD-EFGH")
    assert missing.status_code == 404 and "We have no concern with this code" in page_of(missing)
    assert client.get("/q/find?code=hello").status_code == 422
    assert client.get("/q/find?code=").status_code == 422


def test_an_unknown_concern_code_is_404(client):
    assert client.get("/q/ABCDEFGH").status_code == 404
    assert client.get("/q/nonsense").status_code == 404
    assert client.get("/kiosk/q/ABCDEFGH").status_code == 404


def test_the_tablet_shows_a_concern_with_a_qr_to_take_home_and_goes_home_by_itself(client, hall):
    concern = a_concern(hall, None)
    page = page_of(client.get(f"/kiosk/q/{concern.code}"))
    assert '<svg class="qr"' in page and 'data-home-url="/kiosk/"' in page and "data-home-after=" in page
    assert '<svg class="qr"' not in page_of(client.get(f"/q/{concern.code}"))
