"""Bad input never breaks a form, and good input comes back as it was typed.

Hypothesis posts generated values to every POST route of the app (walked from app.url_map, so a
form added later is fuzzed the day it is registered): 10,000-character strings, control
characters (NUL, escape, the right-to-left override), Tibetan and emoji text, full-width and other
look-alike digits, huge numbers, dates no calendar of the hall holds, missing, repeated and
unexpected fields, a file where text was expected, bytes that are not UTF-8, a JSON body.
Whatever comes, the answer is never a 5xx, nothing reaches the error log, and a page comes back
in the layout of the surface it was asked on (tablet, phone or back office).

Each route's fields are read from the form that posts to it on the app's own pages (names,
choices, the values a page fills in), or, where no page shows that form in the populated hall
(a button that appears only in another status), from the WTForms class its view builds. Every
route starts from the same populated hall (`populate`, one of everything): the rows are put back
between routes instead of building a new app per route or per example.

The round-trip properties then send valid values (Tibetan, emoji, CJK, full-width digits, long
ones up to each field's limit) through the real forms and read them back on the record's page and
in the database: unchanged, or normalised as the app documents it (names: NFKC and single spaces,
kiosk.residents.normalise_name; mobile numbers: kiosk.residents.normalise_mobile; free text:
stripped at both ends).

Both run on SQLite and on PostgreSQL: PostgreSQL refuses what SQLite quietly stores (a NUL in
text, a string longer than its column, an integer past 2**31), so a form that leaks such a value
to the database fails only there.
"""
import inspect
import logging
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import unescape
from html.parser import HTMLParser
from io import BytesIO
from urllib.parse import urlencode, urlsplit

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.routing import AnyConverter
from wtforms.fields.core import UnboundField

from kiosk import create_app
from kiosk.extensions import db
from tests.conftest import config_for, postgres_schema_url
from tests.test_security import ADMIN_PASSWORD, UNSAFE, identities, populate, surface_of, url_values

# A route's share of the run: enough examples to reach every field with each kind of bad value
# a few times, few enough that both databases stay within about two minutes.
EXAMPLES_PER_ROUTE = 25
ROUND_TRIP_EXAMPLES = 50

FUZZ = settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ROUND_TRIP = settings(FUZZ, max_examples=ROUND_TRIP_EXAMPLES)

# The cookies that make a browser someone (see tests.test_security.identities).
IDENTITY_COOKIES = ("session", "resident", "hall_tablet", "device", "remember_token")


# --- The routes ----------------------------------------------------------------------------

def _post_routes() -> list[str]:
    """Every rule that takes a POST (or PUT, PATCH, DELETE), as its text.

    A rule like /staff/tools/<id>/<any(repair, repaired, retire):action> is one route per word
    ("...:action>|repair"): each word is its own form and its own rule.
    """
    app = create_app(config_for("sqlite://"))
    keys = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not set(UNSAFE) & rule.methods:
            continue
        anys = [(name, sorted(c.items)) for name, c in rule._converters.items() if isinstance(c, AnyConverter)]
        words = anys[0][1] if anys else [None]
        keys += [f"{rule.rule}|{word}" if word else rule.rule for word in words]
    return sorted(set(keys))


ROUTES = _post_routes()


def _rule_and_word(app, key):
    text, _, word = key.partition("|")
    rule = next(r for r in app.url_map.iter_rules() if r.rule == text)
    return rule, word or None


def _build(app, rule, word):
    with app.app_context():  # a tea sign-in code is signed with the app's key
        values = url_values(rule)
        for name, converter in rule._converters.items():
            if isinstance(converter, AnyConverter) and word:
                values[name] = word
        return rule.build(values, append_unknown=False)[1]


def who_may_post(path: str) -> list[str]:
    """The visitors a route is for, the one most likely to get past its guards first."""
    if path == "/staff/login":
        return ["anonymous", "staff"]
    if path.startswith("/staff") or path.startswith("/kiosk/teach"):
        return ["admin", "staff"]
    if path.startswith("/kiosk"):
        return ["tablet", "anonymous"]
    return ["phone", "anonymous"]


