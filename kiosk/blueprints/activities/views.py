"""One-off activities for residents: on phones (/a/<code>, from the activity poster's QR, a public
address) and on the hall tablet (/kiosk/a/..., from the activities tile).

Views are thin: they read forms, call kiosk.activities and pick what to show; every seat and
waiting-list rule lives there (and in kiosk.places, shared with the English class). The receipt
page shows nothing but the masked mobile, because anyone holding the code may open it.
"""
from flask import Blueprint, abort, redirect, url_for
from flask_babel import lazy_gettext as _l

from ... import activities, visitor
from ...forms import CodeLookupForm, look_up_code, refusal_to_field
from ...qr import activity_receipt_url, qr_svg
from ...refusal import Refusal
from ...web import new_token, render, surface
from .forms import SignUpForm

bp = Blueprint("activities", __name__)


def _activity_or_404(code: str):
    activity = activities.find_activity(code)
    if activity is None:
        abort(404)
    return activity


def _sign_up_or_404(activity, receipt: str):
    place = activities.find_sign_up(activity, receipt)
    if place is None:
        abort(404)
    return place


@bp.get("/a/")
def activity_list():
    """The coming activities, soonest first (cancelled ones say so)."""
    coming = activities.coming()
    return render("activities/list.html", coming=coming, seats=activities.seats_of(coming))


def _activity_page(activity, lookup, status=200):
    return render("activities/activity.html", activity=activity, seats=activities.seats(activity),
                  open=_is_open(activity), lookup=lookup, status=status)


def _is_open(activity) -> bool:
    try:
        activities.check_open(activity)
    except Refusal:
        return False
    return True


@bp.get("/a/<code>")
def activity(code):
    """What the activity poster's QR opens (a public address): what, when, where, who organises it,
    the places left, and the way to sign up or to find a receipt."""
    activity = _activity_or_404(code)
    if code != activity.code:  # posters are case-insensitive; show the one spelling we print
        return redirect(url_for(".activity", code=activity.code), 301)
    return _activity_page(activity, CodeLookupForm())


@bp.get("/a/<code>/find")
def find_receipt(code):
    """A resident types the receipt code (on the tablet, or a phone that lost the page)."""
    activity = _activity_or_404(code)
    return look_up_code(
        lambda receipt: activities.find_sign_up(activity, receipt),
        _l("We have no sign-up with this code for this activity. Please check the code."),
        lambda lookup, status: _activity_page(activity, lookup, status),
        lambda place: url_for(".receipt", code=activity.code, receipt=place.receipt))


def _form_page(activity, form, status=200, refusal=None):
    return render("activities/sign_up.html", activity=activity, form=form, seats=activities.seats(activity),
                  open=_is_open(activity), refusal=refusal, status=status)


@bp.get("/a/<code>/sign-up")
def sign_up_start(code):
    activity = _activity_or_404(code)
    form = SignUpForm(formdata=None, token=new_token())
    resident = visitor.current_resident()  # a phone may remember its resident; the tablet never
    if resident is not None and resident.mobile:
        form.name.data, form.mobile.data = resident.name, resident.mobile
    return _form_page(activity, form)


@bp.post("/a/<code>/sign-up")
def sign_up(code):
    """Sign up: a seat while there is one, else the waiting list. A double tap sends the same token
    twice and gets the same receipt."""
    activity = _activity_or_404(code)
    form = SignUpForm()
    if not form.validate_on_submit():
        return _form_page(activity, form, status=422)
    try:
        place = activities.sign_up_resident(activity, form.mobile.data, form.name.data, form.consent.data,
                                            form.token.data, channel="kiosk" if surface() == "kiosk" else "phone")
    except Refusal as refusal:
        shown = refusal_to_field(form, refusal)
        return _form_page(activity, form, status=422 if shown else refusal.status,
                          refusal=None if shown else refusal)
    if surface() == "kiosk":
        # The tablet shows the receipt once, with a QR to take it home, then forgets it.
        return _receipt_page(activity, place, just_signed_up=True)
    response = redirect(url_for(".receipt", code=activity.code, receipt=place.receipt), 303)
    visitor.remember(response, place.resident)
    return response


@bp.get("/a/<code>/r/<receipt>")
def receipt(code, receipt):
    """The resident's status page: a seat, or the place on the waiting list; cancel."""
    activity = _activity_or_404(code)
    place = _sign_up_or_404(activity, receipt)
    if receipt != place.receipt or code != activity.code:
        return redirect(url_for(".receipt", code=activity.code, receipt=place.receipt), 301)
    return _receipt_page(activity, place)


def _receipt_page(activity, place, just_signed_up=False):
    take_home = qr_svg(activity_receipt_url(activity.code, place.receipt)) \
        if surface() == "kiosk" and just_signed_up else None
    return render("activities/receipt.html", activity=activity, place=place,
                  waiting_place=activities.waiting_place(place), formatted=activities.format_receipt(place.receipt),
                  take_home=take_home)


@bp.get("/a/<code>/r/<receipt>/cancel")
def cancel_start(code, receipt):
    """"Are you sure?" before a place is given up: the next on the waiting list takes it at once."""
    activity = _activity_or_404(code)
    place = _sign_up_or_404(activity, receipt)
    if place.status not in ("confirmed", "waiting"):
        return redirect(url_for(".receipt", code=activity.code, receipt=place.receipt), 303)
    return render("activities/cancel.html", activity=activity, place=place)


@bp.post("/a/<code>/r/<receipt>/cancel")
def cancel(code, receipt):
    """The resident gives up the place; the first on the waiting list moves up at once. Twice (a
    double tap) is harmless. The receipt code in the address is what proves it is theirs."""
    activity = _activity_or_404(code)
    place = _sign_up_or_404(activity, receipt)
    ended = activities.cancel_place(place.id)
    if surface() == "kiosk":
        return _receipt_page(activity, ended.sign_up)
    return redirect(url_for(".receipt", code=activity.code, receipt=place.receipt), 303)
