"""Back office: micro-wishes and help requests, claims, fulfilment, volunteers and partner units.

Views read a form, call kiosk.wishes and show the result; every rule (what may happen to a
request in which status, who may take a repair, one claim per wish, the quarter's format) is
decided there. A Refusal goes next to the field it names (422), or above the page.

These pages carry what the wall never shows: the resident's name, full mobile number, address
and photos. They are for staff and admins only (teachers get 403 from the blueprint), and
photos are served only here, never cached.
"""
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError

from ... import codes, photos, settings, wishes
from ...extensions import db
from ...lending import hall_today
from ...models import Claim, Fulfilment, PartnerUnit, StaffUser, Volunteer, Wish
from ...models.base import utcnow
from ...pagination import paginate
from ...refusal import Refusal
from ...residents import normalise_name
from ...web import render
from . import STAFF_MENU, bp, for_coordinators, wish_words, words
from .classes import _hall_time
from .exports import csv_response
from .tools import _show_refusal
from .wish_forms import (AssignForm, ConvertForm, DeclineForm, FulfilForm, MergeForm, PartnerForm,
                         PeopleFilterForm, PublishForm, VolunteerForm, WishFilterForm, who)

STAFF_MENU.extend([
    ("staff.wish_list", _l("Wishes")),
    ("staff.volunteer_list", _l("Volunteers")),
    ("staff.partner_list", _l("Partner units")),
])
LIVE = ("pending", "confirmed")


def _wish_alerts() -> dict:
    """For the dashboard: requests waiting for review, claims waiting for confirmation."""
    return {"received": wishes.counts_by_status().get("received", 0),
            "pending": db.session.scalar(select(func.count()).select_from(Claim)
                                         .where(Claim.status == "pending"))}


bp.context_processor(lambda: {**wish_words.wish_helpers(), "wish_alerts": _wish_alerts,
                              "volunteer_link": volunteer_link})


def volunteer_link(volunteer: Volunteer) -> str:
    """The volunteer's private page, as an address staff can send them (/v/<key>)."""
    try:
        path = url_for("wishes.volunteer_page", key=volunteer.key)
    except BuildError:  # the public pages are not registered (yet)
        path = "/v/" + volunteer.key
    return settings.base_url() + path


# --- The list -------------------------------------------------------------------------------

def _people():
    return wishes.volunteers(active_only=False), wishes.partner_units(active_only=False)


def _filtered(f: dict):
    """The wishes the filters ask for, as a statement without order or loading options."""
    stmt = select(Wish)
    for column in ("status", "category", "kind"):
        if f[column]:
            stmt = stmt.where(getattr(Wish, column) == f[column])
    if f["older_days"] is not None:
        stmt = stmt.where(Wish.created_at <= utcnow() - timedelta(days=f["older_days"]))
    if f["code"]:
        code = re.sub(r"[\s\-]", "", normalise_name(f["code"]).upper())
        stmt = stmt.where(Wish.code.contains(code, autoescape=True))
    if f["volunteer_id"] is not None:
        took = or_(Wish.assigned_volunteer_id == f["volunteer_id"],
                   Wish.id.in_(select(Claim.wish_id).where(Claim.volunteer_id == f["volunteer_id"],
                                                           Claim.status.in_(LIVE))),
                   Wish.id.in_(select(Fulfilment.wish_id).where(Fulfilment.volunteer_id == f["volunteer_id"])))
        stmt = stmt.where(took)
    if f["unit_id"] is not None:
        stmt = stmt.where(or_(
            Wish.id.in_(select(Claim.wish_id).where(Claim.partner_unit_id == f["unit_id"], Claim.status.in_(LIVE))),
            Wish.id.in_(select(Fulfilment.wish_id).where(Fulfilment.partner_unit_id == f["unit_id"]))))
    return stmt


def _wish_filters():
    volunteers, units = _people()
    form = WishFilterForm(request.args, volunteers=volunteers, units=units)
    stmt = _filtered(form.filters)
    return form, stmt


