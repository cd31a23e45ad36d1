"""Micro-wishes and help requests, as residents and helpers see them: on phones (/w, from the
poster's QR) and on the tablet (/kiosk/w, from the wishes tile).

Views are thin: they read forms, call kiosk.wishes and pick what to show. Every rule lives in
kiosk.wishes. What a public page may show of a request is decided here, once, in the templates
it renders: the status page shows the request's own words but never the name, mobile number,
building or photo; the wall shows only the alias and area staff chose. The one exception is a
volunteer's private page (/v/<key>), which shows what they need to visit the resident.
"""
import secrets
from functools import partial

from flask import Blueprint, abort, current_app, redirect, request, url_for
from babel.dates import format_timedelta
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from ... import codes, photos, visitor, wishes
from ...devices import is_hall_tablet
from ...extensions import db
from ...forms import CodeLookupForm, look_up_code, refusal_to_field
from ...models import Wish
from ...models.base import utcnow
from ...qr import qr_svg, wish_url
from ...refusal import Refusal
from ...residents import identify_resident_now
from ...web import kept_view, new_token, render, surface
from .forms import (CATEGORY_WORDS, KIND_WORDS, STARS, STATUS_WORDS, STEPS, ClaimForm,
                    ThanksForm, WishForm)

bp = Blueprint("wishes", __name__)

# A random id a phone keeps, so that the rate limit counts per phone (not per shared Wi-Fi address).
DEVICE_COOKIE = "device"
DEVICE_COOKIE_DAYS = 365


@bp.context_processor
def _words():
    return {"CATEGORY_WORDS": CATEGORY_WORDS, "KIND_WORDS": KIND_WORDS, "STATUS_WORDS": STATUS_WORDS,
            "STARS": STARS, "STEPS": STEPS, "age_of": partial(_age_of, locale=get_locale()),
            # What every card of the wall says of its category and kind.
            "NEEDS": _OncePerPage(lambda category: gettext("needs: %(what)s", what=CATEGORY_WORDS[category][1])),
            "KIND_NOUNS": _OncePerPage(lambda kind: str(KIND_WORDS[kind][2]))}


class _OncePerPage(dict):
    """Words a page repeats, each translated the first time the page shows it: the wall says
    "needs: school supplies" on many cards, and a translation costs more than the rest of a card."""

    def __init__(self, translate):
        super().__init__()
        self._translate = translate

    def __missing__(self, key):
        self[key] = words = self._translate(key)
        return words


def _age_of(moment, locale) -> str:
    """"3 days ago", in the page's language (Flask-Babel's own datetime path uses utcnow(),
    deprecated; the difference is taken here in the naive UTC the database keeps). Babel's own
    function with the page's locale looked up once: the wall shows an age on every card, and
    the lookup cost twice the formatting."""
    return format_timedelta(moment - utcnow(), add_direction=True, locale=locale)


# --- The start page and the receipt look-up ---------------------------------------------------

@bp.get("/w")
def start():
    """What the poster's QR opens (a public address): make a wish, ask for a repair or other
    help, see the wish wall, or look up a receipt."""
    return _start_page(CodeLookupForm())


def _start_page(lookup, status=200):
    return render("wishes/start.html", lookup=lookup, status=status)


@bp.get("/w/find")
def find():
    """A resident types their receipt code (on the tablet, or a phone that lost the page)."""
    return look_up_code(wishes.find_wish, _l("We have no request with this code. Please check the code."),
                        _start_page, lambda wish: url_for(".status", code=wish.code))


# --- Sending a request ------------------------------------------------------------------------

@bp.get("/w/new")
def new():
    """The form, on one screen. A phone fills in the resident it remembers; the tablet never."""
    kind = request.args.get("kind")
    form = WishForm(token=new_token(), kind=kind if kind in KIND_WORDS else "wish")
    resident = visitor.current_resident() if surface() != "kiosk" else None
    if resident is not None:
        form.name.data, form.mobile.data = resident.name, resident.mobile
        form.building_unit.data = resident.building_unit or ""
    return _form_page(form)


