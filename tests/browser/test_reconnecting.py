"""The hall server goes away mid-visit (a restart, the hall's network down) and comes back.

The tablet shows a calm "reconnecting" screen in the resident's language, finds the server again
by itself, and loses nothing: a form that was not sent is still filled in, with a note that says
so; nothing is sent again without a tap, so a borrow happens once.
The server here really stops (connections refused) and starts again on the same port.
"""
import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from sqlalchemy import event

from kiosk.extensions import db
from tests.browser.helpers import free_tool_of, loans_of_tool, path_is, type_on_keypad
from tests.browser.page_checks import assert_fit_for_residents

pytestmark = pytest.mark.browser

CONNECTING = "Connecting to the hall server…"
NOT_SENT = "Your answer was not sent. Please tap the button again."
NOT_OPENED = "The page did not open. Please tap it again."
BACK = 15_000  # ms: the tablet asks again after 2 s, then a little later each time (at most 10 s)


def words(server, text: str, lang: str) -> str:
    """What the catalogue of `lang` says for `text`: the words the page must show."""
    with server.app.test_request_context(), force_locale(lang):
        return gettext(text)


def note_above(page, form: str):
    """The "not sent" note right above the form."""
    return page.locator(form).locator("xpath=preceding-sibling::*[1][contains(@class, 'not-sent')]")


def choose_tibetan(page):
    page.goto("/kiosk/")
    page.locator(".lang-switch button[value='bo']").click()
    expect(page.locator("html")).to_have_attribute("lang", "bo")


def test_a_borrow_survives_the_server_going_away_twice_and_happens_once(serve_restartable, tablet, shot):
    server = serve_restartable()
    code, _ = free_tool_of(server, "Electric drill")
    identify = f"/kiosk/t/{code}/borrow"
    page = tablet(server)
    reconnecting = page.locator("#reconnecting")
    form = page.locator("#identify-form")

    choose_tibetan(page)
    page.goto(identify)
    type_on_keypad(page, "13912345678")
    page.locator("#name").fill("卓玛")
    page.locator("#consent").check()
    shot(page, "identify-filled")

    # The server stops; the resident taps "Next".
    server.stop()
    form.locator("button[type=submit]").click()
    expect(reconnecting).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(words(server, CONNECTING, "bo"))
    expect(page.locator("html")).to_have_attribute("lang", "bo")
    assert page.locator("main").evaluate("main => main.inert"), "the form beneath still takes taps"
    shot(page, "reconnecting")
    assert_fit_for_residents(page, lang="bo")
    # Beneath it, nothing is lost: the page, what was typed, and a note right above the form.
    path_is(page, identify)
    note = note_above(page, "#identify-form")
    expect(note).to_contain_text(words(server, NOT_SENT, "bo"))
    expect(page.locator("#mobile")).to_have_value("13912345678")
    expect(page.locator("#name")).to_have_value("卓玛")
    expect(page.locator("#consent")).to_be_checked()

    # The server is back: the screen goes away by itself, and "Send again" has the focus.
    server.start()
    expect(reconnecting).to_be_hidden(timeout=BACK)
    expect(note.locator("[data-send-again]")).to_be_focused()
    box = note.locator("[data-send-again]").bounding_box()
    assert box["height"] >= 64, box
    shot(page, "back-not-sent")
    assert_fit_for_residents(page, lang="bo")
    assert loans_of_tool(server, code) == []
    note.locator("[data-send-again]").click()
    confirm = page.locator("section.confirm")
    expect(confirm).to_contain_text("139****5678")
    expect(page.locator(".not-sent")).to_have_count(0)
    shot(page, "confirm")

    # Once more at the step that lends the drill: the tap that found no server lends nothing, and
    # the resident's own second tap lends it once.
    server.stop()
    borrow = confirm.locator("form button[type=submit]")
    borrow.click()
    expect(reconnecting).to_be_visible()
    expect(note_above(page, "section.confirm form")).to_contain_text(words(server, NOT_SENT, "bo"))
    shot(page, "reconnecting-at-confirm")
    assert loans_of_tool(server, code) == []
    server.start()
    expect(reconnecting).to_be_hidden(timeout=BACK)
    borrow.click()
    expect(page.locator("section.receipt")).to_contain_text(code)
    expect(page.locator(".not-sent")).to_have_count(0)
    shot(page, "receipt")
    [(channel, returned_at, _)] = loans_of_tool(server, code)
    assert channel == "kiosk" and returned_at is None


