"""Back office: residents. The list with its search and CSV, a resident's page with everything
they did with the hall, and (admins only) the personal-data requests: merge two records of one
person, export one resident's data, erase a resident, and the retention clean-up.

Views read a form, call kiosk.people and show the result; a Refusal goes next to its field.
"""
from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import DataRequired, NumberRange, Optional

from ... import people
from ...extensions import db
from ...forms import LARGEST_ID
from ...lending import hall_today
from ...models import Resident
from ...pagination import paginate
from ...refusal import Refusal
from ...web import kept_view, render
from . import STAFF_MENU, admin_only, bp
from .exports import csv_response

STAFF_MENU.append(("staff.resident_list", _l("Residents")))


class ResidentSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name, mobile (or its last 4 digits), building or unit"))


class MergeForm(FlaskForm):
    other = IntegerField(_l("The other record's number"), validators=[
        DataRequired(message=_l("Choose the other record.")),
        NumberRange(1, LARGEST_ID, message=_l("Choose the other record."))])
    sure = BooleanField(_l("Yes, these two records are the same person. Merge them."), validators=[
        DataRequired(message=_l("Please confirm that these two records are the same person."))])


class EraseForm(FlaskForm):
    confirm = StringField(_l("Type the last 4 digits of their mobile number to confirm"), validators=[
        Optional()])


class RetentionForm(FlaskForm):
    pass


def resident_label(resident: Resident) -> str:
    """What pages show as the resident's name: an erased one has none."""
    if resident.erased_at is not None:
        return _("Erased resident #%(id)s", id=resident.id)
    return resident.name


bp.context_processor(lambda: {"resident_label": resident_label})


def _record_number(raw: str | None) -> int | None:
    """A record number from the address, or None for anything that cannot be one."""
    return int(raw) if raw and raw.isascii() and raw.isdigit() and int(raw) <= LARGEST_ID else None


def _resident_or_404(resident_id: int) -> Resident:
    return db.get_or_404(Resident, resident_id)


# --- The list -----------------------------------------------------------------------------------

def _searched():
    form = ResidentSearchForm(request.args)
    return form, people.search_query(form.q.data)


@bp.get("/residents")
def resident_list():
    """Residents found by name, mobile (or its last 4 digits), building/unit; typing asks (htmx)
    for the table only."""
    form, stmt = _searched()
    page = paginate(stmt, request.args.get("page"), current_app.config["PAGE_SIZE"])
    return render("staff/resident_list.html", block="resident_table", form=form, page=page,
                  summaries=people.summaries([r.id for r in page.items]))


def _when(value) -> str:
    return format_datetime(value, "yyyy-MM-dd HH:mm") if value else ""


@bp.get("/residents.csv")
def resident_list_csv():
    """The list with its search, every page, for Excel (full mobile numbers: staff only)."""
    _form, stmt = _searched()
    header = [_l("Number"), _l("Name"), _l("Mobile number"), _l("Building and unit"), _l("Joined"),
              _l("Last activity"), _l("Loans"), _l("Tools held now"), _l("Class registrations"),
              _l("Wishes and requests"), _l("Tea sign-ins"), _l("Concerns raised")]

    def rows():
        residents = list(db.session.scalars(stmt))
        counts = people.summaries([r.id for r in residents])
        for r in residents:
            c = counts[r.id]
            yield [r.id, resident_label(r), r.mobile or "", r.building_unit or "", _when(r.created_at),
                   _when(c.last_activity), c.loans, c.open_loans, c.registrations, c.wishes, c.sign_ins, c.concerns]

    return csv_response("residents", header, rows())


# --- One resident -------------------------------------------------------------------------------

@bp.get("/residents/<int:resident_id>")
@kept_view
def resident_page(resident_id):
    """Their details, loans, children's class places, wishes, tea invitations and sign-ins, concerns:
    the newest of each, a page at a time (?loans=2&teas=3). A section's pager asks (htmx) for the
    sections only."""
    found = people.profile(resident_id, request.args)
    if found is None:
        abort(404)
    # Each pager link keeps the other sections' pages, and nothing else of the address.
    pages = {section: request.args[section] for section in people.SECTIONS if section in request.args}
    return render("staff/resident_page.html", block="resident_history", p=found, r=found.resident,
                  today=hall_today(), pages=pages)


