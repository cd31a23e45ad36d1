"""Small steps the browser tests share."""
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from playwright.sync_api import expect

from kiosk.models import Tool, ToolKind

TIBETAN = re.compile(r"[\u0F00-\u0FFF]")


def path_is(page, path: str):
    """The address bar shows `path` (htmx boosting changes it with pushState, not a page load)."""
    expect(page).to_have_url(re.compile(rf"^https?://[^/]+{re.escape(path)}(\?.*)?$"))


def choose_language(page, code: str):
    """Tap a language button in the bar; the page comes back in that language."""
    page.locator(f".lang-switch button[value='{code}']").click()
    expect(page.locator(f".lang-switch button[value='{code}']")).to_have_attribute("aria-current", "true")


def due_in_words(days: int, locale: str = "en") -> str:
    """The due date as receipts write it ("Saturday, November 29, 2025"), counted in hall time."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return format_date(today + timedelta(days=days), "full", locale=locale)


def free_tool_of(server, kind_en: str) -> tuple[str, int]:
    """(code, loan days) of a free tool of the kind with this English name."""
    from sqlalchemy import select

    from kiosk.extensions import db

    def find():
        tool = db.session.scalars(select(Tool).join(ToolKind).where(
            ToolKind.name_en == kind_en, Tool.status == "available").order_by(Tool.code)).first()
        return tool.code, tool.kind.loan_days

    return server.query(find)


def loans_of_tool(server, code: str) -> list[tuple[str, str | None, str | None]]:
    """[(channel, returned_at or None, return condition)] of every loan of the tool."""
    from sqlalchemy import select

    from kiosk.extensions import db
    from kiosk.models import Loan

    def rows():
        return [(loan.channel, loan.returned_at, loan.return_condition) for loan in db.session.scalars(
            select(Loan).join(Tool).where(Tool.code == code).order_by(Loan.id))]

    return server.query(rows)


def fits_the_phone(page):
    """Nothing sticks out sideways: no horizontal scrolling at 390 px."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide"


def type_on_keypad(page, digits: str):
    """Type a mobile number on the tablet's on-screen keypad, one key at a time."""
    pad = page.locator("#field-mobile .keypad")
    for key in digits:
        pad.locator(f"button[data-key='{key}']").click()
