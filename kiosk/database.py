"""Database behaviour the rules depend on: SQLite tuned for several workers, and write transactions.

SQLite: WAL lets readers go on while one writer writes; a busy timeout makes a second
writer wait instead of failing; synchronous=FULL keeps a committed loan after a power cut.
Write transactions begin with BEGIN IMMEDIATE so they take the write lock up front:
a deferred transaction that reads first and writes later can fail with SQLITE_BUSY
when another worker wrote in between, and that would surface as a 500.
PostgreSQL: the domain actions lock the rows they decide on (SELECT ... FOR UPDATE) and
use conditional updates, and the constraints catch whatever slips past.
"""
import contextvars
from contextlib import contextmanager

from sqlalchemy import event

from . import freshness
from .extensions import db

_write_intent = contextvars.ContextVar("kiosk_write_intent", default=False)


def init_app(app):
    with app.app_context():
        engine = db.engine
    freshness.init_app(app, engine)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take over transaction control from the sqlite3 module so that we emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=15000")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


@contextmanager
def write_transaction(expire_on_commit: bool = True):
    """Run the block as one transaction that holds the write lock from its first statement.

    Commits at the end, rolls back on any exception. Objects read before the block are
    expired and reload on next access, so decisions inside are made on fresh rows.
    expire_on_commit=False keeps the objects the block read and wrote as they were committed,
    for a receipt drawn from them at once (without reading each row back).
    """
    session = db.session()  # the request's Session behind the scoped proxy
    if session.in_transaction():
        # End the read transaction this request may have begun; a fresh one is needed
        # to start with BEGIN IMMEDIATE.
        session.commit()
    # Decisions are made on fresh rows, also when the last block kept its objects
    # (expire_on_commit=False) and no transaction has begun since.
    session.expire_all()
    token = _write_intent.set(True)
    expiring = session.expire_on_commit
    session.expire_on_commit = expire_on_commit
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.expire_on_commit = expiring
        _write_intent.reset(token)


def is_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


