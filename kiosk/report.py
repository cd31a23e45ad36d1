"""The half-year report: the figures the community publishes, for any range of hall dates.

Every figure is measured on the rows behind it, and those rows are what the report's rows pages
and exports show, so each number can be traced:

- a RowSet is one query of labelled columns for a Period (loans borrowed in it, concerns
  resolved in it, ...);
- a Figure names its area, its label and how it is measured on its rows: the number of rows
  (optionally only those whose column has a value), the sum of a column, the median of a column,
  or the share of rows whose column has a value. "Distinct borrowers" is a RowSet grouped by
  resident, so its figure is a count of rows like the others.

The numbers come from SQL aggregates over the row queries (one SELECT for all of them, plus one
small query per median); the rows themselves are read only for a rows page or an export. Those
statements are built once per set of figures, with the period's dates as parameters.

AREAS and FIGURES are registries: another area appends its own with `add_area` / `add_figure`.

What counts, where the data could be read more than one way:
- a tea session or a class date is *held* when its day is in the range and not after today
  (a class date also must not be cancelled; tea sessions cannot be cancelled, only moved);
- a concern is *resolved* when it was answered on the spot or moved to "resolved" (its history
  step says when); "informed" follows "resolved" and does not count again; "closed unresolved"
  is not resolved. Days to resolve run from when it was recorded to that step, in days with
  hours as a fraction (answered on the spot: 0);
- a wish is *claimed* in the range when its claim was confirmed in it (released claims do not
  count; recording a fulfilment confirms a waiting claim);
- a *resource match* is a ResourceMatch dated in the range: a partner unit took on a wish (its
  claim confirmed), an activity or an agenda item;
- fulfilments, volunteer services, hours and people served count by the day the work was done;
- an activity is *held* like a class date (in the range, not after today, not cancelled); its
  sign-ups count by when they were made, whatever became of them (like class registrations); its
  attendance is the sign-ups marked attended at activities held in the range;
- field work counts the work-log entries dated in the range by their kind's key (home visits, care
  calls, ...; kinds staff added have no key and count as other work); households covered is the
  sum of the households of the home visits;
- a joint meeting is *held* when its day is in the range and not after today; its agenda items are
  the topics discussed; a *resolution* is an item of those meetings that has a resolution written
  down and has moved past "proposed"; an item is *done* when it was closed as done in the range
  (whichever meeting it came from).

Rows identify people by number only ("R-00012" for resident 12), never by name or mobile: the
export may be shared with the sub-district office.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, DateTime, Float, Select, String, and_, bindparam, case, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from .extensions import db
from .lending import hall_today
from .models import (Activity, AgendaItem, Attendance, Claim, ClassSession, Concern, ConcernStep, Course,
                     Fulfilment, JointMeeting, Loan, PartnerUnit, Registration, ResourceMatch, SignUp, TeaSession,
                     TeaSignIn, Tool, ToolKind, Wish, WorkKind, WorkLogEntry)
from .models.community import joint_meeting_unit, work_log_staff, work_log_volunteer
from .refusal import Refusal

# --- The period -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """[start, end] in hall dates, both included; `today` decides what has been held so far.

    The row queries read only start, end, since, until and held_until, so that they can be built
    with SQL parameters in their place (PARAMETERS) and run for any period."""

    start: date
    end: date
    today: date
    # The same range as moments, naive UTC like the stored timestamps: [since, until).
    since: datetime
    until: datetime
    # The last day on which something can have been held: the end, or today if earlier.
    held_until: date

    def parameters(self) -> dict:
        return {name: getattr(self, name) for name in ("start", "end", "since", "until", "held_until")}


# A period whose dates are SQL parameters, to build measure()'s statements once (see _statements).
PARAMETERS = Period(bindparam("start", type_=Date), bindparam("end", type_=Date), None,
                    bindparam("since", type_=DateTime), bindparam("until", type_=DateTime),
                    bindparam("held_until", type_=Date))


def _utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def period(start: date, end: date, today: date | None = None) -> Period:
    if start > end:
        raise Refusal("range", _l("The last day must not be before the first day."), field="end")
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    today = today or hall_today()
    return Period(start, end, today, _utc(start, zone), _utc(end + timedelta(days=1), zone), min(end, today))


def half_year(day: date) -> tuple[date, date]:
    """The half year `day` is in: January-June or July-December."""
    if day.month <= 6:
        return date(day.year, 1, 1), date(day.year, 6, 30)
    return date(day.year, 7, 1), date(day.year, 12, 31)


def last_half_year(day: date) -> tuple[date, date]:
    start, _end = half_year(day)
    return half_year(start - timedelta(days=1))


def to_hall_time(moment: datetime | None) -> datetime | None:
    """A stored moment (naive UTC) as the hall's clock shows it (naive), for rows and Excel."""
    if moment is None:
        return None
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)


