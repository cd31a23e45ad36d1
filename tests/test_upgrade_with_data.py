"""Upgrades keep every row: from the first schema to today's, on SQLite and on PostgreSQL.

An empty database is migrated to the first revision and every table is filled with generated
rows (Tibetan, Chinese, emoji and quotes in the text, dates, times, JSON). Then it is upgraded
one revision at a time; before each step every table is fingerprinted (its row count and a hash
of its sorted rows), and after the step the same columns must give the same fingerprint. After
each step the tables that step created get rows too, and every older table a few more (which
fill the columns that step added), so each migration runs on a database with data in every
table it touches. The rows are generated from the reflected schema, not written by hand, so a
table a later migration adds is filled and checked without anyone touching this test.

The demo hall (kiosk.demo) is then loaded on a database at head, downgraded one revision and
upgraded again: every table comes back the same. `flask db-upgrade-safely` backs the SQLite
database up before it migrates anything.
"""
import hashlib
import json
import re
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, LargeBinary, MetaData, Time, inspect, select
from sqlalchemy.exc import IntegrityError

from kiosk import create_app
from kiosk.extensions import db
from tests.conftest import Hall, config_for, postgres_schema_url

NEW_ROWS = 12  # rows in a table at the step that creates it
MORE_ROWS = 3  # rows added to every older table at each later step
TEXT = "ཁྱིམ་ཚང་ 次仁卓玛 😀 \"q\" 'a' ０１"
BOOKKEEPING = "alembic_version"


def revisions(app) -> list[str]:
    """The migrations, oldest first."""
    scripts = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]


# --- Fingerprints ---------------------------------------------------------------------------

def _plain(value) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return repr(value)


