"""Back-office forms for the afternoon tea and the concerns ledger.

They turn what staff typed into values (a date, a time, a number, a known resident) and say in
words when they cannot; the rules (a tea ends after it starts, the target, a concern needs a
category and a description, which step may follow which) are kiosk.tea's and kiosk.ledger's,
whose refusals are shown next to the field they name, so the field names here are theirs (place,
ends_at, target, category, description, urgency, source, due_on, status, note).
"""
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import Length, ValidationError
from wtforms.widgets import DateInput, NumberInput, TimeInput

from ...extensions import db
from ...forms import MobileMixin
from ...ledger import NEXT
from ...models import Resident
from ...models.tea import CONCERN_CATEGORIES, CONCERN_SOURCES, CONCERN_STATUSES
from ...residents import normalise_name
from . import tea_words, wish_words
from .class_forms import _clock, _day, _number
from .wish_forms import _choices, _optional_int

_SHORTER = _l("Please write it shorter.")
_ALL = _l("All")


def _optional_day(field) -> None:
    if (field.data or "").strip():
        _day(field)
    else:
        field.data = None


def session_choices(sessions, blank) -> list[SelectChoice]:
    """The tea sessions, newest first, as "12 May 2026 · Bins and drains"."""
    return [SelectChoice("", blank)] + [
        SelectChoice(s.id, " · ".join(x for x in (format_date(s.day), s.theme) if x)) for s in sessions]


# --- Sessions -----------------------------------------------------------------------------------

class SessionForm(FlaskForm):
    """A tea session; the names are kiosk.tea.SessionFields'."""

    day = StringField(_l("Day"), widget=DateInput())
    starts_at = StringField(_l("Starts at"), widget=TimeInput())
    ends_at = StringField(_l("Ends at"), widget=TimeInput())
    place = StringField(_l("Venue"), validators=[Length(max=80, message=_SHORTER)])
    theme = StringField(_l("Theme (optional)"), validators=[Length(max=120, message=_SHORTER)])
    host = StringField(_l("Host"), validators=[Length(max=60, message=_SHORTER)])
    officials = StringField(_l("Officials attending"), validators=[Length(max=200, message=_SHORTER)])
    target = StringField(_l("Residents to invite"), default="12", widget=NumberInput(min=1, max=60))

    def validate_day(self, field):
        _day(field)

    def validate_starts_at(self, field):
        _clock(field)

    validate_ends_at = validate_starts_at

    def validate_target(self, field):
        # Only "is it a number": how many may be invited is kiosk.tea's rule.
        _number(field, -999, 999, _l("Please give the number of residents to invite, like 12."))

    def validate_theme(self, field):
        field.data = field.data or ""

    validate_host = validate_officials = validate_place = validate_theme


# --- Residents, looked up by their mobile number --------------------------------------------------

class KnownResident(MobileMixin):
    """A `mobile` field that must be a resident the hall knows; `resident` is then them."""

    resident: Resident | None = None
    mobile_optional = False

    def validate_mobile(self, field):
        if self.mobile_optional and not (field.data or "").strip():
            field.data = None
            if (self.name.data or "").strip():
                raise ValidationError(_l("Please give the mobile number too: it is how we find the resident."))
            return
        super().validate_mobile(field)
        self.resident = db.session.scalar(select(Resident).where(Resident.mobile == field.data))
        if self.resident is None:
            raise ValidationError(_l("No resident is registered with this mobile number."))


class AddInviteForm(KnownResident, FlaskForm):
    """Invite one resident by their mobile number (prefix "add" on the session page)."""

    mobile = StringField(_l("Invite by mobile number"))
    again = BooleanField(_l("They asked to be invited again"))

    def validate_again(self, field):
        if self.resident is not None and self.resident.tea_opt_out and not field.data:
            raise ValidationError(_l("%(name)s asked not to be invited. Tick this if they asked to be invited again.",
                                     name=self.resident.name))


# --- Concerns -----------------------------------------------------------------------------------

class PlanFields:
    """The follow-up plan: what could solve it, who is responsible, by when."""

    proposed_solution = TextAreaField(_l("Proposed solution"))
    responsible_body = StringField(_l("Responsible body"), validators=[Length(max=80, message=_SHORTER)])
    due_on = StringField(_l("Due date"), widget=DateInput())

    def validate_due_on(self, field):
        _optional_day(field)

    def validate_proposed_solution(self, field):
        field.data = field.data or ""

    validate_responsible_body = validate_proposed_solution


