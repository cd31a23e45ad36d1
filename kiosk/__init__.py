"""Hall Kiosk: the service hall's tablet, residents' phones and staff back office."""
import os
from pathlib import Path

from flask import Flask

MIGRATIONS = str(Path(__file__).parent / "migrations")


def create_app(test_config=None, *, commands=True):
    """Build the app. Nothing happens at import time; tests pass their own config.

    commands=False is the app as gunicorn serves it (kiosk.wsgi): without the `flask` commands,
    and so without Flask-Migrate, whose Alembic and Mako would take 11 MB in every web worker
    that never migrates anything (issue 9: at most 120 MB a worker).
    """
    from . import audit, auth, cli, database, devices, errors, i18n, limits, logs, web
    from .blueprints import register_blueprints
    from .config import load_config
    from .extensions import csrf, db, htmx

    # KIOSK_INSTANCE_PATH moves instance/ (config.py, secret_key, the SQLite file) elsewhere,
    # e.g. /var/lib/hall-kiosk on a server; unset, it is instance/ next to the code.
    instance_path = os.environ.get("KIOSK_INSTANCE_PATH") or None
    app = Flask(__name__, instance_relative_config=True,
                instance_path=os.path.abspath(instance_path) if instance_path else None)
    load_config(app, test_config)
    logs.init_app(app)  # first: nothing logged from here on shows a mobile number or password

    db.init_app(app)
    if commands:
        from flask_migrate import Migrate

        Migrate(app, db, directory=MIGRATIONS, render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    database.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    audit.init_app(app)
    devices.init_app(app)
    web.init_app(app)
    register_blueprints(app)
    limits.init_app(app)
    errors.init_app(app)
    if commands:
        cli.init_app(app)
    return app
