"""Enrolling the hall tablet: a staff member marks the browser once; it then takes tools back
at the counter without asking who returns them. Any other device asks."""
import pytest
from sqlalchemy import func, select

from kiosk import devices
from kiosk.extensions import db
from kiosk.models import KioskDevice, Loan, Tool
from tests.test_security import STAFF_PASSWORD, TOOL_CODE, login, populate

RETURN = f"/kiosk/t/{TOOL_CODE}/return"


@pytest.fixture
def shop(app):
    """RW-0001 on loan to resident 1, device 1 already enrolled (see test_security.populate)."""
    return populate(app)


def enrol(client, name="Counter tablet"):
    return client.post("/staff/devices", data={"name": name})


def tablet_cookie(client):
    cookie = client.get_cookie(devices.COOKIE)
    return cookie.value if cookie else None


def is_identify_form(response) -> bool:
    html = response.get_data(as_text=True)
    return response.status_code == 200 and 'name="mobile"' in html and f"/t/{TOOL_CODE}/who" in html


def is_return_form(response) -> bool:
    html = response.get_data(as_text=True)
    return response.status_code == 200 and 'name="condition"' in html and 'name="mobile"' not in html


def device_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(KioskDevice))


def test_enrolling_needs_a_staff_login(shop, client):
    before = device_count(shop)
    response = enrol(client)
    assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login")
    assert tablet_cookie(client) is None
    assert device_count(shop) == before
    assert client.get("/staff/devices").headers["Location"].startswith("/staff/login")


def test_enrolling_marks_this_browser_as_the_hall_tablet(shop, client):
    assert login(client, "worker", STAFF_PASSWORD).status_code == 303
    response = enrol(client)
    assert response.status_code == 303 and response.headers["Location"] == "/kiosk/"
    cookie = client.get_cookie(devices.COOKIE)
    assert cookie is not None and cookie.http_only
    assert cookie.expires is not None  # long-lived: it outlives the browser session
    with shop.app_context():
        device = db.session.scalar(select(KioskDevice).order_by(KioskDevice.id.desc()))
        assert device.name == "Counter tablet" and device.revoked_at is None
    with client.session_transaction() as s:
        s["lang"] = "en"
    assert "This browser is the hall tablet" in client.get("/staff/devices").get_data(as_text=True)


def test_enrolling_without_a_name_is_refused_next_to_the_field(shop, client):
    login(client)
    response = enrol(client, name="")
    assert response.status_code == 422 and 'class="error"' in response.get_data(as_text=True)
    assert tablet_cookie(client) is None


def test_the_enrolled_tablet_takes_a_tool_back_without_asking_who(shop, client):
    login(client)
    enrol(client)
    client.post("/staff/logout")
    assert is_return_form(client.get(RETURN))
    response = client.post(RETURN, data={"token": "b7c0c2d6-return-at-the-counter", "condition": "fine"})
    assert response.status_code == 200
    with shop.app_context():
        loan = db.session.get(Loan, 1)
        assert loan.returned_at is not None and loan.channel == "kiosk"
        assert db.session.scalar(select(Tool.status).where(Tool.code == TOOL_CODE)) == "available"


def test_any_other_device_asks_who_returns_the_tool(shop, client):
    assert is_identify_form(client.get(RETURN))
    # Posting straight to the return form does not get round it.
    response = client.post(RETURN, data={"token": "b7c0c2d6-sneaky-return", "condition": "fine"})
    assert response.status_code == 303 and response.headers["Location"] == RETURN
    with shop.app_context():
        assert db.session.get(Loan, 1).returned_at is None


def test_a_staff_login_alone_does_not_make_a_hall_tablet(shop, client):
    login(client)
    assert is_identify_form(client.get(RETURN))


def test_the_tablet_cookie_only_counts_on_the_kiosk_pages(shop, client):
    """A phone page (/t/<code>) is for residents' phones: there only the borrower returns."""
    login(client)
    enrol(client)
    assert is_identify_form(client.get(f"/t/{TOOL_CODE}/return"))


def test_a_revoked_tablet_is_no_longer_one(shop, client):
    login(client)
    enrol(client)
    with shop.app_context():
        device_id = db.session.scalar(select(func.max(KioskDevice.id)))
    assert is_return_form(client.get(RETURN))
    response = client.post(f"/staff/devices/{device_id}/revoke")
    assert response.status_code == 303
    with shop.app_context():
        assert db.session.get(KioskDevice, device_id).revoked_at is not None
    assert is_identify_form(client.get(RETURN))
    with client.session_transaction() as s:
        s["lang"] = "en"
    assert "This browser is not a hall tablet." in client.get("/staff/devices").get_data(as_text=True)


def test_a_forged_or_foreign_cookie_is_not_a_tablet(shop, client):
    client.set_cookie(devices.COOKIE, "1")
    assert is_identify_form(client.get(RETURN))
    with shop.test_request_context():
        from itsdangerous import URLSafeSerializer

        foreign = URLSafeSerializer("another hall's secret", salt="hall-tablet").dumps(1)
    client.set_cookie(devices.COOKIE, foreign)
    assert is_identify_form(client.get(RETURN))


def test_the_domain_functions(shop):
    with shop.test_request_context():
        device = devices.enrol("Second tablet", 1)
        assert device.id and device.revoked_at is None
        devices.revoke(device.id)
        revoked_at = db.session.get(KioskDevice, device.id).revoked_at
        assert revoked_at is not None
        devices.revoke(device.id)  # revoking twice keeps the first time
        assert db.session.get(KioskDevice, device.id).revoked_at == revoked_at
        devices.revoke(999)  # an unknown device is not an error
        assert not devices.is_hall_tablet()  # no cookie in this request
