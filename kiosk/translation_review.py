"""The Tibetan sentences no native speaker has reviewed yet, for the back office to list.

Every Tibetan sentence starts as a draft (by staff, a helper or a machine) marked fuzzy in
translations/bo/LC_MESSAGES/messages.po; it loses the flag when a native speaker has checked it
(kiosk/translations/README.md). Fuzzy drafts are still shown to residents (`make translations`
compiles them in), so the flag is only the review's to-do list, and this module reads it.

It reads the .po sources that ship with the app (the Tibetan one and, beside each sentence, the
Chinese one, which staff read), never the compiled .mo files, which drop the fuzzy flag. It only
reads: corrections come back through a developer and a deploy (see the review page,
blueprints/staff/translations.py, for why the server never writes its own catalogue).
"""
import threading
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po
from flask import current_app

TIBETAN, CHINESE = "bo", "zh_Hans"


@dataclass(frozen=True)
class Sentence:
    """One entry of the Tibetan catalogue, with its English source and its Chinese translation."""
    english: str
    english_plural: str | None  # an ngettext entry's plural; Tibetan and Chinese need one form only
    context: str | None  # a pgettext context, when the same English means two things
    chinese: str
    tibetan: str
    fuzzy: bool  # a draft no native speaker has reviewed yet

    @property
    def reviewed(self) -> bool:
        return not self.fuzzy

    def mentions(self, words: str) -> bool:
        """Whether the English, Chinese, Tibetan or context contains `words` (any case)."""
        wanted = words.casefold()
        return any(wanted in text.casefold() for text in
                   (self.english, self.english_plural or "", self.context or "", self.chinese, self.tibetan))


@dataclass(frozen=True)
class Review:
    """The Tibetan catalogue as the review sees it, in the catalogue's order (by English)."""
    sentences: tuple[Sentence, ...]

    @property
    def total(self) -> int:
        return len(self.sentences)

    @property
    def reviewed(self) -> int:
        return sum(1 for s in self.sentences if s.reviewed)

    @property
    def to_review(self) -> int:
        return self.total - self.reviewed

    def find(self, words: str = "", only_to_review: bool = True) -> list[Sentence]:
        words = " ".join(words.split())  # a pasted sentence's stray spaces and line breaks
        return [s for s in self.sentences
                if (s.fuzzy or not only_to_review) and (not words or s.mentions(words))]


def catalogue_path(locale: str) -> Path:
    """The .po source of a language, in the app's package (where `make translations` compiles it)."""
    return Path(current_app.root_path) / "translations" / locale / "LC_MESSAGES" / "messages.po"


def _first(string) -> str:
    """A msgstr as one text: an ngettext entry's first (in Tibetan and Chinese: only) form."""
    if isinstance(string, (tuple, list)):
        return string[0] if string else ""
    return string or ""


def _read(path: Path, locale: str):
    with open(path, "rb") as po:
        return read_po(po, locale=locale)


def _build(tibetan_path: Path, chinese_path: Path) -> Review:
    tibetan = _read(tibetan_path, TIBETAN)
    chinese = _read(chinese_path, CHINESE)
    sentences = []
    for message in tibetan:
        if not message.id:
            continue  # the header
        ids = message.id if message.pluralizable else (message.id, None)
        in_chinese = chinese.get(message.id, message.context)
        sentences.append(Sentence(
            english=ids[0], english_plural=ids[1], context=message.context,
            chinese=_first(in_chinese.string) if in_chinese is not None else "",
            tibetan=_first(message.string), fuzzy=message.fuzzy))
    return Review(tuple(sentences))


# The catalogues only change on a deploy, which restarts the workers; keyed on the files'
# modification times all the same, so that an edited .po on a developer's machine shows at once.
_cache: dict[tuple, Review] = {}
_lock = threading.Lock()


def review() -> Review:
    """The Tibetan catalogue, read once per process (again only when a .po file changed)."""
    tibetan_path, chinese_path = catalogue_path(TIBETAN), catalogue_path(CHINESE)
    key = (str(tibetan_path), tibetan_path.stat().st_mtime_ns, chinese_path.stat().st_mtime_ns)
    found = _cache.get(key)
    if found is None:
        with _lock:  # two requests at once after a change parse the file once
            found = _cache.get(key)
            if found is None:
                found = _build(tibetan_path, chinese_path)
                _cache.clear()  # the older versions of the file are gone
                _cache[key] = found
    return found
