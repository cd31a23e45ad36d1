"""Staff accounts through HTTP: the admins' pages (create, edit, deactivate, reset), the password
policy next to the field, sessions that end at once in other browsers, the rules that keep the
hall an admin, who may open these pages, and everyone's own password."""
import html
import re

import pytest
from sqlalchemy import select

from kiosk import auth
from kiosk.auth import create_staff
from kiosk.extensions import db
from kiosk.models import StaffUser
from kiosk.refusal import Refusal
from tests.conftest import ADMIN_PASSWORD
from tests.test_security import STAFF_PASSWORD, login

TEACHER_PASSWORD = "blackboard chalk 7"
COORDINATOR_PASSWORD = "helping hands 42"
NEW_PASSWORD = "yak butter tea at noon"


@pytest.fixture
def people(app):
    """Accounts made in an app context that is closed again: each request then gets its own
    context (and its own current_user), as in a real server with several browsers."""
    with app.app_context():
        ids = {
            "admin": create_staff("admin", ADMIN_PASSWORD, role="admin", display_name="Admin").id,
            "worker": create_staff("worker", STAFF_PASSWORD, role="staff", display_name="Worker").id,
            "teacher": create_staff("yangchen", TEACHER_PASSWORD, role="teacher", display_name="Ms Yangchen").id,
            "coordinator": create_staff("dawa", COORDINATOR_PASSWORD, role="coordinator", display_name="Dawa").id,
        }
    return ids


def browser(app, username="admin", password=ADMIN_PASSWORD):
    """A new browser (test client) reading English, logged in as this account."""
    client = app.test_client()
    with client.session_transaction() as s:
        s["lang"] = "en"
    assert login(client, username, password).status_code == 303
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def error_of(page: str, field: str) -> str:
    """The message shown next to a field (its id), or "" if there is none."""
    m = re.search(rf'<p class="error" id="{field}-error"[^>]*>([^<]*)</p>', page)
    return html.unescape(m.group(1)) if m else ""


def account(app, username) -> StaffUser:
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
        db.session.expunge_all()
        return user


def is_logged_in(client) -> bool:
    response = client.get("/staff/password")
    if response.status_code == 302:
        assert "/staff/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


def new_account(admin, username="pema", role="staff", password=NEW_PASSWORD, again=None, name="Pema"):
    return admin.post("/staff/accounts/new", data={
        "username": username, "display_name": name, "role": role,
        "password": password, "password_again": password if again is None else again})


# --- The list and creating an account ------------------------------------------------------------

def test_the_list_shows_every_account_with_role_state_and_last_login(app, people):
    admin = browser(app)
    page = text(admin.get("/staff/accounts"))
    for username, name, role in (("admin", "Admin", "Admin"), ("worker", "Worker", "Staff"),
                                 ("yangchen", "Ms Yangchen", "Teacher"), ("dawa", "Dawa", "Coordinator")):
        assert re.search(rf">{username}</a></td>\s*<td>{name}</td>\s*<td>{role}", page), username
    assert "Never" in page  # the worker never logged in; the admin just did
    assert re.search(r">admin</a>.*?\d{4}-\d\d-\d\d \d\d:\d\d", page, re.S)
    # The roles are described in plain words.
    assert "Only their own classes" in page and "Only wishes and help requests" in page
    assert 'href="/staff/accounts"' in page  # in the menu


def test_create_an_account_that_can_log_in(app, people):
    admin = browser(app)
    form = text(admin.get("/staff/accounts/new"))
    assert "Common passwords and passwords containing the user name are refused." in form
    assert "Only their own classes: the roster and attendance" in form  # the teacher's role, in words
    response = new_account(admin, "  Pema ", role="coordinator")
    assert response.status_code == 303
    user = account(app, "pema")
    assert (user.display_name, user.role, user.active) == ("Pema", "coordinator", True)
    assert user.password_hash.startswith("$argon2id$")
    assert "was created" in text(admin.get(response.headers["Location"]))
    assert browser(app, "pema", NEW_PASSWORD).get("/staff/wishes").status_code == 200


def test_a_double_submit_creates_one_account(app, people):
    admin = browser(app)
    assert new_account(admin).status_code == 303
    again = new_account(admin)
    assert again.status_code == 422
    assert error_of(text(again), "username") == "This user name is taken. Please choose another one."
    with app.app_context():
        assert len(db.session.scalars(select(StaffUser).where(StaffUser.username == "pema")).all()) == 1


@pytest.mark.parametrize("password, message", [
    ("7 chars", "The password needs at least 8 characters."),
    ("password123", "This password is too easy to guess. Please choose another one."),
    ("qwertyuiop", "This password is too easy to guess. Please choose another one."),
    ("pema's own password", "This password is too easy to guess. Please choose another one."),  # the name
    ("x" * 257, "The password can have at most 256 characters."),
])
def test_the_password_policy_is_said_next_to_the_field(app, people, password, message):
    admin = browser(app)
    response = new_account(admin, password=password)
    assert response.status_code == 422
    assert error_of(text(response), "password") == message
    assert account(app, "pema") is None


