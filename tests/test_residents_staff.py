"""The residents' pages of the back office, through the Flask client: the search and its CSV, a
resident's page with everything they did, and the personal-data requests (merge, export, erase,
retention), which are for admins only, need a confirmation, and are harmless when sent twice."""
import json
import re
from datetime import time, timedelta

import pytest
from sqlalchemy import event, func, select

from kiosk import classes, ledger, lending, tea, wishes
from kiosk.auth import create_staff
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import AuditEntry, Loan, Registration, Resident, TeaSignIn, Wish
from tests.conftest import token
from tests.test_security import login
from tests.test_staff import read_csv, staff, text  # noqa: F401  (staff: the admin, in English)

WORKER_PASSWORD = "desk shift 9 tea"


@pytest.fixture
def worker(app, hall):
    """A client logged in as a staff member (not an admin), reading English pages."""
    create_staff("worker", WORKER_PASSWORD, role="staff", display_name="Worker")
    client = app.test_client()
    with client.session_transaction() as session:
        session["lang"] = "en"
    assert login(client, "worker", WORKER_PASSWORD).status_code == 303
    return client


@pytest.fixture
def wang(hall):
    """王芳 with a tool out, her grandson's class place, a request, an afternoon tea and a concern."""
    rid = hall.resident("13800138000", "王芳", "3-2-401")
    tool = hall.tool(hall.kind(en="Ladder", zh="梯子"))
    lending.borrow(tool.id, rid, token(), "kiosk")
    today = hall_today()
    course = classes.save_course(classes.CourseFields(
        "ENGLISH", "英语", "དབྱིན་ཡིག", "Saturday English", "", "", "", None, 6, 13, 5,
        today - timedelta(days=7), today + timedelta(days=60)))
    registration = classes.register(course.id, rid, "王小明", 8, None, True, token(), "phone")
    wish = wishes.submit(rid, wishes.Request("wish", "school", "A schoolbag for my grandson"), token(), "phone",
                         limited=False)
    session = tea.save_session(tea.SessionFields(today, time(15), time(17), "Hall", "Bins at the east gate"),
                               hall.admin_id).id
    tea.invite(session, [rid])
    tea.sign_in(session, rid, "walk_in")
    concern = ledger.record(ledger.Raised("roads_drains", "The drain by building 3 is blocked", resident_id=rid,
                                          answer="Cleared on Thursday"), hall.admin_id)
    return {"id": rid, "tool": tool, "registration": registration.id, "wish": wish, "session": session,
            "concern": concern}


def finish_everything(hall, wang):
    """Return the tool, cancel the place, decline the request: nothing open any more."""
    lending.return_tool(wang["tool"].id, token(), "fine", None, "staff", staff_id=hall.admin_id)
    classes.cancel(wang["registration"], "staff", hall.admin_id)
    wishes.decline(wang["wish"].id, "Not this time", hall.admin_id)


# --- The list -----------------------------------------------------------------------------------

def test_search_finds_by_name_last_four_digits_and_unit(staff, hall, wang):
    hall.resident("13912345678", "Tashi Dolma", "5-1-102")
    everyone = text(staff.get("/staff/residents"))
    assert "王芳" in everyone and "Tashi Dolma" in everyone and "13800138000" in everyone
    for q, found, not_found in (("王芳", "王芳", "Tashi"), ("8000", "王芳", "Tashi"), ("5678", "Tashi", "王芳"),
                                ("3-2-401", "王芳", "Tashi"), ("tashi", "Tashi", "王芳")):
        page = text(staff.get("/staff/residents", query_string={"q": q}, headers={"HX-Request": "true"}))
        assert found in page and not_found not in page, q
    assert "Nothing found." in text(staff.get("/staff/residents?q=nobody"))
    # Typing asks htmx for the table only.
    part = text(staff.get("/staff/residents?q=8000", headers={"HX-Request": "true"}))
    assert "王芳" in part and "<html" not in part and 'id="resident-table"' in part
    # The counts of the row: 1 loan (held now), 1 registration, 1 request, 1 sign-in, 1 concern.
    assert "1 held now" in everyone


def test_the_list_exports_to_csv_with_its_search(staff, hall, wang):
    hall.resident("13912345678", "Tashi Dolma")
    rows = read_csv(staff.get("/staff/residents.csv?q=8000"))
    assert rows[0][:3] == ["Number", "Name", "Mobile number"]
    assert [r[1:4] for r in rows[1:]] == [["王芳", "13800138000", "3-2-401"]]
    assert rows[1][6:] == ["1", "1", "1", "1", "1", "1"]


