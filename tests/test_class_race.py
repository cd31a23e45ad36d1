"""Forty families register for a class of twenty seats at the same moment, through four gunicorn
worker processes, on SQLite and on PostgreSQL.

The app runs as in production (CSRF on, several processes, one database). Each family has its own
phone (cookie jar), opens the registration form, and all forty press "Register" at once. Exactly
twenty get a seat (seats 1 to 20) and twenty wait (places 1 to 20, no gap, no duplicate), nobody
gets a server error, and every receipt page says what the database says. Then three families give
up their seats at the same moment (one of them taps twice): exactly the first three waiting move
up. Last, one phone sends the same form five times at once: one registration.
"""
import re
from pathlib import Path
from typing import NamedTuple

import pytest

from sqlalchemy import select

from kiosk import classes, create_app
from kiosk.extensions import db
from kiosk.models import Registration, Resident
from tests.conftest import config_for
from tests.gunicorn import Browser, Page, assert_clean_log, at_once, inputs, post_form, serving
from tests.test_classes_rules import fields

SEATS = 20
FAMILIES = 40
CANCELLING = 3
CODE = "ENGLISH"


class Place(NamedTuple):
    status: str
    seat: int | None
    place: int | None  # on the waiting list, counted as kiosk.classes.waiting_place counts it


class Family(NamedTuple):
    mobile: str
    browser: Browser
    form: dict


def _prepare(url: str) -> None:
    """The schema and a course of twenty seats for ages 6 to 13 whose term covers today."""
    app = create_app(config_for(url))
    with app.app_context():
        db.create_all()
        classes.save_course(fields(code=CODE, capacity=SEATS, age_min=6, age_max=13))
        db.session.remove()
        db.engine.dispose()


class Ledger:
    """Reads the registrations straight from the database, outside the server."""

    def __init__(self, url: str):
        self.app = create_app(config_for(url))

    def places(self) -> dict[str, Place]:
        """receipt -> Place of every registration of the course."""
        with self.app.app_context():
            registrations = db.session.scalars(select(Registration)).all()
            return {r.receipt: Place(r.status, r.seat, classes.waiting_place(r)) for r in registrations}

    def tickets(self) -> dict[str, int]:
        with self.app.app_context():
            return dict(db.session.execute(select(Registration.receipt, Registration.wait_ticket)
                                           .where(Registration.wait_ticket.is_not(None))).all())

    def registrations_of(self, mobile: str) -> list[str]:
        with self.app.app_context():
            return list(db.session.scalars(select(Registration.receipt).join(Resident)
                                           .where(Resident.mobile == mobile)))

    def close(self):
        with self.app.app_context():
            db.engine.dispose()


def shown(page: Page) -> Place:
    """What a receipt page tells the family."""
    def number(name):
        found = re.search(rf'data-{name}="(\d+)"', page.text)
        return int(found.group(1)) if found else None

    status = re.search(r'data-status="(\w+)"', page.text)
    return Place(status and status.group(1), number("seat"), number("place"))


def receipt_of(page: Page) -> str | None:
    found = re.search(rf"/c/{CODE}/r/([A-Z0-9]{{8}})$", page.url or "")
    return found.group(1) if found else None


def open_form(base: str, n: int) -> Family:
    """Family n opens the registration form on their phone and fills it in."""
    browser = Browser(base)
    page = browser.request(f"/c/{CODE}/register")
    assert page.status == 200 and 'id="register-form"' in page.text, page
    hidden = inputs(page.text)
    mobile = f"1390000{n:04d}"
    return Family(mobile, browser, {
        "csrf_token": hidden["csrf_token"], "token": hidden["token"], "child_name": f"孩子{n}",
        "child_age": "9", "child_grade": "", "name": f"家长{n}", "mobile": mobile,
        "consent": "y", "guardian_consent": "y"})


def send(family: Family):
    return lambda: family.browser.request(f"/c/{CODE}/register", family.form)


def cancel_form(browser: Browser, receipt: str) -> tuple[str, dict]:
    """The receipt page's cancel form (or, behind its link, the "Are you sure?" page's)."""
    path = f"/c/{CODE}/r/{receipt}"
    for page in (browser.request(path), browser.request(f"{path}/cancel")):
        assert page.status == 200, page
        form = post_form(page.text, f"{path}/cancel")
        if form is not None:
            return form["action"], {"csrf_token": form["inputs"]["csrf_token"]}
    raise AssertionError(f"no cancel form for {receipt}")


