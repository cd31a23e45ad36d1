"""The half-year report: a known half year of activity, made through the domain actions (with some
just outside the range, which must not count), and every figure checked on the page, on the rows
pages, in the CSVs and in the Excel workbook (opened with openpyxl); bad ranges; who may see it."""
import csv
import html
import io
import re
from datetime import date, datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from flask import current_app
from sqlalchemy import select

from kiosk import classes, ledger, lending, people, report, tea, wishes
from kiosk.auth import create_staff
from kiosk.database import write_transaction
from kiosk.lending import hall_today
from kiosk.models import Claim, Concern, ConcernStep, Loan, Registration, Wish
from tests.conftest import english_client, token
from tests.test_security import STAFF_PASSWORD, login

# The range: the last half year, wholly past, so everything in it has been held.
START, END = report.last_half_year(date.today())

EXPECTED = {
    "tea_held": 2, "tea_residents": 3,
    "concerns_collected": 5, "concerns_resolved": 4, "concerns_median_days": 7.0,
    "wishes_collected": 5, "wishes_claimed": 3, "wishes_fulfilled": 3,
    "matches_wishes": 2,
    "signups": 2,
    "class_sessions": 2, "class_present": 3, "class_rate": 0.75,
    "tool_loans": 3, "tool_borrowers": 2,
    "volunteer_services": 3, "volunteer_hours": 2.7, "people_served": 2,
}


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in hall time, stored as the app stores moments (naive UTC)."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return datetime.combine(day, time(hour, minute), zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def d(n: int) -> date:
    return START + timedelta(days=n)


AFTER = END + timedelta(days=1)  # the first day after the range (today or earlier)
BEFORE = START - timedelta(days=1)


def set_rows(model, row_id, **values):
    with write_transaction() as s:
        row = s.get(model, row_id)
        for name, value in values.items():
            setattr(row, name, value)


def concern_timeline(concern_id, created, *steps):
    """The concern was recorded at `created`; its history steps (in order) happened at `steps`."""
    with write_transaction() as s:
        s.get(Concern, concern_id).created_at = created
        for step, moment in zip(s.scalars(select(ConcernStep).where(ConcernStep.concern_id == concern_id)
                                          .order_by(ConcernStep.id)), (created, *steps)):
            step.at = moment


