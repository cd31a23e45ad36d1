"""The guardian's registration form, the receipt look-up and the teacher's attendance buttons."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from ...classes import CHILD_AGE_MAX, CHILD_AGE_MIN, normalise_receipt
from ...forms import MobileMixin, TokenForm

# How a guardian names the school grades (kiosk.models.classes.GRADES holds their usual ages).
GRADE_NAMES = {
    "k": _l("Kindergarten"),
    "p1": _l("Primary grade 1"), "p2": _l("Primary grade 2"), "p3": _l("Primary grade 3"),
    "p4": _l("Primary grade 4"), "p5": _l("Primary grade 5"), "p6": _l("Primary grade 6"),
    "j1": _l("Middle school grade 1"), "j2": _l("Middle school grade 2"), "j3": _l("Middle school grade 3"),
}


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
    child_age = SelectField(_l("Age"), choices=age_choices, validate_choice=False)
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
        raw = (field.data or "").strip()
        if not raw:
            field.data = None
            return
        if not raw.isdigit() or not CHILD_AGE_MIN <= int(raw) <= CHILD_AGE_MAX:
            raise ValidationError(_l("Please give the child's age in years, for example 9."))
        field.data = int(raw)

    def validate_child_grade(self, field):
        raw = (field.data or "").strip()
        if raw and raw not in GRADE_NAMES:
            raise ValidationError(_l("Please choose the school grade from the list."))
        field.data = raw or None
        if field.data is None and self.child_age.data in (None, ""):
            raise ValidationError(_l("Please give the child's age or school grade."))

    def validate_consent(self, field):
        if not field.data:
            raise ValidationError(_l("Please agree, so that we can keep your registration."))


class ReceiptLookupForm(FlaskForm):
    """"I have a receipt code": a GET look-up, so it needs no CSRF token."""

    class Meta:
        csrf = False

    receipt = StringField(_l("Receipt code"), validators=[
        DataRequired(message=_l("Please type the code from your receipt, like ABCD-EFGH."))])

    def validate_receipt(self, field):
        code = normalise_receipt(field.data)
        if code is None:
            raise ValidationError(_l("A receipt code has 8 letters and digits, like ABCD-EFGH."))
        field.data = code
