"""The back office's landing page in numbers: what needs doing today (with the alliance's agenda
items past their due date and the activities' families to call), the coming week (with activities
and joint meetings), and the series behind the dashboard's charts (loans, class attendance,
wishes and concerns over time).

No Flask request in here: every function takes `today` (the hall's date), so tests are
deterministic. Timestamps are stored as naive UTC; they are counted on the hall's calendar
(config TIMEZONE), so a loan at 00:30 hall time on the 1st belongs to that month, not the one
before. Each series is one query over its window (the last 12 months or weeks), bucketed in
Python: a hall's volume is small, and the same code runs on SQLite and PostgreSQL.
"""
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from .extensions import db
from .models import (Activity, AgendaItem, Attendance, ClassSession, Concern, JointMeeting, Loan, SignUp, TeaSession,
                     Tool, Wish, WorkLogEntry)

MONTHS = 12
WEEKS = 12
COMING_DAYS = 7  # today and the 6 days after it
MOST_OVERDUE = 5
# Concerns still being followed (the ledger's "open" path), and the age buckets shown for them.
FOLLOWED = ("open", "referred", "in_progress")
AGE_BUCKETS = ("under_7", "7_to_30", "over_30")
# Agenda items being followed after the joint meeting resolved them (kiosk.alliance's FOLLOWED).
ITEMS_FOLLOWED = ("resolved", "in_progress")


# --- Calendar ---------------------------------------------------------------------------------

def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def hall_day(moment: datetime) -> date:
    """The hall's date of a stored (naive UTC) timestamp."""
    return moment.replace(tzinfo=UTC).astimezone(_zone()).date()


def utc_start_of(day: date) -> datetime:
    """Midnight of the hall's `day`, as a naive UTC timestamp to compare stored columns with."""
    return datetime.combine(day, time(0), tzinfo=_zone()).astimezone(UTC).replace(tzinfo=None)


def month_starts(today: date, n: int = MONTHS) -> list[date]:
    """The first days of the last n months, oldest first, ending with today's month."""
    year, month = today.year, today.month
    firsts = []
    for _ in range(n):
        firsts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return firsts[::-1]


def week_starts(today: date, n: int = WEEKS) -> list[date]:
    """The Mondays of the last n weeks, oldest first, ending with this week's Monday."""
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=k) for k in range(n - 1, -1, -1)]


def _month_of(day: date) -> date:
    return day.replace(day=1)


def _week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


# --- Series for the charts ----------------------------------------------------------------

@dataclass(frozen=True)
class Point:
    """One bar group of a chart: the period's first day and its numbers (one per series)."""

    start: date
    values: tuple[int, ...]


def _points(starts: list[date], *counters: Counter) -> list[Point]:
    return [Point(s, tuple(c.get(s, 0) for c in counters)) for s in starts]


def loans_per_month(today: date, n: int = MONTHS) -> list[Point]:
    """Loans begun in each of the last n months: values (loans,)."""
    starts = month_starts(today, n)
    since = utc_start_of(starts[0])
    counted = Counter(_month_of(hall_day(at)) for at in
                      db.session.scalars(select(Loan.borrowed_at).where(Loan.borrowed_at >= since)))
    return _points(starts, counted)


def attendance_per_week(today: date, n: int = WEEKS) -> list[Point]:
    """Class attendance marks of each of the last n weeks: values (present, marked).

    Marked counts every mark (present, absent, excused); a date nobody marked adds nothing.
    Weeks are those of the class date, not of the moment the teacher ticked the roster.
    """
    starts = week_starts(today, n)
    rows = db.session.execute(
        select(ClassSession.day, Attendance.mark).join(ClassSession, ClassSession.id == Attendance.session_id)
        .where(ClassSession.day >= starts[0], ClassSession.day <= today)).all()
    present, marked = Counter(), Counter()
    for day, mark in rows:
        marked[_week_of(day)] += 1
        if mark == "present":
            present[_week_of(day)] += 1
    return _points(starts, present, marked)