def seed(hall) -> dict:
    """A known half year. Returns what the tests need to look things up."""
    r = [hall.resident(f"1390000000{i}", f"Resident {i}", f"{i}号楼1单元") for i in range(1, 7)]
    staff = hall.admin_id

    # Tool shop: three loans in the range by two residents; one just before, one just after.
    kind = hall.kind()
    tools = [hall.tool(kind) for _ in range(2)]
    for tool, resident, moment in ((tools[0], r[0], at(START, 0, 30)),  # 00:30 hall time, the first day
                                   (tools[1], r[0], at(d(10))),
                                   (tools[0], r[1], at(END, 23, 30)),
                                   (tools[1], r[2], at(BEFORE, 23, 30)),
                                   (tools[0], r[3], at(AFTER, 0, 10))):
        loan = lending.borrow(tool.id, resident, token(), "staff")
        lending.return_tool(tool.id, token(), "fine", None, "staff", staff_id=staff)
        set_rows(Loan, loan.id, borrowed_at=moment, returned_at=moment + timedelta(days=2))

    # Afternoon tea: two held in the range (3 residents), one the day before, one the day after.
    sessions = {}
    for name, day, who in (("T1", d(3), [r[0], r[1]]), ("T2", d(40), [r[0], r[2]]),
                           ("T0", BEFORE, [r[3]]), ("T3", AFTER, [r[4]])):
        session = tea.save_session(tea.SessionFields(day, time(15), time(17), "Hall", name), staff)
        sessions[name] = session.id
        for resident in who:
            tea.sign_in(session.id, resident, "staff")

    # Concerns: collected C1, C2, C3, C4, C6; resolved C1 (0 days), C2 (4), C3 (10), C5 (11).
    def concern(answer=""):
        return ledger.record(ledger.Raised("other", "The lamp is broken", source="walk_in", answer=answer), staff).id

    c1 = concern(answer="Explained on the spot")
    concern_timeline(c1, at(d(3), 16))
    c2 = concern()
    for status in ("referred", "resolved", "informed"):
        ledger.follow_up(c2, "step", staff, status=status, satisfied=True if status == "informed" else None)
    concern_timeline(c2, at(d(5)), at(d(6)), at(d(9)), at(d(12)))
    c3 = concern()
    ledger.follow_up(c3, "done", staff, status="resolved")
    concern_timeline(c3, at(d(20)), at(d(30)))
    c4 = concern()
    ledger.follow_up(c4, "not ours", staff, status="closed_unresolved")
    concern_timeline(c4, at(d(25)), at(d(26)))
    c5 = concern()  # recorded before the range, resolved in it
    ledger.follow_up(c5, "done", staff, status="resolved")
    concern_timeline(c5, at(START - timedelta(days=10)), at(d(1)))
    c6 = concern()  # recorded on the last evening, resolved the day after
    ledger.follow_up(c6, "done", staff, status="resolved")
    concern_timeline(c6, at(END, 20), at(AFTER))
    c7 = concern()  # the evening before
    concern_timeline(c7, at(BEFORE, 23, 30))

    # Wishes, volunteers and partner units.
    v1 = wishes.save_volunteer("Lobsang", "13908911001", "Red Wrench", "general").id
    v2 = wishes.save_volunteer("Dekyi", "13908911002", "Red Wrench", "general")
    u1 = wishes.save_partner_unit("Law firm", "Tsetan", "0891-6331234", "").id
    u2 = wishes.save_partner_unit("Clinic", "Dr Li", "0891-6332345", "").id

    def wish(resident, created, kind="wish"):
        made = wishes.submit(resident, wishes.Request(kind, "daily", "A desk lamp"), token(), "staff", limited=False)
        set_rows(Wish, made.id, created_at=created)
        return made.id

    def on_wall(wish_id):
        wishes.publish(wish_id, "Grandma D.", "Building 3", staff)

    def confirmed(wish_id, when, unit=None, volunteer=None):
        claim = wishes.claim(wish_id, token(), volunteer.mobile if volunteer else None,
                             volunteer.name if volunteer else None, partner_unit_id=unit)
        wishes.confirm_claim(claim.id, staff)
        set_rows(Claim, claim.id, decided_at=when)
        return claim.id

    w1 = wish(r[0], at(d(2)))
    on_wall(w1)
    confirmed(w1, at(d(4)), volunteer=v2)
    wishes.fulfil(w1, wishes.Done(d(8), "Brought a lamp", 90), staff)
    w2 = wish(r[1], at(d(3)))
    on_wall(w2)
    confirmed(w2, at(d(6)), unit=u1)
    wishes.fulfil(w2, wishes.Done(d(50), "Gave advice", 30), staff)
    w3 = wish(r[2], at(START - timedelta(days=5)))  # collected before, taken on by a unit in the range
    on_wall(w3)
    confirmed(w3, at(d(1)), unit=u1)
    w4 = wish(r[2], at(d(10)))  # a claim released; another one confirmed by the fulfilment, after the range
    on_wall(w4)
    first = wishes.claim(w4, token(), v2.mobile, v2.name)
    wishes.confirm_claim(first.id, staff)
    wishes.release_claim(first.id, staff)
    set_rows(Claim, first.id, decided_at=at(d(11)))
    wishes.claim(w4, token(), "13908911003", "Nyima")
    wishes.fulfil(w4, wishes.Done(AFTER, "Done", 600), staff)
    wish(r[3], at(AFTER, 1))  # after the range
    wish(r[4], at(d(60)))  # received, not yet on the wall
    w7 = wish(r[5], at(d(15)))  # taken on by a unit after the range
    on_wall(w7)
    confirmed(w7, at(AFTER, 9), unit=u2)
    w9 = wish(r[0], at(START - timedelta(days=20)), kind="help")  # done in the range by an assigned volunteer
    wishes.assign(w9, v1, staff)
    wishes.fulfil(w9, wishes.Done(d(1), "Helped with the form", 42), staff)

    # Classes: two registrations in the range (one before, one after); dates held d5 and d12 (d19
    # cancelled after marking, one date before and one after the range): 3 present of 4 marks.
    today = hall_today()
    course = classes.save_course(classes.CourseFields(
        "ENGLISH", "英语", "དབྱིན་ཡིག", "English", "", "", "", None, 6, 13, 2,
        START - timedelta(days=30), today + timedelta(days=30)))
    regs = {}
    for name, guardian, created in (("Ann", r[0], at(d(1))), ("Bo", r[1], at(d(2))),
                                    ("Cy", r[2], at(START - timedelta(days=3))), ("Di", r[3], at(AFTER))):
        registration = classes.register(course.id, guardian, name, 8, None, True, token(), "staff")
        set_rows(Registration, registration.id, created_at=created)
        regs[name] = registration.id
    dates = {}
    for day in (d(5), d(12), d(19), START - timedelta(days=2), AFTER):
        classes.add_schedule(course.id, "term", [day.weekday()], time(9), time(11), day, day)
        dates[day] = classes.sessions(course.id, start=day, limit=1)[0].id
    for day, marks in ((d(5), {"Ann": "present", "Bo": "present"}), (d(12), {"Ann": "present", "Bo": "absent"}),
                       (d(19), {"Ann": "present"}), (START - timedelta(days=2), {"Ann": "present"}),
                       (AFTER, {"Ann": "present", "Bo": "excused"})):
        for child, mark in marks.items():
            classes.mark(dates[day], regs[child], mark, staff)
    classes.cancel_date(dates[d(19)], "Holiday", staff)
    return {"residents": r, "course": course.id, "registrations": regs}


