"""Two people claiming the same wish at once: one claim, one clear message. Through four gunicorn
worker processes, on SQLite and on PostgreSQL.

The app runs as in production (CSRF on, several processes, one database). Twelve volunteers,
each on their own phone (cookie jar), open the claim page of the same wish on the wall, and a
partner unit opens it on its office computer; all thirteen press "I can help" at once. Exactly
one claim is recorded (pending, for staff to confirm), the one whose page says so; the twelve
others are told kindly that someone has just taken it (409), nobody gets a server error, and
nobody who lost leaves a trace. Then a double tap, or a phone that retries: one phone sends the
same claim form ten times at once, and a resident's phone sends the same wish ten times at once.
One claim and one wish, and all ten answers show the same one.
"""
import re
from typing import NamedTuple

from markupsafe import escape
from sqlalchemy import func, select

from kiosk import wishes
from kiosk.extensions import db
from kiosk.models import Claim, Resident, Volunteer, Wish
from tests.conftest import Hall
from tests.gunicorn import (
    Browser,
    Database,
    Page,
    assert_clean_log,
    at_once,
    confirmation,
    inputs,
    serving,
)
from tests.test_class_race import assert_answered
from tests.test_wishes_rules import published, unit

VOLUNTEERS = 12
TAPS = 10
UNIT = "unit"


class Wall(NamedTuple):
    wish: int  # the wish everybody wants
    spare: int  # a second one, for the impatient double tap
    unit: int


class Helper(NamedTuple):
    who: str  # the volunteer's mobile, or UNIT
    browser: Browser
    form: dict


def prepare() -> Wall:
    """Two wishes of two residents on the wall, and a partner unit."""
    hall = Hall()
    return Wall(published(hall), published(hall), unit())


def claims(wish_id: int) -> list[tuple[str, str]]:
    """(status, claimant) of every claim of the wish, straight from the database; the claimant
    is the volunteer's mobile or UNIT."""
    rows = db.session.execute(select(Claim.status, Volunteer.mobile).outerjoin(Volunteer)
                              .where(Claim.wish_id == wish_id)).all()
    return [(status, mobile or UNIT) for status, mobile in rows]


def volunteers() -> int:
    return db.session.scalar(select(func.count()).select_from(Volunteer))


def taken_message(database: Database) -> str:
    """What the losers read, in the language a phone that chose none gets."""
    with database.app.test_request_context():
        return str(escape(wishes.taken().message))


def open_claim(base: str, wish_id: int, who: str, unit_id: int) -> Helper:
    """A helper opens the claim page of the wish and fills it in: a volunteer their mobile and
    name, the partner unit its name from the list."""
    browser = Browser(base)
    page = browser.request(f"/w/wall/{wish_id}/claim")
    assert page.status == 200 and 'id="claim-form"' in page.text, page
    hidden = inputs(page.text)
    form = {"csrf_token": hidden["csrf_token"], "token": hidden["token"], "note": ""}
    if who == UNIT:
        form |= {"who": "unit", "partner_unit": str(unit_id), "mobile": "", "name": ""}
    else:
        form |= {"who": "volunteer", "partner_unit": "", "mobile": who, "name": f"志愿者{who[-4:]}"}
    return Helper(who, browser, form)


def send(helper: Helper, wish_id: int):
    return lambda: helper.browser.request(f"/w/wall/{wish_id}/claim", helper.form)


def wish_form(base: str, mobile: str) -> tuple[Browser, dict]:
    """A resident opens "Make a wish" on their phone and fills it in: the phone and the form."""
    browser = Browser(base)
    page = browser.request("/w/new?kind=wish")
    assert page.status == 200 and 'id="wish-form"' in page.text, page
    hidden = inputs(page.text)
    return browser, {"csrf_token": hidden["csrf_token"], "token": hidden["token"], "kind": "wish",
                     "category": "school", "description": "孩子需要一个新书包", "building_unit": "3号楼",
                     "visit_times": "", "name": "卓玛", "mobile": mobile, "consent": "y"}


def wishes_of(mobile: str) -> list[str]:
    """The receipt codes of a resident's wishes, straight from the database."""
    return list(db.session.scalars(select(Wish.code).join(Resident).where(Resident.mobile == mobile)))


def claim_shown(page: Page) -> str | None:
    found = re.search(r'data-claim="(\w+)"', page.text)
    return found and found.group(1)


def reason_shown(page: Page) -> str | None:
    found = re.search(r'data-reason="(\w+)"', page.text)
    return found and found.group(1)


def test_thirteen_helpers_claim_one_wish_at_once(db_url, tmp_path):
    log = tmp_path / "gunicorn.log"
    with Database(db_url) as database, serving(db_url, log) as base:
        wall = database.run(prepare)
        helpers = [open_claim(base, wall.wish, f"1370000{n:04d}", wall.unit) for n in range(VOLUNTEERS)]
        helpers.append(open_claim(base, wall.wish, UNIT, wall.unit))
        results = at_once({helper.who: send(helper, wall.wish) for helper in helpers})

        assert_answered(results, log)
        statuses = sorted(page.status for page in results.values())
        assert statuses == [200] + [409] * VOLUNTEERS, [(k, p.status) for k, p in results.items()]
        [winner] = [who for who, page in results.items() if page.status == 200]
        assert claim_shown(results[winner]) == "pending", results[winner].text
        message = taken_message(database)
        for who, page in results.items():
            if who != winner:
                assert reason_shown(page) == "taken" and message in page.text, (who, page.text)
                assert claim_shown(page) is None

        # The database agrees with the one page that said yes; the losers left no volunteer behind.
        assert database.run(claims, wall.wish) == [("pending", winner)]
        assert database.run(volunteers) == (0 if winner == UNIT else 1)
        # Whoever opens the wish now is told straight away.
        late = Browser(base).request(f"/w/wall/{wall.wish}/claim")
        assert (late.status, reason_shown(late)) == (409, "taken"), late

        # One phone sends the same claim form ten times at once (an impatient volunteer).
        impatient = open_claim(base, wall.spare, "13700009999", wall.unit)
        taps = at_once({n: send(impatient, wall.spare) for n in range(TAPS)})
        assert_answered(taps, log)
        assert [(page.status, claim_shown(page)) for page in taps.values()] == [(200, "pending")] * TAPS, \
            [(page.status, reason_shown(page)) for page in taps.values()]
        assert database.run(claims, wall.spare) == [("pending", impatient.who)]

        # A resident's phone sends the same wish ten times at once: one wish, one receipt.
        browser, form = wish_form(base, "13600009999")
        taps = at_once({n: lambda: browser.request("/w/new", form) for n in range(TAPS)})
        assert_answered(taps, log)
        codes = {page.url.rsplit("/", 1)[-1] for page in taps.values()}
        assert [page.status for page in taps.values()] == [200] * TAPS and len(codes) == 1, \
            [(page.status, page.url) for page in taps.values()]
        assert len({confirmation(page) for page in taps.values()}) == 1 and confirmation(taps[0])
        assert database.run(wishes_of, "13600009999") == list(codes)
    assert_clean_log(log)
