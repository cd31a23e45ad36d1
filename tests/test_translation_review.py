"""The back office's "Tibetan to review" page: every Tibetan draft no native speaker has reviewed
(fuzzy in the bo catalogue) with its English and Chinese, counted, searchable, paged and as CSV;
open to staff and admins only.

That every message has a non-empty Tibetan translation (fuzzy allowed) is checked by
tests/test_catalogues.py (test_every_string_has_a_tibetan_translation), not again here.
"""
import csv
import html
import io
import os
import re
from math import ceil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from kiosk import translation_review
from kiosk.auth import create_staff
from tests.conftest import Hall
from tests.test_accounts import browser
from tests.test_security import STAFF_PASSWORD

TRANSLATIONS = Path(__file__).resolve().parent.parent / "kiosk" / "translations"
TEACHER_PASSWORD = "blackboard chalk 7"
COORDINATOR_PASSWORD = "helping hands 42"
PER_PAGE = 50

ROW = re.compile(r'<tr(?: class="is-draft")?>\s*<td lang="en">\s*(.*?)\s*(?:<span|</td>).*?'
                 r'<td lang="zh-Hans">(.*?)</td>\s*<td lang="bo">(.*?)</td>', re.S)


def _read(path):
    with open(path, "rb") as po:
        return read_po(po, locale=path.parent.parent.name)


def _first(text):
    return text[0] if isinstance(text, (tuple, list)) else text


def drafts(path=TRANSLATIONS / "bo" / "LC_MESSAGES" / "messages.po"):
    """(English, Tibetan) of every fuzzy entry, in the catalogue's order, as read_po gives them."""
    return [(_first(m.id), _first(m.string)) for m in _read(path) if m.id and m.fuzzy]


@pytest.fixture
def people(app):
    with app.app_context():
        Hall()  # the admin
        create_staff("worker", STAFF_PASSWORD, role="staff", display_name="Worker")
        create_staff("yangchen", TEACHER_PASSWORD, role="teacher", display_name="Ms Yangchen")
        create_staff("dawa", COORDINATOR_PASSWORD, role="coordinator", display_name="Dawa")
    return app