# --- Reading a form's fields ---------------------------------------------------------------

@dataclass
class Field:
    name: str
    kind: str  # text, textarea, hidden, checkbox, radio, select, multi, file, number, date, time, password
    options: list = field(default_factory=list)
    value: str | None = None


class _FormReader(HTMLParser):
    """The POST forms of a page (and htmx buttons that post), with their fields."""

    def __init__(self, page_url):
        super().__init__(convert_charrefs=True)
        self.page_url, self.forms, self._form, self._select, self._textarea = page_url, [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if a.get("hx-post"):
            self.forms.append((a["hx-post"], {}))
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._form = (a.get("action") or self.page_url, {})
            self.forms.append(self._form)
            return
        if self._form is None or not a.get("name"):
            if tag == "option" and self._select is not None:
                self._select.options.append(a.get("value", ""))
                if "selected" in a:
                    self._select.value = a.get("value", "")
            return
        fields, name = self._form[1], a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            kind = {"search": "text", "tel": "text", "email": "text", "url": "text", "submit": "hidden",
                    "datetime-local": "date", "month": "date"}.get(kind, kind)
            known = fields.get(name)
            if known is not None and kind in ("checkbox", "radio"):
                known.options.append(a.get("value", "on"))
                if kind == "checkbox":
                    known.kind = "multi"  # several boxes of one name: a list of choices
                if "checked" in a:
                    known.value = a.get("value", "on")
                return
            fields[name] = Field(name, kind, [a.get("value", "on")] if kind in ("checkbox", "radio") else [],
                                 (a.get("value", "on") if "checked" in a else None)
                                 if kind in ("checkbox", "radio") else a.get("value"))
        elif tag == "button" and a.get("value") is not None:
            fields.setdefault(name, Field(name, "radio", []))
            fields[name].options.append(a["value"])
        elif tag == "select":
            self._select = fields[name] = Field(name, "multi" if "multiple" in a else "select")
        elif tag == "textarea":
            self._textarea = fields[name] = Field(name, "textarea", value="")

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            # A browser drops the newline that follows <textarea>.
            self._textarea.value = self._textarea.value.removeprefix("\r").removeprefix("\n")
            self._textarea = None


def forms_on(html: str, page_url: str) -> list[tuple[str, dict]]:
    reader = _FormReader(page_url)
    reader.feed(html)
    return [(urlsplit(unescape(action)).path, fields) for action, fields in reader.forms]


_KIND_OF_FIELD = {"StringField": "text", "TextAreaField": "textarea", "HiddenField": "hidden",
                  "BooleanField": "checkbox", "RadioField": "select", "SelectField": "select",
                  "SelectMultipleField": "multi", "DateField": "date", "IntegerField": "number",
                  "DecimalField": "number", "FloatField": "number", "FileField": "file",
                  "MultipleFileField": "file", "PasswordField": "password", "TimeField": "time",
                  "DateTimeLocalField": "date", "EmailField": "text", "TelField": "text"}


def fields_of_view(view) -> dict:
    """The fields of the WTForms classes a view builds, for a form no page showed."""
    view = inspect.unwrap(view)
    fields = {}
    for name in sorted(set(re.findall(r"\b([A-Z]\w*Form)\b", inspect.getsource(view)))):
        cls = view.__globals__.get(name)
        if not (isinstance(cls, type) and issubclass(cls, FlaskForm)):
            continue
        for attr in dir(cls):
            unbound = getattr(cls, attr, None)
            if isinstance(unbound, UnboundField):
                choices = unbound.kwargs.get("choices")
                options = [c[0] if isinstance(c, tuple) else getattr(c, "value", c) for c in choices] \
                    if isinstance(choices, (list, tuple)) else []
                fields[attr] = Field(attr, _KIND_OF_FIELD.get(unbound.field_class.__name__, "text"),
                                     [str(o) for o in options])
    return fields


# --- Values --------------------------------------------------------------------------------

TODAY = date.today()
_NUMBERS = iter(range(10**8, 10**9))  # new mobile numbers (the 9 digits after 13)
TIBETAN = st.text(st.characters(min_codepoint=0x0F00, max_codepoint=0x0FDA), min_size=1, max_size=30)
EMOJI = st.sampled_from(["🙂", "👨‍👩‍👧‍👦", "🇨🇳", "🏳️‍🌈", "🧑🏽‍🔧", "🛠️", "❤️‍🔥"]) | \
    st.text(st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF), min_size=1, max_size=8)
