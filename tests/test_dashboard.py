"""The dashboard: its series (loans, attendance, wishes, concerns per month or week), what needs
doing (most overdue tools, concerns by status and age) and the coming week, from activity seeded
through the domain actions and then dated explicitly, on SQLite and PostgreSQL; then the page
itself through HTTP, and who is sent elsewhere.

The domain functions take `today`; here it is Monday 23 November 2026 whatever the clock says,
and every seeded row is moved to a date relative to it. Timestamps are naive UTC; the hall
counts them in its own time (Asia/Shanghai, UTC+8).
"""
import html
import re
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from kiosk import classes, dashboard, lending, ledger, tea, wishes
from kiosk.auth import create_staff
from kiosk.database import write_transaction
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import ClassSession, Concern, Loan, TeaSession, Wish
from tests.conftest import token
from tests.test_classes_rules import daily_dates, fill, new_course
from tests.test_security import login
from tests.test_staff import staff  # noqa: F401  (a fixture)
from tests.test_wishes_rules import submit

TODAY = date(2026, 11, 23)  # a Monday
D = date


def at(day: date, hour: int = 4) -> datetime:
    """A stored (naive UTC) timestamp at `hour` UTC, i.e. noon in the hall at the default 4."""
    return datetime.combine(day, time(hour))


def change(model, id_, **columns):
    """Set columns on a row after the domain action made it (its dates, mostly)."""
    with write_transaction() as s:
        row = s.get(model, id_)
        for name, value in columns.items():
            setattr(row, name, value)


def month(points, first_day) -> tuple:
    return next(p.values for p in points if p.start == first_day)


# --- Seeding ----------------------------------------------------------------------------------

def seed_loans(hall) -> dict:
    """Four loans: two in November (one borrowed at 01:00 hall time on 1 November, which is
    still 31 October in UTC), one in October, one a year ago (outside the window)."""
    kind = hall.kind()
    people = [hall.resident(f"1380013{k:04d}", f"借{k}") for k in range(4)]
    tools = [hall.tool(kind) for _ in range(4)]
    loans = [lending.borrow(t.id, p, token(), "staff") for t, p in zip(tools, people, strict=True)]
    a, b, c, d = (loan.id for loan in loans)
    change(Loan, a, borrowed_at=at(D(2026, 11, 2)), due_on=TODAY - timedelta(days=10))
    change(Loan, b, borrowed_at=datetime(2026, 10, 31, 17, 0), due_on=TODAY - timedelta(days=2))
    change(Loan, c, borrowed_at=at(D(2026, 10, 15)), due_on=TODAY + timedelta(days=3))
    lending.return_tool(tools[3].id, token(), "fine", None, "staff", staff_id=hall.admin_id)
    change(Loan, d, borrowed_at=at(D(2025, 11, 20)), due_on=TODAY + timedelta(days=1))  # returned
    return {"a": a, "b": b, "c": c, "d": d, "tools": [t.id for t in tools]}


def seed_classes(hall) -> dict:
    """Marks on three past class dates, one date ahead, one date ahead cancelled."""
    course = new_course(capacity=4)
    real = hall_today()
    d = daily_dates(course, real - timedelta(days=50), real - timedelta(days=46))
    first, second = fill(hall, course, 2)
    marks = {0: {first: "present", second: "absent"}, 1: {first: "present", second: "present"},
             2: {first: "excused"}}
    for n, by_child in marks.items():
        for registration, mark in by_child.items():
            classes.mark(d[n].id, registration.id, mark, hall.admin_id)
    classes.cancel_date(d[4].id, "Public holiday", hall.admin_id)
    # Two steps, so that no date meets another of the course on the way (one date per day).
    for k, s in enumerate(d):
        change(ClassSession, s.id, day=D(2000, 1, k + 1))
    days = [D(2026, 11, 16), D(2026, 11, 21), D(2026, 11, 10), D(2026, 11, 25), D(2026, 11, 28)]
    for s, day in zip(d, days, strict=True):
        change(ClassSession, s.id, day=day)
    return {"course": course, "held": d[3].id, "cancelled": d[4].id}


