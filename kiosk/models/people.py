"""People: residents (identified by mobile + name), staff accounts, enrolled hall tablets."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class Resident(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    # Normalised to 11 digits (see kiosk.residents.normalise_mobile); one resident per number.
    # Empty once the resident is erased: the row stays so the hall's figures keep counting them.
    mobile: Mapped[str | None] = mapped_column(String(11), unique=True)
    building_unit: Mapped[str | None] = mapped_column(String(60))
    # When the resident agreed to the hall keeping their name and number (PIPL consent).
    consent_at: Mapped[datetime | None]
    # Asked not to be invited to the afternoon tea: the fair rotation skips them.
    tea_opt_out: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the resident's personal fields were removed (their request, or the retention
    # rule); kiosk.people.erase.
    erased_at: Mapped[datetime | None]

    @property
    def masked_mobile(self) -> str:
        from ..residents import mask_mobile

        return mask_mobile(self.mobile)


# admin: everything, also staff accounts, settings, the audit log and personal-data requests;
# staff: the hall's daily work; teacher: their classes' rosters and attendance;
# coordinator: wishes, volunteers and partner units. kiosk.blueprints.staff decides per page.
ROLES = ("admin", "staff", "teacher", "coordinator")


class StaffUser(UserMixin, db.Model):
    __tablename__ = "staff_user"
    __table_args__ = (CheckConstraint(f"role IN {ROLES!r}", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="staff")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Part of the id kept in every login session (get_id): raising it on logout, deactivation
    # or a password reset ends all of this account's sessions, in every browser, at once.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_teacher(self) -> bool:
        return self.role == "teacher"

    @property
    def is_coordinator(self) -> bool:
        return self.role == "coordinator"


class LoginAttempt(db.Model):
    """Failed and successful logins; kept in the database so every worker sees the same count."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_address_at", "address", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(45))
    succeeded: Mapped[bool]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class KioskDevice(db.Model):
    """A browser a staff member marked as the hall tablet; its signed cookie names this row."""

    __tablename__ = "kiosk_device"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    enrolled_by_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    revoked_at: Mapped[datetime | None]
