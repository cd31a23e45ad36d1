"""The settings page: every setting with its value and hint, all-or-nothing saving with errors next
to the field, and each saved value really used at once (no restart), by this worker and others."""
import html
import re

import pytest
from sqlalchemy import select

from kiosk import create_app, lending, settings, wishes
from kiosk.auth import create_staff
from kiosk.database import write_transaction
from kiosk.extensions import db
from kiosk.models import Setting
from kiosk.refusal import Refusal
from kiosk.residents import identify_resident
from tests.conftest import ADMIN_PASSWORD, Hall, config_for, token
from tests.test_security import STAFF_PASSWORD, login
from tests.test_tools_http import borrow


@pytest.fixture
def place(app):
    """An admin, a staff member and two free tools, made in an app context closed again."""
    with app.app_context():
        hall = Hall()
        create_staff("worker", STAFF_PASSWORD, role="staff", display_name="Worker")
        kind = hall.kind()
        codes = [hall.tool(kind).code, hall.tool(kind).code]

        class Place:
            admin_id, kind_id, tool_codes = hall.admin_id, kind, codes
    return Place


@pytest.fixture
def admin(app, place):
    client = app.test_client()
    with client.session_transaction() as s:
        s["lang"] = "en"
    assert login(client, "admin", ADMIN_PASSWORD).status_code == 303
    return client


def current_form(app) -> dict:
    with app.app_context():
        return {key: str(value) for key, value in settings.current().items()}


def save(client, app, **changes):
    return client.post("/staff/settings", data={**current_form(app), **changes})


def text(response) -> str:
    return response.get_data(as_text=True)


def error_of(page: str, field: str) -> str:
    m = re.search(rf'<p class="error" id="{field}-error"[^>]*>([^<]*)</p>', page)
    return html.unescape(m.group(1)) if m else ""


def value_of(page: str, field: str) -> str:
    m = re.search(rf'<input[^>]*id="{field}"[^>]*value="([^"]*)"', page) or \
        re.search(rf'<input[^>]*value="([^"]*)"[^>]*id="{field}"', page)
    return html.unescape(m.group(1)) if m else ""


# --- The page ------------------------------------------------------------------------------------

def test_the_page_shows_every_setting_with_its_value_and_hint(app, admin):
    page = text(admin.get("/staff/settings"))
    assert 'href="/staff/settings"' in page  # in the menu
    for spec in settings.SPECS:
        assert f'id="{spec.key}"' in page, spec.key
    assert value_of(page, "MAX_OPEN_LOANS") == "3"
    assert value_of(page, "BASE_URL") == "http://hall.test"
    assert value_of(page, "HALL_NAME_EN") == "Community service hall"
    assert "Labels already printed keep the old address." in page
    assert "A whole number from 1 to 10." in page  # MAX_OPEN_LOANS's range, as its hint
    assert re.search(r'id="HALL_NAME_BO"[^>]*lang="bo"|lang="bo"[^>]*id="HALL_NAME_BO"', page)


