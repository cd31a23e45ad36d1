"""Acceptance: a resident signs up for an activity by phone through /a/<code> (the poster's QR),
sees the receipt; a second resident joins the waiting list and moves up when the first cancels."""
import re
from datetime import time, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from kiosk import activities
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import Resident, SignUp
from tests.browser.helpers import choose_language, fits_the_phone, path_is

pytestmark = pytest.mark.browser


def add_activity(server, capacity=1) -> str:
    def make():
        return activities.save_activity(activities.ActivityFields(
            "LEGAL-AM", "法律咨询上午", "", "Legal advice morning", "律师事务所的律师免费解答。", "",
            "Lawyers from the partner law firm answer questions, free.", hall_today() + timedelta(days=3),
            time(9, 30), time(11, 30), "Meeting room", capacity, "team", "Red Wrench", None)).code

    return server.query(make)


def sign_up_of(server, mobile: str) -> SignUp:
    def find():
        place = db.session.scalar(select(SignUp).join(Resident).where(Resident.mobile == mobile))
        db.session.expunge(place)
        return place

    return server.query(find)


def sign_up_on_a_phone(server, phone, shot, name, mobile, step):
    """Open the poster's address on a new phone, read English, sign up; the receipt page."""
    page = phone(server)
    page.goto("/a/legal-am")  # typed by hand from the poster, in lower case
    path_is(page, "/a/LEGAL-AM")
    choose_language(page, "en")
    expect(page.locator("h1")).to_have_text("Legal advice morning")
    fits_the_phone(page)
    shot(page, f"{step}-activity")
    page.locator(".course-about a.button").click()
    path_is(page, "/a/LEGAL-AM/sign-up")
    page.get_by_label("Your mobile number").fill(mobile)
    page.get_by_label("Your name").fill(name)
    page.get_by_label("I agree that the hall keeps my name").check()
    fits_the_phone(page)
    shot(page, f"{step}-form")
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/a/LEGAL-AM/r/[A-Z2-9]{8}$"))
    fits_the_phone(page)
    shot(page, f"{step}-receipt")
    return page


def test_a_resident_signs_up_by_phone_and_a_second_moves_up_from_the_waiting_list(serve, phone, shot):
    server = serve()
    add_activity(server, capacity=1)

    # From the phone's home page, the activities list leads to the activity.
    page = phone(server)
    page.goto("/")
    choose_language(page, "en")
    page.locator("a.tile-activities").click()
    path_is(page, "/a/")
    expect(page.locator(".activity-list")).to_contain_text("Legal advice morning")
    fits_the_phone(page)
    shot(page, "list")
    page.context.close()

    first = sign_up_on_a_phone(server, phone, shot, "Dolma", "13900000011", "first")
    receipt = first.locator("section.receipt")
    expect(receipt).to_have_attribute("data-status", "confirmed")
    expect(receipt.locator("h1")).to_have_text("You have a place. See you there!")
    expect(receipt).to_contain_text("139****0011")
    expect(receipt).not_to_contain_text("13900000011")
    assert sign_up_of(server, "13900000011").channel == "phone"

    second = sign_up_on_a_phone(server, phone, shot, "李华", "13900000022", "second")
    receipt2 = second.locator("section.receipt")
    expect(receipt2).to_have_attribute("data-status", "waiting")
    expect(receipt2).to_have_attribute("data-place", "1")
    expect(receipt2.locator("h1")).to_have_text("You are 1st on the waiting list.")

    # The first gives up the place, after an "are you sure"; the second moves up at once.
    first.get_by_role("link", name="Cancel my sign-up").click()
    expect(first).to_have_url(re.compile(r"/a/LEGAL-AM/r/[A-Z2-9]{8}/cancel$"))
    expect(first.locator("h1")).to_have_text("Give up your place at Legal advice morning?")
    fits_the_phone(first)
    shot(first, "cancel-sure")
    first.get_by_role("button", name="Yes, cancel my sign-up").click()
    expect(receipt).to_have_attribute("data-status", "cancelled")
    shot(first, "cancelled")

    second.reload()
    expect(receipt2).to_have_attribute("data-status", "confirmed")
    expect(receipt2).to_contain_text("you moved up from the waiting list")
    fits_the_phone(second)
    shot(second, "moved-up")
    moved = sign_up_of(server, "13900000022")
    assert moved.status == "confirmed" and moved.promoted_at is not None


def test_a_resident_signs_up_on_the_tablet_with_the_keypad_and_the_tablet_forgets_them(serve, tablet, shot):
    from tests.browser.helpers import type_on_keypad

    server = serve()
    add_activity(server, capacity=None)
    page = tablet(server)
    page.goto("/kiosk/")
    choose_language(page, "en")
    expect(page.locator(".tiles .tile")).to_have_count(4)
    shot(page, "home")
    page.locator("a.activities-strip").click()
    path_is(page, "/kiosk/a/")
    shot(page, "list")
    page.locator(".activity-list a", has_text="Legal advice morning").click()
    path_is(page, "/kiosk/a/LEGAL-AM")
    expect(page.locator(".seats-free")).to_contain_text("No limit on places")
    shot(page, "activity")
    page.locator(".course-about a.button").click()
    expect(page.locator("#sign-up-form")).to_have_attribute("autocomplete", "off")
    type_on_keypad(page, "13912345678")
    page.get_by_label("Your name").fill("王芳")
    page.get_by_label("I agree that the hall keeps my name").check()
    shot(page, "form")
    page.get_by_role("button", name="Sign up", exact=True).click()
    receipt = page.locator("section.receipt")
    expect(receipt).to_have_attribute("data-status", "confirmed")
    expect(receipt.locator(".take-home svg")).to_be_visible()
    expect(receipt).to_contain_text("139****5678")
    assert "13912345678" not in page.content() and "王芳" not in page.content()
    assert sign_up_of(server, "13912345678").channel == "kiosk"
    shot(page, "receipt")
    page.get_by_role("link", name="Done").click()
    path_is(page, "/kiosk/")
    page.goto("/kiosk/a/LEGAL-AM/sign-up")
    expect(page.locator("#mobile")).to_have_value("")
    expect(page.locator("#name")).to_have_value("")
    shot(page, "form-empty-again")
