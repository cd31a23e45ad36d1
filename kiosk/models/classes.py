"""Courses such as the Saturday English class: their dates, the children registered, attendance.

The seat rules live in the database as well as in kiosk.classes:
- a course has one CourseSeat row per seat (1..capacity); a confirmed registration holds one
  of them through a composite foreign key and a unique (course, seat) pair, so a course cannot
  go over its seats even if two workers decide at the same moment;
- a waiting registration holds a ticket number, unique in its course and never reused, so the
  waiting list has one order and its places (1st, 2nd, ...) are counted, never stored;
- a child (guardian + name) holds at most one live place in a course (partial unique index);
- one form token per registration: a double tap registers once.
"""
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from flask_babel import get_locale
from sqlalchemy import (CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow

if TYPE_CHECKING:
    from .people import Resident, StaffUser


def _in_language(zh: str, bo: str | None, en: str | None) -> str:
    lang = str(get_locale() or "zh_Hans")
    return {"bo": bo, "en": en}.get(lang) or zh


class Course(db.Model):
    __tablename__ = "course"
    __table_args__ = (
        CheckConstraint("capacity BETWEEN 1 AND 200", name="capacity"),
        CheckConstraint("age_min >= 0 AND age_min <= age_max AND age_max <= 120", name="ages"),
        CheckConstraint("starts_on <= ends_on", name="term"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Printed on the course poster's QR (<base>/c/<code>): a public address that never changes.
    code: Mapped[str] = mapped_column(String(20), unique=True)
    title_zh: Mapped[str] = mapped_column(String(80))
    title_bo: Mapped[str] = mapped_column(String(160))
    title_en: Mapped[str] = mapped_column(String(80))
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_bo: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    age_min: Mapped[int]
    age_max: Mapped[int]
    capacity: Mapped[int]
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    teacher: Mapped["StaffUser | None"] = relationship()
    schedules: Mapped[list["CourseSchedule"]] = relationship(
        back_populates="course", order_by="CourseSchedule.first_day")

    @property
    def title(self) -> str:
        return _in_language(self.title_zh, self.title_bo, self.title_en)

    @property
    def description(self) -> str:
        return _in_language(self.description_zh, self.description_bo, self.description_en)


class CourseSeat(db.Model):
    """Seat n of a course exists for n = 1..capacity; a confirmed child sits in one of them."""

    __tablename__ = "course_seat"
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)


SCHEDULE_KINDS = ("term", "holiday")


class CourseSchedule(db.Model):
    """A repeating pattern: these weekdays, this time, between these days (term or holidays).

    The class dates themselves are ClassSession rows made from it, so that one date can be
    cancelled (a public holiday) without touching the pattern.
    """

    __tablename__ = "course_schedule"
    __table_args__ = (
        CheckConstraint(f"kind IN {SCHEDULE_KINDS!r}", name="kind"),
        CheckConstraint("first_day <= last_day", name="days"),
        CheckConstraint("starts_at < ends_at", name="times"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    kind: Mapped[str] = mapped_column(String(10), default="term")
    # Monday = 0 ... Sunday = 6, as Python counts: "5" is Saturdays, "01234" Monday to Friday.
    weekdays: Mapped[str] = mapped_column(String(7))
    starts_at: Mapped[time]
    ends_at: Mapped[time]
    first_day: Mapped[date]
    last_day: Mapped[date]

    course: Mapped[Course] = relationship(back_populates="schedules")


class ClassSession(db.Model):
    """One date of a course (课次). Cancelled dates stay, so residents see "no class on ..."."""

    __tablename__ = "class_session"
    __table_args__ = (
        UniqueConstraint("course_id", "day", name="uq_class_session_course_day"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    day: Mapped[date]
    starts_at: Mapped[time]
    ends_at: Mapped[time]
    cancelled_at: Mapped[datetime | None]
    cancel_note: Mapped[str | None] = mapped_column(String(200))
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    course: Mapped[Course] = relationship()

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None


REGISTRATION_STATUSES = ("confirmed", "waiting", "cancelled", "released")
LIVE_STATUSES = ("confirmed", "waiting")
# School grades a guardian may give instead of an age, and the age a child usually has in them.
GRADES = {"k": 5, "p1": 7, "p2": 8, "p3": 9, "p4": 10, "p5": 11, "p6": 12, "j1": 13, "j2": 14, "j3": 15}
REGISTRATION_CHANNELS = ("kiosk", "phone", "staff")
END_REASONS = ("guardian", "staff", "absences")


class Registration(db.Model):
    """A child's place in a course: a seat (confirmed) or a ticket on the waiting list."""

    __tablename__ = "registration"
    __table_args__ = (
        CheckConstraint(f"status IN {REGISTRATION_STATUSES!r}", name="status"),
        CheckConstraint(f"channel IN {REGISTRATION_CHANNELS!r}", name="channel"),
        CheckConstraint(f"end_reason IN {END_REASONS!r}", name="end_reason"),
        # Exactly the confirmed hold a seat; every waiting one has a ticket.
        CheckConstraint("(status = 'confirmed') = (seat IS NOT NULL)", name="seat_iff_confirmed"),
        CheckConstraint("status <> 'waiting' OR wait_ticket IS NOT NULL", name="waiting_ticket"),
        CheckConstraint("child_age IS NOT NULL OR child_grade IS NOT NULL", name="age_or_grade"),
        ForeignKeyConstraint(["course_id", "seat"], ["course_seat.course_id", "course_seat.number"],
                             name="fk_registration_seat_course_seat"),
        UniqueConstraint("course_id", "seat", name="uq_registration_course_seat"),
        UniqueConstraint("course_id", "wait_ticket", name="uq_registration_course_wait_ticket"),
        Index("uq_registration_live_child", "course_id", "guardian_id", "child_key", unique=True,
              sqlite_where=text("status IN ('confirmed', 'waiting')"),
              postgresql_where=text("status IN ('confirmed', 'waiting')")),
        Index("ix_registration_course_status", "course_id", "status"),
        Index("ix_registration_guardian_created", "guardian_id", "created_at"),  # a resident's page
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    # The guardian's receipt code (8 letters and digits): it opens the status page, so it is
    # random and long enough not to be guessed.
    receipt: Mapped[str] = mapped_column(String(8), unique=True)
    form_token: Mapped[str] = mapped_column(String(36), unique=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    child_name: Mapped[str] = mapped_column(String(60))
    # The name folded for comparison: "Tashi  Dolma" and "tashi dolma" are one child.
    child_key: Mapped[str] = mapped_column(String(60))
    child_age: Mapped[int | None]
    child_grade: Mapped[str | None] = mapped_column(String(4))
    # The guardian's consent to the hall keeping the child's data, apart from their own.
    guardian_consent_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10))
    seat: Mapped[int | None]
    wait_ticket: Mapped[int | None]
    channel: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Moved up from the waiting list: staff call the family (and note when they did).
    promoted_at: Mapped[datetime | None]
    called_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(10))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    course: Mapped[Course] = relationship()
    guardian: Mapped["Resident"] = relationship()

    @property
    def child_first_name(self) -> str:
        """What public pages show of the child: the given name only.

        Chinese names put the family name first (王小明 -> 小明); Tibetan names have no family
        name, and for "Tashi Dolma" the first word is what a receipt needs.
        """
        name = self.child_name.strip()
        if " " in name:
            return name.split()[0]
        if len(name) >= 3 and all("\u4e00" <= ch <= "\u9fff" for ch in name):
            return name[1:]
        return name


MARKS = ("present", "absent", "excused")


class Attendance(db.Model):
    __tablename__ = "attendance"
    __table_args__ = (
        CheckConstraint(f"mark IN {MARKS!r}", name="mark"),
        UniqueConstraint("session_id", "registration_id", name="uq_attendance_session_registration"),
        Index("ix_attendance_registration", "registration_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("class_session.id"))
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"))
    mark: Mapped[str] = mapped_column(String(8))
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    session: Mapped[ClassSession] = relationship()
    registration: Mapped[Registration] = relationship()
