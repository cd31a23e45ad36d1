"""The Red Wrench tool shop: kinds of tool, the physical tools with their labels, loans."""
from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_babel import get_locale
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow

if TYPE_CHECKING:
    from .people import Resident, StaffUser


class ToolKind(db.Model):
    __tablename__ = "tool_kind"
    __table_args__ = (CheckConstraint("loan_days BETWEEN 1 AND 90", name="loan_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_bo: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(60))
    # A pictogram: one emoji, so that a resident who reads neither script can still choose.
    pictogram: Mapped[str] = mapped_column(String(16), default="🔧")
    loan_days: Mapped[int] = mapped_column(default=7)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tools: Mapped[list["Tool"]] = relationship(back_populates="kind", order_by="Tool.code")

    @property
    def name(self) -> str:
        """The name in the page's language, falling back to Chinese."""
        lang = str(get_locale() or "zh_Hans")
        return {"bo": self.name_bo, "en": self.name_en}.get(lang) or self.name_zh


TOOL_STATUSES = ("available", "on_loan", "in_repair", "retired")
CONDITIONS = ("good", "fair", "worn")


class Tool(db.Model):
    """One physical tool with one QR label. Its code is printed on the label and never changes."""

    __tablename__ = "tool"
    __table_args__ = (
        CheckConstraint(f"status IN {TOOL_STATUSES!r}", name="status"),
        CheckConstraint(f"condition IN {CONDITIONS!r}", name="condition"),
        Index("ix_tool_kind_status", "kind_id", "status"),
        UniqueConstraint("kind_id", "number", name="uq_tool_kind_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored upper-case ("RW-0012"); look-ups normalise first, so labels are case-insensitive.
    code: Mapped[str] = mapped_column(String(20), unique=True)
    kind_id: Mapped[int] = mapped_column(ForeignKey("tool_kind.id"))
    # Distinguishes tools of one kind for people ("Drill #3"); unique within the kind.
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(12), default="available")
    condition: Mapped[str] = mapped_column(String(8), default="good")
    # Empty for community purchases; the donor's name or "a resident" for donations.
    donated_by: Mapped[str | None] = mapped_column(String(80))
    acquired_on: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    kind: Mapped[ToolKind] = relationship(back_populates="tools")

    @property
    def label(self) -> str:
        from flask_babel import gettext

        return gettext("%(kind)s #%(number)s", kind=self.kind.name, number=self.number)


RETURN_CONDITIONS = ("fine", "needs_repair")
CHANNELS = ("kiosk", "phone", "staff")


class Loan(db.Model):
    """A tool in a resident's hands, from borrowing to return."""

    __tablename__ = "loan"
    __table_args__ = (
        # The rule "a tool cannot be lent twice", kept by the database itself.
        Index(
            "uq_loan_open_tool",
            "tool_id",
            unique=True,
            sqlite_where=text("returned_at IS NULL"),
            postgresql_where=text("returned_at IS NULL"),
        ),
        # A resident's open loans take numbered slots 1..MAX_OPEN_LOANS, one loan per slot:
        # two borrows racing for a resident's last slot cannot both succeed.
        Index(
            "uq_loan_open_slot",
            "resident_id",
            "slot",
            unique=True,
            sqlite_where=text("returned_at IS NULL"),
            postgresql_where=text("returned_at IS NULL"),
        ),
        CheckConstraint("slot >= 1", name="slot"),
        CheckConstraint(f"return_condition IN {RETURN_CONDITIONS!r}", name="return_condition"),
        CheckConstraint(f"channel IN {CHANNELS!r}", name="channel"),
        Index("ix_loan_due_open", "due_on", sqlite_where=text("returned_at IS NULL"),
              postgresql_where=text("returned_at IS NULL")),
        Index("ix_loan_resident_borrowed", "resident_id", "borrowed_at"),
        Index("ix_loan_tool_borrowed", "tool_id", "borrowed_at"),
        Index("ix_loan_borrowed", "borrowed_at", "id"),  # the ledger's history, newest first
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tool_id: Mapped[int] = mapped_column(ForeignKey("tool.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    slot: Mapped[int]
    borrowed_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_on: Mapped[date]
    returned_at: Mapped[datetime | None]
    return_condition: Mapped[str | None] = mapped_column(String(12))
    return_note: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(8))
    returned_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # One token per borrow/return form: a double tap sends the same token twice and
    # meets the unique index, so it creates one loan, not two.
    borrow_token: Mapped[str] = mapped_column(String(36), unique=True)
    return_token: Mapped[str | None] = mapped_column(String(36), unique=True)

    tool: Mapped[Tool] = relationship()
    resident: Mapped["Resident"] = relationship()

    def is_overdue(self, today: date) -> bool:
        return self.returned_at is None and today > self.due_on


EVENT_KINDS = ("added", "edited", "to_repair", "repaired", "retired", "returned_broken")


class ToolEvent(db.Model):
    """What happened to a tool outside loans (repairs, retirement), and which staff member did it."""

    __tablename__ = "tool_event"
    __table_args__ = (
        CheckConstraint(f"kind IN {EVENT_KINDS!r}", name="kind"),
        Index("ix_tool_event_tool_at", "tool_id", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    tool_id: Mapped[int] = mapped_column(ForeignKey("tool.id"))
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(200))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    staff: Mapped["StaffUser | None"] = relationship()


