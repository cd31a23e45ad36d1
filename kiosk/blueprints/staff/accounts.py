"""Back office: staff accounts (admins only), and every staff member's own password.

Views read the form and call kiosk.auth, where the rules live (the password policy, a free
user name, an admin never locks themselves out, the hall keeps one active admin); a Refusal
goes next to its field, or above the page. Deactivating, resetting a password or changing a
role ends that account's sessions at once, in every browser.
"""
from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, RadioField, StringField
from wtforms.validators import DataRequired, EqualTo

from ... import auth
from ...extensions import db
from ...forms import refusal_to_field
from ...models import StaffUser
from ...models.people import ROLES
from ...refusal import Refusal
from ...web import render
from . import STAFF_MENU, admin_only, bp, for_coordinators, for_teachers

STAFF_MENU.append(("staff.account_list", _l("Staff accounts")))

ROLE_NAMES = {
    "admin": _l("Admin"),
    "staff": _l("Staff"),
    "teacher": _l("Teacher"),
    "coordinator": _l("Coordinator (volunteers and wishes)"),
}
ROLE_DESCRIPTIONS = {
    "admin": _l("Everything staff can do, and also: staff accounts, the hall's settings, the audit log "
                "and residents' personal-data requests."),
    "staff": _l("The whole back office: tools and loans, classes, afternoon tea and concerns, wishes, "
                "the dashboard and the report. Not accounts, settings or the audit log."),
    "teacher": _l("Only their own classes: the roster and attendance, on the hall tablet and in the "
                  "back office."),
    "coordinator": _l("Only wishes and help requests, volunteers and partner units."),
}
PASSWORD_RULES = _l("At least %(min)s characters; a few words that belong together make a good one. "
                    "Common passwords and passwords containing the user name are refused.",
                    min=auth.PASSWORD_MIN)

_NEW_PASSWORD = _l("Please write the new password.")
_AGAIN = _l("The two passwords are not the same. Please type them again.")


def _role_choices():
    return [(role, ROLE_NAMES[role]) for role in ROLES]


class AccountForm(FlaskForm):
    """Display name and role (the edit form); the new-account form adds a name and a password."""

    display_name = StringField(_l("Name shown in the back office"), validators=[
        DataRequired(message=_l("Please write the name shown in the back office."))])
    # Any value reaches kiosk.auth.check_role, which refuses an unknown role in our words.
    role = RadioField(_l("Role"), choices=_role_choices, validate_choice=False, validators=[
        DataRequired(message=_l("Please choose a role."))])


class NewAccountForm(AccountForm):
    username = StringField(_l("User name (to log in)"), validators=[
        DataRequired(message=_l("Please choose a user name."))])
    password = PasswordField(_l("First password"), validators=[DataRequired(message=_NEW_PASSWORD)])
    password_again = PasswordField(_l("The password again"), validators=[
        DataRequired(message=_NEW_PASSWORD), EqualTo("password", message=_AGAIN)])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(message=_NEW_PASSWORD)])
    password_again = PasswordField(_l("The new password again"), validators=[
        DataRequired(message=_NEW_PASSWORD), EqualTo("password", message=_AGAIN)])


class OwnPasswordForm(ResetPasswordForm):
    current = PasswordField(_l("Your current password"), validators=[
        DataRequired(message=_l("Please write your current password."))])


class ActiveForm(FlaskForm):
    """The deactivate / reactivate button (CSRF only)."""


def _words():
    return {"role_names": ROLE_NAMES, "role_descriptions": ROLE_DESCRIPTIONS, "password_rules": PASSWORD_RULES}


# --- The list -------------------------------------------------------------------------------

@bp.get("/accounts")
@admin_only
def account_list():
    """Every staff account: user name, name, role, active or not, last login."""
    users = db.session.scalars(select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.username)).all()
    return render("staff/account_list.html", users=users, **_words())


# --- A new account --------------------------------------------------------------------------

@bp.get("/accounts/new")
@admin_only
def account_new():
    return render("staff/account_new.html", form=NewAccountForm(formdata=None, role="staff"), **_words())