FULL_WIDTH = st.text(st.sampled_from("０１２３４５６７８９"), min_size=1, max_size=12) | st.sampled_from(
    ["１３８００１３８０００", "＋８６ １３８ ００１３ ８０００", "²", "١٢٣", "৩৪", "Ⅻ", "①", "𝟙𝟚", "７"])
HUGE_NUMBERS = st.sampled_from([str(10**30), "-1", "1e309", "-1e309", "inf", "NaN", "-0", "2147483648",
                                "9223372036854775808", "1.5", " 7 ", "0x1f", "1_000", "9" * 400, "+5"]) | \
    st.integers().map(str)
ODD_DATES = st.sampled_from(["0001-01-01", "9999-12-31", "10000-01-01", "2024-02-30", "2025-13-01",
                             "1900-01-01", "2100-01-01", "0000-00-00", "2024-1-1", "01/02/2024",
                             "-2024-01-01", "2024-06-01T10:00", "24:00", "25:61", "23:59:60", "-1:00"]) | \
    st.dates().map(date.isoformat)
CONTROL = st.sampled_from(["\x00", "a\x00b", "\x1b[2J", "\u202eevil", "\r\n\r\n", "\x7f", "\ufeff", "\u200b",
                           "\x08", "\x0c", "\u2028"]) | \
    st.text(st.characters(categories=["Cc", "Cf"]), min_size=1, max_size=10)
LONG = st.text(min_size=1, max_size=3).map(lambda s: (s * 10_000)[:10_000])
# Not UTF-8 at all: sent as raw bytes in a url-encoded body.
NOT_UTF8 = st.sampled_from([b"\xff\xfe", b"caf\xe9", b"\xc3", b"\xed\xa0\x80"])
NASTY = st.one_of(LONG, CONTROL, TIBETAN, EMOJI, FULL_WIDTH, HUGE_NUMBERS, ODD_DATES, NOT_UTF8,
                  st.sampled_from(["", " ", "\u3000", "<script>x</script>", "' OR 1=1 --", "../../etc/passwd",
                                   "%s%n", "{{7*7}}", "y", "on", "true", "None"]),
                  st.text(max_size=40))
# Fields no form has, as a form posted from elsewhere might carry (the app takes only its own).
EXTRA_NAMES = ["id", "role", "status", "resident_id", "staff_id", "active", "created_at", "admin", "code"]


@dataclass
class _File:
    """A file sent where the form expects text (or a photo that is no picture)."""

    data: bytes
    filename: str


NEW_PASSWORD = "a new password for the hall 42"


def plausible(f: Field, draw, fields: dict):
    """What a person filling in the form would send for the field: what the page shows
    (a chosen option, a value filled in), else a value of the kind the field's name asks for."""
    name = f.name.rsplit("-", 1)[-1]
    if name == "csrf_token":
        return None
    if name == "token":
        return str(draw(st.uuids()))
    if f.kind == "file":
        return None
    if f.kind in ("radio", "select", "checkbox") and f.options:
        chosen = [o for o in f.options if o] or [""]
        return f.value if f.value and draw(st.booleans()) else draw(st.sampled_from(chosen))
    if f.kind == "multi":
        return draw(st.lists(st.sampled_from(f.options), min_size=1, max_size=3, unique=True)) if f.options else []
    if f.value:
        return f.value
    if f.kind == "date" or name in ("day", "due_on") or name.endswith(("_on", "_day")):
        later = 30 if name.startswith(("ends", "last")) else draw(st.integers(0, 3))
        return (TODAY + timedelta(days=later)).isoformat()
    if f.kind == "time" or name.endswith("_at"):
        return "11:00" if name.startswith("ends") else "09:00"
    if "age" in name:
        return {"age_min": "6", "age_max": "12"}.get(name, "8")
    if f.kind == "number" or name.endswith(("_id", "days", "capacity", "households")):
        return str(draw(st.integers(1, 9)))
    if "mobile" in name or "phone" in name:  # resident 1's, or a new resident's
        return draw(st.sampled_from(["13800138000", "new"])).replace("new", f"13{next(_NUMBERS)}")
    if "quarter" in name:
        return f"{TODAY.year}-Q4"
    if name == "code":
        return f"NEW-{draw(st.integers(10, 99))}"
    if name == "username":
        return "admin" if "password_again" not in fields else f"user{draw(st.integers(10, 99))}"
    if name == "current" or (f.kind == "password" and "password_again" not in fields):
        return ADMIN_PASSWORD
    if f.kind == "password" or "password" in name:
        return NEW_PASSWORD
    if "name" in name:
        return draw(st.sampled_from(["次仁", "王芳", "བཀྲ་ཤིས།"]))
    return draw(st.sampled_from(["一些话", "བཀྲ་ཤིས་བདེ་ལེགས།", "a few words"]))


