"""A page's first visit in a real browser: every file the system Chromium loads for it with an
empty cache, each counted gzipped (issue 9: kiosk home within 40 KB in Chinese, 150 KB in Tibetan).

    .venv/bin/python -m bench.first_visit http://127.0.0.1:8000 [/kiosk/]    # both languages

The browser decides what a page costs: which fonts its text really needs (unicode-range, the
families each element asks for), which scripts and stylesheets it asks for. A served file is
counted by its body gzipped at level 6, as bench/run.py counts pages, whatever the server sent:
gunicorn here does not compress, a proxy in front of the hall's server does. A woff2 font is
compressed already and counts about its own size.
"""
import argparse
import gzip
import re
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"  # the system Chromium, as the browser tests use it
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TABLET = {"width": 1280, "height": 800}  # the hall's tablet
DEFAULT_LANG = "zh_Hans"  # what a browser without a choice gets (BABEL_DEFAULT_LOCALE)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class ChromiumMissing(RuntimeError):
    """No browser to measure with: the system Chromium or Playwright is not installed."""


def gzip_size(body: bytes) -> int:
    return len(gzip.compress(body, 6))


def measure(base_url: str, path: str = "/kiosk/", lang: str = DEFAULT_LANG, browser=None) -> dict:
    """{"total_gzip_bytes": n, "files": [(url, gzip bytes), ...]} for one first visit of `path`
    in `lang` (zh_Hans, bo, en), in the order the browser received them.

    `browser`: a Playwright Chromium already running (a test's); without it the system Chromium is
    started for this one visit. Raises ChromiumMissing when there is none to start."""
    if browser is not None:
        return first_visit(browser, base_url, path, lang)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise ChromiumMissing("Playwright is not installed (pip install -e '.[test]')") from error
    if not Path(CHROMIUM).exists():
        raise ChromiumMissing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            return first_visit(browser, base_url, path, lang)
        finally:
            browser.close()


def first_visit(browser, base_url: str, path: str, lang: str) -> dict:
    """The visit itself, in a fresh context (an empty cache) of `browser`, at the tablet's size.

    The language is chosen as the switch does (POST /lang with the form's CSRF token), with the
    context's cookie jar but outside its page, so that nothing is in the cache before the visit."""
    context = browser.new_context(base_url=base_url, viewport=TABLET, has_touch=True)
    try:
        if lang != DEFAULT_LANG:
            choose_language(context, path, lang)
        page = context.new_page()
        responses = []
        page.on("response", lambda response: responses.append(response))
        page.goto(path, wait_until="networkidle")
        page.evaluate("document.fonts.ready.then(() => true)")  # every font the text asked for
        page.wait_for_load_state("networkidle")
        files = [(response.url, gzip_size(_body(response))) for response in responses]
    finally:
        context.close()
    return {"total_gzip_bytes": sum(size for _url, size in files), "files": files}


def choose_language(context, path: str, lang: str) -> None:
    """Tap the switch's `lang` button on `path`, in effect: the context's cookie says `lang`."""
    token = CSRF.search(context.request.get(path).text())
    if token is None:
        raise RuntimeError(f"no language switch on {path}")
    response = context.request.post("/lang", form={"csrf_token": token.group(1), "lang": lang, "next": path})
    if not response.ok:
        raise RuntimeError(f"choosing {lang} on {path}: HTTP {response.status}")


def _body(response) -> bytes:
    """A redirect has no body to count (its headers are not counted either)."""
    return b"" if 300 <= response.status < 400 else response.body()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url", help="a running server, e.g. http://127.0.0.1:8000")
    parser.add_argument("path", nargs="?", default="/kiosk/")
    parser.add_argument("--lang", action="append", help="zh_Hans, bo, en (default: zh_Hans and bo)")
    args = parser.parse_args()
    for lang in args.lang or ["zh_Hans", "bo"]:
        found = measure(args.base_url, args.path, lang)
        print(f"{args.path} in {lang}: {found['total_gzip_bytes'] / 1024:.1f} KB gzipped")
        for url, size in found["files"]:
            print(f"  {size / 1024:7.1f} KB  {url.removeprefix(args.base_url)}")


if __name__ == "__main__":
    main()
