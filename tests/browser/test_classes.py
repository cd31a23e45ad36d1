"""The Saturday English class in the browser: a guardian registers a child on the hall tablet, the
teacher takes attendance on it, and families on phones move up the waiting list.

The demo hall's class has 20 seats for ages 6-13 and 18 children with a seat, so 2 are free.
"""
import re
from datetime import time
from uuid import uuid4

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from kiosk import classes
from kiosk.database import write_transaction
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import Attendance, Registration, Resident, StaffUser
from kiosk.residents import identify_resident
from tests.browser.helpers import (
    choose_language,
    fits_the_phone,
    path_is,
    type_on_keypad,
)

pytestmark = pytest.mark.browser



# --- Looking things up in the hall's database -------------------------------------------------

def english_id(server) -> int:
    return server.query(lambda: classes.find_course("ENGLISH").id)


def registration_of(server, child: str) -> Registration:
    """The child's latest registration, with its guardian loaded (detached, for reading)."""
    def find():
        registration = db.session.scalars(select(Registration).where(Registration.child_name == child)
                                          .order_by(Registration.id.desc())).first()
        registration.guardian  # noqa: B018 - loaded now, read after the session closes
        return registration

    return server.query(find)


def rows(server) -> tuple[int, int]:
    """(registrations, residents): what a refused form must leave as it was."""
    return server.query(lambda: (db.session.scalar(select(func.count()).select_from(Registration)),
                                 db.session.scalar(select(func.count()).select_from(Resident))))


def register_directly(server, child: str, guardian: str, mobile: str, age: int = 9) -> int:
    """A registration made elsewhere (another phone, the tablet): its id."""
    course_id = english_id(server)

    def register():
        with write_transaction():
            resident = identify_resident(mobile, guardian, consent=True)
        return classes.register(course_id, resident.id, child, age, None, True, str(uuid4()), "phone").id

    return server.query(register)


def cancel_a_coming_date(server) -> str:
    """Cancel the second coming class date; its ISO day. (The demo's holiday may lie in the past.)"""
    def cancel():
        admin_id = db.session.scalar(select(StaffUser.id).where(StaffUser.role == "admin"))
        day = classes.next_dates(classes.find_course("ENGLISH").id, 2)[-1]
        return classes.cancel_date(day.id, "Hall repairs", admin_id).day.isoformat()

    return server.query(cancel)


# --- Steps in the browser ---------------------------------------------------------------------

def tablet_in_english(tablet, server):
    """The tablet's home screen, switched to English (the messages' own language)."""
    page = tablet(server)
    page.goto("/kiosk/")
    choose_language(page, "en")
    return page


def fill_the_form(page, child: str, age: str, mobile: str, guardian: str, consents: bool = True):
    """The registration form; on the tablet the mobile goes in through the on-screen keypad."""
    page.locator("#child_name").fill(child)
    page.locator("#child_age").select_option(age)
    if page.locator("#field-mobile .keypad").count():
        type_on_keypad(page, mobile)
    else:
        page.locator("#mobile").press_sequentially(mobile)
    page.locator("#name").fill(guardian)
    page.locator("#consent").set_checked(consents)
    page.locator("#guardian_consent").set_checked(consents)


def open_the_form(page, course_path: str):
    page.get_by_role("link", name="Register a child").click()
    path_is(page, f"{course_path}/register")
    expect(page.get_by_role("heading", name="Register a child for Saturday English class")).to_be_visible()


def register_on_a_phone(server, phone, child: str, mobile: str, guardian: str, shot, step: str):
    """A new phone opens the poster's address and registers the child; the page on its receipt."""
    page = phone(server)
    page.goto("/c/ENGLISH")
    choose_language(page, "en")
    open_the_form(page, "/c/ENGLISH")
    fill_the_form(page, child, "8", mobile, guardian)
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page).to_have_url(re.compile(r"/c/ENGLISH/r/[A-Z2-9]{8}$"))
    fits_the_phone(page)
    shot(page, step)
    return page


def log_in_as_teacher(page, server):
    page.goto("/staff/login?next=/kiosk/teach/")
    page.locator("#username").fill("teacher")
    page.locator("#password").fill(server.teacher_password)
    page.locator(".login button[type=submit]").click()


