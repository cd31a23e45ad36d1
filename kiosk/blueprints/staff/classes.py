"""Back office: courses, their dates, registrations, the waiting list, attendance, exports.

Views read a form, call kiosk.classes and show the result; every rule about seats, the waiting
list, dates and attendance is decided there. A Refusal is shown next to the field it names, or
above the page when it names none.

Teachers open the pages marked `for_teachers`, and only for the courses they teach; they see
guardians' numbers masked (138****8000). Staff and admins see every course and the full
number, as a tel: link, because they are the ones who call families.
"""
from collections import Counter
from dataclasses import dataclass, fields

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import format_date, format_datetime, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ... import classes
from ...extensions import db
from ...lending import hall_today
from ...models import ClassSession, Course, Registration, StaffUser
from ...pagination import paginate
from ...refusal import Refusal
from ...web import new_token, render
from . import STAFF_MENU, bp, class_words, for_teachers, words
from .class_forms import AddDatesForm, CourseForm, DeskRegisterForm, PeriodForm
from .exports import csv_response
from .tools import _show_refusal

STAFF_MENU.append(("staff.course_list", _l("Classes")))


# --- Who may see what -------------------------------------------------------------------------

def _may_see(course: Course) -> Course:
    """A teacher sees the courses they teach; staff and admins see every course."""
    if current_user.is_teacher and course.teacher_id != current_user.id:
        abort(403)
    return course


def _course_or_404(course_id: int) -> Course:
    return _may_see(db.get_or_404(Course, course_id))


def _date_or_404(session_id: int) -> ClassSession:
    class_date = db.get_or_404(ClassSession, session_id)
    _may_see(class_date.course)
    return class_date


def _registration_or_404(registration_id: int) -> Registration:
    registration = db.get_or_404(Registration, registration_id)
    _may_see(registration.course)
    return registration


def _show(form, refusal: Refusal) -> Refusal | None:
    """A refusal about a field goes next to it; one about the whole action is returned, for the
    top of the page (a form's first field may be its hidden token)."""
    if refusal.field and hasattr(form, refusal.field):
        _show_refusal(form, refusal)
        return None
    return refusal


def _flash_promoted(promoted: list[Registration]) -> None:
    """A seat freed and the waiting list moved up: staff call each family at once."""
    for registration in promoted:
        flash(_("%(child)s moved up from the waiting list: please call %(guardian)s at %(mobile)s.",
                child=registration.child_name, guardian=registration.guardian.name,
                mobile=registration.guardian.mobile))


def _class_alerts() -> dict:
    """For the dashboard: families to call after a promotion, children absent 3 times in a row."""
    flagged = [(course, registration, streak) for course in classes.open_courses()
               for registration, streak in classes.absent_in_a_row(course.id)]
    return {"to_call": classes.to_call(), "flagged": flagged}


# Templates call class_alerts() only where they show it (the dashboard), so no other page pays for it.
bp.context_processor(lambda: {**class_words.class_helpers(), "class_alerts": _class_alerts})


# --- Courses ----------------------------------------------------------------------------------

@bp.get("/classes")
@for_teachers
def course_list():
    """Every course with its seats, waiting list and term; a teacher sees the ones they teach."""
    stmt = select(Course).options(joinedload(Course.teacher)).order_by(Course.starts_on.desc(), Course.id)
    if current_user.is_teacher:
        stmt = stmt.where(Course.teacher_id == current_user.id)
    page = paginate(stmt, request.args.get("page"), current_app.config["PAGE_SIZE"])
    return render("staff/class_list.html", page=page,
                  seats=classes.seats_of(page.items))


def _teachers() -> list[StaffUser]:
    return list(db.session.scalars(select(StaffUser).where(StaffUser.role == "teacher")
                                   .order_by(StaffUser.display_name)))


def _course_form_page(form, course, status=200):
    return render("staff/class_form.html", form=form, course=course, status=status)


@bp.get("/classes/new")
def course_new():
    return _course_form_page(CourseForm(teachers=_teachers()), None)


@bp.post("/classes/new")
def course_add():
    """Create a course; its dates are added on its page."""
    return _save_course(None)


