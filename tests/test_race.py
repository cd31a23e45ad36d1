"""Twenty residents grab the same drill at the same moment, through four gunicorn worker processes.

The app runs as in production (CSRF on, several processes, one database file or server);
each resident has their own browser (cookie jar), identifies on the phone pages, opens
"Please confirm", and then all twenty press "Yes, borrow it" at once. Exactly one gets the
drill; every other gets the clear "just borrowed" refusal (409), and nobody a server error.
Run on SQLite (BEGIN IMMEDIATE, busy timeout) and on PostgreSQL (row locks).
"""
from sqlalchemy import func, select

from kiosk import create_app
from kiosk.extensions import db
from kiosk.models import Loan, Resident, Tool
from tests.conftest import Hall, config_for
from tests.gunicorn import Browser, assert_clean_log, at_once, inputs, serving

RESIDENTS = 20


def _prepare(url: str) -> tuple[str, list[tuple[str, str]]]:
    """The schema, one tool and twenty registered residents; returns (tool code, [(mobile, name)])."""
    app = create_app(config_for(url))
    people = [(f"139{n:08d}", f"居民{n}") for n in range(RESIDENTS)]
    with app.app_context():
        db.create_all()
        hall = Hall()
        code = hall.tool().code
        for mobile, name in people:
            hall.resident(mobile=mobile, name=name)
        db.session.remove()
        db.engine.dispose()
    return code, people


def _outcome(url: str) -> dict:
    app = create_app(config_for(url))
    with app.app_context():
        try:
            loans = db.session.execute(select(Loan.id, Resident.mobile).join(Resident)).all()
            return {"loans": [mobile for _id, mobile in loans],
                    "tool_status": db.session.scalar(select(Tool.status)),
                    "tools": db.session.scalar(select(func.count()).select_from(Tool))}
        finally:
            db.session.remove()
            db.engine.dispose()


def test_twenty_residents_grab_the_same_tool_at_once(db_url, tmp_path):
    code, people = _prepare(db_url)
    log = tmp_path / "gunicorn.log"
    with serving(db_url, log) as base:
        # Each resident identifies on their own phone and opens "Please confirm".
        ready = {}
        for mobile, name in people:
            browser = Browser(base)
            status, page, _ = browser.request(f"/t/{code}/borrow")
            assert status == 200 and 'id="identify-form"' in page
            status, page, _ = browser.request(f"/t/{code}/who", {
                "csrf_token": inputs(page)["csrf_token"], "mobile": mobile, "name": name,
                "building_unit": "", "consent": "y"})
            assert status == 200 and 'class="confirm"' in page, page  # 303 -> the confirm page
            fields = inputs(page)
            form = {"csrf_token": fields["csrf_token"], "token": fields["token"]}
            ready[mobile] = lambda browser=browser, form=form: browser.request(f"/t/{code}/borrow", form)

        # ... and all twenty tap "Yes, borrow it" at the same moment.
        results = at_once(ready)

    assert len(results) == RESIDENTS
    assert not [p for p in results.values() if p.status is None or p.status >= 500], results
    statuses = sorted(page.status for page in results.values())
    assert statuses == [200] + [409] * (RESIDENTS - 1), statuses

    [winner] = [mobile for mobile, page in results.items() if page.status == 200]
    receipt = results[winner].text
    assert 'class="receipt"' in receipt and code in receipt
    for page in results.values():
        if page.status == 409:
            assert 'role="alert"' in page.text and 'data-reason="just_taken"' in page.text, page.text

    outcome = _outcome(db_url)
    assert outcome["loans"] == [winner]
    assert outcome["tool_status"] == "on_loan" and outcome["tools"] == 1

    assert_clean_log(log)
