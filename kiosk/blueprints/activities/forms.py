"""Activity forms: the resident's sign-up (who they are, with their consent), and the back office's
activity and desk sign-up forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import DateInput, NumberInput, TimeInput

from ...activities import CAPACITY_MAX, CAPACITY_MIN
from ...forms import MobileMixin, TokenForm, record_id, whole_number
from ..staff.class_forms import _clock, _day


class SignUpForm(MobileMixin, TokenForm):
    """One screen: mobile number (the keypad on the tablet), name, consent."""

    mobile = StringField(_l("Your mobile number"), validators=[
        DataRequired(message=_l("Please enter your mobile number."))])
    name = StringField(_l("Your name"), validators=[
        DataRequired(message=_l("Please write your name.")),
        Length(max=60, message=_l("Please write a shorter name."))])
    consent = BooleanField(_l("I agree that the hall keeps my name and mobile number "
                              "to manage this sign-up and to call me about the activity."))

    def validate_consent(self, field):
        if not field.data:
            raise ValidationError(_l("Please agree, so that we can keep your sign-up."))


# --- The back office's forms (kiosk/blueprints/staff/activities.py) ---------------------------


_SHORTER = _l("Please write it shorter.")
ORGANISER_NAMES = {"staff": _l("The hall's staff"), "team": _l("A volunteer team"), "partner": _l("A partner unit")}


def _optional_id(value):
    if value in (None, "", "None"):
        return None
    return record_id(value)


class ActivityForm(FlaskForm):
    """An activity: what, when, where, how many places, who organises it. The rules (code, times,
    organiser, capacity changes) stay in kiosk.activities; its refusals land next to these fields."""

    code = StringField(_l("Code"), validators=[DataRequired(message=_l("Please give the activity a code."))])
    title_zh = StringField(_l("Title in Chinese"), validators=[
        DataRequired(message=_l("Please write the Chinese title.")), Length(max=80, message=_SHORTER)])
    title_bo = StringField(_l("Title in Tibetan (optional)"), validators=[Length(max=160, message=_SHORTER)])
    title_en = StringField(_l("Title in English (optional)"), validators=[Length(max=80, message=_SHORTER)])
    description_zh = TextAreaField(_l("Description in Chinese (optional)"))
    description_bo = TextAreaField(_l("Description in Tibetan (optional)"))
    description_en = TextAreaField(_l("Description in English (optional)"))
    day = StringField(_l("Day"), widget=DateInput())
    starts_at = StringField(_l("Starts at"), widget=TimeInput())
    ends_at = StringField(_l("Ends at"), widget=TimeInput())
    place = StringField(_l("Place"), validators=[
        DataRequired(message=_l("Please say where the activity takes place.")), Length(max=80, message=_SHORTER)])
    capacity = StringField(_l("Places (empty: no limit)"), widget=NumberInput(min=CAPACITY_MIN, max=CAPACITY_MAX))
    organiser = SelectField(_l("Organised by"), default="staff",
                            choices=lambda: [SelectChoice(k, v) for k, v in ORGANISER_NAMES.items()])
    team = StringField(_l("Volunteer team's name"), validators=[Length(max=60, message=_SHORTER)])
    partner_unit_id = SelectField(_l("Partner unit"), coerce=_optional_id, validate_choice=False)

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.partner_unit_id.choices = [SelectChoice("", _l("Choose the partner unit"))] + [
            SelectChoice(u.id, u.name) for u in units]

    def validate_day(self, field):
        _day(field)

    def validate_starts_at(self, field):
        _clock(field)

    validate_ends_at = validate_starts_at

    def validate_capacity(self, field):
        raw = str(field.data or "").strip()
        if not raw:
            field.data = None
            return
        capacity = whole_number(raw, CAPACITY_MAX)
        if capacity is None or capacity < CAPACITY_MIN:
            raise ValidationError(_l("Please give the number of places, from %(min)s to %(max)s, or leave it "
                                     "empty for no limit.", min=CAPACITY_MIN, max=CAPACITY_MAX))
        field.data = capacity

    def validate_description_zh(self, field):
        field.data = field.data or ""

    validate_description_bo = validate_description_en = validate_description_zh

    def validate_team(self, field):
        field.data = (field.data or "").strip()


class DeskSignUpForm(MobileMixin, TokenForm):
    """A resident signs up at the desk; staff type in the mobile and the name."""

    mobile = StringField(_l("Resident's mobile number"), validators=[
        DataRequired(message=_l("Please enter the resident's mobile number."))])
    name = StringField(_l("Resident's name"), validators=[
        DataRequired(message=_l("Please write the resident's name.")), Length(max=60, message=_SHORTER)])
    consent = BooleanField(_l("The resident agreed that the hall keeps their name and mobile number."))

    def validate_consent(self, field):
        if not field.data:
            raise ValidationError(_l("Please tick this once the resident has agreed."))