def test_the_menu_has_residents(staff, worker):
    assert 'href="/staff/residents"' in text(staff.get("/staff/"))
    assert 'href="/staff/residents"' in text(worker.get("/staff/"))


# --- A resident's page --------------------------------------------------------------------------

def test_the_page_shows_loans_children_requests_tea_and_concerns_with_links(staff, wang):
    page = text(staff.get(f"/staff/residents/{wang['id']}"))
    assert "王芳" in page and "13800138000" in page and "3-2-401" in page
    assert f'href="/staff/tools/{wang["tool"].id}"' in page and "Ladder" in page
    assert f'href="/staff/classes/registrations/{wang["registration"]}"' in page and "王小明" in page
    assert f'href="/staff/wishes/{wang["wish"].id}"' in page and "A schoolbag" in page
    assert f'href="/staff/tea/{wang["session"]}"' in page
    assert f'href="/staff/concerns/{wang["concern"].id}"' in page and "drain by building 3" in page
    # Admins see the personal-data requests.
    for action in ("export.json", "merge", "erase"):
        assert f'/staff/residents/{wang["id"]}/{action}' in page
    assert staff.get("/staff/residents/999").status_code == 404


def test_staff_see_the_page_but_not_the_personal_data_requests(worker, wang):
    rid = wang["id"]
    page = text(worker.get(f"/staff/residents/{rid}"))
    assert "王芳" in page and f"/staff/residents/{rid}/erase" not in page
    for path in (f"/staff/residents/{rid}/merge", f"/staff/residents/{rid}/erase",
                 f"/staff/residents/{rid}/export.json", "/staff/residents/retention"):
        assert worker.get(path).status_code == 403, path
        if not path.endswith(".json"):
            assert worker.post(path, data={"confirm": "8000", "other": "1", "sure": "y"}).status_code == 403, path
    db.session.expire_all()
    assert db.session.get(Resident, rid).erased_at is None


def lend_and_return(hall, resident_id, how_many):
    """The resident borrows and brings back `how_many` tools, one after the other; oldest first."""
    kind = hall.kind(en="Saw", zh="锯")
    tools = []
    for _ in range(how_many):
        tool = hall.tool(kind)
        lending.borrow(tool.id, resident_id, token(), "kiosk")
        lending.return_tool(tool.id, token(), "fine", None, "staff", staff_id=hall.admin_id)
        tools.append(tool)
    return tools


@pytest.fixture
def borrower(hall):
    """次仁, who borrowed twelve tools over the years: more than a page of the loans section."""
    rid = hall.resident("13900139001", "次仁")
    return rid, lend_and_return(hall, rid, 12)


def tools_on(page, tools):
    return [t for t in tools if f'href="/staff/tools/{t.id}"' in page]


def test_a_long_history_shows_the_newest_loans_and_pages_back_to_the_oldest(staff, borrower):
    rid, tools = borrower
    first = text(staff.get(f"/staff/residents/{rid}"))
    assert "12 loans" in first  # the figures count all of them
    assert tools_on(first, tools) == tools[2:]  # the ten newest
    assert "Page 1 of 2" in first and f'href="/staff/residents/{rid}?loans=2"' in first
    assert '<nav class="pager" aria-labelledby="loans-h">' in first and 'id="loans-h"' in first
    second = text(staff.get(f"/staff/residents/{rid}?loans=2"))
    assert tools_on(second, tools) == tools[:2] and "Page 2 of 2" in second and "12 loans" in second
    assert f'href="/staff/residents/{rid}?loans=1"' in second
    # Past the end shows the last page; what is not a page number, the first.
    assert tools_on(text(staff.get(f"/staff/residents/{rid}?loans=9")), tools) == tools[:2]
    assert tools_on(text(staff.get(f"/staff/residents/{rid}?loans=x")), tools) == tools[2:]
    # The export is never paged: everything, as before.
    exported = json.loads(staff.get(f"/staff/residents/{rid}/export.json").get_data(as_text=True))
    assert sorted(loan["tool_code"] for loan in exported["loans"]) == sorted(t.code for t in tools)


def test_a_section_pager_asks_htmx_for_the_sections_only_and_keeps_the_other_pages(staff, borrower):
    rid, tools = borrower
    page = text(staff.get(f"/staff/residents/{rid}?teas=1"))
    next_loans = f"/staff/residents/{rid}?teas=1&amp;loans=2"
    assert f'href="{next_loans}" hx-get="{next_loans}" hx-target="#resident-history"' in page
    part = text(staff.get(f"/staff/residents/{rid}?loans=2", headers={"HX-Request": "true"}))
    assert "<html" not in part and 'id="resident-history"' in part and "Record number" not in part
    assert tools_on(part, tools) == tools[:2]
    # A link followed with hx-boost (or without JavaScript) gets the whole page.
    whole = text(staff.get(f"/staff/residents/{rid}?loans=2", headers={"HX-Request": "true", "HX-Boosted": "true"}))
    assert "<html" in whole and "Record number" in whole


