"""Languages: zh_Hans by default, bo and en; the choice is kept in the session.

On the hall tablet the idle reset clears the session, so the next resident starts in
the default language rather than in the last one's.
"""
from babel.dates import get_day_names
from flask import current_app, g, session
from flask_babel import Domain, format_date, format_datetime, get_locale

from .extensions import babel

# Each language shown in its own script, so a reader finds theirs without reading the others.
LANGUAGE_NAMES = {"bo": "བོད་ཡིག", "zh_Hans": "中文", "en": "English"}
HTML_LANG = {"zh_Hans": "zh-Hans", "bo": "bo", "en": "en"}


def select_locale() -> str:
    lang = session.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_lang() -> str:
    return str(get_locale() or "zh_Hans")


def ordinal(n: int) -> str:
    """3 -> "3rd" in English; the number as it is elsewhere (the sentence around it says 第…位)."""
    if current_lang() != "en":
        return str(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def weekday_names(days: str) -> str:
    """'5' -> 'Saturday', '01234' -> 'Monday, Tuesday, ...' in the page's language (Monday = 0)."""
    names = get_day_names("wide", locale=get_locale())
    # Chinese lists with the enumeration comma: 星期一、星期二.
    return ("、" if current_lang() == "zh_Hans" else ", ").join(names[int(d)] for d in days)


def clock(moment) -> str:
    """A time of day as the hall's notices write it: 9:00, 14:30 (the same in every language)."""
    return f"{moment.hour}:{moment.minute:02d}"


class _QuickDomain(Domain):
    """Flask-Babel's message domain, finding a request's catalogue once per request and language.

    Flask-Babel finds it again for every string (domain, context, locale, a cache keyed by
    str(locale)): 15-30 µs a string, on pages with hundreds of them (a tool's label, a loan's
    channel, every _() of a template). force_locale() swaps the locale object for a while, so
    the catalogue is kept with the locale it was found for.
    """

    def get_translations(self):
        if not g:  # no app context: Flask-Babel's own answer (no translation)
            return super().get_translations()
        locale = getattr(g.get("_flask_babel"), "babel_locale", None)
        found = g.get("_hall_catalogue")
        if found is not None and locale is not None and found[0] is locale:
            return found[1]
        translations = super().get_translations()  # also settles the locale on the first string
        g._hall_catalogue = (getattr(g.get("_flask_babel"), "babel_locale", None), translations)
        return translations


def init_app(app):
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories="translations")
    # Python's and the templates' _() both ask Flask-Babel's one Domain (babel.domain_instance).
    babel.domain_instance = _QuickDomain(domain=app.extensions["babel"].default_domain)
    app.jinja_env.globals.update(
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        html_lang=lambda: HTML_LANG.get(current_lang(), "zh-Hans"),
        current_lang=current_lang,
        format_date=format_date,
        format_datetime=format_datetime,
        ordinal=ordinal,
        weekday_names=weekday_names,
        clock=clock,
    )
