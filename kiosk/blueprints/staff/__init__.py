"""The staff back office: everything under /staff needs a staff login.

The blueprint lives here so that each area's views (views.py, tools.py, loans.py,
printing.py) can add routes to it without importing one another.
"""
from flask import Blueprint
from flask_login import login_required

from .words import template_helpers

bp = Blueprint("staff", __name__)

# The back-office menu, in order: (endpoint, label). Each area adds its pages here.
STAFF_MENU: list[tuple[str, object]] = []


@bp.app_context_processor
def _menu():
    return {"staff_menu": lambda: STAFF_MENU}


bp.context_processor(template_helpers)


@bp.before_request
@login_required
def _staff_only():
    """Every back-office page needs a logged-in staff member."""
