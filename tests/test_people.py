"""Residents as people (kiosk.people), on SQLite and PostgreSQL: merging two records of one person
with the constraints kept (loan slots and the limit, one invitation and one sign-in per tea, one
live place per child), erasing a resident so that their name and number are nowhere in the database
while every figure stays, and the retention rule."""
import io
import json
from datetime import time, timedelta

import pytest
from sqlalchemy import JSON, String, distinct, func, select, update
from werkzeug.datastructures import FileStorage

from kiosk import audit, classes, ledger, lending, people, photos, report, tea, wishes
from kiosk.database import write_transaction
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import (Attendance, AuditEntry, Concern, ConcernStep, Fulfilment, Loan, PartnerUnit, Registration, Resident, TeaInvitation, TeaSession, TeaSignIn, Tool, Wish)
from kiosk.models.base import utcnow
from kiosk.residents import identify_resident
from tests.conftest import token
from tests.test_lending import refused
from tests.test_wishes_staff import jpeg

NAME, MOBILE, UNIT, CHILD = "王芳", "13800138000", "3-2-401", "王小明"


# --- Building blocks ----------------------------------------------------------------------------

def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def a_course(code="ENGLISH", capacity=5) -> int:
    today = hall_today()
    return classes.save_course(classes.CourseFields(
        code, "英语", "དབྱིན་ཡིག", "English", "", "", "", None, 6, 13, capacity,
        today - timedelta(days=7), today + timedelta(days=60))).id


def a_tea(hall, day_offset=0, theme="Bins at the east gate") -> int:
    return tea.save_session(tea.SessionFields(hall_today() + timedelta(days=day_offset), time(15), time(17),
                                              "Hall, 2nd floor", theme), hall.admin_id).id


def borrowed(hall, resident_id) -> Loan:
    return lending.borrow(hall.tool().id, resident_id, token(), "kiosk")


def returned(loan: Loan, hall) -> None:
    lending.return_tool(loan.tool_id, token(), "fine", None, "staff", staff_id=hall.admin_id)


def a_photo() -> str:
    return photos.save_photo(FileStorage(io.BytesIO(jpeg()), filename="tap.jpg"))


def a_finished_life(hall) -> dict:
    """A resident who did one of everything, all of it finished, and whom staff wrote about in
    notes and changed through the back office (so the audit log holds their name and number)."""
    rid = hall.resident(MOBILE, NAME, UNIT)
    course = a_course()
    today = hall_today()
    classes.add_schedule(course, "term", [today.weekday()], time(9), time(11), today, today + timedelta(days=30))
    tea_id = a_tea(hall)
    loan = borrowed(hall, rid)
    returned(loan, hall)
    returned(borrowed(hall, rid), hall)
    reg = classes.register(course, rid, CHILD, 8, None, True, token(), "phone")
    classes.mark(classes.sessions_on(today)[0].id, reg.id, "present", hall.admin_id)
    classes.cancel(reg.id, "staff", hall.admin_id)
    photo = a_photo()
    declined = wishes.submit(rid, wishes.Request("repair", "repair", f"The tap leaks. {NAME}, call {MOBILE}",
                                                 UNIT, "mornings", photo), token(), "phone", limited=False)
    wishes.decline(declined.id, f"{NAME} moved away", hall.admin_id)
    done = wishes.submit(rid, wishes.Request("wish", "school", "A schoolbag for my grandson", UNIT, "evenings"),
                         token(), "phone", limited=False)
    wishes.publish(done.id, "Grandma W.", "Building 3", hall.admin_id)
    fulfil_photo = a_photo()
    wishes.fulfil(done.id, wishes.Done(hall_today(), f"Brought a bag to {NAME} at {UNIT}", 30, photo=fulfil_photo),
                  hall.admin_id)
    wishes.thank(done.id, 5, f"Thank you! {NAME}")
    tea.invite(tea_id, [rid])
    tea.sign_in(tea_id, rid, "walk_in")
    concern = ledger.record(ledger.Raised("roads_drains", f"{NAME} ({MOBILE[:3]} {MOBILE[3:7]} {MOBILE[7:]}) says "
                                          "the drain is blocked", resident_id=rid, session_id=tea_id,
                                          proposed_solution="Ask the office", responsible_body="Office",
                                          due_on=hall_today() + timedelta(days=7)), hall.admin_id)
    ledger.follow_up(concern.id, f"Called {NAME} on {MOBILE}", hall.admin_id)
    with audit.acting_as(hall.admin_id), write_transaction() as s:
        resident = s.get(Resident, rid)
        resident.building_unit = "3-2-402"  # a staff edit: the audit log keeps "3-2-401" as before
        tool = s.get(Tool, loan.tool_id)
        tool.donated_by = f"{NAME}'s neighbour"
        tool.note = f"Lent to {NAME}, {MOBILE}"
        registration = s.get(Registration, reg.id)
        registration.child_age = 9
    return {"resident": rid, "registration": reg.id, "wishes": [declined.id, done.id], "concern": concern.id,
            "photos": [photo, fulfil_photo], "tea": tea_id, "course": course}


