"""Security properties that hold for every route, including routes added later.

The CSRF and "no GET changes data" tests walk app.url_map: a new view is covered the
moment it is registered, without anyone remembering to add it here. URL parameters are
filled with plausible values (see `url_values`) and the data behind them is created first,
so that a view that forgot its protection would really change something and be caught.
"""
import json
import re
import uuid

import pytest
from flask import abort
from sqlalchemy import select
from werkzeug.routing import AnyConverter, FloatConverter, IntegerConverter, PathConverter, UUIDConverter

from kiosk import create_app
from kiosk.auth import admin_required, create_staff
from kiosk.extensions import db
from tests.conftest import ADMIN_PASSWORD, Hall, config_for, token

STAFF_PASSWORD = "staff password 123"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
TOOL_CODE = "RW-0001"  # on loan to resident 1 (loan 1); RW-0002 is free; RW-0003 is in repair
COURSE_CODE = "ENGLISH"  # one seat: resident 1's child sits in it (registration 1), resident 2's waits
RECEIPT = "ABCDEFGH"  # registration 1's receipt
WISH_CODE = "WXYZ2345"  # wish 1, on the wall; volunteer 1's private page key is VOLUNTEER_KEY
VOLUNTEER_KEY = "volunteer-key-1"
CONCERN_CODE = "QRST2345"  # concern 1 (from a tea session 1, open all day today; resident 1 invited)
ACTIVITY_CODE = "HEALTH"  # activity 1, today, one place: resident 1 holds it (receipt RECEIPT), resident 2 waits


# --- Helpers shared by the security, auth and device tests --------------------------------

def make_app(tmp_path, name="kiosk.sqlite", **extra):
    app = create_app(config_for(f"sqlite:///{tmp_path / name}", **extra))
    with app.app_context():
        db.create_all()
    return app


def populate(app):
    """One of everything, with id 1 wherever a route takes an integer id."""
    from kiosk import devices, lending

    with app.app_context():
        hall = Hall()  # admin, staff_user 1
        create_staff("worker", STAFF_PASSWORD, role="staff", display_name="Worker")
        kind = hall.kind()
        hall.tool(kind)  # RW-0001
        hall.tool(kind)  # RW-0002
        repair = hall.tool(kind)  # RW-0003
        lending.send_to_repair(repair.id, hall.admin_id, note="broken")
        first = hall.resident("13800138000", "次仁")
        hall.resident("13900139000", "王芳")
        tool = lending.find_tool(TOOL_CODE)
        lending.borrow(tool.id, first, token(), channel="kiosk")
        devices.enrol("Hall tablet", hall.admin_id)
        _a_class_with_a_seat_and_a_waiting_child(hall.admin_id)
        _a_wish_on_the_wall_and_a_repair_in_hand(hall.admin_id)
        _a_tea_today_with_a_concern(hall.admin_id)
        _an_activity_with_a_place_and_a_waiting_resident(hall.admin_id)
        _a_home_visit_in_the_work_log(hall.admin_id)
        _a_joint_meeting_with_an_item(hall.admin_id)
        # Rows a forgotten protection would change (tables added later may still be empty).
        counts = snapshot_counts(app)
        assert all(counts[t] > 0 for t in ("staff_user", "tool_kind", "tool", "resident", "loan",
                                            "tool_event", "kiosk_device", "course", "course_seat",
                                            "course_schedule", "class_session", "registration",
                                            "attendance", "wish", "claim", "volunteer", "partner_unit",
                                            "fulfilment", "concern", "concern_step", "tea_session",
                                            "tea_invitation", "tea_sign_in")), counts
    return app


def _a_class_with_a_seat_and_a_waiting_child(staff_id):
    from datetime import time, timedelta

    from kiosk import classes
    from kiosk.database import write_transaction
    from kiosk.lending import hall_today
    from kiosk.models import Registration

    today = hall_today()
    course = classes.save_course(classes.CourseFields(
        COURSE_CODE, "英语", "དབྱིན་ཡིག", "English", "", "", "", None, 6, 13, 1,
        today - timedelta(days=7), today + timedelta(days=60)))
    classes.add_schedule(course.id, "term", [today.weekday()], time(9), time(11), today, course.ends_on)
    seated = classes.register(course.id, 1, "次仁旺姆", 8, None, True, token(), "phone")
    classes.register(course.id, 2, "王小明", 9, None, True, token(), "phone")
    with write_transaction():
        seated = db.session.get(Registration, seated.id)
        seated.receipt = RECEIPT
    classes.mark(1, seated.id, "present", staff_id)