def test_a_link_tapped_while_the_server_is_away_is_tapped_again_after(serve_restartable, tablet, shot):
    server = serve_restartable()
    page = tablet(server)
    reconnecting = page.locator("#reconnecting")
    page.goto("/kiosk/")  # the hall's default language: Chinese
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")

    server.stop()
    page.locator(".tile-tools").click()
    expect(reconnecting).to_be_visible()
    expect(reconnecting).to_contain_text(words(server, CONNECTING, "zh_Hans"))
    path_is(page, "/kiosk/")
    shot(page, "reconnecting")

    server.start()
    expect(reconnecting).to_be_hidden(timeout=BACK)
    expect(page.locator("main > .not-sent")).to_contain_text(words(server, NOT_OPENED, "zh_Hans"))
    shot(page, "back-tap-again")
    page.locator(".tile-tools").click()
    path_is(page, "/kiosk/tools/")
    expect(page.locator(".kinds")).to_be_visible()
    expect(page.locator(".not-sent")).to_have_count(0)
    shot(page, "catalogue")

    # The language switch loads a whole page: with the server away it would have left the
    # tablet on the browser's own error page. It asks first, and waits like the rest.
    server.stop()
    page.locator(".lang-switch button[value='en']").click()
    expect(reconnecting).to_be_visible()
    path_is(page, "/kiosk/tools/")
    server.start()
    expect(reconnecting).to_be_hidden(timeout=BACK)
    expect(page.locator("main > .not-sent")).to_be_visible()
    page.locator(".lang-switch button[value='en']").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    path_is(page, "/kiosk/tools/")


def test_the_idle_reset_waits_for_the_server_instead_of_stranding_the_tablet(serve_restartable, tablet, shot):
    idle, countdown = 2, 2
    server = serve_restartable(KIOSK_IDLE_SECONDS=idle, KIOSK_COUNTDOWN_SECONDS=countdown)
    code, _ = free_tool_of(server, "Electric drill")
    identify = f"/kiosk/t/{code}/borrow"
    page = tablet(server)
    page.goto(identify)
    type_on_keypad(page, "13912345678")
    page.locator("#name").fill("卓玛")
    page.evaluate("window.leftOver = true")

    # The resident walks away and the server goes down: the countdown runs out into the void.
    server.stop()
    expect(page.locator("#idle-overlay")).to_be_visible(timeout=(idle + 3) * 1000)
    expect(page.locator("#reconnecting")).to_be_visible(timeout=(countdown + 3) * 1000)
    expect(page.locator("#idle-overlay")).to_be_hidden()
    path_is(page, identify)  # not the browser's error page
    shot(page, "reset-waits")

    # The server is back: the reset happens then, a full load of the home screen.
    server.start()
    expect(page).to_have_url(f"{server.url}/kiosk/", timeout=BACK)
    expect(page.locator("#attract")).to_be_visible()
    assert page.evaluate("window.leftOver") is None, "the home screen was not a full page load"
    shot(page, "home-after-reset")


def test_a_proxy_answering_bad_gateway_counts_as_the_server_away(serve_restartable, tablet, shot):
    """With a proxy in front, a restarting server shows as 502/503/504: the proxy's page is not
    swapped in over the form; the tablet waits for the server like when it is away."""
    server = serve_restartable()
    code, _ = free_tool_of(server, "Electric drill")
    identify = f"/kiosk/t/{code}/borrow"
    page = tablet(server)
    page.goto(identify)
    type_on_keypad(page, "13912345678")
    page.locator("#name").fill("卓玛")
    page.locator("#consent").check()

    def bad_gateway(route):
        route.fulfill(status=502, content_type="text/html", body="<h1>502 Bad Gateway</h1>")

    action = page.locator("#identify-form").get_attribute("action")
    page.route(f"**{action}", bad_gateway)
    page.locator("#identify-form button[type=submit]").click()
    expect(page.locator("#reconnecting")).to_be_visible()
    page.unroute(f"**{action}")
    # The ping is not behind the proxy's failure here: the server answers, the screen goes.
    expect(page.locator("#reconnecting")).to_be_hidden(timeout=BACK)
    expect(page.locator("body")).not_to_contain_text("Bad Gateway")
    expect(note_above(page, "#identify-form")).to_be_visible()
    expect(page.locator("#name")).to_have_value("卓玛")
    shot(page, "after-bad-gateway")
    page.locator(".not-sent [data-send-again]").click()
    expect(page.locator("section.confirm")).to_contain_text("139****5678")


def test_the_ping_costs_nothing(app, client):
    """GET /kiosk/ping: an empty answer that nothing may cache, no database, no session."""
    client.get("/kiosk/")  # a browser with a session cookie
    statements = []

    def count(*_args, **_kwargs):
        statements.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get("/kiosk/ping")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 204
    assert response.data == b""
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert statements == []