def test_a_long_passphrase_is_welcome(app, people):
    admin = browser(app)
    passphrase = ("the river runs past the monastery and the yak grazes on the hill above it " * 2)[:100]
    assert len(passphrase) == 100
    assert new_account(admin, password=passphrase).status_code == 303
    assert browser(app, "pema", passphrase).get("/staff/").status_code == 200


def test_the_two_passwords_must_match_and_the_name_must_be_plain(app, people):
    admin = browser(app)
    page = text(new_account(admin, again="another long password"))
    assert error_of(page, "password_again") == "The two passwords are not the same. Please type them again."
    page = text(new_account(admin, username="pema dolkar"))
    assert error_of(page, "username").startswith("A user name has 2 to 40 letters")
    page = text(new_account(admin, role="root"))
    assert error_of(page, "role") == "Please choose a role."
    assert account(app, "pema") is None


# --- Editing, deactivating, resetting -----------------------------------------------------------

def test_edit_the_name_and_role(app, people):
    admin = browser(app)
    response = admin.post(f"/staff/accounts/{people['worker']}", data={"display_name": "Tashi", "role": "teacher"})
    assert response.status_code == 303
    user = account(app, "worker")
    assert (user.display_name, user.role) == ("Tashi", "teacher")
    page = text(admin.get(f"/staff/accounts/{people['worker']}"))
    assert re.search(r'value="teacher"[^>]*checked', page) or re.search(r'checked[^>]*value="teacher"', page)


def test_a_new_role_applies_at_once_in_an_open_browser(app, people):
    worker = browser(app, "worker", STAFF_PASSWORD)
    assert worker.get("/staff/tools").status_code == 200
    admin = browser(app)
    admin.post(f"/staff/accounts/{people['worker']}", data={"display_name": "Worker", "role": "teacher"})
    assert not is_logged_in(worker)  # logged out, logs in again with the new rights
    worker = browser(app, "worker", STAFF_PASSWORD)
    assert worker.get("/staff/tools").status_code == 403


def test_a_deactivated_account_is_logged_out_at_once_in_another_browser(app, people):
    worker = browser(app, "worker", STAFF_PASSWORD)
    assert worker.get("/staff/tools").status_code == 200
    admin = browser(app)
    response = admin.post(f"/staff/accounts/{people['worker']}/deactivate")
    assert response.status_code == 303
    assert "logged out everywhere" in text(admin.get(response.headers["Location"]))
    assert account(app, "worker").active is False
    response = worker.get("/staff/tools")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    english = app.test_client()
    assert login(english, "worker", STAFF_PASSWORD).status_code == 422
    # The list says so; reactivating lets them in again (the old session stays ended).
    assert "Deactivated" in text(admin.get("/staff/accounts"))
    assert admin.post(f"/staff/accounts/{people['worker']}/reactivate").status_code == 303
    assert not is_logged_in(worker)
    assert is_logged_in(browser(app, "worker", STAFF_PASSWORD))


def test_logout_in_one_browser_ends_the_same_account_in_another(app, people):
    first = browser(app, "worker", STAFF_PASSWORD)
    second = browser(app, "worker", STAFF_PASSWORD)
    assert is_logged_in(first) and is_logged_in(second)
    assert first.post("/staff/logout").status_code == 303
    assert not is_logged_in(second)
    assert not is_logged_in(first)


