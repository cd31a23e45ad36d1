"""Every page of the three layouts, in a real browser, measured the way a resident meets them.

The walk takes every GET route of the app's URL map (the same walk as the security and role
tests, with one of everything in the database), opens each page as the visitor it is for (the
enrolled hall tablet, a resident's phone, an admin in the back office) and checks it with
tests/browser/page_checks.py (axe-core, touch sizes on the tablet, overflow, Tibetan lines, CSP),
plus a focus ring under Tab and errors tied to their fields for the main forms sent empty: at
tablet, phone and desktop sizes in Chinese, and at the two touch sizes in Tibetan and English.

A route added later is walked the moment it is registered. A failure lists every page and element
at fault, not just the first.
"""
import threading
from dataclasses import dataclass

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from werkzeug.serving import WSGIRequestHandler, make_server

from kiosk.extensions import db
from tests.browser.conftest import TABLET
from tests.browser.page_checks import RECORD_CSP, SIZES, problems_on
from tests.conftest import ADMIN_PASSWORD
from tests.test_security import identities, make_app, populate, walk

pytestmark = pytest.mark.browser

LANGUAGES = ("zh_Hans", "bo", "en")
SURFACES = ("kiosk", "phone", "staff")
# Forms sent empty, as a hurried resident would: the page with its errors is a page too, and the
# errors must be next to their fields, announced, and fit. (The browser's own "required" bubbles
# are switched off so that the server's answer is what is measured.)
SENT_EMPTY = {
    "kiosk": [("tablet", "/kiosk/t/RW-0002/borrow"), ("tablet", "/kiosk/c/ENGLISH/register"),
              ("tablet", "/kiosk/w/new"), ("tablet", "/kiosk/a/HEALTH/sign-up"), ("tablet", "/kiosk/tea/1/walk-in")],
    "phone": [("anonymous", "/t/RW-0002/borrow"), ("anonymous", "/c/ENGLISH/register"), ("anonymous", "/w/new"),
              ("anonymous", "/a/HEALTH/sign-up")],
    "staff": [("anonymous", "/staff/login"), ("admin", "/staff/kinds/new"), ("admin", "/staff/classes/new"),
              ("admin", "/staff/worklog/new"), ("admin", "/staff/accounts/new"), ("admin", "/staff/concerns/new")],
}
SEND_EMPTY = """() => {
  const form = [...document.querySelectorAll("main form[method=post]")].find(f => f.querySelector("input:not([type=hidden]), textarea, select"));
  if (!form) return false;
  form.noValidate = true;
  form.querySelectorAll("input:not([type=hidden]):not([type=checkbox]):not([type=radio]), textarea").forEach(i => { i.value = ""; });
  form.querySelectorAll("input[type=checkbox], input[type=radio]").forEach(i => { i.checked = false; });
  form.requestSubmit();
  return true;
}"""
# Fields on the shared tablet whose answers the browser could offer to the next resident.
REMEMBERED = """() => [...document.querySelectorAll("input:not([type=hidden]):not([type=radio]):not([type=checkbox]), textarea")]
  .filter(f => f.getAttribute("autocomplete") !== "off" && !(f.form && f.form.getAttribute("autocomplete") === "off"))
  .map(f => f.name || f.id)"""
# Where keyboard focus lands must be seen: an outline (or a ring) on the first controls Tab reaches.
FOCUS_SEEN = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const ring = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== "none";
  const label = el.closest("label");
  const labelRing = label && getComputedStyle(label).outlineStyle !== "none";
  return ring || labelRing ? "" : `${el.tagName.toLowerCase()} "${(el.innerText || el.value || "").trim().slice(0, 30)}"`;
}"""


def surface_of(endpoint: str) -> str:
    area = endpoint.split(".")[0]
    if area in ("staff", "auth"):
        return "staff"
    if area.startswith("kiosk") or area == "teach":
        return "kiosk"
    return "phone"


def visitor_for(endpoint: str) -> str:
    """Who opens the page: the back office as an admin, the teacher's roster as an admin too (admins
    may open everything), the tablet's pages as the enrolled tablet, the rest as a phone."""
    surface = surface_of(endpoint)
    if endpoint == "auth.login":
        return "anonymous"
    if surface == "staff" or endpoint.startswith("teach."):
        return "admin"
    return "tablet" if surface == "kiosk" else "phone"