class days_between(FunctionElement):
    """Days from the first moment to the second, with hours as a fraction, on both databases."""

    type = Float()
    name = "days_between"
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_sqlite(element, compiler, **kw):
    first, second = element.clauses.clauses
    return f"(julianday({compiler.process(second, **kw)}) - julianday({compiler.process(first, **kw)}))"


@compiles(days_between, "postgresql")
def _days_postgresql(element, compiler, **kw):
    first, second = element.clauses.clauses
    return (f"(EXTRACT(EPOCH FROM ({compiler.process(second, **kw)} - {compiler.process(first, **kw)}))"
            f" / 86400.0)")


# --- The registry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Area:
    key: str
    label: object
    sheet: object = None  # a shorter name for its Excel sheet (at most 31 characters)


@dataclass(frozen=True)
class Col:
    """A column of rows. kind: text, number, date, datetime (stored UTC, shown in hall time), time.
    prefix: the value is a record's id, shown as "<prefix>-00012". words: the name of the list of
    words the view translates the stored key with (statuses, categories)."""

    key: str
    label: object
    kind: str = "text"
    prefix: str | None = None
    words: str | None = None


@dataclass(frozen=True)
class RowSet:
    key: str
    title: object
    columns: tuple[Col, ...]
    query: Callable[[Period], Select]  # labelled with the columns' keys, ordered

    def stmt(self, p: Period) -> Select:
        return self.query(p)


@dataclass(frozen=True)
class Figure:
    """measure: count (rows; with `only`, rows whose column has that value), sum (of `column`,
    divided by `scale`), median (of `column`), share (of rows whose `column` has the `only` value).
    unit says how to show it: count, hours, days, percent."""

    key: str
    area: str
    label: object
    rows: RowSet
    measure: str = "count"
    column: str | None = None
    only: object = None
    scale: int = 1
    unit: str = "count"

    def row_stmt(self, p: Period) -> Select:
        """The rows behind this figure (for a share: all rows it is a share of)."""
        stmt = self.rows.stmt(p)
        if self.measure == "count" and self.only is not None:
            sub = stmt.subquery()
            return select(sub).where(sub.c[self.column] == self.only)
        return stmt


AREAS: list[Area] = []
FIGURES: list[Figure] = []


def add_area(key: str, label, sheet=None) -> Area:
    area = Area(key, label, sheet)
    AREAS.append(area)
    return area


def add_figure(figure: Figure) -> Figure:
    if any(f.key == figure.key for f in FIGURES):
        raise ValueError(f"figure {figure.key} exists")
    if figure.area not in {a.key for a in AREAS}:
        raise ValueError(f"no area {figure.area}")
    FIGURES.append(figure)
    # In the order of the areas (a stable sort: in the order added within an area), as they are shown.
    order = {a.key: n for n, a in enumerate(AREAS)}
    FIGURES.sort(key=lambda f: order[f.area])
    return figure


def figure(key: str) -> Figure | None:
    return next((f for f in FIGURES if f.key == key), None)


def figures_of(area_key: str) -> list[Figure]:
    return [f for f in FIGURES if f.area == area_key]


def rowsets_of(area_key: str) -> list[RowSet]:
    """The area's row sets, each once (several figures may be measured on the same rows)."""
    seen: dict[str, RowSet] = {}
    for f in figures_of(area_key):
        seen.setdefault(f.rows.key, f.rows)
    return list(seen.values())


# --- Measuring ------------------------------------------------------------------------------


def _aggregate(f: Figure, p: Period):
    sub = f.rows.stmt(p).order_by(None).subquery()
    if f.measure == "count":
        stmt = select(func.count()).select_from(sub)
        if f.only is not None:
            stmt = stmt.where(sub.c[f.column] == f.only)
    elif f.measure == "sum":
        stmt = select(func.coalesce(func.sum(sub.c[f.column]), 0))
    elif f.measure == "share":
        stmt = select(func.avg(case((sub.c[f.column] == f.only, 1.0), else_=0.0)))
    else:
        raise ValueError(f.measure)
    return stmt.scalar_subquery()


def _finish(f: Figure, raw):
    if raw is None:
        return None
    if f.measure == "count":
        return int(raw)
    if f.measure == "sum":
        return round(float(raw) / f.scale, 1) if f.scale != 1 else int(raw)
    return round(float(raw), 4)


@dataclass
class _Statements:
    """measure()'s statements for a list of figures, with PARAMETERS for the period's dates."""

    figures: list[Figure]  # kept here, so that the identities in _BUILT's key stay theirs
    in_sql: list[Figure]
    together: Select | None  # every count, sum and share, in one SELECT
    medians: list[tuple[Figure, Select]]  # each median's column


# Building the SELECT of ~35 subqueries costs more than running it: built once per list of figures
# (by the figures' identities), then run with each period's dates.
_BUILT: dict[tuple[int, ...], _Statements] = {}


