"""Backups of the hall's database, taken while the hall is open, checked, and put back.

SQLite: `take_backup` copies the live file with SQLite's online backup API
(`sqlite3.Connection.backup`), a few hundred pages per step, from one read snapshot: the copy is
the database exactly as it was at one commit, and in WAL mode (kiosk.database) a reader never
blocks a writer, so residents go on borrowing while it runs. The copy is then checked with
`PRAGMA integrity_check` before it gets its final name, so a file called kiosk-….sqlite is always
a whole, sound backup. `restore` puts a checked backup back, after a safety copy of what it
replaces.

PostgreSQL: pg_dump and pg_restore do this better than any code here could, so the commands only
print them for the configured database; they never run them behind the operator's back.

The commands at the end (`flask backup create|restore`, `flask db-upgrade-safely`) are registered
by kiosk.cli. They talk to the operator in English, like the other commands.
"""
import os
import re
import shlex
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from . import freshness

# Pages copied per step (1 MB with SQLite's 4 KB pages); the GIL is free during a step, and the
# `progress` callback runs between steps. The hall's database is a few MB: a handful of steps.
PAGES_PER_STEP = 256
# The names `--keep` counts and deletes: only what `backup create` names by itself. Safety copies
# (kiosk-before-restore-…, kiosk-before-upgrade-…) and anything else in the folder are left alone.
BACKUP_NAME = re.compile(r"kiosk-(\d{8}-\d{6})(?:-(\d+))?\.sqlite")
STAMP = "%Y%m%d-%H%M%S"


class BackupRefused(Exception):
    """What the operator is told when a backup or a restore cannot be done (in English)."""


@dataclass(frozen=True)
class Backup:
    """A backup file as checked: its size, the rows in each table, and the schema's revision."""

    path: Path
    size: int
    tables: dict[str, int]
    revision: str | None
    problems: list[str] = field(default_factory=list)  # integrity_check's findings; [] is sound

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def summary(self) -> str:
        return (f"{self.path} ({human_size(self.size)}, {self.rows:,} rows in {len(self.tables)} tables, "
                f"revision {self.revision or 'none'})")


