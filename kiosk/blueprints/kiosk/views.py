"""The hall tablet's home, its idle reset, and the ping it uses to find the server again."""
from flask import Blueprint, Response, redirect, session, url_for
from flask_babel import force_locale, gettext

from ...i18n import HTML_LANG
from ...web import render_for_everyone

bp = Blueprint("kiosk", __name__)

# "Touch to start" after the idle reset, in the three languages at once: whoever walks up next
# finds their own script, whatever language the last resident left the tablet in.
ATTRACT_LANGUAGES = ("bo", "zh_Hans", "en")


def _touch_to_start() -> list[tuple[str, str]]:
    """[(html lang, "Touch to start" from that language's catalogue)], Tibetan first."""
    words = []
    for lang in ATTRACT_LANGUAGES:
        with force_locale(lang):
            words.append((HTML_LANG[lang], gettext("Touch to start")))
    return words


@bp.get("/")
def home():
    """Four picture tiles, one per flow, and the language switch. Opens on any device.

    The "Touch to start" screen is in the page but hidden: kiosk.js shows it only when the page
    was loaded by the idle reset (nobody at the tablet), never when someone opened it.
    """
    # _touch_to_start() (three force_locale switches) runs only when the page is drawn again.
    return render_for_everyone("kiosk/home.html", touch_to_start=_touch_to_start)


@bp.post("/reset")
def reset():
    """The idle countdown ran out (or "Start over" was tapped): forget everything, go home.

    A full page load follows, so no half-filled form survives in the DOM either.
    """
    session.clear()
    return redirect(url_for("kiosk.home"), 303)


@bp.get("/ping")
def ping():
    """Is the hall server there? Asked by the tablet while it shows "reconnecting", and before the
    idle reset leaves the page. As cheap as an answer can be: no session, no database, no body,
    and nothing in between may keep it (a cached answer would say "yes" while the server is down).
    """
    return Response(status=204, mimetype="text/plain", headers={"Cache-Control": "no-store"})