@bp.post("/accounts/new")
@admin_only
def account_add():
    """Create an account with a first password that the policy allows; its owner can change it later."""
    form = NewAccountForm()
    if form.validate_on_submit():
        try:
            user = auth.create_account(form.username.data, form.display_name.data, form.role.data,
                                       form.password.data)
        except Refusal as refusal:
            refusal_to_field(form, refusal) or form.username.errors.append(refusal.message)
        else:
            flash(_("The account %(username)s was created. Give its owner the first password in person.",
                    username=user.username))
            return redirect(url_for(".account_page", user_id=user.id), 303)
    return render("staff/account_new.html", form=form, status=422, **_words())


# --- One account ----------------------------------------------------------------------------

def _account_or_404(user_id: int) -> StaffUser:
    return db.get_or_404(StaffUser, user_id)


def _account_page(user: StaffUser, status=200, refusal=None, form=None, reset_form=None):
    form = form or AccountForm(formdata=None, obj=user)
    return render("staff/account_page.html", user=user, form=form, refusal=refusal, status=status,
                  reset_form=reset_form or ResetPasswordForm(formdata=None), active_form=ActiveForm(),
                  is_me=user.id == current_user.id, **_words())


@bp.get("/accounts/<int:user_id>")
@admin_only
def account_page(user_id):
    """An account: its name and role, deactivate or reactivate, a new password."""
    return _account_page(_account_or_404(user_id))


@bp.post("/accounts/<int:user_id>")
@admin_only
def account_save(user_id):
    """Change the name and role; a new role applies at once (the account logs in again)."""
    user = _account_or_404(user_id)
    form = AccountForm()
    if form.validate_on_submit():
        try:
            auth.save_account(user.id, form.display_name.data, form.role.data, current_user.id)
        except Refusal as refusal:
            if not refusal_to_field(form, refusal):
                return _account_page(user, status=refusal.status, refusal=refusal, form=form)
        else:
            flash(_("The account %(username)s was saved.", username=user.username))
            return redirect(url_for(".account_page", user_id=user.id), 303)
    return _account_page(user, status=422, form=form)


@bp.post("/accounts/<int:user_id>/<any(deactivate, reactivate):action>")
@admin_only
def account_active(user_id, action):
    """Deactivate (its sessions end at once, in every browser) or let the account in again."""
    user = _account_or_404(user_id)
    if ActiveForm().validate_on_submit():
        try:
            auth.set_active(user.id, action == "reactivate", current_user.id)
        except Refusal as refusal:
            return _account_page(user, status=refusal.status, refusal=refusal)
        flash(_("The account %(username)s can log in again.", username=user.username) if action == "reactivate"
              else _("The account %(username)s is deactivated; it was logged out everywhere.",
                     username=user.username))
    return redirect(url_for(".account_page", user_id=user.id), 303)


@bp.post("/accounts/<int:user_id>/password")
@admin_only
def account_reset(user_id):
    """Give an account a new password (its owner forgot theirs); its sessions end."""
    user = _account_or_404(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            auth.reset_password(user.id, form.password.data, current_user.id)
        except Refusal as refusal:
            if not refusal_to_field(form, refusal):
                return _account_page(user, status=refusal.status, refusal=refusal, reset_form=form)
        else:
            flash(_("%(username)s has a new password and was logged out everywhere. Give them the "
                    "password in person.", username=user.username))
            return redirect(url_for(".account_page", user_id=user.id), 303)
    return _account_page(user, status=422, reset_form=form)


# --- One's own password ---------------------------------------------------------------------

@bp.route("/password", methods=["GET", "POST"])
@for_teachers
@for_coordinators
def account_password():
    """Every staff member changes their own password: the current one, the new one twice.
    Their other browsers are logged out; this one stays logged in."""
    form = OwnPasswordForm()
    if form.validate_on_submit():
        try:
            user = auth.change_own_password(current_user.id, form.current.data, form.password.data)
        except Refusal as refusal:
            refusal_to_field(form, refusal) or form.password.errors.append(refusal.message)
        else:
            login_user(user)  # the new session version: this browser stays in, the others are out
            flash(_("Your password is changed. Your other browsers were logged out."))
            return redirect(url_for(".account_password"), 303)
        return render("staff/account_password.html", form=form, status=422, **_words())
    return render("staff/account_password.html", form=form, status=422 if form.errors else 200, **_words())