@bp.get("/classes/<int:course_id>/edit")
def course_edit(course_id):
    course = _course_or_404(course_id)
    return _course_form_page(CourseForm(obj=course, teachers=_teachers()), course)


@bp.post("/classes/<int:course_id>/edit")
def course_save(course_id):
    """Change a course. More seats move the front of the waiting list up at once; fewer seats
    are refused while children sit in the seats that would go."""
    return _save_course(_course_or_404(course_id))


def _save_course(course: Course | None):
    form = CourseForm(teachers=_teachers())
    if form.validate_on_submit():
        # Who is already waiting for a call, so that only the families this change moved up are named.
        waiting_for_call = {r.id for r in classes.to_call(course.id)} if course else set()
        values = classes.CourseFields(**{f.name: form[f.name].data for f in fields(classes.CourseFields)})
        try:
            saved = classes.save_course(values, course.id if course else None)
        except Refusal as refusal:
            _show(form, refusal)
        else:
            flash(_("The class “%(title)s” was saved.", title=saved.title))
            _flash_promoted([r for r in classes.to_call(saved.id) if r.id not in waiting_for_call])
            return redirect(url_for(".course_page", course_id=saved.id), 303)
    return _course_form_page(form, course, status=422)


def _course_page(course: Course, status=200, dates_form=None, refusal=None):
    """The course at a glance: seats, waiting list, families to call, absences, dates.

    A teacher gets no "to call" list: it exists to hand staff the full numbers.
    """
    today = hall_today()
    dates = classes.sessions(course.id)
    return render("staff/class_page.html", course=course, seats=classes.seats(course),
                  seated=classes.confirmed(course.id), waiting=classes.waiting_list(course.id),
                  to_call=[] if current_user.is_teacher else classes.to_call(course.id),
                  flagged=classes.absent_in_a_row(course.id),
                  upcoming=[d for d in dates if d.day >= today],
                  past=[d for d in reversed(dates) if d.day < today],
                  dates_form=dates_form or AddDatesForm(formdata=None, first_day=course.starts_on.isoformat(),
                                                        last_day=course.ends_on.isoformat()),
                  refusal=refusal, status=status)


@bp.get("/classes/<int:course_id>")
@for_teachers
def course_page(course_id):
    return _course_page(_course_or_404(course_id))


# --- Dates ------------------------------------------------------------------------------------

@bp.post("/classes/<int:course_id>/dates")
def course_dates_add(course_id):
    """Add the dates of a repeating pattern (Saturdays 9:00–10:30 from March to June); dates the
    course already has are left as they are."""
    course = _course_or_404(course_id)
    form = AddDatesForm()
    if form.validate_on_submit():
        try:
            _schedule, made = classes.add_schedule(
                course.id, form.kind.data, form.weekdays.data, form.starts_at.data, form.ends_at.data,
                form.first_day.data, form.last_day.data)
        except Refusal as refusal:
            _show(form, refusal)
        else:
            flash(ngettext("%(num)s date added.", "%(num)s dates added.", made))
            return redirect(url_for(".course_page", course_id=course.id, _anchor="dates"), 303)
    return _course_page(course, status=422, dates_form=form)


@bp.post("/classes/sessions/<int:session_id>/cancel")
def date_cancel(session_id):
    """No class on this date (a public holiday); families see it on the class page and receipts.

    The note ("National Day") is optional and cut to its column's size by kiosk.classes.
    """
    class_date = _date_or_404(session_id)
    classes.cancel_date(class_date.id, request.form.get("note"), current_user.id)
    flash(_("No class on %(date)s.", date=format_date(class_date.day, "full")))
    return redirect(url_for(".course_page", course_id=class_date.course_id, _anchor="dates"), 303)


@bp.post("/classes/sessions/<int:session_id>/restore")
def date_restore(session_id):
    """A cancelled date takes place after all."""
    class_date = _date_or_404(session_id)
    classes.restore_date(class_date.id)
    flash(_("The class on %(date)s takes place again.", date=format_date(class_date.day, "full")))
    return redirect(url_for(".course_page", course_id=class_date.course_id, _anchor="dates"), 303)