def a_class_today(server) -> int:
    """A class date today for the English class (the demo's Saturdays may not include today)."""
    def add():
        today = hall_today()
        course_id = classes.find_course("ENGLISH").id
        classes.add_schedule(course_id, "term", [today.weekday()], time(15), time(16), today, today)
        [session] = classes.sessions_on(today)
        return session.id

    return server.query(add)


# --- The tablet: a guardian registers a child -------------------------------------------------

def test_a_guardian_registers_a_child_on_the_tablet(serve, tablet, shot):
    server = serve()
    no_class = cancel_a_coming_date(server)
    page = tablet_in_english(tablet, server)
    shot(page, "home")
    page.locator("a.tile-classes").click()
    path_is(page, "/kiosk/c/ENGLISH")  # the only open class: straight to it

    course = page.locator("#course")
    expect(course.locator("h1")).to_have_text("Saturday English class")
    expect(course.locator(".seats-free")).to_have_text("2 seats are free.")
    dates = course.locator(".class-dates li")
    cancelled = course.locator(f".class-dates li.is-cancelled[data-day='{no_class}']")
    expect(cancelled).to_contain_text("No class")
    expect(cancelled).to_contain_text("Hall repairs")
    expect(dates.locator(":scope:not(.is-cancelled) .class-time").first).to_contain_text("9:00–11:00")
    shot(page, "course")

    open_the_form(page, "/kiosk/c/ENGLISH")
    expect(page.locator("#register-form")).to_have_attribute("autocomplete", "off")
    expect(page.locator("#mobile")).to_have_attribute("inputmode", "numeric")
    shot(page, "form")
    fill_the_form(page, "王小明", "9", "13912345678", "王芳")
    expect(page.locator("#mobile")).to_have_value("13912345678")
    shot(page, "form-filled")
    page.get_by_role("button", name="Register", exact=True).click()

    receipt = page.locator("section.receipt")
    expect(receipt).to_have_attribute("data-status", "confirmed")
    expect(receipt.locator("h1")).to_have_text("小明 has a seat in the class.")
    registration = registration_of(server, "王小明")
    assert (registration.status, registration.channel) == ("confirmed", "kiosk")
    assert registration.seat == 19 and registration.guardian_consent_at is not None
    assert registration.guardian.mobile == "13912345678" and registration.guardian.name == "王芳"
    expect(receipt).to_have_attribute("data-seat", "19")
    expect(receipt).to_contain_text("Seat 19")
    expect(receipt.locator(".receipt-code strong")).to_have_text(classes.format_receipt(registration.receipt))
    expect(receipt.locator(".take-home svg")).to_be_visible()
    expect(receipt).to_contain_text("Guardian's mobile: 139****5678")
    # Anyone passing the tablet may see this screen: no full number, no full name.
    html = page.content()
    assert "13912345678" not in html and "王小明" not in html and "王芳" not in html
    shot(page, "receipt")

    # The tablet does not remember the guardian for the next family.
    page.get_by_role("link", name="Done").click()
    path_is(page, "/kiosk/")
    page.goto("/kiosk/c/ENGLISH/register")
    expect(page.locator("#mobile")).to_have_value("")
    expect(page.locator("#name")).to_have_value("")
    shot(page, "form-empty-again")


def test_the_tablet_form_says_what_is_wrong_next_to_the_field_and_keeps_the_typing(serve, tablet, shot):
    server = serve()
    before = rows(server)
    page = tablet_in_english(tablet, server)
    page.goto("/kiosk/c/ENGLISH/register")

    def kept(age: str):
        expect(page.locator("#child_name")).to_have_value("Tashi Dolma")
        expect(page.locator("#child_age")).to_have_value(age)
        expect(page.locator("#mobile")).to_have_value("13912345678")
        expect(page.locator("#name")).to_have_value("Pema")
        expect(page.locator("#field-mobile .keypad")).to_be_visible()  # rebuilt after the swap

    # No consent ticked: both boxes say why, next to themselves.
    fill_the_form(page, "Tashi Dolma", "9", "13912345678", "Pema", consents=False)
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.locator("#field-consent .error")).to_have_text(
        "Please agree, so that we can keep your registration.")
    expect(page.locator("#consent")).to_have_attribute("aria-invalid", "true")
    kept("9")
    shot(page, "no-consent")
    expect(page.locator("#field-guardian_consent .error")).to_contain_text("parent's or guardian's consent")
    assert rows(server) == before

    # A 15-year-old: the class is for ages 6 to 13.
    page.locator("#consent").check()
    page.locator("#guardian_consent").check()
    page.locator("#child_age").select_option("15")
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.locator("#field-child_age .error")).to_have_text("This class is for children aged 6 to 13.")
    expect(page.locator("#child_age")).to_have_attribute("aria-invalid", "true")
    kept("15")
    expect(page.locator("section.receipt")).to_have_count(0)
    shot(page, "too-old")
    assert rows(server) == before, "a refused registration left rows behind (registration, resident)"


