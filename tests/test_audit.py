"""The audit log: staff changes made through the real pages are recorded with who, what and the
changed fields before/after; secrets never show; residents' own actions are not staff changes;
and the admins' viewer filters and exports the log."""
import csv
import io
import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kiosk import audit, ledger, lending
from kiosk.auth import create_staff
from kiosk.database import write_transaction
from kiosk.extensions import db
from kiosk.models import AuditEntry, Resident, ToolKind
from tests.conftest import ADMIN_PASSWORD, Hall
from tests.test_security import STAFF_PASSWORD, login
from tests.test_tools_http import borrow

SECRET = "a very secret passphrase"


@pytest.fixture
def place(app):
    """An admin, a staff member, a kind with a tool, and a concern to follow, made in an app context
    closed again (each request then has its own, as in a real server)."""
    with app.app_context():
        hall = Hall()
        worker = create_staff("worker", STAFF_PASSWORD, role="staff", display_name="Worker").id
        kind = hall.kind(en="Electric drill", days=7)
        tool = hall.tool(kind)
        concern = ledger.record(ledger.Raised("sanitation_bins", "No bins at the east gate", place="East gate",
                                              proposed_solution="Ask for two bins", responsible_body="城管局"),
                                hall.admin_id)

        class Place:
            admin_id, worker_id, kind_id, tool_code, concern_id = hall.admin_id, worker, kind, tool.code, concern.id
    return Place


def browser(app, username="admin", password=ADMIN_PASSWORD):
    client = app.test_client()
    with client.session_transaction() as s:
        s["lang"] = "en"
    assert login(client, username, password).status_code == 303
    return client


def entries(app, **where) -> list[AuditEntry]:
    with app.app_context():
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEntry, key) == value)
        rows = db.session.scalars(stmt).all()
        db.session.expunge_all()
        return rows


def everything_logged(app) -> str:
    return json.dumps([[e.record_type, e.record_id, e.changes] for e in entries(app)], ensure_ascii=False)


KIND_FORM = {"name_zh": "电钻", "name_bo": "གློག་སྦྱིན།", "name_en": "Cordless drill", "pictogram": "🛠️",
             "loan_days": "5"}


# --- What is recorded ------------------------------------------------------------------------

def test_editing_a_tool_kind_records_who_and_the_changed_fields(app, place):
    before = len(entries(app))
    worker = browser(app, "worker", STAFF_PASSWORD)
    assert worker.post(f"/staff/kinds/{place.kind_id}", data=KIND_FORM).status_code == 303
    new = entries(app)[before:]
    assert len(new) == 1
    entry = new[0]
    assert (entry.staff_id, entry.action, entry.record_type, entry.record_id) == (
        place.worker_id, "update", "tool_kind", str(place.kind_id))
    # Only what changed, before and after.
    assert entry.changes == {"name_en": ["Electric drill", "Cordless drill"], "loan_days": [7, 5]}


def test_following_up_a_concern_records_the_step_and_the_new_status(app, place):
    before = len(entries(app))
    admin = browser(app)
    response = admin.post(f"/staff/concerns/{place.concern_id}/follow-up",
                          data={"status": "referred", "note": "Sent to 城管局"})
    assert response.status_code == 303
    new = {(e.action, e.record_type): e for e in entries(app)[before:]}
    assert new[("update", "concern")].changes["status"] == ["open", "referred"]
    assert new[("update", "concern")].record_id == str(place.concern_id)
    step = new[("create", "concern_step")]
    assert step.changes["note"] == [None, "Sent to 城管局"] and step.changes["concern_id"] == [None, place.concern_id]
    assert step.record_id.isdigit() and "id" not in step.changes
    assert all(e.staff_id == place.admin_id for e in new.values())