def _statements(figures: list[Figure]) -> _Statements:
    key = tuple(map(id, figures))
    if key not in _BUILT:
        in_sql = [f for f in figures if f.measure != "median"]
        together = select(*[_aggregate(f, PARAMETERS).label(f"v{i}") for i, f in enumerate(in_sql)]) \
            if in_sql else None
        medians = []
        for f in figures:
            if f.measure == "median":
                sub = f.rows.stmt(PARAMETERS).order_by(None).subquery()
                medians.append((f, select(sub.c[f.column])))
        _BUILT[key] = _Statements(list(figures), in_sql, together, medians)
    return _BUILT[key]


def measure(p: Period, figures: list[Figure] | None = None) -> dict[str, int | float | None]:
    """{figure key: value}: one SELECT for the counts, sums and shares, one query per median.
    A median or share of no rows is None."""
    built = _statements(FIGURES if figures is None else figures)
    values: dict[str, int | float | None] = {}
    if built.together is not None:
        row = db.session.execute(built.together, p.parameters()).one()
        values.update({f.key: _finish(f, raw) for f, raw in zip(built.in_sql, row)})
    for f, stmt in built.medians:
        found = [float(v) for v in db.session.scalars(stmt, p.parameters()) if v is not None]
        values[f.key] = round(median(found), 1) if found else None
    return {f.key: values[f.key] for f in built.figures}


# How long the report page may show figures worked out before, per worker. A range that has ended
# changes only when someone corrects one of its records (a mark ticked late, a work-log entry
# dated back): such a correction shows on the rows pages (read live) at once, and in the figures
# within ENDED_SECONDS. A range that reaches today changes with every loan and sign-in: kept only
# LIVE_SECONDS. The page says as of when; the exports (CSV, Excel) are always worked out afresh.
ENDED_SECONDS = 600
LIVE_SECONDS = 60


def kept_seconds(p: Period) -> int:
    return ENDED_SECONDS if p.end < p.today else LIVE_SECONDS


def resident_number(resident_id: int | None) -> str:
    return "" if resident_id is None else f"R-{resident_id:05d}"


def cell(col: Col, value):
    """A stored value as rows show it: numbers for records, hall time for moments."""
    if value is None:
        return None
    if col.prefix:
        return f"{col.prefix}-{int(value):05d}"
    if col.kind == "datetime":
        return to_hall_time(value).replace(microsecond=0)
    if col.kind == "number" and isinstance(value, float):
        return round(value, 1)
    return value


def rows(stmt: Select, columns: tuple[Col, ...]) -> list[list]:
    """All rows of a statement, as cells (for exports)."""
    return [[cell(c, r._mapping[c.key]) for c in columns] for r in db.session.execute(stmt)]


# --- Areas and figures ------------------------------------------------------------------------

add_area("alliance", _l("Partner alliance"))
add_area("tea", _l("Afternoon tea"))
add_area("concerns", _l("Concerns ledger"))
add_area("wishes", _l("Wishes"))
add_area("matches", _l("Resource matches with partner units"), _l("Resource matches"))
add_area("activities", _l("Community activities"))
add_area("classes", _l("Classes"))
add_area("fieldwork", _l("Field work"))
add_area("tools", _l("Tool shop"))
add_area("volunteers", _l("Volunteers"))

RESIDENT = Col("resident", _l("Resident number"), prefix="R")
WISH = Col("wish", _l("Wish number"), prefix="W")
CATEGORY = Col("category", _l("Kind of wish"), words="wish_category")
VOLUNTEER = Col("volunteer", _l("Volunteer number"), prefix="V")
UNIT = Col("partner_unit", _l("Partner unit"))
COURSE = Col("course", _l("Class code"))
REGISTRATION = Col("registration", _l("Registration number"), prefix="REG")


def _in(column, p: Period):
    return and_(column >= p.since, column < p.until)


# Tea sessions held (day in range, not after today), with how many signed in.
def _tea_sessions(p: Period) -> Select:
    signed = (select(func.count()).where(TeaSignIn.session_id == TeaSession.id)
              .correlate(TeaSession).scalar_subquery())
    return (select(TeaSession.id.label("tea"), TeaSession.day.label("day"), TeaSession.starts_at.label("starts_at"),
                   TeaSession.place.label("place"), TeaSession.theme.label("theme"), signed.label("sign_ins"))
            .where(TeaSession.day.between(p.start, p.held_until))
            .order_by(TeaSession.day, TeaSession.starts_at, TeaSession.id))


def _tea_residents(p: Period) -> Select:
    return (select(TeaSignIn.resident_id.label("resident"), func.count().label("sign_ins"),
                   func.min(TeaSession.day).label("first_day"), func.max(TeaSession.day).label("last_day"))
            .join(TeaSession, TeaSession.id == TeaSignIn.session_id)
            .where(TeaSession.day.between(p.start, p.held_until))
            .group_by(TeaSignIn.resident_id).order_by(TeaSignIn.resident_id))


TEA = Col("tea", _l("Tea session number"), prefix="T")
DAY = Col("day", _l("Date"), "date")
SIGN_INS = Col("sign_ins", _l("Sign-ins"), "number")
TEA_SESSIONS = RowSet("tea_sessions", _l("Tea sessions held"), (
    TEA, DAY, Col("starts_at", _l("Starts at"), "time"), Col("place", _l("Venue")), Col("theme", _l("Theme")),
    SIGN_INS), _tea_sessions)
