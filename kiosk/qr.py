"""QR codes as inline SVG, for tool labels and posters.

A label's URL never changes (BASE_URL + /t/<code> is a public contract), so each SVG
is made once per process and cached.
"""
import re
from functools import lru_cache

import qrcode
import qrcode.constants
from markupsafe import Markup
from qrcode.image.svg import SvgPathImage

from . import settings

# The page's CSP is style-src 'self': no style="" may reach it. qrcode's path factory uses
# presentation attributes (fill=...), but strip any style attribute should a version add one.
_STYLE_ATTR = re.compile(r'\sstyle="[^"]*"')
# Fixed sizes in mm and a fixed id would clash with CSS sizing and with several codes on one page.
_SIZE_ATTRS = re.compile(r'\s(?:width|height)="[^"]*mm"')
_ID_ATTR = re.compile(r'\sid="qr-path"')


@lru_cache(maxsize=2048)
def qr_svg(url: str) -> Markup:
    """The QR code for `url` as an inline <svg class="qr">, sized by CSS, black on white."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4,
                         image_factory=SvgPathImage)
    code.add_data(url)
    code.make(fit=True)
    svg = code.make_image().to_string(encoding="unicode")
    svg = _STYLE_ATTR.sub("", svg)
    svg = _ID_ATTR.sub("", svg)
    svg = _SIZE_ATTRS.sub("", svg, count=2)
    # The code is printed in words beside every QR, so screen readers can skip the picture.
    svg = svg.replace("<svg ", '<svg class="qr" aria-hidden="true" focusable="false" ', 1)
    return Markup(svg)


def label_url(code: str) -> str:
    """What a tool's label encodes. Printed once, it must keep working for years."""
    return f"{settings.base_url()}/t/{code}"


def shop_url() -> str:
    """What the shop's poster encodes: the catalogue on a resident's phone."""
    return f"{settings.base_url()}/tools/"


def course_url(code: str) -> str:
    """What a course poster encodes: the course page on a guardian's phone (a public contract)."""
    return f"{settings.base_url()}/c/{code}"


def receipt_url(course_code: str, receipt: str) -> str:
    """A guardian's status page: shown as a QR on the tablet, so the phone can take it home."""
    return f"{course_url(course_code)}/r/{receipt}"


def wishes_url() -> str:
    """What the wishes poster encodes: the start page on a resident's phone (a public contract)."""
    return f"{settings.base_url()}/w"


def wish_url(code: str) -> str:
    """A request's status page: shown as a QR on the tablet, so the phone can take it home."""
    return f"{wishes_url()}/{code}"


def sign_in_url(token: str) -> str:
    """What the tea table's QR encodes (a public contract): the sign-in page on a resident's phone."""
    return f"{settings.base_url()}/s/{token}"


def sign_in_qr(token: str) -> Markup:
    """The tea's sign-in QR. Its token changes every TEA_QR_SECONDS, so, unlike a label's code,
    it is made each time rather than kept in qr_svg's cache (which would fill with dead codes)."""
    return qr_svg.__wrapped__(sign_in_url(token))


def concern_url(code: str) -> str:
    """A concern's status page: shown as a QR on the tablet, so the phone can take it home."""
    return f"{settings.base_url()}/q/{code}"


def activity_url(code: str) -> str:
    """What an activity poster encodes: the activity on a resident's phone (a public contract)."""
    return f"{settings.base_url()}/a/{code}"


def activity_receipt_url(code: str, receipt: str) -> str:
    """A sign-up's status page: shown as a QR on the tablet, so the phone can take it home."""
    return f"{activity_url(code)}/r/{receipt}"


def activities_url() -> str:
    """What the activities poster encodes: the coming activities on a resident's phone."""
    return f"{settings.base_url()}/a/"
