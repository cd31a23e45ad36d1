"""A resident's phone at 390x844: scanning a label opens /t/<code>; borrow, then return later."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import due_in_words, free_tool_of, loans_of_tool, path_is

pytestmark = pytest.mark.browser


def test_a_resident_borrows_and_returns_by_phone(serve, phone, shot):
    server = serve()
    code, loan_days = free_tool_of(server, "Electric drill")
    page = phone(server)

    # The QR label's address, as a phone camera opens it (labels are case-insensitive).
    page.goto(f"/t/{code.lower()}")
    path_is(page, f"/t/{code}")
    card = page.locator("#tool-card")
    expect(card.locator(".status-free")).to_be_visible()
    expect(card.locator("h1")).to_contain_text("电钻")  # the page opens in the default language
    shot(page, "tool")

    card.locator("a.button.primary").click()  # borrow
    path_is(page, f"/t/{code}/borrow")
    mobile = page.locator("#mobile")
    expect(mobile).to_have_attribute("inputmode", "numeric")
    expect(mobile).to_have_attribute("autocomplete", "tel")
    expect(page.locator(".keypad")).to_have_count(0)  # the phone's own number pad, not ours
    shot(page, "identify")
    mobile.press_sequentially("138 0013 8000")
    page.locator("#name").fill("王芳")
    page.locator("#consent").check()
    shot(page, "identify-filled")
    page.locator("#identify-form button[type=submit]").click()

    confirm = page.locator("section.confirm")
    expect(confirm).to_contain_text("王芳")
    expect(confirm).to_contain_text("138****8000")
    shot(page, "confirm")
    confirm.locator("form button[type=submit]").click()

    receipt = page.locator("section.receipt")
    expect(receipt).to_contain_text(due_in_words(loan_days, "zh_Hans"))
    expect(receipt).to_contain_text(code)
    expect(receipt.locator("h1")).to_contain_text("电钻")
    shot(page, "receipt")
    [(channel, returned_at, _)] = loans_of_tool(server, code)
    assert channel == "phone" and returned_at is None
    assert "resident" in {c["name"] for c in page.context.cookies()}

    # Days later: the same label, the same phone. It remembers who borrowed the drill.
    page.goto(f"/t/{code}")
    card = page.locator("#tool-card")
    expect(card.locator(".status-out")).to_be_visible()
    return_link = card.locator("a.button.primary")
    expect(return_link).to_have_attribute("href", f"/t/{code}/return")
    shot(page, "tool-on-loan")
    return_link.click()

    path_is(page, f"/t/{code}/return")
    page.locator("input[name=condition][value=fine]").check()
    shot(page, "return")
    page.locator(".return-form button[type=submit]").click()
    expect(page.locator("section.receipt")).to_be_visible()
    expect(page.locator("section.receipt h1")).to_contain_text("电钻")
    shot(page, "returned")
    [(channel, returned_at, condition)] = loans_of_tool(server, code)
    assert returned_at is not None and condition == "fine"

    page.goto(f"/t/{code}")
    expect(page.locator("#tool-card .status-free")).to_be_visible()
    shot(page, "tool-free-again")