TEA_RESIDENTS = RowSet("tea_residents", _l("Residents who signed in at a tea"), (
    RESIDENT, SIGN_INS, Col("first_day", _l("First tea"), "date"), Col("last_day", _l("Last tea"), "date")),
    _tea_residents)
add_figure(Figure("tea_held", "tea", _l("Tea sessions held"), TEA_SESSIONS))
add_figure(Figure("tea_residents", "tea", _l("Residents who signed in"), TEA_RESIDENTS))


# Concerns: collected (recorded in range); resolved (answered on the spot, or moved to resolved).
CONCERN = Col("concern", _l("Concern number"), prefix="C")
CONCERN_COLUMNS = (CONCERN, Col("created", _l("Recorded"), "datetime"),
                   Col("concern_category", _l("Kind of problem"), words="concern_category"),
                   Col("source", _l("Raised at"), words="concern_source"),
                   Col("status", _l("Status"), words="concern_status"))


def _concerns_collected(p: Period) -> Select:
    return (select(Concern.id.label("concern"), Concern.created_at.label("created"),
                   Concern.category.label("concern_category"), Concern.source.label("source"),
                   Concern.status.label("status"))
            .where(_in(Concern.created_at, p)).order_by(Concern.created_at, Concern.id))


def _concerns_resolved(p: Period) -> Select:
    step = (select(ConcernStep.concern_id.label("concern_id"), func.min(ConcernStep.at).label("at"))
            .where(ConcernStep.status.in_(("answered", "resolved"))).group_by(ConcernStep.concern_id).subquery())
    return (select(Concern.id.label("concern"), Concern.created_at.label("created"),
                   Concern.category.label("concern_category"), Concern.source.label("source"),
                   Concern.status.label("status"), step.c.at.label("resolved"),
                   days_between(Concern.created_at, step.c.at).label("days"))
            .join(step, step.c.concern_id == Concern.id)
            .where(_in(step.c.at, p)).order_by(step.c.at, Concern.id))


CONCERNS_COLLECTED = RowSet("concerns_collected", _l("Concerns collected"), CONCERN_COLUMNS, _concerns_collected)
CONCERNS_RESOLVED = RowSet("concerns_resolved", _l("Concerns resolved"), CONCERN_COLUMNS + (
    Col("resolved", _l("Resolved"), "datetime"), Col("days", _l("Days to resolve"), "number")), _concerns_resolved)
add_figure(Figure("concerns_collected", "concerns", _l("Concerns collected"), CONCERNS_COLLECTED))
add_figure(Figure("concerns_resolved", "concerns", _l("Concerns resolved"), CONCERNS_RESOLVED))
add_figure(Figure("concerns_median_days", "concerns", _l("Median days to resolve"), CONCERNS_RESOLVED,
                  measure="median", column="days", unit="days"))


# Wishes: collected, claimed (claim confirmed in range), fulfilled (work done in range).
def _wishes_collected(p: Period) -> Select:
    return (select(Wish.id.label("wish"), Wish.created_at.label("created"), Wish.kind.label("kind"),
                   Wish.category.label("category"), Wish.channel.label("channel"), Wish.status.label("wish_status"))
            .where(_in(Wish.created_at, p)).order_by(Wish.created_at, Wish.id))


def _claims(p: Period) -> Select:
    return (select(Claim.wish_id.label("wish"), Claim.decided_at.label("confirmed"), Wish.category.label("category"),
                   Claim.volunteer_id.label("volunteer"), PartnerUnit.name.label("partner_unit"))
            .join(Wish, Wish.id == Claim.wish_id).outerjoin(PartnerUnit, PartnerUnit.id == Claim.partner_unit_id)
            .where(Claim.status == "confirmed", _in(Claim.decided_at, p)).order_by(Claim.decided_at, Claim.id))


def _fulfilments(p: Period) -> Select:
    return (select(Fulfilment.wish_id.label("wish"), Fulfilment.done_on.label("done_on"),
                   Wish.category.label("category"), Fulfilment.volunteer_id.label("volunteer"),
                   PartnerUnit.name.label("partner_unit"), Fulfilment.minutes.label("minutes"),
                   Wish.resident_id.label("resident"))
            .join(Wish, Wish.id == Fulfilment.wish_id)
            .outerjoin(PartnerUnit, PartnerUnit.id == Fulfilment.partner_unit_id)
            .where(Fulfilment.done_on.between(p.start, p.end)).order_by(Fulfilment.done_on, Fulfilment.id))


def _people_served(p: Period) -> Select:
    return (select(Wish.resident_id.label("resident"), func.count().label("services"),
                   func.sum(Fulfilment.minutes).label("minutes"))
            .join(Wish, Wish.id == Fulfilment.wish_id)
            .where(Fulfilment.done_on.between(p.start, p.end))
            .group_by(Wish.resident_id).order_by(Wish.resident_id))


