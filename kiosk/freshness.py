"""The hall's data version: a mark that moves on with every committed write, in every process.

Pages kept by `kiosk.web.kept_view` are kept under the version they were drawn at, so a page is
never served from before a change that was committed before it was asked for: a loan, a
registration, a setting, whoever made it, in any worker or a `flask` command on this server.

The version is the size of one file, which grows by one byte after each committed write: beside
a SQLite database (instance/kiosk.sqlite-version), so that whatever opens that database shares
it; for PostgreSQL in the instance folder, named after the database's address. Appending a byte
is atomic between processes, and a size never comes back, so two writes within the same clock
tick still give two versions (a file's time would not: it moves in steps of several
milliseconds). Reading it is one stat() per request (a few microseconds), against a query per
request for a counter kept in the database.
A year of a busy hall adds a few hundred kilobytes.

Which writes count: any statement other than a read that a request's (or a command's) session
sends, through the ORM, a bulk UPDATE or a plain connection of the session, once its transaction
commits. (A write rolled back leaves the mark set: the next commit moves the version once more
than it had to, which costs one page drawn again; clearing it on a savepoint's rollback could
lose a write made before the savepoint.) `flask backup restore` and `flask db-upgrade-safely`,
which write outside any session, move it themselves; a plain `flask db upgrade` or a pg_restore
run beside a running server does not: its kept pages are then up to kiosk.web.KEPT_SECONDS old.

On PostgreSQL, one server's processes share the instance folder; a second server writing to the
same database would not move this one's version (the hall has one server).
"""
import contextvars
import hashlib
import os
import re

from flask import current_app, g, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from . import cache

# What a statement may start with and still change nothing.
_READS = re.compile(r"\s*(SELECT|BEGIN|PRAGMA|SAVEPOINT|RELEASE|ROLLBACK|SHOW|EXPLAIN)\b", re.IGNORECASE)

# Set by a statement that writes, cleared when a commit has moved the version on. A context
# variable rather than the connection's own info: by the time the session says it committed, its
# connection is back in the pool.
_wrote = contextvars.ContextVar("kiosk_wrote", default=False)


def _path(app) -> str:
    return app.extensions["kiosk_data_version"][0]


def _file_for(app, url) -> tuple[str, str]:
    """Where the version is kept, and the file whose owner it takes (the database, or the folder)."""
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        database = os.path.abspath(url.database)
        return f"{database}-version", database
    address = url.render_as_string(hide_password=True).encode()
    # DATA_VERSION_FOLDER: the tests, whose every PostgreSQL schema is a database of its own.
    folder = app.config.get("DATA_VERSION_FOLDER") or app.instance_path
    return os.path.join(folder, f"data-version-{hashlib.sha256(address).hexdigest()[:16]}"), folder


def version() -> int:
    """The data version this request reads: as it was when the request began."""
    found = g.get("data_version")
    return found if found is not None else _now()


def _now() -> int:
    try:
        return os.stat(_path(current_app)).st_size
    except FileNotFoundError:
        return 0


def _note_version() -> None:
    # Before anything of the request reads the database: on SQLite a request's reads all see the
    # snapshot its first read took (the staff account, the tablet's enrolment, before the view),
    # so the version must be taken before it, or a page drawn from an older snapshot could be
    # kept under a newer version.
    g.data_version = _now()


def bump(app=None) -> None:
    """Move the version on: call after a write that did not go through a session.

    Never fails the write it follows (which is committed by now): if the file cannot be written
    (a full disk, an owner changed by hand), the error is logged and this worker forgets its
    kept pages; the other workers' go on for at most kiosk.web.KEPT_SECONDS.
    """
    app = app or current_app
    path, owner_of = app.extensions["kiosk_data_version"]
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o664)
        try:
            if os.fstat(fd).st_size == 0:
                _same_owner(fd, owner_of)
            os.write(fd, b".")
        finally:
            os.close(fd)
    except OSError as error:
        app.logger.error("could not move the data version on (%s): %s", path, error)
        with app.app_context():
            cache.forget_pages()


def _same_owner(fd: int, owner_of: str) -> None:
    # A `flask` command run as root must not leave a file the web server's user cannot append to
    # (as SQLite does for its -wal file): the version file belongs to whoever owns the database.
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        try:
            found = os.stat(owner_of)
        except FileNotFoundError:
            return
        os.fchown(fd, found.st_uid, found.st_gid)


def _on_statement(_conn, _cursor, statement, *_args):
    if not _READS.match(statement):
        _wrote.set(True)


def _after_commit(session):
    # Fired for a savepoint released too: only the outer commit makes a write visible to others.
    if session.in_nested_transaction():
        return
    if _wrote.get():
        _wrote.set(False)
        if has_app_context():
            bump()


def init_app(app, engine):
    app.extensions["kiosk_data_version"] = _file_for(app, engine.url)
    app.before_request_funcs.setdefault(None, []).insert(0, _note_version)
    event.listen(engine, "before_cursor_execute", _on_statement)
    # Session-wide listeners, once per process (the tests make many apps).
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
