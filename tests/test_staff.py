"""The staff back office of the tool shop, through the Flask client: kinds, tools, repairs,
donations, the loans ledger, check-in, CSV exports, labels and the poster."""
import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kiosk import inventory, lending
from kiosk.database import write_transaction
from kiosk.extensions import db
from kiosk.models import Loan, Tool, ToolEvent, ToolKind
from kiosk.qr import qr_svg
from tests.conftest import ADMIN_PASSWORD, token


@pytest.fixture
def staff(client, hall):
    """A client logged in as the admin, reading English pages."""
    with client.session_transaction() as session:
        session["lang"] = "en"
    response = client.post("/staff/login", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 303
    return client


def make_overdue(loan_id, days=4):
    with write_transaction() as s:
        loan = s.get(Loan, loan_id)
        loan.due_on = lending.hall_today() - timedelta(days=days)
        loan.borrowed_at = loan.borrowed_at - timedelta(days=days + 7)


def text(response) -> str:
    return response.get_data(as_text=True)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- Access -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/staff/tools", "/staff/kinds", "/staff/loans", "/staff/donations",
                                  "/staff/labels?tool=1", "/staff/poster", "/staff/loans.csv",
                                  "/staff/tools.csv", "/staff/tools/1"])
def test_back_office_pages_need_a_login(client, hall, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


def test_posts_need_a_login_and_change_nothing(client, hall):
    tool = hall.tool()
    response = client.post(f"/staff/tools/{tool.id}/retire", data={})
    assert response.status_code == 302
    assert db.session.get(Tool, tool.id).status == "available"


def test_menu_and_dashboard_link_to_the_lists(staff):
    page = text(staff.get("/staff/"))
    for href in ("/staff/tools", "/staff/kinds", "/staff/loans", "/staff/donations", "/staff/poster",
                 "/staff/loans?tab=overdue", "/staff/loans?tab=open", "/staff/tools?status=in_repair"):
        assert f'href="{href}"' in page, href


# --- Kinds --------------------------------------------------------------------------------------

def test_add_a_kind_and_see_it_listed(staff):
    response = staff.post("/staff/kinds/new", data={
        "name_zh": "梯子", "name_bo": "སྐས་ཀ", "name_en": "Ladder", "pictogram": "🪜", "loan_days": "3"})
    assert response.status_code == 303
    kind = db.session.scalar(select(ToolKind).where(ToolKind.name_en == "Ladder"))
    assert (kind.name_zh, kind.name_bo, kind.pictogram, kind.loan_days) == ("梯子", "སྐས་ཀ", "🪜", 3)
    page = text(staff.get("/staff/kinds"))
    assert "Ladder" in page and "梯子" in page and "3 days" in page


def test_a_new_kind_lends_for_seven_days_by_default(staff):
    form = text(staff.get("/staff/kinds/new"))
    assert re.search(r'name="loan_days"[^>]*value="7"', form)


@pytest.mark.parametrize("days", ["0", "91", "abc", ""])
def test_a_loan_period_outside_1_to_90_days_is_refused(staff, days):
    response = staff.post("/staff/kinds/new", data={
        "name_zh": "梯子", "name_bo": "སྐས་ཀ", "name_en": "Ladder", "pictogram": "🪜", "loan_days": days})
    assert response.status_code == 422
    page = text(response)
    assert "The loan period is between 1 and 90 days." in page or \
        "Please give the loan period in days." in page
    assert 'id="loan_days-error"' in page  # the message sits next to its field
    assert count(ToolKind) == 0


def test_a_pictogram_must_be_a_picture_and_names_are_required(staff):
    response = staff.post("/staff/kinds/new", data={
        "name_zh": "", "name_bo": "སྐས་ཀ", "name_en": "Ladder", "pictogram": "ladder", "loan_days": "3"})
    assert response.status_code == 422
    page = text(response)
    assert "Please use one emoji" in page
    assert "Please write the Chinese name." in page


def test_edit_a_kind(staff, hall):
    kind_id = hall.kind()
    response = staff.post(f"/staff/kinds/{kind_id}", data={
        "name_zh": "冲击钻", "name_bo": "གློག་སྦྱིན།", "name_en": "Hammer drill", "pictogram": "🛠️",
        "loan_days": "14"})
    assert response.status_code == 303
    kind = db.session.get(ToolKind, kind_id)
    db.session.refresh(kind)
    assert (kind.name_en, kind.loan_days) == ("Hammer drill", 14)


def test_the_domain_refuses_a_bad_loan_period_too(hall):
    from kiosk.refusal import Refusal

    with pytest.raises(Refusal) as info:
        inventory.add_kind("梯子", "སྐས་ཀ", "Ladder", "🪜", 120)
    assert info.value.field == "loan_days"


# --- Tools --------------------------------------------------------------------------------------

def test_add_a_tool_and_see_it_listed(staff, hall):
    kind_id = hall.kind()
    response = staff.post("/staff/tools/new", data={
        "kind_id": str(kind_id), "condition": "fair", "donated_by": "Mrs Dolma",
        "acquired_on": "2024-05-01", "note": "with case"})
    assert response.status_code == 303
    tool = db.session.scalar(select(Tool))
    assert (tool.code, tool.condition, tool.donated_by, str(tool.acquired_on), tool.note) == \
        ("RW-0001", "fair", "Mrs Dolma", "2024-05-01", "with case")
    assert response.headers["Location"].endswith(f"/staff/tools/{tool.id}")
    page = text(staff.get(response.headers["Location"]))
    assert "was added with the code RW-0001" in page  # the flash message
    assert "RW-0001" in text(staff.get("/staff/tools"))
    # Who added it is on record.
    event = db.session.scalar(select(ToolEvent).where(ToolEvent.tool_id == tool.id))
    assert (event.kind, event.staff_id) == ("added", hall.admin_id)


def test_a_tool_acquired_in_the_future_is_refused(staff, hall):
    kind_id = hall.kind()
    tomorrow = (lending.hall_today() + timedelta(days=1)).isoformat()
    response = staff.post("/staff/tools/new", data={
        "kind_id": str(kind_id), "condition": "good", "acquired_on": tomorrow})
    assert response.status_code == 422
    assert "This date is in the future." in text(response)
    response = staff.post("/staff/tools/new", data={
        "kind_id": str(kind_id), "condition": "good", "acquired_on": "yesterday"})
    assert response.status_code == 422
    assert "Please give a date like" in text(response)
    assert count(Tool) == 0


def test_edit_a_tool_records_who_changed_what(staff, hall):
    tool = hall.tool()
    response = staff.post(f"/staff/tools/{tool.id}", data={
        "edit-condition": "worn", "edit-donated_by": "Mr Tashi", "edit-note": "chuck is stiff"})
    assert response.status_code == 303
    tool = db.session.get(Tool, tool.id)
    db.session.refresh(tool)
    assert (tool.condition, tool.donated_by, tool.note) == ("worn", "Mr Tashi", "chuck is stiff")
    page = text(staff.get(f"/staff/tools/{tool.id}"))
    assert "Details changed" in page and "condition: good → worn" in page and "Admin" in page


def test_a_too_long_note_is_refused_next_to_the_field(staff, hall):
    tool = hall.tool()
    response = staff.post(f"/staff/tools/{tool.id}", data={"edit-condition": "good", "edit-note": "x" * 201})
    assert response.status_code == 422
    assert 'id="edit-note-error"' in text(response)


def test_repair_repaired_and_retire_change_the_status(staff, hall):
    tool = hall.tool()

    def status():
        db.session.expire_all()
        return db.session.get(Tool, tool.id).status

    assert staff.post(f"/staff/tools/{tool.id}/repair", data={"repair-note": "loose cable"}).status_code == 303
    assert status() == "in_repair"
    assert staff.post(f"/staff/tools/{tool.id}/repaired", data={}).status_code == 303
    assert status() == "available"
    assert staff.post(f"/staff/tools/{tool.id}/retire", data={"retire-note": "motor burnt"}).status_code == 303
    assert status() == "retired"
    page = text(staff.get(f"/staff/tools/{tool.id}"))
    for words in ("Sent to repair", "loose cable", "Repaired", "Retired", "motor burnt"):
        assert words in page


def test_a_refused_action_is_a_message_not_an_error_page(staff, hall):
    tool = hall.tool()
    lending.borrow(tool.id, hall.resident(), token(), channel="kiosk")
    response = staff.post(f"/staff/tools/{tool.id}/retire", data={})
    assert response.status_code == 409
    assert "This tool is out on loan. Check it in first." in text(response)
    assert db.session.get(Tool, tool.id).status == "on_loan"
    other = hall.tool()
    response = staff.post(f"/staff/tools/{other.id}/repaired", data={})
    assert response.status_code == 409
    assert "This tool is not in repair." in text(response)


def test_tools_list_filters_by_status_and_kind_and_searches_by_code(staff, hall):
    drill, saw = hall.kind(), hall.kind(en="Saw", zh="锯子", bo="སོག་ལེ།")
    t1, t2, t3 = hall.tool(drill), hall.tool(drill), hall.tool(saw)
    lending.send_to_repair(t2.id, hall.admin_id)
    codes = lambda r: set(re.findall(r">(RW-\d{4})</a>", text(r)))  # noqa: E731
    assert codes(staff.get("/staff/tools")) == {"RW-0001", "RW-0002", "RW-0003"}
    assert codes(staff.get("/staff/tools?status=in_repair")) == {"RW-0002"}
    assert codes(staff.get(f"/staff/tools?kind={saw}")) == {"RW-0003"}
    assert codes(staff.get("/staff/tools?q=rw-3")) == {"RW-0003"}
    assert codes(staff.get("/staff/tools?q=0002")) == {"RW-0002"}


def test_tools_search_by_htmx_returns_only_the_table(staff, hall):
    hall.tool()
    response = staff.get("/staff/tools?q=RW-0001", headers={"HX-Request": "true"})
    page = text(response)
    assert page.lstrip().startswith('<div id="tool-table">')
    assert "<html" not in page and "RW-0001" in page
    assert "HX-Request" in response.headers["Vary"]


def test_lists_are_paginated(staff, hall, app):
    app.config["PAGE_SIZE"] = 2
    kind = hall.kind()
    for _ in range(5):
        hall.tool(kind)
    page1 = text(staff.get("/staff/tools"))
    assert "RW-0001" in page1 and "RW-0003" not in page1 and "Page 1 of 3" in page1
    assert 'href="/staff/tools?page=2"' in page1
    page3 = text(staff.get("/staff/tools?page=3"))
    assert "RW-0005" in page3 and "RW-0001" not in page3
    # Filters survive in the pager's links; nonsense page numbers fall back.
    assert "status=available" in text(staff.get("/staff/tools?status=available&page=2"))
    assert staff.get("/staff/tools?page=abc").status_code == 200


def test_unknown_tool_is_a_404(staff):
    assert staff.get("/staff/tools/999").status_code == 404


# --- Donations ----------------------------------------------------------------------------------

def test_donations_list_donated_tools_with_donor_and_date(staff, hall):
    from datetime import date

    kind = hall.kind()
    hall.tool(kind, donated_by="Mrs Dolma", acquired_on=date(2024, 3, 8))
    hall.tool(kind)
    page = text(staff.get("/staff/donations"))
    assert "Mrs Dolma" in page and "RW-0001" in page and "2024" in page
    assert "RW-0002" not in page


# --- The loans ledger ---------------------------------------------------------------------------

@pytest.fixture
def loans(hall):
    """Three tools: RW-0001 overdue with 次仁, RW-0002 out with 卓玛, RW-0003 returned by 次仁."""
    kind = hall.kind()
    t1, t2, t3 = hall.tool(kind), hall.tool(kind), hall.tool(kind)
    tsering = hall.resident("13800138000", "次仁")
    dolma = hall.resident("13912345678", "卓玛")
    lending.borrow(t3.id, tsering, token(), channel="phone")
    lending.return_tool(t3.id, token(), "fine", None, channel="phone")
    late = lending.borrow(t1.id, tsering, token(), channel="kiosk")
    make_overdue(late.id, days=4)
    lending.borrow(t2.id, dolma, token(), channel="phone")
    return {"t1": t1.id, "t2": t2.id, "t3": t3.id}


def codes_in(response) -> list[str]:
    return re.findall(r'class="code"[^>]*>(RW-\d{4})<', text(response))


def test_ledger_open_tab_lists_loans_out_now_with_masked_numbers(staff, loans):
    response = staff.get("/staff/loans")
    assert sorted(codes_in(response)) == ["RW-0001", "RW-0002"]
    page = text(response)
    assert "139****5678" in page and "13912345678" not in page


def test_ledger_overdue_tab_shows_the_full_number_to_call_and_days_late(staff, loans):
    response = staff.get("/staff/loans?tab=overdue")
    assert codes_in(response) == ["RW-0001"]
    page = text(response)
    assert '<a href="tel:13800138000">13800138000</a>' in page
    assert "4 days" in page
    assert "13912345678" not in page


def test_ledger_history_tab_lists_every_loan(staff, loans):
    response = staff.get("/staff/loans?tab=history")
    assert sorted(codes_in(response)) == ["RW-0001", "RW-0002", "RW-0003"]
    assert "Fine" in text(response)


@pytest.mark.parametrize("q, expected", [
    ("卓玛", ["RW-0002"]), ("5678", ["RW-0002"]), ("139 1234", ["RW-0002"]),
    ("rw-3", ["RW-0003"]), ("次仁", ["RW-0001", "RW-0003"]), ("nobody", []),
])
def test_ledger_search_by_name_mobile_or_code(staff, loans, q, expected):
    response = staff.get("/staff/loans", query_string={"tab": "history", "q": q})
    assert sorted(codes_in(response)) == expected


def test_ledger_search_by_htmx_returns_the_table_block(staff, loans):
    response = staff.get("/staff/loans?tab=overdue&q=次仁", headers={"HX-Request": "true"})
    page = text(response)
    assert page.lstrip().startswith('<div id="ledger-table">')
    assert "<html" not in page and "tel:13800138000" in page


def test_ledger_page_wires_the_live_search(staff, loans):
    page = text(staff.get("/staff/loans"))
    assert 'hx-trigger="input changed delay:300ms, search"' in page
    assert 'hx-target="#ledger-table"' in page and 'hx-push-url="true"' in page
    assert '<form method="get" action="/staff/loans"' in page  # works without JS


# --- Check-in -----------------------------------------------------------------------------------

def test_staff_check_in_returns_the_tool_once_even_when_double_clicked(staff, hall, loans):
    form = text(staff.get(f"/staff/tools/{loans['t1']}/check-in"))
    tok = re.search(r'name="token" type="hidden" value="([^"]+)"', form).group(1)
    data = {"token": tok, "condition": "fine", "note": ""}
    first = staff.post(f"/staff/tools/{loans['t1']}/check-in", data=data)
    second = staff.post(f"/staff/tools/{loans['t1']}/check-in", data=data)
    assert first.status_code == second.status_code == 303
    returned = db.session.scalars(select(Loan).where(Loan.tool_id == loans["t1"])).all()
    assert len(returned) == 1
    assert returned[0].returned_at is not None
    assert (returned[0].channel, returned[0].returned_by_staff_id) == ("kiosk", hall.admin_id)
    assert db.session.get(Tool, loans["t1"]).status == "available"
    assert "checked in and back on the shelf" in text(staff.get(first.headers["Location"]))


def test_check_in_needing_repair_sends_the_tool_to_repair(staff, loans):
    response = staff.post(f"/staff/tools/{loans['t2']}/check-in",
                          data={"token": token(), "condition": "needs_repair", "note": "bent"})
    assert response.status_code == 303
    assert db.session.get(Tool, loans["t2"]).status == "in_repair"
    page = text(staff.get(f"/staff/tools/{loans['t2']}"))
    assert "Returned needing repair" in page and "bent" in page


def test_check_in_without_a_condition_says_so(staff, loans):
    response = staff.post(f"/staff/tools/{loans['t2']}/check-in", data={"token": token()})
    assert response.status_code == 422
    assert "Please say whether the tool is fine or needs repair." in text(response)


def test_check_in_of_a_tool_on_the_shelf_is_refused_kindly(staff, loans):
    response = staff.post(f"/staff/tools/{loans['t3']}/check-in",
                          data={"token": token(), "condition": "fine"})
    assert response.status_code == 409
    assert "nothing to return" in text(response)


def test_tool_page_of_a_lent_tool_offers_check_in(staff, loans):
    page = text(staff.get(f"/staff/tools/{loans['t1']}"))
    assert f'action="/staff/tools/{loans["t1"]}/check-in"' in page
    assert "tel:13800138000" in page and "4 days late" in page


# --- CSV ----------------------------------------------------------------------------------------

def read_csv(response):
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_ledger_csv_follows_the_current_tab_and_search(staff, loans):
    response = staff.get("/staff/loans.csv?tab=overdue")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][:4] == ["Tool code", "Tool", "Resident", "Mobile number"]
    assert [(r[0], r[2], r[3], r[6]) for r in rows[1:]] == [("RW-0001", "次仁", "13800138000", "4")]
    history = read_csv(staff.get("/staff/loans.csv?tab=history&q=次仁"))
    assert sorted(r[0] for r in history[1:]) == ["RW-0001", "RW-0003"]
    assert all(r[3] == "138****8000" for r in history[1:])  # full numbers only on the call list


