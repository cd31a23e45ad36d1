"""Back office: one-off activities, their sign-ups, the waiting list, attendance, the CSV, the poster.

Views read a form, call kiosk.activities and show the result; every rule about seats, the waiting
list, closing and attendance is decided there. Staff and admins only: they see residents' full
numbers, as tel: links, because they are the ones who call people moved up from the waiting list.
"""
from dataclasses import fields

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import format_date, format_datetime, gettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ... import activities
from ...extensions import db
from ...i18n import clock
from ...lending import hall_today
from ...models import Activity, PartnerUnit, SignUp
from ...pagination import paginate
from ...qr import activities_url, activity_url, qr_svg
from ...refusal import Refusal
from ...web import new_token, render
from ..activities.forms import ORGANISER_NAMES, ActivityForm, DeskSignUpForm
from . import STAFF_MENU, bp, words
from .exports import csv_response
from .printing import _in_each_language
from .tools import _show_refusal

STAFF_MENU.append(("staff.activity_list", _l("Activities")))

SIGN_UP_STATUSES = {"confirmed": _l("Has a place"), "waiting": _l("Waiting list"), "cancelled": _l("Cancelled")}


def _activity_or_404(activity_id: int) -> Activity:
    return db.get_or_404(Activity, activity_id)


def _sign_up_or_404(sign_up_id: int) -> SignUp:
    return db.get_or_404(SignUp, sign_up_id)


def _flash_promoted(promoted: list[SignUp]) -> None:
    """A place freed and the waiting list moved up: staff call each person at once."""
    for place in promoted:
        flash(_("%(name)s moved up from the waiting list: please call them at %(mobile)s.",
                name=place.resident.name, mobile=place.resident.mobile))


bp.context_processor(lambda: {"sign_up_status_name": lambda key: SIGN_UP_STATUSES.get(key, key),
                              "organiser_name": lambda key: ORGANISER_NAMES.get(key, key)})


# --- The list and the activity's page ---------------------------------------------------------

@bp.get("/activities")
def activity_list():
    """The coming activities (soonest first) with their places and sign-ups, then the past ones."""
    today = hall_today()
    coming = activities.coming(today)
    page = paginate(activities.past_query(today), request.args.get("page"), current_app.config["PAGE_SIZE"])
    return render("staff/activity_list.html", coming=coming, page=page,
                  seats=activities.seats_of([*coming, *page.items]))


def _activity_page(activity: Activity, status=200, refusal=None):
    return render("staff/activity_page.html", activity=activity, seats=activities.seats(activity),
                  seated=activities.confirmed(activity.id), waiting=activities.waiting_list(activity.id),
                  to_call=activities.to_call(activity.id), today=hall_today(), refusal=refusal, status=status)


@bp.get("/activities/<int:activity_id>")
def activity_page(activity_id):
    """The activity at a glance: places, who has one (with attendance), the waiting list, whom to call."""
    return _activity_page(_activity_or_404(activity_id))


# --- New and edit -----------------------------------------------------------------------------

def _units() -> list[PartnerUnit]:
    return list(db.session.scalars(select(PartnerUnit).where(PartnerUnit.active.is_(True)).order_by(PartnerUnit.name)))


def _form_page(form, activity, status=200):
    return render("staff/activity_form.html", form=form, activity=activity, status=status)


@bp.get("/activities/new")
def activity_new():
    return _form_page(ActivityForm(units=_units()), None)


@bp.post("/activities/new")
def activity_add():
    return _save(None)


@bp.get("/activities/<int:activity_id>/edit")
def activity_edit(activity_id):
    activity = _activity_or_404(activity_id)
    form = ActivityForm(obj=activity, units=_units())
    form.capacity.data = "" if activity.capacity is None else str(activity.capacity)
    form.starts_at.data = activity.starts_at.strftime("%H:%M")
    form.ends_at.data = activity.ends_at.strftime("%H:%M")
    form.day.data = activity.day.isoformat()
    return _form_page(form, activity)


@bp.post("/activities/<int:activity_id>/edit")
def activity_save(activity_id):
    """Change an activity. More places move the front of the waiting list up at once; fewer than
    the seats taken are refused."""
    return _save(_activity_or_404(activity_id))


