"""Fifty residents grab the last free drill at the same moment, through four gunicorn worker
processes, on SQLite and on PostgreSQL.

The app runs as in production (CSRF on, several processes, one database file or server). The
hall has three drills and two are already out. Each of fifty residents has their own phone
(cookie jar), scans the last free drill's label, says who they are and opens "Please confirm";
then all fifty press "Yes, borrow it" at once. Exactly one gets the drill; the forty-nine others
are told clearly that someone has just borrowed it (409), nobody gets a server error, and the
server's log shows no "database is locked".

Then a double tap, or a phone that retries: one resident's phone sends "Yes, borrow it" for the
hammer ten times at once, and later "Return it" ten times at once. One loan, one return, and
all ten answers show the same receipt.
"""
from typing import NamedTuple

from markupsafe import escape
from sqlalchemy import func, select

from kiosk import lending
from kiosk.extensions import db
from kiosk.models import Loan, Resident, Tool
from tests.conftest import Hall, token
from tests.gunicorn import (
    Browser,
    Database,
    assert_clean_log,
    at_once,
    confirmation,
    each,
    inputs,
    serving,
    shown,
)
from tests.test_class_race import assert_answered

RESIDENTS = 50
TAPS = 10


class Shop(NamedTuple):
    drill: str  # the code of the last free drill
    hammer: str
    people: list[tuple[str, str]]  # (mobile, name): the fifty, then the one who wants the hammer


def prepare() -> Shop:
    """Three drills, two of them lent to neighbours; a hammer; fifty residents and the one who
    wants the hammer, known to the hall already."""
    hall = Hall()
    drills = hall.kind()
    *lent, last = [hall.tool(drills) for _ in range(3)]
    for n, tool in enumerate(lent):
        lending.borrow(tool.id, hall.resident(mobile=f"1380000{n:04d}", name=f"邻居{n}"), token(), "phone")
    hammer = hall.tool(hall.kind(en="Hammer", zh="锤子", bo="ཐོ་བ།", pict="🔨"))
    people = [(f"139{n:08d}", f"居民{n}") for n in range(RESIDENTS + 1)]
    for mobile, name in people:
        hall.resident(mobile=mobile, name=name)
    return Shop(last.code, hammer.code, people)


def loans_of(code: str) -> list[tuple[str, bool]]:
    """(borrower's mobile, returned?) of every loan of the tool, straight from the database."""
    return [(mobile, returned is not None) for mobile, returned in db.session.execute(
        select(Resident.mobile, Loan.returned_at).join(Resident).join(Tool).where(Tool.code == code))]


def tool_status(code: str) -> str:
    return db.session.scalar(select(Tool.status).where(Tool.code == code))


def free_tools() -> int:
    return db.session.scalar(select(func.count()).select_from(Tool).where(Tool.status == "available"))


def just_taken(database: Database) -> str:
    """What the forty-nine read, in the language a phone that chose none gets."""
    with database.app.test_request_context():
        return str(escape(lending._just_taken().message))


def ready_to_borrow(base: str, code: str, mobile: str, name: str) -> tuple[Browser, dict]:
    """A resident scans the label, says who they are, and is shown "Please confirm": their phone
    and the confirm form (CSRF and the form's one-use token)."""
    browser = Browser(base)
    page = browser.request(f"/t/{code}/borrow")
    assert page.status == 200 and 'id="identify-form"' in page.text, page
    page = browser.request(f"/t/{code}/who", {
        "csrf_token": inputs(page.text)["csrf_token"], "mobile": mobile, "name": name,
        "building_unit": "", "consent": "y"})
    assert page.status == 200 and 'class="confirm"' in page.text, page  # 303 -> the confirm page
    fields = inputs(page.text)
    return browser, {"csrf_token": fields["csrf_token"], "token": fields["token"]}


def test_fifty_residents_grab_the_last_free_drill_at_once(db_url, tmp_path):
    log = tmp_path / "gunicorn.log"
    with Database(db_url) as database, serving(db_url, log) as base:
        shop = database.run(prepare)
        drill, people = shop.drill, shop.people[:RESIDENTS]
        assert database.run(free_tools) == 2  # the last drill and the hammer

        phones = dict(zip((mobile for mobile, _ in people),
                          each(lambda person: ready_to_borrow(base, drill, *person), people)))
        results = at_once({mobile: lambda b=browser, f=form: b.request(f"/t/{drill}/borrow", f)
                           for mobile, (browser, form) in phones.items()})

        assert_answered(results, log)
        statuses = sorted(page.status for page in results.values())
        assert statuses == [200] + [409] * (RESIDENTS - 1), statuses
        [winner] = [mobile for mobile, page in results.items() if page.status == 200]
        assert drill in confirmation(results[winner]), results[winner].text
        message = just_taken(database)
        for mobile, page in results.items():
            if mobile != winner:
                assert 'role="alert"' in page.text and shown(page, "reason") == "just_taken", page.text
                assert message in page.text and confirmation(page) is None, page.text

        # The database agrees with the one page that said yes.
        assert database.run(loans_of, drill) == [(winner, False)]
        assert database.run(tool_status, drill) == "on_loan"

        # One phone sends "Yes, borrow it" for the hammer ten times at once ...
        hammer, (mobile, name) = shop.hammer, shop.people[RESIDENTS]
        browser, form = ready_to_borrow(base, hammer, mobile, name)
        taps = at_once({n: lambda: browser.request(f"/t/{hammer}/borrow", form) for n in range(TAPS)})
        assert_answered(taps, log)
        assert [page.status for page in taps.values()] == [200] * TAPS, \
            [(page.status, shown(page, "reason")) for page in taps.values()]
        assert len({confirmation(page) for page in taps.values()}) == 1 and hammer in confirmation(taps[0])
        assert database.run(loans_of, hammer) == [(mobile, False)]

        # ... and, back home, "Return it" ten times at once.
        page = browser.request(f"/t/{hammer}/return")
        assert page.status == 200 and "return-form" in page.text, page
        fields = inputs(page.text)
        form = {"csrf_token": fields["csrf_token"], "token": fields["token"], "condition": "fine", "note": ""}
        taps = at_once({n: lambda: browser.request(f"/t/{hammer}/return", form) for n in range(TAPS)})
        assert_answered(taps, log)
        assert [page.status for page in taps.values()] == [200] * TAPS, \
            [(page.status, shown(page, "reason")) for page in taps.values()]
        assert len({confirmation(page) for page in taps.values()}) == 1 and confirmation(taps[0]) is not None
        assert database.run(loans_of, hammer) == [(mobile, True)]
        assert database.run(tool_status, hammer) == "available"
    assert_clean_log(log)
