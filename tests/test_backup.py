"""Backups: `flask backup create` copies the live SQLite database while residents go on
borrowing, and `flask backup restore` puts it back, the same rows in every table.

The backup is taken from the demo hall while another thread borrows, returns and sends wishes
through the domain actions, each in its own committed transaction. The copy is made one page per
step, and after its first step it waits until the writer has committed more: the backup never
holds the writers up. It holds every row committed before it started and none committed after
its snapshot, nothing half-done (a tool is out exactly when it has an open loan), and passes
integrity_check. Restoring it gives, table by table, the same row counts and checksums.
Restore refuses a broken file, a file that is not a Hall Kiosk database, and a database in use.
On PostgreSQL the commands print the pg_dump/pg_restore lines, which are run here for real.
"""
import os
import shlex
import shutil
import sqlite3
import subprocess
import threading
from contextlib import closing
from pathlib import Path
from uuid import uuid4

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine

from kiosk import create_app, lending, wishes
from kiosk.backup import BACKUP_NAME, BackupRefused, check_backup, take_backup
from kiosk.extensions import db
from tests.conftest import IN_CI, Hall, config_for, postgres_schema_url
from tests.test_upgrade_with_data import differences, fingerprints

WAIT = 30  # seconds, at most, for the writer to commit while the backup is under way


def _app(tmp_path, url=None):
    return create_app(config_for(url or f"sqlite:///{tmp_path / 'kiosk.sqlite'}",
                                 BACKUP_FOLDER=str(tmp_path / "backups")))


def _migrated(app, demo=False):
    """The schema as `flask db upgrade` makes it (with alembic_version), the admin, the demo hall."""
    with app.app_context():
        upgrade()
        Hall()
        if demo:
            from kiosk.demo import load_demo

            load_demo()
        db.session.remove()
        db.engine.dispose()
    return app


def fingerprints_of(path: Path) -> dict:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return fingerprints(conn)
    finally:
        engine.dispose()


@pytest.fixture
def hall(tmp_path):
    return _migrated(_app(tmp_path))


@pytest.fixture
def demo_hall(tmp_path):
    return _migrated(_app(tmp_path), demo=True)


# --- Backing up while the hall is open ------------------------------------------------------

class Residents(threading.Thread):
    """Residents at the tablet, through the domain actions: borrow a tool, bring it back, send a
    wish, again and again. `committed` lists what was committed, in order: ("loan", id),
    ("return", id), ("wish", id)."""

    def __init__(self, url: str):
        super().__init__(name="residents")
        self.app = create_app(config_for(url))
        self.committed = []
        self.changed = threading.Condition()
        self.stop = threading.Event()
        self.error = None

    def _done(self, what: str, record_id: int) -> None:
        with self.changed:
            self.committed.append((what, record_id))
            self.changed.notify_all()

    def wait_for(self, count: int) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: len(self.committed) >= count or not self.is_alive(),
                                         timeout=WAIT) and len(self.committed) >= count

    def run(self):
        from kiosk.database import write_transaction
        from kiosk.models import Tool
        from kiosk.residents import identify_resident

        with self.app.test_request_context():
            try:
                with write_transaction():
                    people = [identify_resident(f"1370000{n:04d}", f"居民{n}", None, consent=True).id
                              for n in range(3)]
                tools = db.session.scalars(db.select(Tool.id).where(Tool.status == "available")
                                           .order_by(Tool.id).limit(3)).all()
                n = 0
                while not self.stop.is_set():
                    person, tool = people[n % 3], tools[n % 3]
                    loan = lending.borrow(tool, person, str(uuid4()), channel="kiosk")
                    self._done("loan", loan.id)
                    lending.return_tool(tool, str(uuid4()), "fine", None, channel="kiosk")
                    self._done("return", loan.id)
                    wish = wishes.submit(person, wishes.Request(kind="wish", category="daily",
                                                                description=f"第{n}个心愿 ཞུ་བ། 🙏"),
                                         str(uuid4()), channel="kiosk", limited=False)
                    self._done("wish", wish.id)
                    n += 1
            except Exception as error:  # noqa: BLE001 - reported by the test
                self.error = error
            finally:
                db.session.remove()
                db.engine.dispose()