def _a_wish_on_the_wall_and_a_repair_in_hand(staff_id):
    from datetime import date

    from kiosk import wishes
    from kiosk.database import write_transaction
    from kiosk.models import Volunteer, Wish

    on_wall = wishes.submit(1, wishes.Request("wish", "school", "a school bag"), token(), "phone", limited=False)
    with write_transaction():
        db.session.get(Wish, on_wall.id).code = WISH_CODE
    wishes.publish(on_wall.id, "王家", "3号楼", staff_id)
    repairer = wishes.save_volunteer("洛桑", "13908911001", "红扳手", "repair_skills")
    with write_transaction():
        db.session.get(Volunteer, repairer.id).key = VOLUNTEER_KEY
    wishes.save_partner_unit("雪域律师事务所", "次旦", "0891-6331234", "2026-Q4")
    repair = wishes.submit(2, wishes.Request("repair", "repair", "a leaking tap", "3-2"), token(), "kiosk",
                           limited=False)
    wishes.assign(repair.id, repairer.id, staff_id)
    done = wishes.submit(2, wishes.Request("wish", "daily", "a kettle"), token(), "kiosk", limited=False)
    wishes.publish(done.id, "王家", "3号楼", staff_id)
    wishes.confirm_claim(wishes.claim(done.id, token(), "13908911001", "洛桑").id, staff_id)
    wishes.fulfil(done.id, wishes.Done(date.today(), "brought a kettle", 30), staff_id)
    problem = wishes.submit(2, wishes.Request("help", "other", "no bins at the gate"), token(), "kiosk",
                            limited=False)
    wishes.convert_to_concern(problem.id, "sanitation_bins", staff_id)


def _a_home_visit_in_the_work_log(staff_id):
    """Work-log entry 1 (work kind 1, a home visit), by the admin with volunteer 1."""
    from kiosk import worklog
    from kiosk.lending import hall_today

    worklog.record(worklog.Entry(1, hall_today(), [staff_id], [1], "3号楼 2单元", 4, "all well"), token(), staff_id)


def _a_joint_meeting_with_an_item(staff_id):
    """Joint meeting 1 with agenda item 1, from concern 1, resolved with partner unit 1 as owner."""
    from datetime import timedelta

    from kiosk import alliance
    from kiosk.lending import hall_today

    meeting = alliance.save_meeting(alliance.MeetingFields(hall_today(), "会议室", [1], 1), staff_id)
    item = alliance.add_item(meeting.id, "concern", concern_id=1)
    alliance.resolve(item.id, alliance.Resolution("月度法律咨询", 1, staff_id, hall_today() + timedelta(days=30)),
                     staff_id)


def _an_activity_with_a_place_and_a_waiting_resident(staff_id):
    """Activity 1 (ACTIVITY_CODE) of one place, today: resident 1 holds it (sign-up 1, whose receipt is
    RECEIPT too), resident 2 waits."""
    from datetime import time

    from kiosk import activities
    from kiosk.database import write_transaction
    from kiosk.lending import hall_today
    from kiosk.models import SignUp

    activity = activities.save_activity(activities.ActivityFields(
        ACTIVITY_CODE, "免费体检", "", "Free health check", "", "", "", hall_today(), time(9), time(11), "活动室",
        1, "staff", "", None), staff_id=staff_id)
    seated = activities.sign_up(activity.id, 1, token(), "phone")
    activities.sign_up(activity.id, 2, token(), "phone")
    with write_transaction():
        db.session.get(SignUp, seated.id).receipt = RECEIPT


def _a_tea_today_with_a_concern(staff_id):
    from datetime import time

    from kiosk import ledger, tea
    from kiosk.database import write_transaction
    from kiosk.lending import hall_today
    from kiosk.models import Concern

    session = tea.save_session(tea.SessionFields(hall_today(), time(0, 0), time(23, 59), "会议室"), staff_id)
    tea.invite(session.id, [1, 2])
    tea.sign_in(session.id, 2, "tablet")
    concern = ledger.record(ledger.Raised("roads_drains", "the drain", session_id=session.id,
                                          resident_id=1), staff_id)
    with write_transaction():
        db.session.get(Concern, concern.id).code = CONCERN_CODE


