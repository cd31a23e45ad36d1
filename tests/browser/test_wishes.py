"""Micro-wishes in the browser: a resident sends a request from the hall tablet or a phone, staff
put it on the wish wall under an alias, a volunteer on a phone offers to help, staff confirm and
record what was done, and the resident follows it all on their status page and says thanks.

The demo hall already holds wishes in every state, eight volunteers and the partner units.
"""
import re
from datetime import timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import func, select

from kiosk import codes, photos
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import Claim, Wish
from tests.browser.conftest import TABLET
from tests.browser.helpers import (
    choose_language,
    fits_the_phone,
    path_is,
    type_on_keypad,
)
from tests.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.browser

CODE_URL = re.compile(r"/w/[A-Z2-9]{8}$")


# --- Looking things up in the hall's database -------------------------------------------------

def wish_with(server, description: str) -> Wish:
    """The request with these words, its resident loaded (detached, for reading)."""
    def find():
        wish = db.session.scalars(select(Wish).where(Wish.description == description)).one()
        wish.resident  # noqa: B018 - loaded now, read after the session closes
        return wish

    return server.query(find)


def wishes_in(server) -> int:
    return server.query(lambda: db.session.scalar(select(func.count()).select_from(Wish)))


def published_wish(server) -> int:
    """The id of a wish of the demo hall waiting on the wall for a helper."""
    return server.query(lambda: db.session.scalars(
        select(Wish.id).where(Wish.status == "published").order_by(Wish.id)).first())


def claims_of(server, wish_id: int) -> list[tuple[str, str]]:
    """[(claim status, volunteer's mobile)] of every claim of the wish."""
    return server.query(lambda: [(c.status, c.volunteer.mobile) for c in db.session.scalars(
        select(Claim).where(Claim.wish_id == wish_id).order_by(Claim.id))])


# --- Steps in the browser ---------------------------------------------------------------------

def in_english(page, path: str):
    page.goto(path)
    choose_language(page, "en")
    return page


def pick(page, field: str, words: str):
    """Tap the picture tile with these words (its radio button is hidden under the picture)."""
    tile = page.locator(f"#field-{field} .pict-tile", has_text=words)
    tile.click()
    expect(tile.locator("input")).to_be_checked()


def fill_the_request(page, category: str, description: str, mobile: str, name: str, consents: bool = True):
    """The request form; on the tablet the mobile goes in through the on-screen keypad."""
    pick(page, "category", category)
    page.locator("#description").fill(description)
    if page.locator("#field-mobile .keypad").count():
        type_on_keypad(page, mobile)
    else:
        page.locator("#mobile").press_sequentially(mobile)
    page.locator("#name").fill(name)
    page.locator("#consent").set_checked(consents)


def send(page):
    page.get_by_role("button", name="Send my request").click()


def bottom_of(locator) -> float:
    box = locator.bounding_box()
    return box["y"] + box["height"]


def a_small_jpeg(tmp_path) -> str:
    """A phone photo, with the EXIF a camera writes (here: the maker); the hall must strip it."""
    path = tmp_path / "tap.jpg"
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    Image.new("RGB", (64, 48), (180, 40, 40)).save(path, "JPEG", exif=exif)
    return str(path)


def log_in_as_staff(new_context, server):
    """The back office on a desktop browser, logged in as the admin."""
    page = new_context(base_url=server.url, viewport=TABLET["viewport"]).new_page()
    page.set_default_timeout(10_000)
    in_english(page, "/staff/login")
    page.locator("#username").fill("admin")
    page.locator("#password").fill(ADMIN_PASSWORD)
    page.locator(".login button[type=submit]").click()
    path_is(page, "/staff/")
    return page


def open_on_staff_list(page, code: str):
    """Find the request by typing its code into the list's search, then open it."""
    page.goto("/staff/wishes")
    page.locator("#q").fill(code.lower())
    expect(page.locator("#wish-table tbody tr")).to_have_count(1)
    page.locator("#wish-table").get_by_role("link", name=code).click()
    expect(page.locator("h1 .tool-code")).to_have_text(code)


def status_is(page, status: str, title: str):
    """The resident's page after a reload: the step, in words."""
    page.reload()
    receipt = page.locator("section.wish-status")
    expect(receipt).to_have_attribute("data-status", status)
    expect(receipt.locator("h1")).to_have_text(title)
    expect(receipt.locator(".wish-steps li[aria-current='step']")).to_contain_text(title)
    fits_the_phone(page)