def _in_backup(path: Path) -> dict:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return {
            "loans": {row[0] for row in conn.execute("SELECT id FROM loan")},
            "returned": {row[0] for row in conn.execute("SELECT id FROM loan WHERE returned_at IS NOT NULL")},
            "wishes": {row[0] for row in conn.execute("SELECT id FROM wish")},
            "integrity": [row[0] for row in conn.execute("PRAGMA integrity_check")],
            "dangling": conn.execute("PRAGMA foreign_key_check").fetchall(),
            # Nothing half-done: a tool is out exactly when it has an open loan.
            "torn": conn.execute("""
                SELECT t.id FROM tool t WHERE (t.status = 'on_loan') <>
                    EXISTS (SELECT 1 FROM loan l WHERE l.tool_id = t.id AND l.returned_at IS NULL)
            """).fetchall(),
        }


def test_a_backup_taken_while_residents_borrow_holds_every_row_committed_before_it(demo_hall, tmp_path):
    live = tmp_path / "kiosk.sqlite"
    residents = Residents(f"sqlite:///{live}")
    residents.start()
    try:
        assert residents.wait_for(30), residents.error  # the hall is busy
        started = list(residents.committed)
        during = {}

        def after_each_step(_status, remaining, total):
            if not during:  # after the first page: let the residents commit more before going on
                during["pages"], during["from"] = total, len(residents.committed)
                during["committed"] = residents.wait_for(during["from"] + 9)

        backup = take_backup(live, tmp_path / "backups" / "during.sqlite", pages=1, progress=after_each_step)
    finally:
        residents.stop.set()
        residents.join(WAIT)
    assert residents.error is None, residents.error
    assert during["committed"], "the residents could not commit while the backup was being taken"
    assert during["pages"] > 10  # it really went step by step

    found = _in_backup(backup.path)
    assert found["integrity"] == ["ok"] and found["dangling"] == [] and found["torn"] == []
    where = {"loan": found["loans"], "return": found["returned"], "wish": found["wishes"]}
    assert all(record_id in where[what] for what, record_id in started)  # all before it started
    later = residents.committed[during["from"]:]  # and nothing after its snapshot
    assert not any(record_id in where[what] for what, record_id in later if what != "return")
    in_tables = sum(rows for rows, _ in fingerprints_of(backup.path).values())
    assert backup.rows == in_tables + 1  # and alembic_version

    # Restore: the residents went on after the backup, so the live database has moved on.
    kept = fingerprints_of(live)
    assert differences(fingerprints_of(backup.path), kept) != {}
    result = demo_hall.test_cli_runner().invoke(args=["backup", "restore", str(backup.path), "--yes"])
    assert result.exit_code == 0, result.output
    assert differences(fingerprints_of(backup.path), fingerprints_of(live)) == {}  # every table
    [safety] = (tmp_path / "backups").glob("kiosk-before-restore-*.sqlite")
    assert differences(kept, fingerprints_of(safety)) == {}  # and what was replaced is kept
    assert f"Restored {backup.rows:,} rows" in result.output
    print(f"\n{len(started)} actions committed before the backup, {len(residents.committed)} in all; "
          f"{during['pages']} pages copied one per step; {backup.rows:,} rows in {len(backup.tables)} tables")


def test_backup_create_on_the_demo_hall(demo_hall, tmp_path):
    """`flask backup create` with no argument: instance/backups/kiosk-YYYYMMDD-HHMMSS.sqlite
    (here BACKUP_FOLDER), checked, and it says where, how big and how many rows."""
    result = demo_hall.test_cli_runner().invoke(args=["backup", "create"])
    assert result.exit_code == 0, result.output
    [made] = (tmp_path / "backups").iterdir()
    assert made.name.startswith("kiosk-") and made.suffix == ".sqlite"
    checked = check_backup(made)
    assert checked.rows > 900 and checked.revision
    assert result.output.startswith(
        f"Backed up {checked.rows:,} rows ({len(checked.tables)} tables) to {made} (")
    assert "integrity check: ok" in result.output
    assert not list(tmp_path.glob("backups/*.partial"))
    assert differences(fingerprints_of(tmp_path / "kiosk.sqlite"), fingerprints_of(made)) == {}
    print(f"\n{result.output.strip()}")


