"""The dashboard in a desktop browser: staff log in on the demo hall and land on it, read what
needs doing, the coming week and the four charts (drawn on the server, numbers in a table too),
follow a figure to its list, and nothing sticks out sideways at 1280 px.
"""
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import Loan
from tests.browser.helpers import path_is
from tests.browser.test_wishes import in_english
from tests.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}


def overdue_loans(server) -> int:
    return server.query(lambda: db.session.scalar(select(func.count()).select_from(Loan).where(
        Loan.returned_at.is_(None), Loan.due_on < hall_today())))


def test_staff_see_the_dashboard_with_its_charts_and_follow_a_figure(serve, new_context, shot):
    server = serve()
    page = new_context(base_url=server.url, viewport=DESKTOP).new_page()
    page.set_default_timeout(10_000)
    csp_errors = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)

    in_english(page, "/staff/login")
    page.locator("#username").fill("admin")
    page.locator("#password").fill(ADMIN_PASSWORD)
    page.locator(".login button[type=submit]").click()
    path_is(page, "/staff/")
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()

    # What needs doing: the demo hall has overdue tools; the figure says how many.
    late = overdue_loans(server)
    assert late >= 1
    overdue_figure = page.locator(".group-tools a.figure", has_text="overdue")
    expect(overdue_figure.locator(".num")).to_have_text(str(late))
    expect(page.locator(".dash-overdue tbody tr")).to_have_count(min(late, 5))
    expect(page.locator(".dash-ages tbody tr")).to_have_count(3)
    expect(page.locator(".week-day")).to_have_count(7)
    expect(page.locator(".week-day.is-today h3")).to_contain_text("Today")

    # Four charts, each an image with a title and a description, drawn with real bars.
    charts = page.locator("svg.chart-svg[role=img]")
    expect(charts).to_have_count(4)
    for i in range(4):
        chart = charts.nth(i)
        assert chart.locator("title").first.text_content()
        assert chart.locator("desc").text_content()
        box = chart.bounding_box()
        assert box["width"] > 400 and box["height"] > 150
        expect(chart.locator("rect.bar")).not_to_have_count(0)
    # The demo's loans appear in this month's bar and, as text, in the chart's table.
    loans = page.locator("#chart-loans")
    loans.locator("summary").click()
    expect(loans.locator("table tbody tr")).to_have_count(12)
    last_row = loans.locator("table tbody tr").last
    assert int(last_row.locator("td").text_content()) >= 1
    shot(page, "dashboard-1440")

    # Nothing sticks out sideways on a 1280 px screen.
    page.set_viewport_size({"width": 1280, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, f"the dashboard is {width} px wide"
    shot(page, "dashboard-1280")
    page.set_viewport_size(DESKTOP)

    # A figure opens its list: the overdue loans.
    overdue_figure.click()
    path_is(page, "/staff/loans")
    assert "tab=overdue" in page.url
    expect(page.locator("table tbody tr")).to_have_count(late)
    shot(page, "overdue-loans")
    assert csp_errors == []