def seed_wishes(hall) -> dict:
    """Received in November and fulfilled in November; received in September and turned into a
    concern in October; received in October and declined in October; and one received long ago."""
    people = [hall.resident(f"1360000{k:04d}", f"愿{k}") for k in range(4)]
    w = [submit(p, device=f"phone-{k}", limited=False).id for k, p in enumerate(people)]
    wishes.publish(w[0], "Grandma D.", "Building 3", hall.admin_id)
    wishes.fulfil(w[0], wishes.Done(done_on=hall_today(), what_was_done="Bought the bag", minutes=30),
                  hall.admin_id)
    concern = wishes.convert_to_concern(w[1], "roads_drains", hall.admin_id)
    wishes.decline(w[2], "Not something the hall can do", hall.admin_id)
    assert all(db.session.get(Wish, wish_id).closed_at is not None for wish_id in w[:3]), \
        "every end of a wish is dated"
    change(Wish, w[0], created_at=at(D(2026, 11, 5)), closed_at=at(D(2026, 11, 20)))
    change(Wish, w[1], created_at=at(D(2026, 9, 10)), closed_at=at(D(2026, 10, 2)))
    change(Concern, concern.id, created_at=at(D(2026, 10, 2)))
    change(Wish, w[2], created_at=at(D(2026, 10, 12)), closed_at=at(D(2026, 10, 20)))
    change(Wish, w[3], created_at=at(D(2025, 6, 1)))
    return {"wishes": w, "converted_concern": concern.id}


def raised(description, answer="", **kw) -> ledger.Raised:
    return ledger.Raised("roads_drains", description, source="walk_in", answer=answer, **kw)


def seed_concerns(hall) -> dict:
    """answered in November; open (3 days old); referred (22 days old, past its due date);
    in progress (since August); closed unresolved in September, written down a year before."""
    answered = ledger.record(raised("Bin day?", answer="Tuesdays"), hall.admin_id).id
    young = ledger.record(raised("Street lamp out"), hall.admin_id).id
    late = ledger.record(raised("Drain blocked"), hall.admin_id).id
    ledger.follow_up(late, "To the water bureau", hall.admin_id, status="referred")
    slow = ledger.record(raised("Roof leaks"), hall.admin_id).id
    ledger.follow_up(slow, "Builder booked", hall.admin_id, status="in_progress")
    gone = ledger.record(raised("Noise at night"), hall.admin_id).id
    ledger.follow_up(gone, "Nobody could help", hall.admin_id, status="closed_unresolved")
    change(Concern, answered, created_at=at(D(2026, 11, 22)), closed_at=at(D(2026, 11, 22), 5))
    change(Concern, young, created_at=at(D(2026, 11, 20)), due_on=D(2026, 11, 30))
    change(Concern, late, created_at=at(D(2026, 11, 1)), due_on=D(2026, 11, 15))
    change(Concern, slow, created_at=at(D(2026, 8, 1)))
    change(Concern, gone, created_at=at(D(2025, 10, 1)), closed_at=at(D(2026, 9, 15)))
    return {"young": young, "late": late, "slow": slow}


def seed_tea(hall) -> int:
    session = tea.save_session(tea.SessionFields(hall_today() + timedelta(days=3), time(15), time(17),
                                                 "Community hall", "Drains and bins"), hall.admin_id)
    change(TeaSession, session.id, day=TODAY + timedelta(days=1))
    return session.id


# --- Calendar ---------------------------------------------------------------------------------

def test_the_windows_are_the_last_12_months_and_weeks():
    assert dashboard.month_starts(TODAY) == [D(2025, 12, 1), *[D(2026, m, 1) for m in range(1, 12)]]
    assert dashboard.month_starts(D(2026, 1, 31), 3) == [D(2025, 11, 1), D(2025, 12, 1), D(2026, 1, 1)]
    weeks = dashboard.week_starts(TODAY)
    assert len(weeks) == 12 and weeks[-1] == TODAY and weeks[0] == D(2026, 9, 7)
    assert all(w.weekday() == 0 for w in weeks)
    assert dashboard.week_starts(D(2026, 11, 29), 1) == [TODAY]  # Sunday belongs to Monday's week
    assert [dashboard.age_bucket(n) for n in (0, 6, 7, 30, 31)] == \
        ["under_7", "under_7", "7_to_30", "7_to_30", "over_30"]


