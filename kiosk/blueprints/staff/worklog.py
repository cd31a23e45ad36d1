"""Back office: the staff work log. Staff write down field work on their phone where it was done
(one column at 390 px, big kind tiles, today and the recorder filled in, one Save), then see it in
the list with its filters and CSV, correct or delete an entry, and manage the kinds of work.

Who: staff and admins, and coordinators too (they go out with the volunteers, and name them on
entries); the kinds of work are managed by staff and admins only. Every rule is kiosk.worklog's;
its refusals go next to the field they name.
"""
from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import Length, ValidationError
from wtforms.widgets import CheckboxInput, DateInput, ListWidget

from ... import photos, worklog
from ...extensions import db
from ...forms import TokenForm, whole_number
from ...lending import hall_today
from ...models import StaffUser
from ...models.community import WorkKind, WorkLogEntry
from ...pagination import paginate
from ...refusal import Refusal
from ...web import new_token, render
from . import STAFF_MENU, bp, for_coordinators
from .class_forms import _day
from .exports import csv_response
from .tools import _show_refusal

STAFF_MENU.append(("staff.worklog_list", _l("Work log")))

_SHORTER = _l("Please write it shorter.")


def _an_id(value):
    """A ticked id from the form; anything else is None (and the rules say what is wrong)."""
    return whole_number(value)


def _ids(value):
    number = whole_number(value)
    return -1 if number is None else number  # -1: not anyone; kiosk.worklog refuses it next to the field


# --- Forms ------------------------------------------------------------------------------------