def test_only_admins_open_the_settings(app, place):
    worker = app.test_client()
    assert login(worker, "worker", STAFF_PASSWORD).status_code == 303
    assert worker.get("/staff/settings").status_code == 403
    assert worker.post("/staff/settings", data={**current_form(app), "MAX_OPEN_LOANS": "1"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(Setting)) is None


def test_saving_says_what_changed_and_the_page_shows_the_new_value(app, admin):
    response = save(admin, app, MAX_OPEN_LOANS="1", HALL_NAME_EN="Xinhua community hall")
    assert response.status_code == 303
    page = text(admin.get(response.headers["Location"]))
    assert "Saved: " in page
    assert "Tools one resident may hold at once: 3 → 1" in page
    assert "Community service hall → Xinhua community hall" in page
    assert value_of(page, "MAX_OPEN_LOANS") == "1"
    with app.app_context():
        assert {row.key: row.value for row in db.session.scalars(select(Setting))} == {
            "MAX_OPEN_LOANS": "1", "HALL_NAME_EN": "Xinhua community hall"}  # only what changed is stored
    again = save(admin, app)
    assert "Nothing was changed." in text(admin.get(again.headers["Location"]))


@pytest.mark.parametrize("field, value, message", [
    ("MAX_OPEN_LOANS", "0", "Enter a whole number from 1 to 10."),
    ("MAX_OPEN_LOANS", "three", "Enter a whole number from 1 to 10."),
    ("KIOSK_IDLE_SECONDS", "5", "Enter a whole number from 20 to 600."),
    ("BASE_URL", "hall.example.cn", "Enter an address starting with https:// or http://, like https://hall.example.cn."),
    ("HALL_NAME_ZH", "  ", "Please fill this in."),
    ("HALL_NAME_EN", "x" * 81, "At most 80 characters."),
])
def test_a_bad_value_is_refused_next_to_its_field_and_nothing_is_saved(app, admin, field, value, message):
    response = save(admin, app, **{"LOGIN_MAX_FAILURES": "7", field: value})
    assert response.status_code == 422
    page = text(response)
    assert error_of(page, field) == message
    assert "Nothing was saved." in page
    assert value_of(page, field) == value.strip() or value_of(page, field) == value  # what they typed stays
    with app.app_context():
        assert db.session.scalar(select(Setting)) is None  # not even the good LOGIN_MAX_FAILURES
        assert settings.get("LOGIN_MAX_FAILURES") == 5


def test_every_bad_value_is_said_at_once(app, admin):
    page = text(save(admin, app, MAX_OPEN_LOANS="99", RETENTION_YEARS="-1"))
    assert error_of(page, "MAX_OPEN_LOANS") and error_of(page, "RETENTION_YEARS")


# --- Each setting is really used -----------------------------------------------------------------

def test_max_open_loans_applies_to_the_next_borrow(app, admin, place):
    assert save(admin, app, MAX_OPEN_LOANS="1").status_code == 303
    tablet = app.test_client()
    assert borrow(tablet, "/kiosk", place.tool_codes[0]).status_code == 200
    second = borrow(tablet, "/kiosk", place.tool_codes[1])
    assert second.status_code == 409
    assert save(admin, app, MAX_OPEN_LOANS="2").status_code == 303
    assert borrow(tablet, "/kiosk", place.tool_codes[1]).status_code == 200


def test_base_url_is_in_the_labels_qr_address(app, admin, place):
    saved = save(admin, app, BASE_URL="https://hall.example.cn/")
    assert saved.status_code == 303
    admin.get(saved.headers["Location"])  # (shows the flash that names the old address)
    with app.app_context():
        tool_id = lending.find_tool(place.tool_codes[0]).id
        assert settings.get("BASE_URL") == "https://hall.example.cn"  # kept without the slash
    page = text(admin.get("/staff/labels", query_string={"tool": tool_id}))
    assert f"https://hall.example.cn/t/{place.tool_codes[0]}" in page
    assert "http://hall.test" not in page


def test_idle_seconds_reach_the_tablet_page(app, admin):
    assert 'data-idle-seconds="75"' in text(app.test_client().get("/kiosk/"))
    assert save(admin, app, KIOSK_IDLE_SECONDS="120").status_code == 303
    assert 'data-idle-seconds="120"' in text(app.test_client().get("/kiosk/"))


def test_the_hall_name_in_each_language_heads_the_phone_pages(app, admin):
    assert save(admin, app, HALL_NAME_ZH="新华社区服务中心", HALL_NAME_EN="Xinhua hall").status_code == 303
    phone = app.test_client()
    assert "新华社区服务中心" in text(phone.get("/"))  # Chinese by default
    with phone.session_transaction() as s:
        s["lang"] = "en"
    page = text(phone.get("/"))
    assert re.search(r'class="brand"[^>]*>Xinhua hall<', page)


def test_the_default_loan_period_fills_the_new_kind_form(app, admin):
    assert save(admin, app, DEFAULT_LOAN_DAYS="14").status_code == 303
    assert re.search(r'name="loan_days"[^>]*value="14"', text(admin.get("/staff/kinds/new")))


def test_login_failures_lock_after_the_saved_number(app, admin):
    assert save(admin, app, LOGIN_MAX_FAILURES="3").status_code == 303
    client = app.test_client()
    for _ in range(3):
        assert login(client, "worker", "wrong password", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 422
    assert login(client, "worker", STAFF_PASSWORD, environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 429


def test_the_wish_limit_per_mobile(app, admin):
    assert save(admin, app, WISH_LIMIT_PER_MOBILE="1").status_code == 303
    with app.test_request_context():
        with write_transaction():
            resident = identify_resident("13800138000", "次仁", None, consent=True).id
        request = wishes.Request(kind="wish", category="school", description="A school bag")
        wishes.submit(resident, request, token(), "phone", "phone-1")
        with pytest.raises(Refusal) as refused:
            wishes.submit(resident, request, token(), "phone", "phone-2")
        assert refused.value.reason == "too_many"


def test_another_worker_sees_a_change_at_once(app, admin):
    """A second worker process (another app on the same database) reads the settings again as soon
    as the data version has moved (kiosk.freshness): no restart, and no page of its own kept
    whole shows the old value."""
    other = create_app(config_for(app.config["SQLALCHEMY_DATABASE_URI"]))
    reader = other.test_client()
    try:
        with other.app_context():
            assert settings.get("MAX_OPEN_LOANS") == 3
        for _ in range(2):  # drawn, then kept
            assert "Barkhor Hall" not in reader.get("/tools/").get_data(as_text=True)
        assert save(admin, app, MAX_OPEN_LOANS="4", HALL_NAME_ZH="Barkhor Hall").status_code == 303
        with other.app_context():
            assert settings.get("MAX_OPEN_LOANS") == 4
        assert "Barkhor Hall" in reader.get("/tools/").get_data(as_text=True)
    finally:
        with other.app_context():
            db.engine.dispose()
