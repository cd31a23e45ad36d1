from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class EnrolDeviceForm(FlaskForm):
    name = StringField(_l("Name of this tablet"), default="Hall tablet", validators=[
        DataRequired(message=_l("Please give the tablet a name.")), Length(max=60)])
