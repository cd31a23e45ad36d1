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
from kiosk.blueprints.staff.dashboard import FIGURES_SECONDS
from kiosk.database import write_transaction
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import (Activity, ActivitySeat, AgendaItem, ClassSession, Concern, JointMeeting, Loan,
                          PartnerUnit, SignUp, TeaSession, Wish, WorkKind, WorkLogEntry)
from tests.conftest import Hall, english_client, token
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


def seed_community(hall, today=TODAY) -> dict:
    """Issue 10, as model rows around `today`: activities of the coming week (one full with a
    waiting list, one without a limit, one cancelled) and one after it; joint meetings in the
    week and before it; agenda items past their due date and not; people to call after a
    promotion; work-log entries this month and last."""
    people = [hall.resident(f"1370000{k:04d}", f"活{k}") for k in range(5)]
    with write_transaction() as s:
        units = [PartnerUnit(name=f"Unit {k}") for k in range(3)]
        s.add_all(units)
        s.flush()

        def activity(code, day, capacity=None, cancelled=False, seats=3):
            made = Activity(code=code, title_zh=f"活动{code}", title_en=f"Activity {code}", day=day,
                            starts_at=time(9), ends_at=time(11), place="Hall", capacity=capacity,
                            cancelled_at=at(today) if cancelled else None)
            s.add(made)
            s.flush()
            s.add_all(ActivitySeat(activity_id=made.id, number=n) for n in range(1, seats + 1))
            s.flush()
            return made

        full = activity("FULL", today + timedelta(days=1), capacity=2)
        open_ = activity("OPEN", today + timedelta(days=3))
        off = activity("OFF", today + timedelta(days=2), capacity=5, cancelled=True)
        later = activity("LATER", today + timedelta(days=8), capacity=5)
        past = activity("PAST", today - timedelta(days=2), capacity=5)
        n = iter(range(1, 100))

        def sign_up(a, who, status="confirmed", seat=None, promoted=False, called=False):
            k = next(n)
            s.add(SignUp(activity_id=a.id, receipt=f"R{k:07d}", form_token=token(), resident_id=people[who],
                         status=status, seat=seat if status == "confirmed" else None,
                         wait_ticket=k if status == "waiting" else None, channel="kiosk",
                         promoted_at=at(today) if promoted else None, called_at=at(today, 5) if called else None))
            s.flush()

        sign_up(full, 0, seat=1)
        sign_up(full, 1, seat=2, promoted=True)  # moved up, not called yet
        sign_up(full, 2, status="waiting")
        sign_up(full, 3, status="cancelled")
        sign_up(open_, 0, seat=1, promoted=True, called=True)  # called already
        sign_up(past, 4, seat=1, promoted=True)  # the activity is over
        sign_up(later, 4, seat=1, promoted=True)  # to call: after the week, still to come

        def meeting(day, chair, present):
            made = JointMeeting(day=day, place="Hall", chair_unit_id=chair.id)
            made.units = present
            s.add(made)
            s.flush()
            return made

        coming = meeting(today + timedelta(days=4), units[0], units)
        held = meeting(today - timedelta(days=30), units[1], units[:2])
        items = {}
        for name, status, due in (("late", "resolved", today - timedelta(days=2)),
                                  ("later", "in_progress", today - timedelta(days=10)),
                                  ("done", "done", today - timedelta(days=5)),
                                  ("dropped", "dropped", today - timedelta(days=5)),
                                  ("today", "resolved", today), ("proposed", "proposed", None)):
            item = AgendaItem(meeting_id=held.id, source="partner", topic=f"Topic {name}", status=status, due_on=due,
                              owner_unit_id=units[2].id)
            s.add(item)
            s.flush()
            items[name] = item.id

        kind = s.scalar(select(WorkKind).where(WorkKind.key == "home_visit"))
        for day in (today.replace(day=1), today, today.replace(day=1) - timedelta(days=1)):
            s.add(WorkLogEntry(kind_id=kind.id, day=day, form_token=token(), recorded_by_id=hall.admin_id))
    return {"full": full.id, "open": open_.id, "off": off.id, "later": later.id, "coming": coming.id,
            "held": held.id, "items": items, "people": people}


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


def test_the_coming_week_has_activities_and_joint_meetings(any_hall):
    seeded = seed_community(any_hall)
    by_day = {d.day: d for d in dashboard.coming_week(TODAY)}
    full = by_day[TODAY + timedelta(days=1)].activities
    assert [(p.activity.id, p.confirmed, p.waiting, p.seats_left) for p in full] == [(seeded["full"], 2, 1, 0)]
    unlimited = by_day[TODAY + timedelta(days=3)].activities
    assert [(p.activity.id, p.confirmed, p.waiting, p.seats_left) for p in unlimited] == \
        [(seeded["open"], 1, 0, None)]
    cancelled = by_day[TODAY + timedelta(days=2)].activities
    assert [(p.activity.id, p.activity.cancelled_at is not None) for p in cancelled] == [(seeded["off"], True)]
    meetings = by_day[TODAY + timedelta(days=4)].meetings
    assert [(m.id, m.chair_unit.name, len(m.units)) for m in meetings] == [(seeded["coming"], "Unit 0", 3)]
    assert not by_day[TODAY + timedelta(days=4)].empty
    everything = [p.activity.id for d in by_day.values() for p in d.activities]
    assert seeded["later"] not in everything  # after the week
    assert all(m.id != seeded["held"] for d in by_day.values() for m in d.meetings)


