"""Back office: the concerns ledger (诉求台账): the list with its filters and CSV, writing a concern
down (at the desk, or quickly on the hall tablet at the tea table), and each concern's page with
its history, its plan and its follow-ups.

Views read a form, call kiosk.ledger and show the result; every rule (a concern needs a category
and a description, which step may follow which, closing unresolved needs a reason) is decided
there. A Refusal goes next to the field it names (422), or above the page.
"""
from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from ... import alliance, codes, ledger, tea
from ...extensions import db
from ...models import Concern, ConcernStep, TeaSession
from ...models.tea import CONCERN_STATUSES
from ...pagination import paginate
from ...refusal import Refusal
from ...web import render
from . import bp, tea_words, wish_words
from .classes import _hall_time
from .exports import csv_response
from .tea_forms import ConcernFilterForm, ConcernForm, FollowUpForm, PlanForm
from .tools import _show_refusal


def _concern_alerts() -> dict:
    """For the dashboard: concerns by status, how many are overdue, the next afternoon tea."""
    counts = dict(db.session.execute(select(Concern.status, func.count()).group_by(Concern.status)).all())
    overdue = db.session.scalar(select(func.count()).select_from(ledger.ledger_query(overdue=True).subquery()))
    coming = tea.upcoming()
    return {"by_status": [(s, counts.get(s, 0)) for s in CONCERN_STATUSES], "overdue": overdue,
            "next_tea": coming[0] if coming else None}


bp.context_processor(lambda: {"concern_alerts": _concern_alerts})


def _sessions() -> list[TeaSession]:
    return list(db.session.scalars(select(TeaSession).order_by(TeaSession.day.desc(), TeaSession.starts_at.desc())))


# --- The ledger -----------------------------------------------------------------------------

def _filtered():
    form = ConcernFilterForm(request.args, sessions=_sessions())
    return form, ledger.ledger_query(**form.filters).options(joinedload(Concern.session),
                                                              joinedload(Concern.resident))


@bp.get("/concerns")
def concern_list():
    """Every concern, newest first, filtered; typing a body asks (through htmx) for the table only."""
    form, stmt = _filtered()
    page = paginate(stmt, request.args.get("page"), current_app.config["PAGE_SIZE"])
    return render("staff/concern_list.html", block="concern_table", form=form, page=page)


def _day(value) -> str:
    return value.isoformat() if value else ""


@bp.get("/concerns.csv")
def concern_export():
    """The ledger with its filters, every page, for Excel; with the resident's full mobile (staff only)."""
    _form, stmt = _filtered()
    header = [_l("Receipt code"), _l("Recorded"), _l("Raised at"), _l("Afternoon tea"), _l("Kind of problem"),
              _l("What the resident said"), _l("Where"), _l("Urgency"), _l("Resident"), _l("Mobile number"),
              _l("Status"), _l("The answer given"), _l("Proposed solution"), _l("Responsible body"),
              _l("Due date"), _l("Past due date"), _l("Why closed unresolved"), _l("Satisfied"), _l("Closed")]
    yes_no = {True: _("Yes"), False: _("No"), None: ""}

    def rows():
        for c in db.session.scalars(stmt):
            yield [codes.formatted(c.code), _hall_time(c.created_at), tea_words.SOURCES[c.source],
                   _day(c.session.day if c.session else None), wish_words.CONCERN_CATEGORIES[c.category],
                   c.description, c.place, tea_words.URGENCIES[c.urgency],
                   c.resident.name if c.resident else "", c.resident.mobile if c.resident else "",
                   tea_words.STATUSES[c.status], c.answer, c.proposed_solution, c.responsible_body,
                   _day(c.due_on), yes_no[ledger.is_overdue(c)], c.closed_reason, yes_no[c.satisfied],
                   _hall_time(c.closed_at)]

    return csv_response("concerns", header, rows())


# --- Writing a concern down -----------------------------------------------------------------

def _concern_form_page(form, status=200, back=""):
    return render("staff/concern_form.html", form=form, back=back, status=status)


@bp.get("/concerns/new")
def concern_new():
    """A blank concern; ?session=<id> starts it as raised at that afternoon tea."""
    sessions = _sessions()
    chosen = request.args.get("session", type=int)
    session_id = chosen if chosen in {s.id for s in sessions} else None
    return _concern_form_page(ConcernForm(formdata=None, sessions=sessions, session=session_id,
                                          source="tea" if session_id else "walk_in"))