def figures() -> dict:
    """What the hall's report counts (the counts an erasure must not change)."""
    def n(stmt):
        return db.session.scalar(stmt)

    return {
        "residents": count(Resident),
        "loans": count(Loan),
        "distinct borrowers": n(select(func.count(distinct(Loan.resident_id)))),
        "registrations": count(Registration),
        "distinct children": n(select(func.count()).select_from(
            select(Registration.guardian_id, Registration.child_key).distinct().subquery())),
        "families": n(select(func.count(distinct(Registration.guardian_id)))),
        "attendance": count(Attendance),
        "wishes": count(Wish),
        "wishes by status": sorted(db.session.execute(select(Wish.status, func.count()).group_by(Wish.status)).all()),
        "fulfilments": count(Fulfilment),
        "minutes": n(select(func.sum(Fulfilment.minutes))),
        "invitations": count(TeaInvitation),
        "sign-ins": count(TeaSignIn),
        "distinct tea guests": n(select(func.count(distinct(TeaSignIn.resident_id)))),
        "concerns": count(Concern),
        "concerns with a resident": n(select(func.count()).select_from(Concern).where(Concern.resident_id.is_not(None))),
        "concern steps": count(ConcernStep),
    }


def report_figures() -> dict:
    """The half-year report's figures for the half year around today (kiosk.report)."""
    today = hall_today()
    return report.measure(report.period(today - timedelta(days=120), today + timedelta(days=60), today))


def every_text_value():
    """(table, column, text) for every String/Text/JSON value in every table."""
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | JSON)]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)).all():
            for column, value in zip(columns, row, strict=True):
                if value is None:
                    continue
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                yield table.name, column.name, text


def found_anywhere(*needles) -> list[str]:
    return [f"{t}.{c}: {text[:80]}" for t, c, text in every_text_value()
            for needle in needles if needle.casefold() in text.casefold()]


# --- Search -------------------------------------------------------------------------------------

def test_search_finds_by_name_mobile_last_digits_and_unit(any_hall):
    wang = any_hall.resident(MOBILE, NAME, UNIT)
    tashi = any_hall.resident("13912345678", "Tashi Dolma", "5-1-102")

    def found(q):
        return [r.id for r in db.session.scalars(people.search_query(q))]

    assert found("王") == [wang] and found("tashi") == [tashi] and found("Dolma") == [tashi]
    assert found("8000") == [wang] and found("5678") == [tashi]
    assert found("138 0013 8000") == [wang] and found("+86 139 1234 5678") == [tashi]
    assert found("3-2-401") == [wang] and found("5-1") == [tashi]
    assert found(f"#{tashi}") == [tashi]
    assert found("") == [tashi, wang]  # newest first
    assert found("nobody") == [] and found("9999") == [] and found("%") == []