def _save(activity: Activity | None):
    form = ActivityForm(units=_units())
    if form.validate_on_submit():
        waiting_for_call = {p.id for p in activities.to_call(activity.id)} if activity else set()
        values = activities.ActivityFields(**{f.name: form[f.name].data for f in fields(activities.ActivityFields)})
        try:
            saved = activities.save_activity(values, activity.id if activity else None, current_user.id)
        except Refusal as refusal:
            _show_refusal(form, refusal)
        else:
            flash(_("The activity “%(title)s” was saved.", title=saved.title))
            _flash_promoted([p for p in activities.to_call(saved.id) if p.id not in waiting_for_call])
            return redirect(url_for(".activity_page", activity_id=saved.id), 303)
    return _form_page(form, activity, status=422)


@bp.post("/activities/<int:activity_id>/cancel")
def activity_cancel(activity_id):
    """The activity will not take place: residents see it on its page and receipts; staff call
    everyone signed up (their numbers stay on the page)."""
    activity = activities.cancel_activity(_activity_or_404(activity_id).id, current_user.id)
    flash(_("“%(title)s” is cancelled. Please tell the people signed up.", title=activity.title))
    return redirect(url_for(".activity_page", activity_id=activity_id), 303)


@bp.post("/activities/<int:activity_id>/restore")
def activity_restore(activity_id):
    activity = activities.restore_activity(_activity_or_404(activity_id).id)
    flash(_("“%(title)s” takes place again.", title=activity.title))
    return redirect(url_for(".activity_page", activity_id=activity_id), 303)


# --- Places: signing up at the desk, cancelling, calling, attendance ----------------------------

def _desk_page(activity, form, status=200, refusal=None):
    return render("staff/activity_sign_up.html", activity=activity, form=form, seats=activities.seats(activity),
                  refusal=refusal, status=status)


@bp.get("/activities/<int:activity_id>/sign-up")
def desk_sign_up_start(activity_id):
    return _desk_page(_activity_or_404(activity_id), DeskSignUpForm(formdata=None, token=new_token()))


@bp.post("/activities/<int:activity_id>/sign-up")
def desk_sign_up(activity_id):
    """A resident signs up at the desk: a place while there is one, else the waiting list. The
    form's one-use token makes a double click sign up once."""
    activity = _activity_or_404(activity_id)
    form = DeskSignUpForm()
    refusal = None
    if form.validate_on_submit():
        try:
            place = activities.sign_up_resident(activity, form.mobile.data, form.name.data, form.consent.data,
                                                form.token.data, channel="staff", staff_id=current_user.id)
        except Refusal as refused:
            if refused.field and hasattr(form, refused.field):
                _show_refusal(form, refused)
            else:
                refusal = refused
        else:
            receipt = activities.format_receipt(place.receipt)
            if place.status == "confirmed":
                flash(_("%(name)s is signed up. Receipt code: %(receipt)s.", name=place.resident.name,
                        receipt=receipt))
            else:
                flash(_("%(name)s is on the waiting list, place %(place)s. Receipt code: %(receipt)s.",
                        name=place.resident.name, place=activities.waiting_place(place), receipt=receipt))
            return redirect(url_for(".activity_page", activity_id=activity.id), 303)
    return _desk_page(activity, form, status=refusal.status if refusal else 422, refusal=refusal)


@bp.post("/activities/sign-ups/<int:sign_up_id>/cancel")
def sign_up_cancel(sign_up_id):
    """Staff cancel a place (the resident said so); the first on the waiting list takes it at once."""
    place = _sign_up_or_404(sign_up_id)
    ended = activities.cancel_place(place.id, current_user.id)
    flash(_("The place of %(name)s is cancelled.", name=ended.sign_up.resident.name))
    _flash_promoted(ended.promoted)
    return redirect(url_for(".activity_page", activity_id=place.activity_id), 303)


@bp.post("/activities/sign-ups/<int:sign_up_id>/called")
def sign_up_called(sign_up_id):
    """The person moved up was called; the "to call" list forgets them."""
    place = _sign_up_or_404(sign_up_id)
    activities.mark_called(place.id)
    flash(_("The call to %(name)s is noted.", name=place.resident.name))
    return redirect(url_for(".activity_page", activity_id=place.activity_id, _anchor="to-call"), 303)


