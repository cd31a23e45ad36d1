"""The audit log: every staff change to a record, with who, when, and the fields before/after.

Written from SQLAlchemy's own change tracking (an after_flush hook), so every back-office
action is logged without each view remembering to: a page added later is audited the day it
is written. A change is a staff change when it is made during a request to a staff page by a
logged-in account, or inside `acting_as(...)` (the CLI and the retention clean-up, which run
as "the system"). Residents' own actions (a borrow, a registration) are not staff changes:
they are recorded in their own rows (loan, registration, ...) with the channel they came by.

Bulk UPDATE/DELETE statements bypass the ORM's tracking; domain code uses them only for
residents' actions (a borrow's compare-and-set), not for staff changes.
"""
import contextvars
from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal

from flask import g, has_request_context, request
from sqlalchemy import event, inspect, insert
from sqlalchemy.orm import Session

from .models import AuditEntry

# Requests to these blueprints are staff work (the back office, the teacher's roster on the tablet).
STAFF_BLUEPRINTS = frozenset({"staff", "teach"})
# Bookkeeping that is not a change to the hall's records.
SKIPPED_TABLES = frozenset({"audit_entry", "login_attempt"})
SKIPPED_FIELDS = frozenset({"last_login_at", "session_version", "updated_at"})
HIDDEN = "***"

_SYSTEM = object()
_actor: contextvars.ContextVar = contextvars.ContextVar("audit_actor", default=None)


@contextmanager
def acting_as(staff_id: int | None):
    """Attribute the changes made inside the block to this staff member (None: the system)."""
    token = _actor.set(_SYSTEM if staff_id is None else staff_id)
    try:
        yield
    finally:
        _actor.reset(token)


def _staff_member():
    """(True, staff id or None) when the change being flushed is a staff change, else (False, None)."""
    explicit = _actor.get()
    if explicit is not None:
        return True, None if explicit is _SYSTEM else explicit
    if has_request_context() and request.blueprint in STAFF_BLUEPRINTS:
        # Loaded by login_required before the view ran; never loaded here, inside a flush.
        user = g.get("_login_user")
        if user is not None and getattr(user, "is_authenticated", False):
            return True, user.id
    return False, None


def _is_secret(field: str) -> bool:
    return "password" in field or "token" in field or field == "key"


def _plain(value):
    """A value as JSON can keep it."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def _changes(state, action: str) -> dict:
    changes = {}
    for attr in state.mapper.column_attrs:
        field = attr.key
        if field in SKIPPED_FIELDS:
            continue
        if action == "update":
            history = state.attrs[field].history
            if not history.has_changes():
                continue
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            if before == after:
                continue
        else:
            # The values as they are in memory: nothing is loaded inside a flush.
            value = state.dict.get(field)
            if value is None:
                continue
            before, after = (None, value) if action == "create" else (value, None)
        if _is_secret(field):
            before, after = (HIDDEN if before is not None else None), (HIDDEN if after is not None else None)
        changes[field] = [_plain(before), _plain(after)]
    return changes


def _record(session: Session, _flush_context):
    audited, staff_id = _staff_member()
    if not audited:
        return
    rows = []
    for action, objects in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            state = inspect(obj)
            table = state.mapper.local_table.name
            if table in SKIPPED_TABLES:
                continue
            changes = _changes(state, action)
            if action == "update" and not changes:
                continue
            identity = state.identity or ()
            rows.append({"staff_id": staff_id, "action": action, "record_type": table,
                         "record_id": "-".join(str(part) for part in identity)[:40], "changes": changes})
    if rows:
        session.connection().execute(insert(AuditEntry.__table__), rows)


def init_app(app):
    if not event.contains(Session, "after_flush", _record):
        event.listen(Session, "after_flush", _record)
