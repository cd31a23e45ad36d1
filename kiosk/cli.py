"""Command-line tasks: `flask setup` (admin account, demo data) and `flask staff create`."""
import secrets

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy import func, select

from .auth import create_staff
from .backup import backup_commands, db_upgrade_safely
from .extensions import db
from .models import StaffUser, Tool
from .models.people import ROLES
from .refusal import Refusal


def _in_english(refusal: Refusal) -> str:
    """A refusal's message for the terminal: in English, the language of the commands' help."""
    with current_app.test_request_context(), force_locale("en"):
        return refusal.message


def init_app(app):
    app.cli.add_command(setup)
    app.cli.add_command(staff)
    app.cli.add_command(residents)
    app.cli.add_command(backup_commands)
    app.cli.add_command(db_upgrade_safely)


@click.command()
@click.option("--demo-if-empty", is_flag=True, help="Load the demo hall when there are no tools yet.")
@with_appcontext  # the `flask` command pushes one anyway; app.test_cli_runner() does not
def setup(demo_if_empty):
    """Create the first admin account (user name `admin`) and, if asked, the demo hall."""
    if db.session.scalar(select(func.count()).select_from(StaffUser)) == 0:
        password = current_app.config.get("ADMIN_PASSWORD")
        shown = not password
        password = password or secrets.token_urlsafe(12)
        try:
            create_staff("admin", password, role="admin", display_name="Admin")
        except Refusal as refusal:
            raise click.ClickException(f"KIOSK_ADMIN_PASSWORD: {_in_english(refusal)}") from None
        if shown:
            # Printed once: it is not kept anywhere in clear text.
            click.echo(f"Created the admin account. User name: admin  Password: {password}")
            click.echo("Write it down now; set KIOSK_ADMIN_PASSWORD to choose your own.")
        else:
            click.echo("Created the admin account (password from KIOSK_ADMIN_PASSWORD).")
    if demo_if_empty and db.session.scalar(select(func.count()).select_from(Tool)) == 0:
        from .demo import load_demo

        teacher_password = load_demo()
        click.echo("Loaded the demo hall.")
        click.echo(f"Demo teacher account (the English class): teacher  Password: {teacher_password}")


@click.group()
def staff():
    """Staff accounts."""


@staff.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="staff")
@click.option("--name", "display_name", default=None, help="The name shown in the back office.")
@click.password_option(help="At least 8 characters, not a common password.")
@with_appcontext
def create(username, role, display_name, password):
    """Create a staff account (asks for the password twice)."""
    if db.session.scalar(select(StaffUser).where(StaffUser.username == username.strip().lower())):
        raise click.ClickException(f"The user name {username!r} is taken.")
    try:
        user = create_staff(username, password, role=role, display_name=display_name)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    except Refusal as refusal:
        raise click.ClickException(_in_english(refusal)) from None
    click.echo(f"Created {user.role} {user.username}.")


@click.group()
def residents():
    """Residents' personal data."""


@residents.command("anonymise-inactive")
@click.option("--dry-run", is_flag=True, help="Only count who would be anonymised.")
@with_appcontext
def anonymise_inactive(dry_run):
    """Erase the personal data of residents inactive for RETENTION_YEARS (0: never); run it daily."""
    from . import audit, people
    from .lending import hall_today

    years = people.retention_years()
    if not years:
        click.echo("RETENTION_YEARS is 0: nobody is anonymised.")
        return
    with audit.acting_as(None):  # the system, in the audit log
        done = people.anonymise_inactive(years, hall_today(), dry_run=dry_run)
    verb = "Would anonymise" if dry_run else "Anonymised"
    click.echo(f"{verb} {len(done)} resident(s) inactive for {years} year(s)"
               + (f": {', '.join(f'#{i}' for i in done)}." if done else "."))
