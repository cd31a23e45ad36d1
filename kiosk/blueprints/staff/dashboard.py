"""The back office's home: what needs doing today, the coming week, and four charts.

The numbers come from kiosk.dashboard (and the tool shop's kiosk.lending.overview); this view
only gives them words in the reader's language: the periods' labels (a Babel date skeleton, so
"Nov" reads "11月" in Chinese) and the charts' titles, descriptions and axes.

The figures are worked out at most every FIGURES_SECONDS per worker (see `dashboard`).
"""
from dataclasses import dataclass

from babel.dates import format_skeleton
from flask import redirect, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from werkzeug.routing import BuildError

from ... import charts, lending
from ... import dashboard as numbers
from ...cache import remembered
from ...i18n import current_lang
from ...models.base import utcnow
from ...web import kept_view, render
from . import bp, for_coordinators, for_teachers

# How long a worker keeps the dashboard's figures. They add up a year of the hall (loans, marks,
# wishes, concerns) and list the coming week: the same for every member of staff who opens the
# page that day in that language, and a glance at the hall rather than a ledger. The page says
# when they were worked out ("Figures as of 14:32"), and every figure opens its list, which is
# read live: whoever has just returned a tool sees it there at once.
FIGURES_SECONDS = 30


@dataclass
class Chart:
    """A chart and the same numbers as a table (for screen readers, and anyone who wants them)."""

    id: str
    title: str
    svg: Markup
    headers: list[str]
    rows: list[tuple[str, list[str]]]


def _label(day, skeleton: str) -> str:
    return format_skeleton(skeleton, day, locale=get_locale())


def _chart(chart_id, points, short, long, title, desc, names, x_label, y_label, extra=None) -> Chart:
    """A bar chart of points (numbers.Point), labelled with the skeleton `short` on the axis and
    `long` in the table. extra(point) -> one more table column (a rate)."""
    labels = [_label(p.start, short) for p in points]
    series = [(name, [p.values[k] for p in points]) for k, name in enumerate(names)]
    svg = charts.bar_chart(chart_id=chart_id, title=title, desc=desc, labels=labels, series=series,
                           x_label=x_label, y_label=y_label)
    headers = list(names) + ([extra[0]] if extra else [])
    rows = [(_label(p.start, long), [str(v) for v in p.values] + ([extra[1](p)] if extra else []))
            for p in points]
    return Chart(chart_id, title, svg, headers, rows)


def _span(points, skeleton) -> dict:
    return {"first": _label(points[0].start, skeleton), "last": _label(points[-1].start, skeleton)}


def _rate(point) -> str:
    present, marked = point.values
    return f"{round(100 * present / marked)} %" if marked else "–"


def _charts(today) -> list[Chart]:
    month, month_long, week, week_long = "MMM", "yMMM", "Md", "yMMMd"
    loans = numbers.loans_per_month(today)
    attendance = numbers.attendance_per_week(today)
    wishes = numbers.wishes_per_month(today)
    concerns = numbers.concerns_per_month(today)
    total = lambda points, k=0: sum(p.values[k] for p in points)  # noqa: E731
    return [
        _chart("chart-loans", loans, month, month_long, _("Tool loans per month"),
               _("Tools lent each month, %(first)s to %(last)s: %(n)s loans in all.",
                 n=total(loans), **_span(loans, month_long)),
               [_("Loans")], _("Month"), _("Loans")),
        _chart("chart-attendance", attendance, week, week_long, _("Class attendance per week"),
               _("Children marked present and all attendance marks, for each week from %(first)s to "
                 "%(last)s: %(present)s present of %(marked)s marked.",
                 present=total(attendance), marked=total(attendance, 1), **_span(attendance, week_long)),
               [_("Present"), _("Marked")], _("Week beginning"), _("Children"),
               extra=(_("Attendance rate"), _rate)),
        _chart("chart-wishes", wishes, month, month_long, _("Wishes opened and closed per month"),
               _("Wishes received and wishes closed (fulfilled, declined, merged or turned into a concern) "
                 "each month, %(first)s to %(last)s: %(opened)s received, %(closed)s closed.",
                 opened=total(wishes), closed=total(wishes, 1), **_span(wishes, month_long)),
               [_("Received"), _("Finished")], _("Month"), _("Wishes")),
        _chart("chart-concerns", concerns, month, month_long, _("Concerns opened and closed per month"),
               _("Concerns written down and concerns closed (answered, resident informed, or closed "
                 "unresolved) each month, %(first)s to %(last)s: %(opened)s opened, %(closed)s closed.",
                 opened=total(concerns), closed=total(concerns, 1), **_span(concerns, month_long)),
               [_("Opened"), _("Finished")], _("Month"), _("Concerns")),
    ]


def link(*choices) -> str | None:
    """The first of (endpoint, {values}) that exists, as a URL; None if none does (the activities,
    work log and alliance pages are optional for this page)."""
    for endpoint, values in choices:
        try:
            return url_for(endpoint, **values)
        except BuildError:
            continue
    return None


def _figures(today) -> Markup:
    """The page's figures as HTML: its "figures" block, which holds nothing of who reads it."""
    return Markup(render_block(
        "staff/dashboard.html", "figures", overview=lending.overview(), today=today,
        most_overdue=numbers.most_overdue(today), ages=numbers.concern_ages(today),
        age_buckets=numbers.AGE_BUCKETS, week=numbers.coming_week(today),
        overdue_items=numbers.overdue_items(today), sign_ups_to_call=numbers.sign_ups_to_call(today),
        work_this_month=numbers.work_this_month(today), link=link, charts=_charts(today), updated=utcnow()))


@bp.get("/")
@for_teachers
@for_coordinators
@kept_view
def dashboard():
    """What needs doing today, the coming week and the charts; each figure opens its list.

    A teacher has no dashboard: they land on the day's roster on the tablet; a coordinator
    lands on the wishes.

    The figures are kept as the HTML they make, by day and language (their words and dates are
    in it); the layout around them, with the reader's menu and forms, is drawn for each visit.
    """
    if current_user.is_teacher:
        return redirect(url_for("teach.today"), 303)
    if current_user.is_coordinator:
        return redirect(url_for("staff.wish_list"), 303)
    today = lending.hall_today()
    figures = remembered(("dashboard", today, current_lang()), FIGURES_SECONDS, lambda: _figures(today))
    return render("staff/dashboard.html", figures=figures)