def _takers(wish_ids) -> tuple[dict[int, Fulfilment], dict[int, Claim]]:
    """The fulfilment and the live claim of each wish in `wish_ids` (a list or a subquery)."""
    fulfilments = db.session.scalars(select(Fulfilment).options(
        joinedload(Fulfilment.volunteer), joinedload(Fulfilment.partner_unit))
        .where(Fulfilment.wish_id.in_(wish_ids)))
    claims = db.session.scalars(select(Claim).options(joinedload(Claim.volunteer), joinedload(Claim.partner_unit))
                                .where(Claim.wish_id.in_(wish_ids), Claim.status.in_(LIVE)))
    return {f.wish_id: f for f in fulfilments}, {c.wish_id: c for c in claims}


def taker(wish: Wish, fulfilment: Fulfilment | None, claim: Claim | None) -> str:
    """Who took the request on: who fulfilled it, else who claimed it, else who it was assigned to."""
    if fulfilment is not None:
        return " · ".join(p.name for p in (fulfilment.volunteer, fulfilment.partner_unit) if p)
    if claim is not None:
        return (claim.volunteer or claim.partner_unit).name
    return wish.assigned_volunteer.name if wish.assigned_volunteer else ""


def _ordered(stmt):
    return stmt.options(joinedload(Wish.resident), joinedload(Wish.assigned_volunteer)) \
        .order_by(Wish.created_at.desc(), Wish.id.desc())


@bp.get("/wishes")
@for_coordinators
def wish_list():
    """Every request, newest first, filtered; typing a code asks (through htmx) for the table only."""
    form, stmt = _wish_filters()
    page = paginate(_ordered(stmt), request.args.get("page"), current_app.config["PAGE_SIZE"])
    fulfilments, claims = _takers([w.id for w in page.items])
    return render("staff/wish_list.html", block="wish_table", form=form, page=page,
                  takers={w.id: taker(w, fulfilments.get(w.id), claims.get(w.id)) for w in page.items})


@bp.get("/wishes.csv")
@for_coordinators
def wish_export():
    """The list with its filters, every page, for Excel; with the full mobile number (staff only)."""
    _form, stmt = _wish_filters()
    fulfilments, claims = _takers(stmt.with_only_columns(Wish.id))
    header = [_l("Receipt code"), _l("Kind"), _l("Category"), _l("Status"), _l("Received"), _l("Published"),
              _l("Resident"), _l("Mobile number"), _l("Building and unit"), _l("Alias"), _l("Area"),
              _l("Taken on by"), _l("Fulfilled on"), _l("Minutes"), _l("Rating")]

    def rows():
        for w in db.session.scalars(_ordered(stmt)):
            done = fulfilments.get(w.id)
            yield [codes.formatted(w.code), wish_words.KINDS[w.kind], wish_words.category_label(w.category),
                   wish_words.STATUSES[w.status], _hall_time(w.created_at), _hall_time(w.published_at),
                   w.resident.name, w.resident.mobile, w.building_unit or w.resident.building_unit or "",
                   w.alias, w.area, taker(w, done, claims.get(w.id)),
                   done.done_on.isoformat() if done else "", done.minutes if done else "", w.rating or ""]

    return csv_response("wishes", header, rows())


# --- Claims waiting -------------------------------------------------------------------------

@bp.get("/wishes/claims")
@for_coordinators
def claim_list():
    """Every claim waiting for staff, oldest first: call the claimant, then confirm or release."""
    pending = db.session.scalars(
        select(Claim).options(joinedload(Claim.wish), joinedload(Claim.volunteer), joinedload(Claim.partner_unit))
        .where(Claim.status == "pending").order_by(Claim.created_at, Claim.id)).all()
    return render("staff/wish_claims.html", claims=pending)


def _claim_or_404(claim_id: int) -> Claim:
    return db.get_or_404(Claim, claim_id)


def _decide_claim(claim_id: int, decide, done_message):
    """Confirm or release a claim; back to the claims list when the button was there."""
    found = _claim_or_404(claim_id)
    try:
        decide(found.id, current_user.id)
    except Refusal as refusal:
        return _wish_page(found.wish, status=refusal.status, refusal=refusal)
    flash(done_message(codes.formatted(found.wish.code)))
    if request.form.get("back") == "claims":
        return redirect(url_for(".claim_list"), 303)
    return redirect(url_for(".wish_page", wish_id=found.wish_id), 303)