@bp.get("/residents/<int:resident_id>/export.json")
@admin_only
def resident_export(resident_id):
    """Everything kept about one resident, as a JSON file (a PIPL access request)."""
    data = people.export_json(resident_id)
    if data is None:
        abort(404)
    filename = f"resident-{resident_id}-{hall_today().isoformat()}.json"
    return Response(data, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


# --- Merge --------------------------------------------------------------------------------------

@bp.route("/residents/<int:resident_id>/merge", methods=("GET", "POST"))
@admin_only
def resident_merge(resident_id):
    """Find the other record of the same person (search or number), see both side by side,
    confirm: everything of the other record moves to this one, and the other is deleted."""
    keep = _resident_or_404(resident_id)
    search = ResidentSearchForm(request.args)
    form = MergeForm(formdata=request.form if request.method == "POST" else None,
                     other=_record_number(request.args.get("other")))
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                merged = people.merge(keep.id, form.other.data)
            except Refusal as refusal:
                if refusal.reason == "already_merged":
                    # A second click of the same button: the first one merged them.
                    flash(_("These records are already merged."))
                    return redirect(url_for(".resident_page", resident_id=keep.id), 303)
                form.other.errors = [*form.other.errors, refusal.message]
                status = refusal.status
            else:
                flash(_("Record #%(other)s is merged into this one and removed.", other=merged.absorbed_id))
                return redirect(url_for(".resident_page", resident_id=keep.id), 303)
        else:
            status = 422
    wanted = form.other.data if not form.other.errors else None
    other = db.session.get(Resident, wanted) if wanted and wanted <= LARGEST_ID else None
    if other is not None and other.id == keep.id:
        other = None
    candidates = []
    if search.q.data and other is None:
        candidates = [r for r in db.session.scalars(people.search_query(search.q.data).limit(20)) if r.id != keep.id]
    shown = [keep.id] + ([other.id] if other else []) + [r.id for r in candidates]
    return render("staff/resident_merge.html", status=status, keep=keep, other=other, form=form, search=search,
                  candidates=candidates, summaries=people.summaries(shown))


# --- Erase --------------------------------------------------------------------------------------

@bp.route("/residents/<int:resident_id>/erase", methods=("GET", "POST"))
@admin_only
def resident_erase(resident_id):
    """Remove a resident's personal data (their request, PIPL); the rows the hall counts stay.
    Staff confirm by typing the last 4 digits of the mobile number."""
    resident = _resident_or_404(resident_id)
    form = EraseForm(formdata=request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.validate():
        if resident.erased_at is not None:
            flash(_("This resident is already erased."))
            return redirect(url_for(".resident_page", resident_id=resident.id), 303)
        typed = "".join(ch for ch in (form.confirm.data or "") if ch.isdigit())
        if len(typed) != 4 or not (resident.mobile or "").endswith(typed):
            form.confirm.errors = [_("Type the last 4 digits of %(name)s's mobile number.", name=resident.name)]
            status = 422
        else:
            try:
                people.erase(resident.id)
            except Refusal as refusal:
                form.confirm.errors = [refusal.message]
                status = refusal.status
            else:
                flash(_("The resident's personal data is erased. Their loans, registrations and requests "
                        "still count in the figures."))
                return redirect(url_for(".resident_page", resident_id=resident.id), 303)
    elif request.method == "POST":
        status = 422
    summary = people.summaries([resident.id])[resident.id]
    return render("staff/resident_erase.html", status=status, r=resident, form=form, summary=summary)


# --- Retention ----------------------------------------------------------------------------------

@bp.route("/residents/retention", methods=("GET", "POST"))
@admin_only
def resident_retention():
    """How many residents the retention rule would anonymise now; the button does it."""
    years = people.retention_years()
    form = RetentionForm()
    if request.method == "POST" and form.validate():
        done = people.anonymise_inactive(years, hall_today())
        flash(ngettext("%(num)s inactive resident was anonymised.", "%(num)s inactive residents were anonymised.",
                       len(done)) if done else _("No resident needed anonymising."))
        return redirect(url_for(".resident_retention"), 303)
    due = people.inactive(years, hall_today())
    return render("staff/resident_retention.html", years=years, due=len(due), form=form,
                  status=422 if request.method == "POST" else 200)
