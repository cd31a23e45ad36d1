"""The guardian's registration form."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from ...classes import CHILD_AGE_MAX, CHILD_AGE_MIN, GRADE_NAMES
from ...forms import MobileMixin, TokenForm, whole_number



def _age(value):
    """The age select's value: 9 for "9", None for no choice; anything else stays as typed, for
    validate_child_age to refuse in words (never WTForms' "could not coerce")."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    number = whole_number(text, 999)
    return number if number is not None else text


def age_choices():
    return [SelectChoice("", _l("Choose the age")), *(
        SelectChoice(str(n), _l("%(n)s years old", n=n)) for n in range(CHILD_AGE_MIN, CHILD_AGE_MAX + 1))]


def grade_choices():
    return [SelectChoice("", _l("Choose the grade")), *(SelectChoice(k, v) for k, v in GRADE_NAMES.items())]


class RegisterForm(MobileMixin, TokenForm):
    """One screen: the child, then the guardian with their two consents.

    The guardian's own consent (name and mobile) is asked apart from the consent for the
    child's details, because children's data is sensitive (PIPL) and needs its own yes.
    """

    child_name = StringField(_l("Child's name"), validators=[
        DataRequired(message=_l("Please write the child's name.")),
        Length(max=60, message=_l("Please write a shorter name."))])
    # coerce: so that a form sent back with an error shows the age that was chosen.
    child_age = SelectField(_l("Age"), choices=age_choices, coerce=_age, validate_choice=False)
    child_grade = SelectField(_l("or school grade"), choices=grade_choices, validate_choice=False)
    name = StringField(_l("Your name (parent or guardian)"), validators=[
        DataRequired(message=_l("Please write your name.")),
        Length(max=60, message=_l("Please write a shorter name."))])
    mobile = StringField(_l("Your mobile number"), validators=[
        DataRequired(message=_l("Please enter your mobile number."))])
    consent = BooleanField(_l("I agree that the hall keeps my name and mobile number "
                              "to manage this registration and to call me about the class."))
    guardian_consent = BooleanField(_l("I am the child's parent or guardian, and I agree that the hall "
                                       "keeps my child's name and age for this class."))

    def validate_child_age(self, field):
        if field.data is None:
            return
        if not isinstance(field.data, int) or not CHILD_AGE_MIN <= field.data <= CHILD_AGE_MAX:
            raise ValidationError(_l("Please give the child's age in years, for example 9."))

    def validate_child_grade(self, field):
        raw = (field.data or "").strip()
        if raw and raw not in GRADE_NAMES:
            raise ValidationError(_l("Please choose the school grade from the list."))
        field.data = raw or None
        if field.data is None and self.child_age.data is None:
            raise ValidationError(_l("Please give the child's age or school grade."))

    def validate_consent(self, field):
        if not field.data:
            raise ValidationError(_l("Please agree, so that we can keep your registration."))

    def validate_guardian_consent(self, field):
        if not field.data:
            raise ValidationError(_l("Children's details need a parent's or guardian's consent. "
                                     "Please tick the box to agree."))
