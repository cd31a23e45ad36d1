"""Back-office forms for courses: the course itself, its dates, a registration at the desk, and the
attendance overview's period.

Numbers and dates are text fields checked by validate_<field> methods, so that "abc" gets a
message in plain words instead of WTForms' own, and what the person typed is shown back as it
was. The rules (codes, term order, seats, ages) stay in kiosk.classes; its refusals are shown
next to the field they name, so field names here match the names kiosk.classes uses.
"""
from datetime import date, time

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, DateInput, ListWidget, NumberInput, TimeInput

from ...classes import CHILD_AGE_MAX, CHILD_AGE_MIN
from ...forms import MobileMixin, TokenForm, record_id
from ...i18n import weekday_names
from ...models.classes import SCHEDULE_KINDS
from . import class_words

# The database's own limit (Course's check constraint "capacity"); kiosk.classes does not check it.
CAPACITY_MIN, CAPACITY_MAX = 1, 200
_SHORTER = _l("Please write it shorter.")
_DAY_EXAMPLE = _l("Please give a date like 2025-03-01.")


def _number(field, low: int, high: int, message) -> None:
    """Turn the typed text into a whole number between low and high, or say `message`."""
    try:
        value = int(str(field.data or "").strip())
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ValidationError(message)
    field.data = value


def _day(field) -> None:
    try:
        field.data = date.fromisoformat(str(field.data or "").strip())
    except ValueError:
        raise ValidationError(_DAY_EXAMPLE) from None


def _clock(field) -> None:
    try:
        field.data = time.fromisoformat(str(field.data or "").strip())
    except ValueError:
        raise ValidationError(_l("Please give a time like 09:30.")) from None


def _ticked(field, message) -> None:
    if not field.data:
        raise ValidationError(message)


def _optional_id(value):
    """The teacher select: "" means no teacher yet."""
    if value in (None, "", "None"):
        return None
    return record_id(value)


class CourseForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(message=_l("Please give the class a code."))])
    title_zh = StringField(_l("Title in Chinese"), validators=[
        DataRequired(message=_l("Please write the Chinese title.")), Length(max=80, message=_SHORTER)])
    title_bo = StringField(_l("Title in Tibetan (optional)"), validators=[Length(max=160, message=_SHORTER)])
    title_en = StringField(_l("Title in English (optional)"), validators=[Length(max=80, message=_SHORTER)])
    description_zh = TextAreaField(_l("Description in Chinese (optional)"))
    description_bo = TextAreaField(_l("Description in Tibetan (optional)"))
    description_en = TextAreaField(_l("Description in English (optional)"))
    teacher_id = SelectField(_l("Teacher"), coerce=_optional_id)
    age_min = StringField(_l("Youngest age"), widget=NumberInput(min=CHILD_AGE_MIN, max=CHILD_AGE_MAX))
    age_max = StringField(_l("Oldest age"), widget=NumberInput(min=CHILD_AGE_MIN, max=CHILD_AGE_MAX))
    capacity = StringField(_l("Seats"), widget=NumberInput(min=CAPACITY_MIN, max=CAPACITY_MAX))
    starts_on = StringField(_l("Term starts on"), widget=DateInput())
    ends_on = StringField(_l("Term ends on"), widget=DateInput())

    def __init__(self, *args, teachers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.teacher_id.choices = [SelectChoice("", _l("No teacher yet"))] + [
            SelectChoice(t.id, t.display_name) for t in teachers]

    def validate_age_min(self, field):
        _number(field, CHILD_AGE_MIN, CHILD_AGE_MAX, _l(
            "Please give an age in years from %(min)s to %(max)s.", min=CHILD_AGE_MIN, max=CHILD_AGE_MAX))

    validate_age_max = validate_age_min

    def validate_capacity(self, field):
        _number(field, CAPACITY_MIN, CAPACITY_MAX, _l(
            "Please give the number of seats, from %(min)s to %(max)s.", min=CAPACITY_MIN, max=CAPACITY_MAX))

    def validate_starts_on(self, field):
        _day(field)

    validate_ends_on = validate_starts_on

    def validate_description_zh(self, field):
        field.data = field.data or ""

    validate_description_bo = validate_description_en = validate_description_zh


def weekday_choices():
    return [SelectChoice(n, weekday_names(str(n))) for n in range(7)]


class AddDatesForm(FlaskForm):
    """A repeating pattern of class dates: these weekdays, this time, from this day to that day."""

    kind = SelectField(_l("Kind of dates"), default="term",
                       choices=lambda: [SelectChoice(k, class_words.SCHEDULE_KINDS[k]) for k in SCHEDULE_KINDS],
                       validators=[DataRequired(message=_l("Please choose term or holidays."))])
    weekdays = SelectMultipleField(_l("Weekdays"), coerce=int, choices=weekday_choices,
                                   widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    starts_at = StringField(_l("Starts at"), widget=TimeInput())
    ends_at = StringField(_l("Ends at"), widget=TimeInput())
    first_day = StringField(_l("First day"), widget=DateInput())
    last_day = StringField(_l("Last day"), widget=DateInput())

    def validate_weekdays(self, field):
        if not field.data:
            raise ValidationError(_l("Please choose at least one weekday."))

    def validate_starts_at(self, field):
        _clock(field)

    validate_ends_at = validate_starts_at

    def validate_first_day(self, field):
        _day(field)

    validate_last_day = validate_first_day


def grade_choices():
    return [SelectChoice("", _l("Not given")), *(SelectChoice(k, v) for k, v in class_words.GRADE_NAMES.items())]


class DeskRegisterForm(MobileMixin, TokenForm):
    """A family registers a child at the hall's desk: they sign the paper form, staff type it in.

    Two ticks, because the law asks for two consents: the guardian's own details, and, apart
    from them, the child's.
    """

    mobile = StringField(_l("Guardian's mobile number"), validators=[
        DataRequired(message=_l("Please enter the guardian's mobile number."))])
    name = StringField(_l("Guardian's name"), validators=[
        DataRequired(message=_l("Please write the guardian's name.")), Length(max=60, message=_SHORTER)])
    consent = BooleanField(_l("The guardian agreed that the hall keeps their name and mobile number "
                              "(paper form signed)."))
    child_name = StringField(_l("Child's name"), validators=[
        DataRequired(message=_l("Please write the child's name.")), Length(max=60, message=_SHORTER)])
    child_age = StringField(_l("Child's age"), widget=NumberInput(min=CHILD_AGE_MIN, max=CHILD_AGE_MAX))
    child_grade = SelectField(_l("or school grade"), choices=grade_choices, validate_choice=False)
    guardian_consent = BooleanField(_l("The guardian agreed that the hall keeps the child's name and age "
                                       "for this class (paper form signed)."))

    def validate_consent(self, field):
        _ticked(field, _l("Please tick this once the guardian has signed the paper form."))

    def validate_guardian_consent(self, field):
        _ticked(field, _l("Children's details need the guardian's consent. Please tick this once "
                          "the guardian has signed the paper form."))

    def validate_child_age(self, field):
        if not (field.data or "").strip():
            field.data = None  # the grade may stand for it; kiosk.classes asks for one of the two
            return
        _number(field, CHILD_AGE_MIN, CHILD_AGE_MAX,
                _l("Please give the child's age in years, for example 9."))

    def validate_child_grade(self, field):
        if field.data and field.data not in class_words.GRADE_NAMES:
            raise ValidationError(_l("Please choose the school grade from the list."))
        field.data = field.data or None


class PeriodForm(FlaskForm):
    """The attendance overview's from/to: a GET form, so no CSRF; a bad date falls back to the default."""

    class Meta:
        csrf = False

    # ?from=...&to=... in the address ("from" is a Python keyword, hence the field's own name).
    start = StringField(_l("From"), name="from", widget=DateInput())
    end = StringField(_l("To"), name="to", widget=DateInput())

    def day(self, field, default: date) -> date:
        try:
            return date.fromisoformat((field.data or "").strip())
        except ValueError:
            return default
