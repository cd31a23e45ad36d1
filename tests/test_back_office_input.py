"""Odd input to the back office's filters and forms gets an answer, never a 500: dates no
calendar of the hall's records holds, numbers too big for the database, look-alike digits, free
text that looks like a timestamp."""
import pytest

from kiosk import ledger
from tests.test_security import login, populate


@pytest.fixture
def admin(app):
    populate(app)
    client = app.test_client()
    assert login(client).status_code == 303
    return client


@pytest.mark.parametrize("path", [
    "/staff/audit?since=0001-01-01", "/staff/audit?until=9999-12-31", "/staff/audit.csv?since=0001-01-01",
    "/staff/residents?q=%23999999999999999999999", "/staff/residents/1/merge?other=999999999999999999999",
    "/staff/residents/1/merge?other=%C2%B2", "/staff/report?end=9999-12-31",
    # Look-alike digits that str.isdigit() lets through and int() refuses ("²", "①"), and a huge id.
    "/staff/tools?kind=%C2%B2", "/staff/tools?kind=99999999999999999999", "/staff/labels?tool=%E2%91%A0&tool=1",
    "/staff/audit?staff=%C2%B2", "/staff/audit?staff=99999999999999999999",
])
def test_odd_filters_get_an_answer(admin, path):
    assert admin.get(path).status_code in (200, 422)


def test_a_look_alike_digit_in_a_setting_is_refused_next_to_the_field(admin):
    response = admin.post("/staff/settings", data={"MAX_OPEN_LOANS": "²"})
    assert response.status_code == 422


def test_free_text_that_looks_like_a_moment_is_shown_as_typed_in_the_audit_log(app, admin):
    from kiosk import audit

    with app.app_context(), audit.acting_as(1):
        ledger.follow_up(1, "2026-13-01T10:00", 1)
    response = admin.get("/staff/audit")
    assert response.status_code == 200
    assert "2026-13-01T10:00" in response.get_data(as_text=True)


def test_a_merge_form_with_a_huge_number_is_refused_next_to_the_field(admin):
    response = admin.post("/staff/residents/1/merge", data={"other": "999999999999999999999", "sure": "y"})
    assert response.status_code == 422
