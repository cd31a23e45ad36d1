"""Back office: the audit log (admins only): every staff change to a record, newest first,
filtered by staff member, kind of record, record and dates, and as CSV.

The entries are written by kiosk.audit; this page only reads them. A record links to its own
back-office page when there is one (built defensively: a page may not exist in this version).
"""
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.routing import BuildError
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from ...extensions import db
from ...forms import HallDate, whole_number
from ...models import AuditEntry, StaffUser
from ...pagination import paginate
from ...web import render
from . import STAFF_MENU, admin_only, bp
from .classes import _hall_time
from .exports import csv_response

STAFF_MENU.append(("staff.audit_list", _l("Audit log")))

SYSTEM = "system"  # the staff filter's value for changes made by the system

ACTIONS = {"create": _l("Added"), "update": _l("Changed"), "delete": _l("Removed")}

# The kinds of record, in the staff's words (a table not listed shows its own name).
RECORD_TYPES = {
    "tool_kind": _l("Tool kind"), "tool": _l("Tool"), "tool_event": _l("Tool history"), "loan": _l("Loan"),
    "resident": _l("Resident"), "staff_user": _l("Staff account"), "kiosk_device": _l("Hall tablet"),
    "course": _l("Class"), "course_seat": _l("Class seat"), "course_schedule": _l("Class timetable"),
    "class_session": _l("Class date"), "registration": _l("Class registration"), "attendance": _l("Attendance mark"),
    "tea_session": _l("Afternoon tea"), "tea_invitation": _l("Tea invitation"), "tea_sign_in": _l("Tea sign-in"),
    "concern": _l("Concern"), "concern_step": _l("Concern follow-up"),
    "wish": _l("Wish or help request"), "claim": _l("Claim of a wish"), "fulfilment": _l("Fulfilment of a wish"),
    "volunteer": _l("Volunteer"), "partner_unit": _l("Partner unit"), "setting": _l("Setting"),
}

# Where a record is seen in the back office: table -> (endpoint, URL argument, where the id is:
# "id" for the record's own id, or a field of the entry that names its parent).
LINKS = {
    "tool": ("staff.tool_page", "tool_id", "id"),
    "tool_event": ("staff.tool_page", "tool_id", "tool_id"),
    "loan": ("staff.tool_page", "tool_id", "tool_id"),
    "tool_kind": ("staff.kind_edit", "kind_id", "id"),
    "concern": ("staff.concern_page", "concern_id", "id"),
    "concern_step": ("staff.concern_page", "concern_id", "concern_id"),
    "wish": ("staff.wish_page", "wish_id", "id"),
    "claim": ("staff.wish_page", "wish_id", "wish_id"),
    "fulfilment": ("staff.wish_page", "wish_id", "wish_id"),
    "course": ("staff.course_page", "course_id", "id"),
    "class_session": ("staff.course_page", "course_id", "course_id"),
    "course_schedule": ("staff.course_page", "course_id", "course_id"),
    "registration": ("staff.registration_page", "registration_id", "id"),
    "attendance": ("staff.registration_page", "registration_id", "registration_id"),
    "tea_session": ("staff.tea_page", "session_id", "id"),
    "tea_invitation": ("staff.tea_page", "session_id", "session_id"),
    "tea_sign_in": ("staff.tea_page", "session_id", "session_id"),
    "resident": ("staff.resident_page", "resident_id", "id"),
    "staff_user": ("staff.account_page", "user_id", "id"),
    "volunteer": ("staff.person_edit", "row_id", "id"),
    "partner_unit": ("staff.person_edit", "row_id", "id"),
    "setting": ("staff.settings", None, None),
    "kiosk_device": ("staff.device_list", None, None),
}
_EXTRA_ARGS = {"volunteer": {"people": "volunteers"}, "partner_unit": {"people": "partners"}}


def record_type_name(table: str) -> str:
    return str(RECORD_TYPES.get(table, table))


def record_link(entry: AuditEntry) -> str | None:
    """The back-office page of the entry's record (or of the record it belongs to), if any."""
    endpoint, arg, source = LINKS.get(entry.record_type, (None, None, None))
    if endpoint is None:
        return None
    values = dict(_EXTRA_ARGS.get(entry.record_type, {}))
    if arg:
        if source == "id":
            raw = entry.record_id
        else:
            pair = (entry.changes or {}).get(source) or [None, None]
            raw = pair[1] if pair[1] is not None else pair[0]
        if raw is None or not str(raw).isdigit():
            return None
        values[arg] = int(raw)
    try:
        return url_for(endpoint, **values)
    except BuildError:  # that page is not in this version of the back office
        return None