# --- Series -----------------------------------------------------------------------------------

def test_loans_per_month_are_counted_in_hall_time(any_hall):
    seed_loans(any_hall)
    points = dashboard.loans_per_month(TODAY)
    assert [p.start for p in points] == dashboard.month_starts(TODAY)
    assert month(points, D(2026, 11, 1)) == (2,)  # with the loan of 01:00 hall time on 1 November
    assert month(points, D(2026, 10, 1)) == (1,)
    assert sum(p.values[0] for p in points) == 3  # last year's loan is outside the window


def test_attendance_per_week_is_present_of_marked(any_hall):
    seed_classes(any_hall)
    points = dashboard.attendance_per_week(TODAY)
    assert [p.start for p in points] == dashboard.week_starts(TODAY)
    by_week = {p.start: p.values for p in points}
    assert by_week[D(2026, 11, 16)] == (3, 4)  # Monday 16th and Saturday 21st
    assert by_week[D(2026, 11, 9)] == (0, 1)  # one excused
    assert by_week[TODAY] == (0, 0)
    assert sum(p.values[1] for p in points) == 5


def test_wishes_opened_and_closed_per_month(any_hall):
    seed_wishes(any_hall)
    points = dashboard.wishes_per_month(TODAY)
    assert month(points, D(2026, 11, 1)) == (1, 1)  # received and fulfilled
    assert month(points, D(2026, 10, 1)) == (1, 2)  # one declined, one turned into a concern
    assert month(points, D(2026, 9, 1)) == (1, 0)
    assert sum(p.values[0] for p in points) == 3 and sum(p.values[1] for p in points) == 3


def test_concerns_opened_and_closed_per_month(any_hall):
    seed_concerns(any_hall)
    points = dashboard.concerns_per_month(TODAY)
    assert month(points, D(2026, 11, 1)) == (3, 1)
    assert month(points, D(2026, 9, 1)) == (0, 1)  # closed now, written down before the window
    assert month(points, D(2026, 8, 1)) == (1, 0)
    assert sum(p.values[0] for p in points) == 4 and sum(p.values[1] for p in points) == 2


def test_empty_hall_has_twelve_zero_periods(any_hall):
    for series in (dashboard.loans_per_month, dashboard.wishes_per_month, dashboard.concerns_per_month,
                   dashboard.attendance_per_week):
        points = series(TODAY)
        assert len(points) == 12 and all(not any(p.values) for p in points)
    assert dashboard.most_overdue(TODAY) == []
    assert dashboard.concern_ages(TODAY).total == 0
    assert all(day.empty for day in dashboard.coming_week(TODAY))


# --- What needs doing, the coming week ------------------------------------------------------------

def test_concerns_by_status_and_age(any_hall):
    seed_concerns(any_hall)
    seed_wishes(any_hall)  # its converted concern: open since 2 October
    ages = dashboard.concern_ages(TODAY)
    rows = {status: (counts, late) for status, counts, late in ages.rows}
    assert rows["open"] == ({"under_7": 1, "7_to_30": 0, "over_30": 1}, 0)
    assert rows["referred"] == ({"under_7": 0, "7_to_30": 1, "over_30": 0}, 1)
    assert rows["in_progress"] == ({"under_7": 0, "7_to_30": 0, "over_30": 1}, 0)
    assert ages.totals == {"under_7": 1, "7_to_30": 1, "over_30": 2}
    assert (ages.total, ages.overdue) == (4, 1)


def test_most_overdue_first(any_hall):
    ids = seed_loans(any_hall)
    assert [loan.id for loan in dashboard.most_overdue(TODAY)] == [ids["a"], ids["b"]]
    assert [loan.id for loan in dashboard.most_overdue(TODAY, limit=1)] == [ids["a"]]


