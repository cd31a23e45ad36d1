"""The heart-to-heart afternoon tea in the browser: staff plan a tea for today and invite the
suggested residents, a resident signs in with a phone through the tablet's QR, another taps their
name on the tablet, and staff record the concerns raised and follow one to "resident informed",
which the resident reads on their phone by its receipt code.

The demo hall already holds six past teas (with sign-ins and concerns in every state), one
upcoming tea and 60 residents across six buildings. No tea is held today until a test plans one.
"""
import re
import time
from datetime import time as clock
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from kiosk import codes, tea
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import Concern, StaffUser, TeaSession, TeaSignIn
from tests.browser.helpers import fits_the_phone, path_is
from tests.browser.test_wishes import in_english, log_in_as_staff

pytestmark = pytest.mark.browser

FULL_MOBILE = re.compile(r"1\d{10}")
MASKED_MOBILE = re.compile(r"^1\d{2}\*{4}\d{4}$")


# --- Looking things up in (and preparing) the hall's database ---------------------------------

def invited_to(server, session_id: int) -> list[tuple[int, str, str, str]]:
    """[(resident id, name, mobile, building)] of everyone invited to the session."""
    return server.query(lambda: [(i.resident.id, i.resident.name, i.resident.mobile, tea.building_of(i.resident))
                                 for i in tea.invitations(session_id)])


def sign_ins_of(server, session_id: int) -> list[tuple[int, str]]:
    """[(resident id, how)] of every sign-in at the session."""
    return server.query(lambda: [(s.resident_id, s.how) for s in db.session.scalars(
        select(TeaSignIn).where(TeaSignIn.session_id == session_id).order_by(TeaSignIn.id))])


def all_sign_ins(server) -> int:
    return server.query(lambda: db.session.scalar(select(func.count()).select_from(TeaSignIn)))


def a_tea_open_now(server) -> int:
    """A tea held today all day, with the fair suggestion invited (what staff do on its page)."""
    def plan():
        admin = db.session.scalar(select(StaffUser.id).where(StaffUser.role == "admin"))
        session = tea.save_session(tea.SessionFields(hall_today(), clock(0, 0), clock(23, 59), "Hall, ground floor",
                                                     "Winter heating"), admin)
        tea.invite(session.id, [s.resident.id for s in tea.suggest(session.id)])
        return session.id

    return server.query(plan)


def token_of_another_tea(server, past: bool) -> str:
    """A sign-in code of the demo's latest past tea, or of its upcoming one."""
    def make():
        when = TeaSession.day < hall_today() if past else TeaSession.day > hall_today()
        return tea.new_token(db.session.scalars(select(TeaSession.id).where(when).order_by(TeaSession.day.desc())).first())

    return server.query(make)


def a_concern_code(server, status: str) -> str:
    return server.query(lambda: db.session.scalars(
        select(Concern.code).where(Concern.status == status).order_by(Concern.id)).first())


def concerns_of(server, session_id: int) -> dict[str, tuple[str, str, int | None]]:
    """{description: (status, code, resident id)} of the concerns raised at the session."""
    return server.query(lambda: {c.description: (c.status, c.code, c.resident_id) for c in db.session.scalars(
        select(Concern).where(Concern.session_id == session_id))})


# --- Steps in the browser ---------------------------------------------------------------------

def qr_path(tablet_page, server, session_id: int) -> str:
    """Open the tablet's QR screen and read what its code says: BASE_URL + /s/<token>; the path."""
    tablet_page.goto(f"/kiosk/tea/{session_id}/qr")
    url = tablet_page.locator("#tea-qr").get_attribute("data-url")
    base = server.app.config["BASE_URL"]
    assert url.startswith(f"{base}/s/"), url
    return url.removeprefix(base)


def sign_in_on_the_phone(page, mobile: str, name: str):
    page.locator("#mobile").fill(mobile)
    page.locator("#name").fill(name)
    page.get_by_role("button", name="Sign me in").click()


def refused(page, path: str, reason: str):
    """The phone opens a sign-in code that does not work: a kind 400 page, no form."""
    response = page.goto(path)
    assert response.status == 400
    expect(page.locator("section.tea-refused")).to_have_attribute("data-reason", reason)
    expect(page.locator("section.tea-refused .lead")).to_have_text(
        "You are not signed in. The staff at the table will gladly help.")
    expect(page.locator("#tea-sign-in-form")).to_have_count(0)
    fits_the_phone(page)


