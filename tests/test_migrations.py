"""Schema changes ship as migrations: upgrading an empty database gives exactly the models' schema."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from kiosk import create_app
from kiosk.extensions import db
from tests.conftest import config_for


def test_migrations_match_the_models_and_round_trip(db_url):
    app = create_app(config_for(db_url))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], diff
        indexes = {ix["name"] for ix in inspect(db.engine).get_indexes("loan")}
        assert {"uq_loan_open_tool", "uq_loan_open_slot"} <= indexes
        downgrade(revision="base")
        assert "loan" not in inspect(db.engine).get_table_names()
        db.engine.dispose()
