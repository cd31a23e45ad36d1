"""Rate limits (kiosk/limits.py): wrong codes and public forms, per address, shared by every worker.

In-process (SQLite, the limits in memory): every page found by a code answers 404 to the first 30
wrong codes from an address and 429 from then on, to right codes too; a right code works until
then; the enrolled hall tablet is never stopped; the 201st public form in ten minutes is refused.
Under gunicorn with 4 workers and the counts in Redis (on SQLite and PostgreSQL): the count is one
for all workers, for wrong codes, public forms and failed logins alike.

Redis: KIOSK_TEST_REDIS_URL, by default database 15 of 127.0.0.1:6379; each test counts under a
prefix of its own and deletes only its own keys. Without a Redis server these tests skip locally
and fail in CI.
"""
import os
import uuid
from http.cookiejar import Cookie
from pathlib import Path
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler

import pytest

from kiosk import create_app, devices, tea
from kiosk.extensions import db
from tests.conftest import IN_CI, config_for
from tests.gunicorn import SECRET, Browser, Database, Page, assert_clean_log, at_once, inputs, serving
from tests.test_security import (ACTIVITY_CODE, ADMIN_PASSWORD, CONCERN_CODE, COURSE_CODE, RECEIPT,
                                 VOLUNTEER_KEY, WISH_CODE, make_app, populate)
from tests.test_security import full_app as hall  # noqa: F401 - the populated hall, CSRF off

