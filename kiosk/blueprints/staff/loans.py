"""Back office: the loans ledger (open, overdue with the number to call, history) and its CSV."""
from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone

from ... import inventory
from ...extensions import db
from ...lending import hall_today
from ...pagination import paginate
from ...web import kept_view, render
from . import bp, words
from .exports import csv_response
from .forms import LedgerFilterForm

TABS = [("open", _l("Out now")), ("overdue", _l("Overdue")), ("history", _l("History"))]


def _ledger_filters():
    form = LedgerFilterForm(request.args)
    return form, inventory.ledger_query(form.tab_name, form.q.data, today=hall_today())


@bp.get("/loans")
@kept_view
def ledger():
    """Who has which tool. Overdue loans show the full mobile number, so staff can call.

    Typing in the search box asks (through htmx) for the table block only.
    """
    form, stmt = _ledger_filters()
    page = paginate(stmt, request.args.get("page"), current_app.config["PAGE_SIZE"])
    return render("staff/ledger.html", block="ledger_table", form=form, tab=form.tab_name,
                  tabs=TABS, page=page, today=hall_today(), days_late=inventory.days_late)


@bp.get("/loans.csv")
def ledger_export():
    """The ledger with its current tab and search, every page, for Excel.

    Like the page, only the overdue list carries full mobile numbers.
    """
    form, stmt = _ledger_filters()
    full_mobile = form.tab_name == "overdue"
    today = hall_today()
    header = [_l("Tool code"), _l("Tool"), _l("Resident"), _l("Mobile number"), _l("Borrowed"),
              _l("Due"), _l("Days late"), _l("Returned"), _l("Condition on return"), _l("Note")]

    def hall_time(moment):  # stored in UTC; staff read the hall's clock
        return to_user_timezone(moment).strftime("%Y-%m-%d %H:%M") if moment else ""

    def rows():
        for loan in db.session.scalars(stmt):
            yield [loan.tool.code, loan.tool.label, loan.resident.name,
                   loan.resident.mobile if full_mobile else loan.resident.masked_mobile,
                   hall_time(loan.borrowed_at), loan.due_on.isoformat(),
                   inventory.days_late(loan, today),
                   hall_time(loan.returned_at),
                   words.RETURN_CONDITIONS.get(loan.return_condition, ""), loan.return_note or ""]

    return csv_response(f"loans-{form.tab_name}", header, rows())