@st.composite
def submissions(draw, fields: dict):
    """(name, value) pairs: the form filled in as a person would, but for a few fields made bad,
    left out, repeated, or sent as a file; now and then a field the form does not have.

    Most fields stay good so that an example gets past the form to the rules and the database.
    """
    spoiled = set(draw(st.lists(st.sampled_from(sorted(fields)), max_size=3, unique=True))) if fields else set()
    pairs = []
    for f in fields.values():
        good = plausible(f, draw, fields)
        if f.name not in spoiled:
            pairs += [(f.name, v) for v in (good if isinstance(good, list) else [good]) if v is not None]
            continue
        one = good[0] if isinstance(good, list) and good else None if isinstance(good, list) else good
        how = draw(st.sampled_from(["bad", "missing", "repeated", "file"]))
        if how == "bad":
            pairs.append((f.name, draw(NASTY)))
        elif how == "repeated":
            pairs += [(f.name, one if one is not None and draw(st.booleans()) else draw(NASTY)),
                      (f.name, draw(NASTY))]
        elif how == "file":
            pairs.append((f.name, _File(draw(st.binary(max_size=64)), draw(st.sampled_from(["a.txt", "a.jpg", ""])))))
    for name in draw(st.lists(st.sampled_from(EXTRA_NAMES), max_size=2, unique=True)):
        pairs.append((name, draw(NASTY)))
    return pairs


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6)


def json_bodies(fields: dict):
    """A JSON body, as a script might send it: the form's names with values of any type, or
    not an object at all."""
    return (st.fixed_dictionaries({}, optional={name: JSON_VALUES for name in fields}) | JSON_VALUES).map(_Json)


@dataclass
class _Json:
    body: object


