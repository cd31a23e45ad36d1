"""The back office's landing page in numbers: what needs doing today (with the alliance's agenda
items past their due date and the activities' families to call), the coming week (with activities
and joint meetings), and the series behind the dashboard's charts (loans, class attendance,
wishes and concerns over time).

No Flask request in here: every function takes `today` (the hall's date), so tests are
deterministic. Timestamps are stored as naive UTC; they are counted on the hall's calendar
(config TIMEZONE), so a loan at 00:30 hall time on the 1st belongs to that month, not the one
before. Each count is one grouped query: the periods' first moments (hall midnights, as UTC) are
worked out here and the database sorts each row into its period (a CASE over those moments), so
a year of a busy hall's loans is added up in SQL and comes back as twelve numbers, the same way
on SQLite and PostgreSQL.
"""
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import case, func, literal, select
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


# --- Series for the charts ----------------------------------------------------------------

@dataclass(frozen=True)
class Point:
    """One bar group of a chart: the period's first day and its numbers (one per series)."""

    start: date
    values: tuple[int, ...]


def _points(starts: list[date], *counts: dict[int, int]) -> list[Point]:
    """One Point per period; counts map a period's index in `starts` to its number."""
    return [Point(s, tuple(c.get(k, 0) for c in counts)) for k, s in enumerate(starts)]


def _period_of(column, bounds: list):
    """The index k of the period [bounds[k], bounds[k + 1]) that `column` falls in, in SQL.
    Rows outside [bounds[0], bounds[-1]) are the caller's to leave out."""
    whens = [(column < bound, k) for k, bound in enumerate(bounds[1:-1])]
    return case(*whens, else_=len(bounds) - 2) if whens else literal(0)


def _counted(bounds: list, column) -> dict[int, int]:
    """How many rows have `column` in each period: {period's index: n}, in one query."""
    period = _period_of(column, bounds)
    return dict(db.session.execute(select(period, func.count()).where(
        column >= bounds[0], column < bounds[-1]).group_by(period)).all())


def _month_bounds(today: date, n: int) -> tuple[list[date], list[datetime]]:
    """The last n months' first days, and their first moments (and the next month's) in UTC."""
    starts = month_starts(today, n)
    after = (starts[-1] + timedelta(days=31)).replace(day=1)
    return starts, [utc_start_of(day) for day in [*starts, after]]


def loans_per_month(today: date, n: int = MONTHS) -> list[Point]:
    """Loans begun in each of the last n months: values (loans,)."""
    starts, bounds = _month_bounds(today, n)
    return _points(starts, _counted(bounds, Loan.borrowed_at))


def attendance_per_week(today: date, n: int = WEEKS) -> list[Point]:
    """Class attendance marks of each of the last n weeks: values (present, marked).

    Marked counts every mark (present, absent, excused); a date nobody marked adds nothing.
    Weeks are those of the class date, not of the moment the teacher ticked the roster.
    """
    starts = week_starts(today, n)
    bounds = [*starts, today + timedelta(days=1)]
    period = _period_of(ClassSession.day, bounds)
    found = db.session.execute(
        select(period, func.sum(case((Attendance.mark == "present", 1), else_=0)), func.count())
        .join(ClassSession, ClassSession.id == Attendance.session_id)
        .where(ClassSession.day >= bounds[0], ClassSession.day < bounds[-1]).group_by(period)).all()
    return _points(starts, {k: present for k, present, _ in found}, {k: marked for k, _, marked in found})


def _opened_and_closed(model, today: date, n: int) -> list[Point]:
    """Rows of `model` created and closed (its closed_at) in each of the last n months."""
    starts, bounds = _month_bounds(today, n)
    return _points(starts, _counted(bounds, model.created_at), _counted(bounds, model.closed_at))


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


# The oldest age, in days, that each bucket but the last holds (the last holds the rest).
AGE_LIMITS = {"under_7": 6, "7_to_30": 30}


def age_bucket(days: int) -> str:
    return next((b for b, oldest in AGE_LIMITS.items() if days <= oldest), AGE_BUCKETS[-1])


def concern_ages(today: date) -> ConcernAges:
    """In one grouped query: a concern is `days` old when written down on the hall day `days`
    before today, so each bucket starts at a hall midnight, compared in UTC."""
    bucket = case(*[(Concern.created_at >= utc_start_of(today - timedelta(days=oldest)), b)
                    for b, oldest in AGE_LIMITS.items()], else_=AGE_BUCKETS[-1])
    late = func.sum(case((Concern.due_on < today, 1), else_=0))
    found = db.session.execute(select(Concern.status, bucket, func.count(), late)
                               .where(Concern.status.in_(FOLLOWED)).group_by(Concern.status, bucket)).all()
    buckets = {s: dict.fromkeys(AGE_BUCKETS, 0) for s in FOLLOWED}
    late_by_status = dict.fromkeys(FOLLOWED, 0)
    for status, b, n, overdue in found:
        buckets[status][b] = n
        late_by_status[status] += overdue
    table = [(s, buckets[s], late_by_status[s]) for s in FOLLOWED]
    totals = {b: sum(buckets[s][b] for s in FOLLOWED) for b in AGE_BUCKETS}
    return ConcernAges(table, totals, sum(late_by_status.values()), sum(totals.values()))


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
