"""Form pieces shared by every resident flow: identifying with mobile + name, one-use tokens."""
from flask import has_request_context, redirect, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.form import SUBMIT_METHODS, _Auto
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from . import codes
from .residents import InvalidMobile, normalise_mobile


def _typed_fields_only(_meta, _form, formdata=_Auto):
    """Every form is filled in from the posted text fields (request.form) alone.

    Flask-WTF also fills a form from uploaded files and from a JSON body: a file sent under a
    text field's name, or a number or a list in JSON, reached validators that expect text and
    the answer was a 500. Photos are read by the views themselves (request.files, kiosk.photos),
    and no form here is meant to be filled in with JSON.
    """
    if formdata is not _Auto:
        return formdata
    if has_request_context() and request.method in SUBMIT_METHODS and request.form:
        return request.form
    return None


FlaskForm.Meta.wrap_formdata = _typed_fields_only


class MobileMixin:
    """Checks a `mobile` field and normalises it to 11 digits (kiosk.residents.normalise_mobile)."""

    def validate_mobile(self, field):
        try:
            field.data = normalise_mobile(field.data)
        except InvalidMobile:
            raise ValidationError(_l("This is not a mobile number. It has 11 digits and starts "
                                     "with 1, for example 138 0013 8000.")) from None


class IdentifyForm(MobileMixin, FlaskForm):
    mobile = StringField(_l("Mobile number"), validators=[
        DataRequired(message=_l("Please enter your mobile number."))])
    name = StringField(_l("Your name"), validators=[
        DataRequired(message=_l("Please write your name.")),
        Length(max=60, message=_l("Please write a shorter name."))])
    building_unit = StringField(_l("Building and unit (optional)"), validators=[
        Length(max=60, message=_l("Please write it shorter."))])
    consent = BooleanField(_l("I agree that the hall keeps my name and mobile number "
                              "to lend me tools and to call me about them."))


class TokenForm(FlaskForm):
    """A button-only POST: CSRF plus the one-use token that makes a double tap harmless."""

    token = HiddenField(validators=[DataRequired(), Length(min=8, max=36)])


def refusal_to_field(form, refusal) -> bool:
    """Put a rule's refusal next to the field it is about; False when the form has no such
    (visible) field, and the page shows it on top instead."""
    field = getattr(form, refusal.field or "", None)
    if field is None or field.type == "HiddenField":
        return False
    field.errors = [*field.errors, refusal.message]
    return True


class CodeLookupForm(FlaskForm):
    """"I have a receipt code" (a class registration, a wish): a GET look-up, so no CSRF token."""

    class Meta:
        csrf = False

    # No 12-character limit (here or on the page's box): a USB scanner types the receipt QR's
    # whole address, which validate_code reduces to the code.
    code = StringField(_l("Receipt code"), validators=[
        DataRequired(message=_l("Please type the code from your receipt, like ABCD-EFGH."))])

    def validate_code(self, field):
        raw = field.data or ""
        if "://" in raw:
            # A receipt's take-home QR, read by the tablet's camera or a USB scanner, is the
            # receipt page's address (https://hall/c/ENGLISH/r/ABCDEFGH): the code ends it.
            raw = raw.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        code = codes.normalise(raw)
        if code is None:
            raise ValidationError(_l("A receipt code has 8 letters and digits, like ABCD-EFGH."))
        field.data = code


def look_up_code(find, not_found, page, found_url):
    """The "I have a receipt code" look-up every flow shares.

    find(code) -> the record or None; page(lookup, status) -> the page with the box again;
    found_url(record) -> where the code leads. A malformed code is answered with 422, an
    unknown one with 404, each next to the field.
    """
    lookup = CodeLookupForm(request.args)
    if not lookup.validate():
        return page(lookup, 422)
    record = find(lookup.code.data)
    if record is None:
        lookup.code.errors.append(not_found)
        return page(lookup, 404)
    return redirect(found_url(record), 303)


# The years the hall's records can hold: a typo like 0001 or 9999 is refused next to the field,
# not turned into a date the database or the time-zone arithmetic cannot take.
FIRST_YEAR, LAST_YEAR = 2000, 2099
# The largest record number a URL or a form may ask for (the databases' integer).
LARGEST_ID = 2**31 - 1


def whole_number(value, high: int = LARGEST_ID) -> int | None:
    """A number typed or chosen in a form (a count, a record's id), or None for anything else.

    Decimal digits only: full-width ones from a Chinese keyboard count (int() reads "１２" as 12),
    but not "²" or "①", which str.isdigit() lets through and int() then refuses with a 500. At most
    `high`, so that no number reaches a database column it does not fit (and no 10,000-digit string
    reaches int(), which refuses that too).
    """
    text = str(value if value is not None else "").strip()
    if not text or len(text) > len(str(high)) or not text.isdecimal():
        return None
    number = int(text)
    return number if number <= high else None


def record_id(value) -> int:
    """A WTForms `coerce` for a record chosen from a list: its id, or a ValueError (for WTForms'
    "not a valid choice") when the value is no id at all or one past what the database holds."""
    number = whole_number(value)
    if number is None:
        raise ValueError(value)
    return number


def sensible_year(day) -> bool:
    return day is None or FIRST_YEAR <= day.year <= LAST_YEAR


def hall_date_message():
    return _l("Please give a date between %(first)s and %(last)s.", first=FIRST_YEAR, last=LAST_YEAR)


class HallDate:
    """A WTForms validator: the date's year is one the hall's records can hold."""

    def __call__(self, _form, field):
        if not sensible_year(field.data):
            raise ValidationError(hall_date_message())

