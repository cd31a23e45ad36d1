"""The staff back office: everything here needs a staff login."""
from flask import Blueprint, redirect, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ... import devices, lending
from ...extensions import db
from ...models import KioskDevice
from ...web import render
from .forms import EnrolDeviceForm

bp = Blueprint("staff", __name__)

# The back-office menu, in order: (endpoint, label). Each area adds its pages here.
STAFF_MENU: list[tuple[str, object]] = []


@bp.app_context_processor
def _menu():
    return {"staff_menu": lambda: STAFF_MENU}


@bp.before_request
@login_required
def _staff_only():
    """Every back-office page needs a logged-in staff member."""


@bp.get("/")
def dashboard():
    """What is out, what is overdue, what is in repair, at a glance."""
    return render("staff/dashboard.html", overview=lending.overview())


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
