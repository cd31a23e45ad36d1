"""Micro-wishes (微心愿) and help requests, the volunteers and partner units who take them on,
their claims and what was done.

What the database keeps on its own:
- one live claim per wish (a partial unique index): two people claiming at once get one claim;
- one fulfilment per wish;
- one form token per request: a double tap submits once;
- statuses, kinds, categories and ratings from fixed lists (check constraints).

A wish that is a community problem rather than a personal need becomes a Concern of the
ledger (kiosk.models.tea).
"""
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow

if TYPE_CHECKING:
    from .people import Resident, StaffUser

SUB_TEAMS = ("elderly_health", "legal_help", "mobility_care", "repair_skills", "general")


class Volunteer(db.Model):
    """A volunteer of the community's team. Known by mobile, like residents; staff confirm them.

    Their private page (/v/<key>) lists the jobs assigned to them, with the address and the
    mobile number they need; nobody else outside the staff sees those.
    """

    __tablename__ = "volunteer"
    __table_args__ = (CheckConstraint(f"sub_team IN {SUB_TEAMS!r}", name="sub_team"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    mobile: Mapped[str] = mapped_column(String(11), unique=True)
    team: Mapped[str] = mapped_column(String(60), default="")
    sub_team: Mapped[str] = mapped_column(String(20), default="general")
    # Random and long: the address of the volunteer's own page, given to them by staff.
    key: Mapped[str] = mapped_column(String(32), unique=True)
    # A volunteer who first appeared by claiming on the wall is not yet known to staff.
    confirmed_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def masked_mobile(self) -> str:
        from ..residents import mask_mobile

        return mask_mobile(self.mobile)


class PartnerUnit(db.Model):
    """One of the ~23 local organisations (共建单位) that take on residents' wishes."""

    __tablename__ = "partner_unit"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    contact_name: Mapped[str] = mapped_column(String(60), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    # The quarter in which the unit chairs the alliance, as "2026-Q3" (empty: none planned).
    chair_quarter: Mapped[str] = mapped_column(String(7), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


WISH_KINDS = ("wish", "repair", "help")
CATEGORIES = ("school", "daily", "health", "repair", "paperwork", "company", "other")
# received: waiting for staff; published: on the wall; claimed: a claim was confirmed (or is
# waiting for staff); in_progress: being done; fulfilled; declined (with a reason);
# merged: a duplicate of another request; converted: became a concern in the ledger.
WISH_STATUSES = ("received", "published", "claimed", "in_progress", "fulfilled", "declined",
                 "merged", "converted")
WISH_CHANNELS = ("kiosk", "phone", "staff")


class Wish(db.Model):
    """A resident's micro-wish or help request, from submission to its end."""

    __tablename__ = "wish"
    __table_args__ = (
        CheckConstraint(f"kind IN {WISH_KINDS!r}", name="kind"),
        CheckConstraint(f"category IN {CATEGORIES!r}", name="category"),
        CheckConstraint(f"status IN {WISH_STATUSES!r}", name="status"),
        CheckConstraint(f"channel IN {WISH_CHANNELS!r}", name="channel"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
        CheckConstraint("status <> 'merged' OR merged_into_id IS NOT NULL", name="merged_into"),
        Index("ix_wish_status_created", "status", "created_at"),
        Index("ix_wish_resident_created", "resident_id", "created_at"),
        Index("ix_wish_device_created", "device", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The receipt code: it opens the status page, so it is random and long enough not to be guessed.
    code: Mapped[str] = mapped_column(String(8), unique=True)
    form_token: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(String(500))
    building_unit: Mapped[str] = mapped_column(String(60), default="")
    visit_times: Mapped[str] = mapped_column(String(200), default="")
    # A file name under instance/uploads/ (resized, EXIF stripped); never shown on public pages.
    photo: Mapped[str | None] = mapped_column(String(64))
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    consent_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(8))
    # Who sent it, for the rate limit: the phone's random device id or the address; empty on
    # the enrolled hall tablet, which is not limited.
    device: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(12), default="received")
    # What the wall shows instead of the name and address ("Grandma D.", "Building 3").
    alias: Mapped[str] = mapped_column(String(40), default="")
    area: Mapped[str] = mapped_column(String(40), default="")
    decline_reason: Mapped[str] = mapped_column(String(200), default="")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("wish.id"))
    # A home repair goes to a volunteer with repair skills; only they and staff see the address.
    assigned_volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    # When it reached its end: fulfilled, declined, merged into another, or turned into a concern.
    closed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # The resident's thanks once it is fulfilled.
    rating: Mapped[int | None]
    thanks: Mapped[str] = mapped_column(String(300), default="")
    rated_at: Mapped[datetime | None]

    resident: Mapped["Resident"] = relationship()
    assigned_volunteer: Mapped[Volunteer | None] = relationship()
    merged_into: Mapped["Wish | None"] = relationship(remote_side=[id])
    reviewed_by: Mapped["StaffUser | None"] = relationship()


CLAIM_STATUSES = ("pending", "confirmed", "released")


class Claim(db.Model):
    """A volunteer or a partner unit taking a wish on; staff confirm or release it."""

    __tablename__ = "claim"
    __table_args__ = (
        CheckConstraint(f"status IN {CLAIM_STATUSES!r}", name="status"),
        CheckConstraint("(volunteer_id IS NULL) <> (partner_unit_id IS NULL)", name="one_claimant"),
        # The rule "one claim per wish", kept by the database: a second live claim cannot exist.
        Index("uq_claim_live_wish", "wish_id", unique=True,
              sqlite_where=text("status IN ('pending', 'confirmed')"),
              postgresql_where=text("status IN ('pending', 'confirmed')")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wish.id"))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer.id"))
    partner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("partner_unit.id"))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    note: Mapped[str] = mapped_column(String(200), default="")
    form_token: Mapped[str] = mapped_column(String(36), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    wish: Mapped[Wish] = relationship()
    volunteer: Mapped[Volunteer | None] = relationship()
    partner_unit: Mapped[PartnerUnit | None] = relationship()


class Fulfilment(db.Model):
    """What was done for a wish, by whom, how long it took; volunteer hours add up from these."""

    __tablename__ = "fulfilment"
    __table_args__ = (
        UniqueConstraint("wish_id", name="uq_fulfilment_wish_id"),
        CheckConstraint("minutes BETWEEN 0 AND 6000", name="minutes"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wish.id"))
    done_on: Mapped[date]
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer.id"))
    partner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("partner_unit.id"))
    what_was_done: Mapped[str] = mapped_column(Text)
    minutes: Mapped[int] = mapped_column(default=0)
    photo: Mapped[str | None] = mapped_column(String(64))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    wish: Mapped[Wish] = relationship()
    volunteer: Mapped[Volunteer | None] = relationship()
    partner_unit: Mapped[PartnerUnit | None] = relationship()
