"""Photos residents and staff attach (a broken tap, a finished repair): checked, resized, stripped.

A phone photo carries EXIF data, often with the GPS position of the resident's home. Every
photo is decoded, turned upright, shrunk to PHOTO_MAX_SIDE and written again as a new JPEG
without any metadata, under instance/uploads/ with a random name. Photos are shown to staff
only; public pages never show one.
"""
import secrets
import warnings
from io import BytesIO
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from .refusal import Refusal

# Decoding a huge image could exhaust the server's memory; a phone camera stays far below this.
Image.MAX_IMAGE_PIXELS = 50_000_000
_ACCEPTED = {"JPEG", "PNG", "WEBP", "HEIF", "MPO", "GIF"}


def folder() -> Path:
    # UPLOAD_FOLDER moves them (the tests keep each run's photos in a temporary folder).
    path = Path(current_app.config.get("UPLOAD_FOLDER") or Path(current_app.instance_path) / "uploads")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _too_large(field: str) -> Refusal:
    return Refusal("photo_size", _l("This photo is too large. Please send one under %(mb)s MB.",
                                    mb=current_app.config["PHOTO_MAX_BYTES"] // (1024 * 1024)), field=field)


def _not_a_photo(field: str) -> Refusal:
    return Refusal("photo_type", _l("This file is not a photo. Please choose a picture."), field=field)


def save_photo(upload, field: str = "photo") -> str | None:
    """Keep an uploaded picture (a werkzeug FileStorage); returns its file name, None if none sent.

    Refuses, with a message for the field, what is too large or is not a picture.
    """
    if upload is None or not getattr(upload, "filename", ""):
        return None
    data = upload.stream.read(current_app.config["PHOTO_MAX_BYTES"] + 1)
    if len(data) > current_app.config["PHOTO_MAX_BYTES"]:
        raise _too_large(field)
    try:
        with warnings.catch_warnings():
            # Past MAX_IMAGE_PIXELS Pillow only warns (it raises past twice that), and the picture
            # would then be decoded whole: a small file that unpacks to gigabytes (a decompression
            # bomb) is refused as too large, before any pixel is decoded.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(BytesIO(data))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise _too_large(field) from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise _not_a_photo(field) from None
    try:
        if image.format not in _ACCEPTED:
            raise UnidentifiedImageError(image.format)
        image = ImageOps.exif_transpose(image)  # upright, as the camera held it
        image.thumbnail((current_app.config["PHOTO_MAX_SIDE"],) * 2)
        image = image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):  # e.g. cut short
        raise _not_a_photo(field) from None
    name = f"{secrets.token_hex(16)}.jpg"
    # A fresh JPEG from the pixels alone: no EXIF, no GPS, no maker notes.
    image.save(folder() / name, "JPEG", quality=82, optimize=True)
    return name


def path_of(name: str) -> Path | None:
    """The stored photo's path, only for names this module made (no path tricks)."""
    if not name or len(name) != 36 or not name.endswith(".jpg") or not all(
            c in "0123456789abcdef" for c in name[:32]):
        return None
    path = folder() / name
    return path if path.exists() else None


def discard(name: str | None) -> None:
    """Remove a photo kept for a request that was then refused (or was a double tap's twin)."""
    path = path_of(name) if name else None
    if path is not None:
        path.unlink(missing_ok=True)
