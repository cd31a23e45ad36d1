"""Back office: the heart-to-heart afternoon tea (连心下午茶): sessions, fair invitations,
signing in at the table, and the printouts (invitation list, sign-in sheet, minutes).

Views read a form, call kiosk.tea and show the result; every rule (the times, the target, who
is suggested and in which order, one sign-in per resident) is decided there. A Refusal goes next
to the field it names (422), or above the page. The concerns raised at a session are recorded
through the ledger's pages (ledger.py), with the session's quick form posting there.

These pages show residents' full mobile numbers: staff call them to invite them. Teachers get
403 from the blueprint.
"""
from dataclasses import dataclass, fields

from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import case, func, select

from ... import tea
from ...extensions import db
from ...forms import whole_number
from ...ledger import ledger_query
from ...lending import hall_today
from ...models import Concern, Resident, TeaInvitation, TeaSession, TeaSignIn
from ...pagination import page_number, paginate
from ...refusal import Refusal
from ...web import render
from . import STAFF_MENU, bp, tea_words
from .tea_forms import AddInviteForm, ConcernForm, SessionForm
from .tools import _show_refusal

# The concerns ledger's pages are in ledger.py; its menu entry is here, to come after the tea's.
STAFF_MENU.extend([("staff.tea_list", _l("Afternoon tea")), ("staff.concern_list", _l("Concerns ledger"))])
bp.context_processor(tea_words.tea_helpers)
# Empty rows at the foot of the sign-in sheet, for residents who come without an invitation.
WALK_IN_ROWS = 8


def _session_or_404(session_id: int) -> TeaSession:
    return db.get_or_404(TeaSession, session_id)


@dataclass(frozen=True)
class Counts:
    invited: int = 0
    accepted: int = 0
    signed_in: int = 0
    concerns: int = 0


def _counts(session_ids: list[int]) -> dict[int, Counts]:
    """Invited, accepted, signed in and concerns raised, for each of these sessions."""
    invited = db.session.execute(
        select(TeaInvitation.session_id, func.count(),
               func.sum(case((TeaInvitation.answer == "accepted", 1), else_=0)))
        .where(TeaInvitation.session_id.in_(session_ids)).group_by(TeaInvitation.session_id))
    signed = dict(db.session.execute(select(TeaSignIn.session_id, func.count())
                                     .where(TeaSignIn.session_id.in_(session_ids)).group_by(TeaSignIn.session_id)).all())
    raised = dict(db.session.execute(select(Concern.session_id, func.count())
                                     .where(Concern.session_id.in_(session_ids)).group_by(Concern.session_id)).all())
    by_session = {sid: (n, int(accepted or 0)) for sid, n, accepted in invited}
    return {sid: Counts(*by_session.get(sid, (0, 0)), signed.get(sid, 0), raised.get(sid, 0)) for sid in session_ids}


def session_concerns(session_id: int) -> list[Concern]:
    return list(db.session.scalars(ledger_query(session_id=session_id)))


# --- Sessions -------------------------------------------------------------------------------

@bp.get("/tea")
def tea_list():
    """The coming sessions, then the past ones (newest first, paginated), with their figures."""
    today = hall_today()
    coming = tea.upcoming(today)
    past = paginate(select(TeaSession).where(TeaSession.day < today)
                    .order_by(TeaSession.day.desc(), TeaSession.starts_at.desc()),
                    request.args.get("page"), current_app.config["PAGE_SIZE"])
    return render("staff/tea_list.html", upcoming=coming, page=past,
                  counts=_counts([s.id for s in [*coming, *past.items]]))


def _session_form_page(form, session, status=200):
    return render("staff/tea_form.html", form=form, session=session, status=status)


def _form_data(session: TeaSession | None) -> dict:
    """What the form starts with: the session as it is, or a usual afternoon for a new one."""
    if session is None:
        return {"starts_at": "15:00", "ends_at": "17:00", "target": "12"}
    data = {f.name: getattr(session, f.name) for f in fields(tea.SessionFields)}
    return dict(data, day=session.day.isoformat(), starts_at=session.starts_at.strftime("%H:%M"),
                ends_at=session.ends_at.strftime("%H:%M"))


@bp.get("/tea/new", defaults={"session_id": None})
@bp.get("/tea/<int:session_id>/edit")
def tea_edit(session_id):
    session = _session_or_404(session_id) if session_id else None
    return _session_form_page(SessionForm(formdata=None, data=_form_data(session)), session)


@bp.post("/tea/new", defaults={"session_id": None})
@bp.post("/tea/<int:session_id>/edit")
def tea_save(session_id):
    """Plan a session or change one; its invitations are made on its page."""
    session = _session_or_404(session_id) if session_id else None
    form = SessionForm()
    if form.validate_on_submit():
        values = tea.SessionFields(**{f.name: form[f.name].data for f in fields(tea.SessionFields)})
        try:
            saved = tea.save_session(values, current_user.id, session_id)
        except Refusal as refusal:
            _show_refusal(form, refusal)
        else:
            flash(_("The afternoon tea of %(date)s is saved.", date=saved.day.isoformat()))
            return redirect(url_for(".tea_page", session_id=saved.id), 303)
    return _session_form_page(form, session, status=422)


# --- A session's page -----------------------------------------------------------------------

def _still_to_invite(session: TeaSession, invitations: list[TeaInvitation]) -> int:
    """How many to suggest: the target less those invited who did not decline (at least 1)."""
    return max(1, session.target - sum(1 for i in invitations if i.answer != "declined"))


