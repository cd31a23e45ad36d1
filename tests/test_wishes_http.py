"""Micro-wishes through HTTP: sending a request on a phone (with a photo) and on the hall tablet,
the one-screen form's errors, the rate limit, the status page in every status, the thanks, the
wish wall, claiming, and a volunteer's own page."""
import io
import re
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from kiosk import devices, wishes
from kiosk.extensions import db
from kiosk.models import Claim, Resident, Wish
from tests.conftest import english_client, token

MOBILE = "13912345678"


@pytest.fixture(autouse=True)
def own_uploads(app, tmp_path):
    """Each test keeps its photos in a folder of its own, to look at what was stored."""
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")


@pytest.fixture
def client(app):
    return english_client(app)


def tablet_client(app, staff_id, lang="en"):
    """A browser on a newly enrolled hall tablet."""
    client = app.test_client()
    device = devices.enrol("Hall tablet", staff_id)
    with app.test_request_context():
        client.set_cookie(devices.COOKIE, devices._serializer().dumps(device.id))
    with client.session_transaction() as session:
        session["lang"] = lang
    return client


@pytest.fixture
def tablet(app, hall):
    return tablet_client(app, hall.admin_id)


def jpeg_with_gps(size=(2400, 1800)) -> bytes:
    """A phone photo: a JPEG whose EXIF carries the GPS position of the resident's home."""
    image = Image.new("RGB", size, (180, 40, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (29.0, 39.0, 1.0), 3: "E", 4: (91.0, 7.0, 2.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825), "the test photo must carry GPS"
    return data


def form(kind="repair", category="repair", description="The kitchen tap drips all night.",
         mobile=MOBILE, name="王芳", unit="3-2-401", **extra):
    return {"token": token(), "kind": kind, "category": category, "description": description,
            "building_unit": unit, "visit_times": "weekday mornings", "mobile": mobile, "name": name,
            "consent": "y", **extra}


def send(client, data, prefix=""):
    return client.post(f"{prefix}/w/new", data=data, content_type="multipart/form-data")


def code_of(response) -> str:
    m = re.search(r"/w/([A-Z0-9]{8})$", response.headers.get("Location", ""))
    assert m, (response.status_code, response.headers.get("Location"))
    return m.group(1)


def count(model=Wish) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def error_of(page: str, field: str) -> str | None:
    """The error shown next to a field (fields are <div> or, for picture choices, <fieldset>)."""
    m = re.search(rf'class="field[^"]*has-error" id="field-{field}"(?:(?!id="field-).)*?'
                  rf'<p class="error"[^>]*>(.*?)</p>', page, re.S)
    return m.group(1) if m else None


def the_wish(code: str) -> Wish:
    db.session.expire_all()
    return db.session.scalar(select(Wish).where(Wish.code == code))


# --- Sending ------------------------------------------------------------------------------

def test_the_start_page_offers_the_three_kinds_the_wall_and_the_look_up(client, hall):
    page = client.get("/w").get_data(as_text=True)
    for kind in ("wish", "repair", "help"):
        assert f'href="/w/new?kind={kind}"' in page
    assert 'href="/w/wall"' in page and 'action="/w/find"' in page
    assert 'href="/kiosk/w"' in client.get("/kiosk/").get_data(as_text=True)
    assert 'class="tile tile-wishes"' in client.get("/kiosk/").get_data(as_text=True)
    assert 'href="/w"' in client.get("/").get_data(as_text=True)


def test_a_resident_sends_a_repair_with_a_photo_from_a_phone(app, client, hall):
    page = client.get("/w/new?kind=repair").get_data(as_text=True)
    assert 'id="wish-form"' in page and 'enctype="multipart/form-data"' in page
    assert 'accept="image/*"' in page and 'capture="environment"' in page
    assert "preferred times for a home visit" in page.lower()
    assert client.get_cookie("device") is not None  # the phone's random id, for the rate limit

    data = form(photo=(io.BytesIO(jpeg_with_gps()), "IMG_0001.jpg", "image/jpeg"))
    response = send(client, data)
    assert response.status_code == 303
    code = code_of(response)
    wish = the_wish(code)
    assert (wish.kind, wish.category, wish.status, wish.channel) == ("repair", "repair", "received", "phone")
    assert wish.building_unit == "3-2-401" and wish.visit_times == "weekday mornings"
    assert wish.device and wish.resident.mobile == MOBILE and wish.consent_at is not None

    stored = Path(app.config["UPLOAD_FOLDER"]) / wish.photo
    with Image.open(stored) as photo:
        assert max(photo.size) <= app.config["PHOTO_MAX_SIDE"]
        assert not photo.getexif() and "exif" not in photo.info
    assert b"PhoneMaker" not in stored.read_bytes()

    status = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-status="received"' in status
    assert "We have received your request. Staff will look at it soon." in status
    assert f"{code[:4]}-{code[4:]}" in status and "The kitchen tap drips all night." in status
    for secret in ("王芳", MOBILE, MOBILE[-8:], "3-2-401", wish.photo, "weekday mornings"):
        assert secret not in status
    # The phone remembers the resident for the next request.
    again = client.get("/w/new?kind=wish").get_data(as_text=True)
    assert f'value="{MOBILE}"' in again and 'value="王芳"' in again


def test_on_the_tablet_the_receipt_is_shown_once_with_a_qr_and_no_photo_field(tablet, hall):
    page = tablet.get("/kiosk/w/new?kind=help").get_data(as_text=True)
    assert 'type="file"' not in page and 'data-keypad="true"' in page and 'autocomplete="off"' in page
    assert tablet.get_cookie("device") is None
    response = send(tablet, form(kind="help", category="company"), prefix="/kiosk")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-status="received"' in page and '<svg class="qr"' in page and "data-home-after" in page
    assert "resident" not in response.headers.get("Set-Cookie", "")
    wish = db.session.scalar(select(Wish))
    assert (wish.channel, wish.device, wish.photo) == ("kiosk", "", None)
    assert f"{wish.code[:4]}-{wish.code[4:]}" in page
    assert f'value="{MOBILE}"' not in tablet.get("/kiosk/w/new").get_data(as_text=True)


def test_a_double_tap_sends_one_request(app, client, hall):
    data = form()
    first = send(client, dict(data, photo=(io.BytesIO(jpeg_with_gps((64, 48))), "a.jpg")))
    second = send(client, dict(data, photo=(io.BytesIO(jpeg_with_gps((64, 48))), "a.jpg")))
    assert first.headers["Location"] == second.headers["Location"]
    assert count() == 1
    # The second tap's photo is not kept beside the first one's.
    assert [p.name for p in (Path(app.config["UPLOAD_FOLDER"])).iterdir()] == [the_wish(code_of(first)).photo]


@pytest.mark.parametrize("change, field, message", [
    ({"category": ""}, "category", "Please choose a picture"),
    ({"description": "   "}, "description", "Please say in a few words"),
    ({"description": "x" * 501}, "description", "at most 500 characters"),
    ({"unit": ""}, "building_unit", "building and unit"),
    ({"mobile": "12345"}, "mobile", "This is not a mobile number"),
    ({"name": ""}, "name", "Please write your name"),
    ({"consent": None}, "consent", "Please agree"),
])
def test_bad_input_is_answered_next_to_its_field_and_nothing_is_kept(client, hall, change, field, message):
    data = form(**{k: v for k, v in change.items() if k != "consent"})
    if "consent" in change:
        del data["consent"]
    response = send(client, data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in (error_of(page, field) or ""), page
    assert count() == 0 and count(Resident) == 0


def test_a_text_file_or_a_too_large_photo_is_refused_next_to_the_photo_field(app, client, hall):
    response = send(client, form(photo=(io.BytesIO(b"not a picture at all"), "notes.txt", "text/plain")))
    assert response.status_code == 422
    assert "not a photo" in error_of(response.get_data(as_text=True), "photo")
    app.config["PHOTO_MAX_BYTES"] = 1024
    response = send(client, form(photo=(io.BytesIO(jpeg_with_gps((800, 600))), "big.jpg", "image/jpeg")))
    assert response.status_code == 422
    assert "too large" in error_of(response.get_data(as_text=True), "photo")
    assert count() == 0
    uploads = Path(app.config["UPLOAD_FOLDER"])
    assert not uploads.exists() or not any(uploads.iterdir())


def test_a_refusal_after_the_photo_was_kept_throws_the_photo_away(app, client, hall):
    hall.resident(MOBILE, "次仁")
    response = send(client, form(photo=(io.BytesIO(jpeg_with_gps((64, 48))), "a.jpg")))
    assert response.status_code == 422
    assert "another name" in error_of(response.get_data(as_text=True), "name")
    assert not any((Path(app.config["UPLOAD_FOLDER"])).iterdir())


def test_a_phone_may_send_only_so_many_requests_a_day(app, client, hall):
    app.config.update(WISH_LIMIT_PER_MOBILE=2, WISH_LIMIT_PER_DEVICE=3)
    client.get("/w/new")
    for _ in range(2):
        assert send(client, form()).status_code == 303
    response = send(client, form())
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert 'data-reason="too_many"' in page and "Please wait until tomorrow" in page
    # Another mobile on the same phone: one more, then the phone's own limit.
    assert send(client, form(mobile="13700000001", name="次仁")).status_code == 303
    assert send(client, form(mobile="13700000002", name="卓玛")).status_code == 429
    # Another phone (its own device id) with a fresh mobile is not affected.
    other = app.test_client()
    other.get("/w/new")
    assert send(other, form(mobile="13700000003", name="多吉")).status_code == 303
    assert count() == 4


def test_without_the_device_cookie_the_address_is_counted(app, hall):
    app.config.update(WISH_LIMIT_PER_DEVICE=1)
    bare = app.test_client()
    assert send(bare, form()).status_code == 303
    assert send(bare, form(mobile="13700000001", name="次仁")).status_code == 429
    assert db.session.scalar(select(Wish.device)) == "127.0.0.1"


def test_the_enrolled_tablet_is_not_limited(app, tablet, hall):
    app.config.update(WISH_LIMIT_PER_MOBILE=1, WISH_LIMIT_PER_DEVICE=1)
    for _ in range(3):
        assert send(tablet, form(), prefix="/kiosk").status_code == 200
    assert count() == 3


# --- The status page ----------------------------------------------------------------------

def _sent(hall, kind="wish", category="school", description="A schoolbag for my grandson.",
          mobile=MOBILE, name="王芳") -> Wish:
    resident = hall.resident(mobile, name, "5-1-202")
    return wishes.submit(resident, wishes.Request(kind, category, description, "5-1-202"), token(), "phone")


def test_the_status_page_says_where_the_request_is_in_plain_words(client, hall):
    wish = _sent(hall)
    url = f"/w/{wish.code}"

    def page():
        return client.get(url).get_data(as_text=True)

    assert "We have received your request" in page() and 'aria-current="step"' in page()
    wishes.publish(wish.id, "Grandma D.", "Building 5", hall.admin_id)
    assert 'data-status="published"' in page() and "waiting for a helper" in page()
    claim = wishes.claim(wish.id, token(), partner_unit_id=_unit())
    assert 'data-status="claimed"' in page() and "staff are confirming" in page()
    wishes.confirm_claim(claim.id, hall.admin_id)
    assert 'data-status="in_progress"' in page() and "taking care of your request" in page()
    assert "thanks-form" not in page()
    wishes.fulfil(wish.id, wishes.Done(date(2026, 3, 2), "Brought a new schoolbag.", 30), hall.admin_id)
    done = page()
    assert 'data-status="fulfilled"' in done and "Brought a new schoolbag." in done
    assert "by Lhasa Law Firm" in done and 'id="thanks-form"' in done
    assert client.get(f"/w/{wish.code.lower()}").status_code == 301
    assert client.get(f"/kiosk/w/{wish.code}").status_code == 200


def test_a_volunteer_is_never_named_on_the_status_page(client, hall):
    wish = _sent(hall, kind="repair", category="repair")
    helper = wishes.save_volunteer("扎西", "13600000009", "Red Wrench", "repair_skills")
    wishes.assign(wish.id, helper.id, hall.admin_id)
    wishes.fulfil(wish.id, wishes.Done(date(2026, 3, 2), "Changed the tap washer.", 45), hall.admin_id)
    page = client.get(f"/w/{wish.code}").get_data(as_text=True)
    assert "by a volunteer" in page and "扎西" not in page and "13600000009" not in page


def test_declined_merged_and_converted_requests_say_why(client, hall):
    declined = _sent(hall, description="Please buy me a car.")
    wishes.decline(declined.id, "This is more than a micro-wish.", hall.admin_id)
    page = client.get(f"/w/{declined.code}").get_data(as_text=True)
    assert 'data-status="declined"' in page and "The reason: This is more than a micro-wish." in page

    target = _sent(hall, description="A lamp for reading.", mobile="13700000001", name="次仁")
    wishes.publish(target.id, "Grandpa T.", "Building 2", hall.admin_id)
    duplicate = _sent(hall, description="My own words about a lamp.")
    wishes.merge(duplicate.id, target.code, hall.admin_id)
    page = client.get(f"/w/{duplicate.code}").get_data(as_text=True)
    # It follows the request it joined, but shows only its own words.
    assert 'data-status="published"' in page and 'data-merged="true"' in page
    assert "joined the two requests" in page
    assert "My own words about a lamp." in page and "A lamp for reading." not in page
    assert f"{duplicate.code[:4]}-{duplicate.code[4:]}" in page

    drain = _sent(hall, category="other", description="The drain of our building is blocked.")
    wishes.convert_to_concern(drain.id, "roads_drains", hall.admin_id)
    page = client.get(f"/w/{drain.code}").get_data(as_text=True)
    assert 'data-status="converted"' in page and "concerns ledger" in page


def test_thanks_once_the_request_is_fulfilled(client, hall):
    wish = _sent(hall)
    assert client.post(f"/w/{wish.code}/thanks", data={"rating": "5"}).status_code == 409
    wishes.publish(wish.id, "Grandma D.", "Building 5", hall.admin_id)
    wishes.fulfil(wish.id, wishes.Done(date(2026, 3, 2), "Brought a schoolbag.", 30), hall.admin_id)
    page = client.get(f"/w/{wish.code}").get_data(as_text=True)
    assert page.count('name="rating" type="radio"') == 5
    missing = client.post(f"/w/{wish.code}/thanks", data={"comment": "Thanks"})
    assert missing.status_code == 422
    assert "one to five stars" in error_of(missing.get_data(as_text=True), "rating")
    response = client.post(f"/w/{wish.code}/thanks", data={"rating": "4", "comment": "Thank you all!"})
    assert response.status_code == 303 and response.headers["Location"] == f"/w/{wish.code}"
    page = client.get(f"/w/{wish.code}").get_data(as_text=True)
    assert 'data-rating="4"' in page and "Thank you all!" in page and "thanks-form" not in page
    client.post(f"/w/{wish.code}/thanks", data={"rating": "1"})
    assert the_wish(wish.code).rating == 4


def test_a_receipt_code_is_found_by_typing_it_and_an_unknown_one_is_refused(client, hall):
    wish = _sent(hall)
    spaced = f"{wish.code[:4].lower()} {wish.code[4:].lower()}"
    response = client.get("/kiosk/w/find", query_string={"code": spaced})
    assert response.status_code == 303 and response.headers["Location"] == f"/kiosk/w/{wish.code}"
    wrong = client.get("/w/find", query_string={"code": "AAAA-AAAA"})
    assert wrong.status_code == 404
    assert "We have no request with this code" in error_of(wrong.get_data(as_text=True), "code")
    assert client.get("/w/find", query_string={"code": "x"}).status_code == 422
    missing = client.get("/w/AAAAAAAA")
    assert missing.status_code == 404 and 'class="error-page"' in missing.get_data(as_text=True)
    assert "We could not find this page" in missing.get_data(as_text=True)


# --- The wall and claiming ----------------------------------------------------------------

def _unit(name="Lhasa Law Firm") -> int:
    existing = [u for u in wishes.partner_units() if u.name == name]
    return existing[0].id if existing else wishes.save_partner_unit(name, "", "", "").id


def _on_the_wall(hall, **kw) -> Wish:
    wish = _sent(hall, **kw)
    return wishes.publish(wish.id, "Grandma D.", "Building 5", hall.admin_id)


def test_the_wall_shows_only_published_and_claimed_wishes_without_personal_details(client, hall):
    published = _on_the_wall(hall, category="health", description="A walking stick, please.")
    claimed = _on_the_wall(hall, category="school", mobile="13700000001", name="次仁")
    wishes.claim(claimed.id, token(), partner_unit_id=_unit())
    received = _sent(hall, category="daily", mobile="13700000002", name="卓玛")
    page = client.get("/w/wall").get_data(as_text=True)
    cards = dict(re.findall(r'<li class="wish-card" data-status="(\w+)" data-category="(\w+)"', page))
    assert cards == {"published": "health", "claimed": "school"}
    assert f'href="/w/wall/{published.id}/claim"' in page and f"/w/wall/{claimed.id}/claim" not in page
    assert "Someone is helping" in page and "Grandma D." in page and "Building 5" in page
    assert "needs: health" in page and "ago" in page
    assert "A walking stick" not in page and "5-1-202" not in page and "王芳" not in page
    assert f"/w/wall/{received.id}" not in page
    only = client.get("/w/wall?category=health").get_data(as_text=True)
    assert 'data-category="health"' in only and 'data-category="school"' not in only
    assert client.get("/kiosk/w/wall?category=nonsense").status_code == 200


def test_a_volunteer_claims_a_wish_and_a_second_claim_hears_it_is_taken(client, hall):
    wish = _on_the_wall(hall)
    page = client.get(f"/w/wall/{wish.id}/claim").get_data(as_text=True)
    assert 'id="claim-form"' in page and "Lhasa Law Firm" not in page
    data = {"token": token(), "who": "volunteer", "mobile": "136 0000 0009", "name": "扎西", "note": "Saturday"}
    response = client.post(f"/w/wall/{wish.id}/claim", data=data)
    assert response.status_code == 200
    assert 'data-claim="pending"' in response.get_data(as_text=True)
    assert "The staff will call you to confirm." in response.get_data(as_text=True)
    assert client.post(f"/w/wall/{wish.id}/claim", data=data).status_code == 200  # a double tap
    claim = db.session.scalar(select(Claim))
    assert (claim.volunteer.mobile, claim.volunteer.name, claim.note, count(Claim)) == ("13600000009", "扎西", "Saturday", 1)

    second = client.post(f"/w/wall/{wish.id}/claim", data=dict(data, token=token(), partner_unit=str(_unit()),
                                                                who="unit"))
    assert second.status_code == 409
    page = second.get_data(as_text=True)
    assert 'data-reason="taken"' in page and "Someone has just offered" in page
    assert client.get(f"/w/wall/{wish.id}/claim").status_code == 409
    assert count(Claim) == 1


def test_a_partner_unit_claims_a_wish(client, hall):
    wish = _on_the_wall(hall)
    unit = _unit()
    assert "Lhasa Law Firm" in client.get(f"/kiosk/w/wall/{wish.id}/claim").get_data(as_text=True)
    response = client.post(f"/kiosk/w/wall/{wish.id}/claim",
                           data={"token": token(), "who": "unit", "partner_unit": str(unit)})
    assert response.status_code == 200 and "data-home-after" in response.get_data(as_text=True)
    assert db.session.scalar(select(Claim.partner_unit_id)) == unit
    assert the_wish(wish.code).status == "claimed"


@pytest.mark.parametrize("data, field, message", [
    ({"who": "volunteer", "mobile": "", "name": "扎西"}, "mobile", "Please enter your mobile number"),
    ({"who": "volunteer", "mobile": "12345", "name": "扎西"}, "mobile", "This is not a mobile number"),
    ({"who": "volunteer", "mobile": "13600000009", "name": ""}, "name", "Please write your name"),
    ({"who": "unit"}, "partner_unit", "Please choose your unit"),
    ({"who": "unit", "partner_unit": "999"}, "partner_unit", "Please choose your unit"),
    ({}, "who", "volunteer or a partner unit"),
])
def test_a_claim_with_bad_input_is_answered_next_to_its_field(client, hall, data, field, message):
    wish = _on_the_wall(hall)
    _unit()
    response = client.post(f"/w/wall/{wish.id}/claim", data={"token": token(), **data})
    assert response.status_code == 422
    assert message in (error_of(response.get_data(as_text=True), field) or "")
    assert count(Claim) == 0


def test_only_a_wish_on_the_wall_can_be_claimed(client, hall):
    wish = _sent(hall)
    assert client.get(f"/w/wall/{wish.id}/claim").status_code == 404
    assert client.post(f"/w/wall/{wish.id}/claim", data={"token": token(), "who": "unit"}).status_code == 404
    assert client.get("/w/wall/999/claim").status_code == 404


def test_a_volunteer_sees_the_address_of_their_own_jobs_only(client, hall):
    mine = _sent(hall, kind="repair", category="repair", description="Tap drips.")
    other = _sent(hall, kind="repair", category="repair", mobile="13700000001", name="次仁")
    helper = wishes.save_volunteer("扎西", "13600000009", "Red Wrench", "repair_skills")
    colleague = wishes.save_volunteer("多吉", "13600000008", "Red Wrench", "repair_skills")
    wishes.assign(mine.id, helper.id, hall.admin_id)
    wishes.assign(other.id, colleague.id, hall.admin_id)
    response = client.get(f"/v/{helper.key}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and '<meta name="robots" content="noindex' in page
    assert "王芳" in page and f'href="tel:{MOBILE}"' in page and "5-1-202" in page and "Tap drips." in page
    assert "次仁" not in page and "13700000001" not in page
    assert client.get("/v/not-a-key").status_code == 404
    # Never on the shared tablet.
    assert client.get(f"/kiosk/v/{helper.key}").status_code == 404