def test_last_half_year_and_half_year():
    assert report.half_year(date(2026, 11, 23)) == (date(2026, 7, 1), date(2026, 12, 31))
    assert report.half_year(date(2026, 6, 30)) == (date(2026, 1, 1), date(2026, 6, 30))
    assert report.last_half_year(date(2026, 11, 23)) == (date(2026, 1, 1), date(2026, 6, 30))
    assert report.last_half_year(date(2026, 1, 1)) == (date(2025, 7, 1), date(2025, 12, 31))


def test_every_figure_of_a_known_half_year(any_hall):
    """On SQLite and PostgreSQL: each figure, and each figure traced to its rows."""
    residents = seed(any_hall)["residents"]
    p = report.period(START, END)
    values = report.measure(p)
    assert values == EXPECTED
    assert [f.key for f in report.FIGURES] == list(EXPECTED)
    for f in report.FIGURES:
        found = report.rows(f.row_stmt(p), f.rows.columns)
        keys = [c.key for c in f.rows.columns]
        if f.measure == "count":
            assert len(found) == values[f.key], f.key
        elif f.measure == "sum":
            assert round(sum(row[keys.index(f.column)] for row in found) / f.scale, 1) == values[f.key]
        elif f.measure == "median":
            assert round(median(row[keys.index(f.column)] for row in found), 1) == values[f.key]
        else:
            column = [row[keys.index(f.column)] for row in found]
            assert column.count(f.only) / len(column) == values[f.key]
    # The rows name residents by number only: the first resident borrowed twice, the second once.
    borrowers = report.rows(report.figure("tool_borrowers").row_stmt(p), report.BORROWERS.columns)
    assert borrowers == [[f"R-{residents[0]:05d}", 2], [f"R-{residents[1]:05d}", 1]]


def test_held_means_not_after_today_and_not_cancelled(any_hall):
    today = hall_today()
    staff = any_hall.admin_id
    for day in (today - timedelta(days=1), today + timedelta(days=1)):
        tea.save_session(tea.SessionFields(day, time(15), time(17), "Hall"), staff)
    course = classes.save_course(classes.CourseFields(
        "ART", "画画", "རི་མོ", "Drawing", "", "", "", None, 6, 13, 5, today - timedelta(days=10),
        today + timedelta(days=10)))
    for day in (today - timedelta(days=2), today - timedelta(days=1), today + timedelta(days=1)):
        classes.add_schedule(course.id, "term", [day.weekday()], time(9), time(11), day, day)
    cancelled = classes.sessions(course.id, start=today - timedelta(days=1), limit=1)[0]
    classes.cancel_date(cancelled.id, "Rain", staff)
    values = report.measure(report.period(today - timedelta(days=3), today + timedelta(days=3)))
    assert values["tea_held"] == 1
    assert values["class_sessions"] == 1
    # No marks and no resolved concerns: no rate and no median, rather than a made-up 0.
    assert values["class_rate"] is None and values["concerns_median_days"] is None


def test_a_start_after_the_end_is_refused(any_hall):
    with pytest.raises(report.Refusal) as refused:
        report.period(date(2026, 7, 2), date(2026, 7, 1))
    assert refused.value.field == "end"