def _opened_and_closed(model, today: date, n: int) -> list[Point]:
    """Rows of `model` created and closed (its closed_at) in each of the last n months."""
    starts = month_starts(today, n)
    since = utc_start_of(starts[0])
    rows = db.session.execute(select(model.created_at, model.closed_at).where(
        or_(model.created_at >= since, model.closed_at >= since))).all()
    opened = Counter(_month_of(hall_day(c)) for c, _ in rows if c >= since)
    closed = Counter(_month_of(hall_day(c)) for _, c in rows if c is not None and c >= since)
    return _points(starts, opened, closed)


def concerns_per_month(today: date, n: int = MONTHS) -> list[Point]:
    """Concerns written down and closed in each of the last n months: values (opened, closed).

    Closed is the moment a concern reached an end (answered on the spot, resident informed,
    closed unresolved): the ledger's `closed_at`.
    """
    return _opened_and_closed(Concern, today, n)


def wishes_per_month(today: date, n: int = MONTHS) -> list[Point]:
    """Wishes received and closed in each of the last n months: values (opened, closed).

    A wish is closed when it reaches its end: fulfilled, declined, merged into another, or
    turned into a concern (Wish.closed_at).
    """
    return _opened_and_closed(Wish, today, n)


# --- What needs doing today -----------------------------------------------------------------

def most_overdue(today: date, limit: int = MOST_OVERDUE) -> list[Loan]:
    """The open loans furthest past their due date, with tool and resident loaded."""
    return list(db.session.scalars(
        select(Loan).options(joinedload(Loan.tool).joinedload(Tool.kind), joinedload(Loan.resident))
        .where(Loan.returned_at.is_(None), Loan.due_on < today)
        .order_by(Loan.due_on, Loan.id).limit(limit)))


@dataclass
class ConcernAges:
    """Concerns still followed, by status and by age (days since written down), and overdue."""

    rows: list[tuple[str, dict[str, int], int]]  # (status, {bucket: n}, overdue)
    totals: dict[str, int]
    overdue: int
    total: int


def age_bucket(days: int) -> str:
    if days < 7:
        return "under_7"
    if days <= 30:
        return "7_to_30"
    return "over_30"


def concern_ages(today: date) -> ConcernAges:
    rows = db.session.execute(select(Concern.status, Concern.created_at, Concern.due_on)
                              .where(Concern.status.in_(FOLLOWED))).all()
    buckets = {s: Counter() for s in FOLLOWED}
    late = Counter()
    for status, created_at, due_on in rows:
        buckets[status][age_bucket((today - hall_day(created_at)).days)] += 1
        if due_on is not None and due_on < today:
            late[status] += 1
    table = [(s, {b: buckets[s][b] for b in AGE_BUCKETS}, late[s]) for s in FOLLOWED]
    totals = {b: sum(buckets[s][b] for s in FOLLOWED) for b in AGE_BUCKETS}
    return ConcernAges(table, totals, sum(late.values()), len(rows))


# --- The coming week -------------------------------------------------------------------------

@dataclass
class ActivityPlaces:
    """An activity of the coming week with its places: seats left (None: no limit) and waiting."""

    activity: Activity
    confirmed: int
    waiting: int

    @property
    def seats_left(self) -> int | None:
        if self.activity.capacity is None:
            return None
        return max(self.activity.capacity - self.confirmed, 0)


@dataclass
class Day:
    day: date
    classes: list[ClassSession] = field(default_factory=list)
    teas: list[TeaSession] = field(default_factory=list)
    due: list[Loan] = field(default_factory=list)
    activities: list[ActivityPlaces] = field(default_factory=list)
    meetings: list[JointMeeting] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.classes or self.teas or self.due or self.activities or self.meetings)