@bp.post("/wishes/claims/<int:claim_id>/confirm")
@for_coordinators
def claim_confirm(claim_id):
    return _decide_claim(claim_id, wishes.confirm_claim,
                         lambda code: _("The claim of %(code)s is confirmed: it is being done.", code=code))


@bp.post("/wishes/claims/<int:claim_id>/release")
@for_coordinators
def claim_release(claim_id):
    return _decide_claim(claim_id, wishes.release_claim,
                         lambda code: _("The claim of %(code)s is released: the wish is back on the wall.",
                                        code=code))


# --- One request ----------------------------------------------------------------------------

def suggest_alias(name: str) -> str:
    """王芳 -> 王家: the family's initial, which staff may change."""
    name = normalise_name(name)
    return f"{name[0]}家" if name else ""


def suggest_area(building: str) -> str:
    """"3-2-401" or "3号楼2单元" -> "3号楼": the building only, never the door."""
    number = re.search(r"\d+", building or "")
    return f"{number.group(0)}号楼" if number else ""


def _building(wish: Wish) -> str:
    return wish.building_unit or wish.resident.building_unit or ""


# What each action may do in which status: the same lists kiosk.wishes checks, to show only
# the forms that can succeed (kiosk.wishes still refuses if the wish moved on meanwhile).
ALLOWED = {"publish": ("received", *wishes.ON_THE_WALL), "decline": ("received", "published"),
           "merge": ("received", "published"), "convert": ("received", "published"),
           "assign": ("received", "published", "in_progress"),
           "fulfil": ("published", "claimed", "in_progress")}


def _makers(wish: Wish, claim: Claim | None) -> dict:
    """How to make each action form of the wish page, with its suggestions and choices."""
    volunteers, units = wishes.volunteers(), wishes.partner_units()
    repairers = [v for v in volunteers if v.sub_team == "repair_skills"] if wish.kind == "repair" else volunteers
    doer = ""
    if claim is not None:
        doer = f"v{claim.volunteer_id}" if claim.volunteer_id else f"u{claim.partner_unit_id}"
    elif wish.assigned_volunteer_id:
        doer = f"v{wish.assigned_volunteer_id}"
    return {
        "publish": lambda **kw: PublishForm(**kw, alias=wish.alias or suggest_alias(wish.resident.name),
                                            area=wish.area or suggest_area(_building(wish))),
        "decline": DeclineForm, "merge": MergeForm, "convert": ConvertForm,
        "assign": lambda **kw: AssignForm(**kw, volunteers=repairers, volunteer=wish.assigned_volunteer_id),
        "fulfil": lambda **kw: FulfilForm(**kw, volunteers=volunteers, units=units, done_by=doer,
                                          done_on=hall_today().isoformat()),
    }


def _forms(wish: Wish, claim: Claim | None, given: dict) -> dict:
    """Every action form of the wish page, prefilled; `given` holds the one just sent back."""
    return {action: given.get(action) or make(formdata=None, prefix=action)
            for action, make in _makers(wish, claim).items()}


@dataclass(frozen=True)
class Event:
    """A line of a request's history: when (None: not recorded), what, by whom, and a note."""

    at: datetime | None
    what: str
    who: str = ""
    note: str = ""