def test_tools_csv_follows_the_filters(staff, hall):
    kind = hall.kind()
    hall.tool(kind, donated_by="=HYPERLINK(\"http://evil\")")
    t2 = hall.tool(kind)
    lending.send_to_repair(t2.id, hall.admin_id)
    rows = read_csv(staff.get("/staff/tools.csv"))
    assert rows[0][0] == "Code" and len(rows) == 3
    assert rows[1][5].startswith("'=")  # a formula typed in a name stays text in Excel
    rows = read_csv(staff.get("/staff/tools.csv?status=in_repair"))
    assert [r[0] for r in rows[1:]] == ["RW-0002"]


# --- Labels and poster --------------------------------------------------------------------------

def test_label_sheet_has_a_qr_and_the_label_url_of_each_chosen_tool(staff, hall):
    kind = hall.kind(zh="电钻", bo="གློག་སྦྱིན།")
    t1, t2, t3 = hall.tool(kind), hall.tool(kind), hall.tool(kind)
    response = staff.get(f"/staff/labels?tool={t1.id}&tool={t3.id}")
    assert response.status_code == 200
    page = text(response)
    assert page.count('<svg class="qr"') == 2
    assert "http://hall.test/t/RW-0001" in page and "http://hall.test/t/RW-0003" in page
    assert "RW-0002" not in page
    assert "电钻" in page and "གློག་སྦྱིན།" in page
    assert str(qr_svg("http://hall.test/t/RW-0001")) in page
    assert "style=" not in page  # the CSP allows no inline styles