CONFIRMED = Col("confirmed", _l("Claim confirmed"), "datetime")
MINUTES = Col("minutes", _l("Minutes"), "number")
WISHES_COLLECTED = RowSet("wishes_collected", _l("Wishes collected"), (
    WISH, Col("created", _l("Received"), "datetime"), Col("kind", _l("Kind of request"), words="wish_kind"), CATEGORY,
    Col("channel", _l("Sent from"), words="channel"), Col("wish_status", _l("Status"), words="wish_status")),
    _wishes_collected)
WISHES_CLAIMED = RowSet("wishes_claimed", _l("Wishes claimed"), (WISH, CONFIRMED, CATEGORY, VOLUNTEER, UNIT), _claims)
FULFILMENTS = RowSet("fulfilments", _l("Wishes fulfilled"), (
    WISH, Col("done_on", _l("Done on"), "date"), CATEGORY, VOLUNTEER, UNIT, MINUTES, RESIDENT), _fulfilments)
add_figure(Figure("wishes_collected", "wishes", _l("Wishes collected"), WISHES_COLLECTED))
add_figure(Figure("wishes_claimed", "wishes", _l("Wishes claimed"), WISHES_CLAIMED))
add_figure(Figure("wishes_fulfilled", "wishes", _l("Wishes fulfilled"), FULFILMENTS))


# Classes: registrations made in range, whatever became of them (the class's sign-ups).
def _registrations(p: Period) -> Select:
    return (select(Registration.id.label("registration"), Registration.created_at.label("created"),
                   Course.code.label("course"), Registration.status.label("registration_status"),
                   Registration.channel.label("channel"))
            .join(Course, Course.id == Registration.course_id)
            .where(_in(Registration.created_at, p)).order_by(Registration.created_at, Registration.id))


REGISTRATIONS = RowSet("registrations", _l("Class registrations"), (
    REGISTRATION, Col("created", _l("Registered"), "datetime"), COURSE,
    Col("registration_status", _l("Status"), words="registration_status"),
    Col("channel", _l("Sent from"), words="channel")), _registrations)
add_figure(Figure("signups", "classes", _l("Class registrations"), REGISTRATIONS))


# Classes: dates held (not cancelled, not after today), attendance marks on them.
def _held_class(p: Period):
    return and_(ClassSession.day.between(p.start, p.held_until), ClassSession.cancelled_at.is_(None))


def _class_sessions(p: Period) -> Select:
    marks = (select(func.count()).where(Attendance.session_id == ClassSession.id)
             .correlate(ClassSession).scalar_subquery())
    present = (select(func.count()).where(Attendance.session_id == ClassSession.id, Attendance.mark == "present")
               .correlate(ClassSession).scalar_subquery())
    return (select(Course.code.label("course"), ClassSession.day.label("day"),
                   ClassSession.starts_at.label("starts_at"), present.label("present"), marks.label("marks"))
            .join(Course, Course.id == ClassSession.course_id)
            .where(_held_class(p)).order_by(ClassSession.day, ClassSession.starts_at, ClassSession.id))


def _attendance(p: Period) -> Select:
    return (select(Course.code.label("course"), ClassSession.day.label("day"),
                   Attendance.registration_id.label("registration"), Attendance.mark.label("mark"))
            .join(ClassSession, ClassSession.id == Attendance.session_id)
            .join(Course, Course.id == ClassSession.course_id)
            .where(_held_class(p)).order_by(ClassSession.day, Course.code, Attendance.registration_id))


CLASS_SESSIONS = RowSet("class_sessions", _l("Class dates held"), (
    COURSE, DAY, Col("starts_at", _l("Starts at"), "time"), Col("present", _l("Present"), "number"),
    Col("marks", _l("Attendance marks"), "number")), _class_sessions)
ATTENDANCE = RowSet("attendance", _l("Attendance marks"), (
    COURSE, DAY, REGISTRATION, Col("mark", _l("Attendance"), words="mark")), _attendance)
add_figure(Figure("class_sessions", "classes", _l("Class sessions held"), CLASS_SESSIONS))
add_figure(Figure("class_present", "classes", _l("Attendances (present)"), ATTENDANCE, column="mark", only="present"))
add_figure(Figure("class_rate", "classes", _l("Attendance rate"), ATTENDANCE, measure="share", column="mark",
                  only="present", unit="percent"))


# Tool shop: loans borrowed in range, and who borrowed.
def _loans(p: Period) -> Select:
    return (select(Loan.id.label("loan"), Loan.borrowed_at.label("borrowed"), Tool.code.label("tool"),
                   ToolKind.name_zh.label("tool_kind"), Loan.due_on.label("due_on"),
                   Loan.returned_at.label("returned"), Loan.resident_id.label("resident"))
            .join(Tool, Tool.id == Loan.tool_id).join(ToolKind, ToolKind.id == Tool.kind_id)
            .where(_in(Loan.borrowed_at, p)).order_by(Loan.borrowed_at, Loan.id))


