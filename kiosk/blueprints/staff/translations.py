"""Back office: the Tibetan sentences no native speaker has reviewed yet (staff and admins).

Each row shows the English source, the Chinese and the Tibetan draft; the list searches, pages
and downloads as a CSV that a native speaker fills in. The sentences come from
kiosk.translation_review.

The page only reads. A reviewed sentence comes back through a developer, who edits the .po
file, removes its fuzzy flag, compiles (`make translations`), runs the tests and deploys. The
server never writes its own catalogue: the .po is part of the installed app (read-only, and
replaced by the next deploy, which would silently drop the edits); each gunicorn worker keeps its
own compiled copy, so a change needs a compile and a restart anyway; two staff saving at once
would overwrite each other; and a broken placeholder (%(date)s) would reach the residents' screens
without tests/test_catalogues.py having checked it.
"""
from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import Length, Optional

from ...translation_review import review as tibetan_catalogue
from ...pagination import paginate_list
from ...web import render
from . import STAFF_MENU, bp
from .exports import csv_response

STAFF_MENU.append(("staff.translation_review", _l("Tibetan to review")))

# Longer pages than the other lists (PAGE_SIZE): a reviewer reads down the sentences one after
# another, and each row is short.
PER_PAGE = 50

TO_REVIEW, EVERYTHING = "fuzzy", "all"


class ReviewFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter

    q = StringField(_l("Search the English, Chinese or Tibetan"), validators=[Optional(), Length(max=200)])
    show = SelectField(_l("Show"), choices=[SelectChoice(TO_REVIEW, _l("Not reviewed yet")),
                                            SelectChoice(EVERYTHING, _l("All sentences"))],
                       default=TO_REVIEW, validate_choice=False)


def _filtered():
    form = ReviewFilterForm(request.args)
    form.validate()
    everything = tibetan_catalogue()
    words = (form.q.data or "")[:200]
    sentences = everything.find(words, only_to_review=form.show.data != EVERYTHING)
    return form, everything, sentences


@bp.get("/translations")
def translation_review():
    """The Tibetan sentences still to review: how many are done, then English, 中文 and the draft."""
    form, everything, sentences = _filtered()
    return render("staff/translations.html", block="translation_table", form=form, review=everything,
                  page=paginate_list(sentences, request.args.get("page"), PER_PAGE))


@bp.get("/translations.csv")
def translation_export():
    """The listed sentences for a native speaker: the draft, and empty columns for the verdict."""
    _form, _everything, sentences = _filtered()
    header = [_l("Context"), _l("English"), _l("English (plural)"), _l("Chinese"), _l("Tibetan draft"),
              _l("Draft is right (yes/no)"), _l("Corrected Tibetan"), _l("Reviewer's note")]
    rows = ([s.context or "", s.english, s.english_plural or "", s.chinese, s.tibetan, "", "", ""]
            for s in sentences)
    return csv_response("tibetan-to-review", header, rows)