class _QuietHandler(WSGIRequestHandler):
    """Hundreds of page loads: the access log would bury a failure's message."""

    def log_request(self, *args, **kwargs):
        pass


@dataclass
class Walk:
    url: str
    app: object
    cookies: dict  # visitor -> [cookie dicts for Playwright]
    pages: dict  # surface -> [(visitor, path)]
    errors: list


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    """One of everything, served on a free port; the pages to walk, found with the Flask client."""
    from flask import got_request_exception

    app = populate(make_app(tmp_path_factory.mktemp("every-page"), TESTING=False))
    clients = identities(app)
    pages = {surface: [] for surface in SURFACES}
    for rule, _method, path in walk(app, ["GET"]):
        who = visitor_for(rule.endpoint)
        response = clients[who].get(path)
        # Look-ups without a code answer 422 with the message next to the field, tea pages on the
        # wrong surface 404: the pages a resident meets when something goes wrong are pages too.
        if response.mimetype == "text/html" and response.status_code in (200, 403, 404, 422):
            pages[surface_of(rule.endpoint)].append((who, path))
    # The walk's tool is on loan: a free one's borrow form too.
    pages["kiosk"].append(("tablet", "/kiosk/t/RW-0002/borrow"))
    pages["phone"].append(("phone", "/t/RW-0002/borrow"))
    pages["kiosk"].append(("tablet", "/kiosk/no-such-page"))
    pages["phone"].append(("phone", "/no-such-page"))
    pages["staff"].append(("anonymous", "/staff/login"))
    cookies = {who: [{"name": c.key, "value": c.value, "domain": "127.0.0.1", "path": "/"}
                     for c in client._cookies.values()] for who, client in clients.items()}
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    errors = []
    got_request_exception.connect(lambda sender, exception, **kw: errors.append(exception), app, weak=False)
    yield Walk(f"http://127.0.0.1:{server.server_port}", app, cookies, pages, errors)
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    with app.app_context():
        db.engine.dispose()
    assert not errors, f"the server raised: {errors!r}"


def test_the_walk_covers_every_layout(hall):
    """Guard the guard: a broken walk would pass on nothing."""
    counts = {surface: len(paths) for surface, paths in hall.pages.items()}
    assert counts["kiosk"] > 25 and counts["phone"] > 20 and counts["staff"] > 60, counts
    kiosk_paths = {path for _who, path in hall.pages["kiosk"]}
    assert {"/kiosk/", "/kiosk/tools/", "/kiosk/c/ENGLISH/register", "/kiosk/w/new"} <= kiosk_paths, kiosk_paths


def _focus_problems(page) -> list[str]:
    problems = []
    for _ in range(3):
        page.keyboard.press("Tab")
        unseen = page.evaluate(FOCUS_SEEN)
        if unseen:
            problems.append(f"focus: {unseen} shows no focus ring")
    return problems


# Every size in the hall's own language; Tibetan and English at the two touch sizes, where their
# longer words meet the buttons (the back office at desktop size is measured in Chinese).
COMBINATIONS = [(size, lang) for size in SIZES for lang in LANGUAGES if size != "desktop" or lang == "zh_Hans"]


