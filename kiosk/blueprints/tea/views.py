"""The afternoon tea at the table, and the concerns residents follow.

- The enrolled hall tablet (/kiosk/tea/): the tea whose window is open now, a QR that changes every
  TEA_QR_SECONDS for phones, the invited residents' names to tap, and a walk-in's sign-in. Any
  other device gets 403; at a phone's address these pages do not exist (404).
- A phone (/s/<token>, what the QR encodes: a public contract): the resident gives mobile + name.
- Anyone with a receipt code (/q/<code>, on phones and on the tablet): where a concern has got to.

Views are thin: who may sign in, and when, is decided by kiosk.tea; the ledger's rules by
kiosk.ledger. A concern's page shows its category, dates, status and plan, never who raised it,
what they said, or the staff's follow-up notes (they may name people).
"""
from functools import wraps

from flask import Blueprint, abort, make_response, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from ... import alliance, codes, ledger, limits, tea, visitor
from ...devices import hall_tablet_only
from ...extensions import db
from ...forms import CodeLookupForm, look_up_code, refusal_to_field
from ...models import Resident
from ...models.tea import TeaSession
from ...qr import concern_url, qr_svg, sign_in_qr, sign_in_url
from ...refusal import Refusal
from ...residents import identify_resident_now
from ...web import render, surface
from .forms import CONCERN_CATEGORY_WORDS, CONCERN_STATUS_WORDS, PhoneSignInForm, WalkInForm

bp = Blueprint("tea", __name__)

# The welcome on the tablet goes back to the list by itself after this many seconds: the next
# resident is already waiting at the table.
WELCOME_SECONDS = 8


@bp.context_processor
def _words():
    return {"CONCERN_CATEGORY_WORDS": CONCERN_CATEGORY_WORDS, "CONCERN_STATUS_WORDS": CONCERN_STATUS_WORDS}


# --- At the table, on the hall tablet ---------------------------------------------------------

def at_the_table(view):
    """The tea's tablet pages: only under /kiosk, only on the enrolled hall tablet (else 403)."""
    guarded = hall_tablet_only(view)

    @wraps(view)
    def wrapped(*args, **kwargs):
        if surface() != "kiosk":
            abort(404)
        return guarded(*args, **kwargs)
    return wrapped


def during_the_tea(view):
    """A tablet page about one session: 404 if there is none; back to the tea page (which says
    when the next one is) once its window has closed, or before it opens."""
    @at_the_table
    @wraps(view)
    def wrapped(session_id, **kwargs):
        session = db.get_or_404(TeaSession, session_id)
        if not tea.window_open(session):
            return _back_to_the_table()
        return view(session, **kwargs)
    return wrapped


def _back_to_the_table():
    url = url_for(".table")
    if request.headers.get("HX-Request") == "true":
        # The QR's refresh: a whole page, not the tea page inside the QR's box.
        response = make_response("")
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


@bp.get("/tea/")
@at_the_table
def table():
    """The tea whose window is open now, with the three ways to sign in; else when the next is."""
    session = tea.today_session()
    if session is not None:
        return render("tea/table.html", session=session)
    now = tea.hall_now()
    later = next((s for s in tea.upcoming(now.date()) if tea.window(s)[1] > now), None)
    return render("tea/none.html", later=later)


@bp.get("/tea/<int:session_id>/qr")
@during_the_tea
def qr(session):
    """A big QR for phones; the block asks for a new one every TEA_QR_SECONDS (htmx)."""
    token = tea.new_token(session.id)
    return render("tea/qr.html", block="qr", session=session, url=sign_in_url(token),
                  svg=sign_in_qr(token))


@bp.get("/tea/<int:session_id>/names")
@during_the_tea
def names(session):
    """The invited residents (name and masked mobile) as big buttons; who came is ticked."""
    signed = {record.resident_id for record in tea.sign_ins(session.id)}
    return render("tea/names.html", session=session, invitations=tea.invitations(session.id), signed=signed)


@bp.post("/tea/<int:session_id>/names/<int:resident_id>")
@during_the_tea
def tap_name(session, resident_id):
    """An invited resident taps their name. A second tap records nothing new."""
    try:
        _record, new = tea.sign_in(session.id, resident_id, "tablet")
    except Refusal:  # not on this tea's list: the button was never shown
        abort(404)
    return _welcome(session, db.session.get(Resident, resident_id), new,
                    back=url_for(".names", session_id=session.id))