def _history(wish: Wish, claims: list[Claim], fulfilment: Fulfilment | None, concern) -> list[Event]:
    """What happened to a request, in order, from what kiosk.wishes records.

    kiosk.wishes keeps the time of the decline and the merge nowhere, and keeps only the last
    reviewer (reviewed_by): those lines show the reviewer without a time.
    """
    ids = {c.decided_by_id for c in claims} | {getattr(concern, "created_by_id", None),
                                                 getattr(fulfilment, "recorded_by_id", None)}
    staff = {u.id: u.display_name for u in db.session.scalars(select(StaffUser).where(StaffUser.id.in_(ids - {None})))}
    reviewer = wish.reviewed_by.display_name if wish.reviewed_by else ""
    events = [Event(wish.created_at, _("Received"), wish.resident.name, words.CHANNELS.get(wish.channel, ""))]
    if wish.published_at:
        events.append(Event(wish.published_at, _("Put on the wall as “%(alias)s”, %(area)s",
                                                  alias=wish.alias, area=wish.area)))
    for c in claims:
        claimant = (c.volunteer or c.partner_unit).name
        events.append(Event(c.created_at, _("Claimed"), claimant, c.note))
        if c.decided_at:
            events.append(Event(c.decided_at, _("Claim confirmed") if c.status == "confirmed" else _("Claim released"),
                                staff.get(c.decided_by_id, ""), claimant))
    if concern is not None:
        events.append(Event(concern.created_at, _("Passed to the concerns ledger as concern #%(n)s", n=concern.id),
                            staff.get(concern.created_by_id, "")))
    if fulfilment is not None:
        events.append(Event(fulfilment.created_at, _("Fulfilled on %(date)s", date=format_date(fulfilment.done_on)),
                            staff.get(fulfilment.recorded_by_id, ""), fulfilment.what_was_done))
    if wish.rated_at:
        events.append(Event(wish.rated_at, _("Thanked the helpers"), wish.resident.name, wish.thanks))
    events.sort(key=lambda e: e.at)
    if wish.status == "declined":
        events.append(Event(None, _("Declined"), reviewer, wish.decline_reason))
    elif wish.status == "merged":
        events.append(Event(None, _("Merged into %(code)s", code=codes.formatted(wish.merged_into.code)), reviewer))
    elif wish.assigned_volunteer is not None:
        events.append(Event(None, _("Assigned to %(name)s", name=wish.assigned_volunteer.name), reviewer))
    return events


def _wish_page(wish: Wish, status=200, refusal=None, given=None):
    claim = wishes.live_claim(wish.id)
    claims = db.session.scalars(select(Claim).options(joinedload(Claim.volunteer), joinedload(Claim.partner_unit))
                                .where(Claim.wish_id == wish.id).order_by(Claim.created_at, Claim.id)).all()
    fulfilment, concern = wishes.fulfilment_of(wish.id), wishes.concern_of(wish.id)
    merged_here = db.session.scalars(select(Wish).where(Wish.merged_into_id == wish.id)
                                     .order_by(Wish.created_at)).all()
    return render("staff/wish_page.html", wish=wish, claim=claim, fulfilment=fulfilment, concern=concern,
                  history=_history(wish, claims, fulfilment, concern),
                  merged_here=merged_here, building=_building(wish),
                  allowed={a for a, statuses in ALLOWED.items() if wish.status in statuses},
                  forms=_forms(wish, claim, given or {}), refusal=refusal, status=status)


def _wish_or_404(wish_id: int) -> Wish:
    return db.get_or_404(Wish, wish_id, options=[joinedload(Wish.resident)])


@bp.get("/wishes/<int:wish_id>")
@for_coordinators
def wish_page(wish_id):
    return _wish_page(_wish_or_404(wish_id))


def _publish(wish, form):
    was = wish.status
    done = wishes.publish(wish.id, form.alias.data, form.area.data, current_user.id)
    if was == "received":
        return _("%(code)s is on the wall as “%(alias)s”, %(area)s.", code=codes.formatted(done.code),
                 alias=done.alias, area=done.area)
    return _("The alias and area of %(code)s are saved.", code=codes.formatted(done.code))


def _decline(wish, form):
    done = wishes.decline(wish.id, form.reason.data, current_user.id)
    return _("%(code)s is declined; the resident reads the reason on their receipt page.",
             code=codes.formatted(done.code))


def _merge(wish, form):
    done = wishes.merge(wish.id, form.into.data, current_user.id)
    return _("%(code)s is merged into %(into)s; its resident now follows that request.",
             code=codes.formatted(done.code), into=codes.formatted(done.merged_into.code))


def _convert(wish, form):
    concern = wishes.convert_to_concern(wish.id, form.category.data, current_user.id)
    return _("%(code)s is now concern #%(n)s in the concerns ledger.", code=codes.formatted(wish.code),
             n=concern.id)


