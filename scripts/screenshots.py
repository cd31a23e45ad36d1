"""Retake the README's screenshots (docs/screenshots/*.png) and its gallery (docs/gallery/*.png).

One command, on a throwaway demo hall that the script starts and stops itself:

    .venv/bin/python scripts/screenshots.py --serve                 # both sets
    .venv/bin/python scripts/screenshots.py --serve --set gallery   # only docs/gallery/

--serve makes a fresh demo database in a temporary folder, serves it with gunicorn on
127.0.0.1:8123 (--port), takes the pictures and stops the server again. The gallery is taken first,
on the untouched demo hall, so it comes out the same on every run of the same day (the demo's
dates follow today's).

The gallery: for each language (zh_Hans, bo, en), the tablet's home and its borrow screen
(1280×800), a tool's page on a phone (390×844) and the back office's dashboard (1440×900), named
docs/gallery/<surface>-<page>-<lang>.png.

Or serve a demo hall yourself (never your real one: the script logs in, changes the language,
registers a child, sends a wish and plans a tea), for example:

    export KIOSK_DATABASE_URL=sqlite:////tmp/readme.sqlite KIOSK_INSTANCE_PATH=/tmp/readme-instance
    export KIOSK_ADMIN_PASSWORD='screenshots pw 2026' KIOSK_BASE_URL=http://127.0.0.1:8123 FLASK_APP=kiosk
    .venv/bin/flask db upgrade && .venv/bin/flask setup --demo-if-empty
    .venv/bin/gunicorn -b 127.0.0.1:8123 kiosk.wsgi:app &
    .venv/bin/python scripts/screenshots.py --password "$KIOSK_ADMIN_PASSWORD"

Another port (the same in KIOSK_BASE_URL): --base-url http://127.0.0.1:8125. The admin password
must pass the password policy (long enough, not a common one).

For the afternoon tea's tablet screens the script logs in on the tablet, plans a tea for today
(open all day, the fair suggestion invited) when none is open now, enrols that browser as the
hall tablet and logs out again.

It drives the system Chromium (apt-get install chromium) through Playwright. Each picture is the
viewport (not the whole page), saved as an optimised PNG with Pillow; one still larger than
--max-kb (the gallery: --gallery-max-kb) becomes a palette PNG of 256 colours or fewer.
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--font-render-hinting=none"]
# No animation half-way and no blinking caret: the same page makes the same picture.
STILL = {"device_scale_factor": 1, "reduced_motion": "reduce", "locale": "zh-CN",
         "timezone_id": "Asia/Shanghai"}
TABLET = {"viewport": {"width": 1280, "height": 800}, "has_touch": True, **STILL}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, **STILL}
DESKTOP = {"viewport": {"width": 1280, "height": 800}, **STILL}
OFFICE = {"viewport": {"width": 1440, "height": 900}, **STILL}
RESIDENT = {"#mobile": "13800138000", "#name": "王芳"}  # who sends the phone's forms
LANGS = ("zh_Hans", "bo", "en")
HTML_LANG = {"zh_Hans": "zh-Hans", "bo": "bo", "en": "en"}
DEFAULT_PASSWORD = "screenshots pw 2026"  # --serve's throwaway admin (passes the password policy)


def language(page, code):
    """Tap the language switch (each language is a button in its own script); the page reloads."""
    page.locator(f'.lang-switch button[value="{code}"]').first.click()
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[code])
    page.wait_for_load_state("networkidle")


def send_form(page, form, values, ticks):
    """Fill in the form's fields ({selector: value}), tick its boxes and send it."""
    for selector, value in values.items():
        page.fill(selector, value)
    for selector in ticks:
        page.check(selector)
    page.click(f"{form} button[type=submit]")


def log_in(page, base, opts):
    """The back office, in English (the login form is not boosted)."""
    page.goto(f"{base}/staff/login")
    language(page, "en")
    page.fill('input[name="username"]', opts.user)
    page.fill('input[name="password"]', opts.password)
    page.click('form:not(.lang-switch) button[type="submit"]')
    page.wait_for_url(f"{base}/staff/")


