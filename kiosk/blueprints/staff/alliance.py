"""Back office: the partner alliance. Joint meetings (联席会议) with the units present and the chair
of the quarter, their agenda (concerns taken up from the ledger, partners' suggestions, the
staff's topics), each item's resolution and follow-up, the printable minutes, and the resource
matches (each time a partner unit took something on) with their filters and CSV.

Views read a form, call kiosk.alliance and show the result; the rules are decided there, and a
Refusal goes next to the field it names (422), or above the page. Staff, admins and
coordinators open these pages.
"""
from datetime import date

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import Length, ValidationError
from wtforms.widgets import CheckboxInput, DateInput, ListWidget

from ... import alliance, codes
from ...extensions import db
from ...forms import record_id, whole_number
from ...lending import hall_today
from ...models import PartnerUnit, StaffUser
from ...models.community import AGENDA_STATUSES, MATCH_KINDS
from ...pagination import paginate
from ...refusal import Refusal
from ...web import render
from . import STAFF_MENU, bp, for_coordinators
from .classes import _hall_time
from .exports import csv_response
from .tools import _show_refusal

STAFF_MENU.extend([
    ("staff.meeting_list", _l("Joint meetings")),
    ("staff.match_list", _l("Resource matches")),
])

AGENDA_STATUS_NAMES = {"proposed": _l("On the agenda"), "resolved": _l("Resolved, to be carried out"),
                       "in_progress": _l("Being carried out"), "done": _l("Carried out"), "dropped": _l("Dropped")}
AGENDA_SOURCE_NAMES = {"concern": _l("From the concerns ledger"), "partner": _l("Suggested by a partner unit"),
                       "staff": _l("Raised by the staff")}
# What a follow-up may move an item to (the status names above read as states, these as moves).
AGENDA_MOVES = {"in_progress": _l("Work has started"), "done": _l("It is done"), "dropped": _l("Drop it")}
MATCH_KIND_NAMES = {"wish": _l("A resident's wish"), "activity": _l("An activity"),
                    "agenda_item": _l("A joint-meeting item")}
_SHORTER = _l("Please write it shorter.")
_DAY_EXAMPLE = _l("Please give a date like 2026-05-12.")


def _alliance_helpers() -> dict:
    def name_in(words):
        return lambda key: words.get(key, key or "")

    return {"agenda_status_name": name_in(AGENDA_STATUS_NAMES), "agenda_source_name": name_in(AGENDA_SOURCE_NAMES),
            "match_kind_name": name_in(MATCH_KIND_NAMES), "agenda_overdue": alliance.is_overdue,
            "matched_what": alliance.what_was_matched}


bp.context_processor(_alliance_helpers)


# --- Forms ------------------------------------------------------------------------------------

def _optional_int(value):
    return whole_number(value)


def _as_day(field, required: bool) -> None:
    raw = str(field.data or "").strip()
    if not raw:
        if required:
            raise ValidationError(_DAY_EXAMPLE)
        field.data = None
        return
    try:
        field.data = date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(_DAY_EXAMPLE) from None


def _unit_choices(units, blank) -> list[SelectChoice]:
    return [SelectChoice("", blank)] + [SelectChoice(u.id, u.name) for u in units]