@bp.get("/classes/sessions/<int:session_id>/roster")
@for_teachers
def class_roster(session_id):
    """The roster of one date, on A4, to tick present / absent / excused by hand and sign."""
    class_date = _date_or_404(session_id)
    return render("staff/class_roster.html", class_date=class_date, course=class_date.course,
                  lines=classes.roster(class_date))


# --- Places: registering at the desk, cancelling, calling, releasing --------------------------

def _register_page(course, form, status=200, refusal=None):
    return render("staff/class_register.html", course=course, form=form, seats=classes.seats(course),
                  refusal=refusal, status=status)


@bp.get("/classes/<int:course_id>/register")
def desk_register_start(course_id):
    course = _course_or_404(course_id)
    return _register_page(course, DeskRegisterForm(formdata=None, token=new_token()))


@bp.post("/classes/<int:course_id>/register")
def desk_register(course_id):
    """A family registers a child at the desk: a seat while there is one, else the waiting list.

    The guardian signed the paper form, so both consents are recorded. The form's one-use token
    makes a double click register the child once.
    """
    course = _course_or_404(course_id)
    form = DeskRegisterForm()
    refusal = None
    if form.validate_on_submit():
        try:
            registration = classes.register_family(
                course, form.mobile.data, form.name.data, form.consent.data, form.child_name.data,
                form.child_age.data, form.child_grade.data, form.guardian_consent.data, form.token.data,
                channel="staff", staff_id=current_user.id)
        except Refusal as refused:
            refusal = _show(form, refused)
        else:
            receipt = classes.format_receipt(registration.receipt)
            if registration.status == "confirmed":
                flash(_("%(child)s is registered: seat %(seat)s. Receipt code: %(receipt)s.",
                        child=registration.child_name, seat=registration.seat, receipt=receipt))
            else:
                flash(_("%(child)s is on the waiting list, place %(place)s. Receipt code: %(receipt)s.",
                        child=registration.child_name, place=classes.waiting_place(registration),
                        receipt=receipt))
            return redirect(url_for(".course_page", course_id=course.id), 303)
    return _register_page(course, form, status=refusal.status if refusal else 422, refusal=refusal)


@bp.post("/classes/registrations/<int:registration_id>/cancel")
def place_cancel(registration_id):
    """Staff cancel a place (the family said so at the desk or on the phone). The first on the
    waiting list takes a freed seat at once; staff are told whom to call."""
    registration = _registration_or_404(registration_id)
    ended = classes.cancel(registration.id, by="staff", staff_id=current_user.id)
    flash(_("The place of %(child)s is cancelled.", child=ended.registration.child_name))
    _flash_promoted(ended.promoted)
    return redirect(url_for(".course_page", course_id=registration.course_id), 303)


@bp.post("/classes/registrations/<int:registration_id>/called")
def place_called(registration_id):
    """The family of a child moved up was called; the "to call" lists forget them."""
    registration = _registration_or_404(registration_id)
    classes.mark_called(registration.id, current_user.id)
    flash(_("The call to %(guardian)s is noted.", guardian=registration.guardian.name))
    return redirect(url_for(".course_page", course_id=registration.course_id, _anchor="to-call"), 303)


@bp.post("/classes/registrations/<int:registration_id>/release")
def place_release(registration_id):
    """Give the seat of a child who stopped coming to the waiting list (after staff spoke with
    the family); the first waiting child takes it at once."""
    registration = _registration_or_404(registration_id)
    try:
        ended = classes.release_seat(registration.id, current_user.id)
    except Refusal as refusal:
        return _course_page(registration.course, status=refusal.status, refusal=refusal)
    flash(_("The seat of %(child)s is released.", child=ended.registration.child_name))
    _flash_promoted(ended.promoted)
    return redirect(url_for(".course_page", course_id=registration.course_id), 303)