def test_the_period_is_counted_in_hall_time(any_hall):
    p = report.period(date(2026, 7, 1), date(2026, 7, 1))
    # Asia/Shanghai: 1 July 00:00 is 30 June 16:00 UTC.
    assert (p.since, p.until) == (datetime(2026, 6, 30, 16), datetime(2026, 7, 1, 16))


def test_the_registry_can_be_extended(any_hall):
    """Issue 10 adds resource matches of its own by appending a figure to the area."""
    extra = report.Figure("matches_test", "matches", "Test matches", report.PARTNER_MATCHES)
    report.add_figure(extra)
    try:
        assert extra in report.figures_of("matches")
        assert report.measure(report.period(START, END), [extra]) == {"matches_test": 0}
        with pytest.raises(ValueError):
            report.add_figure(extra)
    finally:
        report.FIGURES.remove(extra)


# --- Through HTTP (SQLite) -------------------------------------------------------------------

RANGE = f"start={START.isoformat()}&end={END.isoformat()}"


@pytest.fixture
def seeded(app, hall):
    seed(hall)
    client = english_client(app)
    login(client)
    return client


def page_figures(page: str) -> dict[str, str]:
    return dict(re.findall(r'id="figure-(\w+)"[^>]*>\s*<span class="num" data-value="([^"]*)"', page))


def number(text: str):
    return None if text == "" else float(text) if "." in text else int(text)


