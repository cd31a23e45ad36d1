"""Staff accounts: logging in and out, argon2 hashes, throttling shared by all workers, and the CLI."""
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import func, select, update

from kiosk import create_app
from kiosk.extensions import db
from kiosk.models import Loan, LoginAttempt, Resident, StaffUser, Tool, ToolKind
from tests.conftest import ADMIN_PASSWORD, config_for
from tests.test_security import STAFF_PASSWORD, login


def english(client):
    with client.session_transaction() as s:
        s["lang"] = "en"


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def hall(app):
    """The admin and a staff member, made in an app context that is closed again: each request
    below then gets its own context and session, as in a real server (conftest's `hall`
    keeps one context open for the whole test)."""
    from kiosk.auth import create_staff

    with app.app_context():
        admin = create_staff("admin", ADMIN_PASSWORD, role="admin", display_name="Admin").id
        create_staff("worker", STAFF_PASSWORD, role="staff", display_name="Worker")

    class Accounts:
        admin_id = admin
    return Accounts


@pytest.fixture
def worker(app, hall):
    with app.app_context():
        return db.session.scalar(select(StaffUser.id).where(StaffUser.username == "worker"))


# --- Logging in and out ----------------------------------------------------------------------

def test_the_back_office_sends_an_anonymous_visitor_to_the_login(client, hall):
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login?next=")
    assert client.get("/staff/devices").headers["Location"].startswith("/staff/login")


def test_login_with_the_right_password(client, hall):
    response = login(client)
    assert response.status_code == 303 and response.headers["Location"] == "/staff/"
    page = client.get("/staff/")
    assert page.status_code == 200 and "Admin" in page.get_data(as_text=True)
    with client.application.app_context():
        assert db.session.get(StaffUser, hall.admin_id).last_login_at is not None


def test_login_with_a_wrong_password_is_refused_in_words(client, hall):
    english(client)
    response = login(client, password="not the password")
    assert response.status_code == 422
    assert "The user name or password is not right." in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302


def test_an_unknown_name_gets_the_same_answer_as_a_wrong_password(client, hall):
    english(client)
    response = login(client, username="nobody", password="whatever whatever")
    assert response.status_code == 422
    assert "The user name or password is not right." in response.get_data(as_text=True)


def test_user_names_are_not_case_sensitive(client, hall):
    assert login(client, username="  ADMIN ").status_code == 303


def test_passwords_are_stored_as_argon2id_hashes(app, hall):
    with app.app_context():
        user = db.session.get(StaffUser, hall.admin_id)
        assert user.password_hash.startswith("$argon2id$")
        assert ADMIN_PASSWORD not in user.password_hash


def test_an_inactive_account_cannot_log_in(client, hall, worker):
    with client.application.app_context():
        db.session.execute(update(StaffUser).where(StaffUser.id == worker).values(active=False))
        db.session.commit()
    english(client)
    response = login(client, "worker", STAFF_PASSWORD)
    assert response.status_code == 422
    assert "The user name or password is not right." in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302


def test_an_account_deactivated_while_logged_in_loses_access(client, hall, worker):
    assert login(client, "worker", STAFF_PASSWORD).status_code == 303
    assert client.get("/staff/").status_code == 200
    with client.application.app_context():
        db.session.execute(update(StaffUser).where(StaffUser.id == worker).values(active=False))
        db.session.commit()
    assert client.get("/staff/").status_code == 302


