"""Who may open what: every route in the app's URL map, for every kind of visitor.

The expectations are written out here, by hand, from the roles' plain-words descriptions, not
derived from the decorators that enforce them: a page that loses (or gains) a role's access by
mistake fails this test. A route added later is walked the moment it is registered; a new
back-office page is open to staff and admin only unless it is listed below.

Visitors: nobody known, a phone that remembers resident 1, the enrolled hall tablet, and the
four staff roles (teacher, coordinator, staff, admin).
"""
import random
import re

import pytest
from sqlalchemy import update

from kiosk import codes
from kiosk.auth import create_staff
from kiosk.extensions import db
from kiosk.models import Course
from tests.test_security import (COURSE_CODE, CONCERN_CODE, RECEIPT, TOOL_CODE, WISH_CODE, identities,
                                 login, make_app, populate, url_values, walk)

VISITORS = ("anonymous", "phone", "tablet", "teacher", "coordinator", "staff", "admin")
RESIDENT_SIDE = ("anonymous", "phone", "tablet")
TEACHER_PASSWORD = "blackboard chalk 7"
COORDINATOR_PASSWORD = "helping hands 42"

# A teacher: the back office's class pages for their own classes, and the roster on the tablet.
TEACHER_PAGES = {
    "staff.dashboard",  # sends them on to today's roster
    "staff.course_list", "staff.course_page", "staff.course_attendance", "staff.class_roster",
    "staff.course_poster", "staff.registration_page", "staff.account_password",
}
# A coordinator: wishes and help requests, volunteers, partner units.
COORDINATOR_PAGES = {
    "staff.dashboard",  # sends them on to the wishes
    "staff.wish_list", "staff.wish_export", "staff.wish_page", "staff.wish_action", "staff.photo",
    "staff.claim_list", "staff.claim_confirm", "staff.claim_release",
    "staff.volunteer_list", "staff.volunteer_export", "staff.partner_list", "staff.partner_export",
    "staff.person_edit", "staff.person_save", "staff.account_password",
    # The work log: they go out with the volunteers (not its kinds of work: staff manage those).
    "staff.worklog_list", "staff.worklog_export", "staff.worklog_new", "staff.worklog_add", "staff.worklog_saved",
    "staff.worklog_entry", "staff.worklog_save", "staff.worklog_delete_confirm", "staff.worklog_delete",
    # The partner alliance: joint meetings, their agenda and follow-up, resource matches.
    "staff.meeting_list", "staff.meeting_new", "staff.meeting_add", "staff.meeting_edit", "staff.meeting_save",
    "staff.meeting_page", "staff.meeting_minutes", "staff.agenda_take_up", "staff.agenda_add",
    "staff.agenda_list", "staff.agenda_page", "staff.agenda_resolve", "staff.agenda_follow_up",
    "staff.match_list", "staff.match_export",
}
# Admins only: who works here and with which rights, the hall's settings, the audit log, and
# residents' personal-data requests (merge, export, erase, retention).
ADMIN_PREFIXES = ("staff.account", "staff.audit", "staff.settings", "staff.resident_merge",
                  "staff.resident_export", "staff.resident_erase", "staff.resident_retention")
EVERY_ROLE_PAGES = {"staff.account_password"}  # one's own password

# Public pages that only the enrolled hall tablet opens (the tea table's screens).
TABLET_ONLY = {"kiosk_tea.table", "kiosk_tea.names", "kiosk_tea.qr", "kiosk_tea.walk_in",
               "kiosk_tea.tap_name", "kiosk_tea.walk_in_submit"}
# Pages that exist on one surface only: the other mount answers "not found" to everyone.
NOT_ON_THIS_SURFACE = {"tea.table", "tea.names", "tea.qr", "tea.walk_in", "tea.tap_name",
                       "tea.walk_in_submit", "kiosk_tea.scan", "kiosk_tea.phone_sign_in",
                       "kiosk_wishes.volunteer"}
# A look-up needs something to look up.
QUERIES = {"find": f"?code={TOOL_CODE}", "find_receipt": f"?code={RECEIPT}",
           "concern_find": f"?code={CONCERN_CODE}"}


def is_admin_page(endpoint: str) -> bool:
    return endpoint.startswith(ADMIN_PREFIXES) and endpoint not in EVERY_ROLE_PAGES


def expected(endpoint: str, who: str) -> str:
    """open, login (sent to the login page), deny (403) or missing (404)."""
    area = endpoint.split(".")[0]
    if area == "staff":
        if who in RESIDENT_SIDE:
            return "login"
        if who == "admin" or endpoint in EVERY_ROLE_PAGES:
            return "open"
        if is_admin_page(endpoint):
            return "deny"
        if who == "staff":
            return "open"
        pages = TEACHER_PAGES if who == "teacher" else COORDINATOR_PAGES
        return "open" if endpoint in pages else "deny"
    if area == "teach":  # the teacher's roster on the tablet
        if who in RESIDENT_SIDE:
            return "login"
        return "deny" if who == "coordinator" else "open"
    if endpoint == "auth.logout":
        return "login" if who in RESIDENT_SIDE else "open"
    if endpoint in NOT_ON_THIS_SURFACE:
        return "missing"
    if endpoint in TABLET_ONLY:
        return "open" if who == "tablet" else "deny"
    return "open"