def post(client, url, pairs, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    if isinstance(pairs, _Json):
        return client.post(url, json=pairs.body, headers=headers)
    if any(isinstance(v, _File) for _n, v in pairs):
        data = MultiDict()
        for name, v in pairs:
            if isinstance(v, _File):
                v = (BytesIO(v.data), v.filename)
            elif isinstance(v, bytes):
                v = v.decode("latin-1")
            data.add(name, v)
        return client.post(url, data=data, content_type="multipart/form-data", headers=headers)
    body = urlencode([(n, v if isinstance(v, bytes) else v.encode("utf-8", "surrogatepass"))
                      for n, v in pairs])
    return client.post(url, data=body, content_type="application/x-www-form-urlencoded", headers=headers)


# --- The hall, and the errors it logs -------------------------------------------------------

class _Errors(logging.Handler):
    """Every ERROR the app (or anything under it) logs: an exception caught by the 500 page."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


class Hall:
    """The populated app, its visitors, and the forms its pages show."""

    def __init__(self, app):
        self.app = populate(app)
        self.masters = identities(self.app)
        self.pristine = self._rows()
        self.forms = self._read_forms()
        self.current = None
        self.errors = _Errors()
        logging.getLogger().addHandler(self.errors)

    def close(self):
        logging.getLogger().removeHandler(self.errors)
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()

    def _rows(self):
        with self.app.app_context(), db.engine.connect() as conn:
            return [(t, [dict(r._mapping) for r in conn.execute(select(t))]) for t in db.metadata.sorted_tables]

    def restore(self):
        """Every table back to the populated hall (ids included), and no cached settings."""
        with self.app.app_context():
            db.session.remove()
            with db.engine.begin() as conn:
                for table, _rows in reversed(self.pristine):
                    conn.execute(table.delete())
                for table, rows in self.pristine:
                    if rows:
                        conn.execute(table.insert(), rows)
        self.app.extensions.pop("kiosk_settings", None)

    def _read_forms(self):
        found = {}
        for who in ("admin", "tablet", "phone"):
            client = self.masters[who]
            for rule in sorted(self.app.url_map.iter_rules(), key=lambda r: r.rule):
                if "GET" not in rule.methods or rule.endpoint == "static" or "logout" in rule.rule:
                    continue
                anys = [sorted(c.items) for c in rule._converters.values() if isinstance(c, AnyConverter)]
                for word in anys[0] if anys else [None]:
                    url = _build(self.app, rule, word)
                    response = client.get(url)
                    if response.mimetype == "text/html" and response.status_code == 200:
                        for action, fields in forms_on(response.get_data(as_text=True), url):
                            found.setdefault(action, {}).update(
                                {k: v for k, v in fields.items() if k not in found.get(action, {})})
        return found

    def visitor(self, who):
        """A browser with the cookies of the master visitor, so a logout here ends no one else."""
        master, twin = self.masters[who], self.app.test_client()
        for name in IDENTITY_COOKIES:
            cookie = master.get_cookie(name)
            if cookie is not None:
                twin.set_cookie(name, cookie.decoded_value, domain=cookie.domain, path=cookie.path)
        return twin

    def route(self, key):
        """The route `key`: its url, and its fields from a page's form (or its view's form class)."""
        rule, word = _rule_and_word(self.app, key)
        url = _build(self.app, rule, word)
        if url in self.forms:
            return Route(key, url, self.forms[url], "page")
        return Route(key, url, fields_of_view(self.app.view_functions[rule.endpoint]), "form class")

    def at(self, key):
        """The route `key`, from the populated hall, with its visitors."""
        if self.current is None or self.current.key != key:
            self.restore()
            self.current = self.route(key)
            self.current.visitors = {who: self.visitor(who) for who in who_may_post(self.current.url)}
        return self.current


@dataclass
class Route:
    key: str
    url: str
    fields: dict
    source: str
    visitors: dict = field(default_factory=dict)


def _app_on(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'kiosk.sqlite'}"
    else:
        url = postgres_schema_url(request)
    # Limits that would turn every later example into a 429 are raised: this is about input.
    app = create_app(config_for(url, WISH_LIMIT_PER_MOBILE=10**6, WISH_LIMIT_PER_DEVICE=10**6,
                                LOGIN_MAX_FAILURES=10**6, RATELIMIT_ENABLED=False))
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def hall(request, tmp_path_factory):
    with cheap_passwords():
        hall = Hall(_app_on(request, tmp_path_factory))
        yield hall
        hall.close()


@contextmanager
def cheap_passwords():
    """argon2 at its lightest: every login and new password of the fuzzing would otherwise cost a
    quarter of a second (the hashing is tested in tests/test_auth.py, not here)."""
    from argon2 import PasswordHasher

    from kiosk import auth

    with pytest.MonkeyPatch.context() as patch:
        light = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        patch.setattr(auth, "_hasher", light)
        patch.setattr(auth, "_DUMMY_HASH", light.hash("not a password"))
        yield


# --- Bad input -----------------------------------------------------------------------------

LAYOUT = re.compile(r'<body[^>]*class="(kiosk|phone|staff)"')


def test_the_walk_finds_the_forms(hall):
    """Guard the guard: the fuzzing below must reach real forms, not post into the void."""
    from_pages = [key for key in ROUTES if hall.route(key).source == "page"]
    assert len(ROUTES) >= 90 and len(from_pages) >= 0.7 * len(ROUTES), (len(ROUTES), len(from_pages))
    wish = hall.route("/w/new")
    assert {"token", "kind", "category", "description", "photo", "mobile", "name", "consent"} <= set(wish.fields)
    assert wish.fields["category"].kind == "radio" and "school" in wish.fields["category"].options
    assert {"note", "day", "kind", "staff", "photo"} <= set(hall.route("/staff/worklog/new").fields)


def answered_cleanly(hall, route, response, htmx=False):
    """Never a 5xx, nothing in the error log, no traceback; a whole page in its surface's layout."""
    html = response.get_data(as_text=True)
    assert response.status_code < 500, (route.url, response.status_code)
    assert not hall.errors.records, [r.getMessage() for r in hall.errors.records]
    assert "Traceback" not in html
    if response.mimetype == "text/html" and not htmx and not 300 <= response.status_code < 400:
        layout = LAYOUT.search(html)
        assert layout and layout.group(1) == surface_of(route.url), (route.url, response.status_code)


