"""Back office: the half-year report (kiosk.report) on screen, printed on A4, as Excel and CSV.

The range comes from ?start=&end= (hall dates, both included; by default the current half year).
A date that is not a date, or a start after the end, is shown next to its field and no figures
are computed. Each figure links to the rows it is measured on; the Excel workbook has a summary
sheet and one sheet per area with those rows; the CSVs hold the summary or one figure's rows.
The page's figures are kept a while (kiosk.report.kept_seconds) and say as of when; the rows
pages and the exports are worked out for each request.
"""
import io
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from flask import Response, abort, current_app, request, url_for
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from sqlalchemy import func, select
from wtforms import StringField
from wtforms.widgets import DateInput

from ... import report as reporting
from ...cache import remembered
from ...extensions import db
from ...forms import hall_date_message, refusal_to_field, sensible_year
from ...i18n import current_lang
from ...lending import hall_today
from ...models.base import utcnow
from ...pagination import Page, page_within
from ...refusal import Refusal
from ...web import kept_view, render
from . import STAFF_MENU, bp, class_words, tea_words, wish_words, words
from .exports import csv_response, inert

if TYPE_CHECKING:
    from openpyxl import Workbook

STAFF_MENU.append(("staff.report", _l("Half-year report")))

# The lists of words that stored keys are shown with (reporting.Col.words names one).
WORDS = {
    "wish_category": wish_words.CATEGORIES, "wish_kind": wish_words.KINDS, "wish_status": wish_words.STATUSES,
    "concern_category": wish_words.CONCERN_CATEGORIES, "concern_source": tea_words.SOURCES,
    "concern_status": tea_words.STATUSES, "registration_status": class_words.STATUSES,
    "mark": class_words.MARKS, "channel": words.CHANNELS,
    "match_kind": {"wish": _l("A wish"), "activity": _l("An activity"), "agenda_item": _l("An agenda item")},
    "sign_up_status": {"confirmed": _l("Has a seat"), "waiting": _l("Waiting list"), "cancelled": _l("Cancelled")},
    "organiser": {"staff": _l("The hall's staff"), "team": _l("A volunteer team"), "partner": _l("A partner unit")},
    "agenda_source": {"concern": _l("Concerns ledger"), "partner": _l("A partner unit's suggestion"),
                      "staff": _l("The hall's staff")},
    "agenda_status": {"proposed": _l("Proposed"), "resolved": _l("Resolved"), "in_progress": _l("In progress"),
                      "done": _l("Done"), "dropped": _l("Dropped")},
    "work_kind": {"home_visit": _l("Home visit"), "care_call": _l("Care call"), "safety_check": _l("Safety check"),
                  "awareness_talk": _l("Awareness talk"), "clean_up": _l("Clean-up"), "other": _l("Other work")},
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ReportForm(FlaskForm):
    """The range: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    start = StringField(_l("First day"), widget=DateInput())
    end = StringField(_l("Last day"), widget=DateInput())


def _period() -> tuple[ReportForm, reporting.Period | None]:
    """The form and the period it asks for; None (with the errors next to the fields) if it can't be."""
    form = ReportForm(request.args)
    defaults = reporting.half_year(hall_today())
    days = {}
    for field, default in zip((form.start, form.end), defaults):
        raw = (field.data or "").strip()
        try:
            days[field.name] = date.fromisoformat(raw) if raw else default
        except ValueError:
            field.errors = [_("Please give a date like 2025-03-01.")]
            continue
        if not sensible_year(days[field.name]):
            field.errors = [str(hall_date_message())]
            del days[field.name]
            continue
        field.data = days[field.name].isoformat()
    if len(days) < 2:
        return form, None
    try:
        return form, reporting.period(days["start"], days["end"])
    except Refusal as refusal:
        refusal_to_field(form, refusal)
        return form, None


def _range_args(p: reporting.Period) -> dict:
    return {"start": p.start.isoformat(), "end": p.end.isoformat()}


def shown(figure: reporting.Figure, value) -> str:
    """A figure's value as the page shows it, in the page's language."""
    if value is None:
        return "–"
    if figure.unit == "percent":
        return format_percent(value, "#,##0.0%")
    if figure.unit in ("hours", "days"):
        return format_decimal(value, "#,##0.0")
    return format_decimal(value)


def _word(col: reporting.Col, value) -> str:
    return str(WORDS[col.words].get(value, value)) if col.words and value is not None else value


def _text(col: reporting.Col, value) -> str:
    """A cell as text (screen and CSV)."""
    value = _word(col, reporting.cell(col, value))
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _bad_range(form, status=422):
    return render("staff/report.html", form=form, p=None, status=status, links=_quick_links())


def _quick_links() -> list[tuple[str, str]]:
    """"This half year" and "last half year"."""
    today = hall_today()
    links = []
    for label, (start, end) in ((_("This half year"), reporting.half_year(today)),
                                (_("Last half year"), reporting.last_half_year(today))):
        links.append((label, url_for(".report", start=start.isoformat(), end=end.isoformat())))
    return links


def _figures(p: reporting.Period) -> Markup:
    """The figures by area as HTML (the page's "figures" block), and as of when."""
    values = reporting.measure(p)
    areas = [(area, [(f, values[f.key]) for f in reporting.figures_of(area.key)]) for area in reporting.AREAS]
    return Markup(render_block("staff/report.html", "figures", areas=[a for a in areas if a[1]], shown=shown,
                               args=_range_args(p), worked_out=utcnow()))


@bp.get("/report")
@kept_view
def report():
    """The figures for the range, by area; each opens its rows."""
    form, p = _period()
    if p is None:
        return _bad_range(form)
    # Kept as the HTML they make, by everything that changes it: the range, the last day held so
    # far, the language, and the figures registered. For how long: reporting.kept_seconds.
    key = ("report", p.start, p.end, p.held_until, current_lang(), tuple(f.key for f in reporting.FIGURES))
    figures = remembered(key, reporting.kept_seconds(p), lambda: _figures(p))
    return render("staff/report.html", form=form, p=p, figures=figures, args=_range_args(p), links=_quick_links())


def _figure_or_404(figure_key: str) -> reporting.Figure:
    figure = reporting.figure(figure_key)
    if figure is None:
        abort(404)
    return figure


def _explain(figure: reporting.Figure) -> str:
    columns = {c.key: c for c in figure.rows.columns}
    if figure.measure == "sum":
        text = _("The figure is the sum of “%(column)s” over these rows", column=columns[figure.column].label)
        return text + (_(", divided by %(n)s.", n=figure.scale) if figure.scale != 1 else ".")
    if figure.measure == "median":
        return _("The figure is the median of “%(column)s” over these rows.", column=columns[figure.column].label)
    if figure.measure == "share":
        return _("The figure is the share of these rows whose “%(column)s” is “%(value)s”.",
                 column=columns[figure.column].label, value=_word(columns[figure.column], figure.only))
    return _("The figure is the number of these rows.")


@bp.get("/report/rows/<figure_key>")
def report_rows(figure_key):
    """The rows behind one figure, a page at a time, with their CSV."""
    figure = _figure_or_404(figure_key)
    form, p = _period()
    if p is None:
        return _bad_range(form)
    stmt = figure.row_stmt(p)
    per_page = current_app.config["PAGE_SIZE"]
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    number = page_within(request.args.get("page"), total, per_page)
    found = db.session.execute(stmt.limit(per_page).offset((number - 1) * per_page)).all()
    items = [[_text(c, r._mapping[c.key]) for c in figure.rows.columns] for r in found]
    value = reporting.measure(p, [figure])[figure.key]
    return render("staff/report_rows.html", figure=figure, value=shown(figure, value), p=p, form=form,
                  page=Page(items=items, number=number, per_page=per_page, total=total),
                  explain=_explain(figure), args=_range_args(p),
                  area=next(a for a in reporting.AREAS if a.key == figure.area))


@bp.get("/report/rows/<figure_key>.csv")
def report_rows_csv(figure_key):
    figure = _figure_or_404(figure_key)
    form, p = _period()
    if p is None:
        return _bad_range(form)
    columns = figure.rows.columns
    rows = ([_text(c, r._mapping[c.key]) for c in columns] for r in db.session.execute(figure.row_stmt(p)))
    return csv_response(f"report-{figure.key}-{p.start}-{p.end}", [c.label for c in columns], rows)


@bp.get("/report.csv")
def report_csv():
    """The summary: one line a figure."""
    form, p = _period()
    if p is None:
        return _bad_range(form)
    values = reporting.measure(p)
    areas = {a.key: a.label for a in reporting.AREAS}
    header = [_l("Part of the report"), _l("Figure"), _l("Value"), _l("First day"), _l("Last day")]
    rows = [[areas[f.area], f.label, _csv_value(f, values[f.key]), p.start.isoformat(), p.end.isoformat()]
            for f in reporting.FIGURES]
    return csv_response(f"report-{p.start}-{p.end}", header, rows)


def _csv_value(figure, value):
    if value is None:
        return ""
    if figure.unit == "percent":
        return f"{value * 100:.1f}%"
    return value


# --- Excel ------------------------------------------------------------------------------------

_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "time": "hh:mm"}
_UNIT_FORMATS = {"percent": "0.0%", "hours": "0.0", "days": "0.0"}