def test_backup_create_keeps_the_newest(hall, tmp_path):
    runner = hall.test_cli_runner()
    folder = tmp_path / "backups"
    assert runner.invoke(args=["backup", "create", str(folder / "first.sqlite")]).exit_code == 0
    older = ["kiosk-20250101-030000.sqlite", "kiosk-20250102-030000.sqlite", "kiosk-20250102-030000-2.sqlite"]
    others = ["kiosk-before-restore-20240101-000000.sqlite", "kiosk-before-upgrade-x-20240101-000000.sqlite",
              "notes.txt", "first.sqlite"]
    for name in older + others[:-1]:
        shutil.copy(folder / "first.sqlite", folder / name)

    result = runner.invoke(args=["backup", "create", "--keep", "2"])
    assert result.exit_code == 0, result.output
    [new] = [p.name for p in folder.glob("kiosk-2*.sqlite") if p.name not in older]
    assert sorted(p.name for p in folder.iterdir()) == sorted([new, older[2], *others])
    assert ("Deleted 2 older backup(s): kiosk-20250101-030000.sqlite, kiosk-20250102-030000.sqlite."
            in result.output)

    # A backup never overwrites a file.
    result = runner.invoke(args=["backup", "create", str(folder / "first.sqlite")])
    assert result.exit_code != 0 and "already exists" in result.output
    # PATH may be a folder, new or not; two backups in the same second get two names.
    for _ in range(2):
        assert runner.invoke(args=["backup", "create", f"{tmp_path / 'usb'}/"]).exit_code == 0
    names = sorted(p.name for p in (tmp_path / "usb").iterdir())
    assert len(names) == 2 and all(BACKUP_NAME.fullmatch(name) for name in names), names


# --- Restoring --------------------------------------------------------------------------------

def _a_backup(app, tmp_path) -> Path:
    result = app.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "good.sqlite")])
    assert result.exit_code == 0, result.output
    return tmp_path / "good.sqlite"


