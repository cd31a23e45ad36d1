"""How pages are rendered and served: full pages, htmx fragments, headers, the three surfaces."""
import re
import secrets
import uuid
from functools import lru_cache, wraps

from babel import support
from flask import Request, current_app, g, make_response, render_template, request, session
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.middleware.proxy_fix import ProxyFix
from wtforms.i18n import messages_path

from . import cache, freshness, lending, qr, settings
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


# Stand in for the visitor's own tokens in a kept page: private-use characters around a part drawn
# at random by each worker, so that no page has them by chance and nobody can type them into a
# name that a page shows.
_MARK = secrets.token_hex(8)
_CSRF_MARK = f"\ue000csrf-{_MARK}\ue000"
_CSRF_MARK_BYTES = _CSRF_MARK.encode()
_TOKEN_MARK = "\ue000token-" + _MARK + "-{}\ue000"
_TOKEN_MARKS = re.compile(_TOKEN_MARK.format(r"(\d+)").encode())  # hex and letters: no other pattern


def _kept(key: tuple, draw) -> str:
    """draw()'s HTML, kept per worker, language and data version (kiosk.freshness: a saved
    setting, such as the hall's name or the idle time, shows at once), and at most
    settings.CACHE_SECONDS.

    The one thing in it that is the visitor's own, the CSRF token of its forms, is cut out of
    the kept copy and the visitor's own put back each time.
    """
    def drawn() -> str:
        token = generate_csrf()
        return draw().replace(token, _CSRF_MARK)

    html = cache.remembered((*key, current_lang(), freshness.version()), settings.CACHE_SECONDS, drawn)
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
    token = str(uuid.uuid4())
    if "one_use_tokens" in g:  # a page being kept: each later visitor gets a token of their own
        g.one_use_tokens.append(token)
    return token


# --- Pages kept until the data changes ----------------------------------------------------

# What htmx says about the request, which decides whether a view answers with a part of its page.
_HX_HEADERS = ("HX-Request", "HX-Boosted", "HX-Target", "HX-Trigger", "HX-Trigger-Name")
# How far behind the clock a kept page may be (never behind the data).
KEPT_SECONDS = 10


def _visitor() -> str:
    """Everything of the visitor's own that a page may show or depend on: the session (the
    tablet's resident, the staff account, the language) but its CSRF token, which is put back
    into every page, and every other cookie (the phone's resident, the enrolled tablet)."""
    session_cookie = current_app.config["SESSION_COOKIE_NAME"]
    return repr((sorted((k, repr(v)) for k, v in session.items() if k != "csrf_token"),
                 sorted((k, v) for k, v in request.cookies.items(multi=True) if k != session_cookie)))


def kept_view(view):
    """Keep this GET view's page and serve it again, until anything in the hall's data changes.

    Drawing a page (its queries and its template) is most of what a resident's page costs; the
    same page is asked for again and again between two changes (the tablet's catalogue
    refreshes itself, sixty phones open the same course page the evening it opens). A kept page
    is served only while all of these are what they were when it was drawn:
    - the data: kiosk.freshness's version, which every committed write moves on, in any worker;
    - the whole address (host and query), the language, htmx's headers (a part or the whole page);
    - the visitor: their session and cookies (kept per visitor where they differ);
    - the day, and at most KEPT_SECONDS of the clock (a page may say "3 minutes ago", or that
      a class's registration opens at eight).
    Only a whole 200 page whose drawing changed nothing of the visitor's (their session, a cookie,
    a wrong code counted) is kept. Its CSRF token and one-use form tokens are cut out, and each
    visitor served from it gets their own.
    A visitor with a message waiting (a flash) is always drawn a fresh page, which shows it.
    """
    @wraps(view)
    def kept(*args, **kwargs):
        if request.method not in ("GET", "HEAD") or "_flashes" in session:
            return view(*args, **kwargs)
        visitor = _visitor()
        key = (request.endpoint, request.url, tuple(request.headers.get(h) for h in _HX_HEADERS),
               current_lang(), visitor, lending.hall_today(), freshness.version())
        found = cache.recall(key)
        if found is not None:
            return _served(*found)
        g.one_use_tokens = []
        g.pop("kept_until", None)  # what the page is made of says for how long (cache.keep)
        try:
            response = make_response(view(*args, **kwargs))
            if response.status_code == 200 and response.mimetype == "text/html" \
                    and not response.is_streamed and "Set-Cookie" not in response.headers \
                    and not g.get("wrong_code") and _visitor() == visitor:
                page = _kept_copy(response)
                cache.keep(key, KEPT_SECONDS, page, len(page[0]) + len(repr(key)))
        finally:
            g.pop("one_use_tokens")
        return response

    return kept


def _kept_copy(response) -> tuple:
    """The page as bytes (UTF-8: half or a quarter of what Python's str of a page with Chinese or
    an emoji takes), with the visitor's own tokens cut out."""
    body = response.get_data()
    if token := g.get("csrf_token"):  # where Flask-WTF keeps the token it put in this page
        body = body.replace(token.encode(), _CSRF_MARK_BYTES)
    for n, token in enumerate(g.one_use_tokens):
        body = body.replace(token.encode(), _TOKEN_MARK.format(n).encode())
    headers = [(k, v) for k, v in response.headers.items() if k != "Content-Length"]
    return body, response.status_code, headers


def _served(body: bytes, status: int, headers: list):
    if _CSRF_MARK_BYTES in body:
        body = body.replace(_CSRF_MARK_BYTES, generate_csrf().encode())
    fresh = {}  # one new token for each one the page had, wherever it stands in the page
    body = _TOKEN_MARKS.sub(lambda m: fresh.setdefault(m.group(1), new_token()).encode(), body)
    return make_response(body, status, headers)


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
