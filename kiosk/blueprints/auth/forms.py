from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(message=_l("Please enter your user name."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Please enter your password."))])