def follow_up(staff, note: str, move_to: str, satisfied: str | None = None):
    """One follow-up entry on the concern's page, moving it on one step."""
    staff.locator("#note").fill(note)
    staff.locator("#status").select_option(label=move_to)
    if satisfied:
        staff.locator("#satisfied").select_option(label=satisfied)
    staff.get_by_role("button", name="Record the follow-up").click()
    expect(staff.locator(".page-head .status")).to_have_text(move_to)


def small_targets(page) -> list[dict]:
    """Visible links and buttons under 48 px tall, and buttons of the page under 64 px (UX.md)."""
    return page.evaluate("""() => [...document.querySelectorAll('a, button')]
        .filter(el => el.offsetParent !== null)
        .map(el => ({what: (el.textContent || el.getAttribute('aria-label') || '').trim().replace(/\\s+/g, ' ').slice(0, 30),
                     height: Math.round(el.getBoundingClientRect().height),
                     big: el.matches('main button, main a.button')}))
        .filter(t => t.height < (t.big ? 64 : 48))""")


# --- From planning the tea to the resident informed -------------------------------------------

def test_a_tea_from_planning_to_the_resident_informed(serve, tablet, phone, new_context, shot):
    server = serve()
    today = server.query(hall_today)

    # 1. Staff plan a tea for today, open all day, and invite the fair suggestion as it comes.
    staff = log_in_as_staff(new_context, server)
    staff.goto("/staff/tea")
    staff.get_by_role("link", name="New session").click()
    path_is(staff, "/staff/tea/new")
    staff.locator("#day").fill(today.isoformat())
    staff.locator("#starts_at").fill("00:00")
    staff.locator("#ends_at").fill("23:59")
    staff.locator("#place").fill("Hall, ground floor")
    staff.locator("#theme").fill("Winter heating")
    # The number first: a focused number input makes Chromium scroll when the button is pressed.
    staff.locator("#target").fill("12")
    staff.locator("#host").fill("Yangzom")
    staff.locator("#officials").fill("Community leader Yangzom, police officer Li")
    shot(staff, "staff-new-tea")
    staff.get_by_role("button", name="Save").click()
    expect(staff.locator(".flash")).to_have_text(f"The afternoon tea of {today.isoformat()} is saved.")
    session_id = server.query(lambda: db.session.scalar(select(TeaSession.id).where(TeaSession.day == today)))
    path_is(staff, f"/staff/tea/{session_id}")
    expect(staff.locator("#invitations-h")).to_have_text("Invitations (0)")
    expect(staff.locator("#suggest-count")).to_have_value("12")
    shot(staff, "staff-tea-page")

    staff.get_by_role("button", name="Suggest residents").click()
    suggested = staff.locator("#suggest tbody input[type=checkbox]")
    expect(suggested).to_have_count(12)
    assert all(box.is_checked() for box in suggested.all())
    shot(staff, "staff-suggested")
    staff.get_by_role("button", name="Invite the ticked").click()
    expect(staff.locator(".flash")).to_have_text("12 residents invited.")
    expect(staff.locator("#invitations-h")).to_have_text("Invitations (12)")
    shot(staff, "staff-invited")
    invited = invited_to(server, session_id)
    assert len(invited) == 12 and len({building for *_, building in invited}) >= 4, invited
    (qr_id, qr_name, qr_mobile, _b), (tap_id, tap_name, tap_mobile, _b2) = invited[0], invited[5]

    # 2. The tablet at the table shows the tea; its QR says where a phone signs in.
    table = in_english(tablet(server, enrolled=True), "/kiosk/tea/")
    expect(table.locator("section.tea-table")).to_have_attribute("data-session", str(session_id))
    expect(table.locator(".tea-theme")).to_have_text("Today's theme: Winter heating")
    shot(table, "tablet-table")
    table.get_by_role("link", name="Sign in with your phone").click()
    path_is(table, f"/kiosk/tea/{session_id}/qr")
    expect(table.locator("#tea-qr svg")).to_be_visible()
    shot(table, "tablet-qr")
    scanned = qr_path(table, server, session_id)

    # A resident scans it. A name the hall does not know with that number: said next to the
    # field, the typing stays, nothing is recorded.
    resident = in_english(phone(server), scanned)
    expect(resident.locator(".tea-scan .tea-theme")).to_have_text("Today's theme: Winter heating")
    fits_the_phone(resident)
    shot(resident, "phone-scan")
    sign_in_on_the_phone(resident, qr_mobile, "Somebody Else")
    expect(resident.locator("#field-mobile .error")).to_have_text(
        "We do not know this name and mobile number. Please sign in at the tablet on the table; the staff will help.")
    expect(resident.locator("#mobile")).to_have_value(qr_mobile)
    expect(resident.locator("#name")).to_have_value("Somebody Else")
    fits_the_phone(resident)
    shot(resident, "phone-unknown")
    assert sign_ins_of(server, session_id) == []

    sign_in_on_the_phone(resident, qr_mobile, qr_name)
    welcome = resident.locator("section.tea-welcome")
    expect(welcome).to_have_attribute("data-signed-in", "new")
    expect(welcome.locator("h1")).to_have_text(f"Welcome, {qr_name}! You are signed in.")
    fits_the_phone(resident)
    shot(resident, "phone-signed-in")
    assert sign_ins_of(server, session_id) == [(qr_id, "qr")]

    # Again (the phone remembers them now): already signed in, still one attendance.
    resident.goto(scanned)
    expect(resident.locator("#mobile")).to_have_value(qr_mobile)
    expect(resident.locator("#name")).to_have_value(qr_name)
    resident.get_by_role("button", name="Sign me in").click()
    expect(welcome).to_have_attribute("data-signed-in", "again")
    expect(welcome.locator("h1")).to_have_text(f"Welcome, {qr_name}! You were already signed in.")
    shot(resident, "phone-again")
    assert sign_ins_of(server, session_id) == [(qr_id, "qr")]

    # 3. Another invited resident taps their name on the tablet: names with masked mobiles only.
    table.goto("/kiosk/tea/")
    table.get_by_role("link", name="Tap your name").click()
    path_is(table, f"/kiosk/tea/{session_id}/names")
    names = table.locator("ul.tea-names > li")
    expect(names).to_have_count(12)
    expect(table.locator(f"li[data-resident='{qr_id}']")).to_have_attribute("data-signed-in", "true")
    for mobile in table.locator(".tea-mobile").all_inner_texts():
        assert MASKED_MOBILE.match(mobile), mobile
    assert not FULL_MOBILE.search(table.locator("main").inner_text())
    assert not any(full in table.content() for *_, full, _b in invited)
    shot(table, "tablet-names")
    mine = table.locator(f"li[data-resident='{tap_id}']")
    expect(mine.locator(".tea-name-text")).to_have_text(tap_name)
    expect(mine.locator(".tea-mobile")).to_have_text(f"{tap_mobile[:3]}****{tap_mobile[-4:]}")
    mine.get_by_role("button").click()
    welcome = table.locator("section.tea-welcome")
    expect(welcome).to_have_attribute("data-signed-in", "new")
    expect(welcome.locator("h1")).to_have_text(f"Welcome, {tap_name}! You are signed in.")
    expect(welcome).to_have_attribute("data-home-url", f"/kiosk/tea/{session_id}/names")
    shot(table, "tablet-welcome")
    assert sign_ins_of(server, session_id) == [(qr_id, "qr"), (tap_id, "tablet")]
    table.get_by_role("link", name="Done").click()
    path_is(table, f"/kiosk/tea/{session_id}/names")
    expect(mine).to_have_attribute("data-signed-in", "true")
    expect(mine.locator(".tea-done")).to_have_text("✓ Signed in")
    expect(mine.locator("button")).to_be_disabled()
    shot(table, "tablet-names-signed")

    # 4. Staff record two concerns from the session's quick form: one answered, one referred.
    staff.goto(f"/staff/tea/{session_id}")
    expect(staff.locator("#signed-in-h")).to_have_text("Signed in (2)")
    quick = staff.locator("form.quick-concern")
    quick.locator("#category").select_option(label="Public toilets")
    quick.locator("#description").fill("When does the public toilet open in the morning?")
    quick.locator("#answer").fill("From 6 o'clock, every day.")
    shot(staff, "staff-concern-answered")
    quick.get_by_role("button", name="Save: answered on the spot").click()
    expect(staff.locator(".flash")).to_contain_text("The concern is recorded. The resident's receipt code is")
    path_is(staff, f"/staff/tea/{session_id}")

    in_three_weeks = (today + timedelta(days=21)).isoformat()
    quick.locator("#category").select_option(label="Roads and drains")
    quick.locator("#description").fill("The drain outside building 3 overflows when it rains.")
    quick.locator("#place").fill("Building 3")
    quick.locator("#mobile").fill(qr_mobile)
    quick.locator("#name").fill(qr_name)
    quick.locator("#proposed_solution").fill("Clear the drain and widen the grate.")
    quick.locator("#responsible_body").fill("城管局")
    quick.locator("#due_on").fill(in_three_weeks)
    shot(staff, "staff-concern-follow-up")
    quick.get_by_role("button", name="Save for follow-up").click()
    expect(staff.locator(".flash")).to_contain_text("The concern is recorded.")
    expect(staff.locator("#concerns-h")).to_have_text("Concerns raised (2)")
    raised = concerns_of(server, session_id)
    answered_status, answered_code, _r = raised["When does the public toilet open in the morning?"]
    status, code, raised_by = raised["The drain outside building 3 overflows when it rains."]
    assert (answered_status, status, raised_by) == ("answered", "open", qr_id)
    shot(staff, "staff-concerns")

    # ... then follow the second one on its page to "resident informed".
    staff.locator("#concerns").get_by_role("link", name=codes.formatted(code)).click()
    expect(staff.locator("h1 .tool-code")).to_have_text(codes.formatted(code))
    expect(staff.locator(".page-head .status")).to_have_text("Open")
    shot(staff, "staff-concern-open")
    steps = [("Sent to the urban management bureau.", "Referred"),
             ("The bureau has scheduled the work.", "In progress"),
             ("The drain is cleared and the grate widened.", "Resolved")]
    for note, move_to in steps:
        follow_up(staff, note, move_to)
    follow_up(staff, "Told the resident by phone; she is happy.", "Resident informed", satisfied="Yes, satisfied")
    expect(staff.locator(".flash")).to_have_text(f"The follow-up of {codes.formatted(code)} is recorded.")
    history = staff.locator("#history tbody tr")
    expect(history).to_have_count(5)
    expect(history.locator("td:nth-child(3)")).to_have_text(
        ["Open", "Referred", "In progress", "Resolved", "Resident informed"])
    expect(history.nth(4)).to_contain_text("Told the resident by phone; she is happy.")
    expect(staff.locator("section[aria-labelledby=concern-h] .facts")).to_contain_text("Yes, satisfied")
    shot(staff, "staff-concern-informed")
    assert concerns_of(server, session_id)["The drain outside building 3 overflows when it rains."][0] == "informed"

    # The resident follows it on their phone by its receipt code: "informed" in words, no name.
    resident.goto(f"/q/{code}")
    status = resident.locator("section.tea-concern")
    expect(status).to_have_attribute("data-status", "informed")
    expect(status.locator("h1")).to_have_text("Resolved, and you were told")
    expect(status.locator(".lead").first).to_have_text("Your concern is resolved and the staff told you the outcome.")
    expect(status.locator(".concern-steps li")).to_have_count(5)
    expect(status.locator(".receipt-code strong")).to_have_text(codes.formatted(code))
    text = resident.locator("body").inner_text()
    assert qr_name not in text and qr_mobile not in text and qr_mobile[-4:] not in text
    assert "Told the resident by phone" not in text  # the staff's notes stay in the office
    fits_the_phone(resident)
    shot(resident, "phone-concern-informed")
    resident.goto(f"/q/{answered_code}")
    expect(status).to_have_attribute("data-status", "answered")
    expect(status.locator(".concern-answer")).to_contain_text("From 6 o'clock, every day.")
    fits_the_phone(resident)
    shot(resident, "phone-concern-answered")