# --- Merge --------------------------------------------------------------------------------------

def test_merge_moves_everything_and_keeps_one_invitation_and_sign_in_per_tea(any_hall):
    hall = any_hall
    keep = hall.resident(MOBILE, NAME, None)
    other = hall.resident("13900139000", "王芳", UNIT)
    both_tea, other_tea = a_tea(hall), a_tea(hall, 7, "Jobs")
    kept_loan = borrowed(hall, keep)  # slot 1
    moved_open = borrowed(hall, other)  # slot 1 too: renumbered
    old = borrowed(hall, other)
    returned(old, hall)
    course = a_course()
    reg = classes.register(course, other, CHILD, 8, None, True, token(), "phone")
    wish = wishes.submit(other, wishes.Request("wish", "school", "A schoolbag"), token(), "phone", limited=False)
    concern = ledger.record(ledger.Raised("roads_drains", "Drain", resident_id=other, answer="Cleared"), hall.admin_id)
    tea.invite(both_tea, [keep, other])
    tea.invite(other_tea, [other])
    answer = db.session.scalar(select(TeaInvitation).where(TeaInvitation.resident_id == other,
                                                           TeaInvitation.session_id == both_tea))
    tea.record_answer(answer.id, "declined")  # keep's stays "pending": the answer is taken over
    tea.sign_in(both_tea, other, "walk_in")
    tea.sign_in(both_tea, keep, "staff")
    tea.sign_in(other_tea, other, "qr")
    before = figures()

    merged = people.merge(keep, other)

    db.session.expire_all()
    assert db.session.get(Resident, other) is None
    assert merged.moved == {"loan": 2, "registration": 1, "tea_invitation": 1, "tea_sign_in": 1, "wish": 1,
                            "concern": 1}
    assert merged.dropped == {"tea_invitation": 1, "tea_sign_in": 1}
    loans = {loan.id: loan for loan in db.session.scalars(select(Loan).where(Loan.resident_id == keep))}
    assert set(loans) == {kept_loan.id, moved_open.id, old.id}
    assert (loans[kept_loan.id].slot, loans[moved_open.id].slot) == (1, 2)
    assert db.session.get(Registration, reg.id).guardian_id == keep
    assert db.session.get(Wish, wish.id).resident_id == keep
    assert db.session.get(Concern, concern.id).resident_id == keep
    invites = {i.session_id: i.answer for i in db.session.scalars(select(TeaInvitation))}
    assert invites == {both_tea: "accepted", other_tea: "accepted"}  # signing in accepted both
    assert sorted(s.session_id for s in db.session.scalars(select(TeaSignIn))) == [both_tea, other_tea]
    kept = db.session.get(Resident, keep)
    assert (kept.name, kept.mobile, kept.building_unit) == (NAME, MOBILE, UNIT)  # the unit it lacked
    after = figures()
    assert after["residents"] == before["residents"] - 1 and after["loans"] == before["loans"]
    assert after["invitations"] == before["invitations"] - 1 and after["sign-ins"] == before["sign-ins"] - 1
    assert (after["wishes"], after["registrations"], after["concerns"]) == \
        (before["wishes"], before["registrations"], before["concerns"])
    # The kept record borrows on with the right slots: one more free, then the limit.
    borrowed(hall, keep)
    refused("limit", borrowed, hall, keep)
    # A second click: the other record is gone, nothing changes.
    refused("already_merged", people.merge, keep, other)