def _borrowers(p: Period) -> Select:
    return (select(Loan.resident_id.label("resident"), func.count().label("loans"))
            .where(_in(Loan.borrowed_at, p)).group_by(Loan.resident_id).order_by(Loan.resident_id))


LOANS = RowSet("loans", _l("Tool loans"), (
    Col("loan", _l("Loan number"), prefix="L"), Col("borrowed", _l("Borrowed"), "datetime"),
    Col("tool", _l("Tool code")), Col("tool_kind", _l("Kind of tool")), Col("due_on", _l("Due back"), "date"),
    Col("returned", _l("Returned"), "datetime"), RESIDENT), _loans)
BORROWERS = RowSet("borrowers", _l("Borrowers"), (RESIDENT, Col("loans", _l("Loans"), "number")), _borrowers)
add_figure(Figure("tool_loans", "tools", _l("Tool loans"), LOANS))
add_figure(Figure("tool_borrowers", "tools", _l("Distinct borrowers"), BORROWERS))


# Volunteers: services (fulfilments), their hours, and the residents served.
PEOPLE_SERVED = RowSet("people_served", _l("Residents served"), (
    RESIDENT, Col("services", _l("Services"), "number"), MINUTES), _people_served)
add_figure(Figure("volunteer_services", "volunteers", _l("Volunteer services"), FULFILMENTS))
add_figure(Figure("volunteer_hours", "volunteers", _l("Volunteer hours"), FULFILMENTS, measure="sum",
                  column="minutes", scale=60, unit="hours"))
add_figure(Figure("people_served", "volunteers", _l("People served"), PEOPLE_SERVED))


# --- Issue 10: the partner alliance, resource matches, community activities, field work ------

class padded(FunctionElement):
    """A record's id as five digits ("00012"), to write "S-00012" in SQL, on both databases."""

    type = String()
    name = "padded"
    inherit_cache = True


@compiles(padded, "sqlite")
def _padded_sqlite(element, compiler, **kw):
    return f"printf('%05d', {compiler.process(element.clauses.clauses[0], **kw)})"


@compiles(padded, "postgresql")
def _padded_postgresql(element, compiler, **kw):
    return f"lpad(CAST({compiler.process(element.clauses.clauses[0], **kw)} AS TEXT), 5, '0')"


def _numbers(table, key: str, column: str, prefix: str, owner):
    """The numbers ("S-00001 S-00004") of the rows of a link table that belong to `owner`."""
    code = literal(f"{prefix}-", String) + padded(table.c[column])
    return (select(func.aggregate_strings(code, " ")).where(table.c[key] == owner.id)
            .correlate(owner.__table__).scalar_subquery())


# The partner alliance: joint meetings held, the topics they discussed, what they resolved, and
# the items done (closed as done in the range).
MEETING = Col("meeting", _l("Joint meeting number"), prefix="JM")
AGENDA_ITEM = Col("agenda_item", _l("Agenda item number"), prefix="AI")
MEETING_DAY = Col("meeting_day", _l("Meeting date"), "date")
TOPIC = Col("topic", _l("Topic"))
AGENDA_STATUS = Col("agenda_status", _l("Status"), words="agenda_status")


def _held_meeting(p: Period):
    return JointMeeting.day.between(p.start, p.held_until)


def _meetings(p: Period) -> Select:
    present = (select(func.count()).where(joint_meeting_unit.c.meeting_id == JointMeeting.id)
               .correlate(JointMeeting).scalar_subquery())
    items = (select(func.count()).where(AgendaItem.meeting_id == JointMeeting.id)
             .correlate(JointMeeting).scalar_subquery())
    return (select(JointMeeting.id.label("meeting"), JointMeeting.day.label("meeting_day"),
                   JointMeeting.place.label("place"), PartnerUnit.name.label("chair_unit"),
                   present.label("units_present"), items.label("topics"))
            .outerjoin(PartnerUnit, PartnerUnit.id == JointMeeting.chair_unit_id)
            .where(_held_meeting(p)).order_by(JointMeeting.day, JointMeeting.id))


def _items(p: Period, resolved_only: bool = False) -> Select:
    owner = PartnerUnit.__table__.alias("owner_unit")
    stmt = (select(AgendaItem.id.label("agenda_item"), JointMeeting.day.label("meeting_day"),
                   AgendaItem.source.label("agenda_source"), AgendaItem.concern_id.label("concern"),
                   AgendaItem.topic.label("topic"), AgendaItem.resolution.label("resolution"),
                   owner.c.name.label("owner_unit"), AgendaItem.due_on.label("due_on"),
                   AgendaItem.status.label("agenda_status"))
            .join(JointMeeting, JointMeeting.id == AgendaItem.meeting_id)
            .outerjoin(owner, owner.c.id == AgendaItem.owner_unit_id)
            .where(_held_meeting(p)))
    if resolved_only:
        stmt = stmt.where(func.trim(AgendaItem.resolution) != "", AgendaItem.status != "proposed")
    return stmt.order_by(JointMeeting.day, AgendaItem.id)


