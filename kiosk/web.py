"""How pages are rendered and served: full pages, htmx fragments, headers, the three surfaces."""
import uuid
from functools import lru_cache

from babel import support
from flask import Request, make_response, render_template, request
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.middleware.proxy_fix import ProxyFix
from wtforms.i18n import messages_path

from . import cache, qr, settings
from .i18n import current_lang

LAYOUTS = {"kiosk": "kiosk/layout.html", "phone": "phone/layout.html", "staff": "staff/layout.html"}


def surface() -> str:
    """Which of the three surfaces this request is for; shared templates extend its layout."""
    path = request.path
    if path.startswith("/kiosk"):
        return "kiosk"
    if path.startswith("/staff"):
        return "staff"
    return "phone"


def render(template: str, block: str | None = None, status: int = 200, **context):
    """Render the whole page, or only `block` when htmx asks for that part of it.

    One template serves both: the fragment is a block of the page, never a second copy.
    A boosted request (a link or form under hx-boost) gets the whole page.
    """
    if block and request.headers.get("HX-Request") == "true" and \
            request.headers.get("HX-Boosted") != "true":
        html = render_block(template, block, **context)
    else:
        html = render_template(template, **context)
    response = make_response(html, status)
    response.vary.add("HX-Request")
    return response


# Stands in for the visitor's CSRF token in a page kept by render_for_everyone.
_CSRF_MARK = "\ue000csrf\ue000"  # private-use characters: no page has them by chance


def _kept(key: tuple, draw) -> str:
    """draw()'s HTML, kept per worker and language for settings.CACHE_SECONDS (so a changed
    setting, such as the hall's name or the idle time, shows as soon as it would anyway).

    The one thing in it that is the visitor's own, the CSRF token of its forms, is cut out of
    the kept copy and the visitor's own put back each time.
    """
    def drawn() -> str:
        token = generate_csrf()
        return draw().replace(token, _CSRF_MARK)

    html = cache.remembered((*key, current_lang()), settings.CACHE_SECONDS, drawn)
    return html.replace(_CSRF_MARK, generate_csrf())


def render_for_everyone(template: str, **context):
    """A page that is the same for every visitor who reads it in one language (the hall tablet's
    home: four tiles), drawn once a while instead of on every visit.
    """
    if request.query_string:
        # Kept only as it is usually asked for: an address with a query would add a copy to the
        # shared store for every query anyone makes up, pushing out what is worth keeping.
        response = make_response(render_template(template, **context))
    else:
        html = _kept(("page", template, request.path), lambda: render_template(template, **context))
        response = make_response(html)
    response.vary.add("HX-Request")
    return response


def part_for_everyone(template: str) -> Markup:
    """A part of many pages that is the same for everyone in one language (the tablet's
    overlays), drawn once a while rather than into every page: drawing it cost more than some
    pages' own content."""
    return Markup(_kept(("part", template), lambda: render_template(template)))


def new_token() -> str:
    """A one-use token for a form that creates something, so that a double tap creates it once."""
    return str(uuid.uuid4())


class _Fields(ImmutableMultiDict):
    """A request's query and form fields, without NUL characters.

    No person types a NUL, and PostgreSQL refuses one in text (a 500 from any form or search box
    that received "%00"); SQLite would keep it. Dropped here, once, for every field of every form.
    """

    def __init__(self, mapping=None):
        if isinstance(mapping, list):  # what werkzeug's query and form parsers hand over
            mapping = [(k.replace("\x00", ""), v.replace("\x00", "") if isinstance(v, str) else v)
                       for k, v in mapping]
        super().__init__(mapping)


@lru_cache(maxsize=8)
def _wtforms_catalogue(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class HallRequest(Request):
    parameter_storage_class = _Fields

    @property
    def wtforms_translations(self) -> support.Translations:
        """WTForms' own messages ("Not a valid integer value.") in the page's language.

        Flask-WTF looks for them here first; without it, it reads them from disk again for every
        request that shows a form (about 165 µs). Read once per worker and language instead.
        """
        return _wtforms_catalogue(str(get_locale()))


def init_app(app):
    app.request_class = HallRequest
    if hops := app.config.get("BEHIND_PROXY"):
        # Trust X-Forwarded-For/-Proto/-Host from exactly this many proxies (see config.py).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.jinja_env.globals.update(
        csrf_token=generate_csrf,
        surface=surface,
        layout=lambda: LAYOUTS[surface()],
        setting=settings.get,
        hall_name=settings.hall_name,
        label_url=qr.label_url,
        part_for_everyone=part_for_everyone,
    )

    @app.after_request
    def _headers(response):
        h = response.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("X-Frame-Options", "DENY")
        # 'wasm-unsafe-eval' lets the tablet compile the QR decoder (our own vendored ZXing .wasm,
        # see static/js/scan.js); it allows WebAssembly only, not eval() or new Function().
        h.setdefault("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                     "script-src 'self' 'wasm-unsafe-eval'; frame-ancestors 'none'; form-action 'self'; "
                     "base-uri 'self'")
        if response.mimetype == "text/html":
            # Pages carry names and loans; the shared tablet's back button must not bring them back.
            h["Cache-Control"] = "no-store"
        return response
