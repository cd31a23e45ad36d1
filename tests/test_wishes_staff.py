"""The back office of wishes and help requests, through the Flask client: the list, its filters
and CSV, a request's page and each of its actions (publish, decline, merge, convert, assign,
claims, fulfilment with a photo), the claims waiting, volunteers and partner units with their
hours, the staff-only photos, and what a teacher may not see."""
import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from kiosk import codes, photos, wishes
from kiosk.auth import create_staff
from kiosk.database import write_transaction
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import Claim, Concern, Fulfilment, PartnerUnit, Volunteer, Wish
from kiosk.models.base import utcnow
from tests.conftest import token
from tests.test_security import login
from tests.test_staff import read_csv, staff, text  # noqa: F401  (staff is a fixture)

TEACHER_PASSWORD = "teacher password 1"


# --- Building blocks ----------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    """Photos go to this test's own folder, not the checkout's instance/."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "instance" / "uploads"))
    return tmp_path / "instance" / "uploads"


def make_wish(hall, kind="wish", category="school", mobile="13800138000", name="王芳", building="3-2-401",
              description="A schoolbag for my grandson", photo=None) -> Wish:
    resident_id = hall.resident(mobile, name, building)
    return wishes.submit(resident_id, wishes.Request(kind, category, description, building, "mornings", photo),
                         token(), channel="kiosk", limited=False)


def published(hall, **kw) -> Wish:
    wish = make_wish(hall, **kw)
    return wishes.publish(wish.id, "王家", "3号楼", hall.admin_id)


def volunteer(name="Tashi", mobile="13900139000", team="Red Wrench", sub_team="repair_skills") -> Volunteer:
    return wishes.save_volunteer(name, mobile, team, sub_team)


def unit(name="Snow Land Law Firm") -> PartnerUnit:
    return wishes.save_partner_unit(name, "Ms Li", "0891-6321234", "2026-Q3")


def fresh(model, id_):
    row = db.session.get(model, id_)
    db.session.refresh(row)
    return row


def error_of(page: str, field: str) -> str:
    """The message shown next to a field (its id), or "" if there is none."""
    m = re.search(rf'<p class="error" id="{field}-error"[^>]*>([^<]*)</p>', page)
    return m.group(1) if m else ""