def _assign(wish, form):
    done = wishes.assign(wish.id, form.volunteer.data, current_user.id)
    volunteer = done.assigned_volunteer
    return _("%(code)s is assigned to %(name)s. Send them their page: %(link)s",
             code=codes.formatted(done.code), name=volunteer.name, link=volunteer_link(volunteer))


def _fulfil(wish, form):
    volunteer_id, unit_id = who(form.done_by.data)
    photo = photos.save_photo(request.files.get(form.photo.name))
    try:
        wishes.fulfil(wish.id, wishes.Done(done_on=form.done_on.data, what_was_done=form.what_was_done.data or "",
                                           minutes=form.minutes.data, volunteer_id=volunteer_id,
                                           partner_unit_id=unit_id, photo=photo), current_user.id)
    except Refusal:
        photos.discard(photo)  # refused after all: keep no photo that nothing points to
        raise
    return _("%(code)s is fulfilled. The resident can now thank the helpers.", code=codes.formatted(wish.code))


ACTIONS = {"publish": _publish, "decline": _decline, "merge": _merge, "convert": _convert,
           "assign": _assign, "fulfil": _fulfil}


@bp.post("/wishes/<int:wish_id>/<any(publish, decline, merge, convert, assign, fulfil):action>")
@for_coordinators
def wish_action(wish_id, action):
    """One of the wish page's forms: publish (or edit alias and area), decline, merge, convert into a
    concern, assign to a volunteer, record fulfilment."""
    wish = _wish_or_404(wish_id)
    form = _makers(wish, wishes.live_claim(wish.id))[action](prefix=action)
    if form.validate_on_submit():
        try:
            message = ACTIONS[action](wish, form)
        except Refusal as refusal:
            if refusal.field and hasattr(form, refusal.field):
                _show_refusal(form, refusal)
            else:
                return _wish_page(wish, status=refusal.status, refusal=refusal, given={action: form})
        else:
            flash(message)
            return redirect(url_for(".wish_page", wish_id=wish.id), 303)
    return _wish_page(wish, status=422, given={action: form})


# --- Photos ---------------------------------------------------------------------------------