def human_size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{max(size // 1024, 1)} KB"


# --- Where things are -------------------------------------------------------------------------

def sqlite_file(url) -> Path | None:
    """The database file behind a sqlite:/// URL; None for PostgreSQL (or any server)."""
    url = make_url(url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:" or url.query.get("mode") == "memory":
        raise BackupRefused("The database is in memory: there is nothing to back up.")
    return Path(url.database)


def backup_folder(app) -> Path:
    """BACKUP_FOLDER (instance/config.py) or instance/backups/."""
    return Path(app.config.get("BACKUP_FOLDER") or Path(app.instance_path) / "backups")


def stamp(app) -> str:
    """Now in the hall's time zone, as backups are named: 20260321-023000."""
    return datetime.now(ZoneInfo(app.config["TIMEZONE"])).strftime(STAMP)


def free_name(folder: Path, stem: str, suffix: str = ".sqlite") -> Path:
    """folder/stem.sqlite, or stem-2.sqlite, … when a backup was already taken this second."""
    path, n = folder / f"{stem}{suffix}", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}{suffix}"
    return path


# --- SQLite -----------------------------------------------------------------------------------

def _connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; we say BEGIN/COMMIT where we mean them.
    if read_only:
        return sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True,
                               isolation_level=None, timeout=15)
    return sqlite3.connect(path, isolation_level=None, timeout=15)


def _integrity_problems(conn: sqlite3.Connection) -> list[str]:
    found = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    return [] if found == ["ok"] else found


def _row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {name: conn.execute(f'SELECT count(*) FROM "{name.replace(chr(34), chr(34) * 2)}"').fetchone()[0]
            for name in names}


def _revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:  # no such table
        return None
    return row[0] if row else None


def _sync_folder(folder: Path) -> None:
    """A rename is durable once the folder itself is on disk (POSIX)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def take_backup(database: Path, target: Path, *, pages: int = PAGES_PER_STEP,
                progress: Callable[[int, int, int], object] | None = None,
                require_sound: bool = True) -> Backup:
    """Copy the live SQLite database to `target` (a new file) while the app goes on writing.

    The copy holds every row committed before it started, and nothing half-done. It is written as
    target + ".partial", checked with integrity_check, and renamed only when sound (with
    require_sound=False, as for the safety copy of a database about to be replaced, it is kept
    whatever the check says, and the findings are in Backup.problems). `progress` is passed to
    sqlite3's backup (status, pages remaining, pages in all), after each step.
    """
    if not database.is_file():
        raise BackupRefused(f"There is no database at {database}.")
    if target.exists():
        raise BackupRefused(f"{target} already exists; a backup never overwrites a file.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(_connect(database)) as source, closing(_connect(partial)) as copy:
            # One read transaction around every step: each step copies pages of the same snapshot.
            # Without it SQLite starts the copy again whenever another connection commits, and
            # under a steady stream of borrowing it might never finish. In WAL mode the open
            # snapshot does not hold anyone up (in the old rollback mode it would hold writers
            # for the whole copy, a fraction of a second for a hall's database).
            source.execute("BEGIN")
            source.execute("SELECT count(*) FROM sqlite_master").fetchone()
            try:
                source.backup(copy, pages=pages, progress=progress)
            finally:
                source.execute("COMMIT")
            # The copy inherits WAL from the live file; one self-contained file is what a backup
            # should be (it can be copied anywhere, without its -wal beside it).
            copy.execute("PRAGMA journal_mode=DELETE")
            problems = _integrity_problems(copy)
            if problems and require_sound:
                raise BackupRefused(f"The copy of {database} fails SQLite's integrity check: "
                                    + "; ".join(problems[:5]))
            tables, revision = _row_counts(copy), _revision(copy)
        with partial.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, target)
        _sync_folder(target.parent)
    finally:
        partial.unlink(missing_ok=True)
    return Backup(target, target.stat().st_size, tables, revision, problems)


def check_backup(path: Path, known_revisions: set[str] | None = None) -> Backup:
    """The backup at `path` if it is a sound Hall Kiosk database; BackupRefused otherwise."""
    if not path.is_file():
        raise BackupRefused(f"There is no file at {path}.")
    try:
        with closing(_connect(path, read_only=True)) as conn:
            problems = _integrity_problems(conn)
            if problems:
                raise BackupRefused(f"{path} fails SQLite's integrity check: " + "; ".join(problems[:5]))
            revision = _revision(conn)
            tables = _row_counts(conn)
    except sqlite3.DatabaseError as error:  # "file is not a database", "malformed", …
        raise BackupRefused(f"{path} is not a readable SQLite database ({error}).") from None
    if revision is None:
        raise BackupRefused(f"{path} is not a Hall Kiosk database: it has no alembic_version "
                            "(the schema's revision).")
    if known_revisions is not None and revision not in known_revisions:
        raise BackupRefused(f"{path} was made by another version of the app (revision {revision}, "
                            "unknown to this one). Install that version first.")
    return Backup(path, path.stat().st_size, tables, revision)


def restore(backup: Backup, database: Path) -> Backup:
    """Replace the database at `database` with a checked backup, through SQLite (not a file copy).

    The server must be stopped: the database is first switched out of WAL, which SQLite allows
    only when nobody else has it open, so a running server makes this refuse instead of pulling
    the floor from under it. Returns the restored database, checked.
    """
    database.parent.mkdir(parents=True, exist_ok=True)
    with closing(_connect(database)) as live:
        live.execute("PRAGMA busy_timeout=2000")
        try:
            mode = live.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        except sqlite3.OperationalError:
            mode = None
        if mode != "delete":
            raise BackupRefused(f"{database} is in use (is the server still running?). "
                                "Stop it, then restore.")
        with closing(_connect(backup.path, read_only=True)) as source:
            source.backup(live)  # one step: the whole file under the database's write lock
        live.execute("PRAGMA journal_mode=WAL")
        problems, tables = _integrity_problems(live), _row_counts(live)
    if problems or tables != backup.tables:
        raise BackupRefused(f"The restored database at {database} does not match the backup "
                            f"({'; '.join(problems[:5]) or 'row counts differ'}); the safety copy "
                            "holds what was there before.")
    return Backup(database, database.stat().st_size, tables, backup.revision)


def safety_copy(database: Path, folder: Path, reason: str, app) -> Backup | None:
    """A copy of the database about to be replaced or migrated; None when there is none yet."""
    if not database.is_file():
        return None
    return take_backup(database, free_name(folder, f"kiosk-{reason}-{stamp(app)}"), require_sound=False)


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest backups named kiosk-YYYYMMDD-HHMMSS.sqlite in `folder`."""
    found = sorted((match.group(1), int(match.group(2) or 1), path) for path in folder.iterdir()
                   if (match := BACKUP_NAME.fullmatch(path.name)) and path.is_file())
    doomed = [path for *_, path in found[:-keep]] if keep > 0 else []
    for path in doomed:
        path.unlink()
    return doomed


# --- PostgreSQL -------------------------------------------------------------------------------

def postgres_commands(url, dump: Path) -> tuple[str, str, bool]:
    """(pg_dump command, pg_restore command, whether a password is needed) for the database at `url`.

    The password is left out of the printed commands (they end up in shell histories and
    logs): pg_dump and pg_restore read it from ~/.pgpass or PGPASSWORD.
    """
    url = make_url(url)
    # (URL.set() takes password=None as "unchanged": replace the field itself.)
    libpq = url._replace(drivername="postgresql", password=None).render_as_string(hide_password=False)
    options = url.query.get("options") or ""
    options = " ".join(options) if isinstance(options, tuple) else options
    schema = re.search(r"search_path\s*=\s*([\w\"$]+)", options)
    only = f" -n {shlex.quote(schema.group(1))}" if schema else ""
    dump_command = f"pg_dump -Fc{only} -f {shlex.quote(str(dump))} {shlex.quote(libpq)}"
    restore_command = (f"pg_restore --clean --if-exists --no-owner --single-transaction "
                       f"-d {shlex.quote(libpq)} {shlex.quote(str(dump))}")
    return dump_command, restore_command, url.password is not None


# --- Commands ---------------------------------------------------------------------------------

def _database_url() -> str:
    return current_app.config["SQLALCHEMY_DATABASE_URI"]


def _scripts():
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())