def _items_done(p: Period) -> Select:
    owner = PartnerUnit.__table__.alias("owner_unit")
    return (select(AgendaItem.id.label("agenda_item"), AgendaItem.closed_at.label("closed"),
                   JointMeeting.day.label("meeting_day"), AgendaItem.concern_id.label("concern"),
                   AgendaItem.topic.label("topic"), AgendaItem.resolution.label("resolution"),
                   owner.c.name.label("owner_unit"))
            .join(JointMeeting, JointMeeting.id == AgendaItem.meeting_id)
            .outerjoin(owner, owner.c.id == AgendaItem.owner_unit_id)
            .where(AgendaItem.status == "done", _in(AgendaItem.closed_at, p))
            .order_by(AgendaItem.closed_at, AgendaItem.id))


ITEM_COLUMNS = (AGENDA_ITEM, MEETING_DAY, Col("agenda_source", _l("Raised by"), words="agenda_source"), CONCERN,
                TOPIC, Col("resolution", _l("Resolution")), Col("owner_unit", _l("Owner unit")),
                Col("due_on", _l("Due"), "date"), AGENDA_STATUS)
MEETINGS = RowSet("joint_meetings", _l("Joint meetings held"), (
    MEETING, MEETING_DAY, Col("place", _l("Venue")), Col("chair_unit", _l("Chair unit")),
    Col("units_present", _l("Units present"), "number"), Col("topics", _l("Topics"), "number")), _meetings)
TOPICS = RowSet("agenda_topics", _l("Topics discussed"), ITEM_COLUMNS, _items)
RESOLUTIONS = RowSet("agenda_resolutions", _l("Resolutions"), ITEM_COLUMNS,
                     lambda p: _items(p, resolved_only=True))
ITEMS_DONE = RowSet("agenda_done", _l("Agenda items done"), (
    AGENDA_ITEM, Col("closed", _l("Done on"), "datetime"), MEETING_DAY, CONCERN, TOPIC,
    Col("resolution", _l("Resolution")), Col("owner_unit", _l("Owner unit"))), _items_done)
add_figure(Figure("joint_meetings", "alliance", _l("Joint meetings held"), MEETINGS))
add_figure(Figure("agenda_topics", "alliance", _l("Topics discussed"), TOPICS))
add_figure(Figure("agenda_resolutions", "alliance", _l("Resolutions"), RESOLUTIONS))
add_figure(Figure("agenda_done", "alliance", _l("Agenda items done"), ITEMS_DONE))


# Resource matches: each time a partner unit took on a wish, an activity or an agenda item.
ACTIVITY = Col("activity", _l("Activity number"), prefix="A")


def _matches(p: Period) -> Select:
    return (select(ResourceMatch.id.label("match"), ResourceMatch.day.label("day"),
                   ResourceMatch.kind.label("match_kind"), PartnerUnit.name.label("partner_unit"),
                   ResourceMatch.wish_id.label("wish"), ResourceMatch.activity_id.label("activity"),
                   ResourceMatch.agenda_item_id.label("agenda_item"))
            .join(PartnerUnit, PartnerUnit.id == ResourceMatch.partner_unit_id)
            .where(ResourceMatch.day.between(p.start, p.end)).order_by(ResourceMatch.day, ResourceMatch.id))


MATCH_KIND = Col("match_kind", _l("Matched"), words="match_kind")
RESOURCE_MATCHES = RowSet("resource_matches", _l("Resource matches"), (
    Col("match", _l("Match number"), prefix="RM"), DAY, MATCH_KIND, UNIT, WISH, ACTIVITY, AGENDA_ITEM), _matches)
add_figure(Figure("matches", "matches", _l("Resource matches"), RESOURCE_MATCHES))
add_figure(Figure("matches_wishes", "matches", _l("Wishes taken on by partner units"), RESOURCE_MATCHES,
                  column="match_kind", only="wish"))
add_figure(Figure("matches_activities", "matches", _l("Activities taken on by partner units"), RESOURCE_MATCHES,
                  column="match_kind", only="activity"))
add_figure(Figure("matches_agenda_items", "matches", _l("Agenda items taken on by partner units"),
                  RESOURCE_MATCHES, column="match_kind", only="agenda_item"))


# Community activities: held (like a class date), sign-ups made in range, attendance.
def _held_activity(p: Period):
    return and_(Activity.day.between(p.start, p.held_until), Activity.cancelled_at.is_(None))


def _activities(p: Period) -> Select:
    def counted(*where):
        return (select(func.count()).where(SignUp.activity_id == Activity.id, *where)
                .correlate(Activity).scalar_subquery())

    return (select(Activity.id.label("activity"), Activity.day.label("day"), Activity.title_zh.label("title"),
                   Activity.organiser.label("organiser"),
                   func.coalesce(PartnerUnit.name, Activity.team).label("organised_by"),
                   Activity.capacity.label("capacity"), counted(SignUp.status == "confirmed").label("seated"),
                   counted(SignUp.attended.is_(True)).label("attended"))
            .outerjoin(PartnerUnit, PartnerUnit.id == Activity.partner_unit_id)
            .where(_held_activity(p)).order_by(Activity.day, Activity.starts_at, Activity.id))