def test_merge_keeps_the_pending_answer_when_nothing_better_and_the_earliest_sign_in(any_hall):
    hall = any_hall
    keep, other = hall.resident(MOBILE, NAME), hall.resident("13900139000", NAME)
    session = a_tea(hall)
    tea.invite(session, [keep, other])
    first, _ = tea.sign_in(session, other, "qr")
    with write_transaction() as s:
        s.execute(update(TeaSignIn).where(TeaSignIn.id == first.id).values(at=utcnow() - timedelta(hours=1)))
    tea.sign_in(session, keep, "staff")
    people.merge(keep, other)
    db.session.expire_all()
    (sign,) = db.session.scalars(select(TeaSignIn)).all()
    assert (sign.resident_id, sign.how) == (keep, "qr")
    assert count(TeaInvitation) == 1


def test_merge_is_refused_over_the_loan_limit_or_with_a_child_placed_twice(any_hall):
    hall = any_hall
    keep, other = hall.resident(MOBILE, NAME), hall.resident("13900139000", NAME)
    borrowed(hall, keep), borrowed(hall, keep), borrowed(hall, other), borrowed(hall, other)
    refusal = refused("loans_limit", people.merge, keep, other)
    assert refusal.field == "other" and "4" in refusal.message and "3" in refusal.message
    db.session.expire_all()
    assert db.session.get(Resident, other) is not None
    assert {loan.resident_id for loan in db.session.scalars(select(Loan))} == {keep, other}

    for loan in db.session.scalars(select(Loan).where(Loan.resident_id == other)).all():
        returned(loan, hall)
    course = a_course()
    classes.register(course, keep, CHILD, 8, None, True, token(), "phone")
    twin = classes.register(course, other, " 王小明 ", 8, None, True, token(), "phone")
    assert "王小明" in refused("same_child", people.merge, keep, other).message
    classes.cancel(twin.id, "staff", hall.admin_id)
    merged = people.merge(keep, other)  # an ended place may move: one live place per child stays
    assert merged.moved["registration"] == 1
    refused("same", people.merge, keep, keep)


def test_every_table_that_points_at_a_resident_is_moved_by_a_merge():
    """A table added later with a resident column would be left behind (and block the delete)."""
    pointing = {(fk.parent.table.name, fk.parent.name) for table in db.metadata.sorted_tables
                for fk in table.foreign_keys if fk.column.table.name == "resident"}
    assert pointing == {(table, column.key) for table, column in people.RESIDENT_LINKS.items()}


# --- Erase --------------------------------------------------------------------------------------

def test_erasing_removes_the_name_and_mobile_from_every_table_and_keeps_the_figures(any_hall):
    life = a_finished_life(any_hall)
    assert found_anywhere(NAME, MOBILE, CHILD), "the scenario should mention them before"
    assert any(NAME in json.dumps(e.changes, ensure_ascii=False) for e in db.session.scalars(select(AuditEntry)))
    before, published = figures(), report_figures()
    assert sum(1 for v in published.values() if v) >= 8, published  # the scenario reaches the report

    with audit.acting_as(any_hall.admin_id):
        result = people.erase(life["resident"])

    db.session.expire_all()
    assert not result.already and result.redacted > 0
    # Their own records (and the audit log's entries about them) keep no name, number, child or
    # address. Free text elsewhere that only mentions the name (a tool's note) cannot be told
    # from a namesake's (扎西, 卓玛 are common names and words): it keeps the name, never the number.
    left = found_anywhere(NAME, MOBILE, CHILD, UNIT, "138 0013 8000")
    assert {place.split(":")[0] for place in left} <= {"tool.note", "tool.donated_by", "audit_entry.changes"}, left
    assert not [place for place in left if MOBILE in place or "138 0013 8000" in place or CHILD in place]
    tool = db.session.scalar(select(Tool).where(Tool.note.is_not(None)))
    assert tool.note == f"Lent to {NAME}, {people.MARK}"
    assert figures() == before
    assert report_figures() == published
    r = db.session.get(Resident, life["resident"])
    assert (r.name, r.mobile, r.building_unit, r.consent_at) == ("", None, None, None)
    assert r.erased_at is not None and r.tea_opt_out
    reg = db.session.get(Registration, life["registration"])
    assert (reg.child_name, reg.child_age, reg.status) == (people.MARK, 9, "cancelled")
    for wish_id in life["wishes"]:
        wish = db.session.get(Wish, wish_id)
        assert (wish.description, wish.building_unit, wish.visit_times, wish.photo) == (people.MARK, "", "", None)
    assert all(photos.path_of(name) is None for name in life["photos"])
    concern = db.session.get(Concern, life["concern"])
    assert concern.resident_id == life["resident"] and "drain is blocked" in concern.description
    # The erasure itself is in the audit log, attributed, without the values it removed.
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.record_type == "resident",
                                                       AuditEntry.action == "update")
                              .order_by(AuditEntry.id.desc()))
    assert entry.staff_id == any_hall.admin_id and entry.changes["name"] == [people.MARK, ""]

    # Twice is once; the same mobile at the tablet later is a new resident.
    assert people.erase(life["resident"]).already
    with write_transaction():
        again = identify_resident(MOBILE, NAME, consent=True)
    assert again.id != life["resident"]


