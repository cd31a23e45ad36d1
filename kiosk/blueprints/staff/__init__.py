"""The staff back office: everything under /staff needs a staff login.

The blueprint lives here so that each area's views (views.py, tools.py, loans.py,
printing.py) can add routes to it without importing one another.
"""
from flask import Blueprint, abort, request
from flask_login import current_user, login_required

from .words import template_helpers

bp = Blueprint("staff", __name__)

# The back-office menu, in order: (endpoint, label). Each area adds its pages here.
STAFF_MENU: list[tuple[str, object]] = []
# The pages a teacher may open (their classes' rosters and attendance); everything else is 403.
TEACHER_PAGES: set[str] = set()


def for_teachers(view):
    """Mark a back-office view as open to the `teacher` role too."""
    TEACHER_PAGES.add(f"{bp.name}.{view.__name__}")
    return view


def _menu_for_user():
    if current_user.is_authenticated and current_user.is_teacher:
        return [(endpoint, label) for endpoint, label in STAFF_MENU if endpoint in TEACHER_PAGES]
    return STAFF_MENU


@bp.app_context_processor
def _menu():
    return {"staff_menu": _menu_for_user}


bp.context_processor(template_helpers)


@bp.before_request
@login_required
def _staff_only():
    """Every back-office page needs a logged-in staff member; a teacher sees only the class pages."""
    if current_user.is_teacher and request.endpoint not in TEACHER_PAGES:
        abort(403)