def open_a_tea_at_the_table(page, base):
    """Logged-in staff make this browser the hall tablet and, when no tea is open now, plan one
    for today in hall time (open all day) and invite the fair suggestion; then log out."""
    page.goto(f"{base}/staff/devices")
    page.click("form.inline-form button[type=submit]")
    page.goto(f"{base}/kiosk/tea/")
    if not page.locator("section.tea-table").count():
        today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
        page.goto(f"{base}/staff/tea/new")
        # The number first: a focused number input makes Chromium scroll when Save is pressed.
        send_form(page, "form.course-form", {"#target": "12", "#day": today, "#starts_at": "00:00",
                                             "#ends_at": "23:59", "#place": "党群服务中心二楼会议室",
                                             "#theme": "冬季取暖", "#host": "社区书记 央宗"}, [])
        page.click("#invitations form[method=get] button")  # "Suggest residents"
        page.click("#suggest button[type=submit]")  # "Invite the ticked"
        page.wait_for_selector("#invitations tbody tr form")
    page.click("form.logout button")
    page.wait_for_load_state("networkidle")


def optimise(path: Path, max_kb: int) -> None:
    """A smaller PNG without loss; one still above max_kb gets a palette of 256 colours or fewer
    (screens are mostly flat colour and text, which a palette keeps sharp; no dithering noise)."""
    with Image.open(path) as shot:
        picture = shot.convert("RGB")
    picture.save(path, optimize=True)
    for colours in (256, 128, 64):
        if path.stat().st_size <= max_kb * 1024:
            return
        picture.quantize(colours, dither=Image.Dither.NONE).save(path, optimize=True)


# --- The README's pictures, each at its place in the text ------------------------------------

def readme_set(browser, base, opts, shot):
    # The hall tablet, in the default language (Chinese).
    tablet = browser.new_context(**TABLET)
    page = tablet.new_page()
    page.goto(f"{base}/kiosk/")
    shot(page, "kiosk-home")
    # The catalogue in Tibetan, with live counts.
    page.goto(f"{base}/kiosk/tools/")
    language(page, "bo")
    shot(page, "kiosk-catalogue")
    # Borrowing on the tablet asks who you are (mobile + name, number pad).
    language(page, "zh_Hans")
    page.goto(f"{base}/kiosk/t/{opts.tool}/borrow")
    shot(page, "kiosk-identify")
    # The class on the tablet: its next dates and free seats, then the registration form.
    # In English until the class pages' catalogues are translated.
    page.goto(f"{base}/kiosk/c/{opts.course}")
    language(page, "en")
    shot(page, "class-course")
    page.goto(f"{base}/kiosk/c/{opts.course}/register")
    shot(page, "class-register")
    # A wish on the tablet, in Chinese: picture tiles for the category, the number pad.
    language(page, "zh_Hans")
    page.goto(f"{base}/kiosk/w/new?kind=wish")
    shot(page, "wish-form")
    tablet.close()

    # A resident's phone after scanning a tool's label.
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    page.goto(f"{base}/t/{opts.tool}")
    shot(page, "phone-tool")
    # A guardian registers a child from the class poster's QR: the receipt (a seat or a
    # place on the waiting list) on the phone. Registers a child in the hall, hence throwaway.
    page.goto(f"{base}/c/{opts.course}/register")
    language(page, "en")
    page.select_option("#child_age", "9")
    send_form(page, "#register-form", {"#child_name": "王小明", **RESIDENT}, ["#consent", "#guardian_consent"])
    page.wait_for_selector("section.class-receipt")
    shot(page, "class-receipt-phone")
    # The wish wall from the poster's QR: aliases and areas, never a name. Then a wish sent
    # from the phone and its status page (a request in the hall, hence throwaway).
    language(page, "zh_Hans")
    page.goto(f"{base}/w/wall")
    shot(page, "wish-wall-phone")
    page.goto(f"{base}/w/new?kind=wish")
    page.click('#field-category .pict-tile:has(input[value="school"])')
    send_form(page, "#wish-form", {"#description": "孙女上一年级，想要一个书包。", **RESIDENT}, ["#consent"])
    page.wait_for_selector("section.wish-status[data-status=received]")
    shot(page, "wish-status-phone")
    phone.close()

    # The afternoon tea at the table, on the hall tablet, in Chinese: the QR that phones scan
    # (it changes every 30 seconds), then the invited residents' names to tap.
    tablet = browser.new_context(**TABLET)
    page = tablet.new_page()
    log_in(page, base, opts)
    open_a_tea_at_the_table(page, base)
    page.goto(f"{base}/kiosk/tea/")
    language(page, "zh_Hans")
    page.click("a.tea-way-qr")
    page.wait_for_selector("#tea-qr svg")
    shot(page, "tea-qr")
    page.click(".tea-qr-words a.button")
    page.wait_for_selector("ul.tea-names")
    shot(page, "tea-names")
    tablet.close()

    # The staff dashboard and the concerns ledger, in English.
    desk = browser.new_context(**DESKTOP)
    page = desk.new_page()
    log_in(page, base, opts)
    shot(page, "staff-dashboard")
    page.goto(f"{base}/staff/concerns")
    shot(page, "tea-ledger")
    # The half-year report as it prints (A4 is about 794 CSS px wide).
    page.set_viewport_size({"width": 794, "height": 1123})
    page.goto(f"{base}/staff/report")
    page.emulate_media(media="print")
    shot(page, "staff-report")
    desk.close()


