"""Sixty families register for a class of twenty seats at the same moment, through four gunicorn
worker processes, on SQLite and on PostgreSQL.

The app runs as in production (CSRF on, several processes, one database). Each family has its own
phone (cookie jar), opens the registration form, and all sixty press "Register" at once. Exactly
twenty get a seat (seats 1 to 20) and forty wait (places 1 to 40, no gap, no duplicate), nobody
gets a server error, and every receipt page says what the database says. Then one family gives up
its seat, tapping twice: exactly one family moves up, the first on the waiting list, and the
others each move one place forward. Then three families give up their seats at the same moment:
exactly the next three move up. Last, one phone sends the same form ten times at once (a double
tap, a retry): one registration, and all ten answers show the same receipt.
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
from tests.gunicorn import (
    Browser,
    Page,
    assert_clean_log,
    at_once,
    confirmation,
    each,
    inputs,
    post_form,
    serving,
)
from tests.test_classes_rules import fields

SEATS = 20
FAMILIES = 60
TAPS = 10
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


def give_up(families: list[Family], receipts: dict[str, str], log: Path, double_tap: bool = False) -> None:
    """The families press "Give up the place" at the same moment (the first of them twice): every
    tap lands on their receipt, which now says cancelled."""
    cancels = {}
    for family in families:
        action, form = cancel_form(family.browser, receipts[family.mobile])
        cancels[family.mobile] = lambda b=family.browser, a=action, f=form: b.request(a, f)
    if double_tap:
        cancels["double tap"] = cancels[families[0].mobile]
    cancelled = at_once(cancels)
    assert_answered(cancelled, log)
    assert_receipts(cancelled)
    assert [shown(page).status for page in cancelled.values()] == ["cancelled"] * len(cancels)
    assert {receipt_of(page) for page in cancelled.values()} == {receipts[f.mobile] for f in families}


def moved_up(before: dict[str, Place], after: dict[str, Place]) -> list[str]:
    """The receipts that were waiting before and hold a seat now."""
    return [r for r, p in after.items() if p.status == "confirmed" and before[r].status == "waiting"]


def test_sixty_families_register_for_twenty_seats_at_once(db_url, tmp_path):
    _prepare(db_url)
    ledger = Ledger(db_url)
    log = tmp_path / "gunicorn.log"
    try:
        with serving(db_url, log) as base:
            families = each(lambda n: open_form(base, n), range(FAMILIES))
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
            seated = [f for f in families if places[receipts[f.mobile]].status == "confirmed"]
            tickets = ledger.tickets()
            queue = sorted(tickets, key=tickets.get)  # the waiting list, first to last

            # One seated family gives up its seat, with a double tap: exactly one family moves up,
            # the first waiting, and everyone behind them moves one place forward.
            give_up(seated[:1], receipts, log, double_tap=True)
            after = ledger.places()
            assert moved_up(places, after) == queue[:1]
            assert after[receipts[seated[0].mobile]].status == "cancelled"
            assert all(after[r].place == places[r].place - 1 for r in queue[1:])
            assert_sound(after, SEATS, FAMILIES - SEATS - 1)

            # Three more give up at the same moment: exactly the next three move up.
            give_up(seated[1:4], receipts, log)
            last = ledger.places()
            assert sorted(moved_up(after, last)) == sorted(queue[1:4])
            assert {r for r, p in last.items() if p.status == "cancelled"} == \
                {receipts[f.mobile] for f in seated[:4]}
            assert_sound(last, SEATS, FAMILIES - SEATS - 4)
            # Every family's receipt page, opened now, tells the new state.
            assert_pages_agree(dict(zip(receipts.values(), each(
                lambda f: f.browser.request(f"/c/{CODE}/r/{receipts[f.mobile]}"), families))), last)

            # One phone sends the same form ten times at once (a new guardian's impatient taps).
            impatient = open_form(base, FAMILIES)
            taps = at_once({n: send(impatient) for n in range(TAPS)})
            assert_answered(taps, log)
            assert_receipts(taps)
            assert {receipt_of(page) for page in taps.values()} == {receipt_of(taps[0])}
            assert len({confirmation(page) for page in taps.values()}) == 1
            [registered] = ledger.registrations_of(impatient.mobile)
            assert registered == receipt_of(taps[0])
            end_of_queue = Place("waiting", None, FAMILIES - SEATS - 4 + 1)
            assert shown(taps[0]) == ledger.places()[registered] == end_of_queue
    finally:
        ledger.close()
    assert_clean_log(log)
