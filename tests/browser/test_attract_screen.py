"""After the idle reset the tablet shows "Touch to start" in Tibetan, Chinese and English at once,
with the four flows' pictures, and then does nothing at all: no request, no countdown, until
someone touches it (or presses a key). Someone who opens the home screen never meets it."""
import pytest
from flask import request_started
from flask_babel import force_locale, gettext
from playwright.sync_api import expect

from tests.browser.helpers import choose_language, path_is
from tests.browser.page_checks import assert_fit_for_residents

pytestmark = pytest.mark.browser

IDLE, COUNTDOWN = 2, 2  # seconds; the hall uses 75 and 25
RESET = (IDLE + COUNTDOWN + 5) * 1000  # ms: enough for the countdown to run out and the page to load
LANGS = (("bo", "bo"), ("zh_Hans", "zh-Hans"), ("en", "en"))


def touch_to_start(server) -> list[tuple[str, str]]:
    """[(lang attribute, "Touch to start" from that language's catalogue)], Tibetan first."""
    words = []
    for locale, lang in LANGS:
        with server.app.test_request_context(), force_locale(locale):
            words.append((lang, gettext("Touch to start")))
    return words


def left_alone(serve, tablet):
    """A tablet whose last resident chose English and walked away: the idle reset runs."""
    server = serve(KIOSK_IDLE_SECONDS=IDLE, KIOSK_COUNTDOWN_SECONDS=COUNTDOWN)
    page = tablet(server)
    page.goto("/kiosk/")
    choose_language(page, "en")
    page.locator(".tile-tools").click()
    path_is(page, "/kiosk/tools/")
    expect(page).to_have_url(f"{server.url}/kiosk/", timeout=RESET)
    expect(page.locator("#attract")).to_be_visible()
    return server, page


def test_touch_to_start_in_three_languages_costs_nothing_while_it_waits(serve, tablet, shot):
    server, page = left_alone(serve, tablet)
    attract = page.locator("#attract")

    for lang, text in touch_to_start(server):
        expect(attract.locator(f".attract-words[lang='{lang}']")).to_have_text(text)
    expect(attract.locator(".attract-picts .pict")).to_have_count(4)
    expect(attract).to_be_focused()
    assert page.locator("main").evaluate("main => main.inert")
    # The home screen is beneath, back in the hall's language.
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator(".tiles .tile")).to_have_count(4)
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready.then(() => true)")  # the Tibetan letters' font is in
    shot(page, "touch-to-start")
    assert_fit_for_residents(page)

    # Left alone for longer than the idle time: not one request, from the page or to the server,
    # and no "Still there?".
    from_page, at_server = [], []
    page.on("request", lambda r: from_page.append(r.url))
    request_started.connect(lambda sender, **kw: at_server.append(1), server.app, weak=False)
    page.wait_for_timeout((IDLE + 1) * 1000)
    expect(page.locator("#idle-overlay")).to_be_hidden()
    expect(attract).to_be_visible()
    assert from_page == [] and at_server == [], (from_page, len(at_server))

    # One touch: the home screen, and the touch opened nothing beneath.
    attract.tap()
    expect(attract).to_be_hidden()
    path_is(page, "/kiosk/")
    assert not page.locator("main").evaluate("main => main.inert")
    shot(page, "home")
    # Someone is here now: the idle countdown is armed again, and the tiles work.
    expect(page.locator("#idle-overlay")).to_be_visible(timeout=(IDLE + 3) * 1000)
    page.locator("#idle-stay").click()
    page.locator(".tile-tools").click()
    path_is(page, "/kiosk/tools/")
    expect(page.locator(".kinds")).to_be_visible()


def test_any_key_wakes_the_screen(serve, tablet, shot):
    _server, page = left_alone(serve, tablet)
    page.keyboard.press("Enter")
    expect(page.locator("#attract")).to_be_hidden()
    path_is(page, "/kiosk/")  # the key did not open a tile too
    first_tile = page.locator(".tiles a").first
    expect(first_tile).to_be_focused()
    shot(page, "woken-by-a-key")
    page.keyboard.press("Enter")
    path_is(page, "/kiosk/tools/")


def test_someone_who_opens_the_home_screen_gets_the_tiles(serve, tablet):
    server = serve(KIOSK_IDLE_SECONDS=IDLE, KIOSK_COUNTDOWN_SECONDS=COUNTDOWN)
    page = tablet(server)
    page.goto("/kiosk/")
    expect(page.locator(".tiles .tile")).to_have_count(4)
    expect(page.locator("#attract")).to_be_hidden()
    page.locator(".tile-tools").click()
    path_is(page, "/kiosk/tools/")
    page.locator(".home-button").click()  # the Home button, a boosted link
    path_is(page, "/kiosk/")
    expect(page.locator("#attract")).to_be_hidden()
    # "Start over now" (under "Still there?") is someone at the tablet too.
    with page.expect_navigation():
        page.locator("#idle-reset").evaluate("form => form.requestSubmit()")
    expect(page).to_have_url(f"{server.url}/kiosk/")
    expect(page.locator(".tiles .tile")).to_have_count(4)
    expect(page.locator("#attract")).to_be_hidden()
