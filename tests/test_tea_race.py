"""Residents signing in to the afternoon tea with the tablet's QR at the same moment: through four
gunicorn worker processes with CSRF on, on SQLite and on PostgreSQL.

Ten invited residents scan the same QR (one token), each on their own phone, and press "Sign me
in" together: ten attendances, every one answered with its welcome, and their invitations marked
accepted. Then one resident's phone sends the form ten times at once (a double tap, a retry): one
attendance, and every tap is told so (once as new, then nine times as already signed in). On the way, the public contract of
/s/<token>: the form, and a kind 400 saying why for an expired, forged or out-of-window code, and
422 for a resident the hall does not know, with nothing recorded.
"""
from datetime import timedelta
from typing import NamedTuple

from sqlalchemy import select

from kiosk import tea
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import TeaInvitation, TeaSignIn
from tests.conftest import Hall
from tests.gunicorn import (
    SECRET,
    Browser,
    Database,
    assert_clean_log,
    at_once,
    post_form,
    serving,
    shown,
)
from tests.test_class_race import assert_answered
from tests.test_tea_rules import made_ago, session_on, today_from_midnight

INVITED = 10
TAPS = 10


class Table(NamedTuple):
    session: int  # today's tea, open all day
    yesterday: int  # a tea whose window has closed
    invited: list[tuple[str, str]]  # (mobile, name) of the residents invited today
    impatient: tuple[str, str]  # a resident the hall knows, not invited


def prepare() -> Table:
    hall = Hall()
    people = [(f"1370000{n:04d}", f"居民{n}") for n in range(INVITED + 1)]
    ids = [hall.resident(mobile, name, f"{n % 6 + 1}号楼") for n, (mobile, name) in enumerate(people)]
    session = today_from_midnight(hall)
    tea.invite(session, ids[:INVITED])
    return Table(session, session_on(hall, day=hall_today() - timedelta(days=1)), people[:INVITED], people[-1])


def attendance(session_id: int) -> list[tuple[str, str]]:
    """(mobile, how) of every sign-in of the session, straight from the database."""
    rows = db.session.execute(select(TeaSignIn).where(TeaSignIn.session_id == session_id)).scalars()
    return sorted((row.resident.mobile, row.how) for row in rows)


def answers(session_id: int) -> list[str]:
    return sorted(db.session.scalars(select(TeaInvitation.answer).where(TeaInvitation.session_id == session_id)))


class Phone(NamedTuple):
    browser: Browser
    form: dict


def scan(base: str, token: str, mobile: str, name: str) -> Phone:
    """A resident scans the QR: the sign-in page, its form filled in with mobile and name."""
    browser = Browser(base)
    page = browser.request(f"/s/{token}")
    form = post_form(page.text, f"/s/{token}")
    assert page.status == 200 and form is not None and form.get("id") == "tea-sign-in-form", page
    assert {"csrf_token", "mobile", "name"} <= set(form["inputs"]) and form["inputs"]["csrf_token"], form
    return Phone(browser, {"csrf_token": form["inputs"]["csrf_token"], "mobile": mobile, "name": name})


def press(phone: Phone, token: str):
    return lambda: phone.browser.request(f"/s/{token}", phone.form)


def test_residents_sign_in_at_once_with_one_qr(db_url, tmp_path, monkeypatch):
    log = tmp_path / "gunicorn.log"
    with Database(db_url) as database, serving(db_url, log) as base:
        database.app.config["SECRET_KEY"] = SECRET  # sign the codes as the server's tablet does
        table = database.run(prepare)
        token = database.run(tea.new_token, table.session)

        # Refused codes and strangers: a kind page saying why, and nothing recorded.
        lifetime = database.app.config["TEA_TOKEN_SECONDS"]
        for code, reason in [(database.run(made_ago, lifetime + 5, table.session, monkeypatch), "token_expired"),
                             (token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"), "token_bad"),
                             (database.run(tea.new_token, table.yesterday), "window")]:
            page = Browser(base).request(f"/s/{code}")
            assert (page.status, shown(page, "reason")) == (400, reason), page
            assert 'id="tea-sign-in-form"' not in page.text
        stranger = scan(base, token, "13900139000", "陌生人")
        assert stranger.browser.request(f"/s/{token}", stranger.form).status == 422
        assert database.run(attendance, table.session) == []

        # Ten invited residents press "Sign me in" together.
        phones = {mobile: scan(base, token, mobile, name) for mobile, name in table.invited}
        results = at_once({mobile: press(phone, token) for mobile, phone in phones.items()})
        assert_answered(results, log)
        assert [(page.status, shown(page, "signed-in")) for page in results.values()] == [(200, "new")] * INVITED, \
            [(mobile, page.status, shown(page, "reason")) for mobile, page in results.items()]
        assert database.run(attendance, table.session) == sorted((mobile, "qr") for mobile, _name in table.invited)
        assert database.run(answers, table.session) == ["accepted"] * INVITED

        # One phone sends the form ten times at once: one attendance, every tap answered.
        impatient = scan(base, token, *table.impatient)
        taps = at_once({n: press(impatient, token) for n in range(TAPS)})
        assert_answered(taps, log)
        assert sorted((page.status, shown(page, "signed-in")) for page in taps.values()) == \
            [(200, "again")] * (TAPS - 1) + [(200, "new")], [(page.status, shown(page, "reason")) for page in taps.values()]
        signed = database.run(attendance, table.session)
        assert len(signed) == INVITED + 1 and (table.impatient[0], "qr") in signed
    assert_clean_log(log)