_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?")


def shown(value, empty="—") -> str:
    """A before/after value as the log shows it: moments (kept in UTC) in hall time."""
    if value is None or value == "":
        return empty
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if isinstance(value, str) and _MOMENT.fullmatch(value):
        try:
            return format_datetime(datetime.fromisoformat(value), "yyyy-MM-dd HH:mm:ss")
        except ValueError:  # free text that only looks like a moment ("2026-13-01T10:00")
            return value
    return str(value)


def field_name(field: str) -> str:
    return field.replace("_", " ")


# --- The filters ----------------------------------------------------------------------------

class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter

    staff = SelectField(_l("Who"), validate_choice=False)
    record_type = SelectField(_l("Kind of record"), validate_choice=False)
    record_id = StringField(_l("Record number"), validators=[Optional(), Length(max=40)])
    since = DateField(_l("From"), validators=[Optional(), HallDate()])
    until = DateField(_l("To"), validators=[Optional(), HallDate()])


def _staff_names() -> dict[int, str]:
    return {u.id: f"{u.display_name} ({u.username})"
            for u in db.session.scalars(select(StaffUser).order_by(StaffUser.display_name))}


def _filters(names: dict[int, str]):
    form = AuditFilterForm(request.args)
    form.staff.choices = [("", _("Everyone")), (SYSTEM, _("The system"))] + \
        [(str(i), name) for i, name in names.items()]
    types = db.session.scalars(select(AuditEntry.record_type).distinct()).all()
    form.record_type.choices = [("", _("All kinds"))] + sorted(
        ((t, record_type_name(t)) for t in types), key=lambda pair: pair[1])
    form.validate()  # a malformed date is left out (and said next to its field)
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    who = form.staff.data or ""
    if who == SYSTEM:
        stmt = stmt.where(AuditEntry.staff_id.is_(None))
    elif (staff_id := whole_number(who)) is not None:
        stmt = stmt.where(AuditEntry.staff_id == staff_id)
    if form.record_type.data:
        stmt = stmt.where(AuditEntry.record_type == form.record_type.data)
    if (form.record_id.data or "").strip():
        stmt = stmt.where(AuditEntry.record_id == form.record_id.data.strip())
    zone = ZoneInfo(current_app.config["TIMEZONE"])

    def utc(day, extra_days=0):  # midnight in the hall, as the naive UTC the log is kept in
        moment = datetime.combine(day + timedelta(days=extra_days), time(0), zone)
        return moment.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)

    if form.since.data and not form.since.errors:
        stmt = stmt.where(AuditEntry.at >= utc(form.since.data))
    if form.until.data and not form.until.errors:
        stmt = stmt.where(AuditEntry.at < utc(form.until.data, 1))
    return form, stmt


def _who(entry: AuditEntry, names: dict[int, str]) -> str:
    if entry.staff_id is None:
        return _("the system")
    return names.get(entry.staff_id, f"#{entry.staff_id}")


@bp.get("/audit")
@admin_only
def audit_list():
    """Every staff change, newest first: when (hall time), who, what, which record, before → after."""
    names = _staff_names()
    form, stmt = _filters(names)
    page = paginate(stmt, request.args.get("page"), current_app.config["PAGE_SIZE"])
    return render("staff/audit_list.html", block="audit_table", form=form, page=page,
                  who=lambda e: _who(e, names), record_link=record_link, record_type_name=record_type_name,
                  actions=ACTIONS, shown=shown, field_name=field_name)


@bp.get("/audit.csv")
@admin_only
def audit_export():
    """The filtered log for Excel: one row per changed field."""
    names = _staff_names()
    _form, stmt = _filters(names)
    header = [_l("When"), _l("Who"), _l("Action"), _l("Kind of record"), _l("Record number"),
              _l("Field"), _l("Before"), _l("After")]

    def rows():
        for entry in db.session.scalars(stmt):
            start = [_hall_time(entry.at), _who(entry, names), str(ACTIONS.get(entry.action, entry.action)),
                     record_type_name(entry.record_type), entry.record_id]
            changes = entry.changes or {}
            if not changes:
                yield [*start, "", "", ""]
            for field, (before, after) in changes.items():
                yield [*start, field, shown(before, ""), shown(after, "")]

    return csv_response("audit-log", header, rows())
