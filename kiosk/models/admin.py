"""The back office's own records: the audit log of staff changes, and the hall's settings."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class AuditEntry(db.Model):
    """One staff change to one record: who, when, what, and the changed fields before/after.

    Written by kiosk.audit from the ORM's own change tracking, so a view cannot forget it.
    `staff_id` is empty for changes made by the system (the retention clean-up, the CLI).
    """

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_record", "record_type", "record_id"),
        Index("ix_audit_entry_staff_at", "staff_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    action: Mapped[str] = mapped_column(String(10))  # create, update, delete
    record_type: Mapped[str] = mapped_column(String(40))  # the table's name
    record_id: Mapped[str] = mapped_column(String(40))
    # {field: [before, after]}; secrets are written as "***".
    changes: Mapped[dict] = mapped_column(JSON, default=dict)


class Setting(db.Model):
    """A setting staff changed on the settings page; a missing row means the configured default."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(400))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