class ConcernForm(KnownResident, PlanFields, FlaskForm):
    """A concern for the ledger: who (optional), where, what; then the answer or the plan.

    Two buttons send it: "answered on the spot" (`outcome=answered`) or "for follow-up".
    """

    mobile_optional = True
    mobile = StringField(_l("Resident's mobile number (optional)"))
    name = StringField(_l("Resident's name (optional)"), validators=[Length(max=60, message=_SHORTER)])
    place = StringField(_l("Where"), validators=[Length(max=80, message=_SHORTER)])
    category = SelectField(_l("Kind of problem"), default="", validate_choice=False,
                           choices=lambda: _choices(CONCERN_CATEGORIES, wish_words.CONCERN_CATEGORIES,
                                                    _l("Choose…")))
    description = TextAreaField(_l("What the resident said"))
    urgency = SelectField(_l("Urgency"), default="normal", validate_choice=False,
                          choices=lambda: _choices(tea_words.URGENCIES, tea_words.URGENCIES))
    source = SelectField(_l("Raised at"), default="tea", validate_choice=False,
                         choices=lambda: _choices(tea_words.SOURCES_TO_CHOOSE, tea_words.SOURCES))
    session = SelectField(_l("Afternoon tea"), coerce=_optional_int, validate_choice=False)
    answer = TextAreaField(_l("The answer given"))
    # Never shown as a field: the two buttons carry it (answered / follow_up).
    outcome = StringField()

    def __init__(self, *args, sessions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.session.choices = session_choices(sessions, _l("None"))
        self._session_ids = {s.id for s in sessions}

    @property
    def answered(self) -> bool:
        """Which button was pressed; without one (an old browser), whether an answer was written."""
        if self.outcome.data in ("answered", "follow_up"):
            return self.outcome.data == "answered"
        return bool((self.answer.data or "").strip())

    def validate_name(self, field):
        name = normalise_name(field.data)
        if name and self.resident is not None and normalise_name(self.resident.name) != name:
            raise ValidationError(_l("This mobile number is registered under another name."))

    def validate_session(self, field):
        if field.data is not None and field.data not in self._session_ids:
            raise ValidationError(_l("Please choose the afternoon tea from the list."))

    def validate_answer(self, field):
        field.data = field.data or ""
        if self.answered and not field.data.strip():
            raise ValidationError(_l("Please write the answer given, or save the concern for follow-up."))

    def validate_place(self, field):
        field.data = field.data or ""

    validate_description = validate_place


class PlanForm(PlanFields, FlaskForm):
    pass


class FollowUpForm(FlaskForm):
    """A follow-up entry, optionally moving the concern on (only to the steps kiosk.ledger.NEXT allows)."""

    note = TextAreaField(_l("What happened (to close it unresolved: the reason)"))
    status = SelectField(_l("Move to"), default="", validate_choice=False)
    satisfied = SelectField(_l("Was the resident satisfied?"), default="", validate_choice=False,
                            choices=lambda: [SelectChoice(k, v) for k, v in tea_words.SATISFIED.items()])

    def __init__(self, *args, current="open", **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [SelectChoice("", _l("Stay “%(status)s”", status=tea_words.STATUSES[current]))] + [
            SelectChoice(s, tea_words.STATUSES[s]) for s in NEXT.get(current, ())]

    @property
    def satisfied_value(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.satisfied.data)


class ConcernFilterForm(FlaskForm):
    """The ledger's filters: a GET form (no CSRF), kept in the pager's links and the CSV link."""

    class Meta:
        csrf = False

    body = StringField(_l("Responsible body"))
    status = SelectField(_l("Status"), default="", validate_choice=False,
                         choices=lambda: _choices(CONCERN_STATUSES, tea_words.STATUSES, _ALL))
    category = SelectField(_l("Kind of problem"), default="", validate_choice=False,
                           choices=lambda: _choices(CONCERN_CATEGORIES, wish_words.CONCERN_CATEGORIES, _ALL))
    source = SelectField(_l("Raised at"), default="", validate_choice=False,
                         choices=lambda: _choices(CONCERN_SOURCES, tea_words.SOURCES, _ALL))
    session = SelectField(_l("Afternoon tea"), default="", validate_choice=False)
    overdue = BooleanField(_l("Overdue only"))

    def __init__(self, *args, sessions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.session.choices = session_choices(sessions, _ALL)

    @property
    def filters(self) -> dict:
        """kiosk.ledger.ledger_query's arguments; anything unknown is left out."""
        return {"status": self.status.data if self.status.data in CONCERN_STATUSES else None,
                "category": self.category.data if self.category.data in CONCERN_CATEGORIES else None,
                "source": self.source.data if self.source.data in CONCERN_SOURCES else None,
                "body": (self.body.data or "").strip() or None, "overdue": bool(self.overdue.data),
                "session_id": _optional_int(self.session.data)}
