"""Every user-visible string is translated, and the app speaks each language.

The messages are extracted from the source as it is now (babel.cfg, the same keywords as the
extraction command in kiosk/translations/README.md), so a string added to a template or to Python
without running `make translations-update` and translating it fails here, naming the string.

- zh_Hans and en: every message translated, not fuzzy.
- bo: every message translated; fuzzy is allowed, because a Tibetan string stays fuzzy until a
  native speaker has reviewed it (it is still compiled in: `pybabel compile --use-fuzzy`).
- every translation keeps the msgid's %(name)s placeholders and has no stray % (a template
  %-formats every string it translates, so a literal % is written %%).
"""
import html
import os
import re
import tempfile
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "kiosk" / "translations"
LOCALES = ("zh_Hans", "bo", "en")
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}

# A named %-format placeholder (%(name)s, %(n)d, %(x).2f); the project uses no positional ones.
_SPEC = r"[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]"
NAMED = re.compile(r"%\((\w+)\)" + _SPEC)
NAMED_OR_ESCAPED = re.compile(r"%%|%\(\w+\)" + _SPEC)
TIBETAN = re.compile(r"[\u0F00-\u0FFF]")
HAN = re.compile(r"[\u4E00-\u9FFF]")


def _extract() -> dict:
    """{(msgid, context): (msgid_plural or None, ["file:line", ...])} for every message in the source."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, filename=str(ROOT / "babel.cfg"))
    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        singular, plural = (message[0], message[1]) if isinstance(message, (tuple, list)) else (message, None)
        if singular:
            found.setdefault((singular, context), (plural, []))[1].append(f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def extracted():
    found = _extract()
    assert len(found) > 50, "extraction found almost nothing: is babel.cfg still right?"
    return found


def _read(locale):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=locale)


@pytest.fixture(scope="module")
def catalogues():
    return {locale: _read(locale) for locale in LOCALES}


def _strings(message) -> tuple:
    return message.string if isinstance(message.string, (tuple, list)) else (message.string,)


def _problems(catalogue, extracted, *, fuzzy_ok):
    problems = []
    for (msgid, context), (plural, places) in sorted(extracted.items()):
        where = places[0]
        message = catalogue.get(msgid, context)
        if message is None:
            problems.append(f"missing ({where}): {msgid!r}")
            continue
        if plural is not None and (not message.pluralizable or message.id[1] != plural):
            problems.append(f"plural form differs from the source ({where}): {msgid!r}")
        strings = _strings(message)
        if message.pluralizable and len(strings) != catalogue.num_plurals:
            problems.append(f"{len(strings)} plural forms, not {catalogue.num_plurals}: {msgid!r}")
        if not all(s.strip() for s in strings):
            problems.append(f"not translated ({where}): {msgid!r}")
        elif message.fuzzy and not fuzzy_ok:
            problems.append(f"fuzzy ({where}): {msgid!r}")
    return problems


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
def test_every_string_is_translated_and_reviewed(locale, catalogues, extracted):
    problems = _problems(catalogues[locale], extracted, fuzzy_ok=False)
    assert not problems, (
        f"{locale}: {len(problems)} problem(s); run `make translations-update` and translate:\n"
        + "\n".join(problems))


def test_every_string_has_a_tibetan_translation(catalogues, extracted):
    """Tibetan may be fuzzy (not yet reviewed by a native speaker) but never empty."""
    problems = _problems(catalogues["bo"], extracted, fuzzy_ok=True)
    assert not problems, (
        f"bo: {len(problems)} problem(s); run `make translations-update` and translate:\n"
        + "\n".join(problems))


def _placeholders(text: str) -> set:
    return set(NAMED.findall(text))


def _clean(text: str) -> bool:
    """Every % is a named placeholder or %%: what Jinja's new-style gettext (Flask-Babel) needs,
    since a template %-formats every string, with or without arguments."""
    return "%" not in NAMED_OR_ESCAPED.sub("", text)


def test_template_strings_have_no_stray_percent_sign(extracted):
    """`{{ _("at 100% size") }}` renders as "at 100{}ize": a literal % in a template is written %%."""
    stray = [f"{places[0]}: {msgid!r}" for (msgid, _context), (plural, places) in sorted(extracted.items())
             if any(place.split(":")[0].endswith(".html") for place in places)
             and not all(_clean(text) for text in (msgid, plural) if text)]
    assert not stray, "write a literal % as %% in these template strings:\n" + "\n".join(stray)


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders(locale, catalogues):
    catalogue = catalogues[locale]
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if message.pluralizable else (message.id,)
        if not all(_clean(text) for text in ids):
            continue  # a stray % in the source: see test_template_strings_have_no_stray_percent_sign
        wanted = _placeholders(ids[0]) | _placeholders(ids[-1])
        for text in _strings(message):
            if not text:
                continue  # reported by the completeness tests
            if _placeholders(text) != wanted:
                problems.append(f"{message.id!r} → {text!r}: placeholders {sorted(_placeholders(text))}, "
                                f"expected {sorted(wanted)}")
            elif not _clean(text):
                problems.append(f"{message.id!r} → {text!r}: a % that is not a placeholder (write %%)")
    # What `pybabel compile` checks: an error there makes `make translations` (and so `make test`) fail.
    problems += [f"{message.id!r}: {error}" for message, errors in catalogue.check() for error in errors]
    assert not problems, f"{locale}:\n" + "\n".join(problems)


def test_tibetan_and_chinese_have_one_plural_form(catalogues):
    """CLDR: neither Tibetan nor Chinese distinguishes plurals, so ngettext needs one form."""
    for locale in ("zh_Hans", "bo"):
        assert catalogues[locale].num_plurals == 1, locale
        assert catalogues[locale].plural_expr == "0", locale


# --- The app in each language ---------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def compiled_catalogues():
    """Compile a catalogue whose .mo is missing or older than its .po, as `make translations` does.

    The .mo files are build output (git-ignored); this keeps a bare `pytest` after an edit of a
    .po honest. The write is atomic, so a server reading the file never sees half of it.
    """
    for locale in LOCALES:
        po = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        catalogue = _read(locale)
        fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalogue, use_fuzzy=True)
        os.replace(tmp, mo)


def _welcome(catalogues, locale) -> str:
    return catalogues[locale].get("Welcome to the service hall").string


def _page(client) -> str:
    response = client.get("/kiosk/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _switch(client, lang):
    response = client.post("/lang", data={"lang": lang, "next": "/kiosk/"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/kiosk/")


def test_the_kiosk_speaks_chinese_by_default(client, catalogues):
    page = _page(client)
    welcome = _welcome(catalogues, "zh_Hans")
    assert HAN.search(welcome)
    assert '<html lang="zh-Hans">' in page
    assert html.escape(welcome) in page
    assert "Welcome to the service hall" not in page


def test_the_kiosk_switches_to_tibetan(client, catalogues):
    _switch(client, "bo")
    page = _page(client)
    welcome = _welcome(catalogues, "bo")
    # The language switch always shows "བོད་ཡིག", so look for the translated heading itself.
    assert TIBETAN.search(welcome)
    assert '<html lang="bo">' in page
    assert html.escape(welcome) in page
    assert _welcome(catalogues, "zh_Hans") not in page


def test_the_kiosk_switches_to_english(client, catalogues):
    _switch(client, "en")
    page = _page(client)
    assert '<html lang="en">' in page
    assert "Welcome to the service hall" in page
    assert _welcome(catalogues, "zh_Hans") not in page


def test_an_unknown_language_keeps_the_current_one(client, catalogues):
    _switch(client, "fr")
    page = _page(client)
    assert '<html lang="zh-Hans">' in page
    assert html.escape(_welcome(catalogues, "zh_Hans")) in page
