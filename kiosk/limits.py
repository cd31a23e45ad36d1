"""Rate limits on the public pages, shared by every gunicorn worker (Flask-Limiter).

Two limits, counted per address (an IPv6 address per /64, the block one phone gets):

- Wrong codes: a page found by a code (a receipt, a tool label, a tea sign-in, a volunteer's
  key, or any /find box) that answers "no such code" counts one; at the limit, look-ups from
  that address are refused (a polite 429) until the window has moved on. Right codes do not
  count, so a resident who mistyped twice still gets in. Receipts and loans cannot be
  enumerated: codes are random (kiosk.codes: 31^8 of them) and the guesses are few.
- Public forms: every POST of a resident's flow (borrow, return, register, sign up, wish,
  claim, tea sign-in) counts one, so that a script cannot fill the hall's lists.

The enrolled hall tablet is exempt from both: it serves everyone at the hall, with staff
beside it. Staff pages are not limited here; logins have their own throttle, per name and per
address, kept in the database (kiosk.auth.authenticate), which every worker already shares.

Counts live in Redis when KIOSK_REDIS_URL is set (one count for all workers and restarts), in
each worker's memory otherwise (a development server, or a single worker). If Redis goes away
the limits fall back to memory and the hall keeps working: a broken counter never refuses a
resident.
"""
import ipaddress
import time

from flask import current_app, g, request
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded

from .devices import is_hall_tablet
from .errors import MESSAGES
from .web import render

# The residents' flows (each also registered at /kiosk as kiosk_<name>).
PUBLIC_BLUEPRINTS = frozenset({"tools", "classes", "wishes", "tea", "activities"})
# A page whose address carries one of these is a page found by a code.
CODE_ARGUMENTS = frozenset({"code", "receipt", "token", "key"})

# The limits are the config's WRONG_CODE_LIMIT and PUBLIC_FORM_LIMIT ("N per period; M per
# period", per address), chosen so that a real hall never meets them by accident. Many phones
# share one address on the hall's Wi-Fi, so the worst honest case is a busy afternoon there:
# - wrong codes, 30 in ten minutes and 200 a day: a resident mistypes a receipt code once or
#   twice; even sixty residents at a tea make a handful in ten minutes. Guessing needs far
#   more: with 10,000 live receipts among 31^8 codes, 200 guesses a day find one in about a
#   thousand years.
# - public forms, 200 in ten minutes and 2,000 a day: the tea's sixty sign-ins, or a room of
#   parents registering for a class the moment it opens, each send one or two forms within
#   minutes (about 120); a script cannot fill the hall's lists.


def client_address() -> str:
    """Who the limits count: the address (after ProxyFix when behind a proxy); an IPv6
    address by its /64, since one phone or home gets a whole /64 to pick addresses from."""
    address = request.remote_addr or "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _on_public_page() -> bool:
    return (request.blueprint or "").removeprefix("kiosk_") in PUBLIC_BLUEPRINTS


def looks_up_a_code() -> bool:
    """Is this request a page found by a code (or a box that finds one)?"""
    rule = request.url_rule
    if rule is None or not _on_public_page():
        return False
    return bool(CODE_ARGUMENTS & rule.arguments) or rule.rule.endswith("/find")


def count_wrong_code() -> None:
    """For a view that refuses a code without a 404 (a forged tea sign-in code): count it."""
    g.wrong_code = True


def _is_wrong_code(response) -> bool:
    return response.status_code == 404 or bool(g.get("wrong_code"))


def _wrong_codes_exempt() -> bool:
    return not looks_up_a_code() or is_hall_tablet()


def _public_forms_exempt() -> bool:
    return not _on_public_page() or is_hall_tablet()


def _refused(error: RateLimitExceeded):
    """The polite 429 in the page's language: the whole page, or for an htmx request (a fragment
    of the page) the message in the page's main area."""
    title, hint = MESSAGES[429]
    response = render("errors/error.html", block="content", code=429, title=title, hint=hint,
                      status=429)
    if request.headers.get("HX-Request") == "true":
        boosted = request.headers.get("HX-Boosted") == "true"
        response.headers["HX-Retarget"] = "body" if boosted else "#main"
        response.headers["HX-Reswap"] = "innerHTML"
    limit = limiter().current_limit
    if limit is not None:
        response.headers["Retry-After"] = str(max(int(limit.reset_at - time.time()), 1))
    return response


def limiter() -> Limiter:
    return current_app.extensions["kiosk_limiter"]


def init_app(app):
    # One Limiter per app, not one in kiosk.extensions: Flask-Limiter keeps its counter store
    # on the extension object, so one object bound to several apps (the tests make many)
    # would share their counts.
    storage = app.config.get("REDIS_URL") or "memory://"
    limiter = Limiter(
        client_address,
        application_limits=[
            ApplicationLimit(lambda: current_app.config["WRONG_CODE_LIMIT"], scope="wrong-code",
                             exempt_when=_wrong_codes_exempt, deduct_when=_is_wrong_code),
            ApplicationLimit(lambda: current_app.config["PUBLIC_FORM_LIMIT"], scope="public-form",
                             methods=["POST"], exempt_when=_public_forms_exempt),
        ],
        storage_uri=storage,
        # Several halls (or a test run) can share one Redis: each counts under its own prefix.
        key_prefix=app.config.get("RATE_LIMIT_PREFIX") or "hall-kiosk",
        # The exact count over the last ten minutes, not a fixed clock window that lets twice
        # the limit through around its edge.
        strategy="moving-window",
        in_memory_fallback_enabled=storage != "memory://",
        swallow_errors=True,
    )
    limiter.init_app(app)
    # Most requests are under neither limit (staff pages, the kiosk home, a tool's page read
    # by its label...): let them past before Flask-Limiter resolves its limits, which costs
    # more than some whole pages.
    limiter.request_filter(
        lambda: _wrong_codes_exempt() and (request.method != "POST" or _public_forms_exempt()))
    app.extensions["kiosk_limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, _refused)
