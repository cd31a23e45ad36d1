"""The staff back office: everything under /staff needs a staff login.

The blueprint lives here so that each area's views (views.py, tools.py, loans.py,
printing.py) can add routes to it without importing one another.
"""
from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required
from markupsafe import Markup

from ...cache import remembered
from ...i18n import current_lang

from .words import template_helpers

bp = Blueprint("staff", __name__)

# The back-office menu, in order: (endpoint, label). Each area adds its pages here.
STAFF_MENU: list[tuple[str, object]] = []

# Who may open which page. Staff and admins open every page except those marked admin_only;
# teachers and coordinators open only the pages marked open to their role. may_open decides,
# for the menu and for every request alike.
OPEN_TO: dict[str, set[str]] = {}
ADMIN_PAGES: set[str] = set()


def open_to(*roles):
    """Mark a back-office view as open to these roles too (beyond staff and admin)."""
    def mark(view):
        OPEN_TO.setdefault(f"{bp.name}.{view.__name__}", set()).update(roles)
        return view
    return mark


# Teachers: their classes' rosters and attendance; coordinators: wishes, volunteers, partner units.
for_teachers = open_to("teacher")
for_coordinators = open_to("coordinator")


def admin_only(view):
    """Staff accounts, settings, the audit log, personal-data requests: admins only."""
    ADMIN_PAGES.add(f"{bp.name}.{view.__name__}")
    return view


def may_open(user, endpoint: str) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_admin:
        return True
    if endpoint in ADMIN_PAGES:
        return False
    if user.role == "staff":
        return True
    return user.role in OPEN_TO.get(endpoint, ())


def _menu_for_user():
    return [(endpoint, label) for endpoint, label in STAFF_MENU if may_open(current_user, endpoint)]


def staff_nav() -> Markup:
    """The back-office menu as HTML, drawn once an hour per role and language.

    It depends on nothing else (the pages a role may open are fixed when the app starts), and
    drawing it on every page, with a translated label and an address for each of its two dozen
    entries, cost more than many pages' own content.
    """
    user = current_user._get_current_object()
    return remembered(("staff-nav", user.role, current_lang()), 3600,
                      lambda: Markup(render_template("staff/_nav.html", me=user, menu=_menu_for_user())))


@bp.app_context_processor
def _menu():
    return {"staff_nav": staff_nav, "may_open": lambda endpoint: may_open(current_user, endpoint)}


bp.context_processor(template_helpers)


@bp.before_request
@login_required
def _staff_only():
    """Every back-office page needs a logged-in staff member, and a role that may open it."""
    if not may_open(current_user, request.endpoint):
        abort(403)