def test_changing_a_setting_records_the_default_it_replaced(app, place):
    admin = browser(app)
    with app.app_context():
        from kiosk import settings

        form = {key: str(value) for key, value in settings.current().items()}
    assert admin.post("/staff/settings", data={**form, "MAX_OPEN_LOANS": "1"}).status_code == 303
    (entry,) = entries(app, record_type="setting")
    assert (entry.staff_id, entry.action, entry.record_id) == (place.admin_id, "create", "MAX_OPEN_LOANS")
    assert entry.changes == {"value": ["3", "1"]}  # the key is the setting's name, not a secret
    assert admin.post("/staff/settings", data={**form, "MAX_OPEN_LOANS": "2"}).status_code == 303
    assert entries(app, record_type="setting")[-1].changes == {"value": ["1", "2"]}


def test_accounts_are_logged_without_any_password_or_hash(app, place):
    admin = browser(app)
    assert admin.post("/staff/accounts/new", data={
        "username": "pema", "display_name": "Pema", "role": "staff",
        "password": SECRET, "password_again": SECRET}).status_code == 303
    (created,) = entries(app, record_type="staff_user", action="create")
    assert created.staff_id == place.admin_id
    assert created.changes["username"] == [None, "pema"] and created.changes["password_hash"] == [None, "***"]
    user_id = int(created.record_id)
    assert admin.post(f"/staff/accounts/{user_id}", data={"display_name": "Pema", "role": "teacher"}).status_code == 303
    assert admin.post(f"/staff/accounts/{user_id}/password",
                      data={"password": SECRET + "!", "password_again": SECRET + "!"}).status_code == 303
    assert admin.post(f"/staff/accounts/{user_id}/deactivate").status_code == 303
    updates = [e.changes for e in entries(app, record_type="staff_user", action="update")]
    assert updates == [{"role": ["staff", "teacher"]}, {"password_hash": ["***", "***"]},
                       {"active": [True, False]}]  # session versions are bookkeeping, not shown
    logged = everything_logged(app)
    assert SECRET not in logged and "$argon2" not in logged
    # Logging in and out (the login page, not a staff change) adds nothing.
    count = len(entries(app))
    worker = browser(app, "worker", STAFF_PASSWORD)
    worker.post("/staff/logout")
    assert len(entries(app)) == count


def test_a_residents_borrow_on_the_tablet_or_phone_is_not_a_staff_change(app, place):
    count = len(entries(app))
    tablet = app.test_client()
    assert borrow(tablet, "/kiosk", place.tool_code).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Resident)) is not None  # the resident and the loan were written
    assert len(entries(app)) == count
    # Even when the phone belongs to a logged-in staff member: the public pages are residents' pages.
    admin = browser(app)
    with app.app_context():
        code = lending.add_tool(place.kind_id, place.admin_id).code
    count = len(entries(app))
    assert borrow(admin, "", code, who={"mobile": "13900139000", "name": "王芳", "consent": "y"}).status_code == 200
    assert len(entries(app)) == count


def test_changes_outside_a_request_are_logged_only_when_attributed(app, place):
    with app.app_context():
        count = len(db.session.scalars(select(AuditEntry)).all())
        with write_transaction() as s:
            s.get(ToolKind, place.kind_id).loan_days = 9  # a script, not attributed: not a staff change
        assert len(db.session.scalars(select(AuditEntry)).all()) == count
        with audit.acting_as(None), write_transaction() as s:
            s.get(ToolKind, place.kind_id).loan_days = 10
        with audit.acting_as(place.worker_id), write_transaction() as s:
            s.get(ToolKind, place.kind_id).loan_days = 11
        system, worker = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(2)).all()[::-1]
        assert (system.staff_id, system.changes) == (None, {"loan_days": [9, 10]})
        assert (worker.staff_id, worker.changes) == (place.worker_id, {"loan_days": [10, 11]})


def test_forget_writes_over_a_residents_values_in_the_log(app, place):
    with app.app_context():
        with audit.acting_as(place.admin_id), write_transaction() as s:
            s.add(Resident(name="次仁", mobile="13800138000", consent_at=None))
        with write_transaction():
            assert audit.forget({"次仁", "13800138000"}) == 1
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.record_type == "resident")).one()
        assert entry.changes["name"] == [None, "***"] and entry.changes["mobile"] == [None, "***"]