def test_erasing_leaves_a_namesake_and_other_families_alone(any_hall):
    hall = any_hall
    erased = hall.resident(MOBILE, NAME)
    namesake = hall.resident("13900139000", NAME, UNIT)
    course = a_course()
    theirs = classes.register(course, namesake, CHILD, 8, None, True, token(), "phone")
    mine = classes.register(course, erased, CHILD, 8, None, True, token(), "phone")
    refused("open", people.erase, erased)  # a live place: cancel it first
    classes.cancel(mine.id, "staff", hall.admin_id)
    people.erase(erased)
    db.session.expire_all()
    other = db.session.get(Resident, namesake)
    assert (other.name, other.mobile, other.building_unit) == (NAME, "13900139000", UNIT)
    assert db.session.get(Registration, theirs.id).child_name == CHILD


def test_erasing_is_refused_while_a_tool_is_out_or_a_request_open(any_hall):
    hall = any_hall
    rid = hall.resident(MOBILE, NAME)
    loan = borrowed(hall, rid)
    refused("open", people.erase, rid)
    returned(loan, hall)
    wish = wishes.submit(rid, wishes.Request("wish", "school", "A bag"), token(), "phone", limited=False)
    refused("open", people.erase, rid)
    wishes.decline(wish.id, "No", hall.admin_id)
    assert not people.erase(rid).already
    refused("no_resident", people.erase, 999)


# --- Retention ----------------------------------------------------------------------------------

def aged(resident_id, days):
    """Move the resident's joining and all their loans back by `days`."""
    back = timedelta(days=days)
    with write_transaction() as s:
        resident = s.get(Resident, resident_id)
        resident.created_at -= back
        for loan in s.scalars(select(Loan).where(Loan.resident_id == resident_id)):
            loan.borrowed_at -= back
            if loan.returned_at is not None:
                loan.returned_at -= back


def test_retention_anonymises_only_the_long_inactive_with_nothing_open(any_hall):
    hall = any_hall
    today = hall_today()
    six_years = 6 * 366
    gone = hall.resident("13800000001", "Old Borrower")
    returned(borrowed(hall, gone), hall)
    aged(gone, six_years)
    came_to_tea = hall.resident("13800000002", "Tea Guest")
    aged(came_to_tea, six_years)
    tea.sign_in(a_tea(hall), came_to_tea, "walk_in")  # today: active again
    holds_tool = hall.resident("13800000003", "Holds A Drill")
    borrowed(hall, holds_tool)
    aged(holds_tool, six_years)
    newcomer = hall.resident("13800000004", "Newcomer")
    barely = hall.resident("13800000005", "Barely Active")
    aged(barely, 4 * 365)

    assert people.anonymise_inactive(0, today) == []  # 0: never
    assert people.anonymise_inactive(5, today, dry_run=True) == [gone]
    assert db.session.get(Resident, gone).erased_at is None
    with audit.acting_as(None):
        assert people.anonymise_inactive(5, today) == [gone]
    db.session.expire_all()
    assert db.session.get(Resident, gone).erased_at is not None
    assert all(db.session.get(Resident, r).erased_at is None for r in (came_to_tea, holds_tool, newcomer, barely))
    assert people.anonymise_inactive(5, today) == []  # again: nothing left to do
    # The system did it: the audit log names no staff member.
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.record_type == "resident",
                                                       AuditEntry.record_id == str(gone)))
    assert entry.staff_id is None
    # Three years: the barely active one goes too, the others still not.
    assert people.anonymise_inactive(3, today) == [barely]
    assert count(Loan) == 2 and not found_anywhere("Old Borrower", "13800000001", "Barely Active")


