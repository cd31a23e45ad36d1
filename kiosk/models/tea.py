"""The heart-to-heart afternoon tea (连心下午茶) and the concerns ledger (诉求台账).

What the database keeps on its own:
- one invitation per resident per session, one sign-in per resident per session (signing in
  twice records one attendance);
- one receipt code per concern, statuses, sources, urgencies from fixed lists;
- every change of a concern's status is a ConcernStep row: the ledger's history is never rewritten.
"""
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow

if TYPE_CHECKING:
    from .people import Resident, StaffUser
    from .wishes import Wish


class TeaSession(db.Model):
    """One afternoon tea: when, where, what about, who hosts, which officials come."""

    __tablename__ = "tea_session"
    __table_args__ = (
        CheckConstraint("target BETWEEN 1 AND 60", name="target"),
        CheckConstraint("starts_at < ends_at", name="times"),
        Index("ix_tea_session_day", "day"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    starts_at: Mapped[time]
    ends_at: Mapped[time]
    place: Mapped[str] = mapped_column(String(80))
    theme: Mapped[str] = mapped_column(String(120), default="")
    host: Mapped[str] = mapped_column(String(60), default="")
    # "社区书记 张, 民警 李, 社工 卓玛": the officials who attend, as staff write them.
    officials: Mapped[str] = mapped_column(String(200), default="")
    # How many residents to invite (10-15 is the custom).
    target: Mapped[int] = mapped_column(default=12)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))


ANSWERS = ("pending", "accepted", "declined", "no_answer")


class TeaInvitation(db.Model):
    __tablename__ = "tea_invitation"
    __table_args__ = (
        UniqueConstraint("session_id", "resident_id", name="uq_tea_invitation_session_resident"),
        CheckConstraint(f"answer IN {ANSWERS!r}", name="answer"),
        Index("ix_tea_invitation_resident", "resident_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("tea_session.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    answer: Mapped[str] = mapped_column(String(10), default="pending")
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]

    session: Mapped[TeaSession] = relationship()
    resident: Mapped["Resident"] = relationship()


SIGN_IN_WAYS = ("qr", "tablet", "walk_in", "staff")


class TeaSignIn(db.Model):
    __tablename__ = "tea_sign_in"
    __table_args__ = (
        # Signing in twice (a phone and then the tablet, a double tap) records one attendance.
        UniqueConstraint("session_id", "resident_id", name="uq_tea_sign_in_session_resident"),
        CheckConstraint(f"how IN {SIGN_IN_WAYS!r}", name="how"),
        Index("ix_tea_sign_in_resident", "resident_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("tea_session.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    how: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[TeaSession] = relationship()
    resident: Mapped["Resident"] = relationship()


CONCERN_CATEGORIES = ("roads_drains", "sanitation_bins", "public_toilets", "housing_repairs",
                      "permits_paperwork", "employment", "benefits", "safety", "neighbours", "other")
# answered: answered on the spot, done. The follow-up path: open -> referred -> in_progress ->
# resolved -> informed (the resident was told), or closed_unresolved with a reason.
CONCERN_STATUSES = ("open", "answered", "referred", "in_progress", "resolved", "informed",
                    "closed_unresolved")
CONCERN_SOURCES = ("tea", "walk_in", "phone_call", "wish", "other")
URGENCIES = ("low", "normal", "high")


class Concern(db.Model):
    """An entry of the concerns ledger: a problem a resident raised, followed to its end."""

    __tablename__ = "concern"
    __table_args__ = (
        CheckConstraint(f"category IN {CONCERN_CATEGORIES!r}", name="category"),
        CheckConstraint(f"status IN {CONCERN_STATUSES!r}", name="status"),
        CheckConstraint(f"source IN {CONCERN_SOURCES!r}", name="source"),
        CheckConstraint(f"urgency IN {URGENCIES!r}", name="urgency"),
        CheckConstraint("satisfied IS NULL OR status = 'informed' OR status = 'answered'", name="satisfied"),
        Index("ix_concern_status_created", "status", "created_at"),
        Index("ix_concern_session", "session_id"),
        Index("ix_concern_resident_created", "resident_id", "created_at"),  # a resident's page
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # The receipt code the resident follows it with (/q/<code>).
    code: Mapped[str | None] = mapped_column(String(8), unique=True)
    category: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(80), default="")
    urgency: Mapped[str] = mapped_column(String(8), default="normal")
    source: Mapped[str] = mapped_column(String(10), default="other")
    session_id: Mapped[int | None] = mapped_column(ForeignKey("tea_session.id"))
    # Who raised it (optional): a resident may speak without giving their name.
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"))
    from_wish_id: Mapped[int | None] = mapped_column(ForeignKey("wish.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    # Answered on the spot: what was said.
    answer: Mapped[str] = mapped_column(Text, default="")
    # Registered for follow-up: the proposed solution, who is responsible, by when.
    proposed_solution: Mapped[str] = mapped_column(Text, default="")
    responsible_body: Mapped[str] = mapped_column(String(80), default="")
    due_on: Mapped[date | None]
    closed_reason: Mapped[str] = mapped_column(String(200), default="")
    # Told the outcome, was the resident satisfied? (None: not asked or not known.)
    satisfied: Mapped[bool | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    closed_at: Mapped[datetime | None]

    session: Mapped[TeaSession | None] = relationship()
    resident: Mapped["Resident | None"] = relationship()
    from_wish: Mapped["Wish | None"] = relationship()
    steps: Mapped[list["ConcernStep"]] = relationship(back_populates="concern", order_by="ConcernStep.at")


class ConcernStep(db.Model):
    """One entry of a concern's history: a follow-up note, and the status it moved to, if any."""

    __tablename__ = "concern_step"
    __table_args__ = (
        CheckConstraint(f"status IS NULL OR status IN {CONCERN_STATUSES!r}", name="status"),
        Index("ix_concern_step_concern_at", "concern_id", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("concern.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str | None] = mapped_column(String(20))

    concern: Mapped[Concern] = relationship(back_populates="steps")
    staff: Mapped["StaffUser | None"] = relationship()
