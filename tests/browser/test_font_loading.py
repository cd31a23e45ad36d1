"""Which Tibetan font a page makes the browser fetch (issue 9): a Chinese page only the label font
with the few Tibetan words every page shows, a Tibetan page (or Tibetan text on any page) the text
font; and kiosk home's first visit within 40 KB in Chinese, 150 KB in Tibetan, everything in."""
import pytest
from playwright.sync_api import expect

from bench.first_visit import choose_language, measure
from tests.browser.helpers import path_is
from tests.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.browser

TEXT_FONT = "noto-serif-tibetan-400.woff2"
LABEL_REGULAR, LABEL_BOLD = "noto-serif-tibetan-label-400.woff2", "noto-serif-tibetan-label-700.woff2"
KB = 1024

# The font an element's text is drawn in: the first family of its list and its weight, the
# weights of that family the browser has loaded, and whether it has every font the text asks for.
FONT_OF = """el => {
  const style = getComputedStyle(el);
  const family = style.fontFamily.split(",")[0].trim().replace(/"/g, "");
  const loaded = [...document.fonts].filter(f => f.family.replace(/"/g, "") === family && f.status === "loaded");
  return {family, weight: style.fontWeight, loaded: loaded.map(f => f.weight).sort(),
          complete: document.fonts.check(`${style.fontWeight} 20px "${family}"`, el.textContent.trim())};
}"""


def open_recording_fonts(page, path: str) -> list[str]:
    """Open `path`; the names of the font files the browser fetched for it, in order (the list
    goes on growing with what the page fetches next)."""
    fonts = []
    page.on("request", lambda request: fonts.append(request.url.rsplit("/", 1)[-1])
            if "/static/fonts/" in request.url else None)
    page.goto(path)
    settle(page)
    return fonts


def settle(page):
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready.then(() => true)")


def font_of(element) -> dict:
    return element.evaluate(FONT_OF)


@pytest.mark.parametrize(("size", "path"), [("tablet", "/kiosk/"), ("phone", "/kiosk/"), ("phone", "/t/RW-0002")])
def test_a_chinese_page_fetches_only_the_label_font(serve, request, size, path):
    page = request.getfixturevalue(size)(serve())
    fonts = open_recording_fonts(page, path)
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")

    # The label font's family list goes on to the text font: had it no glyph for a letter of the
    # switch's name, the browser would fetch the text font for that letter.
    assert fonts == [LABEL_REGULAR]
    assert font_of(page.locator(".lang-switch button[lang='bo']")) == {
        "family": "Noto Serif Tibetan Label", "weight": "400", "loaded": ["400"], "complete": True}
    expect(page.locator(".lang-switch button[lang='bo']")).to_have_text("བོད་ཡིག")


@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_touch_to_start_on_a_chinese_page_is_in_the_bold_label_font(serve, request, size):
    page = request.getfixturevalue(size)(serve())
    fonts = open_recording_fonts(page, "/kiosk/")
    # As the idle reset leaves it (kiosk.js): the next load of home shows "Touch to start".
    page.evaluate("sessionStorage.setItem('hall-kiosk-attract', String(Date.now()))")
    page.reload()
    expect(page.locator("#attract")).to_be_visible()
    settle(page)

    assert TEXT_FONT not in fonts
    assert LABEL_BOLD in fonts
    assert font_of(page.locator(".attract-words[lang='bo']")) == {
        "family": "Noto Serif Tibetan Label", "weight": "700", "loaded": ["400", "700"], "complete": True}


@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_a_tibetan_page_fetches_the_text_font_and_no_label_font(serve, request, size):
    page = request.getfixturevalue(size)(serve())
    choose_language(page.context, "/kiosk/", "bo")  # as the switch does, before anything is cached
    fonts = open_recording_fonts(page, "/kiosk/")
    expect(page.locator("html")).to_have_attribute("lang", "bo")

    assert fonts == [TEXT_FONT]
    in_text_font = {"family": "Noto Serif Tibetan", "weight": "400", "loaded": ["400"], "complete": True}
    assert font_of(page.locator(".lead")) == in_text_font
    assert font_of(page.locator(".lang-switch button[lang='bo']")) == in_text_font
    # One face: the title's bold is the browser's own (kiosk/static/css/base.css says why).
    assert font_of(page.locator(".welcome")) == {**in_text_font, "weight": "700"}


def test_tibetan_text_on_a_chinese_page_fetches_the_text_font(serve, tablet):
    """The Chinese back office's list of tool kinds has a Tibetan column: those names are in the
    text font, like any Tibetan a resident or staff member typed."""
    page = tablet(serve())
    fonts = open_recording_fonts(page, "/staff/login")
    page.locator("#username").fill("admin")
    page.locator("#password").fill(ADMIN_PASSWORD)
    page.locator(".login button[type=submit]").click()
    path_is(page, "/staff/")
    settle(page)
    assert TEXT_FONT not in fonts  # no Tibetan on the way in

    page.goto("/staff/kinds")
    settle(page)
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    assert TEXT_FONT in fonts
    assert font_of(page.locator("td[lang='bo']").first) == {
        "family": "Noto Serif Tibetan", "weight": "400", "loaded": ["400"], "complete": True}


def test_kiosk_home_first_visit_fits_its_budget(serve, browser):
    """Sizes, not timings: every file of a first visit, gzipped (bench/first_visit.py)."""
    server = serve()
    for lang, budget in (("zh_Hans", 40 * KB), ("bo", 150 * KB)):
        found = measure(server.url, "/kiosk/", lang, browser=browser)
        listing = "\n".join(f"{size:>8} {url}" for url, size in found["files"])
        assert found["total_gzip_bytes"] <= budget, f"{lang}: {found['total_gzip_bytes']} B > {budget} B\n{listing}"
        fonts = {url.rsplit("/", 1)[-1] for url, _size in found["files"] if "/static/fonts/" in url}
        assert fonts == ({TEXT_FONT} if lang == "bo" else {LABEL_REGULAR}), listing