@bp.get("/photos/<name>")
@for_coordinators
def photo(name):
    """A request's or a fulfilment's photo, for staff only, never kept in a cache."""
    path = photos.path_of(name)
    if path is None:
        abort(404)
    response = send_file(path, mimetype="image/jpeg", conditional=False, etag=False, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- Volunteers and partner units -----------------------------------------------------------

def _search(stmt, q: str | None, *columns):
    """Rows where any of `columns` contains what was typed (a name, a number)."""
    q = normalise_name(q or "")
    return stmt.where(or_(*(c.contains(q, autoescape=True) for c in columns))) if q else stmt


def _volunteer_filters():
    form = PeopleFilterForm(request.args)
    return form, _search(select(Volunteer).order_by(Volunteer.team, Volunteer.name, Volunteer.id), form.q.data,
                         Volunteer.name, Volunteer.mobile, Volunteer.team)


@bp.get("/volunteers")
@for_coordinators
def volunteer_list():
    """The volunteers with what they did (requests fulfilled, hours), and the hours of each team."""
    form, stmt = _volunteer_filters()
    page = paginate(stmt, request.args.get("page"), current_app.config["PAGE_SIZE"])
    return render("staff/volunteer_list.html", block="volunteer_table", form=form, page=page,
                  done={v.id: (n, minutes) for v, n, minutes in wishes.hours_by_volunteer()},
                  teams=wishes.hours_by_team())


@bp.get("/volunteers.csv")
@for_coordinators
def volunteer_export():
    _form, stmt = _volunteer_filters()
    done = {v.id: (n, minutes) for v, n, minutes in wishes.hours_by_volunteer()}
    header = [_l("Name"), _l("Mobile number"), _l("Team"), _l("Sub-team"), _l("Confirmed"), _l("Active"),
              _l("Requests fulfilled"), _l("Minutes"), _l("Hours")]
    rows = ([v.name, v.mobile, v.team, wish_words.SUB_TEAMS[v.sub_team], _yes(v.confirmed_at), _yes(v.active),
             *_done(done.get(v.id))] for v in db.session.scalars(stmt))
    return csv_response("volunteers", header, rows)


def _yes(value) -> str:
    return _("Yes") if value else _("No")


def _done(counts):
    n, minutes = counts or (0, 0)
    return n, minutes, wish_words.hours(minutes)


def _partner_filters():
    form = PeopleFilterForm(request.args)
    return form, _search(select(PartnerUnit).order_by(PartnerUnit.name), form.q.data, PartnerUnit.name,
                         PartnerUnit.contact_name, PartnerUnit.contact_phone)


def _fulfilled_by_unit() -> dict[int, tuple[int, int]]:
    """Partner unit id -> (requests fulfilled, minutes)."""
    rows = db.session.execute(select(Fulfilment.partner_unit_id, func.count(), func.sum(Fulfilment.minutes))
                              .where(Fulfilment.partner_unit_id.is_not(None)).group_by(Fulfilment.partner_unit_id))
    return {unit_id: (n, int(minutes or 0)) for unit_id, n, minutes in rows}


@bp.get("/partners")
@for_coordinators
def partner_list():
    """The partner units (共建单位), who chairs the alliance when, and the wishes each fulfilled."""
    form, stmt = _partner_filters()
    page = paginate(stmt, request.args.get("page"), current_app.config["PAGE_SIZE"])
    return render("staff/partner_list.html", block="partner_table", form=form, page=page,
                  done=_fulfilled_by_unit())


@bp.get("/partners.csv")
@for_coordinators
def partner_export():
    _form, stmt = _partner_filters()
    done = _fulfilled_by_unit()
    header = [_l("Name of the unit"), _l("Contact person"), _l("Contact phone"), _l("Chairs the alliance in"),
              _l("Active"), _l("Requests fulfilled"), _l("Minutes"), _l("Hours")]
    rows = ([u.name, u.contact_name, u.contact_phone, u.chair_quarter, _yes(u.active), *_done(done.get(u.id))]
            for u in db.session.scalars(stmt))
    return csv_response("partner-units", header, rows)


@dataclass(frozen=True)
class People:
    """What differs between the volunteer and the partner unit pages."""

    model: type
    form: type
    template: str
    list_endpoint: str
    save: object  # (form, id or None) -> the saved row


PEOPLE = {
    "volunteers": People(Volunteer, VolunteerForm, "staff/volunteer_form.html", ".volunteer_list",
                         lambda f, id_: wishes.save_volunteer(f.name.data, f.mobile.data, f.team.data,
                                                              f.sub_team.data, f.active.data, id_)),
    "partners": People(PartnerUnit, PartnerForm, "staff/partner_form.html", ".partner_list",
                       lambda f, id_: wishes.save_partner_unit(f.name.data, f.contact_name.data, f.contact_phone.data,
                                                               f.chair_quarter.data, f.active.data, id_)),
}
_PEOPLE = "<any(volunteers, partners):people>"


def _row_or_404(people: People, row_id: int | None):
    return db.get_or_404(people.model, row_id) if row_id is not None else None


@bp.get(f"/{_PEOPLE}/new", defaults={"row_id": None})
@bp.get(f"/{_PEOPLE}/<int:row_id>")
@for_coordinators
def person_edit(people, row_id):
    """Add a volunteer or a partner unit, or change one."""
    spec = PEOPLE[people]
    row = _row_or_404(spec, row_id)
    return render(spec.template, form=spec.form(formdata=None, obj=row), row=row)


@bp.post(f"/{_PEOPLE}/new", defaults={"row_id": None})
@bp.post(f"/{_PEOPLE}/<int:row_id>")
@for_coordinators
def person_save(people, row_id):
    """Save a volunteer (one added by staff is confirmed at once, with their private page) or a unit."""
    spec = PEOPLE[people]
    row = _row_or_404(spec, row_id)
    form = spec.form()
    if form.validate_on_submit():
        try:
            saved = spec.save(form, row_id)
        except Refusal as refusal:
            _show_refusal(form, refusal)
        else:
            flash(_("“%(name)s” was saved.", name=saved.name))
            return redirect(url_for(spec.list_endpoint), 303)
    return render(spec.template, form=form, row=row, status=422)
