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
from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session

from .extensions import db
from .models import AuditEntry

# Requests to these blueprints are staff work (the back office, the teacher's roster on the tablet).
STAFF_BLUEPRINTS = frozenset({"staff", "teach"})
# Bookkeeping that is not a change to the hall's records.
SKIPPED_TABLES = frozenset({"audit_entry", "login_attempt"})
# (Also every *_token field: the one-use tokens that make a double submit harmless.)
SKIPPED_FIELDS = frozenset({"last_login_at", "session_version", "updated_at"})
# In a new record: the moment it was made is the entry's own time.
SKIPPED_ON_CREATE = frozenset({"created_at"})
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


# Fields whose values never go into the log (shown as "***"): password hashes, one-use tokens,
# and the keys of private pages (a volunteer's link). A setting's `key` is only its name.
SECRET_KEYS = frozenset({"volunteer"})


def _is_secret(table: str, field: str) -> bool:
    return "password" in field or "token" in field or "secret" in field or \
        (field == "key" and table in SECRET_KEYS)


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
    table = state.mapper.local_table.name
    # A record made to override a default (a setting) may say what it replaced: {field: value}.
    replaced = getattr(state.obj(), "audit_replaces", None) or {}
    # The record's own key is the entry's record_id; not a change of its own.
    keys = {state.mapper.get_property_by_column(column).key for column in state.mapper.primary_key}
    changes = {}
    for attr in state.mapper.column_attrs:
        field = attr.key
        if field in SKIPPED_FIELDS or field.endswith("_token") or (action == "create" and (field in SKIPPED_ON_CREATE or field in keys)):
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
            before, after = (replaced.get(field), value) if action == "create" else (value, None)
        if _is_secret(table, field):
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
            # A new record's key is known once inserted (its identity only after the flush).
            identity = state.identity or state.mapper.primary_key_from_instance(obj)
            rows.append({"staff_id": staff_id, "action": action, "record_type": table,
                         "record_id": "-".join(str(part) for part in identity)[:40], "changes": changes})
    if rows:
        session.connection().execute(insert(AuditEntry.__table__), rows)


def init_app(app):
    if not event.contains(Session, "after_flush", _record):
        event.listen(Session, "after_flush", _record)


def forget(values) -> int:
    """Write "***" over these values (a resident's name and mobile, on erasure) wherever the
    log kept them as a field's before or after; the entries themselves stay. Returns how many
    entries changed. Run inside the erasing transaction."""
    values = {str(v) for v in values if v not in (None, "")}
    if not values:
        return 0
    changed = 0
    for entry in db.session.scalars(select(AuditEntry)):
        new = {field: [HIDDEN if str(v) in values else v for v in pair]
               for field, pair in (entry.changes or {}).items()}
        if new != entry.changes:
            entry.changes = new
            changed += 1
    return changed