# --- Codes that do not work ---------------------------------------------------------------------

def test_a_code_of_another_tea_or_a_forged_one_is_refused_on_the_phone(serve, tablet, phone, shot):
    server = serve()
    session_id = a_tea_open_now(server)
    (_rid, name, mobile, _b), *_ = invited_to(server, session_id)
    before = all_sign_ins(server)
    page = in_english(phone(server), "/")

    # The code of a past tea (a photo of an old QR): outside its window.
    refused(page, f"/s/{token_of_another_tea(server, past=True)}", "window")
    expect(page.locator("section.tea-refused h1")).to_have_text("Signing in is open only during the afternoon tea.")
    shot(page, "past-tea")

    # The upcoming tea's code, before its day.
    refused(page, f"/s/{token_of_another_tea(server, past=False)}", "window")
    shot(page, "coming-tea")

    # A code made up, or today's with a letter changed.
    today = qr_path(tablet(server, enrolled=True), server, session_id)
    refused(page, "/s/not-a-code", "token_bad")
    # (Not the last letter: of a base64 signature it also carries padding bits that decoding
    # ignores, so A and B there can read as the same signature.)
    refused(page, today[:-2] + ("A" if today[-2] != "A" else "B") + today[-1], "token_bad")
    expect(page.locator("section.tea-refused h1")).to_have_text(
        "This code is not valid. Please scan the code on the tablet at the table.")
    shot(page, "forged")
    assert all_sign_ins(server) == before

    # Today's real code still signs the resident in.
    page.goto(today)
    sign_in_on_the_phone(page, mobile, name)
    expect(page.locator("section.tea-welcome")).to_have_attribute("data-signed-in", "new")
    shot(page, "today-works")
    assert all_sign_ins(server) == before + 1