def snapshot(app) -> dict:
    """Every row of every table, in primary-key order."""
    with app.app_context():
        db.session.remove()
        with db.engine.connect() as conn:
            return {t.name: conn.execute(select(t).order_by(*t.primary_key.columns)).all()
                    for t in db.metadata.sorted_tables}


def snapshot_counts(app) -> dict:
    return {name: len(rows) for name, rows in snapshot(app).items()}


def url_values(rule) -> dict:
    """Plausible values for a rule's parameters: ints are 1, anything called *code* a tool code
    (a course code on the class pages, a wish's code on the wish pages), a receipt registration 1's
    receipt, a key volunteer 1's, a token a fresh sign-in code for tea session 1."""
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            values[name] = 1
        elif isinstance(converter, FloatConverter):
            values[name] = 1.0
        elif isinstance(converter, UUIDConverter):
            values[name] = uuid.uuid4()
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif name == "receipt":
            values[name] = RECEIPT
        elif "code" in name and rule.endpoint.split(".")[0] in ("classes", "kiosk_classes"):
            values[name] = COURSE_CODE
        elif "code" in name and rule.endpoint.split(".")[0] in ("wishes", "kiosk_wishes"):
            values[name] = WISH_CODE
        elif "code" in name and rule.endpoint.split(".")[0] in ("activities", "kiosk_activities"):
            values[name] = ACTIVITY_CODE
        elif "code" in name and rule.endpoint.split(".")[0] in ("tea", "kiosk_tea"):
            values[name] = CONCERN_CODE
        elif name == "key":
            values[name] = VOLUNTEER_KEY
        elif name == "token":
            from kiosk import tea

            values[name] = tea.new_token(1)  # a fresh sign-in code for tea session 1
        elif name == "figure_key":  # a figure of the half-year report (kiosk.report)
            values[name] = "tool_loans"
        elif isinstance(converter, PathConverter) or "code" in name:
            values[name] = TOOL_CODE
        else:
            values[name] = "1"
    return values