def rows(client, query="") -> list[tuple[str, str, str]]:
    """(English, Chinese, Tibetan) of the rows of every page of the list, following the pages."""
    found, number = [], 1
    while True:
        response = client.get(f"/staff/translations?page={number}{query}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        found += [tuple(html.unescape(cell) for cell in row) for row in ROW.findall(page)]
        if 'rel="next"' not in page:
            return found
        number += 1


@pytest.fixture
def edited(tmp_path, monkeypatch):
    """A copy of the catalogues in which the first three Tibetan sentences have been reviewed."""
    copies = {}
    for locale in ("bo", "zh_Hans"):
        copy = tmp_path / locale / "LC_MESSAGES" / "messages.po"
        copy.parent.mkdir(parents=True)
        copy.write_bytes((TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").read_bytes())
        copies[locale] = copy
    catalogue = _read(copies["bo"])
    for message in [m for m in catalogue if m.id][:3]:
        message.flags.discard("fuzzy")
    with open(copies["bo"], "wb") as po:
        write_po(po, catalogue)
    monkeypatch.setattr(translation_review, "catalogue_path", lambda locale: copies[locale])
    return copies["bo"]


# --- The list ---------------------------------------------------------------------------------

def test_the_page_lists_every_tibetan_draft_with_its_english_and_chinese(people):
    expected = drafts()
    assert len(expected) > 100  # the whole catalogue, not a sample
    chinese = _read(TRANSLATIONS / "zh_Hans" / "LC_MESSAGES" / "messages.po")
    listed = rows(browser(people))
    assert [(english, tibetan) for english, _zh, tibetan in listed] == expected
    for english, zh, _bo in listed[:200]:
        message = next(m for m in chinese if m.id and _first(m.id) == english)
        assert zh == _first(message.string)


def test_the_count_says_how_many_sentences_a_native_speaker_has_reviewed(people):
    catalogue = [m for m in _read(TRANSLATIONS / "bo" / "LC_MESSAGES" / "messages.po") if m.id]
    reviewed = sum(1 for m in catalogue if not m.fuzzy)
    page = browser(people).get("/staff/translations").get_data(as_text=True)
    assert f"{reviewed} of {len(catalogue)} Tibetan sentences reviewed" in page
    assert f"1–{min(PER_PAGE, len(catalogue) - reviewed)} of {len(catalogue) - reviewed}" in page
    assert f"Page 1 of {ceil((len(catalogue) - reviewed) / PER_PAGE)}" in page


def test_reviewed_sentences_leave_the_list_once_their_flag_is_gone(people, edited):
    catalogue = [m for m in _read(edited) if m.id]
    client = browser(people)
    page = client.get("/staff/translations").get_data(as_text=True)
    assert f"3 of {len(catalogue)} Tibetan sentences reviewed" in page
    listed = [english for english, _zh, _bo in rows(client)]
    assert listed == [english for english, _bo in drafts(edited)]
    assert not {_first(m.id) for m in catalogue[:3]} & set(listed)
    # "All sentences" shows the reviewed ones too.
    everything = rows(client, "&show=all")
    assert [english for english, _zh, _bo in everything] == [_first(m.id) for m in catalogue]


def test_the_catalogue_is_read_again_when_the_file_changes(people, edited):
    with people.test_request_context():
        first = translation_review.review()
        assert translation_review.review() is first  # read once per process
        catalogue = _read(edited)
        for message in [m for m in catalogue if m.id][3:5]:
            message.flags.discard("fuzzy")
        with open(edited, "wb") as po:
            write_po(po, catalogue)
        later = edited.stat().st_mtime_ns + 1_000_000_000
        os.utime(edited, ns=(later, later))  # a deploy: the file is newer
        again = translation_review.review()
        assert (first.reviewed, again.reviewed) == (3, 5)


# --- Search, pages, CSV -------------------------------------------------------------------------

@pytest.mark.parametrize("words", ["waiting list", "WAITING LIST", "候补", "སྒུག་ཐོ"])
def test_search_finds_the_sentences_in_any_of_the_three_languages(people, words):
    chinese = {_first(m.id): _first(m.string)
               for m in _read(TRANSLATIONS / "zh_Hans" / "LC_MESSAGES" / "messages.po") if m.id}
    wanted = [english for english, tibetan in drafts()
              if words.casefold() in english.casefold() or words in chinese.get(english, "") or words in tibetan]
    assert 1 <= len(wanted) < len(drafts())
    found = rows(browser(people), f"&q={words}")
    assert [english for english, _zh, _bo in found] == wanted


def test_a_search_for_nothing_known_says_so(people):
    page = browser(people).get("/staff/translations?q=no+such+sentence+anywhere").get_data(as_text=True)
    assert "Nothing found." in page
    assert not ROW.search(page)


def test_htmx_search_gets_only_the_table(people):
    response = browser(people).get("/staff/translations?q=waiting+list", headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True).strip()
    assert fragment.startswith('<div id="translation-table">')
    assert "<h1>" not in fragment and ROW.search(fragment)


def test_a_page_past_the_end_shows_the_last_page(people):
    last = ceil(len(drafts()) / PER_PAGE)
    page = browser(people).get("/staff/translations?page=9999").get_data(as_text=True)
    assert f"Page {last} of {last}" in page


def test_the_csv_has_every_draft_for_the_reviewer_to_fill_in(people):
    response = browser(people).get("/staff/translations.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "tibetan-to-review-" in response.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header, body = table[0], table[1:]
    assert header == ["Context", "English", "English (plural)", "Chinese", "Tibetan draft",
                      "Draft is right (yes/no)", "Corrected Tibetan", "Reviewer's note"]
    assert [(row[1], row[4]) for row in body] == drafts()
    assert all(row[5:] == ["", "", ""] for row in body)  # for the reviewer
    plural = next(row for row in body if row[2])
    assert "%(num)s" in plural[2]


def test_the_csv_follows_the_search(people):
    body = list(csv.reader(io.StringIO(
        browser(people).get("/staff/translations.csv?q=waiting+list").get_data(as_text=True).lstrip("\ufeff"))))[1:]
    assert body and all("waiting list" in row[1].casefold() or "waiting list" in row[2].casefold() for row in body)


# --- Who may open it ----------------------------------------------------------------------------

def test_staff_find_it_in_the_menu(people):
    page = browser(people, "worker", STAFF_PASSWORD).get("/staff/translations")
    assert page.status_code == 200
    assert 'href="/staff/translations">Tibetan to review</a>' in page.get_data(as_text=True)


@pytest.mark.parametrize("username,password", [("yangchen", TEACHER_PASSWORD), ("dawa", COORDINATOR_PASSWORD)])
def test_teachers_and_coordinators_are_refused(people, username, password):
    client = browser(people, username, password)
    for path in ("/staff/translations", "/staff/translations.csv"):
        assert client.get(path).status_code == 403, path
    assert "/staff/translations" not in client.get("/staff/account/password").get_data(as_text=True)


def test_a_visitor_who_is_not_logged_in_is_sent_to_log_in(people):
    for path in ("/staff/translations", "/staff/translations.csv"):
        response = people.test_client().get(path)
        assert response.status_code in (302, 303), path
        assert "/staff/login" in response.headers["Location"]