def assert_sound(places: dict[str, Place], seated: int, waiting: int) -> None:
    """Seats 1..seated, places 1..waiting: no gap, no duplicate, nothing over the capacity."""
    assert sorted(p.seat for p in places.values() if p.status == "confirmed") == list(range(1, seated + 1))
    assert sorted(p.place for p in places.values() if p.status == "waiting") == list(range(1, waiting + 1))


def assert_pages_agree(pages: dict[str, Page], places: dict[str, Place]) -> None:
    for receipt, page in pages.items():
        assert shown(page) == places[receipt], (receipt, page.text)


def assert_answered(results: dict, log: Path) -> None:
    """Every request got an answer, and none was a server error (else: what each got, and the
    first error in gunicorn's log)."""
    if any(page.status is None or page.status >= 500 for page in results.values()):
        errors = log.read_text()
        pytest.fail(f"{[(key, page.status, page.url) for key, page in results.items()]}\n"
                    f"{errors[errors.find('ERROR'):][:3000]}")


def assert_receipts(results: dict) -> None:
    assert all(page.status == 200 and receipt_of(page) for page in results.values()), \
        [(key, page.status, page.url) for key, page in results.items()]


def test_forty_families_register_for_twenty_seats_at_once(db_url, tmp_path):
    _prepare(db_url)
    ledger = Ledger(db_url)
    log = tmp_path / "gunicorn.log"
    try:
        with serving(db_url, log) as base:
            families = [open_form(base, n) for n in range(FAMILIES)]
            results = at_once({family.mobile: send(family) for family in families})

            # Everybody lands on a receipt: a seat or a place on the waiting list.
            assert_answered(results, log)
            assert_receipts(results)
            receipts = {family.mobile: receipt_of(results[family.mobile]) for family in families}
            assert len(set(receipts.values())) == FAMILIES
            places = ledger.places()
            assert set(places) == set(receipts.values())
            assert_sound(places, SEATS, FAMILIES - SEATS)
            assert_pages_agree({receipts[m]: page for m, page in results.items()}, places)

            # Three seated families cancel at the same moment, the first of them with a double tap.
            tickets = ledger.tickets()
            first_waiting = sorted(tickets, key=tickets.get)[:CANCELLING]
            leaving = [f for f in families if places[receipts[f.mobile]].status == "confirmed"][:CANCELLING]
            gone = {receipts[f.mobile] for f in leaving}
            cancels = {}
            for family in leaving:
                action, form = cancel_form(family.browser, receipts[family.mobile])
                cancels[family.mobile] = lambda b=family.browser, a=action, f=form: b.request(a, f)
            cancels["double tap"] = cancels[leaving[0].mobile]
            cancelled = at_once(cancels)
            assert_answered(cancelled, log)
            assert_receipts(cancelled)
            assert [shown(page).status for page in cancelled.values()] == ["cancelled"] * (CANCELLING + 1)
            assert {receipt_of(page) for page in cancelled.values()} == gone

            after = ledger.places()
            assert {r for r, p in after.items() if p.status == "cancelled"} == gone
            assert {r for r, p in after.items() if p.status == "confirmed" and places[r].status == "waiting"} \
                == set(first_waiting)  # exactly the first three tickets moved up
            assert_sound(after, SEATS, FAMILIES - SEATS - CANCELLING)
            # Every family's receipt page, opened now, tells the new state.
            assert_pages_agree({receipts[f.mobile]: f.browser.request(f"/c/{CODE}/r/{receipts[f.mobile]}")
                                for f in families}, after)

            # One phone sends the same form five times at once (a new guardian's impatient taps).
            impatient = open_form(base, FAMILIES)
            taps = at_once({n: send(impatient) for n in range(5)})
            assert_answered(taps, log)
            assert_receipts(taps)
            assert {receipt_of(page) for page in taps.values()} == {receipt_of(taps[0])}
            [receipt] = ledger.registrations_of(impatient.mobile)
            assert receipt == receipt_of(taps[0])
            last = Place("waiting", None, FAMILIES - SEATS - CANCELLING + 1)
            assert shown(taps[0]) == ledger.places()[receipt] == last
    finally:
        ledger.close()
    assert_clean_log(log)