class WorkLogFields(FlaskForm):
    """An entry's fields; multipart, for the optional photo. Field names are kiosk.worklog's."""

    kind = RadioField(_l("What was done?"), coerce=_an_id, validate_choice=False)
    places = StringField(_l("Households or places covered"), validators=[Length(max=worklog.PLACES_MAX,
                                                                                message=_SHORTER)])
    households = StringField(_l("How many households"),
                             render_kw={"inputmode": "numeric", "pattern": "[0-9]*", "autocomplete": "off"})
    note = TextAreaField(_l("Short note (optional)"), render_kw={"rows": 3},
                         validators=[Length(max=worklog.NOTE_MAX, message=_SHORTER)])
    photo = FileField(_l("Photo (optional)"), render_kw={"accept": "image/*", "capture": "environment"})
    day = StringField(_l("Date"), widget=DateInput())
    staff = SelectMultipleField(_l("Staff involved"), coerce=_ids, validate_choice=False,
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    volunteers = SelectMultipleField(_l("Volunteers involved"), coerce=_ids, validate_choice=False,
                                     widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())

    def __init__(self, *args, entry: WorkLogEntry | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = worklog.kinds()
        if entry is not None and entry.kind not in kinds:
            kinds.append(entry.kind)  # an old entry keeps its kind, even if no longer in use
        self.kinds = kinds
        self.kind.choices = [SelectChoice(k.id, k.name) for k in kinds]
        had_staff = tuple(p.id for p in entry.staff) if entry else ()
        had_volunteers = tuple(v.id for v in entry.volunteers) if entry else ()
        self.staff.choices = [SelectChoice(p.id, p.display_name) for p in worklog.field_staff(had_staff)]
        self.volunteers.choices = [SelectChoice(v.id, v.name) for v in worklog.field_volunteers(had_volunteers)]
        self.day.render_kw = {"max": hall_today().isoformat()}

    def validate_day(self, field):
        _day(field)

    def validate_households(self, field):
        text = str(field.data or "").strip()
        if not text:
            field.data = 0
            return
        households = whole_number(text, worklog.HOUSEHOLDS_MAX)
        if households is None:
            raise ValidationError(_l("Please give the number of households as a number, like 3."))
        field.data = households

    def entry(self, photo: str | None) -> worklog.Entry:
        return worklog.Entry(kind_id=self.kind.data, day=self.day.data, staff_ids=list(self.staff.data or []),
                             volunteer_ids=list(self.volunteers.data or []), places=self.places.data or "",
                             households=self.households.data, note=self.note.data or "", photo=photo)


class WorkLogForm(TokenForm, WorkLogFields):
    """A new entry: the one-use token makes a double tap on Save record it once."""


class WorkLogEditForm(WorkLogFields):
    remove_photo = BooleanField(_l("Remove the photo"))


class WorkLogFilterForm(FlaskForm):
    """The list's filters: a GET form (no CSRF), kept in the pager's links and the CSV link."""

    class Meta:
        csrf = False

    q = StringField(_l("Places or note"))
    kind = SelectField(_l("Kind of work"), default="", validate_choice=False)
    staff = SelectField(_l("Staff member"), default="", validate_choice=False)
    start = StringField(_l("From"), widget=DateInput())
    end = StringField(_l("To"), widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        all_ = SelectChoice("", _l("All"))
        self.kind.choices = [all_] + [SelectChoice(str(k.id), f"{k.pictogram} {k.name}")
                                      for k in worklog.kinds(active_only=False)]
        self.staff.choices = [all_] + [SelectChoice(str(p.id), p.display_name) for p in db.session.scalars(
            select(StaffUser).where(StaffUser.role.in_(worklog.FIELD_ROLES)).order_by(StaffUser.display_name))]

    def validate_start(self, field):
        if field.data:
            _day(field)

    def validate_end(self, field):
        if field.data:
            _day(field)

    @property
    def filters(self) -> dict:
        """What the list is filtered by; a filter typed wrong is left out (and said so next to it)."""
        self.validate()
        dated = {name: getattr(self, name).data if not getattr(self, name).errors else None
                 for name in ("start", "end")}
        return {"kind_id": _an_id(self.kind.data), "staff_id": _an_id(self.staff.data),
                "start": dated["start"] or None, "end": dated["end"] or None, "text": self.q.data}


class WorkKindForm(FlaskForm):
    name_zh = StringField(_l("Name in Chinese"), validators=[Length(max=40, message=_SHORTER)])
    name_bo = StringField(_l("Name in Tibetan (optional)"), validators=[Length(max=80, message=_SHORTER)])
    name_en = StringField(_l("Name in English (optional)"), validators=[Length(max=40, message=_SHORTER)])
    pictogram = StringField(_l("Pictogram (one emoji)"), default="📝")
    active = BooleanField(_l("In use (offered when recording work)"), default=True)


# --- The list ---------------------------------------------------------------------------------

def _filtered():
    form = WorkLogFilterForm(request.args)
    filters = form.filters
    stmt = worklog.entries_query(**filters).options(
        joinedload(WorkLogEntry.kind), selectinload(WorkLogEntry.staff), selectinload(WorkLogEntry.volunteers))
    return form, filters, stmt


@bp.get("/worklog")
@for_coordinators
def worklog_list():
    """Every entry, newest first, filtered by kind, staff member, dates and text; with the counts by
    kind for the dates chosen. Typing in the search asks (through htmx) for the table only."""
    form, filters, stmt = _filtered()
    page = paginate(stmt, request.args.get("page"), current_app.config["PAGE_SIZE"])
    counts = worklog.counts_by_kind(filters["start"], filters["end"])
    return render("staff/worklog_list.html", block="worklog_table", form=form, page=page, counts=counts)


@bp.get("/worklog.csv")
@for_coordinators
def worklog_export():
    """The list with its filters, every page, for Excel (names only: no mobile numbers)."""
    _form, _filters, stmt = _filtered()
    header = [_l("Date"), _l("Kind of work"), _l("Households or places covered"), _l("Households"),
              _l("Staff involved"), _l("Volunteers involved"), _l("Note"), _l("Photo"), _l("Recorded by")]
    names = {p.id: p.display_name for p in db.session.scalars(select(StaffUser))}

    def rows():
        for e in db.session.scalars(stmt):
            yield [e.day.isoformat(), e.kind.name, e.places, e.households,
                   ", ".join(p.display_name for p in e.staff), ", ".join(v.name for v in e.volunteers),
                   e.note, _("Yes") if e.photo else "", names.get(e.recorded_by_id, "")]

    return csv_response("work-log", header, rows())


# --- Recording --------------------------------------------------------------------------------

def _form_page(form, entry=None, status=200, refusal=None):
    recorder = db.session.get(StaffUser, entry.recorded_by_id) if entry else None
    return render("staff/worklog_form.html", form=form, entry=entry, recorder=recorder, status=status,
                  refusal=refusal)


@bp.get("/worklog/new")
@for_coordinators
def worklog_new():
    """The phone form: today, the one recording ticked, a fresh token; they tap a kind and save."""
    form = WorkLogForm(formdata=None, token=new_token(), day=hall_today().isoformat(), staff=[current_user.id])
    return _form_page(form)


def _saved_photo(form):
    """The uploaded photo, kept; a refusal goes next to the photo field (and None is returned)."""
    try:
        return photos.save_photo(request.files.get(form.photo.name)), True
    except Refusal as refusal:
        _show_refusal(form, refusal)
        return None, False


@bp.post("/worklog/new")
@for_coordinators
def worklog_add():
    """Record the entry and show the confirmation with "Add another"."""
    form = WorkLogForm()
    if form.validate_on_submit():
        photo, fine = _saved_photo(form)
        if fine:
            try:
                entry = worklog.record(form.entry(photo), form.token.data, current_user.id)
            except Refusal as refusal:
                photos.discard(photo)  # refused after all: keep no photo that nothing points to
                if not (refusal.field and hasattr(form, refusal.field)):
                    return _form_page(form, status=refusal.status, refusal=refusal)
                _show_refusal(form, refusal)
            else:
                if photo and entry.photo != photo:
                    photos.discard(photo)  # a double tap's twin: the first entry keeps its own
                return redirect(url_for(".worklog_saved", entry_id=entry.id), 303)
    return _form_page(form, status=422)


def _entry_or_404(entry_id: int) -> WorkLogEntry:
    return db.get_or_404(WorkLogEntry, entry_id, options=[
        joinedload(WorkLogEntry.kind), selectinload(WorkLogEntry.staff), selectinload(WorkLogEntry.volunteers)])


@bp.get("/worklog/<int:entry_id>/saved")
@for_coordinators
def worklog_saved(entry_id):
    """Saved: what was recorded, and a big "Add another"."""
    return render("staff/worklog_saved.html", entry=_entry_or_404(entry_id))


# --- One entry --------------------------------------------------------------------------------

def _edit_form(entry: WorkLogEntry, **kw) -> WorkLogEditForm:
    return WorkLogEditForm(entry=entry, **kw)


@bp.get("/worklog/<int:entry_id>")
@for_coordinators
def worklog_entry(entry_id):
    """An entry, with its photo, ready to be corrected; and the way to delete it."""
    entry = _entry_or_404(entry_id)
    form = _edit_form(entry, formdata=None, data={
        "kind": entry.kind_id, "day": entry.day.isoformat(), "places": entry.places,
        "households": str(entry.households), "note": entry.note,
        "staff": [p.id for p in entry.staff], "volunteers": [v.id for v in entry.volunteers]})
    return _form_page(form, entry=entry)


@bp.post("/worklog/<int:entry_id>")
@for_coordinators
def worklog_save(entry_id):
    """Correct an entry (a new photo replaces the old one)."""
    entry = _entry_or_404(entry_id)
    form = _edit_form(entry)
    if form.validate_on_submit():
        photo, fine = _saved_photo(form)
        if fine:
            try:
                worklog.update(entry.id, form.entry(photo), remove_photo=form.remove_photo.data)
            except Refusal as refusal:
                photos.discard(photo)
                if not (refusal.field and hasattr(form, refusal.field)):
                    return _form_page(form, entry=entry, status=refusal.status, refusal=refusal)
                _show_refusal(form, refusal)
            else:
                flash(_("The work log entry is saved."))
                return redirect(url_for(".worklog_entry", entry_id=entry.id), 303)
    return _form_page(form, entry=entry, status=422)


@bp.get("/worklog/<int:entry_id>/delete")
@for_coordinators
def worklog_delete_confirm(entry_id):
    """Are you sure? The entry, and a button that deletes it."""
    return render("staff/worklog_delete.html", entry=_entry_or_404(entry_id), form=FlaskForm())


@bp.post("/worklog/<int:entry_id>/delete")
@for_coordinators
def worklog_delete(entry_id):
    entry = _entry_or_404(entry_id)
    form = FlaskForm()
    if not form.validate_on_submit():
        return render("staff/worklog_delete.html", entry=entry, form=form, status=422)
    try:
        worklog.delete(entry.id)
    except Refusal as refusal:
        flash(refusal.message)
    else:
        flash(_("The work log entry is deleted."))
    return redirect(url_for(".worklog_list"), 303)


# --- Kinds of work ----------------------------------------------------------------------------

def _kinds_page(form, status=200):
    return render("staff/worklog_kinds.html", kinds=worklog.kinds(active_only=False), form=form, status=status)


@bp.get("/worklog/kinds")
def worklog_kinds():
    """The kinds of work (in use or not), and a form to add one."""
    return _kinds_page(WorkKindForm(formdata=None))


def _kind_values(form) -> tuple:
    return form.name_zh.data, form.name_bo.data, form.name_en.data, form.pictogram.data


@bp.post("/worklog/kinds")
def worklog_kind_add():
    form = WorkKindForm()
    if form.validate_on_submit():
        try:
            kind = worklog.add_kind(*_kind_values(form))
        except Refusal as refusal:
            _show_refusal(form, refusal)
        else:
            flash(_("The kind of work “%(name)s” is added.", name=kind.name))
            return redirect(url_for(".worklog_kinds"), 303)
    return _kinds_page(form, status=422)


@bp.get("/worklog/kinds/<int:kind_id>")
def worklog_kind_edit(kind_id):
    """Rename a kind, change its pictogram, or take it out of use."""
    kind = db.get_or_404(WorkKind, kind_id)
    return render("staff/worklog_kind_form.html", kind=kind, form=WorkKindForm(obj=kind, formdata=None))


@bp.post("/worklog/kinds/<int:kind_id>")
def worklog_kind_save(kind_id):
    kind = db.get_or_404(WorkKind, kind_id)
    form = WorkKindForm()
    if form.validate_on_submit():
        try:
            saved = worklog.save_kind(kind.id, *_kind_values(form), active=form.active.data)
        except Refusal as refusal:
            _show_refusal(form, refusal)
        else:
            flash(_("The kind of work “%(name)s” is saved.", name=saved.name))
            return redirect(url_for(".worklog_kinds"), 303)
    return render("staff/worklog_kind_form.html", kind=kind, form=form, status=422)