def test_an_expired_code_is_refused_and_the_qr_changes_by_itself(serve, tablet, phone, shot):
    """With a one-second code, a code read from the QR is refused two seconds later, and the
    tablet's QR (renewed every second here) has moved on to a new one."""
    server = serve(TEA_TOKEN_SECONDS=1, TEA_QR_SECONDS=1)
    session_id = a_tea_open_now(server)
    (_rid, name, mobile, _b), *_ = invited_to(server, session_id)
    table = tablet(server, enrolled=True)
    scanned = qr_path(table, server, session_id)
    shot(table, "qr")
    page = in_english(phone(server), "/")
    time.sleep(2.1)
    refused(page, scanned, "token_expired")
    expect(page.locator("section.tea-refused h1")).to_have_text(
        "This code has expired. Please scan the code on the tablet at the table again.")
    shot(page, "expired")
    expect(table.locator("#tea-qr")).not_to_have_attribute("data-url", server.app.config["BASE_URL"] + scanned)
    expect(table.locator("#tea-qr svg")).to_be_visible()
    shot(table, "qr-renewed")
    assert sign_ins_of(server, session_id) == []

    # A code that expires between opening the form and sending it: refused, nothing recorded.
    page.goto(qr_path(table, server, session_id))
    page.locator("#mobile").fill(mobile)
    page.locator("#name").fill(name)
    time.sleep(2.1)
    page.get_by_role("button", name="Sign me in").click()
    expect(page.locator("section.tea-refused")).to_have_attribute("data-reason", "token_expired")
    shot(page, "expired-on-send")
    assert sign_ins_of(server, session_id) == []