def test_a_pager_link_carries_the_sections_pages_and_nothing_else_of_the_address(staff, borrower):
    rid, _tools = borrower
    response = staff.get(f"/staff/residents/{rid}?teas=1&resident_id=999&_external=1&q=x")
    assert response.status_code == 200
    page = text(response)
    next_loans = f"/staff/residents/{rid}?teas=1&amp;loans=2"
    pager_links = re.findall(r'href="([^"]+)" hx-get="[^"]+" hx-target="#resident-history"', page)
    assert next_loans in pager_links
    assert not [link for link in pager_links if "999" in link or "_external" in link or "q=x" in link]


def test_the_page_costs_as_many_queries_after_years_of_loans(app, hall, staff, borrower):
    rid, _tools = borrower

    def queries():
        seen = []

        def count(*_args):
            seen.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert staff.get(f"/staff/residents/{rid}").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    before = queries()
    lend_and_return(hall, rid, 15)
    assert queries() == before <= 6


def test_the_tea_section_has_a_row_per_tea_with_the_invitation_and_the_sign_in(staff, hall, wang):
    rid, today = wang["id"], hall_today()
    walked_in = tea.save_session(tea.SessionFields(today, time(10), time(11), "Hall", "Walk-in tea"), hall.admin_id).id
    tea.sign_in(walked_in, rid, "walk_in")
    stayed_away = tea.save_session(tea.SessionFields(today, time(18), time(19), "Hall", "Evening tea"),
                                   hall.admin_id).id
    tea.invite(stayed_away, [rid])
    page = text(staff.get(f"/staff/residents/{rid}"))
    assert "2 tea invitations" in page and "2 tea sign-ins" in page
    rows = {session: page.split(f'href="/staff/tea/{session}"')[1].split("</tr>")[0]
            for session in (wang["session"], walked_in, stayed_away)}
    assert "Accepted" in rows[wang["session"]] and "Walk-in" in rows[wang["session"]]
    assert "Not invited" in rows[walked_in] and "Walk-in" in rows[walked_in]
    assert "Not invited" not in rows[stayed_away] and "–" in rows[stayed_away]


# --- Export -------------------------------------------------------------------------------------

