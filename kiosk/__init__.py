"""Hall Kiosk: the service hall's tablet, residents' phones and staff back office."""
from pathlib import Path

from flask import Flask

MIGRATIONS = str(Path(__file__).parent / "migrations")


def create_app(test_config=None):
    """Build the app. Nothing happens at import time; tests pass their own config."""
    from . import auth, cli, database, devices, errors, i18n, web
    from .blueprints import register_blueprints
    from .config import load_config
    from .extensions import csrf, db, htmx, migrate

    app = Flask(__name__, instance_relative_config=True)
    load_config(app, test_config)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS, render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    database.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    devices.init_app(app)
    web.init_app(app)
    register_blueprints(app)
    errors.init_app(app)
    cli.init_app(app)
    return app