def test_a_password_reset_ends_sessions_and_the_new_password_works(app, people):
    worker = browser(app, "worker", STAFF_PASSWORD)
    admin = browser(app)
    short = admin.post(f"/staff/accounts/{people['worker']}/password",
                       data={"password": "short", "password_again": "short"})
    assert short.status_code == 422
    assert error_of(text(short), "password") == "The password needs at least 8 characters."
    assert is_logged_in(worker)
    response = admin.post(f"/staff/accounts/{people['worker']}/password",
                          data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert response.status_code == 303
    assert not is_logged_in(worker)
    assert login(app.test_client(), "worker", STAFF_PASSWORD).status_code == 422
    assert is_logged_in(browser(app, "worker", NEW_PASSWORD))
    assert is_logged_in(admin)  # the admin who did it stays in


# --- The hall keeps an admin ---------------------------------------------------------------------

def test_an_admin_cannot_deactivate_or_demote_themselves(app, people):
    admin = browser(app)
    response = admin.post(f"/staff/accounts/{people['admin']}/deactivate")
    assert response.status_code == 409
    assert "You cannot deactivate your own account." in text(response)
    response = admin.post(f"/staff/accounts/{people['admin']}", data={"display_name": "Admin", "role": "staff"})
    assert response.status_code == 422
    assert error_of(text(response), "role").startswith("You cannot take the admin role away from your own account.")
    user = account(app, "admin")
    assert (user.role, user.active) == ("admin", True)
    assert is_logged_in(admin)
    # Their own name they may change.
    assert admin.post(f"/staff/accounts/{people['admin']}", data={"display_name": "Boss", "role": "admin"}).status_code == 303
    assert account(app, "admin").display_name == "Boss"


def test_another_admin_can_be_demoted_but_never_the_last_active_one(app, people):
    with app.app_context():
        second = create_staff("pema", NEW_PASSWORD, role="admin").id
        admin_id = people["admin"]
        # The rule itself, as the system (no acting admin): the last active admin stays.
        auth.set_active(second, False, None)
        with pytest.raises(Refusal) as refused:
            auth.set_active(admin_id, False, None)
        assert refused.value.reason == "last_admin"
        with pytest.raises(Refusal) as refused:
            auth.save_account(admin_id, "Admin", "staff", None)
        assert refused.value.reason == "last_admin" and refused.value.field == "role"
        auth.set_active(second, True, None)
        auth.save_account(admin_id, "Admin", "staff", second)  # two active admins: one may go
        assert db.session.get(StaffUser, admin_id).role == "staff"


def test_a_second_admin_demotes_the_first_through_the_page(app, people):
    with app.app_context():
        create_staff("pema", NEW_PASSWORD, role="admin")
    pema = browser(app, "pema", NEW_PASSWORD)
    assert pema.post(f"/staff/accounts/{people['admin']}/deactivate").status_code == 303
    assert account(app, "admin").active is False


# --- Who may open these pages -------------------------------------------------------------------

@pytest.mark.parametrize("who, password", [("worker", STAFF_PASSWORD), ("yangchen", TEACHER_PASSWORD),
                                           ("dawa", COORDINATOR_PASSWORD)])
def test_only_admins_open_the_account_pages(app, people, who, password):
    client = browser(app, who, password)
    for path in ("/staff/accounts", "/staff/accounts/new", f"/staff/accounts/{people['worker']}"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/staff/accounts/{people['admin']}/deactivate").status_code == 403
    assert client.post(f"/staff/accounts/{people['worker']}/password",
                       data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}).status_code == 403
    assert new_account(client).status_code == 403
    assert account(app, "admin").active and account(app, "pema") is None
    assert 'href="/staff/accounts"' not in text(client.get("/staff/password"))


# --- One's own password -------------------------------------------------------------------------

def test_a_teacher_changes_their_own_password(app, people):
    teacher = browser(app, "yangchen", TEACHER_PASSWORD)
    other_browser = browser(app, "yangchen", TEACHER_PASSWORD)
    page = text(teacher.get("/staff/password"))
    assert "Your current password" in page and 'href="/staff/password"' in page  # linked from the bar
    wrong = teacher.post("/staff/password", data={"current": "not my password", "password": NEW_PASSWORD,
                                                  "password_again": NEW_PASSWORD})
    assert wrong.status_code == 422
    assert error_of(text(wrong), "current") == "This is not your current password."
    weak = teacher.post("/staff/password", data={"current": TEACHER_PASSWORD, "password": "qwertyuiop",
                                                 "password_again": "qwertyuiop"})
    assert error_of(text(weak), "password") == "This password is too easy to guess. Please choose another one."
    response = teacher.post("/staff/password", data={"current": TEACHER_PASSWORD, "password": NEW_PASSWORD,
                                                     "password_again": NEW_PASSWORD})
    assert response.status_code == 303
    assert "Your password is changed." in text(teacher.get(response.headers["Location"]))
    assert is_logged_in(teacher)  # this browser stays in ...
    assert not is_logged_in(other_browser)  # ... the others are out
    assert login(app.test_client(), "yangchen", TEACHER_PASSWORD).status_code == 422
    assert login(app.test_client(), "yangchen", NEW_PASSWORD).status_code == 303


def test_an_admin_resets_others_not_themselves(app, people):
    admin = browser(app)
    response = admin.post(f"/staff/accounts/{people['admin']}/password",
                          data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert response.status_code == 409
    assert "Change your own password on the “My password” page" in text(response)
    assert is_logged_in(admin)


def test_the_account_rules_on_both_databases(any_hall):
    """The domain rules themselves, on SQLite and PostgreSQL (the admins' row lock included)."""
    admin_id = any_hall.admin_id
    user = auth.create_account(" Pema ", "Pema", "staff", NEW_PASSWORD)
    assert (user.username, user.session_version) == ("pema", 0)
    with pytest.raises(Refusal) as refused:
        auth.create_account("PEMA", "Pema again", "staff", NEW_PASSWORD)
    assert (refused.value.reason, refused.value.field) == ("taken", "username")
    auth.save_account(user.id, "Pema", "admin", admin_id)
    assert db.session.get(StaffUser, user.id).session_version == 1  # a new role: logged in again
    auth.set_active(user.id, False, admin_id)
    with pytest.raises(Refusal) as refused:
        auth.set_active(admin_id, False, user.id)  # the only active admin left
    assert refused.value.reason == "last_admin"
    with pytest.raises(Refusal) as refused:
        auth.save_account(admin_id, "Admin", "teacher", admin_id)
    assert refused.value.reason == "self_demote"
    auth.reset_password(user.id, "a brand new phrase", admin_id)
    assert db.session.get(StaffUser, user.id).session_version == 3
    auth.set_active(user.id, True, admin_id)
    assert auth.authenticate("pema", "a brand new phrase", "10.0.0.1").id == user.id