@pytest.mark.parametrize("key", ROUTES)
@FUZZ
@given(data=st.data())
def test_no_input_breaks_a_form(hall, key, data):
    route = hall.at(key)
    who = data.draw(st.sampled_from(list(route.visitors)), label="who")
    as_json = data.draw(st.sampled_from([False, False, False, False, True]), label="json")
    pairs = data.draw(json_bodies(route.fields) if as_json else submissions(route.fields), label="form")
    htmx = data.draw(st.booleans(), label="htmx")
    hall.errors.records.clear()
    response = post(route.visitors[who], route.url, pairs, htmx)
    event(f"{response.status_code}")  # pytest --hypothesis-show-statistics: what the examples met
    answered_cleanly(hall, route, response, htmx)


# One of each kind of bad value, for every field of every form (the fuzzing above picks a few
# fields per example; this makes sure none is skipped): 10,000 characters of Tibetan and emoji,
# control characters, a number past any column, full-width digits, a date past the hall's years,
# and a name the form lets through that normalising makes too long.
EVERY_FIELD_GETS = ["ཀ🙂" * 5_000, "a\x00\x1b[2J\u202eb\x7f", str(10**30), "１３８００１３８０００", "9999-12-31",
                    "ﷺ" * 40]  # 40 characters that NFKC makes 720


@pytest.mark.parametrize("key", ROUTES)
@settings(FUZZ, max_examples=1, phases=[Phase.generate])  # a loop of posts: nothing to shrink
@given(data=st.data())
def test_every_field_of_a_form_takes_each_kind_of_bad_value(hall, key, data):
    route = hall.at(key)
    who = next(iter(route.visitors))
    for spoiled in [name for name in route.fields if name != "csrf_token"]:
        for bad in EVERY_FIELD_GETS:
            good = {f.name: plausible(f, data.draw, route.fields) for f in route.fields.values() if f.name != spoiled}
            pairs = [(name, v) for name, value in good.items()
                     for v in (value if isinstance(value, list) else [value]) if v is not None]
            pairs.append((spoiled, bad))
            hall.errors.records.clear()
            response = post(route.visitors[who], route.url, pairs, htmx=False)
            try:
                answered_cleanly(hall, route, response)
            except AssertionError as error:
                raise AssertionError(f"{route.url}: {spoiled}={bad[:40]!r}: {error}") from None


# --- Good input comes back as it was typed --------------------------------------------------

# What residents and staff type: Tibetan (letters, vowel signs, the tsheg and shad), Chinese,
# full-width digits from a Chinese keyboard, emoji (ZWJ families and flags too), and any other
# letter, mark, number, punctuation, symbol or space of Unicode.
_TYPED = st.one_of(
    st.characters(min_codepoint=0x0F00, max_codepoint=0x0FDA, categories=["L", "M", "N", "P", "S"]),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.characters(min_codepoint=0xFF10, max_codepoint=0xFF19),
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF, categories=["So", "Sk"]),
    st.characters(categories=["L", "M", "N", "P", "S", "Zs"]))