def test_the_report_page_shows_every_figure_and_links_to_its_rows(seeded):
    response = seeded.get(f"/staff/report?{RANGE}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert {k: number(v) for k, v in page_figures(page).items()} == EXPECTED
    assert "2.7" in page and "75.0%" in page
    for key, value in EXPECTED.items():
        href = html.unescape(re.search(rf'id="figure-{key}" href="([^"]+)"', page).group(1))
        rows_page = seeded.get(href)
        assert rows_page.status_code == 200, key
        body = rows_page.get_data(as_text=True)
        shown_rows = body.split("<tbody>")[1].split("</tbody>")[0].count("<tr>") if "<tbody>" in body else 0
        figure = report.figure(key)
        if figure.measure == "count":
            assert shown_rows == value, key
        csv_rows = list(csv.reader(io.StringIO(seeded.get(href.replace(f"/rows/{key}?", f"/rows/{key}.csv?"))
                                               .get_data(as_text=True).lstrip("\ufeff"))))
        assert len(csv_rows) - 1 == shown_rows, key
        header = csv_rows[0]
        if figure.measure == "sum":
            minutes = [int(row[header.index("Minutes")]) for row in csv_rows[1:]]
            assert round(sum(minutes) / 60, 1) == value
        if figure.measure == "median":
            days = [float(row[header.index("Days to resolve")]) for row in csv_rows[1:]]
            assert round(median(days), 1) == value
        if figure.measure == "share":
            marks = [row[header.index("Attendance")] for row in csv_rows[1:]]
            assert marks.count("Present") / len(marks) == value


def test_rows_carry_numbers_not_names_or_mobiles(seeded):
    for key in ("tool_loans", "tool_borrowers", "tea_residents", "people_served", "wishes_fulfilled"):
        body = seeded.get(f"/staff/report/rows/{key}.csv?{RANGE}").get_data(as_text=True)
        assert "R-0000" in body
        assert "Resident" not in body.replace("Resident number", "") and "1390000000" not in body


def test_the_summary_csv(seeded):
    response = seeded.get(f"/staff/report.csv?{RANGE}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Part of the report", "Figure", "Value", "First day", "Last day"]
    got = {row[1]: row[2] for row in rows[1:]}
    for f in report.FIGURES:
        expected = EXPECTED[f.key]
        assert got[str(f.label)] == ("75.0%" if f.unit == "percent" else str(expected)), f.key
    assert all(row[3:] == [START.isoformat(), END.isoformat()] for row in rows[1:])


def test_the_excel_workbook(seeded):
    response = seeded.get(f"/staff/report.xlsx?{RANGE}")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    titles = book.sheetnames
    assert len(titles) == 1 + len(report.AREAS) and len(set(titles)) == len(titles)
    assert all(len(t) <= 31 for t in titles)
    summary = book.worksheets[0]
    assert summary.freeze_panes == "A2"
    header = [c.value for c in summary[1]]
    assert header == ["Part of the report", "Figure", "Value", "Rows in sheet", "Rows of", "Number of rows"]
    lines = [row for row in summary.iter_rows(min_row=2, max_row=1 + len(report.FIGURES), values_only=True)]
    assert [line[1] for line in lines] == [str(f.label) for f in report.FIGURES]
    for f, (area, label, value, sheet_title, rows_of, n) in zip(report.FIGURES, lines):
        assert value == EXPECTED[f.key], f.key
        sheet = book[sheet_title]
        assert sheet.freeze_panes == "A2"
        head = [c.value for c in sheet[1]]
        mine = [row for row in sheet.iter_rows(min_row=2, values_only=True) if row[0] == rows_of]
        assert len(mine) == n, f.key
        if f.measure == "count" and f.only is None:
            assert n == value, f.key
        elif f.measure == "count":
            assert sum(1 for row in mine if row[head.index("Attendance")] == "Present") == value
        elif f.measure == "sum":
            assert round(sum(row[head.index("Minutes")] for row in mine) / 60, 1) == value
        elif f.measure == "median":
            assert round(median(row[head.index("Days to resolve")] for row in mine), 1) == value
        else:
            marks = [row[head.index("Attendance")] for row in mine]
            assert marks.count("Present") / len(marks) == value
    # Dates are real dates, in hall time; the period is written under the figures.
    loans = book["Tool shop"]
    head = [c.value for c in loans[1]]
    first = next(loans.iter_rows(min_row=2, max_row=2))
    borrowed = first[head.index("Borrowed")]
    assert borrowed.is_date and borrowed.value == datetime.combine(START, time(0, 30))
    assert first[head.index("Due back")].is_date
    tail = {row[0]: row[1] for row in summary.iter_rows(min_row=2 + len(report.FIGURES), values_only=True) if row[0]}
    assert tail["First day"].date() == START and tail["Last day"].date() == END


@pytest.mark.parametrize("query, field, message", [
    ("start=2026-02-30&end=2026-06-30", "start", "Please give a date like 2025-03-01."),
    ("start=2026-07-01&end=tomorrow", "end", "Please give a date like 2025-03-01."),
    ("start=2026-07-02&end=2026-07-01", "end", "The last day must not be before the first day."),
])
def test_a_bad_range_is_refused_next_to_its_field(app, hall, query, field, message):
    client = english_client(app)
    login(client)
    for path in ("/staff/report", "/staff/report.xlsx", "/staff/report.csv", "/staff/report/rows/tool_loans"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 422, path
        page = response.get_data(as_text=True)
        assert re.search(rf'<p class="error" id="{field}-error"[^>]*>{re.escape(message)}</p>', page), path
        assert 'id="figure-' not in page


def test_by_default_the_current_half_year(app, hall):
    client = english_client(app)
    login(client)
    page = client.get("/staff/report").get_data(as_text=True)
    start, end = report.half_year(hall_today())
    assert f'value="{start.isoformat()}"' in page and f'value="{end.isoformat()}"' in page
    last = report.last_half_year(hall_today())
    assert f"/staff/report?start={last[0].isoformat()}&amp;end={last[1].isoformat()}" in page
    assert 'href="/staff/report"' in page  # the menu entry


def test_an_unknown_figure_is_404(app, hall):
    client = english_client(app)
    login(client)
    assert client.get("/staff/report/rows/nothing").status_code == 404


@pytest.mark.parametrize("role", ["teacher", "coordinator"])
def test_teachers_and_coordinators_may_not_see_the_report(app, hall, role):
    create_staff("someone", STAFF_PASSWORD, role=role)
    client = english_client(app)
    login(client, "someone", STAFF_PASSWORD)
    for path in ("/staff/report", "/staff/report.xlsx", "/staff/report.csv", "/staff/report/rows/tool_loans",
                 "/staff/report/rows/tool_loans.csv"):
        assert client.get(path).status_code == 403, path


def test_staff_see_the_report(app, hall):
    create_staff("worker", STAFF_PASSWORD, role="staff")
    client = english_client(app)
    login(client, "worker", STAFF_PASSWORD)
    assert client.get("/staff/report").status_code == 200


def test_erasing_residents_keeps_the_figures(any_hall):
    """Erasure removes names and mobiles but keeps the rows the report counts."""
    seeded = seed(any_hall)
    for registration in seeded["registrations"].values():  # the guardians give up their places
        classes.cancel(registration, by="staff", staff_id=any_hall.admin_id)
    p = report.period(START, END)
    for resident in seeded["residents"][:2]:  # borrowers, tea guests, served, guardians
        assert not people.erase(resident).already
    assert report.measure(p) == EXPECTED
