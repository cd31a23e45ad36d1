"""Every route that takes a photo refuses cleanly what is no photo, too large, or built to hurt.

The routes: a resident's request from a phone (/w/new), a work-log entry and its correction, and a
wish's fulfilment (the photo of the finished job). Each refuses, with 422 and the message next to
the photo field in the reader's language, a PDF, a text file named .jpg, a JPEG cut short, a
decompression bomb (a small PNG that unpacks to hundreds of megapixels: Pillow's
DecompressionBombError, and the band below it where Pillow only warns) and a file over the
photo limit; a request over MAX_CONTENT_LENGTH gets a friendly 413 page in the layout of its
surface. Nothing refused leaves a record or a file behind.

That a photo's EXIF (and its GPS position) is not kept is tested in tests/test_wishes_rules.py
(kiosk.photos) and tests/test_wishes_http.py (/w/new); here a good photo with a GPS position only
checks, on the staff routes, that the rest of each form is right, so that the refusals below are
the photo's.
"""
import io
import re
import struct
import uuid
import zlib
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from PIL import Image
from sqlalchemy import func, select
from wtforms.fields.core import UnboundField

from kiosk import photos
from kiosk.extensions import db
from kiosk.lending import hall_today
from kiosk.models import Fulfilment, Wish, WorkLogEntry
from tests.test_fuzz_forms import cheap_passwords
from tests.test_security import identities, make_app, populate

NOT_A_PHOTO = "This file is not a photo. Please choose a picture."
TOO_LARGE = "This photo is too large. Please send one under %(mb)s MB."
LANGUAGES = ["en", "zh_Hans", "bo"]


# --- Files --------------------------------------------------------------------------------

