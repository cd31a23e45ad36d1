"""Fixtures: a fresh database per test, on SQLite, and on PostgreSQL for the database-level tests.

`app`/`client` run on SQLite. `any_app` is parametrised over SQLite and PostgreSQL: the
domain actions, constraints and races are tested on both. In CI (CI=true) a missing
PostgreSQL server fails the run instead of skipping.
"""
import os
import tempfile
import uuid
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text

from kiosk import create_app
from kiosk.extensions import db

PG_BASE = os.environ.get("KIOSK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI") == "true"
ADMIN_PASSWORD = "correct horse battery"


def config_for(url: str, **extra) -> dict:
    return {
        # Photos a test uploads stay out of the checkout's instance/ folder.
        "UPLOAD_FOLDER": tempfile.mkdtemp(prefix="kiosk-uploads-"),
        # PostgreSQL's data version (kiosk.freshness) too: one file per test schema.
        "DATA_VERSION_FOLDER": tempfile.gettempdir(),
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "BASE_URL": "http://hall.test",
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        **extra,
    }


def postgres_schema_url(request) -> str:
    """A fresh schema of the `test` database for this test; dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        engine = create_engine(PG_BASE)
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:  # noqa: BLE001 - any failure to reach the server
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI: {error}")
        pytest.skip(f"PostgreSQL not reachable: {error}")

    def drop():
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()

    request.addfinalizer(drop)
    sep = "&" if "?" in PG_BASE else "?"
    return f"{PG_BASE}{sep}options=-csearch_path%3D{schema}"


def _make_app(url, **extra):
    app = create_app(config_for(url, **extra))
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture
def app(tmp_path):
    app = _make_app(f"sqlite:///{tmp_path / 'kiosk.sqlite'}")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kiosk.sqlite'}"
    return postgres_schema_url(request)


@pytest.fixture
def any_app(db_url):
    """The app on SQLite, then on PostgreSQL."""
    app = _make_app(db_url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(any_app):
    with any_app.test_request_context():
        yield any_app


@pytest.fixture
def client(app):
    return app.test_client()


def english_client(app):
    """A browser that reads English (the messages' own language), so assertions read naturally."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- Building blocks ----------------------------------------------------------------------

class Hall:
    """Makes the records a test needs, through the same domain actions the app uses."""

    def __init__(self):
        from kiosk.auth import create_staff

        self.admin = create_staff("admin", ADMIN_PASSWORD, role="admin", display_name="Admin")
        self.admin_id = self.admin.id

    def kind(self, en="Electric drill", zh="电钻", bo="གློག་སྦྱིན།", days=7, pict="🛠️"):
        from kiosk.database import write_transaction
        from kiosk.models import ToolKind

        with write_transaction() as s:
            kind = ToolKind(name_en=en, name_zh=zh, name_bo=bo, loan_days=days, pictogram=pict)
            s.add(kind)
            s.flush()
            return kind.id

    def tool(self, kind_id=None, **kw):
        from kiosk import lending

        return lending.add_tool(kind_id or self.kind(), self.admin_id, **kw)

    def resident(self, mobile="13800138000", name="次仁", unit=None):
        from kiosk.database import write_transaction
        from kiosk.residents import identify_resident

        with write_transaction():
            return identify_resident(mobile, name, unit, consent=True).id


@pytest.fixture
def hall(app):
    with app.app_context():
        yield Hall()


@pytest.fixture
def any_hall(ctx):
    yield Hall()


def token() -> str:
    return str(uuid.uuid4())


TODAY = date.today()


class CacheClock:
    """kiosk.cache's clock, moved on by the test instead of by sleeping (the rest of the app keeps
    the real one)."""

    def __init__(self, monkeypatch):
        from kiosk import cache

        self.now = 1000.0
        monkeypatch.setattr(cache, "time", SimpleNamespace(monotonic=lambda: self.now))

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def cache_clock(monkeypatch) -> CacheClock:
    return CacheClock(monkeypatch)
