"""Courses for families: on phones (/c/<code>, from the course poster's QR) and on the tablet
(/kiosk/classes/..., from the class tile).

Views are thin: they read forms, call kiosk.classes and pick what to show. Every seat and
waiting-list rule lives in kiosk.classes. The guardian's receipt page shows nothing but the
child's first name and the masked mobile, because anyone holding the code may open it.
"""
from flask import Blueprint, abort, redirect, url_for
from flask_babel import lazy_gettext as _l

from ... import classes, visitor
from ...qr import qr_svg, receipt_url
from ...refusal import Refusal
from ...web import kept_view, new_token, render, surface
from ...forms import CodeLookupForm, look_up_code
from .forms import RegisterForm

bp = Blueprint("classes", __name__)


def _course_or_404(code: str):
    course = classes.find_course(code)
    if course is None:
        abort(404)
    return course


def _registration_or_404(course, receipt: str):
    registration = classes.find_registration(course, receipt)
    if registration is None:
        abort(404)
    return registration


@bp.get("/classes/")
def course_list():
    """The classes open for registration. With only one (the usual case), go straight to it."""
    courses = classes.open_courses()
    if len(courses) == 1:
        return redirect(url_for(".course", code=courses[0].code))
    return render("classes/list.html", courses=courses)


@bp.get("/c/<code>")
@kept_view
def course(code):
    """What the course poster's QR opens (a public address): the class, its next dates (cancelled
    ones too), the seats left, and the way to register or to find a receipt."""
    found = classes.course_page(code)
    if found is None:
        abort(404)
    course, seats = found
    if code != course.code:  # posters are case-insensitive; show the one spelling we print
        return redirect(url_for(".course", code=course.code), 301)
    return render("classes/course.html", course=course, seats=seats,
                  dates=classes.next_dates(course.id, 6), lookup=CodeLookupForm())


@bp.get("/c/<code>/find")
def find_receipt(code):
    """A guardian types the receipt code (on the tablet, or a phone that lost the page)."""
    course = _course_or_404(code)

    def page(lookup, status):
        return render("classes/course.html", course=course, seats=classes.seats(course),
                      dates=classes.next_dates(course.id, 6), lookup=lookup, status=status)

    return look_up_code(
        lambda receipt: classes.find_registration(course, receipt),
        _l("We have no registration with this code for this class. Please check the code."),
        page, lambda registration: url_for(".receipt", code=course.code, receipt=registration.receipt))


@bp.get("/c/<code>/register")
def register_start(code):
    course = _course_or_404(code)
    form = RegisterForm(token=new_token())
    guardian = visitor.current_resident()  # a phone may remember its resident; the tablet never
    if guardian is not None:
        form.name.data, form.mobile.data = guardian.name, guardian.mobile
    return _form_page(course, form)


def _form_page(course, form, status=200):
    return render("classes/register.html", course=course, form=form, seats=classes.seats(course),
                  status=status)


@bp.post("/c/<code>/register")
def register(code):
    """Register a child: a seat while there is one, else the waiting list. A double tap sends the
    same token twice and gets the same receipt."""
    course = _course_or_404(code)
    form = RegisterForm()
    if not form.validate_on_submit():
        return _form_page(course, form, status=422)
    try:
        registration = classes.register_family(
            course, form.mobile.data, form.name.data, form.consent.data, form.child_name.data,
            form.child_age.data, form.child_grade.data, form.guardian_consent.data, form.token.data,
            channel=_channel())
    except Refusal as refusal:
        field = getattr(form, refusal.field or "", None) or form.child_name
        field.errors = [*field.errors, refusal.message]
        return _form_page(course, form, status=refusal.status if refusal.field is None else 422)
    if surface() == "kiosk":
        # The tablet shows the receipt once, with a QR to take it home, then forgets it.
        return _receipt_page(course, registration, just_registered=True)
    response = redirect(url_for(".receipt", code=course.code, receipt=registration.receipt), 303)
    visitor.remember(response, registration.guardian)
    return response


@bp.get("/c/<code>/r/<receipt>")
def receipt(code, receipt):
    """The guardian's status page: seat or place on the waiting list, the next dates, cancel."""
    course = _course_or_404(code)
    registration = _registration_or_404(course, receipt)
    if receipt != registration.receipt:
        return redirect(url_for(".receipt", code=course.code, receipt=registration.receipt), 301)
    return _receipt_page(course, registration)


def _receipt_page(course, registration, just_registered=False):
    # On the tablet, a QR of the status page lets the guardian take it home on their phone.
    take_home = qr_svg(receipt_url(course.code, registration.receipt)) \
        if surface() == "kiosk" and just_registered else None
    return render("classes/receipt.html", course=course, registration=registration,
                  place=classes.waiting_place(registration), dates=classes.next_dates(course.id, 4),
                  formatted=classes.format_receipt(registration.receipt), take_home=take_home)


@bp.get("/c/<code>/r/<receipt>/cancel")
def cancel_start(code, receipt):
    """"Are you sure?" before a place is given up: the next family would take it at once."""
    course = _course_or_404(code)
    registration = _registration_or_404(course, receipt)
    if registration.status not in ("confirmed", "waiting"):
        return redirect(url_for(".receipt", code=course.code, receipt=registration.receipt), 303)
    return render("classes/cancel.html", course=course, registration=registration)


@bp.post("/c/<code>/r/<receipt>/cancel")
def cancel(code, receipt):
    """The guardian gives up the place; the first on the waiting list moves up at once.

    Cancelling twice (a double tap) is harmless: the second time changes nothing. The app-wide
    CSRF check guards it; the receipt code in the address is what proves it is theirs.
    """
    course = _course_or_404(code)
    registration = _registration_or_404(course, receipt)
    ended = classes.cancel(registration.id, by="guardian")
    if surface() == "kiosk":
        return _receipt_page(course, ended.registration)
    return redirect(url_for(".receipt", code=course.code, receipt=registration.receipt), 303)


def _channel() -> str:
    return "kiosk" if surface() == "kiosk" else "phone"
