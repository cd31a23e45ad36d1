"""Pages kept until the data changes (kiosk.web.kept_view, kiosk.freshness).

A kept page is served again without a query, and never once a change is committed: by this
worker, by another worker (another app on the same database and instance folder), or by a
command. Each visitor still gets their own page where it differs, their own CSRF token and
their own one-use form tokens. Requests here run outside any app context held by the test, as
in a real worker (each request its own `g`).
"""
import re
import uuid

import pytest
from jinja2 import ChoiceLoader, DictLoader
from flask import request
from sqlalchemy import event, update

from kiosk import create_app, freshness, lending, web
from kiosk.database import write_transaction
from kiosk.extensions import db
from kiosk.models import Tool
from kiosk.web import kept_view, new_token, render

from tests.conftest import Hall, config_for, english_client
from tests.test_security import csrf_from, login
from tests.test_tools_http import borrow


class Statements:
    """The statements the app's engine runs while the block runs (BEGIN and PRAGMA aside)."""

    def __init__(self, app):
        with app.app_context():
            self.engine = db.engine
        self.sent = []

    def _seen(self, _conn, _cursor, statement, *_args):
        if not re.match(r"\s*(BEGIN|PRAGMA|COMMIT|ROLLBACK)", statement):
            self.sent.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)


def version_now(app) -> int:
    with app.app_context():  # a context (and `g`) of its own, as a new request has
        return freshness.version()


@pytest.fixture
def shop(app):
    """A tool and a resident; requests are made outside this block."""
    with app.app_context():
        hall = Hall()
        tool = hall.tool(hall.kind())
        return {"code": tool.code, "tool_id": tool.id, "resident": hall.resident("13700137000", "王芳"),
                "admin": hall.admin_id}


def test_a_tool_page_is_served_again_without_a_query_until_a_loan_changes_it(app, shop):
    client = english_client(app)
    first = client.get(f"/t/{shop['code']}")
    assert first.status_code == 200 and "Borrow this tool" in first.get_data(as_text=True)
    with Statements(app) as seen:
        again = client.get(f"/t/{shop['code']}")
    assert seen.sent == [] and again.get_data() == first.get_data()

    with app.app_context():
        lending.borrow(shop["tool_id"], shop["resident"], str(uuid.uuid4()), channel="phone")
    after = client.get(f"/t/{shop['code']}").get_data(as_text=True)
    assert "Someone has borrowed it" in after and "Borrow this tool" not in after


def test_a_change_made_by_another_worker_shows_at_once(app, shop, tmp_path):
    """Two apps on one database and one instance folder are two gunicorn workers: a loan made
    through one shows on the other's kept catalogue on the next request."""
    other = create_app(config_for(app.config["SQLALCHEMY_DATABASE_URI"]))
    reader = english_client(app)
    assert "1 of 1 free" in reader.get("/kiosk/tools/").get_data(as_text=True)
    assert "1 of 1 free" in reader.get("/kiosk/tools/").get_data(as_text=True)  # now kept

    with other.app_context():
        lending.borrow(shop["tool_id"], shop["resident"], str(uuid.uuid4()), channel="kiosk")
        db.engine.dispose()
    assert "0 of 1 free" in reader.get("/kiosk/tools/").get_data(as_text=True)


def test_a_page_drawn_from_before_a_change_is_not_kept_as_if_after_it(app, shop):
    """On SQLite a request reads from the snapshot its first query took. Here that query comes
    before the view, and another worker lends the tool just after it: the page drawn shows the
    tool free, as it was, and the next request must not be served that page."""
    other = create_app(config_for(app.config["SQLALCHEMY_DATABASE_URI"]))
    borrowed = []

    @app.before_request
    def someone_borrows_meanwhile():
        if request.path == f"/t/{shop['code']}" and not borrowed:
            db.session.get(Tool, shop["tool_id"])  # this request's snapshot begins here
            with other.app_context():
                borrowed.append(lending.borrow(shop["tool_id"], shop["resident"], str(uuid.uuid4()), "phone").id)
                db.engine.dispose()

    reader = english_client(app)
    assert "Borrow this tool" in reader.get(f"/t/{shop['code']}").get_data(as_text=True)
    assert borrowed
    assert "Someone has borrowed it" in reader.get(f"/t/{shop['code']}").get_data(as_text=True)


