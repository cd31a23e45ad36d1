"""The hall tablet at 1280x800: borrowing and returning a drill, the barcode scanner, the idle reset."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    choose_language,
    due_in_words,
    free_tool_of,
    loans_of_tool,
    path_is,
)
from tests.browser.page_checks import assert_fit_for_residents

pytestmark = pytest.mark.browser


def test_a_resident_borrows_a_drill_on_the_tablet_and_returns_it(serve, tablet, shot):
    server = serve(KIOSK_RECEIPT_SECONDS=4)
    page = tablet(server, enrolled=True)

    page.goto("/kiosk/")
    expect(page.locator(".tiles .tile")).to_have_count(4)
    shot(page, "home")
    choose_language(page, "en")
    page.get_by_role("link", name="Borrow or return a tool").click()
    path_is(page, "/kiosk/tools/")
    shot(page, "catalogue")

    drill = page.locator(".kind-card", has_text="Electric drill")
    expect(drill.locator(".kind-count")).to_have_text("2 of 3 free")
    drill.click()
    expect(page).to_have_url(re.compile(r"/kiosk/tools/kind/\d+$"))
    expect(page.locator("h1")).to_contain_text("Electric drill")
    shot(page, "kind")

    free = page.locator(".tool-row", has=page.locator(".status-free")).first
    code = free.locator(".tool-code").inner_text().strip()
    label = free.locator(".tool-label").inner_text().strip()
    assert re.fullmatch(r"RW-\d{4}", code) and label.startswith("Electric drill #")
    free.click()
    path_is(page, f"/kiosk/t/{code}")
    shot(page, "tool")

    page.get_by_role("link", name="Borrow this tool").click()
    path_is(page, f"/kiosk/t/{code}/borrow")
    expect(page.get_by_role("heading", name="Who is borrowing?")).to_be_visible()
    mobile = page.locator("#mobile")
    expect(mobile).to_have_attribute("inputmode", "numeric")
    expect(page.locator("#identify-form")).to_have_attribute("autocomplete", "off")
    shot(page, "identify")

    # The on-screen number pad: a mistyped digit is deleted with ⌫, as a resident would.
    pad = page.locator("#field-mobile .keypad")
    for key in "1391234567" + "9" + "⌫" + "8":
        pad.locator(f"button[data-key='{key}']").click()
    expect(mobile).to_have_value("13912345678")
    page.locator("#name").fill("卓玛")
    page.locator("#consent").check()
    shot(page, "identify-filled")
    page.get_by_role("button", name="Next").click()

    expect(page.locator("section.confirm")).to_contain_text("Borrower: 卓玛, 139****5678")
    expect(page.locator("section.confirm")).not_to_contain_text("13912345678")
    shot(page, "confirm")
    assert_fit_for_residents(page)
    page.get_by_role("button", name="Yes, borrow it").click()

    receipt = page.locator("section.receipt")
    expect(receipt.locator("h1")).to_have_text(f"{label} is yours.")
    loan_days = free_tool_of(server, "Electric drill")[1]
    expect(receipt).to_contain_text(f"Please bring it back by {due_in_words(loan_days)}.")
    expect(receipt).to_contain_text(code)
    shot(page, "receipt")
    assert_fit_for_residents(page)
    [(channel, returned_at, _)] = loans_of_tool(server, code)
    assert channel == "kiosk" and returned_at is None

    # Later, the drill comes back to the hall. The tablet has forgotten who borrowed it.
    page.goto(f"/kiosk/t/{code}")
    expect(page.locator("#tool-card .status-out")).to_be_visible()
    expect(page.locator("#tool-card")).not_to_contain_text("You have this tool")
    shot(page, "tool-on-loan")
    page.get_by_role("link", name="I am bringing it back").click()
    path_is(page, f"/kiosk/t/{code}/return")
    expect(page.get_by_role("heading", name=f"Return {label}")).to_be_visible()
    page.get_by_label("It is fine").check()
    shot(page, "return")
    page.get_by_role("button", name="Return it").click()

    expect(page.locator("section.receipt h1")).to_have_text(f"Thank you! {label} is back.")
    shot(page, "returned")
    assert_fit_for_residents(page)
    [(channel, returned_at, condition)] = loans_of_tool(server, code)
    assert returned_at is not None and condition == "fine"

    # The receipt goes back to the start by itself.
    path_is(page, "/kiosk/")
    expect(page.locator(".tiles")).to_be_visible()
    shot(page, "home-again")


def test_a_usb_scanner_types_the_label_and_enter(serve, tablet, shot):
    server = serve()
    page = tablet(server)
    page.goto("/kiosk/")
    page.locator("a.tile-tools").click()
    path_is(page, "/kiosk/tools/")
    box = page.locator("#code")
    expect(box).to_be_focused()  # ready for the scanner without a tap, also after an htmx swap
    box.focus()
    shot(page, "scan-box")
    # A scanner reading a QR label types its whole content, then Enter.
    page.keyboard.type("http://hall.test/t/rw-0001")
    page.keyboard.press("Enter")

    path_is(page, "/kiosk/t/RW-0001")
    expect(page.locator("#tool-card .tool-code")).to_have_text("RW-0001")
    shot(page, "tool-page")


def test_a_code_that_is_no_tool_says_so_next_to_the_box(serve, tablet, shot):
    server = serve()
    page = tablet(server)
    page.goto("/kiosk/tools/")
    page.locator("#code").focus()
    page.keyboard.type("RW-9999")
    page.keyboard.press("Enter")
    expect(page.locator("#field-code .error")).to_be_visible()
    expect(page.locator("#code")).to_have_attribute("aria-invalid", "true")
    shot(page, "unknown-code")
