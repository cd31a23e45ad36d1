"""The app served as in production, for the race tests: gunicorn with several worker processes,
CSRF on, and residents' phones as cookie jars that fire their forms at the same moment.

Imported as `tests.gunicorn`; the server itself runs `python -m gunicorn` in a subprocess whose
path does not contain tests/, so it gets the real package.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from pathlib import Path
from typing import NamedTuple, Self
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, Request, build_opener

REPO = Path(__file__).resolve().parents[1]
WORKERS = 4
TIMEOUT = 30  # seconds, for any one request
SECRET = "race-test-secret"
PREPARING = 8  # phones made ready side by side before a race


class _Forms(HTMLParser):
    """Every <input> of a page (name -> value; hidden CSRF and one-use tokens), and every <form>
    with its own inputs."""

    def __init__(self):
        super().__init__()
        self.values = {}
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({**attrs, "inputs": {}})
        elif tag == "input" and attrs.get("name"):
            self.values.setdefault(attrs["name"], attrs.get("value") or "")
            if self.forms:
                self.forms[-1]["inputs"].setdefault(attrs["name"], attrs.get("value") or "")


def _parsed(html: str) -> _Forms:
    parser = _Forms()
    parser.feed(html)
    return parser


def inputs(html: str) -> dict:
    return _parsed(html).values


def post_form(html: str, action_ends: str) -> dict | None:
    """The first method="post" form whose action ends with `action_ends`: {"action", "inputs", ...}."""
    return next((f for f in _parsed(html).forms if (f.get("method") or "").lower() == "post"
                 and (f.get("action") or "").endswith(action_ends)), None)


class Page(NamedTuple):
    """What a phone ends up showing: the status and text of the last response, and its address
    (after redirects: a 303 after a POST lands on the page it points to). Status None: no answer."""

    status: int | None
    text: str
    url: str | None = None


class Browser:
    """One resident's phone: its own cookies (session with the CSRF secret, the resident cookie)."""

    def __init__(self, base: str):
        self.base = base
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()))

    def request(self, path: str, form: dict | None = None) -> Page:
        data = urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(Request(self.base + path, data=data), timeout=TIMEOUT) as response:
                return Page(response.status, response.read().decode(), response.url)
        except HTTPError as error:
            return Page(error.code, error.read().decode(), error.url)


def at_once(calls: dict) -> dict:
    """Run every call of {key: call} in its own thread, all released at the same moment by a
    barrier; {key: what it returned}, or a Page with status None when it raised."""
    barrier = threading.Barrier(len(calls), timeout=TIMEOUT)
    results = {}

    def run(key, call: Callable):
        barrier.wait()
        try:
            results[key] = call()
        except Exception as error:  # noqa: BLE001 - reported by the caller's assertions
            results[key] = Page(None, repr(error))

    threads = [threading.Thread(target=run, args=item) for item in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT + 5)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    return results


def each(call: Callable, items) -> list:
    """call(item) for every item, a few at a time (residents getting their phones ready before a
    race; not the race itself, which is at_once); the results in the items' order."""
    with ThreadPoolExecutor(max_workers=PREPARING) as pool:
        return list(pool.map(call, items))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, port: int, log, env: dict | None = None, args=(),
                   new_group: bool = False) -> subprocess.Popen:
    """`env`: more KIOSK_* settings (e.g. KIOSK_REDIS_URL); `args`: more gunicorn options
    (e.g. an access log); `new_group`: in a process group of its own (see Server.kill)."""
    env = {**os.environ, "KIOSK_DATABASE_URL": url, "KIOSK_SECRET_KEY": SECRET,
           "KIOSK_BASE_URL": "http://hall.test", "PYTHONPATH": str(REPO),
           # Should KIOSK_REDIS_URL reach the tests, each server counts its rate limits apart: the
           # races of one run, all from 127.0.0.1, must not add up to one address's limit.
           "KIOSK_RATE_LIMIT_PREFIX": f"test-{uuid.uuid4().hex[:12]}", **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
         "--timeout", "60", "--graceful-timeout", "5", *args, "kiosk.wsgi:app"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=new_group)