def _raised(form: ConcernForm) -> ledger.Raised:
    answered = form.answered
    return ledger.Raised(
        category=form.category.data, description=form.description.data, place=form.place.data,
        urgency=form.urgency.data, source=form.source.data, session_id=form.session.data,
        resident_id=form.resident.id if form.resident else None,
        answer=form.answer.data if answered else "",
        proposed_solution="" if answered else form.proposed_solution.data,
        responsible_body="" if answered else form.responsible_body.data,
        due_on=None if answered else form.due_on.data)


@bp.post("/concerns/new")
def concern_add():
    """Record a concern, answered on the spot or for follow-up, and hand over its receipt code.

    From a session's quick form (back=session) staff return to the session, ready for the next.
    """
    form = ConcernForm(sessions=_sessions())
    back = "session" if request.form.get("back") == "session" else ""
    if form.validate_on_submit():
        try:
            concern = ledger.record(_raised(form), current_user.id)
        except Refusal as refusal:
            _show_refusal(form, refusal)
        else:
            flash(_("The concern is recorded. The resident's receipt code is %(code)s: they follow it at %(link)s",
                    code=codes.formatted(concern.code), link=tea_words.receipt_link(concern.code)))
            if back and concern.session_id:
                return redirect(url_for(".tea_page", session_id=concern.session_id, _anchor="concerns"), 303)
            return redirect(url_for(".concern_page", concern_id=concern.id), 303)
    return _concern_form_page(form, status=422, back=back)


# --- One concern ----------------------------------------------------------------------------

def _concern_or_404(concern_id: int) -> Concern:
    return db.get_or_404(Concern, concern_id, options=[
        selectinload(Concern.steps).joinedload(ConcernStep.staff), joinedload(Concern.session),
        joinedload(Concern.resident)])


def _plan_form(concern: Concern, **kw) -> PlanForm:
    return PlanForm(**kw, data={"proposed_solution": concern.proposed_solution,
                                "responsible_body": concern.responsible_body, "due_on": _day(concern.due_on)})


def _concern_page(concern: Concern, status=200, refusal=None, plan_form=None, follow_form=None):
    return render("staff/concern_page.html", concern=concern, refusal=refusal, status=status,
                  agenda_items=alliance.items_of_concern(concern.id),
                  finished=concern.status in ledger.FINISHED, next_steps=ledger.NEXT.get(concern.status, ()),
                  plan_form=plan_form or _plan_form(concern, formdata=None),
                  follow_form=follow_form or FollowUpForm(formdata=None, current=concern.status))


@bp.get("/concerns/<int:concern_id>")
def concern_page(concern_id):
    """Everything about a concern, its history, and what may happen to it next."""
    return _concern_page(_concern_or_404(concern_id))


def _act(concern: Concern, form, form_name: str, act, done_message: str):
    """Run a concern page's action; a refusal goes next to its field, or above the page."""
    if form.validate_on_submit():
        try:
            act()
        except Refusal as refusal:
            if not (refusal.field and hasattr(form, refusal.field)):
                return _concern_page(concern, status=refusal.status, refusal=refusal, **{form_name: form})
            _show_refusal(form, refusal)
        else:
            flash(done_message)
            return redirect(url_for(".concern_page", concern_id=concern.id, _anchor="history"), 303)
    return _concern_page(concern, status=422, **{form_name: form})


@bp.post("/concerns/<int:concern_id>/plan")
def concern_plan(concern_id):
    """Change the follow-up plan: solution, responsible body, due date (kept in the history)."""
    concern = _concern_or_404(concern_id)
    form = PlanForm()
    return _act(concern, form, "plan_form",
                lambda: ledger.plan(concern.id, form.proposed_solution.data, form.responsible_body.data,
                                    form.due_on.data, current_user.id),
                _("The plan of %(code)s is changed.", code=codes.formatted(concern.code)))


@bp.post("/concerns/<int:concern_id>/follow-up")
def concern_follow_up(concern_id):
    """A follow-up entry, optionally moving the concern on; closing unresolved needs the reason,
    informing the resident records whether they were satisfied."""
    concern = _concern_or_404(concern_id)
    form = FollowUpForm(current=concern.status)
    return _act(concern, form, "follow_form",
                lambda: ledger.follow_up(concern.id, form.note.data, current_user.id, form.status.data or None,
                                         form.satisfied_value if form.status.data == "informed" else None),
                _("The follow-up of %(code)s is recorded.", code=codes.formatted(concern.code)))