def rows_of(conn, columns: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    """{table: its rows, each as one string, sorted} over `columns` ({table: [column, ...]};
    default: every column of every table). Values as the driver returns them, unconverted: a
    change in how a value is stored (a date turned into text, a number into a string) shows."""
    columns = column_names(conn) if columns is None else columns
    found = {}
    for table, names in sorted(columns.items()):
        quoted = ", ".join(f'"{name}"' for name in names)
        found[table] = sorted("\x1f".join(_plain(v) for v in row)
                              for row in conn.exec_driver_sql(f'SELECT {quoted} FROM "{table}"'))
    return found


def fingerprints(conn, columns: dict[str, list[str]] | None = None) -> dict[str, tuple[int, str]]:
    """{table: (rows, sha256 of its rows sorted)}: equal when the rows are, in any order."""
    return {table: (len(rows), hashlib.sha256("\x1e".join(rows).encode()).hexdigest())
            for table, rows in rows_of(conn, columns).items()}


def column_names(conn) -> dict[str, list[str]]:
    inspector = inspect(conn)
    return {name: [c["name"] for c in inspector.get_columns(name)]
            for name in inspector.get_table_names() if name != BOOKKEEPING}


def differences(before: dict, after: dict) -> dict:
    return {table: (before[table], after.get(table)) for table in before if after.get(table) != before[table]}


# --- Rows that the schema accepts -----------------------------------------------------------

def _choices(table, checks) -> dict[str, list[str]]:
    """The values a CHECK allows for one column: "status IN ('a', 'b')" on SQLite, and
    "((status)::text = ANY (ARRAY['a'::character varying, …]))" as PostgreSQL reflects it."""
    found = {}
    for check in checks:
        text = check["sqltext"]
        literals = re.findall(r"'((?:[^']|'')*)'", text)
        bare = re.sub(r"'(?:[^']|'')*'", "", text)
        named = [c.name for c in table.columns if re.search(rf"\b{re.escape(c.name)}\b", bare)]
        if len(named) == 1 and literals:
            found[named[0]] = list(dict.fromkeys(literals))
    return found


def _unique_columns(table, inspector) -> set[str]:
    names = set(table.primary_key.columns.keys())
    for constraint in inspector.get_unique_constraints(table.name):
        names.update(constraint["column_names"])
    for index in inspector.get_indexes(table.name):
        if index.get("unique"):
            names.update(index["column_names"])
    return names


class Filler:
    """Inserts generated rows into reflected tables, each in a savepoint: a row the constraints
    refuse is tried again with another allowed value or with optional columns left empty."""

    def __init__(self, conn):
        self.conn = conn
        self.inspector = inspect(conn)
        self.metadata = MetaData()
        self.metadata.reflect(bind=conn)
        self.inserted = 0

    def fill(self, counts: dict[str, int]) -> None:
        """Add counts[table] rows to each named table, parents before children."""
        for table in self.metadata.sorted_tables:
            if counts.get(table.name):
                self._fill_table(table, counts[table.name])

    def _fill_table(self, table, n: int) -> None:
        choices = _choices(table, self.inspector.get_check_constraints(table.name))
        unique = _unique_columns(table, self.inspector)
        single_pk = [c for c in table.primary_key.columns if isinstance(c.type, Integer)]
        generated = {single_pk[0].name} if len(table.primary_key.columns) == 1 and single_pk else set()
        start = self.conn.scalar(select(db.func.count()).select_from(table))
        for i in range(start, start + n):
            self._insert_one(table, i, choices, unique, generated)

    def _insert_one(self, table, i, choices, unique, generated) -> None:
        optional = [c.name for c in table.columns if c.nullable and c.name not in generated]
        error = None
        for shift in range(max([len(v) for v in choices.values()] or [1])):
            row = self._row(table, i, shift, choices, unique, generated)
            # As it is, then one optional column left empty, then all but one, then all.
            singles = [(name,) for name in optional]
            all_but_one = [tuple(other for other in optional if other != name) for name in optional]
            for empty in [(), *singles, *all_but_one, tuple(optional)]:
                try:
                    with self.conn.begin_nested():
                        self.conn.execute(table.insert(), {**row, **dict.fromkeys(empty)})
                    self.inserted += 1
                    return
                except IntegrityError as refused:
                    error = refused
        pytest.fail(f"No generated row of {table.name} passes its constraints: {error}")

    def _row(self, table, i, shift, choices, unique, generated) -> dict:
        row = {}
        # Foreign keys first, the composite ones before the single ones that share their columns
        # (registration's (course_id, seat) -> course_seat, and course_id -> course).
        for fk in sorted(table.foreign_key_constraints, key=lambda fk: -len(fk.columns)):
            mine = [c.name for c in fk.columns]
            if all(name in row for name in mine):
                continue
            theirs = [element.column for element in fk.elements]
            parents = self.conn.execute(select(*theirs).order_by(*theirs)).all()
            if fk.referred_table is table:  # a row pointing at an earlier one of its own table
                parents = parents[:i]
            picked = parents[i % len(parents)] if parents else [None] * len(mine)
            row.update(zip(mine, picked))
        for position, column in enumerate(table.columns):
            if column.name in row or column.name in generated:
                continue
            if column.name in choices:
                allowed = choices[column.name]
                row[column.name] = allowed[(i + shift) % len(allowed)]
            else:
                row[column.name] = _value(column, i, position, column.name in unique)
        return row


def _value(column, i: int, position: int, unique: bool):
    """A value of the column's type for row i. Dates and times grow with the column's position,
    so that checks like starts_on <= ends_on and starts_at < ends_at hold; small integers keep
    within checks like `rating BETWEEN 1 AND 5`, unique ones count up."""
    kind = column.type
    if isinstance(kind, Boolean):
        return i % 2 == 0
    if isinstance(kind, Integer):
        return i + 1 if unique else i % 5 + 1
    if isinstance(kind, DateTime):
        return datetime(2025, 3, 1, 8, 30, 15, 123456) + timedelta(days=i * 50 + position)
    if isinstance(kind, Date):
        return date(2025, 3, 1) + timedelta(days=i * 50 + position)
    if isinstance(kind, Time):
        minutes = 6 * 60 + position * 15 + i % 10
        return time(minutes // 60, minutes % 60)
    if isinstance(kind, JSON):
        return {"row": i, "text": TEXT, "list": [1, "二", None]}
    if isinstance(kind, LargeBinary):
        return bytes([i % 256]) * 4
    text = f"{i}·{column.name}·{TEXT}"
    length = getattr(kind, "length", None)
    return text[:length] if length else text


# --- The tests ------------------------------------------------------------------------------

def test_every_row_survives_every_migration(db_url):
    app = create_app(config_for(db_url))
    with app.app_context():
        first, *later = revisions(app)
        upgrade(revision=first)
        with db.engine.begin() as conn:
            tables = column_names(conn)
            Filler(conn).fill(dict.fromkeys(tables, NEW_ROWS))
            at_first = rows_of(conn)
        assert all(len(rows) == NEW_ROWS for rows in at_first.values()), at_first

        for revision in later:
            with db.engine.connect() as conn:
                columns = column_names(conn)
                before = fingerprints(conn, columns)
            upgrade(revision=revision)
            with db.engine.begin() as conn:
                after = fingerprints(conn, columns)
                assert differences(before, after) == {}, f"rows changed by {revision}"
                now = column_names(conn)
                Filler(conn).fill({table: MORE_ROWS if table in columns else NEW_ROWS for table in now})

        with db.engine.connect() as conn:
            # Every row of the first schema is at head, column for column (among the rows added since).
            now = rows_of(conn, tables)
            assert {t: Counter(rows) - Counter(now[t]) for t, rows in at_first.items()} == dict.fromkeys(
                at_first, Counter())
            final = fingerprints(conn)
            assert all(rows >= NEW_ROWS for rows, _ in final.values()), final
            assert MigrationContext.configure(conn).get_current_revision() == later[-1]
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], diff  # head with data is the models' schema
        print(f"\n{len(later) + 1} revisions; {len(final)} tables, {sum(r for r, _ in final.values())} rows "
              f"checked at head ({len(at_first)} tables, {sum(map(len, at_first.values()))} rows "
              f"from the first schema)")
        db.engine.dispose()


def _created_by(app, revision: str) -> set[str]:
    scripts = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    script = scripts.get_revision(revision)
    return set(re.findall(r"op\.create_table\('(\w+)'", Path(script.path).read_text()))


def test_the_demo_hall_survives_a_downgrade_and_an_upgrade(db_url):
    """Head -> the previous revision -> head with the demo hall in it. The tables the head
    revision creates are dropped by its downgrade (that is what a downgrade is): their rows are
    saved first and put back after the upgrade. Then every table is as it was."""
    from kiosk.demo import load_demo

    app = create_app(config_for(db_url))
    with app.app_context():
        *_, previous, head = revisions(app)
        upgrade()
        Hall()
        load_demo()
        db.session.remove()
        with db.engine.connect() as conn:
            before = fingerprints(conn)
            metadata, created = MetaData(), _created_by(app, head)
            metadata.reflect(bind=conn, only=list(created))  # (and the tables they point to)
            saved = {t: conn.execute(select(t)).mappings().all()
                     for t in metadata.sorted_tables if t.name in created}

        downgrade(revision=previous)
        with db.engine.connect() as conn:
            kept = column_names(conn)
            assert set(before) - set(kept) == _created_by(app, head)
            assert differences({t: before[t] for t in kept}, fingerprints(conn)) == {}

        upgrade()
        with db.engine.begin() as conn:
            assert differences({t: before[t] for t in kept}, fingerprints(conn, kept)) == {}
            for table in reversed(saved):  # the head revision may seed rows of its own (work kinds)
                conn.execute(table.delete())
            for table, rows in saved.items():
                if rows:
                    conn.execute(table.insert(), [dict(row) for row in rows])
            after = fingerprints(conn)
        assert differences(before, after) == {}
        assert set(after) == set(before)
        with_rows = [table for table, (rows, _) in before.items() if rows]
        print(f"\ndemo hall: {len(with_rows)} of {len(before)} tables hold rows, "
              f"{sum(rows for rows, _ in before.values())} rows; {head} -> {previous} -> {head} keeps "
              f"{len(kept)} tables ({sum(before[t][0] for t in kept)} rows) and drops "
              f"{len(saved)} ({sum(len(r) for r in saved.values())} rows, put back)")
        db.engine.dispose()


FAILING = '''"""a migration that fails half-way (test only)"""
from alembic import op
import sqlalchemy as sa

revision = 'f00dfa11ed00'
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('half_done', sa.Column('id', sa.Integer(), primary_key=True))
    with op.batch_alter_table('resident') as batch_op:
        batch_op.add_column(sa.Column('half', sa.String(10), nullable=True))
    op.execute("UPDATE loan SET return_note = 'changed'")
    raise ValueError('failed half-way')


def downgrade():
    pass
'''


def test_a_migration_that_fails_half_way_changes_nothing(db_url, tmp_path):
    """All the pending migrations run in one transaction, on SQLite too: a failure rolls back
    the tables it made, the columns it added, the rows it changed and the revision."""
    import shutil

    app = create_app(config_for(db_url))
    copy = tmp_path / "migrations"
    shutil.copytree(Path(app.extensions["migrate"].directory), copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    with app.app_context():
        *_, head = revisions(app)
        (copy / "versions" / "f00dfa11ed00_fails.py").write_text(FAILING.format(head=head))
        upgrade()
        with db.engine.begin() as conn:
            Filler(conn).fill(dict.fromkeys(column_names(conn), 4))
            before = fingerprints(conn)
        with pytest.raises(ValueError, match="failed half-way"):
            upgrade(directory=str(copy))
        with db.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head
            assert fingerprints(conn) == before  # no half_done table, no resident.half, no note changed
        db.engine.dispose()


def _app_with_backups(url: str, tmp_path):
    return create_app(config_for(url, BACKUP_FOLDER=str(tmp_path / "backups")))


def test_db_upgrade_safely_backs_the_database_up_before_migrating(tmp_path):
    from sqlalchemy import create_engine

    app = _app_with_backups(f"sqlite:///{tmp_path / 'kiosk.sqlite'}", tmp_path)
    folder = tmp_path / "backups"
    with app.app_context():
        *_, previous, head = revisions(app)
        upgrade(revision=previous)
        with db.engine.begin() as conn:
            Filler(conn).fill(dict.fromkeys(column_names(conn), 5))
            before = rows_of(conn)
        db.engine.dispose()

    result = app.test_cli_runner().invoke(args=["db-upgrade-safely"])
    assert result.exit_code == 0, result.output
    [copy] = folder.iterdir()
    assert copy.name.startswith(f"kiosk-before-upgrade-{previous}-") and str(copy) in result.output
    assert f"Backed up {sum(map(len, before.values())) + 1:,} rows" in result.output  # + alembic_version
    engine = create_engine(f"sqlite:///{copy}")
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == previous
        assert rows_of(conn) == before
    engine.dispose()
    with app.app_context():
        with db.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head
        db.engine.dispose()

    # Up to date: nothing to migrate, no backup.
    result = app.test_cli_runner().invoke(args=["db-upgrade-safely"])
    assert result.exit_code == 0 and "up to date" in result.output, result.output
    assert list(folder.iterdir()) == [copy]


def test_db_upgrade_safely_on_a_new_database_backs_nothing_up(tmp_path):
    app = _app_with_backups(f"sqlite:///{tmp_path / 'new.sqlite'}", tmp_path)
    result = app.test_cli_runner().invoke(args=["db-upgrade-safely"])
    assert result.exit_code == 0, result.output
    assert "A new database: nothing to back up." in result.output
    assert not (tmp_path / "backups").exists()
    with app.app_context():
        with db.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == revisions(app)[-1]
        db.engine.dispose()


@pytest.mark.postgres
def test_db_upgrade_safely_on_postgresql_asks_for_a_dump_first(request, tmp_path):
    """The pg_dump command for the configured database is printed, never run, and nothing is
    migrated until the operator says the dump is taken."""
    url = postgres_schema_url(request)
    schema = url.rsplit("%3D", 1)[1]
    app = _app_with_backups(url, tmp_path)
    with app.app_context():
        *_, previous, head = revisions(app)
        upgrade(revision=previous)
        db.engine.dispose()
    result = app.test_cli_runner().invoke(args=["db-upgrade-safely"], input="n\n")
    assert result.exit_code == 1, result.output
    assert (f"pg_dump -Fc -n {schema} -f {tmp_path / 'backups'}/kiosk-before-upgrade-{previous}-"
            in result.output)
    assert "postgresql://postgres@127.0.0.1:5432/test" in result.output
    with app.app_context():
        with db.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == previous  # not migrated
        db.engine.dispose()

    result = app.test_cli_runner().invoke(args=["db-upgrade-safely", "--yes"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        with db.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head
        db.engine.dispose()
