"""Sessions and cookies: a new session at login, sessions that end everywhere, and cookies that
scripts cannot read, other sites do not send, and (behind HTTPS) never travel in clear.

The session is Flask's signed cookie: its "id" is its content. Logging in clears it and starts a
new one (kiosk/blueprints/auth/views.py), so that a cookie planted or copied before the login
never becomes a logged-in one; logging out, deactivating or resetting a password bumps the
account's session version (kiosk/auth.py), so that every copy of the cookie stops working.
"""
import re

import pytest
from sqlalchemy import select

from kiosk import devices
from kiosk.extensions import db
from kiosk.models import StaffUser
from tests.test_security import STAFF_PASSWORD, login, make_app, populate
from tests.test_security import csrf_app as hall  # noqa: F401 - the populated hall, CSRF on

FREE_TOOL = "RW-0002"


def session_cookie(client) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def logged_in(client) -> bool:
    response = client.get("/staff/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def with_cookie(app, value: str):
    """Another browser holding a copy of a session cookie (a stolen or a planted one)."""
    client = app.test_client()
    client.set_cookie("session", value)
    return client


def csrf_token(client, path="/staff/login") -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


# --- A new session at login -------------------------------------------------------------------

def test_login_starts_a_new_session_and_nothing_planted_before_survives(hall):
    browser = hall.test_client()
    with browser.session_transaction() as s:
        s["lang"] = "en"
        s["planted"] = "by someone at the tablet before"
        s["kiosk_resident_id"] = 1
    token_before = csrf_token(browser)
    before = session_cookie(browser)
    assert login(browser).status_code == 303
    after = session_cookie(browser)
    assert before and after and after != before
    with browser.session_transaction() as s:
        assert "planted" not in s and "kiosk_resident_id" not in s
        assert s["lang"] == "en"  # the language chosen at the door is kept
        assert s.get("csrf_token") != token_before  # the form secret is new too
    assert logged_in(browser)


def test_a_cookie_copied_before_login_stays_logged_out(hall):
    """Session fixation: someone plants their own cookie in the tablet's browser, or copies it,
    then waits for a staff member to log in there. Their copy never gets the login."""
    victim = hall.test_client()
    csrf_token(victim)
    planted = session_cookie(victim)
    assert login(victim).status_code == 303
    assert logged_in(victim)
    assert not logged_in(with_cookie(hall, planted))


def test_logout_ends_every_copy_of_the_session(hall):
    browser = hall.test_client()
    assert login(browser).status_code == 303
    copy = session_cookie(browser)
    assert logged_in(with_cookie(hall, copy))
    assert browser.post("/staff/logout", headers={"X-CSRFToken": csrf_token(browser, "/staff/")}).status_code == 303
    assert not logged_in(browser)
    assert not logged_in(with_cookie(hall, copy))  # the copy was logged out with it


@pytest.mark.parametrize("action", ["deactivate", "reset password"])
def test_deactivation_and_a_password_reset_end_every_copy_of_the_session(hall, action):
    worker = hall.test_client()
    assert login(worker, "worker", STAFF_PASSWORD).status_code == 303
    copy = session_cookie(worker)
    admin = hall.test_client()
    assert login(admin).status_code == 303
    with hall.app_context():
        worker_id = db.session.scalar(select(StaffUser.id).where(StaffUser.username == "worker"))
    token = csrf_token(admin, "/staff/accounts")
    if action == "deactivate":
        response = admin.post(f"/staff/accounts/{worker_id}/deactivate", data={"csrf_token": token})
    else:
        response = admin.post(f"/staff/accounts/{worker_id}/password", data={
            "csrf_token": token, "password": "a brand new passphrase", "password_again": "a brand new passphrase"})
    assert response.status_code == 303
    assert not logged_in(worker)
    assert not logged_in(with_cookie(hall, copy))


# --- Cookie attributes ------------------------------------------------------------------------

def set_cookies(response) -> dict[str, str]:
    """name -> the Set-Cookie header for every cookie the response sets (deletions left out:
    they carry nothing)."""
    found = {}
    for header in response.headers.getlist("Set-Cookie"):
        name = header.partition("=")[0]
        if "Max-Age=0" in header or "01 Jan 1970" in header:
            continue
        found[name] = header
    return found


def every_cookie(app, environ=None) -> dict[str, str]:
    """Walk the flows that set each of the app's cookies: the session (the login form's CSRF
    secret, then the login), the phone's resident (identified while borrowing), the wish form's
    device id, and the hall tablet's (enrolled by staff)."""
    environ = environ or {}
    phone = app.test_client()
    phone.environ_base.update(environ)
    cookies = {}
    cookies.update(set_cookies(phone.get("/staff/login")))
    cookies.update(set_cookies(phone.get("/w/new")))
    page = phone.get(f"/t/{FREE_TOOL}/borrow").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = phone.post(f"/t/{FREE_TOOL}/who", data={"csrf_token": token, "mobile": "13700137000",
                                                         "name": "卓玛", "consent": "y"})
    assert response.status_code == 303
    cookies.update(set_cookies(response))
    staff = app.test_client()
    staff.environ_base.update(environ)
    assert login(staff).status_code == 303
    response = staff.post("/staff/devices", data={"csrf_token": csrf_token(staff, "/staff/devices"),
                                                   "name": "Second tablet"})
    assert response.status_code == 303
    cookies.update(set_cookies(response))
    assert {"session", "resident", "device", devices.COOKIE} <= set(cookies), cookies
    return cookies


def attributes(header: str) -> set[str]:
    """'a=b; Path=/; HttpOnly; SameSite=Lax' -> {'path', 'httponly', 'samesite=lax'}."""
    parts = [part.strip().lower() for part in header.split(";")[1:]]
    return {part if part.startswith("samesite") else part.split("=")[0] for part in parts}


def test_over_plain_http_every_cookie_is_httponly_and_samesite_lax_and_not_secure(hall):
    for header in every_cookie(hall).values():
        assert {"httponly", "samesite=lax"} <= attributes(header), header
        assert "secure" not in attributes(header), header  # it would never come back over HTTP


@pytest.mark.parametrize("how", ["KIOSK_HTTPS", "an https BASE_URL"])
def test_behind_https_every_cookie_is_also_secure(tmp_path, monkeypatch, how):
    if how == "KIOSK_HTTPS":
        monkeypatch.setenv("KIOSK_HTTPS", "1")
        app = populate(make_app(tmp_path, WTF_CSRF_ENABLED=True))
    else:
        app = populate(make_app(tmp_path, WTF_CSRF_ENABLED=True, BASE_URL="https://hall.example"))
    assert app.config["SESSION_COOKIE_SECURE"]
    for header in every_cookie(app).values():
        assert {"httponly", "samesite=lax", "secure"} <= attributes(header), header
    with app.app_context():
        db.engine.dispose()


def test_kiosk_https_off_wins_over_an_https_base_url(tmp_path, monkeypatch):
    """A hall whose QR codes say https:// but whose tablet talks plain HTTP on the local network
    can say so (a Secure cookie would never come back to the tablet)."""
    monkeypatch.setenv("KIOSK_HTTPS", "0")
    app = make_app(tmp_path, BASE_URL="https://hall.example")
    assert app.config["HTTPS"] is False and app.config["SESSION_COOKIE_SECURE"] is False


def test_behind_a_proxy_that_says_https_the_residents_cookies_are_secure(tmp_path):
    """With KIOSK_BEHIND_PROXY, X-Forwarded-Proto: https marks the request secure (ProxyFix)."""
    app = populate(make_app(tmp_path, WTF_CSRF_ENABLED=True, BEHIND_PROXY=1))
    cookies = every_cookie(app, {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_FOR": "10.1.1.1"})
    for name in ("resident", "device", devices.COOKIE):
        assert "secure" in attributes(cookies[name]), cookies[name]
    with app.app_context():
        db.engine.dispose()