# --- The tablet: the teacher takes attendance -------------------------------------------------

def test_the_teacher_marks_attendance_on_the_tablet_and_logs_out(serve, tablet, shot):
    server = serve()
    session_id = a_class_today(server)
    course_id = english_id(server)
    seated = server.query(lambda: [r.id for r in classes.confirmed(course_id)])
    page = tablet_in_english(tablet, server)

    log_in_as_teacher(page, server)
    path_is(page, f"/kiosk/teach/{session_id}")  # one class today: straight to its roster
    expect(page.locator("h1")).to_have_text("Saturday English class")
    expect(page.locator(".roster-line")).to_have_count(18)
    expect(page.locator("#roster-count")).to_have_text("18 children have a seat.")
    expect(page.locator("body")).to_have_class(re.compile(r"\bkiosk\b"))  # the tablet's layout
    shot(page, "roster")

    first = page.locator(f"#line-{seated[0]}")
    boxes = [first.locator(f".mark-{mark}").bounding_box() for mark in ("present", "absent", "excused")]
    for box in boxes:
        assert box["height"] >= 64, f"a mark button is {box['height']} px tall"
    for left, right in zip(boxes, boxes[1:]):
        assert right["x"] - (left["x"] + left["width"]) >= 8, "the mark buttons are closer than 8 px"

    page.evaluate("window.sameRoster = true")  # an htmx swap keeps it; a page load would not
    marks = dict(zip(seated, ("present", "absent", "excused")))
    for registration_id, mark in marks.items():
        line = page.locator(f"#line-{registration_id}")
        line.locator(f".mark-{mark}").click()
        expect(line).to_have_attribute("data-mark", mark)
        expect(line).to_have_class(re.compile(rf"\bmarked-{mark}\b"))
        expect(line.locator(f".mark-{mark}")).to_have_attribute("aria-pressed", "true")
        expect(line.locator("button[aria-pressed='true']")).to_have_count(1)
    shot(page, "three-marked")
    assert page.evaluate("window.sameRoster") is True

    teacher_id = server.query(lambda: db.session.scalar(select(StaffUser.id).where(StaffUser.username == "teacher")))

    def marked():
        return server.query(lambda: {a.registration_id: (a.mark, a.marked_by_id) for a in db.session.scalars(
            select(Attendance).where(Attendance.session_id == session_id))})

    assert marked() == {rid: (mark, teacher_id) for rid, mark in marks.items()}

    # A tap on the wrong button is put right by tapping the right one: still one row per child.
    first.locator(".mark-absent").click()
    expect(first).to_have_attribute("data-mark", "absent")
    expect(first.locator(".mark-present")).to_have_attribute("aria-pressed", "false")
    shot(page, "changed")
    assert marked()[seated[0]] == ("absent", teacher_id) and len(marked()) == 3

    page.get_by_role("button", name="Finish and log out").click()
    path_is(page, "/staff/login")
    shot(page, "logged-out")
    page.goto("/kiosk/teach/")
    path_is(page, "/staff/login")
    expect(page.locator("#username")).to_be_visible()