class MeetingForm(FlaskForm):
    day = StringField(_l("Date of the meeting"), widget=DateInput())
    place = StringField(_l("Place of the meeting"), validators=[Length(max=80, message=_SHORTER)])
    units = SelectMultipleField(_l("Partner units present"), coerce=record_id, validate_choice=False,
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    chair_unit = SelectField(_l("Chair unit of the quarter"), coerce=_optional_int, validate_choice=False)
    note = TextAreaField(_l("Notes and minutes"))

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.units.choices = [SelectChoice(u.id, u.name) for u in units]
        self.chair_unit.choices = _unit_choices(units, _l("No chair"))

    def validate_day(self, field):
        _as_day(field, required=True)

    def validate_units(self, field):
        field.data = [v for v in (field.data or []) if v]


class TopicForm(FlaskForm):
    """A topic that is not a concern: a partner unit's suggestion, or the staff's."""

    source = SelectField(_l("Where the topic comes from"), default="partner", validate_choice=False,
                         choices=[SelectChoice("partner", _l("Suggested by a partner unit")),
                                  SelectChoice("staff", _l("Raised by the staff"))])
    suggested_by_unit = SelectField(_l("Suggested by"), coerce=_optional_int, validate_choice=False)
    topic = StringField(_l("Topic"), validators=[Length(max=alliance.TOPIC_MAX, message=_SHORTER)])

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.suggested_by_unit.choices = _unit_choices(units, _l("Choose…"))


class ResolveForm(FlaskForm):
    resolution = TextAreaField(_l("What the meeting resolved"))
    owner_unit = SelectField(_l("Carried out by (partner unit)"), coerce=_optional_int, validate_choice=False)
    owner_staff = SelectField(_l("Carried out by (staff member)"), coerce=_optional_int, validate_choice=False)
    due_on = StringField(_l("To be done by"), widget=DateInput())

    def __init__(self, *args, units=(), people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.owner_unit.choices = _unit_choices(units, _l("No unit"))
        self.owner_staff.choices = [SelectChoice("", _l("No staff member"))] + [
            SelectChoice(p.id, p.display_name) for p in people]

    def validate_due_on(self, field):
        _as_day(field, required=False)


class AgendaFollowForm(FlaskForm):
    note = TextAreaField(_l("What happened"))
    status = SelectField(_l("Move it to"), default="", validate_choice=False)

    def __init__(self, *args, current="", **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [SelectChoice("", _l("Keep it where it is"))] + [
            SelectChoice(s, AGENDA_MOVES[s]) for s in alliance.NEXT.get(current, ())]


class MatchFilterForm(FlaskForm):
    class Meta:
        csrf = False

    unit = SelectField(_l("Partner unit"), coerce=_optional_int, validate_choice=False)
    kind = SelectField(_l("What was taken on"), default="", validate_choice=False,
                       choices=[SelectChoice("", _l("All"))] + [SelectChoice(k, MATCH_KIND_NAMES[k]) for k in MATCH_KINDS])
    start = StringField(_l("From"), widget=DateInput())
    end = StringField(_l("To"), widget=DateInput())

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.unit.choices = _unit_choices(units, _l("All"))

    def validate_start(self, field):
        _as_day(field, required=False)

    validate_end = validate_start


def _units(include_inactive=False) -> list[PartnerUnit]:
    stmt = select(PartnerUnit).order_by(PartnerUnit.name)
    if not include_inactive:
        stmt = stmt.where(PartnerUnit.active.is_(True))
    return list(db.session.scalars(stmt))


def _people() -> list[StaffUser]:
    return list(db.session.scalars(select(StaffUser).where(StaffUser.active.is_(True),
                                                           StaffUser.role.in_(("admin", "staff", "coordinator")))
                                   .order_by(StaffUser.display_name)))


# --- Joint meetings -------------------------------------------------------------------------

@bp.get("/meetings")
@for_coordinators
def meeting_list():
    """The joint meetings, the latest first, with their chair, units present and agenda."""
    page = paginate(alliance.meetings_query(), request.args.get("page"), current_app.config["PAGE_SIZE"])
    return render("staff/meeting_list.html", page=page)


def _meeting_or_404(meeting_id: int):
    found = alliance.meeting(meeting_id)
    if found is None:
        abort(404)
    return found


def _meeting_form_page(form, meeting=None, status=200):
    return render("staff/meeting_form.html", form=form, meeting=meeting, status=status)


def _form_units(meeting=None) -> list[PartnerUnit]:
    """The active units, and any unit already present at this meeting (kept after it left)."""
    units = _units()
    extra = [u for u in (meeting.units if meeting else ()) if u not in units]
    return sorted(units + extra, key=lambda u: u.name)


@bp.get("/meetings/new")
@for_coordinators
def meeting_new():
    """A new joint meeting on today's date (or ?day=); the unit chairing that quarter is chosen
    and ticked. Changing the date asks (through htmx) for the chair field again."""
    try:
        day = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        day = hall_today()
    chair = alliance.chair_for(day)
    return _meeting_form_page(MeetingForm(formdata=None, units=_units(), data={
        "day": day.isoformat(), "chair_unit": chair.id if chair else None, "units": [chair.id] if chair else []}))


@bp.get("/meetings/<int:meeting_id>/edit")
@for_coordinators
def meeting_edit(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    form = MeetingForm(formdata=None, units=_form_units(meeting),
                       data={"day": meeting.day.isoformat(), "place": meeting.place, "note": meeting.note,
                             "units": [u.id for u in meeting.units], "chair_unit": meeting.chair_unit_id})
    return _meeting_form_page(form, meeting)


def _save_meeting(meeting=None):
    form = MeetingForm(units=_form_units(meeting))
    if form.validate_on_submit():
        try:
            saved = alliance.save_meeting(alliance.MeetingFields(
                form.day.data, form.place.data, form.units.data, form.chair_unit.data, form.note.data),
                current_user.id, meeting.id if meeting else None)
        except Refusal as refusal:
            _show_refusal(form, refusal)
        else:
            flash(_("The joint meeting of %(date)s is saved.", date=format_date(saved.day)))
            return redirect(url_for(".meeting_page", meeting_id=saved.id), 303)
    return _meeting_form_page(form, meeting, status=422)


@bp.post("/meetings/new")
@for_coordinators
def meeting_add():
    """Record a joint meeting: date, place, the units present, the chair, notes."""
    return _save_meeting()


@bp.post("/meetings/<int:meeting_id>/edit")
@for_coordinators
def meeting_save(meeting_id):
    return _save_meeting(_meeting_or_404(meeting_id))


def _meeting_page(meeting, status=200, refusal=None, topic_form=None):
    words = request.args.get("q", "")
    return render("staff/meeting_page.html", block="concern_candidates", meeting=meeting, refusal=refusal,
                  status=status, words=words, candidates=alliance.concerns_to_take_up(words),
                  on_agenda={i.concern_id for i in meeting.items if i.concern_id},
                  topic_form=topic_form or TopicForm(formdata=None, units=_units()))


@bp.get("/meetings/<int:meeting_id>")
@for_coordinators
def meeting_page(meeting_id):
    """A meeting: its facts, its agenda, and putting topics on it (a concern found by its code or
    words, a partner's suggestion, a staff topic). Typing in the search asks for the concerns only."""
    return _meeting_page(_meeting_or_404(meeting_id))


@bp.post("/meetings/<int:meeting_id>/concern")
@for_coordinators
def agenda_take_up(meeting_id):
    """Take a concern of the ledger up on the agenda."""
    meeting = _meeting_or_404(meeting_id)
    try:
        added = alliance.add_item(meeting.id, "concern", concern_id=_optional_int(request.form.get("concern")))
    except Refusal as refusal:
        return _meeting_page(meeting, status=refusal.status, refusal=refusal)
    flash(_("The concern %(code)s is on the agenda.", code=codes.formatted(added.concern.code)))
    return redirect(url_for(".meeting_page", meeting_id=meeting.id, _anchor="agenda"), 303)


@bp.post("/meetings/<int:meeting_id>/topic")
@for_coordinators
def agenda_add(meeting_id):
    """Put a partner unit's suggestion or a staff topic on the agenda."""
    meeting = _meeting_or_404(meeting_id)
    form = TopicForm(units=_units())
    if form.validate_on_submit():
        try:
            alliance.add_item(meeting.id, form.source.data, form.topic.data,
                              suggested_by_unit_id=form.suggested_by_unit.data if form.source.data == "partner" else None)
        except Refusal as refusal:
            _show_refusal(form, refusal)
        else:
            flash(_("The topic is on the agenda."))
            return redirect(url_for(".meeting_page", meeting_id=meeting.id, _anchor="agenda"), 303)
    return _meeting_page(_meeting_or_404(meeting_id), status=422, topic_form=form)


@bp.get("/meetings/<int:meeting_id>/minutes")
@for_coordinators
def meeting_minutes(meeting_id):
    """The minutes of the meeting, for the file: one A4 printout."""
    return render("staff/meeting_minutes.html", meeting=_meeting_or_404(meeting_id))


# --- Agenda items ---------------------------------------------------------------------------

@bp.get("/agenda")
@for_coordinators
def agenda_list():
    """Every agenda item being followed, across meetings; ?overdue=1 for those past their date."""
    status = request.args.get("status") if request.args.get("status") in AGENDA_STATUSES else None
    overdue = request.args.get("overdue") == "1"
    page = paginate(alliance.items_query(status=status, overdue=overdue), request.args.get("page"),
                    current_app.config["PAGE_SIZE"])
    return render("staff/agenda_list.html", page=page, status=status, overdue=overdue,
                  statuses=AGENDA_STATUSES)


def _item_or_404(item_id: int):
    found = alliance.item(item_id)
    if found is None:
        abort(404)
    return found


def _resolve_form(item, **kw) -> ResolveForm:
    return ResolveForm(**kw, units=_form_units(item.meeting), people=_people(),
                       data={"resolution": item.resolution, "owner_unit": item.owner_unit_id,
                             "owner_staff": item.owner_staff_id,
                             "due_on": item.due_on.isoformat() if item.due_on else ""})


def _agenda_page(item, status=200, refusal=None, resolve_form=None, follow_form=None):
    return render("staff/agenda_page.html", item=item, status=status, refusal=refusal,
                  may_resolve=item.status in ("proposed", "resolved"), next_steps=alliance.NEXT.get(item.status, ()),
                  resolve_form=resolve_form or _resolve_form(item, formdata=None),
                  follow_form=follow_form or AgendaFollowForm(formdata=None, current=item.status))


@bp.get("/agenda/<int:item_id>")
@for_coordinators
def agenda_page(item_id):
    """An agenda item: where it came from, what was resolved, by whom and when, its follow-ups."""
    return _agenda_page(_item_or_404(item_id))


def _act(item, form, form_name, act, done_message):
    if form.validate_on_submit():
        try:
            act()
        except Refusal as refusal:
            if not (refusal.field and hasattr(form, refusal.field)):
                return _agenda_page(item, status=refusal.status, refusal=refusal, **{form_name: form})
            _show_refusal(form, refusal)
        else:
            flash(done_message)
            return redirect(url_for(".agenda_page", item_id=item.id), 303)
    return _agenda_page(item, status=422, **{form_name: form})


@bp.post("/agenda/<int:item_id>/resolve")
@for_coordinators
def agenda_resolve(item_id):
    """Record what the meeting resolved: the resolution, the owner and the due date."""
    item = _item_or_404(item_id)
    form = ResolveForm(units=_form_units(item.meeting), people=_people())
    return _act(item, form, "resolve_form",
                lambda: alliance.resolve(item.id, alliance.Resolution(
                    form.resolution.data, form.owner_unit.data, form.owner_staff.data, form.due_on.data),
                    current_user.id),
                _("The resolution is recorded."))


@bp.post("/agenda/<int:item_id>/follow-up")
@for_coordinators
def agenda_follow_up(item_id):
    """A follow-up note on an item, optionally moving it on (dropping it needs the reason)."""
    item = _item_or_404(item_id)
    form = AgendaFollowForm(current=item.status)
    return _act(item, form, "follow_form",
                lambda: alliance.follow(item.id, form.note.data, form.status.data or None, current_user.id),
                _("The follow-up is recorded."))


# --- Resource matches -----------------------------------------------------------------------

def _match_filters():
    form = MatchFilterForm(request.args, units=_units(include_inactive=True))
    form.validate()
    start = form.start.data if isinstance(form.start.data, date) else None
    end = form.end.data if isinstance(form.end.data, date) else None
    return form, alliance.matches_query(form.unit.data, form.kind.data if form.kind.data in MATCH_KINDS else None,
                                        start, end)


@bp.get("/matches")
@for_coordinators
def match_list():
    """Each time a partner unit took on a wish, an activity or a joint-meeting item."""
    form, stmt = _match_filters()
    page = paginate(stmt, request.args.get("page"), current_app.config["PAGE_SIZE"])
    return render("staff/match_list.html", form=form, page=page, per_unit=alliance.matches_by_unit(),
                  units=_units(include_inactive=True))


@bp.get("/matches.csv")
@for_coordinators
def match_export():
    _form, stmt = _match_filters()
    header = [_l("Date"), _l("Partner unit"), _l("What was taken on"), _l("Which"), _l("Note"), _l("Recorded")]
    rows = ([m.day.isoformat(), m.partner_unit.name, str(MATCH_KIND_NAMES[m.kind]), alliance.what_was_matched(m),
             m.note, _hall_time(m.created_at)] for m in db.session.scalars(stmt))
    return csv_response("resource-matches", header, rows)
