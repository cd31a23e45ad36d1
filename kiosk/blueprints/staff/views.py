"""The hall tablets; the back office's home is in dashboard.py, the tool shop's pages in
tools.py, loans.py and printing.py, all registered on the same blueprint."""
from flask import redirect, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ... import devices
from ...extensions import db
from ...models import KioskDevice
from ...web import render
from . import STAFF_MENU, bp
from . import (accounts, activities, alliance, audit_log, classes, dashboard, ledger, loans,  # noqa: F401
               printing, report, residents, settings_page, tea, tools, translations, wishes,
               worklog)  # (their routes join)
from .forms import EnrolDeviceForm

__all__ = ["bp", "STAFF_MENU"]

STAFF_MENU.extend([
    ("staff.tool_list", _l("Tools")),
    ("staff.kind_list", _l("Tool kinds")),
    ("staff.ledger", _l("Loans")),
    ("staff.donations", _l("Donations")),
    ("staff.poster", _l("Shop poster")),
])

# Each area adds its pages as it is imported; the menu shows them in the order of the hall's
# day: the flows first, then the community's records, then the shop's upkeep, then the admins'.
MENU_ORDER = [
    "staff.tool_list", "staff.ledger", "staff.course_list", "staff.activity_list", "staff.wish_list",
    "staff.volunteer_list", "staff.partner_list", "staff.tea_list", "staff.concern_list", "staff.meeting_list",
    "staff.match_list", "staff.worklog_list", "staff.resident_list", "staff.report", "staff.kind_list",
    "staff.donations", "staff.poster", "staff.translation_review", "staff.account_list", "staff.audit_list",
    "staff.settings",
]
STAFF_MENU.sort(key=lambda entry: MENU_ORDER.index(entry[0]) if entry[0] in MENU_ORDER else len(MENU_ORDER))


@bp.get("/devices")
def device_list():
    """Hall tablets enrolled so far, and a button to enrol this browser."""
    devices_ = db.session.scalars(select(KioskDevice).order_by(KioskDevice.enrolled_at.desc())).all()
    return render("staff/devices.html", devices=devices_, form=EnrolDeviceForm(),
                  this_device=devices.current_device())


@bp.post("/devices")
def enrol_device():
    """Mark this browser as the hall tablet (done once, on the tablet, by a staff member)."""
    form = EnrolDeviceForm()
    if not form.validate_on_submit():
        devices_ = db.session.scalars(select(KioskDevice)).all()
        return render("staff/devices.html", devices=devices_, form=form,
                      this_device=devices.current_device(), status=422)
    device = devices.enrol(form.name.data, current_user.id)
    response = redirect(url_for("kiosk.home"), 303)
    devices.set_cookie(response, device)
    return response


@bp.post("/devices/<int:device_id>/revoke")
def revoke_device(device_id):
    devices.revoke(device_id)
    return redirect(url_for(".device_list"), 303)
