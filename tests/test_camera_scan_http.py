"""Camera scanning, seen from the server: the button only on the tablet, the decoder only on demand
(the kiosk home stays small), the vendored files served by the hall, and receipt look-ups that take
what a receipt's take-home QR holds: the receipt page's whole address."""
import hashlib
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk import create_app, qr
from kiosk.extensions import db
from kiosk.models import Concern, Course, Registration, SignUp, Wish
from tests.conftest import Hall, config_for

VENDOR = Path(__file__).resolve().parents[1] / "kiosk" / "static" / "vendor" / "barcode-detector"
DECODER = ("barcode-detector", ".wasm", "BarcodeDetectionAPI", "zxing")


@pytest.fixture(scope="module")
def demo_hall(tmp_path_factory):
    """The demo hall, loaded once for this module: these tests only read."""
    from kiosk.demo import load_demo

    app = create_app(config_for(f"sqlite:///{tmp_path_factory.mktemp('camera') / 'kiosk.sqlite'}"))
    with app.app_context():
        db.create_all()
        Hall()
        load_demo()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(demo_hall):
    with demo_hall.app_context():
        yield demo_hall.test_client()
        db.session.remove()


def test_the_kiosk_home_does_not_load_the_decoder(client):
    page = client.get("/kiosk/").get_data(as_text=True)
    for word in DECODER:
        assert word not in page
    assert "js/scan.js" in page  # the small script that loads it on a tap


def test_the_scan_button_is_on_the_tablet_only_and_loads_nothing_by_itself(client):
    tablet = client.get("/kiosk/tools/").get_data(as_text=True)
    button = re.search(r"<button[^>]*data-scan=\"#code\"[^>]*>", tablet)
    assert button, "no camera button on the tablet's tool shop"
    assert 'id="code"' in tablet
    # The decoder's addresses are data for scan.js; no <script> or preload fetches them.
    assert not re.search(r"<(script|link)[^>]*barcode-detector", tablet)
    for name in ("barcode-detector-3.2.2.ponyfill.js", "zxing_reader-3.1.3.wasm"):
        assert f"/static/vendor/barcode-detector/{name}" in button.group(0)
    assert "data-scan" not in client.get("/tools/").get_data(as_text=True)


def test_the_vendored_decoder_is_served_by_the_hall(client):
    script = client.get("/static/vendor/barcode-detector/barcode-detector-3.2.2.ponyfill.js")
    assert script.status_code == 200 and "javascript" in script.mimetype
    wasm = client.get("/static/vendor/barcode-detector/zxing_reader-3.1.3.wasm")
    # application/wasm lets the browser compile while it downloads.
    assert wasm.status_code == 200 and wasm.mimetype == "application/wasm"
    # The reader build, the very one this polyfill was built for (it carries the checksum).
    digest = hashlib.sha256(wasm.get_data()).hexdigest()
    assert f"`{digest}`" in script.get_data(as_text=True)
    assert len(wasm.get_data()) < 1_500_000  # not the "full" build with the writer
    for licence in ("LICENSE-barcode-detector.txt", "LICENSE-zxing-wasm.txt", "LICENSE-zxing-cpp.txt"):
        assert (VENDOR / licence).is_file()
    script.close()
    wasm.close()


def receipts():
    """(look-up page, look-up URL, take-home QR content, receipt page) for each kind of receipt."""
    registration = db.session.scalars(select(Registration).where(Registration.status == "confirmed")
                                      .order_by(Registration.id)).first()
    course = db.session.get(Course, registration.course_id).code
    place = db.session.scalars(select(SignUp).order_by(SignUp.id)).first()
    activity = place.activity.code
    concern = db.session.scalars(select(Concern).where(Concern.code.is_not(None)).order_by(Concern.id)).first()
    wish = db.session.scalars(select(Wish).order_by(Wish.id)).first()
    return {
        "class": (f"/kiosk/c/{course}", f"/kiosk/c/{course}/find",
                  qr.receipt_url(course, registration.receipt), f"/kiosk/c/{course}/r/{registration.receipt}"),
        "activity": (f"/kiosk/a/{activity}", f"/kiosk/a/{activity}/find",
                     qr.activity_receipt_url(activity, place.receipt), f"/kiosk/a/{activity}/r/{place.receipt}"),
        "concern": ("/kiosk/q", "/kiosk/q/find", qr.concern_url(concern.code), f"/kiosk/q/{concern.code}"),
        "wish": ("/kiosk/w", "/kiosk/w/find", qr.wish_url(wish.code), f"/kiosk/w/{wish.code}"),
    }


@pytest.mark.parametrize("kind", ["class", "activity", "concern", "wish"])
def test_a_receipt_look_up_takes_the_take_home_qr_and_offers_the_camera(client, kind):
    page, find, take_home, receipt = receipts()[kind]
    assert take_home.startswith("http://hall.test/")
    assert 'data-scan="#code"' in client.get(page).get_data(as_text=True)

    found = client.get(find, query_string={"code": take_home})
    assert found.status_code == 303 and found.headers["Location"].endswith(receipt)
    # ... the same with a trailing slash or a query, as some scanner apps add.
    assert client.get(find, query_string={"code": take_home + "/?from=qr"}).headers["Location"].endswith(receipt)
    assert client.get(receipt).status_code == 200
    # A tool's label is no receipt: the box says so, next to the field.
    wrong = client.get(find, query_string={"code": qr.label_url("RW-0001")})
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.get_data(as_text=True)


def test_the_tool_shop_takes_a_scanned_label(client):
    found = client.get("/kiosk/tools/find", query_string={"code": qr.label_url("RW-0001")})
    assert found.status_code == 302 and found.headers["Location"].endswith("/kiosk/t/RW-0001")
