"""Back office: kinds of tool, the tools themselves, repairs and retirement, donations.

Views read the form, call kiosk.inventory or kiosk.lending, and show the result; a
Refusal from a rule is shown next to the form or the buttons, never as an error page.
"""
from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ... import inventory, lending
from ...extensions import db
from ...models import Tool, ToolKind
from ...pagination import paginate
from ...refusal import Refusal
from ...web import new_token, render
from . import bp, words
from .exports import csv_response
from .forms import CheckInForm, KindForm, NoteForm, ToolAddForm, ToolEditForm, ToolFilterForm


def _kinds() -> list[ToolKind]:
    return list(db.session.scalars(select(ToolKind).order_by(ToolKind.name_en)))


def _show_refusal(form, refusal: Refusal):
    """Put a rule's refusal next to the field it is about (or the form's first field)."""
    field = getattr(form, refusal.field or "", None) or next(iter(form))
    field.errors = [*field.errors, refusal.message]


# --- Kinds of tool --------------------------------------------------------------------------

@bp.get("/kinds")
def kind_list():
    """Every kind of tool with its names, pictogram, loan period and how many tools it has."""
    counts = {k.kind.id: k for k in lending.catalogue()}
    page = paginate(select(ToolKind).order_by(ToolKind.name_en), request.args.get("page"),
                    current_app.config["PAGE_SIZE"])
    return render("staff/kinds.html", page=page, counts=counts)


@bp.get("/kinds/new")
def kind_new():
    return render("staff/kind_form.html", form=KindForm(), kind=None)


@bp.post("/kinds/new")
def kind_add():
    """Add a kind of tool; its physical tools are added on the tools page."""
    return _save_kind(None)


@bp.get("/kinds/<int:kind_id>")
def kind_edit(kind_id):
    kind = db.get_or_404(ToolKind, kind_id)
    return render("staff/kind_form.html", form=KindForm(obj=kind), kind=kind)


@bp.post("/kinds/<int:kind_id>")
def kind_save(kind_id):
    """Change a kind's names, pictogram or loan period (new loans only; open loans keep their date)."""
    return _save_kind(db.get_or_404(ToolKind, kind_id))


def _save_kind(kind: ToolKind | None):
    form = KindForm()
    if form.validate_on_submit():
        values = (form.name_zh.data, form.name_bo.data, form.name_en.data, form.pictogram.data,
                  form.loan_days.data)
        try:
            if kind is None:
                inventory.add_kind(*values)
            else:
                inventory.edit_kind(kind.id, *values)
        except Refusal as refusal:
            _show_refusal(form, refusal)
        else:
            flash(_("The kind “%(name)s” was added.", name=form.name_en.data) if kind is None
                  else _("The kind “%(name)s” was saved.", name=form.name_en.data))
            return redirect(url_for(".kind_list"), 303)
    return render("staff/kind_form.html", form=form, kind=kind, status=422)


# --- Tools ----------------------------------------------------------------------------------

def _tool_filters():
    form = ToolFilterForm(request.args, kinds=_kinds())
    stmt = inventory.tools_query(status=form.status.data or None, kind_id=form.kind_id,
                                 code=form.q.data)
    return form, stmt


@bp.get("/tools")
def tool_list():
    """All tools, filtered by status and kind, searched by code; tick some to print their labels.

    An htmx search (typing in the code box) gets only the table back.
    """
    form, stmt = _tool_filters()
    page = paginate(stmt, request.args.get("page"), current_app.config["PAGE_SIZE"])
    return render("staff/tools.html", block="tool_table", form=form, page=page)


@bp.get("/tools.csv")
def tool_export():
    """The tools list with its current filters, every page, for Excel."""
    _form, stmt = _tool_filters()
    header = [_l("Code"), _l("Kind"), _l("Number"), _l("Status"), _l("Condition"),
              _l("Donated by"), _l("Acquired on"), _l("Note")]
    rows = ([t.code, t.kind.name, t.number, words.STATUSES[t.status], words.CONDITIONS[t.condition],
             t.donated_by or "",
             t.acquired_on.isoformat() if t.acquired_on else "", t.note or ""]
            for t in db.session.scalars(stmt))
    return csv_response("tools", header, rows)


@bp.get("/tools/new")
def tool_new():
    kinds = _kinds()
    form = ToolAddForm(kinds=kinds, kind_id=request.args.get("kind", type=int))
    return render("staff/tool_form.html", form=form, no_kinds=not kinds)


@bp.post("/tools/new")
def tool_add():
    """Add a physical tool: it gets the next code (RW-0041), ready for its label."""
    kinds = _kinds()
    form = ToolAddForm(kinds=kinds)
    if form.validate_on_submit():
        tool = lending.add_tool(form.kind_id.data, current_user.id, condition=form.condition.data,
                                donated_by=form.donated_by.data, acquired_on=form.acquired_on.data,
                                note=(form.note.data or "").strip() or None)
        flash(_("%(tool)s was added with the code %(code)s. Print its label from the tools list.",
                 tool=tool.label, code=tool.code))
        return redirect(url_for(".tool_page", tool_id=tool.id), 303)
    return render("staff/tool_form.html", form=form, no_kinds=not kinds, status=422)


def _tool_or_404(tool_id) -> Tool:
    return db.get_or_404(Tool, tool_id)