def test_agenda_items_past_their_due_date_and_people_to_call(any_hall):
    seeded = seed_community(any_hall)
    items = seeded["items"]
    # Resolved or in progress, due before today; the most overdue first. Done, dropped, due
    # today and not yet resolved are not overdue.
    assert [i.id for i in dashboard.overdue_items(TODAY)] == [items["later"], items["late"]]
    assert dashboard.overdue_items(TODAY - timedelta(days=30)) == []
    # Moved up and not called, for activities still to come.
    to_call = dashboard.sign_ups_to_call(TODAY)
    assert [(c.activity_id, c.resident_id) for c in to_call] == [
        (seeded["full"], seeded["people"][1]), (seeded["later"], seeded["people"][4])]
    assert dashboard.work_this_month(TODAY) == 2


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


def test_the_page_shows_activities_meetings_and_what_the_alliance_must_do(app, hall, staff):  # noqa: F811
    today = hall_today()
    seeded = seed_community(hall, today)
    response = staff.get("/staff/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    words = text_of(response)
    assert re.search(r'id="overdue-items">2<', page) and re.search(r'id="activity-calls">2<', page)
    assert re.search(r'id="week-activities">2<', page)  # the cancelled one is not counted
    assert re.search(r'id="work-this-month">[12]<', page)  # last month's entry is not counted
    assert "agenda items past their due date" in words and "Topic later" in words and "Topic late" in words
    assert "Topic done" not in words
    week = page[page.index('id="week-h"'):page.index('id="charts-h"')]
    full = re.search(rf'data-activity="{seeded["full"]}".*?</li>', week, re.S).group(0)
    assert "Activity FULL" in full and "full" in text_of_html(full) and "1 waiting" in text_of_html(full)
    unlimited = re.search(rf'data-activity="{seeded["open"]}".*?</li>', week, re.S).group(0)
    assert "1 signed up" in text_of_html(unlimited)
    off = re.search(rf'data-activity="{seeded["off"]}".*?</li>', week, re.S).group(0)
    assert ">cancelled<" in off and f'week-activity is-cancelled" data-activity="{seeded["off"]}"' in week
    meeting = re.search(rf'data-meeting="{seeded["coming"]}".*?</li>', week, re.S).group(0)
    assert "Joint meeting" in meeting and "chaired by Unit 0" in text_of_html(meeting)
    assert "3 units attending" in text_of_html(meeting)
    assert "style=" not in page


def text_of_html(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)))


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


def test_the_figures_are_kept_a_while_for_each_day_and_language(app, monkeypatch, cache_clock):
    """Worked out at most every FIGURES_SECONDS for a day and a language; a new day or another
    language is worked out at once, never served the figures kept for the other. The records are
    made in app contexts of their own, so that each request has its own (and its own language),
    as in the hall."""
    clock = cache_clock
    with app.app_context():
        hall = Hall()
        kind = hall.kind()
        tools = [hall.tool(kind).id for _ in range(2)]
        people = [hall.resident(f"1380013800{k}", f"借{k}") for k in range(2)]
        tomorrow = hall_today() + timedelta(days=1)

    def lend(k):
        with app.app_context():
            lending.borrow(tools[k], people[k], token(), "staff")

    def tools_out(client) -> int:
        page = client.get("/staff/").get_data(as_text=True)
        return int(re.search(r'href="/staff/loans\?tab=open"><span class="num">(\d+)<', page).group(1))

    english, chinese = english_client(app), app.test_client()
    login(english)
    login(chinese)
    assert tools_out(english) == 0
    lend(0)
    clock.advance(FIGURES_SECONDS - 1)
    assert tools_out(english) == 0  # as of the first visit, as the page says
    assert tools_out(chinese) == 1  # the other language's figures are its own
    clock.advance(2)
    assert tools_out(english) == 1  # kept no longer than FIGURES_SECONDS

    lend(1)
    assert tools_out(english) == 1
    monkeypatch.setattr(lending, "hall_today", lambda: tomorrow)
    assert tools_out(english) == 2  # a new day: worked out afresh


def test_links_to_pages_that_do_not_exist_are_left_out(app):
    from kiosk.blueprints.staff.dashboard import link

    with app.test_request_context():
        assert link(("staff.no_such_page", {})) is None
        assert link(("staff.no_such_page", {}), ("staff.dashboard", {})) == "/staff/"