def test_export_is_a_json_file_with_everything_about_them(staff, wang):
    response = staff.get(f"/staff/residents/{wang['id']}/export.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    assert "王芳".encode() in response.get_data()  # UTF-8, readable, not \\u escapes
    data = json.loads(response.get_data(as_text=True))
    assert data["resident"]["name"] == "王芳" and data["resident"]["mobile"] == "13800138000"
    (loan,) = data["loans"]
    assert loan["tool_code"] == wang["tool"].code and loan["returned_at"] is None and "borrow_token" not in loan
    assert data["registrations"][0]["child_name"] == "王小明"
    assert data["wishes"][0]["description"] == "A schoolbag for my grandson"
    assert data["tea_sign_ins"][0]["how"] == "walk_in" and data["tea_invitations"][0]["answer"] == "accepted"
    assert data["concerns"][0]["description"] == "The drain by building 3 is blocked"
    assert staff.get("/staff/residents/999/export.json").status_code == 404


# --- Erase --------------------------------------------------------------------------------------

def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


def test_erase_needs_the_typed_confirmation_and_twice_is_once(staff, hall, wang):
    rid = wang["id"]
    page = text(staff.get(f"/staff/residents/{rid}/erase"))
    assert "Are you sure" in page and "13800138000" in page and "still has something open" in page
    # Open things first: refused, next to the field.
    response = staff.post(f"/staff/residents/{rid}/erase", data={"confirm": "8000"})
    assert response.status_code == 409 and "still has something open" in text(response)
    finish_everything(hall, wang)
    for typed in ("", "1234", "800"):
        response = staff.post(f"/staff/residents/{rid}/erase", data={"confirm": typed})
        assert response.status_code == 422, typed
        assert 'id="confirm-error"' in text(response)
    db.session.expire_all()
    assert db.session.get(Resident, rid).erased_at is None
    loans_before = db.session.scalar(select(func.count()).select_from(Loan))

    response = staff.post(f"/staff/residents/{rid}/erase", data={"confirm": "8000"})
    assert response.status_code == 303
    page = text(staff.get(response.headers["Location"]))
    assert f"Erased resident #{rid}" in page and "王芳" not in page and "13800138000" not in page
    assert "王小明" not in page and "A schoolbag" not in page
    db.session.expire_all()
    resident = db.session.get(Resident, rid)
    assert resident.erased_at is not None and resident.mobile is None
    assert db.session.scalar(select(func.count()).select_from(Loan)) == loans_before
    assert db.session.get(Registration, wang["registration"]).child_name == "***"
    assert db.session.get(Wish, wang["wish"].id).description == "***"
    assert db.session.scalar(select(func.count()).select_from(TeaSignIn)) == 1

    # A second click: nothing more happens, nothing more is logged.
    logged = audit_count()
    response = staff.post(f"/staff/residents/{rid}/erase", data={"confirm": "8000"})
    assert response.status_code == 303
    assert "already erased" in text(staff.get(response.headers["Location"]))
    assert audit_count() == logged
    # The list shows the row without a name; searching for her finds nothing.
    assert f"Erased resident #{rid}" in text(staff.get("/staff/residents"))
    assert "Nothing found." in text(staff.get("/staff/residents?q=8000"))
    export = json.loads(staff.get(f"/staff/residents/{rid}/export.json").get_data(as_text=True))
    assert export["resident"]["name"] == "" and export["resident"]["mobile"] is None


# --- Merge --------------------------------------------------------------------------------------

def test_merge_finds_shows_both_confirms_and_twice_is_harmless(staff, hall, wang):
    keep = wang["id"]
    other = hall.resident("13900139000", "王 芳", "3-2-401")
    session = tea.save_session(tea.SessionFields(hall_today() + timedelta(days=7), time(15), time(17), "Hall"),
                               hall.admin_id).id
    tea.sign_in(session, other, "walk_in")
    tea.sign_in(wang["session"], other, "qr")  # the same tea as the kept record: one sign-in stays

    found = text(staff.get(f"/staff/residents/{keep}/merge?q=3-2-401"))
    assert "13900139000" in found and f"/staff/residents/{keep}/merge?other={other}" in found
    both = text(staff.get(f"/staff/residents/{keep}/merge?other={other}"))
    assert "13800138000" in both and "13900139000" in both and "Are you sure?" in both

    response = staff.post(f"/staff/residents/{keep}/merge", data={"other": other})
    assert response.status_code == 422 and "same person" in text(response)
    db.session.expire_all()
    assert db.session.get(Resident, other) is not None

    response = staff.post(f"/staff/residents/{keep}/merge", data={"other": other, "sure": "y"})
    assert response.status_code == 303
    assert f"#{other} is merged" in text(staff.get(response.headers["Location"]))
    db.session.expire_all()
    assert db.session.get(Resident, other) is None
    assert sorted(db.session.scalars(select(TeaSignIn.session_id).where(TeaSignIn.resident_id == keep))) == \
        sorted([wang["session"], session])

    response = staff.post(f"/staff/residents/{keep}/merge", data={"other": other, "sure": "y"})
    assert response.status_code == 303
    assert "already merged" in text(staff.get(response.headers["Location"]))
    assert db.session.scalar(select(func.count()).select_from(Resident)) == 1


def test_merge_refusal_is_shown_next_to_the_choice(staff, hall, wang):
    other = hall.resident("13900139000", "王芳")
    for _ in range(3):
        lending.borrow(hall.tool().id, other, token(), "kiosk")
    response = staff.post(f"/staff/residents/{wang['id']}/merge", data={"other": other, "sure": "y"})
    assert response.status_code == 409 and "4 tools" in text(response)
    db.session.expire_all()
    assert db.session.get(Resident, other) is not None


# --- Retention ----------------------------------------------------------------------------------

def test_retention_page_counts_and_the_button_anonymises(app, staff, hall, monkeypatch):
    rid = hall.resident("13800000001", "Old Borrower")
    from tests.test_people import aged

    aged(rid, 3 * 366)
    assert "never" in text(staff.get("/staff/residents/retention"))
    monkeypatch.setitem(app.config, "RETENTION_YEARS", 2)
    page = text(staff.get("/staff/residents/retention"))
    assert "1</strong> resident would be anonymised" in page
    response = staff.post("/staff/residents/retention")
    assert response.status_code == 303
    assert "1 inactive resident was anonymised" in text(staff.get(response.headers["Location"]))
    db.session.expire_all()
    assert db.session.get(Resident, rid).erased_at is not None
    response = staff.post("/staff/residents/retention")  # twice: nothing left to do
    assert "No resident needed anonymising" in text(staff.get(response.headers["Location"]))
