"""The tablet forgets: after a while without a touch, "Still there?" counts down, then a full reload
of the home screen with a cleared server session. One tap on "I am still here" keeps everything."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import choose_language, free_tool_of, path_is
from tests.browser.page_checks import assert_fit_for_residents

pytestmark = pytest.mark.browser

IDLE, COUNTDOWN = 2, 4  # seconds; the hall uses 75 and 25


def fill_half(page):
    pad = page.locator("#field-mobile .keypad")
    for key in "13912345678":
        pad.locator(f"button[data-key='{key}']").click()
    page.locator("#name").fill("卓玛")


def test_the_idle_reset_clears_a_half_filled_form(serve, tablet, shot):
    server = serve(KIOSK_IDLE_SECONDS=IDLE, KIOSK_COUNTDOWN_SECONDS=COUNTDOWN)
    code, _ = free_tool_of(server, "Electric drill")
    identify = f"/kiosk/t/{code}/borrow"
    page = tablet(server)
    overlay = page.locator("#idle-overlay")
    mobile, name = page.locator("#mobile"), page.locator("#name")

    page.goto("/kiosk/")
    choose_language(page, "en")
    page.goto(identify)
    fill_half(page)
    shot(page, "half-filled")

    # "I am still here" keeps the form as it was.
    expect(overlay).to_be_visible(timeout=(IDLE + 3) * 1000)
    expect(page.get_by_role("alertdialog")).to_contain_text("Still there?")
    expect(page.locator("#idle-stay")).to_be_focused()
    shot(page, "still-there")
    assert_fit_for_residents(page)
    page.locator("#idle-stay").click()
    expect(overlay).to_be_hidden()
    path_is(page, identify)
    expect(mobile).to_have_value("13912345678")
    expect(name).to_have_value("卓玛")
    shot(page, "kept")

    # Nobody answers: the countdown runs out and the home screen loads in full.
    page.evaluate("window.leftOver = true")
    expect(overlay).to_be_visible(timeout=(IDLE + 3) * 1000)
    count = int(page.locator("#idle-count").inner_text())
    assert 0 < count <= COUNTDOWN
    shot(page, "countdown")
    path_is_home = (IDLE + COUNTDOWN + 5) * 1000
    expect(page).to_have_url(f"{server.url}/kiosk/", timeout=path_is_home)
    expect(page.locator(".tiles")).to_be_visible()
    assert page.evaluate("window.leftOver") is None, "the home screen was not a full page load"
    # ... in the hall's default language again, not the last resident's.
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    shot(page, "home-after-reset")

    # Neither the back button nor the same address brings the typing back.
    page.go_back()
    path_is(page, identify)
    expect(mobile).to_have_value("")
    expect(name).to_have_value("")
    page.goto(identify)
    expect(mobile).to_have_value("")
    expect(name).to_have_value("")
    shot(page, "empty-again")


def test_the_idle_reset_makes_the_server_forget_the_resident(serve, tablet, shot):
    server = serve(KIOSK_IDLE_SECONDS=IDLE, KIOSK_COUNTDOWN_SECONDS=COUNTDOWN)
    code, _ = free_tool_of(server, "Electric drill")
    identify = f"/kiosk/t/{code}/borrow"
    page = tablet(server)

    # A resident identifies, reaches "Please confirm" and walks away.
    page.goto(identify)
    fill_half(page)
    page.locator("#consent").check()
    page.locator("#identify-form button[type=submit]").click()
    expect(page.locator("section.confirm")).to_contain_text("139****5678")
    shot(page, "confirm-left-open")
    page.goto(identify)  # the server knows them: straight to "Please confirm"
    expect(page.locator("section.confirm")).to_be_visible()

    expect(page.locator("#idle-overlay")).to_be_visible(timeout=(IDLE + 3) * 1000)
    expect(page).to_have_url(f"{server.url}/kiosk/", timeout=(IDLE + COUNTDOWN + 5) * 1000)
    shot(page, "home-after-reset")

    # The next person at the tablet is asked who they are; nothing of the last one is left.
    page.goto(identify)
    expect(page.locator("#identify-form")).to_be_visible()
    expect(page.locator("section.confirm")).to_have_count(0)
    expect(page.locator("#mobile")).to_have_value("")
    expect(page.locator("#name")).to_have_value("")
    assert "139****5678" not in page.content()
    shot(page, "asked-again")


def test_one_key_press_answers_still_there(serve, tablet, shot):
    """Timing adjustable without a touch: any key (a keyboard, a switch, the barcode scanner) is
    "I am still here", does nothing else, and puts the focus back where it was."""
    server = serve(KIOSK_IDLE_SECONDS=IDLE, KIOSK_COUNTDOWN_SECONDS=COUNTDOWN)
    code, _ = free_tool_of(server, "Electric drill")
    identify = f"/kiosk/t/{code}/borrow"
    page = tablet(server)
    overlay, stay, name = page.locator("#idle-overlay"), page.locator("#idle-stay"), page.locator("#name")

    page.goto(identify)
    fill_half(page)
    expect(name).to_be_focused()

    expect(overlay).to_be_visible(timeout=(IDLE + 3) * 1000)
    expect(stay).to_be_focused()
    box = stay.bounding_box()
    assert box["height"] >= 80 and box["width"] >= 360, box  # the biggest target on the screen
    shot(page, "still-there")
    page.keyboard.press("x")
    expect(overlay).to_be_hidden()
    expect(name).to_be_focused()
    expect(name).to_have_value("卓玛")  # the key only answered the question
    shot(page, "answered-by-a-key")

    # Enter too: it does not send the form behind the question.
    expect(overlay).to_be_visible(timeout=(IDLE + 3) * 1000)
    page.keyboard.press("Enter")
    expect(overlay).to_be_hidden()
    path_is(page, identify)
    expect(page.locator("#identify-form")).to_be_visible()
    expect(page.locator("#mobile")).to_have_value("13912345678")


def test_a_page_that_refreshes_itself_still_resets(serve, tablet, shot):
    """The tool shop's counts refresh themselves more often than the idle time: a refresh is not a
    touch, so the tablet left on the tool shop still asks "Still there?" and goes home."""
    server = serve(KIOSK_IDLE_SECONDS=IDLE + 1, KIOSK_COUNTDOWN_SECONDS=COUNTDOWN,
                   KIOSK_CATALOGUE_REFRESH_SECONDS=1)
    page = tablet(server)
    refreshes = []
    page.on("request", lambda request: refreshes.append(1) if request.headers.get("hx-request") else None)
    page.goto("/kiosk/tools/")
    expect(page.locator("#idle-overlay")).to_be_visible(timeout=(IDLE + 4) * 1000)
    assert refreshes, "the list did not refresh itself while the tablet waited"
    shot(page, "still-there-on-the-tool-shop")
    expect(page).to_have_url(f"{server.url}/kiosk/", timeout=(IDLE + COUNTDOWN + 6) * 1000)
