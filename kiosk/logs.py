"""Logs without residents' mobile numbers or anyone's password, wherever a log line comes from.

What reaches a log: gunicorn's access log (the request line, with its query string: the staff's
resident search puts a number there), werkzeug's request lines in development, gunicorn's error
log, and the app's own messages and tracebacks (a failed request's path; a database error's
message, whose SQL parameters the engine hides: see SQLALCHEMY_ENGINE_OPTIONS in config.py).
Request bodies, where mobile numbers and passwords travel, are logged by none of them.

One filter, on each of those loggers and on their handlers, rewrites a record before any
handler writes it: a mainland mobile number (11 digits starting with 1, also with the +86
prefix, in groups of 3-4-4, in full-width digits, or percent-encoded in an address) becomes
138****1234, and the value of a password field (password=…, 'password': '…') becomes [removed].
"""
import logging
import re
import unicodedata

from flask.logging import default_handler

# A digit as it may appear in a log line: ASCII, full-width (what a Chinese keyboard may type),
# or a full-width digit percent-encoded in an address (１ is %EF%BC%91).
_DIGIT = r"(?:[0-9\uff10-\uff19]|%EF%BC%9[0-9])"
_ONE = r"(?:1|\uff11|%EF%BC%91)"
# Between the groups of 138 0013 8000: a space (also + or %20 in a query string), a dash or dot.
_GAP = r"(?:[ .+\-\u3000]|%20|%2D)?"
_COUNTRY = rf"(?:(?:\+|%2B|\uff0b|00)?(?:86|\uff18\uff16){_GAP})?"
MOBILE = re.compile(
    rf"(?<![0-9\uff10-\uff19]){_COUNTRY}{_ONE}{_DIGIT}{{2}}{_GAP}{_DIGIT}{{4}}{_GAP}{_DIGIT}{{4}}(?!{_DIGIT})",
    re.IGNORECASE)

# Form fields that carry a password: password, password_again, new_password, current (the
# "your current password" box), and the usual spellings of other software.
_SECRET_KEY = r"\b(?:[\w-]*passw(?:or)?d[\w-]*|pwd|current)\b"
_QUOTED_SECRET = re.compile(rf"""({_SECRET_KEY}["']?\s*[:=]\s*)(["'])(.*?)\2""", re.IGNORECASE)
_BARE_SECRET = re.compile(rf"""({_SECRET_KEY}(?:=|["']?\s*:\s*))(?!["'])([^&\s"',;)}}\]]+)""", re.IGNORECASE)
REMOVED = "[removed]"


def _masked_number(match: re.Match) -> str:
    text = re.sub(r"%EF%BC%9([0-9])", r"\1", match.group(0), flags=re.IGNORECASE)
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", text))[-11:]
    return f"{digits[:3]}****{digits[-4:]}"


def scrub(text: str) -> str:
    """The text with mobile numbers masked and password values removed."""
    text = _QUOTED_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}{REMOVED}{m.group(2)}", text)
    text = _BARE_SECRET.sub(lambda m: f"{m.group(1)}{REMOVED}", text)
    return MOBILE.sub(_masked_number, text)


class PrivacyFilter(logging.Filter):
    """Rewrites each record in place (message, arguments and traceback text), so that every
    handler after it, whichever formatter it has, writes the scrubbed text."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's to report, not ours
            return True
        scrubbed = scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


PRIVACY = PrivacyFilter()

# Where log lines start: the app's logger ("kiosk"), the development server, gunicorn (in each
# worker, where it logs the requests), the rate limiter, SQLAlchemy (which logs parameters
# when echo is on), Alembic, and the root logger.
LOGGERS = ("kiosk", "werkzeug", "gunicorn.access", "gunicorn.error", "flask-limiter",
           "sqlalchemy", "sqlalchemy.engine", "alembic", "")


def install(logger_names=LOGGERS) -> None:
    """Put the filter on these loggers (records logged on them) and on their handlers (records
    from their child loggers, which pass the handlers but not the parents' logger filters).
    Adding it twice is harmless: a logger or handler keeps one copy."""
    for name in logger_names:
        logger = logging.getLogger(name)
        logger.addFilter(PRIVACY)
        for handler in logger.handlers:
            handler.addFilter(PRIVACY)
    default_handler.addFilter(PRIVACY)


def init_app(app):
    install((app.logger.name, *LOGGERS))
