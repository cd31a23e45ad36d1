"""Retake the README's screenshots (docs/screenshots/*.png) from a running demo hall.

Serve a throwaway demo hall first (never your real one: the script logs in and changes the
language), for example:

    export KIOSK_DATABASE_URL=sqlite:////tmp/readme.sqlite KIOSK_INSTANCE_PATH=/tmp/readme-instance
    export KIOSK_ADMIN_PASSWORD='readme admin pw' KIOSK_BASE_URL=http://127.0.0.1:8123 FLASK_APP=kiosk
    .venv/bin/flask db upgrade && .venv/bin/flask setup --demo-if-empty
    .venv/bin/gunicorn -b 127.0.0.1:8123 'kiosk:create_app()' &
    .venv/bin/python scripts/screenshots.py --password "$KIOSK_ADMIN_PASSWORD"

Another port (the same in KIOSK_BASE_URL): --base-url http://127.0.0.1:8125.

For the afternoon tea's tablet screens the script logs in on the tablet, plans a tea for today
(open all day, the fair suggestion invited) when none is open now, enrols that browser as the
hall tablet and logs out again.

It drives the system Chromium (apt-get install chromium) through Playwright. Pictures larger
than --max-kb are reduced to a 256-colour PNG with ImageMagick's `convert` when it is there.
"""
import argparse
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TABLET = {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1, "has_touch": True}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True,
         "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1}
RESIDENT = {"#mobile": "13800138000", "#name": "王芳"}  # who sends the phone's forms


def language(page, code):
    """Tap the language switch (each language is a button in its own script)."""
    page.locator(f'.lang-switch button[value="{code}"]').first.click()
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


def shrink(path: Path, max_kb: int) -> None:
    if path.stat().st_size <= max_kb * 1024 or not shutil.which("convert"):
        return
    for colours in (256, 128, 64):
        subprocess.run(["convert", str(path), "-strip", "-colors", str(colours), f"PNG8:{path}"], check=True)
        if path.stat().st_size <= max_kb * 1024:
            return


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="http://127.0.0.1:8123")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", required=True, help="the staff user's password")
    parser.add_argument("--tool", default="RW-0002", help="a free tool of the demo hall")
    parser.add_argument("--course", default="ENGLISH", help="the demo hall's class")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "screenshots"))
    parser.add_argument("--max-kb", type=int, default=150)
    opts = parser.parse_args()
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    base = opts.base_url.rstrip("/")
    taken = []

    def shot(page, name):
        page.wait_for_load_state("networkidle")
        path = out / f"{name}.png"
        page.screenshot(path=str(path))
        shrink(path, opts.max_kb)
        taken.append(path)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)

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
        browser.close()

    for path in taken:
        print(f"{path}  {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