def _tea_page(session: TeaSession, status=200, refusal=None, add_form=None):
    invitations = tea.invitations(session.id)
    signed = tea.sign_ins(session.id)
    wanted = request.args.get("suggest")
    suggestions = tea.suggest(session.id, min(60, page_number(wanted))) if wanted is not None else None
    return render("staff/tea_page.html", session=session, invitations=invitations, signed=signed,
                  signed_ids={s.resident_id for s in signed}, suggestions=suggestions,
                  to_invite=_still_to_invite(session, invitations), window=tea.window(session),
                  concerns=session_concerns(session.id), answers=tea_words.ANSWERS,
                  add_form=add_form or AddInviteForm(formdata=None, prefix="add"),
                  concern_form=ConcernForm(formdata=None, sessions=[session], session=session.id, source="tea"),
                  refusal=refusal, status=status)


@bp.get("/tea/<int:session_id>")
def tea_page(session_id):
    """The session: who is invited (and their answers), who signed in, the concerns raised.
    With ?suggest=<n>, the fair suggestion of n residents to invite, all ticked."""
    return _tea_page(_session_or_404(session_id))


def _back_to(session_id: int, part: str):
    return redirect(url_for(".tea_page", session_id=session_id, _anchor=part), 303)


@bp.post("/tea/<int:session_id>/invite")
def tea_invite(session_id):
    """Invite the residents ticked in the suggestion (staff may have unticked some)."""
    session = _session_or_404(session_id)
    ticked = [n for n in map(whole_number, request.form.getlist("resident")) if n is not None]
    known = list(db.session.scalars(select(Resident.id).where(Resident.id.in_(ticked))))
    made = tea.invite(session.id, known) if known else 0
    flash(ngettext("%(num)s resident invited.", "%(num)s residents invited.", made) if known
          else _("Nobody was ticked, so nobody was invited."))
    return _back_to(session.id, "invitations")


@bp.post("/tea/<int:session_id>/add")
def tea_add(session_id):
    """Invite one resident by their mobile number (they asked to come, or staff thought of them)."""
    session = _session_or_404(session_id)
    form = AddInviteForm(prefix="add")
    if not form.validate_on_submit():
        return _tea_page(session, status=422, add_form=form)
    resident = form.resident
    if resident.tea_opt_out:
        tea.set_opt_out(resident.id, False)
    if tea.invite(session.id, [resident.id]):
        flash(_("%(name)s is invited.", name=resident.name))
    else:
        flash(_("%(name)s was already invited.", name=resident.name))
    return _back_to(session.id, "invitations")


def _answer(invitation: TeaInvitation, name: str) -> str:
    done = tea.record_answer(invitation.id, request.form.get("answer", ""))
    return _("%(name)s: %(answer)s.", name=name, answer=tea_words.ANSWERS[done.answer])


def _remove(invitation: TeaInvitation, name: str) -> str:
    tea.uninvite(invitation.id)
    return _("%(name)s is no longer invited.", name=name)


def _opt_out(invitation: TeaInvitation, name: str) -> str:
    tea.set_opt_out(invitation.resident_id, True)
    tea.uninvite(invitation.id)
    return _("%(name)s is no longer invited, and will not be suggested again.", name=name)


INVITATION_ACTIONS = {"answer": _answer, "remove": _remove, "opt-out": _opt_out}


@bp.post("/tea/invitations/<int:invitation_id>/<any(answer, remove, 'opt-out'):action>")
def invitation_action(invitation_id, action):
    """Record an invitation's answer, take it back, or take it back because the resident asked
    not to be invited again (the fair rotation then skips them)."""
    invitation = db.get_or_404(TeaInvitation, invitation_id)
    # Read now: a write transaction expires what was loaded, and a removed invitation is gone.
    session_id, name = invitation.session_id, invitation.resident.name
    try:
        message = INVITATION_ACTIONS[action](invitation, name)
    except Refusal as refusal:
        return _tea_page(_session_or_404(session_id), status=422 if refusal.field else refusal.status,
                         refusal=refusal)
    flash(message)
    return _back_to(session_id, "invitations")


@bp.post("/tea/<int:session_id>/sign-in/<int:resident_id>")
def tea_sign_in(session_id, resident_id):
    """Staff sign a resident in (they came, but did not scan or tap); twice is once."""
    session = _session_or_404(session_id)
    resident = db.get_or_404(Resident, resident_id)
    _record, new = tea.sign_in(session.id, resident.id, "staff")
    flash(_("%(name)s is signed in.", name=resident.name) if new
          else _("%(name)s was already signed in.", name=resident.name))
    return _back_to(session.id, "signed-in")


# --- Printouts ------------------------------------------------------------------------------

def _printout(template: str, session_id: int, **extra):
    session = _session_or_404(session_id)
    return render(template, session=session, invitations=tea.invitations(session.id), **extra)


@bp.get("/tea/<int:session_id>/invitations/print")
def tea_invitations_print(session_id):
    """The invitation list on A4: name, building, mobile, answer, to call down the list."""
    return _printout("staff/tea_invitations_print.html", session_id)


@bp.get("/tea/<int:session_id>/sign-in-sheet")
def tea_sign_in_sheet(session_id):
    """The sign-in sheet on A4: the invited with room to sign, and empty rows for walk-ins."""
    return _printout("staff/tea_sign_in_sheet.html", session_id, empty_rows=WALK_IN_ROWS)


@bp.get("/tea/<int:session_id>/minutes")
def tea_minutes(session_id):
    """The minutes: who came, and every concern raised with its answer or its plan."""
    return _printout("staff/tea_minutes.html", session_id, signed=tea.sign_ins(session_id),
                     concerns=session_concerns(session_id))
