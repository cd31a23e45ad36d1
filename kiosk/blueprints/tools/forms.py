from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, Length

from ...forms import TokenForm


class FindForm(FlaskForm):
    """The scan box: a USB scanner types the label's content and Enter; a person may type the code."""

    class Meta:
        csrf = False  # a GET look-up; it changes nothing

    code = StringField(_l("Tool code"), validators=[
        DataRequired(message=_l("Please scan the label or type the code, like RW-0012."))])


class ReturnForm(TokenForm):
    condition = RadioField(_l("How is the tool?"), choices=[
        SelectChoice("fine", _l("It is fine")), SelectChoice("needs_repair", _l("It needs repair"))],
        validators=[DataRequired(message=_l("Please say whether the tool is fine or needs repair."))])
    note = StringField(_l("What is wrong? (optional)"), validators=[
        Length(max=200, message=_l("Please write it shorter."))])
