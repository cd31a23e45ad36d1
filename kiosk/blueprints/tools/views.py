"""The Red Wrench tool shop for residents: on phones (/t/<code>, /tools) and on the tablet (/kiosk/...).

Views are thin: they read forms, call kiosk.lending and pick what to show. Every rule
lives in kiosk.lending; what residents browse is read by kiosk.inventory's queries.
"""
from flask import Blueprint, abort, redirect, request, url_for
from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from ... import inventory, lending, visitor
from ...devices import is_hall_tablet
from ...forms import IdentifyForm, TokenForm
from ...extensions import db
from ...models import ToolKind
from ...refusal import Refusal
from ...residents import identify_resident_now
from ...web import kept_view, new_token, render, surface
from .forms import FindForm, ReturnForm

bp = Blueprint("tools", __name__)

# Four rows of three cards on the tablet. Pages, not one long list, so that the catalogue (and its
# refresh every few seconds) costs the same however many kinds the shop has.
KINDS_PER_PAGE = 12
# Every card of the catalogue says it: translated once for the list, filled in per card.
FREE_OF = _l("%(free)s of %(total)s free")


def _tool_or_404(code: str):
    tool = lending.find_tool(code)
    if tool is None:
        abort(404)
    return tool


def _canonical(code: str, tool, endpoint: str):
    """Labels are case-insensitive; /t/rw-12 redirects to the one spelling we print."""
    if code != tool.code:
        return redirect(url_for(endpoint, code=tool.code), 301)
    return None


@bp.get("/tools/")
@kept_view
def catalogue():
    """The kinds of tool, a page at a time, with how many are free, and the box a scanner types into."""
    form = FindForm(request.args, meta={"csrf": False})
    return _catalogue_page(form, block="kinds")


def _catalogue_page(form, **render_args):
    return render("tools/catalogue.html", form=form, free_of=str(FREE_OF),
                  page=inventory.catalogue_page(request.args.get("page"), KINDS_PER_PAGE), **render_args)


@bp.get("/tools/find")
def find():
    """Where the scan box goes: the code (or the label's URL) to the tool's page."""
    form = FindForm(request.args)
    if form.validate():
        tool = lending.find_tool(form.code.data)
        if tool is not None:
            return redirect(url_for(".tool", code=tool.code))
        form.code.errors.append(_no_such_code())
    return _catalogue_page(form, status=404)


def _no_such_code():
    return _l("We have no tool with this code. Please check the label and try again.")


@bp.get("/tools/kind/<int:kind_id>")
@kept_view
def kind(kind_id):
    """The tools of one kind, each with its state, so a resident can pick a free one."""
    kind = db.get_or_404(ToolKind, kind_id)
    tools = [t for t in kind.tools if t.status != "retired"]
    return render("tools/kind.html", kind=kind, tools=tools)


@bp.get("/t/<code>")
@kept_view
def tool(code):
    """What scanning a label opens (a public address printed on every tool): its state and what you can do."""
    found = inventory.tool_with_open_loan(code)
    if found is None:
        abort(404)
    tool, loan = found
    if (r := _canonical(code, tool, ".tool")) is not None:
        return r
    resident = visitor.current_resident()
    return render("tools/tool.html", tool=tool, loan=loan, resident=resident,
                  due=lending.due_date(tool.kind))


# --- Borrowing ------------------------------------------------------------------------

@bp.get("/t/<code>/borrow")
def borrow_start(code):
    """Ask who is borrowing, or, once known, ask them to confirm."""
    tool = _tool_or_404(code)
    resident = visitor.current_resident()
    if resident is None:
        return _identify_page(tool, IdentifyForm(), purpose="borrow")
    return render("tools/confirm.html", tool=tool, resident=resident,
                  due=lending.due_date(tool.kind), form=TokenForm(token=new_token()))


@bp.post("/t/<code>/who")
def identify(code):
    """Mobile + name; a new resident is registered on the spot, with their consent."""
    tool = _tool_or_404(code)
    purpose = "return" if request.args.get("for") == "return" else "borrow"
    form = IdentifyForm()
    if form.validate_on_submit():
        try:
            resident = identify_resident_now(form.mobile.data, form.name.data,
                                             form.building_unit.data, form.consent.data)
        except Refusal as refusal:
            getattr(form, refusal.field or "name").errors.append(refusal.message)
        else:
            target = ".return_start" if purpose == "return" else ".borrow_start"
            response = redirect(url_for(target, code=tool.code), 303)
            visitor.remember(response, resident)
            return response
    return _identify_page(tool, form, purpose, status=422)


def _identify_page(tool, form, purpose, status=200):
    return render("tools/identify.html", tool=tool, form=form,
                  purpose=purpose, status=status)


@bp.post("/t/<code>/borrow")
def borrow(code):
    """Confirming the loan. The form's token makes a double tap return the same loan."""
    tool = _tool_or_404(code)
    resident = visitor.current_resident()
    form = TokenForm()
    if resident is None or not form.validate_on_submit():
        return redirect(url_for(".borrow_start", code=tool.code), 303)
    try:
        loan = lending.borrow(tool.id, resident.id, form.token.data, channel=_channel())
    except Refusal as refusal:
        return render("tools/refused.html", tool=tool, refusal=refusal, status=refusal.status)
    response = render("tools/receipt.html", tool=loan.tool, loan=loan, action="borrowed",
                      due_words=format_date(loan.due_on, "full"))
    _done_on_tablet(response)
    return response


# --- Returning ------------------------------------------------------------------------

def _may_return_without_name() -> bool:
    # The enrolled hall tablet takes back whatever is handed in at the counter.
    return surface() == "kiosk" and is_hall_tablet()


@bp.get("/t/<code>/return")
def return_start(code):
    """Ask how the tool is; on a phone, only its borrower may return it."""
    tool = _tool_or_404(code)
    loan = lending.open_loan_for(tool)
    if loan is None:
        return redirect(url_for(".tool", code=tool.code), 303)
    if not _may_return_without_name() and visitor.current_resident() is None:
        return _identify_page(tool, IdentifyForm(), purpose="return")
    return render("tools/return.html", tool=tool, loan=loan, form=ReturnForm(token=new_token()))


@bp.post("/t/<code>/return")
def return_tool(code):
    tool = _tool_or_404(code)
    form = ReturnForm()
    resident = visitor.current_resident()
    if not _may_return_without_name() and resident is None:
        return redirect(url_for(".return_start", code=tool.code), 303)
    if not form.validate_on_submit():
        loan = lending.open_loan_for(tool)
        if loan is None:
            return redirect(url_for(".tool", code=tool.code), 303)
        return render("tools/return.html", tool=tool, loan=loan, form=form, status=422)
    try:
        loan = lending.return_tool(
            tool.id, form.token.data, form.condition.data, form.note.data, channel=_channel(),
            resident_id=None if _may_return_without_name() else resident.id)
    except Refusal as refusal:
        return render("tools/refused.html", tool=tool, refusal=refusal, status=refusal.status)
    response = render("tools/receipt.html", tool=loan.tool, loan=loan, action="returned")
    _done_on_tablet(response)
    return response


def _channel() -> str:
    return "kiosk" if surface() == "kiosk" else "phone"


def _done_on_tablet(response):
    """The tablet forgets the resident as soon as their action is done."""
    if surface() == "kiosk":
        visitor.forget(response)