def _tool_page(tool, status=200, refusal=None, edit_form=None, note_forms=None):
    """The tool's page: its details, what can be done with it now, and its whole history.

    Its forms carry prefixes ("edit-note", "repair-note"...) so that no two fields share an id.
    """
    loan = lending.open_loan_for(tool)
    note_forms = {action: NoteForm(formdata=None, prefix=action) for action in _ACTIONS} | (note_forms or {})
    return render("staff/tool.html", tool=tool, loan=loan, refusal=refusal,
                  edit_form=edit_form or ToolEditForm(formdata=None, obj=tool, prefix="edit"),
                  note_forms=note_forms,
                  checkin_form=CheckInForm(formdata=None, token=new_token()),
                  history=inventory.tool_history(tool.id),
                  days_late=inventory.days_late(loan) if loan else 0, status=status)


@bp.get("/tools/<int:tool_id>")
def tool_page(tool_id):
    return _tool_page(_tool_or_404(tool_id))


@bp.post("/tools/<int:tool_id>")
def tool_save(tool_id):
    """Edit a tool's condition, donor and note; the change is recorded with who made it."""
    tool = _tool_or_404(tool_id)
    form = ToolEditForm(prefix="edit")
    if form.validate_on_submit():
        try:
            inventory.edit_tool(tool.id, current_user.id, form.condition.data, form.note.data,
                                form.donated_by.data)
        except Refusal as refusal:
            _show_refusal(form, refusal)
        else:
            flash(_("%(tool)s was saved.", tool=tool.label))
            return redirect(url_for(".tool_page", tool_id=tool.id), 303)
    return _tool_page(tool, status=422, edit_form=form)


# Send to repair, mark repaired, retire: one button each, with an optional note.
_ACTIONS = {
    "repair": (lending.send_to_repair, lambda tool: _("%(tool)s is now in repair.", tool=tool)),
    "repaired": (lending.mark_repaired,
                 lambda tool: _("%(tool)s is repaired and back on the shelf.", tool=tool)),
    "retire": (lending.retire,
               lambda tool: _("%(tool)s is retired and will not be lent again.", tool=tool)),
}


# "repaired" before "repair": the converter takes the first alternative that matches.
@bp.post("/tools/<int:tool_id>/<any(repaired, repair, retire):action>")
def tool_action(tool_id, action):
    """Move a tool to repair, back from repair, or out of service, as the shop's rules allow."""
    tool = _tool_or_404(tool_id)
    form = NoteForm(prefix=action)
    if not form.validate_on_submit():
        return _tool_page(tool, status=422, note_forms={action: form})
    do, done = _ACTIONS[action]
    try:
        do(tool.id, current_user.id, note=(form.note.data or "").strip() or None)
    except Refusal as refusal:
        return _tool_page(tool, status=refusal.status, refusal=refusal)
    flash(done(tool.label))
    return redirect(url_for(".tool_page", tool_id=tool.id), 303)


# --- Check-in by staff -----------------------------------------------------------------------

@bp.get("/tools/<int:tool_id>/check-in")
def checkin_start(tool_id):
    """The check-in form alone, as opened from the loans ledger."""
    tool = _tool_or_404(tool_id)
    loan = lending.open_loan_for(tool)
    if loan is None:
        return redirect(url_for(".tool_page", tool_id=tool.id), 303)
    return render("staff/checkin.html", tool=tool, loan=loan,
                  form=CheckInForm(formdata=None, token=new_token()),
                  days_late=inventory.days_late(loan))


@bp.post("/tools/<int:tool_id>/check-in")
def checkin(tool_id):
    """Take a tool back at the counter. The form's one-use token makes a double click return it once."""
    tool = _tool_or_404(tool_id)
    form = CheckInForm()
    if not form.validate_on_submit():
        loan = lending.open_loan_for(tool)
        if loan is None:
            abort(400)
        return render("staff/checkin.html", tool=tool, loan=loan, form=form,
                      days_late=inventory.days_late(loan), status=422)
    try:
        loan = lending.return_tool(tool.id, form.token.data, form.condition.data, form.note.data,
                                   channel="staff", staff_id=current_user.id)
    except Refusal as refusal:
        return _tool_page(tool, status=refusal.status, refusal=refusal)
    if loan.return_condition == "needs_repair":
        flash(_("%(tool)s is checked in and waits for repair.", tool=loan.tool.label))
    else:
        flash(_("%(tool)s is checked in and back on the shelf.", tool=loan.tool.label))
    return redirect(url_for(".tool_page", tool_id=tool.id), 303)


# --- Donations ------------------------------------------------------------------------------

@bp.get("/donations")
def donations():
    """Tools given to the shop, with the donor and the date, for thanking them and for the report."""
    page = paginate(inventory.donations_query(), request.args.get("page"),
                    current_app.config["PAGE_SIZE"])
    return render("staff/donations.html", page=page)


@bp.get("/donations.csv")
def donation_export():
    header = [_l("Code"), _l("Kind"), _l("Donated by"), _l("Acquired on"), _l("Status")]
    rows = ([t.code, t.kind.name, t.donated_by, t.acquired_on.isoformat() if t.acquired_on else "",
             words.STATUSES[t.status]] for t in db.session.scalars(inventory.donations_query()))
    return csv_response("donations", header, rows)
