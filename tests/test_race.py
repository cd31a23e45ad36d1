"""Twenty residents grab the same drill at the same moment, through four gunicorn worker processes.

The app runs as in production (CSRF on, several processes, one database file or server);
each resident has their own browser (cookie jar), identifies on the phone pages, opens
"Please confirm", and then all twenty press "Yes, borrow it" at once. Exactly one gets the
drill; every other gets the clear "just borrowed" refusal (409), and nobody a server error.
Run on SQLite (BEGIN IMMEDIATE, busy timeout) and on PostgreSQL (row locks).
"""
import os
import socket
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, Request, build_opener

from sqlalchemy import func, select

from kiosk import create_app
from kiosk.extensions import db
from kiosk.models import Loan, Resident, Tool
from tests.conftest import Hall, config_for

REPO = Path(__file__).resolve().parents[1]
RESIDENTS = 20
WORKERS = 4
TIMEOUT = 30  # seconds, for any one request
SECRET = "race-test-secret"


class _Inputs(HTMLParser):
    """The name -> value of every <input> of a page (hidden CSRF and one-use tokens)."""

    def __init__(self):
        super().__init__()
        self.values = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name"):
            self.values.setdefault(attrs["name"], attrs.get("value") or "")


def inputs(html: str) -> dict:
    parser = _Inputs()
    parser.feed(html)
    return parser.values


class Browser:
    """One resident's phone: its own cookies (session with the CSRF secret, the resident cookie)."""

    def __init__(self, base: str):
        self.base = base
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()))

    def request(self, path: str, form: dict | None = None) -> tuple[int, str]:
        data = urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(Request(self.base + path, data=data), timeout=TIMEOUT) as response:
                return response.status, response.read().decode()
        except HTTPError as error:
            return error.code, error.read().decode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(url: str) -> tuple[str, list[tuple[str, str]]]:
    """The schema, one tool and twenty registered residents; returns (tool code, [(mobile, name)])."""
    app = create_app(config_for(url))
    people = [(f"139{n:08d}", f"居民{n}") for n in range(RESIDENTS)]
    with app.app_context():
        db.create_all()
        hall = Hall()
        code = hall.tool().code
        for mobile, name in people:
            hall.resident(mobile=mobile, name=name)
        db.session.remove()
        db.engine.dispose()
    return code, people


def _outcome(url: str) -> dict:
    app = create_app(config_for(url))
    with app.app_context():
        try:
            loans = db.session.execute(select(Loan.id, Resident.mobile).join(Resident)).all()
            return {"loans": [mobile for _id, mobile in loans],
                    "tool_status": db.session.scalar(select(Tool.status)),
                    "tools": db.session.scalar(select(func.count()).select_from(Tool))}
        finally:
            db.session.remove()
            db.engine.dispose()


def _start_gunicorn(url: str, port: int, log) -> subprocess.Popen:
    env = {**os.environ, "KIOSK_DATABASE_URL": url, "KIOSK_SECRET_KEY": SECRET,
           "KIOSK_BASE_URL": "http://hall.test", "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
         "--timeout", "60", "--graceful-timeout", "5", "kiosk:create_app()"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log)


def _wait_until_serving(proc: subprocess.Popen, base: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"gunicorn exited ({proc.returncode}):\n{log.read_text()}")
        booted = log.read_text().count("Booting worker")
        try:
            status, _ = Browser(base).request("/kiosk/")
        except (URLError, ConnectionError, TimeoutError):
            status = None
        if status == 200 and booted >= WORKERS:
            return
        time.sleep(0.1)
    raise AssertionError(f"gunicorn did not answer within 30 s:\n{log.read_text()}")


def test_twenty_residents_grab_the_same_tool_at_once(db_url, tmp_path):
    code, people = _prepare(db_url)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    with log.open("w") as stderr:
        proc = _start_gunicorn(db_url, port, stderr)
    try:
        _wait_until_serving(proc, base, log)

        # Each resident identifies on their own phone and opens "Please confirm".
        ready = []
        for mobile, name in people:
            browser = Browser(base)
            status, page = browser.request(f"/t/{code}/borrow")
            assert status == 200 and 'id="identify-form"' in page
            status, page = browser.request(f"/t/{code}/who", {
                "csrf_token": inputs(page)["csrf_token"], "mobile": mobile, "name": name,
                "building_unit": "", "consent": "y"})
            assert status == 200 and 'class="confirm"' in page, page  # 303 -> the confirm page
            fields = inputs(page)
            ready.append((mobile, browser, {"csrf_token": fields["csrf_token"], "token": fields["token"]}))

        # ... and all twenty tap "Yes, borrow it" at the same moment.
        barrier = threading.Barrier(RESIDENTS, timeout=TIMEOUT)
        results = {}

        def tap(mobile, browser, form):
            barrier.wait()
            try:
                results[mobile] = browser.request(f"/t/{code}/borrow", form)
            except Exception as error:  # noqa: BLE001 - reported below
                results[mobile] = (None, repr(error))

        threads = [threading.Thread(target=tap, args=args) for args in ready]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT + 5)
        assert not any(thread.is_alive() for thread in threads), "a borrow request hung"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    statuses = sorted(status for status, _ in results.values())
    assert len(results) == RESIDENTS
    assert not [s for s in statuses if s is None or s >= 500], results
    assert statuses == [200] + [409] * (RESIDENTS - 1), statuses

    [winner] = [mobile for mobile, (status, _) in results.items() if status == 200]
    receipt = results[winner][1]
    assert 'class="receipt"' in receipt and code in receipt
    for mobile, (status, page) in results.items():
        if status == 409:
            assert 'role="alert"' in page and 'data-reason="just_taken"' in page, page

    outcome = _outcome(db_url)
    assert outcome["loans"] == [winner]
    assert outcome["tool_status"] == "on_loan" and outcome["tools"] == 1

    errors = log.read_text()
    assert "Traceback" not in errors and "[ERROR]" not in errors, errors