@bp.post("/activities/sign-ups/<int:sign_up_id>/attended")
def sign_up_attended(sign_up_id):
    """Attendance: came / did not come / not taken (?attended=yes|no|clear). htmx swaps the row;
    without htmx, back to the page."""
    place = _sign_up_or_404(sign_up_id)
    value = {"yes": True, "no": False, "clear": None}.get(request.form.get("attended", ""), "bad")
    if value == "bad":
        abort(400)
    refusal = None
    try:
        place = activities.mark(place.id, value)
    except Refusal as refused:
        refusal = refused
    if request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true":
        return render("staff/activity_row.html", p=place, activity=place.activity, today=hall_today(),
                      refusal=refusal, status=refusal.status if refusal else 200)
    if refusal:
        return _activity_page(place.activity, status=refusal.status, refusal=refusal)
    return redirect(url_for(".activity_page", activity_id=place.activity_id, _anchor="seated"), 303)


# --- Export and posters ------------------------------------------------------------------------

def _hall_time(moment) -> str:
    return format_datetime(moment, "yyyy-MM-dd HH:mm") if moment else ""


@bp.get("/activities/<int:activity_id>/sign-ups.csv")
def activity_export(activity_id):
    """Every sign-up of the activity, cancelled ones too, with the full mobile number (staff only)."""
    activity = _activity_or_404(activity_id)
    places = {p.id: n for n, p in enumerate(activities.waiting_list(activity.id), start=1)}
    attended = {True: _l("Came"), False: _l("Did not come"), None: ""}
    header = [_l("Name"), _l("Mobile number"), _l("Status"), _l("Seat"), _l("Waiting list place"),
              _l("Signed up"), _l("Channel"), _l("Moved up"), _l("Called"), _l("Cancelled"), _l("Attendance")]
    rows = ([p.resident.name, p.resident.mobile or "", SIGN_UP_STATUSES[p.status], p.seat or "",
             places.get(p.id, ""), _hall_time(p.created_at), words.CHANNELS.get(p.channel, p.channel),
             _hall_time(p.promoted_at), _hall_time(p.called_at), _hall_time(p.ended_at), attended[p.attended]]
            for p in activities.every_sign_up(activity.id))
    return csv_response(f"sign-ups-{activity.code}", header, rows)


@bp.get("/activities/<int:activity_id>/poster")
def activity_poster(activity_id):
    """An activity's poster: its QR opens /a/<code> on a resident's phone (a public address, printed
    once), with the day, the time, the place and the steps in the three languages."""
    activity = _activity_or_404(activity_id)

    def poster_words():
        return {"title": activity.title,
                "lead": gettext("%(day)s, %(start)s–%(end)s, %(place)s. Free of charge.",
                                day=format_date(activity.day, "full"), start=clock(activity.starts_at),
                                end=clock(activity.ends_at), place=activity.place),
                "steps": [gettext("Scan this code with your phone's camera."),
                          gettext("Give your name and mobile number, and press “Sign up”."),
                          gettext("Keep the receipt code: it shows your place or your place on the "
                                  "waiting list, and lets you cancel.")]}

    url = activity_url(activity.code)
    return render("staff/poster.html", url=url, qr=qr_svg(url), texts=_in_each_language(poster_words),
                  heading=_l("Activity poster"), pict="🎉")


def _activities_words() -> dict:
    return {"title": gettext("Activities at the service hall"),
            "lead": gettext("Health checks, talks, outings and more: see what is coming and sign up."),
            "steps": [gettext("Scan this code with your phone's camera."),
                      gettext("Choose an activity, then give your name and mobile number."),
                      gettext("Keep the receipt code: it shows your place and lets you cancel.")]}


@bp.get("/activities/poster")
def activities_poster():
    """The poster of every coming activity: its QR opens /a/ (the list) on a resident's phone."""
    url = activities_url()
    return render("staff/poster.html", url=url, qr=qr_svg(url), texts=_in_each_language(_activities_words),
                  heading=_l("Activities poster"), pict="🎉")
