"""Back-office forms for wishes and help requests, volunteers and partner units.

The forms turn what staff typed into values (a number, a date, a volunteer's id) and say in words
when they cannot; every rule (what an alias needs, which volunteer may take a repair, the quarter's
format) is kiosk.wishes', whose refusals are shown next to the field they name, so the field names
here are the ones kiosk.wishes uses (alias, area, reason, into, category, volunteer, what_was_done,
minutes, photo, name, mobile, sub_team, chair_quarter).
"""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import DateInput, NumberInput

from ...forms import MobileMixin, whole_number
from ...lending import hall_today
from ...models.tea import CONCERN_CATEGORIES
from ...models.wishes import CATEGORIES, SUB_TEAMS, WISH_KINDS, WISH_STATUSES
from . import wish_words
from .class_forms import _day, _number

_SHORTER = _l("Please write it shorter.")
_ALL = _l("All")


def _choices(keys, names, blank=None):
    blank = [SelectChoice("", blank)] if blank is not None else []
    return blank + [SelectChoice(k, names[k]) for k in keys]


def who_choices(volunteers, units, blank) -> list[SelectChoice]:
    """Volunteers ("v3") and partner units ("u5") in one select, in two groups."""
    return [SelectChoice("", blank),
            *(SelectChoice(f"v{v.id}", v.name, optgroup=_l("Volunteers")) for v in volunteers),
            *(SelectChoice(f"u{u.id}", u.name, optgroup=_l("Partner units")) for u in units)]


def who(value) -> tuple[int | None, int | None]:
    """"v3" -> (3, None), "u5" -> (None, 5), anything else -> (None, None)."""
    value = value or ""
    number = whole_number(value[1:])
    if value[:1] in ("v", "u") and number is not None:
        return (number, None) if value[0] == "v" else (None, number)
    return None, None


class WishFilterForm(FlaskForm):
    """The wish list's filters: a GET form (no CSRF), kept in the pager's links and the CSV link."""

    class Meta:
        csrf = False

    q = StringField(_l("Receipt code"))
    status = SelectField(_l("Status"), default="", validate_choice=False,
                         choices=lambda: _choices(WISH_STATUSES, wish_words.STATUSES, _ALL))
    category = SelectField(_l("Category"), default="", validate_choice=False,
                           choices=lambda: [SelectChoice("", _ALL)] + [
                               SelectChoice(c, wish_words.category_label(c)) for c in CATEGORIES])
    kind = SelectField(_l("Kind"), default="", validate_choice=False,
                       choices=lambda: _choices(WISH_KINDS, wish_words.KINDS, _ALL))
    older = StringField(_l("Older than (days)"), widget=NumberInput(min=0, max=3650))
    claimant = SelectField(_l("Taken on by"), default="", validate_choice=False)

    def __init__(self, *args, volunteers=(), units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.claimant.choices = who_choices(volunteers, units, _ALL)

    @property
    def older_days(self) -> int | None:
        return whole_number(self.older.data, 3650)

    @property
    def filters(self) -> dict:
        """The chosen filters; anything unknown is left out (a mistyped address shows everything)."""
        volunteer_id, unit_id = who(self.claimant.data)
        return {"status": self.status.data if self.status.data in WISH_STATUSES else None,
                "category": self.category.data if self.category.data in CATEGORIES else None,
                "kind": self.kind.data if self.kind.data in WISH_KINDS else None,
                "older_days": self.older_days, "code": (self.q.data or "").strip(),
                "volunteer_id": volunteer_id, "unit_id": unit_id}


# --- The wish page's actions; each form has a prefix there, so that no two fields share an id ---

class PublishForm(FlaskForm):
    alias = StringField(_l("Alias on the wall"), validators=[Length(max=40, message=_SHORTER)])
    area = StringField(_l("Area on the wall"), validators=[Length(max=40, message=_SHORTER)])


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Reason (the resident reads it)"), validators=[Length(max=200, message=_SHORTER)])


class MergeForm(FlaskForm):
    into = StringField(_l("Receipt code of the request it repeats"))


class ConvertForm(FlaskForm):
    category = SelectField(_l("Kind of problem"), validate_choice=False,
                           choices=lambda: _choices(CONCERN_CATEGORIES, wish_words.CONCERN_CATEGORIES,
                                                    _l("Choose…")))


def _optional_int(value):
    return whole_number(value)


class AssignForm(FlaskForm):
    volunteer = SelectField(_l("Volunteer"), coerce=_optional_int, validate_choice=False)

    def __init__(self, *args, volunteers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.volunteer.choices = [SelectChoice("", _l("Choose…"))] + [
            SelectChoice(v.id, f"{v.name} · {wish_words.SUB_TEAMS[v.sub_team]}") for v in volunteers]

    def validate_volunteer(self, field):
        if field.data is None:
            raise ValidationError(_l("Please choose a volunteer from the list."))


class FulfilForm(FlaskForm):
    """What was done; multipart, for the optional photo of the finished job."""

    done_on = StringField(_l("Done on"), widget=DateInput())
    done_by = SelectField(_l("Done by"), default="", validate_choice=False)
    what_was_done = TextAreaField(_l("What was done"))
    minutes = StringField(_l("Minutes spent"), widget=NumberInput(min=0, max=6000))
    photo = FileField(_l("Photo (optional)"))

    def __init__(self, *args, volunteers=(), units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.done_by.choices = who_choices(volunteers, units, _l("As claimed or assigned"))

    def validate_done_on(self, field):
        _day(field)
        if field.data > hall_today():
            raise ValidationError(_l("This date is still to come."))

    def validate_minutes(self, field):
        _number(field, 0, 6000, _l("Please give the time spent in minutes (at most 6000)."))


# --- Volunteers and partner units ---------------------------------------------------------------

class VolunteerForm(MobileMixin, FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=60, message=_SHORTER)])
    mobile = StringField(_l("Mobile number"), validators=[
        DataRequired(message=_l("Please enter the mobile number."))])
    team = StringField(_l("Team"), validators=[Length(max=60, message=_SHORTER)])
    sub_team = SelectField(_l("Sub-team"), default="general", validate_choice=False,
                           choices=lambda: _choices(SUB_TEAMS, wish_words.SUB_TEAMS))
    active = BooleanField(_l("Active (may be assigned and sees their page)"), default=True)


class PartnerForm(FlaskForm):
    name = StringField(_l("Name of the unit"), validators=[Length(max=80, message=_SHORTER)])
    contact_name = StringField(_l("Contact person"), validators=[Length(max=60, message=_SHORTER)])
    contact_phone = StringField(_l("Contact phone"), validators=[Length(max=20, message=_SHORTER)])
    chair_quarter = StringField(_l("Chairs the alliance in (quarter, like 2026-Q3)"))
    active = BooleanField(_l("Active (may claim wishes)"), default=True)


class PeopleFilterForm(FlaskForm):
    """The volunteer and partner lists' search: a GET form."""

    class Meta:
        csrf = False

    q = StringField(_l("Name or phone"))