def walk(app, methods):
    """(rule, method, url) for every rule answering one of `methods`, static files left out."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        with app.app_context():  # some values are made by the app (a signed sign-in code)
            built = rule.build(url_values(rule), append_unknown=False)
        assert built is not None, f"could not build {rule.rule}"
        for method in sorted(set(methods) & rule.methods):
            yield rule, method, built[1]


def csrf_from(html: str) -> str:
    """The CSRF token a page hands out: <body hx-headers> or a hidden csrf_token input."""
    m = re.search(r"hx-headers='([^']+)'", html)
    if m:
        return json.loads(m.group(1))["X-CSRFToken"]
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def login(client, username="admin", password=ADMIN_PASSWORD, **kw):
    """Log in through the real form (with the page's CSRF token when CSRF is on)."""
    page = client.get("/staff/login")
    data = {"username": username, "password": password}
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    if m:
        data["csrf_token"] = m.group(1)
    return client.post("/staff/login", data=data, **kw)


def surface_of(path: str) -> str:
    return "kiosk" if path.startswith("/kiosk") else "staff" if path.startswith("/staff") else "phone"


def assert_friendly(response, status, surface):
    html = response.get_data(as_text=True)
    assert response.status_code == status, (response.request.path, response.status_code)
    assert response.mimetype == "text/html"
    assert 'class="error-page"' in html
    assert re.search(rf'<body[^>]*class="{surface}"', html), f"not in the {surface} layout"
    assert "Traceback" not in html
    return html


# --- Fixtures ------------------------------------------------------------------------------

@pytest.fixture
def csrf_app(tmp_path):
    app = populate(make_app(tmp_path, WTF_CSRF_ENABLED=True))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def full_app(tmp_path):
    app = populate(make_app(tmp_path))
    yield app
    with app.app_context():
        db.engine.dispose()


def identities(app):
    """Who may be at the screen: nobody known, a phone that remembers resident 1, the enrolled
    hall tablet, a staff member, an admin."""
    from kiosk import devices, visitor

    anonymous = app.test_client()
    phone = app.test_client()
    tablet = app.test_client()
    with app.test_request_context():
        phone.set_cookie(visitor.PHONE_COOKIE, visitor._serializer().dumps(1))
        tablet.set_cookie(devices.COOKIE, devices._serializer().dumps(1))
    staff = app.test_client()
    assert login(staff, "worker", STAFF_PASSWORD).status_code == 303
    admin = app.test_client()
    assert login(admin).status_code == 303
    return {"anonymous": anonymous, "phone": phone, "tablet": tablet, "staff": staff, "admin": admin}


# --- CSRF ----------------------------------------------------------------------------------

def test_the_walk_sees_the_routes_that_change_things(csrf_app):
    """Guard the guard: if url_map walking broke, the CSRF test would pass on nothing."""
    rules = {rule.rule for rule, _m, _u in walk(csrf_app, UNSAFE)}
    assert {"/lang", "/staff/login", "/staff/logout", "/staff/devices", "/t/<code>/borrow",
            "/kiosk/t/<code>/return", "/kiosk/reset", "/c/<code>/register", "/c/<code>/r/<receipt>/cancel",
            "/kiosk/teach/<int:session_id>/mark/<int:registration_id>", "/w/new",
            "/w/wall/<int:wish_id>/claim", "/w/<code>/thanks", "/s/<token>",
            "/kiosk/tea/<int:session_id>/names/<int:resident_id>", "/kiosk/tea/<int:session_id>/walk-in"} <= rules


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_every_unsafe_route_refuses_a_request_without_a_valid_csrf_token(csrf_app, who):
    client = identities(csrf_app)[who]
    before = snapshot(csrf_app)
    form = {"token": str(uuid.uuid4()), "name": "x", "lang": "en", "condition": "fine",
            "mobile": "13800138000", "consent": "y", "username": "admin", "password": ADMIN_PASSWORD}
    problems = []
    for _rule, method, url in walk(csrf_app, UNSAFE):
        for headers in ({}, {"X-CSRFToken": "not-a-token"}, {"HX-Request": "true"}):
            response = client.open(url, method=method, data=form, headers=headers)
            html = response.get_data(as_text=True)
            if response.status_code != 400 or 'class="error-page"' not in html or \
                    not re.search(rf'<body[^>]*class="{surface_of(url)}"', html):
                problems.append(f"{method} {url} {headers}: {response.status_code}")
            if headers.get("HX-Request") and response.headers.get("HX-Retarget") != "body":
                problems.append(f"{method} {url} (htmx): the error is not retargeted to the body")
            if snapshot(csrf_app) != before:
                problems.append(f"{method} {url} {headers}: changed the database")
                before = snapshot(csrf_app)
    assert not problems, "\n".join(problems)


def test_a_token_from_another_session_is_refused(csrf_app):
    other = csrf_app.test_client()
    stolen = csrf_from(other.get("/kiosk/").get_data(as_text=True))
    client = csrf_app.test_client()
    client.get("/kiosk/")
    response = client.post("/lang", data={"lang": "en", "next": "/kiosk/"}, headers={"X-CSRFToken": stolen})
    assert_friendly(response, 400, "phone")


def test_the_token_from_the_page_is_accepted(csrf_app):
    client = csrf_app.test_client()
    page = client.get("/kiosk/").get_data(as_text=True)
    # The header htmx sends (from <body hx-headers>) ...
    response = client.post("/lang", data={"lang": "en", "next": "/kiosk/"},
                           headers={"X-CSRFToken": csrf_from(page), "HX-Request": "true"})
    assert response.status_code == 303 and response.headers["Location"] == "/kiosk/"
    assert 'lang="en"' in client.get("/kiosk/").get_data(as_text=True)
    # ... and the hidden input a plain form posts without JavaScript.
    hidden = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/lang", data={"lang": "bo", "next": "/kiosk/", "csrf_token": hidden})
    assert response.status_code == 303
    assert 'lang="bo"' in client.get("/kiosk/").get_data(as_text=True)


def test_the_kept_home_carries_each_visitors_own_token_and_a_query_is_not_kept(csrf_app):
    """The tablet's home is drawn once a while and kept (web.render_for_everyone): each visitor
    still gets their own token, and made-up queries add nothing to the kept store."""
    first, second = csrf_app.test_client(), csrf_app.test_client()
    pages = [first.get("/kiosk/").get_data(as_text=True), second.get("/kiosk/").get_data(as_text=True)]
    tokens = [csrf_from(page) for page in pages]
    assert all(tokens) and tokens[0] != tokens[1]
    assert all(page.count(token) >= 2 and "\ue000" not in page for page, token in zip(pages, tokens))
    kept = len(csrf_app.extensions["kiosk_cache"])
    for n in range(80):
        assert first.get(f"/kiosk/?x={n}").status_code == 200
    assert len(csrf_app.extensions["kiosk_cache"]) == kept


def test_logging_in_with_the_token_works_and_the_login_form_is_protected(csrf_app):
    client = csrf_app.test_client()
    assert login(client).status_code == 303
    assert client.get("/staff/").status_code == 200


# --- No GET changes anything -----------------------------------------------------------------

def _get_walk(app):
    clients = identities(app)
    before = snapshot(app)  # after the logins, which do write (login_attempt)
    for who, client in clients.items():
        for _rule, _method, url in walk(app, ("GET",)):
            for headers in ({}, {"HX-Request": "true"}):
                yield who, url, headers, client.get(url, headers=headers), before
                after = snapshot(app)
                if after != before:
                    yield who, url, headers, None, after
                    before = after


def test_no_get_request_changes_the_database(full_app):
    changed = [f"GET {url} as {who} {headers}" for who, url, headers, response, _ in _get_walk(full_app)
               if response is None]
    assert not changed, "GET requests that changed data:\n" + "\n".join(changed)


def test_no_get_request_fails_and_pages_keep_to_the_csp(full_app):
    problems = []
    for who, url, headers, response, _ in _get_walk(full_app):
        if response is None:
            continue
        if response.status_code >= 500:
            problems.append(f"GET {url} as {who} {headers}: {response.status_code}")
        if response.mimetype == "text/html":
            html = response.get_data(as_text=True)
            # style-src/script-src 'self': inline scripts, handlers and style attributes are blocked.
            for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"\sstyle=\"", r"\son[a-z]+=\""):
                if re.search(pattern, html):
                    problems.append(f"GET {url} as {who}: {pattern} is blocked by the CSP")
    assert not problems, "\n".join(problems)