def _sheet_title(label, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = "".join(ch for ch in str(label) if ch not in "[]:*?/\\").strip()[:31] or "Sheet"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" {n}"
        title, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def _width(value) -> int:
    text = value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else str(value if value is not None else "")
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _fit(sheet, widths: dict[int, int]) -> None:
    from openpyxl.utils import get_column_letter  # here, not at the top: see workbook()

    for index, width in widths.items():
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 60)


def _excel_cell(col: reporting.Col, value):
    value = _word(col, reporting.cell(col, value))
    if isinstance(value, str):
        return inert(value)  # openpyxl would store "=HYPERLINK(...)" typed by someone as a formula
    if isinstance(value, float) and col.kind == "number":
        return round(value, 1)
    return value


def workbook(p: reporting.Period) -> "Workbook":
    # openpyxl is imported here, when a workbook is made, and not with this module: it adds
    # ~15 MB to every worker that imports it, and only the rare Excel download needs it.
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    values = reporting.measure(p)
    book = Workbook()
    summary = book.active
    taken: set[str] = set()
    summary.title = _sheet_title(_("Summary"), taken)
    areas = [a for a in reporting.AREAS if reporting.figures_of(a.key)]
    sheets = {a.key: book.create_sheet(_sheet_title(a.sheet or a.label, taken)) for a in areas}

    header = [_("Part of the report"), _("Figure"), _("Value"), _("Rows in sheet"), _("Rows of"), _("Number of rows")]
    summary.append(header)
    widths = {i: _width(h) for i, h in enumerate(header, 1)}
    counted: dict[str, int] = {}
    for area in areas:
        sheet = sheets[area.key]
        rowsets = reporting.rowsets_of(area.key)
        columns: dict[str, reporting.Col] = {}
        for rowset in rowsets:
            for col in rowset.columns:
                columns.setdefault(col.key, col)
        head = [_("Rows of"), *[str(c.label) for c in columns.values()]]
        sheet.append(head)
        sheet_widths = {i: _width(h) for i, h in enumerate(head, 1)}
        for rowset in rowsets:
            n = 0
            for r in db.session.execute(rowset.stmt(p)):
                line = [str(rowset.title)] + [_excel_cell(c, r._mapping[c.key]) if c.key in r._mapping else None
                                              for c in columns.values()]
                sheet.append(line)
                n += 1
                for i, (v, c) in enumerate(zip(line[1:], columns.values()), 2):
                    sheet_widths[i] = max(sheet_widths.get(i, 0), _width(v))
                    if c.kind in _FORMATS and v is not None:
                        sheet.cell(row=sheet.max_row, column=i).number_format = _FORMATS[c.kind]
            counted[rowset.key] = n
            sheet_widths[1] = max(sheet_widths[1], _width(rowset.title))
        for cell in sheet[1]:
            cell.font = bold
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(head))}{max(sheet.max_row, 1)}"
        _fit(sheet, sheet_widths)

        for f in reporting.figures_of(area.key):
            line = [str(area.label), str(f.label), values[f.key], sheet.title, str(f.rows.title), counted[f.rows.key]]
            summary.append(line)
            if f.unit in _UNIT_FORMATS:
                summary.cell(row=summary.max_row, column=3).number_format = _UNIT_FORMATS[f.unit]
            summary.cell(row=summary.max_row, column=4).hyperlink = f"#'{sheet.title}'!A1"
            for i, v in enumerate(line, 1):
                widths[i] = max(widths[i], _width(v))
    for cell in summary[1]:
        cell.font = bold
    summary.freeze_panes = "A2"
    summary.append([])
    summary.append([_("Hall"), str(current_app.jinja_env.globals["hall_name"]())])
    summary.append([_("First day"), p.start])
    summary.append([_("Last day"), p.end])
    summary.append([_("Generated"), hall_today()])
    for row in summary.iter_rows(min_row=summary.max_row - 2, max_row=summary.max_row, min_col=2, max_col=2):
        row[0].number_format = "yyyy-mm-dd"
    _fit(summary, widths)
    return book


@bp.get("/report.xlsx")
def report_xlsx():
    form, p = _period()
    if p is None:
        return _bad_range(form)
    buffer = io.BytesIO()
    workbook(p).save(buffer)
    filename = f"report-{p.start}-{p.end}.xlsx"
    return Response(buffer.getvalue(), mimetype=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})