def jpeg(size=(640, 480), gps=False) -> bytes:
    exif = Image.Exif()
    if gps:
        exif.get_ifd(0x8825).update({1: "N", 2: (29.0, 39.0, 1.0), 3: "E", 4: (91.0, 7.0, 2.0)})
    out = io.BytesIO()
    Image.new("RGB", size, (90, 140, 60)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A real PNG of width x height black pixels (1 bit each): a few kilobytes that Pillow would
    unpack into width*height pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then the row's bits
    pixels = zlib.compressobj(9)
    body = b"".join(pixels.compress(row) for _ in range(height)) + pixels.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


PDF = (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
       b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
WHOLE = jpeg()

# (what it is, the bytes, the file name and type a browser sends, the message it gets)
BAD_FILES = [
    ("a PDF", PDF, "receipt.pdf", "application/pdf", NOT_A_PHOTO),
    ("a text file named .jpg", b"my notes for the staff, not a picture\n", "IMG_0042.jpg", "image/jpeg",
     NOT_A_PHOTO),
    ("a JPEG cut short", WHOLE[: len(WHOLE) // 2], "IMG_0043.jpg", "image/jpeg", NOT_A_PHOTO),
    # Past twice Image.MAX_IMAGE_PIXELS (kiosk.photos: 50 million): DecompressionBombError.
    ("a decompression bomb", png_bomb(12_000, 12_000), "bomb.png", "image/png", TOO_LARGE),
    # Between once and twice the limit Pillow only warns, and would have decoded it all.
    ("a smaller decompression bomb", png_bomb(8_000, 8_000), "bomb.png", "image/png", TOO_LARGE),
]


# --- The routes that take a photo -----------------------------------------------------------

@dataclass
class PhotoRoute:
    name: str
    url: str
    field: str  # the file input's name (the fulfilment form's fields carry its prefix)
    who: str
    form: dict


def kept(app) -> tuple:
    """What a refused request must leave as it was: the rows it could add, and the photo files."""
    with app.app_context():
        with_photo = select(func.count()).select_from(WorkLogEntry).where(WorkLogEntry.photo.is_not(None))
        rows = tuple(db.session.scalar(q) for q in (
            select(func.count()).select_from(Wish), select(func.count()).select_from(WorkLogEntry),
            with_photo, select(func.count()).select_from(Fulfilment)))
        db.session.remove()
    return rows, uploaded(app)


def _routes(app) -> list[PhotoRoute]:
    with app.app_context():
        today = hall_today().isoformat()
    entry = {"kind": "1", "day": today, "staff": "1", "households": "2", "note": "a roof to look at"}
    return [
        PhotoRoute("a resident's request, from a phone", "/w/new", "photo", "phone", {
            "kind": "repair", "category": "repair", "description": "The kitchen tap drips all night.",
            "building_unit": "3-2-401", "mobile": "13912345678", "name": "王芳", "consent": "y"}),
        PhotoRoute("a work-log entry", "/staff/worklog/new", "photo", "admin", entry),
        PhotoRoute("a work-log entry corrected", "/staff/worklog/1", "photo", "admin", entry),
        # Wish 2 (tests.test_security.populate) is a repair assigned to a volunteer: it can be fulfilled.
        PhotoRoute("a wish's fulfilment", "/staff/wishes/2/fulfil", "fulfil-photo", "admin", {
            "fulfil-done_on": today, "fulfil-done_by": "", "fulfil-what_was_done": "Changed the tap's washer",
            "fulfil-minutes": "40"}),
    ]


ROUTE_NAMES = ["a resident's request, from a phone", "a work-log entry", "a work-log entry corrected",
               "a wish's fulfilment"]


def route_named(hall, name) -> PhotoRoute:
    return next(r for r in _routes(hall[0]) if r.name == name)


def test_these_are_all_the_forms_that_take_a_photo(app):
    """Guard: a form given a file field later must be added to the routes above."""
    def every(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from every(sub)

    with_a_file = {cls.__name__ for cls in every(FlaskForm) if cls.__module__.startswith("kiosk.") and any(
        isinstance(v, UnboundField) and issubclass(v.field_class, FileField) for v in vars(cls).values())}
    assert with_a_file == {"WishForm", "WorkLogFields", "FulfilForm"}
    root = Path(photos.__file__).parent
    sources = {p.relative_to(root).as_posix() for p in root.rglob("*.py") if "save_photo(" in p.read_text()}
    assert sources == {"photos.py", "blueprints/wishes/views.py", "blueprints/staff/worklog.py",
                       "blueprints/staff/wishes.py"}


# --- Fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    with cheap_passwords():
        app = populate(make_app(tmp_path_factory.mktemp("uploads")))
        visitors = identities(app)
        yield app, visitors
        with app.app_context():
            db.engine.dispose()


def send(hall, route: PhotoRoute, upload: tuple, lang="en", htmx=False):
    app, visitors = hall
    client = visitors[route.who]
    with client.session_transaction() as session:
        session["lang"] = lang
    data = dict(route.form, token=str(uuid.uuid4()))
    data[route.field] = (io.BytesIO(upload[0]), *upload[1:])
    return client.post(route.url, data=data, content_type="multipart/form-data",
                       headers={"HX-Request": "true"} if htmx else {})


def uploaded(app) -> list[str]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def error_next_to(page: str, field: str) -> str | None:
    """The message shown under a field (kiosk/templates/_macros.html: field)."""
    m = re.search(rf'id="field-{field}"(?:(?!id="field-).)*?<p class="error"[^>]*>(.*?)</p>', page, re.S)
    return m.group(1) if m else None


def in_language(app, lang, message, **values) -> str:
    with app.test_request_context(), force_locale(lang):
        return gettext(message, **values)


def surface(url) -> str:
    return "staff" if url.startswith("/staff") else "phone"


# --- Refusals ------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("what, data, filename, mimetype, message", BAD_FILES, ids=[b[0] for b in BAD_FILES])
@pytest.mark.parametrize("route_name", ROUTE_NAMES)
def test_what_is_not_a_photo_is_refused_next_to_the_field(hall, route_name, what, data, filename, mimetype,
                                                          message, lang):
    app, _ = hall
    route = route_named(hall, route_name)
    before = kept(app)
    response = send(hall, route, (data, filename, mimetype), lang=lang)
    page = response.get_data(as_text=True)
    assert response.status_code == 422, (route.url, what, response.status_code)
    expected = in_language(app, lang, message, mb=app.config["PHOTO_MAX_BYTES"] // (1024 * 1024))
    assert error_next_to(page, route.field) == expected
    assert re.search(rf'<body[^>]*class="{surface(route.url)}"', page)
    assert kept(app) == before


def test_the_refusal_is_in_the_readers_language():
    """Guard the guard: the catalogues do say it otherwise in Chinese."""
    from kiosk import create_app
    from tests.conftest import config_for

    app = create_app(config_for("sqlite://"))
    assert in_language(app, "zh_Hans", NOT_A_PHOTO) != NOT_A_PHOTO


@pytest.mark.parametrize("route_name", ROUTE_NAMES)
def test_a_photo_over_the_photo_limit_is_refused_next_to_the_field(hall, route_name):
    """Between PHOTO_MAX_BYTES (10 MB) and MAX_CONTENT_LENGTH (12 MB) the request is read and the
    photo refused in words; the rest of the form stays as typed."""
    app, _ = hall
    route = route_named(hall, route_name)
    big = WHOLE + b"\x00" * (app.config["PHOTO_MAX_BYTES"] + 1 - len(WHOLE))
    assert len(big) + 10_000 < app.config["MAX_CONTENT_LENGTH"]
    before = kept(app)
    response = send(hall, route, (big, "IMG_0044.jpg", "image/jpeg"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert error_next_to(page, route.field) == TOO_LARGE % {"mb": 10}
    typed = next(v for k, v in route.form.items() if k.endswith(("description", "note", "what_was_done")))
    assert typed in unescape(page)  # nothing typed is lost
    assert kept(app) == before


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("route_name", ROUTE_NAMES)
def test_a_request_over_the_size_limit_gets_a_friendly_413(hall, route_name, lang):
    app, _ = hall
    route = route_named(hall, route_name)
    huge = b"\xff" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    before = kept(app)
    for htmx in (False, True):
        response = send(hall, route, (huge, "IMG_0045.jpg", "image/jpeg"), lang=lang, htmx=htmx)
        page = response.get_data(as_text=True)
        assert response.status_code == 413
        assert 'class="error-page"' in page and "Traceback" not in page
        assert re.search(rf'<body[^>]*class="{surface(route.url)}"', page)
        assert in_language(app, lang, "This is too large to send") in page
        if htmx:  # shown in place of the page, not inside the form
            assert response.headers["HX-Retarget"] == "body"
    assert kept(app) == before


def test_the_413_comes_before_the_csrf_check(tmp_path):
    """With CSRF on (as in production) the size is refused first, with the same friendly page."""
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post("/w/new", data={"photo": (io.BytesIO(b"\xff" * (app.config["MAX_CONTENT_LENGTH"] + 1)),
                                                     "IMG_0046.jpg")}, content_type="multipart/form-data")
    assert response.status_code == 413
    assert 'class="error-page"' in response.get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()


# --- A good photo goes through every route (so that the refusals above are the photo's) ------

@pytest.mark.parametrize("route_name", ROUTE_NAMES[1:])  # /w/new: tests/test_wishes_http.py
def test_a_good_photo_is_kept_without_its_position(hall, route_name):
    app, visitors = hall
    route = route_named(hall, route_name)
    if "fulfil" in route.url:
        route.url = f"/staff/wishes/{_a_repair_in_hand(app)}/fulfil"
    files = uploaded(app)
    response = send(hall, route, (jpeg(gps=True), "IMG_0047.jpg", "image/jpeg"))
    assert response.status_code == 303, (route.url, response.status_code)
    new = set(uploaded(app)) - set(files)
    assert len(new) == 1
    with Image.open(Path(app.config["UPLOAD_FOLDER"]) / new.pop()) as photo:
        assert not photo.getexif() and "exif" not in photo.info


def _a_repair_in_hand(app) -> int:
    """A new repair request, assigned to volunteer 1: ready to be fulfilled."""
    from kiosk import wishes

    with app.test_request_context():
        repair = wishes.submit(2, wishes.Request("repair", "repair", "a door that sticks", "3-2"),
                               str(uuid.uuid4()), "kiosk", limited=False)
        wishes.assign(repair.id, 1, 1)
        return repair.id