# --- Error pages ---------------------------------------------------------------------------

@pytest.mark.parametrize("path, surface", [
    ("/no-such-page", "phone"), ("/t/RW-9999", "phone"),
    ("/kiosk/no-such-page", "kiosk"), ("/kiosk/t/RW-9999", "kiosk"), ("/kiosk/tools/kind/999", "kiosk"),
    ("/staff/no-such-page", "staff")])
def test_404_is_friendly_and_in_the_layout_of_its_surface(client, path, surface):
    with client.session_transaction() as s:
        s["lang"] = "en"
    html = assert_friendly(client.get(path), 404, surface)
    assert "We could not find this page" in html
    if surface == "kiosk":
        # The tablet's error page keeps its way home and its idle reset.
        assert 'class="home-button"' in html and 'id="idle-overlay"' in html and 'id="idle-reset"' in html
    if surface == "staff":
        assert 'class="staff-bar"' in html


def test_a_404_is_translated(client):
    html = assert_friendly(client.get("/kiosk/nowhere"), 404, "kiosk")
    assert 'lang="zh-Hans"' in html and "We could not find this page" not in html


def test_an_htmx_request_for_a_missing_page_is_shown_in_the_body(client):
    response = client.get("/kiosk/nowhere", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "body"
    assert response.headers["HX-Reswap"] == "innerHTML"
    assert 'class="error-page"' in response.get_data(as_text=True)


def test_a_405_is_friendly(client):
    assert_friendly(client.get("/staff/logout"), 405, "staff")
    assert_friendly(client.get("/kiosk/reset"), 405, "kiosk")


@pytest.fixture
def crashing_app(tmp_path):
    app = make_app(tmp_path, PROPAGATE_EXCEPTIONS=False)

    def boom():
        raise RuntimeError("the secret internals of the crash")

    for path in ("/boom", "/kiosk/boom", "/staff/boom"):
        app.add_url_rule(path, f"boom{path.replace('/', '_')}", boom, methods=["GET", "POST"])
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("path, surface", [("/boom", "phone"), ("/kiosk/boom", "kiosk"), ("/staff/boom", "staff")])
def test_a_crash_shows_the_friendly_500_without_a_traceback(crashing_app, path, surface, caplog):
    client = crashing_app.test_client()
    with client.session_transaction() as s:
        s["lang"] = "en"
    html = assert_friendly(client.get(path), 500, surface)
    assert "Something went wrong on our side" in html
    assert "secret internals" not in html and "RuntimeError" not in html
    # ... but the technician finds it in the log.
    assert any("secret internals" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
    response = client.post(path, headers={"HX-Request": "true"})
    assert response.status_code == 500 and response.headers["HX-Retarget"] == "body"


@pytest.fixture
def guarded_app(tmp_path):
    from kiosk.devices import hall_tablet_only

    app = make_app(tmp_path)

    @admin_required
    def admin_only():
        return "admin page"

    @hall_tablet_only
    def tablet_only():
        return "tablet page"

    app.add_url_rule("/staff/admin-only", "admin_only", admin_only)
    app.add_url_rule("/kiosk/tablet-only", "tablet_only", tablet_only)
    populate(app)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_403_for_staff_on_an_admin_only_view(guarded_app):
    clients = identities(guarded_app)
    assert_friendly(clients["staff"].get("/staff/admin-only"), 403, "staff")
    assert clients["admin"].get("/staff/admin-only").get_data(as_text=True) == "admin page"
    anonymous = clients["anonymous"].get("/staff/admin-only")
    assert anonymous.status_code == 302 and "/staff/login" in anonymous.headers["Location"]


def test_403_on_a_device_that_is_not_the_hall_tablet(guarded_app):
    clients = identities(guarded_app)
    for who in ("anonymous", "phone", "staff", "admin"):
        assert_friendly(clients[who].get("/kiosk/tablet-only"), 403, "kiosk")
    assert clients["tablet"].get("/kiosk/tablet-only").get_data(as_text=True) == "tablet page"


def test_abort_400_is_friendly(tmp_path):
    app = make_app(tmp_path)
    app.add_url_rule("/kiosk/bad", "bad", lambda: abort(400))
    assert_friendly(app.test_client().get("/kiosk/bad"), 400, "kiosk")
    with app.app_context():
        db.engine.dispose()


# --- Headers -------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/kiosk/", "/tools/", "/kiosk/tools/", "/t/RW-0001", "/kiosk/t/RW-0001",
                                  "/staff/login", "/staff/", "/staff/devices", "/nowhere"])