def test_any_committed_write_moves_the_version_and_a_rolled_back_one_never_shows(app, shop):
    reader = english_client(app)
    reader.get(f"/t/{shop['code']}")
    with app.app_context():
        before = version_now(app)
        with pytest.raises(RuntimeError):
            with write_transaction() as s:
                s.get(Tool, shop["tool_id"]).status = "in_repair"
                s.flush()
                raise RuntimeError("the write fails half-way")
        # Only a commit moves the version: the kept page is still right, and still served.
        assert version_now(app) == before
        assert "Borrow this tool" in reader.get(f"/t/{shop['code']}").get_data(as_text=True)
        # A bulk UPDATE outside the ORM's tracking counts as well.
        with write_transaction() as s:
            s.execute(update(Tool).where(Tool.id == shop["tool_id"]).values(status="in_repair"))
        assert version_now(app) > before
    assert "being repaired" in reader.get(f"/t/{shop['code']}").get_data(as_text=True)


def test_each_visitor_sees_their_own_page(app, shop):
    """The borrower's phone says "You have this tool"; anyone else's says someone has it."""
    borrower, stranger = english_client(app), english_client(app)
    for _ in range(2):  # drawn, then served kept
        assert "Borrow this tool" in stranger.get(f"/t/{shop['code']}").get_data(as_text=True)
    assert borrow(borrower, "", shop["code"]).status_code == 200  # the phone now remembers them
    for _ in range(2):  # each still their own, drawn and then kept
        assert "You have this tool" in borrower.get(f"/t/{shop['code']}").get_data(as_text=True)
        page = stranger.get(f"/t/{shop['code']}").get_data(as_text=True)
        assert "Someone has borrowed it" in page and "You have this tool" not in page


def test_the_language_and_htmx_part_are_part_of_what_is_kept(app, shop):
    english = english_client(app)
    chinese = app.test_client()
    for _ in range(2):
        assert "Borrow this tool" in english.get(f"/t/{shop['code']}").get_data(as_text=True)
        assert "Borrow this tool" not in chinese.get(f"/t/{shop['code']}").get_data(as_text=True)
        whole = english.get("/tools/").get_data(as_text=True)
        part = english.get("/tools/", headers={"HX-Request": "true"}).get_data(as_text=True)
        assert "<html" in whole and "<html" not in part


def test_a_message_waiting_is_shown_on_a_fresh_page(app, shop):
    """Staff pages show flashed messages ("Saved."): a kept ledger never swallows one."""
    client = english_client(app)
    assert login(client).status_code == 303
    for _ in range(2):
        assert client.get("/staff/loans").status_code == 200
    with client.session_transaction() as session:
        session["_flashes"] = [("message", "The drill is back on the shelf.")]
    assert "The drill is back on the shelf." in client.get("/staff/loans").get_data(as_text=True)
    assert "The drill is back on the shelf." not in client.get("/staff/loans").get_data(as_text=True)


def test_staff_pages_are_kept_per_account(app, shop):
    """The ledger says who is logged in: each account its own page, even when kept."""
    with app.app_context():
        from kiosk.auth import create_staff

        create_staff("dawa", "a long enough password 7", role="staff", display_name="Dawa Staff")
    admin, dawa = english_client(app), english_client(app)
    login(admin)
    login(dawa, "dawa", "a long enough password 7")
    for _ in range(2):
        assert "Dawa Staff" not in admin.get("/staff/loans").get_data(as_text=True)
        assert "Dawa Staff" in dawa.get("/staff/loans").get_data(as_text=True)


def test_a_page_is_drawn_again_once_it_is_older_than_the_clock_allows(app, shop, cache_clock):
    from kiosk.web import KEPT_SECONDS

    with Statements(app) as seen:
        client = english_client(app)
        client.get(f"/t/{shop['code']}")
        drawn = len(seen.sent)
        client.get(f"/t/{shop['code']}")
        assert len(seen.sent) == drawn  # kept
        cache_clock.advance(KEPT_SECONDS + 1)
        client.get(f"/t/{shop['code']}")
        assert len(seen.sent) > drawn  # drawn again


def test_a_wrong_code_is_never_kept_and_still_counts_towards_the_limit(tmp_path):
    app = create_app(config_for(f"sqlite:///{tmp_path / 'k.sqlite'}", WRONG_CODE_LIMIT="3 per minute"))
    with app.app_context():
        db.create_all()
    client = app.test_client()
    assert [client.get("/t/RW-9999").status_code for _ in range(4)] == [404, 404, 404, 429]


