"""The half-year report in the browser, at desktop size: staff open it from the menu, choose a range,
follow a figure to its rows, download the Excel workbook, and print the report on A4.

The demo hall holds loans, teas, concerns, wishes and a class with attendance in the last months.
"""
import re
from datetime import timedelta

import openpyxl
import pytest
from playwright.sync_api import expect

from kiosk import report
from kiosk.lending import hall_today
from tests.browser.helpers import choose_language, path_is
from tests.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}
# A4 is 210 mm wide: 794 px at 96 dpi.
A4 = {"width": 794, "height": 1123}


def log_in(new_context, server):
    context = new_context(base_url=server.url, viewport=DESKTOP, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/staff/login")
    choose_language(page, "en")
    page.locator("#username").fill("admin")
    page.locator("#password").fill(ADMIN_PASSWORD)
    page.locator(".login button[type=submit]").click()
    path_is(page, "/staff/")
    return page


def figures_on(page) -> dict[str, str]:
    return {el.get_attribute("id").removeprefix("figure-"): el.locator(".num").get_attribute("data-value")
            for el in page.locator(".report-figure").all()}


def test_staff_open_the_report_follow_a_figure_download_excel_and_print(serve, new_context, shot, tmp_path):
    server = serve()
    page = log_in(new_context, server)
    page.locator(".staff-nav a", has_text="Half-year report").click()
    path_is(page, "/staff/report")
    start, end = report.half_year(server.query(hall_today))
    expect(page.locator("#start")).to_have_value(start.isoformat())
    expect(page.locator("#end")).to_have_value(end.isoformat())

    # The range: the last five months, up to today.
    today = server.query(hall_today)
    first = today - timedelta(days=150)
    page.locator("#start").fill(first.isoformat())
    page.locator("#end").fill(today.isoformat())
    page.locator(".report-range-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"start={first.isoformat()}&end={today.isoformat()}"))
    expect(page.locator(".report-figure")).to_have_count(len(report.FIGURES))
    # The report's own stylesheet is there also after a boosted (htmx) link: figures side by side.
    assert page.locator(".report-figures").first.evaluate("e => getComputedStyle(e).display") == "grid"
    figures = figures_on(page)
    assert int(figures["tool_loans"]) > 0 and int(figures["tea_held"]) > 0 and int(figures["class_sessions"]) > 0
    shot(page, "report")

    # A figure opens the rows it counts.
    page.locator("#figure-tool_loans").click()
    path_is(page, "/staff/report/rows/tool_loans")
    expect(page.locator(".report-rows tbody tr")).to_have_count(int(figures["tool_loans"]))
    expect(page.locator(".report-rows tbody")).to_contain_text("R-0")
    shot(page, "rows")
    page.go_back()
    path_is(page, "/staff/report")

    # The workbook: a summary with the page's figures, one sheet per area.
    with page.expect_download() as download:
        page.locator("a", has_text="Download Excel workbook").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".xlsx"
    book = openpyxl.load_workbook(saved)
    assert len(book.sheetnames) == 1 + len(report.AREAS)
    summary = book.worksheets[0]
    values = [row[2] for row in summary.iter_rows(min_row=2, max_row=1 + len(report.FIGURES), values_only=True)]
    assert values == [None if figures[f.key] == "" else float(figures[f.key]) for f in report.FIGURES]

    # Printed on A4: the page's width, nothing wider, no menu and no buttons.
    page.set_viewport_size(A4)
    page.emulate_media(media="print")
    expect(page.locator(".staff-bar")).to_be_hidden()
    expect(page.locator(".report-tools")).to_be_hidden()
    expect(page.locator(".report-hall")).to_be_visible()
    expect(page.locator(".report-range")).to_contain_text(str(today.year))
    widest = page.evaluate("""() => Math.max(document.documentElement.scrollWidth,
        ...[...document.querySelectorAll('body *')].map(e => e.getBoundingClientRect().right))""")
    assert widest <= A4["width"], f"the printed report is {widest} px wide"
    shot(page, "print-a4")
    pdf = page.pdf(format="A4")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 2, f"the report prints on {pages} pages"