def shows_nothing_of(page, wish: Wish):
    """A public page: not the resident's name, mobile number (whole or masked), building or photo."""
    text = page.locator("body").inner_text()
    html = page.content()
    mobile = wish.resident.mobile
    for secret in filter(None, (wish.resident.name, mobile, f"{mobile[:3]}****{mobile[-4:]}", wish.building_unit)):
        assert secret not in text, f"{page.url} shows {secret!r}"
    assert wish.resident.mobile not in html and wish.resident.name not in html
    assert (wish.photo or "photo") not in html and "/staff/photos/" not in html


# --- The tablet: a resident makes a wish ------------------------------------------------------

def test_a_resident_makes_a_wish_on_the_tablet(serve, tablet, shot):
    server = serve()
    page = in_english(tablet(server, enrolled=True), "/kiosk/")
    shot(page, "home")
    page.locator("a.tile-wishes").click()
    path_is(page, "/kiosk/w")
    expect(page.locator(".wish-kinds .kind-card")).to_have_count(3)
    shot(page, "start")
    page.get_by_role("link", name="Make a wish").click()
    path_is(page, "/kiosk/w/new?kind=wish")
    expect(page.locator("h1")).to_have_text("🎁 Make a wish")

    form = page.locator("#wish-form")
    expect(form).to_have_attribute("autocomplete", "off")
    expect(page.locator("#mobile")).to_have_attribute("inputmode", "numeric")
    expect(form.locator("input[type=file]")).to_have_count(0)  # the shared tablet has no camera field
    expect(page.locator("#visit_times")).to_have_count(0)  # a wish needs no visit
    expect(page.locator("#field-category .pict-tile")).to_have_count(7)
    shot(page, "form")
    fill_the_request(page, "school supplies", "A school bag for my grandson, he starts year 3.",
                     "13912345678", "Tashi Dolma")
    expect(page.locator("#mobile")).to_have_value("13912345678")
    shot(page, "form-filled")
    send(page)

    receipt = page.locator("section.receipt")
    expect(receipt).to_have_attribute("data-status", "received")
    expect(receipt.locator("h1")).to_have_text("Thank you! We have received your request.")
    wish = wish_with(server, "A school bag for my grandson, he starts year 3.")
    assert (wish.status, wish.channel, wish.kind, wish.category) == ("received", "kiosk", "wish", "school")
    assert (wish.resident.mobile, wish.resident.name) == ("13912345678", "Tashi Dolma")
    assert wish.photo is None and wish.device == "" and wish.consent_at is not None
    expect(receipt.locator(".receipt-code strong")).to_have_text(codes.formatted(wish.code))
    expect(receipt.locator(".take-home svg")).to_be_visible()
    expect(receipt).to_have_attribute("data-home-after", re.compile(r"^[1-9]\d*$"))
    expect(receipt).to_have_attribute("data-home-url", "/kiosk/")
    shows_nothing_of(page, wish)
    shot(page, "receipt")

    # The tablet does not remember the resident for the next one.
    page.get_by_role("link", name="Done").click()
    path_is(page, "/kiosk/")
    page.goto("/kiosk/w/new?kind=wish")
    expect(page.locator("#mobile")).to_have_value("")
    expect(page.locator("#name")).to_have_value("")
    shot(page, "form-empty-again")


