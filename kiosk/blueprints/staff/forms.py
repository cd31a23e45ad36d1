"""Back-office forms. Each checks what a person typed and says what is wrong in words;
the rules themselves (loan period range, what counts as a pictogram) live in kiosk.inventory."""
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError
from wtforms.widgets import DateInput, NumberInput

from ... import inventory, settings
from ...forms import TokenForm, whole_number
from ...lending import hall_today
from ...models.tools import CONDITIONS, TOOL_STATUSES
from . import words


def condition_choices():
    return [SelectChoice(c, words.CONDITIONS[c]) for c in CONDITIONS]


def status_choices():
    return [SelectChoice(s, words.STATUSES[s]) for s in TOOL_STATUSES]


class EnrolDeviceForm(FlaskForm):
    name = StringField(_l("Name of this tablet"), default="Hall tablet", validators=[
        DataRequired(message=_l("Please give the tablet a name.")), Length(max=60)])


_SHORTER = _l("Please write it shorter.")


class KindForm(FlaskForm):
    name_zh = StringField(_l("Name in Chinese"), validators=[
        DataRequired(message=_l("Please write the Chinese name.")), Length(max=60, message=_SHORTER)])
    name_bo = StringField(_l("Name in Tibetan"), validators=[
        DataRequired(message=_l("Please write the Tibetan name.")), Length(max=120, message=_SHORTER)])
    name_en = StringField(_l("Name in English"), validators=[
        DataRequired(message=_l("Please write the English name.")), Length(max=60, message=_SHORTER)])
    pictogram = StringField(_l("Pictogram (one emoji)"), default="🔧", validators=[
        DataRequired(message=_l("Please use one emoji, like 🔨."))])
    # A text field checked by validate_loan_days, so that "abc" gets our message, not WTForms'.
    loan_days = StringField(_l("Loan period in days"), default=lambda: str(settings.get("DEFAULT_LOAN_DAYS")),
                            widget=NumberInput(min=inventory.LOAN_DAYS_MIN, max=inventory.LOAN_DAYS_MAX),
                            validators=[InputRequired(message=_l("Please give the loan period in days."))])

    def validate_pictogram(self, field):
        field.data = (field.data or "").strip()
        if not inventory.is_pictogram(field.data):
            raise ValidationError(_l("Please use one emoji, like 🔨."))

    def validate_loan_days(self, field):
        try:
            days = int(str(field.data).strip())
        except ValueError:
            days = None
        if days is None or not inventory.LOAN_DAYS_MIN <= days <= inventory.LOAN_DAYS_MAX:
            raise ValidationError(_l("The loan period is between %(min)s and %(max)s days.",
                                     min=inventory.LOAN_DAYS_MIN, max=inventory.LOAN_DAYS_MAX))
        field.data = days


class ToolEditForm(FlaskForm):
    condition = SelectField(_l("Condition"), choices=condition_choices, default="good",
                            validators=[DataRequired(message=_l("Please choose the condition."))])
    donated_by = StringField(_l("Donated by (optional)"), validators=[Length(max=80, message=_SHORTER)])
    note = TextAreaField(_l("Note (optional)"), validators=[Length(max=200, message=_SHORTER)])


class ToolAddForm(ToolEditForm):
    kind_id = SelectField(_l("Kind of tool"), coerce=int, validators=[
        DataRequired(message=_l("Please choose the kind of tool."))])
    # A text field with a date picker, checked by validate_acquired_on (our message, our rule).
    acquired_on = StringField(_l("Acquired on"), widget=DateInput())

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind_id.choices = [SelectChoice(k.id, f"{k.pictogram} {k.name}") for k in kinds]
        if not self.acquired_on.data:
            self.acquired_on.data = hall_today().isoformat()

    def validate_acquired_on(self, field):
        try:
            day = date.fromisoformat(str(field.data).strip())
        except ValueError:
            raise ValidationError(_l("Please give a date like 2025-03-01.")) from None
        if day > hall_today():
            raise ValidationError(_l("This date is in the future."))
        field.data = day


class NoteForm(FlaskForm):
    """Send to repair, mark repaired, retire: a button with an optional note."""

    note = StringField(_l("Note (optional)"), validators=[Length(max=200, message=_SHORTER)])


class CheckInForm(TokenForm):
    condition = RadioField(_l("How is the tool?"), choices=[
        SelectChoice("fine", _l("It is fine")), SelectChoice("needs_repair", _l("It needs repair"))],
        validators=[DataRequired(message=_l("Please say whether the tool is fine or needs repair."))])
    note = StringField(_l("What is wrong? (optional)"), validators=[Length(max=200, message=_SHORTER)])


class ToolFilterForm(FlaskForm):
    """The tools list's filters: a GET form, so it needs no CSRF and works without JS."""

    class Meta:
        csrf = False

    q = StringField(_l("Code"))
    status = SelectField(_l("Status"), default="")
    kind = SelectField(_l("Kind"), default="")

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [SelectChoice("", _l("All")), *status_choices()]
        self.kind.choices = [SelectChoice("", _l("All"))] + [
            SelectChoice(str(k.id), f"{k.pictogram} {k.name}") for k in kinds]

    @property
    def kind_id(self) -> int | None:
        return whole_number(self.kind.data)


class LedgerFilterForm(FlaskForm):
    class Meta:
        csrf = False

    tab = StringField(default="open")
    q = StringField(_l("Resident name, mobile number or tool code"))

    @property
    def tab_name(self) -> str:
        return self.tab.data if self.tab.data in inventory.LEDGER_TABS else "open"