# --- The gallery: the three surfaces in the three languages ----------------------------------

def gallery_set(browser, base, opts, shot):
    """Only looks: nothing is sent, so the demo hall is the same before and after."""
    for lang in LANGS:
        # Each language in a fresh browser, as a resident who has just tapped their language.
        tablet = browser.new_context(**TABLET)
        page = tablet.new_page()
        page.goto(f"{base}/kiosk/")
        language(page, lang)
        shot(page, f"tablet-home-{lang}")
        # Borrowing: who are you (mobile number on the number pad, name, consent).
        page.goto(f"{base}/kiosk/t/{opts.tool}/borrow")
        shot(page, f"tablet-borrow-{lang}")
        tablet.close()

        phone = browser.new_context(**PHONE)
        page = phone.new_page()
        page.goto(f"{base}/t/{opts.tool}")
        language(page, lang)
        shot(page, f"phone-tool-{lang}")
        phone.close()

        office = browser.new_context(**OFFICE)
        page = office.new_page()
        log_in(page, base, opts)
        language(page, lang)
        shot(page, f"office-dashboard-{lang}")
        office.close()


# --- A throwaway demo hall ---------------------------------------------------------------------

def compile_translations() -> None:
    """What `make translations` does, for a catalogue whose .mo is missing or older than its .po
    (written to a temporary file and moved into place, so a running server never reads half)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in sorted((ROOT / "kiosk" / "translations").glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with open(po, "rb") as source:
            catalogue = read_po(source, locale=po.parent.parent.name)
        fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalogue, use_fuzzy=True)  # unreviewed Tibetan is shown, as in `make translations`
        os.replace(tmp, mo)
        print(f"compiled {mo.relative_to(ROOT)}")


class DemoHall:
    """A fresh demo database in a temporary folder, served by gunicorn until the script ends."""

    def __init__(self, port: int, password: str):
        self.port, self.password = port, password
        self.base = f"http://127.0.0.1:{port}"
        self.folder = self.server = self.log = None

    def __enter__(self):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                raise SystemExit(f"Port {self.port} is in use: stop that server or choose --port.")
        compile_translations()
        self.folder = Path(tempfile.mkdtemp(prefix="kiosk-screenshots-"))
        try:
            self._start()
        except BaseException:  # not started, or Ctrl-C meanwhile: stop and remove what was started
            self.__exit__(None, None, None)
            raise
        print(f"demo hall at {self.base} (data in {self.folder})")
        return self

    def _start(self):
        bin_ = Path(sys.executable).parent
        env = {**os.environ, "FLASK_APP": "kiosk",
               "KIOSK_DATABASE_URL": f"sqlite:///{self.folder / 'demo.sqlite'}",
               "KIOSK_INSTANCE_PATH": str(self.folder / "instance"),
               "KIOSK_ADMIN_PASSWORD": self.password, "KIOSK_BASE_URL": self.base}
        self.log = open(self.folder / "server.log", "wb")  # noqa: SIM115 - open while the server runs
        for step in (["db", "upgrade"], ["setup", "--demo-if-empty"]):
            if subprocess.run([str(bin_ / "flask"), *step], cwd=ROOT, env=env, stdout=self.log,
                              stderr=self.log).returncode:
                self._fail(f"`flask {' '.join(step)}` failed")
        self.server = subprocess.Popen(
            [str(bin_ / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{self.port}", "kiosk.wsgi:app"],
            cwd=ROOT, env=env, stdout=self.log, stderr=self.log)
        self._wait_until_it_answers()

    def _fail(self, what: str):
        self.log.flush()
        said = (self.folder / "server.log").read_text(errors="replace")[-3000:]
        raise SystemExit(f"The demo hall did not start: {what}. Its log ends:\n{said}")

    def _wait_until_it_answers(self):
        # A worker's first request builds the app, which on a busy machine takes a while.
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{self.base}/kiosk/", timeout=30).close()
                return
            except OSError:  # refused, reset or timed out (urllib.error.URLError is an OSError)
                if self.server.poll() is not None or time.monotonic() > deadline:
                    self._fail("the server did not answer")
                time.sleep(0.2)

    def __exit__(self, *_exc):
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            self.server.wait(timeout=30)
        if self.log is not None:
            self.log.close()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", action="store_true",
                        help="start a throwaway demo hall on --port, take the pictures, stop it")
    parser.add_argument("--port", type=int, default=8123, help="the port --serve uses")
    parser.add_argument("--set", choices=("all", "readme", "gallery"), default="all",
                        help="which pictures: the README's (docs/screenshots), the gallery (docs/gallery), or both")
    parser.add_argument("--base-url", default="http://127.0.0.1:8123")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", help="the staff user's password (with --serve: the demo admin's)")
    parser.add_argument("--tool", default="RW-0002", help="a free tool of the demo hall")
    parser.add_argument("--course", default="ENGLISH", help="the demo hall's class")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--gallery-out", default=str(ROOT / "docs" / "gallery"))
    parser.add_argument("--max-kb", type=int, default=150)
    parser.add_argument("--gallery-max-kb", type=int, default=200)
    opts = parser.parse_args()
    if opts.serve:
        opts.password = opts.password or DEFAULT_PASSWORD
    elif not opts.password:
        parser.error("--password is required (or --serve)")
    if opts.serve:
        with DemoHall(opts.port, opts.password) as hall:
            taken = take(hall.base, opts)
    else:
        taken = take(opts.base_url.rstrip("/"), opts)
    for folder in sorted({path.parent for path in taken}):
        pictures = [path for path in taken if path.parent == folder]
        for path in pictures:
            print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  {path.stat().st_size // 1024} KB")
        total = sum(path.stat().st_size for path in pictures)
        print(f"{folder}: {len(pictures)} pictures, {total / 1024:.0f} KB in all")
    return 0


def take(base: str, opts) -> list[Path]:
    taken = []

    def shooter(folder: Path, max_kb: int):
        folder.mkdir(parents=True, exist_ok=True)

        def shot(page, name):
            page.wait_for_load_state("networkidle")
            page.evaluate("document.fonts.ready.then(() => true)")  # the self-hosted Tibetan font
            path = folder / f"{name}.png"
            page.screenshot(path=str(path), animations="disabled", caret="hide")
            optimise(path, max_kb)
            taken.append(path)
        return shot

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        # The gallery first: it only looks, and sees the demo hall as it was loaded.
        if opts.set in ("all", "gallery"):
            gallery_set(browser, base, opts, shooter(Path(opts.gallery_out), opts.gallery_max_kb))
        if opts.set in ("all", "readme"):
            readme_set(browser, base, opts, shooter(Path(opts.out), opts.max_kb))
        browser.close()
    return taken


if __name__ == "__main__":
    sys.exit(main())