def test_the_tablet_form_says_what_is_missing_next_to_the_field_and_keeps_the_typing(serve, tablet, shot):
    server = serve()
    before = wishes_in(server)
    page = in_english(tablet(server, enrolled=True), "/kiosk/w/new?kind=repair")

    def kept():
        expect(page.locator("#description")).to_have_value("The kitchen tap drips.")
        expect(page.locator("#mobile")).to_have_value("13912345678")
        expect(page.locator("#name")).to_have_value("Pema")
        expect(page.locator("#field-mobile .keypad")).to_be_visible()  # rebuilt after the swap

    # No picture chosen, no consent: each says so next to itself, and the typing stays.
    page.locator("#description").fill("The kitchen tap drips.")
    type_on_keypad(page, "13912345678")
    page.locator("#name").fill("Pema")
    send(page)
    expect(page.locator("#field-category .error")).to_have_text("Please choose a picture for what it is about.")
    expect(page.locator("#field-consent .error")).to_have_text("Please agree, so that we can handle your request.")
    kept()
    shot(page, "no-picture-no-consent")

    # A repair without the building: asked for next to its field; the picture chosen stays chosen.
    pick(page, "category", "repair")
    page.locator("#consent").check()
    send(page)
    expect(page.locator("#field-building_unit .error")).to_have_text(
        "For a home repair, please give your building and unit.")
    expect(page.locator("#building_unit")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#field-category input[value='repair']")).to_be_checked()
    expect(page.locator("#consent")).to_be_checked()
    kept()
    shot(page, "no-building")
    assert wishes_in(server) == before

    page.locator("#building_unit").fill("Building 3, Unit 2")
    send(page)
    expect(page.locator("section.receipt")).to_have_attribute("data-status", "received")
    shot(page, "sent")
    assert wishes_in(server) == before + 1


def test_tablet_targets_on_the_wish_screens_are_big_enough(serve, tablet, shot):
    """Every link and button at least 48 px tall; the big and primary buttons 64 px (UX.md)."""
    server = serve()
    page = in_english(tablet(server, enrolled=True), "/kiosk/w")
    screens = {"form": "/kiosk/w/new?kind=help", "start": "/kiosk/w", "wall": "/kiosk/w/wall",
               "claim": f"/kiosk/w/wall/{published_wish(server)}/claim"}
    small = {}
    for name, path in screens.items():
        page.goto(path)
        shot(page, name)
        small[path] = page.evaluate("""() => [...document.querySelectorAll('a, button, .pict-tile')]
            .filter(el => el.offsetParent !== null)
            .map(el => ({what: (el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 30),
                         height: Math.round(el.getBoundingClientRect().height),
                         primary: el.matches('.primary, .big')}))
            .filter(t => t.height < (t.primary ? 64 : 48))""")
    assert {path: targets for path, targets in small.items() if targets} == {}, "targets too small on the tablet"


def test_the_tablet_wish_screens_fit_one_screen(serve, tablet, shot):
    """1280×800 with no scrolling: each form's send button and the receipt's Done button are in view."""
    server = serve()
    page = in_english(tablet(server, enrolled=True), "/kiosk/w")
    below = {}
    for kind in ("wish", "repair", "help"):
        page.goto(f"/kiosk/w/new?kind={kind}")
        shot(page, kind)
        below[kind] = bottom_of(page.get_by_role("button", name="Send my request"))
    fill_the_request(page, "other", "Someone to read my letters to me.", "13912345670", "Norbu")
    send(page)
    expect(page.locator("section.receipt")).to_have_attribute("data-status", "received")
    shot(page, "receipt")
    below["receipt"] = bottom_of(page.get_by_role("link", name="Done"))
    assert {what: px for what, px in below.items() if px > TABLET["viewport"]["height"]} == {}, \
        f"below the tablet's 800 px (bottom edge in px): {below}"


# --- Phones, staff and a volunteer: a home repair from start to thanks ------------------------

def test_a_home_repair_from_the_phone_to_the_residents_thanks(serve, phone, new_context, shot, tmp_path):
    server = serve()

    # 1. A resident asks for a home repair on their phone, with a photo of the tap.
    resident = in_english(phone(server), "/w")
    fits_the_phone(resident)
    shot(resident, "start")
    resident.get_by_role("link", name="Ask for a home repair").click()
    path_is(resident, "/w/new?kind=repair")
    expect(resident.locator("#field-building_unit .hint")).to_have_text("We need it to come to your home.")
    fits_the_phone(resident)
    shot(resident, "form")
    fill_the_request(resident, "repair", "The kitchen tap drips all night.", "13912340001", "次仁卓玛")
    resident.locator("#building_unit").fill("5号楼3单元502")
    resident.locator("#visit_times").fill("weekday mornings")
    resident.locator("#photo").set_input_files(a_small_jpeg(tmp_path))
    fits_the_phone(resident)
    shot(resident, "form-filled")
    with resident.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/w/new")) as sent:
        send(resident)
    assert sent.value.status == 303
    expect(resident).to_have_url(CODE_URL)
    receipt = resident.locator("section.wish-status")
    expect(receipt).to_have_attribute("data-status", "received")
    expect(receipt.locator("h1")).to_have_text("Received")
    expect(receipt.locator(".lead")).to_have_text("We have received your request. Staff will look at it soon.")
    expect(receipt.locator(".wish-description")).to_have_text("The kitchen tap drips all night.")

    wish = wish_with(server, "The kitchen tap drips all night.")
    code = codes.formatted(wish.code)
    assert (wish.status, wish.channel, wish.kind) == ("received", "phone", "repair")
    assert (wish.building_unit, wish.visit_times) == ("5号楼3单元502", "weekday mornings")
    assert resident.url.endswith(f"/w/{wish.code}")
    expect(receipt.locator(".receipt-code strong")).to_have_text(code)
    stored = server.query(lambda: photos.path_of(wish.photo))
    assert stored is not None and stored.exists(), "the photo was not kept"
    with Image.open(stored) as kept:
        assert kept.format == "JPEG" and not kept.getexif(), "the stored photo still carries EXIF"
    shows_nothing_of(resident, wish)
    fits_the_phone(resident)
    shot(resident, "received")

    # 2. Staff open it from the list, see the photo, and put it on the wall under an alias.
    staff = log_in_as_staff(new_context, server)
    open_on_staff_list(staff, code)
    expect(staff.locator("img.wish-photo")).to_be_visible()
    assert staff.locator("img.wish-photo").evaluate("img => img.naturalWidth") == 64  # staff see it
    expect(staff.locator("#publish-alias")).to_have_value("次家")  # suggested: the family's initial
    expect(staff.locator("#publish-area")).to_have_value("5号楼")  # the building, never the door
    shot(staff, "staff-wish")
    staff.locator("#publish-alias").fill("Grandma C.")
    staff.locator("#publish-area").fill("Building 5")
    staff.get_by_role("button", name="Publish").click()
    expect(staff.locator(".flash")).to_have_text(f"{code} is on the wall as “Grandma C.”, Building 5.")
    expect(staff.locator(".page-head .status")).to_have_text("On the wall")
    shot(staff, "staff-published")
    status_is(resident, "published", "On the wish wall")
    shot(resident, "published")

    # 3. A volunteer's phone: the wall shows the alias, the area and the category, nothing else.
    volunteer = in_english(phone(server), "/w/wall")
    card = volunteer.locator(f"li.wish-card:has(a[href='/w/wall/{wish.id}/claim'])")
    expect(card).to_have_attribute("data-category", "repair")
    expect(card.locator(".wish-who")).to_have_text("Grandma C. · Building 5")
    expect(card.locator(".wish-needs")).to_have_text("needs: repair")
    shows_nothing_of(volunteer, wish)
    assert wish.description not in volunteer.locator("body").inner_text()
    fits_the_phone(volunteer)
    shot(volunteer, "wall")

    # A second volunteer opens the same wish at the same moment.
    late = in_english(phone(server), f"/w/wall/{wish.id}/claim")
    pick(late, "who", "I am a volunteer")
    late.locator("#mobile").fill("13800005555")
    late.locator("#name").fill("Lhamo")

    card.get_by_role("link", name="I can help").click()
    path_is(volunteer, f"/w/wall/{wish.id}/claim")
    expect(volunteer.locator(".wish-card .wish-who")).to_have_text("Grandma C. · Building 5")
    fits_the_phone(volunteer)
    shot(volunteer, "claim-form")
    pick(volunteer, "who", "I am a volunteer")
    volunteer.locator("#mobile").fill("13800004444")
    volunteer.locator("#name").fill("Dorje")
    shot(volunteer, "claim-filled")
    volunteer.get_by_role("button", name="I can help").click()
    expect(volunteer.locator("section.receipt")).to_have_attribute("data-claim", "pending")
    expect(volunteer.locator("h1")).to_have_text("Thank you! The staff will call you to confirm.")
    fits_the_phone(volunteer)
    shot(volunteer, "claimed")
    assert claims_of(server, wish.id) == [("pending", "13800004444")]

    # The second one sends a moment later and hears, kindly, that it was just taken.
    late.get_by_role("button", name="I can help").click()
    expect(late.locator("section.refused")).to_have_attribute("data-reason", "taken")
    expect(late.locator("h1")).to_contain_text("Someone has just offered to take on this wish")
    fits_the_phone(late)
    shot(late, "late-taken")
    # On the wall it now says someone is helping, with no button; the claim page answers 409.
    late.goto("/w/wall")
    taken = late.locator("li.wish-card[data-status='claimed']", has_text="Grandma C.")
    expect(taken.locator(".wish-taken")).to_have_text("Someone is helping")
    expect(taken.get_by_role("link", name="I can help")).to_have_count(0)
    shot(late, "wall-taken")
    response = late.goto(f"/w/wall/{wish.id}/claim")
    assert response.status == 409
    expect(late.locator("section.refused")).to_have_attribute("data-reason", "taken")
    expect(late.locator("#claim-form")).to_have_count(0)
    shot(late, "claim-409")
    assert claims_of(server, wish.id) == [("pending", "13800004444")]
    status_is(resident, "claimed", "Someone offered to help")

    # 4. Staff call the volunteer and confirm the claim from the claims waiting.
    staff.goto("/staff/wishes")
    staff.get_by_role("link", name=re.compile(r"^Claims waiting for confirmation")).click()
    path_is(staff, "/staff/wishes/claims")
    row = staff.locator("tbody tr", has_text=code)
    expect(row).to_contain_text("Grandma C. · Building 5")
    expect(row).to_contain_text("Dorje · 13800004444")
    expect(row.locator(".status-call")).to_have_text("New volunteer")
    shot(staff, "staff-claims")
    row.get_by_role("button", name=f"Confirm · {code}").click()
    expect(staff.locator(".flash")).to_have_text(f"The claim of {code} is confirmed: it is being done.")
    path_is(staff, "/staff/wishes/claims")
    expect(staff.locator("tbody tr", has_text=code)).to_have_count(0)
    assert claims_of(server, wish.id) == [("confirmed", "13800004444")]
    status_is(resident, "in_progress", "Being done")
    expect(resident.locator(".lead")).to_have_text("A helper is taking care of your request.")
    shot(resident, "being-done")

    # 5. Staff record what was done; the resident reads it and says thanks.
    open_on_staff_list(staff, code)
    expect(staff.locator("#fulfil-done_on")).to_have_value(server.query(hall_today).isoformat())
    staff.locator("#fulfil-minutes").fill("75")
    staff.locator("#fulfil-what_was_done").fill("Changed the tap's washer; it no longer drips.")
    shot(staff, "staff-fulfil")
    staff.get_by_role("button", name="Record fulfilment").click()
    expect(staff.locator(".flash")).to_have_text(f"{code} is fulfilled. The resident can now thank the helpers.")
    expect(staff.locator("#fulfilment")).to_contain_text("75 minutes · Dorje")
    shot(staff, "staff-fulfilled")

    status_is(resident, "fulfilled", "Fulfilled")
    done = resident.locator(".wish-done")
    expect(done).to_contain_text("Changed the tap's washer; it no longer drips.")
    expect(done).to_contain_text("by a volunteer")
    expect(done).not_to_contain_text("Dorje")
    expect(resident.locator("#thanks-form")).to_be_visible()
    shot(resident, "fulfilled")
    pick(resident, "rating", "5 of 5 stars")
    resident.locator("#comment").fill("Thank you, Dorje! Quiet nights again.")
    fits_the_phone(resident)
    shot(resident, "thanks-filled")
    resident.get_by_role("button", name="Send my thanks").click()
    expect(resident).to_have_url(CODE_URL)
    rating = resident.locator(".wish-rating")
    expect(rating).to_have_attribute("data-rating", "5")
    expect(rating).to_contain_text("5 of 5 stars")
    expect(resident.locator(".wish-status")).to_contain_text("Thank you, Dorje! Quiet nights again.")
    expect(resident.locator("#thanks-form")).to_have_count(0)
    fits_the_phone(resident)
    shot(resident, "thanked")
    thanked = wish_with(server, "The kitchen tap drips all night.")
    assert (thanked.rating, thanked.thanks) == (5, "Thank you, Dorje! Quiet nights again.")
    assert thanked.rated_at is not None

    staff.reload()
    expect(staff.locator("#fulfilment")).to_contain_text("Rating: 5 of 5")
    shot(staff, "staff-thanked")


# --- Phones: narrow pages and what a refused form keeps --------------------------------------

def test_the_wish_pages_fit_a_phone(serve, phone, shot):
    server = serve()
    page = in_english(phone(server), "/w")
    fulfilled = server.query(lambda: db.session.scalars(select(Wish.code).where(Wish.status == "fulfilled")
                                                        .order_by(Wish.id)).first())
    screens = {"start": "/w", "wish": "/w/new?kind=wish", "repair": "/w/new?kind=repair",
               "help": "/w/new?kind=help", "wall": "/w/wall", "claim": f"/w/wall/{published_wish(server)}/claim",
               "status-fulfilled": f"/w/{fulfilled}"}
    for name, path in screens.items():
        page.goto(path)
        fits_the_phone(page)
        shot(page, name)


def test_the_phone_form_keeps_what_was_typed_after_an_error(serve, phone, shot, tmp_path):
    server = serve()
    before = wishes_in(server)
    page = in_english(phone(server), "/w/new?kind=help")
    fill_the_request(page, "paperwork", "Help with the pension form.", "13912340002", "Karma", consents=False)
    page.locator("#visit_times").fill("Tuesday afternoon")
    page.locator("#photo").set_input_files(a_small_jpeg(tmp_path))
    send(page)
    expect(page.locator("#field-consent .error")).to_have_text("Please agree, so that we can handle your request.")
    expect(page.locator("#consent")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#field-category input[value='paperwork']")).to_be_checked()
    expect(page.locator("#description")).to_have_value("Help with the pension form.")
    expect(page.locator("#visit_times")).to_have_value("Tuesday afternoon")
    expect(page.locator("#mobile")).to_have_value("13912340002")
    expect(page.locator("#name")).to_have_value("Karma")
    fits_the_phone(page)
    shot(page, "no-consent")
    assert wishes_in(server) == before

    page.locator("#consent").check()
    send(page)
    expect(page).to_have_url(CODE_URL)
    expect(page.locator("section.wish-status")).to_have_attribute("data-status", "received")
    shot(page, "sent")
    assert wish_with(server, "Help with the pension form.").kind == "help"
    # The phone (not the tablet) remembers who sent it, for the next request.
    page.goto("/w/new?kind=wish")
    expect(page.locator("#mobile")).to_have_value("13912340002")
    expect(page.locator("#name")).to_have_value("Karma")
    expect(page.locator("#description")).to_have_value("")
    shot(page, "remembered")


def test_a_receipt_code_typed_by_hand_finds_the_request(serve, phone, shot):
    server = serve()
    code = server.query(lambda: db.session.scalars(select(Wish.code).where(Wish.status == "published")
                                                   .order_by(Wish.id)).first())
    page = in_english(phone(server), "/w")
    page.locator("#code").fill(f"{code[:4].lower()} {code[4:].lower()}")
    page.get_by_role("button", name="Check my request").click()
    path_is(page, f"/w/{code}")
    expect(page.locator("section.wish-status")).to_have_attribute("data-status", "published")
    shot(page, "found")
    page.goto("/w")
    page.locator("#code").fill("ZZZZ-ZZZZ")
    page.get_by_role("button", name="Check my request").click()
    expect(page.locator("#field-code .error")).to_have_text("We have no request with this code. Please check the code.")
    expect(page.locator("#code")).to_have_value(re.compile(r"^ZZZZ-?ZZZZ$"))
    fits_the_phone(page)
    shot(page, "not-found")


def test_fulfilment_date_is_not_in_the_future(serve, new_context, shot):
    """Staff mistype the date: the error is next to the field and the other values stay."""
    server = serve()
    wish_id, code = server.query(lambda: db.session.execute(
        select(Wish.id, Wish.code).where(Wish.status == "in_progress").order_by(Wish.id)).first())
    staff = log_in_as_staff(new_context, server)
    staff.goto(f"/staff/wishes/{wish_id}")
    tomorrow = (server.query(hall_today) + timedelta(days=1)).isoformat()
    staff.locator("#fulfil-done_on").fill(tomorrow)
    staff.locator("#fulfil-minutes").fill("30")
    staff.locator("#fulfil-what_was_done").fill("Helped with the form.")
    staff.get_by_role("button", name="Record fulfilment").click()
    expect(staff.locator("#field-fulfil-done_on .error")).to_have_text("This date is still to come.")
    expect(staff.locator("#fulfil-done_on")).to_have_value(tomorrow)
    expect(staff.locator("#fulfil-minutes")).to_have_value("30")
    expect(staff.locator("#fulfil-what_was_done")).to_have_value("Helped with the form.")
    shot(staff, "future-date")
    assert server.query(lambda: db.session.scalar(select(Wish.status).where(Wish.code == code))) == "in_progress"