def test_restore_asks_first_and_says_to_stop_the_server(hall, tmp_path):
    good = _a_backup(hall, tmp_path)
    with hall.app_context():  # a change after the backup
        from kiosk.database import write_transaction
        from kiosk.residents import identify_resident

        with write_transaction():
            identify_resident("13912345678", "后来的人", None, consent=True)
        db.session.remove()
        db.engine.dispose()
    live = tmp_path / "kiosk.sqlite"
    after = fingerprints_of(live)
    runner = hall.test_cli_runner()

    result = runner.invoke(args=["backup", "restore", str(good)], input="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output
    assert "Stop the server (gunicorn) first" in result.output and str(live) in result.output
    assert fingerprints_of(live) == after and not (tmp_path / "backups").exists()

    result = runner.invoke(args=["backup", "restore", str(good)], input="y\n")
    assert result.exit_code == 0, result.output
    assert fingerprints_of(live) == fingerprints_of(good)
    [safety] = (tmp_path / "backups").glob("kiosk-before-restore-*.sqlite")
    assert fingerprints_of(safety) == after


def _refused(app, path: Path, live: Path) -> str:
    before = fingerprints_of(live)
    result = app.test_cli_runner().invoke(args=["backup", "restore", str(path), "--yes"])
    assert result.exit_code == 1, result.output
    assert fingerprints_of(live) == before  # untouched
    return result.output


def test_restore_refuses_a_broken_backup(hall, tmp_path):
    good = _a_backup(hall, tmp_path)
    broken = tmp_path / "broken.sqlite"
    data = bytearray(good.read_bytes())
    page = 4096
    assert len(data) > 8 * page
    data[5 * page + 100: 7 * page] = b"\xa5" * (2 * page - 100)  # the middle of two b-tree pages
    broken.write_bytes(bytes(data))
    output = _refused(hall, broken, tmp_path / "kiosk.sqlite")
    assert "integrity check" in output or "malformed" in output, output
    with pytest.raises(BackupRefused):
        check_backup(broken)


def test_restore_refuses_what_is_not_a_hall_kiosk_backup(hall, tmp_path):
    live = tmp_path / "kiosk.sqlite"
    other = tmp_path / "other.sqlite"
    with closing(sqlite3.connect(other)) as conn, conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("INSERT INTO notes (text) VALUES ('not ours')")
    assert "no alembic_version" in _refused(hall, other, live)

    text = tmp_path / "notes.sqlite"
    text.write_text("SQLite format 3? no: a shopping list\n" * 200)
    assert "not a readable SQLite database" in _refused(hall, text, live)

    newer = tmp_path / "newer.sqlite"
    shutil.copy(_a_backup(hall, tmp_path), newer)
    with closing(sqlite3.connect(newer)) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    assert "another version of the app" in _refused(hall, newer, live)
    assert "There is no file" in _refused(hall, tmp_path / "missing.sqlite", live)


def test_restore_refuses_a_database_in_use(hall, tmp_path):
    """A connection left open (a gunicorn worker still running) makes restore refuse."""
    good = _a_backup(hall, tmp_path)
    live = tmp_path / "kiosk.sqlite"
    worker = sqlite3.connect(live)
    try:
        worker.execute("SELECT count(*) FROM resident").fetchone()
        output = _refused(hall, good, live)
        assert "is in use (is the server still running?)" in output, output
    finally:
        worker.close()
    result = hall.test_cli_runner().invoke(args=["backup", "restore", str(good), "--yes"])
    assert result.exit_code == 0, result.output


# --- PostgreSQL -------------------------------------------------------------------------------

def test_on_postgresql_the_commands_are_printed_not_run(tmp_path):
    server = "db.district.example:5433/hall_kiosk?sslmode=require"
    app = _app(tmp_path, f"postgresql+psycopg://kiosk:s3cret@{server}")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["backup", "create", str(tmp_path / "hall.dump")])
    assert result.exit_code == 1  # a timer running it must not look as if it made a backup
    assert f"  pg_dump -Fc -f {tmp_path / 'hall.dump'} 'postgresql://kiosk@{server}'\n" in result.output
    result = runner.invoke(args=["backup", "restore", str(tmp_path / "hall.dump")])
    assert result.exit_code == 1
    assert ("  pg_restore --clean --if-exists --no-owner --single-transaction "
            f"-d 'postgresql://kiosk@{server}' {tmp_path / 'hall.dump'}\n") in result.output
    assert "s3cret" not in result.output and "~/.pgpass" in result.output
    assert not list(tmp_path.glob("*.dump"))


@pytest.mark.postgres
def test_the_printed_postgresql_commands_back_up_and_restore(request, tmp_path):
    """The lines `flask backup create|restore` print, run as printed, on the demo hall."""
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        if IN_CI:
            pytest.fail("pg_dump and pg_restore are needed in CI")
        pytest.skip("pg_dump/pg_restore not installed")
    url = postgres_schema_url(request)
    app = _migrated(_app(tmp_path, url), demo=True)
    runner = app.test_cli_runner()
    dump = tmp_path / "hall.dump"

    def printed(*args) -> list[str]:
        result = runner.invoke(args=["backup", *args])
        assert result.exit_code == 1, result.output
        [line] = [line for line in result.output.splitlines() if line.startswith("  pg_")]
        return shlex.split(line)

    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    subprocess.run(printed("create", str(dump)), check=True, env=env, capture_output=True, timeout=120)
    with app.app_context():
        with db.engine.connect() as conn:
            before = fingerprints(conn)
        with db.engine.begin() as conn:  # a bad day: the class register is lost, the tools overwritten
            conn.exec_driver_sql("DELETE FROM attendance")
            conn.exec_driver_sql("UPDATE tool SET note = 'overwritten'")
        db.engine.dispose()
    subprocess.run(printed("restore", str(dump)), check=True, env=env, capture_output=True, timeout=120)
    with app.app_context():
        with db.engine.connect() as conn:
            assert differences(before, fingerprints(conn)) == {}
            assert before["attendance"][0] > 0
        db.engine.dispose()
