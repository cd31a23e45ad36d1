"""No mobile number or password reaches the logs (kiosk/logs.py).

A borrow by mobile number (typed in full-width digits), a wish, a mobile number typed where a code
goes, a failed login (and one sent by GET, its password in the address), the staff's resident
search by number (ASCII, full-width, spaced): run through werkzeug's development server with every
log record captured, and through gunicorn with 4 workers and its access and error logs in files.
Nowhere does a whole number or a password appear; the masked number (137****7000) does, so the
lines are there. A crash whose message carries a submitted form is logged with a traceback that
shows neither, and a database error's message carries no parameters at all.
"""
import logging
import re
import threading
from urllib.parse import quote, quote_plus, urlencode
from urllib.request import Request

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.serving import make_server

from kiosk.extensions import db
from kiosk.logs import scrub
from tests.gunicorn import Browser, Database, assert_clean_log, inputs, serving
from tests.test_security import ADMIN_PASSWORD, populate
from tests.test_security import csrf_app as hall  # noqa: F401 - the populated hall, CSRF on

MOBILE = "13700137000"
FULL_WIDTH = "１３７００１３７０００"
MASKED = "137****7000"
PASSWORD_TRIED = "Sup3r-secret-guess"
FREE_TOOL = "RW-0002"

# Every way the number and the passwords could be written into a log line.
SECRETS = (MOBILE, FULL_WIDTH, "137 0013 7000", "137+0013+7000", "137-0013-7000", quote(FULL_WIDTH),
           quote(FULL_WIDTH).lower(), PASSWORD_TRIED, ADMIN_PASSWORD, quote_plus(ADMIN_PASSWORD),
           quote(ADMIN_PASSWORD))
ANY_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")  # the hall's other residents and volunteers too


def leaks(log: str) -> list[str]:
    found = [secret for secret in SECRETS if secret in log]
    return found + ANY_MOBILE.findall(log)


def walk(base: str) -> None:
    """The flows, as a resident's phone and a staff member's browser send them."""
    phone = Browser(base)
    page = phone.request(f"/t/{FREE_TOOL}/borrow")
    confirm = phone.request(f"/t/{FREE_TOOL}/who", {"csrf_token": inputs(page.text)["csrf_token"],
                                                     "mobile": FULL_WIDTH, "name": "卓玛", "consent": "y"})
    assert confirm.status == 200 and confirm.url.endswith("/borrow"), confirm
    form = inputs(confirm.text)
    receipt = phone.request(f"/t/{FREE_TOOL}/borrow", {"csrf_token": form["csrf_token"], "token": form["token"]})
    assert receipt.status == 200, receipt
    form = inputs(phone.request("/w/new").text)
    sent = phone.request("/w/new", {"csrf_token": form["csrf_token"], "token": form["token"], "kind": "wish",
                                    "category": "school", "description": f"call me on {MOBILE}",
                                    "mobile": "137 0013 7000", "name": "卓玛", "consent": "y"})
    assert sent.status == 200 and "/w/" in sent.url, sent
    # A number typed where a code goes.
    assert phone.request(f"/w/find?code={MOBILE}").status == 422
    assert phone.request(f"/t/{MOBILE}").status == 404

    staff = Browser(base)
    token = inputs(staff.request("/staff/login").text)["csrf_token"]
    failed = staff.request("/staff/login", {"csrf_token": token, "username": "admin", "password": PASSWORD_TRIED})
    assert failed.status == 422
    # A login form sent by GET by mistake (a script, a broken page): the password is in the address.
    staff.request("/staff/login?" + urlencode({"username": "admin", "password": PASSWORD_TRIED}))
    assert staff.request("/staff/login", {"csrf_token": token, "username": "admin",
                                          "password": ADMIN_PASSWORD}).status == 200
    for q in (MOBILE, FULL_WIDTH):
        assert staff.request("/staff/residents?" + urlencode({"q": q})).status == 200
    assert staff.request("/staff/residents?q=137+0013+7000").status == 200
    # A browser sends the search's address as the Referer of the next page (gunicorn logs it).
    with staff.opener.open(Request(f"{base}/staff/", headers={"Referer": f"{base}/staff/residents?q={MOBILE}"})):
        pass