def coming_week(today: date, days: int = COMING_DAYS) -> list[Day]:
    """Today and the days after it: class dates (cancelled ones too, marked so), afternoon teas,
    activities (cancelled ones too) with their places, joint meetings, and the open loans due
    back that day."""
    last = today + timedelta(days=days - 1)
    week = {today + timedelta(days=k): Day(today + timedelta(days=k)) for k in range(days)}
    for session in db.session.scalars(
            select(ClassSession).options(joinedload(ClassSession.course))
            .where(ClassSession.day >= today, ClassSession.day <= last)
            .order_by(ClassSession.day, ClassSession.starts_at, ClassSession.id)):
        week[session.day].classes.append(session)
    for tea in db.session.scalars(select(TeaSession).where(TeaSession.day >= today, TeaSession.day <= last)
                                  .order_by(TeaSession.day, TeaSession.starts_at)):
        week[tea.day].teas.append(tea)
    for loan in db.session.scalars(
            select(Loan).options(joinedload(Loan.tool).joinedload(Tool.kind), joinedload(Loan.resident))
            .where(Loan.returned_at.is_(None), Loan.due_on >= today, Loan.due_on <= last)
            .order_by(Loan.due_on, Loan.id)):
        week[loan.due_on].due.append(loan)
    activities = list(db.session.scalars(
        select(Activity).options(joinedload(Activity.partner_unit))
        .where(Activity.day >= today, Activity.day <= last).order_by(Activity.day, Activity.starts_at, Activity.id)))
    places = _places([a.id for a in activities])
    for activity in activities:
        confirmed, waiting = places.get(activity.id, (0, 0))
        week[activity.day].activities.append(ActivityPlaces(activity, confirmed, waiting))
    for meeting in db.session.scalars(
            select(JointMeeting).options(joinedload(JointMeeting.chair_unit), selectinload(JointMeeting.units))
            .where(JointMeeting.day >= today, JointMeeting.day <= last).order_by(JointMeeting.day, JointMeeting.id)):
        week[meeting.day].meetings.append(meeting)
    return list(week.values())


def _places(activity_ids: list[int]) -> dict[int, tuple[int, int]]:
    """{activity id: (confirmed, waiting)} in one query."""
    if not activity_ids:
        return {}
    found: dict[int, list[int]] = {}
    for activity_id, status, n in db.session.execute(
            select(SignUp.activity_id, SignUp.status, func.count())
            .where(SignUp.activity_id.in_(activity_ids), SignUp.status.in_(("confirmed", "waiting")))
            .group_by(SignUp.activity_id, SignUp.status)):
        found.setdefault(activity_id, [0, 0])[0 if status == "confirmed" else 1] = n
    return {k: (v[0], v[1]) for k, v in found.items()}


# --- The community: agenda items past their due date, families to call after a promotion ---------

def overdue_items(today: date) -> list[AgendaItem]:
    """Agenda items still being followed whose due date has passed, the most overdue first."""
    return list(db.session.scalars(
        select(AgendaItem).options(joinedload(AgendaItem.meeting), joinedload(AgendaItem.owner_unit))
        .where(AgendaItem.status.in_(ITEMS_FOLLOWED), AgendaItem.due_on < today)
        .order_by(AgendaItem.due_on, AgendaItem.id)))


def sign_ups_to_call(today: date) -> list[SignUp]:
    """People moved up from an activity's waiting list whom nobody has called yet (for activities
    still to come and not cancelled), the earliest activity first."""
    return list(db.session.scalars(
        select(SignUp).join(Activity, Activity.id == SignUp.activity_id)
        .options(joinedload(SignUp.activity), joinedload(SignUp.resident))
        .where(SignUp.status == "confirmed", SignUp.promoted_at.is_not(None), SignUp.called_at.is_(None),
               Activity.day >= today, Activity.cancelled_at.is_(None))
        .order_by(Activity.day, Activity.starts_at, SignUp.promoted_at, SignUp.id)))


def work_this_month(today: date) -> int:
    """Work-log entries dated in today's month so far."""
    return db.session.scalar(select(func.count()).select_from(WorkLogEntry).where(
        WorkLogEntry.day >= _month_of(today), WorkLogEntry.day <= today)) or 0