def _form_page(form, status=200, refusal=None):
    if form.kind.data not in KIND_WORDS:
        form.kind.data = "wish"
    response = render("wishes/form.html", form=form, refusal=refusal, status=status,
                      description_max=wishes.DESCRIPTION_MAX)
    _keep_device_id(response)
    return response


@bp.post("/w/new")
def submit():
    """Record the request. A double tap sends the same token twice and gets the same receipt.

    The form and the request's rules are checked before anything is kept; the photo (phones
    only) is then stripped and kept, the resident identified, and the request recorded.
    """
    form = WishForm()
    valid = form.validate_on_submit()
    wanted = wishes.Request(kind=form.kind.data or "", category=form.category.data or "",
                            description=form.description.data or "",
                            building_unit=form.building_unit.data or "",
                            visit_times=form.visit_times.data or "")
    try:
        wishes.check_request(wanted)
    except Refusal as refusal:
        if not refusal_to_field(form, refusal):
            return _form_page(form, status=422, refusal=refusal)
        valid = False
    if not valid:
        return _form_page(form, status=422)
    try:
        if surface() != "kiosk":  # the shared tablet has no camera field
            wanted.photo = photos.save_photo(request.files.get("photo"))
        resident = identify_resident_now(form.mobile.data, form.name.data, wanted.building_unit or None,
                                         form.consent.data)
        limited = not is_hall_tablet()
        wish = wishes.submit(resident.id, wanted, form.token.data, _channel(),
                             device=_device_id() if limited else "", limited=limited)
    except Refusal as refusal:
        photos.discard(wanted.photo)
        if refusal_to_field(form, refusal):
            return _form_page(form, status=422)
        return _form_page(form, status=refusal.status, refusal=refusal)
    if wish.photo != wanted.photo:  # a double tap: the first request kept its own photo
        photos.discard(wanted.photo)
    if surface() == "kiosk":
        # The tablet shows the receipt once, with a QR to take it home, then forgets.
        response = _status_page(wish, just_sent=True)
        visitor.forget(response)
        return response
    response = redirect(url_for(".status", code=wish.code), 303)
    visitor.remember(response, resident)
    return response


def _channel() -> str:
    # Only the enrolled tablet counts as the hall's kiosk; any other browser is a phone.
    return "kiosk" if surface() == "kiosk" and is_hall_tablet() else "phone"


def _device_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="wish-device")


def _signed_device_id() -> str | None:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        value = _device_serializer().loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def _device_id() -> str:
    """The phone's random id; without the cookie (a script, a phone refusing cookies), its address."""
    return _signed_device_id() or request.remote_addr or "unknown"


def _keep_device_id(response) -> None:
    if is_hall_tablet() or _signed_device_id() is not None:
        return
    response.set_cookie(DEVICE_COOKIE, _device_serializer().dumps(secrets.token_urlsafe(16)),
                        max_age=DEVICE_COOKIE_DAYS * 86400, httponly=True, samesite="Lax",
                        secure=request.is_secure or current_app.config["SESSION_COOKIE_SECURE"])


# --- The status page and the thanks -----------------------------------------------------------

def _wish_or_404(code: str) -> Wish:
    wish = wishes.find_wish(code)
    if wish is None:
        abort(404)
    return wish


@bp.get("/w/<code>")
def status(code):
    """The resident's status page (a public address, on the receipt): where the request is, in
    plain words. Whoever holds the code sent the request; still, no name, number or address."""
    wish = _wish_or_404(code)
    if code != wish.code:  # typed in lower case or with its dash: show the one spelling we print
        return redirect(url_for(".status", code=wish.code), 301)
    return _status_page(wish)