def captured(caplog) -> str:
    """Every record as a handler would write it, with its traceback."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def test_the_development_server_logs_no_mobile_number_or_password(hall, caplog):
    caplog.set_level(logging.DEBUG)
    server = make_server("127.0.0.1", 0, hall, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        walk(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(5)
    log = captured(caplog)
    assert "/staff/residents?q=" + MASKED in log  # werkzeug's request lines are there, masked
    assert "password=[removed]" in log
    assert not leaks(log), leaks(log)


def test_a_crash_with_a_form_in_its_message_logs_neither_the_number_nor_the_password(hall, caplog):
    def crash(mobile):
        from flask import request
        raise RuntimeError(f"could not save {dict(request.form)} for {mobile}")

    hall.add_url_rule("/crash/<mobile>", "crash", crash, methods=["POST"])
    hall.config["WTF_CSRF_ENABLED"] = False
    client = hall.test_client()
    response = client.post(f"/crash/{MOBILE}", data={"mobile": FULL_WIDTH, "password": ADMIN_PASSWORD})
    assert response.status_code == 500
    log = captured(caplog) + caplog.text
    assert "Traceback" in log and "RuntimeError: could not save" in log
    assert MASKED in log and "'password': '[removed]'" in log
    assert not leaks(log), leaks(log)


def test_a_database_error_names_the_statement_but_not_its_values(hall, caplog):
    """The engine hides parameters (SQLALCHEMY_ENGINE_OPTIONS), so a database error logged
    anywhere, by anyone's handler, carries no resident's number."""
    with hall.app_context():
        try:
            db.session.execute(text("INSERT INTO no_such_table (mobile) VALUES (:mobile)"), {"mobile": MOBILE})
        except SQLAlchemyError as error:
            message = str(error)
            db.session.rollback()
            hall.logger.exception("the insert failed")
    assert "no_such_table" in message and MOBILE not in message
    assert not leaks(captured(caplog))


@pytest.mark.parametrize("line, clean", [
    ("GET /staff/residents?q=13800138000 HTTP/1.1", "GET /staff/residents?q=138****8000 HTTP/1.1"),
    ("q=138+0013+8000&page=2", "q=138****8000&page=2"),
    ("＋86 138-0013-8000", "138****8000"),
    ("q=%EF%BC%91%EF%BC%93%EF%BC%98%EF%BC%90%EF%BC%90%EF%BC%91%EF%BC%93%EF%BC%98%EF%BC%90%EF%BC%90%EF%BC%90",
     "q=138****8000"),
    ("username=admin&password=correct+horse&next=/", "username=admin&password=[removed]&next=/"),
    ("{'password_again': 'a b c', 'current': 'x'}", "{'password_again': '[removed]', 'current': '[removed]'}"),
    # Not mobile numbers: a timestamp in milliseconds, a longer number, a time, an address.
    ("1736300000000 12345678901234 10:00:00 10.0.0.1:13800", "1736300000000 12345678901234 10:00:00 10.0.0.1:13800"),
])
def test_what_the_filter_changes_and_leaves(line, clean):
    assert scrub(line) == clean


def test_gunicorn_logs_no_mobile_number_or_password(db_url, tmp_path):
    with Database(db_url) as database:
        populate(database.app)
    log, access = tmp_path / "gunicorn.log", tmp_path / "access.log"
    # The access log in gunicorn's default format, with the referer and the user agent.
    with serving(db_url, log, args=("--access-logfile", str(access), "--log-level", "debug")) as base:
        walk(base)
    assert_clean_log(log)
    requests, errors = access.read_text(), log.read_text()
    assert f"/staff/residents?q={MASKED}" in requests and "password=[removed]" in requests
    assert re.search(r'"GET /staff/ HTTP/1\.1" \d+ \S+ "http://127\.0\.0\.1:\d+/staff/residents\?q=137\*{4}7000"',
                     requests), requests  # the referer, masked
    assert f"GET /t/{MASKED}" in errors  # gunicorn's debug lines (the path) are there, masked
    assert not leaks(requests), leaks(requests)
    assert not leaks(errors), leaks(errors)