def test_logout_is_a_post(client, hall):
    login(client)
    assert client.get("/staff/logout").status_code == 405
    assert client.get("/staff/").status_code == 200  # a GET (a prefetch, an <img>) logs nobody out
    response = client.post("/staff/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/staff/login"
    assert client.get("/staff/").status_code == 302


def test_logging_in_starts_a_fresh_session_but_keeps_the_language(client, hall):
    with client.session_transaction() as s:
        s["lang"] = "bo"
        s["kiosk_resident_id"] = 1
    login(client)
    with client.session_transaction() as s:
        assert s["lang"] == "bo" and "kiosk_resident_id" not in s


@pytest.mark.parametrize("target", ["/staff/devices", "/staff/devices?x=1"])
def test_login_goes_back_to_the_page_asked_for(client, hall, target):
    response = client.post(f"/staff/login?next={target}",
                           data={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == target


@pytest.mark.parametrize("target", ["http://evil.example", "http://evil.example/staff/", "//evil.example",
                                    "https:evil.example", "evil.example", "javascript:alert(1)"])
def test_login_never_redirects_to_another_site(client, hall, target):
    response = client.post("/staff/login", query_string={"next": target},
                           data={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/"


@pytest.mark.parametrize("target", ["/\\evil.example", "/\\/evil.example", "/\t/evil.example"])
def test_a_backslash_or_tab_in_next_stays_on_this_site(client, hall, target):
    """Browsers read '/\\host' and '/<tab>/host' as '//host'; the Location must not let them."""
    response = client.post("/staff/login", query_string={"next": target},
                           data={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 303
    assert "\\" not in response.headers["Location"] and "\t" not in response.headers["Location"]
    resolved = urljoin("http://hall.test/staff/login", response.headers["Location"])
    assert urlsplit(resolved).netloc == "hall.test", response.headers["Location"]


# --- Throttling ------------------------------------------------------------------------------

def fail(client, times, username="admin", address="10.0.0.1"):
    for _ in range(times):
        response = client.post("/staff/login", data={"username": username, "password": "wrong password"},
                               environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 422


def test_five_wrong_passwords_lock_the_name_even_for_the_right_password(client, hall):
    english(client)
    fail(client, 5)
    response = login(client, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302


def test_four_wrong_passwords_do_not_lock(client, hall):
    fail(client, 4)
    assert login(client, environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 303


def test_throttling_counts_per_user_name_from_any_address(client, hall, worker):
    fail(client, 5, address="10.0.0.1")
    # Another address does not help the locked name ...
    assert login(client, environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 429
    # ... and another name is not locked by it.
    assert login(client, "worker", STAFF_PASSWORD, environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 303


def test_attempts_are_rows_in_the_database_shared_by_every_worker(app, client, hall, tmp_path):
    fail(client, 5)
    with app.app_context():
        assert count(LoginAttempt, LoginAttempt.username == "admin", LoginAttempt.succeeded.is_(False)) == 5
    # A second worker process is another app on the same database: it sees the same count.
    other = create_app(config_for(app.config["SQLALCHEMY_DATABASE_URI"]))
    response = login(other.test_client(), environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert response.status_code == 429
    with other.app_context():
        db.engine.dispose()


def test_the_lock_ends_after_the_window(app, client, hall):
    fail(client, 5)
    with app.app_context():
        db.session.execute(update(LoginAttempt).values(at=LoginAttempt.at - timedelta(minutes=16)))
        db.session.commit()
    assert login(client, environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 303


def test_many_names_from_one_address_lock_that_address(client, hall):
    for i in range(4):
        fail(client, 5, username=f"guess{i}", address="10.6.6.6")
    assert login(client, environ_base={"REMOTE_ADDR": "10.6.6.6"}).status_code == 429
    assert login(client, environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 303


# --- The command line --------------------------------------------------------------------------

@pytest.fixture
def bare_app(tmp_path, monkeypatch):
    """An app with no admin password configured (neither in the config nor in the environment)."""
    monkeypatch.delenv("KIOSK_ADMIN_PASSWORD", raising=False)
    app = create_app(config_for(f"sqlite:///{tmp_path / 'bare.sqlite'}", ADMIN_PASSWORD=None))
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


def test_setup_creates_the_admin_with_the_configured_password(app, runner):
    result = runner.invoke(args=["setup"])
    assert result.exit_code == 0, result.output
    assert "KIOSK_ADMIN_PASSWORD" in result.output and ADMIN_PASSWORD not in result.output
    with app.app_context():
        admin = db.session.scalar(select(StaffUser))
        assert (admin.username, admin.role) == ("admin", "admin")
    assert login(app.test_client()).status_code == 303


def test_setup_prints_a_random_password_once(bare_app):
    runner = bare_app.test_cli_runner()
    result = runner.invoke(args=["setup"])
    assert result.exit_code == 0, result.output
    password = result.output.split("Password: ")[1].split()[0]
    assert len(password) >= 12
    assert login(bare_app.test_client(), password=password).status_code == 303
    again = runner.invoke(args=["setup"])
    assert again.exit_code == 0 and "Password" not in again.output and password not in again.output
    with bare_app.app_context():
        assert count(StaffUser) == 1


def test_setup_loads_the_demo_hall_once(app, runner):
    result = runner.invoke(args=["setup", "--demo-if-empty"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from kiosk import lending

        assert count(ToolKind) == 15
        assert count(Tool) == 40
        # 12 from the tool shop, 6 more guardians of the class, 42 neighbours invited to tea in turn
        assert count(Resident) == 60
        assert count(Loan, Loan.returned_at.is_(None)) == 5
        assert count(Loan, Loan.returned_at.is_(None), Loan.due_on < lending.hall_today()) == 1
        assert count(Tool, Tool.status == "in_repair") == 1
        assert count(Tool, Tool.status == "on_loan") == 5
        # Every kind has its name in all three languages.
        assert all(k.name_zh and k.name_bo and k.name_en for k in db.session.scalars(select(ToolKind)))
        # The English class: this term's Saturdays, 18 children in 20 seats, attendance taken,
        # and its teacher (whose password setup prints once).
        from kiosk import classes
        from kiosk.models import Attendance, Course, Registration

        course = db.session.scalar(select(Course))
        assert (course.code, course.capacity) == ("ENGLISH", 20)
        assert count(Registration, Registration.status == "confirmed") == 18
        assert count(Attendance) > 0
        assert any(s.day.weekday() == 5 for s in classes.next_dates(course.id))
        assert course.teacher.role == "teacher" and "teacher  Password: " in result.output
        # Wishes and help requests in every state, volunteers of each sub-team, partner units.
        from kiosk.models import PartnerUnit, Volunteer, Wish
        from kiosk.models.wishes import SUB_TEAMS, WISH_STATUSES

        assert set(db.session.scalars(select(Wish.status))) == set(WISH_STATUSES)
        assert set(db.session.scalars(select(Volunteer.sub_team))) == set(SUB_TEAMS)
        assert count(PartnerUnit) >= 8
        # Past teas with their guests and concerns in every state of the ledger; the next tea.
        from kiosk import tea
        from kiosk.models import Concern, TeaSession, TeaSignIn
        from kiosk.models.tea import CONCERN_STATUSES

        assert count(TeaSession, TeaSession.day < lending.hall_today()) == 6 and len(tea.upcoming()) == 1
        assert count(TeaSignIn) > 40
        assert set(db.session.scalars(select(Concern.status))) == set(CONCERN_STATUSES)
        # Issue 10: four activities (two held with attendance; the outing full with a waiting list
        # and a family to call), six months of the work log of every built-in kind with staff and
        # volunteers, three joint meetings with items in every status (concerns carry their
        # resolution), and resource matches of every kind.
        from kiosk import activities, dashboard
        from kiosk.models import (Activity, AgendaItem, ConcernStep, JointMeeting, ResourceMatch, SignUp, WorkKind,
                                  WorkLogEntry)
        from kiosk.models.community import AGENDA_STATUSES, BUILT_IN_WORK_KINDS, MATCH_KINDS

        today = lending.hall_today()
        assert count(Activity) == 4 and count(Activity, Activity.day <= today) == 2
        outing = db.session.scalar(select(Activity).where(Activity.capacity == 10))
        assert len(activities.confirmed(outing.id)) == 10 and len(activities.waiting_list(outing.id)) == 2
        assert len(activities.to_call(outing.id)) == 1
        assert count(SignUp, SignUp.attended.is_(True)) > 10
        assert count(WorkLogEntry) >= 25
        assert {k["key"] for k in BUILT_IN_WORK_KINDS} <= set(db.session.scalars(
            select(WorkKind.key).join(WorkLogEntry, WorkLogEntry.kind_id == WorkKind.id)))
        assert db.session.scalar(select(WorkLogEntry).where(WorkLogEntry.day < today - timedelta(days=150)))
        assert any(e.volunteers and e.staff for e in db.session.scalars(select(WorkLogEntry)))
        assert count(JointMeeting) == 3 and count(JointMeeting, JointMeeting.day > today) == 1
        assert all(5 <= len(m.units) <= 8 and m.chair_unit for m in db.session.scalars(select(JointMeeting)))
        assert set(db.session.scalars(select(AgendaItem.status))) == set(AGENDA_STATUSES)
        assert {"concern", "partner"} <= set(db.session.scalars(select(AgendaItem.source)))
        resolved_concerns = db.session.scalars(select(AgendaItem.concern_id).where(
            AgendaItem.concern_id.is_not(None), AgendaItem.status != "proposed")).all()
        assert resolved_concerns
        for concern_id in resolved_concerns:
            item = db.session.scalar(select(AgendaItem).where(AgendaItem.concern_id == concern_id))
            notes = db.session.scalars(select(ConcernStep.note).where(ConcernStep.concern_id == concern_id)).all()
            assert any(item.resolution in note for note in notes)
        assert set(db.session.scalars(select(ResourceMatch.kind))) == set(MATCH_KINDS)
        assert dashboard.overdue_items(today)
    again = runner.invoke(args=["setup", "--demo-if-empty"])
    assert again.exit_code == 0 and "demo" not in again.output.lower()
    with app.app_context():
        assert (count(ToolKind), count(Tool), count(Resident), count(Loan), count(StaffUser)) == (15, 40, 60, 5, 3)


def test_setup_without_the_flag_loads_no_demo(app, runner):
    assert runner.invoke(args=["setup"]).exit_code == 0
    with app.app_context():
        assert count(Tool) == 0


def test_staff_create(app, runner):
    result = runner.invoke(args=["staff", "create", "Dolma", "--name", "卓玛"],
                           input="a long password\na long password\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == "dolma"))
        assert (user.role, user.display_name) == ("staff", "卓玛")
        assert user.password_hash.startswith("$argon2id$")
    assert login(app.test_client(), "dolma", "a long password").status_code == 303


def test_staff_create_an_admin(app, runner):
    result = runner.invoke(args=["staff", "create", "pema", "--role", "admin"],
                           input="a long password\na long password\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(StaffUser.role).where(StaffUser.username == "pema")) == "admin"


def test_staff_create_refuses_a_taken_name(app, runner):
    args = ["staff", "create", "dolma"]
    assert runner.invoke(args=args, input="a long password\na long password\n").exit_code == 0
    result = runner.invoke(args=["staff", "create", "DOLMA"], input="another password\nanother password\n")
    assert result.exit_code != 0 and "taken" in result.output
    with app.app_context():
        assert count(StaffUser) == 1


def test_staff_create_refuses_a_short_password(app, runner):
    result = runner.invoke(args=["staff", "create", "dolma"], input="short\nshort\n")
    assert result.exit_code != 0 and "8 characters" in result.output
    with app.app_context():
        assert count(StaffUser) == 0


def test_staff_create_refuses_an_unknown_role(app, runner):
    result = runner.invoke(args=["staff", "create", "dolma", "--role", "root"],
                           input="a long password\na long password\n")
    assert result.exit_code != 0
    with app.app_context():
        assert count(StaffUser) == 0



def test_setup_refuses_a_configured_password_the_policy_refuses(tmp_path):
    """A weak KIOSK_ADMIN_PASSWORD stops `flask setup` with the reason, not a traceback."""
    app = create_app(config_for(f"sqlite:///{tmp_path / 'weak.sqlite'}", ADMIN_PASSWORD="password123"))
    with app.app_context():
        db.create_all()
    result = app.test_cli_runner().invoke(args=["setup"])
    assert result.exit_code != 0
    assert "KIOSK_ADMIN_PASSWORD" in result.output and "too easy to guess" in result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StaffUser)) == 0