def _close_own_connections() -> None:
    """This process's pooled connections would count as "in use" (and pin the old WAL)."""
    from .extensions import db

    db.session.remove()
    db.engine.dispose()


def _on_postgres(command_line: str, password: bool) -> None:
    click.echo("The database is PostgreSQL: use its own tools. Nothing was run; the command is:")
    click.echo(f"  {command_line}")
    if password:
        click.echo("(The password is not shown: put it in ~/.pgpass or PGPASSWORD.)")
    raise click.exceptions.Exit(1)  # a timer that runs this must not look as if it made a backup


@click.group("backup")
def backup_commands():
    """Back up and restore the database (SQLite; for PostgreSQL, the pg_dump/pg_restore commands)."""


@backup_commands.command("create")
@click.argument("path", required=False, type=click.Path())
@click.option("--keep", type=click.IntRange(min=1), default=None, metavar="N",
              help="Afterwards delete all but the N newest kiosk-YYYYMMDD-HHMMSS.sqlite in that folder.")
@with_appcontext
def create_command(path, keep):
    """Back up the live database to PATH (default: instance/backups/kiosk-YYYYMMDD-HHMMSS.sqlite).

    Safe while the app runs. PATH may be a folder. The copy is checked before it is kept.
    """
    app = current_app
    folder = backup_folder(app)
    if path is not None and (path.endswith(("/", os.sep)) or Path(path).is_dir()):
        folder, path = Path(path), None
    target = Path(path) if path else free_name(folder, f"kiosk-{stamp(app)}")
    try:
        database = sqlite_file(_database_url())
        if database is None:
            dump_command, _, password = postgres_commands(_database_url(), target.with_suffix(".dump"))
            _on_postgres(dump_command, password)
        made = take_backup(database, target)
    except BackupRefused as refusal:
        raise click.ClickException(str(refusal)) from None
    click.echo(f"Backed up {made.rows:,} rows ({len(made.tables)} tables) to {made.path} "
               f"({human_size(made.size)}); integrity check: ok.")
    if keep:
        gone = prune(made.path.parent, keep)
        if gone:
            click.echo(f"Deleted {len(gone)} older backup(s): {', '.join(p.name for p in gone)}.")


