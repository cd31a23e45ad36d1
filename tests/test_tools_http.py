"""The resident's tool-shop flows through HTTP, on the tablet (/kiosk) and on a phone (/)."""
import re

from sqlalchemy import func, select

from kiosk.blueprints.tools.views import KINDS_PER_PAGE
from kiosk.extensions import db
from kiosk.models import Loan, Resident, Tool
from kiosk.visitor import KIOSK_KEY, PHONE_COOKIE
from tests.conftest import english_client

ME = {"mobile": "138 0013 8000", "name": "次仁卓玛", "building_unit": "3号楼", "consent": "y"}


def form_token(html: str) -> str:
    return re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)


def borrow(client, prefix, code, who=ME):
    r = client.post(f"{prefix}/t/{code}/who", data=who)
    assert r.status_code == 303, r.get_data(as_text=True)
    confirm = client.get(f"{prefix}/t/{code}/borrow").get_data(as_text=True)
    return client.post(f"{prefix}/t/{code}/borrow", data={"token": form_token(confirm)})


def loans(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Loan))


def test_catalogue_shows_live_counts_and_refreshes_as_a_fragment(client, hall):
    kind = hall.kind(en="Electric drill", zh="电钻")
    for _ in range(3):
        hall.tool(kind)
    page = client.get("/kiosk/tools/").get_data(as_text=True)
    assert "电钻" in page and "3" in page and 'hx-trigger="every 20s"' in page
    fragment = client.get("/kiosk/tools/", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith("<ul") and "<html" not in html
    assert "HX-Request" in fragment.headers["Vary"]


def test_the_catalogue_shows_a_screenful_of_kinds_at_a_time(app, hall):
    client = english_client(app)
    kinds = [hall.kind(en=f"Tool {n}") for n in range(KINDS_PER_PAGE + 1)]
    for kind in kinds:
        hall.tool(kind)

    first = client.get("/kiosk/tools/").get_data(as_text=True)
    assert first.count('class="kind-card') == KINDS_PER_PAGE and "1 of 1 free" in first
    assert f'href="kind/{kinds[0]}"' in first and 'rel="prev"' not in first
    assert 'rel="next" href="/kiosk/tools/?page=2"' in first
    # The cards' relative addresses lead to the kind's page on the surface they were shown on.
    assert client.get(f"/kiosk/tools/kind/{kinds[0]}").status_code == 200

    second = client.get("/kiosk/tools/?page=2", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert second.count('class="kind-card') == 1 and f'href="kind/{kinds[-1]}"' in second
    assert 'hx-get="/kiosk/tools/?page=2"' in second  # the refresh keeps to the page shown
    page = client.get("/tools/?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in page and 'rel="prev" href="/tools/?page=1"' in page and 'rel="next"' not in page


def test_borrow_on_the_tablet_ends_with_a_receipt_and_forgets_the_resident(client, hall):
    tool = hall.tool(hall.kind(days=7))
    r = borrow(client, "/kiosk", tool.code)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "data-home-after" in html and tool.code in html
    with client.session_transaction() as s:
        assert KIOSK_KEY not in s  # the next person at the tablet starts from nothing
    assert PHONE_COOKIE not in {c.key for c in client._cookies.values()}
    assert loans(client.application) == 1
    # The form asks again for the next borrow.
    assert 'name="mobile"' in client.get(f"/kiosk/t/{tool.code}/borrow").get_data(as_text=True)


def test_the_tablet_never_autofills_and_offers_the_keypad(client, hall):
    tool = hall.tool()
    html = client.get(f"/kiosk/t/{tool.code}/borrow").get_data(as_text=True)
    assert 'autocomplete="off"' in html and 'data-keypad="true"' in html and 'inputmode="numeric"' in html
    assert 'data-keypad' not in client.get(f"/t/{tool.code}/borrow").get_data(as_text=True)


def test_a_phone_remembers_its_resident_and_returns_the_tool(client, hall):
    tool = hall.tool()
    assert borrow(client, "", tool.code).status_code == 200
    page = client.get(f"/t/{tool.code}").get_data(as_text=True)
    assert f"/t/{tool.code}/return" in page  # "You have this tool" with a return button
    ret = client.get(f"/t/{tool.code}/return").get_data(as_text=True)
    r = client.post(f"/t/{tool.code}/return", data={"token": form_token(ret), "condition": "fine"})
    assert r.status_code == 200
    with client.application.app_context():
        assert db.session.scalar(select(Tool.status).where(Tool.code == tool.code)) == "available"
    # "Not you?" forgets the resident on this phone.
    client.post("/me/forget")
    assert 'name="mobile"' in client.get(f"/t/{tool.code}/borrow").get_data(as_text=True)


def test_a_double_tap_on_confirm_makes_one_loan(client, hall):
    tool = hall.tool()
    client.post(f"/t/{tool.code}/who", data=ME)
    tok = form_token(client.get(f"/t/{tool.code}/borrow").get_data(as_text=True))
    first = client.post(f"/t/{tool.code}/borrow", data={"token": tok})
    second = client.post(f"/t/{tool.code}/borrow", data={"token": tok})
    assert first.status_code == second.status_code == 200
    assert loans(client.application) == 1


def test_someone_else_gets_a_clear_just_taken_message(app, hall):
    tool = hall.tool()
    a, b = app.test_client(), app.test_client()
    a.post(f"/t/{tool.code}/who", data=ME)
    b.post(f"/t/{tool.code}/who", data={**ME, "mobile": "13900139000", "name": "王芳"})
    tok_a = form_token(a.get(f"/t/{tool.code}/borrow").get_data(as_text=True))
    tok_b = form_token(b.get(f"/t/{tool.code}/borrow").get_data(as_text=True))
    assert a.post(f"/t/{tool.code}/borrow", data={"token": tok_a}).status_code == 200
    r = b.post(f"/t/{tool.code}/borrow", data={"token": tok_b})
    assert r.status_code == 409
    assert 'role="alert"' in r.get_data(as_text=True)
    assert loans(app) == 1


def test_bad_input_is_answered_next_to_the_field_and_nothing_is_lost(client, hall):
    tool = hall.tool()
    r = client.post(f"/kiosk/t/{tool.code}/who", data={**ME, "mobile": "12345"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'id="mobile-error"' in html and 'aria-invalid="true"' in html
    assert 'value="次仁卓玛"' in html  # what was typed is kept
    r = client.post(f"/kiosk/t/{tool.code}/who", data={**ME, "consent": ""})
    assert r.status_code == 422 and 'id="consent-error"' in r.get_data(as_text=True)
    with client.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(Resident)) == 0


def test_a_known_number_with_another_name_is_refused(client, hall):
    tool = hall.tool()
    hall.resident("13800138000", "次仁卓玛")
    r = client.post(f"/t/{tool.code}/who", data={**ME, "name": "别人"})
    assert r.status_code == 422 and 'id="name-error"' in r.get_data(as_text=True)


def test_full_width_digits_and_plus86_identify_the_same_resident(client, hall):
    tool = hall.tool()
    hall.resident("13800138000", "次仁卓玛")
    r = client.post(f"/t/{tool.code}/who", data={**ME, "mobile": "＋86 １３８００１３８０００", "consent": ""})
    assert r.status_code == 303  # known resident, consent already recorded


def test_labels_are_case_insensitive_and_scanners_may_type_the_url(client, hall):
    tool = hall.tool()
    r = client.get("/t/rw-1")
    assert r.status_code == 301 and r.headers["Location"].endswith(f"/t/{tool.code}")
    r = client.get("/kiosk/tools/find", query_string={"code": f"http://hall.test/t/{tool.code.lower()}"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/kiosk/t/{tool.code}")
    r = client.get("/kiosk/tools/find", query_string={"code": "XYZ-404"})
    assert r.status_code == 404 and 'id="code-error"' in r.get_data(as_text=True)
    assert client.get("/t/NOPE-1").status_code == 404


def test_public_pages_never_show_the_borrower(client, hall):
    tool = hall.tool()
    borrow(client, "/kiosk", tool.code)
    stranger = client.application.test_client()
    for url in (f"/t/{tool.code}", f"/kiosk/t/{tool.code}", "/tools/", "/kiosk/tools/kind/1"):
        html = stranger.get(url).get_data(as_text=True)
        assert "次仁卓玛" not in html and "13800138000" not in html and "0013" not in html, url


def test_the_confirm_page_masks_the_mobile(client, hall):
    tool = hall.tool()
    client.post(f"/kiosk/t/{tool.code}/who", data=ME)
    html = client.get(f"/kiosk/t/{tool.code}/borrow").get_data(as_text=True)
    assert "138****8000" in html and "13800138000" not in html


def test_a_phone_cannot_return_someone_elses_tool(app, hall):
    tool = hall.tool()
    owner, other = app.test_client(), app.test_client()
    borrow(owner, "", tool.code)
    other.post(f"/t/{tool.code}/who?for=return", data={**ME, "mobile": "13900139000", "name": "王芳"})
    ret = other.get(f"/t/{tool.code}/return").get_data(as_text=True)
    r = other.post(f"/t/{tool.code}/return", data={"token": form_token(ret), "condition": "fine"})
    assert r.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(Tool.status).where(Tool.code == tool.code)) == "on_loan"


def test_kiosk_reset_clears_the_session(client, hall):
    tool = hall.tool()
    client.post(f"/kiosk/t/{tool.code}/who", data=ME)
    client.post("/lang", data={"lang": "en", "next": "/kiosk/"})
    r = client.post("/kiosk/reset")
    assert r.status_code == 303 and r.headers["Location"].endswith("/kiosk/")
    with client.session_transaction() as s:
        assert dict(s) == {}


def test_language_switch_comes_back_to_the_page_and_refuses_other_sites(client):
    r = client.post("/lang", data={"lang": "en", "next": "/tools/"})
    assert r.headers["Location"].endswith("/tools/")
    r = client.post("/lang", data={"lang": "bo", "next": "//evil.example/x"})
    assert r.headers["Location"] == "/"
    assert 'lang="bo"' in client.get("/").get_data(as_text=True)
