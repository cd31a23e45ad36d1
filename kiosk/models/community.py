"""Community life beyond the four flows: one-off activities with sign-up, the staff work log,
and the partner alliance (joint meetings, their agenda items, resource matches).

Activities keep the English class's seat rules in the database the same way (see
kiosk/models/classes.py): one ActivitySeat row per seat, a confirmed sign-up holds one through a
composite foreign key and a unique (activity, seat) pair; a waiting sign-up holds a ticket that
is never reused; one live place per resident (partial unique index); one form token per sign-up.
An activity without a capacity gets its seat rows as people sign up. The deciding code is shared
with the class: kiosk.places.
"""
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import (CheckConstraint, Column, ForeignKey, ForeignKeyConstraint, Index, String, Table, Text,
                        UniqueConstraint, event, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow
from .classes import _in_language

if TYPE_CHECKING:
    from .people import Resident, StaffUser
    from .tea import Concern
    from .wishes import PartnerUnit, Volunteer, Wish

ORGANISERS = ("staff", "team", "partner")


class Activity(db.Model):
    """A one-off activity (a free health check, a legal-advice morning, a holiday outing)."""

    __tablename__ = "activity"
    __table_args__ = (
        CheckConstraint("capacity IS NULL OR capacity BETWEEN 1 AND 1000", name="capacity"),
        CheckConstraint(f"organiser IN {ORGANISERS!r}", name="organiser"),
        CheckConstraint("organiser <> 'partner' OR partner_unit_id IS NOT NULL", name="partner_named"),
        CheckConstraint("starts_at < ends_at", name="times"),
        Index("ix_activity_day", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Printed on the activity poster's QR (<base>/a/<code>): a public address that never changes.
    code: Mapped[str] = mapped_column(String(20), unique=True)
    title_zh: Mapped[str] = mapped_column(String(80))
    title_bo: Mapped[str] = mapped_column(String(160), default="")
    title_en: Mapped[str] = mapped_column(String(80), default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_bo: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    day: Mapped[date]
    starts_at: Mapped[time]
    ends_at: Mapped[time]
    place: Mapped[str] = mapped_column(String(80))
    # None: no limit (everyone who signs up has a place).
    capacity: Mapped[int | None]
    # Who runs it: the hall's staff, a volunteer team (by its name), or a partner unit.
    organiser: Mapped[str] = mapped_column(String(8), default="staff")
    team: Mapped[str] = mapped_column(String(60), default="")
    partner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("partner_unit.id"))
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    partner_unit: Mapped["PartnerUnit | None"] = relationship()

    @property
    def title(self) -> str:
        return _in_language(self.title_zh, self.title_bo, self.title_en)

    @property
    def description(self) -> str:
        return _in_language(self.description_zh, self.description_bo, self.description_en)


class ActivitySeat(db.Model):
    """Seat n of an activity; a confirmed sign-up holds one of them."""

    __tablename__ = "activity_seat"
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id"), primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)


SIGN_UP_STATUSES = ("confirmed", "waiting", "cancelled")
SIGN_UP_LIVE = ("confirmed", "waiting")
SIGN_UP_CHANNELS = ("kiosk", "phone", "staff")


class SignUp(db.Model):
    """A resident's place at an activity: a seat (confirmed) or a ticket on the waiting list."""

    __tablename__ = "sign_up"
    __table_args__ = (
        CheckConstraint(f"status IN {SIGN_UP_STATUSES!r}", name="status"),
        CheckConstraint(f"channel IN {SIGN_UP_CHANNELS!r}", name="channel"),
        CheckConstraint("(status = 'confirmed') = (seat IS NOT NULL)", name="seat_iff_confirmed"),
        CheckConstraint("status <> 'waiting' OR wait_ticket IS NOT NULL", name="waiting_ticket"),
        ForeignKeyConstraint(["activity_id", "seat"], ["activity_seat.activity_id", "activity_seat.number"],
                             name="fk_sign_up_seat_activity_seat"),
        UniqueConstraint("activity_id", "seat", name="uq_sign_up_activity_seat"),
        UniqueConstraint("activity_id", "wait_ticket", name="uq_sign_up_activity_wait_ticket"),
        Index("uq_sign_up_live_resident", "activity_id", "resident_id", unique=True,
              sqlite_where=text("status IN ('confirmed', 'waiting')"),
              postgresql_where=text("status IN ('confirmed', 'waiting')")),
        Index("ix_sign_up_activity_status", "activity_id", "status"),
        Index("ix_sign_up_resident", "resident_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id"))
    # The resident's receipt code: it opens /a/<code>/r/<receipt>, so it is random and long.
    receipt: Mapped[str] = mapped_column(String(8), unique=True)
    form_token: Mapped[str] = mapped_column(String(36), unique=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    status: Mapped[str] = mapped_column(String(10))
    seat: Mapped[int | None]
    wait_ticket: Mapped[int | None]
    channel: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    promoted_at: Mapped[datetime | None]
    called_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # Attendance, taken by staff on the day: None until taken.
    attended: Mapped[bool | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    activity: Mapped[Activity] = relationship()
    resident: Mapped["Resident"] = relationship()


# --- The staff work log ------------------------------------------------------------------------

class WorkKind(db.Model):
    """A kind of field work: home visits, care calls, safety checks, clean-ups; staff add more."""

    __tablename__ = "work_kind"
    id: Mapped[int] = mapped_column(primary_key=True)
    # The built-in kinds have a key the report counts by (home_visit, ...); added ones have none.
    key: Mapped[str | None] = mapped_column(String(20), unique=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_bo: Mapped[str] = mapped_column(String(80), default="")
    name_en: Mapped[str] = mapped_column(String(40), default="")
    pictogram: Mapped[str] = mapped_column(String(16), default="📝")
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def name(self) -> str:
        return _in_language(self.name_zh, self.name_bo, self.name_en)


# The kinds the community reports (home visits, safety checks, clean-ups ...): made with the
# table, by the migration and by create_all alike; staff add others on the work-log page.
BUILT_IN_WORK_KINDS = (
    {"key": "home_visit", "name_zh": "入户走访", "name_bo": "ཁྱིམ་ཚང་དུ་ཐུག་འཕྲད།", "name_en": "Home visit", "pictogram": "🏠"},
    {"key": "care_call", "name_zh": "关怀电话", "name_bo": "བརྩེ་སྐྱོང་ཁ་པར།", "name_en": "Care call", "pictogram": "📞"},
    {"key": "safety_check", "name_zh": "安全检查", "name_bo": "བདེ་འཇགས་ཞིབ་བཤེར།", "name_en": "Safety check", "pictogram": "🧯"},
    {"key": "awareness_talk", "name_zh": "宣传讲座", "name_bo": "ཤེས་རྟོགས་གསལ་བཤད།", "name_en": "Awareness talk", "pictogram": "📢"},
    {"key": "clean_up", "name_zh": "环境清洁", "name_bo": "ཁོར་ཡུག་གཙང་སྦྲ།", "name_en": "Clean-up", "pictogram": "🧹"},
)


@event.listens_for(WorkKind.__table__, "after_create")
def _built_in_kinds(table, connection, **_kw):
    connection.execute(table.insert(), [{**kind, "active": True} for kind in BUILT_IN_WORK_KINDS])


work_log_staff = Table(
    "work_log_staff", db.metadata,
    Column("entry_id", ForeignKey("work_log_entry.id", ondelete="CASCADE"), primary_key=True),
    Column("staff_id", ForeignKey("staff_user.id"), primary_key=True),
)
work_log_volunteer = Table(
    "work_log_volunteer", db.metadata,
    Column("entry_id", ForeignKey("work_log_entry.id", ondelete="CASCADE"), primary_key=True),
    Column("volunteer_id", ForeignKey("volunteer.id"), primary_key=True),
)


class WorkLogEntry(db.Model):
    """One piece of field work, written down on a phone where it was done."""

    __tablename__ = "work_log_entry"
    __table_args__ = (
        CheckConstraint("households >= 0", name="households"),
        Index("ix_work_log_entry_day", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind_id: Mapped[int] = mapped_column(ForeignKey("work_kind.id"))
    day: Mapped[date]
    # The households or places covered, in words ("3号楼 2单元 5户", "东门 bins"), and how many households.
    places: Mapped[str] = mapped_column(String(200), default="")
    households: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    photo: Mapped[str | None] = mapped_column(String(64))
    # A double tap on a phone in the field saves one entry.
    form_token: Mapped[str] = mapped_column(String(36), unique=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    kind: Mapped[WorkKind] = relationship()
    staff: Mapped[list["StaffUser"]] = relationship(secondary=work_log_staff)
    volunteers: Mapped[list["Volunteer"]] = relationship(secondary=work_log_volunteer)


# --- The partner alliance ---------------------------------------------------------------------

joint_meeting_unit = Table(
    "joint_meeting_unit", db.metadata,
    Column("meeting_id", ForeignKey("joint_meeting.id", ondelete="CASCADE"), primary_key=True),
    Column("partner_unit_id", ForeignKey("partner_unit.id"), primary_key=True),
)


class JointMeeting(db.Model):
    """The partner units' joint meeting (联席会议), chaired by the unit of the quarter."""

    __tablename__ = "joint_meeting"
    id: Mapped[int] = mapped_column(primary_key=True)
    # One joint meeting a day: a double submit of the form cannot hold it twice.
    day: Mapped[date] = mapped_column(index=True, unique=True)
    place: Mapped[str] = mapped_column(String(80), default="")
    chair_unit_id: Mapped[int | None] = mapped_column(ForeignKey("partner_unit.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    chair_unit: Mapped["PartnerUnit | None"] = relationship()
    units: Mapped[list["PartnerUnit"]] = relationship(secondary=joint_meeting_unit)
    items: Mapped[list["AgendaItem"]] = relationship(back_populates="meeting", order_by="AgendaItem.id")


AGENDA_SOURCES = ("concern", "partner", "staff")
AGENDA_STATUSES = ("proposed", "resolved", "in_progress", "done", "dropped")


class AgendaItem(db.Model):
    """A topic of a joint meeting, from the concerns ledger or a partner's suggestion, and what
    the alliance resolved to do about it; followed to its end like a concern."""

    __tablename__ = "agenda_item"
    __table_args__ = (
        CheckConstraint(f"source IN {AGENDA_SOURCES!r}", name="source"),
        CheckConstraint(f"status IN {AGENDA_STATUSES!r}", name="status"),
        CheckConstraint("source <> 'concern' OR concern_id IS NOT NULL", name="concern_named"),
        Index("ix_agenda_item_concern", "concern_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("joint_meeting.id"))
    source: Mapped[str] = mapped_column(String(8))
    concern_id: Mapped[int | None] = mapped_column(ForeignKey("concern.id"))
    suggested_by_unit_id: Mapped[int | None] = mapped_column(ForeignKey("partner_unit.id"))
    topic: Mapped[str] = mapped_column(String(200))
    # "The law firm holds a monthly advice morning."
    resolution: Mapped[str] = mapped_column(Text, default="")
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("partner_unit.id"))
    owner_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    due_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(12), default="proposed")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    meeting: Mapped[JointMeeting] = relationship(back_populates="items")
    concern: Mapped["Concern | None"] = relationship()
    suggested_by_unit: Mapped["PartnerUnit | None"] = relationship(foreign_keys=[suggested_by_unit_id])
    owner_unit: Mapped["PartnerUnit | None"] = relationship(foreign_keys=[owner_unit_id])
    owner_staff: Mapped["StaffUser | None"] = relationship()
    steps: Mapped[list["AgendaStep"]] = relationship(back_populates="item", order_by="AgendaStep.at")


class AgendaStep(db.Model):
    """A follow-up note on an agenda item, with the status it moved to (if it moved)."""

    __tablename__ = "agenda_step"
    __table_args__ = (CheckConstraint(f"status IS NULL OR status IN {AGENDA_STATUSES!r}", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_item.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str | None] = mapped_column(String(12))

    item: Mapped[AgendaItem] = relationship(back_populates="steps")


MATCH_KINDS = ("wish", "activity", "agenda_item")


class ResourceMatch(db.Model):
    """A partner unit took on something of the community's: a wish, an activity, an agenda item."""

    __tablename__ = "resource_match"
    __table_args__ = (
        CheckConstraint(f"kind IN {MATCH_KINDS!r}", name="kind"),
        # Exactly the reference of its kind is filled in.
        CheckConstraint("(kind = 'wish') = (wish_id IS NOT NULL) AND (kind = 'activity') = (activity_id IS NOT NULL)"
                        " AND (kind = 'agenda_item') = (agenda_item_id IS NOT NULL)", name="one_reference"),
        UniqueConstraint("partner_unit_id", "wish_id", name="uq_resource_match_unit_wish"),
        UniqueConstraint("partner_unit_id", "activity_id", name="uq_resource_match_unit_activity"),
        UniqueConstraint("partner_unit_id", "agenda_item_id", name="uq_resource_match_unit_agenda_item"),
        Index("ix_resource_match_day", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_unit_id: Mapped[int] = mapped_column(ForeignKey("partner_unit.id"))
    kind: Mapped[str] = mapped_column(String(12))
    wish_id: Mapped[int | None] = mapped_column(ForeignKey("wish.id"))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id"))
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id"))
    day: Mapped[date]
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    partner_unit: Mapped["PartnerUnit"] = relationship()
    wish: Mapped["Wish | None"] = relationship()
    activity: Mapped[Activity | None] = relationship()
    agenda_item: Mapped[AgendaItem | None] = relationship()