def jpeg(size=(64, 48), color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG")
    return buffer.getvalue()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def teacher(app, hall):
    create_staff("yangchen", TEACHER_PASSWORD, role="teacher", display_name="Ms Yangchen")
    client = app.test_client()
    assert login(client, "yangchen", TEACHER_PASSWORD).status_code == 303
    return client


# --- Access -------------------------------------------------------------------------------------

WISH_PAGES = ["/staff/wishes", "/staff/wishes.csv", "/staff/wishes/claims", "/staff/wishes/{wish}",
              "/staff/volunteers", "/staff/volunteers.csv", "/staff/volunteers/new", "/staff/volunteers/{volunteer}",
              "/staff/partners", "/staff/partners.csv", "/staff/partners/new", "/staff/partners/{unit}",
              "/staff/photos/{photo}"]


@pytest.fixture
def one_of_each(hall, uploads):
    """A wish with a photo, a volunteer and a partner unit: the ids the pages take."""
    photo = photos.save_photo(_upload(jpeg()))
    wish = make_wish(hall, photo=photo)
    return {"wish": wish.id, "volunteer": volunteer().id, "unit": unit().id, "photo": photo}


def _upload(data: bytes, filename="tap.jpg"):
    from werkzeug.datastructures import FileStorage

    return FileStorage(io.BytesIO(data), filename=filename)


def test_a_teacher_gets_403_on_every_wish_page_and_action(teacher, one_of_each):
    for path in WISH_PAGES:
        response = teacher.get(path.format(**one_of_each))
        assert response.status_code == 403, path
    for path in (f"/staff/wishes/{one_of_each['wish']}/publish", "/staff/volunteers/new", "/staff/partners/new",
                 "/staff/wishes/claims/1/confirm"):
        assert teacher.post(path, data={"publish-alias": "x", "publish-area": "y", "name": "x"}).status_code == 403
    assert fresh(Wish, one_of_each["wish"]).status == "received"
    assert count(Volunteer) == 1 and count(PartnerUnit) == 1
    menu = text(teacher.get("/staff/classes"))
    assert "/staff/wishes" not in menu and "/staff/volunteers" not in menu


def test_wish_pages_need_a_login(client, one_of_each):
    for path in WISH_PAGES:
        response = client.get(path.format(**one_of_each))
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"], path


def test_photos_are_served_to_staff_only_and_never_cached(staff, one_of_each):
    response = staff.get(f"/staff/photos/{one_of_each['photo']}")
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == "no-store"
    assert Image.open(io.BytesIO(response.get_data())).size == (64, 48)
    response.close()
    for name in ("nothing.jpg", "../kiosk.sqlite", "0" * 32 + ".jpg"):
        assert staff.get(f"/staff/photos/{name}").status_code == 404, name
    # The request's page shows it through this route.
    assert f'src="/staff/photos/{one_of_each["photo"]}"' in text(staff.get(f"/staff/wishes/{one_of_each['wish']}"))


def test_menu_and_dashboard_link_to_the_wish_lists(staff, hall):
    make_wish(hall)
    make_wish(hall, mobile="13700137000", name="Dolma")
    wish = published(hall, mobile="13600136000", name="Pema")
    wishes.claim(wish.id, token(), volunteer_mobile="13900139000", volunteer_name="Tashi")
    page = text(staff.get("/staff/"))
    for href in ("/staff/wishes", "/staff/volunteers", "/staff/partners", "/staff/wishes?status=received",
                 "/staff/wishes/claims"):
        assert f'href="{href}"' in page, href
    section = page[page.index('id="wish-alerts-h"'):]
    assert re.search(r'<span class="num">2</span> waiting for review', section)
    assert re.search(r'<span class="num">1</span> claims waiting for confirmation', section)


# --- The list -----------------------------------------------------------------------------------

@pytest.fixture
def many(hall):
    """Four requests in different states, the oldest 10 days old."""
    school = make_wish(hall)
    repair = published(hall, kind="repair", category="repair", mobile="13700137000", name="Dolma",
                       description="The tap leaks")
    health = published(hall, kind="help", category="health", mobile="13600136000", name="Pema")
    daily = make_wish(hall, category="daily", mobile="13500135000", name="Lhamo")
    with write_transaction() as s:
        s.get(Wish, school.id).created_at = utcnow() - timedelta(days=10)
    fixer = volunteer()
    law = unit()
    wishes.assign(repair.id, fixer.id, hall.admin_id)
    wishes.claim(health.id, token(), partner_unit_id=law.id)
    return {"school": school, "repair": repair, "health": health, "daily": daily, "fixer": fixer, "law": law}


def codes_on(page: str) -> set[str]:
    return set(re.findall(r'<td class="code"><a href="/staff/wishes/\d+">([A-Z0-9]{4}-[A-Z0-9]{4})</a>', page))


def f(wish) -> str:
    return codes.formatted(wish.code)


@pytest.mark.parametrize("query, expected", [
    ("", {"school", "repair", "health", "daily"}),
    ("?status=received", {"school", "daily"}),
    ("?status=in_progress", {"repair"}),
    ("?category=health", {"health"}),
    ("?kind=repair", {"repair"}),
    ("?older=7", {"school"}),
    ("?claimant=u{law}", {"health"}),
    ("?claimant=v{fixer}", {"repair"}),
    ("?status=received&category=daily", {"daily"}),
    ("?status=nonsense&older=abc&claimant=x9", {"school", "repair", "health", "daily"}),
])
def test_the_list_filters(staff, many, query, expected):
    url = "/staff/wishes" + query.format(law=many["law"].id, fixer=many["fixer"].id)
    page = text(staff.get(url))
    assert codes_on(page) == {f(many[k]) for k in expected}
    assert f'{len(expected)} of {len(expected)}' in page


def test_search_by_code_with_or_without_the_dash_and_htmx_gets_the_table(staff, many):
    code = many["repair"].code
    for q in (code, codes.formatted(code).lower(), code[:5]):
        assert f(many["repair"]) in codes_on(text(staff.get(f"/staff/wishes?q={q}"))), q
    assert codes_on(text(staff.get("/staff/wishes?q=0000"))) == set()
    partial = staff.get(f"/staff/wishes?q={code}", headers={"HX-Request": "true"})
    html = text(partial)
    assert "<html" not in html and html.strip().startswith('<div id="wish-table">')
    assert codes_on(html) == {f(many["repair"])}


def test_the_list_shows_who_took_each_request_on(staff, many):
    page = text(staff.get("/staff/wishes"))
    row = re.search(rf'{f(many["repair"])}.*?</tr>', page, re.S).group(0)
    assert "Tashi" in row and "Being done" in row and "🔧 Repair" in row
    row = re.search(rf'{f(many["health"])}.*?</tr>', page, re.S).group(0)
    assert "Snow Land Law Firm" in row and "Claimed" in row and "Pema" in row


def test_the_list_is_paginated(staff, hall, app):
    app.config["PAGE_SIZE"] = 2
    for n in range(5):
        make_wish(hall, mobile=f"1380013800{n}", name=f"Resident {n}")
    page = text(staff.get("/staff/wishes?status=received&page=3"))
    assert "5–5 of 5" in page and len(codes_on(page)) == 1
    assert 'href="/staff/wishes?status=received&amp;page=2"' in page


def test_the_csv_has_every_row_with_the_filters_and_full_numbers(staff, hall, many):
    wishes.fulfil(many["repair"].id, wishes.Done(hall_today(), "Changed the washer", 45), hall.admin_id)
    wishes.thank(many["repair"].id, 5, "Thank you!")
    response = staff.get("/staff/wishes.csv?kind=repair")
    assert response.headers["Cache-Control"] == "no-store"
    rows = read_csv(response)
    assert rows[0] == ["Receipt code", "Kind", "Category", "Status", "Received", "Published", "Resident",
                       "Mobile number", "Building and unit", "Alias", "Area", "Taken on by", "Fulfilled on",
                       "Minutes", "Rating"]
    assert len(rows) == 2
    row = rows[1]
    assert row[:4] == [f(many["repair"]), "Home repair", "🔧 Repair", "Fulfilled"]
    assert row[4] and row[5]  # received and published times
    assert row[6:] == ["Dolma", "13700137000", "3-2-401", "王家", "3号楼", "Tashi", hall_today().isoformat(),
                       "45", "5"]
    everything = read_csv(staff.get("/staff/wishes.csv"))
    assert len(everything) == 5
    claimed = next(r for r in everything if r[0] == f(many["health"]))
    assert claimed[11] == "Snow Land Law Firm" and claimed[12:] == ["", "", ""]


# --- A request's page and its actions ------------------------------------------------------------

def test_the_page_shows_everything_and_suggests_an_alias_and_an_area(staff, hall):
    wish = make_wish(hall, kind="repair", category="repair", description="The tap leaks")
    page = text(staff.get(f"/staff/wishes/{wish.id}"))
    for bit in ("王芳", 'href="tel:13800138000"', "3-2-401", "mornings", "The tap leaks", f(wish), "Received"):
        assert bit in page, bit
    assert re.search(r'name="publish-alias"[^>]*value="王家"', page)
    assert re.search(r'name="publish-area"[^>]*value="3号楼"', page)
    # What a received request allows; fulfilment comes once it is on the wall or assigned.
    for action in ("publish", "decline", "merge", "convert", "assign"):
        assert f'action="/staff/wishes/{wish.id}/{action}"' in page, action
    assert f"/staff/wishes/{wish.id}/fulfil" not in page
    assert staff.get("/staff/wishes/999").status_code == 404


def test_publish_puts_it_on_the_wall_and_alias_and_area_can_be_edited(staff, hall):
    wish = make_wish(hall)
    response = staff.post(f"/staff/wishes/{wish.id}/publish", data={"publish-alias": " 王奶奶 ", "publish-area": "3号楼"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/staff/wishes/{wish.id}")
    done = fresh(Wish, wish.id)
    assert (done.status, done.alias, done.area, done.reviewed_by_id) == ("published", "王奶奶", "3号楼", hall.admin_id)
    assert done.published_at is not None
    page = text(staff.get(response.headers["Location"]))
    assert "is on the wall as “王奶奶”, 3号楼." in page and "Save alias and area" in page
    assert staff.post(f"/staff/wishes/{wish.id}/publish",
                      data={"publish-alias": "Grandma W.", "publish-area": "Building 3"}).status_code == 303
    assert (fresh(Wish, wish.id).alias, fresh(Wish, wish.id).status) == ("Grandma W.", "published")


@pytest.mark.parametrize("data, field, message", [
    ({"publish-alias": "", "publish-area": "3号楼"}, "publish-alias", "Please give an alias"),
    ({"publish-alias": "王家", "publish-area": "  "}, "publish-area", "Please give an area"),
    ({"publish-alias": "王" * 41, "publish-area": "3号楼"}, "publish-alias", "Please write it shorter."),
])
def test_publish_refuses_a_missing_alias_or_area_next_to_the_field(staff, hall, data, field, message):
    wish = make_wish(hall)
    response = staff.post(f"/staff/wishes/{wish.id}/publish", data=data)
    assert response.status_code == 422
    assert message in error_of(text(response), field)
    assert fresh(Wish, wish.id).status == "received"


def test_decline_with_a_reason(staff, hall):
    wish = make_wish(hall)
    response = staff.post(f"/staff/wishes/{wish.id}/decline", data={"decline-reason": ""})
    assert response.status_code == 422
    assert "Please write the reason" in error_of(text(response), "decline-reason")
    assert fresh(Wish, wish.id).status == "received"
    assert staff.post(f"/staff/wishes/{wish.id}/decline", data={"decline-reason": "We cannot buy phones."}).status_code == 303
    done = fresh(Wish, wish.id)
    assert (done.status, done.decline_reason) == ("declined", "We cannot buy phones.")
    page = text(staff.get(f"/staff/wishes/{wish.id}"))
    assert "Nothing more to do" in page and "We cannot buy phones." in page


def test_merge_into_another_request_by_its_code(staff, hall):
    first = make_wish(hall)
    again = make_wish(hall)
    for bad in ("", "NOPE", f(again)):
        response = staff.post(f"/staff/wishes/{again.id}/merge", data={"merge-into": bad})
        assert response.status_code == 422
        assert "Please give the code of another open request." in error_of(text(response), "merge-into")
    response = staff.post(f"/staff/wishes/{again.id}/merge", data={"merge-into": f(first).lower()})
    assert response.status_code == 303
    done = fresh(Wish, again.id)
    assert (done.status, done.merged_into_id) == ("merged", first.id)
    assert f'href="/staff/wishes/{again.id}"' in text(staff.get(f"/staff/wishes/{first.id}"))


def test_convert_into_a_concern(staff, hall):
    wish = make_wish(hall, category="other", description="The drain at gate 2 keeps blocking")
    response = staff.post(f"/staff/wishes/{wish.id}/convert", data={"convert-category": ""})
    assert response.status_code == 422
    assert "Please choose the kind of problem." in error_of(text(response), "convert-category")
    assert count(Concern) == 0
    response = staff.post(f"/staff/wishes/{wish.id}/convert", data={"convert-category": "roads_drains"})
    assert response.status_code == 303
    concern = db.session.scalar(select(Concern))
    assert (concern.category, concern.from_wish_id, concern.created_by_id, concern.place) == \
        ("roads_drains", wish.id, hall.admin_id, "3-2-401")
    assert fresh(Wish, wish.id).status == "converted"
    page = text(staff.get(f"/staff/wishes/{wish.id}"))
    assert f"Concern #{concern.id} in the ledger" in page and "Roads and drains" in page


def test_assign_a_repair_to_a_volunteer_with_repair_skills(staff, hall):
    wish = make_wish(hall, kind="repair", category="repair")
    fixer = volunteer()
    nurse = volunteer("Dolkar", "13900139001", "Community", "elderly_health")
    page = text(staff.get(f"/staff/wishes/{wish.id}"))
    select_html = re.search(r'<select id="assign-volunteer".*?</select>', page, re.S).group(0)
    assert "Tashi" in select_html and "Dolkar" not in select_html
    for bad, message in ((str(nurse.id), "A home repair needs a volunteer with repair skills."),
                         ("", "Please choose a volunteer from the list."),
                         ("999", "Please choose a volunteer from the list.")):
        response = staff.post(f"/staff/wishes/{wish.id}/assign", data={"assign-volunteer": bad})
        assert response.status_code == 422
        assert message in error_of(text(response), "assign-volunteer")
    assert fresh(Wish, wish.id).assigned_volunteer_id is None
    response = staff.post(f"/staff/wishes/{wish.id}/assign", data={"assign-volunteer": str(fixer.id)})
    assert response.status_code == 303
    done = fresh(Wish, wish.id)
    assert (done.status, done.assigned_volunteer_id) == ("in_progress", fixer.id)
    page = text(staff.get(f"/staff/wishes/{wish.id}"))
    assert f"/v/{fixer.key}" in page and "is assigned to Tashi" in page
    assert 'href="tel:13900139000"' in page
    # Fulfilment now defaults to the assigned volunteer.
    assert re.search(rf'<option selected value="v{fixer.id}">', page)


def test_a_claimed_wish_cannot_be_assigned(staff, hall):
    wish = published(hall)
    fixer = volunteer(sub_team="general")
    claim = wishes.claim(wish.id, token(), volunteer_mobile="13700137000", volunteer_name="Pema")
    page = text(staff.get(f"/staff/wishes/{wish.id}"))
    assert f"/staff/wishes/{wish.id}/assign" not in page  # the form is not offered
    response = staff.post(f"/staff/wishes/{wish.id}/assign", data={"assign-volunteer": str(fixer.id)})
    assert response.status_code == 409
    assert '<p class="error refusal" role="alert">This request has moved on meanwhile.' in text(response)
    wishes.confirm_claim(claim.id, hall.admin_id)  # being done by the claimant now
    response = staff.post(f"/staff/wishes/{wish.id}/assign", data={"assign-volunteer": str(fixer.id)})
    assert response.status_code == 409
    assert '<p class="error refusal" role="alert">Someone has claimed this request.' in text(response)
    assert fresh(Wish, wish.id).assigned_volunteer_id is None


# --- Claims ---------------------------------------------------------------------------------------

@pytest.fixture
def claims(hall):
    by_person = published(hall)
    by_unit = published(hall, category="health", mobile="13700137000", name="Dolma")
    law = unit()
    person = wishes.claim(by_person.id, token(), volunteer_mobile="13900139000", volunteer_name="Tashi",
                          note="I can bring it on Sunday")
    firm = wishes.claim(by_unit.id, token(), partner_unit_id=law.id)
    return {"person": person, "firm": firm, "by_person": by_person, "by_unit": by_unit}


def test_claims_waiting_lists_every_pending_claim_with_whom_to_call(staff, claims):
    page = text(staff.get("/staff/wishes/claims"))
    for bit in ("Tashi", 'href="tel:13900139000"', "New volunteer", "I can bring it on Sunday",
                "Snow Land Law Firm", "Ms Li", 'href="tel:0891-6321234"', "王家 · 3号楼",
                f(claims["by_person"]), f(claims["by_unit"])):
        assert bit in page, bit
    assert page.count('name="back" value="claims"') == 4  # confirm and release, for each


def test_confirm_a_claim_from_the_claims_list(staff, claims):
    claim_id = claims["person"].id
    response = staff.post(f"/staff/wishes/claims/{claim_id}/confirm", data={"back": "claims"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/staff/wishes/claims")
    claim = fresh(Claim, claim_id)
    assert claim.status == "confirmed" and claim.decided_by_id is not None
    assert fresh(Wish, claim.wish_id).status == "in_progress"
    assert fresh(Volunteer, claim.volunteer_id).confirmed_at is not None
    # Decided once: a second press is refused above the wish page, and nothing changes.
    response = staff.post(f"/staff/wishes/claims/{claim_id}/confirm")
    assert response.status_code == 409 and "This claim was already decided." in text(response)
    assert fresh(Claim, claim_id).status == "confirmed"
    page = text(staff.get(f"/staff/wishes/{claim.wish_id}"))
    assert f"/v/{claim.volunteer.key}" in page and "Claim confirmed" in page
    # The volunteer dropped out: staff release the confirmed claim, the wish goes back on the wall.
    assert staff.post(f"/staff/wishes/claims/{claim_id}/release").status_code == 303
    assert fresh(Claim, claim_id).status == "released"
    assert fresh(Wish, claim.wish_id).status == "published"


def test_release_a_claim_puts_the_wish_back_on_the_wall(staff, claims):
    claim_id = claims["firm"].id
    response = staff.post(f"/staff/wishes/claims/{claim_id}/release")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/staff/wishes/{claims['by_unit'].id}")
    assert fresh(Claim, claim_id).status == "released"
    assert fresh(Wish, claims["by_unit"].id).status == "published"
    assert "Snow Land Law Firm" not in text(staff.get("/staff/wishes/claims"))
    assert staff.post("/staff/wishes/claims/999/confirm").status_code == 404


# --- Fulfilment -----------------------------------------------------------------------------------

def fulfil_form(**changes):
    return {"fulfil-done_on": hall_today().isoformat(), "fulfil-done_by": "",
            "fulfil-what_was_done": "Bought the schoolbag", "fulfil-minutes": "90"} | changes


def test_record_fulfilment_with_a_photo(staff, claims, uploads):
    wish_id = claims["by_person"].id
    data = fulfil_form(**{"fulfil-photo": (io.BytesIO(jpeg((2000, 1000))), "done.jpg")})
    response = staff.post(f"/staff/wishes/{wish_id}/fulfil", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    done = db.session.scalar(select(Fulfilment).where(Fulfilment.wish_id == wish_id))
    assert (done.what_was_done, done.minutes, done.done_on, done.recorded_by_id) == \
        ("Bought the schoolbag", 90, hall_today(), 1)
    assert done.volunteer_id == claims["person"].volunteer_id  # from the claim
    assert fresh(Wish, wish_id).status == "fulfilled"
    assert fresh(Claim, claims["person"].id).status == "confirmed"
    with Image.open(uploads / done.photo) as stored:
        assert max(stored.size) == 1280  # resized by kiosk.photos
    page = text(staff.get(f"/staff/wishes/{wish_id}"))
    assert f'src="/staff/photos/{done.photo}"' in page and "90 minutes" in page and "Bought the schoolbag" in page
    assert "Nothing more to do" in page


def test_fulfilment_by_a_chosen_partner_unit(staff, hall):
    wish = published(hall)
    law = unit()
    response = staff.post(f"/staff/wishes/{wish.id}/fulfil", data=fulfil_form(**{"fulfil-done_by": f"u{law.id}"}))
    assert response.status_code == 303
    done = db.session.scalar(select(Fulfilment))
    assert (done.partner_unit_id, done.volunteer_id, done.photo) == (law.id, None, None)


@pytest.mark.parametrize("changes, field, message", [
    ({"fulfil-minutes": "abc"}, "fulfil-minutes", "Please give the time spent in minutes (at most 6000)."),
    ({"fulfil-minutes": "6001"}, "fulfil-minutes", "Please give the time spent in minutes (at most 6000)."),
    ({"fulfil-what_was_done": "  "}, "fulfil-what_was_done", "Please say what was done."),
    ({"fulfil-done_on": "yesterday"}, "fulfil-done_on", "Please give a date like 2025-03-01."),
    ({"fulfil-done_on": "2999-01-01"}, "fulfil-done_on", "This date is still to come."),
    ({"fulfil-photo": (io.BytesIO(b"not a picture"), "virus.jpg")}, "fulfil-photo", "This file is not a photo."),
])
def test_bad_fulfilment_is_shown_next_to_its_field(staff, hall, uploads, changes, field, message):
    wish = published(hall)
    response = staff.post(f"/staff/wishes/{wish.id}/fulfil", data=fulfil_form(**changes),
                          content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in error_of(text(response), field)
    assert count(Fulfilment) == 0 and fresh(Wish, wish.id).status == "published"


def test_a_refused_fulfilment_keeps_no_photo(staff, hall, uploads):
    wish = published(hall)
    data = fulfil_form(**{"fulfil-what_was_done": "", "fulfil-photo": (io.BytesIO(jpeg()), "done.jpg")})
    response = staff.post(f"/staff/wishes/{wish.id}/fulfil", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert not list(uploads.glob("*.jpg"))


def test_the_history_tells_the_story(staff, claims):
    wish_id = claims["by_person"].id
    staff.post(f"/staff/wishes/claims/{claims['person'].id}/confirm")
    staff.post(f"/staff/wishes/{wish_id}/fulfil", data=fulfil_form())
    wishes.thank(wish_id, 4, "Thank you")
    page = text(staff.get(f"/staff/wishes/{wish_id}"))
    history = page[page.index('id="history-h"'):]
    order = ["Received", "Put on the wall as “王家”, 3号楼", "Claimed", "Claim confirmed", "Fulfilled on",
             "Thanked the helpers"]
    positions = [history.index(what) for what in order]
    assert positions == sorted(positions)
    assert "Admin" in history and "I can bring it on Sunday" in history and "Rating: 4 of 5" in page


# --- Volunteers, partner units and their hours ---------------------------------------------------

VOLUNTEER = {"name": "Tashi", "mobile": "139 0013 9000", "team": "Red Wrench", "sub_team": "repair_skills",
             "active": "y"}


def test_add_and_edit_a_volunteer(staff):
    response = staff.post("/staff/volunteers/new", data=VOLUNTEER)
    assert response.status_code == 303 and response.headers["Location"].endswith("/staff/volunteers")
    v = db.session.scalar(select(Volunteer))
    assert (v.name, v.mobile, v.team, v.sub_team, v.active) == ("Tashi", "13900139000", "Red Wrench",
                                                               "repair_skills", True)
    assert v.confirmed_at is not None and len(v.key) >= 20
    page = text(staff.get("/staff/volunteers"))
    assert "Tashi" in page and "Repair skills" in page and f"/v/{v.key}" in page
    edit = text(staff.get(f"/staff/volunteers/{v.id}"))
    assert re.search(r'name="mobile"[^>]*value="13900139000"', edit) and f"/v/{v.key}" in edit
    response = staff.post(f"/staff/volunteers/{v.id}", data=VOLUNTEER | {"sub_team": "legal_help", "active": ""})
    assert response.status_code == 303
    v = fresh(Volunteer, v.id)
    assert (v.sub_team, v.active) == ("legal_help", False)
    assert staff.get("/staff/volunteers/999").status_code == 404


@pytest.mark.parametrize("changes, field, message", [
    ({"mobile": "12345"}, "mobile", "This is not a mobile number."),
    ({"mobile": ""}, "mobile", "Please enter the mobile number."),
    ({"mobile": "13700137000"}, "mobile", "Another volunteer has this mobile number."),
    ({"name": " "}, "name", "Please write the name."),
    ({"sub_team": "cooking"}, "sub_team", "Please choose the sub-team."),
])
def test_bad_volunteer_input_is_shown_next_to_its_field(staff, changes, field, message):
    volunteer("Dolkar", "13700137000")
    response = staff.post("/staff/volunteers/new", data=VOLUNTEER | changes)
    assert response.status_code == 422
    assert message in error_of(text(response), field)
    assert count(Volunteer) == 1


PARTNER = {"name": "Snow Land Law Firm", "contact_name": "Ms Li", "contact_phone": "0891-6321234",
           "chair_quarter": "2026-q3", "active": "y"}


def test_add_and_edit_a_partner_unit(staff):
    response = staff.post("/staff/partners/new", data=PARTNER)
    assert response.status_code == 303 and response.headers["Location"].endswith("/staff/partners")
    u = db.session.scalar(select(PartnerUnit))
    assert (u.name, u.contact_name, u.contact_phone, u.chair_quarter, u.active) == \
        ("Snow Land Law Firm", "Ms Li", "0891-6321234", "2026-Q3", True)
    page = text(staff.get("/staff/partners"))
    assert "Snow Land Law Firm" in page and "2026-Q3" in page and 'href="tel:0891-6321234"' in page
    assert staff.post(f"/staff/partners/{u.id}", data=PARTNER | {"chair_quarter": "", "active": ""}).status_code == 303
    u = fresh(PartnerUnit, u.id)
    assert (u.chair_quarter, u.active) == ("", False)


@pytest.mark.parametrize("changes, field, message", [
    ({"chair_quarter": "2026-Q5"}, "chair_quarter", "Write the quarter like 2026-Q3."),
    ({"chair_quarter": "Q3 2026"}, "chair_quarter", "Write the quarter like 2026-Q3."),
    ({"name": ""}, "name", "Please write the unit"),
    ({"name": "Tibetan Medicine Clinic"}, "name", "Another unit has this name."),
])
def test_bad_partner_input_is_shown_next_to_its_field(staff, changes, field, message):
    unit("Tibetan Medicine Clinic")
    response = staff.post("/staff/partners/new", data=PARTNER | changes)
    assert response.status_code == 422
    assert message in error_of(text(response), field)
    assert count(PartnerUnit) == 1


def test_hours_add_up_per_volunteer_per_team_and_per_unit(staff, hall):
    tashi = volunteer()
    dolkar = volunteer("Dolkar", "13700137000", "Community", "elderly_health")
    law = unit()
    for n, (who, minutes) in enumerate(((tashi, 60), (tashi, 30), (dolkar, 45))):
        wish = published(hall, mobile=f"1360013600{n}", name=f"Resident {n}")
        wishes.fulfil(wish.id, wishes.Done(hall_today(), "Done", minutes, volunteer_id=who.id), hall.admin_id)
    wish = published(hall, mobile="13500135000", name="Lhamo")
    wishes.fulfil(wish.id, wishes.Done(hall_today(), "Advice", 120, partner_unit_id=law.id), hall.admin_id)

    page = text(staff.get("/staff/volunteers"))
    tashi_row = re.search(r"<tr>\s*<td><a [^>]*>Tashi</a>.*?</tr>", page, re.S).group(0)
    assert re.findall(r'<td class="num">([^<]*)</td>', tashi_row) == ["2", "1.5"]
    dolkar_row = re.search(r"<tr>\s*<td><a [^>]*>Dolkar</a>.*?</tr>", page, re.S).group(0)
    assert re.findall(r'<td class="num">([^<]*)</td>', dolkar_row) == ["1", "0.8"]
    teams = page[page.index('id="teams-h"'):]
    assert re.search(r"<td>Community</td><td>Elderly health</td><td class=\"num\">1</td><td class=\"num\">0.8</td>", teams)
    assert re.search(r"<td>Red Wrench</td><td>Repair skills</td><td class=\"num\">2</td><td class=\"num\">1.5</td>", teams)

    rows = read_csv(staff.get("/staff/volunteers.csv"))
    assert rows[0] == ["Name", "Mobile number", "Team", "Sub-team", "Confirmed", "Active", "Requests fulfilled",
                       "Minutes", "Hours"]
    assert ["Tashi", "13900139000", "Red Wrench", "Repair skills", "Yes", "Yes", "2", "90", "1.5"] in rows
    assert ["Dolkar", "13700137000", "Community", "Elderly health", "Yes", "Yes", "1", "45", "0.8"] in rows
    units = read_csv(staff.get("/staff/partners.csv"))
    assert units[1] == ["Snow Land Law Firm", "Ms Li", "0891-6321234", "2026-Q3", "Yes", "1", "120", "2.0"]
    assert [r[0] for r in read_csv(staff.get("/staff/volunteers.csv?q=Dolk"))] == ["Name", "Dolkar"]


def test_the_lists_search_through_htmx(staff, hall):
    volunteer()
    volunteer("Dolkar", "13700137000", "Community", "elderly_health")
    unit()
    html = text(staff.get("/staff/volunteers?q=1370", headers={"HX-Request": "true"}))
    assert html.strip().startswith('<div id="people-table">') and "Dolkar" in html and "Tashi" not in html
    html = text(staff.get("/staff/partners?q=law", headers={"HX-Request": "true"}))
    assert html.strip().startswith('<div id="people-table">') and "Snow Land Law Firm" in html


def test_the_wish_page_forms_carry_their_csrf_token(tmp_path):
    """Each action form has a prefix; Flask-WTF finds its token ("publish-csrf_token") all the same."""
    from tests.conftest import Hall
    from tests.test_security import make_app

    app = make_app(tmp_path, "csrf.sqlite", WTF_CSRF_ENABLED=True)
    with app.app_context():
        wish_id = make_wish(Hall()).id
    # Requests outside the app context above: each gets its own `g`, where Flask-WTF keeps the token.
    client = app.test_client()
    assert login(client).status_code == 303
    page = text(client.get(f"/staff/wishes/{wish_id}"))
    csrf = re.search(r'name="publish-csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = {"publish-alias": "王家", "publish-area": "3号楼"}
    assert client.post(f"/staff/wishes/{wish_id}/publish", data=data).status_code == 400
    assert client.post(f"/staff/wishes/{wish_id}/publish", data=data | {"publish-csrf_token": csrf}).status_code == 303
    with app.app_context():
        assert db.session.get(Wish, wish_id).status == "published"
        db.engine.dispose()
