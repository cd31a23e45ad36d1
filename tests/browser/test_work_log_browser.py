"""Staff record a home visit on a phone, where it was done (390×844, touch): log in, open the work
log from the menu, tap "Home visit", write the places, the households and a note, save, and find
the entry in the list. Nothing sticks out sideways on any of these pages.
"""
import io

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from kiosk import worklog
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import StaffUser, WorkLogEntry
from tests.browser.conftest import PHONE
from tests.browser.helpers import fits_the_phone, path_is
from tests.browser.test_wishes import in_english
from tests.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.browser

PLACES = "3号楼 2单元 101–104"


def visits_at(server, places: str) -> list[tuple]:
    def rows():
        return [(e.kind.key, e.day, e.households, e.note, [p.username for p in e.staff], bool(e.photo))
                for e in db.session.scalars(select(WorkLogEntry).where(WorkLogEntry.places == places))]

    return server.query(rows)


def a_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), (200, 80, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def test_staff_record_a_home_visit_at_phone_size(serve, new_context, shot):
    server = serve()
    today = server.query(hall_today)
    context = new_context(base_url=server.url, **PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    csp_errors = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)

    in_english(page, "/staff/login")
    page.locator("#username").fill("admin")
    page.locator("#password").fill(ADMIN_PASSWORD)
    shot(page, "login")
    fits_the_phone(page)
    page.locator(".login button[type=submit]").tap()
    path_is(page, "/staff/")
    shot(page, "back-office-on-a-phone")
    # (The dashboard is another area's page: only the work log's pages are measured here.)

    # The menu is one line that scrolls sideways; "Work log" is in it.
    menu_link = page.locator(".staff-nav a", has_text="Work log")
    menu_link.scroll_into_view_if_needed()
    menu_link.tap()
    path_is(page, "/staff/worklog")
    expect(page.get_by_role("heading", name="Work log", level=1)).to_be_visible()
    shot(page, "work-log")
    fits_the_phone(page)

    page.locator("a.worklog-record").tap()
    path_is(page, "/staff/worklog/new")
    expect(page.get_by_role("heading", name="Record work", level=1)).to_be_visible()
    # Today filled in, the one recording ticked, big tiles, the number keyboard for households.
    expect(page.locator("#day")).to_have_value(today.isoformat())
    admin_id = server.query(lambda: db.session.scalar(select(StaffUser.id).where(StaffUser.username == "admin")))
    expect(page.locator(f"#field-staff input[value='{admin_id}']")).to_be_checked()
    expect(page.locator("#households")).to_have_attribute("inputmode", "numeric")
    expect(page.locator("#photo")).to_have_attribute("capture", "environment")
    tiles = page.locator("#field-kind .pict-tile")
    offered = server.query(lambda: len(worklog.kinds()))
    assert offered >= 5  # the built-in kinds, and any the hall added
    expect(tiles).to_have_count(offered)
    for i in range(offered):
        box = tiles.nth(i).bounding_box()
        assert box["height"] >= 48 and box["width"] >= 48
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    shot(page, "blank-form")
    fits_the_phone(page)

    home_visit = tiles.filter(has_text="Home visit")
    home_visit.tap()
    expect(home_visit.locator("input")).to_be_checked()
    page.locator("#places").fill(PLACES)
    page.locator("#households").fill("4")
    page.locator("#note").fill("Grandma Dolma's heater works again")
    page.locator("#photo").set_input_files({"name": "heater.png", "mimeType": "image/png", "buffer": a_png()})
    shot(page, "filled-in")
    fits_the_phone(page)
    save = page.locator("button.worklog-save")
    save_box = save.bounding_box()
    assert save_box["height"] >= 48 and save_box["x"] + save_box["width"] <= 390
    save.tap()

    expect(page.get_by_role("heading", name="Work recorded", level=1)).to_be_visible()
    expect(page.locator(".worklog-done")).to_contain_text("Home visit")
    expect(page.locator(".worklog-done")).to_contain_text("4 households")
    expect(page.locator("a.worklog-again")).to_be_visible()
    shot(page, "saved")
    fits_the_phone(page)
    assert visits_at(server, PLACES) == [("home_visit", today, 4, "Grandma Dolma's heater works again",
                                          ["admin"], True)]

    # "Add another" starts a fresh form (a new token: the next save is a new entry).
    page.locator("a.worklog-again").tap()
    path_is(page, "/staff/worklog/new")
    expect(page.locator("#field-kind input:checked")).to_have_count(0)
    shot(page, "add-another")
    fits_the_phone(page)

    page.locator("a.back", has_text="Work log").tap()
    path_is(page, "/staff/worklog")
    first = page.locator(".worklog-table tbody tr").first
    expect(first).to_contain_text(PLACES)
    expect(first).to_contain_text("Home visit")
    shot(page, "listed")
    fits_the_phone(page)

    # The entry's page shows the photo (to staff only) and the form to correct it.
    first.locator("a").first.tap()
    expect(page.get_by_role("heading", name="Work log entry", level=1)).to_be_visible()
    photo = page.locator("img.worklog-photo")
    expect(photo).to_be_visible()
    page.wait_for_function("() => { const i = document.querySelector('img.worklog-photo');"
                           " return i && i.complete && i.naturalWidth === 80; }")  # served, not broken
    expect(page.locator("#places")).to_have_value(PLACES)
    shot(page, "entry")
    fits_the_phone(page)
    assert not csp_errors, csp_errors
