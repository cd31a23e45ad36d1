"""Browser tests: the real app served on a free port, driven by the system Chromium through Playwright.

CSRF is on here (unlike the HTTP tests), so every form goes through the real token path:
hx-headers on <body> for htmx requests, hidden inputs for plain posts.
Each test leaves a screenshot of every step under test-artifacts/screenshots/<test>/.
"""
import itertools
import re
import shutil
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import got_request_exception
from werkzeug.serving import make_server

from kiosk import create_app
from kiosk.extensions import db
from bench.first_visit import CHROMIUM, CHROMIUM_ARGS  # the same browser the benchmark measures with
from tests.conftest import IN_CI, Hall, config_for

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"

TABLET = {"viewport": {"width": 1280, "height": 800}, "has_touch": True}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}


def require_chromium():
    """The system Chromium must be there: missing, the test is skipped locally and fails in CI."""
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """The system Chromium, headless. Missing: skipped locally, a failure in CI."""
    require_chromium()
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True,
            "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url():
    """Each test serves its own app (see `serve`); this replaces pytest-playwright's --base-url
    fixture, whose class-method form pytest deprecates (and warnings are errors here)."""
    return None


@dataclass
class LiveServer:
    url: str
    app: object
    teacher_password: str = ""  # of the demo's teacher account `teacher`
    errors: list = field(default_factory=list)

    def query(self, fn):
        """Run fn() inside the app (for looking up what the test needs, or what it left behind)."""
        with self.app.app_context():
            try:
                return fn()
            finally:
                db.session.remove()

    def enrol_tablet(self, context):
        """Make this browser the enrolled hall tablet: the signed device cookie a staff member's
        enrolment (/staff/devices) would set."""
        from sqlalchemy import select

        from kiosk import devices
        from kiosk.models import StaffUser

        def enrol():
            admin_id = db.session.scalar(select(StaffUser.id).where(StaffUser.role == "admin"))
            return devices._serializer().dumps(devices.enrol("Hall tablet", admin_id).id)

        context.add_cookies([{"name": devices.COOKIE, "value": self.query(enrol), "url": self.url,
                              "httpOnly": True, "sameSite": "Lax"}])


@pytest.fixture
def serve(tmp_path):
    """serve(**config) -> LiveServer: the demo hall on a free port, in a thread, for this test.

    teacher_password= sets the demo teacher's password (random by default; either way it is
    server.teacher_password)."""
    servers = []

    def start(teacher_password=None, **extra):
        config = {
            "TESTING": False,  # behave as in production: friendly error pages, not propagation
            "WTF_CSRF_ENABLED": True,
            "KIOSK_RECEIPT_SECONDS": 600,
            **extra,
        }
        app = create_app(config_for(f"sqlite:///{tmp_path}/kiosk.sqlite", **config))
        with app.app_context():
            from kiosk.demo import load_demo

            db.create_all()
            Hall()  # the admin account the demo data is attributed to
            teacher_password = load_demo(teacher_password)
            db.session.remove()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
        thread.start()
        live = LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app,
                          teacher_password=teacher_password)
        got_request_exception.connect(lambda sender, exception, **kw: live.errors.append(exception),
                                      app, weak=False)
        servers.append((server, thread, live))
        return live

    yield start
    for server, thread, live in servers:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with live.app.app_context():
            db.engine.dispose()
    for _server, _thread, live in servers:
        assert not live.errors, f"the server raised: {live.errors!r}"


@pytest.fixture
def shot(request):
    """shot(page, "step") saves test-artifacts/screenshots/<test>/NN-step.png, numbered in order."""
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.originalname)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    counter = itertools.count(1)

    def take(page, step: str) -> Path:
        path = folder / f"{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def tablet(new_context):
    """open(server) -> a page on a 1280x800 touch screen, as the hall tablet."""
    def open_(server, enrolled=False):
        context = new_context(base_url=server.url, **TABLET)
        context.set_default_timeout(10_000)
        if enrolled:
            server.enrol_tablet(context)
        return context.new_page()

    return open_


@pytest.fixture
def phone(new_context):
    """open(server) -> a page on a 390x844 phone."""
    def open_(server):
        context = new_context(base_url=server.url, **PHONE)
        context.set_default_timeout(10_000)
        return context.new_page()

    return open_


@dataclass
class RestartableServer(LiveServer):
    """The demo hall on a fixed port that can stop() and start() again on that same port, as the
    hall server does when it restarts: in between, the tablet's requests are refused."""
    port: int = 0
    _server: object = None
    _thread: object = None
    _connections: list = field(default_factory=list)

    def start(self):
        assert self._server is None, "already running"
        server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        accept = server.get_request

        def get_request():
            # Remembered so that stop() can cut the browser's keep-alive connections too:
            # otherwise their threads would go on answering on a "stopped" server.
            connection, address = accept()
            self._connections.append(connection)
            return connection, address

        server.get_request = get_request
        self._thread = threading.Thread(target=server.serve_forever, name="restartable-server", daemon=True)
        self._thread.start()
        self._server = server

    def stop(self):
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        for connection in self._connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by its handler
        self._connections.clear()
        server.server_close()
        self._thread.join(timeout=10)


@pytest.fixture
def serve_restartable(tmp_path):
    """serve_restartable(**config) -> RestartableServer, started: the demo hall as `serve` has it
    (its own SQLite file, CSRF on), on a free port that stays its own across stop() and start()."""
    servers = []

    def start(**extra):
        config = {"TESTING": False, "WTF_CSRF_ENABLED": True, "KIOSK_RECEIPT_SECONDS": 600, **extra}
        app = create_app(config_for(f"sqlite:///{tmp_path}/kiosk.sqlite", **config))
        with app.app_context():
            from kiosk.demo import load_demo

            db.create_all()
            Hall()
            teacher_password = load_demo(None)
            db.session.remove()
        with socket.socket() as probe:  # a port nobody uses now; ours from here on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        live = RestartableServer(url=f"http://127.0.0.1:{port}", app=app,
                                 teacher_password=teacher_password, port=port)
        got_request_exception.connect(lambda sender, exception, **kw: live.errors.append(exception),
                                      app, weak=False)
        live.start()
        servers.append(live)
        return live

    yield start
    for live in servers:
        live.stop()
        with live.app.app_context():
            db.engine.dispose()
    for live in servers:
        assert not live.errors, f"the server raised: {live.errors!r}"