_PIECES = st.one_of(st.text(_TYPED, min_size=1, max_size=12),
                    st.sampled_from(["👨‍👩‍👧‍👦", "🇨🇳", "🧑🏽‍🔧", "བཀྲ་ཤིས་བདེ་ལེགས།", "１３８", "Ⅻ", " ", "　",
                                     "ﷺ", "㍿", "ﬃ"]))  # one character that NFKC makes many


def typed(max_size: int):
    """Text a person could type into a field that takes at most max_size characters, with
    something left after the ends are trimmed."""
    return st.lists(_PIECES, min_size=1, max_size=8).map("".join).map(lambda s: s[:max_size]) \
        .filter(lambda s: s.strip())


def mobiles():
    """A new mainland mobile number as people write it: plain, in full-width digits, in groups,
    with +86. Never one drawn before: the same number with another name would be refused."""
    def written(style):
        digits = f"13{next(_NUMBERS)}"
        if style == "full-width":
            return digits.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        if style == "groups":
            return f"{digits[:3]} {digits[3:7]}-{digits[7:]}"
        return f"+86 {digits}" if style == "+86" else digits
    return st.builds(written, st.sampled_from(["plain", "full-width", "groups", "+86"]))


def page_text(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return unescape(response.get_data(as_text=True))


@pytest.fixture(scope="module")
def staff_browser(hall):
    hall.restore()
    hall.current = None
    return hall.visitor("admin")


@ROUND_TRIP
@given(description=typed(500), name=typed(60), mobile=mobiles(), unit=typed(60))
def test_a_wish_and_its_resident_come_back_as_typed(hall, staff_browser, description, name, mobile, unit):
    from kiosk.models import Wish
    from kiosk.residents import NAME_MAX, normalise_mobile, normalise_name

    phone = hall.app.test_client()
    with phone.session_transaction() as session:
        session["lang"] = "en"
    response = post(phone, "/w/new", [
        ("token", str(uuid.uuid4())), ("kind", "repair"), ("category", "repair"), ("description", description),
        ("building_unit", unit), ("mobile", mobile), ("name", name), ("consent", "y")], htmx=False)
    if len(normalise_name(name)) > NAME_MAX:  # "ﷺ" is 18 letters once normalised: refused, not cut
        assert response.status_code == 422 and _errors_on(response) == ["Please write a shorter name."]
        return
    assert response.status_code == 303, (response.status_code, _errors_on(response))
    code = response.headers["Location"].rsplit("/", 1)[-1]
    with hall.app.app_context():
        wish = db.session.scalar(select(Wish).where(Wish.code == code))
        kept = (wish.id, wish.description, wish.building_unit, wish.resident.name, wish.resident.mobile,
                wish.resident_id)
    wish_id, kept_description, kept_unit, kept_name, kept_mobile, resident_id = kept
    assert kept_description == description.strip()
    assert kept_unit == unit.strip()
    assert kept_name == normalise_name(name)
    assert kept_mobile == normalise_mobile(mobile)
    assert description.strip() in page_text(phone, f"/w/{code}")  # the resident's own status page
    staff_page = page_text(staff_browser, f"/staff/wishes/{wish_id}")
    assert description.strip() in staff_page and normalise_name(name) in staff_page
    assert normalise_name(name) in page_text(staff_browser, f"/staff/residents/{resident_id}")


@ROUND_TRIP
@given(zh=typed(60), bo=typed(120), en=typed(60), days=st.integers(1, 60),
       full_width=st.booleans())
def test_a_kind_of_tool_comes_back_as_typed(hall, staff_browser, zh, bo, en, days, full_width):
    from kiosk.models import ToolKind

    typed_days = str(days).translate(str.maketrans("0123456789", "０１２３４５６７８９")) if full_width else str(days)
    response = post(staff_browser, "/staff/kinds/new", [
        ("name_zh", zh), ("name_bo", bo), ("name_en", en), ("pictogram", "🪚"), ("loan_days", typed_days)],
        htmx=False)
    assert response.status_code == 303, (response.status_code, _errors_on(response))
    with hall.app.app_context():
        kind = db.session.scalar(select(ToolKind).order_by(ToolKind.id.desc()))
        kept = (kind.id, kind.name_zh, kind.name_bo, kind.name_en, kind.loan_days)
    assert kept[1:] == (zh.strip(), bo.strip(), en.strip(), days)  # "３０" is 30 days
    page = page_text(staff_browser, f"/staff/kinds/{kept[0]}")
    assert all(name.strip() in page for name in (zh, bo, en))


@ROUND_TRIP
@given(description=typed(2000), answer=typed(500), place=typed(80))
def test_a_concern_comes_back_as_typed(hall, staff_browser, description, answer, place):
    from kiosk.models import Concern

    response = post(staff_browser, "/staff/concerns/new", [
        ("category", "roads_drains"), ("description", description), ("place", place), ("urgency", "normal"),
        ("source", "walk_in"), ("answer", answer), ("outcome", "answered")], htmx=False)
    assert response.status_code == 303, (response.status_code, _errors_on(response))
    concern_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    with hall.app.app_context():
        concern = db.session.get(Concern, concern_id)
        kept = (concern.description, concern.answer, concern.place)
    assert kept == (description.strip(), answer.strip(), place.strip())
    page = page_text(staff_browser, f"/staff/concerns/{concern_id}")
    assert description.strip() in page and answer.strip() in page


@ROUND_TRIP
@given(note=typed(1000), places=typed(200), households=st.integers(0, 500), full_width=st.booleans())
def test_a_work_log_note_comes_back_as_typed(hall, staff_browser, note, places, households, full_width):
    from kiosk.models import WorkLogEntry

    typed_households = str(households)
    if full_width:
        typed_households = typed_households.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    response = post(staff_browser, "/staff/worklog/new", [
        ("token", str(uuid.uuid4())), ("kind", "1"), ("places", places), ("households", typed_households),
        ("note", note), ("day", TODAY.isoformat()), ("staff", "1")], htmx=False)
    assert response.status_code == 303, (response.status_code, _errors_on(response))
    entry_id = int(re.search(r"/(\d+)", response.headers["Location"]).group(1))
    with hall.app.app_context():
        entry = db.session.get(WorkLogEntry, entry_id)
        kept = (entry.note, entry.places, entry.households)
    assert kept == (note.strip(), places.strip(), households)
    page = page_text(staff_browser, f"/staff/worklog/{entry_id}")
    assert note.strip() in page and places.strip() in page


def _errors_on(response) -> list[str]:
    """The messages next to the fields of a refused form, to say why in a failing example."""
    return [re.sub(r"<[^>]+>", "", m) for m in
            re.findall(r'<p class="error"[^>]*>(.*?)</p>', response.get_data(as_text=True), re.S)]



# --- What the fixes above decided, said once in plain examples ------------------------------

def test_a_nul_in_a_field_is_dropped_before_anything_reads_it(hall, staff_browser):
    """PostgreSQL refuses a NUL in text (the fuzzing found the 500); kiosk.web drops it from every
    query and form field, on both databases alike."""
    from kiosk.models import Concern

    response = post(staff_browser, "/staff/concerns/new", [
        ("category", "roads_drains"), ("description", "the drain\x00 at gate 2"), ("urgency", "normal"),
        ("source", "walk_in"), ("answer", "we called the\x00 street office"), ("outcome", "answered")], htmx=False)
    assert response.status_code == 303
    with hall.app.app_context():
        concern = db.session.get(Concern, int(response.headers["Location"].rsplit("/", 1)[-1]))
        assert (concern.description, concern.answer) == ("the drain at gate 2", "we called the street office")
    assert staff_browser.get("/staff/residents?q=%00").status_code == 200


@pytest.mark.parametrize("typed, read", [
    ("12", 12), ("１２", 12), (" 7 ", 7), ("2147483647", 2**31 - 1),
    ("²", None), ("①", None), ("-1", None), ("1e3", None), ("2147483648", None), ("9" * 10_000, None),
    ("", None), (None, None)])
def test_a_number_in_a_form_is_read_as_typed_or_not_at_all(typed, read):
    from kiosk.forms import whole_number

    assert whole_number(typed) == read