def test_the_coming_week_day_by_day(any_hall):
    loans = seed_loans(any_hall)
    dates = seed_classes(any_hall)
    tea_id = seed_tea(any_hall)
    week = dashboard.coming_week(TODAY)
    assert [d.day for d in week] == [TODAY + timedelta(days=k) for k in range(7)]
    by_day = {d.day: d for d in week}
    assert [t.id for t in by_day[D(2026, 11, 24)].teas] == [tea_id]
    assert [(s.id, s.cancelled) for s in by_day[D(2026, 11, 25)].classes] == [(dates["held"], False)]
    assert [(s.id, s.cancelled) for s in by_day[D(2026, 11, 28)].classes] == [(dates["cancelled"], True)]
    assert [loan.id for loan in by_day[D(2026, 11, 26)].due] == [loans["c"]]
    assert by_day[TODAY].empty  # the returned loan "due" tomorrow is not listed either
    assert by_day[D(2026, 11, 24)].due == []


# --- The page -----------------------------------------------------------------------------------

def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def test_the_page_shows_today_the_week_and_four_charts(app, hall, staff):  # noqa: F811
    kind = hall.kind(en="Step ladder", days=3)
    late_tool, due_tool = hall.tool(kind), hall.tool(kind)
    first = lending.borrow(late_tool.id, hall.resident("13800138001", "Dolma"), token(), "staff")
    lending.borrow(due_tool.id, hall.resident("13800138002", "Tashi"), token(), "staff")
    change(Loan, first.id, due_on=hall_today() - timedelta(days=9))
    course = new_course(capacity=2)
    tomorrow, after = daily_dates(course, hall_today() + timedelta(days=1), hall_today() + timedelta(days=2))
    classes.cancel_date(after.id, "Public holiday", hall.admin_id)
    seed_tea(hall)  # dated for TODAY: move it to tomorrow of the real clock
    session_id = db.session.scalar(select(TeaSession.id))
    change(TeaSession, session_id, day=hall_today() + timedelta(days=1))
    ledger.record(raised("Street lamp out"), hall.admin_id)

    response = staff.get("/staff/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    words = text_of(response)
    assert re.search(r"Most overdue tools .*Step ladder #1 RW-\d+ Dolma .* 9 All overdue loans", words)
    assert "Tashi" in words  # due back within the week
    assert 'href="/staff/loans?tab=overdue"' in page
    assert re.search(r'href="/staff/concerns\?status=open">Open</a></th>\s*'
                     r'<td class="num" data-bucket="under_7">1<', page)  # the concern just written down
    assert "The coming week" in words and "Drains and bins" in words
    week = page[page.index('id="week-h"'):page.index('id="charts-h"')]
    held = re.search(rf'data-day="{tomorrow.day.isoformat()}".*?</li>', week, re.S).group(0)
    assert "English class" in held and "cancelled" not in held
    cancelled = re.search(rf'data-day="{after.day.isoformat()}".*?</li>', week, re.S).group(0)
    assert "English class" in cancelled and "is-cancelled" in cancelled and ">cancelled<" in cancelled
    # Four charts, each an image with its title and description, and its numbers as a table.
    assert page.count('role="img"') == 4
    for title in ("Tool loans per month", "Class attendance per week", "Wishes opened and closed per month",
                  "Concerns opened and closed per month"):
        assert title in words
    this_month = dashboard.month_starts(hall_today())[-1]
    loans_table = page[page.index('id="chart-loans"'):page.index('id="chart-attendance"')]
    label = this_month.strftime("%b %Y")  # English: "Nov 2026"
    assert re.search(rf'<th scope="row">{label}</th><td class="num">2</td>', loans_table)
    assert "style=" not in page


def test_the_page_speaks_chinese_by_default(app, hall, client):
    login(client)
    page = client.get("/staff/").get_data(as_text=True)
    this_month = dashboard.month_starts(hall_today())[-1]
    assert f"{this_month.year}年{this_month.month}月" in page  # the table's month, in Chinese


@pytest.mark.parametrize(("role", "lands_on"), [("teacher", "/kiosk/teach/"), ("coordinator", "/staff/wishes")])
def test_teachers_and_coordinators_are_sent_to_their_pages(app, hall, client, role, lands_on):
    create_staff(role, "long enough password", role=role, display_name=role.title())
    login(client, role, "long enough password")
    response = client.get("/staff/")
    assert response.status_code == 303
    assert response.headers["Location"] == lands_on


def test_nobody_logged_in_is_sent_to_the_login(client):
    response = client.get("/staff/")
    assert response.status_code in (302, 303) and "/staff/login" in response.headers["Location"]
