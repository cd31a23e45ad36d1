"""Friendly error pages in the layout of the surface the person was on, also for htmx requests.

No stack trace ever reaches a page; the 500 handler logs it for the staff's technician.
"""
from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db
from .web import render

MESSAGES = {
    400: (_l("Something in the request was not right"),
          _l("Please go back and try again.")),
    403: (_l("This page is not for this device or account"),
          _l("Please ask the staff if you need it.")),
    404: (_l("We could not find this page"),
          _l("The address may be mistyped, or the item no longer exists.")),
    405: (_l("This page cannot be used this way"), _l("Please go back and try again.")),
    # More than MAX_CONTENT_LENGTH: werkzeug refuses the request before reading it (a huge photo).
    413: (_l("This is too large to send"), _l("Please go back and choose a smaller photo.")),
    429: (_l("Too many tries"), _l("Please wait a little and try again.")),
    500: (_l("Something went wrong on our side"),
          _l("Nothing you entered is your fault. Please try again, or ask the staff.")),
}


def _page(code: int):
    title, hint = MESSAGES.get(code, MESSAGES[500 if code >= 500 else 400])
    response = render("errors/error.html", code=code, title=title, hint=hint, status=code)
    if request.headers.get("HX-Request") == "true":
        # A fragment request expects a small piece back; show the error in the page body instead.
        response.headers["HX-Retarget"] = "body"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


def init_app(app):
    @app.errorhandler(CSRFError)
    def _csrf(error):
        return _page(400)

    @app.errorhandler(HTTPException)
    def _http(error):
        if error.code is None or error.code < 400:
            return error
        return _page(error.code)

    @app.errorhandler(Exception)
    def _unexpected(error):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return _page(InternalServerError.code)