def _sign_ups(p: Period) -> Select:
    return (select(SignUp.id.label("sign_up"), SignUp.created_at.label("created"), SignUp.activity_id.label("activity"),
                   Activity.day.label("day"), SignUp.status.label("sign_up_status"), SignUp.channel.label("channel"))
            .join(Activity, Activity.id == SignUp.activity_id)
            .where(_in(SignUp.created_at, p)).order_by(SignUp.created_at, SignUp.id))


def _activity_attendance(p: Period) -> Select:
    return (select(SignUp.activity_id.label("activity"), Activity.day.label("day"), SignUp.id.label("sign_up"),
                   SignUp.resident_id.label("resident"))
            .join(Activity, Activity.id == SignUp.activity_id)
            .where(_held_activity(p), SignUp.attended.is_(True)).order_by(Activity.day, Activity.id, SignUp.id))


SIGN_UP = Col("sign_up", _l("Sign-up number"), prefix="SU")
ACTIVITIES_HELD = RowSet("activities_held", _l("Activities held"), (
    ACTIVITY, DAY, Col("title", _l("Activity")), Col("organiser", _l("Organised by"), words="organiser"),
    Col("organised_by", _l("Team or partner unit")), Col("capacity", _l("Places"), "number"),
    Col("seated", _l("With a place"), "number"), Col("attended", _l("Attended"), "number")), _activities)
SIGN_UPS = RowSet("activity_sign_ups", _l("Activity sign-ups"), (
    SIGN_UP, Col("created", _l("Signed up"), "datetime"), ACTIVITY, DAY,
    Col("sign_up_status", _l("Status"), words="sign_up_status"), Col("channel", _l("Sent from"), words="channel")),
    _sign_ups)
ACTIVITY_ATTENDANCE = RowSet("activity_attendance", _l("Attendance at activities"), (
    ACTIVITY, DAY, SIGN_UP, RESIDENT), _activity_attendance)
add_figure(Figure("activities_held", "activities", _l("Activities held"), ACTIVITIES_HELD))
add_figure(Figure("activity_sign_ups", "activities", _l("Activity sign-ups"), SIGN_UPS))
add_figure(Figure("activity_attendance", "activities", _l("Attendance at activities"), ACTIVITY_ATTENDANCE))


# Field work: the work log's entries dated in the range, by their kind's key.
def _work(p: Period, only_kind: str | None = None) -> Select:
    stmt = (select(WorkLogEntry.id.label("entry"), WorkLogEntry.day.label("day"),
                   func.coalesce(WorkKind.key, "other").label("work_kind"),
                   case((WorkKind.key.is_(None), WorkKind.name_zh), else_=None).label("kind_name"),
                   WorkLogEntry.households.label("households"),
                   _numbers(work_log_staff, "entry_id", "staff_id", "S", WorkLogEntry).label("staff"),
                   _numbers(work_log_volunteer, "entry_id", "volunteer_id", "V", WorkLogEntry).label("volunteers"))
            .join(WorkKind, WorkKind.id == WorkLogEntry.kind_id)
            .where(WorkLogEntry.day.between(p.start, p.end)))
    if only_kind:
        stmt = stmt.where(WorkKind.key == only_kind)
    return stmt.order_by(WorkLogEntry.day, WorkLogEntry.id)


WORK_COLUMNS = (Col("entry", _l("Work log number"), prefix="WL"), DAY,
                Col("work_kind", _l("Kind of work"), words="work_kind"),
                Col("kind_name", _l("Kind added by staff")), Col("households", _l("Households"), "number"),
                Col("staff", _l("Staff numbers")), Col("volunteers", _l("Volunteer numbers")))
WORK_LOG = RowSet("work_log", _l("Work log entries"), WORK_COLUMNS, _work)
HOME_VISITS = RowSet("home_visits", _l("Home visits"), WORK_COLUMNS, lambda p: _work(p, "home_visit"))
add_figure(Figure("home_visits", "fieldwork", _l("Home visits"), HOME_VISITS))
add_figure(Figure("households_visited", "fieldwork", _l("Households visited"), HOME_VISITS, measure="sum",
                  column="households"))
add_figure(Figure("care_calls", "fieldwork", _l("Care calls"), WORK_LOG, column="work_kind", only="care_call"))
add_figure(Figure("safety_checks", "fieldwork", _l("Safety checks"), WORK_LOG, column="work_kind",
                  only="safety_check"))
add_figure(Figure("awareness_talks", "fieldwork", _l("Awareness talks"), WORK_LOG, column="work_kind",
                  only="awareness_talk"))
add_figure(Figure("clean_ups", "fieldwork", _l("Clean-ups"), WORK_LOG, column="work_kind", only="clean_up"))
add_figure(Figure("other_work", "fieldwork", _l("Other field work"), WORK_LOG, column="work_kind", only="other"))