@bp.get("/tea/<int:session_id>/walk-in")
@during_the_tea
def walk_in(session):
    """Someone who was not invited: mobile (number pad), name, building, consent."""
    return _walk_in_page(session, WalkInForm())


def _walk_in_page(session, form, status=200, refusal=None):
    return render("tea/walk_in.html", session=session, form=form, refusal=refusal, status=status)


@bp.post("/tea/<int:session_id>/walk-in")
@during_the_tea
def walk_in_submit(session):
    """Find or register the resident, then sign them in. The tablet remembers nobody."""
    form = WalkInForm()
    if not form.validate_on_submit():
        return _walk_in_page(session, form, status=422)
    try:
        resident = identify_resident_now(form.mobile.data, form.name.data, form.building_unit.data or None,
                                         consent=True)
    except Refusal as refusal:
        if refusal_to_field(form, refusal):
            return _walk_in_page(session, form, status=422)
        return _walk_in_page(session, form, status=refusal.status, refusal=refusal)
    _record, new = tea.sign_in(session.id, resident.id, "walk_in")
    return _welcome(session, resident, new, back=url_for(".table"))


def _welcome(session, resident, new, back=None):
    """"Welcome, …! You are signed in." On the tablet it goes back to `back` by itself."""
    return render("tea/welcome.html", session=session, resident=resident, new=new, back=back,
                  seconds=WELCOME_SECONDS)


# --- On a phone: what the QR opens ----------------------------------------------------------

def _scanned(view):
    """/s/<token> on a phone: the token's session, or a kind 400 page saying why not (too old,
    forged, outside the tea's window); nothing is recorded then. The tablet never scans itself."""
    @wraps(view)
    def wrapped(token):
        if surface() == "kiosk":
            abort(404)
        try:
            session = tea.session_for_token(token)
        except Refusal as refusal:
            if refusal.reason == "token_bad":  # not one of ours: a guess counts as a wrong code
                limits.count_wrong_code()
            return render("tea/refused.html", refusal=refusal, status=400)
        return view(session, token)
    return wrapped


@bp.get("/s/<token>")
@_scanned
def scan(session, token):
    """The tea's theme and place, and mobile + name (a phone that remembers its resident fills
    them in)."""
    form = PhoneSignInForm()
    resident = visitor.current_resident()
    if resident is not None:
        form.mobile.data, form.name.data = resident.mobile, resident.name
    return _scan_page(session, token, form)


def _scan_page(session, token, form, status=200, refusal=None):
    return render("tea/scan.html", session=session, token=token, form=form, refusal=refusal, status=status)


@bp.post("/s/<token>")
@_scanned
def phone_sign_in(session, token):
    """Sign in a resident the hall knows (the token is checked again: it may have expired)."""
    form = PhoneSignInForm()
    if not form.validate_on_submit():
        return _scan_page(session, token, form, status=422)
    try:
        resident = tea.known_resident(form.mobile.data, form.name.data)
    except Refusal as refusal:
        if refusal_to_field(form, refusal):
            return _scan_page(session, token, form, status=422)
        return _scan_page(session, token, form, status=refusal.status, refusal=refusal)
    _record, new = tea.sign_in(session.id, resident.id, "qr")
    response = _welcome(session, resident, new)
    visitor.remember(response, resident)
    return response


# --- A concern's status, by its receipt code ------------------------------------------------

@bp.get("/q")
def concern_start():
    """"I have a concern's receipt code": a look-up box."""
    return _lookup_page(CodeLookupForm())


def _lookup_page(lookup, status=200):
    return render("tea/concern_start.html", lookup=lookup, status=status)


@bp.get("/q/find")
def concern_find():
    """A resident types the receipt code of their concern."""
    return look_up_code(ledger.find, _l("We have no concern with this code. Please check the code."),
                        _lookup_page, lambda concern: url_for(".concern", code=concern.code))


@bp.get("/q/<code>")
def concern(code):
    """Where the concern has got to, in plain words, with the dates of its steps."""
    found = ledger.find(code)
    if found is None:
        abort(404)
    if code != found.code:  # typed in lower case or with its dash: the one spelling we print
        return redirect(url_for(".concern", code=found.code), 301)
    take_home = qr_svg(concern_url(found.code)) if surface() == "kiosk" else None
    return render("tea/concern.html", concern=found, formatted=codes.formatted(found.code),
                  steps=[step for step in found.steps if step.status], overdue=ledger.is_overdue(found),
                  resolutions=alliance.resolutions_of_concern(found.id),
                  take_home=take_home)
