"""The hall's settings that staff change on the settings page, over the configured defaults.

A value saved on the page is a row in `setting`; without one, the configuration (defaults,
instance/config.py, KIOSK_* variables) decides. Every worker reads the rows again once anything
in the hall's data has changed (kiosk.freshness), so a saved setting shows from the next request
on, in every worker, with no restart.
"""
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from . import cache, freshness
from .database import write_transaction
from .extensions import db
from .models import Setting
from .refusal import Refusal

# How long the parts of pages drawn from settings alone may be kept (kiosk.web._kept), as a bound
# beside the data version.
CACHE_SECONDS = 5


@dataclass(frozen=True)
class Spec:
    key: str  # the configuration key it overrides
    label: object
    kind: type = int  # int or str
    low: int = 0
    high: int = 0
    max_length: int = 80
    hint: object = ""


SPECS = (
    Spec("HALL_NAME_ZH", _l("The hall's name in Chinese"), str),
    Spec("HALL_NAME_BO", _l("The hall's name in Tibetan"), str, max_length=160),
    Spec("HALL_NAME_EN", _l("The hall's name in English"), str),
    Spec("BASE_URL", _l("Base address"), str, max_length=200,
         hint=_l("Printed in every QR code, like https://hall.example.cn. Labels already printed keep the old address.")),
    Spec("DEFAULT_LOAN_DAYS", _l("Loan period for new tool kinds (days)"), int, 1, 90),
    Spec("MAX_OPEN_LOANS", _l("Tools one resident may hold at once"), int, 1, 10),
    Spec("KIOSK_IDLE_SECONDS", _l("Seconds before the tablet asks “Still there?”"), int, 20, 600),
    Spec("WISH_LIMIT_PER_MOBILE", _l("Requests a mobile number may send a day"), int, 1, 50),
    Spec("WISH_LIMIT_PER_DEVICE", _l("Requests a phone may send a day"), int, 1, 100),
    Spec("LOGIN_MAX_FAILURES", _l("Failed logins before an account waits 15 minutes"), int, 3, 50),
    Spec("RETENTION_YEARS", _l("Anonymise residents inactive for (years, 0 = never)"), int, 0, 30),
)
BY_KEY = {spec.key: spec for spec in SPECS}


def _overrides() -> dict:
    # Read again only when the data version has moved: a page kept whole (kiosk.web.kept_view)
    # under a version must show the settings of that version, whichever worker saved them.
    version = freshness.version()
    kept = current_app.extensions.get("kiosk_settings")
    if kept is None or kept["version"] != version:
        rows = db.session.execute(select(Setting.key, Setting.value)).all()
        kept = {"version": version,
                "values": {key: _parse(BY_KEY[key], value) for key, value in rows if key in BY_KEY}}
        current_app.extensions["kiosk_settings"] = kept
    return kept["values"]


def _forget():
    current_app.extensions.pop("kiosk_settings", None)
    cache.forget_all()  # pages kept whole show settings too (the tablet's idle time, the name)


def _parse(spec: Spec, text: str):
    return int(text) if spec.kind is int else text


def get(key: str):
    """The setting's value: saved on the settings page, else configured."""
    overrides = _overrides()
    if key in overrides:
        return overrides[key]
    return current_app.config[key]


def current() -> dict:
    return {spec.key: get(spec.key) for spec in SPECS}


def base_url() -> str:
    """Where the hall's public pages are reached: every QR code starts with it."""
    return str(get("BASE_URL")).rstrip("/")


def hall_name() -> str:
    """The hall's name in the page's language."""
    lang = str(get_locale() or "zh_Hans")
    key = {"bo": "HALL_NAME_BO", "en": "HALL_NAME_EN"}.get(lang.split("_")[0], "HALL_NAME_ZH")
    return get(key) or get("HALL_NAME_ZH")


def check(key: str, raw) -> object:
    """The value as stored, or a Refusal naming the field."""
    spec = BY_KEY[key]
    text = str(raw if raw is not None else "").strip()
    if spec.kind is int:
        if not re.fullmatch(r"[0-9]{1,6}", text) or not spec.low <= int(text) <= spec.high:
            raise Refusal("range", _l("Enter a whole number from %(low)s to %(high)s.", low=spec.low,
                                      high=spec.high), field=key)
        return int(text)
    if not text:
        raise Refusal("empty", _l("Please fill this in."), field=key)
    if len(text) > spec.max_length:
        raise Refusal("long", _l("At most %(num)s characters.", num=spec.max_length), field=key)
    if key == "BASE_URL":
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise Refusal("url", _l("Enter an address starting with https:// or http://, like https://hall.example.cn."),
                          field=key)
        text = text.rstrip("/")
    return text


def problems(values: dict) -> dict:
    """{key: Refusal} for every value that cannot be saved (empty when all can)."""
    found = {}
    for key, raw in values.items():
        if key in BY_KEY:
            try:
                check(key, raw)
            except Refusal as refusal:
                found[key] = refusal
    return found


def save(values: dict) -> dict:
    """Check every value, then store those that differ from now; {key: (before, after)} of the changes.

    Either all are saved or none (the first Refusal stops the save; `problems` lists them all)."""
    checked = {key: check(key, raw) for key, raw in values.items() if key in BY_KEY}
    changed = {}
    with write_transaction() as s:
        for key, value in checked.items():
            before = get(key)
            if value == before:
                continue
            row = s.get(Setting, key)
            if row is None:
                row = Setting(key=key, value=str(value))
                row.audit_replaces = {"value": str(before)}  # the audit log shows the default it replaced
                s.add(row)
            else:
                row.value = str(value)
            changed[key] = (before, value)
    _forget()
    return changed