# --- Sizes: the phone's pages, the tablet's targets -------------------------------------------

def test_the_tea_pages_fit_a_phone(serve, tablet, phone, shot):
    server = serve()
    session_id = a_tea_open_now(server)
    scanned = qr_path(tablet(server, enrolled=True), server, session_id)
    page = in_english(phone(server), "/q")
    for name, path in {"scan": scanned, "concern-start": "/q",
                       "concern-informed": f"/q/{a_concern_code(server, 'informed')}",
                       "concern-overdue": f"/q/{a_concern_code(server, 'referred')}"}.items():
        page.goto(path)
        fits_the_phone(page)
        shot(page, name)
    page.goto("/q")
    page.locator("#code").fill("zzzz zzzz")
    page.get_by_role("button", name="Check my concern").click()
    expect(page.locator("#field-code .error")).to_have_text("We have no concern with this code. Please check the code.")
    fits_the_phone(page)
    shot(page, "concern-not-found")


def test_tablet_targets_on_the_tea_screens_are_big_enough(serve, tablet, shot):
    """Every link and button at least 48 px tall; the names and the page's buttons 64 px (UX.md)."""
    server = serve()
    session_id = a_tea_open_now(server)
    page = in_english(tablet(server, enrolled=True), "/kiosk/tea/")
    small = {}
    for name, path in {"table": "/kiosk/tea/", "names": f"/kiosk/tea/{session_id}/names",
                       "qr": f"/kiosk/tea/{session_id}/qr", "walk-in": f"/kiosk/tea/{session_id}/walk-in"}.items():
        page.goto(path)
        shot(page, name)
        small[path] = small_targets(page)
    page.goto(f"/kiosk/tea/{session_id}/names")
    buttons = page.locator("ul.tea-names button")
    expect(buttons).to_have_count(12)
    assert min(box["height"] for box in (b.bounding_box() for b in buttons.all())) >= 64
    assert {path: targets for path, targets in small.items() if targets} == {}, "targets too small on the tablet"