def test_the_idle_reset_logs_the_teacher_out(serve, tablet, shot):
    idle, countdown = 2, 3
    server = serve(KIOSK_IDLE_SECONDS=idle, KIOSK_COUNTDOWN_SECONDS=countdown)
    session_id = a_class_today(server)
    page = tablet(server)
    log_in_as_teacher(page, server)
    path_is(page, f"/kiosk/teach/{session_id}")
    shot(page, "roster")

    # The teacher walks away: "Still there?", then the home screen, and nobody is logged in.
    expect(page.locator("#idle-overlay")).to_be_visible(timeout=(idle + 3) * 1000)
    shot(page, "still-there")
    expect(page).to_have_url(f"{server.url}/kiosk/", timeout=(idle + countdown + 5) * 1000)
    shot(page, "home")
    page.goto("/kiosk/teach/")
    path_is(page, "/staff/login")
    shot(page, "login-again")


# --- Phones: the waiting list -----------------------------------------------------------------

def test_phones_join_the_waiting_list_and_move_up(serve, phone, shot):
    server = serve()
    # Two families take the 2 free seats elsewhere; the class is full.
    register_directly(server, "格桑拉姆", "格桑", "13800000001")
    register_directly(server, "丹增曲培", "丹增", "13800000002")

    page = phone(server)
    page.goto("/c/english")  # typed by hand, in lower case
    path_is(page, "/c/ENGLISH")
    choose_language(page, "en")
    expect(page.locator(".seats-full")).to_contain_text("All 20 seats are taken.")
    fits_the_phone(page)
    shot(page, "course-full")
    open_the_form(page, "/c/ENGLISH")
    expect(page.locator(".notice")).to_contain_text("your child joins the waiting list")
    fits_the_phone(page)
    shot(page, "form")
    page.context.close()

    first = register_on_a_phone(server, phone, "Tenzin Norbu", "13900000011", "Dawa", shot, "first-waiting")
    receipt = first.locator("section.receipt")
    expect(receipt).to_have_attribute("data-status", "waiting")
    expect(receipt).to_have_attribute("data-place", "1")
    expect(receipt.locator("h1")).to_have_text("Tenzin is 1st on the waiting list.")
    expect(receipt).to_contain_text("139****0011")

    second = register_on_a_phone(server, phone, "李小红", "13900000022", "李华", shot, "second-waiting")
    expect(second.locator("section.receipt")).to_have_attribute("data-place", "2")
    expect(second.locator("section.receipt h1")).to_have_text("小红 is 2nd on the waiting list.")

    # The first family gives up its place; the second moves to the front of the list.
    first.get_by_role("link", name="Cancel this registration").click()
    expect(first).to_have_url(re.compile(r"/c/ENGLISH/r/[A-Z2-9]{8}/cancel$"))
    expect(first.locator("h1")).to_have_text("Give up Tenzin's place in Saturday English class?")
    fits_the_phone(first)
    shot(first, "cancel-sure")
    first.get_by_role("button", name="Yes, cancel the registration").click()
    expect(receipt).to_have_attribute("data-status", "cancelled")
    expect(receipt.locator("h1")).to_have_text("This registration is cancelled.")
    expect(receipt.get_by_role("link", name="Cancel this registration")).to_have_count(0)
    shot(first, "cancelled")
    assert registration_of(server, "Tenzin Norbu").status == "cancelled"

    second.reload()
    expect(second.locator("section.receipt")).to_have_attribute("data-place", "1")
    expect(second.locator("section.receipt h1")).to_have_text("小红 is 1st on the waiting list.")
    shot(second, "now-first")

    # Staff cancel a child with a seat: the front of the waiting list takes it at once.
    def staff_cancel():
        admin_id = db.session.scalar(select(StaffUser.id).where(StaffUser.role == "admin"))
        seated = classes.confirmed(classes.find_course("ENGLISH").id)[0]
        return classes.cancel(seated.id, by="staff", staff_id=admin_id).registration.id

    server.query(staff_cancel)
    moved_up = registration_of(server, "李小红")
    assert moved_up.status == "confirmed" and moved_up.promoted_at is not None
    second.reload()
    receipt = second.locator("section.receipt")
    expect(receipt).to_have_attribute("data-status", "confirmed")
    expect(receipt).to_have_attribute("data-seat", str(moved_up.seat))
    expect(receipt.locator("h1")).to_have_text("小红 has a seat in the class.")
    expect(receipt).to_contain_text("moved up from the waiting list")
    fits_the_phone(second)
    shot(second, "moved-up")