@pytest.fixture
def token_app(tmp_path):
    """An app with CSRF on and one kept page that carries a one-use token, as a form that creates
    something does."""
    app = create_app(config_for(f"sqlite:///{tmp_path / 'k.sqlite'}", WTF_CSRF_ENABLED=True))
    with app.app_context():
        db.create_all()
    app.jinja_env.loader = ChoiceLoader([DictLoader({
        "kept_form.html": '{% extends "phone/layout.html" %}{% block content %}<p>{{ name }}</p>'
                          '<form method="post"><input name="csrf_token" value="{{ csrf_token() }}">'
                          '<input name="token" value="{{ token }}"></form>'
                          '<form method="post"><input name="again" value="{{ token }}"></form>{% endblock %}'}),
        app.jinja_env.loader])

    @app.get("/kept-form")
    @kept_view
    def kept_form():
        # A name someone typed with private-use characters, as a page's mark would look.
        return render("kept_form.html", token=new_token(), name="\ue000csrf\ue000 \ue000token0\ue000")

    @app.get("/sets-a-cookie")
    @kept_view
    def sets_a_cookie():
        response = render("kept_form.html", token="-", name="-")
        response.set_cookie("device", new_token())
        return response

    return app


def test_each_visitor_gets_their_own_csrf_and_one_use_tokens(token_app):
    pages = [token_app.test_client().get("/kept-form").get_data(as_text=True) for _ in range(3)]
    csrf = [csrf_from(page) for page in pages]
    tokens = [re.search(r'name="token" value="([^"]+)"', page).group(1) for page in pages]
    assert len(set(csrf)) == 3 and len(set(tokens)) == 3
    assert all(uuid.UUID(t) for t in tokens) and not any(web._MARK in page for page in pages)
    assert len(token_app.extensions["kiosk_pages"]) == 1  # one page kept, served three times
    # A token the page shows twice is one token in both places, for each visitor.
    assert all(re.search(r'name="again" value="([^"]+)"', page).group(1) == t for page, t in zip(pages, tokens))
    # What someone typed is shown as typed, never taken for a mark.
    assert all("<p>\ue000csrf\ue000 \ue000token0\ue000</p>" in page for page in pages)


def test_a_page_that_sets_a_cookie_is_never_kept(token_app):
    first, second = token_app.test_client(), token_app.test_client()
    cookies = [c.get("/sets-a-cookie").headers.get("Set-Cookie", "") for c in (first, second)]
    assert all("device=" in cookie for cookie in cookies) and cookies[0] != cookies[1]
    assert not token_app.extensions.get("kiosk_pages")


def test_a_savepoint_moves_nothing_until_the_whole_transaction_commits(app, shop):
    with app.app_context():
        before = version_now(app)
        with write_transaction() as s:
            with s.begin_nested():
                s.get(Tool, shop["tool_id"]).note = "Chuck key taped to the handle"
            assert version_now(app) == before  # released, not yet committed: nobody sees it
        assert version_now(app) > before


def test_a_version_that_cannot_be_written_never_fails_the_write(app, shop, caplog):
    """The loan is committed whatever happens to the version file: the error is logged, and this
    worker forgets its kept pages (the others' go on for at most KEPT_SECONDS)."""
    reader = english_client(app)
    reader.get(f"/t/{shop['code']}")
    assert app.extensions["kiosk_pages"]
    path, owner = app.extensions["kiosk_data_version"]
    app.extensions["kiosk_data_version"] = ("/proc/no-such-folder/version", owner)
    with app.app_context():
        loan = lending.borrow(shop["tool_id"], shop["resident"], str(uuid.uuid4()), channel="kiosk")
        assert loan.id
    assert "could not move the data version on" in caplog.text
    assert not app.extensions["kiosk_pages"]
    app.extensions["kiosk_data_version"] = (path, owner)


def test_the_kept_pages_stay_within_their_budget(app, shop, monkeypatch):
    """Every visitor may have a page of their own: the store drops the oldest rather than grow."""
    from kiosk import cache

    page = english_client(app).get(f"/t/{shop['code']}").get_data()
    monkeypatch.setattr(cache, "MAX_PAGE_BYTES", 3 * (len(page) + 1000))
    for n in range(10):
        assert english_client(app).get(f"/t/{shop['code']}?from=poster{n}").status_code == 200
    kept = app.extensions["kiosk_pages"]
    assert 3 <= len(kept) < 10 and kept.size == sum(size for _expiry, (_page, size) in kept.values())
    assert kept.size <= cache.MAX_PAGE_BYTES
    assert any("poster9" in key[1] for key in kept) and not any("poster0" in key[1] for key in kept)


def test_a_loan_shows_at_once_on_both_databases(any_app):
    """On PostgreSQL the version lives in the instance folder, named after the database."""
    with any_app.app_context():
        hall = Hall()
        tool = hall.tool(hall.kind())
        code, tool_id, resident = tool.code, tool.id, hall.resident()
    reader = english_client(any_app)
    for _ in range(2):
        assert "Borrow this tool" in reader.get(f"/t/{code}").get_data(as_text=True)
    with any_app.app_context():
        lending.borrow(tool_id, resident, str(uuid.uuid4()), channel="kiosk")
    assert "Someone has borrowed it" in reader.get(f"/t/{code}").get_data(as_text=True)
