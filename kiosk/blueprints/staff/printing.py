"""Back office: what the shop prints. An A4 sheet of tool labels and the shop's poster.

Both are HTML pages with print CSS (staff.css, @media print): the browser prints them
on A4 without the back-office chrome.
"""
from flask import request
from flask_babel import force_locale, gettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ...extensions import db
from ...i18n import HTML_LANG
from ...models import Tool
from ...qr import label_url, qr_svg, shop_url
from ...web import render
from . import bp

MAX_LABELS = 210  # ten A4 sheets; more is a mistake in the address, not a print job


@bp.get("/labels")
def labels():
    """Labels for the tools ticked on the tools list (?tool=1&tool=2...): QR, kind in zh and bo, code."""
    ids = sorted({int(i) for i in request.args.getlist("tool") if i.isdigit()})[:MAX_LABELS]
    tools = list(db.session.scalars(
        select(Tool).options(joinedload(Tool.kind)).where(Tool.id.in_(ids)).order_by(Tool.code))) \
        if ids else []
    return render("staff/labels.html",
                  labels=[(tool, label_url(tool.code), qr_svg(label_url(tool.code))) for tool in tools])


def _in_each_language() -> list[dict]:
    """The poster's words in each language, each from its own catalogue."""
    texts = []
    for lang in ("zh_Hans", "bo", "en"):
        with force_locale(lang):
            texts.append({
                "lang": HTML_LANG[lang],
                "title": gettext("Red Wrench tool shop"),
                "lead": gettext("Borrow tools for free."),
                "steps": [gettext("Scan this code with your phone's camera."),
                          gettext("Choose a tool, then give your name and mobile number."),
                          gettext("Collect the tool at the hall and bring it back on time.")],
            })
    return texts


@bp.get("/poster")
def poster():
    """The shop's poster for the hall's door and the building notice boards: one big QR to /tools/."""
    url = shop_url()
    return render("staff/poster.html", url=url, qr=qr_svg(url), texts=_in_each_language())
