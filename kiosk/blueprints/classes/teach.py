"""The teacher on the hall tablet: the day's roster with big buttons, one tap per child.

Served under /kiosk so that it has the tablet's layout and its idle reset: a teacher who
walks away is logged out with everything else when the tablet starts over.
"""
from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user, login_required

from ... import classes
from ...extensions import db
from ...lending import hall_today
from ...models import ClassSession, Registration
from ...refusal import Refusal
from ...web import render

bp = Blueprint("teach", __name__)


@bp.before_request
@login_required
def _staff_only():
    """Teachers, staff and admins; the login page brings them back here. Coordinators have no roster."""
    if current_user.is_coordinator:
        abort(403)


def _my_teacher_id() -> int | None:
    # A teacher sees their own classes; staff and admins see every class.
    return current_user.id if current_user.is_teacher else None


def _session_or_404(session_id: int) -> ClassSession:
    session = db.get_or_404(ClassSession, session_id)
    if current_user.is_teacher and session.course.teacher_id != current_user.id:
        abort(403)  # a teacher takes the roll of their own classes, as in the back office
    return session


@bp.get("/")
def today():
    """Today's classes. On a day without one, the latest past date and the next, so a teacher
    can still finish last Saturday's roster."""
    day = hall_today()
    todays = classes.sessions_on(day, _my_teacher_id())
    recent = [] if todays else classes.recent_and_next(day, _my_teacher_id())
    if len(todays) == 1:
        return redirect(url_for(".roster", session_id=todays[0].id))
    return render("classes/teach_today.html", todays=todays, recent=recent, day=day)


@bp.get("/<int:session_id>")
def roster(session_id):
    """The children with a seat, each with present / absent / excused as big buttons."""
    session = _session_or_404(session_id)
    return render("classes/teach_roster.html", session=session, lines=classes.roster(session),
                  editable=not session.cancelled and session.day <= hall_today())


@bp.post("/<int:session_id>/mark/<int:registration_id>")
def mark(session_id, registration_id):
    """One tap: the child's mark for this date. htmx swaps just that child's line back."""
    session = _session_or_404(session_id)
    registration = db.get_or_404(Registration, registration_id)
    refusal = None
    try:
        classes.mark(session.id, registration.id, request.form.get("mark", ""), current_user.id)
    except Refusal as error:
        refusal = error
    if request.headers.get("HX-Request") != "true" and refusal is None:
        return redirect(url_for(".roster", session_id=session.id), 303)
    line = next((line for line in classes.roster(session) if line.registration.id == registration.id),
                classes.RosterLine(registration, None))
    return render("classes/teach_roster.html", block="line", session=session, line=line,
                  refusal=refusal, editable=True, status=refusal.status if refusal else 200,
                  lines=[line])