@bp.get("/classes/registrations/<int:registration_id>")
@for_teachers
def registration_page(registration_id):
    """One child: the guardian, the place, and every held date with its mark.

    The receipt code is shown to staff only: with it anyone may cancel the place.
    """
    registration = _registration_or_404(registration_id)
    lines = classes.history(registration.id)
    return render("staff/class_child.html", registration=registration, course=registration.course,
                  lines=lines, counts=Counter(mark for _date, mark in lines),
                  place=classes.waiting_place(registration),
                  receipt=None if current_user.is_teacher else classes.format_receipt(registration.receipt))


# --- Attendance overview and exports ------------------------------------------------------------

@dataclass(frozen=True)
class Grid:
    """The attendance overview: dates as columns, children as rows, with totals both ways."""

    dates: list[ClassSession]
    rows: list[tuple[Registration, list[str | None], Counter]]
    present_on: dict[int, int]


def _grid(course: Course) -> tuple[PeriodForm, Grid]:
    """The period from ?from=&to= (by default from the term's start to today) and its grid."""
    form = PeriodForm(request.args)
    start = form.day(form.start, course.starts_on)
    end = form.day(form.end, min(hall_today(), course.ends_on))
    form.start.data, form.end.data = start.isoformat(), end.isoformat()
    dates, children, marks = classes.attendance_grid(course.id, start, end)
    rows = []
    for child in children:
        row = [marks.get((child.id, d.id)) for d in dates]
        rows.append((child, row, Counter(m for m in row if m)))
    present_on = {d.id: sum(1 for child in children if marks.get((child.id, d.id)) == "present") for d in dates}
    return form, Grid(dates, rows, present_on)


@bp.get("/classes/<int:course_id>/attendance")
@for_teachers
def course_attendance(course_id):
    """Who came when, over a period; changing the period asks (through htmx) for the table only."""
    course = _course_or_404(course_id)
    form, grid = _grid(course)
    return render("staff/class_attendance.html", block="attendance_grid", course=course, form=form, grid=grid)


def _hall_time(moment) -> str:
    return format_datetime(moment, "yyyy-MM-dd HH:mm") if moment else ""


@bp.get("/classes/<int:course_id>/attendance.csv")
def attendance_export(course_id):
    """The attendance overview of the same period, for Excel: ✓ present, ✗ absent, E excused."""
    course = _course_or_404(course_id)
    _form, grid = _grid(course)
    header = [_l("Seat"), _l("Child"), *(d.day.isoformat() for d in grid.dates),
              *class_words.MARKS.values()]
    rows = ([child.seat or "", child.child_name,
             *(_("cancelled") if d.cancelled else class_words.MARK_SIGNS.get(mark, "")
               for d, mark in zip(grid.dates, row, strict=True)),
             *(counts[m] for m in class_words.MARKS)]
            for child, row, counts in grid.rows)
    return csv_response(f"attendance-{course.code}", header, rows)


@bp.get("/classes/<int:course_id>/registrations.csv")
def registrations_export(course_id):
    """Every registration of the course, ended ones too, with the full mobile number (staff only)."""
    course = _course_or_404(course_id)
    places = {r.id: n for n, r in enumerate(classes.waiting_list(course.id), start=1)}
    registrations = db.session.scalars(
        select(Registration).options(joinedload(Registration.guardian))
        .where(Registration.course_id == course.id).order_by(Registration.created_at, Registration.id))
    header = [_l("Child"), _l("Age or grade"), _l("Guardian"), _l("Mobile number"), _l("Status"),
              _l("Seat"), _l("Waiting list place"), _l("Registered"), _l("Channel"), _l("Moved up"),
              _l("Called"), _l("Ended"), _l("Why it ended"), _l("Receipt code")]
    rows = ([r.child_name, class_words.age_or_grade(r), r.guardian.name, r.guardian.mobile,
             class_words.STATUSES[r.status], r.seat or "", places.get(r.id, ""), _hall_time(r.created_at),
             words.CHANNELS.get(r.channel, r.channel), _hall_time(r.promoted_at), _hall_time(r.called_at),
             _hall_time(r.ended_at), class_words.END_REASONS.get(r.end_reason, ""),
             classes.format_receipt(r.receipt)]
            for r in registrations)
    return csv_response(f"registrations-{course.code}", header, rows)