REDIS_URL = os.environ.get("KIOSK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
WRONG_CODES = 30  # the default WRONG_CODE_LIMIT: "30 per 10 minutes; 200 per day"
PUBLIC_FORMS = 200  # the default PUBLIC_FORM_LIMIT: "200 per 10 minutes; 2000 per day"
FREE_TOOL = "RW-0002"

# Each kind of page found by a code: (a wrong code, the right one). Every one is limited.
LOOK_UPS = {
    "wish receipt box": ("/w/find?code=ZZZZ-ZZZZ", f"/w/find?code={WISH_CODE}"),
    "class receipt box": (f"/c/{COURSE_CODE}/find?code=ZZZZZZZZ", f"/c/{COURSE_CODE}/find?code={RECEIPT}"),
    "activity receipt box": (f"/a/{ACTIVITY_CODE}/find?code=ZZZZZZZZ", f"/a/{ACTIVITY_CODE}/find?code={RECEIPT}"),
    "concern receipt box": ("/q/find?code=ZZZZZZZZ", f"/q/find?code={CONCERN_CODE}"),
    "tool scan box": ("/tools/find?code=RW-9999", f"/tools/find?code={FREE_TOOL}"),
    "tool label": ("/t/RW-9999", f"/t/{FREE_TOOL}"),
    "class receipt page": (f"/c/{COURSE_CODE}/r/ZZZZZZZZ", f"/c/{COURSE_CODE}/r/{RECEIPT}"),
    "activity receipt page": (f"/a/{ACTIVITY_CODE}/r/ZZZZZZZZ", f"/a/{ACTIVITY_CODE}/r/{RECEIPT}"),
    "wish status page": ("/w/ZZZZZZZZ", f"/w/{WISH_CODE}"),
    "concern page": ("/q/ZZZZZZZZ", f"/q/{CONCERN_CODE}"),
    "volunteer's page": ("/v/not-a-key", f"/v/{VOLUNTEER_KEY}"),
    "tea sign-in code": ("/s/forged.token", "/s/{tea_token}"),
    "tablet's wish box (unenrolled)": ("/kiosk/w/find?code=ZZZZ-ZZZZ", f"/kiosk/w/find?code={WISH_CODE}"),
}


def english(app, address="10.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    with client.session_transaction() as s:
        s["lang"] = "en"
    return client


def tablet(app, client):
    with app.test_request_context():
        client.set_cookie(devices.COOKIE, devices._serializer().dumps(1))
    return client


def tea_token(app) -> str:
    with app.test_request_context():
        return tea.new_token(1)


def found(status: int) -> bool:
    return status in (200, 301, 302, 303)


# --- In one process, the counts in memory -----------------------------------------------------

@pytest.mark.parametrize("kind", LOOK_UPS)
def test_the_31st_look_up_after_30_wrong_codes_is_refused_and_a_right_code_works_until_then(hall, kind):
    wrong, right = LOOK_UPS[kind]
    right = right.format(tea_token=tea_token(hall))
    phone = english(hall)
    answers = [phone.get(wrong).status_code for _ in range(WRONG_CODES - 1)]
    assert set(answers) == {404 if "/s/" not in wrong else 400}
    assert found(phone.get(right).status_code)  # 29 wrong ones: a right code still gets in
    assert phone.get(wrong).status_code in (400, 404)  # the 30th wrong code is still answered
    refused = phone.get(right)
    assert refused.status_code == 429  # the 31st look-up is not, even with a right code
    html = refused.get_data(as_text=True)
    assert "Too many tries" in html and "Please wait a little and try again." in html
    assert int(refused.headers["Retry-After"]) > 0
    assert phone.get(wrong).status_code == 429


def test_right_codes_do_not_count(hall):
    phone = english(hall)
    for _ in range(WRONG_CODES * 2):
        assert phone.get(f"/w/find?code={WISH_CODE}").status_code == 303
    assert phone.get("/w/find?code=ZZZZ-ZZZZ").status_code == 404


def test_a_mistyped_code_that_cannot_be_one_does_not_count(hall):
    """'ABC' is no receipt code at all (422, said next to the box): it probes nothing."""
    phone = english(hall)
    for _ in range(WRONG_CODES + 10):
        assert phone.get("/w/find?code=ABC").status_code == 422
    assert phone.get("/w/find?code=ZZZZ-ZZZZ").status_code == 404


def test_wrong_codes_on_every_kind_of_page_count_together(hall):
    """Spreading the guesses over the flows does not buy more of them."""
    phone = english(hall)
    wrongs = [wrong for wrong, _right in LOOK_UPS.values()]
    for i in range(WRONG_CODES):
        assert phone.get(wrongs[i % len(wrongs)]).status_code in (400, 404)
    assert phone.get(f"/w/find?code={WISH_CODE}").status_code == 429


def test_a_stopped_address_still_uses_pages_without_a_code(hall):
    phone = english(hall)
    for _ in range(WRONG_CODES):
        phone.get("/w/ZZZZZZZZ")
    assert phone.get("/w/ZZZZZZZZ").status_code == 429
    for path in ("/", "/w", "/w/wall", "/tools/", "/w/new", "/kiosk/"):
        assert phone.get(path).status_code == 200, path


def test_the_count_is_per_address_and_an_ipv6_address_per_64(hall):
    for address in ("10.0.0.1", "2001:db8:1:2::1"):
        phone = english(hall, address)
        for _ in range(WRONG_CODES):
            phone.get("/w/ZZZZZZZZ")
        assert phone.get("/w/ZZZZZZZZ").status_code == 429
    assert english(hall, "10.0.0.2").get("/w/ZZZZZZZZ").status_code == 404
    # Another address of the same /64 is the same phone or home; another /64 is someone else.
    assert english(hall, "2001:db8:1:2::ffff").get("/w/ZZZZZZZZ").status_code == 429
    assert english(hall, "2001:db8:1:3::1").get("/w/ZZZZZZZZ").status_code == 404


def test_the_enrolled_hall_tablet_is_never_stopped(hall):
    """It serves everyone at the hall, behind the same address as the phones on its Wi-Fi."""
    hall_tablet = tablet(hall, english(hall))
    for _ in range(WRONG_CODES * 2):
        assert hall_tablet.get("/kiosk/w/find?code=ZZZZ-ZZZZ").status_code == 404
        assert hall_tablet.get("/kiosk/t/RW-9999").status_code == 404
    assert hall_tablet.get(f"/kiosk/w/find?code={WISH_CODE}").status_code == 303
    # A phone on the same address is counted on its own: the tablet's look-ups were not counted.
    assert english(hall).get("/w/ZZZZZZZZ").status_code == 404


def test_a_revoked_tablet_is_counted_like_any_browser(hall):
    with hall.app_context():
        devices.revoke(1)
    old_tablet = tablet(hall, english(hall))
    for _ in range(WRONG_CODES):
        old_tablet.get("/kiosk/w/find?code=ZZZZ-ZZZZ")
    assert old_tablet.get("/kiosk/w/find?code=ZZZZ-ZZZZ").status_code == 429


def test_the_refusal_is_in_the_residents_language(hall):
    phone = hall.test_client()
    phone.post("/lang", data={"lang": "bo"})
    for _ in range(WRONG_CODES):
        phone.get("/w/ZZZZZZZZ")
    html = phone.get("/w/ZZZZZZZZ").get_data(as_text=True)
    assert 'lang="bo"' in html and "ཚོད་ལྟ་ཐེངས་གྲངས་མང་དྲགས།" in html


def test_an_htmx_request_gets_the_refusal_as_a_fragment_in_the_main_area(hall):
    phone = english(hall)
    for _ in range(WRONG_CODES):
        phone.get("/w/ZZZZZZZZ")
    response = phone.get("/w/ZZZZZZZZ", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "<html" not in html and 'class="error-page"' in html and "Too many tries" in html
    assert response.headers["HX-Retarget"] == "#main" and response.headers["HX-Reswap"] == "innerHTML"
    # A boosted link or form wants the whole page, shown in the body as every error page is.
    boosted = phone.get("/w/ZZZZZZZZ", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert boosted.status_code == 429 and "<html" in boosted.get_data(as_text=True)
    assert boosted.headers["HX-Retarget"] == "body"


def send_wish(client, surface=""):
    """A public form, sent empty: refused with 422 (nothing kept), and counted."""
    return client.post(f"{surface}/w/new", data={"kind": "wish"}).status_code


def test_the_201st_public_form_in_ten_minutes_is_refused(hall):
    phone = english(hall)
    assert {send_wish(phone) for _ in range(PUBLIC_FORMS)} == {422}
    assert send_wish(phone) == 429
    assert send_wish(english(hall, "10.0.0.2")) == 422
    # Reading pages goes on; staff pages are not counted here (logins have their own throttle).
    assert phone.get(f"/t/{FREE_TOOL}").status_code == 200
    assert phone.post("/staff/login", data={"username": "admin", "password": "wrong"}).status_code == 422


def test_the_hall_tablet_sends_forms_without_limit(hall):
    hall_tablet = tablet(hall, english(hall))
    assert {send_wish(hall_tablet, "/kiosk") for _ in range(PUBLIC_FORMS + 10)} == {422}


def test_the_limits_are_configurable(tmp_path):
    app = populate(make_app(tmp_path, WRONG_CODE_LIMIT="3 per hour", PUBLIC_FORM_LIMIT="2 per minute"))
    phone = english(app)
    assert [phone.get("/w/ZZZZZZZZ").status_code for _ in range(4)] == [404, 404, 404, 429]
    phone = english(app, "10.0.0.2")  # the first is stopped on every page found by a code
    assert [send_wish(phone) for _ in range(3)] == [422, 422, 429]
    with app.app_context():
        db.engine.dispose()


# --- Redis: one count for several workers ---------------------------------------------------

@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the test Redis database; its keys are deleted after."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        if IN_CI:
            pytest.fail(f"Redis is required in CI: {error}")
        pytest.skip(f"Redis not reachable: {error}")
    prefix = f"kiosk-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    keys = list(client.scan_iter(match=f"*{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_two_workers_on_one_redis_share_the_count(tmp_path, redis_prefix):
    """Two apps over one database and one Redis, as two gunicorn workers are."""
    first = populate(make_app(tmp_path, REDIS_URL=REDIS_URL, RATE_LIMIT_PREFIX=redis_prefix))
    second = create_app(config_for(first.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=REDIS_URL,
                                   RATE_LIMIT_PREFIX=redis_prefix))
    one, other = english(first), english(second)
    for i in range(WRONG_CODES):
        assert (one if i % 2 else other).get("/w/ZZZZZZZZ").status_code == 404
    assert one.get(f"/w/{WISH_CODE}").status_code == 429
    assert other.get(f"/w/{WISH_CODE}").status_code == 429
    for app in (first, second):
        with app.app_context():
            db.engine.dispose()


def test_without_redis_the_limits_fall_back_to_memory_and_the_hall_keeps_working(tmp_path):
    """Redis gone (nothing listens on port 1): no resident sees an error, and the limits still
    hold in the worker's memory."""
    app = populate(make_app(tmp_path, REDIS_URL="redis://127.0.0.1:1/0"))
    phone = english(app)
    assert phone.get(f"/w/{WISH_CODE}").status_code == 200
    answers = [phone.get("/w/ZZZZZZZZ").status_code for _ in range(WRONG_CODES + 1)]
    assert answers == [404] * WRONG_CODES + [429]
    with app.app_context():
        db.engine.dispose()


# --- gunicorn with 4 workers, the counts in Redis -------------------------------------------

def browser(base: str, cookie: tuple[str, str] | None = None, redirects: bool = True) -> Browser:
    """A phone (or, with the tablet's cookie, the hall tablet) on a connection of its own."""
    phone = Browser(base)
    if not redirects:
        class Stop(HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None
        phone.opener.add_handler(Stop())
    if cookie:
        jar = next(h for h in phone.opener.handlers if isinstance(h, HTTPCookieProcessor)).cookiejar
        jar.set_cookie(Cookie(0, cookie[0], cookie[1], None, False, "127.0.0.1", False, False, "/", True,
                              False, None, False, None, None, {}))
    return phone


def get(base: str, path: str, cookie: tuple[str, str] | None = None) -> Page:
    """One request from a fresh browser, so that the workers take turns."""
    return browser(base, cookie).request(path)


def ready_phone(base: str, surface: str = "", cookie: tuple[str, str] | None = None):
    """A phone with the wish form open (its session and CSRF token): returns send(), which
    sends it empty (refused with 422, nothing kept)."""
    phone = browser(base, cookie)
    token = inputs(phone.request(f"{surface}/w/new").text)["csrf_token"]
    return lambda: phone.request(f"{surface}/w/new", {"csrf_token": token, "kind": "wish"})


def ready_login(base: str):
    staff = browser(base, redirects=False)
    token = inputs(staff.request("/staff/login").text)["csrf_token"]
    return lambda password: staff.request("/staff/login", {"csrf_token": token, "username": "admin",
                                                           "password": password})


def tablet_cookie(url: str) -> tuple[str, str]:
    """The enrolled tablet's cookie (device 1), signed with the server's secret."""
    app = create_app(config_for(url, SECRET_KEY=SECRET))
    with app.test_request_context():
        value = devices._serializer().dumps(1)
    with app.app_context():
        db.engine.dispose()
    return devices.COOKIE, value


def workers_in(access_log: Path, path: str) -> set[str]:
    """The worker pids that answered `path` (the access log is '%(p)s %(r)s %(s)s')."""
    return {line.split()[0].strip("<>") for line in access_log.read_text().splitlines() if f" {path} " in line}


def test_under_gunicorn_the_counts_are_shared_by_all_four_workers(db_url, tmp_path, redis_prefix):
    with Database(db_url) as database:
        populate(database.app)
    log, access = tmp_path / "gunicorn.log", tmp_path / "access.log"
    env = {"KIOSK_REDIS_URL": REDIS_URL, "KIOSK_RATE_LIMIT_PREFIX": redis_prefix,
           "KIOSK_PUBLIC_FORM_LIMIT": "10 per 10 minutes"}
    args = ("--access-logfile", str(access), "--access-logformat", "%(p)s %(r)s %(s)s")
    hall_tablet = tablet_cookie(db_url)
    with serving(db_url, log, env, args) as base:
        # 30 wrong codes at once, from one address, spread over the workers: all answered ...
        wrong = at_once({i: (lambda: get(base, "/w/find?code=ZZZZ-ZZZZ")) for i in range(WRONG_CODES)})
        assert {page.status for page in wrong.values()} == {404}
        # ... and the 31st look-up is refused by whichever worker takes it, a right code too.
        assert {get(base, f"/w/find?code={WISH_CODE}").status for _ in range(8)} == {429}
        assert get(base, "/w").status == 200
        # The enrolled tablet, behind the same address, is not stopped.
        assert {get(base, "/kiosk/w/find?code=ZZZZ-ZZZZ", hall_tablet).status for _ in range(8)} == {404}
        assert get(base, f"/kiosk/w/find?code={WISH_CODE}", hall_tablet).status == 200

        # Public forms (the limit set to 10 for this run): 10 at once are answered, the 11th is not.
        phones = [ready_phone(base) for _ in range(11)]
        sent = at_once(dict(enumerate(phones[:10])))
        assert {page.status for page in sent.values()} == {422}
        assert phones[10]().status == 429
        assert ready_phone(base, "/kiosk", hall_tablet)().status == 422

        # Failed logins (counted in the database, which every worker shares): five at once for
        # one name, then even the right password is refused for 15 minutes.
        logins = [ready_login(base) for _ in range(6)]
        failed = at_once({i: (lambda send=send: send("wrong password")) for i, send in enumerate(logins[:5])})
        assert {page.status for page in failed.values()} == {422}
        assert logins[5](ADMIN_PASSWORD).status == 429
    assert_clean_log(log)
    assert len(workers_in(access, "/w/find?code=ZZZZ-ZZZZ")) >= 2, access.read_text()
