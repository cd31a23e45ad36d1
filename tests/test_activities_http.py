"""Residents and activities through HTTP: the list, the activity page (/a/<code>, a public address),
signing up on a phone and on the tablet, the receipt with a masked number, cancelling with an
"are you sure" step, the waiting list, and closed activities."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kiosk import activities, visitor
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import Resident, SignUp
from tests.conftest import english_client, token
from tests.test_activities import fields


@pytest.fixture
def client(app):
    return english_client(app)


@pytest.fixture
def activity(hall):
    return activities.save_activity(fields(code="HEALTH", capacity=1)).id


def form(mobile="13912345678", name="王芳", **extra):
    return {"token": token(), "mobile": mobile, "name": name, "consent": "y", **extra}


def receipt_of(response) -> str:
    m = re.search(r"/a/HEALTH/r/([A-Z0-9]{8})$", response.headers["Location"])
    assert m, response.headers.get("Location")
    return m.group(1)


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_activity_page_in_the_readers_language(client, activity):
    page = text(client.get("/a/HEALTH"))
    assert "Free health check" in page and "Doctors come to the hall" in page
    assert "活动室" in page and "Organised by the service hall's staff" in page
    assert "1 place is free." in page and "/a/HEALTH/sign-up" in page
    day = (hall_today() + timedelta(days=5))
    assert str(day.year) in page and "9:00–11:30" in page
    assert client.get("/a/health").status_code == 301
    assert client.get("/a/NOPE").status_code == 404


def test_the_activity_page_in_chinese(app, activity):
    chinese = text(app.test_client().get("/a/HEALTH"))  # Chinese: the hall's default language
    assert "免费体检" in chinese and "社区医院医生来大厅" in chinese and "Free health check" not in chinese


def test_signing_up_by_phone_then_the_waiting_list_and_cancelling(client, app, activity):
    response = client.post("/a/HEALTH/sign-up", data=form())
    assert response.status_code == 303
    receipt = receipt_of(response)
    assert visitor.PHONE_COOKIE in response.headers.get("Set-Cookie", "")  # the phone remembers them
    page = text(client.get(f"/a/HEALTH/r/{receipt}"))
    assert 'data-status="confirmed"' in page and "You have a place" in page
    assert "139****5678" in page and "13912345678" not in page and "王芳" not in page
    # The next one waits, 1st on the list.
    other = english_client(app)
    waiting = receipt_of(other.post("/a/HEALTH/sign-up", data=form("13700001111", "扎西")))
    page = text(other.get(f"/a/HEALTH/r/{waiting}"))
    assert 'data-status="waiting"' in page and "1st on the waiting list" in page
    assert "Join the waiting list" in text(other.get("/a/HEALTH"))
    # Cancelling asks first; then the first waiting moves up at once.
    ask = text(client.get(f"/a/HEALTH/r/{receipt}/cancel"))
    assert "Give up your place" in ask and "Yes, cancel my sign-up" in ask
    assert client.post(f"/a/HEALTH/r/{receipt}/cancel").status_code == 303
    assert client.post(f"/a/HEALTH/r/{receipt}/cancel").status_code == 303  # a double tap
    assert "This sign-up is cancelled" in text(client.get(f"/a/HEALTH/r/{receipt}"))
    page = text(other.get(f"/a/HEALTH/r/{waiting}"))
    assert 'data-status="confirmed"' in page and "moved up from the waiting list" in page
    # The receipt box on the activity page finds a receipt.
    found = other.get(f"/a/HEALTH/find?code={waiting[:4]}-{waiting[4:].lower()}")
    assert found.status_code == 303 and found.headers["Location"].endswith(f"/a/HEALTH/r/{waiting}")
    assert other.get("/a/HEALTH/find?code=ABCDEFGH").status_code == 404


def test_a_remembered_phone_finds_its_name_filled_in_and_a_double_tap_signs_up_once(client, activity):
    data = form()
    first = client.post("/a/HEALTH/sign-up", data=data)
    again = client.post("/a/HEALTH/sign-up", data=data)
    assert receipt_of(first) == receipt_of(again)
    assert db.session.scalar(select(func.count()).select_from(SignUp)) == 1
    start = text(client.get("/a/HEALTH/sign-up"))
    assert 'value="13912345678"' in start and 'value="王芳"' in start
    refused = client.post("/a/HEALTH/sign-up", data=form())
    assert refused.status_code == 422 and "You are already signed up for this activity." in text(refused)


def test_the_form_refuses_in_words_and_records_no_one(client, activity):
    response = client.post("/a/HEALTH/sign-up", data=form(mobile="12345", consent=""))
    page = text(response)
    assert response.status_code == 422
    assert "This is not a mobile number" in page and "Please agree, so that we can keep your sign-up." in page
    assert db.session.scalar(select(func.count()).select_from(Resident)) == 0


def test_on_the_tablet_the_receipt_shows_once_goes_home_and_nothing_is_remembered(client, activity):
    response = client.post("/kiosk/a/HEALTH/sign-up", data=form())
    page = text(response)
    assert response.status_code == 200 and 'data-status="confirmed"' in page
    assert "data-home-after" in page and 'class="qr"' in page and "139****5678" in page
    assert visitor.PHONE_COOKIE not in response.headers.get("Set-Cookie", "")
    with client.session_transaction() as session:
        assert visitor.KIOSK_KEY not in session
    # The next person at the tablet finds an empty form, with the number pad.
    start = text(client.get("/kiosk/a/HEALTH/sign-up"))
    assert "13912345678" not in start and "data-keypad" in start
    place = db.session.scalar(select(SignUp))
    assert place.channel == "kiosk"


def test_closed_activities_say_so_and_refuse(client, hall):
    activities.save_activity(fields(code="OLD", day=hall_today() - timedelta(days=1)))
    cancelled = activities.save_activity(fields(code="OFF"))
    activities.cancel_activity(cancelled.id, hall.admin_id)
    assert "This activity is over." in text(client.get("/a/OLD"))
    assert "This activity is cancelled" in text(client.get("/a/OFF"))
    response = client.post("/a/OFF/sign-up", data=form())
    assert response.status_code == 409 and "This activity was cancelled" in text(response)
    assert client.post("/a/OLD/sign-up", data=form()).status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Resident)) == 0


def test_the_list_and_the_homes_lead_to_the_coming_activities(client, hall, activity):
    activities.save_activity(fields(code="OLD", title_en="Old outing", day=hall_today() - timedelta(days=1)))
    listing = text(client.get("/a/"))
    assert "Free health check" in listing and "Old outing" not in listing
    assert "/a/HEALTH" in listing
    assert "/kiosk/a/" in text(client.get("/kiosk/"))
    assert 'href="/a/"' in text(client.get("/"))
    assert 'href="/kiosk/a/HEALTH"' in text(client.get("/kiosk/a/"))


def test_a_receipt_shows_no_other_residents_name_and_unknown_receipts_are_404(client, app, activity):
    receipt = receipt_of(client.post("/a/HEALTH/sign-up", data=form()))
    stranger = english_client(app)
    for path in ("/a/HEALTH", "/a/", f"/a/HEALTH/r/{receipt}"):
        page = text(stranger.get(path))
        assert "王芳" not in page and "13912345678" not in page
    assert stranger.get("/a/HEALTH/r/ABCDEFGH").status_code == 404
    assert stranger.get("/a/OTHER/r/" + receipt).status_code == 404