# --- The viewer --------------------------------------------------------------------------------

@pytest.fixture
def log(app, place):
    """Three changes by two people on two days, and one by the system."""
    admin = browser(app)
    worker = browser(app, "worker", STAFF_PASSWORD)
    assert worker.post(f"/staff/kinds/{place.kind_id}", data=KIND_FORM).status_code == 303
    assert admin.post(f"/staff/concerns/{place.concern_id}/follow-up",
                      data={"status": "referred", "note": "Sent on"}).status_code == 303
    with app.app_context():
        with audit.acting_as(None), write_transaction() as s:
            s.get(ToolKind, place.kind_id).loan_days = 6
        # The kind's edit happened a week ago.
        with write_transaction() as s:
            entry = s.scalars(select(AuditEntry).where(AuditEntry.staff_id == place.worker_id)).one()
            entry.at = entry.at - timedelta(days=7)
    return admin


def test_only_admins_open_the_audit_log(app, place):
    worker = browser(app, "worker", STAFF_PASSWORD)
    assert worker.get("/staff/audit").status_code == 403
    assert worker.get("/staff/audit.csv").status_code == 403


def test_the_log_newest_first_with_who_what_and_links(app, log, place):
    page = log.get("/staff/audit").get_data(as_text=True)
    assert 'href="/staff/audit"' in page  # in the menu
    rows = page.split("<tbody>")[1].split("</tbody>")[0].split("<tr")[1:]
    assert len(rows) == 4
    assert "the system" in rows[0] and "loan days" in rows[0]
    assert "Admin" in rows[1] or "Admin" in rows[2]
    assert "Worker (worker)" in rows[3] and "Electric drill" in rows[3] and "Cordless drill" in rows[3]
    assert f'href="/staff/kinds/{place.kind_id}"' in rows[3]
    assert f'href="/staff/concerns/{place.concern_id}"' in page  # the step links to its concern


def test_the_filters(app, log, place):
    def rows(**args):
        page = log.get("/staff/audit", query_string=args).get_data(as_text=True)
        return page.split("<tbody>")[1].split("</tbody>")[0].count("<tr")

    assert rows(staff=str(place.worker_id)) == 1
    assert rows(staff=str(place.admin_id)) == 2
    assert rows(staff="system") == 1
    assert rows(record_type="tool_kind") == 2
    assert rows(record_type="concern", record_id=str(place.concern_id)) == 1
    assert rows(record_type="tool_kind", record_id="999") == 0
    # The hall's date of the newest entries (not the clock's: no flake at midnight).
    newest = entries(app)[-1].at.replace(tzinfo=ZoneInfo("UTC"))
    with app.app_context():
        today = newest.astimezone(ZoneInfo(app.config["TIMEZONE"])).date()
    assert rows(since=today.isoformat()) == 3
    assert rows(until=(today - timedelta(days=1)).isoformat()) == 1
    assert rows(since=(today - timedelta(days=8)).isoformat(), until=(today - timedelta(days=6)).isoformat()) == 1
    # A malformed date is said next to its field; the rest still shows.
    response = log.get("/staff/audit", query_string={"since": "yesterday"})
    assert response.status_code == 200 and 'id="since-error"' in response.get_data(as_text=True)


def test_the_csv_has_the_filtered_log_one_row_per_field(app, log, place):
    response = log.get("/staff/audit.csv", query_string={"staff": str(place.worker_id)})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    body = rows[1:]
    assert {row[5]: (row[6], row[7]) for row in body} == {"name_en": ("Electric drill", "Cordless drill"),
                                                          "loan_days": ("7", "5")}
    assert all(row[1] == "Worker (worker)" and row[4] == str(place.kind_id) for row in body)
