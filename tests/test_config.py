"""Configuration (defaults, instance/config.py, KIOSK_* variables) and SQLite set up for several workers."""
import sqlite3
import threading

import pytest
from flask import request
from sqlalchemy import event, text

from kiosk import create_app
from kiosk.config import ENV_KEYS
from kiosk.database import write_transaction
from kiosk.extensions import db


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """An empty instance folder of its own, and no KIOSK_* variable from the outside world."""
    for env in (*ENV_KEYS, "KIOSK_INSTANCE_PATH"):
        monkeypatch.delenv(env, raising=False)
    path = tmp_path / "instance"
    monkeypatch.setenv("KIOSK_INSTANCE_PATH", str(path))
    return path


def build(**test_config):
    app = create_app(test_config or None)
    apps.append(app)
    return app


apps: list = []


@pytest.fixture(autouse=True)
def _dispose():
    yield
    while apps:
        with apps.pop().app_context():
            db.engine.dispose()


# --- Where settings come from --------------------------------------------------------------

def test_defaults_put_everything_under_the_instance_folder(instance):
    app = build()
    assert app.instance_path == str(instance)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'kiosk.sqlite'}"
    assert app.config["BASE_URL"] == "http://localhost:8000"
    assert app.config["TIMEZONE"] == app.config["BABEL_DEFAULT_TIMEZONE"] == "Asia/Shanghai"
    assert app.config["BABEL_DEFAULT_LOCALE"] == "zh_Hans"
    assert app.config.get("ADMIN_PASSWORD") is None
    assert app.config["BEHIND_PROXY"] == 0


def test_environment_variables_override_the_defaults(instance, monkeypatch, tmp_path):
    monkeypatch.setenv("KIOSK_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.sqlite'}")
    monkeypatch.setenv("KIOSK_SECRET_KEY", "from the environment")
    monkeypatch.setenv("KIOSK_BASE_URL", "https://hall.example.cn/")
    monkeypatch.setenv("KIOSK_ADMIN_PASSWORD", "an admin password")
    monkeypatch.setenv("KIOSK_TIMEZONE", "Asia/Urumqi")
    app = build()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"
    assert app.config["SECRET_KEY"] == "from the environment"
    assert not (instance / "secret_key").exists()
    assert app.config["BASE_URL"] == "https://hall.example.cn"  # no double slash before /t/<code>
    assert app.config["ADMIN_PASSWORD"] == "an admin password"
    assert app.config["TIMEZONE"] == app.config["BABEL_DEFAULT_TIMEZONE"] == "Asia/Urumqi"


def test_instance_config_py_is_read_and_the_environment_wins_over_it(instance, monkeypatch):
    instance.mkdir()
    (instance / "config.py").write_text(
        'BASE_URL = "http://from-the-file"\nMAX_OPEN_LOANS = 2\nKIOSK_IDLE_SECONDS = 90\n')
    app = build()
    assert app.config["BASE_URL"] == "http://from-the-file"
    assert app.config["MAX_OPEN_LOANS"] == 2 and app.config["KIOSK_IDLE_SECONDS"] == 90
    monkeypatch.setenv("KIOSK_BASE_URL", "http://from-the-environment")
    app = build()
    assert app.config["BASE_URL"] == "http://from-the-environment"
    assert app.config["MAX_OPEN_LOANS"] == 2


def test_a_test_config_wins_over_everything(instance, monkeypatch):
    monkeypatch.setenv("KIOSK_BASE_URL", "http://from-the-environment")
    assert build(BASE_URL="http://test").config["BASE_URL"] == "http://test"


def test_the_secret_key_is_generated_once_and_kept(instance):
    first = build()
    key = first.config["SECRET_KEY"]
    assert len(key) >= 32
    kept = instance / "secret_key"
    assert kept.read_text().strip() == key
    assert kept.stat().st_mode & 0o777 == 0o600  # readable by the app's user only
    # A restart (or a second gunicorn worker) reads the same key: sessions and the tablet's cookie survive.
    assert build().config["SECRET_KEY"] == key