def outcome(response) -> str:
    status = response.status_code
    assert status < 500, f"{response.request.method} {response.request.path}: {status}"
    if status in (302, 303) and "/staff/login" in response.headers.get("Location", ""):
        return "login"
    if status in (401, 403):
        return "deny"
    if status == 404:
        return "missing"
    return "open"  # the page, a redirect onwards, or the view's own answer (422 form errors, 409, 429)


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    """One of everything, and one signed-in browser per visitor."""
    app = populate(make_app(tmp_path_factory.mktemp("roles")))
    with app.app_context():
        teacher = create_staff("yangchen", TEACHER_PASSWORD, role="teacher", display_name="Ms Yangchen")
        create_staff("dawa", COORDINATOR_PASSWORD, role="coordinator", display_name="Dawa")
        # The walk's class is hers, so her pages are really hers.
        db.session.execute(update(Course).where(Course.code == COURSE_CODE).values(teacher_id=teacher.id))
        db.session.commit()
    visitors = identities(app)
    for who, password in (("yangchen", TEACHER_PASSWORD), ("dawa", COORDINATOR_PASSWORD)):
        client = app.test_client()
        assert login(client, who, password).status_code == 303
        visitors["teacher" if who == "yangchen" else "coordinator"] = client
    yield app, visitors
    with app.app_context():
        db.engine.dispose()


def _url(rule, url: str) -> str:
    return url + QUERIES.get(rule.endpoint.split(".")[-1], "")


def test_every_page_answers_each_visitor_as_their_role_allows(hall):
    app, visitors = hall
    wrong = []
    walked = 0
    for rule, _method, url in walk(app, ["GET"]):
        for who in VISITORS:
            got = outcome(visitors[who].get(_url(rule, url)))
            want = expected(rule.endpoint, who)
            if rule.endpoint == "staff.photo" and want == "open" and got == "missing":
                got = "open"  # the walk has no photo of that name: the view was reached
            if got != want:
                wrong.append(f"GET {url} as {who}: {got}, expected {want}")
            walked += 1
    assert walked > 100 * len(VISITORS)
    assert not wrong, "\n".join(wrong)


def test_every_action_is_refused_to_those_it_is_not_for(hall):
    """POST routes, walked with the back office's views replaced by a stub: the role gate in front
    of them decides, and no account is really deactivated or resident erased by the walk."""
    app, visitors = hall
    reached = []

    def stub(**_kwargs):
        reached.append(1)
        return "reached"

    originals = dict(app.view_functions)
    gated = [(rule, url) for rule, _m, url in walk(app, ["POST"])
             if rule.endpoint.split(".")[0] in ("staff", "teach")]
    for rule, _url_ in gated:
        app.view_functions[rule.endpoint] = stub
    wrong = []
    try:
        for rule, url in gated:
            for who in VISITORS:
                got = outcome(visitors[who].post(url))
                want = expected(rule.endpoint, who)
                if got != want:
                    wrong.append(f"POST {url} as {who}: {got}, expected {want}")
    finally:
        app.view_functions.update(originals)
    assert len(gated) > 30 and reached
    assert not wrong, "\n".join(wrong)


def test_the_lists_name_real_pages(hall):
    """A renamed page would silently drop out of the lists above."""
    app, _ = hall
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    listed = TEACHER_PAGES | COORDINATOR_PAGES | TABLET_ONLY | NOT_ON_THIS_SURFACE
    assert listed <= endpoints, listed - endpoints
    for prefix in ADMIN_PREFIXES:
        assert any(e.startswith(prefix) for e in endpoints), prefix


def test_a_resident_cannot_open_another_residents_receipt_without_its_code(hall):
    """Resident 2's phone: the pages it can reach never show resident 1's name or number, and
    guessing receipt codes finds nothing (codes are 8 of 31 letters/digits: about 10^12)."""
    app, visitors = hall
    other = app.test_client()
    from kiosk import visitor

    with app.test_request_context():
        other.set_cookie(visitor.PHONE_COOKIE, visitor._serializer().dumps(2))
    for path in (f"/t/{TOOL_CODE}", f"/c/{COURSE_CODE}", "/w/wall", f"/w/{WISH_CODE}", f"/q/{CONCERN_CODE}",
                 "/tools/", "/"):
        html = other.get(path).get_data(as_text=True)
        assert "13800138000" not in html and "次仁" not in html, path
    rng = random.Random(6)
    answers = []
    for _ in range(40):
        guess = "".join(rng.choice(codes.ALPHABET) for _ in range(codes.LENGTH))
        assert guess != RECEIPT
        for path in (f"/c/{COURSE_CODE}/r/{guess}", f"/w/{guess}", f"/q/{guess}"):
            response = other.get(path)
            answers.append(response.status_code)
            assert "次仁" not in response.get_data(as_text=True)
    # Nothing found; and after 30 wrong codes (these and the walk's) the address is stopped
    # (kiosk/limits.py, tests/test_rate_limits.py).
    stopped = answers.index(429)
    assert set(answers[:stopped]) == {404} and set(answers[stopped:]) == {429}
    # The receipt itself, with its code, shows the child's first name and a masked number only
    # (opened from another address: this one is still stopped).
    html = other.get(f"/c/{COURSE_CODE}/r/{RECEIPT}", environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_data(as_text=True)
    assert "13800138000" not in html
    assert re.search(r"138\*{4}8000", html)