def wait_until_serving(proc: subprocess.Popen, base: str, log: Path, since: int = 0) -> None:
    """Until every worker has booted (counted in the log from byte `since`) and a page answers."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"gunicorn exited ({proc.returncode}):\n{log.read_text()}")
        booted = log.read_bytes()[since:].count(b"Booting worker")
        try:
            status = Browser(base).request("/kiosk/").status
        except (URLError, ConnectionError, TimeoutError):
            status = None
        if status == 200 and booted >= WORKERS:
            return
        time.sleep(0.1)
    raise AssertionError(f"gunicorn did not answer within 30 s:\n{log.read_text()}")


def stop_gunicorn(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@contextmanager
def serving(url: str, log: Path, env: dict | None = None, args=()) -> Iterator[str]:
    """gunicorn on a free port over the database at `url`, its stderr in `log`; yields the base
    address and stops the server on the way out (read the log after the block). `env` and
    `args` as for start_gunicorn."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("w") as stderr:
        proc = start_gunicorn(url, port, stderr, env, args)
    try:
        wait_until_serving(proc, base, log)
        yield base
    finally:
        stop_gunicorn(proc)


class Server:
    """gunicorn over one database on one port, that a test may kill as a crash or the kernel's
    out-of-memory killer would (SIGKILL to the master and every worker at once: no clean-up, no
    graceful shutdown) and start again on the same port and database. Every start appends to
    `log`; `env` and `args` as for start_gunicorn."""

    def __init__(self, url: str, log: Path, env: dict | None = None, args=()):
        self.url, self.log, self.env, self.args = url, log, env, args
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        log.write_text("")

    def start(self) -> None:
        since = self.log.stat().st_size
        with self.log.open("a") as stderr:
            # A session of its own: the master and the workers it forks share one process group.
            self.proc = start_gunicorn(self.url, self.port, stderr, self.env, self.args, new_group=True)
        wait_until_serving(self.proc, self.base, self.log, since)

    def kill(self) -> int:
        """SIGKILL to the master and its workers at once; how many processes that killed, once
        all of them are gone (their sockets and database connections closed by the kernel)."""
        group = self.proc.pid
        killed = len(_living(group))
        os.killpg(group, signal.SIGKILL)
        self.proc.wait(timeout=15)
        deadline = time.monotonic() + 15
        while _living(group):
            assert time.monotonic() < deadline, f"gunicorn's processes outlived SIGKILL: {_living(group)}"
            time.sleep(0.02)
        return killed

    def stop(self) -> None:
        stop_gunicorn(self.proc)


def _living(group: int) -> list[int]:
    """The processes of a process group that are still running (a zombie has closed its files)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[2]) == group and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def assert_clean_log(log: Path) -> None:
    errors = log.read_text()
    for sign in ("Traceback", "[ERROR]", "database is locked"):
        assert sign not in errors, errors


class Database:
    """The app outside the server, over the database the server uses, its schema made: to prepare
    what a race starts from and to read what it left. Each `run` has an app context (a session)
    of its own, so it reads what is committed now. Use it as a context manager."""

    def __init__(self, url: str):
        from kiosk import create_app
        from kiosk.extensions import db
        from tests.conftest import config_for

        self.app, self.db = create_app(config_for(url)), db
        self.run(db.create_all)

    def run(self, call: Callable, *args):
        with self.app.app_context():
            try:
                return call(*args)
            finally:
                self.db.session.remove()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.run(lambda: self.db.engine.dispose())


def confirmation(page: Page) -> str | None:
    """The page's confirmation (its <section class="receipt ...">, as sent), or None: what a
    double tap compares across its answers."""
    found = re.search(r'<section class="receipt[ "].*?</section>', page.text, re.S)
    return found and found.group(0)


def shown(page: Page, attribute: str) -> str | None:
    """The value of the first data-<attribute>="…" on the page (what a page says it did: a
    claim's status, a refusal's reason, a tea sign-in, …), or None."""
    found = re.search(rf'data-{attribute}="([\w-]+)"', page.text)
    return found and found.group(1)