@pytest.mark.parametrize("size, lang", COMBINATIONS)
@pytest.mark.parametrize("surface", SURFACES)
def test_every_page_is_accessible_touchable_and_fits(hall, new_context, surface, size, lang):
    axe = Axe()
    problems = []
    pages = {}

    def page_for(who):
        if who not in pages:
            context = new_context(base_url=hall.url, **SIZES[size])
            context.set_default_timeout(15_000)
            context.add_init_script(RECORD_CSP)
            page = context.new_page()
            if who == "admin":  # the login binds the session to this browser (Flask-Login's protection)
                page.request.post("/staff/login", form={"username": "admin", "password": ADMIN_PASSWORD})
            else:
                context.add_cookies(hall.cookies[who])
            # The language as a resident chooses it: the switch's own form.
            page.request.post("/lang", form={"lang": lang, "next": "/"})
            pages[who] = page
        return pages[who]

    for who, path in hall.pages[surface]:
        page = page_for(who)
        response = page.goto(path, wait_until="load")
        assert response is not None and response.status < 500, f"{path}: {response and response.status}"
        found = problems_on(page, surface, size, lang, axe)
        if size == "desktop":  # the keyboard: the same pages, whatever the screen
            found += _focus_problems(page)
        if surface == "kiosk":  # the shared tablet keeps nothing a resident typed in its autofill
            found += [f"autofill: {name} may be remembered" for name in page.evaluate(REMEMBERED)]
        problems += [f"{path} [{who}]: {problem}" for problem in found]

    for who, path in SENT_EMPTY[surface]:
        page = page_for(who)
        page.goto(path, wait_until="load")
        assert page.evaluate(SEND_EMPTY), f"{path} has no form to send"
        try:
            page.locator("main .error").first.wait_for(state="visible", timeout=5_000)
        except PlaywrightTimeout:
            problems.append(f"{path} sent empty [{who}]: no error is shown")
            continue
        found = problems_on(page, surface, size, lang, axe)
        # Each error is tied to its field: the field says it is wrong and points at the words.
        unlinked = page.evaluate("""() => [...document.querySelectorAll("[aria-invalid=true]")]
            .filter(f => !document.getElementById(f.getAttribute("aria-describedby") || "-"))
            .map(f => f.name)""")
        if not page.locator("[aria-invalid=true]").count():
            found.append("no field is marked invalid")
        found += [f"{name}: its error is not linked with aria-describedby" for name in unlinked]
        problems += [f"{path} sent empty [{who}]: {problem}" for problem in found]
    assert not problems, f"{len(problems)} problems on {surface} pages at {size} size in {lang}:\n" + "\n".join(problems)


BAD_PAGE = """<!doctype html><html lang="en"><head><title>bad</title></head><body class="kiosk"><main>
<h1>A page that breaks every rule</h1>
<button class="primary">OK</button>
<a class="button big" href="#" id="tight">Borrow</a>
<input type="text" name="unlabelled">
<button class="big" id="narrow">A very long label that cannot fit in such a narrow button</button>
<p style="color:#ccc;background:#fff">Light grey on white</p>
<div style="width:2000px">wide</div>
<p lang="bo" style="line-height:1.1;font-family:serif">བོད་ཡིག</p>
</main></body></html>"""
BAD_STYLE = "button.primary { width:120px; height:52px; } #tight { display:inline-block; height:30px; overflow:hidden; } #narrow { width:60px; height:64px; overflow:hidden; }"


def test_the_checks_find_what_they_look_for(new_context):
    """Guard the guard: a page with a tiny button, an unlabelled field, text too pale, a label
    that sticks out, a page wider than the phone and cramped Tibetan fails every check."""
    page = new_context(**TABLET).new_page()
    page.set_content(BAD_PAGE)
    page.add_style_tag(content=BAD_STYLE)
    found = "\n".join(problems_on(page, "kiosk", "tablet", "bo"))
    for expected in ("axe critical label", "axe serious color-contrast", "touch: a#tight.button.big",
                     "primary: button.primary", "overflow: the text of button#narrow.big",
                     "the page is", "Tibetan line too tight", "not in the hall's Tibetan font"):
        assert expected in found, f"{expected!r} not found in:\n{found}"