@backup_commands.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path, yes):
    """Put the backup at PATH in place of the database. Stop the server first.

    The backup is checked first, and the current database is kept as
    instance/backups/kiosk-before-restore-YYYYMMDD-HHMMSS.sqlite.
    """
    app = current_app
    try:
        database = sqlite_file(_database_url())
        if database is None:
            _, restore_line, password = postgres_commands(_database_url(), path)
            _on_postgres(restore_line, password)
        scripts = _scripts()
        checked = check_backup(path, {rev.revision for rev in scripts.walk_revisions()})
        click.echo(f"Backup: {checked.summary()}; integrity check: ok.")
        click.echo(f"It will replace the database at {database}.")
        click.echo("Stop the server (gunicorn) first, and start it again afterwards.")
        if not yes:
            click.confirm("Restore this backup now?", abort=True)
        _close_own_connections()
        kept = safety_copy(database, backup_folder(app), "before-restore", app)
        if kept is not None:
            note = "" if not kept.problems else " (it fails the integrity check, kept as it was)"
            click.echo(f"The database as it was is kept in {kept.path}{note}.")
        restored = restore(checked, database)
        freshness.bump()  # no page kept from the database it replaced is served again
    except BackupRefused as refusal:
        raise click.ClickException(str(refusal)) from None
    click.echo(f"Restored {restored.rows:,} rows ({len(restored.tables)} tables); integrity check: ok.")
    if checked.revision != scripts.get_current_head():
        click.echo("The backup is from an older version of the app: run `flask db-upgrade-safely` "
                   "before starting the server.")


@click.command("db-upgrade-safely")
@click.option("--yes", is_flag=True, help="PostgreSQL: do not ask whether a dump was taken.")
@with_appcontext
def db_upgrade_safely(yes):
    """`flask db upgrade`, after a backup of the database when there is something to migrate.

    SQLite: the backup is instance/backups/kiosk-before-upgrade-<revision>-YYYYMMDD-HHMMSS.sqlite
    (never deleted by --keep). PostgreSQL: prints the pg_dump command and asks first.
    """
    from alembic.migration import MigrationContext
    from flask_migrate import upgrade
    from sqlalchemy import inspect

    from .extensions import db

    app = current_app
    head = _scripts().get_current_head()
    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        has_tables = bool(inspect(conn).get_table_names())
    _close_own_connections()
    if current == head:
        click.echo(f"The database is up to date (revision {head}).")
        return
    try:
        database = sqlite_file(_database_url())
        if not has_tables:
            click.echo("A new database: nothing to back up.")
        elif database is None:
            dump_command, _, password = postgres_commands(
                _database_url(), backup_folder(app) / f"kiosk-before-upgrade-{current}-{stamp(app)}.dump")
            click.echo("PostgreSQL: take a dump before migrating:")
            click.echo(f"  {dump_command}")
            if password:
                click.echo("(The password is not shown: put it in ~/.pgpass or PGPASSWORD.)")
            if not yes:
                click.confirm("Is the dump taken?", abort=True)
        else:
            kept = safety_copy(database, backup_folder(app), f"before-upgrade-{current}", app)
            if kept.problems:
                found = "; ".join(kept.problems[:5])
                raise BackupRefused(f"The database fails SQLite's integrity check ({found}); not migrating "
                                    f"it. Its copy is {kept.path}.")
            click.echo(f"Backed up {kept.rows:,} rows to {kept.path} ({human_size(kept.size)}) "
                       "before migrating.")
    except BackupRefused as refusal:
        raise click.ClickException(str(refusal)) from None
    upgrade()
    freshness.bump()  # a migration may change what pages show; it writes outside any session
    click.echo(f"Migrated from {current or 'an empty database'} to {head}.")