def _status_page(wish, thanks=None, just_sent=False, status=200, refusal=None):
    # A merged duplicate follows the request it joined, but keeps showing its own words:
    # the other request's description is another resident's.
    shown = wishes.followed(wish)
    if thanks is None and wish.status == "fulfilled" and wish.rated_at is None:
        thanks = ThanksForm()
    fulfilment = wishes.fulfilment_of(shown.id) if shown.status == "fulfilled" else None
    take_home = qr_svg(wish_url(wish.code)) if surface() == "kiosk" and just_sent else None
    return render("wishes/status.html", wish=wish, shown=shown, fulfilment=fulfilment, thanks=thanks,
                  refusal=refusal, formatted=codes.formatted(wish.code), take_home=take_home,
                  just_sent=just_sent, status=status)


@bp.post("/w/<code>/thanks")
def thank(code):
    """The resident's stars and a word of thanks, once the request is fulfilled."""
    wish = _wish_or_404(code)
    form = ThanksForm()
    if form.validate_on_submit():
        try:
            wishes.thank(wish.id, form.rating.data or 0, form.comment.data or "")
        except Refusal as refusal:
            if not refusal_to_field(form, refusal):
                return _status_page(wish, thanks=form, refusal=refusal, status=refusal.status)
        else:
            return redirect(url_for(".status", code=wish.code), 303)
    return _status_page(wish, thanks=form, status=422)


# --- The wish wall and claiming -------------------------------------------------------------

@bp.get("/w/wall")
@kept_view
def wall():
    """Published wishes under an alias and an area, never a name, number, address or photo.
    The description stays off the wall too: residents write personal details into it."""
    category = request.args.get("category")
    category = category if category in CATEGORY_WORDS else None
    return render("wishes/wall.html", wishes=wishes.wall(category), category=category)


def _on_the_wall_or_404(wish_id: int) -> Wish:
    wish = db.get_or_404(Wish, wish_id)
    if wish.status not in wishes.ON_THE_WALL:
        abort(404)
    return wish


@bp.get("/w/wall/<int:wish_id>/claim")
def claim_start(wish_id):
    """"I can help": a volunteer or a partner unit says who they are; staff then call them."""
    wish = _on_the_wall_or_404(wish_id)
    if wish.status != "published":
        return _claim_page(wish, None, taken=True, status=409)
    return _claim_page(wish, ClaimForm(token=new_token()))


def _claim_page(wish, form, taken=False, refusal=None, status=200):
    return render("wishes/claim.html", wish=wish, form=form, taken=taken, refusal=refusal, status=status)


@bp.post("/w/wall/<int:wish_id>/claim")
def claim(wish_id):
    """Offer to take a wish on. Two people at once: one claim; the other hears kindly it is taken."""
    wish = _on_the_wall_or_404(wish_id)
    form = ClaimForm()
    if not form.validate_on_submit():
        return _claim_page(wish, form, status=422)
    as_volunteer = form.who.data == "volunteer"
    try:
        wishes.claim(wish.id, form.token.data,
                     volunteer_mobile=form.mobile.data if as_volunteer else None,
                     volunteer_name=form.name.data if as_volunteer else None,
                     partner_unit_id=None if as_volunteer else form.partner_unit.data,
                     note=(form.note.data or "").strip())
    except Refusal as refusal:
        if refusal_to_field(form, refusal):
            return _claim_page(wish, form, status=422)
        return _claim_page(wish, form, taken=refusal.reason == "taken", refusal=refusal,
                           status=refusal.status)
    return render("wishes/claimed.html", wish=wish)


# --- A volunteer's own page -------------------------------------------------------------------

@bp.get("/v/<key>")
def volunteer(key):
    """The jobs given to a volunteer, with the name, mobile, address and visit times they need.

    Only the volunteer has the key (staff hand it to them). Never on the shared tablet: the
    next person at the screen must not see a resident's address.
    """
    if surface() == "kiosk":
        abort(404)
    helper = wishes.find_volunteer_by_key(key)
    if helper is None:
        abort(404)
    return render("wishes/volunteer.html", volunteer=helper, jobs=wishes.jobs_of(helper.id))