def test_security_headers_and_no_store_on_pages(full_app, path):
    client = full_app.test_client()
    login(client)
    response = client.get(path)
    assert response.status_code in (200, 404)
    h = response.headers
    csp = h["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                      "frame-ancestors 'none'", "form-action 'self'", "base-uri 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "'unsafe-eval'" not in csp
    # WebAssembly only (the tablet's QR decoder), never eval().
    script_src = next(d.split()[1:] for d in csp.split(";") if d.split()[:1] == ["script-src"])
    assert script_src == ["'self'", "'wasm-unsafe-eval'"]
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["X-Frame-Options"] == "DENY"
    assert h["Referrer-Policy"] == "same-origin"
    # The shared tablet's back button must not bring back a resident's page.
    assert h["Cache-Control"] == "no-store"
    assert "HX-Request" in h.get("Vary", "")


def test_static_files_may_be_cached_but_are_not_sniffed(client):
    response = client.get("/static/css/base.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


def test_redirects_and_partials_carry_the_headers_too(full_app):
    client = full_app.test_client()
    response = client.get("/t/rw-1")  # labels are case-insensitive: a redirect to the printed spelling
    assert response.status_code == 301 and response.headers["Location"].endswith("/t/RW-0001")
    assert response.headers["X-Frame-Options"] == "DENY"
    partial = client.get("/kiosk/tools/", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.get_data(as_text=True)
    assert partial.headers["Cache-Control"] == "no-store"
