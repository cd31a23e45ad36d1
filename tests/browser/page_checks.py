"""The checks every page must pass, in a real browser: shared by the walk over every page
(test_every_page.py) and by the flow tests, for the screens only a flow reaches (a receipt, the
"Still there?" and "reconnecting" overlays, the camera view, "Touch to start").

- accessibility with axe-core: no serious or critical violation (WCAG 2.x A and AA rules and
  axe's best practices);
- touch on the hall tablet: every control at least 48×48 CSS px, primary actions 64 px tall;
- overflow: no text sticks out of its button, link-button or tile, and the resident's pages never
  scroll sideways;
- Tibetan: lines tall enough for stacked letters, in the hall's own Tibetan font;
- no Content-Security-Policy violation (where RECORD_CSP was added to the browser context).
"""
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import PHONE, TABLET

DESKTOP = {"viewport": {"width": 1440, "height": 900}}
SIZES = {"tablet": TABLET, "phone": PHONE, "desktop": DESKTOP}
# The WCAG A/AA rules and axe's best practices; only serious and critical findings fail the walk.
AXE_OPTIONS = {"resultTypes": ["violations"],
               "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                     "wcag22aa", "best-practice"]}}
FAILING_IMPACTS = ("serious", "critical")
MIN_TOUCH, MIN_PRIMARY = 48, 64


# Measured in the page: controls smaller than a finger, and text that sticks out of its box.
# Inline links inside a sentence are exempt from the target size (WCAG 2.5.8), as are controls the
# user cannot see (hidden inputs inside picture tiles: their label is measured instead).
MEASURE = """([minTouch, minPrimary, kiosk]) => {
  const visible = (el) => {
    const s = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    return s.visibility !== "hidden" && s.display !== "none" && r.width > 0 && r.height > 0
      && parseFloat(s.opacity) > 0.05 && !el.closest("[hidden], [aria-hidden=true], dialog:not([open])");
  };
  const name = (el) => {
    const text = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim().replace(/\\s+/g, " ");
    return `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : ""} "${text.slice(0, 40)}"`;
  };
  const inSentence = (el) => el.tagName === "A" && !el.matches(".button, .big, [class*=card], [class*=tile]")
    && el.parentElement && getComputedStyle(el).display === "inline"
    && /\\S/.test((el.parentElement.innerText || "").replace(el.innerText, ""));
  const problems = [];
  const controls = document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], [tabindex]:not([tabindex='-1'])");
  for (const el of controls) {
    let target = el;
    if (el.matches("input[type=radio], input[type=checkbox]") && el.labels && el.labels[0]) {
      target = el.labels[0];  // a tile or a ticked box: the whole label is the target
    }
    if (!visible(target)) continue;
    const r = target.getBoundingClientRect();
    if (kiosk && !inSentence(el)) {
      if (r.width < minTouch - 0.5 || r.height < minTouch - 0.5) {
        problems.push(`touch: ${name(el)} is ${Math.round(r.width)}×${Math.round(r.height)} px`);
      } else if (el.matches(".primary, button.primary, .button.primary") && r.height < minPrimary - 0.5) {
        problems.push(`primary: ${name(el)} is ${Math.round(r.height)} px tall`);
      }
    }
  }
  const boxes = document.querySelectorAll(
    "button, a.button, a.big, .tile, [class*=card], .lang-switch button, input[type=submit], label.pict-tile, .tabs a, nav a");
  for (const el of boxes) {
    if (!visible(el)) continue;
    if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1) {
      problems.push(`overflow: the text of ${name(el)} sticks out (${el.scrollWidth}×${el.scrollHeight} in ${el.clientWidth}×${el.clientHeight})`);
    }
  }
  return problems;
}"""


def _axe_problems(page, axe) -> list[str]:
    results = axe.run(page, options=AXE_OPTIONS)
    problems = []
    for violation in results.response["violations"]:
        if violation["impact"] not in FAILING_IMPACTS:
            continue
        targets = ", ".join(" ".join(node["target"]) if isinstance(node["target"], list) else str(node["target"])
                            for node in violation["nodes"][:4])
        problems.append(f"axe {violation['impact']} {violation['id']}: {violation['help']} ({targets})")
    return problems


# Tibetan stacks letters above and below the line: its lines need about 1.8 times the font size
# (1.5 at the least, where a label must stay compact), and the hall's own copy of the font.
TIBETAN_LINES = """() => {
  const short = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!/[\u0F00-\u0FFF]/.test(walker.currentNode.data) || seen.has(el) || !el.getClientRects().length) continue;
    seen.add(el);
    const s = getComputedStyle(el);
    const ratio = s.lineHeight === "normal" ? 2 : parseFloat(s.lineHeight) / parseFloat(s.fontSize);
    if (ratio < 1.5) short.push(`${el.tagName.toLowerCase()}.${el.className} "${el.textContent.trim().slice(0, 20)}" (${ratio.toFixed(2)})`);
    if (!s.fontFamily.includes("Noto Serif Tibetan")) short.push(`${el.tagName.toLowerCase()} is not in the hall's Tibetan font`);
  }
  return short.slice(0, 10);
}"""


# The Content-Security-Policy allows no inline script or style: anything it blocks is recorded.
RECORD_CSP = """window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
});"""


def problems_on(page, surface: str, size: str, lang: str = "zh_Hans", axe=None) -> list[str]:
    """Everything wrong with the page as it is now, in words (an empty list: nothing)."""
    # CSP violations are recorded only where RECORD_CSP was added to the context. Read before axe runs: axe's own script is injected by the test, not the page.
    found = [f"CSP: {v}" for v in page.evaluate("window.__cspViolations || []")]
    found += _axe_problems(page, axe or Axe())
    if lang == "bo":
        found += [f"Tibetan line too tight: {problem}" for problem in page.evaluate(TIBETAN_LINES)]
    measured = page.evaluate(MEASURE, [MIN_TOUCH, MIN_PRIMARY, surface == "kiosk" and size == "tablet"])
    found += [m for m in measured if size != "desktop" or not m.startswith("overflow")]
    if surface in ("kiosk", "phone") and size != "desktop":
        width = page.evaluate("document.documentElement.scrollWidth")
        viewport = SIZES[size]["viewport"]["width"]
        if width > viewport:
            found.append(f"the page is {width} px wide in a {viewport} px screen")
    return found


def assert_fit_for_residents(page, surface: str = "kiosk", size: str = "tablet", lang: str = "zh_Hans"):
    problems = problems_on(page, surface, size, lang)
    assert not problems, f"{page.url}:\n" + "\n".join(problems)