def test_the_cli_command_anonymises_as_the_system(app, hall, runner, monkeypatch):
    rid = hall.resident("13800000001", "Old Borrower")
    aged(rid, 3 * 366)
    monkeypatch.setitem(app.config, "RETENTION_YEARS", 0)
    assert "nobody" in runner.invoke(args=["residents", "anonymise-inactive"]).output
    monkeypatch.setitem(app.config, "RETENTION_YEARS", 2)
    result = runner.invoke(args=["residents", "anonymise-inactive", "--dry-run"])
    assert result.exit_code == 0 and "Would anonymise 1 resident(s)" in result.output
    assert db.session.get(Resident, rid).erased_at is None
    result = runner.invoke(args=["residents", "anonymise-inactive"])
    assert result.exit_code == 0 and f"#{rid}" in result.output
    db.session.expire_all()
    assert db.session.get(Resident, rid).erased_at is not None
    assert db.session.scalar(select(AuditEntry.staff_id).where(AuditEntry.record_type == "resident",
                                                               AuditEntry.action == "update")) is None


@pytest.mark.parametrize("years", [1, 5])
def test_years_before_a_leap_day(years):
    from datetime import date

    assert people._years_before(date(2028, 2, 29), years).month == 2


def test_erasing_a_common_name_leaves_other_peoples_words_alone(any_hall):
    """扎西 is a name and the start of 扎西德勒: a namesake's concern, a tea's theme and a partner
    unit keep their words; only the erased resident's own records lose the name."""
    hall = any_hall
    erased = hall.resident(MOBILE, "扎西")
    namesake = hall.resident("13900139000", "扎西")
    tea_id = a_tea(hall, theme="扎西德勒新年茶话会")
    theirs = ledger.record(ledger.Raised("roads_drains", "扎西德勒！楼道灯坏了", resident_id=namesake), hall.admin_id)
    mine = ledger.record(ledger.Raised("roads_drains", "扎西说楼道灯坏了", resident_id=erased), hall.admin_id)
    wishes.save_partner_unit("扎西茶馆", "扎西", "0891-1234567", "")
    people.erase(erased)
    db.session.expire_all()
    assert db.session.get(Concern, theirs.id).description == "扎西德勒！楼道灯坏了"
    assert db.session.get(Concern, mine.id).description == f"{people.MARK}说楼道灯坏了"
    assert db.session.get(TeaSession, tea_id).theme == "扎西德勒新年茶话会"
    assert db.session.scalar(select(PartnerUnit.name)) == "扎西茶馆"


def test_a_merged_record_is_erased_with_the_person(any_hall):
    """Merge B into A, then erase A: B's name and number, kept in the audit log when B's row was
    deleted, go too."""
    hall = any_hall
    kept = hall.resident(MOBILE, NAME)
    absorbed = hall.resident("13500135000", "Dolma Tsering")
    with audit.acting_as(hall.admin_id):
        people.merge(kept, absorbed)
        people.erase(kept)
    db.session.expire_all()
    assert found_anywhere("13500135000", "Dolma Tsering", MOBILE) == []
