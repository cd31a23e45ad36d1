"""Back office: the hall's settings (admins only), one form made from kiosk.settings.SPECS.

Every value is checked by kiosk.settings before any is saved (all or nothing); each error goes
next to its field. A saved change applies from the next request on, in every worker: no restart.
"""
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.widgets import NumberInput, TextInput

from ... import settings as hall_settings
from ...web import render
from . import STAFF_MENU, admin_only, bp

STAFF_MENU.append(("staff.settings", _l("Settings")))

# The language each hall name is written in (for the browser's spelling and fonts).
LANGS = {"HALL_NAME_ZH": "zh-Hans", "HALL_NAME_BO": "bo", "HALL_NAME_EN": "en"}
# The page's sections, in order: (title, keys).
SECTIONS = (
    (_l("The hall"), ("HALL_NAME_ZH", "HALL_NAME_BO", "HALL_NAME_EN", "BASE_URL")),
    (_l("Lending tools"), ("DEFAULT_LOAN_DAYS", "MAX_OPEN_LOANS")),
    (_l("The hall tablet and residents' phones"), ("KIOSK_IDLE_SECONDS", "WISH_LIMIT_PER_MOBILE",
                                                    "WISH_LIMIT_PER_DEVICE")),
    (_l("Security and privacy"), ("LOGIN_MAX_FAILURES", "RETENTION_YEARS")),
)
_placed = {key for _title, keys in SECTIONS for key in keys}
if _others := tuple(spec.key for spec in hall_settings.SPECS if spec.key not in _placed):
    SECTIONS += ((_l("Other settings"), _others),)  # a setting added later still shows


class SettingsForm(FlaskForm):
    """One text field per setting (numbers are checked by kiosk.settings, in our words)."""


for _spec in hall_settings.SPECS:
    setattr(SettingsForm, _spec.key, StringField(
        _spec.label, widget=NumberInput(min=_spec.low, max=_spec.high) if _spec.kind is int else TextInput()))


def hint(spec: hall_settings.Spec) -> str:
    if spec.hint:
        return str(spec.hint)
    if spec.kind is int:
        return _("A whole number from %(low)s to %(high)s.", low=spec.low, high=spec.high)
    return ""


def _page(form, status=200):
    return render("staff/settings.html", form=form, sections=SECTIONS, specs=hall_settings.BY_KEY, hint=hint,
                  langs=LANGS, status=status)


@bp.get("/settings")
@admin_only
def settings():
    """Every setting with its current value and what it does."""
    return _page(SettingsForm(formdata=None, data={k: str(v) for k, v in hall_settings.current().items()}))


@bp.post("/settings")
@admin_only
def settings_save():
    """Save the settings: all of them or, when one is wrong, none (each error next to its field)."""
    form = SettingsForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    values = {spec.key: request.form.get(spec.key, "") for spec in hall_settings.SPECS}
    problems = hall_settings.problems(values)
    if problems:
        for key, refusal in problems.items():
            getattr(form, key).errors = [refusal.message]
        return _page(form, 422)
    changed = hall_settings.save(values)
    if changed:
        flash(_("Saved: %(changes)s.", changes="; ".join(
            f"{hall_settings.BY_KEY[key].label}: {before} → {after}" for key, (before, after) in changed.items())))
    else:
        flash(_("Nothing was changed."))
    return redirect(url_for(".settings"), 303)
