"""The request form, the receipt look-up, the thanks and the claim, with the words residents read.

The forms check what a form can (a mobile number, a name, a tick); what a request may be
(kind, category, description, building for a repair) is decided by kiosk.wishes.check_request.
"""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from ... import wishes
from ...forms import IdentifyForm, MobileMixin, TokenForm, whole_number

# One picture and one word per category, so a resident who reads neither language well can choose.
CATEGORY_WORDS = {
    "school": ("📚", _l("school supplies")),
    "daily": ("🧺", _l("daily needs")),
    "health": ("💊", _l("health")),
    "repair": ("🔧", _l("repair")),
    "paperwork": ("📄", _l("paperwork")),
    "company": ("🫖", _l("company for the elderly")),
    "other": ("✳️", _l("other")),
}

# The three doors of the start page (they head the form too), and what the request is called.
KIND_WORDS = {
    "wish": ("🎁", _l("Make a wish"), _l("A wish")),
    "repair": ("🔧", _l("Ask for a home repair"), _l("A home repair")),
    "help": ("🤝", _l("Ask for other help"), _l("A request for help")),
}

# What a resident reads about their request, in plain words: a title and a line of explanation.
STATUS_WORDS = {
    "received": ("📨", _l("Received"), _l("We have received your request. Staff will look at it soon.")),
    "published": ("📌", _l("On the wish wall"),
                  _l("Your request is on the wish wall, without your name. It is waiting for a helper.")),
    "claimed": ("🙋", _l("Someone offered to help"),
                _l("Someone offered to help. The staff are confirming it with them.")),
    "in_progress": ("🛠️", _l("Being done"), _l("A helper is taking care of your request.")),
    "fulfilled": ("🎉", _l("Fulfilled"), _l("Your request has been fulfilled.")),
    "declined": ("✋", _l("Not taken on"), _l("The staff could not take on this request.")),
    "merged": ("🔗", _l("Joined with another request"),
               _l("Someone asked for the same thing, so the staff joined the two requests. "
                  "You can follow it here.")),
    "converted": ("📒", _l("Passed to the concerns ledger"),
                  _l("This is a problem for the whole community. The staff passed it to the "
                     "community's concerns ledger, where it is followed until it is solved.")),
}

# The thanks: one to five stars, each a big tile with its number in words for screen readers.
STARS = {n: ("★" * n, _l("%(n)s of 5 stars", n=n)) for n in range(1, 6)}

# The steps of the progress line, in order.
STEPS = ("received", "published", "claimed", "in_progress", "fulfilled")


def _category_choices():
    return [SelectChoice(key, word) for key, (_pict, word) in CATEGORY_WORDS.items()]


class WishForm(IdentifyForm, TokenForm):
    """One screen: what it is about, the resident (mobile and name as every flow asks them),
    their consent for this purpose. The tablet shows no photo field."""

    kind = HiddenField()
    # validate_choice off: kiosk.wishes refuses a missing or unknown category in words.
    category = RadioField(_l("What is it about?"), choices=_category_choices, validate_choice=False)
    description = TextAreaField(_l("What do you need? Say it in a few words."))
    photo = FileField(_l("A photo (optional)"))
    building_unit = StringField(_l("Building and unit"), validators=[
        Length(max=60, message=_l("Please write it shorter."))])
    visit_times = StringField(_l("Preferred times for a home visit (optional)"), validators=[
        Length(max=200, message=_l("Please write it shorter."))])
    consent = BooleanField(_l("I agree that the hall keeps my name, mobile number and address to "
                              "handle this request; only staff and the volunteer who helps see them."))

    def validate_consent(self, field):
        if not field.data:
            raise ValidationError(_l("Please agree, so that we can handle your request."))


def _int_or_none(value):
    """A radio or select's number; None for no choice or anything else (refused in words)."""
    return whole_number(value)


class ThanksForm(FlaskForm):
    """Five big stars and a word of thanks; kiosk.wishes.thank keeps only the first."""

    rating = RadioField(_l("How happy are you with the help?"), coerce=_int_or_none, validate_choice=False,
                        choices=[SelectChoice(n, words) for n, (_pict, words) in STARS.items()])
    comment = TextAreaField(_l("A word of thanks (optional)"), validators=[
        Length(max=300, message=_l("Please write it shorter."))])


class ClaimForm(MobileMixin, TokenForm):
    """A volunteer (mobile + name) or a partner unit (from the list) offers to take a wish on."""

    who = RadioField(_l("Who is offering to help?"), choices=[
        SelectChoice("volunteer", _l("I am a volunteer")), SelectChoice("unit", _l("We are a partner unit"))],
        validators=[DataRequired(message=_l("Please say whether you are a volunteer or a partner unit."))])
    mobile = StringField(_l("Your mobile number"))
    name = StringField(_l("Your name"), validators=[
        Length(max=60, message=_l("Please write a shorter name."))])
    partner_unit = SelectField(_l("Your unit"), coerce=_int_or_none, validate_choice=False)
    note = TextAreaField(_l("A note for the staff (optional)"), validators=[
        Length(max=200, message=_l("Please write it shorter."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.partner_unit.choices = [SelectChoice("", _l("Choose your unit")),
                                     *(SelectChoice(u.id, u.name) for u in wishes.partner_units())]

    def validate_mobile(self, field):
        if self.who.data != "volunteer":
            return
        if not (field.data or "").strip():
            raise ValidationError(_l("Please enter your mobile number."))
        super().validate_mobile(field)

    def validate_name(self, field):
        if self.who.data == "volunteer" and not (field.data or "").strip():
            raise ValidationError(_l("Please write your name."))

    def validate_partner_unit(self, field):
        if self.who.data == "unit" and field.data is None:
            raise ValidationError(_l("Please choose your unit from the list."))

