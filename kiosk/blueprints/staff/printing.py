"""Back office: what the hall prints. An A4 sheet of tool labels, the shop's poster, class posters.

Both are HTML pages with print CSS (staff.css, @media print): the browser prints them
on A4 without the back-office chrome.
"""
from flask import request
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ...extensions import db
from ...forms import whole_number
from ...i18n import HTML_LANG
from ...models import Course, Tool
from ...qr import course_url, label_url, qr_svg, shop_url, wishes_url
from ...web import render
from . import bp, for_teachers

MAX_LABELS = 210  # ten A4 sheets; more is a mistake in the address, not a print job


@bp.get("/labels")
def labels():
    """Labels for the tools ticked on the tools list (?tool=1&tool=2...): QR, kind in zh and bo, code."""
    ids = sorted({n for i in request.args.getlist("tool") if (n := whole_number(i)) is not None})[:MAX_LABELS]
    tools = list(db.session.scalars(
        select(Tool).options(joinedload(Tool.kind)).where(Tool.id.in_(ids)).order_by(Tool.code))) \
        if ids else []
    return render("staff/labels.html",
                  labels=[(tool, label_url(tool.code), qr_svg(label_url(tool.code))) for tool in tools])


def _in_each_language(words) -> list[dict]:
    """The poster's words in each language, each from its own catalogue: words() is called
    once per language and returns the title, the lead line and the steps."""
    texts = []
    for lang in ("zh_Hans", "bo", "en"):
        with force_locale(lang):
            texts.append({"lang": HTML_LANG[lang], **words()})
    return texts


def _shop_words() -> dict:
    return {"title": gettext("Red Wrench tool shop"),
            "lead": gettext("Borrow tools for free."),
            "steps": [gettext("Scan this code with your phone's camera."),
                      gettext("Choose a tool, then give your name and mobile number."),
                      gettext("Collect the tool at the hall and bring it back on time.")]}


@bp.get("/poster")
def poster():
    """The shop's poster for the hall's door and the building notice boards: one big QR to /tools/."""
    url = shop_url()
    return render("staff/poster.html", url=url, qr=qr_svg(url), texts=_in_each_language(_shop_words),
                  heading=_l("Shop poster"), pict="🔧")


@bp.get("/classes/<int:course_id>/poster")
@for_teachers
def course_poster(course_id):
    """A course's poster: its QR opens /c/<code> on a guardian's phone (a public address, printed
    once), with the steps in the three languages."""
    course = db.get_or_404(Course, course_id)

    def words():
        return {"title": course.title,
                "lead": gettext("A free class for children aged %(min)s to %(max)s.",
                                min=course.age_min, max=course.age_max),
                "steps": [gettext("Scan this code with your phone's camera."),
                          gettext("Give the child's name and age, and your name and mobile number."),
                          gettext("Keep the receipt code: it shows the seat or the place on the "
                                  "waiting list, and lets you cancel.")]}

    url = course_url(course.code)
    return render("staff/poster.html", url=url, qr=qr_svg(url), texts=_in_each_language(words),
                  heading=_l("Class poster"), pict="📚")


def _wishes_words() -> dict:
    return {"title": gettext("Wishes and help requests"),
            "lead": gettext("Ask for a small wish, a home repair or other help, or offer help on the wish wall."),
            "steps": [gettext("Scan this code with your phone's camera."),
                      gettext("Choose what you need by its picture and say it in a few words."),
                      gettext("Keep the receipt code: it shows how your request is going.")]}


@bp.get("/wishes/poster")
def wishes_poster():
    """The wishes poster for the hall and the notice boards: its QR opens /w (a public address)."""
    url = wishes_url()
    return render("staff/poster.html", url=url, qr=qr_svg(url), texts=_in_each_language(_wishes_words),
                  heading=_l("Wishes poster"), pict="🎁")