def test_a_device_cookie_survives_a_restart(instance):
    from kiosk import devices

    first = build()
    with first.test_request_context():
        cookie = devices._serializer().dumps(7)
    with build().test_request_context():
        assert devices._serializer().loads(cookie) == 7


def test_workers_starting_together_agree_on_one_key(instance):
    instance.mkdir()
    from kiosk.config import _kept_secret

    keys, barrier = [], threading.Barrier(8)

    def worker():
        barrier.wait()
        keys.append(_kept_secret(instance / "secret_key"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8 and len(set(keys)) == 1


@pytest.mark.parametrize("value, hops", [("1", 1), ("true", 1), ("2", 2), ("0", 0), ("no", 0)])
def test_behind_proxy_setting(instance, monkeypatch, value, hops):
    monkeypatch.setenv("KIOSK_BEHIND_PROXY", value)
    assert build().config["BEHIND_PROXY"] == hops


def _client_address_and_scheme(app):
    app.add_url_rule("/whoami", "whoami", lambda: f"{request.remote_addr} {request.scheme} {request.host}")
    forwarded = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https",
                 "X-Forwarded-Host": "hall.example.cn"}
    return app.test_client().get("/whoami", headers=forwarded,
                                 environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_data(as_text=True)


def test_forwarded_headers_are_ignored_unless_behind_a_proxy(instance):
    # Anyone could send them: trusted by default, they would let a guesser dodge login throttling.
    assert _client_address_and_scheme(build()) == "127.0.0.1 http localhost"


def test_forwarded_headers_are_trusted_behind_a_proxy(instance, monkeypatch):
    monkeypatch.setenv("KIOSK_BEHIND_PROXY", "1")
    assert _client_address_and_scheme(build()) == "203.0.113.9 https hall.example.cn"


# --- SQLite for several workers --------------------------------------------------------------

@pytest.fixture
def sqlite_app(instance):
    app = build()
    with app.app_context():
        db.create_all()
    return app


def test_sqlite_connections_are_set_up_for_several_workers(sqlite_app):
    with sqlite_app.app_context():
        with db.engine.connect() as conn:
            pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("journal_mode") == "wal"
            assert pragma("synchronous") == 2  # FULL: a committed loan survives a power cut
            assert pragma("foreign_keys") == 1
            assert pragma("busy_timeout") > 0


def test_foreign_keys_are_enforced(sqlite_app):
    from sqlalchemy.exc import IntegrityError

    from kiosk.models import Tool

    with sqlite_app.app_context():
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            with write_transaction() as s:
                s.add(Tool(code="RW-0001", kind_id=999, number=1))


def _statements(engine):
    seen = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2].strip().upper()))
    return seen


def test_a_write_transaction_begins_immediate(sqlite_app):
    with sqlite_app.app_context():
        seen = _statements(db.engine)
        with write_transaction() as s:
            s.execute(text("SELECT 1"))
        assert "BEGIN IMMEDIATE" in seen
        seen.clear()
        db.session.execute(text("SELECT 1"))  # a read is a plain (deferred) transaction
        db.session.rollback()
        assert "BEGIN" in seen and "BEGIN IMMEDIATE" not in seen


def test_a_write_transaction_holds_the_write_lock_from_its_first_statement(sqlite_app, instance):
    path = instance / "kiosk.sqlite"
    with sqlite_app.app_context():
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            with write_transaction() as s:
                s.execute(text("SELECT 1"))  # only a read so far, but the lock is taken
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            other.execute("BEGIN IMMEDIATE")  # released at commit
            other.execute("ROLLBACK")
            # A read-only transaction of a request does not block a writer.
            db.session.execute(text("SELECT 1"))
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            db.session.rollback()
        finally:
            other.close()


def test_a_failed_write_transaction_rolls_back(sqlite_app):
    from kiosk.models import ToolKind

    with sqlite_app.app_context():
        with pytest.raises(RuntimeError):
            with write_transaction() as s:
                s.add(ToolKind(name_zh="锤子", name_bo="ཐོ་བ།", name_en="Hammer", loan_days=7))
                s.flush()
                raise RuntimeError("half way")
        assert db.session.scalar(text("SELECT count(*) FROM tool_kind")) == 0