def test_tools_list_lets_staff_choose_tools_for_labels(staff, hall):
    tool = hall.tool()
    page = text(staff.get("/staff/tools"))
    assert '<form id="labels-form" method="get" action="/staff/labels"' in page
    assert f'name="tool" value="{tool.id}" form="labels-form"' in page


def test_label_sheet_without_tools_explains_what_to_do(staff):
    page = text(staff.get("/staff/labels"))
    assert "No tools chosen" in page and "<svg" not in page


def test_qr_svg_uses_no_inline_style_and_is_cached():
    svg = qr_svg("http://hall.test/t/RW-0042")
    assert svg.startswith("<svg") and "<path" in svg
    assert "style=" not in svg and 'id="' not in svg
    assert qr_svg("http://hall.test/t/RW-0042") is svg


def test_poster_shows_the_shop_qr_and_a_title_in_three_languages(staff):
    page = text(staff.get("/staff/poster"))
    assert str(qr_svg("http://hall.test/tools/")) in page
    assert "http://hall.test/tools/" in page
    assert 'lang="zh-Hans"' in page and 'lang="bo"' in page and 'lang="en"' in page
    assert "Red Wrench tool shop" in page
    assert "style=" not in page


@pytest.mark.parametrize("path, url, title_zh", [
    ("/staff/wishes/poster", "http://hall.test/w", "微心愿"),
    ("/staff/classes/{course}/poster", "http://hall.test/c/ENGLISH", "周六英语课堂"),
])
def test_the_wishes_and_class_posters_carry_their_public_address(staff, hall, path, url, title_zh):
    """What a poster's QR opens is a public contract: <base>/w, <base>/c/<course code>."""
    from datetime import timedelta

    from kiosk import classes
    from kiosk.lending import hall_today

    today = hall_today()
    course = classes.save_course(classes.CourseFields(
        "english", "周六英语课堂", "དབྱིན་ཡིག", "Saturday English class", "", "", "", None, 6, 13, 20,
        today, today + timedelta(days=90)))
    page = text(staff.get(path.format(course=course.id)))
    assert str(qr_svg(url)) in page and url in page
    assert 'lang="zh-Hans"' in page and 'lang="bo"' in page and title_zh in page


def test_print_css_sets_a4_pages():
    from pathlib import Path

    css = (Path(__file__).parent.parent / "kiosk/static/css/staff.css").read_text()
    assert "@page { size: A4; margin: 10mm; }" in css
    assert ".staff-bar" in css.split("@media print", 1)[1]


def test_back_office_pages_keep_to_the_content_security_policy(staff, hall, loans):
    """No inline style or script anywhere: the CSP (style-src/script-src 'self') would block it."""
    pages = ["/staff/", "/staff/tools", "/staff/kinds", "/staff/kinds/new", "/staff/tools/new",
             f"/staff/tools/{loans['t1']}", f"/staff/tools/{loans['t3']}",
             f"/staff/tools/{loans['t1']}/check-in", "/staff/loans?tab=overdue",
             "/staff/loans?tab=history", "/staff/donations", f"/staff/labels?tool={loans['t1']}",
             "/staff/poster"]
    for path in pages:
        response = staff.get(path)
        assert response.status_code == 200, path
        page = text(response)
        assert "style=" not in page, path
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), path
        assert "<style" not in page, path
