"""A page in Tibetan: the language switch, the page's lang, Tibetan script in its own font."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import TIBETAN

pytestmark = pytest.mark.browser

DRILL_BO = "གློག་སྦྱིན་འཕྲུལ་འཁོར།"  # kiosk.demo: the electric drill's Tibetan name


def test_the_catalogue_in_tibetan(serve, tablet, shot):
    server = serve()
    page = tablet(server)
    page.goto("/kiosk/tools/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")  # the default
    shot(page, "chinese")

    page.get_by_role("button", name="བོད་ཡིག").click()
    expect(page.locator("html")).to_have_attribute("lang", "bo")
    expect(page.get_by_role("button", name="བོད་ཡིག")).to_have_attribute("aria-current", "true")
    expect(page.locator(".kind-card .kind-name", has_text=DRILL_BO)).to_be_visible()
    assert TIBETAN.search(page.locator("main").inner_text())
    # Tibetan stacks need the taller line (:lang(bo)), and the self-hosted font must be there:
    # a tablet without a Tibetan system font would show empty boxes.
    name = page.locator(".kind-name", has_text=DRILL_BO)
    ratio = name.evaluate("el => parseFloat(getComputedStyle(el).lineHeight) / parseFloat(getComputedStyle(el).fontSize)")
    assert ratio == pytest.approx(1.8, abs=0.05)
    assert page.evaluate("""async () => { await document.fonts.ready;
        return document.fonts.check('16px "Noto Serif Tibetan"', 'ཀ'); }""")
    shot(page, "tibetan")

    # The choice holds on the next page, and on a phone page of the same browser.
    page.locator(".kind-card", has_text=DRILL_BO).click()
    expect(page.locator("main h1")).to_contain_text(DRILL_BO)
    expect(page.locator("html")).to_have_attribute("lang", "bo")
    shot(page, "tibetan-kind")
